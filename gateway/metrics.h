/*
 * metrics.h — the gateway's counters, rendered as Prometheus text on the
 * probe port.  Single-threaded (one event loop), so plain integers.  Label
 * values come only from fixed sets (routes, reasons, status codes), never
 * from client input, so the series count is bounded.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stddef.h>

#include "gateway/route.h"

struct evbuffer;

/* TLS handshake failure reasons (label values). */
enum metrics_tls_reason {
	MT_NO_CERT,
	MT_UNKNOWN_CA,
	MT_EXPIRED,
	MT_NOT_YET_VALID,
	MT_BAD_EKU,
	MT_REVOKED,
	MT_VERIFY_OTHER,
	MT_PROTOCOL_VERSION,
	MT_NO_SHARED_CIPHER,
	MT_OTHER,
	MT_COUNT
};

const char *metrics_tls_reason_name(enum metrics_tls_reason r);

void metrics_request(enum route_id route, int status, long latency_us);
void metrics_tls_failure(enum metrics_tls_reason r);
void metrics_connections(int delta); /* open TLS connections */
void metrics_connection_refused(void);
void metrics_core_up(int up);
void metrics_core_reconnect(void);
void metrics_core_inflight(int delta);
void metrics_core_timeout(void);
void metrics_cert_reload(int ok);
int metrics_open_connections(void);

/* Appends the gateway's series to `out`; 0 or -1 (allocation). */
int metrics_render(struct evbuffer *out);

#endif /* GW_METRICS_H */
