/*
 * fake_proxy.h — the fake core's wire-fault proxy: it listens on the
 * socket the gateway connects to, hands each connection to the real
 * socket server (core/ipc) over a socketpair, and relays whole frames
 * both ways, injecting the faults a real core never produces (a closed
 * connection, a GOAWAY, a stray id, a malformed or mistyped answer).
 */
#ifndef FAKE_PROXY_H
#define FAKE_PROXY_H

#include <stdint.h>

#include "proto-socket/ps.h"

struct event_base;
struct ipcs;
struct fake_proxy;

/* What to do with one request, decided before it is relayed. */
struct fake_faults {
	int close;  /* close the gateway's connection instead */
	int goaway; /* send GOAWAY(goaway_code), then close */
	uint16_t goaway_code;
	uint32_t goaway_retry;
	int malformed; /* its first answer frame: reserved != 0 */
	int wrongtype; /* its first answer frame: another type */
	int strayid;   /* first an answer for an id never sent */
};

/*
 * Called for every request frame (not HELLO) from the gateway, with its
 * validated header, before the frame goes to the server; fills `f`
 * (zeroed by the caller).
 */
typedef void (*fake_proxy_request_cb)(
    const struct ps_hdr *h, struct fake_faults *f, void *arg);

/*
 * Listens on `path` (a stale file there is removed) and adopts each
 * connection into `srv` with ipcs_add_client.  NULL with errno on failure.
 */
struct fake_proxy *fake_proxy_new(struct event_base *base, const char *path,
    struct ipcs *srv, fake_proxy_request_cb cb, void *arg);
/* Closes every connection and the listener, removes the socket file. */
void fake_proxy_free(struct fake_proxy *px);

#endif /* FAKE_PROXY_H */
