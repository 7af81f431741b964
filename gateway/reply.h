/*
 * reply.h — how every gateway response leaves: the security headers on
 * every response (errors included), JSON bodies built with yajl_gen, the
 * error body {"error":"<reason>","message":"<text>"}, the access log line
 * and the request metrics.  Shared by the API and the probe listener.
 */
#ifndef GW_REPLY_H
#define GW_REPLY_H

#include <stddef.h>
#include <sys/time.h>

#include <yajl_gen.h>

#include "gateway/gw_limits.h"
#include "gateway/log.h"
#include "gateway/route.h"

struct evhttp_request;
struct evbuffer;

/* What the access line and metrics need to know about a request. */
struct reply_ctx {
	struct evhttp_request *req;
	const char *listener; /* "api" / "probe" */
	enum route_id route;
	struct timeval start;
	int draining; /* add Connection: close */
	int tls;      /* add Strict-Transport-Security */
	size_t bytes_in;
	char peer[64];
	char identity[PS_MAX_IDENTITY + 1];
	char method[16];
	char path[GW_LOG_PATH_MAX + 1];
};

/* Fills the logging fields of `rc` from the request. */
void reply_ctx_init(struct reply_ctx *rc, struct evhttp_request *req,
    const char *listener, int tls, const char *peer);

/* A yajl generator that refuses invalid UTF-8; NULL on allocation. */
yajl_gen reply_gen_new(void);
void reply_gen_str(yajl_gen g, const char *s);
void reply_gen_kv_str(yajl_gen g, const char *k, const char *v);
void reply_gen_kv_int(yajl_gen g, const char *k, long long v);
void reply_gen_kv_bool(yajl_gen g, const char *k, int v);

/*
 * Sends `status` with the JSON in `g` (freed here, also on error) as the
 * body.  `extra_name`/`extra_value` add one header (Allow, Retry-After)
 * when not NULL.  `reason` goes to the access log for errors.
 */
void reply_json(struct reply_ctx *rc, int status, yajl_gen g,
    const char *reason, const char *extra_name, const char *extra_value);
/* Sends the error body. */
void reply_error(struct reply_ctx *rc, int status, const char *reason,
    const char *message, const char *extra_name, const char *extra_value);
/* Sends `body` (taken) as text/plain Prometheus exposition. */
void reply_text(struct reply_ctx *rc, int status, struct evbuffer *body);

/*
 * A refusal written outside evhttp (conn.c, for requests http_guard
 * refuses): status line, Date, Content-Type, Content-Length, Connection:
 * close, the same security headers as every other answer, and the error
 * body.  The access line and the request metrics are written here too.
 */
struct reply_raw {
	int tls;
	const char *message;   /* the error body's "message" */
	struct log_access log; /* status, reason ("error" token), who, what */
};

/* Appends the whole answer to `out`; 0, or -1 when it could not be built
 * (it is logged either way). */
int reply_raw_error(struct evbuffer *out, const struct reply_raw *r);

#endif /* GW_REPLY_H */
