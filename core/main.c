/*
 * main.c — replicad-core: wiring of the modules, signals and the event
 * loop (flags and the Kubernetes endpoint: core_opts.c).
 *
 * Modules: kclient (HTTP to the API), reflector (list+watch into the
 * cache), cache, scale (write path), health (API probe), serve (the
 * proto-socket handlers), ipc_server (the socket), lease (leader
 * election, with --lease-name), hpa_watch (which HPA targets which
 * Deployment; always on, read-only).  No flag turns off TLS
 * verification of the API server.
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
#include "core/pins/pins.h"
#include "core/pins/reconcile.h"
#include "core/kube/reflector.h"
#include "core/kube/scale.h"
#include "core/serve.h"

struct core {
	struct event_base *base;
	struct ipcs *srv;
	struct kc *kc;
	struct cache *cache;
	struct refl *refl;
	/* HPAs of the namespace (read-only): the write path (serve_deps.hpa)
	 * and the reconciler (recon_deps.hpa) ask it before scaling. */
	struct hpa_watch *hpa;
	struct scale *scale;
	struct health *health;
	struct serve *serve;
	struct pins *pins; /* NULL without --pin-file / --pin-configmap */
	struct recon *recon;
	struct evrec *events; /* Kubernetes Events (NULL if it failed) */
	struct event *sigterm;
	struct event *sigint;
	int signals;
	/* Leader election (NULL without --lease-name). */
	struct lease *lease;
	int drained;   /* clients drained; exit once the lease is released */
	int releasing; /* lease_release() has not called back yet */
};

/* Reflector hooks: the write path learns what the watch delivered. */
static void
applied_cb(void *arg, const char *name, const char *rv)
{
	struct core *core = arg;

	scale_applied(core->scale, name, rv);
	if (core->recon != NULL)
		recon_check(core->recon, name);
}

static void
synced_cb(void *arg, uint64_t list_started_ms)
{
	struct core *core = arg;

	scale_relisted(core->scale, list_started_ms);
	if (core->recon != NULL)
		recon_check_all(core->recon);
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

	if (core->recon != NULL)
		recon_check_all(core->recon);
}

/* Pins store hook: a pin was set, changed or removed, by anyone. */
static void
pin_changed_cb(void *arg, const char *ns, const char *name)
{
	struct core *core = arg;

	(void)ns; /* one namespace served: the core's */
	if (core->recon != NULL)
		recon_pin_changed(core->recon, name);
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
	struct core *core = arg;

	if (core->recon != NULL)
		recon_check_all(core->recon);
}

static void
start_kube(struct core *core, const struct core_opts *o)
{
	struct kc_config kcfg;
	struct refl_hooks hooks;
	struct serve_deps deps;

	/* Before any list+watch loop is made: each takes it when created. */
	lw_set_default_resync((uint64_t)o->resync_s * 1000u);
	memset(&kcfg, 0, sizeof(kcfg));
	kcfg.api_url = o->kube_api;
	kcfg.token_file = o->token_file;
	kcfg.ca_file = o->ca_file;
	memset(&hooks, 0, sizeof(hooks));
	hooks.applied_cb = applied_cb;
	hooks.synced_cb = synced_cb;
	hooks.arg = core;
	if ((core->kc = kc_new(core->base, &kcfg)) == NULL)
		fatalx("cannot set up the Kubernetes API client");
	start_events(core, o);
	if ((core->cache = cache_new(CORE_MAX_DEPLOYMENTS)) == NULL ||
	    (core->refl = refl_new(core->base, core->kc, core->cache,
	         o->namespace, &hooks)) == NULL ||
	    (core->scale = scale_new(core->base, core->kc, core->cache,
	         o->namespace, o->max_replicas, o->self_deployment)) == NULL ||
	    (core->health = health_new(core->base, core->kc, core->refl,
	         core->cache, o->namespace)) == NULL ||
	    (core->hpa = hpa_watch_new(core->base, core->kc, o->namespace)) ==
	        NULL)
		fatal("cannot set up the cache");
	scale_set_events(core->scale, core->events);
	/* Pins in a ConfigMap: read (list+watch) once the loop runs. */
	if (o->pin_configmap != NULL) {
		struct pins_hooks ph = {pin_changed_cb, core};
		char err[512];

		if ((core->pins = pins_open_configmap(core->base, core->kc,
		         o->namespace, o->pin_configmap, &o->namespace, 1,
		         o->max_replicas, &ph, err, sizeof(err))) == NULL)
			fatalx("%s", err);
		log_info("pins: kept in ConfigMap %s/%s", o->namespace,
		    o->pin_configmap);
	}
	if (core->pins != NULL) {
		struct recon_deps rd;

		memset(&rd, 0, sizeof(rd));
		rd.base = core->base;
		rd.cache = core->cache;
		rd.pins = core->pins;
		rd.scale = core->scale;
		rd.refl = core->refl;
		rd.leading = leading_cb;
		rd.leading_arg = core;
		rd.events = core->events;
		rd.hpa = core->hpa;
		if ((core->recon = recon_new(&rd)) == NULL)
			fatal("cannot set up the reconciler");
		hpa_watch_set_changed_cb(core->hpa, hpa_changed_cb, core);
	}
	memset(&deps, 0, sizeof(deps));
	deps.srv = core->srv;
	deps.cache = core->cache;
	deps.refl = core->refl;
	deps.scale = core->scale;
	deps.health = core->health;
	deps.kc = core->kc;
	deps.pins = core->pins;
	deps.recon = core->recon;
	deps.namespace = o->namespace;
	deps.version = CORE_VERSION;
	deps.self = o->self_deployment;
	deps.events = core->events;
	deps.hpa = core->hpa;
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
	if (refl_start(core->refl) != 0)
		fatalx("cannot start the reflector");
	/* With the Deployment cache; its 403/404 (no Role grant, no
	 * autoscaling/v2) is logged and retried, never fatal. */
	hpa_watch_start(core->hpa);
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

		if ((core.pins = pins_open_file(o.pin_file, &o.namespace, 1,
		         o.max_replicas, &ph, err, sizeof(err))) == NULL)
			fatalx("%s", err);
		log_info("pins: %zu in namespace %s, stored in %s",
		    pins_count(core.pins), o.namespace, o.pin_file);
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
	cfg.namespace = o.namespace; /* the default (the only one served) */
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
		    LOG_S("namespace", o.namespace), LOG_S("api", o.kube_api),
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
	recon_free(core.recon);
	core.recon = NULL;
	health_free(core.health);
	scale_free(core.scale);
	lease_free(core.lease);
	hpa_watch_free(core.hpa);
	refl_free(core.refl);
	cache_free(core.cache);
	pins_free(core.pins);
	evrec_free(core.events);
	kc_free(core.kc);
	event_free(core.sigterm);
	event_free(core.sigint);
	event_base_free(core.base);
	libevent_global_shutdown();
	return 0;
}
