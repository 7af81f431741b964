/*
 * reply.c — response headers, JSON bodies and the access log.
 *
 * Status reason phrases are ours (evhttp would otherwise pick them), and
 * the headers come from one table here, so no response can leave without
 * them: evhttp's replies (finish) and the raw error answers conn.c writes
 * for requests http_guard refuses before evhttp sees them
 * (reply_raw_error).
 */
#include <time.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "gateway/gw_limits.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/reply.h"

/* On every response of both listeners; HSTS is added on TLS ones. */
static const char *const always_headers[][2] = {
    {"X-Content-Type-Options", "nosniff"},
    {"Cache-Control", "no-store"},
};
#define HSTS_NAME  "Strict-Transport-Security"
#define HSTS_VALUE "max-age=" GW_HSTS_MAX_AGE

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
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 417:
		return "Expectation Failed";
	case 431:
		return "Request Header Fields Too Large";
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
	case 505:
		return "HTTP Version Not Supported";
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

/* The access line and, for the API, the request metrics. */
static void
account(const struct log_access *a, enum route_id route)
{
	log_access(a);
	if (strcmp(a->listener, "api") == 0)
		metrics_request(route, a->status, a->latency_us);
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
	size_t i;

	evhttp_add_header(h, "Content-Type", ctype);
	for (i = 0; i < sizeof(always_headers) / sizeof(always_headers[0]); i++)
		evhttp_add_header(
		    h, always_headers[i][0], always_headers[i][1]);
	if (rc->tls)
		evhttp_add_header(h, HSTS_NAME, HSTS_VALUE);
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
	account(&a, rc->route);
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

static yajl_gen error_body(const char *reason, const char *message);

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
	finish(rc, status, body, "text/plain; version=0.0.4; charset=utf-8",
	    NULL, NULL, NULL);
}

/* The error body of reply_error, as bytes; NULL on allocation failure. */
static yajl_gen
error_body(const char *reason, const char *message)
{
	yajl_gen g = reply_gen_new();

	if (g == NULL)
		return NULL;
	yajl_gen_map_open(g);
	reply_gen_kv_str(g, "error", reason);
	reply_gen_kv_str(g, "message", message);
	yajl_gen_map_close(g);
	return g;
}

int
reply_raw_error(struct evbuffer *out, const struct reply_raw *r)
{
	yajl_gen g = error_body(r->log.reason, r->message);
	const unsigned char *p;
	size_t len = 0, i;
	char date[64];
	struct tm tm;
	time_t now = time(NULL);
	struct log_access a;
	int rc = -1;

	if (g == NULL || yajl_gen_get_buf(g, &p, &len) != yajl_gen_status_ok ||
	    gmtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		goto out;
	if (evbuffer_add_printf(out,
	        "HTTP/1.1 %d %s\r\n"
	        "Date: %s\r\n"
	        "Content-Type: application/json\r\n"
	        "Content-Length: %zu\r\n"
	        "Connection: close\r\n",
	        r->log.status, phrase(r->log.status), date, len + 1) < 0)
		goto out;
	for (i = 0; i < sizeof(always_headers) / sizeof(always_headers[0]); i++)
		if (evbuffer_add_printf(out, "%s: %s\r\n", always_headers[i][0],
		        always_headers[i][1]) < 0)
			goto out;
	if ((r->tls &&
	        evbuffer_add_printf(out, "%s: %s\r\n", HSTS_NAME, HSTS_VALUE) <
	            0) ||
	    evbuffer_add(out, "\r\n", 2) != 0 ||
	    evbuffer_add(out, p, len) != 0 || evbuffer_add(out, "\n", 1) != 0)
		goto out;
	rc = 0;
out:
	if (g != NULL)
		yajl_gen_free(g);
	a = r->log;
	a.bytes_out = rc == 0 ? len + 1 : 0;
	account(&a, ROUTE_NONE);
	return rc;
}
