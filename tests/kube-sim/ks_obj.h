/*
 * ks_obj.h — the kinds kube-sim serves and their objects.
 *
 * An object version (struct ks_obj) is a JSON tree of metadata/spec/status
 * (or data) without kind/apiVersion, reference counted and immutable once
 * committed to the store: watch history entries and list snapshots share
 * versions instead of copying them.  Writers clone, edit, commit.
 * Here too: create-time defaulting and validation, the Scale view, the
 * bookmark shape and the simulated deployment controller's status step.
 */
#ifndef KS_OBJ_H
#define KS_OBJ_H

#include <stdint.h>
#include <time.h>

#include <yajl/yajl_gen.h>

struct ks_json;
struct ks_status;

enum ks_kind {
	KS_KIND_DEPLOYMENT = 0,
	KS_KIND_CONFIGMAP,
	KS_KIND_LEASE,
	KS_KIND_HPA,   /* autoscaling/v2 horizontalpodautoscalers */
	KS_KIND_EVENT, /* events.k8s.io/v1 events */
	KS_KIND_COUNT
};

struct ks_kind_info {
	const char *resource;    /* "deployments" */
	const char *singular;    /* "deployment" */
	const char *group;       /* "apps", "" for core */
	const char *api_version; /* "apps/v1" */
	const char *version;     /* "v1" (the URL's version segment) */
	const char *kind;        /* "Deployment" */
	const char *list_kind;   /* "DeploymentList" */
	int generation;          /* metadata.generation kept (spec changes) */
};

struct ks_obj {
	int refs;
	enum ks_kind kind;
	struct ks_json *doc;
	const char *ns;   /* into doc */
	const char *name; /* into doc */
	uint64_t rv;
};

const struct ks_kind_info *ks_kind_info(enum ks_kind);
int ks_kind_by_resource(const char *, const char *, enum ks_kind *);

/* Takes doc, also on error. */
struct ks_obj *ks_obj_new(enum ks_kind, struct ks_json *);
struct ks_obj *ks_obj_ref(struct ks_obj *);
void ks_obj_unref(struct ks_obj *);
struct ks_obj *ks_obj_clone(const struct ks_obj *);
/* Re-point ns/name after the doc changed; -1 if they are missing. */
int ks_obj_refresh(struct ks_obj *);
const struct ks_json *ks_obj_labels(const struct ks_obj *);

int ks_obj_gen(yajl_gen, const struct ks_obj *, int);
int ks_obj_gen_scale(yajl_gen, const struct ks_obj *);
int ks_obj_gen_bookmark(yajl_gen, enum ks_kind, uint64_t, int);
/* A whole watch event line, JSON + "\n"; malloc'd. */
char *ks_obj_event_line(const struct ks_obj *, const char *, size_t *);

/* Deployment helpers. */
struct ks_obj *ks_obj_new_deployment(
    const char *, const char *, long long, time_t);
long long ks_obj_replicas(const struct ks_obj *);
long long ks_obj_generation(const struct ks_obj *);
long long ks_obj_status_int(const struct ks_obj *, const char *);
char *ks_obj_selector_string(const struct ks_obj *);
/* Spec or annotations changed between versions: generation + 1. */
int ks_obj_bump_generation(const struct ks_obj *, struct ks_obj *);
/* One controller step toward spec; 1 if more steps are needed after it. */
int ks_obj_controller_step(struct ks_obj *, long long, time_t);
int ks_obj_controller_done(const struct ks_obj *);

/* Build a new object from a create body: validate, default, set
 * server-managed fields except uid/rv/timestamps (ks_store sets them). */
struct ks_obj *ks_obj_from_create(
    enum ks_kind, const char *, const struct ks_json *, struct ks_status *);
/* Validate an edited version against the current one; restores
 * server-managed metadata and (for deployments) status from cur. */
int ks_obj_validate_update(
    const struct ks_obj *, struct ks_obj *, int, struct ks_status *);

int ks_valid_dns_subdomain(const char *);
int ks_valid_dns_label(const char *);
/* `[NS/]NAME[=REPLICAS]` (--deployments, /_sim/restore) into ns
 * (KS_MAX_NAMESPACE + 1 bytes), name (KS_MAX_NAME + 1) and replicas;
 * NS defaults to the second argument.  0, or -1 for a bad entry. */
int ks_deploy_entry(const char *, const char *, char *, char *, long *);
void ks_format_time(time_t, char *, size_t);

#endif /* KS_OBJ_H */
