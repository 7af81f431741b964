/*
 * ks_status.h — metav1.Status bodies with the real API server's reasons
 * and exact message formats (apimachinery/pkg/api/errors).  Builders fill
 * a struct ks_status; ks_status_gen writes it with yajl_gen.
 */
#ifndef KS_STATUS_H
#define KS_STATUS_H

#include <yajl/yajl_gen.h>

#define KS_STATUS_MAX_CAUSES 8

enum ks_cause_type {
	KS_CAUSE_INVALID,       /* FieldValueInvalid */
	KS_CAUSE_REQUIRED,      /* FieldValueRequired */
	KS_CAUSE_FORBIDDEN,     /* FieldValueForbidden */
	KS_CAUSE_NOT_SUPPORTED, /* FieldValueNotSupported */
	KS_CAUSE_PLAIN          /* reason given verbatim, may be empty */
};

struct ks_status_cause {
	char reason[64];
	char message[512];
	char field[128];
};

struct ks_status {
	int code;
	int success;        /* "status":"Success" (delete answers) */
	const char *reason; /* StatusReason, NULL when none */
	char message[1024];
	int details;    /* emit "details" */
	char name[256]; /* details.name ("" = absent) */
	char group[64]; /* details.group */
	char kind[64];  /* details.kind */
	char uid[40];   /* details.uid */
	struct ks_status_cause causes[KS_STATUS_MAX_CAUSES];
	int ncauses;
	int retry_after; /* details.retryAfterSeconds when > 0 */
};

int ks_status_gen(yajl_gen, const struct ks_status *);

void ks_status_not_found(
    struct ks_status *, const char *, const char *, const char *);
void ks_status_already_exists(
    struct ks_status *, const char *, const char *, const char *);
void ks_status_conflict(
    struct ks_status *, const char *, const char *, const char *);
void ks_status_invalid(
    struct ks_status *, const char *, const char *, const char *);
int ks_status_add_cause(struct ks_status *, enum ks_cause_type, const char *,
    const char *, const char *);
void ks_status_bad_request(struct ks_status *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void ks_status_unauthorized(struct ks_status *);
void ks_status_forbidden(struct ks_status *, const char *, const char *,
    const char *, const char *, const char *, const char *, const char *);
void ks_status_method_not_allowed(struct ks_status *);
void ks_status_unsupported_media(struct ks_status *, const char *);
void ks_status_too_large(struct ks_status *, long);
void ks_status_expired(struct ks_status *, const char *);
void ks_status_rv_too_large(
    struct ks_status *, unsigned long long, unsigned long long);
void ks_status_internal(struct ks_status *, const char *);
void ks_status_unavailable(struct ks_status *, const char *);
void ks_status_timeout(struct ks_status *);
void ks_status_deleted(
    struct ks_status *, const char *, const char *, const char *, const char *);

#endif /* KS_STATUS_H */
