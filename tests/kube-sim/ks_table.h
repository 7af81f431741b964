/*
 * ks_table.h — server-side printing (meta.k8s.io/v1 Table) for
 * Deployments, the columns of kube-apiserver's printers: NAME, READY,
 * UP-TO-DATE, AVAILABLE, AGE and, with priority 1 (kubectl -o wide),
 * CONTAINERS, IMAGES, SELECTOR.  Other kinds are answered as plain JSON,
 * which kubectl's Accept also allows.
 */
#ifndef KS_TABLE_H
#define KS_TABLE_H

#include <time.h>

#include <yajl/yajl_gen.h>

#include "tests/kube-sim/ks_obj.h"

/* includeObject: what each row carries in "object". */
enum ks_table_include {
	KS_TABLE_METADATA = 0, /* PartialObjectMetadata (the default) */
	KS_TABLE_NONE,
	KS_TABLE_OBJECT
};

/* 1 if the Accept header (may be NULL) asks for
 * application/json;as=Table;g=meta.k8s.io;v=v1 before plain JSON. */
int ks_table_wanted(const char *);
/* includeObject query value (NULL = default); -1 if not one of
 * None, Metadata, Object. */
int ks_table_include(const char *, enum ks_table_include *);
int ks_table_supported(enum ks_kind);
/* Open the Table map: kind, apiVersion.  The caller writes "metadata"
 * (ListMeta) next, then ks_table_columns, then the rows, then closes. */
int ks_table_open(yajl_gen);
/* "columnDefinitions":[...],"rows":[ — the caller closes the array. */
int ks_table_columns(yajl_gen, enum ks_kind);
int ks_table_row(
    yajl_gen, const struct ks_obj *, enum ks_table_include, time_t);
/* duration.HumanDuration of seconds (Go's apimachinery). */
void ks_table_human_duration(long long, char *, size_t);

#endif /* KS_TABLE_H */
