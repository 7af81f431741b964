/*
 * http_resp.c — the load client's HTTP/1.1 answer framing (see
 * http_resp.h).  It finds where an answer ends; it reads the status and
 * the three fields that decide framing and reuse (Content-Length,
 * Transfer-Encoding, Connection) and nothing else: the client does not
 * look inside bodies.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "tests/bench/http_resp.h"

void
http_resp_init(struct http_resp *r)
{
	r->st = HR_HEAD;
	r->head_len = 0;
	r->line_len = 0;
	r->status = 0;
	r->conn_close = 0;
	r->left = 0;
	r->body_bytes = 0;
}

/* Does the comma-separated header value `v` (length n) hold `token`? */
static int
has_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token), i = 0, s, e;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
			return 1;
	}
	return 0;
}

/* Parses the complete head in r->head (r->head_len bytes, CRLFCRLF last). */
static int
http_resp_parse_head(struct http_resp *r)
{
	const char *p = r->head, *end = r->head + r->head_len, *eol, *colon;
	int http10, have_len = 0, chunked = 0, keep_alive = 0;
	uint64_t clen = 0, v;
	const char *q;

	if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return HTTP_RESP_ERR;
	if (eol - p < 13 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ' || p[9] < '1' ||
	    p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' ||
	    p[11] > '9' || (p[12] != ' ' && p[12] != '\r'))
		return HTTP_RESP_ERR;
	http10 = p[7] == '0';
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	for (p = eol + 1; p < end; p = eol + 1) {
		size_t nlen, vlen;
		const char *val;

		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return HTTP_RESP_ERR;
		if (eol == p || (eol == p + 1 && *p == '\r'))
			break; /* the empty line */
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL)
			return HTTP_RESP_ERR;
		nlen = (size_t)(colon - p);
		val = colon + 1;
		while (val < eol && (*val == ' ' || *val == '\t'))
			val++;
		vlen = (size_t)(eol - val);
		if (vlen > 0 && val[vlen - 1] == '\r')
			vlen--;
		if (nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
			v = 0;
			if (vlen == 0)
				return HTTP_RESP_ERR;
			for (q = val; q < val + vlen; q++) {
				if (*q < '0' || *q > '9' || v > UINT64_MAX / 20)
					return HTTP_RESP_ERR;
				v = v * 10 + (uint64_t)(*q - '0');
			}
			/* Two different lengths: smuggling-shaped, refuse. */
			if (have_len && v != clen)
				return HTTP_RESP_ERR;
			clen = v;
			have_len = 1;
		} else if (nlen == 17 &&
		    strncasecmp(p, "Transfer-Encoding", 17) == 0) {
			if (!has_token(val, vlen, "chunked"))
				return HTTP_RESP_ERR; /* no other coding is
				                         asked */
			chunked = 1;
		} else if (nlen == 10 &&
		    strncasecmp(p, "Connection", 10) == 0) {
			if (has_token(val, vlen, "close"))
				r->conn_close = 1;
			if (has_token(val, vlen, "keep-alive"))
				keep_alive = 1;
		}
	}
	if (http10 && !keep_alive)
		r->conn_close = 1;
	if (r->status == 204 || r->status == 304 ||
	    (r->status >= 100 && r->status < 200)) {
		r->st = HR_DONE;
	} else if (chunked) {
		r->st = HR_CHUNK_SIZE;
	} else if (have_len) {
		r->left = clen;
		r->st = clen > 0 ? HR_BODY_LEN : HR_DONE;
	} else {
		r->st = HR_BODY_EOF;
		r->conn_close = 1;
	}
	return HTTP_RESP_MORE;
}

/* A chunk-size line in r->line: hex digits, then extensions or CR. */
static int
http_resp_chunk_size(struct http_resp *r)
{
	uint64_t v = 0;
	size_t i;
	int d, any = 0;

	for (i = 0; i < r->line_len; i++) {
		char ch = r->line[i];

		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			d = ch - 'A' + 10;
		else
			break;
		if (v > (UINT64_MAX >> 4))
			return HTTP_RESP_ERR;
		v = (v << 4) | (uint64_t)d;
		any = 1;
	}
	if (!any)
		return HTTP_RESP_ERR;
	r->left = v;
	r->st = v > 0 ? HR_CHUNK_DATA : HR_TRAILER;
	return HTTP_RESP_MORE;
}

/* Collects one line into r->line; 1 when complete (LF seen), 0 more. */
static int
http_resp_line(
    struct http_resp *r, const char *p, size_t n, size_t *used, int *err)
{
	const char *lf = memchr(p, '\n', n);
	size_t take = lf != NULL ? (size_t)(lf - p) + 1 : n;

	*used = take;
	if (r->line_len + take > sizeof(r->line)) {
		*err = 1;
		return 0;
	}
	memcpy(r->line + r->line_len, p, take);
	r->line_len += take;
	return lf != NULL;
}

int
http_resp_feed(struct http_resp *r, const char *p, size_t n, size_t *used)
{
	size_t off = 0, take, scan;
	const char *crlf;
	int err = 0, rc;

	while (off < n && r->st != HR_DONE) {
		switch (r->st) {
		case HR_HEAD:
			/* Look for CRLFCRLF across the boundary of feeds. */
			scan = r->head_len > 3 ? r->head_len - 3 : 0;
			take = n - off;
			if (take > sizeof(r->head) - r->head_len)
				take = sizeof(r->head) - r->head_len;
			memcpy(r->head + r->head_len, p + off, take);
			r->head_len += take;
			crlf = NULL;
			for (size_t i = scan; i + 4 <= r->head_len; i++)
				if (memcmp(r->head + i, "\r\n\r\n", 4) == 0) {
					crlf = r->head + i;
					break;
				}
			if (crlf == NULL) {
				if (r->head_len == sizeof(r->head))
					return HTTP_RESP_ERR;
				off += take;
				break;
			}
			/* Give back what came after the head. */
			take -= r->head_len - (size_t)(crlf + 4 - r->head);
			r->head_len = (size_t)(crlf + 4 - r->head);
			off += take;
			if (http_resp_parse_head(r) != HTTP_RESP_MORE)
				return HTTP_RESP_ERR;
			if (r->st == HR_DONE && r->status >= 100 &&
			    r->status < 200) {
				/* An interim answer: the real one follows. */
				http_resp_init(r);
			}
			break;
		case HR_BODY_LEN:
		case HR_CHUNK_DATA:
			take = n - off;
			if (take > r->left)
				take = (size_t)r->left;
			r->left -= take;
			r->body_bytes += take;
			off += take;
			if (r->left == 0)
				r->st = r->st == HR_BODY_LEN ? HR_DONE
				                             : HR_CHUNK_CRLF;
			break;
		case HR_CHUNK_SIZE:
		case HR_CHUNK_CRLF:
		case HR_TRAILER:
			rc = http_resp_line(r, p + off, n - off, &take, &err);
			off += take;
			if (err)
				return HTTP_RESP_ERR;
			if (!rc)
				break;
			if (r->st == HR_CHUNK_SIZE) {
				if (http_resp_chunk_size(r) != HTTP_RESP_MORE)
					return HTTP_RESP_ERR;
			} else if (r->st == HR_CHUNK_CRLF) {
				if (!(r->line_len == 2 && r->line[0] == '\r'))
					return HTTP_RESP_ERR;
				r->st = HR_CHUNK_SIZE;
			} else if (r->line_len <= 2) {
				r->st = HR_DONE; /* the empty line ends it */
			}
			r->line_len = 0;
			break;
		case HR_BODY_EOF:
			r->body_bytes += n - off;
			off = n;
			break;
		case HR_DONE:
			break;
		}
	}
	*used = off;
	return r->st == HR_DONE ? HTTP_RESP_DONE : HTTP_RESP_MORE;
}

int
http_resp_eof(struct http_resp *r)
{
	if (r->st != HR_BODY_EOF)
		return HTTP_RESP_ERR;
	r->st = HR_DONE;
	return HTTP_RESP_DONE;
}
