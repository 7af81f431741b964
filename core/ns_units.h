/*
 * ns_units.h — the namespaces a core serves (--namespaces), each with its
 * own unit of modules: the Deployment cache and its reflector (one
 * list+watch, with its own resourceVersion, backoff and health), the
 * write path, the health probe, the HPA watch and the reconciler.
 *
 * This module only holds the set and finds a unit by namespace; main.c
 * creates and frees the modules in each unit, serve.c dispatches a
 * request to the unit of its namespace.  The first namespace is the
 * default (what a request without one means to the gateway); the order
 * given is kept (HEALTH lists them so), and a sorted order is kept too
 * (LIST over every namespace is sorted by namespace, then name).
 */
#ifndef NS_UNITS_H
#define NS_UNITS_H

#include <stddef.h>

#include "core/core_limits.h"
#include "proto-socket/ps.h"

struct cache;
struct refl;
struct scale;
struct health;
struct hpa_watch;
struct recon;

struct nsu_unit {
	char namespace[PS_MAX_NAMESPACE + 1];
	int home;  /* the home namespace (--namespace): pins, Lease */
	int index; /* in the configured order; 0 is the default */
	struct cache *cache;
	struct refl *refl;
	struct scale *scale;
	struct health *health;
	struct hpa_watch *hpa;
	struct recon *recon; /* NULL without pins */
	void *owner;         /* main.c's, for the modules' hooks */
};

struct nsu;

/*
 * Splits a comma-separated list of namespaces into `out` (configured
 * order).  Each must be a DNS-1123 label, none repeated, 1 to
 * CORE_MAX_NAMESPACES of them; empty items are refused.  0, or -1 with
 * the reason in `err`.
 */
int nsu_parse_list(const char *list,
    char out[CORE_MAX_NAMESPACES][PS_MAX_NAMESPACE + 1], size_t *n, char *err,
    size_t errsz);

/*
 * The set, with empty units (every module pointer NULL).  `names` as
 * nsu_parse_list leaves them (checked again: NULL with errno EINVAL);
 * `home` marks the unit of that namespace, if served.
 */
struct nsu *nsu_new(
    const char names[][PS_MAX_NAMESPACE + 1], size_t n, const char *home);
/* Frees the set only: the modules in its units are the caller's. */
void nsu_free(struct nsu *s);

size_t nsu_count(const struct nsu *s);
/* The i-th namespace in the configured order (0: the default). */
struct nsu_unit *nsu_at(struct nsu *s, size_t i);
/* The i-th namespace in sorted (byte) order. */
struct nsu_unit *nsu_sorted(struct nsu *s, size_t i);
/* The unit of `ns`, NULL when it is not served. */
struct nsu_unit *nsu_find(struct nsu *s, const char *ns);
/* The home namespace's unit, NULL when it is not served. */
struct nsu_unit *nsu_home(struct nsu *s);
/* "a, b, c" in the configured order, for messages. */
const char *nsu_names(const struct nsu *s);

#endif /* NS_UNITS_H */
