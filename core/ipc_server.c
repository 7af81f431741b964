/*
 * ipc_server.c — the core's proto-socket server (prefix ipcs_).
 *
 * One listening Unix socket; per connection a bufferevent, a ps_reader fed
 * from its input evbuffer, a state (HELLO -> READY -> DRAINING -> CLOSING)
 * and a list of requests in flight.  What a peer may send in which state is
 * the `dispatch` table below; what each request does is a handler that
 * other modules register.  Every byte from the peer is untrusted: the
 * reader validates headers before bodies, the codec validates every field,
 * and any violation closes that connection after a GOAWAY — the core never
 * exits on input.
 *
 * Not here: what requests mean (handlers), the Kubernetes API, signal
 * handling (main.c calls ipcs_shutdown).  The process must ignore SIGPIPE.
 */
#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"
#include "core/core_limits.h"
#include "core/ipc_server.h"
#include "core/log.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

enum conn_state {
	ST_HELLO,    /* connected, waiting for HELLO */
	ST_READY,    /* HELLO done: requests allowed */
	ST_DRAINING, /* shutting down: in-flight answers only */
	ST_CLOSING   /* final frame queued; freed once flushed */
};
#define ST(s) (1u << (s))

enum body_kind {
	BODY_NONE,  /* not a request */
	BODY_HELLO, /* answered by the server itself */
	BODY_EMPTY, /* LIST, HEALTH, PIN_LIST, METRICS */
	BODY_NAME,  /* GET, PIN_GET */
	BODY_WRITE  /* SCALE, PIN_PUT, PIN_DELETE */
};

/*
 * Permission is state; one row per request type (STYLE §1, OpenSSH's
 * mon_table).  Header limits (length per type, flags, id) are checked by
 * the reader from ps.h's table before the body arrives; this row says in
 * which states the type may arrive and how its body decodes.  A type in
 * DRAINING is answered UNAVAILABLE, not handled.
 */
static const struct dispatch_row {
	unsigned states;
	enum body_kind body;
} dispatch[PS_T_MAX + 1] = {
    [PS_T_HELLO] = {ST(ST_HELLO), BODY_HELLO},
    [PS_T_LIST] = {ST(ST_READY) | ST(ST_DRAINING), BODY_EMPTY},
    [PS_T_GET] = {ST(ST_READY) | ST(ST_DRAINING), BODY_NAME},
    [PS_T_SCALE] = {ST(ST_READY) | ST(ST_DRAINING), BODY_WRITE},
    [PS_T_HEALTH] = {ST(ST_READY) | ST(ST_DRAINING), BODY_EMPTY},
    [PS_T_PIN_LIST] = {ST(ST_READY) | ST(ST_DRAINING), BODY_EMPTY},
    [PS_T_PIN_GET] = {ST(ST_READY) | ST(ST_DRAINING), BODY_NAME},
    [PS_T_PIN_PUT] = {ST(ST_READY) | ST(ST_DRAINING), BODY_WRITE},
    [PS_T_PIN_DELETE] = {ST(ST_READY) | ST(ST_DRAINING), BODY_WRITE},
    [PS_T_METRICS] = {ST(ST_READY) | ST(ST_DRAINING), BODY_EMPTY},
    [PS_T_GOAWAY] = {0, BODY_NONE}, /* never from a requester */
};

enum stream_kind { STREAM_NONE, STREAM_NAMES, STREAM_PINS, STREAM_TEXT };

struct stream {
	enum stream_kind kind;
	ipcs_next_name_cb next_name;
	ipcs_next_pin_cb next_pin;
	ipcs_next_text_cb next_text;
	void (*done)(void *);
	void *arg;
	int have_item;      /* item pulled but not yet in a frame */
	struct ps_pin item; /* names use item.name only */
	size_t total;       /* items or bytes produced so far */
};

union req_body {
	struct ps_name_req name;
	struct ps_write_req write;
};

struct conn;

struct ipcs_req {
	TAILQ_ENTRY(ipcs_req) entry;
	struct conn *conn; /* NULL once detached (client gone) */
	uint16_t type;
	uint32_t id;
	uid_t uid;
	pid_t pid;
	enum body_kind body_kind;
	union req_body body;
	void (*cancel)(struct ipcs_req *, void *);
	void *cancel_arg;
	struct stream st; /* kind != STREAM_NONE: the server owns req */
};

TAILQ_HEAD(req_list, ipcs_req);
TAILQ_HEAD(conn_list, conn);

struct conn {
	TAILQ_ENTRY(conn) entry;
	struct ipcs *srv;
	struct bufferevent *bev;
	struct ps_reader *rd;
	struct event *timer; /* handshake, idle or linger, by state */
	enum conn_state state;
	uint64_t serial;
	uid_t uid;
	pid_t pid;
	unsigned ninflight;
	struct req_list inflight;
	int read_paused; /* output over max_output */
};

struct ipcs {
	struct event_base *base;
	struct ipcs_config cfg;
	uid_t uids[CORE_MAX_ALLOW_UIDS];
	uid_t own_uid; /* the core's euid: its share is kept (own_uid_slots) */
	char *path;    /* NULL: no listener, or already removed */
	dev_t sock_dev;
	ino_t sock_ino;
	struct evconnlistener *lev;
	struct event *pause_ev; /* accepting paused (short of fds) */
	struct event *drain_ev; /* drain deadline */
	struct event *done_ev;  /* runs `done` from the loop */
	rlim_t fd_limit;
	struct conn_list conns;
	uint64_t next_serial;
	struct {
		ipcs_handler_cb cb;
		void *arg;
	} handlers[PS_T_MAX + 1];
	struct ipcs_stats stats;
	int shutting_down;
	int freeing;
	int done_called;
	void (*done)(void *);
	void *done_arg;
	uint8_t frame[PS_MAX_FRAME]; /* encode buffer; copied out at once */
	char text[PS_MAX_FRAME];     /* one METRICS frame's text */
};

#define CONN_KV(c)                                               \
	LOG_U("conn", (c)->serial), LOG_U("peer_uid", (c)->uid), \
	    LOG_I("peer_pid", (c)->pid)

static void conn_free(struct conn *);
static void conn_closing(struct conn *);
static void conn_goaway(struct conn *, uint16_t, uint32_t, const char *);
static void conn_pump(struct conn *);
static void conn_process_input(struct conn *);
static void srv_check_done(struct ipcs *);
static void drain_deadline_cb(evutil_socket_t, short, void *);

void
ipcs_config_init(struct ipcs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_clients = CORE_MAX_CLIENTS;
	cfg->own_uid_slots = CORE_OWN_UID_SLOTS;
	cfg->max_inflight = CORE_MAX_INFLIGHT;
	cfg->max_output = CORE_MAX_OUTPUT;
	cfg->output_low = CORE_OUTPUT_LOW;
	cfg->handshake_timeout_ms = CORE_HANDSHAKE_TIMEOUT_MS;
	cfg->idle_timeout_ms = CORE_IDLE_TIMEOUT_MS;
	cfg->write_timeout_ms = CORE_WRITE_TIMEOUT_MS;
	cfg->drain_timeout_ms = CORE_DRAIN_TIMEOUT_MS;
}

static struct timeval
ms_tv(unsigned ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

static size_t
conn_outlen(const struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* Messages on the wire are printable ASCII, at most PS_MAX_MESSAGE. */
static void
wire_message(char out[PS_MAX_MESSAGE + 1], const char *fmt, va_list ap)
{
	int n = vsnprintf(out, PS_MAX_MESSAGE + 1, fmt, ap);

	if (n < 0)
		out[0] = '\0';
	for (char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
}

/*
 * Queues a frame for the client.  0 queued, 1 dropped (connection already
 * closing), -1 out of memory (the connection is then closed).
 */
static int
conn_send(struct conn *c, const uint8_t *frame, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (c->state == ST_CLOSING)
		return 1;
	if (evbuffer_add(out, frame, len) != 0) {
		log_kv(LOG_LEVEL_WARN, ENOMEM, (struct log_kv[]){CONN_KV(c)}, 3,
		    "cannot queue an answer; closing");
		conn_closing(c);
		return -1;
	}
	/* Backpressure: stop reading requests while answers pile up. */
	if (!c->read_paused &&
	    evbuffer_get_length(out) > c->srv->cfg.max_output) {
		c->read_paused = 1;
		bufferevent_disable(c->bev, EV_READ);
		log_kv(LOG_LEVEL_DEBUG, 0, (struct log_kv[]){CONN_KV(c)}, 3,
		    "output over %zu bytes; reading paused",
		    c->srv->cfg.max_output);
	}
	return 0;
}

/* An error answer (or GOAWAY when type is PS_T_GOAWAY). */
static int
conn_send_errorv(struct conn *c, uint16_t type, uint32_t id, uint16_t code,
    uint32_t retry_after, const char *fmt, va_list ap)
{
	struct ps_error e;
	size_t len;
	int rc;

	memset(&e, 0, sizeof(e));
	e.code = code;
	e.retry_after = retry_after;
	wire_message(e.message, fmt, ap);
	rc = ps_codec_encode_error(
	    c->srv->frame, sizeof(c->srv->frame), type, id, &e, &len);
	if (rc != PS_OK)
		fatalx(
		    "ipcs: error answer did not encode: %s", ps_strerror(rc));
	if (code <= PS_E_MAX)
		c->srv->stats.errors[code]++;
	if (code == PS_E_BUSY)
		c->srv->stats.busy++;
	return conn_send(c, c->srv->frame, len);
}

static int conn_send_error(struct conn *, uint16_t, uint32_t, uint16_t,
    uint32_t, const char *, ...) __attribute__((format(printf, 6, 7)));

static int
conn_send_error(struct conn *c, uint16_t type, uint32_t id, uint16_t code,
    uint32_t retry_after, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = conn_send_errorv(c, type, id, code, retry_after, fmt, ap);
	va_end(ap);
	return rc;
}

static void
conn_arm(struct conn *c, unsigned ms)
{
	struct timeval tv = ms_tv(ms);

	evtimer_add(c->timer, &tv);
}

/* Idle timer restarts on every request and answer while READY. */
static void
conn_arm_idle(struct conn *c)
{
	if (c->state == ST_READY)
		conn_arm(c, c->srv->cfg.idle_timeout_ms);
}

/*
 * Detaches every request in flight: streams end (the server owns them),
 * handler-owned requests learn of it through their cancel callback.
 */
static void
conn_detach_reqs(struct conn *c)
{
	struct ipcs_req *r;

	while ((r = TAILQ_FIRST(&c->inflight)) != NULL) {
		TAILQ_REMOVE(&c->inflight, r, entry);
		c->ninflight--;
		r->conn = NULL;
		c->srv->stats.dropped_answers++;
		if (r->st.kind != STREAM_NONE) {
			r->st.done(r->st.arg);
			free(r);
		} else if (r->cancel != NULL) {
			/* May release r at once (ipcs_req_drop). */
			r->cancel(r, r->cancel_arg);
		}
	}
}

/* Stops reading and frees the connection once its output is flushed. */
static void
conn_closing(struct conn *c)
{
	if (c->state == ST_CLOSING)
		return;
	c->state = ST_CLOSING;
	bufferevent_disable(c->bev, EV_READ);
	conn_detach_reqs(c);
	/* The write callback frees at empty output; the timer bounds it. */
	conn_arm(c, conn_outlen(c) == 0 ? 0 : CORE_CLOSE_LINGER_MS);
}

static void
conn_goaway(
    struct conn *c, uint16_t code, uint32_t retry_after, const char *msg)
{
	if (c->state == ST_CLOSING)
		return;
	(void)conn_send_error(c, PS_T_GOAWAY, 0, code, retry_after, "%s", msg);
	conn_closing(c);
}

/* A protocol violation: log, GOAWAY(PROTOCOL), close this connection. */
static void
conn_protocol_error(struct conn *c, int err, const struct ps_frame *f)
{
	char msg[PS_MAX_MESSAGE + 1];
	uint16_t type = f != NULL ? f->hdr.type : 0;
	uint32_t id = f != NULL ? f->hdr.id : 0;
	struct log_kv kv[] = {CONN_KV(c),
	    LOG_S("type", f != NULL ? ps_type_name(type) : "-"),
	    LOG_U("id", id)};

	c->srv->stats.protocol_errors++;
	log_kv(LOG_LEVEL_WARN, 0, kv, NITEMS(kv), "protocol error: %s",
	    ps_strerror(err));
	if (f != NULL)
		snprintf(msg, sizeof(msg), "%s id %u: %s", ps_type_name(type),
		    (unsigned)id, ps_strerror(err));
	else
		snprintf(msg, sizeof(msg), "%s", ps_strerror(err));
	conn_goaway(c, PS_E_PROTOCOL, 0, msg);
}

static void
srv_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipcs *srv = arg;

	(void)fd;
	(void)what;
	if (srv->done_called || srv->done == NULL)
		return;
	srv->done_called = 1;
	srv->done(srv->done_arg);
}

static void
srv_check_done(struct ipcs *srv)
{
	if (srv->shutting_down && !srv->freeing && TAILQ_EMPTY(&srv->conns))
		event_active(srv->done_ev, EV_TIMEOUT, 0);
}

static void
conn_free(struct conn *c)
{
	struct ipcs *srv = c->srv;

	/* Cancel callbacks may answer other requests: those are dropped. */
	c->state = ST_CLOSING;
	conn_detach_reqs(c);
	TAILQ_REMOVE(&srv->conns, c, entry);
	srv->stats.clients--;
	if (c->uid != srv->own_uid)
		srv->stats.clients_other--;
	bufferevent_free(c->bev); /* closes the descriptor */
	ps_reader_free(c->rd);
	event_free(c->timer);
	free(c);
	srv_check_done(srv);
}

/* ------------------------------------------------------------------ */
/* Requests and answers                                                */

static struct ipcs_req *
conn_find_req(const struct conn *c, uint32_t id)
{
	struct ipcs_req *r;

	TAILQ_FOREACH(r, &c->inflight, entry)
	if (r->id == id)
		return r;
	return NULL;
}

/* Takes `r` off its connection's in-flight list; the slot is free. */
static void
req_unlink(struct ipcs_req *r)
{
	struct conn *c = r->conn;

	TAILQ_REMOVE(&c->inflight, r, entry);
	c->ninflight--;
	r->conn = NULL;
	conn_arm_idle(c);
	if (c->state == ST_DRAINING && c->ninflight == 0)
		conn_goaway(
		    c, PS_E_UNAVAILABLE, CORE_RETRY_DRAINING, "shutting down");
}

/* Sends the final frame of `r`'s answer, then releases `r`. */
static int
req_finish(struct ipcs_req *r, const uint8_t *frame, size_t len)
{
	struct conn *c = r->conn;
	int rc = 1;

	if (c != NULL) {
		rc = conn_send(c, frame, len);
		if (r->conn != NULL) /* conn_send may have detached it */
			req_unlink(r);
	}
	free(r);
	return rc;
}

/* The handler's answer did not encode: a bug on our side. */
static int
req_encode_failed(struct ipcs_req *r, int err)
{
	struct conn *c = r->conn;
	struct log_kv kv[] = {
	    LOG_S("type", ps_type_name(r->type)), LOG_U("id", r->id)};

	log_kv(LOG_LEVEL_WARN, 0, kv, NITEMS(kv), "answer did not encode: %s",
	    ps_strerror(err));
	if (c != NULL) {
		(void)conn_send_error(c, r->type, r->id, PS_E_INTERNAL, 0,
		    "internal error: answer did not encode");
		if (r->conn != NULL)
			req_unlink(r);
	}
	free(r);
	return -1;
}

uint16_t
ipcs_req_type(const struct ipcs_req *req)
{
	return req->type;
}

uint32_t
ipcs_req_id(const struct ipcs_req *req)
{
	return req->id;
}

int
ipcs_req_alive(const struct ipcs_req *req)
{
	return req->conn != NULL;
}

uid_t
ipcs_req_uid(const struct ipcs_req *req)
{
	return req->uid;
}

pid_t
ipcs_req_pid(const struct ipcs_req *req)
{
	return req->pid;
}

const struct ps_name_req *
ipcs_req_name(const struct ipcs_req *req)
{
	return req->body_kind == BODY_NAME ? &req->body.name : NULL;
}

const struct ps_write_req *
ipcs_req_write(const struct ipcs_req *req)
{
	return req->body_kind == BODY_WRITE ? &req->body.write : NULL;
}

void
ipcs_req_set_cancel(
    struct ipcs_req *req, void (*cancel)(struct ipcs_req *, void *), void *arg)
{
	req->cancel = cancel;
	req->cancel_arg = arg;
}

void
ipcs_req_drop(struct ipcs_req *req)
{
	if (req == NULL)
		return;
	if (req->conn != NULL)
		req_unlink(req);
	free(req);
}

int
ipcs_answer_error(struct ipcs_req *req, uint16_t code, uint32_t retry_after,
    const char *fmt, ...)
{
	struct conn *c = req->conn;
	va_list ap;
	int rc;

	if (c == NULL) {
		free(req);
		return 1;
	}
	if (code == 0 || code > PS_E_MAX || retry_after > PS_MAX_RETRY_AFTER)
		return req_encode_failed(req, PS_ERR_RANGE);
	va_start(ap, fmt);
	rc =
	    conn_send_errorv(c, req->type, req->id, code, retry_after, fmt, ap);
	va_end(ap);
	if (req->conn != NULL)
		req_unlink(req);
	free(req);
	return rc;
}

int
ipcs_answer_health(struct ipcs_req *req, const struct ps_health *m)
{
	size_t len;
	int rc;

	if (req->conn == NULL)
		return req_finish(req, NULL, 0);
	if (req->type != PS_T_HEALTH)
		return req_encode_failed(req, PS_ERR_TYPE);
	rc = ps_codec_encode_health(
	    req->conn->srv->frame, PS_MAX_FRAME, req->id, m, &len);
	if (rc != PS_OK)
		return req_encode_failed(req, rc);
	return req_finish(req, req->conn->srv->frame, len);
}

int
ipcs_answer_deployment(struct ipcs_req *req, const struct ps_deployment *m)
{
	size_t len;
	int rc;

	if (req->conn == NULL)
		return req_finish(req, NULL, 0);
	if (req->type != PS_T_GET)
		return req_encode_failed(req, PS_ERR_TYPE);
	rc = ps_codec_encode_deployment(
	    req->conn->srv->frame, PS_MAX_FRAME, req->id, m, &len);
	if (rc != PS_OK)
		return req_encode_failed(req, rc);
	return req_finish(req, req->conn->srv->frame, len);
}

int
ipcs_answer_scale(struct ipcs_req *req, const struct ps_scale_ok *m)
{
	size_t len;
	int rc;

	if (req->conn == NULL)
		return req_finish(req, NULL, 0);
	if (req->type != PS_T_SCALE)
		return req_encode_failed(req, PS_ERR_TYPE);
	rc = ps_codec_encode_scale_ok(
	    req->conn->srv->frame, PS_MAX_FRAME, req->id, m, &len);
	if (rc != PS_OK)
		return req_encode_failed(req, rc);
	return req_finish(req, req->conn->srv->frame, len);
}

int
ipcs_answer_pin(struct ipcs_req *req, const struct ps_pin *m)
{
	size_t len;
	int rc;

	if (req->conn == NULL)
		return req_finish(req, NULL, 0);
	/* The codec accepts PIN_GET / PIN_PUT / PIN_DELETE only. */
	rc = ps_codec_encode_pin(
	    req->conn->srv->frame, PS_MAX_FRAME, req->type, req->id, m, &len);
	if (rc != PS_OK)
		return req_encode_failed(req, rc);
	return req_finish(req, req->conn->srv->frame, len);
}

/* ------------------------------------------------------------------ */
/* Multi-frame answers                                                 */

/* Ends a stream early with INTERNAL, releasing it. */
static void
stream_fail(struct ipcs_req *r, const char *why)
{
	struct conn *c = r->conn;
	void (*done)(void *) = r->st.done;
	void *arg = r->st.arg;
	struct log_kv kv[] = {CONN_KV(c), LOG_S("type", ps_type_name(r->type)),
	    LOG_U("id", r->id)};

	log_kv(
	    LOG_LEVEL_WARN, 0, kv, NITEMS(kv), "answer stream failed: %s", why);
	/* No longer a stream: a failed send detaches r but leaves it to us. */
	r->st.kind = STREAM_NONE;
	done(arg);
	(void)conn_send_error(
	    c, r->type, r->id, PS_E_INTERNAL, 0, "internal error: %s", why);
	if (r->conn != NULL)
		req_unlink(r);
	free(r);
}

/* Sends one frame of a stream; on the last, releases `r`. */
static void
stream_frame(struct ipcs_req *r)
{
	struct conn *c = r->conn;
	struct ipcs *srv = c->srv;
	struct stream *st = &r->st;
	struct ps_list_enc e;
	size_t len, n = 0;
	int rc, end = 0;

	if (st->kind == STREAM_TEXT) {
		const size_t room = PS_MAX_FRAME - PS_HDR_LEN;

		while (n < room) {
			rc = st->next_text(st->arg, srv->text + n, room - n);
			if (rc < 0 || (size_t)rc > room - n) {
				stream_fail(r, "metrics text unavailable");
				return;
			}
			if (rc == 0) {
				end = 1;
				break;
			}
			n += (size_t)rc;
		}
		st->total += n;
		if (st->total > PS_MAX_METRICS_TOTAL) {
			stream_fail(r, "metrics text too large");
			return;
		}
		rc = ps_codec_encode_metrics(
		    srv->frame, PS_MAX_FRAME, r->id, !end, srv->text, n, &len);
		if (rc != PS_OK) {
			stream_fail(r, "metrics text did not encode");
			return;
		}
		goto send;
	}

	ps_codec_list_begin(&e, srv->frame, PS_MAX_FRAME, r->type, r->id);
	for (;;) {
		if (!st->have_item) {
			memset(&st->item, 0, sizeof(st->item));
			rc = st->kind == STREAM_NAMES
			    ? st->next_name(st->arg, st->item.name)
			    : st->next_pin(st->arg, &st->item);
			if (rc < 0) {
				stream_fail(r, "list unavailable");
				return;
			}
			if (rc == 0) {
				end = 1;
				break;
			}
			if (++st->total > PS_MAX_LIST_TOTAL) {
				stream_fail(r, "list too long");
				return;
			}
			st->have_item = 1;
		}
		rc = st->kind == STREAM_NAMES
		    ? ps_codec_list_add_name(&e, st->item.name)
		    : ps_codec_list_add_pin(&e, &st->item);
		if (rc == PS_ERR_NOSPACE && e.count > 0)
			break; /* the item waits for the next frame */
		if (rc != PS_OK) {
			stream_fail(r, "list item did not encode");
			return;
		}
		st->have_item = 0;
	}
	if ((rc = ps_codec_list_finish(&e, !end, &len)) != PS_OK) {
		stream_fail(r, "list frame did not encode");
		return;
	}
send:
	if (!end) {
		(void)conn_send(c, srv->frame, len);
		return;
	}
	st->done(st->arg);
	st->kind = STREAM_NONE;
	(void)req_finish(r, srv->frame, len);
}

/* Produces stream frames while the client's output has room. */
static void
conn_pump(struct conn *c)
{
	struct ipcs_req *r, *next;
	int progress = 1;

	while (progress && c->state != ST_CLOSING &&
	    conn_outlen(c) < c->srv->cfg.output_low) {
		progress = 0;
		for (r = TAILQ_FIRST(&c->inflight); r != NULL; r = next) {
			next = TAILQ_NEXT(r, entry);
			if (r->st.kind == STREAM_NONE)
				continue;
			stream_frame(r); /* may release r */
			progress = 1;
			/* Closing detaches (and frees) the other streams. */
			if (c->state == ST_CLOSING ||
			    conn_outlen(c) >= c->srv->cfg.output_low)
				break;
		}
	}
}

static int
stream_start(struct ipcs_req *req, uint16_t type, struct stream *st)
{
	struct conn *c = req->conn;

	if (c == NULL) {
		st->done(st->arg);
		free(req);
		return 1;
	}
	if (req->type != type) {
		st->done(st->arg);
		return req_encode_failed(req, PS_ERR_TYPE);
	}
	req->st = *st;
	conn_pump(c);
	return 0;
}

int
ipcs_answer_names(struct ipcs_req *req, ipcs_next_name_cb next,
    void (*done)(void *), void *arg)
{
	struct stream st = {
	    .kind = STREAM_NAMES, .next_name = next, .done = done, .arg = arg};

	return stream_start(req, PS_T_LIST, &st);
}

int
ipcs_answer_pins(struct ipcs_req *req, ipcs_next_pin_cb next,
    void (*done)(void *), void *arg)
{
	struct stream st = {
	    .kind = STREAM_PINS, .next_pin = next, .done = done, .arg = arg};

	return stream_start(req, PS_T_PIN_LIST, &st);
}

int
ipcs_answer_text(struct ipcs_req *req, ipcs_next_text_cb next,
    void (*done)(void *), void *arg)
{
	struct stream st = {
	    .kind = STREAM_TEXT, .next_text = next, .done = done, .arg = arg};

	return stream_start(req, PS_T_METRICS, &st);
}

/* ------------------------------------------------------------------ */
/* Incoming frames                                                     */

static void
conn_hello(struct conn *c, const struct ps_frame *f)
{
	struct ipcs *srv = c->srv;
	struct ps_hello h;
	struct ps_hello_ok ok;
	uint16_t version;
	size_t len;
	int rc;

	/* Untrusted: magic and min <= max are checked by the decoder. */
	if ((rc = ps_codec_decode_hello(f, &h)) != PS_OK) {
		conn_protocol_error(c, rc, f);
		return;
	}
	if (ps_codec_pick_version(&h, &version) != PS_OK) {
		struct log_kv kv[] = {CONN_KV(c),
		    LOG_U("min_version", h.min_version),
		    LOG_U("max_version", h.max_version)};

		log_kv(LOG_LEVEL_WARN, 0, kv, NITEMS(kv),
		    "no common protocol version");
		(void)conn_send_error(c, PS_T_HELLO, 0, PS_E_VERSION, 0,
		    "unsupported protocol version %u..%u; this core speaks "
		    "version %d",
		    (unsigned)h.min_version, (unsigned)h.max_version,
		    PS_VERSION);
		conn_closing(c);
		return;
	}
	ok.version = version;
	ok.max_inflight = (uint16_t)srv->cfg.max_inflight;
	ok.max_frame = CORE_MAX_ANSWER_FRAME;
	if ((rc = ps_codec_encode_hello_ok(
	         srv->frame, sizeof(srv->frame), &ok, &len)) != PS_OK)
		fatalx(
		    "ipcs: HELLO answer did not encode: %s", ps_strerror(rc));
	if (conn_send(c, srv->frame, len) != 0)
		return;
	c->state = ST_READY;
	conn_arm_idle(c);
	log_kv(LOG_LEVEL_DEBUG, 0, (struct log_kv[]){CONN_KV(c)}, 3,
	    "handshake complete, version %u", (unsigned)version);
}

static int
decode_body(enum body_kind kind, const struct ps_frame *f, union req_body *b)
{
	switch (kind) {
	case BODY_EMPTY:
		return ps_codec_decode_empty(f);
	case BODY_NAME:
		return ps_codec_decode_name_req(f, &b->name);
	case BODY_WRITE:
		return ps_codec_decode_write_req(f, &b->write);
	case BODY_NONE:
	case BODY_HELLO:
		break;
	}
	return PS_ERR_TYPE;
}

static void
conn_handle_frame(struct conn *c, const struct ps_frame *f)
{
	struct ipcs *srv = c->srv;
	uint16_t type = f->hdr.type;
	uint32_t id = f->hdr.id;
	const struct dispatch_row *row;
	union req_body body;
	struct ipcs_req *req;
	int rc;

	/* The reader checked the header: a known type from a requester,
	 * its length limit, flags 0, reserved 0, an id that fits. */
	if (type == 0 || type > PS_T_MAX) {
		conn_protocol_error(c, PS_ERR_TYPE, f);
		return;
	}
	srv->stats.frames[type]++;
	row = &dispatch[type];
	if ((row->states & ST(c->state)) == 0) {
		conn_protocol_error(c, PS_ERR_STATE, f);
		return;
	}
	if (row->body == BODY_HELLO) {
		conn_hello(c, f);
		return;
	}
	if (conn_find_req(c, id) != NULL) {
		conn_protocol_error(c, PS_ERR_ID, f); /* id reused in flight */
		return;
	}
	/* Untrusted (gateway): every field re-validated here. */
	memset(&body, 0, sizeof(body));
	if ((rc = decode_body(row->body, f, &body)) != PS_OK) {
		conn_protocol_error(c, rc, f);
		return;
	}
	conn_arm_idle(c);
	if (c->state == ST_DRAINING) {
		(void)conn_send_error(c, type, id, PS_E_UNAVAILABLE,
		    CORE_RETRY_DRAINING, "shutting down");
		return;
	}
	if (c->ninflight >= srv->cfg.max_inflight) {
		(void)conn_send_error(c, type, id, PS_E_BUSY, CORE_RETRY_BUSY,
		    "more than %u requests in flight", srv->cfg.max_inflight);
		return;
	}
	if (srv->handlers[type].cb == NULL) {
		(void)conn_send_error(c, type, id, PS_E_UNSUPPORTED, 0,
		    "%s is not offered by this core", ps_type_name(type));
		return;
	}
	if ((req = calloc(1, sizeof(*req))) == NULL) {
		log_kv(LOG_LEVEL_WARN, errno, (struct log_kv[]){CONN_KV(c)}, 3,
		    "request handle");
		(void)conn_send_error(
		    c, type, id, PS_E_INTERNAL, 1, "out of memory");
		return;
	}
	req->conn = c;
	req->type = type;
	req->id = id;
	req->uid = c->uid;
	req->pid = c->pid;
	req->body_kind = row->body;
	req->body = body;
	TAILQ_INSERT_TAIL(&c->inflight, req, entry);
	c->ninflight++;
	{
		struct log_kv kv[] = {CONN_KV(c),
		    LOG_S("type", ps_type_name(type)), LOG_U("id", id)};

		log_kv(LOG_LEVEL_DEBUG, 0, kv, NITEMS(kv), "request");
	}
	/* The handler owns req now; it may be released before this returns. */
	srv->handlers[type].cb(req, srv->handlers[type].arg);
}

static void
conn_process_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec vec[8];
	struct ps_frame f;
	size_t used, consumed;
	int n, rc, got;

	while ((c->state == ST_HELLO || c->state == ST_READY ||
	           c->state == ST_DRAINING) &&
	    !c->read_paused && evbuffer_get_length(in) > 0) {
		n = evbuffer_peek(in, -1, NULL, vec, (int)NITEMS(vec));
		if (n <= 0)
			break;
		if (n > (int)NITEMS(vec))
			n = (int)NITEMS(vec);
		consumed = 0;
		got = 0;
		for (int i = 0; i < n && !got; i++) {
			const uint8_t *p = vec[i].iov_base;

			rc =
			    ps_reader_read(c->rd, p, vec[i].iov_len, &used, &f);
			consumed += used;
			if (rc == PS_OK) {
				got = 1;
			} else if (rc != PS_AGAIN) {
				evbuffer_drain(in, consumed);
				conn_protocol_error(c, rc, NULL);
				return;
			}
		}
		/* The reader copied what it used: drain before handling. */
		evbuffer_drain(in, consumed);
		if (!got)
			continue;
		conn_handle_frame(c, &f);
	}
}

/* ------------------------------------------------------------------ */
/* bufferevent and timer callbacks: thin, dispatch on state            */

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	conn_process_input(c);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->state == ST_CLOSING) {
		if (conn_outlen(c) == 0)
			conn_free(c);
		return;
	}
	/* Output is at or below the low watermark here. */
	conn_pump(c);
	if (c->read_paused && c->state != ST_CLOSING &&
	    conn_outlen(c) <= c->srv->cfg.max_output) {
		c->read_paused = 0;
		bufferevent_enable(c->bev, EV_READ);
		log_kv(LOG_LEVEL_DEBUG, 0, (struct log_kv[]){CONN_KV(c)}, 3,
		    "output drained; reading resumed");
		conn_process_input(c); /* what arrived while paused */
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	int err = EVUTIL_SOCKET_ERROR();
	struct log_kv kv[] = {CONN_KV(c), LOG_U("inflight", c->ninflight)};

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		c->srv->stats.timeouts++;
		log_kv(LOG_LEVEL_WARN, 0, kv, NITEMS(kv),
		    "client does not read its answers; closing");
	} else if (what & BEV_EVENT_ERROR) {
		log_kv(
		    LOG_LEVEL_INFO, err, kv, NITEMS(kv), "client connection");
	} else if (what & BEV_EVENT_EOF) {
		log_kv(
		    LOG_LEVEL_INFO, 0, kv, NITEMS(kv), "client disconnected");
	} else {
		return;
	}
	conn_free(c);
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct log_kv kv[] = {CONN_KV(c)};

	(void)fd;
	(void)what;
	switch (c->state) {
	case ST_HELLO:
		c->srv->stats.timeouts++;
		log_kv(LOG_LEVEL_WARN, 0, kv, NITEMS(kv),
		    "no HELLO within %u ms", c->srv->cfg.handshake_timeout_ms);
		conn_goaway(c, PS_E_PROTOCOL, 0, "no HELLO in time");
		break;
	case ST_READY:
		if (c->ninflight > 0) {
			conn_arm_idle(c);
			break;
		}
		c->srv->stats.timeouts++;
		log_kv(LOG_LEVEL_INFO, 0, kv, NITEMS(kv), "idle for %u ms",
		    c->srv->cfg.idle_timeout_ms);
		conn_goaway(c, PS_E_UNAVAILABLE, 0, "idle timeout");
		break;
	case ST_DRAINING:
		break; /* the server's drain deadline bounds it */
	case ST_CLOSING:
		conn_free(c);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Accepting                                                           */

static int
uid_allowed(const struct ipcs *srv, uid_t uid)
{
	for (size_t i = 0; i < srv->cfg.nuids; i++)
		if (srv->uids[i] == uid)
			return 1;
	return 0;
}

static void
accept_pause(struct ipcs *srv)
{
	struct timeval tv = ms_tv(CORE_ACCEPT_PAUSE_MS);

	if (srv->lev == NULL)
		return;
	evconnlistener_disable(srv->lev);
	evtimer_add(srv->pause_ev, &tv);
}

static void
accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipcs *srv = arg;

	(void)fd;
	(void)what;
	if (srv->lev != NULL && !srv->shutting_down)
		evconnlistener_enable(srv->lev);
}

/* Over the client cap: say why in a GOAWAY (a single small write to a
 * fresh socket), then close.  Nothing is read. */
static void
refuse_capacity(struct ipcs *srv, int fd)
{
	struct ps_error e;
	size_t len;

	memset(&e, 0, sizeof(e));
	e.code = PS_E_UNAVAILABLE;
	e.retry_after = CORE_RETRY_BUSY;
	snprintf(e.message, sizeof(e.message), "too many clients");
	if (ps_codec_encode_error(srv->frame, sizeof(srv->frame), PS_T_GOAWAY,
	        0, &e, &len) == PS_OK)
		(void)send(fd, srv->frame, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	srv->stats.errors[PS_E_UNAVAILABLE]++;
}

int
ipcs_add_client(struct ipcs *srv, int fd)
{
	struct ucred uc;
	socklen_t uclen = sizeof(uc);
	struct timeval wtv;
	struct conn *c = NULL;

	if (srv->shutting_down)
		goto refuse;
	/* Lowest-free allocation: fd + 1 descriptors are in use at least. */
	if (srv->fd_limit != RLIM_INFINITY &&
	    (rlim_t)fd + 1 + CORE_FD_RESERVE > srv->fd_limit) {
		srv->stats.refused_fds++;
		log_warnx("short of descriptors (fd %d of %llu); pausing "
		          "accept for %d ms",
		    fd, (unsigned long long)srv->fd_limit,
		    CORE_ACCEPT_PAUSE_MS);
		accept_pause(srv);
		goto refuse;
	}
	/* Who is it?  Checked before a single byte is read. */
	memset(&uc, 0, sizeof(uc));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &uclen) != 0 ||
	    uclen != sizeof(uc)) {
		log_warn("SO_PEERCRED");
		goto refuse;
	}
	if (!uid_allowed(srv, uc.uid)) {
		struct log_kv kv[] = {
		    LOG_U("peer_uid", uc.uid), LOG_I("peer_pid", uc.pid)};

		srv->stats.refused_uid++;
		log_kv(LOG_LEVEL_WARN, 0, kv, NITEMS(kv),
		    "refused peer: uid not allowed");
		goto refuse;
	}
	/* Every other uid shares what the core's own does not keep. */
	if (srv->stats.clients >= srv->cfg.max_clients ||
	    (uc.uid != srv->own_uid &&
	        srv->stats.clients_other >=
	            srv->cfg.max_clients - srv->cfg.own_uid_slots)) {
		struct log_kv kv[] = {
		    LOG_U("peer_uid", uc.uid), LOG_I("peer_pid", uc.pid)};

		srv->stats.refused_capacity++;
		log_kv(LOG_LEVEL_WARN, 0, kv, NITEMS(kv),
		    "refused peer: %llu clients connected (%llu of other uids)",
		    (unsigned long long)srv->stats.clients,
		    (unsigned long long)srv->stats.clients_other);
		refuse_capacity(srv, fd);
		goto refuse;
	}
	if (evutil_make_socket_nonblocking(fd) != 0 ||
	    evutil_make_socket_closeonexec(fd) != 0) {
		log_warn("client socket flags");
		goto refuse;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("client");
		goto refuse;
	}
	c->srv = srv;
	c->uid = uc.uid;
	c->pid = uc.pid;
	c->serial = ++srv->next_serial;
	c->state = ST_HELLO;
	TAILQ_INIT(&c->inflight);
	if ((c->rd = ps_reader_new(PS_DIR_REQUEST)) == NULL ||
	    (c->timer = evtimer_new(srv->base, conn_timer_cb, c)) == NULL) {
		log_warn("client state");
		goto fail;
	}
	if ((c->bev = bufferevent_socket_new(
	         srv->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warn("client bufferevent");
		goto fail;
	}
	fd = -1; /* the bufferevent owns it now */
	bufferevent_setcb(
	    c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CORE_READ_HIGH);
	bufferevent_setwatermark(c->bev, EV_WRITE, srv->cfg.output_low, 0);
	wtv = ms_tv(srv->cfg.write_timeout_ms);
	if (bufferevent_set_timeouts(c->bev, NULL, &wtv) != 0 ||
	    bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0) {
		log_warnx("client bufferevent setup");
		goto fail;
	}
	conn_arm(c, srv->cfg.handshake_timeout_ms);
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->stats.clients++;
	if (c->uid != srv->own_uid)
		srv->stats.clients_other++;
	srv->stats.accepted++;
	log_kv(LOG_LEVEL_INFO, 0, (struct log_kv[]){CONN_KV(c)}, 3,
	    "client connected");
	return 0;

fail:
	if (c != NULL) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		if (c->timer != NULL)
			event_free(c->timer);
		ps_reader_free(c->rd);
		free(c);
	}
refuse:
	if (fd >= 0)
		close(fd);
	return -1;
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int socklen, void *arg)
{
	(void)lev;
	(void)sa;
	(void)socklen;
	(void)ipcs_add_client(arg, fd);
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct ipcs *srv = arg;
	int err = EVUTIL_SOCKET_ERROR();

	(void)lev;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		srv->stats.refused_fds++;
		log_kv(LOG_LEVEL_WARN, err, NULL, 0,
		    "accept; pausing for %d ms", CORE_ACCEPT_PAUSE_MS);
		accept_pause(srv);
		return;
	}
	log_kv(LOG_LEVEL_WARN, err, NULL, 0, "accept");
}

/* ------------------------------------------------------------------ */
/* The socket file                                                     */

static int
sock_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

/*
 * Makes `path` free for bind: absent is fine; a socket nobody answers on
 * is stale and removed; anything else is refused.  The directory is ours
 * (an emptyDir in the pod), which is what makes check-then-unlink safe.
 */
static int
sock_clear(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc, err;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx(
		    "%s exists and is not a socket; not replacing it", path);
		errno = EEXIST;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		log_warn("socket");
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	err = errno;
	close(fd);
	if (rc == 0) {
		log_warnx("%s: another server is answering on it", path);
		errno = EADDRINUSE;
		return -1;
	}
	if (err == ENOENT)
		return 0;
	if (err != ECONNREFUSED) {
		errno = err;
		log_warn("%s: probing the existing socket", path);
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		log_warn("%s: removing the stale socket", path);
		return -1;
	}
	log_info("%s: removed a stale socket", path);
	return 0;
}

static int
sock_listen(struct ipcs *srv)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd = -1, rc, err;

	if (sock_addr(srv->path, &sun) != 0) {
		log_warn("%s", srv->path);
		return -1;
	}
	if (sock_clear(srv->path, &sun) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("socket");
		return -1;
	}
	/* Created 0660 by the umask: never wider, and no chmod by path
	 * afterwards, which another writer of the directory could aim at
	 * a file of its own choosing by renaming in between. */
	old = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	err = errno;
	umask(old);
	if (rc != 0) {
		errno = err;
		log_warn("bind %s", srv->path);
		goto fail;
	}
	if (lstat(srv->path, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    (st.st_mode & 07777) != 0660) {
		log_warnx("%s: not the socket just bound (mode %o)", srv->path,
		    (unsigned)(st.st_mode & 07777));
		goto fail_unlink;
	}
	srv->sock_dev = st.st_dev;
	srv->sock_ino = st.st_ino;
	if (listen(fd, CORE_LISTEN_BACKLOG) != 0) {
		log_warn("listen %s", srv->path);
		goto fail_unlink;
	}
	/* backlog 0: already listening. */
	srv->lev = evconnlistener_new(srv->base, accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (srv->lev == NULL) {
		log_warn("listener");
		goto fail_unlink;
	}
	evconnlistener_set_error_cb(srv->lev, accept_error_cb);
	return 0;

fail_unlink:
	err = errno;
	(void)unlink(srv->path);
	errno = err;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* Removes the socket file if it is still the one we bound. */
static void
sock_remove(struct ipcs *srv)
{
	struct stat st;

	if (srv->path == NULL)
		return;
	if (lstat(srv->path, &st) == 0 && st.st_dev == srv->sock_dev &&
	    st.st_ino == srv->sock_ino)
		(void)unlink(srv->path);
	free(srv->path);
	srv->path = NULL;
}

/* ------------------------------------------------------------------ */
/* Server                                                              */

struct ipcs *
ipcs_new(struct event_base *base, const struct ipcs_config *cfg)
{
	struct ipcs *srv;
	struct rlimit rl;
	int err;

	if (cfg->nuids == 0 || cfg->nuids > CORE_MAX_ALLOW_UIDS ||
	    cfg->max_inflight == 0 || cfg->max_inflight > PS_MAX_INFLIGHT ||
	    cfg->max_clients == 0 || cfg->own_uid_slots >= cfg->max_clients ||
	    cfg->output_low == 0 || cfg->output_low > cfg->max_output) {
		errno = EINVAL;
		return NULL;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->base = base;
	srv->cfg = *cfg;
	memcpy(srv->uids, cfg->uids, cfg->nuids * sizeof(uid_t));
	srv->own_uid = geteuid();
	srv->cfg.uids = srv->uids;
	srv->cfg.path = NULL;
	TAILQ_INIT(&srv->conns);
	srv->fd_limit = RLIM_INFINITY;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		srv->fd_limit = rl.rlim_cur;
	if ((srv->pause_ev = evtimer_new(base, accept_resume_cb, srv)) ==
	        NULL ||
	    (srv->drain_ev = evtimer_new(base, drain_deadline_cb, srv)) ==
	        NULL ||
	    (srv->done_ev = event_new(base, -1, 0, srv_done_cb, srv)) == NULL)
		goto fail;
	if (cfg->path != NULL) {
		if ((srv->path = strdup(cfg->path)) == NULL)
			goto fail;
		if (sock_listen(srv) != 0) {
			free(srv->path);
			srv->path = NULL;
			goto fail;
		}
		srv->cfg.path = srv->path;
	}
	return srv;

fail:
	err = errno;
	ipcs_free(srv);
	errno = err;
	return NULL;
}

void
ipcs_free(struct ipcs *srv)
{
	struct conn *c;

	if (srv == NULL)
		return;
	srv->freeing = 1;
	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		conn_free(c);
	if (srv->lev != NULL)
		evconnlistener_free(srv->lev);
	sock_remove(srv);
	if (srv->pause_ev != NULL)
		event_free(srv->pause_ev);
	if (srv->drain_ev != NULL)
		event_free(srv->drain_ev);
	if (srv->done_ev != NULL)
		event_free(srv->done_ev);
	free(srv);
}

int
ipcs_set_handler(struct ipcs *srv, uint16_t type, ipcs_handler_cb cb, void *arg)
{
	if (type == 0 || type > PS_T_MAX || dispatch[type].body == BODY_NONE ||
	    dispatch[type].body == BODY_HELLO) {
		errno = EINVAL;
		return -1;
	}
	srv->handlers[type].cb = cb;
	srv->handlers[type].arg = arg;
	return 0;
}

static void
drain_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipcs *srv = arg;
	struct conn *c, *next;

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == ST_CLOSING)
			continue;
		log_kv(LOG_LEVEL_WARN, 0,
		    (struct log_kv[]){
		        CONN_KV(c), LOG_U("inflight", c->ninflight)},
		    4, "drain deadline: closing with requests in flight");
		conn_goaway(
		    c, PS_E_UNAVAILABLE, CORE_RETRY_DRAINING, "shutting down");
	}
}

void
ipcs_shutdown(struct ipcs *srv, void (*done)(void *), void *arg)
{
	struct conn *c, *next;
	struct timeval tv;

	if (srv->shutting_down) {
		/* Second request: close everything now. */
		log_info("closing %llu client(s) now",
		    (unsigned long long)srv->stats.clients);
		while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
			conn_free(c);
		srv_check_done(srv);
		return;
	}
	srv->shutting_down = 1;
	srv->done = done;
	srv->done_arg = arg;
	if (srv->lev != NULL) {
		evconnlistener_free(srv->lev);
		srv->lev = NULL;
	}
	evtimer_del(srv->pause_ev);
	sock_remove(srv);
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		switch (c->state) {
		case ST_HELLO:
			conn_goaway(c, PS_E_UNAVAILABLE, CORE_RETRY_DRAINING,
			    "shutting down");
			break;
		case ST_READY:
			c->state = ST_DRAINING;
			evtimer_del(c->timer);
			if (c->ninflight == 0)
				conn_goaway(c, PS_E_UNAVAILABLE,
				    CORE_RETRY_DRAINING, "shutting down");
			break;
		case ST_DRAINING:
		case ST_CLOSING:
			break;
		}
	}
	tv = ms_tv(srv->cfg.drain_timeout_ms);
	evtimer_add(srv->drain_ev, &tv);
	srv_check_done(srv);
}

const struct ipcs_stats *
ipcs_stats(const struct ipcs *srv)
{
	return &srv->stats;
}

int
ipcs_stats_prometheus(const struct ipcs *srv, struct evbuffer *out)
{
	const struct ipcs_stats *s = &srv->stats;
	int bad = 0;

#define P(...) bad |= evbuffer_add_printf(out, __VA_ARGS__) < 0
	P("# HELP replicad_core_socket_clients Connected socket clients.\n"
	  "# TYPE replicad_core_socket_clients gauge\n"
	  "replicad_core_socket_clients %llu\n",
	    (unsigned long long)s->clients);
	P("# HELP replicad_core_socket_accepted_total Socket clients "
	  "accepted.\n"
	  "# TYPE replicad_core_socket_accepted_total counter\n"
	  "replicad_core_socket_accepted_total %llu\n",
	    (unsigned long long)s->accepted);
	P("# HELP replicad_core_socket_refused_total Socket clients refused, "
	  "by reason.\n"
	  "# TYPE replicad_core_socket_refused_total counter\n"
	  "replicad_core_socket_refused_total{reason=\"uid\"} %llu\n"
	  "replicad_core_socket_refused_total{reason=\"capacity\"} %llu\n"
	  "replicad_core_socket_refused_total{reason=\"fds\"} %llu\n",
	    (unsigned long long)s->refused_uid,
	    (unsigned long long)s->refused_capacity,
	    (unsigned long long)s->refused_fds);
	P("# HELP replicad_core_socket_frames_total Request frames received, "
	  "by type.\n"
	  "# TYPE replicad_core_socket_frames_total counter\n");
	for (uint16_t t = 1; t <= PS_T_MAX; t++)
		if (ps_type_info(t)->from_requester)
			P("replicad_core_socket_frames_total{type=\"%s\"} "
			  "%llu\n",
			    ps_type_name(t), (unsigned long long)s->frames[t]);
	P("# HELP replicad_core_socket_error_answers_total Error answers "
	  "sent, by code.\n"
	  "# TYPE replicad_core_socket_error_answers_total counter\n");
	for (uint16_t e = 1; e <= PS_E_MAX; e++)
		P("replicad_core_socket_error_answers_total{code=\"%s\"} "
		  "%llu\n",
		    ps_code_name(e), (unsigned long long)s->errors[e]);
	P("# HELP replicad_core_socket_protocol_errors_total Connections "
	  "closed for a protocol violation.\n"
	  "# TYPE replicad_core_socket_protocol_errors_total counter\n"
	  "replicad_core_socket_protocol_errors_total %llu\n",
	    (unsigned long long)s->protocol_errors);
	P("# HELP replicad_core_socket_busy_total BUSY answers (too many "
	  "requests in flight).\n"
	  "# TYPE replicad_core_socket_busy_total counter\n"
	  "replicad_core_socket_busy_total %llu\n",
	    (unsigned long long)s->busy);
	P("# HELP replicad_core_socket_timeouts_total Connections closed by "
	  "a handshake, idle or write timeout.\n"
	  "# TYPE replicad_core_socket_timeouts_total counter\n"
	  "replicad_core_socket_timeouts_total %llu\n",
	    (unsigned long long)s->timeouts);
	P("# HELP replicad_core_socket_abandoned_total Requests whose client "
	  "left before the answer.\n"
	  "# TYPE replicad_core_socket_abandoned_total counter\n"
	  "replicad_core_socket_abandoned_total %llu\n",
	    (unsigned long long)s->dropped_answers);
#undef P
	return bad ? -1 : 0;
}
