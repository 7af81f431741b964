/*
 * ks_jpatch.h — RFC 6902 JSON patch (application/json-patch+json) on a
 * ks_json tree, with the outcome classes of kube-apiserver, which applies
 * it with evanphx/json-patch (v4):
 *   - the body is not an array of objects: 400 BadRequest with the
 *     decoder's message (KS_JPATCH_EDECODE);
 *   - more than KS_JPATCH_MAX_OPS operations: 413 (KS_JPATCH_ETOOMANY);
 *   - any operation that does not apply (unknown op, bad or missing path,
 *     failed test, ...): 422 Invalid "the server rejected our request due
 *     to an error in our request" (KS_JPATCH_EAPPLY; msg says which op
 *     failed, for logs — the real server does not send it).
 */
#ifndef KS_JPATCH_H
#define KS_JPATCH_H

#include <stddef.h>

struct ks_json;

/* apiserver's maxJSONPatchOperations. */
#define KS_JPATCH_MAX_OPS 10000

enum ks_jpatch_err {
	KS_JPATCH_OK = 0,
	KS_JPATCH_EDECODE,
	KS_JPATCH_ETOOMANY,
	KS_JPATCH_EAPPLY,
	KS_JPATCH_ENOMEM
};

/*
 * Apply patch to *doc in place, operation by operation.  On error *doc
 * may be half-patched: callers patch a copy and drop it.  msg (always
 * NUL-terminated) gets the detail.  Copies are bounded: the document may
 * not grow above KS_JSON_MAX_NODES values.
 */
enum ks_jpatch_err ks_jpatch_apply(
    struct ks_json **, const struct ks_json *, char *, size_t);

#endif /* KS_JPATCH_H */
