/*
 * cache.c — Deployment cache: a chained hash table keyed by name.
 *
 * Buckets double when the table holds as many entries as buckets, so a
 * lookup is O(1) on average; the table never holds more than max_entries
 * (the API is untrusted too: a namespace that grows without end must not
 * take the core's memory with it).
 *
 * Beside the table, an array of the entries sorted by name: a LIST is
 * streamed in frames over several loop turns while watch events change the
 * cache, so it walks by "the first name after the last one sent" (binary
 * search) instead of holding a snapshot.  Adding or removing a name moves
 * pointers (O(n)); changing an entry, the common event, does not.
 *
 * Entries are stored compactly: the numbers, then the four strings back to
 * back at their own lengths (a struct cache_deploy is ~490 bytes, mostly
 * the maximum lengths; a typical entry here is ~130), so 10,000 cached
 * Deployments cost ~1.3 MB instead of ~5 (issue #11's memory figure).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/kube/cache.h"

#define CACHE_MIN_BUCKETS 64

struct entry {
	struct entry *next;
	uint32_t hash;
	uint8_t stale; /* set by cache_mark, cleared by cache_put */
	uint8_t ns_off, uid_off, rv_off; /* after name's NUL, ... */
	int64_t generation;
	int64_t observed_generation;
	int32_t desired, replicas, ready, available, updated;
	struct deploy_annot annot;
	char s[]; /* name, namespace, uid, rv: each NUL-terminated */
};

#define NAME(e) ((e)->s)

struct cache {
	struct entry **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	size_t max;
	/* A bound shared with other caches (cache_share_bound), or NULL. */
	size_t *shared;
	size_t shared_max;
	struct entry **sorted; /* count entries, ascending by name */
	size_t sorted_cap;
};

/* FNV-1a: names are short and not chosen to collide by a trusted peer. */
static uint32_t
hash_name(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

struct cache *
cache_new(size_t max_entries)
{
	struct cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->nbuckets = CACHE_MIN_BUCKETS;
	if ((c->buckets = calloc(c->nbuckets, sizeof(*c->buckets))) == NULL) {
		free(c);
		return NULL;
	}
	c->max = max_entries;
	return c;
}

void
cache_share_bound(struct cache *c, size_t *count, size_t max)
{
	c->shared = count;
	c->shared_max = max;
	*count += c->count;
}

void
cache_free(struct cache *c)
{
	struct entry *e, *next;

	if (c == NULL)
		return;
	if (c->shared != NULL)
		*c->shared -= c->count;
	for (size_t i = 0; i < c->nbuckets; i++)
		for (e = c->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(c->buckets);
	free(c->sorted);
	free(c);
}

static struct entry **
find(const struct cache *c, const char *name, uint32_t h)
{
	struct entry **pp = &c->buckets[h & (c->nbuckets - 1)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->hash == h && strcmp(NAME(*pp), name) == 0)
			return pp;
	return pp;
}

/* Index of the first sorted entry whose name is > (or >= ) `name`. */
static size_t
lower_bound(const struct cache *c, const char *name, int strictly_after)
{
	size_t lo = 0, hi = c->count, mid;
	int cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strcmp(NAME(c->sorted[mid]), name);
		if (cmp < 0 || (strictly_after && cmp == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Doubles the bucket array; on allocation failure keeps the old one. */
static void
grow(struct cache *c)
{
	struct entry **nb, *e, *next;
	size_t n = c->nbuckets * 2;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return; /* still correct, only slower */
	for (size_t i = 0; i < c->nbuckets; i++)
		for (e = c->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
}

/* A compact entry holding `d`; NULL on allocation failure. */
static struct entry *
entry_new(const struct cache_deploy *d, uint32_t h)
{
	size_t n = strnlen(d->name, PS_MAX_NAME) + 1,
	       ns = strnlen(d->namespace, PS_MAX_NAMESPACE) + 1,
	       uid = strnlen(d->uid, CACHE_MAX_UID) + 1,
	       rv = strnlen(d->rv, PS_MAX_RV) + 1;
	struct entry *e = malloc(sizeof(*e) + n + ns + uid + rv);

	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->hash = h;
	/* Each offset counts from the start of the previous string, so it is
	 * that string's length + 1: at most 254 (a name), it fits a byte. */
	e->ns_off = (uint8_t)n;
	e->uid_off = (uint8_t)ns;
	e->rv_off = (uint8_t)uid;
	memcpy(e->s, d->name, n - 1);
	e->s[n - 1] = '\0';
	memcpy(e->s + n, d->namespace, ns - 1);
	e->s[n + ns - 1] = '\0';
	memcpy(e->s + n + ns, d->uid, uid - 1);
	e->s[n + ns + uid - 1] = '\0';
	memcpy(e->s + n + ns + uid, d->rv, rv - 1);
	e->s[n + ns + uid + rv - 1] = '\0';
	e->generation = d->generation;
	e->observed_generation = d->observed_generation;
	e->desired = d->desired;
	e->replicas = d->replicas;
	e->ready = d->ready;
	e->available = d->available;
	e->updated = d->updated;
	e->annot = d->annot;
	return e;
}

static void
entry_get(const struct entry *e, struct cache_deploy *d)
{
	const char *p = e->s;

	/* Lengths + NUL, each within its field (entry_new cut them so). */
	memcpy(d->name, p, e->ns_off);
	p += e->ns_off;
	memcpy(d->namespace, p, e->uid_off);
	p += e->uid_off;
	memcpy(d->uid, p, e->rv_off);
	p += e->rv_off;
	memcpy(d->rv, p, strlen(p) + 1);
	d->generation = e->generation;
	d->observed_generation = e->observed_generation;
	d->desired = e->desired;
	d->replicas = e->replicas;
	d->ready = e->ready;
	d->available = e->available;
	d->updated = e->updated;
	d->annot = e->annot;
}

int
cache_put(struct cache *c, const struct cache_deploy *d)
{
	uint32_t h = hash_name(d->name);
	struct entry **pp = find(c, d->name, h), *e, *old = *pp;
	size_t pos;

	if (old == NULL &&
	    (c->count >= c->max ||
	        (c->shared != NULL && *c->shared >= c->shared_max))) {
		errno = ENOSPC;
		return -1;
	}
	if (old == NULL && c->count == c->sorted_cap) {
		size_t n =
		    c->sorted_cap == 0 ? CACHE_MIN_BUCKETS : c->sorted_cap * 2;
		struct entry **ns;

		if ((ns = reallocarray(c->sorted, n, sizeof(*ns))) == NULL)
			return -1;
		c->sorted = ns;
		c->sorted_cap = n;
	}
	if ((e = entry_new(d, h)) == NULL)
		return -1;
	pos = lower_bound(c, d->name, 0);
	if (old != NULL) {
		/* Replace: same name, so the same bucket and sorted slot. */
		e->next = old->next;
		*pp = e;
		c->sorted[pos] = e;
		free(old);
		return 0;
	}
	*pp = e;
	memmove(&c->sorted[pos + 1], &c->sorted[pos],
	    (c->count - pos) * sizeof(*c->sorted));
	c->sorted[pos] = e;
	c->count++;
	if (c->shared != NULL)
		(*c->shared)++;
	if (c->count > c->nbuckets)
		grow(c);
	return 0;
}

int
cache_del(struct cache *c, const char *name)
{
	struct entry **pp = find(c, name, hash_name(name)), *e;

	size_t pos;

	if ((e = *pp) == NULL) {
		errno = ENOENT;
		return -1;
	}
	pos = lower_bound(c, name, 0);
	memmove(&c->sorted[pos], &c->sorted[pos + 1],
	    (c->count - pos - 1) * sizeof(*c->sorted));
	*pp = e->next;
	free(e);
	c->count--;
	if (c->shared != NULL)
		(*c->shared)--;
	return 0;
}

int
cache_get(const struct cache *c, const char *name, struct cache_deploy *out)
{
	struct entry **pp = find(c, name, hash_name(name));

	if (*pp == NULL) {
		errno = ENOENT;
		return -1;
	}
	entry_get(*pp, out);
	return 0;
}

size_t
cache_size(const struct cache *c)
{
	return c->count;
}

void
cache_mark(struct cache *c)
{
	struct entry *e;

	for (size_t i = 0; i < c->nbuckets; i++)
		for (e = c->buckets[i]; e != NULL; e = e->next)
			e->stale = 1;
}

size_t
cache_sweep(struct cache *c)
{
	struct entry **pp, *e;
	size_t n = 0, kept = 0;

	for (size_t i = 0; i < c->count; i++)
		if (!c->sorted[i]->stale)
			c->sorted[kept++] = c->sorted[i];
	for (size_t i = 0; i < c->nbuckets; i++) {
		pp = &c->buckets[i];
		while ((e = *pp) != NULL) {
			if (e->stale) {
				*pp = e->next;
				free(e);
				c->count--;
				if (c->shared != NULL)
					(*c->shared)--;
				n++;
			} else
				pp = &e->next;
		}
	}
	return n;
}

size_t
cache_names(const struct cache *c, const char **out, size_t max)
{
	size_t n = c->count < max ? c->count : max;

	for (size_t i = 0; i < n; i++)
		out[i] = NAME(c->sorted[i]);
	return n;
}

int
cache_next_name(
    const struct cache *c, const char *after, char out[PS_MAX_NAME + 1])
{
	size_t pos = lower_bound(c, after, 1);

	if (pos >= c->count)
		return 0;
	memcpy(out, NAME(c->sorted[pos]), c->sorted[pos]->ns_off);
	return 1;
}
