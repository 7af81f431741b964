/* Unit tests for tests/kube-sim/ks_query.c and ks_select.c: query
 * validation with the API server's Status texts, continue tokens,
 * selectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_query.h"
#include "tests/kube-sim/ks_select.h"
#include "tests/kube-sim/ks_status.h"

static int
parse(const char *qs, struct ks_query *q, struct ks_status *st)
{
	return ks_query_parse(q, qs, "deployments", "apps", st);
}

/* Boolean rules from runtime/conversion.go. */
static void
test_ks_query_bool(void **state)
{
	(void)state;
	assert_false(ks_query_bool(NULL));
	assert_false(ks_query_bool("0"));
	assert_false(ks_query_bool("FaLsE"));
	assert_true(ks_query_bool(""));
	assert_true(ks_query_bool("1"));
	assert_true(ks_query_bool("yes"));
}

/* Each bad parameter class gets its code and exact message. */
static void
test_ks_query_rejects(void **state)
{
	static const struct {
		const char *qs;
		int code;
		const char *msg;
	} cases[] = {
	    {"limit=abc", 400,
	        "strconv.ParseInt: parsing \"abc\": invalid syntax"},
	    {"limit=9223372036854775808", 400,
	        "strconv.ParseInt: parsing \"9223372036854775808\": value out "
	        "of range"},
	    {"timeoutSeconds=1x", 400,
	        "strconv.ParseInt: parsing \"1x\": invalid syntax"},
	    {"resourceVersion=-1", 422,
	        "deployments.apps \"\" is invalid: resourceVersion: Invalid "
	        "value: \"-1\": strconv.ParseUint: parsing \"-1\": invalid "
	        "syntax"},
	    {"resourceVersionMatch=Exact&resourceVersion=0", 422,
	        "ListOptions.meta.k8s.io \"\" is invalid: "
	        "resourceVersionMatch: Forbidden: resourceVersionMatch "
	        "\"exact\" is forbidden for resourceVersion \"0\""},
	    {"resourceVersionMatch=Bogus&resourceVersion=3", 422,
	        "ListOptions.meta.k8s.io \"\" is invalid: "
	        "resourceVersionMatch: Unsupported value: \"Bogus\": "
	        "supported values: \"Exact\", \"NotOlderThan\", \"\""},
	    {"watch=1&sendInitialEvents=true", 422,
	        "ListOptions.meta.k8s.io \"\" is invalid: "
	        "resourceVersionMatch: Forbidden: sendInitialEvents requires "
	        "setting resourceVersionMatch to NotOlderThan"},
	    {"sendInitialEvents=true", 422,
	        "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: "
	        "Forbidden: sendInitialEvents is forbidden for list"},
	    {"continue=%%%", 400, NULL},
	    {"continue=YWJj", 400, NULL},
	    {"labelSelector=a%3D%3D%3Db", 400, NULL},
	    {"fieldSelector=status.x%3D1", 400,
	        "field label not supported: status.x"},
	};
	struct ks_query q;
	struct ks_status st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].qs, &q, &st), -1);
		assert_int_equal(st.code, cases[i].code);
		if (cases[i].msg != NULL)
			assert_string_equal(st.message, cases[i].msg);
	}
}

/* Accepted forms, including negative limit = no limit. */
static void
test_ks_query_accepts(void **state)
{
	struct ks_query q;
	struct ks_status st;

	(void)state;
	assert_int_equal(parse("watch&resourceVersion=12&allowWatchBookmarks="
	                       "true&timeoutSeconds=30&limit=-5",
	                     &q, &st),
	    0);
	assert_true(q.watch);
	assert_true(q.bookmarks);
	assert_true(q.has_rv);
	assert_int_equal(q.rv, 12);
	assert_int_equal(q.timeout, 30);
	assert_false(q.has_limit);
	ks_query_clear(&q);
	assert_int_equal(parse(NULL, &q, &st), 0);
	assert_false(q.watch);
	ks_query_clear(&q);
}

/* Continue tokens round-trip; a foreign one is refused. */
static void
test_ks_query_continue_roundtrip(void **state)
{
	char *tok = ks_query_continue_encode(42, "ns", "web"), *start, err[128];
	uint64_t rv;

	(void)state;
	assert_non_null(tok);
	assert_int_equal(
	    ks_query_continue_decode(tok, &rv, &start, err, sizeof(err)), 0);
	assert_int_equal(rv, 42);
	assert_string_equal(start, "ns/web");
	free(start);
	free(tok);
	/* base64url of {"v":"x"} */
	assert_int_equal(ks_query_continue_decode(
	                     "eyJ2IjoieCJ9", &rv, &start, err, sizeof(err)),
	    -1);
	assert_null(start);
}

/* Label selectors: all operators, and hostile input. */
static void
test_ks_select_labels(void **state)
{
	struct ks_selector s;
	struct ks_json *labels;
	enum ks_json_err jerr;
	char err[256];
	static const char *bad[] = {"a b", "=x", "a=(", "a in b", "a in (x",
	    "a!x", "x/y/z=1", ",", "a,,b"};
	size_t i;

	(void)state;
	static const char lj[] = "{\"app\":\"web\",\"tier\":\"fe\"}";

	labels = ks_json_parse(lj, strlen(lj), &jerr, NULL, 0);
	assert_non_null(labels);
	assert_int_equal(ks_selector_parse_labels(&s,
	                     "app=web, tier!=be,"
	                     "tier in (fe,x),!canary,app",
	                     err, sizeof(err)),
	    0);
	assert_int_equal(s.nreqs, 5);
	assert_true(ks_selector_match_labels(&s, labels));
	ks_selector_clear(&s);
	assert_int_equal(
	    ks_selector_parse_labels(&s, "tier notin (fe)", err, sizeof(err)),
	    0);
	assert_false(ks_selector_match_labels(&s, labels));
	ks_selector_clear(&s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    ks_selector_parse_labels(&s, bad[i], err, sizeof(err)), -1);
		assert_non_null(strstr(err, "unable to parse requirement"));
	}
	ks_json_free(labels);
}

/* Field selectors: name/namespace with =, ==, != only. */
static void
test_ks_select_fields(void **state)
{
	struct ks_selector s;
	char err[256];

	(void)state;
	assert_int_equal(
	    ks_selector_parse_fields(&s,
	        "metadata.name==web,metadata.namespace!=kube-system", err,
	        sizeof(err)),
	    0);
	assert_true(ks_selector_match_fields(&s, "default", "web"));
	assert_false(ks_selector_match_fields(&s, "kube-system", "web"));
	assert_false(ks_selector_match_fields(&s, "default", "api"));
	ks_selector_clear(&s);
	assert_int_equal(
	    ks_selector_parse_fields(&s, "spec.replicas=1", err, sizeof(err)),
	    -1);
	assert_string_equal(err, "field label not supported: spec.replicas");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ks_query_bool),
	    cmocka_unit_test(test_ks_query_rejects),
	    cmocka_unit_test(test_ks_query_accepts),
	    cmocka_unit_test(test_ks_query_continue_roundtrip),
	    cmocka_unit_test(test_ks_select_labels),
	    cmocka_unit_test(test_ks_select_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
