/* Unit tests for tests/kube-sim/ks_store.c and ks_obj.c: resourceVersions,
 * no-op writes, the history ring, compaction, deletes, controller steps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_obj.h"
#include "tests/kube-sim/ks_status.h"
#include "tests/kube-sim/ks_store.h"

static int hook_calls;
static uint64_t hook_last_rv;

static void
hook(void *arg, const struct ks_event *e)
{
	(void)arg;
	hook_calls++;
	hook_last_rv = e->rv;
}

static struct ks_store *
store_with(size_t history, int n)
{
	struct ks_store *s = ks_store_new(history);
	char name[16];
	int i;

	assert_non_null(s);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		assert_int_equal(
		    ks_store_create(
		        s, ks_obj_new_deployment("ns", name, 2, 0), 0),
		    0);
	}
	return s;
}

static int
set_replicas(struct ks_store *s, const char *name, long long n)
{
	struct ks_obj *cur = ks_store_get(s, KS_KIND_DEPLOYMENT, "ns", name);
	struct ks_obj *next = ks_obj_clone(cur);

	assert_int_equal(
	    ks_json_set_int(ks_json_get(next->doc, "spec"), "replicas", n), 0);
	assert_int_equal(ks_obj_bump_generation(cur, next), 0);
	return ks_store_update(s, next);
}

/* Every commit takes the next RV, across objects; the hook sees it. */
static void
test_ks_store_rv_monotonic(void **state)
{
	struct ks_store *s = store_with(100, 3);

	(void)state;
	ks_store_set_hook(s, hook, NULL);
	hook_calls = 0;
	assert_int_equal(ks_store_rv(s), 3);
	assert_int_equal(set_replicas(s, "d1", 5), 0);
	assert_int_equal(ks_store_rv(s), 4);
	assert_int_equal(hook_calls, 1);
	assert_int_equal(hook_last_rv, 4);
	assert_string_equal(
	    ks_json_str(ks_json_getp(
	        ks_store_get(s, KS_KIND_DEPLOYMENT, "ns", "d1")->doc,
	        "metadata.resourceVersion")),
	    "4");
	assert_int_equal(
	    ks_obj_generation(ks_store_get(s, KS_KIND_DEPLOYMENT, "ns", "d1")),
	    2);
	ks_store_free(s);
}

/* A write that changes nothing makes no RV and no event. */
static void
test_ks_store_noop_write(void **state)
{
	struct ks_store *s = store_with(100, 1);

	(void)state;
	ks_store_set_hook(s, hook, NULL);
	hook_calls = 0;
	assert_int_equal(set_replicas(s, "d0", 2), 1);
	assert_int_equal(ks_store_rv(s), 1);
	assert_int_equal(hook_calls, 0);
	ks_store_free(s);
}

/* Create of an existing name fails with EEXIST; index stays sorted. */
static void
test_ks_store_create_exists_sorted(void **state)
{
	struct ks_store *s = store_with(100, 0);

	(void)state;
	assert_int_equal(
	    ks_store_create(s, ks_obj_new_deployment("ns", "b", 1, 0), 0), 0);
	assert_int_equal(
	    ks_store_create(s, ks_obj_new_deployment("ns", "a", 1, 0), 0), 0);
	assert_int_equal(
	    ks_store_create(s, ks_obj_new_deployment("ns", "a", 1, 0), 0), -1);
	assert_int_equal(errno, EEXIST);
	assert_string_equal(ks_store_at(s, KS_KIND_DEPLOYMENT, 0)->name, "a");
	assert_string_equal(ks_store_at(s, KS_KIND_DEPLOYMENT, 1)->name, "b");
	assert_int_equal(
	    ks_store_lower_bound(s, KS_KIND_DEPLOYMENT, "ns", "b"), 1);
	ks_store_free(s);
}

/* The ring keeps the last N events; older ones fall off. */
static void
test_ks_store_history_window(void **state)
{
	struct ks_store *s = store_with(4, 2);
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(set_replicas(s, "d0", 10 + i), 0);
	/* rv 1..7 happened; the ring holds 4..7. */
	assert_int_equal(ks_store_rv(s), 7);
	assert_int_equal(ks_store_oldest(s), 3);
	assert_null(ks_store_event(s, 3));
	assert_non_null(ks_store_event(s, 4));
	assert_int_equal(ks_store_event(s, 7)->type, KS_EV_MODIFIED);
	assert_null(ks_store_event(s, 8));
	ks_store_free(s);
}

/* Compaction drops history; oldest becomes the current RV. */
static void
test_ks_store_compact(void **state)
{
	struct ks_store *s = store_with(100, 3);

	(void)state;
	ks_store_compact(s, 2);
	assert_int_equal(ks_store_oldest(s), 2);
	ks_store_compact(s, 0);
	assert_int_equal(ks_store_oldest(s), 3);
	assert_int_equal(ks_store_history_len(s), 0);
	assert_int_equal(set_replicas(s, "d0", 9), 0);
	assert_non_null(ks_store_event(s, 4));
	ks_store_free(s);
}

/* DELETED carries the last state with the delete's own RV. */
static void
test_ks_store_delete_event(void **state)
{
	struct ks_store *s = store_with(100, 1);
	const struct ks_event *e;
	const char *line;
	size_t len;

	(void)state;
	assert_int_equal(ks_store_delete(s, KS_KIND_DEPLOYMENT, "ns", "d0"), 0);
	assert_null(ks_store_get(s, KS_KIND_DEPLOYMENT, "ns", "d0"));
	e = ks_store_event(s, 2);
	assert_non_null(e);
	assert_int_equal(e->type, KS_EV_DELETED);
	assert_int_equal(e->obj->rv, 2);
	line = ks_store_event_line(s, e, &len);
	assert_non_null(line);
	assert_int_equal(line[len - 1], '\n');
	assert_non_null(strstr(line,
	    "{\"type\":\"DELETED\",\"object\":{\"kind\":"
	    "\"Deployment\",\"apiVersion\":\"apps/v1\""));
	assert_non_null(strstr(line, "\"resourceVersion\":\"2\""));
	assert_int_equal(
	    ks_store_delete(s, KS_KIND_DEPLOYMENT, "ns", "d0"), -1);
	ks_store_free(s);
}

/* The controller observes first, then steps ready toward spec. */
static void
test_ks_obj_controller_steps(void **state)
{
	struct ks_obj *o = ks_obj_new_deployment("ns", "web", 2, 0);

	(void)state;
	assert_true(ks_obj_controller_done(o));
	ks_json_set_int(ks_json_get(o->doc, "spec"), "replicas", 4);
	ks_json_set_int(ks_json_get(o->doc, "metadata"), "generation", 2);
	assert_false(ks_obj_controller_done(o));
	assert_int_equal(ks_obj_controller_step(o, 1, 0), 1);
	assert_int_equal(ks_obj_status_int(o, "observedGeneration"), 2);
	assert_int_equal(ks_obj_status_int(o, "replicas"), 4);
	assert_int_equal(ks_obj_status_int(o, "readyReplicas"), 2);
	assert_int_equal(ks_obj_status_int(o, "unavailableReplicas"), 2);
	assert_int_equal(ks_obj_controller_step(o, 1, 0), 1);
	assert_int_equal(ks_obj_controller_step(o, 1, 0), 0);
	assert_true(ks_obj_controller_done(o));
	/* Zero counts are omitted (omitempty). */
	assert_null(ks_json_getp(o->doc, "status.unavailableReplicas"));
	ks_obj_unref(o);
}

/* Create validation: name required, negative replicas, selector. */
static void
test_ks_obj_from_create_validation(void **state)
{
	static const struct {
		const char *body;
		int code;
		const char *msg;
	} cases[] = {
	    {"{\"spec\":{}}", 422,
	        "Deployment.apps \"\" is invalid: metadata.name: Required "
	        "value: name or generateName is required"},
	    {"{\"metadata\":{\"name\":\"x\"},\"spec\":{\"replicas\":-2,"
	     "\"selector\":{}}}",
	        422,
	        "Deployment.apps \"x\" is invalid: spec.replicas: Invalid "
	        "value: -2: must be greater than or equal to 0"},
	    {"{\"metadata\":{\"name\":\"x\"},\"spec\":{}}", 422,
	        "Deployment.apps \"x\" is invalid: spec.selector: Required "
	        "value"},
	    {"{\"metadata\":{\"name\":\"x\",\"namespace\":\"other\"}}", 400,
	        "the namespace of the provided object does not match the "
	        "namespace sent on the request"},
	    {"{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":1}},\"spec\":"
	     "{\"selector\":{}}}",
	        400, NULL},
	    {"[]", 400, NULL},
	};
	struct ks_status st;
	struct ks_json *b;
	enum ks_json_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = ks_json_parse(
		    cases[i].body, strlen(cases[i].body), &err, NULL, 0);
		assert_non_null(b);
		memset(&st, 0, sizeof(st));
		assert_null(
		    ks_obj_from_create(KS_KIND_DEPLOYMENT, "ns", b, &st));
		assert_int_equal(st.code, cases[i].code);
		if (cases[i].msg != NULL)
			assert_string_equal(st.message, cases[i].msg);
		ks_json_free(b);
	}
}

/* ConfigMap validation: data + binaryData at most 1 MiB in all (exact
 * Status text of ValidateConfigMap), config keys. */
static void
test_ks_obj_configmap_validation(void **state)
{
	const size_t max = 1024 * 1024;
	char *body = malloc(max + 128), *p, body_small[64];
	struct ks_status st;
	struct ks_json *b;
	struct ks_obj *o;
	enum ks_json_err err;

	(void)state;
	assert_non_null(body);
	/* Exactly at the limit over two keys: accepted. */
	p = body +
	    sprintf(body,
	        "{\"metadata\":{\"name\":\"cm\"},"
	        "\"data\":{\"a\":\"");
	memset(p, 'x', max - 1);
	p += max - 1;
	p += sprintf(p, "\",\"b\":\"y\"}}");
	b = ks_json_parse(body, (size_t)(p - body), &err, NULL, 0);
	assert_non_null(b);
	memset(&st, 0, sizeof(st));
	o = ks_obj_from_create(KS_KIND_CONFIGMAP, "ns", b, &st);
	assert_non_null(o);
	ks_obj_unref(o);
	ks_json_free(b);
	/* One byte more: 422. */
	p -= 4;
	p += sprintf(p, "yy\"}}");
	b = ks_json_parse(body, (size_t)(p - body), &err, NULL, 0);
	assert_non_null(b);
	memset(&st, 0, sizeof(st));
	assert_null(ks_obj_from_create(KS_KIND_CONFIGMAP, "ns", b, &st));
	assert_int_equal(st.code, 422);
	assert_string_equal(st.message,
	    "ConfigMap \"cm\" is invalid: []: Too long: must have at most "
	    "1048576 bytes");
	ks_json_free(b);
	free(body);

	snprintf(body_small, sizeof(body_small), "%s",
	    "{\"metadata\":{\"name\":\"cm\"},\"data\":{\"a b\":\"x\"}}");
	b = ks_json_parse(body_small, strlen(body_small), &err, NULL, 0);
	assert_non_null(b);
	memset(&st, 0, sizeof(st));
	assert_null(ks_obj_from_create(KS_KIND_CONFIGMAP, "ns", b, &st));
	assert_int_equal(st.code, 422);
	assert_non_null(strstr(st.message,
	    "ConfigMap \"cm\" is invalid: data[a b]: Invalid value: \"a b\": "
	    "a valid config key must consist of alphanumeric characters"));
	ks_json_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ks_store_rv_monotonic),
	    cmocka_unit_test(test_ks_store_noop_write),
	    cmocka_unit_test(test_ks_store_create_exists_sorted),
	    cmocka_unit_test(test_ks_store_history_window),
	    cmocka_unit_test(test_ks_store_compact),
	    cmocka_unit_test(test_ks_store_delete_event),
	    cmocka_unit_test(test_ks_obj_controller_steps),
	    cmocka_unit_test(test_ks_obj_from_create_validation),
	    cmocka_unit_test(test_ks_obj_configmap_validation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
