/*
 * pins_cm.c — pins kept in a ConfigMap (see pins_cm.h).
 *
 * One object, on the list+watch loop the reflector uses too (listwatch.c,
 * listing by name with a field selector), and one queue of changes of which the
 * head is in flight.  Two rules keep memory from going back in time, since
 * resourceVersions may only be compared for equality:
 *
 *   - a relist never overlaps a write of this core (whichever comes
 *     second waits), so a list is newer than every write answer already
 *     applied, and replaces memory outright;
 *   - after a write answer with resourceVersion N is applied, the watch's
 *     events are older than N until N itself comes by (the stream is in
 *     order, and the write's precondition proves nothing came between its
 *     base and N): their content is skipped.  If N has already come by
 *     (an event may beat the answer) the answer is not applied at all.
 *     If N does not come within PINS_CM_RYW_TIMEOUT_MS, the core relists.
 *
 * Requests are only started from kclient's done callbacks, timers and the
 * request handlers, never from inside a body callback (libcurl refuses
 * that), which is why a watch event only changes memory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/cmjson.h"
#include "core/core_limits.h"
#include "core/kclient.h"
#include "core/listwatch.h"
#include "core/log.h"
#include "core/pin_set.h"
#include "core/pins_cm.h"
#include "proto-socket/ps_buf.h"

/* One state of the ConfigMap, as read from the API. */
struct cm_read {
	int exists;
	char rv[PS_MAX_RV + 1];
	struct pin_set *set; /* NULL when the document is invalid */
	int invalid;
	char why[192];
	size_t other_keys;
};

struct pins_cm_op {
	struct pins_cm *cm;
	struct pins_cm_op *next; /* cm's queue */
	char name[PS_MAX_NAME + 1];
	struct pin_change change;
	pins_done_cb done;
	void *arg;
	unsigned attempts;   /* writes made */
	unsigned conflicts;  /* of which 409 (or 404) */
	struct event *pause; /* before a re-read after a conflict */
	struct cm_read b;    /* the base: b.set is NULL for memory */
	int post;
	struct kc_req *req;
	struct cmjson *cj;
	struct pins_result res;
};

struct pins_cm {
	struct event_base *base;
	struct kc *kc;
	struct pins_cm_hooks hooks;
	char namespace[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
	char where[PS_MAX_NAMESPACE + PS_MAX_NAME + 16];
	uint32_t max_replicas;
	/* The ConfigMap as memory holds it. */
	int exists;
	char rv[PS_MAX_RV + 1];
	int invalid; /* its document does not parse: memory has the last
	              * good one */
	char invalid_why[192];
	int warned_other_keys;
	int loaded;
	char not_loaded[384];
	/* List and watch (listwatch.c). */
	struct lw *lw;
	struct cmjson *cj; /* the parser of the answer in progress */
	struct cm_read l;  /* the list being read */
	size_t l_items;
	int relist_wanted; /* a relist waits for the write in flight */
	/* This core's last write, until the watch brings it. */
	char own_rv[PS_MAX_RV + 1];
	struct event *ryw_timer;
	char seen[PINS_CM_SEEN][PS_MAX_RV + 1];
	size_t seen_next;
	/* Changes: FIFO, the head in flight while op_running. */
	struct pins_cm_op *q_head, *q_tail;
	size_t queued;
	int op_running;
	int kicking;
	struct pins_cm_stats stats;
};

static void kick(struct pins_cm *cm);
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

/* ------------------------------------------------------------ states */

static void
read_clear(struct cm_read *r)
{
	pin_set_free(r->set);
	memset(r, 0, sizeof(*r));
}

/* No ConfigMap: no pins.  0, or -1 when out of memory. */
static int
read_absent(struct cm_read *r)
{
	read_clear(r);
	return (r->set = pin_set_new()) != NULL ? 0 : -1;
}

/* A ConfigMap the API showed (validated by cmjson).  A document that does
 * not parse is a state too (r->invalid).  0, or -1 when out of memory. */
static int
read_object(
    const struct pins_cm *cm, const struct cmjson_cm *o, struct cm_read *r)
{
	read_clear(r);
	r->exists = 1;
	memcpy(r->rv, o->rv, sizeof(r->rv));
	r->other_keys = o->other_keys;
	if (!o->has_value) /* no key: no pins */
		return (r->set = pin_set_new()) != NULL ? 0 : -1;
	if (pin_set_parse(o->value, o->value_len, cm->namespace,
	        cm->max_replicas, &r->set, r->why, sizeof(r->why)) != 0) {
		r->set = NULL;
		r->invalid = 1;
	}
	return 0;
}

static int
same_object(const struct pins_cm *cm, const struct cmjson_cm *o)
{
	return strcmp(o->name, cm->name) == 0 &&
	    (o->namespace[0] == '\0' ||
	        strcmp(o->namespace, cm->namespace) == 0);
}

/* Why nothing is loaded (cut to fit: it ends up in an error answer). */
static void __attribute__((format(printf, 2, 3)))
set_not_loaded(struct pins_cm *cm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cm->not_loaded, sizeof(cm->not_loaded), fmt, ap);
	va_end(ap);
}

static void
mark_loaded(struct pins_cm *cm)
{
	const struct pin_set *s = cm->hooks.current(cm->hooks.arg);

	if (cm->loaded || s == NULL)
		return;
	cm->loaded = 1;
	log_kv(LOG_LEVEL_INFO, 0,
	    (struct log_kv[]){LOG_S("configmap", cm->name),
	        LOG_U("pins", pin_set_count(s)),
	        LOG_S("rv", cm->exists ? cm->rv : "-")},
	    3, "pins: loaded %zu from %s%s", pin_set_count(s), cm->where,
	    cm->exists ? "" : " (no ConfigMap yet: no pins)");
}

/* Memory becomes `r` (its set is taken); `how` for the log. */
static void
install(struct pins_cm *cm, struct cm_read *r, const char *how)
{
	const struct pin_set *cur = cm->hooks.current(cm->hooks.arg);

	cm->exists = r->exists;
	memcpy(cm->rv, r->rv, sizeof(cm->rv));
	if (r->other_keys != 0 && !cm->warned_other_keys) {
		cm->warned_other_keys = 1;
		log_warnx("pins: %s has %zu data keys besides %s; replicad "
		          "owns this ConfigMap and its writes do not keep them",
		    cm->where, r->other_keys, PINS_CM_KEY);
	}
	if (r->invalid) {
		cm->stats.invalid_documents++;
		cm->invalid = 1;
		memcpy(cm->invalid_why, r->why, sizeof(cm->invalid_why));
		log_kv(LOG_LEVEL_WARN, 0,
		    (struct log_kv[]){
		        LOG_S("configmap", cm->name), LOG_S("rv", r->rv)},
		    2, "pins: %s (%s) holds an invalid document: %s; %s",
		    cm->where, how, r->why,
		    cur != NULL ? "keeping the last good pins"
		                : "no pins are loaded until it is fixed");
		if (cur == NULL)
			set_not_loaded(cm,
			    "%s holds an invalid pins document (%s): fix or "
			    "delete it",
			    cm->where, r->why);
		return;
	}
	if (cm->invalid)
		log_info("pins: %s holds a valid document again", cm->where);
	cm->invalid = 0;
	log_kv(LOG_LEVEL_INFO, 0,
	    (struct log_kv[]){LOG_S("configmap", cm->name),
	        LOG_S("rv", r->exists ? r->rv : "-"),
	        LOG_U("pins", pin_set_count(r->set))},
	    3, "pins: %s %s", cm->where, how);
	cm->hooks.replace(cm->hooks.arg, r->set);
	r->set = NULL;
	mark_loaded(cm);
}

static int
seen_recently(const struct pins_cm *cm, const char *rv)
{
	for (size_t i = 0; i < PINS_CM_SEEN; i++)
		if (strcmp(cm->seen[i], rv) == 0)
			return 1;
	return 0;
}

static void
remember_seen(struct pins_cm *cm, const char *rv)
{
	snprintf(cm->seen[cm->seen_next], sizeof(cm->seen[0]), "%s", rv);
	cm->seen_next = (cm->seen_next + 1) % PINS_CM_SEEN;
}

/* This core's write answered with r->rv: memory becomes it, unless the
 * watch has already brought that state (memory is then as new or newer). */
static void
install_own(struct pins_cm *cm, struct cm_read *r)
{
	struct timeval tv = {PINS_CM_RYW_TIMEOUT_MS / 1000,
	    (PINS_CM_RYW_TIMEOUT_MS % 1000) * 1000};

	if (seen_recently(cm, r->rv))
		return;
	install(cm, r, "written by this core");
	memcpy(cm->own_rv, r->rv, sizeof(cm->own_rv));
	if (evtimer_add(cm->ryw_timer, &tv) != 0)
		log_warnx("pins: cannot arm a timer");
}

static void
own_seen(struct pins_cm *cm)
{
	cm->own_rv[0] = '\0';
	(void)evtimer_del(cm->ryw_timer);
}

/* ------------------------------------------------------ list + watch */

/* The hint a 401/403 deserves: which permission the Role lacks. */
static const char *
rbac_hint(long status)
{
	return status == 401 || status == 403
	    ? " (the core's Role needs get, list, watch, create and update "
	      "on configmaps)"
	    : "";
}

static int
list_item_cb(void *arg, enum kjson_event ev, const struct cmjson_cm *o)
{
	struct pins_cm *cm = arg;

	(void)ev;
	if (!same_object(cm, o) || ++cm->l_items > 1) {
		log_warnx("pins: the list of %s by name answered another "
		          "ConfigMap",
		    cm->where);
		return -1;
	}
	return read_object(cm, o, &cm->l) == 0 ? 0 : -1;
}

static int
watch_event_cb(void *arg, enum kjson_event ev, const struct cmjson_cm *o)
{
	struct pins_cm *cm = arg;
	struct cm_read r;
	int rc = 0;

	switch (ev) {
	case KJSON_EV_ADDED:
	case KJSON_EV_MODIFIED:
	case KJSON_EV_DELETED:
		if (!same_object(cm, o)) {
			log_warnx("pins: the watch of %s sent another object",
			    cm->where);
			return -1;
		}
		lw_event(cm->lw, o->rv, 0);
		remember_seen(cm, o->rv);
		if (cm->own_rv[0] != '\0') {
			/* Older than this core's write, or that write. */
			if (strcmp(o->rv, cm->own_rv) == 0)
				own_seen(cm);
			return 0;
		}
		memset(&r, 0, sizeof(r));
		if ((ev == KJSON_EV_DELETED ? read_absent(&r)
		                            : read_object(cm, o, &r)) != 0) {
			log_warnx("pins: out of memory");
			rc = -1; /* a relist will bring it */
		} else
			install(cm, &r,
			    ev == KJSON_EV_DELETED ? "deleted: no pins"
			                           : "changed");
		read_clear(&r);
		return rc;
	case KJSON_EV_BOOKMARK:
		lw_event(cm->lw, o->rv, 1);
		return 0;
	case KJSON_EV_ERROR:
		lw_error_event(cm->lw, o->code, o->message);
		return -1;
	case KJSON_EV_NONE:
		break;
	}
	return -1;
}

static int
may_list_cb(void *arg)
{
	struct pins_cm *cm = arg;

	if (cm->op_running) {
		/* Not while this core writes: see the top of the file. */
		cm->relist_wanted = 1;
		return -1;
	}
	cm->relist_wanted = 0;
	return 0;
}

static int
begin_cb(void *arg, enum lw_req req)
{
	struct pins_cm *cm = arg;

	cmjson_free(cm->cj);
	if (req == LW_WATCH)
		cm->cj =
		    cmjson_new(CMJSON_WATCH, PINS_CM_KEY, watch_event_cb, cm);
	else {
		read_clear(&cm->l);
		cm->l_items = 0;
		cm->cj = cmjson_new(CMJSON_LIST, PINS_CM_KEY, list_item_cb, cm);
	}
	return cm->cj != NULL ? 0 : -1;
}

static int
feed_cb(void *arg, const char *buf, size_t len)
{
	struct pins_cm *cm = arg;

	return cmjson_feed(cm->cj, buf, len);
}

static int
finish_cb(void *arg, enum lw_req req, int aborted, struct lw_page *page,
    const char **why)
{
	struct pins_cm *cm = arg;
	const struct cmjson_cm *top;

	if (aborted || cmjson_finish(cm->cj) == -1) {
		*why = cmjson_error(cm->cj);
		return -1;
	}
	if (req == LW_WATCH)
		return 0;
	top = cmjson_top(cm->cj);
	memcpy(page->rv, top->rv, sizeof(page->rv));
	/* A list by name has one item at most: never paginated. */
	if (cm->l_items == 0 && read_absent(&cm->l) != 0) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

static void
listed_cb(void *arg, const char *rv, uint64_t started_ms)
{
	struct pins_cm *cm = arg;

	(void)rv;
	(void)started_ms;
	/* Newer than any write of this core (they never overlap). */
	own_seen(cm);
	install(cm, &cm->l, cm->l.exists ? "listed" : "listed: no ConfigMap");
	read_clear(&cm->l);
	kick(cm);
}

static void
list_failed_cb(void *arg, long status, const char *why)
{
	struct pins_cm *cm = arg;

	if (!cm->loaded)
		set_not_loaded(cm, "cannot read the pins from %s: %s%s",
		    cm->where, why, rbac_hint(status));
	read_clear(&cm->l);
	kick(cm); /* changes may go on meanwhile */
}

/* This core's write did not come back on the watch: relist. */
static void
ryw_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pins_cm *cm = arg;

	(void)fd;
	(void)what;
	log_warnx("pins: the watch of %s has not brought this core's write "
	          "(rv %s) in %d ms; relisting",
	    cm->where, cm->own_rv, PINS_CM_RYW_TIMEOUT_MS);
	lw_relist(cm->lw); /* a list in flight: its end clears own_rv */
}

/* ------------------------------------------------------------ writes */

static void
op_free(struct pins_cm_op *op)
{
	if (op == NULL)
		return;
	kc_cancel(op->req);
	cmjson_free(op->cj);
	read_clear(&op->b);
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
	op_free(op);
	done(arg, &res);
	if (cm->relist_wanted)
		lw_relist(cm->lw);
	kick(cm);
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
	    rbac_hint(res->status));
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
	if (!same_object(op->cm, o) ||
	    (o->kind[0] != '\0' && strcmp(o->kind, "ConfigMap") != 0))
		return -1;
	return read_object(op->cm, o, r);
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
			install_own(cm, &r);
		read_clear(&r);
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
	        LOG_U("delay_ms", ms)},
	    4, "pins: %s changed since it was read; reading it again",
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
		r = pin_set_apply(base, cm->namespace, cm->max_replicas,
		    &op->change, &next, &op->res.had, &op->res.old, err,
		    sizeof(err));
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
		    op->name, cm->namespace);
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
		if (read_absent(&op->b) != 0) {
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

	read_clear(&op->b);
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
	read_clear(&op->b);
	op->b.exists = cm->exists;
	memcpy(op->b.rv, cm->rv, sizeof(op->b.rv));
	op_attempt(op, cur, 0);
}

/* Starts queued changes while nothing stops them: one at a time, never
 * during a list, and only once something is loaded. */
static void
kick(struct pins_cm *cm)
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
	memcpy(op->name, c->name, len + 1);
	op->change = *c;
	op->change.name = op->name;
	op->done = done;
	op->arg = arg;
	if (cm->q_tail != NULL)
		cm->q_tail->next = op;
	else
		cm->q_head = op;
	cm->q_tail = op;
	cm->queued++;
	kick(cm);
}

/* ------------------------------------------------------------ object */

struct pins_cm *
pins_cm_new(const struct pins_cm_config *cfg, const struct pins_cm_hooks *hooks)
{
	char path[KC_MAX_PATH + 1], selector[PS_MAX_NAME + 32];
	struct pins_cm *cm;
	struct lw_target t = {
	    .path = path,
	    .field_selector = selector,
	    .page_limit = 0,
	    .what = NULL, /* set below: cm->where */
	};
	struct lw_hooks lh = {
	    .begin = begin_cb,
	    .feed = feed_cb,
	    .finish = finish_cb,
	    .may_list = may_list_cb,
	    .listed = listed_cb,
	    .list_failed = list_failed_cb,
	    .hint = rbac_hint,
	};

	if (ps_valid_namespace(cfg->namespace, strlen(cfg->namespace)) !=
	        PS_OK ||
	    ps_valid_name(cfg->name, strlen(cfg->name)) != PS_OK ||
	    hooks->current == NULL || hooks->replace == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((cm = calloc(1, sizeof(*cm))) == NULL)
		return NULL;
	cm->base = cfg->base;
	cm->kc = cfg->kc;
	cm->hooks = *hooks;
	cm->max_replicas = cfg->max_replicas;
	snprintf(cm->namespace, sizeof(cm->namespace), "%s", cfg->namespace);
	snprintf(cm->name, sizeof(cm->name), "%s", cfg->name);
	snprintf(cm->where, sizeof(cm->where), "ConfigMap %s/%s",
	    cfg->namespace, cfg->name);
	t.what = cm->where;
	snprintf(cm->not_loaded, sizeof(cm->not_loaded),
	    "%s has not been read yet", cm->where);
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps",
	    cfg->namespace);
	snprintf(selector, sizeof(selector), "metadata.name%%3D%s", cfg->name);
	lh.arg = cm;
	if ((cm->lw = lw_new(cfg->base, cfg->kc, &t, &lh)) == NULL ||
	    (cm->ryw_timer = evtimer_new(cfg->base, ryw_timeout_cb, cm)) ==
	        NULL) {
		pins_cm_free(cm);
		return NULL;
	}
	return cm;
}

int
pins_cm_start(struct pins_cm *cm)
{
	lw_start(cm->lw);
	return 0;
}

void
pins_cm_free(struct pins_cm *cm)
{
	struct pins_cm_op *op;
	struct pins_result res;

	if (cm == NULL)
		return;
	lw_free(cm->lw);
	cm->lw = NULL;
	while ((op = cm->q_head) != NULL) {
		cm->q_head = op->next;
		memset(&res, 0, sizeof(res));
		res.rc = PINS_STORE_FAILED;
		res.code = PS_E_UNAVAILABLE;
		res.retry_after = 1;
		snprintf(res.message, sizeof(res.message), "shutting down");
		op->done(op->arg, &res);
		op_free(op);
	}
	cmjson_free(cm->cj);
	read_clear(&cm->l);
	if (cm->ryw_timer != NULL)
		event_free(cm->ryw_timer);
	free(cm);
}

int
pins_cm_loaded(const struct pins_cm *cm)
{
	return cm->loaded;
}

const char *
pins_cm_not_loaded(const struct pins_cm *cm)
{
	return cm->not_loaded;
}

const char *
pins_cm_where(const struct pins_cm *cm)
{
	return cm->where;
}

void
pins_cm_get_stats(const struct pins_cm *cm, struct pins_cm_stats *st)
{
	*st = cm->stats;
	st->invalid = cm->invalid;
}
