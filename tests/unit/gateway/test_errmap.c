/*
 * test_errmap.c — PROTOCOL.md §5: each wire code to its HTTP status, and
 * Retry-After exactly on the 503s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gateway/errmap.h"
#include "proto-socket/ps.h"

static void
test_errmap_table(void **state)
{
	static const struct {
		uint16_t code;
		int status;
		int retry;
	} want[] = {
	    {PS_E_NOT_FOUND, 404, 0},
	    {PS_E_INVALID, 400, 0},
	    {PS_E_CONFLICT, 409, 0},
	    {PS_E_UNAVAILABLE, 503, 1},
	    {PS_E_FORBIDDEN, 502, 0},
	    {PS_E_TIMEOUT, 504, 0},
	    {PS_E_INTERNAL, 500, 0},
	    {PS_E_PROTOCOL, 500, 0},
	    {PS_E_VERSION, 500, 0},
	    {PS_E_BUSY, 503, 1},
	    {PS_E_API, 502, 0},
	    {PS_E_UNSUPPORTED, 501, 0},
	    {PS_E_STALE, 412, 0},
	    {PS_E_EXPECTED, 409, 0},
	    {PS_E_AUTOSCALED, 409, 0},
	    {PS_E_OUT_OF_BOUNDS, 422, 0},
	    {0, 500, 0},
	    {PS_E_MAX + 1, 500, 0},
	    {0xffff, 500, 0},
	};
	struct errmap m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		errmap_code(want[i].code, &m);
		assert_int_equal(m.status, want[i].status);
		assert_int_equal(m.retry_after, want[i].retry);
		assert_non_null(m.reason);
		assert_non_null(m.message);
	}
}

/* Issue #14: the failed conditions' tokens, as gateway/README.md says. */
static void
test_errmap_conditions(void **state)
{
	struct errmap m;

	(void)state;
	errmap_code(PS_E_STALE, &m);
	assert_string_equal(m.reason, "precondition_failed");
	errmap_code(PS_E_EXPECTED, &m);
	assert_string_equal(m.reason, "precondition_failed");
	errmap_code(PS_E_AUTOSCALED, &m);
	assert_string_equal(m.reason, "autoscaled");
	errmap_code(PS_E_OUT_OF_BOUNDS, &m);
	assert_string_equal(m.reason, "out_of_bounds");
	errmap_code(PS_E_CONFLICT, &m);
	assert_string_equal(m.reason, "conflict");
}

/* Client faults are 4xx, service and cluster faults 5xx. */
static void
test_errmap_class(void **state)
{
	struct errmap m;
	uint16_t c;

	(void)state;
	for (c = 1; c <= PS_E_MAX; c++) {
		errmap_code(c, &m);
		if (c == PS_E_NOT_FOUND || c == PS_E_INVALID ||
		    c == PS_E_CONFLICT || c == PS_E_STALE ||
		    c == PS_E_EXPECTED || c == PS_E_AUTOSCALED ||
		    c == PS_E_OUT_OF_BOUNDS)
			assert_true(m.status >= 400 && m.status < 500);
		else
			assert_true(m.status >= 500);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errmap_table),
	    cmocka_unit_test(test_errmap_class),
	    cmocka_unit_test(test_errmap_conditions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
