/*
 * core_opts.c — replicad-core's flags, environment and Kubernetes endpoint
 * (core_opts.h).  Every value is checked here, before any module starts.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core_limits.h"
#include "core/core_opts.h"
#include "core/kube/kclient.h"
#include "core/kube/lease.h"
#include "core/kube/listwatch.h"
#include "core/log.h"
#include "core/ns_units.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"

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
	    "           [--namespace NS] [--namespaces NS[,NS...]] "
	    "[--watch-all-namespaces]\n"
	    "           [--kube-api URL] [--kube-token-file PATH]\n"
	    "           [--kube-ca-file PATH] [--pin-file PATH | "
	    "--pin-configmap NAME]\n"
	    "           [--lease-name NAME] [--identity ID] "
	    "[--max-replicas N]\n"
	    "           [--self-deployment NAME] [--resync-period S]\n"
	    "           [--version] [--help]\n"
	    "--namespace: the home namespace (pins ConfigMap, Lease);\n"
	    "--namespaces: the namespaces served, at most %d, the first the\n"
	    "default (default: the home namespace);\n"
	    "--watch-all-namespaces: one list+watch across namespaces (needs\n"
	    "a ClusterRole with list and watch) instead of one per namespace.\n"
	    "--resync-period: relist every watched resource every S seconds\n"
	    "(+-10%%; default %d, 0 = off, at most %d).\n"
	    "Each flag may also be set as REPLICAD_<NAME> in the environment\n"
	    "(REPLICAD_SOCKET, REPLICAD_ALLOW_UID=uid[,uid...], ...);\n"
	    "a flag wins over the environment.\n",
	    CORE_MAX_NAMESPACES, LW_RESYNC_DEFAULT_S, LW_RESYNC_MAX_S);
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

/* --namespaces / REPLICAD_NAMESPACES: the set served, checked whole. */
static void
set_namespaces(struct core_opts *o, const char *what, const char *list)
{
	char err[256];

	if (nsu_parse_list(list, o->ns_list, &o->nns, err, sizeof(err)) != 0)
		usage_error("%s: %s", what, err);
}

/* A boolean in the environment: 1/true or 0/false. */
static int
env_bool(const char *name)
{
	const char *v = env(name);

	if (v == NULL || strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		return 0;
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
		return 1;
	usage_error("%s: 1 (true) or 0 (false)", name);
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
		O_NAMESPACES,
		O_WATCH_ALL,
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
	    {"namespaces", required_argument, NULL, O_NAMESPACES},
	    {"watch-all-namespaces", no_argument, NULL, O_WATCH_ALL},
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
	const char *namespaces = env("REPLICAD_NAMESPACES");
	const char *namespaces_from = "REPLICAD_NAMESPACES";
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
	o->watch_all = env_bool("REPLICAD_WATCH_ALL_NAMESPACES");
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
		case O_NAMESPACES:
			namespaces = optarg;
			namespaces_from = "--namespaces";
			break;
		case O_WATCH_ALL:
			o->watch_all = 1;
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
	if (namespaces != NULL)
		set_namespaces(o, namespaces_from, namespaces);
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
	/* Served: the home namespace alone unless --namespaces says. */
	if (o->nns == 0) {
		snprintf(
		    o->ns_list[0], sizeof(o->ns_list[0]), "%s", o->namespace);
		o->nns = 1;
	}
}

void
core_opts_parse(int argc, char *argv[], struct core_opts *o)
{
	parse_opts(argc, argv, o);
	resolve_endpoint(o);
}
