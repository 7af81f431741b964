/*
 * health.h — is the core healthy?  The Kubernetes API must have answered
 * an authenticated, RBAC-checked call recently (a LIST with limit=1 of the
 * namespace's Deployments), the cache must be synced, and the watch open.
 *
 * Probes are made on demand and their result is kept for
 * HEALTH_PROBE_INTERVAL_MS: any number of health requests cost at most one
 * API call per interval.  A request that finds the result stale waits for
 * the probe it starts (or joins the one running), but at most
 * HEALTH_WAIT_MS: a hung API must not hang the health answer too.
 */
#ifndef HEALTH_H
#define HEALTH_H

#include "proto-socket/ps_codec.h"

struct event_base;
struct kc;
struct refl;
struct cache;
struct health;
struct health_wait;

typedef void (*health_done_cb)(void *arg, const struct ps_health *h);

struct health *health_new(struct event_base *base, struct kc *kc,
    struct refl *refl, struct cache *cache, const char *namespace);
void health_free(struct health *h);

/*
 * Calls `done` with the current health, at once when the last probe is
 * fresh (returns NULL), or when the probe completes or HEALTH_WAIT_MS pass
 * (returns a handle for health_detach, valid until `done` runs).  On
 * failure to probe, answers at once with what is known.
 */
struct health_wait *health_query(
    struct health *h, health_done_cb done, void *arg);
/* The requester is gone: `done` will not be called. */
void health_detach(struct health_wait *w);

/* The current record without probing (for metrics). */
void health_snapshot(struct health *h, struct ps_health *out);

#endif /* HEALTH_H */
