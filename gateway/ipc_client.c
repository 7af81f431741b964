/*
 * ipc_client.c — proto-socket requester on libevent.
 *
 * State: IDLE (never started) -> HELLO (connected, HELLO sent) -> READY;
 * any failure -> WAIT (backoff timer) -> HELLO again.  One socket, one
 * ps_reader, a table of outstanding requests (at most PS_MAX_INFLIGHT,
 * searched linearly).  Anything the core sends that breaks PROTOCOL.md
 * resets the link: every pending request fails with IPCC_UNAVAILABLE.
 *
 * The socket's events stay off the request path: the read event is always
 * on; frames submitted during one loop turn are queued and leave together
 * in one writev at the end of that turn (a deferred event), and the write
 * event is added only while the socket is full.
 *
 * Why one file of about 1,000 lines: the link's states and the requests'
 * slots, queue and deadlines are one machine — a link that drops fails
 * every slot, a slot's deadline may drop the link — and a request's
 * lifetime (submitted, queued, sent, answered or cancelled, freed once) is
 * easiest to check when every path is in view.  The wire facts are
 * proto-socket's (ps.c's table, ps_codec.c).
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "gateway/gw_limits.h"
#include "gateway/ipc_client.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "proto-socket/ps_frame.h"

enum ipcc_state { IPCC_S_IDLE, IPCC_S_WAIT, IPCC_S_HELLO, IPCC_S_READY };

struct item_off {
	size_t ns_off; /* the namespace, in the arena */
	size_t off;    /* the name */
	uint32_t replicas;
	uint8_t state;
};

struct ipcc_req {
	struct ipcc *c;
	uint32_t id;
	uint16_t type;
	ipcc_cb cb; /* NULL: abandoned (cancelled or timed out) */
	void *arg;
	struct event *timer;
	int fires;
	/* Multi-frame accumulation. */
	char *arena;
	size_t arena_len, arena_cap;
	struct item_off *items;
	size_t nitems, items_cap;
	/* Waiting for a slot (the core's max_inflight): the encoded frame,
	 * its id set when it is sent. */
	TAILQ_ENTRY(ipcc_req) qlink;
	uint8_t *frame;
	size_t frame_len;
	int queued;
};

TAILQ_HEAD(ipcc_queue, ipcc_req);

struct ipcc {
	struct event_base *base;
	char *path;
	struct ipcc_config cfg;
	enum ipcc_state state;
	int fd;              /* -1 while down */
	struct event *rev;   /* readable, while up */
	struct event *wev;   /* writable, only while the socket is full */
	struct event *flush; /* the queued frames leave, this turn */
	int wev_on, flushing;
	struct evbuffer *in, *out;
	struct ps_reader *rd;
	struct event *timer; /* backoff, or the HELLO deadline */
	struct timeval next_try;
	int attempts;
	int warned; /* the "core unreachable" warning was logged */
	uint16_t peer_inflight;
	uint32_t peer_max_frame;
	char default_ns[PS_MAX_NAMESPACE + 1]; /* HELLO_OK's, while READY */
	uint32_t next_id;
	struct ipcc_req *slots[PS_MAX_INFLIGHT];
	size_t nslots;
	struct ipcc_queue queue; /* beyond max_inflight, in order */
	size_t nqueued;
};

static void link_down(struct ipcc *c, const char *why, uint32_t retry_after);
static void link_close(struct ipcc *c);
static void connect_now(struct ipcc *c);

static void
req_free(struct ipcc_req *r)
{
	if (r == NULL)
		return;
	if (r->timer != NULL)
		event_free(r->timer);
	free(r->frame);
	free(r->arena);
	free(r->items);
	free(r);
}

static void
dequeue(struct ipcc *c, struct ipcc_req *r)
{
	TAILQ_REMOVE(&c->queue, r, qlink);
	c->nqueued--;
	r->queued = 0;
}

static void
slot_remove(struct ipcc *c, struct ipcc_req *r)
{
	size_t i;

	for (i = 0; i < c->nslots; i++) {
		if (c->slots[i] == r) {
			c->slots[i] = c->slots[--c->nslots];
			c->slots[c->nslots] = NULL;
			metrics_core_inflight(-1);
			return;
		}
	}
}

static struct ipcc_req *
slot_find(struct ipcc *c, uint32_t id)
{
	size_t i;

	for (i = 0; i < c->nslots; i++)
		if (c->slots[i]->id == id)
			return c->slots[i];
	return NULL;
}

/* Removes `r`, calls its callback if it still has one, frees it. */
static void send_queued(struct ipcc *c);

static void
complete(struct ipcc_req *r, struct ipcc_answer *a)
{
	struct ipcc *c = r->c;
	ipcc_cb cb = r->cb;
	void *arg = r->arg;

	slot_remove(r->c, r);
	a->type = r->type;
	if (cb != NULL)
		cb(a, arg);
	req_free(r);
	send_queued(c);
}

uint32_t
ipcc_retry_after(const struct ipcc *c)
{
	struct timeval now, left;
	uint32_t s;

	if (c->state != IPCC_S_WAIT)
		return GW_RETRY_AFTER_DEFAULT;
	event_base_gettimeofday_cached(c->base, &now);
	/* Spelled out: cppcheck cannot parse evutil_timercmp's operator. */
	if (c->next_try.tv_sec < now.tv_sec ||
	    (c->next_try.tv_sec == now.tv_sec &&
	        c->next_try.tv_usec <= now.tv_usec))
		return GW_RETRY_AFTER_DEFAULT;
	evutil_timersub(&c->next_try, &now, &left);
	s = (uint32_t)left.tv_sec + (left.tv_usec > 0 ? 1 : 0);
	return s < 1 ? 1 : s;
}

static void
fail_all(struct ipcc *c, uint32_t retry_after)
{
	struct ipcc_req *pending[PS_MAX_INFLIGHT], *r;
	struct ipcc_queue q;
	struct ipcc_answer a;
	size_t n = c->nslots, i;

	/* Detach first: callbacks may submit (and be refused) safely. */
	memcpy(pending, c->slots, n * sizeof(pending[0]));
	memset(c->slots, 0, sizeof(c->slots));
	c->nslots = 0;
	TAILQ_INIT(&q);
	TAILQ_CONCAT(&q, &c->queue, qlink);
	c->nqueued = 0;
	metrics_core_inflight(-(int)n);
	memset(&a, 0, sizeof(a));
	a.status = IPCC_UNAVAILABLE;
	a.retry_after = retry_after;
	for (i = 0; i < n; i++) {
		a.type = pending[i]->type;
		if (pending[i]->cb != NULL)
			pending[i]->cb(&a, pending[i]->arg);
		req_free(pending[i]);
	}
	while ((r = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, r, qlink);
		a.type = r->type;
		if (r->cb != NULL)
			r->cb(&a, r->arg);
		req_free(r);
	}
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipcc *c = arg;

	(void)fd;
	(void)what;
	if (c->state == IPCC_S_WAIT)
		connect_now(c);
	else if (c->state == IPCC_S_HELLO)
		link_down(c, "the core did not answer HELLO in time", 0);
}

static void
schedule_retry(struct ipcc *c)
{
	struct timeval tv, now;
	unsigned delay, shift;

	c->state = IPCC_S_WAIT;
	if (c->path == NULL)
		return; /* adopted descriptor: nothing to reconnect to */
	shift = c->attempts < 16 ? (unsigned)c->attempts : 16;
	delay = (unsigned)c->cfg.backoff_min_ms << shift;
	if (delay > (unsigned)c->cfg.backoff_max_ms || delay == 0)
		delay = (unsigned)c->cfg.backoff_max_ms;
	/* Jitter: somewhere in [delay/2, delay]. */
	delay = delay / 2 + arc4random_uniform(delay / 2 + 1);
	c->attempts++;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	event_base_gettimeofday_cached(c->base, &now);
	evutil_timeradd(&now, &tv, &c->next_try);
	evtimer_add(c->timer, &tv);
}

static void
link_down(struct ipcc *c, const char *why, uint32_t retry_after)
{
	int was_ready = c->state == IPCC_S_READY;

	link_close(c);
	ps_reader_free(c->rd);
	c->rd = NULL;
	evtimer_del(c->timer);
	metrics_core_up(0);
	if (was_ready || !c->warned) {
		log_warnx("core link down: %s", why);
		c->warned = 1;
	} else
		log_debug("core link: %s", why);
	schedule_retry(c);
	if (retry_after == 0 || retry_after > PS_MAX_RETRY_AFTER)
		retry_after = ipcc_retry_after(c);
	fail_all(c, retry_after);
}

static void
protocol_error(struct ipcc *c, const char *what, int rc)
{
	char why[256];

	snprintf(why, sizeof(why), "protocol error from the core: %s (%s)",
	    what, ps_strerror(rc));
	link_down(c, why, 0);
}

/* Queues a frame; it leaves with the others of this loop turn. */
static int
send_frame(struct ipcc *c, const uint8_t *frame, size_t len)
{
	if (c->fd < 0 || evbuffer_add(c->out, frame, len) != 0)
		return -1;
	if (!c->flushing && !c->wev_on) {
		c->flushing = 1;
		event_active(c->flush, EV_WRITE, 1);
	}
	return 0;
}

static void
handle_hello(struct ipcc *c, const struct ps_frame *f)
{
	struct ps_hello_ok ok;
	struct ps_error err;
	int rc;

	if (f->hdr.type != PS_T_HELLO) {
		protocol_error(c, "frame before HELLO", PS_ERR_STATE);
		return;
	}
	if (f->hdr.flags & PS_F_ERROR) {
		if ((rc = ps_codec_decode_error(f, &err)) != PS_OK) {
			protocol_error(c, "HELLO error answer", rc);
			return;
		}
		log_warnx("core refused HELLO: %s: %s", ps_code_name(err.code),
		    err.message);
		link_down(c, "HELLO refused", 0);
		return;
	}
	if ((rc = ps_codec_decode_hello_ok(f, &ok)) != PS_OK) {
		protocol_error(c, "HELLO answer", rc);
		return;
	}
	if (ok.version != PS_VERSION) {
		protocol_error(c, "HELLO picked a version we did not offer",
		    PS_ERR_VERSION);
		return;
	}
	if (ok.namespace[0] == '\0') {
		/* The codec should refuse it; a link without a default
		 * namespace could not serve the routes that mean it. */
		protocol_error(
		    c, "HELLO without a default namespace", PS_ERR_STR_LEN);
		return;
	}
	c->peer_inflight = ok.max_inflight;
	c->peer_max_frame = ok.max_frame;
	memcpy(c->default_ns, ok.namespace, sizeof(c->default_ns));
	c->state = IPCC_S_READY;
	c->attempts = 0;
	c->warned = 0;
	evtimer_del(c->timer);
	metrics_core_up(1);
	log_info("core link up: protocol v%u, max_inflight %u, max_frame %u, "
	         "default namespace %s",
	    ok.version, ok.max_inflight, ok.max_frame, c->default_ns);
}

static int
arena_add(struct ipcc_req *r, const char *ns, const char *name,
    uint32_t replicas, uint8_t state)
{
	size_t nslen = strlen(ns) + 1, len = nslen + strlen(name) + 1, cap;
	void *p;

	if (r->arena_cap - r->arena_len < len) {
		cap = r->arena_cap ? r->arena_cap * 2 : 4096;
		while (cap - r->arena_len < len)
			cap *= 2;
		if ((p = realloc(r->arena, cap)) == NULL)
			return -1;
		r->arena = p;
		r->arena_cap = cap;
	}
	if (r->nitems == r->items_cap) {
		cap = r->items_cap ? r->items_cap * 2 : 64;
		if ((p = reallocarray(r->items, cap, sizeof(*r->items))) ==
		    NULL)
			return -1;
		r->items = p;
		r->items_cap = cap;
	}
	memcpy(r->arena + r->arena_len, ns, nslen);
	memcpy(r->arena + r->arena_len + nslen, name, len - nslen);
	r->items[r->nitems].ns_off = r->arena_len;
	r->items[r->nitems].off = r->arena_len + nslen;
	r->items[r->nitems].replicas = replicas;
	r->items[r->nitems].state = state;
	r->nitems++;
	r->arena_len += len;
	return 0;
}

/* One LIST / PIN_LIST frame.  0, -1 (protocol; `*rc` set), -2 (memory). */
static int
take_list_frame(struct ipcc_req *r, const struct ps_frame *f, int *rc)
{
	struct ps_list_dec d;
	struct ps_pin pin;
	char name[PS_MAX_NAME + 1], ns[PS_MAX_NAMESPACE + 1];
	int more;

	if ((*rc = ps_codec_list_open(f, &d)) != PS_OK)
		return -1;
	if ((size_t)d.left > PS_MAX_LIST_TOTAL - r->nitems) {
		*rc = PS_ERR_TOO_MANY;
		return -1;
	}
	for (;;) {
		if (ps_type_info(r->type)->ans == PS_ANS_NAMES) {
			more = ps_codec_list_next_name(&d, ns, name);
			pin.replicas = 0;
			pin.state = PS_PIN_ACTIVE;
		} else {
			more = ps_codec_list_next_pin(&d, &pin);
			memcpy(name, pin.name, sizeof(name));
			memcpy(ns, pin.namespace, sizeof(ns));
		}
		if (more < 0) {
			*rc = more;
			return -1;
		}
		if (more == 0)
			return 0;
		/* An abandoned request still validates, but keeps nothing. */
		if (r->cb != NULL &&
		    arena_add(r, ns, name, pin.replicas, pin.state) != 0)
			return -2;
		if (r->cb == NULL)
			r->nitems++; /* count only, for the total bound */
	}
}

static void
finish_list(struct ipcc_req *r)
{
	struct ipcc_answer a;
	struct ipcc_item *items = NULL;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.status = IPCC_OK;
	if (r->cb != NULL && r->nitems > 0) {
		if ((items = calloc(r->nitems, sizeof(*items))) == NULL) {
			a.status = IPCC_INTERNAL;
			complete(r, &a);
			return;
		}
		for (i = 0; i < r->nitems; i++) {
			items[i].ns = r->arena + r->items[i].ns_off;
			items[i].name = r->arena + r->items[i].off;
			items[i].replicas = r->items[i].replicas;
			items[i].state = r->items[i].state;
		}
	}
	a.items = items;
	a.nitems = r->cb != NULL ? r->nitems : 0;
	complete(r, &a);
	free(items);
}

static int
take_metrics_frame(struct ipcc_req *r, const struct ps_frame *f, int *rc)
{
	const char *text;
	size_t len, cap;
	void *p;

	if ((*rc = ps_codec_decode_metrics(f, &text, &len)) != PS_OK)
		return -1;
	if (len > PS_MAX_METRICS_TOTAL - r->arena_len) {
		*rc = PS_ERR_TOO_MANY;
		return -1;
	}
	if (r->cb == NULL) {
		r->arena_len += len; /* count only */
		return 0;
	}
	if (r->arena_cap - r->arena_len < len) {
		cap = r->arena_cap ? r->arena_cap : 4096;
		while (cap - r->arena_len < len)
			cap *= 2;
		if ((p = realloc(r->arena, cap)) == NULL)
			return -2;
		r->arena = p;
		r->arena_cap = cap;
	}
	if (len > 0)
		memcpy(r->arena + r->arena_len, text, len);
	r->arena_len += len;
	return 0;
}

static void
handle_answer(struct ipcc *c, const struct ps_frame *f)
{
	struct ipcc_req *r;
	struct ipcc_answer a;
	int rc = PS_OK, t;

	if (f->hdr.type == PS_T_HELLO) {
		protocol_error(c, "second HELLO", PS_ERR_STATE);
		return;
	}
	if (f->hdr.len > c->peer_max_frame) {
		protocol_error(
		    c, "frame over the core's own max_frame", PS_ERR_FRAME_LEN);
		return;
	}
	if ((r = slot_find(c, f->hdr.id)) == NULL) {
		/* PROTOCOL.md §6.4: not outstanding -> dropped silently. */
		log_debug("core: dropping answer for id %u (not outstanding)",
		    f->hdr.id);
		return;
	}
	if (f->hdr.type != r->type) {
		protocol_error(
		    c, "answer type differs from the request's", PS_ERR_TYPE);
		return;
	}
	memset(&a, 0, sizeof(a));
	if (f->hdr.flags & PS_F_ERROR) {
		if ((rc = ps_codec_decode_error(f, &a.err)) != PS_OK) {
			protocol_error(c, "error answer", rc);
			return;
		}
		a.status = IPCC_ERROR;
		a.retry_after = a.err.retry_after;
		complete(r, &a);
		return;
	}
	/* By the answer's shape (ps.c); the request's type fixed it. */
	switch (ps_type_info(r->type)->ans) {
	case PS_ANS_NAMES:
	case PS_ANS_PINS:
		t = take_list_frame(r, f, &rc);
		break;
	case PS_ANS_TEXT:
		t = take_metrics_frame(r, f, &rc);
		break;
	case PS_ANS_DEPLOYMENT:
		rc = ps_codec_decode_deployment(f, &a.u.dep);
		t = rc == PS_OK ? 0 : -1;
		break;
	case PS_ANS_SCALE:
		rc = ps_codec_decode_scale_ok(f, &a.u.scale);
		t = rc == PS_OK ? 0 : -1;
		break;
	case PS_ANS_HEALTH:
		rc = ps_codec_decode_health(f, &a.u.health);
		t = rc == PS_OK ? 0 : -1;
		break;
	case PS_ANS_PIN:
		rc = ps_codec_decode_pin(f, &a.u.pin);
		t = rc == PS_OK ? 0 : -1;
		break;
	case PS_ANS_NONE:
	case PS_ANS_HELLO:
	default:
		rc = PS_ERR_TYPE; /* never a call's answer */
		t = -1;
		break;
	}
	if (t == -1) {
		protocol_error(c, "answer body", rc);
		return;
	}
	if (t == -2) {
		a.status = IPCC_INTERNAL;
		complete(r, &a);
		return;
	}
	if (f->hdr.flags & PS_F_MORE)
		return; /* the codec allowed MORE only for multi-frame types */
	if (ps_type_info(r->type)->ans == PS_ANS_NAMES ||
	    ps_type_info(r->type)->ans == PS_ANS_PINS) {
		finish_list(r);
		return;
	}
	if (ps_type_info(r->type)->ans == PS_ANS_TEXT) {
		a.text = r->arena;
		a.text_len = r->arena_len;
	}
	a.status = IPCC_OK;
	complete(r, &a);
}

static void
handle_goaway(struct ipcc *c, const struct ps_frame *f)
{
	struct ps_error err;
	char why[PS_MAX_MESSAGE + 64];
	int rc;

	if ((rc = ps_codec_decode_error(f, &err)) != PS_OK) {
		protocol_error(c, "GOAWAY body", rc);
		return;
	}
	snprintf(why, sizeof(why), "GOAWAY %s: %s", ps_code_name(err.code),
	    err.message);
	link_down(c, why, err.retry_after);
}

/* Writes what is queued; the write event waits for room if need be. */
static void
write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipcc *c = arg;
	int n, full = 0;

	(void)fd;
	(void)what;
	c->flushing = 0;
	while (c->fd >= 0 && evbuffer_get_length(c->out) > 0) {
		n = evbuffer_write(c->out, c->fd);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			full = 1;
			break;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			link_down(c, strerror(errno), 0);
			return;
		}
	}
	if (c->fd >= 0 && full != c->wev_on) {
		if ((full ? event_add(c->wev, NULL) : event_del(c->wev)) != 0) {
			link_down(c, "cannot watch the core socket", 0);
			return;
		}
		c->wev_on = full;
	}
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipcc *c = arg;
	struct evbuffer *in = c->in;
	struct evbuffer_iovec v;
	struct ps_frame f;
	size_t used;
	int rc, n, s = c->fd;

	(void)what;
	n = evbuffer_read(in, fd, GW_CORE_READ_HIWAT);
	if (n == 0) {
		link_down(c, "the core closed the connection", 0);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			link_down(c, strerror(errno), 0);
		return;
	}
	/* A handler may take the link down: stop as soon as it is gone. */
	while (c->fd == s && evbuffer_get_length(in) > 0) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		rc = ps_reader_read(c->rd, v.iov_base, v.iov_len, &used, &f);
		evbuffer_drain(in, used);
		if (rc == PS_AGAIN)
			continue;
		if (rc != PS_OK) {
			protocol_error(c, "frame header", rc);
			return;
		}
		if (f.hdr.type == PS_T_GOAWAY)
			handle_goaway(c, &f);
		else if (c->state == IPCC_S_HELLO)
			handle_hello(c, &f);
		else
			handle_answer(c, &f);
	}
}

/* Closes the socket and its events (the buffers are kept for the next). */
static void
link_close(struct ipcc *c)
{
	if (c->fd < 0)
		return;
	event_free(c->rev);
	event_free(c->wev);
	c->rev = c->wev = NULL;
	c->wev_on = 0;
	event_del(c->flush);
	c->flushing = 0;
	close(c->fd);
	c->fd = -1;
	(void)evbuffer_drain(c->in, evbuffer_get_length(c->in));
	(void)evbuffer_drain(c->out, evbuffer_get_length(c->out));
}

static int
start_link(struct ipcc *c, int fd)
{
	struct ps_hello h = {PS_VERSION, PS_VERSION};
	uint8_t frame[PS_HDR_LEN + 8];
	struct timeval tv;
	size_t len;

	c->fd = fd; /* link_close() closes it from here on */
	if ((c->rd = ps_reader_new(PS_DIR_ANSWER)) == NULL ||
	    (c->rev = event_new(
	         c->base, fd, EV_READ | EV_PERSIST, read_cb, c)) == NULL ||
	    (c->wev = event_new(
	         c->base, fd, EV_WRITE | EV_PERSIST, write_cb, c)) == NULL ||
	    event_add(c->rev, NULL) != 0 ||
	    ps_codec_encode_hello(frame, sizeof(frame), &h, &len) != PS_OK ||
	    send_frame(c, frame, len) != 0) {
		if (c->rev == NULL) {
			close(fd);
			c->fd = -1;
			if (c->wev != NULL)
				event_free(c->wev);
			c->wev = NULL;
		}
		return -1;
	}
	c->state = IPCC_S_HELLO;
	tv.tv_sec = GW_CORE_HELLO_MS / 1000;
	tv.tv_usec = (GW_CORE_HELLO_MS % 1000) * 1000;
	evtimer_add(c->timer, &tv);
	return 0;
}

static void
connect_now(struct ipcc *c)
{
	struct sockaddr_un sun;
	char why[PATH_MAX + 64];
	int fd;

	metrics_core_reconnect();
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(c->path) >= sizeof(sun.sun_path))
		fatalx("core socket path too long: %s", c->path);
	memcpy(sun.sun_path, c->path, strlen(c->path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		link_down(c, why, 0);
		return;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 &&
	    errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "connect %s: %s", c->path,
		    strerror(errno));
		close(fd);
		link_down(c, why, 0);
		return;
	}
	if (start_link(c, fd) != 0)
		link_down(c, "cannot set up the core connection", 0);
}

struct ipcc *
ipcc_new(struct event_base *base, const struct ipcc_config *cfg)
{
	struct ipcc *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	c->cfg = *cfg;
	if (c->cfg.deadline_ms <= 0)
		c->cfg.deadline_ms = GW_CORE_DEADLINE_MS;
	if (c->cfg.max_inflight <= 0 || c->cfg.max_inflight > PS_MAX_INFLIGHT)
		c->cfg.max_inflight = PS_MAX_INFLIGHT;
	if (c->cfg.backoff_min_ms <= 0)
		c->cfg.backoff_min_ms = GW_CORE_BACKOFF_MIN_MS;
	if (c->cfg.backoff_max_ms < c->cfg.backoff_min_ms)
		c->cfg.backoff_max_ms = c->cfg.backoff_min_ms;
	c->cfg.path = NULL;
	c->next_id = 1;
	c->fd = -1;
	TAILQ_INIT(&c->queue);
	if ((cfg->path != NULL && (c->path = strdup(cfg->path)) == NULL) ||
	    (c->timer = evtimer_new(base, timer_cb, c)) == NULL ||
	    (c->flush = event_new(base, -1, 0, write_cb, c)) == NULL ||
	    (c->in = evbuffer_new()) == NULL ||
	    (c->out = evbuffer_new()) == NULL) {
		ipcc_free(c);
		return NULL;
	}
	return c;
}

void
ipcc_free(struct ipcc *c)
{
	struct ipcc_req *r;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nslots; i++)
		req_free(c->slots[i]);
	metrics_core_inflight(-(int)c->nslots);
	while ((r = TAILQ_FIRST(&c->queue)) != NULL) {
		dequeue(c, r);
		req_free(r);
	}
	if (c->flush != NULL)
		link_close(c);
	ps_reader_free(c->rd);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->flush != NULL)
		event_free(c->flush);
	if (c->in != NULL)
		evbuffer_free(c->in);
	if (c->out != NULL)
		evbuffer_free(c->out);
	free(c->path);
	free(c);
}

void
ipcc_start(struct ipcc *c)
{
	if (c->path != NULL && c->state == IPCC_S_IDLE)
		connect_now(c);
}

int
ipcc_adopt_fd(struct ipcc *c, int fd)
{
	if (c->state != IPCC_S_IDLE && c->state != IPCC_S_WAIT) {
		close(fd);
		return -1;
	}
	evtimer_del(c->timer);
	if (evutil_make_socket_nonblocking(fd) != 0 || start_link(c, fd) != 0) {
		link_down(c, "cannot adopt the descriptor", 0);
		return -1;
	}
	return 0;
}

int
ipcc_ready(const struct ipcc *c)
{
	return c->state == IPCC_S_READY;
}

size_t
ipcc_outstanding(const struct ipcc *c)
{
	return c->nslots;
}

const char *
ipcc_default_namespace(const struct ipcc *c)
{
	return c->state == IPCC_S_READY ? c->default_ns : NULL;
}

size_t
ipcc_max_inflight(const struct ipcc *c)
{
	size_t m = (size_t)c->cfg.max_inflight;

	if (c->state != IPCC_S_READY)
		return 0;
	return c->peer_inflight < m ? c->peer_inflight : m;
}

static void
req_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipcc_req *r = arg;
	struct ipcc *c = r->c;
	struct ipcc_answer a;
	struct timeval tv;
	ipcc_cb cb = r->cb;

	(void)fd;
	(void)what;
	r->fires++;
	if (r->queued) {
		/* Never sent: nothing can come back, so it simply ends. */
		dequeue(c, r);
		if (cb != NULL) {
			metrics_core_timeout();
			memset(&a, 0, sizeof(a));
			a.status = IPCC_TIMEOUT;
			a.type = r->type;
			cb(&a, r->arg);
		}
		req_free(r);
		return;
	}
	if (cb != NULL) {
		r->cb = NULL; /* abandoned: its late answer is dropped */
		metrics_core_timeout();
		memset(&a, 0, sizeof(a));
		a.status = IPCC_TIMEOUT;
		a.type = r->type;
		cb(&a, r->arg);
	}
	if (r->fires >= 2) {
		link_down(c,
		    "the core left a request unanswered past twice "
		    "its deadline",
		    0);
		return;
	}
	tv.tv_sec = c->cfg.deadline_ms / 1000;
	tv.tv_usec = (c->cfg.deadline_ms % 1000) * 1000;
	evtimer_add(r->timer, &tv);
}

static uint32_t
fresh_id(struct ipcc *c)
{
	uint32_t id;

	do {
		id = c->next_id++;
		if (c->next_id == 0)
			c->next_id = 1;
	} while (id == 0 || slot_find(c, id) != NULL);
	return id;
}

/* The request frame of `call`, by its type's body shape (ps.c). */
static int
encode_call(const struct ipcc_call *call, uint32_t id, uint8_t *out, size_t cap,
    size_t *len)
{
	const struct ps_type_info *ti = ps_type_info(call->type);
	struct ps_ns_req nsr;
	struct ps_name_req nr;
	struct ps_write_req wr;

	switch (ti != NULL ? ti->req : PS_REQ_NONE) {
	case PS_REQ_EMPTY:
		return ps_codec_encode_empty(out, cap, call->type, id, len);
	case PS_REQ_NS:
		/* "" (or NULL): every namespace the core serves. */
		memset(&nsr, 0, sizeof(nsr));
		if (call->ns != NULL) {
			if (strlen(call->ns) >= sizeof(nsr.namespace))
				return PS_ERR_STR_LEN;
			memcpy(nsr.namespace, call->ns, strlen(call->ns));
		}
		return ps_codec_encode_ns_req(
		    out, cap, call->type, id, &nsr, len);
	case PS_REQ_NAME:
		if (call->ns == NULL || call->name == NULL ||
		    strlen(call->ns) >= sizeof(nr.namespace) ||
		    strlen(call->name) >= sizeof(nr.name))
			return PS_ERR_STR_LEN;
		memset(&nr, 0, sizeof(nr));
		memcpy(nr.namespace, call->ns, strlen(call->ns));
		memcpy(nr.name, call->name, strlen(call->name));
		return ps_codec_encode_name_req(
		    out, cap, call->type, id, &nr, len);
	case PS_REQ_WRITE:
		if (call->ns == NULL || call->name == NULL ||
		    call->identity == NULL ||
		    strlen(call->ns) >= sizeof(wr.namespace) ||
		    strlen(call->name) >= sizeof(wr.name) ||
		    strlen(call->identity) >= sizeof(wr.identity))
			return PS_ERR_STR_LEN;
		memset(&wr, 0, sizeof(wr));
		memcpy(wr.namespace, call->ns, strlen(call->ns));
		memcpy(wr.name, call->name, strlen(call->name));
		memcpy(wr.identity, call->identity, strlen(call->identity));
		wr.replicas = call->replicas;
		if (call->opts != NULL) {
			wr.flags = call->opts->flags;
			wr.expected = call->opts->expected;
			if (call->opts->if_match != NULL) {
				if (strlen(call->opts->if_match) >=
				    sizeof(wr.if_match))
					return PS_ERR_STR_LEN;
				memcpy(wr.if_match, call->opts->if_match,
				    strlen(call->opts->if_match));
			}
		}
		return ps_codec_encode_write_req(
		    out, cap, call->type, id, &wr, len);
	case PS_REQ_NONE:
	case PS_REQ_HELLO: /* the link's own, never a call */
		break;
	}
	return PS_ERR_TYPE;
}

/* A request enters its slot: a fresh id, sent with this loop turn. */
static int
start_req(struct ipcc *c, struct ipcc_req *r, uint8_t *frame, size_t len)
{
	uint32_t id = fresh_id(c);

	/* The id field of the header (PROTOCOL.md §2: offset 8, big-endian). */
	frame[8] = (uint8_t)(id >> 24);
	frame[9] = (uint8_t)(id >> 16);
	frame[10] = (uint8_t)(id >> 8);
	frame[11] = (uint8_t)id;
	if (send_frame(c, frame, len) != 0)
		return -1;
	r->id = id;
	c->slots[c->nslots++] = r;
	metrics_core_inflight(1);
	return 0;
}

/* Slots freed: the queued requests go, in the order they came. */
static void
send_queued(struct ipcc *c)
{
	struct ipcc_req *r;
	struct ipcc_answer a;

	while (c->state == IPCC_S_READY && c->nslots < ipcc_max_inflight(c) &&
	    (r = TAILQ_FIRST(&c->queue)) != NULL) {
		dequeue(c, r);
		if (start_req(c, r, r->frame, r->frame_len) == 0) {
			free(r->frame);
			r->frame = NULL;
			continue;
		}
		memset(&a, 0, sizeof(a));
		a.status = IPCC_INTERNAL;
		a.type = r->type;
		if (r->cb != NULL)
			r->cb(&a, r->arg);
		req_free(r);
	}
}

enum ipcc_status
ipcc_submit(struct ipcc *c, const struct ipcc_call *call, ipcc_cb cb, void *arg,
    struct ipcc_req **out)
{
	uint8_t frame[PS_MAX_REQUEST_FRAME];
	struct ipcc_req *r;
	struct timeval tv;
	size_t len;
	int wait;

	if (out != NULL)
		*out = NULL;
	if (c->state != IPCC_S_READY)
		return IPCC_UNAVAILABLE;
	/* Beyond the core's max_inflight, requests wait their turn (their
	 * deadline runs meanwhile); only a full queue is BUSY. */
	wait = c->nslots >= ipcc_max_inflight(c) || c->nqueued > 0;
	if ((wait && c->nqueued >= GW_CORE_MAX_QUEUED) ||
	    evbuffer_get_length(c->out) > GW_CORE_MAX_OUTPUT)
		return IPCC_BUSY;
	/* Any valid id for now: start_req() writes the real one. */
	if (encode_call(call, 1, frame, sizeof(frame), &len) != PS_OK)
		return IPCC_INTERNAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return IPCC_INTERNAL;
	r->c = c;
	r->type = call->type;
	r->cb = cb;
	r->arg = arg;
	tv.tv_sec = c->cfg.deadline_ms / 1000;
	tv.tv_usec = (c->cfg.deadline_ms % 1000) * 1000;
	if ((r->timer = evtimer_new(c->base, req_timer_cb, r)) == NULL ||
	    evtimer_add(r->timer, &tv) != 0) {
		req_free(r);
		return IPCC_INTERNAL;
	}
	if (wait) {
		if ((r->frame = malloc(len)) == NULL) {
			req_free(r);
			return IPCC_INTERNAL;
		}
		memcpy(r->frame, frame, len);
		r->frame_len = len;
		r->queued = 1;
		TAILQ_INSERT_TAIL(&c->queue, r, qlink);
		c->nqueued++;
	} else if (start_req(c, r, frame, len) != 0) {
		req_free(r);
		return IPCC_INTERNAL;
	}
	if (out != NULL)
		*out = r;
	return IPCC_OK;
}

void
ipcc_cancel(struct ipcc_req *r)
{
	if (r == NULL)
		return;
	if (r->queued) {
		/* Never sent: nothing to wait for. */
		dequeue(r->c, r);
		req_free(r);
		return;
	}
	r->cb = NULL;
}
