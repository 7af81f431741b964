/*
 * ipc_accept.c — accepting clients of the core's socket server: the
 * descriptor reserve (accept pauses when short of descriptors), the
 * peer's credentials (SO_PEERCRED, checked against the allowed uids before
 * a byte is read), the client slots (max_clients, of which own_uid_slots
 * are kept for the core's own uid), the GOAWAY to a client over the cap,
 * and a new connection's setup.
 *
 * Not here: the listening socket itself (ipc_sock.c), what the connection
 * then does (ipc_conn.c).
 */
#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"
#include "core/core_limits.h"
#include "core/ipc/ipc_server.h"
#include "core/ipc/ipc_server_int.h"
#include "core/log.h"

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

void
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

void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int socklen, void *arg)
{
	(void)lev;
	(void)sa;
	(void)socklen;
	(void)ipcs_add_client(arg, fd);
}

void
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
