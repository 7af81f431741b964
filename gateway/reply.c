/*
 * reply.c — JSON answers, the error body and the access log (see
 * reply.h).  Every answer of both listeners goes through finish(), which
 * writes the access line and the request metrics, then hands the bytes to
 * http_respond().
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "gateway/gw_limits.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/reply.h"

void
reply_ctx_init(struct reply_ctx *rc, struct http_req *req, const char *listener)
{
	rc->req = req;
	rc->listener = listener;
	rc->route = ROUTE_NONE;
}

yajl_gen
reply_gen_new(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (g != NULL)
		yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

void
reply_gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void
reply_gen_kv_str(yajl_gen g, const char *k, const char *v)
{
	reply_gen_str(g, k);
	reply_gen_str(g, v);
}

/* yajl_gen_integer formats with printf; numbers are on every answer. */
void
reply_gen_int(yajl_gen g, long long v)
{
	char d[LOG_ITOA_SIZE];
	size_t n;
	const char *p = log_itoa(v, d, &n);

	yajl_gen_number(g, p, n);
}

void
reply_gen_kv_int(yajl_gen g, const char *k, long long v)
{
	reply_gen_str(g, k);
	reply_gen_int(g, v);
}

void
reply_gen_kv_bool(yajl_gen g, const char *k, int v)
{
	reply_gen_str(g, k);
	yajl_gen_bool(g, v);
}

/* The access line (client bytes sanitized here) and the metrics. */
static void
account(struct reply_ctx *rc, int status, const char *reason, size_t out)
{
	struct http_req *r = rc->req;
	struct http_peer *peer = http_req_peer(r);
	struct log_access a;
	char method[16], path[GW_LOG_PATH_MAX + 1];
	const char *p = NULL;
	size_t plen = 0, in;
	long us = (long)(http_req_now_us() - http_req_start_us(r));

	p = http_req_path(r, &plen);
	log_sanitize(method, sizeof(method), http_req_method(r),
	    strlen(http_req_method(r)));
	log_sanitize(
	    path, sizeof(path), plen > 0 ? p : "-", plen > 0 ? plen : 1);
	(void)http_req_body(r, &in);
	memset(&a, 0, sizeof(a));
	a.listener = rc->listener;
	a.peer = peer->addr;
	a.identity = peer->identified ? peer->identity : "-";
	a.method = method;
	a.path = path;
	a.status = status;
	a.latency_us = us;
	a.bytes_in = in;
	a.bytes_out = out;
	a.reason = reason;
	log_access(&a);
	if (strcmp(rc->listener, "api") == 0)
		metrics_request(rc->route, status, us);
}

static void
finish(struct reply_ctx *rc, int status, const struct iovec *body, size_t nbody,
    const char *ctype, const char *reason, const char *extra_name,
    const char *extra_value)
{
	struct http_header h = {extra_name, extra_value};
	size_t i, len = 0;

	if (rc->req == NULL)
		return; /* answered already: a bug, never two answers */
	for (i = 0; i < nbody; i++)
		len += body[i].iov_len;
	account(rc, status, reason, len);
	http_respond(rc->req, status, ctype, &h,
	    extra_name != NULL && extra_value != NULL ? 1 : 0, body, nbody);
	rc->req = NULL;
}

void
reply_json(struct reply_ctx *rc, int status, yajl_gen g, const char *reason,
    const char *extra_name, const char *extra_value)
{
	const unsigned char *p = NULL;
	size_t len = 0;
	/* The newline ends the document for line-reading clients. */
	struct iovec body[2] = {{NULL, 0}, {(void *)(uintptr_t) "\n", 1}};

	if (g == NULL || yajl_gen_get_buf(g, &p, &len) != yajl_gen_status_ok) {
		log_warnx("cannot build a JSON answer");
		if (status < 500) {
			status = 500;
			reason = "internal";
		}
		finish(rc, status, NULL, 0, "application/json", reason, NULL,
		    NULL);
	} else {
		body[0].iov_base = (void *)(uintptr_t)p;
		body[0].iov_len = len;
		finish(rc, status, body, 2, "application/json", reason,
		    extra_name, extra_value);
	}
	if (g != NULL)
		yajl_gen_free(g);
}

yajl_gen
reply_error_gen(const char *reason, const char *message)
{
	yajl_gen g = reply_gen_new();

	if (g == NULL)
		return NULL;
	yajl_gen_map_open(g);
	reply_gen_kv_str(g, "error", reason);
	reply_gen_kv_str(g, "message", message);
	return g;
}

/* The error body of reply_error; NULL on allocation failure. */
static yajl_gen
error_body(const char *reason, const char *message)
{
	yajl_gen g = reply_error_gen(reason, message);

	if (g != NULL)
		yajl_gen_map_close(g);
	return g;
}

void
reply_error(struct reply_ctx *rc, int status, const char *reason,
    const char *message, const char *extra_name, const char *extra_value)
{
	reply_json(rc, status, error_body(reason, message), reason, extra_name,
	    extra_value);
}

void
reply_text(struct reply_ctx *rc, int status, struct evbuffer *body)
{
	struct iovec v;

	v.iov_len = evbuffer_get_length(body);
	v.iov_base = evbuffer_pullup(body, -1);
	if (v.iov_base == NULL && v.iov_len > 0) {
		reply_error(rc, 500, "internal", "out of memory", NULL, NULL);
		return;
	}
	finish(rc, status, &v, 1, "text/plain; version=0.0.4; charset=utf-8",
	    NULL, NULL, NULL);
}

void
reply_refusal(
    struct http_req *r, const char *listener, const struct http_parse_error *e)
{
	struct reply_ctx rc;

	reply_ctx_init(&rc, r, listener);
	reply_error(&rc, e->status, e->reason, e->message, NULL, NULL);
}
