/*
 * metrics.c — counters and one latency histogram, Prometheus text format
 * 0.0.4.  Status codes are bucketed by exact value from a fixed list.
 */
#include <stdint.h>

#include <event2/buffer.h>

#include "gateway/metrics.h"

static const int codes[] = {200, 400, 401, 403, 404, 405, 409, 411, 412, 413,
    414, 415, 417, 422, 431, 500, 501, 502, 503, 504, 505};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

/* Latency buckets in seconds, as microseconds. */
static const long buckets_us[] = {1000, 5000, 10000, 25000, 50000, 100000,
    250000, 500000, 1000000, 2500000, 5000000, 10000000};
#define NBUCKETS (sizeof(buckets_us) / sizeof(buckets_us[0]))

static struct {
	uint64_t requests[ROUTE_COUNT][NCODES + 1]; /* last: other codes */
	uint64_t hist[NBUCKETS];
	uint64_t hist_count;
	uint64_t hist_sum_us;
	uint64_t tls_fail[MT_COUNT];
	int open_conns;
	uint64_t conns_refused;
	int core_up;
	uint64_t core_reconnects;
	int core_inflight;
	uint64_t core_timeouts;
	uint64_t reload_ok, reload_fail;
} m;

static const char *const tls_names[MT_COUNT] = {"no_certificate", "unknown_ca",
    "expired", "not_yet_valid", "bad_eku", "revoked", "verify_other",
    "protocol_version", "no_shared_cipher", "other"};

const char *
metrics_tls_reason_name(enum metrics_tls_reason r)
{
	return r < MT_COUNT ? tls_names[r] : "other";
}

void
metrics_request(enum route_id route, int status, long latency_us)
{
	size_t i, c = NCODES;

	if (route >= ROUTE_COUNT)
		route = ROUTE_NONE;
	for (i = 0; i < NCODES; i++)
		if (codes[i] == status)
			c = i;
	m.requests[route][c]++;
	if (latency_us < 0)
		latency_us = 0;
	for (i = 0; i < NBUCKETS; i++)
		if (latency_us <= buckets_us[i])
			m.hist[i]++;
	m.hist_count++;
	m.hist_sum_us += (uint64_t)latency_us;
}

void
metrics_tls_failure(enum metrics_tls_reason r)
{
	m.tls_fail[r < MT_COUNT ? r : MT_OTHER]++;
}

void
metrics_connections(int delta)
{
	m.open_conns += delta;
}

int
metrics_open_connections(void)
{
	return m.open_conns;
}

void
metrics_connection_refused(void)
{
	m.conns_refused++;
}

void
metrics_core_up(int up)
{
	m.core_up = up;
}

void
metrics_core_reconnect(void)
{
	m.core_reconnects++;
}

void
metrics_core_inflight(int delta)
{
	m.core_inflight += delta;
}

void
metrics_core_timeout(void)
{
	m.core_timeouts++;
}

void
metrics_cert_reload(int ok)
{
	if (ok)
		m.reload_ok++;
	else
		m.reload_fail++;
}

int
metrics_render(struct evbuffer *out)
{
	size_t r, i;
	int rc = 0;

#define P(...)                                                 \
	do {                                                   \
		if (evbuffer_add_printf(out, __VA_ARGS__) < 0) \
			rc = -1;                               \
	} while (0)

	P("# HELP replicad_gateway_requests_total HTTP requests by route "
	  "and status.\n# TYPE replicad_gateway_requests_total counter\n");
	for (r = 0; r < ROUTE_COUNT; r++) {
		for (i = 0; i <= NCODES; i++) {
			if (m.requests[r][i] == 0)
				continue;
			if (i < NCODES)
				P("replicad_gateway_requests_total{route=\"%"
				  "s\","
				  "code=\"%d\"} %llu\n",
				    route_label((enum route_id)r), codes[i],
				    (unsigned long long)m.requests[r][i]);
			else
				P("replicad_gateway_requests_total{route=\"%"
				  "s\","
				  "code=\"other\"} %llu\n",
				    route_label((enum route_id)r),
				    (unsigned long long)m.requests[r][i]);
		}
	}
	P("# HELP replicad_gateway_request_duration_seconds Time from "
	  "request to response.\n"
	  "# TYPE replicad_gateway_request_duration_seconds histogram\n");
	for (i = 0; i < NBUCKETS; i++)
		P("replicad_gateway_request_duration_seconds_bucket{le=\"%g\"} "
		  "%llu\n",
		    (double)buckets_us[i] / 1e6, (unsigned long long)m.hist[i]);
	P("replicad_gateway_request_duration_seconds_bucket{le=\"+Inf\"} "
	  "%llu\n",
	    (unsigned long long)m.hist_count);
	P("replicad_gateway_request_duration_seconds_sum %.6f\n",
	    (double)m.hist_sum_us / 1e6);
	P("replicad_gateway_request_duration_seconds_count %llu\n",
	    (unsigned long long)m.hist_count);
	P("# HELP replicad_gateway_tls_handshake_failures_total Failed TLS "
	  "handshakes by reason.\n"
	  "# TYPE replicad_gateway_tls_handshake_failures_total counter\n");
	for (i = 0; i < MT_COUNT; i++)
		P("replicad_gateway_tls_handshake_failures_total{reason=\"%s\"}"
		  " "
		  "%llu\n",
		    tls_names[i], (unsigned long long)m.tls_fail[i]);
	P("# HELP replicad_gateway_open_connections Open client "
	  "connections.\n# TYPE replicad_gateway_open_connections gauge\n"
	  "replicad_gateway_open_connections %d\n",
	    m.open_conns);
	P("# TYPE replicad_gateway_connections_paused_total counter\n"
	  "replicad_gateway_connections_paused_total %llu\n",
	    (unsigned long long)m.conns_refused);
	P("# HELP replicad_gateway_core_up 1 when the core link is up.\n"
	  "# TYPE replicad_gateway_core_up gauge\n"
	  "replicad_gateway_core_up %d\n",
	    m.core_up);
	P("# TYPE replicad_gateway_core_reconnects_total counter\n"
	  "replicad_gateway_core_reconnects_total %llu\n",
	    (unsigned long long)m.core_reconnects);
	P("# TYPE replicad_gateway_core_inflight gauge\n"
	  "replicad_gateway_core_inflight %d\n",
	    m.core_inflight);
	P("# TYPE replicad_gateway_core_timeouts_total counter\n"
	  "replicad_gateway_core_timeouts_total %llu\n",
	    (unsigned long long)m.core_timeouts);
	P("# TYPE replicad_gateway_cert_reloads_total counter\n"
	  "replicad_gateway_cert_reloads_total{result=\"ok\"} %llu\n"
	  "replicad_gateway_cert_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)m.reload_ok, (unsigned long long)m.reload_fail);
#undef P
	return rc;
}
