/*
 * body.c — {"replicas": N} validation on yajl callbacks.  Every callback
 * either advances a tiny state machine or records why the body is invalid
 * and returns 0, which makes yajl stop (yajl_status_client_canceled).
 * Numbers arrive as their raw text (yajl_number) so that 1e3, 1.0, -0 and
 * 2147483648 are all judged on what the client wrote, not on a double.
 */
#include <string.h>

#include <yajl_parse.h>

#include "gateway/body.h"

#define KEY_REPLICAS "replicas"

struct body_ctx {
	int depth;       /* 0 outside the object, 1 inside */
	int seen_object; /* the top-level object has started */
	int have;        /* "replicas" was seen */
	int want_value;  /* a key was read; its value comes next */
	uint32_t max;
	uint32_t value;
	enum body_err err;
	yajl_handle h;
	size_t end; /* bytes up to and including the object's '}' */
};

static int
fail(struct body_ctx *c, enum body_err e)
{
	if (c->err == BODY_OK)
		c->err = e;
	return 0;
}

/* A scalar or container where a value may appear. */
static int
value_not_integer(void *arg)
{
	struct body_ctx *c = arg;

	if (c->depth == 0)
		return fail(c, BODY_NOT_OBJECT);
	return fail(c, BODY_NOT_INTEGER);
}

static int
on_null(void *arg)
{
	return value_not_integer(arg);
}

static int
on_bool(void *arg, int v)
{
	(void)v;
	return value_not_integer(arg);
}

static int
on_string(void *arg, const unsigned char *s, size_t len)
{
	(void)s;
	(void)len;
	return value_not_integer(arg);
}

static int
on_number(void *arg, const char *s, size_t len)
{
	struct body_ctx *c = arg;
	uint64_t v = 0;
	size_t i;

	if (c->depth == 0)
		return fail(c, BODY_NOT_OBJECT);
	if (len == 0)
		return fail(c, BODY_NOT_INTEGER);
	if (s[0] == '-') {
		/* "-1.5" is still not an integer; say so first. */
		for (i = 1; i < len; i++)
			if (s[i] < '0' || s[i] > '9')
				return fail(c, BODY_NOT_INTEGER);
		return fail(c, BODY_RANGE);
	}
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return fail(c, BODY_NOT_INTEGER);
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > c->max)
			return fail(c, BODY_RANGE); /* also stops overflow */
	}
	c->value = (uint32_t)v;
	c->want_value = 0;
	return 1;
}

static int
on_start_map(void *arg)
{
	struct body_ctx *c = arg;

	if (c->depth != 0 || c->seen_object)
		return value_not_integer(arg);
	c->depth = 1;
	c->seen_object = 1;
	return 1;
}

static int
on_map_key(void *arg, const unsigned char *key, size_t len)
{
	struct body_ctx *c = arg;

	/* Counted compare: a key "replicas\u0000x" is not "replicas". */
	if (len != strlen(KEY_REPLICAS) || memcmp(key, KEY_REPLICAS, len) != 0)
		return fail(c, BODY_UNKNOWN_FIELD);
	if (c->have)
		return fail(c, BODY_DUPLICATE_FIELD);
	c->have = 1;
	c->want_value = 1;
	return 1;
}

static int
on_end_map(void *arg)
{
	struct body_ctx *c = arg;

	c->depth = 0;
	/* The whole body is one yajl_parse call: this is an offset in it. */
	c->end = yajl_get_bytes_consumed(c->h);
	return 1;
}

static int
on_start_array(void *arg)
{
	return value_not_integer(arg);
}

static int
on_end_array(void *arg)
{
	/* Unreachable: every array is refused when it starts. */
	return value_not_integer(arg);
}

static const yajl_callbacks body_callbacks = {
    on_null,
    on_bool,
    NULL, /* integers and doubles come through on_number */
    NULL,
    on_number,
    on_string,
    on_start_map,
    on_map_key,
    on_end_map,
    on_start_array,
    on_end_array,
};

static int
only_space(const unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' &&
		    buf[i] != '\r')
			return 0;
	return 1;
}

enum body_err
body_parse_replicas(
    const unsigned char *buf, size_t len, uint32_t max, uint32_t *replicas)
{
	struct body_ctx c;
	yajl_handle h;
	yajl_status st;

	if (len == 0 || only_space(buf, len))
		return BODY_EMPTY;
	/* yajl's lexer takes \f and \v for whitespace; RFC 8259 does not,
	 * and neither byte can stand raw anywhere in JSON text (inside a
	 * string it must be escaped). */
	if (memchr(buf, '\f', len) != NULL || memchr(buf, '\v', len) != NULL)
		return BODY_SYNTAX;
	memset(&c, 0, sizeof(c));
	c.max = max;
	if ((h = yajl_alloc(&body_callbacks, NULL, &c)) == NULL)
		return BODY_NOMEM;
	c.h = h;
	/* Defaults kept on purpose: no comments, UTF-8 validated, one value,
	 * no trailing garbage, no partial values. */
	st = yajl_parse(h, buf, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	if (c.err != BODY_OK)
		return c.err;
	if (st != yajl_status_ok)
		return BODY_SYNTAX;
	if (!c.seen_object)
		return BODY_NOT_OBJECT;
	/* yajl lets an unterminated string after the value pass (its lexer
	 * waits for the rest and yajl_complete_parse does not ask): only
	 * whitespace may follow the '}'.  Found by fuzz_body.c. */
	if (!only_space(buf + c.end, len - c.end))
		return BODY_SYNTAX;
	if (!c.have)
		return BODY_MISSING_FIELD;
	*replicas = c.value;
	return BODY_OK;
}

const char *
body_reason(enum body_err e)
{
	switch (e) {
	case BODY_OK:
		return "ok";
	case BODY_EMPTY:
		return "empty_body";
	case BODY_SYNTAX:
		return "bad_json";
	case BODY_NOT_OBJECT:
		return "not_an_object";
	case BODY_UNKNOWN_FIELD:
		return "unknown_field";
	case BODY_DUPLICATE_FIELD:
		return "duplicate_field";
	case BODY_MISSING_FIELD:
		return "missing_field";
	case BODY_NOT_INTEGER:
	case BODY_RANGE:
		return "invalid_replicas";
	case BODY_NOMEM:
		return "internal";
	}
	return "bad_request";
}

const char *
body_message(enum body_err e)
{
	switch (e) {
	case BODY_OK:
		return "ok";
	case BODY_EMPTY:
		return "request body is empty";
	case BODY_SYNTAX:
		return "request body is not valid JSON";
	case BODY_NOT_OBJECT:
		return "request body must be a JSON object";
	case BODY_UNKNOWN_FIELD:
		return "only the field \"replicas\" is allowed";
	case BODY_DUPLICATE_FIELD:
		return "field \"replicas\" appears more than once";
	case BODY_MISSING_FIELD:
		return "field \"replicas\" is required";
	case BODY_NOT_INTEGER:
		return "\"replicas\" must be an integer";
	case BODY_RANGE:
		return "\"replicas\" is out of range";
	case BODY_NOMEM:
		return "out of memory";
	}
	return "bad request";
}
