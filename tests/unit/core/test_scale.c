/*
 * test_scale.c — the write path's mapping of Kubernetes API answers to
 * proto-socket error codes (which the gateway maps to HTTP), and its
 * refusal of bad input before any API call.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <event2/event.h>

#include "core/kube/cache.h"
#include "core/kube/kclient.h"
#include "core/kube/scale.h"
#include "proto-socket/ps.h"

struct map_case {
	const char *doc;
	long status;
	int transport_error;
	int timed_out;
	uint16_t want;
};

static const struct map_case cases[] = {
    {"missing deployment", 404, 0, 0, PS_E_NOT_FOUND},
    {"negative/invalid replicas (422 Invalid)", 422, 0, 0, PS_E_INVALID},
    {"bad request", 400, 0, 0, PS_E_INVALID},
    {"stale resourceVersion (409 Conflict)", 409, 0, 0, PS_E_CONFLICT},
    {"token refused (401)", 401, 0, 0, PS_E_FORBIDDEN},
    {"RBAC refused (403)", 403, 0, 0, PS_E_FORBIDDEN},
    {"overloaded (429)", 429, 0, 0, PS_E_UNAVAILABLE},
    {"internal error (500)", 500, 0, 0, PS_E_UNAVAILABLE},
    {"proxy upstream down (502)", 502, 0, 0, PS_E_UNAVAILABLE},
    {"service unavailable (503)", 503, 0, 0, PS_E_UNAVAILABLE},
    {"server-side timeout (504)", 504, 0, 0, PS_E_TIMEOUT},
    {"connection refused", 0, 1, 0, PS_E_UNAVAILABLE},
    {"request timed out", 0, 1, 1, PS_E_TIMEOUT},
    {"an answer we do not expect (418)", 418, 0, 0, PS_E_API},
    {"a redirect (not followed)", 302, 0, 0, PS_E_API},
};

/** Every API answer class maps to its proto-socket code. */
static void
test_scale_map_status_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct map_case *c = &cases[i];
		uint16_t got = scale_map_status(
		    c->status, c->transport_error, c->timed_out);

		if (got != c->want)
			fail_msg("%s: got %s, want %s", c->doc,
			    ps_code_name(got), ps_code_name(c->want));
	}
}

struct answer {
	int calls;
	struct scale_result res;
};

static void
done_cb(void *arg, const struct scale_result *res)
{
	struct answer *a = arg;

	a->calls++;
	a->res = *res;
}

/** Untrusted input is refused before any API call, with INVALID. */
static void
test_scale_refuses_bad_input_without_api_call(void **state)
{
	static const struct {
		const char *doc, *name, *identity;
		uint32_t replicas;
	} bad[] = {
	    {"uppercase name", "Web", "client", 1},
	    {"empty name", "", "client", 1},
	    {"name with slash (path injection)", "a/../b", "client", 1},
	    {"name with query", "a?watch=1", "client", 1},
	    {"over the core's maximum", "web", "client", 11},
	    {"over int32", "web", "client", 0x80000000u},
	    {"identity with a newline (log injection)", "web", "a\nb", 1},
	    {"empty identity", "web", "", 1},
	    {"replicad's own Deployment", "replicad", "client", 1},
	};
	struct event_base *base = event_base_new();
	struct kc_config cfg = {.api_url = "http://127.0.0.1:9"};
	struct kc *kc = kc_new(base, &cfg);
	struct cache *cache = cache_new(10);
	struct scale *s = scale_new(base, kc, cache, "shop", 10, "replicad");

	(void)state;
	assert_non_null(s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct answer a;

		memset(&a, 0, sizeof(a));
		if (scale_start(s, bad[i].name, bad[i].replicas, NULL,
		        bad[i].identity, 10001, done_cb, &a) != NULL ||
		    a.calls != 1 || a.res.code != PS_E_INVALID)
			fail_msg("%s: calls %d code %u", bad[i].doc, a.calls,
			    a.res.code);
	}
	scale_free(s);
	cache_free(cache);
	kc_free(kc);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scale_map_status_table),
	    cmocka_unit_test(test_scale_refuses_bad_input_without_api_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
