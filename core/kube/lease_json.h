/*
 * lease_json.h — coordination.k8s.io/v1 Leases as JSON, both ways, for
 * leader election (lease.c): the parser of the API's answers and the body
 * of the Lease the core writes.
 *
 * The parser is strict: a Lease answer is one small object, and a wrong type in
 * any field kept here (a number for holderIdentity, a string for
 * leaseDurationSeconds, an object for either) is an error, not a field skipped.
 * null means absent, as in Go.  Checks: metadata.name DNS-1123 subdomain,
 * namespace DNS-1123 label, resourceVersion visible ASCII of at most PS_MAX_RV
 * bytes (as kjson.h), holderIdentity printable ASCII of at most
 * LEASE_MAX_HOLDER bytes, leaseDurationSeconds 1..3600, leaseTransitions
 * 0..INT32_MAX, acquireTime/renewTime RFC 3339 (the API's MicroTime).  The
 * answer must carry a name and a resourceVersion.
 */

#ifndef CORE_LEASE_JSON_H
#define CORE_LEASE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "proto-socket/ps.h"

#define LEASE_MAX_KIND      64
#define LEASE_MAX_HOLDER    128
#define LEASE_MAX_MICROTIME 40 /* "2026-12-06T05:16:07.544000Z" is 27 */
#define LEASE_MIN_DURATION  1
#define LEASE_MAX_DURATION  3600

struct lease_rec {
	char kind[LEASE_MAX_KIND + 1];
	char name[PS_MAX_NAME + 1];
	char namespace[PS_MAX_NAMESPACE + 1];
	char rv[PS_MAX_RV + 1];
	char holder[LEASE_MAX_HOLDER + 1]; /* "" when absent or released */
	int32_t duration_s;                /* 0 when absent */
	char acquire_time[LEASE_MAX_MICROTIME + 1]; /* "" when absent */
	char renew_time[LEASE_MAX_MICROTIME + 1];
	int32_t transitions;
};

struct lease_json;

struct lease_json *lease_json_new(void);
void lease_json_free(struct lease_json *p);
/* 0, or -1 with lease_json_error() set; after an error it stays dead.
 * At most LEASE_JSON_MAX_BYTES in all. */
int lease_json_feed(struct lease_json *p, const void *buf, size_t len);
/* End of body: 0 and *out filled if the answer was a complete, valid
 * Lease; -1 otherwise (out is then zeroed). */
int lease_json_finish(struct lease_json *p, struct lease_rec *out);
const char *lease_json_error(const struct lease_json *p);
/* RFC 3339 date-time (e.g. "2026-12-06T05:16:07.544000Z"): 1 or 0. */
int lease_json_valid_time(const char *s, size_t len);

/* ------------------------------------------------ the Lease we write */

/* Wall time as MicroTime, "2026-12-06T05:16:07.544000Z"; `buf` must hold
 * LEASE_MAX_MICROTIME + 1 bytes.  0, or -1. */
int lease_json_format_time(int64_t sec, long nsec, char *buf, size_t bufsz);

/*
 * The Lease as JSON (yajl_gen): apiVersion, kind, metadata.name and
 * namespace, metadata.resourceVersion when `rec->rv` is set (the update
 * precondition), spec.  A malloc'd, NUL-terminated string; NULL on
 * failure.
 */
char *lease_json_gen_body(const char *namespace, const char *name,
    const struct lease_rec *rec, size_t *len);

#endif /* CORE_LEASE_JSON_H */
