/*
 * test_kjson.c — the core's parsers of API answers: real shapes from
 * reference/kubernetes-api.md, every split of the input, and hostile
 * answers (too deep, too big, wrong types, bad names), which must fail
 * with a reason and deliver nothing wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kube/kjson.h"
#include "proto-socket/ps_codec.h"

#define MAX_SEEN 64

struct seen {
	size_t n;
	enum kjson_event ev[MAX_SEEN];
	struct kjson_obj obj[MAX_SEEN];
	int abort_at; /* return -1 for this delivery (1-based), 0 never */
};

static int
collect_cb(void *arg, enum kjson_event ev, const struct kjson_obj *o)
{
	struct seen *s = arg;

	if (s->n < MAX_SEEN) {
		s->ev[s->n] = ev;
		s->obj[s->n] = *o;
	}
	s->n++;
	return s->abort_at != 0 && (size_t)s->abort_at == s->n ? -1 : 0;
}

static const char list_page[] =
    "{\"kind\":\"DeploymentList\",\"apiVersion\":\"apps/v1\","
    "\"metadata\":{\"resourceVersion\":\"48213\",\"continue\":\"eyJ2Ijoi\","
    "\"remainingItemCount\":3},"
    "\"items\":["
    "{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
    "\"uid\":\"5f0c2f0e-8d1a-4a57-9b43-0f3f5a3c2b11\","
    "\"resourceVersion\":\"48190\",\"generation\":4,"
    "\"creationTimestamp\":\"2025-03-01T10:00:00Z\","
    "\"labels\":{\"app\":\"web\"},"
    "\"annotations\":{\"deployment.kubernetes.io/revision\":\"2\","
    "\"name\":\"not-the-name\"}},"
    "\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":\"web\""
    "}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"},"
    "\"name\":\"ignored\"},\"spec\":{\"containers\":[{\"name\":\"web\","
    "\"image\":\"nginx:1.27\",\"replicas\":99}]}},"
    "\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{"
    "\"maxUnavailable\":\"25%\",\"maxSurge\":\"25%\"}},"
    "\"revisionHistoryLimit\":10,\"progressDeadlineSeconds\":600},"
    "\"status\":{\"observedGeneration\":4,\"replicas\":3,"
    "\"updatedReplicas\":3,\"readyReplicas\":3,\"availableReplicas\":3,"
    "\"conditions\":[{\"type\":\"Available\",\"status\":\"True\","
    "\"reason\":\"MinimumReplicasAvailable\"}]}},"
    "{\"metadata\":{\"name\":\"zero\",\"resourceVersion\":\"7\"},"
    "\"spec\":{\"replicas\":0},\"status\":{}},"
    "{\"metadata\":{\"name\":\"defaulted.one\",\"resourceVersion\":\"8\"},"
    "\"spec\":{},\"status\":{\"replicas\":2}}"
    "]}";

static const char watch_stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Deployment\","
    "\"apiVersion\":\"apps/v1\",\"metadata\":{\"name\":\"api\","
    "\"namespace\":\"shop\",\"resourceVersion\":\"48230\","
    "\"generation\":1},\"spec\":{\"replicas\":1},\"status\":{}}}\n"
    "{\"object\":{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
    "\"resourceVersion\":\"48241\",\"generation\":5},\"spec\":{"
    "\"replicas\":5},\"status\":{\"observedGeneration\":4,\"replicas\":3,"
    "\"readyReplicas\":3}},\"type\":\"MODIFIED\"}\n"
    "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Deployment\","
    "\"metadata\":{\"name\":\"api\",\"resourceVersion\":\"48260\"},"
    "\"spec\":{\"replicas\":1},\"status\":{}}}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Deployment\","
    "\"apiVersion\":\"apps/v1\",\"metadata\":{\"resourceVersion\":\"48300\","
    "\"creationTimestamp\":null,\"annotations\":{"
    "\"k8s.io/initial-events-end\":\"true\"}},\"spec\":{\"selector\":null,"
    "\"template\":{\"metadata\":{\"creationTimestamp\":null},\"spec\":{"
    "\"containers\":null}},\"strategy\":{}},\"status\":{}}}\n"
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
    "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old "
    "resource version: 48000 (48150)\",\"reason\":\"Expired\","
    "\"code\":410}}\n";

static void
check_list_page(const struct seen *s, struct kjson *k)
{
	assert_int_equal(s->n, 3);
	assert_int_equal(kjson_count(k), 3);
	assert_int_equal(s->ev[0], KJSON_EV_ADDED);
	assert_string_equal(s->obj[0].name, "web");
	assert_string_equal(s->obj[0].namespace, "shop");
	assert_string_equal(
	    s->obj[0].uid, "5f0c2f0e-8d1a-4a57-9b43-0f3f5a3c2b11");
	assert_string_equal(s->obj[0].rv, "48190");
	assert_int_equal(s->obj[0].generation, 4);
	assert_int_equal(s->obj[0].observed_generation, 4);
	assert_int_equal(s->obj[0].spec_replicas, 3);
	assert_int_equal(s->obj[0].replicas, 3);
	assert_int_equal(s->obj[0].ready, 3);
	assert_int_equal(s->obj[0].available, 3);
	assert_int_equal(s->obj[0].updated, 3);
	/* An explicit 0 is kept; an absent spec.replicas means 1. */
	assert_string_equal(s->obj[1].name, "zero");
	assert_int_equal(s->obj[1].spec_replicas, 0);
	assert_string_equal(s->obj[2].name, "defaulted.one");
	assert_int_equal(s->obj[2].spec_replicas, 1);
	assert_int_equal(s->obj[2].replicas, 2);
	assert_int_equal(s->obj[2].ready, 0);
	assert_string_equal(kjson_top(k)->kind, "DeploymentList");
	assert_string_equal(kjson_top(k)->rv, "48213");
	assert_string_equal(kjson_top(k)->cont, "eyJ2Ijoi");
}

/** A real-shaped list page, fed whole: items and list metadata. */
static void
test_kjson_list_page_whole(void **state)
{
	struct seen s = {0};
	struct kjson *k = kjson_new(KJSON_LIST, collect_cb, &s);

	(void)state;
	assert_non_null(k);
	assert_int_equal(kjson_feed(k, list_page, strlen(list_page)), 0);
	assert_int_equal(kjson_finish(k), 0);
	check_list_page(&s, k);
	kjson_free(k);
}

/** The same page split at every offset into two pieces. */
static void
test_kjson_list_page_every_split(void **state)
{
	size_t len = strlen(list_page);

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		struct seen s = {0};
		struct kjson *k = kjson_new(KJSON_LIST, collect_cb, &s);

		assert_non_null(k);
		assert_int_equal(kjson_feed(k, list_page, cut), 0);
		assert_int_equal(kjson_feed(k, list_page + cut, len - cut), 0);
		assert_int_equal(kjson_finish(k), 0);
		check_list_page(&s, k);
		kjson_free(k);
	}
}

static void
check_watch(const struct seen *s)
{
	assert_int_equal(s->n, 5);
	assert_int_equal(s->ev[0], KJSON_EV_ADDED);
	assert_string_equal(s->obj[0].name, "api");
	assert_string_equal(s->obj[0].rv, "48230");
	/* "type" after "object" works too. */
	assert_int_equal(s->ev[1], KJSON_EV_MODIFIED);
	assert_string_equal(s->obj[1].name, "web");
	assert_int_equal(s->obj[1].spec_replicas, 5);
	assert_int_equal(s->obj[1].generation, 5);
	assert_int_equal(s->obj[1].observed_generation, 4);
	assert_int_equal(s->ev[2], KJSON_EV_DELETED);
	assert_string_equal(s->obj[2].rv, "48260");
	assert_int_equal(s->ev[3], KJSON_EV_BOOKMARK);
	assert_string_equal(s->obj[3].rv, "48300");
	assert_string_equal(s->obj[3].name, "");
	assert_int_equal(s->obj[3].initial_events_end, 1);
	assert_int_equal(s->ev[4], KJSON_EV_ERROR);
	assert_int_equal(s->obj[4].code, 410);
	assert_string_equal(s->obj[4].reason, "Expired");
	assert_string_equal(
	    s->obj[4].message, "too old resource version: 48000 (48150)");
}

/** Watch events, one byte at a time: every chunk boundary works. */
static void
test_kjson_watch_byte_at_a_time(void **state)
{
	struct seen s = {0};
	struct kjson *k = kjson_new(KJSON_WATCH, collect_cb, &s);

	(void)state;
	assert_non_null(k);
	for (size_t i = 0; i < strlen(watch_stream); i++)
		assert_int_equal(kjson_feed(k, watch_stream + i, 1), 0);
	assert_int_equal(kjson_finish(k), 0);
	check_watch(&s);
	kjson_free(k);
}

/** Several events in one chunk, and a chunk ending right before "\n". */
static void
test_kjson_watch_packed_and_split_before_newline(void **state)
{
	size_t len = strlen(watch_stream);
	struct seen s = {0};
	struct kjson *k = kjson_new(KJSON_WATCH, collect_cb, &s);
	const char *nl = strchr(watch_stream, '\n');

	(void)state;
	assert_non_null(k);
	assert_int_equal(
	    kjson_feed(k, watch_stream, (size_t)(nl - watch_stream)), 0);
	assert_int_equal(s.n, 1); /* delivered at the closing brace */
	assert_int_equal(
	    kjson_feed(k, nl, len - (size_t)(nl - watch_stream)), 0);
	assert_int_equal(kjson_finish(k), 0);
	check_watch(&s);
	kjson_free(k);
}

/** A multi-byte UTF-8 sequence cut between two feeds. */
static void
test_kjson_watch_utf8_split(void **state)
{
	static const char ev[] =
	    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
	    "\"resourceVersion\":\"2\",\"annotations\":{\"note\":"
	    "\"caf\xc3\xa9 \xe2\x82\xac\"}},\"spec\":{\"replicas\":2}}}\n";
	const char *cut = strstr(ev, "\xe2") + 1;
	struct seen s = {0};
	struct kjson *k = kjson_new(KJSON_WATCH, collect_cb, &s);

	(void)state;
	assert_int_equal(kjson_feed(k, ev, (size_t)(cut - ev)), 0);
	assert_int_equal(kjson_feed(k, cut, strlen(cut)), 0);
	assert_int_equal(kjson_finish(k), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.obj[0].spec_replicas, 2);
	kjson_free(k);
}

/** A Scale answer (autoscaling/v1) and a Status error as single objects. */
static void
test_kjson_object_scale_and_status(void **state)
{
	static const char scale[] =
	    "{\"kind\":\"Scale\",\"apiVersion\":\"autoscaling/v1\","
	    "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
	    "\"resourceVersion\":\"48241\"},\"spec\":{},"
	    "\"status\":{\"replicas\":3,\"selector\":\"app=web\"}}";
	static const char status[] =
	    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
	    "\"status\":\"Failure\",\"message\":\"deployments.apps \\\"web\\\" "
	    "not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"web\","
	    "\"group\":\"apps\",\"kind\":\"deployments\"},\"code\":404}";
	struct kjson *k;

	(void)state;
	k = kjson_new(KJSON_OBJECT, NULL, NULL);
	assert_int_equal(kjson_feed(k, scale, strlen(scale)), 0);
	assert_int_equal(kjson_finish(k), 0);
	assert_string_equal(kjson_top(k)->kind, "Scale");
	assert_string_equal(kjson_top(k)->rv, "48241");
	assert_int_equal(kjson_top(k)->has_spec_replicas, 0); /* 0 */
	assert_int_equal(kjson_top(k)->replicas, 3);
	kjson_free(k);

	k = kjson_new(KJSON_OBJECT, NULL, NULL);
	assert_int_equal(kjson_feed(k, status, strlen(status)), 0);
	assert_int_equal(kjson_finish(k), 0);
	assert_string_equal(kjson_top(k)->kind, "Status");
	assert_int_equal(kjson_top(k)->code, 404);
	assert_string_equal(kjson_top(k)->reason, "NotFound");
	assert_string_equal(
	    kjson_top(k)->message, "deployments.apps \"web\" not found");
	kjson_free(k);
}

struct hostile {
	const char *doc; /* why it must fail */
	enum kjson_mode mode;
	const char *json;
	const char *err; /* substring of kjson_error() */
};

static const struct hostile hostile[] = {
    /** Not JSON at all. */
    {"garbage", KJSON_WATCH, "<html>502</html>", "invalid JSON"},
    /** Uppercase name: not DNS-1123. */
    {"bad name", KJSON_WATCH,
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"Web\","
        "\"resourceVersion\":\"1\"}}}",
        "DNS-1123"},
    /** Name over 253 bytes. */
    {"long name", KJSON_LIST, NULL, "DNS-1123"},
    /** Negative replicas. */
    {"negative", KJSON_WATCH,
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
        "\"resourceVersion\":\"1\"},\"spec\":{\"replicas\":-1}}}",
        "spec.replicas out of range"},
    /** Replicas over int32. */
    {"int32 overflow", KJSON_WATCH,
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
        "\"resourceVersion\":\"1\"},\"spec\":{\"replicas\":2147483648}}}",
        "spec.replicas out of range"},
    /** Replicas as a float. */
    {"float count", KJSON_WATCH,
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
        "\"resourceVersion\":\"1\"},\"status\":{\"readyReplicas\":1.5}}}",
        "not an integer"},
    /** Replicas as a string. */
    {"string count", KJSON_WATCH,
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
        "\"resourceVersion\":\"1\"},\"spec\":{\"replicas\":true}}}",
        "not an integer"},
    /** Number beyond 64 bits. */
    {"huge number", KJSON_WATCH,
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
        "\"resourceVersion\":\"1\",\"generation\":"
        "123456789012345678901234567890}}}",
        "invalid JSON"},
    /** Event without name. */
    {"no name", KJSON_WATCH,
        "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{"
        "\"resourceVersion\":\"1\"}}}",
        "without metadata.name"},
    /** Unknown event type. */
    {"unknown type", KJSON_WATCH, "{\"type\":\"REPLACED\",\"object\":{}}",
        "unknown watch event type"},
    /** Event without a type. */
    {"no type", KJSON_WATCH,
        "{\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":"
        "\"1\"}}}",
        "without a type"},
    /** Bookmark without RV. */
    {"bookmark no rv", KJSON_WATCH,
        "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{}}}",
        "bookmark without"},
    /** ERROR event without code. */
    {"error no code", KJSON_WATCH,
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\"}}",
        "without a status code"},
    /** Control byte in resourceVersion. */
    {"rv control", KJSON_WATCH,
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
        "\"resourceVersion\":\"1\\n2\"}}}",
        "resourceVersion has invalid bytes"},
    /** Status code out of HTTP range. */
    {"code range", KJSON_OBJECT, "{\"kind\":\"Status\",\"code\":99999}",
        "status code out of range"},
    /** Nesting deeper than the limit. */
    {"depth bomb", KJSON_OBJECT, NULL, "nested too deeply"},
    /** A watch line that is a bare string, not an event object. */
    {"bare string", KJSON_WATCH, "\"ADDED\"\n", "not a JSON object"},
    /** A list answer that is an array. */
    {"bare array", KJSON_LIST, "[{\"metadata\":{}}]", "not a JSON object"},
    /** An object answer that is a number. */
    {"bare number", KJSON_OBJECT, "42", "not a JSON object"},
    /** Truncated document. */
    {"truncated", KJSON_OBJECT, "{\"kind\":\"Scale\",\"metadata\":{", "JSON"},
    /** An unterminated string after the object: yajl alone lets it pass
     * (its lexer waits for the rest, yajl_complete_parse does not ask). */
    {"string after object", KJSON_OBJECT, "{\"kind\":\"Scale\"} \"abc",
        "text after the value"},
    {"string after list", KJSON_LIST, "{\"items\":[]}\n\"",
        "text after the value"},
    /** \f and \v are not JSON whitespace (yajl skips both). */
    {"form feed", KJSON_OBJECT, "{\f\"kind\":\"Scale\"}", "\\f or \\v"},
    {"vertical tab", KJSON_WATCH, "\v", "\\f or \\v"},
};

static char *
make_long_name_list(void)
{
	char *s = malloc(1024);
	int n;

	assert_non_null(s);
	n = snprintf(s, 1024, "{\"items\":[{\"metadata\":{\"name\":\"");
	memset(s + n, 'a', 254);
	snprintf(s + n + 254, 1024 - (size_t)n - 254,
	    "\",\"resourceVersion\":\"1\"}}]}");
	return s;
}

static char *
make_depth_bomb(void)
{
	size_t n = 10000;
	char *s = malloc(2 * n + 8);

	assert_non_null(s);
	memcpy(s, "{\"a\":", 5);
	memset(s + 5, '[', n);
	memset(s + 5 + n, ']', n);
	memcpy(s + 5 + 2 * n, "}", 2);
	return s;
}

/** Every hostile answer fails with its reason, fed whole and bytewise. */
static void
test_kjson_rejects_hostile_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		const struct hostile *h = &hostile[i];
		char *owned = NULL;
		const char *json = h->json;

		if (json == NULL)
			json = owned = strcmp(h->doc, "long name") == 0
			    ? make_long_name_list()
			    : make_depth_bomb();
		for (int bytewise = 0; bytewise <= 1; bytewise++) {
			struct seen s = {0};
			struct kjson *k = kjson_new(h->mode, collect_cb, &s);
			int rc = 0;
			size_t len = strlen(json);

			assert_non_null(k);
			if (bytewise) {
				for (size_t j = 0; j < len && rc == 0; j++)
					rc = kjson_feed(k, json + j, 1);
			} else
				rc = kjson_feed(k, json, len);
			if (rc == 0)
				rc = kjson_finish(k);
			if (rc != -1 || strstr(kjson_error(k), h->err) == NULL)
				fail_msg("%s: rc %d, error \"%s\"", h->doc, rc,
				    kjson_error(k));
			assert_int_equal(s.n, 0);
			/* Dead after an error. */
			assert_int_equal(kjson_feed(k, "{}", 2), -1);
			kjson_free(k);
		}
		free(owned);
	}
}

/** One endless string: refused once over the per-object bound. */
static void
test_kjson_rejects_oversized_event(void **state)
{
	static char chunk[65536];
	struct kjson *k = kjson_new(KJSON_WATCH, NULL, NULL);
	const char *start = "{\"type\":\"ADDED\",\"object\":{\"x\":\"";
	int rc = 0;
	size_t fed = 0;

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(kjson_feed(k, start, strlen(start)), 0);
	while (rc == 0 && fed < 64u * 1024 * 1024) {
		rc = kjson_feed(k, chunk, sizeof(chunk));
		fed += sizeof(chunk);
	}
	assert_int_equal(rc, -1);
	assert_true(fed <= 9u * 1024 * 1024);
	assert_non_null(strstr(kjson_error(k), "size limit"));
	kjson_free(k);
}

/** Large events one after another are fine: the bound is per event. */
static void
test_kjson_many_events_not_limited_in_total(void **state)
{
	struct seen s = {0};
	struct kjson *k = kjson_new(KJSON_WATCH, collect_cb, &s);
	char ev[4096];
	int n;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		n = snprintf(ev, sizeof(ev),
		    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{"
		    "\"name\":\"d%d\",\"resourceVersion\":\"%d\","
		    "\"annotations\":"
		    "{\"pad\":\"%03000d\"}}}}\n",
		    i, i + 1, 0);
		assert_int_equal(kjson_feed(k, ev, (size_t)n), 0);
	}
	assert_int_equal(kjson_finish(k), 0);
	assert_int_equal(kjson_count(k), 5000);
	kjson_free(k);
}

/** A watch that ends before its first event ended cleanly; one that ends
 *  inside an event did not. */
static void
test_kjson_watch_empty_and_cut_streams(void **state)
{
	struct kjson *k;

	(void)state;
	k = kjson_new(KJSON_WATCH, NULL, NULL);
	assert_int_equal(kjson_finish(k), 0);
	kjson_free(k);
	k = kjson_new(KJSON_WATCH, NULL, NULL);
	assert_int_equal(kjson_feed(k, "\n\r\n \t", 5), 0);
	assert_int_equal(kjson_finish(k), 0);
	kjson_free(k);
	k = kjson_new(KJSON_WATCH, NULL, NULL);
	assert_int_equal(kjson_feed(k, "{\"type\":\"ADD", 12), 0);
	assert_int_equal(kjson_finish(k), -1);
	kjson_free(k);
}

/** A bare literal after a good event: the event stands, the rest fails. */
static void
test_kjson_watch_literal_after_event(void **state)
{
	static const char in[] =
	    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{"
	    "\"resourceVersion\":\"9\"}}}\ntrue\n";
	struct seen s = {0};
	struct kjson *k = kjson_new(KJSON_WATCH, collect_cb, &s);

	(void)state;
	assert_int_equal(kjson_feed(k, in, strlen(in)), -1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ev[0], KJSON_EV_BOOKMARK);
	assert_non_null(strstr(kjson_error(k), "not a JSON object"));
	kjson_free(k);
}

/** A callback's -1 stops the parse with an error. */
/** replicad's annotations reach the object, split anywhere; a bad value
 * is recorded as invalid bounds and never fails the parse (people write
 * annotations; one typo must not take the cache down). */
static void
test_kjson_replicad_annotations(void **state)
{
	static const char stream[] =
	    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
	    "\"resourceVersion\":\"1\",\"annotations\":{"
	    "\"replicad.io/min-replicas\":\"2\","
	    "\"replicad.io/max-replicas\":\"8\","
	    "\"replicad.io/pin-suspended\":\"true\"}},\"spec\":{}}}\n"
	    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"b\","
	    "\"resourceVersion\":\"2\",\"annotations\":{"
	    "\"replicad.io/max-replicas\":\"lots\"}},\"spec\":{}}}\n"
	    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"c\","
	    "\"resourceVersion\":\"3\",\"labels\":{"
	    "\"replicad.io/max-replicas\":\"1\"}},\"spec\":{}}}\n";
	size_t len = strlen(stream);

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		struct seen s;
		struct kjson *k;

		memset(&s, 0, sizeof(s));
		k = kjson_new(KJSON_WATCH, collect_cb, &s);
		assert_non_null(k);
		assert_int_equal(kjson_feed(k, stream, cut), 0);
		assert_int_equal(kjson_feed(k, stream + cut, len - cut), 0);
		assert_int_equal(kjson_finish(k), 0);
		assert_int_equal(s.n, 3);
		assert_int_equal(s.obj[0].annot.bounds, PS_B_MIN | PS_B_MAX);
		assert_int_equal(s.obj[0].annot.min_replicas, 2);
		assert_int_equal(s.obj[0].annot.max_replicas, 8);
		assert_int_equal(s.obj[0].annot.pin_suspended, 1);
		assert_int_equal(s.obj[1].annot.bounds, PS_B_INVALID);
		/* A label of that name is not the annotation. */
		assert_int_equal(s.obj[2].annot.bounds, 0);
		kjson_free(k);
	}
}

static void
test_kjson_callback_abort(void **state)
{
	struct seen s = {.abort_at = 2};
	struct kjson *k = kjson_new(KJSON_LIST, collect_cb, &s);

	(void)state;
	assert_int_equal(kjson_feed(k, list_page, strlen(list_page)), -1);
	assert_int_equal(s.n, 2);
	assert_non_null(strstr(kjson_error(k), "aborted"));
	kjson_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kjson_list_page_whole),
	    cmocka_unit_test(test_kjson_list_page_every_split),
	    cmocka_unit_test(test_kjson_watch_byte_at_a_time),
	    cmocka_unit_test(test_kjson_watch_packed_and_split_before_newline),
	    cmocka_unit_test(test_kjson_watch_utf8_split),
	    cmocka_unit_test(test_kjson_object_scale_and_status),
	    cmocka_unit_test(test_kjson_rejects_hostile_answers),
	    cmocka_unit_test(test_kjson_rejects_oversized_event),
	    cmocka_unit_test(test_kjson_many_events_not_limited_in_total),
	    cmocka_unit_test(test_kjson_callback_abort),
	    cmocka_unit_test(test_kjson_replicad_annotations),
	    cmocka_unit_test(test_kjson_watch_empty_and_cut_streams),
	    cmocka_unit_test(test_kjson_watch_literal_after_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
