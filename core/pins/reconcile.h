/*
 * reconcile.h — keeps pinned Deployments at their pinned count (RFD
 * 180722): when the cache shows a pinned Deployment's spec.replicas
 * differing from its pin, the core scales it back through scale.c (the
 * same audited write path as a client's, with the identity
 * "replicad:reconciler").
 *
 * Rate-limited three ways, so that a fight with another writer (an HPA, a
 * person with kubectl) cannot turn into a write storm against the API:
 * a token bucket over all writes (RECON_RATE per second, RECON_BURST at
 * once); at most one write per Deployment in flight; and per Deployment, a
 * delay doubling from RECON_DELAY_INITIAL_MS to RECON_DELAY_MAX_MS after a
 * failed write, or after a write that had to be repeated within
 * RECON_FIGHT_WINDOW_MS of the previous one.
 *
 * Only the leader reconciles (`leading`, from leader election; NULL means
 * a single core, always leading), and only once the cache is synced.
 * It never fights an autoscaler: a Deployment an HPA targets is left alone
 * (and, before the HPAs were first listed, every pin waits), as is one
 * annotated replicad.io/pin-suspended or with invalid bounds.
 */
#ifndef RECONCILE_H
#define RECONCILE_H

#include <stdint.h>

struct event_base;
struct cache;
struct pins;
struct refl;
struct scale;
struct recon;
struct evrec;
struct hpa_watch;

#define RECON_IDENTITY "replicad:reconciler"

struct recon_deps {
	struct event_base *base;
	struct cache *cache;
	struct pins *pins;
	struct scale *scale;
	struct refl *refl;
	int (*leading)(void *arg); /* NULL: always */
	void *leading_arg;
	struct evrec *events;  /* Kubernetes Events (NULL: none) */
	struct hpa_watch *hpa; /* NULL: no HPA is ever in the way */
	/* The namespace of cache, scale, refl and hpa: its pins are the
	 * ones reconciled, its Events go there.  A namespace the pins
	 * store serves; borrowed for the reconciler's life. */
	const char *namespace;
};

struct recon *recon_new(const struct recon_deps *deps);
/* In-flight writes are detached: they finish, audited, unanswered. */
void recon_free(struct recon *r);

/* `name`'s Deployment or pin changed: reconcile it if it drifted. */
void recon_check(struct recon *r, const char *name);
/* `name`'s pin was set or removed: a write it causes is not a fight, so
 * forget earlier repeated drifts and failures, then check it. */
void recon_pin_changed(struct recon *r, const char *name);
/* After a relist, or on becoming leader: look at every pin. */
void recon_check_all(struct recon *r);

struct recon_stats {
	uint64_t writes_ok;
	uint64_t writes_failed;
	uint64_t pending; /* Deployments waiting for or in a write */
};
void recon_get_stats(const struct recon *r, struct recon_stats *st);

/* --- policy, pure --- */

/* Delay before the next write to a Deployment after `n` (>= 1) failed
 * writes or repeated drifts in a row: INITIAL doubling to MAX. */
uint64_t recon_delay_ms(unsigned n);

/* Token bucket in thousandths of a token, so the arithmetic is exact. */
struct recon_bucket {
	uint64_t milli; /* tokens x 1000, at most RECON_BURST x 1000 */
	uint64_t last_ms;
};
void recon_bucket_init(struct recon_bucket *b, uint64_t now_ms);
/* Takes a token: 0; else the ms until one is available (none taken). */
uint64_t recon_bucket_take(struct recon_bucket *b, uint64_t now_ms);

#endif /* RECONCILE_H */
