/*
 * test_hist.c — the bench's latency histogram: exact below 128 µs,
 * within 1/64 above, percentiles by rank, and the edges (empty, one
 * sample, values past the last bucket).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "tests/bench/hist.h"

static struct hist H; /* 19 KiB: off the stack */

static void
expect_near(double got, double want, double rel)
{
	double d = got > want ? got - want : want - got;

	if (d > want * rel)
		fail_msg("got %.1f, want %.1f (within %.2f %%)", got, want,
		    rel * 100);
}

/* Values 1..100 µs: each percentile is exactly the rank's value. */
static void
test_hist_exact_small_values(void **state)
{
	uint64_t v;

	(void)state;
	hist_reset(&H);
	for (v = 1; v <= 100; v++)
		hist_record(&H, v);
	assert_int_equal(H.count, 100);
	assert_true(hist_percentile(&H, 50) == 50);
	assert_true(hist_percentile(&H, 90) == 90);
	assert_true(hist_percentile(&H, 99) == 99);
	assert_true(hist_percentile(&H, 100) == 100);
	assert_true(hist_percentile(&H, 0.1) == 1);
}

/* Large values: within one bucket's width (1/64) of the truth. */
static void
test_hist_relative_precision(void **state)
{
	uint64_t v;

	(void)state;
	hist_reset(&H);
	for (v = 1000; v < 101000; v++) /* 100,000 values, 1 ms .. 101 ms */
		hist_record(&H, v);
	expect_near(hist_percentile(&H, 50), 50999, 1.0 / 64);
	expect_near(hist_percentile(&H, 90), 90999, 1.0 / 64);
	expect_near(hist_percentile(&H, 99), 99999, 1.0 / 64);
	expect_near(hist_percentile(&H, 99.9), 100899, 1.0 / 64);
	assert_int_equal(H.min_us, 1000);
	assert_int_equal(H.max_us, 100999);
}

/* Every value falls in a bucket whose midpoint is within 1/64 of it. */
static void
test_hist_every_bucket_boundary(void **state)
{
	uint64_t v, step;

	(void)state;
	for (v = 1; v < (1ull << 40); v += step) {
		hist_reset(&H);
		hist_record(&H, 0);
		hist_record(&H, v);
		hist_record(&H, v * 2 + 10); /* so that clamping cannot help */
		expect_near(hist_percentile(&H, 60), (double)v, 1.0 / 64);
		step = v / 7 + 1;
	}
}

static void
test_hist_edges(void **state)
{
	(void)state;
	hist_reset(&H);
	assert_true(hist_percentile(&H, 50) == 0); /* empty */
	hist_record(&H, 123456);
	assert_true(hist_percentile(&H, 50) == 123456); /* one sample */
	assert_true(hist_percentile(&H, 99.9) == 123456);
	/* Past the last octave: counted, reported as the maximum seen. */
	hist_reset(&H);
	hist_record(&H, UINT64_MAX / 2);
	assert_int_equal(H.count, 1);
	assert_true(hist_percentile(&H, 50) == (double)(UINT64_MAX / 2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hist_exact_small_values),
	    cmocka_unit_test(test_hist_relative_precision),
	    cmocka_unit_test(test_hist_every_bucket_boundary),
	    cmocka_unit_test(test_hist_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
