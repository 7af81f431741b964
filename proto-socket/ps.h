/*
 * ps.h — proto-socket: the wire protocol between replicad-gateway and
 * replicad-core.  Shared constants, limits, message types, wire error codes
 * and library return codes.  PROTOCOL.md is the specification; every number
 * here appears there with the same name.
 *
 * proto-socket never logs and never allocates on behalf of a peer: it
 * returns negative PS_ERR_* codes and the caller decides.
 */
#ifndef PS_H
#define PS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Limits.  One block, one place to audit.  Every length is checked against
 * these before a byte of the field is copied or any memory is reserved.
 */
#define PS_MAGIC             0x52504c44u /* "RPLD" in the HELLO body */
#define PS_VERSION           3           /* the only version spoken today */
#define PS_HDR_LEN           16          /* fixed frame header */
#define PS_MAX_REQUEST_FRAME 1024        /* gateway -> core, header included */
#define PS_MAX_FRAME         16384       /* core -> gateway, header included */
/* The floor of HELLO's max_frame: a HEALTH answer of PS_MAX_NAMESPACES fits. */
#define PS_MIN_ANSWER_FRAME  4096
#define PS_MAX_NAME          253 /* DNS-1123 subdomain (deployment) */
#define PS_MAX_NAMESPACE     63  /* DNS-1123 label */
#define PS_MAX_NAMESPACES    32  /* namespaces one core serves */
#define PS_MAX_IDENTITY      256 /* client identity, printable ASCII */
#define PS_MAX_RV            64  /* resourceVersion, opaque visible ASCII */
#define PS_MAX_MESSAGE       512 /* error message text */
#define PS_MAX_REPLICAS      0x7fffffffu   /* spec.replicas is int32 */
#define PS_MAX_GENERATION    INT64_MAX     /* metadata.generation is int64 */
#define PS_MAX_LIST_TOTAL    65536         /* names in one LIST/PIN_LIST */
#define PS_MAX_METRICS_TOTAL (1024 * 1024) /* bytes of one METRICS answer */
#define PS_MAX_INFLIGHT      64          /* requests in flight per connection */
#define PS_AGE_NEVER         0xffffffffu /* "no such event yet" in HEALTH */

/* Message types.  An answer carries the type of its request. */
enum ps_type {
	PS_T_HELLO = 1,      /* version handshake, first frame each way */
	PS_T_LIST = 2,       /* deployment names (multi-frame answer) */
	PS_T_GET = 3,        /* one deployment's counts */
	PS_T_SCALE = 4,      /* set spec.replicas, with client identity */
	PS_T_HEALTH = 5,     /* API reachable, cache synced, watch state */
	PS_T_PIN_LIST = 6,   /* all pins (multi-frame answer) */
	PS_T_PIN_GET = 7,    /* one pin */
	PS_T_PIN_PUT = 8,    /* store a pin, with client identity */
	PS_T_PIN_DELETE = 9, /* remove a pin, with client identity */
	PS_T_METRICS = 10,   /* Prometheus text (multi-frame answer) */
	PS_T_GOAWAY = 11,    /* connection-level: peer closes after this */
	PS_T_MAX = PS_T_GOAWAY
};

/*
 * A write's conditions and mode (struct ps_write_req.flags).  Any other
 * bit, or a bit on a type it does not apply to, is a range error.
 */
#define PS_W_DRY_RUN  0x01u /* check everything, change nothing */
#define PS_W_FORCE    0x02u /* write even though an HPA targets it */
#define PS_W_SUSPEND  0x04u /* PIN_PUT: store the pin suspended */
#define PS_W_EXPECTED 0x08u /* `expected` holds the count it must have */
#define PS_W_ALL      0x0fu

/* Why a pin is not being reconciled (ps_pin.state, ps_deployment). */
enum ps_pin_state {
	PS_PIN_ACTIVE = 0,     /* reconciled */
	PS_PIN_SUSPENDED = 1,  /* the pin itself says suspended */
	PS_PIN_ANNOTATED = 2,  /* replicad.io/pin-suspended on the Deployment */
	PS_PIN_AUTOSCALED = 3, /* an HPA targets the Deployment */
	PS_PIN_STATE_MAX = PS_PIN_AUTOSCALED
};

/* Header flags.  Any other bit set is a protocol error. */
#define PS_F_REPLY 0x0001u /* an answer frame */
#define PS_F_MORE  0x0002u /* more answer frames follow for this id */
#define PS_F_ERROR 0x0004u /* body is an error (struct ps_error) */
#define PS_F_ALL   (PS_F_REPLY | PS_F_MORE | PS_F_ERROR)

/* Error codes carried in an error answer; the gateway maps them to HTTP. */
enum ps_code {
	PS_E_NOT_FOUND = 1,      /* no such deployment / pin        404 */
	PS_E_INVALID = 2,        /* a field is out of range          400 */
	PS_E_CONFLICT = 3,       /* the API reported a conflict      409 */
	PS_E_UNAVAILABLE = 4,    /* not synced, API down, draining   503 */
	PS_E_FORBIDDEN = 5,      /* the cluster refused our token    502 */
	PS_E_TIMEOUT = 6,        /* the API did not answer in time   504 */
	PS_E_INTERNAL = 7,       /* a bug or resource failure        500 */
	PS_E_PROTOCOL = 8,       /* the peer broke this protocol     500 */
	PS_E_VERSION = 9,        /* no common protocol version       500 */
	PS_E_BUSY = 10,          /* too many requests in flight      503 */
	PS_E_API = 11,           /* the API answered unexpectedly    502 */
	PS_E_UNSUPPORTED = 12,   /* the core does not offer this yet 501 */
	PS_E_STALE = 13,         /* If-Match: the object has changed 412 */
	PS_E_EXPECTED = 14,      /* expected count differs (current)  409 */
	PS_E_AUTOSCALED = 15,    /* an HPA targets it (ref: the HPA)  409 */
	PS_E_OUT_OF_BOUNDS = 16, /* outside its min/max annotations 422 */
	PS_E_MAX = PS_E_OUT_OF_BOUNDS
};

/* Library return codes: 0 is success, negative is an error. */
enum ps_err {
	PS_OK = 0,
	PS_AGAIN = -1,         /* need more input / output pending */
	PS_ERR_TRUNCATED = -2, /* a field runs past the body */
	PS_ERR_TRAILING = -3,  /* bytes left after the last field */
	PS_ERR_FRAME_LEN = -4, /* header len out of bounds */
	PS_ERR_TYPE = -5,      /* unknown message type */
	PS_ERR_FLAGS = -6,     /* unknown or misplaced flag */
	PS_ERR_RESERVED = -7,  /* reserved header field not zero */
	PS_ERR_STR_LEN = -8,   /* string longer than its field max */
	PS_ERR_CHARSET = -9,   /* string has a forbidden byte/shape */
	PS_ERR_RANGE = -10,    /* integer out of its field range */
	PS_ERR_MAGIC = -11,    /* HELLO without the magic number */
	PS_ERR_VERSION = -12,  /* no common protocol version */
	PS_ERR_STATE = -13,    /* frame not allowed in this state */
	PS_ERR_TOO_MANY = -14, /* item count over its limit */
	PS_ERR_NOSPACE = -15,  /* output buffer too small */
	PS_ERR_SYS = -16,      /* system call failed, see errno */
	PS_ERR_CLOSED = -17,   /* peer closed the connection */
	PS_ERR_DEAD = -18,     /* reader already failed */
	PS_ERR_ID = -19,       /* id 0 where not allowed or v.v. */
	PS_ERR_MIN = PS_ERR_ID
};

/*
 * The 16-byte header, decoded.  On the wire: len u32, type u16, flags u16,
 * id u32, reserved u32, all big-endian, no padding.
 */
struct ps_hdr {
	uint32_t len;      /* header + body, bounded per direction */
	uint16_t type;     /* enum ps_type */
	uint16_t flags;    /* PS_F_* */
	uint32_t id;       /* chosen by the requester, echoed in answers */
	uint32_t reserved; /* zero */
};

/* A received frame: header plus a borrowed view of its body. */
struct ps_frame {
	struct ps_hdr hdr;
	const uint8_t *body; /* borrowed: valid until the reader is fed again */
	size_t body_len;
};

/* Direction of travel decides the size limit and which flags may appear. */
enum ps_dir {
	PS_DIR_REQUEST, /* gateway -> core: no PS_F_* flags at all */
	PS_DIR_ANSWER   /* core -> gateway: PS_F_REPLY always set */
};

/* The shape of a request's body (PROTOCOL.md §7): which codec reads it. */
enum ps_req_shape {
	PS_REQ_NONE,  /* never sent by a requester (GOAWAY) */
	PS_REQ_HELLO, /* struct ps_hello, answered by the server itself */
	PS_REQ_EMPTY, /* no body */
	PS_REQ_NS,    /* struct ps_ns_req: LIST, PIN_LIST */
	PS_REQ_NAME,  /* struct ps_name_req */
	PS_REQ_WRITE  /* struct ps_write_req (PIN_DELETE: without replicas) */
};

/* The shape of a success answer's body. */
enum ps_ans_shape {
	PS_ANS_NONE,       /* GOAWAY is not an answer */
	PS_ANS_HELLO,      /* struct ps_hello_ok */
	PS_ANS_NAMES,      /* a list of (namespace, name), over frames */
	PS_ANS_PINS,       /* a list of struct ps_pin, over frames */
	PS_ANS_TEXT,       /* text, over frames */
	PS_ANS_DEPLOYMENT, /* struct ps_deployment */
	PS_ANS_SCALE,      /* struct ps_scale_ok */
	PS_ANS_HEALTH,     /* struct ps_health */
	PS_ANS_PIN         /* struct ps_pin */
};

/*
 * One row per message type: the wire facts every receiver checks against
 * and every sender encodes by (ps.c).  A new message is a row there; the
 * core's row (its handler) is in core/serve.c, the gateway's typed call in
 * gateway/ipc_client.h.
 */
struct ps_type_info {
	uint16_t type;
	const char *name;
	uint16_t max_req_body;  /* largest valid request body */
	uint8_t from_requester; /* may the gateway send it */
	uint8_t multi;          /* answers may span frames (PS_F_MORE) */
	enum ps_req_shape req;
	enum ps_ans_shape ans;
};

/* NULL for an unknown type. */
const struct ps_type_info *ps_type_info(uint16_t type);

const char *ps_strerror(int err);
const char *ps_type_name(uint16_t type);
const char *ps_code_name(uint16_t code);

#endif /* PS_H */
