/*
 * main.c — replicad-gateway: flags and environment, startup, signals,
 * graceful shutdown.
 *
 * Every flag --NAME may also be given as REPLICAD_<NAME> (upper case, '-'
 * -> '_'); the command line wins.  Repeatable flags (--allow-read,
 * --allow-write) take a comma-separated list from the environment.  Their
 * entries are typed (authz.h); one without a known type stops the gateway
 * with exit 2.  Without --allow-write every write is refused.
 *
 * The gateway links neither libcurl nor any Kubernetes client code: all it
 * can do to the cluster is ask the core for one of the typed requests of
 * proto-socket/PROTOCOL.md.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "gateway/api.h"
#include "gateway/authz.h"
#include "gateway/gw_limits.h"
#include "gateway/http_conn.h"
#include "gateway/http_io.h"
#include "gateway/ipc_client.h"
#include "gateway/log.h"
#include "gateway/probe.h"
#include "gateway/reply.h"
#include "gateway/tlsctx.h"
#include "proto-socket/ps.h"

#define GW_VERSION "0.2.0"

struct opts {
	const char *listen;
	const char *probe_listen;
	const char *tls_cert, *tls_key, *client_ca, *client_crl;
	const char *core_socket;
	const char *log_level, *log_format;
	long max_connections;
	long max_replicas;
	long request_timeout;
	long idle_timeout;
	long core_timeout_ms;
	long drain_timeout;
	long tls_reload_interval;
	long max_inflight;
};

struct gw {
	struct event_base *base;
	struct tlsctx *tls;
	struct ipcc *ipcc;
	struct authz *authz;
	struct api *api;
	struct probe *probe;
	struct http_handler api_handler, probe_handler;
	struct http_server *http, *probe_http;
	struct event *ev_term, *ev_int, *ev_hup, *drain_timer, *log_timer;
	struct timeval drain_deadline;
	struct timeval idle_since; /* draining: nothing in flight since */
	int draining;
	long drain_timeout;
};

enum {
	O_LISTEN = 256,
	O_PROBE_LISTEN,
	O_TLS_CERT,
	O_TLS_KEY,
	O_CLIENT_CA,
	O_CLIENT_CRL,
	O_CORE_SOCKET,
	O_ALLOW_READ,
	O_ALLOW_WRITE,
	O_MAX_CONNECTIONS,
	O_LOG_LEVEL,
	O_LOG_FORMAT,
	O_MAX_REPLICAS,
	O_REQUEST_TIMEOUT,
	O_IDLE_TIMEOUT,
	O_CORE_TIMEOUT_MS,
	O_DRAIN_TIMEOUT,
	O_TLS_RELOAD_INTERVAL,
	O_MAX_INFLIGHT,
	O_VERSION,
	O_HELP
};

static const struct option longopts[] = {
    {"listen", required_argument, NULL, O_LISTEN},
    {"probe-listen", required_argument, NULL, O_PROBE_LISTEN},
    {"tls-cert", required_argument, NULL, O_TLS_CERT},
    {"tls-key", required_argument, NULL, O_TLS_KEY},
    {"client-ca", required_argument, NULL, O_CLIENT_CA},
    {"client-crl", required_argument, NULL, O_CLIENT_CRL},
    {"core-socket", required_argument, NULL, O_CORE_SOCKET},
    {"allow-read", required_argument, NULL, O_ALLOW_READ},
    {"allow-write", required_argument, NULL, O_ALLOW_WRITE},
    {"max-connections", required_argument, NULL, O_MAX_CONNECTIONS},
    {"log-level", required_argument, NULL, O_LOG_LEVEL},
    {"log-format", required_argument, NULL, O_LOG_FORMAT},
    {"max-replicas", required_argument, NULL, O_MAX_REPLICAS},
    {"request-timeout", required_argument, NULL, O_REQUEST_TIMEOUT},
    {"idle-timeout", required_argument, NULL, O_IDLE_TIMEOUT},
    {"core-timeout-ms", required_argument, NULL, O_CORE_TIMEOUT_MS},
    {"drain-timeout", required_argument, NULL, O_DRAIN_TIMEOUT},
    {"tls-reload-interval", required_argument, NULL, O_TLS_RELOAD_INTERVAL},
    {"max-inflight", required_argument, NULL, O_MAX_INFLIGHT},
    {"version", no_argument, NULL, O_VERSION},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: replicad-gateway [options]\n"
	    "  --listen ADDR:PORT          mTLS API (default 0.0.0.0:8443)\n"
	    "  --tls-cert FILE             server certificate chain (PEM)\n"
	    "  --tls-key FILE              server private key (PEM)\n"
	    "  --client-ca FILE            CA that issues client certificates\n"
	    "  --client-crl FILE           its CRL(s): revoked clients "
	    "refused\n"
	    "  --core-socket PATH          replicad-core's Unix socket\n"
	    "  --probe-listen ADDR:PORT    plain HTTP probes (default "
	    "0.0.0.0:8080)\n"
	    "  --allow-read ENTRY          name allowed to read (repeatable)\n"
	    "  --allow-write ENTRY         name allowed to read and write "
	    "(repeatable;\n"
	    "                              none: writes are refused)\n"
	    "    ENTRY: CN=<cn>, DNS:<name>, URI:<uri>, email:<addr>, "
	    "IP:<addr>;\n"
	    "           NAMESPACE/ENTRY grants only in that namespace\n"
	    "  --max-connections N         open TLS connections (default %d)\n"
	    "  --max-replicas N            largest accepted replicas (default "
	    "2147483647)\n"
	    "  --request-timeout S         a whole request must arrive in S "
	    "seconds (default %d)\n"
	    "  --idle-timeout S            connection read/write idle timeout "
	    "(default %d)\n"
	    "  --core-timeout-ms MS        per core request deadline (default "
	    "%d)\n"
	    "  --max-inflight N            core requests in flight (default "
	    "%d)\n"
	    "  --drain-timeout S           SIGTERM waits this long (default "
	    "%d)\n"
	    "  --tls-reload-interval S     poll certificate files (0 = off, "
	    "default %d)\n"
	    "  --log-level error|warn|info|debug   --log-format text|json\n"
	    "Each flag may be set as REPLICAD_<NAME>, e.g. "
	    "REPLICAD_TLS_CERT.\n",
	    GW_MAX_CONNECTIONS, GW_REQUEST_DEADLINE, GW_IO_TIMEOUT,
	    GW_CORE_DEADLINE_MS, GW_CORE_MAX_INFLIGHT, GW_DRAIN_TIMEOUT,
	    GW_TLS_RELOAD_SECONDS);
}

static long
number(const char *flag, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		fatalx("--%s: expected an integer in %ld..%ld, got \"%s\"",
		    flag, min, max, s);
	return v;
}

/*
 * A bad allow-list entry stops the gateway with exit 2, as a bad flag
 * does: guessing the type of an untyped name would widen access.  The
 * entry is echoed with anything unprintable as '?'.
 */
static void
allow_fail(const char *where, const char *entry, int err)
{
	char shown[64];
	size_t i;

	for (i = 0; i + 1 < sizeof(shown) && entry[i] != '\0'; i++)
		shown[i] = entry[i] >= 0x20 && entry[i] < 0x7f ? entry[i] : '?';
	shown[i] = '\0';
	fprintf(stderr,
	    "replicad-gateway: %s \"%s%s\": %s; an entry is one of " AUTHZ_FORMS
	    "\n",
	    where, shown, entry[i] != '\0' ? "..." : "", authz_strerror(err));
	exit(2);
}

static void
add_allow(struct authz *a, enum authz_perm perm, const char *list, int split)
{
	char *copy, *tok, *save = NULL;
	int r;

	if (!split) {
		if ((r = authz_add(a, perm, list)) != 0)
			allow_fail(perm == AUTHZ_WRITE ? "--allow-write"
			                               : "--allow-read",
			    list, r);
		return;
	}
	if ((copy = strdup(list)) == NULL)
		fatal("strdup");
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save))
		if (*tok != '\0' && (r = authz_add(a, perm, tok)) != 0)
			allow_fail(perm == AUTHZ_WRITE ? "REPLICAD_ALLOW_WRITE"
			                               : "REPLICAD_ALLOW_READ",
			    tok, r);
	free(copy);
}

static void
set_opt(struct opts *o, struct authz *a, int id, const char *v, int from_env)
{
	switch (id) {
	case O_LISTEN:
		o->listen = v;
		break;
	case O_PROBE_LISTEN:
		o->probe_listen = v;
		break;
	case O_TLS_CERT:
		o->tls_cert = v;
		break;
	case O_TLS_KEY:
		o->tls_key = v;
		break;
	case O_CLIENT_CA:
		o->client_ca = v;
		break;
	case O_CLIENT_CRL:
		o->client_crl = v;
		break;
	case O_CORE_SOCKET:
		o->core_socket = v;
		break;
	case O_ALLOW_READ:
		add_allow(a, AUTHZ_READ, v, from_env);
		break;
	case O_ALLOW_WRITE:
		add_allow(a, AUTHZ_WRITE, v, from_env);
		break;
	case O_MAX_CONNECTIONS:
		o->max_connections =
		    number("max-connections", v, 1, GW_MAX_CONNECTIONS_CAP);
		break;
	case O_LOG_LEVEL:
		o->log_level = v;
		break;
	case O_LOG_FORMAT:
		o->log_format = v;
		break;
	case O_MAX_REPLICAS:
		o->max_replicas =
		    number("max-replicas", v, 0, (long)PS_MAX_REPLICAS);
		break;
	case O_REQUEST_TIMEOUT:
		o->request_timeout = number("request-timeout", v, 1, 3600);
		break;
	case O_IDLE_TIMEOUT:
		o->idle_timeout = number("idle-timeout", v, 1, 3600);
		break;
	case O_CORE_TIMEOUT_MS:
		o->core_timeout_ms = number("core-timeout-ms", v, 10, 600000);
		break;
	case O_DRAIN_TIMEOUT:
		o->drain_timeout = number("drain-timeout", v, 0, 3600);
		break;
	case O_TLS_RELOAD_INTERVAL:
		o->tls_reload_interval =
		    number("tls-reload-interval", v, 0, 86400);
		break;
	case O_MAX_INFLIGHT:
		o->max_inflight = number("max-inflight", v, 1, PS_MAX_INFLIGHT);
		break;
	default:
		break;
	}
}

static void
parse(int argc, char *argv[], struct opts *o, struct authz *a)
{
	const struct option *lo;
	char env[64];
	const char *v;
	size_t i;
	int ch;

	o->listen = "0.0.0.0:8443";
	o->probe_listen = "0.0.0.0:8080";
	o->max_connections = GW_MAX_CONNECTIONS;
	o->max_replicas = (long)PS_MAX_REPLICAS;
	o->request_timeout = GW_REQUEST_DEADLINE;
	o->idle_timeout = GW_IO_TIMEOUT;
	o->core_timeout_ms = GW_CORE_DEADLINE_MS;
	o->drain_timeout = GW_DRAIN_TIMEOUT;
	o->tls_reload_interval = GW_TLS_RELOAD_SECONDS;
	o->max_inflight = GW_CORE_MAX_INFLIGHT;

	/* The command line wins, so the environment goes first ... */
	for (lo = longopts; lo->name != NULL; lo++) {
		if (lo->has_arg != required_argument)
			continue;
		snprintf(env, sizeof(env), "REPLICAD_%s", lo->name);
		for (i = 0; env[i] != '\0'; i++)
			env[i] = env[i] == '-'
			    ? '_'
			    : (char)toupper((unsigned char)env[i]);
		if ((v = getenv(env)) != NULL && *v != '\0')
			set_opt(o, a, lo->val, v, 1);
	}
	/* ... except for the allow-lists, which add up. */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case O_VERSION:
			printf("replicad-gateway %s (proto-socket v%d, %s)\n",
			    GW_VERSION, PS_VERSION,
			    OpenSSL_version(OPENSSL_VERSION));
			exit(0);
		case O_HELP:
			usage(stdout);
			exit(0);
		case '?':
			usage(stderr);
			exit(2);
		default:
			set_opt(o, a, ch, optarg, 0);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	if (log_init(o->log_level, o->log_format) != 0)
		fatalx("--log-level error|warn|info|debug, --log-format "
		       "text|json");
	if (o->tls_cert == NULL || o->tls_key == NULL || o->client_ca == NULL)
		fatalx("--tls-cert, --tls-key and --client-ca are required");
	if (o->core_socket == NULL)
		fatalx("--core-socket is required");
}

/* "host:port" or "[v6]:port" into `host` (capacity `len`) and `*port`. */
static void
split_addr(const char *flag, const char *s, char *host, size_t len,
    unsigned short *port)
{
	const char *colon = strrchr(s, ':');
	const char *h = s;
	size_t hl;

	if (colon == NULL)
		fatalx("--%s: expected ADDR:PORT, got \"%s\"", flag, s);
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= len)
		fatalx("--%s: bad address \"%s\"", flag, s);
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (unsigned short)number(flag, colon + 1, 0, 65535);
}

/*
 * Done when no request is in flight and the answers have left: while
 * draining every answer says Connection: close, so its connection closes
 * once the answer is written.  Idle keep-alive clients get a short grace.
 */
static void
finish_if_idle(struct gw *g, const struct timeval *now)
{
	struct timeval grace = {GW_DRAIN_FLUSH_GRACE_MS / 1000,
	                   (GW_DRAIN_FLUSH_GRACE_MS % 1000) * 1000},
	               until;

	if (http_server_inflight(g->http) != 0 ||
	    http_server_inflight(g->probe_http) != 0) {
		g->idle_since.tv_sec = 0;
		return;
	}
	if (g->idle_since.tv_sec == 0)
		g->idle_since = *now;
	evutil_timeradd(&g->idle_since, &grace, &until);
	if (http_server_connections(g->http) == 0 ||
	    now->tv_sec > until.tv_sec ||
	    (now->tv_sec == until.tv_sec && now->tv_usec >= until.tv_usec)) {
		log_info("drained; exiting");
		event_base_loopexit(g->base, NULL);
	}
}

static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;
	struct timeval now;

	(void)fd;
	(void)what;
	event_base_gettimeofday_cached(g->base, &now);
	if (now.tv_sec > g->drain_deadline.tv_sec ||
	    (now.tv_sec == g->drain_deadline.tv_sec &&
	        now.tv_usec >= g->drain_deadline.tv_usec)) {
		log_warnx("drain timeout: %d request(s) still in flight",
		    http_server_inflight(g->http) +
		        http_server_inflight(g->probe_http));
		event_base_loopexit(g->base, NULL);
		return;
	}
	finish_if_idle(g, &now);
}

static void
term_cb(evutil_socket_t sig, short what, void *arg)
{
	struct gw *g = arg;
	struct timeval tick = {0, 50000}, d = {g->drain_timeout, 0};

	(void)what;
	if (g->draining)
		return;
	g->draining = 1;
	log_info("signal %d: no longer accepting; draining for up to %ld s",
	    (int)sig, g->drain_timeout);
	http_server_drain(g->http);
	probe_set_draining(g->probe);
	event_base_gettimeofday_cached(g->base, &g->drain_deadline);
	evutil_timeradd(&g->drain_deadline, &d, &g->drain_deadline);
	/* A short poll: in-flight counts change inside many callbacks. */
	g->drain_timer = event_new(g->base, -1, EV_PERSIST, drain_cb, g);
	if (g->drain_timer == NULL || event_add(g->drain_timer, &tick) != 0)
		event_base_loopexit(g->base, NULL);
}

/* A reload changed the CA or the CRL: open connections are checked. */
static int
peer_trusted(void *arg, const struct http_peer *p, const char **why)
{
	return tlsctx_still_trusted(arg, p->cert, p->chain, why);
}

static void
tls_reloaded(void *arg)
{
	struct gw *g = arg;
	int n;

	if (g->http == NULL)
		return; /* the first load, before any connection */
	if ((n = http_server_recheck(g->http, peer_trusted, g->tls)) > 0)
		log_info("tls: closed %d connection(s) whose certificates the "
		         "new material no longer trusts",
		    n);
}

static void
hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct gw *g = arg;

	(void)sig;
	(void)what;
	log_info("SIGHUP: reloading certificates"); /* flushes the log too */
	(void)tlsctx_reload(g->tls);
}

/* One listener: every limit explicit (STYLE.md §4). */
/* Buffered access lines leave at least this often. */
static void
log_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_flush();
}

static struct http_server *
listen_on(struct gw *g, const char *flag, const char *addr,
    const struct http_server_config *cfg)
{
	struct http_server *s = http_server_new(g->base, cfg);
	char host[256];
	unsigned short port;

	if (s == NULL)
		fatalx("out of memory");
	split_addr(flag, addr, host, sizeof(host), &port);
	if (http_server_listen(s, host, port) != 0)
		fatal("cannot listen on %s", addr);
	return s;
}

int
main(int argc, char *argv[])
{
	struct gw g;
	struct opts o;
	struct ipcc_config ic;
	struct http_server_config hc;

	memset(&g, 0, sizeof(g));
	memset(&o, 0, sizeof(o));
	if ((g.authz = authz_new()) == NULL)
		fatal("authz");
	parse(argc, argv, &o, g.authz);
	signal(SIGPIPE, SIG_IGN);
	g.drain_timeout = o.drain_timeout;

	if ((g.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	g.tls = tlsctx_new(g.base, o.tls_cert, o.tls_key, o.client_ca,
	    o.client_crl, (int)o.tls_reload_interval);
	if (g.tls == NULL)
		fatalx("cannot load the TLS material");

	memset(&ic, 0, sizeof(ic));
	ic.path = o.core_socket;
	ic.deadline_ms = (int)o.core_timeout_ms;
	ic.max_inflight = (int)o.max_inflight;
	ic.backoff_min_ms = GW_CORE_BACKOFF_MIN_MS;
	ic.backoff_max_ms = GW_CORE_BACKOFF_MAX_MS;
	if ((g.ipcc = ipcc_new(g.base, &ic)) == NULL)
		fatalx("ipcc_new");
	if ((g.api = api_new(g.ipcc, g.authz, (uint32_t)o.max_replicas)) ==
	        NULL ||
	    (g.probe = probe_new(g.ipcc)) == NULL)
		fatalx("out of memory");

	g.api_handler.serve = api_serve;
	g.api_handler.refuse = api_refuse;
	g.api_handler.arg = g.api;
	memset(&hc, 0, sizeof(hc));
	hc.handler = &g.api_handler;
	hc.io_new = http_io_tls_new;
	hc.io_arg = g.tls;
	hc.limits.max_head = GW_MAX_HEADERS_SIZE;
	hc.limits.max_fields = GW_MAX_HEADERS;
	hc.limits.max_target = GW_MAX_URI;
	hc.limits.max_body = GW_MAX_BODY_READ;
	hc.always_headers = REPLY_HEADERS_TLS;
	hc.max_connections = (int)o.max_connections;
	hc.handshake_timeout_s = GW_HANDSHAKE_TIMEOUT;
	hc.request_deadline_s = (int)o.request_timeout;
	hc.idle_timeout_s = (int)o.idle_timeout;
	hc.count_metrics = 1;
	g.http = listen_on(&g, "listen", o.listen, &hc);
	tlsctx_on_reload(g.tls, tls_reloaded, &g);

	g.probe_handler.serve = probe_serve;
	g.probe_handler.refuse = probe_refuse;
	g.probe_handler.arg = g.probe;
	hc.handler = &g.probe_handler;
	hc.io_new = http_io_plain_new;
	hc.io_arg = NULL;
	hc.always_headers = REPLY_HEADERS_PLAIN;
	hc.max_connections = GW_PROBE_MAX_CONNECTIONS;
	hc.request_deadline_s = GW_PROBE_TIMEOUT;
	hc.idle_timeout_s = GW_PROBE_TIMEOUT;
	hc.count_metrics = 0;
	g.probe_http = listen_on(&g, "probe-listen", o.probe_listen, &hc);

	{
		struct timeval tv = {
		    GW_LOG_FLUSH_MS / 1000, (GW_LOG_FLUSH_MS % 1000) * 1000};

		g.log_timer =
		    event_new(g.base, -1, EV_PERSIST, log_flush_cb, NULL);
		if (g.log_timer == NULL || event_add(g.log_timer, &tv) != 0)
			fatalx("cannot start the log timer");
		log_buffer_access(1);
	}
	g.ev_term = evsignal_new(g.base, SIGTERM, term_cb, &g);
	g.ev_int = evsignal_new(g.base, SIGINT, term_cb, &g);
	g.ev_hup = evsignal_new(g.base, SIGHUP, hup_cb, &g);
	if (g.ev_term == NULL || g.ev_int == NULL || g.ev_hup == NULL ||
	    event_add(g.ev_term, NULL) != 0 || event_add(g.ev_int, NULL) != 0 ||
	    event_add(g.ev_hup, NULL) != 0)
		fatalx("cannot install signal handlers");

	ipcc_start(g.ipcc);
	log_info("replicad-gateway %s listening on %s (probes on %s), core "
	         "at %s, reads: %s, writes: %zu allowed name(s)",
	    GW_VERSION, o.listen, o.probe_listen, o.core_socket,
	    authz_count(g.authz, AUTHZ_READ) + authz_count(g.authz, AUTHZ_WRITE)
	        ? "allow-lists"
	        : "every verified client",
	    authz_count(g.authz, AUTHZ_WRITE));
	if (authz_count(g.authz, AUTHZ_WRITE) == 0)
		log_warnx(
		    "no --allow-write given: writes are refused (403); to "
		    "allow a client, start with --allow-write CN=<name> (or "
		    "DNS:, URI:, email:, IP:) or set REPLICAD_ALLOW_WRITE");
	if (event_base_dispatch(g.base) != 0)
		log_warnx("event loop failed");

	/* Teardown in dependency order; ASan checks we free it all.  The
	 * connections go first: their requests' aborts reach the API. */
	http_server_free(g.http);
	http_server_free(g.probe_http);
	api_free(g.api);
	probe_free(g.probe);
	ipcc_free(g.ipcc);
	tlsctx_free(g.tls);
	authz_free(g.authz);
	if (g.drain_timer != NULL)
		event_free(g.drain_timer);
	event_free(g.log_timer);
	event_free(g.ev_term);
	event_free(g.ev_int);
	event_free(g.ev_hup);
	event_base_free(g.base);
	log_info("exit");
	return 0;
}
