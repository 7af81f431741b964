/*
 * reconcile.c — scale pinned Deployments back to their pin (see
 * reconcile.h).
 *
 * Each Deployment that drifted gets an `item` (separately allocated, so
 * that a write's callback can hold it; indexed by a sorted array of
 * pointers).  An item is queued with a due time; one timer runs the queue:
 * due items are checked again against the cache and the pin (the world may
 * have moved on) and written while the token bucket allows.  Writes are
 * never started from inside recon_check(), which runs from the reflector's
 * and the request handlers' callbacks: only from the timer.
 *
 * An item outlives its write to remember failures and repeated drifts;
 * idle ones are dropped after RECON_ITEM_IDLE_MS by recon_check_all().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/kube/annotations.h"
#include "core/kube/cache.h"
#include "core/kube/event_rec.h"
#include "core/kube/hpa_watch.h"
#include "core/clock.h"
#include "core/core_limits.h"
#include "core/log.h"
#include "core/pins/pins.h"
#include "core/pins/reconcile.h"
#include "core/kube/reflector.h"
#include "core/kube/scale.h"
#include "proto-socket/ps_codec.h"

struct item {
	struct recon *r;
	char name[PS_MAX_NAME + 1];
	struct scale_op *op; /* the write in flight, or NULL */
	int queued;
	uint64_t due_ms;        /* queued: not before this */
	uint64_t not_before_ms; /* after a failure or a repeated drift */
	unsigned failures;      /* failed writes in a row */
	unsigned repeats;       /* writes repeated within the fight window */
	uint64_t last_write_ms; /* when the last successful write ended */
};

struct recon {
	struct recon_deps d;
	struct event *timer;
	struct recon_bucket bucket;
	struct item **items; /* sorted by name */
	size_t n, cap;
	uint64_t armed_at; /* when the timer fires; UINT64_MAX: not armed */
	struct recon_stats stats;
};

uint64_t
recon_delay_ms(unsigned n)
{
	uint64_t d = RECON_DELAY_INITIAL_MS;

	for (unsigned i = 1; i < n && d < RECON_DELAY_MAX_MS; i++)
		d *= 2;
	return d < RECON_DELAY_MAX_MS ? d : RECON_DELAY_MAX_MS;
}

void
recon_bucket_init(struct recon_bucket *b, uint64_t now_ms)
{
	b->milli = (uint64_t)RECON_BURST * 1000;
	b->last_ms = now_ms;
}

uint64_t
recon_bucket_take(struct recon_bucket *b, uint64_t now_ms)
{
	const uint64_t full = (uint64_t)RECON_BURST * 1000;

	/* RECON_RATE tokens a second = RECON_RATE thousandths a ms. */
	if (now_ms > b->last_ms) {
		/* Capped first: days of idle time must not overflow. */
		uint64_t idle = now_ms - b->last_ms;
		uint64_t add = (idle < full ? idle : full) * RECON_RATE;

		b->milli = add >= full - b->milli ? full : b->milli + add;
		b->last_ms = now_ms;
	}
	if (b->milli >= 1000) {
		b->milli -= 1000;
		return 0;
	}
	return (1000 - b->milli + RECON_RATE - 1) / RECON_RATE;
}

/* Index of `name` in items, or where it would go (*found = 0). */
static size_t
find(const struct recon *r, const char *name, int *found)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, r->items[mid]->name);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = 0;
	return lo;
}

static struct item *
item_get(struct recon *r, const char *name, int create)
{
	struct item *it;
	int found;
	size_t i = find(r, name, &found);

	if (found)
		return r->items[i];
	if (!create)
		return NULL;
	if (r->n == r->cap) {
		size_t cap = r->cap != 0 ? r->cap * 2 : 16;
		struct item **v = realloc(r->items, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		r->items = v;
		r->cap = cap;
	}
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return NULL;
	it->r = r;
	memcpy(it->name, name, strlen(name) + 1);
	memmove(&r->items[i + 1], &r->items[i], (r->n - i) * sizeof(*r->items));
	r->items[i] = it;
	r->n++;
	return it;
}

static void
item_remove(struct recon *r, struct item *it)
{
	int found;
	size_t i = find(r, it->name, &found);

	if (!found)
		return;
	memmove(
	    &r->items[i], &r->items[i + 1], (r->n - i - 1) * sizeof(*r->items));
	r->n--;
	free(it);
}

static int
leading(const struct recon *r)
{
	return r->d.leading == NULL || r->d.leading(r->d.leading_arg);
}

static int
synced(const struct recon *r)
{
	struct refl_status st;

	refl_get_status(r->d.refl, &st);
	return st.synced;
}

/*
 * Whether an HPA may be scaling `name`: one targets it, or the HPAs have
 * not been listed yet (a pin must not fight an autoscaler in the first
 * seconds after a start).  An HPA watch the API refuses (403/404) cannot
 * say; pins are then reconciled, as before HPA awareness.
 */
static int
autoscaled(const struct recon *r, const char *name)
{
	struct hpa_watch_status st;
	char hpa[PS_MAX_NAME + 1];

	if (r->d.hpa == NULL)
		return 0;
	switch (hpa_watch_lookup(r->d.hpa, name, hpa)) {
	case HPA_WATCH_FOUND:
		return 1;
	case HPA_WATCH_NONE:
		return 0;
	case HPA_WATCH_UNKNOWN:
		break;
	}
	hpa_watch_get_status(r->d.hpa, &st);
	return st.state == HPA_WATCH_STARTING;
}

/*
 * The count `name` should be scaled to: 1 with it in *want when it is
 * pinned, cached, not suspended and drifted; 0 otherwise.  A pin outside
 * the Deployment's bounds (annotations.h) is aimed at the nearest bound;
 * with invalid bounds nothing may be written, so it is left alone.
 */
static int
drifted(const struct recon *r, const char *name, uint32_t *want, int32_t *have)
{
	struct cache_deploy d;
	uint32_t pin;

	if (pins_get(r->d.pins, pins_namespace(r->d.pins, 0), name, &pin) != 0)
		return 0;
	if (cache_get(r->d.cache, name, &d) != 0)
		return 0;
	if (pins_suspended(r->d.pins, pins_namespace(r->d.pins, 0), name) ||
	    d.annot.pin_suspended || (d.annot.bounds & PS_B_INVALID))
		return 0;
	if (autoscaled(r, name))
		return 0;
	*want = annot_clamp(&d.annot, pin);
	*have = d.desired;
	return d.desired < 0 || (uint32_t)d.desired != *want;
}

/* Makes the timer fire at `due` at the latest. */
static void
arm(struct recon *r, uint64_t due, uint64_t now)
{
	uint64_t delay = due > now ? due - now : 0;
	struct timeval tv = {
	    (time_t)(delay / 1000), (suseconds_t)(delay % 1000) * 1000};

	if (due >= r->armed_at)
		return;
	if (event_add(r->timer, &tv) == 0)
		r->armed_at = due;
}

/* After a run of the queue: the timer for the earliest queued item.  The
 * one O(n) scan per timer run; recon_check() only ever brings it closer. */
static void
rearm(struct recon *r, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < r->n; i++)
		if (r->items[i]->queued && r->items[i]->due_ms < next)
			next = r->items[i]->due_ms;
	(void)event_del(r->timer);
	r->armed_at = UINT64_MAX;
	if (next != UINT64_MAX)
		arm(r, next, now);
}

void
recon_check(struct recon *r, const char *name)
{
	struct item *it = item_get(r, name, 0);
	uint64_t now = clock_now_ms();
	uint32_t want;
	int32_t have;

	if (!drifted(r, name, &want, &have)) {
		if (it != NULL)
			it->queued = 0;
		return;
	}
	if (!leading(r) || !synced(r))
		return; /* recon_check_all() runs when that changes */
	if (it == NULL && (it = item_get(r, name, 1)) == NULL) {
		log_warnx("reconcile %s: out of memory", name);
		return;
	}
	if (it->op != NULL || it->queued)
		return; /* the write's end checks again; or already due */
	it->queued = 1;
	it->due_ms = it->not_before_ms > now ? it->not_before_ms : now;
	arm(r, it->due_ms, now);
}

void
recon_pin_changed(struct recon *r, const char *name)
{
	struct item *it = item_get(r, name, 0);

	if (it != NULL) {
		it->failures = 0;
		it->repeats = 0;
		it->last_write_ms = 0;
		it->not_before_ms = 0;
		if (it->queued)
			it->due_ms = clock_now_ms();
	}
	recon_check(r, name);
}

/* A Warning Event on a pinned Deployment the reconciler could not hold
 * as asked (the recorder aggregates repeats into a series). */
static void
warn_event(const struct recon *r, const char *name, const char *reason,
    const char *note)
{
	struct cache_deploy d;
	struct evrec_object obj;

	if (r->d.events == NULL)
		return;
	memset(&obj, 0, sizeof(obj));
	obj.kind = "Deployment";
	obj.api_version = "apps/v1";
	obj.name = name;
	if (cache_get(r->d.cache, name, &d) == 0) {
		obj.uid = d.uid;
		obj.resource_version = d.rv;
	}
	(void)evrec_emit(
	    r->d.events, &obj, EVREC_WARNING, reason, "Reconcile", note);
}

static void
write_done(void *arg, const struct scale_result *res)
{
	struct item *it = arg;
	struct recon *r = it->r;
	uint64_t now = clock_now_ms();

	it->op = NULL;
	if (res->code == 0) {
		r->stats.writes_ok++;
		it->failures = 0;
		if (it->last_write_ms != 0 &&
		    now - it->last_write_ms < RECON_FIGHT_WINDOW_MS)
			it->repeats++;
		else
			it->repeats = 0;
		it->last_write_ms = now;
		it->not_before_ms =
		    it->repeats != 0 ? now + recon_delay_ms(it->repeats) : 0;
		if (it->repeats != 0) {
			char note[256];

			log_warnx(
			    "reconcile %s: scaled back again within %d s of "
			    "the last time (%u in a row): something else keeps "
			    "scaling it; the next write waits %llu ms",
			    it->name, RECON_FIGHT_WINDOW_MS / 1000,
			    it->repeats + 1,
			    (unsigned long long)recon_delay_ms(it->repeats));
			snprintf(note, sizeof(note),
			    "scaled back to its pin again within %d s: "
			    "something else keeps scaling it (replicad)",
			    RECON_FIGHT_WINDOW_MS / 1000);
			warn_event(r, it->name, "PinFight", note);
		}
	} else {
		r->stats.writes_failed++;
		it->failures++;
		it->not_before_ms = now + recon_delay_ms(it->failures);
		if (res->retry_after != 0 &&
		    it->not_before_ms < now + res->retry_after * 1000ull)
			it->not_before_ms = now + res->retry_after * 1000ull;
		log_warnx("reconcile %s: write failed (%s); retry in %llu ms",
		    it->name, res->message,
		    (unsigned long long)(it->not_before_ms - now));
	}
	/* Still drifted (another change meanwhile, a failure): queue again. */
	recon_check(r, it->name);
}

/* The timer: write what is due, as the token bucket allows. */
static void
run_queue(evutil_socket_t fd, short what, void *arg)
{
	struct recon *r = arg;
	uint64_t now = clock_now_ms();

	(void)fd;
	(void)what;
	r->armed_at = UINT64_MAX;
	if (!leading(r) || !synced(r)) {
		for (size_t i = 0; i < r->n; i++)
			r->items[i]->queued = 0;
		return;
	}
	for (size_t i = 0; i < r->n; i++) {
		struct item *it = r->items[i];
		uint32_t want, pin;
		int32_t have;
		uint64_t wait;

		if (!it->queued || it->due_ms > now)
			continue;
		if (!drifted(r, it->name, &want, &have)) {
			it->queued = 0;
			continue;
		}
		if ((wait = recon_bucket_take(&r->bucket, now)) != 0) {
			/* Everything still due waits for the next token. */
			for (size_t j = i; j < r->n; j++)
				if (r->items[j]->queued &&
				    r->items[j]->due_ms < now + wait)
					r->items[j]->due_ms = now + wait;
			break;
		}
		it->queued = 0;
		if (pins_get(r->d.pins, pins_namespace(r->d.pins, 0), it->name,
		        &pin) == 0 &&
		    pin != want) {
			char note[256];

			log_warnx(
			    "reconcile %s: its pin %u is outside the "
			    "Deployment's bounds: scaling to the bound %u",
			    it->name, pin, want);
			snprintf(note, sizeof(note),
			    "pin %u is outside the Deployment's bounds: held "
			    "at "
			    "%u (replicad)",
			    pin, want);
			warn_event(r, it->name, "PinOutOfBounds", note);
		}
		log_kv(LOG_LEVEL_INFO, 0,
		    (struct log_kv[]){LOG_S("deployment", it->name),
		        LOG_I("replicas", have), LOG_U("pin", want)},
		    3, "reconcile: %s drifted from its pin, scaling it back",
		    it->name);
		/* scale_start may call write_done at once (refused input),
		 * which may queue it again: hold the op only if it is live. */
		it->op = scale_start(r->d.scale, it->name, want, NULL,
		    RECON_IDENTITY, AUDIT_SELF, write_done, it);
	}
	rearm(r, now);
}

void
recon_check_all(struct recon *r)
{
	struct ps_pin pin;
	char after[PS_MAX_NAME + 1] = "";
	uint64_t now = clock_now_ms();

	/* Forget idle items: no work, nothing to remember lately. */
	for (size_t i = r->n; i-- > 0;) {
		struct item *it = r->items[i];

		if (it->op == NULL && !it->queued &&
		    now - it->last_write_ms > RECON_ITEM_IDLE_MS &&
		    it->not_before_ms <= now)
			item_remove(r, it);
	}
	/* One namespace served (the core's): the store's first. */
	while (pins_next(r->d.pins, pins_namespace(r->d.pins, 0),
	           pins_namespace(r->d.pins, 0), after, &pin) == 1) {
		recon_check(r, pin.name);
		memcpy(after, pin.name, sizeof(after));
	}
}

struct recon *
recon_new(const struct recon_deps *deps)
{
	struct recon *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->d = *deps;
	if ((r->timer = evtimer_new(deps->base, run_queue, r)) == NULL) {
		free(r);
		return NULL;
	}
	recon_bucket_init(&r->bucket, clock_now_ms());
	r->armed_at = UINT64_MAX;
	return r;
}

void
recon_free(struct recon *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		if (r->items[i]->op != NULL)
			scale_detach(r->items[i]->op);
		free(r->items[i]);
	}
	free(r->items);
	event_free(r->timer);
	free(r);
}

void
recon_get_stats(const struct recon *r, struct recon_stats *st)
{
	*st = r->stats;
	st->pending = 0;
	for (size_t i = 0; i < r->n; i++)
		st->pending += r->items[i]->queued || r->items[i]->op != NULL;
}
