/*
 * pins_cm.h — the pins store's ConfigMap backend (pins.h): RFD 180722's
 * document (pin_doc.h) in data["pins.json"] of one ConfigMap of the
 * core's home namespace, so that several core replicas share the pins of
 * every namespace they serve (entries of other namespaces ride along).
 *
 * Reading, like the reflector: a LIST by name
 * (fieldSelector=metadata.name=NAME) and a WATCH from its resourceVersion
 * with bookmarks; resume on close; relist on 410 and errors after the
 * reflector's capped, jittered backoff, honouring Retry-After.  Each state
 * the API shows is handed to the store (hooks.replace): a missing or
 * deleted ConfigMap, or one without the key, is no pins; a document that
 * does not parse (pin_set_parse) is logged as a warning and the last good
 * pins stay — bad input never drops pins, and never stops the core.
 *
 * Writing: one change at a time per core (FIFO), as a read-modify-write
 * with optimistic concurrency: the new document is the current one plus
 * the change, PUT with metadata.resourceVersion (POST when there is no
 * ConfigMap, labelled app.kubernetes.io/managed-by=replicad); a 409 (or a
 * 404: deleted meanwhile) GETs the ConfigMap again and re-applies the
 * change, at most PINS_CM_MAX_ATTEMPTS writes, then CONFLICT.  A change
 * that memory says is already so (or a removal of a pin memory does not
 * know) is checked against a fresh GET before it is answered, so that a
 * watch that lags cannot lose a change.  A 2xx answer's content and
 * resourceVersion are applied in memory before the change is answered;
 * watch events older than that write are then skipped until the write's
 * own resourceVersion comes by (or a relist, which never overlaps a
 * write).  A ConfigMap holding an invalid document is not overwritten: a
 * change answers CONFLICT until a person fixes or deletes it.
 *
 * A write replaces the object: data holds only pins.json and labels only
 * the one above (other keys are logged once and not kept): the ConfigMap
 * belongs to replicad.  RBAC: get, list, watch, create, update on
 * configmaps in the namespace.
 */
#ifndef PINS_CM_H
#define PINS_CM_H

#include <stdint.h>

#include "core/pins/pin_set.h"
#include "core/pins/pins.h"

struct event_base;
struct kc;
struct pins_cm;

#define PINS_CM_KEY         "pins.json"
#define PINS_CM_LABEL_KEY   "app.kubernetes.io/managed-by"
#define PINS_CM_LABEL_VALUE "replicad"

struct pins_cm_config {
	struct event_base *base;
	struct kc *kc;
	const char *namespace; /* the home namespace: DNS-1123 label */
	const char *name;      /* DNS-1123 subdomain */
	/* The served namespaces and bounds (kept: it must outlive the
	 * backend; pins.c's store holds it). */
	const struct pin_set_cfg *set;
};

/* How the backend reaches the store's memory. */
struct pins_cm_hooks {
	/* The installed set (NULL before the first replace). */
	const struct pin_set *(*current)(void *arg);
	/* Install `set` (taken) as what the ConfigMap now holds. */
	void (*replace)(void *arg, struct pin_set *set);
	void *arg;
};

/* NULL on bad config (errno EINVAL) or allocation failure. */
struct pins_cm *pins_cm_new(
    const struct pins_cm_config *cfg, const struct pins_cm_hooks *hooks);
/* Starts the list; 0, or -1. */
int pins_cm_start(struct pins_cm *cm);
/* Changes waiting or in flight get done() with UNAVAILABLE first. */
void pins_cm_free(struct pins_cm *cm);

int pins_cm_loaded(const struct pins_cm *cm);
/* Why nothing is loaded yet (the last read error, or "not read yet"). */
const char *pins_cm_not_loaded(const struct pins_cm *cm);
/* "ConfigMap NS/NAME". */
const char *pins_cm_where(const struct pins_cm *cm);

/*
 * Queues change `c` (its namespace and name are copied).  `done` runs exactly
 * once, with res->rc/code/had/old/replicas/message set (res->name is not); it
 * may run before this returns (not loaded yet, queue full, refused input).
 */
void pins_cm_write(struct pins_cm *cm, const struct pin_change *c,
    pins_done_cb done, void *arg);

struct pins_cm_stats {
	uint64_t conflicts;         /* writes answered 409 (or 404) */
	uint64_t invalid_documents; /* states that did not parse */
	int invalid;                /* the current state does not parse */
};
void pins_cm_get_stats(const struct pins_cm *cm, struct pins_cm_stats *st);

/* --- policy, pure --- */

/* What a change does next, from what pin_set_apply() said of its base. */
enum pins_cm_next {
	PINS_CM_WRITE,       /* PUT (or POST) the new document */
	PINS_CM_REREAD,      /* GET the ConfigMap and apply the change again */
	PINS_CM_ANSWER,      /* answer what pin_set_apply() said */
	PINS_CM_FAIL_INVALID /* the ConfigMap's document is invalid */
};
/* `fresh`: the base was just read with a GET; `base_invalid`: it does not
 * parse (then `r` is not looked at). */
enum pins_cm_next pins_cm_decide(
    enum pin_set_result r, int fresh, int base_invalid);

/* What a write's answer leads to. */
enum pins_cm_after {
	PINS_CM_DONE,    /* 2xx: stored */
	PINS_CM_RETRY,   /* 409, or 404 on PUT: read again and re-apply */
	PINS_CM_GIVE_UP, /* ...but after PINS_CM_MAX_ATTEMPTS writes */
	PINS_CM_FAILED   /* anything else: map it (pins_cm_map_status) */
};
/* `attempts`: writes made so far, this one included. */
enum pins_cm_after pins_cm_after_write(
    long status, int transport_error, unsigned attempts);

/* The pause before re-reading after the `conflicts`-th (>= 1) conflict,
 * with `rnd` uniform in [0, 2^32): in [d/2, d), d = PINS_CM_RETRY_BASE_MS
 * doubling up to PINS_CM_RETRY_CAP_MS. */
uint64_t pins_cm_retry_delay_ms(unsigned conflicts, uint32_t rnd);

/* An API failure as a proto-socket code, as scale.c maps its writes. */
uint16_t pins_cm_map_status(long status, int transport_error, int timed_out);

#endif /* PINS_CM_H */
