#!/bin/sh
# run-tests.sh KIND TEST... — run test programs, print each one's output and
# one closing "KIND: N passed, N failed" line; exit 1 if any failed.
#
# A test is a cmocka binary or an executable script.  Each runs with a
# deadline (TEST_TIMEOUT seconds, default 300) so that a hung test fails
# instead of hanging CI; the deadline is a safety net, not a timing assertion.
set -u
kind=$1
shift
passed=0
failed=0
failed_names=""
for t in "$@"; do
	echo "=== $kind: $t"
	if timeout --kill-after=10 "${TEST_TIMEOUT:-300}" "$t"; then
		passed=$((passed + 1))
	else
		rc=$?
		echo "=== $kind: $t FAILED (exit $rc)"
		failed=$((failed + 1))
		failed_names="$failed_names $t"
	fi
done
[ $failed -eq 0 ] || echo "$kind: failed:$failed_names"
echo "$kind: $passed passed, $failed failed"
[ $failed -eq 0 ]
