/*
 * ps_buf.c — bounded field writer/reader and charset validators.
 *
 * Deliberately not here: framing (ps_frame.c) and message layout
 * (ps_codec.c).  Nothing in this file allocates.
 */
#include <string.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"

void
ps_wbuf_init(struct ps_wbuf *w, uint8_t *mem, size_t cap)
{
	w->p = mem;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

static int
wbuf_room(struct ps_wbuf *w, size_t need)
{
	if (w->err != 0)
		return 0;
	if (w->cap - w->len < need) {
		w->err = PS_ERR_NOSPACE;
		return 0;
	}
	return 1;
}

void
ps_wbuf_u8(struct ps_wbuf *w, uint8_t v)
{
	if (wbuf_room(w, 1))
		w->p[w->len++] = v;
}

void
ps_wbuf_u16(struct ps_wbuf *w, uint16_t v)
{
	if (!wbuf_room(w, 2))
		return;
	w->p[w->len++] = (uint8_t)(v >> 8);
	w->p[w->len++] = (uint8_t)v;
}

void
ps_wbuf_u32(struct ps_wbuf *w, uint32_t v)
{
	if (!wbuf_room(w, 4))
		return;
	for (int shift = 24; shift >= 0; shift -= 8)
		w->p[w->len++] = (uint8_t)(v >> shift);
}

void
ps_wbuf_u64(struct ps_wbuf *w, uint64_t v)
{
	if (!wbuf_room(w, 8))
		return;
	for (int shift = 56; shift >= 0; shift -= 8)
		w->p[w->len++] = (uint8_t)(v >> shift);
}

void
ps_wbuf_bytes(struct ps_wbuf *w, const void *data, size_t len)
{
	if (len == 0 || !wbuf_room(w, len))
		return;
	memcpy(w->p + w->len, data, len);
	w->len += len;
}

void
ps_wbuf_str(struct ps_wbuf *w, enum ps_str_kind kind, const char *s)
{
	size_t max = ps_str_max(kind);
	size_t len;
	int r;

	if (w->err != 0)
		return;
	/* Bounded scan: a string longer than its field is never measured. */
	len = strnlen(s, max + 1);
	if (len > max) {
		w->err = PS_ERR_STR_LEN;
		return;
	}
	if ((r = ps_valid_str(kind, s, len)) != PS_OK) {
		w->err = r;
		return;
	}
	if (!wbuf_room(w, 2 + len))
		return;
	ps_wbuf_u16(w, (uint16_t)len);
	ps_wbuf_bytes(w, s, len);
}

int
ps_wbuf_error(const struct ps_wbuf *w)
{
	return w->err;
}

void
ps_rbuf_init(struct ps_rbuf *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->pos = 0;
}

size_t
ps_rbuf_remaining(const struct ps_rbuf *r)
{
	return r->len - r->pos;
}

int
ps_rbuf_u8(struct ps_rbuf *r, uint8_t *v)
{
	if (ps_rbuf_remaining(r) < 1)
		return PS_ERR_TRUNCATED;
	*v = r->p[r->pos++];
	return PS_OK;
}

int
ps_rbuf_u16(struct ps_rbuf *r, uint16_t *v)
{
	if (ps_rbuf_remaining(r) < 2)
		return PS_ERR_TRUNCATED;
	*v = (uint16_t)((uint16_t)r->p[r->pos] << 8 | r->p[r->pos + 1]);
	r->pos += 2;
	return PS_OK;
}

int
ps_rbuf_u32(struct ps_rbuf *r, uint32_t *v)
{
	uint32_t x = 0;

	if (ps_rbuf_remaining(r) < 4)
		return PS_ERR_TRUNCATED;
	for (int i = 0; i < 4; i++)
		x = x << 8 | r->p[r->pos++];
	*v = x;
	return PS_OK;
}

int
ps_rbuf_u64(struct ps_rbuf *r, uint64_t *v)
{
	uint64_t x = 0;

	if (ps_rbuf_remaining(r) < 8)
		return PS_ERR_TRUNCATED;
	for (int i = 0; i < 8; i++)
		x = x << 8 | r->p[r->pos++];
	*v = x;
	return PS_OK;
}

int
ps_rbuf_str(struct ps_rbuf *r, enum ps_str_kind kind, char *out, size_t outsz)
{
	size_t max = ps_str_max(kind);
	uint16_t len;
	int rc;

	if (outsz > 0)
		out[0] = '\0';
	if ((rc = ps_rbuf_u16(r, &len)) != PS_OK)
		return rc;
	/* Field limit first, then the caller's buffer, then the input. */
	if (len > max)
		return PS_ERR_STR_LEN;
	if (outsz <= len)
		return PS_ERR_NOSPACE;
	if (ps_rbuf_remaining(r) < len)
		return PS_ERR_TRUNCATED;
	if ((rc = ps_valid_str(kind, (const char *)r->p + r->pos, len)) !=
	    PS_OK)
		return rc;
	memcpy(out, r->p + r->pos, len);
	out[len] = '\0';
	r->pos += len;
	return PS_OK;
}

int
ps_rbuf_end(const struct ps_rbuf *r)
{
	return ps_rbuf_remaining(r) == 0 ? PS_OK : PS_ERR_TRAILING;
}

size_t
ps_str_max(enum ps_str_kind kind)
{
	switch (kind) {
	case PS_STR_NAME:
		return PS_MAX_NAME;
	case PS_STR_NAMESPACE:
	case PS_STR_OPT_NAMESPACE:
		return PS_MAX_NAMESPACE;
	case PS_STR_IDENTITY:
		return PS_MAX_IDENTITY;
	case PS_STR_RV:
	case PS_STR_OPT_RV:
		return PS_MAX_RV;
	case PS_STR_MESSAGE:
		return PS_MAX_MESSAGE;
	case PS_STR_OPT_NAME:
	case PS_STR_REF:
		return PS_MAX_NAME;
	}
	return 0;
}

static int
is_alnum_lower(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One DNS-1123 label's shape: [a-z0-9]([-a-z0-9]*[a-z0-9])? */
static int
valid_label(const char *s, size_t len)
{
	if (len == 0 || !is_alnum_lower((unsigned char)s[0]) ||
	    !is_alnum_lower((unsigned char)s[len - 1]))
		return 0;
	for (size_t i = 1; i + 1 < len; i++)
		if (!is_alnum_lower((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int
ps_valid_name(const char *s, size_t len)
{
	size_t start = 0;

	if (len == 0)
		return PS_ERR_CHARSET;
	if (len > PS_MAX_NAME)
		return PS_ERR_STR_LEN;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (!valid_label(s + start, i - start))
			return PS_ERR_CHARSET;
		start = i + 1;
	}
	return PS_OK;
}

int
ps_valid_namespace(const char *s, size_t len)
{
	if (len > PS_MAX_NAMESPACE)
		return PS_ERR_STR_LEN;
	return valid_label(s, len) ? PS_OK : PS_ERR_CHARSET;
}

/* Printable ASCII within [lo, 0x7e], between min and max bytes long. */
static int
valid_ascii(const char *s, size_t len, unsigned char lo, size_t min, size_t max)
{
	if (len > max)
		return PS_ERR_STR_LEN;
	if (len < min)
		return PS_ERR_CHARSET;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < lo || c > 0x7e)
			return PS_ERR_CHARSET;
	}
	return PS_OK;
}

int
ps_valid_str(enum ps_str_kind kind, const char *s, size_t len)
{
	switch (kind) {
	case PS_STR_NAME:
		return ps_valid_name(s, len);
	case PS_STR_NAMESPACE:
		return ps_valid_namespace(s, len);
	case PS_STR_IDENTITY:
		return valid_ascii(s, len, 0x20, 1, PS_MAX_IDENTITY);
	case PS_STR_RV:
		return valid_ascii(s, len, 0x21, 1, PS_MAX_RV);
	case PS_STR_MESSAGE:
		return valid_ascii(s, len, 0x20, 0, PS_MAX_MESSAGE);
	case PS_STR_OPT_RV:
		return len == 0 ? PS_OK
		                : valid_ascii(s, len, 0x21, 1, PS_MAX_RV);
	case PS_STR_OPT_NAME:
		return len == 0 ? PS_OK : ps_valid_name(s, len);
	case PS_STR_OPT_NAMESPACE:
		return len == 0 ? PS_OK : ps_valid_namespace(s, len);
	case PS_STR_REF:
		return valid_ascii(s, len, 0x21, 0, PS_MAX_NAME);
	}
	return PS_ERR_CHARSET;
}

int
ps_valid_metrics(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];

		if ((c < 0x20 || c > 0x7e) && c != '\t' && c != '\n')
			return PS_ERR_CHARSET;
	}
	return PS_OK;
}
