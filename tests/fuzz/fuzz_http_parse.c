/*
 * fuzz_http_parse.c — libFuzzer driver for the gateway's HTTP request
 * parser (gateway/http_parse.c), the first code that looks at a TLS
 * client's bytes.  fuzz_gateway_conn.c fuzzes it again inside the whole
 * connection.
 *
 * Input: one control byte (the size of the pieces the rest is fed in,
 * 0 = all at once), then the client's byte stream.  Oracles, beyond
 * ASan/UBSan:
 *   - the split never changes the events: whole, pieces and byte by byte
 *     agree on heads, body bytes (content and count), completed requests,
 *     bytes consumed, and the refusal;
 *   - body bytes point into the input, and never exceed the body limit
 *     per request;
 *   - a refusal names a status the parser documents and a reason/message;
 *     nothing is consumed after it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gateway/http_parse.h"
#include "proto-socket/ps_buf.h"

static void check_if_match(const struct http_parse_req *req);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

/* Small limits, so that the fuzzer reaches every one of them. */
static const struct http_parse_limits lim = {
    .max_head = 512, .max_fields = 8, .max_target = 96, .max_body = 300};

struct run {
	struct http_parser p;
	uint64_t heads, done, consumed, body_total, body_req, hash;
	int status;
};

static int
status_ok(int s)
{
	return s == 400 || s == 413 || s == 414 || s == 417 || s == 431 ||
	    s == 501 || s == 505;
}

static void
feed(struct run *r, const uint8_t *data, size_t n)
{
	const unsigned char *b;
	size_t off = 0, used, blen, i;

	for (;;) {
		enum http_parse_event ev =
		    http_parse(&r->p, data + off, n - off, &used, &b, &blen);

		CHECK(used <= n - off);
		off += used;
		r->consumed += used;
		switch (ev) {
		case HP_MORE:
			CHECK(off == n);
			return;
		case HP_HEAD:
			r->heads++;
			r->body_req = 0;
			CHECK(r->p.req.method[0] != '\0');
			CHECK(r->p.req.target[0] == '/');
			CHECK(strlen(r->p.req.target) == r->p.req.target_len);
			check_if_match(&r->p.req);
			break;
		case HP_BODY:
			CHECK(blen > 0 && b >= data && b + blen <= data + n);
			r->body_total += blen;
			r->body_req += blen;
			CHECK(r->body_req <= lim.max_body);
			for (i = 0; i < blen; i++)
				r->hash = r->hash * 31 + b[i];
			break;
		case HP_DONE:
			r->done++;
			CHECK(r->done == r->heads);
			break;
		case HP_REFUSED:
			r->status = r->p.err.status;
			CHECK(status_ok(r->status));
			CHECK(r->p.err.reason != NULL &&
			    r->p.err.message != NULL);
			CHECK(http_parse(&r->p, data, n, &used, &b, &blen) ==
			        HP_REFUSED &&
			    used == 0);
			return;
		}
	}
}

static void
same(const struct run *a, const struct run *b)
{
	CHECK(a->heads == b->heads && a->done == b->done);
	CHECK(a->consumed == b->consumed && a->status == b->status);
	CHECK(a->body_total == b->body_total && a->hash == b->hash);
	if (a->status != 0)
		CHECK(strcmp(a->p.err.message, b->p.err.message) == 0);
}

/* If-Match (issue #14): a tag it accepts holds a valid resourceVersion. */
static void
check_if_match(const struct http_parse_req *req)
{
	char rv[PS_MAX_RV + 1];
	enum http_if_match m = http_parse_if_match(req, rv);

	CHECK(strlen(req->if_match) <= HTTP_PARSE_IF_MATCH_MAX);
	CHECK(req->has_if_match || m == HIM_NONE);
	if (m == HIM_STRONG || m == HIM_WEAK)
		CHECK(ps_valid_str(PS_STR_RV, rv, strlen(rv)) == PS_OK);
	else
		CHECK(rv[0] == '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, pieces, bytes;
	size_t piece, i, n;

	if (size < 1)
		return 0;
	piece = data[0];
	data++;
	size--;

	memset(&whole, 0, sizeof(whole));
	http_parse_init(&whole.p, &lim);
	feed(&whole, data, size);
	feed(&whole, data, 0);

	memset(&pieces, 0, sizeof(pieces));
	http_parse_init(&pieces.p, &lim);
	for (i = 0; i < size; i += n) {
		n = piece == 0 || size - i < piece ? size - i : piece;
		feed(&pieces, data + i, n);
	}
	feed(&pieces, data, 0);

	memset(&bytes, 0, sizeof(bytes));
	http_parse_init(&bytes.p, &lim);
	for (i = 0; i < size; i++)
		feed(&bytes, data + i, 1);
	feed(&bytes, data, 0);

	same(&whole, &pieces);
	same(&whole, &bytes);
	if (whole.status == 0)
		CHECK(whole.consumed == size);
	return 0;
}
