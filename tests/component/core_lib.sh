# core_lib.sh — helpers for component tests of replicad-core against
# kube-sim (sources kube_sim_lib.sh, hence lib.sh).  The test sets SOCK (the
# core's socket) before calling them.
#
#   ctl ARGS...        replicad-ctl on $SOCK ($CTL_TIMEOUT s when set)
#   field NAME EXPR    a field of `ctl get NAME` (Python expression on j)
#   field_is NAME EXPR VALUE
#   metric NAME        the value of one series of the core's metrics,
#                      summed over its namespace="..." label (NAME
#                      without it: 'x_total{outcome="ok"}')
#   metric_ge NAME N   ...is at least N
#   metric_ns NS NAME  the series of namespace NS only
#   metrics_sum NAME   (a filter) metric's sum over Prometheus text on stdin
#   synced             every namespace's cache is synced (from metrics:
#                      no API probe)
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

metrics_sum() {
	awk -v m="$1" '
	    $1 !~ /^#/ {
		n = $1
		gsub(/namespace="[^"]*",?/, "", n)
		sub(/,}$/, "}", n)
		sub(/\{\}$/, "", n)
		if (n == m) { sum += $2; found = 1 }
	    }
	    END { if (found) print sum }'
}

metric() {
	ctl metrics | metrics_sum "$1"
}

metric_ns() {
	local series
	case $2 in
	*"{"*) series="${2%%\{*}{namespace=\"$1\",${2#*\{}" ;;
	*) series="$2{namespace=\"$1\"}" ;;
	esac
	ctl metrics | awk -v m="$series" '$1 == m { print $2 }'
}

metric_ge() {
	local v
	v=$(metric "$1")
	[ -n "$v" ] && [ "$v" -ge "$2" ]
}

# Every namespace served.
synced() {
	ctl metrics | awk '$1 ~ /^replicad_core_cache_synced[{ ]/ || $1 ~ /^replicad_core_cache_synced$/ {
		n++; if ($2 != 1) bad = 1 }
	    END { exit !(n > 0 && !bad) }'
}

admin() {
	curl -s ${KS_CA:+--cacert "$KS_CA"} -X "${2:-POST}" "$KS_URL/_sim/$1"
}
