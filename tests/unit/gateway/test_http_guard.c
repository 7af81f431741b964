/*
 * test_http_guard.c — the request guard: what it passes, what it refuses
 * and with which status, exact limits, that the split of the bytes never
 * changes the outcome, pipelining counts, the "keep" arithmetic, and that
 * every request target it passes is one libevent's URI parser accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/http.h>

#include "gateway/http_guard.h"

static const struct http_guard_limits lim = {
    .max_head = 256, .max_fields = 4, .max_target = 64, .max_body = 100};

struct outcome {
	int rc;
	int status;
	uint64_t completed;
	uint64_t offset;
};

static struct outcome
run(const char *req, size_t len, size_t piece)
{
	struct http_guard g;
	struct outcome o;
	size_t i, n;
	int rc = 0;

	http_guard_init(&g, &lim);
	for (i = 0; i < len; i += n) {
		n = piece == 0 || len - i < piece ? len - i : piece;
		if (http_guard_feed(&g, (const unsigned char *)req + i, n) != 0)
			rc = -1;
	}
	o.rc = rc;
	o.status = rc != 0 ? g.err.status : 0;
	o.completed = http_guard_completed(&g);
	o.offset = g.offset;
	return o;
}

/* The outcome must be the same whole, byte by byte and in 2-way splits. */
static void
expect(const char *req, size_t len, int status, uint64_t completed)
{
	struct outcome whole = run(req, len, 0), o;
	struct http_guard g;
	size_t cut;

	if (whole.status != status || whole.completed != completed ||
	    whole.offset != len)
		fail_msg("%.60s...: status %d completed %llu offset %llu, want "
		         "%d %llu %zu",
		    req, whole.status, (unsigned long long)whole.completed,
		    (unsigned long long)whole.offset, status,
		    (unsigned long long)completed, len);
	o = run(req, len, 1);
	assert_int_equal(o.status, status);
	assert_int_equal(o.completed, completed);
	for (cut = 1; cut < len; cut++) {
		http_guard_init(&g, &lim);
		(void)http_guard_feed(&g, (const unsigned char *)req, cut);
		(void)http_guard_feed(
		    &g, (const unsigned char *)req + cut, len - cut);
		assert_int_equal(
		    http_guard_rejected(&g) ? g.err.status : 0, status);
		assert_int_equal(http_guard_completed(&g), completed);
	}
}

#define EXPECT(s, status, completed) expect(s, sizeof(s) - 1, status, completed)

static void
test_guard_passes_plain_requests(void **state)
{
	(void)state;
	EXPECT("GET / HTTP/1.1\r\n\r\n", 0, 1);
	EXPECT("GET /api/v1/deployments HTTP/1.1\r\nHost: x\r\n\r\n", 0, 1);
	EXPECT("GET /a?b=%41&c=/d:e@f HTTP/1.0\r\n\r\n", 0, 1);
	EXPECT("POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 0, 1);
	EXPECT("POST /x HTTP/1.1\r\ncontent-length:  0 \r\n\r\n", 0, 1);
	EXPECT("PUT /x HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"
	       "3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n",
	    0, 1);
	EXPECT("POST /x HTTP/1.1\r\nContent-Length: 2\r\nExpect: "
	       "100-Continue\r\n\r\nab",
	    0, 1);
	/* Expect is not looked at without a body, nor on HTTP/1.0. */
	EXPECT("GET /x HTTP/1.1\r\nExpect: teapot\r\n\r\n", 0, 1);
	EXPECT("POST /x HTTP/1.0\r\nContent-Length: 1\r\nExpect: x\r\n\r\na", 0,
	    1);
	EXPECT("HEAD /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 0, 1);
	EXPECT("TRACE /x HTTP/1.1\r\n\r\n", 0, 1);
	/* Values: obs-text and tabs are fine. */
	EXPECT("GET /x HTTP/1.1\r\nX-A: \t\xc3\xa9 b\t\r\n\r\n", 0, 1);
}

static void
test_guard_counts_pipelined_requests(void **state)
{
	(void)state;
	EXPECT("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 0, 2);
	EXPECT("POST /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nGET "
	       "GET /b HTTP/1.1\r\n\r\n",
	    0, 2);
	/* Part of a next request: not complete, not refused. */
	EXPECT("GET /a HTTP/1.1\r\n\r\nGET /b HTT", 0, 1);
	EXPECT("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n\x01", 400, 2);
}

static void
test_guard_refuses_bad_request_lines(void **state)
{
	(void)state;
	EXPECT("\r\nGET / HTTP/1.1\r\n\r\n", 400, 0);
	EXPECT("get / HTTP/1.1\r\n\r\n", 501, 0);
	EXPECT("BREW / HTTP/1.1\r\n\r\n", 501, 0);
	EXPECT("CONNECT a:1 HTTP/1.1\r\n\r\n", 501, 0);
	EXPECT("GETTINGLONG / HTTP/1.1\r\n\r\n", 501, 0);
	EXPECT("GET  / HTTP/1.1\r\n\r\n", 400, 0);
	EXPECT("GET http://a/ HTTP/1.1\r\n\r\n", 400, 0);
	EXPECT("OPTIONS * HTTP/1.1\r\n\r\n", 400, 0);
	/* libevent reads "//x" as an authority, not a path */
	EXPECT("GET //a HTTP/1.1\r\n\r\n", 400, 0);
	EXPECT("GET /a//b HTTP/1.1\r\n\r\n", 0, 1);
	EXPECT("GET /a#b HTTP/1.1\r\n\r\n", 400, 0);
	EXPECT("GET /a%4 HTTP/1.1\r\n\r\n", 400, 0);
	EXPECT("GET /a%g0 HTTP/1.1\r\n\r\n", 400, 0);
	EXPECT("GET /a\"b HTTP/1.1\r\n\r\n", 400, 0);
	EXPECT("GET /a b HTTP/1.1\r\n\r\n", 400, 0);
	EXPECT("GET /a\x80 HTTP/1.1\r\n\r\n", 400, 0);
	EXPECT("GET / HTTP/2.0\r\n\r\n", 505, 0);
	EXPECT("GET / HTTP/1.10\r\n\r\n", 400, 0);
	EXPECT("GET / http/1.1\r\n\r\n", 400, 0);
	EXPECT("GET /\r\n\r\n", 400, 0);
	EXPECT("GET / HTTP/1.1\n\r\n", 400, 0);
	EXPECT("GET / HTTP/1.1\r\r\n", 400, 0);
}

static void
test_guard_refuses_bad_fields(void **state)
{
	(void)state;
	EXPECT("GET / HTTP/1.1\r\nA : b\r\n\r\n", 400, 0);
	EXPECT("GET / HTTP/1.1\r\n: b\r\n\r\n", 400, 0);
	EXPECT("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400, 0);
	EXPECT("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", 400, 0);
	EXPECT("GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n", 400, 0);
	EXPECT("GET / HTTP/1.1\r\nA: b\nB: c\r\n\r\n", 400, 0);
	EXPECT("GET / HTTP/1.1\r\nA\r\n\r\n", 400, 0);
}

static void
test_guard_refuses_ambiguous_bodies(void **state)
{
	(void)state;
	EXPECT("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: "
	       "1\r\n\r\na",
	    400, 0);
	EXPECT("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: "
	       "chunked\r\n\r\n",
	    400, 0);
	EXPECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	       "Transfer-Encoding: chunked\r\n\r\n",
	    400, 0);
	EXPECT("POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\na", 400, 0);
	EXPECT("POST / HTTP/1.1\r\nContent-Length: 1 1\r\n\r\na", 400, 0);
	EXPECT("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400, 0);
	EXPECT("POST / HTTP/1.1\r\nContent-Length: "
	       "00000000000000000000001\r\n\r\na",
	    400, 0);
	EXPECT("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	    501, 0);
	EXPECT("HEAD / HTTP/1.1\r\nContent-Length: 1\r\n\r\na", 400, 0);
	EXPECT(
	    "TRACE / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, 0);
	EXPECT("POST / HTTP/1.1\r\nContent-Length: 1\r\nExpect: x\r\n\r\n", 417,
	    0);
	EXPECT("POST / HTTP/1.1\r\nExpect: a\r\nExpect: b\r\n\r\n", 400, 0);
}

static void
test_guard_refuses_bad_chunks(void **state)
{
	(void)state;
	EXPECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "\r\n",
	    400, 0);
	EXPECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "0x1\r\n",
	    400, 0);
	EXPECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "1;a\r\n",
	    400, 0);
	EXPECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "1 \r\n",
	    400, 0);
	EXPECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "000000001\r\n",
	    400, 0);
	EXPECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "1\r\nab\r\n",
	    400, 0);
	EXPECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "1\r\na\n",
	    400, 0);
	EXPECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "0\r\nX: 1\r\n\r\n",
	    400, 0);
}

/* Every limit: exactly at it passes, one above is refused. */
static void
test_guard_limits_are_exact(void **state)
{
	char req[512];
	int n;

	(void)state;
	/* max_target 64: "/" + 63 */
	n = snprintf(req, sizeof(req), "GET /%063d HTTP/1.1\r\n\r\n", 0);
	expect(req, (size_t)n, 0, 1);
	n = snprintf(req, sizeof(req), "GET /%064d HTTP/1.1\r\n\r\n", 0);
	expect(req, (size_t)n, 414, 0);
	/* max_head 256: request line 16 + field 238 + 2 */
	n = snprintf(
	    req, sizeof(req), "GET / HTTP/1.1\r\nA: %0233d\r\n\r\n", 0);
	assert_int_equal(n, 256);
	expect(req, (size_t)n, 0, 1);
	n = snprintf(
	    req, sizeof(req), "GET / HTTP/1.1\r\nA: %0234d\r\n\r\n", 0);
	expect(req, (size_t)n, 431, 0);
	/* max_fields 4 */
	EXPECT("GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n", 0, 1);
	EXPECT("GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n",
	    431, 0);
	/* max_body 100, Content-Length and chunked */
	n = snprintf(req, sizeof(req),
	    "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n%0100d", 0);
	expect(req, (size_t)n, 0, 1);
	EXPECT("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413, 0);
	EXPECT("POST / HTTP/1.1\r\nContent-Length: 99999999999999999\r\n\r\n",
	    413, 0);
	n = snprintf(req, sizeof(req),
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "32\r\n%050d\r\n32\r\n%050d\r\n0\r\n\r\n",
	    0, 0);
	expect(req, (size_t)n, 0, 1);
	n = snprintf(req, sizeof(req),
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "32\r\n%050d\r\n33\r\n",
	    0);
	expect(req, (size_t)n, 413, 0);
	EXPECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "ffffffff\r\n",
	    413, 0);
}

/* After a refusal: which buffered bytes still belong to earlier requests. */
static void
test_guard_keep(void **state)
{
	static const char two[] = "GET /a HTTP/1.1\r\n\r\nBAD\r\n\r\n";
	struct http_guard g;

	(void)state;
	http_guard_init(&g, &lim);
	assert_int_equal(
	    http_guard_feed(&g, (const unsigned char *)two, sizeof(two) - 1),
	    -1);
	/* All still buffered: the first request's 19 bytes stay. */
	assert_int_equal(http_guard_keep(&g, sizeof(two) - 1), 19);
	/* evhttp already took the first request: nothing to keep. */
	assert_int_equal(http_guard_keep(&g, sizeof(two) - 1 - 19), 0);
	assert_int_equal(http_guard_keep(&g, 2), 0);
	assert_string_equal(http_guard_method(&g), "BAD");
	assert_string_equal(http_guard_target(&g), "-");

	/* Bytes after the refusal are counted, not looked at. */
	http_guard_skip(&g, 10);
	assert_int_equal(http_guard_keep(&g, sizeof(two) - 1 + 10), 19);
	assert_int_equal(
	    http_guard_feed(&g, (const unsigned char *)"GET", 3), -1);
	assert_int_equal(g.offset, sizeof(two) - 1 + 13);
}

static void
test_guard_names_the_refused_request(void **state)
{
	static const char r[] = "PATCH /a/b?c HTTP/3.0\r\n";
	struct http_guard g;

	(void)state;
	http_guard_init(&g, &lim);
	assert_int_equal(
	    http_guard_feed(&g, (const unsigned char *)r, sizeof(r) - 1), -1);
	assert_int_equal(g.err.status, 505);
	assert_string_equal(g.err.reason, "http_version_not_supported");
	assert_non_null(g.err.message);
	assert_string_equal(http_guard_method(&g), "PATCH");
	assert_string_equal(http_guard_target(&g), "/a/b?c");
}

/*
 * The guard's promise to evhttp: any target it passes, libevent's parser
 * accepts too.  Every target of RFC 3986 characters up to 3 long, and
 * longer ones made of the awkward characters.
 */
static void
test_guard_targets_parse_in_libevent(void **state)
{
	static const char chars[] = "/?%:@!$&'()*+,;=-._~aZ09";
	const size_t nc = sizeof(chars) - 1;
	char req[64], target[8];
	struct http_guard g;
	struct evhttp_uri *u;
	size_t a, b, c, len, checked = 0;

	(void)state;
	for (a = 0; a < nc; a++)
		for (b = 0; b <= nc; b++)
			for (c = 0; c <= nc; c++) {
				len = 0;
				target[len++] = '/';
				target[len++] = chars[a];
				if (b < nc)
					target[len++] = chars[b];
				if (b < nc && c < nc)
					target[len++] = chars[c];
				target[len] = '\0';
				snprintf(req, sizeof(req),
				    "GET %s HTTP/1.1\r\n\r\n", target);
				http_guard_init(&g, &lim);
				if (http_guard_feed(&g,
				        (const unsigned char *)req,
				        strlen(req)) != 0)
					continue;
				u = evhttp_uri_parse_with_flags(
				    target, EVHTTP_URI_NONCONFORMANT);
				if (u == NULL)
					fail_msg("libevent refuses %s", target);
				evhttp_uri_free(u);
				checked++;
			}
	assert_true(checked > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guard_passes_plain_requests),
	    cmocka_unit_test(test_guard_counts_pipelined_requests),
	    cmocka_unit_test(test_guard_refuses_bad_request_lines),
	    cmocka_unit_test(test_guard_refuses_bad_fields),
	    cmocka_unit_test(test_guard_refuses_ambiguous_bodies),
	    cmocka_unit_test(test_guard_refuses_bad_chunks),
	    cmocka_unit_test(test_guard_limits_are_exact),
	    cmocka_unit_test(test_guard_keep),
	    cmocka_unit_test(test_guard_names_the_refused_request),
	    cmocka_unit_test(test_guard_targets_parse_in_libevent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
