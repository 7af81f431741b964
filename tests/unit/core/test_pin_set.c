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

static const char *const shop_only[] = {"shop"};
/* One served namespace, bounds out of the way. */
static const struct pin_set_cfg one = {shop_only, 1, 100, SIZE_MAX, SIZE_MAX};
static const struct pin_set_cfg one3 = {shop_only, 1, 3, SIZE_MAX, SIZE_MAX};

static const char doc[] =
    "[{\"name\":\"web\",\"namespace\":\"other\",\"replicas\":4},"
    "{\"name\":\"db\",\"namespace\":\"shop\",\"replicas\":1},"
    "{\"name\":\"api\",\"namespace\":\"shop\",\"replicas\":0}]";

static struct pin_set *
parse(const char *text)
{
	struct pin_set *s = NULL;
	char err[256];

	assert_int_equal(
	    pin_set_parse(text, strlen(text), &one, &s, err, sizeof(err)), 0);
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
	assert_int_equal(pin_set_get(s, "shop", "db", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pin_set_get(s, "shop", "web", &n), -1);
	assert_int_equal(pin_set_next(s, "", "shop", "", &pin), 1);
	assert_string_equal(pin.name, "api");
	assert_int_equal(pin.replicas, 0);
	assert_int_equal(pin_set_next(s, "", "shop", "api", &pin), 1);
	assert_string_equal(pin.name, "db");
	assert_int_equal(pin_set_next(s, "", "shop", "b", &pin), 1);
	assert_string_equal(pin.name, "db");
	assert_int_equal(pin_set_next(s, "", "shop", "db", &pin), 0);
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
	assert_int_equal(pin_set_parse("[{\"name\":\"db\"}]", 15, &one, &s, err,
	                     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "namespace missing"));
	assert_ptr_equal(s, (struct pin_set *)&s);
	assert_int_equal(
	    pin_set_parse(doc, strlen(doc), &one3, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err,
	    "deployment \"web\" in namespace \"other\" is pinned to 4, above "
	    "the core's --max-replicas 3"));
	assert_int_equal(pin_set_parse("", 0, &one3, &s, err, sizeof(err)), -1);
	assert_ptr_equal(s, (struct pin_set *)&s);
}

/** Every result of a change; the base never changes. */
/* pin_set_diff's callback: counts the names it gets. */
static void
count_diff(void *arg, const char *ns, const char *name)
{
	(void)ns;
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
	c = (struct pin_change){"shop", "cache", 0, 7, 0};
	assert_int_equal(
	    pin_set_apply(s, &one, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	assert_int_equal(had, 0);
	assert_int_equal(pin_set_count(n), 3);
	assert_int_equal(pin_set_get(n, "shop", "cache", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(pin_set_get(s, "shop", "cache", &v), -1);
	assert_int_equal(pin_set_total(n), 4);
	pin_set_free(n);
	/* Change one: old count reported. */
	c = (struct pin_change){"shop", "db", 0, 2, 0};
	n = NULL;
	assert_int_equal(
	    pin_set_apply(s, &one, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	assert_int_equal(had, 1);
	assert_int_equal(old, 1);
	assert_int_equal(pin_set_get(n, "shop", "db", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(pin_set_get(s, "shop", "db", &v), 0);
	assert_int_equal(v, 1);
	pin_set_free(n);
	/* The same count: SAME, no new set. */
	c = (struct pin_change){"shop", "db", 0, 1, 0};
	n = NULL;
	assert_int_equal(
	    pin_set_apply(s, &one, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_SAME);
	assert_null(n);
	assert_int_equal(had, 1);
	assert_int_equal(old, 1);
	/* The same count, now suspended: a change (kept, not reconciled);
	 * the diff names it, and the pin lists as suspended. */
	c = (struct pin_change){"shop", "db", 0, 1, 1};
	assert_int_equal(
	    pin_set_apply(s, &one, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	assert_int_equal(pin_set_suspended(n, "shop", "db"), 1);
	assert_int_equal(pin_set_suspended(s, "shop", "db"), 0);
	{
		struct ps_pin pin;

		assert_int_equal(pin_set_next(n, "", "shop", "cache", &pin), 1);
		assert_string_equal(pin.name, "db");
		assert_int_equal(pin.state, PS_PIN_SUSPENDED);
	}
	diffs = 0;
	pin_set_diff(s, n, count_diff, &diffs);
	assert_int_equal(diffs, 1);
	pin_set_free(n);
	n = NULL;
	/* Remove: CHANGED, then the removal of a missing one: NO_PIN. */
	c = (struct pin_change){"shop", "api", 1, 0, 0};
	assert_int_equal(
	    pin_set_apply(s, &one, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	assert_int_equal(old, 0);
	assert_int_equal(pin_set_count(n), 1);
	assert_int_equal(pin_set_total(n), 2);
	pin_set_free(n);
	n = NULL;
	c = (struct pin_change){
	    "shop", "web", 1, 0, 0}; /* only in another namespace */
	assert_int_equal(
	    pin_set_apply(s, &one, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_NO_PIN);
	assert_null(n);
	assert_int_equal(had, 0);
	/* Refusals. */
	c = (struct pin_change){"shop", "db", 0, 101, 0};
	assert_int_equal(
	    pin_set_apply(s, &one, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_REFUSED);
	assert_non_null(strstr(err, "above the maximum 100"));
	c = (struct pin_change){"shop", "Not_Valid", 0, 1, 0};
	assert_int_equal(
	    pin_set_apply(s, &one, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_REFUSED);
	c = (struct pin_change){"shop", "", 1, 0, 0};
	assert_int_equal(
	    pin_set_apply(s, &one, &c, &n, &had, &old, err, sizeof(err)),
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
	    pin_set_parse(out, len, &one, &back, err, sizeof(err)), 0);
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
name_cb(void *arg, const char *ns, const char *name)
{
	struct names *nm = arg;

	assert_string_equal(ns, "shop");
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
	    pin_set_parse(text, len, &one, &s, err, sizeof(err)), 0);
	c = (struct pin_change){"shop", "new", 0, 1, 0};
	assert_int_equal(
	    pin_set_apply(s, &one, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_REFUSED);
	assert_non_null(strstr(err, "too many pins"));
	c = (struct pin_change){"shop", "d1", 0, 2, 0};
	assert_int_equal(
	    pin_set_apply(s, &one, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	pin_set_free(n);
	pin_set_free(s);
	free(text);
}

/* Two served namespaces ("shop", "blog"); "other" is not served. */
static const char *const two_ns[] = {"shop", "blog"};
static const struct pin_set_cfg two = {two_ns, 2, 100, SIZE_MAX, SIZE_MAX};

static const char doc2[] =
    "[{\"name\":\"web\",\"namespace\":\"other\",\"replicas\":4},"
    "{\"name\":\"db\",\"namespace\":\"shop\",\"replicas\":1},"
    "{\"name\":\"api\",\"namespace\":\"shop\",\"replicas\":0},"
    "{\"name\":\"db\",\"namespace\":\"blog\",\"replicas\":2},"
    "{\"name\":\"zz\",\"namespace\":\"aaa\",\"replicas\":5,"
    "\"suspended\":true}]";

static struct pin_set *
parse2(const char *text)
{
	struct pin_set *s = NULL;
	char err[256];

	assert_int_equal(
	    pin_set_parse(text, strlen(text), &two, &s, err, sizeof(err)), 0);
	return s;
}

/** Two served namespaces: the same name in each is two pins; counts per
 *  namespace; namespaces outside the set neither counted nor found. */
static void
test_pin_set_two_namespaces_lookup(void **state)
{
	struct pin_set *s = parse2(doc2);
	uint32_t v;

	(void)state;
	assert_int_equal(pin_set_count(s), 3);
	assert_int_equal(pin_set_total(s), 5);
	assert_int_equal(pin_set_count_ns(s, "shop"), 2);
	assert_int_equal(pin_set_count_ns(s, "blog"), 1);
	assert_int_equal(pin_set_count_ns(s, "other"), 0);
	assert_int_equal(pin_set_count_ns(s, "aaa"), 0);
	assert_int_equal(pin_set_count_ns(s, "zzz"), 0);
	assert_int_equal(pin_set_get(s, "shop", "db", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(pin_set_get(s, "blog", "db", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(pin_set_get(s, "blog", "api", &v), -1);
	assert_int_equal(pin_set_get(s, "other", "web", &v), -1);
	assert_int_equal(pin_set_get(s, "aaa", "zz", &v), -1);
	assert_int_equal(pin_set_suspended(s, "aaa", "zz"), 0);
	assert_int_equal(pin_set_serves(&two, "blog"), 1);
	assert_int_equal(pin_set_serves(&two, "other"), 0);
	pin_set_free(s);
}

/** Iteration is in (namespace, name) order over served namespaces only,
 *  resumes after any key (also one that is gone), and filters by one
 *  namespace ("" and NULL: all). */
static void
test_pin_set_two_namespaces_next(void **state)
{
	struct pin_set *s = parse2(doc2);
	struct ps_pin pin;
	const char *want[][2] = {
	    {"blog", "db"}, {"shop", "api"}, {"shop", "db"}};
	char ans[PS_MAX_NAMESPACE + 1] = "", an[PS_MAX_NAME + 1] = "";
	size_t i = 0;

	(void)state;
	while (pin_set_next(s, NULL, ans, an, &pin) == 1) {
		assert_true(i < 3);
		assert_string_equal(pin.namespace, want[i][0]);
		assert_string_equal(pin.name, want[i][1]);
		memcpy(ans, pin.namespace, sizeof(ans));
		memcpy(an, pin.name, sizeof(an));
		i++;
	}
	assert_int_equal(i, 3);
	/* "" is every namespace too. */
	assert_int_equal(pin_set_next(s, "", "blog", "db", &pin), 1);
	assert_string_equal(pin.namespace, "shop");
	assert_string_equal(pin.name, "api");
	/* Resume after a key that is not there. */
	assert_int_equal(pin_set_next(s, "", "blog", "zzz", &pin), 1);
	assert_string_equal(pin.namespace, "shop");
	assert_string_equal(pin.name, "api");
	assert_int_equal(pin_set_next(s, "", "other", "", &pin), 1);
	assert_string_equal(pin.namespace, "shop");
	/* A filter: from the start, from before it, after it, inside it. */
	assert_int_equal(pin_set_next(s, "shop", "", "", &pin), 1);
	assert_string_equal(pin.namespace, "shop");
	assert_string_equal(pin.name, "api");
	assert_int_equal(pin_set_next(s, "shop", "blog", "db", &pin), 1);
	assert_string_equal(pin.name, "api");
	assert_int_equal(pin_set_next(s, "shop", "shop", "api", &pin), 1);
	assert_string_equal(pin.name, "db");
	assert_int_equal(pin_set_next(s, "shop", "shop", "db", &pin), 0);
	assert_int_equal(pin_set_next(s, "shop", "zzz", "", &pin), 0);
	assert_int_equal(pin_set_next(s, "blog", "", "", &pin), 1);
	assert_string_equal(pin.namespace, "blog");
	assert_string_equal(pin.name, "db");
	assert_int_equal(pin_set_next(s, "blog", "blog", "db", &pin), 0);
	/* Not served: nothing, although the document has entries. */
	assert_int_equal(pin_set_next(s, "other", "", "", &pin), 0);
	assert_int_equal(pin_set_next(s, "aaa", "", "", &pin), 0);
	pin_set_free(s);
}

/* The (namespace, name) pairs the diff names. */
static void
pair_cb(void *arg, const char *ns, const char *name)
{
	struct names *nm = arg;

	assert_true(nm->n < 8);
	snprintf(nm->v[nm->n++], sizeof(nm->v[0]), "%s/%s", ns, name);
}

/** Put, change and delete in each served namespace; the other namespace
 *  of the same name is not touched; a namespace outside the set is
 *  NOT_SERVED with the core's message and nothing changes; entries
 *  outside the set come back unchanged in the generated document. */
static void
test_pin_set_two_namespaces_apply(void **state)
{
	struct pin_set *s = parse2(doc2), *n = NULL, *m = NULL;
	struct pin_change c;
	struct names nm;
	char err[256];
	uint32_t old, v;
	int had;

	(void)state;
	c = (struct pin_change){"blog", "api", 0, 7, 0};
	assert_int_equal(
	    pin_set_apply(s, &two, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	assert_int_equal(had, 0);
	assert_int_equal(pin_set_get(n, "blog", "api", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(pin_set_get(n, "shop", "api", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(pin_set_count_ns(n, "blog"), 2);
	assert_int_equal(pin_set_count_ns(n, "shop"), 2);
	/* Change blog/db, not shop/db. */
	c = (struct pin_change){"blog", "db", 0, 9, 1};
	assert_int_equal(
	    pin_set_apply(n, &two, &c, &m, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	assert_int_equal(had, 1);
	assert_int_equal(old, 2);
	assert_int_equal(pin_set_suspended(m, "blog", "db"), 1);
	assert_int_equal(pin_set_suspended(m, "shop", "db"), 0);
	assert_int_equal(pin_set_get(m, "shop", "db", &v), 0);
	assert_int_equal(v, 1);
	memset(&nm, 0, sizeof(nm));
	pin_set_diff(s, m, pair_cb, &nm);
	assert_int_equal(nm.n, 2);
	assert_string_equal(nm.v[0], "blog/api");
	assert_string_equal(nm.v[1], "blog/db");
	pin_set_free(n);
	n = NULL;
	/* Delete shop/db: blog/db stays. */
	c = (struct pin_change){"shop", "db", 1, 0, 0};
	assert_int_equal(
	    pin_set_apply(m, &two, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	assert_int_equal(old, 1);
	assert_int_equal(pin_set_get(n, "shop", "db", &v), -1);
	assert_int_equal(pin_set_get(n, "blog", "db", &v), 0);
	assert_int_equal(v, 9);
	pin_set_free(m);
	m = NULL;
	/* A name pinned only in a namespace outside the set is no pin. */
	c = (struct pin_change){"blog", "zz", 1, 0, 0};
	assert_int_equal(
	    pin_set_apply(n, &two, &c, &m, &had, &old, err, sizeof(err)),
	    PIN_SET_NO_PIN);
	/* Outside the set: refused, whether the document has the entry or
	 * not, put or delete, and nothing is made. */
	c = (struct pin_change){"other", "web", 1, 0, 0};
	had = 1;
	old = 1;
	assert_int_equal(
	    pin_set_apply(n, &two, &c, &m, &had, &old, err, sizeof(err)),
	    PIN_SET_NOT_SERVED);
	assert_null(m);
	assert_int_equal(had, 0);
	assert_int_equal(old, 0);
	assert_string_equal(err,
	    "namespace \"other\" is not served by this replicad (namespaces: "
	    "shop, blog)");
	c = (struct pin_change){"other", "web", 0, 4, 0};
	assert_int_equal(
	    pin_set_apply(n, &two, &c, &m, &had, &old, err, sizeof(err)),
	    PIN_SET_NOT_SERVED);
	c = (struct pin_change){"nope", "new", 0, 1, 0};
	assert_int_equal(
	    pin_set_apply(n, &two, &c, &m, &had, &old, err, sizeof(err)),
	    PIN_SET_NOT_SERVED);
	c = (struct pin_change){"", "new", 0, 1, 0};
	assert_int_equal(
	    pin_set_apply(n, &two, &c, &m, &had, &old, err, sizeof(err)),
	    PIN_SET_NOT_SERVED);
	assert_null(m);
	/* The document still holds other/web and aaa/zz as they were. */
	{
		char *out = NULL;
		size_t len = 0, k = 0;
		struct pin_entry *e = NULL;

		assert_int_equal(pin_set_generate(n, &out, &len), 0);
		assert_int_equal(
		    pin_doc_parse(out, len, &e, &k, err, sizeof(err)), 0);
		assert_int_equal(k, 5);
		assert_string_equal(e[0].namespace, "aaa");
		assert_string_equal(e[0].name, "zz");
		assert_int_equal(e[0].replicas, 5);
		assert_int_equal(e[0].suspended, 1);
		assert_string_equal(e[1].namespace, "blog");
		assert_string_equal(e[1].name, "api");
		assert_string_equal(e[2].namespace, "blog");
		assert_string_equal(e[2].name, "db");
		assert_string_equal(e[3].namespace, "other");
		assert_string_equal(e[3].name, "web");
		assert_int_equal(e[3].replicas, 4);
		assert_int_equal(e[3].suspended, 0);
		assert_string_equal(e[4].namespace, "shop");
		assert_string_equal(e[4].name, "api");
		free(e);
		free(out);
	}
	pin_set_free(n);
	pin_set_free(s);
}

/** The per-namespace bound stops new pins of a full namespace only; the
 *  total bound counts served namespaces, not the others. */
static void
test_pin_set_namespace_bounds(void **state)
{
	const struct pin_set_cfg lim = {two_ns, 2, 100, 2, 3};
	struct pin_set *s = NULL, *n = NULL;
	struct pin_change c;
	char err[256];
	uint32_t old;
	int had;

	(void)state;
	assert_int_equal(
	    pin_set_parse(doc2, strlen(doc2), &lim, &s, err, sizeof(err)), 0);
	/* shop has 2 (full), blog 1, total 3 (full); others do not count. */
	c = (struct pin_change){"shop", "new", 0, 1, 0};
	assert_int_equal(
	    pin_set_apply(s, &lim, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_REFUSED);
	assert_non_null(strstr(err,
	    "too many pins in namespace \"shop\" (at "
	    "most 2)"));
	c = (struct pin_change){"blog", "new", 0, 1, 0};
	assert_int_equal(
	    pin_set_apply(s, &lim, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_REFUSED);
	assert_non_null(strstr(err, "served (at most 3)"));
	/* A pin that exists may change or go. */
	c = (struct pin_change){"shop", "db", 0, 5, 0};
	assert_int_equal(
	    pin_set_apply(s, &lim, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	pin_set_free(n);
	n = NULL;
	c = (struct pin_change){"shop", "db", 1, 0, 0};
	assert_int_equal(
	    pin_set_apply(s, &lim, &c, &n, &had, &old, err, sizeof(err)),
	    PIN_SET_CHANGED);
	/* ...and then blog has room in the total. */
	{
		struct pin_set *m = NULL;

		c = (struct pin_change){"blog", "new", 0, 1, 0};
		assert_int_equal(pin_set_apply(n, &lim, &c, &m, &had, &old, err,
		                     sizeof(err)),
		    PIN_SET_CHANGED);
		pin_set_free(m);
	}
	pin_set_free(n);
	pin_set_free(s);
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
	    cmocka_unit_test(test_pin_set_two_namespaces_lookup),
	    cmocka_unit_test(test_pin_set_two_namespaces_next),
	    cmocka_unit_test(test_pin_set_two_namespaces_apply),
	    cmocka_unit_test(test_pin_set_namespace_bounds),
	};

	return cmocka_run_group_tests_name("pin_set", tests, NULL, NULL);
}
