/*
 * probe.h — the plain-HTTP probe listener for the kubelet and Prometheus:
 * /livez (the process runs its loop), /readyz (core link up, cache synced,
 * not draining), /metrics (the gateway's series plus the core's).  It
 * serves no deployment data and needs no client certificate.
 */
#ifndef GW_PROBE_H
#define GW_PROBE_H

struct evhttp_request;
struct ipcc;
struct probe;

struct probe *probe_new(struct ipcc *ipcc);
void probe_free(struct probe *p);
void probe_handle_cb(struct evhttp_request *req, void *arg);
void probe_set_draining(struct probe *p);
int probe_inflight(const struct probe *p);

#endif /* GW_PROBE_H */
