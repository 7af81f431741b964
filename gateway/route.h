/*
 * route.h — the gateway's URL space: which path is which route, which
 * methods each route takes, and the {name} check (DNS-1123 subdomain, via
 * proto-socket's validator so both daemons agree).  Pure: no I/O, no
 * libevent, so it is unit-tested directly.
 *
 * Issue #15: every /api/v1 route but /api/v1/pins also exists under
 * /api/v1/namespaces/{ns}/...  (ns_given); {ns} is checked as a DNS-1123
 * label.  Without the prefix a route means the core's default namespace
 * (LIST, REPLICAS, PIN) or every namespace (PINS); api.c decides which.
 * /api/v1/namespaces/{ns}/pins is PINS with ns_given.  The route id, and
 * so the metrics label, is the same with and without the prefix.
 *
 * Paths are matched on the raw (not percent-decoded) path: a '%' can never
 * be part of a valid name, so an encoded name is simply an invalid one.
 */
#ifndef GW_ROUTE_H
#define GW_ROUTE_H

#include <stddef.h>

#include "proto-socket/ps.h"

enum route_id {
	ROUTE_NONE = 0, /* 404 */
	ROUTE_LIST,     /* [/api/v1/namespaces/{ns}]/api/v1/deployments */
	ROUTE_REPLICAS, /* .../deployments/{name}/replicas */
	ROUTE_PIN,      /* .../deployments/{name}/pin */
	ROUTE_PINS,     /* /api/v1/pins, /api/v1/namespaces/{ns}/pins */
	ROUTE_HEALTHZ,  /* /healthz */
	ROUTE_COUNT
};

/* Methods as a bit mask. */
#define ROUTE_M_GET    0x01u
#define ROUTE_M_POST   0x02u
#define ROUTE_M_PUT    0x04u
#define ROUTE_M_DELETE 0x08u
#define ROUTE_M_OTHER  0x80u /* any method we never serve */

struct route_match {
	enum route_id id;
	int name_ok;                   /* routes with {name}: it is valid */
	char name[PS_MAX_NAME + 1];    /* valid when name_ok */
	int ns_given;                  /* under /api/v1/namespaces/{ns} */
	int ns_ok;                     /* ns_given: {ns} is a DNS-1123 label */
	char ns[PS_MAX_NAMESPACE + 1]; /* valid when ns_ok */
};

/* Fills `m` for the raw path `path` (`len` bytes, no NUL needed). */
void route_match(const char *path, size_t len, struct route_match *m);
/* Methods `id` accepts. */
unsigned route_methods(enum route_id id);
/* Value of the Allow header for `id`, e.g. "GET, POST". */
const char *route_allow(enum route_id id);
/* Stable label for metrics and logs ("list", "replicas", ...). */
const char *route_label(enum route_id id);
/* Method name -> ROUTE_M_* (ROUTE_M_OTHER for anything else). */
unsigned route_method_bit(const char *method);
/* Whether serving `method_bit` on `id` writes (needs allow-write). */
int route_is_write(enum route_id id, unsigned method_bit);

#endif /* GW_ROUTE_H */
