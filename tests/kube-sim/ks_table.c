/*
 * ks_table.c — Table answers for Deployments (see ks_table.h).
 *
 * Columns, descriptions and cells as kube-apiserver's printers
 * (pkg/printers/internalversion: deploymentColumnDefinitions and
 * printDeployment); the server always fills the wide columns, the client
 * hides priority 1 unless -o wide.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_table.h"

#define ACCEPT_MAX 4096 /* bytes of Accept we look at */

/* One media range [s, e): 1 Table v1, 0 plain JSON (or any), -1 other. */
static int
media_range(const char *s, const char *e)
{
	char buf[256], *save = NULL, *tok;
	size_t n;
	int first = 1, json = 0, as_table = 0, g = 0, v = 0, other = 0;

	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	n = (size_t)(e - s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	for (tok = strtok_r(buf, ";", &save); tok != NULL;
	     tok = strtok_r(NULL, ";", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		n = strlen(tok);
		while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
			tok[--n] = '\0';
		if (first) {
			first = 0;
			if (strcasecmp(tok, "application/json") == 0)
				json = 1;
			else if (strcmp(tok, "*/*") == 0 ||
			    strcasecmp(tok, "application/*") == 0)
				return 0;
			else
				return -1;
		} else if (strcmp(tok, "as=Table") == 0)
			as_table = 1;
		else if (strcmp(tok, "g=meta.k8s.io") == 0)
			g = 1;
		else if (strcmp(tok, "v=v1") == 0)
			v = 1;
		else if (strncmp(tok, "q=", 2) != 0)
			other = 1;
	}
	if (!json)
		return -1;
	if (as_table)
		return g && v && !other ? 1 : -1;
	return other ? -1 : 0;
}

int
ks_table_wanted(const char *accept)
{
	const char *s, *e, *end;
	int r;

	if (accept == NULL)
		return 0;
	end = accept + strnlen(accept, ACCEPT_MAX);
	for (s = accept; s < end; s = e + 1) {
		e = memchr(s, ',', (size_t)(end - s));
		if (e == NULL)
			e = end;
		if ((r = media_range(s, e)) >= 0)
			return r;
		if (e == end)
			break;
	}
	return 0;
}

int
ks_table_include(const char *v, enum ks_table_include *out)
{
	if (v == NULL || strcmp(v, "Metadata") == 0 || v[0] == '\0')
		*out = KS_TABLE_METADATA;
	else if (strcmp(v, "None") == 0)
		*out = KS_TABLE_NONE;
	else if (strcmp(v, "Object") == 0)
		*out = KS_TABLE_OBJECT;
	else
		return -1;
	return 0;
}

int
ks_table_supported(enum ks_kind k)
{
	return k == KS_KIND_DEPLOYMENT || k == KS_KIND_CONFIGMAP ||
	    k == KS_KIND_LEASE || k == KS_KIND_HPA;
}

int
ks_table_open(yajl_gen g)
{
	return yajl_gen_map_open(g) == yajl_gen_status_ok &&
	        ks_gen_kstr(g, "kind", "Table") == 0 &&
	        ks_gen_kstr(g, "apiVersion", "meta.k8s.io/v1") == 0
	    ? 0
	    : -1;
}

struct column {
	const char *name, *type, *format, *description;
	int priority;
};

static const struct column deploy_cols[] = {
    {"Name", "string", "name",
        "Name must be unique within a namespace. Is required when creating "
        "resources, although some resources may allow a client to request "
        "the generation of an appropriate name automatically. Name is "
        "primarily intended for creation idempotence and configuration "
        "definition. Cannot be updated. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/"
        "names#names",
        0},
    {"Ready", "string", "", "Number of the pod with ready state", 0},
    {"Up-to-date", "string", "",
        "Total number of non-terminated pods targeted by this deployment "
        "that have the desired template spec.",
        0},
    {"Available", "string", "",
        "Total number of available pods (ready for at least "
        "minReadySeconds) targeted by this deployment.",
        0},
    {"Age", "string", "",
        "CreationTimestamp is a timestamp representing the server time when "
        "this object was created. It is not guaranteed to be set in "
        "happens-before order across separate operations. Clients may not "
        "set this value. It is represented in RFC3339 form and is in "
        "UTC.\n\nPopulated by the system. Read-only. Null for lists. More "
        "info: https://git.k8s.io/community/contributors/devel/"
        "sig-architecture/api-conventions.md#metadata",
        0},
    {"Containers", "string", "", "Names of each container in the template.", 1},
    {"Images", "string", "",
        "Images referenced by each container in the template.", 1},
    {"Selector", "string", "",
        "Label selector for pods. Existing ReplicaSets whose pods are "
        "selected by this will be the ones affected by this deployment. It "
        "must match the pod template's labels.",
        1},
};

#define NAME_DOC                                                             \
	"Name must be unique within a namespace. Is required when creating " \
	"resources, although some resources may allow a client to request "  \
	"the generation of an appropriate name automatically. Name is "      \
	"primarily intended for creation idempotence and configuration "     \
	"definition. Cannot be updated. More info: "                         \
	"https://kubernetes.io/docs/concepts/overview/working-with-objects/" \
	"names#names"
#define AGE_DOC                                                               \
	"CreationTimestamp is a timestamp representing the server time when " \
	"this object was created. It is not guaranteed to be set in "         \
	"happens-before order across separate operations. Clients may not "   \
	"set this value. It is represented in RFC3339 form and is in "        \
	"UTC.\n\nPopulated by the system. Read-only. Null for lists. More "   \
	"info: https://git.k8s.io/community/contributors/devel/"              \
	"sig-architecture/api-conventions.md#metadata"

/* printConfigMap / printLease. */
static const struct column cm_cols[] = {
    {"Name", "string", "name", NAME_DOC, 0},
    {"Data", "string", "",
        "Data contains the configuration data. Each key must consist of "
        "alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 "
        "byte sequences must use the BinaryData field. The keys stored in "
        "Data must not overlap with the keys in the BinaryData field, this "
        "is enforced during validation process.",
        0},
    {"Age", "string", "", AGE_DOC, 0},
};

static const struct column lease_cols[] = {
    {"Name", "string", "name", NAME_DOC, 0},
    {"Holder", "string", "",
        "holderIdentity contains the identity of the holder of a current "
        "lease. If Coordinated Leader Election is used, the holder identity "
        "must be equal to the elected LeaseCandidate.metadata.name field.",
        0},
    {"Age", "string", "", AGE_DOC, 0},
};

/* printHorizontalPodAutoscaler. */
static const struct column hpa_cols[] = {
    {"Name", "string", "name", NAME_DOC, 0},
    {"Reference", "string", "",
        "scaleTargetRef points to the target resource to scale, and is used "
        "to the pods for which metrics should be collected, as well as to "
        "actually change the replica count.",
        0},
    {"Targets", "string", "",
        "metrics contains the specifications for which to use to calculate "
        "the desired replica count (the maximum replica count across all "
        "metrics will be used).",
        0},
    {"MinPods", "string", "",
        "minReplicas is the lower limit for the number of replicas to which "
        "the autoscaler can scale down.  It defaults to 1 pod.",
        0},
    {"MaxPods", "integer", "",
        "maxReplicas is the upper limit for the number of replicas to which "
        "the autoscaler can scale up. It cannot be less that minReplicas.",
        0},
    {"Replicas", "string", "",
        "currentReplicas is current number of replicas of pods managed by "
        "this autoscaler, as last seen by the autoscaler.",
        0},
    {"Age", "string", "", AGE_DOC, 0},
};

int
ks_table_columns(yajl_gen g, enum ks_kind k)
{
	const struct column *cols;
	size_t i, n;

	if (k == KS_KIND_DEPLOYMENT) {
		cols = deploy_cols;
		n = sizeof(deploy_cols) / sizeof(deploy_cols[0]);
	} else if (k == KS_KIND_CONFIGMAP) {
		cols = cm_cols;
		n = sizeof(cm_cols) / sizeof(cm_cols[0]);
	} else if (k == KS_KIND_HPA) {
		cols = hpa_cols;
		n = sizeof(hpa_cols) / sizeof(hpa_cols[0]);
	} else {
		cols = lease_cols;
		n = sizeof(lease_cols) / sizeof(lease_cols[0]);
	}
	if (ks_gen_str(g, "columnDefinitions") != 0 ||
	    yajl_gen_array_open(g) != yajl_gen_status_ok)
		return -1;
	for (i = 0; i < n; i++) {
		const struct column *c = &cols[i];

		if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    ks_gen_kstr(g, "name", c->name) != 0 ||
		    ks_gen_kstr(g, "type", c->type) != 0 ||
		    ks_gen_kstr(g, "format", c->format) != 0 ||
		    ks_gen_kstr(g, "description", c->description) != 0 ||
		    ks_gen_kint(g, "priority", c->priority) != 0 ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok)
			return -1;
	}
	return yajl_gen_array_close(g) == yajl_gen_status_ok &&
	        ks_gen_str(g, "rows") == 0 &&
	        yajl_gen_array_open(g) == yajl_gen_status_ok
	    ? 0
	    : -1;
}

void
ks_table_human_duration(long long s, char *out, size_t len)
{
	long long m, h;

	if (s < -1) {
		snprintf(out, len, "<invalid>");
		return;
	}
	if (s < 0)
		s = 0;
	if (s < 120) {
		snprintf(out, len, "%llds", s);
		return;
	}
	m = s / 60;
	if (m < 10) {
		if (s % 60 == 0)
			snprintf(out, len, "%lldm", m);
		else
			snprintf(out, len, "%lldm%llds", m, s % 60);
		return;
	}
	if (m < 60 * 3) {
		snprintf(out, len, "%lldm", m);
		return;
	}
	h = s / 3600;
	if (h < 8) {
		if (m % 60 == 0)
			snprintf(out, len, "%lldh", h);
		else
			snprintf(out, len, "%lldh%lldm", h, m % 60);
	} else if (h < 48)
		snprintf(out, len, "%lldh", h);
	else if (h < 24 * 8) {
		if (h % 24 == 0)
			snprintf(out, len, "%lldd", h / 24);
		else
			snprintf(out, len, "%lldd%lldh", h / 24, h % 24);
	} else if (h < 24 * 365 * 2)
		snprintf(out, len, "%lldd", h / 24);
	else if (h < 24 * 365 * 8) {
		long long dy = (h / 24) % 365;

		if (dy == 0)
			snprintf(out, len, "%lldy", h / 24 / 365);
		else
			snprintf(out, len, "%lldy%lldd", h / 24 / 365, dy);
	} else
		snprintf(out, len, "%lldy", h / 24 / 365);
}

/* RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" → seconds; -1 if not that form. */
static int
parse_time(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, se, n = 0;

	if (s == NULL || strlen(s) != 20 ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &se,
	        &n) != 6 ||
	    n != 20 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = timegm(&tm);
	return 0;
}

/* Containers' names (or images) of the template joined with ",". */
static int
gen_joined(yajl_gen g, const struct ks_obj *o, const char *field)
{
	const struct ks_json *cs, *c;
	char *buf;
	size_t len = 1, off = 0;
	int r;

	cs = ks_json_getp(o->doc, "spec.template.spec.containers");
	if (cs != NULL && cs->type != KS_JSON_ARRAY)
		cs = NULL;
	for (c = cs ? cs->child : NULL; c != NULL; c = c->next) {
		const struct ks_json *v = ks_json_get(c, field);

		if (v != NULL && v->type == KS_JSON_STRING)
			len += v->len + 1;
	}
	if ((buf = malloc(len)) == NULL)
		return -1;
	buf[0] = '\0';
	for (c = cs ? cs->child : NULL; c != NULL; c = c->next) {
		const struct ks_json *v = ks_json_get(c, field);

		if (v == NULL || v->type != KS_JSON_STRING)
			continue;
		if (off > 0)
			buf[off++] = ',';
		memcpy(buf + off, v->val, v->len);
		off += v->len;
		buf[off] = '\0';
	}
	r = yajl_gen_string(g, (const unsigned char *)buf, off) ==
	        yajl_gen_status_ok
	    ? 0
	    : -1;
	free(buf);
	return r;
}

static int
gen_object(yajl_gen g, const struct ks_obj *o, enum ks_table_include inc)
{
	const struct ks_json *md;

	if (inc == KS_TABLE_NONE)
		return 0;
	if (ks_gen_str(g, "object") != 0)
		return -1;
	if (inc == KS_TABLE_OBJECT)
		return ks_obj_gen(g, o, 1);
	md = ks_json_get(o->doc, "metadata");
	return yajl_gen_map_open(g) == yajl_gen_status_ok &&
	        ks_gen_kstr(g, "kind", "PartialObjectMetadata") == 0 &&
	        ks_gen_kstr(g, "apiVersion", "meta.k8s.io/v1") == 0 &&
	        ks_gen_str(g, "metadata") == 0 &&
	        (md != NULL
	                ? ks_json_gen(g, md) == 0
	                : (yajl_gen_map_open(g) == yajl_gen_status_ok &&
	                      yajl_gen_map_close(g) == yajl_gen_status_ok)) &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok
	    ? 0
	    : -1;
}

/*
 * The HPA printer's Targets cell: per metric "<name>: <current>/<target>"
 * (kube-sim has no metrics, so current is always <unknown>), joined with
 * ", "; a Resource Utilization target prints as "80%".
 */
static void
hpa_targets(const struct ks_obj *o, char *buf, size_t len)
{
	const struct ks_json *m;
	size_t off = 0;
	long long u;

	buf[0] = '\0';
	m = ks_json_getp(o->doc, "spec.metrics");
	for (m = m ? m->child : NULL; m != NULL && off < len; m = m->next) {
		const char *type = ks_json_str(ks_json_get(m, "type"));
		const char *name =
		    ks_json_str(ks_json_getp(m, "resource.name"));

		if (type != NULL && strcmp(type, "Resource") == 0 &&
		    name != NULL &&
		    ks_json_int(
		        ks_json_getp(m, "resource.target.averageUtilization"),
		        &u) == 0)
			off += (size_t)snprintf(buf + off, len - off,
			    "%s%.63s: <unknown>/%lld%%", off ? ", " : "", name,
			    u);
		else
			off += (size_t)snprintf(buf + off, len - off,
			    "%s<unknown>", off ? ", " : "");
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "<none>");
}

static int
hpa_row(yajl_gen g, const struct ks_obj *o, enum ks_table_include inc,
    const char *age)
{
	const struct ks_json *ref = ks_json_getp(o->doc, "spec.scaleTargetRef");
	const char *kind = ks_json_str(ks_json_get(ref, "kind"));
	const char *name = ks_json_str(ks_json_get(ref, "name"));
	char refs[300], targets[256], minp[32];
	long long min, max = 0;

	snprintf(refs, sizeof(refs), "%.40s/%.253s", kind ? kind : "",
	    name ? name : "");
	hpa_targets(o, targets, sizeof(targets));
	if (ks_json_int(ks_json_getp(o->doc, "spec.minReplicas"), &min) == 0)
		snprintf(minp, sizeof(minp), "%lld", min);
	else
		snprintf(minp, sizeof(minp), "<unset>");
	(void)ks_json_int(ks_json_getp(o->doc, "spec.maxReplicas"), &max);
	return yajl_gen_map_open(g) == yajl_gen_status_ok &&
	        ks_gen_str(g, "cells") == 0 &&
	        yajl_gen_array_open(g) == yajl_gen_status_ok &&
	        ks_gen_str(g, o->name) == 0 && ks_gen_str(g, refs) == 0 &&
	        ks_gen_str(g, targets) == 0 && ks_gen_str(g, minp) == 0 &&
	        yajl_gen_integer(g, max) == yajl_gen_status_ok &&
	        yajl_gen_integer(g, ks_obj_status_int(o, "currentReplicas")) ==
	            yajl_gen_status_ok &&
	        ks_gen_str(g, age) == 0 &&
	        yajl_gen_array_close(g) == yajl_gen_status_ok &&
	        gen_object(g, o, inc) == 0 &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok
	    ? 0
	    : -1;
}

int
ks_table_row(
    yajl_gen g, const struct ks_obj *o, enum ks_table_include inc, time_t now)
{
	char ready[48], age[32], *sel;
	time_t created;
	int r;

	if (parse_time(
	        ks_json_str(ks_json_getp(o->doc, "metadata.creationTimestamp")),
	        &created) != 0)
		snprintf(age, sizeof(age), "<unknown>");
	else
		ks_table_human_duration(
		    (long long)difftime(now, created), age, sizeof(age));
	if (o->kind == KS_KIND_HPA)
		return hpa_row(g, o, inc, age);
	if (o->kind != KS_KIND_DEPLOYMENT) {
		const struct ks_json *d = ks_json_get(o->doc, "data");
		const struct ks_json *b = ks_json_get(o->doc, "binaryData");
		const char *holder =
		    ks_json_str(ks_json_getp(o->doc, "spec.holderIdentity"));
		long long n =
		    (d && d->type == KS_JSON_OBJECT ? (long long)d->count : 0) +
		    (b && b->type == KS_JSON_OBJECT ? (long long)b->count : 0);

		return yajl_gen_map_open(g) == yajl_gen_status_ok &&
		        ks_gen_str(g, "cells") == 0 &&
		        yajl_gen_array_open(g) == yajl_gen_status_ok &&
		        ks_gen_str(g, o->name) == 0 &&
		        (o->kind == KS_KIND_CONFIGMAP
		                ? yajl_gen_integer(g, n) == yajl_gen_status_ok
		                : ks_gen_str(g, holder ? holder : "") == 0) &&
		        ks_gen_str(g, age) == 0 &&
		        yajl_gen_array_close(g) == yajl_gen_status_ok &&
		        gen_object(g, o, inc) == 0 &&
		        yajl_gen_map_close(g) == yajl_gen_status_ok
		    ? 0
		    : -1;
	}
	snprintf(ready, sizeof(ready), "%lld/%lld",
	    ks_obj_status_int(o, "readyReplicas"), ks_obj_replicas(o));
	if ((sel = ks_obj_selector_string(o)) == NULL)
		return -1;
	r = yajl_gen_map_open(g) == yajl_gen_status_ok &&
	        ks_gen_str(g, "cells") == 0 &&
	        yajl_gen_array_open(g) == yajl_gen_status_ok &&
	        ks_gen_str(g, o->name) == 0 && ks_gen_str(g, ready) == 0 &&
	        yajl_gen_integer(g, ks_obj_status_int(o, "updatedReplicas")) ==
	            yajl_gen_status_ok &&
	        yajl_gen_integer(
	            g, ks_obj_status_int(o, "availableReplicas")) ==
	            yajl_gen_status_ok &&
	        ks_gen_str(g, age) == 0 && gen_joined(g, o, "name") == 0 &&
	        gen_joined(g, o, "image") == 0 && ks_gen_str(g, sel) == 0 &&
	        yajl_gen_array_close(g) == yajl_gen_status_ok &&
	        gen_object(g, o, inc) == 0 &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok
	    ? 0
	    : -1;
	free(sel);
	return r;
}
