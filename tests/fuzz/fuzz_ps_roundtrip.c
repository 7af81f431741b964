/*
 * fuzz_ps_roundtrip.c — libFuzzer driver for proto-socket's sending side.
 *
 * The input is a recipe: which message, its type and id, its fields, its
 * strings (raw bytes, often invalid) and the output capacity.  Whatever an
 * encoder accepts must (1) fit the capacity and PS_MAX_FRAME, (2) pass the
 * peer's incremental reader for its direction in one piece, and (3) decode
 * with the matching decoder to the same fields.  Whatever it refuses must
 * report length 0.  This is the property "an encoder never emits a frame
 * the peer has to reject".
 *
 * Recipe: kind (mod 14), capacity (u16), type, id, then the message's
 * fields in struct order.  Version 3's namespaces are drawn like any string
 * (raw bytes) or, when the recipe asks, made valid and unique ("n<i>"), so
 * that multi-namespace HEALTH answers and lists are reached too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* Draws values from the input; zeros once it runs out. */
struct recipe {
	const uint8_t *p;
	size_t left;
};

static uint8_t
take8(struct recipe *r)
{
	if (r->left == 0)
		return 0;
	r->left--;
	return *r->p++;
}

static uint16_t
take16(struct recipe *r)
{
	uint16_t hi = take8(r);

	return (uint16_t)(hi << 8 | take8(r));
}

static uint32_t
take32(struct recipe *r)
{
	uint32_t hi = take16(r);

	return hi << 16 | take16(r);
}

static uint64_t
take64(struct recipe *r)
{
	uint64_t hi = take32(r);

	return hi << 32 | take32(r);
}

/*
 * A NUL-terminated string of up to `cap - 1` bytes; sometimes (length byte
 * 0xff) a full buffer without a NUL, to check encoders bound their scan.
 */
static void
take_str(struct recipe *r, char *out, size_t cap)
{
	size_t n = take8(r);

	if (n == 0xff && cap <= 0xff) {
		memset(out, 'a', cap);
		return;
	}
	if (n >= 0x80)
		n = (n - 0x80) * 5 + take8(r) % 5;
	if (n > cap - 1)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)take8(r);
	out[n] = '\0';
}

/*
 * A namespace: a selector byte's low bit asks for a valid, unique one
 * ("n" and `i` in decimal; `i` < 0 gives ""), else raw bytes.
 */
static void
take_ns(struct recipe *r, char *out, size_t cap, int i)
{
	if ((take8(r) & 1) != 0) {
		if (i < 0)
			out[0] = '\0';
		else
			snprintf(out, cap, "n%d", i);
		return;
	}
	take_str(r, out, cap);
}

/* 0..13: mostly the valid types plus 0 and 12. */
static uint16_t
take_type(struct recipe *r)
{
	return (uint16_t)(take8(r) % 13);
}

/* Feeds the encoded frame to a fresh reader: it must come out whole. */
static void
must_pass_reader(const uint8_t *buf, size_t len, enum ps_dir dir,
    struct ps_reader **rd, struct ps_frame *f)
{
	size_t used = 0;
	int rc;

	*rd = ps_reader_new(dir);
	CHECK(*rd != NULL);
	rc = ps_reader_read(*rd, buf, len, &used, f);
	CHECK(rc == PS_OK);
	CHECK(used == len);
	CHECK(f->hdr.len == len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recipe r = {data, size};
	uint8_t kind = take8(&r) % 14;
	size_t cap = take16(&r) % (PS_MAX_FRAME + 64);
	uint16_t type = take_type(&r);
	uint32_t id = take8(&r) < 0x20 ? 0 : take32(&r);
	enum ps_dir dir = (kind <= 4 && kind != 1) || kind == 13
	    ? PS_DIR_REQUEST
	    : PS_DIR_ANSWER;
	uint8_t *buf = malloc(cap > 0 ? cap : 1);
	struct ps_reader *rd = NULL;
	struct ps_frame f;
	size_t len = 1;
	int rc = PS_ERR_TYPE;

	union {
		struct ps_hello hello;
		struct ps_hello_ok hello_ok;
		struct ps_ns_req ns_req;
		struct ps_name_req name_req;
		struct ps_write_req write_req;
		struct ps_deployment dep;
		struct ps_scale_ok scale_ok;
		struct ps_health health;
		struct ps_pin pin;
		struct ps_error error;
	} in, out;

	CHECK(buf != NULL);
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	switch (kind) {
	case 0:
		in.hello.min_version = take16(&r);
		in.hello.max_version = take16(&r);
		rc = ps_codec_encode_hello(buf, cap, &in.hello, &len);
		break;
	case 1:
		in.hello_ok.version = take16(&r);
		in.hello_ok.max_inflight = take16(&r);
		in.hello_ok.max_frame = take32(&r);
		take_ns(&r, in.hello_ok.namespace,
		    sizeof(in.hello_ok.namespace), 0);
		rc = ps_codec_encode_hello_ok(buf, cap, &in.hello_ok, &len);
		break;
	case 2:
		rc = ps_codec_encode_empty(buf, cap, type, id, &len);
		break;
	case 3:
		take_ns(&r, in.name_req.namespace,
		    sizeof(in.name_req.namespace), 1);
		take_str(&r, in.name_req.name, sizeof(in.name_req.name));
		rc = ps_codec_encode_name_req(
		    buf, cap, type, id, &in.name_req, &len);
		break;
	case 4:
		take_ns(&r, in.write_req.namespace,
		    sizeof(in.write_req.namespace), 2);
		take_str(&r, in.write_req.name, sizeof(in.write_req.name));
		in.write_req.replicas = take32(&r);
		take_str(
		    &r, in.write_req.identity, sizeof(in.write_req.identity));
		in.write_req.flags = take8(&r);
		in.write_req.expected = take32(&r);
		take_str(
		    &r, in.write_req.if_match, sizeof(in.write_req.if_match));
		rc = ps_codec_encode_write_req(
		    buf, cap, type, id, &in.write_req, &len);
		break;
	case 5:
		take_str(&r, in.dep.name, sizeof(in.dep.name));
		take_str(&r, in.dep.namespace, sizeof(in.dep.namespace));
		in.dep.desired = take32(&r);
		in.dep.replicas = take32(&r);
		in.dep.ready = take32(&r);
		in.dep.available = take32(&r);
		in.dep.updated = take32(&r);
		in.dep.generation = take64(&r);
		in.dep.observed_generation = take64(&r);
		in.dep.pinned = take8(&r);
		in.dep.pin_replicas = take32(&r);
		take_str(&r, in.dep.resource_version,
		    sizeof(in.dep.resource_version));
		rc = ps_codec_encode_deployment(buf, cap, id, &in.dep, &len);
		break;
	case 6:
		take_ns(&r, in.scale_ok.namespace,
		    sizeof(in.scale_ok.namespace), 3);
		take_str(&r, in.scale_ok.name, sizeof(in.scale_ok.name));
		in.scale_ok.replicas = take32(&r);
		in.scale_ok.previous = take32(&r);
		in.scale_ok.synced = take8(&r);
		take_str(&r, in.scale_ok.resource_version,
		    sizeof(in.scale_ok.resource_version));
		in.scale_ok.dry_run = take8(&r);
		rc = ps_codec_encode_scale_ok(buf, cap, id, &in.scale_ok, &len);
		break;
	case 7:
		in.health.state = take8(&r);
		in.health.cache_size = take32(&r);
		in.health.last_event_age_ms = take32(&r);
		in.health.api_ok_age_ms = take32(&r);
		take_str(&r, in.health.message, sizeof(in.health.message));
		/* 0..34 namespaces: 0 and 33+ must be refused */
		in.health.ns_count = (uint8_t)(take8(&r) % 35);
		for (int i = 0; i < PS_MAX_NAMESPACES && i < in.health.ns_count;
		     i++) {
			struct ps_ns_health *h = &in.health.ns[i];
			uint8_t st = take8(&r);

			take_ns(&r, h->namespace, sizeof(h->namespace), i);
			/* bit 7 of the selector: the top-level state */
			h->state = i == 0 && (st & 0x80) != 0
			    ? in.health.state
			    : (uint8_t)(st & 0x7f);
			h->cache_size = take32(&r);
			h->last_event_age_ms = take32(&r);
			h->api_ok_age_ms = take32(&r);
		}
		rc = ps_codec_encode_health(buf, cap, id, &in.health, &len);
		break;
	case 8:
		take_ns(&r, in.pin.namespace, sizeof(in.pin.namespace), 4);
		take_str(&r, in.pin.name, sizeof(in.pin.name));
		in.pin.replicas = take32(&r);
		in.pin.state = take8(&r);
		in.pin.dry_run = take8(&r);
		rc = ps_codec_encode_pin(buf, cap, type, id, &in.pin, &len);
		break;
	case 9:
		in.error.code = take16(&r);
		in.error.retry_after = take32(&r);
		take_str(&r, in.error.message, sizeof(in.error.message));
		rc = ps_codec_encode_error(buf, cap, type, id, &in.error, &len);
		break;
	case 10:
	case 11: {
		/* A list frame of up to 64 items, valid or not. */
		struct ps_list_enc e;
		struct ps_pin items[64];
		struct ps_list_dec d;
		size_t n = 0, want = take8(&r) % 65;
		int more = take8(&r) & 1, names;

		ps_codec_list_begin(&e, buf, cap, type, id);
		for (size_t i = 0; i < want; i++) {
			struct ps_pin p;
			int arc;

			memset(&p, 0, sizeof(p));
			take_ns(&r, p.namespace, sizeof(p.namespace), (int)i);
			take_str(&r, p.name, sizeof(p.name));
			p.replicas = take32(&r);
			p.state = take8(&r) % 5; /* 4: out of range */
			arc = kind == 10
			    ? ps_codec_list_add_name(&e, p.namespace, p.name)
			    : ps_codec_list_add_pin(&e, &p);
			if (arc == PS_OK)
				items[n++] = p;
		}
		rc = ps_codec_list_finish(&e, more, &len);
		if (rc != PS_OK)
			break;
		must_pass_reader(buf, len, PS_DIR_ANSWER, &rd, &f);
		CHECK((f.hdr.flags & PS_F_MORE) == (more ? PS_F_MORE : 0));
		CHECK(ps_codec_list_open(&f, &d) == PS_OK);
		/* Items were only accepted when the kind matched the type. */
		names = f.hdr.type == PS_T_LIST;
		CHECK(n == 0 || names == (kind == 10));
		for (size_t i = 0; i < n; i++) {
			struct ps_pin p;
			int nrc = names
			    ? ps_codec_list_next_name(&d, p.namespace, p.name)
			    : ps_codec_list_next_pin(&d, &p);

			CHECK(nrc == 1);
			CHECK(strcmp(p.namespace, items[i].namespace) == 0);
			CHECK(strcmp(p.name, items[i].name) == 0);
			CHECK(names ||
			    (p.replicas == items[i].replicas &&
			        p.state == items[i].state));
		}
		CHECK((names ? ps_codec_list_next_name(
		                   &d, out.pin.namespace, out.pin.name)
		             : ps_codec_list_next_pin(&d, &out.pin)) == 0);
		goto done;
	}
	case 13:
		/* LIST / PIN_LIST request: i < 0 asks for "" (every one) */
		take_ns(&r, in.ns_req.namespace, sizeof(in.ns_req.namespace),
		    (take8(&r) & 1) ? -1 : 5);
		rc = ps_codec_encode_ns_req(
		    buf, cap, type, id, &in.ns_req, &len);
		break;
	default: {
		/* METRICS text of raw input bytes. */
		const char *text;
		size_t text_len, n;
		int more = take8(&r) & 1;

		n = r.left;
		rc = ps_codec_encode_metrics(
		    buf, cap, id, more, (const char *)r.p, n, &len);
		if (rc != PS_OK)
			break;
		must_pass_reader(buf, len, PS_DIR_ANSWER, &rd, &f);
		CHECK(ps_codec_decode_metrics(&f, &text, &text_len) == PS_OK);
		CHECK(text_len == n && memcmp(text, r.p, n) == 0);
		goto done;
	}
	}

	if (rc != PS_OK) {
		CHECK(rc < 0);
		CHECK(len == 0);
		goto done;
	}
	CHECK(len <= cap && len <= PS_MAX_FRAME);
	must_pass_reader(buf, len, dir, &rd, &f);
	switch (kind) {
	case 0:
		CHECK(ps_codec_decode_hello(&f, &out.hello) == PS_OK);
		CHECK(out.hello.min_version == in.hello.min_version &&
		    out.hello.max_version == in.hello.max_version);
		break;
	case 1:
		CHECK(ps_codec_decode_hello_ok(&f, &out.hello_ok) == PS_OK);
		CHECK(out.hello_ok.version == in.hello_ok.version &&
		    out.hello_ok.max_inflight == in.hello_ok.max_inflight &&
		    out.hello_ok.max_frame == in.hello_ok.max_frame);
		CHECK(
		    strcmp(out.hello_ok.namespace, in.hello_ok.namespace) == 0);
		CHECK(in.hello_ok.namespace[0] != '\0');
		break;
	case 2:
		CHECK(ps_codec_decode_empty(&f) == PS_OK);
		CHECK(f.hdr.type == type && f.hdr.id == id);
		break;
	case 3:
		CHECK(ps_codec_decode_name_req(&f, &out.name_req) == PS_OK);
		CHECK(
		    strcmp(out.name_req.namespace, in.name_req.namespace) == 0);
		CHECK(strcmp(out.name_req.name, in.name_req.name) == 0);
		break;
	case 4:
		CHECK(ps_codec_decode_write_req(&f, &out.write_req) == PS_OK);
		CHECK(strcmp(out.write_req.namespace, in.write_req.namespace) ==
		    0);
		CHECK(strcmp(out.write_req.name, in.write_req.name) == 0);
		CHECK(out.write_req.flags == in.write_req.flags);
		CHECK(out.write_req.expected == in.write_req.expected);
		CHECK(
		    strcmp(out.write_req.if_match, in.write_req.if_match) == 0);
		CHECK(
		    strcmp(out.write_req.identity, in.write_req.identity) == 0);
		CHECK(out.write_req.replicas ==
		    (type == PS_T_PIN_DELETE ? 0 : in.write_req.replicas));
		break;
	case 5:
		CHECK(ps_codec_decode_deployment(&f, &out.dep) == PS_OK);
		CHECK(strcmp(out.dep.name, in.dep.name) == 0);
		CHECK(strcmp(out.dep.namespace, in.dep.namespace) == 0);
		CHECK(out.dep.desired == in.dep.desired &&
		    out.dep.replicas == in.dep.replicas &&
		    out.dep.ready == in.dep.ready &&
		    out.dep.available == in.dep.available &&
		    out.dep.updated == in.dep.updated &&
		    out.dep.generation == in.dep.generation &&
		    out.dep.observed_generation == in.dep.observed_generation &&
		    out.dep.pinned == in.dep.pinned &&
		    out.dep.pin_replicas == in.dep.pin_replicas);
		CHECK(strcmp(out.dep.resource_version,
		          in.dep.resource_version) == 0);
		break;
	case 6:
		CHECK(ps_codec_decode_scale_ok(&f, &out.scale_ok) == PS_OK);
		CHECK(
		    strcmp(out.scale_ok.namespace, in.scale_ok.namespace) == 0);
		CHECK(strcmp(out.scale_ok.name, in.scale_ok.name) == 0);
		CHECK(out.scale_ok.dry_run == in.scale_ok.dry_run);
		CHECK(out.scale_ok.replicas == in.scale_ok.replicas &&
		    out.scale_ok.previous == in.scale_ok.previous &&
		    out.scale_ok.synced == in.scale_ok.synced);
		CHECK(strcmp(out.scale_ok.resource_version,
		          in.scale_ok.resource_version) == 0);
		break;
	case 7:
		CHECK(ps_codec_decode_health(&f, &out.health) == PS_OK);
		CHECK(out.health.state == in.health.state &&
		    out.health.cache_size == in.health.cache_size &&
		    out.health.last_event_age_ms ==
		        in.health.last_event_age_ms &&
		    out.health.api_ok_age_ms == in.health.api_ok_age_ms);
		CHECK(strcmp(out.health.message, in.health.message) == 0);
		CHECK(out.health.ns_count == in.health.ns_count);
		CHECK(in.health.ns_count >= 1 &&
		    in.health.ns_count <= PS_MAX_NAMESPACES);
		CHECK(out.health.ns[0].state == out.health.state);
		for (int i = 0; i < in.health.ns_count; i++) {
			const struct ps_ns_health *a = &in.health.ns[i];
			const struct ps_ns_health *b = &out.health.ns[i];

			CHECK(strcmp(a->namespace, b->namespace) == 0);
			CHECK(a->state == b->state &&
			    a->cache_size == b->cache_size &&
			    a->last_event_age_ms == b->last_event_age_ms &&
			    a->api_ok_age_ms == b->api_ok_age_ms);
		}
		/* the largest HEALTH fits the smallest answer frame */
		CHECK(len <= PS_MIN_ANSWER_FRAME);
		break;
	case 8:
		CHECK(ps_codec_decode_pin(&f, &out.pin) == PS_OK);
		CHECK(strcmp(out.pin.namespace, in.pin.namespace) == 0);
		CHECK(strcmp(out.pin.name, in.pin.name) == 0 &&
		    out.pin.replicas == in.pin.replicas &&
		    out.pin.state == in.pin.state &&
		    out.pin.dry_run == in.pin.dry_run);
		break;
	case 13:
		CHECK(ps_codec_decode_ns_req(&f, &out.ns_req) == PS_OK);
		CHECK(strcmp(out.ns_req.namespace, in.ns_req.namespace) == 0);
		CHECK(f.hdr.type == type && f.hdr.id == id);
		CHECK(type == PS_T_LIST || type == PS_T_PIN_LIST);
		break;
	default:
		CHECK(ps_codec_decode_error(&f, &out.error) == PS_OK);
		CHECK(out.error.code == in.error.code &&
		    out.error.retry_after == in.error.retry_after);
		CHECK(strcmp(out.error.message, in.error.message) == 0);
		break;
	}
done:
	ps_reader_free(rd);
	free(buf);
	return 0;
}
