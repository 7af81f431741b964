/*
 * test_pins_cm.c — the pins store over a ConfigMap, with the API played
 * by a link-time fake of kclient (tests/fakes/fake_kclient.c): the pure
 * read-modify-write policy (decide, after_write, map_status) as tables,
 * then the state machine step by step — first load, writes (POST, PUT
 * with the resourceVersion, 409 → GET → re-apply, giving up), failures
 * that change nothing, foreign changes and deletes from the watch, an
 * invalid document (kept pins, refused writes), a watch event that beats
 * the write's answer, events older than this core's write skipped, a
 * change whose requester left, the 1 MiB bound, and shutdown with a
 * change in flight.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/core_limits.h"
#include "core/log.h"
#include "core/pins/pin_set.h"
#include "core/pins/pins.h"
#include "core/pins/pins_cm.h"
#include "tests/fakes/fake_kclient.h"

/* ------------------------------------------------------ pure policy */

/** What a change does next, for every pin_set_apply() result, base
 *  fresh or from memory, valid or not. */
static void
test_pins_cm_decide(void **state)
{
	(void)state;
	/* Something to write: write, whatever the base. */
	assert_int_equal(pins_cm_decide(PIN_SET_CHANGED, 0, 0), PINS_CM_WRITE);
	assert_int_equal(pins_cm_decide(PIN_SET_CHANGED, 1, 0), PINS_CM_WRITE);
	/* Nothing to do by memory: confirm with a GET first. */
	assert_int_equal(pins_cm_decide(PIN_SET_SAME, 0, 0), PINS_CM_REREAD);
	assert_int_equal(pins_cm_decide(PIN_SET_NO_PIN, 0, 0), PINS_CM_REREAD);
	assert_int_equal(pins_cm_decide(PIN_SET_SAME, 1, 0), PINS_CM_ANSWER);
	assert_int_equal(pins_cm_decide(PIN_SET_NO_PIN, 1, 0), PINS_CM_ANSWER);
	/* Refusals need no API. */
	assert_int_equal(pins_cm_decide(PIN_SET_REFUSED, 0, 0), PINS_CM_ANSWER);
	assert_int_equal(pins_cm_decide(PIN_SET_NOMEM, 0, 0), PINS_CM_ANSWER);
	/* An invalid document: re-read it; if it still is, refuse. */
	assert_int_equal(pins_cm_decide(PIN_SET_CHANGED, 0, 1), PINS_CM_REREAD);
	assert_int_equal(
	    pins_cm_decide(PIN_SET_CHANGED, 1, 1), PINS_CM_FAIL_INVALID);
	assert_int_equal(
	    pins_cm_decide(PIN_SET_REFUSED, 1, 1), PINS_CM_FAIL_INVALID);
}

/** 2xx is done; 409 and 404 retry until PINS_CM_MAX_ATTEMPTS writes;
 *  everything else fails. */
static void
test_pins_cm_after_write(void **state)
{
	(void)state;
	assert_int_equal(pins_cm_after_write(200, 0, 1), PINS_CM_DONE);
	assert_int_equal(pins_cm_after_write(201, 0, 1), PINS_CM_DONE);
	assert_int_equal(pins_cm_after_write(409, 0, 1), PINS_CM_RETRY);
	assert_int_equal(pins_cm_after_write(404, 0, 1), PINS_CM_RETRY);
	assert_int_equal(pins_cm_after_write(409, 0, PINS_CM_MAX_ATTEMPTS - 1),
	    PINS_CM_RETRY);
	assert_int_equal(
	    pins_cm_after_write(409, 0, PINS_CM_MAX_ATTEMPTS), PINS_CM_GIVE_UP);
	assert_int_equal(pins_cm_after_write(404, 0, 1000), PINS_CM_GIVE_UP);
	assert_int_equal(pins_cm_after_write(0, 1, 1), PINS_CM_FAILED);
	assert_int_equal(pins_cm_after_write(409, 1, 1), PINS_CM_FAILED);
	assert_int_equal(pins_cm_after_write(422, 0, 1), PINS_CM_FAILED);
	assert_int_equal(pins_cm_after_write(503, 0, 1), PINS_CM_FAILED);
	assert_int_equal(pins_cm_after_write(302, 0, 1), PINS_CM_FAILED);
}

/** The pause after a conflict: jittered in [d/2, d), d doubling from
 *  the base to the cap, also for huge counts. */
static void
test_pins_cm_retry_delay(void **state)
{
	(void)state;
	assert_int_equal(
	    pins_cm_retry_delay_ms(1, 0), PINS_CM_RETRY_BASE_MS / 2);
	assert_true(
	    pins_cm_retry_delay_ms(1, UINT32_MAX) < PINS_CM_RETRY_BASE_MS);
	assert_int_equal(pins_cm_retry_delay_ms(2, 0), PINS_CM_RETRY_BASE_MS);
	assert_int_equal(
	    pins_cm_retry_delay_ms(3, 0), 2 * PINS_CM_RETRY_BASE_MS);
	assert_int_equal(
	    pins_cm_retry_delay_ms(40, 0), PINS_CM_RETRY_CAP_MS / 2);
	assert_true(pins_cm_retry_delay_ms(4000000000u, UINT32_MAX) <
	    PINS_CM_RETRY_CAP_MS);
	for (unsigned n = 1; n < 20; n++)
		assert_true(pins_cm_retry_delay_ms(n + 1, 0) >=
		    pins_cm_retry_delay_ms(n, 0));
}

/** API failures map as scale.c's writes do. */
static void
test_pins_cm_map_status(void **state)
{
	static const struct {
		long status;
		int transport, timed_out;
		uint16_t code;
	} t[] = {
	    {0, 1, 0, PS_E_UNAVAILABLE},
	    {0, 1, 1, PS_E_TIMEOUT},
	    {400, 0, 0, PS_E_INVALID},
	    {413, 0, 0, PS_E_INVALID},
	    {422, 0, 0, PS_E_INVALID},
	    {401, 0, 0, PS_E_FORBIDDEN},
	    {403, 0, 0, PS_E_FORBIDDEN},
	    {404, 0, 0, PS_E_NOT_FOUND},
	    {409, 0, 0, PS_E_CONFLICT},
	    {429, 0, 0, PS_E_UNAVAILABLE},
	    {500, 0, 0, PS_E_UNAVAILABLE},
	    {502, 0, 0, PS_E_UNAVAILABLE},
	    {503, 0, 0, PS_E_UNAVAILABLE},
	    {504, 0, 0, PS_E_TIMEOUT},
	    {418, 0, 0, PS_E_API},
	    {302, 0, 0, PS_E_API},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(pins_cm_map_status(t[i].status, t[i].transport,
		                     t[i].timed_out),
		    t[i].code);
}

/* ---------------------------------------------------- state machine */

#define NS   "shop"
#define NS2  "blog" /* also served (the ConfigMap lives in NS) */
#define NAME "pins"

struct outcome {
	int called;
	struct pins_result res;
};

struct fx {
	struct event_base *base;
	struct pins *p;
	char changed[16][64];
	size_t n_changed;
};

static void
done_cb(void *arg, const struct pins_result *res)
{
	struct outcome *o = arg;

	o->called++;
	o->res = *res;
}

static void
changed_cb(void *arg, const char *ns, const char *name)
{
	struct fx *f = arg;

	/* NS's pins by name, the others' as ns/name. */
	if (f->n_changed < 16)
		snprintf(f->changed[f->n_changed], sizeof(f->changed[0]),
		    "%s%s%s", strcmp(ns, NS) != 0 ? ns : "",
		    strcmp(ns, NS) != 0 ? "/" : "", name);
	f->n_changed++;
}

static const char *const served[] = {NS, NS2};
static const struct pin_set_cfg scfg = {served, 2, 100, SIZE_MAX, SIZE_MAX};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pins_hooks hooks;
	char err[256];

	if (f == NULL || (f->base = event_base_new()) == NULL)
		return -1;
	hooks.changed_cb = changed_cb;
	hooks.arg = f;
	f->p = pins_open_configmap(
	    f->base, NULL, NS, NAME, served, 2, 100, &hooks, err, sizeof(err));
	if (f->p == NULL || pins_start(f->p) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	pins_free(f->p);
	fake_kc_reset();
	event_base_free(f->base);
	free(f);
	return 0;
}

/* JSON string contents of `s` (quotes, backslashes, newlines). */
static const char *
esc(const char *s)
{
	static char buf[4][4096];
	static int which;
	char *o = buf[which++ % 4];
	size_t n = 0;

	for (; *s != '\0' && n < sizeof(buf[0]) - 3; s++) {
		if (*s == '"' || *s == '\\')
			o[n++] = '\\';
		if (*s == '\n') {
			o[n++] = '\\';
			o[n++] = 'n';
			continue;
		}
		o[n++] = *s;
	}
	o[n] = '\0';
	return o;
}

/* The ConfigMap at `rv` holding `doc` (NULL: no data). */
static const char *
cm(const char *rv, const char *doc)
{
	static char buf[4][8192];
	static int which;
	char *o = buf[which++ % 4];

	if (doc == NULL)
		snprintf(o, sizeof(buf[0]),
		    "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\","
		    "\"metadata\":{\"name\":\"" NAME "\",\"namespace\":\"" NS
		    "\",\"resourceVersion\":\"%s\"}}",
		    rv);
	else
		snprintf(o, sizeof(buf[0]),
		    "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\","
		    "\"metadata\":{\"name\":\"" NAME "\",\"namespace\":\"" NS
		    "\",\"resourceVersion\":\"%s\",\"labels\":{"
		    "\"app.kubernetes.io/managed-by\":\"replicad\"}},"
		    "\"data\":{\"pins.json\":\"%s\"}}",
		    rv, esc(doc));
	return o;
}

static const char *
pins_doc(const char *entries)
{
	static char buf[4][2048];
	static int which;
	char *o = buf[which++ % 4];

	snprintf(o, sizeof(buf[0]), "[%s]", entries);
	return o;
}

#define PIN(n, r) \
	"{\"name\":\"" n "\",\"namespace\":\"" NS "\",\"replicas\":" #r "}"

/* Answers the pending LIST with `item` (NULL: no ConfigMap) at `rv`. */
static void
answer_list(const char *rv, const char *item)
{
	struct kc_req *r = fake_kc_next(KC_LIST);
	char body[8192];

	assert_non_null(r);
	assert_string_equal(fake_kc_path(r),
	    "/api/v1/namespaces/" NS "/configmaps?fieldSelector=metadata.name"
	    "%3D" NAME);
	snprintf(body, sizeof(body),
	    "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":"
	    "{\"resourceVersion\":\"%s\"},\"items\":[%s]}",
	    rv, item != NULL ? item : "");
	fake_kc_answer(r, 200, body);
}

/* One watch event on the open watch; data_cb's verdict. */
static int
event(const char *type, const char *obj)
{
	struct kc_req *r = fake_kc_next(KC_WATCH);
	char line[8192];

	assert_non_null(r);
	snprintf(
	    line, sizeof(line), "{\"type\":\"%s\",\"object\":%s}\n", type, obj);
	return fake_kc_feed(r, line);
}

static uint32_t
pin_of(struct fx *f, const char *name)
{
	uint32_t n;

	if (pins_get(f->p, NS, name, &n) != 0)
		return 999;
	return n;
}

/* The request of `verb` that a conflict's pause will start: runs the
 * loop (at most ~2 s) until it is there. */
static struct kc_req *
after_pause(struct fx *f, enum kc_verb verb)
{
	struct timeval tv = {0, 20000};

	for (int i = 0; i < 100 && fake_kc_next(verb) == NULL; i++) {
		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
	return fake_kc_next(verb);
}

/* Loaded with `doc` at rv `rv` (NULL doc: no ConfigMap). */
static void
load(struct fx *f, const char *rv, const char *doc)
{
	answer_list(rv, doc != NULL ? cm(rv, doc) : NULL);
	assert_int_equal(pins_loaded(f->p), 1);
	assert_non_null(fake_kc_next(KC_WATCH));
	f->n_changed = 0;
}

static void
put(struct fx *f, const char *name, uint32_t n, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	(void)pins_put(f->p, NS, name, n, 0, "alice", 10001, done_cb, o);
}

/** Before the first list answers, pins are not loaded and changes are
 *  refused UNAVAILABLE with a reason; after a failed list too, saying
 *  what failed and which permission it needs. */
static void
test_pins_cm_not_loaded(void **state)
{
	struct fx *f = *state;
	struct outcome o;
	struct kc_req *r;

	assert_int_equal(pins_loaded(f->p), 0);
	assert_int_equal(pins_count(f->p), 0);
	put(f, "a", 1, &o);
	assert_int_equal(o.called, 1);
	assert_int_equal(o.res.code, PS_E_UNAVAILABLE);
	assert_int_equal(o.res.retry_after, CORE_RETRY_PINS_NOT_LOADED);
	assert_non_null(strstr(o.res.message, "pins not loaded yet"));
	r = fake_kc_next(KC_LIST);
	assert_non_null(r);
	fake_kc_answer(r, 403,
	    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
	    "\"status\":\"Failure\",\"message\":\"configmaps is forbidden\","
	    "\"reason\":\"Forbidden\",\"code\":403}");
	assert_int_equal(pins_loaded(f->p), 0);
	assert_non_null(strstr(pins_not_loaded(f->p),
	    "configmaps is forbidden (the core's Role needs get, list, watch, "
	    "create and update on configmaps)"));
	assert_null(fake_kc_next(KC_WATCH)); /* a relist after backoff */
	assert_int_equal(fake_kc_pending(), 0);
}

/** No ConfigMap: no pins; the first pin creates it with a POST that
 *  carries the label and no resourceVersion; the answer is memory at
 *  once (hook called) and the watch's echo of it changes nothing. */
static void
test_pins_cm_create(void **state)
{
	struct fx *f = *state;
	struct outcome o;
	struct kc_req *r;
	struct pins_stats st;

	load(f, "5", NULL);
	{
		static const char want[] =
		    "/api/v1/namespaces/" NS "/configmaps?allowWatchBookmarks="
		    "true&fieldSelector=metadata.name%3D" NAME
		    "&resourceVersion=5&timeoutSeconds=";
		const char *path = fake_kc_path(fake_kc_next(KC_WATCH));

		assert_int_equal(strncmp(path, want, sizeof(want) - 1), 0);
		assert_non_null(strstr(path, "&watch=true"));
	}
	put(f, "a", 3, &o);
	assert_int_equal(o.called, 0);
	r = fake_kc_next(KC_POST);
	assert_non_null(r);
	assert_string_equal(fake_kc_path(r),
	    "/api/v1/namespaces/" NS "/configmaps?fieldManager=replicad");
	assert_string_equal(fake_kc_ctype(r), "application/json");
	assert_null(strstr(fake_kc_body(r), "resourceVersion"));
	assert_non_null(strstr(fake_kc_body(r),
	    "\"labels\":{\"app.kubernetes.io/managed-by\":\"replicad\"}"));
	assert_non_null(strstr(fake_kc_body(r), "\\\"replicas\\\": 3"));
	fake_kc_answer(r, 201, cm("6", pins_doc(PIN("a", 3))));
	assert_int_equal(o.called, 1);
	assert_int_equal(o.res.rc, 0);
	assert_int_equal(o.res.had, 0);
	assert_int_equal(o.res.replicas, 3);
	assert_string_equal(o.res.name, "a");
	assert_int_equal(pin_of(f, "a"), 3);
	assert_int_equal(f->n_changed, 1);
	assert_int_equal(event("ADDED", cm("6", pins_doc(PIN("a", 3)))), 0);
	assert_int_equal(f->n_changed, 1);
	assert_int_equal(fake_kc_pending(), 1); /* the watch */
	pins_get_stats(f->p, &st);
	assert_int_equal(st.loaded, 1);
	assert_int_equal(st.conflicts, 0);
}

/** A stale resourceVersion: 409 → GET → the change re-applied to what
 *  the GET showed (another replica's pin kept) → PUT with the new RV. */
static void
test_pins_cm_conflict_retry(void **state)
{
	struct fx *f = *state;
	struct outcome o;
	struct kc_req *r;
	struct pins_stats st;

	load(f, "5", pins_doc(PIN("a", 1)));
	assert_int_equal(pin_of(f, "a"), 1);
	put(f, "b", 2, &o);
	r = fake_kc_next(KC_PUT);
	assert_non_null(r);
	assert_string_equal(fake_kc_path(r),
	    "/api/v1/namespaces/" NS "/configmaps/" NAME
	    "?fieldManager=replicad");
	assert_non_null(strstr(fake_kc_body(r), "\"resourceVersion\":\"5\""));
	fake_kc_answer(r, 409,
	    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
	    "\"status\":\"Failure\",\"message\":\"Operation cannot be "
	    "fulfilled\",\"reason\":\"Conflict\",\"code\":409}");
	assert_int_equal(o.called, 0);
	assert_null(fake_kc_next(KC_GET)); /* after a pause */
	r = after_pause(f, KC_GET);
	assert_non_null(r);
	assert_string_equal(
	    fake_kc_path(r), "/api/v1/namespaces/" NS "/configmaps/" NAME);
	fake_kc_answer(r, 200, cm("7", pins_doc(PIN("a", 1) "," PIN("c", 3))));
	r = fake_kc_next(KC_PUT);
	assert_non_null(r);
	assert_non_null(strstr(fake_kc_body(r), "\"resourceVersion\":\"7\""));
	assert_non_null(strstr(fake_kc_body(r), "\\\"name\\\": \\\"c\\\""));
	assert_non_null(strstr(fake_kc_body(r), "\\\"name\\\": \\\"b\\\""));
	fake_kc_answer(r, 200,
	    cm("8", pins_doc(PIN("a", 1) "," PIN("b", 2) "," PIN("c", 3))));
	assert_int_equal(o.called, 1);
	assert_int_equal(o.res.rc, 0);
	assert_int_equal(pin_of(f, "b"), 2);
	assert_int_equal(pin_of(f, "c"), 3);
	assert_int_equal(f->n_changed, 2); /* b and c */
	pins_get_stats(f->p, &st);
	assert_int_equal(st.conflicts, 1);

	/* The watch now brings rv 7 (older than the write): skipped; then
	 * 8, the write itself; then someone else's change: applied. */
	assert_int_equal(
	    event("MODIFIED", cm("7", pins_doc(PIN("a", 1) "," PIN("c", 3)))),
	    0);
	assert_int_equal(pin_of(f, "b"), 2);
	assert_int_equal(
	    event("MODIFIED",
	        cm("8", pins_doc(PIN("a", 1) "," PIN("b", 2) "," PIN("c", 3)))),
	    0);
	assert_int_equal(f->n_changed, 2);
	assert_int_equal(event("MODIFIED", cm("9", pins_doc(PIN("a", 4)))), 0);
	assert_int_equal(pin_of(f, "a"), 4);
	assert_int_equal(pin_of(f, "b"), 999);
	assert_int_equal(f->n_changed, 5); /* a, b, c */
}

static const char conflict[] =
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
    "\"Failure\",\"message\":\"conflict\",\"reason\":\"Conflict\",\"code\":"
    "409}";

/** After PINS_CM_MAX_ATTEMPTS conflicting writes: CONFLICT, nothing
 *  changed; a 404 on PUT (deleted meanwhile) re-reads and POSTs. */
static void
test_pins_cm_conflict_give_up(void **state)
{
	struct fx *f = *state;
	struct outcome o;
	struct kc_req *r;
	char rv[16];

	load(f, "5", pins_doc(PIN("a", 1)));
	put(f, "b", 2, &o);
	for (int i = 0; i < PINS_CM_MAX_ATTEMPTS; i++) {
		r = fake_kc_next(KC_PUT);
		assert_non_null(r);
		fake_kc_answer(r, 409, conflict);
		if (i + 1 == PINS_CM_MAX_ATTEMPTS)
			break;
		snprintf(rv, sizeof(rv), "%d", 10 + i);
		fake_kc_answer(
		    after_pause(f, KC_GET), 200, cm(rv, pins_doc(PIN("a", 1))));
	}
	assert_int_equal(o.called, 1);
	assert_int_equal(o.res.code, PS_E_CONFLICT);
	assert_non_null(strstr(o.res.message, "kept changing"));
	assert_int_equal(pin_of(f, "b"), 999);
	assert_int_equal(f->n_changed, 0);
	assert_int_equal(fake_kc_pending(), 1); /* the watch only */

	/* Deleted between read and write: 404, GET 404, POST. */
	put(f, "b", 2, &o);
	fake_kc_answer(fake_kc_next(KC_PUT), 404, NULL);
	fake_kc_answer(after_pause(f, KC_GET), 404, NULL);
	r = fake_kc_next(KC_POST);
	assert_non_null(r);
	fake_kc_answer(r, 201, cm("30", pins_doc(PIN("b", 2))));
	assert_int_equal(o.res.rc, 0);
	assert_int_equal(o.res.had, 0);
	assert_int_equal(pin_of(f, "a"), 999);
	assert_int_equal(pin_of(f, "b"), 2);
}

/** A failed write changes nothing: 503 → UNAVAILABLE with Retry-After,
 *  a dropped connection → UNAVAILABLE, 403 → FORBIDDEN naming the Role's
 *  missing permissions, 422 → INVALID; all audited as failed. */
static void
test_pins_cm_failures_change_nothing(void **state)
{
	struct fx *f = *state;
	struct outcome o;
	struct fake_kc_answer a;
	struct pins_stats st;

	load(f, "5", pins_doc(PIN("a", 1)));
	put(f, "a", 2, &o);
	memset(&a, 0, sizeof(a));
	a.status = 503;
	a.retry_after = 7;
	fake_kc_end(fake_kc_next(KC_PUT), &a);
	assert_int_equal(o.res.code, PS_E_UNAVAILABLE);
	assert_int_equal(o.res.retry_after, 7);
	assert_non_null(strstr(o.res.message, "pin not stored: "));

	put(f, "a", 2, &o);
	memset(&a, 0, sizeof(a));
	a.transport_error = 1;
	fake_kc_end(fake_kc_next(KC_PUT), &a);
	assert_int_equal(o.res.code, PS_E_UNAVAILABLE);
	assert_int_equal(o.res.retry_after, CORE_RETRY_API_DOWN);

	put(f, "a", 2, &o);
	fake_kc_answer(fake_kc_next(KC_PUT), 403,
	    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
	    "\"status\":\"Failure\",\"message\":\"configmaps \\\"pins\\\" is "
	    "forbidden\",\"reason\":\"Forbidden\",\"code\":403}");
	assert_int_equal(o.res.code, PS_E_FORBIDDEN);
	assert_non_null(
	    strstr(o.res.message, "configmaps \"pins\" is forbidden"));
	assert_non_null(strstr(o.res.message, "Role needs"));

	put(f, "a", 2, &o);
	fake_kc_answer(fake_kc_next(KC_PUT), 422, NULL);
	assert_int_equal(o.res.code, PS_E_INVALID);
	assert_non_null(strstr(o.res.message, "unexpected answer (HTTP 422)"));

	/* A GET that fails fails the change too. */
	memset(&o, 0, sizeof(o));
	(void)pins_delete(f->p, NS, "zzz", "bob", 10001, done_cb, &o);
	fake_kc_answer(fake_kc_next(KC_GET), 500, NULL);
	assert_int_equal(o.res.code, PS_E_UNAVAILABLE);

	/* Cannot even start a request. */
	put(f, "a", 2, &o);
	fake_kc_answer(fake_kc_next(KC_PUT), 409, conflict);
	fake_kc_fail_next_start();
	{
		struct timeval tv = {0, 400000};

		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
	assert_int_equal(o.res.code, PS_E_INTERNAL);

	assert_int_equal(pin_of(f, "a"), 1);
	assert_int_equal(f->n_changed, 0);
	pins_get_stats(f->p, &st);
	assert_int_equal(st.store_failures, 6);
	assert_int_equal(fake_kc_pending(), 1);
}

/** What memory says is already so is confirmed with a GET: a lagging
 *  watch cannot make a pin or an unpin get lost. */
static void
test_pins_cm_noop_confirmed(void **state)
{
	struct fx *f = *state;
	struct outcome o;
	struct kc_req *r;
	unsigned long started;

	load(f, "5", pins_doc(PIN("a", 1)));
	/* Memory and the API agree: answered after the GET, no write. */
	put(f, "a", 1, &o);
	assert_int_equal(o.called, 0);
	fake_kc_answer(
	    fake_kc_next(KC_GET), 200, cm("5", pins_doc(PIN("a", 1))));
	assert_int_equal(o.called, 1);
	assert_int_equal(o.res.rc, 0);
	assert_int_equal(o.res.had, 1);
	assert_int_equal(o.res.old, 1);
	assert_null(fake_kc_next(KC_PUT));
	/* Someone removed it meanwhile: written again. */
	put(f, "a", 1, &o);
	fake_kc_answer(fake_kc_next(KC_GET), 200, cm("6", pins_doc("")));
	r = fake_kc_next(KC_PUT);
	assert_non_null(r);
	assert_non_null(strstr(fake_kc_body(r), "\"resourceVersion\":\"6\""));
	fake_kc_answer(r, 200, cm("7", pins_doc(PIN("a", 1))));
	assert_int_equal(o.res.rc, 0);
	assert_int_equal(o.res.had, 0);
	/* Unpin of what memory does not know: the API has it: removed. */
	memset(&o, 0, sizeof(o));
	(void)pins_delete(f->p, NS, "z", "bob", 10001, done_cb, &o);
	fake_kc_answer(fake_kc_next(KC_GET), 200,
	    cm("8", pins_doc(PIN("a", 1) "," PIN("z", 4))));
	r = fake_kc_next(KC_PUT);
	assert_non_null(r);
	fake_kc_answer(r, 200, cm("9", pins_doc(PIN("a", 1))));
	assert_int_equal(o.res.rc, 0);
	assert_int_equal(o.res.old, 4);
	assert_int_equal(o.res.replicas, 4);
	/* ...and when the API has none either: NOT_FOUND. */
	memset(&o, 0, sizeof(o));
	started = fake_kc_started();
	(void)pins_delete(f->p, NS, "z", "bob", 10001, done_cb, &o);
	fake_kc_answer(
	    fake_kc_next(KC_GET), 200, cm("9", pins_doc(PIN("a", 1))));
	assert_int_equal(o.res.rc, PINS_NO_PIN);
	assert_int_equal(o.res.code, PS_E_NOT_FOUND);
	assert_string_equal(
	    o.res.message, "deployment \"z\" has no pin in namespace \"shop\"");
	assert_int_equal(fake_kc_started(), started + 1);
	/* Refused input needs no request at all. */
	put(f, "a", 101, &o);
	assert_int_equal(o.res.rc, PINS_REFUSED);
	assert_int_equal(o.res.code, PS_E_INVALID);
	assert_int_equal(fake_kc_started(), started + 1);
}

/** Foreign changes and deletes from the watch are applied and reported
 *  per name; an invalid document is logged and the last good pins stay;
 *  a change then refuses to overwrite it until it is fixed. */
static void
test_pins_cm_watch_foreign_and_invalid(void **state)
{
	struct fx *f = *state;
	struct outcome o;
	struct pins_stats st;

	load(f, "5", pins_doc(PIN("a", 1) "," PIN("b", 2)));
	assert_int_equal(event("MODIFIED", cm("6", pins_doc(PIN("a", 5)))), 0);
	assert_int_equal(pin_of(f, "a"), 5);
	assert_int_equal(pin_of(f, "b"), 999);
	assert_int_equal(f->n_changed, 2);
	/* Invalid: kept. */
	assert_int_equal(event("MODIFIED", cm("7", "[{\"name\":\"a\"}")), 0);
	assert_int_equal(pin_of(f, "a"), 5);
	assert_int_equal(f->n_changed, 2);
	pins_get_stats(f->p, &st);
	assert_int_equal(st.invalid, 1);
	assert_int_equal(st.invalid_documents, 1);
	assert_int_equal(event("MODIFIED",
	                     cm("8",
	                         "[{\"name\":\"a\",\"namespace\":\"shop\","
	                         "\"replicas\":1e3}]")),
	    0);
	/* Counts above the core's maximum are invalid too. */
	assert_int_equal(
	    event("MODIFIED", cm("9", pins_doc(PIN("a", 101)))), 0);
	assert_int_equal(pin_of(f, "a"), 5);
	/* A change re-reads, sees it still invalid, refuses; no write. */
	put(f, "c", 1, &o);
	fake_kc_answer(fake_kc_next(KC_GET), 200, cm("9", "not json"));
	assert_int_equal(o.res.code, PS_E_CONFLICT);
	assert_non_null(strstr(o.res.message, "invalid pins document"));
	assert_null(fake_kc_next(KC_PUT));
	/* Fixed by hand: applied, and changes work again. */
	assert_int_equal(event("MODIFIED", cm("10", pins_doc(PIN("a", 2)))), 0);
	assert_int_equal(pin_of(f, "a"), 2);
	pins_get_stats(f->p, &st);
	assert_int_equal(st.invalid, 0);
	assert_int_equal(st.invalid_documents, 3);
	/* A ConfigMap without the key, then deleted: no pins. */
	assert_int_equal(event("MODIFIED", cm("11", NULL)), 0);
	assert_int_equal(pins_count(f->p), 0);
	assert_int_equal(event("ADDED", cm("12", pins_doc(PIN("x", 1)))), 0);
	assert_int_equal(pins_count(f->p), 1);
	assert_int_equal(event("DELETED", cm("13", pins_doc(PIN("x", 1)))), 0);
	assert_int_equal(pins_count(f->p), 0);
	assert_int_equal(pins_loaded(f->p), 1);
	/* Another object on a watch by name: the stream is refused. */
	assert_int_equal(event("ADDED",
	                     "{\"metadata\":{\"name\":\"other\","
	                     "\"resourceVersion\":\"14\"}}"),
	    -1);
}

/** A watch event may beat the write's answer: the answer is then not
 *  applied again (it would hide a newer state), and later events are
 *  not skipped. */
static void
test_pins_cm_event_beats_answer(void **state)
{
	struct fx *f = *state;
	struct outcome o;
	struct kc_req *w;

	load(f, "5", pins_doc(PIN("a", 1)));
	put(f, "a", 2, &o);
	w = fake_kc_next(KC_PUT);
	assert_int_equal(event("MODIFIED", cm("6", pins_doc(PIN("a", 2)))), 0);
	assert_int_equal(event("MODIFIED", cm("7", pins_doc(PIN("a", 3)))), 0);
	assert_int_equal(pin_of(f, "a"), 3);
	fake_kc_answer(w, 200, cm("6", pins_doc(PIN("a", 2))));
	assert_int_equal(o.res.rc, 0);
	assert_int_equal(pin_of(f, "a"), 3);
	assert_int_equal(event("MODIFIED", cm("8", pins_doc(PIN("a", 4)))), 0);
	assert_int_equal(pin_of(f, "a"), 4);
}

/** Changes are written one at a time, in order; the second starts from
 *  the first's answer (no self-conflict). */
static void
test_pins_cm_queue(void **state)
{
	struct fx *f = *state;
	struct outcome o1, o2;
	struct kc_req *r;

	load(f, "5", pins_doc(""));
	put(f, "a", 1, &o1);
	put(f, "b", 2, &o2);
	assert_null(fake_kc_next(KC_POST));
	r = fake_kc_next(KC_PUT);
	assert_non_null(r);
	assert_int_equal(fake_kc_pending(), 2); /* watch + one write */
	fake_kc_answer(r, 200, cm("6", pins_doc(PIN("a", 1))));
	assert_int_equal(o1.res.rc, 0);
	assert_int_equal(o2.called, 0);
	r = fake_kc_next(KC_PUT);
	assert_non_null(r);
	assert_non_null(strstr(fake_kc_body(r), "\"resourceVersion\":\"6\""));
	assert_non_null(strstr(fake_kc_body(r), "\\\"name\\\": \\\"a\\\""));
	fake_kc_answer(r, 200, cm("7", pins_doc(PIN("a", 1) "," PIN("b", 2))));
	assert_int_equal(o2.res.rc, 0);
	assert_int_equal(pins_count(f->p), 2);
}

/** A requester that leaves gets no answer; the change still completes
 *  (and is applied). */
static void
test_pins_cm_detach(void **state)
{
	struct fx *f = *state;
	struct outcome o;
	struct pins_op *op;

	load(f, "5", pins_doc(""));
	memset(&o, 0, sizeof(o));
	op = pins_put(f->p, NS, "a", 1, 0, "alice", 10001, done_cb, &o);
	assert_non_null(op);
	pins_detach(op);
	fake_kc_answer(
	    fake_kc_next(KC_PUT), 200, cm("6", pins_doc(PIN("a", 1))));
	assert_int_equal(o.called, 0);
	assert_int_equal(pin_of(f, "a"), 1);
}

/** Shutdown with a change in flight and one queued: both answered
 *  UNAVAILABLE, nothing leaks (the sanitizer build checks). */
static void
test_pins_cm_free_in_flight(void **state)
{
	struct fx *f = *state;
	struct outcome o1, o2;

	load(f, "5", pins_doc(""));
	put(f, "a", 1, &o1);
	put(f, "b", 1, &o2);
	pins_free(f->p);
	f->p = NULL;
	assert_int_equal(o1.res.code, PS_E_UNAVAILABLE);
	assert_int_equal(o2.res.code, PS_E_UNAVAILABLE);
	assert_string_equal(o2.res.message, "pin not stored: shutting down");
	assert_int_equal(fake_kc_pending(), 0);
}

/** A document that would exceed the 1 MiB a ConfigMap holds is refused
 *  before any write. */
static void
test_pins_cm_size_bound(void **state)
{
	struct fx *f = *state;
	struct outcome o;
	struct pin_set *s = NULL;
	char name[254], *entries, *doc, *item, *list, err[256];
	size_t cap = 4u << 20, len = 0, dlen = 0;
	int i;
	struct kc_req *r;

	entries = malloc(cap);
	assert_non_null(entries);
	/* Entries of one size: enough for a document just under the limit
	 * (the size per entry measured on a document of one and of two). */
	{
		size_t sz[3] = {0, 0, 0}, one, per, want;
		static const char e[] =
		    "{\"name\":\"%.245s%05d\",\"namespace\":\"shop\","
		    "\"replicas\":1}";

		memset(name, 'n', 250);
		name[250] = '\0';
		for (int k = 1; k <= 2; k++) {
			len = 0;
			for (int j = 0; j < k; j++) {
				len += (size_t)snprintf(entries + len,
				    cap - len, j == 0 ? "[" : ",");
				len += (size_t)snprintf(
				    entries + len, cap - len, e, name, j);
			}
			entries[len] = ']';
			assert_int_equal(pin_set_parse(entries, len + 1, &scfg,
			                     &s, err, sizeof(err)),
			    0);
			assert_int_equal(pin_set_generate(s, &doc, &dlen), 0);
			free(doc);
			pin_set_free(s);
			sz[k] = dlen;
		}
		one = sz[1];
		per = sz[2] > sz[1] ? sz[2] - sz[1] : 1;
		want = (CMJSON_MAX_VALUE - 1 - (one - per)) / per;
		len = 0;
		for (i = 0; i < (int)want; i++) {
			len += (size_t)snprintf(
			    entries + len, cap - len, i == 0 ? "[" : ",");
			len += (size_t)snprintf(
			    entries + len, cap - len, e, name, i);
		}
		i--;
		entries[len] = ']';
		assert_int_equal(pin_set_parse(entries, len + 1, &scfg, &s, err,
		                     sizeof(err)),
		    0);
		assert_int_equal(pin_set_generate(s, &doc, &dlen), 0);
		assert_true(dlen + 1 <= CMJSON_MAX_VALUE);
		assert_true(dlen + 1 + per > CMJSON_MAX_VALUE);
		free(doc);
		pin_set_free(s);
	}
	entries[len++] = ']';
	entries[len] = '\0';
	/* The list item, with the document as a JSON string. */
	item = malloc(2 * len + 512);
	list = malloc(2 * len + 1024);
	assert_non_null(item);
	assert_non_null(list);
	{
		size_t n = (size_t)sprintf(item,
		    "{\"metadata\":{\"name\":\"" NAME "\",\"resourceVersion\":"
		    "\"5\"},\"data\":{\"pins.json\":\"");

		for (size_t k = 0; k < len; k++) {
			if (entries[k] == '"')
				item[n++] = '\\';
			item[n++] = entries[k];
		}
		strcpy(item + n, "\"}}");
	}
	sprintf(list,
	    "{\"kind\":\"ConfigMapList\",\"metadata\":{\"resourceVersion\":"
	    "\"5\"},\"items\":[%s]}",
	    item);
	r = fake_kc_next(KC_LIST);
	fake_kc_answer(r, 200, list);
	assert_int_equal(pins_loaded(f->p), 1);
	assert_int_equal(pins_count(f->p), (size_t)i + 1);
	memset(name, 'm', 250);
	name[250] = '\0';
	put(f, name, 1, &o);
	assert_int_equal(o.called, 1);
	assert_int_equal(o.res.rc, PINS_REFUSED);
	assert_int_equal(o.res.code, PS_E_INVALID);
	assert_non_null(strstr(o.res.message, "a ConfigMap can hold"));
	assert_null(fake_kc_next(KC_PUT));
	/* Changing a count keeps the size: written. */
	memset(name, 'n', 250);
	snprintf(name + 245, sizeof(name) - 245, "%05d", 0);
	put(f, name, 2, &o); /* the first entry */
	r = fake_kc_next(KC_PUT);
	assert_non_null(r);
	fake_kc_answer(r, 500, NULL); /* done before `o` goes out of scope */
	assert_int_equal(o.res.code, PS_E_UNAVAILABLE);
	free(entries);
	free(item);
	free(list);
}

/** 410 on the watch relists after the backoff, but not while a write is
 *  in flight: the list waits for it, and the next change waits for the
 *  list.  The list then replaces memory. */
static void
test_pins_cm_relist_waits_for_write(void **state)
{
	struct fx *f = *state;
	struct outcome o1, o2;
	struct fake_kc_answer a;
	struct kc_req *w;

	load(f, "5", pins_doc(PIN("a", 1)));
	put(f, "a", 2, &o1);
	w = fake_kc_next(KC_PUT);
	assert_int_equal(event("ERROR",
	                     "{\"kind\":\"Status\",\"code\":410,\"reason\":"
	                     "\"Expired\",\"message\":\"too old\"}"),
	    -1);
	memset(&a, 0, sizeof(a));
	a.status = 200;
	a.aborted = 1;
	fake_kc_end(fake_kc_next(KC_WATCH), &a);
	/* The backoff timer fires; the relist waits for the write. */
	{
		struct timeval tv = {2, 0};

		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
	assert_null(fake_kc_next(KC_LIST));
	put(f, "b", 3, &o2);
	fake_kc_answer(w, 200, cm("6", pins_doc(PIN("a", 2))));
	assert_int_equal(o1.res.rc, 0);
	assert_non_null(fake_kc_next(KC_LIST));
	assert_null(fake_kc_next(KC_PUT)); /* b waits for the list */
	answer_list("9", cm("8", pins_doc(PIN("a", 2) "," PIN("z", 9))));
	assert_int_equal(pin_of(f, "z"), 9);
	assert_non_null(fake_kc_next(KC_WATCH));
	w = fake_kc_next(KC_PUT);
	assert_non_null(w);
	assert_non_null(strstr(fake_kc_body(w), "\"resourceVersion\":\"8\""));
	fake_kc_answer(w, 200,
	    cm("10", pins_doc(PIN("a", 2) "," PIN("b", 3) "," PIN("z", 9))));
	assert_int_equal(o2.res.rc, 0);
}

#define PIN_IN(ns, n, r) \
	"{\"name\":\"" n "\",\"namespace\":\"" ns "\",\"replicas\":" #r "}"

/** Two served namespaces in one ConfigMap: pins of each found apart,
 *  changed apart (the write carries every entry, the unserved
 *  namespace's as it was), counted per namespace, iterated in
 *  (namespace, name) order; a namespace outside the set is answered
 *  NOT_SERVED at once, with no API request; a watch event changing only
 *  an unserved namespace's entry reports no change. */
static void
test_pins_cm_two_namespaces(void **state)
{
	struct fx *f = *state;
	struct outcome o;
	struct kc_req *r;
	struct ps_pin pin;
	uint32_t n;

	load(f, "5",
	    pins_doc(PIN_IN(NS2, "a", 2) "," PIN_IN("other", "w", 9) "," PIN(
	        "a", 1)));
	assert_int_equal(pins_count(f->p), 2);
	assert_int_equal(pins_count_ns(f->p, NS), 1);
	assert_int_equal(pins_count_ns(f->p, NS2), 1);
	assert_int_equal(pins_count_ns(f->p, "other"), 0);
	assert_int_equal(pins_get(f->p, NS2, "a", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pin_of(f, "a"), 1);
	assert_int_equal(pins_get(f->p, "other", "w", &n), -1);

	/* A new pin in NS2: the PUT keeps other/w and NS's a. */
	memset(&o, 0, sizeof(o));
	(void)pins_put(f->p, NS2, "b", 3, 0, "alice", 10001, done_cb, &o);
	r = fake_kc_next(KC_PUT);
	assert_non_null(r);
	assert_non_null(strstr(fake_kc_body(r),
	    "\\\"name\\\": \\\"w\\\",\\n    \\\"namespace\\\": "
	    "\\\"other\\\",\\n    \\\"replicas\\\": 9"));
	assert_non_null(strstr(fake_kc_body(r), "\\\"name\\\": \\\"b\\\""));
	fake_kc_answer(r, 200,
	    cm("6",
	        pins_doc(PIN_IN(NS2, "a", 2) "," PIN_IN(NS2, "b", 3) "," PIN_IN(
	            "other", "w", 9) "," PIN("a", 1))));
	assert_int_equal(o.called, 1);
	assert_int_equal(o.res.rc, 0);
	assert_string_equal(o.res.namespace, NS2);
	assert_string_equal(o.res.name, "b");
	assert_int_equal(f->n_changed, 1);
	assert_string_equal(f->changed[0], NS2 "/b");
	assert_int_equal(pins_get(f->p, NS2, "b", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pins_get(f->p, NS, "b", &n), -1);

	/* Every served pin, blog before shop. */
	assert_int_equal(pins_next(f->p, NULL, "", "", &pin), 1);
	assert_string_equal(pin.namespace, NS2);
	assert_string_equal(pin.name, "a");
	assert_int_equal(pins_next(f->p, NULL, NS2, "a", &pin), 1);
	assert_string_equal(pin.name, "b");
	assert_int_equal(pins_next(f->p, NULL, NS2, "b", &pin), 1);
	assert_string_equal(pin.namespace, NS);
	assert_string_equal(pin.name, "a");
	assert_int_equal(pins_next(f->p, NULL, NS, "a", &pin), 0);
	assert_int_equal(pins_next(f->p, NS, "", "", &pin), 1);
	assert_string_equal(pin.namespace, NS);

	/* Delete NS's a: NS2's a stays. */
	memset(&o, 0, sizeof(o));
	(void)pins_delete(f->p, NS, "a", "bob", 10001, done_cb, &o);
	r = fake_kc_next(KC_PUT);
	assert_non_null(r);
	fake_kc_answer(r, 200,
	    cm("7",
	        pins_doc(PIN_IN(NS2, "a", 2) "," PIN_IN(NS2, "b", 3) "," PIN_IN(
	            "other", "w", 9))));
	assert_int_equal(o.res.rc, 0);
	assert_int_equal(o.res.old, 1);
	assert_int_equal(pin_of(f, "a"), 999);
	assert_int_equal(pins_get(f->p, NS2, "a", &n), 0);

	/* Not served: answered at once, nothing asked of the API. */
	memset(&o, 0, sizeof(o));
	assert_null(
	    pins_put(f->p, "other", "w", 1, 0, "alice", 10001, done_cb, &o));
	assert_int_equal(o.called, 1);
	assert_int_equal(o.res.rc, PINS_NOT_SERVED);
	assert_int_equal(o.res.code, PS_E_NOT_FOUND);
	assert_string_equal(o.res.message,
	    "namespace \"other\" is not served by this replicad (namespaces: "
	    "shop, blog)");
	memset(&o, 0, sizeof(o));
	assert_null(
	    pins_delete(f->p, "other", "w", "alice", 10001, done_cb, &o));
	assert_int_equal(o.res.rc, PINS_NOT_SERVED);
	assert_null(fake_kc_next(KC_PUT));
	assert_null(fake_kc_next(KC_GET));
	assert_null(fake_kc_next(KC_POST));
	assert_int_equal(fake_kc_pending(), 1); /* the watch */

	/* The watch brings this core's write; then someone edits only
	 * other/w: nothing served changed. */
	f->n_changed = 0;
	assert_int_equal(event("MODIFIED",
	                     cm("7",
	                         pins_doc(PIN_IN(NS2, "a", 2) "," PIN_IN(NS2,
	                             "b", 3) "," PIN_IN("other", "w", 9)))),
	    0);
	assert_int_equal(f->n_changed, 0);
	assert_int_equal(event("MODIFIED",
	                     cm("8",
	                         pins_doc(PIN_IN(NS2, "a", 2) "," PIN_IN(NS2,
	                             "b", 3) "," PIN_IN("other", "w", 1)))),
	    0);
	assert_int_equal(f->n_changed, 0);
	/* ...and NS2's a: named with its namespace. */
	assert_int_equal(event("MODIFIED",
	                     cm("9",
	                         pins_doc(PIN_IN(NS2, "a", 4) "," PIN_IN(NS2,
	                             "b", 3) "," PIN_IN("other", "w", 1)))),
	    0);
	assert_int_equal(f->n_changed, 1);
	assert_string_equal(f->changed[0], NS2 "/a");
}

/** The ConfigMap's home namespace need not be served: it is read and
 *  written there, and its own entries are kept aside like any other
 *  namespace's. */
static void
test_pins_cm_home_not_served(void **state)
{
	struct fx *f = *state;
	static const char *const blog_only[] = {NS2};
	struct pins_hooks hooks = {changed_cb, f};
	struct outcome o;
	struct kc_req *r;
	char err[256];
	uint32_t n;

	pins_free(f->p);
	fake_kc_reset();
	f->p = pins_open_configmap(f->base, NULL, NS, NAME, blog_only, 1, 100,
	    &hooks, err, sizeof(err));
	assert_non_null(f->p);
	assert_int_equal(pins_start(f->p), 0);
	load(f, "5", pins_doc(PIN_IN(NS2, "a", 2) "," PIN("a", 1)));
	assert_int_equal(pins_count(f->p), 1);
	assert_int_equal(pins_get(f->p, NS, "a", &n), -1);
	assert_int_equal(pins_get(f->p, NS2, "a", &n), 0);
	memset(&o, 0, sizeof(o));
	(void)pins_put(f->p, NS, "a", 5, 0, "alice", 10001, done_cb, &o);
	assert_int_equal(o.res.rc, PINS_NOT_SERVED);
	assert_non_null(strstr(o.res.message, "(namespaces: blog)"));
	(void)pins_put(f->p, NS2, "a", 5, 0, "alice", 10001, done_cb, &o);
	r = fake_kc_next(KC_PUT);
	assert_non_null(r);
	assert_string_equal(fake_kc_path(r),
	    "/api/v1/namespaces/" NS "/configmaps/" NAME
	    "?fieldManager=replicad");
	assert_non_null(strstr(fake_kc_body(r),
	    "\\\"namespace\\\": \\\"shop\\\",\\n    \\\"replicas\\\": 1"));
	fake_kc_answer(
	    r, 200, cm("6", pins_doc(PIN_IN(NS2, "a", 5) "," PIN("a", 1))));
	assert_int_equal(o.res.rc, 0);
	assert_int_equal(pins_get(f->p, NS2, "a", &n), 0);
	assert_int_equal(n, 5);
	/* Refused at open: no served namespace, a duplicate. */
	{
		static const char *const dup[] = {NS2, NS2};

		assert_null(pins_open_configmap(f->base, NULL, NS, NAME,
		    blog_only, 0, 100, &hooks, err, sizeof(err)));
		assert_null(pins_open_configmap(f->base, NULL, NS, NAME, dup, 2,
		    100, &hooks, err, sizeof(err)));
		assert_non_null(strstr(err, "served twice"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pins_cm_decide),
	    cmocka_unit_test(test_pins_cm_after_write),
	    cmocka_unit_test(test_pins_cm_retry_delay),
	    cmocka_unit_test(test_pins_cm_map_status),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_not_loaded, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_create, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_conflict_retry, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_conflict_give_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_failures_change_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_noop_confirmed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_watch_foreign_and_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_event_beats_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_queue, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_detach, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_free_in_flight, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_size_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_relist_waits_for_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_two_namespaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_cm_home_not_served, setup, teardown),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests_name("pins_cm", tests, NULL, NULL);
}
