/*
 * fuzz_http_guard.c — libFuzzer driver for the gateway's request guard
 * (gateway/http_guard.c), the first code that looks at a TLS client's
 * bytes.
 *
 * Input: one control byte (the size of the pieces the rest is fed in,
 * 0 = all at once), then the client's byte stream.  Oracles, beyond
 * ASan/UBSan:
 *   - the split never changes the outcome: whole, pieces and byte by byte
 *     agree on refused-or-not, status, requests completed and offset;
 *   - every byte is counted, and "keep" never exceeds what is buffered;
 *   - a refusal names a status the guard documents and a reason/message;
 *   - every request target the guard passes, libevent's URI parser
 *     accepts with a path (the guard's promise to evhttp).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <event2/http.h>

#include "gateway/http_guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

/* Small limits, so that the fuzzer reaches every one of them. */
static const struct http_guard_limits lim = {
    .max_head = 512, .max_fields = 8, .max_target = 96, .max_body = 300};

static void
check_target(const char *t)
{
	struct evhttp_uri *u =
	    evhttp_uri_parse_with_flags(t, EVHTTP_URI_NONCONFORMANT);

	CHECK(u != NULL);
	CHECK(evhttp_uri_get_path(u) != NULL);
	CHECK(evhttp_uri_get_host(u) == NULL);
	CHECK(evhttp_uri_get_scheme(u) == NULL);
	evhttp_uri_free(u);
}

static int
status_ok(int s)
{
	return s == 400 || s == 413 || s == 414 || s == 417 || s == 431 ||
	    s == 501 || s == 505;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_guard whole, pieces, bytes;
	size_t piece, i, n;
	enum guard_state before;

	if (size < 1)
		return 0;
	piece = data[0];
	data++;
	size--;

	http_guard_init(&whole, &lim);
	(void)http_guard_feed(&whole, data, size);

	http_guard_init(&pieces, &lim);
	for (i = 0; i < size; i += n) {
		n = piece == 0 || size - i < piece ? size - i : piece;
		(void)http_guard_feed(&pieces, data + i, n);
	}

	http_guard_init(&bytes, &lim);
	for (i = 0; i < size; i++) {
		before = bytes.st;
		(void)http_guard_feed(&bytes, data + i, 1);
		if (before == G_TARGET && bytes.st == G_VERSION)
			check_target(bytes.target);
	}

	CHECK(http_guard_rejected(&whole) == http_guard_rejected(&pieces));
	CHECK(http_guard_rejected(&whole) == http_guard_rejected(&bytes));
	CHECK(http_guard_completed(&whole) == http_guard_completed(&pieces));
	CHECK(http_guard_completed(&whole) == http_guard_completed(&bytes));
	CHECK(whole.offset == size && pieces.offset == size &&
	    bytes.offset == size);
	CHECK(http_guard_keep(&whole, size) <= size);
	if (http_guard_rejected(&whole)) {
		CHECK(whole.err.status == pieces.err.status);
		CHECK(whole.err.status == bytes.err.status);
		CHECK(status_ok(whole.err.status));
		CHECK(whole.err.reason != NULL && whole.err.message != NULL);
		CHECK(strcmp(whole.err.message, bytes.err.message) == 0);
	}
	return 0;
}
