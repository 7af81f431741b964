/*
 * ks_schema.c — field tables, unknown-field check and OpenAPI v3
 * documents (see ks_schema.h).
 *
 * Field names are those of k8s.io/api v1.32 (apps/v1, core/v1,
 * coordination.k8s.io/v1, autoscaling/v1, meta/v1 ObjectMeta).  The
 * OpenAPI documents describe exactly the paths kube-sim serves; each
 * PATCH operation carries x-kubernetes-group-version-kind and the
 * fieldValidation query parameter, which is what kubectl looks for before
 * it leaves validation to the server (--validate=strict, the default).
 * The PATCH request bodies list json-patch and merge-patch only: without
 * strategic-merge-patch there, kubectl apply computes its strategic patch
 * from its compiled-in types (with their patch merge keys) instead of
 * from these schemas, which carry no patch extensions.
 */
#include <stdio.h>
#include <string.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_schema.h"

enum ftype {
	F_SCALAR,      /* string, number, bool: no members to check */
	F_ANY,         /* a type kube-sim does not describe further */
	F_MAP,         /* map[string]...: free keys */
	F_OBJ,         /* members per sub */
	F_LIST,        /* array of sub objects */
	F_LIST_SCALAR, /* array of scalars */
};

struct type;

struct field {
	const char *name;
	enum ftype t;
	const struct type *sub;
};

struct type {
	const char *id; /* OpenAPI component name */
	const struct field *fields;
	const char *gvk_group, *gvk_version, *gvk_kind; /* top kinds */
};

#define END                          \
	{                            \
		NULL, F_SCALAR, NULL \
	}

static const struct field f_meta[] = {{"name", F_SCALAR, NULL},
    {"generateName", F_SCALAR, NULL}, {"namespace", F_SCALAR, NULL},
    {"selfLink", F_SCALAR, NULL}, {"uid", F_SCALAR, NULL},
    {"resourceVersion", F_SCALAR, NULL}, {"generation", F_SCALAR, NULL},
    {"creationTimestamp", F_SCALAR, NULL},
    {"deletionTimestamp", F_SCALAR, NULL},
    {"deletionGracePeriodSeconds", F_SCALAR, NULL}, {"labels", F_MAP, NULL},
    {"annotations", F_MAP, NULL}, {"ownerReferences", F_ANY, NULL},
    {"finalizers", F_LIST_SCALAR, NULL}, {"managedFields", F_ANY, NULL}, END};
static const struct type t_meta = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", f_meta, NULL, NULL,
    NULL};

static const struct field f_selector[] = {
    {"matchLabels", F_MAP, NULL}, {"matchExpressions", F_ANY, NULL}, END};
static const struct type t_selector = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", f_selector, NULL,
    NULL, NULL};

static const struct field f_port[] = {{"name", F_SCALAR, NULL},
    {"hostPort", F_SCALAR, NULL}, {"containerPort", F_SCALAR, NULL},
    {"protocol", F_SCALAR, NULL}, {"hostIP", F_SCALAR, NULL}, END};
static const struct type t_port = {
    "io.k8s.api.core.v1.ContainerPort", f_port, NULL, NULL, NULL};

static const struct field f_env[] = {{"name", F_SCALAR, NULL},
    {"value", F_SCALAR, NULL}, {"valueFrom", F_ANY, NULL}, END};
static const struct type t_env = {
    "io.k8s.api.core.v1.EnvVar", f_env, NULL, NULL, NULL};

static const struct field f_container[] = {{"name", F_SCALAR, NULL},
    {"image", F_SCALAR, NULL}, {"command", F_LIST_SCALAR, NULL},
    {"args", F_LIST_SCALAR, NULL}, {"workingDir", F_SCALAR, NULL},
    {"ports", F_LIST, &t_port}, {"envFrom", F_ANY, NULL},
    {"env", F_LIST, &t_env}, {"resources", F_ANY, NULL},
    {"resizePolicy", F_ANY, NULL}, {"restartPolicy", F_SCALAR, NULL},
    {"volumeMounts", F_ANY, NULL}, {"volumeDevices", F_ANY, NULL},
    {"livenessProbe", F_ANY, NULL}, {"readinessProbe", F_ANY, NULL},
    {"startupProbe", F_ANY, NULL}, {"lifecycle", F_ANY, NULL},
    {"terminationMessagePath", F_SCALAR, NULL},
    {"terminationMessagePolicy", F_SCALAR, NULL},
    {"imagePullPolicy", F_SCALAR, NULL}, {"securityContext", F_ANY, NULL},
    {"stdin", F_SCALAR, NULL}, {"stdinOnce", F_SCALAR, NULL},
    {"tty", F_SCALAR, NULL}, END};
static const struct type t_container = {
    "io.k8s.api.core.v1.Container", f_container, NULL, NULL, NULL};

static const struct field f_podspec[] = {{"volumes", F_ANY, NULL},
    {"initContainers", F_LIST, &t_container},
    {"containers", F_LIST, &t_container}, {"ephemeralContainers", F_ANY, NULL},
    {"restartPolicy", F_SCALAR, NULL},
    {"terminationGracePeriodSeconds", F_SCALAR, NULL},
    {"activeDeadlineSeconds", F_SCALAR, NULL}, {"dnsPolicy", F_SCALAR, NULL},
    {"nodeSelector", F_MAP, NULL}, {"serviceAccountName", F_SCALAR, NULL},
    {"serviceAccount", F_SCALAR, NULL},
    {"automountServiceAccountToken", F_SCALAR, NULL},
    {"nodeName", F_SCALAR, NULL}, {"hostNetwork", F_SCALAR, NULL},
    {"hostPID", F_SCALAR, NULL}, {"hostIPC", F_SCALAR, NULL},
    {"shareProcessNamespace", F_SCALAR, NULL}, {"securityContext", F_ANY, NULL},
    {"imagePullSecrets", F_ANY, NULL}, {"hostname", F_SCALAR, NULL},
    {"subdomain", F_SCALAR, NULL}, {"affinity", F_ANY, NULL},
    {"schedulerName", F_SCALAR, NULL}, {"tolerations", F_ANY, NULL},
    {"hostAliases", F_ANY, NULL}, {"priorityClassName", F_SCALAR, NULL},
    {"priority", F_SCALAR, NULL}, {"dnsConfig", F_ANY, NULL},
    {"readinessGates", F_ANY, NULL}, {"runtimeClassName", F_SCALAR, NULL},
    {"enableServiceLinks", F_SCALAR, NULL},
    {"preemptionPolicy", F_SCALAR, NULL}, {"overhead", F_ANY, NULL},
    {"topologySpreadConstraints", F_ANY, NULL},
    {"setHostnameAsFQDN", F_SCALAR, NULL}, {"os", F_ANY, NULL},
    {"hostUsers", F_SCALAR, NULL}, {"schedulingGates", F_ANY, NULL},
    {"resourceClaims", F_ANY, NULL}, {"resources", F_ANY, NULL}, END};
static const struct type t_podspec = {
    "io.k8s.api.core.v1.PodSpec", f_podspec, NULL, NULL, NULL};

static const struct field f_template[] = {
    {"metadata", F_OBJ, &t_meta}, {"spec", F_OBJ, &t_podspec}, END};
static const struct type t_template = {
    "io.k8s.api.core.v1.PodTemplateSpec", f_template, NULL, NULL, NULL};

static const struct field f_rolling[] = {
    {"maxUnavailable", F_SCALAR, NULL}, {"maxSurge", F_SCALAR, NULL}, END};
static const struct type t_rolling = {
    "io.k8s.api.apps.v1.RollingUpdateDeployment", f_rolling, NULL, NULL, NULL};

static const struct field f_strategy[] = {
    {"type", F_SCALAR, NULL}, {"rollingUpdate", F_OBJ, &t_rolling}, END};
static const struct type t_strategy = {
    "io.k8s.api.apps.v1.DeploymentStrategy", f_strategy, NULL, NULL, NULL};

static const struct field f_dspec[] = {{"replicas", F_SCALAR, NULL},
    {"selector", F_OBJ, &t_selector}, {"template", F_OBJ, &t_template},
    {"strategy", F_OBJ, &t_strategy}, {"minReadySeconds", F_SCALAR, NULL},
    {"revisionHistoryLimit", F_SCALAR, NULL}, {"paused", F_SCALAR, NULL},
    {"progressDeadlineSeconds", F_SCALAR, NULL}, END};
static const struct type t_dspec = {
    "io.k8s.api.apps.v1.DeploymentSpec", f_dspec, NULL, NULL, NULL};

static const struct field f_dstatus[] = {{"observedGeneration", F_SCALAR, NULL},
    {"replicas", F_SCALAR, NULL}, {"updatedReplicas", F_SCALAR, NULL},
    {"readyReplicas", F_SCALAR, NULL}, {"availableReplicas", F_SCALAR, NULL},
    {"unavailableReplicas", F_SCALAR, NULL},
    {"terminatingReplicas", F_SCALAR, NULL}, {"conditions", F_ANY, NULL},
    {"collisionCount", F_SCALAR, NULL}, END};
static const struct type t_dstatus = {
    "io.k8s.api.apps.v1.DeploymentStatus", f_dstatus, NULL, NULL, NULL};

static const struct field f_deploy[] = {{"apiVersion", F_SCALAR, NULL},
    {"kind", F_SCALAR, NULL}, {"metadata", F_OBJ, &t_meta},
    {"spec", F_OBJ, &t_dspec}, {"status", F_OBJ, &t_dstatus}, END};
static const struct type t_deploy = {
    "io.k8s.api.apps.v1.Deployment", f_deploy, "apps", "v1", "Deployment"};

static const struct field f_sspec[] = {{"replicas", F_SCALAR, NULL}, END};
static const struct type t_sspec = {
    "io.k8s.api.autoscaling.v1.ScaleSpec", f_sspec, NULL, NULL, NULL};
static const struct field f_sstatus[] = {
    {"replicas", F_SCALAR, NULL}, {"selector", F_SCALAR, NULL}, END};
static const struct type t_sstatus = {
    "io.k8s.api.autoscaling.v1.ScaleStatus", f_sstatus, NULL, NULL, NULL};
static const struct field f_scale[] = {{"apiVersion", F_SCALAR, NULL},
    {"kind", F_SCALAR, NULL}, {"metadata", F_OBJ, &t_meta},
    {"spec", F_OBJ, &t_sspec}, {"status", F_OBJ, &t_sstatus}, END};
static const struct type t_scale = {
    "io.k8s.api.autoscaling.v1.Scale", f_scale, "autoscaling", "v1", "Scale"};

static const struct field f_cm[] = {{"apiVersion", F_SCALAR, NULL},
    {"kind", F_SCALAR, NULL}, {"metadata", F_OBJ, &t_meta},
    {"data", F_MAP, NULL}, {"binaryData", F_MAP, NULL},
    {"immutable", F_SCALAR, NULL}, END};
static const struct type t_cm = {
    "io.k8s.api.core.v1.ConfigMap", f_cm, "", "v1", "ConfigMap"};

static const struct field f_lspec[] = {{"holderIdentity", F_SCALAR, NULL},
    {"leaseDurationSeconds", F_SCALAR, NULL}, {"acquireTime", F_SCALAR, NULL},
    {"renewTime", F_SCALAR, NULL}, {"leaseTransitions", F_SCALAR, NULL},
    {"strategy", F_SCALAR, NULL}, {"preferredHolder", F_SCALAR, NULL}, END};
static const struct type t_lspec = {
    "io.k8s.api.coordination.v1.LeaseSpec", f_lspec, NULL, NULL, NULL};
static const struct field f_lease[] = {{"apiVersion", F_SCALAR, NULL},
    {"kind", F_SCALAR, NULL}, {"metadata", F_OBJ, &t_meta},
    {"spec", F_OBJ, &t_lspec}, END};
static const struct type t_lease = {"io.k8s.api.coordination.v1.Lease", f_lease,
    "coordination.k8s.io", "v1", "Lease"};

static const struct field f_xref[] = {{"kind", F_SCALAR, NULL},
    {"name", F_SCALAR, NULL}, {"apiVersion", F_SCALAR, NULL}, END};
static const struct type t_xref = {
    "io.k8s.api.autoscaling.v2.CrossVersionObjectReference", f_xref, NULL, NULL,
    NULL};
static const struct field f_hspec[] = {{"scaleTargetRef", F_OBJ, &t_xref},
    {"minReplicas", F_SCALAR, NULL}, {"maxReplicas", F_SCALAR, NULL},
    {"metrics", F_ANY, NULL}, {"behavior", F_ANY, NULL}, END};
static const struct type t_hspec = {
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec", f_hspec, NULL,
    NULL, NULL};
static const struct field f_hstatus[] = {{"observedGeneration", F_SCALAR, NULL},
    {"lastScaleTime", F_SCALAR, NULL}, {"currentReplicas", F_SCALAR, NULL},
    {"desiredReplicas", F_SCALAR, NULL}, {"currentMetrics", F_ANY, NULL},
    {"conditions", F_ANY, NULL}, END};
static const struct type t_hstatus = {
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus", f_hstatus, NULL,
    NULL, NULL};
static const struct field f_hpa[] = {{"apiVersion", F_SCALAR, NULL},
    {"kind", F_SCALAR, NULL}, {"metadata", F_OBJ, &t_meta},
    {"spec", F_OBJ, &t_hspec}, {"status", F_OBJ, &t_hstatus}, END};
static const struct type t_hpa = {
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler", f_hpa, "autoscaling",
    "v2", "HorizontalPodAutoscaler"};

static const struct field f_objref[] = {{"kind", F_SCALAR, NULL},
    {"namespace", F_SCALAR, NULL}, {"name", F_SCALAR, NULL},
    {"uid", F_SCALAR, NULL}, {"apiVersion", F_SCALAR, NULL},
    {"resourceVersion", F_SCALAR, NULL}, {"fieldPath", F_SCALAR, NULL}, END};
static const struct type t_objref = {
    "io.k8s.api.core.v1.ObjectReference", f_objref, NULL, NULL, NULL};
static const struct field f_series[] = {
    {"count", F_SCALAR, NULL}, {"lastObservedTime", F_SCALAR, NULL}, END};
static const struct type t_series = {
    "io.k8s.api.events.v1.EventSeries", f_series, NULL, NULL, NULL};
static const struct field f_evsource[] = {
    {"component", F_SCALAR, NULL}, {"host", F_SCALAR, NULL}, END};
static const struct type t_evsource = {
    "io.k8s.api.core.v1.EventSource", f_evsource, NULL, NULL, NULL};
static const struct field f_event[] = {{"apiVersion", F_SCALAR, NULL},
    {"kind", F_SCALAR, NULL}, {"metadata", F_OBJ, &t_meta},
    {"eventTime", F_SCALAR, NULL}, {"series", F_OBJ, &t_series},
    {"reportingController", F_SCALAR, NULL},
    {"reportingInstance", F_SCALAR, NULL}, {"action", F_SCALAR, NULL},
    {"reason", F_SCALAR, NULL}, {"regarding", F_OBJ, &t_objref},
    {"related", F_OBJ, &t_objref}, {"note", F_SCALAR, NULL},
    {"type", F_SCALAR, NULL}, {"deprecatedSource", F_OBJ, &t_evsource},
    {"deprecatedFirstTimestamp", F_SCALAR, NULL},
    {"deprecatedLastTimestamp", F_SCALAR, NULL},
    {"deprecatedCount", F_SCALAR, NULL}, END};
static const struct type t_event = {
    "io.k8s.api.events.v1.Event", f_event, "events.k8s.io", "v1", "Event"};

/* ---- unknown fields ------------------------------------------------- */

static void
add_err(struct ks_schema_errs *e, const char *path, size_t plen,
    const struct ks_json *m)
{
	if (e->n++ >= KS_SCHEMA_MAX_ERRS)
		return;
	snprintf(e->path[e->n - 1], sizeof(e->path[0]), "%.*s%s%.*s", (int)plen,
	    path, plen ? "." : "", (int)m->keylen, m->key);
}

/* Unlink and free member m (prev before it) of o. */
static void
drop(struct ks_json *o, struct ks_json *prev, struct ks_json *m)
{
	if (prev == NULL)
		o->child = m->next;
	else
		prev->next = m->next;
	if (o->last == m)
		o->last = prev;
	o->count--;
	m->next = NULL;
	ks_json_free(m);
}

static void
walk(struct ks_json *o, const struct type *t, char *path, size_t plen,
    size_t cap, int prune, struct ks_schema_errs *e)
{
	struct ks_json *m, *it, *next, *prev = NULL;
	const struct field *f;
	size_t n, i;

	for (m = o->child; m != NULL; m = next) {
		next = m->next;
		for (f = t->fields; f->name != NULL; f++) {
			if (strlen(f->name) == m->keylen &&
			    memcmp(f->name, m->key, m->keylen) == 0)
				break;
		}
		if (f->name == NULL) {
			add_err(e, path, plen, m);
			if (prune)
				drop(o, prev, m);
			else
				prev = m;
			continue;
		}
		prev = m;
		if (f->t != F_OBJ && f->t != F_LIST)
			continue;
		n = (size_t)snprintf(
		    path + plen, cap - plen, "%s%s", plen ? "." : "", f->name);
		if (n >= cap - plen) {
			path[plen] = '\0';
			continue;
		}
		if (f->t == F_OBJ && m->type == KS_JSON_OBJECT)
			walk(m, f->sub, path, plen + n, cap, prune, e);
		else if (f->t == F_LIST && m->type == KS_JSON_ARRAY) {
			for (it = m->child, i = 0; it != NULL;
			     it = it->next, i++) {
				size_t k;

				if (it->type != KS_JSON_OBJECT)
					continue;
				k = (size_t)snprintf(path + plen + n,
				    cap - plen - n, "[%zu]", i);
				if (k < cap - plen - n)
					walk(it, f->sub, path, plen + n + k,
					    cap, prune, e);
			}
		}
		path[plen] = '\0';
	}
}

void
ks_schema_unknown(enum ks_kind k, enum ks_schema_doc d, struct ks_json *doc,
    int prune, struct ks_schema_errs *e)
{
	char path[256] = "";
	const struct type *t = d == KS_SCHEMA_SCALE ? &t_scale
	    : k == KS_KIND_DEPLOYMENT               ? &t_deploy
	    : k == KS_KIND_CONFIGMAP                ? &t_cm
	    : k == KS_KIND_HPA                      ? &t_hpa
	    : k == KS_KIND_EVENT                    ? &t_event
	                                            : &t_lease;

	e->n = 0;
	if (doc != NULL && doc->type == KS_JSON_OBJECT)
		walk(doc, t, path, 0, sizeof(path), prune, e);
}

/* ---- OpenAPI v3 ---------------------------------------------------------- */

#define OPENAPI_HASH "kube-sim-v1.32.0-1"

struct gv_doc {
	const char *gv;     /* "apis/apps/v1" */
	const char *prefix; /* "/apis/apps/v1" */
	const char *resource;
	const struct type *kind;
	int scale;
};

static const struct gv_doc gv_docs[] = {
    {"api/v1", "/api/v1", "configmaps", &t_cm, 0},
    {"apis/apps/v1", "/apis/apps/v1", "deployments", &t_deploy, 1},
    {"apis/coordination.k8s.io/v1", "/apis/coordination.k8s.io/v1", "leases",
        &t_lease, 0},
    {"apis/autoscaling/v2", "/apis/autoscaling/v2", "horizontalpodautoscalers",
        &t_hpa, 0},
    {"apis/events.k8s.io/v1", "/apis/events.k8s.io/v1", "events", &t_event, 0},
};

#define OK(x) ((x) == yajl_gen_status_ok)

int
ks_schema_openapi_root(yajl_gen g)
{
	char url[160];
	size_t i;

	if (!OK(yajl_gen_map_open(g)) || ks_gen_str(g, "paths") != 0 ||
	    !OK(yajl_gen_map_open(g)))
		return -1;
	for (i = 0; i < sizeof(gv_docs) / sizeof(gv_docs[0]); i++) {
		snprintf(url, sizeof(url), "/openapi/v3/%s?hash=%s",
		    gv_docs[i].gv, OPENAPI_HASH);
		if (ks_gen_str(g, gv_docs[i].gv) != 0 ||
		    !OK(yajl_gen_map_open(g)) ||
		    ks_gen_kstr(g, "serverRelativeURL", url) != 0 ||
		    !OK(yajl_gen_map_close(g)))
			return -1;
	}
	return OK(yajl_gen_map_close(g)) && OK(yajl_gen_map_close(g)) ? 0 : -1;
}

static int
gen_ref(yajl_gen g, const char *id)
{
	char ref[160];

	snprintf(ref, sizeof(ref), "#/components/schemas/%s", id);
	return OK(yajl_gen_map_open(g)) && ks_gen_kstr(g, "$ref", ref) == 0 &&
	        OK(yajl_gen_map_close(g))
	    ? 0
	    : -1;
}

static int
gen_gvk(yajl_gen g, const struct type *t)
{
	return ks_gen_str(g, "x-kubernetes-group-version-kind") == 0 &&
	        OK(yajl_gen_map_open(g)) &&
	        ks_gen_kstr(g, "group", t->gvk_group) == 0 &&
	        ks_gen_kstr(g, "kind", t->gvk_kind) == 0 &&
	        ks_gen_kstr(g, "version", t->gvk_version) == 0 &&
	        OK(yajl_gen_map_close(g))
	    ? 0
	    : -1;
}

static int
gen_param(yajl_gen g, const char *name, const char *in)
{
	return OK(yajl_gen_map_open(g)) && ks_gen_kstr(g, "name", name) == 0 &&
	        ks_gen_kstr(g, "in", in) == 0 &&
	        (strcmp(in, "path") != 0 ||
	            (ks_gen_str(g, "required") == 0 &&
	                OK(yajl_gen_bool(g, 1)))) &&
	        ks_gen_str(g, "schema") == 0 && OK(yajl_gen_map_open(g)) &&
	        ks_gen_kstr(g, "type", "string") == 0 &&
	        OK(yajl_gen_map_close(g)) && OK(yajl_gen_map_close(g))
	    ? 0
	    : -1;
}

/* One operation: verb is the HTTP method, action the Kubernetes one. */
static int
gen_op(yajl_gen g, const char *method, const char *action, const struct type *t,
    int named)
{
	static const char *const write_params[] = {
	    "dryRun", "fieldManager", "fieldValidation", NULL};
	char opid[96];
	int write = strcmp(method, "get") != 0 && strcmp(method, "delete") != 0;
	int i;

	snprintf(opid, sizeof(opid), "%s%s%s", action, t->gvk_kind,
	    named ? "" : "Collection");
	if (ks_gen_str(g, method) != 0 || !OK(yajl_gen_map_open(g)) ||
	    ks_gen_kstr(g, "operationId", opid) != 0 ||
	    ks_gen_kstr(g, "x-kubernetes-action", action) != 0 ||
	    gen_gvk(g, t) != 0 || ks_gen_str(g, "parameters") != 0 ||
	    !OK(yajl_gen_array_open(g)))
		return -1;
	if (gen_param(g, "namespace", "path") != 0 ||
	    (named && gen_param(g, "name", "path") != 0) ||
	    gen_param(g, "pretty", "query") != 0)
		return -1;
	for (i = 0; write && write_params[i] != NULL; i++) {
		if (gen_param(g, write_params[i], "query") != 0)
			return -1;
	}
	if (strcmp(method, "patch") == 0 && gen_param(g, "force", "query") != 0)
		return -1;
	if (!OK(yajl_gen_array_close(g)))
		return -1;
	if (write) {
		static const char *const patch_types[] = {
		    "application/json-patch+json",
		    "application/merge-patch+json", NULL};
		static const char *const body_types[] = {"application/json",
		    "application/vnd.kubernetes.protobuf", NULL};
		const char *const *types =
		    strcmp(method, "patch") == 0 ? patch_types : body_types;

		if (ks_gen_str(g, "requestBody") != 0 ||
		    !OK(yajl_gen_map_open(g)) ||
		    ks_gen_str(g, "content") != 0 || !OK(yajl_gen_map_open(g)))
			return -1;
		for (i = 0; types[i] != NULL; i++) {
			if (ks_gen_str(g, types[i]) != 0 ||
			    !OK(yajl_gen_map_open(g)) ||
			    ks_gen_str(g, "schema") != 0 ||
			    gen_ref(g,
			        strcmp(method, "patch") == 0
			            ? "io.k8s.apimachinery.pkg.apis.meta.v1."
			              "Patch"
			            : t->id) != 0 ||
			    !OK(yajl_gen_map_close(g)))
				return -1;
		}
		if (!OK(yajl_gen_map_close(g)) || !OK(yajl_gen_map_close(g)))
			return -1;
	}
	return ks_gen_str(g, "responses") == 0 && OK(yajl_gen_map_open(g)) &&
	        ks_gen_str(g, "200") == 0 && OK(yajl_gen_map_open(g)) &&
	        ks_gen_kstr(g, "description", "OK") == 0 &&
	        ks_gen_str(g, "content") == 0 && OK(yajl_gen_map_open(g)) &&
	        ks_gen_str(g, "application/json") == 0 &&
	        OK(yajl_gen_map_open(g)) && ks_gen_str(g, "schema") == 0 &&
	        gen_ref(g, t->id) == 0 && OK(yajl_gen_map_close(g)) &&
	        OK(yajl_gen_map_close(g)) && OK(yajl_gen_map_close(g)) &&
	        OK(yajl_gen_map_close(g)) && OK(yajl_gen_map_close(g))
	    ? 0
	    : -1;
}

static int
gen_field(yajl_gen g, const struct field *f)
{
	if (ks_gen_str(g, f->name) != 0)
		return -1;
	switch (f->t) {
	case F_OBJ:
		return gen_ref(g, f->sub->id);
	case F_LIST:
		return OK(yajl_gen_map_open(g)) &&
		        ks_gen_kstr(g, "type", "array") == 0 &&
		        ks_gen_str(g, "items") == 0 &&
		        gen_ref(g, f->sub->id) == 0 && OK(yajl_gen_map_close(g))
		    ? 0
		    : -1;
	case F_LIST_SCALAR:
		return OK(yajl_gen_map_open(g)) &&
		        ks_gen_kstr(g, "type", "array") == 0 &&
		        ks_gen_str(g, "items") == 0 &&
		        OK(yajl_gen_map_open(g)) && OK(yajl_gen_map_close(g)) &&
		        OK(yajl_gen_map_close(g))
		    ? 0
		    : -1;
	case F_MAP:
		return OK(yajl_gen_map_open(g)) &&
		        ks_gen_kstr(g, "type", "object") == 0 &&
		        ks_gen_str(g, "additionalProperties") == 0 &&
		        OK(yajl_gen_map_open(g)) && OK(yajl_gen_map_close(g)) &&
		        OK(yajl_gen_map_close(g))
		    ? 0
		    : -1;
	default:
		/* Scalars and undescribed types: any value. */
		return OK(yajl_gen_map_open(g)) && OK(yajl_gen_map_close(g))
		    ? 0
		    : -1;
	}
}

/* Write t's component and those it refers to (once each; the few types
 * form a tree, so a small seen-list suffices). */
static int
gen_component(yajl_gen g, const struct type *t, const struct type **seen,
    size_t *nseen, size_t cap)
{
	const struct field *f;
	size_t i;

	for (i = 0; i < *nseen; i++) {
		if (seen[i] == t)
			return 0;
	}
	if (*nseen >= cap)
		return -1;
	seen[(*nseen)++] = t;
	if (ks_gen_str(g, t->id) != 0 || !OK(yajl_gen_map_open(g)) ||
	    ks_gen_kstr(g, "type", "object") != 0 ||
	    ks_gen_str(g, "properties") != 0 || !OK(yajl_gen_map_open(g)))
		return -1;
	for (f = t->fields; f->name != NULL; f++) {
		if (gen_field(g, f) != 0)
			return -1;
	}
	if (!OK(yajl_gen_map_close(g)))
		return -1;
	if (t->gvk_kind != NULL &&
	    (ks_gen_str(g, "x-kubernetes-group-version-kind") != 0 ||
	        !OK(yajl_gen_array_open(g)) || !OK(yajl_gen_map_open(g)) ||
	        ks_gen_kstr(g, "group", t->gvk_group) != 0 ||
	        ks_gen_kstr(g, "kind", t->gvk_kind) != 0 ||
	        ks_gen_kstr(g, "version", t->gvk_version) != 0 ||
	        !OK(yajl_gen_map_close(g)) || !OK(yajl_gen_array_close(g))))
		return -1;
	if (!OK(yajl_gen_map_close(g)))
		return -1;
	for (f = t->fields; f->name != NULL; f++) {
		if ((f->t == F_OBJ || f->t == F_LIST) &&
		    gen_component(g, f->sub, seen, nseen, cap) != 0)
			return -1;
	}
	return 0;
}

int
ks_schema_openapi_gv(yajl_gen g, const char *gv)
{
	const struct gv_doc *d = NULL;
	const struct type *seen[32];
	size_t i, nseen = 0;
	char path[192];

	for (i = 0; i < sizeof(gv_docs) / sizeof(gv_docs[0]); i++) {
		if (strcmp(gv, gv_docs[i].gv) == 0)
			d = &gv_docs[i];
	}
	if (d == NULL)
		return -1;
	if (!OK(yajl_gen_map_open(g)) ||
	    ks_gen_kstr(g, "openapi", "3.0.0") != 0 ||
	    ks_gen_str(g, "info") != 0 || !OK(yajl_gen_map_open(g)) ||
	    ks_gen_kstr(g, "title", "Kubernetes") != 0 ||
	    ks_gen_kstr(g, "version", "v1.32.0") != 0 ||
	    !OK(yajl_gen_map_close(g)) || ks_gen_str(g, "paths") != 0 ||
	    !OK(yajl_gen_map_open(g)))
		return -2;
	snprintf(path, sizeof(path), "%s/namespaces/{namespace}/%s", d->prefix,
	    d->resource);
	if (ks_gen_str(g, path) != 0 || !OK(yajl_gen_map_open(g)) ||
	    gen_op(g, "get", "list", d->kind, 0) != 0 ||
	    gen_op(g, "post", "post", d->kind, 0) != 0 ||
	    !OK(yajl_gen_map_close(g)))
		return -2;
	snprintf(path, sizeof(path), "%s/namespaces/{namespace}/%s/{name}",
	    d->prefix, d->resource);
	if (ks_gen_str(g, path) != 0 || !OK(yajl_gen_map_open(g)) ||
	    gen_op(g, "get", "get", d->kind, 1) != 0 ||
	    gen_op(g, "put", "put", d->kind, 1) != 0 ||
	    gen_op(g, "patch", "patch", d->kind, 1) != 0 ||
	    gen_op(g, "delete", "delete", d->kind, 1) != 0 ||
	    !OK(yajl_gen_map_close(g)))
		return -2;
	if (d->scale) {
		snprintf(path, sizeof(path),
		    "%s/namespaces/{namespace}/%s/{name}/scale", d->prefix,
		    d->resource);
		if (ks_gen_str(g, path) != 0 || !OK(yajl_gen_map_open(g)) ||
		    gen_op(g, "get", "get", &t_scale, 1) != 0 ||
		    gen_op(g, "put", "put", &t_scale, 1) != 0 ||
		    gen_op(g, "patch", "patch", &t_scale, 1) != 0 ||
		    !OK(yajl_gen_map_close(g)))
			return -2;
	}
	if (!OK(yajl_gen_map_close(g)) || ks_gen_str(g, "components") != 0 ||
	    !OK(yajl_gen_map_open(g)) || ks_gen_str(g, "schemas") != 0 ||
	    !OK(yajl_gen_map_open(g)) ||
	    gen_component(g, d->kind, seen, &nseen, 32) != 0 ||
	    (d->scale && gen_component(g, &t_scale, seen, &nseen, 32) != 0) ||
	    ks_gen_str(g, "io.k8s.apimachinery.pkg.apis.meta.v1.Patch") != 0 ||
	    !OK(yajl_gen_map_open(g)) ||
	    ks_gen_kstr(g, "type", "object") != 0 ||
	    !OK(yajl_gen_map_close(g)) || !OK(yajl_gen_map_close(g)) ||
	    !OK(yajl_gen_map_close(g)) || !OK(yajl_gen_map_close(g)))
		return -2;
	return 0;
}
