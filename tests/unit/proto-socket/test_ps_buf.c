/*
 * test_ps_buf.c — proto-socket/ps_buf.c: the bounded field writer, the
 * bounded reader and the charset validators of PROTOCOL.md §4.
 *
 * Inputs live in heap blocks of exactly their size, so a read one byte past
 * the end is an ASan error under `make sanitize`, not a silent pass.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"

/* A heap copy of exactly `len` bytes (at least one byte allocated). */
static uint8_t *
exact_copy(const void *src, size_t len)
{
	uint8_t *p = malloc(len > 0 ? len : 1);

	assert_non_null(p);
	if (len > 0)
		memcpy(p, src, len);
	return p;
}

/* A NUL-terminated string of `n` copies of `c`. */
static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- writer ------------------------------------------------------------ */

static void
test_ps_wbuf_writes_big_endian(void **state)
{
	static const uint8_t want[] = {0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
	    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 'x', 'y'};
	uint8_t mem[sizeof(want)];
	struct ps_wbuf w;

	(void)state;
	ps_wbuf_init(&w, mem, sizeof(mem));
	ps_wbuf_u8(&w, 0xab);
	ps_wbuf_u16(&w, 0x1234);
	ps_wbuf_u32(&w, 0xdeadbeefu);
	ps_wbuf_u64(&w, 0x0102030405060708ull);
	ps_wbuf_bytes(&w, "xy", 2);
	assert_int_equal(ps_wbuf_error(&w), PS_OK);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(mem, want, sizeof(want));
}

static void
test_ps_wbuf_fills_exactly_to_capacity(void **state)
{
	uint8_t *mem = malloc(15);
	struct ps_wbuf w;

	(void)state;
	assert_non_null(mem);
	ps_wbuf_init(&w, mem, 15);
	ps_wbuf_u64(&w, UINT64_MAX);
	ps_wbuf_u32(&w, UINT32_MAX);
	ps_wbuf_u16(&w, UINT16_MAX);
	ps_wbuf_u8(&w, UINT8_MAX);
	assert_int_equal(ps_wbuf_error(&w), PS_OK);
	assert_int_equal(w.len, 15);
	free(mem);
}

/* Each put that does not fit fails without writing a byte past `cap`. */
static void
test_ps_wbuf_refuses_each_put_one_byte_short(void **state)
{
	(void)state;
	for (int kind = 0; kind < 5; kind++) {
		static const size_t need[] = {1, 2, 4, 8, 3};
		size_t cap = need[kind] - 1;
		uint8_t *mem = malloc(cap > 0 ? cap : 1);
		struct ps_wbuf w;

		assert_non_null(mem);
		ps_wbuf_init(&w, mem, cap);
		switch (kind) {
		case 0:
			ps_wbuf_u8(&w, 1);
			break;
		case 1:
			ps_wbuf_u16(&w, 1);
			break;
		case 2:
			ps_wbuf_u32(&w, 1);
			break;
		case 3:
			ps_wbuf_u64(&w, 1);
			break;
		default:
			ps_wbuf_bytes(&w, "abc", 3);
			break;
		}
		assert_int_equal(ps_wbuf_error(&w), PS_ERR_NOSPACE);
		assert_int_equal(w.len, 0);
		free(mem);
	}
}

/* The first error sticks: later puts, even ones that fit, write nothing. */
static void
test_ps_wbuf_error_is_sticky(void **state)
{
	uint8_t mem[8];
	struct ps_wbuf w;

	(void)state;
	ps_wbuf_init(&w, mem, sizeof(mem));
	ps_wbuf_str(&w, PS_STR_NAME, "Bad"); /* CHARSET first */
	ps_wbuf_u64(&w, 1);
	ps_wbuf_u8(&w, 1);
	ps_wbuf_str(&w, PS_STR_NAME, "good");
	assert_int_equal(ps_wbuf_error(&w), PS_ERR_CHARSET);
	assert_int_equal(w.len, 0);

	ps_wbuf_init(&w, mem, sizeof(mem));
	ps_wbuf_u64(&w, 1);
	ps_wbuf_u8(&w, 1); /* NOSPACE */
	ps_wbuf_str(&w, PS_STR_NAME, "Bad");
	assert_int_equal(ps_wbuf_error(&w), PS_ERR_NOSPACE);
	assert_int_equal(w.len, 8);
}

static void
test_ps_wbuf_bytes_of_length_zero_is_a_no_op(void **state)
{
	struct ps_wbuf w;

	(void)state;
	ps_wbuf_init(&w, NULL, 0);
	ps_wbuf_bytes(&w, NULL, 0);
	assert_int_equal(ps_wbuf_error(&w), PS_OK);
	assert_int_equal(w.len, 0);
}

static void
test_ps_wbuf_str_writes_length_then_bytes(void **state)
{
	uint8_t mem[16];
	struct ps_wbuf w;

	(void)state;
	ps_wbuf_init(&w, mem, sizeof(mem));
	ps_wbuf_str(&w, PS_STR_NAME, "web.a-1");
	ps_wbuf_str(&w, PS_STR_MESSAGE, "");
	assert_int_equal(ps_wbuf_error(&w), PS_OK);
	assert_int_equal(w.len, 2 + 7 + 2);
	assert_memory_equal(mem, "\x00\x07web.a-1\x00\x00", 11);
}

/*
 * An over-long string is refused without reading more than max + 1 bytes:
 * the source here has no NUL at all and is exactly max + 1 bytes long.
 */
static void
test_ps_wbuf_str_refuses_over_max_without_overread(void **state)
{
	static const enum ps_str_kind kinds[] = {PS_STR_NAME, PS_STR_NAMESPACE,
	    PS_STR_IDENTITY, PS_STR_RV, PS_STR_MESSAGE, PS_STR_OPT_NAMESPACE};
	uint8_t mem[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t max = ps_str_max(kinds[i]);
		char *s = malloc(max + 1);
		struct ps_wbuf w;

		assert_non_null(s);
		memset(s, 'a', max + 1); /* not terminated */
		ps_wbuf_init(&w, mem, sizeof(mem));
		ps_wbuf_str(&w, kinds[i], s);
		assert_int_equal(ps_wbuf_error(&w), PS_ERR_STR_LEN);
		assert_int_equal(w.len, 0);
		free(s);
	}
}

static void
test_ps_wbuf_str_accepts_each_kind_at_max(void **state)
{
	static const enum ps_str_kind kinds[] = {PS_STR_NAME, PS_STR_NAMESPACE,
	    PS_STR_IDENTITY, PS_STR_RV, PS_STR_MESSAGE, PS_STR_OPT_NAMESPACE};
	uint8_t mem[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t max = ps_str_max(kinds[i]);
		char *s = repeat('z', max);
		struct ps_wbuf w;

		ps_wbuf_init(&w, mem, sizeof(mem));
		ps_wbuf_str(&w, kinds[i], s);
		assert_int_equal(ps_wbuf_error(&w), PS_OK);
		assert_int_equal(w.len, 2 + max);
		assert_int_equal(mem[0], max >> 8);
		assert_int_equal(mem[1], max & 0xff);
		free(s);
	}
}

/* A string that does not fit leaves neither its length nor its bytes. */
static void
test_ps_wbuf_str_without_room_writes_nothing(void **state)
{
	uint8_t mem[6];
	struct ps_wbuf w;

	(void)state;
	ps_wbuf_init(&w, mem, sizeof(mem));
	ps_wbuf_u8(&w, 7);
	ps_wbuf_str(&w, PS_STR_NAME, "abcd"); /* needs 6, 5 left */
	assert_int_equal(ps_wbuf_error(&w), PS_ERR_NOSPACE);
	assert_int_equal(w.len, 1);
}

/* ---- reader ------------------------------------------------------------ */

static void
test_ps_rbuf_reads_big_endian(void **state)
{
	static const uint8_t in[] = {0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
	    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
	uint8_t *p = exact_copy(in, sizeof(in));
	struct ps_rbuf r;
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;

	(void)state;
	ps_rbuf_init(&r, p, sizeof(in));
	assert_int_equal(ps_rbuf_remaining(&r), 15);
	assert_int_equal(ps_rbuf_end(&r), PS_ERR_TRAILING);
	assert_int_equal(ps_rbuf_u8(&r, &a), PS_OK);
	assert_int_equal(ps_rbuf_u16(&r, &b), PS_OK);
	assert_int_equal(ps_rbuf_u32(&r, &c), PS_OK);
	assert_int_equal(ps_rbuf_u64(&r, &d), PS_OK);
	assert_int_equal(a, 0xab);
	assert_int_equal(b, 0x1234);
	assert_int_equal(c, 0xdeadbeefu);
	assert_true(d == 0x0102030405060708ull);
	assert_int_equal(ps_rbuf_remaining(&r), 0);
	assert_int_equal(ps_rbuf_end(&r), PS_OK);
	assert_int_equal(ps_rbuf_u8(&r, &a), PS_ERR_TRUNCATED);
	free(p);
}

/* Every getter at every shortfall: TRUNCATED, position unchanged. */
static void
test_ps_rbuf_getters_refuse_short_input(void **state)
{
	static const uint8_t ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};

	(void)state;
	for (size_t need = 1; need <= 8; need *= 2) {
		for (size_t have = 0; have < need; have++) {
			uint8_t *p = exact_copy(ones, have);
			struct ps_rbuf r;
			uint8_t a = 9;
			uint16_t b = 9;
			uint32_t c = 9;
			uint64_t d = 9;
			int rc;

			ps_rbuf_init(&r, p, have);
			if (need == 1)
				rc = ps_rbuf_u8(&r, &a);
			else if (need == 2)
				rc = ps_rbuf_u16(&r, &b);
			else if (need == 4)
				rc = ps_rbuf_u32(&r, &c);
			else
				rc = ps_rbuf_u64(&r, &d);
			assert_int_equal(rc, PS_ERR_TRUNCATED);
			assert_int_equal(ps_rbuf_remaining(&r), have);
			assert_true(a == 9 && b == 9 && c == 9 && d == 9);
			free(p);
		}
	}
}

static void
test_ps_rbuf_str_round_trips_each_kind_at_max(void **state)
{
	static const enum ps_str_kind kinds[] = {PS_STR_NAME, PS_STR_NAMESPACE,
	    PS_STR_IDENTITY, PS_STR_RV, PS_STR_MESSAGE, PS_STR_OPT_NAMESPACE};
	uint8_t mem[1024];
	char out[PS_MAX_MESSAGE + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t max = ps_str_max(kinds[i]);
		char *s = repeat('7', max);
		struct ps_wbuf w;
		struct ps_rbuf r;
		uint8_t *p;

		ps_wbuf_init(&w, mem, sizeof(mem));
		ps_wbuf_str(&w, kinds[i], s);
		assert_int_equal(ps_wbuf_error(&w), PS_OK);
		p = exact_copy(mem, w.len);
		ps_rbuf_init(&r, p, w.len);
		/* Exactly max + 1 bytes of room is enough. */
		assert_int_equal(
		    ps_rbuf_str(&r, kinds[i], out, max + 1), PS_OK);
		assert_string_equal(out, s);
		assert_int_equal(ps_rbuf_end(&r), PS_OK);
		free(p);
		free(s);
	}
}

static void
test_ps_rbuf_str_accepts_empty_message(void **state)
{
	static const uint8_t in[] = {0, 0};
	uint8_t *p = exact_copy(in, sizeof(in));
	char out[PS_MAX_MESSAGE + 1] = "junk";
	struct ps_rbuf r;

	(void)state;
	ps_rbuf_init(&r, p, sizeof(in));
	assert_int_equal(
	    ps_rbuf_str(&r, PS_STR_MESSAGE, out, sizeof(out)), PS_OK);
	assert_string_equal(out, "");
	assert_int_equal(ps_rbuf_end(&r), PS_OK);
	free(p);
}

/* Hostile str<K> inputs: each row is one wire encoding and its verdict. */
struct str_case {
	const char *what;
	enum ps_str_kind kind;
	const char *in; /* u16 length + bytes, as wire bytes */
	size_t in_len;
	int want;
};

#define S(x) x, sizeof(x) - 1

static const struct str_case str_cases[] = {
    /* length 254 > name max, only 3 bytes follow: STR_LEN, not TRUNCATED */
    {"name len 254", PS_STR_NAME,
        S("\x00\xfe"
          "abc"),
        PS_ERR_STR_LEN},
    /* length 0xffff with nothing after it */
    {"name len 0xffff", PS_STR_NAME, S("\xff\xff"), PS_ERR_STR_LEN},
    /* namespace length 64 */
    {"namespace len 64", PS_STR_NAMESPACE, S("\x00\x40"), PS_ERR_STR_LEN},
    /* identity length 257 */
    {"identity len 257", PS_STR_IDENTITY, S("\x01\x01"), PS_ERR_STR_LEN},
    /* rv length 65 */
    {"rv len 65", PS_STR_RV, S("\x00\x41"), PS_ERR_STR_LEN},
    /* message length 513 */
    {"message len 513", PS_STR_MESSAGE, S("\x02\x01"), PS_ERR_STR_LEN},
    /* no length at all */
    {"empty input", PS_STR_NAME, S(""), PS_ERR_TRUNCATED},
    /* half a length */
    {"one length byte", PS_STR_NAME, S("\x00"), PS_ERR_TRUNCATED},
    /* length 5, 4 bytes */
    {"short body", PS_STR_NAME,
        S("\x00\x05"
          "abcd"),
        PS_ERR_TRUNCATED},
    /* empty name */
    {"empty name", PS_STR_NAME, S("\x00\x00"), PS_ERR_CHARSET},
    /* empty namespace */
    {"empty namespace", PS_STR_NAMESPACE, S("\x00\x00"), PS_ERR_CHARSET},
    /* empty identity */
    {"empty identity", PS_STR_IDENTITY, S("\x00\x00"), PS_ERR_CHARSET},
    /* empty rv */
    {"empty rv", PS_STR_RV, S("\x00\x00"), PS_ERR_CHARSET},
    /* upper case */
    {"upper", PS_STR_NAME,
        S("\x00\x03"
          "Web"),
        PS_ERR_CHARSET},
    /* underscore */
    {"underscore", PS_STR_NAME,
        S("\x00\x03"
          "a_b"),
        PS_ERR_CHARSET},
    /* leading '-' */
    {"leading dash", PS_STR_NAME,
        S("\x00\x02"
          "-a"),
        PS_ERR_CHARSET},
    /* trailing '-' */
    {"trailing dash", PS_STR_NAME,
        S("\x00\x02"
          "a-"),
        PS_ERR_CHARSET},
    /* empty label inside */
    {"a..b", PS_STR_NAME,
        S("\x00\x04"
          "a..b"),
        PS_ERR_CHARSET},
    /* leading dot */
    {".a", PS_STR_NAME,
        S("\x00\x02"
          ".a"),
        PS_ERR_CHARSET},
    /* trailing dot */
    {"a.", PS_STR_NAME,
        S("\x00\x02"
          "a."),
        PS_ERR_CHARSET},
    /* label ending in '-' before a dot */
    {"a-.b", PS_STR_NAME,
        S("\x00\x04"
          "a-.b"),
        PS_ERR_CHARSET},
    /* NUL inside a name */
    {"NUL in name", PS_STR_NAME,
        S("\x00\x03"
          "a\0b"),
        PS_ERR_CHARSET},
    /* high byte in a name */
    {"0xe9 in name", PS_STR_NAME,
        S("\x00\x03"
          "a\xe9"
          "b"),
        PS_ERR_CHARSET},
    /* dot in a namespace */
    {"dot in namespace", PS_STR_NAMESPACE,
        S("\x00\x03"
          "a.b"),
        PS_ERR_CHARSET},
    /* namespace ending in '-' */
    {"namespace a-", PS_STR_NAMESPACE,
        S("\x00\x02"
          "a-"),
        PS_ERR_CHARSET},
    /* control byte in identity */
    {"0x01 in identity", PS_STR_IDENTITY,
        S("\x00\x03"
          "a\x01"
          "b"),
        PS_ERR_CHARSET},
    /* DEL in identity */
    {"0x7f in identity", PS_STR_IDENTITY, S("\x00\x01\x7f"), PS_ERR_CHARSET},
    /* NUL inside identity */
    {"NUL in identity", PS_STR_IDENTITY,
        S("\x00\x03"
          "a\0b"),
        PS_ERR_CHARSET},
    /* newline in message */
    {"LF in message", PS_STR_MESSAGE,
        S("\x00\x03"
          "a\nb"),
        PS_ERR_CHARSET},
    /* tab in message */
    {"TAB in message", PS_STR_MESSAGE, S("\x00\x01\t"), PS_ERR_CHARSET},
    /* space in rv */
    {"space in rv", PS_STR_RV,
        S("\x00\x03"
          "1 2"),
        PS_ERR_CHARSET},
    /* 0x80 in rv */
    {"0x80 in rv", PS_STR_RV, S("\x00\x01\x80"), PS_ERR_CHARSET},
    /* the valid neighbours of the above */
    {"name ok", PS_STR_NAME,
        S("\x00\x07"
          "a-0.b.c"),
        PS_OK},
    {"identity space ok", PS_STR_IDENTITY,
        S("\x00\x03"
          "a ~"),
        PS_OK},
    {"rv ok", PS_STR_RV, S("\x00\x02!~"), PS_OK},
    {"message space ok", PS_STR_MESSAGE, S("\x00\x01 "), PS_OK},
    /* version 3: a namespace, or "" for every namespace (LIST, PIN_LIST) */
    {"opt namespace empty", PS_STR_OPT_NAMESPACE, S("\x00\x00"), PS_OK},
    {"opt namespace ok", PS_STR_OPT_NAMESPACE,
        S("\x00\x04"
          "a-0b"),
        PS_OK},
    {"opt namespace dot", PS_STR_OPT_NAMESPACE,
        S("\x00\x03"
          "a.b"),
        PS_ERR_CHARSET},
    {"opt namespace upper", PS_STR_OPT_NAMESPACE,
        S("\x00\x01"
          "A"),
        PS_ERR_CHARSET},
    {"opt namespace -a", PS_STR_OPT_NAMESPACE,
        S("\x00\x02"
          "-a"),
        PS_ERR_CHARSET},
    {"opt namespace NUL", PS_STR_OPT_NAMESPACE,
        S("\x00\x02"
          "a\0"),
        PS_ERR_CHARSET},
    {"opt namespace len 64", PS_STR_OPT_NAMESPACE,
        S("\x00\x40"
          "a"),
        PS_ERR_STR_LEN},
    {"opt namespace len 0xffff", PS_STR_OPT_NAMESPACE,
        S("\xff\xff"
          "a"),
        PS_ERR_STR_LEN},
    {"opt namespace short", PS_STR_OPT_NAMESPACE,
        S("\x00\x02"
          "a"),
        PS_ERR_TRUNCATED},
    /* the required kind keeps refusing "" */
    {"namespace empty", PS_STR_NAMESPACE, S("\x00\x00"), PS_ERR_CHARSET},
};

static void
test_ps_rbuf_str_rejects_hostile_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(str_cases) / sizeof(str_cases[0]); i++) {
		const struct str_case *c = &str_cases[i];
		uint8_t *p = exact_copy(c->in, c->in_len);
		char out[PS_MAX_MESSAGE + 1];
		struct ps_rbuf r;
		int rc;

		memset(out, 'Q', sizeof(out));
		ps_rbuf_init(&r, p, c->in_len);
		rc = ps_rbuf_str(&r, c->kind, out, sizeof(out));
		if (rc != c->want)
			fail_msg("%s: got %d, want %d", c->what, rc, c->want);
		if (rc != PS_OK && out[0] != '\0')
			fail_msg("%s: output not emptied on error", c->what);
		free(p);
	}
}

/* An output buffer smaller than the string: NOSPACE, nothing written. */
static void
test_ps_rbuf_str_refuses_small_output(void **state)
{
	static const uint8_t in[] = {0, 3, 'a', 'b', 'c'};
	uint8_t *p = exact_copy(in, sizeof(in));
	char *out = malloc(3);
	struct ps_rbuf r;

	(void)state;
	assert_non_null(out);
	ps_rbuf_init(&r, p, sizeof(in));
	assert_int_equal(ps_rbuf_str(&r, PS_STR_NAME, out, 3), PS_ERR_NOSPACE);
	assert_string_equal(out, "");
	ps_rbuf_init(&r, p, sizeof(in));
	assert_int_equal(ps_rbuf_str(&r, PS_STR_NAME, out, 0), PS_ERR_NOSPACE);
	free(out);
	free(p);
}

/* ---- validators -------------------------------------------------------- */

struct valid_case {
	const char *s; /* NUL-terminated unless len given */
	int want;
};

static const struct valid_case name_cases[] = {
    {"a", PS_OK},                 /* shortest */
    {"0", PS_OK},                 /* digits may lead */
    {"a-b", PS_OK},               /* inner dash */
    {"a--b", PS_OK},              /* two inner dashes */
    {"a.b.c", PS_OK},             /* subdomain */
    {"1.2.3", PS_OK},             /* digit labels */
    {"", PS_ERR_CHARSET},         /* empty */
    {"A", PS_ERR_CHARSET},        /* upper case */
    {"a_b", PS_ERR_CHARSET},      /* underscore */
    {"-a", PS_ERR_CHARSET},       /* leading dash */
    {"a-", PS_ERR_CHARSET},       /* trailing dash */
    {"-", PS_ERR_CHARSET},        /* only a dash */
    {".", PS_ERR_CHARSET},        /* only a dot */
    {"a..b", PS_ERR_CHARSET},     /* empty label */
    {".a", PS_ERR_CHARSET},       /* leading dot */
    {"a.", PS_ERR_CHARSET},       /* trailing dot */
    {"a.-b", PS_ERR_CHARSET},     /* label starts with dash */
    {"a b", PS_ERR_CHARSET},      /* space */
    {"a/b", PS_ERR_CHARSET},      /* slash: path injection */
    {"a\nb", PS_ERR_CHARSET},     /* control byte */
    {"\xc3\xa9", PS_ERR_CHARSET}, /* UTF-8 */
};

static void
test_ps_valid_name_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]);
	     i++) {
		size_t len = strlen(name_cases[i].s);
		char *p = (char *)exact_copy(name_cases[i].s, len);
		int rc = ps_valid_name(p, len);

		if (rc != name_cases[i].want)
			fail_msg("name '%s': got %d want %d", name_cases[i].s,
			    rc, name_cases[i].want);
		free(p);
	}
}

static void
test_ps_valid_name_length_bounds(void **state)
{
	char *s = repeat('a', 254);

	(void)state;
	assert_int_equal(ps_valid_name(s, 253), PS_OK);
	assert_int_equal(ps_valid_name(s, 254), PS_ERR_STR_LEN);
	assert_int_equal(ps_valid_name(s, SIZE_MAX), PS_ERR_STR_LEN);
	/* A long name of many short labels is fine. */
	for (size_t i = 1; i < 253; i += 2)
		s[i] = '.';
	assert_int_equal(ps_valid_name(s, 253), PS_OK);
	/* Counted bytes: a NUL inside the count is a byte like any other. */
	s[4] = '\0';
	assert_int_equal(ps_valid_name(s, 253), PS_ERR_CHARSET);
	assert_int_equal(ps_valid_name(s, 3), PS_OK);
	free(s);
}

static const struct valid_case namespace_cases[] = {
    {"default", PS_OK},          /* typical */
    {"kube-system", PS_OK},      /* dash */
    {"0", PS_OK},                /* one digit */
    {"", PS_ERR_CHARSET},        /* empty */
    {"a.b", PS_ERR_CHARSET},     /* label, not subdomain */
    {"-a", PS_ERR_CHARSET},      /* leading dash */
    {"a-", PS_ERR_CHARSET},      /* trailing dash */
    {"Default", PS_ERR_CHARSET}, /* upper case */
    {"a_b", PS_ERR_CHARSET},     /* underscore */
};

static void
test_ps_valid_namespace_table(void **state)
{
	char *s = repeat('n', 64);

	(void)state;
	for (size_t i = 0;
	     i < sizeof(namespace_cases) / sizeof(namespace_cases[0]); i++) {
		size_t len = strlen(namespace_cases[i].s);
		char *p = (char *)exact_copy(namespace_cases[i].s, len);
		int rc = ps_valid_namespace(p, len);

		if (rc != namespace_cases[i].want)
			fail_msg("namespace '%s': got %d want %d",
			    namespace_cases[i].s, rc, namespace_cases[i].want);
		free(p);
	}
	assert_int_equal(ps_valid_namespace(s, 63), PS_OK);
	assert_int_equal(ps_valid_namespace(s, 64), PS_ERR_STR_LEN);
	free(s);
}

/* Every byte value against every ASCII kind's charset. */
static void
test_ps_valid_str_byte_classes(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		char b = (char)c;
		int printable = c >= 0x20 && c <= 0x7e;
		int visible = c >= 0x21 && c <= 0x7e;
		uint8_t u = (uint8_t)c;

		assert_int_equal(ps_valid_str(PS_STR_IDENTITY, &b, 1),
		    printable ? PS_OK : PS_ERR_CHARSET);
		assert_int_equal(ps_valid_str(PS_STR_MESSAGE, &b, 1),
		    printable ? PS_OK : PS_ERR_CHARSET);
		assert_int_equal(ps_valid_str(PS_STR_RV, &b, 1),
		    visible ? PS_OK : PS_ERR_CHARSET);
		assert_int_equal(ps_valid_metrics(&u, 1),
		    printable || c == '\t' || c == '\n' ? PS_OK
		                                        : PS_ERR_CHARSET);
		assert_int_equal(ps_valid_name(&b, 1),
		    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		        ? PS_OK
		        : PS_ERR_CHARSET);
	}
}

static void
test_ps_valid_str_length_bounds(void **state)
{
	char *s = repeat('x', 600);

	(void)state;
	assert_int_equal(ps_valid_str(PS_STR_IDENTITY, s, 0), PS_ERR_CHARSET);
	assert_int_equal(ps_valid_str(PS_STR_IDENTITY, s, 256), PS_OK);
	assert_int_equal(ps_valid_str(PS_STR_IDENTITY, s, 257), PS_ERR_STR_LEN);
	assert_int_equal(ps_valid_str(PS_STR_RV, s, 0), PS_ERR_CHARSET);
	assert_int_equal(ps_valid_str(PS_STR_RV, s, 64), PS_OK);
	assert_int_equal(ps_valid_str(PS_STR_RV, s, 65), PS_ERR_STR_LEN);
	assert_int_equal(ps_valid_str(PS_STR_MESSAGE, s, 0), PS_OK);
	assert_int_equal(ps_valid_str(PS_STR_MESSAGE, s, 512), PS_OK);
	assert_int_equal(ps_valid_str(PS_STR_MESSAGE, s, 513), PS_ERR_STR_LEN);
	assert_int_equal(ps_valid_str(PS_STR_NAMESPACE, s, 63), PS_OK);
	assert_int_equal(ps_valid_str(PS_STR_NAMESPACE, s, 64), PS_ERR_STR_LEN);
	assert_int_equal(ps_valid_str(PS_STR_NAMESPACE, s, 0), PS_ERR_CHARSET);
	assert_int_equal(ps_valid_str(PS_STR_OPT_NAMESPACE, s, 0), PS_OK);
	assert_int_equal(ps_valid_str(PS_STR_OPT_NAMESPACE, s, 1), PS_OK);
	assert_int_equal(ps_valid_str(PS_STR_OPT_NAMESPACE, s, 63), PS_OK);
	assert_int_equal(
	    ps_valid_str(PS_STR_OPT_NAMESPACE, s, 64), PS_ERR_STR_LEN);
	assert_int_equal(
	    ps_valid_str(PS_STR_OPT_NAMESPACE, "a.b", 3), PS_ERR_CHARSET);
	assert_int_equal(
	    ps_valid_str(PS_STR_OPT_NAMESPACE, "a-", 2), PS_ERR_CHARSET);
	assert_int_equal(ps_valid_str(PS_STR_NAME, s, 253), PS_OK);
	assert_int_equal(ps_valid_str(PS_STR_NAME, s, 254), PS_ERR_STR_LEN);
	/* An unknown kind is refused, not treated as anything. */
	assert_int_equal(
	    ps_valid_str((enum ps_str_kind)99, s, 1), PS_ERR_CHARSET);
	assert_int_equal(ps_valid_metrics(NULL, 0), PS_OK);
	free(s);
}

static void
test_ps_str_max_matches_protocol(void **state)
{
	(void)state;
	assert_int_equal(ps_str_max(PS_STR_NAME), 253);
	assert_int_equal(ps_str_max(PS_STR_NAMESPACE), 63);
	assert_int_equal(ps_str_max(PS_STR_OPT_NAMESPACE), 63);
	assert_int_equal(ps_str_max(PS_STR_IDENTITY), 256);
	assert_int_equal(ps_str_max(PS_STR_RV), 64);
	assert_int_equal(ps_str_max(PS_STR_MESSAGE), 512);
	assert_int_equal(ps_str_max((enum ps_str_kind)99), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ps_wbuf_writes_big_endian),
	    cmocka_unit_test(test_ps_wbuf_fills_exactly_to_capacity),
	    cmocka_unit_test(test_ps_wbuf_refuses_each_put_one_byte_short),
	    cmocka_unit_test(test_ps_wbuf_error_is_sticky),
	    cmocka_unit_test(test_ps_wbuf_bytes_of_length_zero_is_a_no_op),
	    cmocka_unit_test(test_ps_wbuf_str_writes_length_then_bytes),
	    cmocka_unit_test(
	        test_ps_wbuf_str_refuses_over_max_without_overread),
	    cmocka_unit_test(test_ps_wbuf_str_accepts_each_kind_at_max),
	    cmocka_unit_test(test_ps_wbuf_str_without_room_writes_nothing),
	    cmocka_unit_test(test_ps_rbuf_reads_big_endian),
	    cmocka_unit_test(test_ps_rbuf_getters_refuse_short_input),
	    cmocka_unit_test(test_ps_rbuf_str_round_trips_each_kind_at_max),
	    cmocka_unit_test(test_ps_rbuf_str_accepts_empty_message),
	    cmocka_unit_test(test_ps_rbuf_str_rejects_hostile_table),
	    cmocka_unit_test(test_ps_rbuf_str_refuses_small_output),
	    cmocka_unit_test(test_ps_valid_name_table),
	    cmocka_unit_test(test_ps_valid_name_length_bounds),
	    cmocka_unit_test(test_ps_valid_namespace_table),
	    cmocka_unit_test(test_ps_valid_str_byte_classes),
	    cmocka_unit_test(test_ps_valid_str_length_bounds),
	    cmocka_unit_test(test_ps_str_max_matches_protocol),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
