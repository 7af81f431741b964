/*
 * ipc_server.h — replicad-core's proto-socket server on a Unix socket.
 *
 * The server owns the listening socket and every connection: peer check
 * (SO_PEERCRED against an allow-list, before any byte is read), framing,
 * the HELLO handshake, dispatch by proto-socket's table (how each
 * request's body decodes, and in which connection state it may come),
 * in-flight accounting, output
 * backpressure, timeouts and the SIGTERM drain.  Other core modules only
 * register a handler per request type and answer through a request handle.
 *
 * Request handles (struct ipcs_req): a handler receives one already
 * decoded and validated, and owns it until it calls exactly one of the
 * ipcs_answer_* functions or ipcs_req_drop(), which release it.  It may do
 * so later, from another callback.  If the client disconnects meanwhile the
 * handle stays valid but detached: the optional cancel callback runs once,
 * and the eventual answer is dropped (return value 1).  Handles never
 * outlive their answer; a handle must not be used after it.
 */
#ifndef CORE_IPC_SERVER_H
#define CORE_IPC_SERVER_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

struct event_base;
struct evbuffer;
struct ipcs;
struct ipcs_req;

struct ipcs_config {
	const char *path;  /* socket path; NULL: no listener (tests) */
	const uid_t *uids; /* peers allowed (SO_PEERCRED uid) */
	size_t nuids;
	unsigned max_clients;
	/* Of max_clients, kept for peers with the core's own euid. */
	unsigned own_uid_slots;
	unsigned max_inflight; /* 1..PS_MAX_INFLIGHT, sent in HELLO */
	size_t max_output;     /* stop reading a client above this */
	size_t output_low;     /* resume below this; streams fill to it */
	unsigned handshake_timeout_ms;
	unsigned idle_timeout_ms;
	unsigned write_timeout_ms;
	unsigned drain_timeout_ms;
	/* The core's default namespace, sent in HELLO's answer (version 3):
	 * what the gateway's routes without a namespace mean.  Required. */
	const char *namespace;
};

/* Counters for METRICS; read-only for callers. */
struct ipcs_stats {
	uint64_t clients;              /* connected now */
	uint64_t clients_other;        /* ...of them not the core's uid */
	uint64_t accepted;             /* allowed peers, since start */
	uint64_t refused_uid;          /* peer uid not allowed */
	uint64_t refused_capacity;     /* over max_clients */
	uint64_t refused_fds;          /* short of descriptors */
	uint64_t frames[PS_T_MAX + 1]; /* requests received, by type */
	uint64_t errors[PS_E_MAX + 1]; /* error answers sent, by code */
	uint64_t protocol_errors;      /* connections closed for a violation */
	uint64_t busy;                 /* BUSY answers (also in errors[]) */
	uint64_t timeouts;             /* handshake, idle or write timeouts */
	uint64_t dropped_answers;      /* late answers for a gone client */
};

/* Fills `cfg` with the limits of core_limits.h and no path or uids. */
void ipcs_config_init(struct ipcs_config *cfg);

/*
 * Creates the server; with cfg->path, also the socket: refuses a path that
 * exists and is not a socket or that a live server answers on, unlinks a
 * stale socket, binds under umask 0177, chmods 0660 and listens.  Returns
 * NULL with errno set and a logged reason.  `cfg` is copied (uids too).
 */
struct ipcs *ipcs_new(struct event_base *base, const struct ipcs_config *cfg);
/* Closes every connection (detaching requests) and removes the socket. */
void ipcs_free(struct ipcs *srv);

/*
 * Adopts a connected descriptor as if accepted: checks the peer's uid and
 * the client cap first.  Takes `fd`, also on error.  0, or -1 when the peer
 * was refused or resources ran out.
 */
int ipcs_add_client(struct ipcs *srv, int fd);

typedef void (*ipcs_handler_cb)(struct ipcs_req *req, void *arg);

/*
 * Registers the handler for a request type (not HELLO, which the server
 * answers itself).  A request type without a handler is answered
 * UNSUPPORTED.  -1 for a type that cannot have one.
 */
int ipcs_set_handler(
    struct ipcs *srv, uint16_t type, ipcs_handler_cb cb, void *arg);

/*
 * SIGTERM: stop accepting and remove the socket; answer new requests
 * UNAVAILABLE; let in-flight answers complete; then send each client
 * GOAWAY(UNAVAILABLE, "shutting down") and close it.  Connections still
 * busy after cfg->drain_timeout_ms are closed anyway.  `done` runs once,
 * from the event loop, when no connection is left.  A second call closes
 * everything at once.
 */
void ipcs_shutdown(struct ipcs *srv, void (*done)(void *), void *arg);

const struct ipcs_stats *ipcs_stats(const struct ipcs *srv);
/* Appends the server's counters as Prometheus text.  0 or -1. */
int ipcs_stats_prometheus(const struct ipcs *srv, struct evbuffer *out);

/* Request handle accessors. */
uint16_t ipcs_req_type(const struct ipcs_req *req);
uint32_t ipcs_req_id(const struct ipcs_req *req);
/* 1 while the client that sent it is connected. */
int ipcs_req_alive(const struct ipcs_req *req);
/* Peer credentials of the connection (kept after it closes). */
uid_t ipcs_req_uid(const struct ipcs_req *req);
pid_t ipcs_req_pid(const struct ipcs_req *req);
/* LIST / PIN_LIST body ("" namespace: every one served), else NULL. */
const struct ps_ns_req *ipcs_req_ns(const struct ipcs_req *req);
/* GET / PIN_GET body, else NULL. */
const struct ps_name_req *ipcs_req_name(const struct ipcs_req *req);
/* SCALE / PIN_PUT / PIN_DELETE body, else NULL. */
const struct ps_write_req *ipcs_req_write(const struct ipcs_req *req);
/* Called once if the client goes before the answer; the handler still
 * owns `req` and must release it with an answer or ipcs_req_drop(). */
void ipcs_req_set_cancel(
    struct ipcs_req *req, void (*cancel)(struct ipcs_req *, void *), void *arg);

/*
 * Answers.  Each releases `req`, also on error.  0 = queued for the
 * client, 1 = dropped because the client is gone, -1 = the answer did not
 * encode (a bug: logged, and the client gets an INTERNAL error instead).
 */
int ipcs_answer_error(struct ipcs_req *req, uint16_t code, uint32_t retry_after,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * A refused write that says why in fields as well as words: `current`
 * (PS_E_EXPECTED: the count it has) and `ref` (NULL, or PS_E_STALE: the
 * resourceVersion it has, PS_E_AUTOSCALED: the HPA's name).
 */
int ipcs_answer_refusal(struct ipcs_req *req, uint16_t code, uint32_t current,
    const char *ref, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int ipcs_answer_health(struct ipcs_req *req, const struct ps_health *m);
int ipcs_answer_deployment(struct ipcs_req *req, const struct ps_deployment *m);
int ipcs_answer_scale(struct ipcs_req *req, const struct ps_scale_ok *m);
int ipcs_answer_pin(struct ipcs_req *req, const struct ps_pin *m);
void ipcs_req_drop(struct ipcs_req *req);

/*
 * Multi-frame answers (LIST, PIN_LIST, METRICS), pulled by the server: it
 * calls `next` for more only while the client's output queue is below
 * cfg->output_low, so the whole answer is never held at once.  `next`
 * returns 1 with an item (or, for text, the count of bytes written into
 * `buf`, at most `cap`), 0 at the end, -1 on failure (the client then gets
 * an INTERNAL error ending the answer).  `done` runs exactly once when the
 * answer ends or is abandoned (client gone), to free `arg`.  The server
 * takes `req`; `done` runs even if these return -1.
 */
typedef int (*ipcs_next_name_cb)(void *arg,
    char namespace[PS_MAX_NAMESPACE + 1], char name[PS_MAX_NAME + 1]);
typedef int (*ipcs_next_pin_cb)(void *arg, struct ps_pin *pin);
typedef int (*ipcs_next_text_cb)(void *arg, char *buf, size_t cap);

int ipcs_answer_names(struct ipcs_req *req, ipcs_next_name_cb next,
    void (*done)(void *), void *arg);
int ipcs_answer_pins(struct ipcs_req *req, ipcs_next_pin_cb next,
    void (*done)(void *), void *arg);
int ipcs_answer_text(struct ipcs_req *req, ipcs_next_text_cb next,
    void (*done)(void *), void *arg);

#endif /* CORE_IPC_SERVER_H */
