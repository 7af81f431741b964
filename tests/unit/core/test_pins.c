/*
 * test_pins.c — the pin store over a real file in a temporary directory:
 * creation, load, refusals at open, put/get/next/delete, persistence
 * across reopen, other namespaces kept, and a failed write changing
 * nothing.
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

#include "core/pin_doc.h"
#include "core/pins.h"

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
	struct pins *p = pins_open_file(f->path, "shop", 100, err, sizeof(err));
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
	p = pins_open_file(f->path, "shop", 100, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(pins_count(p), 1);
	assert_int_equal(pins_get(p, "web", &n), -1); /* another namespace */
	assert_int_equal(pins_get(p, "db", &n), 0);
	assert_int_equal(n, 1);

	assert_int_equal(
	    pins_put(p, "web", 3, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(had, 0);
	assert_int_equal(
	    pins_put(p, "api", 0, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(pins_put(p, "db", 2, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(had, 1);
	assert_int_equal(old, 1);
	/* Same count again: no change, still reported. */
	assert_int_equal(pins_put(p, "db", 2, &had, &old, err, sizeof(err)), 0);
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

	assert_int_equal(pins_delete(p, "api", &old, err, sizeof(err)), 0);
	assert_int_equal(old, 0);
	assert_int_equal(
	    pins_delete(p, "api", &old, err, sizeof(err)), PINS_NO_PIN);
	pins_free(p);

	p = pins_open_file(f->path, "shop", 100, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(pins_count(p), 2);
	assert_int_equal(pins_get(p, "db", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pins_get(p, "web", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pins_get(p, "api", &n), -1);
	pins_free(p);
	/* The other namespace still has its own "web". */
	p = pins_open_file(f->path, "other", 100, err, sizeof(err));
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
	assert_null(pins_open_file(f->path, "shop", 100, err, sizeof(err)));
	assert_non_null(strstr(err, "is invalid: entry 1: namespace missing"));

	write_file(f->path,
	    "[{\"name\":\"db\",\"namespace\":\"x\","
	    "\"replicas\":101}]");
	assert_null(pins_open_file(f->path, "shop", 100, err, sizeof(err)));
	assert_non_null(strstr(err, "above the core's --max-replicas 100"));

	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_null(pins_open_file(f->path, "shop", 100, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(rmdir(f->path), 0);

	/* A directory that does not exist: the first write fails. */
	assert_null(pins_open_file(
	    "/nonexistent-dir/pins.json", "shop", 100, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot store the pins file"));
}

/** Refused input and a failed write change nothing, in memory or file. */
static void
test_pins_failure_changes_nothing(void **state)
{
	struct fx *f = *state;
	char err[256], tmp[160];
	struct pins *p = pins_open_file(f->path, "shop", 100, err, sizeof(err));
	struct pin_entry *v;
	uint32_t n, old;
	int had;

	assert_non_null(p);
	assert_int_equal(pins_put(p, "db", 5, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(
	    pins_put(p, "db", 101, &had, &old, err, sizeof(err)), PINS_REFUSED);
	assert_non_null(strstr(err, "above the maximum 100"));
	assert_int_equal(
	    pins_put(p, "Bad", 1, &had, &old, err, sizeof(err)), PINS_REFUSED);

	/* PATH.tmp cannot be created (a directory is in the way). */
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(pins_put(p, "db", 6, &had, &old, err, sizeof(err)),
	    PINS_STORE_FAILED);
	assert_non_null(strstr(err, "cannot store the pins file"));
	assert_int_equal(pins_put(p, "web", 6, &had, &old, err, sizeof(err)),
	    PINS_STORE_FAILED);
	assert_int_equal(
	    pins_delete(p, "db", &old, err, sizeof(err)), PINS_STORE_FAILED);
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
	};

	return cmocka_run_group_tests_name("pins", tests, NULL, NULL);
}
