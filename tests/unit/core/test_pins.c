/*
 * test_pins.c — the pin store's file backend over a real file in a
 * temporary directory: creation, load, refusals at open, put/get/next/
 * delete (answered before pins_put/pins_delete return), persistence
 * across reopen, other namespaces kept, a failed write changing nothing,
 * and the change hook naming exactly the pins that changed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pins/pin_doc.h"
#include "core/pins/pins.h"

/* What the store answered. */
struct outcome {
	int called;
	struct pins_result res;
};

static void
done_cb(void *arg, const struct pins_result *res)
{
	struct outcome *o = arg;

	o->called++;
	o->res = *res;
}

/* The file store answers at once: pins_put/pins_delete return NULL. */
static int
put(struct pins *p, const char *name, uint32_t n, int *had, uint32_t *old,
    char *err, size_t errsz)
{
	struct outcome o;

	memset(&o, 0, sizeof(o));
	assert_null(pins_put(p, name, n, 0, "test", 10001, done_cb, &o));
	assert_int_equal(o.called, 1);
	*had = o.res.had;
	*old = o.res.old;
	snprintf(err, errsz, "%.200s", o.res.message);
	if (o.res.rc == 0) {
		assert_int_equal(o.res.code, 0);
		assert_int_equal(o.res.replicas, n);
		assert_string_equal(o.res.name, name);
	} else
		assert_int_not_equal(o.res.code, 0);
	return o.res.rc;
}

static int
del(struct pins *p, const char *name, uint32_t *old, char *err, size_t errsz)
{
	struct outcome o;

	memset(&o, 0, sizeof(o));
	assert_null(pins_delete(p, name, "test", 10001, done_cb, &o));
	assert_int_equal(o.called, 1);
	snprintf(err, errsz, "%.200s", o.res.message);
	if (o.res.rc == 0) {
		*old = o.res.old;
		assert_int_equal(o.res.replicas, o.res.old);
	}
	if (o.res.rc == PINS_NO_PIN)
		assert_int_equal(o.res.code, PS_E_NOT_FOUND);
	return o.res.rc;
}

struct fx {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_pins.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/pins.json", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char tmp[160];

	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	(void)unlink(tmp);
	(void)unlink(f->path);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* The file's entries, parsed. */
static size_t
file_entries(const char *path, struct pin_entry **v)
{
	char buf[8192], err[256];
	FILE *fp = fopen(path, "r");
	size_t len, n;

	assert_non_null(fp);
	len = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_int_equal(pin_doc_parse(buf, len, v, &n, err, sizeof(err)), 0);
	return n;
}

/** A missing file is created holding [] with mode 0600. */
static void
test_pins_create(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct pins *p =
	    pins_open_file(f->path, "shop", 100, NULL, err, sizeof(err));
	struct pin_entry *v;
	struct stat st;

	assert_non_null(p);
	assert_int_equal(pins_count(p), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(file_entries(f->path, &v), 0);
	pins_free(p);
}

/** put, get, next, delete; every change is in the file at once, with
 *  the other namespace's entry kept; reopening gives the same pins. */
static void
test_pins_changes_persist(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct pins *p;
	struct pin_entry *v;
	struct ps_pin pin;
	uint32_t n, old;
	int had;

	write_file(f->path,
	    "[{\"name\":\"web\",\"namespace\":\"other\","
	    "\"replicas\":4},{\"name\":\"db\",\"namespace\":"
	    "\"shop\",\"replicas\":1}]");
	p = pins_open_file(f->path, "shop", 100, NULL, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(pins_count(p), 1);
	assert_int_equal(pins_get(p, "web", &n), -1); /* another namespace */
	assert_int_equal(pins_get(p, "db", &n), 0);
	assert_int_equal(n, 1);

	assert_int_equal(put(p, "web", 3, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(had, 0);
	assert_int_equal(put(p, "api", 0, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(put(p, "db", 2, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(had, 1);
	assert_int_equal(old, 1);
	/* Same count again: no change, still reported. */
	assert_int_equal(put(p, "db", 2, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(old, 2);

	/* Sorted iteration. */
	assert_int_equal(pins_next(p, "", &pin), 1);
	assert_string_equal(pin.name, "api");
	assert_int_equal(pins_next(p, "api", &pin), 1);
	assert_string_equal(pin.name, "db");
	assert_int_equal(pins_next(p, "cat", &pin), 1); /* not a pin itself */
	assert_string_equal(pin.name, "db");
	assert_int_equal(pins_next(p, "db", &pin), 1);
	assert_string_equal(pin.name, "web");
	assert_int_equal(pin.replicas, 3);
	assert_int_equal(pins_next(p, "web", &pin), 0);

	assert_int_equal(file_entries(f->path, &v), 4);
	assert_string_equal(v[3].namespace, "shop"); /* other < shop */
	assert_string_equal(v[0].namespace, "other");
	assert_string_equal(v[0].name, "web");
	assert_int_equal(v[0].replicas, 4);
	free(v);

	assert_int_equal(del(p, "api", &old, err, sizeof(err)), 0);
	assert_int_equal(old, 0);
	assert_int_equal(del(p, "api", &old, err, sizeof(err)), PINS_NO_PIN);
	pins_free(p);

	p = pins_open_file(f->path, "shop", 100, NULL, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(pins_count(p), 2);
	assert_int_equal(pins_get(p, "db", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pins_get(p, "web", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pins_get(p, "api", &n), -1);
	pins_free(p);
	/* The other namespace still has its own "web". */
	p = pins_open_file(f->path, "other", 100, NULL, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(pins_get(p, "web", &n), 0);
	assert_int_equal(n, 4);
	pins_free(p);
}

/** A file the core cannot trust stops it at open, saying why. */
static void
test_pins_open_refused(void **state)
{
	struct fx *f = *state;
	char err[256];

	write_file(f->path, "[{\"name\":\"db\"}]");
	assert_null(
	    pins_open_file(f->path, "shop", 100, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "is invalid: entry 1: namespace missing"));

	write_file(f->path,
	    "[{\"name\":\"db\",\"namespace\":\"x\","
	    "\"replicas\":101}]");
	assert_null(
	    pins_open_file(f->path, "shop", 100, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "above the core's --max-replicas 100"));

	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_null(
	    pins_open_file(f->path, "shop", 100, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(rmdir(f->path), 0);

	/* A directory that does not exist: the first write fails. */
	assert_null(pins_open_file(
	    "/nonexistent-dir/pins.json", "shop", 100, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot store the pins file"));
}

/** Refused input and a failed write change nothing, in memory or file. */
static void
test_pins_failure_changes_nothing(void **state)
{
	struct fx *f = *state;
	char err[256], tmp[160];
	struct pins *p =
	    pins_open_file(f->path, "shop", 100, NULL, err, sizeof(err));
	struct pin_entry *v;
	uint32_t n, old;
	int had;

	assert_non_null(p);
	assert_int_equal(put(p, "db", 5, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(
	    put(p, "db", 101, &had, &old, err, sizeof(err)), PINS_REFUSED);
	assert_non_null(strstr(err, "above the maximum 100"));
	assert_int_equal(
	    put(p, "Bad", 1, &had, &old, err, sizeof(err)), PINS_REFUSED);

	/* PATH.tmp cannot be created (a directory is in the way). */
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(
	    put(p, "db", 6, &had, &old, err, sizeof(err)), PINS_STORE_FAILED);
	assert_non_null(strstr(err, "cannot store the pins file"));
	assert_int_equal(
	    put(p, "web", 6, &had, &old, err, sizeof(err)), PINS_STORE_FAILED);
	assert_int_equal(
	    del(p, "db", &old, err, sizeof(err)), PINS_STORE_FAILED);
	assert_int_equal(rmdir(tmp), 0);

	assert_int_equal(pins_count(p), 1);
	assert_int_equal(pins_get(p, "db", &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(pins_get(p, "web", &n), -1);
	assert_int_equal(file_entries(f->path, &v), 1);
	assert_int_equal(v[0].replicas, 5);
	free(v);
	{
		struct pins_stats st;

		pins_get_stats(p, &st);
		assert_int_equal(st.store_failures, 3);
	}
	pins_free(p);
}

struct names {
	char v[8][64];
	size_t n;
};

static void
changed_cb(void *arg, const char *name)
{
	struct names *nm = arg;

	assert_true(nm->n < 8);
	snprintf(nm->v[nm->n++], sizeof(nm->v[0]), "%s", name);
}

/** The hook names each pin that changed, after the change is in place
 *  (pins_get already sees it); nothing for a no-op, a refusal, a failed
 *  write or a removal of a pin that was not there; not at open. */
static void
test_pins_hook(void **state)
{
	struct fx *f = *state;
	struct names nm;
	struct pins_hooks hooks = {changed_cb, &nm};
	char err[256], tmp[160];
	struct pins *p;
	uint32_t n, old;
	int had;

	memset(&nm, 0, sizeof(nm));
	write_file(f->path,
	    "[{\"name\":\"db\",\"namespace\":\"shop\",\"replicas\":1}]");
	p = pins_open_file(f->path, "shop", 100, &hooks, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(pins_loaded(p), 1);
	assert_int_equal(nm.n, 0);
	assert_int_equal(put(p, "web", 2, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(nm.n, 1);
	assert_string_equal(nm.v[0], "web");
	assert_int_equal(pins_get(p, "web", &n), 0);
	assert_int_equal(put(p, "web", 2, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(
	    put(p, "web", 999, &had, &old, err, sizeof(err)), PINS_REFUSED);
	assert_int_equal(del(p, "nope", &old, err, sizeof(err)), PINS_NO_PIN);
	assert_int_equal(nm.n, 1);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(
	    del(p, "db", &old, err, sizeof(err)), PINS_STORE_FAILED);
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(nm.n, 1);
	assert_int_equal(del(p, "db", &old, err, sizeof(err)), 0);
	assert_int_equal(nm.n, 2);
	assert_string_equal(nm.v[1], "db");
	pins_free(p);
}

/** A name or identity the gateway should have refused is refused here
 *  too, before the store is touched. */
static void
test_pins_revalidates(void **state)
{
	struct fx *f = *state;
	char err[256], big[300];
	struct pins *p =
	    pins_open_file(f->path, "shop", 100, NULL, err, sizeof(err));
	struct outcome o;

	assert_non_null(p);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(&o, 0, sizeof(o));
	assert_null(pins_put(p, big, 1, 0, "test", 10001, done_cb, &o));
	assert_int_equal(o.res.rc, PINS_REFUSED);
	assert_int_equal(o.res.code, PS_E_INVALID);
	memset(&o, 0, sizeof(o));
	assert_null(pins_put(p, "db", 1, 0, "bad\nid", 10001, done_cb, &o));
	assert_int_equal(o.res.rc, PINS_REFUSED);
	assert_non_null(strstr(o.res.message, "invalid client identity"));
	assert_int_equal(pins_count(p), 0);
	pins_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pins_create, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_changes_persist, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_open_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_failure_changes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pins_hook, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_revalidates, setup, teardown),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests_name("pins", tests, NULL, NULL);
}
