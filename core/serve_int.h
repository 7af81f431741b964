/*
 * serve_int.h — what serve.c (the request handlers) shares with
 * serve_metrics.c (the METRICS answer), and no one else.
 */
#ifndef SERVE_INT_H
#define SERVE_INT_H

#include <stdint.h>

#include "core/serve.h"
#include "proto-socket/ps.h"

struct cache_deploy;
struct ipcs_req;

struct nsu_unit;

struct serve {
	struct serve_deps d;
};

/* Why the pin of a cached Deployment of `u` is not being reconciled
 * (enum ps_pin_state): the pin says so, an annotation, or an HPA;
 * PS_PIN_ACTIVE when nothing stops it. */
uint8_t serve_pin_state(const struct serve *s, const struct nsu_unit *u,
    const struct cache_deploy *d);

/* 1 once a complete list of `u`'s Deployments has been applied. */
int serve_unit_synced(const struct nsu_unit *u);

/* The HEALTH handler: every namespace's probe, one answer
 * (serve_health.c). */
void serve_health(struct ipcs_req *req, void *arg);

/* The METRICS handler: every module's counters as Prometheus text. */
void serve_metrics(struct ipcs_req *req, void *arg);

#endif /* SERVE_INT_H */
