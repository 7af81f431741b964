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
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/body.h"

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
	CHECK(body_reason(e) != NULL && body_reason(e)[0] != '\0');
	CHECK(body_message(e) != NULL && body_message(e)[0] != '\0');
	if (e == BODY_OK)
		CHECK(*v <= max);
	else
		CHECK(*v == SENTINEL);
	return e;
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
