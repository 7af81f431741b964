/* Unit tests for tests/kube-sim/ks_valid.c (HPA and Event validation, as
 * reached through ks_obj_from_create / ks_obj_validate_update) and the
 * restore path of ks_store.c (ks_store_restore, ks_store_resume_at). */
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
#include "tests/kube-sim/ks_valid.h"

#define NOW "2026-01-02T03:04:05.123456Z"

static struct ks_json *
parse(const char *s)
{
	enum ks_json_err err;
	struct ks_json *j = ks_json_parse(s, strlen(s), &err, NULL, 0);

	assert_non_null(j);
	return j;
}

/* Create kind k in "default" from body; NULL with st filled on refusal. */
static struct ks_obj *
create(enum ks_kind k, const char *body, struct ks_status *st)
{
	struct ks_json *b = parse(body);
	struct ks_obj *o;

	memset(st, 0, sizeof(*st));
	o = ks_obj_from_create(k, "default", b, st);
	ks_json_free(b);
	return o;
}

static const char *
fields(const struct ks_status *st, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < st->ncauses && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    i ? "," : "", st->causes[i].field);
	return buf;
}

/* Defaults: minReplicas 1 and a CPU metric; generation 1; status reset. */
static void
test_ks_valid_hpa_defaults(void **state)
{
	struct ks_status st;
	struct ks_obj *o;
	long long v;

	(void)state;
	o = create(KS_KIND_HPA,
	    "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"scaleTargetRef\":"
	    "{\"kind\":\"Deployment\",\"name\":\"web\"},\"maxReplicas\":3},"
	    "\"status\":{\"desiredReplicas\":9}}",
	    &st);
	assert_non_null(o);
	assert_int_equal(
	    ks_json_int(ks_json_getp(o->doc, "spec.minReplicas"), &v), 0);
	assert_int_equal(v, 1);
	assert_string_equal(
	    ks_json_str(ks_json_getp(o->doc, "spec.metrics")->child->child),
	    "Resource");
	assert_int_equal(ks_obj_generation(o), 1);
	assert_int_equal(ks_obj_status_int(o, "desiredReplicas"), 0);
	ks_obj_unref(o);
}

/* Each rule of validateHorizontalPodAutoscalerSpec, with its text. */
static void
test_ks_valid_hpa_rules(void **state)
{
	struct ks_status st;
	char buf[256];

	(void)state;
	assert_null(create(KS_KIND_HPA,
	    "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"scaleTargetRef\":"
	    "{\"kind\":\"D\",\"name\":\"w\"},\"minReplicas\":5,"
	    "\"maxReplicas\":2}}",
	    &st));
	assert_int_equal(st.code, 422);
	assert_string_equal(st.message,
	    "HorizontalPodAutoscaler.autoscaling \"h\" is invalid: "
	    "spec.maxReplicas: Invalid value: 2: must be greater than or "
	    "equal to `minReplicas`");
	assert_null(create(KS_KIND_HPA,
	    "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"minReplicas\":0,"
	    "\"maxReplicas\":1}}",
	    &st));
	assert_string_equal(fields(&st, buf, sizeof(buf)),
	    "spec.minReplicas,spec.scaleTargetRef.kind,"
	    "spec.scaleTargetRef.name");
	assert_null(create(KS_KIND_HPA,
	    "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"scaleTargetRef\":"
	    "{\"kind\":\"D\",\"name\":\"a/b\"},\"maxReplicas\":1}}",
	    &st));
	assert_string_equal(st.causes[0].message,
	    "Invalid value: \"a/b\": may not contain '/'");
	/* A type error is the decoder's 400, before any rule. */
	assert_null(create(KS_KIND_HPA,
	    "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"maxReplicas\":\"x\"}}",
	    &st));
	assert_int_equal(st.code, 400);
}

/* An HPA update keeps status, bumps generation only on spec changes. */
static void
test_ks_valid_hpa_update(void **state)
{
	struct ks_status st;
	struct ks_obj *o, *next;

	(void)state;
	o = create(KS_KIND_HPA,
	    "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"scaleTargetRef\":"
	    "{\"kind\":\"D\",\"name\":\"w\"},\"maxReplicas\":3}}",
	    &st);
	assert_non_null(o);
	next = ks_obj_clone(o);
	assert_int_equal(
	    ks_json_set_str(
	        ks_json_obj(ks_json_get(next->doc, "metadata"), "labels"), "a",
	        "b"),
	    0);
	assert_int_equal(ks_obj_validate_update(o, next, 1, &st), 0);
	assert_int_equal(ks_obj_generation(next), 1);
	assert_int_equal(
	    ks_json_set_int(ks_json_get(next->doc, "spec"), "maxReplicas", 4),
	    0);
	assert_int_equal(ks_obj_validate_update(o, next, 1, &st), 0);
	assert_int_equal(ks_obj_generation(next), 2);
	ks_obj_unref(next);
	ks_obj_unref(o);
}

#define EVENT(extra)                                                        \
	"{\"metadata\":{\"name\":\"e\"},\"eventTime\":\"" NOW "\","         \
	"\"reportingController\":\"replicad.io/core\","                     \
	"\"reportingInstance\":\"core-0\",\"action\":\"Scale\",\"reason\":" \
	"\"Pinned\",\"type\":\"Normal\",\"regarding\":{\"namespace\":"      \
	"\"default\"}" extra "}"

static void
test_ks_valid_event_create(void **state)
{
	struct ks_status st;
	struct ks_obj *o;
	char buf[256];

	(void)state;
	o = create(KS_KIND_EVENT, EVENT(""), &st);
	assert_non_null(o);
	ks_obj_unref(o);
	/* Series present: count >= 2 and a lastObservedTime. */
	assert_null(
	    create(KS_KIND_EVENT, EVENT(",\"series\":{\"count\":1}"), &st));
	assert_string_equal(fields(&st, buf, sizeof(buf)),
	    "series.count,series.lastObservedTime");
	o = create(KS_KIND_EVENT,
	    EVENT(",\"series\":{\"count\":2,\"lastObservedTime\":\"" NOW "\"}"),
	    &st);
	assert_non_null(o);
	ks_obj_unref(o);
	/* Deprecated core fields must stay unset. */
	assert_null(create(KS_KIND_EVENT,
	    EVENT(
	        ",\"deprecatedCount\":3,\"deprecatedSource\":{\"host\":\"h\"}"),
	    &st));
	assert_string_equal(fields(&st, buf, sizeof(buf)), "count,source");
	/* regarding without namespace outside default/kube-system. */
	{
		struct ks_json *b = parse(EVENT(""));

		ks_json_del(ks_json_get(b, "regarding"), "namespace");
		o = ks_obj_from_create(KS_KIND_EVENT, "shop", b, &st);
		ks_json_free(b);
		assert_null(o);
		assert_string_equal(
		    st.causes[0].field, "involvedObject.namespace");
		assert_string_equal(st.causes[0].message,
		    "Invalid value: \"\": does not match event.namespace");
	}
	/* eventTime must be a MicroTime (six fractional digits): 400. */
	assert_null(create(KS_KIND_EVENT,
	    "{\"metadata\":{\"name\":\"e\"},\"eventTime\":"
	    "\"2026-01-02T03:04:05Z\"}",
	    &st));
	assert_int_equal(st.code, 400);
	assert_non_null(
	    strstr(st.message, "cannot parse \"Z\" as \".000000\""));
}

static void
test_ks_valid_time_layouts(void **state)
{
	(void)state;
	assert_true(ks_valid_time("2026-01-02T03:04:05Z"));
	assert_true(ks_valid_time("2026-01-02T03:04:05.1+02:00"));
	assert_false(ks_valid_time("2026-01-02 03:04:05Z"));
	assert_false(ks_valid_time("2026-01-02T03:04:05"));
	assert_false(ks_valid_time("2026-01-02T03:04:05.Z"));
	assert_false(ks_valid_time(""));
}

static void
test_ks_valid_event_update(void **state)
{
	struct ks_status st;
	struct ks_obj *o, *next;
	struct ks_json *patch;

	(void)state;
	o = create(KS_KIND_EVENT, EVENT(""), &st);
	assert_non_null(o);
	next = ks_obj_clone(o);
	patch = parse(
	    "{\"series\":{\"count\":2,\"lastObservedTime\":\"" NOW "\"}}");
	assert_int_equal(ks_json_merge_patch(&next->doc, patch), 0);
	ks_json_free(patch);
	assert_int_equal(ks_obj_validate_update(o, next, 1, &st), 0);
	assert_int_equal(ks_json_set_str(next->doc, "action", "Other"), 0);
	assert_int_equal(ks_obj_validate_update(o, next, 1, &st), -1);
	assert_string_equal(st.message,
	    "Event.events.k8s.io \"e\" is invalid: action: Invalid value: "
	    "\"Other\": field is immutable");
	ks_obj_unref(next);
	ks_obj_unref(o);
}

/* Restore: objects replaced, counter set, no events, history gone; a
 * cursor inside the gap resumes after it, one outside is untouched. */
static void
test_ks_store_restore(void **state)
{
	struct ks_store *s = ks_store_new(100);
	struct ks_obj *objs[2];
	struct ks_obj *o;

	(void)state;
	assert_int_equal(
	    ks_store_create(s, ks_obj_new_deployment("ns", "old", 1, 0), 0), 0);
	assert_int_equal(
	    ks_store_create(s, ks_obj_new_deployment("ns", "keep", 1, 0), 0),
	    0);
	assert_int_equal(ks_store_rv(s), 2);
	objs[0] = ks_obj_new_deployment("ns", "zeta", 4, 0);
	objs[1] = ks_obj_new_deployment("ns", "alpha", 2, 0);
	assert_int_equal(
	    ks_store_restore(s, KS_KIND_DEPLOYMENT, objs, 2, 50, 0), 0);
	assert_int_equal(ks_store_rv(s), 50);
	assert_int_equal(ks_store_history_len(s), 0);
	assert_int_equal(ks_store_count(s, KS_KIND_DEPLOYMENT), 2);
	assert_null(ks_store_get(s, KS_KIND_DEPLOYMENT, "ns", "old"));
	o = ks_store_get(s, KS_KIND_DEPLOYMENT, "ns", "alpha");
	assert_non_null(o);
	assert_int_equal(o->rv, 49); /* sorted, RVs counting up to 50 */
	assert_int_equal(ks_store_at(s, KS_KIND_DEPLOYMENT, 1)->rv, 50);
	assert_int_equal(ks_store_oldest(s), 0);
	assert_int_equal(ks_store_resume_at(s, 2), 50);
	assert_int_equal(ks_store_resume_at(s, 50), 50);
	/* The first write after it is rv 51; the gap still holds. */
	o = ks_obj_clone(ks_store_get(s, KS_KIND_DEPLOYMENT, "ns", "alpha"));
	assert_int_equal(
	    ks_json_set_int(ks_json_get(o->doc, "spec"), "replicas", 7), 0);
	assert_int_equal(ks_store_update(s, o), 0);
	assert_int_equal(ks_store_rv(s), 51);
	assert_non_null(ks_store_event(s, 51));
	assert_int_equal(ks_store_resume_at(s, 2), 50);
	/* Compaction ends the gap. */
	ks_store_compact(s, 0);
	assert_int_equal(ks_store_resume_at(s, 2), 2);
	assert_int_equal(ks_store_oldest(s), 51);
	/* Duplicate names are refused (and the objects freed). */
	objs[0] = ks_obj_new_deployment("ns", "dup", 1, 0);
	objs[1] = ks_obj_new_deployment("ns", "dup", 1, 0);
	assert_int_equal(
	    ks_store_restore(s, KS_KIND_DEPLOYMENT, objs, 2, 60, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ks_store_rv(s), 51);
	ks_store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ks_valid_hpa_defaults),
	    cmocka_unit_test(test_ks_valid_hpa_rules),
	    cmocka_unit_test(test_ks_valid_hpa_update),
	    cmocka_unit_test(test_ks_valid_event_create),
	    cmocka_unit_test(test_ks_valid_time_layouts),
	    cmocka_unit_test(test_ks_valid_event_update),
	    cmocka_unit_test(test_ks_store_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
