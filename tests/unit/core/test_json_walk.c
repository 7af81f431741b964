/*
 * test_json_walk.c — the walker the core's four JSON parsers share: the
 * end of one value (only whitespace after it, in any split of the input),
 * the byte bounds (exact in all, or per unit to within one slice), the
 * depth bound, streams of values, and the first error winning.
 *
 * The callbacks here keep nothing: they only open and close containers on
 * the walker, as every real parser does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_walk.h"

struct walker {
	struct jw w;
	size_t values; /* top-level containers closed */
};

static int
on_open(void *ctx, int is_map)
{
	struct walker *t = ctx;

	return jw_push(&t->w, is_map) != NULL;
}

static int
on_start_map(void *ctx)
{
	return on_open(ctx, 1);
}

static int
on_start_array(void *ctx)
{
	return on_open(ctx, 0);
}

static int
on_end(void *ctx)
{
	struct walker *t = ctx;

	jw_pop(&t->w);
	if (t->w.depth == 0) {
		t->values++;
		if (t->w.cfg.units)
			jw_unit_done(&t->w);
	}
	return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_start_map = on_start_map,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

static void
start(struct walker *t, int many, size_t max_bytes, int units)
{
	struct jw_config cfg = {
	    .callbacks = &callbacks,
	    .many = many,
	    .max_bytes = max_bytes,
	    .units = units,
	    .too_big = "too big",
	};

	memset(t, 0, sizeof(*t));
	assert_int_equal(jw_init(&t->w, &cfg, t), 0);
}

/* Feeds `in` cut at `cut` (0: whole), then finishes; 0 or -1. */
static int
walk_split(struct walker *t, const char *in, size_t cut)
{
	size_t len = strlen(in);

	if (cut > 0 && cut < len) {
		if (jw_feed(&t->w, in, cut) != 0)
			return -1;
		if (jw_feed(&t->w, in + cut, len - cut) != 0)
			return -1;
	} else if (jw_feed(&t->w, in, len) != 0)
		return -1;
	return jw_finish(&t->w);
}

/** One value followed by whitespace passes, and by anything else fails,
 * wherever the input is cut (an unterminated string is what yajl alone
 * lets through). */
static void
test_jw_only_whitespace_after_the_value(void **state)
{
	static const char *const good[] = {
	    "{}",
	    "{\"a\":[1,{}]} \r\n\t",
	    "[]\n",
	    " [ ] ",
	};
	static const char *const bad[] = {
	    "{} \"abc",
	    "{}\"",
	    "[] \"\\",
	    "{}x",
	    "{} 1",
	    "{} {}",
	    "[]]",
	};
	struct walker t;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		for (size_t cut = 0; cut < strlen(good[i]); cut++) {
			start(&t, 0, 1024, 0);
			if (walk_split(&t, good[i], cut) != 0)
				fail_msg("\"%s\" cut at %zu: %s", good[i], cut,
				    jw_error(&t.w));
			jw_fini(&t.w);
		}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (size_t cut = 0; cut < strlen(bad[i]); cut++) {
			start(&t, 0, 1024, 0);
			if (walk_split(&t, bad[i], cut) != -1)
				fail_msg(
				    "\"%s\" cut at %zu passed", bad[i], cut);
			assert_non_null(strstr(jw_error(&t.w), "invalid JSON"));
			jw_fini(&t.w);
		}
}

/** \f and \v are whitespace to yajl, not to RFC 8259: refused anywhere. */
static void
test_jw_refuses_form_feed_and_vertical_tab(void **state)
{
	static const char *const bad[] = {"{\f}", "\v[]", "[]\f", "[1,\v2]"};
	struct walker t;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		start(&t, 0, 1024, 0);
		assert_int_equal(walk_split(&t, bad[i], 0), -1);
		assert_non_null(strstr(jw_error(&t.w), "\\f or \\v"));
		jw_fini(&t.w);
	}
}

/** Without units the bound is exact: max_bytes pass, one more fails. */
static void
test_jw_exact_bound(void **state)
{
	char in[100];
	struct walker t;

	(void)state;
	memset(in, ' ', sizeof(in));
	start(&t, 0, sizeof(in), 0);
	assert_int_equal(jw_feed(&t.w, "[", 1), 0);
	assert_int_equal(jw_feed(&t.w, in, sizeof(in) - 2), 0);
	assert_int_equal(jw_feed(&t.w, "]", 1), 0);
	assert_int_equal(jw_feed(&t.w, " ", 1), -1);
	assert_string_equal(jw_error(&t.w), "too big");
	/* Dead: everything after fails at once, the first error stays. */
	assert_int_equal(jw_feed(&t.w, "", 0), -1);
	assert_int_equal(jw_finish(&t.w), -1);
	assert_string_equal(jw_error(&t.w), "too big");
	jw_fini(&t.w);
}

/** With units the bound is per unit, to within one slice: a stream of
 * many small values may be longer than the bound, one value may not. */
static void
test_jw_unit_bound(void **state)
{
	size_t max = 2 * KJSON_FEED_SLICE, big = 4 * KJSON_FEED_SLICE;
	char *in = malloc(big + 2);
	struct walker t;
	size_t fed;

	(void)state;
	assert_non_null(in);
	/* Many small values, 4 slices in all: fine. */
	start(&t, 1, max, 1);
	for (fed = 0; fed + 2 <= big; fed += 2)
		assert_int_equal(jw_feed(&t.w, "{}", 2), 0);
	assert_int_equal(jw_finish(&t.w), 0);
	assert_true(t.values == big / 2);
	jw_fini(&t.w);
	/* One value of 4 slices: refused by the time one slice past max. */
	start(&t, 1, max, 1);
	in[0] = '[';
	memset(in + 1, ' ', big);
	in[big + 1] = ']';
	assert_int_equal(jw_feed(&t.w, in, big + 2), -1);
	assert_string_equal(jw_error(&t.w), "too big");
	assert_true(t.w.bytes <= max + KJSON_FEED_SLICE);
	jw_fini(&t.w);
	free(in);
}

/** JW_MAX_DEPTH containers open; one more fails with the reason. */
static void
test_jw_depth_bound(void **state)
{
	char in[2 * JW_MAX_DEPTH + 4];
	struct walker t;

	(void)state;
	memset(in, '[', JW_MAX_DEPTH);
	memset(in + JW_MAX_DEPTH, ']', JW_MAX_DEPTH);
	in[2 * JW_MAX_DEPTH] = '\0';
	start(&t, 0, sizeof(in), 0);
	assert_int_equal(walk_split(&t, in, 0), 0);
	jw_fini(&t.w);
	memset(in, '[', JW_MAX_DEPTH + 1);
	memset(in + JW_MAX_DEPTH + 1, ']', JW_MAX_DEPTH + 1);
	in[2 * JW_MAX_DEPTH + 2] = '\0';
	start(&t, 0, sizeof(in), 0);
	assert_int_equal(walk_split(&t, in, 0), -1);
	assert_string_equal(jw_error(&t.w), "JSON nested too deeply");
	jw_fini(&t.w);
}

/** A stream may be empty or blank; one cut inside a value is incomplete;
 * a value that never closed is incomplete. */
static void
test_jw_streams_and_incomplete_input(void **state)
{
	struct walker t;

	(void)state;
	start(&t, 1, 1024, 1);
	assert_int_equal(walk_split(&t, "", 0), 0);
	jw_fini(&t.w);
	start(&t, 1, 1024, 1);
	assert_int_equal(walk_split(&t, " \n\n", 0), 0);
	jw_fini(&t.w);
	start(&t, 1, 1024, 1);
	assert_int_equal(walk_split(&t, "{}\n[]\n{}", 0), 0);
	assert_true(t.values == 3);
	jw_fini(&t.w);
	start(&t, 1, 1024, 1);
	assert_int_equal(walk_split(&t, "{}\n{", 0), -1);
	assert_non_null(strstr(jw_error(&t.w), "invalid JSON"));
	jw_fini(&t.w);
	start(&t, 0, 1024, 0);
	assert_int_equal(walk_split(&t, "", 0), -1);
	jw_fini(&t.w);
	start(&t, 0, 1024, 0);
	assert_int_equal(walk_split(&t, "[[]", 0), -1);
	jw_fini(&t.w);
}

/** The first error is the one reported; the message never quotes input. */
static void
test_jw_first_error_wins(void **state)
{
	struct walker t;

	(void)state;
	start(&t, 0, 1024, 0);
	assert_int_equal(jw_fail(&t.w, "first %d", 1), 0);
	jw_fail(&t.w, "second");
	assert_int_equal(jw_feed(&t.w, "[]", 2), -1);
	assert_string_equal(jw_error(&t.w), "first 1");
	jw_fini(&t.w);
	start(&t, 0, 1024, 0);
	assert_int_equal(walk_split(&t, "[SECRET-TOKEN]", 0), -1);
	assert_null(strstr(jw_error(&t.w), "SECRET"));
	jw_fini(&t.w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jw_only_whitespace_after_the_value),
	    cmocka_unit_test(test_jw_refuses_form_feed_and_vertical_tab),
	    cmocka_unit_test(test_jw_exact_bound),
	    cmocka_unit_test(test_jw_unit_bound),
	    cmocka_unit_test(test_jw_depth_bound),
	    cmocka_unit_test(test_jw_streams_and_incomplete_input),
	    cmocka_unit_test(test_jw_first_error_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
