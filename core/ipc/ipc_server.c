/*
 * ipc_server.c — the core's proto-socket server (prefix ipcs_): the server
 * object.  Creating and freeing it, the handler registry, the SIGTERM
 * drain and its deadline, and the counters (ipcs_stats, METRICS text).
 *
 * One listening Unix socket; per connection a bufferevent, a ps_reader fed
 * from its input evbuffer, a state (HELLO -> READY -> DRAINING -> CLOSING)
 * and a list of requests in flight.  What a peer may send, and how each
 * body decodes, is proto-socket's table (ps.c), with the states of
 * ipc_conn.c's allowed_states(); what each request does is a handler that
 * other modules register (core/serve.c's table).  Every byte from the peer is
 * untrusted: the reader validates headers before bodies, the codec validates
 * every field, and any violation closes that connection after a GOAWAY — the
 * core never exits on input.
 *
 * The rest of the server, one job a file (shared structures in the private
 * ipc_server_int.h): the socket file (ipc_sock.c), accepting and peer
 * checks (ipc_accept.c), a connection and dispatch (ipc_conn.c), request
 * handles and answers (ipc_answer.c).
 *
 * Not here: what requests mean (handlers), the Kubernetes API, signal
 * handling (main.c calls ipcs_shutdown).  The process must ignore SIGPIPE.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"
#include "core/core_limits.h"
#include "core/ipc/ipc_server.h"
#include "core/ipc/ipc_server_int.h"
#include "core/log.h"

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

void
srv_check_done(struct ipcs *srv)
{
	if (srv->shutting_down && !srv->freeing && TAILQ_EMPTY(&srv->conns))
		event_active(srv->done_ev, EV_TIMEOUT, 0);
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
	    cfg->output_low == 0 || cfg->output_low > cfg->max_output ||
	    cfg->namespace == NULL ||
	    ps_valid_namespace(cfg->namespace, strlen(cfg->namespace)) !=
	        PS_OK) {
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
	snprintf(srv->namespace, sizeof(srv->namespace), "%s", cfg->namespace);
	srv->cfg.namespace = srv->namespace;
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
	const struct ps_type_info *ti = ps_type_info(type);

	/* A request a requester may send, other than the server's HELLO. */
	if (ti == NULL || ti->req == PS_REQ_NONE || ti->req == PS_REQ_HELLO) {
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
