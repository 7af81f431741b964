/*
 * serve.c — request handlers: the narrow menu the gateway may ask for.
 * Here: the table, one row per request type, and the handlers of the
 * Deployments themselves (LIST, GET, SCALE) with the checks every write
 * shares; the PIN_* handlers are serve_pins.c's, HEALTH serve_health.c's
 * and METRICS serve_metrics.c's (serve_int.h is what they share).
 *
 * Every request's namespace is checked again against the set served
 * (ns_units.h) and the request goes to that namespace's unit: its cache,
 * write path, HPA watch.  A namespace outside the set is NOT_FOUND,
 * naming the set.
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

#include "core/kube/cache.h"
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
#include "core/ns_units.h"
#include "core/serve.h"
#include "core/serve_int.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

int
serve_unit_synced(const struct nsu_unit *u)
{
	struct refl_status st;

	refl_get_status(u->refl, &st);
	return st.synced;
}

/* `u` NULL: none of the namespaces served. */
void
serve_not_synced(struct ipcs_req *req, const struct nsu_unit *u)
{
	if (u == NULL)
		(void)ipcs_answer_error(req, PS_E_UNAVAILABLE,
		    CORE_RETRY_NOT_SYNCED,
		    "cache not synced: no namespace's first list from the "
		    "Kubernetes API has completed");
	else
		(void)ipcs_answer_error(req, PS_E_UNAVAILABLE,
		    CORE_RETRY_NOT_SYNCED,
		    "cache not synced: the first list of namespace \"%s\" "
		    "from the Kubernetes API has not completed",
		    u->namespace);
}

/*
 * The unit of a request's namespace, re-checked here whatever the
 * gateway did; NULL after answering NOT_FOUND with the set served.
 */
struct nsu_unit *
serve_unit_of(struct serve *s, struct ipcs_req *req, const char *ns)
{
	struct nsu_unit *u = nsu_find(s->d.units, ns);

	if (u == NULL)
		(void)ipcs_answer_error(req, PS_E_NOT_FOUND, 0,
		    "namespace \"%s\" is not served by this replicad "
		    "(namespaces: %s)",
		    ns, nsu_names(s->d.units));
	return u;
}

/* The pins store (it serves every namespace served); NULL without
 * pins. */
struct pins *
serve_unit_pins(const struct serve *s, const struct nsu_unit *u)
{
	(void)u;
	return s->d.pins;
}

/* The cursor over `ns` ("" = every namespace served); NULL after
 * answering (not served, out of memory). */
struct serve_cursor *
serve_cursor_new(struct serve *s, struct ipcs_req *req, const char *ns)
{
	struct serve_cursor *cur;
	struct nsu_unit *u = NULL;

	if (ns[0] != '\0' && (u = serve_unit_of(s, req, ns)) == NULL)
		return NULL;
	if ((cur = calloc(1, sizeof(*cur))) == NULL) {
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 1, "out of memory");
		return NULL;
	}
	cur->s = s;
	cur->end_unit = nsu_count(s->d.units);
	if (u != NULL) {
		while (nsu_sorted(s->d.units, cur->next_unit) != u)
			cur->next_unit++;
		cur->end_unit = cur->next_unit + 1;
	}
	return cur;
}

/* Moves to the next namespace to list; 0 when there is none.  Over
 * every namespace, one whose cache is not synced is left out (its
 * trouble shows in HEALTH) rather than hiding the others. */
static int
cursor_next_unit(struct serve_cursor *cur)
{
	while (cur->next_unit < cur->end_unit) {
		cur->unit = nsu_sorted(cur->s->d.units, cur->next_unit++);
		cur->last[0] = '\0';
		if (serve_unit_synced(cur->unit))
			return 1;
	}
	cur->unit = NULL;
	return 0;
}

static int
list_next(void *arg, char ns[PS_MAX_NAMESPACE + 1], char name[PS_MAX_NAME + 1])
{
	struct serve_cursor *cur = arg;

	for (;;) {
		if (cur->unit == NULL && !cursor_next_unit(cur))
			return 0;
		if (cache_next_name(cur->unit->cache, cur->last, name))
			break;
		cur->unit = NULL;
	}
	memcpy(cur->last, name, sizeof(cur->last));
	memcpy(ns, cur->unit->namespace, PS_MAX_NAMESPACE + 1);
	return 1;
}

static void
handle_list(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	const struct ps_ns_req *nr = ipcs_req_ns(req);
	struct serve_cursor *cur;
	size_t total = 0, synced = 0;

	if ((cur = serve_cursor_new(s, req, nr->namespace)) == NULL)
		return;
	for (size_t i = cur->next_unit; i < cur->end_unit; i++) {
		struct nsu_unit *u = nsu_sorted(s->d.units, i);

		if (!serve_unit_synced(u))
			continue;
		synced++;
		total += cache_size(u->cache);
	}
	if (synced == 0) {
		serve_not_synced(req,
		    nr->namespace[0] != '\0'
		        ? nsu_sorted(s->d.units, cur->next_unit)
		        : NULL);
		free(cur);
		return;
	}
	if (total > CORE_MAX_DEPLOYMENTS_ALL) {
		(void)ipcs_answer_error(req, PS_E_INVALID, 0,
		    "%zu deployments across namespaces: more than one answer "
		    "holds (%d); list one namespace at a time",
		    total, CORE_MAX_DEPLOYMENTS_ALL);
		free(cur);
		return;
	}
	(void)ipcs_answer_names(req, list_next, free, cur);
}

/*
 * A client write to a Deployment an HPA targets is refused (AUTOSCALED,
 * naming the HPA) unless it says force: the two would fight.  Before the
 * HPAs were first listed the answer is "retry soon", as before the cache
 * is synced; an HPA watch the API refuses (403/404) cannot tell, and the
 * write goes ahead (the watch's log and metrics say why).  1 after
 * answering.
 */
int
serve_autoscaled_refused(struct nsu_unit *u, struct ipcs_req *req,
    const struct ps_write_req *w, const char *what)
{
	struct hpa_watch_status st;
	char hpa[PS_MAX_NAME + 1];

	if (u->hpa == NULL || (w->flags & PS_W_FORCE))
		return 0;
	switch (hpa_watch_lookup(u->hpa, w->name, hpa)) {
	case HPA_WATCH_NONE:
		return 0;
	case HPA_WATCH_FOUND:
		log_kv(LOG_LEVEL_INFO, 0,
		    (struct log_kv[]){LOG_S("audit", what),
		        LOG_S("identity", w->identity),
		        LOG_I("peer_uid", (long)ipcs_req_uid(req)),
		        LOG_S("namespace", w->namespace),
		        LOG_S("deployment", w->name),
		        LOG_S("outcome", "autoscaled"), LOG_S("hpa", hpa)},
		    7, "%s %s refused: HorizontalPodAutoscaler %s targets it",
		    what, w->name, hpa);
		(void)ipcs_answer_refusal(req, PS_E_AUTOSCALED, 0, hpa,
		    "deployment \"%s\" is scaled by HorizontalPodAutoscaler "
		    "\"%s\": change the autoscaler, or say force",
		    w->name, hpa);
		return 1;
	case HPA_WATCH_UNKNOWN:
		break;
	}
	hpa_watch_get_status(u->hpa, &st);
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
	struct nsu_unit *u;
	struct pins *p;
	struct cache_deploy d;
	struct ps_deployment m;

	if ((u = serve_unit_of(s, req, nr->namespace)) == NULL)
		return;
	if (!serve_unit_synced(u)) {
		serve_not_synced(req, u);
		return;
	}
	if (cache_get(u->cache, nr->name, &d) == -1) {
		(void)ipcs_answer_error(req, PS_E_NOT_FOUND, 0,
		    "deployment \"%s\" not found in namespace \"%s\"", nr->name,
		    u->namespace);
		return;
	}
	memset(&m, 0, sizeof(m));
	memcpy(m.name, d.name, sizeof(m.name));
	memcpy(m.namespace, u->namespace, sizeof(m.namespace));
	/* kjson admitted only 0..INT32_MAX and 0..INT64_MAX. */
	m.desired = (uint32_t)d.desired;
	m.replicas = (uint32_t)d.replicas;
	m.ready = (uint32_t)d.ready;
	m.available = (uint32_t)d.available;
	m.updated = (uint32_t)d.updated;
	m.generation = (uint64_t)d.generation;
	m.observed_generation = (uint64_t)d.observed_generation;
	memcpy(m.resource_version, d.rv, sizeof(m.resource_version));
	if ((p = serve_unit_pins(s, u)) != NULL &&
	    pins_get(p, u->namespace, d.name, &m.pin_replicas) == 0) {
		m.pinned = 1;
		m.pin_state = serve_pin_state(s, u, &d);
	}
	m.bounds = d.annot.bounds;
	m.min_replicas = d.annot.min_replicas;
	m.max_replicas = d.annot.max_replicas;
	if (u->hpa != NULL &&
	    hpa_watch_lookup(u->hpa, d.name, m.autoscaler) != HPA_WATCH_FOUND)
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
	memcpy(
	    ok.namespace, ipcs_req_write(req)->namespace, sizeof(ok.namespace));
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
int
serve_write_refused(
    struct ipcs_req *req, const struct ps_write_req *w, const char *what)
{
	if (strncmp(w->identity, CORE_IDENTITY_PREFIX,
	        strlen(CORE_IDENTITY_PREFIX)) != 0)
		return 0;
	log_kv(LOG_LEVEL_WARN, 0,
	    (struct log_kv[]){LOG_S("audit", what),
	        LOG_S("identity", w->identity),
	        LOG_I("peer_uid", (long)ipcs_req_uid(req)),
	        LOG_S("namespace", w->namespace), LOG_S("deployment", w->name),
	        LOG_S("outcome", "refused")},
	    6, "%s %s refused: reserved identity", what, w->name);
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
	struct nsu_unit *u;
	struct pins *p;
	struct scale_cond cond;
	struct scale_op *op;
	uint32_t pin;

	if ((u = serve_unit_of(s, req, w->namespace)) == NULL ||
	    serve_write_refused(req, w, "scale"))
		return;
	/* Read-your-writes needs the watch: no write before the cache. */
	if (!serve_unit_synced(u)) {
		serve_not_synced(req, u);
		return;
	}
	if (serve_autoscaled_refused(u, req, w, "scale"))
		return;
	/* The reconciler would undo it at once: say so instead. */
	if ((p = serve_unit_pins(s, u)) != NULL &&
	    pins_get(p, u->namespace, w->name, &pin) == 0 &&
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
	    3, "scale %s/%s to %u requested", w->namespace, w->name,
	    w->replicas);
	cond.flags = w->flags;
	cond.expected = w->expected;
	memcpy(cond.if_match, w->if_match, sizeof(cond.if_match));
	op = scale_start(u->scale, w->name, w->replicas, &cond, w->identity,
	    (long)ipcs_req_uid(req), scale_done, req);
	if (op != NULL)
		ipcs_req_set_cancel(req, scale_cancel, op);
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
	    {PS_T_HEALTH, serve_health},
	    {PS_T_METRICS, serve_metrics},
	    {PS_T_PIN_LIST, serve_pin_list},
	    {PS_T_PIN_GET, serve_pin_get},
	    {PS_T_PIN_PUT, serve_pin_put},
	    {PS_T_PIN_DELETE, serve_pin_delete},
	};
	struct serve *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->d = *deps;
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