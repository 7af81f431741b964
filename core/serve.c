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
#include "core/kube/hpa_watch.h"
#include "core/ipc/ipc_server.h"
#include "core/kube/kclient.h"
#include "core/kube/lease.h"
#include "core/log.h"
#include "core/pins/pins.h"
#include "core/pins/reconcile.h"
#include "core/kube/reflector.h"
#include "core/kube/scale.h"
#include "core/serve.h"
#include "core/serve_int.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

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
list_next(
    void *arg, char namespace[PS_MAX_NAMESPACE + 1], char name[PS_MAX_NAME + 1])
{
	struct list_cursor *cur = arg;

	if (!cache_next_name(cur->s->d.cache, cur->last, name))
		return 0;
	memcpy(namespace, cur->s->namespace, PS_MAX_NAMESPACE + 1);
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

/* What the Deployment itself says about reconciling its pin: an
 * annotation, or an HPA targeting it. */
static uint8_t
deploy_pin_state(const struct serve *s, const struct cache_deploy *d)
{
	char hpa[PS_MAX_NAME + 1];

	if (d->annot.pin_suspended)
		return PS_PIN_ANNOTATED;
	if (s->d.hpa != NULL &&
	    hpa_watch_lookup(s->d.hpa, d->name, hpa) == HPA_WATCH_FOUND)
		return PS_PIN_AUTOSCALED;
	return PS_PIN_ACTIVE;
}

uint8_t
serve_pin_state(const struct serve *s, const struct cache_deploy *d)
{
	if (s->d.pins != NULL &&
	    pins_suspended(s->d.pins, s->namespace, d->name))
		return PS_PIN_SUSPENDED;
	return deploy_pin_state(s, d);
}

/* The state a PIN_PUT leaves: its own suspended flag replaces the
 * stored one. */
static uint8_t
put_pin_state(const struct serve *s, const struct ps_write_req *w,
    const struct cache_deploy *d)
{
	return (w->flags & PS_W_SUSPEND) ? PS_PIN_SUSPENDED
	                                 : deploy_pin_state(s, d);
}

/*
 * A client write to a Deployment an HPA targets is refused (AUTOSCALED,
 * naming the HPA) unless it says force: the two would fight.  Before the
 * HPAs were first listed the answer is "retry soon", as before the cache
 * is synced; an HPA watch the API refuses (403/404) cannot tell, and the
 * write goes ahead (the watch's log and metrics say why).  1 after
 * answering.
 */
static int
autoscaled_refused(struct serve *s, struct ipcs_req *req,
    const struct ps_write_req *w, const char *what)
{
	struct hpa_watch_status st;
	char hpa[PS_MAX_NAME + 1];

	if (s->d.hpa == NULL || (w->flags & PS_W_FORCE))
		return 0;
	switch (hpa_watch_lookup(s->d.hpa, w->name, hpa)) {
	case HPA_WATCH_NONE:
		return 0;
	case HPA_WATCH_FOUND:
		log_kv(LOG_LEVEL_INFO, 0,
		    (struct log_kv[]){LOG_S("audit", what),
		        LOG_S("identity", w->identity),
		        LOG_I("peer_uid", (long)ipcs_req_uid(req)),
		        LOG_S("deployment", w->name),
		        LOG_S("outcome", "autoscaled"), LOG_S("hpa", hpa)},
		    6, "%s %s refused: HorizontalPodAutoscaler %s targets it",
		    what, w->name, hpa);
		(void)ipcs_answer_refusal(req, PS_E_AUTOSCALED, 0, hpa,
		    "deployment \"%s\" is scaled by HorizontalPodAutoscaler "
		    "\"%s\": change the autoscaler, or say force",
		    w->name, hpa);
		return 1;
	case HPA_WATCH_UNKNOWN:
		break;
	}
	hpa_watch_get_status(s->d.hpa, &st);
	if (st.state != HPA_WATCH_STARTING)
		return 0;
	(void)ipcs_answer_error(req, PS_E_UNAVAILABLE, CORE_RETRY_NOT_SYNCED,
	    "HorizontalPodAutoscalers not listed yet: cannot tell whether "
	    "one targets \"%s\"",
	    w->name);
	return 1;
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
	    pins_get(s->d.pins, s->namespace, d.name, &m.pin_replicas) == 0) {
		m.pinned = 1;
		m.pin_state = serve_pin_state(s, &d);
	}
	m.bounds = d.annot.bounds;
	m.min_replicas = d.annot.min_replicas;
	m.max_replicas = d.annot.max_replicas;
	if (s->d.hpa != NULL &&
	    hpa_watch_lookup(s->d.hpa, d.name, m.autoscaler) != HPA_WATCH_FOUND)
		m.autoscaler[0] = '\0';
	(void)ipcs_answer_deployment(req, &m);
}

static void
scale_done(void *arg, const struct scale_result *res)
{
	struct ipcs_req *req = arg;
	struct ps_scale_ok ok;

	if (res->code == PS_E_EXPECTED || res->code == PS_E_STALE) {
		(void)ipcs_answer_refusal(
		    req, res->code, res->current, res->ref, "%s", res->message);
		return;
	}
	if (res->code != 0) {
		(void)ipcs_answer_error(
		    req, res->code, res->retry_after, "%s", res->message);
		return;
	}
	memset(&ok, 0, sizeof(ok));
	ok.dry_run = res->dry_run;
	memcpy(
	    ok.namespace, ipcs_req_write(req)->namespace, sizeof(ok.namespace));
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
	if (autoscaled_refused(s, req, w, "scale"))
		return;
	/* The reconciler would undo it at once: say so instead. */
	if (s->d.pins != NULL &&
	    pins_get(s->d.pins, s->namespace, w->name, &pin) == 0 &&
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

	if (!pins_next(cur->s->d.pins, cur->s->namespace, cur->s->namespace,
	        cur->last, pin))
		return 0;
	memcpy(cur->last, pin->name, sizeof(cur->last));
	if (cache_get(cur->s->d.cache, pin->name, &d) == 0)
		pin->state = serve_pin_state(cur->s, &d);
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
	if (pins_get(s->d.pins, s->namespace, nr->name, &m.replicas) != 0) {
		(void)ipcs_answer_error(req, PS_E_NOT_FOUND, 0,
		    "deployment \"%s\" has no pin in namespace \"%s\"",
		    nr->name, s->namespace);
		return;
	}
	memcpy(m.namespace, s->namespace, sizeof(m.namespace));
	memcpy(m.name, nr->name, sizeof(m.name));
	if (cache_get(s->d.cache, nr->name, &d) == 0)
		m.state = serve_pin_state(s, &d);
	else if (pins_suspended(s->d.pins, s->namespace, nr->name))
		m.state = PS_PIN_SUSPENDED;
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

	if (s->d.events == NULL ||
	    (!del && res->had && res->old == res->replicas))
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
		snprintf(note, sizeof(note),
		    "pin of %u removed by %s (replicad)", res->replicas,
		    w->identity);
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
	memcpy(m.namespace, res->namespace, sizeof(m.namespace));
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
pin_change(struct serve *s, struct ipcs_req *req, const struct ps_write_req *w,
    int del, uint8_t state)
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
	op = del ? pins_delete(s->d.pins, s->namespace, w->name, w->identity,
	               (long)ipcs_req_uid(req), pin_done, pc)
	         : pins_put(s->d.pins, s->namespace, w->name, w->replicas,
	               (w->flags & PS_W_SUSPEND) != 0, w->identity,
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
pin_put_refused(const struct serve *s, struct ipcs_req *req,
    const struct ps_write_req *w, const struct cache_deploy *d)
{
	char why[PS_MAX_MESSAGE + 1];
	long uid = (long)ipcs_req_uid(req);

	if (annot_check(&d->annot, w->name, w->replicas, why, sizeof(why)) !=
	    0) {
		pins_audit("pin", w->identity, uid, s->namespace, w->name, 0, 0,
		    1, w->replicas, "out_of_bounds");
		(void)ipcs_answer_error(req, PS_E_OUT_OF_BOUNDS, 0, "%s", why);
		return 1;
	}
	if ((w->flags & PS_W_EXPECTED) && (uint32_t)d->desired != w->expected) {
		pins_audit("pin", w->identity, uid, s->namespace, w->name, 0, 0,
		    1, w->replicas, "precondition_failed");
		(void)ipcs_answer_refusal(req, PS_E_EXPECTED,
		    (uint32_t)d->desired, NULL,
		    "deployment \"%s\" has %d replicas, not the %u expected",
		    w->name, d->desired, w->expected);
		return 1;
	}
	if (w->if_match[0] != '\0' && strcmp(w->if_match, d->rv) != 0) {
		pins_audit("pin", w->identity, uid, s->namespace, w->name, 0, 0,
		    1, w->replicas, "precondition_failed");
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
pin_dry_run(struct serve *s, struct ipcs_req *req, const struct ps_write_req *w,
    int del)
{
	struct pins_result res;
	struct cache_deploy d;
	struct ps_pin m;

	pins_try(s->d.pins, s->namespace, w->name, del, w->replicas,
	    (w->flags & PS_W_SUSPEND) != 0, &res);
	pins_audit(del ? "unpin" : "pin", w->identity, (long)ipcs_req_uid(req),
	    s->namespace, w->name, res.had, res.old, !del, w->replicas,
	    res.code == 0 ? "dry_run" : ps_code_name(res.code));
	if (res.code != 0) {
		(void)ipcs_answer_error(
		    req, res.code, res.retry_after, "%s", res.message);
		return;
	}
	memset(&m, 0, sizeof(m));
	memcpy(m.namespace, s->namespace, sizeof(m.namespace));
	memcpy(m.name, w->name, sizeof(m.name));
	m.replicas = res.replicas;
	m.dry_run = 1;
	if (!del && cache_get(s->d.cache, w->name, &d) == 0)
		m.state = put_pin_state(s, w, &d);
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
		pins_audit("pin", w->identity, (long)ipcs_req_uid(req),
		    s->namespace, w->name, 0, 0, 1, w->replicas, "refused");
		(void)ipcs_answer_error(req, PS_E_INVALID, 0,
		    "\"%s\" is replicad's own Deployment: replicad does not "
		    "pin itself",
		    w->name);
		return;
	}
	if (!synced(s)) {
		answer_not_synced(req);
		return;
	}
	if (cache_get(s->d.cache, w->name, &d) == -1) {
		pins_audit("pin", w->identity, (long)ipcs_req_uid(req),
		    s->namespace, w->name, 0, 0, 1, w->replicas, "not_found");
		(void)ipcs_answer_error(req, PS_E_NOT_FOUND, 0,
		    "deployment \"%s\" not found in namespace \"%s\"", w->name,
		    s->namespace);
		return;
	}
	if (pin_put_refused(s, req, w, &d) ||
	    autoscaled_refused(s, req, w, "pin"))
		return;
	if (w->flags & PS_W_DRY_RUN) {
		pin_dry_run(s, req, w, 0);
		return;
	}
	pin_change(s, req, w, 0, put_pin_state(s, w, &d));
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
	    {PS_T_METRICS, serve_metrics},
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
