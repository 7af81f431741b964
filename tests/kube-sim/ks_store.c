/*
 * ks_store.c — objects by kind, resourceVersions and watch history.
 *
 * Every committed write takes the next resourceVersion and appends exactly
 * one event to the ring, so the event for rv X sits at a computable slot;
 * history is bounded (oldest events fall off, or are dropped on purpose
 * by ks_store_compact to provoke 410 Expired).  Indexes are sorted arrays
 * keyed by namespace/name: lists come out in key order, as from etcd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_limits.h"
#include "tests/kube-sim/ks_store.h"

struct ks_index {
	struct ks_obj **v;
	size_t n;
	size_t cap;
};

struct ks_store {
	uint64_t rv;
	struct ks_index idx[KS_KIND_COUNT];
	struct ks_event *ring;
	size_t cap;
	size_t head;  /* slot of the oldest event */
	size_t count; /* events held */
	ks_store_hook_fn *hook;
	void *hook_arg;
	/* After ks_store_restore: RVs in [gap_floor, gap_top] resume at
	 * gap_top without events (gap_top 0: no restore gap). */
	uint64_t gap_floor, gap_top;
};

static int key_cmp(const struct ks_obj *, const char *, const char *);
static int index_find(
    const struct ks_index *, const char *, const char *, size_t *);
static int push_event(
    struct ks_store *, enum ks_ev_type, struct ks_obj *, struct ks_obj *);
static void event_clear(struct ks_event *);

struct ks_store *
ks_store_new(size_t history)
{
	struct ks_store *s;

	if (history == 0 || history > KS_HISTORY_MAX)
		history = KS_HISTORY_DEFAULT;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->ring = calloc(history, sizeof(*s->ring))) == NULL) {
		free(s);
		return NULL;
	}
	s->cap = history;
	return s;
}

static void
event_clear(struct ks_event *e)
{
	ks_obj_unref(e->obj);
	ks_obj_unref(e->prev);
	free(e->line);
	memset(e, 0, sizeof(*e));
}

void
ks_store_free(struct ks_store *s)
{
	size_t i;
	int k;

	if (s == NULL)
		return;
	for (i = 0; i < s->count; i++)
		event_clear(&s->ring[(s->head + i) % s->cap]);
	free(s->ring);
	for (k = 0; k < KS_KIND_COUNT; k++) {
		for (i = 0; i < s->idx[k].n; i++)
			ks_obj_unref(s->idx[k].v[i]);
		free(s->idx[k].v);
	}
	free(s);
}

void
ks_store_set_hook(struct ks_store *s, ks_store_hook_fn *fn, void *arg)
{
	s->hook = fn;
	s->hook_arg = arg;
}

uint64_t
ks_store_rv(const struct ks_store *s)
{
	return s->rv;
}

/* The restore gap still covers the oldest history (nothing older than
 * its first event has fallen off the ring). */
static int
gap_open(const struct ks_store *s)
{
	return s->gap_top != 0 &&
	    (s->count == 0 ? s->rv == s->gap_top
	                   : s->ring[s->head].rv == s->gap_top + 1);
}

uint64_t
ks_store_oldest(const struct ks_store *s)
{
	if (gap_open(s))
		return s->gap_floor < s->gap_top ? s->gap_floor : s->gap_top;
	if (s->count == 0)
		return s->rv;
	return s->ring[s->head].rv - 1;
}

uint64_t
ks_store_resume_at(const struct ks_store *s, uint64_t cursor)
{
	if (gap_open(s) && cursor >= s->gap_floor && cursor < s->gap_top)
		return s->gap_top;
	return cursor;
}

size_t
ks_store_history_len(const struct ks_store *s)
{
	return s->count;
}

static int
key_cmp(const struct ks_obj *o, const char *ns, const char *name)
{
	int c;

	if ((c = strcmp(o->ns, ns)) != 0)
		return c;
	return strcmp(o->name, name);
}

/* 1 and *pos if found; 0 and the insertion point otherwise. */
static int
index_find(
    const struct ks_index *ix, const char *ns, const char *name, size_t *pos)
{
	size_t lo = 0, hi = ix->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = key_cmp(ix->v[mid], ns, name);
		if (c == 0) {
			*pos = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return 0;
}

struct ks_obj *
ks_store_get(
    const struct ks_store *s, enum ks_kind k, const char *ns, const char *name)
{
	size_t pos;

	if (!index_find(&s->idx[k], ns, name, &pos))
		return NULL;
	return s->idx[k].v[pos];
}

size_t
ks_store_count(const struct ks_store *s, enum ks_kind k)
{
	return s->idx[k].n;
}

struct ks_obj *
ks_store_at(const struct ks_store *s, enum ks_kind k, size_t i)
{
	return i < s->idx[k].n ? s->idx[k].v[i] : NULL;
}

size_t
ks_store_lower_bound(
    const struct ks_store *s, enum ks_kind k, const char *ns, const char *name)
{
	size_t pos;

	index_find(&s->idx[k], ns, name, &pos);
	return pos;
}

/* Append an event; takes a reference on obj and prev. */
static int
push_event(struct ks_store *s, enum ks_ev_type t, struct ks_obj *obj,
    struct ks_obj *prev)
{
	struct ks_event *e;

	if (s->count == s->cap) {
		event_clear(&s->ring[s->head]);
		s->head = (s->head + 1) % s->cap;
		s->count--;
	}
	e = &s->ring[(s->head + s->count) % s->cap];
	e->rv = obj->rv;
	e->type = t;
	e->obj = ks_obj_ref(obj);
	e->prev = ks_obj_ref(prev);
	e->line = NULL;
	e->len = 0;
	s->count++;
	if (s->hook != NULL)
		s->hook(s->hook_arg, e);
	return 0;
}

static int
stamp_rv(struct ks_store *s, struct ks_obj *o)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(s->rv + 1));
	if (ks_json_set_str(
	        ks_json_get(o->doc, "metadata"), "resourceVersion", buf) != 0)
		return -1;
	if (ks_obj_refresh(o) != 0)
		return -1;
	o->rv = ++s->rv;
	return 0;
}

static void
new_uid(char *buf, size_t len)
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		/* Not a secret; a clock-based fallback is fine. */
		unsigned long long t = (unsigned long long)time(NULL);
		size_t i;

		for (i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)(t >> (i % 8 * 8)) ^
			    (unsigned char)(i * 37 + (unsigned)rand());
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(buf, len,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
	    "%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
}

int
ks_store_stamp_new(struct ks_obj *o, long long now)
{
	struct ks_json *md = ks_json_get(o->doc, "metadata");
	char uid[40], ts[32];

	new_uid(uid, sizeof(uid));
	ks_format_time((time_t)now, ts, sizeof(ts));
	ks_json_del(md, "resourceVersion");
	if (ks_json_set_str(md, "uid", uid) != 0 ||
	    ks_json_set_str(md, "creationTimestamp", ts) != 0)
		return -1;
	return ks_obj_refresh(o);
}

int
ks_store_create(struct ks_store *s, struct ks_obj *o, long long now)
{
	struct ks_index *ix = &s->idx[o->kind];
	struct ks_json *md = ks_json_get(o->doc, "metadata");
	struct ks_obj **nv;
	char uid[40], ts[32];
	size_t pos;

	if (index_find(ix, o->ns, o->name, &pos)) {
		errno = EEXIST;
		goto fail;
	}
	if (ix->n >= KS_MAX_OBJECTS) {
		errno = ENOSPC;
		goto fail;
	}
	new_uid(uid, sizeof(uid));
	ks_format_time((time_t)now, ts, sizeof(ts));
	if (ks_json_set_str(md, "uid", uid) != 0 ||
	    ks_json_set_str(md, "creationTimestamp", ts) != 0)
		goto nomem;
	if (ix->n == ix->cap) {
		size_t ncap = ix->cap ? ix->cap * 2 : 64;

		if ((nv = reallocarray(ix->v, ncap, sizeof(*nv))) == NULL)
			goto nomem;
		ix->v = nv;
		ix->cap = ncap;
	}
	if (stamp_rv(s, o) != 0)
		goto nomem;
	/* The refreshed name may have moved; the key is unchanged. */
	memmove(&ix->v[pos + 1], &ix->v[pos], (ix->n - pos) * sizeof(*ix->v));
	ix->v[pos] = o;
	ix->n++;
	push_event(s, KS_EV_ADDED, o, NULL);
	return 0;
nomem:
	errno = ENOMEM;
fail:
	ks_obj_unref(o);
	return -1;
}

int
ks_store_update(struct ks_store *s, struct ks_obj *o)
{
	struct ks_index *ix = &s->idx[o->kind];
	struct ks_obj *cur;
	size_t pos;

	if (!index_find(ix, o->ns, o->name, &pos)) {
		errno = ENOENT;
		ks_obj_unref(o);
		return -1;
	}
	cur = ix->v[pos];
	if (ks_json_equal(cur->doc, o->doc)) {
		/* No-op write: no new resourceVersion, no event. */
		ks_obj_unref(o);
		return 1;
	}
	if (stamp_rv(s, o) != 0) {
		errno = ENOMEM;
		ks_obj_unref(o);
		return -1;
	}
	ix->v[pos] = o;
	push_event(s, KS_EV_MODIFIED, o, cur);
	ks_obj_unref(cur);
	return 0;
}

int
ks_store_delete(
    struct ks_store *s, enum ks_kind k, const char *ns, const char *name)
{
	struct ks_index *ix = &s->idx[k];
	struct ks_obj *cur, *last;
	size_t pos;

	if (!index_find(ix, ns, name, &pos)) {
		errno = ENOENT;
		return -1;
	}
	cur = ix->v[pos];
	/* DELETED carries the last state with the delete's revision. */
	if ((last = ks_obj_clone(cur)) == NULL || stamp_rv(s, last) != 0) {
		ks_obj_unref(last);
		errno = ENOMEM;
		return -1;
	}
	memmove(
	    &ix->v[pos], &ix->v[pos + 1], (ix->n - pos - 1) * sizeof(*ix->v));
	ix->n--;
	push_event(s, KS_EV_DELETED, last, cur);
	ks_obj_unref(last);
	ks_obj_unref(cur);
	return 0;
}

static struct ks_event *
slot(const struct ks_store *s, uint64_t rv)
{
	uint64_t first;

	if (s->count == 0)
		return NULL;
	first = s->ring[s->head].rv;
	if (rv < first || rv - first >= s->count)
		return NULL;
	return &s->ring[(s->head + (size_t)(rv - first)) % s->cap];
}

const struct ks_event *
ks_store_event(const struct ks_store *s, uint64_t rv)
{
	return slot(s, rv);
}

const char *
ks_store_event_line(struct ks_store *s, const struct ks_event *ce, size_t *len)
{
	static const char *const names[] = {"ADDED", "MODIFIED", "DELETED"};
	struct ks_event *e;

	e = slot(s, ce->rv);
	if (e == NULL)
		return NULL;
	if (e->line == NULL)
		e->line = ks_obj_event_line(e->obj, names[e->type], &e->len);
	*len = e->len;
	return e->line;
}

static int
obj_cmp(const void *a, const void *b)
{
	const struct ks_obj *x = *(struct ks_obj *const *)a;
	const struct ks_obj *y = *(struct ks_obj *const *)b;

	return key_cmp(x, y->ns, y->name);
}

int
ks_store_restore(struct ks_store *s, enum ks_kind k, struct ks_obj **objs,
    size_t n, uint64_t rv, long long now)
{
	return ks_store_restore_ns(s, k, NULL, objs, n, rv, now);
}

int
ks_store_restore_ns(struct ks_store *s, enum ks_kind k, const char *ns,
    struct ks_obj **objs, size_t n, uint64_t rv, long long now)
{
	struct ks_index *ix = &s->idx[k];
	struct ks_obj **nv = NULL;
	uint64_t oldest = ks_store_oldest(s);
	size_t i, kept = 0, total;
	char uid[40], ts[32], rvs[32];

	if (rv == 0 || n > KS_MAX_OBJECTS) {
		errno = EINVAL;
		goto fail;
	}
	qsort(objs, n, sizeof(*objs), obj_cmp);
	for (i = 0; i < n; i++) {
		if ((i > 0 && obj_cmp(&objs[i - 1], &objs[i]) == 0) ||
		    (ns != NULL && strcmp(objs[i]->ns, ns) != 0)) {
			errno = EINVAL;
			goto fail;
		}
	}
	/* Objects of other namespaces stay as they are (same uid, RV). */
	for (i = 0; ns != NULL && i < ix->n; i++)
		kept += strcmp(ix->v[i]->ns, ns) != 0;
	total = n + kept;
	if (total > KS_MAX_OBJECTS) {
		errno = EINVAL;
		goto fail;
	}
	if (total > 0 && (nv = calloc(total, sizeof(*nv))) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	ks_format_time((time_t)now, ts, sizeof(ts));
	for (i = 0; i < n; i++) {
		struct ks_json *md = ks_json_get(objs[i]->doc, "metadata");
		/* Distinct mod revisions up to rv, as a backup would hold. */
		uint64_t orv = rv > n - 1 - i ? rv - (n - 1 - i) : 1;

		new_uid(uid, sizeof(uid));
		snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)orv);
		if (ks_json_set_str(md, "uid", uid) != 0 ||
		    ks_json_set_str(md, "creationTimestamp", ts) != 0 ||
		    ks_json_set_str(md, "resourceVersion", rvs) != 0 ||
		    ks_obj_refresh(objs[i]) != 0) {
			free(nv);
			errno = ENOMEM;
			goto fail;
		}
		objs[i]->rv = orv;
		nv[i] = objs[i];
	}
	/* Committed from here on: nothing below can fail. */
	for (i = 0; i < ix->n; i++) {
		if (ns != NULL && strcmp(ix->v[i]->ns, ns) != 0)
			nv[--total] = ix->v[i]; /* the index's reference */
		else
			ks_obj_unref(ix->v[i]);
	}
	total = n + kept;
	qsort(nv, total, sizeof(*nv), obj_cmp);
	free(ix->v);
	ix->v = nv;
	ix->n = ix->cap = total;
	while (s->count > 0) {
		event_clear(&s->ring[s->head]);
		s->head = (s->head + 1) % s->cap;
		s->count--;
	}
	s->gap_floor = oldest;
	s->gap_top = rv;
	s->rv = rv;
	return 0;
fail:
	for (i = 0; i < n; i++)
		ks_obj_unref(objs[i]);
	return -1;
}

void
ks_store_compact(struct ks_store *s, uint64_t rv)
{
	s->gap_top = 0; /* a compaction ends any restore window */
	while (s->count > 0 && (rv == 0 || s->ring[s->head].rv <= rv)) {
		event_clear(&s->ring[s->head]);
		s->head = (s->head + 1) % s->cap;
		s->count--;
	}
}
