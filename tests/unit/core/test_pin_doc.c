/*
 * test_pin_doc.c — the pins document: what parses (and how it is sorted),
 * every refusal with its reason, the bounds, and generate -> parse round
 * trips.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pins/pin_doc.h"

static int
parse(const char *doc, struct pin_entry **v, size_t *n, char *err, size_t sz)
{
	return pin_doc_parse(doc, strlen(doc), v, n, err, sz);
}

/** The RFD's example, in any order and spacing, comes back sorted. */
static void
test_pin_doc_good(void **state)
{
	struct pin_entry *v = NULL;
	size_t n = 99;
	char err[256];

	(void)state;
	assert_int_equal(parse("[]", &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(parse(" [ {\"replicas\":1,\"namespace\":\"echo\","
	                       "\"name\":\"echo-server\"},\n"
	                       "{\"name\":\"a\",\"namespace\":\"zz\","
	                       "\"replicas\":2147483647},"
	                       "{\"name\":\"b.c\",\"namespace\":\"echo\","
	                       "\"replicas\":0} ]\n",
	                     &v, &n, err, sizeof(err)),
	    0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].namespace, "echo");
	assert_string_equal(v[0].name, "b.c");
	assert_int_equal(v[0].replicas, 0);
	assert_string_equal(v[1].name, "echo-server");
	assert_int_equal(v[1].replicas, 1);
	assert_string_equal(v[2].namespace, "zz");
	assert_int_equal(v[2].replicas, 2147483647u);
	free(v);
}

/** One name in two namespaces is two entries, not a duplicate; entries
 *  sort by namespace first (a store serving several namespaces walks
 *  them in that order), and come back the same from generate. */
static void
test_pin_doc_two_namespaces(void **state)
{
	struct pin_entry *v = NULL, *w = NULL;
	size_t n = 0, m = 0, len = 0;
	char err[256], *out = NULL;

	(void)state;
	assert_int_equal(
	    parse("[{\"name\":\"db\",\"namespace\":\"shop\",\"replicas\":1},"
	          "{\"name\":\"web\",\"namespace\":\"blog\",\"replicas\":2,"
	          "\"suspended\":true},"
	          "{\"name\":\"db\",\"namespace\":\"blog\",\"replicas\":3}]",
	        &v, &n, err, sizeof(err)),
	    0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].namespace, "blog");
	assert_string_equal(v[0].name, "db");
	assert_int_equal(v[0].replicas, 3);
	assert_string_equal(v[1].namespace, "blog");
	assert_string_equal(v[1].name, "web");
	assert_int_equal(v[1].suspended, 1);
	assert_string_equal(v[2].namespace, "shop");
	assert_string_equal(v[2].name, "db");
	assert_int_equal(v[2].replicas, 1);
	assert_int_equal(pin_doc_generate(v, n, &out, &len), 0);
	assert_int_equal(pin_doc_parse(out, len, &w, &m, err, sizeof(err)), 0);
	assert_int_equal(m, n);
	assert_memory_equal(v, w, n * sizeof(*v));
	free(out);
	free(w);
	free(v);
}

/** Each bad document is refused with the reason a person can act on. */
static void
test_pin_doc_refused(void **state)
{
	static const struct {
		const char *doc;
		const char *why; /* a substring of the reason */
	} cases[] = {
	    {"", "empty document"},
	    {"   \n", "empty document"},
	    {"{}", "not a JSON array"},
	    {"3", "not a JSON array"},
	    {"\"x\"", "not a JSON array"},
	    {"null", "not a JSON array"},
	    {"[] []", "invalid JSON"},
	    {"[", "invalid JSON"},
	    {"[1]", "entry 1 is a number"},
	    {"[[]]", "entry 1 is an array"},
	    {"[null]", "entry 1 is null"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\"}]", "replicas missing"},
	    {"[{\"name\":\"a\",\"replicas\":1}]", "namespace missing"},
	    {"[{\"namespace\":\"n\",\"replicas\":1}]", "name missing"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":1,"
	     "\"x\":1}]",
	        "unknown member"},
	    {"[{\"name\":\"a\",\"name\":\"b\",\"namespace\":\"n\","
	     "\"replicas\":1}]",
	        "\"name\" twice"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":1,"
	     "\"replicas\":2}]",
	        "\"replicas\" twice"},
	    {"[{\"name\":\"A\",\"namespace\":\"n\",\"replicas\":1}]",
	        "DNS-1123 subdomain"},
	    {"[{\"name\":\"a\",\"namespace\":\"a.b\",\"replicas\":1}]",
	        "DNS-1123 label"},
	    {"[{\"name\":\"\",\"namespace\":\"n\",\"replicas\":1}]",
	        "DNS-1123 subdomain"},
	    {"[{\"name\":1,\"namespace\":\"n\",\"replicas\":1}]",
	        "\"name\" must not be a number"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":\"1\"}]",
	        "\"replicas\" must not be a string"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":true}]",
	        "must not be a boolean"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":{}}]",
	        "must not be an object"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":-1}]",
	        "whole number"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":1.0}]",
	        "whole number"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":1e3}]",
	        "whole number"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":2147483648}]",
	        "above 2147483647"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\","
	     "\"replicas\":99999999999999999999999999}]",
	        "above 2147483647"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":1},"
	     "{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":2}]",
	        "deployment \"a\" in namespace \"n\" twice"},
	    {"[/* c */]", "invalid JSON"},
	    {"[] \"unterminated", "text after the value"},
	    {"[]\v", "\\f or \\v"},
	    {"[{\"name\":\"\xc3\x28\",\"namespace\":\"n\",\"replicas\":1}]",
	        "invalid JSON"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":1,"
	     "\"suspended\":\"true\"}]",
	        "\"suspended\" must not be a string"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":1,"
	     "\"suspended\":1}]",
	        "\"suspended\" must not be a number"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":1,"
	     "\"suspended\":null}]",
	        "\"suspended\" must not be null"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":1,"
	     "\"suspended\":true,\"suspended\":false}]",
	        "\"suspended\" twice"},
	    {"[{\"name\":\"a\",\"namespace\":\"n\",\"suspended\":true}]",
	        "replicas missing"},
	    {"[{\"name\":\"a\",\"namespace\":true,\"replicas\":1}]",
	        "\"namespace\" must not be a boolean"},
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pin_entry *v = (struct pin_entry *)&err; /* sentinel */
		size_t n = 7;

		if (parse(cases[i].doc, &v, &n, err, sizeof(err)) != -1 ||
		    strstr(err, cases[i].why) == NULL)
			fail_msg("case %zu (%s): got \"%s\", want \"%s\"", i,
			    cases[i].doc, err, cases[i].why);
		/* On failure the outputs are untouched. */
		assert_ptr_equal(v, (struct pin_entry *)&err);
		assert_int_equal(n, 7);
	}
}

/** Size and count bounds hold (the count bound before any allocation
 *  beyond it). */
static void
test_pin_doc_bounds(void **state)
{
	const char *one =
	    "{\"name\":\"a\",\"namespace\":\"n\",\"replicas\":1},";
	size_t cap = (size_t)PIN_DOC_MAX_ENTRIES + 2;
	size_t unit = strlen(one), len = 0;
	char *big = malloc(cap * unit + 8), err[256];
	struct pin_entry *v;
	size_t n;

	(void)state;
	assert_non_null(big);
	/* PIN_DOC_MAX_ENTRIES + 1 entries (duplicates are found later:
	 * the count bound must trip first). */
	big[len++] = '[';
	for (size_t i = 0; i <= PIN_DOC_MAX_ENTRIES; i++) {
		memcpy(big + len, one, unit);
		len += unit;
	}
	big[len - 1] = ']';
	assert_int_equal(pin_doc_parse(big, len, &v, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 65536 entries"));
	/* Bytes: one over the limit is refused before parsing. */
	assert_int_equal(pin_doc_parse(big, (size_t)PIN_DOC_MAX_BYTES + 1, &v,
	                     &n, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "larger than"));
	free(big);
}

/** generate -> parse gives back the same entries; "[]" for none. */
static void
test_pin_doc_round_trip(void **state)
{
	struct pin_entry in[3], *v;
	char *doc, err[256];
	size_t len, n;

	(void)state;
	memset(in, 0, sizeof(in));
	snprintf(in[0].name, sizeof(in[0].name), "api");
	snprintf(in[0].namespace, sizeof(in[0].namespace), "prod");
	in[0].replicas = 0;
	snprintf(in[1].name, sizeof(in[1].name), "web.v2");
	snprintf(in[1].namespace, sizeof(in[1].namespace), "prod");
	in[1].replicas = 2147483647u;
	memset(in[2].name, 'x', 253);
	snprintf(in[2].namespace, sizeof(in[2].namespace), "q");
	in[2].replicas = 7;
	in[2].suspended = 1;

	assert_int_equal(pin_doc_generate(in, 3, &doc, &len), 0);
	/* Only a suspended pin says so: the others stay the RFD's shape. */
	assert_non_null(memmem(doc, len, "\"suspended\": true", 17));
	assert_null(memmem(doc, len, "false", 5));
	assert_int_equal(pin_doc_parse(doc, len, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(v[i].name, in[i].name);
		assert_string_equal(v[i].namespace, in[i].namespace);
		assert_int_equal(v[i].replicas, in[i].replicas);
		assert_int_equal(v[i].suspended, in[i].suspended);
	}
	free(v);
	free(doc);

	/* "suspended": false is the default, written out by hand. */
	static const char by_hand[] = "[{\"name\":\"a\",\"namespace\":\"n\","
	                              "\"replicas\":1,\"suspended\":false}]";
	assert_int_equal(
	    pin_doc_parse(by_hand, strlen(by_hand), &v, &n, err, sizeof(err)),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].suspended, 0);
	free(v);

	assert_int_equal(pin_doc_generate(NULL, 0, &doc, &len), 0);
	v = (struct pin_entry *)&err;
	assert_int_equal(pin_doc_parse(doc, len, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pin_doc_good),
	    cmocka_unit_test(test_pin_doc_two_namespaces),
	    cmocka_unit_test(test_pin_doc_refused),
	    cmocka_unit_test(test_pin_doc_bounds),
	    cmocka_unit_test(test_pin_doc_round_trip),
	};

	return cmocka_run_group_tests_name("pin_doc", tests, NULL, NULL);
}
