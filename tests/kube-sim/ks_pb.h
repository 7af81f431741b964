/*
 * ks_pb.h — request bodies in application/vnd.kubernetes.protobuf.
 *
 * kubectl sends built-in kinds as protobuf (the "k8s\0" magic, then a
 * runtime.Unknown whose raw bytes are the object).  ks_pb decodes the few
 * kinds kube-sim accepts that way with protobuf-c (messages declared in
 * ks_k8s.proto, the API's own field numbers) and turns them into the JSON
 * tree the JSON path would have parsed, so one code path validates and
 * stores both.  Answers stay JSON: kubectl's Accept lists application/json
 * after protobuf.
 */
#ifndef KS_PB_H
#define KS_PB_H

#include <stddef.h>

struct ks_json;

#define KS_PB_MEDIA "application/vnd.kubernetes.protobuf"

/*
 * Decode body (len bytes, at most KS_MAX_BODY).  want_kind is the kind
 * the endpoint takes ("Deployment", "ConfigMap", "Scale",
 * "SelfSubjectAccessReview", "SelfSubjectReview").  Returns a JSON object with
 * apiVersion and kind, or NULL with a message for a 400 in err (always
 * NUL-terminated).
 */
struct ks_json *ks_pb_decode(
    const void *, size_t, const char *, char *, size_t);

#endif /* KS_PB_H */
