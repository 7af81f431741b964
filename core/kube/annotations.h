/*
 * annotations.h — what an operator tells replicad on the Deployment
 * itself: per-Deployment bounds on the replica count and a switch that
 * suspends its pin.
 *
 *   replicad.io/min-replicas: "2"      writes below 2 are refused
 *   replicad.io/max-replicas: "10"     writes above 10 are refused
 *   replicad.io/pin-suspended: "true"  the reconciler leaves it alone
 *
 * The values are strings written by people: a value that is not a
 * decimal count (0..2147483647, no sign, no spaces), or a min above the
 * max, makes the bounds INVALID, and every write to that Deployment is
 * refused until it is fixed (failing closed: the operator meant to bound
 * it).  Such a Deployment is still listed and readable; a bad annotation
 * never fails the parse of a list.  Pure, no I/O.
 */
#ifndef ANNOTATIONS_H
#define ANNOTATIONS_H

#include <stddef.h>
#include <stdint.h>

#define ANNOT_MIN_REPLICAS  "replicad.io/min-replicas"
#define ANNOT_MAX_REPLICAS  "replicad.io/max-replicas"
#define ANNOT_PIN_SUSPENDED "replicad.io/pin-suspended"

struct deploy_annot {
	uint8_t bounds; /* PS_B_MIN | PS_B_MAX | PS_B_INVALID (ps_codec.h) */
	uint32_t min_replicas; /* valid with PS_B_MIN, else 0 */
	uint32_t max_replicas; /* valid with PS_B_MAX, else 0 */
	uint8_t pin_suspended; /* replicad.io/pin-suspended is "true" */
};

/*
 * One annotation (`key`, `value`, counted bytes) of a Deployment; keys
 * that are not replicad's are ignored.  Returns 1 if the key was ours.
 */
int annot_apply(struct deploy_annot *a, const char *key, size_t key_len,
    const char *value, size_t value_len);

/* After the last annotation: min > max makes the bounds invalid. */
void annot_finish(struct deploy_annot *a);

/*
 * Whether `replicas` may be written under `a`: 0 yes; else -1 and a
 * sentence in `why` naming the bound (for the error answer).
 */
int annot_check(const struct deploy_annot *a, const char *deployment,
    uint32_t replicas, char *why, size_t why_len);

/* The count the reconciler may aim at for a pin of `pin` (the pin
 * clamped into the bounds); equals `pin` when no bound applies. */
uint32_t annot_clamp(const struct deploy_annot *a, uint32_t pin);

#endif /* ANNOTATIONS_H */
