/* Unit tests for tests/kube-sim/ks_jpatch.c (RFC 6902 JSON patch) and
 * ks_table.c (Accept negotiation, HumanDuration, Deployment rows). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/kube-sim/ks_jpatch.h"
#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_obj.h"
#include "tests/kube-sim/ks_schema.h"
#include "tests/kube-sim/ks_smp.h"
#include "tests/kube-sim/ks_table.h"

static struct ks_json *
J(const char *s)
{
	enum ks_json_err err;
	struct ks_json *j = ks_json_parse(s, strlen(s), &err, NULL, 0);

	assert_non_null(j);
	return j;
}

/* Apply patch to doc; on success compare with want.  Returns the error. */
static enum ks_jpatch_err
run(const char *doc, const char *patch, const char *want)
{
	struct ks_json *d = J(doc), *p = J(patch), *w;
	char msg[256];
	enum ks_jpatch_err e = ks_jpatch_apply(&d, p, msg, sizeof(msg));

	if (e == KS_JPATCH_OK && want != NULL) {
		w = J(want);
		assert_true(ks_json_equal(d, w));
		ks_json_free(w);
	}
	if (e != KS_JPATCH_OK)
		assert_true(msg[0] != '\0');
	ks_json_free(d);
	ks_json_free(p);
	return e;
}

/* RFC 6902 appendix A examples, in ks_json terms. */
static void
test_ks_jpatch_rfc_examples(void **state)
{
	(void)state;
	assert_int_equal(run("{\"foo\":\"bar\"}",
	                     "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":"
	                     "\"qux\"}]",
	                     "{\"baz\":\"qux\",\"foo\":\"bar\"}"),
	    KS_JPATCH_OK);
	assert_int_equal(run("{\"foo\":[\"bar\",\"baz\"]}",
	                     "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":"
	                     "\"qux\"}]",
	                     "{\"foo\":[\"bar\",\"qux\",\"baz\"]}"),
	    KS_JPATCH_OK);
	assert_int_equal(
	    run("{\"baz\":\"qux\",\"foo\":\"bar\"}",
	        "[{\"op\":\"remove\",\"path\":\"/baz\"}]", "{\"foo\":\"bar\"}"),
	    KS_JPATCH_OK);
	assert_int_equal(run("{\"foo\":[\"bar\",\"qux\",\"baz\"]}",
	                     "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
	                     "{\"foo\":[\"bar\",\"baz\"]}"),
	    KS_JPATCH_OK);
	assert_int_equal(run("{\"baz\":\"qux\",\"foo\":\"bar\"}",
	                     "[{\"op\":\"replace\",\"path\":\"/baz\","
	                     "\"value\":\"boo\"}]",
	                     "{\"baz\":\"boo\",\"foo\":\"bar\"}"),
	    KS_JPATCH_OK);
	assert_int_equal(
	    run("{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{"
	        "\"corge\":\"grault\"}}",
	        "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/"
	        "thud\"}]",
	        "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\","
	        "\"thud\":\"fred\"}}"),
	    KS_JPATCH_OK);
	assert_int_equal(run("{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
	                     "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":"
	                     "\"/foo/3\"}]",
	                     "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}"),
	    KS_JPATCH_OK);
	assert_int_equal(run("{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
	                     "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":"
	                     "\"qux\"},{\"op\":\"test\",\"path\":\"/foo/1\","
	                     "\"value\":2}]",
	                     NULL),
	    KS_JPATCH_OK);
	assert_int_equal(run("{\"baz\":\"qux\"}",
	                     "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":"
	                     "\"bar\"}]",
	                     NULL),
	    KS_JPATCH_EAPPLY);
	assert_int_equal(run("{\"foo\":\"bar\"}",
	                     "[{\"op\":\"add\",\"path\":\"/child\",\"value\":"
	                     "{\"grandchild\":{}}}]",
	                     "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}"),
	    KS_JPATCH_OK);
	/* A.12: adding to a nonexistent target. */
	assert_int_equal(run("{\"foo\":\"bar\"}",
	                     "[{\"op\":\"add\",\"path\":\"/baz/bat\","
	                     "\"value\":\"qux\"}]",
	                     NULL),
	    KS_JPATCH_EAPPLY);
	/* A.14: ~ escapes. */
	assert_int_equal(
	    run("{\"/\":9,\"~1\":10}",
	        "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10},"
	        "{\"op\":\"test\",\"path\":\"/~1\",\"value\":9}]",
	        NULL),
	    KS_JPATCH_OK);
	/* A.16: "-" appends. */
	assert_int_equal(run("{\"foo\":[\"bar\"]}",
	                     "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":["
	                     "\"abc\",\"def\"]}]",
	                     "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}"),
	    KS_JPATCH_OK);
	assert_int_equal(
	    run("{\"a\":{\"b\":1}}",
	        "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"},"
	        "{\"op\":\"replace\",\"path\":\"/c/b\",\"value\":2}"
	        "]",
	        "{\"a\":{\"b\":1},\"c\":{\"b\":2}}"),
	    KS_JPATCH_OK);
}

/* The answer classes of the API server. */
static void
test_ks_jpatch_errors(void **state)
{
	(void)state;
	assert_int_equal(
	    run("{}", "{\"op\":\"add\"}", NULL), KS_JPATCH_EDECODE);
	assert_int_equal(run("{}", "[1]", NULL), KS_JPATCH_EDECODE);
	assert_int_equal(run("{}", "[null]", NULL), KS_JPATCH_EAPPLY);
	assert_int_equal(
	    run("{}", "[{\"op\":\"bogus\",\"path\":\"/a\"}]", NULL),
	    KS_JPATCH_EAPPLY);
	assert_int_equal(
	    run("{}", "[{\"op\":\"add\"}]", NULL), KS_JPATCH_EAPPLY);
	assert_int_equal(
	    run("{}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", NULL),
	    KS_JPATCH_EAPPLY);
	assert_int_equal(
	    run("{}", "[{\"op\":\"remove\",\"path\":\"/a\"}]", NULL),
	    KS_JPATCH_EAPPLY);
	assert_int_equal(
	    run("{}", "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1}]",
	        NULL),
	    KS_JPATCH_EAPPLY);
	assert_int_equal(
	    run("{\"a\":[1]}",
	        "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":1}]", NULL),
	    KS_JPATCH_EAPPLY);
	assert_int_equal(
	    run("{\"a\":[1]}",
	        "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":1}]", NULL),
	    KS_JPATCH_EAPPLY);
	assert_int_equal(run("{\"a\":{}}",
	                     "[{\"op\":\"move\",\"from\":\"/a\",\"path\":"
	                     "\"/a/b\"}]",
	                     NULL),
	    KS_JPATCH_EAPPLY);
	assert_int_equal(run("{\"a\":1}",
	                     "[{\"op\":\"test\",\"path\":\"/a~2\","
	                     "\"value\":1}]",
	                     NULL),
	    KS_JPATCH_EAPPLY);
	/* test of a missing member against null succeeds (json-patch v4). */
	assert_int_equal(
	    run("{}", "[{\"op\":\"test\",\"path\":\"/x\",\"value\":null}]",
	        NULL),
	    KS_JPATCH_OK);
	/* Negative index: from the end. */
	assert_int_equal(
	    run("{\"a\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/a/-1\"}]",
	        "{\"a\":[1,2]}"),
	    KS_JPATCH_OK);
}

/* Copying a subtree into itself again and again hits the node bound
 * instead of growing without limit. */
static void
test_ks_jpatch_copy_bound(void **state)
{
	char *patch;
	size_t i, off = 0, cap = 64 * 40 + 16;
	enum ks_jpatch_err e;

	(void)state;
	patch = malloc(cap);
	assert_non_null(patch);
	off += (size_t)snprintf(patch + off, cap - off, "[");
	for (i = 0; i < 40; i++)
		off += (size_t)snprintf(patch + off, cap - off,
		    "%s{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/a/-\"}",
		    i ? "," : "");
	snprintf(patch + off, cap - off, "]");
	e = run("{\"a\":[1]}", patch, NULL);
	assert_int_equal(e, KS_JPATCH_EAPPLY);
	free(patch);
}

static void
smp(const char *doc, const char *patch, const char *want)
{
	struct ks_json *d = J(doc), *p = J(patch), *w = J(want);

	assert_int_equal(ks_smp_apply(&d, p), 0);
	assert_true(ks_json_equal(d, w));
	ks_json_free(d);
	ks_json_free(p);
	ks_json_free(w);
}

/* Strategic merge patch as kubectl apply sends it. */
static void
test_ks_smp(void **state)
{
	(void)state;
	/* Merge by name, directives never stored. */
	smp("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":["
	    "{\"containerPort\":80}]},{\"name\":\"b\",\"image\":\"y\"}]}",
	    "{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":"
	    "\"b\"}],\"containers\":[{\"name\":\"a\",\"image\":\"x2\"}]}",
	    "{\"containers\":[{\"name\":\"a\",\"image\":\"x2\",\"ports\":["
	    "{\"containerPort\":80}]},{\"name\":\"b\",\"image\":\"y\"}]}");
	/* $patch: delete of an item, new item appended. */
	smp("{\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\"}]}",
	    "{\"env\":[{\"name\":\"A\",\"$patch\":\"delete\"},{\"name\":"
	    "\"C\",\"value\":\"3\"}]}",
	    "{\"env\":[{\"name\":\"B\"},{\"name\":\"C\",\"value\":\"3\"}]}");
	/* Lists without a merge key are replaced; null deletes. */
	smp("{\"args\":[\"a\",\"b\"],\"x\":1}", "{\"args\":[\"c\"],\"x\":null}",
	    "{\"args\":[\"c\"]}");
	/* $retainKeys and $deleteFromPrimitiveList. */
	smp("{\"s\":{\"type\":\"R\",\"rollingUpdate\":{\"maxSurge\":1}},"
	    "\"finalizers\":[\"a\",\"b\"]}",
	    "{\"s\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"},"
	    "\"$deleteFromPrimitiveList/finalizers\":[\"a\"]}",
	    "{\"s\":{\"type\":\"Recreate\"},\"finalizers\":[\"b\"]}");
	/* $patch: replace on a map. */
	smp("{\"m\":{\"a\":1,\"b\":2}}",
	    "{\"m\":{\"$patch\":\"replace\",\"c\":3}}", "{\"m\":{\"c\":3}}");
}

/* Duplicate paths as sigs.k8s.io/json names them; unknown fields found
 * and pruned. */
static void
test_ks_schema_fields(void **state)
{
	static const char doc[] =
	    "{\"kind\":\"Deployment\",\"spec\":{\"replicas\":1,\"replicas\":2,"
	    "\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"},{"
	    "\"name\":\"b\",\"name\":\"c\",\"imagex\":1}]}}},\"bogus\":{}}";
	struct ks_json_dups d;
	struct ks_schema_errs e;
	enum ks_json_err err;
	struct ks_json *j;

	(void)state;
	j = ks_json_parse_dups(doc, sizeof(doc) - 1, &err, NULL, 0, &d);
	assert_non_null(j);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.path[0], "spec.replicas");
	assert_string_equal(d.path[1], "spec.template.spec.containers[1].name");
	ks_schema_unknown(KS_KIND_DEPLOYMENT, KS_SCHEMA_OBJECT, j, 1, &e);
	assert_int_equal(e.n, 2);
	assert_string_equal(
	    e.path[0], "spec.template.spec.containers[1].imagex");
	assert_string_equal(e.path[1], "bogus");
	assert_null(ks_json_get(j, "bogus"));
	ks_schema_unknown(KS_KIND_DEPLOYMENT, KS_SCHEMA_OBJECT, j, 0, &e);
	assert_int_equal(e.n, 0);
	ks_json_free(j);
}

static void
test_ks_table_accept(void **state)
{
	(void)state;
	assert_true(ks_table_wanted(
	    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;"
	    "as=Table;v=v1beta1;g=meta.k8s.io,application/json"));
	assert_true(
	    ks_table_wanted("application/json; as=Table; g=meta.k8s.io; v=v1"));
	assert_false(ks_table_wanted(NULL));
	assert_false(ks_table_wanted("application/json"));
	assert_false(
	    ks_table_wanted("application/json, "
	                    "application/json;as=Table;v=v1;g=meta.k8s.io"));
	assert_false(ks_table_wanted(
	    "application/json;as=Table;v=v1beta1;g=meta.k8s.io"));
	assert_false(ks_table_wanted("*/*"));
}

static void
test_ks_table_duration(void **state)
{
	static const struct {
		long long s;
		const char *want;
	} c[] = {{-5, "<invalid>"}, {-1, "0s"}, {0, "0s"}, {119, "119s"},
	    {120, "2m"}, {125, "2m5s"}, {600, "10m"}, {3 * 3600 - 1, "179m"},
	    {3 * 3600, "3h"}, {3 * 3600 + 60, "3h1m"}, {8 * 3600, "8h"},
	    {48 * 3600, "2d"}, {49 * 3600, "2d1h"}, {8 * 86400, "8d"},
	    {2 * 365 * 86400, "2y"}, {2 * 365 * 86400 + 86400, "2y1d"},
	    {8 * 365 * 86400, "8y"}};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ks_table_human_duration(c[i].s, buf, sizeof(buf));
		assert_string_equal(buf, c[i].want);
	}
}

/* One row: cells in the printer's order, PartialObjectMetadata. */
static void
test_ks_table_row(void **state)
{
	struct ks_obj *o;
	yajl_gen g;
	const unsigned char *buf;
	size_t len;
	struct ks_json *row, *cells;
	enum ks_json_err err;

	(void)state;
	o = ks_obj_new_deployment("default", "web", 3, 1000);
	assert_non_null(o);
	/* The store stamps creationTimestamp; 1000 s after the epoch. */
	assert_int_equal(ks_json_set_str(ks_json_get(o->doc, "metadata"),
	                     "creationTimestamp", "1970-01-01T00:16:40Z"),
	    0);
	g = ks_gen_new();
	assert_non_null(g);
	assert_int_equal(ks_table_row(g, o, KS_TABLE_METADATA, 1000 + 130), 0);
	assert_int_equal(yajl_gen_get_buf(g, &buf, &len), yajl_gen_status_ok);
	row = ks_json_parse(buf, len, &err, NULL, 0);
	assert_non_null(row);
	cells = ks_json_get(row, "cells");
	assert_non_null(cells);
	assert_int_equal(cells->count, 8);
	assert_string_equal(ks_json_str(cells->child), "web");
	assert_string_equal(ks_json_str(cells->child->next), "3/3");
	assert_string_equal(
	    ks_json_str(cells->child->next->next->next->next), "2m10s");
	assert_string_equal(ks_json_str(cells->last), "app=web");
	assert_string_equal(ks_json_str(ks_json_getp(row, "object.kind")),
	    "PartialObjectMetadata");
	ks_json_free(row);
	yajl_gen_free(g);
	ks_obj_unref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ks_jpatch_rfc_examples),
	    cmocka_unit_test(test_ks_jpatch_errors),
	    cmocka_unit_test(test_ks_jpatch_copy_bound),
	    cmocka_unit_test(test_ks_smp),
	    cmocka_unit_test(test_ks_schema_fields),
	    cmocka_unit_test(test_ks_table_accept),
	    cmocka_unit_test(test_ks_table_duration),
	    cmocka_unit_test(test_ks_table_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
