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

static const char *const SHOP[] = {"shop"};
static const char *const OTHER[] = {"other"};

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
put_ns(struct pins *p, const char *ns, const char *name, uint32_t n, int *had,
    uint32_t *old, char *err, size_t errsz)
{
	struct outcome o;

	memset(&o, 0, sizeof(o));
	assert_null(pins_put(p, ns, name, n, 0, "test", 10001, done_cb, &o));
	assert_int_equal(o.called, 1);
	*had = o.res.had;
	*old = o.res.old;
	snprintf(err, errsz, "%.200s", o.res.message);
	if (o.res.rc == 0) {
		assert_int_equal(o.res.code, 0);
		assert_int_equal(o.res.replicas, n);
		assert_string_equal(o.res.name, name);
		assert_string_equal(o.res.namespace, ns);
	} else
		assert_int_not_equal(o.res.code, 0);
	return o.res.rc;
}

/* In "shop", the namespace of the one-namespace tests. */
static int
put(struct pins *p, const char *name, uint32_t n, int *had, uint32_t *old,
    char *err, size_t errsz)
{
	return put_ns(p, "shop", name, n, had, old, err, errsz);
}

static int
del_ns(struct pins *p, const char *ns, const char *name, uint32_t *old,
    char *err, size_t errsz)
{
	struct outcome o;

	memset(&o, 0, sizeof(o));
	assert_null(pins_delete(p, ns, name, "test", 10001, done_cb, &o));
	assert_int_equal(o.called, 1);
	snprintf(err, errsz, "%.200s", o.res.message);
	if (o.res.rc == 0) {
		*old = o.res.old;
		assert_int_equal(o.res.replicas, o.res.old);
	}
	if (o.res.rc == PINS_NO_PIN || o.res.rc == PINS_NOT_SERVED)
		assert_int_equal(o.res.code, PS_E_NOT_FOUND);
	return o.res.rc;
}

static int
del(struct pins *p, const char *name, uint32_t *old, char *err, size_t errsz)
{
	return del_ns(p, "shop", name, old, err, errsz);
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
	    pins_open_file(f->path, SHOP, 1, 100, NULL, err, sizeof(err));
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
	p = pins_open_file(f->path, SHOP, 1, 100, NULL, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(pins_count(p), 1);
	assert_int_equal(
	    pins_get(p, "shop", "web", &n), -1); /* another namespace */
	assert_int_equal(pins_get(p, "shop", "db", &n), 0);
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
	assert_int_equal(pins_next(p, NULL, "shop", "", &pin), 1);
	assert_string_equal(pin.name, "api");
	assert_int_equal(pins_next(p, NULL, "shop", "api", &pin), 1);
	assert_string_equal(pin.name, "db");
	assert_int_equal(
	    pins_next(p, NULL, "shop", "cat", &pin), 1); /* not a pin itself */
	assert_string_equal(pin.name, "db");
	assert_int_equal(pins_next(p, NULL, "shop", "db", &pin), 1);
	assert_string_equal(pin.name, "web");
	assert_int_equal(pin.replicas, 3);
	assert_int_equal(pins_next(p, NULL, "shop", "web", &pin), 0);

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

	p = pins_open_file(f->path, SHOP, 1, 100, NULL, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(pins_count(p), 2);
	assert_int_equal(pins_get(p, "shop", "db", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pins_get(p, "shop", "web", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pins_get(p, "shop", "api", &n), -1);
	pins_free(p);
	/* The other namespace still has its own "web". */
	p = pins_open_file(f->path, OTHER, 1, 100, NULL, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(pins_get(p, "other", "web", &n), 0);
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
	    pins_open_file(f->path, SHOP, 1, 100, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "is invalid: entry 1: namespace missing"));

	write_file(f->path,
	    "[{\"name\":\"db\",\"namespace\":\"x\","
	    "\"replicas\":101}]");
	assert_null(
	    pins_open_file(f->path, SHOP, 1, 100, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "above the core's --max-replicas 100"));

	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_null(
	    pins_open_file(f->path, SHOP, 1, 100, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(rmdir(f->path), 0);

	/* A directory that does not exist: the first write fails. */
	assert_null(pins_open_file("/nonexistent-dir/pins.json", SHOP, 1, 100,
	    NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot store the pins file"));
}

/** Refused input and a failed write change nothing, in memory or file. */
static void
test_pins_failure_changes_nothing(void **state)
{
	struct fx *f = *state;
	char err[256], tmp[160];
	struct pins *p =
	    pins_open_file(f->path, SHOP, 1, 100, NULL, err, sizeof(err));
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
	assert_int_equal(pins_get(p, "shop", "db", &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(pins_get(p, "shop", "web", &n), -1);
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
changed_cb(void *arg, const char *ns, const char *name)
{
	struct names *nm = arg;

	assert_true(nm->n < 8);
	snprintf(nm->v[nm->n++], sizeof(nm->v[0]), "%s/%s", ns, name);
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
	p = pins_open_file(f->path, SHOP, 1, 100, &hooks, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(pins_loaded(p), 1);
	assert_int_equal(nm.n, 0);
	assert_int_equal(put(p, "web", 2, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(nm.n, 1);
	assert_string_equal(nm.v[0], "shop/web");
	assert_int_equal(pins_get(p, "shop", "web", &n), 0);
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
	assert_string_equal(nm.v[1], "shop/db");
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
	    pins_open_file(f->path, SHOP, 1, 100, NULL, err, sizeof(err));
	struct outcome o;

	assert_non_null(p);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(&o, 0, sizeof(o));
	assert_null(pins_put(p, "shop", big, 1, 0, "test", 10001, done_cb, &o));
	assert_int_equal(o.res.rc, PINS_REFUSED);
	assert_int_equal(o.res.code, PS_E_INVALID);
	memset(&o, 0, sizeof(o));
	assert_null(
	    pins_put(p, "shop", "db", 1, 0, "bad\nid", 10001, done_cb, &o));
	assert_int_equal(o.res.rc, PINS_REFUSED);
	assert_non_null(strstr(o.res.message, "invalid client identity"));
	assert_int_equal(pins_count(p), 0);
	pins_free(p);
}

static const char *const TWO[] = {"shop", "blog"};

/* The whole file, for byte comparisons. */
static size_t
file_bytes(const char *path, char *buf, size_t cap)
{
	FILE *fp = fopen(path, "r");
	size_t len;

	assert_non_null(fp);
	len = fread(buf, 1, cap - 1, fp);
	fclose(fp);
	buf[len] = '\0';
	return len;
}

/** Two served namespaces in one file: put/get/delete in each (the same
 *  name is two pins), counts per namespace, (namespace, name) iteration
 *  with and without a filter, the hook naming the namespace; entries of
 *  namespaces outside the set are kept as they were across changes and
 *  reopen. */
static void
test_pins_two_namespaces(void **state)
{
	struct fx *f = *state;
	struct names nm;
	struct pins_hooks hooks = {changed_cb, &nm};
	char err[256];
	struct pins *p;
	struct pin_entry *v;
	struct ps_pin pin;
	uint32_t n, old;
	int had;

	memset(&nm, 0, sizeof(nm));
	write_file(f->path,
	    "[{\"name\":\"web\",\"namespace\":\"other\",\"replicas\":4,"
	    "\"suspended\":true},"
	    "{\"name\":\"db\",\"namespace\":\"shop\",\"replicas\":1}]");
	p = pins_open_file(f->path, TWO, 2, 100, &hooks, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(pins_namespaces(p), 2);
	assert_string_equal(pins_namespace(p, 0), "shop");
	assert_string_equal(pins_namespace(p, 1), "blog");
	assert_string_equal(pins_namespace(p, 2), "");
	assert_int_equal(pins_serves(p, "blog"), 1);
	assert_int_equal(pins_serves(p, "other"), 0);
	assert_int_equal(pins_count(p), 1);
	assert_int_equal(pins_count_ns(p, "shop"), 1);
	assert_int_equal(pins_count_ns(p, "blog"), 0);
	assert_int_equal(pins_count_ns(p, "other"), 0);

	assert_int_equal(
	    put_ns(p, "blog", "db", 7, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(had, 0);
	assert_int_equal(
	    put_ns(p, "blog", "api", 2, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(
	    put_ns(p, "shop", "db", 3, &had, &old, err, sizeof(err)), 0);
	assert_int_equal(old, 1);
	assert_int_equal(nm.n, 3);
	assert_string_equal(nm.v[0], "blog/db");
	assert_string_equal(nm.v[1], "blog/api");
	assert_string_equal(nm.v[2], "shop/db");
	assert_int_equal(pins_get(p, "blog", "db", &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(pins_get(p, "shop", "db", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pins_get(p, "other", "web", &n), -1);
	assert_int_equal(pins_suspended(p, "other", "web"), 0);
	assert_int_equal(pins_count(p), 3);
	assert_int_equal(pins_count_ns(p, "blog"), 2);

	/* Every namespace, in (namespace, name) order. */
	assert_int_equal(pins_next(p, NULL, "", "", &pin), 1);
	assert_string_equal(pin.namespace, "blog");
	assert_string_equal(pin.name, "api");
	assert_int_equal(pins_next(p, "", "blog", "api", &pin), 1);
	assert_string_equal(pin.namespace, "blog");
	assert_string_equal(pin.name, "db");
	assert_int_equal(pins_next(p, NULL, "blog", "db", &pin), 1);
	assert_string_equal(pin.namespace, "shop");
	assert_string_equal(pin.name, "db");
	assert_int_equal(pin.replicas, 3);
	assert_int_equal(pins_next(p, NULL, "shop", "db", &pin), 0);
	/* One namespace. */
	assert_int_equal(pins_next(p, "shop", "", "", &pin), 1);
	assert_string_equal(pin.namespace, "shop");
	assert_string_equal(pin.name, "db");
	assert_int_equal(pins_next(p, "shop", "shop", "db", &pin), 0);
	assert_int_equal(pins_next(p, "blog", "blog", "api", &pin), 1);
	assert_string_equal(pin.name, "db");
	assert_int_equal(pins_next(p, "other", "", "", &pin), 0);

	/* Delete in one namespace: the other's pin of that name stays. */
	assert_int_equal(del_ns(p, "blog", "db", &old, err, sizeof(err)), 0);
	assert_int_equal(old, 7);
	assert_int_equal(pins_get(p, "blog", "db", &n), -1);
	assert_int_equal(pins_get(p, "shop", "db", &n), 0);
	assert_int_equal(
	    del_ns(p, "blog", "db", &old, err, sizeof(err)), PINS_NO_PIN);
	assert_non_null(
	    strstr(err, "deployment \"db\" has no pin in namespace \"blog\""));
	assert_int_equal(nm.n, 4);
	assert_string_equal(nm.v[3], "blog/db");

	assert_int_equal(file_entries(f->path, &v), 3);
	assert_string_equal(v[0].namespace, "blog");
	assert_string_equal(v[0].name, "api");
	assert_string_equal(v[1].namespace, "other");
	assert_string_equal(v[1].name, "web");
	assert_int_equal(v[1].replicas, 4);
	assert_int_equal(v[1].suspended, 1);
	assert_string_equal(v[2].namespace, "shop");
	free(v);
	pins_free(p);

	/* Reopened with the namespaces the other way round: the same. */
	{
		const char *const rev[] = {"blog", "shop"};

		p = pins_open_file(
		    f->path, rev, 2, 100, NULL, err, sizeof(err));
		assert_non_null(p);
		assert_int_equal(pins_count(p), 2);
		assert_int_equal(pins_get(p, "blog", "api", &n), 0);
		assert_int_equal(n, 2);
		assert_int_equal(pins_get(p, "shop", "db", &n), 0);
		assert_int_equal(n, 3);
		pins_free(p);
	}
	/* A core serving "other" finds its entry as it was. */
	p = pins_open_file(f->path, OTHER, 1, 100, NULL, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(pins_get(p, "other", "web", &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(pins_suspended(p, "other", "web"), 1);
	pins_free(p);
}

/** A namespace outside the served set: put, delete and their dry runs
 *  answer PINS_NOT_SERVED (NOT_FOUND) with the core's message, audited;
 *  the file is not written (not even rewritten), the hook not called,
 *  also when the document holds that namespace's entry. */
static void
test_pins_not_served(void **state)
{
	struct fx *f = *state;
	struct names nm;
	struct pins_hooks hooks = {changed_cb, &nm};
	char err[256], before[4096], after[4096], tmp[160];
	struct pins *p;
	struct pins_result res;
	struct outcome o;
	uint32_t n, old;
	int had;

	memset(&nm, 0, sizeof(nm));
	write_file(f->path,
	    "[{\"name\":\"web\",\"namespace\":\"other\",\"replicas\":4}]");
	p = pins_open_file(f->path, TWO, 2, 100, &hooks, err, sizeof(err));
	assert_non_null(p);
	(void)file_bytes(f->path, before, sizeof(before));
	/* A directory in the way of PATH.tmp: any write would fail. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	assert_int_equal(mkdir(tmp, 0700), 0);

	assert_int_equal(
	    put_ns(p, "other", "web", 5, &had, &old, err, sizeof(err)),
	    PINS_NOT_SERVED);
	assert_string_equal(err,
	    "namespace \"other\" is not served by this replicad (namespaces: "
	    "shop, blog)");
	assert_int_equal(had, 0);
	assert_int_equal(
	    put_ns(p, "nope", "new", 5, &had, &old, err, sizeof(err)),
	    PINS_NOT_SERVED);
	assert_int_equal(
	    del_ns(p, "other", "web", &old, err, sizeof(err)), PINS_NOT_SERVED);
	assert_int_equal(del_ns(p, "Bad_NS", "web", &old, err, sizeof(err)),
	    PINS_NOT_SERVED);
	memset(&o, 0, sizeof(o));
	assert_null(pins_put(p, "", "web", 1, 0, "test", 10001, done_cb, &o));
	assert_int_equal(o.res.rc, PINS_NOT_SERVED);
	assert_int_equal(o.res.code, PS_E_NOT_FOUND);

	pins_try(p, "other", "web", 0, 9, 0, &res);
	assert_int_equal(res.rc, PINS_NOT_SERVED);
	assert_int_equal(res.code, PS_E_NOT_FOUND);
	assert_non_null(strstr(res.message, "is not served"));
	assert_string_equal(res.namespace, "other");
	pins_try(p, "other", "web", 1, 0, 0, &res);
	assert_int_equal(res.rc, PINS_NOT_SERVED);
	/* A dry run in a served namespace answers as usual. */
	pins_try(p, "blog", "web", 0, 9, 0, &res);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.replicas, 9);

	{
		char msg[PS_MAX_MESSAGE + 1];

		pins_not_served(p, "x", msg, sizeof(msg));
		assert_string_equal(msg,
		    "namespace \"x\" is not served by this replicad "
		    "(namespaces: shop, blog)");
	}
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(nm.n, 0);
	assert_int_equal(pins_count(p), 0);
	assert_int_equal(pins_get(p, "other", "web", &n), -1);
	(void)file_bytes(f->path, after, sizeof(after));
	assert_string_equal(before, after);
	{
		struct pins_stats st;

		pins_get_stats(p, &st);
		assert_int_equal(st.store_failures, 0);
	}
	pins_free(p);
}

/** The served set is checked at open: 1..PS_MAX_NAMESPACES labels,
 *  without duplicates. */
static void
test_pins_open_namespaces(void **state)
{
	struct fx *f = *state;
	char err[256];
	const char *const dup[] = {"shop", "blog", "shop"};
	const char *const bad[] = {"shop", "Not_A_Label"};
	const char *many[PS_MAX_NAMESPACES + 1];
	char names[PS_MAX_NAMESPACES + 1][8];
	struct pins *p;

	(void)state;
	assert_null(
	    pins_open_file(f->path, dup, 3, 100, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "namespace \"shop\" is served twice"));
	assert_null(
	    pins_open_file(f->path, bad, 2, 100, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "served namespace 2 is not a DNS-1123"));
	assert_null(
	    pins_open_file(f->path, SHOP, 0, 100, NULL, err, sizeof(err)));
	assert_null(
	    pins_open_file(f->path, NULL, 1, 100, NULL, err, sizeof(err)));
	for (size_t i = 0; i < PS_MAX_NAMESPACES + 1; i++) {
		snprintf(names[i], sizeof(names[i]), "ns%zu", i);
		many[i] = names[i];
	}
	assert_null(pins_open_file(
	    f->path, many, PS_MAX_NAMESPACES + 1, 100, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "1 to 32 namespaces"));
	p = pins_open_file(
	    f->path, many, PS_MAX_NAMESPACES, 100, NULL, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(pins_namespaces(p), PS_MAX_NAMESPACES);
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
	    cmocka_unit_test_setup_teardown(
	        test_pins_two_namespaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_not_served, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pins_open_namespaces, setup, teardown),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests_name("pins", tests, NULL, NULL);
}
