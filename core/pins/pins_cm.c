/*
 * pins_cm.c — pins kept in a ConfigMap (see pins_cm.h): the object, and
 * the ConfigMap read into memory; its changes are pins_cm_write.c's.
 *
 * One object, on the list+watch loop the reflector uses too (listwatch.c,
 * listing by name with a field selector), and one queue of changes of
 * which the head is in flight (pins_cm_write.c).  Two rules keep memory from
 * going back in time, since resourceVersions may only be compared for equality:
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
#include "core/pins/cmjson.h"
#include "core/core_limits.h"
#include "core/kube/kclient.h"
#include "core/kube/listwatch.h"
#include "core/log.h"
#include "core/pins/pin_set.h"
#include "core/pins/pins_cm.h"
#include "core/pins/pins_cm_int.h"
#include "proto-socket/ps_buf.h"

/* ------------------------------------------------------------ states */

void
cm_read_clear(struct cm_read *r)
{
	pin_set_free(r->set);
	memset(r, 0, sizeof(*r));
}

/* No ConfigMap: no pins.  0, or -1 when out of memory. */
int
cm_read_absent(struct cm_read *r)
{
	cm_read_clear(r);
	return (r->set = pin_set_new()) != NULL ? 0 : -1;
}

/* A ConfigMap the API showed (validated by cmjson).  A document that does
 * not parse is a state too (r->invalid).  0, or -1 when out of memory. */
int
cm_read_object(
    const struct pins_cm *cm, const struct cmjson_cm *o, struct cm_read *r)
{
	cm_read_clear(r);
	r->exists = 1;
	memcpy(r->rv, o->rv, sizeof(r->rv));
	r->other_keys = o->other_keys;
	if (!o->has_value) /* no key: no pins */
		return (r->set = pin_set_new()) != NULL ? 0 : -1;
	if (pin_set_parse(o->value, o->value_len, cm->set, &r->set, r->why,
	        sizeof(r->why)) != 0) {
		r->set = NULL;
		r->invalid = 1;
	}
	return 0;
}

int
cm_same_object(const struct pins_cm *cm, const struct cmjson_cm *o)
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
void
cm_install_own(struct pins_cm *cm, struct cm_read *r)
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
const char *
cm_rbac_hint(long status)
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
	if (!cm_same_object(cm, o) || ++cm->l_items > 1) {
		log_warnx("pins: the list of %s by name answered another "
		          "ConfigMap",
		    cm->where);
		return -1;
	}
	return cm_read_object(cm, o, &cm->l) == 0 ? 0 : -1;
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
		if (!cm_same_object(cm, o)) {
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
		if ((ev == KJSON_EV_DELETED ? cm_read_absent(&r)
		                            : cm_read_object(cm, o, &r)) != 0) {
			log_warnx("pins: out of memory");
			rc = -1; /* a relist will bring it */
		} else
			install(cm, &r,
			    ev == KJSON_EV_DELETED ? "deleted: no pins"
			                           : "changed");
		cm_read_clear(&r);
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
		cm_read_clear(&cm->l);
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
	if (cm->l_items == 0 && cm_read_absent(&cm->l) != 0) {
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
	cm_read_clear(&cm->l);
	cm_kick(cm);
}

static void
list_failed_cb(void *arg, long status, const char *why)
{
	struct pins_cm *cm = arg;

	if (!cm->loaded)
		set_not_loaded(cm, "cannot read the pins from %s: %s%s",
		    cm->where, why, cm_rbac_hint(status));
	cm_read_clear(&cm->l);
	cm_kick(cm); /* changes may go on meanwhile */
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
	    .hint = cm_rbac_hint,
	};

	if (ps_valid_namespace(cfg->namespace, strlen(cfg->namespace)) !=
	        PS_OK ||
	    ps_valid_name(cfg->name, strlen(cfg->name)) != PS_OK ||
	    cfg->set == NULL || hooks->current == NULL ||
	    hooks->replace == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((cm = calloc(1, sizeof(*cm))) == NULL)
		return NULL;
	cm->base = cfg->base;
	cm->kc = cfg->kc;
	cm->hooks = *hooks;
	cm->set = cfg->set;
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
		cm_op_free(op);
	}
	cmjson_free(cm->cj);
	cm_read_clear(&cm->l);
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
