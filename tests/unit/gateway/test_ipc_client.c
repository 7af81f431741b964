/*
 * test_ipc_client.c — the core link's pending table over a real
 * socketpair: the test plays the core with proto-socket's own codec.
 * Covers the HELLO handshake, id uniqueness, out-of-order matching, the
 * in-flight limit, late answers dropped (cancelled and timed-out), fail-all
 * on disconnect and on GOAWAY, protocol violations, and multi-frame
 * reassembly with its totals bounded.  Waiting is always "until a
 * condition, with a deadline".
 */
#include <sys/socket.h>

#include <poll.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "gateway/gw_limits.h"
#include "gateway/ipc_client.h"
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"

#define DEADLINE_MS 3000

struct fix {
	struct event_base *base;
	struct ipcc *c;
	int core;             /* the test's end of the socketpair */
	struct ps_reader *rd; /* requests from the gateway */
	uint8_t body[PS_MAX_REQUEST_FRAME];
	struct ps_frame last; /* last request read (body copied) */
};

struct got {
	int calls;
	struct ipcc_answer a;
	size_t nitems;
	char first[PS_MAX_NAME + 1], last[PS_MAX_NAME + 1];
	char first_ns[PS_MAX_NAMESPACE + 1], last_ns[PS_MAX_NAMESPACE + 1];
	size_t text_len;
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Runs the loop until *flag (or ipcc_ready when flag is NULL) holds. */
static void
run_until(struct fix *f, const int *flag, int want)
{
	long end = now_ms() + DEADLINE_MS;

	while ((flag != NULL ? *flag < want : !ipcc_ready(f->c))) {
		if (now_ms() > end)
			fail_msg("condition not reached in %d ms", DEADLINE_MS);
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		poll(NULL, 0, 1);
	}
}

/* Reads one request frame (runs the loop while waiting). */
static void
read_request(struct fix *f)
{
	long end = now_ms() + DEADLINE_MS;
	uint8_t b;
	size_t used;
	ssize_t n;
	int rc;

	for (;;) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		n = recv(f->core, &b, 1, MSG_DONTWAIT);
		if (n == 1) {
			rc = ps_reader_read(f->rd, &b, 1, &used, &f->last);
			if (rc == PS_OK) {
				memcpy(f->body, f->last.body, f->last.body_len);
				f->last.body = f->body;
				return;
			}
			assert_int_equal(rc, PS_AGAIN);
			continue;
		}
		if (now_ms() > end)
			fail_msg("no request within %d ms", DEADLINE_MS);
		poll(NULL, 0, 1);
	}
}

static void
send_raw(struct fix *f, const uint8_t *p, size_t len)
{
	assert_int_equal(write(f->core, p, len), (ssize_t)len);
}

static void
send_hello_ok(struct fix *f, uint16_t inflight)
{
	struct ps_hello_ok ok = {
	    PS_VERSION, inflight, PS_MAX_FRAME, "payments"};
	uint8_t frame[128];
	size_t len;

	assert_int_equal(
	    ps_codec_encode_hello_ok(frame, sizeof(frame), &ok, &len), PS_OK);
	send_raw(f, frame, len);
}

static void
setup_link(struct fix *f, uint16_t inflight, int deadline_ms)
{
	struct ipcc_config cfg;
	struct ps_hello h;
	int sv[2];

	memset(f, 0, sizeof(*f));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f->core = sv[1];
	assert_non_null(f->base = event_base_new());
	assert_non_null(f->rd = ps_reader_new(PS_DIR_REQUEST));
	memset(&cfg, 0, sizeof(cfg));
	cfg.deadline_ms = deadline_ms;
	cfg.max_inflight = PS_MAX_INFLIGHT;
	assert_non_null(f->c = ipcc_new(f->base, &cfg));
	assert_int_equal(ipcc_adopt_fd(f->c, sv[0]), 0);
	read_request(f);
	assert_int_equal(f->last.hdr.type, PS_T_HELLO);
	assert_int_equal(f->last.hdr.id, 0);
	assert_int_equal(ps_codec_decode_hello(&f->last, &h), PS_OK);
	assert_int_equal(h.min_version, PS_VERSION);
	send_hello_ok(f, inflight);
	run_until(f, NULL, 1);
}

static void
teardown_link(struct fix *f)
{
	ipcc_free(f->c);
	ps_reader_free(f->rd);
	close(f->core);
	event_base_free(f->base);
}

static void
record_cb(const struct ipcc_answer *a, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->a = *a;
	g->nitems = a->nitems;
	if (a->nitems > 0) {
		strcpy(g->first, a->items[0].name);
		strcpy(g->last, a->items[a->nitems - 1].name);
		strcpy(g->first_ns, a->items[0].ns);
		strcpy(g->last_ns, a->items[a->nitems - 1].ns);
	}
	g->text_len = a->text_len;
}

static struct ipcc_req *
submit_get(struct fix *f, const char *name, struct got *g)
{
	struct ipcc_call call = {
	    .type = PS_T_GET, .ns = "payments", .name = name};
	struct ipcc_req *r = NULL;

	assert_int_equal(ipcc_submit(f->c, &call, record_cb, g, &r), IPCC_OK);
	return r;
}

static void
answer_get(struct fix *f, uint32_t id, const char *name, uint32_t desired)
{
	struct ps_deployment d;
	uint8_t frame[PS_MAX_FRAME];
	size_t len;

	memset(&d, 0, sizeof(d));
	strcpy(d.name, name);
	strcpy(d.namespace, "default");
	d.desired = desired;
	strcpy(d.resource_version, "7");
	assert_int_equal(
	    ps_codec_encode_deployment(frame, sizeof(frame), id, &d, &len),
	    PS_OK);
	send_raw(f, frame, len);
}

/* Requests carry fresh non-zero ids; answers match in any order. */
static void
test_ipcc_ids_and_out_of_order(void **state)
{
	struct fix f;
	struct got g1 = {0}, g2 = {0}, g3 = {0};
	uint32_t id1, id2, id3;

	(void)state;
	setup_link(&f, 8, 5000);
	submit_get(&f, "a", &g1);
	read_request(&f);
	id1 = f.last.hdr.id;
	submit_get(&f, "b", &g2);
	read_request(&f);
	id2 = f.last.hdr.id;
	submit_get(&f, "c", &g3);
	read_request(&f);
	id3 = f.last.hdr.id;
	assert_true(id1 != 0 && id2 != 0 && id3 != 0);
	assert_true(id1 != id2 && id2 != id3 && id1 != id3);
	assert_int_equal(ipcc_outstanding(f.c), 3);
	answer_get(&f, id3, "c", 3);
	answer_get(&f, id1, "a", 1);
	answer_get(&f, id2, "b", 2);
	run_until(&f, &g2.calls, 1);
	run_until(&f, &g1.calls, 1);
	run_until(&f, &g3.calls, 1);
	assert_int_equal(g1.a.status, IPCC_OK);
	assert_string_equal(g1.a.u.dep.name, "a");
	assert_int_equal(g2.a.u.dep.desired, 2);
	assert_int_equal(g3.a.u.dep.desired, 3);
	assert_int_equal(ipcc_outstanding(f.c), 0);
	teardown_link(&f);
}

/*
 * HELLO's max_inflight is enforced locally: the excess waits in order and
 * is sent as answers free slots; a cancelled or timed-out waiting request
 * is never sent; only a full queue is BUSY.
 */
static void
test_ipcc_queue_over_max_inflight(void **state)
{
	struct fix f;
	struct got g1 = {0}, g2 = {0}, g3 = {0}, g4 = {0}, gb = {0};
	struct ipcc_call call = {.type = PS_T_HEALTH};
	struct ipcc_req *r4;
	struct ps_name_req nr;
	uint32_t id1, id2;
	int i;

	(void)state;
	setup_link(&f, 2, 5000);
	assert_int_equal(ipcc_max_inflight(f.c), 2);
	submit_get(&f, "a", &g1);
	submit_get(&f, "b", &g2);
	submit_get(&f, "c", &g3);      /* waits */
	r4 = submit_get(&f, "d", &g4); /* waits, then is cancelled */
	assert_int_equal(ipcc_outstanding(f.c), 2);
	read_request(&f);
	id1 = f.last.hdr.id;
	read_request(&f);
	id2 = f.last.hdr.id;
	ipcc_cancel(r4);
	answer_get(&f, id1, "a", 1);
	run_until(&f, &g1.calls, 1);
	/* The slot went to "c", the first that waited. */
	read_request(&f);
	assert_int_equal(f.last.hdr.type, PS_T_GET);
	assert_true(f.last.hdr.id != 0 && f.last.hdr.id != id2);
	assert_int_equal(ps_codec_decode_name_req(&f.last, &nr), PS_OK);
	assert_string_equal(nr.name, "c");
	answer_get(&f, f.last.hdr.id, "c", 3);
	answer_get(&f, id2, "b", 2);
	run_until(&f, &g3.calls, 1);
	run_until(&f, &g2.calls, 1);
	assert_int_equal(g3.a.u.dep.desired, 3);
	assert_int_equal(g4.calls, 0); /* cancelled: never sent, no call */
	assert_int_equal(ipcc_outstanding(f.c), 0);
	/* Full: max_inflight in flight and GW_CORE_MAX_QUEUED waiting. */
	for (i = 0; i < 2 + GW_CORE_MAX_QUEUED; i++)
		assert_int_equal(
		    ipcc_submit(f.c, &call, record_cb, &gb, NULL), IPCC_OK);
	assert_int_equal(
	    ipcc_submit(f.c, &call, record_cb, &gb, NULL), IPCC_BUSY);
	teardown_link(&f);
}

/* A request that waits past its deadline times out, and is never sent. */
static void
test_ipcc_queued_request_times_out(void **state)
{
	struct fix f;
	struct got g1 = {0}, g2 = {0};
	ssize_t n;
	uint8_t b;

	(void)state;
	setup_link(&f, 1, 200);
	submit_get(&f, "a", &g1);
	read_request(&f);
	submit_get(&f, "b", &g2); /* waits behind "a" */
	run_until(&f, &g2.calls, 1);
	assert_int_equal(g2.a.status, IPCC_TIMEOUT);
	/* "b" never went out. */
	event_base_loop(f.base, EVLOOP_NONBLOCK);
	n = recv(f.core, &b, 1, MSG_DONTWAIT);
	assert_int_equal(n, -1);
	teardown_link(&f);
}

/* A cancelled request's answer is dropped; its id is then free. */
static void
test_ipcc_late_answer_after_cancel_dropped(void **state)
{
	struct fix f;
	struct got g = {0}, g2 = {0};
	struct ipcc_req *r;
	uint32_t id;

	(void)state;
	setup_link(&f, 8, 5000);
	r = submit_get(&f, "gone", &g);
	read_request(&f);
	id = f.last.hdr.id;
	ipcc_cancel(r);
	assert_int_equal(ipcc_outstanding(f.c), 1); /* still at the core */
	answer_get(&f, id, "gone", 1);
	/* A second request proves the first answer was consumed. */
	submit_get(&f, "next", &g2);
	read_request(&f);
	answer_get(&f, f.last.hdr.id, "next", 2);
	run_until(&f, &g2.calls, 1);
	assert_int_equal(g.calls, 0);
	assert_int_equal(ipcc_outstanding(f.c), 0);
	assert_true(ipcc_ready(f.c));
	teardown_link(&f);
}

/* Deadline: TIMEOUT once; the late answer is dropped, link stays up. */
static void
test_ipcc_timeout_then_late_answer(void **state)
{
	struct fix f;
	struct got g = {0}, g2 = {0};
	uint32_t id;

	(void)state;
	setup_link(&f, 8, 100);
	submit_get(&f, "slow", &g);
	read_request(&f);
	id = f.last.hdr.id;
	run_until(&f, &g.calls, 1);
	assert_int_equal(g.a.status, IPCC_TIMEOUT);
	answer_get(&f, id, "slow", 1);
	submit_get(&f, "next", &g2);
	read_request(&f);
	answer_get(&f, f.last.hdr.id, "next", 2);
	run_until(&f, &g2.calls, 1);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g2.a.status, IPCC_OK);
	assert_true(ipcc_ready(f.c));
	teardown_link(&f);
}

/* An abandoned request unanswered for a second deadline resets the link. */
static void
test_ipcc_unanswered_resets_link(void **state)
{
	struct fix f;
	struct got g = {0};

	(void)state;
	setup_link(&f, 8, 50);
	submit_get(&f, "never", &g);
	read_request(&f);
	run_until(&f, &g.calls, 1);
	assert_int_equal(g.a.status, IPCC_TIMEOUT);
	{
		long end = now_ms() + DEADLINE_MS;

		while (ipcc_ready(f.c) && now_ms() < end) {
			event_base_loop(f.base, EVLOOP_NONBLOCK);
			poll(NULL, 0, 1);
		}
	}
	assert_false(ipcc_ready(f.c));
	assert_int_equal(g.calls, 1);
	teardown_link(&f);
}

/*
 * Version 3: HELLO's answer gives the link its default namespace (gone
 * with the link); every call carries its namespace, LIST and PIN_LIST ""
 * for all; a PIN_LIST item keeps its namespace.
 */
static void
test_ipcc_namespaces(void **state)
{
	struct fix f;
	struct got g = {0}, g2 = {0};
	struct ps_ns_req nr;
	struct ps_name_req name;
	struct ps_list_enc e;
	struct ps_pin pin = {.namespace = "ops", .name = "web", .replicas = 2};
	uint8_t frame[PS_MAX_FRAME];
	size_t len;

	(void)state;
	setup_link(&f, 8, 5000);
	assert_string_equal(ipcc_default_namespace(f.c), "payments");
	assert_int_equal(ipcc_list(f.c, "ops", record_cb, &g, NULL), IPCC_OK);
	read_request(&f);
	assert_int_equal(f.last.hdr.type, PS_T_LIST);
	assert_int_equal(ps_codec_decode_ns_req(&f.last, &nr), PS_OK);
	assert_string_equal(nr.namespace, "ops");
	assert_int_equal(ipcc_pin_list(f.c, "", record_cb, &g2, NULL), IPCC_OK);
	read_request(&f);
	assert_int_equal(f.last.hdr.type, PS_T_PIN_LIST);
	assert_int_equal(ps_codec_decode_ns_req(&f.last, &nr), PS_OK);
	assert_string_equal(nr.namespace, "");
	ps_codec_list_begin(
	    &e, frame, sizeof(frame), PS_T_PIN_LIST, f.last.hdr.id);
	assert_int_equal(ps_codec_list_add_pin(&e, &pin), PS_OK);
	assert_int_equal(ps_codec_list_finish(&e, 0, &len), PS_OK);
	send_raw(&f, frame, len);
	run_until(&f, &g2.calls, 1);
	assert_int_equal(g2.nitems, 1);
	assert_string_equal(g2.first_ns, "ops");
	assert_string_equal(g2.first, "web");
	submit_get(&f, "web", &g);
	read_request(&f);
	assert_int_equal(ps_codec_decode_name_req(&f.last, &name), PS_OK);
	assert_string_equal(name.namespace, "payments");
	assert_string_equal(name.name, "web");
	/* A call needing a namespace without one is refused unsent. */
	assert_int_equal(
	    ipcc_get(f.c, NULL, "web", record_cb, &g, NULL), IPCC_INTERNAL);
	shutdown(f.core, SHUT_RDWR);
	run_until(&f, &g.calls, 1);
	assert_null(ipcc_default_namespace(f.c));
	teardown_link(&f);
}

/* The core goes away: every pending request fails at once, 503-style. */
static void
test_ipcc_fail_all_on_disconnect(void **state)
{
	struct fix f;
	struct got g[3] = {{0}};
	struct ipcc_call call = {.type = PS_T_LIST, .ns = ""};
	int i;

	(void)state;
	setup_link(&f, 8, 5000);
	for (i = 0; i < 3; i++)
		assert_int_equal(
		    ipcc_submit(f.c, &call, record_cb, &g[i], NULL), IPCC_OK);
	shutdown(f.core, SHUT_RDWR);
	run_until(&f, &g[2].calls, 1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].a.status, IPCC_UNAVAILABLE);
		assert_true(g[i].a.retry_after >= 1);
	}
	assert_false(ipcc_ready(f.c));
	assert_int_equal(
	    ipcc_submit(f.c, &call, record_cb, &g[0], NULL), IPCC_UNAVAILABLE);
	teardown_link(&f);
}

/* GOAWAY fails everything and passes the core's Retry-After on. */
static void
test_ipcc_goaway(void **state)
{
	struct fix f;
	struct got g = {0};
	struct ps_error e = {PS_E_UNAVAILABLE, 7, "draining", 0, ""};
	uint8_t frame[PS_MAX_FRAME];
	size_t len;

	(void)state;
	setup_link(&f, 8, 5000);
	submit_get(&f, "a", &g);
	read_request(&f);
	assert_int_equal(ps_codec_encode_error(
	                     frame, sizeof(frame), PS_T_GOAWAY, 0, &e, &len),
	    PS_OK);
	send_raw(&f, frame, len);
	run_until(&f, &g.calls, 1);
	assert_int_equal(g.a.status, IPCC_UNAVAILABLE);
	assert_int_equal(g.a.retry_after, 7);
	assert_false(ipcc_ready(f.c));
	teardown_link(&f);
}

/* An error answer reaches the caller with its code and message. */
static void
test_ipcc_error_answer(void **state)
{
	struct fix f;
	struct got g = {0};
	struct ps_error e = {PS_E_NOT_FOUND, 0, "deployment not found", 0, ""};
	uint8_t frame[PS_MAX_FRAME];
	size_t len;

	(void)state;
	setup_link(&f, 8, 5000);
	submit_get(&f, "nope", &g);
	read_request(&f);
	assert_int_equal(ps_codec_encode_error(frame, sizeof(frame), PS_T_GET,
	                     f.last.hdr.id, &e, &len),
	    PS_OK);
	send_raw(&f, frame, len);
	run_until(&f, &g.calls, 1);
	assert_int_equal(g.a.status, IPCC_ERROR);
	assert_int_equal(g.a.err.code, PS_E_NOT_FOUND);
	assert_string_equal(g.a.err.message, "deployment not found");
	assert_true(ipcc_ready(f.c));
	teardown_link(&f);
}

/*
 * Issue #14: the typed write calls carry their conditions to the wire; a
 * condition's error reaches the caller with its count and reference; a
 * pin answer its state; a condition that does not fit the type is never
 * sent (the codec refuses it: IPCC_INTERNAL).
 */
static void
test_ipcc_write_conditions(void **state)
{
	struct fix f;
	struct got g = {0}, g2 = {0};
	const struct ipcc_write_opts all = {
	    PS_W_DRY_RUN | PS_W_FORCE | PS_W_EXPECTED, 3, "4711"};
	const struct ipcc_write_opts dry = {PS_W_DRY_RUN, 0, NULL};
	const struct ipcc_write_opts suspend = {PS_W_SUSPEND, 0, NULL};
	const struct ipcc_write_opts del_rv = {0, 0, "1"};
	struct ps_error e = {PS_E_EXPECTED, 0, "", 4, ""};
	struct ps_pin pin = {.namespace = "payments",
	    .name = "web",
	    .replicas = 2,
	    .state = PS_PIN_ANNOTATED,
	    .dry_run = 1};
	struct ps_write_req w;
	uint8_t frame[PS_MAX_FRAME];
	size_t len;

	(void)state;
	setup_link(&f, 8, 5000);
	assert_int_equal(ipcc_scale(f.c, "payments", "web", 5, "alice", &all,
	                     record_cb, &g, NULL),
	    IPCC_OK);
	read_request(&f);
	assert_int_equal(f.last.hdr.type, PS_T_SCALE);
	assert_int_equal(ps_codec_decode_write_req(&f.last, &w), PS_OK);
	assert_string_equal(w.namespace, "payments");
	assert_int_equal(w.replicas, 5);
	assert_int_equal(w.flags, PS_W_DRY_RUN | PS_W_FORCE | PS_W_EXPECTED);
	assert_int_equal(w.expected, 3);
	assert_string_equal(w.if_match, "4711");
	assert_int_equal(ps_codec_encode_error(frame, sizeof(frame), PS_T_SCALE,
	                     f.last.hdr.id, &e, &len),
	    PS_OK);
	send_raw(&f, frame, len);
	run_until(&f, &g.calls, 1);
	assert_int_equal(g.a.status, IPCC_ERROR);
	assert_int_equal(g.a.err.code, PS_E_EXPECTED);
	assert_int_equal(g.a.err.current, 4);

	assert_int_equal(ipcc_pin_delete(f.c, "payments", "web", "alice", &dry,
	                     record_cb, &g2, NULL),
	    IPCC_OK);
	read_request(&f);
	assert_int_equal(f.last.hdr.type, PS_T_PIN_DELETE);
	assert_int_equal(ps_codec_decode_write_req(&f.last, &w), PS_OK);
	assert_int_equal(w.flags, PS_W_DRY_RUN);
	assert_int_equal(ps_codec_encode_pin(frame, sizeof(frame),
	                     PS_T_PIN_DELETE, f.last.hdr.id, &pin, &len),
	    PS_OK);
	send_raw(&f, frame, len);
	run_until(&f, &g2.calls, 1);
	assert_int_equal(g2.a.status, IPCC_OK);
	assert_int_equal(g2.a.u.pin.state, PS_PIN_ANNOTATED);
	assert_int_equal(g2.a.u.pin.dry_run, 1);
	assert_string_equal(g2.a.u.pin.namespace, "payments");

	/* Refused before anything is sent. */
	assert_int_equal(ipcc_scale(f.c, "payments", "web", 5, "alice",
	                     &suspend, record_cb, &g, NULL),
	    IPCC_INTERNAL);
	assert_int_equal(ipcc_pin_delete(f.c, "payments", "web", "alice",
	                     &del_rv, record_cb, &g, NULL),
	    IPCC_INTERNAL);
	assert_int_equal(g.calls, 1);
	assert_int_equal(ipcc_outstanding(f.c), 0);
	teardown_link(&f);
}

/* An answer for an id never sent is dropped; the link stays up. */
static void
test_ipcc_stray_id_dropped(void **state)
{
	struct fix f;
	struct got g = {0};

	(void)state;
	setup_link(&f, 8, 5000);
	submit_get(&f, "a", &g);
	read_request(&f);
	answer_get(&f, f.last.hdr.id + 1000, "x", 9);
	answer_get(&f, f.last.hdr.id, "a", 1);
	run_until(&f, &g.calls, 1);
	assert_int_equal(g.a.status, IPCC_OK);
	assert_string_equal(g.a.u.dep.name, "a");
	teardown_link(&f);
}

/* Protocol violations reset the link and fail the pending request. */
static void
test_ipcc_protocol_violations(void **state)
{
	struct fix f;
	struct got g;
	struct ps_health h;
	uint8_t frame[PS_MAX_FRAME];
	size_t len;
	int round;

	(void)state;
	for (round = 0; round < 3; round++) {
		memset(&g, 0, sizeof(g));
		setup_link(&f, 8, 5000);
		submit_get(&f, "a", &g);
		read_request(&f);
		if (round == 0) { /* reserved field set */
			memset(frame, 0, PS_HDR_LEN);
			frame[3] = PS_HDR_LEN;
			frame[5] = PS_T_GET;
			frame[7] = PS_F_REPLY;
			frame[11] = (uint8_t)f.last.hdr.id;
			frame[15] = 1;
			send_raw(&f, frame, PS_HDR_LEN);
		} else if (round == 1) { /* answer of another type */
			memset(&h, 0, sizeof(h));
			h.ns_count = 1;
			strcpy(h.ns[0].namespace, "payments");
			assert_int_equal(
			    ps_codec_encode_health(
			        frame, sizeof(frame), f.last.hdr.id, &h, &len),
			    PS_OK);
			send_raw(&f, frame, len);
		} else { /* a second HELLO answer */
			send_hello_ok(&f, 8);
		}
		run_until(&f, &g.calls, 1);
		assert_int_equal(g.a.status, IPCC_UNAVAILABLE);
		assert_false(ipcc_ready(f.c));
		teardown_link(&f);
	}
}

/* LIST across several frames is reassembled in order. */
static void
test_ipcc_list_multi_frame(void **state)
{
	struct fix f;
	struct got g = {0};
	struct ipcc_call call = {.type = PS_T_LIST, .ns = ""};
	struct ps_list_enc e;
	uint8_t frame[PS_MAX_FRAME];
	char name[32];
	size_t len;
	int i, frames = 0;

	(void)state;
	setup_link(&f, 8, 5000);
	assert_int_equal(ipcc_submit(f.c, &call, record_cb, &g, NULL), IPCC_OK);
	read_request(&f);
	ps_codec_list_begin(&e, frame, sizeof(frame), PS_T_LIST, f.last.hdr.id);
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "d-%05d", i);
		if (ps_codec_list_add_name(&e, i < 2500 ? "a" : "b", name) ==
		    PS_ERR_NOSPACE) {
			assert_int_equal(
			    ps_codec_list_finish(&e, 1, &len), PS_OK);
			send_raw(&f, frame, len);
			frames++;
			ps_codec_list_begin(
			    &e, frame, sizeof(frame), PS_T_LIST, f.last.hdr.id);
			assert_int_equal(ps_codec_list_add_name(
			                     &e, i < 2500 ? "a" : "b", name),
			    PS_OK);
		}
	}
	assert_int_equal(ps_codec_list_finish(&e, 0, &len), PS_OK);
	send_raw(&f, frame, len);
	frames++;
	assert_true(frames >= 3);
	run_until(&f, &g.calls, 1);
	assert_int_equal(g.a.status, IPCC_OK);
	assert_int_equal(g.nitems, 5000);
	assert_string_equal(g.first, "d-00000");
	assert_string_equal(g.last, "d-04999");
	assert_string_equal(g.first_ns, "a");
	assert_string_equal(g.last_ns, "b");
	teardown_link(&f);
}

/* More than PS_MAX_LIST_TOTAL names in one answer is a violation. */
static void
test_ipcc_list_total_bounded(void **state)
{
	struct fix f;
	struct got g = {0};
	struct ipcc_call call = {.type = PS_T_LIST, .ns = ""};
	struct ps_list_enc e;
	uint8_t frame[PS_MAX_FRAME];
	size_t len, sent = 0;

	(void)state;
	setup_link(&f, 8, 5000);
	assert_int_equal(ipcc_submit(f.c, &call, record_cb, &g, NULL), IPCC_OK);
	read_request(&f);
	while (g.calls == 0 && sent <= PS_MAX_LIST_TOTAL + 1) {
		ps_codec_list_begin(
		    &e, frame, sizeof(frame), PS_T_LIST, f.last.hdr.id);
		while (ps_codec_list_add_name(&e, "default", "a") == PS_OK)
			sent++;
		assert_int_equal(ps_codec_list_finish(&e, 1, &len), PS_OK);
		if (send(f.core, frame, len, MSG_NOSIGNAL) != (ssize_t)len)
			break;
		event_base_loop(f.base, EVLOOP_NONBLOCK);
	}
	run_until(&f, &g.calls, 1);
	assert_int_equal(g.a.status, IPCC_UNAVAILABLE);
	assert_false(ipcc_ready(f.c));
	teardown_link(&f);
}

/* METRICS text over several frames; over PS_MAX_METRICS_TOTAL fails. */
static void
test_ipcc_metrics_multi_frame_and_bound(void **state)
{
	struct fix f;
	struct got g = {0}, g2 = {0};
	struct ipcc_call call = {.type = PS_T_METRICS};
	uint8_t frame[PS_MAX_FRAME];
	static char text[PS_MAX_FRAME];
	size_t len, chunk = PS_MAX_FRAME - PS_HDR_LEN, sent = 0;

	(void)state;
	memset(text, 'x', sizeof(text));
	setup_link(&f, 8, 5000);
	assert_int_equal(ipcc_submit(f.c, &call, record_cb, &g, NULL), IPCC_OK);
	read_request(&f);
	assert_int_equal(ps_codec_encode_metrics(frame, sizeof(frame),
	                     f.last.hdr.id, 1, text, chunk, &len),
	    PS_OK);
	send_raw(&f, frame, len);
	assert_int_equal(ps_codec_encode_metrics(frame, sizeof(frame),
	                     f.last.hdr.id, 0, text, 100, &len),
	    PS_OK);
	send_raw(&f, frame, len);
	run_until(&f, &g.calls, 1);
	assert_int_equal(g.a.status, IPCC_OK);
	assert_int_equal(g.text_len, chunk + 100);

	assert_int_equal(
	    ipcc_submit(f.c, &call, record_cb, &g2, NULL), IPCC_OK);
	read_request(&f);
	while (g2.calls == 0 && sent <= PS_MAX_METRICS_TOTAL) {
		assert_int_equal(ps_codec_encode_metrics(frame, sizeof(frame),
		                     f.last.hdr.id, 1, text, chunk, &len),
		    PS_OK);
		if (send(f.core, frame, len, MSG_NOSIGNAL) != (ssize_t)len)
			break;
		sent += chunk;
		event_base_loop(f.base, EVLOOP_NONBLOCK);
	}
	run_until(&f, &g2.calls, 1);
	assert_int_equal(g2.a.status, IPCC_UNAVAILABLE);
	teardown_link(&f);
}

/* A core that refuses our version: the link does not come up. */
static void
test_ipcc_hello_refused(void **state)
{
	struct ipcc_config cfg;
	struct event_base *base = event_base_new();
	struct ps_error e = {PS_E_VERSION, 0, "speaks 2", 0, ""};
	struct ps_reader *rd = ps_reader_new(PS_DIR_REQUEST);
	struct ps_frame fr;
	struct ipcc *c;
	uint8_t frame[PS_MAX_FRAME], buf[64];
	size_t len, used;
	ssize_t n;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&cfg, 0, sizeof(cfg));
	assert_non_null(c = ipcc_new(base, &cfg));
	assert_int_equal(ipcc_adopt_fd(c, sv[0]), 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	n = read(sv[1], buf, sizeof(buf));
	assert_int_equal(n, PS_HDR_LEN + 8);
	assert_int_equal(ps_reader_read(rd, buf, (size_t)n, &used, &fr), PS_OK);
	assert_int_equal(ps_codec_encode_error(
	                     frame, sizeof(frame), PS_T_HELLO, 0, &e, &len),
	    PS_OK);
	assert_int_equal(write(sv[1], frame, len), (ssize_t)len);
	{
		long end = now_ms() + DEADLINE_MS;
		char b;

		/* The gateway closes its end: wait for EOF here. */
		while (now_ms() < end) {
			event_base_loop(base, EVLOOP_NONBLOCK);
			if (recv(sv[1], &b, 1, MSG_DONTWAIT) == 0)
				break;
			poll(NULL, 0, 1);
		}
	}
	assert_false(ipcc_ready(c));
	ipcc_free(c);
	ps_reader_free(rd);
	close(sv[1]);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipcc_ids_and_out_of_order),
	    cmocka_unit_test(test_ipcc_namespaces),
	    cmocka_unit_test(test_ipcc_queue_over_max_inflight),
	    cmocka_unit_test(test_ipcc_queued_request_times_out),
	    cmocka_unit_test(test_ipcc_late_answer_after_cancel_dropped),
	    cmocka_unit_test(test_ipcc_timeout_then_late_answer),
	    cmocka_unit_test(test_ipcc_unanswered_resets_link),
	    cmocka_unit_test(test_ipcc_fail_all_on_disconnect),
	    cmocka_unit_test(test_ipcc_goaway),
	    cmocka_unit_test(test_ipcc_error_answer),
	    cmocka_unit_test(test_ipcc_write_conditions),
	    cmocka_unit_test(test_ipcc_stray_id_dropped),
	    cmocka_unit_test(test_ipcc_protocol_violations),
	    cmocka_unit_test(test_ipcc_list_multi_frame),
	    cmocka_unit_test(test_ipcc_list_total_bounded),
	    cmocka_unit_test(test_ipcc_metrics_multi_frame_and_bound),
	    cmocka_unit_test(test_ipcc_hello_refused),
	};

	signal(SIGPIPE, SIG_IGN); /* as replicad-gateway's main() does */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
