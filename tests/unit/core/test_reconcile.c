/*
 * test_reconcile.c — the reconciler's rate-limit policy, which is pure:
 * the per-Deployment delay sequence and the token bucket's arithmetic
 * (burst, refill, waiting time, no overflow after a long idle time).  The
 * reconciler's behaviour against the API is tested end to end in
 * tests/component/core_pins_test.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/core_limits.h"
#include "core/pins/reconcile.h"

/** 1 s, 2 s, 4 s ... capped at 5 min, also for huge counts. */
static void
test_recon_delay(void **state)
{
	(void)state;
	assert_int_equal(recon_delay_ms(1), RECON_DELAY_INITIAL_MS);
	assert_int_equal(recon_delay_ms(2), 2 * RECON_DELAY_INITIAL_MS);
	assert_int_equal(recon_delay_ms(3), 4 * RECON_DELAY_INITIAL_MS);
	assert_int_equal(recon_delay_ms(9), 256000);
	assert_int_equal(recon_delay_ms(10), RECON_DELAY_MAX_MS);
	assert_int_equal(recon_delay_ms(64), RECON_DELAY_MAX_MS);
	assert_int_equal(recon_delay_ms(4000000000u), RECON_DELAY_MAX_MS);
	for (unsigned n = 1; n < 40; n++)
		assert_true(recon_delay_ms(n + 1) >= recon_delay_ms(n));
}

/** A full bucket gives RECON_BURST writes at once, then one per
 *  1000/RECON_RATE ms; the wait it reports is exactly enough. */
static void
test_recon_bucket_burst_then_rate(void **state)
{
	struct recon_bucket b;
	const uint64_t t0 = 1000000, step = 1000 / RECON_RATE;
	uint64_t wait;

	(void)state;
	recon_bucket_init(&b, t0);
	for (int i = 0; i < RECON_BURST; i++)
		assert_int_equal(recon_bucket_take(&b, t0), 0);
	wait = recon_bucket_take(&b, t0);
	assert_int_equal(wait, step);
	/* One ms early: still waiting, and nothing was taken. */
	assert_int_equal(recon_bucket_take(&b, t0 + step - 1), 1);
	assert_int_equal(recon_bucket_take(&b, t0 + step), 0);
	assert_int_equal(recon_bucket_take(&b, t0 + step), step);
	/* Over a second of steady demand: RECON_RATE writes. */
	{
		int got = 0;

		for (uint64_t t = t0 + step + 1; t <= t0 + step + 1000; t++)
			got += recon_bucket_take(&b, t) == 0;
		assert_int_equal(got, RECON_RATE);
	}
}

/** Idle for days: the bucket is full again, not beyond, no overflow;
 *  a clock that seems to go back changes nothing. */
static void
test_recon_bucket_idle_and_clock(void **state)
{
	struct recon_bucket b;
	const uint64_t t0 = 5000;
	int got = 0;

	(void)state;
	recon_bucket_init(&b, t0);
	for (int i = 0; i < RECON_BURST; i++)
		assert_int_equal(recon_bucket_take(&b, t0), 0);
	assert_true(recon_bucket_take(&b, t0 - 100) > 0); /* earlier time */
	while (recon_bucket_take(&b, UINT64_MAX / 2) == 0)
		got++;
	assert_int_equal(got, RECON_BURST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_recon_delay),
	    cmocka_unit_test(test_recon_bucket_burst_then_rate),
	    cmocka_unit_test(test_recon_bucket_idle_and_clock),
	};

	return cmocka_run_group_tests_name("reconcile", tests, NULL, NULL);
}
