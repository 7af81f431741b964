/*
 * ks_select.h — label and field selectors as list/watch take them
 * (labelSelector: =, ==, !=, in, notin, exists, !exists;
 * fieldSelector: metadata.name and metadata.namespace with =, ==, !=).
 */
#ifndef KS_SELECT_H
#define KS_SELECT_H

#include <stddef.h>

#include "tests/kube-sim/ks_limits.h"

struct ks_json;

enum ks_sel_op {
	KS_SEL_EQ,
	KS_SEL_NEQ,
	KS_SEL_IN,
	KS_SEL_NOTIN,
	KS_SEL_EXISTS,
	KS_SEL_NOTEXISTS
};

struct ks_sel_req {
	enum ks_sel_op op;
	char *key;
	char *values[KS_SEL_MAX_VALUES];
	int nvalues;
};

struct ks_selector {
	struct ks_sel_req reqs[KS_SEL_MAX_REQS];
	int nreqs;
};

/* Both return 0, or -1 with a message (the Status text) in err. */
int ks_selector_parse_labels(
    struct ks_selector *, const char *, char *, size_t);
int ks_selector_parse_fields(
    struct ks_selector *, const char *, char *, size_t);
void ks_selector_clear(struct ks_selector *);
/* labels: the object's metadata.labels (NULL = none). */
int ks_selector_match_labels(
    const struct ks_selector *, const struct ks_json *);
int ks_selector_match_fields(
    const struct ks_selector *, const char *, const char *);

#endif /* KS_SELECT_H */
