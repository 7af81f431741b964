/*
 * test_listwatch.c — the list+watch loop's policy, without a server: what a
 * watch's ending leads to, and the backoff arithmetic (client-go's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/core_limits.h"
#include "core/kube/listwatch.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lw_after_watch_table),
	    cmocka_unit_test(test_lw_backoff_doubles_and_caps),
	    cmocka_unit_test(test_lw_backoff_resets_after_quiet),
	    cmocka_unit_test(test_lw_backoff_honours_retry_after),
	    cmocka_unit_test(test_lw_watch_timeout_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
