/*
 * pins_cm_write.c — changes to the pins ConfigMap (see pins_cm.h; the
 * reading side is pins_cm.c).
 *
 * One queue of changes, of which the head is in flight: each is applied to
 * the state memory holds (or, after a conflict, to a fresh GET), written
 * with PUT (POST when there is no ConfigMap yet) under the base's
 * resourceVersion, and answered when the API has taken it.  A 409 (or a
 * 404 after a delete) re-reads and retries after a jittered pause, at most
 * PINS_CM_MAX_ATTEMPTS writes.  The answer's state becomes memory
 * (cm_install_own) so the requester reads its own write; a relist never
 * overlaps a write of this core (see pins_cm.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/pins/cmjson.h"
#include "core/core_limits.h"
#include "core/kube/kclient.h"
#include "core/kube/listwatch.h"
#include "core/log.h"
#include "core/pins/pin_set.h"
#include "core/pins/pins_cm.h"
#include "core/pins/pins_cm_int.h"
#include "proto-socket/ps_buf.h"

static void op_reread(struct pins_cm_op *op);
static void op_pause(struct pins_cm_op *op, const struct kc_result *res);

/* ------------------------------------------------------------ policy */

enum pins_cm_next
pins_cm_decide(enum pin_set_result r, int fresh, int base_invalid)
{
	if (base_invalid)
		return fresh ? PINS_CM_FAIL_INVALID : PINS_CM_REREAD;
	switch (r) {
	case PIN_SET_CHANGED:
		return PINS_CM_WRITE;
	case PIN_SET_SAME:
	case PIN_SET_NO_PIN:
		/* Memory may lag behind the API: confirm with a GET. */
		return fresh ? PINS_CM_ANSWER : PINS_CM_REREAD;
	default:
		return PINS_CM_ANSWER;
	}
}

enum pins_cm_after
pins_cm_after_write(long status, int transport_error, unsigned attempts)
{
	if (transport_error)
		return PINS_CM_FAILED;
	if (status >= 200 && status < 300)
		return PINS_CM_DONE;
	/* 409: another writer came first (or, for a POST, created it);
	 * 404 for a PUT: it was deleted after we read it. */
	if (status == 409 || status == 404)
		return attempts >= PINS_CM_MAX_ATTEMPTS ? PINS_CM_GIVE_UP
		                                        : PINS_CM_RETRY;
	return PINS_CM_FAILED;
}

uint64_t
pins_cm_retry_delay_ms(unsigned conflicts, uint32_t rnd)
{
	uint64_t d = PINS_CM_RETRY_BASE_MS;

	for (unsigned i = 1; i < conflicts && d < PINS_CM_RETRY_CAP_MS; i++)
		d *= 2;
	if (d > PINS_CM_RETRY_CAP_MS)
		d = PINS_CM_RETRY_CAP_MS;
	return d / 2 + ((d / 2) * rnd >> 32);
}

uint16_t
pins_cm_map_status(long status, int transport_error, int timed_out)
{
	if (transport_error)
		return timed_out ? PS_E_TIMEOUT : PS_E_UNAVAILABLE;
	switch (status) {
	case 400:
	case 413:
	case 422:
		return PS_E_INVALID;
	case 401:
	case 403:
		return PS_E_FORBIDDEN;
	case 404:
		return PS_E_NOT_FOUND;
	case 409:
		return PS_E_CONFLICT;
	case 429:
	case 500:
	case 502:
	case 503:
		return PS_E_UNAVAILABLE;
	case 504:
		return PS_E_TIMEOUT;
	default:
		return PS_E_API;
	}
}

/* ------------------------------------------------------------ writes */

void
cm_op_free(struct pins_cm_op *op)
{
	if (op == NULL)
		return;
	kc_cancel(op->req);
	cmjson_free(op->cj);
	cm_read_clear(&op->b);
	if (op->pause != NULL)
		event_free(op->pause);
	free(op);
}

/* The head of the queue is done: answer, free, go on. */
static void
op_finish(struct pins_cm_op *op)
{
	struct pins_cm *cm = op->cm;
	struct pins_result res = op->res;
	pins_done_cb done = op->done;
	void *arg = op->arg;

	cm->q_head = op->next;
	if (cm->q_head == NULL)
		cm->q_tail = NULL;
	cm->queued--;
	cm->op_running = 0;
	cm_op_free(op);
	done(arg, &res);
	if (cm->relist_wanted)
		lw_relist(cm->lw);
	cm_kick(cm);
}

/* Success: had/old were set when the change was applied to its base. */
static void
op_ok(struct pins_cm_op *op)
{
	op->res.rc = 0;
	op->res.code = 0;
	op->res.replicas = op->change.del ? op->res.old : op->change.replicas;
	op_finish(op);
}

static void __attribute__((format(printf, 5, 6))) op_fail(struct pins_cm_op *op,
    int rc, uint16_t code, unsigned retry_after, const char *fmt, ...)
{
	va_list ap;

	op->res.rc = rc;
	op->res.code = code;
	op->res.retry_after = retry_after;
	va_start(ap, fmt);
	vsnprintf(op->res.message, sizeof(op->res.message), fmt, ap);
	va_end(ap);
	op_finish(op);
}

/* A failed API request: mapped like scale.c's writes; nothing changed. */
static void
op_api_fail(
    struct pins_cm_op *op, const struct kc_result *res, const char *doing)
{
	uint16_t code = pins_cm_map_status(
	    res->status, res->transport_error, res->timed_out);
	unsigned retry = 0;
	char detail[64] = "";

	if (code == PS_E_UNAVAILABLE)
		retry = res->retry_after != 0 ? res->retry_after
		                              : CORE_RETRY_API_DOWN;
	if (!res->transport_error && res->status_obj == NULL)
		snprintf(detail, sizeof(detail), "unexpected answer (HTTP %ld)",
		    res->status);
	op_fail(op, PINS_STORE_FAILED, code, retry,
	    "Kubernetes API, %s %s: %s%s", doing, op->cm->where,
	    res->transport_error          ? res->error
	        : res->status_obj != NULL ? res->status_obj->message
	                                  : detail,
	    cm_rbac_hint(res->status));
}

static int
op_data_cb(void *arg, const char *buf, size_t len)
{
	struct pins_cm_op *op = arg;

	return cmjson_feed(op->cj, buf, len) == 0 ? 0 : -1;
}

/* A 2xx answer (200, 201) carries the stored object. */
static int
op_answer(struct pins_cm_op *op, struct cm_read *r)
{
	const struct cmjson_cm *o;

	if (cmjson_finish(op->cj) != 0)
		return -1;
	o = cmjson_top(op->cj);
	if (!cm_same_object(op->cm, o) ||
	    (o->kind[0] != '\0' && strcmp(o->kind, "ConfigMap") != 0))
		return -1;
	return cm_read_object(op->cm, o, r);
}

static void
op_write_done(void *arg, const struct kc_result *res)
{
	struct pins_cm_op *op = arg;
	struct pins_cm *cm = op->cm;
	struct cm_read r;

	op->req = NULL;
	switch (pins_cm_after_write(
	    res->status, res->transport_error, op->attempts)) {
	case PINS_CM_DONE:
		memset(&r, 0, sizeof(r));
		if (op_answer(op, &r) != 0 || r.invalid)
			log_warnx("pins: the answer to this core's write of %s "
			          "is unusable (%s); the watch will bring it",
			    cm->where, cmjson_error(op->cj));
		else
			cm_install_own(cm, &r);
		cm_read_clear(&r);
		op_ok(op);
		return;
	case PINS_CM_RETRY:
		cm->stats.conflicts++;
		op->conflicts++;
		op_pause(op, res);
		return;
	case PINS_CM_GIVE_UP:
		cm->stats.conflicts++;
		op_fail(op, PINS_STORE_FAILED, PS_E_CONFLICT, 0,
		    "%s kept changing: %d writes conflicted with other "
		    "writers; try again",
		    cm->where, PINS_CM_MAX_ATTEMPTS);
		return;
	case PINS_CM_FAILED:
		op_api_fail(op, res, "writing");
		return;
	}
}

static void
op_pause_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	op_reread(arg);
}

/* Another writer came first: re-read after a short jittered pause. */
static void
op_pause(struct pins_cm_op *op, const struct kc_result *res)
{
	uint64_t ms = pins_cm_retry_delay_ms(op->conflicts, arc4random());
	struct timeval tv = {
	    (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	log_kv(LOG_LEVEL_INFO, 0,
	    (struct log_kv[]){LOG_I("status", res->status),
	        LOG_S("deployment", op->name), LOG_U("attempt", op->attempts),
	        LOG_U("delay_ms", ms), LOG_S("namespace", op->namespace)},
	    5, "pins: %s changed since it was read; reading it again",
	    op->cm->where);
	if ((op->pause == NULL &&
	        (op->pause = evtimer_new(op->cm->base, op_pause_cb, op)) ==
	            NULL) ||
	    evtimer_add(op->pause, &tv) != 0)
		op_reread(op); /* no timer: at once */
}

/* PUT (or POST) the document `next` (taken). */
static void
op_write(struct pins_cm_op *op, struct pin_set *next)
{
	struct pins_cm *cm = op->cm;
	struct cmjson_body b;
	char path[KC_MAX_PATH + 1], *doc = NULL, *body = NULL, *p;
	size_t dlen = 0, blen = 0;

	if (pin_set_generate(next, &doc, &dlen) != 0 ||
	    (p = realloc(doc, dlen + 1)) == NULL) {
		free(doc);
		pin_set_free(next);
		op_fail(
		    op, PINS_STORE_FAILED, PS_E_INTERNAL, 0, "out of memory");
		return;
	}
	pin_set_free(next);
	doc = p;
	if (dlen == 0 || doc[dlen - 1] != '\n')
		doc[dlen++] = '\n'; /* a block in `kubectl get -o yaml` */
	if (dlen > CMJSON_MAX_VALUE) {
		free(doc);
		op_fail(op, PINS_REFUSED, PS_E_INVALID, 0,
		    "the pins document would be %zu bytes, above the %d bytes "
		    "a ConfigMap can hold",
		    dlen, CMJSON_MAX_VALUE);
		return;
	}
	memset(&b, 0, sizeof(b));
	b.namespace = cm->namespace;
	b.name = cm->name;
	b.rv = op->b.exists ? op->b.rv : NULL;
	b.label_key = PINS_CM_LABEL_KEY;
	b.label_value = PINS_CM_LABEL_VALUE;
	b.key = PINS_CM_KEY;
	b.value = doc;
	b.value_len = dlen;
	op->post = !op->b.exists;
	if (op->post)
		snprintf(path, sizeof(path),
		    "/api/v1/namespaces/%s/configmaps?fieldManager=replicad",
		    cm->namespace);
	else
		snprintf(path, sizeof(path),
		    "/api/v1/namespaces/%s/configmaps/%s?fieldManager=replicad",
		    cm->namespace, cm->name);
	cmjson_free(op->cj);
	if ((op->cj = cmjson_new(CMJSON_OBJECT, PINS_CM_KEY, NULL, NULL)) ==
	        NULL ||
	    cmjson_body(&b, &body, &blen) != 0) {
		free(doc);
		op_fail(
		    op, PINS_STORE_FAILED, PS_E_INTERNAL, 0, "out of memory");
		return;
	}
	free(doc);
	op->attempts++;
	op->req = kc_start(cm->kc, op->post ? KC_POST : KC_PUT, path,
	    "application/json", body, blen, op_data_cb, op_write_done, op);
	free(body);
	if (op->req == NULL)
		op_fail(op, PINS_STORE_FAILED, PS_E_INTERNAL, 0,
		    "cannot start the API request");
}

/* Applies the change to its base (`base`: the set of op->b, or memory). */
static void
op_attempt(struct pins_cm_op *op, const struct pin_set *base, int fresh)
{
	struct pins_cm *cm = op->cm;
	struct pin_set *next = NULL;
	enum pin_set_result r = PIN_SET_REFUSED;
	char err[256] = "";

	if (!op->b.invalid)
		r = pin_set_apply(base, cm->set, &op->change, &next,
		    &op->res.had, &op->res.old, err, sizeof(err));
	switch (pins_cm_decide(r, fresh, op->b.invalid)) {
	case PINS_CM_WRITE:
		op_write(op, next);
		return;
	case PINS_CM_REREAD:
		op_reread(op);
		return;
	case PINS_CM_FAIL_INVALID:
		op_fail(op, PINS_STORE_FAILED, PS_E_CONFLICT, 0,
		    "%s holds an invalid pins document (%s): fix or delete it "
		    "first",
		    cm->where, op->b.why);
		return;
	case PINS_CM_ANSWER:
		break;
	}
	switch (r) {
	case PIN_SET_SAME:
		op_ok(op);
		return;
	case PIN_SET_NO_PIN:
		op_fail(op, PINS_NO_PIN, PS_E_NOT_FOUND, 0,
		    "deployment \"%s\" has no pin in namespace \"%s\"",
		    op->name, op->namespace);
		return;
	case PIN_SET_NOT_SERVED:
		op_fail(op, PINS_NOT_SERVED, PS_E_NOT_FOUND, 0, "%s", err);
		return;
	case PIN_SET_REFUSED:
		op_fail(op, PINS_REFUSED, PS_E_INVALID, 0, "%s", err);
		return;
	default:
		pin_set_free(next);
		op_fail(
		    op, PINS_STORE_FAILED, PS_E_INTERNAL, 0, "out of memory");
		return;
	}
}

static void
op_get_done(void *arg, const struct kc_result *res)
{
	struct pins_cm_op *op = arg;

	op->req = NULL;
	if (!res->transport_error && res->status == 404) {
		if (cm_read_absent(&op->b) != 0) {
			op_fail(op, PINS_STORE_FAILED, PS_E_INTERNAL, 0,
			    "out of memory");
			return;
		}
	} else if (res->transport_error || res->status != 200) {
		op_api_fail(op, res, "reading");
		return;
	} else if (op_answer(op, &op->b) != 0) {
		op_fail(op, PINS_STORE_FAILED, PS_E_API, 0,
		    "Kubernetes API: bad answer reading %s: %s", op->cm->where,
		    cmjson_error(op->cj));
		return;
	}
	op_attempt(op, op->b.set, 1);
}

/* GET the ConfigMap: the next attempt's base. */
static void
op_reread(struct pins_cm_op *op)
{
	struct pins_cm *cm = op->cm;
	char path[KC_MAX_PATH + 1];

	cm_read_clear(&op->b);
	cmjson_free(op->cj);
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps/%s",
	    cm->namespace, cm->name);
	if ((op->cj = cmjson_new(CMJSON_OBJECT, PINS_CM_KEY, NULL, NULL)) ==
	        NULL ||
	    (op->req = kc_start(cm->kc, KC_GET, path, NULL, NULL, 0, op_data_cb,
	         op_get_done, op)) == NULL)
		op_fail(op, PINS_STORE_FAILED, PS_E_INTERNAL, 0,
		    "cannot start the API request");
}

/* The first attempt: memory is the base, unless it is known invalid. */
static void
op_begin(struct pins_cm_op *op)
{
	struct pins_cm *cm = op->cm;
	const struct pin_set *cur = cm->hooks.current(cm->hooks.arg);

	if (cm->invalid || cur == NULL) {
		op_reread(op);
		return;
	}
	cm_read_clear(&op->b);
	op->b.exists = cm->exists;
	memcpy(op->b.rv, cm->rv, sizeof(op->b.rv));
	op_attempt(op, cur, 0);
}

/* Starts queued changes while nothing stops them: one at a time, never
 * during a list, and only once something is loaded. */
void
cm_kick(struct pins_cm *cm)
{
	if (cm->kicking)
		return; /* op_finish() inside the loop below */
	cm->kicking = 1;
	while (!cm->op_running && cm->q_head != NULL && cm->loaded &&
	    !lw_listing(cm->lw) && !cm->relist_wanted) {
		cm->op_running = 1;
		op_begin(cm->q_head); /* may finish at once */
	}
	cm->kicking = 0;
}

void
pins_cm_write(struct pins_cm *cm, const struct pin_change *c, pins_done_cb done,
    void *arg)
{
	struct pins_cm_op *op;
	struct pins_result res;
	size_t len = strnlen(c->name, PS_MAX_NAME + 1);
	size_t ns_len = strnlen(c->namespace, PS_MAX_NAMESPACE + 1);

	memset(&res, 0, sizeof(res));
	res.rc = PINS_STORE_FAILED;
	if (!cm->loaded) {
		res.code = PS_E_UNAVAILABLE;
		res.retry_after = CORE_RETRY_PINS_NOT_LOADED;
		snprintf(res.message, sizeof(res.message),
		    "pins not loaded yet: %s", cm->not_loaded);
		done(arg, &res);
		return;
	}
	if (cm->queued >= PINS_CM_MAX_QUEUED) {
		res.code = PS_E_UNAVAILABLE;
		res.retry_after = 1;
		snprintf(res.message, sizeof(res.message),
		    "too many pin changes in progress (%d)",
		    PINS_CM_MAX_QUEUED);
		done(arg, &res);
		return;
	}
	if (ns_len > PS_MAX_NAMESPACE ||
	    !pin_set_serves(cm->set, c->namespace)) {
		res.rc = PINS_NOT_SERVED;
		res.code = PS_E_NOT_FOUND;
		pin_set_not_served(
		    cm->set, c->namespace, res.message, sizeof(res.message));
		done(arg, &res);
		return;
	}
	if (len > PS_MAX_NAME) {
		res.rc = PINS_REFUSED;
		res.code = PS_E_INVALID;
		snprintf(res.message, sizeof(res.message),
		    "not a DNS-1123 subdomain");
		done(arg, &res);
		return;
	}
	if ((op = calloc(1, sizeof(*op))) == NULL) {
		res.code = PS_E_INTERNAL;
		snprintf(res.message, sizeof(res.message), "out of memory");
		done(arg, &res);
		return;
	}
	op->cm = cm;
	memcpy(op->namespace, c->namespace, ns_len + 1);
	memcpy(op->name, c->name, len + 1);
	op->change = *c;
	op->change.namespace = op->namespace;
	op->change.name = op->name;
	op->done = done;
	op->arg = arg;
	if (cm->q_tail != NULL)
		cm->q_tail->next = op;
	else
		cm->q_head = op;
	cm->q_tail = op;
	cm->queued++;
	cm_kick(cm);
}
