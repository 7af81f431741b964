/*
 * pin_set.h — one pins document in memory, as the core uses it: the
 * entries of its own namespace sorted by name (looked up, listed,
 * changed) and every other namespace's entries kept aside, to be written
 * back exactly as they were.
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

/* An empty set (no document, or "[]"); NULL when out of memory. */
struct pin_set *pin_set_new(void);
void pin_set_free(struct pin_set *s);

/*
 * Parses a document (pin_doc.h) for the core of namespace `ns`: 0 with the
 * set in *out, or -1 with a one-line reason in `err` (*out untouched).
 * Besides pin_doc_parse()'s refusals, a count above `max_replicas` in any
 * namespace is refused: the core could not write it.
 */
int pin_set_parse(const char *buf, size_t len, const char *ns,
    uint32_t max_replicas, struct pin_set **out, char *err, size_t errsz);

/* Pins of the core's namespace / entries of all namespaces. */
size_t pin_set_count(const struct pin_set *s);
size_t pin_set_total(const struct pin_set *s);

/* The pinned count of `name`: 0, or -1 when it has no pin. */
int pin_set_get(const struct pin_set *s, const char *name, uint32_t *replicas);

/* 1 when `name` has a pin that is suspended (kept, not reconciled). */
int pin_set_suspended(const struct pin_set *s, const char *name);

/* The first pin whose name is greater than `after` ("" for the first):
 * 1 with it in *out, 0 when there is none.  O(log n). */
int pin_set_next(
    const struct pin_set *s, const char *after, struct ps_pin *out);

/* A requested change of one pin. */
struct pin_change {
	const char *name; /* untrusted: validated by pin_set_apply */
	int del;          /* 1: remove the pin; 0: set it to `replicas` */
	uint32_t replicas;
	int suspended; /* set: kept, not reconciled (pin_entry.suspended) */
};

enum pin_set_result {
	PIN_SET_CHANGED, /* *out is the new set */
	PIN_SET_SAME,    /* the pin is already so: nothing to write */
	PIN_SET_NO_PIN,  /* removal of a pin that does not exist */
	PIN_SET_REFUSED, /* bad name or count, too many pins: `err` says why */
	PIN_SET_NOMEM
};

/*
 * Applies `c` to `base` (not changed) for namespace `ns`.  *had and *old
 * say whether `base` had a pin for the name and its count (for every
 * result but REFUSED/NOMEM).  Only PIN_SET_CHANGED sets *out.
 */
enum pin_set_result pin_set_apply(const struct pin_set *base, const char *ns,
    uint32_t max_replicas, const struct pin_change *c, struct pin_set **out,
    int *had, uint32_t *old, char *err, size_t errsz);

/*
 * The whole document, every namespace, sorted like a parsed one (so that
 * it reads the same whichever core wrote it), without a final newline:
 * 0 with a malloc'ed buffer (not NUL-terminated) in *doc, -1 when out of
 * memory.
 */
int pin_set_generate(const struct pin_set *s, char **doc, size_t *len);

/* Calls `cb` for each name of the core's namespace whose pin differs
 * between `a` and `b` (added, removed or another count), in name order.
 * NULL is an empty set. */
void pin_set_diff(const struct pin_set *a, const struct pin_set *b,
    void (*cb)(void *arg, const char *name), void *arg);

#endif /* PIN_SET_H */
