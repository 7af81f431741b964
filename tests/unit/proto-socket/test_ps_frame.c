/*
 * test_ps_frame.c — proto-socket/ps_frame.c: header validation in the order
 * of PROTOCOL.md §2, the incremental reader fed in pieces of every size,
 * and the bounded writer over a real non-blocking socketpair.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"
#include "proto-socket/ps_frame.h"

/* Deterministic pseudo-random numbers (xorshift32), fixed seeds. */
static uint32_t
rnd(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static void
put_hdr(uint8_t *out, uint32_t len, uint16_t type, uint16_t flags, uint32_t id,
    uint32_t reserved)
{
	struct ps_hdr h = {len, type, flags, id, reserved};

	ps_frame_put_hdr(out, &h);
}

/* ---- header ------------------------------------------------------------ */

static void
test_ps_frame_put_hdr_matches_protocol_example(void **state)
{
	/*
	 * PROTOCOL.md §8: GET, no flags, id 7.  §8 prints len 0x20, but its
	 * body ("0008" + "frontend") is 10 bytes: the frame is 26 = 0x1a.
	 */
	static const uint8_t want[PS_HDR_LEN] = {
	    0, 0, 0, 0x1a, 0, 3, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0};
	uint8_t out[PS_HDR_LEN];
	struct ps_hdr h;

	(void)state;
	put_hdr(out, 26, PS_T_GET, 0, 7, 0);
	assert_memory_equal(out, want, PS_HDR_LEN);
	assert_int_equal(ps_frame_parse_hdr(out, PS_DIR_REQUEST, &h), PS_OK);
	assert_int_equal(h.len, 26);
	assert_int_equal(h.type, PS_T_GET);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.id, 7);
	assert_int_equal(h.reserved, 0);
}

static void
test_ps_frame_put_hdr_round_trips_extremes(void **state)
{
	uint8_t out[PS_HDR_LEN];
	struct ps_hdr h;

	(void)state;
	put_hdr(out, PS_MAX_FRAME, PS_T_LIST, PS_F_REPLY | PS_F_MORE,
	    UINT32_MAX, 0);
	assert_int_equal(ps_frame_parse_hdr(out, PS_DIR_ANSWER, &h), PS_OK);
	assert_int_equal(h.len, PS_MAX_FRAME);
	assert_int_equal(h.type, PS_T_LIST);
	assert_int_equal(h.flags, PS_F_REPLY | PS_F_MORE);
	assert_int_equal(h.id, UINT32_MAX);
}

struct hdr_case {
	enum ps_dir dir;
	uint32_t len;
	uint16_t type;
	uint16_t flags;
	uint32_t id;
	uint32_t reserved;
	int want;
};

#define RQ PS_DIR_REQUEST
#define AN PS_DIR_ANSWER
#define R  PS_F_REPLY
#define M  PS_F_MORE
#define E  PS_F_ERROR

/* Hostile and boundary headers, one per row; PROTOCOL.md §2. */
static const struct hdr_case hdr_cases[] = {
    /* len below the header */
    {RQ, 15, PS_T_LIST, 0, 1, 0, PS_ERR_FRAME_LEN},
    /* len 0 */
    {RQ, 0, PS_T_LIST, 0, 1, 0, PS_ERR_FRAME_LEN},
    /* len 0 on an answer */
    {AN, 0, PS_T_LIST, R, 1, 0, PS_ERR_FRAME_LEN},
    /* request one over PS_MAX_REQUEST_FRAME */
    {RQ, 1025, PS_T_GET, 0, 1, 0, PS_ERR_FRAME_LEN},
    /* request len 0xffffffff */
    {RQ, 0xffffffffu, PS_T_GET, 0, 1, 0, PS_ERR_FRAME_LEN},
    /* request len 0x80000000 */
    {RQ, 0x80000000u, PS_T_GET, 0, 1, 0, PS_ERR_FRAME_LEN},
    /* request len 0x7fffffff */
    {RQ, 0x7fffffffu, PS_T_GET, 0, 1, 0, PS_ERR_FRAME_LEN},
    /* answer one over PS_MAX_FRAME */
    {AN, 16385, PS_T_LIST, R, 1, 0, PS_ERR_FRAME_LEN},
    /* answer len 0xffffffff */
    {AN, 0xffffffffu, PS_T_LIST, R, 1, 0, PS_ERR_FRAME_LEN},
    /* answer len 0x80000000 */
    {AN, 0x80000000u, PS_T_LIST, R, 1, 0, PS_ERR_FRAME_LEN},
    /* answer len 0x7fffffff */
    {AN, 0x7fffffffu, PS_T_LIST, R, 1, 0, PS_ERR_FRAME_LEN},
    /* answer exactly PS_MAX_FRAME */
    {AN, 16384, PS_T_LIST, R, 1, 0, PS_OK},
    /* answers have no per-type body limit */
    {AN, 2000, PS_T_GET, R, 1, 0, PS_OK},
    /* HELLO request body 8 is the max */
    {RQ, 16 + 8, PS_T_HELLO, 0, 0, 0, PS_OK},
    /* HELLO request body 9 */
    {RQ, 16 + 9, PS_T_HELLO, 0, 0, 0, PS_ERR_FRAME_LEN},
    /* empty-body requests with one body byte */
    {RQ, 17, PS_T_HEALTH, 0, 1, 0, PS_ERR_FRAME_LEN},
    {RQ, 17, PS_T_METRICS, 0, 1, 0, PS_ERR_FRAME_LEN},
    /* LIST / PIN_LIST body at and over 65 (version 3: a namespace, 2+63) */
    {RQ, 16 + 2, PS_T_LIST, 0, 1, 0, PS_OK},
    {RQ, 16 + 65, PS_T_LIST, 0, 1, 0, PS_OK},
    {RQ, 16 + 66, PS_T_LIST, 0, 1, 0, PS_ERR_FRAME_LEN},
    {RQ, 16 + 65, PS_T_PIN_LIST, 0, 1, 0, PS_OK},
    {RQ, 16 + 66, PS_T_PIN_LIST, 0, 1, 0, PS_ERR_FRAME_LEN},
    /* GET body at and over 320 (version 3: namespace 2+63, name 2+253) */
    {RQ, 16 + 320, PS_T_GET, 0, 1, 0, PS_OK},
    {RQ, 16 + 321, PS_T_GET, 0, 1, 0, PS_ERR_FRAME_LEN},
    /* PIN_GET body at and over 320 */
    {RQ, 16 + 320, PS_T_PIN_GET, 0, 1, 0, PS_OK},
    {RQ, 16 + 321, PS_T_PIN_GET, 0, 1, 0, PS_ERR_FRAME_LEN},
    /* SCALE / PIN_PUT body at and over 653 (version 3: namespace 2+63,
     * name 2+253, replicas 4, identity 2+256, flags 1, expected 4,
     * if_match 2+64) */
    {RQ, 16 + 653, PS_T_SCALE, 0, 1, 0, PS_OK},
    {RQ, 16 + 654, PS_T_SCALE, 0, 1, 0, PS_ERR_FRAME_LEN},
    {RQ, 16 + 653, PS_T_PIN_PUT, 0, 1, 0, PS_OK},
    {RQ, 16 + 654, PS_T_PIN_PUT, 0, 1, 0, PS_ERR_FRAME_LEN},
    /* PIN_DELETE body at and over 579 (version 3: namespace 2+63, name
     * 2+253, identity 2+256, flags 1) */
    {RQ, 16 + 579, PS_T_PIN_DELETE, 0, 1, 0, PS_OK},
    {RQ, 16 + 580, PS_T_PIN_DELETE, 0, 1, 0, PS_ERR_FRAME_LEN},
    /* request len at PS_MAX_REQUEST_FRAME is still over GET's body max */
    {RQ, 1024, PS_T_GET, 0, 1, 0, PS_ERR_FRAME_LEN},
    /* unknown types, both directions */
    {RQ, 16, 0, 0, 1, 0, PS_ERR_TYPE},
    {RQ, 16, 12, 0, 1, 0, PS_ERR_TYPE},
    {RQ, 16, 0xffff, 0, 1, 0, PS_ERR_TYPE},
    {AN, 16, 0, R, 1, 0, PS_ERR_TYPE},
    {AN, 16, 12, R, 1, 0, PS_ERR_TYPE},
    {AN, 16, 0xffff, R, 1, 0, PS_ERR_TYPE},
    /* GOAWAY sent as a request */
    {RQ, 16, PS_T_GOAWAY, 0, 0, 0, PS_ERR_TYPE},
    /* GOAWAY sent as a request, with a plausible error body */
    {RQ, 24, PS_T_GOAWAY, E, 0, 0, PS_ERR_TYPE},
    /* any flag on a request */
    {RQ, 16, PS_T_LIST, R, 1, 0, PS_ERR_FLAGS},
    {RQ, 16, PS_T_LIST, M, 1, 0, PS_ERR_FLAGS},
    {RQ, 16, PS_T_LIST, E, 1, 0, PS_ERR_FLAGS},
    {RQ, 16, PS_T_LIST, 0x0008, 1, 0, PS_ERR_FLAGS},
    {RQ, 16, PS_T_LIST, 0x8000, 1, 0, PS_ERR_FLAGS},
    /* answer with an unknown flag bit */
    {AN, 16, PS_T_GET, R | 0x0008, 1, 0, PS_ERR_FLAGS},
    {AN, 16, PS_T_GET, R | 0x8000, 1, 0, PS_ERR_FLAGS},
    {AN, 16, PS_T_GET, 0xffff, 1, 0, PS_ERR_FLAGS},
    /* answer without REPLY */
    {AN, 16, PS_T_GET, 0, 1, 0, PS_ERR_FLAGS},
    {AN, 16, PS_T_GET, E, 1, 0, PS_ERR_FLAGS},
    {AN, 16, PS_T_LIST, M, 1, 0, PS_ERR_FLAGS},
    /* MORE on a non-multi type */
    {AN, 16, PS_T_GET, R | M, 1, 0, PS_ERR_FLAGS},
    {AN, 16, PS_T_HELLO, R | M, 0, 0, PS_ERR_FLAGS},
    {AN, 16, PS_T_HEALTH, R | M, 1, 0, PS_ERR_FLAGS},
    /* ERROR with MORE, even on a multi type */
    {AN, 16, PS_T_LIST, R | E | M, 1, 0, PS_ERR_FLAGS},
    {AN, 16, PS_T_METRICS, R | E | M, 1, 0, PS_ERR_FLAGS},
    /* MORE on each multi type is fine */
    {AN, 16, PS_T_LIST, R | M, 1, 0, PS_OK},
    {AN, 16, PS_T_PIN_LIST, R | M, 1, 0, PS_OK},
    {AN, 16, PS_T_METRICS, R | M, 1, 0, PS_OK},
    /* error answers */
    {AN, 24, PS_T_GET, R | E, 1, 0, PS_OK},
    {AN, 24, PS_T_HELLO, R | E, 0, 0, PS_OK},
    /* GOAWAY: flags exactly ERROR, id 0 */
    {AN, 24, PS_T_GOAWAY, E, 0, 0, PS_OK},
    {AN, 24, PS_T_GOAWAY, 0, 0, 0, PS_ERR_FLAGS},
    {AN, 24, PS_T_GOAWAY, R | E, 0, 0, PS_ERR_FLAGS},
    {AN, 24, PS_T_GOAWAY, R, 0, 0, PS_ERR_FLAGS},
    {AN, 24, PS_T_GOAWAY, E | M, 0, 0, PS_ERR_FLAGS},
    {AN, 24, PS_T_GOAWAY, E, 1, 0, PS_ERR_ID},
    /* reserved not zero */
    {RQ, 16, PS_T_LIST, 0, 1, 1, PS_ERR_RESERVED},
    {RQ, 16, PS_T_LIST, 0, 1, 0x80000000u, PS_ERR_RESERVED},
    {AN, 16, PS_T_LIST, R, 1, 0xffffffffu, PS_ERR_RESERVED},
    /* id 0 on GET, either direction */
    {RQ, 16 + 3, PS_T_GET, 0, 0, 0, PS_ERR_ID},
    {AN, 16, PS_T_GET, R, 0, 0, PS_ERR_ID},
    /* id != 0 on HELLO, either direction */
    {RQ, 24, PS_T_HELLO, 0, 1, 0, PS_ERR_ID},
    {AN, 24, PS_T_HELLO, R, 1, 0, PS_ERR_ID},
    {AN, 24, PS_T_HELLO, R | E, 0xffffffffu, 0, PS_ERR_ID},
    /* id 0 on every other request type */
    {RQ, 16, PS_T_LIST, 0, 0, 0, PS_ERR_ID},
    {RQ, 16, PS_T_HEALTH, 0, 0, 0, PS_ERR_ID},
    {RQ, 16, PS_T_METRICS, 0, 0, 0, PS_ERR_ID},
    /* first failure wins: len before type */
    {RQ, 2000, 0xffff, 0xffff, 0, 1, PS_ERR_FRAME_LEN},
    /* type before body max and flags */
    {RQ, 16, 0xffff, 0xffff, 0, 1, PS_ERR_TYPE},
    /* body max before flags */
    {RQ, 18, PS_T_HEALTH, 0xffff, 0, 1, PS_ERR_FRAME_LEN},
    {RQ, 16 + 66, PS_T_LIST, 0xffff, 0, 1, PS_ERR_FRAME_LEN},
    /* flags before reserved */
    {RQ, 16, PS_T_LIST, 0xffff, 0, 1, PS_ERR_FLAGS},
    /* reserved before id */
    {RQ, 16, PS_T_LIST, 0, 0, 1, PS_ERR_RESERVED},
    /* answer: flags before reserved before id */
    {AN, 16, PS_T_GET, 0, 0, 1, PS_ERR_FLAGS},
    {AN, 16, PS_T_GET, R, 0, 1, PS_ERR_RESERVED},
};

static void
test_ps_frame_parse_hdr_hostile_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
		const struct hdr_case *c = &hdr_cases[i];
		uint8_t *in = malloc(PS_HDR_LEN); /* exactly 16: no body */
		struct ps_hdr h;
		int rc;

		assert_non_null(in);
		put_hdr(in, c->len, c->type, c->flags, c->id, c->reserved);
		rc = ps_frame_parse_hdr(in, c->dir, &h);
		if (rc != c->want)
			fail_msg("row %zu (%s len %u type %u flags %#x id %u "
			         "res %u): got %d (%s), want %d",
			    i, c->dir == RQ ? "req" : "ans", c->len, c->type,
			    c->flags, c->id, c->reserved, rc, ps_strerror(rc),
			    c->want);
		free(in);
	}
}

static void
test_ps_frame_rejects_len_over_request_max(void **state)
{
	uint8_t in[PS_HDR_LEN];
	struct ps_hdr h;

	(void)state;
	/* 1025 is fine for an answer, not for a request. */
	put_hdr(in, 1025, PS_T_GET, PS_F_REPLY, 1, 0);
	assert_int_equal(ps_frame_parse_hdr(in, PS_DIR_ANSWER, &h), PS_OK);
	put_hdr(in, 1025, PS_T_GET, 0, 1, 0);
	assert_int_equal(
	    ps_frame_parse_hdr(in, PS_DIR_REQUEST, &h), PS_ERR_FRAME_LEN);
}

/* Every request type accepts flags 0 and a body at its max, nothing more. */
static void
test_ps_frame_request_body_limit_per_type(void **state)
{
	(void)state;
	for (uint16_t t = 1; t <= PS_T_MAX; t++) {
		const struct ps_type_info *ti = ps_type_info(t);
		uint32_t id = t == PS_T_HELLO ? 0 : 5;
		uint8_t in[PS_HDR_LEN];
		struct ps_hdr h;

		assert_non_null(ti);
		if (!ti->from_requester)
			continue;
		put_hdr(in, PS_HDR_LEN + ti->max_req_body, t, 0, id, 0);
		assert_int_equal(ps_frame_parse_hdr(in, RQ, &h), PS_OK);
		put_hdr(in, PS_HDR_LEN + ti->max_req_body + 1, t, 0, id, 0);
		assert_int_equal(
		    ps_frame_parse_hdr(in, RQ, &h), PS_ERR_FRAME_LEN);
	}
}

/* ---- frame_begin / frame_finish ---------------------------------------- */

static void
test_ps_frame_finish_patches_length(void **state)
{
	uint8_t mem[64];
	struct ps_wbuf w;
	struct ps_hdr h;
	size_t len = 99;

	(void)state;
	ps_frame_begin(&w, mem, sizeof(mem), PS_T_GET, PS_F_REPLY, 42);
	ps_wbuf_u32(&w, 0xcafe);
	assert_int_equal(ps_frame_finish(&w, &len), PS_OK);
	assert_int_equal(len, 20);
	assert_int_equal(ps_frame_parse_hdr(mem, AN, &h), PS_OK);
	assert_int_equal(h.len, 20);
	assert_int_equal(h.type, PS_T_GET);
	assert_int_equal(h.flags, PS_F_REPLY);
	assert_int_equal(h.id, 42);
}

static void
test_ps_frame_begin_refuses_capacity_below_header(void **state)
{
	uint8_t *mem = malloc(PS_HDR_LEN - 1);
	struct ps_wbuf w;
	size_t len = 99;

	(void)state;
	assert_non_null(mem);
	ps_frame_begin(&w, mem, PS_HDR_LEN - 1, PS_T_LIST, 0, 1);
	assert_int_equal(ps_frame_finish(&w, &len), PS_ERR_NOSPACE);
	assert_int_equal(len, 0);
	free(mem);
}

/* A caller with a bigger buffer still cannot build an oversized frame. */
static void
test_ps_frame_finish_refuses_over_max_frame(void **state)
{
	uint8_t *mem = malloc(PS_MAX_FRAME + 64);
	struct ps_wbuf w;
	size_t len = 99;

	(void)state;
	assert_non_null(mem);
	ps_frame_begin(&w, mem, PS_MAX_FRAME + 64, PS_T_LIST, PS_F_REPLY, 1);
	for (size_t i = PS_HDR_LEN; i < PS_MAX_FRAME; i++)
		ps_wbuf_u8(&w, 'x');
	assert_int_equal(ps_frame_finish(&w, &len), PS_OK);
	assert_int_equal(len, PS_MAX_FRAME);
	ps_wbuf_u8(&w, 'x');
	assert_int_equal(ps_frame_finish(&w, &len), PS_ERR_NOSPACE);
	assert_int_equal(len, 0);
	free(mem);
}

/* ---- incremental reader ------------------------------------------------ */

struct stream {
	uint8_t *bytes;
	size_t len;
	size_t nframes;
	size_t off[16]; /* frame start offsets */
};

/* A mixed stream of valid answer frames: empty, small, max-sized. */
static void
make_answer_stream(struct stream *s)
{
	static const struct {
		uint16_t type, flags;
		uint32_t id, body;
	} fr[] = {
	    {PS_T_HELLO, PS_F_REPLY, 0, 8},
	    {PS_T_LIST, PS_F_REPLY | PS_F_MORE, 1, 0},
	    {PS_T_LIST, PS_F_REPLY | PS_F_MORE, 1, PS_MAX_FRAME - 16},
	    {PS_T_LIST, PS_F_REPLY, 1, 1},
	    {PS_T_GET, PS_F_REPLY | PS_F_ERROR, 2, 37},
	    {PS_T_METRICS, PS_F_REPLY, 0xffffffffu, 4000},
	    {PS_T_GOAWAY, PS_F_ERROR, 0, 8},
	};
	uint32_t seed = 12345;
	size_t total = 0;

	for (size_t i = 0; i < sizeof(fr) / sizeof(fr[0]); i++)
		total += PS_HDR_LEN + fr[i].body;
	s->bytes = malloc(total);
	assert_non_null(s->bytes);
	s->len = 0;
	s->nframes = 0;
	for (size_t i = 0; i < sizeof(fr) / sizeof(fr[0]); i++) {
		s->off[s->nframes++] = s->len;
		put_hdr(s->bytes + s->len, PS_HDR_LEN + fr[i].body, fr[i].type,
		    fr[i].flags, fr[i].id, 0);
		s->len += PS_HDR_LEN;
		for (uint32_t b = 0; b < fr[i].body; b++)
			s->bytes[s->len++] = (uint8_t)rnd(&seed);
	}
	s->off[s->nframes] = s->len;
}

/*
 * Feeds `s` through a fresh reader in chunks: chunk 0 = all at once,
 * 1 = one byte at a time, else random sizes 1..chunk from `seed`.  Checks
 * each frame equals the bytes it came from, in order, and that nothing is
 * lost or invented.
 */
static void
feed_and_check(
    const struct stream *s, enum ps_dir dir, size_t chunk, uint32_t seed)
{
	struct ps_reader *rd = ps_reader_new(dir);
	size_t pos = 0, got = 0;

	assert_non_null(rd);
	while (pos < s->len) {
		size_t n = chunk == 0 ? s->len - pos
		    : chunk == 1      ? 1
		                      : 1 + rnd(&seed) % chunk;
		uint8_t *piece;
		size_t done = 0;

		if (n > s->len - pos)
			n = s->len - pos;
		/* Exactly-sized copy: the reader must not read past `n`. */
		piece = malloc(n);
		assert_non_null(piece);
		memcpy(piece, s->bytes + pos, n);
		while (done < n) {
			struct ps_frame f;
			size_t used = 0;
			int rc = ps_reader_read(
			    rd, piece + done, n - done, &used, &f);

			done += used;
			if (rc == PS_AGAIN) {
				assert_int_equal(done, n);
				break;
			}
			assert_int_equal(rc, PS_OK);
			assert_true(got < s->nframes);
			/* The frame ends exactly where this input position is.
			 */
			assert_int_equal(pos + done, s->off[got + 1]);
			assert_int_equal(PS_HDR_LEN + f.body_len,
			    s->off[got + 1] - s->off[got]);
			assert_int_equal(f.hdr.len, PS_HDR_LEN + f.body_len);
			if (f.body_len > 0)
				assert_memory_equal(f.body,
				    s->bytes + s->off[got] + PS_HDR_LEN,
				    f.body_len);
			assert_int_equal(ps_reader_pending(rd), 0);
			got++;
		}
		free(piece);
		pos += n;
	}
	assert_int_equal(got, s->nframes);
	assert_int_equal(ps_reader_pending(rd), 0);
	ps_reader_free(rd);
}

static void
test_ps_reader_stream_all_at_once(void **state)
{
	struct stream s;

	(void)state;
	make_answer_stream(&s);
	feed_and_check(&s, AN, 0, 0);
	free(s.bytes);
}

static void
test_ps_reader_stream_one_byte_at_a_time(void **state)
{
	struct stream s;

	(void)state;
	make_answer_stream(&s);
	feed_and_check(&s, AN, 1, 0);
	free(s.bytes);
}

static void
test_ps_reader_stream_random_chunks(void **state)
{
	static const size_t maxchunk[] = {2, 7, 17, 100, 5000, 40000};
	struct stream s;

	(void)state;
	make_answer_stream(&s);
	for (size_t i = 0; i < sizeof(maxchunk) / sizeof(maxchunk[0]); i++)
		for (uint32_t seed = 1; seed <= 20; seed++)
			feed_and_check(&s, AN, maxchunk[i], seed * 2654435761u);
	free(s.bytes);
}

/* Request direction: every request type at its max body, back to back. */
static void
test_ps_reader_request_stream_one_byte_at_a_time(void **state)
{
	struct stream s;
	uint32_t seed = 99;

	(void)state;
	s.bytes = malloc(PS_T_MAX * (PS_HDR_LEN + 653)); /* the largest body */
	assert_non_null(s.bytes);
	s.len = 0;
	s.nframes = 0;
	for (uint16_t t = 1; t <= PS_T_MAX; t++) {
		const struct ps_type_info *ti = ps_type_info(t);

		if (!ti->from_requester)
			continue;
		s.off[s.nframes++] = s.len;
		put_hdr(s.bytes + s.len, PS_HDR_LEN + ti->max_req_body, t, 0,
		    t == PS_T_HELLO ? 0 : t, 0);
		s.len += PS_HDR_LEN;
		for (size_t b = 0; b < ti->max_req_body; b++)
			s.bytes[s.len++] = (uint8_t)rnd(&seed);
	}
	s.off[s.nframes] = s.len;
	feed_and_check(&s, RQ, 1, 0);
	feed_and_check(&s, RQ, 0, 0);
	feed_and_check(&s, RQ, 33, 7);
	free(s.bytes);
}

/* A bad header is refused on its 16th byte; no body byte is taken. */
static void
test_ps_reader_refuses_bad_header_before_body(void **state)
{
	uint8_t in[PS_HDR_LEN + 100];
	struct ps_reader *rd;
	struct ps_frame f;
	size_t used;

	(void)state;
	memset(in, 0xaa, sizeof(in));
	put_hdr(in, 1025, PS_T_GET, 0, 1, 0);

	/* byte by byte: 15 AGAINs, then the error on byte 16 */
	rd = ps_reader_new(RQ);
	assert_non_null(rd);
	for (size_t i = 0; i < PS_HDR_LEN - 1; i++) {
		assert_int_equal(
		    ps_reader_read(rd, in + i, 1, &used, &f), PS_AGAIN);
		assert_int_equal(used, 1);
	}
	assert_int_equal(
	    ps_reader_read(rd, in + 15, 1, &used, &f), PS_ERR_FRAME_LEN);
	assert_int_equal(used, 1);
	ps_reader_free(rd);

	/* all at once: used stops at the header */
	rd = ps_reader_new(RQ);
	assert_non_null(rd);
	assert_int_equal(
	    ps_reader_read(rd, in, sizeof(in), &used, &f), PS_ERR_FRAME_LEN);
	assert_int_equal(used, PS_HDR_LEN);
	ps_reader_free(rd);

	/* a huge length is refused without waiting for (or reserving) it */
	rd = ps_reader_new(AN);
	assert_non_null(rd);
	put_hdr(in, 0xffffffffu, PS_T_LIST, PS_F_REPLY, 1, 0);
	assert_int_equal(
	    ps_reader_read(rd, in, PS_HDR_LEN, &used, &f), PS_ERR_FRAME_LEN);
	ps_reader_free(rd);
}

/* A good frame then a bad header in one input: the frame, then the error. */
static void
test_ps_reader_good_frame_then_bad_header(void **state)
{
	uint8_t in[PS_HDR_LEN * 2 + 4];
	struct ps_reader *rd = ps_reader_new(AN);
	struct ps_frame f;
	size_t used;

	(void)state;
	assert_non_null(rd);
	put_hdr(in, PS_HDR_LEN, PS_T_LIST, PS_F_REPLY, 3, 0);
	put_hdr(in + PS_HDR_LEN, PS_HDR_LEN + 4, PS_T_LIST, PS_F_REPLY, 3, 9);
	memset(in + 2 * PS_HDR_LEN, 0, 4);
	assert_int_equal(ps_reader_read(rd, in, sizeof(in), &used, &f), PS_OK);
	assert_int_equal(used, PS_HDR_LEN);
	assert_int_equal(f.body_len, 0);
	assert_int_equal(f.hdr.id, 3);
	assert_int_equal(
	    ps_reader_read(rd, in + used, sizeof(in) - used, &used, &f),
	    PS_ERR_RESERVED);
	assert_int_equal(used, PS_HDR_LEN);
	ps_reader_free(rd);
}

/* After any error every call returns DEAD and takes nothing. */
static void
test_ps_reader_is_dead_after_error(void **state)
{
	uint8_t bad[PS_HDR_LEN], good[PS_HDR_LEN];
	struct ps_reader *rd = ps_reader_new(RQ);
	struct ps_frame f;
	size_t used = 77;

	(void)state;
	assert_non_null(rd);
	put_hdr(bad, 16, 0xffff, 0, 1, 0);
	put_hdr(good, 16, PS_T_LIST, 0, 1, 0);
	assert_int_equal(
	    ps_reader_read(rd, bad, sizeof(bad), &used, &f), PS_ERR_TYPE);
	for (int i = 0; i < 3; i++) {
		used = 77;
		assert_int_equal(
		    ps_reader_read(rd, good, sizeof(good), &used, &f),
		    PS_ERR_DEAD);
		assert_int_equal(used, 0);
		assert_int_equal(
		    ps_reader_read(rd, good, 0, &used, &f), PS_ERR_DEAD);
		assert_int_equal(
		    ps_reader_read(rd, NULL, 0, &used, &f), PS_ERR_DEAD);
	}
	ps_reader_free(rd);
}

/* One input holding 1.5 frames: used stops at the frame boundary. */
static void
test_ps_reader_used_accounting_one_and_a_half_frames(void **state)
{
	uint8_t in[40 + 60];
	struct ps_reader *rd = ps_reader_new(AN);
	struct ps_frame f;
	size_t used;

	(void)state;
	assert_non_null(rd);
	memset(in, 0x5a, sizeof(in));
	put_hdr(in, 40, PS_T_GET, PS_F_REPLY, 1, 0);
	put_hdr(in + 40, 60, PS_T_SCALE, PS_F_REPLY, 2, 0);
	in[39] = 0x11;
	in[99] = 0x22;
	assert_int_equal(ps_reader_pending(rd), 0);

	/* frame A and half of B */
	assert_int_equal(ps_reader_read(rd, in, 70, &used, &f), PS_OK);
	assert_int_equal(used, 40);
	assert_int_equal(f.hdr.type, PS_T_GET);
	assert_int_equal(f.body_len, 24);
	assert_int_equal(f.body[23], 0x11);
	assert_int_equal(ps_reader_read(rd, in + 40, 30, &used, &f), PS_AGAIN);
	assert_int_equal(used, 30);
	assert_int_equal(ps_reader_pending(rd), 30);
	/* nothing new: still AGAIN, nothing used */
	assert_int_equal(ps_reader_read(rd, in + 70, 0, &used, &f), PS_AGAIN);
	assert_int_equal(used, 0);
	/* the rest of B */
	assert_int_equal(ps_reader_read(rd, in + 70, 30, &used, &f), PS_OK);
	assert_int_equal(used, 30);
	assert_int_equal(f.hdr.type, PS_T_SCALE);
	assert_int_equal(f.hdr.id, 2);
	assert_int_equal(f.body_len, 44);
	assert_int_equal(f.body[43], 0x22);
	assert_int_equal(ps_reader_pending(rd), 0);
	ps_reader_free(rd);
}

/* Back-to-back header-only frames each come out on their own. */
static void
test_ps_reader_delivers_empty_body_frames(void **state)
{
	uint8_t in[PS_HDR_LEN * 3];
	struct ps_reader *rd = ps_reader_new(RQ);
	struct ps_frame f;
	size_t used, off = 0;

	(void)state;
	assert_non_null(rd);
	put_hdr(in, 16, PS_T_LIST, 0, 1, 0);
	put_hdr(in + 16, 16, PS_T_HEALTH, 0, 2, 0);
	put_hdr(in + 32, 16, PS_T_METRICS, 0, 3, 0);
	for (uint32_t id = 1; id <= 3; id++) {
		assert_int_equal(
		    ps_reader_read(rd, in + off, sizeof(in) - off, &used, &f),
		    PS_OK);
		assert_int_equal(used, 16);
		assert_int_equal(f.hdr.id, id);
		assert_int_equal(f.body_len, 0);
		off += used;
	}
	assert_int_equal(ps_reader_read(rd, in + off, 0, &used, &f), PS_AGAIN);
	ps_reader_free(rd);
	ps_reader_free(NULL);
}

/* ---- writer ------------------------------------------------------------ */

static void
make_pair(int sv[2], int sndbuf)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(
	    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK), 0);
	assert_int_equal(
	    fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK), 0);
	assert_int_equal(
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)),
	    0);
}

/* Reads what is available from `fd` into `out` at `*off`. */
static void
drain(int fd, uint8_t *out, size_t cap, size_t *off)
{
	while (*off < cap) {
		ssize_t n = read(fd, out + *off, cap - *off);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		assert_true(n > 0);
		*off += (size_t)n;
	}
}

/* More than the socket holds: AGAIN with bytes pending, then all of it. */
static void
test_ps_writer_partial_writes_deliver_frames_in_order(void **state)
{
	enum { NFRAMES = 400 };
	struct ps_writer *w = ps_writer_new(1024 * 1024);
	uint8_t *frames = malloc(NFRAMES * 1024), *got;
	size_t total = 0, recvd = 0;
	uint32_t seed = 4242;
	int sv[2], rc, rounds = 0;

	(void)state;
	assert_non_null(w);
	assert_non_null(frames);
	make_pair(sv, 4096);
	for (uint32_t i = 0; i < NFRAMES; i++) {
		uint32_t body = rnd(&seed) % (1024 - PS_HDR_LEN);

		put_hdr(frames + total, PS_HDR_LEN + body, PS_T_GET, PS_F_REPLY,
		    i + 1, 0);
		for (uint32_t b = 0; b < body; b++)
			frames[total + PS_HDR_LEN + b] = (uint8_t)rnd(&seed);
		assert_int_equal(
		    ps_writer_queue(w, frames + total, PS_HDR_LEN + body),
		    PS_OK);
		total += PS_HDR_LEN + body;
	}
	assert_int_equal(ps_writer_pending(w), total);
	got = malloc(total);
	assert_non_null(got);

	rc = ps_writer_flush(w, sv[0]);
	assert_int_equal(rc, PS_AGAIN);
	assert_true(ps_writer_pending(w) > 0);
	assert_true(ps_writer_pending(w) < total);
	while (rc == PS_AGAIN) {
		drain(sv[1], got, total, &recvd);
		rc = ps_writer_flush(w, sv[0]);
		assert_true(rc == PS_OK || rc == PS_AGAIN);
		assert_true(++rounds < 100000);
	}
	assert_int_equal(ps_writer_pending(w), 0);
	drain(sv[1], got, total, &recvd);
	assert_int_equal(recvd, total);
	assert_memory_equal(got, frames, total);
	/* and not one byte more */
	assert_true(read(sv[1], got, 1) < 0 && errno == EAGAIN);
	/* An empty queue flushes without touching the descriptor. */
	assert_int_equal(ps_writer_flush(w, -1), PS_OK);

	free(got);
	free(frames);
	ps_writer_free(w);
	close(sv[0]);
	close(sv[1]);
}

/*
 * A small queue refilled while partially written: queueing after a short
 * write must compact without reordering or losing bytes.
 */
static void
test_ps_writer_refill_while_partially_flushed_keeps_order(void **state)
{
	enum { NFRAMES = 3000, MAXQ = 3000 };
	struct ps_writer *w = ps_writer_new(MAXQ);
	uint8_t *sent = malloc(NFRAMES * 512), *got = malloc(NFRAMES * 512);
	uint8_t frame[512];
	size_t total = 0, recvd = 0;
	uint32_t seed = 777;
	int sv[2];

	(void)state;
	assert_non_null(w);
	assert_non_null(sent);
	assert_non_null(got);
	make_pair(sv, 4096);
	for (uint32_t i = 0; i < NFRAMES; i++) {
		size_t flen = PS_HDR_LEN + rnd(&seed) % (512 - PS_HDR_LEN);

		put_hdr(frame, (uint32_t)flen, PS_T_LIST, PS_F_REPLY, i + 1, 0);
		for (size_t b = PS_HDR_LEN; b < flen; b++)
			frame[b] = (uint8_t)rnd(&seed);
		for (;;) {
			size_t before = ps_writer_pending(w);
			int rc = ps_writer_queue(w, frame, flen);

			if (rc == PS_OK)
				break;
			assert_int_equal(rc, PS_ERR_NOSPACE);
			assert_int_equal(ps_writer_pending(w), before);
			rc = ps_writer_flush(w, sv[0]);
			assert_true(rc == PS_OK || rc == PS_AGAIN);
			/* drain only sometimes, to leave partial writes */
			if (rc == PS_AGAIN || rnd(&seed) % 2 == 0)
				drain(sv[1], got, NFRAMES * 512, &recvd);
		}
		memcpy(sent + total, frame, flen);
		total += flen;
	}
	while (ps_writer_flush(w, sv[0]) == PS_AGAIN)
		drain(sv[1], got, NFRAMES * 512, &recvd);
	drain(sv[1], got, NFRAMES * 512, &recvd);
	assert_int_equal(recvd, total);
	assert_memory_equal(got, sent, total);

	free(sent);
	free(got);
	ps_writer_free(w);
	close(sv[0]);
	close(sv[1]);
}

static void
test_ps_writer_refuses_queue_over_max_pending(void **state)
{
	struct ps_writer *w = ps_writer_new(100);
	uint8_t buf[200];

	(void)state;
	assert_non_null(w);
	memset(buf, 1, sizeof(buf));
	/* bigger than the whole queue */
	assert_int_equal(ps_writer_queue(w, buf, 101), PS_ERR_NOSPACE);
	assert_int_equal(ps_writer_pending(w), 0);
	assert_int_equal(ps_writer_queue(w, buf, 60), PS_OK);
	/* one byte too many: nothing of it is queued */
	assert_int_equal(ps_writer_queue(w, buf, 41), PS_ERR_NOSPACE);
	assert_int_equal(ps_writer_pending(w), 60);
	assert_int_equal(ps_writer_queue(w, buf, 40), PS_OK);
	assert_int_equal(ps_writer_pending(w), 100);
	assert_int_equal(ps_writer_queue(w, buf, 1), PS_ERR_NOSPACE);
	assert_int_equal(ps_writer_queue(w, buf, 0), PS_OK);
	assert_int_equal(ps_writer_pending(w), 100);
	ps_writer_free(w);
	ps_writer_free(NULL);
	assert_null(ps_writer_new(0));
}

/* A closed peer is PS_ERR_CLOSED; MSG_NOSIGNAL means no SIGPIPE kills us. */
static void
test_ps_writer_peer_closed_is_closed_not_sigpipe(void **state)
{
	struct ps_writer *w = ps_writer_new(4096);
	uint8_t buf[64];
	int sv[2];

	(void)state;
	assert_non_null(w);
	make_pair(sv, 4096);
	close(sv[1]);
	memset(buf, 0, sizeof(buf));
	put_hdr(buf, sizeof(buf), PS_T_GET, PS_F_REPLY, 1, 0);
	assert_int_equal(ps_writer_queue(w, buf, sizeof(buf)), PS_OK);
	assert_int_equal(ps_writer_flush(w, sv[0]), PS_ERR_CLOSED);
	assert_int_equal(ps_writer_pending(w), sizeof(buf));
	ps_writer_free(w);
	close(sv[0]);
}

/* A descriptor that is not a socket: SYS with errno set. */
static void
test_ps_writer_bad_descriptor_is_sys(void **state)
{
	struct ps_writer *w = ps_writer_new(64);
	uint8_t buf[16] = {0};

	(void)state;
	assert_non_null(w);
	assert_int_equal(ps_writer_queue(w, buf, sizeof(buf)), PS_OK);
	errno = 0;
	assert_int_equal(ps_writer_flush(w, -1), PS_ERR_SYS);
	assert_int_equal(errno, EBADF);
	ps_writer_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ps_frame_put_hdr_matches_protocol_example),
	    cmocka_unit_test(test_ps_frame_put_hdr_round_trips_extremes),
	    cmocka_unit_test(test_ps_frame_parse_hdr_hostile_table),
	    cmocka_unit_test(test_ps_frame_rejects_len_over_request_max),
	    cmocka_unit_test(test_ps_frame_request_body_limit_per_type),
	    cmocka_unit_test(test_ps_frame_finish_patches_length),
	    cmocka_unit_test(test_ps_frame_begin_refuses_capacity_below_header),
	    cmocka_unit_test(test_ps_frame_finish_refuses_over_max_frame),
	    cmocka_unit_test(test_ps_reader_stream_all_at_once),
	    cmocka_unit_test(test_ps_reader_stream_one_byte_at_a_time),
	    cmocka_unit_test(test_ps_reader_stream_random_chunks),
	    cmocka_unit_test(test_ps_reader_request_stream_one_byte_at_a_time),
	    cmocka_unit_test(test_ps_reader_refuses_bad_header_before_body),
	    cmocka_unit_test(test_ps_reader_good_frame_then_bad_header),
	    cmocka_unit_test(test_ps_reader_is_dead_after_error),
	    cmocka_unit_test(
	        test_ps_reader_used_accounting_one_and_a_half_frames),
	    cmocka_unit_test(test_ps_reader_delivers_empty_body_frames),
	    cmocka_unit_test(
	        test_ps_writer_partial_writes_deliver_frames_in_order),
	    cmocka_unit_test(
	        test_ps_writer_refill_while_partially_flushed_keeps_order),
	    cmocka_unit_test(test_ps_writer_refuses_queue_over_max_pending),
	    cmocka_unit_test(test_ps_writer_peer_closed_is_closed_not_sigpipe),
	    cmocka_unit_test(test_ps_writer_bad_descriptor_is_sys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
