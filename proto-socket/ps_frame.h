/*
 * ps_frame.h — proto-socket framing: the 16-byte header, an incremental
 * frame reader that accepts input in pieces of any size (one byte at a time
 * works), and a bounded writer that survives partial writes on a
 * non-blocking descriptor.
 *
 * With libevent, feed the reader from the input evbuffer and drain what it
 * used:
 *
 *	n = evbuffer_peek(in, -1, NULL, vec, nvec);
 *	for each vec: rc = ps_reader_read(rd, base, len, &used, &f);
 *	evbuffer_drain(in, total_used);  -- then handle f if rc == PS_OK
 *
 * and write encoded frames with evbuffer_add(), capping the output buffer
 * with a watermark; the bufferevent handles partial writes itself.
 * ps_writer is for plain descriptors (replicad-ctl, tests).
 */
#ifndef PS_FRAME_H
#define PS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"

/* Encodes `h` into 16 bytes. */
void ps_frame_put_hdr(uint8_t out[PS_HDR_LEN], const struct ps_hdr *h);

/*
 * Decodes and validates a header travelling in direction `dir`, in the order
 * of PROTOCOL.md §2.  Nothing of the body is needed or read.
 */
int ps_frame_parse_hdr(
    const uint8_t in[PS_HDR_LEN], enum ps_dir dir, struct ps_hdr *h);

/*
 * Frame encoding helpers: begin reserves the header in `w`, finish patches
 * the length in and returns the first error of any put in between.
 */
void ps_frame_begin(struct ps_wbuf *w, uint8_t *mem, size_t cap, uint16_t type,
    uint16_t flags, uint32_t id);
int ps_frame_finish(struct ps_wbuf *w, size_t *len);

/* Incremental reader; opaque, one per connection and direction. */
struct ps_reader;

struct ps_reader *ps_reader_new(enum ps_dir dir);
void ps_reader_free(struct ps_reader *r);

/*
 * Consumes bytes from `in` (at most `len`) and sets `*used` to how many it
 * took.  Returns PS_OK with `*f` filled when a frame completed (the caller
 * must then handle it and feed the rest of `in` again, from in + *used),
 * PS_AGAIN when everything was consumed without completing a frame, or a
 * negative error: the stream is then unusable and every later call returns
 * PS_ERR_DEAD.  The header is validated as soon as its 16 bytes are in, so
 * a bad frame is refused before its body arrives.  `f->body` is borrowed
 * from the reader and valid until the next call.
 */
int ps_reader_read(struct ps_reader *r, const uint8_t *in, size_t len,
    size_t *used, struct ps_frame *f);

/* Bytes of a frame in progress (0 between frames). */
size_t ps_reader_pending(const struct ps_reader *r);

/* Bounded output queue for a non-blocking descriptor. */
struct ps_writer;

struct ps_writer *ps_writer_new(size_t max_pending);
void ps_writer_free(struct ps_writer *w);
/* Copies a frame in; PS_ERR_NOSPACE (nothing queued) when over the bound. */
int ps_writer_queue(struct ps_writer *w, const uint8_t *frame, size_t len);
/*
 * Writes as much as the descriptor takes.  PS_OK when the queue is empty,
 * PS_AGAIN when bytes remain (wait for writability), PS_ERR_CLOSED when the
 * peer is gone, PS_ERR_SYS with errno otherwise.
 */
int ps_writer_flush(struct ps_writer *w, int fd);
size_t ps_writer_pending(const struct ps_writer *w);

#endif /* PS_FRAME_H */
