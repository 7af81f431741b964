/*
 * ks_api.c — routing and handlers for the Kubernetes API paths.
 *
 * Untrusted input everywhere here: path segments are length- and
 * charset-checked before use, bodies are size-capped and parsed by the
 * bounded ks_json parser, query parameters go through ks_query.  Every
 * error is a Status with the API server's reason and message.  Answers
 * are plain JSON (no server-side Table printing: kubectl falls back to
 * its own columns).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "tests/kube-sim/ks_admin.h"
#include "tests/kube-sim/ks_api.h"
#include "tests/kube-sim/ks_disc.h"
#include "tests/kube-sim/ks_http.h"
#include "tests/kube-sim/ks_jpatch.h"
#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_pb.h"
#include "tests/kube-sim/ks_query.h"
#include "tests/kube-sim/ks_schema.h"
#include "tests/kube-sim/ks_server.h"
#include "tests/kube-sim/ks_smp.h"
#include "tests/kube-sim/ks_ssa.h"
#include "tests/kube-sim/ks_status.h"
#include "tests/kube-sim/ks_store.h"
#include "tests/kube-sim/ks_table.h"
#include "tests/kube-sim/ks_watch.h"
#include "tests/kube-sim/log.h"

#define PATCH_TYPES                                                   \
	"application/json-patch+json, application/merge-patch+json, " \
	"application/strategic-merge-patch+json, "                    \
	"application/apply-patch+yaml"
#define BODY_TYPES                             \
	"application/json, application/yaml, " \
	"application/vnd.kubernetes.protobuf"

static const char *const public_paths[] = {
    "/healthz", "/livez", "/readyz", "/version", "/version/", NULL};

int
ks_api_public_path(const char *path)
{
	int i;

	for (i = 0; public_paths[i] != NULL; i++) {
		if (strcmp(path, public_paths[i]) == 0)
			return 1;
	}
	return strncmp(path, "/healthz/", 9) == 0 ||
	    strncmp(path, "/livez/", 7) == 0 ||
	    strncmp(path, "/readyz/", 8) == 0;
}

static int
safe_segment(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		        c == '_' || c == ':'))
			return 0;
	}
	return 1;
}

/* Split path into at most KS_MAX_SEGMENTS segments; -1 if unsafe. */
static int
split_path(const char *path, char seg[][KS_MAX_NAME + 1], int *n)
{
	const char *p = path, *e;
	size_t len;

	*n = 0;
	while (*p == '/')
		p++;
	while (*p != '\0') {
		e = strchr(p, '/');
		len = e ? (size_t)(e - p) : strlen(p);
		if (*n >= KS_MAX_SEGMENTS || len > KS_MAX_NAME ||
		    !safe_segment(p, len))
			return -1;
		memcpy(seg[*n], p, len);
		seg[*n][len] = '\0';
		(*n)++;
		p += len;
		while (*p == '/')
			p++;
	}
	return 0;
}

void
ks_api_route(struct evhttp_request *req, struct ks_route *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	char seg[KS_MAX_SEGMENTS][KS_MAX_NAME + 1], w[16];
	const char *group, *version;
	int n, i, has_name;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);

	memset(r, 0, sizeof(*r));
	r->path = path ? path : "/";
	r->verb = m == EVHTTP_REQ_GET ? "get"
	    : m == EVHTTP_REQ_POST    ? "post"
	    : m == EVHTTP_REQ_PUT     ? "put"
	    : m == EVHTTP_REQ_PATCH   ? "patch"
	    : m == EVHTTP_REQ_DELETE  ? "delete"
	    : m == EVHTTP_REQ_HEAD    ? "head"
	                              : "other";
	if (path == NULL || strlen(path) > KS_MAX_PATH ||
	    split_path(path, seg, &n) != 0)
		return;
	if (n >= 2 && strcmp(seg[0], "api") == 0 && strcmp(seg[1], "v1") == 0) {
		group = "";
		version = "v1";
		i = 2;
	} else if (n >= 3 && strcmp(seg[0], "apis") == 0) {
		group = seg[1];
		version = seg[2];
		i = 3;
	} else
		return;
	if (i == n)
		return; /* discovery document */
	r->resource = 1;
	if (n - i >= 3 && strcmp(seg[i], "namespaces") == 0) {
		if (strlen(seg[i + 1]) > KS_MAX_NAMESPACE)
			return;
		snprintf(r->ns, sizeof(r->ns), "%s", seg[i + 1]);
		i += 2;
	}
	if (r->ns[0] == '\0' && n - i == 1 && strcmp(version, "v1") == 0) {
		if (strcmp(group, "authorization.k8s.io") == 0 &&
		    strcmp(seg[i], "selfsubjectaccessreviews") == 0)
			r->review = KS_REVIEW_SSAR;
		else if (strcmp(group, "authentication.k8s.io") == 0 &&
		    strcmp(seg[i], "selfsubjectreviews") == 0)
			r->review = KS_REVIEW_SSR;
		if (r->review != KS_REVIEW_NONE) {
			if (m == EVHTTP_REQ_POST)
				r->verb = "create";
			return;
		}
	}
	if (ks_kind_by_resource(group, seg[i], &r->kind) != 0 ||
	    strcmp(version, ks_kind_info(r->kind)->version) != 0)
		return;
	has_name = n - i >= 2;
	if (has_name)
		snprintf(r->name, sizeof(r->name), "%s", seg[i + 1]);
	if (n - i >= 3) {
		if (n - i > 3 || r->kind != KS_KIND_DEPLOYMENT ||
		    (strcmp(seg[i + 2], "scale") != 0 &&
		        strcmp(seg[i + 2], "status") != 0))
			return;
		snprintf(r->sub, sizeof(r->sub), "%s", seg[i + 2]);
	}
	/* Namespaced kinds: names only inside a namespace. */
	if (has_name && r->ns[0] == '\0')
		return;
	r->known = 1;
	switch (m) {
	case EVHTTP_REQ_GET:
		if (has_name)
			r->verb = "get";
		else if (ks_query_get(query, "watch", w, sizeof(w)) == 1 &&
		    ks_query_bool(w))
			r->verb = "watch";
		else
			r->verb = "list";
		break;
	case EVHTTP_REQ_POST:
		r->verb = "create";
		break;
	case EVHTTP_REQ_PUT:
		r->verb = "update";
		break;
	case EVHTTP_REQ_PATCH:
		r->verb = "patch";
		break;
	case EVHTTP_REQ_DELETE:
		r->verb = has_name ? "delete" : "deletecollection";
		break;
	default:
		break;
	}
}

/* ---- helpers ---------------------------------------------------------- */

static void
reply_obj(struct evhttp_request *req, int code, const struct ks_obj *o)
{
	struct ks_status st;
	yajl_gen g;

	if ((g = ks_gen_new()) == NULL || ks_obj_gen(g, o, 1) != 0) {
		if (g != NULL)
			yajl_gen_free(g);
		ks_status_internal(&st, "encoding failed");
		ks_http_reply_status(req, &st);
		return;
	}
	ks_http_reply_gen(req, code, g);
	yajl_gen_free(g);
}

static void
reply_scale(struct evhttp_request *req, const struct ks_obj *o)
{
	struct ks_status st;
	yajl_gen g;

	if ((g = ks_gen_new()) == NULL || ks_obj_gen_scale(g, o) != 0) {
		if (g != NULL)
			yajl_gen_free(g);
		ks_status_internal(&st, "encoding failed");
		ks_http_reply_status(req, &st);
		return;
	}
	ks_http_reply_gen(req, 200, g);
	yajl_gen_free(g);
}

static void
reply_not_found(struct evhttp_request *req, enum ks_kind k, const char *name)
{
	struct ks_status st;
	const struct ks_kind_info *ki = ks_kind_info(k);

	ks_status_not_found(&st, ki->resource, ki->group, name);
	ks_http_reply_status(req, &st);
}

static int
media_is(const char *ctype, const char *want)
{
	size_t n = strlen(want);

	if (ctype == NULL)
		return 0;
	while (*ctype == ' ')
		ctype++;
	return strncasecmp(ctype, want, n) == 0 &&
	    (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

/*
 * Read the request body as JSON.  Returns the tree, or NULL after
 * answering (413 too large, 400 malformed).
 */
static struct ks_json *
read_body(struct evhttp_request *req, struct ks_json_dups *dups)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	struct ks_status st;
	struct ks_json *doc;
	enum ks_json_err err;
	const unsigned char *p;
	char msg[256];

	if (len > KS_MAX_BODY) {
		ks_status_too_large(&st, KS_MAX_BODY);
		ks_http_reply_status(req, &st);
		return NULL;
	}
	p = len > 0 ? evbuffer_pullup(in, (ev_ssize_t)len) : NULL;
	doc = ks_json_parse_dups(
	    p ? (const void *)p : "", len, &err, msg, sizeof(msg), dups);
	if (doc == NULL) {
		if (err == KS_JSON_ENOMEM) {
			ks_status_internal(&st, "out of memory");
		} else if (err == KS_JSON_ESYNTAX) {
			ks_status_bad_request(
			    &st, "error decoding body: invalid JSON: %s", msg);
		} else {
			ks_status_bad_request(&st, "error decoding body: %s",
			    ks_json_strerror(err));
		}
		ks_http_reply_status(req, &st);
	}
	return doc;
}

static const char *
header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

/* The kind ks_pb decodes for a write to this resource (NULL: JSON only). */
static const char *
pb_kind(enum ks_kind k)
{
	return k == KS_KIND_DEPLOYMENT ? "Deployment"
	    : k == KS_KIND_CONFIGMAP   ? "ConfigMap"
	                               : NULL;
}

/*
 * The body of a write as a JSON tree: application/json, or protobuf when
 * pb_kind names the kind the endpoint takes (NULL: JSON only).  NULL after
 * answering 415, 413 or 400.
 */
static struct ks_json *
read_object(
    struct evhttp_request *req, const char *pb_kind, struct ks_json_dups *dups)
{
	const char *ct = header(req, "Content-Type");
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	struct ks_status st;
	struct ks_json *doc;
	const unsigned char *p;
	char msg[256];

	if (dups != NULL)
		dups->n = 0;
	if (pb_kind != NULL && media_is(ct, KS_PB_MEDIA)) {
		if (len > KS_MAX_BODY) {
			ks_status_too_large(&st, KS_MAX_BODY);
			ks_http_reply_status(req, &st);
			return NULL;
		}
		p = len > 0 ? evbuffer_pullup(in, (ev_ssize_t)len) : NULL;
		doc = ks_pb_decode(
		    p ? (const void *)p : "", len, pb_kind, msg, sizeof(msg));
		if (doc == NULL) {
			ks_status_bad_request(&st, "%s", msg);
			ks_http_reply_status(req, &st);
		}
		return doc;
	}
	if (!media_is(ct, "application/json")) {
		ks_status_unsupported_media(&st, BODY_TYPES);
		ks_http_reply_status(req, &st);
		return NULL;
	}
	return read_body(req, dups);
}

/*
 * Table printing for this read: 1 with *inc set, 0 plain JSON, -1 after
 * answering 400 (a bad includeObject).
 */
static int
want_table(struct evhttp_request *req, const struct ks_route *r,
    enum ks_table_include *inc)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct ks_status st;
	char v[32];
	int got;

	*inc = KS_TABLE_METADATA;
	if (!ks_table_supported(r->kind) ||
	    !ks_table_wanted(header(req, "Accept")))
		return 0;
	got = ks_query_get(query, "includeObject", v, sizeof(v));
	if (got < 0 || (got == 1 && ks_table_include(v, inc) != 0)) {
		ks_status_bad_request(&st,
		    "includeObject: Unsupported value: \"%.31s\": supported "
		    "values: \"None\", \"Metadata\", \"Object\"",
		    got == 1 ? v : "");
		ks_http_reply_status(req, &st);
		return -1;
	}
	return 1;
}

/* One object as a Table of one row; metadata.resourceVersion is its. */
static void
reply_table_obj(struct evhttp_request *req, const struct ks_obj *o,
    enum ks_table_include inc)
{
	struct ks_status st;
	yajl_gen g;
	char rvs[32];

	snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)o->rv);
	if ((g = ks_gen_new()) == NULL || ks_table_open(g) != 0 ||
	    ks_gen_str(g, "metadata") != 0 ||
	    yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    ks_gen_kstr(g, "resourceVersion", rvs) != 0 ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok ||
	    ks_table_columns(g, o->kind) != 0 ||
	    ks_table_row(g, o, inc, time(NULL)) != 0 ||
	    yajl_gen_array_close(g) != yajl_gen_status_ok ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok) {
		if (g != NULL)
			yajl_gen_free(g);
		ks_status_internal(&st, "encoding failed");
		ks_http_reply_status(req, &st);
		return;
	}
	ks_http_reply_gen(req, 200, g);
	yajl_gen_free(g);
}

/* ---- fieldValidation ---------------------------------------------------- */

enum field_validation { FV_WARN = 0, FV_STRICT, FV_IGNORE };

/*
 * The fieldValidation query parameter (absent: Warn, the server default).
 * -1 after answering 422 for another value, as ValidateCreateOptions &
 * co. do (opts: "CreateOptions", "UpdateOptions", "PatchOptions").
 */
static int
field_validation(
    struct evhttp_request *req, const char *opts, enum field_validation *fv)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct ks_status st;
	char v[32], shown[48];
	int got = ks_query_get(query, "fieldValidation", v, sizeof(v));

	*fv = FV_WARN;
	if (got == 0 || (got == 1 && (v[0] == '\0' || strcmp(v, "Warn") == 0)))
		return 0;
	if (got == 1 && strcmp(v, "Strict") == 0) {
		*fv = FV_STRICT;
		return 0;
	}
	if (got == 1 && strcmp(v, "Ignore") == 0) {
		*fv = FV_IGNORE;
		return 0;
	}
	snprintf(shown, sizeof(shown), "\"%s\"", got == 1 ? v : "");
	ks_status_invalid(&st, opts, "meta.k8s.io", "");
	ks_status_add_cause(&st, KS_CAUSE_NOT_SUPPORTED, "fieldValidation",
	    shown, "\"Ignore\", \"Strict\", \"Warn\"");
	ks_http_reply_status(req, &st);
	return -1;
}

/*
 * Unknown (from the schema) and duplicate (from the parser) fields of a
 * decoded document: Strict answers 400 with the strict decoder's text,
 * Warn adds one "Warning: 299 - ..." header per field, Ignore nothing;
 * unless answered, unknown fields are removed from doc.
 * 0 go on, -1 answered.
 */
static int
check_fields(struct evhttp_request *req, enum field_validation fv,
    enum ks_kind k, enum ks_schema_doc d, struct ks_json *doc,
    const struct ks_json_dups *dups)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *kind =
	    d == KS_SCHEMA_SCALE ? "Scale" : ks_kind_info(k)->kind;
	struct ks_schema_errs e;
	struct ks_status st;
	char msg[sizeof(st.message)], one[320];
	size_t off;
	int i, nd;

	/* Unknown fields never reach the store (the typed decode drops
	 * them); Strict rejects the request first. */
	ks_schema_unknown(k, d, doc, fv != FV_STRICT, &e);
	if (fv == FV_IGNORE)
		return 0;
	nd = dups ? dups->n : 0;
	if (e.n == 0 && nd == 0)
		return 0;
	if (fv == FV_WARN) {
		for (i = 0; i < e.n && i < KS_SCHEMA_MAX_ERRS; i++) {
			snprintf(one, sizeof(one),
			    "299 - \"unknown field \\\"%s\\\"\"", e.path[i]);
			evhttp_add_header(h, "Warning", one);
		}
		for (i = 0; i < nd && i < KS_JSON_MAX_DUPS; i++) {
			snprintf(one, sizeof(one),
			    "299 - \"duplicate field \\\"%s\\\"\"",
			    dups->path[i]);
			evhttp_add_header(h, "Warning", one);
		}
		return 0;
	}
	off = (size_t)snprintf(msg, sizeof(msg),
	    "%s in version \"v1\" cannot be handled as a %s: strict decoding "
	    "error: ",
	    kind, kind);
	for (i = 0; i < e.n && i < KS_SCHEMA_MAX_ERRS && off < sizeof(msg); i++)
		off += (size_t)snprintf(msg + off, sizeof(msg) - off,
		    "%sunknown field \"%s\"", i ? ", " : "", e.path[i]);
	for (i = 0; i < nd && i < KS_JSON_MAX_DUPS && off < sizeof(msg); i++)
		off += (size_t)snprintf(msg + off, sizeof(msg) - off,
		    "%sduplicate field \"%s\"", i || e.n ? ", " : "",
		    dups->path[i]);
	ks_status_bad_request(&st, "%s", msg);
	ks_http_reply_status(req, &st);
	return -1;
}

/*
 * The dryRun parameter of a write: absent or empty → a real write, "All"
 * → r->dry.  Another value is what ValidateDryRun rejects, wrapped by the
 * handler as NewInvalid of the verb's options kind: 422 `CreateOptions.
 * meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"x"}:
 * supported values: "All"` (the value is the Go %#v of the []string).
 * 0, or -1 after answering.  Reads never look at it, as the server.
 */
static int
dry_run(struct evhttp_request *req, struct ks_route *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	const char *opts = strcmp(r->verb, "create") == 0 ? "CreateOptions"
	    : strcmp(r->verb, "update") == 0              ? "UpdateOptions"
	    : strcmp(r->verb, "patch") == 0               ? "PatchOptions"
	    : strcmp(r->verb, "delete") == 0              ? "DeleteOptions"
	                                                  : NULL;
	struct ks_status st;
	char v[64], shown[96];
	int got;

	r->dry = 0;
	if (opts == NULL)
		return 0;
	got = ks_query_get(query, "dryRun", v, sizeof(v));
	if (got == 0 || (got == 1 && v[0] == '\0'))
		return 0;
	if (got == 1 && strcmp(v, "All") == 0) {
		r->dry = 1;
		return 0;
	}
	snprintf(shown, sizeof(shown), "[]string{\"%s\"}", got == 1 ? v : "");
	ks_status_invalid(&st, opts, "meta.k8s.io", "");
	ks_status_add_cause(
	    &st, KS_CAUSE_NOT_SUPPORTED, "dryRun", shown, "\"All\"");
	ks_http_reply_status(req, &st);
	return -1;
}

/* metadata.resourceVersion precondition: 0 ok, -1 answered 409/400. */
static int
check_precondition(struct evhttp_request *req, const struct ks_obj *cur,
    const struct ks_json *body)
{
	const struct ks_json *v =
	    ks_json_getp(body, "metadata.resourceVersion");
	const struct ks_kind_info *ki = ks_kind_info(cur->kind);
	struct ks_status st;
	char rv[32];

	if (v == NULL || v->type == KS_JSON_NULL ||
	    (v->type == KS_JSON_STRING && v->len == 0))
		return 0;
	snprintf(rv, sizeof(rv), "%llu", (unsigned long long)cur->rv);
	if (v->type != KS_JSON_STRING) {
		ks_status_bad_request(&st,
		    "json: cannot unmarshal value into Go struct field "
		    "ObjectMeta.metadata.resourceVersion of type string");
		ks_http_reply_status(req, &st);
		return -1;
	}
	if (strcmp(v->val, rv) != 0) {
		ks_status_conflict(&st, ki->resource, ki->group, cur->name);
		ks_http_reply_status(req, &st);
		return -1;
	}
	return 0;
}

/*
 * The field manager of a write: the fieldManager parameter, else the
 * User-Agent up to its first "/" (the API server's default), at most 128
 * bytes.  0, or -1 after answering 422 for an invalid parameter.
 */
static int
field_manager(
    struct evhttp_request *req, const char *opts, char *buf, size_t len)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	const char *ua = header(req, "User-Agent");
	struct ks_status st;
	size_t i, n;
	int got = ks_query_get(query, "fieldManager", buf, len);

	if (got == 1 && buf[0] != '\0') {
		for (i = 0; buf[i] != '\0'; i++) {
			if ((unsigned char)buf[i] < 0x20 ||
			    (unsigned char)buf[i] > 0x7e)
				break;
		}
		if (i <= 128 && buf[i] == '\0')
			return 0;
	}
	if (got < 0 || got == 1) {
		ks_status_invalid(&st, opts, "meta.k8s.io", "");
		ks_status_add_cause(&st, KS_CAUSE_INVALID, "fieldManager",
		    "\"...\"",
		    "must consist of printable characters, at most 128");
		ks_http_reply_status(req, &st);
		return -1;
	}
	n = ua ? strcspn(ua, "/") : 0;
	if (n == 0 || n >= len || n > 128) {
		snprintf(buf, len, "unknown");
		return 0;
	}
	memcpy(buf, ua, n);
	buf[n] = '\0';
	for (i = 0; i < n; i++) {
		if ((unsigned char)buf[i] < 0x20 ||
		    (unsigned char)buf[i] > 0x7e)
			buf[i] = '_';
	}
	return 0;
}

/* Commit next (taken); answer with the stored object or the scale.  A
 * write that is not an apply records its field manager (managedFields). */
static void
commit_and_reply(struct ks_server *srv, struct evhttp_request *req,
    struct ks_obj *next, int scale, int dry)
{
	struct ks_status st;
	struct ks_obj *o, *cur;
	char ns[KS_MAX_NAMESPACE + 1], name[KS_MAX_NAME + 1], mgr[160];
	enum ks_kind k = next->kind;

	snprintf(ns, sizeof(ns), "%s", next->ns);
	snprintf(name, sizeof(name), "%s", next->name);
	cur = ks_store_get(srv->store, k, ns, name);
	if (field_manager(req,
	        strcmp(ks_http_method(req), "PUT") == 0 ? "UpdateOptions"
	                                                : "PatchOptions",
	        mgr, sizeof(mgr)) != 0) {
		ks_obj_unref(next);
		return;
	}
	if (ks_ssa_record_update(cur ? cur->doc : NULL, next->doc, mgr,
	        scale ? "scale" : "", ks_kind_info(k)->api_version,
	        time(NULL)) != 0 ||
	    ks_obj_refresh(next) != 0) {
		ks_obj_unref(next);
		ks_status_internal(&st, "out of memory");
		ks_http_reply_status(req, &st);
		return;
	}
	if (dry) {
		/* The object as the write would leave it, resourceVersion
		 * still the stored one; no commit, so no RV and no event. */
		if (scale)
			reply_scale(req, next);
		else
			reply_obj(req, 200, next);
		ks_obj_unref(next);
		return;
	}
	if (ks_store_update(srv->store, next) < 0) {
		ks_status_internal(&st, "update failed");
		ks_http_reply_status(req, &st);
		return;
	}
	if ((o = ks_store_get(srv->store, k, ns, name)) == NULL) {
		reply_not_found(req, k, name);
		return;
	}
	if (scale)
		reply_scale(req, o);
	else
		reply_obj(req, 200, o);
}

/* ---- handlers ---------------------------------------------------------- */

static void
handle_list(struct ks_server *srv, struct evhttp_request *req,
    const struct ks_route *r, struct ks_query *q)
{
	const struct ks_kind_info *ki = ks_kind_info(r->kind);
	struct ks_store *s = srv->store;
	struct ks_status st;
	struct ks_obj *o, *last = NULL;
	yajl_gen g = NULL;
	uint64_t cur = ks_store_rv(s), oldest = ks_store_oldest(s), list_rv;
	size_t i, n, emitted = 0, remaining = 0;
	char rvs[32], *tok = NULL;
	int more = 0, table;
	enum ks_table_include inc;
	time_t now = time(NULL);

	if ((table = want_table(req, r, &inc)) < 0)
		return;
	if (q->has_rv && q->rv > cur &&
	    ks_server_wait_rv(srv, req, q->rv, KS_RV_TOO_LARGE_WAIT_MS) == 0)
		return; /* held until the RV exists or the wait ends */
	if (q->has_rv && q->rv > cur) {
		ks_status_rv_too_large(
		    &st, (unsigned long long)q->rv, (unsigned long long)cur);
		ks_http_reply_status(req, &st);
		return;
	}
	if (q->has_rv && q->rv != 0 && q->rv < oldest &&
	    (q->rv_match == KS_RVM_EXACT ||
	        (q->rv_match == KS_RVM_NONE && q->has_limit))) {
		ks_status_expired(&st,
		    "The resourceVersion for the provided list is too old.");
		ks_http_reply_status(req, &st);
		return;
	}
	if (q->has_continue && q->cont_rv < oldest) {
		ks_status_expired(&st,
		    "The provided continue parameter is too old to display a "
		    "consistent list result. You can start a new list without "
		    "the continue parameter, or use the continue token in "
		    "this response to retrieve the remainder of the results. "
		    "Continuing with the provided token results in an "
		    "inconsistent list - objects that were created, modified, "
		    "or deleted between the time the first chunk was returned "
		    "and now may show up in the list.");
		ks_http_reply_status(req, &st);
		return;
	}
	list_rv = q->has_continue ? q->cont_rv : cur;
	n = ks_store_count(s, r->kind);
	i = 0;
	if (q->has_continue) {
		char *slash = strchr(q->cont_start, '/');

		*slash = '\0';
		i = ks_store_lower_bound(s, r->kind, q->cont_start, slash + 1);
		if (i < n &&
		    strcmp(ks_store_at(s, r->kind, i)->ns, q->cont_start) ==
		        0 &&
		    strcmp(ks_store_at(s, r->kind, i)->name, slash + 1) == 0)
			i++;
		*slash = '/';
	} else if (r->ns[0] != '\0') {
		i = ks_store_lower_bound(s, r->kind, r->ns, "");
	}
	if ((g = ks_gen_new()) == NULL)
		goto nomem;
	snprintf(rvs, sizeof(rvs), "%llu", (unsigned long long)list_rv);
	if (table ? ks_table_open(g) != 0
	          : (yajl_gen_map_open(g) != yajl_gen_status_ok ||
	                ks_gen_kstr(g, "kind", ki->list_kind) != 0 ||
	                ks_gen_kstr(g, "apiVersion", ki->api_version) != 0))
		goto nomem;
	/* Items first into a second generator would double the memory;
	 * instead: count what fits, then write metadata, then items. */
	{
		size_t j, start = i;

		for (j = start; j < n; j++) {
			o = ks_store_at(s, r->kind, j);
			if (r->ns[0] && strcmp(o->ns, r->ns) != 0)
				break;
			if ((q->has_fields &&
			        !ks_selector_match_fields(
			            &q->fields, o->ns, o->name)) ||
			    (q->has_labels &&
			        !ks_selector_match_labels(
			            &q->labels, ks_obj_labels(o))))
				continue;
			if (q->has_limit && emitted == (size_t)q->limit) {
				more = 1;
				remaining++;
				continue;
			}
			emitted++;
			last = o;
		}
		if (more && last != NULL &&
		    (tok = ks_query_continue_encode(
		         list_rv, last->ns, last->name)) == NULL)
			goto nomem;
		if (ks_gen_str(g, "metadata") != 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    ks_gen_kstr(g, "resourceVersion", rvs) != 0)
			goto nomem;
		if (tok != NULL && ks_gen_kstr(g, "continue", tok) != 0)
			goto nomem;
		if (tok != NULL && !q->has_labels && !q->has_fields &&
		    ks_gen_kint(
		        g, "remainingItemCount", (long long)remaining) != 0)
			goto nomem;
		if (yajl_gen_map_close(g) != yajl_gen_status_ok)
			goto nomem;
		if (table ? ks_table_columns(g, r->kind) != 0
		          : (ks_gen_str(g, "items") != 0 ||
		                yajl_gen_array_open(g) != yajl_gen_status_ok))
			goto nomem;
		emitted = 0;
		for (j = start; j < n && last != NULL; j++) {
			o = ks_store_at(s, r->kind, j);
			if (r->ns[0] && strcmp(o->ns, r->ns) != 0)
				break;
			if ((q->has_fields &&
			        !ks_selector_match_fields(
			            &q->fields, o->ns, o->name)) ||
			    (q->has_labels &&
			        !ks_selector_match_labels(
			            &q->labels, ks_obj_labels(o))))
				continue;
			/* Items of a typed list carry no kind/apiVersion. */
			if ((table ? ks_table_row(g, o, inc, now)
			           : ks_obj_gen(g, o, 0)) != 0)
				goto nomem;
			if (o == last)
				break;
		}
		if (yajl_gen_array_close(g) != yajl_gen_status_ok ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok)
			goto nomem;
	}
	ks_http_reply_gen(req, 200, g);
	yajl_gen_free(g);
	free(tok);
	return;
nomem:
	if (g != NULL)
		yajl_gen_free(g);
	free(tok);
	ks_status_internal(&st, "out of memory");
	ks_http_reply_status(req, &st);
}

/*
 * A dry-run create (o taken): the existing name still conflicts (the
 * dry-run storage looks it up), else 201 with what create would store,
 * uid and creationTimestamp filled, no resourceVersion.
 */
static void
dry_create(struct ks_server *srv, struct evhttp_request *req, struct ks_obj *o)
{
	const struct ks_kind_info *ki = ks_kind_info(o->kind);
	struct ks_status st;

	if (ks_store_get(srv->store, o->kind, o->ns, o->name) != NULL) {
		ks_status_already_exists(&st, ki->resource, ki->group, o->name);
		ks_http_reply_status(req, &st);
	} else if (ks_store_stamp_new(o, (long long)time(NULL)) != 0) {
		ks_status_internal(&st, "out of memory");
		ks_http_reply_status(req, &st);
	} else
		reply_obj(req, 201, o);
	ks_obj_unref(o);
}

static void
handle_create(
    struct ks_server *srv, struct evhttp_request *req, const struct ks_route *r)
{
	const struct ks_kind_info *ki = ks_kind_info(r->kind);
	struct ks_status st;
	struct ks_json *body;
	struct ks_obj *o;
	struct ks_json_dups dups;
	enum field_validation fv;
	char name[KS_MAX_NAME + 1], mgr[160];

	if (field_validation(req, "CreateOptions", &fv) != 0)
		return;
	if ((body = read_object(req, pb_kind(r->kind), &dups)) == NULL)
		return;
	if (check_fields(req, fv, r->kind, KS_SCHEMA_OBJECT, body, &dups) !=
	    0) {
		ks_json_free(body);
		return;
	}
	memset(&st, 0, sizeof(st));
	o = ks_obj_from_create(r->kind, r->ns, body, &st);
	ks_json_free(body);
	if (o == NULL) {
		ks_http_reply_status(req, &st);
		return;
	}
	snprintf(name, sizeof(name), "%s", o->name);
	if (field_manager(req, "CreateOptions", mgr, sizeof(mgr)) != 0) {
		ks_obj_unref(o);
		return;
	}
	if (ks_ssa_record_update(
	        NULL, o->doc, mgr, "", ki->api_version, time(NULL)) != 0 ||
	    ks_obj_refresh(o) != 0) {
		ks_obj_unref(o);
		ks_status_internal(&st, "out of memory");
		ks_http_reply_status(req, &st);
		return;
	}
	if (r->dry) {
		dry_create(srv, req, o);
		return;
	}
	if (ks_store_create(srv->store, o, (long long)time(NULL)) != 0) {
		ks_status_already_exists(&st, ki->resource, ki->group, name);
		ks_http_reply_status(req, &st);
		return;
	}
	reply_obj(req, 201, ks_store_get(srv->store, r->kind, r->ns, name));
}

static void
handle_update(struct ks_server *srv, struct evhttp_request *req,
    const struct ks_route *r, struct ks_obj *cur)
{
	struct ks_status st;
	struct ks_json *body;
	struct ks_obj *next;
	struct ks_json_dups dups;
	enum field_validation fv;

	if (field_validation(req, "UpdateOptions", &fv) != 0)
		return;
	if ((body = read_object(req, pb_kind(r->kind), &dups)) == NULL)
		return;
	if (body->type == KS_JSON_OBJECT &&
	    check_fields(req, fv, r->kind, KS_SCHEMA_OBJECT, body, &dups) !=
	        0) {
		ks_json_free(body);
		return;
	}
	if (body->type != KS_JSON_OBJECT) {
		ks_json_free(body);
		ks_status_bad_request(&st,
		    "json: cannot unmarshal array into Go value of type "
		    "map[string]interface {}");
		ks_http_reply_status(req, &st);
		return;
	}
	if (check_precondition(req, cur, body) != 0) {
		ks_json_free(body);
		return;
	}
	if ((next = ks_obj_clone(cur)) == NULL) {
		ks_json_free(body);
		ks_status_internal(&st, "out of memory");
		ks_http_reply_status(req, &st);
		return;
	}
	ks_json_free(next->doc);
	next->doc = body;
	if (ks_json_get(body, "metadata") == NULL)
		ks_json_obj(body, "metadata");
	memset(&st, 0, sizeof(st));
	if (ks_obj_validate_update(cur, next, 1, &st) != 0) {
		ks_obj_unref(next);
		ks_http_reply_status(req, &st);
		return;
	}
	(void)r;
	commit_and_reply(srv, req, next, 0, r->dry);
}

/*
 * RFC 6902 patch (taken) applied to *doc; 0, or -1 after answering with
 * the real server's Status: 400 undecodable, 413 too many operations,
 * 422 Invalid with the generic message for an operation that does not
 * apply (the API server drops json-patch's own text).
 */
static int
apply_json_patch(
    struct evhttp_request *req, struct ks_json **doc, struct ks_json *patch)
{
	struct ks_status st;
	char msg[512];
	enum ks_jpatch_err e = ks_jpatch_apply(doc, patch, msg, sizeof(msg));

	ks_json_free(patch);
	switch (e) {
	case KS_JPATCH_OK:
		return 0;
	case KS_JPATCH_EDECODE:
		ks_status_bad_request(&st, "%s", msg);
		break;
	case KS_JPATCH_ETOOMANY:
		ks_status_too_large(&st, KS_MAX_BODY);
		snprintf(st.message, sizeof(st.message), "%s", msg);
		break;
	case KS_JPATCH_EAPPLY:
		log_debug("json patch does not apply: %s", msg);
		memset(&st, 0, sizeof(st));
		st.code = 422;
		st.reason = "Invalid";
		st.details = 1;
		snprintf(st.message, sizeof(st.message),
		    "the server rejected our request due to an error in our "
		    "request");
		break;
	default:
		ks_status_internal(&st, "out of memory");
		break;
	}
	ks_http_reply_status(req, &st);
	return -1;
}

/* Merge patch or, for application/strategic-merge-patch+json, a strategic
 * one (lists merged by their patch merge keys, directives applied). */
static int
merge_or_smp(const char *ct, struct ks_json **doc, const struct ks_json *p)
{
	if (media_is(ct, "application/strategic-merge-patch+json"))
		return ks_smp_apply(doc, p);
	return ks_json_merge_patch(doc, p);
}

static void
handle_patch(struct ks_server *srv, struct evhttp_request *req,
    const struct ks_route *r, struct ks_obj *cur)
{
	const char *ct = header(req, "Content-Type");
	struct ks_status st;
	struct ks_json *patch;
	struct ks_obj *next;
	struct ks_json_dups dups;
	enum field_validation fv;

	if (field_validation(req, "PatchOptions", &fv) != 0)
		return;
	if (media_is(ct, "application/json-patch+json")) {
		if ((patch = read_body(req, &dups)) == NULL)
			return;
		if ((next = ks_obj_clone(cur)) == NULL) {
			ks_json_free(patch);
			ks_status_internal(&st, "out of memory");
			ks_http_reply_status(req, &st);
			return;
		}
		/* The precondition is the patched object's resourceVersion. */
		if (apply_json_patch(req, &next->doc, patch) != 0 ||
		    check_fields(req, fv, r->kind, KS_SCHEMA_OBJECT, next->doc,
		        NULL) != 0 ||
		    check_precondition(req, cur, next->doc) != 0) {
			ks_obj_unref(next);
			return;
		}
		memset(&st, 0, sizeof(st));
		if (ks_obj_validate_update(cur, next, 1, &st) != 0) {
			ks_obj_unref(next);
			ks_http_reply_status(req, &st);
			return;
		}
		commit_and_reply(srv, req, next, 0, r->dry);
		return;
	}
	if (!media_is(ct, "application/merge-patch+json") &&
	    !media_is(ct, "application/strategic-merge-patch+json")) {
		/* apply-patch is handled before (handle_apply). */
		ks_status_unsupported_media(&st, PATCH_TYPES);
		ks_http_reply_status(req, &st);
		return;
	}
	if ((patch = read_body(req, &dups)) == NULL)
		return;
	if (patch->type != KS_JSON_OBJECT) {
		ks_json_free(patch);
		ks_status_bad_request(&st,
		    "error decoding patch: json: cannot unmarshal into "
		    "Go value of type map[string]interface {}");
		ks_http_reply_status(req, &st);
		return;
	}
	if (check_precondition(req, cur, patch) != 0) {
		ks_json_free(patch);
		return;
	}
	if ((next = ks_obj_clone(cur)) == NULL ||
	    merge_or_smp(ct, &next->doc, patch) != 0) {
		ks_json_free(patch);
		ks_obj_unref(next);
		ks_status_bad_request(&st, "unable to apply the patch");
		ks_http_reply_status(req, &st);
		return;
	}
	ks_json_free(patch);
	if (check_fields(
	        req, fv, r->kind, KS_SCHEMA_OBJECT, next->doc, &dups) != 0) {
		ks_obj_unref(next);
		return;
	}
	memset(&st, 0, sizeof(st));
	if (ks_obj_validate_update(cur, next, 1, &st) != 0) {
		ks_obj_unref(next);
		ks_http_reply_status(req, &st);
		return;
	}
	commit_and_reply(srv, req, next, 0, r->dry);
}

static void
handle_delete(struct ks_server *srv, struct evhttp_request *req,
    const struct ks_route *r, struct ks_obj *cur)
{
	const struct ks_kind_info *ki = ks_kind_info(r->kind);
	struct ks_status st;
	char uid[64];
	const char *u = ks_json_str(ks_json_getp(cur->doc, "metadata.uid"));

	snprintf(uid, sizeof(uid), "%s", u ? u : "");
	if (!r->dry &&
	    ks_store_delete(srv->store, r->kind, r->ns, r->name) != 0) {
		reply_not_found(req, r->kind, r->name);
		return;
	}
	ks_status_deleted(&st, ki->resource, ki->group, r->name, uid);
	ks_http_reply_status(req, &st);
}

/* Scale PUT body or patched Scale document → new spec.replicas. */
static void
apply_scale(struct ks_server *srv, struct evhttp_request *req,
    struct ks_obj *cur, const struct ks_json *scale, int dry)
{
	struct ks_status st;
	struct ks_obj *next;
	const struct ks_json *v;
	const char *nm;
	long long want = 0;
	char val[96];

	if (scale->type != KS_JSON_OBJECT) {
		ks_status_bad_request(&st,
		    "json: cannot unmarshal value into Go value of type "
		    "autoscaling.Scale");
		ks_http_reply_status(req, &st);
		return;
	}
	nm = ks_json_str(ks_json_getp(scale, "metadata.name"));
	if (nm != NULL && nm[0] != '\0' && strcmp(nm, cur->name) != 0) {
		ks_status_bad_request(&st,
		    "the name of the object (%.253s) does not match the name "
		    "on the URL (%s)",
		    nm, cur->name);
		ks_http_reply_status(req, &st);
		return;
	}
	if (check_precondition(req, cur, scale) != 0)
		return;
	v = ks_json_getp(scale, "spec.replicas");
	if (v != NULL && v->type != KS_JSON_NULL &&
	    (ks_json_int(v, &want) != 0 || want > INT32_MAX ||
	        want < INT32_MIN)) {
		ks_status_bad_request(&st,
		    "json: cannot unmarshal value into Go struct field "
		    "ScaleSpec.spec.replicas of type int32");
		ks_http_reply_status(req, &st);
		return;
	}
	if (want < 0) {
		snprintf(val, sizeof(val), "%lld", want);
		ks_status_invalid(&st, "Scale", "autoscaling", cur->name);
		ks_status_add_cause(&st, KS_CAUSE_INVALID, "spec.replicas", val,
		    "must be greater than or equal to 0");
		ks_http_reply_status(req, &st);
		return;
	}
	if ((next = ks_obj_clone(cur)) == NULL ||
	    ks_json_set_int(ks_json_get(next->doc, "spec"), "replicas", want) !=
	        0 ||
	    ks_obj_bump_generation(cur, next) != 0) {
		ks_obj_unref(next);
		ks_status_internal(&st, "out of memory");
		ks_http_reply_status(req, &st);
		return;
	}
	commit_and_reply(srv, req, next, 1, dry);
}

static void
handle_scale(struct ks_server *srv, struct evhttp_request *req,
    const struct ks_route *r, struct ks_obj *cur)
{
	const char *ct = header(req, "Content-Type");
	struct ks_status st;
	struct ks_json *body, *doc = NULL;
	enum ks_json_err err;
	const unsigned char *buf;
	size_t len;
	yajl_gen g;
	int jp;
	struct ks_json_dups dups;
	enum field_validation fv;

	if (strcmp(r->verb, "get") == 0) {
		reply_scale(req, cur);
		return;
	}
	if (field_validation(req,
	        strcmp(r->verb, "update") == 0 ? "UpdateOptions"
	                                       : "PatchOptions",
	        &fv) != 0)
		return;
	if (strcmp(r->verb, "update") == 0) {
		if ((body = read_object(req, "Scale", &dups)) == NULL)
			return;
		if (check_fields(
		        req, fv, r->kind, KS_SCHEMA_SCALE, body, &dups) == 0)
			apply_scale(srv, req, cur, body, r->dry);
		ks_json_free(body);
		return;
	}
	if (strcmp(r->verb, "patch") != 0) {
		ks_status_method_not_allowed(&st);
		ks_http_reply_status(req, &st);
		return;
	}
	jp = media_is(ct, "application/json-patch+json");
	if (!jp && !media_is(ct, "application/merge-patch+json") &&
	    !media_is(ct, "application/strategic-merge-patch+json")) {
		ks_status_unsupported_media(&st, PATCH_TYPES);
		ks_http_reply_status(req, &st);
		return;
	}
	if ((body = read_body(req, &dups)) == NULL)
		return;
	if (jp) {
		if ((g = ks_gen_new()) != NULL &&
		    ks_obj_gen_scale(g, cur) == 0 &&
		    yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
			doc = ks_json_parse(buf, len, &err, NULL, 0);
		if (g != NULL)
			yajl_gen_free(g);
		if (doc == NULL) {
			ks_json_free(body);
			ks_status_internal(&st, "out of memory");
			ks_http_reply_status(req, &st);
			return;
		}
		if (apply_json_patch(req, &doc, body) == 0 &&
		    check_fields(
		        req, fv, r->kind, KS_SCHEMA_SCALE, doc, NULL) == 0 &&
		    check_precondition(req, cur, doc) == 0)
			apply_scale(srv, req, cur, doc, r->dry);
		ks_json_free(doc);
		return;
	}
	if (body->type != KS_JSON_OBJECT) {
		ks_json_free(body);
		ks_status_bad_request(&st,
		    "error decoding patch: json: cannot unmarshal into Go "
		    "value of type map[string]interface {}");
		ks_http_reply_status(req, &st);
		return;
	}
	/* Patch the Scale view, then copy spec.replicas back (ScaleREST). */
	if ((g = ks_gen_new()) != NULL && ks_obj_gen_scale(g, cur) == 0 &&
	    yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
		doc = ks_json_parse(buf, len, &err, NULL, 0);
	if (g != NULL)
		yajl_gen_free(g);
	if (doc == NULL || merge_or_smp(ct, &doc, body) != 0) {
		ks_json_free(doc);
		ks_json_free(body);
		ks_status_internal(&st, "out of memory");
		ks_http_reply_status(req, &st);
		return;
	}
	/* The precondition comes from the patch, not the patched view. */
	if (check_precondition(req, cur, body) != 0) {
		ks_json_free(doc);
		ks_json_free(body);
		return;
	}
	ks_json_free(body);
	if (check_fields(req, fv, r->kind, KS_SCHEMA_SCALE, doc, &dups) == 0)
		apply_scale(srv, req, cur, doc, r->dry);
	ks_json_free(doc);
}

/*
 * Server-side apply: PATCH with application/apply-patch+yaml (a JSON
 * body, as kubectl sends it; YAML proper is not parsed).  Creates the
 * object when it does not exist.  Conflicts answer 409 unless force=true.
 */
static void
handle_apply(struct ks_server *srv, struct evhttp_request *req,
    const struct ks_route *r, struct ks_obj *cur)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	const struct ks_kind_info *ki = ks_kind_info(r->kind);
	struct ks_status st;
	struct ks_json *config, *doc = NULL, *mf = NULL, *md;
	struct ks_json_dups dups;
	struct ks_obj *o = NULL;
	enum field_validation fv;
	char mgr[160], force[16];
	const char *nm, *kind;
	int rc;

	if (field_validation(req, "PatchOptions", &fv) != 0)
		return;
	if (ks_query_get(query, "fieldManager", mgr, sizeof(mgr)) != 1 ||
	    mgr[0] == '\0') {
		ks_status_invalid(&st, "PatchOptions", "meta.k8s.io", "");
		ks_status_add_cause(&st, KS_CAUSE_REQUIRED, "fieldManager", "",
		    "is required for apply patch");
		ks_http_reply_status(req, &st);
		return;
	}
	if (field_manager(req, "PatchOptions", mgr, sizeof(mgr)) != 0)
		return;
	if ((config = read_body(req, &dups)) == NULL)
		return;
	if (config->type != KS_JSON_OBJECT) {
		ks_json_free(config);
		ks_status_bad_request(&st,
		    "error decoding YAML: json: cannot unmarshal into Go value "
		    "of type map[string]interface {}");
		ks_http_reply_status(req, &st);
		return;
	}
	kind = ks_json_str(ks_json_get(config, "kind"));
	nm = ks_json_str(ks_json_getp(config, "metadata.name"));
	if (kind == NULL || strcmp(kind, ki->kind) != 0 || nm == NULL ||
	    strcmp(nm, r->name) != 0) {
		ks_json_free(config);
		ks_status_bad_request(&st,
		    "the apply configuration must name kind %s and "
		    "metadata.name %s",
		    ki->kind, r->name);
		ks_http_reply_status(req, &st);
		return;
	}
	if (check_fields(req, fv, r->kind, KS_SCHEMA_OBJECT, config, &dups) !=
	    0) {
		ks_json_free(config);
		return;
	}
	rc = ks_ssa_apply(cur ? cur->doc : NULL, config, mgr, ki->api_version,
	    ks_query_get(query, "force", force, sizeof(force)) == 1 &&
	        ks_query_bool(force),
	    time(NULL), &doc, &st);
	ks_json_free(config);
	if (rc != 0) {
		if (rc < 0)
			ks_status_internal(&st, "out of memory");
		ks_http_reply_status(req, &st);
		return;
	}
	/* managedFields survive validation only through this copy. */
	mf = ks_json_clone(ks_json_getp(doc, "metadata.managedFields"));
	if (cur == NULL) {
		/* Identity fields are never owned, so not copied: name it. */
		if ((md = ks_json_obj(doc, "metadata")) == NULL ||
		    ks_json_set_str(md, "name", r->name) != 0) {
			ks_json_free(doc);
			ks_json_free(mf);
			ks_status_internal(&st, "out of memory");
			ks_http_reply_status(req, &st);
			return;
		}
		memset(&st, 0, sizeof(st));
		o = ks_obj_from_create(r->kind, r->ns, doc, &st);
		ks_json_free(doc);
		if (o == NULL) {
			ks_json_free(mf);
			ks_http_reply_status(req, &st);
			return;
		}
		if (mf != NULL &&
		    ((md = ks_json_get(o->doc, "metadata")) == NULL ||
		        ks_json_set(md, "managedFields", mf) != 0 ||
		        ks_obj_refresh(o) != 0)) {
			ks_obj_unref(o);
			ks_status_internal(&st, "out of memory");
			ks_http_reply_status(req, &st);
			return;
		}
		if (r->dry) {
			dry_create(srv, req, o);
			return;
		}
		if (ks_store_create(srv->store, o, (long long)time(NULL)) !=
		    0) {
			ks_status_already_exists(
			    &st, ki->resource, ki->group, r->name);
			ks_http_reply_status(req, &st);
			return;
		}
		reply_obj(req, 201,
		    ks_store_get(srv->store, r->kind, r->ns, r->name));
		return;
	}
	if ((o = ks_obj_clone(cur)) == NULL) {
		ks_json_free(doc);
		ks_json_free(mf);
		ks_status_internal(&st, "out of memory");
		ks_http_reply_status(req, &st);
		return;
	}
	ks_json_free(o->doc);
	o->doc = doc;
	memset(&st, 0, sizeof(st));
	if (ks_obj_validate_update(cur, o, 1, &st) != 0) {
		ks_json_free(mf);
		ks_obj_unref(o);
		ks_http_reply_status(req, &st);
		return;
	}
	md = ks_json_get(o->doc, "metadata");
	if (mf != NULL ? ks_json_set(md, "managedFields", mf) != 0
	               : (ks_json_del(md, "managedFields"), 0)) {
		ks_obj_unref(o);
		ks_status_internal(&st, "out of memory");
		ks_http_reply_status(req, &st);
		return;
	}
	if (r->dry) {
		if (ks_obj_refresh(o) != 0) {
			ks_obj_unref(o);
			ks_status_internal(&st, "out of memory");
			ks_http_reply_status(req, &st);
		} else {
			reply_obj(req, 200, o);
			ks_obj_unref(o);
		}
		return;
	}
	if (ks_obj_refresh(o) != 0 || ks_store_update(srv->store, o) < 0) {
		ks_status_internal(&st, "update failed");
		ks_http_reply_status(req, &st);
		return;
	}
	reply_obj(req, 200, ks_store_get(srv->store, r->kind, r->ns, r->name));
}

/* ---- self reviews ---------------------------------------------------- */

static const char *const ra_fields[] = {"namespace", "verb", "group", "version",
    "resource", "subresource", "name", NULL};
static const char *const nra_fields[] = {"path", "verb", NULL};

/* Copy the string members named in fields from in (may be NULL) into a new
 * object *out; -1 after answering 400 when one is not a string. */
static int
copy_attrs(struct evhttp_request *req, const struct ks_json *in,
    const char *what, const char *const *fields, struct ks_json **out)
{
	struct ks_status st;
	const struct ks_json *v;
	int i;

	*out = NULL;
	if (in == NULL || in->type == KS_JSON_NULL)
		return 0;
	if (in->type != KS_JSON_OBJECT) {
		ks_status_bad_request(&st,
		    "json: cannot unmarshal value into Go struct field "
		    "SelfSubjectAccessReviewSpec.spec.%s",
		    what);
		ks_http_reply_status(req, &st);
		return -1;
	}
	if ((*out = ks_json_new(KS_JSON_OBJECT)) == NULL)
		goto nomem;
	for (i = 0; fields[i] != NULL; i++) {
		if ((v = ks_json_get(in, fields[i])) == NULL ||
		    v->type == KS_JSON_NULL)
			continue;
		if (v->type != KS_JSON_STRING) {
			ks_json_free(*out);
			*out = NULL;
			ks_status_bad_request(&st,
			    "json: cannot unmarshal value into Go struct "
			    "field %s.%s of type string",
			    what, fields[i]);
			ks_http_reply_status(req, &st);
			return -1;
		}
		if (v->len > 0 &&
		    ks_json_set(*out, fields[i], ks_json_clone(v)) != 0)
			goto nomem;
	}
	return 0;
nomem:
	ks_json_free(*out);
	*out = NULL;
	ks_status_internal(&st, "out of memory");
	ks_http_reply_status(req, &st);
	return -1;
}

static int
gen_review_head(yajl_gen g, const char *kind, const char *api_version)
{
	return yajl_gen_map_open(g) == yajl_gen_status_ok &&
	        ks_gen_kstr(g, "kind", kind) == 0 &&
	        ks_gen_kstr(g, "apiVersion", api_version) == 0 &&
	        ks_gen_str(g, "metadata") == 0 &&
	        yajl_gen_map_open(g) == yajl_gen_status_ok &&
	        ks_gen_str(g, "creationTimestamp") == 0 &&
	        yajl_gen_null(g) == yajl_gen_status_ok &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok
	    ? 0
	    : -1;
}

/* SelfSubjectReview: the user and its groups as the authenticator gives
 * them (service accounts get their two groups, everyone
 * system:authenticated). */
static int
gen_ssr(yajl_gen g, const char *user)
{
	static const char sa[] = "system:serviceaccount:";
	char grp[KS_MAX_NAMESPACE + 32];
	const char *ns, *colon;

	if (gen_review_head(
	        g, "SelfSubjectReview", "authentication.k8s.io/v1") != 0 ||
	    ks_gen_str(g, "status") != 0 ||
	    yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    ks_gen_str(g, "userInfo") != 0 ||
	    yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    ks_gen_kstr(g, "username", user) != 0 ||
	    ks_gen_str(g, "groups") != 0 ||
	    yajl_gen_array_open(g) != yajl_gen_status_ok)
		return -1;
	if (strncmp(user, sa, sizeof(sa) - 1) == 0) {
		ns = user + sizeof(sa) - 1;
		colon = strchr(ns, ':');
		if (colon != NULL && (size_t)(colon - ns) <= KS_MAX_NAMESPACE) {
			snprintf(grp, sizeof(grp),
			    "system:serviceaccounts:%.*s", (int)(colon - ns),
			    ns);
			if (ks_gen_str(g, "system:serviceaccounts") != 0 ||
			    ks_gen_str(g, grp) != 0)
				return -1;
		}
	}
	return ks_gen_str(g, "system:authenticated") == 0 &&
	        yajl_gen_array_close(g) == yajl_gen_status_ok &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok
	    ? 0
	    : -1;
}

/* SelfSubjectAccessReview (kubectl auth can-i) and SelfSubjectReview
 * (kubectl auth whoami): the user is kube-sim's one user, allowed
 * everything except what a --deny rule names. */
static void
handle_review(struct ks_server *srv, struct evhttp_request *req,
    const struct ks_route *r, const char *user)
{
	struct ks_status st;
	struct ks_json *body, *ra = NULL, *nra = NULL;
	yajl_gen g = NULL;
	int ok = -1, allowed = 1;
	struct ks_json_dups dups;

	if (strcmp(r->verb, "create") != 0) {
		ks_status_method_not_allowed(&st);
		ks_http_reply_status(req, &st);
		return;
	}
	if ((body = read_object(req,
	         r->review == KS_REVIEW_SSAR ? "SelfSubjectAccessReview"
	                                     : "SelfSubjectReview",
	         &dups)) == NULL)
		return;
	if (body->type != KS_JSON_OBJECT) {
		ks_json_free(body);
		ks_status_bad_request(&st,
		    "json: cannot unmarshal array into Go value of type "
		    "map[string]interface {}");
		ks_http_reply_status(req, &st);
		return;
	}
	if ((g = ks_gen_new()) == NULL)
		goto out;
	if (r->review == KS_REVIEW_SSR) {
		ok = gen_ssr(g, user);
		goto out;
	}
	if (copy_attrs(req, ks_json_getp(body, "spec.resourceAttributes"),
	        "resourceAttributes", ra_fields, &ra) != 0 ||
	    copy_attrs(req, ks_json_getp(body, "spec.nonResourceAttributes"),
	        "nonResourceAttributes", nra_fields, &nra) != 0) {
		ks_json_free(body);
		ks_json_free(ra);
		yajl_gen_free(g);
		return;
	}
	if ((ra == NULL) == (nra == NULL)) {
		ks_json_free(body);
		ks_json_free(ra);
		ks_json_free(nra);
		yajl_gen_free(g);
		ks_status_invalid(
		    &st, "SelfSubjectAccessReview", "authorization.k8s.io", "");
		ks_status_add_cause(&st, KS_CAUSE_INVALID,
		    "spec.resourceAttributes", ra == NULL ? "null" : "{...}",
		    "exactly one of nonResourceAttributes or "
		    "resourceAttributes must be specified");
		ks_http_reply_status(req, &st);
		return;
	}
	if (ra != NULL) {
		const char *verb = ks_json_str(ks_json_get(ra, "verb"));
		const char *res = ks_json_str(ks_json_get(ra, "resource"));
		const char *sub = ks_json_str(ks_json_get(ra, "subresource"));
		const char *ns = ks_json_str(ks_json_get(ra, "namespace"));

		allowed = !ks_admin_denied(srv->admin, verb ? verb : "",
		    res ? res : "", sub ? sub : "", ns ? ns : "");
	}
	ok = gen_review_head(g, "SelfSubjectAccessReview",
	         "authorization.k8s.io/v1") == 0 &&
	        ks_gen_str(g, "spec") == 0 &&
	        yajl_gen_map_open(g) == yajl_gen_status_ok &&
	        (ra == NULL ||
	            (ks_gen_str(g, "resourceAttributes") == 0 &&
	                ks_json_gen(g, ra) == 0)) &&
	        (nra == NULL ||
	            (ks_gen_str(g, "nonResourceAttributes") == 0 &&
	                ks_json_gen(g, nra) == 0)) &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok &&
	        ks_gen_str(g, "status") == 0 &&
	        yajl_gen_map_open(g) == yajl_gen_status_ok &&
	        ks_gen_str(g, "allowed") == 0 &&
	        yajl_gen_bool(g, allowed) == yajl_gen_status_ok &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok &&
	        yajl_gen_map_close(g) == yajl_gen_status_ok
	    ? 0
	    : -1;
out:
	ks_json_free(body);
	ks_json_free(ra);
	ks_json_free(nra);
	if (ok == 0)
		ks_http_reply_gen(req, 201, g);
	else {
		ks_status_internal(&st, "encoding failed");
		ks_http_reply_status(req, &st);
	}
	if (g != NULL)
		yajl_gen_free(g);
}

void
ks_api_handle(struct ks_server *srv, struct evhttp_request *req,
    const struct ks_route *r, const char *user)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	const struct ks_kind_info *ki;
	struct ks_status st;
	struct ks_query q;
	struct ks_obj *cur;
	struct ks_route rw;

	if (!r->resource) {
		if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
		    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
			ks_status_method_not_allowed(&st);
			ks_http_reply_status(req, &st);
			return;
		}
		if (ks_disc_handle(srv, req, r->path) != 0) {
			ks_status_internal(&st, "encoding failed");
			ks_http_reply_status(req, &st);
		}
		return;
	}
	if (r->review != KS_REVIEW_NONE) {
		handle_review(srv, req, r, user);
		return;
	}
	if (!r->known) {
		ks_disc_not_found(req);
		return;
	}
	ki = ks_kind_info(r->kind);
	if (ks_admin_denied(srv->admin, r->verb, ki->resource, r->sub, r->ns)) {
		ks_status_forbidden(&st, user, r->verb, ki->resource, r->sub,
		    ki->group, r->ns, r->name);
		ks_http_reply_status(req, &st);
		return;
	}
	rw = *r;
	if (dry_run(req, &rw) != 0)
		return;
	r = &rw;
	if (r->name[0] == '\0') {
		if (strcmp(r->verb, "list") == 0 ||
		    strcmp(r->verb, "watch") == 0) {
			if (ks_query_parse(
			        &q, query, ki->resource, ki->group, &st) != 0) {
				ks_http_reply_status(req, &st);
				return;
			}
			if (q.watch) {
				enum ks_table_include inc;
				int t = want_table(req, r, &inc);

				if (t >= 0)
					ks_watch_start(srv, req, r->kind, r->ns,
					    &q, t, inc);
			} else
				handle_list(srv, req, r, &q);
			ks_query_clear(&q);
			return;
		}
		if (strcmp(r->verb, "create") == 0 && r->ns[0] != '\0') {
			handle_create(srv, req, r);
			return;
		}
		ks_status_method_not_allowed(&st);
		ks_http_reply_status(req, &st);
		return;
	}
	if (strcmp(r->verb, "patch") == 0 && r->sub[0] == '\0' &&
	    media_is(
	        header(req, "Content-Type"), "application/apply-patch+yaml")) {
		handle_apply(srv, req, r,
		    ks_store_get(srv->store, r->kind, r->ns, r->name));
		return;
	}
	if ((cur = ks_store_get(srv->store, r->kind, r->ns, r->name)) == NULL) {
		reply_not_found(req, r->kind, r->name);
		return;
	}
	if (strcmp(r->sub, "scale") == 0) {
		handle_scale(srv, req, r, cur);
		return;
	}
	if (strcmp(r->verb, "get") == 0) {
		enum ks_table_include inc;
		int t = want_table(req, r, &inc);

		if (t == 1)
			reply_table_obj(req, cur, inc);
		else if (t == 0)
			reply_obj(req, 200, cur);
	} else if (strcmp(r->verb, "update") == 0 && r->sub[0] == '\0')
		handle_update(srv, req, r, cur);
	else if (strcmp(r->verb, "patch") == 0 && r->sub[0] == '\0')
		handle_patch(srv, req, r, cur);
	else if (strcmp(r->verb, "delete") == 0 && r->sub[0] == '\0')
		handle_delete(srv, req, r, cur);
	else {
		ks_status_method_not_allowed(&st);
		ks_http_reply_status(req, &st);
	}
}
