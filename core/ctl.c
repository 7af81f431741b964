/*
 * ctl.c — replicad-ctl: the operator's client of the core's socket.
 *
 *	replicad-ctl [--socket PATH] [--timeout SEC] [--identity ID] COMMAND
 *	  list | get NAME | scale NAME N | health | metrics | pins |
 *	  pin NAME [N | --delete] | ping
 *
 * Prints one line of JSON (made with yajl_gen) per answer; `metrics`
 * prints the Prometheus text as is.  `ping` is only the HELLO round trip:
 * it proves the core's event loop answers on its socket, whatever the
 * Kubernetes API is doing, and costs the core nothing else (the liveness
 * probe of the chart's core container).  Exit status: 0 success, 1 the core
 * answered an error (code and message on stderr), 2 usage, 3 connection
 * or protocol failure, 4 `health` answered but not healthy.
 * Writes carry the identity "ctl:uid=<uid>" unless --identity is given.
 *
 * Before a byte is sent, the process serving the socket must run as the
 * expected uid (SO_PEERCRED): ours, as the core and its probe share a
 * container, or --expect-uid.  Another writer of the socket's directory
 * could otherwise put its own socket in the core's place and be told
 * what an operator asks (exit 3).
 */
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl_gen.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"
#include "core/ctl_client.h"

#define CTL_DEFAULT_SOCKET  "/run/replicad/core.sock"
#define CTL_DEFAULT_TIMEOUT 10

enum { EXIT_ANSWER = 1, EXIT_USAGE = 2, EXIT_CONN = 3, EXIT_UNHEALTHY = 4 };

struct ctl {
	struct ctlc *c;
	const char *what; /* "GET frontend", for messages */
	uint8_t buf[PS_MAX_REQUEST_FRAME];
};

static void die(int, const char *, ...)
    __attribute__((format(printf, 2, 3), noreturn));
static void usage(FILE *) __attribute__((noreturn));

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: replicad-ctl [--socket PATH] [--timeout SEC] "
	    "[--identity ID] [--expect-uid UID]\n"
	    "           [--namespace|-n NS | --all-namespaces|-A] COMMAND\n"
	    "commands: list | get NAME | scale NAME N | health | metrics |\n"
	    "          pins | pin NAME [N | --delete] | ping\n"
	    "namespace: --namespace, else the core's default namespace;\n"
	    "--all-namespaces (list, pins): every namespace the core serves\n"
	    "socket: --socket, else $REPLICAD_SOCKET, else %s\n",
	    CTL_DEFAULT_SOCKET);
	exit(out == stdout ? 0 : EXIT_USAGE);
}

static void
die(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "replicad-ctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(status);
}

static void
die_ps(struct ctl *ctl, int rc)
{
	if (rc == PS_ERR_SYS)
		die(EXIT_CONN, "%s: %s", ctl->what, strerror(errno));
	die(EXIT_CONN, "%s: %s", ctl->what, ps_strerror(rc));
}

static void
die_error(struct ctl *ctl, uint16_t type, const struct ps_error *e)
{
	char retry[64] = "";

	if (e->retry_after > 0)
		snprintf(retry, sizeof(retry), " (retry after %u s)",
		    (unsigned)e->retry_after);
	/* The message is printable ASCII: the decoder checked. */
	die(EXIT_ANSWER, "%s: %s%s: %s%s", ctl->what,
	    type == PS_T_GOAWAY ? "connection closed by core: " : "",
	    ps_code_name(e->code), e->message, retry);
}

/* Next answer frame for `id`: errors and GOAWAY end the program. */
static void
recv_answer(struct ctl *ctl, uint16_t type, uint32_t id, struct ps_frame *f)
{
	struct ps_error e;
	int rc;

	for (;;) {
		if ((rc = ctlc_recv(ctl->c, f)) != PS_OK)
			die_ps(ctl, rc);
		if (f->hdr.type == PS_T_GOAWAY) {
			if ((rc = ps_codec_decode_error(f, &e)) != PS_OK)
				die_ps(ctl, rc);
			die_error(ctl, PS_T_GOAWAY, &e);
		}
		if (f->hdr.id != id)
			continue; /* not ours: dropped, as the protocol says */
		if (f->hdr.type != type)
			die_ps(ctl, PS_ERR_TYPE);
		if ((f->hdr.flags & PS_F_ERROR) != 0) {
			if ((rc = ps_codec_decode_error(f, &e)) != PS_OK)
				die_ps(ctl, rc);
			die_error(ctl, type, &e);
		}
		return;
	}
}

static void
send_frame(struct ctl *ctl, size_t len, int rc)
{
	if (rc != PS_OK)
		die(EXIT_USAGE, "%s: cannot encode: %s", ctl->what,
		    ps_strerror(rc));
	if ((rc = ctlc_send(ctl->c, ctl->buf, len)) != PS_OK)
		die_ps(ctl, rc);
}

/* ------------------------------------------------------------------ */
/* JSON output                                                         */

static yajl_gen
gen_new(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (g == NULL)
		die(EXIT_CONN, "out of memory");
	(void)yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

static void
gen_check(yajl_gen_status st)
{
	if (st != yajl_gen_status_ok)
		die(EXIT_CONN, "cannot generate JSON (yajl status %d)",
		    (int)st);
}

static void
gen_key(yajl_gen g, const char *k)
{
	gen_check(yajl_gen_string(g, (const unsigned char *)k, strlen(k)));
}

static void
gen_kstr(yajl_gen g, const char *k, const char *v)
{
	gen_key(g, k);
	gen_check(yajl_gen_string(g, (const unsigned char *)v, strlen(v)));
}

static void
gen_kint(yajl_gen g, const char *k, long long v)
{
	gen_key(g, k);
	gen_check(yajl_gen_integer(g, v));
}

static void
gen_kbool(yajl_gen g, const char *k, int v)
{
	gen_key(g, k);
	gen_check(yajl_gen_bool(g, v));
}

static void
gen_kage(yajl_gen g, const char *k, uint32_t ms)
{
	gen_key(g, k);
	gen_check(
	    ms == PS_AGE_NEVER ? yajl_gen_null(g) : yajl_gen_integer(g, ms));
}

static void
gen_print(yajl_gen g)
{
	const unsigned char *out;
	size_t len;

	gen_check(yajl_gen_get_buf(g, &out, &len));
	if (fwrite(out, 1, len, stdout) != len || putchar('\n') == EOF ||
	    fflush(stdout) != 0)
		die(EXIT_CONN, "stdout: %s", strerror(errno));
	yajl_gen_free(g);
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

/* `ping`: what HELLO told us, as one JSON line. */
static void
cmd_ping(const struct ps_hello_ok *ok)
{
	yajl_gen g = gen_new();

	gen_check(yajl_gen_map_open(g));
	gen_kint(g, "version", ok->version);
	gen_kint(g, "maxInflight", ok->max_inflight);
	gen_kint(g, "maxFrame", ok->max_frame);
	gen_kstr(g, "namespace", ok->namespace);
	gen_check(yajl_gen_map_close(g));
	gen_print(g);
}

/* `ns` "": every namespace served, each item naming its namespace. */
static void
cmd_list(struct ctl *ctl, uint16_t type, const char *ns)
{
	struct ps_frame f;
	struct ps_list_dec d;
	struct ps_ns_req req;
	struct ps_pin pin;
	char name[PS_MAX_NAME + 1], item_ns[PS_MAX_NAMESPACE + 1];
	size_t len, total = 0;
	uint32_t id = ctlc_next_id(ctl->c);
	yajl_gen g = gen_new();
	int rc, all = ns[0] == '\0';

	memset(&req, 0, sizeof(req));
	snprintf(req.namespace, sizeof(req.namespace), "%s", ns);
	rc = ps_codec_encode_ns_req(
	    ctl->buf, sizeof(ctl->buf), type, id, &req, &len);
	send_frame(ctl, len, rc);
	gen_check(yajl_gen_map_open(g));
	gen_key(g, type == PS_T_LIST ? "deployments" : "pins");
	gen_check(yajl_gen_array_open(g));
	do {
		recv_answer(ctl, type, id, &f);
		if ((rc = ps_codec_list_open(&f, &d)) != PS_OK)
			die_ps(ctl, rc);
		for (;;) {
			rc = type == PS_T_LIST
			    ? ps_codec_list_next_name(&d, item_ns, name)
			    : ps_codec_list_next_pin(&d, &pin);
			if (rc < 0)
				die_ps(ctl, rc);
			if (rc == 0)
				break;
			if (++total > PS_MAX_LIST_TOTAL)
				die_ps(ctl, PS_ERR_TOO_MANY);
			if (type == PS_T_LIST && all) {
				gen_check(yajl_gen_map_open(g));
				gen_kstr(g, "namespace", item_ns);
				gen_kstr(g, "name", name);
				gen_check(yajl_gen_map_close(g));
			} else if (type == PS_T_LIST) {
				gen_check(yajl_gen_string(g,
				    (const unsigned char *)name, strlen(name)));
			} else {
				gen_check(yajl_gen_map_open(g));
				if (all)
					gen_kstr(g, "namespace", pin.namespace);
				gen_kstr(g, "name", pin.name);
				gen_kint(g, "replicas", pin.replicas);
				gen_check(yajl_gen_map_close(g));
			}
		}
	} while ((f.hdr.flags & PS_F_MORE) != 0);
	gen_check(yajl_gen_array_close(g));
	gen_check(yajl_gen_map_close(g));
	gen_print(g);
}

static void
cmd_get(struct ctl *ctl, const char *ns, const char *name)
{
	struct ps_name_req req;
	struct ps_deployment d;
	struct ps_frame f;
	size_t len = 0;
	uint32_t id = ctlc_next_id(ctl->c);
	yajl_gen g;
	int rc;

	memset(&req, 0, sizeof(req));
	snprintf(req.namespace, sizeof(req.namespace), "%s", ns);
	snprintf(req.name, sizeof(req.name), "%s", name);
	rc = ps_codec_encode_name_req(
	    ctl->buf, sizeof(ctl->buf), PS_T_GET, id, &req, &len);
	send_frame(ctl, len, rc);
	recv_answer(ctl, PS_T_GET, id, &f);
	if ((rc = ps_codec_decode_deployment(&f, &d)) != PS_OK)
		die_ps(ctl, rc);
	g = gen_new();
	gen_check(yajl_gen_map_open(g));
	gen_kstr(g, "name", d.name);
	gen_kstr(g, "namespace", d.namespace);
	gen_kint(g, "desired", d.desired);
	gen_kint(g, "replicas", d.replicas);
	gen_kint(g, "ready", d.ready);
	gen_kint(g, "available", d.available);
	gen_kint(g, "updated", d.updated);
	gen_kint(g, "generation", (long long)d.generation);
	gen_kint(g, "observedGeneration", (long long)d.observed_generation);
	gen_kbool(g, "pinned", d.pinned);
	if (d.pinned)
		gen_kint(g, "pinReplicas", d.pin_replicas);
	gen_kstr(g, "resourceVersion", d.resource_version);
	gen_check(yajl_gen_map_close(g));
	gen_print(g);
}

static void
cmd_scale(struct ctl *ctl, const struct ps_write_req *req)
{
	struct ps_scale_ok s;
	struct ps_frame f;
	size_t len = 0;
	uint32_t id = ctlc_next_id(ctl->c);
	yajl_gen g;
	int rc;

	rc = ps_codec_encode_write_req(
	    ctl->buf, sizeof(ctl->buf), PS_T_SCALE, id, req, &len);
	send_frame(ctl, len, rc);
	recv_answer(ctl, PS_T_SCALE, id, &f);
	if ((rc = ps_codec_decode_scale_ok(&f, &s)) != PS_OK)
		die_ps(ctl, rc);
	g = gen_new();
	gen_check(yajl_gen_map_open(g));
	gen_kstr(g, "status", "updated");
	gen_kstr(g, "name", s.name);
	gen_kint(g, "replicas", s.replicas);
	gen_kint(g, "previous", s.previous);
	gen_kbool(g, "synced", s.synced);
	gen_kstr(g, "resourceVersion", s.resource_version);
	gen_check(yajl_gen_map_close(g));
	gen_print(g);
}

static int
cmd_health(struct ctl *ctl)
{
	struct ps_health h;
	struct ps_frame f;
	size_t len = 0;
	uint32_t id = ctlc_next_id(ctl->c);
	yajl_gen g;
	int rc;

	rc = ps_codec_encode_empty(
	    ctl->buf, sizeof(ctl->buf), PS_T_HEALTH, id, &len);
	send_frame(ctl, len, rc);
	recv_answer(ctl, PS_T_HEALTH, id, &f);
	if ((rc = ps_codec_decode_health(&f, &h)) != PS_OK)
		die_ps(ctl, rc);
	g = gen_new();
	gen_check(yajl_gen_map_open(g));
	gen_kbool(g, "healthy", h.state == PS_HEALTH_ALL);
	gen_kbool(g, "apiReachable", (h.state & PS_HEALTH_API_OK) != 0);
	gen_kbool(g, "cacheSynced", (h.state & PS_HEALTH_SYNCED) != 0);
	gen_kbool(g, "watchConnected", (h.state & PS_HEALTH_WATCH) != 0);
	gen_kint(g, "cacheSize", h.cache_size);
	gen_kage(g, "lastEventAgeMs", h.last_event_age_ms);
	gen_kage(g, "apiOkAgeMs", h.api_ok_age_ms);
	gen_kstr(g, "message", h.message);
	gen_key(g, "namespaces");
	gen_check(yajl_gen_array_open(g));
	for (size_t i = 0; i < h.ns_count && i < PS_MAX_NAMESPACES; i++) {
		const struct ps_ns_health *n = &h.ns[i];

		gen_check(yajl_gen_map_open(g));
		gen_kstr(g, "namespace", n->namespace);
		gen_kbool(g, "healthy", n->state == PS_HEALTH_ALL);
		gen_kbool(
		    g, "apiReachable", (n->state & PS_HEALTH_API_OK) != 0);
		gen_kbool(g, "cacheSynced", (n->state & PS_HEALTH_SYNCED) != 0);
		gen_kbool(
		    g, "watchConnected", (n->state & PS_HEALTH_WATCH) != 0);
		gen_kint(g, "cacheSize", n->cache_size);
		gen_kage(g, "lastEventAgeMs", n->last_event_age_ms);
		gen_kage(g, "apiOkAgeMs", n->api_ok_age_ms);
		gen_check(yajl_gen_map_close(g));
	}
	gen_check(yajl_gen_array_close(g));
	gen_check(yajl_gen_map_close(g));
	gen_print(g);
	return h.state == PS_HEALTH_ALL ? 0 : EXIT_UNHEALTHY;
}

static void
cmd_metrics(struct ctl *ctl)
{
	struct ps_frame f;
	const char *text;
	size_t len = 0, text_len, total = 0;
	uint32_t id = ctlc_next_id(ctl->c);
	int rc;

	rc = ps_codec_encode_empty(
	    ctl->buf, sizeof(ctl->buf), PS_T_METRICS, id, &len);
	send_frame(ctl, len, rc);
	do {
		recv_answer(ctl, PS_T_METRICS, id, &f);
		if ((rc = ps_codec_decode_metrics(&f, &text, &text_len)) !=
		    PS_OK)
			die_ps(ctl, rc);
		total += text_len;
		if (total > PS_MAX_METRICS_TOTAL)
			die_ps(ctl, PS_ERR_TOO_MANY);
		if (fwrite(text, 1, text_len, stdout) != text_len)
			die(EXIT_CONN, "stdout: %s", strerror(errno));
	} while ((f.hdr.flags & PS_F_MORE) != 0);
	if (fflush(stdout) != 0)
		die(EXIT_CONN, "stdout: %s", strerror(errno));
}

static void
cmd_pin(struct ctl *ctl, uint16_t type, const struct ps_write_req *req)
{
	struct ps_name_req nreq;
	struct ps_pin pin;
	struct ps_frame f;
	size_t len = 0;
	uint32_t id = ctlc_next_id(ctl->c);
	yajl_gen g;
	int rc;

	if (type == PS_T_PIN_GET) {
		memset(&nreq, 0, sizeof(nreq));
		memcpy(nreq.namespace, req->namespace, sizeof(nreq.namespace));
		snprintf(nreq.name, sizeof(nreq.name), "%s", req->name);
		rc = ps_codec_encode_name_req(
		    ctl->buf, sizeof(ctl->buf), type, id, &nreq, &len);
	} else {
		rc = ps_codec_encode_write_req(
		    ctl->buf, sizeof(ctl->buf), type, id, req, &len);
	}
	send_frame(ctl, len, rc);
	recv_answer(ctl, type, id, &f);
	if ((rc = ps_codec_decode_pin(&f, &pin)) != PS_OK)
		die_ps(ctl, rc);
	g = gen_new();
	gen_check(yajl_gen_map_open(g));
	gen_kstr(g, "name", pin.name);
	gen_kint(g, "replicas", pin.replicas);
	if (type == PS_T_PIN_DELETE)
		gen_kbool(g, "deleted", 1);
	gen_check(yajl_gen_map_close(g));
	gen_print(g);
}

/* ------------------------------------------------------------------ */

static void
parse_name(const char *s, char out[PS_MAX_NAME + 1])
{
	size_t len = strlen(s);

	if (len > PS_MAX_NAME || ps_valid_name(s, len) != PS_OK)
		die(EXIT_USAGE,
		    "'%s' is not a valid deployment name "
		    "(DNS-1123 subdomain)",
		    s);
	memcpy(out, s, len + 1);
}

static uint32_t
parse_replicas(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || errno != 0 || *end != '\0' ||
	    v > PS_MAX_REPLICAS)
		die(EXIT_USAGE, "'%s' is not a replica count (0..%u)", s,
		    (unsigned)PS_MAX_REPLICAS);
	return (uint32_t)v;
}

static void
need_args(int have, int want, const char *cmd)
{
	if (have != want)
		die(EXIT_USAGE, "%s: wrong number of arguments (try --help)",
		    cmd);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"timeout", required_argument, NULL, 't'},
	    {"identity", required_argument, NULL, 'i'},
	    {"delete", no_argument, NULL, 'd'},
	    {"expect-uid", required_argument, NULL, 'u'},
	    {"namespace", required_argument, NULL, 'n'},
	    {"all-namespaces", no_argument, NULL, 'A'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl ctl;
	struct ps_write_req wreq;
	struct ps_hello_ok ok;
	struct ps_error e;
	char what[PS_MAX_NAME + 64];
	const char *socket_path = getenv("REPLICAD_SOCKET");
	const char *identity = NULL, *cmd, *ns = NULL;
	long timeout = CTL_DEFAULT_TIMEOUT;
	char *end;
	int ch, del = 0, all_ns = 0, nargs, rc, status = 0;
	uint16_t type;
	uid_t expect_uid = geteuid(), server_uid;
	unsigned long v;

	while ((ch = getopt_long(argc, argv, "n:A", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			socket_path = optarg;
			break;
		case 't':
			errno = 0;
			timeout = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || timeout < 1 ||
			    timeout > 3600)
				die(EXIT_USAGE, "--timeout: 1..3600 seconds");
			break;
		case 'i':
			identity = optarg;
			break;
		case 'd':
			del = 1;
			break;
		case 'n':
			if (strlen(optarg) > PS_MAX_NAMESPACE ||
			    ps_valid_namespace(optarg, strlen(optarg)) != PS_OK)
				die(EXIT_USAGE,
				    "--namespace: '%s' is not a namespace "
				    "(DNS-1123 label)",
				    optarg);
			ns = optarg;
			break;
		case 'A':
			all_ns = 1;
			break;
		case 'u':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || optarg[0] < '0' ||
			    optarg[0] > '9' || v > 0x7fffffffUL)
				die(EXIT_USAGE, "--expect-uid: a uid");
			expect_uid = (uid_t)v;
			break;
		case 'h':
			usage(stdout);
		case 'V':
			printf("replicad-ctl (proto-socket v%d)\n", PS_VERSION);
			return 0;
		default:
			usage(stderr);
		}
	}
	if (optind >= argc)
		usage(stderr);
	if (socket_path == NULL || socket_path[0] == '\0')
		socket_path = CTL_DEFAULT_SOCKET;
	cmd = argv[optind];
	nargs = argc - optind - 1;

	memset(&wreq, 0, sizeof(wreq));
	if (identity == NULL)
		snprintf(wreq.identity, sizeof(wreq.identity), "ctl:uid=%lu",
		    (unsigned long)getuid());
	else if (strlen(identity) > PS_MAX_IDENTITY ||
	    ps_valid_str(PS_STR_IDENTITY, identity, strlen(identity)) != PS_OK)
		die(EXIT_USAGE, "--identity: 1..%d printable ASCII bytes",
		    PS_MAX_IDENTITY);
	else
		memcpy(wreq.identity, identity, strlen(identity) + 1);

	/* Check the command line completely before connecting. */
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "health") == 0 ||
	    strcmp(cmd, "metrics") == 0 || strcmp(cmd, "pins") == 0 ||
	    strcmp(cmd, "ping") == 0) {
		need_args(nargs, 0, cmd);
	} else if (strcmp(cmd, "get") == 0) {
		need_args(nargs, 1, cmd);
		parse_name(argv[optind + 1], wreq.name);
	} else if (strcmp(cmd, "scale") == 0) {
		need_args(nargs, 2, cmd);
		parse_name(argv[optind + 1], wreq.name);
		wreq.replicas = parse_replicas(argv[optind + 2]);
	} else if (strcmp(cmd, "pin") == 0) {
		if (nargs != 1 && nargs != 2)
			need_args(nargs, 1, cmd);
		if (del && nargs != 1)
			die(EXIT_USAGE, "pin: --delete takes no count");
		parse_name(argv[optind + 1], wreq.name);
		if (nargs == 2)
			wreq.replicas = parse_replicas(argv[optind + 2]);
	} else {
		die(EXIT_USAGE, "unknown command '%s' (try --help)", cmd);
	}
	if (del && strcmp(cmd, "pin") != 0)
		die(EXIT_USAGE, "--delete goes with pin");
	if (all_ns && ns != NULL)
		die(EXIT_USAGE,
		    "--namespace and --all-namespaces exclude "
		    "each other");
	if (all_ns && strcmp(cmd, "list") != 0 && strcmp(cmd, "pins") != 0)
		die(EXIT_USAGE, "--all-namespaces goes with list or pins");

	memset(&ctl, 0, sizeof(ctl));
	if (nargs >= 1)
		snprintf(what, sizeof(what), "%s %s", cmd, argv[optind + 1]);
	else
		snprintf(what, sizeof(what), "%s", cmd);
	ctl.what = what;
	if ((ctl.c = ctlc_connect(socket_path, (int)timeout * 1000)) == NULL)
		die(EXIT_CONN, "connect %s: %s", socket_path, strerror(errno));
	if (ctlc_server_uid(ctl.c, &server_uid) != 0)
		die(EXIT_CONN, "%s: cannot tell who serves it: %s", socket_path,
		    strerror(errno));
	if (server_uid != expect_uid)
		die(EXIT_CONN,
		    "%s is served by uid %lu, not the core's uid %lu "
		    "(--expect-uid); not talking to it",
		    socket_path, (unsigned long)server_uid,
		    (unsigned long)expect_uid);
	memset(&e, 0, sizeof(e));
	rc = ctlc_hello(ctl.c, &ok, &e, &type);
	if (rc == CTLC_ERROR_ANSWER) {
		ctl.what = "HELLO";
		die_error(&ctl, type, &e);
	}
	if (rc != PS_OK) {
		ctl.what = "HELLO";
		die_ps(&ctl, rc);
	}

	/* No --namespace: the core's default (HELLO told us). */
	snprintf(wreq.namespace, sizeof(wreq.namespace), "%s",
	    all_ns           ? ""
	        : ns != NULL ? ns
	                     : ok.namespace);
	if (strcmp(cmd, "ping") == 0)
		cmd_ping(&ok);
	else if (strcmp(cmd, "list") == 0)
		cmd_list(&ctl, PS_T_LIST, wreq.namespace);
	else if (strcmp(cmd, "pins") == 0)
		cmd_list(&ctl, PS_T_PIN_LIST, wreq.namespace);
	else if (strcmp(cmd, "get") == 0)
		cmd_get(&ctl, wreq.namespace, wreq.name);
	else if (strcmp(cmd, "scale") == 0)
		cmd_scale(&ctl, &wreq);
	else if (strcmp(cmd, "health") == 0)
		status = cmd_health(&ctl);
	else if (strcmp(cmd, "metrics") == 0)
		cmd_metrics(&ctl);
	else if (del)
		cmd_pin(&ctl, PS_T_PIN_DELETE, &wreq);
	else
		cmd_pin(&ctl, nargs == 2 ? PS_T_PIN_PUT : PS_T_PIN_GET, &wreq);
	ctlc_close(ctl.c);
	return status;
}
