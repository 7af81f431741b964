/*
 * ks_disc.c — the non-resource paths: health checks, /version, the
 * legacy discovery documents (/api, /apis, each group and group-version's
 * APIResourceList) and the OpenAPI v3 documents (from ks_schema).  No
 * aggregated discovery: kubectl falls back to these documents.  Moved out
 * of ks_api.c, which keeps the resource handlers.
 */
#include <stdio.h>
#include <string.h>

#include <event2/http.h>

#include "tests/kube-sim/ks_disc.h"
#include "tests/kube-sim/ks_http.h"
#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_schema.h"
#include "tests/kube-sim/ks_server.h"
#include "tests/kube-sim/ks_status.h"

static int
gen_strings(yajl_gen g, const char *key, const char *const *v)
{
	int i;

	if (ks_gen_str(g, key) != 0 ||
	    yajl_gen_array_open(g) != yajl_gen_status_ok)
		return -1;
	for (i = 0; v[i] != NULL; i++) {
		if (ks_gen_str(g, v[i]) != 0)
			return -1;
	}
	return yajl_gen_array_close(g) == yajl_gen_status_ok ? 0 : -1;
}

struct res_doc {
	const char *name, *singular, *kind, *group, *version;
	const char *const *verbs;
	const char *const *shortnames;
	const char *const *categories;
	int cluster; /* cluster-scoped */
};

static const char *const verbs_all[] = {"create", "delete", "deletecollection",
    "get", "list", "patch", "update", "watch", NULL};
static const char *const verbs_sub[] = {"get", "patch", "update", NULL};
static const char *const verbs_create[] = {"create", NULL};
static const char *const short_deploy[] = {"deploy", NULL};
static const char *const short_cm[] = {"cm", NULL};
static const char *const short_hpa[] = {"hpa", NULL};
static const char *const short_ev[] = {"ev", NULL};
static const char *const cat_all[] = {"all", NULL};

static int
gen_resource(yajl_gen g, const struct res_doc *d)
{
	if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    ks_gen_kstr(g, "name", d->name) != 0 ||
	    ks_gen_kstr(g, "singularName", d->singular) != 0 ||
	    ks_gen_str(g, "namespaced") != 0 ||
	    yajl_gen_bool(g, !d->cluster) != yajl_gen_status_ok)
		return -1;
	if (d->group != NULL &&
	    (ks_gen_kstr(g, "group", d->group) != 0 ||
	        ks_gen_kstr(g, "version", d->version) != 0))
		return -1;
	if (ks_gen_kstr(g, "kind", d->kind) != 0 ||
	    gen_strings(g, "verbs", d->verbs) != 0)
		return -1;
	if (d->shortnames && gen_strings(g, "shortNames", d->shortnames) != 0)
		return -1;
	if (d->categories && gen_strings(g, "categories", d->categories) != 0)
		return -1;
	return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
}

static int
gen_resource_list(yajl_gen g, const char *gv, const struct res_doc *docs, int n)
{
	int i;

	if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    ks_gen_kstr(g, "kind", "APIResourceList") != 0 ||
	    ks_gen_kstr(g, "apiVersion", "v1") != 0 ||
	    ks_gen_kstr(g, "groupVersion", gv) != 0 ||
	    ks_gen_str(g, "resources") != 0 ||
	    yajl_gen_array_open(g) != yajl_gen_status_ok)
		return -1;
	for (i = 0; i < n; i++) {
		if (gen_resource(g, &docs[i]) != 0)
			return -1;
	}
	return yajl_gen_array_close(g) == yajl_gen_status_ok &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok
	    ? 0
	    : -1;
}

static int
gen_group(yajl_gen g, const char *name, const char *version, int top)
{
	char gv[96];

	snprintf(gv, sizeof(gv), "%s/%s", name, version);
	if (yajl_gen_map_open(g) != yajl_gen_status_ok)
		return -1;
	if (top &&
	    (ks_gen_kstr(g, "kind", "APIGroup") != 0 ||
	        ks_gen_kstr(g, "apiVersion", "v1") != 0))
		return -1;
	return ks_gen_kstr(g, "name", name) == 0 &&
	        ks_gen_str(g, "versions") == 0 &&
	        yajl_gen_array_open(g) == yajl_gen_status_ok &&
	        yajl_gen_map_open(g) == yajl_gen_status_ok &&
	        ks_gen_kstr(g, "groupVersion", gv) == 0 &&
	        ks_gen_kstr(g, "version", version) == 0 &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok &&
	        yajl_gen_array_close(g) == yajl_gen_status_ok &&
	        ks_gen_str(g, "preferredVersion") == 0 &&
	        yajl_gen_map_open(g) == yajl_gen_status_ok &&
	        ks_gen_kstr(g, "groupVersion", gv) == 0 &&
	        ks_gen_kstr(g, "version", version) == 0 &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok
	    ? 0
	    : -1;
}

void
ks_disc_not_found(struct evhttp_request *req)
{
	struct ks_status st;

	memset(&st, 0, sizeof(st));
	st.code = 404;
	st.reason = "NotFound";
	st.details = 1;
	snprintf(st.message, sizeof(st.message),
	    "the server could not find the requested resource");
	ks_http_reply_status(req, &st);
}

int
ks_disc_handle(
    struct ks_server *srv, struct evhttp_request *req, const char *path)
{
	static const struct res_doc apps[] = {
	    {"deployments", "deployment", "Deployment", NULL, NULL, verbs_all,
	        short_deploy, cat_all, 0},
	    {"deployments/scale", "", "Scale", "autoscaling", "v1", verbs_sub,
	        NULL, NULL, 0},
	    {"deployments/status", "", "Deployment", NULL, NULL, verbs_sub,
	        NULL, NULL, 0},
	};
	static const struct res_doc core[] = {
	    {"configmaps", "configmap", "ConfigMap", NULL, NULL, verbs_all,
	        short_cm, NULL, 0},
	};
	static const struct res_doc coord[] = {
	    {"leases", "lease", "Lease", NULL, NULL, verbs_all, NULL, NULL, 0},
	};
	static const struct res_doc hpa[] = {
	    {"horizontalpodautoscalers", "horizontalpodautoscaler",
	        "HorizontalPodAutoscaler", NULL, NULL, verbs_all, short_hpa,
	        cat_all, 0},
	};
	static const struct res_doc events[] = {
	    {"events", "event", "Event", NULL, NULL, verbs_all, short_ev, NULL,
	        0},
	};
	static const struct res_doc authz[] = {
	    {"selfsubjectaccessreviews", "selfsubjectaccessreview",
	        "SelfSubjectAccessReview", NULL, NULL, verbs_create, NULL, NULL,
	        1},
	};
	static const struct res_doc authn[] = {
	    {"selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview",
	        NULL, NULL, verbs_create, NULL, NULL, 1},
	};
	yajl_gen g;
	int r = -1;
	char addr[160];

	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0 ||
	    strcmp(path, "/readyz") == 0 ||
	    strncmp(path, "/healthz/", 9) == 0 ||
	    strncmp(path, "/livez/", 7) == 0 ||
	    strncmp(path, "/readyz/", 8) == 0) {
		ks_http_reply_text(req, 200, "ok");
		return 0;
	}
	if ((g = ks_gen_new()) == NULL)
		return -1;
	if (strcmp(path, "/version") == 0 || strcmp(path, "/version/") == 0) {
		r = yajl_gen_map_open(g) == yajl_gen_status_ok &&
		        ks_gen_kstr(g, "major", "1") == 0 &&
		        ks_gen_kstr(g, "minor", "32") == 0 &&
		        ks_gen_kstr(g, "gitVersion", "v1.32.0") == 0 &&
		        ks_gen_kstr(g, "gitCommit", "kube-sim") == 0 &&
		        ks_gen_kstr(g, "gitTreeState", "clean") == 0 &&
		        ks_gen_kstr(g, "buildDate", "2024-12-11T00:00:00Z") ==
		            0 &&
		        ks_gen_kstr(g, "goVersion", "go1.23.3") == 0 &&
		        ks_gen_kstr(g, "compiler", "gc") == 0 &&
		        ks_gen_kstr(g, "platform", "linux/amd64") == 0 &&
		        yajl_gen_map_close(g) == yajl_gen_status_ok
		    ? 0
		    : -1;
	} else if (strcmp(path, "/api") == 0 || strcmp(path, "/api/") == 0) {
		const char *u = strstr(srv->url, "//");

		snprintf(addr, sizeof(addr), "%s", u ? u + 2 : srv->url);
		r = yajl_gen_map_open(g) == yajl_gen_status_ok &&
		        ks_gen_kstr(g, "kind", "APIVersions") == 0 &&
		        ks_gen_str(g, "versions") == 0 &&
		        yajl_gen_array_open(g) == yajl_gen_status_ok &&
		        ks_gen_str(g, "v1") == 0 &&
		        yajl_gen_array_close(g) == yajl_gen_status_ok &&
		        ks_gen_str(g, "serverAddressByClientCIDRs") == 0 &&
		        yajl_gen_array_open(g) == yajl_gen_status_ok &&
		        yajl_gen_map_open(g) == yajl_gen_status_ok &&
		        ks_gen_kstr(g, "clientCIDR", "0.0.0.0/0") == 0 &&
		        ks_gen_kstr(g, "serverAddress", addr) == 0 &&
		        yajl_gen_map_close(g) == yajl_gen_status_ok &&
		        yajl_gen_array_close(g) == yajl_gen_status_ok &&
		        yajl_gen_map_close(g) == yajl_gen_status_ok
		    ? 0
		    : -1;
	} else if (strcmp(path, "/apis") == 0 || strcmp(path, "/apis/") == 0) {
		r = yajl_gen_map_open(g) == yajl_gen_status_ok &&
		        ks_gen_kstr(g, "kind", "APIGroupList") == 0 &&
		        ks_gen_kstr(g, "apiVersion", "v1") == 0 &&
		        ks_gen_str(g, "groups") == 0 &&
		        yajl_gen_array_open(g) == yajl_gen_status_ok &&
		        gen_group(g, "apps", "v1", 0) == 0 &&
		        gen_group(g, "events.k8s.io", "v1", 0) == 0 &&
		        gen_group(g, "authentication.k8s.io", "v1", 0) == 0 &&
		        gen_group(g, "authorization.k8s.io", "v1", 0) == 0 &&
		        gen_group(g, "autoscaling", "v2", 0) == 0 &&
		        gen_group(g, "coordination.k8s.io", "v1", 0) == 0 &&
		        yajl_gen_array_close(g) == yajl_gen_status_ok &&
		        yajl_gen_map_close(g) == yajl_gen_status_ok
		    ? 0
		    : -1;
	} else if (strcmp(path, "/apis/apps") == 0 ||
	    strcmp(path, "/apis/coordination.k8s.io") == 0 ||
	    strcmp(path, "/apis/events.k8s.io") == 0 ||
	    strcmp(path, "/apis/authentication.k8s.io") == 0 ||
	    strcmp(path, "/apis/authorization.k8s.io") == 0) {
		r = gen_group(g, path + 6, "v1", 1);
	} else if (strcmp(path, "/apis/autoscaling") == 0) {
		r = gen_group(g, "autoscaling", "v2", 1);
	} else if (strcmp(path, "/apis/autoscaling/v2") == 0) {
		r = gen_resource_list(g, "autoscaling/v2", hpa, 1);
	} else if (strcmp(path, "/apis/events.k8s.io/v1") == 0) {
		r = gen_resource_list(g, "events.k8s.io/v1", events, 1);
	} else if (strcmp(path, "/api/v1") == 0) {
		r = gen_resource_list(g, "v1", core, 1);
	} else if (strcmp(path, "/apis/apps/v1") == 0) {
		r = gen_resource_list(g, "apps/v1", apps, 3);
	} else if (strcmp(path, "/apis/coordination.k8s.io/v1") == 0) {
		r = gen_resource_list(g, "coordination.k8s.io/v1", coord, 1);
	} else if (strcmp(path, "/openapi/v3") == 0 ||
	    strcmp(path, "/openapi/v3/") == 0) {
		r = ks_schema_openapi_root(g);
	} else if (strncmp(path, "/openapi/v3/", 12) == 0) {
		if ((r = ks_schema_openapi_gv(g, path + 12)) == -1) {
			yajl_gen_free(g);
			ks_disc_not_found(req);
			return 0;
		}
	} else if (strcmp(path, "/apis/authorization.k8s.io/v1") == 0) {
		r = gen_resource_list(g, "authorization.k8s.io/v1", authz, 1);
	} else if (strcmp(path, "/apis/authentication.k8s.io/v1") == 0) {
		r = gen_resource_list(g, "authentication.k8s.io/v1", authn, 1);
	} else {
		yajl_gen_free(g);
		ks_disc_not_found(req);
		return 0;
	}
	if (r == 0)
		ks_http_reply_gen(req, 200, g);
	yajl_gen_free(g);
	return r;
}
