/*
 * reply.c — response headers, JSON bodies and the access log.
 *
 * Status reason phrases are ours (evhttp would otherwise pick them), and
 * the headers are set here and only here, so no response can leave
 * without them.  Known gap: libevent 2.1 answers a few malformed requests
 * itself (see README "Known limits").
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "gateway/gw_limits.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/reply.h"

static const char *
phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Unknown";
	}
}

static const char *
method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	}
	return "OTHER";
}

void
reply_ctx_init(struct reply_ctx *rc, struct evhttp_request *req,
    const char *listener, int tls, const char *peer)
{
	const struct evhttp_uri *uri;
	const char *path = NULL;

	memset(rc, 0, sizeof(*rc));
	rc->req = req;
	rc->listener = listener;
	rc->tls = tls;
	rc->route = ROUTE_NONE;
	gettimeofday(&rc->start, NULL);
	snprintf(rc->identity, sizeof(rc->identity), "-");
	snprintf(rc->method, sizeof(rc->method), "%s",
	    method_name(evhttp_request_get_command(req)));
	log_sanitize(rc->peer, sizeof(rc->peer), peer, strlen(peer));
	if ((uri = evhttp_request_get_evhttp_uri(req)) != NULL)
		path = evhttp_uri_get_path(uri);
	if (path == NULL)
		path = "-";
	log_sanitize(rc->path, sizeof(rc->path), path, strlen(path));
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

void
reply_gen_kv_int(yajl_gen g, const char *k, long long v)
{
	reply_gen_str(g, k);
	yajl_gen_integer(g, v);
}

void
reply_gen_kv_bool(yajl_gen g, const char *k, int v)
{
	reply_gen_str(g, k);
	yajl_gen_bool(g, v);
}

static void
finish(struct reply_ctx *rc, int status, struct evbuffer *body,
    const char *ctype, const char *reason, const char *extra_name,
    const char *extra_value)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(rc->req);
	struct log_access a;
	struct timeval now, d;
	size_t out = body != NULL ? evbuffer_get_length(body) : 0;
	long us;

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (rc->tls)
		evhttp_add_header(
		    h, "Strict-Transport-Security", "max-age=" GW_HSTS_MAX_AGE);
	if (extra_name != NULL && extra_value != NULL)
		evhttp_add_header(h, extra_name, extra_value);
	if (rc->draining)
		evhttp_add_header(h, "Connection", "close");
	gettimeofday(&now, NULL);
	timersub(&now, &rc->start, &d);
	us = (long)d.tv_sec * 1000000L + (long)d.tv_usec;
	memset(&a, 0, sizeof(a));
	a.listener = rc->listener;
	a.peer = rc->peer;
	a.identity = rc->identity;
	a.method = rc->method;
	a.path = rc->path;
	a.status = status;
	a.latency_us = us;
	a.bytes_in = rc->bytes_in;
	a.bytes_out = out;
	a.reason = reason;
	log_access(&a);
	if (strcmp(rc->listener, "api") == 0)
		metrics_request(rc->route, status, us);
	/* If the client is gone evhttp frees the request here. */
	evhttp_send_reply(rc->req, status, phrase(status), body);
	if (body != NULL)
		evbuffer_free(body);
	rc->req = NULL;
}

void
reply_json(struct reply_ctx *rc, int status, yajl_gen g, const char *reason,
    const char *extra_name, const char *extra_value)
{
	struct evbuffer *body = evbuffer_new();
	const unsigned char *p;
	size_t len;

	if (g == NULL || body == NULL ||
	    yajl_gen_get_buf(g, &p, &len) != yajl_gen_status_ok ||
	    evbuffer_add(body, p, len) != 0 || evbuffer_add(body, "\n", 1)) {
		log_warnx("cannot build a JSON answer");
		if (body != NULL)
			evbuffer_free(body);
		body = NULL;
		if (status < 500) {
			status = 500;
			reason = "internal";
		}
	}
	if (g != NULL)
		yajl_gen_free(g);
	finish(rc, status, body, "application/json", reason, extra_name,
	    extra_value);
}

void
reply_error(struct reply_ctx *rc, int status, const char *reason,
    const char *message, const char *extra_name, const char *extra_value)
{
	yajl_gen g = reply_gen_new();

	if (g != NULL) {
		yajl_gen_map_open(g);
		reply_gen_kv_str(g, "error", reason);
		reply_gen_kv_str(g, "message", message);
		yajl_gen_map_close(g);
	}
	reply_json(rc, status, g, reason, extra_name, extra_value);
}

void
reply_text(struct reply_ctx *rc, int status, struct evbuffer *body)
{
	finish(rc, status, body, "text/plain; version=0.0.4; charset=utf-8",
	    NULL, NULL, NULL);
}
