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
	uint64_t ignored;   /* objects of namespaces not served (all) */
	struct lw_stats lw; /* the list+watch loop's counters */
};
struct refl *refl_new(struct event_base *base, struct kc *kc,
    struct cache *cache, const char *namespace, const struct refl_hooks *hooks);

/* One namespace served by a reflector across namespaces. */
struct refl_route {
	const char *namespace; /* DNS-1123 label; copied */
	struct cache *cache;
	const struct refl_hooks *hooks; /* NULL: none; copied */
};

/*
 * --watch-all-namespaces: one list+watch of /apis/apps/v1/deployments
 * feeding the caches of `routes[0..n)` (1..CORE_MAX_NAMESPACES), each
 * object into its namespace's cache; objects of other namespaces are
 * ignored (counted).  A relist marks and sweeps every route's cache, so
 * it replaces exactly what the namespaces served hold.  NULL with errno.
 */
struct refl *refl_new_all(struct event_base *base, struct kc *kc,
    const struct refl_route *routes, size_t n);
void refl_free(struct refl *r);
/* Starts listing; 0, or -1 on allocation failure. */
int refl_start(struct refl *r);
void refl_get_status(const struct refl *r, struct refl_status *st);

#endif /* REFLECTOR_H */
