/*
 * api.c — routing, validation, authorization and JSON for the REST API.
 * Every answer is built with yajl_gen and sent through reply.c.  The core
 * is asked through ipc_client.c; its error codes map to HTTP via errmap.c.
 *
 * A request lives in a struct api_req from serve() until its answer is
 * sent.  While it waits for the core it holds the connection's struct
 * http_req, and an abort callback tells it when the connection goes away
 * first: it then cancels its core request and frees itself, and never
 * touches the http_req again (http_conn.h, "Lifetime").
 *
 * The client's identity and its unscoped permissions are worked out once
 * per connection, from its verified certificate, and kept in the
 * connection's struct http_peer.  A permission scoped to a namespace
 * (issue #15, authz.h) is looked up per request, and only when the
 * unscoped ones do not already allow it.
 *
 * Namespaces (issue #15): a route under /api/v1/namespaces/{ns} names its
 * namespace; the same route without it means the core's default
 * namespace, from the link's HELLO_OK (ipcc_default_namespace), except
 * /api/v1/pins, which means every namespace and shows only the pins of
 * the namespaces the client may read.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509.h>

#include "gateway/api.h"
#include "gateway/authz.h"
#include "gateway/body.h"
#include "gateway/http_conn.h"
#include "gateway/errmap.h"
#include "gateway/gw_limits.h"
#include "gateway/ipc_client.h"
#include "gateway/log.h"
#include "gateway/query.h"
#include "gateway/reply.h"
#include "gateway/route.h"

struct api_req {
	TAILQ_ENTRY(api_req) link;
	struct api *api;
	struct ipcc_req *core;
	struct reply_ctx rc;
	unsigned method;
	char ns[PS_MAX_NAMESPACE + 1]; /* "": every namespace (PIN_LIST) */
	int filter;                    /* PIN_LIST: only readable namespaces */
	char name[PS_MAX_NAME + 1];
	uint32_t replicas;
	const char *identity; /* the connection's, while it lives */
	/* Issue #14: the write's mode and conditions. */
	struct body_write body;       /* POST/PUT: what the body said */
	int dry_run;                  /* ?dryRun=true|All */
	enum http_if_match ifm;       /* HIM_NONE, HIM_ANY or HIM_STRONG */
	char if_match[PS_MAX_RV + 1]; /* HIM_STRONG: the resourceVersion */
};

/* struct http_peer.perms */
#define PERM_READ  0x1u
#define PERM_WRITE 0x2u

TAILQ_HEAD(api_req_list, api_req);

struct api {
	struct ipcc *ipcc;
	struct authz *authz;
	uint32_t max_replicas;
	struct api_req_list reqs;
};

struct api *
api_new(struct ipcc *ipcc, struct authz *authz, uint32_t max_replicas)
{
	struct api *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->ipcc = ipcc;
	a->authz = authz;
	a->max_replicas = max_replicas;
	TAILQ_INIT(&a->reqs);
	return a;
}

void
api_free(struct api *a)
{
	struct api_req *r;

	if (a == NULL)
		return;
	while ((r = TAILQ_FIRST(&a->reqs)) != NULL) {
		TAILQ_REMOVE(&a->reqs, r, link);
		ipcc_cancel(r->core);
		if (r->rc.req != NULL)
			http_req_on_abort(r->rc.req, NULL, NULL);
		free(r);
	}
	free(a);
}

static void
req_done(struct api_req *r)
{
	TAILQ_REMOVE(&r->api->reqs, r, link);
	free(r);
}

/* The connection went away first (http_req_on_abort). */
static void
abort_cb(void *arg)
{
	struct api_req *r = arg;

	ipcc_cancel(r->core);
	TAILQ_REMOVE(&r->api->reqs, r, link);
	free(r);
}

static void
fail(struct api_req *r, int status, const char *reason, const char *msg)
{
	reply_error(&r->rc, status, reason, msg, NULL, NULL);
	req_done(r);
}

static void
fail_retry(struct api_req *r, int status, const char *reason, const char *msg,
    uint32_t retry_after)
{
	char ra[16];

	if (retry_after == 0)
		retry_after = GW_RETRY_AFTER_DEFAULT;
	snprintf(ra, sizeof(ra), "%u", retry_after);
	reply_error(&r->rc, status, reason, msg, "Retry-After", ra);
	req_done(r);
}

static void
send_ok(struct api_req *r, int status, yajl_gen g)
{
	reply_json(&r->rc, status, g, NULL, NULL, NULL);
	req_done(r);
}

/*
 * A write's condition failed at the core (issue #14): the error body
 * also says what the deployment has, so a client can retry knowingly.
 * The ref is visible ASCII (PS_STR_REF); yajl_gen escapes it anyway.
 */
static void
fail_condition(struct api_req *r, const struct errmap *m, const char *msg,
    const struct ps_error *e)
{
	yajl_gen g;

	if ((g = reply_error_gen(m->reason, msg)) == NULL) {
		fail(r, 500, "internal", "out of memory");
		return;
	}
	if (e->code == PS_E_STALE && e->ref[0] != '\0')
		reply_gen_kv_str(g, "resourceVersion", e->ref);
	else if (e->code == PS_E_EXPECTED)
		reply_gen_kv_int(g, "currentReplicas", e->current);
	else if (e->code == PS_E_AUTOSCALED && e->ref[0] != '\0')
		reply_gen_kv_str(g, "autoscaler", e->ref);
	yajl_gen_map_close(g);
	reply_json(&r->rc, m->status, g, m->reason, NULL, NULL);
	req_done(r);
}

/* A failed core exchange -> HTTP.  Returns 1 when it answered. */
static int
answer_failure(struct api_req *r, const struct ipcc_answer *a)
{
	struct errmap m;
	const char *msg;

	switch (a->status) {
	case IPCC_OK:
		return 0;
	case IPCC_UNAVAILABLE:
		fail_retry(r, 503, "core_unavailable",
		    "the service core is not reachable", a->retry_after);
		return 1;
	case IPCC_BUSY:
		fail_retry(r, 503, "busy",
		    "too many requests waiting for the core",
		    GW_RETRY_AFTER_DEFAULT);
		return 1;
	case IPCC_TIMEOUT:
		fail(r, 504, "core_timeout",
		    "the service core did not answer in time");
		return 1;
	case IPCC_INTERNAL:
		fail(r, 500, "internal", "internal error");
		return 1;
	case IPCC_ERROR:
		break;
	}
	errmap_code(a->err.code, &m);
	/* The core's message is printable ASCII and never a credential. */
	msg = a->err.message[0] != '\0' ? a->err.message : m.message;
	if (m.retry_after)
		fail_retry(r, m.status, m.reason, msg, a->err.retry_after);
	else if (a->err.code == PS_E_STALE || a->err.code == PS_E_EXPECTED ||
	    a->err.code == PS_E_AUTOSCALED)
		fail_condition(r, &m, msg, &a->err);
	else
		fail(r, m.status, m.reason, msg);
	return 1;
}

static void
audit(struct api_req *r, const char *action, const struct ipcc_answer *a)
{
	struct log_audit l;

	memset(&l, 0, sizeof(l));
	l.outcome = "ok";
	if (a->status == IPCC_ERROR)
		l.outcome = ps_code_name(a->err.code);
	else if (a->status == IPCC_TIMEOUT)
		l.outcome = "timeout";
	else if (a->status != IPCC_OK)
		l.outcome = "unavailable";
	l.identity = r->identity;
	l.action = action;
	l.ns = r->ns;
	l.name = r->name;
	l.replicas = (long)r->replicas;
	l.dry_run = r->dry_run;
	l.force = r->body.force;
	l.suspended = a->type == PS_T_PIN_PUT ? r->body.suspended : -1;
	l.expected =
	    (r->body.present & BODY_K_EXPECTED) ? (long)r->body.expected : -1;
	l.if_match = r->ifm == HIM_ANY ? "*" : r->if_match;
	log_audit(&l);
}

/* enum ps_pin_state as the API says it; NULL for an active pin. */
static const char *
suspended_by(uint8_t state)
{
	switch (state) {
	case PS_PIN_SUSPENDED:
		return "pin";
	case PS_PIN_ANNOTATED:
		return "annotation";
	case PS_PIN_AUTOSCALED:
		return "autoscaler";
	default:
		return NULL;
	}
}

/* "suspended" and, when it is, "suspendedBy" (pin answers and items). */
static void
gen_pin_state(yajl_gen g, const char *key, const char *by_key, uint8_t state)
{
	const char *by = suspended_by(state);

	reply_gen_kv_bool(g, key, by != NULL);
	if (by != NULL)
		reply_gen_kv_str(g, by_key, by);
}

/*
 * The core says whether it wrote; the answer follows the core.  Asking
 * for a dry run and getting a write (or the reverse) is a core bug worth
 * a line in the log.
 */
static int
answer_dry_run(struct api_req *r, uint8_t core_dry_run)
{
	if ((core_dry_run != 0) != (r->dry_run != 0))
		log_warnx("core: %s %s/%s: asked dry_run=%d, answered "
		          "dry_run=%u",
		    route_label(r->rc.route), r->ns, r->name, r->dry_run,
		    (unsigned)core_dry_run);
	return core_dry_run != 0;
}

/*
 * ETag of a GET: the resourceVersion as a strong tag.  An rv holding a
 * '"' cannot be an entity-tag (RFC 9110 §8.8.3), so it gets none; the
 * core's rvs are digits in practice.  0 when there is none.
 */
static int
etag_of(const char *rv, char *buf, size_t size)
{
	int n;

	if (rv[0] == '\0' || strchr(rv, '"') != NULL)
		return 0;
	n = snprintf(buf, size, "\"%s\"", rv);
	return n > 0 && (size_t)n < size;
}

/* An age in milliseconds, null for "never". */
static void
gen_age(yajl_gen g, const char *key, uint32_t ms)
{
	reply_gen_str(g, key);
	if (ms == PS_AGE_NEVER)
		yajl_gen_null(g);
	else
		reply_gen_int(g, ms);
}

/*
 * /healthz's per-namespace part (issue #15): "namespace" is the default
 * one, whose state the top-level fields and the status code follow;
 * "namespaces" has each served namespace's own state, which does not
 * change the status code.
 */
static void
gen_ns_health(yajl_gen g, const struct ps_health *h)
{
	const struct ps_ns_health *n;
	size_t i;
	int ok;

	if (h->ns_count > 0)
		reply_gen_kv_str(g, "namespace", h->ns[0].namespace);
	reply_gen_str(g, "namespaces");
	yajl_gen_array_open(g);
	for (i = 0; i < h->ns_count && i < PS_MAX_NAMESPACES; i++) {
		n = &h->ns[i];
		ok = (n->state & PS_HEALTH_API_OK) &&
		    (n->state & PS_HEALTH_SYNCED);
		yajl_gen_map_open(g);
		reply_gen_kv_str(g, "namespace", n->namespace);
		reply_gen_kv_str(g, "status", ok ? "ok" : "unavailable");
		reply_gen_kv_bool(
		    g, "apiReachable", (n->state & PS_HEALTH_API_OK) != 0);
		reply_gen_kv_bool(
		    g, "cacheSynced", (n->state & PS_HEALTH_SYNCED) != 0);
		reply_gen_kv_bool(
		    g, "watchConnected", (n->state & PS_HEALTH_WATCH) != 0);
		reply_gen_kv_int(g, "cacheSize", n->cache_size);
		gen_age(g, "lastEventAgeMs", n->last_event_age_ms);
		gen_age(g, "apiOkAgeMs", n->api_ok_age_ms);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

/*
 * The client's names again, for a permission scoped to a namespace (the
 * connection keeps only the identity and the unscoped permissions).
 * NULL when out of memory or the certificate is unusable.
 */
static struct authz_id *
peer_id(struct http_req *req)
{
	struct http_peer *p = http_req_peer(req);
	struct authz_id *id;

	if ((id = malloc(sizeof(*id))) == NULL)
		return NULL;
	if (p->cert == NULL || authz_id_from_cert(p->cert, id) != 0) {
		free(id);
		return NULL;
	}
	return id;
}

/*
 * Whether /api/v1/pins shows a pin of namespace `ns`: always when the
 * client may read everywhere (no filter), else when it may read in `ns`.
 * `id` is NULL when the client's names could not be read (nothing shown).
 */
static int
pin_shown(const struct api_req *r, const struct authz_id *id, const char *ns)
{
	if (!r->filter)
		return 1;
	return id != NULL && authz_check(r->api->authz, id, AUTHZ_READ, ns);
}

static void
core_cb(const struct ipcc_answer *a, void *arg)
{
	struct api_req *r = arg;
	struct authz_id *id = NULL;
	yajl_gen g;
	size_t i;
	const struct ps_deployment *d = &a->u.dep;
	const struct ps_health *h = &a->u.health;
	int healthy, dry;
	char ra[16], etag[PS_MAX_RV + 3];

	r->core = NULL;
	if (a->type == PS_T_SCALE)
		audit(r, "scale", a);
	else if (a->type == PS_T_PIN_PUT)
		audit(r, "pin", a);
	else if (a->type == PS_T_PIN_DELETE)
		audit(r, "unpin", a);
	if (answer_failure(r, a))
		return;
	if ((g = reply_gen_new()) == NULL) {
		fail(r, 500, "internal", "out of memory");
		return;
	}
	yajl_gen_map_open(g);
	switch (a->type) {
	case PS_T_LIST:
		/* One namespace was asked for; an item of another would be a
		 * core bug, and is not shown. */
		reply_gen_kv_str(g, "namespace", r->ns);
		reply_gen_str(g, "deployments");
		yajl_gen_array_open(g);
		for (i = 0; i < a->nitems; i++)
			if (strcmp(a->items[i].ns, r->ns) == 0)
				reply_gen_str(g, a->items[i].name);
		yajl_gen_array_close(g);
		break;
	case PS_T_GET:
		reply_gen_kv_str(g, "name", d->name);
		reply_gen_kv_str(g, "namespace", d->namespace);
		reply_gen_kv_int(g, "replicas", d->desired);
		reply_gen_str(g, "status");
		yajl_gen_map_open(g);
		reply_gen_kv_int(g, "replicas", d->replicas);
		reply_gen_kv_int(g, "readyReplicas", d->ready);
		reply_gen_kv_int(g, "availableReplicas", d->available);
		reply_gen_kv_int(g, "updatedReplicas", d->updated);
		yajl_gen_map_close(g);
		reply_gen_kv_int(g, "generation", (long long)d->generation);
		reply_gen_kv_int(
		    g, "observedGeneration", (long long)d->observed_generation);
		if (d->pinned)
			reply_gen_kv_int(g, "pinned", d->pin_replicas);
		reply_gen_kv_str(g, "resourceVersion", d->resource_version);
		/* Version 2 (issue #14): each only when it says something. */
		if (d->pinned)
			gen_pin_state(
			    g, "pinSuspended", "pinSuspendedBy", d->pin_state);
		if (d->bounds & PS_B_MIN)
			reply_gen_kv_int(g, "minReplicas", d->min_replicas);
		if (d->bounds & PS_B_MAX)
			reply_gen_kv_int(g, "maxReplicas", d->max_replicas);
		if (d->bounds & PS_B_INVALID)
			reply_gen_kv_bool(g, "boundsInvalid", 1);
		if (d->autoscaler[0] != '\0')
			reply_gen_kv_str(g, "autoscaledBy", d->autoscaler);
		yajl_gen_map_close(g);
		if (etag_of(d->resource_version, etag, sizeof(etag)))
			reply_json(&r->rc, 200, g, NULL, "ETag", etag);
		else
			reply_json(&r->rc, 200, g, NULL, NULL, NULL);
		req_done(r);
		return;
	case PS_T_SCALE:
		dry = answer_dry_run(r, a->u.scale.dry_run);
		reply_gen_kv_str(g, "status", dry ? "dry_run" : "updated");
		reply_gen_kv_str(g, "name", a->u.scale.name);
		reply_gen_kv_str(g, "namespace", a->u.scale.namespace);
		reply_gen_kv_int(g, "replicas", a->u.scale.replicas);
		reply_gen_kv_int(g, "previous", a->u.scale.previous);
		reply_gen_kv_bool(g, "synced", a->u.scale.synced);
		reply_gen_kv_str(
		    g, "resourceVersion", a->u.scale.resource_version);
		if (dry)
			reply_gen_kv_bool(g, "dryRun", 1);
		break;
	case PS_T_PIN_LIST:
		if (r->filter)
			id = peer_id(r->rc.req);
		if (r->ns[0] != '\0')
			reply_gen_kv_str(g, "namespace", r->ns);
		reply_gen_str(g, "pins");
		yajl_gen_array_open(g);
		for (i = 0; i < a->nitems; i++) {
			if (!pin_shown(r, id, a->items[i].ns))
				continue;
			yajl_gen_map_open(g);
			reply_gen_kv_str(g, "name", a->items[i].name);
			reply_gen_kv_str(g, "namespace", a->items[i].ns);
			reply_gen_kv_int(g, "replicas", a->items[i].replicas);
			gen_pin_state(
			    g, "suspended", "suspendedBy", a->items[i].state);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		free(id);
		break;
	case PS_T_PIN_GET:
	case PS_T_PIN_PUT:
	case PS_T_PIN_DELETE:
		dry = a->type != PS_T_PIN_GET &&
		    answer_dry_run(r, a->u.pin.dry_run);
		if (a->type != PS_T_PIN_GET)
			reply_gen_kv_str(g, "status",
			    dry                           ? "dry_run"
			        : a->type == PS_T_PIN_PUT ? "pinned"
			                                  : "unpinned");
		reply_gen_kv_str(g, "name", a->u.pin.name);
		reply_gen_kv_str(g, "namespace", a->u.pin.namespace);
		reply_gen_kv_int(g, "replicas", a->u.pin.replicas);
		gen_pin_state(g, "suspended", "suspendedBy", a->u.pin.state);
		if (dry)
			reply_gen_kv_bool(g, "dryRun", 1);
		break;
	case PS_T_HEALTH:
		healthy = (h->state & PS_HEALTH_API_OK) &&
		    (h->state & PS_HEALTH_SYNCED);
		reply_gen_kv_str(g, "status", healthy ? "ok" : "unavailable");
		reply_gen_kv_bool(
		    g, "apiReachable", (h->state & PS_HEALTH_API_OK) != 0);
		reply_gen_kv_bool(
		    g, "cacheSynced", (h->state & PS_HEALTH_SYNCED) != 0);
		reply_gen_kv_bool(
		    g, "watchConnected", (h->state & PS_HEALTH_WATCH) != 0);
		reply_gen_kv_int(g, "cacheSize", h->cache_size);
		gen_age(g, "lastEventAgeMs", h->last_event_age_ms);
		gen_age(g, "apiOkAgeMs", h->api_ok_age_ms);
		reply_gen_kv_str(g, "message", h->message);
		gen_ns_health(g, h);
		if (!healthy) {
			yajl_gen_map_close(g);
			snprintf(ra, sizeof(ra), "%d", GW_RETRY_AFTER_DEFAULT);
			reply_json(
			    &r->rc, 503, g, "unhealthy", "Retry-After", ra);
			req_done(r);
			return;
		}
		break;
	default:
		yajl_gen_free(g);
		fail(r, 500, "internal", "unexpected answer");
		return;
	}
	yajl_gen_map_close(g);
	send_ok(r, 200, g);
}

/*
 * Works out who the peer is, once per connection: 0, or -1 when there is
 * no verified client certificate.
 */
static int
identify(struct api *api, struct http_peer *p)
{
	struct authz_id id;

	if (p->identified)
		return 0;
	if (p->cert == NULL || authz_id_from_cert(p->cert, &id) != 0)
		return -1;
	memcpy(p->identity, id.identity, sizeof(p->identity));
	/* Unscoped: allowed in every namespace. */
	p->perms =
	    (authz_check(api->authz, &id, AUTHZ_READ, NULL) ? PERM_READ : 0) |
	    (authz_check(api->authz, &id, AUTHZ_WRITE, NULL) ? PERM_WRITE : 0);
	p->identified = 1;
	return 0;
}

/*
 * Why a request was refused: who, what, in which namespace (issue #15),
 * and the flag that would allow it.
 */
static void
forbidden_message(const struct api_req *r, int writes, char *buf, size_t size)
{
	const char *why;

	if (!writes)
		why = "this client certificate is not on --allow-read or "
		      "--allow-write, for this namespace or for all";
	else if (authz_count(r->api->authz, AUTHZ_WRITE) == 0)
		why = "writes are refused: the gateway was started without "
		      "--allow-write";
	else
		why = "this client certificate is not on --allow-write, for "
		      "this namespace or for all";
	if (r->ns[0] != '\0')
		snprintf(buf, size,
		    "client \"%s\" may not %s in namespace "
		    "\"%s\": %s",
		    r->identity, writes ? "write" : "read", r->ns, why);
	else
		snprintf(buf, size,
		    "client \"%s\" may not %s in any namespace: %s",
		    r->identity, writes ? "write" : "read", why);
}

/*
 * Whether the client may write (`writes`) or read in r->ns (issue #15): the
 * connection's unscoped permissions first; then, when some entry is
 * scoped, the client's names against r->ns ("" for /api/v1/pins and
 * /healthz: in some namespace; the pins list is then filtered).
 */
static int
allowed(struct api_req *r, const struct http_peer *peer, int writes)
{
	struct authz_id *id;
	enum authz_perm perm = writes ? AUTHZ_WRITE : AUTHZ_READ;
	int ok;

	if (peer->perms & (writes ? PERM_WRITE : PERM_READ))
		return 1;
	if (!authz_has_scoped(r->api->authz))
		return 0;
	if ((id = peer_id(r->rc.req)) == NULL)
		return 0;
	ok = r->ns[0] != '\0' ? authz_check(r->api->authz, id, perm, r->ns)
	                      : authz_check_any(r->api->authz, id, perm);
	free(id);
	return ok;
}

/* media type "application/json", parameters: only charset=utf-8. */
static int
content_type_ok(const char *ct)
{
	static const char want[] = "application/json";
	const char *p;
	size_t n = strlen(want);

	if (ct == NULL || strncasecmp(ct, want, n) != 0)
		return 0;
	p = ct + n;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 1;
	if (*p++ != ';')
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return 0;
	p += 8;
	if (*p == '"')
		return strcasecmp(p, "\"utf-8\"") == 0;
	n = strcspn(p, " \t");
	return n == 5 && strncasecmp(p, "utf-8", 5) == 0 &&
	    p[strspn(p + 5, " \t") + 5] == '\0';
}

/* Checks and decodes the JSON body of a PUT/POST.  0, or -1 after
 * answering. */
static int
read_body(struct api_req *r, struct http_req *req)
{
	const struct http_parse_req *h = http_req_head(req);
	const unsigned char *body;
	enum body_err e;
	size_t len;
	char msg[160];
	/* "suspended" is a pin's alone. */
	unsigned keys =
	    r->method == ROUTE_M_PUT ? BODY_KEYS_PIN : BODY_KEYS_SCALE;

	body = http_req_body(req, &len);
	if (h->content_type_long || !content_type_ok(h->content_type)) {
		fail(r, 415, "unsupported_media_type",
		    "Content-Type must be application/json");
		return -1;
	}
	if (!h->has_length) {
		fail(r, 411, "length_required",
		    "a Content-Length (or chunked body) is required");
		return -1;
	}
	if (len > GW_MAX_BODY) {
		snprintf(msg, sizeof(msg), "the body is limited to %d bytes",
		    GW_MAX_BODY);
		fail(r, 413, "body_too_large", msg);
		return -1;
	}
	e = body_parse_write(body, len, keys, r->api->max_replicas, &r->body);
	if (e == BODY_OK) {
		r->replicas = r->body.replicas;
		return 0;
	}
	body_describe(
	    e, r->body.bad_key, keys, r->api->max_replicas, msg, sizeof(msg));
	fail(r, e == BODY_NOMEM ? 500 : 400, body_reason(e, r->body.bad_key),
	    msg);
	return -1;
}

/* Routes whose query string is parsed (query.h): the writes. */
static int
is_write(enum route_id route, unsigned method)
{
	return (route == ROUTE_REPLICAS && method == ROUTE_M_POST) ||
	    (route == ROUTE_PIN &&
	        (method == ROUTE_M_PUT || method == ROUTE_M_DELETE));
}

/*
 * Issue #14's request conditions, before the body: If-Match (only on POST
 * replicas and PUT pin; one tag or "*"), then the write's query string,
 * then the weak tag's 412.  The 412 comes before the body is read, as RFC
 * 9110 §13.2.1 evaluates preconditions before the content.  0, or -1
 * after answering.
 */
static int
read_conditions(struct api_req *r, struct http_req *req, enum route_id route)
{
	const struct http_parse_req *h = http_req_head(req);
	struct query_write qw;
	enum query_err qe;
	size_t plen;

	r->ifm = http_parse_if_match(h, r->if_match);
	if (r->ifm != HIM_NONE &&
	    !((route == ROUTE_REPLICAS && r->method == ROUTE_M_POST) ||
	        (route == ROUTE_PIN && r->method == ROUTE_M_PUT))) {
		fail(r, 400, "invalid_if_match",
		    "If-Match is accepted only on POST .../replicas and PUT "
		    ".../pin (removing a pin has no resourceVersion "
		    "condition)");
		return -1;
	}
	if (r->ifm == HIM_LIST) {
		fail(r, 400, "invalid_if_match",
		    "If-Match takes exactly one entity-tag (a resourceVersion "
		    "in double quotes) or *");
		return -1;
	}
	if (r->ifm == HIM_MALFORMED) {
		fail(r, 400, "invalid_if_match",
		    "If-Match must be * or one strong entity-tag: a "
		    "resourceVersion (1 to 64 visible ASCII characters) in "
		    "double quotes");
		return -1;
	}
	(void)http_req_path(req, &plen);
	if (is_write(route, r->method) && plen < h->target_len) {
		qe = query_parse_write(
		    h->target + plen + 1, h->target_len - plen - 1, &qw);
		if (qe != QUERY_OK) {
			fail(r, 400, "invalid_query", query_message(qe));
			return -1;
		}
		r->dry_run = qw.dry_run;
	}
	if (r->ifm == HIM_WEAK) {
		/* RFC 9110 §13.1.1: If-Match compares strongly; a weak tag
		 * never matches, so no state could make it succeed. */
		fail(r, 412, "precondition_failed",
		    "If-Match uses the strong comparison: a weak entity-tag "
		    "(W/\"...\") never matches");
		return -1;
	}
	if (r->ifm != HIM_STRONG)
		r->if_match[0] = '\0';
	return 0;
}

/* What each route asks the core: one typed call (ipc_client.h) per
 * route and method, and the type it asked, for a refusal's answer. */
static enum ipcc_status
ask_core(struct api_req *r, enum route_id route, uint16_t *type)
{
	struct ipcc *c = r->api->ipcc;
	struct ipcc_req **h = &r->core;
	struct ipcc_write_opts o;

	/* Borrowed by the call only: it encodes before returning. */
	memset(&o, 0, sizeof(o));
	o.flags = r->dry_run ? PS_W_DRY_RUN : 0;
	if (r->method != ROUTE_M_DELETE) {
		if (r->body.force)
			o.flags |= PS_W_FORCE;
		if (r->body.present & BODY_K_EXPECTED) {
			o.flags |= PS_W_EXPECTED;
			o.expected = r->body.expected;
		}
		if (r->method == ROUTE_M_PUT && r->body.suspended)
			o.flags |= PS_W_SUSPEND;
		o.if_match = r->if_match; /* "" unless HIM_STRONG */
	}

	switch (route) {
	case ROUTE_LIST:
		*type = PS_T_LIST;
		return ipcc_list(c, r->ns, core_cb, r, h);
	case ROUTE_PINS:
		*type = PS_T_PIN_LIST;
		return ipcc_pin_list(c, r->ns, core_cb, r, h);
	case ROUTE_HEALTHZ:
		*type = PS_T_HEALTH;
		return ipcc_health(c, core_cb, r, h);
	case ROUTE_REPLICAS:
		if (r->method == ROUTE_M_POST) {
			*type = PS_T_SCALE;
			return ipcc_scale(c, r->ns, r->name, r->replicas,
			    r->identity, &o, core_cb, r, h);
		}
		*type = PS_T_GET;
		return ipcc_get(c, r->ns, r->name, core_cb, r, h);
	case ROUTE_PIN:
		if (r->method == ROUTE_M_PUT) {
			*type = PS_T_PIN_PUT;
			return ipcc_pin_put(c, r->ns, r->name, r->replicas,
			    r->identity, &o, core_cb, r, h);
		}
		if (r->method == ROUTE_M_DELETE) {
			*type = PS_T_PIN_DELETE;
			return ipcc_pin_delete(
			    c, r->ns, r->name, r->identity, &o, core_cb, r, h);
		}
		*type = PS_T_PIN_GET;
		return ipcc_pin_get(c, r->ns, r->name, core_cb, r, h);
	default:
		*type = 0;
		return IPCC_INTERNAL; /* routes without a core call end earlier
		                       */
	}
}

static void
submit(struct api_req *r, enum route_id route)
{
	struct ipcc_answer a;
	enum ipcc_status st;
	uint16_t type;

	st = ask_core(r, route, &type);
	if (st == IPCC_OK) {
		http_req_on_abort(r->rc.req, abort_cb, r);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.status = st;
	a.type = type;
	a.retry_after = ipcc_retry_after(r->api->ipcc);
	core_cb(&a, r);
}

void
api_serve(void *arg, struct http_req *req)
{
	struct api *api = arg;
	struct api_req *r;
	struct http_peer *peer = http_req_peer(req);
	struct route_match m;
	const char *path, *dns;
	size_t plen;
	char msg[128], fmsg[PS_MAX_IDENTITY + PS_MAX_NAMESPACE + 200];
	int writes;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		struct reply_ctx rc; /* still our headers, even now */

		log_warn("api request");
		reply_ctx_init(&rc, req, "api");
		reply_error(&rc, 500, "internal", "out of memory", NULL, NULL);
		return;
	}
	r->api = api;
	TAILQ_INSERT_TAIL(&api->reqs, r, link);
	reply_ctx_init(&r->rc, req, "api");
	r->method = route_method_bit(http_req_method(req));

	if (identify(api, peer) != 0) {
		http_req_close_after(req); /* not one of ours */
		fail(r, 401, "unauthenticated",
		    "a verified client certificate is required");
		return;
	}
	r->identity = peer->identity;
	path = http_req_path(req, &plen);
	route_match(path, plen, &m);
	r->rc.route = m.id;
	if (m.id == ROUTE_NONE) {
		fail(r, 404, "not_found", "no such resource");
		return;
	}
	if ((route_methods(m.id) & r->method) == 0) {
		snprintf(
		    msg, sizeof(msg), "allowed methods: %s", route_allow(m.id));
		reply_error(&r->rc, 405, "method_not_allowed", msg, "Allow",
		    route_allow(m.id));
		req_done(r);
		return;
	}
	/* The namespace first: the permission may depend on it. */
	if (m.ns_given && !m.ns_ok) {
		fail(r, 400, "invalid_namespace",
		    "the namespace must be a DNS-1123 label: 1 to 63 "
		    "lower-case letters, digits or '-', starting and ending "
		    "with a letter or digit");
		return;
	}
	if (m.ns_given)
		memcpy(r->ns, m.ns, sizeof(r->ns));
	else if (m.id == ROUTE_LIST || m.id == ROUTE_REPLICAS ||
	    m.id == ROUTE_PIN) {
		/* The default namespace is the core's: no link, no answer. */
		if ((dns = ipcc_default_namespace(api->ipcc)) == NULL) {
			fail_retry(r, 503, "core_unavailable",
			    "the service core is not reachable",
			    ipcc_retry_after(api->ipcc));
			return;
		}
		snprintf(r->ns, sizeof(r->ns), "%s", dns);
	}
	writes = route_is_write(m.id, r->method);
	if (!allowed(r, peer, writes)) {
		forbidden_message(r, writes, fmsg, sizeof(fmsg));
		log_info("authz: %s may not %s %s in namespace %s", r->identity,
		    http_req_method(req), route_label(m.id),
		    r->ns[0] != '\0' ? r->ns : "(any)");
		fail(r, 403, "forbidden", fmsg);
		return;
	}
	/* /api/v1/pins: only what the client may read, unless it may read
	 * everywhere. */
	r->filter = m.id == ROUTE_PINS && r->ns[0] == '\0' &&
	    (peer->perms & PERM_READ) == 0;
	if ((m.id == ROUTE_REPLICAS || m.id == ROUTE_PIN) && !m.name_ok) {
		fail(r, 400, "invalid_name",
		    "the deployment name must be a DNS-1123 subdomain");
		return;
	}
	memcpy(r->name, m.name, sizeof(r->name));
	if (read_conditions(r, req, m.id) != 0)
		return;
	if ((r->method == ROUTE_M_POST || r->method == ROUTE_M_PUT) &&
	    read_body(r, req) != 0)
		return;
	submit(r, m.id);
}

void
api_refuse(void *arg, struct http_req *req, const struct http_parse_error *e)
{
	struct http_peer *peer = http_req_peer(req);

	/* The access line names the client when the handshake did. */
	(void)identify(arg, peer);
	reply_refusal(req, "api", e);
}
