/*
 * pins.h — the pinned desired counts of RFD 180722: which Deployments of
 * the core's namespace replicad keeps at a stored count, persisted in a
 * local file (pin_doc.h's JSON) that is replaced atomically on each change.
 *
 * Changes are persisted first and applied in memory only once the file
 * holds them: a failed write answers an error and changes nothing.  The
 * file may name other namespaces (one file shared by several cores over
 * time, or edited by hand); their entries are kept as they are and
 * written back unchanged.
 *
 * Not here: what a pin makes happen (reconcile.c), who may set one
 * (the gateway's allow-list; the core audit-logs each change in serve.c).
 */
#ifndef PINS_H
#define PINS_H

#include <stddef.h>
#include <stdint.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

struct pins;

/* Results of pins_put / pins_delete besides 0. */
enum {
	PINS_REFUSED = -1,      /* bad name or count, too many pins */
	PINS_STORE_FAILED = -2, /* the file could not be written */
	PINS_NO_PIN = 1         /* pins_delete: there was none */
};

/*
 * Opens the store at `path` for `namespace`.  A missing file is created
 * holding "[]" (so that a path the core cannot write fails at start, not
 * at the first pin); an unreadable or invalid one is refused.  Counts above
 * `max_replicas` are refused too (the core would not be allowed to write
 * them).  NULL with a one-line reason in `err` on failure.
 */
struct pins *pins_open_file(const char *path, const char *namespace,
    uint32_t max_replicas, char *err, size_t errsz);
void pins_free(struct pins *p);

/* Pins of the core's namespace. */
size_t pins_count(const struct pins *p);

/* The pinned count of `name`: 0, or -1 when it has no pin. */
int pins_get(const struct pins *p, const char *name, uint32_t *replicas);

/*
 * The first pin whose name is greater than `after` ("" for the first):
 * 1 with it in *out, or 0 when there is none.  O(log n): for streaming
 * PIN_LIST across loop turns while pins change.
 */
int pins_next(const struct pins *p, const char *after, struct ps_pin *out);

/*
 * Sets the pin of `name` (a DNS-1123 subdomain) to `replicas`.  Returns 0,
 * with *had = 1 and the previous count in *old when there was a pin (else
 * *had = 0); PINS_REFUSED or PINS_STORE_FAILED with a reason in `err`,
 * and nothing changed.
 */
int pins_put(struct pins *p, const char *name, uint32_t replicas, int *had,
    uint32_t *old, char *err, size_t errsz);

/*
 * Removes the pin of `name`: 0 with its count in *old; PINS_NO_PIN when
 * there was none; PINS_STORE_FAILED with a reason in `err` when the file
 * could not be written (the pin stays).
 */
int pins_delete(
    struct pins *p, const char *name, uint32_t *old, char *err, size_t errsz);

/* Counters for /metrics. */
struct pins_stats {
	uint64_t store_failures; /* writes of the file that failed */
};
void pins_get_stats(const struct pins *p, struct pins_stats *st);

#endif /* PINS_H */
