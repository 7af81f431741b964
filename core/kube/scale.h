/*
 * scale.h — the write path: set a Deployment's spec.replicas through the
 * scale subresource (merge PATCH), map the API's answer to a proto-socket
 * error code, audit-log the write, and answer only when the watch has
 * brought the written state into the cache (read-your-writes) or a bounded
 * wait ran out (synced = 0).
 *
 * Inputs are re-validated here: the gateway is not trusted to have done it.
 */
#ifndef SCALE_H
#define SCALE_H

#include <stddef.h>
#include <stdint.h>

#include "proto-socket/ps.h"

struct event_base;
struct kc;
struct cache;
struct scale;
struct scale_op;

struct scale_result {
	uint16_t code; /* 0 on success, else enum ps_code */
	unsigned retry_after;
	char message[PS_MAX_MESSAGE + 1];
	char name[PS_MAX_NAME + 1];
	uint32_t replicas; /* the count now desired */
	uint32_t previous; /* the count the cache held before */
	uint8_t synced;    /* the cache holds the written state */
	char rv[PS_MAX_RV + 1];
};

typedef void (*scale_done_cb)(void *arg, const struct scale_result *res);

/*
 * `max_replicas` is the core's own ceiling (<= PS_MAX_REPLICAS);
 * `self` (NULL: none) names replicad's own Deployment, which no write
 * may scale, whoever asks (the reconciler included).
 */
struct scale *scale_new(struct event_base *base, struct kc *kc,
    struct cache *cache, const char *namespace, uint32_t max_replicas,
    const char *self);

/* The peer uid of the core's own writes (the reconciler) in audit lines. */
#define AUDIT_SELF (-1L)
void scale_free(struct scale *s);

/*
 * Starts a write; `done` is called exactly once, possibly before this
 * returns when the input is refused.  Returns the operation for
 * scale_detach(), or NULL when `done` was already called.
 */
struct scale_op *scale_start(struct scale *s, const char *name,
    uint32_t replicas, const char *identity, long peer_uid, scale_done_cb done,
    void *arg);
/*
 * The requester is gone: `done` will not be called.  The write itself
 * goes on (it may already be applied) and is still audit-logged.
 */
void scale_detach(struct scale_op *op);

/* From the reflector: an object event was applied / a relist finished. */
void scale_applied(struct scale *s, const char *name, const char *rv);
void scale_relisted(struct scale *s, uint64_t list_started_ms);

/* Maps an API answer to a proto-socket code (pure; for tests too). */
uint16_t scale_map_status(long status, int transport_error, int timed_out);

/* Counters for /metrics. */
struct scale_stats {
	uint64_t ok_synced, ok_unsynced, refused, failed;
};
void scale_get_stats(const struct scale *s, struct scale_stats *st);

#endif /* SCALE_H */
