/*
 * reply.h — how every gateway answer leaves: JSON bodies built with
 * yajl_gen, the error body {"error":"<reason>","message":"<text>"}, the
 * access log line and the request metrics, then http_respond().  The
 * security headers are the listener's always_headers (main.c), so no
 * answer can leave without them.  Shared by the API and the probe
 * listener.
 */
#ifndef GW_REPLY_H
#define GW_REPLY_H

#include <stddef.h>

#include <yajl_gen.h>

#include "gateway/gw_limits.h"
#include "gateway/http_conn.h"
#include "gateway/route.h"

struct evbuffer;

/* The headers on every answer (http_server_config.always_headers). */
#define REPLY_HEADERS_PLAIN                   \
	"X-Content-Type-Options: nosniff\r\n" \
	"Cache-Control: no-store\r\n"
#define REPLY_HEADERS_TLS   \
	REPLY_HEADERS_PLAIN \
	"Strict-Transport-Security: max-age=" GW_HSTS_MAX_AGE "\r\n"

/* What the access line and metrics need besides the request itself. */
struct reply_ctx {
	struct http_req *req; /* NULL once answered */
	const char *listener; /* "api" / "probe" */
	enum route_id route;
};

void reply_ctx_init(
    struct reply_ctx *rc, struct http_req *req, const char *listener);

/* A yajl generator that refuses invalid UTF-8; NULL on allocation. */
yajl_gen reply_gen_new(void);
void reply_gen_str(yajl_gen g, const char *s);
void reply_gen_kv_str(yajl_gen g, const char *k, const char *v);
void reply_gen_int(yajl_gen g, long long v);
void reply_gen_kv_int(yajl_gen g, const char *k, long long v);
void reply_gen_kv_bool(yajl_gen g, const char *k, int v);

/*
 * Sends `status` with the JSON in `g` (freed here, also on error) as the
 * body.  `extra_name`/`extra_value` add one header (Allow, Retry-After)
 * when not NULL.  `reason` goes to the access log for errors.
 */
void reply_json(struct reply_ctx *rc, int status, yajl_gen g,
    const char *reason, const char *extra_name, const char *extra_value);
/*
 * The error body's start, {"error":reason,"message":message, left open
 * for fields of the error's own (issue #14: currentReplicas, ...); the
 * caller closes the map and sends it with reply_json().  NULL on
 * allocation failure.
 */
yajl_gen reply_error_gen(const char *reason, const char *message);
/* Sends the error body. */
void reply_error(struct reply_ctx *rc, int status, const char *reason,
    const char *message, const char *extra_name, const char *extra_value);
/* Sends `body` (not taken) as text/plain Prometheus exposition. */
void reply_text(struct reply_ctx *rc, int status, struct evbuffer *body);
/* Answers a request http_parse refused (the connection then closes). */
void reply_refusal(
    struct http_req *r, const char *listener, const struct http_parse_error *e);

#endif /* GW_REPLY_H */
