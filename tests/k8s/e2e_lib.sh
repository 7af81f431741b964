# shellcheck shell=bash
# e2e_lib.sh — helpers of tests/k8s/e2e.sh that need no cluster, sourced by
# it and tested here by tests/chart/kind_test.sh.
#
#   E2E_POLL                  lib_wait's poll interval in the e2e (seconds)
#   list_has_names JSON NAME...
#                             the API's list answer names every NAME (each
#                             as a whole name; other names may be there too)

# Every poll of a wait starts a kubectl (or curl) process: every 20 ms, as
# the component tests poll local processes, would be 10-20 kubectl a
# second against the API server during the zero-failed-requests upgrade.
# shellcheck disable=SC2034 # e2e.sh sets LIB_WAIT_POLL from it
E2E_POLL=0.5

# The core lists every Deployment of its namespace, which by default is
# the release's own, so the list also holds replicad's Deployment:
# ["frontend","orders","replicad","worker"].  Check each name, not one
# run of the list.
list_has_names() {
	local json=$1
	shift
	python3 -c '
import json, sys
try:
    got = json.loads(sys.argv[1])["deployments"]
except (ValueError, KeyError, TypeError):
    sys.exit("not a deployment list: %r" % sys.argv[1][:200])
missing = [n for n in sys.argv[2:] if n not in got]
if missing:
    sys.exit("missing %s in %s" % (missing, got))' "$json" "$@"
}
