/*
 * lease.h — leader election among replicad-core replicas with a
 * coordination.k8s.io/v1 Lease, the way client-go's leaderelection
 * package does it: GET the Lease; create it (POST) when absent; take it
 * (PUT with the resourceVersion read, so a concurrent writer gets 409)
 * when it is free or has not changed for its leaseDurationSeconds *as
 * measured by our own monotonic clock since we last saw it change* (the
 * remote renewTime is compared for change, never trusted as a time);
 * renew it every retry period while leading; stop leading when no renew
 * succeeded within the renew deadline; release it on shutdown.
 *
 * Without --lease-name there is no struct lease: the core is the only
 * replica and always leads.  lease_leading(NULL) says so, and is what the
 * reconciler asks.
 *
 * The decisions (what to do with an observed record, what to write, how
 * long to wait) are pure functions below, unit-tested without a server.
 */
#ifndef LEASE_H
#define LEASE_H

#include <stddef.h>
#include <stdint.h>

#include "core/kube/lease_json.h"

struct event_base;
struct evbuffer;
struct kc;
struct lease;

/* Called on the core's loop; they must not free the lease. */
struct lease_hooks {
	void (*started_leading)(void *arg);
	void (*stopped_leading)(void *arg);
	void *arg;
};

/*
 * `namespace` a DNS-1123 label, `name` a DNS-1123 subdomain, `identity`
 * 1..LEASE_MAX_IDENTITY bytes of visible ASCII (all copied; hooks may be
 * NULL).  NULL on invalid arguments or allocation failure.
 */
struct lease *lease_new(struct event_base *base, struct kc *kc,
    const char *namespace, const char *name, const char *identity,
    const struct lease_hooks *hooks);
/* Cancels everything without releasing (see lease_release). NULL ok. */
void lease_free(struct lease *l);
/* Starts the first acquire attempt now; 0, or -1 if already started. */
int lease_start(struct lease *l);
/* 1 while we hold the lease (and renewed it within the deadline); 0 for
 * NULL. */
int lease_is_leader(const struct lease *l);
/* For the reconciler: 1 when `l` leads or when there is no election. */
int lease_leading(const struct lease *l);
/*
 * Shutdown: stop leading (stopped_leading runs), and if we held the lease
 * write it released (holderIdentity "", leaseDurationSeconds 1) so another
 * replica takes over at once.  `done(arg)` runs once when that is answered
 * or after LEASE_RELEASE_TIMEOUT_MS, or before this returns when there is
 * nothing to release.  No attempts are made afterwards.
 */
void lease_release(struct lease *l, void (*done)(void *), void *arg);
/* replicad_core_leader, _leader_transitions_total and
 * _lease_renew_failures_total with HELP/TYPE; NULL → "always leader".
 * 0, or -1 when the buffer could not grow. */
int lease_stats_prometheus(const struct lease *l, struct evbuffer *b);

/* --- policy, pure --- */

struct lease_timing {
	uint64_t duration_ms;       /* leaseDurationSeconds we write */
	uint64_t renew_deadline_ms; /* leader gives up after this */
	uint64_t retry_ms;          /* attempt / renew period */
};

/* client-go's defaults (core_limits.h): 15 s, 10 s, 2 s. */
void lease_timing_default(struct lease_timing *t);

/* client-go's observedRecord/observedTime. */
struct lease_observed {
	int valid;            /* a record has been seen */
	struct lease_rec rec; /* the last record seen */
	uint64_t at_ms;       /* our monotonic time it last changed */
};

/*
 * Records `rec` seen at monotonic `now_ms`: observed time moves only when
 * the record (holder, duration, acquire/renew time, transitions) differs
 * from the last one seen.  Returns 1 if it changed.
 */
int lease_observe(
    struct lease_observed *obs, const struct lease_rec *rec, uint64_t now_ms);

enum lease_action {
	LEASE_CREATE, /* no Lease (404): POST one naming us */
	LEASE_TAKE,   /* free or expired: PUT us as holder, transitions + 1 */
	LEASE_RENEW,  /* ours: PUT a new renewTime, same acquire/transitions */
	LEASE_WAIT    /* another holder, not expired: try again later */
};

/*
 * What to do after reading the Lease: `obs` NULL or !valid means it does
 * not exist.  Expiry is judged only by `now_ms - obs->at_ms` against the
 * record's leaseDurationSeconds (our own duration when it is absent).
 */
enum lease_action lease_decide(const struct lease_observed *obs,
    const char *identity, uint64_t now_ms, const struct lease_timing *t);

/*
 * The record to write for `action` (CREATE/TAKE/RENEW) from the observed
 * one (`old`, NULL for CREATE), at wall time `now` (MicroTime text).
 * resourceVersion is taken from `old`.
 */
void lease_next_record(enum lease_action action, const struct lease_rec *old,
    const char *identity, const char *now, const struct lease_timing *t,
    struct lease_rec *out);
/* The released record: holder "", duration 1, acquire = renew = now,
 * transitions kept, resourceVersion from `old`. */
void lease_release_record(
    const struct lease_rec *old, const char *now, struct lease_rec *out);

enum lease_phase {
	LEASE_PHASE_ACQUIRING, /* not leading: jittered retry, backoff */
	LEASE_PHASE_LEADING    /* renew every retry period */
};

/*
 * Delay before the next attempt.  Leading: retry_ms.  Acquiring:
 * retry_ms * [1, 2.2) from `rnd` (uniform in [0, 2^32)), client-go's
 * JitterFactor 1.2; after `forbidden` consecutive 401/403 answers the base
 * doubles per answer up to LEASE_BACKOFF_CAP_MS.  Never less than
 * `retry_after_s` seconds.
 */
uint64_t lease_next_delay(const struct lease_timing *t, enum lease_phase ph,
    unsigned forbidden, unsigned retry_after_s, uint32_t rnd);

/* Leading: 1 when no renew sent at or after `last_renew_ms` succeeded
 * within the renew deadline, i.e. it is time to stand down. */
int lease_renew_expired(
    const struct lease_timing *t, uint64_t last_renew_ms, uint64_t now_ms);

/* An identity is 1..LEASE_MAX_IDENTITY bytes of visible ASCII. */
int lease_valid_identity(const char *s);

#endif /* LEASE_H */
