/* Unit tests for tests/kube-sim/ks_json.c: bounded parsing of hostile
 * input, merge patch, equality, generation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_limits.h"

static struct ks_json *
parse(const char *s, enum ks_json_err *err)
{
	return ks_json_parse(s, strlen(s), err, NULL, 0);
}

static char *
gen(const struct ks_json *n)
{
	yajl_gen g = ks_gen_new();
	const unsigned char *buf;
	size_t len;
	char *out;

	assert_int_equal(ks_json_gen(g, n), 0);
	yajl_gen_get_buf(g, &buf, &len);
	out = strndup((const char *)buf, len);
	yajl_gen_free(g);
	return out;
}

/* Round trip keeps member order and number text. */
static void
test_ks_json_roundtrip(void **state)
{
	enum ks_json_err err;
	struct ks_json *j;
	char *s;
	const char *in = "{\"b\":1,\"a\":[true,false,null,\"x\\u00e9\"],"
	                 "\"n\":-1.5e3}";

	(void)state;
	j = parse(in, &err);
	assert_non_null(j);
	s = gen(j);
	assert_string_equal(s,
	    "{\"b\":1,\"a\":[true,false,null,\"x\xc3\xa9\"],"
	    "\"n\":-1.5e3}");
	free(s);
	ks_json_free(j);
}

/* Every malformed class is rejected with its own error, nothing leaks. */
static void
test_ks_json_rejects_malformed(void **state)
{
	static const struct {
		const char *in;
		enum ks_json_err want;
	} cases[] = {
	    {"", KS_JSON_EEMPTY},
	    {"   ", KS_JSON_EEMPTY},
	    {"{", KS_JSON_ESYNTAX},
	    {"{\"a\":}", KS_JSON_ESYNTAX},
	    {"{\"a\":1,}", KS_JSON_ESYNTAX},
	    {"[1 2]", KS_JSON_ESYNTAX},
	    {"{\"a\":1}{\"b\":2}", KS_JSON_ESYNTAX},
	    {"\"\xff\"", KS_JSON_ESYNTAX}, /* invalid UTF-8 */
	    {"{'a':1}", KS_JSON_ESYNTAX},
	    {"nul", KS_JSON_ESYNTAX},
	};
	enum ks_json_err err;
	char msg[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_null(ks_json_parse(
		    cases[i].in, strlen(cases[i].in), &err, msg, sizeof(msg)));
		assert_int_equal(err, cases[i].want);
	}
}

/* Nesting one past the limit fails; at the limit it parses. */
static void
test_ks_json_depth_limit(void **state)
{
	char buf[2 * (KS_JSON_MAX_DEPTH + 1) + 1];
	enum ks_json_err err;
	struct ks_json *j;
	int i;

	(void)state;
	for (i = 0; i < KS_JSON_MAX_DEPTH; i++) {
		buf[i] = '[';
		buf[KS_JSON_MAX_DEPTH + i] = ']';
	}
	j = ks_json_parse(buf, 2 * KS_JSON_MAX_DEPTH, &err, NULL, 0);
	assert_non_null(j);
	ks_json_free(j);
	for (i = 0; i <= KS_JSON_MAX_DEPTH; i++) {
		buf[i] = '[';
		buf[KS_JSON_MAX_DEPTH + 1 + i] = ']';
	}
	assert_null(
	    ks_json_parse(buf, 2 * (KS_JSON_MAX_DEPTH + 1), &err, NULL, 0));
	assert_int_equal(err, KS_JSON_EDEPTH);
}

/* Too many members in one object: refused, not quadratic forever. */
static void
test_ks_json_members_limit(void **state)
{
	size_t n = KS_JSON_MAX_MEMBERS + 1, cap = n * 16 + 4, off = 0, i;
	char *buf = malloc(cap);
	enum ks_json_err err;

	(void)state;
	off += (size_t)snprintf(buf + off, cap - off, "{");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(
		    buf + off, cap - off, "%s\"k%zu\":1", i ? "," : "", i);
	snprintf(buf + off, cap - off, "}");
	assert_null(ks_json_parse(buf, strlen(buf), &err, NULL, 0));
	assert_int_equal(err, KS_JSON_EMEMBERS);
	free(buf);
}

/* Truncation at every offset never crashes and never succeeds early. */
static void
test_ks_json_truncation_every_offset(void **state)
{
	const char *in = "{\"metadata\":{\"name\":\"w\xc3\xa9\",\"labels\":"
	                 "{\"a\":\"b\"}},\"spec\":{\"replicas\":3}}";
	enum ks_json_err err;
	struct ks_json *j;
	size_t i, len = strlen(in);

	(void)state;
	for (i = 0; i < len; i++) {
		j = ks_json_parse(in, i, &err, NULL, 0);
		assert_null(j);
		assert_int_not_equal(err, KS_JSON_OK);
	}
	j = ks_json_parse(in, len, &err, NULL, 0);
	assert_non_null(j);
	ks_json_free(j);
}

/* Duplicate keys: the last wins, as in Go. */
static void
test_ks_json_duplicate_last_wins(void **state)
{
	enum ks_json_err err;
	struct ks_json *j = parse("{\"a\":1,\"b\":2,\"a\":3}", &err);
	long long v;

	(void)state;
	assert_non_null(j);
	assert_int_equal(j->count, 2);
	assert_int_equal(ks_json_int(ks_json_get(j, "a"), &v), 0);
	assert_int_equal(v, 3);
	ks_json_free(j);
}

/* ks_json_int refuses non-integers and overflow. */
static void
test_ks_json_int(void **state)
{
	static const char *bad[] = {
	    "1.0", "1e3", "99999999999999999999", "\"1\""};
	enum ks_json_err err;
	struct ks_json *j;
	long long v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = parse(bad[i], &err);
		assert_non_null(j);
		assert_int_equal(ks_json_int(j, &v), -1);
		ks_json_free(j);
	}
	j = parse("-42", &err);
	assert_int_equal(ks_json_int(j, &v), 0);
	assert_int_equal(v, -42);
	ks_json_free(j);
}

/* RFC 7386 examples: merge, null deletes, non-object replaces. */
static void
test_ks_json_merge_patch(void **state)
{
	enum ks_json_err err;
	struct ks_json *t =
	    parse("{\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"},"
	          "\"k\":[1]}",
	        &err);
	struct ks_json *p =
	    parse("{\"a\":\"z\",\"c\":{\"f\":null},\"k\":{\"x\":"
	          "null,\"y\":1},\"n\":{\"m\":null}}",
	        &err);
	char *s;

	(void)state;
	assert_int_equal(ks_json_merge_patch(&t, p), 0);
	s = gen(t);
	assert_string_equal(s,
	    "{\"a\":\"z\",\"c\":{\"d\":\"e\"},\"k\":{\"y\":1},"
	    "\"n\":{}}");
	free(s);
	ks_json_free(p);
	p = parse("[1]", &err);
	assert_int_equal(ks_json_merge_patch(&t, p), 0);
	s = gen(t);
	assert_string_equal(s, "[1]");
	free(s);
	ks_json_free(p);
	ks_json_free(t);
}

/* Equality ignores member order, not values. */
static void
test_ks_json_equal(void **state)
{
	enum ks_json_err err;
	struct ks_json *a = parse("{\"x\":1,\"y\":[1,2]}", &err);
	struct ks_json *b = parse("{\"y\":[1,2],\"x\":1}", &err);
	struct ks_json *c = parse("{\"y\":[2,1],\"x\":1}", &err);

	(void)state;
	assert_true(ks_json_equal(a, b));
	assert_false(ks_json_equal(a, c));
	ks_json_free(a);
	ks_json_free(b);
	ks_json_free(c);
}

/* set replaces in place (order stable); clone is deep. */
static void
test_ks_json_set_and_clone(void **state)
{
	enum ks_json_err err;
	struct ks_json *a = parse("{\"x\":1,\"y\":2}", &err), *c;
	char *s;

	(void)state;
	assert_int_equal(ks_json_set_str(a, "x", "v"), 0);
	c = ks_json_clone(a);
	ks_json_del(a, "y");
	s = gen(c);
	assert_string_equal(s, "{\"x\":\"v\",\"y\":2}");
	free(s);
	ks_json_free(a);
	ks_json_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ks_json_roundtrip),
	    cmocka_unit_test(test_ks_json_rejects_malformed),
	    cmocka_unit_test(test_ks_json_depth_limit),
	    cmocka_unit_test(test_ks_json_members_limit),
	    cmocka_unit_test(test_ks_json_truncation_every_offset),
	    cmocka_unit_test(test_ks_json_duplicate_last_wins),
	    cmocka_unit_test(test_ks_json_int),
	    cmocka_unit_test(test_ks_json_merge_patch),
	    cmocka_unit_test(test_ks_json_equal),
	    cmocka_unit_test(test_ks_json_set_and_clone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
