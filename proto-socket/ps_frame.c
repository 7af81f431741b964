/*
 * ps_frame.c — header codec, incremental reader, bounded writer.
 *
 * The reader owns one frame-sized buffer for the direction it reads, so
 * memory per connection is fixed no matter what the peer sends; a header
 * is refused before any of its body is accepted.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"
#include "proto-socket/ps_frame.h"

struct ps_reader {
	enum ps_dir dir;
	int dead;          /* first error; sticky */
	int hdr_ok;        /* header of the frame in progress validated */
	int delivered;     /* the buffer holds a frame handed out */
	struct ps_hdr hdr; /* valid when hdr_ok */
	size_t have;       /* bytes of the current frame in buf */
	uint8_t buf[PS_MAX_FRAME];
};

struct ps_writer {
	uint8_t *buf;
	size_t cap;
	size_t off; /* first unwritten byte */
	size_t len; /* unwritten bytes from off */
};

void
ps_frame_put_hdr(uint8_t out[PS_HDR_LEN], const struct ps_hdr *h)
{
	struct ps_wbuf w;

	ps_wbuf_init(&w, out, PS_HDR_LEN);
	ps_wbuf_u32(&w, h->len);
	ps_wbuf_u16(&w, h->type);
	ps_wbuf_u16(&w, h->flags);
	ps_wbuf_u32(&w, h->id);
	ps_wbuf_u32(&w, h->reserved);
}

static int
check_flags(const struct ps_type_info *ti, enum ps_dir dir, uint16_t flags)
{
	if ((flags & ~PS_F_ALL) != 0)
		return PS_ERR_FLAGS;
	if (dir == PS_DIR_REQUEST)
		return flags == 0 ? PS_OK : PS_ERR_FLAGS;
	if (ti->type == PS_T_GOAWAY)
		return flags == PS_F_ERROR ? PS_OK : PS_ERR_FLAGS;
	if ((flags & PS_F_REPLY) == 0)
		return PS_ERR_FLAGS;
	if ((flags & PS_F_MORE) != 0 &&
	    (!ti->multi || (flags & PS_F_ERROR) != 0))
		return PS_ERR_FLAGS;
	return PS_OK;
}

int
ps_frame_parse_hdr(
    const uint8_t in[PS_HDR_LEN], enum ps_dir dir, struct ps_hdr *h)
{
	const struct ps_type_info *ti;
	struct ps_rbuf r;
	size_t max;
	int rc;

	ps_rbuf_init(&r, in, PS_HDR_LEN);
	/* 16 bytes are there: these reads cannot fail. */
	(void)ps_rbuf_u32(&r, &h->len);
	(void)ps_rbuf_u16(&r, &h->type);
	(void)ps_rbuf_u16(&r, &h->flags);
	(void)ps_rbuf_u32(&r, &h->id);
	(void)ps_rbuf_u32(&r, &h->reserved);

	max = dir == PS_DIR_REQUEST ? PS_MAX_REQUEST_FRAME : PS_MAX_FRAME;
	if (h->len < PS_HDR_LEN || h->len > max)
		return PS_ERR_FRAME_LEN;
	ti = ps_type_info(h->type);
	if (ti == NULL || (dir == PS_DIR_REQUEST && !ti->from_requester))
		return PS_ERR_TYPE;
	if (dir == PS_DIR_REQUEST && h->len - PS_HDR_LEN > ti->max_req_body)
		return PS_ERR_FRAME_LEN;
	if ((rc = check_flags(ti, dir, h->flags)) != PS_OK)
		return rc;
	if (h->reserved != 0)
		return PS_ERR_RESERVED;
	if ((h->type == PS_T_HELLO || h->type == PS_T_GOAWAY) != (h->id == 0))
		return PS_ERR_ID;
	return PS_OK;
}

void
ps_frame_begin(struct ps_wbuf *w, uint8_t *mem, size_t cap, uint16_t type,
    uint16_t flags, uint32_t id)
{
	ps_wbuf_init(w, mem, cap);
	ps_wbuf_u32(w, 0); /* length, patched by ps_frame_finish */
	ps_wbuf_u16(w, type);
	ps_wbuf_u16(w, flags);
	ps_wbuf_u32(w, id);
	ps_wbuf_u32(w, 0);
	/* PROTOCOL.md §2 step 6: never emit an id the peer must refuse. */
	if ((type == PS_T_HELLO || type == PS_T_GOAWAY) != (id == 0) &&
	    w->err == 0)
		w->err = PS_ERR_ID;
}

int
ps_frame_finish(struct ps_wbuf *w, size_t *len)
{
	struct ps_wbuf patch;
	int rc;

	*len = 0;
	if ((rc = ps_wbuf_error(w)) != PS_OK)
		return rc;
	if (w->len > PS_MAX_FRAME)
		return PS_ERR_NOSPACE;
	ps_wbuf_init(&patch, w->p, 4);
	ps_wbuf_u32(&patch, (uint32_t)w->len);
	*len = w->len;
	return PS_OK;
}

struct ps_reader *
ps_reader_new(enum ps_dir dir)
{
	struct ps_reader *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->dir = dir;
	return r;
}

void
ps_reader_free(struct ps_reader *r)
{
	free(r);
}

size_t
ps_reader_pending(const struct ps_reader *r)
{
	return r->delivered ? 0 : r->have;
}

int
ps_reader_read(struct ps_reader *r, const uint8_t *in, size_t len, size_t *used,
    struct ps_frame *f)
{
	size_t want, take;
	int rc;

	*used = 0;
	if (r->dead != 0)
		return PS_ERR_DEAD;
	if (r->delivered) {
		/* The previous frame's body view ends here. */
		r->delivered = 0;
		r->hdr_ok = 0;
		r->have = 0;
	}
	for (;;) {
		want = (r->hdr_ok ? r->hdr.len : PS_HDR_LEN) - r->have;
		take = len - *used < want ? len - *used : want;
		if (take > 0) {
			memcpy(r->buf + r->have, in + *used, take);
			r->have += take;
			*used += take;
		}
		if (take < want)
			return PS_AGAIN;
		if (!r->hdr_ok) {
			rc = ps_frame_parse_hdr(r->buf, r->dir, &r->hdr);
			if (rc != PS_OK) {
				r->dead = rc;
				return rc;
			}
			r->hdr_ok = 1;
			if (r->hdr.len > PS_HDR_LEN)
				continue;
		}
		f->hdr = r->hdr;
		f->body = r->buf + PS_HDR_LEN;
		f->body_len = r->hdr.len - PS_HDR_LEN;
		r->delivered = 1;
		return PS_OK;
	}
}

struct ps_writer *
ps_writer_new(size_t max_pending)
{
	struct ps_writer *w;

	if (max_pending == 0 || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	if ((w->buf = malloc(max_pending)) == NULL) {
		free(w);
		return NULL;
	}
	w->cap = max_pending;
	return w;
}

void
ps_writer_free(struct ps_writer *w)
{
	if (w == NULL)
		return;
	free(w->buf);
	free(w);
}

size_t
ps_writer_pending(const struct ps_writer *w)
{
	return w->len;
}

int
ps_writer_queue(struct ps_writer *w, const uint8_t *frame, size_t len)
{
	if (w->cap - w->len < len)
		return PS_ERR_NOSPACE;
	if (w->cap - w->off - w->len < len) {
		memmove(w->buf, w->buf + w->off, w->len);
		w->off = 0;
	}
	memcpy(w->buf + w->off + w->len, frame, len);
	w->len += len;
	return PS_OK;
}

int
ps_writer_flush(struct ps_writer *w, int fd)
{
	ssize_t n;

	while (w->len > 0) {
		/* send(MSG_NOSIGNAL): a closed peer is an error, not SIGPIPE.
		 */
		n = send(fd, w->buf + w->off, w->len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return PS_AGAIN;
			if (errno == EPIPE || errno == ECONNRESET)
				return PS_ERR_CLOSED;
			return PS_ERR_SYS;
		}
		w->off += (size_t)n;
		w->len -= (size_t)n;
	}
	w->off = 0;
	return PS_OK;
}
