/*
 * http_parse.c — strict incremental HTTP/1.1 request parsing (see
 * http_parse.h).  One byte-level state machine for the request line and
 * the header section; body bytes are handed out in runs, never copied.
 * The only buffers are the method, version, target, and the first bytes
 * of the fields the gateway acts on.
 */
#include <string.h>
#include <strings.h>

#include "gateway/http_parse.h"
#include "proto-socket/ps_buf.h"

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
reset_request(struct http_parser *p)
{
	struct http_parse_limits lim = p->lim;

	memset(p, 0, sizeof(*p));
	p->lim = lim;
	p->st = HP_S_METHOD;
}

void
http_parse_init(struct http_parser *p, const struct http_parse_limits *lim)
{
	memset(p, 0, sizeof(*p));
	p->lim = *lim;
	if (p->lim.max_target > GW_MAX_URI)
		p->lim.max_target = GW_MAX_URI;
	reset_request(p);
}

static enum http_parse_event
refuse(
    struct http_parser *p, int status, const char *reason, const char *message)
{
	p->st = HP_S_REFUSED;
	p->err.status = status;
	p->err.reason = reason;
	p->err.message = message;
	return HP_REFUSED;
}

static enum http_parse_event
bad(struct http_parser *p, const char *message)
{
	return refuse(p, 400, "bad_request", message);
}

/* A method we know: served, or refused by the router with 405. */
static enum http_parse_event
end_method(struct http_parser *p)
{
	static const char *const known[] = {"GET", "HEAD", "POST", "PUT",
	    "DELETE", "PATCH", "OPTIONS", "TRACE"};
	size_t i;

	p->req.method[p->method_len] = '\0';
	if (p->method_len == 0)
		return bad(p, "malformed request line");
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(p->req.method, known[i]) == 0)
			break;
	if (i == sizeof(known) / sizeof(known[0]))
		return refuse(p, 501, "not_implemented",
		    "this request method is not implemented");
	p->bodyless = strcmp(p->req.method, "HEAD") == 0 ||
	    strcmp(p->req.method, "TRACE") == 0;
	return HP_MORE;
}

static enum http_parse_event
end_version(struct http_parser *p)
{
	const char *v = p->version;

	p->version[p->version_len] = '\0';
	if (strcmp(v, "HTTP/1.1") == 0) {
		p->req.version_11 = 1;
		return HP_MORE;
	}
	if (strcmp(v, "HTTP/1.0") == 0)
		return HP_MORE;
	if (p->version_len == 8 && strncmp(v, "HTTP/", 5) == 0 && v[5] >= '0' &&
	    v[5] <= '9' && v[6] == '.' && v[7] >= '0' && v[7] <= '9')
		return refuse(p, 505, "http_version_not_supported",
		    "only HTTP/1.0 and HTTP/1.1 are supported");
	return bad(p, "malformed request line");
}

/* The connection options of a Connection field: close and keep-alive. */
static void
connection_tokens(struct http_parser *p, const char *v)
{
	size_t n;

	while (*v != '\0') {
		v += strspn(v, " \t,");
		n = strcspn(v, " \t,");
		if (n == 5 && strncasecmp(v, "close", 5) == 0)
			p->conn_close = 1;
		else if (n == 10 && strncasecmp(v, "keep-alive", 10) == 0)
			p->conn_keep = 1;
		v += n;
	}
}

/* A complete header field: keep what frames the request or is acted on. */
static enum http_parse_event
end_field(struct http_parser *p)
{
	char *v = p->value;
	size_t i;

	while (p->value_len > 0 &&
	    (v[p->value_len - 1] == ' ' || v[p->value_len - 1] == '\t'))
		p->value_len--;
	v[p->value_len] = '\0';
	if (p->name_long)
		return HP_MORE;
	p->name[p->name_len] = '\0';
	if (strcmp(p->name, "content-length") == 0) {
		if (p->has_cl)
			return bad(p, "more than one Content-Length");
		if (p->value_long || p->value_len == 0 || p->value_len > 19)
			return bad(p, "malformed Content-Length");
		p->content_length = 0;
		for (i = 0; i < p->value_len; i++) {
			if (v[i] < '0' || v[i] > '9')
				return bad(p, "malformed Content-Length");
			p->content_length =
			    p->content_length * 10 + (uint64_t)(v[i] - '0');
		}
		p->has_cl = 1;
	} else if (strcmp(p->name, "transfer-encoding") == 0) {
		if (p->has_te)
			return bad(p, "more than one Transfer-Encoding");
		p->has_te = 1;
		/* has_te = 2 for "chunked, exactly". */
		if (!p->value_long && strcasecmp(v, "chunked") == 0)
			p->has_te = 2;
	} else if (strcmp(p->name, "expect") == 0) {
		if (p->has_expect)
			return bad(p, "more than one Expect");
		p->has_expect = 1;
		p->req.expect_continue =
		    !p->value_long && strcasecmp(v, "100-continue") == 0;
	} else if (strcmp(p->name, "content-type") == 0) {
		if (p->has_ct)
			return bad(p, "more than one Content-Type");
		p->has_ct = 1;
		memcpy(p->req.content_type, v, p->value_len + 1);
		p->req.content_type_long = p->value_long;
	} else if (strcmp(p->name, "if-match") == 0) {
		if (p->req.has_if_match)
			return bad(p, "more than one If-Match");
		p->req.has_if_match = 1;
		memcpy(p->req.if_match, v, p->value_len + 1);
		p->req.if_match_long = p->value_long;
	} else if (strcmp(p->name, "connection") == 0)
		/* A long value is judged by its first bytes. */
		connection_tokens(p, v);
	return HP_MORE;
}

/* The empty line after the header fields: how is the body framed? */
static enum http_parse_event
end_head(struct http_parser *p)
{
	int chunked = p->has_te == 2;
	struct http_parse_req *r = &p->req;

	r->keep_alive =
	    r->version_11 ? !p->conn_close : p->conn_keep && !p->conn_close;
	if (p->bodyless) {
		if (p->has_te || (p->has_cl && p->content_length > 0))
			return bad(p, "a HEAD or TRACE request has no body");
		r->has_length = p->has_cl;
		r->expect_continue = 0;
		p->st = HP_S_DONE;
		return HP_HEAD;
	}
	if (p->has_te && p->has_cl)
		return bad(p, "both Transfer-Encoding and Content-Length");
	if (p->has_te && !chunked)
		return refuse(p, 501, "not_implemented",
		    "only the chunked transfer coding is implemented");
	if (p->has_cl && p->content_length > p->lim.max_body)
		return refuse(
		    p, 413, "body_too_large", "request body too large");
	r->has_length = p->has_cl || chunked;
	r->has_body = chunked || p->content_length > 0;
	/* Expect means nothing without a body, nor in HTTP/1.0. */
	if (!r->has_body || !r->version_11)
		r->expect_continue = 0;
	else if (p->has_expect && !r->expect_continue)
		return refuse(p, 417, "expectation_failed",
		    "only Expect: 100-continue is supported");
	if (chunked)
		p->st = HP_S_CHUNK_SIZE;
	else if (p->content_length > 0) {
		p->left = p->content_length;
		p->st = HP_S_BODY;
	} else
		p->st = HP_S_DONE;
	return HP_HEAD;
}

/* Keeps the start of a field name, lowercased. */
static void
name_byte(struct http_parser *p, unsigned char c)
{
	if (p->name_len == sizeof(p->name) - 1)
		p->name_long = 1;
	else
		p->name[p->name_len++] =
		    (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

static enum http_parse_event
target_byte(struct http_parser *p, unsigned char c)
{
	struct http_parse_req *r = &p->req;

	if (c == ' ' && p->st == HP_S_TARGET && r->target_len > 0) {
		p->st = HP_S_VERSION;
		return HP_MORE;
	}
	if (r->target_len == p->lim.max_target)
		return refuse(
		    p, 414, "uri_too_long", "request target too long");
	if (p->st != HP_S_TARGET) {
		if (!is_hex(c))
			return bad(p, "malformed percent-encoding");
		p->st = p->st == HP_S_PCT1 ? HP_S_PCT2 : HP_S_TARGET;
	} else if (r->target_len == 0) {
		/* origin-form only: no absolute-form, no "*" */
		if (c != '/')
			return bad(p,
			    "the request target must be a path "
			    "starting with /");
	} else if (r->target_len == 1 && c == '/')
		/* URI parsers read "//host/..." as an authority */
		return bad(p, "the request target must not start with //");
	else if (c == '%')
		p->st = HP_S_PCT1;
	else if (!is_pchar(c) && c != '/' && c != '?')
		return bad(p, "invalid character in request target");
	r->target[r->target_len++] = (char)c;
	r->target[r->target_len] = '\0';
	return HP_MORE;
}

/* One byte of the request line or header section. */
static enum http_parse_event
head_byte(struct http_parser *p, unsigned char c)
{
	if (++p->head_bytes > p->lim.max_head)
		return refuse(p, 431, "header_too_large",
		    "request line and header fields too large");
	switch (p->st) {
	case HP_S_METHOD:
		if (c == ' ') {
			if (end_method(p) != HP_MORE)
				return HP_REFUSED;
			p->st = HP_S_TARGET;
			return HP_MORE;
		}
		if (!is_tchar(c))
			return bad(p, "malformed request line");
		if (p->method_len == sizeof(p->req.method) - 1)
			return refuse(p, 501, "not_implemented",
			    "this request method is not implemented");
		p->req.method[p->method_len++] = (char)c;
		return HP_MORE;
	case HP_S_TARGET:
	case HP_S_PCT1:
	case HP_S_PCT2:
		return target_byte(p, c);
	case HP_S_VERSION:
		if (c == '\r') {
			if (end_version(p) != HP_MORE)
				return HP_REFUSED;
			p->st = HP_S_LINE_LF;
			return HP_MORE;
		}
		if (p->version_len == sizeof(p->version) - 1 || c < 0x21 ||
		    c > 0x7e)
			return bad(p, "malformed request line");
		p->version[p->version_len++] = (char)c;
		return HP_MORE;
	case HP_S_LINE_LF:
	case HP_S_VALUE_LF:
	case HP_S_HEAD_LF:
		if (c != '\n')
			return bad(p, "CR without LF");
		if (p->st == HP_S_HEAD_LF)
			return end_head(p);
		if (p->st == HP_S_VALUE_LF && end_field(p) != HP_MORE)
			return HP_REFUSED;
		p->st = HP_S_FIELD_START;
		return HP_MORE;
	case HP_S_FIELD_START:
		if (c == '\r') {
			p->st = HP_S_HEAD_LF;
			return HP_MORE;
		}
		if (c == ' ' || c == '\t')
			return bad(p, "obsolete line folding");
		if (!is_tchar(c))
			return bad(p, "malformed header field");
		if (++p->fields > p->lim.max_fields)
			return refuse(p, 431, "header_too_large",
			    "too many header fields");
		p->name_len = p->value_len = 0;
		p->name_long = p->value_long = 0;
		p->st = HP_S_NAME;
		name_byte(p, c);
		return HP_MORE;
	case HP_S_NAME:
		if (c == ':') {
			p->st = HP_S_VALUE;
			/* If-Match alone gets room for a whole entity-tag. */
			p->value_cap = !p->name_long && p->name_len == 8 &&
			        memcmp(p->name, "if-match", 8) == 0
			    ? HTTP_PARSE_IF_MATCH_MAX
			    : HTTP_PARSE_VALUE_MAX;
			return HP_MORE;
		}
		if (!is_tchar(c))
			return bad(p, "malformed header field name");
		name_byte(p, c);
		return HP_MORE;
	case HP_S_VALUE:
		if (c == '\r') {
			p->st = HP_S_VALUE_LF;
			return HP_MORE;
		}
		if (c != '\t' && (c < 0x20 || c == 0x7f))
			return bad(p, "invalid character in header field");
		if (p->value_len == 0 && (c == ' ' || c == '\t'))
			return HP_MORE; /* leading whitespace */
		if (p->value_len >= p->value_cap)
			p->value_long = 1;
		else
			p->value[p->value_len++] = (char)c;
		return HP_MORE;
	default:
		return bad(p, "internal state");
	}
}

/* Chunked framing: size line, data, CRLF; no extensions, no trailers. */
static enum http_parse_event
chunk_byte(struct http_parser *p, unsigned char c)
{
	switch (p->st) {
	case HP_S_CHUNK_SIZE:
		if (c == '\r' && p->hex_digits > 0) {
			if (p->left > p->lim.max_body - p->body_total)
				return refuse(p, 413, "body_too_large",
				    "request body too large");
			p->body_total += p->left;
			p->st = HP_S_CHUNK_SIZE_LF;
			return HP_MORE;
		}
		if (!is_hex(c) || p->hex_digits == 8)
			return bad(p, "malformed chunk size");
		p->left = p->left * 16 + hex_val(c);
		p->hex_digits++;
		return HP_MORE;
	case HP_S_CHUNK_SIZE_LF:
		if (c != '\n')
			return bad(p, "CR without LF");
		p->hex_digits = 0;
		p->st = p->left == 0 ? HP_S_TRAILER : HP_S_CHUNK_DATA;
		return HP_MORE;
	case HP_S_CHUNK_DATA_CR:
		if (c != '\r')
			return bad(p, "chunk data longer than its size");
		p->st = HP_S_CHUNK_DATA_LF;
		return HP_MORE;
	case HP_S_CHUNK_DATA_LF:
		if (c != '\n')
			return bad(p, "CR without LF");
		p->st = HP_S_CHUNK_SIZE;
		return HP_MORE;
	case HP_S_TRAILER:
		if (c != '\r')
			return bad(p, "trailer fields are not accepted");
		p->st = HP_S_TRAILER_LF;
		return HP_MORE;
	case HP_S_TRAILER_LF:
		if (c != '\n')
			return bad(p, "CR without LF");
		p->st = HP_S_DONE;
		return HP_MORE;
	default:
		return bad(p, "internal state");
	}
}

enum http_parse_event
http_parse(struct http_parser *p, const unsigned char *data, size_t n,
    size_t *used, const unsigned char **body, size_t *body_len)
{
	enum http_parse_event ev;
	size_t i = 0, take;

	*used = 0;
	*body = NULL;
	*body_len = 0;
	if (p->st == HP_S_REFUSED)
		return HP_REFUSED;
	if (p->st == HP_S_DONE) {
		reset_request(p);
		return HP_DONE;
	}
	while (i < n) {
		if (p->st == HP_S_BODY || p->st == HP_S_CHUNK_DATA) {
			take = n - i;
			if ((uint64_t)take > p->left)
				take = (size_t)p->left;
			p->left -= take;
			if (p->left == 0)
				p->st = p->st == HP_S_BODY ? HP_S_DONE
				                           : HP_S_CHUNK_DATA_CR;
			*body = data + i;
			*body_len = take;
			*used = i + take;
			return HP_BODY;
		}
		if (p->st >= HP_S_CHUNK_SIZE)
			ev = chunk_byte(p, data[i++]);
		else
			ev = head_byte(p, data[i++]);
		if (ev == HP_MORE && p->st == HP_S_DONE) {
			reset_request(p);
			ev = HP_DONE;
		}
		if (ev != HP_MORE) {
			*used = i;
			return ev;
		}
	}
	*used = i;
	return HP_MORE;
}

/* RFC 9110 etagc: %x21 / %x23-7E / obs-text. */
static int
is_etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/* Optional whitespace, then a comma: the start of a second element. */
static int
list_follows(const char *s)
{
	s += strspn(s, " \t");
	return *s == ',';
}

enum http_if_match
http_parse_if_match(const struct http_parse_req *r, char rv[PS_MAX_RV + 1])
{
	const char *v = r->if_match, *open, *close;
	int weak = 0;
	size_t n;

	rv[0] = '\0';
	if (!r->has_if_match)
		return HIM_NONE;
	/* The first bytes say whether a second element started. */
	if (r->if_match_long) {
		open = strchr(v, '"');
		close = open != NULL ? strchr(open + 1, '"') : NULL;
		if ((close != NULL && list_follows(close + 1)) ||
		    (v[0] == '*' && list_follows(v + 1)))
			return HIM_LIST;
		return HIM_MALFORMED;
	}
	if (v[0] == '*')
		return v[1] == '\0'       ? HIM_ANY
		    : list_follows(v + 1) ? HIM_LIST
		                          : HIM_MALFORMED;
	if (v[0] == 'W' && v[1] == '/') {
		weak = 1;
		v += 2;
	}
	if (v[0] != '"')
		return HIM_MALFORMED;
	for (n = 1; v[n] != '\0' && v[n] != '"'; n++)
		if (!is_etagc((unsigned char)v[n]))
			return HIM_MALFORMED;
	if (v[n] != '"')
		return HIM_MALFORMED;
	if (v[n + 1] != '\0')
		return list_follows(v + n + 1) ? HIM_LIST : HIM_MALFORMED;
	n--; /* the opaque part, without its quotes */
	if (n > PS_MAX_RV || ps_valid_str(PS_STR_RV, v + 1, n) != PS_OK)
		return HIM_MALFORMED;
	memcpy(rv, v + 1, n);
	rv[n] = '\0';
	return weak ? HIM_WEAK : HIM_STRONG;
}

const char *
http_parse_method(const struct http_parser *p)
{
	return p->method_len > 0 ? p->req.method : "-";
}

const char *
http_parse_target(const struct http_parser *p)
{
	return p->req.target_len > 0 ? p->req.target : "-";
}
