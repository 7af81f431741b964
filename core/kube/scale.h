/*
 * scale.h — the write path: set a Deployment's spec.replicas through the
 * scale subresource (merge PATCH), map the API's answer to a proto-socket
 * error code, audit-log the write, and answer only when the watch has
 * brought the written state into the cache (read-your-writes) or a bounded
 * wait ran out (synced = 0).
 *
 * Inputs are re-validated here: the gateway is not trusted to have done it.
 * Every write, the reconciler's too, keeps within the Deployment's own
 * bounds (annotations.h) and the core's --max-replicas.
 */
#ifndef SCALE_H
#define SCALE_H

#include <stddef.h>
#include <stdint.h>

#include "proto-socket/ps.h"

struct event_base;
struct kc;
struct cache;
struct scale;
struct scale_op;

/*
 * A client write's conditions (proto-socket's PS_W_* flags); the
 * reconciler writes without any (NULL).
 *   PS_W_EXPECTED  the cache must show `expected` as the desired count,
 *                  and the PATCH carries the cached resourceVersion, so
 *                  the API server refuses it (409) if the Deployment
 *                  changed since;
 *   if_match       the PATCH carries this resourceVersion: the API
 *                  server decides, its 409 is answered PS_E_STALE;
 *   PS_W_DRY_RUN   the PATCH is sent with dryRun=All: the API server
 *                  (admission, quota) checks it and stores nothing.
 */
struct scale_cond {
	uint8_t flags;
	uint32_t expected;
	char if_match[PS_MAX_RV + 1];
};

struct scale_result {
	uint16_t code; /* 0 on success, else enum ps_code */
	unsigned retry_after;
	char message[PS_MAX_MESSAGE + 1];
	uint32_t current;        /* PS_E_EXPECTED: the cached count */
	char ref[PS_MAX_RV + 1]; /* PS_E_STALE: the cached rv, or "" */
	uint8_t dry_run;         /* checked by the API, not stored */
	char name[PS_MAX_NAME + 1];
	uint32_t replicas; /* the count now desired */
	uint32_t previous; /* the count the cache held before */
	uint8_t synced;    /* the cache holds the written state */
	char rv[PS_MAX_RV + 1];
};

typedef void (*scale_done_cb)(void *arg, const struct scale_result *res);

/*
 * `max_replicas` is the core's own ceiling (<= PS_MAX_REPLICAS);
 * `self` (NULL: none) names replicad's own Deployment, which no write
 * may scale, whoever asks (the reconciler included).
 */
struct scale *scale_new(struct event_base *base, struct kc *kc,
    struct cache *cache, const char *namespace, uint32_t max_replicas,
    const char *self);

/* Kubernetes Events for the writes from now on (NULL: none); the
 * recorder outlives the scale. */
struct evrec;
void scale_set_events(struct scale *s, struct evrec *ev);

/* The peer uid of the core's own writes (the reconciler) in audit lines. */
#define AUDIT_SELF (-1L)
void scale_free(struct scale *s);

/*
 * Starts a write; `done` is called exactly once, possibly before this
 * returns when the input is refused.  Returns the operation for
 * scale_detach(), or NULL when `done` was already called.
 */
struct scale_op *scale_start(struct scale *s, const char *name,
    uint32_t replicas, const struct scale_cond *cond, const char *identity,
    long peer_uid, scale_done_cb done, void *arg);
/*
 * The requester is gone: `done` will not be called.  The write itself
 * goes on (it may already be applied) and is still audit-logged.
 */
void scale_detach(struct scale_op *op);

/* From the reflector: an object event was applied / a relist finished. */
void scale_applied(struct scale *s, const char *name, const char *rv);
void scale_relisted(struct scale *s, uint64_t list_started_ms);

/* Maps an API answer to a proto-socket code (pure; for tests too). */
uint16_t scale_map_status(long status, int transport_error, int timed_out);

/* Counters for /metrics. */
struct scale_stats {
	uint64_t ok_synced, ok_unsynced, refused, failed, dry_run;
};
void scale_get_stats(const struct scale *s, struct scale_stats *st);

#endif /* SCALE_H */
