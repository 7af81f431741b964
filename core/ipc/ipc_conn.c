/*
 * ipc_conn.c — one client connection of the core's socket server: its
 * state (HELLO -> READY -> DRAINING -> CLOSING), reading frames from its
 * input, the HELLO handshake, dispatch by ps.c's table (which request
 * type is allowed in which state, and how its body decodes), handing a
 * request to its handler, protocol errors and GOAWAY, backpressure on its
 * output, its timers, and freeing it.
 *
 * Not here: accepting it (ipc_accept.c), the answers (ipc_answer.c).
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"
#include "core/core_limits.h"
#include "core/ipc/ipc_server.h"
#include "core/ipc/ipc_server_int.h"
#include "core/log.h"

/*
 * Permission is state (STYLE §1, OpenSSH's mon_table).  Header limits
 * (length per type, flags, id) are checked by the reader from ps.c's
 * table before the body arrives; the same row's request shape says how
 * the body decodes, and this says in which states the type may arrive:
 * HELLO first and only first, every other request after it.  A type in
 * DRAINING is answered UNAVAILABLE, not handled.  What each type does is
 * its handler's, registered with ipcs_set_handler (core/serve.c's table).
 */
static unsigned
allowed_states(const struct ps_type_info *ti)
{
	switch (ti->req) {
	case PS_REQ_HELLO:
		return ST(ST_HELLO);
	case PS_REQ_EMPTY:
	case PS_REQ_NS:
	case PS_REQ_NAME:
	case PS_REQ_WRITE:
		return ST(ST_READY) | ST(ST_DRAINING);
	case PS_REQ_NONE:
		break;
	}
	return 0; /* never from a requester (GOAWAY) */
}

size_t
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
int
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
int
conn_send_errorv(struct conn *c, uint16_t type, uint32_t id, uint16_t code,
    uint32_t retry_after, uint32_t current, const char *ref, const char *fmt,
    va_list ap)
{
	struct ps_error e;
	size_t len;
	int rc;

	memset(&e, 0, sizeof(e));
	e.code = code;
	e.retry_after = retry_after;
	e.current = current;
	if (ref != NULL)
		snprintf(e.ref, sizeof(e.ref), "%s", ref);
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

int
conn_send_error(struct conn *c, uint16_t type, uint32_t id, uint16_t code,
    uint32_t retry_after, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = conn_send_errorv(c, type, id, code, retry_after, 0, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

void
conn_arm(struct conn *c, unsigned ms)
{
	struct timeval tv = ms_tv(ms);

	evtimer_add(c->timer, &tv);
}

/* Idle timer restarts on every request and answer while READY. */
void
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
void
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

void
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

void
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

static struct ipcs_req *
conn_find_req(const struct conn *c, uint32_t id)
{
	struct ipcs_req *r;

	TAILQ_FOREACH(r, &c->inflight, entry)
	if (r->id == id)
		return r;
	return NULL;
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
	memcpy(ok.namespace, srv->namespace, sizeof(ok.namespace));
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
decode_body(
    enum ps_req_shape shape, const struct ps_frame *f, union req_body *b)
{
	switch (shape) {
	case PS_REQ_EMPTY:
		return ps_codec_decode_empty(f);
	case PS_REQ_NS:
		return ps_codec_decode_ns_req(f, &b->ns);
	case PS_REQ_NAME:
		return ps_codec_decode_name_req(f, &b->name);
	case PS_REQ_WRITE:
		return ps_codec_decode_write_req(f, &b->write);
	case PS_REQ_NONE:
	case PS_REQ_HELLO:
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
	const struct ps_type_info *ti;
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
	ti = ps_type_info(type);
	if ((allowed_states(ti) & ST(c->state)) == 0) {
		conn_protocol_error(c, PS_ERR_STATE, f);
		return;
	}
	if (ti->req == PS_REQ_HELLO) {
		conn_hello(c, f);
		return;
	}
	if (conn_find_req(c, id) != NULL) {
		conn_protocol_error(c, PS_ERR_ID, f); /* id reused in flight */
		return;
	}
	/* Untrusted (gateway): every field re-validated here. */
	memset(&body, 0, sizeof(body));
	if ((rc = decode_body(ti->req, f, &body)) != PS_OK) {
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
	req->shape = ti->req;
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

void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	conn_process_input(c);
}

void
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

void
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

void
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
