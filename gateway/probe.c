/*
 * probe.c — /livez, /readyz, /metrics.  Anything else is 404, any method
 * but GET is 405.  Readiness asks the core for HEALTH each time (bounded by
 * the core deadline); metrics append the core's METRICS text when the link
 * is up and say replicad_gateway_core_metrics_up 0 when it is not.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "gateway/gw_limits.h"
#include "gateway/ipc_client.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/probe.h"
#include "gateway/reply.h"

struct probe_req {
	TAILQ_ENTRY(probe_req) link;
	struct probe *p;
	struct ipcc_req *core;
	struct reply_ctx rc;
};

TAILQ_HEAD(probe_req_list, probe_req);

struct probe {
	struct ipcc *ipcc;
	int draining;
	struct probe_req_list reqs;
};

struct probe *
probe_new(struct ipcc *ipcc)
{
	struct probe *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->ipcc = ipcc;
	TAILQ_INIT(&p->reqs);
	return p;
}

void
probe_free(struct probe *p)
{
	struct probe_req *r;

	if (p == NULL)
		return;
	while ((r = TAILQ_FIRST(&p->reqs)) != NULL) {
		TAILQ_REMOVE(&p->reqs, r, link);
		ipcc_cancel(r->core);
		if (r->rc.req != NULL)
			http_req_on_abort(r->rc.req, NULL, NULL);
		free(r);
	}
	free(p);
}

void
probe_set_draining(struct probe *p)
{
	p->draining = 1;
}

static int
path_is(const char *path, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(path, want, len) == 0;
}

static void
done(struct probe_req *r)
{
	TAILQ_REMOVE(&r->p->reqs, r, link);
	free(r);
}

/* The connection went away first (http_req_on_abort). */
static void
abort_cb(void *arg)
{
	struct probe_req *r = arg;

	ipcc_cancel(r->core);
	TAILQ_REMOVE(&r->p->reqs, r, link);
	free(r);
}

static void
status_json(struct probe_req *r, int code, const char *status, const char *why)
{
	yajl_gen g = reply_gen_new();

	if (g != NULL) {
		yajl_gen_map_open(g);
		reply_gen_kv_str(g, "status", status);
		if (why != NULL)
			reply_gen_kv_str(g, "reason", why);
		yajl_gen_map_close(g);
	}
	reply_json(&r->rc, code, g, code == 200 ? NULL : status, NULL, NULL);
	done(r);
}

static void
ready_cb(const struct ipcc_answer *a, void *arg)
{
	struct probe_req *r = arg;

	r->core = NULL;
	if (a->status != IPCC_OK)
		status_json(r, 503, "not_ready", "core did not answer HEALTH");
	else if (!(a->u.health.state & PS_HEALTH_SYNCED))
		status_json(r, 503, "not_ready", "cache not synced");
	else
		status_json(r, 200, "ready", NULL);
}

static void
metrics_cb(const struct ipcc_answer *a, void *arg)
{
	struct probe_req *r = arg;
	struct evbuffer *out = evbuffer_new();
	int up = a->status == IPCC_OK;

	r->core = NULL;
	if (out == NULL || metrics_render(out) != 0 ||
	    evbuffer_add_printf(out,
	        "# TYPE replicad_gateway_core_metrics_up gauge\n"
	        "replicad_gateway_core_metrics_up %d\n",
	        up) < 0 ||
	    (up && a->text_len > 0 &&
	        evbuffer_add(out, a->text, a->text_len) != 0)) {
		if (out != NULL)
			evbuffer_free(out);
		reply_error(&r->rc, 500, "internal", "cannot render metrics",
		    NULL, NULL);
		done(r);
		return;
	}
	reply_text(&r->rc, 200, out);
	evbuffer_free(out);
	done(r);
}

static void
ask(struct probe_req *r, uint16_t type, ipcc_cb cb)
{
	struct ipcc_answer a;
	enum ipcc_status st;

	/* The probe port asks two things only. */
	st = type == PS_T_HEALTH ? ipcc_health(r->p->ipcc, cb, r, &r->core)
	                         : ipcc_metrics(r->p->ipcc, cb, r, &r->core);
	if (st == IPCC_OK) {
		http_req_on_abort(r->rc.req, abort_cb, r);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.status = st;
	a.type = type;
	cb(&a, r);
}

void
probe_serve(void *arg, struct http_req *req)
{
	struct probe *p = arg;
	struct probe_req *r;
	const char *path;
	size_t len;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		struct reply_ctx rc;

		reply_ctx_init(&rc, req, "probe");
		reply_error(&rc, 500, "internal", "out of memory", NULL, NULL);
		return;
	}
	r->p = p;
	TAILQ_INSERT_TAIL(&p->reqs, r, link);
	reply_ctx_init(&r->rc, req, "probe");
	path = http_req_path(req, &len);
	if (!path_is(path, len, "/livez") && !path_is(path, len, "/readyz") &&
	    !path_is(path, len, "/metrics")) {
		reply_error(&r->rc, 404, "not_found",
		    "the probe port serves /livez, /readyz and /metrics", NULL,
		    NULL);
		done(r);
		return;
	}
	if (strcmp(http_req_method(req), "GET") != 0 &&
	    !http_req_is_head(req)) {
		reply_error(&r->rc, 405, "method_not_allowed",
		    "allowed methods: GET, HEAD", "Allow", "GET, HEAD");
		done(r);
		return;
	}
	if (path_is(path, len, "/livez"))
		status_json(r, 200, "alive", NULL);
	else if (path_is(path, len, "/readyz")) {
		if (p->draining)
			status_json(r, 503, "not_ready", "draining");
		else if (!ipcc_ready(p->ipcc))
			status_json(r, 503, "not_ready", "core link down");
		else
			ask(r, PS_T_HEALTH, ready_cb);
	} else
		ask(r, PS_T_METRICS, metrics_cb);
}

void
probe_refuse(void *arg, struct http_req *req, const struct http_parse_error *e)
{
	(void)arg;
	reply_refusal(req, "probe", e);
}
