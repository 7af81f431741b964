/*
 * serve_metrics.c — the METRICS answer: every module's counters and
 * gauges as Prometheus text (the gateway adds its own and serves them on
 * its probe port).  Built in one buffer and streamed over frames.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "core/kube/cache.h"
#include "core/kube/event_rec.h"
#include "core/kube/health.h"
#include "core/kube/hpa_watch.h"
#include "core/ipc/ipc_server.h"
#include "core/kube/kclient.h"
#include "core/kube/lease.h"
#include "core/pins/pins.h"
#include "core/pins/reconcile.h"
#include "core/kube/reflector.h"
#include "core/kube/scale.h"
#include "core/serve_int.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

/* evbuffer_add_printf for a series; remembers the first failure. */
static void __attribute__((format(printf, 3, 4)))
metric(struct evbuffer *b, int *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (evbuffer_add_vprintf(b, fmt, ap) < 0)
		*err = 1;
	va_end(ap);
}

struct api_stats_arg {
	struct evbuffer *b;
	int *err;
};

static void
api_stat_cb(void *arg, enum kc_verb verb, long status, unsigned long long count)
{
	struct api_stats_arg *a = arg;

	metric(a->b, a->err,
	    "replicad_core_api_requests_total{verb=\"%s\",code=\"%ld\"} "
	    "%llu\n",
	    kc_verb_name(verb), status, count);
}

/* The HPA watch, and the pins it (or an annotation) suspends. */
static void
hpa_metrics(struct serve *s, struct evbuffer *b, int *err)
{
	struct hpa_watch_status hs;
	unsigned long long suspended[PS_PIN_STATE_MAX + 1] = {0};
	char after[PS_MAX_NAME + 1] = "";
	struct cache_deploy d;
	struct ps_pin pin;

	if (s->d.hpa != NULL) {
		hpa_watch_get_status(s->d.hpa, &hs);
		metric(b, err,
		    "# HELP replicad_core_hpa_watch_synced 1 once the "
		    "HorizontalPodAutoscalers were listed.\n"
		    "# TYPE replicad_core_hpa_watch_synced gauge\n"
		    "replicad_core_hpa_watch_synced %d\n"
		    "# HELP replicad_core_hpa_watch_unavailable 1 while the "
		    "API "
		    "refuses the list (403: the Role; 404: no "
		    "autoscaling/v2).\n"
		    "# TYPE replicad_core_hpa_watch_unavailable gauge\n"
		    "replicad_core_hpa_watch_unavailable %d\n"
		    "# HELP replicad_core_hpas HorizontalPodAutoscalers that "
		    "target a Deployment.\n"
		    "# TYPE replicad_core_hpas gauge\n"
		    "replicad_core_hpas %zu\n",
		    hs.state == HPA_WATCH_SYNCED,
		    hs.state == HPA_WATCH_UNAVAILABLE, hs.entries);
	}
	if (s->d.pins == NULL)
		return;
	while (pins_next(s->d.pins, s->namespace, s->namespace, after, &pin) ==
	    1) {
		memcpy(after, pin.name, sizeof(after));
		if (cache_get(s->d.cache, pin.name, &d) == 0)
			suspended[serve_pin_state(s, &d)]++;
	}
	metric(b, err,
	    "# HELP replicad_core_pins_suspended Pins not reconciled, by "
	    "why.\n"
	    "# TYPE replicad_core_pins_suspended gauge\n"
	    "replicad_core_pins_suspended{reason=\"pin\"} %llu\n"
	    "replicad_core_pins_suspended{reason=\"annotation\"} %llu\n"
	    "replicad_core_pins_suspended{reason=\"autoscaler\"} %llu\n",
	    suspended[PS_PIN_SUSPENDED], suspended[PS_PIN_ANNOTATED],
	    suspended[PS_PIN_AUTOSCALED]);
}

static int
metrics_next(void *arg, char *buf, size_t cap)
{
	int n = evbuffer_remove(arg, buf, cap);

	return n < 0 ? -1 : n;
}

static void
metrics_done(void *arg)
{
	evbuffer_free(arg);
}

void
serve_metrics(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	struct evbuffer *b;
	struct refl_status rs;
	struct scale_stats ss;
	struct ps_health h;
	struct api_stats_arg a;
	int err = 0;

	if ((b = evbuffer_new()) == NULL) {
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 1, "out of memory");
		return;
	}
	refl_get_status(s->d.refl, &rs);
	scale_get_stats(s->d.scale, &ss);
	health_snapshot(s->d.health, &h);
	metric(b, &err,
	    "# HELP replicad_core_build_info Build information.\n"
	    "# TYPE replicad_core_build_info gauge\n"
	    "replicad_core_build_info{version=\"%s\",protocol=\"%d\"} 1\n",
	    s->d.version, PS_VERSION);
	metric(b, &err,
	    "# HELP replicad_core_api_requests_total Kubernetes API requests "
	    "by verb and HTTP status (0: no answer).\n"
	    "# TYPE replicad_core_api_requests_total counter\n");
	a.b = b;
	a.err = &err;
	kc_stats(s->d.kc, api_stat_cb, &a);
	metric(b, &err,
	    "# HELP replicad_core_cache_deployments Deployments in the "
	    "cache.\n"
	    "# TYPE replicad_core_cache_deployments gauge\n"
	    "replicad_core_cache_deployments %zu\n"
	    "# HELP replicad_core_cache_synced 1 once a complete list was "
	    "applied.\n"
	    "# TYPE replicad_core_cache_synced gauge\n"
	    "replicad_core_cache_synced %d\n"
	    "# HELP replicad_core_watch_connected 1 while a watch is open.\n"
	    "# TYPE replicad_core_watch_connected gauge\n"
	    "replicad_core_watch_connected %d\n"
	    "# HELP replicad_core_api_reachable 1 when a recent API probe "
	    "succeeded.\n"
	    "# TYPE replicad_core_api_reachable gauge\n"
	    "replicad_core_api_reachable %d\n",
	    cache_size(s->d.cache), rs.synced, rs.lw.watching,
	    (h.state & PS_HEALTH_API_OK) != 0);
	metric(b, &err,
	    "# HELP replicad_core_lists_total Completed lists (relists "
	    "included).\n"
	    "# TYPE replicad_core_lists_total counter\n"
	    "replicad_core_lists_total %llu\n"
	    "# HELP replicad_core_list_failures_total Lists that failed.\n"
	    "# TYPE replicad_core_list_failures_total counter\n"
	    "replicad_core_list_failures_total %llu\n"
	    "# HELP replicad_core_watch_restarts_total Watches resumed after "
	    "they ended.\n"
	    "# TYPE replicad_core_watch_restarts_total counter\n"
	    "replicad_core_watch_restarts_total %llu\n"
	    "# HELP replicad_core_watch_expired_total 410 Expired answers.\n"
	    "# TYPE replicad_core_watch_expired_total counter\n"
	    "replicad_core_watch_expired_total %llu\n"
	    "# HELP replicad_core_events_applied_total Watch events applied "
	    "to the cache.\n"
	    "# TYPE replicad_core_events_applied_total counter\n"
	    "replicad_core_events_applied_total %llu\n"
	    "# HELP replicad_core_bookmarks_total Watch bookmarks seen.\n"
	    "# TYPE replicad_core_bookmarks_total counter\n"
	    "replicad_core_bookmarks_total %llu\n",
	    (unsigned long long)rs.lw.lists,
	    (unsigned long long)rs.lw.list_failures,
	    (unsigned long long)rs.lw.watch_restarts,
	    (unsigned long long)rs.lw.expired, (unsigned long long)rs.lw.events,
	    (unsigned long long)rs.lw.bookmarks);
	metric(b, &err,
	    "# HELP replicad_core_writes_total Scale writes by outcome.\n"
	    "# TYPE replicad_core_writes_total counter\n"
	    "replicad_core_writes_total{outcome=\"ok_synced\"} %llu\n"
	    "replicad_core_writes_total{outcome=\"ok_unsynced\"} %llu\n"
	    "replicad_core_writes_total{outcome=\"failed\"} %llu\n",
	    (unsigned long long)ss.ok_synced,
	    (unsigned long long)ss.ok_unsynced, (unsigned long long)ss.failed);
	if (s->d.pins != NULL) {
		struct pins_stats ps;
		struct recon_stats rcs;

		pins_get_stats(s->d.pins, &ps);
		recon_get_stats(s->d.recon, &rcs);
		metric(b, &err,
		    "# HELP replicad_core_pins Pinned deployments.\n"
		    "# TYPE replicad_core_pins gauge\n"
		    "replicad_core_pins %zu\n"
		    "# HELP replicad_core_pin_store_failures_total Pin changes "
		    "that failed because the store could not be read or "
		    "written.\n"
		    "# TYPE replicad_core_pin_store_failures_total counter\n"
		    "replicad_core_pin_store_failures_total %llu\n"
		    "# HELP replicad_core_reconcile_writes_total Writes that "
		    "scaled a deployment back to its pin, by outcome.\n"
		    "# TYPE replicad_core_reconcile_writes_total counter\n"
		    "replicad_core_reconcile_writes_total{outcome=\"ok\"} "
		    "%llu\n"
		    "replicad_core_reconcile_writes_total{outcome=\"failed\"} "
		    "%llu\n"
		    "# HELP replicad_core_reconcile_pending Pinned deployments "
		    "waiting for or in a write back to their pin.\n"
		    "# TYPE replicad_core_reconcile_pending gauge\n"
		    "replicad_core_reconcile_pending %llu\n",
		    pins_count(s->d.pins),
		    (unsigned long long)ps.store_failures,
		    (unsigned long long)rcs.writes_ok,
		    (unsigned long long)rcs.writes_failed,
		    (unsigned long long)rcs.pending);
		/* The store's state; the ConfigMap counters stay 0 with a
		 * file. */
		metric(b, &err,
		    "# HELP replicad_core_pins_loaded 1 once the pins have "
		    "been read from their store.\n"
		    "# TYPE replicad_core_pins_loaded gauge\n"
		    "replicad_core_pins_loaded %d\n"
		    "# HELP replicad_core_pin_store_invalid 1 while the "
		    "ConfigMap holds a document that does not parse (the last "
		    "good pins are kept).\n"
		    "# TYPE replicad_core_pin_store_invalid gauge\n"
		    "replicad_core_pin_store_invalid %d\n"
		    "# HELP replicad_core_pin_store_conflicts_total ConfigMap "
		    "writes that conflicted with another writer (re-read and "
		    "retried).\n"
		    "# TYPE replicad_core_pin_store_conflicts_total counter\n"
		    "replicad_core_pin_store_conflicts_total %llu\n"
		    "# HELP replicad_core_pin_store_invalid_documents_total "
		    "ConfigMap states seen whose document did not parse.\n"
		    "# TYPE replicad_core_pin_store_invalid_documents_total "
		    "counter\n"
		    "replicad_core_pin_store_invalid_documents_total %llu\n",
		    ps.loaded, ps.invalid, (unsigned long long)ps.conflicts,
		    (unsigned long long)ps.invalid_documents);
	}
	metric(b, &err,
	    "# HELP replicad_core_resyncs_total Full relists of the "
	    "Deployments made by --resync-period.\n"
	    "# TYPE replicad_core_resyncs_total counter\n"
	    "replicad_core_resyncs_total %llu\n",
	    (unsigned long long)rs.lw.resyncs);
	hpa_metrics(s, b, &err);
	/* Leader election (lease.c); without it: always leader. */
	if (lease_stats_prometheus(s->d.lease, b) != 0)
		err = 1;
	if (s->d.events != NULL && evrec_stats_prometheus(s->d.events, b) != 0)
		err = 1;
	if (err || ipcs_stats_prometheus(s->d.srv, b) != 0) {
		evbuffer_free(b);
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 1, "out of memory");
		return;
	}
	(void)ipcs_answer_text(req, metrics_next, metrics_done, b);
}
