/*
 * route.c — path matching and per-route method sets.  Exact matches only:
 * no trailing slash, no empty segments, no dot segments, no decoding.
 */
#include <string.h>

#include "gateway/route.h"
#include "proto-socket/ps_buf.h"

#define PFX_API         "/api/v1"
#define PFX_NAMESPACES  "/api/v1/namespaces/"
#define SEG_DEPLOYMENTS "/deployments"
#define SFX_REPLICAS    "/replicas"
#define SFX_PIN         "/pin"

static int
equals(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len == n && memcmp(p, lit, n) == 0;
}

static int
has_prefix(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && memcmp(p, lit, n) == 0;
}

static int
has_suffix(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && memcmp(p + len - n, lit, n) == 0;
}

/*
 * What follows /api/v1 or /api/v1/namespaces/{ns}: "/deployments",
 * "/deployments/{name}/replicas", "/deployments/{name}/pin", "/pins".
 */
static void
match_tail(const char *path, size_t len, struct route_match *m)
{
	size_t plen = strlen(SEG_DEPLOYMENTS), nlen;
	const char *name;

	if (equals(path, len, SEG_DEPLOYMENTS)) {
		m->id = ROUTE_LIST;
		return;
	}
	if (equals(path, len, "/pins")) {
		m->id = ROUTE_PINS;
		return;
	}
	/* /deployments/{name}/(replicas|pin) */
	if (len <= plen + 1 || memcmp(path, SEG_DEPLOYMENTS, plen) != 0 ||
	    path[plen] != '/')
		return;
	name = path + plen + 1;
	nlen = len - plen - 1;
	if (has_suffix(name, nlen, SFX_REPLICAS)) {
		nlen -= strlen(SFX_REPLICAS);
		m->id = ROUTE_REPLICAS;
	} else if (has_suffix(name, nlen, SFX_PIN)) {
		nlen -= strlen(SFX_PIN);
		m->id = ROUTE_PIN;
	} else
		return;
	/* The name is one segment: a '/' inside means another path. */
	if (nlen == 0 || memchr(name, '/', nlen) != NULL) {
		m->id = ROUTE_NONE;
		return;
	}
	if (nlen <= PS_MAX_NAME && ps_valid_name(name, nlen) == PS_OK) {
		memcpy(m->name, name, nlen);
		m->name[nlen] = '\0';
		m->name_ok = 1;
	}
}

void
route_match(const char *path, size_t len, struct route_match *m)
{
	size_t plen, nslen;
	const char *ns, *slash;

	memset(m, 0, sizeof(*m));
	m->id = ROUTE_NONE;
	if (equals(path, len, "/healthz")) {
		m->id = ROUTE_HEALTHZ;
		return;
	}
	/* /api/v1/namespaces/{ns}/... (issue #15) */
	if (has_prefix(path, len, PFX_NAMESPACES)) {
		plen = strlen(PFX_NAMESPACES);
		ns = path + plen;
		slash = memchr(ns, '/', len - plen);
		if (slash == NULL || slash == ns)
			return; /* no tail, or an empty {ns} segment */
		nslen = (size_t)(slash - ns);
		match_tail(slash, len - plen - nslen, m);
		if (m->id == ROUTE_NONE)
			return;
		m->ns_given = 1;
		if (nslen <= PS_MAX_NAMESPACE &&
		    ps_valid_namespace(ns, nslen) == PS_OK) {
			memcpy(m->ns, ns, nslen);
			m->ns[nslen] = '\0';
			m->ns_ok = 1;
		}
		return;
	}
	plen = strlen(PFX_API);
	if (has_prefix(path, len, PFX_API))
		match_tail(path + plen, len - plen, m);
}

unsigned
route_methods(enum route_id id)
{
	switch (id) {
	case ROUTE_LIST:
	case ROUTE_PINS:
	case ROUTE_HEALTHZ:
		return ROUTE_M_GET;
	case ROUTE_REPLICAS:
		return ROUTE_M_GET | ROUTE_M_POST;
	case ROUTE_PIN:
		return ROUTE_M_GET | ROUTE_M_PUT | ROUTE_M_DELETE;
	default:
		return 0;
	}
}

const char *
route_allow(enum route_id id)
{
	switch (id) {
	case ROUTE_REPLICAS:
		return "GET, HEAD, POST";
	case ROUTE_PIN:
		return "GET, HEAD, PUT, DELETE";
	case ROUTE_NONE:
	case ROUTE_COUNT:
		return "";
	default:
		return "GET, HEAD";
	}
}

const char *
route_label(enum route_id id)
{
	switch (id) {
	case ROUTE_LIST:
		return "list";
	case ROUTE_REPLICAS:
		return "replicas";
	case ROUTE_PIN:
		return "pin";
	case ROUTE_PINS:
		return "pins";
	case ROUTE_HEALTHZ:
		return "healthz";
	default:
		return "none";
	}
}

unsigned
route_method_bit(const char *method)
{
	/* HEAD is GET without the body (RFC 9110 §9.3.2). */
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return ROUTE_M_GET;
	if (strcmp(method, "POST") == 0)
		return ROUTE_M_POST;
	if (strcmp(method, "PUT") == 0)
		return ROUTE_M_PUT;
	if (strcmp(method, "DELETE") == 0)
		return ROUTE_M_DELETE;
	return ROUTE_M_OTHER;
}

int
route_is_write(enum route_id id, unsigned method_bit)
{
	return (id == ROUTE_REPLICAS || id == ROUTE_PIN) &&
	    (method_bit & (ROUTE_M_POST | ROUTE_M_PUT | ROUTE_M_DELETE)) != 0;
}
