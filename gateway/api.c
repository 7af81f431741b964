/*
 * api.c — routing, validation and authorization for the REST API, and
 * each request's life.  A request is routed, checked and authorized
 * here, then asked of the core through ipc_client.c; the core's answer
 * is turned into HTTP by api_answer.c (api_int.h is what the two share).
 * Refusals made here are answered through reply.c.
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
#include "gateway/api_int.h"
#include "gateway/authz.h"
#include "gateway/body.h"
#include "gateway/http_conn.h"
#include "gateway/gw_limits.h"
#include "gateway/ipc_client.h"
#include "gateway/log.h"
#include "gateway/query.h"
#include "gateway/reply.h"
#include "gateway/route.h"

/* struct http_peer.perms */
#define PERM_READ  0x1u
#define PERM_WRITE 0x2u

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

void
api_req_done(struct api_req *r)
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

void
api_fail(struct api_req *r, int status, const char *reason, const char *msg)
{
	reply_error(&r->rc, status, reason, msg, NULL, NULL);
	api_req_done(r);
}

void
api_fail_retry(struct api_req *r, int status, const char *reason,
    const char *msg, uint32_t retry_after)
{
	char ra[16];

	if (retry_after == 0)
		retry_after = GW_RETRY_AFTER_DEFAULT;
	snprintf(ra, sizeof(ra), "%u", retry_after);
	reply_error(&r->rc, status, reason, msg, "Retry-After", ra);
	api_req_done(r);
}

/*
 * The client's names again, for a permission scoped to a namespace (the
 * connection keeps only the identity and the unscoped permissions).
 * NULL when out of memory or the certificate is unusable.
 */
struct authz_id *
api_peer_id(struct http_req *req)
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
	if ((id = api_peer_id(r->rc.req)) == NULL)
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
		api_fail(r, 415, "unsupported_media_type",
		    "Content-Type must be application/json");
		return -1;
	}
	if (!h->has_length) {
		api_fail(r, 411, "length_required",
		    "a Content-Length (or chunked body) is required");
		return -1;
	}
	if (len > GW_MAX_BODY) {
		snprintf(msg, sizeof(msg), "the body is limited to %d bytes",
		    GW_MAX_BODY);
		api_fail(r, 413, "body_too_large", msg);
		return -1;
	}
	e = body_parse_write(body, len, keys, r->api->max_replicas, &r->body);
	if (e == BODY_OK) {
		r->replicas = r->body.replicas;
		return 0;
	}
	body_describe(
	    e, r->body.bad_key, keys, r->api->max_replicas, msg, sizeof(msg));
	api_fail(r, e == BODY_NOMEM ? 500 : 400,
	    body_reason(e, r->body.bad_key), msg);
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
		api_fail(r, 400, "invalid_if_match",
		    "If-Match is accepted only on POST .../replicas and PUT "
		    ".../pin (removing a pin has no resourceVersion "
		    "condition)");
		return -1;
	}
	if (r->ifm == HIM_LIST) {
		api_fail(r, 400, "invalid_if_match",
		    "If-Match takes exactly one entity-tag (a resourceVersion "
		    "in double quotes) or *");
		return -1;
	}
	if (r->ifm == HIM_MALFORMED) {
		api_fail(r, 400, "invalid_if_match",
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
			api_fail(r, 400, "invalid_query", query_message(qe));
			return -1;
		}
		r->dry_run = qw.dry_run;
	}
	if (r->ifm == HIM_WEAK) {
		/* RFC 9110 §13.1.1: If-Match compares strongly; a weak tag
		 * never matches, so no state could make it succeed. */
		api_fail(r, 412, "precondition_failed",
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
		return ipcc_list(c, r->ns, api_answer_cb, r, h);
	case ROUTE_PINS:
		*type = PS_T_PIN_LIST;
		return ipcc_pin_list(c, r->ns, api_answer_cb, r, h);
	case ROUTE_HEALTHZ:
		*type = PS_T_HEALTH;
		return ipcc_health(c, api_answer_cb, r, h);
	case ROUTE_REPLICAS:
		if (r->method == ROUTE_M_POST) {
			*type = PS_T_SCALE;
			return ipcc_scale(c, r->ns, r->name, r->replicas,
			    r->identity, &o, api_answer_cb, r, h);
		}
		*type = PS_T_GET;
		return ipcc_get(c, r->ns, r->name, api_answer_cb, r, h);
	case ROUTE_PIN:
		if (r->method == ROUTE_M_PUT) {
			*type = PS_T_PIN_PUT;
			return ipcc_pin_put(c, r->ns, r->name, r->replicas,
			    r->identity, &o, api_answer_cb, r, h);
		}
		if (r->method == ROUTE_M_DELETE) {
			*type = PS_T_PIN_DELETE;
			return ipcc_pin_delete(c, r->ns, r->name, r->identity,
			    &o, api_answer_cb, r, h);
		}
		*type = PS_T_PIN_GET;
		return ipcc_pin_get(c, r->ns, r->name, api_answer_cb, r, h);
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
	api_answer_cb(&a, r);
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
		api_fail(r, 401, "unauthenticated",
		    "a verified client certificate is required");
		return;
	}
	r->identity = peer->identity;
	path = http_req_path(req, &plen);
	route_match(path, plen, &m);
	r->rc.route = m.id;
	if (m.id == ROUTE_NONE) {
		api_fail(r, 404, "not_found", "no such resource");
		return;
	}
	if ((route_methods(m.id) & r->method) == 0) {
		snprintf(
		    msg, sizeof(msg), "allowed methods: %s", route_allow(m.id));
		reply_error(&r->rc, 405, "method_not_allowed", msg, "Allow",
		    route_allow(m.id));
		api_req_done(r);
		return;
	}
	/* The namespace first: the permission may depend on it. */
	if (m.ns_given && !m.ns_ok) {
		api_fail(r, 400, "invalid_namespace",
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
			api_fail_retry(r, 503, "core_unavailable",
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
		api_fail(r, 403, "forbidden", fmsg);
		return;
	}
	/* /api/v1/pins: only what the client may read, unless it may read
	 * everywhere. */
	r->filter = m.id == ROUTE_PINS && r->ns[0] == '\0' &&
	    (peer->perms & PERM_READ) == 0;
	if ((m.id == ROUTE_REPLICAS || m.id == ROUTE_PIN) && !m.name_ok) {
		api_fail(r, 400, "invalid_name",
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