/*
 * ctl_client.h — a small blocking proto-socket requester (prefix ctlc_)
 * for replicad-ctl and tests: connect, HELLO, send a request, read answer
 * frames with a deadline.  One request at a time; no reconnects.
 *
 * Returns follow proto-socket: PS_OK, or a negative PS_ERR_* (PS_ERR_SYS
 * with errno; ETIMEDOUT when the deadline passed).
 */
#ifndef CORE_CTL_CLIENT_H
#define CORE_CTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

struct ctlc;

/* Connects to `path`; every later call waits at most `timeout_ms`. */
struct ctlc *ctlc_connect(const char *path, int timeout_ms);
/* The uid of the process serving the socket (SO_PEERCRED); 0 or -1. */
int ctlc_server_uid(const struct ctlc *c, uid_t *uid);
void ctlc_close(struct ctlc *c);

/* ctlc_hello() result: the core answered an error frame or a GOAWAY. */
#define CTLC_ERROR_ANSWER 1

/*
 * HELLO for version 1.  PS_OK with `ok` filled; CTLC_ERROR_ANSWER with
 * `err` filled (and `*type` = PS_T_HELLO or PS_T_GOAWAY) when the core
 * refused; a negative PS_ERR_* otherwise.
 */
int ctlc_hello(struct ctlc *c, struct ps_hello_ok *ok, struct ps_error *err,
    uint16_t *type);

/* A fresh request id (never 0). */
uint32_t ctlc_next_id(struct ctlc *c);

/* Writes one encoded frame completely. */
int ctlc_send(struct ctlc *c, const uint8_t *frame, size_t len);

/*
 * Reads the next answer frame (header validated for the answer
 * direction).  `f->body` is valid until the next call.
 */
int ctlc_recv(struct ctlc *c, struct ps_frame *f);

#endif /* CORE_CTL_CLIENT_H */
