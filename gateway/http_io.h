/*
 * http_io.h — the two transports of http_conn: TLS on an accepted socket
 * (the API listener; the handshake, reads and writes of one SSL), and the
 * plain socket (the probe listener).  Both are non-blocking and report
 * "try again when readable/writable" instead of waiting.
 */
#ifndef GW_HTTP_IO_H
#define GW_HTTP_IO_H

#include "gateway/http_conn.h"

struct tlsctx;

/*
 * http_server_config.io_new for TLS: `arg` is the struct tlsctx, whose
 * current context the new connection keeps for its lifetime (a reload
 * does not touch it).  NULL when the SSL cannot be made.
 */
void *http_io_tls_new(void *arg, int fd, const struct http_io_ops **ops);

/* http_server_config.io_new for the plain socket; `arg` is unused. */
void *http_io_plain_new(void *arg, int fd, const struct http_io_ops **ops);

/* The plain transport's operations (the fuzz harness reuses them). */
extern const struct http_io_ops http_io_plain_ops;

#endif /* GW_HTTP_IO_H */
