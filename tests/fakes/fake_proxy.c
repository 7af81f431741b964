/*
 * fake_proxy.c — the fake core's wire-fault proxy.  The fake core answers
 * through the real socket server (core/ipc), which only ever writes valid
 * proto-socket; the gateway's tests also need a core that breaks the
 * protocol.  So the fake listens on --socket itself and, for each gateway
 * connection, opens a socketpair, gives one end to the real server with
 * ipcs_add_client (its SO_PEERCRED check then sees the fake's own uid,
 * which the fake allows) and relays between the gateway and the other end.
 *
 * The relay is frame-aware but parses nothing itself: each direction's
 * 16-byte header is checked with proto-socket's ps_frame_parse_hdr, its
 * `len` gives the frame's end, and whole frames are moved, byte for byte,
 * from one side's input to the other's output.  Per request (not HELLO)
 * the fake's callback decides the faults: close the connection or send
 * GOAWAY instead of relaying it, send an answer for an id never asked
 * first, or rewrite the header of its first answer frame (reserved != 0,
 * or another type).  A header that does not parse switches that direction
 * to a plain byte relay: judging the gateway's bytes is the real server's
 * job (it answers GOAWAY PROTOCOL), and the gateway must judge the core's.
 *
 * Not here: HELLO, ids, BUSY, answers (the real server and the fake's
 * handlers), what the control file says (fake_core.c).  Each side stops
 * being read while the other side's output holds PROXY_HIGH bytes, as
 * libevent's le-proxy does, so the server's own backpressure still works.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
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
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"
#include "core/ipc/ipc_server.h"
#include "tests/fakes/fake_proxy.h"

#define PROXY_HIGH      (256 * 1024) /* stop reading the other side above this */
#define PROXY_LOW       (64 * 1024)  /* ...and resume at or below this */
#define STRAY_ID_OFFSET 100000 /* the stray answer's id: request id + this */

/* An answer whose first frame gets a broken header. */
struct rewrite {
	struct rewrite *next;
	uint32_t id;
	int malformed; /* else wrongtype */
};

struct link {
	TAILQ_ENTRY(link) entry;
	struct fake_proxy *px;
	struct bufferevent *gw;   /* the gateway's connection */
	struct bufferevent *core; /* our end of the socketpair; NULL: closed */
	int gw_raw;               /* a request header did not parse */
	int core_raw;             /* an answer header did not parse */
	int req_paused;           /* the server's side is full */
	int ans_paused;           /* the gateway's side is full */
	int closing;              /* flush the gateway's output, then free */
	struct rewrite *rewrites;
};

TAILQ_HEAD(link_list, link);

struct fake_proxy {
	struct event_base *base;
	struct ipcs *srv;
	struct evconnlistener *lev;
	char *path;
	fake_proxy_request_cb cb;
	void *arg;
	struct link_list links;
};

static void pump_requests(struct link *);
static void pump_answers(struct link *);

static void
link_free(struct link *l)
{
	struct rewrite *rw;

	while ((rw = l->rewrites) != NULL) {
		l->rewrites = rw->next;
		free(rw);
	}
	TAILQ_REMOVE(&l->px->links, l, entry);
	if (l->core != NULL)
		bufferevent_free(l->core); /* the server sees EOF */
	if (l->gw != NULL)
		bufferevent_free(l->gw);
	free(l);
}

/*
 * Ends the relay: the server's end closes now (it detaches what is in
 * flight), the gateway gets what is already queued for it, then EOF.
 * The caller stops touching `l` and calls link_reap.
 */
static void
link_close(struct link *l)
{
	l->closing = 1;
	if (l->core != NULL) {
		bufferevent_free(l->core);
		l->core = NULL;
	}
	bufferevent_disable(l->gw, EV_READ);
}

/* Frees a closing link once its last bytes are out; 1 when freed. */
static int
link_reap(struct link *l)
{
	if (!l->closing ||
	    evbuffer_get_length(bufferevent_get_output(l->gw)) > 0)
		return 0;
	link_free(l);
	return 1;
}

/* An error frame (or GOAWAY) of the proxy's own, straight to the gateway. */
static void
send_error(struct link *l, uint16_t type, uint32_t id, uint16_t code,
    uint32_t retry, const char *msg)
{
	uint8_t frame[PS_MIN_ANSWER_FRAME];
	struct ps_error e;
	size_t len;
	int rc;

	memset(&e, 0, sizeof(e));
	e.code = code;
	e.retry_after = retry;
	snprintf(e.message, sizeof(e.message), "%s", msg);
	rc = ps_codec_encode_error(frame, sizeof(frame), type, id, &e, &len);
	if (rc != PS_OK) {
		/* A control line with an impossible code: nothing is sent. */
		fprintf(stderr, "fake-core: %s %s not sent: %s\n",
		    ps_type_name(type), ps_code_name(code), ps_strerror(rc));
		return;
	}
	if (bufferevent_write(l->gw, frame, len) != 0)
		fprintf(
		    stderr, "fake-core: cannot queue %s\n", ps_type_name(type));
}

/*
 * Applies the faults for one request.  0: relay it; -1: the link is
 * closing and the request must not reach the server.
 */
static int
request_faults(struct link *l, const struct ps_hdr *h)
{
	struct fake_faults f;
	struct rewrite *rw;

	memset(&f, 0, sizeof(f));
	l->px->cb(h, &f, l->px->arg);
	if (f.close) {
		link_close(l);
		return -1;
	}
	if (f.goaway) {
		fprintf(stderr, "fake-core: GOAWAY %s: told to go away\n",
		    ps_code_name(f.goaway_code));
		send_error(l, PS_T_GOAWAY, 0, f.goaway_code, f.goaway_retry,
		    "told to go away");
		link_close(l);
		return -1;
	}
	if (f.strayid)
		send_error(l, h->type, h->id + STRAY_ID_OFFSET, PS_E_NOT_FOUND,
		    0, "stray");
	if (f.malformed || f.wrongtype) {
		if ((rw = calloc(1, sizeof(*rw))) == NULL) {
			fprintf(stderr, "fake-core: rewrite: %s\n",
			    strerror(errno));
			link_close(l);
			return -1;
		}
		rw->id = h->id;
		rw->malformed = f.malformed;
		rw->next = l->rewrites;
		l->rewrites = rw;
	}
	return 0;
}

/* Removes and returns the rewrite for `id`, or NULL. */
static struct rewrite *
take_rewrite(struct link *l, uint32_t id)
{
	struct rewrite **p, *rw;

	for (p = &l->rewrites; (rw = *p) != NULL; p = &rw->next) {
		if (rw->id == id) {
			*p = rw->next;
			return rw;
		}
	}
	return NULL;
}

/*
 * Gateway -> server: whole request frames, each past the fake's callback
 * first.  Returns with `l` possibly closing (never freed).
 */
static void
pump_requests(struct link *l)
{
	struct evbuffer *in = bufferevent_get_input(l->gw);
	struct evbuffer *out;
	uint8_t hb[PS_HDR_LEN];
	struct ps_hdr h;

	while (!l->closing && !l->req_paused) {
		out = bufferevent_get_output(l->core);
		if (l->gw_raw) {
			if (evbuffer_add_buffer(out, in) != 0)
				link_close(l);
			break;
		}
		if (evbuffer_get_length(in) < PS_HDR_LEN ||
		    evbuffer_copyout(in, hb, sizeof(hb)) != PS_HDR_LEN)
			break;
		if (ps_frame_parse_hdr(hb, PS_DIR_REQUEST, &h) != PS_OK) {
			/* The server refuses the same bytes (GOAWAY). */
			l->gw_raw = 1;
			continue;
		}
		if (evbuffer_get_length(in) < h.len)
			break;
		if (h.type != PS_T_HELLO && request_faults(l, &h) != 0)
			break;
		if (evbuffer_remove_buffer(in, out, h.len) != (int)h.len) {
			link_close(l);
			break;
		}
		if (evbuffer_get_length(out) > PROXY_HIGH) {
			l->req_paused = 1;
			bufferevent_disable(l->gw, EV_READ);
		}
	}
}

/* Server -> gateway: whole answer frames, headers rewritten if told. */
static void
pump_answers(struct link *l)
{
	struct evbuffer *in, *out = bufferevent_get_output(l->gw);
	uint8_t hb[PS_HDR_LEN];
	struct rewrite *rw;
	struct ps_hdr h;
	int bad;

	while (!l->closing && !l->ans_paused) {
		in = bufferevent_get_input(l->core);
		if (l->core_raw) {
			if (evbuffer_add_buffer(out, in) != 0)
				link_close(l);
			break;
		}
		if (evbuffer_get_length(in) < PS_HDR_LEN ||
		    evbuffer_copyout(in, hb, sizeof(hb)) != PS_HDR_LEN)
			break;
		if (ps_frame_parse_hdr(hb, PS_DIR_ANSWER, &h) != PS_OK) {
			/* Not the proxy's to judge: the gateway will. */
			l->core_raw = 1;
			continue;
		}
		if (evbuffer_get_length(in) < h.len)
			break;
		rw = h.type == PS_T_GOAWAY ? NULL : take_rewrite(l, h.id);
		if (rw == NULL) {
			bad = evbuffer_remove_buffer(in, out, h.len) !=
			    (int)h.len;
		} else {
			if (rw->malformed)
				h.reserved = 1;
			else
				h.type =
				    h.type == PS_T_GET ? PS_T_HEALTH : PS_T_GET;
			free(rw);
			ps_frame_put_hdr(hb, &h);
			bad = evbuffer_drain(in, PS_HDR_LEN) != 0 ||
			    evbuffer_add(out, hb, PS_HDR_LEN) != 0 ||
			    evbuffer_remove_buffer(
			        in, out, h.len - PS_HDR_LEN) !=
			        (int)(h.len - PS_HDR_LEN);
		}
		if (bad) {
			link_close(l);
			break;
		}
		if (evbuffer_get_length(out) > PROXY_HIGH) {
			l->ans_paused = 1;
			bufferevent_disable(l->core, EV_READ);
		}
	}
}

static void
gw_read_cb(struct bufferevent *bev, void *arg)
{
	struct link *l = arg;

	(void)bev;
	pump_requests(l);
	(void)link_reap(l);
}

static void
gw_write_cb(struct bufferevent *bev, void *arg)
{
	struct link *l = arg;

	(void)bev;
	if (link_reap(l))
		return;
	if (l->ans_paused && !l->closing) {
		l->ans_paused = 0;
		bufferevent_enable(l->core, EV_READ);
		pump_answers(l); /* what arrived while paused */
		(void)link_reap(l);
	}
}

static void
gw_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	/* The gateway went: so does the server's connection. */
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		link_free(arg);
}

static void
core_read_cb(struct bufferevent *bev, void *arg)
{
	struct link *l = arg;

	(void)bev;
	pump_answers(l);
	(void)link_reap(l);
}

static void
core_write_cb(struct bufferevent *bev, void *arg)
{
	struct link *l = arg;

	(void)bev;
	if (l->req_paused && !l->closing) {
		l->req_paused = 0;
		bufferevent_enable(l->gw, EV_READ);
		pump_requests(l);
		(void)link_reap(l);
	}
}

static void
core_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct link *l = arg;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	/*
	 * The server closed (after a GOAWAY, say): the gateway gets every
	 * byte it sent, a partial frame included, then EOF.
	 */
	if (!l->closing &&
	    evbuffer_add_buffer(bufferevent_get_output(l->gw),
	        bufferevent_get_input(l->core)) != 0)
		fprintf(stderr, "fake-core: relay: %s\n", strerror(errno));
	link_close(l);
	(void)link_reap(l);
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct fake_proxy *px = arg;
	struct link *l;
	int sv[2] = {-1, -1};

	(void)lev;
	(void)sa;
	(void)salen;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		fprintf(stderr, "fake-core: link: %s\n", strerror(errno));
		close(fd);
		return;
	}
	l->px = px;
	TAILQ_INSERT_TAIL(&px->links, l, entry);
	if ((l->gw = bufferevent_socket_new(
	         px->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    evutil_make_socket_nonblocking(sv[1]) != 0 ||
	    (l->core = bufferevent_socket_new(
	         px->base, sv[1], BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		if (sv[1] >= 0)
			close(sv[1]);
		if (sv[0] >= 0)
			close(sv[0]);
		goto fail;
	}
	bufferevent_setcb(l->gw, gw_read_cb, gw_write_cb, gw_event_cb, l);
	bufferevent_setcb(
	    l->core, core_read_cb, core_write_cb, core_event_cb, l);
	bufferevent_setwatermark(l->gw, EV_WRITE, PROXY_LOW, 0);
	bufferevent_setwatermark(l->core, EV_WRITE, PROXY_LOW, 0);
	if (bufferevent_enable(l->gw, EV_READ | EV_WRITE) != 0 ||
	    bufferevent_enable(l->core, EV_READ | EV_WRITE) != 0) {
		close(sv[0]);
		goto fail;
	}
	/* Takes sv[0], also on error; the server logs why it refused. */
	if (ipcs_add_client(px->srv, sv[0]) != 0)
		goto fail;
	return;

fail:
	fprintf(stderr, "fake-core: cannot relay a connection: %s\n",
	    strerror(errno));
	link_free(l);
}

struct fake_proxy *
fake_proxy_new(struct event_base *base, const char *path, struct ipcs *srv,
    fake_proxy_request_cb cb, void *arg)
{
	struct fake_proxy *px;
	struct sockaddr_un sun;
	size_t n = strlen(path);
	int err;

	if (n >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((px = calloc(1, sizeof(*px))) == NULL)
		return NULL;
	px->base = base;
	px->srv = srv;
	px->cb = cb;
	px->arg = arg;
	TAILQ_INIT(&px->links);
	if ((px->path = strdup(path)) == NULL)
		goto fail;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	(void)unlink(path); /* a previous fake's; tests restart it at will */
	px->lev = evconnlistener_new_bind(base, accept_cb, px,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)&sun, sizeof(sun));
	if (px->lev == NULL)
		goto fail;
	return px;

fail:
	err = errno;
	free(px->path);
	free(px);
	errno = err;
	return NULL;
}

void
fake_proxy_free(struct fake_proxy *px)
{
	struct link *l;

	if (px == NULL)
		return;
	while ((l = TAILQ_FIRST(&px->links)) != NULL)
		link_free(l);
	evconnlistener_free(px->lev);
	(void)unlink(px->path);
	free(px->path);
	free(px);
}
