/*
 * ks_schema.h — the fields of the kinds kube-sim serves, for
 * fieldValidation (unknown fields, as the API server's strict decoder
 * names them) and for the OpenAPI v3 documents kubectl reads before
 * apply/create (/openapi/v3 and /openapi/v3/<group-version>).
 *
 * The tables list every field of Deployment, Scale, ConfigMap and Lease
 * down to Container and its ports/env items; deeper types (probes,
 * securityContext, affinity, volumes' sources, resources, ...) are
 * accepted as they are, without checking their members.
 */
#ifndef KS_SCHEMA_H
#define KS_SCHEMA_H

#include <stddef.h>

#include <yajl/yajl_gen.h>

#include "tests/kube-sim/ks_obj.h"

struct ks_json;

/* Strict-decoding errors found in one document, in field order. */
#define KS_SCHEMA_MAX_ERRS 8
struct ks_schema_errs {
	int n; /* unknown fields seen (may exceed the kept ones) */
	char path[KS_SCHEMA_MAX_ERRS][256];
};

enum ks_schema_doc {
	KS_SCHEMA_OBJECT = 0, /* the kind itself */
	KS_SCHEMA_SCALE       /* autoscaling/v1 Scale */
};

/* Unknown members of doc (an object of kind k, or a Scale); with prune
 * they are also removed, as decoding into the typed object drops them. */
void ks_schema_unknown(enum ks_kind, enum ks_schema_doc, struct ks_json *, int,
    struct ks_schema_errs *);

/* /openapi/v3: the group-versions with their document URLs. */
int ks_schema_openapi_root(yajl_gen);
/* /openapi/v3/<gv> for gv "api/v1", "apis/apps/v1", ...; -1 unknown gv
 * (nothing written), -2 encoding failure. */
int ks_schema_openapi_gv(yajl_gen, const char *);

#endif /* KS_SCHEMA_H */
