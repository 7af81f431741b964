/*
 * test_query.c — the write routes' query string (gateway/query.c): the
 * dry-run spellings, and one row per refused class.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/query.h"

static void
test_query_table(void **state)
{
	static const struct {
		const char *doc, *q;
		enum query_err want;
		int dry_run;
	} rows[] = {
	    {"nothing after ?", "", QUERY_OK, 0},
	    {"true", "dryRun=true", QUERY_OK, 1},
	    {"Kubernetes' All", "dryRun=All", QUERY_OK, 1},
	    {"false", "dryRun=false", QUERY_OK, 0},
	    {"empty value", "dryRun=", QUERY_BAD_VALUE, 0},
	    {"value case", "dryRun=True", QUERY_BAD_VALUE, 0},
	    {"all lower", "dryRun=all", QUERY_BAD_VALUE, 0},
	    {"number", "dryRun=1", QUERY_BAD_VALUE, 0},
	    {"percent-encoded value", "dryRun=%74rue", QUERY_BAD_VALUE, 0},
	    {"value with =", "dryRun=true=1", QUERY_BAD_VALUE, 0},
	    {"name case", "dryrun=true", QUERY_UNKNOWN, 0},
	    {"percent-encoded name", "dry%52un=true", QUERY_UNKNOWN, 0},
	    {"other parameter", "x=1", QUERY_UNKNOWN, 0},
	    {"dryRun then another", "dryRun=true&x=1", QUERY_UNKNOWN, 0},
	    {"Kubernetes' fieldManager", "fieldManager=me", QUERY_UNKNOWN, 0},
	    {"repeated", "dryRun=true&dryRun=true", QUERY_REPEATED, 0},
	    {"repeated, contradicting", "dryRun=false&dryRun=All",
	        QUERY_REPEATED, 0},
	    {"no =", "dryRun", QUERY_MALFORMED, 0},
	    {"empty name", "=true", QUERY_MALFORMED, 0},
	    {"lone &", "&", QUERY_MALFORMED, 0},
	    {"trailing &", "dryRun=true&", QUERY_MALFORMED, 0},
	    {"leading &", "&dryRun=true", QUERY_MALFORMED, 0},
	    {"double &", "dryRun=true&&x=1", QUERY_MALFORMED, 0},
	};
	struct query_write w;
	enum query_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		w.dry_run = 42;
		e = query_parse_write(rows[i].q, strlen(rows[i].q), &w);
		if (e != rows[i].want)
			fail_msg("%s: got %d, want %d", rows[i].doc, e,
			    rows[i].want);
		if (e == QUERY_OK)
			assert_int_equal(w.dry_run, rows[i].dry_run);
		assert_non_null(query_message(e));
	}
}

/* The length is honoured: bytes past it are never read. */
static void
test_query_counted(void **state)
{
	struct query_write w;

	(void)state;
	assert_int_equal(
	    query_parse_write("dryRun=true&x=1", 11, &w), QUERY_OK);
	assert_int_equal(w.dry_run, 1);
	assert_int_equal(
	    query_parse_write("dryRun=All HTTP", 10, &w), QUERY_OK);
	assert_int_equal(query_parse_write("dryRun=truex", 11, &w), QUERY_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_query_table),
	    cmocka_unit_test(test_query_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
