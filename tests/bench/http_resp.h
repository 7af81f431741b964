/*
 * http_resp.h — framing of HTTP/1.1 answers for the bench's load client
 * (RFC 9112 §6, the client's side): the status line and header block,
 * then a body framed by Content-Length, chunked transfer coding, or the
 * end of the connection; 1xx interim answers are skipped, 204 and 304
 * have no body.  Input in pieces of any size, one byte at a time
 * included.  Bounded: an 8 KiB head, 256-byte chunk and trailer lines.
 *
 * What it refuses (HTTP_RESP_ERR): a status line that is not
 * "HTTP/1.x NNN", a field line without a colon, two different
 * Content-Lengths, a transfer coding other than chunked, a bad chunk size
 * or chunk end, a head or line over its bound.
 */
#ifndef BENCH_HTTP_RESP_H
#define BENCH_HTTP_RESP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_RESP_HEAD_MAX 8192 /* status line + header fields */
#define HTTP_RESP_LINE_MAX 256  /* one chunk-size or trailer line */

enum http_resp_state {
	HR_HEAD,       /* status line and fields, up to the empty line */
	HR_BODY_LEN,   /* Content-Length bytes left */
	HR_CHUNK_SIZE, /* a chunk-size line */
	HR_CHUNK_DATA, /* chunk bytes left */
	HR_CHUNK_CRLF, /* the CRLF after chunk data */
	HR_TRAILER,    /* trailer lines up to the empty one */
	HR_BODY_EOF,   /* no framing: the body runs to the connection's end */
	HR_DONE
};

enum { HTTP_RESP_MORE, HTTP_RESP_DONE, HTTP_RESP_ERR };

struct http_resp {
	enum http_resp_state st;
	char head[HTTP_RESP_HEAD_MAX];
	size_t head_len;
	char line[HTTP_RESP_LINE_MAX];
	size_t line_len;
	int status;     /* of the final answer */
	int conn_close; /* the server will close: Connection: close,
	                   HTTP/1.0 without keep-alive, or no framing */
	uint64_t left;
	uint64_t body_bytes; /* body bytes seen (chunk data only if chunked) */
};

/* Ready for the next answer on the connection. */
void http_resp_init(struct http_resp *r);

/*
 * Feeds answer bytes.  HTTP_RESP_DONE with `*used` the bytes that belonged
 * to the answer (the rest are not part of it), HTTP_RESP_MORE when all
 * `n` were used without completing it, HTTP_RESP_ERR.
 */
int http_resp_feed(struct http_resp *r, const char *p, size_t n, size_t *used);

/*
 * The connection ended: HTTP_RESP_DONE when that completes the answer (a
 * body framed by the connection's end), HTTP_RESP_ERR when it was cut.
 */
int http_resp_eof(struct http_resp *r);

#endif /* BENCH_HTTP_RESP_H */
