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
#include "core/ns_units.h"
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

/* The HPA watch of each namespace, and the pins it (or an annotation)
 * suspends. */
static void
hpa_metrics(struct serve *s, struct evbuffer *b, int *err)
{
	size_t n = nsu_count(s->d.units);
	struct hpa_watch_status hs;

	metric(b, err,
	    "# HELP replicad_core_hpa_watch_synced 1 once the "
	    "HorizontalPodAutoscalers were listed.\n"
	    "# TYPE replicad_core_hpa_watch_synced gauge\n"
	    "# HELP replicad_core_hpa_watch_unavailable 1 while the API "
	    "refuses the list (403: the Role; 404: no autoscaling/v2).\n"
	    "# TYPE replicad_core_hpa_watch_unavailable gauge\n"
	    "# HELP replicad_core_hpas HorizontalPodAutoscalers that "
	    "target a Deployment.\n"
	    "# TYPE replicad_core_hpas gauge\n");
	for (size_t i = 0; i < n; i++) {
		struct nsu_unit *u = nsu_at(s->d.units, i);

		if (u->hpa == NULL)
			continue;
		hpa_watch_get_status(u->hpa, &hs);
		metric(b, err,
		    "replicad_core_hpa_watch_synced{namespace=\"%s\"} %d\n"
		    "replicad_core_hpa_watch_unavailable{namespace=\"%s\"} "
		    "%d\n"
		    "replicad_core_hpas{namespace=\"%s\"} %zu\n",
		    u->namespace, hs.state == HPA_WATCH_SYNCED, u->namespace,
		    hs.state == HPA_WATCH_UNAVAILABLE, u->namespace,
		    hs.entries);
	}
	if (s->d.pins == NULL)
		return;
	metric(b, err,
	    "# HELP replicad_core_pins_suspended Pins not reconciled, by "
	    "why.\n"
	    "# TYPE replicad_core_pins_suspended gauge\n");
	for (size_t i = 0; i < n; i++) {
		struct nsu_unit *u = nsu_at(s->d.units, i);
		unsigned long long suspended[PS_PIN_STATE_MAX + 1] = {0};
		char after[PS_MAX_NAME + 1] = "";
		struct cache_deploy d;
		struct ps_pin pin;

		while (pins_next(s->d.pins, u->namespace, u->namespace, after,
		           &pin) == 1) {
			memcpy(after, pin.name, sizeof(after));
			if (cache_get(u->cache, pin.name, &d) == 0)
				suspended[serve_pin_state(s, u, &d)]++;
		}
		metric(b, err,
		    "replicad_core_pins_suspended{namespace=\"%s\","
		    "reason=\"pin\"} %llu\n"
		    "replicad_core_pins_suspended{namespace=\"%s\","
		    "reason=\"annotation\"} %llu\n"
		    "replicad_core_pins_suspended{namespace=\"%s\","
		    "reason=\"autoscaler\"} %llu\n",
		    u->namespace, suspended[PS_PIN_SUSPENDED], u->namespace,
		    suspended[PS_PIN_ANNOTATED], u->namespace,
		    suspended[PS_PIN_AUTOSCALED]);
	}
}

/* The HELP and TYPE lines of a per-namespace series. */
static void
head(struct evbuffer *b, int *err, const char *name, const char *type,
    const char *help)
{
	metric(b, err, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One namespace's value of a series, from its unit and its reflector. */
typedef unsigned long long (*unit_value_fn)(
    const struct nsu_unit *u, const struct refl_status *rs);

static unsigned long long
v_cache_size(const struct nsu_unit *u, const struct refl_status *rs)
{
	(void)rs;
	return cache_size(u->cache);
}

static unsigned long long
v_synced(const struct nsu_unit *u, const struct refl_status *rs)
{
	(void)u;
	return (unsigned long long)rs->synced;
}

static unsigned long long
v_watching(const struct nsu_unit *u, const struct refl_status *rs)
{
	(void)u;
	return (unsigned long long)rs->lw.watching;
}

static unsigned long long
v_api_ok(const struct nsu_unit *u, const struct refl_status *rs)
{
	struct ps_health h;

	(void)rs;
	health_snapshot(u->health, &h);
	return (h.state & PS_HEALTH_API_OK) != 0;
}

/* The list+watch loop's counters, by their field. */
#define LW_VALUE(field)                                             \
	static unsigned long long v_##field(                        \
	    const struct nsu_unit *u, const struct refl_status *rs) \
	{                                                           \
		(void)u;                                            \
		return rs->lw.field;                                \
	}
LW_VALUE(lists)
LW_VALUE(list_failures)
LW_VALUE(watch_restarts)
LW_VALUE(expired)
LW_VALUE(events)
LW_VALUE(bookmarks)
LW_VALUE(resyncs)

/* The cache, list+watch, probe and write path of every namespace: one
 * row per series, its value read by the row's own function. */
static void
unit_metrics(struct serve *s, struct evbuffer *b, int *err)
{
	static const struct {
		const char *name, *type, *help;
		unit_value_fn value;
	} series[] = {
	    {"replicad_core_cache_deployments", "gauge",
	        "Deployments in the cache.", v_cache_size},
	    {"replicad_core_cache_synced", "gauge",
	        "1 once a complete list was applied.", v_synced},
	    {"replicad_core_watch_connected", "gauge",
	        "1 while a watch is open.", v_watching},
	    {"replicad_core_api_reachable", "gauge",
	        "1 when a recent API probe succeeded.", v_api_ok},
	    {"replicad_core_lists_total", "counter",
	        "Completed lists (relists included).", v_lists},
	    {"replicad_core_list_failures_total", "counter",
	        "Lists that failed.", v_list_failures},
	    {"replicad_core_watch_restarts_total", "counter",
	        "Watches resumed after they ended.", v_watch_restarts},
	    {"replicad_core_watch_expired_total", "counter",
	        "410 Expired answers.", v_expired},
	    {"replicad_core_events_applied_total", "counter",
	        "Watch events applied to the cache.", v_events},
	    {"replicad_core_bookmarks_total", "counter",
	        "Watch bookmarks seen.", v_bookmarks},
	    {"replicad_core_resyncs_total", "counter",
	        "Full relists of the Deployments made by --resync-period.",
	        v_resyncs},
	};
	size_t n = nsu_count(s->d.units);

	for (size_t k = 0; k < sizeof(series) / sizeof(series[0]); k++) {
		head(b, err, series[k].name, series[k].type, series[k].help);
		for (size_t i = 0; i < n; i++) {
			const struct nsu_unit *u = nsu_at(s->d.units, i);
			struct refl_status rs;

			refl_get_status(u->refl, &rs);
			metric(b, err, "%s{namespace=\"%s\"} %llu\n",
			    series[k].name, u->namespace,
			    series[k].value(u, &rs));
		}
	}
	{
		unsigned long long ignored = 0;

		/* --watch-all-namespaces: one reflector shared by every
		 * unit (count it once); else 0. */
		for (size_t i = 0; i < n; i++) {
			struct refl_status rs;
			int seen = 0;

			for (size_t j = 0; j < i; j++)
				seen |= nsu_at(s->d.units, j)->refl ==
				    nsu_at(s->d.units, i)->refl;
			if (seen)
				continue;
			refl_get_status(nsu_at(s->d.units, i)->refl, &rs);
			ignored += rs.ignored;
		}
		metric(b, err,
		    "# HELP replicad_core_watch_ignored_total Deployment "
		    "objects and events of namespaces not served, seen by "
		    "the watch across namespaces (ignored).\n"
		    "# TYPE replicad_core_watch_ignored_total counter\n"
		    "replicad_core_watch_ignored_total %llu\n",
		    ignored);
	}
	head(b, err, "replicad_core_writes_total", "counter",
	    "Scale writes by outcome.");
	for (size_t i = 0; i < n; i++) {
		struct nsu_unit *u = nsu_at(s->d.units, i);
		struct scale_stats ss;

		scale_get_stats(u->scale, &ss);
		metric(b, err,
		    "replicad_core_writes_total{namespace=\"%s\","
		    "outcome=\"ok_synced\"} %llu\n"
		    "replicad_core_writes_total{namespace=\"%s\","
		    "outcome=\"ok_unsynced\"} %llu\n"
		    "replicad_core_writes_total{namespace=\"%s\","
		    "outcome=\"failed\"} %llu\n",
		    u->namespace, (unsigned long long)ss.ok_synced,
		    u->namespace, (unsigned long long)ss.ok_unsynced,
		    u->namespace, (unsigned long long)ss.failed);
	}
}

/* The reconcilers (one per namespace whose pins the store keeps). */
static void
recon_metrics(struct serve *s, struct evbuffer *b, int *err)
{
	size_t n = nsu_count(s->d.units);

	head(b, err, "replicad_core_reconcile_writes_total", "counter",
	    "Writes that scaled a deployment back to its pin, by outcome.");
	for (size_t i = 0; i < n; i++) {
		struct nsu_unit *u = nsu_at(s->d.units, i);
		struct recon_stats rcs;

		if (u->recon == NULL)
			continue;
		recon_get_stats(u->recon, &rcs);
		metric(b, err,
		    "replicad_core_reconcile_writes_total{namespace=\"%s\","
		    "outcome=\"ok\"} %llu\n"
		    "replicad_core_reconcile_writes_total{namespace=\"%s\","
		    "outcome=\"failed\"} %llu\n",
		    u->namespace, (unsigned long long)rcs.writes_ok,
		    u->namespace, (unsigned long long)rcs.writes_failed);
	}
	head(b, err, "replicad_core_reconcile_pending", "gauge",
	    "Pinned deployments waiting for or in a write back to their "
	    "pin.");
	for (size_t i = 0; i < n; i++) {
		struct nsu_unit *u = nsu_at(s->d.units, i);
		struct recon_stats rcs;

		if (u->recon == NULL)
			continue;
		recon_get_stats(u->recon, &rcs);
		metric(b, err,
		    "replicad_core_reconcile_pending{namespace=\"%s\"} %llu\n",
		    u->namespace, (unsigned long long)rcs.pending);
	}
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
	struct api_stats_arg a;
	int err = 0;

	if ((b = evbuffer_new()) == NULL) {
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 1, "out of memory");
		return;
	}
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
	unit_metrics(s, b, &err);
	if (s->d.pins != NULL) {
		struct pins_stats ps;

		pins_get_stats(s->d.pins, &ps);
		recon_metrics(s, b, &err);
		metric(b, &err,
		    "# HELP replicad_core_pins Pinned deployments, by "
		    "namespace served.\n"
		    "# TYPE replicad_core_pins gauge\n");
		for (size_t i = 0; i < nsu_count(s->d.units); i++) {
			const char *ns = nsu_at(s->d.units, i)->namespace;

			metric(b, &err,
			    "replicad_core_pins{namespace=\"%s\"} %zu\n", ns,
			    pins_count_ns(s->d.pins, ns));
		}
		metric(b, &err,
		    "# HELP replicad_core_pin_store_failures_total Pin changes "
		    "that failed because the store could not be read or "
		    "written.\n"
		    "# TYPE replicad_core_pin_store_failures_total counter\n"
		    "replicad_core_pin_store_failures_total %llu\n",
		    (unsigned long long)ps.store_failures);
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
