# core_lib.sh — helpers for component tests of replicad-core against
# kube-sim (sources kube_sim_lib.sh, hence lib.sh).  The test sets SOCK (the
# core's socket) before calling them.
#
#   ctl ARGS...        replicad-ctl on $SOCK ($CTL_TIMEOUT s when set)
#   field NAME EXPR    a field of `ctl get NAME` (Python expression on j)
#   field_is NAME EXPR VALUE
#   metric NAME        the value of one series of the core's metrics
#   metric_ge NAME N   ...is at least N
#   synced             the cache is synced (from metrics: no API probe)
#   admin PATH [METHOD]  kube-sim's /_sim/ endpoint (POST by default)
. "$(dirname "${BASH_SOURCE[0]}")/kube_sim_lib.sh"

CORE_BIN=$BUILD/replicad-core
CTL_BIN=$BUILD/replicad-ctl

ctl() {
	"$CTL_BIN" --socket "$SOCK" ${CTL_TIMEOUT:+--timeout "$CTL_TIMEOUT"} "$@"
}

field() {
	ctl get "$1" 2>/dev/null | jq_py "$2"
}

field_is() {
	[ "$(field "$1" "$2")" = "$3" ]
}

metric() {
	ctl metrics | awk -v m="$1" '$1 == m { print $2 }'
}

metric_ge() {
	local v
	v=$(metric "$1")
	[ -n "$v" ] && [ "$v" -ge "$2" ]
}

synced() {
	[ "$(metric replicad_core_cache_synced)" = 1 ]
}

admin() {
	curl -s ${KS_CA:+--cacert "$KS_CA"} -X "${2:-POST}" "$KS_URL/_sim/$1"
}
