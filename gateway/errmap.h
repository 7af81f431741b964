/*
 * errmap.h — proto-socket error codes to HTTP (PROTOCOL.md §5).  A client
 * error is 4xx; a fault of the service or the cluster is 5xx.  Pure.
 */
#ifndef GW_ERRMAP_H
#define GW_ERRMAP_H

#include <stdint.h>

struct errmap {
	int status;          /* HTTP status */
	const char *reason;  /* the error body's "error" token */
	const char *message; /* default message when the core gave none */
	int retry_after;     /* 1: the answer carries Retry-After */
};

/* Unknown codes map to 500 "internal" (the decoder already refuses them). */
void errmap_code(uint16_t code, struct errmap *m);

#endif /* GW_ERRMAP_H */
