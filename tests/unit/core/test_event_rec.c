/*
 * test_event_rec.c — the Events recorder against the fake kclient
 * (tests/fakes/fake_kclient.c), with its clock and randomness injected:
 * the POST body read back with yajl's tree parser, a repeat's series
 * PATCH (count 2), the refresh's higher count, a finished series then a
 * new Event, the per-object budget, the full queue, bounded retries, a
 * refused write, 404 on a PATCH → POST, emit never reaching the kclient,
 * shutdown with requests in flight, validation and the note's bounds,
 * and every allocation failing in turn (malloc/calloc wrapped at link
 * time for this binary: alloc_fail_after()).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <yajl/yajl_tree.h>

#include "core/clock.h"
#include "core/kube/event_json.h"
#include "core/kube/event_rec.h"
#include "core/log.h"
#include "tests/fakes/fake_kclient.h"

/* ------------------------------------------- allocation failures */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);

static unsigned alloc_countdown; /* 0: off; else the Nth call fails */
static int alloc_failed;

static int
alloc_should_fail(void)
{
	if (alloc_countdown == 0 || --alloc_countdown != 0)
		return 0;
	alloc_failed = 1;
	return 1;
}

void *
__wrap_malloc(size_t n)
{
	return alloc_should_fail() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t m)
{
	return alloc_should_fail() ? NULL : __real_calloc(n, m);
}

/* The nth allocation (by our objects, not the libraries) from now fails. */
static void
alloc_fail_after(unsigned n)
{
	alloc_countdown = n;
	alloc_failed = 0;
}

/* -------------------------------------------------------- fixture */

#define NS   "shop"
#define POD  "replicad-7d9f-abcde"
#define T0_S 1765000000 /* 2025-12-06T05:46:40Z */

struct fx {
	struct event_base *base;
	struct evrec *r;
	struct evrec_ops ops;
	uint64_t now; /* ms since T0 on both clocks */
};

static uint64_t
t_now(void *arg)
{
	return ((struct fx *)arg)->now;
}

static void
t_wall(void *arg, struct timespec *ts)
{
	struct fx *f = arg;

	ts->tv_sec = T0_S + (time_t)(f->now / 1000);
	ts->tv_nsec = (long)(f->now % 1000) * 1000000 + 123456;
}

static uint32_t
t_random(void *arg)
{
	(void)arg;
	return 7;
}

static struct evrec *
new_rec(struct fx *f)
{
	struct evrec_config cfg = {.namespace = NS,
	    .reporting_instance = POD,
	    .retry_base_ms = 1,
	    .ops = &f->ops};

	return evrec_new(f->base, NULL, &cfg);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->base = event_base_new()) == NULL)
		return -1;
	f->ops = (struct evrec_ops){t_now, t_wall, t_random, f};
	if ((f->r = new_rec(f)) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	alloc_fail_after(0);
	evrec_free(f->r);
	assert_int_equal(fake_kc_pending(), 0); /* all cancelled */
	fake_kc_reset();
	event_base_free(f->base);
	free(f);
	return 0;
}

static struct evrec_stats
stats(const struct fx *f)
{
	struct evrec_stats s;

	evrec_stats(f->r, &s);
	return s;
}

/* One loop turn: what evrec_emit() queued is processed. */
static void
turn(struct fx *f)
{
	event_base_loop(f->base, EVLOOP_NONBLOCK);
}

/* Runs the loop until a request of `verb` is out (retry timers), 5 s at
 * most: a deadline, not a timing assertion. */
static struct kc_req *
wait_req(struct fx *f, enum kc_verb verb)
{
	uint64_t end = clock_now_ms() + 5000;
	struct kc_req *q;

	while ((q = fake_kc_next(verb)) == NULL && clock_now_ms() < end) {
		struct timespec ms = {0, 1000000};

		turn(f);
		nanosleep(&ms, NULL);
	}
	assert_non_null(q);
	return q;
}

static int
emit(struct fx *f, const char *name, enum evrec_type type, const char *reason,
    const char *note)
{
	struct evrec_object o = {.kind = "Deployment",
	    .api_version = "apps/v1",
	    .name = name,
	    .uid = "0b4c1d5e-uid",
	    .resource_version = "42"};

	return evrec_emit(f->r, &o, type, reason, "Scale", note);
}

/* ----------------------------------------------------- JSON reads */

static yajl_val
parse(const char *body)
{
	char err[128];
	yajl_val v = yajl_tree_parse(body, err, sizeof(err));

	if (v == NULL)
		fail_msg("body is not JSON (%s): %s", err, body);
	return v;
}

/* The string at a path of up to 3 keys, or NULL. */
static const char *
jstr(yajl_val v, const char *a, const char *b, const char *c)
{
	const char *path[] = {a, b, c, NULL};

	return YAJL_GET_STRING(yajl_tree_get(v, path, yajl_t_string));
}

static long long
jint(yajl_val v, const char *a, const char *b)
{
	const char *path[] = {a, b, NULL};
	yajl_val n = yajl_tree_get(v, path, yajl_t_number);

	assert_non_null(n);
	assert_true(YAJL_IS_INTEGER(n));
	return YAJL_GET_INTEGER(n);
}

static void
assert_event_name(const char *name, const char *prefix)
{
	size_t p = strlen(prefix);

	assert_non_null(name);
	assert_int_equal(strlen(name), p + 17);
	assert_memory_equal(name, prefix, p);
	assert_int_equal(name[p], '.');
	for (size_t i = p + 1; i < p + 17; i++)
		assert_non_null(strchr("0123456789abcdef", name[i]));
}

/* The POST out now: checked, answered `status`; returns its name. */
static void
answer_post(struct fx *f, long status, char *name, size_t namesz)
{
	struct kc_req *q = wait_req(f, KC_POST);
	yajl_val v = parse(fake_kc_body(q));

	if (name != NULL)
		snprintf(name, namesz, "%s", jstr(v, "metadata", "name", NULL));
	yajl_tree_free(v);
	fake_kc_answer(q, status, status < 300 ? "{}" : NULL);
}

/* Answers every request out, 2xx, until none is left. */
static void
answer_all(void)
{
	struct kc_req *q;

	while ((q = fake_kc_next(KC_POST)) != NULL ||
	    (q = fake_kc_next(KC_PATCH)) != NULL)
		fake_kc_answer(q, 201, "{}");
}

/* ---------------------------------------------------------- tests */

/** The first occurrence: nothing reaches the kclient inside emit; on the
 *  next turn one POST with every field client-go's recorder sets. */
static void
test_evrec_first_post_body(void **state)
{
	struct fx *f = *state;
	unsigned long before = fake_kc_started();
	struct kc_req *q;
	yajl_val v;

	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled",
	                     "scaled from 3 to 5 by replicad-admin"),
	    0);
	/* The guarantee: evrec_emit only queues. */
	assert_int_equal(fake_kc_started(), before);
	assert_int_equal(fake_kc_pending(), 0);
	turn(f);
	assert_int_equal(fake_kc_started(), before + 1);
	q = fake_kc_next(KC_POST);
	assert_non_null(q);
	assert_string_equal(fake_kc_path(q),
	    "/apis/events.k8s.io/v1/namespaces/" NS
	    "/events?fieldManager=replicad");
	assert_string_equal(fake_kc_ctype(q), "application/json");
	v = parse(fake_kc_body(q));
	assert_string_equal(
	    jstr(v, "apiVersion", NULL, NULL), "events.k8s.io/v1");
	assert_string_equal(jstr(v, "kind", NULL, NULL), "Event");
	assert_event_name(jstr(v, "metadata", "name", NULL), "web");
	assert_string_equal(jstr(v, "metadata", "namespace", NULL), NS);
	assert_string_equal(
	    jstr(v, "eventTime", NULL, NULL), "2025-12-06T05:46:40.000123Z");
	assert_null(
	    yajl_tree_get(v, (const char *[]){"series", NULL}, yajl_t_any));
	assert_string_equal(
	    jstr(v, "reportingController", NULL, NULL), "replicad.io/core");
	assert_string_equal(jstr(v, "reportingInstance", NULL, NULL), POD);
	assert_string_equal(jstr(v, "action", NULL, NULL), "Scale");
	assert_string_equal(jstr(v, "reason", NULL, NULL), "Scaled");
	assert_string_equal(jstr(v, "type", NULL, NULL), "Normal");
	assert_string_equal(jstr(v, "note", NULL, NULL),
	    "scaled from 3 to 5 by replicad-admin");
	assert_string_equal(jstr(v, "regarding", "kind", NULL), "Deployment");
	assert_string_equal(
	    jstr(v, "regarding", "apiVersion", NULL), "apps/v1");
	assert_string_equal(jstr(v, "regarding", "name", NULL), "web");
	assert_string_equal(jstr(v, "regarding", "namespace", NULL), NS);
	assert_string_equal(jstr(v, "regarding", "uid", NULL), "0b4c1d5e-uid");
	assert_string_equal(
	    jstr(v, "regarding", "resourceVersion", NULL), "42");
	/* Never the legacy fields the v1 API refuses. */
	assert_null(
	    yajl_tree_get(v, (const char *[]){"count", NULL}, yajl_t_any));
	assert_null(
	    yajl_tree_get(v, (const char *[]){"source", NULL}, yajl_t_any));
	yajl_tree_free(v);
	fake_kc_answer(q, 201, "{}");
	assert_int_equal(stats(f).created, 1);
	assert_int_equal(stats(f).emitted, 1);
}

/* Records a first Event and its repeat's PATCH (count 2), answered. */
static void
make_series(struct fx *f, char *name, size_t namesz)
{
	struct kc_req *q;
	yajl_val v;
	char path[512];

	assert_int_equal(emit(f, "web", EVREC_WARNING, "ScaleFailed", "x"), 0);
	turn(f);
	answer_post(f, 201, name, namesz);
	f->now += 1500;
	assert_int_equal(emit(f, "web", EVREC_WARNING, "ScaleFailed", "x"), 0);
	turn(f);
	q = fake_kc_next(KC_PATCH);
	assert_non_null(q);
	snprintf(path, sizeof(path),
	    "/apis/events.k8s.io/v1/namespaces/" NS
	    "/events/%s?fieldManager=replicad",
	    name);
	assert_string_equal(fake_kc_path(q), path);
	assert_string_equal(fake_kc_ctype(q), "application/merge-patch+json");
	v = parse(fake_kc_body(q));
	assert_int_equal(v->u.object.len, 1); /* only the series moves */
	assert_int_equal(jint(v, "series", "count"), 2);
	assert_string_equal(jstr(v, "series", "lastObservedTime", NULL),
	    "2025-12-06T05:46:41.500123Z");
	yajl_tree_free(v);
	fake_kc_answer(q, 200, "{}");
}

/** An isomorphic repeat is a series: PATCH with count 2 at once. */
static void
test_evrec_repeat_patches_count_2(void **state)
{
	struct fx *f = *state;
	char name[300];
	struct evrec_object o = {.kind = "Deployment",
	    .api_version = "apps/v1",
	    .name = "web",
	    .uid = "0b4c1d5e-uid"};
	yajl_val v;

	make_series(f, name, sizeof(name));
	assert_int_equal(stats(f).created, 1);
	assert_int_equal(stats(f).series_updates, 1);
	/* A new resourceVersion of the object is still the same series. */
	o.resource_version = "43";
	assert_int_equal(
	    evrec_emit(f->r, &o, EVREC_WARNING, "ScaleFailed", "Scale", "x"),
	    0);
	turn(f);
	assert_int_equal(fake_kc_pending(), 0);
	evrec_refresh_series(f->r);
	v = parse(fake_kc_body(fake_kc_next(KC_PATCH)));
	assert_int_equal(jint(v, "series", "count"), 3);
	yajl_tree_free(v);
	fake_kc_answer(fake_kc_next(KC_PATCH), 200, "{}");
	/* Another type, reason, action or uid is another Event. */
	o.uid = "other-uid";
	assert_int_equal(
	    evrec_emit(f->r, &o, EVREC_WARNING, "ScaleFailed", "Scale", "x"),
	    0);
	assert_int_equal(emit(f, "web", EVREC_NORMAL, "ScaleFailed", "x"), 0);
	assert_int_equal(emit(f, "web", EVREC_WARNING, "Other", "x"), 0);
	turn(f);
	assert_int_equal(fake_kc_pending(), 3);
	answer_all();
	assert_int_equal(stats(f).created, 4);
	/* Another note is another Event. */
	assert_int_equal(emit(f, "web", EVREC_WARNING, "ScaleFailed", "y"), 0);
	turn(f);
	answer_post(f, 201, NULL, 0);
	assert_int_equal(stats(f).created, 5);
}

/** Later repeats only count; the refresh writes the higher count once. */
static void
test_evrec_refresh_sends_higher_count(void **state)
{
	struct fx *f = *state;
	char name[300];
	struct kc_req *q;
	yajl_val v;

	make_series(f, name, sizeof(name));
	for (int i = 0; i < 3; i++) {
		f->now += 1000;
		assert_int_equal(
		    emit(f, "web", EVREC_WARNING, "ScaleFailed", "x"), 0);
	}
	turn(f);
	assert_int_equal(fake_kc_pending(), 0);
	evrec_refresh_series(f->r);
	q = fake_kc_next(KC_PATCH);
	assert_non_null(q);
	assert_non_null(strstr(fake_kc_path(q), name));
	v = parse(fake_kc_body(q));
	assert_int_equal(jint(v, "series", "count"), 5);
	yajl_tree_free(v);
	fake_kc_answer(q, 200, "{}");
	assert_int_equal(stats(f).series_updates, 2);
	/* Nothing moved since: nothing to write. */
	evrec_refresh_series(f->r);
	assert_int_equal(fake_kc_pending(), 0);
}

/** A series idle for finishTime gets its last count written and is
 *  forgotten; the next occurrence is a new Event.  So is a single one. */
static void
test_evrec_finished_series_then_new_post(void **state)
{
	struct fx *f = *state;
	char name[300], name2[300];
	struct kc_req *q;
	yajl_val v;

	make_series(f, name, sizeof(name));
	f->now += 1000;
	assert_int_equal(emit(f, "web", EVREC_WARNING, "ScaleFailed", "x"), 0);
	turn(f);
	f->now += EVREC_FINISH_MS - 1;
	evrec_finish_series(f->r); /* not idle long enough yet */
	assert_int_equal(fake_kc_pending(), 0);
	f->now += 1;
	evrec_finish_series(f->r);
	q = fake_kc_next(KC_PATCH);
	assert_non_null(q);
	v = parse(fake_kc_body(q));
	assert_int_equal(jint(v, "series", "count"), 3);
	yajl_tree_free(v);
	fake_kc_answer(q, 200, "{}");
	assert_int_equal(emit(f, "web", EVREC_WARNING, "ScaleFailed", "x"), 0);
	turn(f);
	answer_post(f, 201, name2, sizeof(name2));
	assert_string_not_equal(name, name2);
	/* A single Event idle that long is just forgotten. */
	f->now += EVREC_FINISH_MS;
	evrec_finish_series(f->r);
	assert_int_equal(fake_kc_pending(), 0);
	assert_int_equal(emit(f, "web", EVREC_WARNING, "ScaleFailed", "x"), 0);
	turn(f);
	answer_post(f, 201, NULL, 0);
	assert_int_equal(stats(f).created, 3);
}

/** tools/record's spam filter per object: a burst of 25, then one per
 *  5 minutes; other objects are not charged. */
static void
test_evrec_budget_drops_and_counts(void **state)
{
	struct fx *f = *state;
	char note[32];

	for (int i = 0; i < EVREC_BUDGET_BURST + 1; i++) {
		snprintf(note, sizeof(note), "n%d", i);
		assert_int_equal(
		    emit(f, "web", EVREC_NORMAL, "Scaled", note), 0);
	}
	turn(f);
	/* At most EVREC_MAX_INFLIGHT at once; the rest wait their turn. */
	assert_int_equal(fake_kc_pending(), EVREC_MAX_INFLIGHT);
	answer_all();
	assert_int_equal(stats(f).created, EVREC_BUDGET_BURST);
	assert_int_equal(stats(f).dropped_budget, 1);
	/* Another object has its own bucket. */
	assert_int_equal(emit(f, "api", EVREC_NORMAL, "Scaled", "n0"), 0);
	turn(f);
	answer_all();
	assert_int_equal(stats(f).created, EVREC_BUDGET_BURST + 1);
	/* One token back after 5 minutes, and only one. */
	f->now += EVREC_BUDGET_REFILL_MS;
	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", "late1"), 0);
	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", "late2"), 0);
	turn(f);
	answer_all();
	assert_int_equal(stats(f).created, EVREC_BUDGET_BURST + 2);
	assert_int_equal(stats(f).dropped_budget, 2);
}

/** More than EVREC_MAX_QUEUE emits in one loop turn: the excess is
 *  dropped and counted, the rest stays queued (freed at shutdown). */
static void
test_evrec_queue_full_drops_and_counts(void **state)
{
	struct fx *f = *state;
	unsigned long before = fake_kc_started();
	char name[32];

	for (int i = 0; i < EVREC_MAX_QUEUE; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		assert_int_equal(emit(f, name, EVREC_NORMAL, "Scaled", ""), 0);
	}
	assert_int_equal(emit(f, "late", EVREC_NORMAL, "Scaled", ""), -1);
	assert_int_equal(stats(f).dropped_queue, 1);
	assert_int_equal(stats(f).emitted, EVREC_MAX_QUEUE);
	assert_int_equal(fake_kc_started(), before);
}

/** The table of remembered Events is bounded: when full, the least
 *  recently seen idle one is forgotten (its repeat is a new Event); when
 *  every one is busy, a new occurrence is dropped and counted. */
static void
test_evrec_event_table_full(void **state)
{
	struct fx *f = *state;
	char name[32];
	int i;

	for (i = 0; i < EVREC_MAX_EVENTS; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		assert_int_equal(emit(f, name, EVREC_NORMAL, "Scaled", ""), 0);
		if (i % 100 == 99) {
			turn(f);
			f->now += 1;
		}
	}
	turn(f);
	/* All busy (4 out, the rest waiting): no room for another. */
	assert_int_equal(emit(f, "more", EVREC_NORMAL, "Scaled", ""), 0);
	turn(f);
	assert_int_equal(stats(f).dropped_queue, 1);
	answer_all();
	assert_int_equal(stats(f).created, EVREC_MAX_EVENTS);
	/* All idle: "d0", seen first, makes room. */
	f->now += 1;
	assert_int_equal(emit(f, "more", EVREC_NORMAL, "Scaled", ""), 0);
	turn(f);
	answer_post(f, 201, NULL, 0);
	assert_int_equal(emit(f, "d1", EVREC_NORMAL, "Scaled", ""), 0);
	turn(f);
	assert_non_null(fake_kc_next(KC_PATCH)); /* remembered */
	answer_all();
	assert_int_equal(emit(f, "d0", EVREC_NORMAL, "Scaled", ""), 0);
	turn(f);
	assert_null(fake_kc_next(KC_PATCH)); /* forgotten: a new Event */
	answer_post(f, 201, NULL, 0);
	assert_int_equal(stats(f).created, EVREC_MAX_EVENTS + 2);
}

/** 5xx and transport errors are retried up to EVREC_MAX_TRIES attempts,
 *  then dropped and counted; the Event is forgotten. */
static void
test_evrec_failure_retried_then_counted(void **state)
{
	struct fx *f = *state;
	struct fake_kc_answer down = {.transport_error = 1};
	char first[300], again[300];

	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", "n"), 0);
	turn(f);
	answer_post(f, 503, first, sizeof(first));
	fake_kc_end(wait_req(f, KC_POST), &down);
	for (int i = 2; i < EVREC_MAX_TRIES; i++)
		answer_post(f, 500, again, sizeof(again));
	assert_string_equal(first, again); /* the same Event each time */
	assert_int_equal(stats(f).retries, EVREC_MAX_TRIES - 1);
	assert_int_equal(stats(f).failed, 1);
	assert_int_equal(fake_kc_pending(), 0);
	/* Forgotten: the next one is a new POST, and a retry can succeed. */
	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", "n"), 0);
	turn(f);
	answer_post(f, 429, NULL, 0);
	answer_post(f, 201, NULL, 0);
	assert_int_equal(stats(f).created, 1);
	assert_int_equal(stats(f).failed, 1);
}

/** A refusal (422, 403, 409 on a first POST) is not retried. */
static void
test_evrec_refused_not_retried(void **state)
{
	struct fx *f = *state;
	static const long codes[] = {422, 403, 409, 400};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		assert_int_equal(
		    emit(f, "web", EVREC_NORMAL, "Scaled", "refused"), 0);
		turn(f);
		answer_post(f, codes[i], NULL, 0);
		assert_int_equal(fake_kc_pending(), 0);
	}
	assert_int_equal(stats(f).failed, 4);
	assert_int_equal(stats(f).retries, 0);
}

/** A series PATCH answered 404 (the Event expired): the Event is created
 *  again under its name, series included, as client-go does. */
static void
test_evrec_patch_404_posts_again(void **state)
{
	struct fx *f = *state;
	char name[300];
	struct kc_req *q;
	yajl_val v;

	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", "n"), 0);
	turn(f);
	answer_post(f, 201, name, sizeof(name));
	f->now += 1000;
	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", "n"), 0);
	turn(f);
	fake_kc_answer(fake_kc_next(KC_PATCH), 404,
	    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
	    "\"reason\":\"NotFound\",\"code\":404}");
	q = fake_kc_next(KC_POST);
	assert_non_null(q);
	v = parse(fake_kc_body(q));
	assert_string_equal(jstr(v, "metadata", "name", NULL), name);
	assert_int_equal(jint(v, "series", "count"), 2);
	assert_string_equal(
	    jstr(v, "eventTime", NULL, NULL), "2025-12-06T05:46:40.000123Z");
	yajl_tree_free(v);
	fake_kc_answer(q, 201, "{}");
	assert_int_equal(stats(f).created, 2);
	assert_int_equal(stats(f).retries, 0);
	/* A 409 on that re-creation (someone else made it) is retried. */
	f->now += 1000;
	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", "n"), 0);
	turn(f);
	evrec_refresh_series(f->r);
	fake_kc_answer(fake_kc_next(KC_PATCH), 404, NULL);
	answer_post(f, 409, NULL, 0);
	assert_int_equal(stats(f).retries, 1);
	q = wait_req(f, KC_PATCH); /* it exists now: PATCH it */
	v = parse(fake_kc_body(q));
	assert_int_equal(jint(v, "series", "count"), 3);
	yajl_tree_free(v);
	fake_kc_answer(q, 200, "{}");
	assert_int_equal(stats(f).failed, 0);
	assert_int_equal(stats(f).series_updates, 1);
}

/** Emitting from inside a kclient callback is safe (still no call into
 *  the kclient from emit); a kc_start that fails is a failed attempt. */
static struct fx *cb_fx;

static void
nested_done(void *arg, const struct kc_result *res)
{
	(void)arg;
	(void)res;
	assert_int_equal(emit(cb_fx, "web", EVREC_NORMAL, "Nested", ""), 0);
}

static void
test_evrec_emit_from_callback_and_start_failure(void **state)
{
	struct fx *f = *state;
	struct kc_req *other;

	cb_fx = f;
	other = kc_start(
	    NULL, KC_GET, "/x", NULL, NULL, 0, NULL, nested_done, NULL);
	assert_non_null(other);
	fake_kc_answer(other, 200, NULL);
	assert_int_equal(fake_kc_pending(), 0);
	fake_kc_fail_next_start();
	turn(f);
	assert_int_equal(stats(f).retries, 1);
	answer_post(f, 201, NULL, 0);
	assert_int_equal(stats(f).created, 1);
}

/** Shutdown with requests out, a retry armed and occurrences queued:
 *  every request is cancelled (teardown checks) and nothing leaks. */
static void
test_evrec_free_with_requests_in_flight(void **state)
{
	struct fx *f = *state;
	char name[32];

	for (int i = 0; i < EVREC_MAX_INFLIGHT + 2; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		assert_int_equal(emit(f, name, EVREC_NORMAL, "Scaled", ""), 0);
	}
	turn(f);
	assert_int_equal(fake_kc_pending(), EVREC_MAX_INFLIGHT);
	fake_kc_answer(fake_kc_next(KC_POST), 503, NULL); /* retry armed */
	assert_int_equal(emit(f, "queued", EVREC_NORMAL, "Scaled", ""), 0);
	evrec_free(f->r);
	f->r = NULL;
	assert_int_equal(fake_kc_pending(), 0);
	turn(f); /* no callback reaches the freed recorder */
}

/** What the API would refuse is refused here, counted, never sent. */
static void
test_evrec_invalid_refused(void **state)
{
	struct fx *f = *state;
	char long_reason[EVREC_MAX_REASON + 2];
	struct evrec_object o = {.kind = "Deployment",
	    .api_version = "apps/v1",
	    .name = "web",
	    .namespace = "Bad_NS"};

	memset(long_reason, 'R', sizeof(long_reason) - 1);
	long_reason[sizeof(long_reason) - 1] = '\0';
	assert_int_equal(emit(f, "Web_", EVREC_NORMAL, "Scaled", ""), -1);
	assert_int_equal(emit(f, "", EVREC_NORMAL, "Scaled", ""), -1);
	assert_int_equal(emit(f, "web", EVREC_NORMAL, "", ""), -1);
	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Two words", ""), -1);
	assert_int_equal(emit(f, "web", EVREC_NORMAL, long_reason, ""), -1);
	assert_int_equal(emit(f, "web", (enum evrec_type)7, "Scaled", ""), -1);
	assert_int_equal(
	    evrec_emit(f->r, &o, EVREC_NORMAL, "Scaled", "Scale", ""), -1);
	o.namespace = NS;
	o.kind = NULL;
	assert_int_equal(
	    evrec_emit(f->r, &o, EVREC_NORMAL, "Scaled", "Scale", ""), -1);
	o.kind = "Deployment";
	assert_int_equal(
	    evrec_emit(f->r, &o, EVREC_NORMAL, "Scaled", "Sc\x01", ""), -1);
	assert_int_equal(evrec_emit(NULL, &o, EVREC_NORMAL, "A", "B", ""), -1);
	assert_int_equal(
	    evrec_emit(f->r, NULL, EVREC_NORMAL, "Scaled", "Scale", ""), -1);
	assert_int_equal(stats(f).dropped_invalid, 10);
	/* The recorder's own namespace, named, is fine; no uid/RV either. */
	assert_int_equal(
	    evrec_emit(f->r, &o, EVREC_NORMAL, "Scaled", "Scale", NULL), 0);
	turn(f);
	answer_post(f, 201, NULL, 0);
	assert_int_equal(stats(f).emitted, 1);
}

/** An Event about an object of another namespace is written in that
 *  namespace (a core serving several has one recorder), and is a series
 *  apart from the same Event in the recorder's namespace. */
static void
test_evrec_object_namespace(void **state)
{
	struct fx *f = *state;
	struct evrec_object o = {.kind = "Deployment",
	    .api_version = "apps/v1",
	    .name = "web",
	    .namespace = "team-b"};
	struct kc_req *q;
	yajl_val v;

	assert_int_equal(
	    evrec_emit(f->r, &o, EVREC_NORMAL, "Scaled", "Scale", "n"), 0);
	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", "n"), 0);
	turn(f);
	assert_int_equal(fake_kc_pending(), 2);
	q = fake_kc_next(KC_POST);
	assert_non_null(q);
	assert_string_equal(fake_kc_path(q),
	    "/apis/events.k8s.io/v1/namespaces/team-b"
	    "/events?fieldManager=replicad");
	v = parse(fake_kc_body(q));
	assert_string_equal(jstr(v, "metadata", "namespace", NULL), "team-b");
	assert_string_equal(jstr(v, "regarding", "namespace", NULL), "team-b");
	yajl_tree_free(v);
	fake_kc_answer(q, 201, NULL);
	q = fake_kc_next(KC_POST);
	assert_non_null(q);
	assert_string_equal(fake_kc_path(q),
	    "/apis/events.k8s.io/v1/namespaces/" NS
	    "/events?fieldManager=replicad");
	fake_kc_answer(q, 201, NULL);
	turn(f);
	assert_int_equal(stats(f).created, 2);
}

/** The note: cut to 1024 bytes on a character boundary, bytes that are
 *  not UTF-8 replaced, quotes and controls escaped by yajl; a long
 *  Deployment name still gives a valid 253-byte Event name. */
static void
test_evrec_note_bounds_and_escaping(void **state)
{
	struct fx *f = *state;
	char note[3000], longname[254];
	struct kc_req *q;
	yajl_val v;
	const char *n;

	/* 1023 'a' then 'é' (2 bytes): the 'é' does not fit. */
	memset(note, 'a', 1023);
	strcpy(note + 1023, "\xc3\xa9 tail");
	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", note), 0);
	assert_int_equal(emit(f, "api", EVREC_NORMAL, "Scaled",
	                     "bad \xff\xc3 \"q\" \\ \n\t \xe2\x82\xac"),
	    0);
	/* Labels of 49 bytes; the cut at 236 bytes would end on a '.'. */
	memset(longname, 'a', 253);
	longname[253] = '\0';
	for (int i = 49; i < 235; i += 50)
		longname[i] = '.';
	longname[235] = '.';
	assert_int_equal(emit(f, longname, EVREC_NORMAL, "Scaled", ""), 0);
	turn(f);
	q = fake_kc_next(KC_POST);
	v = parse(fake_kc_body(q));
	n = jstr(v, "note", NULL, NULL);
	assert_int_equal(strlen(n), 1023);
	yajl_tree_free(v);
	fake_kc_answer(q, 201, "{}");
	q = fake_kc_next(KC_POST);
	v = parse(fake_kc_body(q));
	assert_string_equal(
	    jstr(v, "note", NULL, NULL), "bad ?? \"q\" \\ \n\t \xe2\x82\xac");
	yajl_tree_free(v);
	fake_kc_answer(q, 201, "{}");
	q = fake_kc_next(KC_POST);
	v = parse(fake_kc_body(q));
	n = jstr(v, "metadata", "name", NULL);
	assert_true(strlen(n) <= 253);
	assert_int_equal(strlen(n), 235 + 17);
	assert_int_equal(n[234], 'a');
	assert_string_equal(jstr(v, "regarding", "name", NULL), longname);
	assert_null(
	    yajl_tree_get(v, (const char *[]){"note", NULL}, yajl_t_any));
	yajl_tree_free(v);
	fake_kc_answer(q, 201, "{}");
}

/** evjson_copy_utf8 at the bound: 1024 bytes fit whole, the 1025th is
 *  cut, a 3- or 4-byte character is never split, overlong and surrogate
 *  forms are replaced. */
static void
test_evrec_copy_utf8_bounds(void **state)
{
	char in[EVREC_MAX_NOTE + 8], out[EVREC_MAX_NOTE + 1];

	(void)state;
	memset(in, 'a', EVREC_MAX_NOTE);
	in[EVREC_MAX_NOTE] = '\0';
	assert_int_equal(evjson_copy_utf8(out, in, EVREC_MAX_NOTE), 1024);
	strcpy(in + EVREC_MAX_NOTE, "b");
	assert_int_equal(evjson_copy_utf8(out, in, EVREC_MAX_NOTE), 1024);
	assert_int_equal(out[1023], 'a');
	strcpy(in + 1022, "\xe2\x82\xac"); /* 3 bytes from 1022: cut */
	assert_int_equal(evjson_copy_utf8(out, in, EVREC_MAX_NOTE), 1022);
	strcpy(in + 1020, "\xf0\x9f\x98\x80"); /* 4 bytes ending at 1024 */
	assert_int_equal(evjson_copy_utf8(out, in, EVREC_MAX_NOTE), 1024);
	assert_int_equal(evjson_copy_utf8(out, "\xc0\xaf", 10), 2);
	assert_string_equal(out, "??");
	assert_int_equal(evjson_copy_utf8(out, "\xed\xa0\x80x", 10), 4);
	assert_string_equal(out, "???x");
	assert_int_equal(evjson_copy_utf8(out, "\xe2\x82", 10), 2);
	assert_string_equal(out, "??");
	assert_int_equal(evjson_copy_utf8(out, "", 10), 0);
}

/** Names stay unique when the wall clock stands still or goes back. */
static void
test_evrec_names_unique(void **state)
{
	struct fx *f = *state;
	char a[300], b[300];

	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", "1"), 0);
	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", "2"), 0);
	turn(f);
	answer_post(f, 201, a, sizeof(a));
	answer_post(f, 201, b, sizeof(b));
	assert_string_not_equal(a, b);
}

/** Bad configuration is refused. */
static void
test_evrec_new_rejects_bad_config(void **state)
{
	struct fx *f = *state;
	struct evrec_config c = {.namespace = NS, .reporting_instance = POD};

	c.namespace = "Bad_NS";
	assert_null(evrec_new(f->base, NULL, &c));
	c.namespace = NS;
	c.reporting_instance = "";
	assert_null(evrec_new(f->base, NULL, &c));
	c.reporting_instance = "has space";
	assert_null(evrec_new(f->base, NULL, &c));
	c.reporting_instance = POD;
	c.reporting_controller = "replicad.io/-core";
	assert_null(evrec_new(f->base, NULL, &c));
	c.reporting_controller = "Bad_Domain/core";
	assert_null(evrec_new(f->base, NULL, &c));
	c.reporting_controller = "replicad-core";
	evrec_free(evrec_new(f->base, NULL, &c)); /* no prefix: fine */
}

/** Every allocation of the recorder fails in turn: evrec_new returns
 *  NULL, emit drops and counts, a body that cannot be built is a failed
 *  attempt; nothing leaks (ASan/valgrind) and nothing crashes. */
static void
test_evrec_allocation_failures(void **state)
{
	struct fx *f = *state;
	struct evrec *r;
	unsigned n;
	size_t len;
	char *body;

	for (n = 1;; n++) {
		alloc_fail_after(n);
		r = new_rec(f);
		if (!alloc_failed)
			break;
		assert_null(r);
	}
	alloc_fail_after(0);
	assert_true(n > 1);
	evrec_free(r);

	alloc_fail_after(1);
	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", "n"), -1);
	assert_true(alloc_failed);
	assert_int_equal(stats(f).dropped_queue, 1);

	alloc_fail_after(1);
	assert_null(evjson_series_patch(2, "t", &len));
	alloc_fail_after(0);

	/* The send path: its first allocation is the body. */
	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", "n"), 0);
	alloc_fail_after(1);
	turn(f);
	assert_true(alloc_failed);
	alloc_fail_after(0);
	assert_int_equal(stats(f).retries, 1);
	answer_post(f, 201, NULL, 0);
	assert_int_equal(stats(f).created, 1);

	/* yajl_gen refuses a string that is not UTF-8: no body at all. */
	body = evjson_series_patch(2, "\xff", &len);
	assert_null(body);
}

/** The /metrics text carries every counter. */
static void
test_evrec_prometheus(void **state)
{
	struct fx *f = *state;
	struct evbuffer *b = evbuffer_new();
	char *txt;
	size_t n;

	assert_int_equal(emit(f, "web", EVREC_NORMAL, "Scaled", ""), 0);
	assert_int_equal(emit(f, "Bad_", EVREC_NORMAL, "Scaled", ""), -1);
	assert_int_equal(evrec_stats_prometheus(f->r, b), 0);
	n = evbuffer_get_length(b);
	txt = calloc(1, n + 1);
	assert_non_null(txt);
	evbuffer_copyout(b, txt, n);
	assert_non_null(strstr(txt, "replicad_core_events_emitted_total 1\n"));
	assert_non_null(strstr(
	    txt, "replicad_core_events_dropped_total{reason=\"invalid\"} 1\n"));
	assert_non_null(strstr(
	    txt, "replicad_core_events_written_total{write=\"series\"} 0\n"));
	free(txt);
	evbuffer_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
	    T(test_evrec_first_post_body),
	    T(test_evrec_repeat_patches_count_2),
	    T(test_evrec_refresh_sends_higher_count),
	    T(test_evrec_finished_series_then_new_post),
	    T(test_evrec_budget_drops_and_counts),
	    T(test_evrec_queue_full_drops_and_counts),
	    T(test_evrec_event_table_full),
	    T(test_evrec_failure_retried_then_counted),
	    T(test_evrec_refused_not_retried),
	    T(test_evrec_patch_404_posts_again),
	    T(test_evrec_emit_from_callback_and_start_failure),
	    T(test_evrec_free_with_requests_in_flight),
	    T(test_evrec_invalid_refused),
	    T(test_evrec_object_namespace),
	    T(test_evrec_note_bounds_and_escaping),
	    T(test_evrec_copy_utf8_bounds),
	    T(test_evrec_names_unique),
	    T(test_evrec_new_rejects_bad_config),
	    T(test_evrec_allocation_failures),
	    T(test_evrec_prometheus),
#undef T
	};

	log_init("test_event_rec", LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
