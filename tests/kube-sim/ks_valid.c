/*
 * ks_valid.c — HorizontalPodAutoscaler (autoscaling/v2) and Event
 * (events.k8s.io/v1) defaulting and validation.
 *
 * Texts, field paths and the order of errors follow the API server:
 * validateHorizontalPodAutoscalerSpec and ValidateCrossVersionObjectReference
 * (pkg/apis/autoscaling/validation), ValidateEventCreate/Update and
 * legacyValidateEvent (pkg/apis/core/validation/events.go).  Event errors
 * name the *internal* core.Event fields (involvedObject, message, source,
 * firstTimestamp, count), as the real server does, because validation runs
 * on the internal type.  Not done: HPA metrics/behavior validation (the
 * members are stored as given) and behavior defaulting.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_obj.h"
#include "tests/kube-sim/ks_status.h"
#include "tests/kube-sim/ks_valid.h"

#define EVENT_FIELD_LIMIT 128 /* reportingInstance, action, reason */
#define EVENT_NOTE_LIMIT  1024
#define MICRO_LAYOUT      "2006-01-02T15:04:05.000000Z07:00"

/* An int32 member: 0 absent, 1 *v set, -1 not an int32 (400 filled). */
static int
get_int32(const struct ks_json *v, const char *gofield, long long *out,
    struct ks_status *st)
{
	if (v == NULL || v->type == KS_JSON_NULL)
		return 0;
	if (ks_json_int(v, out) != 0 || *out > INT32_MAX || *out < INT32_MIN) {
		ks_status_bad_request(st,
		    "json: cannot unmarshal %s into Go struct field %s of "
		    "type int32",
		    v->type == KS_JSON_NUMBER ? "number" : "value", gofield);
		return -1;
	}
	return 1;
}

/* IsValidPathSegmentName: the name goes into a URL path. */
static const char *
path_segment_error(const char *s)
{
	if (strcmp(s, ".") == 0)
		return "may not be '.'";
	if (strcmp(s, "..") == 0)
		return "may not be '..'";
	if (strchr(s, '/') != NULL)
		return "may not contain '/'";
	if (strchr(s, '%') != NULL)
		return "may not contain '%'";
	return NULL;
}

static int
default_metrics(struct ks_json *spec)
{
	struct ks_json *arr, *m, *res, *tgt;

	if ((arr = ks_json_new(KS_JSON_ARRAY)) == NULL)
		return -1;
	if ((m = ks_json_new(KS_JSON_OBJECT)) == NULL ||
	    ks_json_append(arr, m) != 0) {
		ks_json_free(m);
		ks_json_free(arr);
		return -1;
	}
	if (ks_json_set_str(m, "type", "Resource") != 0 ||
	    (res = ks_json_obj(m, "resource")) == NULL ||
	    ks_json_set_str(res, "name", "cpu") != 0 ||
	    (tgt = ks_json_obj(res, "target")) == NULL ||
	    ks_json_set_str(tgt, "type", "Utilization") != 0 ||
	    ks_json_set_int(tgt, "averageUtilization", 80) != 0) {
		ks_json_free(arr);
		return -1;
	}
	return ks_json_set(spec, "metrics", arr);
}

int
ks_valid_hpa(struct ks_obj *o, struct ks_status *st)
{
	struct ks_json *spec = ks_json_get(o->doc, "spec");
	const struct ks_json *ref, *m;
	const char *kind, *name, *e;
	long long min = 1, max = 0;
	int has_min;
	char val[300];

	if (spec == NULL || spec->type != KS_JSON_OBJECT) {
		ks_json_del(o->doc, "spec");
		if ((spec = ks_json_obj(o->doc, "spec")) == NULL)
			goto nomem;
	}
	/* SetDefaults_HorizontalPodAutoscaler (autoscaling/v2). */
	if ((has_min = get_int32(ks_json_get(spec, "minReplicas"),
	         "HorizontalPodAutoscalerSpec.spec.minReplicas", &min, st)) <
	        0 ||
	    get_int32(ks_json_get(spec, "maxReplicas"),
	        "HorizontalPodAutoscalerSpec.spec.maxReplicas", &max, st) < 0)
		return -1;
	if (!has_min && ks_json_set_int(spec, "minReplicas", 1) != 0)
		goto nomem;
	m = ks_json_get(spec, "metrics");
	if ((m == NULL || m->type == KS_JSON_NULL ||
	        (m->type == KS_JSON_ARRAY && m->child == NULL)) &&
	    default_metrics(spec) != 0)
		goto nomem;
	ref = ks_json_get(spec, "scaleTargetRef");
	kind = ks_json_str(ks_json_get(ref, "kind"));
	name = ks_json_str(ks_json_get(ref, "name"));
	ks_status_invalid(
	    st, "HorizontalPodAutoscaler", "autoscaling", o->name);
	if (min < 1) {
		snprintf(val, sizeof(val), "%lld", min);
		ks_status_add_cause(st, KS_CAUSE_INVALID, "spec.minReplicas",
		    val, "must be greater than or equal to 1");
	}
	snprintf(val, sizeof(val), "%lld", max);
	if (max < 1)
		ks_status_add_cause(st, KS_CAUSE_INVALID, "spec.maxReplicas",
		    val, "must be greater than 0");
	if (max < min)
		ks_status_add_cause(st, KS_CAUSE_INVALID, "spec.maxReplicas",
		    val, "must be greater than or equal to `minReplicas`");
	if (kind == NULL || kind[0] == '\0')
		ks_status_add_cause(
		    st, KS_CAUSE_REQUIRED, "spec.scaleTargetRef.kind", "", "");
	else if ((e = path_segment_error(kind)) != NULL) {
		snprintf(val, sizeof(val), "\"%.253s\"", kind);
		ks_status_add_cause(
		    st, KS_CAUSE_INVALID, "spec.scaleTargetRef.kind", val, e);
	}
	if (name == NULL || name[0] == '\0')
		ks_status_add_cause(
		    st, KS_CAUSE_REQUIRED, "spec.scaleTargetRef.name", "", "");
	else if ((e = path_segment_error(name)) != NULL) {
		snprintf(val, sizeof(val), "\"%.253s\"", name);
		ks_status_add_cause(
		    st, KS_CAUSE_INVALID, "spec.scaleTargetRef.name", val, e);
	}
	return st->ncauses > 0 ? -1 : 0;
nomem:
	ks_status_internal(st, "out of memory");
	return -1;
}

/* ---- events ------------------------------------------------------------ */

static int
two_digits(const char *p)
{
	return isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]);
}

/*
 * metav1.MicroTime's decoder: RFC 3339 with exactly six fractional digits
 * ("2006-01-02T15:04:05.000000Z07:00"); plain RFC 3339 Time (no fraction
 * or any number of digits) when micro is 0.
 */
static int
valid_time_layout(const char *s, int micro)
{
	size_t i, n;

	if (strlen(s) < 20 || !two_digits(s) || !two_digits(s + 2) ||
	    s[4] != '-' || !two_digits(s + 5) || s[7] != '-' ||
	    !two_digits(s + 8) || s[10] != 'T' || !two_digits(s + 11) ||
	    s[13] != ':' || !two_digits(s + 14) || s[16] != ':' ||
	    !two_digits(s + 17))
		return 0;
	i = 19;
	if (s[i] == '.') {
		for (n = 0, i++; isdigit((unsigned char)s[i]); i++)
			n++;
		if (n == 0 || (micro && n != 6))
			return 0;
	} else if (micro)
		return 0;
	if (strcmp(s + i, "Z") == 0)
		return 1;
	return (s[i] == '+' || s[i] == '-') && two_digits(s + i + 1) &&
	    s[i + 3] == ':' && two_digits(s + i + 4) && s[i + 6] == '\0';
}

int
ks_valid_time(const char *s)
{
	return s != NULL && valid_time_layout(s, 0);
}

/* A MicroTime member: 0 absent/null, 1 set, -1 undecodable (400). */
static int
micro_time(const struct ks_json *v, struct ks_status *st)
{
	const char *s = ks_json_str(v);

	if (v == NULL || v->type == KS_JSON_NULL)
		return 0;
	if (s != NULL && valid_time_layout(s, 1))
		return 1;
	ks_status_bad_request(st,
	    "Event in version \"v1\" cannot be handled as a Event: parsing "
	    "time \"%.64s\" as \"" MICRO_LAYOUT "\": cannot parse \"%.64s\" as "
	    "\"%s\"",
	    s ? s : "", s && strlen(s) >= 19 ? s + 19 : (s ? s : ""),
	    s && strlen(s) >= 19 ? ".000000" : "2006");
	return -1;
}

static const char *
str_of(const struct ks_json *doc, const char *path)
{
	const char *s = ks_json_str(ks_json_getp(doc, path));

	return s ? s : "";
}

static int
is_set(const struct ks_json *v)
{
	return v != NULL && v->type != KS_JSON_NULL;
}

/* IsQualifiedName's name part (prefix, when present, a DNS subdomain). */
static void
check_qualified(struct ks_status *st, const char *field, const char *s)
{
	static const char re_msg[] =
	    "name part must consist of alphanumeric characters, '-', '_' or "
	    "'.', and must start and end with an alphanumeric character (e.g. "
	    "'MyName',  or 'my.name',  or '123-abc', regex used for validation "
	    "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
	const char *slash = strchr(s, '/'), *name = slash ? slash + 1 : s;
	char val[300], prefix[254];
	size_t i, n = strlen(name);
	int ok = n > 0;

	snprintf(val, sizeof(val), "\"%.253s\"", s);
	if (slash != NULL) {
		snprintf(prefix, sizeof(prefix), "%.*s",
		    (int)((size_t)(slash - s) < 253 ? slash - s : 253), s);
		if (prefix[0] == '\0')
			ks_status_add_cause(st, KS_CAUSE_INVALID, field, val,
			    "prefix part must be non-empty");
		else if (!ks_valid_dns_subdomain(prefix))
			ks_status_add_cause(st, KS_CAUSE_INVALID, field, val,
			    "prefix part a lowercase RFC 1123 subdomain must "
			    "consist of lower case alphanumeric characters, "
			    "'-' or '.', and must start and end with an "
			    "alphanumeric character");
	}
	if (n == 0)
		ks_status_add_cause(st, KS_CAUSE_INVALID, field, val,
		    "name part must be non-empty");
	else if (n > 63)
		ks_status_add_cause(st, KS_CAUSE_INVALID, field, val,
		    "name part must be no more than 63 bytes");
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!isalnum((unsigned char)c) &&
		    (i == 0 || i == n - 1 ||
		        (c != '-' && c != '_' && c != '.')))
			ok = 0;
	}
	if (!ok)
		ks_status_add_cause(st, KS_CAUSE_INVALID, field, val, re_msg);
}

static void
check_len(struct ks_status *st, const char *field, const char *s, int req,
    size_t limit)
{
	char msg[64];

	if (req && s[0] == '\0')
		ks_status_add_cause(st, KS_CAUSE_REQUIRED, field, "", "");
	if (strlen(s) > limit) {
		snprintf(
		    msg, sizeof(msg), "can have at most %zu characters", limit);
		ks_status_add_cause(st, KS_CAUSE_INVALID, field, "\"\"", msg);
	}
}

/* legacyValidateEvent, for an Event that has an eventTime (and not). */
static void
legacy(const struct ks_obj *o, int has_time, struct ks_status *st)
{
	const char *rns = str_of(o->doc, "regarding.namespace");
	char val[80];

	snprintf(val, sizeof(val), "\"%.63s\"", rns);
	if (!has_time) {
		if ((rns[0] == '\0' && o->ns[0] != '\0' &&
		        strcmp(o->ns, "default") != 0) ||
		    (rns[0] != '\0' && strcmp(o->ns, rns) != 0))
			ks_status_add_cause(st, KS_CAUSE_INVALID,
			    "involvedObject.namespace", val,
			    "does not match event.namespace");
		return;
	}
	if (rns[0] == '\0' && strcmp(o->ns, "default") != 0 &&
	    strcmp(o->ns, "kube-system") != 0)
		ks_status_add_cause(st, KS_CAUSE_INVALID,
		    "involvedObject.namespace", val,
		    "does not match event.namespace");
	if (str_of(o->doc, "reportingController")[0] == '\0')
		ks_status_add_cause(
		    st, KS_CAUSE_REQUIRED, "reportingController", "", "");
	check_qualified(
	    st, "reportingController", str_of(o->doc, "reportingController"));
	check_len(st, "reportingInstance", str_of(o->doc, "reportingInstance"),
	    1, EVENT_FIELD_LIMIT);
	check_len(st, "action", str_of(o->doc, "action"), 1, EVENT_FIELD_LIMIT);
	check_len(st, "reason", str_of(o->doc, "reason"), 1, EVENT_FIELD_LIMIT);
	check_len(st, "message", str_of(o->doc, "note"), 0, EVENT_NOTE_LIMIT);
}

/* validateV1EventSeries; -1 when a time does not decode (400 in st). */
static int
series(const struct ks_obj *o, struct ks_status *st)
{
	const struct ks_json *s = ks_json_get(o->doc, "series");
	struct ks_status tmp;
	long long count = 0;
	int t;

	if (!is_set(s))
		return 0;
	if (get_int32(ks_json_get(s, "count"), "EventSeries.series.count",
	        &count, &tmp) < 0 ||
	    (t = micro_time(ks_json_get(s, "lastObservedTime"), &tmp)) < 0) {
		*st = tmp;
		return -1;
	}
	if (count < 2)
		ks_status_add_cause(st, KS_CAUSE_INVALID, "series.count",
		    "\"\"", "should be at least 2");
	if (t == 0)
		ks_status_add_cause(
		    st, KS_CAUSE_REQUIRED, "series.lastObservedTime", "", "");
	return 0;
}

/* The type and time members decode first (a decode error is a 400). */
static int
decode_checks(const struct ks_obj *o, int *has_time, struct ks_status *st)
{
	long long n;

	if ((*has_time = micro_time(ks_json_get(o->doc, "eventTime"), st)) < 0)
		return -1;
	if (get_int32(ks_json_get(o->doc, "deprecatedCount"),
	        "Event.deprecatedCount", &n, st) < 0)
		return -1;
	return 0;
}

int
ks_valid_event_create(const struct ks_obj *o, struct ks_status *st)
{
	const char *type = str_of(o->doc, "type");
	const struct ks_json *src = ks_json_get(o->doc, "deprecatedSource");
	char msg[160];
	long long n = 0;
	int has_time;

	if (decode_checks(o, &has_time, st) != 0)
		return -1;
	ks_status_invalid(st, "Event", "events.k8s.io", o->name);
	legacy(o, has_time, st);
	if (series(o, st) != 0)
		return -1;
	if (!has_time)
		ks_status_add_cause(st, KS_CAUSE_REQUIRED, "eventTime", "", "");
	if (strcmp(type, "Normal") != 0 && strcmp(type, "Warning") != 0) {
		snprintf(msg, sizeof(msg), "has invalid value: %.100s", type);
		ks_status_add_cause(st, KS_CAUSE_INVALID, "type", "\"\"", msg);
	}
	if (is_set(ks_json_get(o->doc, "deprecatedFirstTimestamp")))
		ks_status_add_cause(st, KS_CAUSE_INVALID, "firstTimestamp",
		    "\"\"", "needs to be unset");
	if (is_set(ks_json_get(o->doc, "deprecatedLastTimestamp")))
		ks_status_add_cause(st, KS_CAUSE_INVALID, "lastTimestamp",
		    "\"\"", "needs to be unset");
	ks_json_int(ks_json_get(o->doc, "deprecatedCount"), &n);
	if (n != 0)
		ks_status_add_cause(
		    st, KS_CAUSE_INVALID, "count", "\"\"", "needs to be unset");
	if (str_of(src, "component")[0] != '\0' ||
	    str_of(src, "host")[0] != '\0')
		ks_status_add_cause(st, KS_CAUSE_INVALID, "source", "\"\"",
		    "needs to be unset");
	return st->ncauses > 0 ? -1 : 0;
}

int
ks_valid_event_update(
    const struct ks_obj *cur, const struct ks_obj *next, struct ks_status *st)
{
	/* v1 member → the internal field the error names. */
	static const char *const immutable[][2] = {
	    {"regarding", "involvedObject"}, {"reason", "reason"},
	    {"note", "message"}, {"deprecatedSource", "source"},
	    {"deprecatedFirstTimestamp", "firstTimestamp"},
	    {"deprecatedLastTimestamp", "lastTimestamp"},
	    {"deprecatedCount", "count"}, {"type", "type"},
	    {"eventTime", "eventTime"}, {"action", "action"},
	    {"related", "related"},
	    {"reportingController", "reportingController"},
	    {"reportingInstance", "reportingInstance"}};
	const struct ks_json *a, *b;
	char val[300];
	size_t i;
	int has_time;

	if (decode_checks(next, &has_time, st) != 0)
		return -1;
	ks_status_invalid(st, "Event", "events.k8s.io", next->name);
	legacy(next, has_time, st);
	if (!ks_json_equal(ks_json_get(cur->doc, "series"),
	        ks_json_get(next->doc, "series")) &&
	    series(next, st) != 0)
		return -1;
	for (i = 0; i < sizeof(immutable) / sizeof(immutable[0]); i++) {
		a = ks_json_get(cur->doc, immutable[i][0]);
		b = ks_json_get(next->doc, immutable[i][0]);
		if (!is_set(a) && !is_set(b))
			continue;
		if (is_set(a) && is_set(b) && ks_json_equal(a, b))
			continue;
		if (ks_json_str(b) != NULL)
			snprintf(val, sizeof(val), "\"%.200s\"", b->val);
		else
			snprintf(val, sizeof(val), "%s",
			    is_set(b) ? "{...}" : "\"\"");
		ks_status_add_cause(st, KS_CAUSE_INVALID, immutable[i][1], val,
		    "field is immutable");
	}
	return st->ncauses > 0 ? -1 : 0;
}
