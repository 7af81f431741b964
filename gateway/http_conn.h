/*
 * http_conn.h — the gateway's HTTP/1.1 server connections: one owner for
 * every byte a client sends and every byte answered, from accept to close.
 *
 * A connection reads through its transport (TLS, or plain for the probe
 * listener), frames requests with http_parse, hands each complete request
 * to the handler, and writes the answers in request order (pipelining),
 * head and body in one write.  It enforces the per-connection limits: a
 * whole-request deadline (slowloris), an idle timeout, a cap on requests
 * queued per connection, and Connection: close / HTTP/1.0 semantics.
 *
 * Lifetime, the one rule that keeps it memory-safe:
 *  - the connection owns its requests (struct http_req) until their
 *    answers have been written into its output; a handler may keep a
 *    request only between serve() and its one http_respond(), and must
 *    set an abort callback if it answers later;
 *  - a connection is freed in exactly one place, conn_free(), run from
 *    the connection's own timer event after conn_close() marked it dead
 *    (never inside a handler, a transport call or another module's
 *    callback); it calls the abort callback of every request not yet
 *    answered, then frees the requests, the transport and the socket.
 *    http_server_free() is the other caller, at exit, when no event runs.
 */
#ifndef GW_HTTP_CONN_H
#define GW_HTTP_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <sys/uio.h>

#include <openssl/x509.h>

#include "gateway/http_parse.h"
#include "proto-socket/ps.h"

struct event_base;
struct http_conn;
struct http_req;
struct http_server;

/* Transport results besides a byte count (>= 0; 0 from read is EOF). */
#define HIO_AGAIN_READ  (-1L) /* retry when the socket is readable */
#define HIO_AGAIN_WRITE (-2L) /* retry when the socket is writable */
#define HIO_ERR         (-3L) /* the connection is unusable */

/* Who is on the other end; filled by the transport, then the handler. */
struct http_peer {
	char addr[64]; /* "ip:port", for logs */
	X509 *cert;    /* verified client certificate (TLS), borrowed */
	STACK_OF(X509) * chain; /* what the client sent beside it, borrowed */
	int identified;         /* the handler has set identity and perms */
	unsigned perms;         /* handler-defined */
	char identity[PS_MAX_IDENTITY + 1];
};

/* How a connection's bytes move: TLS over the socket, or the socket. */
struct http_io_ops {
	/* 0 when established, or HIO_AGAIN_* / HIO_ERR. */
	long (*handshake)(void *ctx);
	long (*read)(void *ctx, void *buf, size_t n);
	long (*write)(void *ctx, const void *buf, size_t n);
	/* Whether read() has bytes without the socket being readable. */
	int (*pending)(void *ctx);
	/* Best-effort orderly close of the transport (TLS close_notify). */
	void (*close_notify)(void *ctx);
	/* After the handshake: fill what the transport knows of the peer. */
	void (*peer)(void *ctx, struct http_peer *p);
	void (*free)(void *ctx);
};

struct http_handler {
	/* A complete request; answer it now or later with http_respond(). */
	void (*serve)(void *arg, struct http_req *r);
	/* A request http_parse refused; answer it (the connection closes). */
	void (*refuse)(
	    void *arg, struct http_req *r, const struct http_parse_error *e);
	void *arg;
};

struct http_server_config {
	const struct http_handler *handler;
	/* Makes the transport of an accepted socket (owns `fd` on success);
	 * NULL on failure (the socket is closed by the caller). */
	void *(*io_new)(void *arg, int fd, const struct http_io_ops **ops);
	void *io_arg;
	struct http_parse_limits limits;
	/* Header lines on every answer, each ending in CRLF. */
	const char *always_headers;
	int max_connections;
	int handshake_timeout_s; /* the TLS handshake must be done in this
	                          * (0: only the request deadline applies) */
	int request_deadline_s;  /* a whole request must arrive in this */
	int idle_timeout_s;      /* read/write inactivity */
	int count_metrics;       /* report open connections (the API) */
};

struct http_server *http_server_new(
    struct event_base *base, const struct http_server_config *cfg);
/* Listens on host:port (numeric or name); 0, or -1 with errno. */
int http_server_listen(struct http_server *s, const char *host, int port);
/* Closes every connection (calling their requests' abort callbacks),
 * then the listener. */
void http_server_free(struct http_server *s);
/*
 * At max_connections the listener makes room first: the oldest connection
 * that has not completed a request (a handshake that never ends, an idle
 * TCP connection) is closed for the new one, so unauthenticated clients
 * cannot hold every slot; only when every connection has served a request
 * does accepting pause (new clients wait in the listen backlog).
 */

/* Stop accepting; idle connections close now, the others after their
 * answers, which say Connection: close. */
void http_server_drain(struct http_server *s);
int http_server_connections(const struct http_server *s);
/*
 * Closes every open connection whose verified client certificate
 * `trusted` no longer accepts (after a reload of the CA or the CRL);
 * `*why` is logged.  Returns how many were closed.
 */
int http_server_recheck(struct http_server *s,
    int (*trusted)(void *arg, const struct http_peer *p, const char **why),
    void *arg);
/* Requests being served (handed to the handler, not yet answered). */
int http_server_inflight(const struct http_server *s);

/*
 * Adopts a connected socket with a transport (what accept does; the fuzz
 * harness calls it with a socketpair).  Takes `fd` and `io` (freed on
 * failure too); NULL on failure.
 */
struct http_conn *http_conn_new(
    struct http_server *s, int fd, const struct http_io_ops *ops, void *io);

/* The request: read-only views, valid until http_respond(). */
const char *http_req_method(const struct http_req *r);
/* The request target's path (before '?'), raw; its length. */
const char *http_req_path(const struct http_req *r, size_t *len);
/* HEAD: answered as GET, without the body. */
int http_req_is_head(const struct http_req *r);
const struct http_parse_req *http_req_head(const struct http_req *r);
const unsigned char *http_req_body(const struct http_req *r, size_t *len);
/* The connection's peer; the handler may set identity and perms once. */
struct http_peer *http_req_peer(struct http_req *r);
/* When the request was complete (µs, monotonic), for latencies. */
int64_t http_req_start_us(const struct http_req *r);
/* Called if the connection goes away before the answer; it must not
 * answer or touch `r`. */
void http_req_on_abort(struct http_req *r, void (*cb)(void *), void *arg);
/* The answer will end the connection (e.g. an unauthenticated peer). */
void http_req_close_after(struct http_req *r);
/* The answer will say Connection: close (draining, or close_after). */
int http_req_closing(const struct http_req *r);

/* One extra header of an answer. */
struct http_header {
	const char *name;
	const char *value;
};

/*
 * Answers `r` (once): status line, Date, Content-Type (when `ctype`),
 * Content-Length, the server's always_headers, `extra` headers, the
 * Connection header when needed, then the body, the `nbody` pieces of
 * `body` in order — omitted (its length still announced) for HEAD, and
 * never sent with 1xx, 204 or 304.  `r` belongs to the connection again
 * afterwards.  Returns the body bytes announced.
 */
size_t http_respond(struct http_req *r, int status, const char *ctype,
    const struct http_header *extra, size_t nextra, const struct iovec *body,
    size_t nbody);

/* The clock of http_req_start_us(). */
int64_t http_req_now_us(void);

/* The reason phrase we send for `status`. */
const char *http_status_phrase(int status);

#endif /* GW_HTTP_CONN_H */
