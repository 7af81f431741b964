/*
 * reflector.c — LIST then WATCH Deployments into the cache (see
 * reflector.h).  One request at a time: a list page, a watch, or a backoff
 * timer.  Everything the API says is parsed by kjson, which bounds and
 * validates it; the cache is changed only by validated objects.
 *
 * A relist applies pages as they arrive and sweeps afterwards, so memory
 * stays one cache's worth: while it runs, reads see each object at its old
 * or its new state, never something the API did not say.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/cache.h"
#include "core/clock.h"
#include "core/core_limits.h"
#include "core/kclient.h"
#include "core/kjson.h"
#include "core/log.h"
#include "core/reflector.h"
#include "proto-socket/ps_buf.h"

enum refl_state {
	RS_IDLE,
	RS_LISTING,
	RS_WATCHING,
	RS_WAITING /* backoff timer armed */
};

struct refl {
	struct event_base *base;
	struct kc *kc;
	struct cache *cache;
	struct refl_hooks hooks;
	char namespace[PS_MAX_NAMESPACE + 1];
	enum refl_state state;
	enum refl_action pending; /* what the timer does when it fires */
	struct event *timer;
	struct kc_req *req;
	struct kjson *kj;
	struct refl_backoff backoff;
	char last_rv[PS_MAX_RV + 1]; /* last RV seen: list, event, bookmark */
	char list_rv[PS_MAX_RV + 1]; /* RV of the list being read */
	char cont[KJSON_MAX_CONT + 1];
	int list_first_page;
	uint64_t list_started_ms;
	int list_failed; /* cache refused an item */
	/* The watch in progress. */
	uint64_t watch_started_ms;
	uint64_t watch_events;
	int error_event; /* Status code of an ERROR event */
	char error_msg[KJSON_MAX_MESSAGE + 1];
	struct refl_status st;
};

static void start_list(struct refl *r);
static void start_watch(struct refl *r);

enum refl_action
refl_after_watch(const struct refl_outcome *o)
{
	if (o->error_event != 0)
		return REFL_BACKOFF_RELIST; /* 410 Expired and all others */
	if (o->status == 0)
		return REFL_BACKOFF_REWATCH; /* refused, reset, DNS, TLS */
	if (o->status == 429)
		return REFL_BACKOFF_REWATCH; /* overloaded: same RV is fine */
	if (o->status != 200 || o->parse_error)
		return REFL_BACKOFF_RELIST; /* 410, 401/403, 5xx, garbage */
	if (o->lasted_ms < REFL_SHORT_WATCH_MS)
		/* client-go's "very short watch"; with events, not a relist
		 * but still a pause, so a server that closes at once cannot
		 * make us spin. */
		return o->events == 0 ? REFL_BACKOFF_RELIST
		                      : REFL_BACKOFF_REWATCH;
	return REFL_REWATCH; /* timeout, EOF, broken stream */
}

uint64_t
refl_backoff_next(
    struct refl_backoff *b, uint64_t now, uint32_t rnd, unsigned retry_after_s)
{
	uint64_t delay, floor_ms = (uint64_t)retry_after_s * 1000u;

	if (b->base_ms == 0 || now - b->last_ms > REFL_BACKOFF_RESET_MS)
		b->base_ms = REFL_BACKOFF_INITIAL_MS;
	else {
		b->base_ms *= 2;
		if (b->base_ms > REFL_BACKOFF_CAP_MS)
			b->base_ms = REFL_BACKOFF_CAP_MS;
	}
	b->last_ms = now;
	/* Jitter 1.0: uniform in [base, 2 * base). */
	delay = b->base_ms + (b->base_ms * rnd >> 32);
	return delay > floor_ms ? delay : floor_ms;
}

unsigned
refl_watch_timeout(uint32_t rnd)
{
	return REFL_WATCH_TIMEOUT_MIN_S +
	    (unsigned)(((uint64_t)REFL_WATCH_TIMEOUT_MIN_S * rnd) >> 32);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct refl *r = arg;

	(void)fd;
	(void)what;
	if (r->pending == REFL_BACKOFF_RELIST)
		start_list(r);
	else
		start_watch(r);
}

static void
schedule(struct refl *r, enum refl_action action, unsigned retry_after)
{
	uint64_t delay;
	struct timeval tv;

	if (action == REFL_REWATCH) {
		r->st.watch_restarts++;
		start_watch(r);
		return;
	}
	if (action == REFL_BACKOFF_REWATCH)
		r->st.watch_restarts++;
	delay = refl_backoff_next(
	    &r->backoff, clock_now_ms(), arc4random(), retry_after);
	r->pending = action;
	r->state = RS_WAITING;
	tv.tv_sec = (time_t)(delay / 1000u);
	tv.tv_usec = (suseconds_t)(delay % 1000u) * 1000;
	log_kv(LOG_LEVEL_INFO, 0, (struct log_kv[]){LOG_U("delay_ms", delay)},
	    1, "%s after backoff",
	    action == REFL_BACKOFF_RELIST ? "relisting" : "re-watching");
	if (evtimer_add(r->timer, &tv) == -1)
		log_warnx("reflector: cannot arm the backoff timer");
}

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
}

/* An object from the API is about our namespace, or it is refused. */
static int
in_namespace(const struct refl *r, const struct kjson_obj *o)
{
	return o->namespace[0] == '\0' ||
	    strcmp(o->namespace, r->namespace) == 0;
}

static int
list_item_cb(void *arg, enum kjson_event ev, const struct kjson_obj *o)
{
	struct refl *r = arg;
	struct cache_deploy d;

	(void)ev;
	if (!in_namespace(r, o)) {
		log_warnx("list: object from another namespace refused");
		return -1;
	}
	to_cache(o, &d);
	if (cache_put(r->cache, &d) == -1) {
		log_warn("list: cache refused %s", o->name);
		r->list_failed = 1;
		return -1;
	}
	return 0;
}

static int
data_cb(void *arg, const char *buf, size_t len)
{
	struct refl *r = arg;

	if (kjson_feed(r->kj, buf, len) == -1)
		return -1;
	return 0;
}

/* Appends `s` percent-encoded (RFC 3986 unreserved kept) to `out`. */
static int
append_escaped(char *out, size_t outsz, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(out);

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~';

		if (outsz - n < (plain ? 2u : 4u))
			return -1;
		if (plain)
			out[n++] = (char)c;
		else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return 0;
}

static void list_done_cb(void *arg, const struct kc_result *res);

static void
start_list(struct refl *r)
{
	char path[KC_MAX_PATH + 1];

	kjson_free(r->kj);
	r->kj = kjson_new(KJSON_LIST, list_item_cb, r);
	snprintf(path, sizeof(path),
	    "/apis/apps/v1/namespaces/%s/deployments?limit=%d", r->namespace,
	    REFL_LIST_PAGE);
	if (r->list_first_page) {
		/* A consistent read ("most recent"), paged. */
		r->cont[0] = '\0';
		r->list_rv[0] = '\0';
		r->list_failed = 0;
		r->list_started_ms = clock_now_ms();
		cache_mark(r->cache);
	} else if (snprintf(path + strlen(path), sizeof(path) - strlen(path),
	               "&continue=") < 0 ||
	    append_escaped(path, sizeof(path), r->cont) == -1) {
		log_warnx("list: continue token too long");
		r->kj = NULL;
	}
	r->state = RS_LISTING;
	if (r->kj == NULL ||
	    (r->req = kc_start(r->kc, KC_LIST, path, NULL, NULL, 0, data_cb,
	         list_done_cb, r)) == NULL) {
		r->st.list_failures++;
		r->list_first_page = 1;
		schedule(r, REFL_BACKOFF_RELIST, 0);
	}
}

static void
list_failed(struct refl *r, const struct kc_result *res, const char *why)
{
	r->st.list_failures++;
	if (res->status == 410)
		r->st.expired++;
	log_kv(LOG_LEVEL_WARN, 0,
	    (struct log_kv[]){LOG_I("status", res->status),
	        LOG_S("reason",
	            res->status_obj != NULL ? res->status_obj->reason : "")},
	    2, "list failed: %s", why);
	/* A page failed: the next attempt is a whole new list. */
	r->list_first_page = 1;
	schedule(r, REFL_BACKOFF_RELIST, res->retry_after);
}

static void
list_done_cb(void *arg, const struct kc_result *res)
{
	struct refl *r = arg;
	const struct kjson_obj *top;
	size_t swept;

	r->req = NULL;
	if (res->transport_error) {
		list_failed(r, res, res->error);
		return;
	}
	if (res->status != 200) {
		list_failed(r, res,
		    res->status_obj != NULL ? res->status_obj->message
		                            : "API error");
		return;
	}
	if (res->aborted || kjson_finish(r->kj) == -1) {
		list_failed(
		    r, res, r->list_failed ? "cache full" : kjson_error(r->kj));
		return;
	}
	r->st.last_api_ok_ms = clock_now_ms();
	top = kjson_top(r->kj);
	if (top->rv[0] == '\0') {
		list_failed(r, res, "list without resourceVersion");
		return;
	}
	if (r->list_first_page)
		memcpy(r->list_rv, top->rv, sizeof(r->list_rv));
	if (top->cont[0] != '\0') {
		/* Every page shares the first page's snapshot. */
		memcpy(r->cont, top->cont, sizeof(r->cont));
		r->list_first_page = 0;
		start_list(r);
		return;
	}
	swept = cache_sweep(r->cache);
	r->list_first_page = 1;
	memcpy(r->last_rv, r->list_rv, sizeof(r->last_rv));
	r->st.synced = 1;
	r->st.lists++;
	r->st.last_event_ms = clock_now_ms();
	log_kv(LOG_LEVEL_INFO, 0,
	    (struct log_kv[]){LOG_U("deployments", cache_size(r->cache)),
	        LOG_U("removed", swept), LOG_S("rv", r->last_rv)},
	    3, "list complete");
	if (r->hooks.synced_cb != NULL)
		r->hooks.synced_cb(r->hooks.arg, r->list_started_ms);
	start_watch(r);
}

static int
watch_event_cb(void *arg, enum kjson_event ev, const struct kjson_obj *o)
{
	struct refl *r = arg;
	struct cache_deploy d;

	r->watch_events++;
	switch (ev) {
	case KJSON_EV_ADDED:
	case KJSON_EV_MODIFIED:
	case KJSON_EV_DELETED:
		if (!in_namespace(r, o)) {
			log_warnx("watch: object from another namespace "
			          "refused");
			return -1;
		}
		if (ev == KJSON_EV_DELETED)
			(void)cache_del(r->cache, o->name);
		else {
			to_cache(o, &d);
			if (cache_put(r->cache, &d) == -1) {
				log_warn("watch: cache refused %s", o->name);
				return -1;
			}
		}
		memcpy(r->last_rv, o->rv, sizeof(r->last_rv));
		r->st.events++;
		r->st.last_event_ms = clock_now_ms();
		if (r->hooks.applied_cb != NULL)
			r->hooks.applied_cb(r->hooks.arg, o->name, o->rv);
		return 0;
	case KJSON_EV_BOOKMARK:
		/* Only its resourceVersion means anything. */
		memcpy(r->last_rv, o->rv, sizeof(r->last_rv));
		r->st.bookmarks++;
		r->st.last_event_ms = clock_now_ms();
		return 0;
	case KJSON_EV_ERROR:
		r->error_event = o->code;
		memcpy(r->error_msg, o->message, sizeof(r->error_msg));
		return -1; /* the server ends the stream after it anyway */
	case KJSON_EV_NONE:
		break;
	}
	return -1;
}

static void watch_done_cb(void *arg, const struct kc_result *res);

static void
start_watch(struct refl *r)
{
	char path[KC_MAX_PATH + 1];

	kjson_free(r->kj);
	r->kj = kjson_new(KJSON_WATCH, watch_event_cb, r);
	/* Keys sorted, as client-go's url.Values.Encode() sends them. */
	snprintf(path, sizeof(path),
	    "/apis/apps/v1/namespaces/%s/deployments?allowWatchBookmarks=true"
	    "&resourceVersion=",
	    r->namespace);
	if (append_escaped(path, sizeof(path), r->last_rv) == -1) {
		kjson_free(r->kj);
		r->kj = NULL;
	} else
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "&timeoutSeconds=%u&watch=true",
		    refl_watch_timeout(arc4random()));
	r->watch_events = 0;
	r->error_event = 0;
	r->error_msg[0] = '\0';
	r->watch_started_ms = clock_now_ms();
	r->state = RS_WATCHING;
	r->st.watches++;
	if (r->kj == NULL ||
	    (r->req = kc_start(r->kc, KC_WATCH, path, NULL, NULL, 0, data_cb,
	         watch_done_cb, r)) == NULL)
		schedule(r, REFL_BACKOFF_RELIST, 0);
}

static void
watch_done_cb(void *arg, const struct kc_result *res)
{
	struct refl *r = arg;
	struct refl_outcome o;
	enum refl_action a;

	r->req = NULL;
	memset(&o, 0, sizeof(o));
	o.status = res->transport_error && res->status == 0 ? 0 : res->status;
	o.transport_error = res->transport_error;
	o.error_event = r->error_event;
	o.events = r->watch_events;
	o.lasted_ms = clock_now_ms() - r->watch_started_ms;
	if (res->status == 200 && r->error_event == 0 &&
	    (res->aborted || kjson_finish(r->kj) == -1)) {
		o.parse_error = 1;
		log_warnx("watch: bad stream: %s", kjson_error(r->kj));
	}
	if (res->status == 200)
		r->st.last_api_ok_ms = clock_now_ms();
	if (r->error_event == 410 || res->status == 410) {
		r->st.expired++;
		log_info(
		    "watch: resourceVersion %s expired; relisting", r->last_rv);
	} else if (r->error_event != 0)
		log_warnx(
		    "watch: ERROR event %d: %s", r->error_event, r->error_msg);
	else if (res->status != 200)
		log_kv(LOG_LEVEL_WARN, 0,
		    (struct log_kv[]){LOG_I("status", res->status)}, 1,
		    "watch failed: %s",
		    res->transport_error          ? res->error
		        : res->status_obj != NULL ? res->status_obj->message
		                                  : "API error");
	a = refl_after_watch(&o);
	schedule(r, a, res->retry_after);
}

struct refl *
refl_new(struct event_base *base, struct kc *kc, struct cache *cache,
    const char *namespace, const struct refl_hooks *hooks)
{
	struct refl *r;

	if (ps_valid_namespace(namespace, strlen(namespace)) != PS_OK) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->base = base;
	r->kc = kc;
	r->cache = cache;
	if (hooks != NULL)
		r->hooks = *hooks;
	snprintf(r->namespace, sizeof(r->namespace), "%s", namespace);
	r->list_first_page = 1;
	if ((r->timer = evtimer_new(base, timer_cb, r)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
refl_free(struct refl *r)
{
	if (r == NULL)
		return;
	kc_cancel(r->req);
	kjson_free(r->kj);
	event_free(r->timer);
	free(r);
}

int
refl_start(struct refl *r)
{
	if (r->state != RS_IDLE)
		return 0;
	start_list(r);
	return 0;
}

void
refl_get_status(const struct refl *r, struct refl_status *st)
{
	*st = r->st;
	st->watching = r->state == RS_WATCHING && r->req != NULL &&
	    kc_req_status(r->req) == 200;
}
