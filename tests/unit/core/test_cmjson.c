/*
 * test_cmjson.c — the ConfigMap parsers (one object, a list, a watch
 * stream) and the body the core writes: real shapes as the API sends
 * them, every split of the input, and a hostile table (wrong types for
 * every kept field, bad names and resourceVersions, depth bombs, values
 * over the 1 MiB ConfigMap limit, invalid UTF-8, endless strings), each of
 * which must fail with a reason and deliver nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pins/cmjson.h"
#include "core/core_limits.h"

#define KEY      "pins.json"
#define MAX_SEEN 16

struct seen {
	size_t n;
	enum kjson_event ev[MAX_SEEN];
	struct cmjson_cm cm[MAX_SEEN];
	char value[MAX_SEEN][256]; /* copies: cm.value is borrowed */
	int abort_at;              /* return -1 for this delivery (1-based) */
};

static int
collect_cb(void *arg, enum kjson_event ev, const struct cmjson_cm *cm)
{
	struct seen *s = arg;

	if (s->n < MAX_SEEN) {
		s->ev[s->n] = ev;
		s->cm[s->n] = *cm;
		s->cm[s->n].value = NULL;
		if (cm->has_value)
			snprintf(s->value[s->n], sizeof(s->value[0]), "%.*s",
			    (int)cm->value_len, cm->value);
	}
	s->n++;
	return s->abort_at != 0 && (size_t)s->abort_at == s->n ? -1 : 0;
}

/* As the API server sends it (kube-sim's field order, managedFields). */
static const char object[] =
    "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{"
    "\"name\":\"replicad-pins\",\"namespace\":\"shop\","
    "\"uid\":\"ef9f4a5c-365e-4d61-8879-38d26dac03e1\","
    "\"resourceVersion\":\"48190\",\"creationTimestamp\":"
    "\"2025-03-01T10:00:00Z\",\"labels\":{\"app.kubernetes.io/managed-by\":"
    "\"replicad\"},\"annotations\":{\"name\":\"not-the-name\","
    "\"resourceVersion\":\"1\"},\"managedFields\":[{\"manager\":\"replicad\","
    "\"operation\":\"Update\",\"fieldsV1\":{\"f:data\":{\".\":{},"
    "\"f:pins.json\":{}}}}]},"
    "\"data\":{\"README\":\"hello\",\"pins.json\":\"[\\n  {\\\"name\\\": "
    "\\\"web\\\", \\\"namespace\\\": \\\"shop\\\", \\\"replicas\\\": 2}\\n]"
    "\\n\",\"zz\":\"\\u00e9t\\u00e9\"},\"binaryData\":{\"b\":\"AAEC\"},"
    "\"immutable\":false}";

static const char object_value[] =
    "[\n  {\"name\": \"web\", \"namespace\": \"shop\", \"replicas\": 2}\n]\n";

static const char list[] =
    "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{"
    "\"resourceVersion\":\"500\"},\"items\":[{\"metadata\":{"
    "\"name\":\"replicad-pins\",\"namespace\":\"shop\","
    "\"resourceVersion\":\"480\"},\"data\":{\"pins.json\":\"[]\"}}]}";

static const char watch[] =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"apiVersion\":"
    "\"v1\",\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\","
    "\"resourceVersion\":\"10\"}}}\n"
    "{\"object\":{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"11\"},"
    "\"data\":{\"pins.json\":\"[]\"}},\"type\":\"MODIFIED\"}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":"
    "{\"resourceVersion\":\"12\",\"creationTimestamp\":null}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"p\","
    "\"resourceVersion\":\"13\"},\"data\":{\"pins.json\":\"x\"}}}\n"
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
    "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old "
    "resource version: 1 (12)\",\"reason\":\"Expired\",\"code\":410}}\n";

static void
check_object(const struct cmjson_cm *o)
{
	assert_string_equal(o->kind, "ConfigMap");
	assert_string_equal(o->name, "replicad-pins");
	assert_string_equal(o->namespace, "shop");
	assert_string_equal(o->uid, "ef9f4a5c-365e-4d61-8879-38d26dac03e1");
	assert_string_equal(o->rv, "48190");
	assert_int_equal(o->has_value, 1);
	assert_int_equal(o->value_len, strlen(object_value));
	assert_memory_equal(o->value, object_value, o->value_len);
	assert_int_equal(o->value[o->value_len], '\0');
	assert_int_equal(o->other_keys, 2);
}

/** A real object, whole: only the kept fields, from the right places
 *  (annotations named "name" or "resourceVersion" are not the name). */
static void
test_cmjson_object_whole(void **state)
{
	struct cmjson *c = cmjson_new(CMJSON_OBJECT, KEY, NULL, NULL);

	(void)state;
	assert_non_null(c);
	assert_int_equal(cmjson_feed(c, object, strlen(object)), 0);
	assert_int_equal(cmjson_finish(c), 0);
	check_object(cmjson_top(c));
	cmjson_free(c);
}

/** Any split of the object, and one byte at a time, gives the same. */
static void
test_cmjson_object_every_split(void **state)
{
	size_t len = strlen(object);

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		struct cmjson *c = cmjson_new(CMJSON_OBJECT, KEY, NULL, NULL);

		assert_non_null(c);
		assert_int_equal(cmjson_feed(c, object, cut), 0);
		assert_int_equal(cmjson_feed(c, object + cut, len - cut), 0);
		assert_int_equal(cmjson_finish(c), 0);
		check_object(cmjson_top(c));
		cmjson_free(c);
	}
	{
		struct cmjson *c = cmjson_new(CMJSON_OBJECT, KEY, NULL, NULL);

		assert_non_null(c);
		for (size_t i = 0; i < len; i++)
			assert_int_equal(cmjson_feed(c, object + i, 1), 0);
		assert_int_equal(cmjson_finish(c), 0);
		check_object(cmjson_top(c));
		cmjson_free(c);
	}
}

/** No data, null data, a null value, another key only: no value. */
static void
test_cmjson_object_without_value(void **state)
{
	static const char *const cases[] = {
	    "{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"1\"}}",
	    "{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"1\"},"
	    "\"data\":null}",
	    "{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"1\"},"
	    "\"data\":{\"pins.json\":null}}",
	    "{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"1\"},"
	    "\"data\":{\"pins.json\":\"x\",\"pins.json\":null}}",
	    "{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"1\"},"
	    "\"data\":{\"pins.jsonx\":\"[]\"}}",
	    "{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"1\"},"
	    "\"binaryData\":{\"pins.json\":\"W10=\"}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmjson *c = cmjson_new(CMJSON_OBJECT, KEY, NULL, NULL);

		assert_non_null(c);
		assert_int_equal(cmjson_feed(c, cases[i], strlen(cases[i])), 0);
		assert_int_equal(cmjson_finish(c), 0);
		assert_int_equal(cmjson_top(c)->has_value, 0);
		assert_null(cmjson_top(c)->value);
		cmjson_free(c);
	}
}

/** A list by name: its resourceVersion, and its item. */
static void
test_cmjson_list(void **state)
{
	struct seen s;
	struct cmjson *c;
	static const char empty[] =
	    "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{"
	    "\"resourceVersion\":\"501\"},\"items\":[]}";
	static const char null_items[] =
	    "{\"kind\":\"ConfigMapList\",\"metadata\":{"
	    "\"resourceVersion\":\"502\"},\"items\":null}";

	(void)state;
	memset(&s, 0, sizeof(s));
	c = cmjson_new(CMJSON_LIST, KEY, collect_cb, &s);
	assert_non_null(c);
	assert_int_equal(cmjson_feed(c, list, strlen(list)), 0);
	assert_int_equal(cmjson_finish(c), 0);
	assert_string_equal(cmjson_top(c)->kind, "ConfigMapList");
	assert_string_equal(cmjson_top(c)->rv, "500");
	assert_int_equal(s.n, 1);
	assert_int_equal(cmjson_count(c), 1);
	assert_int_equal(s.ev[0], KJSON_EV_ADDED);
	assert_string_equal(s.cm[0].name, "replicad-pins");
	assert_string_equal(s.cm[0].rv, "480");
	assert_string_equal(s.value[0], "[]");
	cmjson_free(c);

	memset(&s, 0, sizeof(s));
	c = cmjson_new(CMJSON_LIST, KEY, collect_cb, &s);
	assert_int_equal(cmjson_feed(c, empty, strlen(empty)), 0);
	assert_int_equal(cmjson_finish(c), 0);
	assert_string_equal(cmjson_top(c)->rv, "501");
	assert_int_equal(s.n, 0);
	cmjson_free(c);

	memset(&s, 0, sizeof(s));
	c = cmjson_new(CMJSON_LIST, KEY, collect_cb, &s);
	assert_int_equal(cmjson_feed(c, null_items, strlen(null_items)), 0);
	assert_int_equal(cmjson_finish(c), 0);
	assert_string_equal(cmjson_top(c)->rv, "502");
	assert_int_equal(s.n, 0);
	cmjson_free(c);
}

static void
check_watch(const struct seen *s)
{
	assert_int_equal(s->n, 5);
	assert_int_equal(s->ev[0], KJSON_EV_ADDED);
	assert_string_equal(s->cm[0].rv, "10");
	assert_int_equal(s->cm[0].has_value, 0);
	assert_int_equal(s->ev[1], KJSON_EV_MODIFIED);
	assert_string_equal(s->cm[1].rv, "11");
	assert_string_equal(s->value[1], "[]");
	assert_string_equal(s->cm[1].namespace, "");
	assert_int_equal(s->ev[2], KJSON_EV_BOOKMARK);
	assert_string_equal(s->cm[2].rv, "12");
	assert_int_equal(s->ev[3], KJSON_EV_DELETED);
	assert_string_equal(s->cm[3].rv, "13");
	assert_int_equal(s->ev[4], KJSON_EV_ERROR);
	assert_int_equal(s->cm[4].code, 410);
	assert_string_equal(s->cm[4].reason, "Expired");
	assert_string_equal(
	    s->cm[4].message, "too old resource version: 1 (12)");
}

/** A watch stream: every event type, whole, split anywhere, byte-wise. */
static void
test_cmjson_watch(void **state)
{
	size_t len = strlen(watch);
	struct seen s;
	struct cmjson *c;

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		memset(&s, 0, sizeof(s));
		c = cmjson_new(CMJSON_WATCH, KEY, collect_cb, &s);
		assert_non_null(c);
		assert_int_equal(cmjson_feed(c, watch, cut), 0);
		assert_int_equal(cmjson_feed(c, watch + cut, len - cut), 0);
		assert_int_equal(cmjson_finish(c), 0);
		check_watch(&s);
		cmjson_free(c);
	}
	memset(&s, 0, sizeof(s));
	c = cmjson_new(CMJSON_WATCH, KEY, collect_cb, &s);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(cmjson_feed(c, watch + i, 1), 0);
	assert_int_equal(cmjson_finish(c), 0);
	check_watch(&s);
	cmjson_free(c);

	/* A watch that ended before its first event ended cleanly. */
	memset(&s, 0, sizeof(s));
	c = cmjson_new(CMJSON_WATCH, KEY, collect_cb, &s);
	assert_int_equal(cmjson_feed(c, "\n \n", 3), 0);
	assert_int_equal(cmjson_finish(c), 0);
	assert_int_equal(s.n, 0);
	cmjson_free(c);
}

/** The caller can stop a stream; nothing after that is delivered. */
static void
test_cmjson_callback_abort(void **state)
{
	struct seen s;
	struct cmjson *c;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.abort_at = 2;
	c = cmjson_new(CMJSON_WATCH, KEY, collect_cb, &s);
	assert_int_equal(cmjson_feed(c, watch, strlen(watch)), -1);
	assert_int_equal(s.n, 2);
	assert_string_equal(cmjson_error(c), "aborted by caller");
	assert_int_equal(cmjson_feed(c, "{}", 2), -1); /* dead */
	assert_int_equal(cmjson_finish(c), -1);
	cmjson_free(c);
}

#define MD "\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"1\"}"

/** Hostile objects: each refused, with a reason. */
static void
test_cmjson_rejects_hostile_objects(void **state)
{
	static const struct {
		const char *doc;
		const char *why;
	} cases[] = {
	    /** Not an object at all. */
	    {"[]", "answer is not a JSON object"},
	    {"\"x\"", "answer is not a JSON object"},
	    {"null", "answer is not a JSON object"},
	    {"", "invalid JSON"},
	    /** Missing identity. */
	    {"{}", "without metadata.name or resourceVersion"},
	    {"{\"metadata\":{\"name\":\"p\"}}", "without metadata.name or"},
	    {"{\"metadata\":{\"resourceVersion\":\"1\"}}", "without metadata"},
	    {"{\"metadata\":null}", "without metadata"},
	    /** Wrong types for kept fields. */
	    {"{\"metadata\":[]}", "metadata is not an object"},
	    {"{\"metadata\":\"p\"}", "metadata is not an object"},
	    {"{\"metadata\":{\"name\":7,\"resourceVersion\":\"1\"}}",
	        "metadata field is not a string"},
	    {"{\"metadata\":{\"name\":\"p\",\"resourceVersion\":1}}",
	        "metadata field is not a string"},
	    {"{\"metadata\":{\"name\":{},\"resourceVersion\":\"1\"}}",
	        "metadata field is not a string"},
	    {"{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"1\","
	     "\"namespace\":true}}",
	        "metadata field is not a string"},
	    {"{\"kind\":[\"ConfigMap\"]," MD "}",
	        "metadata field is not a string"},
	    {"{" MD ",\"data\":[]}", "data is not an object"},
	    {"{" MD ",\"data\":\"[]\"}", "data is not an object"},
	    {"{" MD ",\"data\":{\"pins.json\":[]}}",
	        "a data value is not a string"},
	    {"{" MD ",\"data\":{\"pins.json\":1}}",
	        "a data value is not a string"},
	    {"{" MD ",\"data\":{\"pins.json\":{\"a\":1}}}",
	        "a data value is not a string"},
	    {"{" MD ",\"data\":{\"other\":false}}",
	        "a data value is not a string"},
	    /** Bad values. */
	    {"{\"metadata\":{\"name\":\"Bad_Name\",\"resourceVersion\":\"1\"}}",
	        "not a DNS-1123 subdomain"},
	    {"{\"metadata\":{\"name\":\"\",\"resourceVersion\":\"1\"}}",
	        "not a DNS-1123 subdomain"},
	    {"{\"metadata\":{\"name\":\"p\",\"namespace\":\"a.b\","
	     "\"resourceVersion\":\"1\"}}",
	        "not a DNS-1123 label"},
	    {"{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"1 2\"}}",
	        "resourceVersion too long or not visible ASCII"},
	    {"{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\""
	     "12345678901234567890123456789012345678901234567890123456789012345"
	     "\"}}",
	        "resourceVersion too long"},
	    {"{\"kind\":"
	     "\"ConfigMapConfigMapConfigMapConfigMapConfigMapConfigMap"
	     "ConfigMapConfigMap\"," MD "}",
	        "kind longer than 64 bytes"},
	    {"{\"metadata\":{\"name\":\"p\",\"uid\":\"a\\u0000b\","
	     "\"resourceVersion\":\"1\"}}",
	        "metadata.uid too long or not visible ASCII"},
	    /** Not JSON: invalid UTF-8, comments, trailing garbage. */
	    {"{" MD ",\"data\":{\"pins.json\":\"\xc3\x28\"}}", "invalid JSON"},
	    {"{" MD ",\"data\":{\"pins.json\":\"\xff\"}}", "invalid JSON"},
	    {"{" MD "} {}", "invalid JSON"},
	    {"{" MD "}x", "invalid JSON"},
	    {"{" MD " /* c */}", "invalid JSON"},
	    {"{" MD ",\"data\":{\"pins.json\":\"[]\"}", "invalid JSON"},
	    /** An unterminated string after the object (yajl alone lets it
	     * pass), and \f or \v, which yajl takes for whitespace. */
	    {"{" MD "} \"abc", "text after the value"},
	    {"{" MD "}\n\"", "text after the value"},
	    {"{" MD "}\f", "\\f or \\v"},
	    {"{\v" MD "}", "\\f or \\v"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmjson *c = cmjson_new(CMJSON_OBJECT, KEY, NULL, NULL);
		int rc;

		assert_non_null(c);
		rc = cmjson_feed(c, cases[i].doc, strlen(cases[i].doc));
		if (rc == 0)
			rc = cmjson_finish(c);
		if (rc != -1 || strstr(cmjson_error(c), cases[i].why) == NULL)
			fail_msg("case %zu (%s): rc %d, error \"%s\"", i,
			    cases[i].doc, rc, cmjson_error(c));
		cmjson_free(c);
	}
}

/** Hostile lists and watch streams: refused, with nothing delivered. */
static void
test_cmjson_rejects_hostile_streams(void **state)
{
	static const struct {
		enum cmjson_mode mode;
		const char *doc;
		const char *why;
	} cases[] = {
	    {CMJSON_LIST, "{\"metadata\":{\"resourceVersion\":1}}",
	        "a metadata field is not a string"},
	    {CMJSON_LIST, "{\"metadata\":[]}", "metadata is not an object"},
	    {CMJSON_LIST, "{\"items\":{}}", "items is not an array"},
	    {CMJSON_LIST, "{\"items\":[1]}", "an object is not a JSON object"},
	    {CMJSON_LIST, "{\"items\":[null]}",
	        "an object is not a JSON object"},
	    {CMJSON_LIST, "{\"items\":[{\"metadata\":{\"name\":\"p\"}}]}",
	        "without metadata.name or resourceVersion"},
	    {CMJSON_LIST, "[]", "answer is not a JSON object"},
	    {CMJSON_WATCH, "{\"type\":\"ADDED\"}\n",
	        "without metadata.name or resourceVersion"},
	    {CMJSON_WATCH, "{\"object\":{" MD "}}\n",
	        "watch event without a type"},
	    {CMJSON_WATCH, "{\"type\":\"GONE\",\"object\":{" MD "}}\n",
	        "unknown watch event type"},
	    {CMJSON_WATCH, "{\"type\":1,\"object\":{" MD "}}\n",
	        "watch event type is not a string"},
	    {CMJSON_WATCH, "{\"type\":\"ADDED\",\"object\":[]}\n",
	        "an object is not a JSON object"},
	    {CMJSON_WATCH, "{\"type\":\"BOOKMARK\",\"object\":{}}\n",
	        "bookmark without resourceVersion"},
	    {CMJSON_WATCH,
	        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\"}}\n",
	        "ERROR event without a status code"},
	    {CMJSON_WATCH, "{\"type\":\"ERROR\",\"object\":{\"code\":99999}}\n",
	        "status code out of range"},
	    {CMJSON_WATCH, "{\"type\":\"ERROR\",\"object\":{\"code\":4.1}}\n",
	        "status code is not an integer"},
	    {CMJSON_WATCH, "[]\n", "answer is not a JSON object"},
	    {CMJSON_WATCH, "true\n", "answer is not a JSON object"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s;
		struct cmjson *c;
		int rc;

		memset(&s, 0, sizeof(s));
		c = cmjson_new(cases[i].mode, KEY, collect_cb, &s);
		assert_non_null(c);
		rc = cmjson_feed(c, cases[i].doc, strlen(cases[i].doc));
		if (rc == 0)
			rc = cmjson_finish(c);
		if (rc != -1 || s.n != 0 ||
		    strstr(cmjson_error(c), cases[i].why) == NULL)
			fail_msg("case %zu (%s): rc %d, %zu delivered, error "
			         "\"%s\"",
			    i, cases[i].doc, rc, s.n, cmjson_error(c));
		cmjson_free(c);
	}
}

/** Nesting beyond the bound is refused before it costs anything. */
static void
test_cmjson_rejects_depth_bomb(void **state)
{
	char doc[1024];
	size_t n = 0;
	struct cmjson *c = cmjson_new(CMJSON_OBJECT, KEY, NULL, NULL);

	(void)state;
	n += (size_t)snprintf(doc, sizeof(doc), "{" MD ",\"x\":");
	for (int i = 0; i < KJSON_MAX_DEPTH + 1; i++)
		doc[n++] = '[';
	assert_int_equal(cmjson_feed(c, doc, n), -1);
	assert_string_equal(cmjson_error(c), "JSON nested too deeply");
	cmjson_free(c);
}

/* {"metadata":...,"data":{"pins.json":"xxx...x"}} with `len` x's. */
static char *
big_object(size_t len, size_t *total)
{
	static const char head[] = "{" MD ",\"data\":{\"pins.json\":\"";
	static const char tail[] = "\"}}";
	char *doc = malloc(sizeof(head) + len + sizeof(tail));

	assert_non_null(doc);
	memcpy(doc, head, sizeof(head) - 1);
	memset(doc + sizeof(head) - 1, 'x', len);
	memcpy(doc + sizeof(head) - 1 + len, tail, sizeof(tail));
	*total = sizeof(head) - 1 + len + sizeof(tail) - 1;
	return doc;
}

/** The kept value: exactly the API's 1 MiB passes, one byte more not. */
static void
test_cmjson_value_bound(void **state)
{
	size_t total;
	char *doc;
	struct cmjson *c;

	(void)state;
	doc = big_object(CMJSON_MAX_VALUE, &total);
	c = cmjson_new(CMJSON_OBJECT, KEY, NULL, NULL);
	assert_int_equal(cmjson_feed(c, doc, total), 0);
	assert_int_equal(cmjson_finish(c), 0);
	assert_int_equal(cmjson_top(c)->value_len, CMJSON_MAX_VALUE);
	cmjson_free(c);
	free(doc);

	doc = big_object(CMJSON_MAX_VALUE + 1, &total);
	c = cmjson_new(CMJSON_OBJECT, KEY, NULL, NULL);
	assert_int_equal(cmjson_feed(c, doc, total), -1);
	assert_non_null(strstr(cmjson_error(c), "ConfigMap limit"));
	cmjson_free(c);
	free(doc);
}

/** An endless string (in a field not even kept) is cut at the per-object
 *  bound, fed in small chunks as a socket would. */
static void
test_cmjson_rejects_endless_string(void **state)
{
	static const char head[] =
	    "{\"type\":\"ADDED\",\"object\":{" MD ",\"data\":{\"other\":\"";
	char chunk[65536];
	struct cmjson *c = cmjson_new(CMJSON_WATCH, KEY, NULL, NULL);
	size_t fed = 0;
	int rc = 0;

	(void)state;
	memset(chunk, 'y', sizeof(chunk));
	assert_int_equal(cmjson_feed(c, head, strlen(head)), 0);
	while (rc == 0 && fed < 2 * (size_t)CMJSON_MAX_UNIT_BYTES) {
		rc = cmjson_feed(c, chunk, sizeof(chunk));
		fed += sizeof(chunk);
	}
	assert_int_equal(rc, -1);
	assert_true(fed <= (size_t)CMJSON_MAX_UNIT_BYTES + 2 * sizeof(chunk));
	assert_string_equal(
	    cmjson_error(c), "one object exceeds the size limit");
	cmjson_free(c);
}

/** Events are bounded one by one, not in total: a long stream of small
 *  events goes on. */
static void
test_cmjson_watch_not_limited_in_total(void **state)
{
	static const char ev[] =
	    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{"
	    "\"resourceVersion\":\"9\"}}}\n";
	struct cmjson *c = cmjson_new(CMJSON_WATCH, KEY, NULL, NULL);
	size_t n = (2 * (size_t)CMJSON_MAX_UNIT_BYTES) / (sizeof(ev) - 1) + 1;

	(void)state;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(cmjson_feed(c, ev, sizeof(ev) - 1), 0);
	assert_int_equal(cmjson_count(c), n);
	cmjson_free(c);
}

/** The body: PUT with the precondition, POST without; parsing it back
 *  gives the same fields; escapes survive; bad UTF-8 is refused. */
static void
test_cmjson_body(void **state)
{
	static const char value[] = "[\n  {\"name\": \"a\\b\"}\n]\n";
	struct cmjson_body b = {"shop", "replicad-pins", "42",
	    "app.kubernetes.io/managed-by", "replicad", KEY, value,
	    sizeof(value) - 1};
	char *out = NULL;
	size_t len = 0;
	struct cmjson *c;

	(void)state;
	assert_int_equal(cmjson_body(&b, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	assert_non_null(strstr(out, "\"resourceVersion\":\"42\""));
	assert_non_null(strstr(
	    out, "\"labels\":{\"app.kubernetes.io/managed-by\":\"replicad\"}"));
	assert_non_null(strstr(out,
	    "\"apiVersion\":\"v1\",\"kind\":"
	    "\"ConfigMap\""));
	c = cmjson_new(CMJSON_OBJECT, KEY, NULL, NULL);
	assert_int_equal(cmjson_feed(c, out, len), 0);
	assert_int_equal(cmjson_finish(c), 0);
	assert_string_equal(cmjson_top(c)->name, "replicad-pins");
	assert_string_equal(cmjson_top(c)->namespace, "shop");
	assert_string_equal(cmjson_top(c)->rv, "42");
	assert_int_equal(cmjson_top(c)->value_len, sizeof(value) - 1);
	assert_memory_equal(cmjson_top(c)->value, value, sizeof(value) - 1);
	cmjson_free(c);
	free(out);

	b.rv = NULL;
	assert_int_equal(cmjson_body(&b, &out, &len), 0);
	assert_null(strstr(out, "resourceVersion"));
	free(out);

	b.value = "\xc3\x28";
	b.value_len = 2;
	out = NULL;
	assert_int_equal(cmjson_body(&b, &out, &len), -1);
	assert_null(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cmjson_object_whole),
	    cmocka_unit_test(test_cmjson_object_every_split),
	    cmocka_unit_test(test_cmjson_object_without_value),
	    cmocka_unit_test(test_cmjson_list),
	    cmocka_unit_test(test_cmjson_watch),
	    cmocka_unit_test(test_cmjson_callback_abort),
	    cmocka_unit_test(test_cmjson_rejects_hostile_objects),
	    cmocka_unit_test(test_cmjson_rejects_hostile_streams),
	    cmocka_unit_test(test_cmjson_rejects_depth_bomb),
	    cmocka_unit_test(test_cmjson_value_bound),
	    cmocka_unit_test(test_cmjson_rejects_endless_string),
	    cmocka_unit_test(test_cmjson_watch_not_limited_in_total),
	    cmocka_unit_test(test_cmjson_body),
	};

	return cmocka_run_group_tests_name("cmjson", tests, NULL, NULL);
}
