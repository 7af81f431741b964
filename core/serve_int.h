/*
 * serve_int.h — what serve.c (the handler table and the deployment
 * handlers) shares with serve_pins.c (the PIN_* handlers),
 * serve_metrics.c (the METRICS answer) and serve_health.c (the HEALTH
 * answer), and no one else.
 */
#ifndef SERVE_INT_H
#define SERVE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/serve.h"
#include "proto-socket/ps.h"

struct cache_deploy;
struct ipcs_req;
struct pins;
struct ps_write_req;

struct nsu_unit;

struct serve {
	struct serve_deps d;
};

/*
 * A LIST / PIN_LIST answer being streamed: the namespaces still to go
 * (sorted order; one only when the request named it) and the last
 * (namespace, name) sent.
 */
struct serve_cursor {
	struct serve *s;
	size_t next_unit; /* nsu_sorted index */
	size_t end_unit;  /* one past the last unit to list */
	struct nsu_unit *unit;
	char last_ns[PS_MAX_NAMESPACE + 1];
	char last[PS_MAX_NAME + 1];
};

/* serve.c: the cursor over `ns` ("" = every namespace served), freed with
 * free(); NULL after answering (not served, out of memory). */
struct serve_cursor *serve_cursor_new(
    struct serve *s, struct ipcs_req *req, const char *ns);

/* serve.c: the unit of a request's namespace, re-checked whatever the
 * gateway did; NULL after answering NOT_FOUND with the set served. */
struct nsu_unit *serve_unit_of(
    struct serve *s, struct ipcs_req *req, const char *ns);

/* serve.c: the pins store of `u` (one serves every namespace); NULL
 * without pins. */
struct pins *serve_unit_pins(const struct serve *s, const struct nsu_unit *u);

/* 1 once a complete list of `u`'s Deployments has been applied. */
int serve_unit_synced(const struct nsu_unit *u);

/* serve.c: answers UNAVAILABLE with Retry-After for `u`'s cache not
 * synced yet (`u` NULL: none of the namespaces served). */
void serve_not_synced(struct ipcs_req *req, const struct nsu_unit *u);

/* serve.c: a write (`what`: "scale", "pin", "unpin") refused for a
 * reserved identity; 1 after refusing (audited, answered INVALID). */
int serve_write_refused(
    struct ipcs_req *req, const struct ps_write_req *w, const char *what);

/* serve.c: a write refused because an HPA targets the Deployment (unless
 * force) or the HPAs are not listed yet; 1 after answering. */
int serve_autoscaled_refused(struct nsu_unit *u, struct ipcs_req *req,
    const struct ps_write_req *w, const char *what);

/* Why the pin of a cached Deployment of `u` is not being reconciled
 * (enum ps_pin_state): the pin says so, an annotation, or an HPA;
 * PS_PIN_ACTIVE when nothing stops it (serve_pins.c). */
uint8_t serve_pin_state(const struct serve *s, const struct nsu_unit *u,
    const struct cache_deploy *d);

/* The PIN_* handlers (serve_pins.c); their rows are in serve.c's table. */
void serve_pin_list(struct ipcs_req *req, void *arg);
void serve_pin_get(struct ipcs_req *req, void *arg);
void serve_pin_put(struct ipcs_req *req, void *arg);
void serve_pin_delete(struct ipcs_req *req, void *arg);

/* The HEALTH handler: every namespace's probe, one answer
 * (serve_health.c). */
void serve_health(struct ipcs_req *req, void *arg);

/* The METRICS handler: every module's counters as Prometheus text. */
void serve_metrics(struct ipcs_req *req, void *arg);

#endif /* SERVE_INT_H */
