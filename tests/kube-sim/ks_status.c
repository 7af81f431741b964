/*
 * ks_status.c — Status objects as the real API server writes them:
 * field order kind, apiVersion, metadata, status, message, reason,
 * details, code; details.kind is the resource for NotFound/Conflict/
 * Forbidden and the Kind for Invalid.  Formats from
 * apimachinery/pkg/api/errors and util/validation/field.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_status.h"

static void status_init(struct ks_status *, int, const char *);
static void fmt(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* snprintf that may truncate on purpose (messages are bounded). */
static void
fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
}
static void qualified(char *, size_t, const char *, const char *);

static void
status_init(struct ks_status *st, int code, const char *reason)
{
	memset(st, 0, sizeof(*st));
	st->code = code;
	st->reason = reason;
}

/* "deployments.apps" or "configmaps" for the core group. */
static void
qualified(char *buf, size_t len, const char *what, const char *group)
{
	if (group == NULL || group[0] == '\0')
		snprintf(buf, len, "%s", what);
	else
		snprintf(buf, len, "%s.%s", what, group);
}

static void
details_named(struct ks_status *st, const char *resource, const char *group,
    const char *name)
{
	st->details = 1;
	snprintf(st->name, sizeof(st->name), "%s", name ? name : "");
	snprintf(st->group, sizeof(st->group), "%s", group ? group : "");
	snprintf(st->kind, sizeof(st->kind), "%s", resource ? resource : "");
}

void
ks_status_not_found(struct ks_status *st, const char *resource,
    const char *group, const char *name)
{
	char q[128];

	status_init(st, 404, "NotFound");
	qualified(q, sizeof(q), resource, group);
	snprintf(
	    st->message, sizeof(st->message), "%s \"%s\" not found", q, name);
	details_named(st, resource, group, name);
}

void
ks_status_already_exists(struct ks_status *st, const char *resource,
    const char *group, const char *name)
{
	char q[128];

	status_init(st, 409, "AlreadyExists");
	qualified(q, sizeof(q), resource, group);
	snprintf(st->message, sizeof(st->message), "%s \"%s\" already exists",
	    q, name);
	details_named(st, resource, group, name);
}

void
ks_status_conflict(struct ks_status *st, const char *resource,
    const char *group, const char *name)
{
	char q[128];

	status_init(st, 409, "Conflict");
	qualified(q, sizeof(q), resource, group);
	snprintf(st->message, sizeof(st->message),
	    "Operation cannot be fulfilled on %s \"%s\": the object has been "
	    "modified; please apply your changes to the latest version and "
	    "try again",
	    q, name);
	details_named(st, resource, group, name);
}

/* Start a 422 Invalid for Kind.group "name"; add causes next. */
void
ks_status_invalid(
    struct ks_status *st, const char *kind, const char *group, const char *name)
{
	status_init(st, 422, "Invalid");
	details_named(st, kind, group, name);
}

/*
 * Add a field error; rebuilds the message as the API server does:
 * `Kind.group "name" is invalid: <err>` with several errors as
 * `[<err>, <err>]`.  value is already formatted (quoted if a string).
 */
int
ks_status_add_cause(struct ks_status *st, enum ks_cause_type t,
    const char *field, const char *value, const char *detail)
{
	struct ks_status_cause *c;
	char q[128], errs[900];
	size_t off = 0;
	int i;

	if (st->ncauses >= KS_STATUS_MAX_CAUSES)
		return -1;
	c = &st->causes[st->ncauses++];
	snprintf(c->field, sizeof(c->field), "%s", field);
	switch (t) {
	case KS_CAUSE_INVALID:
		snprintf(c->reason, sizeof(c->reason), "FieldValueInvalid");
		snprintf(c->message, sizeof(c->message),
		    "Invalid value: %s: %s", value, detail);
		break;
	case KS_CAUSE_REQUIRED:
		snprintf(c->reason, sizeof(c->reason), "FieldValueRequired");
		snprintf(c->message, sizeof(c->message), "Required value%s%s",
		    detail[0] ? ": " : "", detail);
		break;
	case KS_CAUSE_FORBIDDEN:
		snprintf(c->reason, sizeof(c->reason), "FieldValueForbidden");
		snprintf(
		    c->message, sizeof(c->message), "Forbidden: %s", detail);
		break;
	case KS_CAUSE_NOT_SUPPORTED:
		snprintf(
		    c->reason, sizeof(c->reason), "FieldValueNotSupported");
		snprintf(c->message, sizeof(c->message),
		    "Unsupported value: %s: supported values: %s", value,
		    detail);
		break;
	case KS_CAUSE_PLAIN:
		snprintf(c->reason, sizeof(c->reason), "%s", value);
		snprintf(c->message, sizeof(c->message), "%s", detail);
		break;
	}
	errs[0] = '\0';
	if (st->ncauses > 1)
		off += (size_t)snprintf(errs, sizeof(errs), "[");
	for (i = 0; i < st->ncauses && off < sizeof(errs); i++) {
		off += (size_t)snprintf(errs + off, sizeof(errs) - off,
		    "%s%s: %s", i > 0 ? ", " : "", st->causes[i].field,
		    st->causes[i].message);
	}
	if (st->ncauses > 1 && off < sizeof(errs))
		snprintf(errs + off, sizeof(errs) - off, "]");
	qualified(q, sizeof(q), st->kind, st->group);
	fmt(st->message, sizeof(st->message), "%s \"%s\" is invalid: %s", q,
	    st->name, errs);
	return 0;
}

void
ks_status_bad_request(struct ks_status *st, const char *fmt, ...)
{
	va_list ap;

	status_init(st, 400, "BadRequest");
	va_start(ap, fmt);
	vsnprintf(st->message, sizeof(st->message), fmt, ap);
	va_end(ap);
}

void
ks_status_unauthorized(struct ks_status *st)
{
	status_init(st, 401, "Unauthorized");
	snprintf(st->message, sizeof(st->message), "Unauthorized");
}

/*
 * `<resource>.<group> ["<name>" ]is forbidden: User "<user>" cannot <verb>
 * resource "<resource>[/<sub>]" in API group "<group>" in the namespace
 * "<ns>"` (or "at the cluster scope").
 */
void
ks_status_forbidden(struct ks_status *st, const char *user, const char *verb,
    const char *resource, const char *sub, const char *group, const char *ns,
    const char *name)
{
	char q[128], named[300], res[128], scope[160];

	status_init(st, 403, "Forbidden");
	qualified(q, sizeof(q), resource, group);
	if (name != NULL && name[0] != '\0')
		snprintf(named, sizeof(named), " \"%s\"", name);
	else
		named[0] = '\0';
	if (sub != NULL && sub[0] != '\0')
		snprintf(res, sizeof(res), "%s/%s", resource, sub);
	else
		snprintf(res, sizeof(res), "%s", resource);
	if (ns != NULL && ns[0] != '\0')
		snprintf(scope, sizeof(scope), "in the namespace \"%s\"", ns);
	else
		snprintf(scope, sizeof(scope), "at the cluster scope");
	snprintf(st->message, sizeof(st->message),
	    "%s%s is forbidden: User \"%s\" cannot %s resource \"%s\" in API "
	    "group \"%s\" %s",
	    q, named, user, verb, res, group ? group : "", scope);
	details_named(st, resource, group, name);
}

void
ks_status_method_not_allowed(struct ks_status *st)
{
	status_init(st, 405, "MethodNotAllowed");
	snprintf(st->message, sizeof(st->message),
	    "the server does not allow this method on the requested "
	    "resource");
	st->details = 1;
}

void
ks_status_unsupported_media(struct ks_status *st, const char *accepted)
{
	status_init(st, 415, "UnsupportedMediaType");
	snprintf(st->message, sizeof(st->message),
	    "the body of the request was in an unknown format - accepted "
	    "media types include: %s",
	    accepted);
}

void
ks_status_too_large(struct ks_status *st, long limit)
{
	status_init(st, 413, "RequestEntityTooLarge");
	snprintf(st->message, sizeof(st->message),
	    "Request entity too large: limit is %ld", limit);
}

void
ks_status_expired(struct ks_status *st, const char *msg)
{
	status_init(st, 410, "Expired");
	snprintf(st->message, sizeof(st->message), "%s", msg);
}

void
ks_status_rv_too_large(
    struct ks_status *st, unsigned long long rv, unsigned long long cur)
{
	status_init(st, 504, "Timeout");
	snprintf(st->message, sizeof(st->message),
	    "Too large resource version: %llu, current: %llu", rv, cur);
	st->details = 1;
	st->ncauses = 1;
	snprintf(st->causes[0].reason, sizeof(st->causes[0].reason),
	    "ResourceVersionTooLarge");
	snprintf(st->causes[0].message, sizeof(st->causes[0].message),
	    "Too large resource version");
	st->retry_after = 1;
}

void
ks_status_internal(struct ks_status *st, const char *err)
{
	status_init(st, 500, "InternalError");
	snprintf(st->message, sizeof(st->message),
	    "Internal error occurred: %s", err);
	st->details = 1;
	st->ncauses = 1;
	snprintf(
	    st->causes[0].message, sizeof(st->causes[0].message), "%s", err);
}

void
ks_status_unavailable(struct ks_status *st, const char *msg)
{
	status_init(st, 503, "ServiceUnavailable");
	snprintf(st->message, sizeof(st->message), "%s", msg);
}

void
ks_status_timeout(struct ks_status *st)
{
	status_init(st, 504, "Timeout");
	snprintf(st->message, sizeof(st->message),
	    "Timeout: request did not complete within requested timeout - "
	    "context deadline exceeded");
	st->details = 1;
}

void
ks_status_deleted(struct ks_status *st, const char *resource, const char *group,
    const char *name, const char *uid)
{
	status_init(st, 200, NULL);
	st->success = 1;
	details_named(st, resource, group, name);
	snprintf(st->uid, sizeof(st->uid), "%s", uid ? uid : "");
}

int
ks_status_gen(yajl_gen g, const struct ks_status *st)
{
	const struct ks_status_cause *c;
	int i;

	if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    ks_gen_kstr(g, "kind", "Status") != 0 ||
	    ks_gen_kstr(g, "apiVersion", "v1") != 0 ||
	    ks_gen_str(g, "metadata") != 0 ||
	    yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok ||
	    ks_gen_kstr(g, "status", st->success ? "Success" : "Failure") != 0)
		return -1;
	if (st->message[0] != '\0' &&
	    ks_gen_kstr(g, "message", st->message) != 0)
		return -1;
	if (st->reason != NULL && ks_gen_kstr(g, "reason", st->reason) != 0)
		return -1;
	if (st->details || st->ncauses > 0 || st->retry_after > 0) {
		if (ks_gen_str(g, "details") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok)
			return -1;
		if (st->name[0] && ks_gen_kstr(g, "name", st->name) != 0)
			return -1;
		if (st->group[0] && ks_gen_kstr(g, "group", st->group) != 0)
			return -1;
		if (st->kind[0] && ks_gen_kstr(g, "kind", st->kind) != 0)
			return -1;
		if (st->uid[0] && ks_gen_kstr(g, "uid", st->uid) != 0)
			return -1;
		if (st->ncauses > 0) {
			if (ks_gen_str(g, "causes") != 0 ||
			    yajl_gen_array_open(g) != yajl_gen_status_ok)
				return -1;
			for (i = 0; i < st->ncauses; i++) {
				c = &st->causes[i];
				if (yajl_gen_map_open(g) != yajl_gen_status_ok)
					return -1;
				if (c->reason[0] &&
				    ks_gen_kstr(g, "reason", c->reason) != 0)
					return -1;
				if (c->message[0] &&
				    ks_gen_kstr(g, "message", c->message) != 0)
					return -1;
				if (c->field[0] &&
				    ks_gen_kstr(g, "field", c->field) != 0)
					return -1;
				if (yajl_gen_map_close(g) != yajl_gen_status_ok)
					return -1;
			}
			if (yajl_gen_array_close(g) != yajl_gen_status_ok)
				return -1;
		}
		if (st->retry_after > 0 &&
		    ks_gen_kint(g, "retryAfterSeconds", st->retry_after) != 0)
			return -1;
		if (yajl_gen_map_close(g) != yajl_gen_status_ok)
			return -1;
	}
	if (!st->success && ks_gen_kint(g, "code", st->code) != 0)
		return -1;
	if (yajl_gen_map_close(g) != yajl_gen_status_ok)
		return -1;
	return 0;
}
