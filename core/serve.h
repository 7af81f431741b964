/*
 * serve.h — the core's answers to proto-socket requests: reads from the
 * cache, scale writes through scale.c, health through health.c, pins
 * through pins.c (which audit-logs each change and tells reconcile.c
 * through its hook; a change may complete later), and metrics gathered
 * from every module.  It owns no state of its own beyond
 * per-request cursors; the modules it is given outlive it.
 */
#ifndef SERVE_H
#define SERVE_H

struct ipcs;
struct cache;
struct refl;
struct scale;
struct health;
struct kc;
struct pins;
struct recon;
struct lease;
struct serve;
struct evrec;
struct hpa_watch;

struct serve_deps {
	struct ipcs *srv;
	struct cache *cache;
	struct refl *refl;
	struct scale *scale;
	struct health *health;
	struct kc *kc;
	struct pins *pins;   /* NULL: pins not enabled (UNSUPPORTED) */
	struct recon *recon; /* with pins */
	const char *namespace;
	const char *version;
	/* Leader election; NULL: not configured (always leader). */
	struct lease *lease;
	/* replicad's own Deployment (NULL: unknown): never pinned. */
	const char *self;
	/* Kubernetes Events of pin changes, and their metrics (NULL: none). */
	struct evrec *events;
	/* Which HPA targets which Deployment (NULL: not watched). */
	struct hpa_watch *hpa;
};

/* Registers a handler for every request type; NULL on failure. */
struct serve *serve_new(const struct serve_deps *deps);
void serve_free(struct serve *s);

#endif /* SERVE_H */
