/*
 * fuzz_lease.c — libFuzzer driver for the core's strict Lease parser
 * (lease_json_* in core/kube/lease_json.c), which reads what the API server (or
 * anything posing as it) answers for the leader-election Lease, and for
 * lease_json_valid_time, its RFC 3339 check.
 *
 * Input: byte 0 is the size of the pieces the rest is fed in (1..256);
 * the body is parsed whole, in those pieces and byte by byte, each piece
 * copied into an exactly-sized heap block freed after its feed.  Oracles,
 * beyond ASan/UBSan and LeakSanitizer:
 *   - the split never changes the outcome: the same success or failure,
 *     in the same call, with the same error text and the same Lease
 *     (within LEASE_JSON_MAX_BYTES; above it every split fails);
 *   - an accepted Lease is one lease.c may use: kind "" or "Lease", a
 *     name ps_valid_name, a namespace "" or ps_valid_namespace, a
 *     resourceVersion ps_valid_str(PS_STR_RV), a holder printable ASCII
 *     of at most LEASE_MAX_HOLDER bytes, a duration 0 or 1..3600,
 *     transitions >= 0, the times "" or valid RFC 3339 by an independent
 *     check; a refused one leaves `out` zeroed, has printable error text,
 *     and stays refused;
 *   - lease_json_valid_time on the body itself agrees with that independent
 *     check.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_limits.h"
#include "core/kube/lease_json.h"
#include "proto-socket/ps_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

struct run {
	int failed; /* 0, 1 in a feed, 2 in finish */
	char err[200];
	struct lease_rec out;
};

/*
 * RFC 3339 date-time as the Lease's MicroTime, written independently of
 * lease_json_valid_time: a template of digit positions, then the ranges.
 */
static int
num(const char *s, size_t at, size_t n)
{
	int v = 0;

	for (size_t i = at; i < at + n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int
ref_valid_time(const char *s, size_t len)
{
	static const char tmpl[] = "dddd-dd-ddTdd:dd:dd";
	size_t i, frac = 0, tz;

	if (len < sizeof(tmpl) || len > LEASE_MAX_MICROTIME)
		return 0;
	for (i = 0; i < sizeof(tmpl) - 1; i++) {
		int ok;

		if (tmpl[i] == 'd')
			ok = s[i] >= '0' && s[i] <= '9';
		else if (tmpl[i] == 'T')
			ok = s[i] == 'T' || s[i] == 't';
		else
			ok = s[i] == tmpl[i];
		if (!ok)
			return 0;
	}
	if (num(s, 5, 2) < 1 || num(s, 5, 2) > 12 || num(s, 8, 2) < 1 ||
	    num(s, 8, 2) > 31 || num(s, 11, 2) > 23 || num(s, 14, 2) > 59 ||
	    num(s, 17, 2) > 60)
		return 0;
	tz = i;
	if (s[i] == '.') {
		while (i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9') {
			i++;
			frac++;
		}
		if (frac < 1 || frac > 9)
			return 0;
		tz = i + 1;
	}
	if (len - tz == 1)
		return s[tz] == 'Z' || s[tz] == 'z';
	if (len - tz != 6 || (s[tz] != '+' && s[tz] != '-') || s[tz + 3] != ':')
		return 0;
	for (i = tz + 1; i < len; i++)
		if (i != tz + 3 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return num(s, tz + 1, 2) <= 23 && num(s, tz + 4, 2) <= 59;
}

static void
check_ascii(const char *s, size_t cap, unsigned char lo)
{
	size_t n = strnlen(s, cap);

	CHECK(n < cap);
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)s[i] >= lo && (unsigned char)s[i] <= 0x7e);
}

static void
check_lease(const struct lease_rec *o)
{
	check_ascii(o->kind, sizeof(o->kind), 0x21);
	check_ascii(o->name, sizeof(o->name), 0x21);
	check_ascii(o->namespace, sizeof(o->namespace), 0x21);
	check_ascii(o->rv, sizeof(o->rv), 0x21);
	check_ascii(o->holder, sizeof(o->holder), 0x20);
	check_ascii(o->acquire_time, sizeof(o->acquire_time), 0x21);
	check_ascii(o->renew_time, sizeof(o->renew_time), 0x21);
	CHECK(o->kind[0] == '\0' || strcmp(o->kind, "Lease") == 0);
	CHECK(ps_valid_name(o->name, strlen(o->name)) == PS_OK);
	if (o->namespace[0] != '\0')
		CHECK(ps_valid_namespace(o->namespace, strlen(o->namespace)) ==
		    PS_OK);
	CHECK(ps_valid_str(PS_STR_RV, o->rv, strlen(o->rv)) == PS_OK);
	CHECK(strlen(o->holder) <= LEASE_MAX_HOLDER);
	CHECK(o->duration_s == 0 ||
	    (o->duration_s >= LEASE_MIN_DURATION &&
	        o->duration_s <= LEASE_MAX_DURATION));
	CHECK(o->transitions >= 0);
	if (o->acquire_time[0] != '\0')
		CHECK(ref_valid_time(o->acquire_time, strlen(o->acquire_time)));
	if (o->renew_time[0] != '\0')
		CHECK(ref_valid_time(o->renew_time, strlen(o->renew_time)));
}

static int
zeroed(const struct lease_rec *o)
{
	const unsigned char *b = (const unsigned char *)o;

	for (size_t i = 0; i < sizeof(*o); i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static int
feed_copy(struct lease_json *p, const uint8_t *d, size_t len)
{
	unsigned char *c = malloc(len != 0 ? len : 1);
	int rc;

	if (c == NULL)
		abort();
	memcpy(c, d, len);
	rc = lease_json_feed(p, c, len);
	free(c);
	return rc;
}

static void
run(struct run *r, const uint8_t *data, size_t size, size_t piece)
{
	struct lease_json *p;
	struct lease_rec again;
	const char *e;
	size_t i, n;

	memset(r, 0, sizeof(*r));
	if ((p = lease_json_new()) == NULL)
		abort();
	for (i = 0; i < size && r->failed == 0; i += n) {
		n = piece == 0 || size - i < piece ? size - i : piece;
		if (feed_copy(p, data + i, n) != 0)
			r->failed = 1;
	}
	memset(&r->out, 0xa5, sizeof(r->out));
	if (lease_json_finish(p, &r->out) != 0 && r->failed == 0)
		r->failed = 2;
	e = lease_json_error(p);
	CHECK(e != NULL && strlen(e) < sizeof(r->err));
	check_ascii(e, sizeof(r->err), 0x20);
	if (r->failed != 0) {
		CHECK(zeroed(&r->out));
		CHECK(e[0] != '\0' && strcmp(e, "no error") != 0);
		strcpy(r->err, e);
		CHECK(lease_json_feed(p, "{}", 2) == -1);
		CHECK(lease_json_finish(p, &again) == -1 && zeroed(&again));
		CHECK(strcmp(lease_json_error(p), r->err) == 0);
	} else {
		CHECK(strcmp(e, "no error") == 0);
		check_lease(&r->out);
	}
	lease_json_free(p);
}

static void
same(const struct run *a, const struct run *b)
{
	const struct lease_rec *x = &a->out, *y = &b->out;

	CHECK(a->failed == b->failed && strcmp(a->err, b->err) == 0);
	CHECK(strcmp(x->kind, y->kind) == 0 && strcmp(x->name, y->name) == 0);
	CHECK(strcmp(x->namespace, y->namespace) == 0);
	CHECK(strcmp(x->rv, y->rv) == 0 && strcmp(x->holder, y->holder) == 0);
	CHECK(strcmp(x->acquire_time, y->acquire_time) == 0);
	CHECK(strcmp(x->renew_time, y->renew_time) == 0);
	CHECK(x->duration_s == y->duration_s);
	CHECK(x->transitions == y->transitions);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, pieces, bytes;
	size_t piece;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] + 1;
	data++;
	size--;

	CHECK(lease_json_valid_time((const char *)data, size) ==
	    ref_valid_time((const char *)data, size));

	run(&whole, data, size, 0);
	run(&pieces, data, size, piece);
	run(&bytes, data, size, 1);
	if (size > LEASE_JSON_MAX_BYTES) {
		CHECK(whole.failed && pieces.failed && bytes.failed);
		return 0;
	}
	same(&whole, &pieces);
	same(&whole, &bytes);
	return 0;
}
