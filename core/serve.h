/*
 * serve.h — the core's answers to proto-socket requests, each checked
 * against the namespaces served and sent to its namespace's unit: reads
 * from the cache, scale writes through scale.c, health through health.c, pins
 * through pins.c (which audit-logs each change and tells reconcile.c
 * through its hook; a change may complete later), and metrics gathered
 * from every module.  It owns no state of its own beyond
 * per-request cursors; the modules it is given outlive it.
 */
#ifndef SERVE_H
#define SERVE_H

struct ipcs;
struct kc;
struct pins;
struct lease;
struct serve;
struct evrec;
struct nsu;

struct serve_deps {
	struct ipcs *srv;
	/* The namespaces served, each with its cache, reflector, write
	 * path, health probe, HPA watch and reconciler. */
	struct nsu *units;
	struct kc *kc;
	/* NULL: pins not enabled (UNSUPPORTED).  It keeps the pins of the
	 * home namespace (the unit marked home). */
	struct pins *pins;
	const char *version;
	/* Leader election; NULL: not configured (always leader). */
	struct lease *lease;
	/* replicad's own Deployment, in the home namespace (NULL:
	 * unknown): never pinned. */
	const char *self;
	/* Kubernetes Events of pin changes, and their metrics (NULL: none). */
	struct evrec *events;
};

/* Registers a handler for every request type; NULL on failure. */
struct serve *serve_new(const struct serve_deps *deps);
void serve_free(struct serve *s);

#endif /* SERVE_H */
