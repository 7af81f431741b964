/*
 * scale.c — PATCH deployments/{name}/scale, then read-your-writes.
 *
 * The PATCH answer (an autoscaling/v1 Scale) carries the object's new
 * resourceVersion.  Watch events arrive in order, so the write is visible
 * once an event for that object with that resourceVersion was applied, or
 * once a relist that began after the answer has completed.  An event may
 * beat the PATCH answer to the loop, so the last few applied (name, rv)
 * pairs are remembered.  A no-op write makes no new resourceVersion: the
 * cache already holds it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <yajl/yajl_gen.h>

#include "core/kube/cache.h"
#include "core/kube/event_rec.h"
#include "core/clock.h"
#include "core/core_limits.h"
#include "core/kube/kclient.h"
#include "core/kube/kjson.h"
#include "core/log.h"
#include "core/kube/scale.h"
#include "proto-socket/ps_buf.h"

struct recent {
	char name[PS_MAX_NAME + 1];
	char rv[PS_MAX_RV + 1];
};

struct scale_op {
	struct scale *s;
	struct scale_op *prev, *next; /* s->ops */
	struct kc_req *req;           /* PATCH in flight, or NULL */
	struct kjson *kj;
	struct event *timer; /* read-your-writes deadline */
	scale_done_cb done;  /* NULL once detached */
	void *arg;
	uint64_t answered_ms; /* when the PATCH answer came */
	long peer_uid;        /* who asked: socket peer, or AUDIT_SELF */
	int sent;             /* the PATCH went to the API server */
	char identity[PS_MAX_IDENTITY + 1];
	struct scale_cond cond;       /* zero for the reconciler */
	char patch_rv[PS_MAX_RV + 1]; /* the PATCH's precondition, or "" */
	struct scale_result res;
};

struct scale {
	struct event_base *base;
	struct kc *kc;
	struct cache *cache;
	char namespace[PS_MAX_NAMESPACE + 1];
	uint32_t max_replicas;
	char self[PS_MAX_NAME + 1]; /* "" when unknown */
	struct scale_op *ops;
	struct recent recent[SCALE_RECENT];
	size_t recent_next;
	struct scale_stats stats;
	struct evrec *events; /* NULL: no Events */
};

uint16_t
scale_map_status(long status, int transport_error, int timed_out)
{
	if (transport_error)
		return timed_out ? PS_E_TIMEOUT : PS_E_UNAVAILABLE;
	switch (status) {
	case 404:
		return PS_E_NOT_FOUND;
	case 400:
	case 422:
		return PS_E_INVALID;
	case 409:
		return PS_E_CONFLICT;
	case 401:
	case 403:
		return PS_E_FORBIDDEN;
	case 504:
		return PS_E_TIMEOUT;
	case 429:
	case 500:
	case 502:
	case 503:
		return PS_E_UNAVAILABLE;
	default:
		return PS_E_API;
	}
}

static void
unlink_op(struct scale_op *op)
{
	struct scale *s = op->s;

	if (op->prev != NULL)
		op->prev->next = op->next;
	else if (s->ops == op)
		s->ops = op->next;
	if (op->next != NULL)
		op->next->prev = op->prev;
	op->prev = op->next = NULL;
}

static void
free_op(struct scale_op *op)
{
	if (op == NULL)
		return;
	kc_cancel(op->req);
	kjson_free(op->kj);
	if (op->timer != NULL)
		event_free(op->timer);
	free(op);
}

/* One audit line per write: who, what, old -> new, outcome. */
static void
audit(const struct scale_op *op)
{
	const struct scale_result *r = &op->res;

	log_kv(LOG_LEVEL_INFO, 0,
	    (struct log_kv[]){LOG_S("audit", "scale"),
	        LOG_S("identity", op->identity),
	        op->peer_uid == AUDIT_SELF ? LOG_S("peer_uid", "self")
	                                   : LOG_I("peer_uid", op->peer_uid),
	        LOG_S("deployment", r->name), LOG_U("old", r->previous),
	        LOG_U("new", r->replicas),
	        LOG_S("outcome",
	            r->code != 0     ? ps_code_name(r->code)
	                : r->dry_run ? "dry_run"
	                             : "ok"),
	        LOG_S("rv", r->rv), LOG_U("synced", r->synced),
	        LOG_U("dry_run", r->dry_run),
	        LOG_S("if_match", op->cond.if_match),
	        (op->cond.flags & PS_W_EXPECTED)
	            ? LOG_U("expected", op->cond.expected)
	            : LOG_S("expected", "")},
	    12, "scale %s %u -> %u: %s%s", r->name, r->previous, r->replicas,
	    r->code == 0 ? "ok" : r->message, r->dry_run ? " (dry run)" : "");
}

/*
 * The Kubernetes Event of a write that reached the API server: Normal
 * "Scaled" (a client) or "Reconciled" (the core's own write back to a
 * pin), Warning "ScaleFailed" when the API server did not take it.
 * Nothing for a dry run or a refused precondition: nothing happened.
 */
static void
record_event(const struct scale_op *op)
{
	const struct scale_result *r = &op->res;
	struct cache_deploy cur;
	struct evrec_object obj;
	char note[EVREC_MAX_NOTE];
	int self = op->peer_uid == AUDIT_SELF;

	if (op->s->events == NULL || !op->sent || r->dry_run ||
	    r->code == PS_E_STALE || r->code == PS_E_EXPECTED)
		return;
	memset(&obj, 0, sizeof(obj));
	obj.kind = "Deployment";
	obj.api_version = "apps/v1";
	obj.name = r->name;
	obj.namespace = op->s->namespace;
	if (cache_get(op->s->cache, r->name, &cur) == 0) {
		obj.uid = cur.uid;
		obj.resource_version = cur.rv;
	}
	if (r->code == 0)
		snprintf(note, sizeof(note),
		    "scaled %u \u2192 %u by %s (replicad)", r->previous,
		    r->replicas, op->identity);
	else
		snprintf(note, sizeof(note),
		    "scale %u \u2192 %u by %s (replicad) failed: %s",
		    r->previous, r->replicas, op->identity, r->message);
	(void)evrec_emit(op->s->events, &obj,
	    r->code == 0 ? EVREC_NORMAL : EVREC_WARNING,
	    r->code != 0 ? "ScaleFailed"
	        : self   ? "Reconciled"
	                 : "Scaled",
	    self ? "Reconcile" : "Scale", note);
}

/* Answers (once), audit-logs, and frees. */
static void
complete(struct scale_op *op)
{
	struct scale *s = op->s;

	if (op->res.code != 0)
		s->stats.failed++;
	else if (op->res.dry_run)
		s->stats.dry_run++;
	else if (op->res.synced)
		s->stats.ok_synced++;
	else
		s->stats.ok_unsynced++;
	audit(op);
	record_event(op);
	unlink_op(op);
	if (op->done != NULL)
		op->done(op->arg, &op->res);
	free_op(op);
}

static void
fail_op(struct scale_op *op, uint16_t code, unsigned retry_after,
    const char *prefix, const char *detail)
{
	op->res.code = code;
	op->res.retry_after = retry_after;
	snprintf(
	    op->res.message, sizeof(op->res.message), "%s%s", prefix, detail);
	/* Message must be printable ASCII for the wire. */
	for (char *p = op->res.message; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	complete(op);
}

static int
seen_recently(const struct scale *s, const char *name, const char *rv)
{
	for (size_t i = 0; i < SCALE_RECENT; i++)
		if (strcmp(s->recent[i].rv, rv) == 0 &&
		    strcmp(s->recent[i].name, name) == 0)
			return 1;
	return 0;
}

static void
ryw_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scale_op *op = arg;

	(void)fd;
	(void)what;
	log_info("scale %s: watch did not deliver rv %s in time", op->res.name,
	    op->res.rv);
	op->res.synced = 0;
	complete(op);
}

/*
 * The API server refused the PATCH's resourceVersion: the Deployment
 * changed after the version the write was conditioned on.  With If-Match
 * that is the client's precondition (STALE, naming the version the cache
 * has now); for expectedReplicas it is ours, so look again at the count.
 */
static void
precondition_failed(struct scale_op *op)
{
	struct cache_deploy cur;
	int have = cache_get(op->s->cache, op->res.name, &cur) == 0;

	if (op->cond.if_match[0] != '\0') {
		if (have && strcmp(cur.rv, op->cond.if_match) != 0)
			memcpy(op->res.ref, cur.rv, sizeof(op->res.ref));
		op->res.code = PS_E_STALE;
		snprintf(op->res.message, sizeof(op->res.message),
		    "deployment \"%s\" has changed: its resourceVersion is "
		    "no longer \"%s\"",
		    op->res.name, op->cond.if_match);
		complete(op);
		return;
	}
	if (have && (uint32_t)cur.desired != op->cond.expected) {
		op->res.code = PS_E_EXPECTED;
		op->res.current = (uint32_t)cur.desired;
		snprintf(op->res.message, sizeof(op->res.message),
		    "deployment \"%s\" has %d replicas, not the %u expected",
		    op->res.name, cur.desired, op->cond.expected);
		complete(op);
		return;
	}
	op->res.code = PS_E_CONFLICT;
	snprintf(op->res.message, sizeof(op->res.message),
	    "deployment \"%s\" changed while the write was checked; read "
	    "it again and retry",
	    op->res.name);
	complete(op);
}

static int
patch_data_cb(void *arg, const char *buf, size_t len)
{
	struct scale_op *op = arg;

	return kjson_feed(op->kj, buf, len) == 0 ? 0 : -1;
}

static void
patch_done_cb(void *arg, const struct kc_result *res)
{
	struct scale_op *op = arg;
	struct scale *s = op->s;
	const struct kjson_obj *o;
	struct cache_deploy cur;
	struct timeval tv;
	uint16_t code;

	op->req = NULL;
	if (!res->transport_error && res->status == 409 &&
	    op->patch_rv[0] != '\0') {
		precondition_failed(op);
		return;
	}
	if (res->transport_error || res->status != 200) {
		code = scale_map_status(
		    res->status, res->transport_error, res->timed_out);
		if (code == PS_E_UNAVAILABLE && res->retry_after == 0)
			op->res.retry_after = CORE_RETRY_API_DOWN;
		fail_op(op, code,
		    res->retry_after != 0 ? res->retry_after
		                          : op->res.retry_after,
		    "Kubernetes API: ",
		    res->transport_error          ? res->error
		        : res->status_obj != NULL ? res->status_obj->message
		                                  : "unexpected answer");
		return;
	}
	if (kjson_finish(op->kj) == -1 ||
	    (o = kjson_top(op->kj))->rv[0] == '\0' ||
	    strcmp(o->kind, "Scale") != 0) {
		fail_op(op, PS_E_API, 0,
		    "Kubernetes API: bad Scale answer: ", kjson_error(op->kj));
		return;
	}
	memcpy(op->res.rv, o->rv, sizeof(op->res.rv));
	if (op->cond.flags & PS_W_DRY_RUN) {
		/* Nothing was stored: there is nothing to wait for. */
		op->res.dry_run = 1;
		complete(op);
		return;
	}
	/* spec.replicas is omitted from a Scale when 0. */
	if ((uint32_t)(o->has_spec_replicas ? o->spec_replicas : 0) !=
	    op->res.replicas)
		log_warnx("scale %s: API answered replicas %d, asked %u",
		    op->res.name, o->spec_replicas, op->res.replicas);
	op->answered_ms = clock_now_ms();
	if (seen_recently(s, op->res.name, op->res.rv) ||
	    (cache_get(s->cache, op->res.name, &cur) == 0 &&
	        strcmp(cur.rv, op->res.rv) == 0)) {
		op->res.synced = 1;
		complete(op);
		return;
	}
	tv.tv_sec = CORE_RYW_TIMEOUT_MS / 1000;
	tv.tv_usec = (CORE_RYW_TIMEOUT_MS % 1000) * 1000;
	if ((op->timer = evtimer_new(s->base, ryw_timeout_cb, op)) == NULL ||
	    evtimer_add(op->timer, &tv) == -1) {
		op->res.synced = 0;
		complete(op);
	}
	/* Now waiting for scale_applied() or scale_relisted(). */
}

static int
gen_str(yajl_gen g, const char *str)
{
	return yajl_gen_string(g, (const unsigned char *)str, strlen(str)) ==
	    yajl_gen_status_ok;
}

/* {"metadata":{"resourceVersion":RV},"spec":{"replicas":N}}; the
 * metadata only with a precondition (`rv` non-empty). */
static char *
patch_body(uint32_t replicas, const char *rv, size_t *len)
{
	yajl_gen g;
	const unsigned char *buf;
	char *out = NULL;
	int ok;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		return NULL;
	ok = yajl_gen_map_open(g) == yajl_gen_status_ok;
	if (ok && rv[0] != '\0')
		ok = gen_str(g, "metadata") &&
		    yajl_gen_map_open(g) == yajl_gen_status_ok &&
		    gen_str(g, "resourceVersion") && gen_str(g, rv) &&
		    yajl_gen_map_close(g) == yajl_gen_status_ok;
	ok = ok && gen_str(g, "spec") &&
	    yajl_gen_map_open(g) == yajl_gen_status_ok &&
	    gen_str(g, "replicas") &&
	    yajl_gen_integer(g, replicas) == yajl_gen_status_ok &&
	    yajl_gen_map_close(g) == yajl_gen_status_ok &&
	    yajl_gen_map_close(g) == yajl_gen_status_ok &&
	    yajl_gen_get_buf(g, &buf, len) == yajl_gen_status_ok;
	if (ok && (out = malloc(*len + 1)) != NULL) {
		memcpy(out, buf, *len);
		out[*len] = '\0';
	}
	yajl_gen_free(g);
	return out;
}

/*
 * The checks the cache can answer, before the API is asked: the
 * Deployment's bounds, then expectedReplicas.  0, or -1 after completing
 * `op` with the refusal.
 */
static int
check_cached(struct scale_op *op, int have, const struct cache_deploy *cur)
{
	char why[PS_MAX_MESSAGE + 1];

	if (have &&
	    annot_check(&cur->annot, op->res.name, op->res.replicas, why,
	        sizeof(why)) != 0) {
		op->res.code = PS_E_OUT_OF_BOUNDS;
		snprintf(op->res.message, sizeof(op->res.message), "%s", why);
		complete(op);
		return -1;
	}
	if ((op->cond.flags & PS_W_EXPECTED) == 0)
		return 0;
	if (!have) {
		op->res.code = PS_E_NOT_FOUND;
		snprintf(op->res.message, sizeof(op->res.message),
		    "deployment \"%s\" not found in namespace \"%s\"",
		    op->res.name, op->s->namespace);
		complete(op);
		return -1;
	}
	if ((uint32_t)cur->desired != op->cond.expected) {
		op->res.code = PS_E_EXPECTED;
		op->res.current = (uint32_t)cur->desired;
		snprintf(op->res.message, sizeof(op->res.message),
		    "deployment \"%s\" has %d replicas, not the %u expected",
		    op->res.name, cur->desired, op->cond.expected);
		complete(op);
		return -1;
	}
	/* The count checked is the one at this version: the API server
	 * refuses the write if it is no longer current. */
	memcpy(op->patch_rv, cur->rv, sizeof(op->patch_rv));
	return 0;
}

struct scale_op *
scale_start(struct scale *s, const char *name, uint32_t replicas,
    const struct scale_cond *cond, const char *identity, long peer_uid,
    scale_done_cb done, void *arg)
{
	struct scale_op *op;
	struct cache_deploy cur;
	char path[KC_MAX_PATH + 1];
	char *body;
	size_t name_len, id_len, rv_len, body_len = 0;
	int have;

	if ((op = calloc(1, sizeof(*op))) == NULL) {
		static struct scale_result oom = {
		    .code = PS_E_INTERNAL, .message = "out of memory"};
		done(arg, &oom);
		return NULL;
	}
	op->s = s;
	op->done = done;
	op->arg = arg;
	op->peer_uid = peer_uid;
	if (cond != NULL)
		op->cond = *cond;
	/* Untrusted (gateway): re-validated before any use. */
	name_len = strnlen(name, PS_MAX_NAME + 1);
	id_len = strnlen(identity, PS_MAX_IDENTITY + 1);
	if (ps_valid_str(PS_STR_IDENTITY, identity, id_len) == PS_OK)
		memcpy(op->identity, identity, id_len + 1);
	else
		snprintf(op->identity, sizeof(op->identity), "(invalid)");
	if (ps_valid_name(name, name_len) != PS_OK) {
		op->res.code = PS_E_INVALID;
		snprintf(op->res.message, sizeof(op->res.message),
		    "name is not a DNS-1123 subdomain");
		complete(op);
		return NULL;
	}
	memcpy(op->res.name, name, name_len + 1);
	op->res.replicas = replicas;
	if ((have = cache_get(s->cache, name, &cur) == 0))
		op->res.previous = (uint32_t)cur.desired;
	rv_len = strnlen(op->cond.if_match, sizeof(op->cond.if_match));
	if ((op->cond.flags & ~(PS_W_DRY_RUN | PS_W_EXPECTED | PS_W_FORCE)) !=
	        0 ||
	    op->cond.expected > PS_MAX_REPLICAS ||
	    rv_len == sizeof(op->cond.if_match) ||
	    ps_valid_str(PS_STR_OPT_RV, op->cond.if_match, rv_len) != PS_OK) {
		op->cond = (struct scale_cond){0};
		fail_op(op, PS_E_INVALID, 0, "", "invalid write conditions");
		return NULL;
	}
	if (op->identity[0] == '(') {
		fail_op(op, PS_E_INVALID, 0, "", "invalid client identity");
		return NULL;
	}
	if (replicas > s->max_replicas) {
		op->res.code = PS_E_INVALID;
		snprintf(op->res.message, sizeof(op->res.message),
		    "replicas must be between 0 and %u", s->max_replicas);
		complete(op);
		return NULL;
	}
	/* RBAC cannot say "every Deployment but replicad's own". */
	if (s->self[0] != '\0' && strcmp(op->res.name, s->self) == 0) {
		op->res.code = PS_E_INVALID;
		snprintf(op->res.message, sizeof(op->res.message),
		    "\"%s\" is replicad's own Deployment: replicad does not "
		    "scale itself",
		    s->self);
		complete(op);
		return NULL;
	}
	if (check_cached(op, have, &cur) != 0)
		return NULL;
	if (op->cond.if_match[0] != '\0')
		memcpy(op->patch_rv, op->cond.if_match, sizeof(op->patch_rv));
	op->next = s->ops;
	if (s->ops != NULL)
		s->ops->prev = op;
	s->ops = op;
	snprintf(path, sizeof(path),
	    "/apis/apps/v1/namespaces/%s/deployments/%s/scale"
	    "?fieldManager=replicad%s",
	    s->namespace, op->res.name,
	    (op->cond.flags & PS_W_DRY_RUN) ? "&dryRun=All" : "");
	if ((op->kj = kjson_new(KJSON_OBJECT, NULL, NULL)) == NULL ||
	    (body = patch_body(replicas, op->patch_rv, &body_len)) == NULL) {
		fail_op(op, PS_E_INTERNAL, 0, "", "out of memory");
		return NULL;
	}
	op->req =
	    kc_start(s->kc, KC_PATCH, path, "application/merge-patch+json",
	        body, body_len, patch_data_cb, patch_done_cb, op);
	free(body);
	if (op->req == NULL) {
		fail_op(
		    op, PS_E_INTERNAL, 0, "", "cannot start the API request");
		return NULL;
	}
	op->sent = 1;
	return op;
}

void
scale_detach(struct scale_op *op)
{
	if (op != NULL)
		op->done = NULL;
}

void
scale_applied(struct scale *s, const char *name, const char *rv)
{
	struct scale_op *op, *next;
	struct recent *r = &s->recent[s->recent_next];

	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->rv, sizeof(r->rv), "%s", rv);
	s->recent_next = (s->recent_next + 1) % SCALE_RECENT;
	for (op = s->ops; op != NULL; op = next) {
		next = op->next;
		if (op->timer != NULL && strcmp(op->res.name, name) == 0 &&
		    strcmp(op->res.rv, rv) == 0) {
			op->res.synced = 1;
			complete(op);
		}
	}
}

void
scale_relisted(struct scale *s, uint64_t list_started_ms)
{
	struct scale_op *op, *next;

	for (op = s->ops; op != NULL; op = next) {
		next = op->next;
		if (op->timer != NULL && list_started_ms >= op->answered_ms) {
			op->res.synced = 1;
			complete(op);
		}
	}
}

struct scale *
scale_new(struct event_base *base, struct kc *kc, struct cache *cache,
    const char *namespace, uint32_t max_replicas, const char *self)
{
	struct scale *s;

	if (ps_valid_namespace(namespace, strlen(namespace)) != PS_OK ||
	    max_replicas > PS_MAX_REPLICAS) {
		errno = EINVAL;
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->base = base;
	s->kc = kc;
	s->cache = cache;
	s->max_replicas = max_replicas;
	if (self != NULL)
		snprintf(s->self, sizeof(s->self), "%s", self);
	snprintf(s->namespace, sizeof(s->namespace), "%s", namespace);
	return s;
}

void
scale_set_events(struct scale *s, struct evrec *ev)
{
	s->events = ev;
}

void
scale_free(struct scale *s)
{
	struct scale_op *op;

	if (s == NULL)
		return;
	while ((op = s->ops) != NULL) {
		unlink_op(op);
		free_op(op);
	}
	free(s);
}

void
scale_get_stats(const struct scale *s, struct scale_stats *st)
{
	*st = s->stats;
}
