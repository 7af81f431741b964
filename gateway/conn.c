/*
 * conn.c — TLS connection setup and per-connection limits (see conn.h).
 *
 * Why bevcb must never return NULL: evhttp 2.1 would then make a plain
 * socket bufferevent.  We cannot prevent that on an allocation failure,
 * so api.c refuses any request on a connection without a verified SSL.
 */
#include <sys/socket.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "gateway/conn.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
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

struct bufferevent *
conn_bevcb(struct event_base *base, void *arg)
{
	struct conn_server *s = arg;
	struct conn *c = NULL;
	SSL *ssl = NULL;
	struct bufferevent *bev;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (ssl = SSL_new(tlsctx_get(s->tls))) == NULL ||
	    (c->deadline = evtimer_new(base, deadline_cb, c)) == NULL) {
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
}

void
conn_request_begin(struct conn *c, struct evhttp_request *req)
{
	c->busy++;
	evtimer_del(c->deadline);
	evhttp_request_set_on_complete_cb(req, request_done_cb, c);
}
