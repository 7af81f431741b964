/*
 * http_parse.h — the gateway's HTTP/1.1 request parser: strict,
 * incremental, pure (no I/O, no allocation), and the only code that frames
 * a client's bytes into requests.  http_conn.c feeds it what a connection
 * reads and acts on the events it returns; it is unit-tested and fuzzed on
 * its own.
 *
 * Strict means a subset of RFC 9112 with no room for two readings of one
 * stream: request line `METHOD SP origin-form SP HTTP/1.x CRLF` with an
 * RFC 3986 target (not starting with `//`), token field names, no obsolete
 * line folding, CRLF line ends only, no control characters in values; a
 * body framed by exactly one Content-Length or `Transfer-Encoding:
 * chunked` (never both: request smuggling), none on HEAD/TRACE, no chunk
 * extensions or trailers.  Anything else is refused with the status and
 * the JSON error token the gateway answers (`err`), and the parser stops:
 * the connection answers the refusal after every earlier request and
 * closes, so nothing after a refused byte is ever interpreted.
 *
 * Of the header fields only those that frame the request or that the
 * gateway acts on are kept: Content-Length, Transfer-Encoding, Expect,
 * Connection, Content-Type and If-Match (issue #14; its own buffer, sized
 * for one entity-tag holding a resourceVersion).  Others are checked and
 * skipped.  A second Content-Length, Transfer-Encoding, Expect,
 * Content-Type or If-Match field is refused (400).
 */
#ifndef GW_HTTP_PARSE_H
#define GW_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/gw_limits.h"
#include "proto-socket/ps.h"

struct http_parse_limits {
	size_t max_head;     /* request line + header fields bytes */
	unsigned max_fields; /* header fields per request */
	size_t max_target;   /* request-target bytes (<= GW_MAX_URI) */
	uint64_t max_body;   /* body bytes (Content-Length or chunk total) */
};

/* Why a request was refused; what the error answer says. */
struct http_parse_error {
	int status;          /* 400, 413, 414, 417, 431, 501, 505 */
	const char *reason;  /* the error body's "error" token */
	const char *message; /* the error body's "message" */
};

enum http_parse_state {
	HP_S_METHOD = 0,
	HP_S_TARGET,
	HP_S_PCT1,
	HP_S_PCT2,
	HP_S_VERSION,
	HP_S_LINE_LF,
	HP_S_FIELD_START,
	HP_S_NAME,
	HP_S_VALUE,
	HP_S_VALUE_LF,
	HP_S_HEAD_LF,
	HP_S_BODY,
	HP_S_CHUNK_SIZE,
	HP_S_CHUNK_SIZE_LF,
	HP_S_CHUNK_DATA,
	HP_S_CHUNK_DATA_CR,
	HP_S_CHUNK_DATA_LF,
	HP_S_TRAILER,
	HP_S_TRAILER_LF,
	HP_S_DONE, /* the request is complete; HP_DONE is returned next */
	HP_S_REFUSED
};

/* What http_parse() stopped at. */
enum http_parse_event {
	HP_MORE = 0, /* every byte given was consumed; feed more */
	HP_HEAD,     /* the request line and fields are complete (`req`) */
	HP_BODY,     /* body bytes: `*data`, `*len` (chunk framing removed) */
	HP_DONE,     /* the request is complete; the next one may follow */
	HP_REFUSED   /* refused (`err`); the parser takes no more bytes */
};

#define HTTP_PARSE_NAME_MAX 20 /* longest field name we act on, +1 */
#define HTTP_PARSE_VALUE_MAX                                        \
	64 /* longest value of such a field we look at; longer ones \
	      are still checked, and count as not matching */

/*
 * If-Match holds one entity-tag: optional W/, a quoted resourceVersion of
 * up to PS_MAX_RV bytes, and a few bytes of slack so that a second tag
 * starting right after is still seen as a list, not as "too long".
 */
#define HTTP_PARSE_IF_MATCH_MAX (PS_MAX_RV + 8)

/* The request head, valid from HP_HEAD until the next request starts. */
struct http_parse_req {
	char method[8]; /* NUL-terminated */
	char target[GW_MAX_URI + 1];
	size_t target_len;
	int version_11;      /* HTTP/1.1 (else 1.0) */
	int keep_alive;      /* the client keeps the connection after this */
	int has_body;        /* Content-Length > 0, or chunked */
	int has_length;      /* a Content-Length, or chunked */
	int expect_continue; /* HTTP/1.1, a body, Expect: 100-continue */
	char content_type[HTTP_PARSE_VALUE_MAX + 1]; /* "" when absent */
	int content_type_long; /* longer than HTTP_PARSE_VALUE_MAX */
	int has_if_match;      /* an If-Match field was sent */
	char if_match[HTTP_PARSE_IF_MATCH_MAX + 1]; /* its first bytes */
	int if_match_long; /* longer than HTTP_PARSE_IF_MATCH_MAX */
};

struct http_parser {
	struct http_parse_limits lim;
	enum http_parse_state st;
	struct http_parse_error err;
	struct http_parse_req req;

	/* Framing state of the request being read. */
	size_t head_bytes;
	unsigned fields;
	size_t method_len;
	char version[9];
	size_t version_len;
	char name[HTTP_PARSE_NAME_MAX];
	size_t name_len;
	int name_long;
	char value[HTTP_PARSE_IF_MATCH_MAX + 1]; /* >= HTTP_PARSE_VALUE_MAX */
	size_t value_len;
	size_t value_cap; /* this field's: HTTP_PARSE_VALUE_MAX or If-Match's */
	int value_long;
	int bodyless; /* HEAD / TRACE */
	int has_cl, has_te, has_expect, has_ct, conn_close, conn_keep;
	uint64_t content_length;
	uint64_t left;       /* body or chunk bytes still to come */
	uint64_t body_total; /* chunked: declared so far */
	unsigned hex_digits;
};

void http_parse_init(
    struct http_parser *p, const struct http_parse_limits *lim);

/*
 * Consumes bytes of `data` (`n`) up to the next event and returns it;
 * `*used` says how many were consumed.  For HP_BODY, `*body` and
 * `*body_len` point into `data`.  HP_MORE consumes everything given.
 * After HP_REFUSED every call returns HP_REFUSED and consumes nothing.
 * How the bytes are split between calls never changes the events.
 */
enum http_parse_event http_parse(struct http_parser *p,
    const unsigned char *data, size_t n, size_t *used,
    const unsigned char **body, size_t *body_len);

/* What an If-Match field says (RFC 9110 §13.1.1). */
enum http_if_match {
	HIM_NONE = 0,  /* no If-Match field */
	HIM_ANY,       /* "*": any current representation */
	HIM_STRONG,    /* one strong entity-tag: `rv` holds its opaque part */
	HIM_WEAK,      /* one weak tag W/"...": never matches If-Match */
	HIM_LIST,      /* more than one entity-tag (or "*" and more) */
	HIM_MALFORMED, /* not an entity-tag, or its value is not a valid
	                  resourceVersion (PROTOCOL.md §4 `rv`), or too long */
};

/*
 * Judges the request's If-Match (`r->if_match`).  For HIM_STRONG and
 * HIM_WEAK `rv` (PS_MAX_RV + 1 bytes) receives the tag's value; it is
 * a valid PS_STR_RV.  Pure.
 */
enum http_if_match http_parse_if_match(
    const struct http_parse_req *r, char rv[PS_MAX_RV + 1]);

/* The request being read, for the access log of a refusal ("-"). */
const char *http_parse_method(const struct http_parser *p);
const char *http_parse_target(const struct http_parser *p);

#endif /* GW_HTTP_PARSE_H */
