/*
 * test_ns_units.c — the namespaces served (--namespaces): the list's
 * parse (labels, duplicates, empties, the bound), the set's orders
 * (configured: the default first; sorted: LIST over every namespace),
 * lookup (a namespace not served is NULL), the home unit, the names for
 * messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/core_limits.h"
#include "core/ns_units.h"
#include "proto-socket/ps.h"

static char names[CORE_MAX_NAMESPACES][PS_MAX_NAMESPACE + 1];

static int
parse(const char *list, size_t *n, char *err, size_t errsz)
{
	memset(names, 0, sizeof(names));
	return nsu_parse_list(list, names, n, err, errsz);
}

/** One namespace, several in the order given. */
static void
test_nsu_parse_ok(void **state)
{
	char err[256];
	size_t n;

	(void)state;
	assert_int_equal(parse("shop", &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "shop");
	assert_int_equal(parse("web,api,a-1", &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "web");
	assert_string_equal(names[1], "api");
	assert_string_equal(names[2], "a-1");
}

/** Every refusal says why. */
static void
test_nsu_parse_refused(void **state)
{
	static const struct {
		const char *list, *why;
	} bad[] = {
	    {"", "empty"},
	    {",a", "empty"},
	    {"a,", "empty"},
	    {"a,,b", "empty"},
	    {"a,b,a", "given twice"},
	    {"Shop", "not a namespace"},
	    {"a b", "not a namespace"},
	    {"a.b", "not a namespace"},
	    {"-a", "not a namespace"},
	    {"a-", "not a namespace"},
	    {"a,b_c", "not a namespace"},
	    {"a,"
	     "0123456789012345678901234567890123456789012345678901234567890123",
	        "not a namespace"},
	};
	char err[256];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i].list, &n, err, sizeof(err)), -1);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", bad[i].list,
			    err, bad[i].why);
	}
}

/** CORE_MAX_NAMESPACES fit, one more does not; a 63-byte label fits. */
static void
test_nsu_parse_bounds(void **state)
{
	char list[CORE_MAX_NAMESPACES * 8 + 16], err[256];
	char label[PS_MAX_NAMESPACE + 1];
	size_t n, off = 0;

	(void)state;
	for (int i = 0; i < CORE_MAX_NAMESPACES; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off,
		    "%sns%d", i > 0 ? "," : "", i);
	assert_int_equal(parse(list, &n, err, sizeof(err)), 0);
	assert_int_equal(n, CORE_MAX_NAMESPACES);
	snprintf(list + off, sizeof(list) - off, ",extra");
	assert_int_equal(parse(list, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 32 namespaces"));
	memset(label, 'a', PS_MAX_NAMESPACE);
	label[PS_MAX_NAMESPACE] = '\0';
	assert_int_equal(parse(label, &n, err, sizeof(err)), 0);
	assert_string_equal(names[0], label);
}

/** The set: configured order (default first), sorted order, lookup. */
static void
test_nsu_set(void **state)
{
	char err[256];
	struct nsu *s;
	size_t n;

	(void)state;
	assert_int_equal(parse("web,api,zeta,b", &n, err, sizeof(err)), 0);
	s = nsu_new(names, n, "zeta");
	assert_non_null(s);
	assert_int_equal(nsu_count(s), 4);
	assert_string_equal(nsu_at(s, 0)->namespace, "web");
	assert_int_equal(nsu_at(s, 0)->index, 0);
	assert_string_equal(nsu_at(s, 3)->namespace, "b");
	assert_null(nsu_at(s, 4));
	assert_string_equal(nsu_sorted(s, 0)->namespace, "api");
	assert_string_equal(nsu_sorted(s, 1)->namespace, "b");
	assert_string_equal(nsu_sorted(s, 2)->namespace, "web");
	assert_string_equal(nsu_sorted(s, 3)->namespace, "zeta");
	assert_null(nsu_sorted(s, 4));
	assert_ptr_equal(nsu_find(s, "api"), nsu_at(s, 1));
	assert_null(nsu_find(s, "other"));
	assert_null(nsu_find(s, ""));
	assert_null(nsu_find(s, "WEB"));
	assert_ptr_equal(nsu_home(s), nsu_at(s, 2));
	assert_true(nsu_at(s, 2)->home);
	assert_false(nsu_at(s, 0)->home);
	assert_string_equal(nsu_names(s), "web, api, zeta, b");
	assert_null(nsu_at(s, 0)->cache); /* units start empty */
	nsu_free(s);
	/* The home namespace need not be served. */
	s = nsu_new(names, n, "elsewhere");
	assert_non_null(s);
	assert_null(nsu_home(s));
	nsu_free(s);
}

/** nsu_new checks again what nsu_parse_list checked. */
static void
test_nsu_new_refuses(void **state)
{
	char bad[2][PS_MAX_NAMESPACE + 1] = {"a", "a"};
	char upper[1][PS_MAX_NAMESPACE + 1] = {"A"};
	char full[CORE_MAX_NAMESPACES][PS_MAX_NAMESPACE + 1];
	struct nsu *s;

	(void)state;
	errno = 0;
	assert_null(nsu_new(bad, 2, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(nsu_new(upper, 1, NULL));
	assert_null(nsu_new(bad, 0, NULL));
	assert_null(nsu_new(bad, CORE_MAX_NAMESPACES + 1, NULL));
	for (int i = 0; i < CORE_MAX_NAMESPACES; i++)
		snprintf(full[i], sizeof(full[i]),
		    "namespace-with-a-long-name-number-%02d-"
		    "padded-to-the-end-of-a-lab",
		    i);
	s = nsu_new(full, CORE_MAX_NAMESPACES, NULL);
	assert_non_null(s);
	/* Every name, whole, in the message text. */
	assert_non_null(strstr(nsu_names(s), full[CORE_MAX_NAMESPACES - 1]));
	nsu_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nsu_parse_ok),
	    cmocka_unit_test(test_nsu_parse_refused),
	    cmocka_unit_test(test_nsu_parse_bounds),
	    cmocka_unit_test(test_nsu_set),
	    cmocka_unit_test(test_nsu_new_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
