/*
 * main.c — replicad-core: flags, the Kubernetes endpoint (in-cluster or
 * --kube-api), wiring of the modules, signals and the event loop.
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

#define CORE_VERSION        "0.1.0"
#define CORE_DEFAULT_SOCKET "/run/replicad/core.sock"
/* In-cluster: the ServiceAccount files, projected into this container. */
#define SA_DIR              "/var/run/secrets/kubernetes.io/serviceaccount"
#define SA_TOKEN            SA_DIR "/token"
#define SA_CA               SA_DIR "/ca.crt"
#define SA_NAMESPACE        SA_DIR "/namespace"

struct core_opts {
	const char *socket;
	uid_t uids[CORE_MAX_ALLOW_UIDS];
	size_t nuids;
	enum log_level level;
	enum log_format format;
	const char *namespace;  /* NULL: in-cluster namespace file */
	const char *kube_api;   /* NULL: in-cluster service env */
	const char *token_file; /* NULL: the projected default in-cluster */
	const char *ca_file;
	const char *pin_file; /* NULL: pins not enabled */
	/* Pins in a ConfigMap (exclusive with pin_file); NULL: not. */
	const char *pin_configmap;
	char api_buf[CORE_MAX_API_URL];
	char ns_buf[PS_MAX_NAMESPACE + 1];
	/* Leader election: no lease name, no election (always leader). */
	const char *lease_name;
	const char *identity; /* set (default or given) with lease_name */
	char id_buf[LEASE_MAX_IDENTITY + 1];
	/* Every write's bounds, enforced here whatever the gateway checked. */
	uint32_t max_replicas;
	const char *self_deployment; /* replicad's own: never scaled */
	/* Full relist of every watched resource this often; 0: off. */
	unsigned long resync_s;
};

struct core {
	struct event_base *base;
	struct ipcs *srv;
	struct kc *kc;
	struct cache *cache;
	struct refl *refl;
	/* HPAs of the namespace (read-only).  XXX not handed to the write
	 * path yet: serve_deps has no field for it (issue #14 item 4). */
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

static void usage(FILE *) __attribute__((noreturn));
static void usage_error(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: replicad-core [--socket PATH] [--allow-uid UID]...\n"
	    "           [--log-level debug|info|warn|error] "
	    "[--log-format text|json]\n"
	    "           [--namespace NS] [--kube-api URL] "
	    "[--kube-token-file PATH]\n"
	    "           [--kube-ca-file PATH] [--pin-file PATH | "
	    "--pin-configmap NAME]\n"
	    "           [--lease-name NAME] [--identity ID] "
	    "[--max-replicas N]\n"
	    "           [--self-deployment NAME] [--resync-period S]\n"
	    "           [--version] [--help]\n"
	    "--resync-period: relist every watched resource every S seconds\n"
	    "(+-10%%; default %d, 0 = off, at most %d).\n"
	    "Each flag may also be set as REPLICAD_<NAME> in the environment\n"
	    "(REPLICAD_SOCKET, REPLICAD_ALLOW_UID=uid[,uid...], ...);\n"
	    "a flag wins over the environment.\n",
	    LW_RESYNC_DEFAULT_S, LW_RESYNC_MAX_S);
	exit(out == stdout ? 0 : 2);
}

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "replicad-core: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
}

static int
parse_uid(const char *s, uid_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	/* (uid_t)-1 means "no uid" to the kernel: never allow it. */
	if (errno != 0 || *end != '\0' || v >= (unsigned long)(uid_t)-1)
		return -1;
	*out = (uid_t)v;
	return 0;
}

/* A count of seconds in [0, max]: digits only, no sign or unit. */
static int
parse_seconds(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static void
add_uids(struct core_opts *o, const char *what, const char *list)
{
	char buf[256];
	char *tok, *save = NULL;

	if (strlen(list) >= sizeof(buf))
		usage_error("%s: list too long", what);
	memcpy(buf, list, strlen(list) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (o->nuids == CORE_MAX_ALLOW_UIDS)
			usage_error(
			    "%s: more than %d uids", what, CORE_MAX_ALLOW_UIDS);
		if (parse_uid(tok, &o->uids[o->nuids]) != 0)
			usage_error("%s: '%s' is not a uid", what, tok);
		o->nuids++;
	}
}

static void
check_path(const char *what, const char *path, int must_exist)
{
	struct stat st;

	if (path[0] == '\0' || strlen(path) >= CORE_MAX_PATH)
		usage_error("%s: empty or longer than %d bytes", what,
		    CORE_MAX_PATH - 1);
	if (must_exist && (stat(path, &st) != 0 || !S_ISREG(st.st_mode)))
		usage_error(
		    "%s: %s is not a readable regular file", what, path);
}

/*
 * --kube-api: https://HOST[:PORT][/PATH], http://... (a kubectl proxy) or
 * unix:/ABSOLUTE/PATH (kubectl proxy --unix-socket).  Syntax only: the
 * client that uses it comes with the reflector.
 */
static void
check_api_url(const char *url)
{
	const char *host;
	size_t len = strlen(url);

	if (len == 0 || len >= CORE_MAX_API_URL)
		usage_error("--kube-api: empty or too long");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] > 0x7e)
			usage_error("--kube-api: invalid character");
	if (strncmp(url, "unix:", 5) == 0) {
		if (url[5] != '/' || len - 5 >= 108)
			usage_error("--kube-api: unix: needs an absolute "
			            "socket path");
		return;
	}
	if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		usage_error("--kube-api: scheme must be https://, http:// or "
		            "unix:");
	if (*host == '\0' || *host == '/' || *host == ':' ||
	    strchr(host, '@') != NULL || strchr(host, '?') != NULL ||
	    strchr(host, '#') != NULL)
		usage_error("--kube-api: needs a host, and no user, query or "
		            "fragment");
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/*
 * Leader election: --lease-name is a DNS-1123 subdomain; --identity (or
 * the pod name) 1..LEASE_MAX_IDENTITY visible ASCII bytes, by default
 * hostname + "_" + 16 random hex digits, like client-go's id.
 */
static void
check_lease_opts(struct core_opts *o)
{
	char host[65];
	size_t i;

	if (o->identity != NULL && !lease_valid_identity(o->identity))
		usage_error("--identity: 1 to %d visible ASCII characters",
		    LEASE_MAX_IDENTITY);
	if (o->lease_name == NULL)
		return;
	if (ps_valid_name(o->lease_name, strlen(o->lease_name)) != PS_OK)
		usage_error("--lease-name: not a DNS-1123 subdomain");
	if (o->identity != NULL)
		return;
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if ((unsigned char)host[i] < 0x21 ||
		    (unsigned char)host[i] > 0x7e)
			break;
	if (i == 0 || host[i] != '\0')
		snprintf(host, sizeof(host), "replicad-core");
	snprintf(o->id_buf, sizeof(o->id_buf), "%s_%08x%08x", host,
	    arc4random(), arc4random());
	o->identity = o->id_buf;
}

static void
parse_opts(int argc, char *argv[], struct core_opts *o)
{
	enum {
		O_SOCKET = 256,
		O_ALLOW_UID,
		O_LOG_LEVEL,
		O_LOG_FORMAT,
		O_NAMESPACE,
		O_KUBE_API,
		O_TOKEN_FILE,
		O_CA_FILE,
		O_LEASE_NAME,
		O_IDENTITY,
		O_PIN_FILE,
		O_PIN_CONFIGMAP,
		O_MAX_REPLICAS,
		O_SELF_DEPLOYMENT,
		O_RESYNC_PERIOD,
		O_VERSION,
		O_HELP
	};
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, O_SOCKET},
	    {"allow-uid", required_argument, NULL, O_ALLOW_UID},
	    {"log-level", required_argument, NULL, O_LOG_LEVEL},
	    {"log-format", required_argument, NULL, O_LOG_FORMAT},
	    {"namespace", required_argument, NULL, O_NAMESPACE},
	    {"kube-api", required_argument, NULL, O_KUBE_API},
	    {"kube-token-file", required_argument, NULL, O_TOKEN_FILE},
	    {"kube-ca-file", required_argument, NULL, O_CA_FILE},
	    {"lease-name", required_argument, NULL, O_LEASE_NAME},
	    {"identity", required_argument, NULL, O_IDENTITY},
	    {"pin-file", required_argument, NULL, O_PIN_FILE},
	    {"pin-configmap", required_argument, NULL, O_PIN_CONFIGMAP},
	    {"max-replicas", required_argument, NULL, O_MAX_REPLICAS},
	    {"self-deployment", required_argument, NULL, O_SELF_DEPLOYMENT},
	    {"resync-period", required_argument, NULL, O_RESYNC_PERIOD},
	    {"version", no_argument, NULL, O_VERSION},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	const char *level = env("REPLICAD_LOG_LEVEL");
	const char *format = env("REPLICAD_LOG_FORMAT");
	const char *uids = env("REPLICAD_ALLOW_UID");
	const char *max_replicas = env("REPLICAD_MAX_REPLICAS");
	const char *resync = env("REPLICAD_RESYNC_PERIOD");
	int ch, flag_uids = 0;

	memset(o, 0, sizeof(*o));
	o->socket = env("REPLICAD_SOCKET");
	o->namespace = env("REPLICAD_NAMESPACE");
	o->kube_api = env("REPLICAD_KUBE_API");
	o->token_file = env("REPLICAD_KUBE_TOKEN_FILE");
	o->ca_file = env("REPLICAD_KUBE_CA_FILE");
	o->lease_name = env("REPLICAD_LEASE_NAME");
	o->identity = env("REPLICAD_POD_NAME");
	o->pin_file = env("REPLICAD_PIN_FILE");
	o->pin_configmap = env("REPLICAD_PIN_CONFIGMAP");
	o->self_deployment = env("REPLICAD_SELF_DEPLOYMENT");
	if (uids != NULL)
		add_uids(o, "REPLICAD_ALLOW_UID", uids);

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case O_SOCKET:
			o->socket = optarg;
			break;
		case O_ALLOW_UID:
			if (!flag_uids) /* flags replace the env list */
				o->nuids = 0;
			flag_uids = 1;
			if (o->nuids == CORE_MAX_ALLOW_UIDS)
				usage_error("--allow-uid: more than %d",
				    CORE_MAX_ALLOW_UIDS);
			if (parse_uid(optarg, &o->uids[o->nuids]) != 0)
				usage_error(
				    "--allow-uid: '%s' is not a uid", optarg);
			o->nuids++;
			break;
		case O_LOG_LEVEL:
			level = optarg;
			break;
		case O_LOG_FORMAT:
			format = optarg;
			break;
		case O_NAMESPACE:
			o->namespace = optarg;
			break;
		case O_KUBE_API:
			o->kube_api = optarg;
			break;
		case O_TOKEN_FILE:
			o->token_file = optarg;
			break;
		case O_CA_FILE:
			o->ca_file = optarg;
			break;
		case O_LEASE_NAME:
			o->lease_name = optarg;
			break;
		case O_IDENTITY:
			o->identity = optarg;
			break;
		case O_PIN_FILE:
			o->pin_file = optarg;
			break;
		case O_PIN_CONFIGMAP:
			o->pin_configmap = optarg;
			break;
		case O_MAX_REPLICAS:
			max_replicas = optarg;
			break;
		case O_SELF_DEPLOYMENT:
			o->self_deployment = optarg;
			break;
		case O_RESYNC_PERIOD:
			resync = optarg;
			break;
		case O_VERSION:
			printf("replicad-core %s (proto-socket v%d)\n",
			    CORE_VERSION, PS_VERSION);
			exit(0);
		case O_HELP:
			usage(stdout);
		default:
			usage(stderr);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);

	if (o->socket == NULL)
		o->socket = CORE_DEFAULT_SOCKET;
	check_path("--socket", o->socket, 0);
	if (o->nuids == 0) {
		o->uids[0] = geteuid();
		o->nuids = 1;
	}
	o->level = LOG_LEVEL_INFO;
	if (level != NULL && log_parse_level(level, &o->level) != 0)
		usage_error("--log-level: debug, info, warn or error");
	o->format = LOG_FORMAT_TEXT;
	if (format != NULL && log_parse_format(format, &o->format) != 0)
		usage_error("--log-format: text or json");
	if (o->namespace != NULL &&
	    ps_valid_namespace(o->namespace, strlen(o->namespace)) != PS_OK)
		usage_error("--namespace: not a DNS-1123 label");
	if (o->kube_api != NULL)
		check_api_url(o->kube_api);
	if (o->token_file != NULL)
		check_path("--kube-token-file", o->token_file, 1);
	if (o->ca_file != NULL)
		check_path("--kube-ca-file", o->ca_file, 1);
	if (o->pin_file != NULL)
		check_path("--pin-file", o->pin_file, 0);
	/* Pins in a ConfigMap: one store only. */
	if (o->pin_configmap != NULL) {
		if (o->pin_file != NULL)
			usage_error("--pin-file and --pin-configmap are "
			            "exclusive: pins live in one store");
		if (ps_valid_name(o->pin_configmap, strlen(o->pin_configmap)) !=
		    PS_OK)
			usage_error(
			    "--pin-configmap: not a DNS-1123 subdomain");
	}
	check_lease_opts(o);
	o->max_replicas = PS_MAX_REPLICAS;
	if (max_replicas != NULL) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(max_replicas, &end, 10);
		if (errno != 0 || end == max_replicas || *end != '\0' ||
		    max_replicas[0] == '-' || v > PS_MAX_REPLICAS)
			usage_error("--max-replicas: an integer from 0 to %u",
			    (unsigned)PS_MAX_REPLICAS);
		o->max_replicas = (uint32_t)v;
	}
	/* Whole seconds, 0 = off, as the gateway's durations
	 * (--tls-reload-interval S). */
	o->resync_s = LW_RESYNC_DEFAULT_S;
	if (resync != NULL &&
	    parse_seconds(resync, LW_RESYNC_MAX_S, &o->resync_s) != 0)
		usage_error("--resync-period: whole seconds from 0 (off) to %d",
		    LW_RESYNC_MAX_S);
	if (o->self_deployment != NULL &&
	    ps_valid_name(o->self_deployment, strlen(o->self_deployment)) !=
	        PS_OK)
		usage_error("--self-deployment: not a DNS-1123 subdomain");
	/* A bearer token over plain HTTP is a token in clear: plain http is
	 * for `kubectl proxy`, which needs none (it adds its own). */
	if (o->kube_api != NULL && strncmp(o->kube_api, "http://", 7) == 0 &&
	    o->token_file != NULL)
		usage_error(
		    "--kube-token-file with an http:// --kube-api would "
		    "send the token in clear; use https://, or "
		    "kubectl proxy without a token");
}

/* ------------------------------------------------------------------ */
/* The Kubernetes endpoint                                             */

/* Reads a small file (the namespace) into `out`, trimmed; 0 or -1. */
static int
read_small_file(const char *path, char *out, size_t outsz)
{
	FILE *fp;
	size_t n, start = 0;

	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	n = fread(out, 1, outsz - 1, fp);
	fclose(fp);
	out[n] = '\0';
	while (n > 0 &&
	    (out[n - 1] == '\n' || out[n - 1] == ' ' || out[n - 1] == '\r' ||
	        out[n - 1] == '\t'))
		out[--n] = '\0';
	while (out[start] == ' ' || out[start] == '\t')
		start++;
	memmove(out, out + start, n - start + 1);
	return 0;
}

/*
 * No --kube-api: we run in a pod.  The API is https://$KUBERNETES_SERVICE_
 * HOST:$KUBERNETES_SERVICE_PORT (an IPv6 host is bracketed), the token and
 * CA are the projected ServiceAccount files, the namespace is the pod's.
 * With --kube-api (a kubectl proxy) nothing is assumed.
 */
static void
resolve_endpoint(struct core_opts *o)
{
	const char *host, *port;
	int n;

	if (o->kube_api == NULL) {
		host = env("KUBERNETES_SERVICE_HOST");
		port = env("KUBERNETES_SERVICE_PORT");
		if (host == NULL || port == NULL)
			usage_error("not in a cluster (KUBERNETES_SERVICE_HOST/"
			            "PORT unset) and no --kube-api given");
		n = snprintf(o->api_buf, sizeof(o->api_buf),
		    strchr(host, ':') != NULL ? "https://[%s]:%s"
		                              : "https://%s:%s",
		    host, port);
		if (n < 0 || (size_t)n >= sizeof(o->api_buf))
			usage_error("KUBERNETES_SERVICE_HOST/PORT too long");
		check_api_url(o->api_buf);
		o->kube_api = o->api_buf;
		if (o->token_file == NULL)
			o->token_file = SA_TOKEN;
		if (o->ca_file == NULL)
			o->ca_file = SA_CA;
		check_path("token file", o->token_file, 1);
		check_path("CA file", o->ca_file, 1);
		if (o->namespace == NULL) {
			if (read_small_file(SA_NAMESPACE, o->ns_buf,
			        sizeof(o->ns_buf)) != 0 ||
			    ps_valid_namespace(o->ns_buf, strlen(o->ns_buf)) !=
			        PS_OK)
				usage_error("no --namespace and no valid %s",
				    SA_NAMESPACE);
			o->namespace = o->ns_buf;
		}
	}
	if (o->namespace == NULL)
		o->namespace = "default";
}

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
pin_changed_cb(void *arg, const char *name)
{
	struct core *core = arg;

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
		         o->namespace, o->pin_configmap, o->max_replicas, &ph,
		         err, sizeof(err))) == NULL)
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

	parse_opts(argc, argv, &o);
	resolve_endpoint(&o);
	log_init("replicad-core", o.level, o.format);
	memset(&core, 0, sizeof(core));
	/* Before the socket: a bad pins file stops the core at once. */
	if (o.pin_file != NULL) {
		char err[512];
		struct pins_hooks ph = {pin_changed_cb, &core};

		if ((core.pins = pins_open_file(o.pin_file, o.namespace,
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
