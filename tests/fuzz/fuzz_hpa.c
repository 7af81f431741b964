/*
 * fuzz_hpa.c — libFuzzer driver for the HorizontalPodAutoscaler parser
 * (core/kube/hpa_json.c): a list page or a watch event stream.
 *
 * Input: byte 0 picks the mode (list, watch; byte 0 % 2) and a delivery at
 * which the callback aborts the parse (byte 0 / 2 % 5, 0: none), byte 1
 * the size of the pieces the rest is fed in (1..192, or multiples of 257
 * up to 16448, across the walker's 4096-byte slices).  The body is parsed
 * whole, in those pieces and byte by byte, every piece copied into an
 * exactly-sized heap block freed after its feed (a read past a piece, or
 * a pointer kept into an old one, is caught).  Oracles, beyond
 * ASan/UBSan and LeakSanitizer:
 *   - the split never changes the outcome: same success or failure, in
 *     the same call, with the same error text, the same deliveries with
 *     the same fields in the same order, the same list metadata;
 *   - what is handed over is what hpa_watch.c relies on: a name that
 *     ps_valid_name accepts, a resourceVersion ps_valid_str(PS_STR_RV)
 *     accepts, a target name that is "" or valid (and valid exactly when
 *     target_name_ok), apiVersion/kind/continue visible ASCII within their
 *     sizes, a printable message, a code 0 or 100..599; ADDED, MODIFIED,
 *     DELETED carry a name and an RV, BOOKMARK an RV, ERROR a code; a
 *     list delivers only ADDED; hpa_json_targets_deployment() implies a
 *     valid target name, kind "Deployment" and an "apps/" apiVersion;
 *   - hpa_json_count() counts the deliveries, at most HPA_JSON_MAX_ITEMS
 *     for a list; an aborting callback stops the parse there;
 *   - an error has printable text and a dead parser stays dead.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_limits.h"
#include "core/kube/hpa_json.h"
#include "proto-socket/ps_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

struct run {
	enum hpa_json_mode mode;
	size_t abort_at; /* the callback returns -1 at this delivery; 0 never */
	uint64_t hash;   /* every delivery, in order */
	size_t events;
	int failed; /* 0, 1 in a feed, 2 in finish */
	char err[200];
	uint64_t top;
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
mix_obj(uint64_t *h, const struct hpa_json_obj *o)
{
	mix_str(h, o->name);
	mix_str(h, o->rv);
	mix_str(h, o->cont);
	mix_str(h, o->target_api_version);
	mix_str(h, o->target_kind);
	mix_str(h, o->target_name);
	mix_str(h, o->message);
	mix(h, &o->target_name_ok, sizeof(o->target_name_ok));
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
check_obj(const struct hpa_json_obj *o)
{
	check_ascii(o->name, sizeof(o->name), 0x21);
	check_ascii(o->rv, sizeof(o->rv), 0x21);
	check_ascii(o->cont, sizeof(o->cont), 0x21);
	check_ascii(o->target_api_version, sizeof(o->target_api_version), 0x21);
	check_ascii(o->target_kind, sizeof(o->target_kind), 0x21);
	check_ascii(o->target_name, sizeof(o->target_name), 0x21);
	check_ascii(o->message, sizeof(o->message), 0x20);
	if (o->name[0] != '\0')
		CHECK(ps_valid_name(o->name, strlen(o->name)) == PS_OK);
	if (o->rv[0] != '\0')
		CHECK(ps_valid_str(PS_STR_RV, o->rv, strlen(o->rv)) == PS_OK);
	CHECK(o->target_name_ok == 0 || o->target_name_ok == 1);
	CHECK(o->target_name_ok ==
	    (o->target_name[0] != '\0' &&
	        ps_valid_name(o->target_name, strlen(o->target_name)) ==
	            PS_OK));
	if (hpa_json_targets_deployment(o))
		CHECK(o->target_name_ok &&
		    strcmp(o->target_kind, "Deployment") == 0 &&
		    strncmp(o->target_api_version, "apps/", 5) == 0);
	CHECK(o->code == 0 || (o->code >= 100 && o->code <= 599));
}

static int
deliver_cb(void *arg, enum hpa_json_event ev, const struct hpa_json_obj *o)
{
	struct run *r = arg;

	CHECK(r->mode != HPA_JSON_LIST || ev == HPA_EV_ADDED);
	check_obj(o);
	switch (ev) {
	case HPA_EV_ADDED:
	case HPA_EV_MODIFIED:
	case HPA_EV_DELETED:
		CHECK(o->name[0] != '\0' && o->rv[0] != '\0');
		break;
	case HPA_EV_BOOKMARK:
		CHECK(o->rv[0] != '\0');
		break;
	case HPA_EV_ERROR:
		CHECK(o->code != 0);
		break;
	case HPA_EV_NONE:
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
feed_copy(struct hpa_json *h, const uint8_t *p, size_t len)
{
	unsigned char *c = malloc(len != 0 ? len : 1);
	int rc;

	if (c == NULL)
		abort();
	memcpy(c, p, len);
	rc = hpa_json_feed(h, c, len);
	free(c);
	return rc;
}

static void
run(struct run *r, enum hpa_json_mode mode, size_t abort_at,
    const uint8_t *data, size_t size, size_t piece)
{
	struct hpa_json *h;
	const char *e;
	size_t i, n;

	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->abort_at = abort_at;
	if ((h = hpa_json_new(mode, deliver_cb, r)) == NULL)
		abort();
	if (piece != 0 && feed_copy(h, data, 0) != 0)
		CHECK(0); /* an empty feed never fails a live parser */
	for (i = 0; i < size && r->failed == 0; i += n) {
		n = piece == 0 || size - i < piece ? size - i : piece;
		if (feed_copy(h, data + i, n) != 0)
			r->failed = 1;
	}
	if (r->failed == 0 && hpa_json_finish(h) != 0)
		r->failed = 2;

	e = hpa_json_error(h);
	CHECK(e != NULL && strlen(e) < sizeof(r->err));
	check_ascii(e, sizeof(r->err), 0x20);
	if (r->failed != 0) {
		CHECK(e[0] != '\0' && strcmp(e, "no error") != 0);
		strcpy(r->err, e);
		CHECK(hpa_json_feed(h, "{}", 2) == -1);
		CHECK(hpa_json_finish(h) == -1);
		CHECK(strcmp(hpa_json_error(h), r->err) == 0);
	} else
		CHECK(strcmp(e, "no error") == 0);
	CHECK(hpa_json_count(h) == r->events);
	if (abort_at != 0 && r->events == abort_at)
		CHECK(
		    r->failed != 0 && strcmp(r->err, "aborted by caller") == 0);
	if (mode == HPA_JSON_LIST)
		CHECK(r->events <= HPA_JSON_MAX_ITEMS);
	check_obj(hpa_json_top(h));
	mix_obj(&r->top, hpa_json_top(h));
	hpa_json_free(h);
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
	static struct run whole, pieces, bytes;
	enum hpa_json_mode mode;
	size_t piece, abort_at;

	if (size < 2)
		return 0;
	mode = data[0] % 2 == 0 ? HPA_JSON_LIST : HPA_JSON_WATCH;
	abort_at = (size_t)(data[0] / 2 % 5);
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
