/*
 * main.c — replicad-core: wiring of the modules, signals and the event
 * loop (flags and the Kubernetes endpoint: core_opts.c).
 *
 * Modules: kclient (HTTP to the API), then for each namespace served
 * (ns_units: --namespaces) a unit of reflector (list+watch into the
 * cache), cache, scale (write path), health (API probe), hpa_watch
 * (which HPA targets which Deployment; always on, read-only) and
 * reconciler; serve (the proto-socket handlers, dispatching by
 * namespace), ipc_server (the socket), lease (leader election, with
 * --lease-name), the Event recorder (one for all namespaces).  No flag
 * turns off TLS verification of the API server.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"
#include "proto-socket/ps_codec.h"
#include "core/kube/cache.h"
#include "core/kube/event_rec.h"
#include "core/core_limits.h"
#include "core/core_opts.h"
#include "core/kube/health.h"
#include "core/kube/hpa_watch.h"
#include "core/ipc/ipc_server.h"
#include "core/kube/kclient.h"
#include "core/kube/lease.h"
#include "core/kube/listwatch.h"
#include "core/log.h"
#include "core/ns_units.h"
#include "core/pins/pins.h"
#include "core/pins/reconcile.h"
#include "core/kube/reflector.h"
#include "core/kube/scale.h"
#include "core/serve.h"

struct core {
	struct event_base *base;
	struct ipcs *srv;
	struct kc *kc;
	/* The namespaces served, each with its cache, reflector, write
	 * path, health probe, HPA watch (read-only: the write path and the
	 * reconciler ask it before scaling) and reconciler. */
	struct nsu *units;
	/* --watch-all-namespaces: the one reflector every unit shares. */
	struct refl *refl_all;
	struct hpa_watch *hpa_all; /* ...and HPA watch */
	/* Deployments in every unit's cache (CORE_MAX_DEPLOYMENTS_ALL). */
	size_t deployments;
	struct serve *serve;
	struct pins *pins;    /* NULL without --pin-file / --pin-configmap */
	struct evrec *events; /* Kubernetes Events (NULL if it failed) */
	struct event *sigterm;
	struct event *sigint;
	int signals;
	/* Leader election (NULL without --lease-name). */
	struct lease *lease;
	int drained;   /* clients drained; exit once the lease is released */
	int releasing; /* lease_release() has not called back yet */
};

/* Reflector hooks (one reflector per namespace, `arg` its unit): the
 * write path learns what the watch delivered. */
static void
applied_cb(void *arg, const char *name, const char *rv)
{
	struct nsu_unit *u = arg;

	scale_applied(u->scale, name, rv);
	if (u->recon != NULL)
		recon_check(u->recon, name);
}

static void
synced_cb(void *arg, uint64_t list_started_ms)
{
	struct nsu_unit *u = arg;

	scale_relisted(u->scale, list_started_ms);
	if (u->recon != NULL)
		recon_check_all(u->recon);
}

/* Every namespace's reconciler looks at every pin. */
static void
check_all_pins(struct core *core)
{
	for (size_t i = 0; i < nsu_count(core->units); i++) {
		struct nsu_unit *u = nsu_at(core->units, i);

		if (u->recon != NULL)
			recon_check_all(u->recon);
	}
}

/* The namespaces served, as the pins store takes them. */
static const char *const *
served(const struct core_opts *o)
{
	static const char *names[CORE_MAX_NAMESPACES];

	for (size_t i = 0; i < o->nns; i++)
		names[i] = o->ns_list[i];
	return names;
}

/* Leader election: only the holder of the Lease reconciles pins. */
static int
leading_cb(void *arg)
{
	struct core *core = arg;

	return lease_leading(core->lease); /* 1 without --lease-name */
}

/* Just became leader: look at every pin (drift while we did not lead). */
static void
started_leading_cb(void *arg)
{
	struct core *core = arg;

	if (core->units != NULL)
		check_all_pins(core);
}

/* Pins store hook: a pin was set, changed or removed, by anyone; its
 * namespace's reconciler hears of it. */
static void
pin_changed_cb(void *arg, const char *ns, const char *name)
{
	struct core *core = arg;
	struct nsu_unit *u;

	if (core->units != NULL && (u = nsu_find(core->units, ns)) != NULL &&
	    u->recon != NULL)
		recon_pin_changed(u->recon, name);
}

/*
 * Kubernetes Events on the Deployments replicad changes, reported as this
 * pod (REPLICAD_POD_NAME or --identity, else the host name, as client-go
 * does).  Advisory: without a recorder the core runs on, and says so.
 */
static void
start_events(struct core *core, const struct core_opts *o)
{
	struct evrec_config cfg;
	char host[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.namespace = o->namespace;
	cfg.reporting_instance = o->identity;
	if (cfg.reporting_instance == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "replicad-core");
		host[sizeof(host) - 1] = '\0';
		host[EVREC_MAX_INSTANCE] = '\0';
		cfg.reporting_instance = host;
	}
	if ((core->events = evrec_new(core->base, core->kc, &cfg)) == NULL)
		log_warnx("Kubernetes Events are off: the recorder could not "
		          "be set up (instance \"%s\")",
		    cfg.reporting_instance);
}

/* The HPAs changed (or were first listed): pins it held back may now be
 * reconciled, or must now be left to their autoscaler. */
static void
hpa_changed_cb(void *arg)
{
	struct nsu_unit *u = arg;

	if (u->recon != NULL)
		recon_check_all(u->recon);
}

/* A namespace's cache: its own bound, and the one of all together. */
static struct cache *
new_cache(struct core *core)
{
	struct cache *c;

	if ((c = cache_new(CORE_MAX_DEPLOYMENTS)) != NULL)
		cache_share_bound(
		    c, &core->deployments, CORE_MAX_DEPLOYMENTS_ALL);
	return c;
}

/*
 * One namespace's unit: its cache, list+watch, write path (replicad's own
 * Deployment is in the home namespace only), probe and HPA watch; with
 * pins kept for it, its reconciler.
 */
static void
start_unit(struct core *core, const struct core_opts *o, struct nsu_unit *u)
{
	struct refl_hooks hooks;

	memset(&hooks, 0, sizeof(hooks));
	hooks.applied_cb = applied_cb;
	hooks.synced_cb = synced_cb;
	hooks.arg = u;
	u->owner = core;
	/* With --watch-all-namespaces the cache and the shared reflector
	 * are made already (start_watch_all). */
	if ((u->cache == NULL && (u->cache = new_cache(core)) == NULL) ||
	    (u->refl == NULL &&
	        (u->refl = refl_new(core->base, core->kc, u->cache,
	             u->namespace, &hooks)) == NULL) ||
	    (u->scale = scale_new(core->base, core->kc, u->cache, u->namespace,
	         o->max_replicas, u->home ? o->self_deployment : NULL)) ==
	        NULL ||
	    (u->health = health_new(core->base, core->kc, u->refl, u->cache,
	         u->namespace)) == NULL ||
	    (u->hpa == NULL &&
	        (u->hpa = hpa_watch_new(core->base, core->kc, u->namespace)) ==
	            NULL))
		fatal("cannot set up namespace %s", u->namespace);
	scale_set_events(u->scale, core->events);
	/* The pins store serves every namespace served. */
	if (core->pins != NULL) {
		struct recon_deps rd;

		memset(&rd, 0, sizeof(rd));
		rd.base = core->base;
		rd.cache = u->cache;
		rd.pins = core->pins;
		rd.scale = u->scale;
		rd.refl = u->refl;
		rd.leading = leading_cb;
		rd.leading_arg = core;
		rd.events = core->events;
		rd.hpa = u->hpa;
		rd.namespace = u->namespace;
		if ((u->recon = recon_new(&rd)) == NULL)
			fatal("cannot set up the reconciler");
		hpa_watch_set_changed_cb(u->hpa, hpa_changed_cb, u);
	}
}

/*
 * --watch-all-namespaces: every unit's cache, and one reflector over
 * /apis/apps/v1/deployments routing each object to its namespace's cache
 * (and hooks), ignoring the namespaces not served.
 */
static void
start_watch_all(struct core *core)
{
	struct refl_route routes[CORE_MAX_NAMESPACES];
	struct refl_hooks hooks[CORE_MAX_NAMESPACES];
	struct hpa_watch *hpa[CORE_MAX_NAMESPACES];
	const char *names[CORE_MAX_NAMESPACES];
	size_t n = nsu_count(core->units);

	for (size_t i = 0; i < n; i++) {
		struct nsu_unit *u = nsu_at(core->units, i);

		if ((u->cache = new_cache(core)) == NULL)
			fatal("cannot set up namespace %s", u->namespace);
		memset(&hooks[i], 0, sizeof(hooks[i]));
		hooks[i].applied_cb = applied_cb;
		hooks[i].synced_cb = synced_cb;
		hooks[i].arg = u;
		routes[i].namespace = u->namespace;
		routes[i].cache = u->cache;
		routes[i].hooks = &hooks[i];
		names[i] = u->namespace;
	}
	if ((core->refl_all = refl_new_all(core->base, core->kc, routes, n)) ==
	    NULL)
		fatal("cannot set up the list+watch across namespaces");
	if ((core->hpa_all = hpa_watch_new_all(
	         core->base, core->kc, names, n, hpa)) == NULL)
		fatal("cannot set up the HPA watch across namespaces");
	for (size_t i = 0; i < n; i++) {
		nsu_at(core->units, i)->refl = core->refl_all;
		nsu_at(core->units, i)->hpa = hpa[i];
	}
	log_info("watching Deployments and HPAs across all namespaces, "
	         "serving %s",
	    nsu_names(core->units));
}

static void
free_units(struct nsu *units, struct refl *shared, struct hpa_watch *hpa_all)
{
	/* The HPA watch across namespaces first: it feeds the units'. */
	hpa_watch_free(hpa_all);
	if (units == NULL)
		return;
	for (size_t i = 0; i < nsu_count(units); i++) {
		struct nsu_unit *u = nsu_at(units, i);

		recon_free(u->recon);
		u->recon = NULL;
		health_free(u->health);
		scale_free(u->scale);
		if (hpa_all == NULL) /* else freed with it, above */
			hpa_watch_free(u->hpa);
		if (u->refl != shared)
			refl_free(u->refl);
		cache_free(u->cache);
	}
	refl_free(shared);
	nsu_free(units);
}

static void
start_kube(struct core *core, const struct core_opts *o)
{
	struct kc_config kcfg;
	struct serve_deps deps;

	/* Before any list+watch loop is made: each takes it when created. */
	lw_set_default_resync((uint64_t)o->resync_s * 1000u);
	memset(&kcfg, 0, sizeof(kcfg));
	kcfg.api_url = o->kube_api;
	kcfg.token_file = o->token_file;
	kcfg.ca_file = o->ca_file;
	if ((core->kc = kc_new(core->base, &kcfg)) == NULL)
		fatalx("cannot set up the Kubernetes API client");
	start_events(core, o);
	/* Pins in a ConfigMap: read (list+watch) once the loop runs. */
	if (o->pin_configmap != NULL) {
		struct pins_hooks ph = {pin_changed_cb, core};
		char err[512];

		if ((core->pins = pins_open_configmap(core->base, core->kc,
		         o->namespace, o->pin_configmap, served(o), o->nns,
		         o->max_replicas, &ph, err, sizeof(err))) == NULL)
			fatalx("%s", err);
		log_info("pins: kept in ConfigMap %s/%s", o->namespace,
		    o->pin_configmap);
	}
	if ((core->units = nsu_new(o->ns_list, o->nns, o->namespace)) == NULL)
		fatal("cannot set up the namespaces served");
	if (o->watch_all)
		start_watch_all(core);
	for (size_t i = 0; i < nsu_count(core->units); i++)
		start_unit(core, o, nsu_at(core->units, i));
	memset(&deps, 0, sizeof(deps));
	deps.srv = core->srv;
	deps.units = core->units;
	deps.kc = core->kc;
	deps.pins = core->pins;
	deps.version = CORE_VERSION;
	deps.self = o->self_deployment;
	deps.events = core->events;
	/* Leader election (lease.c logs when leadership starts and stops).
	 * A reconcile write already in flight when leadership is lost still
	 * completes; none starts after. */
	if (o->lease_name != NULL) {
		struct lease_hooks lh;

		memset(&lh, 0, sizeof(lh));
		lh.started_leading = started_leading_cb;
		lh.arg = core;
		if ((core->lease = lease_new(core->base, core->kc, o->namespace,
		         o->lease_name, o->identity, &lh)) == NULL ||
		    lease_start(core->lease) != 0)
			fatalx("cannot set up leader election");
	}
	deps.lease = core->lease;
	if ((core->serve = serve_new(&deps)) == NULL)
		fatal("cannot register handlers");
	for (size_t i = 0; i < nsu_count(core->units); i++) {
		struct nsu_unit *u = nsu_at(core->units, i);

		if ((core->refl_all == NULL || i == 0) &&
		    refl_start(u->refl) != 0)
			fatalx("cannot start the reflector of namespace %s",
			    u->namespace);
		/* With the Deployment cache; its 403/404 (no Role grant, no
		 * autoscaling/v2) is logged and retried, never fatal. */
		hpa_watch_start(u->hpa);
	}
	if (core->hpa_all != NULL)
		hpa_watch_start(core->hpa_all);
	if (core->pins != NULL && pins_start(core->pins) != 0)
		fatalx("cannot start reading the pins");
}

/* ------------------------------------------------------------------ */
/* Signals and the loop                                                */

static void
drained_cb(void *arg)
{
	struct core *core = arg;

	core->drained = 1;
	if (core->releasing)
		return; /* released_cb exits (the release is bounded) */
	log_info("all clients closed; exiting");
	event_base_loopexit(core->base, NULL);
}

/* Leader election: the Lease was released (or could not be in time). */
static void
released_cb(void *arg)
{
	struct core *core = arg;

	core->releasing = 0;
	if (core->drained)
		drained_cb(core);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct core *core = arg;

	(void)what;
	if (core->signals++ == 0) {
		log_info("signal %d: draining (up to %d ms), then exiting",
		    (int)sig, CORE_DRAIN_TIMEOUT_MS);
		/* Stop leading and release the Lease (at most
		 * LEASE_RELEASE_TIMEOUT_MS) while the clients drain. */
		if (core->lease != NULL) {
			core->releasing = 1;
			lease_release(core->lease, released_cb, core);
		}
	} else
		log_info("signal %d again: closing now", (int)sig);
	ipcs_shutdown(core->srv, drained_cb, core);
}

int
main(int argc, char *argv[])
{
	struct core_opts o;
	struct ipcs_config cfg;
	struct core core;

	core_opts_parse(argc, argv, &o);
	log_init("replicad-core", o.level, o.format);
	memset(&core, 0, sizeof(core));
	/* Before the socket: a bad pins file stops the core at once. */
	if (o.pin_file != NULL) {
		char err[512];
		struct pins_hooks ph = {pin_changed_cb, &core};

		if ((core.pins = pins_open_file(o.pin_file, served(&o), o.nns,
		         o.max_replicas, &ph, err, sizeof(err))) == NULL)
			fatalx("%s", err);
		log_info("pins: %zu in the namespaces served, stored in %s",
		    pins_count(core.pins), o.pin_file);
	}

	/* A peer that vanishes mid-write is an error return, not a signal. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("signal");
	if ((core.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");

	ipcs_config_init(&cfg);
	cfg.path = o.socket;
	cfg.uids = o.uids;
	cfg.nuids = o.nuids;
	cfg.namespace = o.ns_list[0]; /* the default namespace */
	if ((core.srv = ipcs_new(core.base, &cfg)) == NULL)
		fatal("cannot serve on %s", o.socket);
	start_kube(&core, &o);

	if ((core.sigterm = evsignal_new(
	         core.base, SIGTERM, signal_cb, &core)) == NULL ||
	    (core.sigint = evsignal_new(core.base, SIGINT, signal_cb, &core)) ==
	        NULL ||
	    evsignal_add(core.sigterm, NULL) != 0 ||
	    evsignal_add(core.sigint, NULL) != 0)
		fatalx("cannot handle signals");

	{
		struct log_kv kv[] = {LOG_S("socket", o.socket),
		    LOG_U("allowed_uids", o.nuids),
		    LOG_S("namespace", o.namespace),
		    LOG_S("namespaces", nsu_names(core.units)),
		    LOG_S("api", o.kube_api),
		    LOG_S("token_file",
		        o.token_file != NULL ? o.token_file : "-"),
		    LOG_U("resync_period_s", o.resync_s)};

		log_kv(LOG_LEVEL_INFO, 0, kv, sizeof(kv) / sizeof(kv[0]),
		    "replicad-core %s ready", CORE_VERSION);
	}

	if (event_base_dispatch(core.base) < 0)
		fatalx("event loop failed");

	ipcs_free(core.srv);
	serve_free(core.serve);
	free_units(core.units, core.refl_all, core.hpa_all);
	core.units = NULL;
	lease_free(core.lease);
	pins_free(core.pins);
	evrec_free(core.events);
	kc_free(core.kc);
	event_free(core.sigterm);
	event_free(core.sigint);
	event_base_free(core.base);
	libevent_global_shutdown();
	return 0;
}
