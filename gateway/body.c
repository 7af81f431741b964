/*
 * body.c — write-body validation on yajl callbacks (see body.h).  Every
 * callback either advances a tiny state machine or records why the body
 * is invalid and returns 0, which makes yajl stop
 * (yajl_status_client_canceled).  Numbers arrive as their raw text
 * (yajl_number) so that 1e3, 1.0, -0 and 2147483648 are all judged on
 * what the client wrote, not on a double.
 */
#include <stdio.h>
#include <string.h>

#include <yajl_parse.h>

#include "gateway/body.h"
#include "proto-socket/ps.h"

static const struct {
	unsigned bit;
	const char *name;
} keys[] = {
    {BODY_K_REPLICAS, "replicas"},
    {BODY_K_EXPECTED, "expectedReplicas"},
    {BODY_K_FORCE, "force"},
    {BODY_K_SUSPENDED, "suspended"},
};
#define NKEYS     (sizeof(keys) / sizeof(keys[0]))
#define BOOL_KEYS (BODY_K_FORCE | BODY_K_SUSPENDED)

struct body_ctx {
	int depth;       /* 0 outside the object, 1 inside */
	int seen_object; /* the top-level object has started */
	unsigned allowed;
	unsigned cur; /* the key whose value comes next, 0 for none */
	uint32_t max;
	struct body_write out;
	enum body_err err;
	yajl_handle h;
	size_t end; /* bytes up to and including the object's '}' */
};

static int
fail(struct body_ctx *c, enum body_err e)
{
	if (c->err == BODY_OK) {
		c->err = e;
		c->out.bad_key = c->cur;
	}
	return 0;
}

/* A value that is neither the integer nor the boolean its key wants. */
static int
wrong_type(void *arg)
{
	struct body_ctx *c = arg;

	if (c->depth == 0)
		return fail(c, BODY_NOT_OBJECT);
	return fail(
	    c, (c->cur & BOOL_KEYS) ? BODY_NOT_BOOLEAN : BODY_NOT_INTEGER);
}

static int
on_null(void *arg)
{
	return wrong_type(arg);
}

static int
on_bool(void *arg, int v)
{
	struct body_ctx *c = arg;

	if (c->depth == 0 || (c->cur & BOOL_KEYS) == 0)
		return wrong_type(arg);
	if (c->cur == BODY_K_FORCE)
		c->out.force = v != 0;
	else
		c->out.suspended = v != 0;
	c->cur = 0;
	return 1;
}

static int
on_string(void *arg, const unsigned char *s, size_t len)
{
	(void)s;
	(void)len;
	return wrong_type(arg);
}

static int
on_number(void *arg, const char *s, size_t len)
{
	struct body_ctx *c = arg;
	uint64_t v = 0, max;
	size_t i;

	if (c->depth == 0 || (c->cur & BOOL_KEYS) != 0 || len == 0)
		return wrong_type(arg);
	max = c->cur == BODY_K_EXPECTED ? PS_MAX_REPLICAS : c->max;
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
		if (v > max)
			return fail(c, BODY_RANGE); /* also stops overflow */
	}
	if (c->cur == BODY_K_EXPECTED)
		c->out.expected = (uint32_t)v;
	else
		c->out.replicas = (uint32_t)v;
	c->cur = 0;
	return 1;
}

static int
on_start_map(void *arg)
{
	struct body_ctx *c = arg;

	if (c->depth != 0 || c->seen_object)
		return wrong_type(arg);
	c->depth = 1;
	c->seen_object = 1;
	return 1;
}

static int
on_map_key(void *arg, const unsigned char *key, size_t len)
{
	struct body_ctx *c = arg;
	size_t i;

	/* Counted compare: a key "replicas\u0000x" is not "replicas". */
	for (i = 0; i < NKEYS; i++)
		if (len == strlen(keys[i].name) &&
		    memcmp(key, keys[i].name, len) == 0)
			break;
	if (i == NKEYS || (keys[i].bit & c->allowed) == 0)
		return fail(c, BODY_UNKNOWN_FIELD);
	c->cur = keys[i].bit;
	if (c->out.present & keys[i].bit)
		return fail(c, BODY_DUPLICATE_FIELD);
	c->out.present |= keys[i].bit;
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
	return wrong_type(arg);
}

static int
on_end_array(void *arg)
{
	/* Unreachable: every array is refused when it starts. */
	return wrong_type(arg);
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
body_parse_write(const unsigned char *buf, size_t len, unsigned allowed,
    uint32_t max, struct body_write *out)
{
	struct body_ctx c;
	yajl_handle h;
	yajl_status st;

	out->bad_key = 0;
	if (len == 0 || only_space(buf, len))
		return BODY_EMPTY;
	/* yajl's lexer takes \f and \v for whitespace; RFC 8259 does not,
	 * and neither byte can stand raw anywhere in JSON text (inside a
	 * string it must be escaped). */
	if (memchr(buf, '\f', len) != NULL || memchr(buf, '\v', len) != NULL)
		return BODY_SYNTAX;
	memset(&c, 0, sizeof(c));
	c.max = max;
	c.allowed = allowed | BODY_K_REPLICAS;
	if ((h = yajl_alloc(&body_callbacks, NULL, &c)) == NULL)
		return BODY_NOMEM;
	c.h = h;
	/* Defaults kept on purpose: no comments, UTF-8 validated, one value,
	 * no trailing garbage, no partial values. */
	st = yajl_parse(h, buf, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	if (c.err != BODY_OK) {
		out->bad_key = c.out.bad_key;
		return c.err;
	}
	if (st != yajl_status_ok)
		return BODY_SYNTAX;
	if (!c.seen_object)
		return BODY_NOT_OBJECT;
	/* yajl lets an unterminated string after the value pass (its lexer
	 * waits for the rest and yajl_complete_parse does not ask): only
	 * whitespace may follow the '}'.  Found by fuzz_body.c. */
	if (!only_space(buf + c.end, len - c.end))
		return BODY_SYNTAX;
	if ((c.out.present & BODY_K_REPLICAS) == 0) {
		out->bad_key = BODY_K_REPLICAS;
		return BODY_MISSING_FIELD;
	}
	*out = c.out;
	return BODY_OK;
}

enum body_err
body_parse_replicas(
    const unsigned char *buf, size_t len, uint32_t max, uint32_t *replicas)
{
	struct body_write w;
	enum body_err e = body_parse_write(buf, len, BODY_K_REPLICAS, max, &w);

	if (e == BODY_OK)
		*replicas = w.replicas;
	return e;
}

const char *
body_key_name(unsigned key)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].bit == key)
			return keys[i].name;
	return "?";
}

const char *
body_reason(enum body_err e, unsigned bad_key)
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
		return bad_key == BODY_K_EXPECTED ? "invalid_expected_replicas"
		                                  : "invalid_replicas";
	case BODY_NOT_BOOLEAN:
		return bad_key == BODY_K_SUSPENDED ? "invalid_suspended"
		                                   : "invalid_force";
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
		return "the body has a field that is not allowed";
	case BODY_DUPLICATE_FIELD:
		return "a field appears more than once";
	case BODY_MISSING_FIELD:
		return "field \"replicas\" is required";
	case BODY_NOT_INTEGER:
		return "the field must be an integer";
	case BODY_RANGE:
		return "the field is out of range";
	case BODY_NOT_BOOLEAN:
		return "the field must be true or false";
	case BODY_NOMEM:
		return "out of memory";
	}
	return "bad request";
}

void
body_describe(enum body_err e, unsigned bad_key, unsigned allowed, uint32_t max,
    char *buf, size_t size)
{
	const char *k = body_key_name(bad_key);
	size_t i, n;
	int w;

	if (size == 0)
		return;
	allowed |= BODY_K_REPLICAS;
	switch (e) {
	case BODY_UNKNOWN_FIELD:
		if (allowed == BODY_K_REPLICAS) {
			snprintf(buf, size,
			    "only the field \"replicas\" is allowed");
			return;
		}
		w = snprintf(buf, size, "allowed fields:");
		n = w < 0 ? 0 : (size_t)w;
		for (i = 0; i < NKEYS && n < size; i++) {
			if ((keys[i].bit & allowed) == 0)
				continue;
			w = snprintf(buf + n, size - n, "%s \"%s\"",
			    n > strlen("allowed fields:") ? "," : "",
			    keys[i].name);
			n += w < 0 ? 0 : (size_t)w;
		}
		return;
	case BODY_DUPLICATE_FIELD:
		snprintf(buf, size, "field \"%s\" appears more than once", k);
		return;
	case BODY_NOT_INTEGER:
		snprintf(buf, size, "\"%s\" must be an integer", k);
		return;
	case BODY_RANGE:
		snprintf(buf, size, "\"%s\" must be an integer from 0 to %u", k,
		    bad_key == BODY_K_EXPECTED ? PS_MAX_REPLICAS : max);
		return;
	case BODY_NOT_BOOLEAN:
		snprintf(buf, size, "\"%s\" must be true or false", k);
		return;
	default:
		snprintf(buf, size, "%s", body_message(e));
		return;
	}
}
