/*
 * fuzz_ps_decode.c — libFuzzer driver for proto-socket's receiving side.
 *
 * Input: one control byte, then a byte stream.  Bit 0 of the control byte
 * picks the direction the stream travels (request or answer), the other
 * seven bits the size of the pieces it is fed to a ps_reader in (0 = all
 * at once).  Every frame that comes out is offered to every decoder, list
 * decoders run to the end.  Oracles, beyond ASan/UBSan:
 *   - the reader never reports more bytes used than it was given, and after
 *     an error it only answers PS_ERR_DEAD;
 *   - a delivered frame's header re-parses, and its length is 16 + body;
 *   - at most one decoder accepts a frame;
 *   - whatever a decoder accepts, the matching encoder re-encodes to the
 *     very same bytes (decoders accept nothing the encoders would refuse);
 *   - version 3: every namespace a decoder accepts is a DNS-1123 label
 *     ("" only in a LIST/PIN_LIST request), a HEALTH answer's namespaces
 *     are 1..PS_MAX_NAMESPACES, unique, the first carrying the top-level
 *     state, and a request body never exceeds its type's max_req_body.
 * Bodies are copied into exactly-sized heap blocks so that an over-read
 * past the body is caught, not hidden by the reader's 16 KiB buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

static uint8_t enc[PS_MAX_FRAME];

/* A namespace as a decoder hands it out: a DNS-1123 label. */
static void
valid_ns(const char *ns)
{
	CHECK(ps_valid_namespace(ns, strlen(ns)) == PS_OK);
}

/* The original frame, re-assembled, must equal what the encoder made. */
static void
same_bytes(int rc, size_t len, const struct ps_frame *f)
{
	uint8_t hdr[PS_HDR_LEN];

	CHECK(rc == PS_OK);
	CHECK(len == PS_HDR_LEN + f->body_len);
	ps_frame_put_hdr(hdr, &f->hdr);
	CHECK(memcmp(enc, hdr, PS_HDR_LEN) == 0);
	CHECK(f->body_len == 0 ||
	    memcmp(enc + PS_HDR_LEN, f->body, f->body_len) == 0);
}

/* Runs the list decoder to the end; re-encodes what it read on success. */
static int
list_names(const struct ps_frame *f)
{
	struct ps_list_dec d;
	struct ps_list_enc e;
	char ns[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
	size_t len;
	int rc;

	if ((rc = ps_codec_list_open(f, &d)) != PS_OK)
		return rc;
	ps_codec_list_begin(&e, enc, sizeof(enc), f->hdr.type, f->hdr.id);
	while ((rc = ps_codec_list_next_name(&d, ns, name)) == 1) {
		valid_ns(ns);
		CHECK(ps_codec_list_add_name(&e, ns, name) == PS_OK);
	}
	if (rc != 0)
		return rc;
	rc = ps_codec_list_finish(&e, (f->hdr.flags & PS_F_MORE) != 0, &len);
	same_bytes(rc, len, f);
	return PS_OK;
}

static int
list_pins(const struct ps_frame *f)
{
	struct ps_list_dec d;
	struct ps_list_enc e;
	struct ps_pin pin;
	size_t len;
	int rc;

	if ((rc = ps_codec_list_open(f, &d)) != PS_OK)
		return rc;
	ps_codec_list_begin(&e, enc, sizeof(enc), f->hdr.type, f->hdr.id);
	while ((rc = ps_codec_list_next_pin(&d, &pin)) == 1) {
		valid_ns(pin.namespace);
		CHECK(ps_codec_list_add_pin(&e, &pin) == PS_OK);
	}
	if (rc != 0)
		return rc;
	rc = ps_codec_list_finish(&e, (f->hdr.flags & PS_F_MORE) != 0, &len);
	same_bytes(rc, len, f);
	return PS_OK;
}

/* Offers `f` to every decoder; returns how many accepted it. */
static int
decode_all(const struct ps_frame *f)
{
	struct ps_hello h;
	struct ps_hello_ok ho;
	struct ps_ns_req lr;
	struct ps_name_req nr;
	struct ps_write_req wr;
	struct ps_deployment dep;
	struct ps_scale_ok so;
	struct ps_health he;
	struct ps_pin pin;
	struct ps_error er;
	const char *text;
	size_t text_len, len;
	uint16_t version;
	int ok = 0;

	if (ps_codec_decode_hello(f, &h) == PS_OK) {
		ok++;
		same_bytes(
		    ps_codec_encode_hello(enc, sizeof(enc), &h, &len), len, f);
		if (ps_codec_pick_version(&h, &version) == PS_OK)
			CHECK(version >= h.min_version &&
			    version <= h.max_version);
	}
	if (ps_codec_decode_hello_ok(f, &ho) == PS_OK) {
		ok++;
		valid_ns(ho.namespace);
		CHECK(ho.max_frame >= PS_MIN_ANSWER_FRAME &&
		    ho.max_frame <= PS_MAX_FRAME);
		same_bytes(
		    ps_codec_encode_hello_ok(enc, sizeof(enc), &ho, &len), len,
		    f);
	}
	if (ps_codec_decode_empty(f) == PS_OK) {
		ok++;
		same_bytes(ps_codec_encode_empty(
		               enc, sizeof(enc), f->hdr.type, f->hdr.id, &len),
		    len, f);
	}
	if (ps_codec_decode_ns_req(f, &lr) == PS_OK) {
		ok++;
		CHECK(f->hdr.type == PS_T_LIST || f->hdr.type == PS_T_PIN_LIST);
		CHECK(lr.namespace[0] == '\0' ||
		    ps_valid_namespace(lr.namespace, strlen(lr.namespace)) ==
		        PS_OK);
		CHECK(f->body_len == 2 + strlen(lr.namespace));
		same_bytes(ps_codec_encode_ns_req(enc, sizeof(enc), f->hdr.type,
		               f->hdr.id, &lr, &len),
		    len, f);
	}
	if (ps_codec_decode_name_req(f, &nr) == PS_OK) {
		ok++;
		valid_ns(nr.namespace);
		CHECK(ps_valid_name(nr.name, strlen(nr.name)) == PS_OK);
		same_bytes(ps_codec_encode_name_req(enc, sizeof(enc),
		               f->hdr.type, f->hdr.id, &nr, &len),
		    len, f);
	}
	if (ps_codec_decode_write_req(f, &wr) == PS_OK) {
		ok++;
		valid_ns(wr.namespace);
		CHECK(wr.replicas <= PS_MAX_REPLICAS);
		same_bytes(ps_codec_encode_write_req(enc, sizeof(enc),
		               f->hdr.type, f->hdr.id, &wr, &len),
		    len, f);
	}
	if (ps_codec_decode_deployment(f, &dep) == PS_OK) {
		ok++;
		same_bytes(ps_codec_encode_deployment(
		               enc, sizeof(enc), f->hdr.id, &dep, &len),
		    len, f);
	}
	if (ps_codec_decode_scale_ok(f, &so) == PS_OK) {
		ok++;
		valid_ns(so.namespace);
		same_bytes(ps_codec_encode_scale_ok(
		               enc, sizeof(enc), f->hdr.id, &so, &len),
		    len, f);
	}
	if (ps_codec_decode_health(f, &he) == PS_OK) {
		ok++;
		CHECK(he.ns_count >= 1 && he.ns_count <= PS_MAX_NAMESPACES);
		CHECK(he.ns[0].state == he.state);
		for (uint8_t i = 0; i < he.ns_count; i++) {
			valid_ns(he.ns[i].namespace);
			CHECK((he.ns[i].state & ~PS_HEALTH_ALL) == 0);
			CHECK(he.ns[i].cache_size <= PS_MAX_LIST_TOTAL);
			for (uint8_t j = 0; j < i; j++)
				CHECK(strcmp(he.ns[i].namespace,
				          he.ns[j].namespace) != 0);
		}
		same_bytes(ps_codec_encode_health(
		               enc, sizeof(enc), f->hdr.id, &he, &len),
		    len, f);
	}
	if (ps_codec_decode_pin(f, &pin) == PS_OK) {
		ok++;
		valid_ns(pin.namespace);
		same_bytes(ps_codec_encode_pin(enc, sizeof(enc), f->hdr.type,
		               f->hdr.id, &pin, &len),
		    len, f);
	}
	if (ps_codec_decode_error(f, &er) == PS_OK) {
		ok++;
		CHECK(strcmp(ps_code_name(er.code), "unknown") != 0);
		same_bytes(ps_codec_encode_error(enc, sizeof(enc), f->hdr.type,
		               f->hdr.id, &er, &len),
		    len, f);
	}
	if (list_names(f) == PS_OK)
		ok++;
	if (list_pins(f) == PS_OK)
		ok++;
	if (ps_codec_decode_metrics(f, &text, &text_len) == PS_OK) {
		ok++;
		CHECK(text_len == f->body_len);
		same_bytes(
		    ps_codec_encode_metrics(enc, sizeof(enc), f->hdr.id,
		        (f->hdr.flags & PS_F_MORE) != 0, text, text_len, &len),
		    len, f);
	}
	return ok;
}

static void
handle_frame(enum ps_dir dir, const struct ps_frame *rf)
{
	uint8_t hdr[PS_HDR_LEN];
	struct ps_hdr h;
	struct ps_frame f = *rf;
	uint8_t *body;

	CHECK(f.hdr.len == PS_HDR_LEN + f.body_len);
	CHECK(f.hdr.len <=
	    (dir == PS_DIR_REQUEST ? PS_MAX_REQUEST_FRAME : PS_MAX_FRAME));
	CHECK(dir != PS_DIR_REQUEST ||
	    f.body_len <= ps_type_info(f.hdr.type)->max_req_body);
	ps_frame_put_hdr(hdr, &f.hdr);
	CHECK(ps_frame_parse_hdr(hdr, dir, &h) == PS_OK);
	CHECK(h.len == f.hdr.len && h.type == f.hdr.type &&
	    h.flags == f.hdr.flags && h.id == f.hdr.id && h.reserved == 0);

	body = malloc(f.body_len > 0 ? f.body_len : 1);
	CHECK(body != NULL);
	if (f.body_len > 0)
		memcpy(body, rf->body, f.body_len);
	f.body = body;
	CHECK(decode_all(&f) <= 1);
	free(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_reader *rd;
	enum ps_dir dir;
	size_t chunk, pos = 0;

	if (size < 1)
		return 0;
	dir = (data[0] & 1) ? PS_DIR_ANSWER : PS_DIR_REQUEST;
	chunk = data[0] >> 1;
	data++;
	size--;
	if (chunk == 0)
		chunk = size > 0 ? size : 1;
	if ((rd = ps_reader_new(dir)) == NULL)
		return 0;
	while (pos < size) {
		size_t n = size - pos < chunk ? size - pos : chunk, done = 0;
		uint8_t *piece = malloc(n);

		CHECK(piece != NULL);
		memcpy(piece, data + pos, n);
		while (done < n) {
			struct ps_frame f;
			size_t used = (size_t)-1;
			int rc = ps_reader_read(
			    rd, piece + done, n - done, &used, &f);

			CHECK(used <= n - done);
			done += used;
			if (rc == PS_AGAIN) {
				CHECK(done == n);
				CHECK(ps_reader_pending(rd) > 0 || n == 0);
				break;
			}
			if (rc != PS_OK) {
				CHECK(rc < 0 && rc != PS_ERR_DEAD);
				CHECK(ps_reader_read(rd, piece, n, &used, &f) ==
				    PS_ERR_DEAD);
				CHECK(used == 0);
				free(piece);
				goto out;
			}
			handle_frame(dir, &f);
		}
		free(piece);
		pos += n;
	}
out:
	ps_reader_free(rd);
	return 0;
}
