/*
 * test_listwatch.c — the list+watch loop's policy, without a server: what a
 * watch's ending leads to, and the backoff arithmetic (client-go's); then
 * the resync, with the Deployment reflector and cache over the fake
 * kclient (tests/fakes/fake_kclient.c): it fires after its jittered
 * period, drops the watch, and its relist replaces the cache, also when
 * the server's resourceVersions went backwards (an etcd restore); 0 arms
 * nothing.  Timers are driven by event_base_loop(EVLOOP_ONCE), which
 * blocks until the next armed timer fires and runs it: no sleeps, and a
 * timer that is not armed makes the loop return 1 at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/core_limits.h"
#include "core/kube/cache.h"
#include "core/kube/listwatch.h"
#include "core/kube/reflector.h"
#include "tests/fakes/fake_kclient.h"

struct case_ {
	const char *doc;
	struct lw_outcome o;
	enum lw_action want;
};

static const struct case_ cases[] = {
    {"server timeout ended a long watch: resume from last RV",
        {.status = 200, .events = 12, .lasted_ms = 400000}, LW_REWATCH},
    {"idle watch ended by the server, no events: resume",
        {.status = 200, .events = 0, .lasted_ms = 300000}, LW_REWATCH},
    {"stream broke mid-event (proxy died): resume",
        {.status = 200, .transport_error = 1, .events = 3, .lasted_ms = 5000},
        LW_REWATCH},
    {"ERROR 410 Expired inside the stream: relist",
        {.status = 200, .error_event = 410, .events = 1, .lasted_ms = 9000},
        LW_BACKOFF_RELIST},
    {"ERROR 504 too large RV: relist",
        {.status = 200, .error_event = 504, .lasted_ms = 3000},
        LW_BACKOFF_RELIST},
    {"410 before streaming: relist", {.status = 410, .lasted_ms = 10},
        LW_BACKOFF_RELIST},
    {"429 at watch start: wait, same RV", {.status = 429, .lasted_ms = 10},
        LW_BACKOFF_REWATCH},
    {"connection refused: wait, same RV",
        {.status = 0, .transport_error = 1, .lasted_ms = 1},
        LW_BACKOFF_REWATCH},
    {"401: wait, relist (token re-read meanwhile)",
        {.status = 401, .lasted_ms = 5}, LW_BACKOFF_RELIST},
    {"500: relist", {.status = 500, .lasted_ms = 5}, LW_BACKOFF_RELIST},
    {"garbage stream: relist",
        {.status = 200, .parse_error = 1, .events = 2, .lasted_ms = 50000},
        LW_BACKOFF_RELIST},
    {"very short watch, no events: relist",
        {.status = 200, .events = 0, .lasted_ms = 20}, LW_BACKOFF_RELIST},
    {"short watch with events: pause, then resume (no spin)",
        {.status = 200, .events = 1, .lasted_ms = 20}, LW_BACKOFF_REWATCH},
};

/** Every way a watch ends leads to client-go's next step. */
static void
test_lw_after_watch_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (lw_after_watch(&cases[i].o) != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].doc,
			    lw_after_watch(&cases[i].o), cases[i].want);
}

/** Bases double from 800 ms to the 30 s cap; delay in [base, 2 base). */
static void
test_lw_backoff_doubles_and_caps(void **state)
{
	struct lw_backoff b = {0};
	uint64_t base = LW_BACKOFF_INITIAL_MS, t = 1000000, d;

	(void)state;
	for (int i = 0; i < 12; i++) {
		d = lw_backoff_next(&b, t, 0, 0);
		assert_int_equal(d, base); /* rnd 0: the base itself */
		t += d;
		base =
		    base * 2 > LW_BACKOFF_CAP_MS ? LW_BACKOFF_CAP_MS : base * 2;
	}
	d = lw_backoff_next(&b, t, UINT32_MAX, 0);
	assert_true(d >= LW_BACKOFF_CAP_MS && d < 2 * LW_BACKOFF_CAP_MS);
}

/** Unused for more than 2 min: back to 800 ms. */
static void
test_lw_backoff_resets_after_quiet(void **state)
{
	struct lw_backoff b = {0};

	(void)state;
	for (int i = 0; i < 6; i++)
		(void)lw_backoff_next(&b, 1000 + (uint64_t)i, 0, 0);
	assert_true(lw_backoff_next(&b, 2000, 0, 0) > 800);
	assert_int_equal(
	    lw_backoff_next(&b, 2000 + LW_BACKOFF_RESET_MS + 1, 0, 0),
	    LW_BACKOFF_INITIAL_MS);
}

/** Retry-After is a floor, never shortened by jitter. */
static void
test_lw_backoff_honours_retry_after(void **state)
{
	struct lw_backoff b = {0};

	(void)state;
	assert_int_equal(lw_backoff_next(&b, 5000, 0, 7), 7000);
	assert_true(lw_backoff_next(&b, 6000, 0, 1) >= 1000);
}

/** Watch timeouts fall in [300, 600) s. */
static void
test_lw_watch_timeout_range(void **state)
{
	(void)state;
	assert_int_equal(lw_watch_timeout(0), 300);
	assert_int_equal(lw_watch_timeout(UINT32_MAX), 599);
	assert_int_equal(lw_watch_timeout(1u << 31), 450);
}

/** The resync delay is the period +-10 %, 0 stays 0, and a period over
 *  the flag's maximum is capped rather than overflowing. */
static void
test_lw_resync_delay_jitter_bounds(void **state)
{
	const uint64_t p = 600000, max = (uint64_t)LW_RESYNC_MAX_S * 1000u;

	(void)state;
	assert_int_equal(lw_resync_delay(0, 0), 0);
	assert_int_equal(lw_resync_delay(0, UINT32_MAX), 0);
	assert_int_equal(lw_resync_delay(p, 0), p - p / 10);
	assert_int_equal(lw_resync_delay(p, 1u << 31), p);
	assert_true(lw_resync_delay(p, UINT32_MAX) < p + p / 10);
	assert_true(lw_resync_delay(p, UINT32_MAX) >= p + p / 10 - 1);
	for (uint32_t r = 0; r < 1000; r++) {
		uint64_t d = lw_resync_delay(p, r * 4294967u);

		assert_true(d >= p - p / 10 && d < p + p / 10);
	}
	assert_int_equal(lw_resync_delay(UINT64_MAX, 0), max - max / 10);
	assert_true(lw_resync_delay(UINT64_MAX, UINT32_MAX) < max + max / 10);
}

/* ------------------------------------------- resync, with the reflector */

#define RESYNC_MS 60 /* short, so that EVLOOP_ONCE waits little */

struct fx {
	struct event_base *base;
	struct cache *cache;
	struct refl *refl;
};

static int
setup_with(void **state, uint64_t resync_ms)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	lw_set_default_resync(resync_ms);
	if ((f.base = event_base_new()) == NULL ||
	    (f.cache = cache_new(64)) == NULL ||
	    (f.refl = refl_new(f.base, NULL, f.cache, "ns", NULL)) == NULL)
		return -1;
	*state = &f;
	return 0;
}

static int
setup_resync(void **state)
{
	return setup_with(state, RESYNC_MS);
}

static int
setup_no_resync(void **state)
{
	return setup_with(state, 0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	refl_free(f->refl);
	cache_free(f->cache);
	event_base_free(f->base);
	fake_kc_reset();
	lw_set_default_resync(0);
	return 0;
}

/* A Deployment of the list: name, resourceVersion, spec.replicas. */
#define DEPLOY(n, rv, r)                                          \
	"{\"metadata\":{\"name\":\"" n "\",\"namespace\":\"ns\"," \
	"\"resourceVersion\":\"" rv "\"},\"spec\":{\"replicas\":" #r "}}"
#define DLIST(rv, items)                                                       \
	"{\"kind\":\"DeploymentList\",\"metadata\":{\"resourceVersion\":\"" rv \
	"\"},\"items\":[" items "]}"

/* Answers the pending list with `body`; the watch must follow. */
static void
answer_list(const char *body)
{
	struct kc_req *r = fake_kc_next(KC_LIST);

	assert_non_null(r);
	fake_kc_answer(r, 200, body);
	assert_null(fake_kc_next(KC_LIST));
	assert_non_null(fake_kc_next(KC_WATCH));
}

static int32_t
desired(const struct fx *f, const char *name)
{
	struct cache_deploy d;

	if (cache_get(f->cache, name, &d) != 0)
		return -1;
	return d.desired;
}

/** After the period (never before), the watch is dropped and a list
 *  starts; its answer replaces the cache — changed objects updated,
 *  absent ones removed — even though the server's resourceVersions went
 *  backwards (an etcd restore: watch resumption alone kept the old
 *  counts forever); the new watch starts from the new list's RV. */
static void
test_lw_resync_fires_and_replaces(void **state)
{
	struct fx *f = *state;
	struct refl_status st;
	uint64_t t0, t1;

	assert_int_equal(refl_start(f->refl), 0);
	t0 = clock_now_ms();
	answer_list(
	    DLIST("100", DEPLOY("a", "90", 3) "," DEPLOY("b", "95", 2)));
	t1 = clock_now_ms();
	assert_int_equal(desired(f, "a"), 3);
	assert_int_equal(desired(f, "b"), 2);
	refl_get_status(f->refl, &st);
	assert_int_equal(st.lw.resyncs, 0);
	assert_true(st.lw.resync_due_ms >= t0 + RESYNC_MS - RESYNC_MS / 10);
	assert_true(st.lw.resync_due_ms <= t1 + RESYNC_MS + RESYNC_MS / 10);

	/* The only armed timer: the loop waits for it and runs it. */
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	assert_true(clock_now_ms() >= t0 + RESYNC_MS - RESYNC_MS / 10);
	assert_null(fake_kc_next(KC_WATCH)); /* the watch was dropped */
	assert_non_null(fake_kc_next(KC_LIST));
	refl_get_status(f->refl, &st);
	assert_int_equal(st.lw.resyncs, 1);
	assert_int_equal(st.lw.resync_due_ms, 0);
	assert_int_equal(st.lw.list_failures, 0); /* not a failure */

	/* The restored server: lower RVs, a changed, b gone. */
	answer_list(DLIST("7", DEPLOY("a", "5", 9)));
	assert_int_equal(desired(f, "a"), 9);
	assert_int_equal(desired(f, "b"), -1);
	assert_int_equal(cache_size(f->cache), 1);
	assert_non_null(strstr(
	    fake_kc_path(fake_kc_next(KC_WATCH)), "&resourceVersion=7&"));
	refl_get_status(f->refl, &st);
	assert_int_equal(st.lw.lists, 2);
	assert_true(st.lw.resync_due_ms != 0); /* armed again */
}

/** The resync fires while the loop waits out a backoff before resuming
 *  a watch: the wait is kept, and what follows it is a list. */
static void
test_lw_resync_during_backoff_relists(void **state)
{
	struct fx *f = *state;
	struct fake_kc_answer refused = {.transport_error = 1};
	struct refl_status st;

	assert_int_equal(refl_start(f->refl), 0);
	answer_list(DLIST("100", DEPLOY("a", "90", 3)));
	/* Connection refused: back off (>= 800 ms), then re-watch. */
	fake_kc_end(fake_kc_next(KC_WATCH), &refused);
	assert_int_equal(fake_kc_pending(), 0);
	/* First timer to fire: the resync (60 ms < 800 ms). */
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	refl_get_status(f->refl, &st);
	assert_int_equal(st.lw.resyncs, 1);
	assert_int_equal(fake_kc_pending(), 0); /* still waiting */
	/* Then the backoff: a list, not a watch. */
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	assert_null(fake_kc_next(KC_WATCH));
	answer_list(DLIST("101", DEPLOY("a", "91", 4)));
	assert_int_equal(desired(f, "a"), 4);
}

/** --resync-period 0: nothing is armed (an empty loop returns 1 at
 *  once), and the watch stays. */
static void
test_lw_resync_zero_disables(void **state)
{
	struct fx *f = *state;
	struct refl_status st;

	assert_int_equal(refl_start(f->refl), 0);
	answer_list(DLIST("100", DEPLOY("a", "90", 3)));
	refl_get_status(f->refl, &st);
	assert_int_equal(st.lw.resync_due_ms, 0);
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 1);
	assert_non_null(fake_kc_next(KC_WATCH));
	assert_null(fake_kc_next(KC_LIST));
	refl_get_status(f->refl, &st);
	assert_int_equal(st.lw.resyncs, 0);
}

/* ------------------------------- the reflector across namespaces */

struct route_fx {
	struct event_base *base;
	struct cache *c[2];
	struct refl *refl;
	unsigned applied[2];
};

static void
applied_cb(void *arg, const char *name, const char *rv)
{
	(void)name;
	(void)rv;
	(*(unsigned *)arg)++;
}

static void
synced_cb(void *arg, uint64_t started_ms)
{
	(void)started_ms;
	(*(unsigned *)arg)++;
}

#define NSDEPLOY(ns, n, rv, r)                                        \
	"{\"metadata\":{\"name\":\"" n "\",\"namespace\":\"" ns "\"," \
	"\"resourceVersion\":\"" rv "\"},\"spec\":{\"replicas\":" #r "}}"
#define WEV(type, obj) "{\"type\":\"" type "\",\"object\":" obj "}\n"

static int32_t
desired_in(struct cache *c, const char *name)
{
	struct cache_deploy d;

	if (cache_get(c, name, &d) != 0)
		return -1;
	return d.desired;
}

/** --watch-all-namespaces: one list+watch of /apis/apps/v1/deployments;
 *  each object goes to its namespace's cache and hooks, a namespace not
 *  served is ignored (counted, the stream goes on); a relist sweeps
 *  only what the namespaces served hold. */
static void
test_refl_all_namespaces_routes(void **state)
{
	struct route_fx f;
	struct refl_hooks h[2];
	struct refl_route rt[2];
	struct refl_status st;
	struct kc_req *r;

	(void)state;
	memset(&f, 0, sizeof(f));
	lw_set_default_resync(0);
	assert_non_null(f.base = event_base_new());
	for (int i = 0; i < 2; i++) {
		assert_non_null(f.c[i] = cache_new(64));
		memset(&h[i], 0, sizeof(h[i]));
		h[i].applied_cb = applied_cb;
		h[i].synced_cb = synced_cb;
		rt[i].cache = f.c[i];
		rt[i].hooks = &h[i];
	}
	h[0].arg = &f.applied[0];
	h[1].arg = &f.applied[1];
	rt[0].namespace = "alpha";
	rt[1].namespace = "beta";
	/* One counter per namespace: its applied events and its lists. */
	assert_null(refl_new_all(f.base, NULL, rt, 0));
	rt[1].namespace = "Beta";
	assert_null(refl_new_all(f.base, NULL, rt, 2));
	rt[1].namespace = "beta";
	assert_non_null(f.refl = refl_new_all(f.base, NULL, rt, 2));
	assert_int_equal(refl_start(f.refl), 0);
	r = fake_kc_next(KC_LIST);
	assert_non_null(r);
	assert_non_null(strstr(fake_kc_path(r), "/apis/apps/v1/deployments?"));
	fake_kc_answer(r, 200,
	    DLIST("100",
	        NSDEPLOY("alpha", "a", "90", 3) "," NSDEPLOY(
	            "beta", "a", "91", 4) "," NSDEPLOY("beta", "b", "92",
	            5) "," NSDEPLOY("gamma", "z", "93", 9)));
	assert_int_equal(desired_in(f.c[0], "a"), 3);
	assert_int_equal(desired_in(f.c[1], "a"), 4);
	assert_int_equal(desired_in(f.c[1], "b"), 5);
	assert_int_equal(desired_in(f.c[0], "z"), -1);
	assert_int_equal(desired_in(f.c[1], "z"), -1);
	assert_int_equal(cache_size(f.c[0]) + cache_size(f.c[1]), 3);
	/* Both namespaces' hooks heard of the list (applied counts the
	 * synced call too: the same counter). */
	assert_int_equal(f.applied[0], 1);
	assert_int_equal(f.applied[1], 1);
	refl_get_status(f.refl, &st);
	assert_int_equal(st.synced, 1);
	assert_int_equal(st.ignored, 1);

	/* The watch across namespaces: events routed, gamma ignored. */
	r = fake_kc_next(KC_WATCH);
	assert_non_null(r);
	assert_non_null(strstr(fake_kc_path(r), "/apis/apps/v1/deployments?"));
	fake_kc_answer(r, 200,
	    WEV("MODIFIED", NSDEPLOY("beta", "a", "101", 6))
	        WEV("ADDED", NSDEPLOY("gamma", "y", "102", 1))
	            WEV("DELETED", NSDEPLOY("beta", "b", "103", 5))
	                WEV("ADDED", NSDEPLOY("alpha", "c", "104", 2)));
	assert_int_equal(desired_in(f.c[1], "a"), 6);
	assert_int_equal(desired_in(f.c[1], "b"), -1);
	assert_int_equal(desired_in(f.c[0], "c"), 2);
	assert_int_equal(desired_in(f.c[0], "a"), 3);
	assert_int_equal(f.applied[0], 2); /* c */
	assert_int_equal(f.applied[1], 3); /* a, b */
	refl_get_status(f.refl, &st);
	assert_int_equal(st.ignored, 2);

	/* 410: a relist (after the backoff) replaces what both hold. */
	r = fake_kc_next(KC_WATCH);
	if (r == NULL) { /* the short watch paused: wait it out */
		assert_int_equal(event_base_loop(f.base, EVLOOP_ONCE), 0);
		r = fake_kc_next(KC_WATCH);
	}
	assert_non_null(r);
	fake_kc_answer(r, 410, NULL);
	assert_int_equal(event_base_loop(f.base, EVLOOP_ONCE), 0);
	r = fake_kc_next(KC_LIST);
	assert_non_null(r);
	fake_kc_answer(r, 200,
	    DLIST("200",
	        NSDEPLOY("beta", "a", "150", 7) "," NSDEPLOY(
	            "gamma", "z", "151", 1)));
	assert_int_equal(cache_size(f.c[0]), 0); /* a and c swept */
	assert_int_equal(desired_in(f.c[1], "a"), 7);
	assert_int_equal(cache_size(f.c[1]), 1);

	refl_free(f.refl);
	cache_free(f.c[0]);
	cache_free(f.c[1]);
	event_base_free(f.base);
	fake_kc_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lw_after_watch_table),
	    cmocka_unit_test(test_refl_all_namespaces_routes),
	    cmocka_unit_test(test_lw_backoff_doubles_and_caps),
	    cmocka_unit_test(test_lw_backoff_resets_after_quiet),
	    cmocka_unit_test(test_lw_backoff_honours_retry_after),
	    cmocka_unit_test(test_lw_watch_timeout_range),
	    cmocka_unit_test(test_lw_resync_delay_jitter_bounds),
	    cmocka_unit_test_setup_teardown(
	        test_lw_resync_fires_and_replaces, setup_resync, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_lw_resync_during_backoff_relists, setup_resync, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_lw_resync_zero_disables, setup_no_resync, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
