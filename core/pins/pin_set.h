/*
 * pin_set.h — one pins document in memory, as the core uses it: the
 * entries of the namespaces it serves, sorted by (namespace, name)
 * (looked up, listed, changed), and every other namespace's entries kept
 * aside, to be written back exactly as they were and never counted,
 * listed or acted on.
 *
 * Pure: no I/O, no policy about where the document lives.  Both pin
 * stores build on it (pins.c: a local file; pins_cm.c: a ConfigMap), and
 * the read-modify-write of a change is pin_set_apply() on whatever the
 * store last read.  A set is never changed in place: a change makes a new
 * set, so that a failed write leaves the old one as it was.
 */
#ifndef PIN_SET_H
#define PIN_SET_H

#include <stddef.h>
#include <stdint.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

struct pin_set;

/*
 * What a set is for: the served namespaces and the bounds of a change.
 * The same for every set of one store (a set parsed with one and changed
 * with another would put entries on the wrong side).  The caller keeps
 * the strings alive; they are valid DNS-1123 labels, without duplicates.
 */
struct pin_set_cfg {
	const char *const *namespaces; /* served */
	size_t n_namespaces;           /* 1..PS_MAX_NAMESPACES */
	uint32_t max_replicas;
	size_t max_per_namespace; /* pins of one served namespace */
	size_t max_total;         /* pins of all served namespaces */
};

/* 1 when `ns` is one of cfg's served namespaces. */
int pin_set_serves(const struct pin_set_cfg *cfg, const char *ns);

/* An empty set (no document, or "[]"); NULL when out of memory. */
struct pin_set *pin_set_new(void);
void pin_set_free(struct pin_set *s);

/*
 * Parses a document (pin_doc.h) for a core serving cfg's namespaces: 0
 * with the set in *out, or -1 with a one-line reason in `err` (*out
 * untouched).  Besides pin_doc_parse()'s refusals, a count above
 * cfg->max_replicas in any namespace is refused: the core could not write
 * it.  The per-namespace and total bounds are not checked here (they stop
 * new pins, pin_set_apply): a document people wrote is served as it is.
 */
int pin_set_parse(const char *buf, size_t len, const struct pin_set_cfg *cfg,
    struct pin_set **out, char *err, size_t errsz);

/* Pins of every served namespace / of served namespace `ns` (0 for one
 * not served) / entries of all namespaces, served or not. */
size_t pin_set_count(const struct pin_set *s);
size_t pin_set_count_ns(const struct pin_set *s, const char *ns);
size_t pin_set_total(const struct pin_set *s);

/* The pinned count of `name` in `ns`: 0, or -1 when it has no pin (or
 * `ns` is not served). */
int pin_set_get(const struct pin_set *s, const char *ns, const char *name,
    uint32_t *replicas);

/* 1 when `name` in `ns` has a pin that is suspended (kept, not
 * reconciled). */
int pin_set_suspended(
    const struct pin_set *s, const char *ns, const char *name);

/*
 * The first served pin after (`after_ns`, `after_name`) in (namespace,
 * name) order ("", "" for the first), of namespace `ns_filter` only
 * unless it is NULL or "": 1 with it in *out (namespace included), 0 when
 * there is none.  O(log n).
 */
int pin_set_next(const struct pin_set *s, const char *ns_filter,
    const char *after_ns, const char *after_name, struct ps_pin *out);

/* A requested change of one pin. */
struct pin_change {
	const char *namespace; /* untrusted: must be served */
	const char *name;      /* untrusted: validated by pin_set_apply */
	int del;               /* 1: remove the pin; 0: set it to `replicas` */
	uint32_t replicas;
	int suspended; /* set: kept, not reconciled (pin_entry.suspended) */
};

enum pin_set_result {
	PIN_SET_CHANGED,    /* *out is the new set */
	PIN_SET_SAME,       /* the pin is already so: nothing to write */
	PIN_SET_NO_PIN,     /* removal of a pin that does not exist */
	PIN_SET_REFUSED,    /* bad name or count, too many pins: `err` says */
	PIN_SET_NOT_SERVED, /* the namespace is not served: `err` says */
	PIN_SET_NOMEM
};

/*
 * Applies `c` to `base` (not changed).  *had and *old say whether `base`
 * had a pin for the name and its count (for every result but
 * REFUSED/NOT_SERVED/NOMEM, where they are 0).  Only PIN_SET_CHANGED sets
 * *out.  A new pin beyond cfg's per-namespace or total bound, or beyond
 * PIN_DOC_MAX_ENTRIES entries in the document, is REFUSED.
 */
enum pin_set_result pin_set_apply(const struct pin_set *base,
    const struct pin_set_cfg *cfg, const struct pin_change *c,
    struct pin_set **out, int *had, uint32_t *old, char *err, size_t errsz);

/* The message of a namespace cfg does not serve, as the core answers it:
 * `namespace "x" is not served by this replicad (namespaces: a, b)`. */
void pin_set_not_served(
    const struct pin_set_cfg *cfg, const char *ns, char *buf, size_t bufsz);

/*
 * The whole document, every namespace, sorted like a parsed one (so that
 * it reads the same whichever core wrote it), without a final newline:
 * 0 with a malloc'ed buffer (not NUL-terminated) in *doc, -1 when out of
 * memory.
 */
int pin_set_generate(const struct pin_set *s, char **doc, size_t *len);

/* Calls `cb` for each served (namespace, name) whose pin differs between
 * `a` and `b` (added, removed, another count or suspension), in
 * (namespace, name) order.  NULL is an empty set. */
void pin_set_diff(const struct pin_set *a, const struct pin_set *b,
    void (*cb)(void *arg, const char *ns, const char *name), void *arg);

#endif /* PIN_SET_H */
