/*
 * serve_health.c — the HEALTH answer over every namespace served: each
 * namespace's probe (health.c: cached 10 s, at most 2 s of waiting) is
 * asked at once, and the answer is sent when the last has answered.
 *
 * The answer's top-level state is the default namespace's (the first
 * served): /healthz fails only when that one is unhealthy.  Its cache
 * size is the sum, its ages the newest; ns[] has every namespace in the
 * configured order; the message names each unhealthy namespace and why
 * (with one namespace served: that one's message, as before).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ipc/ipc_server.h"
#include "core/kube/health.h"
#include "core/ns_units.h"
#include "core/serve_int.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

struct hq;

/* One namespace's probe being waited for. */
struct hq_slot {
	struct hq *q;
	struct health_wait *w; /* NULL once answered */
	struct ps_health h;
};

struct hq {
	struct ipcs_req *req;
	struct nsu *units;
	size_t n, pending;
	int starting; /* the queries are being made: do not answer yet */
	struct hq_slot slot[CORE_MAX_NAMESPACES];
};

/* The newest of two ages, PS_AGE_NEVER being the oldest. */
static uint32_t
newest(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Appends "namespace NS: WHY" to `msg` (PS_MAX_MESSAGE + 1 bytes),
 * "; " before all but the first, cut at the end. */
static void
append(char *msg, const char *ns, const char *why)
{
	size_t len = strlen(msg);

	if (len < PS_MAX_MESSAGE)
		snprintf(msg + len, PS_MAX_MESSAGE + 1 - len,
		    "%snamespace %s: %s", len > 0 ? "; " : "", ns, why);
}

static void
combine(const struct hq *q, struct nsu *units, struct ps_health *out)
{
	uint64_t sum = 0;

	memset(out, 0, sizeof(*out));
	out->last_event_age_ms = PS_AGE_NEVER;
	out->api_ok_age_ms = PS_AGE_NEVER;
	out->ns_count = (uint8_t)q->n;
	for (size_t i = 0; i < q->n; i++) {
		const struct ps_health *h = &q->slot[i].h;
		struct ps_ns_health *nh = &out->ns[i];

		snprintf(nh->namespace, sizeof(nh->namespace), "%s",
		    nsu_at(units, i)->namespace);
		nh->state = h->state;
		nh->cache_size = h->cache_size;
		nh->last_event_age_ms = h->last_event_age_ms;
		nh->api_ok_age_ms = h->api_ok_age_ms;
		sum += h->cache_size;
		out->last_event_age_ms =
		    newest(out->last_event_age_ms, h->last_event_age_ms);
		out->api_ok_age_ms =
		    newest(out->api_ok_age_ms, h->api_ok_age_ms);
		if (q->n == 1)
			memcpy(out->message, h->message, sizeof(out->message));
		else if (h->state != PS_HEALTH_ALL)
			append(out->message, nh->namespace,
			    h->message[0] != '\0' ? h->message : "unhealthy");
	}
	out->state = q->slot[0].h.state;
	out->cache_size = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

static void
answer(struct hq *q)
{
	struct ps_health h;

	combine(q, q->units, &h);
	(void)ipcs_answer_health(q->req, &h);
	free(q);
}

static void
slot_done(void *arg, const struct ps_health *h)
{
	struct hq_slot *sl = arg;
	struct hq *q = sl->q;

	sl->w = NULL;
	sl->h = *h;
	if (--q->pending == 0 && !q->starting)
		answer(q);
}

/* The client left: no namespace's answer is wanted any more. */
static void
hq_cancel(struct ipcs_req *req, void *arg)
{
	struct hq *q = arg;

	for (size_t i = 0; i < q->n; i++)
		if (q->slot[i].w != NULL)
			health_detach(q->slot[i].w);
	free(q);
	ipcs_req_drop(req);
}

void
serve_health(struct ipcs_req *req, void *arg)
{
	struct serve *s = arg;
	struct hq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 1, "out of memory");
		return;
	}
	q->req = req;
	q->units = s->d.units;
	q->n = nsu_count(s->d.units);
	q->pending = q->n;
	q->starting = 1;
	for (size_t i = 0; i < q->n; i++) {
		struct hq_slot *sl = &q->slot[i];

		sl->q = q;
		/* Answers at once (NULL) when the last probe is fresh. */
		sl->w =
		    health_query(nsu_at(s->d.units, i)->health, slot_done, sl);
	}
	q->starting = 0;
	if (q->pending == 0)
		answer(q);
	else
		ipcs_req_set_cancel(req, hq_cancel, q);
}
