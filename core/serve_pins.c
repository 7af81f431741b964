/*
 * serve_pins.c — the PIN_LIST, PIN_GET, PIN_PUT and PIN_DELETE handlers,
 * and the pin state every answer that shows a pin reports (serve_pin_state,
 * also for GET and METRICS).  Their rows are in serve.c's table; the
 * checks every write shares (the namespace served, a reserved identity,
 * an HPA) are serve.c's too, through serve_int.h.
 *
 * The store (pins.h, a file or a ConfigMap) keeps the pins and audits
 * each change; here a change is checked against the cache first (the
 * Deployment exists, its bounds, expectedReplicas, If-Match), handed to
 * the store, and answered when the store answers, which may be later.
 * A pin does not write the Deployment: the reconciler (reconcile.c)
 * hears of the change from the store and does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_limits.h"
#include "core/ipc/ipc_server.h"
#include "core/kube/annotations.h"
#include "core/kube/cache.h"
#include "core/kube/event_rec.h"
#include "core/kube/hpa_watch.h"
#include "core/ns_units.h"
#include "core/pins/pins.h"
#include "core/serve_int.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

/* What the Deployment itself says about reconciling its pin: an
 * annotation, or an HPA targeting it. */
static uint8_t
deploy_pin_state(const struct nsu_unit *u, const struct cache_deploy *d)
{
	char hpa[PS_MAX_NAME + 1];

	if (d->annot.pin_suspended)
		return PS_PIN_ANNOTATED;
	if (u->hpa != NULL &&
	    hpa_watch_lookup(u->hpa, d->name, hpa) == HPA_WATCH_FOUND)
		return PS_PIN_AUTOSCALED;
	return PS_PIN_ACTIVE;
}

uint8_t
serve_pin_state(const struct serve *s, const struct nsu_unit *u,
    const struct cache_deploy *d)
{
	struct pins *p = serve_unit_pins(s, u);

	if (p != NULL && pins_suspended(p, u->namespace, d->name))
		return PS_PIN_SUSPENDED;
	return deploy_pin_state(u, d);
}

/* The state a PIN_PUT leaves: its own suspended flag replaces the
 * stored one. */
static uint8_t
put_pin_state(const struct nsu_unit *u, const struct ps_write_req *w,
    const struct cache_deploy *d)
{
	return (w->flags & PS_W_SUSPEND) ? PS_PIN_SUSPENDED
	                                 : deploy_pin_state(u, d);
}

/* Pins enabled (--pin-file or --pin-configmap) and loaded, else
 * answered. */
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

/* A PIN_LIST answer being streamed: namespace by namespace (sorted),
 * the pins the store keeps for each. */
static int
pin_list_next(void *arg, struct ps_pin *pin)
{
	struct serve_cursor *cur = arg;
	struct cache_deploy d;
	struct pins *p;

	for (;;) {
		if (cur->unit == NULL) {
			if (cur->next_unit >= cur->end_unit)
				return 0;
			cur->unit =
			    nsu_sorted(cur->s->d.units, cur->next_unit++);
			cur->last[0] = '\0';
		}
		if ((p = serve_unit_pins(cur->s, cur->unit)) != NULL &&
		    pins_next(p, cur->unit->namespace, cur->unit->namespace,
		        cur->last, pin))
			break;
		cur->unit = NULL;
	}
	memcpy(cur->last, pin->name, sizeof(cur->last));
	memcpy(pin->namespace, cur->unit->namespace, sizeof(pin->namespace));
	if (cache_get(cur->unit->cache, pin->name, &d) == 0)
		pin->state = serve_pin_state(cur->s, cur->unit, &d);
	return 1;
}

void
serve_pin_list(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	const struct ps_ns_req *nr = ipcs_req_ns(req);
	struct serve_cursor *cur;

	if (nr->namespace[0] != '\0' &&
	    serve_unit_of(s, req, nr->namespace) == NULL)
		return;
	if (!pins_ready(s, req))
		return;
	if ((cur = serve_cursor_new(s, req, nr->namespace)) == NULL)
		return;
	(void)ipcs_answer_pins(req, pin_list_next, free, cur);
}

void
serve_pin_get(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	const struct ps_name_req *nr = ipcs_req_name(req);
	struct nsu_unit *u;
	struct cache_deploy d;
	struct ps_pin m;

	if ((u = serve_unit_of(s, req, nr->namespace)) == NULL ||
	    !pins_ready(s, req))
		return;
	memset(&m, 0, sizeof(m));
	if (pins_get(serve_unit_pins(s, u), u->namespace, nr->name,
	        &m.replicas) != 0) {
		(void)ipcs_answer_error(req, PS_E_NOT_FOUND, 0,
		    "deployment \"%s\" has no pin in namespace \"%s\"",
		    nr->name, u->namespace);
		return;
	}
	memcpy(m.namespace, u->namespace, sizeof(m.namespace));
	memcpy(m.name, nr->name, sizeof(m.name));
	if (cache_get(u->cache, nr->name, &d) == 0)
		m.state = serve_pin_state(s, u, &d);
	else if (pins_suspended(serve_unit_pins(s, u), u->namespace, nr->name))
		m.state = PS_PIN_SUSPENDED;
	(void)ipcs_answer_pin(req, &m);
}

/* A PIN_PUT / PIN_DELETE waiting for its store: the request, the change,
 * and the pin's state to answer with (it does not depend on the change). */
struct pin_call {
	struct serve *s;
	struct nsu_unit *u;
	struct ipcs_req *req;
	struct pins_op *op;
	uint8_t state;
	int del;
};

/* The Normal Event of a pin set, changed or removed by a client. */
static void
pin_event(struct serve *s, struct nsu_unit *u, const struct ps_write_req *w,
    int del, const struct pins_result *res)
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
	obj.namespace = u->namespace;
	if (cache_get(u->cache, res->name, &d) == 0) {
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
		pin_event(pc->s, pc->u, ipcs_req_write(req), pc->del, res);
	free(pc);
	if (res->code != 0) {
		(void)ipcs_answer_error(
		    req, res->code, res->retry_after, "%s", res->message);
		return;
	}
	memcpy(
	    m.namespace, ipcs_req_write(req)->namespace, sizeof(m.namespace));
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
pin_change(struct serve *s, struct nsu_unit *u, struct ipcs_req *req,
    const struct ps_write_req *w, int del, uint8_t state)
{
	struct pins *p = serve_unit_pins(s, u);
	struct pin_call *pc;
	struct pins_op *op;

	if ((pc = calloc(1, sizeof(*pc))) == NULL) {
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 1, "out of memory");
		return;
	}
	pc->s = s;
	pc->u = u;
	pc->req = req;
	pc->state = state;
	pc->del = del;
	op = del ? pins_delete(p, u->namespace, w->name, w->identity,
	               (long)ipcs_req_uid(req), pin_done, pc)
	         : pins_put(p, u->namespace, w->name, w->replicas,
	               (w->flags & PS_W_SUSPEND) != 0, w->identity,
	               (long)ipcs_req_uid(req), pin_done, pc);
	if (op != NULL) {
		pc->op = op;
		ipcs_req_set_cancel(req, pin_cancel, pc);
	}
}

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
		pins_audit("pin", w->identity, uid, w->namespace, w->name, 0, 0,
		    1, w->replicas, "out_of_bounds");
		(void)ipcs_answer_error(req, PS_E_OUT_OF_BOUNDS, 0, "%s", why);
		return 1;
	}
	if ((w->flags & PS_W_EXPECTED) && (uint32_t)d->desired != w->expected) {
		pins_audit("pin", w->identity, uid, w->namespace, w->name, 0, 0,
		    1, w->replicas, "precondition_failed");
		(void)ipcs_answer_refusal(req, PS_E_EXPECTED,
		    (uint32_t)d->desired, NULL,
		    "deployment \"%s\" has %d replicas, not the %u expected",
		    w->name, d->desired, w->expected);
		return 1;
	}
	if (w->if_match[0] != '\0' && strcmp(w->if_match, d->rv) != 0) {
		pins_audit("pin", w->identity, uid, w->namespace, w->name, 0, 0,
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
pin_dry_run(struct serve *s, struct nsu_unit *u, struct ipcs_req *req,
    const struct ps_write_req *w, int del)
{
	struct pins_result res;
	struct cache_deploy d;
	struct ps_pin m;

	pins_try(serve_unit_pins(s, u), u->namespace, w->name, del, w->replicas,
	    (w->flags & PS_W_SUSPEND) != 0, &res);
	pins_audit(del ? "unpin" : "pin", w->identity, (long)ipcs_req_uid(req),
	    w->namespace, w->name, res.had, res.old, !del, w->replicas,
	    res.code == 0 ? "dry_run" : ps_code_name(res.code));
	if (res.code != 0) {
		(void)ipcs_answer_error(
		    req, res.code, res.retry_after, "%s", res.message);
		return;
	}
	memset(&m, 0, sizeof(m));
	memcpy(m.namespace, u->namespace, sizeof(m.namespace));
	memcpy(m.name, w->name, sizeof(m.name));
	m.replicas = res.replicas;
	m.dry_run = 1;
	if (!del && cache_get(u->cache, w->name, &d) == 0)
		m.state = put_pin_state(u, w, &d);
	(void)ipcs_answer_pin(req, &m);
}

/*
 * PIN_PUT: only for a Deployment the cache knows (a typo should not
 * create a pin that waits forever for a Deployment of that name), so only
 * once the cache is synced.  The pin then applies to the Deployment of
 * that name until it is removed, also across a delete and re-create.
 * The store may answer later (a ConfigMap is written through the API).
 */
void
serve_pin_put(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	const struct ps_write_req *w = ipcs_req_write(req);
	struct nsu_unit *u;
	struct cache_deploy d;

	if ((u = serve_unit_of(s, req, w->namespace)) == NULL ||
	    serve_write_refused(req, w, "pin") || !pins_ready(s, req))
		return;
	/* replicad's own Deployment is in its home namespace. */
	if (u->home && s->d.self != NULL && strcmp(w->name, s->d.self) == 0) {
		pins_audit("pin", w->identity, (long)ipcs_req_uid(req),
		    w->namespace, w->name, 0, 0, 1, w->replicas, "refused");
		(void)ipcs_answer_error(req, PS_E_INVALID, 0,
		    "\"%s\" is replicad's own Deployment: replicad does not "
		    "pin itself",
		    w->name);
		return;
	}
	if (!serve_unit_synced(u)) {
		serve_not_synced(req, u);
		return;
	}
	if (cache_get(u->cache, w->name, &d) == -1) {
		pins_audit("pin", w->identity, (long)ipcs_req_uid(req),
		    w->namespace, w->name, 0, 0, 1, w->replicas, "not_found");
		(void)ipcs_answer_error(req, PS_E_NOT_FOUND, 0,
		    "deployment \"%s\" not found in namespace \"%s\"", w->name,
		    u->namespace);
		return;
	}
	if (pin_put_refused(req, w, &d) ||
	    serve_autoscaled_refused(u, req, w, "pin"))
		return;
	if (w->flags & PS_W_DRY_RUN) {
		pin_dry_run(s, u, req, w, 0);
		return;
	}
	pin_change(s, u, req, w, 0, put_pin_state(u, w, &d));
}

void
serve_pin_delete(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	const struct ps_write_req *w = ipcs_req_write(req);
	struct nsu_unit *u;

	if ((u = serve_unit_of(s, req, w->namespace)) == NULL ||
	    serve_write_refused(req, w, "unpin") || !pins_ready(s, req))
		return;
	if (w->flags & PS_W_DRY_RUN) {
		pin_dry_run(s, u, req, w, 1);
		return;
	}
	pin_change(s, u, req, w, 1, PS_PIN_ACTIVE);
}
