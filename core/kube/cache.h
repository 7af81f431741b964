/*
 * cache.h — the core's cache of Deployments: what the API last told us of
 * each, keyed by name, O(1) lookup.  It stores only the fields replicad
 * serves (struct cache_deploy), never whole objects, and hands out copies.
 *
 * Relists replace the whole content: cache_mark() before applying the new
 * list, cache_sweep() after, and whatever the list did not mention is gone
 * (client-go's store.Replace).
 */
#ifndef CACHE_H
#define CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/kube/annotations.h"
#include "proto-socket/ps.h"

#define CACHE_MAX_UID 64

struct cache_deploy {
	char name[PS_MAX_NAME + 1];
	char namespace[PS_MAX_NAMESPACE + 1];
	char uid[CACHE_MAX_UID + 1];
	char rv[PS_MAX_RV + 1];
	int64_t generation;
	int64_t observed_generation;
	int32_t desired; /* spec.replicas */
	int32_t replicas;
	int32_t ready;
	int32_t available;
	int32_t updated;
	struct deploy_annot annot; /* bounds, pin-suspended */
};

struct cache;

/* At most `max_entries` deployments; NULL on allocation failure. */
struct cache *cache_new(size_t max_entries);
/*
 * Entries of several caches bounded together (the namespaces served:
 * CORE_MAX_DEPLOYMENTS_ALL): `*count` is the caches' total, kept by each
 * put, delete, sweep and free; a new entry is refused (ENOSPC) while it
 * is at `max`, as at the cache's own bound.
 */
void cache_share_bound(struct cache *c, size_t *count, size_t max);
void cache_free(struct cache *c);

/* Inserts or replaces by name; -1 with errno ENOSPC (full) or ENOMEM. */
int cache_put(struct cache *c, const struct cache_deploy *d);
/* 0 when removed, -1 with errno ENOENT when absent. */
int cache_del(struct cache *c, const char *name);
/* Copies the entry out; -1 with errno ENOENT when absent. */
int cache_get(
    const struct cache *c, const char *name, struct cache_deploy *out);
size_t cache_size(const struct cache *c);

/* Relist: mark every entry stale; cache_put() clears the mark. */
void cache_mark(struct cache *c);
/* Drops entries still marked; returns how many. */
size_t cache_sweep(struct cache *c);

/*
 * Fills `out` with the first `max` names in ascending byte order and
 * returns how many.  The pointers are borrowed: valid until the next
 * cache_put/cache_del/cache_sweep/cache_free.
 */
size_t cache_names(const struct cache *c, const char **out, size_t max);
/*
 * Copies the first name greater than `after` ("" for the first of all)
 * into `out`: 1, or 0 when there is none.  O(log n); for streaming a list
 * across loop turns while the cache changes.
 */
int cache_next_name(
    const struct cache *c, const char *after, char out[PS_MAX_NAME + 1]);

#endif /* CACHE_H */
