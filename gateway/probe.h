/*
 * probe.h — the plain-HTTP probe listener for the kubelet and Prometheus:
 * /livez (the process runs its loop), /readyz (core link up, cache synced,
 * not draining), /metrics (the gateway's series plus the core's).  It
 * serves no deployment data and needs no client certificate.
 */
#ifndef GW_PROBE_H
#define GW_PROBE_H

struct http_parse_error;
struct http_req;
struct ipcc;
struct probe;

struct probe *probe_new(struct ipcc *ipcc);
/* Requests still waiting for the core are dropped without an answer. */
void probe_free(struct probe *p);
/* struct http_handler's serve and refuse; `arg` is the struct probe. */
void probe_serve(void *arg, struct http_req *req);
void probe_refuse(
    void *arg, struct http_req *req, const struct http_parse_error *e);
/* /readyz answers 503 from now on. */
void probe_set_draining(struct probe *p);

#endif /* GW_PROBE_H */
