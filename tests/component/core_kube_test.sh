#!/usr/bin/env bash
# core_kube_test.sh — replicad-core against kube-sim, through the real
# socket with replicad-ctl: list+watch cache, cached reads make no API
# call, read-your-writes, drift seen through the watch, watch resume, 410
# relist with sweep, error mapping, token rotation, TLS verification,
# health, no token in the logs, SIGTERM during a write.
#
# CORE_WRAPPER (e.g. "valgrind --error-exitcode=99 ...") runs every core
# under a tool; `make valgrind` does that.  Every wait is a condition polled
# against a deadline.
. "$(dirname "$0")/core_lib.sh"
lib_init core-kube

NS=shop
TOKEN=tok-$RANDOM-$RANDOM-first
SOCK=$LIB_TMP/core.sock
DEPS=/apis/apps/v1/namespaces/$NS/deployments

CORE_RUN=0
start_core() {
	CORE_RUN=$((CORE_RUN + 1))
	CORE_LOG=$LIB_TMP/core$CORE_RUN.err
	# shellcheck disable=SC2086 # the wrapper is a command line
	lib_bg core$CORE_RUN ${CORE_WRAPPER:-} "$CORE_BIN" --socket "$SOCK" \
	    --namespace "$NS" \
	    --log-level debug "$@"
	CORE_PID=$LIB_LAST_PID
	lib_wait 20 test -S "$SOCK" || {
		echo "core did not start"
		cat "$CORE_LOG"
		exit 1
	}
}

echo "$TOKEN" >"$LIB_TMP/token"
KS_AUTH=$TOKEN
ks_pki
ks_start --namespace "$NS" --token "$TOKEN" "${KS_TLS[@]}" \
    --deployments frontend=3,orders=2,worker=1 \
    --bookmark-interval-ms 500 --controller-delay-ms 100
start_core --kube-api "$KS_URL" --kube-token-file "$LIB_TMP/token" \
    --kube-ca-file "$KS_CA"

check "cache syncs from the first list" lib_wait 20 synced
expect_eq "list is sorted names" "$(ctl list)" \
    '{"deployments":["frontend","orders","worker"]}'
expect_eq "get carries desired and status" \
    "$(field frontend '[j["desired"], j["ready"], j["namespace"]]')" \
    '[3,3,"shop"]'
check "health is healthy" lib_wait 10 sh -c \
    "'$CTL_BIN' --socket '$SOCK' health | grep -q '\"healthy\":true'"

# Cached reads never call the API: count API requests around 60 reads.
# The HPA watch lists in the background on its own schedule (retrying
# while kube-sim answers 404): its requests are not reads' and are left
# out (NOT_HPA).
NOT_HPA='sum(c["count"] for c in j["requests"] if "horizontalpodautoscalers" not in c["path"])'
admin counters DELETE >/dev/null
for i in $(seq 20); do
	ctl list >/dev/null
	ctl get orders >/dev/null
	ctl get worker >/dev/null
done
expect_eq "60 cached reads made 0 API requests" \
    "$(admin counters GET | jq_py "$NOT_HPA")" 0

# Read-your-writes: the answer comes after the watch delivered the write.
out=$(ctl scale frontend 5)
expect_match "scale answers synced" "$out" '"synced":true'
expect_match "scale reports previous count" "$out" '"previous":3'
expect_eq "get right after the write sees it" "$(field frontend 'j["desired"]')" 5
check "status follows (controller, via watch)" \
    lib_wait 20 field_is frontend 'j["ready"]' 5
check "observedGeneration catches up" lib_wait 20 field_is frontend \
    'j["observedGeneration"] == j["generation"]' True

# A no-op write makes no event; the cache already holds it.
out=$(ctl scale frontend 5)
expect_match "no-op scale is synced at once" "$out" '"synced":true'

# Drift made by someone else arrives through the watch.
admin "scale?name=orders&replicas=7" >/dev/null
check "external change seen" lib_wait 20 field_is orders 'j["desired"]' 7

# Created and deleted objects.
ksend POST "$DEPS" application/json \
    '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"batch"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"batch"}},"template":{"metadata":{"labels":{"app":"batch"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}' >/dev/null
check "created deployment appears" lib_wait 20 field_is batch 'j["desired"]' 2
kcurl -X DELETE "$KS_URL$DEPS/batch" >/dev/null
check "deleted deployment disappears" lib_wait 20 sh -c \
    "! '$CTL_BIN' --socket '$SOCK' get batch"
expect_match "get of a missing name is not_found" \
    "$(ctl get batch 2>&1)" 'not_found'

# A watch the server ends is resumed from its RV, without a relist.
lists=$(metric replicad_core_lists_total)
restarts=$(metric replicad_core_watch_restarts_total)
# (A watch closed before its first event would be a "very short watch".)
check "the watch has delivered a bookmark" \
    lib_wait 20 metric_ge replicad_core_bookmarks_total 1
admin watches/close >/dev/null
check "watch resumed after a clean close" \
    lib_wait 20 metric_ge replicad_core_watch_restarts_total $((restarts + 1))
# A watch closed within 1 s with no event is client-go's "very short
# watch" (a relist): let this one receive a bookmark first.
bm=$(metric replicad_core_bookmarks_total)
check "resumed watch delivers bookmarks" \
    lib_wait 20 metric_ge replicad_core_bookmarks_total $((bm + 1))
admin watches/close?mode=abrupt >/dev/null
check "watch resumed after an abrupt close" \
    lib_wait 20 metric_ge replicad_core_watch_restarts_total $((restarts + 2))
expect_eq "no relist for a resumed watch" \
    "$(metric replicad_core_lists_total)" "$lists"
admin "scale?name=worker&replicas=4" >/dev/null
check "events flow after the resume" lib_wait 20 field_is worker 'j["desired"]' 4

# 410: the watch falls out of history; the relist sweeps what it missed.
# Watches are refused with 429 (the core keeps its RV and retries after
# Retry-After), a deployment is deleted and the history compacted while no
# watch is open; the next watch from the old RV gets 410 and relists.
admin "faults?method=GET&path=$DEPS&count=100000&status=429&retryAfter=1" >/dev/null
admin watches/close >/dev/null
check "re-watch refused with 429" lib_wait 20 metric_ge \
    'replicad_core_api_requests_total{verb="WATCH",code="429"}' 1
kcurl -X DELETE "$KS_URL$DEPS/worker" >/dev/null
admin compact >/dev/null
admin faults DELETE >/dev/null
check "relist after 410 Expired" \
    lib_wait 60 metric_ge replicad_core_lists_total $((lists + 1))
check "410 counted" metric_ge replicad_core_watch_expired_total 1
check "the relist swept the deleted deployment" lib_wait 20 sh -c \
    "! '$CTL_BIN' --socket '$SOCK' get worker"
held() {
	[ "$(admin state GET | jq_py 'j["heldRequests"]')" -ge "$1" ]
}

# Errors from the API map to proto-socket codes.
expect_match "scale of a missing deployment: not_found" \
    "$(ctl scale nosuch 2 2>&1)" 'not_found'
admin "deny?rule=patch:deployments/scale" >/dev/null
expect_match "RBAC refusal: forbidden" "$(ctl scale orders 2 2>&1)" \
    'forbidden'
admin deny DELETE >/dev/null
admin "faults?method=PATCH&path=$DEPS/orders/scale&count=1&status=409" >/dev/null
expect_match "409: conflict" "$(ctl scale orders 2 2>&1)" 'conflict'
admin "faults?method=PATCH&path=$DEPS/orders/scale&count=1&status=422" >/dev/null
expect_match "422: invalid" "$(ctl scale orders 2 2>&1)" 'invalid'
admin "faults?method=PATCH&path=$DEPS/orders/scale&count=1&status=503&retryAfter=3" >/dev/null
expect_match "503: unavailable" "$(ctl scale orders 2 2>&1)" 'unavailable'
expect_match "a write still works after the faults" "$(ctl scale orders 2)" \
    '"synced":true'

# Token rotation: the kubelet swaps the file; the API accepts only the new.
NEW=tok-$RANDOM-$RANDOM-second
echo "$NEW" >"$LIB_TMP/token.new"
mv "$LIB_TMP/token.new" "$LIB_TMP/token"
admin "tokens?set=$NEW" >/dev/null
expect_match "write after token rotation" "$(ctl scale orders 3)" \
    '"status":"updated"'
KS_AUTH=$NEW
check "a token never appears in the log" sh -c \
    "! grep -qF -e '$TOKEN' -e '$NEW' '$LIB_TMP'/core*.err '$LIB_TMP'/core*.out"

# SIGTERM while a write is in flight (the API holds it): the core drains,
# answers it, and exits 0.
admin "hang?ms=2000" >/dev/null
ctl scale orders 6 >"$LIB_TMP/late.out" 2>&1 &
late=$!
check "write is held by the API" lib_wait 10 held 1
kill -TERM "$CORE_PID"
check "core exits after draining" lib_wait_pid "$CORE_PID" 20
wait "$CORE_PID"
expect_eq "exit status 0" "$?" 0
lib_forget "$CORE_PID"
wait "$late"
expect_match "the in-flight write was answered" "$(cat "$LIB_TMP/late.out")" \
    '"status":"updated"'
rm -f "$SOCK"

# TLS: kube-sim over HTTPS; the core verifies it against the given CA.
ks_stop
ks_start --namespace "$NS" --token "$NEW" --deployments tls-one=1 \
    --tls-cert "$LIB_TMP/pki/server.crt" --tls-key "$LIB_TMP/pki/server.key"
# In-cluster discovery: no --kube-api, the service host/port from the
# environment (the files come from REPLICAD_* instead of the pod's paths).
CORE_RUN=$((CORE_RUN + 1))
CORE_LOG=$LIB_TMP/core$CORE_RUN.err
lib_bg core$CORE_RUN env KUBERNETES_SERVICE_HOST=127.0.0.1 \
    KUBERNETES_SERVICE_PORT="${KS_URL##*:}" \
    REPLICAD_KUBE_TOKEN_FILE="$LIB_TMP/token" \
    REPLICAD_KUBE_CA_FILE="$LIB_TMP/pki/ca.crt" REPLICAD_NAMESPACE="$NS" \
    REPLICAD_SOCKET="$SOCK" ${CORE_WRAPPER:-} "$CORE_BIN"
CORE_PID=$LIB_LAST_PID
check "in-cluster: HTTPS with the right CA syncs" lib_wait 20 synced
expect_match "in-cluster: the service URL is used" "$(cat "$CORE_LOG")" \
    "api=https://127.0.0.1:${KS_URL##*:}"
expect_eq "HTTPS list" "$(ctl list)" '{"deployments":["tls-one"]}'
kill -TERM "$CORE_PID"
lib_wait_pid "$CORE_PID" 20
lib_forget "$CORE_PID"
rm -f "$SOCK"
mkdir -p "$LIB_TMP/other"
scripts/gen-certs.sh "$LIB_TMP/other" >/dev/null
start_core --kube-api "$KS_URL" --kube-token-file "$LIB_TMP/token" \
    --kube-ca-file "$LIB_TMP/other/ca.crt"
check "another CA: health says why" lib_wait 20 sh -c \
    "'$CTL_BIN' --socket '$SOCK' health | grep -qi 'certificate\|SSL'"
check "another CA: never synced" sh -c "! '$CTL_BIN' --socket '$SOCK' list"
kill -TERM "$CORE_PID"
check "last core exits" lib_wait_pid "$CORE_PID" 20
lib_forget "$CORE_PID"
# Under `make sanitize` every core above ran with ASan/UBSan, under
# `make valgrind` with memcheck.
check "no sanitizer or valgrind report in any core log" sh -c \
    "! grep -l 'Sanitizer\\|runtime error\\|^==[0-9]*== ' '$LIB_TMP'/core*.err"

lib_finish
