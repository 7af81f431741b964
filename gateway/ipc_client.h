/*
 * ipc_client.h — the gateway's side of proto-socket: one persistent
 * connection to replicad-core, HELLO first, many requests in flight matched
 * by id, a deadline per request, reconnect with capped exponential backoff
 * and jitter, and multi-frame answers (LIST, PIN_LIST, METRICS) reassembled
 * with their totals bounded by PS_MAX_LIST_TOTAL / PS_MAX_METRICS_TOTAL.
 *
 * Callbacks: every accepted request gets exactly one callback — its
 * answer, an error answer, IPCC_TIMEOUT at its deadline, or
 * IPCC_UNAVAILABLE when the link drops (all pending fail at once) — unless
 * it was cancelled first.  A request whose deadline passed (or that was
 * cancelled) stays outstanding at the core until its answer arrives, which
 * is then dropped; if that answer does not come within a second deadline
 * the link is reset.  ipcc_free() calls no callbacks.
 *
 * This is the mirror of the core's socket server (core/ipc/, ipcs_*).
 */
#ifndef GW_IPC_CLIENT_H
#define GW_IPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

struct event_base;
struct ipcc;
struct ipcc_req;

enum ipcc_status {
	IPCC_OK = 0,
	IPCC_ERROR,       /* the core answered an error: see `err` */
	IPCC_UNAVAILABLE, /* no link, or it dropped: HTTP 503 */
	IPCC_TIMEOUT,     /* the deadline passed: HTTP 504 */
	IPCC_BUSY,        /* the queue beyond max_inflight is full: 503 */
	IPCC_INTERNAL     /* could not encode or allocate: HTTP 500 */
};

struct ipcc_item {
	const char *ns; /* the item's namespace (version 3) */
	const char *name;
	uint32_t replicas; /* PIN_LIST only */
	uint8_t state;     /* PIN_LIST only: enum ps_pin_state */
};

/* Borrowed by the callback; nothing in it outlives the call. */
struct ipcc_answer {
	enum ipcc_status status;
	uint16_t type;
	struct ps_error err;  /* IPCC_ERROR */
	uint32_t retry_after; /* IPCC_UNAVAILABLE/BUSY: seconds, >= 1 */
	union {
		struct ps_deployment dep;
		struct ps_scale_ok scale;
		struct ps_health health;
		struct ps_pin pin;
	} u;
	const struct ipcc_item *items; /* LIST, PIN_LIST */
	size_t nitems;
	const char *text; /* METRICS */
	size_t text_len;
};

typedef void (*ipcc_cb)(const struct ipcc_answer *a, void *arg);

struct ipcc_config {
	const char *path; /* Unix socket; NULL: no (re)connecting */
	int deadline_ms;  /* per request */
	int max_inflight; /* our cap; the core's HELLO may lower it */
	int backoff_min_ms;
	int backoff_max_ms;
};

/*
 * A write's conditions and mode (struct ps_write_req's flags, expected and
 * if_match).  The codec refuses what does not fit the type (PS_W_SUSPEND
 * on SCALE, anything but PS_W_DRY_RUN or an If-Match on PIN_DELETE): the
 * API checks first, so a refusal here is a bug and answers 500.
 */
struct ipcc_write_opts {
	uint8_t flags;        /* PS_W_* */
	uint32_t expected;    /* with PS_W_EXPECTED */
	const char *if_match; /* NULL or "": no resourceVersion condition */
};

/* What to ask.  Unused fields are ignored for the type. */
struct ipcc_call {
	uint16_t type; /* PS_T_LIST .. PS_T_METRICS */
	/* Every call but HEALTH and METRICS: the namespace; on LIST and
	 * PIN_LIST "" (or NULL) means every namespace the core serves. */
	const char *ns;
	const char *name;                   /* GET, SCALE, PIN_GET/PUT/DELETE */
	uint32_t replicas;                  /* SCALE, PIN_PUT */
	const char *identity;               /* SCALE, PIN_PUT, PIN_DELETE */
	const struct ipcc_write_opts *opts; /* writes; NULL: none */
};

struct ipcc *ipcc_new(struct event_base *base, const struct ipcc_config *cfg);
void ipcc_free(struct ipcc *c);
/* Starts connecting to cfg->path (now), then keeps the link up. */
void ipcc_start(struct ipcc *c);
/* Uses an already connected stream socket (tests); takes `fd`. */
int ipcc_adopt_fd(struct ipcc *c, int fd);
/* The link is up and the HELLO exchange is done. */
int ipcc_ready(const struct ipcc *c);
/* Seconds a client should wait before retrying while the link is down. */
uint32_t ipcc_retry_after(const struct ipcc *c);
/* Requests outstanding at the core (including abandoned ones). */
size_t ipcc_outstanding(const struct ipcc *c);
/* The effective in-flight limit (0 before HELLO). */
size_t ipcc_max_inflight(const struct ipcc *c);
/*
 * The core's default namespace, from this link's HELLO_OK (version 3):
 * what the routes without a namespace mean.  NULL while the link is not
 * ready (a reconnect may meet a core with another default).
 */
const char *ipcc_default_namespace(const struct ipcc *c);

/*
 * Sends `call`.  IPCC_OK: `cb` will be called once (see above) and
 * `*out` (optional) is a handle valid until then.  Anything else: nothing
 * was sent and `cb` will not be called.
 */
enum ipcc_status ipcc_submit(struct ipcc *c, const struct ipcc_call *call,
    ipcc_cb cb, void *arg, struct ipcc_req **out);
/* The callback will not be called; the late answer is dropped. */
void ipcc_cancel(struct ipcc_req *r);

/*
 * Typed calls, one per request the core offers, named after the core's
 * handlers (core/serve.c: handle_list, handle_get, handle_scale, ...;
 * core/serve_pins.c: serve_pin_list, serve_pin_put, ...): what
 * each message carries is in its signature.  Each is ipcc_submit() with
 * the call filled in, so the same rules hold.  The wire facts of each type
 * (body shapes, limits) are in proto-socket/ps.c's table.
 */
#define IPCC_CALL(c, t, ns, n, rep, id, cb, arg, out) \
	IPCC_WCALL(c, t, ns, n, rep, id, NULL, cb, arg, out)
#define IPCC_WCALL(c, t, nsp, n, rep, id, o, cb, arg, out) \
	ipcc_submit((c),                                   \
	    &(const struct ipcc_call){.type = (t),         \
	        .ns = (nsp),                               \
	        .name = (n),                               \
	        .replicas = (rep),                         \
	        .identity = (id),                          \
	        .opts = (o)},                              \
	    (cb), (arg), (out))

static inline enum ipcc_status
ipcc_list(struct ipcc *c, const char *ns, ipcc_cb cb, void *arg,
    struct ipcc_req **out)
{
	return IPCC_CALL(c, PS_T_LIST, ns, NULL, 0, NULL, cb, arg, out);
}

static inline enum ipcc_status
ipcc_get(struct ipcc *c, const char *ns, const char *name, ipcc_cb cb,
    void *arg, struct ipcc_req **out)
{
	return IPCC_CALL(c, PS_T_GET, ns, name, 0, NULL, cb, arg, out);
}

static inline enum ipcc_status
ipcc_scale(struct ipcc *c, const char *ns, const char *name, uint32_t replicas,
    const char *identity, const struct ipcc_write_opts *opts, ipcc_cb cb,
    void *arg, struct ipcc_req **out)
{
	return IPCC_WCALL(
	    c, PS_T_SCALE, ns, name, replicas, identity, opts, cb, arg, out);
}

static inline enum ipcc_status
ipcc_health(struct ipcc *c, ipcc_cb cb, void *arg, struct ipcc_req **out)
{
	return IPCC_CALL(c, PS_T_HEALTH, NULL, NULL, 0, NULL, cb, arg, out);
}

static inline enum ipcc_status
ipcc_metrics(struct ipcc *c, ipcc_cb cb, void *arg, struct ipcc_req **out)
{
	return IPCC_CALL(c, PS_T_METRICS, NULL, NULL, 0, NULL, cb, arg, out);
}

static inline enum ipcc_status
ipcc_pin_list(struct ipcc *c, const char *ns, ipcc_cb cb, void *arg,
    struct ipcc_req **out)
{
	return IPCC_CALL(c, PS_T_PIN_LIST, ns, NULL, 0, NULL, cb, arg, out);
}

static inline enum ipcc_status
ipcc_pin_get(struct ipcc *c, const char *ns, const char *name, ipcc_cb cb,
    void *arg, struct ipcc_req **out)
{
	return IPCC_CALL(c, PS_T_PIN_GET, ns, name, 0, NULL, cb, arg, out);
}

static inline enum ipcc_status
ipcc_pin_put(struct ipcc *c, const char *ns, const char *name,
    uint32_t replicas, const char *identity, const struct ipcc_write_opts *opts,
    ipcc_cb cb, void *arg, struct ipcc_req **out)
{
	return IPCC_WCALL(
	    c, PS_T_PIN_PUT, ns, name, replicas, identity, opts, cb, arg, out);
}

/* `opts`: only PS_W_DRY_RUN (a removal has no count or version). */
static inline enum ipcc_status
ipcc_pin_delete(struct ipcc *c, const char *ns, const char *name,
    const char *identity, const struct ipcc_write_opts *opts, ipcc_cb cb,
    void *arg, struct ipcc_req **out)
{
	return IPCC_WCALL(
	    c, PS_T_PIN_DELETE, ns, name, 0, identity, opts, cb, arg, out);
}

#endif /* GW_IPC_CLIENT_H */
