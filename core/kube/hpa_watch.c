/*
 * hpa_watch.c — the Deployment → HPA map of one namespace (see
 * hpa_watch.h), on the list+watch loop (listwatch.c) and hpa_json's
 * parser.
 *
 * The map is an array sorted by HPA name: watch events find their entry
 * by binary search, and a lookup by Deployment scans it in name order, so
 * the first match is the smallest name.  O(n) per lookup is a choice: n is
 * bounded by HPA_MAX_ENTRIES and is tens in practice, and a second index
 * would be one more thing to keep consistent.
 *
 * A list fills a staged map; it becomes the map only when the loop says
 * the list completed (listed_cb), so a page refused half-way changes
 * nothing.  Watch events are applied one by one as the parser validates
 * them, as reflector.c does with the Deployments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_limits.h"
#include "core/kube/hpa_json.h"
#include "core/kube/hpa_watch.h"
#include "core/kube/listwatch.h"
#include "core/log.h"
#include "proto-socket/ps_buf.h"

/* ------------------------------------------------------------- the map */

struct hpa_entry {
	char hpa[PS_MAX_NAME + 1];
	char deployment[PS_MAX_NAME + 1];
};

struct hpa_map {
	struct hpa_entry *e; /* sorted by hpa */
	size_t n, cap, max;
};

struct hpa_map *
hpa_map_new(size_t max)
{
	struct hpa_map *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->max = max;
	return m;
}

void
hpa_map_free(struct hpa_map *m)
{
	if (m == NULL)
		return;
	free(m->e);
	free(m);
}

/* Index of `hpa`, or where it would go (*found = 0). */
static size_t
map_search(const struct hpa_map *m, const char *hpa, int *found)
{
	size_t lo = 0, hi = m->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->e[mid].hpa, hpa);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
hpa_map_put(struct hpa_map *m, const char *hpa, const char *deployment)
{
	struct hpa_entry *ne;
	size_t i, ncap;
	int found;

	if (ps_valid_name(hpa, strlen(hpa)) != PS_OK ||
	    ps_valid_name(deployment, strlen(deployment)) != PS_OK) {
		errno = EINVAL;
		return -1;
	}
	i = map_search(m, hpa, &found);
	if (!found) {
		if (m->n >= m->max) {
			errno = ENOSPC;
			return -1;
		}
		if (m->n == m->cap) {
			ncap = m->cap == 0 ? 16 : m->cap * 2;
			if (ncap > m->max)
				ncap = m->max;
			if ((ne = reallocarray(m->e, ncap, sizeof(*ne))) ==
			    NULL)
				return -1; /* ENOMEM; m unchanged */
			m->e = ne;
			m->cap = ncap;
		}
		memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof(*m->e));
		m->n++;
		snprintf(m->e[i].hpa, sizeof(m->e[i].hpa), "%s", hpa);
	}
	snprintf(
	    m->e[i].deployment, sizeof(m->e[i].deployment), "%s", deployment);
	return 0;
}

int
hpa_map_del(struct hpa_map *m, const char *hpa)
{
	int found;
	size_t i = map_search(m, hpa, &found);

	if (!found) {
		errno = ENOENT;
		return -1;
	}
	memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof(*m->e));
	m->n--;
	return 0;
}

const char *
hpa_map_find(const struct hpa_map *m, const char *deployment)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].deployment, deployment) == 0)
			return m->e[i].hpa; /* sorted: the smallest name */
	return NULL;
}

size_t
hpa_map_size(const struct hpa_map *m)
{
	return m->n;
}

void
hpa_map_clear(struct hpa_map *m)
{
	m->n = 0;
}

void
hpa_map_swap(struct hpa_map *a, struct hpa_map *b)
{
	struct hpa_map t = *a;

	*a = *b;
	*b = t;
}

/* ----------------------------------------------------------- the watch */

struct hpa_watch {
	/* The list+watch loop; NULL in a namespace of a watch across
	 * namespaces (`parent` feeds it). */
	struct lw *lw;
	struct hpa_watch *parent;
	/* hpa_watch_new_all: the namespaces served, fed by this one. */
	struct hpa_watch *child[CORE_MAX_NAMESPACES];
	size_t nchild;
	struct hpa_json *pj;   /* the parser of the answer in progress */
	struct hpa_map *map;   /* what lookups see */
	struct hpa_map *stage; /* the list being read */
	int stage_full;        /* the staged list did not fit */
	enum hpa_watch_state state;
	long last_status;
	char namespace[PS_MAX_NAMESPACE + 1];
	void (*changed_cb)(void *arg); /* hpa_watch_set_changed_cb() */
	void *changed_arg;
};

/* Applies one validated HPA to `m`: kept if it targets an apps
 * Deployment, forgotten otherwise (its target may have changed). */
static int
apply(struct hpa_map *m, const struct hpa_json_obj *o, int deleted)
{
	if (deleted || !hpa_json_targets_deployment(o)) {
		(void)hpa_map_del(m, o->name);
		return 0;
	}
	return hpa_map_put(m, o->name, o->target_name);
}

/* Where an object goes: `hw` itself, or across namespaces the child of
 * its namespace (NULL: not served, ignored). */
static struct hpa_watch *
target(struct hpa_watch *hw, const struct hpa_json_obj *o)
{
	if (hw->nchild == 0)
		return hw;
	for (size_t i = 0; i < hw->nchild; i++)
		if (strcmp(hw->child[i]->namespace, o->namespace) == 0)
			return hw->child[i];
	return NULL;
}

static int
list_item_cb(void *arg, enum hpa_json_event ev, const struct hpa_json_obj *o)
{
	struct hpa_watch *hw = arg, *t;

	(void)ev;
	if ((t = target(hw, o)) == NULL)
		return 0;
	if (apply(t->stage, o, 0) == -1) {
		if (errno == ENOSPC)
			hw->stage_full = t->stage_full = 1;
		return -1;
	}
	return 0;
}

/* The answers of hpa_watch_lookup() may have changed. */
static void
changed(struct hpa_watch *hw)
{
	if (hw->changed_cb != NULL)
		hw->changed_cb(hw->changed_arg);
}

static int
watch_event_cb(void *arg, enum hpa_json_event ev, const struct hpa_json_obj *o)
{
	struct hpa_watch *hw = arg, *t;

	switch (ev) {
	case HPA_EV_ADDED:
	case HPA_EV_MODIFIED:
	case HPA_EV_DELETED:
		if ((t = target(hw, o)) == NULL) {
			lw_event(hw->lw, o->rv, 1); /* not ours; moved on */
			return 0;
		}
		if (apply(t->map, o, ev == HPA_EV_DELETED) == -1) {
			log_warn("hpa: watch: map refused %s", o->name);
			return -1; /* relist: the map may now be wrong */
		}
		lw_event(hw->lw, o->rv, 0);
		changed(t);
		return 0;
	case HPA_EV_BOOKMARK:
		lw_event(hw->lw, o->rv, 1);
		return 0;
	case HPA_EV_ERROR:
		lw_error_event(hw->lw, o->code, o->message);
		return -1;
	case HPA_EV_NONE:
		break;
	}
	return -1;
}

static int
begin_cb(void *arg, enum lw_req req)
{
	struct hpa_watch *hw = arg;

	hpa_json_free(hw->pj);
	if (req == LW_LIST_FIRST) {
		hpa_map_clear(hw->stage);
		hw->stage_full = 0;
		for (size_t i = 0; i < hw->nchild; i++) {
			hpa_map_clear(hw->child[i]->stage);
			hw->child[i]->stage_full = 0;
		}
	}
	hw->pj = req == LW_WATCH
	    ? hpa_json_new(HPA_JSON_WATCH, watch_event_cb, hw)
	    : hpa_json_new(HPA_JSON_LIST, list_item_cb, hw);
	return hw->pj != NULL ? 0 : -1;
}

static int
feed_cb(void *arg, const char *buf, size_t len)
{
	struct hpa_watch *hw = arg;

	return hpa_json_feed(hw->pj, buf, len);
}

static int
finish_cb(void *arg, enum lw_req req, int aborted, struct lw_page *page,
    const char **why)
{
	struct hpa_watch *hw = arg;
	const struct hpa_json_obj *top;

	if (aborted || hpa_json_finish(hw->pj) == -1) {
		*why = req != LW_WATCH && hw->stage_full
		    ? "more HorizontalPodAutoscalers than the map holds"
		    : hpa_json_error(hw->pj);
		return -1;
	}
	if (page != NULL) {
		top = hpa_json_top(hw->pj);
		_Static_assert(sizeof(page->rv) == sizeof(top->rv) &&
		        sizeof(page->cont) == sizeof(top->cont),
		    "lw_page and hpa_json_obj agree");
		memcpy(page->rv, top->rv, sizeof(page->rv));
		memcpy(page->cont, top->cont, sizeof(page->cont));
	}
	return 0;
}

static void listed_one(struct hpa_watch *hw, const char *rv);

static void
listed_cb(void *arg, const char *rv, uint64_t started_ms)
{
	struct hpa_watch *hw = arg;

	(void)started_ms;
	listed_one(hw, rv);
	for (size_t i = 0; i < hw->nchild; i++)
		listed_one(hw->child[i], rv);
}

static void
listed_one(struct hpa_watch *hw, const char *rv)
{
	hpa_map_swap(hw->map, hw->stage);
	hpa_map_clear(hw->stage);
	if (hw->state == HPA_WATCH_UNAVAILABLE)
		log_info("hpa: HorizontalPodAutoscalers readable again");
	hw->state = HPA_WATCH_SYNCED;
	hw->last_status = 0;
	log_kv(LOG_LEVEL_INFO, 0,
	    (struct log_kv[]){
	        LOG_U("hpas", hpa_map_size(hw->map)), LOG_S("rv", rv)},
	    2, "hpa: list complete");
	changed(hw);
}

/* 403: the Role lacks the verb; 404: no autoscaling/v2 in this cluster
 * (or the namespace is gone).  Neither heals by retrying soon, but either
 * may be fixed without restarting the core, so the loop keeps retrying. */
static int
unavailable_status(long status)
{
	return status == 403 || status == 404;
}

static void list_failed_one(struct hpa_watch *hw, long status, const char *why);

static void
list_failed_cb(void *arg, long status, const char *why)
{
	struct hpa_watch *hw = arg;

	list_failed_one(hw, status, why);
	for (size_t i = 0; i < hw->nchild; i++)
		list_failed_one(hw->child[i], status, why);
}

static void
list_failed_one(struct hpa_watch *hw, long status, const char *why)
{
	hw->last_status = status;
	if (hw->stage_full) {
		/* Not transient: the namespace has more HPAs than the map
		 * holds, so "none" could be false for any Deployment. */
		if (hw->state != HPA_WATCH_UNAVAILABLE)
			log_warnx("hpa: more than %d HorizontalPodAutoscalers "
			          "target Deployments in %s; the HPA state of "
			          "every Deployment is unknown; retrying",
			    HPA_MAX_ENTRIES, hw->namespace);
		hw->state = HPA_WATCH_UNAVAILABLE;
		hpa_map_clear(hw->map);
		return;
	}
	if (!unavailable_status(status))
		return; /* transient: a synced map stays synced, as the
		           Deployment cache does, and the loop relists */
	if (hw->state != HPA_WATCH_UNAVAILABLE)
		log_warnx("hpa: cannot list HorizontalPodAutoscalers in %s "
		          "(HTTP %ld: %s); %s; the HPA state of every "
		          "Deployment is unknown until this works; retrying",
		    hw->namespace, status, why,
		    status == 403 ? "the Role needs list and watch on "
		                    "horizontalpodautoscalers.autoscaling"
		                  : "the cluster may not serve autoscaling/v2");
	hw->state = HPA_WATCH_UNAVAILABLE;
	hpa_map_clear(hw->map);
	changed(hw);
}

/* The loop logs every failed list; a known 403/404 is logged once above,
 * its repetitions at debug level. */
static int
quiet_cb(void *arg, long status)
{
	struct hpa_watch *hw = arg;

	return unavailable_status(status) && hw->state == HPA_WATCH_UNAVAILABLE;
}

static const char *
hint_cb(long status)
{
	return status == 401 || status == 403
	    ? " (the Role needs list and watch on "
	      "horizontalpodautoscalers.autoscaling)"
	    : "";
}

/* The maps of one namespace (or, "*", of a watch across namespaces). */
static struct hpa_watch *
watch_alloc(const char *namespace)
{
	struct hpa_watch *hw;

	if ((hw = calloc(1, sizeof(*hw))) == NULL)
		return NULL;
	snprintf(hw->namespace, sizeof(hw->namespace), "%s", namespace);
	if ((hw->map = hpa_map_new(HPA_MAX_ENTRIES)) == NULL ||
	    (hw->stage = hpa_map_new(HPA_MAX_ENTRIES)) == NULL) {
		hpa_watch_free(hw);
		return NULL;
	}
	return hw;
}

static int
watch_loop(struct hpa_watch *hw, struct event_base *base, struct kc *kc,
    const char *path)
{
	struct lw_target t = {
	    .path = path,
	    .field_selector = "",
	    .page_limit = LW_LIST_PAGE,
	    .what = "horizontalpodautoscalers",
	};
	struct lw_hooks lh = {
	    .begin = begin_cb,
	    .feed = feed_cb,
	    .finish = finish_cb,
	    .listed = listed_cb,
	    .list_failed = list_failed_cb,
	    .quiet = quiet_cb,
	    .hint = hint_cb,
	    .arg = hw,
	};

	return (hw->lw = lw_new(base, kc, &t, &lh)) != NULL ? 0 : -1;
}

struct hpa_watch *
hpa_watch_new(struct event_base *base, struct kc *kc, const char *namespace)
{
	char path[KC_MAX_PATH + 1];
	struct hpa_watch *hw;

	if (ps_valid_namespace(namespace, strlen(namespace)) != PS_OK) {
		errno = EINVAL;
		return NULL;
	}
	if ((hw = watch_alloc(namespace)) == NULL)
		return NULL;
	snprintf(path, sizeof(path),
	    "/apis/autoscaling/v2/namespaces/%s/horizontalpodautoscalers",
	    namespace);
	if (watch_loop(hw, base, kc, path) != 0) {
		hpa_watch_free(hw);
		return NULL;
	}
	return hw;
}

struct hpa_watch *
hpa_watch_new_all(struct event_base *base, struct kc *kc,
    const char *const *namespaces, size_t n, struct hpa_watch **out)
{
	struct hpa_watch *hw;

	if (n == 0 || n > CORE_MAX_NAMESPACES) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (ps_valid_namespace(namespaces[i],
		        strnlen(namespaces[i], PS_MAX_NAMESPACE + 1)) !=
		    PS_OK) {
			errno = EINVAL;
			return NULL;
		}
	if ((hw = watch_alloc("all namespaces")) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if ((hw->child[i] = watch_alloc(namespaces[i])) == NULL) {
			hpa_watch_free(hw);
			return NULL;
		}
		hw->child[i]->parent = hw;
		hw->nchild = i + 1;
	}
	if (watch_loop(hw, base, kc,
	        "/apis/autoscaling/v2/horizontalpodautoscalers") != 0) {
		hpa_watch_free(hw);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = hw->child[i];
	return hw;
}

void
hpa_watch_free(struct hpa_watch *hw)
{
	if (hw == NULL || hw->parent != NULL)
		return; /* a namespace's maps go with the watch that feeds them
		         */
	lw_free(hw->lw);
	for (size_t i = 0; i < hw->nchild; i++) {
		hw->child[i]->parent = NULL;
		hpa_watch_free(hw->child[i]);
	}
	hpa_json_free(hw->pj);
	hpa_map_free(hw->map);
	hpa_map_free(hw->stage);
	free(hw);
}

void
hpa_watch_set_changed_cb(struct hpa_watch *hw, void (*cb)(void *arg), void *arg)
{
	hw->changed_cb = cb;
	hw->changed_arg = arg;
}

void
hpa_watch_start(struct hpa_watch *hw)
{
	if (hw->lw != NULL) /* a namespace fed by a watch across them: no */
		lw_start(hw->lw);
}

int
hpa_watch_synced(const struct hpa_watch *hw)
{
	return hw->state == HPA_WATCH_SYNCED;
}

const char *
hpa_watch_target_of(const struct hpa_watch *hw, const char *deployment)
{
	if (!hpa_watch_synced(hw))
		return NULL;
	return hpa_map_find(hw->map, deployment);
}

enum hpa_watch_answer
hpa_watch_lookup(const struct hpa_watch *hw, const char *deployment,
    char hpa[PS_MAX_NAME + 1])
{
	const char *name;

	if (!hpa_watch_synced(hw))
		return HPA_WATCH_UNKNOWN;
	if ((name = hpa_map_find(hw->map, deployment)) == NULL)
		return HPA_WATCH_NONE;
	snprintf(hpa, PS_MAX_NAME + 1, "%s", name);
	return HPA_WATCH_FOUND;
}

void
hpa_watch_get_status(const struct hpa_watch *hw, struct hpa_watch_status *st)
{
	memset(st, 0, sizeof(*st));
	st->state = hw->state;
	st->entries = hpa_map_size(hw->map);
	st->last_status = hw->last_status;
	lw_get_stats(hw->parent != NULL ? hw->parent->lw : hw->lw, &st->lw);
}
