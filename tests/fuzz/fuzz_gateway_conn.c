/*
 * fuzz_gateway_conn.c — libFuzzer driver for the gateway's whole
 * connection handling: http_conn (reading, parsing, pipelining, answers in
 * order, 100-continue, Connection: close, HTTP/1.0, linger and the close),
 * the API or the probe handler, reply.c, over a socketpair with a fake core
 * that answers late, out of order, with errors, or not until the end.
 * TLS is left out (the plain transport; OpenSSL is fuzzed upstream): the
 * identity the TLS transport would give is set directly.
 *
 * Input: byte 0 seeds the splits and the fake core's choices; byte 1 picks
 * the peer (bits 0-1: verified / may read / may write), the handler (bit
 * 2: the probe listener) and how the client leaves (bit 3: a half close
 * first); the rest is the client's byte stream, written in pieces with
 * the event loop run between them.
 *
 * The fake core's default namespace (ipcc_default_namespace) comes and
 * goes with the seed, so routes without a namespace also meet a link
 * that is down; the allow-list holds a scoped entry (issue #15), so a
 * peer without an unscoped permission takes the per-namespace path.
 *
 * Oracles, beyond ASan/UBSan and LeakSanitizer: every answer starts with
 * "HTTP/1.1 "; once the client has gone and the core has answered
 * everything, the connection is freed within a few loop turns (no
 * connection, request or core call outlives its client).
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "gateway/api.h"
#include "gateway/authz.h"
#include "gateway/gw_limits.h"
#include "gateway/http_conn.h"
#include "gateway/http_io.h"
#include "gateway/ipc_client.h"
#include "gateway/log.h"
#include "gateway/probe.h"
#include "gateway/reply.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

/* --- a fake core: the ipc_client interface, answered from the loop ------ */

struct ipcc_req {
	struct ipcc_req *next;
	struct ipcc_call call;
	char ns[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
	ipcc_cb cb;
	void *arg;
	int turns; /* loop turns before the answer */
	int cancelled;
};

static struct ipcc_req *pending;
static unsigned rng;
static int ready = 1;

static unsigned
next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 16) & 0x7fff;
}

enum ipcc_status
ipcc_submit(struct ipcc *c, const struct ipcc_call *call, ipcc_cb cb, void *arg,
    struct ipcc_req **out)
{
	struct ipcc_req *r;
	unsigned pick = next_rand() % 16;

	(void)c;
	if (pick == 0)
		return IPCC_BUSY;
	if (pick == 1)
		return IPCC_UNAVAILABLE;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return IPCC_INTERNAL;
	r->call = *call;
	if (call->name != NULL)
		snprintf(r->name, sizeof(r->name), "%s", call->name);
	if (call->ns != NULL)
		snprintf(r->ns, sizeof(r->ns), "%s", call->ns);
	r->cb = cb;
	r->arg = arg;
	/* Some wait for the end of the input: the client may leave first. */
	r->turns = pick == 2 ? 1 << 20 : (int)(next_rand() % 4);
	r->next = pending;
	pending = r;
	if (out != NULL)
		*out = r;
	return IPCC_OK;
}

void
ipcc_cancel(struct ipcc_req *r)
{
	if (r != NULL)
		r->cancelled = 1;
}

uint32_t
ipcc_retry_after(const struct ipcc *c)
{
	(void)c;
	return 1;
}

int
ipcc_ready(const struct ipcc *c)
{
	(void)c;
	return ready;
}

const char *
ipcc_default_namespace(const struct ipcc *c)
{
	(void)c;
	return next_rand() % 8 == 0 ? NULL : "default";
}

/* One answer of the kind `r` asked for, or a failure. */
static void
answer(struct ipcc_req *r)
{
	static const struct ipcc_item items[] = {
	    {"default", "frontend", 3, PS_PIN_ACTIVE},
	    {"payments", "orders", 2, PS_PIN_AUTOSCALED}};
	struct ipcc_answer a;
	unsigned pick = next_rand() % 8;

	memset(&a, 0, sizeof(a));
	a.type = r->call.type;
	if (pick == 0) {
		a.status = IPCC_ERROR;
		a.err.code = (uint16_t)(1 + next_rand() % 16);
		a.err.retry_after = next_rand() % 3;
		snprintf(a.err.message, sizeof(a.err.message), "fake error");
		/* Version 2: the count it has, the version or HPA it names. */
		a.err.current = next_rand() % 2 ? PS_MAX_REPLICAS : 0;
		snprintf(a.err.ref, sizeof(a.err.ref), "%s",
		    next_rand() % 2 ? "" : "hpa-1");
	} else if (pick == 1)
		a.status = IPCC_TIMEOUT;
	else if (pick == 2)
		a.status = IPCC_UNAVAILABLE;
	a.retry_after = 1;
	snprintf(a.u.dep.name, sizeof(a.u.dep.name), "%s",
	    r->name[0] != '\0' ? r->name : "frontend");
	snprintf(a.u.dep.namespace, sizeof(a.u.dep.namespace), "default");
	snprintf(a.u.dep.resource_version, sizeof(a.u.dep.resource_version),
	    "%s", next_rand() % 4 ? "1001" : "1\"0"); /* '"': no ETag */
	/* Version 2's record, consistent as the decoder guarantees. */
	if (next_rand() % 2) {
		a.u.dep.pinned = 1;
		a.u.dep.pin_replicas = 4;
		a.u.dep.pin_state = (uint8_t)(next_rand() % 4);
	}
	a.u.dep.bounds = (uint8_t)(next_rand() % 8);
	a.u.dep.min_replicas = (a.u.dep.bounds & PS_B_MIN) ? 1 : 0;
	a.u.dep.max_replicas = (a.u.dep.bounds & PS_B_MAX) ? 9 : 0;
	if (next_rand() % 2)
		snprintf(a.u.dep.autoscaler, sizeof(a.u.dep.autoscaler), "hpa");
	switch (r->call.type) {
	case PS_T_SCALE:
		memset(&a.u, 0, sizeof(a.u));
		snprintf(a.u.scale.name, sizeof(a.u.scale.name), "%s", r->name);
		snprintf(a.u.scale.namespace, sizeof(a.u.scale.namespace), "%s",
		    r->ns);
		a.u.scale.replicas = r->call.replicas;
		snprintf(a.u.scale.resource_version,
		    sizeof(a.u.scale.resource_version), "1002");
		a.u.scale.dry_run = (uint8_t)(next_rand() % 2);
		break;
	case PS_T_HEALTH:
		memset(&a.u, 0, sizeof(a.u));
		a.u.health.state = (uint8_t)(next_rand() % 8);
		a.u.health.ns_count = (uint8_t)(1 + next_rand() % 2);
		snprintf(a.u.health.ns[0].namespace,
		    sizeof(a.u.health.ns[0].namespace), "default");
		a.u.health.ns[0].state = a.u.health.state;
		snprintf(a.u.health.ns[1].namespace,
		    sizeof(a.u.health.ns[1].namespace), "payments");
		a.u.health.ns[1].state = (uint8_t)(next_rand() % 8);
		a.u.health.ns[1].api_ok_age_ms =
		    next_rand() % 2 ? PS_AGE_NEVER : 7;
		a.u.health.last_event_age_ms =
		    next_rand() % 2 ? PS_AGE_NEVER : 5;
		break;
	case PS_T_PIN_GET:
	case PS_T_PIN_PUT:
	case PS_T_PIN_DELETE:
		memset(&a.u, 0, sizeof(a.u));
		snprintf(a.u.pin.name, sizeof(a.u.pin.name), "%s", r->name);
		snprintf(
		    a.u.pin.namespace, sizeof(a.u.pin.namespace), "%s", r->ns);
		a.u.pin.replicas = 2;
		a.u.pin.state = (uint8_t)(next_rand() % 4);
		a.u.pin.dry_run = (uint8_t)(next_rand() % 2);
		break;
	case PS_T_LIST:
	case PS_T_PIN_LIST:
		a.items = items;
		a.nitems = next_rand() % 3;
		break;
	case PS_T_METRICS:
		a.text = "replicad_core_up 1\n";
		a.text_len = strlen(a.text);
		break;
	default:
		break;
	}
	r->cb(&a, r->arg);
}

/* Answers what is due (everything when `all`); 1 if any was answered. */
static int
core_turn(int all)
{
	struct ipcc_req **pp = &pending, *r;
	int moved = 0;

	while ((r = *pp) != NULL) {
		if (!r->cancelled && !all && --r->turns > 0) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		if (!r->cancelled) {
			answer(r);
			moved = 1;
		}
		free(r);
		/* The answer may have submitted more: start again. */
		pp = &pending;
	}
	return moved;
}

/* --- the harness --------------------------------------------------------- */

static struct event_base *base;
static struct authz *authz;
static struct api *api;
static struct probe *probe;
static struct http_server *api_srv, *probe_srv;
static struct http_handler api_h, probe_h;
static unsigned peer_bits;

/* The plain transport, with the identity a TLS handshake would give. */
static struct http_io_ops fuzz_ops;

static void
fuzz_peer(void *ctx, struct http_peer *p)
{
	(void)ctx;
	p->cert = NULL;
	if ((peer_bits & 1u) == 0)
		return; /* no verified certificate: 401 */
	p->identified = 1;
	p->perms = (peer_bits >> 1) & 3u;
	snprintf(p->identity, sizeof(p->identity), "fuzz-client");
}

static struct http_server *
server(struct http_handler *h, const char *headers)
{
	struct http_server_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.handler = h;
	cfg.io_new = http_io_plain_new;
	cfg.limits.max_head = GW_MAX_HEADERS_SIZE;
	cfg.limits.max_fields = GW_MAX_HEADERS;
	cfg.limits.max_target = GW_MAX_URI;
	cfg.limits.max_body = GW_MAX_BODY_READ;
	cfg.always_headers = headers;
	cfg.max_connections = 4;
	cfg.request_deadline_s = 15;
	cfg.idle_timeout_s = 10;
	return http_server_new(base, &cfg);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	/* Access lines (info) would drown libFuzzer's output. */
	CHECK(log_init("error", "text") == 0);
	CHECK((base = event_base_new()) != NULL);
	CHECK((authz = authz_new()) != NULL);
	CHECK(authz_add(authz, AUTHZ_WRITE, "payments/CN=fuzz-client") == 0);
	CHECK((api = api_new(NULL, authz, 1000)) != NULL);
	CHECK((probe = probe_new(NULL)) != NULL);
	api_h.serve = api_serve;
	api_h.refuse = api_refuse;
	api_h.arg = api;
	probe_h.serve = probe_serve;
	probe_h.refuse = probe_refuse;
	probe_h.arg = probe;
	CHECK((api_srv = server(&api_h, REPLY_HEADERS_TLS)) != NULL);
	CHECK((probe_srv = server(&probe_h, REPLY_HEADERS_PLAIN)) != NULL);
	fuzz_ops = http_io_plain_ops;
	fuzz_ops.peer = fuzz_peer;
	return 0;
}

/* Reads what the gateway wrote; every answer starts a status line. */
static void
drain_client(int fd, size_t *got)
{
	char buf[16384];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (*got == 0)
			CHECK(n >= 9 && memcmp(buf, "HTTP/1.1 ", 9) == 0);
		*got += (size_t)n;
	}
}

static void
turn(int fd, size_t *got)
{
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
	(void)core_turn(0);
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
	drain_client(fd, got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_server *srv;
	const struct http_io_ops *ops;
	void *io;
	size_t i, n, got = 0;
	int sv[2], spins;

	if (size < 2)
		return 0;
	rng = data[0];
	peer_bits = data[1];
	srv = (data[1] & 4u) ? probe_srv : api_srv;
	data += 2;
	size -= 2;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	CHECK((io = http_io_plain_new(NULL, sv[0], &ops)) != NULL);
	CHECK(http_conn_new(srv, sv[0], &fuzz_ops, io) != NULL);
	CHECK(http_server_connections(srv) == 1);

	for (i = 0; i < size; i += n) {
		n = 1 + next_rand() % 64;
		if ((next_rand() & 3) == 0)
			n = size - i;
		if (n > size - i)
			n = size - i;
		/* The socketpair holds far more than one input; a send fails
		 * only once the gateway has closed (after a client's own
		 * Connection: close, say): then the client stops. */
		if (send(sv[1], data + i, n, MSG_NOSIGNAL) != (ssize_t)n) {
			CHECK(errno == EPIPE || errno == ECONNRESET);
			CHECK(http_server_connections(srv) == 0);
			break;
		}
		turn(sv[1], &got);
	}
	for (spins = 0; spins < 4; spins++)
		turn(sv[1], &got);
	/* The client leaves: a half close first, or at once. */
	if (peer_bits & 8u) {
		(void)shutdown(sv[1], SHUT_WR);
		turn(sv[1], &got);
	}
	(void)core_turn(1);
	turn(sv[1], &got);
	close(sv[1]);
	for (spins = 0; http_server_connections(srv) > 0; spins++) {
		CHECK(spins < 64);
		(void)core_turn(1);
		(void)event_base_loop(base, EVLOOP_NONBLOCK);
	}
	CHECK(http_server_inflight(srv) == 0);
	/* Whatever still waits at the core was cancelled by its request. */
	while (pending != NULL) {
		struct ipcc_req *r = pending;

		CHECK(r->cancelled);
		pending = r->next;
		free(r);
	}
	return 0;
}
