/*
 * lease.c — leader election with a coordination.k8s.io/v1 Lease (see
 * lease.h), after client-go's leaderelection.go and leaselock.go.
 *
 * One request at a time, one timer for "what next" (the next attempt, the
 * bound on the request in flight, or the bound on the release) and one
 * for the leader's renew deadline.  An attempt is: leader fast path (PUT
 * the cached record with a new renewTime; a 409 falls back to the slow
 * path at once), or the slow path (GET, observe, decide, then POST or PUT
 * with the resourceVersion read).  Every answer is parsed by lease_json.c's
 * strict Lease parser; a malformed one is a failed attempt.
 *
 * Safety margin: a leader stands down LEASE_RENEW_DEADLINE_MS after it
 * *sent* its last successful renew; any other replica waits
 * LEASE_DURATION_MS after it *saw* that renew, which is later.  Wall
 * clocks are only written (acquireTime/renewTime), never compared.
 *
 * Deliberately not here: what leading means (the reconciler asks
 * lease_leading()), and labels or annotations of the Lease object — a PUT
 * writes the whole object from the fields kept here.
 *
 * Why one file of about 850 lines: it is one state machine (the attempt,
 * the renew deadline, the release), whose transitions read best together;
 * the Lease's JSON both ways is already apart (lease_json.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "core/clock.h"
#include "core/core_limits.h"
#include "core/kube/kclient.h"
#include "core/kube/lease_json.h"
#include "core/kube/lease.h"
#include "core/log.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"

_Static_assert(
    LEASE_MAX_IDENTITY == LEASE_MAX_HOLDER, "what we write is what we accept");
_Static_assert(LEASE_DURATION_MS / 1000 >= LEASE_MIN_DURATION &&
        LEASE_DURATION_MS / 1000 <= LEASE_MAX_DURATION,
    "our leaseDurationSeconds passes our own parser");

enum lease_state {
	L_NEW,       /* lease_start not called yet */
	L_WAITING,   /* timer: the next attempt */
	L_REQUEST,   /* a GET/POST/PUT in flight; timer: its bound */
	L_RELEASING, /* release GET/PUT in flight; timer: the whole bound */
	L_STOPPED    /* released (or nothing to release): no more attempts */
};

enum lease_step {
	STEP_GET,
	STEP_CREATE,
	STEP_UPDATE,
	STEP_REL_PUT,
	STEP_REL_GET
};

static const char *const step_verbs[] = {
    [STEP_GET] = "get",
    [STEP_CREATE] = "create",
    [STEP_UPDATE] = "update",
    [STEP_REL_PUT] = "update (release)",
    [STEP_REL_GET] = "get (release)",
};

struct lease {
	struct event_base *base;
	struct kc *kc;
	struct lease_hooks hooks;
	struct lease_timing t;
	char namespace[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
	char identity[LEASE_MAX_IDENTITY + 1];
	char label[PS_MAX_NAMESPACE + PS_MAX_NAME + 2]; /* "ns/name" */
	char path[KC_MAX_PATH + 1];                     /* .../leases/NAME */
	char coll_path[KC_MAX_PATH + 1];                /* .../leases */
	enum lease_state state;
	enum lease_step step; /* of the request in flight */
	struct kc_req *req;
	struct lease_json *kj;
	uint64_t req_sent_ms;
	int fast_path; /* the PUT in flight is the leader's fast path */
	struct event *timer;
	struct event *deadline; /* leading: no renew within the deadline */
	struct lease_observed obs;
	int leader;
	uint64_t last_renew_ms; /* when the last successful write was sent */
	unsigned failures;      /* consecutive failed attempts */
	unsigned forbidden;     /* consecutive 401/403 answers */
	unsigned long long started_total;
	unsigned long long renew_failures;
	void (*release_done)(void *);
	void *release_arg;
	int release_retried;
};

static void attempt(struct lease *l);

/* ------------------------------------------------------------------ */
/* Policy, pure                                                        */

void
lease_timing_default(struct lease_timing *t)
{
	t->duration_ms = LEASE_DURATION_MS;
	t->renew_deadline_ms = LEASE_RENEW_DEADLINE_MS;
	t->retry_ms = LEASE_RETRY_MS;
}

static int
same_record(const struct lease_rec *a, const struct lease_rec *b)
{
	return strcmp(a->holder, b->holder) == 0 &&
	    a->duration_s == b->duration_s &&
	    strcmp(a->acquire_time, b->acquire_time) == 0 &&
	    strcmp(a->renew_time, b->renew_time) == 0 &&
	    a->transitions == b->transitions;
}

int
lease_observe(
    struct lease_observed *obs, const struct lease_rec *rec, uint64_t now_ms)
{
	int changed = !obs->valid || !same_record(&obs->rec, rec);

	/* The resourceVersion is always refreshed (the next PUT needs it);
	 * the observed time moves only when the record itself changed. */
	obs->rec = *rec;
	if (changed) {
		obs->valid = 1;
		obs->at_ms = now_ms;
	}
	return changed;
}

enum lease_action
lease_decide(const struct lease_observed *obs, const char *identity,
    uint64_t now_ms, const struct lease_timing *t)
{
	uint64_t dur, age;

	if (obs == NULL || !obs->valid)
		return LEASE_CREATE;
	if (strcmp(obs->rec.holder, identity) == 0)
		return LEASE_RENEW;
	if (obs->rec.holder[0] == '\0')
		return LEASE_TAKE; /* released */
	/* Absent duration: assume ours rather than "expired at once". */
	dur = obs->rec.duration_s > 0 ? (uint64_t)obs->rec.duration_s * 1000u
	                              : t->duration_ms;
	age = now_ms >= obs->at_ms ? now_ms - obs->at_ms : 0;
	return age < dur ? LEASE_WAIT : LEASE_TAKE;
}

static void
copy_str(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src);
}

void
lease_next_record(enum lease_action action, const struct lease_rec *old,
    const char *identity, const char *now, const struct lease_timing *t,
    struct lease_rec *out)
{
	uint64_t dur = t->duration_ms / 1000u;

	memset(out, 0, sizeof(*out));
	if (old != NULL) {
		memcpy(out->rv, old->rv, sizeof(out->rv));
		memcpy(out->name, old->name, sizeof(out->name));
		memcpy(out->namespace, old->namespace, sizeof(out->namespace));
	}
	copy_str(out->holder, sizeof(out->holder), identity);
	if (dur < LEASE_MIN_DURATION)
		dur = LEASE_MIN_DURATION;
	if (dur > LEASE_MAX_DURATION)
		dur = LEASE_MAX_DURATION;
	out->duration_s = (int32_t)dur;
	copy_str(out->renew_time, sizeof(out->renew_time), now);
	copy_str(out->acquire_time, sizeof(out->acquire_time), now);
	switch (action) {
	case LEASE_RENEW:
	case LEASE_WAIT: /* not written; keep the holder's fields */
		if (old != NULL) {
			if (old->acquire_time[0] != '\0')
				memcpy(out->acquire_time, old->acquire_time,
				    sizeof(out->acquire_time));
			out->transitions = old->transitions;
		}
		break;
	case LEASE_TAKE:
		/* A new holder (also after a release): one more transition,
		 * saturating rather than overflowing. */
		if (old != NULL)
			out->transitions = old->transitions < INT32_MAX
			    ? old->transitions + 1
			    : INT32_MAX;
		break;
	case LEASE_CREATE:
		out->transitions = 0;
		break;
	}
}

void
lease_release_record(
    const struct lease_rec *old, const char *now, struct lease_rec *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->rv, old->rv, sizeof(out->rv));
	memcpy(out->name, old->name, sizeof(out->name));
	memcpy(out->namespace, old->namespace, sizeof(out->namespace));
	out->duration_s = 1;
	copy_str(out->acquire_time, sizeof(out->acquire_time), now);
	copy_str(out->renew_time, sizeof(out->renew_time), now);
	out->transitions = old->transitions;
}

uint64_t
lease_next_delay(const struct lease_timing *t, enum lease_phase ph,
    unsigned forbidden, unsigned retry_after_s, uint32_t rnd)
{
	uint64_t base = t->retry_ms, d, floor_ms;
	unsigned shift;

	floor_ms = (uint64_t)retry_after_s * 1000u;
	if (ph == LEASE_PHASE_LEADING)
		d = base;
	else {
		if (forbidden > 0 && base < LEASE_BACKOFF_CAP_MS) {
			shift = forbidden - 1 > 16 ? 16 : forbidden - 1;
			base = base > ((uint64_t)LEASE_BACKOFF_CAP_MS >> shift)
			    ? LEASE_BACKOFF_CAP_MS
			    : base << shift;
		}
		/* client-go's wait.Jitter: base + rand * 1.2 * base. */
		d = base +
		    ((base * LEASE_JITTER_NUM / LEASE_JITTER_DEN * rnd) >> 32);
	}
	return d > floor_ms ? d : floor_ms;
}

int
lease_renew_expired(
    const struct lease_timing *t, uint64_t last_renew_ms, uint64_t now_ms)
{
	return now_ms >= last_renew_ms &&
	    now_ms - last_renew_ms >= t->renew_deadline_ms;
}

int
lease_valid_identity(const char *s)
{
	size_t len = strnlen(s, LEASE_MAX_IDENTITY + 1);

	if (len == 0 || len > LEASE_MAX_IDENTITY)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* The machine                                                         */

static void
arm(struct event *ev, uint64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000u);
	tv.tv_usec = (suseconds_t)((ms % 1000u) * 1000u);
	if (evtimer_add(ev, &tv) == -1)
		log_warnx("lease: cannot arm a timer; leader election stalls");
}

/* One line with the lease and our identity as context. */
#define LEASE_LOG(l, level, ...)                                               \
	log_kv((level), 0,                                                     \
	    (struct log_kv[]){                                                 \
	        LOG_S("lease", (l)->label), LOG_S("identity", (l)->identity)}, \
	    2, __VA_ARGS__)

static void
now_text(char buf[LEASE_MAX_MICROTIME + 1])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (lease_json_format_time((int64_t)ts.tv_sec, ts.tv_nsec, buf,
	        LEASE_MAX_MICROTIME + 1) != 0)
		buf[0] = '\0'; /* the spec then omits the time */
}

static void
stop_leading(struct lease *l, const char *why)
{
	if (!l->leader)
		return;
	l->leader = 0;
	evtimer_del(l->deadline);
	LEASE_LOG(l, LOG_LEVEL_INFO, "stopped leading (%s)", why);
	if (l->hooks.stopped_leading != NULL)
		l->hooks.stopped_leading(l->hooks.arg);
}

static void
schedule(struct lease *l, unsigned retry_after)
{
	uint64_t d = lease_next_delay(&l->t,
	    l->leader ? LEASE_PHASE_LEADING : LEASE_PHASE_ACQUIRING,
	    l->forbidden, retry_after, arc4random());

	l->state = L_WAITING;
	arm(l->timer, d);
}

static const char *
answer_text(const struct kc_result *res)
{
	if (res->transport_error)
		return res->error;
	if (res->status_obj != NULL && res->status_obj->message[0] != '\0')
		return res->status_obj->message;
	return "no Status in the answer";
}

/* An attempt did not make us (or keep us) the holder. */
static void
attempt_failed(struct lease *l, const struct kc_result *res, const char *why)
{
	long status = res != NULL ? res->status : 0;
	int denied = res != NULL && !res->transport_error &&
	    (status == 401 || status == 403);
	char what[128];

	l->failures++;
	if (l->leader)
		l->renew_failures++;
	l->forbidden = denied ? l->forbidden + 1 : 0;
	snprintf(what, sizeof(what), "%s %s", step_verbs[l->step],
	    res == NULL                ? "failed"
	        : res->transport_error ? "failed"
	                               : "answered HTTP");
	if (denied)
		LEASE_LOG(l, LOG_LEVEL_WARN,
		    "Lease %s %ld, refused: the Role needs get, create and "
		    "update on leases.coordination.k8s.io in this namespace; "
		    "backing off (%s)",
		    what, status, why);
	else if (status == 409)
		LEASE_LOG(l, LOG_LEVEL_INFO,
		    "Lease %s 409 (%s): another replica wrote it first", what,
		    why);
	else
		LEASE_LOG(l,
		    l->leader || l->failures == 1 ? LOG_LEVEL_WARN
		                                  : LOG_LEVEL_DEBUG,
		    "Lease %s %ld: %s", what, status, why);
	if (l->leader &&
	    lease_renew_expired(&l->t, l->last_renew_ms, clock_now_ms()))
		stop_leading(l, "no successful renew within the deadline");
	schedule(l, res != NULL ? res->retry_after : 0);
}

static int
data_cb(void *arg, const char *buf, size_t len)
{
	struct lease *l = arg;

	return lease_json_feed(l->kj, buf, len);
}

static void done_cb(void *arg, const struct kc_result *res);

/* Starts one request; the answer goes to done_cb.  0 or -1. */
static int
send_req(struct lease *l, enum lease_step step, const struct lease_rec *rec)
{
	enum kc_verb verb = step == STEP_GET || step == STEP_REL_GET ? KC_GET
	    : step == STEP_CREATE                                    ? KC_POST
	                                                             : KC_PUT;
	char *body = NULL;
	size_t len = 0;

	lease_json_free(l->kj);
	if ((l->kj = lease_json_new()) == NULL)
		return -1;
	if (rec != NULL &&
	    (body = lease_json_gen_body(l->namespace, l->name, rec, &len)) ==
	        NULL)
		return -1;
	l->step = step;
	l->req_sent_ms = clock_now_ms();
	l->req =
	    kc_start(l->kc, verb, step == STEP_CREATE ? l->coll_path : l->path,
	        body != NULL ? "application/json" : NULL, body, len, data_cb,
	        done_cb, l);
	free(body);
	return l->req != NULL ? 0 : -1;
}

/* Starts an attempt's request with its bound; a failure to start is a
 * failed attempt. */
static void
request(struct lease *l, enum lease_step step, const struct lease_rec *rec)
{
	if (send_req(l, step, rec) != 0) {
		attempt_failed(l, NULL, "cannot start the request");
		return;
	}
	l->state = L_REQUEST;
	arm(l->timer, LEASE_ATTEMPT_TIMEOUT_MS);
}

static void
write_lease(struct lease *l, enum lease_action action)
{
	struct lease_rec rec;
	char now[LEASE_MAX_MICROTIME + 1];

	now_text(now);
	lease_next_record(action, l->obs.valid ? &l->obs.rec : NULL,
	    l->identity, now, &l->t, &rec);
	if (action == LEASE_CREATE)
		rec.rv[0] = '\0';
	request(l, action == LEASE_CREATE ? STEP_CREATE : STEP_UPDATE, &rec);
}

static void
attempt(struct lease *l)
{
	/* client-go's fast path: the leader PUTs its cached record. */
	l->fast_path = l->leader && l->obs.valid && l->obs.rec.rv[0] != '\0' &&
	    strcmp(l->obs.rec.holder, l->identity) == 0;
	if (l->fast_path)
		write_lease(l, LEASE_RENEW);
	else
		request(l, STEP_GET, NULL);
}

/* The answer's Lease, checked to be ours; 0 or -1 (a failed attempt). */
static int
parse_answer(struct lease *l, const struct kc_result *res,
    struct lease_rec *rec, const char **why)
{
	if (res->aborted || lease_json_finish(l->kj, rec) != 0) {
		*why = lease_json_error(l->kj);
		return -1;
	}
	if (strcmp(rec->name, l->name) != 0 ||
	    (rec->namespace[0] != '\0' &&
	        strcmp(rec->namespace, l->namespace) != 0)) {
		*why = "the answer is another Lease";
		return -1;
	}
	return 0;
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lease *l = arg;

	(void)fd;
	(void)what;
	if (!l->leader)
		return;
	/* A renew still in flight is too late now, even if it succeeds. */
	if (l->state == L_REQUEST) {
		kc_cancel(l->req);
		l->req = NULL;
	}
	l->renew_failures++;
	stop_leading(l, "no successful renew within the deadline");
	schedule(l, 0);
}

/* A write made (or kept) us the holder. */
static void
acquired(struct lease *l, const struct lease_rec *rec)
{
	uint64_t now = clock_now_ms();

	if (strcmp(rec->holder, l->identity) != 0) {
		attempt_failed(l, NULL, "the answer names another holder");
		return;
	}
	if (lease_renew_expired(&l->t, l->req_sent_ms, now)) {
		attempt_failed(l, NULL, "answered after the renew deadline");
		return;
	}
	(void)lease_observe(&l->obs, rec, now);
	l->failures = 0;
	l->forbidden = 0;
	l->last_renew_ms = l->req_sent_ms;
	evtimer_del(l->deadline);
	arm(l->deadline, l->last_renew_ms + l->t.renew_deadline_ms - now);
	if (!l->leader) {
		l->leader = 1;
		l->started_total++;
		LEASE_LOG(l, LOG_LEVEL_INFO,
		    "started leading (acquireTime %s, leaseTransitions %d)",
		    rec->acquire_time, (int)rec->transitions);
		if (l->hooks.started_leading != NULL)
			l->hooks.started_leading(l->hooks.arg);
	}
	schedule(l, 0);
}

static void
got_get(struct lease *l, const struct kc_result *res)
{
	struct lease_rec rec;
	const char *why;
	enum lease_action action;

	if (!res->transport_error && res->status == 404) {
		l->obs.valid = 0; /* gone: create it, as client-go does */
		write_lease(l, LEASE_CREATE);
		return;
	}
	if (res->transport_error || res->status != 200) {
		attempt_failed(l, res, answer_text(res));
		return;
	}
	if (parse_answer(l, res, &rec, &why) != 0) {
		attempt_failed(l, res, why);
		return;
	}
	(void)lease_observe(&l->obs, &rec, clock_now_ms());
	action = lease_decide(&l->obs, l->identity, clock_now_ms(), &l->t);
	if (action == LEASE_WAIT) {
		/* Held by another and fresh: the API answered, so no failure
		 * streak; a leader that sees this has lost the lease. */
		l->failures = 0;
		l->forbidden = 0;
		if (l->leader) {
			l->renew_failures++;
			stop_leading(l, "the Lease names another holder");
		}
		LEASE_LOG(l, LOG_LEVEL_DEBUG, "Lease held by \"%s\"; waiting",
		    rec.holder);
		schedule(l, 0);
		return;
	}
	if (action == LEASE_TAKE)
		LEASE_LOG(l, LOG_LEVEL_INFO,
		    "Lease free or expired (holder \"%s\"): taking it",
		    rec.holder);
	write_lease(l, action);
}

static void
got_write(struct lease *l, const struct kc_result *res)
{
	struct lease_rec rec;
	const char *why;

	if (!res->transport_error && res->status == 409 && l->fast_path) {
		/* Our cached record is stale: the slow path, now. */
		l->fast_path = 0;
		request(l, STEP_GET, NULL);
		return;
	}
	if (res->transport_error ||
	    (res->status != 200 && res->status != 201)) {
		attempt_failed(l, res, answer_text(res));
		return;
	}
	if (parse_answer(l, res, &rec, &why) != 0) {
		attempt_failed(l, res, why);
		return;
	}
	acquired(l, &rec);
}

static void
release_finish(struct lease *l, const char *how)
{
	void (*done)(void *) = l->release_done;

	kc_cancel(l->req);
	l->req = NULL;
	evtimer_del(l->timer);
	l->state = L_STOPPED;
	l->release_done = NULL;
	LEASE_LOG(l, LOG_LEVEL_INFO, "Lease release: %s", how);
	if (done != NULL)
		done(l->release_arg);
}

static void
release_put(struct lease *l)
{
	struct lease_rec rec;
	char now[LEASE_MAX_MICROTIME + 1];

	now_text(now);
	lease_release_record(&l->obs.rec, now, &rec);
	if (send_req(l, STEP_REL_PUT, &rec) != 0)
		release_finish(l, "cannot start the request");
}

static void
got_release(struct lease *l, const struct kc_result *res)
{
	struct lease_rec rec;
	const char *why;

	if (res->transport_error ||
	    (res->status != 200 && res->status != 409)) {
		LEASE_LOG(l, LOG_LEVEL_WARN, "Lease %s failed: %s (HTTP %ld)",
		    step_verbs[l->step], answer_text(res), res->status);
		release_finish(l, "failed; it expires on its own");
		return;
	}
	if (res->status == 409) {
		/* A renew we gave up on may have landed: read it once more. */
		if (l->release_retried) {
			release_finish(
			    l, "conflict again; it expires on its own");
			return;
		}
		l->release_retried = 1;
		if (send_req(l, STEP_REL_GET, NULL) != 0)
			release_finish(l, "cannot start the request");
		return;
	}
	if (parse_answer(l, res, &rec, &why) != 0) {
		LEASE_LOG(l, LOG_LEVEL_WARN, "Lease %s: %s",
		    step_verbs[l->step], why);
		release_finish(l, "bad answer");
		return;
	}
	if (l->step == STEP_REL_PUT) {
		release_finish(l, "released");
		return;
	}
	if (strcmp(rec.holder, l->identity) != 0) {
		release_finish(l, "no longer ours");
		return;
	}
	(void)lease_observe(&l->obs, &rec, clock_now_ms());
	release_put(l);
}

static void
done_cb(void *arg, const struct kc_result *res)
{
	struct lease *l = arg;

	l->req = NULL;
	if (l->state == L_RELEASING) {
		got_release(l, res);
		return;
	}
	evtimer_del(l->timer); /* the bound of this request */
	switch (l->step) {
	case STEP_GET:
		got_get(l, res);
		break;
	case STEP_CREATE:
	case STEP_UPDATE:
		got_write(l, res);
		break;
	case STEP_REL_PUT:
	case STEP_REL_GET:
		break; /* only in L_RELEASING */
	}
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lease *l = arg;

	(void)fd;
	(void)what;
	switch (l->state) {
	case L_WAITING:
		attempt(l);
		break;
	case L_REQUEST:
		kc_cancel(l->req);
		l->req = NULL;
		attempt_failed(l, NULL, "no answer in time");
		break;
	case L_RELEASING:
		release_finish(l, "timed out; it expires on its own");
		break;
	case L_NEW:
	case L_STOPPED:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* API                                                                 */

struct lease *
lease_new(struct event_base *base, struct kc *kc, const char *namespace,
    const char *name, const char *identity, const struct lease_hooks *hooks)
{
	struct lease *l;
	int n, m;

	if (ps_valid_namespace(
	        namespace, strnlen(namespace, PS_MAX_NAMESPACE + 1)) != PS_OK ||
	    ps_valid_name(name, strnlen(name, PS_MAX_NAME + 1)) != PS_OK ||
	    !lease_valid_identity(identity))
		return NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->base = base;
	l->kc = kc;
	if (hooks != NULL)
		l->hooks = *hooks;
	lease_timing_default(&l->t);
	copy_str(l->namespace, sizeof(l->namespace), namespace);
	copy_str(l->name, sizeof(l->name), name);
	copy_str(l->identity, sizeof(l->identity), identity);
	snprintf(l->label, sizeof(l->label), "%s/%s", namespace, name);
	n = snprintf(l->coll_path, sizeof(l->coll_path),
	    "/apis/coordination.k8s.io/v1/namespaces/%s/leases", namespace);
	m = snprintf(l->path, sizeof(l->path), "%s/%s", l->coll_path, name);
	if (n < 0 || (size_t)n >= sizeof(l->coll_path) || m < 0 ||
	    (size_t)m >= sizeof(l->path) ||
	    (l->timer = evtimer_new(base, timer_cb, l)) == NULL ||
	    (l->deadline = evtimer_new(base, deadline_cb, l)) == NULL) {
		lease_free(l);
		return NULL;
	}
	return l;
}

void
lease_free(struct lease *l)
{
	if (l == NULL)
		return;
	kc_cancel(l->req);
	lease_json_free(l->kj);
	if (l->timer != NULL)
		event_free(l->timer);
	if (l->deadline != NULL)
		event_free(l->deadline);
	free(l);
}

int
lease_start(struct lease *l)
{
	if (l->state != L_NEW)
		return -1;
	LEASE_LOG(l, LOG_LEVEL_INFO,
	    "leader election: leaseDuration %llu ms, renewDeadline %llu ms, "
	    "retryPeriod %llu ms",
	    (unsigned long long)l->t.duration_ms,
	    (unsigned long long)l->t.renew_deadline_ms,
	    (unsigned long long)l->t.retry_ms);
	attempt(l);
	return 0;
}

int
lease_is_leader(const struct lease *l)
{
	return l != NULL && l->leader;
}

int
lease_leading(const struct lease *l)
{
	return l == NULL || l->leader;
}

void
lease_release(struct lease *l, void (*done)(void *), void *arg)
{
	int ours;

	if (l->state == L_RELEASING || l->state == L_STOPPED) {
		if (done != NULL)
			done(arg);
		return;
	}
	kc_cancel(l->req);
	l->req = NULL;
	evtimer_del(l->timer);
	/* Stop acting as leader before anyone else may start. */
	stop_leading(l, "shutting down");
	evtimer_del(l->deadline);
	/* Ours also when a renew deadline passed but nobody took it since. */
	ours = l->obs.valid && l->obs.rec.rv[0] != '\0' &&
	    strcmp(l->obs.rec.holder, l->identity) == 0;
	if (!ours) {
		l->state = L_STOPPED;
		if (done != NULL)
			done(arg);
		return;
	}
	l->state = L_RELEASING;
	l->release_done = done;
	l->release_arg = arg;
	arm(l->timer, LEASE_RELEASE_TIMEOUT_MS);
	release_put(l);
}

int
lease_stats_prometheus(const struct lease *l, struct evbuffer *b)
{
	return evbuffer_add_printf(b,
	           "# HELP replicad_core_leader 1 while this core leads "
	           "(holds the Lease; always 1 without leader election).\n"
	           "# TYPE replicad_core_leader gauge\n"
	           "replicad_core_leader %d\n"
	           "# HELP replicad_core_leader_transitions_total Times this "
	           "core started leading.\n"
	           "# TYPE replicad_core_leader_transitions_total counter\n"
	           "replicad_core_leader_transitions_total %llu\n"
	           "# HELP replicad_core_lease_renew_failures_total Lease "
	           "renewals that failed while leading.\n"
	           "# TYPE replicad_core_lease_renew_failures_total counter\n"
	           "replicad_core_lease_renew_failures_total %llu\n",
	           lease_leading(l), l != NULL ? l->started_total : 0ULL,
	           l != NULL ? l->renew_failures : 0ULL) < 0
	    ? -1
	    : 0;
}
