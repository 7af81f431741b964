/*
 * test_annotations.c — replicad's annotations on a Deployment: counts as
 * people write them, invalid values failing closed, the checks every
 * write goes through and the reconciler's clamp.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/kube/annotations.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

static struct deploy_annot
parse(const char *min, const char *max, const char *suspended)
{
	struct deploy_annot a;

	memset(&a, 0, sizeof(a));
	if (min != NULL)
		assert_int_equal(
		    annot_apply(&a, ANNOT_MIN_REPLICAS,
		        strlen(ANNOT_MIN_REPLICAS), min, strlen(min)),
		    1);
	if (max != NULL)
		assert_int_equal(
		    annot_apply(&a, ANNOT_MAX_REPLICAS,
		        strlen(ANNOT_MAX_REPLICAS), max, strlen(max)),
		    1);
	if (suspended != NULL)
		assert_int_equal(annot_apply(&a, ANNOT_PIN_SUSPENDED,
		                     strlen(ANNOT_PIN_SUSPENDED), suspended,
		                     strlen(suspended)),
		    1);
	annot_finish(&a);
	return a;
}

/** Decimal counts 0..2147483647 are bounds; others keys are not ours. */
static void
test_annotations_valid_bounds(void **state)
{
	struct deploy_annot a = parse("2", "10", NULL);

	(void)state;
	assert_int_equal(a.bounds, PS_B_MIN | PS_B_MAX);
	assert_int_equal(a.min_replicas, 2);
	assert_int_equal(a.max_replicas, 10);
	a = parse("0", "2147483647", NULL);
	assert_int_equal(a.bounds, PS_B_MIN | PS_B_MAX);
	assert_int_equal(a.max_replicas, 2147483647u);
	a = parse(NULL, "5", NULL);
	assert_int_equal(a.bounds, PS_B_MAX);
	assert_int_equal(a.min_replicas, 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(annot_apply(&a, "replicad.io/other", 17, "1", 1), 0);
	assert_int_equal(
	    annot_apply(&a, "replicad.io/min-replicas-x", 26, "1", 1), 0);
	assert_int_equal(a.bounds, 0);
}

/** What a person might write that is not a count: the bounds are invalid
 * (writes refused), and carry no numbers. */
static void
test_annotations_invalid_values_fail_closed(void **state)
{
	static const char *const bad[] = {"", " 3", "3 ", "+3", "-1", "3.0",
	    "1e3", "0x10", "2147483648", "99999999999", "three", "３"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct deploy_annot a = parse(bad[i], "10", NULL);

		if (a.bounds != PS_B_INVALID || a.min_replicas != 0 ||
		    a.max_replicas != 0)
			fail_msg("min %s: bounds %#x", bad[i], a.bounds);
	}
	/* min above max */
	struct deploy_annot a = parse("5", "4", NULL);
	assert_int_equal(a.bounds, PS_B_INVALID);
}

/** annot_check: inside passes, outside names the bound, invalid refuses
 * every count. */
static void
test_annotations_check(void **state)
{
	struct deploy_annot a = parse("2", "6", NULL), none;
	char why[PS_MAX_MESSAGE + 1];

	(void)state;
	assert_int_equal(annot_check(&a, "web", 2, why, sizeof(why)), 0);
	assert_int_equal(annot_check(&a, "web", 6, why, sizeof(why)), 0);
	assert_int_equal(annot_check(&a, "web", 7, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "maximum 6"));
	assert_int_equal(annot_check(&a, "web", 1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "minimum 2"));
	a = parse("x", NULL, NULL);
	assert_int_equal(annot_check(&a, "web", 3, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "invalid"));
	memset(&none, 0, sizeof(none));
	assert_int_equal(
	    annot_check(&none, "web", PS_MAX_REPLICAS, why, sizeof(why)), 0);
}

/** The reconciler aims a pin outside the bounds at the nearest bound. */
static void
test_annotations_clamp(void **state)
{
	struct deploy_annot a = parse("2", "6", NULL);

	(void)state;
	assert_int_equal(annot_clamp(&a, 4), 4);
	assert_int_equal(annot_clamp(&a, 9), 6);
	assert_int_equal(annot_clamp(&a, 0), 2);
}

/** pin-suspended is "true" exactly, as Kubernetes reads its booleans. */
static void
test_annotations_pin_suspended(void **state)
{
	(void)state;
	assert_int_equal(parse(NULL, NULL, "true").pin_suspended, 1);
	assert_int_equal(parse(NULL, NULL, "True").pin_suspended, 0);
	assert_int_equal(parse(NULL, NULL, "yes").pin_suspended, 0);
	assert_int_equal(parse(NULL, NULL, "").pin_suspended, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_annotations_valid_bounds),
	    cmocka_unit_test(test_annotations_invalid_values_fail_closed),
	    cmocka_unit_test(test_annotations_check),
	    cmocka_unit_test(test_annotations_clamp),
	    cmocka_unit_test(test_annotations_pin_suspended),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
