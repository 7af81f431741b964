/*
 * ks_ssa.h — field ownership (metadata.managedFields) and server-side
 * apply (application/apply-patch+yaml with a JSON body, as kubectl
 * sends it).
 *
 * A managed-fields entry is (manager, operation Apply|Update,
 * subresource) with a FieldsV1 set ({"f:spec":{"f:replicas":{}}}).  Sets
 * are taken at leaf level: a member whose value is not a non-empty object
 * is one field; lists are atomic (no k:/v: keys; README says so).
 *   - Every write (create, update, patch, scale) by fieldManager U takes
 *     the fields it changed or removed away from all other managers and
 *     gives U's Update entry the changed ones.
 *   - An apply by M of config C owns exactly the fields of C.  A field of
 *     C owned by another manager with a different value is a conflict
 *     (409, the real message and causes) unless force; with force the
 *     other manager loses it.  Fields M applied before and no longer
 *     applies are removed unless another manager owns them.
 * identity and server fields (apiVersion, kind, status, metadata.name,
 * namespace, uid, resourceVersion, generation, creationTimestamp,
 * managedFields, ...) are never owned.
 */
#ifndef KS_SSA_H
#define KS_SSA_H

#include <time.h>

struct ks_json;
struct ks_status;

/*
 * Record a non-apply write: cur (NULL on create) → next, by manager
 * (subresource "" or "scale").  Rewrites next's metadata.managedFields
 * (which must hold cur's entries, as ks_obj_validate_update leaves them).
 * 0 ok, -1 out of memory.
 */
int ks_ssa_record_update(const struct ks_json *, struct ks_json *, const char *,
    const char *, const char *, time_t);

/*
 * Server-side apply of config to cur (NULL: the object does not exist).
 * On success *out is the new document, managedFields included, still to
 * be validated; on a conflict st is the 409 (1 returned); -1 out of memory.
 */
int ks_ssa_apply(const struct ks_json *, const struct ks_json *, const char *,
    const char *, int, time_t, struct ks_json **, struct ks_status *);

#endif /* KS_SSA_H */
