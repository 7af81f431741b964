/*
 * ps.c — proto-socket's message table (the one place a message type's
 * wire facts live: its body limit, who sends it, its request and answer
 * shapes) and the names of its codes.
 */
#include <stddef.h>

#include "proto-socket/ps.h"

/* Request body maxima: PROTOCOL.md §3, derived from the field limits. */
#define STR(max)  (2 + (max))
/* namespace, name */
#define BODY_NAME (STR(PS_MAX_NAMESPACE) + STR(PS_MAX_NAME))
/* namespace or "" */
#define BODY_NS   STR(PS_MAX_NAMESPACE)
/* namespace, name, replicas, identity, flags, expected, if_match */
#define BODY_WRITE                                                             \
	(STR(PS_MAX_NAMESPACE) + STR(PS_MAX_NAME) + 4 + STR(PS_MAX_IDENTITY) + \
	    1 + 4 + STR(PS_MAX_RV))
/* namespace, name, identity, flags */
#define BODY_PIN_DEL \
	(STR(PS_MAX_NAMESPACE) + STR(PS_MAX_NAME) + STR(PS_MAX_IDENTITY) + 1)

static const struct ps_type_info types[] = {
    {0, NULL, 0, 0, 0, PS_REQ_NONE, PS_ANS_NONE},
    {PS_T_HELLO, "HELLO", 8, 1, 0, PS_REQ_HELLO, PS_ANS_HELLO},
    {PS_T_LIST, "LIST", BODY_NS, 1, 1, PS_REQ_NS, PS_ANS_NAMES},
    {PS_T_GET, "GET", BODY_NAME, 1, 0, PS_REQ_NAME, PS_ANS_DEPLOYMENT},
    {PS_T_SCALE, "SCALE", BODY_WRITE, 1, 0, PS_REQ_WRITE, PS_ANS_SCALE},
    {PS_T_HEALTH, "HEALTH", 0, 1, 0, PS_REQ_EMPTY, PS_ANS_HEALTH},
    {PS_T_PIN_LIST, "PIN_LIST", BODY_NS, 1, 1, PS_REQ_NS, PS_ANS_PINS},
    {PS_T_PIN_GET, "PIN_GET", BODY_NAME, 1, 0, PS_REQ_NAME, PS_ANS_PIN},
    {PS_T_PIN_PUT, "PIN_PUT", BODY_WRITE, 1, 0, PS_REQ_WRITE, PS_ANS_PIN},
    {PS_T_PIN_DELETE, "PIN_DELETE", BODY_PIN_DEL, 1, 0, PS_REQ_WRITE,
        PS_ANS_PIN},
    {PS_T_METRICS, "METRICS", 0, 1, 1, PS_REQ_EMPTY, PS_ANS_TEXT},
    {PS_T_GOAWAY, "GOAWAY", 0, 0, 0, PS_REQ_NONE, PS_ANS_NONE},
};

_Static_assert(sizeof(types) / sizeof(types[0]) == PS_T_MAX + 1,
    "one row per message type");
_Static_assert(PS_HDR_LEN + BODY_WRITE <= PS_MAX_REQUEST_FRAME,
    "the largest request fits a request frame");

const struct ps_type_info *
ps_type_info(uint16_t type)
{
	if (type == 0 || type > PS_T_MAX)
		return NULL;
	return &types[type];
}

const char *
ps_type_name(uint16_t type)
{
	const struct ps_type_info *ti = ps_type_info(type);

	return ti != NULL ? ti->name : "UNKNOWN";
}

const char *
ps_code_name(uint16_t code)
{
	static const char *const names[] = {
	    [PS_E_NOT_FOUND] = "not_found",
	    [PS_E_INVALID] = "invalid",
	    [PS_E_CONFLICT] = "conflict",
	    [PS_E_UNAVAILABLE] = "unavailable",
	    [PS_E_FORBIDDEN] = "forbidden",
	    [PS_E_TIMEOUT] = "timeout",
	    [PS_E_INTERNAL] = "internal",
	    [PS_E_PROTOCOL] = "protocol",
	    [PS_E_VERSION] = "version",
	    [PS_E_BUSY] = "busy",
	    [PS_E_API] = "api_error",
	    [PS_E_UNSUPPORTED] = "unsupported",
	    [PS_E_STALE] = "precondition_failed",
	    [PS_E_EXPECTED] = "precondition_failed",
	    [PS_E_AUTOSCALED] = "autoscaled",
	    [PS_E_OUT_OF_BOUNDS] = "out_of_bounds",
	};

	if (code == 0 || code > PS_E_MAX)
		return "unknown";
	return names[code];
}

const char *
ps_strerror(int err)
{
	switch (err) {
	case PS_OK:
		return "success";
	case PS_AGAIN:
		return "need more data";
	case PS_ERR_TRUNCATED:
		return "truncated field";
	case PS_ERR_TRAILING:
		return "trailing bytes after last field";
	case PS_ERR_FRAME_LEN:
		return "frame length out of bounds";
	case PS_ERR_TYPE:
		return "unknown or misdirected message type";
	case PS_ERR_FLAGS:
		return "invalid flags";
	case PS_ERR_RESERVED:
		return "reserved header field not zero";
	case PS_ERR_STR_LEN:
		return "string longer than its field";
	case PS_ERR_CHARSET:
		return "string has invalid characters or shape";
	case PS_ERR_RANGE:
		return "integer out of range";
	case PS_ERR_MAGIC:
		return "bad magic in HELLO";
	case PS_ERR_VERSION:
		return "no common protocol version";
	case PS_ERR_STATE:
		return "message not allowed in this state";
	case PS_ERR_TOO_MANY:
		return "too many items";
	case PS_ERR_NOSPACE:
		return "output buffer too small";
	case PS_ERR_SYS:
		return "system error";
	case PS_ERR_CLOSED:
		return "connection closed";
	case PS_ERR_DEAD:
		return "reader failed earlier";
	case PS_ERR_ID:
		return "invalid request id for this message";
	}
	return "unknown error";
}
