/*
 * api_answer.c — the core's answer to an API request, as HTTP: the status
 * (errmap.c for the core's error codes, 503/504 for a link that failed),
 * the yajl JSON body of each answer type, the ETag of a GET, and the
 * audit line of each write.  It asks nothing and checks no permission:
 * routing, validation and authorization are api.c's, done before the core
 * was asked.  The one permission it looks at again is the pins list's
 * per-namespace filter, item by item, as only the answer has the items.
 *
 * Every body is built with yajl_gen and sent through reply.c; the answer
 * ends the request (api_req_done).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/api_int.h"
#include "gateway/authz.h"
#include "gateway/body.h"
#include "gateway/errmap.h"
#include "gateway/gw_limits.h"
#include "gateway/ipc_client.h"
#include "gateway/log.h"
#include "gateway/reply.h"
#include "gateway/route.h"

static void
send_ok(struct api_req *r, int status, yajl_gen g)
{
	reply_json(&r->rc, status, g, NULL, NULL, NULL);
	api_req_done(r);
}

/*
 * A write's condition failed at the core (issue #14): the error body
 * also says what the deployment has, so a client can retry knowingly.
 * The ref is visible ASCII (PS_STR_REF); yajl_gen escapes it anyway.
 */
static void
fail_condition(struct api_req *r, const struct errmap *m, const char *msg,
    const struct ps_error *e)
{
	yajl_gen g;

	if ((g = reply_error_gen(m->reason, msg)) == NULL) {
		api_fail(r, 500, "internal", "out of memory");
		return;
	}
	if (e->code == PS_E_STALE && e->ref[0] != '\0')
		reply_gen_kv_str(g, "resourceVersion", e->ref);
	else if (e->code == PS_E_EXPECTED)
		reply_gen_kv_int(g, "currentReplicas", e->current);
	else if (e->code == PS_E_AUTOSCALED && e->ref[0] != '\0')
		reply_gen_kv_str(g, "autoscaler", e->ref);
	yajl_gen_map_close(g);
	reply_json(&r->rc, m->status, g, m->reason, NULL, NULL);
	api_req_done(r);
}

/* A failed core exchange -> HTTP.  Returns 1 when it answered. */
static int
answer_failure(struct api_req *r, const struct ipcc_answer *a)
{
	struct errmap m;
	const char *msg;

	switch (a->status) {
	case IPCC_OK:
		return 0;
	case IPCC_UNAVAILABLE:
		api_fail_retry(r, 503, "core_unavailable",
		    "the service core is not reachable", a->retry_after);
		return 1;
	case IPCC_BUSY:
		api_fail_retry(r, 503, "busy",
		    "too many requests waiting for the core",
		    GW_RETRY_AFTER_DEFAULT);
		return 1;
	case IPCC_TIMEOUT:
		api_fail(r, 504, "core_timeout",
		    "the service core did not answer in time");
		return 1;
	case IPCC_INTERNAL:
		api_fail(r, 500, "internal", "internal error");
		return 1;
	case IPCC_ERROR:
		break;
	}
	errmap_code(a->err.code, &m);
	/* The core's message is printable ASCII and never a credential. */
	msg = a->err.message[0] != '\0' ? a->err.message : m.message;
	if (m.retry_after)
		api_fail_retry(r, m.status, m.reason, msg, a->err.retry_after);
	else if (a->err.code == PS_E_STALE || a->err.code == PS_E_EXPECTED ||
	    a->err.code == PS_E_AUTOSCALED)
		fail_condition(r, &m, msg, &a->err);
	else
		api_fail(r, m.status, m.reason, msg);
	return 1;
}

static void
audit(struct api_req *r, const char *action, const struct ipcc_answer *a)
{
	struct log_audit l;

	memset(&l, 0, sizeof(l));
	l.outcome = "ok";
	if (a->status == IPCC_ERROR)
		l.outcome = ps_code_name(a->err.code);
	else if (a->status == IPCC_TIMEOUT)
		l.outcome = "timeout";
	else if (a->status != IPCC_OK)
		l.outcome = "unavailable";
	l.identity = r->identity;
	l.action = action;
	l.ns = r->ns;
	l.name = r->name;
	l.replicas = (long)r->replicas;
	l.dry_run = r->dry_run;
	l.force = r->body.force;
	l.suspended = a->type == PS_T_PIN_PUT ? r->body.suspended : -1;
	l.expected =
	    (r->body.present & BODY_K_EXPECTED) ? (long)r->body.expected : -1;
	l.if_match = r->ifm == HIM_ANY ? "*" : r->if_match;
	log_audit(&l);
}

/* enum ps_pin_state as the API says it; NULL for an active pin. */
static const char *
suspended_by(uint8_t state)
{
	switch (state) {
	case PS_PIN_SUSPENDED:
		return "pin";
	case PS_PIN_ANNOTATED:
		return "annotation";
	case PS_PIN_AUTOSCALED:
		return "autoscaler";
	default:
		return NULL;
	}
}

/* "suspended" and, when it is, "suspendedBy" (pin answers and items). */
static void
gen_pin_state(yajl_gen g, const char *key, const char *by_key, uint8_t state)
{
	const char *by = suspended_by(state);

	reply_gen_kv_bool(g, key, by != NULL);
	if (by != NULL)
		reply_gen_kv_str(g, by_key, by);
}

/*
 * The core says whether it wrote; the answer follows the core.  Asking
 * for a dry run and getting a write (or the reverse) is a core bug worth
 * a line in the log.
 */
static int
answer_dry_run(struct api_req *r, uint8_t core_dry_run)
{
	if ((core_dry_run != 0) != (r->dry_run != 0))
		log_warnx("core: %s %s/%s: asked dry_run=%d, answered "
		          "dry_run=%u",
		    route_label(r->rc.route), r->ns, r->name, r->dry_run,
		    (unsigned)core_dry_run);
	return core_dry_run != 0;
}

/*
 * ETag of a GET: the resourceVersion as a strong tag.  An rv holding a
 * '"' cannot be an entity-tag (RFC 9110 §8.8.3), so it gets none; the
 * core's rvs are digits in practice.  0 when there is none.
 */
static int
etag_of(const char *rv, char *buf, size_t size)
{
	int n;

	if (rv[0] == '\0' || strchr(rv, '"') != NULL)
		return 0;
	n = snprintf(buf, size, "\"%s\"", rv);
	return n > 0 && (size_t)n < size;
}

/* An age in milliseconds, null for "never". */
static void
gen_age(yajl_gen g, const char *key, uint32_t ms)
{
	reply_gen_str(g, key);
	if (ms == PS_AGE_NEVER)
		yajl_gen_null(g);
	else
		reply_gen_int(g, ms);
}

/*
 * /healthz's per-namespace part (issue #15): "namespace" is the default
 * one, whose state the top-level fields and the status code follow;
 * "namespaces" has each served namespace's own state, which does not
 * change the status code.
 */
static void
gen_ns_health(yajl_gen g, const struct ps_health *h)
{
	const struct ps_ns_health *n;
	size_t i;
	int ok;

	if (h->ns_count > 0)
		reply_gen_kv_str(g, "namespace", h->ns[0].namespace);
	reply_gen_str(g, "namespaces");
	yajl_gen_array_open(g);
	for (i = 0; i < h->ns_count && i < PS_MAX_NAMESPACES; i++) {
		n = &h->ns[i];
		ok = (n->state & PS_HEALTH_API_OK) &&
		    (n->state & PS_HEALTH_SYNCED);
		yajl_gen_map_open(g);
		reply_gen_kv_str(g, "namespace", n->namespace);
		reply_gen_kv_str(g, "status", ok ? "ok" : "unavailable");
		reply_gen_kv_bool(
		    g, "apiReachable", (n->state & PS_HEALTH_API_OK) != 0);
		reply_gen_kv_bool(
		    g, "cacheSynced", (n->state & PS_HEALTH_SYNCED) != 0);
		reply_gen_kv_bool(
		    g, "watchConnected", (n->state & PS_HEALTH_WATCH) != 0);
		reply_gen_kv_int(g, "cacheSize", n->cache_size);
		gen_age(g, "lastEventAgeMs", n->last_event_age_ms);
		gen_age(g, "apiOkAgeMs", n->api_ok_age_ms);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

/*
 * Whether /api/v1/pins shows a pin of namespace `ns`: always when the
 * client may read everywhere (no filter), else when it may read in `ns`.
 * `id` is NULL when the client's names could not be read (nothing shown).
 */
static int
pin_shown(const struct api_req *r, const struct authz_id *id, const char *ns)
{
	if (!r->filter)
		return 1;
	return id != NULL && authz_check(r->api->authz, id, AUTHZ_READ, ns);
}

void
api_answer_cb(const struct ipcc_answer *a, void *arg)
{
	struct api_req *r = arg;
	struct authz_id *id = NULL;
	yajl_gen g;
	size_t i;
	const struct ps_deployment *d = &a->u.dep;
	const struct ps_health *h = &a->u.health;
	int healthy, dry;
	char ra[16], etag[PS_MAX_RV + 3];

	r->core = NULL;
	if (a->type == PS_T_SCALE)
		audit(r, "scale", a);
	else if (a->type == PS_T_PIN_PUT)
		audit(r, "pin", a);
	else if (a->type == PS_T_PIN_DELETE)
		audit(r, "unpin", a);
	if (answer_failure(r, a))
		return;
	if ((g = reply_gen_new()) == NULL) {
		api_fail(r, 500, "internal", "out of memory");
		return;
	}
	yajl_gen_map_open(g);
	switch (a->type) {
	case PS_T_LIST:
		/* One namespace was asked for; an item of another would be a
		 * core bug, and is not shown. */
		reply_gen_kv_str(g, "namespace", r->ns);
		reply_gen_str(g, "deployments");
		yajl_gen_array_open(g);
		for (i = 0; i < a->nitems; i++)
			if (strcmp(a->items[i].ns, r->ns) == 0)
				reply_gen_str(g, a->items[i].name);
		yajl_gen_array_close(g);
		break;
	case PS_T_GET:
		reply_gen_kv_str(g, "name", d->name);
		reply_gen_kv_str(g, "namespace", d->namespace);
		reply_gen_kv_int(g, "replicas", d->desired);
		reply_gen_str(g, "status");
		yajl_gen_map_open(g);
		reply_gen_kv_int(g, "replicas", d->replicas);
		reply_gen_kv_int(g, "readyReplicas", d->ready);
		reply_gen_kv_int(g, "availableReplicas", d->available);
		reply_gen_kv_int(g, "updatedReplicas", d->updated);
		yajl_gen_map_close(g);
		reply_gen_kv_int(g, "generation", (long long)d->generation);
		reply_gen_kv_int(
		    g, "observedGeneration", (long long)d->observed_generation);
		if (d->pinned)
			reply_gen_kv_int(g, "pinned", d->pin_replicas);
		reply_gen_kv_str(g, "resourceVersion", d->resource_version);
		/* Version 2 (issue #14): each only when it says something. */
		if (d->pinned)
			gen_pin_state(
			    g, "pinSuspended", "pinSuspendedBy", d->pin_state);
		if (d->bounds & PS_B_MIN)
			reply_gen_kv_int(g, "minReplicas", d->min_replicas);
		if (d->bounds & PS_B_MAX)
			reply_gen_kv_int(g, "maxReplicas", d->max_replicas);
		if (d->bounds & PS_B_INVALID)
			reply_gen_kv_bool(g, "boundsInvalid", 1);
		if (d->autoscaler[0] != '\0')
			reply_gen_kv_str(g, "autoscaledBy", d->autoscaler);
		yajl_gen_map_close(g);
		if (etag_of(d->resource_version, etag, sizeof(etag)))
			reply_json(&r->rc, 200, g, NULL, "ETag", etag);
		else
			reply_json(&r->rc, 200, g, NULL, NULL, NULL);
		api_req_done(r);
		return;
	case PS_T_SCALE:
		dry = answer_dry_run(r, a->u.scale.dry_run);
		reply_gen_kv_str(g, "status", dry ? "dry_run" : "updated");
		reply_gen_kv_str(g, "name", a->u.scale.name);
		reply_gen_kv_str(g, "namespace", a->u.scale.namespace);
		reply_gen_kv_int(g, "replicas", a->u.scale.replicas);
		reply_gen_kv_int(g, "previous", a->u.scale.previous);
		reply_gen_kv_bool(g, "synced", a->u.scale.synced);
		reply_gen_kv_str(
		    g, "resourceVersion", a->u.scale.resource_version);
		if (dry)
			reply_gen_kv_bool(g, "dryRun", 1);
		break;
	case PS_T_PIN_LIST:
		if (r->filter)
			id = api_peer_id(r->rc.req);
		if (r->ns[0] != '\0')
			reply_gen_kv_str(g, "namespace", r->ns);
		reply_gen_str(g, "pins");
		yajl_gen_array_open(g);
		for (i = 0; i < a->nitems; i++) {
			if (!pin_shown(r, id, a->items[i].ns))
				continue;
			yajl_gen_map_open(g);
			reply_gen_kv_str(g, "name", a->items[i].name);
			reply_gen_kv_str(g, "namespace", a->items[i].ns);
			reply_gen_kv_int(g, "replicas", a->items[i].replicas);
			gen_pin_state(
			    g, "suspended", "suspendedBy", a->items[i].state);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		free(id);
		break;
	case PS_T_PIN_GET:
	case PS_T_PIN_PUT:
	case PS_T_PIN_DELETE:
		dry = a->type != PS_T_PIN_GET &&
		    answer_dry_run(r, a->u.pin.dry_run);
		if (a->type != PS_T_PIN_GET)
			reply_gen_kv_str(g, "status",
			    dry                           ? "dry_run"
			        : a->type == PS_T_PIN_PUT ? "pinned"
			                                  : "unpinned");
		reply_gen_kv_str(g, "name", a->u.pin.name);
		reply_gen_kv_str(g, "namespace", a->u.pin.namespace);
		reply_gen_kv_int(g, "replicas", a->u.pin.replicas);
		gen_pin_state(g, "suspended", "suspendedBy", a->u.pin.state);
		if (dry)
			reply_gen_kv_bool(g, "dryRun", 1);
		break;
	case PS_T_HEALTH:
		healthy = (h->state & PS_HEALTH_API_OK) &&
		    (h->state & PS_HEALTH_SYNCED);
		reply_gen_kv_str(g, "status", healthy ? "ok" : "unavailable");
		reply_gen_kv_bool(
		    g, "apiReachable", (h->state & PS_HEALTH_API_OK) != 0);
		reply_gen_kv_bool(
		    g, "cacheSynced", (h->state & PS_HEALTH_SYNCED) != 0);
		reply_gen_kv_bool(
		    g, "watchConnected", (h->state & PS_HEALTH_WATCH) != 0);
		reply_gen_kv_int(g, "cacheSize", h->cache_size);
		gen_age(g, "lastEventAgeMs", h->last_event_age_ms);
		gen_age(g, "apiOkAgeMs", h->api_ok_age_ms);
		reply_gen_kv_str(g, "message", h->message);
		gen_ns_health(g, h);
		if (!healthy) {
			yajl_gen_map_close(g);
			snprintf(ra, sizeof(ra), "%d", GW_RETRY_AFTER_DEFAULT);
			reply_json(
			    &r->rc, 503, g, "unhealthy", "Retry-After", ra);
			api_req_done(r);
			return;
		}
		break;
	default:
		yajl_gen_free(g);
		api_fail(r, 500, "internal", "unexpected answer");
		return;
	}
	yajl_gen_map_close(g);
	send_ok(r, 200, g);
}
