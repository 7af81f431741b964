/*
 * test_lease.c — leader election policy (lease.c's pure functions) and the
 * Lease JSON both ways: lease_json.c's strict parser against real shapes, every
 * split and hostile answers, and lease_json_gen_body's output read back.
 *
 * The policy under test is client-go's: expiry is judged by our monotonic
 * clock since we last saw the record change, never by the remote
 * renewTime; a holder change bumps leaseTransitions; a leader stands down
 * when no renew succeeded within the renew deadline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_limits.h"
#include "core/kube/lease_json.h"
#include "core/kube/lease.h"

#define ME    "core-a_0123456789abcdef"
#define OTHER "core-b_fedcba9876543210"
#define NOW   "2026-12-06T05:16:07.544000Z"
#define LATER "2026-12-06T05:16:09.544000Z"

static struct lease_timing T;

static int
setup(void **state)
{
	(void)state;
	lease_timing_default(&T);
	return 0;
}

static struct lease_rec
rec_of(const char *holder, int32_t dur, const char *renew, int32_t trans)
{
	struct lease_rec r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "replicad");
	snprintf(r.rv, sizeof(r.rv), "9012");
	snprintf(r.holder, sizeof(r.holder), "%s", holder);
	r.duration_s = dur;
	snprintf(r.acquire_time, sizeof(r.acquire_time), "%s",
	    "2025-03-01T10:00:00.000000Z");
	snprintf(r.renew_time, sizeof(r.renew_time), "%s", renew);
	r.transitions = trans;
	return r;
}

/* ------------------------------------------------------------------ */
/* decide / observe                                                    */

/** No Lease (404, nothing observed): create one. */
static void
test_lease_decide_absent_creates(void **state)
{
	struct lease_observed obs = {0};

	(void)state;
	assert_int_equal(lease_decide(NULL, ME, 0, &T), LEASE_CREATE);
	assert_int_equal(lease_decide(&obs, ME, 99999, &T), LEASE_CREATE);
}

/** Our own record is renewed, however old it looks. */
static void
test_lease_decide_ours_renews(void **state)
{
	struct lease_observed obs = {0};
	struct lease_rec r = rec_of(ME, 15, NOW, 3);

	(void)state;
	lease_observe(&obs, &r, 1000);
	assert_int_equal(lease_decide(&obs, ME, 1000, &T), LEASE_RENEW);
	assert_int_equal(lease_decide(&obs, ME, 1000000, &T), LEASE_RENEW);
}

/** A released Lease (holderIdentity "") is taken at once. */
static void
test_lease_decide_released_takes_at_once(void **state)
{
	struct lease_observed obs = {0};
	struct lease_rec r = rec_of("", 1, NOW, 3);

	(void)state;
	lease_observe(&obs, &r, 5000);
	assert_int_equal(lease_decide(&obs, ME, 5000, &T), LEASE_TAKE);
}

/** Another holder: wait until leaseDurationSeconds have passed on our
 * clock since the record was first seen, then take it. */
static void
test_lease_decide_foreign_expires_by_our_clock(void **state)
{
	struct lease_observed obs = {0};
	struct lease_rec r = rec_of(OTHER, 15, NOW, 3);

	(void)state;
	lease_observe(&obs, &r, 1000);
	assert_int_equal(lease_decide(&obs, ME, 1000, &T), LEASE_WAIT);
	assert_int_equal(lease_decide(&obs, ME, 15999, &T), LEASE_WAIT);
	assert_int_equal(lease_decide(&obs, ME, 16000, &T), LEASE_TAKE);
	/* The same record seen again does not restart the clock. */
	assert_int_equal(lease_observe(&obs, &r, 12000), 0);
	assert_int_equal(lease_decide(&obs, ME, 16000, &T), LEASE_TAKE);
}

/** The record's own duration counts, not ours. */
static void
test_lease_decide_uses_record_duration(void **state)
{
	struct lease_observed obs = {0};
	struct lease_rec r = rec_of(OTHER, 60, NOW, 0);

	(void)state;
	lease_observe(&obs, &r, 0);
	assert_int_equal(lease_decide(&obs, ME, 59999, &T), LEASE_WAIT);
	assert_int_equal(lease_decide(&obs, ME, 60000, &T), LEASE_TAKE);
	/* Absent duration: ours (15 s), not "expired at once". */
	r = rec_of(OTHER, 0, NOW, 0);
	obs.valid = 0;
	lease_observe(&obs, &r, 0);
	assert_int_equal(lease_decide(&obs, ME, 14999, &T), LEASE_WAIT);
	assert_int_equal(lease_decide(&obs, ME, 15000, &T), LEASE_TAKE);
}

/** A holder that keeps renewing is never taken over: each change of the
 * record restarts our clock. */
static void
test_lease_decide_renewing_holder_never_expires(void **state)
{
	struct lease_observed obs = {0};
	struct lease_rec r;
	char renew[64];
	uint64_t now = 0;

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(renew, sizeof(renew),
		    "2026-12-06T05:%02d:%02d.000000Z", i / 60, i % 60);
		r = rec_of(OTHER, 15, renew, 1);
		assert_int_equal(lease_observe(&obs, &r, now), 1);
		now += 10000; /* renewed every 10 s, lease 15 s */
		assert_int_equal(lease_decide(&obs, ME, now, &T), LEASE_WAIT);
	}
}

/** The remote renewTime is never read as a time: one far in the past is
 * fresh when just seen, one in the future is stale when unchanged. */
static void
test_lease_decide_ignores_remote_clock(void **state)
{
	struct lease_observed obs = {0};
	struct lease_rec past = rec_of(OTHER, 15, "2000-01-01T00:00:00Z", 0);
	struct lease_rec future =
	    rec_of(OTHER, 15, "2999-01-01T00:00:00.000000Z", 0);

	(void)state;
	lease_observe(&obs, &past, 7000);
	assert_int_equal(lease_decide(&obs, ME, 7001, &T), LEASE_WAIT);
	lease_observe(&obs, &future, 8000);
	assert_int_equal(lease_decide(&obs, ME, 8000 + 14999, &T), LEASE_WAIT);
	assert_int_equal(lease_decide(&obs, ME, 8000 + 15000, &T), LEASE_TAKE);
}

/** Only the record counts as a change, not its resourceVersion (which is
 * still kept for the next PUT); every record field does. */
static void
test_lease_observe_what_is_a_change(void **state)
{
	struct lease_observed obs = {0};
	struct lease_rec r = rec_of(OTHER, 15, NOW, 2), r2;

	(void)state;
	assert_int_equal(lease_observe(&obs, &r, 100), 1);
	r2 = r;
	snprintf(r2.rv, sizeof(r2.rv), "9999");
	assert_int_equal(lease_observe(&obs, &r2, 200), 0);
	assert_string_equal(obs.rec.rv, "9999");
	assert_int_equal(obs.at_ms, 100);
	r2.transitions = 3;
	assert_int_equal(lease_observe(&obs, &r2, 300), 1);
	assert_int_equal(obs.at_ms, 300);
	r2.duration_s = 16;
	assert_int_equal(lease_observe(&obs, &r2, 400), 1);
	snprintf(r2.acquire_time, sizeof(r2.acquire_time), "%s", LATER);
	assert_int_equal(lease_observe(&obs, &r2, 500), 1);
	snprintf(r2.holder, sizeof(r2.holder), "%s", ME);
	assert_int_equal(lease_observe(&obs, &r2, 600), 1);
	assert_int_equal(obs.at_ms, 600);
	/* A clock that seems to go back is no age at all. */
	r2 = rec_of(OTHER, 15, LATER, 2);
	lease_observe(&obs, &r2, 600);
	assert_int_equal(lease_decide(&obs, ME, 10, &T), LEASE_WAIT);
}

/* ------------------------------------------------------------------ */
/* records to write                                                    */

/** CREATE: us, now, our duration, no transitions, no resourceVersion. */
static void
test_lease_next_record_create(void **state)
{
	struct lease_rec out;

	(void)state;
	lease_next_record(LEASE_CREATE, NULL, ME, NOW, &T, &out);
	assert_string_equal(out.holder, ME);
	assert_int_equal(out.duration_s, 15);
	assert_string_equal(out.acquire_time, NOW);
	assert_string_equal(out.renew_time, NOW);
	assert_int_equal(out.transitions, 0);
	assert_string_equal(out.rv, "");
}

/** TAKE: a new holder is one more transition (also after a release),
 * acquireTime is now; the resourceVersion read is the precondition. */
static void
test_lease_next_record_take(void **state)
{
	struct lease_rec old = rec_of(OTHER, 30, NOW, 4), out;

	(void)state;
	lease_next_record(LEASE_TAKE, &old, ME, LATER, &T, &out);
	assert_string_equal(out.holder, ME);
	assert_int_equal(out.duration_s, 15);
	assert_string_equal(out.acquire_time, LATER);
	assert_string_equal(out.renew_time, LATER);
	assert_int_equal(out.transitions, 5);
	assert_string_equal(out.rv, "9012");
	old = rec_of("", 1, NOW, 5);
	lease_next_record(LEASE_TAKE, &old, ME, LATER, &T, &out);
	assert_int_equal(out.transitions, 6);
	/* Saturates instead of overflowing. */
	old.transitions = INT32_MAX;
	lease_next_record(LEASE_TAKE, &old, ME, LATER, &T, &out);
	assert_int_equal(out.transitions, INT32_MAX);
}

/** RENEW: only renewTime (and our duration) change. */
static void
test_lease_next_record_renew(void **state)
{
	struct lease_rec old = rec_of(ME, 15, NOW, 7), out;

	(void)state;
	lease_next_record(LEASE_RENEW, &old, ME, LATER, &T, &out);
	assert_string_equal(out.holder, ME);
	assert_string_equal(out.acquire_time, "2025-03-01T10:00:00.000000Z");
	assert_string_equal(out.renew_time, LATER);
	assert_int_equal(out.transitions, 7);
	assert_string_equal(out.rv, "9012");
}

/** Release: holder "", leaseDurationSeconds 1, transitions kept. */
static void
test_lease_release_record(void **state)
{
	struct lease_rec old = rec_of(ME, 15, NOW, 7), out;

	(void)state;
	lease_release_record(&old, LATER, &out);
	assert_string_equal(out.holder, "");
	assert_int_equal(out.duration_s, 1);
	assert_string_equal(out.acquire_time, LATER);
	assert_string_equal(out.renew_time, LATER);
	assert_int_equal(out.transitions, 7);
	assert_string_equal(out.rv, "9012");
}

/* ------------------------------------------------------------------ */
/* timing                                                              */

/** Leading: renew every retry period, no jitter. Acquiring: retry period
 * times [1, 2.2) (client-go's JitterFactor 1.2). */
static void
test_lease_next_delay_jitter(void **state)
{
	uint64_t d;

	(void)state;
	assert_int_equal(
	    lease_next_delay(&T, LEASE_PHASE_LEADING, 0, 0, 0), 2000);
	assert_int_equal(
	    lease_next_delay(&T, LEASE_PHASE_LEADING, 0, 0, UINT32_MAX), 2000);
	assert_int_equal(
	    lease_next_delay(&T, LEASE_PHASE_ACQUIRING, 0, 0, 0), 2000);
	d = lease_next_delay(&T, LEASE_PHASE_ACQUIRING, 0, 0, UINT32_MAX);
	assert_true(d >= 4399 && d < 4400);
	d = lease_next_delay(&T, LEASE_PHASE_ACQUIRING, 0, 0, 1u << 31);
	assert_int_equal(d, 3200);
}

/** 401/403: the base doubles per refusal up to the cap; Retry-After is a
 * floor; a huge streak does not overflow. */
static void
test_lease_next_delay_backoff(void **state)
{
	(void)state;
	assert_int_equal(
	    lease_next_delay(&T, LEASE_PHASE_ACQUIRING, 1, 0, 0), 2000);
	assert_int_equal(
	    lease_next_delay(&T, LEASE_PHASE_ACQUIRING, 2, 0, 0), 4000);
	assert_int_equal(
	    lease_next_delay(&T, LEASE_PHASE_ACQUIRING, 4, 0, 0), 16000);
	assert_int_equal(lease_next_delay(&T, LEASE_PHASE_ACQUIRING, 5, 0, 0),
	    LEASE_BACKOFF_CAP_MS);
	assert_int_equal(
	    lease_next_delay(&T, LEASE_PHASE_ACQUIRING, UINT_MAX, 0, 0),
	    LEASE_BACKOFF_CAP_MS);
	assert_true(lease_next_delay(&T, LEASE_PHASE_ACQUIRING, UINT_MAX, 0,
	                UINT32_MAX) < LEASE_BACKOFF_CAP_MS * 22 / 10);
	assert_int_equal(
	    lease_next_delay(&T, LEASE_PHASE_ACQUIRING, 0, 10, 0), 10000);
	assert_int_equal(
	    lease_next_delay(&T, LEASE_PHASE_LEADING, 0, 3, 0), 3000);
}

/** The leader stands down once renewDeadline has passed since it sent
 * its last successful renew, not a millisecond before. */
static void
test_lease_renew_deadline(void **state)
{
	(void)state;
	assert_false(lease_renew_expired(&T, 1000, 1000));
	assert_false(lease_renew_expired(&T, 1000, 10999));
	assert_true(lease_renew_expired(&T, 1000, 11000));
	assert_false(lease_renew_expired(&T, 5000, 1000)); /* clock skew */
	/* Stands down before anyone may take over. */
	assert_true(T.renew_deadline_ms < T.duration_ms);
}

/* ------------------------------------------------------------------ */
/* identity, time text                                                 */

/** Identities: 1..128 visible ASCII bytes. */
static void
test_lease_valid_identity(void **state)
{
	char buf[LEASE_MAX_IDENTITY + 2];

	(void)state;
	assert_true(lease_valid_identity(ME));
	assert_true(lease_valid_identity("replicad-7d9f-abcde"));
	assert_false(lease_valid_identity(""));
	assert_false(lease_valid_identity("a b"));
	assert_false(lease_valid_identity("a\tb"));
	assert_false(lease_valid_identity("a\x7f"));
	assert_false(lease_valid_identity("caf\xc3\xa9"));
	memset(buf, 'a', sizeof(buf));
	buf[LEASE_MAX_IDENTITY] = '\0';
	assert_true(lease_valid_identity(buf));
	buf[LEASE_MAX_IDENTITY] = 'a';
	buf[LEASE_MAX_IDENTITY + 1] = '\0';
	assert_false(lease_valid_identity(buf));
}

/** MicroTime: RFC 3339 UTC with exactly 6 fractional digits. */
static void
test_lease_json_format_time(void **state)
{
	char buf[LEASE_MAX_MICROTIME + 1];

	(void)state;
	assert_int_equal(
	    lease_json_format_time(1796534167, 544000000, buf, sizeof(buf)), 0);
	assert_string_equal(buf, NOW);
	assert_int_equal(
	    lease_json_format_time(0, 999999999, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.999999Z");
	assert_true(lease_json_valid_time(buf, strlen(buf)));
	assert_int_equal(lease_json_format_time(0, -1, buf, sizeof(buf)), -1);
	assert_int_equal(
	    lease_json_format_time(0, 1000000000, buf, sizeof(buf)), -1);
	assert_int_equal(
	    lease_json_format_time(INT64_MAX, 0, buf, sizeof(buf)), -1);
	assert_int_equal(
	    lease_json_format_time(0, 0, buf, 27), -1); /* no room */
}

/** RFC 3339 as the parser accepts it. */
static void
test_lease_json_valid_time_table(void **state)
{
	static const char *const good[] = {
	    NOW,
	    "2026-12-06T05:16:07Z",
	    "2026-12-06T05:16:07.1+02:00",
	    "2026-12-06t05:16:07z",
	    "2026-12-06T05:16:07.123456789-11:30",
	    "2016-12-31T23:59:60Z",
	};
	static const char *const bad[] = {
	    "",
	    "yesterday",
	    "2026-12-06T05:16:07",
	    "2026-12-06 05:16:07Z",
	    "2026-12-06T05:16:07.Z",
	    "2026-12-06T05:16:07.1234567890Z",
	    "2026-13-06T05:16:07Z",
	    "2026-00-06T05:16:07Z",
	    "2026-12-32T05:16:07Z",
	    "2026-12-06T24:16:07Z",
	    "2026-12-06T05:60:07Z",
	    "2026-12-06T05:16:61Z",
	    "2026-12-06T05:16:07+0200",
	    "2026-12-06T05:16:07+02:00Z",
	    "2026-12-06T05:16:07.544000ZZ",
	    "+2026-12-06T05:16:07Z",
	    "2026-12-06T05:16:07.000000000000000000000000Z",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!lease_json_valid_time(good[i], strlen(good[i])))
			fail_msg("rejected %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (lease_json_valid_time(bad[i], strlen(bad[i])))
			fail_msg("accepted %s", bad[i]);
}

/* ------------------------------------------------------------------ */
/* The Lease parser                                                    */

/* A Lease as the API server sends it, with fields we do not keep. */
static const char real_lease[] =
    "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\","
    "\"metadata\":{\"name\":\"replicad\",\"namespace\":\"shop\","
    "\"uid\":\"1b4e28ba-2fa1-11d2-883f-0016d3cca427\","
    "\"resourceVersion\":\"9012\",\"creationTimestamp\":"
    "\"2025-03-01T10:00:00Z\",\"labels\":{\"name\":\"nope\"},"
    "\"managedFields\":[{\"manager\":\"replicad-core\",\"operation\":"
    "\"Update\",\"apiVersion\":\"coordination.k8s.io/v1\",\"fieldsType\":"
    "\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:holderIdentity\":{},"
    "\"f:leaseDurationSeconds\":{}}}}]},"
    "\"spec\":{\"holderIdentity\":\"replica-manager-7d9f_4f1c\","
    "\"leaseDurationSeconds\":15,"
    "\"acquireTime\":\"2025-03-01T10:00:00.000000Z\","
    "\"renewTime\":\"2025-03-01T10:05:42.123456Z\","
    "\"leaseTransitions\":3,\"strategy\":\"OldestEmulationVersion\","
    "\"preferredHolder\":null,\"extra\":[1,2.5,true,{\"x\":[]}]},"
    "\"status\":{\"holderIdentity\":42}}";

static void
assert_real_lease(const struct lease_rec *r)
{
	assert_string_equal(r->kind, "Lease");
	assert_string_equal(r->name, "replicad");
	assert_string_equal(r->namespace, "shop");
	assert_string_equal(r->rv, "9012");
	assert_string_equal(r->holder, "replica-manager-7d9f_4f1c");
	assert_int_equal(r->duration_s, 15);
	assert_string_equal(r->acquire_time, "2025-03-01T10:00:00.000000Z");
	assert_string_equal(r->renew_time, "2025-03-01T10:05:42.123456Z");
	assert_int_equal(r->transitions, 3);
}

/* Parses `in` in pieces of `step` bytes (0: whole); 0 or -1, err set. */
static int
parse(const char *in, size_t len, size_t step, struct lease_rec *out, char *err,
    size_t errsz)
{
	struct lease_json *p = lease_json_new();
	int rc = 0;

	assert_non_null(p);
	if (step == 0)
		step = len > 0 ? len : 1;
	for (size_t off = 0; off < len && rc == 0; off += step)
		rc = lease_json_feed(
		    p, in + off, len - off < step ? len - off : step);
	if (rc == 0)
		rc = lease_json_finish(p, out);
	else
		memset(out, 0, sizeof(*out));
	snprintf(err, errsz, "%s", lease_json_error(p));
	lease_json_free(p);
	return rc;
}

/** A real Lease: kept fields right, the rest skipped (a "holderIdentity"
 * elsewhere, labels named "name", arrays and floats in unknown fields). */
static void
test_lease_json_real(void **state)
{
	struct lease_rec r;
	char err[160];

	(void)state;
	assert_int_equal(
	    parse(real_lease, strlen(real_lease), 0, &r, err, sizeof(err)), 0);
	assert_real_lease(&r);
}

/** Any split in two, and one byte at a time. */
static void
test_lease_json_every_split(void **state)
{
	size_t len = strlen(real_lease);
	struct lease_json *p;
	struct lease_rec r;
	char err[160];

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		p = lease_json_new();
		assert_int_equal(lease_json_feed(p, real_lease, cut), 0);
		assert_int_equal(
		    lease_json_feed(p, real_lease + cut, len - cut), 0);
		assert_int_equal(lease_json_finish(p, &r), 0);
		assert_real_lease(&r);
		lease_json_free(p);
	}
	assert_int_equal(parse(real_lease, len, 1, &r, err, sizeof(err)), 0);
	assert_real_lease(&r);
}

/** Cut short anywhere: never a Lease. */
static void
test_lease_json_truncated(void **state)
{
	size_t len = strlen(real_lease);
	struct lease_rec r;
	char err[160];

	(void)state;
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_equal(
		    parse(real_lease, cut, 0, &r, err, sizeof(err)), -1);
		assert_string_equal(r.name, "");
	}
}

/** Released, minimal, and null fields (Go's absent). */
static void
test_lease_json_released_and_nulls(void **state)
{
	static const char released[] =
	    "{\"metadata\":{\"name\":\"replicad\",\"resourceVersion\":\"77\"},"
	    "\"spec\":{\"holderIdentity\":\"\",\"leaseDurationSeconds\":1,"
	    "\"leaseTransitions\":9}}";
	static const char nulls[] =
	    "{\"kind\":null,\"metadata\":{\"name\":\"replicad\","
	    "\"namespace\":null,\"resourceVersion\":\"78\"},"
	    "\"spec\":{\"holderIdentity\":null,\"leaseDurationSeconds\":null,"
	    "\"acquireTime\":null,\"renewTime\":null,"
	    "\"leaseTransitions\":null}}";
	static const char no_spec[] =
	    "{\"metadata\":{\"name\":\"replicad\",\"resourceVersion\":\"79\"},"
	    "\"spec\":null}";
	struct lease_rec r;
	char err[160];

	(void)state;
	assert_int_equal(
	    parse(released, strlen(released), 0, &r, err, sizeof(err)), 0);
	assert_string_equal(r.holder, "");
	assert_int_equal(r.duration_s, 1);
	assert_int_equal(r.transitions, 9);
	assert_int_equal(
	    parse(nulls, strlen(nulls), 0, &r, err, sizeof(err)), 0);
	assert_string_equal(r.holder, "");
	assert_int_equal(r.duration_s, 0);
	assert_string_equal(r.renew_time, "");
	assert_string_equal(r.rv, "78");
	assert_int_equal(
	    parse(no_spec, strlen(no_spec), 0, &r, err, sizeof(err)), 0);
	assert_string_equal(r.rv, "79");
}

#define META "\"metadata\":{\"name\":\"replicad\",\"resourceVersion\":\"1\"}"
#define H129                                                               \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define RV65 "11111111111111111111111111111111111111111111111111111111111111111"

/** Hostile answers: each fails, with a reason, and yields nothing. */
static void
test_lease_json_rejects_hostile(void **state)
{
	static const struct {
		const char *in;
		const char *why;
	} cases[] = {
	    {"", "invalid JSON"},
	    {"   ", "invalid JSON"},
	    {"[]", "not a JSON object"},
	    {"\"Lease\"", "not a JSON object"},
	    {"17", "not a JSON object"},
	    {"null", "not a JSON object"},
	    {"{", "invalid JSON"},
	    {"{" META ",\"spec\":{", "invalid JSON"},
	    {"{" META "} trailing", "invalid JSON"},
	    {"{" META "}{}", "invalid JSON"},
	    {"{" META "} \"unterminated", "text after the value"},
	    {"{" META "}\f", "\\f or \\v"},
	    /* wrong types */
	    {"{" META ",\"spec\":{\"holderIdentity\":5}}", "not a string"},
	    {"{" META ",\"spec\":{\"holderIdentity\":true}}", "not a string"},
	    {"{" META ",\"spec\":{\"holderIdentity\":{}}}", "not a string"},
	    {"{" META ",\"spec\":{\"holderIdentity\":[\"a\"]}}",
	        "not a string"},
	    {"{" META ",\"spec\":{\"holderIdentity\":1.5}}", "not a string"},
	    {"{" META ",\"spec\":{\"leaseDurationSeconds\":\"15\"}}",
	        "not an integer"},
	    {"{" META ",\"spec\":{\"leaseDurationSeconds\":1.5}}",
	        "not an integer"},
	    {"{" META ",\"spec\":{\"leaseDurationSeconds\":1e3}}",
	        "not an integer"},
	    {"{" META ",\"spec\":{\"leaseDurationSeconds\":false}}",
	        "not an integer"},
	    {"{" META ",\"spec\":{\"leaseDurationSeconds\":{}}}",
	        "not an integer"},
	    {"{" META ",\"spec\":{\"leaseTransitions\":\"3\"}}",
	        "not an integer"},
	    {"{" META ",\"spec\":{\"renewTime\":5}}", "not a string"},
	    {"{" META ",\"spec\":{\"acquireTime\":[]}}", "not a string"},
	    {"{" META ",\"spec\":\"x\"}", "not an object"},
	    {"{" META ",\"spec\":[]}", "not an object"},
	    {"{\"metadata\":7}", "not an object"},
	    {"{\"metadata\":[{\"name\":\"replicad\"}]}", "not an object"},
	    {"{\"kind\":7," META "}", "not a string"},
	    {"{\"metadata\":{\"name\":5,\"resourceVersion\":\"1\"}}",
	        "not a string"},
	    {"{\"metadata\":{\"name\":\"replicad\",\"resourceVersion\":5}}",
	        "not a string"},
	    /* ranges and sizes */
	    {"{" META ",\"spec\":{\"leaseDurationSeconds\":0}}",
	        "out of range"},
	    {"{" META ",\"spec\":{\"leaseDurationSeconds\":-1}}",
	        "out of range"},
	    {"{" META ",\"spec\":{\"leaseDurationSeconds\":3601}}",
	        "out of range"},
	    {"{" META ",\"spec\":{\"leaseDurationSeconds\":"
	     "99999999999999999999999}}",
	        "invalid JSON"},
	    {"{" META ",\"spec\":{\"leaseTransitions\":-1}}", "out of range"},
	    {"{" META ",\"spec\":{\"leaseTransitions\":2147483648}}",
	        "out of range"},
	    {"{" META ",\"spec\":{\"holderIdentity\":\"" H129 "\"}}",
	        "too long"},
	    {"{" META ",\"spec\":{\"holderIdentity\":\"a\\nb\"}}",
	        "invalid bytes"},
	    {"{" META ",\"spec\":{\"holderIdentity\":\"a\\u0000b\"}}",
	        "invalid bytes"},
	    {"{" META ",\"spec\":{\"holderIdentity\":\"caf\\u00e9\"}}",
	        "invalid bytes"},
	    {"{" META ",\"spec\":{\"renewTime\":\"yesterday\"}}",
	        "not an RFC 3339 time"},
	    {"{" META ",\"spec\":{\"acquireTime\":\"2026-13-01T00:00:00Z\"}}",
	        "not an RFC 3339 time"},
	    {"{\"metadata\":{\"name\":\"replicad\",\"resourceVersion\":\"" RV65
	     "\"}}",
	        "too long"},
	    {"{\"metadata\":{\"name\":\"replicad\",\"resourceVersion\":\"1 "
	     "2\"}}",
	        "invalid bytes"},
	    {"{\"metadata\":{\"name\":\"replicad\",\"resourceVersion\":\"\"}}",
	        "without metadata.name or resourceVersion"},
	    {"{\"metadata\":{\"name\":\"Bad_Name\",\"resourceVersion\":\"1\"}}",
	        "DNS-1123 subdomain"},
	    {"{\"metadata\":{\"name\":\"\",\"resourceVersion\":\"1\"}}",
	        "DNS-1123 subdomain"},
	    {"{\"metadata\":{\"name\":\"replicad\",\"namespace\":\"NS\","
	     "\"resourceVersion\":\"1\"}}",
	        "DNS-1123 label"},
	    /* missing what is required, or another kind */
	    {"{}", "without metadata.name or resourceVersion"},
	    {"{\"metadata\":{\"resourceVersion\":\"1\"}}",
	        "without metadata.name or resourceVersion"},
	    {"{\"metadata\":{\"name\":\"replicad\"}}",
	        "without metadata.name or resourceVersion"},
	    {"{\"kind\":\"Deployment\"," META "}", "not a Lease"},
	    {"{\"kind\":\"Status\",\"code\":404}", "not a Lease"},
	};
	struct lease_rec r;
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].in, strlen(cases[i].in), 0, &r, err,
		        sizeof(err)) != -1)
			fail_msg("accepted case %zu: %s", i, cases[i].in);
		if (strstr(err, cases[i].why) == NULL)
			fail_msg("case %zu: error \"%s\", want \"%s\"", i, err,
			    cases[i].why);
		assert_string_equal(r.rv, "");
		/* Byte at a time fails the same way. */
		assert_int_equal(parse(cases[i].in, strlen(cases[i].in), 1, &r,
		                     err, sizeof(err)),
		    -1);
	}
}

/** Nesting deeper than KJSON_MAX_DEPTH, even in a skipped field. */
static void
test_lease_json_depth_bomb(void **state)
{
	char in[512];
	size_t n = 0;
	struct lease_rec r;
	char err[160];

	(void)state;
	n += (size_t)snprintf(in, sizeof(in), "{" META ",\"x\":");
	for (int i = 0; i < KJSON_MAX_DEPTH + 5; i++)
		in[n++] = '[';
	for (int i = 0; i < KJSON_MAX_DEPTH + 5; i++)
		in[n++] = ']';
	in[n++] = '}';
	in[n] = '\0';
	assert_int_equal(parse(in, n, 0, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nested too deeply"));
}

/** An answer over LEASE_JSON_MAX_BYTES is refused before yajl buffers
 * it, fed whole or in pieces. */
static void
test_lease_json_size_bound(void **state)
{
	size_t len = LEASE_JSON_MAX_BYTES + 64;
	char *in = malloc(len + 1);
	struct lease_json *p;
	struct lease_rec r;
	char err[160];
	size_t n;

	(void)state;
	assert_non_null(in);
	n = (size_t)snprintf(in, len + 1, "{" META ",\"x\":\"");
	memset(in + n, 'a', len - n - 2);
	memcpy(in + len - 2, "\"}", 2);
	in[len] = '\0';
	assert_int_equal(parse(in, len, 0, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "size limit"));
	assert_int_equal(parse(in, len, 4096, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "size limit"));
	/* Exactly at the bound is fine. */
	p = lease_json_new();
	assert_int_equal(lease_json_feed(p, in, LEASE_JSON_MAX_BYTES), 0);
	assert_int_equal(lease_json_feed(p, in, 1), -1);
	lease_json_free(p);
	free(in);
}

/* ------------------------------------------------------------------ */
/* The Lease we write                                                  */

/** The exact body of a take, with the resourceVersion precondition. */
static void
test_lease_json_gen_body_exact(void **state)
{
	struct lease_rec old = rec_of(OTHER, 15, NOW, 3), rec;
	size_t len;
	char *body;

	(void)state;
	lease_next_record(LEASE_TAKE, &old, ME, LATER, &T, &rec);
	body = lease_json_gen_body("shop", "replicad", &rec, &len);
	assert_non_null(body);
	assert_int_equal(len, strlen(body));
	assert_string_equal(body,
	    "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
	    "\"metadata\":{\"name\":\"replicad\",\"namespace\":\"shop\","
	    "\"resourceVersion\":\"9012\"},"
	    "\"spec\":{\"holderIdentity\":\"" ME "\","
	    "\"leaseDurationSeconds\":15,"
	    "\"acquireTime\":\"" LATER "\",\"renewTime\":\"" LATER "\","
	    "\"leaseTransitions\":4}}");
	free(body);
	/* A create carries no resourceVersion. */
	lease_next_record(LEASE_CREATE, NULL, ME, NOW, &T, &rec);
	body = lease_json_gen_body("shop", "replicad", &rec, &len);
	assert_non_null(body);
	assert_null(strstr(body, "resourceVersion"));
	free(body);
}

/** What we write, our parser reads back the same — also for an identity
 * with characters JSON must escape, and for a release. */
static void
test_lease_json_gen_body_round_trip(void **state)
{
	static const char *const ids[] = {
	    ME, "a\"b\\c/d", "x", "~!@#$%^&*()_+{}|:<>?`-=[];',."};
	struct lease_rec old = rec_of(ME, 15, NOW, 3), rec, back;
	char err[160];
	size_t len;
	char *body;

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_true(lease_valid_identity(ids[i]));
		lease_next_record(LEASE_TAKE, &old, ids[i], LATER, &T, &rec);
		body = lease_json_gen_body("shop", "replicad", &rec, &len);
		assert_non_null(body);
		assert_int_equal(
		    parse(body, len, 0, &back, err, sizeof(err)), 0);
		assert_string_equal(back.holder, ids[i]);
		assert_string_equal(back.rv, "9012");
		assert_string_equal(back.namespace, "shop");
		assert_int_equal(back.duration_s, 15);
		assert_int_equal(back.transitions, 4);
		assert_string_equal(back.renew_time, LATER);
		free(body);
	}
	lease_release_record(&old, LATER, &rec);
	body = lease_json_gen_body("shop", "replicad", &rec, &len);
	assert_non_null(body);
	assert_int_equal(parse(body, len, 0, &back, err, sizeof(err)), 0);
	assert_string_equal(back.holder, "");
	assert_int_equal(back.duration_s, 1);
	assert_int_equal(back.transitions, 3);
	assert_non_null(strstr(body, "\"holderIdentity\":\"\""));
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lease_decide_absent_creates),
	    cmocka_unit_test(test_lease_decide_ours_renews),
	    cmocka_unit_test(test_lease_decide_released_takes_at_once),
	    cmocka_unit_test(test_lease_decide_foreign_expires_by_our_clock),
	    cmocka_unit_test(test_lease_decide_uses_record_duration),
	    cmocka_unit_test(test_lease_decide_renewing_holder_never_expires),
	    cmocka_unit_test(test_lease_decide_ignores_remote_clock),
	    cmocka_unit_test(test_lease_observe_what_is_a_change),
	    cmocka_unit_test(test_lease_next_record_create),
	    cmocka_unit_test(test_lease_next_record_take),
	    cmocka_unit_test(test_lease_next_record_renew),
	    cmocka_unit_test(test_lease_release_record),
	    cmocka_unit_test(test_lease_next_delay_jitter),
	    cmocka_unit_test(test_lease_next_delay_backoff),
	    cmocka_unit_test(test_lease_renew_deadline),
	    cmocka_unit_test(test_lease_valid_identity),
	    cmocka_unit_test(test_lease_json_format_time),
	    cmocka_unit_test(test_lease_json_valid_time_table),
	    cmocka_unit_test(test_lease_json_real),
	    cmocka_unit_test(test_lease_json_every_split),
	    cmocka_unit_test(test_lease_json_truncated),
	    cmocka_unit_test(test_lease_json_released_and_nulls),
	    cmocka_unit_test(test_lease_json_rejects_hostile),
	    cmocka_unit_test(test_lease_json_depth_bomb),
	    cmocka_unit_test(test_lease_json_size_bound),
	    cmocka_unit_test(test_lease_json_gen_body_exact),
	    cmocka_unit_test(test_lease_json_gen_body_round_trip),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
