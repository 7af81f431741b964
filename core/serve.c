/*
 * serve.c — request handlers: the narrow menu the gateway may ask for.
 *
 * Reads never call the Kubernetes API; they are answered from the cache,
 * and only once a complete list has been applied (before that the answer
 * is UNAVAILABLE with Retry-After, never an empty or partial view).
 * Every name and number in a request was decoded and validated by
 * proto-socket; scale.c validates again before it writes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "core/kube/annotations.h"
#include "core/kube/cache.h"
#include "core/kube/event_rec.h"
#include "core/core_limits.h"
#include "core/kube/health.h"
#include "core/ipc/ipc_server.h"
#include "core/kube/kclient.h"
#include "core/kube/lease.h"
#include "core/log.h"
#include "core/pins/pins.h"
#include "core/pins/reconcile.h"
#include "core/kube/reflector.h"
#include "core/kube/scale.h"
#include "core/serve.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

struct serve {
	struct serve_deps d;
	char namespace[PS_MAX_NAMESPACE + 1];
};

/* A LIST answer being streamed: the last name sent. */
struct list_cursor {
	struct serve *s;
	char last[PS_MAX_NAME + 1];
};

static int
synced(const struct serve *s)
{
	struct refl_status st;

	refl_get_status(s->d.refl, &st);
	return st.synced;
}

static void
answer_not_synced(struct ipcs_req *req)
{
	(void)ipcs_answer_error(req, PS_E_UNAVAILABLE, CORE_RETRY_NOT_SYNCED,
	    "cache not synced: the first list from the Kubernetes API has "
	    "not completed");
}

static int
list_next(void *arg, char name[PS_MAX_NAME + 1])
{
	struct list_cursor *cur = arg;

	if (!cache_next_name(cur->s->d.cache, cur->last, name))
		return 0;
	memcpy(cur->last, name, sizeof(cur->last));
	return 1;
}

static void
handle_list(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	struct list_cursor *cur;

	if (!synced(s)) {
		answer_not_synced(req);
		return;
	}
	if ((cur = calloc(1, sizeof(*cur))) == NULL) {
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 1, "out of memory");
		return;
	}
	cur->s = s;
	(void)ipcs_answer_names(req, list_next, free, cur);
}

/*
 * Why the pin of a cached Deployment is not being reconciled (enum
 * ps_pin_state): the annotation on the Deployment says so.
 */
static uint8_t
pin_state(const struct serve *s, const struct cache_deploy *d)
{
	(void)s;
	if (d->annot.pin_suspended)
		return PS_PIN_ANNOTATED;
	return PS_PIN_ACTIVE;
}

static void
handle_get(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	const struct ps_name_req *nr = ipcs_req_name(req);
	struct cache_deploy d;
	struct ps_deployment m;

	if (!synced(s)) {
		answer_not_synced(req);
		return;
	}
	if (cache_get(s->d.cache, nr->name, &d) == -1) {
		(void)ipcs_answer_error(req, PS_E_NOT_FOUND, 0,
		    "deployment \"%s\" not found in namespace \"%s\"", nr->name,
		    s->namespace);
		return;
	}
	memset(&m, 0, sizeof(m));
	memcpy(m.name, d.name, sizeof(m.name));
	memcpy(m.namespace, d.namespace[0] != '\0' ? d.namespace : s->namespace,
	    sizeof(m.namespace));
	/* kjson admitted only 0..INT32_MAX and 0..INT64_MAX. */
	m.desired = (uint32_t)d.desired;
	m.replicas = (uint32_t)d.replicas;
	m.ready = (uint32_t)d.ready;
	m.available = (uint32_t)d.available;
	m.updated = (uint32_t)d.updated;
	m.generation = (uint64_t)d.generation;
	m.observed_generation = (uint64_t)d.observed_generation;
	memcpy(m.resource_version, d.rv, sizeof(m.resource_version));
	if (s->d.pins != NULL &&
	    pins_get(s->d.pins, d.name, &m.pin_replicas) == 0) {
		m.pinned = 1;
		m.pin_state = pin_state(s, &d);
	}
	m.bounds = d.annot.bounds;
	m.min_replicas = d.annot.min_replicas;
	m.max_replicas = d.annot.max_replicas;
	(void)ipcs_answer_deployment(req, &m);
}

static void
scale_done(void *arg, const struct scale_result *res)
{
	struct ipcs_req *req = arg;
	struct ps_scale_ok ok;

	if (res->code == PS_E_EXPECTED || res->code == PS_E_STALE) {
		(void)ipcs_answer_refusal(req, res->code, res->current,
		    res->ref, "%s", res->message);
		return;
	}
	if (res->code != 0) {
		(void)ipcs_answer_error(
		    req, res->code, res->retry_after, "%s", res->message);
		return;
	}
	memset(&ok, 0, sizeof(ok));
	ok.dry_run = res->dry_run;
	memcpy(ok.name, res->name, sizeof(ok.name));
	ok.replicas = res->replicas;
	ok.previous = res->previous;
	ok.synced = res->synced;
	memcpy(ok.resource_version, res->rv, sizeof(ok.resource_version));
	(void)ipcs_answer_scale(req, &ok);
}

/* The client left: the write goes on (and is audited), the answer not. */
static void
scale_cancel(struct ipcs_req *req, void *arg)
{
	scale_detach(arg);
	ipcs_req_drop(req);
}

/*
 * What no socket peer may claim, whatever the gateway let through: an
 * identity of the core's own (the audit log would show the reconciler).
 * 1 after refusing (audited, answered INVALID).
 */
static int
write_refused(
    struct ipcs_req *req, const struct ps_write_req *w, const char *what)
{
	if (strncmp(w->identity, CORE_IDENTITY_PREFIX,
	        strlen(CORE_IDENTITY_PREFIX)) != 0)
		return 0;
	log_kv(LOG_LEVEL_WARN, 0,
	    (struct log_kv[]){LOG_S("audit", what),
	        LOG_S("identity", w->identity),
	        LOG_I("peer_uid", (long)ipcs_req_uid(req)),
	        LOG_S("deployment", w->name), LOG_S("outcome", "refused")},
	    5, "%s %s refused: reserved identity", what, w->name);
	(void)ipcs_answer_error(req, PS_E_INVALID, 0,
	    "identities beginning with \"%s\" are the core's own",
	    CORE_IDENTITY_PREFIX);
	return 1;
}

static void
handle_scale(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	const struct ps_write_req *w = ipcs_req_write(req);
	struct scale_cond cond;
	struct scale_op *op;
	uint32_t pin;

	if (write_refused(req, w, "scale"))
		return;
	/* Read-your-writes needs the watch: no write before the cache. */
	if (!synced(s)) {
		answer_not_synced(req);
		return;
	}
	/* The reconciler would undo it at once: say so instead. */
	if (s->d.pins != NULL && pins_get(s->d.pins, w->name, &pin) == 0 &&
	    pin != w->replicas) {
		(void)ipcs_answer_error(req, PS_E_CONFLICT, 0,
		    "deployment \"%s\" is pinned to %u replicas: change or "
		    "remove its pin instead",
		    w->name, pin);
		return;
	}
	log_kv(LOG_LEVEL_DEBUG, 0,
	    (struct log_kv[]){LOG_U("peer_uid", ipcs_req_uid(req)),
	        LOG_U("id", ipcs_req_id(req)), LOG_S("identity", w->identity)},
	    3, "scale %s to %u requested", w->name, w->replicas);
	cond.flags = w->flags;
	cond.expected = w->expected;
	memcpy(cond.if_match, w->if_match, sizeof(cond.if_match));
	op = scale_start(s->d.scale, w->name, w->replicas, &cond, w->identity,
	    (long)ipcs_req_uid(req), scale_done, req);
	if (op != NULL)
		ipcs_req_set_cancel(req, scale_cancel, op);
}

static void
health_done(void *arg, const struct ps_health *h)
{
	(void)ipcs_answer_health(arg, h);
}

static void
health_cancel(struct ipcs_req *req, void *arg)
{
	health_detach(arg);
	ipcs_req_drop(req);
}

static void
handle_health(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	struct health_wait *w;

	if ((w = health_query(s->d.health, health_done, req)) != NULL)
		ipcs_req_set_cancel(req, health_cancel, w);
}

/* ---------------------------------------------------------------- pins */

/* Pins enabled (--pin-file or --pin-configmap) and loaded, else answered. */
static int
pins_ready(struct serve *s, struct ipcs_req *req)
{
	if (s->d.pins == NULL) {
		(void)ipcs_answer_error(req, PS_E_UNSUPPORTED, 0,
		    "pins are not enabled in this core (start it with "
		    "--pin-file or --pin-configmap)");
		return 0;
	}
	if (!pins_loaded(s->d.pins)) {
		(void)ipcs_answer_error(req, PS_E_UNAVAILABLE,
		    CORE_RETRY_PINS_NOT_LOADED, "pins not loaded yet: %s",
		    pins_not_loaded(s->d.pins));
		return 0;
	}
	return 1;
}

/* A PIN_LIST answer being streamed: the last name sent. */
static int
pin_list_next(void *arg, struct ps_pin *pin)
{
	struct list_cursor *cur = arg;

	struct cache_deploy d;

	if (!pins_next(cur->s->d.pins, cur->last, pin))
		return 0;
	memcpy(cur->last, pin->name, sizeof(cur->last));
	if (cache_get(cur->s->d.cache, pin->name, &d) == 0)
		pin->state = pin_state(cur->s, &d);
	return 1;
}

static void
handle_pin_list(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	struct list_cursor *cur;

	if (!pins_ready(s, req))
		return;
	if ((cur = calloc(1, sizeof(*cur))) == NULL) {
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 1, "out of memory");
		return;
	}
	cur->s = s;
	(void)ipcs_answer_pins(req, pin_list_next, free, cur);
}

static void
handle_pin_get(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	const struct ps_name_req *nr = ipcs_req_name(req);
	struct cache_deploy d;
	struct ps_pin m;

	if (!pins_ready(s, req))
		return;
	memset(&m, 0, sizeof(m));
	if (pins_get(s->d.pins, nr->name, &m.replicas) != 0) {
		(void)ipcs_answer_error(req, PS_E_NOT_FOUND, 0,
		    "deployment \"%s\" has no pin in namespace \"%s\"",
		    nr->name, s->namespace);
		return;
	}
	memcpy(m.name, nr->name, sizeof(m.name));
	if (cache_get(s->d.cache, nr->name, &d) == 0)
		m.state = pin_state(s, &d);
	(void)ipcs_answer_pin(req, &m);
}

/* A PIN_PUT / PIN_DELETE waiting for its store: the request, the change,
 * and the pin's state to answer with (it does not depend on the change). */
struct pin_call {
	struct serve *s;
	struct ipcs_req *req;
	struct pins_op *op;
	uint8_t state;
	int del;
};

/* The Normal Event of a pin set, changed or removed by a client. */
static void
pin_event(struct serve *s, const struct ps_write_req *w, int del,
    const struct pins_result *res)
{
	struct cache_deploy d;
	struct evrec_object obj;
	char note[EVREC_MAX_NOTE];

	if (s->d.events == NULL || (!del && res->had && res->old == res->replicas))
		return; /* nothing changed */
	memset(&obj, 0, sizeof(obj));
	obj.kind = "Deployment";
	obj.api_version = "apps/v1";
	obj.name = res->name;
	if (cache_get(s->d.cache, res->name, &d) == 0) {
		obj.uid = d.uid;
		obj.resource_version = d.rv;
	}
	if (del)
		snprintf(note, sizeof(note), "pin of %u removed by %s (replicad)",
		    res->replicas, w->identity);
	else if (res->had)
		snprintf(note, sizeof(note),
		    "pin changed %u \u2192 %u by %s (replicad)", res->old,
		    res->replicas, w->identity);
	else
		snprintf(note, sizeof(note), "pinned to %u by %s (replicad)",
		    res->replicas, w->identity);
	(void)evrec_emit(s->d.events, &obj, EVREC_NORMAL,
	    del ? "PinRemoved" : "PinSet", del ? "Unpin" : "Pin", note);
}

/* The store's answer to PIN_PUT / PIN_DELETE (already audited there; the
 * reconciler hears of the change through the store's hook). */
static void
pin_done(void *arg, const struct pins_result *res)
{
	struct pin_call *pc = arg;
	struct ipcs_req *req = pc->req;
	struct ps_pin m;

	memset(&m, 0, sizeof(m));
	m.state = pc->state;
	if (res->code == 0)
		pin_event(pc->s, ipcs_req_write(req), pc->del, res);
	free(pc);
	if (res->code != 0) {
		(void)ipcs_answer_error(
		    req, res->code, res->retry_after, "%s", res->message);
		return;
	}
	memcpy(m.name, res->name, sizeof(m.name));
	m.replicas = res->replicas;
	(void)ipcs_answer_pin(req, &m);
}

/* The client left: the change goes on (and is audited), the answer not. */
static void
pin_cancel(struct ipcs_req *req, void *arg)
{
	struct pin_call *pc = arg;

	pins_detach(pc->op);
	free(pc);
	ipcs_req_drop(req);
}

/*
 * Hands a pin change to the store.  `pin_done` may run before the store
 * returns (the file store, a refusal) and frees the call; the change is
 * only kept for cancelling when it is still in flight.
 */
static void
pin_change(struct serve *s, struct ipcs_req *req,
    const struct ps_write_req *w, int del, uint8_t state)
{
	struct pin_call *pc;
	struct pins_op *op;

	if ((pc = calloc(1, sizeof(*pc))) == NULL) {
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 1, "out of memory");
		return;
	}
	pc->s = s;
	pc->req = req;
	pc->state = state;
	pc->del = del;
	op = del ? pins_delete(s->d.pins, w->name, w->identity,
	               (long)ipcs_req_uid(req), pin_done, pc)
	         : pins_put(s->d.pins, w->name, w->replicas, w->identity,
	               (long)ipcs_req_uid(req), pin_done, pc);
	if (op != NULL) {
		pc->op = op;
		ipcs_req_set_cancel(req, pin_cancel, pc);
	}
}

/*
 * PIN_PUT: only for a Deployment the cache knows (a typo should not
 * create a pin that waits forever for a Deployment of that name), so only
 * once the cache is synced.  The pin then applies to the Deployment of
 * that name until it is removed, also across a delete and re-create.
 * The store may answer later (a ConfigMap is written through the API).
 */
/*
 * The conditions of a PIN_PUT that the cache answers: the Deployment's
 * bounds, expectedReplicas (its desired count now) and If-Match (its
 * resourceVersion now; a pin does not write the Deployment, so there is
 * no API write to carry the version).  1 after refusing (audited).
 */
static int
pin_put_refused(struct ipcs_req *req, const struct ps_write_req *w,
    const struct cache_deploy *d)
{
	char why[PS_MAX_MESSAGE + 1];
	long uid = (long)ipcs_req_uid(req);

	if (annot_check(&d->annot, w->name, w->replicas, why, sizeof(why)) !=
	    0) {
		pins_audit("pin", w->identity, uid, w->name, 0, 0, 1,
		    w->replicas, "out_of_bounds");
		(void)ipcs_answer_error(req, PS_E_OUT_OF_BOUNDS, 0, "%s", why);
		return 1;
	}
	if ((w->flags & PS_W_EXPECTED) &&
	    (uint32_t)d->desired != w->expected) {
		pins_audit("pin", w->identity, uid, w->name, 0, 0, 1,
		    w->replicas, "precondition_failed");
		(void)ipcs_answer_refusal(req, PS_E_EXPECTED,
		    (uint32_t)d->desired, NULL,
		    "deployment \"%s\" has %d replicas, not the %u expected",
		    w->name, d->desired, w->expected);
		return 1;
	}
	if (w->if_match[0] != '\0' && strcmp(w->if_match, d->rv) != 0) {
		pins_audit("pin", w->identity, uid, w->name, 0, 0, 1,
		    w->replicas, "precondition_failed");
		(void)ipcs_answer_refusal(req, PS_E_STALE, 0, d->rv,
		    "deployment \"%s\" has changed: its resourceVersion is "
		    "no longer \"%s\"",
		    w->name, w->if_match);
		return 1;
	}
	return 0;
}

/* A dry run of a pin change: what the store would answer, nothing
 * changed; audited as a dry run. */
static void
pin_dry_run(struct serve *s, struct ipcs_req *req,
    const struct ps_write_req *w, int del)
{
	struct pins_result res;
	struct cache_deploy d;
	struct ps_pin m;

	pins_try(s->d.pins, w->name, del, w->replicas, &res);
	pins_audit(del ? "unpin" : "pin", w->identity, (long)ipcs_req_uid(req),
	    w->name, res.had, res.old, !del, w->replicas,
	    res.code == 0 ? "dry_run" : ps_code_name(res.code));
	if (res.code != 0) {
		(void)ipcs_answer_error(
		    req, res.code, res.retry_after, "%s", res.message);
		return;
	}
	memset(&m, 0, sizeof(m));
	memcpy(m.name, w->name, sizeof(m.name));
	m.replicas = res.replicas;
	m.dry_run = 1;
	if (!del && cache_get(s->d.cache, w->name, &d) == 0)
		m.state = pin_state(s, &d);
	(void)ipcs_answer_pin(req, &m);
}

/*
 * PIN_PUT: only for a Deployment the cache knows (a typo should not
 * create a pin that waits forever for a Deployment of that name), so only
 * once the cache is synced.  The pin then applies to the Deployment of
 * that name until it is removed, also across a delete and re-create.
 * The store may answer later (a ConfigMap is written through the API).
 */
static void
handle_pin_put(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	const struct ps_write_req *w = ipcs_req_write(req);
	struct cache_deploy d;

	if (write_refused(req, w, "pin") || !pins_ready(s, req))
		return;
	if (s->d.self != NULL && strcmp(w->name, s->d.self) == 0) {
		pins_audit("pin", w->identity, (long)ipcs_req_uid(req), w->name,
		    0, 0, 1, w->replicas, "refused");
		(void)ipcs_answer_error(req, PS_E_INVALID, 0,
		    "\"%s\" is replicad's own Deployment: replicad does not "
		    "pin itself",
		    w->name);
		return;
	}
	if (w->flags & PS_W_SUSPEND) {
		(void)ipcs_answer_error(req, PS_E_UNSUPPORTED, 0,
		    "a suspended pin is not stored yet: annotate the "
		    "Deployment with replicad.io/pin-suspended: \"true\"");
		return;
	}
	if (!synced(s)) {
		answer_not_synced(req);
		return;
	}
	if (cache_get(s->d.cache, w->name, &d) == -1) {
		pins_audit("pin", w->identity, (long)ipcs_req_uid(req), w->name,
		    0, 0, 1, w->replicas, "not_found");
		(void)ipcs_answer_error(req, PS_E_NOT_FOUND, 0,
		    "deployment \"%s\" not found in namespace \"%s\"", w->name,
		    s->namespace);
		return;
	}
	if (pin_put_refused(req, w, &d))
		return;
	if (w->flags & PS_W_DRY_RUN) {
		pin_dry_run(s, req, w, 0);
		return;
	}
	pin_change(s, req, w, 0, pin_state(s, &d));
}

static void
handle_pin_delete(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	const struct ps_write_req *w = ipcs_req_write(req);

	if (write_refused(req, w, "unpin") || !pins_ready(s, req))
		return;
	if (w->flags & PS_W_DRY_RUN) {
		pin_dry_run(s, req, w, 1);
		return;
	}
	pin_change(s, req, w, 1, PS_PIN_ACTIVE);
}

/* evbuffer_add_printf for a series; remembers the first failure. */
static void __attribute__((format(printf, 3, 4)))
metric(struct evbuffer *b, int *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (evbuffer_add_vprintf(b, fmt, ap) < 0)
		*err = 1;
	va_end(ap);
}

struct api_stats_arg {
	struct evbuffer *b;
	int *err;
};

static void
api_stat_cb(void *arg, enum kc_verb verb, long status, unsigned long long count)
{
	struct api_stats_arg *a = arg;

	metric(a->b, a->err,
	    "replicad_core_api_requests_total{verb=\"%s\",code=\"%ld\"} "
	    "%llu\n",
	    kc_verb_name(verb), status, count);
}

static int
metrics_next(void *arg, char *buf, size_t cap)
{
	int n = evbuffer_remove(arg, buf, cap);

	return n < 0 ? -1 : n;
}

static void
metrics_done(void *arg)
{
	evbuffer_free(arg);
}

static void
handle_metrics(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	struct evbuffer *b;
	struct refl_status rs;
	struct scale_stats ss;
	struct ps_health h;
	struct api_stats_arg a;
	int err = 0;

	if ((b = evbuffer_new()) == NULL) {
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 1, "out of memory");
		return;
	}
	refl_get_status(s->d.refl, &rs);
	scale_get_stats(s->d.scale, &ss);
	health_snapshot(s->d.health, &h);
	metric(b, &err,
	    "# HELP replicad_core_build_info Build information.\n"
	    "# TYPE replicad_core_build_info gauge\n"
	    "replicad_core_build_info{version=\"%s\",protocol=\"%d\"} 1\n",
	    s->d.version, PS_VERSION);
	metric(b, &err,
	    "# HELP replicad_core_api_requests_total Kubernetes API requests "
	    "by verb and HTTP status (0: no answer).\n"
	    "# TYPE replicad_core_api_requests_total counter\n");
	a.b = b;
	a.err = &err;
	kc_stats(s->d.kc, api_stat_cb, &a);
	metric(b, &err,
	    "# HELP replicad_core_cache_deployments Deployments in the "
	    "cache.\n"
	    "# TYPE replicad_core_cache_deployments gauge\n"
	    "replicad_core_cache_deployments %zu\n"
	    "# HELP replicad_core_cache_synced 1 once a complete list was "
	    "applied.\n"
	    "# TYPE replicad_core_cache_synced gauge\n"
	    "replicad_core_cache_synced %d\n"
	    "# HELP replicad_core_watch_connected 1 while a watch is open.\n"
	    "# TYPE replicad_core_watch_connected gauge\n"
	    "replicad_core_watch_connected %d\n"
	    "# HELP replicad_core_api_reachable 1 when a recent API probe "
	    "succeeded.\n"
	    "# TYPE replicad_core_api_reachable gauge\n"
	    "replicad_core_api_reachable %d\n",
	    cache_size(s->d.cache), rs.synced, rs.lw.watching,
	    (h.state & PS_HEALTH_API_OK) != 0);
	metric(b, &err,
	    "# HELP replicad_core_lists_total Completed lists (relists "
	    "included).\n"
	    "# TYPE replicad_core_lists_total counter\n"
	    "replicad_core_lists_total %llu\n"
	    "# HELP replicad_core_list_failures_total Lists that failed.\n"
	    "# TYPE replicad_core_list_failures_total counter\n"
	    "replicad_core_list_failures_total %llu\n"
	    "# HELP replicad_core_watch_restarts_total Watches resumed after "
	    "they ended.\n"
	    "# TYPE replicad_core_watch_restarts_total counter\n"
	    "replicad_core_watch_restarts_total %llu\n"
	    "# HELP replicad_core_watch_expired_total 410 Expired answers.\n"
	    "# TYPE replicad_core_watch_expired_total counter\n"
	    "replicad_core_watch_expired_total %llu\n"
	    "# HELP replicad_core_events_applied_total Watch events applied "
	    "to the cache.\n"
	    "# TYPE replicad_core_events_applied_total counter\n"
	    "replicad_core_events_applied_total %llu\n"
	    "# HELP replicad_core_bookmarks_total Watch bookmarks seen.\n"
	    "# TYPE replicad_core_bookmarks_total counter\n"
	    "replicad_core_bookmarks_total %llu\n",
	    (unsigned long long)rs.lw.lists,
	    (unsigned long long)rs.lw.list_failures,
	    (unsigned long long)rs.lw.watch_restarts,
	    (unsigned long long)rs.lw.expired, (unsigned long long)rs.lw.events,
	    (unsigned long long)rs.lw.bookmarks);
	metric(b, &err,
	    "# HELP replicad_core_writes_total Scale writes by outcome.\n"
	    "# TYPE replicad_core_writes_total counter\n"
	    "replicad_core_writes_total{outcome=\"ok_synced\"} %llu\n"
	    "replicad_core_writes_total{outcome=\"ok_unsynced\"} %llu\n"
	    "replicad_core_writes_total{outcome=\"failed\"} %llu\n",
	    (unsigned long long)ss.ok_synced,
	    (unsigned long long)ss.ok_unsynced, (unsigned long long)ss.failed);
	if (s->d.pins != NULL) {
		struct pins_stats ps;
		struct recon_stats rcs;

		pins_get_stats(s->d.pins, &ps);
		recon_get_stats(s->d.recon, &rcs);
		metric(b, &err,
		    "# HELP replicad_core_pins Pinned deployments.\n"
		    "# TYPE replicad_core_pins gauge\n"
		    "replicad_core_pins %zu\n"
		    "# HELP replicad_core_pin_store_failures_total Pin changes "
		    "that failed because the store could not be read or "
		    "written.\n"
		    "# TYPE replicad_core_pin_store_failures_total counter\n"
		    "replicad_core_pin_store_failures_total %llu\n"
		    "# HELP replicad_core_reconcile_writes_total Writes that "
		    "scaled a deployment back to its pin, by outcome.\n"
		    "# TYPE replicad_core_reconcile_writes_total counter\n"
		    "replicad_core_reconcile_writes_total{outcome=\"ok\"} "
		    "%llu\n"
		    "replicad_core_reconcile_writes_total{outcome=\"failed\"} "
		    "%llu\n"
		    "# HELP replicad_core_reconcile_pending Pinned deployments "
		    "waiting for or in a write back to their pin.\n"
		    "# TYPE replicad_core_reconcile_pending gauge\n"
		    "replicad_core_reconcile_pending %llu\n",
		    pins_count(s->d.pins),
		    (unsigned long long)ps.store_failures,
		    (unsigned long long)rcs.writes_ok,
		    (unsigned long long)rcs.writes_failed,
		    (unsigned long long)rcs.pending);
		/* The store's state; the ConfigMap counters stay 0 with a
		 * file. */
		metric(b, &err,
		    "# HELP replicad_core_pins_loaded 1 once the pins have "
		    "been read from their store.\n"
		    "# TYPE replicad_core_pins_loaded gauge\n"
		    "replicad_core_pins_loaded %d\n"
		    "# HELP replicad_core_pin_store_invalid 1 while the "
		    "ConfigMap holds a document that does not parse (the last "
		    "good pins are kept).\n"
		    "# TYPE replicad_core_pin_store_invalid gauge\n"
		    "replicad_core_pin_store_invalid %d\n"
		    "# HELP replicad_core_pin_store_conflicts_total ConfigMap "
		    "writes that conflicted with another writer (re-read and "
		    "retried).\n"
		    "# TYPE replicad_core_pin_store_conflicts_total counter\n"
		    "replicad_core_pin_store_conflicts_total %llu\n"
		    "# HELP replicad_core_pin_store_invalid_documents_total "
		    "ConfigMap states seen whose document did not parse.\n"
		    "# TYPE replicad_core_pin_store_invalid_documents_total "
		    "counter\n"
		    "replicad_core_pin_store_invalid_documents_total %llu\n",
		    ps.loaded, ps.invalid, (unsigned long long)ps.conflicts,
		    (unsigned long long)ps.invalid_documents);
	}
	/* Leader election (lease.c); without it: always leader. */
	if (lease_stats_prometheus(s->d.lease, b) != 0)
		err = 1;
	if (s->d.events != NULL && evrec_stats_prometheus(s->d.events, b) != 0)
		err = 1;
	if (err || ipcs_stats_prometheus(s->d.srv, b) != 0) {
		evbuffer_free(b);
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 1, "out of memory");
		return;
	}
	(void)ipcs_answer_text(req, metrics_next, metrics_done, b);
}

struct serve *
serve_new(const struct serve_deps *deps)
{
	/*
	 * Everything the core accepts from its socket: one row per request
	 * type, its handler.  The wire facts of each type (body shape and
	 * limit, who may send it, in which connection state) are
	 * proto-socket's table (ps.c) and the server's (ipc_conn.c); the
	 * gateway's typed call for each is named after its handler
	 * (gateway/ipc_client.h: ipcc_scale for handle_scale).
	 */
	static const struct {
		uint16_t type;
		ipcs_handler_cb cb;
	} table[] = {
	    {PS_T_LIST, handle_list},
	    {PS_T_GET, handle_get},
	    {PS_T_SCALE, handle_scale},
	    {PS_T_HEALTH, handle_health},
	    {PS_T_METRICS, handle_metrics},
	    {PS_T_PIN_LIST, handle_pin_list},
	    {PS_T_PIN_GET, handle_pin_get},
	    {PS_T_PIN_PUT, handle_pin_put},
	    {PS_T_PIN_DELETE, handle_pin_delete},
	};
	struct serve *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->d = *deps;
	snprintf(s->namespace, sizeof(s->namespace), "%s", deps->namespace);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (ipcs_set_handler(
		        deps->srv, table[i].type, table[i].cb, s) != 0) {
			free(s);
			return NULL;
		}
	return s;
}

void
serve_free(struct serve *s)
{
	free(s);
}
