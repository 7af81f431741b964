#!/usr/bin/env bash
# core_kube_more_test.sh — replicad-core against kube-sim, the heavier
# half: 10,000 deployments synced and 10,000 cached reads with zero API
# calls; 500/503/429 storms then recovery; a hung API makes health say so,
# then recovery; and sync + read-your-writes scale through a real
# `kubectl proxy`, on a TCP port and on a unix socket.
#
# CORE_WRAPPER (e.g. "valgrind --error-exitcode=99 ...") runs the core
# under a tool.  Every wait is a condition polled against a deadline.
. "$(dirname "$0")/core_lib.sh"
lib_init core-kube-more

NS=shop
TOKEN=tok-$RANDOM-$RANDOM
SOCK=$LIB_TMP/core.sock
DEPS=/apis/apps/v1/namespaces/$NS/deployments
HERE=$(dirname "$0")
# Slower under valgrind: deadlines scale, assertions do not.
SLOW=${CORE_WRAPPER:+4}
SLOW=${SLOW:-1}
CTL_TIMEOUT=$((10 * SLOW))

# API answers with status $1 (any verb) counted by the core, at least $2.
refused_ge() {
	[ "$(ctl metrics | awk -v c="code=\"$1\"}" \
	    '$1 ~ /^replicad_core_api_requests_total/ && index($1, c) { n += $2 }
	     END { print n + 0 }')" -ge "$2" ]
}

health_has() {
	ctl health | grep -q "$1"
}

CORE_RUN=0
start_core() {
	CORE_RUN=$((CORE_RUN + 1))
	CORE_LOG=$LIB_TMP/core$CORE_RUN.err
	# shellcheck disable=SC2086 # the wrapper is a command line
	lib_bg core$CORE_RUN ${CORE_WRAPPER:-} "$CORE_BIN" --socket "$SOCK" \
	    --namespace "$NS" "$@"
	CORE_PID=$LIB_LAST_PID
	lib_wait $((20 * SLOW)) test -S "$SOCK" || {
		echo "core did not start"
		cat "$CORE_LOG"
		exit 1
	}
}

stop_core() {
	kill -TERM "$CORE_PID"
	check "core $CORE_RUN exits" lib_wait_pid "$CORE_PID" $((30 * SLOW))
	wait "$CORE_PID"
	expect_eq "core $CORE_RUN exit status" "$?" 0
	lib_forget "$CORE_PID"
	rm -f "$SOCK"
}

echo "$TOKEN" >"$LIB_TMP/token"
KS_AUTH=$TOKEN
ks_pki
ks_start --namespace "$NS" --token "$TOKEN" "${KS_TLS[@]}" --generate 10000 \
    --deployments frontend=3,orders=2 --bookmark-interval-ms 500 \
    --controller-delay-ms 100
start_core --kube-api "$KS_URL" --kube-token-file "$LIB_TMP/token" \
    --kube-ca-file "$KS_CA"

# --- 10,000 deployments ----------------------------------------------------
check "10,002 deployments synced" lib_wait $((120 * SLOW)) synced
expect_eq "cache size" "$(metric replicad_core_cache_deployments)" 10002
expect_eq "list has every name, sorted" \
    "$(ctl list | jq_py 'len(j["deployments"]) == 10002 and j["deployments"] == sorted(j["deployments"])')" \
    True
# The HPA watch's own requests (it lists and retries in the background)
# are left out of these counts.
expect_eq "paginated: 21 list pages of 500" \
    "$(admin counters GET | jq_py 'sum(c["count"] for c in j["requests"] if c["verb"] == "list" and "horizontalpodautoscalers" not in c["path"])')" \
    21
admin counters DELETE >/dev/null
check "10,000 pipelined cached reads" python3 "$HERE/core_reads.py" "$SOCK" \
    10000 gen-00001 gen-05000 gen-10000 frontend orders
expect_eq "…made 0 API requests" \
    "$(admin counters GET | jq_py 'sum(c["count"] for c in j["requests"] if "horizontalpodautoscalers" not in c["path"])')" 0

stop_core
ks_stop

# --- storms: the core backs off and recovers by itself ---------------------
# A fresh core per storm: the backoff (client-go's, 0.8 s doubling to 30 s,
# reset after 2 quiet minutes) starts from its base each time.
ks_start --namespace "$NS" --token "$TOKEN" "${KS_TLS[@]}" \
    --deployments frontend=3,orders=2 \
    --bookmark-interval-ms 500 --controller-delay-ms 100
n=10
for st in 500 503 429; do
	n=$((n + 1))
	start_core --kube-api "$KS_URL" --kube-token-file "$LIB_TMP/token" \
	    --kube-ca-file "$KS_CA"
	check "$st storm: synced first" lib_wait $((20 * SLOW)) synced
	# A watch closed before any event is a "very short watch" (relist);
	# this one has delivered a bookmark, so its close is a plain resume.
	check "$st storm: watch delivered a bookmark" lib_wait $((20 * SLOW)) \
	    metric_ge replicad_core_bookmarks_total 1
	lists=$(metric replicad_core_lists_total)
	admin "faults?method=GET&path=$DEPS&count=3&status=$st&retryAfter=1" >/dev/null
	admin watches/close >/dev/null
	check "$st storm: refused requests counted" lib_wait $((60 * SLOW)) \
	    refused_ge "$st" 3
	check "$st storm: watch connected again" lib_wait $((60 * SLOW)) \
	    health_has '"watchConnected":true'
	admin "scale?name=orders&replicas=$n" >/dev/null
	check "$st storm: events flow again" lib_wait $((20 * SLOW)) \
	    field_is orders 'j["desired"]' "$n"
	case $st in
	429) expect_eq "429: re-watched from its RV, no relist" \
	    "$(metric replicad_core_lists_total)" "$lists" ;;
	*) check "$st: relisted" metric_ge replicad_core_lists_total $((lists + 1)) ;;
	esac
	stop_core
done

# --- a hung API: health says so within HEALTH_WAIT_MS, then recovers -------
start_core --kube-api "$KS_URL" --kube-token-file "$LIB_TMP/token" \
	    --kube-ca-file "$KS_CA"
check "hang: synced first" lib_wait $((20 * SLOW)) synced
admin "hang?ms=25000" >/dev/null
check "hung API: health unhealthy, says why" lib_wait $((40 * SLOW)) \
    health_has 'unanswered'
check "hung API: cached reads still served" field_is frontend 'j["desired"]' 3
admin "hang?ms=0" >/dev/null
check "API back: healthy again" lib_wait $((60 * SLOW)) \
    health_has '"healthy":true'
stop_core

# --- through kubectl proxy -------------------------------------------------
if ! command -v kubectl >/dev/null 2>&1; then
	echo "core-kube-more: kubectl proxy part SKIPPED (no kubectl)"
	check "no sanitizer report in any core log" sh -c \
	    "! grep -l 'Sanitizer\\|runtime error' '$LIB_TMP'/core*.err"
	lib_finish
	exit $?
fi
ks_stop
ks_start --namespace "$NS" --token "$TOKEN" --deployments web=2,api=1 \
    --tls-cert "$LIB_TMP/pki/server.crt" --tls-key "$LIB_TMP/pki/server.key" \
    --bookmark-interval-ms 500
cat >"$LIB_TMP/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: sim
  cluster:
    server: $KS_URL
    certificate-authority: $LIB_TMP/pki/ca.crt
users:
- name: replicad
  user:
    token: $TOKEN
contexts:
- name: sim
  context: {cluster: sim, user: replicad, namespace: $NS}
current-context: sim
KC
PORT=$(lib_free_port)
lib_bg kproxy kubectl --kubeconfig "$LIB_TMP/kubeconfig" proxy --port="$PORT"
check "kubectl proxy (TCP) starts" lib_wait_line 20 "$LIB_TMP/kproxy.out" \
    'Starting to serve'
start_core --kube-api "http://127.0.0.1:$PORT"
check "proxy TCP: synced" lib_wait $((30 * SLOW)) synced
expect_eq "proxy TCP: list" "$(ctl list)" '{"deployments":["api","web"]}'
expect_match "proxy TCP: scale, read-your-writes" "$(ctl scale web 4)" \
    '"synced":true'
check "proxy TCP: healthy" lib_wait $((20 * SLOW)) health_has '"healthy":true'
stop_core

lib_bg kproxyu kubectl --kubeconfig "$LIB_TMP/kubeconfig" proxy \
    --unix-socket="$LIB_TMP/proxy.sock"
check "kubectl proxy (unix socket) starts" lib_wait 20 test -S \
    "$LIB_TMP/proxy.sock"
start_core --kube-api "unix:$LIB_TMP/proxy.sock"
check "proxy unix: synced" lib_wait $((30 * SLOW)) synced
expect_eq "proxy unix: get sees the TCP write" \
    "$(ctl get web | jq_py 'j["desired"]')" 4
expect_match "proxy unix: scale, read-your-writes" "$(ctl scale api 3)" \
    '"synced":true'
admin "scale?name=web&replicas=6" >/dev/null
check "proxy unix: watch delivers drift" lib_wait $((20 * SLOW)) \
    field_is web 'j["desired"]' 6
stop_core

check "no sanitizer report in any core log" sh -c \
    "! grep -l 'Sanitizer\\|runtime error' '$LIB_TMP'/core*.err"
lib_finish
