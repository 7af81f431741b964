/*
 * http_guard.c — strict incremental HTTP/1.1 request framing (see
 * http_guard.h).  One byte-level state machine; the only buffers are the
 * method, version, target (for the log) and the first bytes of the three
 * fields that decide framing: Content-Length, Transfer-Encoding, Expect.
 *
 * The rule that keeps it safe in front of evhttp: every request it
 * passes is one evhttp 2.1 parses the same way (origin-form target of
 * RFC 3986 characters, HTTP/1.0 or 1.1, token field names, CRLF line
 * ends, a body exactly as evhttp frames it), and smaller than evhttp's
 * own limits (main.c sets those above ours).
 */
#include <string.h>
#include <strings.h>

#include "gateway/http_guard.h"

static int
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 3986 pchar without pct-encoded (handled by the caller). */
static int
is_pchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL;
}

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static unsigned
hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	return (unsigned)(c - 'A' + 10);
}

static void
reset_request(struct http_guard *g)
{
	struct http_guard_limits lim = g->lim;
	uint64_t offset = g->offset, completed = g->completed;

	memset(g, 0, sizeof(*g));
	g->lim = lim;
	g->offset = offset;
	g->req_start = offset;
	g->completed = completed;
	g->st = G_METHOD;
}

void
http_guard_init(struct http_guard *g, const struct http_guard_limits *lim)
{
	memset(g, 0, sizeof(*g));
	g->lim = *lim;
	reset_request(g);
}

static int
reject(
    struct http_guard *g, int status, const char *reason, const char *message)
{
	g->st = G_REJECTED;
	g->err.status = status;
	g->err.reason = reason;
	g->err.message = message;
	return -1;
}

static int
bad(struct http_guard *g, const char *message)
{
	return reject(g, 400, "bad_request", message);
}

/* The method is known to evhttp and served or refused by our router. */
static int
end_method(struct http_guard *g)
{
	static const char *const known[] = {"GET", "HEAD", "POST", "PUT",
	    "DELETE", "PATCH", "OPTIONS", "TRACE"};
	size_t i;

	g->method[g->method_len] = '\0';
	if (g->method_len == 0)
		return bad(g, "malformed request line");
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(g->method, known[i]) == 0)
			break;
	if (i == sizeof(known) / sizeof(known[0]))
		return reject(g, 501, "not_implemented",
		    "this request method is not implemented");
	/* evhttp reads no body for these, whatever the headers say. */
	g->bodyless =
	    strcmp(g->method, "HEAD") == 0 || strcmp(g->method, "TRACE") == 0;
	return 0;
}

static int
end_version(struct http_guard *g)
{
	const char *v = g->version;

	g->version[g->version_len] = '\0';
	if (strcmp(v, "HTTP/1.1") == 0) {
		g->version_11 = 1;
		return 0;
	}
	if (strcmp(v, "HTTP/1.0") == 0)
		return 0;
	if (g->version_len == 8 && strncmp(v, "HTTP/", 5) == 0 && v[5] >= '0' &&
	    v[5] <= '9' && v[6] == '.' && v[7] >= '0' && v[7] <= '9')
		return reject(g, 505, "http_version_not_supported",
		    "only HTTP/1.0 and HTTP/1.1 are supported");
	return bad(g, "malformed request line");
}

/* A complete header field: note the three that decide framing. */
static int
end_field(struct http_guard *g)
{
	char *v = g->value;
	size_t i;

	while (g->value_len > 0 &&
	    (v[g->value_len - 1] == ' ' || v[g->value_len - 1] == '\t'))
		g->value_len--;
	v[g->value_len] = '\0';
	if (g->name_long)
		return 0;
	g->name[g->name_len] = '\0';
	if (strcmp(g->name, "content-length") == 0) {
		if (g->has_cl)
			return bad(g, "more than one Content-Length");
		if (g->value_long || g->value_len == 0 || g->value_len > 19)
			return bad(g, "malformed Content-Length");
		g->content_length = 0;
		for (i = 0; i < g->value_len; i++) {
			if (v[i] < '0' || v[i] > '9')
				return bad(g, "malformed Content-Length");
			g->content_length =
			    g->content_length * 10 + (uint64_t)(v[i] - '0');
		}
		g->has_cl = 1;
	} else if (strcmp(g->name, "transfer-encoding") == 0) {
		if (g->has_te)
			return bad(g, "more than one Transfer-Encoding");
		g->has_te = 1;
		/* Reuse has_te = 2 for "chunked, exactly". */
		if (!g->value_long && strcasecmp(v, "chunked") == 0)
			g->has_te = 2;
	} else if (strcmp(g->name, "expect") == 0) {
		if (g->has_expect)
			return bad(g, "more than one Expect");
		g->has_expect = 1;
		g->expect_continue =
		    !g->value_long && strcasecmp(v, "100-continue") == 0;
	}
	return 0;
}

static void
complete(struct http_guard *g)
{
	g->completed++;
	reset_request(g);
}

/* The empty line after the header fields: how is the body framed? */
static int
end_head(struct http_guard *g)
{
	int chunked = g->has_te == 2;

	if (g->bodyless) {
		if (g->has_te || (g->has_cl && g->content_length > 0))
			return bad(g, "a HEAD or TRACE request has no body");
		complete(g);
		return 0;
	}
	if (g->has_te && g->has_cl)
		return bad(g, "both Transfer-Encoding and Content-Length");
	if (g->has_te && !chunked)
		return reject(g, 501, "not_implemented",
		    "only the chunked transfer coding is implemented");
	if (g->has_cl && g->content_length > g->lim.max_body)
		return reject(
		    g, 413, "body_too_large", "request body too large");
	if ((chunked || g->content_length > 0) && g->version_11 &&
	    g->has_expect && !g->expect_continue)
		return reject(g, 417, "expectation_failed",
		    "only Expect: 100-continue is supported");
	if (chunked) {
		g->st = G_CHUNK_SIZE;
		return 0;
	}
	if (g->content_length > 0) {
		g->left = g->content_length;
		g->st = G_BODY;
		return 0;
	}
	complete(g);
	return 0;
}

/* Keeps the start of a field name, lowercased. */
static int
name_byte(struct http_guard *g, unsigned char c)
{
	if (g->name_len == sizeof(g->name) - 1)
		g->name_long = 1;
	else
		g->name[g->name_len++] =
		    (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	return 0;
}

/* One byte of the request line or header section. */
static int
head_byte(struct http_guard *g, unsigned char c)
{
	if (++g->head_bytes > g->lim.max_head)
		return reject(g, 431, "header_too_large",
		    "request line and header fields too large");
	switch (g->st) {
	case G_METHOD:
		if (c == ' ') {
			if (end_method(g) != 0)
				return -1;
			g->st = G_TARGET;
			return 0;
		}
		if (!is_tchar(c))
			return bad(g, "malformed request line");
		if (g->method_len == sizeof(g->method) - 1)
			return reject(g, 501, "not_implemented",
			    "this request method is not implemented");
		g->method[g->method_len++] = (char)c;
		return 0;
	case G_TARGET:
	case G_PCT1:
	case G_PCT2:
		if (c == ' ' && g->st == G_TARGET && g->target_len > 0) {
			g->st = G_VERSION;
			return 0;
		}
		if (g->target_len == g->lim.max_target ||
		    g->target_len == sizeof(g->target) - 1)
			return reject(
			    g, 414, "uri_too_long", "request target too long");
		if (g->st != G_TARGET) {
			if (!is_hex(c))
				return bad(g, "malformed percent-encoding");
			g->st = g->st == G_PCT1 ? G_PCT2 : G_TARGET;
		} else if (g->target_len == 0) {
			/* origin-form only: no absolute-form, no "*" */
			if (c != '/')
				return bad(g,
				    "the request target must be a "
				    "path starting with /");
		} else if (g->target_len == 1 && c == '/')
			/* libevent would read "//host/..." as an authority */
			return bad(g,
			    "the request target must not start "
			    "with //");
		else if (c == '%')
			g->st = G_PCT1;
		else if (!is_pchar(c) && c != '/' && c != '?')
			return bad(g, "invalid character in request target");
		g->target[g->target_len++] = (char)c;
		g->target[g->target_len] = '\0';
		return 0;
	case G_VERSION:
		if (c == '\r') {
			if (end_version(g) != 0)
				return -1;
			g->st = G_LINE_LF;
			return 0;
		}
		if (g->version_len == sizeof(g->version) - 1 || c < 0x21 ||
		    c > 0x7e)
			return bad(g, "malformed request line");
		g->version[g->version_len++] = (char)c;
		return 0;
	case G_LINE_LF:
	case G_VALUE_LF:
	case G_HEAD_LF:
		if (c != '\n')
			return bad(g, "CR without LF");
		if (g->st == G_HEAD_LF)
			return end_head(g);
		if (g->st == G_VALUE_LF && end_field(g) != 0)
			return -1;
		g->st = G_FIELD_START;
		return 0;
	case G_FIELD_START:
		if (c == '\r') {
			g->st = G_HEAD_LF;
			return 0;
		}
		if (c == ' ' || c == '\t')
			return bad(g, "obsolete line folding");
		if (!is_tchar(c))
			return bad(g, "malformed header field");
		if (++g->fields > g->lim.max_fields)
			return reject(g, 431, "header_too_large",
			    "too many header fields");
		g->name_len = g->value_len = 0;
		g->name_long = g->value_long = 0;
		g->st = G_NAME;
		return name_byte(g, c);
	case G_NAME:
		if (c == ':') {
			g->st = G_VALUE;
			return 0;
		}
		if (!is_tchar(c))
			return bad(g, "malformed header field name");
		return name_byte(g, c);
	case G_VALUE:
		if (c == '\r') {
			g->st = G_VALUE_LF;
			return 0;
		}
		if (c != '\t' && (c < 0x20 || c == 0x7f))
			return bad(g, "invalid character in header field");
		if (g->value_len == 0 && (c == ' ' || c == '\t'))
			return 0; /* leading whitespace */
		if (g->value_len == GUARD_VALUE_MAX)
			g->value_long = 1;
		else
			g->value[g->value_len++] = (char)c;
		return 0;
	default:
		return bad(g, "internal state");
	}
}

/* Chunked framing: size line, data, CRLF; no extensions, no trailers. */
static int
chunk_byte(struct http_guard *g, unsigned char c)
{
	switch (g->st) {
	case G_CHUNK_SIZE:
		if (c == '\r' && g->hex_digits > 0) {
			if (g->left > g->lim.max_body - g->body_total)
				return reject(g, 413, "body_too_large",
				    "request body too large");
			g->body_total += g->left;
			g->st = G_CHUNK_SIZE_LF;
			return 0;
		}
		if (!is_hex(c) || g->hex_digits == 8)
			return bad(g, "malformed chunk size");
		g->left = g->left * 16 + hex_val(c);
		g->hex_digits++;
		return 0;
	case G_CHUNK_SIZE_LF:
		if (c != '\n')
			return bad(g, "CR without LF");
		g->hex_digits = 0;
		g->st = g->left == 0 ? G_TRAILER : G_CHUNK_DATA;
		return 0;
	case G_CHUNK_DATA_CR:
		if (c != '\r')
			return bad(g, "chunk data longer than its size");
		g->st = G_CHUNK_DATA_LF;
		return 0;
	case G_CHUNK_DATA_LF:
		if (c != '\n')
			return bad(g, "CR without LF");
		g->st = G_CHUNK_SIZE;
		return 0;
	case G_TRAILER:
		if (c != '\r')
			return bad(g, "trailer fields are not accepted");
		g->st = G_TRAILER_LF;
		return 0;
	case G_TRAILER_LF:
		if (c != '\n')
			return bad(g, "CR without LF");
		complete(g);
		return 0;
	default:
		return bad(g, "internal state");
	}
}

int
http_guard_feed(struct http_guard *g, const unsigned char *p, size_t n)
{
	size_t i = 0, take;
	int rc = 0;

	while (i < n && g->st != G_REJECTED) {
		if (g->st == G_BODY || g->st == G_CHUNK_DATA) {
			/* Body bytes are not looked at, only counted. */
			take = n - i;
			if ((uint64_t)take > g->left)
				take = (size_t)g->left;
			g->left -= take;
			i += take;
			g->offset += take;
			if (g->left == 0) {
				if (g->st == G_BODY)
					complete(g);
				else
					g->st = G_CHUNK_DATA_CR;
			}
			continue;
		}
		/* Counted first: a request that ends here starts the next
		 * one after this byte. */
		g->offset++;
		if (g->st >= G_CHUNK_SIZE)
			rc = chunk_byte(g, p[i++]);
		else
			rc = head_byte(g, p[i++]);
	}
	g->offset += n - i; /* bytes after a refusal still sit in the buffer */
	return g->st == G_REJECTED ? -1 : rc;
}

void
http_guard_skip(struct http_guard *g, size_t n)
{
	g->offset += n;
}

int
http_guard_rejected(const struct http_guard *g)
{
	return g->st == G_REJECTED;
}

size_t
http_guard_keep(const struct http_guard *g, size_t buffered)
{
	uint64_t first = g->offset - buffered; /* offset of buffer byte 0 */

	if (buffered > g->offset || g->req_start <= first)
		return 0;
	return (size_t)(g->req_start - first);
}

uint64_t
http_guard_completed(const struct http_guard *g)
{
	return g->completed;
}

const char *
http_guard_method(const struct http_guard *g)
{
	return g->method_len > 0 ? g->method : "-";
}

const char *
http_guard_target(const struct http_guard *g)
{
	return g->target_len > 0 ? g->target : "-";
}
