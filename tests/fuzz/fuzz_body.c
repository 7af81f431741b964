/*
 * fuzz_body.c — libFuzzer driver for the gateway's request body parser
 * (gateway/body.c), the first code that reads a client's body after the
 * HTTP parser.
 *
 * Input: one control byte choosing the maximum (a table of boundaries, or
 * the next four bytes big-endian), then the body, copied into an
 * exactly-sized heap block.  Oracles, beyond ASan/UBSan:
 *   - an independent recognizer of the one valid form (strict RFC 8259:
 *     ws '{' ws "replicas" ws ':' ws integer ws '}' ws, the key's letters
 *     literal or \u-escaped) agrees: BODY_OK exactly when it matches with
 *     a value <= max, and then with the same value; BODY_RANGE when it
 *     matches with a larger value; BODY_SYNTAX when a valid body is
 *     followed by anything but whitespace; BODY_EMPTY exactly when there
 *     is nothing but whitespace;
 *   - the value is within 0..max; on error it is left untouched;
 *   - an accepted body is refused with any byte of garbage after it, and
 *     its value is accepted at max = value and refused at value - 1;
 *   - every result has a non-empty reason and message.
 * And for the write bodies of issue #14 (body_parse_write with the keys of
 * POST replicas and of PUT pin), on the same input:
 *   - a body the replicas-only parser accepts is accepted with either key
 *     set, with the same count and nothing else present;
 *   - a body accepted with the scale keys is accepted with the pin keys
 *     with the same result; one accepted with the pin keys is accepted
 *     with the scale keys exactly when it has no "suspended";
 *   - the values are in range (replicas <= max, expectedReplicas <=
 *     PS_MAX_REPLICAS, booleans 0/1), absent keys read 0;
 *   - a typed error names one key the route allows; every result has a
 *     reason and a described message; an accepted body is refused with
 *     garbage after it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/body.h"
#include "proto-socket/ps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

#define SENTINEL 0xdeadbeefu

/* What the strict recognizer makes of the input. */
enum strict {
	S_NO,       /* not the valid form */
	S_OK,       /* the valid form, value <= max */
	S_RANGE,    /* the valid form, value > max */
	S_TRAILING, /* a valid form, then something that is not whitespace */
	S_EMPTY     /* whitespace only */
};

static const uint32_t maxes[] = {0, 1, 2, 9, 10, 99, 100, 255, 1000, 65535,
    2147483646u, 2147483647u, 2147483648u, 4294967294u, 4294967295u};

/* RFC 8259 whitespace: space, tab, LF, CR, and nothing else. */
static int
ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t
skip_ws(const unsigned char *s, size_t len, size_t i)
{
	while (i < len && ws(s[i]))
		i++;
	return i;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The key "replicas" at s[*i], each letter literal or \uXXXX. */
static int
strict_key(const unsigned char *s, size_t len, size_t *i)
{
	static const char want[] = "replicas";
	size_t p = *i;

	if (p >= len || s[p] != '"')
		return 0;
	p++;
	for (size_t k = 0; k < sizeof(want) - 1; k++) {
		if (p < len && s[p] == (unsigned char)want[k]) {
			p++;
			continue;
		}
		if (len - p < 6 || s[p] != '\\' || s[p + 1] != 'u')
			return 0;
		int v = 0;
		for (size_t h = 2; h < 6; h++) {
			int d = hexval(s[p + h]);
			if (d < 0)
				return 0;
			v = v * 16 + d;
		}
		if (v != want[k])
			return 0;
		p += 6;
	}
	if (p >= len || s[p] != '"')
		return 0;
	*i = p + 1;
	return 1;
}

static enum strict
strict_parse(const unsigned char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	int big = 0;
	size_t i = skip_ws(s, len, 0), start;

	if (i == len)
		return S_EMPTY;
	if (s[i] != '{')
		return S_NO;
	i = skip_ws(s, len, i + 1);
	if (!strict_key(s, len, &i))
		return S_NO;
	i = skip_ws(s, len, i);
	if (i >= len || s[i] != ':')
		return S_NO;
	i = skip_ws(s, len, i + 1);
	start = i;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (v > UINT32_MAX)
			big = 1; /* stop growing; any more digits stay big */
		else
			v = v * 10 + (uint64_t)(s[i] - '0');
		i++;
	}
	if (i == start || (s[start] == '0' && i - start > 1))
		return S_NO; /* no digits, or a leading zero */
	i = skip_ws(s, len, i);
	if (i >= len || s[i] != '}')
		return S_NO;
	i = skip_ws(s, len, i + 1);
	/* Out of range and followed by garbage: either refusal is right. */
	if (i != len)
		return big || v > max ? S_NO : S_TRAILING;
	if (big || v > max)
		return S_RANGE;
	*out = (uint32_t)v;
	return S_OK;
}

/* body_parse_replicas on a private exactly-sized copy. */
static enum body_err
parse(const unsigned char *buf, size_t len, uint32_t max, uint32_t *v)
{
	unsigned char *in = malloc(len != 0 ? len : 1);
	enum body_err e;

	if (in == NULL)
		abort();
	memcpy(in, buf, len);
	*v = SENTINEL;
	e = body_parse_replicas(in, len, max, v);
	free(in);
	CHECK(e >= BODY_OK && e <= BODY_NOMEM && e != BODY_NOMEM);
	CHECK(body_reason(e, 0) != NULL && body_reason(e, 0)[0] != '\0');
	CHECK(body_message(e) != NULL && body_message(e)[0] != '\0');
	if (e == BODY_OK)
		CHECK(*v <= max);
	else
		CHECK(*v == SENTINEL);
	return e;
}

/* body_parse_write on an exactly-sized heap copy, and its invariants. */
static enum body_err
parse_write(const unsigned char *buf, size_t len, unsigned keys, uint32_t max,
    struct body_write *w)
{
	unsigned char *in = malloc(len != 0 ? len : 1);
	enum body_err e;
	char msg[160];

	if (in == NULL)
		abort();
	memcpy(in, buf, len);
	e = body_parse_write(in, len, keys, max, w);
	free(in);
	CHECK(e >= BODY_OK && e < BODY_NOMEM);
	CHECK(body_reason(e, w->bad_key)[0] != '\0');
	body_describe(e, w->bad_key, keys, max, msg, sizeof(msg));
	CHECK(msg[0] != '\0' && strlen(msg) < sizeof(msg));
	if (e == BODY_NOT_INTEGER || e == BODY_RANGE || e == BODY_NOT_BOOLEAN ||
	    e == BODY_DUPLICATE_FIELD || e == BODY_MISSING_FIELD)
		CHECK(w->bad_key != 0 && (w->bad_key & (w->bad_key - 1)) == 0 &&
		    (w->bad_key & (keys | BODY_K_REPLICAS)) != 0);
	if (e != BODY_OK)
		return e;
	CHECK((w->present & BODY_K_REPLICAS) != 0);
	CHECK((w->present & ~(keys | BODY_K_REPLICAS)) == 0);
	CHECK(w->replicas <= max);
	CHECK(w->expected <= PS_MAX_REPLICAS);
	CHECK(w->force == 0 || w->force == 1);
	CHECK(w->suspended == 0 || w->suspended == 1);
	if ((w->present & BODY_K_EXPECTED) == 0)
		CHECK(w->expected == 0);
	if ((w->present & BODY_K_FORCE) == 0)
		CHECK(w->force == 0);
	if ((w->present & BODY_K_SUSPENDED) == 0)
		CHECK(w->suspended == 0);
	return e;
}

static void
check_write_modes(const unsigned char *data, size_t size, uint32_t max,
    enum body_err e1, uint32_t v1)
{
	struct body_write ws, wp, tmp;
	enum body_err es, ep;
	unsigned char *more;

	es = parse_write(data, size, BODY_KEYS_SCALE, max, &ws);
	ep = parse_write(data, size, BODY_KEYS_PIN, max, &wp);
	CHECK((es == BODY_EMPTY) == (e1 == BODY_EMPTY));
	CHECK((ep == BODY_EMPTY) == (e1 == BODY_EMPTY));
	if (e1 == BODY_OK) {
		CHECK(es == BODY_OK && ep == BODY_OK);
		CHECK(ws.present == BODY_K_REPLICAS && ws.replicas == v1);
		CHECK(wp.present == BODY_K_REPLICAS && wp.replicas == v1);
	}
	if (es == BODY_OK)
		CHECK(ep == BODY_OK && memcmp(&ws, &wp, sizeof(ws)) == 0);
	if (ep == BODY_OK) {
		if (wp.present & BODY_K_SUSPENDED)
			CHECK(es == BODY_UNKNOWN_FIELD);
		else
			CHECK(es == BODY_OK);
		if ((more = malloc(size + 1)) == NULL)
			abort();
		memcpy(more, data, size);
		more[size] = 'x';
		CHECK(parse_write(more, size + 1, BODY_KEYS_PIN, max, &tmp) ==
		    BODY_SYNTAX);
		free(more);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t max, v, w, sv = 0;
	enum body_err e;
	enum strict s;
	unsigned char *more;

	if (size < 1)
		return 0;
	if (data[0] < 0xf0 || size < 5) {
		max = maxes[data[0] % (sizeof(maxes) / sizeof(maxes[0]))];
		data++;
		size--;
	} else {
		max = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
		    (uint32_t)data[3] << 8 | data[4];
		data += 5;
		size -= 5;
	}

	e = parse(data, size, max, &v);
	check_write_modes(data, size, max, e, v);
	s = strict_parse(data, size, max, &sv);
	CHECK((e == BODY_OK) == (s == S_OK));
	CHECK((e == BODY_EMPTY) == (s == S_EMPTY));
	if (s == S_RANGE)
		CHECK(e == BODY_RANGE);
	if (s == S_TRAILING)
		CHECK(e == BODY_SYNTAX);
	if (e != BODY_OK)
		return 0;
	CHECK(v == sv);

	/* Garbage after an accepted body is refused, whatever it is. */
	if ((more = malloc(size + 2)) == NULL)
		abort();
	memcpy(more, data, size);
	more[size] = 'x';
	more[size + 1] = '}';
	CHECK(parse(more, size + 1, max, &w) == BODY_SYNTAX);
	more[size] = '{';
	CHECK(parse(more, size + 2, max, &w) == BODY_SYNTAX);
	more[size] = '\f'; /* whitespace to yajl, not to JSON */
	CHECK(parse(more, size + 1, max, &w) == BODY_SYNTAX);
	free(more);

	/* The bound is exact. */
	CHECK(parse(data, size, v, &w) == BODY_OK && w == v);
	if (v > 0)
		CHECK(parse(data, size, v - 1, &w) == BODY_RANGE);
	return 0;
}
