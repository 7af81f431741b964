/*
 * ks_query.h — list/watch query parameters, decoded and validated the way
 * the API server does (boolean rules, ParseInt/ParseUint errors, the
 * ListOptions validation that answers 422), and continue tokens.
 */
#ifndef KS_QUERY_H
#define KS_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "tests/kube-sim/ks_select.h"

struct ks_status;

struct ks_query {
	int watch;
	int bookmarks; /* allowWatchBookmarks */
	int has_rv;    /* resourceVersion given and not "" */
	uint64_t rv;   /* 0 for "0" */
	int rv_match;  /* KS_RVM_* */
	int has_limit;
	long long limit; /* > 0 when has_limit */
	int has_continue;
	uint64_t cont_rv; /* from the continue token */
	char *cont_start; /* "ns/name" of the first key to return */
	int has_timeout;
	long long timeout; /* timeoutSeconds (> 0) */
	int sie;           /* sendInitialEvents: -1 unset, 0, 1 */
	int has_labels;
	struct ks_selector labels;
	int has_fields;
	struct ks_selector fields;
};

enum { KS_RVM_NONE = 0, KS_RVM_EXACT, KS_RVM_NOT_OLDER };

/* Parse the raw query string (may be NULL) for resource.group.  0, or -1 with
 * st filled (400 BadRequest or 422 Invalid as the real server answers). */
int ks_query_parse(struct ks_query *, const char *, const char *, const char *,
    struct ks_status *);
void ks_query_clear(struct ks_query *);
/* Get the first value of a parameter, percent-decoded, into buf.
 * 1 found, 0 absent, -1 malformed or too long. */
int ks_query_get(const char *, const char *, char *, size_t);
/* Boolean per runtime/conversion.go: absent, "0" and "false" are false. */
int ks_query_bool(const char *);

/* Continue tokens: base64url(JSON {"v","rv","start"}), as etcd3's. */
char *ks_query_continue_encode(uint64_t, const char *, const char *);
int ks_query_continue_decode(const char *, uint64_t *, char **, char *, size_t);

#endif /* KS_QUERY_H */
