/*
 * ps_buf.h — bounded big-endian field writer and reader for proto-socket
 * bodies, and the charset validators of PROTOCOL.md §4.
 *
 * The writer has a sticky error: after the first failure every later put is
 * a no-op and ps_wbuf_error() reports the first cause, so encoders can chain
 * puts and check once.  The reader never reads past its input: every get
 * compares what remains with what it needs ("remaining < needed", never
 * "pos + needed > end") before touching a byte.
 */
#ifndef PS_BUF_H
#define PS_BUF_H

#include <stddef.h>
#include <stdint.h>

/* String field kinds; each has a maximum length and a charset. */
enum ps_str_kind {
	PS_STR_NAME,          /* DNS-1123 subdomain, 1..PS_MAX_NAME */
	PS_STR_NAMESPACE,     /* DNS-1123 label, 1..PS_MAX_NAMESPACE */
	PS_STR_IDENTITY,      /* printable ASCII, 1..PS_MAX_IDENTITY */
	PS_STR_RV,            /* visible ASCII, 1..PS_MAX_RV */
	PS_STR_MESSAGE,       /* printable ASCII, 0..PS_MAX_MESSAGE */
	PS_STR_OPT_RV,        /* "" (none) or a PS_STR_RV */
	PS_STR_OPT_NAME,      /* "" (none) or a PS_STR_NAME */
	PS_STR_OPT_NAMESPACE, /* "" (every namespace) or a PS_STR_NAMESPACE */
	PS_STR_REF /* visible ASCII, 0..PS_MAX_NAME (an error's ref) */
};

/* Writer over caller memory. */
struct ps_wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	int err; /* first PS_ERR_* seen, or 0 */
};

void ps_wbuf_init(struct ps_wbuf *w, uint8_t *mem, size_t cap);
void ps_wbuf_u8(struct ps_wbuf *w, uint8_t v);
void ps_wbuf_u16(struct ps_wbuf *w, uint16_t v);
void ps_wbuf_u32(struct ps_wbuf *w, uint32_t v);
void ps_wbuf_u64(struct ps_wbuf *w, uint64_t v);
void ps_wbuf_bytes(struct ps_wbuf *w, const void *data, size_t len);
/* Validates `s` (NUL-terminated) as `kind` before writing it. */
void ps_wbuf_str(struct ps_wbuf *w, enum ps_str_kind kind, const char *s);
int ps_wbuf_error(const struct ps_wbuf *w);

/* Reader over a borrowed body. */
struct ps_rbuf {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

void ps_rbuf_init(struct ps_rbuf *r, const uint8_t *p, size_t len);
size_t ps_rbuf_remaining(const struct ps_rbuf *r);
int ps_rbuf_u8(struct ps_rbuf *r, uint8_t *v);
int ps_rbuf_u16(struct ps_rbuf *r, uint16_t *v);
int ps_rbuf_u32(struct ps_rbuf *r, uint32_t *v);
int ps_rbuf_u64(struct ps_rbuf *r, uint64_t *v);
/*
 * Reads a str<kind> into `out` (capacity `outsz`, which must hold the
 * kind's maximum plus a NUL).  The length is checked against the maximum
 * before any byte is copied, the bytes against the charset after; on error
 * `out` holds an empty string.
 */
int ps_rbuf_str(
    struct ps_rbuf *r, enum ps_str_kind kind, char *out, size_t outsz);
/* PS_OK when every byte was consumed, PS_ERR_TRAILING otherwise. */
int ps_rbuf_end(const struct ps_rbuf *r);

/* Charset validators over counted bytes (no NUL needed). */
size_t ps_str_max(enum ps_str_kind kind);
int ps_valid_str(enum ps_str_kind kind, const char *s, size_t len);
int ps_valid_name(const char *s, size_t len);
int ps_valid_namespace(const char *s, size_t len);
/* Metrics text: bytes 0x20..0x7e, tab and newline. */
int ps_valid_metrics(const uint8_t *s, size_t len);

#endif /* PS_BUF_H */
