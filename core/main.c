/*
 * main.c — replicad-core: flags, the event loop, signals, and the request
 * handlers of this increment.
 *
 * The core has no Kubernetes client yet (the reflector, cache, write path
 * and pins are the next increments of issue #4).  Until they land it
 * answers truthfully: LIST/GET/SCALE/PIN_* are UNAVAILABLE ("cache not
 * synced"), HEALTH reports that the API has not been reached, METRICS
 * reports the socket server's real counters.  The --kube-* and
 * --namespace flags are validated now and used by those increments; no
 * flag turns off TLS verification of the API server, now or later.
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
#include "core/core_limits.h"
#include "core/ipc_server.h"
#include "core/log.h"

#define CORE_VERSION        "0.1.0"
#define CORE_DEFAULT_SOCKET "/run/replicad/core.sock"

struct core_opts {
	const char *socket;
	uid_t uids[CORE_MAX_ALLOW_UIDS];
	size_t nuids;
	enum log_level level;
	enum log_format format;
	const char *namespace;  /* NULL: in-cluster namespace file, later */
	const char *kube_api;   /* NULL: in-cluster service env, later */
	const char *token_file; /* NULL: the projected default, later */
	const char *ca_file;
};

struct core {
	struct event_base *base;
	struct ipcs *srv;
	struct event *sigterm;
	struct event *sigint;
	int signals;
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
	    "           [--kube-ca-file PATH] [--version] [--help]\n"
	    "Each flag may also be set as REPLICAD_<NAME> in the environment\n"
	    "(REPLICAD_SOCKET, REPLICAD_ALLOW_UID=uid[,uid...], ...);\n"
	    "a flag wins over the environment.\n");
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
	    {"version", no_argument, NULL, O_VERSION},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	const char *level = env("REPLICAD_LOG_LEVEL");
	const char *format = env("REPLICAD_LOG_FORMAT");
	const char *uids = env("REPLICAD_ALLOW_UID");
	int ch, flag_uids = 0;

	memset(o, 0, sizeof(*o));
	o->socket = env("REPLICAD_SOCKET");
	o->namespace = env("REPLICAD_NAMESPACE");
	o->kube_api = env("REPLICAD_KUBE_API");
	o->token_file = env("REPLICAD_KUBE_TOKEN_FILE");
	o->ca_file = env("REPLICAD_KUBE_CA_FILE");
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
}

/* ------------------------------------------------------------------ */
/* Handlers of this increment                                          */

/* LIST, GET, SCALE, PIN_*: nothing to serve until the cache exists. */
static void
answer_not_synced(struct ipcs_req *req, void *arg)
{
	(void)arg;
	(void)ipcs_answer_error(req, PS_E_UNAVAILABLE, CORE_RETRY_NOT_SYNCED,
	    "cache not synced: the Kubernetes API has not been reached");
}

static void
answer_health(struct ipcs_req *req, void *arg)
{
	struct ps_health h;

	(void)arg;
	memset(&h, 0, sizeof(h));
	h.state = 0;
	h.cache_size = 0;
	h.last_event_age_ms = PS_AGE_NEVER;
	h.api_ok_age_ms = PS_AGE_NEVER;
	snprintf(h.message, sizeof(h.message),
	    "Kubernetes API not reached: this core has no API client yet; "
	    "cache not synced");
	(void)ipcs_answer_health(req, &h);
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

static void
answer_metrics(struct ipcs_req *req, void *arg)
{
	struct core *core = arg;
	struct evbuffer *text;

	/* Bounded by the number of series, not by any peer. */
	if ((text = evbuffer_new()) == NULL ||
	    evbuffer_add_printf(text,
	        "# HELP replicad_core_build_info Build information.\n"
	        "# TYPE replicad_core_build_info gauge\n"
	        "replicad_core_build_info{version=\"%s\",protocol=\"%d\"} 1\n",
	        CORE_VERSION, PS_VERSION) < 0 ||
	    ipcs_stats_prometheus(core->srv, text) != 0) {
		log_warnx("metrics: out of memory");
		if (text != NULL)
			evbuffer_free(text);
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 1, "out of memory");
		return;
	}
	(void)ipcs_answer_text(req, metrics_next, metrics_done, text);
}

static void
register_handlers(struct core *core)
{
	static const uint16_t not_synced[] = {PS_T_LIST, PS_T_GET, PS_T_SCALE,
	    PS_T_PIN_LIST, PS_T_PIN_GET, PS_T_PIN_PUT, PS_T_PIN_DELETE};

	for (size_t i = 0; i < sizeof(not_synced) / sizeof(not_synced[0]); i++)
		if (ipcs_set_handler(
		        core->srv, not_synced[i], answer_not_synced, core) != 0)
			fatal("handler for %s", ps_type_name(not_synced[i]));
	if (ipcs_set_handler(core->srv, PS_T_HEALTH, answer_health, core) !=
	        0 ||
	    ipcs_set_handler(core->srv, PS_T_METRICS, answer_metrics, core) !=
	        0)
		fatal("handlers");
}

/* ------------------------------------------------------------------ */
/* Signals and the loop                                                */

static void
drained_cb(void *arg)
{
	struct core *core = arg;

	log_info("all clients closed; exiting");
	event_base_loopexit(core->base, NULL);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct core *core = arg;

	(void)what;
	if (core->signals++ == 0)
		log_info("signal %d: draining (up to %d ms), then exiting",
		    (int)sig, CORE_DRAIN_TIMEOUT_MS);
	else
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
	log_init("replicad-core", o.level, o.format);
	memset(&core, 0, sizeof(core));

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
	register_handlers(&core);

	if ((core.sigterm = evsignal_new(
	         core.base, SIGTERM, signal_cb, &core)) == NULL ||
	    (core.sigint = evsignal_new(core.base, SIGINT, signal_cb, &core)) ==
	        NULL ||
	    evsignal_add(core.sigterm, NULL) != 0 ||
	    evsignal_add(core.sigint, NULL) != 0)
		fatalx("cannot handle signals");

	if (o.kube_api != NULL || o.token_file != NULL || o.ca_file != NULL ||
	    o.namespace != NULL)
		log_info("Kubernetes settings validated; the API client is "
		         "not built yet, so they are not used");
	{
		struct log_kv kv[] = {LOG_S("socket", o.socket),
		    LOG_U("allowed_uids", o.nuids),
		    LOG_S(
		        "namespace", o.namespace != NULL ? o.namespace : "-")};

		log_kv(LOG_LEVEL_INFO, 0, kv, sizeof(kv) / sizeof(kv[0]),
		    "replicad-core %s ready", CORE_VERSION);
	}

	if (event_base_dispatch(core.base) < 0)
		fatalx("event loop failed");

	ipcs_free(core.srv);
	event_free(core.sigterm);
	event_free(core.sigint);
	event_base_free(core.base);
	libevent_global_shutdown();
	return 0;
}
