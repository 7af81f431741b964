/*
 * pins.h — the pinned desired counts of RFD 180722: which Deployments of
 * the namespaces the core serves replicad keeps at a stored count.  One
 * interface, two backends:
 *
 *   - a local file (--pin-file; pin_doc.h's JSON replaced atomically on
 *     each change): a change completes before pins_put() returns;
 *   - a ConfigMap of the core's home namespace (--pin-configmap;
 *     pins_cm.h), which need not be a served one,
 *     shared by several core replicas: read with list+watch, changed by
 *     read-modify-write with optimistic concurrency; a change completes
 *     later, from the event loop.
 *
 * Either way a change is stored first and applied in memory only once the
 * store holds it: a failed write answers an error and changes nothing.
 * A pin is (namespace, name).  The document may name namespaces the core
 * does not serve (one store shared by several cores, or edited by hand);
 * their entries are kept and written back as they were, never counted,
 * listed or changed, and a request for such a namespace is answered
 * PINS_NOT_SERVED (PS_E_NOT_FOUND).  Every change of the pins in memory,
 * whoever made it (this core, another replica, a person with kubectl), is
 * reported per (namespace, name) through hooks.changed_cb, so that the
 * reconciler undoes drift with the current pins.  Every change requested here
 * is audit-logged once its outcome is known, also when the requester has gone
 * (pins_detach).
 *
 * Not here: what a pin makes happen (reconcile.c), who may set one (the
 * gateway's allow-list), whether the Deployment exists (serve_pins.c).
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
	PINS_NO_PIN = 1,        /* pins_delete: there was none */
	PINS_NOT_SERVED = 2     /* the namespace is not served: nothing
	                         * done (code PS_E_NOT_FOUND) */
};

/* What became of a pins_put / pins_delete. */
struct pins_result {
	int rc;        /* 0, PINS_NO_PIN, PINS_NOT_SERVED, PINS_REFUSED,
	                * PINS_STORE_FAILED */
	uint16_t code; /* 0 on success, else the enum ps_code to answer */
	unsigned retry_after; /* seconds, with PS_E_UNAVAILABLE */
	char namespace[PS_MAX_NAMESPACE + 1];
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
	/* The pin of `name` in served namespace `ns` was set, changed or
	 * removed in memory. */
	void (*changed_cb)(void *arg, const char *ns, const char *name);
	void *arg;
};

/*
 * The file store at `path` for the served namespaces `namespaces[0..n)`
 * (1..PS_MAX_NAMESPACES DNS-1123 labels, no duplicates; copied).  At most
 * CORE_MAX_PINS_PER_NAMESPACE pins per served namespace and CORE_MAX_PINS
 * in all may be added.  A missing file is created
 * holding "[]" (so that a path the core cannot write fails at start, not
 * at the first pin); an unreadable or invalid one is refused.  Counts
 * above `max_replicas` are refused too (the core would not be allowed to
 * write them).  Loaded at once.  NULL with a one-line reason in `err`.
 */
struct pins *pins_open_file(const char *path, const char *const *namespaces,
    size_t n, uint32_t max_replicas, const struct pins_hooks *hooks, char *err,
    size_t errsz);

/*
 * The ConfigMap store: ConfigMap `name` (a DNS-1123 subdomain) of the
 * home namespace `home`, data["pins.json"] (PINS_CM_KEY), serving
 * `namespaces[0..n)` as pins_open_file() does.  Nothing is read before
 * pins_start(); until the first read succeeds pins_loaded() is 0.  NULL
 * with a reason in `err`.
 */
struct pins *pins_open_configmap(struct event_base *base, struct kc *kc,
    const char *home, const char *name, const char *const *namespaces, size_t n,
    uint32_t max_replicas, const struct pins_hooks *hooks, char *err,
    size_t errsz);
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

/* The served namespaces, in the order given at open: how many, and the
 * i-th (0 <= i < pins_namespaces(p)). */
size_t pins_namespaces(const struct pins *p);
const char *pins_namespace(const struct pins *p, size_t i);

/* 1 when `ns` is a served namespace. */
int pins_serves(const struct pins *p, const char *ns);
/* The answer's message for a namespace not served:
 * `namespace "x" is not served by this replicad (namespaces: a, b)`. */
void pins_not_served(
    const struct pins *p, const char *ns, char *buf, size_t bufsz);

/* Pins of every served namespace / of served namespace `ns` (0 for
 * one not served). */
size_t pins_count(const struct pins *p);
size_t pins_count_ns(const struct pins *p, const char *ns);

/* The pinned count of `name` in `ns`: 0, or -1 when it has no pin (or
 * `ns` is not served: pins_serves() tells which). */
int pins_get(
    const struct pins *p, const char *ns, const char *name, uint32_t *replicas);

/* 1 when the pin of `name` in `ns` is stored suspended: kept, not
 * reconciled. */
int pins_suspended(const struct pins *p, const char *ns, const char *name);

/*
 * The first served pin after (`after_ns`, `after_name`) in (namespace,
 * name) order ("", "" for the first), of namespace `ns_filter` only
 * unless that is NULL or "" (every served namespace): 1 with it in *out
 * (namespace included), or 0 when there is none.  O(log n): for
 * streaming PIN_LIST across loop turns while pins change.
 */
int pins_next(const struct pins *p, const char *ns_filter, const char *after_ns,
    const char *after_name, struct ps_pin *out);

/*
 * Sets the pin of `name` (a DNS-1123 subdomain, re-validated) in `ns`
 * (re-checked: served, else PINS_NOT_SERVED and nothing is written) to
 * `replicas`, suspended or not, on behalf of `identity` (for the audit
 * line).  `done` gets rc 0 with had/old (setting the count already
 * pinned is a success), or an error and nothing changed.  Returns the change
 * for pins_detach(), or NULL when `done` has already been called.
 */
struct pins_op *pins_put(struct pins *p, const char *ns, const char *name,
    uint32_t replicas, int suspended, const char *identity, long peer_uid,
    pins_done_cb done, void *arg);

/* Removes the pin of `name` in `ns`: rc 0 with its count in `old`/`replicas`,
 * PINS_NO_PIN (code PS_E_NOT_FOUND) when there was none, or an error
 * (the pin stays).  Returns as pins_put() does. */
struct pins_op *pins_delete(struct pins *p, const char *ns, const char *name,
    const char *identity, long peer_uid, pins_done_cb done, void *arg);

/*
 * A dry run of pins_put (del 0) or pins_delete (del 1): the answer it
 * would give now, from the pins in memory, changing nothing.  Not
 * audited here (the caller audits the dry run).
 */
void pins_try(struct pins *p, const char *ns, const char *name, int del,
    uint32_t replicas, int suspended, struct pins_result *res);

/* The requester is gone: `done` will not be called; the change goes on
 * and is audited. */
void pins_detach(struct pins_op *op);

/* The audit line of a pin change (`what` "pin" or "unpin"), for the
 * refusals decided before the store is asked. */
void pins_audit(const char *what, const char *identity, long peer_uid,
    const char *ns, const char *name, int had, uint32_t old, int has_new,
    uint32_t new, const char *outcome);

/* Counters for /metrics (per namespace: pins_count_ns). */
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
