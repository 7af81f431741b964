/*
 * ps_codec.c — encode and decode every proto-socket message body.
 *
 * Decoders check, in order: the frame's type and flags fit the message,
 * each field's bounds and charset as it is read, integer ranges, then that
 * the body was consumed exactly.  The first failure wins (one `rc`, chained
 * with ||), and a failed decode leaves nothing the caller should use.
 */
#include <string.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"

/* Which types a body shape belongs to: ps.c's table says. */
static int
req_is(uint16_t type, enum ps_req_shape shape)
{
	const struct ps_type_info *ti = ps_type_info(type);

	return ti != NULL && ti->req == shape;
}

static int
ans_is(uint16_t type, enum ps_ans_shape shape)
{
	const struct ps_type_info *ti = ps_type_info(type);

	return ti != NULL && ti->ans == shape;
}

/* A list answer: names or pins. */
static int
ans_is_list(uint16_t type)
{
	return ans_is(type, PS_ANS_NAMES) || ans_is(type, PS_ANS_PINS);
}

/* A request frame of a type whose body has `shape`. */
static int
check_request(
    const struct ps_frame *f, enum ps_req_shape shape, struct ps_rbuf *r)
{
	if (!req_is(f->hdr.type, shape))
		return PS_ERR_TYPE;
	if (f->hdr.flags != 0)
		return PS_ERR_FLAGS;
	ps_rbuf_init(r, f->body, f->body_len);
	return PS_OK;
}

/* A success answer frame of a type whose answer has `shape` (NONE: a
 * list, names or pins). */
static int
check_answer(
    const struct ps_frame *f, enum ps_ans_shape shape, struct ps_rbuf *r)
{
	uint16_t fl = f->hdr.flags;

	if (shape == PS_ANS_NONE ? !ans_is_list(f->hdr.type)
	                         : !ans_is(f->hdr.type, shape))
		return PS_ERR_TYPE;
	if ((fl & PS_F_REPLY) == 0 || (fl & PS_F_ERROR) != 0 ||
	    (fl & ~PS_F_ALL) != 0)
		return PS_ERR_FLAGS;
	if ((fl & PS_F_MORE) != 0 && !ps_type_info(f->hdr.type)->multi)
		return PS_ERR_FLAGS;
	ps_rbuf_init(r, f->body, f->body_len);
	return PS_OK;
}

static int
u32_count(struct ps_rbuf *r, uint32_t *v)
{
	int rc = ps_rbuf_u32(r, v);

	if (rc == PS_OK && *v > PS_MAX_REPLICAS)
		return PS_ERR_RANGE;
	return rc;
}

static int
u64_generation(struct ps_rbuf *r, uint64_t *v)
{
	int rc = ps_rbuf_u64(r, v);

	if (rc == PS_OK && *v > (uint64_t)PS_MAX_GENERATION)
		return PS_ERR_RANGE;
	return rc;
}

static int
u8_bool(struct ps_rbuf *r, uint8_t *v)
{
	int rc = ps_rbuf_u8(r, v);

	if (rc == PS_OK && *v > 1)
		return PS_ERR_RANGE;
	return rc;
}

static int
u8_pin_state(struct ps_rbuf *r, uint8_t *v)
{
	int rc = ps_rbuf_u8(r, v);

	if (rc == PS_OK && *v > PS_PIN_STATE_MAX)
		return PS_ERR_RANGE;
	return rc;
}

/* Range check on the encoding side: refuse to emit what a peer rejects. */
static void
wbuf_count(struct ps_wbuf *w, uint32_t v)
{
	if (v > PS_MAX_REPLICAS && w->err == 0)
		w->err = PS_ERR_RANGE;
	ps_wbuf_u32(w, v);
}

static void
wbuf_pin_state(struct ps_wbuf *w, uint8_t v)
{
	if (v > PS_PIN_STATE_MAX && w->err == 0)
		w->err = PS_ERR_RANGE;
	ps_wbuf_u8(w, v);
}

static void
wbuf_generation(struct ps_wbuf *w, uint64_t v)
{
	if (v > (uint64_t)PS_MAX_GENERATION && w->err == 0)
		w->err = PS_ERR_RANGE;
	ps_wbuf_u64(w, v);
}

static void
wbuf_bool(struct ps_wbuf *w, uint8_t v)
{
	if (v > 1 && w->err == 0)
		w->err = PS_ERR_RANGE;
	ps_wbuf_u8(w, v);
}

int
ps_codec_encode_hello(
    uint8_t *out, size_t cap, const struct ps_hello *m, size_t *len)
{
	struct ps_wbuf w;

	ps_frame_begin(&w, out, cap, PS_T_HELLO, 0, 0);
	/* The same rule ps_codec_decode_hello applies on the other side. */
	if ((m->min_version == 0 || m->min_version > m->max_version) &&
	    w.err == 0)
		w.err = PS_ERR_VERSION;
	ps_wbuf_u32(&w, PS_MAGIC);
	ps_wbuf_u16(&w, m->min_version);
	ps_wbuf_u16(&w, m->max_version);
	return ps_frame_finish(&w, len);
}

int
ps_codec_decode_hello(const struct ps_frame *f, struct ps_hello *m)
{
	struct ps_rbuf r;
	uint32_t magic = 0;
	int rc;

	if ((rc = check_request(f, PS_REQ_HELLO, &r)) != PS_OK ||
	    (rc = ps_rbuf_u32(&r, &magic)) != PS_OK ||
	    (rc = ps_rbuf_u16(&r, &m->min_version)) != PS_OK ||
	    (rc = ps_rbuf_u16(&r, &m->max_version)) != PS_OK ||
	    (rc = ps_rbuf_end(&r)) != PS_OK)
		return rc;
	if (magic != PS_MAGIC)
		return PS_ERR_MAGIC;
	if (m->min_version == 0 || m->min_version > m->max_version)
		return PS_ERR_VERSION;
	return PS_OK;
}

int
ps_codec_pick_version(const struct ps_hello *m, uint16_t *version)
{
	/* PS_VERSION is all this implementation speaks. */
	if (m->min_version <= PS_VERSION && PS_VERSION <= m->max_version) {
		*version = PS_VERSION;
		return PS_OK;
	}
	return PS_ERR_VERSION;
}

int
ps_codec_encode_hello_ok(
    uint8_t *out, size_t cap, const struct ps_hello_ok *m, size_t *len)
{
	struct ps_wbuf w;

	ps_frame_begin(&w, out, cap, PS_T_HELLO, PS_F_REPLY, 0);
	if (m->version == 0 || m->max_inflight == 0 ||
	    m->max_inflight > PS_MAX_INFLIGHT ||
	    m->max_frame < PS_MIN_ANSWER_FRAME || m->max_frame > PS_MAX_FRAME)
		w.err = PS_ERR_RANGE;
	ps_wbuf_u16(&w, m->version);
	ps_wbuf_u16(&w, m->max_inflight);
	ps_wbuf_u32(&w, m->max_frame);
	ps_wbuf_str(&w, PS_STR_NAMESPACE, m->namespace);
	return ps_frame_finish(&w, len);
}

int
ps_codec_decode_hello_ok(const struct ps_frame *f, struct ps_hello_ok *m)
{
	struct ps_rbuf r;
	int rc;

	if ((rc = check_answer(f, PS_ANS_HELLO, &r)) != PS_OK ||
	    (rc = ps_rbuf_u16(&r, &m->version)) != PS_OK ||
	    (rc = ps_rbuf_u16(&r, &m->max_inflight)) != PS_OK ||
	    (rc = ps_rbuf_u32(&r, &m->max_frame)) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_NAMESPACE, m->namespace,
	         sizeof(m->namespace))) != PS_OK ||
	    (rc = ps_rbuf_end(&r)) != PS_OK)
		return rc;
	if (m->version == 0)
		return PS_ERR_VERSION;
	if (m->max_inflight == 0 || m->max_inflight > PS_MAX_INFLIGHT ||
	    m->max_frame < PS_MIN_ANSWER_FRAME || m->max_frame > PS_MAX_FRAME)
		return PS_ERR_RANGE;
	return PS_OK;
}

int
ps_codec_encode_empty(
    uint8_t *out, size_t cap, uint16_t type, uint32_t id, size_t *len)
{
	struct ps_wbuf w;

	ps_frame_begin(&w, out, cap, type, 0, id);
	if (!req_is(type, PS_REQ_EMPTY))
		w.err = PS_ERR_TYPE;
	return ps_frame_finish(&w, len);
}

int
ps_codec_decode_empty(const struct ps_frame *f)
{
	struct ps_rbuf r;
	int rc;

	if ((rc = check_request(f, PS_REQ_EMPTY, &r)) != PS_OK)
		return rc;
	return ps_rbuf_end(&r);
}

int
ps_codec_encode_ns_req(uint8_t *out, size_t cap, uint16_t type, uint32_t id,
    const struct ps_ns_req *m, size_t *len)
{
	struct ps_wbuf w;

	ps_frame_begin(&w, out, cap, type, 0, id);
	if (!req_is(type, PS_REQ_NS))
		w.err = PS_ERR_TYPE;
	ps_wbuf_str(&w, PS_STR_OPT_NAMESPACE, m->namespace);
	return ps_frame_finish(&w, len);
}

int
ps_codec_decode_ns_req(const struct ps_frame *f, struct ps_ns_req *m)
{
	struct ps_rbuf r;
	int rc;

	if ((rc = check_request(f, PS_REQ_NS, &r)) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_OPT_NAMESPACE, m->namespace,
	         sizeof(m->namespace))) != PS_OK)
		return rc;
	return ps_rbuf_end(&r);
}

int
ps_codec_encode_name_req(uint8_t *out, size_t cap, uint16_t type, uint32_t id,
    const struct ps_name_req *m, size_t *len)
{
	struct ps_wbuf w;

	ps_frame_begin(&w, out, cap, type, 0, id);
	if (!req_is(type, PS_REQ_NAME))
		w.err = PS_ERR_TYPE;
	ps_wbuf_str(&w, PS_STR_NAMESPACE, m->namespace);
	ps_wbuf_str(&w, PS_STR_NAME, m->name);
	return ps_frame_finish(&w, len);
}

int
ps_codec_decode_name_req(const struct ps_frame *f, struct ps_name_req *m)
{
	struct ps_rbuf r;
	int rc;

	if ((rc = check_request(f, PS_REQ_NAME, &r)) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_NAMESPACE, m->namespace,
	         sizeof(m->namespace))) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_NAME, m->name, sizeof(m->name))) !=
	        PS_OK)
		return rc;
	return ps_rbuf_end(&r);
}

/* A write's flags, expected count and If-Match fit its type. */
static int
write_conditions_ok(uint16_t type, const struct ps_write_req *m)
{
	if ((m->flags & ~PS_W_ALL) != 0 || m->expected > PS_MAX_REPLICAS ||
	    ((m->flags & PS_W_EXPECTED) == 0 && m->expected != 0))
		return 0;
	if (type == PS_T_PIN_DELETE)
		return (m->flags & ~PS_W_DRY_RUN) == 0;
	if (type == PS_T_SCALE)
		return (m->flags & PS_W_SUSPEND) == 0;
	return 1;
}

int
ps_codec_encode_write_req(uint8_t *out, size_t cap, uint16_t type, uint32_t id,
    const struct ps_write_req *m, size_t *len)
{
	struct ps_wbuf w;

	ps_frame_begin(&w, out, cap, type, 0, id);
	if (!req_is(type, PS_REQ_WRITE))
		w.err = PS_ERR_TYPE;
	else if (!write_conditions_ok(type, m) ||
	    (type == PS_T_PIN_DELETE && m->if_match[0] != '\0'))
		w.err = PS_ERR_RANGE;
	ps_wbuf_str(&w, PS_STR_NAMESPACE, m->namespace);
	ps_wbuf_str(&w, PS_STR_NAME, m->name);
	if (type != PS_T_PIN_DELETE)
		wbuf_count(&w, m->replicas);
	ps_wbuf_str(&w, PS_STR_IDENTITY, m->identity);
	ps_wbuf_u8(&w, m->flags);
	if (type != PS_T_PIN_DELETE) {
		ps_wbuf_u32(&w, m->expected);
		ps_wbuf_str(&w, PS_STR_OPT_RV, m->if_match);
	}
	return ps_frame_finish(&w, len);
}

int
ps_codec_decode_write_req(const struct ps_frame *f, struct ps_write_req *m)
{
	struct ps_rbuf r;
	uint16_t type = f->hdr.type;
	int rc;

	m->replicas = 0;
	m->expected = 0;
	m->if_match[0] = '\0';
	if ((rc = check_request(f, PS_REQ_WRITE, &r)) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_NAMESPACE, m->namespace,
	         sizeof(m->namespace))) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_NAME, m->name, sizeof(m->name))) !=
	        PS_OK)
		return rc;
	if (type != PS_T_PIN_DELETE &&
	    (rc = u32_count(&r, &m->replicas)) != PS_OK)
		return rc;
	if ((rc = ps_rbuf_str(&r, PS_STR_IDENTITY, m->identity,
	         sizeof(m->identity))) != PS_OK ||
	    (rc = ps_rbuf_u8(&r, &m->flags)) != PS_OK)
		return rc;
	if (type != PS_T_PIN_DELETE &&
	    ((rc = ps_rbuf_u32(&r, &m->expected)) != PS_OK ||
	        (rc = ps_rbuf_str(&r, PS_STR_OPT_RV, m->if_match,
	             sizeof(m->if_match))) != PS_OK))
		return rc;
	if (!write_conditions_ok(type, m))
		return PS_ERR_RANGE;
	return ps_rbuf_end(&r);
}

/* Version 2's fields of a deployment record are consistent. */
static int
deployment_extras_ok(const struct ps_deployment *m)
{
	if (m->pin_state > PS_PIN_STATE_MAX ||
	    (!m->pinned && m->pin_state != PS_PIN_ACTIVE) ||
	    (m->bounds & ~PS_B_ALL) != 0 || m->min_replicas > PS_MAX_REPLICAS ||
	    m->max_replicas > PS_MAX_REPLICAS)
		return 0;
	if (((m->bounds & PS_B_MIN) == 0 && m->min_replicas != 0) ||
	    ((m->bounds & PS_B_MAX) == 0 && m->max_replicas != 0))
		return 0;
	return (m->bounds & (PS_B_MIN | PS_B_MAX)) != (PS_B_MIN | PS_B_MAX) ||
	    m->min_replicas <= m->max_replicas;
}

int
ps_codec_encode_deployment(uint8_t *out, size_t cap, uint32_t id,
    const struct ps_deployment *m, size_t *len)
{
	struct ps_wbuf w;

	ps_frame_begin(&w, out, cap, PS_T_GET, PS_F_REPLY, id);
	ps_wbuf_str(&w, PS_STR_NAME, m->name);
	ps_wbuf_str(&w, PS_STR_NAMESPACE, m->namespace);
	wbuf_count(&w, m->desired);
	wbuf_count(&w, m->replicas);
	wbuf_count(&w, m->ready);
	wbuf_count(&w, m->available);
	wbuf_count(&w, m->updated);
	wbuf_generation(&w, m->generation);
	wbuf_generation(&w, m->observed_generation);
	wbuf_bool(&w, m->pinned);
	if (!m->pinned && m->pin_replicas != 0 && w.err == 0)
		w.err = PS_ERR_RANGE;
	wbuf_count(&w, m->pin_replicas);
	ps_wbuf_str(&w, PS_STR_RV, m->resource_version);
	if (!deployment_extras_ok(m) && w.err == 0)
		w.err = PS_ERR_RANGE;
	ps_wbuf_u8(&w, m->pin_state);
	ps_wbuf_u8(&w, m->bounds);
	ps_wbuf_u32(&w, m->min_replicas);
	ps_wbuf_u32(&w, m->max_replicas);
	ps_wbuf_str(&w, PS_STR_OPT_NAME, m->autoscaler);
	return ps_frame_finish(&w, len);
}

int
ps_codec_decode_deployment(const struct ps_frame *f, struct ps_deployment *m)
{
	struct ps_rbuf r;
	int rc;

	if ((rc = check_answer(f, PS_ANS_DEPLOYMENT, &r)) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_NAME, m->name, sizeof(m->name))) !=
	        PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_NAMESPACE, m->namespace,
	         sizeof(m->namespace))) != PS_OK ||
	    (rc = u32_count(&r, &m->desired)) != PS_OK ||
	    (rc = u32_count(&r, &m->replicas)) != PS_OK ||
	    (rc = u32_count(&r, &m->ready)) != PS_OK ||
	    (rc = u32_count(&r, &m->available)) != PS_OK ||
	    (rc = u32_count(&r, &m->updated)) != PS_OK ||
	    (rc = u64_generation(&r, &m->generation)) != PS_OK ||
	    (rc = u64_generation(&r, &m->observed_generation)) != PS_OK ||
	    (rc = u8_bool(&r, &m->pinned)) != PS_OK ||
	    (rc = u32_count(&r, &m->pin_replicas)) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_RV, m->resource_version,
	         sizeof(m->resource_version))) != PS_OK ||
	    (rc = ps_rbuf_u8(&r, &m->pin_state)) != PS_OK ||
	    (rc = ps_rbuf_u8(&r, &m->bounds)) != PS_OK ||
	    (rc = ps_rbuf_u32(&r, &m->min_replicas)) != PS_OK ||
	    (rc = ps_rbuf_u32(&r, &m->max_replicas)) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_OPT_NAME, m->autoscaler,
	         sizeof(m->autoscaler))) != PS_OK)
		return rc;
	if (!m->pinned && m->pin_replicas != 0)
		return PS_ERR_RANGE;
	if (!deployment_extras_ok(m))
		return PS_ERR_RANGE;
	return ps_rbuf_end(&r);
}

int
ps_codec_encode_scale_ok(uint8_t *out, size_t cap, uint32_t id,
    const struct ps_scale_ok *m, size_t *len)
{
	struct ps_wbuf w;

	ps_frame_begin(&w, out, cap, PS_T_SCALE, PS_F_REPLY, id);
	ps_wbuf_str(&w, PS_STR_NAMESPACE, m->namespace);
	ps_wbuf_str(&w, PS_STR_NAME, m->name);
	wbuf_count(&w, m->replicas);
	wbuf_count(&w, m->previous);
	wbuf_bool(&w, m->synced);
	ps_wbuf_str(&w, PS_STR_RV, m->resource_version);
	wbuf_bool(&w, m->dry_run);
	return ps_frame_finish(&w, len);
}

int
ps_codec_decode_scale_ok(const struct ps_frame *f, struct ps_scale_ok *m)
{
	struct ps_rbuf r;
	int rc;

	if ((rc = check_answer(f, PS_ANS_SCALE, &r)) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_NAMESPACE, m->namespace,
	         sizeof(m->namespace))) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_NAME, m->name, sizeof(m->name))) !=
	        PS_OK ||
	    (rc = u32_count(&r, &m->replicas)) != PS_OK ||
	    (rc = u32_count(&r, &m->previous)) != PS_OK ||
	    (rc = u8_bool(&r, &m->synced)) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_RV, m->resource_version,
	         sizeof(m->resource_version))) != PS_OK ||
	    (rc = u8_bool(&r, &m->dry_run)) != PS_OK)
		return rc;
	return ps_rbuf_end(&r);
}

/* The health of the whole core and of one namespace share these rules. */
static int
health_ok(uint8_t state, uint32_t cache_size)
{
	return (state & ~PS_HEALTH_ALL) == 0 && cache_size <= PS_MAX_LIST_TOTAL;
}

/* Namespaces appear once each, and the first is the core's default, whose
 * state is the top-level one. */
static int
health_list_ok(const struct ps_health *m)
{
	uint8_t i, j;

	if (m->ns_count == 0 || m->ns_count > PS_MAX_NAMESPACES ||
	    m->ns[0].state != m->state)
		return 0;
	for (i = 0; i < m->ns_count; i++) {
		if (!health_ok(m->ns[i].state, m->ns[i].cache_size))
			return 0;
		for (j = 0; j < i; j++)
			if (strncmp(m->ns[i].namespace, m->ns[j].namespace,
			        sizeof(m->ns[i].namespace)) == 0)
				return 0;
	}
	return 1;
}

int
ps_codec_encode_health(uint8_t *out, size_t cap, uint32_t id,
    const struct ps_health *m, size_t *len)
{
	struct ps_wbuf w;
	uint8_t i, n;

	ps_frame_begin(&w, out, cap, PS_T_HEALTH, PS_F_REPLY, id);
	if (!health_ok(m->state, m->cache_size) || !health_list_ok(m))
		w.err = PS_ERR_RANGE;
	ps_wbuf_u8(&w, m->state);
	ps_wbuf_u32(&w, m->cache_size);
	ps_wbuf_u32(&w, m->last_event_age_ms);
	ps_wbuf_u32(&w, m->api_ok_age_ms);
	ps_wbuf_str(&w, PS_STR_MESSAGE, m->message);
	n = m->ns_count <= PS_MAX_NAMESPACES ? m->ns_count : 0;
	ps_wbuf_u8(&w, m->ns_count);
	for (i = 0; i < n; i++) {
		ps_wbuf_str(&w, PS_STR_NAMESPACE, m->ns[i].namespace);
		ps_wbuf_u8(&w, m->ns[i].state);
		ps_wbuf_u32(&w, m->ns[i].cache_size);
		ps_wbuf_u32(&w, m->ns[i].last_event_age_ms);
		ps_wbuf_u32(&w, m->ns[i].api_ok_age_ms);
	}
	return ps_frame_finish(&w, len);
}

int
ps_codec_decode_health(const struct ps_frame *f, struct ps_health *m)
{
	struct ps_rbuf r;
	uint8_t i;
	int rc;

	if ((rc = check_answer(f, PS_ANS_HEALTH, &r)) != PS_OK ||
	    (rc = ps_rbuf_u8(&r, &m->state)) != PS_OK ||
	    (rc = ps_rbuf_u32(&r, &m->cache_size)) != PS_OK ||
	    (rc = ps_rbuf_u32(&r, &m->last_event_age_ms)) != PS_OK ||
	    (rc = ps_rbuf_u32(&r, &m->api_ok_age_ms)) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_MESSAGE, m->message,
	         sizeof(m->message))) != PS_OK ||
	    (rc = ps_rbuf_u8(&r, &m->ns_count)) != PS_OK)
		return rc;
	if (m->ns_count == 0 || m->ns_count > PS_MAX_NAMESPACES)
		return PS_ERR_RANGE;
	for (i = 0; i < m->ns_count; i++) {
		struct ps_ns_health *h = &m->ns[i];

		if ((rc = ps_rbuf_str(&r, PS_STR_NAMESPACE, h->namespace,
		         sizeof(h->namespace))) != PS_OK ||
		    (rc = ps_rbuf_u8(&r, &h->state)) != PS_OK ||
		    (rc = ps_rbuf_u32(&r, &h->cache_size)) != PS_OK ||
		    (rc = ps_rbuf_u32(&r, &h->last_event_age_ms)) != PS_OK ||
		    (rc = ps_rbuf_u32(&r, &h->api_ok_age_ms)) != PS_OK)
			return rc;
	}
	if (!health_ok(m->state, m->cache_size) || !health_list_ok(m))
		return PS_ERR_RANGE;
	return ps_rbuf_end(&r);
}

int
ps_codec_encode_pin(uint8_t *out, size_t cap, uint16_t type, uint32_t id,
    const struct ps_pin *m, size_t *len)
{
	struct ps_wbuf w;

	ps_frame_begin(&w, out, cap, type, PS_F_REPLY, id);
	if (!ans_is(type, PS_ANS_PIN))
		w.err = PS_ERR_TYPE;
	ps_wbuf_str(&w, PS_STR_NAMESPACE, m->namespace);
	ps_wbuf_str(&w, PS_STR_NAME, m->name);
	wbuf_count(&w, m->replicas);
	wbuf_pin_state(&w, m->state);
	wbuf_bool(&w, m->dry_run);
	return ps_frame_finish(&w, len);
}

int
ps_codec_decode_pin(const struct ps_frame *f, struct ps_pin *m)
{
	struct ps_rbuf r;
	int rc;

	if ((rc = check_answer(f, PS_ANS_PIN, &r)) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_NAMESPACE, m->namespace,
	         sizeof(m->namespace))) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_NAME, m->name, sizeof(m->name))) !=
	        PS_OK ||
	    (rc = u32_count(&r, &m->replicas)) != PS_OK ||
	    (rc = u8_pin_state(&r, &m->state)) != PS_OK ||
	    (rc = u8_bool(&r, &m->dry_run)) != PS_OK)
		return rc;
	return ps_rbuf_end(&r);
}

int
ps_codec_encode_error(uint8_t *out, size_t cap, uint16_t type, uint32_t id,
    const struct ps_error *m, size_t *len)
{
	struct ps_wbuf w;
	int goaway = type == PS_T_GOAWAY;

	ps_frame_begin(&w, out, cap, type,
	    goaway ? PS_F_ERROR : (PS_F_REPLY | PS_F_ERROR), goaway ? 0 : id);
	if (ps_type_info(type) == NULL)
		w.err = PS_ERR_TYPE;
	if (m->code == 0 || m->code > PS_E_MAX ||
	    m->retry_after > PS_MAX_RETRY_AFTER)
		w.err = w.err != 0 ? w.err : PS_ERR_RANGE;
	ps_wbuf_u16(&w, m->code);
	ps_wbuf_u32(&w, m->retry_after);
	ps_wbuf_str(&w, PS_STR_MESSAGE, m->message);
	wbuf_count(&w, m->current);
	ps_wbuf_str(&w, PS_STR_REF, m->ref);
	return ps_frame_finish(&w, len);
}

int
ps_codec_decode_error(const struct ps_frame *f, struct ps_error *m)
{
	struct ps_rbuf r;
	uint16_t want;
	int rc;

	if (ps_type_info(f->hdr.type) == NULL)
		return PS_ERR_TYPE;
	want =
	    f->hdr.type == PS_T_GOAWAY ? PS_F_ERROR : (PS_F_REPLY | PS_F_ERROR);
	if (f->hdr.flags != want)
		return PS_ERR_FLAGS;
	ps_rbuf_init(&r, f->body, f->body_len);
	if ((rc = ps_rbuf_u16(&r, &m->code)) != PS_OK ||
	    (rc = ps_rbuf_u32(&r, &m->retry_after)) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_MESSAGE, m->message,
	         sizeof(m->message))) != PS_OK ||
	    (rc = u32_count(&r, &m->current)) != PS_OK ||
	    (rc = ps_rbuf_str(&r, PS_STR_REF, m->ref, sizeof(m->ref))) != PS_OK)
		return rc;
	if (m->code == 0 || m->code > PS_E_MAX ||
	    m->retry_after > PS_MAX_RETRY_AFTER)
		return PS_ERR_RANGE;
	return ps_rbuf_end(&r);
}

void
ps_codec_list_begin(
    struct ps_list_enc *e, uint8_t *out, size_t cap, uint16_t type, uint32_t id)
{
	ps_frame_begin(&e->w, out, cap, type, PS_F_REPLY, id);
	if (!ans_is_list(type))
		e->w.err = PS_ERR_TYPE;
	e->type = type;
	e->id = id;
	e->count = 0;
	ps_wbuf_u16(&e->w, 0); /* count, patched by finish */
}

/* Room for `need` more bytes in this frame, without poisoning the writer. */
static int
list_room(struct ps_list_enc *e, size_t need)
{
	size_t cap = e->w.cap < PS_MAX_FRAME ? e->w.cap : PS_MAX_FRAME;

	if (e->w.err != 0)
		return e->w.err;
	if (cap - e->w.len < need && e->count == 0) {
		/* Not even one item fits an empty frame: a distinct, sticky
		 * error, so "finish, begin, add again" cannot loop. */
		e->w.err = PS_ERR_FRAME_LEN;
		return e->w.err;
	}
	if (cap - e->w.len < need || e->count == UINT16_MAX)
		return PS_ERR_NOSPACE;
	return PS_OK;
}

int
ps_codec_list_add_name(
    struct ps_list_enc *e, const char *namespace, const char *name)
{
	size_t nslen = strnlen(namespace, PS_MAX_NAMESPACE + 1);
	size_t len = strnlen(name, PS_MAX_NAME + 1);
	int rc;

	if (e->type != PS_T_LIST)
		return PS_ERR_TYPE;
	if ((rc = ps_valid_namespace(namespace, nslen)) != PS_OK ||
	    (rc = ps_valid_name(name, len)) != PS_OK)
		return rc;
	if ((rc = list_room(e, 2 + nslen + 2 + len)) != PS_OK)
		return rc;
	ps_wbuf_str(&e->w, PS_STR_NAMESPACE, namespace);
	ps_wbuf_str(&e->w, PS_STR_NAME, name);
	e->count++;
	return ps_wbuf_error(&e->w);
}

int
ps_codec_list_add_pin(struct ps_list_enc *e, const struct ps_pin *pin)
{
	size_t nslen = strnlen(pin->namespace, PS_MAX_NAMESPACE + 1);
	size_t len = strnlen(pin->name, PS_MAX_NAME + 1);
	int rc;

	if (e->type != PS_T_PIN_LIST)
		return PS_ERR_TYPE;
	if ((rc = ps_valid_namespace(pin->namespace, nslen)) != PS_OK ||
	    (rc = ps_valid_name(pin->name, len)) != PS_OK)
		return rc;
	if (pin->replicas > PS_MAX_REPLICAS || pin->state > PS_PIN_STATE_MAX ||
	    pin->dry_run != 0)
		return PS_ERR_RANGE;
	if ((rc = list_room(e, 2 + nslen + 2 + len + 4 + 1)) != PS_OK)
		return rc;
	ps_wbuf_str(&e->w, PS_STR_NAMESPACE, pin->namespace);
	ps_wbuf_str(&e->w, PS_STR_NAME, pin->name);
	ps_wbuf_u32(&e->w, pin->replicas);
	ps_wbuf_u8(&e->w, pin->state);
	e->count++;
	return ps_wbuf_error(&e->w);
}

int
ps_codec_list_finish(struct ps_list_enc *e, int more, size_t *len)
{
	struct ps_wbuf patch;
	uint8_t flags_be[2];
	uint16_t flags = PS_F_REPLY | (more ? PS_F_MORE : 0);
	int rc;

	if ((rc = ps_frame_finish(&e->w, len)) != PS_OK)
		return rc;
	/* Patch the flags (offset 6) and the item count (offset 16). */
	flags_be[0] = (uint8_t)(flags >> 8);
	flags_be[1] = (uint8_t)flags;
	memcpy(e->w.p + 6, flags_be, sizeof(flags_be));
	ps_wbuf_init(&patch, e->w.p + PS_HDR_LEN, 2);
	ps_wbuf_u16(&patch, e->count);
	return PS_OK;
}

int
ps_codec_list_open(const struct ps_frame *f, struct ps_list_dec *d)
{
	int rc;

	if ((rc = check_answer(f, PS_ANS_NONE, &d->r)) != PS_OK ||
	    (rc = ps_rbuf_u16(&d->r, &d->left)) != PS_OK)
		return rc;
	d->type = f->hdr.type;
	return PS_OK;
}

int
ps_codec_list_next_name(struct ps_list_dec *d,
    char namespace[PS_MAX_NAMESPACE + 1], char name[PS_MAX_NAME + 1])
{
	int rc;

	if (d->type != PS_T_LIST)
		return PS_ERR_TYPE;
	if (d->left == 0)
		return ps_rbuf_end(&d->r) == PS_OK ? 0 : PS_ERR_TRAILING;
	if ((rc = ps_rbuf_str(&d->r, PS_STR_NAMESPACE, namespace,
	         PS_MAX_NAMESPACE + 1)) != PS_OK ||
	    (rc = ps_rbuf_str(&d->r, PS_STR_NAME, name, PS_MAX_NAME + 1)) !=
	        PS_OK)
		return rc;
	d->left--;
	return 1;
}

int
ps_codec_list_next_pin(struct ps_list_dec *d, struct ps_pin *pin)
{
	int rc;

	if (d->type != PS_T_PIN_LIST)
		return PS_ERR_TYPE;
	if (d->left == 0)
		return ps_rbuf_end(&d->r) == PS_OK ? 0 : PS_ERR_TRAILING;
	pin->dry_run = 0;
	if ((rc = ps_rbuf_str(&d->r, PS_STR_NAMESPACE, pin->namespace,
	         sizeof(pin->namespace))) != PS_OK ||
	    (rc = ps_rbuf_str(
	         &d->r, PS_STR_NAME, pin->name, sizeof(pin->name))) != PS_OK ||
	    (rc = u32_count(&d->r, &pin->replicas)) != PS_OK ||
	    (rc = u8_pin_state(&d->r, &pin->state)) != PS_OK)
		return rc;
	d->left--;
	return 1;
}

int
ps_codec_encode_metrics(uint8_t *out, size_t cap, uint32_t id, int more,
    const char *text, size_t text_len, size_t *len)
{
	struct ps_wbuf w;

	ps_frame_begin(&w, out, cap, PS_T_METRICS,
	    PS_F_REPLY | (more ? PS_F_MORE : 0), id);
	if (ps_valid_metrics((const uint8_t *)text, text_len) != PS_OK)
		w.err = PS_ERR_CHARSET;
	ps_wbuf_bytes(&w, text, text_len);
	return ps_frame_finish(&w, len);
}

int
ps_codec_decode_metrics(
    const struct ps_frame *f, const char **text, size_t *text_len)
{
	struct ps_rbuf r;
	int rc;

	if ((rc = check_answer(f, PS_ANS_TEXT, &r)) != PS_OK)
		return rc;
	if ((rc = ps_valid_metrics(f->body, f->body_len)) != PS_OK)
		return rc;
	*text = (const char *)f->body;
	*text_len = f->body_len;
	return PS_OK;
}
