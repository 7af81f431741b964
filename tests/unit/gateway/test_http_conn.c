/*
 * test_http_conn.c — the gateway's HTTP connection over a socketpair with
 * a test handler: answers in request order whatever order the handler
 * answers in, HEAD and 1xx/204/304 without a body, Connection: close and
 * HTTP/1.0, bytes after the last request never parsed, 100-continue, the
 * pipeline cap, refusals after earlier answers, abort callbacks when the
 * client leaves, draining, and the one teardown.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "gateway/gw_limits.h"
#include "gateway/http_conn.h"
#include "gateway/http_io.h"

#define MAXREQ 64

struct fixture {
	struct event_base *base;
	struct http_server *srv;
	struct http_handler h;
	int client; /* the test's end of the socketpair */
	int hold;   /* serve() keeps requests instead of answering */
	struct http_req *held[MAXREQ];
	char paths[MAXREQ][64];
	int nserved, nrefused, naborted;
	char in[65536]; /* what the client received */
	size_t in_len;
	int client_eof;
};

static void
answer(struct http_req *r, int status, const char *body)
{
	struct iovec v = {(void *)(uintptr_t)body, strlen(body)};

	http_respond(r, status, "text/plain", NULL, 0, &v, 1);
}

static void
on_abort(void *arg)
{
	struct fixture *f = arg;

	f->naborted++;
}

static void
serve(void *arg, struct http_req *r)
{
	struct fixture *f = arg;
	const char *p;
	size_t len;

	p = http_req_path(r, &len);
	assert_true(f->nserved < MAXREQ);
	snprintf(
	    f->paths[f->nserved], sizeof(f->paths[0]), "%.*s", (int)len, p);
	if (f->hold) {
		http_req_on_abort(r, on_abort, f);
		f->held[f->nserved++] = r;
		return;
	}
	f->nserved++;
	answer(r, 200, f->paths[f->nserved - 1]);
}

static void
refuse(void *arg, struct http_req *r, const struct http_parse_error *e)
{
	struct fixture *f = arg;

	f->nrefused++;
	answer(r, e->status, e->reason);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct http_server_config cfg;
	const struct http_io_ops *ops;
	void *io;
	int sv[2];

	assert_non_null(f);
	assert_non_null(f->base = event_base_new());
	f->h.serve = serve;
	f->h.refuse = refuse;
	f->h.arg = f;
	memset(&cfg, 0, sizeof(cfg));
	cfg.handler = &f->h;
	cfg.io_new = http_io_plain_new;
	cfg.limits.max_head = GW_MAX_HEADERS_SIZE;
	cfg.limits.max_fields = GW_MAX_HEADERS;
	cfg.limits.max_target = GW_MAX_URI;
	cfg.limits.max_body = GW_MAX_BODY_READ;
	cfg.always_headers = "X-Test: yes\r\n";
	cfg.max_connections = 8;
	cfg.request_deadline_s = 15;
	cfg.idle_timeout_s = 10;
	assert_non_null(f->srv = http_server_new(f->base, &cfg));
	assert_int_equal(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_non_null(io = http_io_plain_new(NULL, sv[0], &ops));
	assert_non_null(http_conn_new(f->srv, sv[0], ops, io));
	f->client = sv[1];
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	http_server_free(f->srv);
	if (f->client >= 0)
		close(f->client);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Runs the loop until nothing moves; collects what the client got. */
static void
spin(struct fixture *f)
{
	ssize_t n;
	int i;

	for (i = 0; i < 8; i++) {
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		while (f->client >= 0 &&
		    (n = recv(f->client, f->in + f->in_len,
		         sizeof(f->in) - 1 - f->in_len, MSG_DONTWAIT)) >= 0) {
			if (n == 0) {
				f->client_eof = 1;
				break;
			}
			f->in_len += (size_t)n;
		}
		f->in[f->in_len] = '\0';
	}
}

static void
client_send(struct fixture *f, const char *s)
{
	assert_int_equal(
	    send(f->client, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
	spin(f);
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void
test_conn_answers_in_request_order(void **state)
{
	struct fixture *f = *state;
	const char *a, *b;

	f->hold = 1;
	client_send(f, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
	assert_int_equal(f->nserved, 2);
	assert_int_equal(http_server_inflight(f->srv), 2);
	answer(f->held[1], 200, "second");
	spin(f);
	assert_int_equal(f->in_len, 0); /* /b waits for /a */
	answer(f->held[0], 200, "first");
	spin(f);
	a = strstr(f->in, "first");
	b = strstr(f->in, "second");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b);
	assert_int_equal(count(f->in, "HTTP/1.1 200 OK\r\n"), 2);
	assert_int_equal(count(f->in, "X-Test: yes\r\n"), 2);
	assert_int_equal(count(f->in, "Content-Length: 5\r\n"), 1);
	assert_int_equal(http_server_inflight(f->srv), 0);
	assert_false(f->client_eof); /* kept alive */
}

static void
test_conn_head_has_no_body(void **state)
{
	struct fixture *f = *state;

	client_send(f, "HEAD /hello HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
	assert_int_equal(f->nserved, 2);
	/* The HEAD answer announces the GET body's length, sends none. */
	assert_non_null(strstr(f->in, "Content-Length: 6\r\n"));
	assert_non_null(strstr(f->in, "yes\r\n\r\nHTTP/1.1 200"));
	assert_non_null(strstr(f->in, "Content-Length: 2\r\n"));
	assert_non_null(strstr(f->in, "yes\r\n\r\n/x"));
	assert_null(strstr(f->in, "/hello"));
}

static void
test_conn_1xx_204_304_have_no_body(void **state)
{
	struct fixture *f = *state;

	f->hold = 1;
	client_send(f,
	    "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"
	    "GET /3 HTTP/1.1\r\n\r\n");
	answer(f->held[0], 204, "nobody");
	answer(f->held[1], 304, "nobody");
	answer(f->held[2], 200, "end");
	spin(f);
	assert_null(strstr(f->in, "nobody"));
	assert_non_null(strstr(f->in, "HTTP/1.1 204 No Content\r\n"));
	assert_non_null(strstr(f->in, "HTTP/1.1 304 Not Modified\r\n"));
	/* Only the 200 has a Content-Length, and its body follows. */
	assert_int_equal(count(f->in, "Content-Length"), 1);
	assert_non_null(strstr(f->in, "Content-Length: 3\r\n"));
	assert_non_null(strstr(f->in, "yes\r\n\r\nend"));
}

static void
test_conn_close_ignores_what_follows(void **state)
{
	struct fixture *f = *state;

	client_send(f,
	    "GET /a HTTP/1.1\r\nConnection: close\r\n\r\n\r\n"
	    "GET /never HTTP/1.1\r\n\r\n");
	assert_int_equal(f->nserved, 1);
	assert_int_equal(f->nrefused, 0);
	assert_non_null(strstr(f->in, "Connection: close\r\n"));
	assert_true(f->client_eof);
	/* The connection lingers until the client closes, then is freed. */
	close(f->client);
	f->client = -1;
	spin(f);
	assert_int_equal(http_server_connections(f->srv), 0);
}

/* A client that asked to close and sent nothing more is not waited for. */
static void
test_conn_close_without_linger(void **state)
{
	struct fixture *f = *state;

	client_send(f, "GET /a HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_int_equal(f->nserved, 1);
	assert_true(f->client_eof);
	assert_int_equal(http_server_connections(f->srv), 0);
}

static void
test_conn_http10(void **state)
{
	struct fixture *f = *state;

	client_send(f, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_non_null(strstr(f->in, "Connection: keep-alive\r\n"));
	assert_false(f->client_eof);
	client_send(f, "GET /b HTTP/1.0\r\n\r\n\n");
	assert_int_equal(f->nserved, 2);
	assert_non_null(strstr(f->in, "Connection: close\r\n"));
	assert_true(f->client_eof);
	assert_int_equal(f->nrefused, 0);
}

static void
test_conn_refusal_after_earlier_answers(void **state)
{
	struct fixture *f = *state;
	const char *ok, *bad;

	f->hold = 1;
	client_send(f,
	    "GET /a HTTP/1.1\r\n\r\nqXHEAD / HTTP/1.1\r\n\r\n"
	    "GET /never HTTP/1.1\r\n\r\n");
	assert_int_equal(f->nserved, 1);
	assert_int_equal(f->nrefused, 1);
	assert_int_equal(f->in_len, 0); /* the refusal waits for /a */
	answer(f->held[0], 200, "first");
	spin(f);
	ok = strstr(f->in, "first");
	bad = strstr(f->in, "HTTP/1.1 501 Not Implemented\r\n");
	assert_non_null(ok);
	assert_non_null(bad);
	assert_true(ok < bad);
	assert_non_null(strstr(bad, "Connection: close\r\n"));
	assert_true(f->client_eof);
}

static void
test_conn_client_leaving_aborts_requests(void **state)
{
	struct fixture *f = *state;

	f->hold = 1;
	client_send(f, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
	assert_int_equal(f->nserved, 2);
	close(f->client);
	f->client = -1;
	spin(f);
	/* A half-closed client still gets its answers; a closed one is
	 * seen only when a write fails, so answer one. */
	answer(f->held[0], 200, "late");
	spin(f);
	assert_int_equal(http_server_connections(f->srv), 0);
	assert_int_equal(f->naborted, 1);
	assert_int_equal(http_server_inflight(f->srv), 0);
}

static void
test_conn_half_close_still_answers(void **state)
{
	struct fixture *f = *state;

	f->hold = 1;
	client_send(f, "GET /a HTTP/1.1\r\n\r\n");
	assert_int_equal(shutdown(f->client, SHUT_WR), 0);
	spin(f);
	assert_int_equal(http_server_connections(f->srv), 1);
	answer(f->held[0], 200, "late");
	spin(f);
	assert_non_null(strstr(f->in, "late"));
	assert_true(f->client_eof);
	assert_int_equal(http_server_connections(f->srv), 0);
	assert_int_equal(f->naborted, 0);
}

static void
test_conn_expect_continue(void **state)
{
	struct fixture *f = *state;

	client_send(f,
	    "POST /p HTTP/1.1\r\nContent-Length: 3\r\n"
	    "Expect: 100-continue\r\n\r\n");
	assert_int_equal(f->nserved, 0);
	assert_string_equal(f->in, "HTTP/1.1 100 Continue\r\n\r\n");
	client_send(f, "abc");
	assert_int_equal(f->nserved, 1);
	assert_non_null(strstr(f->in, "HTTP/1.1 200 OK\r\n"));
	assert_int_equal(count(f->in, "100 Continue"), 1);
}

static void
test_conn_pipeline_cap(void **state)
{
	struct fixture *f = *state;
	char reqs[2048];
	size_t len = 0;
	int i;

	f->hold = 1;
	for (i = 0; i < GW_MAX_PIPELINE + 4; i++)
		len += (size_t)snprintf(reqs + len, sizeof(reqs) - len,
		    "GET /%d HTTP/1.1\r\n\r\n", i);
	client_send(f, reqs);
	assert_int_equal(f->nserved, GW_MAX_PIPELINE);
	for (i = 0; i < GW_MAX_PIPELINE; i++)
		answer(f->held[i], 200, "x");
	spin(f);
	/* The rest were kept and are parsed once there is room. */
	assert_int_equal(f->nserved, GW_MAX_PIPELINE + 4);
	assert_string_equal(f->paths[GW_MAX_PIPELINE + 3], "/19");
	for (i = GW_MAX_PIPELINE; i < GW_MAX_PIPELINE + 4; i++)
		answer(f->held[i], 200, "x");
	spin(f);
	assert_int_equal(count(f->in, "HTTP/1.1 200 OK"), GW_MAX_PIPELINE + 4);
}

/* An answer that ends the connection while more requests wait unparsed
 * (the fuzzer found this spinning in the event loop). */
static void
test_conn_closing_answer_with_requests_waiting(void **state)
{
	struct fixture *f = *state;
	char reqs[2048];
	size_t len = 0;
	int i;

	f->hold = 1;
	for (i = 0; i < GW_MAX_PIPELINE + 4; i++)
		len += (size_t)snprintf(reqs + len, sizeof(reqs) - len,
		    "GET /%d HTTP/1.1\r\n\r\n", i);
	client_send(f, reqs);
	assert_int_equal(f->nserved, GW_MAX_PIPELINE);
	http_req_close_after(f->held[0]);
	answer(f->held[0], 401, "go away");
	spin(f);
	assert_int_equal(f->nserved, GW_MAX_PIPELINE);
	assert_int_equal(count(f->in, "HTTP/1.1 401"), 1);
	assert_non_null(strstr(f->in, "Connection: close\r\n"));
	assert_true(f->client_eof);
	close(f->client);
	f->client = -1;
	spin(f);
	assert_int_equal(http_server_connections(f->srv), 0);
	assert_int_equal(f->naborted, GW_MAX_PIPELINE - 1);
}

static void
test_conn_drain(void **state)
{
	struct fixture *f = *state;

	f->hold = 1;
	client_send(f, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c");
	http_server_drain(f->srv);
	spin(f);
	answer(f->held[1], 200, "b");
	answer(f->held[0], 200, "a");
	spin(f);
	/* Both answered; only the last says close; then the end. */
	assert_int_equal(count(f->in, "HTTP/1.1 200 OK"), 2);
	assert_int_equal(count(f->in, "Connection: close"), 1);
	assert_non_null(strstr(f->in, "Connection: close\r\n\r\nb"));
	assert_true(f->client_eof);
	close(f->client);
	f->client = -1;
	spin(f);
	assert_int_equal(http_server_connections(f->srv), 0);
}

/* A socketpair connection on f->srv; returns the client's end. */
static int
another_conn(struct fixture *f)
{
	const struct http_io_ops *ops;
	void *io;
	int sv[2];

	assert_int_equal(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_non_null(io = http_io_plain_new(NULL, sv[0], &ops));
	assert_non_null(http_conn_new(f->srv, sv[0], ops, io));
	return sv[1];
}

static int
peer_closed(int fd)
{
	char b;

	return recv(fd, &b, 1, MSG_DONTWAIT) == 0;
}

/* At the limit, the oldest connection that never sent a request makes
 * room; one that has served a request is kept (issue #12, item 8). */
static void
test_conn_full_listener_evicts_silent_connections(void **state)
{
	struct fixture *f = *state;
	int b, c, d;

	/* The fixture's connection (f->client) is served; cap is 8. */
	client_send(f, "GET /a HTTP/1.1\r\n\r\n");
	assert_int_equal(f->nserved, 1);
	b = another_conn(f); /* silent */
	spin(f);
	for (c = 0; c < 6; c++)
		(void)another_conn(f); /* silent too, newer than b */
	spin(f);
	assert_int_equal(http_server_connections(f->srv), 8);
	d = another_conn(f); /* the ninth */
	spin(f);
	assert_true(peer_closed(b)); /* the oldest silent one went */
	assert_false(peer_closed(d));
	assert_int_equal(http_server_connections(f->srv), 8);
	/* The served connection still works. */
	client_send(f, "GET /b HTTP/1.1\r\n\r\n");
	assert_int_equal(f->nserved, 2);
	close(b);
	close(d);
}

static void
test_conn_free_with_requests_aborts_them(void **state)
{
	struct fixture *f = *state;

	f->hold = 1;
	client_send(f, "GET /a HTTP/1.1\r\n\r\n");
	http_server_free(f->srv);
	f->srv = NULL;
	assert_int_equal(f->naborted, 1);
}

int
main(void)
{
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_conn_answers_in_request_order),
	    T(test_conn_head_has_no_body),
	    T(test_conn_1xx_204_304_have_no_body),
	    T(test_conn_close_ignores_what_follows),
	    T(test_conn_close_without_linger),
	    T(test_conn_http10),
	    T(test_conn_refusal_after_earlier_answers),
	    T(test_conn_client_leaving_aborts_requests),
	    T(test_conn_half_close_still_answers),
	    T(test_conn_expect_continue),
	    T(test_conn_pipeline_cap),
	    T(test_conn_closing_answer_with_requests_waiting),
	    T(test_conn_drain),
	    T(test_conn_full_listener_evicts_silent_connections),
	    T(test_conn_free_with_requests_aborts_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
