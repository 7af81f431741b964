/*
 * pins.h — the pinned desired counts of RFD 180722: which Deployments of
 * the core's namespace replicad keeps at a stored count.  One interface,
 * two backends:
 *
 *   - a local file (--pin-file; pin_doc.h's JSON replaced atomically on
 *     each change): a change completes before pins_put() returns;
 *   - a ConfigMap of the core's namespace (--pin-configmap; pins_cm.h),
 *     shared by several core replicas: read with list+watch, changed by
 *     read-modify-write with optimistic concurrency; a change completes
 *     later, from the event loop.
 *
 * Either way a change is stored first and applied in memory only once the
 * store holds it: a failed write answers an error and changes nothing.
 * The document may name other namespaces (one store shared by several
 * cores, or edited by hand); their entries are kept and written back as
 * they were.  Every change of the pins in memory, whoever made it (this
 * core, another replica, a person with kubectl), is reported per name
 * through hooks.changed_cb, so that the reconciler undoes drift with the
 * current pins.  Every change requested here is audit-logged once its
 * outcome is known, also when the requester has gone (pins_detach).
 *
 * Not here: what a pin makes happen (reconcile.c), who may set one (the
 * gateway's allow-list), whether the Deployment exists (serve.c).
 */
#ifndef PINS_H
#define PINS_H

#include <stddef.h>
#include <stdint.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

struct event_base;
struct kc;
struct pins;
struct pins_op;

/* Outcomes (pins_result.rc). */
enum {
	PINS_REFUSED = -1,      /* bad name or count, too many pins, too big */
	PINS_STORE_FAILED = -2, /* the store could not be read or written */
	PINS_NO_PIN = 1         /* pins_delete: there was none */
};

/* What became of a pins_put / pins_delete. */
struct pins_result {
	int rc;        /* 0, PINS_NO_PIN, PINS_REFUSED, PINS_STORE_FAILED */
	uint16_t code; /* 0 on success, else the enum ps_code to answer */
	unsigned retry_after; /* seconds, with PS_E_UNAVAILABLE */
	char name[PS_MAX_NAME + 1];
	int had;           /* there was a pin before the change */
	uint32_t old;      /* ...and its count */
	uint32_t replicas; /* put: the count now pinned; delete: the one
	                    * removed */
	char message[PS_MAX_MESSAGE + 1]; /* with code != 0, for the client */
};

/* Called exactly once per change unless detached; may run before
 * pins_put/pins_delete return (the file store, refused input). */
typedef void (*pins_done_cb)(void *arg, const struct pins_result *res);

struct pins_hooks {
	/* The pin of `name` was set, changed or removed in memory. */
	void (*changed_cb)(void *arg, const char *name);
	void *arg;
};

/*
 * The file store at `path` for `namespace`.  A missing file is created
 * holding "[]" (so that a path the core cannot write fails at start, not
 * at the first pin); an unreadable or invalid one is refused.  Counts
 * above `max_replicas` are refused too (the core would not be allowed to
 * write them).  Loaded at once.  NULL with a one-line reason in `err`.
 */
struct pins *pins_open_file(const char *path, const char *namespace,
    uint32_t max_replicas, const struct pins_hooks *hooks, char *err,
    size_t errsz);

/*
 * The ConfigMap store: ConfigMap `name` (a DNS-1123 subdomain) of
 * `namespace`, data["pins.json"] (PINS_CM_KEY).  Nothing is read before
 * pins_start(); until the first read succeeds pins_loaded() is 0.  NULL
 * with a reason in `err`.
 */
struct pins *pins_open_configmap(struct event_base *base, struct kc *kc,
    const char *namespace, const char *name, uint32_t max_replicas,
    const struct pins_hooks *hooks, char *err, size_t errsz);
/* Starts reading the store (the file store: nothing to do).  0 or -1. */
int pins_start(struct pins *p);
/* Changes in progress get PS_E_UNAVAILABLE "shutting down" (audited). */
void pins_free(struct pins *p);

/* 1 once the pins are known (the file: at once; the ConfigMap: after
 * its first successful read).  Before that there are no pins, and
 * pins_not_loaded() says why, for an UNAVAILABLE answer. */
int pins_loaded(const struct pins *p);
const char *pins_not_loaded(const struct pins *p);
/* Where the pins are kept, for messages ("file /x", "ConfigMap ns/n"). */
const char *pins_where(const struct pins *p);

/* Pins of the core's namespace. */
size_t pins_count(const struct pins *p);

/* The pinned count of `name`: 0, or -1 when it has no pin. */
int pins_get(const struct pins *p, const char *name, uint32_t *replicas);

/* 1 when `name`'s pin is stored suspended: kept, not reconciled. */
int pins_suspended(const struct pins *p, const char *name);

/*
 * The first pin whose name is greater than `after` ("" for the first):
 * 1 with it in *out, or 0 when there is none.  O(log n): for streaming
 * PIN_LIST across loop turns while pins change.
 */
int pins_next(const struct pins *p, const char *after, struct ps_pin *out);

/*
 * Sets the pin of `name` (a DNS-1123 subdomain, re-validated) to
 * `replicas`, suspended or not, on behalf of `identity` (for the audit
 * line).  `done` gets
 * rc 0 with had/old (setting the count already pinned is a success), or
 * an error and nothing changed.  Returns the change for pins_detach(),
 * or NULL when `done` has already been called.
 */
struct pins_op *pins_put(struct pins *p, const char *name, uint32_t replicas,
    int suspended, const char *identity, long peer_uid, pins_done_cb done,
    void *arg);

/* Removes the pin of `name`: rc 0 with its count in `old`/`replicas`,
 * PINS_NO_PIN (code PS_E_NOT_FOUND) when there was none, or an error
 * (the pin stays).  Returns as pins_put() does. */
struct pins_op *pins_delete(struct pins *p, const char *name,
    const char *identity, long peer_uid, pins_done_cb done, void *arg);

/*
 * A dry run of pins_put (del 0) or pins_delete (del 1): the answer it
 * would give now, from the pins in memory, changing nothing.  Not
 * audited here (the caller audits the dry run).
 */
void pins_try(struct pins *p, const char *name, int del, uint32_t replicas,
    int suspended, struct pins_result *res);

/* The requester is gone: `done` will not be called; the change goes on
 * and is audited. */
void pins_detach(struct pins_op *op);

/* The audit line of a pin change (`what` "pin" or "unpin"), for the
 * refusals decided before the store is asked. */
void pins_audit(const char *what, const char *identity, long peer_uid,
    const char *name, int had, uint32_t old, int has_new, uint32_t new,
    const char *outcome);

/* Counters for /metrics. */
struct pins_stats {
	uint64_t store_failures;    /* changes the store refused or failed */
	uint64_t conflicts;         /* ConfigMap writes answered 409 */
	uint64_t invalid_documents; /* ConfigMap states that did not parse */
	int loaded;
	int invalid; /* the ConfigMap now holds a document that does not
	              * parse (the last good pins are served) */
};
void pins_get_stats(const struct pins *p, struct pins_stats *st);

#endif /* PINS_H */
