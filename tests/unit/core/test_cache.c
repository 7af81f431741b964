/*
 * test_cache.c — the Deployment cache: put/get/del, copies not views,
 * relist mark-and-sweep, the entry bound, sorted names, growth.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/kube/cache.h"
#include "proto-socket/ps_codec.h"

static struct cache_deploy
deploy(const char *name, int32_t desired, const char *rv)
{
	struct cache_deploy d;

	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.namespace, sizeof(d.namespace), "shop");
	snprintf(d.rv, sizeof(d.rv), "%s", rv);
	d.desired = desired;
	return d;
}

/** Put then get returns a copy; a second put replaces in place. */
static void
test_cache_put_get_replace(void **state)
{
	struct cache *c = cache_new(10);
	struct cache_deploy d = deploy("web", 3, "1"), out;

	(void)state;
	assert_int_equal(cache_put(c, &d), 0);
	d.desired = 99; /* the cache holds its own copy */
	assert_int_equal(cache_get(c, "web", &out), 0);
	assert_int_equal(out.desired, 3);
	d = deploy("web", 5, "2");
	assert_int_equal(cache_put(c, &d), 0);
	assert_int_equal(cache_size(c), 1);
	assert_int_equal(cache_get(c, "web", &out), 0);
	assert_int_equal(out.desired, 5);
	assert_string_equal(out.rv, "2");
	cache_free(c);
}

/** Absent names: get and del fail with ENOENT and change nothing. */
/* Entries are stored at their own lengths: the longest of each field and
 * the empty ones come back exactly, replaced by longer or shorter. */
static void
test_cache_field_lengths_round_trip(void **state)
{
	struct cache *c = cache_new(4);
	struct cache_deploy d, got;

	(void)state;
	assert_non_null(c);
	memset(&d, 0, sizeof(d));
	memset(d.name, 'n', PS_MAX_NAME);
	memset(d.namespace, 's', PS_MAX_NAMESPACE);
	memset(d.uid, 'u', CACHE_MAX_UID);
	memset(d.rv, 'r', PS_MAX_RV);
	d.generation = INT64_MAX;
	d.observed_generation = -1;
	d.desired = INT32_MAX;
	d.replicas = 1;
	d.ready = 2;
	d.available = 3;
	d.updated = 4;
	assert_int_equal(cache_put(c, &d), 0);
	assert_int_equal(cache_get(c, d.name, &got), 0);
	assert_string_equal(got.name, d.name);
	assert_string_equal(got.namespace, d.namespace);
	assert_string_equal(got.uid, d.uid);
	assert_string_equal(got.rv, d.rv);
	assert_true(
	    got.generation == INT64_MAX && got.observed_generation == -1);
	assert_true(got.desired == INT32_MAX && got.replicas == 1 &&
	    got.ready == 2 && got.available == 3 && got.updated == 4);
	/* Shorter strings replace longer ones in place of the same name. */
	d.namespace[0] = '\0';
	d.uid[1] = '\0';
	snprintf(d.rv, sizeof(d.rv), "7");
	assert_int_equal(cache_put(c, &d), 0);
	assert_int_equal(cache_size(c), 1);
	assert_int_equal(cache_get(c, d.name, &got), 0);
	assert_string_equal(got.namespace, "");
	assert_string_equal(got.uid, "u");
	assert_string_equal(got.rv, "7");
	cache_free(c);
}

static void
test_cache_absent(void **state)
{
	struct cache *c = cache_new(10);
	struct cache_deploy d = deploy("web", 3, "1"), out;

	(void)state;
	assert_int_equal(cache_put(c, &d), 0);
	errno = 0;
	assert_int_equal(cache_get(c, "api", &out), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(cache_del(c, "api"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(cache_size(c), 1);
	assert_int_equal(cache_del(c, "web"), 0);
	assert_int_equal(cache_size(c), 0);
	assert_int_equal(cache_get(c, "web", &out), -1);
	cache_free(c);
}

/** The entry bound: the (max+1)th new name is refused, updates are not. */
static void
test_cache_bound(void **state)
{
	struct cache *c = cache_new(2);
	struct cache_deploy a = deploy("a", 1, "1"), b = deploy("b", 1, "2"),
	                    x = deploy("x", 1, "3");

	(void)state;
	assert_int_equal(cache_put(c, &a), 0);
	assert_int_equal(cache_put(c, &b), 0);
	errno = 0;
	assert_int_equal(cache_put(c, &x), -1);
	assert_int_equal(errno, ENOSPC);
	a.desired = 7;
	assert_int_equal(cache_put(c, &a), 0);
	assert_int_equal(cache_size(c), 2);
	cache_free(c);
}

/** Relist: what the new list did not mention is swept away. */
static void
test_cache_mark_sweep(void **state)
{
	struct cache *c = cache_new(100);
	struct cache_deploy d, out;
	char name[16];

	(void)state;
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		d = deploy(name, i, "1");
		assert_int_equal(cache_put(c, &d), 0);
	}
	cache_mark(c);
	for (int i = 0; i < 10; i += 2) {
		snprintf(name, sizeof(name), "d%d", i);
		d = deploy(name, i, "2");
		assert_int_equal(cache_put(c, &d), 0);
	}
	assert_int_equal(cache_sweep(c), 5);
	assert_int_equal(cache_size(c), 5);
	assert_int_equal(cache_get(c, "d4", &out), 0);
	assert_string_equal(out.rv, "2");
	assert_int_equal(cache_get(c, "d5", &out), -1);
	assert_int_equal(cache_sweep(c), 0);
	cache_free(c);
}

/** Many entries: growth keeps every entry reachable; names come sorted. */
static void
test_cache_many_sorted(void **state)
{
	enum { N = 10000 };
	static const char *names[N];
	struct cache *c = cache_new(N);
	struct cache_deploy d, out;
	char name[32];

	(void)state;
	for (int i = N - 1; i >= 0; i--) {
		snprintf(name, sizeof(name), "dep-%05d", i);
		d = deploy(name, i % 7, "1");
		assert_int_equal(cache_put(c, &d), 0);
	}
	assert_int_equal(cache_size(c), N);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "dep-%05d", i);
		assert_int_equal(cache_get(c, name, &out), 0);
		assert_int_equal(out.desired, i % 7);
	}
	assert_int_equal(cache_names(c, names, N), N);
	for (int i = 1; i < N; i++)
		assert_true(strcmp(names[i - 1], names[i]) < 0);
	assert_string_equal(names[0], "dep-00000");
	cache_free(c);
}

/** Walking by "next after" sees a consistent order while names come and
 *  go: removed names are skipped, names added after the cursor appear. */
static void
test_cache_next_name_walk_while_changing(void **state)
{
	struct cache *c = cache_new(100);
	struct cache_deploy d;
	char cur[PS_MAX_NAME + 1] = "", seen[8][PS_MAX_NAME + 1];
	const char *init[] = {"b", "d", "f", "h"};
	int n = 0;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		d = deploy(init[i], 1, "1");
		assert_int_equal(cache_put(c, &d), 0);
	}
	while (cache_next_name(c, cur, cur) == 1) {
		assert_true(n < 8);
		memcpy(seen[n++], cur, sizeof(cur));
		if (strcmp(cur, "b") == 0) {
			assert_int_equal(cache_del(c, "d"), 0); /* ahead */
			d = deploy("a", 1, "2");                /* behind */
			assert_int_equal(cache_put(c, &d), 0);
			d = deploy("e", 1, "3"); /* ahead */
			assert_int_equal(cache_put(c, &d), 0);
		}
	}
	assert_int_equal(n, 4);
	assert_string_equal(seen[0], "b");
	assert_string_equal(seen[1], "e");
	assert_string_equal(seen[2], "f");
	assert_string_equal(seen[3], "h");
	assert_int_equal(cache_next_name(c, "h", cur), 0);
	assert_int_equal(cache_next_name(c, "zzz", cur), 0);
	/* The sorted index survives a sweep. */
	cache_mark(c);
	d = deploy("f", 2, "4");
	assert_int_equal(cache_put(c, &d), 0);
	assert_int_equal(cache_sweep(c), 4);
	assert_int_equal(cache_next_name(c, "", cur), 1);
	assert_string_equal(cur, "f");
	assert_int_equal(cache_next_name(c, "f", cur), 0);
	cache_free(c);
}

/** The annotations' record survives the cache whole (a GET answer and
 * every write's bounds come from it). */
static void
test_cache_annotations_round_trip(void **state)
{
	struct cache *c = cache_new(10);
	struct cache_deploy d = deploy("web", 3, "1"), out;

	(void)state;
	d.annot.bounds = PS_B_MIN | PS_B_MAX;
	d.annot.min_replicas = 2;
	d.annot.max_replicas = 9;
	d.annot.pin_suspended = 1;
	assert_int_equal(cache_put(c, &d), 0);
	memset(&out, 0xa5, sizeof(out)); /* nothing may be left unset */
	assert_int_equal(cache_get(c, "web", &out), 0);
	assert_int_equal(out.annot.bounds, PS_B_MIN | PS_B_MAX);
	assert_int_equal(out.annot.min_replicas, 2);
	assert_int_equal(out.annot.max_replicas, 9);
	assert_int_equal(out.annot.pin_suspended, 1);
	cache_free(c);
}

/** Caches sharing a bound (the namespaces served): a new entry is
 *  refused in any of them once the total is reached; a replace is not;
 *  delete, sweep and free give room back. */
static void
test_cache_shared_bound(void **state)
{
	struct cache *a = cache_new(10), *b = cache_new(10);
	struct cache_deploy d = deploy("one", 1, "1");
	size_t total = 0;

	(void)state;
	assert_int_equal(cache_put(a, &d), 0);
	cache_share_bound(a, &total, 3);
	cache_share_bound(b, &total, 3);
	assert_int_equal(total, 1);
	d = deploy("two", 1, "2");
	assert_int_equal(cache_put(b, &d), 0);
	d = deploy("three", 1, "3");
	assert_int_equal(cache_put(b, &d), 0);
	assert_int_equal(total, 3);
	d = deploy("four", 1, "4");
	errno = 0;
	assert_int_equal(cache_put(a, &d), -1);
	assert_int_equal(errno, ENOSPC);
	d = deploy("two", 5, "5"); /* a replace needs no room */
	assert_int_equal(cache_put(b, &d), 0);
	assert_int_equal(cache_del(b, "two"), 0);
	assert_int_equal(total, 2);
	d = deploy("four", 1, "4");
	assert_int_equal(cache_put(a, &d), 0);
	assert_int_equal(total, 3);
	cache_mark(a);
	assert_int_equal(cache_sweep(a), 2);
	assert_int_equal(total, 1);
	cache_free(b);
	assert_int_equal(total, 0);
	cache_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cache_shared_bound),
	    cmocka_unit_test(test_cache_put_get_replace),
	    cmocka_unit_test(test_cache_annotations_round_trip),
	    cmocka_unit_test(test_cache_field_lengths_round_trip),
	    cmocka_unit_test(test_cache_absent),
	    cmocka_unit_test(test_cache_bound),
	    cmocka_unit_test(test_cache_mark_sweep),
	    cmocka_unit_test(test_cache_many_sorted),
	    cmocka_unit_test(test_cache_next_name_walk_while_changing),
	};

	cache_free(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
