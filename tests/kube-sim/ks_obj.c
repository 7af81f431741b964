/*
 * ks_obj.c — kinds, object versions, defaulting/validation, the Scale
 * view, bookmarks and the simulated deployment controller's status step.
 *
 * Shapes follow api/apps/v1 (zero status counts omitted, spec.replicas
 * always present after defaulting), autoscaling/v1 Scale and
 * coordination/v1 Lease.  What it does not do: pods, ReplicaSets,
 * rollouts of template changes, admission, managedFields.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_limits.h"
#include "tests/kube-sim/ks_obj.h"
#include "tests/kube-sim/ks_status.h"
#include "tests/kube-sim/ks_valid.h"

static const struct ks_kind_info kinds[KS_KIND_COUNT] = {
    {"deployments", "deployment", "apps", "apps/v1", "v1", "Deployment",
        "DeploymentList", 1},
    {"configmaps", "configmap", "", "v1", "v1", "ConfigMap", "ConfigMapList",
        0},
    {"leases", "lease", "coordination.k8s.io", "coordination.k8s.io/v1", "v1",
        "Lease", "LeaseList", 0},
    {"horizontalpodautoscalers", "horizontalpodautoscaler", "autoscaling",
        "autoscaling/v2", "v2", "HorizontalPodAutoscaler",
        "HorizontalPodAutoscalerList", 1},
    {"events", "event", "events.k8s.io", "events.k8s.io/v1", "v1", "Event",
        "EventList", 0},
};

static const char *const meta_managed[] = {"uid", "resourceVersion",
    "generation", "creationTimestamp", "managedFields", "selfLink",
    "deletionTimestamp", "deletionGracePeriodSeconds", NULL};

const struct ks_kind_info *
ks_kind_info(enum ks_kind k)
{
	return &kinds[k];
}

int
ks_kind_by_resource(const char *group, const char *resource, enum ks_kind *out)
{
	int i;

	for (i = 0; i < KS_KIND_COUNT; i++) {
		if (strcmp(kinds[i].group, group) == 0 &&
		    strcmp(kinds[i].resource, resource) == 0) {
			*out = (enum ks_kind)i;
			return 0;
		}
	}
	return -1;
}

void
ks_format_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, <= 63. */
int
ks_valid_dns_label(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63)
		return 0;
	for (i = 0; i < n; i++) {
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-')
			return 0;
	}
	return s[0] != '-' && s[n - 1] != '-';
}

/* RFC 1123 subdomain: labels joined by dots, <= 253. */
int
ks_valid_dns_subdomain(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return 0;
	}
	if (!isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return 0;
	return strstr(s, "..") == NULL && strstr(s, ".-") == NULL &&
	    strstr(s, "-.") == NULL;
}

/*
 * One --deployments / restore entry: `[NS/]NAME[=REPLICAS]` (replicas 1
 * when omitted, NS defns when omitted).  0, or -1 for a bad namespace,
 * name or replica count.
 */
int
ks_deploy_entry(
    const char *item, const char *defns, char *ns, char *name, long *replicas)
{
	const char *slash = strchr(item, '/'), *n = item;
	const char *eq;
	char *end;
	size_t len;

	if (slash != NULL) {
		len = (size_t)(slash - item);
		if (len >= KS_MAX_NAMESPACE + 1)
			return -1;
		memcpy(ns, item, len);
		ns[len] = '\0';
		n = slash + 1;
	} else
		snprintf(ns, KS_MAX_NAMESPACE + 1, "%s", defns);
	if (!ks_valid_dns_label(ns))
		return -1;
	*replicas = 1;
	eq = strchr(n, '=');
	len = eq != NULL ? (size_t)(eq - n) : strlen(n);
	if (len >= KS_MAX_NAME + 1)
		return -1;
	memcpy(name, n, len);
	name[len] = '\0';
	if (eq != NULL) {
		if (eq[1] == '\0')
			return -1;
		*replicas = strtol(eq + 1, &end, 10);
		if (*end != '\0' || *replicas < 0 ||
		    *replicas > KS_REPLICAS_MAX)
			return -1;
	}
	return ks_valid_dns_subdomain(name) ? 0 : -1;
}

int
ks_obj_refresh(struct ks_obj *o)
{
	const struct ks_json *md = ks_json_get(o->doc, "metadata");

	o->name = ks_json_str(ks_json_get(md, "name"));
	o->ns = ks_json_str(ks_json_get(md, "namespace"));
	if (o->ns == NULL)
		o->ns = "";
	return o->name == NULL ? -1 : 0;
}

struct ks_obj *
ks_obj_new(enum ks_kind kind, struct ks_json *doc)
{
	struct ks_obj *o;

	if (doc == NULL)
		return NULL;
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		ks_json_free(doc);
		return NULL;
	}
	o->refs = 1;
	o->kind = kind;
	o->doc = doc;
	if (ks_obj_refresh(o) != 0) {
		ks_obj_unref(o);
		return NULL;
	}
	return o;
}

struct ks_obj *
ks_obj_ref(struct ks_obj *o)
{
	if (o != NULL)
		o->refs++;
	return o;
}

void
ks_obj_unref(struct ks_obj *o)
{
	if (o == NULL || --o->refs > 0)
		return;
	ks_json_free(o->doc);
	free(o);
}

struct ks_obj *
ks_obj_clone(const struct ks_obj *o)
{
	struct ks_obj *c;

	if ((c = ks_obj_new(o->kind, ks_json_clone(o->doc))) == NULL)
		return NULL;
	c->rv = o->rv;
	return c;
}

const struct ks_json *
ks_obj_labels(const struct ks_obj *o)
{
	return ks_json_getp(o->doc, "metadata.labels");
}

int
ks_obj_gen(yajl_gen g, const struct ks_obj *o, int with_kind)
{
	static const char *const skip[] = {"kind", "apiVersion", NULL};
	const struct ks_kind_info *ki = &kinds[o->kind];

	if (yajl_gen_map_open(g) != yajl_gen_status_ok)
		return -1;
	if (with_kind &&
	    (ks_gen_kstr(g, "kind", ki->kind) != 0 ||
	        ks_gen_kstr(g, "apiVersion", ki->api_version) != 0))
		return -1;
	if (ks_json_gen_members(g, o->doc, skip) != 0)
		return -1;
	return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
}

char *
ks_obj_event_line(const struct ks_obj *o, const char *type, size_t *len)
{
	yajl_gen g;
	const unsigned char *buf;
	size_t n;
	char *line = NULL;

	if ((g = ks_gen_new()) == NULL)
		return NULL;
	if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    ks_gen_kstr(g, "type", type) != 0 || ks_gen_str(g, "object") != 0 ||
	    ks_obj_gen(g, o, 1) != 0 ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok ||
	    yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok)
		goto out;
	if ((line = malloc(n + 1)) == NULL)
		goto out;
	memcpy(line, buf, n);
	line[n] = '\n'; /* watch framing: one JSON document per line */
	*len = n + 1;
out:
	yajl_gen_free(g);
	return line;
}

static long long
get_int(const struct ks_json *doc, const char *path, long long def)
{
	long long v;

	if (ks_json_int(ks_json_getp(doc, path), &v) != 0)
		return def;
	return v;
}

long long
ks_obj_replicas(const struct ks_obj *o)
{
	/* Absent means 1 (SetDefaults_Deployment). */
	return get_int(o->doc, "spec.replicas", 1);
}

long long
ks_obj_generation(const struct ks_obj *o)
{
	return get_int(o->doc, "metadata.generation", 0);
}

long long
ks_obj_status_int(const struct ks_obj *o, const char *field)
{
	const struct ks_json *st = ks_json_get(o->doc, "status");
	long long v;

	if (ks_json_int(ks_json_get(st, field), &v) != 0)
		return 0;
	return v;
}

/* metav1.FormatLabelSelector for matchLabels: sorted k=v joined by ",". */
char *
ks_obj_selector_string(const struct ks_obj *o)
{
	const struct ks_json *ml, *c, *best;
	const char *last = NULL;
	char *out;
	size_t len = 1, off = 0;

	ml = ks_json_getp(o->doc, "spec.selector.matchLabels");
	for (c = ml ? ml->child : NULL; c != NULL; c = c->next)
		len += c->keylen + c->len + 2;
	if ((out = malloc(len)) == NULL)
		return NULL;
	out[0] = '\0';
	for (;;) {
		best = NULL;
		for (c = ml ? ml->child : NULL; c != NULL; c = c->next) {
			if (c->type != KS_JSON_STRING)
				continue;
			if (last != NULL && strcmp(c->key, last) <= 0)
				continue;
			if (best == NULL || strcmp(c->key, best->key) < 0)
				best = c;
		}
		if (best == NULL)
			break;
		off += (size_t)snprintf(out + off, len - off, "%s%s=%s",
		    off ? "," : "", best->key, best->val);
		last = best->key;
	}
	return out;
}

/* kube's SafeEncodeString alphabet, for a stable fake pod-template-hash. */
static void
template_hash(const char *name, char *out, size_t len)
{
	static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	for (i = 0; i + 1 < len && i < 10; i++) {
		out[i] = alpha[h % (sizeof(alpha) - 1)];
		h = h / 7 + 2654435761u * (uint32_t)(i + 1);
	}
	out[i] = '\0';
}

static struct ks_json *
new_map(void)
{
	return ks_json_new(KS_JSON_OBJECT);
}

/* A labels/annotations style map: object of strings (or absent). */
static int
valid_string_map(const struct ks_json *m)
{
	const struct ks_json *c;

	if (m == NULL || m->type == KS_JSON_NULL)
		return 1;
	if (m->type != KS_JSON_OBJECT)
		return 0;
	for (c = m->child; c != NULL; c = c->next) {
		if (c->type != KS_JSON_STRING)
			return 0;
	}
	return 1;
}

static struct ks_json *
new_container_list(const char *name)
{
	struct ks_json *arr, *c;

	if ((arr = ks_json_new(KS_JSON_ARRAY)) == NULL)
		return NULL;
	if ((c = new_map()) == NULL || ks_json_set_str(c, "name", name) != 0 ||
	    ks_json_set_str(c, "image", "registry.k8s.io/pause:3.9") != 0 ||
	    ks_json_append(arr, c) != 0) {
		ks_json_free(arr);
		return NULL;
	}
	return arr;
}

/* Metadata in the API server's field order; store fills the blanks. */
static struct ks_json *
new_metadata(const char *ns, const char *name, int with_generation)
{
	struct ks_json *md;

	if ((md = new_map()) == NULL)
		return NULL;
	if (ks_json_set_str(md, "name", name) != 0 ||
	    ks_json_set_str(md, "namespace", ns) != 0 ||
	    ks_json_set_str(md, "uid", "") != 0 ||
	    ks_json_set_str(md, "resourceVersion", "") != 0 ||
	    (with_generation && ks_json_set_int(md, "generation", 1) != 0) ||
	    ks_json_set_str(md, "creationTimestamp", "") != 0) {
		ks_json_free(md);
		return NULL;
	}
	return md;
}

static int
set_default_spec(struct ks_json *spec)
{
	struct ks_json *strat, *ru;

	if (ks_json_get(spec, "strategy") == NULL) {
		if ((strat = ks_json_obj(spec, "strategy")) == NULL ||
		    ks_json_set_str(strat, "type", "RollingUpdate") != 0 ||
		    (ru = ks_json_obj(strat, "rollingUpdate")) == NULL ||
		    ks_json_set_str(ru, "maxUnavailable", "25%") != 0 ||
		    ks_json_set_str(ru, "maxSurge", "25%") != 0)
			return -1;
	}
	if (ks_json_get(spec, "revisionHistoryLimit") == NULL &&
	    ks_json_set_int(spec, "revisionHistoryLimit", 10) != 0)
		return -1;
	if (ks_json_get(spec, "progressDeadlineSeconds") == NULL &&
	    ks_json_set_int(spec, "progressDeadlineSeconds", 600) != 0)
		return -1;
	return 0;
}

/* An initial deployment (from flags), status already converged. */
struct ks_obj *
ks_obj_new_deployment(
    const char *ns, const char *name, long long replicas, time_t now)
{
	struct ks_json *doc, *md, *spec, *t, *tmd;
	struct ks_obj *o;

	if ((doc = new_map()) == NULL)
		return NULL;
	if ((md = new_metadata(ns, name, 1)) == NULL ||
	    ks_json_set(doc, "metadata", md) != 0)
		goto fail;
	if ((t = ks_json_obj(md, "labels")) == NULL ||
	    ks_json_set_str(t, "app", name) != 0 ||
	    (t = ks_json_obj(md, "annotations")) == NULL ||
	    ks_json_set_str(t, "deployment.kubernetes.io/revision", "1") != 0)
		goto fail;
	if ((spec = ks_json_obj(doc, "spec")) == NULL ||
	    ks_json_set_int(spec, "replicas", replicas) != 0 ||
	    (t = ks_json_obj(spec, "selector")) == NULL ||
	    (t = ks_json_obj(t, "matchLabels")) == NULL ||
	    ks_json_set_str(t, "app", name) != 0 ||
	    (t = ks_json_obj(spec, "template")) == NULL ||
	    (tmd = ks_json_obj(t, "metadata")) == NULL ||
	    (tmd = ks_json_obj(tmd, "labels")) == NULL ||
	    ks_json_set_str(tmd, "app", name) != 0 ||
	    (t = ks_json_obj(t, "spec")) == NULL ||
	    ks_json_set(t, "containers", new_container_list(name)) != 0 ||
	    set_default_spec(spec) != 0 || ks_json_obj(doc, "status") == NULL)
		goto fail;
	if ((o = ks_obj_new(KS_KIND_DEPLOYMENT, doc)) == NULL)
		return NULL;
	/* Converge at once: an existing, healthy deployment. */
	while (ks_obj_controller_step(o, 0, now))
		;
	return o;
fail:
	ks_json_free(doc);
	return NULL;
}

int
ks_obj_bump_generation(const struct ks_obj *cur, struct ks_obj *next)
{
	if (!kinds[next->kind].generation)
		return 0;
	/* Deployments count annotation changes too (their strategy);
	 * the HPA strategy only spec changes. */
	if (ks_json_equal(ks_json_get(cur->doc, "spec"),
	        ks_json_get(next->doc, "spec")) &&
	    (next->kind != KS_KIND_DEPLOYMENT ||
	        ks_json_equal(ks_json_getp(cur->doc, "metadata.annotations"),
	            ks_json_getp(next->doc, "metadata.annotations"))))
		return 0;
	return ks_json_set_int(ks_json_get(next->doc, "metadata"), "generation",
	    ks_obj_generation(cur) + 1);
}

static int
add_condition(struct ks_json *conds, const struct ks_json *old,
    const char *type, int ok, const char *reason, const char *msg,
    const char *now)
{
	const struct ks_json *c, *prev = NULL;
	struct ks_json *n;
	const char *status = ok ? "True" : "False", *ltt = now, *lut = now;

	for (c = old ? old->child : NULL; c != NULL; c = c->next) {
		const char *t = ks_json_str(ks_json_get(c, "type"));

		if (t != NULL && strcmp(t, type) == 0)
			prev = c;
	}
	if (prev != NULL) {
		const char *ps = ks_json_str(ks_json_get(prev, "status"));
		const char *pr = ks_json_str(ks_json_get(prev, "reason"));
		const char *pl =
		    ks_json_str(ks_json_get(prev, "lastTransitionTime"));
		const char *pu =
		    ks_json_str(ks_json_get(prev, "lastUpdateTime"));

		if (ps != NULL && strcmp(ps, status) == 0 && pl != NULL)
			ltt = pl;
		if (ps != NULL && strcmp(ps, status) == 0 && pr != NULL &&
		    strcmp(pr, reason) == 0 && pu != NULL)
			lut = pu;
	}
	if ((n = new_map()) == NULL || ks_json_set_str(n, "type", type) != 0 ||
	    ks_json_set_str(n, "status", status) != 0 ||
	    ks_json_set_str(n, "lastUpdateTime", lut) != 0 ||
	    ks_json_set_str(n, "lastTransitionTime", ltt) != 0 ||
	    ks_json_set_str(n, "reason", reason) != 0 ||
	    ks_json_set_str(n, "message", msg) != 0 ||
	    ks_json_append(conds, n) != 0)
		return -1;
	return 0;
}

static int
set_count(struct ks_json *st, const char *k, long long v)
{
	/* DeploymentStatus counts are omitempty: 0 is absent. */
	if (v == 0) {
		ks_json_del(st, k);
		return 0;
	}
	return ks_json_set_int(st, k, v);
}

int
ks_obj_controller_done(const struct ks_obj *o)
{
	long long want = ks_obj_replicas(o);

	return ks_obj_status_int(o, "observedGeneration") >=
	    ks_obj_generation(o) &&
	    ks_obj_status_int(o, "replicas") == want &&
	    ks_obj_status_int(o, "readyReplicas") == want &&
	    ks_obj_status_int(o, "availableReplicas") == want &&
	    ks_obj_status_int(o, "updatedReplicas") == want &&
	    ks_json_get(ks_json_get(o->doc, "status"), "conditions") != NULL;
}

/*
 * One step of the simulated deployment controller on o (an unshared
 * clone).  First step: observe the generation, set replicas/updated to
 * spec, clamp ready/available.  Later steps: ready/available grow by
 * step (0 = all at once) until they reach spec.  Returns 1 if another
 * step is needed after this one.
 */
int
ks_obj_controller_step(struct ks_obj *o, long long step, time_t now)
{
	struct ks_json *st, *conds, *old_conds;
	long long want, gen, ready, avail, unavail, maxun;
	char ts[32], rs[80], hash[16], msg[160];
	const char *reason;
	int progressing_done;

	ks_format_time(now, ts, sizeof(ts));
	want = ks_obj_replicas(o);
	gen = ks_obj_generation(o);
	ready = ks_obj_status_int(o, "readyReplicas");
	avail = ks_obj_status_int(o, "availableReplicas");
	if (ks_obj_status_int(o, "observedGeneration") < gen ||
	    ks_obj_status_int(o, "replicas") != want) {
		if (ready > want)
			ready = want;
		if (avail > want)
			avail = want;
	} else {
		ready += step > 0 ? step : want;
		if (ready > want)
			ready = want;
		avail = ready;
	}
	unavail = want - avail;
	maxun = want / 4; /* maxUnavailable 25%, rounded down */
	progressing_done = ready == want && avail == want;
	template_hash(o->name, hash, sizeof(hash));
	snprintf(rs, sizeof(rs), "%.60s-%s", o->name, hash);

	if ((st = new_map()) == NULL)
		return 0;
	if (set_count(st, "observedGeneration", gen) != 0 ||
	    set_count(st, "replicas", want) != 0 ||
	    set_count(st, "updatedReplicas", want) != 0 ||
	    set_count(st, "readyReplicas", ready) != 0 ||
	    set_count(st, "availableReplicas", avail) != 0 ||
	    set_count(st, "unavailableReplicas", unavail) != 0 ||
	    (conds = ks_json_new(KS_JSON_ARRAY)) == NULL ||
	    ks_json_set(st, "conditions", conds) != 0)
		goto fail;
	old_conds = ks_json_getp(o->doc, "status.conditions");
	if (add_condition(conds, old_conds, "Available", avail >= want - maxun,
	        avail >= want - maxun ? "MinimumReplicasAvailable"
	                              : "MinimumReplicasUnavailable",
	        avail >= want - maxun
	            ? "Deployment has minimum availability."
	            : "Deployment does not have minimum availability.",
	        ts) != 0)
		goto fail;
	reason =
	    progressing_done ? "NewReplicaSetAvailable" : "ReplicaSetUpdated";
	snprintf(msg, sizeof(msg),
	    progressing_done ? "ReplicaSet \"%s\" has successfully progressed."
	                     : "ReplicaSet \"%s\" is progressing.",
	    rs);
	if (add_condition(
	        conds, old_conds, "Progressing", 1, reason, msg, ts) != 0)
		goto fail;
	if (ks_json_set(o->doc, "status", st) != 0)
		return 0;
	return !progressing_done;
fail:
	ks_json_free(st);
	return 0;
}

/* The Scale subresource view of a deployment (autoscaling/v1). */
int
ks_obj_gen_scale(yajl_gen g, const struct ks_obj *o)
{
	const struct ks_json *md = ks_json_get(o->doc, "metadata");
	static const char *const mdkeys[] = {"name", "namespace", "uid",
	    "resourceVersion", "creationTimestamp", NULL};
	const struct ks_json *v;
	char *sel;
	long long want = ks_obj_replicas(o);
	int i, r = -1;

	if ((sel = ks_obj_selector_string(o)) == NULL)
		return -1;
	if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    ks_gen_kstr(g, "kind", "Scale") != 0 ||
	    ks_gen_kstr(g, "apiVersion", "autoscaling/v1") != 0 ||
	    ks_gen_str(g, "metadata") != 0 ||
	    yajl_gen_map_open(g) != yajl_gen_status_ok)
		goto out;
	for (i = 0; mdkeys[i] != NULL; i++) {
		if ((v = ks_json_get(md, mdkeys[i])) == NULL)
			continue;
		if (ks_gen_str(g, mdkeys[i]) != 0 || ks_json_gen(g, v) != 0)
			goto out;
	}
	if (yajl_gen_map_close(g) != yajl_gen_status_ok ||
	    ks_gen_str(g, "spec") != 0 ||
	    yajl_gen_map_open(g) != yajl_gen_status_ok)
		goto out;
	/* ScaleSpec.Replicas is omitempty: scaled to 0 gives "spec":{}. */
	if (want != 0 && ks_gen_kint(g, "replicas", want) != 0)
		goto out;
	if (yajl_gen_map_close(g) != yajl_gen_status_ok ||
	    ks_gen_str(g, "status") != 0 ||
	    yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    ks_gen_kint(g, "replicas", ks_obj_status_int(o, "replicas")) != 0 ||
	    ks_gen_kstr(g, "selector", sel) != 0 ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok)
		goto out;
	r = 0;
out:
	free(sel);
	return r;
}

/*
 * A BOOKMARK object: the watched kind with only resourceVersion set and
 * its non-omitempty zero fields, as the real server serializes it.
 */
int
ks_obj_gen_bookmark(yajl_gen g, enum ks_kind kind, uint64_t rv, int initial_end)
{
	const struct ks_kind_info *ki = &kinds[kind];
	char rvs[32];

	snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)rv);
	if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    ks_gen_kstr(g, "kind", ki->kind) != 0 ||
	    ks_gen_kstr(g, "apiVersion", ki->api_version) != 0 ||
	    ks_gen_str(g, "metadata") != 0 ||
	    yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    ks_gen_kstr(g, "resourceVersion", rvs) != 0 ||
	    ks_gen_str(g, "creationTimestamp") != 0 ||
	    yajl_gen_null(g) != yajl_gen_status_ok)
		return -1;
	if (initial_end &&
	    (ks_gen_str(g, "annotations") != 0 ||
	        yajl_gen_map_open(g) != yajl_gen_status_ok ||
	        ks_gen_kstr(g, "k8s.io/initial-events-end", "true") != 0 ||
	        yajl_gen_map_close(g) != yajl_gen_status_ok))
		return -1;
	if (yajl_gen_map_close(g) != yajl_gen_status_ok)
		return -1;
	if (kind == KS_KIND_DEPLOYMENT) {
		if (ks_gen_str(g, "spec") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "selector") != 0 ||
		    yajl_gen_null(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "template") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "metadata") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "creationTimestamp") != 0 ||
		    yajl_gen_null(g) != yajl_gen_status_ok ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "spec") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "containers") != 0 ||
		    yajl_gen_null(g) != yajl_gen_status_ok ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "strategy") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "status") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok)
			return -1;
	} else if (kind == KS_KIND_LEASE) {
		if (ks_gen_str(g, "spec") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok)
			return -1;
	} else if (kind == KS_KIND_HPA) {
		if (ks_gen_str(g, "spec") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "scaleTargetRef") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    ks_gen_kstr(g, "kind", "") != 0 ||
		    ks_gen_kstr(g, "name", "") != 0 ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok ||
		    ks_gen_kint(g, "maxReplicas", 0) != 0 ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "status") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "currentMetrics") != 0 ||
		    yajl_gen_null(g) != yajl_gen_status_ok ||
		    ks_gen_kint(g, "desiredReplicas", 0) != 0 ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok)
			return -1;
	} else if (kind == KS_KIND_EVENT) {
		/* events/v1 Event: non-omitempty times and structs. */
		if (ks_gen_str(g, "eventTime") != 0 ||
		    yajl_gen_null(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "regarding") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "deprecatedSource") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "deprecatedFirstTimestamp") != 0 ||
		    yajl_gen_null(g) != yajl_gen_status_ok ||
		    ks_gen_str(g, "deprecatedLastTimestamp") != 0 ||
		    yajl_gen_null(g) != yajl_gen_status_ok)
			return -1;
	}
	return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
}

/* Quote a JSON value for a field error ("abc" or 12). */
static void
format_value(const struct ks_json *v, char *buf, size_t len)
{
	if (v == NULL)
		snprintf(buf, len, "null");
	else if (v->type == KS_JSON_STRING)
		snprintf(buf, len, "\"%.200s\"", v->val);
	else if (v->type == KS_JSON_NUMBER)
		snprintf(buf, len, "%.60s", v->val);
	else
		snprintf(buf, len, "%s", "<value>");
}

/* Check and default a deployment's spec.replicas in doc. */
static int
check_replicas(struct ks_obj *o, const char *name, struct ks_status *st)
{
	struct ks_json *spec = ks_json_get(o->doc, "spec");
	struct ks_json *r = ks_json_get(spec, "replicas");
	long long v;
	char val[256];

	if (r == NULL || r->type == KS_JSON_NULL)
		return ks_json_set_int(spec, "replicas", 1);
	if (ks_json_int(r, &v) != 0 || v > INT32_MAX || v < INT32_MIN) {
		ks_status_bad_request(st,
		    "json: cannot unmarshal %s into Go struct field "
		    "DeploymentSpec.spec.replicas of type int32",
		    r->type == KS_JSON_NUMBER ? "number" : "value");
		return -1;
	}
	if (v < 0) {
		format_value(r, val, sizeof(val));
		ks_status_invalid(st, "Deployment", "apps", name);
		ks_status_add_cause(st, KS_CAUSE_INVALID, "spec.replicas", val,
		    "must be greater than or equal to 0");
		return -1;
	}
	return 0;
}

/* A ConfigMap data or binaryData key: [-._a-zA-Z0-9]+, at most 253. */
static int
valid_config_key(const char *k, size_t len)
{
	if (len == 0 || len > KS_MAX_NAME)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		        (k[i] >= 'A' && k[i] <= 'Z') ||
		        (k[i] >= '0' && k[i] <= '9') || k[i] == '-' ||
		        k[i] == '_' || k[i] == '.'))
			return 0;
	return 1;
}

/*
 * ValidateConfigMap: keys of data and binaryData are config keys, and the
 * values together (binaryData decoded from base64) hold at most
 * KS_MAX_CONFIGMAP_DATA bytes: 422 `ConfigMap "x" is invalid: []: Too
 * long: must have at most 1048576 bytes`, as the real server says.
 */
static int
check_configmap(const struct ks_obj *o, struct ks_status *st)
{
	static const char *const maps[] = {"data", "binaryData"};
	const struct ks_json *m, *c;
	size_t total = 0;
	char q[300];

	for (size_t i = 0; i < 2; i++) {
		m = ks_json_get(o->doc, maps[i]);
		if (m == NULL || m->type != KS_JSON_OBJECT)
			continue;
		for (c = m->child; c != NULL; c = c->next) {
			if (!valid_config_key(c->key, c->keylen)) {
				char field[300];

				snprintf(field, sizeof(field), "%s[%.253s]",
				    maps[i], c->key);
				snprintf(q, sizeof(q), "\"%.253s\"", c->key);
				ks_status_invalid(st, "ConfigMap", "", o->name);
				ks_status_add_cause(st, KS_CAUSE_INVALID, field,
				    q,
				    "a valid config key must consist of "
				    "alphanumeric characters, '-', '_' or '.' "
				    "(e.g. 'key.name',  or 'KEY_NAME',  or "
				    "'key-name', regex used for validation is "
				    "'[-._a-zA-Z0-9]+')");
				return -1;
			}
			if (c->type != KS_JSON_STRING)
				continue;
			/* binaryData is base64 on the wire; its size is the
			 * decoded one. */
			total += i == 0 ? c->len : c->len / 4 * 3;
		}
	}
	if (total > KS_MAX_CONFIGMAP_DATA) {
		ks_status_invalid(st, "ConfigMap", "", o->name);
		snprintf(q, sizeof(q), "Too long: must have at most %d bytes",
		    KS_MAX_CONFIGMAP_DATA);
		ks_status_add_cause(
		    st, KS_CAUSE_PLAIN, "[]", "FieldValueTooLong", q);
		return -1;
	}
	return 0;
}

static int
check_maps(const struct ks_obj *o, struct ks_status *st)
{
	const struct ks_json *md = ks_json_get(o->doc, "metadata");

	if (!valid_string_map(ks_json_get(md, "labels")) ||
	    !valid_string_map(ks_json_get(md, "annotations"))) {
		ks_status_bad_request(st,
		    "json: cannot unmarshal value into Go struct field "
		    "ObjectMeta.metadata.labels of type map[string]string");
		return -1;
	}
	if (o->kind == KS_KIND_CONFIGMAP &&
	    !valid_string_map(ks_json_get(o->doc, "data"))) {
		ks_status_bad_request(st,
		    "json: cannot unmarshal value into Go struct field "
		    "ConfigMap.data of type map[string]string");
		return -1;
	}
	if (o->kind == KS_KIND_CONFIGMAP)
		return check_configmap(o, st);
	return 0;
}

struct ks_obj *
ks_obj_from_create(enum ks_kind kind, const char *ns,
    const struct ks_json *body, struct ks_status *st)
{
	const struct ks_kind_info *ki = &kinds[kind];
	const struct ks_json *bmd, *c;
	struct ks_json *doc = NULL, *md, *v;
	struct ks_obj *o = NULL;
	const char *name, *bns;
	char q[32];

	if (body->type != KS_JSON_OBJECT) {
		ks_status_bad_request(st,
		    "json: cannot unmarshal %s into Go value of type "
		    "struct { APIVersion string \"json:\\\"apiVersion,"
		    "omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty"
		    "\\\"\" }",
		    body->type == KS_JSON_ARRAY ? "array" : "value");
		return NULL;
	}
	if ((v = ks_json_get(body, "kind")) != NULL &&
	    (ks_json_str(v) == NULL || strcmp(v->val, ki->kind) != 0)) {
		ks_status_bad_request(st,
		    "the API version in the data (%.60s) does not match the "
		    "expected API version (%s)",
		    ks_json_str(ks_json_get(body, "apiVersion"))
		        ? ks_json_str(ks_json_get(body, "apiVersion"))
		        : "",
		    ki->api_version);
		return NULL;
	}
	bmd = ks_json_get(body, "metadata");
	name = ks_json_str(ks_json_get(bmd, "name"));
	bns = ks_json_str(ks_json_get(bmd, "namespace"));
	if (bns != NULL && bns[0] != '\0' && strcmp(bns, ns) != 0) {
		ks_status_bad_request(st,
		    "the namespace of the provided object does not match the "
		    "namespace sent on the request");
		return NULL;
	}
	if (name == NULL || name[0] == '\0') {
		ks_status_invalid(st, ki->kind, ki->group, "");
		ks_status_add_cause(st, KS_CAUSE_REQUIRED, "metadata.name", "",
		    "name or generateName is required");
		return NULL;
	}
	if (!ks_valid_dns_subdomain(name)) {
		snprintf(q, sizeof(q), "\"%.20s\"", name);
		ks_status_invalid(
		    st, ki->kind, ki->group, strlen(name) > 253 ? "" : name);
		ks_status_add_cause(st, KS_CAUSE_INVALID, "metadata.name", q,
		    "a lowercase RFC 1123 subdomain must consist of lower case "
		    "alphanumeric characters, '-' or '.', and must start and "
		    "end with an alphanumeric character (e.g. 'example.com', "
		    "regex used for validation is "
		    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
		    "[a-z0-9])?)*')");
		return NULL;
	}
	if ((doc = new_map()) == NULL ||
	    (md = new_metadata(ns, name, ki->generation)) == NULL ||
	    ks_json_set(doc, "metadata", md) != 0)
		goto nomem;
	/* The rest of the client's metadata, minus server-managed fields. */
	for (c = bmd && bmd->type == KS_JSON_OBJECT ? bmd->child : NULL;
	     c != NULL; c = c->next) {
		int i, managed = 0;

		for (i = 0; meta_managed[i] != NULL; i++)
			managed |= strcmp(c->key, meta_managed[i]) == 0;
		if (managed || strcmp(c->key, "name") == 0 ||
		    strcmp(c->key, "namespace") == 0)
			continue;
		if (ks_json_set(md, c->key, ks_json_clone(c)) != 0)
			goto nomem;
	}
	for (c = body->child; c != NULL; c = c->next) {
		if (strcmp(c->key, "kind") == 0 ||
		    strcmp(c->key, "apiVersion") == 0 ||
		    strcmp(c->key, "metadata") == 0 ||
		    strcmp(c->key, "status") == 0)
			continue;
		if (ks_json_set(doc, c->key, ks_json_clone(c)) != 0)
			goto nomem;
	}
	if ((o = ks_obj_new(kind, doc)) == NULL)
		goto nomem;
	doc = NULL;
	if (check_maps(o, st) != 0)
		goto fail;
	if (kind == KS_KIND_DEPLOYMENT) {
		struct ks_json *spec = ks_json_get(o->doc, "spec");

		if (spec == NULL || spec->type != KS_JSON_OBJECT) {
			ks_json_del(o->doc, "spec");
			if ((spec = ks_json_obj(o->doc, "spec")) == NULL)
				goto nomem;
		}
		if (check_replicas(o, name, st) != 0)
			goto fail;
		if (ks_json_getp(o->doc, "spec.selector") == NULL) {
			ks_status_invalid(st, ki->kind, ki->group, name);
			ks_status_add_cause(
			    st, KS_CAUSE_REQUIRED, "spec.selector", "", "");
			goto fail;
		}
		if (set_default_spec(spec) != 0 ||
		    ks_json_obj(o->doc, "status") == NULL)
			goto nomem;
	} else if (kind == KS_KIND_HPA) {
		struct ks_json *hst;

		if (ks_valid_hpa(o, st) != 0)
			goto fail;
		/* PrepareForCreate clears status; v2 serializes these two. */
		if ((hst = ks_json_obj(o->doc, "status")) == NULL ||
		    ks_json_set(hst, "currentMetrics",
		        ks_json_new(KS_JSON_NULL)) != 0 ||
		    ks_json_set_int(hst, "desiredReplicas", 0) != 0)
			goto nomem;
	} else if (kind == KS_KIND_EVENT) {
		if (ks_valid_event_create(o, st) != 0)
			goto fail;
	}
	return o;
nomem:
	ks_status_internal(st, "out of memory");
fail:
	ks_json_free(doc);
	ks_obj_unref(o);
	return NULL;
}

/*
 * next is cur after a client's edit (patch or PUT body).  Put back what
 * clients cannot change, validate, bump generation.  keep_status: the
 * main resource ignores status edits (that is /status's job).
 */
int
ks_obj_validate_update(const struct ks_obj *cur, struct ks_obj *next,
    int keep_status, struct ks_status *st)
{
	const struct ks_kind_info *ki = &kinds[cur->kind];
	struct ks_json *md;
	const struct ks_json *cmd = ks_json_get(cur->doc, "metadata");
	const char *nm;
	int i;

	ks_json_del(next->doc, "kind");
	ks_json_del(next->doc, "apiVersion");
	md = ks_json_get(next->doc, "metadata");
	if (md == NULL || md->type != KS_JSON_OBJECT) {
		ks_status_bad_request(st, "metadata must be an object");
		return -1;
	}
	nm = ks_json_str(ks_json_get(md, "name"));
	if (nm != NULL && strcmp(nm, cur->name) != 0) {
		ks_status_bad_request(st,
		    "the name of the object (%.253s) does not match the name "
		    "on the URL (%s)",
		    nm, cur->name);
		return -1;
	}
	if (ks_json_set_str(md, "name", cur->name) != 0 ||
	    ks_json_set_str(md, "namespace", cur->ns) != 0)
		goto nomem;
	for (i = 0; meta_managed[i] != NULL; i++) {
		const struct ks_json *v = ks_json_get(cmd, meta_managed[i]);

		if (v == NULL)
			ks_json_del(md, meta_managed[i]);
		else if (ks_json_set(md, meta_managed[i], ks_json_clone(v)) !=
		    0)
			goto nomem;
	}
	if (ks_obj_refresh(next) != 0)
		goto nomem;
	if (check_maps(next, st) != 0)
		return -1;
	if (cur->kind == KS_KIND_DEPLOYMENT) {
		struct ks_json *spec = ks_json_get(next->doc, "spec");

		if (spec == NULL || spec->type != KS_JSON_OBJECT) {
			ks_status_invalid(st, ki->kind, ki->group, cur->name);
			ks_status_add_cause(
			    st, KS_CAUSE_REQUIRED, "spec.selector", "", "");
			return -1;
		}
		if (check_replicas(next, cur->name, st) != 0)
			return -1;
		if (keep_status) {
			const struct ks_json *cs =
			    ks_json_get(cur->doc, "status");

			if (ks_json_set(next->doc, "status",
			        cs ? ks_json_clone(cs)
			           : ks_json_new(KS_JSON_OBJECT)) != 0)
				goto nomem;
		}
		if (ks_obj_bump_generation(cur, next) != 0)
			goto nomem;
	} else if (cur->kind == KS_KIND_HPA) {
		const struct ks_json *cs = ks_json_get(cur->doc, "status");

		if (ks_valid_hpa(next, st) != 0)
			return -1;
		if (keep_status &&
		    ks_json_set(next->doc, "status",
		        cs ? ks_json_clone(cs) : ks_json_new(KS_JSON_OBJECT)) !=
		        0)
			goto nomem;
		if (ks_obj_bump_generation(cur, next) != 0)
			goto nomem;
	} else if (cur->kind == KS_KIND_EVENT) {
		if (ks_valid_event_update(cur, next, st) != 0)
			return -1;
	}
	return 0;
nomem:
	ks_status_internal(st, "out of memory");
	return -1;
}
