/*
 * ks_admin.h — kube-sim's admin and fault-injection endpoint under
 * /_sim/ (a prefix the real API never serves), request counters, deny
 * rules (403) and the fault table consulted for every API request.
 * tests/kube-sim/README.md documents each route.
 */
#ifndef KS_ADMIN_H
#define KS_ADMIN_H

struct evhttp_request;
struct ks_admin;
struct ks_server;

struct ks_fault {
	int status; /* HTTP code; 0 with close set: drop the connection */
	int close;
	int retry_after; /* seconds, 0 = no header */
	char message[256];
};

struct ks_admin *ks_admin_new(void);
void ks_admin_free(struct ks_admin *);
/* VERB:RESOURCE[/SUB][@[NS]]: 0, or -1 for a bad rule or a full table. */
int ks_admin_add_deny(struct ks_admin *, const char *);
/* Is verb on resource[/sub] denied in namespace ns ("" = cluster scope)? */
int ks_admin_denied(
    struct ks_admin *, const char *, const char *, const char *, const char *);
void ks_admin_count(struct ks_admin *, const char *, const char *);
/* 1 and *f when the next-N rule for method, path, Kubernetes verb,
 * resource[/sub] ("" for a non-resource path) and namespace ("" for
 * cluster scope) fires (consumes one). */
int ks_admin_fault(struct ks_admin *, const char *, const char *, const char *,
    const char *, const char *, struct ks_fault *);
/* Milliseconds to hold a request now (latency, or the rest of a hang). */
long ks_admin_delay_ms(struct ks_admin *);
void ks_admin_answer_fault(struct evhttp_request *, const struct ks_fault *);
void ks_admin_handle(
    struct ks_server *, struct evhttp_request *, const char *, const char *);

#endif /* KS_ADMIN_H */
