/*
 * test_body.c — body_parse_replicas() against a hostile table: every row
 * is one malformed class with the error it must produce, plus the
 * boundaries of the accepted range.
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
			    body_reason(e), rows[i].want);
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
		assert_non_null(body_reason((enum body_err)e));
		assert_non_null(body_message((enum body_err)e));
	}
	assert_string_equal(body_reason(BODY_RANGE), "invalid_replicas");
	assert_string_equal(body_reason(BODY_UNKNOWN_FIELD), "unknown_field");
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
