/*
 * ks_http.c — reply helpers over evhttp.  Every JSON body is produced by
 * yajl_gen; this file only frames it.  Reason phrases are set explicitly
 * because evhttp's table stops at 417.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/rand.h>

#include "tests/kube-sim/ks_http.h"
#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_status.h"
#include "tests/kube-sim/log.h"

const char *
ks_http_reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 201:
		return "Created";
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
	case 406:
		return "Not Acceptable";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 413:
		return "Request Entity Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	}
	return "Status";
}

const char *
ks_http_method(const struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
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
ks_http_log(const struct evhttp_request *req, int code)
{
	const char *uri = evhttp_request_get_uri(req);

	/* The URI carries no secret (tokens travel in headers). */
	log_info("%s %.300s -> %d", ks_http_method(req), uri ? uri : "-", code);
}

/* Headers a real API server sends on every answer. */
void
ks_http_headers(struct evhttp_request *req, const char *ctype)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	unsigned char b[16];
	char id[40];

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0x5a, sizeof(b));
	snprintf(id, sizeof(id),
	    "%02x%02x%02x%02x-%02x%02x-4%01x%02x-%02x%02x-%02x%02x%02x%02x%02x"
	    "%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6] & 0xf, b[7],
	    0x80 | (b[8] & 0x3f), b[9], b[10], b[11], b[12], b[13], b[14],
	    b[15]);
	evhttp_add_header(h, "Audit-Id", id);
	evhttp_add_header(h, "Cache-Control", "no-cache, private");
	if (ctype != NULL)
		evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "X-Kubernetes-Pf-Flowschema-Uid",
	    "7f0c1e9a-kube-sim-flowschema");
	evhttp_add_header(h, "X-Kubernetes-Pf-Prioritylevel-Uid",
	    "7f0c1e9a-kube-sim-prioritylevel");
}

void
ks_http_reply_gen(struct evhttp_request *req, int code, yajl_gen g)
{
	const unsigned char *buf;
	size_t len;
	struct evbuffer *out;

	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok ||
	    (out = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		ks_http_log(req, 500);
		return;
	}
	evbuffer_add(out, buf, len);
	ks_http_headers(req, "application/json");
	ks_http_log(req, code);
	evhttp_send_reply(req, code, ks_http_reason(code), out);
	evbuffer_free(out);
}

void
ks_http_reply_status(struct evhttp_request *req, const struct ks_status *st)
{
	yajl_gen g;

	if ((g = ks_gen_new()) == NULL || ks_status_gen(g, st) != 0) {
		if (g != NULL)
			yajl_gen_free(g);
		evhttp_send_error(req, 500, "Internal Server Error");
		ks_http_log(req, 500);
		return;
	}
	if (st->retry_after > 0) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%d", st->retry_after);
		evhttp_add_header(
		    evhttp_request_get_output_headers(req), "Retry-After", ra);
	}
	ks_http_reply_gen(req, st->code ? st->code : 200, g);
	yajl_gen_free(g);
}

void
ks_http_reply_text(struct evhttp_request *req, int code, const char *body)
{
	struct evbuffer *out;

	if ((out = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	evbuffer_add(out, body, strlen(body));
	ks_http_headers(req, "text/plain; charset=utf-8");
	ks_http_log(req, code);
	evhttp_send_reply(req, code, ks_http_reason(code), out);
	evbuffer_free(out);
}
