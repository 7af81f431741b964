/*
 * event_rec.h — Kubernetes Events (events.k8s.io/v1) about the objects
 * replicad-core acts on, recorded the way client-go's events recorder
 * does it (k8s.io/client-go/tools/events/event_broadcaster.go), with
 * tools/record's per-object spam filter in front:
 *
 *   - the first occurrence is POSTed as a new Event named
 *     "<regarding name>.<16 hex digits>" with eventTime (MicroTime, UTC);
 *   - an isomorphic repeat (same regarding object, type, reason, action,
 *     note, reporting controller and instance) while the Event is
 *     remembered makes it a series: the 2nd occurrence is a merge PATCH
 *     {"series":{"count":2,"lastObservedTime":…}} at once, later ones
 *     only bump the count, sent by the periodic refresh;
 *   - a series idle for EVREC_FINISH_MS is finished (its last count
 *     written) and forgotten: the next occurrence is a new Event;
 *   - a PATCH answered 404 (the Event expired, 1 h by default) creates
 *     the Event again, series included, as client-go does.
 *
 * The write path calls evrec_emit(): it never blocks, never calls the
 * kclient and never waits: it validates, copies, queues (bounded; a full
 * queue drops and counts) and wakes the recorder on the next loop turn.
 * All API traffic happens from the recorder's own callbacks, at most
 * EVREC_MAX_INFLIGHT requests at a time; failures are retried a bounded
 * number of times, then dropped and counted.  Events are advisory: none
 * is worth holding the write path, memory without bound, or retrying
 * forever.
 *
 * Each Event is written in the namespace of the object it is about.
 * Deliberately not here: related objects, the legacy core/v1 Events API.
 * RBAC: create and patch on events.events.k8s.io in every namespace
 * served.
 */
#ifndef EVENT_REC_H
#define EVENT_REC_H

#include <stdint.h>
#include <time.h>

/*
 * Limits (kept here rather than in core_limits.h while that header is
 * being changed in parallel; move them there when wiring).
 *
 * client-go tools/events/event_broadcaster.go: refreshTime 30 min (series
 * counts are written this often), finishTime 6 min (a series idle this
 * long is finished; a single Event is forgotten), defaultSleepDuration
 * 10 s between attempts.  client-go tries maxTriesPerEvent = 12 times;
 * we try EVREC_MAX_TRIES = 5 with the pause doubling from 10 s (10, 20,
 * 40, 80 s, jittered up to +25% as client-go's wait.Jitter(…, 0.25)):
 * 2.5 minutes outlast an API server restart, and an Event that cannot be
 * written after that is stale news whose retries would only hold a slot
 * and compete with the writes that matter.  Only transport errors, 429
 * and 5xx are retried (client-go retries none of the API's refusals:
 * the same body gets the same answer).
 *
 * tools/record/events_cache.go's spam filter: a token bucket per object,
 * burst 25 (defaultSpamBurst), one token per 5 min (defaultSpamQPS
 * 1/300), objects kept in an LRU (4096 there, EVREC_MAX_OBJECTS here).
 * Here it charges only what costs an API write at once (a new Event, a
 * series' first PATCH); later repeats of a series cost nothing but a
 * count, so they are never dropped and the count stays true.
 *
 * Memory: EVREC_MAX_QUEUE emitted occurrences waiting for the next loop
 * turn (client-go queues maxQueuedEvents = 1000 and drops beyond) and
 * EVREC_MAX_EVENTS Events remembered for series, each one allocation of
 * at most ~2.5 KiB (the strings' bounds below): under 2 MiB in all; plus
 * EVREC_MAX_OBJECTS budget slots of 24 bytes inside struct evrec.  A full
 * Event table forgets its least recently seen idle Event.
 */
#define EVREC_REFRESH_MS       (30 * 60 * 1000)
#define EVREC_FINISH_MS        (6 * 60 * 1000)
#define EVREC_RETRY_BASE_MS    10000
#define EVREC_MAX_TRIES        5
#define EVREC_BUDGET_BURST     25
#define EVREC_BUDGET_REFILL_MS (5 * 60 * 1000)
#define EVREC_MAX_OBJECTS      1024
#define EVREC_MAX_QUEUE        256
#define EVREC_MAX_EVENTS       512
#define EVREC_MAX_INFLIGHT     4
/* The API's own validation (pkg/apis/core/validation/events.go): note
 * 1024 bytes (a longer one is cut at a UTF-8 boundary), reason, action
 * and reportingInstance 128; eventTime must be set; type Normal|Warning;
 * reportingController a qualified name. */
#define EVREC_MAX_NOTE         1024
#define EVREC_MAX_REASON       128
#define EVREC_MAX_ACTION       128
#define EVREC_MAX_INSTANCE     128
#define EVREC_MAX_KIND         63
#define EVREC_MAX_API_VERSION  128
#define EVREC_MAX_UID          128
/* reportingController unless the configuration names another. */
#define EVREC_CONTROLLER       "replicad.io/core"

struct event_base;
struct evbuffer;
struct kc;
struct evrec;

enum evrec_type { EVREC_NORMAL, EVREC_WARNING };

/* Seams for tests; NULL members (or a NULL ops) mean the real ones. */
struct evrec_ops {
	uint64_t (*now_ms)(void *arg);                /* monotonic: ages */
	void (*wall)(void *arg, struct timespec *ts); /* eventTime text */
	uint32_t (*random)(void *arg);                /* retry jitter */
	void *arg;
};

struct evrec_config {
	/* Events about an object without a namespace go here: a label. */
	const char *namespace;
	const char *reporting_controller; /* NULL: EVREC_CONTROLLER */
	const char *reporting_instance; /* the pod name, 1..128 visible ASCII */
	unsigned retry_base_ms;         /* 0: EVREC_RETRY_BASE_MS */
	const struct evrec_ops *ops;    /* NULL: the real clocks */
};

/*
 * What an Event is about.  kind and api_version are required ("Deployment",
 * "apps/v1"), name a DNS-1123 subdomain; namespace a DNS-1123 label (the
 * Event is written there), NULL or "" the recorder's; uid and resource_version
 * may be NULL or "" when unknown.  All borrowed for the call only.
 */
struct evrec_object {
	const char *kind;
	const char *api_version;
	const char *name;
	const char *namespace;
	const char *uid;
	const char *resource_version;
};

/* Counters since evrec_new, for /metrics. */
struct evrec_stats {
	unsigned long long emitted;         /* accepted by evrec_emit */
	unsigned long long created;         /* Events created (POST 2xx) */
	unsigned long long series_updates;  /* series PATCHes (2xx) */
	unsigned long long dropped_budget;  /* over the object's budget */
	unsigned long long dropped_queue;   /* queue or table full, no memory */
	unsigned long long dropped_invalid; /* refused by evrec_emit */
	unsigned long long retries;         /* attempts after a failure */
	unsigned long long failed; /* given up: refused or retried out */
};

/*
 * `cfg` is copied.  Starts the refresh (EVREC_REFRESH_MS) and finish
 * (EVREC_FINISH_MS) timers on `base`.  NULL on invalid configuration
 * (logged) or allocation failure.
 */
struct evrec *evrec_new(
    struct event_base *base, struct kc *kc, const struct evrec_config *cfg);
/*
 * Cancels every request in flight (their callbacks never run) and frees
 * everything; nothing is written after.  NULL ok.  Not from a kclient
 * callback of this recorder (none reaches the caller anyway).
 */
void evrec_free(struct evrec *r);

/*
 * Records an occurrence.  Never blocks and never calls the kclient: it
 * validates, copies what it needs (`note` cut to EVREC_MAX_NOTE bytes,
 * bytes that are not UTF-8 replaced by '?'), takes the wall and monotonic
 * times, queues one allocation and makes the recorder run on the next loop
 * turn; safe to call from any callback on the core's loop, including a
 * kclient callback.  0 queued; -1 dropped and counted (invalid, queue
 * full, out of memory).  The caller need not look at the result.
 */
int evrec_emit(struct evrec *r, const struct evrec_object *regarding,
    enum evrec_type type, const char *reason, const char *action,
    const char *note);

void evrec_stats(const struct evrec *r, struct evrec_stats *out);
/* replicad_core_events_*_total with HELP/TYPE; 0, or -1 when the buffer
 * could not grow. */
int evrec_stats_prometheus(const struct evrec *r, struct evbuffer *b);

/*
 * What the two timers run; public for tests (with ops' clock) and for a
 * shutdown that wants the last counts written.  refresh: every series
 * whose count moved since it was last written is PATCHed.  finish: every
 * Event idle for EVREC_FINISH_MS is forgotten, a series after its last
 * count is written.
 */
void evrec_refresh_series(struct evrec *r);
void evrec_finish_series(struct evrec *r);

#endif /* EVENT_REC_H */
