/*
 * ipc_server_int.h — private to core/ipc_*.c: the server's structures and
 * the functions its files call across one another.  Nothing outside the
 * socket server includes it; the rest of the core sees core/ipc/ipc_server.h.
 *
 * The server is five files, one job each:
 *   ipc_server.c  the server object: create, free, handlers, drain, counters
 *   ipc_sock.c    the socket file: its safety, bind and listen, removal
 *   ipc_accept.c  accepting: peer credentials, allowed uids, client slots
 *   ipc_conn.c    one connection: its states, input, dispatch, timers
 *   ipc_answer.c  request handles and their answers, one frame or streamed
 */
#ifndef CORE_IPC_SERVER_INT_H
#define CORE_IPC_SERVER_INT_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/util.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"
#include "core/core_limits.h"
#include "core/ipc/ipc_server.h"
#include "core/log.h"

struct bufferevent;
struct event;
struct evconnlistener;
struct sockaddr;

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

enum conn_state {
	ST_HELLO,    /* connected, waiting for HELLO */
	ST_READY,    /* HELLO done: requests allowed */
	ST_DRAINING, /* shutting down: in-flight answers only */
	ST_CLOSING   /* final frame queued; freed once flushed */
};
#define ST(s) (1u << (s))

enum stream_kind { STREAM_NONE, STREAM_NAMES, STREAM_PINS, STREAM_TEXT };

struct stream {
	enum stream_kind kind;
	ipcs_next_name_cb next_name;
	ipcs_next_pin_cb next_pin;
	ipcs_next_text_cb next_text;
	void (*done)(void *);
	void *arg;
	int have_item;      /* item pulled but not yet in a frame */
	struct ps_pin item; /* names use item.namespace and .name only */
	size_t total;       /* items or bytes produced so far */
};

union req_body {
	struct ps_ns_req ns;
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
	enum ps_req_shape shape; /* of `body`, from ps.c's row */
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
	char namespace[PS_MAX_NAMESPACE + 1]; /* cfg.namespace points here */
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

static inline struct timeval
ms_tv(unsigned ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

/* ipc_server.c: the server object. */
void srv_check_done(struct ipcs *);

/* ipc_sock.c: the socket file. */
int sock_listen(struct ipcs *);
void sock_remove(struct ipcs *);

/* ipc_accept.c: accepting clients. */
void accept_cb(
    struct evconnlistener *, evutil_socket_t, struct sockaddr *, int, void *);
void accept_error_cb(struct evconnlistener *, void *);
void accept_resume_cb(evutil_socket_t, short, void *);

/* ipc_conn.c: one connection. */
size_t conn_outlen(const struct conn *);
int conn_send(struct conn *, const uint8_t *, size_t);
int conn_send_errorv(struct conn *, uint16_t, uint32_t, uint16_t, uint32_t,
    uint32_t current, const char *ref, const char *, va_list)
    __attribute__((format(printf, 8, 0)));
int conn_send_error(struct conn *, uint16_t, uint32_t, uint16_t, uint32_t,
    const char *, ...) __attribute__((format(printf, 6, 7)));
void conn_arm(struct conn *, unsigned);
void conn_arm_idle(struct conn *);
void conn_closing(struct conn *);
void conn_goaway(struct conn *, uint16_t, uint32_t, const char *);
void conn_free(struct conn *);
void conn_read_cb(struct bufferevent *, void *);
void conn_write_cb(struct bufferevent *, void *);
void conn_event_cb(struct bufferevent *, short, void *);
void conn_timer_cb(evutil_socket_t, short, void *);

/* ipc_answer.c: answers. */
void conn_pump(struct conn *);

#endif /* CORE_IPC_SERVER_INT_H */
