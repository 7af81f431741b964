/*
 * ks_ctrl.c — timers that drive deployments' status toward spec.
 *
 * One pending entry per deployment needing work; its timer fires after
 * the configured delay and commits one ks_obj_controller_step through the
 * normal store path, whose event re-arms the entry while work remains.
 * Paused: entries stay armed but do nothing until resumed.  No pods, no
 * ReplicaSets: only the status fields clients read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "tests/kube-sim/ks_ctrl.h"
#include "tests/kube-sim/ks_limits.h"
#include "tests/kube-sim/ks_server.h"
#include "tests/kube-sim/ks_store.h"
#include "tests/kube-sim/log.h"

struct pending {
	struct pending *next;
	struct ks_ctrl *ctrl;
	char ns[KS_MAX_NAMESPACE + 1];
	char name[KS_MAX_NAME + 1];
	struct event *ev;
};

struct ks_ctrl {
	struct ks_server *srv;
	struct pending *list;
	int paused;
	long delay_ms;
	long step;
};

static void step_cb(evutil_socket_t, short, void *);

struct ks_ctrl *
ks_ctrl_new(struct ks_server *srv, long delay_ms, long step)
{
	struct ks_ctrl *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->srv = srv;
	c->delay_ms = delay_ms;
	c->step = step;
	return c;
}

static void
pending_free(struct pending *p)
{
	event_free(p->ev);
	free(p);
}

void
ks_ctrl_free(struct ks_ctrl *c)
{
	struct pending *p, *next;

	if (c == NULL)
		return;
	for (p = c->list; p != NULL; p = next) {
		next = p->next;
		pending_free(p);
	}
	free(c);
}

static void
arm(struct ks_ctrl *c, struct pending *p)
{
	struct timeval tv;

	tv.tv_sec = c->delay_ms / 1000;
	tv.tv_usec = (suseconds_t)(c->delay_ms % 1000 * 1000);
	evtimer_add(p->ev, &tv);
}

static void
unlink_pending(struct ks_ctrl *c, struct pending *p)
{
	struct pending **pp;

	for (pp = &c->list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

static void
step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	struct ks_ctrl *c = p->ctrl;
	struct ks_obj *cur, *next;

	(void)fd;
	(void)what;
	if (c->paused) {
		arm(c, p);
		return;
	}
	unlink_pending(c, p);
	cur = ks_store_get(c->srv->store, KS_KIND_DEPLOYMENT, p->ns, p->name);
	pending_free(p);
	if (cur == NULL || ks_obj_controller_done(cur))
		return;
	if ((next = ks_obj_clone(cur)) == NULL) {
		log_warnx("controller: out of memory");
		return;
	}
	ks_obj_controller_step(next, c->step, time(NULL));
	/* The MODIFIED event comes back through ks_ctrl_notify and
	 * re-arms a timer while the deployment is not done. */
	if (ks_store_update(c->srv->store, next) < 0)
		log_warnx("controller: update failed");
}

void
ks_ctrl_notify(struct ks_ctrl *c, const struct ks_event *e)
{
	struct pending *p;
	const struct ks_obj *o = e->obj;

	if (o->kind != KS_KIND_DEPLOYMENT || e->type == KS_EV_DELETED)
		return;
	for (p = c->list; p != NULL; p = p->next) {
		if (strcmp(p->ns, o->ns) == 0 && strcmp(p->name, o->name) == 0)
			return; /* already armed; it reads the latest state */
	}
	if (ks_obj_controller_done(o))
		return;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return;
	p->ctrl = c;
	snprintf(p->ns, sizeof(p->ns), "%s", o->ns);
	snprintf(p->name, sizeof(p->name), "%s", o->name);
	if ((p->ev = evtimer_new(c->srv->base, step_cb, p)) == NULL) {
		free(p);
		return;
	}
	p->next = c->list;
	c->list = p;
	arm(c, p);
}

void
ks_ctrl_set(struct ks_ctrl *c, int paused, long delay_ms, long step)
{
	c->paused = paused;
	if (delay_ms >= 0)
		c->delay_ms = delay_ms;
	if (step >= 0)
		c->step = step;
}

int
ks_ctrl_paused(const struct ks_ctrl *c)
{
	return c->paused;
}

long
ks_ctrl_delay(const struct ks_ctrl *c)
{
	return c->delay_ms;
}

long
ks_ctrl_step(const struct ks_ctrl *c)
{
	return c->step;
}
