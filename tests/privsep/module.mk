# The hostile-gateway suite (issue #12): real uids, the chart's volume
# modes; part of `make test` (it says SKIP without root).
COMPONENT_TESTS += tests/privsep/privsep_test.sh
