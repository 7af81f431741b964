/*
 * test_http_resp.c — the load client's answer framing: every framing
 * (Content-Length, chunked, to the end), reuse (Connection, HTTP/1.0),
 * interim answers, answers split at every offset and fed a byte at a
 * time, bytes after the answer, and a table of what it must refuse.
 * A client that miscounts where answers end would report wrong figures
 * without any error, so this is checked here, not trusted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/bench/http_resp.h"

/* One parser, off the stack (8 KiB head buffer). */
static struct http_resp R;

struct outcome {
	int rc;
	size_t used;
	int status;
	int conn_close;
	uint64_t body;
};

static struct outcome
feed_all(const char *msg, size_t len)
{
	struct outcome o;

	http_resp_init(&R);
	o.rc = http_resp_feed(&R, msg, len, &o.used);
	o.status = R.status;
	o.conn_close = R.conn_close;
	o.body = R.body_bytes;
	return o;
}

/* Feeds `msg` in two pieces cut at `cut`; the second piece may be empty. */
static struct outcome
feed_split(const char *msg, size_t len, size_t cut)
{
	struct outcome o;
	size_t used;

	http_resp_init(&R);
	o.used = 0;
	o.rc = http_resp_feed(&R, msg, cut, &used);
	o.used = used;
	if (o.rc == HTTP_RESP_MORE && cut < len) {
		o.rc = http_resp_feed(&R, msg + cut, len - cut, &used);
		o.used += used;
	}
	o.status = R.status;
	o.conn_close = R.conn_close;
	o.body = R.body_bytes;
	return o;
}

static struct outcome
feed_bytes(const char *msg, size_t len)
{
	struct outcome o = {HTTP_RESP_MORE, 0, 0, 0, 0};
	size_t i, used;

	http_resp_init(&R);
	for (i = 0; i < len && o.rc == HTTP_RESP_MORE; i++) {
		o.rc = http_resp_feed(&R, msg + i, 1, &used);
		o.used += used;
	}
	o.status = R.status;
	o.conn_close = R.conn_close;
	o.body = R.body_bytes;
	return o;
}

/* The answer is complete, with this status, body size and reuse. */
static void
expect_done(const char *msg, int status, uint64_t body, int conn_close)
{
	size_t len = strlen(msg), cut;
	struct outcome o;

	o = feed_all(msg, len);
	if (o.rc != HTTP_RESP_DONE || o.used != len || o.status != status ||
	    o.body != body || o.conn_close != conn_close)
		fail_msg("whole: rc %d used %zu status %d body %llu close %d",
		    o.rc, o.used, o.status, (unsigned long long)o.body,
		    o.conn_close);
	o = feed_bytes(msg, len);
	if (o.rc != HTTP_RESP_DONE || o.used != len || o.status != status ||
	    o.body != body)
		fail_msg("bytewise: rc %d used %zu", o.rc, o.used);
	for (cut = 0; cut <= len; cut++) {
		o = feed_split(msg, len, cut);
		if (o.rc != HTTP_RESP_DONE || o.used != len ||
		    o.status != status || o.body != body)
			fail_msg(
			    "cut at %zu: rc %d used %zu", cut, o.rc, o.used);
	}
}

static void
expect_err(const char *msg)
{
	struct outcome o = feed_all(msg, strlen(msg));

	if (o.rc != HTTP_RESP_ERR)
		fail_msg("accepted: %s", msg);
	o = feed_bytes(msg, strlen(msg));
	if (o.rc != HTTP_RESP_ERR)
		fail_msg("accepted byte by byte: %s", msg);
}

/* The gateway's answer shape: Content-Length, keep-alive. */
static void
test_http_resp_content_length(void **state)
{
	(void)state;
	expect_done("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	            "Content-Length: 14\r\n\r\n{\"replicas\":3}",
	    200, 14, 0);
	expect_done(
	    "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n", 404, 0, 0);
	/* A status line without a reason phrase is valid. */
	expect_done("HTTP/1.1 503\r\nContent-Length: 2\r\n\r\n{}", 503, 2, 0);
	/* The same length twice is one length. */
	expect_done("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	            "Content-Length: 2\r\n\r\n{}",
	    200, 2, 0);
}

static void
test_http_resp_connection_close(void **state)
{
	(void)state;
	expect_done("HTTP/1.1 200 OK\r\nConnection: close\r\n"
	            "Content-Length: 2\r\n\r\n{}",
	    200, 2, 1);
	expect_done("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n"
	            "Content-Length: 2\r\n\r\n{}",
	    200, 2, 1);
	/* HTTP/1.0 closes unless it says keep-alive. */
	expect_done(
	    "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", 200, 2, 1);
	expect_done("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
	            "Content-Length: 2\r\n\r\n{}",
	    200, 2, 0);
	/* "closed" is not "close". */
	expect_done("HTTP/1.1 200 OK\r\nConnection: closed\r\n"
	            "Content-Length: 0\r\n\r\n",
	    200, 0, 0);
}

static void
test_http_resp_chunked(void **state)
{
	(void)state;
	expect_done("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	            "5\r\nhello\r\n1A;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n"
	            "0\r\n\r\n",
	    200, 31, 0);
	/* Trailer fields end at the empty line. */
	expect_done("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	            "2\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n",
	    200, 2, 0);
}

/* No framing: the body runs to the end; the end completes it. */
static void
test_http_resp_to_the_end(void **state)
{
	size_t used;

	(void)state;
	http_resp_init(&R);
	assert_int_equal(
	    http_resp_feed(&R, "HTTP/1.1 200 OK\r\n\r\nabc", 22, &used),
	    HTTP_RESP_MORE);
	assert_int_equal(used, 22);
	assert_int_equal(R.conn_close, 1);
	assert_int_equal(http_resp_eof(&R), HTTP_RESP_DONE);
	assert_int_equal(R.body_bytes, 3);

	/* A Content-Length body cut by the end is an error. */
	http_resp_init(&R);
	assert_int_equal(
	    http_resp_feed(&R,
	        "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", 41, &used),
	    HTTP_RESP_MORE);
	assert_int_equal(http_resp_eof(&R), HTTP_RESP_ERR);

	/* So is an end inside the head. */
	http_resp_init(&R);
	assert_int_equal(http_resp_feed(&R, "HTTP/1.1 200 OK\r\n", 17, &used),
	    HTTP_RESP_MORE);
	assert_int_equal(http_resp_eof(&R), HTTP_RESP_ERR);
}

/* 1xx is skipped; 204 and 304 have no body whatever they say. */
static void
test_http_resp_interim_and_bodiless(void **state)
{
	(void)state;
	expect_done("HTTP/1.1 100 Continue\r\n\r\n"
	            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
	    200, 2, 0);
	expect_done("HTTP/1.1 204 No Content\r\n\r\n", 204, 0, 0);
	expect_done("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
	    304, 0, 0);
}

/* Bytes after the answer are not taken: the caller sees them. */
static void
test_http_resp_leaves_what_follows(void **state)
{
	const char *two = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
	                  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]";
	size_t used, first = strlen(two) / 2;

	(void)state;
	http_resp_init(&R);
	assert_int_equal(
	    http_resp_feed(&R, two, strlen(two), &used), HTTP_RESP_DONE);
	assert_int_equal(used, first);
	http_resp_init(&R);
	assert_int_equal(
	    http_resp_feed(&R, two + used, strlen(two) - used, &used),
	    HTTP_RESP_DONE);
	assert_int_equal(used, first);
}

/* What must be refused, one class per line. */
static void
test_http_resp_refuses(void **state)
{
	char big[HTTP_RESP_HEAD_MAX + 64];

	(void)state;
	expect_err("HTTP/2 200 OK\r\n\r\n");
	expect_err("HTTP/1.1 20 OK\r\n\r\n");
	expect_err("HTTP/1.1 2000 OK\r\n\r\n");
	expect_err("HTTP/1.1 600 Nope\r\n\r\n");
	expect_err("ICY 200 OK\r\n\r\n");
	expect_err("HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n");
	expect_err("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	           "Content-Length: 3\r\n\r\n{}");
	expect_err("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n");
	expect_err("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n");
	expect_err("HTTP/1.1 200 OK\r\nContent-Length: "
	           "99999999999999999999999\r\n\r\n");
	expect_err("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
	expect_err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	           "zz\r\n");
	expect_err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	           "2\r\n{}XX0\r\n\r\n");
	expect_err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	           "fffffffffffffffff\r\n");
	/* A head that never ends within the bound. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	expect_err(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_resp_content_length),
	    cmocka_unit_test(test_http_resp_connection_close),
	    cmocka_unit_test(test_http_resp_chunked),
	    cmocka_unit_test(test_http_resp_to_the_end),
	    cmocka_unit_test(test_http_resp_interim_and_bodiless),
	    cmocka_unit_test(test_http_resp_leaves_what_follows),
	    cmocka_unit_test(test_http_resp_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
