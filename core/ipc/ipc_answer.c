/*
 * ipc_answer.c — request handles and their answers, for the core's socket
 * server: what a handler may read from a request, the one-frame answers
 * (ipcs_answer_error / _health / _deployment / _scale / _pin), and the
 * multi-frame ones (LIST, PIN_LIST, METRICS) pulled from the handler only
 * while the client's output is below the low watermark.  Every answer
 * releases its request and frees its in-flight slot.
 *
 * Not here: how a request arrives and is dispatched (ipc_conn.c).
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"
#include "proto-socket/ps_codec.h"
#include "core/core_limits.h"
#include "core/ipc/ipc_server.h"
#include "core/ipc/ipc_server_int.h"
#include "core/log.h"

/* ------------------------------------------------------------------ */
/* Requests and answers                                                */

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

const struct ps_ns_req *
ipcs_req_ns(const struct ipcs_req *req)
{
	return req->shape == PS_REQ_NS ? &req->body.ns : NULL;
}

const struct ps_name_req *
ipcs_req_name(const struct ipcs_req *req)
{
	return req->shape == PS_REQ_NAME ? &req->body.name : NULL;
}

const struct ps_write_req *
ipcs_req_write(const struct ipcs_req *req)
{
	return req->shape == PS_REQ_WRITE ? &req->body.write : NULL;
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

static int
answer_errorv(struct ipcs_req *req, uint16_t code, uint32_t retry_after,
    uint32_t current, const char *ref, const char *fmt, va_list ap)
{
	struct conn *c = req->conn;
	int rc;

	if (c == NULL) {
		free(req);
		return 1;
	}
	if (code == 0 || code > PS_E_MAX || retry_after > PS_MAX_RETRY_AFTER ||
	    current > PS_MAX_REPLICAS ||
	    (ref != NULL &&
	        ps_valid_str(PS_STR_REF, ref, strnlen(ref, PS_MAX_NAME + 1)) !=
	            PS_OK))
		return req_encode_failed(req, PS_ERR_RANGE);
	rc = conn_send_errorv(
	    c, req->type, req->id, code, retry_after, current, ref, fmt, ap);
	if (req->conn != NULL)
		req_unlink(req);
	free(req);
	return rc;
}

int
ipcs_answer_error(struct ipcs_req *req, uint16_t code, uint32_t retry_after,
    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = answer_errorv(req, code, retry_after, 0, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

int
ipcs_answer_refusal(struct ipcs_req *req, uint16_t code, uint32_t current,
    const char *ref, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = answer_errorv(req, code, 0, current, ref, fmt, ap);
	va_end(ap);
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
			    ? st->next_name(
			          st->arg, st->item.namespace, st->item.name)
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
		    ? ps_codec_list_add_name(
		          &e, st->item.namespace, st->item.name)
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
void
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
