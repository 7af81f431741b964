/*
 * event_rec.c — the Events recorder (see event_rec.h), after client-go's
 * tools/events/event_broadcaster.go (recordToSink, attemptRecording,
 * refreshExistingEventSeries, finishSeries) on the core's event loop.
 *
 * Three lists.  `pending`: occurrences evrec_emit() queued, drained by
 * the kick event on the next loop turn (so emit does no more than copy).
 * `events`: the Events remembered for series (client-go's eventCache),
 * each an `ent` that owns at most one request or one retry timer at a
 * time.  `sendq`: entries with a write due, started in order while fewer
 * than EVREC_MAX_INFLIGHT requests are out.  A pending occurrence that
 * matches no remembered Event becomes one (the same allocation); one that
 * matches is folded into it and freed.
 *
 * An entry's write is a POST while the API has not got it (`sent` 0),
 * else a merge PATCH of its series.  Whatever the write carries is the
 * entry's count when it starts; occurrences meanwhile set `want`, and the
 * write that finishes sends again when needed.
 *
 * Deliberately not here: parsing the API's answers (the status is all we
 * use) and the bodies and their checks (event_json.c).  An Event goes
 * to the namespace of the object it is about (the recorder's by
 * default): a core serving several namespaces has one recorder.
 *
 * Why one file of about 850 lines: the three lists, the budget and the
 * requests share one object and its entries' lifetimes (an entry is in
 * at most one list and owns at most one request or timer); split, those
 * rules would be spread over files that each see only part of them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "core/clock.h"
#include "core/core_limits.h"
#include "core/kube/event_json.h"
#include "core/kube/event_rec.h"
#include "core/kube/kclient.h"
#include "core/kube/lease_json.h"
#include "core/log.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"

/* "<name>.<16 hex digits>" must stay a DNS-1123 subdomain. */
#define NAME_SUFFIX_LEN 17
#define NAME_PREFIX_MAX (PS_MAX_NAME - NAME_SUFFIX_LEN)

_Static_assert(EVREC_MAX_TRIES >= 1 && EVREC_MAX_TRIES <= 16,
    "the retry pause is a shift of the base");
_Static_assert(EVREC_BUDGET_BURST >= 1, "a budget allows something");

/*
 * The strings of an occurrence, in this order in ent->buf: the regarding
 * object (its budget key) first, then the rest of the isomorphic key, then
 * the resourceVersion.  client-go's key holds the whole ObjectReference,
 * resourceVersion included; ours leaves it out, because every write
 * replicad makes moves the Deployment's resourceVersion, and a repeat
 * (the reconciler scaling back the same drift again) should count in one
 * series rather than make an Event each time.  The series keeps the first
 * occurrence's resourceVersion.
 */
enum field {
	F_KIND,
	F_APIV,
	F_NAME,
	F_NS,
	F_UID, /* the object ends here */
	F_REASON,
	F_ACTION,
	F_NOTE, /* the isomorphic key ends here */
	F_RV,
	F_N
};
#define F_OBJ_END (F_UID + 1)
#define F_KEY_END (F_NOTE + 1)

struct ent {
	struct evrec *r;
	struct ent *prev, *next; /* r->events (next alone: r->pending) */
	struct ent *snext;       /* r->sendq */
	const char *f[F_N];      /* into buf */
	enum evrec_type type;
	uint64_t key;                /* hash of the isomorphic key */
	uint64_t obj;                /* hash of the regarding object */
	struct timespec first, last; /* wall: eventTime, lastObservedTime */
	uint64_t last_ms;            /* monotonic, the last occurrence */
	char name[PS_MAX_NAME + 1];
	uint32_t count;     /* occurrences seen */
	uint32_t sent;      /* count the API has; 0: not created */
	uint32_t req_count; /* count the write in flight carries */
	int want;           /* a write is due */
	int queued;         /* on r->sendq */
	int retrying;       /* the retry timer is armed */
	int finishing;      /* forget it once its last count is written */
	int after_404;      /* this POST replaces an expired Event */
	int req_post;       /* the request in flight is the POST */
	unsigned tries;     /* failed attempts of the current write */
	struct kc_req *req;
	struct event *retry;
	char buf[];
};

struct budget {
	uint64_t obj;
	uint64_t credit_ms; /* tokens * EVREC_BUDGET_REFILL_MS */
	uint64_t last_ms;   /* last refill, also the LRU order */
};

struct evrec {
	struct event_base *base;
	struct kc *kc;
	struct evrec_ops ops;
	unsigned retry_base_ms;
	char namespace[PS_MAX_NAMESPACE + 1];
	char controller[PS_MAX_NAME + 1];
	char instance[EVREC_MAX_INSTANCE + 1];
	struct event *kick, *refresh, *finish;
	struct ent *pending, *pending_tail;
	size_t n_pending;
	struct ent *events;
	size_t n_events;
	struct ent *sendq, *sendq_tail;
	size_t inflight;
	uint64_t seed;         /* of the hashes */
	uint64_t last_name_ns; /* Event names strictly increase */
	struct budget budget[EVREC_MAX_OBJECTS];
	size_t n_budget;
	struct evrec_stats stats;
};

static void pump(struct evrec *r);

/* ------------------------------------------------------------ seams */

static uint64_t
real_now_ms(void *arg)
{
	(void)arg;
	return clock_now_ms();
}

static void
real_wall(void *arg, struct timespec *ts)
{
	(void)arg;
	if (clock_gettime(CLOCK_REALTIME, ts) != 0)
		ts->tv_sec = ts->tv_nsec = 0;
}

static uint32_t
real_random(void *arg)
{
	(void)arg;
	return arc4random();
}

/* ----------------------------------------------------------- hashes */

/* FNV-1a over the strings, each ended by its NUL; seeded per recorder
 * so that a collision (harmless: a shared budget, a compare) cannot be
 * planned ahead. */
static uint64_t
hash_fields(uint64_t seed, const char *const *f, size_t n, unsigned type)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)f[i];

		do {
			h ^= *p;
			h *= 0x100000001b3ULL;
		} while (*p++ != '\0');
	}
	h ^= type;
	return h * 0x100000001b3ULL;
}

/* ------------------------------------------------------ the budget */

/* tools/record's spam filter for the object: 1 taken, 0 over budget. */
static int
budget_take(struct evrec *r, uint64_t obj, uint64_t now)
{
	const uint64_t cap =
	    (uint64_t)EVREC_BUDGET_BURST * EVREC_BUDGET_REFILL_MS;
	struct budget *b = NULL, *lru = NULL;

	for (size_t i = 0; i < r->n_budget; i++) {
		if (r->budget[i].obj == obj) {
			b = &r->budget[i];
			break;
		}
		if (lru == NULL || r->budget[i].last_ms < lru->last_ms)
			lru = &r->budget[i];
	}
	if (b == NULL) {
		/* A new object, or the least recently used one replaced: it
		 * starts with a full bucket, as in client-go's LRU. */
		b = r->n_budget < EVREC_MAX_OBJECTS ? &r->budget[r->n_budget++]
		                                    : lru;
		b->obj = obj;
		b->credit_ms = cap;
		b->last_ms = now;
	}
	if (now > b->last_ms) {
		uint64_t d = now - b->last_ms;

		b->credit_ms = d >= cap - b->credit_ms ? cap : b->credit_ms + d;
		b->last_ms = now;
	}
	if (b->credit_ms < EVREC_BUDGET_REFILL_MS)
		return 0;
	b->credit_ms -= EVREC_BUDGET_REFILL_MS;
	return 1;
}

/* --------------------------------------------------------- entries */

static int
busy(const struct ent *e)
{
	return e->req != NULL || e->queued || e->retrying;
}

static void
ent_free(struct ent *e)
{
	if (e == NULL)
		return;
	kc_cancel(e->req);
	if (e->retry != NULL)
		event_free(e->retry);
	free(e);
}

/* Forgets a remembered Event (not busy, or at evrec_free). */
static void
forget(struct ent *e)
{
	struct evrec *r = e->r;

	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		r->events = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	r->n_events--;
	ent_free(e);
}

static void
enqueue(struct ent *e)
{
	struct evrec *r = e->r;

	if (busy(e))
		return; /* `want` brings it back when the write ends */
	e->queued = 1;
	e->snext = NULL;
	if (r->sendq_tail != NULL)
		r->sendq_tail->snext = e;
	else
		r->sendq = e;
	r->sendq_tail = e;
}

static int
same_key(const struct ent *a, const struct ent *b)
{
	if (a->key != b->key || a->type != b->type)
		return 0;
	for (size_t i = 0; i < F_KEY_END; i++)
		if (strcmp(a->f[i], b->f[i]) != 0)
			return 0;
	return 1;
}

/* The least recently seen Event with nothing to do, to make room; of
 * equals, the one made first (the list is newest first). */
static struct ent *
evictable(struct evrec *r)
{
	struct ent *best = NULL;

	for (struct ent *e = r->events; e != NULL; e = e->next)
		if (!busy(e) && !e->want &&
		    (best == NULL || e->last_ms <= best->last_ms))
			best = e;
	return best;
}

/* client-go names an Event "<name>.%x" of UnixNano; ours also strictly
 * increases within a recorder, so two occurrences in one nanosecond (or
 * a wall clock set back) cannot collide. */
static void
make_name(struct evrec *r, struct ent *e)
{
	uint64_t ns = (uint64_t)e->first.tv_sec * 1000000000ULL +
	    (uint64_t)e->first.tv_nsec;
	size_t n = strlen(e->f[F_NAME]);

	if (ns <= r->last_name_ns)
		ns = r->last_name_ns + 1;
	r->last_name_ns = ns;
	if (n > NAME_PREFIX_MAX)
		n = NAME_PREFIX_MAX;
	/* A cut name must still end a label with an alphanumeric. */
	while (n > 1 && !evjson_alnum(e->f[F_NAME][n - 1]))
		n--;
	snprintf(e->name, sizeof(e->name), "%.*s.%016llx", (int)n, e->f[F_NAME],
	    (unsigned long long)ns);
}

/* One occurrence off the pending queue: fold it or make it an Event. */
static void
process(struct evrec *r, struct ent *p)
{
	uint64_t now = p->last_ms;
	struct ent *e, *victim;

	for (e = r->events; e != NULL; e = e->next)
		if (same_key(e, p))
			break;
	if (e != NULL) {
		/* An isomorphic repeat.  Only the one that starts the series
		 * costs a write at once, and so a token. */
		if (e->count == 1 && !budget_take(r, e->obj, now)) {
			r->stats.dropped_budget++;
			free(p);
			return;
		}
		if (e->count < INT32_MAX) /* series.count is an int32 */
			e->count++;
		e->last = p->last;
		e->last_ms = now;
		e->finishing = 0;
		if (e->count == 2 || e->sent == 0) {
			e->want = 1;
			enqueue(e);
		}
		free(p);
		return;
	}
	if (!budget_take(r, p->obj, now)) {
		r->stats.dropped_budget++;
		free(p);
		return;
	}
	if (r->n_events >= EVREC_MAX_EVENTS) {
		if ((victim = evictable(r)) == NULL) {
			r->stats.dropped_queue++;
			free(p);
			return;
		}
		forget(victim);
	}
	make_name(r, p);
	p->count = 1;
	p->prev = NULL;
	p->next = r->events;
	if (r->events != NULL)
		r->events->prev = p;
	r->events = p;
	r->n_events++;
	p->want = 1;
	enqueue(p);
}

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct evrec *r = arg;
	struct ent *p;

	(void)fd;
	(void)what;
	while ((p = r->pending) != NULL) {
		r->pending = p->next;
		if (r->pending == NULL)
			r->pending_tail = NULL;
		r->n_pending--;
		p->next = NULL;
		process(r, p);
	}
	pump(r);
}

/* ---------------------------------------------------------- writes */

#define EV_LOG(e, level, ...)                            \
	log_kv((level), 0,                               \
	    (struct log_kv[]){LOG_S("event", (e)->name), \
	        LOG_S("regarding", (e)->f[F_NAME]),      \
	        LOG_S("reason", (e)->f[F_REASON])},      \
	    3, __VA_ARGS__)

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ent *e = arg;

	(void)fd;
	(void)what;
	e->retrying = 0;
	enqueue(e);
	pump(e->r);
}

static void
give_up(struct ent *e, const char *why)
{
	e->r->stats.failed++;
	EV_LOG(e, LOG_LEVEL_WARN, "event not recorded: %s", why);
	forget(e);
}

/*
 * A write that may succeed later failed: pause and try again, at most
 * EVREC_MAX_TRIES attempts in all, then give up.  The pause doubles from
 * the base, +0..25% jitter, and is at least the API's Retry-After.
 */
static void
failed_attempt(struct ent *e, const char *why, unsigned retry_after)
{
	struct evrec *r = e->r;
	uint64_t ms;
	struct timeval tv;

	if (++e->tries >= EVREC_MAX_TRIES) {
		give_up(e, why);
		return;
	}
	ms = (uint64_t)r->retry_base_ms << (e->tries - 1);
	ms += ms * (r->ops.random(r->ops.arg) % 1024) / 4096;
	if (ms < (uint64_t)retry_after * 1000)
		ms = (uint64_t)retry_after * 1000;
	if (e->retry == NULL &&
	    (e->retry = evtimer_new(r->base, retry_cb, e)) == NULL) {
		give_up(e, "out of memory");
		return;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	if (evtimer_add(e->retry, &tv) == -1) {
		give_up(e, "cannot arm the retry timer");
		return;
	}
	e->retrying = 1;
	r->stats.retries++;
	EV_LOG(e, LOG_LEVEL_DEBUG,
	    "event write failed (%s), retry %u in %llu ms", why, e->tries,
	    (unsigned long long)ms);
}

static void
done_cb(void *arg, const struct kc_result *res)
{
	struct ent *e = arg;
	struct evrec *r = e->r;
	char why[320];
	long st = res->status;

	e->req = NULL;
	r->inflight--;
	if (!res->transport_error && st >= 200 && st < 300) {
		if (e->req_post)
			r->stats.created++;
		else
			r->stats.series_updates++;
		e->sent = e->req_count;
		e->tries = 0;
		e->after_404 = 0;
		if (e->finishing && e->count <= e->sent)
			forget(e);
		else if (e->want)
			enqueue(e);
	} else if (!e->req_post && st == 404) {
		/* The Event expired: create it again, series and all (as
		 * client-go's recordEvent does); not a failed attempt. */
		e->sent = 0;
		e->after_404 = 1;
		e->want = 1;
		enqueue(e);
	} else {
		if (res->transport_error)
			snprintf(why, sizeof(why), "%s", res->error);
		else
			snprintf(why, sizeof(why), "HTTP %ld%s%s", st,
			    res->status_obj != NULL ? ": " : "",
			    res->status_obj != NULL ? res->status_obj->message
			                            : "");
		/* Retry what the API may take later; a refused body would be
		 * refused again.  A 409 on the POST after a 404 means another
		 * writer re-created it meanwhile: client-go retries that, and
		 * the retry is a PATCH again since the Event exists. */
		if (e->req_post && e->after_404 && st == 409) {
			e->sent = 1;
			failed_attempt(e, why, res->retry_after);
		} else if (res->transport_error || st == 429 || st >= 500)
			failed_attempt(e, why, res->retry_after);
		else
			give_up(e, why);
	}
	pump(r);
}

static void
wall_text(const struct timespec *ts, char buf[LEASE_MAX_MICROTIME + 1])
{
	if (lease_json_format_time((int64_t)ts->tv_sec, ts->tv_nsec, buf,
	        LEASE_MAX_MICROTIME + 1) != 0)
		snprintf(buf, LEASE_MAX_MICROTIME + 1,
		    "1970-01-01T00:00:00.000000Z");
}

static void
send_one(struct evrec *r, struct ent *e)
{
	static const char *const types[] = {
	    [EVREC_NORMAL] = "Normal", [EVREC_WARNING] = "Warning"};
	char path[KC_MAX_PATH + 1], first[LEASE_MAX_MICROTIME + 1],
	    last[LEASE_MAX_MICROTIME + 1];
	struct evjson_event ev;
	char *body;
	size_t len = 0;
	int n;

	e->want = 0;
	e->req_count = e->count;
	e->req_post = e->sent == 0;
	wall_text(&e->first, first);
	wall_text(&e->last, last);
	if (e->req_post) {
		ev = (struct evjson_event){.name = e->name,
		    .namespace = e->f[F_NS],
		    .event_time = first,
		    .type = types[e->type],
		    .reason = e->f[F_REASON],
		    .action = e->f[F_ACTION],
		    .note = e->f[F_NOTE],
		    .reporting_controller = r->controller,
		    .reporting_instance = r->instance,
		    .regarding = {e->f[F_KIND], e->f[F_APIV], e->f[F_NS],
		        e->f[F_NAME], e->f[F_UID], e->f[F_RV]},
		    .series_count = e->count >= 2 ? e->count : 0,
		    .last_observed = last};
		body = evjson_event(&ev, &len);
		n = snprintf(path, sizeof(path),
		    "/apis/events.k8s.io/v1/namespaces/%s/events"
		    "?fieldManager=replicad",
		    e->f[F_NS]);
	} else {
		body = evjson_series_patch(e->count, last, &len);
		n = snprintf(path, sizeof(path),
		    "/apis/events.k8s.io/v1/namespaces/%s/events/%s"
		    "?fieldManager=replicad",
		    e->f[F_NS], e->name);
	}
	if (body == NULL || n < 0 || (size_t)n >= sizeof(path)) {
		free(body);
		failed_attempt(e, "cannot build the request", 0);
		return;
	}
	e->req = kc_start(r->kc, e->req_post ? KC_POST : KC_PATCH, path,
	    e->req_post ? "application/json" : "application/merge-patch+json",
	    body, len, NULL, done_cb, e);
	free(body);
	if (e->req == NULL) {
		failed_attempt(e, "cannot start the request", 0);
		return;
	}
	r->inflight++;
}

/* Starts queued writes while there is room. */
static void
pump(struct evrec *r)
{
	struct ent *e;

	while (r->inflight < EVREC_MAX_INFLIGHT && (e = r->sendq) != NULL) {
		r->sendq = e->snext;
		if (r->sendq == NULL)
			r->sendq_tail = NULL;
		e->snext = NULL;
		e->queued = 0;
		send_one(r, e);
	}
}

/* ----------------------------------------------- timers: the series */

void
evrec_refresh_series(struct evrec *r)
{
	for (struct ent *e = r->events; e != NULL; e = e->next)
		if (e->sent != 0 && e->count > e->sent) {
			e->want = 1;
			enqueue(e);
		}
	pump(r);
}

void
evrec_finish_series(struct evrec *r)
{
	uint64_t now = r->ops.now_ms(r->ops.arg);
	struct ent *e, *next;

	for (e = r->events; e != NULL; e = next) {
		next = e->next;
		if (busy(e) || now < e->last_ms ||
		    now - e->last_ms < EVREC_FINISH_MS)
			continue;
		if (e->sent != 0 && e->count > e->sent) {
			e->finishing = 1;
			e->want = 1;
			enqueue(e);
		} else
			forget(e);
	}
	pump(r);
}

static void
refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evrec_refresh_series(arg);
}

static void
finish_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evrec_finish_series(arg);
}

/* ------------------------------------------------------------ API */

struct evrec *
evrec_new(
    struct event_base *base, struct kc *kc, const struct evrec_config *cfg)
{
	struct evrec *r;
	const char *ctl = cfg->reporting_controller != NULL
	    ? cfg->reporting_controller
	    : EVREC_CONTROLLER;
	struct timeval tv;

	if (cfg->namespace == NULL ||
	    ps_valid_namespace(cfg->namespace,
	        strnlen(cfg->namespace, PS_MAX_NAMESPACE + 1)) != PS_OK ||
	    strnlen(ctl, PS_MAX_NAME + 1) > PS_MAX_NAME ||
	    !evjson_qualified(ctl) ||
	    !evjson_visible(cfg->reporting_instance, EVREC_MAX_INSTANCE)) {
		log_warnx("events: invalid namespace, reporting controller or "
		          "instance");
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->base = base;
	r->kc = kc;
	r->ops.now_ms = real_now_ms;
	r->ops.wall = real_wall;
	r->ops.random = real_random;
	if (cfg->ops != NULL) {
		r->ops.arg = cfg->ops->arg;
		if (cfg->ops->now_ms != NULL)
			r->ops.now_ms = cfg->ops->now_ms;
		if (cfg->ops->wall != NULL)
			r->ops.wall = cfg->ops->wall;
		if (cfg->ops->random != NULL)
			r->ops.random = cfg->ops->random;
	}
	r->retry_base_ms =
	    cfg->retry_base_ms != 0 ? cfg->retry_base_ms : EVREC_RETRY_BASE_MS;
	snprintf(r->namespace, sizeof(r->namespace), "%s", cfg->namespace);
	snprintf(r->controller, sizeof(r->controller), "%s", ctl);
	snprintf(
	    r->instance, sizeof(r->instance), "%s", cfg->reporting_instance);
	r->seed = (uint64_t)r->ops.random(r->ops.arg) << 32 |
	    r->ops.random(r->ops.arg);
	if ((r->kick = event_new(base, -1, 0, kick_cb, r)) == NULL ||
	    (r->refresh = event_new(base, -1, EV_PERSIST, refresh_cb, r)) ==
	        NULL ||
	    (r->finish = event_new(base, -1, EV_PERSIST, finish_cb, r)) == NULL)
		goto fail;
	tv.tv_sec = EVREC_REFRESH_MS / 1000;
	tv.tv_usec = 0;
	if (evtimer_add(r->refresh, &tv) == -1)
		goto fail;
	tv.tv_sec = EVREC_FINISH_MS / 1000;
	if (evtimer_add(r->finish, &tv) == -1)
		goto fail;
	return r;
fail:
	evrec_free(r);
	return NULL;
}

void
evrec_free(struct evrec *r)
{
	struct ent *e;

	if (r == NULL)
		return;
	while ((e = r->pending) != NULL) {
		r->pending = e->next;
		free(e);
	}
	/* kc_cancel() in ent_free(): no done_cb runs after this. */
	while (r->events != NULL)
		forget(r->events);
	if (r->kick != NULL)
		event_free(r->kick);
	if (r->refresh != NULL)
		event_free(r->refresh);
	if (r->finish != NULL)
		event_free(r->finish);
	free(r);
}

int
evrec_emit(struct evrec *r, const struct evrec_object *regarding,
    enum evrec_type type, const char *reason, const char *action,
    const char *note)
{
	char cut[EVREC_MAX_NOTE + 1];
	const char *src[F_N];
	size_t len[F_N], total = 0;
	struct ent *p;
	char *o;

	if (r == NULL)
		return -1;
	if (regarding == NULL) {
		r->stats.dropped_invalid++;
		return -1;
	}
	/* Trusted callers, but a bad Event is refused by the API anyway:
	 * refuse it here, counted, rather than spend a write on it. */
	src[F_KIND] = regarding->kind;
	src[F_APIV] = regarding->api_version;
	src[F_NAME] = regarding->name;
	src[F_NS] =
	    regarding->namespace != NULL && regarding->namespace[0] != '\0'
	    ? regarding->namespace
	    : r->namespace;
	src[F_UID] = regarding->uid != NULL ? regarding->uid : "";
	src[F_RV] = regarding->resource_version != NULL
	    ? regarding->resource_version
	    : "";
	src[F_REASON] = reason;
	src[F_ACTION] = action;
	if ((type != EVREC_NORMAL && type != EVREC_WARNING) ||
	    !evjson_visible(src[F_KIND], EVREC_MAX_KIND) ||
	    !evjson_visible(src[F_APIV], EVREC_MAX_API_VERSION) ||
	    src[F_NAME] == NULL ||
	    ps_valid_name(src[F_NAME], strnlen(src[F_NAME], PS_MAX_NAME + 1)) !=
	        PS_OK ||
	    ps_valid_namespace(
	        src[F_NS], strnlen(src[F_NS], PS_MAX_NAMESPACE + 1)) != PS_OK ||
	    (src[F_UID][0] != '\0' &&
	        !evjson_visible(src[F_UID], EVREC_MAX_UID)) ||
	    (src[F_RV][0] != '\0' && !evjson_visible(src[F_RV], PS_MAX_RV)) ||
	    !evjson_visible(reason, EVREC_MAX_REASON) ||
	    !evjson_visible(action, EVREC_MAX_ACTION)) {
		r->stats.dropped_invalid++;
		return -1;
	}
	if (r->n_pending >= EVREC_MAX_QUEUE) {
		r->stats.dropped_queue++;
		return -1;
	}
	evjson_copy_utf8(cut, note != NULL ? note : "", EVREC_MAX_NOTE);
	src[F_NOTE] = cut;
	for (size_t i = 0; i < F_N; i++)
		total += (len[i] = strlen(src[i])) + 1;
	if ((p = calloc(1, sizeof(*p) + total)) == NULL) {
		r->stats.dropped_queue++;
		return -1;
	}
	o = p->buf;
	for (size_t i = 0; i < F_N; i++) {
		memcpy(o, src[i], len[i] + 1);
		p->f[i] = o;
		o += len[i] + 1;
	}
	p->r = r;
	p->type = type;
	p->key = hash_fields(r->seed, p->f, F_KEY_END, type);
	p->obj = hash_fields(r->seed, p->f, F_OBJ_END, 0);
	r->ops.wall(r->ops.arg, &p->first);
	p->last = p->first;
	p->last_ms = r->ops.now_ms(r->ops.arg);
	if (r->pending_tail != NULL)
		r->pending_tail->next = p;
	else
		r->pending = p;
	r->pending_tail = p;
	r->n_pending++;
	r->stats.emitted++;
	/* Runs kick_cb on the next loop turn: no API call from here. */
	event_active(r->kick, EV_TIMEOUT, 1);
	return 0;
}

void
evrec_stats(const struct evrec *r, struct evrec_stats *out)
{
	if (r != NULL)
		*out = r->stats;
	else
		memset(out, 0, sizeof(*out));
}

int
evrec_stats_prometheus(const struct evrec *r, struct evbuffer *b)
{
	struct evrec_stats s;

	evrec_stats(r, &s);
	return evbuffer_add_printf(b,
	           "# HELP replicad_core_events_emitted_total Kubernetes "
	           "Events the core asked to record.\n"
	           "# TYPE replicad_core_events_emitted_total counter\n"
	           "replicad_core_events_emitted_total %llu\n"
	           "# HELP replicad_core_events_written_total Event writes "
	           "the API accepted, by kind.\n"
	           "# TYPE replicad_core_events_written_total counter\n"
	           "replicad_core_events_written_total{write=\"create\"} %llu\n"
	           "replicad_core_events_written_total{write=\"series\"} %llu\n"
	           "# HELP replicad_core_events_dropped_total Events not "
	           "recorded, by reason.\n"
	           "# TYPE replicad_core_events_dropped_total counter\n"
	           "replicad_core_events_dropped_total{reason=\"budget\"} "
	           "%llu\n"
	           "replicad_core_events_dropped_total{reason=\"queue_full\"} "
	           "%llu\n"
	           "replicad_core_events_dropped_total{reason=\"invalid\"} "
	           "%llu\n"
	           "replicad_core_events_dropped_total{reason=\"failed\"} "
	           "%llu\n"
	           "# HELP replicad_core_events_retries_total Event writes "
	           "tried again after a failure.\n"
	           "# TYPE replicad_core_events_retries_total counter\n"
	           "replicad_core_events_retries_total %llu\n",
	           s.emitted, s.created, s.series_updates, s.dropped_budget,
	           s.dropped_queue, s.dropped_invalid, s.failed, s.retries) < 0
	    ? -1
	    : 0;
}
