/*
 * fuzz_kjson.c — libFuzzer driver for the core's streaming parsers of
 * Deployment answers (core/kube/kjson.c): one object (Deployment, Scale,
 * Status), a DeploymentList page, a watch event stream.  The Lease parser
 * has its own entry point and its own driver, fuzz_lease.c.
 *
 * Input: byte 0 picks the mode (object, list, watch; byte 0 % 3) and a
 * delivery at which the callback aborts the parse (byte 0 / 3 % 5, 0:
 * none), byte 1 the size of the pieces the rest is fed in (1..192, or multiples
 * of 257 up to 16448, across the parser's own 4096-byte slices).  The body is
 * parsed three times: whole, in those pieces, and byte by byte, every piece
 * copied into an exactly-sized heap block freed after its feed (so a read past
 * a piece or a pointer kept into an old one is caught).  Oracles, beyond
 * ASan/UBSan and LeakSanitizer:
 *   - the split never changes the outcome: the same success or failure,
 *     in the same call (feed or finish), with the same error text, the
 *     same events with the same decoded fields in the same order, and the
 *     same list/object fields (kjson_top);
 *   - every object handed over passes the checks the core relies on: a
 *     name ps_valid_name, a namespace ps_valid_namespace, a
 *     resourceVersion ps_valid_str(PS_STR_RV), uid/kind/reason/continue
 *     visible ASCII within their sizes, the message printable, counts in
 *     0..INT32_MAX, generations >= 0, a Status code 100..599; ADDED,
 *     MODIFIED and DELETED carry a name and a resourceVersion (and
 *     spec.replicas defaults to 1), BOOKMARK a resourceVersion, ERROR a
 *     code; a list delivers only ADDED, an object nothing;
 *   - kjson_count() is the number of deliveries, at most KJSON_MAX_ITEMS
 *     for a list; a callback that aborts stops the parse there;
 *   - an error has printable text and a dead parser stays dead (feed and
 *     finish fail, the text is kept); success leaves no error text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_limits.h"
#include "core/kube/kjson.h"
#include "proto-socket/ps_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

struct run {
	enum kjson_mode mode;
	size_t abort_at; /* the callback returns -1 at this delivery; 0 never */
	uint64_t hash;   /* every delivery, in order */
	size_t events;
	int failed; /* 0, 1 in a feed, 2 in finish */
	char err[200];
	uint64_t top; /* hash of kjson_top() at the end */
};

static void
mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 0x100000001b3ull;
}

static void
mix_str(uint64_t *h, const char *s)
{
	size_t n = strlen(s);

	mix(h, &n, sizeof(n));
	mix(h, s, n);
}

static void
mix_obj(uint64_t *h, const struct kjson_obj *o)
{
	mix_str(h, o->kind);
	mix_str(h, o->name);
	mix_str(h, o->namespace);
	mix_str(h, o->uid);
	mix_str(h, o->rv);
	mix_str(h, o->cont);
	mix_str(h, o->reason);
	mix_str(h, o->message);
	mix(h, &o->generation, sizeof(o->generation));
	mix(h, &o->observed_generation, sizeof(o->observed_generation));
	mix(h, &o->spec_replicas, sizeof(o->spec_replicas));
	mix(h, &o->has_spec_replicas, sizeof(o->has_spec_replicas));
	mix(h, &o->replicas, sizeof(o->replicas));
	mix(h, &o->ready, sizeof(o->ready));
	mix(h, &o->available, sizeof(o->available));
	mix(h, &o->updated, sizeof(o->updated));
	mix(h, &o->initial_events_end, sizeof(o->initial_events_end));
	mix(h, &o->code, sizeof(o->code));
}

/* NUL-terminated within `cap` bytes, every byte in [lo, 0x7e]. */
static void
check_ascii(const char *s, size_t cap, unsigned char lo)
{
	size_t n = strnlen(s, cap);

	CHECK(n < cap);
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)s[i] >= lo && (unsigned char)s[i] <= 0x7e);
}

static void
check_obj(const struct kjson_obj *o)
{
	check_ascii(o->kind, sizeof(o->kind), 0x21);
	check_ascii(o->name, sizeof(o->name), 0x21);
	check_ascii(o->namespace, sizeof(o->namespace), 0x21);
	check_ascii(o->uid, sizeof(o->uid), 0x21);
	check_ascii(o->rv, sizeof(o->rv), 0x21);
	check_ascii(o->cont, sizeof(o->cont), 0x21);
	check_ascii(o->reason, sizeof(o->reason), 0x21);
	check_ascii(o->message, sizeof(o->message), 0x20);
	if (o->name[0] != '\0')
		CHECK(ps_valid_name(o->name, strlen(o->name)) == PS_OK);
	if (o->namespace[0] != '\0')
		CHECK(ps_valid_namespace(o->namespace, strlen(o->namespace)) ==
		    PS_OK);
	if (o->rv[0] != '\0')
		CHECK(ps_valid_str(PS_STR_RV, o->rv, strlen(o->rv)) == PS_OK);
	CHECK(o->generation >= 0 && o->observed_generation >= 0);
	CHECK(o->spec_replicas >= 0 && o->replicas >= 0 && o->ready >= 0 &&
	    o->available >= 0 && o->updated >= 0);
	CHECK(o->has_spec_replicas == 0 || o->has_spec_replicas == 1);
	CHECK(o->initial_events_end == 0 || o->initial_events_end == 1);
	CHECK(o->code == 0 || (o->code >= 100 && o->code <= 599));
}

static int
deliver_cb(void *arg, enum kjson_event ev, const struct kjson_obj *o)
{
	struct run *r = arg;

	CHECK(r->mode != KJSON_OBJECT);
	CHECK(r->mode != KJSON_LIST || ev == KJSON_EV_ADDED);
	check_obj(o);
	switch (ev) {
	case KJSON_EV_ADDED:
	case KJSON_EV_MODIFIED:
	case KJSON_EV_DELETED:
		CHECK(o->name[0] != '\0' && o->rv[0] != '\0');
		if (!o->has_spec_replicas)
			CHECK(o->spec_replicas == 1);
		break;
	case KJSON_EV_BOOKMARK:
		CHECK(o->rv[0] != '\0');
		break;
	case KJSON_EV_ERROR:
		CHECK(o->code != 0);
		break;
	case KJSON_EV_NONE:
	default:
		CHECK(0);
	}
	CHECK(r->abort_at == 0 || r->events < r->abort_at);
	r->events++;
	mix(&r->hash, &ev, sizeof(ev));
	mix_obj(&r->hash, o);
	return r->events == r->abort_at ? -1 : 0;
}

/* Feeds a private, exactly-sized copy of `len` bytes. */
static int
feed_copy(struct kjson *k, const uint8_t *p, size_t len)
{
	unsigned char *c = malloc(len != 0 ? len : 1);
	int rc;

	if (c == NULL)
		abort();
	memcpy(c, p, len);
	rc = kjson_feed(k, c, len);
	free(c);
	return rc;
}

/* One parse of `data` in pieces of `piece` bytes (0: whole). */
static void
run(struct run *r, enum kjson_mode mode, size_t abort_at, const uint8_t *data,
    size_t size, size_t piece)
{
	struct kjson *k;
	const char *e;
	size_t i, n;

	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->abort_at = abort_at;
	if ((k = kjson_new(mode, deliver_cb, r)) == NULL)
		abort();
	if (piece != 0 && feed_copy(k, data, 0) != 0)
		CHECK(0); /* an empty feed never fails a live parser */
	for (i = 0; i < size && r->failed == 0; i += n) {
		n = piece == 0 || size - i < piece ? size - i : piece;
		if (feed_copy(k, data + i, n) != 0)
			r->failed = 1;
	}
	if (r->failed == 0 && kjson_finish(k) != 0)
		r->failed = 2;

	e = kjson_error(k);
	CHECK(e != NULL && strlen(e) < sizeof(r->err));
	check_ascii(e, sizeof(r->err), 0x20);
	if (r->failed != 0) {
		CHECK(e[0] != '\0' && strcmp(e, "no error") != 0);
		strcpy(r->err, e);
		/* Dead stays dead, and keeps its first reason. */
		CHECK(kjson_feed(k, "{}", 2) == -1);
		CHECK(kjson_finish(k) == -1);
		CHECK(strcmp(kjson_error(k), r->err) == 0);
	} else {
		CHECK(strcmp(e, "no error") == 0);
	}
	CHECK(kjson_count(k) == r->events);
	if (abort_at != 0 && r->events == abort_at)
		CHECK(
		    r->failed != 0 && strcmp(r->err, "aborted by caller") == 0);
	if (mode == KJSON_LIST)
		CHECK(r->events <= KJSON_MAX_ITEMS);
	check_obj(kjson_top(k));
	mix_obj(&r->top, kjson_top(k));
	kjson_free(k);
}

static void
same(const struct run *a, const struct run *b)
{
	CHECK(a->failed == b->failed);
	CHECK(strcmp(a->err, b->err) == 0);
	CHECK(a->events == b->events && a->hash == b->hash);
	CHECK(a->top == b->top);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum kjson_mode modes[] = {
	    KJSON_OBJECT, KJSON_LIST, KJSON_WATCH};
	static struct run whole, pieces, bytes;
	enum kjson_mode mode;
	size_t piece, abort_at;

	if (size < 2)
		return 0;
	mode = modes[data[0] % 3];
	abort_at = (size_t)(data[0] / 3 % 5);
	piece = data[1] < 0xc0 ? (size_t)data[1] + 1
	                       : (size_t)(data[1] - 0xbf) * 257;
	data += 2;
	size -= 2;

	run(&whole, mode, abort_at, data, size, 0);
	run(&pieces, mode, abort_at, data, size, piece);
	run(&bytes, mode, abort_at, data, size, 1);
	same(&whole, &pieces);
	same(&whole, &bytes);
	return 0;
}
