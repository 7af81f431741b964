/*
 * test_http_parse.c — the gateway's HTTP/1.1 request parser: what it
 * passes, what it refuses and with which status, exact limits, that the
 * split of the bytes never changes the events, pipelining, the body bytes
 * it hands out (chunk framing removed), and the fields it keeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/http_parse.h"
#include "proto-socket/ps.h"

static const struct http_parse_limits lim = {
    .max_head = 256, .max_fields = 4, .max_target = 64, .max_body = 100};

struct outcome {
	int status;
	uint64_t heads, completed;
	size_t consumed;
	char body[512];
	size_t body_len;
};

/* Feeds `n` bytes, collecting events until the parser wants more. */
static void
feed(struct http_parser *p, const unsigned char *data, size_t n,
    struct outcome *o)
{
	const unsigned char *b;
	size_t off = 0, used, blen;

	for (;;) {
		enum http_parse_event ev =
		    http_parse(p, data + off, n - off, &used, &b, &blen);

		assert_true(used <= n - off);
		off += used;
		o->consumed += used;
		switch (ev) {
		case HP_MORE:
			assert_int_equal(off, n);
			return;
		case HP_HEAD:
			o->heads++;
			break;
		case HP_BODY:
			assert_true(
			    blen > 0 && b >= data && b + blen <= data + n);
			if (o->body_len + blen <= sizeof(o->body)) {
				memcpy(o->body + o->body_len, b, blen);
				o->body_len += blen;
			}
			break;
		case HP_DONE:
			o->completed++;
			break;
		case HP_REFUSED:
			o->status = p->err.status;
			assert_non_null(p->err.reason);
			assert_non_null(p->err.message);
			return;
		}
	}
}

static struct outcome
run(const char *req, size_t len, size_t piece)
{
	struct http_parser p;
	struct outcome o;
	size_t i, n;

	memset(&o, 0, sizeof(o));
	http_parse_init(&p, &lim);
	for (i = 0; i < len; i += n) {
		n = piece == 0 || len - i < piece ? len - i : piece;
		feed(&p, (const unsigned char *)req + i, n, &o);
	}
	feed(&p, NULL, 0, &o);
	return o;
}

static void
same(const struct outcome *a, const struct outcome *b)
{
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->heads, b->heads);
	assert_int_equal(a->completed, b->completed);
	assert_int_equal(a->consumed, b->consumed);
	assert_int_equal(a->body_len, b->body_len);
	assert_memory_equal(a->body, b->body, a->body_len);
}

/* The outcome must be the same whole, byte by byte and in 2-way splits. */
static void
expect(const char *req, size_t len, int status, uint64_t completed)
{
	struct outcome whole = run(req, len, 0), o;
	size_t cut;

	if (whole.status != status || whole.completed != completed ||
	    (status == 0 && whole.consumed != len))
		fail_msg(
		    "%.60s...: status %d completed %llu consumed %zu, want "
		    "%d %llu %zu",
		    req, whole.status, (unsigned long long)whole.completed,
		    whole.consumed, status, (unsigned long long)completed, len);
	o = run(req, len, 1);
	same(&whole, &o);
	for (cut = 1; cut < len; cut++) {
		struct http_parser p;

		memset(&o, 0, sizeof(o));
		http_parse_init(&p, &lim);
		feed(&p, (const unsigned char *)req, cut, &o);
		feed(&p, (const unsigned char *)req + cut, len - cut, &o);
		feed(&p, NULL, 0, &o);
		same(&whole, &o);
	}
}

#define EXPECT(s, status, completed) expect(s, sizeof(s) - 1, status, completed)

static void
test_parse_passes_plain_requests(void **state)
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
test_parse_counts_pipelined_requests(void **state)
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
test_parse_refuses_bad_request_lines(void **state)
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
	/* URI parsers read "//x" as an authority, not a path */
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
test_parse_refuses_bad_fields(void **state)
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
test_parse_refuses_ambiguous_bodies(void **state)
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
test_parse_refuses_bad_chunks(void **state)
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
test_parse_limits_are_exact(void **state)
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

/* Body bytes come out exactly, chunk framing removed. */
static void
test_parse_hands_out_the_body(void **state)
{
	static const char cl[] = "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n"
	                         "hello";
	static const char ch[] =
	    "POST /x HTTP/1.1\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n";
	struct outcome o;
	size_t piece;

	(void)state;
	for (piece = 0; piece < 8; piece++) {
		o = run(cl, sizeof(cl) - 1, piece);
		assert_int_equal(o.completed, 1);
		assert_int_equal(o.body_len, 5);
		assert_memory_equal(o.body, "hello", 5);
		o = run(ch, sizeof(ch) - 1, piece);
		assert_int_equal(o.completed, 1);
		assert_int_equal(o.body_len, 5);
		assert_memory_equal(o.body, "hello", 5);
	}
}

/* The head of one request, as the connection sees it at HP_HEAD. */
static struct http_parse_req
head_of(const char *req)
{
	struct http_parser p;
	const unsigned char *b;
	size_t used, blen;

	http_parse_init(&p, &lim);
	assert_int_equal(http_parse(&p, (const unsigned char *)req, strlen(req),
	                     &used, &b, &blen),
	    HP_HEAD);
	return p.req;
}

static void
test_parse_keeps_the_fields_it_acts_on(void **state)
{
	struct http_parse_req h;

	(void)state;
	h = head_of("GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.target, "/a?b");
	assert_true(h.version_11 && h.keep_alive && !h.has_body);
	assert_false(h.has_length);
	assert_string_equal(h.content_type, "");

	/* Connection: close, as a list, in any case. */
	h = head_of("GET / HTTP/1.1\r\nConnection: TE, Close\r\n\r\n");
	assert_false(h.keep_alive);
	h = head_of("GET / HTTP/1.1\r\nConnection: keep-alive\r\n"
	            "Connection: close\r\n\r\n");
	assert_false(h.keep_alive);
	/* HTTP/1.0 closes unless asked to keep the connection. */
	h = head_of("GET / HTTP/1.0\r\n\r\n");
	assert_false(h.version_11);
	assert_false(h.keep_alive);
	h = head_of("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
	assert_true(h.keep_alive);

	h = head_of("POST / HTTP/1.1\r\nContent-Type: application/json; "
	            "charset=utf-8\r\nContent-Length: 2\r\nExpect: "
	            "100-continue\r\n\r\n");
	assert_string_equal(h.content_type, "application/json; charset=utf-8");
	assert_false(h.content_type_long);
	assert_true(h.has_body && h.has_length && h.expect_continue);
	/* Expect without a body means nothing. */
	h = head_of("POST / HTTP/1.1\r\nContent-Length: 0\r\nExpect: "
	            "100-continue\r\n\r\n");
	assert_true(h.has_length);
	assert_false(h.has_body || h.expect_continue);
	h = head_of(
	    "POST / HTTP/1.1\r\nContent-Type: application/json"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "\r\n\r\n");
	assert_true(h.content_type_long);
	/* HEAD has no body, and its Content-Length: 0 is fine. */
	h = head_of("HEAD / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	assert_false(h.has_body);
}

/* Nothing is consumed after the refusing byte, and nothing after. */
static void
test_parse_stops_at_a_refusal(void **state)
{
	static const char two[] = "GET /a HTTP/1.1\r\n\r\nB\x01D\r\n\r\n";
	struct outcome o = run(two, sizeof(two) - 1, 0);
	struct http_parser p;
	const unsigned char *b;
	size_t used, blen;

	(void)state;
	assert_int_equal(o.completed, 1);
	assert_int_equal(o.status, 400);
	assert_int_equal(o.consumed, 19 + 2);
	http_parse_init(&p, &lim);
	p.st = HP_S_REFUSED;
	assert_int_equal(
	    http_parse(&p, (const unsigned char *)"GET", 3, &used, &b, &blen),
	    HP_REFUSED);
	assert_int_equal(used, 0);
	assert_null(b);
	assert_int_equal(blen, 0);
}

static void
test_parse_names_the_refused_request(void **state)
{
	static const char r[] = "PATCH /a/b?c HTTP/3.0\r\n";
	struct http_parser p;
	const unsigned char *b;
	size_t used, blen;

	(void)state;
	http_parse_init(&p, &lim);
	assert_string_equal(http_parse_method(&p), "-");
	assert_string_equal(http_parse_target(&p), "-");
	assert_int_equal(http_parse(&p, (const unsigned char *)r, sizeof(r) - 1,
	                     &used, &b, &blen),
	    HP_REFUSED);
	assert_int_equal(p.err.status, 505);
	assert_string_equal(p.err.reason, "http_version_not_supported");
	assert_non_null(p.err.message);
	assert_string_equal(http_parse_method(&p), "PATCH");
	assert_string_equal(http_parse_target(&p), "/a/b?c");
}

/*
 * Parses one GET whose header section is `fields` and judges its
 * If-Match; returns the refusal status (0: none) in `*status`.
 */
static enum http_if_match
if_match_of(const char *fields, char rv[PS_MAX_RV + 1], int *status)
{
	static const struct http_parse_limits big = {.max_head = 2048,
	    .max_fields = 8,
	    .max_target = 64,
	    .max_body = 100};
	struct http_parser p;
	char req[1024];
	const unsigned char *b;
	size_t used, blen;
	enum http_parse_event ev;
	int n;

	n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n%s\r\n", fields);
	assert_true(n > 0 && (size_t)n < sizeof(req));
	http_parse_init(&p, &big);
	ev = http_parse(
	    &p, (const unsigned char *)req, (size_t)n, &used, &b, &blen);
	*status = ev == HP_REFUSED ? p.err.status : 0;
	if (ev != HP_HEAD)
		return HIM_NONE;
	return http_parse_if_match(&p.req, rv);
}

/* Issue #14: If-Match, one tag or "*", a resourceVersion inside. */
static void
test_parse_if_match(void **state)
{
	static const struct {
		const char *doc, *fields;
		enum http_if_match want;
		const char *rv; /* HIM_STRONG / HIM_WEAK */
	} rows[] = {
	    {"absent", "Host: x\r\n", HIM_NONE, ""},
	    {"star", "If-Match: *\r\n", HIM_ANY, ""},
	    {"star with spaces", "If-Match:   *  \r\n", HIM_ANY, ""},
	    {"strong", "If-Match: \"48213\"\r\n", HIM_STRONG, "48213"},
	    {"name is case-insensitive", "if-MATCH: \"7\"\r\n", HIM_STRONG,
	        "7"},
	    {"visible ASCII", "If-Match: \"a!#~\\\\b\"\r\n", HIM_STRONG,
	        "a!#~\\\\b"},
	    {"weak", "If-Match: W/\"48213\"\r\n", HIM_WEAK, "48213"},
	    {"two tags", "If-Match: \"1\", \"2\"\r\n", HIM_LIST, ""},
	    {"two tags no space", "If-Match: \"1\",\"2\"\r\n", HIM_LIST, ""},
	    {"star and a tag", "If-Match: *, \"1\"\r\n", HIM_LIST, ""},
	    {"trailing comma", "If-Match: \"1\",\r\n", HIM_LIST, ""},
	    {"unquoted", "If-Match: 48213\r\n", HIM_MALFORMED, ""},
	    {"empty tag", "If-Match: \"\"\r\n", HIM_MALFORMED, ""},
	    {"empty value", "If-Match:\r\n", HIM_MALFORMED, ""},
	    {"unterminated", "If-Match: \"48213\r\n", HIM_MALFORMED, ""},
	    {"junk after", "If-Match: \"1\" x\r\n", HIM_MALFORMED, ""},
	    {"lowercase weak", "If-Match: w/\"1\"\r\n", HIM_MALFORMED, ""},
	    {"space in tag", "If-Match: \"1 2\"\r\n", HIM_MALFORMED, ""},
	    {"star star", "If-Match: **\r\n", HIM_MALFORMED, ""},
	    {"obs-text", "If-Match: \"\xc3\xa9\"\r\n", HIM_MALFORMED, ""},
	};
	char rv[PS_MAX_RV + 1];
	int status;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum http_if_match got =
		    if_match_of(rows[i].fields, rv, &status);

		if (status != 0 || got != rows[i].want)
			fail_msg("%s: got %d (status %d), want %d", rows[i].doc,
			    got, status, rows[i].want);
		if (got == HIM_STRONG || got == HIM_WEAK)
			assert_string_equal(rv, rows[i].rv);
		else
			assert_string_equal(rv, "");
	}
}

/* The resourceVersion's bound is exact; longer values are not lists. */
static void
test_parse_if_match_bounds(void **state)
{
	char f[512], rv[PS_MAX_RV + 1], v[PS_MAX_RV + 2];
	int status;

	(void)state;
	memset(v, '9', sizeof(v));
	v[PS_MAX_RV] = '\0';
	snprintf(f, sizeof(f), "If-Match: \"%s\"\r\n", v);
	assert_int_equal(if_match_of(f, rv, &status), HIM_STRONG);
	assert_int_equal(strlen(rv), PS_MAX_RV);
	snprintf(f, sizeof(f), "If-Match: W/\"%s\"\r\n", v);
	assert_int_equal(if_match_of(f, rv, &status), HIM_WEAK);
	v[PS_MAX_RV] = '9';
	v[PS_MAX_RV + 1] = '\0';
	snprintf(f, sizeof(f), "If-Match: \"%s\"\r\n", v);
	assert_int_equal(if_match_of(f, rv, &status), HIM_MALFORMED);
	/* Far over the buffer: too long, then a list seen in its start. */
	snprintf(f, sizeof(f), "If-Match: \"%s%s\"\r\n", v, v);
	assert_int_equal(if_match_of(f, rv, &status), HIM_MALFORMED);
	snprintf(f, sizeof(f), "If-Match: \"1\", \"%s\"\r\n", v);
	assert_int_equal(if_match_of(f, rv, &status), HIM_LIST);
	snprintf(f, sizeof(f), "If-Match: *, \"%s\"\r\n", v);
	assert_int_equal(if_match_of(f, rv, &status), HIM_LIST);
	/* Other fields keep their own, shorter, buffer. */
	snprintf(f, sizeof(f), "Content-Type: %s\r\n", v);
	assert_int_equal(if_match_of(f, rv, &status), HIM_NONE);
}

/* A second If-Match field is refused, as other duplicates are. */
static void
test_parse_if_match_twice(void **state)
{
	char rv[PS_MAX_RV + 1];
	int status;

	(void)state;
	if_match_of("If-Match: \"1\"\r\nIf-Match: \"1\"\r\n", rv, &status);
	assert_int_equal(status, 400);
	if_match_of("If-Match: *\r\nif-match: *\r\n", rv, &status);
	assert_int_equal(status, 400);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_passes_plain_requests),
	    cmocka_unit_test(test_parse_counts_pipelined_requests),
	    cmocka_unit_test(test_parse_refuses_bad_request_lines),
	    cmocka_unit_test(test_parse_refuses_bad_fields),
	    cmocka_unit_test(test_parse_refuses_ambiguous_bodies),
	    cmocka_unit_test(test_parse_refuses_bad_chunks),
	    cmocka_unit_test(test_parse_limits_are_exact),
	    cmocka_unit_test(test_parse_hands_out_the_body),
	    cmocka_unit_test(test_parse_keeps_the_fields_it_acts_on),
	    cmocka_unit_test(test_parse_stops_at_a_refusal),
	    cmocka_unit_test(test_parse_names_the_refused_request),
	    cmocka_unit_test(test_parse_if_match),
	    cmocka_unit_test(test_parse_if_match_bounds),
	    cmocka_unit_test(test_parse_if_match_twice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
