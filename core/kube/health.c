/*
 * health.c — cached, on-demand API probe and the HEALTH record.
 *
 * The probe proves token + RBAC + connectivity (reference §5): a consistent
 * LIST with limit=1 needs `list` on deployments in our namespace.  /healthz
 * or /version would not: they need no RBAC and prove nothing about it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/kube/cache.h"
#include "core/clock.h"
#include "core/core_limits.h"
#include "core/kube/health.h"
#include "core/kube/kclient.h"
#include "core/log.h"
#include "core/kube/reflector.h"
#include "proto-socket/ps_buf.h"

struct health_wait {
	struct health *h;
	struct health_wait *next;
	struct event *timer; /* answer with what is known after this */
	health_done_cb done; /* NULL once detached */
	void *arg;
};

struct health {
	struct event_base *base;
	struct kc *kc;
	struct refl *refl;
	struct cache *cache;
	char namespace[PS_MAX_NAMESPACE + 1];
	struct kc_req *probe;
	uint64_t probe_started_ms;
	uint64_t probed_ms;   /* when the last probe ended; 0 never */
	uint64_t probe_ok_ms; /* when a probe last succeeded; 0 never */
	char probe_error[PS_MAX_MESSAGE + 1];
	struct health_wait *waiting;
};

static uint32_t
age_ms(uint64_t now, uint64_t then)
{
	if (then == 0)
		return PS_AGE_NEVER;
	return now - then >= PS_AGE_NEVER ? PS_AGE_NEVER - 1
	                                  : (uint32_t)(now - then);
}

void
health_snapshot(struct health *h, struct ps_health *out)
{
	struct refl_status st;
	uint64_t now = clock_now_ms();
	int hung;

	refl_get_status(h->refl, &st);
	memset(out, 0, sizeof(*out));
	/* A probe unanswered for this long is a hung API, whatever an older
	 * probe said (the limit is below HEALTH_WAIT_MS, so a waiter that
	 * timed out always sees it). */
	hung = h->probe != NULL && now - h->probe_started_ms >= HEALTH_HUNG_MS;
	if (!hung && h->probe_ok_ms != 0 && h->probe_ok_ms >= h->probed_ms &&
	    now - h->probe_ok_ms <= HEALTH_API_FRESH_MS)
		out->state |= PS_HEALTH_API_OK;
	if (st.synced)
		out->state |= PS_HEALTH_SYNCED;
	if (st.lw.watching)
		out->state |= PS_HEALTH_WATCH;
	out->cache_size = (uint32_t)cache_size(h->cache);
	out->last_event_age_ms = age_ms(now, st.lw.last_event_ms);
	out->api_ok_age_ms = age_ms(now, h->probe_ok_ms);
	if (hung)
		snprintf(out->message, sizeof(out->message),
		    "Kubernetes API probe unanswered for %llu ms",
		    (unsigned long long)(now - h->probe_started_ms));
	else if (!(out->state & PS_HEALTH_API_OK))
		snprintf(out->message, sizeof(out->message), "%s",
		    h->probe_error[0] != '\0'
		        ? h->probe_error
		        : "Kubernetes API not reached yet");
	else if (!(out->state & PS_HEALTH_SYNCED))
		snprintf(
		    out->message, sizeof(out->message), "cache not synced yet");
	else if (!(out->state & PS_HEALTH_WATCH))
		snprintf(
		    out->message, sizeof(out->message), "watch not connected");
	/* The wire allows printable ASCII only. */
	for (char *p = out->message; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
}

static void
free_wait(struct health_wait *w)
{
	if (w->timer != NULL)
		event_free(w->timer);
	free(w);
}

/* The probe is slow: answer this waiter now with what is known. */
static void
wait_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct health_wait *w = arg, **pp;
	struct ps_health rec;

	(void)fd;
	(void)what;
	for (pp = &w->h->waiting; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	health_snapshot(w->h, &rec);
	if (w->done != NULL)
		w->done(w->arg, &rec);
	free_wait(w);
}

static void
answer_all(struct health *h)
{
	struct health_wait *w, *next;
	struct ps_health rec;

	health_snapshot(h, &rec);
	w = h->waiting;
	h->waiting = NULL;
	for (; w != NULL; w = next) {
		next = w->next;
		if (w->done != NULL)
			w->done(w->arg, &rec);
		free_wait(w);
	}
}

static void
probe_done_cb(void *arg, const struct kc_result *res)
{
	struct health *h = arg;

	h->probe = NULL;
	h->probed_ms = clock_now_ms();
	if (!res->transport_error && res->status == 200) {
		h->probe_ok_ms = h->probed_ms;
		h->probe_error[0] = '\0';
	} else {
		snprintf(h->probe_error, sizeof(h->probe_error),
		    "Kubernetes API probe failed: %s%s",
		    res->transport_error ? res->error : "HTTP ",
		    res->transport_error          ? ""
		        : res->status_obj != NULL ? res->status_obj->reason
		                                  : "error");
		log_kv(LOG_LEVEL_WARN, 0,
		    (struct log_kv[]){LOG_I("status", res->status)}, 1, "%s",
		    h->probe_error);
	}
	answer_all(h);
}

struct health_wait *
health_query(struct health *h, health_done_cb done, void *arg)
{
	struct health_wait *w;
	struct ps_health rec;
	char path[KC_MAX_PATH + 1];
	struct timeval tv = {
	    HEALTH_WAIT_MS / 1000, (HEALTH_WAIT_MS % 1000) * 1000};
	uint64_t now = clock_now_ms();

	if (h->probe == NULL && h->probed_ms != 0 &&
	    now - h->probed_ms < HEALTH_PROBE_INTERVAL_MS) {
		health_snapshot(h, &rec);
		done(arg, &rec);
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		health_snapshot(h, &rec);
		done(arg, &rec);
		return NULL;
	}
	w->h = h;
	w->done = done;
	w->arg = arg;
	if ((w->timer = evtimer_new(h->base, wait_timeout_cb, w)) == NULL ||
	    evtimer_add(w->timer, &tv) == -1) {
		free_wait(w);
		health_snapshot(h, &rec);
		done(arg, &rec);
		return NULL;
	}
	if (h->probe == NULL) {
		snprintf(path, sizeof(path),
		    "/apis/apps/v1/namespaces/%s/deployments?limit=1",
		    h->namespace);
		h->probe = kc_start(h->kc, KC_LIST, path, NULL, NULL, 0, NULL,
		    probe_done_cb, h);
		h->probe_started_ms = now;
		if (h->probe == NULL) {
			free_wait(w);
			health_snapshot(h, &rec);
			done(arg, &rec);
			return NULL;
		}
	}
	w->next = h->waiting;
	h->waiting = w;
	return w;
}

void
health_detach(struct health_wait *w)
{
	if (w != NULL)
		w->done = NULL;
}

struct health *
health_new(struct event_base *base, struct kc *kc, struct refl *refl,
    struct cache *cache, const char *namespace)
{
	struct health *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->base = base;
	h->kc = kc;
	h->refl = refl;
	h->cache = cache;
	snprintf(h->namespace, sizeof(h->namespace), "%s", namespace);
	return h;
}

void
health_free(struct health *h)
{
	struct health_wait *w, *next;

	if (h == NULL)
		return;
	kc_cancel(h->probe);
	for (w = h->waiting; w != NULL; w = next) {
		next = w->next;
		free_wait(w);
	}
	free(h);
}
