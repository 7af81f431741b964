/*
 * http_guard.h — a strict, incremental checker of the HTTP/1.1 request
 * stream a client sends, run on every byte before evhttp sees it.
 *
 * Why it exists: libevent 2.1 answers a malformed or oversized request
 * with its own HTML page, and clears every header we could have set, so
 * those answers would leave without Strict-Transport-Security and
 * X-Content-Type-Options.  The guard accepts a strict subset of what
 * evhttp accepts, with lower limits, so anything evhttp would refuse is
 * refused here first and answered by conn.c with our JSON error.  It also
 * closes the gaps where evhttp would frame a request differently from the
 * RFC (a body on HEAD, Content-Length together with Transfer-Encoding,
 * duplicate Content-Length, chunk extensions, bare CR or LF).
 *
 * It only observes: it never changes the bytes.  It frames requests one
 * after another (pipelining) and counts those it has seen complete, so
 * the connection knows how many answers are still owed before an error
 * may be written.  Pure: no I/O, no allocation; fuzzed and unit-tested.
 */
#ifndef GW_HTTP_GUARD_H
#define GW_HTTP_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/gw_limits.h"

struct http_guard_limits {
	size_t max_head;     /* request line + header fields + trailer bytes */
	unsigned max_fields; /* header fields per request */
	size_t max_target;   /* request-target bytes */
	uint64_t max_body;   /* body bytes (Content-Length or chunk total) */
};

/* Why a request was refused; what the error answer says. */
struct http_guard_error {
	int status;          /* 400, 413, 414, 417, 431, 501, 505 */
	const char *reason;  /* the error body's "error" token */
	const char *message; /* the error body's "message" */
};

enum guard_state {
	G_METHOD = 0,
	G_TARGET,
	G_PCT1,
	G_PCT2,
	G_VERSION,
	G_LINE_LF,
	G_FIELD_START,
	G_NAME,
	G_VALUE,
	G_VALUE_LF,
	G_HEAD_LF,
	G_BODY,
	G_CHUNK_SIZE,
	G_CHUNK_SIZE_LF,
	G_CHUNK_DATA,
	G_CHUNK_DATA_CR,
	G_CHUNK_DATA_LF,
	G_TRAILER,
	G_TRAILER_LF,
	G_REJECTED
};

#define GUARD_NAME_MAX  20 /* longest field name we look at, +1 */
#define GUARD_VALUE_MAX 24 /* longest value of such a field we accept */

struct http_guard {
	struct http_guard_limits lim;
	enum guard_state st;
	uint64_t offset;    /* stream bytes fed so far */
	uint64_t req_start; /* stream offset where the current request began */
	uint64_t completed; /* requests seen complete */
	struct http_guard_error err;

	/* The request being framed. */
	size_t head_bytes;
	unsigned fields;
	int version_11;
	int bodyless; /* HEAD / TRACE: evhttp reads no body for these */
	char method[8];
	size_t method_len;
	char version[9];
	size_t version_len;
	char target[GW_MAX_URI + 1];
	size_t target_len;
	char name[GUARD_NAME_MAX];
	size_t name_len;
	int name_long;
	char value[GUARD_VALUE_MAX + 1];
	size_t value_len;
	int value_long;
	int has_cl, has_te, has_expect, expect_continue;
	uint64_t content_length;
	uint64_t left;       /* body or chunk bytes still to come */
	uint64_t body_total; /* chunked: declared so far */
	unsigned hex_digits;
};

void http_guard_init(struct http_guard *g, const struct http_guard_limits *lim);

/*
 * Feeds `n` bytes.  Returns 0 while the stream is acceptable, -1 once a
 * request is refused (g->err says why; further bytes are ignored).  How
 * the bytes are split between calls never changes the outcome.
 */
int http_guard_feed(struct http_guard *g, const unsigned char *p, size_t n);

/* Counts `n` bytes that arrived after a refusal without looking at them. */
void http_guard_skip(struct http_guard *g, size_t n);

/* 1 once refused. */
int http_guard_rejected(const struct http_guard *g);

/*
 * After a refusal: of the last `buffered` bytes fed (those still in the
 * connection's input buffer), how many belong to earlier, acceptable
 * requests and must still reach evhttp.
 */
size_t http_guard_keep(const struct http_guard *g, size_t buffered);

/* Requests seen complete so far (each will get one answer). */
uint64_t http_guard_completed(const struct http_guard *g);

/* The refused request's method and target, for the access log ("-"). */
const char *http_guard_method(const struct http_guard *g);
const char *http_guard_target(const struct http_guard *g);

#endif /* GW_HTTP_GUARD_H */
