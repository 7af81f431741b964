/*
 * reflector.h — keeps the cache equal to the API's Deployments in one
 * namespace, the way client-go's reflector does, on the shared list+watch
 * loop (listwatch.h: paginated LIST, WATCH from its resourceVersion with
 * bookmarks, resume, relist on 410 and failures, backoff).  This module
 * is what is Deployment-specific: kjson's parsers, the cache, and the
 * hooks of the write path and health.
 */
#ifndef REFLECTOR_H
#define REFLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/kube/listwatch.h"

struct event_base;
struct kc;
struct cache;
struct refl;

/* Notifications for the write path (read-your-writes) and health. */
struct refl_hooks {
	/* An object event was applied (ADDED, MODIFIED or DELETED). */
	void (*applied_cb)(void *arg, const char *name, const char *rv);
	/* A complete (re)list, begun at monotonic `list_started_ms`,
	 * replaced the cache. */
	void (*synced_cb)(void *arg, uint64_t list_started_ms);
	void *arg;
};

struct refl_status {
	int synced;         /* a complete list has been applied */
	struct lw_stats lw; /* the list+watch loop's counters */
};
struct refl *refl_new(struct event_base *base, struct kc *kc,
    struct cache *cache, const char *namespace, const struct refl_hooks *hooks);
void refl_free(struct refl *r);
/* Starts listing; 0, or -1 on allocation failure. */
int refl_start(struct refl *r);
void refl_get_status(const struct refl *r, struct refl_status *st);

#endif /* REFLECTOR_H */
