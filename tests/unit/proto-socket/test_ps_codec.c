/*
 * test_ps_codec.c — proto-socket/ps_codec.c: every message of PROTOCOL.md
 * §3–§5 encoded at its field extremes, passed through the incremental
 * reader one byte at a time and decoded back; every decoder against every
 * other message, truncated at every offset, with a trailing byte, and
 * against a table of hostile bodies; encoders against invalid input and
 * short buffers; multi-frame LIST, PIN_LIST and METRICS answers.
 * Version 3 (issue #15): the namespace in every message — LIST/PIN_LIST
 * request bodies, HELLO's answer, (namespace, name) list items, HEALTH's
 * per-namespace rows — and each request type's body limit.
 *
 * Bodies handed to decoders directly live in heap blocks of exactly their
 * size, so an over-read is an ASan error under `make sanitize`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"

/* ---- fixtures and helpers ---------------------------------------------- */

static char name253[PS_MAX_NAME + 1];      /* valid name at its max */
static char ns63[PS_MAX_NAMESPACE + 1];    /* valid namespace at max */
static char ident256[PS_MAX_IDENTITY + 1]; /* every printable byte */
static char rv64[PS_MAX_RV + 1];           /* every visible byte */
static char msg512[PS_MAX_MESSAGE + 1];    /* every printable byte */
static char ref253[PS_MAX_NAME + 1];       /* an error's ref, every visible
                                              byte (PS_STR_REF) */
/* the largest HELLO answer; its namespace is ns63, set below */
static struct ps_hello_ok hello_ok_max;

static int
setup_strings(void **state)
{
	(void)state;
	for (size_t i = 0; i < PS_MAX_NAME; i++)
		name253[i] = i % 10 == 9 ? '.'
		    : i % 10 == 4        ? '-'
		                         : (char)('a' + i % 26);
	name253[PS_MAX_NAME] = '\0';
	for (size_t i = 0; i < PS_MAX_NAMESPACE; i++)
		ns63[i] = i % 7 == 3 ? '-' : (char)('0' + i % 10);
	ns63[PS_MAX_NAMESPACE] = '\0';
	for (size_t i = 0; i < PS_MAX_IDENTITY; i++)
		ident256[i] = (char)(0x20 + i % 95);
	ident256[PS_MAX_IDENTITY] = '\0';
	for (size_t i = 0; i < PS_MAX_RV; i++)
		rv64[i] = (char)(0x21 + (i * 3) % 94);
	rv64[PS_MAX_RV] = '\0';
	for (size_t i = 0; i < PS_MAX_MESSAGE; i++)
		msg512[i] = (char)(0x7e - i % 95);
	msg512[PS_MAX_MESSAGE] = '\0';
	for (size_t i = 0; i < PS_MAX_NAME; i++)
		ref253[i] = (char)(0x7e - (i * 7) % 94);
	ref253[PS_MAX_NAME] = '\0';
	assert_int_equal(ps_valid_name(name253, PS_MAX_NAME), PS_OK);
	assert_int_equal(ps_valid_namespace(ns63, PS_MAX_NAMESPACE), PS_OK);
	memcpy(hello_ok_max.namespace, ns63, sizeof(hello_ok_max.namespace));
	return 0;
}

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

/*
 * Wire bytes from a readable spec: pairs of hex digits, spaces ignored,
 * 'text' copied as is.  Returns the length.
 */
static size_t
wire(const char *spec, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*spec != '\0') {
		if (*spec == ' ') {
			spec++;
		} else if (*spec == '\'') {
			for (spec++; *spec != '\''; spec++) {
				assert_true(*spec != '\0' && n < cap);
				out[n++] = (uint8_t)*spec;
			}
			spec++;
		} else {
			unsigned int b;

			assert_int_equal(sscanf(spec, "%2x", &b), 1);
			assert_true(n < cap);
			out[n++] = (uint8_t)b;
			spec += 2;
		}
	}
	return n;
}

/* A frame whose body is an exactly-sized heap copy; free with frame_free. */
static struct ps_frame
frame_exact(uint16_t type, uint16_t flags, uint32_t id, const uint8_t *body,
    size_t body_len)
{
	struct ps_frame f;
	uint8_t *p = malloc(body_len > 0 ? body_len : 1);

	assert_non_null(p);
	if (body_len > 0)
		memcpy(p, body, body_len);
	memset(&f, 0, sizeof(f));
	f.hdr.len = (uint32_t)(PS_HDR_LEN + body_len);
	f.hdr.type = type;
	f.hdr.flags = flags;
	f.hdr.id = id;
	f.body = p;
	f.body_len = body_len;
	return f;
}

static void
frame_free(struct ps_frame *f)
{
	free((void *)(uintptr_t)f->body);
	f->body = NULL;
}

/*
 * Feeds an encoded frame to a fresh reader one byte at a time: it must
 * complete on the last byte, not before.  The reader owns the body; free it
 * after decoding.
 */
static struct ps_reader *
read_bytewise(
    enum ps_dir dir, const uint8_t *buf, size_t len, struct ps_frame *f)
{
	struct ps_reader *rd = ps_reader_new(dir);
	size_t used;

	assert_non_null(rd);
	for (size_t i = 0; i < len; i++) {
		int rc = ps_reader_read(rd, buf + i, 1, &used, f);

		assert_int_equal(used, 1);
		if (i + 1 < len)
			assert_int_equal(rc, PS_AGAIN);
		else if (rc != PS_OK)
			fail_msg("reader: %s", ps_strerror(rc));
	}
	assert_int_equal(f->hdr.len, len);
	return rd;
}

/* Every decoder, as one switch, so a frame can be offered to all of them. */
enum dk {
	DK_HELLO,
	DK_HELLO_OK,
	DK_EMPTY,
	DK_NS_REQ,
	DK_NAME_REQ,
	DK_WRITE_REQ,
	DK_DEPLOYMENT,
	DK_SCALE_OK,
	DK_HEALTH,
	DK_PIN,
	DK_ERROR,
	DK_LIST_NAMES,
	DK_LIST_PINS,
	DK_METRICS,
	DK_COUNT
};

static int
decode_as(enum dk k, const struct ps_frame *f)
{
	struct ps_hello h;
	struct ps_hello_ok ho;
	struct ps_ns_req ns;
	struct ps_name_req nr;
	struct ps_write_req wr;
	struct ps_deployment dep;
	struct ps_scale_ok so;
	struct ps_health he;
	struct ps_pin pin;
	struct ps_error er;
	struct ps_list_dec d;
	char nsname[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
	const char *text;
	size_t text_len;
	int rc;

	switch (k) {
	case DK_HELLO:
		return ps_codec_decode_hello(f, &h);
	case DK_HELLO_OK:
		return ps_codec_decode_hello_ok(f, &ho);
	case DK_EMPTY:
		return ps_codec_decode_empty(f);
	case DK_NS_REQ:
		return ps_codec_decode_ns_req(f, &ns);
	case DK_NAME_REQ:
		return ps_codec_decode_name_req(f, &nr);
	case DK_WRITE_REQ:
		return ps_codec_decode_write_req(f, &wr);
	case DK_DEPLOYMENT:
		return ps_codec_decode_deployment(f, &dep);
	case DK_SCALE_OK:
		return ps_codec_decode_scale_ok(f, &so);
	case DK_HEALTH:
		return ps_codec_decode_health(f, &he);
	case DK_PIN:
		return ps_codec_decode_pin(f, &pin);
	case DK_ERROR:
		return ps_codec_decode_error(f, &er);
	case DK_LIST_NAMES:
		if ((rc = ps_codec_list_open(f, &d)) != PS_OK)
			return rc;
		while ((rc = ps_codec_list_next_name(&d, nsname, name)) == 1)
			;
		return rc;
	case DK_LIST_PINS:
		if ((rc = ps_codec_list_open(f, &d)) != PS_OK)
			return rc;
		while ((rc = ps_codec_list_next_pin(&d, &pin)) == 1)
			;
		return rc;
	case DK_METRICS:
		return ps_codec_decode_metrics(f, &text, &text_len);
	case DK_COUNT:
		break;
	}
	return PS_ERR_TYPE;
}

/* ---- one sample per message, at its extremes --------------------------- */

/*
 * Each sample encodes one message into caller memory and checks a decoded
 * frame field by field against the same source.
 */
struct sample {
	const char *what;
	enum dk dk;
	enum ps_dir dir;
	int (*enc)(uint8_t *out, size_t cap, size_t *len);
	void (*check)(const struct ps_frame *f);
};

static const struct ps_hello hello_min = {PS_VERSION, PS_VERSION};
static const struct ps_hello hello_wide = {1, 0xffff};

static int
enc_hello_min(uint8_t *out, size_t cap, size_t *len)
{
	return ps_codec_encode_hello(out, cap, &hello_min, len);
}

static int
enc_hello_wide(uint8_t *out, size_t cap, size_t *len)
{
	return ps_codec_encode_hello(out, cap, &hello_wide, len);
}

static void
check_hello(const struct ps_frame *f, const struct ps_hello *want)
{
	struct ps_hello m;
	uint16_t v = 0;

	assert_int_equal(f->hdr.type, PS_T_HELLO);
	assert_int_equal(f->hdr.flags, 0);
	assert_int_equal(f->hdr.id, 0);
	assert_int_equal(ps_codec_decode_hello(f, &m), PS_OK);
	assert_int_equal(m.min_version, want->min_version);
	assert_int_equal(m.max_version, want->max_version);
	assert_int_equal(ps_codec_pick_version(&m, &v), PS_OK);
	assert_int_equal(v, PS_VERSION);
}

static void
chk_hello_min(const struct ps_frame *f)
{
	check_hello(f, &hello_min);
}

static void
chk_hello_wide(const struct ps_frame *f)
{
	check_hello(f, &hello_wide);
}

static const struct ps_hello_ok hello_ok_min = {1, 1, PS_MIN_ANSWER_FRAME, "a"};
/* its namespace, ns63, is filled in by setup_strings */
static struct ps_hello_ok hello_ok_max = {
    0xffff, PS_MAX_INFLIGHT, PS_MAX_FRAME, ""};

static int
enc_hello_ok_min(uint8_t *out, size_t cap, size_t *len)
{
	return ps_codec_encode_hello_ok(out, cap, &hello_ok_min, len);
}

static int
enc_hello_ok_max(uint8_t *out, size_t cap, size_t *len)
{
	return ps_codec_encode_hello_ok(out, cap, &hello_ok_max, len);
}

static void
check_hello_ok(const struct ps_frame *f, const struct ps_hello_ok *want)
{
	struct ps_hello_ok m;

	assert_int_equal(f->hdr.type, PS_T_HELLO);
	assert_int_equal(f->hdr.flags, PS_F_REPLY);
	assert_int_equal(f->hdr.id, 0);
	assert_int_equal(ps_codec_decode_hello_ok(f, &m), PS_OK);
	assert_int_equal(m.version, want->version);
	assert_int_equal(m.max_inflight, want->max_inflight);
	assert_int_equal(m.max_frame, want->max_frame);
	assert_string_equal(m.namespace, want->namespace);
}

static void
chk_hello_ok_min(const struct ps_frame *f)
{
	check_hello_ok(f, &hello_ok_min);
}

static void
chk_hello_ok_max(const struct ps_frame *f)
{
	check_hello_ok(f, &hello_ok_max);
}

/* Empty requests: type and id survive. */
#define EMPTY_SAMPLE(tag, T, ID)                                          \
	static int enc_empty_##tag(uint8_t *out, size_t cap, size_t *len) \
	{                                                                 \
		return ps_codec_encode_empty(out, cap, T, ID, len);       \
	}                                                                 \
	static void chk_empty_##tag(const struct ps_frame *f)             \
	{                                                                 \
		assert_int_equal(f->hdr.type, T);                         \
		assert_int_equal(f->hdr.id, ID);                          \
		assert_int_equal(f->body_len, 0);                         \
		assert_int_equal(ps_codec_decode_empty(f), PS_OK);        \
	}
EMPTY_SAMPLE(health, PS_T_HEALTH, 0xffffffffu)
EMPTY_SAMPLE(metrics, PS_T_METRICS, 0x80000000u)

/* LIST, PIN_LIST requests: a namespace, or "" for every one. */
#define NS_SAMPLE(tag, T, ID, NS)                                         \
	static int enc_nsreq_##tag(uint8_t *out, size_t cap, size_t *len) \
	{                                                                 \
		struct ps_ns_req m;                                       \
		snprintf(m.namespace, sizeof(m.namespace), "%s", NS);     \
		return ps_codec_encode_ns_req(out, cap, T, ID, &m, len);  \
	}                                                                 \
	static void chk_nsreq_##tag(const struct ps_frame *f)             \
	{                                                                 \
		struct ps_ns_req m;                                       \
		assert_int_equal(f->hdr.type, T);                         \
		assert_int_equal(f->hdr.flags, 0);                        \
		assert_int_equal(f->hdr.id, ID);                          \
		assert_int_equal(f->body_len, 2 + strlen(NS));            \
		memset(&m, 0xee, sizeof(m));                              \
		assert_int_equal(ps_codec_decode_ns_req(f, &m), PS_OK);   \
		assert_string_equal(m.namespace, NS);                     \
	}
NS_SAMPLE(list_all, PS_T_LIST, 1, "")
NS_SAMPLE(list_a, PS_T_LIST, 0xffffffffu, "a")
NS_SAMPLE(pin_list_all, PS_T_PIN_LIST, 2, "")
NS_SAMPLE(pin_list_max, PS_T_PIN_LIST, 3, ns63)

static int
enc_get_a(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_name_req m = {"b", "a"};

	return ps_codec_encode_name_req(out, cap, PS_T_GET, 7, &m, len);
}

static void
chk_get_a(const struct ps_frame *f)
{
	struct ps_name_req m;

	assert_int_equal(f->hdr.type, PS_T_GET);
	assert_int_equal(f->hdr.id, 7);
	assert_int_equal(f->body_len, 2 + 1 + 2 + 1);
	assert_int_equal(ps_codec_decode_name_req(f, &m), PS_OK);
	assert_string_equal(m.namespace, "b");
	assert_string_equal(m.name, "a");
}

static int
enc_pin_get_max(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_name_req m;

	memcpy(m.namespace, ns63, sizeof(m.namespace));
	memcpy(m.name, name253, sizeof(m.name));
	return ps_codec_encode_name_req(
	    out, cap, PS_T_PIN_GET, 0xffffffffu, &m, len);
}

static void
chk_pin_get_max(const struct ps_frame *f)
{
	struct ps_name_req m;

	assert_int_equal(f->hdr.type, PS_T_PIN_GET);
	assert_int_equal(f->hdr.id, 0xffffffffu);
	/* the type's max_req_body */
	assert_int_equal(f->body_len, 2 + PS_MAX_NAMESPACE + 2 + PS_MAX_NAME);
	assert_int_equal(f->body_len, ps_type_info(PS_T_PIN_GET)->max_req_body);
	assert_int_equal(ps_codec_decode_name_req(f, &m), PS_OK);
	assert_string_equal(m.namespace, ns63);
	assert_string_equal(m.name, name253);
}

/* SCALE, PIN_PUT, PIN_DELETE requests. */
static void
fill_write(struct ps_write_req *m, const char *name, uint32_t replicas,
    const char *identity)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->namespace, sizeof(m->namespace), "%s", "ns");
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->replicas = replicas;
	snprintf(m->identity, sizeof(m->identity), "%s", identity);
}

/* Version 2's conditions at their extremes (flags as the type allows). */
static void
fill_conditions(struct ps_write_req *m, uint8_t flags)
{
	m->flags = flags;
	m->expected = (flags & PS_W_EXPECTED) ? PS_MAX_REPLICAS : 0;
	memcpy(m->if_match, rv64, sizeof(m->if_match));
}

static void
check_write(const struct ps_frame *f, uint16_t type, const char *ns,
    const char *name, uint32_t replicas, const char *identity)
{
	struct ps_write_req m;

	assert_int_equal(f->hdr.type, type);
	assert_int_equal(f->hdr.flags, 0);
	memset(&m, 0xee, sizeof(m));
	assert_int_equal(ps_codec_decode_write_req(f, &m), PS_OK);
	assert_string_equal(m.namespace, ns);
	assert_string_equal(m.name, name);
	assert_int_equal(m.replicas, replicas);
	assert_string_equal(m.identity, identity);
}

static void
check_conditions(const struct ps_frame *f, uint8_t flags, uint32_t expected,
    const char *if_match)
{
	struct ps_write_req m;

	memset(&m, 0xee, sizeof(m));
	assert_int_equal(ps_codec_decode_write_req(f, &m), PS_OK);
	assert_int_equal(m.flags, flags);
	assert_int_equal(m.expected, expected);
	assert_string_equal(m.if_match, if_match);
}

static int
enc_scale_max(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_write_req m;

	fill_write(&m, name253, PS_MAX_REPLICAS, ident256);
	memcpy(m.namespace, ns63, sizeof(m.namespace));
	fill_conditions(&m, PS_W_ALL & ~PS_W_SUSPEND);
	return ps_codec_encode_write_req(out, cap, PS_T_SCALE, 11, &m, len);
}

static void
chk_scale_max(const struct ps_frame *f)
{
	/* namespace 2+63, name 2+253, replicas 4, identity 2+256, flags 1,
	 * expected 4, if_match 2+64: the type's max_req_body */
	assert_int_equal(f->body_len, 653);
	assert_int_equal(f->body_len, ps_type_info(PS_T_SCALE)->max_req_body);
	check_write(f, PS_T_SCALE, ns63, name253, PS_MAX_REPLICAS, ident256);
	check_conditions(f, PS_W_ALL & ~PS_W_SUSPEND, PS_MAX_REPLICAS, rv64);
}

static int
enc_scale_zero(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_write_req m;

	/* a single space is a printable identity */
	fill_write(&m, "a", 0, " ");
	return ps_codec_encode_write_req(out, cap, PS_T_SCALE, 1, &m, len);
}

static void
chk_scale_zero(const struct ps_frame *f)
{
	assert_int_equal(f->body_len, 2 + 2 + 2 + 1 + 4 + 2 + 1 + 1 + 4 + 2);
	check_write(f, PS_T_SCALE, "ns", "a", 0, " ");
	check_conditions(f, 0, 0, "");
}

static int
enc_pin_put_max(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_write_req m;

	fill_write(&m, name253, PS_MAX_REPLICAS, ident256);
	memcpy(m.namespace, ns63, sizeof(m.namespace));
	fill_conditions(&m, PS_W_ALL);
	return ps_codec_encode_write_req(out, cap, PS_T_PIN_PUT, 12, &m, len);
}

static void
chk_pin_put_max(const struct ps_frame *f)
{
	assert_int_equal(f->body_len, 653);
	assert_int_equal(f->body_len, ps_type_info(PS_T_PIN_PUT)->max_req_body);
	check_write(f, PS_T_PIN_PUT, ns63, name253, PS_MAX_REPLICAS, ident256);
	check_conditions(f, PS_W_ALL, PS_MAX_REPLICAS, rv64);
}

static int
enc_pin_delete(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_write_req m;

	/* replicas is not on the wire for PIN_DELETE, even out of range */
	fill_write(&m, name253, 0xffffffffu, ident256);
	memcpy(m.namespace, ns63, sizeof(m.namespace));
	m.flags = PS_W_DRY_RUN; /* the only flag a removal takes */
	return ps_codec_encode_write_req(
	    out, cap, PS_T_PIN_DELETE, 13, &m, len);
}

static void
chk_pin_delete(const struct ps_frame *f)
{
	/* namespace 2+63, name 2+253, identity 2+256, flags 1 */
	assert_int_equal(f->body_len, 579);
	assert_int_equal(
	    f->body_len, ps_type_info(PS_T_PIN_DELETE)->max_req_body);
	check_write(f, PS_T_PIN_DELETE, ns63, name253, 0, ident256);
	check_conditions(f, PS_W_DRY_RUN, 0, "");
}

/* GET answers. */
static void
fill_dep_max(struct ps_deployment *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->name, name253, sizeof(m->name));
	memcpy(m->namespace, ns63, sizeof(m->namespace));
	m->desired = PS_MAX_REPLICAS;
	m->replicas = PS_MAX_REPLICAS;
	m->ready = PS_MAX_REPLICAS;
	m->available = PS_MAX_REPLICAS;
	m->updated = PS_MAX_REPLICAS;
	m->generation = (uint64_t)INT64_MAX;
	m->observed_generation = (uint64_t)INT64_MAX;
	m->pinned = 1;
	m->pin_replicas = PS_MAX_REPLICAS;
	memcpy(m->resource_version, rv64, sizeof(m->resource_version));
	m->pin_state = PS_PIN_STATE_MAX;
	m->bounds = PS_B_ALL;
	m->min_replicas = PS_MAX_REPLICAS; /* min == max is allowed */
	m->max_replicas = PS_MAX_REPLICAS;
	memcpy(m->autoscaler, name253, sizeof(m->autoscaler));
}

static void
fill_dep_min(struct ps_deployment *m)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->name, "a");
	strcpy(m->namespace, "b");
	strcpy(m->resource_version, "1");
}

static void
check_dep(const struct ps_frame *f, const struct ps_deployment *w)
{
	struct ps_deployment m;

	assert_int_equal(f->hdr.type, PS_T_GET);
	assert_int_equal(f->hdr.flags, PS_F_REPLY);
	memset(&m, 0xee, sizeof(m));
	assert_int_equal(ps_codec_decode_deployment(f, &m), PS_OK);
	assert_string_equal(m.name, w->name);
	assert_string_equal(m.namespace, w->namespace);
	assert_int_equal(m.desired, w->desired);
	assert_int_equal(m.replicas, w->replicas);
	assert_int_equal(m.ready, w->ready);
	assert_int_equal(m.available, w->available);
	assert_int_equal(m.updated, w->updated);
	assert_true(m.generation == w->generation);
	assert_true(m.observed_generation == w->observed_generation);
	assert_int_equal(m.pinned, w->pinned);
	assert_int_equal(m.pin_replicas, w->pin_replicas);
	assert_string_equal(m.resource_version, w->resource_version);
	assert_int_equal(m.pin_state, w->pin_state);
	assert_int_equal(m.bounds, w->bounds);
	assert_int_equal(m.min_replicas, w->min_replicas);
	assert_int_equal(m.max_replicas, w->max_replicas);
	assert_string_equal(m.autoscaler, w->autoscaler);
}

static int
enc_dep_max(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_deployment m;

	fill_dep_max(&m);
	return ps_codec_encode_deployment(out, cap, 0xffffffffu, &m, len);
}

static void
chk_dep_max(const struct ps_frame *f)
{
	struct ps_deployment m;

	fill_dep_max(&m);
	check_dep(f, &m);
}

static int
enc_dep_min(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_deployment m;

	fill_dep_min(&m);
	return ps_codec_encode_deployment(out, cap, 1, &m, len);
}

static void
chk_dep_min(const struct ps_frame *f)
{
	struct ps_deployment m;

	fill_dep_min(&m);
	check_dep(f, &m);
}

/* SCALE answers. */
static void
check_scale_ok(const struct ps_frame *f, const struct ps_scale_ok *w)
{
	struct ps_scale_ok m;

	assert_int_equal(f->hdr.type, PS_T_SCALE);
	assert_int_equal(f->hdr.flags, PS_F_REPLY);
	memset(&m, 0xee, sizeof(m));
	assert_int_equal(ps_codec_decode_scale_ok(f, &m), PS_OK);
	assert_string_equal(m.namespace, w->namespace);
	assert_string_equal(m.name, w->name);
	assert_int_equal(m.replicas, w->replicas);
	assert_int_equal(m.previous, w->previous);
	assert_int_equal(m.synced, w->synced);
	assert_string_equal(m.resource_version, w->resource_version);
	assert_int_equal(m.dry_run, w->dry_run);
}

static void
fill_scale_ok_max(struct ps_scale_ok *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->namespace, ns63, sizeof(m->namespace));
	memcpy(m->name, name253, sizeof(m->name));
	m->replicas = PS_MAX_REPLICAS;
	m->previous = PS_MAX_REPLICAS;
	m->synced = 1;
	memcpy(m->resource_version, rv64, sizeof(m->resource_version));
	m->dry_run = 1;
}

static int
enc_scale_ok_max(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_scale_ok m;

	fill_scale_ok_max(&m);
	return ps_codec_encode_scale_ok(out, cap, 9, &m, len);
}

static void
chk_scale_ok_max(const struct ps_frame *f)
{
	struct ps_scale_ok m;

	fill_scale_ok_max(&m);
	check_scale_ok(f, &m);
}

static const struct ps_scale_ok scale_ok_min = {"y", "z", 0, 0, 0, "~", 0};

static int
enc_scale_ok_min(uint8_t *out, size_t cap, size_t *len)
{
	return ps_codec_encode_scale_ok(out, cap, 9, &scale_ok_min, len);
}

static void
chk_scale_ok_min(const struct ps_frame *f)
{
	check_scale_ok(f, &scale_ok_min);
}

/* HEALTH answers. */
static void
check_health(const struct ps_frame *f, const struct ps_health *w)
{
	struct ps_health m;

	assert_int_equal(f->hdr.type, PS_T_HEALTH);
	memset(&m, 0xee, sizeof(m));
	assert_int_equal(ps_codec_decode_health(f, &m), PS_OK);
	assert_int_equal(m.state, w->state);
	assert_int_equal(m.cache_size, w->cache_size);
	assert_int_equal(m.last_event_age_ms, w->last_event_age_ms);
	assert_int_equal(m.api_ok_age_ms, w->api_ok_age_ms);
	assert_string_equal(m.message, w->message);
	assert_int_equal(m.ns_count, w->ns_count);
	for (uint8_t i = 0; i < w->ns_count; i++) {
		assert_string_equal(m.ns[i].namespace, w->ns[i].namespace);
		assert_int_equal(m.ns[i].state, w->ns[i].state);
		assert_int_equal(m.ns[i].cache_size, w->ns[i].cache_size);
		assert_int_equal(
		    m.ns[i].last_event_age_ms, w->ns[i].last_event_age_ms);
		assert_int_equal(m.ns[i].api_ok_age_ms, w->ns[i].api_ok_age_ms);
	}
}

/* Namespace `i` of a full HEALTH answer: 63 bytes, unique. */
static void
health_ns_name(char out[PS_MAX_NAMESPACE + 1], unsigned i)
{
	memcpy(out, ns63, PS_MAX_NAMESPACE + 1);
	out[60] = (char)('0' + i / 10);
	out[61] = (char)('0' + i % 10);
}

/* The largest HEALTH answer: the longest message, PS_MAX_NAMESPACES
 * namespaces of the longest name, every field at an extreme. */
static void
fill_health_max(struct ps_health *m)
{
	memset(m, 0, sizeof(*m));
	m->state = PS_HEALTH_ALL;
	m->cache_size = PS_MAX_LIST_TOTAL;
	m->last_event_age_ms = PS_AGE_NEVER;
	m->api_ok_age_ms = PS_AGE_NEVER - 1;
	memcpy(m->message, msg512, sizeof(m->message));
	m->ns_count = PS_MAX_NAMESPACES;
	for (unsigned i = 0; i < PS_MAX_NAMESPACES; i++) {
		struct ps_ns_health *h = &m->ns[i];

		health_ns_name(h->namespace, i);
		h->state = i == 0 ? PS_HEALTH_ALL : (uint8_t)(i % 8);
		h->cache_size = i % 2 == 0 ? PS_MAX_LIST_TOTAL : i;
		h->last_event_age_ms = i % 3 == 0 ? PS_AGE_NEVER : i;
		h->api_ok_age_ms = i % 3 == 1 ? PS_AGE_NEVER : 0xfffffffeu - i;
	}
}

/* One namespace, each field at its other extreme. */
static void
fill_health_one(struct ps_health *m)
{
	memset(m, 0, sizeof(*m));
	m->state = PS_HEALTH_API_OK | PS_HEALTH_WATCH;
	m->cache_size = 7;
	m->last_event_age_ms = 1;
	m->api_ok_age_ms = 2;
	strcpy(m->message, "cache not synced");
	m->ns_count = 1;
	memcpy(m->ns[0].namespace, ns63, sizeof(m->ns[0].namespace));
	m->ns[0].state = m->state;
	m->ns[0].cache_size = PS_MAX_LIST_TOTAL;
	m->ns[0].last_event_age_ms = PS_AGE_NEVER;
	m->ns[0].api_ok_age_ms = 0;
}

static int
enc_health_one(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_health m;

	fill_health_one(&m);
	return ps_codec_encode_health(out, cap, 5, &m, len);
}

static void
chk_health_one(const struct ps_frame *f)
{
	struct ps_health m;

	fill_health_one(&m);
	/* 13 + 2+16 + 1 + one row of 2+63+1+4+4+4 */
	assert_int_equal(f->body_len, 13 + 18 + 1 + 78);
	check_health(f, &m);
}

static int
enc_health_max(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_health m;

	fill_health_max(&m);
	return ps_codec_encode_health(out, cap, 5, &m, len);
}

static void
chk_health_max(const struct ps_frame *f)
{
	struct ps_health m;

	fill_health_max(&m);
	/* 13 + 2+512 + 1 + 32 rows of 2+63+1+4+4+4: the largest HEALTH
	 * answer fits the smallest answer frame a peer may announce */
	assert_int_equal(f->body_len, 13 + 514 + 1 + PS_MAX_NAMESPACES * 78);
	assert_true(f->hdr.len <= PS_MIN_ANSWER_FRAME);
	check_health(f, &m);
}

static const struct ps_health health_min = {
    0, 0, 0, 0, "", 1, {{"a", 0, 0, 0, 0}}};

static int
enc_health_min(uint8_t *out, size_t cap, size_t *len)
{
	return ps_codec_encode_health(out, cap, 5, &health_min, len);
}

static void
chk_health_min(const struct ps_frame *f)
{
	check_health(f, &health_min);
}

/* PIN_GET / PIN_PUT / PIN_DELETE answers. */
#define PIN_SAMPLE(tag, T, NS, NM, N, ST, DRY)                             \
	static int enc_pinans_##tag(uint8_t *out, size_t cap, size_t *len) \
	{                                                                  \
		struct ps_pin m;                                           \
		snprintf(m.namespace, sizeof(m.namespace), "%s", NS);      \
		snprintf(m.name, sizeof(m.name), "%s", NM);                \
		m.replicas = N;                                            \
		m.state = ST;                                              \
		m.dry_run = DRY;                                           \
		return ps_codec_encode_pin(out, cap, T, 3, &m, len);       \
	}                                                                  \
	static void chk_pinans_##tag(const struct ps_frame *f)             \
	{                                                                  \
		struct ps_pin m;                                           \
		assert_int_equal(f->hdr.type, T);                          \
		assert_int_equal(f->hdr.flags, PS_F_REPLY);                \
		assert_int_equal(ps_codec_decode_pin(f, &m), PS_OK);       \
		assert_string_equal(m.namespace, NS);                      \
		assert_string_equal(m.name, NM);                           \
		assert_int_equal(m.replicas, N);                           \
		assert_int_equal(m.state, ST);                             \
		assert_int_equal(m.dry_run, DRY);                          \
	}
PIN_SAMPLE(
    get, PS_T_PIN_GET, ns63, name253, PS_MAX_REPLICAS, PS_PIN_STATE_MAX, 0)
PIN_SAMPLE(put, PS_T_PIN_PUT, "b", "a", 0, PS_PIN_ACTIVE, 1)
PIN_SAMPLE(delete, PS_T_PIN_DELETE, "a-b", name253, 5, PS_PIN_SUSPENDED, 1)

/* Error answers and GOAWAY. */
static void
check_error(const struct ps_frame *f, uint16_t type, uint32_t id,
    const struct ps_error *w)
{
	struct ps_error m;

	assert_int_equal(f->hdr.type, type);
	assert_int_equal(f->hdr.id, id);
	assert_int_equal(f->hdr.flags,
	    type == PS_T_GOAWAY ? PS_F_ERROR : (PS_F_REPLY | PS_F_ERROR));
	memset(&m, 0xee, sizeof(m));
	assert_int_equal(ps_codec_decode_error(f, &m), PS_OK);
	assert_int_equal(m.code, w->code);
	assert_int_equal(m.retry_after, w->retry_after);
	assert_string_equal(m.message, w->message);
	assert_int_equal(m.current, w->current);
	assert_string_equal(m.ref, w->ref);
}

static const struct ps_error err_min = {PS_E_NOT_FOUND, 0, "", 0, ""};

static int
enc_err_get(uint8_t *out, size_t cap, size_t *len)
{
	return ps_codec_encode_error(out, cap, PS_T_GET, 21, &err_min, len);
}

static void
chk_err_get(const struct ps_frame *f)
{
	check_error(f, PS_T_GET, 21, &err_min);
}

static void
fill_err_max(struct ps_error *m)
{
	m->code = PS_E_MAX;
	m->retry_after = PS_MAX_RETRY_AFTER;
	memcpy(m->message, msg512, sizeof(m->message));
	m->current = PS_MAX_REPLICAS;
	memcpy(m->ref, ref253, sizeof(m->ref));
}

static int
enc_err_scale(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_error m;

	fill_err_max(&m);
	return ps_codec_encode_error(
	    out, cap, PS_T_SCALE, 0xffffffffu, &m, len);
}

static void
chk_err_scale(const struct ps_frame *f)
{
	struct ps_error m;

	fill_err_max(&m);
	check_error(f, PS_T_SCALE, 0xffffffffu, &m);
}

static const struct ps_error err_busy = {PS_E_BUSY, 1, "busy", 0, ""};

static int
enc_err_list(uint8_t *out, size_t cap, size_t *len)
{
	return ps_codec_encode_error(out, cap, PS_T_LIST, 4, &err_busy, len);
}

static void
chk_err_list(const struct ps_frame *f)
{
	check_error(f, PS_T_LIST, 4, &err_busy);
}

static const struct ps_error err_version = {
    PS_E_VERSION, 0, "versions 3..3", 0, ""};

static int
enc_err_hello(uint8_t *out, size_t cap, size_t *len)
{
	return ps_codec_encode_error(
	    out, cap, PS_T_HELLO, 0, &err_version, len);
}

static void
chk_err_hello(const struct ps_frame *f)
{
	check_error(f, PS_T_HELLO, 0, &err_version);
}

static const struct ps_error err_goaway = {
    PS_E_PROTOCOL, 0, "bad frame", 0, ""};

static int
enc_goaway(uint8_t *out, size_t cap, size_t *len)
{
	/* GOAWAY always goes out with id 0, whatever id is passed */
	return ps_codec_encode_error(
	    out, cap, PS_T_GOAWAY, 99, &err_goaway, len);
}

static void
chk_goaway(const struct ps_frame *f)
{
	check_error(f, PS_T_GOAWAY, 0, &err_goaway);
}

/* One-frame lists: (namespace, name), sorted by namespace then name. */
static const char *const list3[] = {"a", "b.c", "d-e"};
static const char *
list3_ns(size_t i)
{
	return i == 2 ? ns63 : i == 1 ? "a" : "0";
}

static int
enc_list3(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_list_enc e;
	int rc;

	ps_codec_list_begin(&e, out, cap, PS_T_LIST, 8);
	for (size_t i = 0; i < 3; i++)
		if ((rc = ps_codec_list_add_name(&e, list3_ns(i), list3[i])) !=
		    PS_OK) {
			*len = 0;
			return rc;
		}
	return ps_codec_list_finish(&e, 0, len);
}

static void
chk_list3(const struct ps_frame *f)
{
	struct ps_list_dec d;
	char ns[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];

	assert_int_equal(f->hdr.flags, PS_F_REPLY);
	assert_int_equal(ps_codec_list_open(f, &d), PS_OK);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ps_codec_list_next_name(&d, ns, name), 1);
		assert_string_equal(ns, list3_ns(i));
		assert_string_equal(name, list3[i]);
	}
	assert_int_equal(ps_codec_list_next_name(&d, ns, name), 0);
	assert_int_equal(ps_codec_list_next_name(&d, ns, name), 0);
}

static int
enc_list_empty(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_list_enc e;

	ps_codec_list_begin(&e, out, cap, PS_T_LIST, 8);
	return ps_codec_list_finish(&e, 1, len);
}

static void
chk_list_empty(const struct ps_frame *f)
{
	struct ps_list_dec d;
	char ns[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];

	assert_int_equal(f->hdr.flags, PS_F_REPLY | PS_F_MORE);
	assert_int_equal(f->body_len, 2);
	assert_int_equal(ps_codec_list_open(f, &d), PS_OK);
	assert_int_equal(ps_codec_list_next_name(&d, ns, name), 0);
}

static int
enc_pins3(uint8_t *out, size_t cap, size_t *len)
{
	struct ps_list_enc e;
	struct ps_pin p;
	int rc;

	ps_codec_list_begin(&e, out, cap, PS_T_PIN_LIST, 0xffffffffu);
	for (uint32_t i = 0; i < 3; i++) {
		snprintf(p.namespace, sizeof(p.namespace), "%s", list3_ns(i));
		snprintf(p.name, sizeof(p.name), "%s", list3[i]);
		p.replicas = i == 2 ? PS_MAX_REPLICAS : i;
		p.state = (uint8_t)(i == 2 ? PS_PIN_STATE_MAX : i);
		p.dry_run = 0; /* an answer's, never a list item's */
		if ((rc = ps_codec_list_add_pin(&e, &p)) != PS_OK) {
			*len = 0;
			return rc;
		}
	}
	return ps_codec_list_finish(&e, 0, len);
}

static void
chk_pins3(const struct ps_frame *f)
{
	struct ps_list_dec d;
	struct ps_pin p;

	assert_int_equal(f->hdr.type, PS_T_PIN_LIST);
	assert_int_equal(ps_codec_list_open(f, &d), PS_OK);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(ps_codec_list_next_pin(&d, &p), 1);
		assert_string_equal(p.namespace, list3_ns(i));
		assert_string_equal(p.name, list3[i]);
		assert_int_equal(p.replicas, i == 2 ? PS_MAX_REPLICAS : i);
		assert_int_equal(p.state, i == 2 ? PS_PIN_STATE_MAX : i);
		assert_int_equal(p.dry_run, 0);
	}
	assert_int_equal(ps_codec_list_next_pin(&d, &p), 0);
}

static const char metrics_text[] = "# HELP x y\nreplicad_up\t1\n";

static int
enc_metrics(uint8_t *out, size_t cap, size_t *len)
{
	return ps_codec_encode_metrics(
	    out, cap, 6, 1, metrics_text, sizeof(metrics_text) - 1, len);
}

static void
chk_metrics(const struct ps_frame *f)
{
	const char *text;
	size_t n;

	assert_int_equal(f->hdr.flags, PS_F_REPLY | PS_F_MORE);
	assert_int_equal(ps_codec_decode_metrics(f, &text, &n), PS_OK);
	assert_int_equal(n, sizeof(metrics_text) - 1);
	assert_memory_equal(text, metrics_text, n);
}

static int
enc_metrics_empty(uint8_t *out, size_t cap, size_t *len)
{
	return ps_codec_encode_metrics(out, cap, 6, 0, NULL, 0, len);
}

static void
chk_metrics_empty(const struct ps_frame *f)
{
	const char *text;
	size_t n = 99;

	assert_int_equal(f->hdr.flags, PS_F_REPLY);
	assert_int_equal(ps_codec_decode_metrics(f, &text, &n), PS_OK);
	assert_int_equal(n, 0);
}

#define SAMPLE(what, dk, dir, tag)                  \
	{                                           \
		what, dk, dir, enc_##tag, chk_##tag \
	}

static const struct sample samples[] = {
    SAMPLE("hello 1..1", DK_HELLO, PS_DIR_REQUEST, hello_min),
    SAMPLE("hello 1..65535", DK_HELLO, PS_DIR_REQUEST, hello_wide),
    SAMPLE("hello_ok min", DK_HELLO_OK, PS_DIR_ANSWER, hello_ok_min),
    SAMPLE("hello_ok max", DK_HELLO_OK, PS_DIR_ANSWER, hello_ok_max),
    SAMPLE("LIST request, all", DK_NS_REQ, PS_DIR_REQUEST, nsreq_list_all),
    SAMPLE("LIST request, a", DK_NS_REQ, PS_DIR_REQUEST, nsreq_list_a),
    SAMPLE(
        "PIN_LIST request, all", DK_NS_REQ, PS_DIR_REQUEST, nsreq_pin_list_all),
    SAMPLE("PIN_LIST request, ns63", DK_NS_REQ, PS_DIR_REQUEST,
        nsreq_pin_list_max),
    SAMPLE("HEALTH request", DK_EMPTY, PS_DIR_REQUEST, empty_health),
    SAMPLE("METRICS request", DK_EMPTY, PS_DIR_REQUEST, empty_metrics),
    SAMPLE("GET a", DK_NAME_REQ, PS_DIR_REQUEST, get_a),
    SAMPLE("PIN_GET max", DK_NAME_REQ, PS_DIR_REQUEST, pin_get_max),
    SAMPLE("SCALE max", DK_WRITE_REQ, PS_DIR_REQUEST, scale_max),
    SAMPLE("SCALE 0", DK_WRITE_REQ, PS_DIR_REQUEST, scale_zero),
    SAMPLE("PIN_PUT max", DK_WRITE_REQ, PS_DIR_REQUEST, pin_put_max),
    SAMPLE("PIN_DELETE max", DK_WRITE_REQ, PS_DIR_REQUEST, pin_delete),
    SAMPLE("deployment max", DK_DEPLOYMENT, PS_DIR_ANSWER, dep_max),
    SAMPLE("deployment min", DK_DEPLOYMENT, PS_DIR_ANSWER, dep_min),
    SAMPLE("scale_ok max", DK_SCALE_OK, PS_DIR_ANSWER, scale_ok_max),
    SAMPLE("scale_ok min", DK_SCALE_OK, PS_DIR_ANSWER, scale_ok_min),
    SAMPLE("health max", DK_HEALTH, PS_DIR_ANSWER, health_max),
    SAMPLE("health one namespace", DK_HEALTH, PS_DIR_ANSWER, health_one),
    SAMPLE("health min", DK_HEALTH, PS_DIR_ANSWER, health_min),
    SAMPLE("pin PIN_GET", DK_PIN, PS_DIR_ANSWER, pinans_get),
    SAMPLE("pin PIN_PUT", DK_PIN, PS_DIR_ANSWER, pinans_put),
    SAMPLE("pin PIN_DELETE", DK_PIN, PS_DIR_ANSWER, pinans_delete),
    SAMPLE("error GET", DK_ERROR, PS_DIR_ANSWER, err_get),
    SAMPLE("error SCALE max", DK_ERROR, PS_DIR_ANSWER, err_scale),
    SAMPLE("error LIST", DK_ERROR, PS_DIR_ANSWER, err_list),
    SAMPLE("error HELLO", DK_ERROR, PS_DIR_ANSWER, err_hello),
    SAMPLE("GOAWAY", DK_ERROR, PS_DIR_ANSWER, goaway),
    SAMPLE("LIST 3 names", DK_LIST_NAMES, PS_DIR_ANSWER, list3),
    SAMPLE("LIST empty, MORE", DK_LIST_NAMES, PS_DIR_ANSWER, list_empty),
    SAMPLE("PIN_LIST 3 pins", DK_LIST_PINS, PS_DIR_ANSWER, pins3),
    SAMPLE("METRICS text", DK_METRICS, PS_DIR_ANSWER, metrics),
    SAMPLE("METRICS empty", DK_METRICS, PS_DIR_ANSWER, metrics_empty),
};

#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

/* Encodes sample `s` into a fresh PS_MAX_FRAME buffer. */
static uint8_t *
encode_sample(const struct sample *s, size_t *len)
{
	uint8_t *buf = malloc(PS_MAX_FRAME);
	int rc;

	assert_non_null(buf);
	rc = s->enc(buf, PS_MAX_FRAME, len);
	if (rc != PS_OK)
		fail_msg("%s: encode: %s", s->what, ps_strerror(rc));
	return buf;
}

/* encode -> reader, one byte at a time -> decode: fields survive. */
static void
test_ps_codec_every_message_round_trips_through_reader(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSAMPLES; i++) {
		const struct sample *s = &samples[i];
		size_t len;
		uint8_t *buf = encode_sample(s, &len);
		struct ps_frame f;
		struct ps_reader *rd = read_bytewise(s->dir, buf, len, &f);

		s->check(&f);
		ps_reader_free(rd);
		free(buf);
	}
}

/* The sample's own decoder accepts it and every other one refuses it. */
static void
test_ps_codec_only_the_matching_decoder_accepts(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSAMPLES; i++) {
		const struct sample *s = &samples[i];
		size_t len;
		uint8_t *buf = encode_sample(s, &len);
		struct ps_frame f;
		struct ps_reader *rd = read_bytewise(s->dir, buf, len, &f);

		for (int k = 0; k < DK_COUNT; k++) {
			int rc = decode_as((enum dk)k, &f);

			if (k == (int)s->dk && rc != PS_OK)
				fail_msg("%s: own decoder: %s", s->what,
				    ps_strerror(rc));
			if (k != (int)s->dk && rc >= 0)
				fail_msg(
				    "%s: decoder %d accepted it", s->what, k);
		}
		ps_reader_free(rd);
		free(buf);
	}
}

/* Every proper prefix of every body is TRUNCATED, never an over-read. */
static void
test_ps_codec_truncation_at_every_offset(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSAMPLES; i++) {
		const struct sample *s = &samples[i];
		size_t len;
		uint8_t *buf = encode_sample(s, &len);
		struct ps_hdr h;

		/* METRICS text has no structure: any prefix is valid text. */
		if (s->dk == DK_METRICS) {
			free(buf);
			continue;
		}
		assert_int_equal(ps_frame_parse_hdr(buf, s->dir, &h), PS_OK);
		for (size_t k = 0; k + PS_HDR_LEN < len; k++) {
			struct ps_frame f = frame_exact(
			    h.type, h.flags, h.id, buf + PS_HDR_LEN, k);
			int rc = decode_as(s->dk, &f);

			if (rc != PS_ERR_TRUNCATED)
				fail_msg("%s cut at %zu of %zu: got %d (%s)",
				    s->what, k, len - PS_HDR_LEN, rc,
				    ps_strerror(rc));
			frame_free(&f);
		}
		free(buf);
	}
}

/* One byte after the last field is TRAILING, whatever its value. */
static void
test_ps_codec_trailing_byte_after_every_message(void **state)
{
	static const uint8_t extra[] = {0x00, 'a', 0xff};

	(void)state;
	for (size_t i = 0; i < NSAMPLES; i++) {
		const struct sample *s = &samples[i];
		size_t len;
		uint8_t *buf = encode_sample(s, &len);
		struct ps_hdr h;

		if (s->dk == DK_METRICS) {
			free(buf);
			continue;
		}
		assert_int_equal(ps_frame_parse_hdr(buf, s->dir, &h), PS_OK);
		for (size_t x = 0; x < sizeof(extra); x++) {
			struct ps_frame f;
			int rc;

			buf[len] = extra[x];
			f = frame_exact(h.type, h.flags, h.id, buf + PS_HDR_LEN,
			    len - PS_HDR_LEN + 1);
			rc = decode_as(s->dk, &f);
			if (rc != PS_ERR_TRAILING)
				fail_msg("%s + %#x: got %d (%s)", s->what,
				    extra[x], rc, ps_strerror(rc));
			frame_free(&f);
		}
		free(buf);
	}
}

/* Every capacity short of the frame: NOSPACE, len 0, no write past cap. */
static void
test_ps_codec_encoders_refuse_every_short_buffer(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSAMPLES; i++) {
		const struct sample *s = &samples[i];
		size_t want, len;
		uint8_t *ref = encode_sample(s, &want);

		for (size_t cap = 0; cap <= want; cap++) {
			uint8_t *out = malloc(cap > 0 ? cap : 1);
			int rc;

			assert_non_null(out);
			len = 12345;
			rc = s->enc(out, cap, &len);
			/* A list item that fits no empty frame is FRAME_LEN. */
			if (cap < want &&
			    ((rc != PS_ERR_NOSPACE && rc != PS_ERR_FRAME_LEN) ||
			        len != 0))
				fail_msg("%s cap %zu: got %d len %zu", s->what,
				    cap, rc, len);
			if (cap == want) {
				assert_int_equal(rc, PS_OK);
				assert_int_equal(len, want);
				assert_memory_equal(out, ref, want);
			}
			free(out);
		}
		free(ref);
	}
}

/* ---- hostile bodies ---------------------------------------------------- */

struct body_case {
	const char *what;
	enum dk dk;
	uint16_t type;
	uint16_t flags;
	uint32_t id;
	const char *body; /* wire() spec */
	int want;
};

#define R  PS_F_REPLY
#define MO PS_F_MORE
#define ER PS_F_ERROR

/* A valid deployment body around one replaced field (see dep_cases). */
#define DEP_NAME "0001 'a' 0001 'b' "
#define DEP_CNT5 "00000001 00000002 00000003 00000004 00000005 "
#define DEP_GEN2 "0000000000000007 0000000000000006 "
#define DEP_PIN  "01 00000003 "
#define DEP_RV   "0002 '42' " DEP_V2
/* version 2: pin_state, bounds, min, max, autoscaler "" */
#define DEP_V2   "00 00 00000000 00000000 0000"
/* the write conditions of version 2, none set: flags, expected, if_match */
#define W2       " 00 00000000 0000"
/* a valid 63-byte namespace on the wire (ns63 of setup_strings) */
#define NS63_WIRE \
	"'012-456789-123456-890123-567890-234567-901234-678901-345678-012'"
/* HEALTH: the top-level fields with `st`, then one namespace's row */
#define HE_TOP(st)    st " 00000000 00000000 00000000 0000"
#define HE_NS(ns, st) ns " " st " 00000000 00000000 00000000 "

static const struct body_case body_cases[] = {
    /* -- HELLO request -- */
    /* the reference HELLO */
    {"hello ok", DK_HELLO, PS_T_HELLO, 0, 0, "52504c44 0001 0001", PS_OK},
    /* magic off by one */
    {"hello magic+1", DK_HELLO, PS_T_HELLO, 0, 0, "52504c45 0001 0001",
        PS_ERR_MAGIC},
    /* magic byte-swapped */
    {"hello magic LE", DK_HELLO, PS_T_HELLO, 0, 0, "444c5052 0001 0001",
        PS_ERR_MAGIC},
    /* min > max */
    {"hello min>max", DK_HELLO, PS_T_HELLO, 0, 0, "52504c44 0002 0001",
        PS_ERR_VERSION},
    /* min 0 */
    {"hello min 0", DK_HELLO, PS_T_HELLO, 0, 0, "52504c44 0000 0001",
        PS_ERR_VERSION},
    /* 0..0 */
    {"hello 0..0", DK_HELLO, PS_T_HELLO, 0, 0, "52504c44 0000 0000",
        PS_ERR_VERSION},
    /* a future-only range decodes; pick_version refuses it */
    {"hello 2..5", DK_HELLO, PS_T_HELLO, 0, 0, "52504c44 0002 0005", PS_OK},
    /* HELLO body on an answer frame */
    {"hello as answer", DK_HELLO, PS_T_HELLO, R, 0, "52504c44 0001 0001",
        PS_ERR_FLAGS},
    /* HELLO body under another type */
    {"hello typed GET", DK_HELLO, PS_T_GET, 0, 1, "52504c44 0001 0001",
        PS_ERR_TYPE},

    /* -- HELLO answer -- */
    {"hello_ok ok", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0001 0040 00004000"
        " 0001 'd'",
        PS_OK},
    /* version 0 */
    {"hello_ok v0", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0000 0001 00000010"
        " 0001 'd'",
        PS_ERR_VERSION},
    /* max_inflight 0 */
    {"hello_ok inflight 0", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0001 0000 00000010"
        " 0001 'd'",
        PS_ERR_RANGE},
    /* max_inflight 65 */
    {"hello_ok inflight 65", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0001 0041 00000010"
        " 0001 'd'",
        PS_ERR_RANGE},
    /* max_frame 4095: below PS_MIN_ANSWER_FRAME (version 3) */
    {"hello_ok frame 4095", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0001 0001 00000fff"
        " 0001 'd'",
        PS_ERR_RANGE},
    /* version 2's floor, 1024, is no longer enough */
    {"hello_ok frame 1024", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0001 0001 00000400"
        " 0001 'd'",
        PS_ERR_RANGE},
    {"hello_ok frame 4096", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0001 0001 00001000"
        " 0001 'd'",
        PS_OK},
    /* max_frame 16385 */
    {"hello_ok frame 16385", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0001 0001 00004001"
        " 0001 'd'",
        PS_ERR_RANGE},
    /* max_frame 0xffffffff */
    {"hello_ok frame max", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0001 0001 ffffffff"
        " 0001 'd'",
        PS_ERR_RANGE},
    /* an error flag makes it not a hello_ok */
    {"hello_ok with ERROR", DK_HELLO_OK, PS_T_HELLO, R | ER, 0,
        "0001 0001 00000010"
        " 0001 'd'",
        PS_ERR_FLAGS},
    /* request flags */
    {"hello_ok no REPLY", DK_HELLO_OK, PS_T_HELLO, 0, 0,
        "0001 0001 00000010"
        " 0001 'd'",
        PS_ERR_FLAGS},
    /* MORE on HELLO */
    {"hello_ok MORE", DK_HELLO_OK, PS_T_HELLO, R | MO, 0,
        "0001 0001 00000010"
        " 0001 'd'",
        PS_ERR_FLAGS},

    /* -- empty requests -- */
    /* a body byte on HEALTH, METRICS */
    {"HEALTH 1 byte", DK_EMPTY, PS_T_HEALTH, 0, 1, "00", PS_ERR_TRAILING},
    {"METRICS 1 byte", DK_EMPTY, PS_T_METRICS, 0, 1, "00", PS_ERR_TRAILING},
    /* LIST and PIN_LIST have a body since version 3 */
    {"empty typed LIST", DK_EMPTY, PS_T_LIST, 0, 1, "", PS_ERR_TYPE},
    {"empty typed PIN_LIST", DK_EMPTY, PS_T_PIN_LIST, 0, 1, "", PS_ERR_TYPE},
    /* GET is not an empty request */
    {"empty typed GET", DK_EMPTY, PS_T_GET, 0, 1, "", PS_ERR_TYPE},
    /* HELLO is not an empty request */
    {"empty typed HELLO", DK_EMPTY, PS_T_HELLO, 0, 0, "", PS_ERR_TYPE},
    /* GOAWAY is never a request */
    {"empty typed GOAWAY", DK_EMPTY, PS_T_GOAWAY, 0, 0, "", PS_ERR_TYPE},
    /* unknown types */
    {"empty typed 0", DK_EMPTY, 0, 0, 1, "", PS_ERR_TYPE},
    {"empty typed 12", DK_EMPTY, 12, 0, 1, "", PS_ERR_TYPE},
    {"empty typed 0xffff", DK_EMPTY, 0xffff, 0, 1, "", PS_ERR_TYPE},
    /* flags on a request */
    {"HEALTH with REPLY", DK_EMPTY, PS_T_HEALTH, R, 1, "", PS_ERR_FLAGS},
    {"HEALTH with 0x8000", DK_EMPTY, PS_T_HEALTH, 0x8000, 1, "", PS_ERR_FLAGS},

    /* -- GET / PIN_GET request -- */
    /* name length 254, only 3 bytes present: length checked first */
    {"GET len 254", DK_NAME_REQ, PS_T_GET, 0, 1,
        "0001 'n' "
        "00fe 'abc'",
        PS_ERR_STR_LEN},
    /* name length 0xffff */
    {"GET len 0xffff", DK_NAME_REQ, PS_T_GET, 0, 1,
        "0001 'n' "
        "ffff 'abc'",
        PS_ERR_STR_LEN},
    /* empty name */
    {"GET empty", DK_NAME_REQ, PS_T_GET, 0, 1,
        "0001 'n' "
        "0000",
        PS_ERR_CHARSET},
    /* upper case */
    {"GET upper", DK_NAME_REQ, PS_T_GET, 0, 1,
        "0001 'n' "
        "0003 'Web'",
        PS_ERR_CHARSET},
    /* underscore */
    {"GET a_b", DK_NAME_REQ, PS_T_GET, 0, 1,
        "0001 'n' "
        "0003 'a_b'",
        PS_ERR_CHARSET},
    /* leading dash */
    {"GET -a", DK_NAME_REQ, PS_T_GET, 0, 1,
        "0001 'n' "
        "0002 '-a'",
        PS_ERR_CHARSET},
    /* trailing dash */
    {"GET a-", DK_NAME_REQ, PS_T_GET, 0, 1,
        "0001 'n' "
        "0002 'a-'",
        PS_ERR_CHARSET},
    /* empty label */
    {"GET a..b", DK_NAME_REQ, PS_T_GET, 0, 1,
        "0001 'n' "
        "0004 'a..b'",
        PS_ERR_CHARSET},
    /* leading dot */
    {"GET .a", DK_NAME_REQ, PS_T_GET, 0, 1,
        "0001 'n' "
        "0002 '.a'",
        PS_ERR_CHARSET},
    /* NUL inside: would truncate a C string check */
    {"GET a NUL b", DK_NAME_REQ, PS_T_GET, 0, 1,
        "0001 'n' "
        "0003 61 00 62",
        PS_ERR_CHARSET},
    /* a path, if anyone forgot who builds URLs */
    {"PIN_GET ../x", DK_NAME_REQ, PS_T_PIN_GET, 0, 1,
        "0001 'n' "
        "0004 '../x'",
        PS_ERR_CHARSET},
    /* length 2, one byte */
    {"GET short", DK_NAME_REQ, PS_T_GET, 0, 1,
        "0001 'n' "
        "0002 'a'",
        PS_ERR_TRUNCATED},
    /* SCALE is not a name request */
    {"name typed SCALE", DK_NAME_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a'",
        PS_ERR_TYPE},
    /* answer flags */
    {"GET with REPLY", DK_NAME_REQ, PS_T_GET, R, 1,
        "0001 'n' "
        "0001 'a'",
        PS_ERR_FLAGS},

    /* -- SCALE / PIN_PUT / PIN_DELETE request -- */
    {"SCALE ok", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 7fffffff 0001 'x' 00 00000000 0000",
        PS_OK},
    /* replicas 2^31 */
    {"SCALE 0x80000000", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 80000000 0001 'x' 00 00000000 0000",
        PS_ERR_RANGE},
    /* replicas -1 as u32 */
    {"SCALE 0xffffffff", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' ffffffff 0001 'x' 00 00000000 0000",
        PS_ERR_RANGE},
    /* PIN_PUT replicas 2^31 */
    {"PIN_PUT 0x80000000", DK_WRITE_REQ, PS_T_PIN_PUT, 0, 1,
        "0001 'n' "
        "0001 'a' 80000000 0001 'x' 00 00000000 0000",
        PS_ERR_RANGE},
    /* empty identity */
    {"SCALE identity empty", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0000 00 00000000 0000",
        PS_ERR_CHARSET},
    /* control byte in identity */
    {"SCALE identity 0x01", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0003 61 01 62 00 00000000 0000",
        PS_ERR_CHARSET},
    /* newline in identity: log injection */
    {"SCALE identity LF", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0003 61 0a 62 00 00000000 0000",
        PS_ERR_CHARSET},
    /* NUL in identity */
    {"SCALE identity NUL", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0003 61 00 62 00 00000000 0000",
        PS_ERR_CHARSET},
    /* DEL in identity */
    {"SCALE identity DEL", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 7f 00 00000000 0000",
        PS_ERR_CHARSET},
    /* identity length 257 */
    {"SCALE identity 257", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0101 'x' 00 00000000 0000",
        PS_ERR_STR_LEN},
    /* bad name before a good rest */
    {"SCALE name upper", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'A' 00000001 0001 'x' 00 00000000 0000",
        PS_ERR_CHARSET},
    /* PIN_DELETE has no replicas: a SCALE-shaped body is misread */
    {"PIN_DELETE with replicas", DK_WRITE_REQ, PS_T_PIN_DELETE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x'",
        PS_ERR_CHARSET},
    /* PIN_DELETE proper */
    {"PIN_DELETE ok", DK_WRITE_REQ, PS_T_PIN_DELETE, 0, 1,
        "0001 'n' "
        "0001 'a' 0001 'x' 00",
        PS_OK},
    /* GET is not a write */
    {"write typed GET", DK_WRITE_REQ, PS_T_GET, 0, 1,
        "0001 'n' "
        "0001 'a'",
        PS_ERR_TYPE},
    /* answer flags */
    {"SCALE with REPLY", DK_WRITE_REQ, PS_T_SCALE, R, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 00 00000000 0000",
        PS_ERR_FLAGS},

    /* -- GET answer (deployment record) -- */
    {"dep ok", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN DEP_RV, PS_OK},
    /* desired 2^31 */
    {"dep desired", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME
        "80000000 00000002 00000003 00000004 00000005 " DEP_GEN2 DEP_PIN DEP_RV,
        PS_ERR_RANGE},
    /* replicas 2^31 */
    {"dep replicas", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME
        "00000001 80000000 00000003 00000004 00000005 " DEP_GEN2 DEP_PIN DEP_RV,
        PS_ERR_RANGE},
    /* ready 2^31 */
    {"dep ready", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME
        "00000001 00000002 80000000 00000004 00000005 " DEP_GEN2 DEP_PIN DEP_RV,
        PS_ERR_RANGE},
    /* available 0xffffffff */
    {"dep available", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME
        "00000001 00000002 00000003 ffffffff 00000005 " DEP_GEN2 DEP_PIN DEP_RV,
        PS_ERR_RANGE},
    /* updated 2^31 */
    {"dep updated", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME
        "00000001 00000002 00000003 00000004 80000000 " DEP_GEN2 DEP_PIN DEP_RV,
        PS_ERR_RANGE},
    /* generation 2^63 */
    {"dep generation 2^63", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 "8000000000000000 0000000000000006 " DEP_PIN DEP_RV,
        PS_ERR_RANGE},
    /* observed generation 2^64-1 */
    {"dep observed max", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 "0000000000000007 ffffffffffffffff " DEP_PIN DEP_RV,
        PS_ERR_RANGE},
    /* generation 2^63-1 is fine */
    {"dep generation max", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 "7fffffffffffffff 7fffffffffffffff " DEP_PIN DEP_RV,
        PS_OK},
    /* pinned 2 */
    {"dep pinned 2", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 "02 00000003 " DEP_RV, PS_ERR_RANGE},
    /* pinned 0xff */
    {"dep pinned 0xff", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 "ff 00000000 " DEP_RV, PS_ERR_RANGE},
    /* not pinned but a pin count */
    {"dep unpinned count", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 "00 00000001 " DEP_RV, PS_ERR_RANGE},
    /* pinned with 0 replicas is a real pin */
    {"dep pinned to 0", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 "01 00000000 " DEP_RV, PS_OK},
    /* pin count 2^31 */
    {"dep pin 2^31", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 "01 80000000 " DEP_RV, PS_ERR_RANGE},
    /* namespace with a dot */
    {"dep namespace dot", DK_DEPLOYMENT, PS_T_GET, R, 1,
        "0001 'a' 0003 'b.c' " DEP_CNT5 DEP_GEN2 DEP_PIN DEP_RV,
        PS_ERR_CHARSET},
    /* namespace length 64 */
    {"dep namespace 64", DK_DEPLOYMENT, PS_T_GET, R, 1,
        "0001 'a' 0040 'b' " DEP_CNT5 DEP_GEN2 DEP_PIN DEP_RV, PS_ERR_STR_LEN},
    /* empty namespace */
    {"dep namespace empty", DK_DEPLOYMENT, PS_T_GET, R, 1,
        "0001 'a' 0000 " DEP_CNT5 DEP_GEN2 DEP_PIN DEP_RV, PS_ERR_CHARSET},
    /* space in rv */
    {"dep rv space", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN "0003 '1 2'", PS_ERR_CHARSET},
    /* empty rv */
    {"dep rv empty", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN "0000", PS_ERR_CHARSET},
    /* rv length 65 */
    {"dep rv 65", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN "0041 'x'", PS_ERR_STR_LEN},
    /* an error frame is not a record */
    {"dep with ERROR", DK_DEPLOYMENT, PS_T_GET, R | ER, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN DEP_RV, PS_ERR_FLAGS},
    /* MORE on GET */
    {"dep with MORE", DK_DEPLOYMENT, PS_T_GET, R | MO, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN DEP_RV, PS_ERR_FLAGS},
    /* request flags */
    {"dep no REPLY", DK_DEPLOYMENT, PS_T_GET, 0, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN DEP_RV, PS_ERR_FLAGS},
    /* unknown flag */
    {"dep flag 0x10", DK_DEPLOYMENT, PS_T_GET, R | 0x10, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN DEP_RV, PS_ERR_FLAGS},
    /* typed PIN_GET */
    {"dep typed PIN_GET", DK_DEPLOYMENT, PS_T_PIN_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN DEP_RV, PS_ERR_TYPE},

    /* -- SCALE answer -- */
    {"scale_ok ok", DK_SCALE_OK, PS_T_SCALE, R, 1,
        "0001 'n' "
        "0001 'a' 00000002 00000001 01 0001 '9' 00",
        PS_OK},
    /* synced 2 */
    {"scale_ok synced 2", DK_SCALE_OK, PS_T_SCALE, R, 1,
        "0001 'n' "
        "0001 'a' 00000002 00000001 02 0001 '9' 00",
        PS_ERR_RANGE},
    /* replicas 2^31 */
    {"scale_ok replicas", DK_SCALE_OK, PS_T_SCALE, R, 1,
        "0001 'n' "
        "0001 'a' 80000000 00000001 01 0001 '9' 00",
        PS_ERR_RANGE},
    /* previous 2^31 */
    {"scale_ok previous", DK_SCALE_OK, PS_T_SCALE, R, 1,
        "0001 'n' "
        "0001 'a' 00000002 80000000 01 0001 '9' 00",
        PS_ERR_RANGE},
    /* control byte in rv */
    {"scale_ok rv 0x1b", DK_SCALE_OK, PS_T_SCALE, R, 1,
        "0001 'n' "
        "0001 'a' 00000002 00000001 01 0001 1b 00",
        PS_ERR_CHARSET},
    /* typed GET */
    {"scale_ok typed GET", DK_SCALE_OK, PS_T_GET, R, 1,
        "0001 'n' "
        "0001 'a' 00000002 00000001 01 0001 '9' 00",
        PS_ERR_TYPE},

    /* -- HEALTH answer -- */
    {"health ok", DK_HEALTH, PS_T_HEALTH, R, 1,
        "07 00010000 ffffffff ffffffff 0002 'ok'"
        " 01 0001 'd' 07 00000000 00000000 00000000",
        PS_OK},
    /* state bit 3 */
    {"health bit 3", DK_HEALTH, PS_T_HEALTH, R, 1,
        "08 00000000 00000000 00000000 0000"
        " 01 0001 'd' 08 00000000 00000000 00000000",
        PS_ERR_RANGE},
    /* state bit 7 */
    {"health bit 7", DK_HEALTH, PS_T_HEALTH, R, 1,
        "81 00000000 00000000 00000000 0000"
        " 01 0001 'd' 81 00000000 00000000 00000000",
        PS_ERR_RANGE},
    /* cache_size one over PS_MAX_LIST_TOTAL */
    {"health cache 65537", DK_HEALTH, PS_T_HEALTH, R, 1,
        "07 00010001 00000000 00000000 0000"
        " 01 0001 'd' 07 00000000 00000000 00000000",
        PS_ERR_RANGE},
    /* newline in message */
    {"health message LF", DK_HEALTH, PS_T_HEALTH, R, 1,
        "07 00000000 00000000 00000000 0002 61 0a"
        " 01 0001 'd' 07 00000000 00000000 00000000",
        PS_ERR_CHARSET},
    /* message length 513 */
    {"health message 513", DK_HEALTH, PS_T_HEALTH, R, 1,
        "07 00000000 00000000 00000000 0201 'x'"
        " 01 0001 'd' 07 00000000 00000000 00000000",
        PS_ERR_STR_LEN},
    /* error flag */
    {"health with ERROR", DK_HEALTH, PS_T_HEALTH, R | ER, 1,
        "07 00000000 00000000 00000000 0000"
        " 01 0001 'd' 07 00000000 00000000 00000000",
        PS_ERR_FLAGS},

    /* -- PIN answers -- */
    {"pin ok", DK_PIN, PS_T_PIN_PUT, R, 1,
        "0001 'n' "
        "0001 'a' 7fffffff 00 00",
        PS_OK},
    /* replicas 2^31 */
    {"pin 2^31", DK_PIN, PS_T_PIN_GET, R, 1,
        "0001 'n' "
        "0001 'a' 80000000 00 00",
        PS_ERR_RANGE},
    /* bad name */
    {"pin name _", DK_PIN, PS_T_PIN_DELETE, R, 1,
        "0001 'n' "
        "0001 '_' 00000001 00 00",
        PS_ERR_CHARSET},
    /* typed GET */
    {"pin typed GET", DK_PIN, PS_T_GET, R, 1,
        "0001 'n' "
        "0001 'a' 00000001 00 00",
        PS_ERR_TYPE},
    /* typed PIN_LIST */
    {"pin typed PIN_LIST", DK_PIN, PS_T_PIN_LIST, R, 1,
        "0001 'n' "
        "0001 'a' 00000001 00 00",
        PS_ERR_TYPE},

    /* -- error answers and GOAWAY -- */
    {"error ok", DK_ERROR, PS_T_GET, R | ER, 1,
        "0001 00000e10 0000 00000000 0000", PS_OK},
    /* code 0 */
    {"error code 0", DK_ERROR, PS_T_GET, R | ER, 1,
        "0000 00000000 0000 00000000 0000", PS_ERR_RANGE},
    /* code 13 */
    {"error code 17", DK_ERROR, PS_T_GET, R | ER, 1,
        "0011 00000000 0000 00000000 0000", PS_ERR_RANGE},
    /* code 0xffff */
    {"error code 0xffff", DK_ERROR, PS_T_GET, R | ER, 1,
        "ffff 00000000 0000 00000000 0000", PS_ERR_RANGE},
    /* retry_after 3601 */
    {"error retry 3601", DK_ERROR, PS_T_GET, R | ER, 1,
        "0004 00000e11 0000 00000000 0000", PS_ERR_RANGE},
    /* retry_after 0xffffffff */
    {"error retry max", DK_ERROR, PS_T_GET, R | ER, 1,
        "0004 ffffffff 0000 00000000 0000", PS_ERR_RANGE},
    /* NUL in the message */
    {"error message NUL", DK_ERROR, PS_T_GET, R | ER, 1,
        "0007 00000000 0003 61 00 62 00000000 0000", PS_ERR_CHARSET},
    /* message length 0xffff */
    {"error message 0xffff", DK_ERROR, PS_T_GET, R | ER, 1,
        "0007 00000000 ffff 00000000 0000", PS_ERR_STR_LEN},
    /* success flags on an error body */
    {"error no ERROR flag", DK_ERROR, PS_T_GET, R, 1,
        "0001 00000000 0000 00000000 0000", PS_ERR_FLAGS},
    /* ERROR with MORE */
    {"error with MORE", DK_ERROR, PS_T_LIST, R | ER | MO, 1,
        "0001 00000000 0000 00000000 0000", PS_ERR_FLAGS},
    /* ERROR without REPLY */
    {"error no REPLY", DK_ERROR, PS_T_GET, ER, 1,
        "0001 00000000 0000 00000000 0000", PS_ERR_FLAGS},
    /* GOAWAY proper */
    {"goaway ok", DK_ERROR, PS_T_GOAWAY, ER, 0,
        "0008 00000000 0000 00000000 0000", PS_OK},
    /* GOAWAY with REPLY */
    {"goaway with REPLY", DK_ERROR, PS_T_GOAWAY, R | ER, 0,
        "0008 00000000 0000 00000000 0000", PS_ERR_FLAGS},
    /* unknown types */
    {"error typed 0", DK_ERROR, 0, R | ER, 1,
        "0001 00000000 0000 00000000 0000", PS_ERR_TYPE},
    {"error typed 12", DK_ERROR, 12, R | ER, 1,
        "0001 00000000 0000 00000000 0000", PS_ERR_TYPE},

    /* -- LIST / PIN_LIST answers -- */
    {"list ok", DK_LIST_NAMES, PS_T_LIST, R | MO, 1,
        "0002 0001 'n' 0001 'a' 0001 'n' 0001 'b'", PS_OK},
    /* no count at all */
    {"list empty body", DK_LIST_NAMES, PS_T_LIST, R, 1, "", PS_ERR_TRUNCATED},
    /* count 1, no items */
    {"list count 1 of 0", DK_LIST_NAMES, PS_T_LIST, R, 1, "0001",
        PS_ERR_TRUNCATED},
    /* count 2, one item */
    {"list count 2 of 1", DK_LIST_NAMES, PS_T_LIST, R, 1,
        "0002 0001 'n' 0001 'a'", PS_ERR_TRUNCATED},
    /* count 0xffff, one item */
    {"list count 0xffff", DK_LIST_NAMES, PS_T_LIST, R, 1,
        "ffff 0001 'n' 0001 'a'", PS_ERR_TRUNCATED},
    /* count 1, two items */
    {"list count 1 of 2", DK_LIST_NAMES, PS_T_LIST, R, 1,
        "0001 0001 'n' 0001 'a' 0001 'n' 0001 'b'", PS_ERR_TRAILING},
    /* count 0 then a byte */
    {"list count 0 + byte", DK_LIST_NAMES, PS_T_LIST, R, 1, "0000 00",
        PS_ERR_TRAILING},
    /* a bad name in the middle */
    {"list bad name", DK_LIST_NAMES, PS_T_LIST, R, 1,
        "0002 0001 'n' 0001 'a' 0001 'n' 0001 'B'", PS_ERR_CHARSET},
    /* name length 254 */
    {"list name 254", DK_LIST_NAMES, PS_T_LIST, R, 1, "0001 0001 'n' 00fe 'a'",
        PS_ERR_STR_LEN},
    /* error frame is not a list */
    {"list with ERROR", DK_LIST_NAMES, PS_T_LIST, R | ER, 1, "0000",
        PS_ERR_FLAGS},
    /* request flags */
    {"list no REPLY", DK_LIST_NAMES, PS_T_LIST, MO, 1, "0000", PS_ERR_FLAGS},
    /* names read from a PIN_LIST */
    {"names from PIN_LIST", DK_LIST_NAMES, PS_T_PIN_LIST, R, 1,
        "0001 0001 'n' 0001 'a' 00000001", PS_ERR_TYPE},
    /* typed GET */
    {"list typed GET", DK_LIST_NAMES, PS_T_GET, R, 1, "0000", PS_ERR_TYPE},
    {"pins ok", DK_LIST_PINS, PS_T_PIN_LIST, R, 1,
        "0002 0001 'n' 0001 'a' 00000000 00 0001 'n' 0001 'b' 7fffffff 03",
        PS_OK},
    /* pin replicas 2^31 */
    {"pins 2^31", DK_LIST_PINS, PS_T_PIN_LIST, R, 1,
        "0001 0001 'n' 0001 'a' 80000000", PS_ERR_RANGE},
    /* count 1, a name without replicas */
    {"pins no replicas", DK_LIST_PINS, PS_T_PIN_LIST, R, 1,
        "0001 0001 'n' 0001 'a'", PS_ERR_TRUNCATED},
    /* pins read from a LIST */
    {"pins from LIST", DK_LIST_PINS, PS_T_LIST, R, 1, "0001 0001 'n' 0001 'a'",
        PS_ERR_TYPE},

    /* -- METRICS answers -- */
    {"metrics ok", DK_METRICS, PS_T_METRICS, R | MO, 1, "'a 1' 09 0a", PS_OK},
    /* NUL byte */
    {"metrics NUL", DK_METRICS, PS_T_METRICS, R, 1, "'a' 00", PS_ERR_CHARSET},
    /* carriage return */
    {"metrics CR", DK_METRICS, PS_T_METRICS, R, 1, "'a' 0d 0a", PS_ERR_CHARSET},
    /* DEL */
    {"metrics DEL", DK_METRICS, PS_T_METRICS, R, 1, "7f", PS_ERR_CHARSET},
    /* high byte */
    {"metrics 0xc3", DK_METRICS, PS_T_METRICS, R, 1, "c3 a9", PS_ERR_CHARSET},
    /* error flag */
    {"metrics with ERROR", DK_METRICS, PS_T_METRICS, R | ER, 1, "'a'",
        PS_ERR_FLAGS},
    /* typed LIST */
    {"metrics typed LIST", DK_METRICS, PS_T_LIST, R, 1, "'a'", PS_ERR_TYPE},
    /* ==== version 2 (issue #14): every new field and range rule ==== */
    /* -- write conditions -- */
    {"v2 SCALE all conditions", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 0b 7fffffff 0002 '42'",
        PS_OK},
    {"v2 PIN_PUT every flag", DK_WRITE_REQ, PS_T_PIN_PUT, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 0f 00000000 0000",
        PS_OK},
    /* unknown flag bits */
    {"v2 SCALE flag 0x10", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 10 00000000 0000",
        PS_ERR_RANGE},
    {"v2 PIN_PUT flag 0x80", DK_WRITE_REQ, PS_T_PIN_PUT, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 80 00000000 0000",
        PS_ERR_RANGE},
    /* SUSPEND is a pin's */
    {"v2 SCALE SUSPEND", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 04 00000000 0000",
        PS_ERR_RANGE},
    /* an expected count without PS_W_EXPECTED */
    {"v2 SCALE expected without flag", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 00 00000001 0000",
        PS_ERR_RANGE},
    {"v2 PIN_PUT expected without flag", DK_WRITE_REQ, PS_T_PIN_PUT, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 03 7fffffff 0000",
        PS_ERR_RANGE},
    /* expected count 2^31, 2^32-1 */
    {"v2 SCALE expected 2^31", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 08 80000000 0000",
        PS_ERR_RANGE},
    {"v2 SCALE expected 2^32-1", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 08 ffffffff 0000",
        PS_ERR_RANGE},
    /* expected 0 with the flag is a real condition */
    {"v2 SCALE expected 0", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 08 00000000 0000",
        PS_OK},
    /* If-Match: length 65, a space, DEL, a NUL */
    {"v2 SCALE if_match 65", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 00 00000000 0041 'x'",
        PS_ERR_STR_LEN},
    {"v2 SCALE if_match space", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 00 00000000 0003 '1 2'",
        PS_ERR_CHARSET},
    {"v2 PIN_PUT if_match DEL", DK_WRITE_REQ, PS_T_PIN_PUT, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 00 00000000 0001 7f",
        PS_ERR_CHARSET},
    {"v2 PIN_PUT if_match NUL", DK_WRITE_REQ, PS_T_PIN_PUT, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x' 00 00000000 0002 31 00",
        PS_ERR_CHARSET},
    /* a version-1 body: the conditions are missing */
    {"v2 SCALE v1 body", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'n' "
        "0001 'a' 00000001 0001 'x'",
        PS_ERR_TRUNCATED},
    {"v2 PIN_DELETE v1 body", DK_WRITE_REQ, PS_T_PIN_DELETE, 0, 1,
        "0001 'n' "
        "0001 'a' 0001 'x'",
        PS_ERR_TRUNCATED},
    /* PIN_DELETE: DRY_RUN alone; no expected or If-Match on the wire */
    {"v2 PIN_DELETE dry run", DK_WRITE_REQ, PS_T_PIN_DELETE, 0, 1,
        "0001 'n' "
        "0001 'a' 0001 'x' 01",
        PS_OK},
    {"v2 PIN_DELETE FORCE", DK_WRITE_REQ, PS_T_PIN_DELETE, 0, 1,
        "0001 'n' "
        "0001 'a' 0001 'x' 02",
        PS_ERR_RANGE},
    {"v2 PIN_DELETE SUSPEND", DK_WRITE_REQ, PS_T_PIN_DELETE, 0, 1,
        "0001 'n' "
        "0001 'a' 0001 'x' 04",
        PS_ERR_RANGE},
    {"v2 PIN_DELETE EXPECTED", DK_WRITE_REQ, PS_T_PIN_DELETE, 0, 1,
        "0001 'n' "
        "0001 'a' 0001 'x' 08",
        PS_ERR_RANGE},
    {"v2 PIN_DELETE with SCALE's tail", DK_WRITE_REQ, PS_T_PIN_DELETE, 0, 1,
        "0001 'n' "
        "0001 'a' 0001 'x' 01 00000000 0000",
        PS_ERR_TRAILING},

    /* -- deployment record -- */
    {"v2 dep every extra", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 03 07 00000002 00000009 0003 'hpa'",
        PS_OK},
    /* pin_state above PS_PIN_STATE_MAX */
    {"v2 dep pin_state 4", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 04 00 00000000 00000000 0000",
        PS_ERR_RANGE},
    {"v2 dep pin_state 0xff", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' ff 00 00000000 00000000 0000",
        PS_ERR_RANGE},
    /* a pin state without a pin */
    {"v2 dep unpinned suspended", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2
        "00 00000000 0002 '42' 01 00 00000000 00000000 0000",
        PS_ERR_RANGE},
    /* unknown bounds bit */
    {"v2 dep bounds 0x08", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 00 08 00000000 00000000 0000",
        PS_ERR_RANGE},
    /* a count without its bit */
    {"v2 dep min without bit", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 00 02 00000001 00000005 0000",
        PS_ERR_RANGE},
    {"v2 dep max without bit", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 00 01 00000001 00000005 0000",
        PS_ERR_RANGE},
    /* min > max with both set; equal is fine; one set is never compared */
    {"v2 dep min > max", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 00 03 00000006 00000005 0000",
        PS_ERR_RANGE},
    {"v2 dep min == max", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 00 03 00000005 00000005 0000",
        PS_OK},
    {"v2 dep min alone", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 00 01 7fffffff 00000000 0000",
        PS_OK},
    {"v2 dep invalid alone", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 00 04 00000000 00000000 0000",
        PS_OK},
    /* counts 2^31 */
    {"v2 dep min 2^31", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 00 01 80000000 00000000 0000",
        PS_ERR_RANGE},
    {"v2 dep max 2^31", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 00 02 00000000 80000000 0000",
        PS_ERR_RANGE},
    /* the HPA's name: a DNS-1123 subdomain or empty */
    {"v2 dep autoscaler upper", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 00 00 00000000 00000000 0001 'A'",
        PS_ERR_CHARSET},
    {"v2 dep autoscaler 254", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 00 00 00000000 00000000 00fe 'a'",
        PS_ERR_STR_LEN},
    {"v2 dep autoscaler dot end", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN
        "0002 '42' 00 00 00000000 00000000 0002 'a.'",
        PS_ERR_CHARSET},
    /* a version-1 record */
    {"v2 dep v1 record", DK_DEPLOYMENT, PS_T_GET, R, 1,
        DEP_NAME DEP_CNT5 DEP_GEN2 DEP_PIN "0002 '42'", PS_ERR_TRUNCATED},

    /* -- SCALE answer: dry_run -- */
    {"v2 scale_ok dry run", DK_SCALE_OK, PS_T_SCALE, R, 1,
        "0001 'n' "
        "0001 'a' 00000002 00000001 00 0001 '9' 01",
        PS_OK},
    {"v2 scale_ok dry_run 2", DK_SCALE_OK, PS_T_SCALE, R, 1,
        "0001 'n' "
        "0001 'a' 00000002 00000001 00 0001 '9' 02",
        PS_ERR_RANGE},
    {"v2 scale_ok v1 body", DK_SCALE_OK, PS_T_SCALE, R, 1,
        "0001 'n' "
        "0001 'a' 00000002 00000001 00 0001 '9'",
        PS_ERR_TRUNCATED},

    /* -- pin answer: state, dry_run -- */
    {"v2 pin autoscaled dry run", DK_PIN, PS_T_PIN_PUT, R, 1,
        "0001 'n' "
        "0001 'a' 00000001 03 01",
        PS_OK},
    {"v2 pin state 4", DK_PIN, PS_T_PIN_GET, R, 1,
        "0001 'n' "
        "0001 'a' 00000001 04 00",
        PS_ERR_RANGE},
    {"v2 pin dry_run 2", DK_PIN, PS_T_PIN_DELETE, R, 1,
        "0001 'n' "
        "0001 'a' 00000001 00 02",
        PS_ERR_RANGE},
    {"v2 pin v1 body", DK_PIN, PS_T_PIN_GET, R, 1,
        "0001 'n' "
        "0001 'a' 00000001",
        PS_ERR_TRUNCATED},
    {"v2 pins state 4", DK_LIST_PINS, PS_T_PIN_LIST, R, 1,
        "0001 0001 'n' 0001 'a' 00000001 04", PS_ERR_RANGE},
    {"v2 pins v1 item", DK_LIST_PINS, PS_T_PIN_LIST, R, 1,
        "0001 0001 'n' 0001 'a' 00000001", PS_ERR_TRUNCATED},

    /* -- error answer: current, ref -- */
    {"v2 error expected", DK_ERROR, PS_T_SCALE, R | ER, 1,
        "000e 00000000 0000 7fffffff 0000", PS_OK},
    {"v2 error stale", DK_ERROR, PS_T_SCALE, R | ER, 1,
        "000d 00000000 0000 00000000 0005 '48213'", PS_OK},
    {"v2 error out of bounds", DK_ERROR, PS_T_PIN_PUT, R | ER, 1,
        "0010 00000000 0000 00000000 0000", PS_OK},
    {"v2 error current 2^31", DK_ERROR, PS_T_SCALE, R | ER, 1,
        "000e 00000000 0000 80000000 0000", PS_ERR_RANGE},
    /* the ref: visible ASCII, 0..253 */
    {"v2 error ref space", DK_ERROR, PS_T_SCALE, R | ER, 1,
        "000f 00000000 0000 00000000 0003 'a b'", PS_ERR_CHARSET},
    {"v2 error ref LF", DK_ERROR, PS_T_SCALE, R | ER, 1,
        "000f 00000000 0000 00000000 0002 61 0a", PS_ERR_CHARSET},
    {"v2 error ref 0x80", DK_ERROR, PS_T_SCALE, R | ER, 1,
        "000d 00000000 0000 00000000 0001 80", PS_ERR_CHARSET},
    {"v2 error ref 254", DK_ERROR, PS_T_SCALE, R | ER, 1,
        "000d 00000000 0000 00000000 00fe 'a'", PS_ERR_STR_LEN},
    {"v2 error v1 body", DK_ERROR, PS_T_GET, R | ER, 1, "0001 00000000 0000",
        PS_ERR_TRUNCATED},

    /* ==== version 3 (issue #15): the namespace in every message ==== */
    /* -- HELLO answer: the core's default namespace -- */
    {"v3 hello_ok ns 63", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0003 0040 00004000 003f " NS63_WIRE, PS_OK},
    {"v3 hello_ok ns empty", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0003 0001 00001000 0000", PS_ERR_CHARSET},
    {"v3 hello_ok ns upper", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0003 0001 00001000 0001 'A'", PS_ERR_CHARSET},
    {"v3 hello_ok ns dot", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0003 0001 00001000 0003 'a.b'", PS_ERR_CHARSET},
    {"v3 hello_ok ns 64", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0003 0001 00001000 0040 'a'", PS_ERR_STR_LEN},
    {"v3 hello_ok v2 body", DK_HELLO_OK, PS_T_HELLO, R, 0, "0003 0001 00001000",
        PS_ERR_TRUNCATED},
    {"v3 hello_ok ns + byte", DK_HELLO_OK, PS_T_HELLO, R, 0,
        "0003 0001 00001000 0001 'd' 00", PS_ERR_TRAILING},

    /* -- LIST / PIN_LIST request: a namespace or "" -- */
    {"v3 LIST all", DK_NS_REQ, PS_T_LIST, 0, 1, "0000", PS_OK},
    {"v3 LIST ns", DK_NS_REQ, PS_T_LIST, 0, 1, "0004 'prod'", PS_OK},
    {"v3 PIN_LIST ns 63", DK_NS_REQ, PS_T_PIN_LIST, 0, 1, "003f " NS63_WIRE,
        PS_OK},
    {"v3 PIN_LIST all", DK_NS_REQ, PS_T_PIN_LIST, 0, 1, "0000", PS_OK},
    /* a version-2 (empty) body */
    {"v3 LIST v2 body", DK_NS_REQ, PS_T_LIST, 0, 1, "", PS_ERR_TRUNCATED},
    {"v3 LIST ns 64", DK_NS_REQ, PS_T_LIST, 0, 1, "0040 'a'", PS_ERR_STR_LEN},
    {"v3 LIST ns 0xffff", DK_NS_REQ, PS_T_LIST, 0, 1, "ffff 'a'",
        PS_ERR_STR_LEN},
    {"v3 LIST ns upper", DK_NS_REQ, PS_T_LIST, 0, 1, "0004 'Prod'",
        PS_ERR_CHARSET},
    {"v3 LIST ns dot", DK_NS_REQ, PS_T_LIST, 0, 1, "0003 'a.b'",
        PS_ERR_CHARSET},
    {"v3 LIST ns -a", DK_NS_REQ, PS_T_LIST, 0, 1, "0002 '-a'", PS_ERR_CHARSET},
    {"v3 LIST ns a-", DK_NS_REQ, PS_T_LIST, 0, 1, "0002 'a-'", PS_ERR_CHARSET},
    {"v3 PIN_LIST ns NUL", DK_NS_REQ, PS_T_PIN_LIST, 0, 1, "0003 61 00 62",
        PS_ERR_CHARSET},
    {"v3 PIN_LIST ns underscore", DK_NS_REQ, PS_T_PIN_LIST, 0, 1, "0003 'a_b'",
        PS_ERR_CHARSET},
    {"v3 LIST ns short", DK_NS_REQ, PS_T_LIST, 0, 1, "0002 'a'",
        PS_ERR_TRUNCATED},
    {"v3 LIST ns + byte", DK_NS_REQ, PS_T_LIST, 0, 1, "0001 'a' 00",
        PS_ERR_TRAILING},
    {"v3 LIST all + byte", DK_NS_REQ, PS_T_LIST, 0, 1, "0000 00",
        PS_ERR_TRAILING},
    /* only LIST and PIN_LIST carry this body */
    {"v3 ns_req typed GET", DK_NS_REQ, PS_T_GET, 0, 1, "0000", PS_ERR_TYPE},
    {"v3 ns_req typed PIN_GET", DK_NS_REQ, PS_T_PIN_GET, 0, 1, "0001 'a'",
        PS_ERR_TYPE},
    {"v3 ns_req typed HEALTH", DK_NS_REQ, PS_T_HEALTH, 0, 1, "0000",
        PS_ERR_TYPE},
    {"v3 ns_req typed METRICS", DK_NS_REQ, PS_T_METRICS, 0, 1, "0000",
        PS_ERR_TYPE},
    {"v3 ns_req typed SCALE", DK_NS_REQ, PS_T_SCALE, 0, 1, "0000", PS_ERR_TYPE},
    {"v3 ns_req typed HELLO", DK_NS_REQ, PS_T_HELLO, 0, 0, "0000", PS_ERR_TYPE},
    {"v3 ns_req typed GOAWAY", DK_NS_REQ, PS_T_GOAWAY, 0, 0, "0000",
        PS_ERR_TYPE},
    {"v3 ns_req typed 12", DK_NS_REQ, 12, 0, 1, "0000", PS_ERR_TYPE},
    {"v3 LIST with REPLY", DK_NS_REQ, PS_T_LIST, R, 1, "0000", PS_ERR_FLAGS},
    {"v3 PIN_LIST with MORE", DK_NS_REQ, PS_T_PIN_LIST, MO, 1, "0000",
        PS_ERR_FLAGS},

    /* -- GET / PIN_GET: namespace, name -- */
    {"v3 GET ns 63", DK_NAME_REQ, PS_T_GET, 0, 1, "003f " NS63_WIRE " 0001 'a'",
        PS_OK},
    {"v3 GET ns empty", DK_NAME_REQ, PS_T_GET, 0, 1, "0000 0001 'a'",
        PS_ERR_CHARSET},
    {"v3 GET ns dot", DK_NAME_REQ, PS_T_GET, 0, 1, "0003 'a.b' 0001 'a'",
        PS_ERR_CHARSET},
    {"v3 PIN_GET ns upper", DK_NAME_REQ, PS_T_PIN_GET, 0, 1,
        "0001 'N' 0001 'a'", PS_ERR_CHARSET},
    {"v3 GET ns 64", DK_NAME_REQ, PS_T_GET, 0, 1, "0040 'a' 0001 'a'",
        PS_ERR_STR_LEN},
    /* a version-2 body: the name is read as the namespace */
    {"v3 GET v2 body", DK_NAME_REQ, PS_T_GET, 0, 1, "0001 'a'",
        PS_ERR_TRUNCATED},
    {"v3 GET v2 dotted body", DK_NAME_REQ, PS_T_GET, 0, 1, "0003 'a.b'",
        PS_ERR_CHARSET},

    /* -- writes: namespace first -- */
    {"v3 SCALE ns 63", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "003f " NS63_WIRE " 0001 'a' 00000001 0001 'x'" W2, PS_OK},
    {"v3 SCALE ns empty", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0000 0001 'a' 00000001 0001 'x'" W2, PS_ERR_CHARSET},
    {"v3 PIN_PUT ns upper", DK_WRITE_REQ, PS_T_PIN_PUT, 0, 1,
        "0001 'X' 0001 'a' 00000001 0001 'x'" W2, PS_ERR_CHARSET},
    {"v3 PIN_DELETE ns dot", DK_WRITE_REQ, PS_T_PIN_DELETE, 0, 1,
        "0003 'a.b' 0001 'a' 0001 'x' 00", PS_ERR_CHARSET},
    {"v3 PIN_DELETE ns 64", DK_WRITE_REQ, PS_T_PIN_DELETE, 0, 1,
        "0040 'a' 0001 'a' 0001 'x' 00", PS_ERR_STR_LEN},
    {"v3 SCALE v2 body", DK_WRITE_REQ, PS_T_SCALE, 0, 1,
        "0001 'a' 00000001 0001 'x'" W2, PS_ERR_CHARSET},
    {"v3 PIN_DELETE v2 body", DK_WRITE_REQ, PS_T_PIN_DELETE, 0, 1,
        "0001 'a' 0001 'x' 00", PS_ERR_TRUNCATED},

    /* -- SCALE answer, pin answer: namespace first -- */
    {"v3 scale_ok ns 63", DK_SCALE_OK, PS_T_SCALE, R, 1,
        "003f " NS63_WIRE " 0001 'a' 00000002 00000001 01 0001 '9' 00", PS_OK},
    {"v3 scale_ok ns empty", DK_SCALE_OK, PS_T_SCALE, R, 1,
        "0000 0001 'a' 00000002 00000001 01 0001 '9' 00", PS_ERR_CHARSET},
    {"v3 scale_ok ns dot", DK_SCALE_OK, PS_T_SCALE, R, 1,
        "0003 'a.b' 0001 'a' 00000002 00000001 01 0001 '9' 00", PS_ERR_CHARSET},
    {"v3 scale_ok v2 body", DK_SCALE_OK, PS_T_SCALE, R, 1,
        "0001 'a' 00000002 00000001 01 0001 '9' 00", PS_ERR_CHARSET},
    {"v3 pin ns 63", DK_PIN, PS_T_PIN_GET, R, 1,
        "003f " NS63_WIRE " 0001 'a' 00000001 00 00", PS_OK},
    {"v3 pin ns empty", DK_PIN, PS_T_PIN_GET, R, 1,
        "0000 0001 'a' 00000001 00 00", PS_ERR_CHARSET},
    {"v3 pin ns 64", DK_PIN, PS_T_PIN_PUT, R, 1,
        "0040 'a' 0001 'a' 00000001 00 00", PS_ERR_STR_LEN},
    {"v3 pin v2 body", DK_PIN, PS_T_PIN_DELETE, R, 1, "0001 'a' 00000001 00 00",
        PS_ERR_CHARSET},

    /* -- LIST items (namespace, name), PIN_LIST items -- */
    {"v3 list two namespaces", DK_LIST_NAMES, PS_T_LIST, R, 1,
        "0002 0001 'a' 0001 'x' 003f " NS63_WIRE " 0001 'x'", PS_OK},
    {"v3 list ns empty", DK_LIST_NAMES, PS_T_LIST, R, 1, "0001 0000 0001 'a'",
        PS_ERR_CHARSET},
    {"v3 list ns dot", DK_LIST_NAMES, PS_T_LIST, R, 1,
        "0001 0003 'a.b' 0001 'a'", PS_ERR_CHARSET},
    {"v3 list ns 64", DK_LIST_NAMES, PS_T_LIST, R, 1, "0001 0040 'a'",
        PS_ERR_STR_LEN},
    {"v3 list second ns bad", DK_LIST_NAMES, PS_T_LIST, R, 1,
        "0002 0001 'n' 0001 'a' 0001 'N' 0001 'b'", PS_ERR_CHARSET},
    {"v3 list v2 items", DK_LIST_NAMES, PS_T_LIST, R, 1,
        "0002 0001 'a' 0001 'b'", PS_ERR_TRUNCATED},
    {"v3 list ns without name", DK_LIST_NAMES, PS_T_LIST, R, 1, "0001 0001 'n'",
        PS_ERR_TRUNCATED},
    {"v3 pins ns 63", DK_LIST_PINS, PS_T_PIN_LIST, R, 1,
        "0001 003f " NS63_WIRE " 0001 'a' 00000001 00", PS_OK},
    {"v3 pins ns empty", DK_LIST_PINS, PS_T_PIN_LIST, R, 1,
        "0001 0000 0001 'a' 00000001 00", PS_ERR_CHARSET},
    {"v3 pins ns upper", DK_LIST_PINS, PS_T_PIN_LIST, R, 1,
        "0001 0001 'Q' 0001 'a' 00000001 00", PS_ERR_CHARSET},
    {"v3 pins v2 item", DK_LIST_PINS, PS_T_PIN_LIST, R, 1,
        "0001 0001 'a' 00000001 00", PS_ERR_CHARSET},

    /* -- HEALTH: per-namespace rows -- */
    {"v3 health two", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("03") " 02 " HE_NS("0001 'a'", "03") HE_NS("0001 'b'", "00"),
        PS_OK},
    /* the others may be unhealthy: only ns[0] is the top-level state */
    {"v3 health other down", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 02 " HE_NS("0001 'a'", "07") HE_NS("0001 'b'", "00"),
        PS_OK},
    {"v3 health ns_count 0", DK_HEALTH, PS_T_HEALTH, R, 1, HE_TOP("07") " 00",
        PS_ERR_RANGE},
    {"v3 health ns_count 33", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 21 " HE_NS("0001 'a'", "07"), PS_ERR_RANGE},
    {"v3 health ns_count 0xff", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " ff", PS_ERR_RANGE},
    {"v3 health duplicate", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 02 " HE_NS("0001 'a'", "07") HE_NS("0001 'a'", "07"),
        PS_ERR_RANGE},
    {"v3 health duplicate later", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 03 " HE_NS("0001 'a'", "07") HE_NS("0001 'b'", "07")
            HE_NS("0001 'b'", "07"),
        PS_ERR_RANGE},
    {"v3 health ns[0] state differs", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 01 " HE_NS("0001 'a'", "03"), PS_ERR_RANGE},
    {"v3 health ns[1] is the top state", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 02 " HE_NS("0001 'a'", "00") HE_NS("0001 'b'", "07"),
        PS_ERR_RANGE},
    {"v3 health ns bit 3", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 02 " HE_NS("0001 'a'", "07") HE_NS("0001 'b'", "08"),
        PS_ERR_RANGE},
    {"v3 health ns bit 7", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 02 " HE_NS("0001 'a'", "07") HE_NS("0001 'b'", "87"),
        PS_ERR_RANGE},
    {"v3 health ns cache 65537", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 02 " HE_NS(
            "0001 'a'", "07") "0001 'b' 07 00010001 00000000 00000000",
        PS_ERR_RANGE},
    {"v3 health ns cache 65536", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 02 " HE_NS(
            "0001 'a'", "07") "0001 'b' 07 00010000 ffffffff ffffffff",
        PS_OK},
    {"v3 health ns empty", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 01 " HE_NS("0000", "07"), PS_ERR_CHARSET},
    {"v3 health ns dot", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 01 " HE_NS("0003 'a.b'", "07"), PS_ERR_CHARSET},
    {"v3 health ns 64", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 01 0040 'a'", PS_ERR_STR_LEN},
    {"v3 health count 2 of 1", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 02 " HE_NS("0001 'a'", "07"), PS_ERR_TRUNCATED},
    {"v3 health count 1 of 2", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 01 " HE_NS("0001 'a'", "07") HE_NS("0001 'b'", "07"),
        PS_ERR_TRAILING},
    {"v3 health v2 body", DK_HEALTH, PS_T_HEALTH, R, 1, HE_TOP("07"),
        PS_ERR_TRUNCATED},
    {"v3 health row cut", DK_HEALTH, PS_T_HEALTH, R, 1,
        HE_TOP("07") " 01 0001 'a' 07 00000000 00000000", PS_ERR_TRUNCATED},
};

static void
test_ps_codec_decoders_hostile_body_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]);
	     i++) {
		const struct body_case *c = &body_cases[i];
		uint8_t body[PS_MAX_FRAME];
		size_t n = wire(c->body, body, sizeof(body));
		struct ps_frame f =
		    frame_exact(c->type, c->flags, c->id, body, n);
		int rc = decode_as(c->dk, &f);

		if (rc != c->want)
			fail_msg("%s: got %d (%s), want %d (%s)", c->what, rc,
			    ps_strerror(rc), c->want, ps_strerror(c->want));
		frame_free(&f);
	}
}

/* A failed string leaves an empty string behind, never stale bytes. */
static void
test_ps_codec_failed_decode_leaves_no_partial_string(void **state)
{
	uint8_t body[64];
	size_t n = wire("0001 'n' 0003 'Web'", body, sizeof(body));
	struct ps_frame f = frame_exact(PS_T_GET, 0, 1, body, n);
	struct ps_name_req m;
	struct ps_ns_req nr;

	(void)state;
	memset(&m, 'Q', sizeof(m));
	assert_int_equal(ps_codec_decode_name_req(&f, &m), PS_ERR_CHARSET);
	assert_string_equal(m.namespace, "n");
	assert_string_equal(m.name, "");
	frame_free(&f);

	/* the namespace itself, on a name request and on a LIST */
	n = wire("0003 'N-s' 0001 'a'", body, sizeof(body));
	f = frame_exact(PS_T_PIN_GET, 0, 1, body, n);
	memset(&m, 'Q', sizeof(m));
	assert_int_equal(ps_codec_decode_name_req(&f, &m), PS_ERR_CHARSET);
	assert_string_equal(m.namespace, "");
	frame_free(&f);
	n = wire("0003 'a.b'", body, sizeof(body));
	f = frame_exact(PS_T_LIST, 0, 1, body, n);
	memset(&nr, 'Q', sizeof(nr));
	assert_int_equal(ps_codec_decode_ns_req(&f, &nr), PS_ERR_CHARSET);
	assert_string_equal(nr.namespace, "");
	frame_free(&f);
}

/* PROTOCOL.md §8, byte for byte (with the frame length computed). */
static void
test_ps_codec_matches_protocol_example(void **state)
{
	struct ps_name_req nr = {"default", "frontend"};
	struct ps_ns_req lr = {""};
	struct ps_deployment dep;
	uint8_t want[256], out[PS_MAX_FRAME];
	size_t n, len;

	(void)state;
	n = wire("00000023 0003 0000 00000007 00000000 0007 'default' "
	         "0008 'frontend'",
	    want, sizeof(want));
	assert_int_equal(
	    ps_codec_encode_name_req(out, sizeof(out), PS_T_GET, 7, &nr, &len),
	    PS_OK);
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);

	memset(&dep, 0, sizeof(dep));
	strcpy(dep.name, "frontend");
	strcpy(dep.namespace, "default");
	dep.desired = dep.replicas = dep.ready = dep.available = 3;
	dep.updated = 3;
	dep.generation = dep.observed_generation = 2;
	strcpy(dep.resource_version, "48213");
	n = wire("0000005f 0003 0001 00000007 00000000 "
	         "0008 'frontend' 0007 'default' 00000003 00000003 00000003 "
	         "00000003 00000003 0000000000000002 0000000000000002 00 "
	         "00000000 0005 '48213' 00 00 00000000 00000000 0000",
	    want, sizeof(want));
	assert_int_equal(
	    ps_codec_encode_deployment(out, sizeof(out), 7, &dep, &len), PS_OK);
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);

	/* version 3: LIST of every namespace, and of one */
	n = wire(
	    "00000012 0002 0000 00000008 00000000 0000", want, sizeof(want));
	assert_int_equal(
	    ps_codec_encode_ns_req(out, sizeof(out), PS_T_LIST, 8, &lr, &len),
	    PS_OK);
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);
	strcpy(lr.namespace, "prod");
	n = wire("00000016 0006 0000 00000009 00000000 0004 'prod'", want,
	    sizeof(want));
	assert_int_equal(ps_codec_encode_ns_req(
	                     out, sizeof(out), PS_T_PIN_LIST, 9, &lr, &len),
	    PS_OK);
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);

	/* HELLO's answer names the default namespace */
	{
		struct ps_hello_ok ho = {3, 64, 16384, "default"};

		n = wire("00000021 0001 0001 00000000 00000000 "
		         "0003 0040 00004000 0007 'default'",
		    want, sizeof(want));
		assert_int_equal(
		    ps_codec_encode_hello_ok(out, sizeof(out), &ho, &len),
		    PS_OK);
		assert_int_equal(len, n);
		assert_memory_equal(out, want, n);
	}

	/* a LIST answer item: namespace, then name */
	{
		struct ps_list_enc e;

		n = wire("0000002f 0002 0001 00000008 00000000 0002 "
		         "0007 'default' 0008 'frontend' 0004 'prod' 0002 'db'",
		    want, sizeof(want));
		ps_codec_list_begin(&e, out, sizeof(out), PS_T_LIST, 8);
		assert_int_equal(
		    ps_codec_list_add_name(&e, "default", "frontend"), PS_OK);
		assert_int_equal(
		    ps_codec_list_add_name(&e, "prod", "db"), PS_OK);
		assert_int_equal(ps_codec_list_finish(&e, 0, &len), PS_OK);
		assert_int_equal(len, n);
		assert_memory_equal(out, want, n);
	}

	/* a HEALTH answer with two namespaces */
	{
		struct ps_health he;

		memset(&he, 0, sizeof(he));
		he.state = PS_HEALTH_ALL;
		he.cache_size = 5;
		he.last_event_age_ms = 10;
		he.api_ok_age_ms = PS_AGE_NEVER;
		he.ns_count = 2;
		strcpy(he.ns[0].namespace, "default");
		he.ns[0].state = PS_HEALTH_ALL;
		he.ns[0].cache_size = 3;
		he.ns[0].last_event_age_ms = 10;
		he.ns[0].api_ok_age_ms = PS_AGE_NEVER;
		strcpy(he.ns[1].namespace, "prod");
		he.ns[1].state = PS_HEALTH_API_OK;
		he.ns[1].cache_size = 2;
		he.ns[1].last_event_age_ms = PS_AGE_NEVER;
		he.ns[1].api_ok_age_ms = 1;
		n = wire("00000049 0005 0001 00000004 00000000 "
		         "07 00000005 0000000a ffffffff 0000 02 "
		         "0007 'default' 07 00000003 0000000a ffffffff "
		         "0004 'prod' 01 00000002 ffffffff 00000001",
		    want, sizeof(want));
		assert_int_equal(
		    ps_codec_encode_health(out, sizeof(out), 4, &he, &len),
		    PS_OK);
		assert_int_equal(len, n);
		assert_memory_equal(out, want, n);
	}
}

static void
test_ps_codec_pick_version(void **state)
{
	static const struct {
		uint16_t min, max;
		int want;
	} cases[] = {
	    {3, 3, PS_OK},                    /* exactly ours */
	    {1, 0xffff, PS_OK},               /* a wide range */
	    {1, 3, PS_OK},                    /* 1..3: we pick 3 */
	    {2, 3, PS_OK},                    /* 2..3: we pick 3 */
	    {3, 9, PS_OK},                    /* 3 and later ones */
	    {1, 1, PS_ERR_VERSION},           /* version 1 is no more */
	    {2, 2, PS_ERR_VERSION},           /* nor is version 2 */
	    {1, 2, PS_ERR_VERSION},           /* below, a range */
	    {4, 5, PS_ERR_VERSION},           /* no overlap, above */
	    {4, 4, PS_ERR_VERSION},           /* just above */
	    {0xffff, 0xffff, PS_ERR_VERSION}, /* far above */
	    {0, 0, PS_ERR_VERSION},           /* below */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ps_hello h = {cases[i].min, cases[i].max};
		uint16_t v = 77;

		assert_int_equal(ps_codec_pick_version(&h, &v), cases[i].want);
		assert_int_equal(v, cases[i].want == PS_OK ? PS_VERSION : 77);
	}
}

/* ---- encoders refuse what a peer would reject -------------------------- */

static void
test_ps_codec_encoders_refuse_invalid_input(void **state)
{
	uint8_t out[PS_MAX_FRAME];
	struct ps_hello h;
	struct ps_hello_ok ho;
	struct ps_name_req nr;
	struct ps_write_req wr;
	struct ps_deployment dep;
	struct ps_scale_ok so;
	struct ps_health he;
	struct ps_pin pin;
	struct ps_error er;
	size_t len;

#define REFUSE(call, want)                                                 \
	do {                                                               \
		len = 999;                                                 \
		int rc_ = (call);                                          \
		if (rc_ != (want) || len != 0)                             \
			fail_msg("line %d: got %d (%s) len %zu, want %d",  \
			    __LINE__, rc_, ps_strerror(rc_), len, (want)); \
	} while (0)

	(void)state;
	/* HELLO: min 0, min > max */
	h = (struct ps_hello){0, 1};
	REFUSE(
	    ps_codec_encode_hello(out, sizeof(out), &h, &len), PS_ERR_VERSION);
	h = (struct ps_hello){3, 2};
	REFUSE(
	    ps_codec_encode_hello(out, sizeof(out), &h, &len), PS_ERR_VERSION);

	/* HELLO answer: version 0, inflight 0 / 65, frame 15 / 16385 */
	ho = (struct ps_hello_ok){0, 1, 16, "a"};
	REFUSE(ps_codec_encode_hello_ok(out, sizeof(out), &ho, &len),
	    PS_ERR_RANGE);
	ho = (struct ps_hello_ok){1, 0, 16, "a"};
	REFUSE(ps_codec_encode_hello_ok(out, sizeof(out), &ho, &len),
	    PS_ERR_RANGE);
	ho = (struct ps_hello_ok){1, 65, 16, "a"};
	REFUSE(ps_codec_encode_hello_ok(out, sizeof(out), &ho, &len),
	    PS_ERR_RANGE);
	ho = (struct ps_hello_ok){1, 1, 15, "a"};
	REFUSE(ps_codec_encode_hello_ok(out, sizeof(out), &ho, &len),
	    PS_ERR_RANGE);
	ho = (struct ps_hello_ok){1, 1, 16385, "a"};
	REFUSE(ps_codec_encode_hello_ok(out, sizeof(out), &ho, &len),
	    PS_ERR_RANGE);
	ho = (struct ps_hello_ok){1, 1, PS_MIN_ANSWER_FRAME - 1, "a"};
	REFUSE(ps_codec_encode_hello_ok(out, sizeof(out), &ho, &len),
	    PS_ERR_RANGE);
	/* version 3: the default namespace, required and a DNS label */
	ho = (struct ps_hello_ok){3, 1, PS_MIN_ANSWER_FRAME, ""};
	REFUSE(ps_codec_encode_hello_ok(out, sizeof(out), &ho, &len),
	    PS_ERR_CHARSET);
	ho = (struct ps_hello_ok){3, 1, PS_MIN_ANSWER_FRAME, "a.b"};
	REFUSE(ps_codec_encode_hello_ok(out, sizeof(out), &ho, &len),
	    PS_ERR_CHARSET);
	ho = (struct ps_hello_ok){3, 1, PS_MIN_ANSWER_FRAME, "Default"};
	REFUSE(ps_codec_encode_hello_ok(out, sizeof(out), &ho, &len),
	    PS_ERR_CHARSET);
	memset(ho.namespace, 'a', sizeof(ho.namespace)); /* 64, no NUL */
	REFUSE(ps_codec_encode_hello_ok(out, sizeof(out), &ho, &len),
	    PS_ERR_STR_LEN);

	/* empty requests: wrong type, id 0 */
	REFUSE(ps_codec_encode_empty(out, sizeof(out), PS_T_GET, 1, &len),
	    PS_ERR_TYPE);
	REFUSE(ps_codec_encode_empty(out, sizeof(out), PS_T_GOAWAY, 1, &len),
	    PS_ERR_TYPE);
	REFUSE(
	    ps_codec_encode_empty(out, sizeof(out), 0, 1, &len), PS_ERR_TYPE);
	REFUSE(ps_codec_encode_empty(out, sizeof(out), 0xffff, 1, &len),
	    PS_ERR_TYPE);
	REFUSE(ps_codec_encode_empty(out, sizeof(out), PS_T_HEALTH, 0, &len),
	    PS_ERR_ID);
	/* LIST and PIN_LIST have a body since version 3 */
	REFUSE(ps_codec_encode_empty(out, sizeof(out), PS_T_LIST, 1, &len),
	    PS_ERR_TYPE);
	REFUSE(ps_codec_encode_empty(out, sizeof(out), PS_T_PIN_LIST, 1, &len),
	    PS_ERR_TYPE);

	/* LIST / PIN_LIST requests: bad namespaces, wrong type, id 0 */
	{
		static const char *const bad_ns[] = {
		    "A", "a.b", "a_b", "-a", "a-", "a b", "a/b", "..", "\x7f"};
		struct ps_ns_req lr;

		for (size_t i = 0; i < sizeof(bad_ns) / sizeof(bad_ns[0]);
		     i++) {
			snprintf(lr.namespace, sizeof(lr.namespace), "%s",
			    bad_ns[i]);
			REFUSE(ps_codec_encode_ns_req(
			           out, sizeof(out), PS_T_LIST, 1, &lr, &len),
			    PS_ERR_CHARSET);
			REFUSE(ps_codec_encode_ns_req(out, sizeof(out),
			           PS_T_PIN_LIST, 1, &lr, &len),
			    PS_ERR_CHARSET);
		}
		memset(lr.namespace, 'a', sizeof(lr.namespace)); /* 64 */
		REFUSE(ps_codec_encode_ns_req(
		           out, sizeof(out), PS_T_LIST, 1, &lr, &len),
		    PS_ERR_STR_LEN);
		strcpy(lr.namespace, "a");
		static const uint16_t not_ns[] = {0, PS_T_HELLO, PS_T_GET,
		    PS_T_SCALE, PS_T_HEALTH, PS_T_PIN_GET, PS_T_PIN_PUT,
		    PS_T_PIN_DELETE, PS_T_METRICS, PS_T_GOAWAY, 12, 0xffff};
		for (size_t i = 0; i < sizeof(not_ns) / sizeof(not_ns[0]); i++)
			REFUSE(ps_codec_encode_ns_req(
			           out, sizeof(out), not_ns[i], 1, &lr, &len),
			    PS_ERR_TYPE);
		REFUSE(ps_codec_encode_ns_req(
		           out, sizeof(out), PS_T_LIST, 0, &lr, &len),
		    PS_ERR_ID);
		lr.namespace[0] = '\0';
		REFUSE(ps_codec_encode_ns_req(
		           out, sizeof(out), PS_T_PIN_LIST, 0, &lr, &len),
		    PS_ERR_ID);
		assert_int_equal(ps_codec_encode_ns_req(out, sizeof(out),
		                     PS_T_PIN_LIST, 1, &lr, &len),
		    PS_OK);
		assert_int_equal(len, PS_HDR_LEN + 2);
	}

	/* name requests: bad names, wrong type, id 0 */
	static const char *const bad_names[] = {
	    "", "A", "a_b", "-a", "a-", "a..b", ".a", "a.", "a b", "a/b"};
	strcpy(nr.namespace, "ns");
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		snprintf(nr.name, sizeof(nr.name), "%s", bad_names[i]);
		REFUSE(ps_codec_encode_name_req(
		           out, sizeof(out), PS_T_GET, 1, &nr, &len),
		    PS_ERR_CHARSET);
	}
	memset(nr.name, 'a', sizeof(nr.name)); /* 254 bytes, no NUL */
	REFUSE(
	    ps_codec_encode_name_req(out, sizeof(out), PS_T_GET, 1, &nr, &len),
	    PS_ERR_STR_LEN);
	strcpy(nr.name, "a");
	REFUSE(ps_codec_encode_name_req(
	           out, sizeof(out), PS_T_SCALE, 1, &nr, &len),
	    PS_ERR_TYPE);
	REFUSE(
	    ps_codec_encode_name_req(out, sizeof(out), PS_T_GET, 0, &nr, &len),
	    PS_ERR_ID);
	/* version 3: the namespace is required on a name request */
	static const char *const bad_ns_names[] = {
	    "", "A", "a.b", "a_b", "-a", "a-", "a b"};
	for (size_t i = 0; i < sizeof(bad_ns_names) / sizeof(bad_ns_names[0]);
	     i++) {
		snprintf(
		    nr.namespace, sizeof(nr.namespace), "%s", bad_ns_names[i]);
		REFUSE(ps_codec_encode_name_req(
		           out, sizeof(out), PS_T_GET, 1, &nr, &len),
		    PS_ERR_CHARSET);
		REFUSE(ps_codec_encode_name_req(
		           out, sizeof(out), PS_T_PIN_GET, 1, &nr, &len),
		    PS_ERR_CHARSET);
	}
	memset(nr.namespace, 'a', sizeof(nr.namespace)); /* 64, no NUL */
	REFUSE(
	    ps_codec_encode_name_req(out, sizeof(out), PS_T_GET, 1, &nr, &len),
	    PS_ERR_STR_LEN);

	/* write requests */
	fill_write(&wr, "a", PS_MAX_REPLICAS + 1, "me");
	REFUSE(ps_codec_encode_write_req(
	           out, sizeof(out), PS_T_SCALE, 1, &wr, &len),
	    PS_ERR_RANGE);
	REFUSE(ps_codec_encode_write_req(
	           out, sizeof(out), PS_T_PIN_PUT, 1, &wr, &len),
	    PS_ERR_RANGE);
	fill_write(&wr, "a", 1, "");
	REFUSE(ps_codec_encode_write_req(
	           out, sizeof(out), PS_T_SCALE, 1, &wr, &len),
	    PS_ERR_CHARSET);
	fill_write(&wr, "a", 1, "x\ny");
	REFUSE(ps_codec_encode_write_req(
	           out, sizeof(out), PS_T_SCALE, 1, &wr, &len),
	    PS_ERR_CHARSET);
	fill_write(&wr, "a", 1, "x");
	memset(wr.identity, 'x', sizeof(wr.identity)); /* 257, no NUL */
	REFUSE(ps_codec_encode_write_req(
	           out, sizeof(out), PS_T_SCALE, 1, &wr, &len),
	    PS_ERR_STR_LEN);
	fill_write(&wr, "Upper", 1, "x");
	REFUSE(ps_codec_encode_write_req(
	           out, sizeof(out), PS_T_PIN_DELETE, 1, &wr, &len),
	    PS_ERR_CHARSET);
	/* version 3: the namespace is required on every write */
	fill_write(&wr, "a", 1, "x");
	wr.namespace[0] = '\0';
	REFUSE(ps_codec_encode_write_req(
	           out, sizeof(out), PS_T_SCALE, 1, &wr, &len),
	    PS_ERR_CHARSET);
	REFUSE(ps_codec_encode_write_req(
	           out, sizeof(out), PS_T_PIN_PUT, 1, &wr, &len),
	    PS_ERR_CHARSET);
	REFUSE(ps_codec_encode_write_req(
	           out, sizeof(out), PS_T_PIN_DELETE, 1, &wr, &len),
	    PS_ERR_CHARSET);
	strcpy(wr.namespace, "a.b");
	REFUSE(ps_codec_encode_write_req(
	           out, sizeof(out), PS_T_SCALE, 1, &wr, &len),
	    PS_ERR_CHARSET);
	memset(wr.namespace, 'a', sizeof(wr.namespace)); /* 64, no NUL */
	REFUSE(ps_codec_encode_write_req(
	           out, sizeof(out), PS_T_PIN_PUT, 1, &wr, &len),
	    PS_ERR_STR_LEN);
	fill_write(&wr, "a", 1, "x");
	REFUSE(
	    ps_codec_encode_write_req(out, sizeof(out), PS_T_GET, 1, &wr, &len),
	    PS_ERR_TYPE);
	REFUSE(ps_codec_encode_write_req(
	           out, sizeof(out), PS_T_SCALE, 0, &wr, &len),
	    PS_ERR_ID);

	/* deployment record: each range and string */
	fill_dep_min(&dep);
	dep.ready = PS_MAX_REPLICAS + 1;
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_RANGE);
	fill_dep_min(&dep);
	dep.generation = (uint64_t)INT64_MAX + 1;
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_RANGE);
	fill_dep_min(&dep);
	dep.observed_generation = UINT64_MAX;
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_RANGE);
	fill_dep_min(&dep);
	dep.pinned = 2;
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_RANGE);
	fill_dep_min(&dep);
	dep.pin_replicas = 1; /* pinned = 0 */
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_RANGE);
	fill_dep_min(&dep);
	strcpy(dep.namespace, "a.b");
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_CHARSET);
	fill_dep_min(&dep);
	strcpy(dep.resource_version, "1 2");
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_CHARSET);
	fill_dep_min(&dep);
	strcpy(dep.resource_version, "");
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_CHARSET);
	fill_dep_min(&dep);
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 0, &dep, &len),
	    PS_ERR_ID);

	/* SCALE answer */
	so = scale_ok_min;
	so.synced = 2;
	REFUSE(ps_codec_encode_scale_ok(out, sizeof(out), 1, &so, &len),
	    PS_ERR_RANGE);
	so = scale_ok_min;
	so.previous = 0x80000000u;
	REFUSE(ps_codec_encode_scale_ok(out, sizeof(out), 1, &so, &len),
	    PS_ERR_RANGE);
	so = scale_ok_min;
	so.namespace[0] = '\0';
	REFUSE(ps_codec_encode_scale_ok(out, sizeof(out), 1, &so, &len),
	    PS_ERR_CHARSET);
	strcpy(so.namespace, "A");
	REFUSE(ps_codec_encode_scale_ok(out, sizeof(out), 1, &so, &len),
	    PS_ERR_CHARSET);
	memset(so.namespace, 'a', sizeof(so.namespace));
	REFUSE(ps_codec_encode_scale_ok(out, sizeof(out), 1, &so, &len),
	    PS_ERR_STR_LEN);

	/* HEALTH answer */
	he = health_min;
	he.state = 0x08;
	REFUSE(ps_codec_encode_health(out, sizeof(out), 1, &he, &len),
	    PS_ERR_RANGE);
	he = health_min;
	he.cache_size = PS_MAX_LIST_TOTAL + 1;
	REFUSE(ps_codec_encode_health(out, sizeof(out), 1, &he, &len),
	    PS_ERR_RANGE);
	he = health_min;
	strcpy(he.message, "line\nbreak");
	REFUSE(ps_codec_encode_health(out, sizeof(out), 1, &he, &len),
	    PS_ERR_CHARSET);

	/* PIN answers */
	memset(&pin, 0, sizeof(pin));
	strcpy(pin.namespace, "a");
	strcpy(pin.name, "a");
	pin.replicas = 1;
	REFUSE(ps_codec_encode_pin(out, sizeof(out), PS_T_GET, 1, &pin, &len),
	    PS_ERR_TYPE);
	REFUSE(
	    ps_codec_encode_pin(out, sizeof(out), PS_T_PIN_LIST, 1, &pin, &len),
	    PS_ERR_TYPE);
	pin.replicas = PS_MAX_REPLICAS + 1;
	REFUSE(
	    ps_codec_encode_pin(out, sizeof(out), PS_T_PIN_GET, 1, &pin, &len),
	    PS_ERR_RANGE);
	pin.replicas = 1;
	pin.namespace[0] = '\0';
	REFUSE(
	    ps_codec_encode_pin(out, sizeof(out), PS_T_PIN_PUT, 1, &pin, &len),
	    PS_ERR_CHARSET);
	strcpy(pin.namespace, "a.b");
	REFUSE(ps_codec_encode_pin(
	           out, sizeof(out), PS_T_PIN_DELETE, 1, &pin, &len),
	    PS_ERR_CHARSET);
	memset(pin.namespace, 'a', sizeof(pin.namespace));
	REFUSE(
	    ps_codec_encode_pin(out, sizeof(out), PS_T_PIN_GET, 1, &pin, &len),
	    PS_ERR_STR_LEN);

	/* error answers */
	er = err_min;
	er.code = 0;
	REFUSE(ps_codec_encode_error(out, sizeof(out), PS_T_GET, 1, &er, &len),
	    PS_ERR_RANGE);
	er.code = PS_E_MAX + 1;
	REFUSE(ps_codec_encode_error(out, sizeof(out), PS_T_GET, 1, &er, &len),
	    PS_ERR_RANGE);
	er = err_min;
	er.retry_after = PS_MAX_RETRY_AFTER + 1;
	REFUSE(ps_codec_encode_error(out, sizeof(out), PS_T_GET, 1, &er, &len),
	    PS_ERR_RANGE);
	er = err_min;
	strcpy(er.message, "\x7f");
	REFUSE(ps_codec_encode_error(out, sizeof(out), PS_T_GET, 1, &er, &len),
	    PS_ERR_CHARSET);
	er = err_min;
	REFUSE(ps_codec_encode_error(out, sizeof(out), 0, 1, &er, &len),
	    PS_ERR_TYPE);
	REFUSE(ps_codec_encode_error(out, sizeof(out), 12, 1, &er, &len),
	    PS_ERR_TYPE);
	REFUSE(ps_codec_encode_error(out, sizeof(out), PS_T_GET, 0, &er, &len),
	    PS_ERR_ID);
	REFUSE(
	    ps_codec_encode_error(out, sizeof(out), PS_T_HELLO, 5, &er, &len),
	    PS_ERR_ID);

	/* METRICS: bad byte, more than one frame's worth */
	REFUSE(ps_codec_encode_metrics(out, sizeof(out), 1, 0, "a\0b", 3, &len),
	    PS_ERR_CHARSET);
	REFUSE(ps_codec_encode_metrics(out, sizeof(out), 1, 0, "a\rb", 3, &len),
	    PS_ERR_CHARSET);
	{
		char *big = malloc(PS_MAX_FRAME);

		assert_non_null(big);
		memset(big, 'm', PS_MAX_FRAME);
		REFUSE(ps_codec_encode_metrics(out, sizeof(out), 1, 0, big,
		           PS_MAX_FRAME - PS_HDR_LEN + 1, &len),
		    PS_ERR_NOSPACE);
		assert_int_equal(ps_codec_encode_metrics(out, sizeof(out), 1, 0,
		                     big, PS_MAX_FRAME - PS_HDR_LEN, &len),
		    PS_OK);
		assert_int_equal(len, PS_MAX_FRAME);
		free(big);
	}
	REFUSE(ps_codec_encode_metrics(out, sizeof(out), 0, 0, "a", 1, &len),
	    PS_ERR_ID);
#undef REFUSE
}

/* Version 2: the encoders refuse every condition or record a peer would. */
static void
test_ps_codec_v2_encoders_refuse_invalid_input(void **state)
{
	uint8_t out[PS_MAX_FRAME];
	struct ps_write_req wr;
	struct ps_deployment dep;
	struct ps_pin pin;
	struct ps_error er;
	struct ps_list_enc e;
	size_t len;

#define REFUSE(call, want)                                                 \
	do {                                                               \
		len = 999;                                                 \
		int rc_ = (call);                                          \
		if (rc_ != (want) || len != 0)                             \
			fail_msg("line %d: got %d (%s) len %zu, want %d",  \
			    __LINE__, rc_, ps_strerror(rc_), len, (want)); \
	} while (0)
#define WRITE(T) ps_codec_encode_write_req(out, sizeof(out), T, 1, &wr, &len)

	(void)state;
	/* unknown flag bits, on every write type */
	fill_write(&wr, "a", 1, "x");
	wr.flags = 0x10;
	REFUSE(WRITE(PS_T_SCALE), PS_ERR_RANGE);
	REFUSE(WRITE(PS_T_PIN_PUT), PS_ERR_RANGE);
	REFUSE(WRITE(PS_T_PIN_DELETE), PS_ERR_RANGE);
	/* SUSPEND on SCALE; fine on PIN_PUT */
	wr.flags = PS_W_SUSPEND;
	REFUSE(WRITE(PS_T_SCALE), PS_ERR_RANGE);
	assert_int_equal(WRITE(PS_T_PIN_PUT), PS_OK);
	/* PIN_DELETE: only DRY_RUN, and no If-Match */
	for (uint8_t fl = PS_W_FORCE; fl <= PS_W_EXPECTED; fl <<= 1) {
		wr.flags = fl;
		wr.expected = 0;
		REFUSE(WRITE(PS_T_PIN_DELETE), PS_ERR_RANGE);
	}
	fill_write(&wr, "a", 1, "x");
	wr.flags = PS_W_DRY_RUN;
	strcpy(wr.if_match, "1");
	REFUSE(WRITE(PS_T_PIN_DELETE), PS_ERR_RANGE);
	/* expected without its flag, and over PS_MAX_REPLICAS with it */
	fill_write(&wr, "a", 1, "x");
	wr.expected = 1;
	REFUSE(WRITE(PS_T_SCALE), PS_ERR_RANGE);
	wr.flags = PS_W_EXPECTED;
	wr.expected = PS_MAX_REPLICAS + 1;
	REFUSE(WRITE(PS_T_PIN_PUT), PS_ERR_RANGE);
	/* If-Match charset */
	fill_write(&wr, "a", 1, "x");
	strcpy(wr.if_match, "1 2");
	REFUSE(WRITE(PS_T_SCALE), PS_ERR_CHARSET);

	/* deployment record */
	fill_dep_min(&dep);
	dep.pin_state = PS_PIN_SUSPENDED; /* not pinned */
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_RANGE);
	fill_dep_min(&dep);
	dep.pinned = 1;
	dep.pin_state = PS_PIN_STATE_MAX + 1;
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_RANGE);
	fill_dep_min(&dep);
	dep.bounds = 0x08;
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_RANGE);
	fill_dep_min(&dep);
	dep.bounds = PS_B_MIN | PS_B_MAX;
	dep.min_replicas = 3;
	dep.max_replicas = 2;
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_RANGE);
	fill_dep_min(&dep);
	dep.max_replicas = 2; /* without PS_B_MAX */
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_RANGE);
	fill_dep_min(&dep);
	strcpy(dep.autoscaler, "Hpa");
	REFUSE(ps_codec_encode_deployment(out, sizeof(out), 1, &dep, &len),
	    PS_ERR_CHARSET);

	/* pin answer and list item */
	memset(&pin, 0, sizeof(pin));
	strcpy(pin.namespace, "a");
	strcpy(pin.name, "a");
	pin.state = PS_PIN_STATE_MAX + 1;
	REFUSE(
	    ps_codec_encode_pin(out, sizeof(out), PS_T_PIN_GET, 1, &pin, &len),
	    PS_ERR_RANGE);
	ps_codec_list_begin(&e, out, sizeof(out), PS_T_PIN_LIST, 1);
	assert_int_equal(ps_codec_list_add_pin(&e, &pin), PS_ERR_RANGE);
	pin.state = PS_PIN_ACTIVE;
	pin.dry_run = 1; /* a list item never says dry run */
	assert_int_equal(ps_codec_list_add_pin(&e, &pin), PS_ERR_RANGE);

	/* error: current over the range, ref charset and length */
	memset(&er, 0, sizeof(er));
	er.code = PS_E_EXPECTED;
	er.current = PS_MAX_REPLICAS + 1;
	REFUSE(
	    ps_codec_encode_error(out, sizeof(out), PS_T_SCALE, 1, &er, &len),
	    PS_ERR_RANGE);
	er.current = 0;
	er.code = PS_E_AUTOSCALED;
	strcpy(er.ref, "a b");
	REFUSE(
	    ps_codec_encode_error(out, sizeof(out), PS_T_SCALE, 1, &er, &len),
	    PS_ERR_CHARSET);
#undef WRITE
#undef REFUSE
}

/* List encoder: a refused item leaves the frame as it was. */
static void
test_ps_codec_list_encoder_refused_item_leaves_frame_intact(void **state)
{
	uint8_t out[PS_MAX_FRAME];
	struct ps_list_enc e;
	struct ps_pin p = {"ns", "ok", 1, PS_PIN_ACTIVE, 0};
	struct ps_list_dec d;
	struct ps_frame f;
	struct ps_reader *rd;
	char ns[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
	char long_name[PS_MAX_NAME + 2];
	char long_ns[PS_MAX_NAMESPACE + 2];
	size_t len;

	(void)state;
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	memset(long_ns, 'a', sizeof(long_ns) - 1);
	long_ns[sizeof(long_ns) - 1] = '\0';

	ps_codec_list_begin(&e, out, sizeof(out), PS_T_LIST, 1);
	assert_int_equal(ps_codec_list_add_name(&e, "ns", "first"), PS_OK);
	assert_int_equal(
	    ps_codec_list_add_name(&e, "ns", "Bad"), PS_ERR_CHARSET);
	assert_int_equal(ps_codec_list_add_name(&e, "ns", ""), PS_ERR_CHARSET);
	assert_int_equal(
	    ps_codec_list_add_name(&e, "ns", "a..b"), PS_ERR_CHARSET);
	assert_int_equal(
	    ps_codec_list_add_name(&e, "ns", long_name), PS_ERR_STR_LEN);
	/* version 3: the item's namespace, a DNS label, never "" */
	assert_int_equal(ps_codec_list_add_name(&e, "", "a"), PS_ERR_CHARSET);
	assert_int_equal(
	    ps_codec_list_add_name(&e, "a.b", "a"), PS_ERR_CHARSET);
	assert_int_equal(ps_codec_list_add_name(&e, "N", "a"), PS_ERR_CHARSET);
	assert_int_equal(
	    ps_codec_list_add_name(&e, long_ns, "a"), PS_ERR_STR_LEN);
	assert_int_equal(ps_codec_list_add_pin(&e, &p), PS_ERR_TYPE);
	assert_int_equal(ps_codec_list_add_name(&e, ns63, "second"), PS_OK);
	assert_int_equal(ps_codec_list_finish(&e, 0, &len), PS_OK);

	rd = read_bytewise(PS_DIR_ANSWER, out, len, &f);
	assert_int_equal(ps_codec_list_open(&f, &d), PS_OK);
	assert_int_equal(d.left, 2);
	assert_int_equal(ps_codec_list_next_name(&d, ns, name), 1);
	assert_string_equal(ns, "ns");
	assert_string_equal(name, "first");
	assert_int_equal(ps_codec_list_next_name(&d, ns, name), 1);
	assert_string_equal(ns, ns63);
	assert_string_equal(name, "second");
	assert_int_equal(ps_codec_list_next_name(&d, ns, name), 0);
	ps_reader_free(rd);

	ps_codec_list_begin(&e, out, sizeof(out), PS_T_PIN_LIST, 1);
	assert_int_equal(ps_codec_list_add_name(&e, "ns", "a"), PS_ERR_TYPE);
	p.replicas = PS_MAX_REPLICAS + 1;
	assert_int_equal(ps_codec_list_add_pin(&e, &p), PS_ERR_RANGE);
	strcpy(p.name, "-x");
	p.replicas = 1;
	assert_int_equal(ps_codec_list_add_pin(&e, &p), PS_ERR_CHARSET);
	strcpy(p.name, "x");
	p.namespace[0] = '\0';
	assert_int_equal(ps_codec_list_add_pin(&e, &p), PS_ERR_CHARSET);
	strcpy(p.namespace, "x_y");
	assert_int_equal(ps_codec_list_add_pin(&e, &p), PS_ERR_CHARSET);
	memcpy(p.namespace, long_ns, sizeof(p.namespace)); /* 64, no NUL */
	assert_int_equal(ps_codec_list_add_pin(&e, &p), PS_ERR_STR_LEN);
	assert_int_equal(ps_codec_list_finish(&e, 0, &len), PS_OK);
	assert_int_equal(len, PS_HDR_LEN + 2);

	/* a list of a type that has no list answer */
	ps_codec_list_begin(&e, out, sizeof(out), PS_T_GET, 1);
	assert_true(ps_codec_list_add_name(&e, "ns", "a") < 0);
	assert_int_equal(ps_codec_list_finish(&e, 0, &len), PS_ERR_TYPE);
	assert_int_equal(len, 0);
	ps_codec_list_begin(&e, out, sizeof(out), PS_T_METRICS, 1);
	assert_int_equal(ps_codec_list_finish(&e, 0, &len), PS_ERR_TYPE);
}

/* A frame capacity smaller than PS_MAX_FRAME (the peer's max_frame). */
static void
test_ps_codec_list_encoder_respects_small_capacity(void **state)
{
	uint8_t *out = malloc(PS_MIN_ANSWER_FRAME);
	struct ps_list_enc e;
	size_t len;
	int added = 0;

	(void)state;
	assert_non_null(out);
	ps_codec_list_begin(&e, out, PS_MIN_ANSWER_FRAME, PS_T_LIST, 1);
	/* each ("n", "nameNNNN") item is 2 + 1 + 2 + 8 bytes;
	 * 4096 - 18 = 4078 -> 313 fit */
	for (int i = 0; i < 1000; i++) {
		char name[16];

		snprintf(name, sizeof(name), "name%04d", i);
		if (ps_codec_list_add_name(&e, "n", name) == PS_ERR_NOSPACE)
			break;
		added++;
	}
	assert_int_equal(added, 313);
	assert_int_equal(ps_codec_list_finish(&e, 1, &len), PS_OK);
	assert_int_equal(len, 18 + 313 * 13);
	free(out);
}

/* An item too big for an empty frame: a sticky PS_ERR_FRAME_LEN, finish
 * included, so the "finish, begin, add again" loop cannot spin. */
static void
test_ps_codec_list_encoder_refuses_tiny_capacity(void **state)
{
	/* ("n", "abcd") is 2 + 1 + 2 + 4 bytes */
	uint8_t out[PS_HDR_LEN + 2 + 8];
	struct ps_list_enc e;
	size_t len = 1;

	(void)state;
	ps_codec_list_begin(&e, out, sizeof(out), PS_T_LIST, 1);
	assert_int_equal(
	    ps_codec_list_add_name(&e, "n", "abcd"), PS_ERR_FRAME_LEN);
	assert_int_equal(
	    ps_codec_list_add_name(&e, "n", "a"), PS_ERR_FRAME_LEN);
	assert_int_equal(ps_codec_list_finish(&e, 1, &len), PS_ERR_FRAME_LEN);
	assert_int_equal(len, 0);
	/* One byte more and the same item fits. */
	{
		uint8_t big[PS_HDR_LEN + 2 + 9];

		ps_codec_list_begin(&e, big, sizeof(big), PS_T_LIST, 1);
		assert_int_equal(
		    ps_codec_list_add_name(&e, "n", "abcd"), PS_OK);
		assert_int_equal(
		    ps_codec_list_add_name(&e, "n", "a"), PS_ERR_NOSPACE);
		assert_int_equal(ps_codec_list_finish(&e, 0, &len), PS_OK);
		assert_int_equal(len, sizeof(big));
	}
}

/* ---- multi-frame answers ----------------------------------------------- */

enum { NLIST = 10000 };

static char *
list_name(size_t i)
{
	static char buf[PS_MAX_NAME + 1];

	/* sorted, unique, 253 bytes: a 5-digit index then a fixed tail */
	snprintf(buf, sizeof(buf), "%05zu", i);
	memset(buf + 5, 'n', PS_MAX_NAME - 5);
	buf[PS_MAX_NAME - 1] = 'z';
	buf[PS_MAX_NAME] = '\0';
	return buf;
}

/* The namespace of item i: 63 bytes, one of four, in sorted order (the
 * items are sorted by namespace, then name). */
static char *
list_ns(size_t i)
{
	static char buf[PS_MAX_NAMESPACE + 1];

	memset(buf, 'm', PS_MAX_NAMESPACE);
	buf[0] = (char)('a' + i * 4 / NLIST);
	buf[PS_MAX_NAMESPACE - 1] = '9';
	buf[PS_MAX_NAMESPACE] = '\0';
	return buf;
}

struct mstream {
	uint8_t *bytes;
	size_t len, cap;
	size_t frames;
};

static void
mstream_add(struct mstream *s, const uint8_t *frame, size_t len)
{
	assert_true(len <= PS_MAX_FRAME);
	assert_true(s->cap - s->len >= len);
	memcpy(s->bytes + s->len, frame, len);
	s->len += len;
	s->frames++;
}

/* Encodes NLIST names (or pins) across as many frames as they need. */
static void
encode_big_list(struct mstream *s, uint16_t type, uint32_t id)
{
	uint8_t frame[PS_MAX_FRAME];
	struct ps_list_enc e;
	size_t len;

	s->cap = NLIST * (PS_MAX_NAMESPACE + 2 + PS_MAX_NAME + 2 + 4 + 1) +
	    4096 * 32;
	s->bytes = malloc(s->cap);
	assert_non_null(s->bytes);
	s->len = 0;
	s->frames = 0;
	ps_codec_list_begin(&e, frame, sizeof(frame), type, id);
	for (size_t i = 0; i < NLIST; i++) {
		struct ps_pin p;
		int rc;

		snprintf(p.namespace, sizeof(p.namespace), "%s", list_ns(i));
		snprintf(p.name, sizeof(p.name), "%s", list_name(i));
		p.replicas = i % 3 == 0 ? 0
		    : i % 3 == 1        ? PS_MAX_REPLICAS
		                        : (uint32_t)i;
		p.state = (uint8_t)(i % (PS_PIN_STATE_MAX + 1));
		p.dry_run = 0;
		for (int attempt = 0;; attempt++) {
			rc = type == PS_T_LIST
			    ? ps_codec_list_add_name(&e, p.namespace, p.name)
			    : ps_codec_list_add_pin(&e, &p);
			if (rc == PS_OK)
				break;
			assert_int_equal(rc, PS_ERR_NOSPACE);
			assert_int_equal(attempt, 0);
			assert_int_equal(
			    ps_codec_list_finish(&e, 1, &len), PS_OK);
			mstream_add(s, frame, len);
			ps_codec_list_begin(&e, frame, sizeof(frame), type, id);
		}
	}
	assert_int_equal(ps_codec_list_finish(&e, 0, &len), PS_OK);
	mstream_add(s, frame, len);
}

/* Feeds `s` in random chunks and decodes each LIST/PIN_LIST frame. */
static void
decode_big_list(
    const struct mstream *s, uint16_t type, uint32_t id, uint32_t seed)
{
	struct ps_reader *rd = ps_reader_new(PS_DIR_ANSWER);
	size_t pos = 0, items = 0, frames = 0;
	int last_seen = 0;

	assert_non_null(rd);
	while (pos < s->len) {
		size_t n = 1 + rnd(&seed) % 20000, used;
		struct ps_frame f;
		struct ps_list_dec d;
		int rc;

		if (n > s->len - pos)
			n = s->len - pos;
		rc = ps_reader_read(rd, s->bytes + pos, n, &used, &f);
		pos += used;
		if (rc == PS_AGAIN)
			continue;
		assert_int_equal(rc, PS_OK);
		assert_false(last_seen);
		frames++;
		assert_int_equal(f.hdr.type, type);
		assert_int_equal(f.hdr.id, id);
		if ((f.hdr.flags & PS_F_MORE) == 0)
			last_seen = 1;
		assert_int_equal(ps_codec_list_open(&f, &d), PS_OK);
		for (;;) {
			char ns[PS_MAX_NAMESPACE + 1];
			char name[PS_MAX_NAME + 1];
			struct ps_pin p;

			rc = type == PS_T_LIST
			    ? ps_codec_list_next_name(&d, ns, name)
			    : ps_codec_list_next_pin(&d, &p);
			if (rc == 0)
				break;
			assert_int_equal(rc, 1);
			assert_true(items < NLIST);
			if (type == PS_T_LIST) {
				assert_string_equal(ns, list_ns(items));
				assert_string_equal(name, list_name(items));
			} else {
				assert_string_equal(
				    p.namespace, list_ns(items));
				assert_string_equal(p.name, list_name(items));
				assert_int_equal(p.replicas,
				    items % 3 == 0       ? 0
				        : items % 3 == 1 ? PS_MAX_REPLICAS
				                         : (uint32_t)items);
				assert_int_equal(
				    p.state, items % (PS_PIN_STATE_MAX + 1));
			}
			items++;
		}
	}
	assert_true(last_seen);
	assert_int_equal(frames, s->frames);
	assert_int_equal(items, NLIST);
	ps_reader_free(rd);
}

static void
test_ps_codec_list_10000_names_span_frames_in_order(void **state)
{
	struct mstream s;

	(void)state;
	encode_big_list(&s, PS_T_LIST, 31);
	/* 65 + 255 bytes an item, 16366 of room: 51 a frame, 197 frames */
	assert_int_equal(s.frames, (NLIST + 50) / 51);
	decode_big_list(&s, PS_T_LIST, 31, 1);
	decode_big_list(&s, PS_T_LIST, 31, 0xdecafbad);
	free(s.bytes);
}

static void
test_ps_codec_pin_list_10000_pins_span_frames_in_order(void **state)
{
	struct mstream s;

	(void)state;
	encode_big_list(&s, PS_T_PIN_LIST, 0xffffffffu);
	/* 65 + 255 + 5 bytes an item: 50 a frame, 200 frames */
	assert_int_equal(s.frames, NLIST / 50);
	decode_big_list(&s, PS_T_PIN_LIST, 0xffffffffu, 7);
	free(s.bytes);
}

static void
test_ps_codec_metrics_span_frames_and_reassemble(void **state)
{
	enum { TEXT = 200 * 1024, CHUNK = PS_MAX_FRAME - PS_HDR_LEN };
	char *text = malloc(TEXT), *back = malloc(TEXT);
	struct mstream s;
	struct ps_reader *rd = ps_reader_new(PS_DIR_ANSWER);
	uint8_t frame[PS_MAX_FRAME];
	size_t n = 0, pos = 0, got = 0;
	uint32_t seed = 3;

	(void)state;
	assert_non_null(text);
	assert_non_null(back);
	assert_non_null(rd);
	while (n < TEXT) {
		char line[64];
		int k = snprintf(line, sizeof(line),
		    "replicad_requests_total{code=\"%u\"}\t%u\n",
		    (unsigned)(n % 600), (unsigned)n);

		for (int i = 0; i < k && n < TEXT; i++)
			text[n++] = line[i];
	}
	s.cap = TEXT + 64 * PS_HDR_LEN;
	s.bytes = malloc(s.cap);
	assert_non_null(s.bytes);
	s.len = 0;
	s.frames = 0;
	for (size_t off = 0; off < TEXT; off += CHUNK) {
		size_t take = TEXT - off < CHUNK ? TEXT - off : CHUNK, len;

		assert_int_equal(
		    ps_codec_encode_metrics(frame, sizeof(frame), 17,
		        off + take < TEXT, text + off, take, &len),
		    PS_OK);
		mstream_add(&s, frame, len);
	}
	assert_true(s.frames > 10);
	while (pos < s.len) {
		size_t chunk = 1 + rnd(&seed) % 3000, used;
		struct ps_frame f;
		const char *t;
		size_t tl;
		int rc;

		if (chunk > s.len - pos)
			chunk = s.len - pos;
		rc = ps_reader_read(rd, s.bytes + pos, chunk, &used, &f);
		pos += used;
		if (rc == PS_AGAIN)
			continue;
		assert_int_equal(rc, PS_OK);
		assert_int_equal(ps_codec_decode_metrics(&f, &t, &tl), PS_OK);
		assert_true(got + tl <= TEXT);
		memcpy(back + got, t, tl);
		got += tl;
		assert_int_equal((f.hdr.flags & PS_F_MORE) != 0, got < TEXT);
	}
	assert_int_equal(got, TEXT);
	assert_memory_equal(back, text, TEXT);
	ps_reader_free(rd);
	free(s.bytes);
	free(text);
	free(back);
}

/* ---- version 3: namespaces --------------------------------------------- */

/* HEALTH's per-namespace rows: the encoder refuses what the decoder does. */
static void
test_ps_codec_v3_health_encoder_refuses_bad_namespaces(void **state)
{
	uint8_t out[PS_MAX_FRAME];
	struct ps_health he;
	struct ps_frame f;
	struct ps_reader *rd;
	size_t len;

#define REFUSE_HE(want)                                                     \
	do {                                                                \
		len = 999;                                                  \
		int rc_ =                                                   \
		    ps_codec_encode_health(out, sizeof(out), 1, &he, &len); \
		if (rc_ != (want) || len != 0)                              \
			fail_msg("line %d: got %d (%s) len %zu, want %d",   \
			    __LINE__, rc_, ps_strerror(rc_), len, (want));  \
	} while (0)

	(void)state;
	/* no namespace at all, and one too many */
	fill_health_max(&he);
	he.ns_count = 0;
	REFUSE_HE(PS_ERR_RANGE);
	he.ns_count = PS_MAX_NAMESPACES + 1;
	REFUSE_HE(PS_ERR_RANGE);
	he.ns_count = 0xff;
	REFUSE_HE(PS_ERR_RANGE);
	/* a namespace twice: first and last, and two neighbours */
	fill_health_max(&he);
	memcpy(he.ns[PS_MAX_NAMESPACES - 1].namespace, he.ns[0].namespace,
	    sizeof(he.ns[0].namespace));
	REFUSE_HE(PS_ERR_RANGE);
	fill_health_max(&he);
	memcpy(
	    he.ns[6].namespace, he.ns[5].namespace, sizeof(he.ns[0].namespace));
	REFUSE_HE(PS_ERR_RANGE);
	/* ... but a duplicate beyond ns_count is not on the wire */
	fill_health_max(&he);
	he.ns_count = 3;
	memcpy(
	    he.ns[3].namespace, he.ns[0].namespace, sizeof(he.ns[0].namespace));
	assert_int_equal(
	    ps_codec_encode_health(out, sizeof(out), 1, &he, &len), PS_OK);
	/* the top-level state is the default namespace's */
	fill_health_max(&he);
	he.ns[0].state = PS_HEALTH_SYNCED;
	REFUSE_HE(PS_ERR_RANGE);
	fill_health_max(&he);
	he.state = 0;
	REFUSE_HE(PS_ERR_RANGE);
	he.ns[0].state = 0;
	assert_int_equal(
	    ps_codec_encode_health(out, sizeof(out), 1, &he, &len), PS_OK);
	/* a namespace's own state bits and cache size */
	fill_health_max(&he);
	he.ns[3].state = 0x08;
	REFUSE_HE(PS_ERR_RANGE);
	he.ns[3].state = 0x80 | PS_HEALTH_ALL;
	REFUSE_HE(PS_ERR_RANGE);
	fill_health_max(&he);
	he.ns[PS_MAX_NAMESPACES - 1].cache_size = PS_MAX_LIST_TOTAL + 1;
	REFUSE_HE(PS_ERR_RANGE);
	fill_health_max(&he);
	he.ns[0].cache_size = 0xffffffffu;
	REFUSE_HE(PS_ERR_RANGE);
	/* and their names */
	fill_health_max(&he);
	he.ns[1].namespace[0] = '\0';
	REFUSE_HE(PS_ERR_CHARSET);
	fill_health_max(&he);
	strcpy(he.ns[2].namespace, "a.b");
	REFUSE_HE(PS_ERR_CHARSET);
	fill_health_max(&he);
	strcpy(he.ns[0].namespace, "Default");
	REFUSE_HE(PS_ERR_CHARSET);
	fill_health_max(&he);
	memset(he.ns[4].namespace, 'a', sizeof(he.ns[4].namespace));
	REFUSE_HE(PS_ERR_STR_LEN);

	/* the largest fits PS_MIN_ANSWER_FRAME exactly as the reader sees */
	fill_health_max(&he);
	assert_int_equal(
	    ps_codec_encode_health(out, PS_MIN_ANSWER_FRAME, 1, &he, &len),
	    PS_OK);
	assert_true(len <= PS_MIN_ANSWER_FRAME);
	rd = read_bytewise(PS_DIR_ANSWER, out, len, &f);
	assert_int_equal(ps_codec_decode_health(&f, &he), PS_OK);
	assert_int_equal(he.ns_count, PS_MAX_NAMESPACES);
	ps_reader_free(rd);
#undef REFUSE_HE
}

/* Feeds `len` bytes to a fresh request reader all at once. */
static int
read_request(const uint8_t *buf, size_t len)
{
	struct ps_reader *rd = ps_reader_new(PS_DIR_REQUEST);
	struct ps_frame f;
	size_t used = 0;
	int rc;

	assert_non_null(rd);
	rc = ps_reader_read(rd, buf, len, &used, &f);
	ps_reader_free(rd);
	return rc;
}

/*
 * Every request type's max_req_body (ps.c): the longest valid body is
 * accepted by the frame reader and its decoder; one byte more is refused
 * by the reader (PS_ERR_FRAME_LEN) before a byte of the body is read.
 */
static void
test_ps_codec_v3_request_body_limits(void **state)
{
	static const uint16_t types[] = {PS_T_LIST, PS_T_PIN_LIST, PS_T_GET,
	    PS_T_PIN_GET, PS_T_SCALE, PS_T_PIN_PUT, PS_T_PIN_DELETE,
	    PS_T_HEALTH, PS_T_METRICS};
	uint8_t buf[PS_MAX_REQUEST_FRAME + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		uint16_t t = types[i];
		const struct ps_type_info *ti = ps_type_info(t);
		struct ps_ns_req lr;
		struct ps_name_req nr;
		struct ps_write_req wr;
		struct ps_hdr h;
		size_t len = 0;
		int rc;

		assert_non_null(ti);
		memset(buf, 0, sizeof(buf));
		switch (ti->req) {
		case PS_REQ_NS:
			memcpy(lr.namespace, ns63, sizeof(lr.namespace));
			rc = ps_codec_encode_ns_req(
			    buf, sizeof(buf), t, 5, &lr, &len);
			break;
		case PS_REQ_NAME:
			memcpy(nr.namespace, ns63, sizeof(nr.namespace));
			memcpy(nr.name, name253, sizeof(nr.name));
			rc = ps_codec_encode_name_req(
			    buf, sizeof(buf), t, 5, &nr, &len);
			break;
		case PS_REQ_WRITE:
			fill_write(&wr, name253, PS_MAX_REPLICAS, ident256);
			memcpy(wr.namespace, ns63, sizeof(wr.namespace));
			if (t == PS_T_PIN_DELETE)
				wr.flags = PS_W_DRY_RUN;
			else
				fill_conditions(&wr,
				    t == PS_T_PIN_PUT
				        ? PS_W_ALL
				        : (PS_W_ALL & ~PS_W_SUSPEND));
			rc = ps_codec_encode_write_req(
			    buf, sizeof(buf), t, 5, &wr, &len);
			break;
		case PS_REQ_EMPTY:
			rc =
			    ps_codec_encode_empty(buf, sizeof(buf), t, 5, &len);
			break;
		default:
			fail_msg("%s: unexpected shape", ti->name);
			return;
		}
		if (rc != PS_OK)
			fail_msg("%s: encode: %s", ti->name, ps_strerror(rc));
		/* the longest valid body is exactly the limit */
		if (len != (size_t)PS_HDR_LEN + ti->max_req_body)
			fail_msg("%s: longest body %zu, max_req_body %u",
			    ti->name, len - PS_HDR_LEN,
			    (unsigned)ti->max_req_body);
		assert_true(len <= PS_MAX_REQUEST_FRAME);
		assert_int_equal(
		    ps_frame_parse_hdr(buf, PS_DIR_REQUEST, &h), PS_OK);
		assert_int_equal(read_request(buf, len), PS_OK);
		{
			struct ps_frame f;
			struct ps_reader *rd =
			    read_bytewise(PS_DIR_REQUEST, buf, len, &f);
			enum dk k = ti->req == PS_REQ_NS ? DK_NS_REQ
			    : ti->req == PS_REQ_NAME     ? DK_NAME_REQ
			    : ti->req == PS_REQ_WRITE    ? DK_WRITE_REQ
			                                 : DK_EMPTY;

			assert_int_equal(decode_as(k, &f), PS_OK);
			ps_reader_free(rd);
		}
		/* one byte more: the header alone is refused */
		buf[len] = 'a';
		buf[0] = (uint8_t)((len + 1) >> 24);
		buf[1] = (uint8_t)((len + 1) >> 16);
		buf[2] = (uint8_t)((len + 1) >> 8);
		buf[3] = (uint8_t)(len + 1);
		assert_int_equal(ps_frame_parse_hdr(buf, PS_DIR_REQUEST, &h),
		    PS_ERR_FRAME_LEN);
		rc = read_request(buf, len + 1);
		if (rc != PS_ERR_FRAME_LEN)
			fail_msg("%s + 1 byte: got %d (%s)", ti->name, rc,
			    ps_strerror(rc));
		/* and the reader decides on the header, before the body */
		assert_int_equal(
		    read_request(buf, PS_HDR_LEN), PS_ERR_FRAME_LEN);
	}
}

/* A LIST answer of many namespaces splits only between items, and a
 * PS_MIN_ANSWER_FRAME peer gets each (namespace, name) whole. */
static void
test_ps_codec_v3_list_splits_between_namespaced_items(void **state)
{
	uint8_t *frame = malloc(PS_MIN_ANSWER_FRAME);
	struct ps_list_enc e;
	size_t len, items = 0, back = 0, frames = 0;
	uint8_t *all = malloc(64 * PS_MIN_ANSWER_FRAME);
	size_t all_len = 0;

	(void)state;
	assert_non_null(frame);
	assert_non_null(all);
	ps_codec_list_begin(&e, frame, PS_MIN_ANSWER_FRAME, PS_T_LIST, 3);
	for (unsigned n = 0; n < PS_MAX_NAMESPACES; n++) {
		char ns[PS_MAX_NAMESPACE + 1];

		health_ns_name(ns, n);
		for (unsigned k = 0; k < 5; k++) {
			char name[PS_MAX_NAME + 1];
			int rc;

			memcpy(name, name253, sizeof(name));
			name[0] = (char)('a' + k);
			rc = ps_codec_list_add_name(&e, ns, name);
			if (rc == PS_ERR_NOSPACE) {
				assert_int_equal(
				    ps_codec_list_finish(&e, 1, &len), PS_OK);
				assert_true(len <= PS_MIN_ANSWER_FRAME);
				memcpy(all + all_len, frame, len);
				all_len += len;
				ps_codec_list_begin(&e, frame,
				    PS_MIN_ANSWER_FRAME, PS_T_LIST, 3);
				rc = ps_codec_list_add_name(&e, ns, name);
			}
			assert_int_equal(rc, PS_OK);
			items++;
		}
	}
	assert_int_equal(ps_codec_list_finish(&e, 0, &len), PS_OK);
	memcpy(all + all_len, frame, len);
	all_len += len;

	/* read back across the frames, in order */
	{
		struct ps_reader *rd = ps_reader_new(PS_DIR_ANSWER);
		size_t pos = 0;

		assert_non_null(rd);
		while (pos < all_len) {
			struct ps_frame f;
			struct ps_list_dec d;
			size_t used;
			int rc = ps_reader_read(
			    rd, all + pos, all_len - pos, &used, &f);
			char ns[PS_MAX_NAMESPACE + 1],
			    want_ns[PS_MAX_NAMESPACE + 1];
			char name[PS_MAX_NAME + 1];

			pos += used;
			assert_int_equal(rc, PS_OK);
			frames++;
			assert_int_equal(ps_codec_list_open(&f, &d), PS_OK);
			while (
			    (rc = ps_codec_list_next_name(&d, ns, name)) == 1) {
				health_ns_name(want_ns, (unsigned)(back / 5));
				assert_string_equal(ns, want_ns);
				assert_int_equal(name[0], 'a' + back % 5);
				assert_string_equal(name + 1, name253 + 1);
				back++;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(
			    (f.hdr.flags & PS_F_MORE) != 0, pos < all_len);
		}
		ps_reader_free(rd);
	}
	assert_int_equal(back, items);
	/* 320 bytes an item, 4096 - 18 of room: 12 a frame */
	assert_int_equal(frames, (items + 11) / 12);
	free(all);
	free(frame);
}

/* ---- names ------------------------------------------------------------- */

static void
test_ps_strerror_names_every_code(void **state)
{
	static const int bogus[] = {
	    1, 2, PS_ERR_MIN - 1, -100, INT_MIN, INT_MAX};

	(void)state;
	for (int e = PS_OK; e >= PS_ERR_MIN; e--) {
		const char *s = ps_strerror(e);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, "unknown error");
		for (int o = e - 1; o >= PS_ERR_MIN; o--)
			assert_string_not_equal(s, ps_strerror(o));
	}
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++)
		assert_string_equal(ps_strerror(bogus[i]), "unknown error");
}

static void
test_ps_type_name_and_info_match_protocol(void **state)
{
	static const struct {
		const char *name;
		uint16_t max_req_body;
		uint8_t from_requester, multi;
		enum ps_req_shape req;
		enum ps_ans_shape ans;
	} want[] = {
	    [PS_T_HELLO] = {"HELLO", 8, 1, 0, PS_REQ_HELLO, PS_ANS_HELLO},
	    [PS_T_LIST] = {"LIST", 65, 1, 1, PS_REQ_NS, PS_ANS_NAMES},
	    [PS_T_GET] = {"GET", 320, 1, 0, PS_REQ_NAME, PS_ANS_DEPLOYMENT},
	    [PS_T_SCALE] = {"SCALE", 653, 1, 0, PS_REQ_WRITE, PS_ANS_SCALE},
	    [PS_T_HEALTH] = {"HEALTH", 0, 1, 0, PS_REQ_EMPTY, PS_ANS_HEALTH},
	    [PS_T_PIN_LIST] = {"PIN_LIST", 65, 1, 1, PS_REQ_NS, PS_ANS_PINS},
	    [PS_T_PIN_GET] = {"PIN_GET", 320, 1, 0, PS_REQ_NAME, PS_ANS_PIN},
	    [PS_T_PIN_PUT] = {"PIN_PUT", 653, 1, 0, PS_REQ_WRITE, PS_ANS_PIN},
	    [PS_T_PIN_DELETE] = {"PIN_DELETE", 579, 1, 0, PS_REQ_WRITE,
	        PS_ANS_PIN},
	    [PS_T_METRICS] = {"METRICS", 0, 1, 1, PS_REQ_EMPTY, PS_ANS_TEXT},
	    [PS_T_GOAWAY] = {"GOAWAY", 0, 0, 0, PS_REQ_NONE, PS_ANS_NONE},
	};
	static const uint16_t bogus[] = {0, 12, 13, 0x100, 0xffff};

	(void)state;
	for (uint16_t t = 1; t <= PS_T_MAX; t++) {
		const struct ps_type_info *ti = ps_type_info(t);

		assert_non_null(ti);
		assert_int_equal(ti->type, t);
		assert_string_equal(ti->name, want[t].name);
		assert_string_equal(ps_type_name(t), want[t].name);
		assert_int_equal(ti->max_req_body, want[t].max_req_body);
		assert_int_equal(ti->from_requester, want[t].from_requester);
		assert_int_equal(ti->multi, want[t].multi);
		assert_int_equal(ti->req, want[t].req);
		assert_int_equal(ti->ans, want[t].ans);
		/* The row agrees with itself: a requester sends exactly the
		 * types with a request shape, and exactly the answers that
		 * are lists or text span frames. */
		assert_int_equal(ti->from_requester, ti->req != PS_REQ_NONE);
		assert_int_equal(ti->multi,
		    ti->ans == PS_ANS_NAMES || ti->ans == PS_ANS_PINS ||
		        ti->ans == PS_ANS_TEXT);
	}
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
		assert_null(ps_type_info(bogus[i]));
		assert_string_equal(ps_type_name(bogus[i]), "UNKNOWN");
	}
}

static void
test_ps_code_name_every_code(void **state)
{
	static const char *const want[] = {NULL, "not_found", "invalid",
	    "conflict", "unavailable", "forbidden", "timeout", "internal",
	    "protocol", "version", "busy", "api_error", "unsupported",
	    "precondition_failed", "precondition_failed", "autoscaled",
	    "out_of_bounds"};
	static const uint16_t bogus[] = {0, PS_E_MAX + 1, 0x100, 0xffff};

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]), PS_E_MAX + 1);
	for (uint16_t c = 1; c <= PS_E_MAX; c++)
		assert_string_equal(ps_code_name(c), want[c]);
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++)
		assert_string_equal(ps_code_name(bogus[i]), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_ps_codec_every_message_round_trips_through_reader),
	    cmocka_unit_test(test_ps_codec_only_the_matching_decoder_accepts),
	    cmocka_unit_test(test_ps_codec_truncation_at_every_offset),
	    cmocka_unit_test(test_ps_codec_trailing_byte_after_every_message),
	    cmocka_unit_test(test_ps_codec_encoders_refuse_every_short_buffer),
	    cmocka_unit_test(test_ps_codec_decoders_hostile_body_table),
	    cmocka_unit_test(
	        test_ps_codec_failed_decode_leaves_no_partial_string),
	    cmocka_unit_test(test_ps_codec_matches_protocol_example),
	    cmocka_unit_test(test_ps_codec_pick_version),
	    cmocka_unit_test(test_ps_codec_encoders_refuse_invalid_input),
	    cmocka_unit_test(test_ps_codec_v2_encoders_refuse_invalid_input),
	    cmocka_unit_test(
	        test_ps_codec_list_encoder_refused_item_leaves_frame_intact),
	    cmocka_unit_test(
	        test_ps_codec_list_encoder_respects_small_capacity),
	    cmocka_unit_test(test_ps_codec_list_encoder_refuses_tiny_capacity),
	    cmocka_unit_test(
	        test_ps_codec_list_10000_names_span_frames_in_order),
	    cmocka_unit_test(
	        test_ps_codec_pin_list_10000_pins_span_frames_in_order),
	    cmocka_unit_test(test_ps_codec_metrics_span_frames_and_reassemble),
	    cmocka_unit_test(
	        test_ps_codec_v3_health_encoder_refuses_bad_namespaces),
	    cmocka_unit_test(test_ps_codec_v3_request_body_limits),
	    cmocka_unit_test(
	        test_ps_codec_v3_list_splits_between_namespaced_items),
	    cmocka_unit_test(test_ps_strerror_names_every_code),
	    cmocka_unit_test(test_ps_type_name_and_info_match_protocol),
	    cmocka_unit_test(test_ps_code_name_every_code),
	};

	return cmocka_run_group_tests(tests, setup_strings, NULL);
}
