/*
 * ks_api.h — the Kubernetes API proper: routing of /api and /apis paths,
 * discovery documents, and the list/get/create/update/patch/delete and
 * scale handlers for deployments, configmaps and leases.
 */
#ifndef KS_API_H
#define KS_API_H

#include "tests/kube-sim/ks_limits.h"
#include "tests/kube-sim/ks_obj.h"

struct evhttp_request;
struct ks_server;

enum ks_review {
	KS_REVIEW_NONE = 0,
	KS_REVIEW_SSAR, /* authorization.k8s.io/v1 selfsubjectaccessreviews */
	KS_REVIEW_SSR   /* authentication.k8s.io/v1 selfsubjectreviews */
};

struct ks_route {
	int resource; /* a resource path (else non-resource) */
	int known;    /* resource kube-sim serves */
	enum ks_kind kind;
	char ns[KS_MAX_NAMESPACE + 1];
	char name[KS_MAX_NAME + 1];
	char sub[16];          /* "scale", "status" or "" */
	const char *verb;      /* get, list, watch, create, update, ... */
	enum ks_review review; /* a self review (not a stored kind) */
	int dry;               /* dryRun=All: validate, answer, store nothing */
	const char *path;
};

/* Classify a request (verb for counters, deny rules, 403 texts). */
void ks_api_route(struct evhttp_request *, struct ks_route *);
/* Public paths anonymous users may read (system:public-info-viewer). */
int ks_api_public_path(const char *);
void ks_api_handle(struct ks_server *, struct evhttp_request *,
    const struct ks_route *, const char *);

#endif /* KS_API_H */
