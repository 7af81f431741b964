/*
 * listwatch.c — the list+watch loop (see listwatch.h).
 *
 * States: IDLE (nothing yet, or a list the owner deferred), LISTING,
 * WATCHING, WAITING (the backoff timer is armed).  Apart from those, the
 * resync timer runs from each completed list; when it fires while the
 * loop watches, the watch is dropped and a list starts.  Requests are started
 * from kclient's done callbacks, the timer and the owner's calls, never
 * from inside a body callback (libcurl refuses that): a watch event only
 * records what it said, and the end of the answer acts on it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/kube/kclient.h"
#include "core/kube/listwatch.h"
#include "core/log.h"

enum lw_state { LS_IDLE, LS_LISTING, LS_WATCHING, LS_WAITING };

struct lw {
	struct kc *kc;
	struct lw_hooks hooks;
	char path[KC_MAX_PATH + 1];
	char selector[KC_MAX_PATH + 1];
	unsigned page_limit;
	char what[PS_MAX_NAMESPACE + PS_MAX_NAME + 16];
	enum lw_state state;
	enum lw_action pending; /* what the timer does when it fires */
	struct event *timer;
	struct event *resync_timer;
	uint64_t resync_ms;     /* period; 0: off */
	uint64_t resync_due_ms; /* when the armed resync fires; 0: none */
	struct kc_req *req;
	struct lw_backoff backoff;
	char last_rv[PS_MAX_RV + 1]; /* last RV seen: list, event, bookmark */
	char list_rv[PS_MAX_RV + 1]; /* RV of the list being read */
	char cont[KJSON_MAX_CONT + 1];
	int list_first_page;
	uint64_t list_started_ms;
	/* The watch in progress. */
	uint64_t watch_started_ms;
	uint64_t watch_events;
	int error_event; /* Status code of an ERROR event */
	char error_msg[KJSON_MAX_MESSAGE + 1];
	struct lw_stats st;
};

static void start_list(struct lw *lw);
static void start_watch(struct lw *lw);

/* For loops made after lw_set_default_resync(); off until then. */
static uint64_t default_resync_ms;

/* ------------------------------------------------------------ policy */

enum lw_action
lw_after_watch(const struct lw_outcome *o)
{
	if (o->error_event != 0)
		return LW_BACKOFF_RELIST; /* 410 Expired and all others */
	if (o->status == 0)
		return LW_BACKOFF_REWATCH; /* refused, reset, DNS, TLS */
	if (o->status == 429)
		return LW_BACKOFF_REWATCH; /* overloaded: same RV is fine */
	if (o->status != 200 || o->parse_error)
		return LW_BACKOFF_RELIST; /* 410, 401/403, 5xx, garbage */
	if (o->lasted_ms < LW_SHORT_WATCH_MS)
		/* client-go's "very short watch"; with events, not a relist
		 * but still a pause, so a server that closes at once cannot
		 * make us spin. */
		return o->events == 0 ? LW_BACKOFF_RELIST : LW_BACKOFF_REWATCH;
	return LW_REWATCH; /* timeout, EOF, broken stream */
}

uint64_t
lw_backoff_next(
    struct lw_backoff *b, uint64_t now, uint32_t rnd, unsigned retry_after_s)
{
	uint64_t delay, floor_ms = (uint64_t)retry_after_s * 1000u;

	if (b->base_ms == 0 || now - b->last_ms > LW_BACKOFF_RESET_MS)
		b->base_ms = LW_BACKOFF_INITIAL_MS;
	else {
		b->base_ms *= 2;
		if (b->base_ms > LW_BACKOFF_CAP_MS)
			b->base_ms = LW_BACKOFF_CAP_MS;
	}
	b->last_ms = now;
	/* Jitter 1.0: uniform in [base, 2 * base). */
	delay = b->base_ms + (b->base_ms * rnd >> 32);
	return delay > floor_ms ? delay : floor_ms;
}

unsigned
lw_watch_timeout(uint32_t rnd)
{
	return LW_WATCH_TIMEOUT_MIN_S +
	    (unsigned)(((uint64_t)LW_WATCH_TIMEOUT_MIN_S * rnd) >> 32);
}

uint64_t
lw_resync_delay(uint64_t period_ms, uint32_t rnd)
{
	uint64_t p = period_ms, span;

	if (p > (uint64_t)LW_RESYNC_MAX_S * 1000u)
		p = (uint64_t)LW_RESYNC_MAX_S * 1000u;
	/* [p - p*J, p + p*J): the span is 2*p*J; p is capped, so the
	 * product below stays far from 2^64. */
	span = p * 2u * LW_RESYNC_JITTER_PCT / 100u;
	return p - span / 2u + ((span * rnd) >> 32);
}

/* ------------------------------------------------------------- paths */

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

/* Appends printf output to `out`; -1 when it does not fit. */
static int __attribute__((format(printf, 3, 4)))
append(char *out, size_t outsz, const char *fmt, ...)
{
	size_t n = strlen(out);
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(out + n, outsz - n, fmt, ap);
	va_end(ap);
	return r < 0 || (size_t)r >= outsz - n ? -1 : 0;
}

/* A list page: ?fieldSelector=..&limit=N&continue=.. (present ones). */
static int
list_path(const struct lw *lw, char *out, size_t outsz)
{
	char sep = '?';

	out[0] = '\0';
	if (append(out, outsz, "%s", lw->path) != 0)
		return -1;
	if (lw->selector[0] != '\0') {
		if (append(out, outsz, "?fieldSelector=%s", lw->selector) != 0)
			return -1;
		sep = '&';
	}
	if (lw->page_limit != 0) {
		if (append(out, outsz, "%climit=%u", sep, lw->page_limit) != 0)
			return -1;
		sep = '&';
	}
	if (!lw->list_first_page &&
	    (append(out, outsz, "%ccontinue=", sep) != 0 ||
	        append_escaped(out, outsz, lw->cont) != 0))
		return -1;
	return 0;
}

/* A watch, keys sorted as client-go's url.Values.Encode() sends them. */
static int
watch_path(const struct lw *lw, char *out, size_t outsz)
{
	out[0] = '\0';
	if (append(out, outsz, "%s?allowWatchBookmarks=true", lw->path) != 0)
		return -1;
	if (lw->selector[0] != '\0' &&
	    append(out, outsz, "&fieldSelector=%s", lw->selector) != 0)
		return -1;
	if (append(out, outsz, "&resourceVersion=") != 0 ||
	    append_escaped(out, outsz, lw->last_rv) != 0)
		return -1;
	return append(out, outsz, "&timeoutSeconds=%u&watch=true",
	    lw_watch_timeout(arc4random()));
}

/* ----------------------------------------------------------- backoff */

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw *lw = arg;

	(void)fd;
	(void)what;
	if (lw->pending == LW_BACKOFF_RELIST)
		start_list(lw);
	else
		start_watch(lw);
}

static void
schedule(struct lw *lw, enum lw_action action, unsigned retry_after)
{
	uint64_t delay;
	struct timeval tv;

	if (action == LW_REWATCH) {
		lw->st.watch_restarts++;
		start_watch(lw);
		return;
	}
	if (action == LW_BACKOFF_REWATCH)
		lw->st.watch_restarts++;
	delay = lw_backoff_next(
	    &lw->backoff, clock_now_ms(), arc4random(), retry_after);
	lw->pending = action;
	lw->state = LS_WAITING;
	tv.tv_sec = (time_t)(delay / 1000u);
	tv.tv_usec = (suseconds_t)(delay % 1000u) * 1000;
	log_kv(LOG_LEVEL_INFO, 0, (struct log_kv[]){LOG_U("delay_ms", delay)},
	    1, "%s: %s after backoff", lw->what,
	    action == LW_BACKOFF_RELIST ? "relisting" : "re-watching");
	if (evtimer_add(lw->timer, &tv) == -1)
		log_warnx("%s: cannot arm the backoff timer", lw->what);
}

static const char *
hint(const struct lw *lw, long status)
{
	return lw->hooks.hint != NULL ? lw->hooks.hint(status) : "";
}

/* What a failed answer said, for a log line. */
static const char *
answer_error(const struct kc_result *res)
{
	return res->transport_error ? res->error
	    : res->status_obj != NULL && res->status_obj->message[0] != '\0'
	    ? res->status_obj->message
	    : "API error";
}

static int
data_cb(void *arg, const char *buf, size_t len)
{
	struct lw *lw = arg;

	return lw->hooks.feed(lw->hooks.arg, buf, len) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ resync */

/* Arms the resync from now: called at each completed list, so that a
 * relist for any reason (410, failure, the owner) postpones it. */
static void
arm_resync(struct lw *lw)
{
	uint64_t delay = lw_resync_delay(lw->resync_ms, arc4random());
	struct timeval tv;

	(void)evtimer_del(lw->resync_timer);
	lw->resync_due_ms = 0;
	if (delay == 0)
		return;
	tv.tv_sec = (time_t)(delay / 1000u);
	tv.tv_usec = (suseconds_t)(delay % 1000u) * 1000;
	if (evtimer_add(lw->resync_timer, &tv) == -1) {
		log_warnx("%s: cannot arm the resync timer", lw->what);
		return;
	}
	lw->resync_due_ms = clock_now_ms() + delay;
}

static void
resync_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw *lw = arg;

	(void)fd;
	(void)what;
	lw->resync_due_ms = 0;
	switch (lw->state) {
	case LS_IDLE:    /* the owner deferred a list; its lw_relist() lists */
	case LS_LISTING: /* a list already replaces; it re-arms us */
		return;
	case LS_WAITING:
		/* After the backoff, a list rather than a resumed watch. */
		if (lw->pending == LW_BACKOFF_RELIST)
			return;
		lw->pending = LW_BACKOFF_RELIST;
		break;
	case LS_WATCHING:
		/* The watch's done callback does not run after kc_cancel:
		 * nothing counts it as failed or schedules a backoff. */
		kc_cancel(lw->req);
		lw->req = NULL;
		break;
	}
	lw->st.resyncs++;
	log_info("%s: resync: relisting (resourceVersion was %s)", lw->what,
	    lw->last_rv);
	if (lw->state == LS_WATCHING) {
		lw->list_first_page = 1;
		start_list(lw);
	}
}

/* -------------------------------------------------------------- list */

static void list_done_cb(void *arg, const struct kc_result *res);

static void
list_failed(struct lw *lw, long status, const char *reason,
    unsigned retry_after, const char *why)
{
	lw->st.list_failures++;
	if (status == 410)
		lw->st.expired++;
	log_kv(lw->hooks.quiet != NULL && lw->hooks.quiet(lw->hooks.arg, status)
	        ? LOG_LEVEL_DEBUG
	        : LOG_LEVEL_WARN,
	    0,
	    (struct log_kv[]){LOG_I("status", status), LOG_S("reason", reason)},
	    2, "%s: list failed: %s%s", lw->what, why, hint(lw, status));
	/* A page failed: the next attempt is a whole new list. */
	lw->list_first_page = 1;
	schedule(lw, LW_BACKOFF_RELIST, retry_after);
	if (lw->hooks.list_failed != NULL)
		lw->hooks.list_failed(lw->hooks.arg, status, why);
}

static void
start_list(struct lw *lw)
{
	char path[KC_MAX_PATH + 1];
	enum lw_req kind = lw->list_first_page ? LW_LIST_FIRST : LW_LIST_NEXT;

	if (lw->hooks.may_list != NULL &&
	    lw->hooks.may_list(lw->hooks.arg) != 0) {
		lw->state = LS_IDLE; /* the owner calls lw_relist() */
		return;
	}
	if (lw->list_first_page) {
		/* A consistent read ("most recent"), paged. */
		lw->cont[0] = '\0';
		lw->list_rv[0] = '\0';
		lw->list_started_ms = clock_now_ms();
	}
	lw->state = LS_LISTING;
	if (list_path(lw, path, sizeof(path)) != 0) {
		list_failed(lw, 0, "", 0, "continue token too long");
		return;
	}
	if (lw->hooks.begin(lw->hooks.arg, kind) != 0 ||
	    (lw->req = kc_start(lw->kc, KC_LIST, path, NULL, NULL, 0, data_cb,
	         list_done_cb, lw)) == NULL)
		list_failed(lw, 0, "", 0, "cannot start the request");
}

static void
list_done_cb(void *arg, const struct kc_result *res)
{
	struct lw *lw = arg;
	enum lw_req kind = lw->list_first_page ? LW_LIST_FIRST : LW_LIST_NEXT;
	struct lw_page page;
	const char *why = "invalid answer";

	lw->req = NULL;
	if (res->transport_error || res->status != 200) {
		list_failed(lw, res->status,
		    res->status_obj != NULL ? res->status_obj->reason : "",
		    res->retry_after, answer_error(res));
		return;
	}
	memset(&page, 0, sizeof(page));
	if (lw->hooks.finish(lw->hooks.arg, kind, res->aborted, &page, &why) !=
	    0) {
		list_failed(lw, res->status, "", res->retry_after, why);
		return;
	}
	lw->st.last_api_ok_ms = clock_now_ms();
	if (page.rv[0] == '\0') {
		list_failed(lw, res->status, "", res->retry_after,
		    "list without resourceVersion");
		return;
	}
	if (lw->list_first_page)
		memcpy(lw->list_rv, page.rv, sizeof(lw->list_rv));
	if (page.cont[0] != '\0') {
		/* Every page shares the first page's snapshot. */
		memcpy(lw->cont, page.cont, sizeof(lw->cont));
		lw->list_first_page = 0;
		start_list(lw);
		return;
	}
	lw->list_first_page = 1;
	memcpy(lw->last_rv, lw->list_rv, sizeof(lw->last_rv));
	lw->st.lists++;
	lw->st.last_event_ms = clock_now_ms();
	arm_resync(lw);
	/* The watch first, then the owner: whatever the owner starts from
	 * its hook (a write, even lw_relist()) finds the loop watching. */
	start_watch(lw);
	lw->hooks.listed(lw->hooks.arg, lw->list_rv, lw->list_started_ms);
}

/* ------------------------------------------------------------- watch */

static void watch_done_cb(void *arg, const struct kc_result *res);

static void
start_watch(struct lw *lw)
{
	char path[KC_MAX_PATH + 1];

	lw->watch_events = 0;
	lw->error_event = 0;
	lw->error_msg[0] = '\0';
	lw->watch_started_ms = clock_now_ms();
	lw->state = LS_WATCHING;
	lw->st.watches++;
	if (watch_path(lw, path, sizeof(path)) != 0 ||
	    lw->hooks.begin(lw->hooks.arg, LW_WATCH) != 0 ||
	    (lw->req = kc_start(lw->kc, KC_WATCH, path, NULL, NULL, 0, data_cb,
	         watch_done_cb, lw)) == NULL)
		schedule(lw, LW_BACKOFF_RELIST, 0);
}

static void
watch_done_cb(void *arg, const struct kc_result *res)
{
	struct lw *lw = arg;
	struct lw_outcome o;
	const char *why = "invalid stream";

	lw->req = NULL;
	memset(&o, 0, sizeof(o));
	o.status = res->transport_error && res->status == 0 ? 0 : res->status;
	o.transport_error = res->transport_error;
	o.error_event = lw->error_event;
	o.events = lw->watch_events;
	o.lasted_ms = clock_now_ms() - lw->watch_started_ms;
	if (res->status == 200 && lw->error_event == 0 &&
	    lw->hooks.finish(
	        lw->hooks.arg, LW_WATCH, res->aborted, NULL, &why) != 0) {
		o.parse_error = 1;
		log_warnx("%s: watch: bad stream: %s", lw->what, why);
	}
	if (res->status == 200)
		lw->st.last_api_ok_ms = clock_now_ms();
	if (lw->error_event == 410 || res->status == 410) {
		lw->st.expired++;
		log_info("%s: watch: resourceVersion %s expired; relisting",
		    lw->what, lw->last_rv);
	} else if (lw->error_event != 0)
		log_warnx("%s: watch: ERROR event %d: %s", lw->what,
		    lw->error_event, lw->error_msg);
	else if (res->status != 200)
		log_kv(LOG_LEVEL_WARN, 0,
		    (struct log_kv[]){LOG_I("status", res->status)}, 1,
		    "%s: watch failed: %s%s", lw->what, answer_error(res),
		    hint(lw, res->status));
	schedule(lw, lw_after_watch(&o), res->retry_after);
}

void
lw_event(struct lw *lw, const char *rv, int bookmark)
{
	lw->watch_events++;
	snprintf(lw->last_rv, sizeof(lw->last_rv), "%s", rv);
	if (bookmark)
		lw->st.bookmarks++;
	else
		lw->st.events++;
	lw->st.last_event_ms = clock_now_ms();
}

void
lw_error_event(struct lw *lw, int code, const char *message)
{
	lw->watch_events++;
	lw->error_event = code;
	snprintf(lw->error_msg, sizeof(lw->error_msg), "%s", message);
}

/* ------------------------------------------------------------ object */

struct lw *
lw_new(struct event_base *base, struct kc *kc, const struct lw_target *t,
    const struct lw_hooks *hooks)
{
	struct lw *lw;

	if (hooks->begin == NULL || hooks->feed == NULL ||
	    hooks->finish == NULL || hooks->listed == NULL ||
	    strlen(t->path) >= sizeof(lw->path) ||
	    strlen(t->field_selector) >= sizeof(lw->selector)) {
		errno = EINVAL;
		return NULL;
	}
	if ((lw = calloc(1, sizeof(*lw))) == NULL)
		return NULL;
	lw->kc = kc;
	lw->hooks = *hooks;
	memcpy(lw->path, t->path, strlen(t->path) + 1);
	memcpy(lw->selector, t->field_selector, strlen(t->field_selector) + 1);
	lw->page_limit = t->page_limit;
	snprintf(lw->what, sizeof(lw->what), "%s", t->what);
	lw->list_first_page = 1;
	lw->resync_ms = default_resync_ms;
	if ((lw->timer = evtimer_new(base, timer_cb, lw)) == NULL)
		goto fail;
	if ((lw->resync_timer = evtimer_new(base, resync_cb, lw)) == NULL)
		goto fail;
	return lw;
fail:
	if (lw->timer != NULL)
		event_free(lw->timer);
	free(lw);
	return NULL;
}

void
lw_free(struct lw *lw)
{
	if (lw == NULL)
		return;
	kc_cancel(lw->req);
	event_free(lw->timer);
	event_free(lw->resync_timer);
	free(lw);
}

void
lw_start(struct lw *lw)
{
	if (lw->state == LS_IDLE)
		start_list(lw);
}

void
lw_relist(struct lw *lw)
{
	if (lw->state == LS_LISTING)
		return;
	kc_cancel(lw->req);
	lw->req = NULL;
	(void)evtimer_del(lw->timer);
	lw->list_first_page = 1;
	start_list(lw);
}

int
lw_listing(const struct lw *lw)
{
	return lw->state == LS_LISTING;
}

const char *
lw_last_rv(const struct lw *lw)
{
	return lw->last_rv;
}

void
lw_get_stats(const struct lw *lw, struct lw_stats *st)
{
	*st = lw->st;
	st->resync_due_ms = lw->resync_due_ms;
	st->watching = lw->state == LS_WATCHING && lw->req != NULL &&
	    kc_req_status(lw->req) == 200;
}

void
lw_set_default_resync(uint64_t period_ms)
{
	default_resync_ms = period_ms;
}

void
lw_set_resync(struct lw *lw, uint64_t period_ms)
{
	lw->resync_ms = period_ms;
	if (period_ms == 0) {
		(void)evtimer_del(lw->resync_timer);
		lw->resync_due_ms = 0;
	}
}
