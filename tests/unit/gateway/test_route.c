/*
 * test_route.c — the URL space: exact matches, the {name} check
 * (DNS-1123 subdomain), method sets and the Allow values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/route.h"

static void
match(const char *path, enum route_id want, int name_ok)
{
	struct route_match m;

	route_match(path, strlen(path), &m);
	if (m.id != want || (want != ROUTE_NONE && m.name_ok != name_ok))
		fail_msg("%s: got route %d name_ok %d", path, m.id, m.name_ok);
}

/* The five routes, exactly. */
static void
test_route_exact_paths(void **state)
{
	(void)state;
	match("/api/v1/deployments", ROUTE_LIST, 0);
	match("/api/v1/pins", ROUTE_PINS, 0);
	match("/healthz", ROUTE_HEALTHZ, 0);
	match("/api/v1/deployments/frontend/replicas", ROUTE_REPLICAS, 1);
	match("/api/v1/deployments/frontend/pin", ROUTE_PIN, 1);
	match("/api/v1/deployments/a.b-c.d/replicas", ROUTE_REPLICAS, 1);
}

/* Near misses are 404, not a different route. */
static void
test_route_near_misses_are_404(void **state)
{
	(void)state;
	match("/", ROUTE_NONE, 0);
	match("", ROUTE_NONE, 0);
	match("/api/v1/deployments/", ROUTE_NONE, 0);
	match("/api/v1/deployments//replicas", ROUTE_NONE, 0);
	match("/api/v1/deployments/a/b/replicas", ROUTE_NONE, 0);
	match("/api/v1/deployments/a/replicas/", ROUTE_NONE, 0);
	match("/api/v1/deployments/a/scale", ROUTE_NONE, 0);
	match("/api/v1/deploymentsx/a/replicas", ROUTE_NONE, 0);
	match("/api/v2/deployments", ROUTE_NONE, 0);
	match("/API/v1/deployments", ROUTE_NONE, 0);
	match("/healthz/", ROUTE_NONE, 0);
	match("/api/v1/deployments/replicas", ROUTE_NONE, 0);
}

/* Invalid names keep the route (so the answer is 400, not 404). */
static void
test_route_invalid_names(void **state)
{
	char longname[300];

	(void)state;
	match("/api/v1/deployments/Frontend/replicas", ROUTE_REPLICAS, 0);
	match("/api/v1/deployments/a_b/replicas", ROUTE_REPLICAS, 0);
	match("/api/v1/deployments/-a/replicas", ROUTE_REPLICAS, 0);
	match("/api/v1/deployments/a-/replicas", ROUTE_REPLICAS, 0);
	match("/api/v1/deployments/a..b/replicas", ROUTE_REPLICAS, 0);
	match("/api/v1/deployments/.a/pin", ROUTE_PIN, 0);
	match("/api/v1/deployments/%66oo/replicas", ROUTE_REPLICAS, 0);
	match("/api/v1/deployments/a%2fb/replicas", ROUTE_REPLICAS, 0);
	match("/api/v1/deployments/../replicas", ROUTE_REPLICAS, 0);
	/* 253 is the longest valid name, 254 is one too many. */
	memcpy(longname, "/api/v1/deployments/", 20);
	memset(longname + 20, 'a', 253);
	memcpy(longname + 20 + 253, "/pin", 5);
	/* Kubernetes' subdomain rule has no per-label limit. */
	match(longname, ROUTE_PIN, 1);
	memcpy(longname + 20 + 253, "a/pin", 6);
	match(longname, ROUTE_PIN, 0);
}

/* A NUL inside the path is a byte like any other: no truncation. */
static void
test_route_embedded_nul(void **state)
{
	static const char p[] = "/healthz\0/x";
	struct route_match m;

	(void)state;
	route_match(p, sizeof(p) - 1, &m);
	assert_int_equal(m.id, ROUTE_NONE);
}

static void
test_route_methods_and_allow(void **state)
{
	(void)state;
	assert_int_equal(route_methods(ROUTE_LIST), ROUTE_M_GET);
	assert_int_equal(
	    route_methods(ROUTE_REPLICAS), ROUTE_M_GET | ROUTE_M_POST);
	assert_int_equal(route_methods(ROUTE_PIN),
	    ROUTE_M_GET | ROUTE_M_PUT | ROUTE_M_DELETE);
	assert_string_equal(route_allow(ROUTE_REPLICAS), "GET, HEAD, POST");
	assert_string_equal(route_allow(ROUTE_PIN), "GET, HEAD, PUT, DELETE");
	assert_string_equal(route_allow(ROUTE_HEALTHZ), "GET, HEAD");
	assert_int_equal(route_method_bit("HEAD"), ROUTE_M_GET);
	assert_int_equal(route_method_bit("PATCH"), ROUTE_M_OTHER);
	assert_int_equal(route_method_bit("get"), ROUTE_M_OTHER);
	assert_true(route_is_write(ROUTE_REPLICAS, ROUTE_M_POST));
	assert_false(route_is_write(ROUTE_REPLICAS, ROUTE_M_GET));
	assert_true(route_is_write(ROUTE_PIN, ROUTE_M_DELETE));
	assert_false(route_is_write(ROUTE_LIST, ROUTE_M_POST));
}

/* Issue #15: the same routes under /api/v1/namespaces/{ns}. */
static void
nsmatch(const char *path, enum route_id want, int ns_ok, const char *ns,
    int name_ok)
{
	struct route_match m;

	route_match(path, strlen(path), &m);
	if (m.id != want ||
	    (want != ROUTE_NONE &&
	        (!m.ns_given || m.ns_ok != ns_ok || m.name_ok != name_ok ||
	            (ns_ok && strcmp(m.ns, ns) != 0))))
		fail_msg("%s: got route %d ns_given %d ns_ok %d ns %s name_ok "
		         "%d",
		    path, m.id, m.ns_given, m.ns_ok, m.ns, m.name_ok);
}

static void
test_route_namespaces(void **state)
{
	char longns[120], label[64];
	struct route_match m;

	(void)state;
	nsmatch("/api/v1/namespaces/payments/deployments", ROUTE_LIST, 1,
	    "payments", 0);
	nsmatch("/api/v1/namespaces/payments/deployments/web/replicas",
	    ROUTE_REPLICAS, 1, "payments", 1);
	nsmatch("/api/v1/namespaces/a-1/deployments/web/pin", ROUTE_PIN, 1,
	    "a-1", 1);
	nsmatch("/api/v1/namespaces/ops/pins", ROUTE_PINS, 1, "ops", 0);
	nsmatch("/api/v1/namespaces/ops/deployments/Web/pin", ROUTE_PIN, 1,
	    "ops", 0);
	/* The routes without the prefix do not name a namespace. */
	route_match("/api/v1/pins", 12, &m);
	assert_int_equal(m.id, ROUTE_PINS);
	assert_false(m.ns_given);
	route_match("/api/v1/deployments", 19, &m);
	assert_false(m.ns_given);
	/* An invalid {ns} keeps the route (400, not 404). */
	nsmatch(
	    "/api/v1/namespaces/Payments/deployments", ROUTE_LIST, 0, "", 0);
	nsmatch("/api/v1/namespaces/a.b/pins", ROUTE_PINS, 0, "", 0);
	nsmatch("/api/v1/namespaces/-a/deployments/w/replicas", ROUTE_REPLICAS,
	    0, "", 1);
	nsmatch("/api/v1/namespaces/a_b/deployments", ROUTE_LIST, 0, "", 0);
	nsmatch("/api/v1/namespaces/%61/deployments", ROUTE_LIST, 0, "", 0);
	/* 63 is the longest label, 64 one too many. */
	memcpy(longns, "/api/v1/namespaces/", 19);
	memset(longns + 19, 'a', 63);
	strcpy(longns + 19 + 63, "/deployments");
	memset(label, 'a', 63);
	label[63] = '\0';
	nsmatch(longns, ROUTE_LIST, 1, label, 0);
	memset(longns + 19, 'a', 64);
	strcpy(longns + 19 + 64, "/deployments");
	nsmatch(longns, ROUTE_LIST, 0, "", 0);
	/* Near misses are 404. */
	match("/api/v1/namespaces", ROUTE_NONE, 0);
	match("/api/v1/namespaces/", ROUTE_NONE, 0);
	match("/api/v1/namespaces/x", ROUTE_NONE, 0);
	match("/api/v1/namespaces/x/", ROUTE_NONE, 0);
	match("/api/v1/namespaces//deployments", ROUTE_NONE, 0);
	match("/api/v1/namespaces/x/deployments/", ROUTE_NONE, 0);
	match("/api/v1/namespaces/x/y/deployments", ROUTE_NONE, 0);
	match("/api/v1/namespaces/x/healthz", ROUTE_NONE, 0);
	match("/api/v1/namespaces/x/pins/", ROUTE_NONE, 0);
	match("/api/v1/namespaces/x/namespaces/y/pins", ROUTE_NONE, 0);
	match("/api/v1/namespace/x/deployments", ROUTE_NONE, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_route_exact_paths),
	    cmocka_unit_test(test_route_near_misses_are_404),
	    cmocka_unit_test(test_route_invalid_names),
	    cmocka_unit_test(test_route_embedded_nul),
	    cmocka_unit_test(test_route_namespaces),
	    cmocka_unit_test(test_route_methods_and_allow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
