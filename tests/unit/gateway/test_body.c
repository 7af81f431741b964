/*
 * test_body.c — body_parse_replicas() against a hostile table: every row
 * is one malformed class with the error it must produce, plus the
 * boundaries of the accepted range; then body_parse_write() (issue #14)
 * with each route's optional keys: expectedReplicas, force, suspended.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/body.h"

struct row {
	const char *doc;
	const char *body;
	size_t len; /* 0: strlen(body) */
	enum body_err want;
	uint32_t value;
};

static const struct row rows[] = {
    {"plain zero", "{\"replicas\":0}", 0, BODY_OK, 0},
    {"plain value", "{\"replicas\":5}", 0, BODY_OK, 5},
    {"int32 max", "{\"replicas\":2147483647}", 0, BODY_OK, 2147483647u},
    {"whitespace around", " \n{ \"replicas\" : 7 }\r\n\t", 0, BODY_OK, 7},
    {"int32 max + 1", "{\"replicas\":2147483648}", 0, BODY_RANGE, 0},
    {"uint32 max", "{\"replicas\":4294967295}", 0, BODY_RANGE, 0},
    {"huge digits", "{\"replicas\":99999999999999999999999999999999}", 0,
        BODY_RANGE, 0},
    {"negative", "{\"replicas\":-1}", 0, BODY_RANGE, 0},
    {"negative zero", "{\"replicas\":-0}", 0, BODY_RANGE, 0},
    {"float", "{\"replicas\":1.5}", 0, BODY_NOT_INTEGER, 0},
    {"float integral", "{\"replicas\":3.0}", 0, BODY_NOT_INTEGER, 0},
    {"exponent", "{\"replicas\":1e3}", 0, BODY_NOT_INTEGER, 0},
    {"huge exponent", "{\"replicas\":1e999999999}", 0, BODY_NOT_INTEGER, 0},
    {"negative float", "{\"replicas\":-1.5}", 0, BODY_NOT_INTEGER, 0},
    {"string", "{\"replicas\":\"5\"}", 0, BODY_NOT_INTEGER, 0},
    {"null", "{\"replicas\":null}", 0, BODY_NOT_INTEGER, 0},
    {"bool", "{\"replicas\":true}", 0, BODY_NOT_INTEGER, 0},
    {"nested object", "{\"replicas\":{\"replicas\":1}}", 0, BODY_NOT_INTEGER,
        0},
    {"array value", "{\"replicas\":[1]}", 0, BODY_NOT_INTEGER, 0},
    {"top-level array", "[{\"replicas\":1}]", 0, BODY_NOT_OBJECT, 0},
    {"top-level number", "5", 0, BODY_NOT_OBJECT, 0},
    {"top-level string", "\"x\"", 0, BODY_NOT_OBJECT, 0},
    {"top-level null", "null", 0, BODY_NOT_OBJECT, 0},
    {"duplicate key", "{\"replicas\":1,\"replicas\":2}", 0,
        BODY_DUPLICATE_FIELD, 0},
    {"unknown field", "{\"replicas\":1,\"x\":2}", 0, BODY_UNKNOWN_FIELD, 0},
    {"unknown only", "{\"name\":\"a\"}", 0, BODY_UNKNOWN_FIELD, 0},
    {"key case", "{\"Replicas\":1}", 0, BODY_UNKNOWN_FIELD, 0},
    {"key with NUL escape", "{\"replicas\\u0000\":1}", 0, BODY_UNKNOWN_FIELD,
        0},
    {"missing field", "{}", 0, BODY_MISSING_FIELD, 0},
    {"empty", "", 0, BODY_EMPTY, 0},
    {"only whitespace", "  \n ", 0, BODY_EMPTY, 0},
    {"trailing garbage", "{\"replicas\":1}x", 0, BODY_SYNTAX, 0},
    {"second object", "{\"replicas\":1}{\"replicas\":2}", 0, BODY_SYNTAX, 0},
    {"trailing comma", "{\"replicas\":1,}", 0, BODY_SYNTAX, 0},
    {"unterminated", "{\"replicas\":1", 0, BODY_SYNTAX, 0},
    {"single quotes", "{'replicas':1}", 0, BODY_SYNTAX, 0},
    {"comment", "{\"replicas\":1/*c*/}", 0, BODY_SYNTAX, 0},
    {"leading zero", "{\"replicas\":01}", 0, BODY_SYNTAX, 0},
    {"plus sign", "{\"replicas\":+1}", 0, BODY_SYNTAX, 0},
    {"hex", "{\"replicas\":0x10}", 0, BODY_SYNTAX, 0},
    {"NaN", "{\"replicas\":NaN}", 0, BODY_SYNTAX, 0},
    {"bad UTF-8 in key", "{\"r\xff\":1}", 0, BODY_SYNTAX, 0},
    /* yajl checks UTF-8 structure, not overlong forms: still refused. */
    {"overlong UTF-8", "{\"\xc0\xaf\":1}", 0, BODY_UNKNOWN_FIELD, 0},
    {"truncated UTF-8", "{\"\xe2\x82\":1}", 0, BODY_SYNTAX, 0},
    {"bad UTF-8 outside", "\xfe{\"replicas\":1}", 0, BODY_SYNTAX, 0},
    {"NUL byte after", "{\"replicas\":1}\0", 15, BODY_SYNTAX, 0},
    /* Whitespace to yajl, not to JSON (RFC 8259 section 2). */
    {"form feed after", "{\"replicas\":1}\f", 0, BODY_SYNTAX, 0},
    {"vertical tab before", "\v{\"replicas\":1}", 0, BODY_SYNTAX, 0},
    {"form feed inside", "{\"replicas\":\f1}", 0, BODY_SYNTAX, 0},
    {"only form feed", "\f", 0, BODY_SYNTAX, 0},
    /* yajl takes an unterminated string after the value for more to
     * come, and its yajl_complete_parse let it pass. */
    {"unterminated string after", "{\"replicas\":1} \"", 0, BODY_SYNTAX, 0},
    {"unterminated string with brace", "{\"replicas\":1}\"}", 0, BODY_SYNTAX,
        0},
    {"unterminated escape after", "{\"replicas\":1}\"\\", 0, BODY_SYNTAX, 0},
    {"depth bomb arrays", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 0, BODY_NOT_OBJECT,
        0},
    {"depth bomb objects", "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{", 0,
        BODY_UNKNOWN_FIELD, 0},
};

/* Every row of the table, each with its documented expectation. */
static void
test_body_table(void **state)
{
	size_t i;
	uint32_t v;
	enum body_err e;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		v = 12345;
		e = body_parse_replicas((const unsigned char *)rows[i].body,
		    rows[i].len ? rows[i].len : strlen(rows[i].body),
		    2147483647u, &v);
		if (e != rows[i].want)
			fail_msg("%s: got %d (%s), want %d", rows[i].doc, e,
			    body_reason(e, 0), rows[i].want);
		if (e == BODY_OK)
			assert_int_equal(v, rows[i].value);
		else
			assert_int_equal(v, 12345); /* untouched on error */
	}
}

/* A lower configured maximum is enforced at max and max + 1. */
static void
test_body_configured_max(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(
	    body_parse_replicas(
	        (const unsigned char *)"{\"replicas\":100}", 16, 100, &v),
	    BODY_OK);
	assert_int_equal(v, 100);
	assert_int_equal(
	    body_parse_replicas(
	        (const unsigned char *)"{\"replicas\":101}", 16, 100, &v),
	    BODY_RANGE);
}

/* A deep bomb of the full allowed size is refused at its first byte. */
static void
test_body_depth_bomb_4k(void **state)
{
	unsigned char buf[4096];
	uint32_t v;

	(void)state;
	memset(buf, '[', sizeof(buf));
	assert_int_equal(
	    body_parse_replicas(buf, sizeof(buf), 10, &v), BODY_NOT_OBJECT);
	memset(buf, '{', sizeof(buf));
	assert_int_equal(
	    body_parse_replicas(buf, sizeof(buf), 10, &v), BODY_SYNTAX);
}

/* Truncation at every offset of a valid body never yields BODY_OK. */
static void
test_body_truncation_every_offset(void **state)
{
	static const char good[] = "{\"replicas\":42}";
	uint32_t v;
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(good) - 1; n++)
		assert_int_not_equal(
		    body_parse_replicas(
		        (const unsigned char *)good, n, 100, &v),
		    BODY_OK);
}

/* Every error has a reason token and a message. */
static void
test_body_reasons(void **state)
{
	int e;

	(void)state;
	for (e = BODY_OK; e <= BODY_NOMEM; e++) {
		assert_non_null(body_reason((enum body_err)e, 0));
		assert_non_null(body_message((enum body_err)e));
	}
	assert_string_equal(body_reason(BODY_RANGE, 0), "invalid_replicas");
	assert_string_equal(
	    body_reason(BODY_RANGE, BODY_K_REPLICAS), "invalid_replicas");
	assert_string_equal(body_reason(BODY_NOT_INTEGER, BODY_K_EXPECTED),
	    "invalid_expected_replicas");
	assert_string_equal(
	    body_reason(BODY_NOT_BOOLEAN, BODY_K_FORCE), "invalid_force");
	assert_string_equal(body_reason(BODY_NOT_BOOLEAN, BODY_K_SUSPENDED),
	    "invalid_suspended");
	assert_string_equal(
	    body_reason(BODY_UNKNOWN_FIELD, 0), "unknown_field");
}

/* body_parse_write: one row per accepted shape and per refusal class. */
struct wrow {
	const char *doc;
	unsigned allowed;
	const char *body;
	enum body_err want;
	unsigned bad_key;    /* on an error */
	struct body_write w; /* on BODY_OK */
};

#define S   BODY_KEYS_SCALE
#define P   BODY_KEYS_PIN
#define K_R BODY_K_REPLICAS
#define K_E BODY_K_EXPECTED
#define K_F BODY_K_FORCE
#define K_S BODY_K_SUSPENDED

static const struct wrow wrows[] = {
    {"replicas alone", S, "{\"replicas\":5}", BODY_OK, 0, {K_R, 5, 0, 0, 0, 0}},
    {"all of a scale", S,
        "{\"replicas\":5,\"expectedReplicas\":3,\"force\":true}", BODY_OK, 0,
        {K_R | K_E | K_F, 5, 3, 1, 0, 0}},
    {"all of a pin, any order", P,
        "{\"suspended\":true,\"force\":false,\"expectedReplicas\":0,"
        "\"replicas\":5}",
        BODY_OK, 0, {K_R | K_E | K_F | K_S, 5, 0, 0, 1, 0}},
    {"expected at int32 max", S,
        "{\"replicas\":1,\"expectedReplicas\":2147483647}", BODY_OK, 0,
        {K_R | K_E, 1, 2147483647u, 0, 0, 0}},
    {"suspended false", P, "{\"replicas\":1,\"suspended\":false}", BODY_OK, 0,
        {K_R | K_S, 1, 0, 0, 0, 0}},
    {"suspended on a scale", S, "{\"replicas\":1,\"suspended\":true}",
        BODY_UNKNOWN_FIELD, 0, {0}},
    {"unknown key", P, "{\"replicas\":1,\"dryRun\":true}", BODY_UNKNOWN_FIELD,
        0, {0}},
    {"key case", P, "{\"replicas\":1,\"Force\":true}", BODY_UNKNOWN_FIELD, 0,
        {0}},
    {"expected twice", S,
        "{\"replicas\":1,\"expectedReplicas\":1,\"expectedReplicas\":1}",
        BODY_DUPLICATE_FIELD, K_E, {0}},
    {"force twice", S, "{\"replicas\":1,\"force\":true,\"force\":true}",
        BODY_DUPLICATE_FIELD, K_F, {0}},
    {"suspended twice", P,
        "{\"replicas\":1,\"suspended\":true,\"suspended\":false}",
        BODY_DUPLICATE_FIELD, K_S, {0}},
    {"expected over int32", S,
        "{\"replicas\":1,\"expectedReplicas\":2147483648}", BODY_RANGE, K_E,
        {0}},
    {"expected negative", S, "{\"replicas\":1,\"expectedReplicas\":-1}",
        BODY_RANGE, K_E, {0}},
    {"expected float", S, "{\"replicas\":1,\"expectedReplicas\":1.0}",
        BODY_NOT_INTEGER, K_E, {0}},
    {"expected exponent", S, "{\"replicas\":1,\"expectedReplicas\":1e2}",
        BODY_NOT_INTEGER, K_E, {0}},
    {"expected string", S, "{\"replicas\":1,\"expectedReplicas\":\"3\"}",
        BODY_NOT_INTEGER, K_E, {0}},
    {"expected null", S, "{\"replicas\":1,\"expectedReplicas\":null}",
        BODY_NOT_INTEGER, K_E, {0}},
    {"expected bool", S, "{\"replicas\":1,\"expectedReplicas\":true}",
        BODY_NOT_INTEGER, K_E, {0}},
    {"force as number", S, "{\"replicas\":1,\"force\":1}", BODY_NOT_BOOLEAN,
        K_F, {0}},
    {"force as string", S, "{\"replicas\":1,\"force\":\"true\"}",
        BODY_NOT_BOOLEAN, K_F, {0}},
    {"force null", S, "{\"replicas\":1,\"force\":null}", BODY_NOT_BOOLEAN, K_F,
        {0}},
    {"force object", S, "{\"replicas\":1,\"force\":{}}", BODY_NOT_BOOLEAN, K_F,
        {0}},
    {"suspended array", P, "{\"replicas\":1,\"suspended\":[true]}",
        BODY_NOT_BOOLEAN, K_S, {0}},
    {"replicas as bool", P, "{\"replicas\":true}", BODY_NOT_INTEGER, K_R, {0}},
    {"options without replicas", P, "{\"force\":true,\"suspended\":true}",
        BODY_MISSING_FIELD, K_R, {0}},
    {"replicas over the configured max", S, "{\"replicas\":11}", BODY_RANGE,
        K_R, {0}},
    {"expected is not bounded by the configured max", S,
        "{\"replicas\":1,\"expectedReplicas\":11}", BODY_OK, 0,
        {K_R | K_E, 1, 11, 0, 0, 0}},
    {"trailing garbage", P, "{\"replicas\":1,\"force\":true}x", BODY_SYNTAX, 0,
        {0}},
    {"true as key", P, "{true:1}", BODY_SYNTAX, 0, {0}},
};

static void
test_body_write_table(void **state)
{
	struct body_write w;
	enum body_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(wrows) / sizeof(wrows[0]); i++) {
		memset(&w, 0x5a, sizeof(w));
		e = body_parse_write((const unsigned char *)wrows[i].body,
		    strlen(wrows[i].body), wrows[i].allowed, 10, &w);
		if (e != wrows[i].want)
			fail_msg("%s: got %d (%s), want %d", wrows[i].doc, e,
			    body_reason(e, w.bad_key), wrows[i].want);
		if (e != BODY_OK) {
			if (w.bad_key != wrows[i].bad_key)
				fail_msg("%s: bad_key %u, want %u",
				    wrows[i].doc, w.bad_key, wrows[i].bad_key);
			continue;
		}
		assert_int_equal(w.present, wrows[i].w.present);
		assert_int_equal(w.replicas, wrows[i].w.replicas);
		assert_int_equal(w.expected, wrows[i].w.expected);
		assert_int_equal(w.force, wrows[i].w.force);
		assert_int_equal(w.suspended, wrows[i].w.suspended);
	}
}

/* Truncation of the fullest pin body at every offset is never OK. */
static void
test_body_write_truncation(void **state)
{
	static const char good[] = "{\"replicas\":5,\"expectedReplicas\":3,"
	                           "\"force\":true,\"suspended\":true}";
	struct body_write w;
	size_t n;

	(void)state;
	assert_int_equal(body_parse_write((const unsigned char *)good,
	                     sizeof(good) - 1, P, 10, &w),
	    BODY_OK);
	for (n = 0; n < sizeof(good) - 1; n++)
		assert_int_not_equal(
		    body_parse_write((const unsigned char *)good, n, P, 10, &w),
		    BODY_OK);
}

/* Messages name the key, the allowed keys or the range. */
static void
test_body_describe(void **state)
{
	char m[160];

	(void)state;
	body_describe(BODY_UNKNOWN_FIELD, 0, K_R, 10, m, sizeof(m));
	assert_string_equal(m, "only the field \"replicas\" is allowed");
	body_describe(BODY_UNKNOWN_FIELD, 0, S, 10, m, sizeof(m));
	assert_string_equal(
	    m, "allowed fields: \"replicas\", \"expectedReplicas\", \"force\"");
	body_describe(BODY_UNKNOWN_FIELD, 0, P, 10, m, sizeof(m));
	assert_string_equal(m,
	    "allowed fields: \"replicas\", \"expectedReplicas\", \"force\", "
	    "\"suspended\"");
	body_describe(BODY_RANGE, K_R, S, 10, m, sizeof(m));
	assert_string_equal(m, "\"replicas\" must be an integer from 0 to 10");
	body_describe(BODY_RANGE, K_E, S, 10, m, sizeof(m));
	assert_string_equal(
	    m, "\"expectedReplicas\" must be an integer from 0 to 2147483647");
	body_describe(BODY_NOT_INTEGER, K_R, S, 10, m, sizeof(m));
	assert_string_equal(m, "\"replicas\" must be an integer");
	body_describe(BODY_NOT_BOOLEAN, K_S, P, 10, m, sizeof(m));
	assert_string_equal(m, "\"suspended\" must be true or false");
	body_describe(BODY_DUPLICATE_FIELD, K_F, P, 10, m, sizeof(m));
	assert_string_equal(m, "field \"force\" appears more than once");
	body_describe(BODY_SYNTAX, 0, P, 10, m, sizeof(m));
	assert_string_equal(m, "request body is not valid JSON");
	/* A short buffer is cut, always terminated. */
	body_describe(BODY_UNKNOWN_FIELD, 0, P, 10, m, 20);
	assert_true(strlen(m) < 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_body_table),
	    cmocka_unit_test(test_body_configured_max),
	    cmocka_unit_test(test_body_depth_bomb_4k),
	    cmocka_unit_test(test_body_truncation_every_offset),
	    cmocka_unit_test(test_body_reasons),
	    cmocka_unit_test(test_body_write_table),
	    cmocka_unit_test(test_body_write_truncation),
	    cmocka_unit_test(test_body_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
