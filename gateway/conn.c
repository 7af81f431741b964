/*
 * conn.c — TLS connection setup and per-connection limits (see conn.h).
 *
 * Why bevcb must never return NULL: evhttp 2.1 would then make a plain
 * socket bufferevent.  We cannot prevent that on an allocation failure,
 * so api.c refuses any request on a connection without a verified SSL.
 *
 * The request guard.  Every byte the client sends passes http_guard (an
 * evbuffer callback on the TLS bufferevent's input, which runs when the
 * bytes are added, before evhttp's read callback).  When it refuses a
 * request:
 *  1. the refused bytes (and anything after them) are removed from the
 *     input, so evhttp never sees them; bytes of earlier, acceptable
 *     requests stay and are served as usual;
 *  2. once every earlier request has been answered, the connection is
 *     taken over from evhttp for one write: evhttp's callbacks are saved,
 *     ours write the JSON error (reply_raw_error) with Connection: close;
 *  3. when it has left, evhttp's callbacks are restored and the socket is
 *     shut down (after a TLS close_notify): evhttp reads EOF and frees the
 *     connection as it does for any client that goes away.
 * Step 2 runs from an event of its own, never inside evhttp's or the
 * bufferevent's callbacks, and never while evhttp is writing: evhttp
 * keeps a pointer to its last "write done" step and would run it again
 * for any write of ours that finished under its callbacks.
 */
#include <sys/socket.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include <openssl/err.h>

#include "gateway/authz.h"
#include "gateway/conn.h"
#include "gateway/http_guard.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/reply.h"
#include "gateway/tlsctx.h"

struct conn_server {
	struct event_base *base;
	struct tlsctx *tls;
	struct evconnlistener *listener;
	int max_connections;
	int request_deadline;
	int count;
	int paused;
	int draining;
	int released; /* conn_server_free() was called; last conn frees */
};

struct conn {
	struct conn_server *srv;
	struct bufferevent *bev;
	SSL *ssl;
	struct event *deadline;
	int busy;
	char peer[64];

	/* The request guard (see the top of this file). */
	struct http_guard guard;
	uint64_t answered;       /* requests evhttp has finished */
	int in_guard;            /* our own edits of the input buffer */
	int refusing;            /* the guard refused; answer pending */
	int taken_over;          /* our callbacks are on the bufferevent */
	struct event *refuse_ev; /* runs step 2 outside any callback */
	bufferevent_data_cb saved_read, saved_write;
	bufferevent_event_cb saved_event;
	void *saved_arg;
};

static int conn_ex_idx = -1;

static void
deadline_arm(struct conn *c)
{
	struct timeval tv = {c->srv->request_deadline, 0};

	if (c->deadline != NULL && c->srv->request_deadline > 0)
		evtimer_add(c->deadline, &tv);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	evutil_socket_t s;

	(void)fd;
	(void)what;
	if (c->busy)
		return;
	s = bufferevent_getfd(c->bev);
	log_info("closing connection from %s: no complete request within "
	         "%d s",
	    c->peer, c->srv->request_deadline);
	/* evhttp sees EOF and frees the connection (and so this struct). */
	if (s >= 0)
		shutdown(s, SHUT_RDWR);
}

static void
resume_if_room(struct conn_server *s)
{
	if (s->paused && !s->draining && s->count < s->max_connections &&
	    s->listener != NULL) {
		evconnlistener_enable(s->listener);
		s->paused = 0;
	}
}

/* OpenSSL calls this from SSL_free for every SSL, set or not. */
static void
conn_ex_free(
    void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct conn *c = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (c == NULL)
		return;
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->refuse_ev != NULL)
		event_free(c->refuse_ev);
	c->srv->count--;
	metrics_connections(-1);
	resume_if_room(c->srv);
	log_debug("connection from %s closed", c->peer);
	/* libevent may finish freeing connections in event_base_free(). */
	if (c->srv->released && c->srv->count == 0)
		free(c->srv);
	free(c);
}

struct conn_server *
conn_server_new(struct event_base *base, struct tlsctx *tls,
    int max_connections, int request_deadline)
{
	struct conn_server *s;

	if (conn_ex_idx < 0) {
		conn_ex_idx =
		    SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_ex_free);
		if (conn_ex_idx < 0)
			return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->base = base;
	s->tls = tls;
	s->max_connections = max_connections;
	s->request_deadline = request_deadline;
	return s;
}

void
conn_server_free(struct conn_server *s)
{
	if (s == NULL)
		return;
	s->draining = 1;
	s->listener = NULL;
	s->released = 1;
	if (s->count == 0)
		free(s);
}

void
conn_server_set_listener(struct conn_server *s, struct evconnlistener *l)
{
	s->listener = l;
}

void
conn_server_drain(struct conn_server *s)
{
	s->draining = 1;
	if (s->listener != NULL)
		evconnlistener_disable(s->listener);
}

int
conn_server_count(const struct conn_server *s)
{
	return s->count;
}

/* evhttp set the descriptor: note the peer for logs. */
static void
note_peer(struct conn *c, evutil_socket_t fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[48], port[8];

	snprintf(c->peer, sizeof(c->peer), "-");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port,
	        sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	snprintf(c->peer, sizeof(c->peer), "%s:%s", host, port);
}

/* The guard's limits: below evhttp's own (main.c), so it refuses first. */
static const struct http_guard_limits guard_limits = {
    .max_head = GW_MAX_HEADERS_SIZE,
    .max_fields = GW_MAX_HEADERS,
    .max_target = GW_MAX_URI,
    .max_body = GW_MAX_BODY_READ,
};

/* Step 3: hand the connection back to evhttp, and end it. */
static void
refuse_finish(struct conn *c)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	bufferevent_setcb(c->bev, c->saved_read, c->saved_write, c->saved_event,
	    c->saved_arg);
	c->taken_over = 0;
	/* A polite close_notify; the answer said Connection: close. */
	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
	/* evhttp reads EOF and frees the connection (and so this struct). */
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	bufferevent_enable(c->bev, EV_READ);
}

static void
refuse_written_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		refuse_finish(c);
}

static void
refuse_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what; /* error, EOF or timeout: the answer cannot leave */
	refuse_finish(arg);
}

/* Step 2, from its own event: write the error if nothing is owed. */
static void
refuse_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct authz_id *id;
	struct reply_raw r;
	X509 *cert;
	char method[16], path[GW_LOG_PATH_MAX + 1];
	const char *m = http_guard_method(&c->guard);
	const char *t = http_guard_target(&c->guard);

	(void)fd;
	(void)what;
	/* Not refused (the "lost" close in guard_cb has nothing to say), or
	 * an earlier request is still being answered. */
	if (!c->refusing || c->taken_over || !http_guard_rejected(&c->guard) ||
	    c->answered < http_guard_completed(&c->guard))
		return;
	log_sanitize(method, sizeof(method), m, strlen(m));
	log_sanitize(path, sizeof(path), t, strlen(t));
	memset(&r, 0, sizeof(r));
	r.tls = 1;
	r.message = c->guard.err.message;
	r.log.listener = "api";
	r.log.status = c->guard.err.status;
	r.log.reason = c->guard.err.reason;
	r.log.peer = c->peer;
	r.log.identity = "-";
	r.log.method = method;
	r.log.path = path;
	/* The identity for the access log, when the handshake gave one. */
	id = calloc(1, sizeof(*id));
	cert = SSL_get0_peer_certificate(c->ssl);
	if (id != NULL && cert != NULL && authz_id_from_cert(cert, id) == 0)
		r.log.identity = id->identity;

	bufferevent_getcb(c->bev, &c->saved_read, &c->saved_write,
	    &c->saved_event, &c->saved_arg);
	bufferevent_setcb(c->bev, NULL, refuse_written_cb, refuse_event_cb, c);
	c->taken_over = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (reply_raw_error(bufferevent_get_output(c->bev), &r) != 0 ||
	    bufferevent_enable(c->bev, EV_WRITE) != 0)
		refuse_finish(c);
	else if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		refuse_finish(c);
	free(id);
}

/*
 * Step 1: the input buffer's callback, run as bytes are added and before
 * evhttp reads them.  Feeds the new bytes to the guard; on a refusal
 * keeps only what earlier requests still need.
 */
static void
guard_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;
	struct evbuffer_ptr pos;
	struct evbuffer *keep;
	unsigned char chunk[4096];
	size_t len, done = 0, k;
	ev_ssize_t got;

	if (info->n_added == 0 || c->in_guard)
		return;
	len = evbuffer_get_length(buf);
	if (c->refusing) {
		/* The connection is ending: what comes now is not read. */
		c->in_guard = 1;
		evbuffer_drain(buf, len);
		c->in_guard = 0;
		return;
	}
	if (info->n_added > len ||
	    evbuffer_ptr_set(
	        buf, &pos, len - info->n_added, EVBUFFER_PTR_SET) != 0)
		goto lost;
	while (done < info->n_added && !http_guard_rejected(&c->guard)) {
		got = evbuffer_copyout_from(buf, &pos, chunk,
		    info->n_added - done < sizeof(chunk) ? info->n_added - done
		                                         : sizeof(chunk));
		if (got <= 0 ||
		    evbuffer_ptr_set(
		        buf, &pos, (size_t)got, EVBUFFER_PTR_ADD) != 0)
			goto lost;
		(void)http_guard_feed(&c->guard, chunk, (size_t)got);
		done += (size_t)got;
	}
	if (!http_guard_rejected(&c->guard))
		return;
	/* The rest of this add sits in the buffer behind the refusal. */
	http_guard_skip(&c->guard, info->n_added - done);
	k = http_guard_keep(&c->guard, len);
	log_debug("refusing a request from %s: %d %s", c->peer,
	    c->guard.err.status, c->guard.err.message);
	c->refusing = 1;
	c->in_guard = 1;
	keep = k > 0 ? evbuffer_new() : NULL;
	if (keep != NULL && evbuffer_remove_buffer(buf, keep, k) == (int)k) {
		evbuffer_drain(buf, evbuffer_get_length(buf));
		evbuffer_add_buffer(buf, keep);
	} else
		evbuffer_drain(buf, evbuffer_get_length(buf));
	if (keep != NULL)
		evbuffer_free(keep);
	c->in_guard = 0;
	event_active(c->refuse_ev, 0, 0);
	return;
lost:
	/* Cannot happen with a sane libevent; never serve unchecked bytes. */
	log_warnx("cannot read a connection's input; closing it");
	c->refusing = 1;
	c->in_guard = 1;
	evbuffer_drain(buf, evbuffer_get_length(buf));
	c->in_guard = 0;
	if (bufferevent_getfd(c->bev) >= 0)
		shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
}

struct bufferevent *
conn_bevcb(struct event_base *base, void *arg)
{
	struct conn_server *s = arg;
	struct conn *c = NULL;
	SSL *ssl = NULL;
	struct bufferevent *bev;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (ssl = SSL_new(tlsctx_get(s->tls))) == NULL ||
	    (c->deadline = evtimer_new(base, deadline_cb, c)) == NULL ||
	    (c->refuse_ev = event_new(base, -1, 0, refuse_cb, c)) == NULL) {
		log_ssl("cannot set up a TLS connection");
		goto fail;
	}
	c->srv = s;
	c->ssl = ssl;
	snprintf(c->peer, sizeof(c->peer), "-");
	if (SSL_set_ex_data(ssl, conn_ex_idx, c) != 1) {
		log_ssl("SSL_set_ex_data");
		goto fail;
	}
	/* From here SSL_free frees `c` (and counts it closed). */
	s->count++;
	metrics_connections(1);
	bev = bufferevent_openssl_socket_new(
	    base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		log_warnx("cannot create a TLS bufferevent");
		SSL_free(ssl);
		return NULL; /* plain fallback: api.c refuses it */
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	c->bev = bev;
	http_guard_init(&c->guard, &guard_limits);
	if (evbuffer_add_cb(bufferevent_get_input(bev), guard_cb, c) == NULL) {
		/* Without the guard no request may be served. */
		log_warnx("cannot watch a connection's input");
		bufferevent_free(bev);
		return NULL;
	}
	deadline_arm(c);
	if (s->count >= s->max_connections && !s->paused &&
	    s->listener != NULL) {
		evconnlistener_disable(s->listener);
		s->paused = 1;
		metrics_connection_refused();
		log_info("max connections (%d) reached; pausing accept",
		    s->max_connections);
	}
	return bev;
fail:
	if (c != NULL && c->deadline != NULL)
		event_free(c->deadline);
	if (c != NULL && c->refuse_ev != NULL)
		event_free(c->refuse_ev);
	free(c);
	SSL_free(ssl);
	return NULL;
}

struct conn *
conn_of_request(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	struct conn *c;
	SSL *ssl;

	if (evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    (ssl = bufferevent_openssl_get_ssl(bev)) == NULL ||
	    (c = SSL_get_ex_data(ssl, conn_ex_idx)) == NULL)
		return NULL;
	if (strcmp(c->peer, "-") == 0)
		note_peer(c, bufferevent_getfd(bev));
	return c;
}

SSL *
conn_ssl(const struct conn *c)
{
	return c->ssl;
}

const char *
conn_peer(const struct conn *c)
{
	return c->peer;
}

static void
request_done_cb(struct evhttp_request *req, void *arg)
{
	struct conn *c = arg;

	(void)req;
	if (c->busy > 0)
		c->busy--;
	if (c->busy == 0)
		deadline_arm(c);
	c->answered++;
	/* evhttp is still inside its "write done" step: go on after it. */
	if (c->refusing && !c->taken_over)
		event_active(c->refuse_ev, 0, 0);
}

void
conn_request_begin(struct conn *c, struct evhttp_request *req)
{
	c->busy++;
	evtimer_del(c->deadline);
	evhttp_request_set_on_complete_cb(req, request_done_cb, c);
}
