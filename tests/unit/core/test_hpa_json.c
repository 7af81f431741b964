/*
 * test_hpa_json.c — the HorizontalPodAutoscaler parser: real autoscaling/v2
 * shapes (list page, watch stream with every event type), every split of
 * the input, what counts as a Deployment target, and hostile answers (too
 * deep, too big, bad names, wrong types), which must fail with a reason
 * and deliver nothing past the fault.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_limits.h"
#include "core/kube/hpa_json.h"

#define MAX_SEEN 16

struct seen {
	size_t n;
	enum hpa_json_event ev[MAX_SEEN];
	struct hpa_json_obj obj[MAX_SEEN];
	int abort_at; /* return -1 for this delivery (1-based), 0 never */
};

static int
collect_cb(void *arg, enum hpa_json_event ev, const struct hpa_json_obj *o)
{
	struct seen *s = arg;

	if (s->n < MAX_SEEN) {
		s->ev[s->n] = ev;
		s->obj[s->n] = *o;
	}
	s->n++;
	return s->abort_at != 0 && (size_t)s->abort_at == s->n ? -1 : 0;
}

/* Feeds `json` in slices of `step` bytes (0: whole); 0 or -1. */
static int
parse(enum hpa_json_mode mode, const char *json, size_t step, struct seen *s,
    char *err, size_t errsz)
{
	struct hpa_json *h = hpa_json_new(mode, collect_cb, s);
	size_t len = strlen(json), off = 0;
	int rc = 0;

	assert_non_null(h);
	if (step == 0)
		step = len == 0 ? 1 : len;
	while (rc == 0 && off < len) {
		size_t n = len - off < step ? len - off : step;

		rc = hpa_json_feed(h, json + off, n);
		off += n;
	}
	if (rc == 0)
		rc = hpa_json_finish(h);
	if (err != NULL)
		snprintf(err, errsz, "%s", rc == 0 ? "" : hpa_json_error(h));
	hpa_json_free(h);
	return rc;
}

/* An autoscaling/v2 HPA as the API serves it (managedFields, metrics,
 * status and conditions included: the parser must skip them). */
#define HPA(name, rv, api, kind, target)                                     \
	"{\"kind\":\"HorizontalPodAutoscaler\",\"apiVersion\":"              \
	"\"autoscaling/v2\",\"metadata\":{\"name\":\"" name "\","            \
	"\"namespace\":\"apps\",\"uid\":\"0c1e\",\"resourceVersion\":\"" rv  \
	"\",\"creationTimestamp\":\"2026-12-01T10:00:00Z\","                 \
	"\"managedFields\":[{\"manager\":\"kubectl\",\"fieldsV1\":"          \
	"{\"f:spec\":{\"f:scaleTargetRef\":{}}}}]},"                         \
	"\"spec\":{\"scaleTargetRef\":{\"kind\":\"" kind                     \
	"\",\"name\":\"" target "\",\"apiVersion\":\"" api                   \
	"\"},\"minReplicas\":1,"                                             \
	"\"maxReplicas\":10,\"metrics\":[{\"type\":\"Resource\","            \
	"\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":"               \
	"\"Utilization\",\"averageUtilization\":80}}}]},"                    \
	"\"status\":{\"currentReplicas\":2,\"desiredReplicas\":2,"           \
	"\"currentMetrics\":null,\"conditions\":[{\"type\":\"AbleToScale\"," \
	"\"status\":\"True\",\"lastTransitionTime\":null}]}}"

static const char list_page[] =
    "{\"kind\":\"HorizontalPodAutoscalerList\",\"apiVersion\":"
    "\"autoscaling/v2\",\"metadata\":{\"resourceVersion\":\"4711\","
    "\"continue\":\"eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ\"},\"items\":[" HPA("web",
        "4700", "apps/v1", "Deployment",
        "web") "," HPA("db", "4701", "apps/v1", "StatefulSet", "db") "]}";

static const char stream[] =
    "{\"type\":\"ADDED\",\"object\":" HPA("web", "10", "apps/v1", "Deployment",
        "web") "}\n"
               "{\"type\":\"MODIFIED\",\"object\":" HPA("web", "11", "apps/v1",
                   "Deployment",
                   "web-v2") "}\n"
                             "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":"
                             "\"HorizontalPodAutoscaler\",\"metadata\":{"
                             "\"resourceVersion\":"
                             "\"12\",\"annotations\":{\"k8s.io/"
                             "initial-events-end\":\"true\"}}}}\n"
                             "{\"type\":\"DELETED\",\"object\":" HPA("web",
                                 "13", "apps/v1", "Deployment",
                                 "web-v2") "}\n"
                                           "{\"type\":\"ERROR\",\"object\":{"
                                           "\"kind\":\"Status\",\"apiVersion\":"
                                           "\"v1\",\"status\":\"Failure\","
                                           "\"message\":\"too old resource "
                                           "version: "
                                           "1 "
                                           "(4711)\",\"reason\":\"Expired\","
                                           "\"code\":410}}\n";

/** A list page: its metadata and each item's kept fields. */
static void
test_hpa_json_list_page(void **state)
{
	struct seen s = {0};
	struct hpa_json *h;

	(void)state;
	h = hpa_json_new(HPA_JSON_LIST, collect_cb, &s);
	assert_non_null(h);
	assert_int_equal(hpa_json_feed(h, list_page, strlen(list_page)), 0);
	assert_int_equal(hpa_json_finish(h), 0);
	assert_string_equal(hpa_json_top(h)->rv, "4711");
	assert_string_equal(
	    hpa_json_top(h)->cont, "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ");
	assert_int_equal(hpa_json_count(h), 2);
	hpa_json_free(h);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ev[0], HPA_EV_ADDED);
	assert_string_equal(s.obj[0].name, "web");
	assert_string_equal(s.obj[0].rv, "4700");
	assert_string_equal(s.obj[0].target_api_version, "apps/v1");
	assert_string_equal(s.obj[0].target_kind, "Deployment");
	assert_string_equal(s.obj[0].target_name, "web");
	assert_true(hpa_json_targets_deployment(&s.obj[0]));
	assert_string_equal(s.obj[1].name, "db");
	assert_false(hpa_json_targets_deployment(&s.obj[1]));
}

/** A watch stream, whole and split at every size: the same events. */
static void
test_hpa_json_watch_every_split(void **state)
{
	(void)state;
	for (size_t step = 0; step < 64; step++) {
		struct seen s = {0};

		assert_int_equal(
		    parse(HPA_JSON_WATCH, stream, step, &s, NULL, 0), 0);
		assert_int_equal(s.n, 5);
		assert_int_equal(s.ev[0], HPA_EV_ADDED);
		assert_string_equal(s.obj[0].target_name, "web");
		assert_int_equal(s.ev[1], HPA_EV_MODIFIED);
		assert_string_equal(s.obj[1].target_name, "web-v2");
		assert_string_equal(s.obj[1].rv, "11");
		assert_int_equal(s.ev[2], HPA_EV_BOOKMARK);
		assert_string_equal(s.obj[2].rv, "12");
		assert_int_equal(s.ev[3], HPA_EV_DELETED);
		assert_string_equal(s.obj[3].name, "web");
		assert_int_equal(s.ev[4], HPA_EV_ERROR);
		assert_int_equal(s.obj[4].code, 410);
		assert_non_null(strstr(s.obj[4].message, "too old"));
	}
}

/** What is a Deployment target: group "apps" (any version), kind
 *  exactly "Deployment", a DNS-1123 name. */
static void
test_hpa_json_deployment_targets(void **state)
{
	static const struct {
		const char *api, *kind, *name;
		int want;
	} t[] = {
	    {"apps/v1", "Deployment", "web", 1},
	    {"apps/v1beta2", "Deployment", "web", 1},
	    {"extensions/v1beta1", "Deployment", "web", 0},
	    {"v1", "Deployment", "web", 0},
	    {"apps", "Deployment", "web", 0},
	    {"apps/", "Deployment", "web", 0},
	    {"apps/v1/x", "Deployment", "web", 0},
	    {"myapps/v1", "Deployment", "web", 0},
	    {"apps/v1", "deployment", "web", 0},
	    {"apps/v1", "StatefulSet", "web", 0},
	    {"apps/v1", "Deployment", "Web", 0},
	    {"apps/v1", "Deployment", "a..b", 0},
	    {"apps/v1", "Deployment", "", 0},
	};
	char json[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct seen s = {0};

		snprintf(json, sizeof(json),
		    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":"
		    "\"h\",\"resourceVersion\":\"1\"},\"spec\":{"
		    "\"scaleTargetRef\":{\"apiVersion\":\"%s\",\"kind\":"
		    "\"%s\",\"name\":\"%s\"}}}}",
		    t[i].api, t[i].kind, t[i].name);
		assert_int_equal(
		    parse(HPA_JSON_WATCH, json, 0, &s, NULL, 0), 0);
		assert_int_equal(s.n, 1);
		if (hpa_json_targets_deployment(&s.obj[0]) != t[i].want)
			fail_msg("%s %s %s: want %d", t[i].api, t[i].kind,
			    t[i].name, t[i].want);
	}
}

/** Odd but legal targets (not ours) never fail the answer: a target
 *  name the API allows but no Deployment can have, overlong or
 *  non-string scaleTargetRef fields, no scaleTargetRef at all. */
static void
test_hpa_json_odd_targets_ignored(void **state)
{
	static const char *const odd[] = {
	    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
	    "\"name\":\"UPPER_case\"}",
	    "{\"apiVersion\":7,\"kind\":null,\"name\":[\"web\"]}",
	    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
	    "\"name\":{\"x\":1}}",
	    "null",
	    "{\"apiVersion\":\"apps/v1\\u0000\",\"kind\":\"Deployment\","
	    "\"name\":\"web\"}",
	};
	char json[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		struct seen s = {0};
		char err[256];

		snprintf(json, sizeof(json),
		    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{"
		    "\"name\":\"h\",\"resourceVersion\":\"1\"},\"spec\":{"
		    "\"scaleTargetRef\":%s}}}",
		    odd[i]);
		if (parse(HPA_JSON_WATCH, json, 0, &s, err, sizeof(err)) != 0)
			fail_msg("odd[%zu]: %s", i, err);
		assert_int_equal(s.n, 1);
		assert_false(hpa_json_targets_deployment(&s.obj[0]));
	}
}

/* ------------------------------------------------------------ hostile */

struct hostile {
	const char *doc;
	enum hpa_json_mode mode;
	const char *json; /* NULL: built by make() */
	const char *err;  /* substring of hpa_json_error() */
	size_t delivered; /* items/events that came before the fault */
};

#define EV(type, meta) \
	"{\"type\":\"" type "\",\"object\":{\"metadata\":{" meta "}}}"

static const struct hostile hostile[] = {
    /** Not JSON at all (a proxy's error page). */
    {"garbage", HPA_JSON_WATCH, "<html>502</html>", "invalid JSON", 0},
    /** Uppercase HPA name: not a DNS-1123 subdomain. */
    {"bad name", HPA_JSON_WATCH,
        EV("ADDED", "\"name\":\"Web\",\"resourceVersion\":\"1\""), "DNS-1123",
        0},
    /** An HPA name over 253 bytes. */
    {"long name", HPA_JSON_LIST, NULL, "DNS-1123", 0},
    /** A name that is not a string does not count: no name. */
    {"numeric name", HPA_JSON_WATCH,
        EV("ADDED", "\"name\":5,\"resourceVersion\":\"1\""),
        "without metadata.name", 0},
    /** No resourceVersion. */
    {"no rv", HPA_JSON_WATCH, EV("MODIFIED", "\"name\":\"a\""),
        "without metadata.name or resourceVersion", 0},
    /** Control byte in a resourceVersion. */
    {"rv control", HPA_JSON_WATCH,
        EV("ADDED", "\"name\":\"a\",\"resourceVersion\":\"1\\n2\""),
        "resourceVersion", 0},
    /** A resourceVersion over PS_MAX_RV. */
    {"long rv", HPA_JSON_WATCH,
        EV("ADDED",
            "\"name\":\"a\",\"resourceVersion\":\""
            "0123456789012345678901234567890123456789"
            "0123456789012345678901234\""),
        "resourceVersion", 0},
    /** A second event fails: the first was delivered, not the second. */
    {"good then bad", HPA_JSON_WATCH,
        EV("ADDED", "\"name\":\"a\",\"resourceVersion\":\"1\"") "\n" EV(
            "ADDED", "\"name\":\"-a\",\"resourceVersion\":\"2\""),
        "DNS-1123", 1},
    /** Unknown event type. */
    {"unknown type", HPA_JSON_WATCH, "{\"type\":\"REPLACED\",\"object\":{}}",
        "unknown watch event type", 0},
    /** No type. */
    {"no type", HPA_JSON_WATCH,
        "{\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":"
        "\"1\"}}}",
        "without a type", 0},
    /** Bookmark without resourceVersion. */
    {"bookmark no rv", HPA_JSON_WATCH,
        "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{}}}",
        "bookmark without", 0},
    /** ERROR event without a code, and with one out of range. */
    {"error no code", HPA_JSON_WATCH,
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\"}}",
        "without a status code", 0},
    {"error code range", HPA_JSON_WATCH,
        "{\"type\":\"ERROR\",\"object\":{\"code\":99999}}",
        "status code out of range", 0},
    /** Nesting deeper than the limit. */
    {"depth bomb", HPA_JSON_LIST, NULL, "nested too deeply", 0},
    /** One event over HPA_JSON_MAX_UNIT_BYTES. */
    {"size bomb", HPA_JSON_WATCH, NULL, "exceeds the size limit", 0},
    /** Bare values where objects must be. */
    {"bare string", HPA_JSON_WATCH, "\"ADDED\"\n", "not a JSON object", 0},
    {"bare array", HPA_JSON_LIST, "[{\"metadata\":{}}]", "not a JSON object",
        0},
    {"bare number", HPA_JSON_LIST, "42", "not a JSON object", 0},
    /** Truncated list. */
    {"truncated", HPA_JSON_LIST, "{\"items\":[{\"metadata\":{", "JSON", 0},
    /** A second value after a list. */
    {"two lists", HPA_JSON_LIST, "{\"items\":[]}{\"items\":[]}", "JSON", 0},
    /** \f is not JSON whitespace. */
    {"form feed", HPA_JSON_LIST, "{\f\"items\":[]}", "\\f or \\v", 0},
};

static char *
make(const char *doc)
{
	size_t n;
	char *s;

	if (strcmp(doc, "long name") == 0) {
		s = malloc(1024);
		assert_non_null(s);
		n = (size_t)snprintf(
		    s, 1024, "{\"items\":[{\"metadata\":{\"name\":\"");
		memset(s + n, 'a', 254);
		snprintf(s + n + 254, 1024 - n - 254,
		    "\",\"resourceVersion\":\"1\"}}]}");
		return s;
	}
	if (strcmp(doc, "depth bomb") == 0) {
		n = 10000;
		s = malloc(2 * n + 8);
		assert_non_null(s);
		memcpy(s, "{\"a\":", 5);
		memset(s + 5, '[', n);
		memset(s + 5 + n, ']', n);
		memcpy(s + 5 + 2 * n, "}", 2);
		return s;
	}
	/* size bomb: one event with a string just over the unit limit. */
	n = HPA_JSON_MAX_UNIT_BYTES +
	    2 * KJSON_FEED_SLICE; /* "within a slice" */
	s = malloc(n + 64);
	assert_non_null(s);
	memcpy(s, "{\"type\":\"ADDED\",\"object\":{\"x\":\"", 31);
	memset(s + 31, 'x', n);
	memcpy(s + 31 + n, "\"}}", 4);
	return s;
}

/** Every hostile answer fails with its reason, fed whole and in small
 *  slices, and nothing past the fault is delivered. */
static void
test_hpa_json_hostile(void **state)
{
	static const size_t steps[] = {0, 1, 7, 4096};
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		const struct hostile *t = &hostile[i];
		char *built = t->json == NULL ? make(t->doc) : NULL;
		const char *json = built != NULL ? built : t->json;

		for (size_t j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
			struct seen s = {0};

			/* Small slices through 2 MiB are slow (minutes
			 * under the sanitizers and valgrind) and prove
			 * nothing the small answers' slices do not: the
			 * bound is checked whole and in 4 KiB slices. */
			if (steps[j] != 0 && steps[j] < 4096 &&
			    strlen(json) > 65536)
				continue;
			if (parse(t->mode, json, steps[j], &s, err,
			        sizeof(err)) == 0)
				fail_msg("%s (step %zu): accepted", t->doc,
				    steps[j]);
			if (strstr(err, t->err) == NULL)
				fail_msg("%s (step %zu): error '%s', want '%s'",
				    t->doc, steps[j], err, t->err);
			if (s.n != t->delivered)
				fail_msg("%s: %zu delivered, want %zu", t->doc,
				    s.n, t->delivered);
		}
		free(built);
	}
}

/** Truncated at every offset, the stream fails or delivers only whole
 *  events that it had (never a half-read one). */
static void
test_hpa_json_truncated_everywhere(void **state)
{
	size_t len = strlen(stream);
	char *buf = malloc(len + 1);

	(void)state;
	assert_non_null(buf);
	for (size_t cut = 0; cut < len; cut++) {
		struct seen s = {0};
		int rc;

		memcpy(buf, stream, cut);
		buf[cut] = '\0';
		rc = parse(HPA_JSON_WATCH, buf, 0, &s, NULL, 0);
		assert_true(s.n <= 5);
		/* Complete only where a whole event (and its newline, or
		 * not) ended, or nothing was there. */
		if (rc == 0)
			assert_true(cut == 0 || buf[cut - 1] == '\n' ||
			    buf[cut - 1] == '}');
	}
	free(buf);
}

/** The caller aborts: the parse fails and stops there. */
static void
test_hpa_json_caller_abort(void **state)
{
	struct seen s = {.abort_at = 2};
	char err[256];

	(void)state;
	assert_int_equal(
	    parse(HPA_JSON_WATCH, stream, 0, &s, err, sizeof(err)), -1);
	assert_int_equal(s.n, 2);
	assert_non_null(strstr(err, "aborted"));
}

/** An empty watch stream is fine; an empty list body is not. */
static void
test_hpa_json_empty(void **state)
{
	struct seen s = {0};

	(void)state;
	assert_int_equal(parse(HPA_JSON_WATCH, "", 0, &s, NULL, 0), 0);
	assert_int_equal(parse(HPA_JSON_LIST, "", 0, &s, NULL, 0), -1);
	assert_int_equal(s.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hpa_json_list_page),
	    cmocka_unit_test(test_hpa_json_watch_every_split),
	    cmocka_unit_test(test_hpa_json_deployment_targets),
	    cmocka_unit_test(test_hpa_json_odd_targets_ignored),
	    cmocka_unit_test(test_hpa_json_hostile),
	    cmocka_unit_test(test_hpa_json_truncated_everywhere),
	    cmocka_unit_test(test_hpa_json_caller_abort),
	    cmocka_unit_test(test_hpa_json_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
