/*
 * test_ipc_server.c — core/ipc/ipc_server.c over a real socketpair and a real
 * event loop: the handshake, the dispatch table's state rules, protocol
 * errors (GOAWAY, that connection only), BUSY, request handles that
 * outlive their client, streamed answers under the output cap, output
 * backpressure, timeouts, the peer uid check and the shutdown drain;
 * version 3's namespaces (HELLO's answer, LIST bodies, (namespace, name)
 * items).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"
#include "core/ipc/ipc_server.h"
#include "core/log.h"

#define WAIT_MS 3000

struct client {
	int fd;
	struct ps_reader *rd;
	uint8_t in[8192];
	size_t off, len;
	int eof;
};

struct h {
	struct event_base *base;
	struct ipcs *srv;
	struct ipcs_config cfg;
	uid_t uid;
	struct client cl;
	/* async handler state */
	struct ipcs_req *held[64];
	int nheld;
	int cancels;
	/* stream state */
	unsigned produced, limit;
	int done_calls;
	int drained;
	/* what the LIST handler saw (version 3) */
	int lists;
	int saw_ns;
	char list_ns[PS_MAX_NAMESPACE + 1];
	const char *item_ns; /* namespace of produced names; NULL: by index */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
loop_once(struct h *h)
{
	event_base_loop(h->base, EVLOOP_NONBLOCK);
}

/* Runs the loop for about `ms` (timers need real time to pass). */
static void
run_for(struct h *h, int ms)
{
	long long end = now_ms() + ms;

	while (now_ms() < end) {
		loop_once(h);
		poll(NULL, 0, 2);
	}
	loop_once(h);
}

static void
client_init(struct client *cl, int fd)
{
	memset(cl, 0, sizeof(*cl));
	cl->fd = fd;
	assert_int_equal(
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	cl->rd = ps_reader_new(PS_DIR_ANSWER);
	assert_non_null(cl->rd);
}

static void
client_close(struct client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
	ps_reader_free(cl->rd);
	cl->rd = NULL;
}

/* Adds a new connection for the server; returns the client end. */
static int
connect_pair(struct h *h)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	(void)ipcs_add_client(h->srv, sv[0]);
	return sv[1];
}

static int
setup_cfg(void **state, void (*tweak)(struct ipcs_config *))
{
	struct h *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	signal(SIGPIPE, SIG_IGN);
	log_init("test", LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	h->base = event_base_new();
	assert_non_null(h->base);
	h->uid = getuid();
	ipcs_config_init(&h->cfg);
	h->cfg.uids = &h->uid;
	h->cfg.nuids = 1;
	h->cfg.namespace = "default";
	if (tweak != NULL)
		tweak(&h->cfg);
	h->srv = ipcs_new(h->base, &h->cfg);
	assert_non_null(h->srv);
	client_init(&h->cl, connect_pair(h));
	*state = h;
	return 0;
}

static int
setup(void **state)
{
	return setup_cfg(state, NULL);
}

static int
teardown(void **state)
{
	struct h *h = *state;

	client_close(&h->cl);
	ipcs_free(h->srv);
	/* Handles the test still holds are detached: release them. */
	for (int i = 0; i < h->nheld; i++)
		ipcs_req_drop(h->held[i]);
	event_base_free(h->base);
	free(h);
	return 0;
}

static void
send_bytes(struct h *h, struct client *cl, const uint8_t *p, size_t len)
{
	long long end = now_ms() + WAIT_MS;

	while (len > 0) {
		ssize_t n = write(cl->fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		assert_true(n < 0 && errno == EAGAIN);
		assert_true(now_ms() < end);
		loop_once(h);
	}
	loop_once(h);
}

static void
send_hello(struct h *h, struct client *cl, uint16_t min, uint16_t max)
{
	struct ps_hello m = {min, max};
	uint8_t buf[64];
	size_t len;

	assert_int_equal(
	    ps_codec_encode_hello(buf, sizeof(buf), &m, &len), PS_OK);
	send_bytes(h, cl, buf, len);
}

static void
send_empty(struct h *h, struct client *cl, uint16_t type, uint32_t id)
{
	uint8_t buf[64];
	size_t len;

	assert_int_equal(
	    ps_codec_encode_empty(buf, sizeof(buf), type, id, &len), PS_OK);
	send_bytes(h, cl, buf, len);
}

static void
send_get(struct h *h, struct client *cl, uint32_t id, const char *name)
{
	struct ps_name_req m;
	uint8_t buf[512];
	size_t len;

	snprintf(m.namespace, sizeof(m.namespace), "default");
	snprintf(m.name, sizeof(m.name), "%s", name);
	assert_int_equal(
	    ps_codec_encode_name_req(buf, sizeof(buf), PS_T_GET, id, &m, &len),
	    PS_OK);
	send_bytes(h, cl, buf, len);
}

/* LIST / PIN_LIST with a namespace, or "" for every one (version 3). */
static void
send_list(
    struct h *h, struct client *cl, uint16_t type, uint32_t id, const char *ns)
{
	struct ps_ns_req m;
	uint8_t buf[128];
	size_t len;

	snprintf(m.namespace, sizeof(m.namespace), "%s", ns);
	assert_int_equal(
	    ps_codec_encode_ns_req(buf, sizeof(buf), type, id, &m, &len),
	    PS_OK);
	send_bytes(h, cl, buf, len);
}

/* Next answer frame; PS_ERR_CLOSED at EOF; fails the test on timeout. */
static int
recv_frame(struct h *h, struct client *cl, struct ps_frame *f)
{
	long long end = now_ms() + WAIT_MS;
	size_t used;
	ssize_t n;
	int rc;

	for (;;) {
		if (cl->len > 0) {
			rc = ps_reader_read(
			    cl->rd, cl->in + cl->off, cl->len, &used, f);
			cl->off += used;
			cl->len -= used;
			if (rc != PS_AGAIN)
				return rc;
		}
		cl->off = 0;
		n = read(cl->fd, cl->in, sizeof(cl->in));
		if (n > 0) {
			cl->len = (size_t)n;
			continue;
		}
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return PS_ERR_CLOSED;
		assert_true(errno == EAGAIN);
		if (now_ms() > end)
			fail_msg("no answer within %d ms", WAIT_MS);
		loop_once(h);
		poll(NULL, 0, 1);
	}
}

static void
expect_hello_ok(struct h *h, struct client *cl)
{
	struct ps_frame f;
	struct ps_hello_ok ok;

	assert_int_equal(recv_frame(h, cl, &f), PS_OK);
	assert_int_equal(ps_codec_decode_hello_ok(&f, &ok), PS_OK);
	assert_int_equal(ok.version, PS_VERSION);
	assert_int_equal(ok.max_inflight, h->cfg.max_inflight);
	assert_int_equal(ok.max_frame, PS_MAX_FRAME);
	/* version 3: the core's default namespace */
	assert_string_equal(ok.namespace, h->cfg.namespace);
}

/* An error frame for (type, id) with `code`; returns its message. */
static void
expect_error(struct h *h, struct client *cl, uint16_t type, uint32_t id,
    uint16_t code, const char *substr)
{
	struct ps_frame f;
	struct ps_error e;

	assert_int_equal(recv_frame(h, cl, &f), PS_OK);
	assert_int_equal(f.hdr.type, type);
	assert_int_equal(f.hdr.id, id);
	assert_int_equal(ps_codec_decode_error(&f, &e), PS_OK);
	assert_int_equal(e.code, code);
	if (substr != NULL && strstr(e.message, substr) == NULL)
		fail_msg("message '%s' lacks '%s'", e.message, substr);
}

static void
expect_goaway_then_eof(
    struct h *h, struct client *cl, uint16_t code, const char *substr)
{
	struct ps_frame f;

	expect_error(h, cl, PS_T_GOAWAY, 0, code, substr);
	assert_int_equal(recv_frame(h, cl, &f), PS_ERR_CLOSED);
}

static void
expect_eof(struct h *h, struct client *cl)
{
	struct ps_frame f;

	assert_int_equal(recv_frame(h, cl, &f), PS_ERR_CLOSED);
}

static void
ready(struct h *h)
{
	send_hello(h, &h->cl, PS_VERSION, PS_VERSION);
	expect_hello_ok(h, &h->cl);
}

/* ------------------------------------------------------------------ */
/* Handlers                                                            */

static void
health_cb(struct ipcs_req *req, void *arg)
{
	struct ps_health m;

	(void)arg;
	/* HEALTH has no body: neither a namespace nor a name */
	assert_null(ipcs_req_ns(req));
	assert_null(ipcs_req_name(req));
	memset(&m, 0, sizeof(m));
	m.last_event_age_ms = PS_AGE_NEVER;
	m.api_ok_age_ms = PS_AGE_NEVER;
	snprintf(m.message, sizeof(m.message), "not synced");
	m.ns_count = 1;
	snprintf(m.ns[0].namespace, sizeof(m.ns[0].namespace), "default");
	m.ns[0].last_event_age_ms = PS_AGE_NEVER;
	m.ns[0].api_ok_age_ms = PS_AGE_NEVER;
	assert_int_equal(ipcs_answer_health(req, &m), 0);
}

static void
cancel_cb(struct ipcs_req *req, void *arg)
{
	struct h *h = arg;

	assert_false(ipcs_req_alive(req));
	h->cancels++;
}

/* Keeps the handle to answer later, like the scale path will. */
static void
hold_cb(struct ipcs_req *req, void *arg)
{
	struct h *h = arg;

	assert_true(h->nheld < 64);
	ipcs_req_set_cancel(req, cancel_cb, h);
	h->held[h->nheld++] = req;
}

static struct ipcs_req *
take_held(struct h *h, int i)
{
	struct ipcs_req *r = h->held[i];

	memmove(&h->held[i], &h->held[i + 1],
	    (size_t)(h->nheld - i - 1) * sizeof(h->held[0]));
	h->nheld--;
	return r;
}

static void
answer_deployment(struct ipcs_req *req, int want)
{
	struct ps_deployment d;

	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "%s", ipcs_req_name(req)->name);
	snprintf(d.namespace, sizeof(d.namespace), "default");
	d.desired = 3;
	snprintf(d.resource_version, sizeof(d.resource_version), "42");
	assert_int_equal(ipcs_answer_deployment(req, &d), want);
}

/* The namespace of the i-th produced name: 63 bytes, 16 of them. */
static void
item_ns(char ns[PS_MAX_NAMESPACE + 1], unsigned i)
{
	snprintf(ns, PS_MAX_NAMESPACE + 1, "ns%02u-%058u", (i >> 12) & 15u, 0u);
}

static int
next_name(void *arg, char ns[PS_MAX_NAMESPACE + 1], char name[PS_MAX_NAME + 1])
{
	struct h *h = arg;

	if (h->produced == h->limit)
		return 0;
	if (h->item_ns != NULL)
		snprintf(ns, PS_MAX_NAMESPACE + 1, "%s", h->item_ns);
	else
		item_ns(ns, h->produced);
	/* Long names: the whole answer is far larger than any buffer. */
	snprintf(name, PS_MAX_NAME + 1, "%06u-%0240u", h->produced, 0u);
	h->produced++;
	return 1;
}

static int
next_text(void *arg, char *buf, size_t cap)
{
	struct h *h = arg;
	size_t n = 0;

	while (n < cap && h->produced < h->limit) {
		buf[n++] = (char)('a' + h->produced % 26);
		h->produced++;
	}
	return (int)n;
}

static void
stream_done(void *arg)
{
	struct h *h = arg;

	h->done_calls++;
}

static void
list_cb(struct ipcs_req *req, void *arg)
{
	struct h *h = arg;
	const struct ps_ns_req *ns = ipcs_req_ns(req);

	/* a LIST carries a namespace body, and nothing else */
	h->lists++;
	h->saw_ns = ns != NULL;
	if (ns != NULL)
		snprintf(h->list_ns, sizeof(h->list_ns), "%s", ns->namespace);
	assert_null(ipcs_req_name(req));
	assert_null(ipcs_req_write(req));
	(void)ipcs_answer_names(req, next_name, stream_done, h);
}

static int
next_pin(void *arg, struct ps_pin *pin)
{
	struct h *h = arg;

	if (h->produced == h->limit)
		return 0;
	snprintf(pin->namespace, sizeof(pin->namespace), "%s",
	    h->item_ns != NULL ? h->item_ns : "default");
	snprintf(pin->name, sizeof(pin->name), "pin-%u", h->produced);
	pin->replicas = h->produced;
	pin->state = PS_PIN_ACTIVE;
	h->produced++;
	return 1;
}

static void
pin_list_cb(struct ipcs_req *req, void *arg)
{
	struct h *h = arg;
	const struct ps_ns_req *ns = ipcs_req_ns(req);

	h->lists++;
	h->saw_ns = ns != NULL;
	if (ns != NULL)
		snprintf(h->list_ns, sizeof(h->list_ns), "%s", ns->namespace);
	(void)ipcs_answer_pins(req, next_pin, stream_done, h);
}

static void
metrics_cb(struct ipcs_req *req, void *arg)
{
	struct h *h = arg;

	(void)ipcs_answer_text(req, next_text, stream_done, h);
}

static void
drained_cb(void *arg)
{
	struct h *h = arg;

	h->drained++;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */

/* HELLO is answered with the version and the core's limits. */
static void
test_ipcs_hello_answers_limits(void **state)
{
	struct h *h = *state;

	ready(h);
	assert_int_equal(ipcs_stats(h->srv)->clients, 1);
	assert_int_equal(ipcs_stats(h->srv)->frames[PS_T_HELLO], 1);
}

/* Bytes one at a time still make frames. */
static void
test_ipcs_one_byte_at_a_time(void **state)
{
	struct h *h = *state;
	struct ps_hello m = {PS_VERSION, PS_VERSION};
	struct ps_frame f;
	struct ps_health hm;
	uint8_t buf[128];
	size_t len, len2;

	assert_int_equal(
	    ipcs_set_handler(h->srv, PS_T_HEALTH, health_cb, h), 0);
	assert_int_equal(
	    ps_codec_encode_hello(buf, sizeof(buf), &m, &len), PS_OK);
	assert_int_equal(ps_codec_encode_empty(buf + len, sizeof(buf) - len,
	                     PS_T_HEALTH, 9, &len2),
	    PS_OK);
	for (size_t i = 0; i < len + len2; i++) {
		send_bytes(h, &h->cl, buf + i, 1);
		loop_once(h);
	}
	expect_hello_ok(h, &h->cl);
	assert_int_equal(recv_frame(h, &h->cl, &f), PS_OK);
	assert_int_equal(f.hdr.id, 9);
	assert_int_equal(ps_codec_decode_health(&f, &hm), PS_OK);
	assert_string_equal(hm.message, "not synced");
	assert_int_equal(hm.ns_count, 1);
	assert_string_equal(hm.ns[0].namespace, "default");
}

/* A request before HELLO breaks the state rule: GOAWAY(PROTOCOL). */
static void
test_ipcs_request_before_hello_is_protocol_error(void **state)
{
	struct h *h = *state;

	send_empty(h, &h->cl, PS_T_HEALTH, 1);
	expect_goaway_then_eof(h, &h->cl, PS_E_PROTOCOL, "not allowed");
	assert_int_equal(ipcs_stats(h->srv)->protocol_errors, 1);
	assert_int_equal(ipcs_stats(h->srv)->clients, 0);
}

/* A second HELLO is a protocol error too. */
static void
test_ipcs_second_hello_is_protocol_error(void **state)
{
	struct h *h = *state;

	ready(h);
	send_hello(h, &h->cl, PS_VERSION, PS_VERSION);
	expect_goaway_then_eof(h, &h->cl, PS_E_PROTOCOL, "HELLO");
}

/* A bad header is refused before its body; other clients carry on. */
static void
test_ipcs_bad_header_closes_only_that_connection(void **state)
{
	struct h *h = *state;
	struct client other;
	uint8_t bad[PS_HDR_LEN];
	struct ps_hdr hdr = {PS_HDR_LEN, PS_T_HEALTH, 0, 1, 7};

	client_init(&other, connect_pair(h));
	send_hello(h, &other, PS_VERSION, PS_VERSION);
	expect_hello_ok(h, &other);
	ps_frame_put_hdr(bad, &hdr);
	send_bytes(h, &h->cl, bad, sizeof(bad));
	expect_goaway_then_eof(h, &h->cl, PS_E_PROTOCOL, "reserved");
	/* Unhandled type: UNSUPPORTED, and the connection stays. */
	send_empty(h, &other, PS_T_HEALTH, 3);
	expect_error(h, &other, PS_T_HEALTH, 3, PS_E_UNSUPPORTED, "HEALTH");
	send_list(h, &other, PS_T_LIST, 4, "");
	expect_error(h, &other, PS_T_LIST, 4, PS_E_UNSUPPORTED, NULL);
	send_list(h, &other, PS_T_PIN_LIST, 5, "kube-system");
	expect_error(h, &other, PS_T_PIN_LIST, 5, PS_E_UNSUPPORTED, NULL);
	client_close(&other);
}

/* An oversized length is refused from the header alone. */
static void
test_ipcs_oversized_frame_refused(void **state)
{
	struct h *h = *state;
	uint8_t hdr[PS_HDR_LEN];
	struct ps_hdr x = {0x7fffffff, PS_T_GET, 0, 1, 0};

	ready(h);
	ps_frame_put_hdr(hdr, &x);
	send_bytes(h, &h->cl, hdr, sizeof(hdr));
	expect_goaway_then_eof(h, &h->cl, PS_E_PROTOCOL, "length");
}

/* A body that fails validation (bad name charset) is a protocol error. */
static void
test_ipcs_invalid_body_is_protocol_error(void **state)
{
	struct h *h = *state;
	uint8_t buf[64];
	struct ps_hdr x = {PS_HDR_LEN + 2 + 3, PS_T_GET, 0, 5, 0};

	ready(h);
	ps_frame_put_hdr(buf, &x);
	memcpy(buf + PS_HDR_LEN,
	    "\x00\x03"
	    "A/B",
	    5);
	send_bytes(h, &h->cl, buf, x.len);
	expect_goaway_then_eof(h, &h->cl, PS_E_PROTOCOL, "GET id 5");
}

/* No common version: a VERSION error naming ours, then close. */
static void
test_ipcs_wrong_version_gets_version_error(void **state)
{
	struct h *h = *state;

	/* A gateway of version 1 (before issue #14's write conditions). */
	send_hello(h, &h->cl, 1, 1);
	expect_error(h, &h->cl, PS_T_HELLO, 0, PS_E_VERSION, "version 3");
	expect_eof(h, &h->cl);
}

/* A gateway of version 2 (before issue #15's namespaces): it would read
 * HELLO's answer without the namespace, so no common version. */
static void
test_ipcs_v2_hello_gets_version_error(void **state)
{
	struct h *h = *state;

	send_hello(h, &h->cl, 2, 2);
	expect_error(h, &h->cl, PS_T_HELLO, 0, PS_E_VERSION, "version 3");
	expect_eof(h, &h->cl);
	assert_int_equal(ipcs_stats(h->srv)->clients, 0);
}

/* A gateway speaking 2..3 gets version 3 and the namespace. */
static void
test_ipcs_v2_to_v3_hello_picks_3(void **state)
{
	struct h *h = *state;

	send_hello(h, &h->cl, 2, 3);
	expect_hello_ok(h, &h->cl);
}

/* Wrong magic is a protocol error, not a version error. */
static void
test_ipcs_bad_magic_is_protocol_error(void **state)
{
	struct h *h = *state;
	uint8_t buf[PS_HDR_LEN + 8];
	struct ps_hdr x = {sizeof(buf), PS_T_HELLO, 0, 0, 0};

	ps_frame_put_hdr(buf, &x);
	memcpy(buf + PS_HDR_LEN, "XXXX\x00\x01\x00\x01", 8);
	send_bytes(h, &h->cl, buf, sizeof(buf));
	expect_goaway_then_eof(h, &h->cl, PS_E_PROTOCOL, "magic");
}

/* An id reused while in flight: protocol error; held handles detach. */
static void
test_ipcs_duplicate_id_in_flight(void **state)
{
	struct h *h = *state;
	struct ipcs_req *r;

	assert_int_equal(ipcs_set_handler(h->srv, PS_T_GET, hold_cb, h), 0);
	ready(h);
	send_get(h, &h->cl, 5, "web");
	send_get(h, &h->cl, 5, "web");
	expect_goaway_then_eof(h, &h->cl, PS_E_PROTOCOL, "id");
	assert_int_equal(h->nheld, 1);
	assert_int_equal(h->cancels, 1);
	r = take_held(h, 0);
	assert_false(ipcs_req_alive(r));
	assert_string_equal(ipcs_req_name(r)->name, "web");
	answer_deployment(r, 1); /* dropped, and released */
}

/* Over the in-flight limit: BUSY; answering frees a slot. */
static void
test_ipcs_busy_then_slot_freed(void **state)
{
	struct h *h = *state;
	struct ps_frame f;
	struct ps_deployment d;

	assert_int_equal(ipcs_set_handler(h->srv, PS_T_GET, hold_cb, h), 0);
	ready(h);
	send_get(h, &h->cl, 1, "a");
	send_get(h, &h->cl, 2, "b");
	send_get(h, &h->cl, 3, "c");
	expect_error(h, &h->cl, PS_T_GET, 3, PS_E_BUSY, "in flight");
	assert_int_equal(h->nheld, 2);
	assert_int_equal(ipcs_stats(h->srv)->busy, 1);
	/* Answer out of order: id 2 first. */
	answer_deployment(take_held(h, 1), 0);
	assert_int_equal(recv_frame(h, &h->cl, &f), PS_OK);
	assert_int_equal(f.hdr.id, 2);
	assert_int_equal(ps_codec_decode_deployment(&f, &d), PS_OK);
	assert_string_equal(d.name, "b");
	send_get(h, &h->cl, 4, "d");
	assert_int_equal(h->nheld, 2); /* accepted, not BUSY */
	/* An answered id may be reused. */
	answer_deployment(take_held(h, 1), 0);
	assert_int_equal(recv_frame(h, &h->cl, &f), PS_OK);
	assert_int_equal(f.hdr.id, 4);
	send_get(h, &h->cl, 4, "e");
	assert_int_equal(h->nheld, 2);
}

static void
tweak_inflight2(struct ipcs_config *cfg)
{
	cfg->max_inflight = 2;
}

/* The client leaves before the async answer: the answer is dropped. */
static void
test_ipcs_late_answer_after_disconnect_dropped(void **state)
{
	struct h *h = *state;
	struct ipcs_req *r;

	assert_int_equal(ipcs_set_handler(h->srv, PS_T_GET, hold_cb, h), 0);
	ready(h);
	send_get(h, &h->cl, 8, "web");
	assert_int_equal(h->nheld, 1);
	assert_true(ipcs_req_alive(h->held[0]));
	assert_int_equal(ipcs_req_uid(h->held[0]), getuid());
	assert_int_equal(ipcs_req_pid(h->held[0]), getpid());
	assert_int_equal(ipcs_req_id(h->held[0]), 8);
	assert_int_equal(ipcs_req_type(h->held[0]), PS_T_GET);
	assert_null(ipcs_req_write(h->held[0]));
	/* version 3: a GET's namespace is in its name body, not a LIST's */
	assert_null(ipcs_req_ns(h->held[0]));
	assert_string_equal(ipcs_req_name(h->held[0])->namespace, "default");
	assert_string_equal(ipcs_req_name(h->held[0])->name, "web");
	client_close(&h->cl);
	run_for(h, 20);
	assert_int_equal(ipcs_stats(h->srv)->clients, 0);
	assert_int_equal(h->cancels, 1);
	r = take_held(h, 0);
	assert_false(ipcs_req_alive(r));
	assert_int_equal(ipcs_answer_error(r, PS_E_NOT_FOUND, 0, "late"), 1);
}

/* A LIST far larger than the output cap streams in bounded frames. */
static void
test_ipcs_stream_names_bounded_by_output(void **state)
{
	struct h *h = *state;
	struct ps_frame f;
	struct ps_list_dec d;
	char name[PS_MAX_NAME + 1], want[PS_MAX_NAME + 1];
	char ns[PS_MAX_NAMESPACE + 1], want_ns[PS_MAX_NAMESPACE + 1];
	unsigned got = 0, frames = 0;
	int rc;

	h->limit = PS_MAX_LIST_TOTAL;
	assert_int_equal(ipcs_set_handler(h->srv, PS_T_LIST, list_cb, h), 0);
	ready(h);
	send_list(h, &h->cl, PS_T_LIST, 11, "");
	run_for(h, 50); /* the client does not read meanwhile */
	/* 65536 items x 320 bytes = 20 MiB: only socket buffers + cap. */
	assert_true(h->produced < h->limit / 4);
	assert_int_equal(h->lists, 1);
	assert_true(h->saw_ns);
	assert_string_equal(h->list_ns, "");
	for (;;) {
		assert_int_equal(recv_frame(h, &h->cl, &f), PS_OK);
		assert_int_equal(f.hdr.id, 11);
		assert_true(f.hdr.len <= PS_MAX_FRAME);
		frames++;
		assert_int_equal(ps_codec_list_open(&f, &d), PS_OK);
		while ((rc = ps_codec_list_next_name(&d, ns, name)) == 1) {
			item_ns(want_ns, got);
			assert_string_equal(ns, want_ns);
			snprintf(want, sizeof(want), "%06u-%0240u", got, 0u);
			assert_string_equal(name, want);
			got++;
		}
		assert_int_equal(rc, 0);
		if ((f.hdr.flags & PS_F_MORE) == 0)
			break;
	}
	assert_int_equal(got, PS_MAX_LIST_TOTAL);
	assert_true(frames > 1000);
	assert_int_equal(h->done_calls, 1);
	/* The slot is free again: the connection still works. */
	send_list(h, &h->cl, PS_T_LIST, 12, "default");
	h->produced = 0;
	h->limit = 0;
	assert_int_equal(recv_frame(h, &h->cl, &f), PS_OK);
	assert_int_equal(f.hdr.id, 12);
	assert_int_equal(f.hdr.flags, PS_F_REPLY); /* empty list, one frame */
	assert_int_equal(h->lists, 2);
	assert_string_equal(h->list_ns, "default");
}

/* A stream whose client leaves is abandoned: done runs once. */
static void
test_ipcs_stream_abandoned_on_disconnect(void **state)
{
	struct h *h = *state;

	h->limit = PS_MAX_LIST_TOTAL;
	assert_int_equal(ipcs_set_handler(h->srv, PS_T_LIST, list_cb, h), 0);
	ready(h);
	send_list(h, &h->cl, PS_T_LIST, 1, "");
	run_for(h, 20);
	assert_int_equal(h->done_calls, 0);
	client_close(&h->cl);
	run_for(h, 20);
	assert_int_equal(h->done_calls, 1);
	assert_int_equal(ipcs_stats(h->srv)->clients, 0);
}

/* METRICS text spans frames and arrives whole. */
static void
test_ipcs_stream_text_spans_frames(void **state)
{
	struct h *h = *state;
	struct ps_frame f;
	const char *text;
	size_t tlen, total = 0;
	int frames = 0;

	h->limit = 100000;
	assert_int_equal(
	    ipcs_set_handler(h->srv, PS_T_METRICS, metrics_cb, h), 0);
	ready(h);
	send_empty(h, &h->cl, PS_T_METRICS, 2);
	do {
		assert_int_equal(recv_frame(h, &h->cl, &f), PS_OK);
		assert_int_equal(
		    ps_codec_decode_metrics(&f, &text, &tlen), PS_OK);
		for (size_t i = 0; i < tlen; i++)
			assert_int_equal(text[i], 'a' + (total + i) % 26);
		total += tlen;
		frames++;
	} while ((f.hdr.flags & PS_F_MORE) != 0);
	assert_int_equal(total, 100000);
	assert_true(frames >= 7);
	assert_int_equal(h->done_calls, 1);
}

static void
tweak_small_output(struct ipcs_config *cfg)
{
	cfg->max_output = 4096;
	cfg->output_low = 1024;
}

/* A client that does not read: the core stops reading it, and resumes
 * without losing a request once the client drains its answers. */
static void
test_ipcs_backpressure_pauses_and_resumes(void **state)
{
	struct h *h = *state;
	enum { N = 3000 };
	uint8_t *reqs = malloc(N * PS_HDR_LEN);
	struct ps_frame f;
	size_t off = 0, len;
	ssize_t n;
	uint32_t next = 1;
	int sz = 4096;

	assert_non_null(reqs);
	assert_int_equal(
	    ipcs_set_handler(h->srv, PS_T_HEALTH, health_cb, h), 0);
	assert_int_equal(
	    setsockopt(h->cl.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)), 0);
	ready(h);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(ps_codec_encode_empty(reqs + i * PS_HDR_LEN,
		                     PS_HDR_LEN, PS_T_HEALTH, i + 1, &len),
		    PS_OK);
	/* Write what the socket takes without reading any answer. */
	for (int round = 0; round < 200 && off < N * PS_HDR_LEN; round++) {
		n = write(h->cl.fd, reqs + off, N * PS_HDR_LEN - off);
		if (n > 0)
			off += (size_t)n;
		loop_once(h);
	}
	run_for(h, 20);
	/* Not everything was answered: the core paused reading. */
	assert_true(ipcs_stats(h->srv)->frames[PS_T_HEALTH] < N);
	/* Now read answers, writing the rest as room appears. */
	while (next <= N) {
		if (off < N * PS_HDR_LEN) {
			n = write(h->cl.fd, reqs + off, N * PS_HDR_LEN - off);
			if (n > 0)
				off += (size_t)n;
		}
		assert_int_equal(recv_frame(h, &h->cl, &f), PS_OK);
		assert_int_equal(f.hdr.type, PS_T_HEALTH);
		assert_int_equal(f.hdr.id, next);
		next++;
	}
	assert_int_equal(ipcs_stats(h->srv)->frames[PS_T_HEALTH], N);
	assert_int_equal(ipcs_stats(h->srv)->protocol_errors, 0);
	free(reqs);
}

static void
tweak_short_timeouts(struct ipcs_config *cfg)
{
	cfg->handshake_timeout_ms = 50;
	cfg->idle_timeout_ms = 80;
}

/* No HELLO in time: GOAWAY and close. */
static void
test_ipcs_handshake_timeout(void **state)
{
	struct h *h = *state;

	run_for(h, 100);
	expect_goaway_then_eof(h, &h->cl, PS_E_PROTOCOL, "HELLO");
	assert_int_equal(ipcs_stats(h->srv)->timeouts, 1);
}

/* Idle: closed with nothing in flight, kept while a request waits. */
static void
test_ipcs_idle_timeout_spares_inflight(void **state)
{
	struct h *h = *state;
	struct ps_frame f;

	assert_int_equal(ipcs_set_handler(h->srv, PS_T_GET, hold_cb, h), 0);
	ready(h);
	send_get(h, &h->cl, 1, "web");
	run_for(h, 200);
	assert_int_equal(ipcs_stats(h->srv)->clients, 1);
	answer_deployment(take_held(h, 0), 0);
	assert_int_equal(recv_frame(h, &h->cl, &f), PS_OK);
	run_for(h, 200);
	expect_goaway_then_eof(h, &h->cl, PS_E_UNAVAILABLE, "idle");
}

static void
tweak_other_uid(struct ipcs_config *cfg)
{
	static uid_t other;

	other = getuid() + 4242;
	cfg->uids = &other;
}

/* A peer whose uid is not allowed is closed before anything is read. */
static void
test_ipcs_refuses_disallowed_uid(void **state)
{
	struct h *h = *state;

	expect_eof(h, &h->cl);
	assert_int_equal(ipcs_stats(h->srv)->refused_uid, 1);
	assert_int_equal(ipcs_stats(h->srv)->clients, 0);
}

static void
tweak_one_client(struct ipcs_config *cfg)
{
	cfg->max_clients = 1;
	cfg->own_uid_slots = 0;
}

/* Over the client cap: GOAWAY(UNAVAILABLE) and close; the first stays. */
static void
test_ipcs_refuses_over_max_clients(void **state)
{
	struct h *h = *state;
	struct client second;

	client_init(&second, connect_pair(h));
	expect_goaway_then_eof(h, &second, PS_E_UNAVAILABLE, "too many");
	client_close(&second);
	assert_int_equal(ipcs_stats(h->srv)->refused_capacity, 1);
	ready(h);
}

/* Shutdown: new requests UNAVAILABLE, in-flight answered, then GOAWAY. */
static void
test_ipcs_shutdown_drains_inflight(void **state)
{
	struct h *h = *state;
	struct ps_frame f;

	assert_int_equal(ipcs_set_handler(h->srv, PS_T_GET, hold_cb, h), 0);
	ready(h);
	send_get(h, &h->cl, 1, "web");
	ipcs_shutdown(h->srv, drained_cb, h);
	send_get(h, &h->cl, 2, "web");
	expect_error(h, &h->cl, PS_T_GET, 2, PS_E_UNAVAILABLE, "shutting");
	assert_int_equal(h->drained, 0);
	answer_deployment(take_held(h, 0), 0);
	assert_int_equal(recv_frame(h, &h->cl, &f), PS_OK);
	assert_int_equal(f.hdr.id, 1);
	expect_goaway_then_eof(h, &h->cl, PS_E_UNAVAILABLE, "shutting down");
	run_for(h, 10);
	assert_int_equal(h->drained, 1);
	assert_int_equal(h->cancels, 0);
}

static void
tweak_short_drain(struct ipcs_config *cfg)
{
	cfg->drain_timeout_ms = 50;
}

/* A request never answered does not hold shutdown past the deadline. */
static void
test_ipcs_shutdown_deadline(void **state)
{
	struct h *h = *state;

	assert_int_equal(ipcs_set_handler(h->srv, PS_T_GET, hold_cb, h), 0);
	ready(h);
	send_get(h, &h->cl, 1, "web");
	ipcs_shutdown(h->srv, drained_cb, h);
	run_for(h, 100);
	expect_goaway_then_eof(h, &h->cl, PS_E_UNAVAILABLE, "shutting down");
	run_for(h, 10);
	assert_int_equal(h->drained, 1);
	assert_int_equal(h->cancels, 1);
	/* The handler still owns its handle; teardown drops it. */
	assert_int_equal(h->nheld, 1);
}

/* ------------------------------------------------------------------ */
/* Version 3: namespaces                                               */

/* ipcs_new needs the default namespace, a DNS-1123 label. */
static void
test_ipcs_new_requires_a_valid_namespace(void **state)
{
	struct h *h = *state;
	static const char *const bad[] = {"", "Default", "a.b", "-a", "a-",
	    "a_b", "a b", "kube/system",
	    "a234567890123456789012345678901234567890123456789012345678901234"};
	char ns63[PS_MAX_NAMESPACE + 1];
	struct ipcs_config cfg = h->cfg;
	struct ipcs *srv;

	cfg.namespace = NULL;
	errno = 0;
	assert_null(ipcs_new(h->base, &cfg));
	assert_int_equal(errno, EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.namespace = bad[i];
		errno = 0;
		srv = ipcs_new(h->base, &cfg);
		if (srv != NULL)
			fail_msg("namespace '%s' accepted", bad[i]);
		assert_int_equal(errno, EINVAL);
	}
	/* the longest label is fine */
	memset(ns63, 'a', PS_MAX_NAMESPACE);
	ns63[PS_MAX_NAMESPACE] = '\0';
	cfg.namespace = ns63;
	srv = ipcs_new(h->base, &cfg);
	assert_non_null(srv);
	ipcs_free(srv);
}

static char tweak_ns_buf[PS_MAX_NAMESPACE + 1];

static void
tweak_long_namespace(struct ipcs_config *cfg)
{
	memset(tweak_ns_buf, '7', PS_MAX_NAMESPACE);
	tweak_ns_buf[0] = 'z';
	tweak_ns_buf[PS_MAX_NAMESPACE] = '\0';
	cfg->namespace = tweak_ns_buf;
}

/* HELLO's answer carries the configured namespace, copied at ipcs_new:
 * the caller's buffer may change afterwards. */
static void
test_ipcs_hello_carries_the_namespace(void **state)
{
	struct h *h = *state;
	char want[PS_MAX_NAMESPACE + 1];
	struct ps_frame f;
	struct ps_hello_ok ok;

	memcpy(want, tweak_ns_buf, sizeof(want));
	assert_int_equal(strlen(want), PS_MAX_NAMESPACE);
	memset(tweak_ns_buf, 'X', PS_MAX_NAMESPACE); /* not a label any more */
	send_hello(h, &h->cl, PS_VERSION, PS_VERSION);
	assert_int_equal(recv_frame(h, &h->cl, &f), PS_OK);
	assert_int_equal(ps_codec_decode_hello_ok(&f, &ok), PS_OK);
	assert_int_equal(ok.version, 3);
	assert_string_equal(ok.namespace, want);
}

/* LIST and PIN_LIST: the namespace body reaches the handler through
 * ipcs_req_ns(), and the (namespace, name) items reach the client. */
static void
test_ipcs_list_namespace_body_and_items(void **state)
{
	struct h *h = *state;
	struct ps_frame f;
	struct ps_list_dec d;
	char ns[PS_MAX_NAMESPACE + 1], name[PS_MAX_NAME + 1];
	struct ps_pin pin;
	unsigned got = 0;
	int rc;

	assert_int_equal(ipcs_set_handler(h->srv, PS_T_LIST, list_cb, h), 0);
	assert_int_equal(
	    ipcs_set_handler(h->srv, PS_T_PIN_LIST, pin_list_cb, h), 0);
	ready(h);
	h->limit = 3;
	h->item_ns = "kube-system";
	send_list(h, &h->cl, PS_T_LIST, 21, "kube-system");
	assert_int_equal(recv_frame(h, &h->cl, &f), PS_OK);
	assert_int_equal(f.hdr.id, 21);
	assert_int_equal(f.hdr.flags, PS_F_REPLY);
	assert_int_equal(h->lists, 1);
	assert_true(h->saw_ns);
	assert_string_equal(h->list_ns, "kube-system");
	assert_int_equal(ps_codec_list_open(&f, &d), PS_OK);
	while ((rc = ps_codec_list_next_name(&d, ns, name)) == 1) {
		char want[PS_MAX_NAME + 1];

		assert_string_equal(ns, "kube-system");
		snprintf(want, sizeof(want), "%06u-%0240u", got, 0u);
		assert_string_equal(name, want);
		got++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(got, 3);
	assert_int_equal(h->done_calls, 1);

	/* PIN_LIST of every namespace: "" arrives as "" */
	h->produced = 0;
	h->limit = 2;
	h->item_ns = "prod";
	send_list(h, &h->cl, PS_T_PIN_LIST, 22, "");
	assert_int_equal(recv_frame(h, &h->cl, &f), PS_OK);
	assert_int_equal(f.hdr.id, 22);
	assert_int_equal(h->lists, 2);
	assert_true(h->saw_ns);
	assert_string_equal(h->list_ns, "");
	assert_int_equal(ps_codec_list_open(&f, &d), PS_OK);
	got = 0;
	while ((rc = ps_codec_list_next_pin(&d, &pin)) == 1) {
		char want[32];

		assert_string_equal(pin.namespace, "prod");
		snprintf(want, sizeof(want), "pin-%u", got);
		assert_string_equal(pin.name, want);
		assert_int_equal(pin.replicas, got);
		got++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(got, 2);
	assert_int_equal(h->done_calls, 2);
	assert_int_equal(ipcs_stats(h->srv)->protocol_errors, 0);
}

/* A names callback that yields an invalid namespace: the stream fails
 * with INTERNAL, `done` runs once, the connection carries on. */
static void
test_ipcs_list_item_with_bad_namespace_fails_the_stream(void **state)
{
	struct h *h = *state;

	assert_int_equal(ipcs_set_handler(h->srv, PS_T_LIST, list_cb, h), 0);
	ready(h);
	h->limit = 3;
	h->item_ns = "Not.A-Label";
	send_list(h, &h->cl, PS_T_LIST, 7, "");
	expect_error(h, &h->cl, PS_T_LIST, 7, PS_E_INTERNAL, "did not encode");
	assert_int_equal(h->done_calls, 1);
	/* an empty namespace is not an item's either */
	h->produced = 0;
	h->item_ns = "";
	send_list(h, &h->cl, PS_T_LIST, 8, "");
	expect_error(h, &h->cl, PS_T_LIST, 8, PS_E_INTERNAL, "did not encode");
	assert_int_equal(h->done_calls, 2);
	/* and the connection still works */
	h->produced = 0;
	h->item_ns = "ok";
	send_list(h, &h->cl, PS_T_LIST, 9, "ok");
	{
		struct ps_frame f;

		assert_int_equal(recv_frame(h, &h->cl, &f), PS_OK);
		assert_int_equal(f.hdr.id, 9);
		assert_int_equal(f.hdr.flags & PS_F_ERROR, 0);
	}
	assert_int_equal(h->done_calls, 3);
}

/* Raw LIST bodies a version-3 core refuses: GOAWAY(PROTOCOL). */
static void
send_raw_list(struct h *h, const char *body, size_t body_len)
{
	uint8_t buf[PS_HDR_LEN + 128];
	struct ps_hdr x = {
	    (uint32_t)(PS_HDR_LEN + body_len), PS_T_LIST, 0, 3, 0};

	assert_true(body_len <= 128);
	ps_frame_put_hdr(buf, &x);
	memcpy(buf + PS_HDR_LEN, body, body_len);
	send_bytes(h, &h->cl, buf, x.len);
}

static void
test_ipcs_list_bad_namespace_body_is_protocol_error(void **state)
{
	struct h *h = *state;

	assert_int_equal(ipcs_set_handler(h->srv, PS_T_LIST, list_cb, h), 0);
	ready(h);
	send_raw_list(h,
	    "\x00\x03"
	    "a.b",
	    5);
	expect_goaway_then_eof(h, &h->cl, PS_E_PROTOCOL, "LIST id 3");
	assert_int_equal(h->lists, 0);
	assert_int_equal(ipcs_stats(h->srv)->protocol_errors, 1);
}

/* A version-2 LIST (no body) is truncated, not "every namespace". */
static void
test_ipcs_list_v2_empty_body_is_protocol_error(void **state)
{
	struct h *h = *state;

	assert_int_equal(ipcs_set_handler(h->srv, PS_T_LIST, list_cb, h), 0);
	ready(h);
	send_raw_list(h, "", 0);
	expect_goaway_then_eof(h, &h->cl, PS_E_PROTOCOL, "LIST id 3");
	assert_int_equal(h->lists, 0);
}

/* A GET whose namespace is not a label is refused before the handler. */
static void
test_ipcs_get_bad_namespace_is_protocol_error(void **state)
{
	struct h *h = *state;
	uint8_t buf[64];
	struct ps_hdr x = {PS_HDR_LEN + 2 + 0 + 2 + 3, PS_T_GET, 0, 6, 0};

	assert_int_equal(ipcs_set_handler(h->srv, PS_T_GET, hold_cb, h), 0);
	ready(h);
	ps_frame_put_hdr(buf, &x);
	/* namespace "", name "web" */
	memcpy(buf + PS_HDR_LEN,
	    "\x00\x00\x00\x03"
	    "web",
	    7);
	send_bytes(h, &h->cl, buf, x.len);
	expect_goaway_then_eof(h, &h->cl, PS_E_PROTOCOL, "GET id 6");
	assert_int_equal(h->nheld, 0);
}

/* HELLO and GOAWAY cannot get handlers; real types can. */
static void
test_ipcs_set_handler_rows(void **state)
{
	struct h *h = *state;

	assert_int_equal(ipcs_set_handler(h->srv, PS_T_HELLO, hold_cb, h), -1);
	assert_int_equal(ipcs_set_handler(h->srv, PS_T_GOAWAY, hold_cb, h), -1);
	assert_int_equal(ipcs_set_handler(h->srv, 0, hold_cb, h), -1);
	assert_int_equal(
	    ipcs_set_handler(h->srv, PS_T_MAX + 1, hold_cb, h), -1);
	for (uint16_t t = PS_T_LIST; t <= PS_T_METRICS; t++)
		assert_int_equal(ipcs_set_handler(h->srv, t, hold_cb, h), 0);
}

#define T(fn)     cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TS(fn, s) cmocka_unit_test_setup_teardown(fn, s, teardown)

#define SETUP(name, tweak)                      \
	static int name(void **state)           \
	{                                       \
		return setup_cfg(state, tweak); \
	}
SETUP(setup_inflight2, tweak_inflight2)
SETUP(setup_small_output, tweak_small_output)
SETUP(setup_short_timeouts, tweak_short_timeouts)
SETUP(setup_other_uid, tweak_other_uid)
SETUP(setup_one_client, tweak_one_client)
SETUP(setup_short_drain, tweak_short_drain)
SETUP(setup_long_namespace, tweak_long_namespace)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_ipcs_hello_answers_limits),
	    T(test_ipcs_one_byte_at_a_time),
	    T(test_ipcs_request_before_hello_is_protocol_error),
	    T(test_ipcs_second_hello_is_protocol_error),
	    T(test_ipcs_bad_header_closes_only_that_connection),
	    T(test_ipcs_oversized_frame_refused),
	    T(test_ipcs_invalid_body_is_protocol_error),
	    T(test_ipcs_wrong_version_gets_version_error),
	    T(test_ipcs_v2_hello_gets_version_error),
	    T(test_ipcs_v2_to_v3_hello_picks_3),
	    T(test_ipcs_bad_magic_is_protocol_error),
	    T(test_ipcs_duplicate_id_in_flight),
	    TS(test_ipcs_busy_then_slot_freed, setup_inflight2),
	    T(test_ipcs_late_answer_after_disconnect_dropped),
	    T(test_ipcs_stream_names_bounded_by_output),
	    T(test_ipcs_stream_abandoned_on_disconnect),
	    T(test_ipcs_stream_text_spans_frames),
	    TS(test_ipcs_backpressure_pauses_and_resumes, setup_small_output),
	    TS(test_ipcs_handshake_timeout, setup_short_timeouts),
	    TS(test_ipcs_idle_timeout_spares_inflight, setup_short_timeouts),
	    TS(test_ipcs_refuses_disallowed_uid, setup_other_uid),
	    TS(test_ipcs_refuses_over_max_clients, setup_one_client),
	    T(test_ipcs_shutdown_drains_inflight),
	    TS(test_ipcs_shutdown_deadline, setup_short_drain),
	    T(test_ipcs_new_requires_a_valid_namespace),
	    TS(test_ipcs_hello_carries_the_namespace, setup_long_namespace),
	    T(test_ipcs_list_namespace_body_and_items),
	    T(test_ipcs_list_item_with_bad_namespace_fails_the_stream),
	    T(test_ipcs_list_bad_namespace_body_is_protocol_error),
	    T(test_ipcs_list_v2_empty_body_is_protocol_error),
	    T(test_ipcs_get_bad_namespace_is_protocol_error),
	    T(test_ipcs_set_handler_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
