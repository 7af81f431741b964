/*
 * ps_codec.h — proto-socket messages: one struct per body layout, an encoder
 * that writes a whole frame, and a decoder that validates every field and
 * consumes the body exactly (PROTOCOL.md §3–§5).
 *
 * Encoders: `out`/`cap` is caller memory (PS_MAX_FRAME always suffices),
 * `*len` receives the frame length; they validate what they write, so a
 * bug on the sending side shows up as an error, not as a frame the peer
 * must reject.  Decoders take a frame from ps_reader_read() and check its
 * type and flags fit the message before reading the body.
 */
#ifndef PS_CODEC_H
#define PS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"

struct ps_hello {
	uint16_t min_version;
	uint16_t max_version;
};

struct ps_hello_ok {
	uint16_t version;
	uint16_t max_inflight; /* 1..PS_MAX_INFLIGHT */
	uint32_t max_frame;    /* PS_MIN_ANSWER_FRAME..PS_MAX_FRAME */
	/* The core's default namespace: what the gateway's routes without a
	 * namespace mean (version 3). */
	char namespace[PS_MAX_NAMESPACE + 1];
};

/* LIST, PIN_LIST request: one namespace, or "" for every namespace the
 * core serves. */
struct ps_ns_req {
	char namespace[PS_MAX_NAMESPACE + 1];
};

/* GET, PIN_GET request. */
struct ps_name_req {
	char namespace[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
};

/* SCALE, PIN_PUT, PIN_DELETE request (PIN_DELETE has no replicas). */
struct ps_write_req {
	char namespace[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
	uint32_t replicas;
	char identity[PS_MAX_IDENTITY + 1];
	uint8_t flags;     /* PS_W_*; PIN_DELETE: only PS_W_DRY_RUN */
	uint32_t expected; /* with PS_W_EXPECTED, else 0 */
	char if_match[PS_MAX_RV + 1]; /* "" or the resourceVersion it must
	                                 have (not on PIN_DELETE) */
};

/* GET answer. */
struct ps_deployment {
	char name[PS_MAX_NAME + 1];
	char namespace[PS_MAX_NAMESPACE + 1];
	uint32_t desired;
	uint32_t replicas;
	uint32_t ready;
	uint32_t available;
	uint32_t updated;
	uint64_t generation;
	uint64_t observed_generation;
	uint8_t pinned;
	uint32_t pin_replicas;
	char resource_version[PS_MAX_RV + 1];
	uint8_t pin_state; /* enum ps_pin_state; 0 when not pinned */
	uint8_t bounds;    /* PS_B_MIN | PS_B_MAX: which of the two are set */
	uint32_t min_replicas; /* replicad.io/min-replicas, 0 when unset */
	uint32_t max_replicas; /* replicad.io/max-replicas, 0 when unset */
	char autoscaler[PS_MAX_NAME + 1]; /* the HPA targeting it, or "" */
};

#define PS_B_MIN     0x01u
#define PS_B_MAX     0x02u
/* The annotations are present but not valid counts: writes are refused. */
#define PS_B_INVALID 0x04u
#define PS_B_ALL     0x07u

/* SCALE answer. */
struct ps_scale_ok {
	char namespace[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
	uint32_t replicas;
	uint32_t previous;
	uint8_t synced;
	char resource_version[PS_MAX_RV + 1];
	uint8_t dry_run; /* checked, not written (PS_W_DRY_RUN) */
};

#define PS_HEALTH_API_OK   0x01u
#define PS_HEALTH_SYNCED   0x02u
#define PS_HEALTH_WATCH    0x04u
#define PS_HEALTH_ALL      0x07u
#define PS_MAX_RETRY_AFTER 3600u

/* One namespace's health (version 3). */
struct ps_ns_health {
	char namespace[PS_MAX_NAMESPACE + 1];
	uint8_t state; /* PS_HEALTH_* */
	uint32_t cache_size;
	uint32_t last_event_age_ms; /* PS_AGE_NEVER if none */
	uint32_t api_ok_age_ms;     /* PS_AGE_NEVER if none */
};

/*
 * HEALTH answer.  The top-level fields are the whole core's: `state` is
 * the default namespace's (the first of ns[]), `cache_size` the sum, the
 * ages the newest; `message` says why not healthy.  ns[] has one entry per
 * namespace served, the default first, in the core's configured order.
 */
struct ps_health {
	uint8_t state; /* PS_HEALTH_* */
	uint32_t cache_size;
	uint32_t last_event_age_ms; /* PS_AGE_NEVER if none */
	uint32_t api_ok_age_ms;     /* PS_AGE_NEVER if none */
	char message[PS_MAX_MESSAGE + 1];
	uint8_t ns_count; /* 1..PS_MAX_NAMESPACES */
	struct ps_ns_health ns[PS_MAX_NAMESPACES];
};

/* PIN_GET, PIN_PUT, PIN_DELETE answer; PIN_LIST item. */
struct ps_pin {
	char namespace[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
	uint32_t replicas;
	uint8_t state;   /* enum ps_pin_state */
	uint8_t dry_run; /* PIN_PUT/PIN_DELETE answer only; 0 in a list */
};

/* Error answer and GOAWAY body. */
struct ps_error {
	uint16_t code; /* enum ps_code */
	uint32_t retry_after;
	char message[PS_MAX_MESSAGE + 1];
	uint32_t current; /* PS_E_EXPECTED: the count it has; else 0 */
	/* PS_E_STALE: the resourceVersion it has ("" if unknown, visible
	 * ASCII); PS_E_AUTOSCALED: the HPA's name; else "". */
	char ref[PS_MAX_NAME + 1];
};

int ps_codec_encode_hello(
    uint8_t *out, size_t cap, const struct ps_hello *m, size_t *len);
/* Checks magic (PS_ERR_MAGIC) and min <= max, both >= 1 (PS_ERR_VERSION). */
int ps_codec_decode_hello(const struct ps_frame *f, struct ps_hello *m);
/* The responder's choice: highest common version, or PS_ERR_VERSION. */
int ps_codec_pick_version(const struct ps_hello *m, uint16_t *version);

int ps_codec_encode_hello_ok(
    uint8_t *out, size_t cap, const struct ps_hello_ok *m, size_t *len);
int ps_codec_decode_hello_ok(const struct ps_frame *f, struct ps_hello_ok *m);

/* HEALTH and METRICS requests have no body. */
int ps_codec_encode_empty(
    uint8_t *out, size_t cap, uint16_t type, uint32_t id, size_t *len);
int ps_codec_decode_empty(const struct ps_frame *f);

/* LIST and PIN_LIST requests: a namespace, or "" for all of them. */
int ps_codec_encode_ns_req(uint8_t *out, size_t cap, uint16_t type, uint32_t id,
    const struct ps_ns_req *m, size_t *len);
int ps_codec_decode_ns_req(const struct ps_frame *f, struct ps_ns_req *m);

int ps_codec_encode_name_req(uint8_t *out, size_t cap, uint16_t type,
    uint32_t id, const struct ps_name_req *m, size_t *len);
int ps_codec_decode_name_req(const struct ps_frame *f, struct ps_name_req *m);

int ps_codec_encode_write_req(uint8_t *out, size_t cap, uint16_t type,
    uint32_t id, const struct ps_write_req *m, size_t *len);
int ps_codec_decode_write_req(const struct ps_frame *f, struct ps_write_req *m);

int ps_codec_encode_deployment(uint8_t *out, size_t cap, uint32_t id,
    const struct ps_deployment *m, size_t *len);
int ps_codec_decode_deployment(
    const struct ps_frame *f, struct ps_deployment *m);

int ps_codec_encode_scale_ok(uint8_t *out, size_t cap, uint32_t id,
    const struct ps_scale_ok *m, size_t *len);
int ps_codec_decode_scale_ok(const struct ps_frame *f, struct ps_scale_ok *m);

int ps_codec_encode_health(uint8_t *out, size_t cap, uint32_t id,
    const struct ps_health *m, size_t *len);
int ps_codec_decode_health(const struct ps_frame *f, struct ps_health *m);

/* PIN_GET / PIN_PUT / PIN_DELETE answers. */
int ps_codec_encode_pin(uint8_t *out, size_t cap, uint16_t type, uint32_t id,
    const struct ps_pin *m, size_t *len);
int ps_codec_decode_pin(const struct ps_frame *f, struct ps_pin *m);

/* Error answer to request `type`/`id`; GOAWAY when type is PS_T_GOAWAY. */
int ps_codec_encode_error(uint8_t *out, size_t cap, uint16_t type, uint32_t id,
    const struct ps_error *m, size_t *len);
int ps_codec_decode_error(const struct ps_frame *f, struct ps_error *m);

/*
 * Multi-frame LIST / PIN_LIST answers.  The encoder fills one frame at a
 * time: add items until PS_ERR_NOSPACE (the item was not added), finish
 * that frame with more = 1, begin the next and add the item again.  An
 * item too big for an empty frame is PS_ERR_FRAME_LEN, and then every
 * call fails, finish included (PS_MIN_ANSWER_FRAME always suffices).
 */
struct ps_list_enc {
	struct ps_wbuf w;
	uint16_t count;
	uint16_t type;
	uint32_t id;
};

void ps_codec_list_begin(struct ps_list_enc *e, uint8_t *out, size_t cap,
    uint16_t type, uint32_t id);
/* LIST items are (namespace, name), sorted by namespace then name. */
int ps_codec_list_add_name(
    struct ps_list_enc *e, const char *namespace, const char *name);
int ps_codec_list_add_pin(struct ps_list_enc *e, const struct ps_pin *pin);
int ps_codec_list_finish(struct ps_list_enc *e, int more, size_t *len);

/* Decoder over one LIST / PIN_LIST answer frame. */
struct ps_list_dec {
	struct ps_rbuf r;
	uint16_t type;
	uint16_t left; /* items not yet read */
};

int ps_codec_list_open(const struct ps_frame *f, struct ps_list_dec *d);
/* 1 with an item, 0 at the end (body fully consumed), negative on error. */
int ps_codec_list_next_name(struct ps_list_dec *d,
    char namespace[PS_MAX_NAMESPACE + 1], char name[PS_MAX_NAME + 1]);
int ps_codec_list_next_pin(struct ps_list_dec *d, struct ps_pin *pin);

/* One METRICS answer frame carrying `len` bytes of text. */
int ps_codec_encode_metrics(uint8_t *out, size_t cap, uint32_t id, int more,
    const char *text, size_t text_len, size_t *len);
/* Borrowed view of the frame's text, charset-checked. */
int ps_codec_decode_metrics(
    const struct ps_frame *f, const char **text, size_t *text_len);

#endif /* PS_CODEC_H */
