/*
 * reflector.c — the Deployments of one namespace into its cache, or of
 * every namespace into the caches of those served (see reflector.h), on
 * the list+watch loop (listwatch.c).  Everything the API
 * says is parsed by kjson, which bounds and validates it; the cache is
 * changed only by validated objects.
 *
 * A relist applies pages as they arrive and sweeps afterwards, so memory
 * stays one cache's worth: while it runs, reads see each object at its old
 * or its new state, never something the API did not say.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kube/cache.h"
#include "core/core_limits.h"
#include "core/kube/kjson.h"
#include "core/kube/listwatch.h"
#include "core/log.h"
#include "core/kube/reflector.h"
#include "proto-socket/ps_buf.h"

/* Where one namespace's objects go. */
struct route {
	char namespace[PS_MAX_NAMESPACE + 1];
	struct cache *cache;
	struct refl_hooks hooks;
};

struct refl {
	int all; /* one list+watch across namespaces (refl_new_all) */
	size_t n;
	struct route route[CORE_MAX_NAMESPACES];
	uint64_t ignored; /* objects of namespaces not served (all) */
	struct lw *lw;
	struct kjson *kj; /* the parser of the answer in progress */
	int list_failed;  /* the cache refused an item of this list */
	int synced;       /* a complete list has been applied */
};

/* to_cache() copies whole arrays: the two records must agree. */
#define SAME_SIZE(f)                                         \
	_Static_assert(sizeof(((struct kjson_obj *)0)->f) == \
	        sizeof(((struct cache_deploy *)0)->f),       \
	    "kjson_obj." #f " and cache_deploy." #f " differ")
SAME_SIZE(name);
SAME_SIZE(namespace);
SAME_SIZE(uid);
SAME_SIZE(rv);
#undef SAME_SIZE

static void
to_cache(const struct kjson_obj *o, struct cache_deploy *d)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->name, o->name, sizeof(d->name));
	memcpy(d->namespace, o->namespace, sizeof(d->namespace));
	memcpy(d->uid, o->uid, sizeof(d->uid));
	memcpy(d->rv, o->rv, sizeof(d->rv));
	d->generation = o->generation;
	d->observed_generation = o->observed_generation;
	d->desired = o->spec_replicas;
	d->replicas = o->replicas;
	d->ready = o->ready;
	d->available = o->available;
	d->updated = o->updated;
	d->annot = o->annot;
}

/*
 * The route of an object's namespace.  Watching one namespace, an object
 * of another is refused (NULL: the answer is wrong); watching all, an
 * object of a namespace not served is ignored (*ignore set).
 */
static struct route *
route_of(struct refl *r, const struct kjson_obj *o, int *ignore)
{
	*ignore = 0;
	if (!r->all)
		return o->namespace[0] == '\0' ||
		        strcmp(o->namespace, r->route[0].namespace) == 0
		    ? &r->route[0]
		    : NULL;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(o->namespace, r->route[i].namespace) == 0)
			return &r->route[i];
	*ignore = 1;
	r->ignored++;
	return NULL;
}

static int
list_item_cb(void *arg, enum kjson_event ev, const struct kjson_obj *o)
{
	struct refl *r = arg;
	struct cache_deploy d;
	struct route *rt;
	int ignore;

	(void)ev;
	if ((rt = route_of(r, o, &ignore)) == NULL) {
		if (ignore)
			return 0;
		log_warnx("list: object from another namespace refused");
		return -1;
	}
	to_cache(o, &d);
	if (cache_put(rt->cache, &d) == -1) {
		log_warn("list: cache refused %s", o->name);
		r->list_failed = 1;
		return -1;
	}
	return 0;
}

static int
watch_event_cb(void *arg, enum kjson_event ev, const struct kjson_obj *o)
{
	struct refl *r = arg;
	struct cache_deploy d;
	struct route *rt;
	int ignore;

	switch (ev) {
	case KJSON_EV_ADDED:
	case KJSON_EV_MODIFIED:
	case KJSON_EV_DELETED:
		if ((rt = route_of(r, o, &ignore)) == NULL) {
			if (ignore) { /* not ours, but the stream moved on */
				lw_event(r->lw, o->rv, 1);
				return 0;
			}
			log_warnx("watch: object from another namespace "
			          "refused");
			return -1;
		}
		if (ev == KJSON_EV_DELETED)
			(void)cache_del(rt->cache, o->name);
		else {
			to_cache(o, &d);
			if (cache_put(rt->cache, &d) == -1) {
				log_warn("watch: cache refused %s", o->name);
				return -1;
			}
		}
		lw_event(r->lw, o->rv, 0);
		if (rt->hooks.applied_cb != NULL)
			rt->hooks.applied_cb(rt->hooks.arg, o->name, o->rv);
		return 0;
	case KJSON_EV_BOOKMARK:
		/* Only its resourceVersion means anything. */
		lw_event(r->lw, o->rv, 1);
		return 0;
	case KJSON_EV_ERROR:
		lw_error_event(r->lw, o->code, o->message);
		return -1; /* the server ends the stream after it anyway */
	case KJSON_EV_NONE:
		break;
	}
	return -1;
}

/* ------------------------------------------- the list+watch loop's hooks */

static int
begin_cb(void *arg, enum lw_req req)
{
	struct refl *r = arg;

	kjson_free(r->kj);
	if (req == LW_LIST_FIRST) {
		r->list_failed = 0;
		/* A relist replaces what each namespace served holds. */
		for (size_t i = 0; i < r->n; i++)
			cache_mark(r->route[i].cache);
	}
	r->kj = req == LW_WATCH ? kjson_new(KJSON_WATCH, watch_event_cb, r)
	                        : kjson_new(KJSON_LIST, list_item_cb, r);
	return r->kj != NULL ? 0 : -1;
}

static int
feed_cb(void *arg, const char *buf, size_t len)
{
	struct refl *r = arg;

	return kjson_feed(r->kj, buf, len);
}

static int
finish_cb(void *arg, enum lw_req req, int aborted, struct lw_page *page,
    const char **why)
{
	struct refl *r = arg;
	const struct kjson_obj *top;

	if (aborted || kjson_finish(r->kj) == -1) {
		*why = req != LW_WATCH && r->list_failed ? "cache full"
		                                         : kjson_error(r->kj);
		return -1;
	}
	if (page != NULL) {
		top = kjson_top(r->kj);
		memcpy(page->rv, top->rv, sizeof(page->rv));
		memcpy(page->cont, top->cont, sizeof(page->cont));
	}
	return 0;
}

static void
listed_cb(void *arg, const char *rv, uint64_t started_ms)
{
	struct refl *r = arg;
	size_t swept = 0, size = 0;

	for (size_t i = 0; i < r->n; i++) {
		swept += cache_sweep(r->route[i].cache);
		size += cache_size(r->route[i].cache);
	}
	r->synced = 1;
	log_kv(LOG_LEVEL_INFO, 0,
	    (struct log_kv[]){LOG_U("deployments", size),
	        LOG_U("removed", swept), LOG_S("rv", rv),
	        LOG_S("namespace", r->all ? "*" : r->route[0].namespace)},
	    4, "list complete");
	for (size_t i = 0; i < r->n; i++)
		if (r->route[i].hooks.synced_cb != NULL)
			r->route[i].hooks.synced_cb(
			    r->route[i].hooks.arg, started_ms);
}

/* ------------------------------------------------------------ object */

static struct refl *
refl_make(struct event_base *base, struct kc *kc,
    const struct refl_route *routes, size_t n, int all)
{
	char path[KC_MAX_PATH + 1];
	struct refl *r;
	struct lw_target t = {
	    .path = path,
	    .field_selector = "",
	    .page_limit = LW_LIST_PAGE,
	    .what = "deployments",
	};
	struct lw_hooks lh = {
	    .begin = begin_cb,
	    .feed = feed_cb,
	    .finish = finish_cb,
	    .listed = listed_cb,
	};

	if (n == 0 || n > CORE_MAX_NAMESPACES) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (routes[i].namespace == NULL || routes[i].cache == NULL ||
		    ps_valid_namespace(routes[i].namespace,
		        strnlen(routes[i].namespace, PS_MAX_NAMESPACE + 1)) !=
		        PS_OK) {
			errno = EINVAL;
			return NULL;
		}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->all = all;
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(r->route[i].namespace, sizeof(r->route[i].namespace),
		    "%s", routes[i].namespace);
		r->route[i].cache = routes[i].cache;
		if (routes[i].hooks != NULL)
			r->route[i].hooks = *routes[i].hooks;
	}
	if (all)
		snprintf(path, sizeof(path), "/apis/apps/v1/deployments");
	else
		snprintf(path, sizeof(path),
		    "/apis/apps/v1/namespaces/%s/deployments",
		    r->route[0].namespace);
	lh.arg = r;
	if ((r->lw = lw_new(base, kc, &t, &lh)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

struct refl *
refl_new(struct event_base *base, struct kc *kc, struct cache *cache,
    const char *namespace, const struct refl_hooks *hooks)
{
	struct refl_route rt = {namespace, cache, hooks};

	return refl_make(base, kc, &rt, 1, 0);
}

struct refl *
refl_new_all(struct event_base *base, struct kc *kc,
    const struct refl_route *routes, size_t n)
{
	return refl_make(base, kc, routes, n, 1);
}

void
refl_free(struct refl *r)
{
	if (r == NULL)
		return;
	lw_free(r->lw);
	kjson_free(r->kj);
	free(r);
}

int
refl_start(struct refl *r)
{
	lw_start(r->lw);
	return 0;
}

void
refl_get_status(const struct refl *r, struct refl_status *st)
{
	st->synced = r->synced;
	st->ignored = r->ignored;
	lw_get_stats(r->lw, &st->lw);
}
