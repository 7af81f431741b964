/*
 * test_pin_set.c — the pins document in memory: the split by namespace,
 * refusals at parse, every result of a change (and the base left as it
 * was), the merged document, the diff that tells the reconciler what
 * changed, and the entry bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pins/pin_doc.h"
#include "core/pins/pin_set.h"

static const char doc[] =
    "[{\"name\":\"web\",\"namespace\":\"other\",\"replicas\":4},"
    "{\"name\":\"db\",\"namespace\":\"shop\",\"replicas\":1},"
    "{\"name\":\"api\",\"namespace\":\"shop\",\"replicas\":0}]";

static struct pin_set *
parse(const char *text)
{
	struct pin_set *s = NULL;
	char err[256];

	assert_int_equal(pin_set_parse(text, strlen(text), "shop", 100, &s, err,
	                     sizeof(err)),
	    0);
	return s;
}

/** Own namespace is looked up and listed in name order; others kept. */
static void
test_pin_set_parse_split(void **state)
{
	struct pin_set *s = parse(doc);
	struct ps_pin pin;
	uint32_t n;

	(void)state;
	assert_int_equal(pin_set_count(s), 2);
	assert_int_equal(pin_set_total(s), 3);
	assert_int_equal(pin_set_get(s, "db", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pin_set_get(s, "web", &n), -1);
	assert_int_equal(pin_set_next(s, "", &pin), 1);
	assert_string_equal(pin.name, "api");
	assert_int_equal(pin.replicas, 0);
	assert_int_equal(pin_set_next(s, "api", &pin), 1);
	assert_string_equal(pin.name, "db");
	assert_int_equal(pin_set_next(s, "b", &pin), 1);
	assert_string_equal(pin.name, "db");
	assert_int_equal(pin_set_next(s, "db", &pin), 0);
	pin_set_free(s);
	pin_set_free(NULL);
}

/** A document the core cannot trust is refused, saying why, with *out
 *  untouched. */
static void
test_pin_set_parse_refusals(void **state)
{
	struct pin_set *s = (struct pin_set *)&s; /* a sentinel */
	char err[256];

	(void)state;
	assert_int_equal(pin_set_parse("[{\"name\":\"db\"}]", 15, "shop", 100,
	                     &s, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "namespace missing"));
	assert_ptr_equal(s, (struct pin_set *)&s);
	assert_int_equal(
	    pin_set_parse(doc, strlen(doc), "shop", 3, &s, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err,
	    "deployment \"web\" in namespace \"other\" is pinned to 4, above "
	    "the core's --max-replicas 3"));
	assert_int_equal(
	    pin_set_parse("", 0, "shop", 3, &s, err, sizeof(err)), -1);
	assert_ptr_equal(s, (struct pin_set *)&s);
}

/** Every result of a change; the base never changes. */
/* pin_set_diff's callback: counts the names it gets. */
static void
count_diff(void *arg, const char *name)
{
	(void)name;
	(*(int *)arg)++;
}

static void
test_pin_set_apply(void **state)
{
	struct pin_set *s = parse(doc), *n = NULL;
	struct pin_change c;
	char err[256];
	uint32_t old, v;
	int had, diffs;

	(void)state;
	/* Set a new pin: CHANGED, base untouched. */
	c = (struct pin_change){"cache", 0, 7, 0};
	assert_int_equal(
	    pin_set_apply(s, "shop", 100, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	assert_int_equal(had, 0);
	assert_int_equal(pin_set_count(n), 3);
	assert_int_equal(pin_set_get(n, "cache", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(pin_set_get(s, "cache", &v), -1);
	assert_int_equal(pin_set_total(n), 4);
	pin_set_free(n);
	/* Change one: old count reported. */
	c = (struct pin_change){"db", 0, 2, 0};
	n = NULL;
	assert_int_equal(
	    pin_set_apply(s, "shop", 100, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	assert_int_equal(had, 1);
	assert_int_equal(old, 1);
	assert_int_equal(pin_set_get(n, "db", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(pin_set_get(s, "db", &v), 0);
	assert_int_equal(v, 1);
	pin_set_free(n);
	/* The same count: SAME, no new set. */
	c = (struct pin_change){"db", 0, 1, 0};
	n = NULL;
	assert_int_equal(
	    pin_set_apply(s, "shop", 100, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_SAME);
	assert_null(n);
	assert_int_equal(had, 1);
	assert_int_equal(old, 1);
	/* The same count, now suspended: a change (kept, not reconciled);
	 * the diff names it, and the pin lists as suspended. */
	c = (struct pin_change){"db", 0, 1, 1};
	assert_int_equal(
	    pin_set_apply(s, "shop", 100, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	assert_int_equal(pin_set_suspended(n, "db"), 1);
	assert_int_equal(pin_set_suspended(s, "db"), 0);
	{
		struct ps_pin pin;

		assert_int_equal(pin_set_next(n, "cache", &pin), 1);
		assert_string_equal(pin.name, "db");
		assert_int_equal(pin.state, PS_PIN_SUSPENDED);
	}
	diffs = 0;
	pin_set_diff(s, n, count_diff, &diffs);
	assert_int_equal(diffs, 1);
	pin_set_free(n);
	n = NULL;
	/* Remove: CHANGED, then the removal of a missing one: NO_PIN. */
	c = (struct pin_change){"api", 1, 0, 0};
	assert_int_equal(
	    pin_set_apply(s, "shop", 100, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	assert_int_equal(old, 0);
	assert_int_equal(pin_set_count(n), 1);
	assert_int_equal(pin_set_total(n), 2);
	pin_set_free(n);
	n = NULL;
	c = (struct pin_change){"web", 1, 0, 0}; /* only in another namespace */
	assert_int_equal(
	    pin_set_apply(s, "shop", 100, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_NO_PIN);
	assert_null(n);
	assert_int_equal(had, 0);
	/* Refusals. */
	c = (struct pin_change){"db", 0, 101, 0};
	assert_int_equal(
	    pin_set_apply(s, "shop", 100, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_REFUSED);
	assert_non_null(strstr(err, "above the maximum 100"));
	c = (struct pin_change){"Not_Valid", 0, 1, 0};
	assert_int_equal(
	    pin_set_apply(s, "shop", 100, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_REFUSED);
	c = (struct pin_change){"", 1, 0, 0};
	assert_int_equal(
	    pin_set_apply(s, "shop", 100, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_REFUSED);
	assert_null(n);
	pin_set_free(s);
}

/** The document holds every namespace, sorted, and parses back equal. */
static void
test_pin_set_generate_round_trip(void **state)
{
	struct pin_set *s = parse(doc), *back = NULL;
	struct pin_entry *v = NULL;
	char *out = NULL, err[256];
	size_t len = 0, n = 0;

	(void)state;
	assert_int_equal(pin_set_generate(s, &out, &len), 0);
	assert_int_equal(pin_doc_parse(out, len, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].namespace, "other");
	assert_string_equal(v[1].name, "api");
	assert_string_equal(v[2].name, "db");
	assert_int_equal(
	    pin_set_parse(out, len, "shop", 100, &back, err, sizeof(err)), 0);
	assert_int_equal(pin_set_total(back), 3);
	free(v);
	free(out);
	pin_set_free(back);
	/* An empty set is "[]". */
	back = pin_set_new();
	assert_non_null(back);
	assert_int_equal(pin_set_generate(back, &out, &len), 0);
	assert_int_equal(pin_doc_parse(out, len, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	free(out);
	pin_set_free(back);
	pin_set_free(s);
}

struct names {
	char v[8][32];
	size_t n;
};

static void
name_cb(void *arg, const char *name)
{
	struct names *nm = arg;

	assert_true(nm->n < 8);
	snprintf(nm->v[nm->n++], sizeof(nm->v[0]), "%s", name);
}

/** Added, removed and changed pins are named once, in order; equal
 *  ones and other namespaces are not; NULL is empty. */
static void
test_pin_set_diff(void **state)
{
	struct pin_set *a = parse(doc);
	struct pin_set *b =
	    parse("[{\"name\":\"web\",\"namespace\":\"other\",\"replicas\":9},"
	          "{\"name\":\"db\",\"namespace\":\"shop\",\"replicas\":3},"
	          "{\"name\":\"cache\",\"namespace\":\"shop\",\"replicas\":1},"
	          "{\"name\":\"zed\",\"namespace\":\"shop\",\"replicas\":1}]");
	struct names nm;

	(void)state;
	memset(&nm, 0, sizeof(nm));
	pin_set_diff(a, b, name_cb, &nm);
	assert_int_equal(nm.n, 4);
	assert_string_equal(nm.v[0], "api");   /* removed */
	assert_string_equal(nm.v[1], "cache"); /* added */
	assert_string_equal(nm.v[2], "db");    /* changed */
	assert_string_equal(nm.v[3], "zed");   /* added */
	memset(&nm, 0, sizeof(nm));
	pin_set_diff(a, a, name_cb, &nm);
	assert_int_equal(nm.n, 0);
	memset(&nm, 0, sizeof(nm));
	pin_set_diff(NULL, a, name_cb, &nm);
	assert_int_equal(nm.n, 2);
	memset(&nm, 0, sizeof(nm));
	pin_set_diff(b, NULL, name_cb, &nm);
	assert_int_equal(nm.n, 3);
	pin_set_diff(NULL, NULL, name_cb, &nm);
	assert_int_equal(nm.n, 3);
	pin_set_free(a);
	pin_set_free(b);
}

/** A store that is full refuses a new pin but still changes an old one;
 *  entries of other namespaces count. */
static void
test_pin_set_entry_bound(void **state)
{
	size_t cap = (size_t)PIN_DOC_MAX_ENTRIES * 64 + 16, len = 1;
	char *text = malloc(cap), err[256];
	struct pin_set *s = NULL, *n = NULL;
	struct pin_change c;
	uint32_t old;
	int had;

	(void)state;
	assert_non_null(text);
	text[0] = '[';
	for (int i = 0; i < PIN_DOC_MAX_ENTRIES; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "%s{\"name\":\"d%d\",\"namespace\":\"%s\",\"replicas\":1}",
		    i == 0 ? "" : ",", i, i % 2 ? "shop" : "other");
	text[len++] = ']';
	assert_int_equal(
	    pin_set_parse(text, len, "shop", 100, &s, err, sizeof(err)), 0);
	c = (struct pin_change){"new", 0, 1, 0};
	assert_int_equal(
	    pin_set_apply(s, "shop", 100, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_REFUSED);
	assert_non_null(strstr(err, "too many pins"));
	c = (struct pin_change){"d1", 0, 2, 0};
	assert_int_equal(
	    pin_set_apply(s, "shop", 100, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	pin_set_free(n);
	pin_set_free(s);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pin_set_parse_split),
	    cmocka_unit_test(test_pin_set_parse_refusals),
	    cmocka_unit_test(test_pin_set_apply),
	    cmocka_unit_test(test_pin_set_generate_round_trip),
	    cmocka_unit_test(test_pin_set_diff),
	    cmocka_unit_test(test_pin_set_entry_bound),
	};

	return cmocka_run_group_tests_name("pin_set", tests, NULL, NULL);
}
