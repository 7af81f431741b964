#!/usr/bin/env bash
# core_pins_test.sh — pins (RFD 180722) end to end: replicad-core with
# --pin-file against kube-sim, driven with replicad-ctl.  A pin scales its
# Deployment at once and keeps it there against drift (also across a
# delete and re-create, and a drift that happened while the core was
# down); failed writes are retried; a repeated fight is logged; a client's
# SCALE to another count is refused; unpinning stops it; the file survives
# restarts; a bad file stops the core; every change is audit-logged.
#
# CORE_WRAPPER runs every core under a tool (`make valgrind`).  Every wait
# is a condition polled against a deadline.
. "$(dirname "$0")/core_lib.sh"
lib_init core-pins

NS=shop
SOCK=$LIB_TMP/core.sock
PINS=$LIB_TMP/state/pins.json
DEPS=/apis/apps/v1/namespaces/$NS/deployments

# spec_is NAME N: kube-sim's own spec.replicas of NAME is N.
spec_is() {
	[ "$(kget "$DEPS/$1" | jq_py 'j["spec"]["replicas"]')" = "$2" ]
}

CORE_RUN=0
start_core() {
	CORE_RUN=$((CORE_RUN + 1))
	CORE_LOG=$LIB_TMP/core$CORE_RUN.err
	# shellcheck disable=SC2086 # the wrapper is a command line
	lib_bg core$CORE_RUN ${CORE_WRAPPER:-} "$CORE_BIN" --socket "$SOCK" \
	    --namespace "$NS" --kube-api "$KS_URL" "$@"
	CORE_PID=$LIB_LAST_PID
}

stop_core() {
	kill -TERM "$CORE_PID"
	check "core $CORE_RUN exits" lib_wait_pid "$CORE_PID" 30
	lib_forget "$CORE_PID"
}

mkdir -p "$LIB_TMP/state"
ks_start --namespace "$NS" --deployments frontend=3,orders=2,worker=1 \
    --controller-delay-ms 50

# --- without --pin-file, pins are not offered
start_core
check "no --pin-file: core up" lib_wait 20 synced
expect_match "no --pin-file: pins unsupported" "$(ctl pins 2>&1)" \
    'unsupported: pins are not enabled'
stop_core
rm -f "$SOCK"

# --- a new store
start_core --pin-file "$PINS"
check "core with a new pins file syncs" lib_wait 20 synced
expect_eq "the file was created empty" "$(jq_py 'len(j)' <"$PINS")" 0
expect_eq "its mode is 0600" "$(stat -c %a "$PINS")" 600
expect_eq "no pins" "$(ctl pins)" '{"pins":[]}'

# --- pin: stored, then the Deployment is scaled to it
expect_eq "pin frontend 5" "$(ctl --identity alice pin frontend 5)" \
    '{"name":"frontend","replicas":5}'
check "the reconciler scales frontend to 5" lib_wait 20 spec_is frontend 5
expect_eq "the file holds the pin" "$(jq_py j <"$PINS")" \
    '[{"name":"frontend","namespace":"shop","replicas":5}]'
expect_match "get shows the pin" "$(ctl get frontend)" \
    '"pinned":true,"pinReplicas":5'
expect_match "get of an unpinned one says so" "$(ctl get orders)" \
    '"pinned":false'
expect_match "the pin change is audited with its identity" \
    "$(cat "$CORE_LOG")" \
    'audit=pin identity=alice peer_uid=[0-9]+ deployment=frontend old=none new=5 outcome=ok'
expect_match "the reconciler's write is audited as such" \
    "$(cat "$CORE_LOG")" \
    'audit=scale identity=replicad:reconciler peer_uid=self deployment=frontend old=3 new=5 outcome=ok'
expect_eq "pins lists it" "$(ctl pins)" \
    '{"pins":[{"name":"frontend","replicas":5}]}'
expect_eq "pin get" "$(ctl pin frontend)" '{"name":"frontend","replicas":5}'

# --- refusals, which change nothing
expect_match "pin of an unknown deployment: not_found" \
    "$(ctl pin nosuch 3 2>&1)" 'not_found: deployment "nosuch" not found'
expect_match "unpin of an unpinned deployment: not_found" \
    "$(ctl pin orders --delete 2>&1)" 'not_found: deployment "orders" has no pin'
expect_match "scale of a pinned deployment to another count: conflict" \
    "$(ctl scale frontend 7 2>&1)" 'conflict: .*pinned to 5 replicas'
check "…and frontend stays at 5" spec_is frontend 5
expect_match "scale to the pinned count itself is fine" \
    "$(ctl scale frontend 5)" '"replicas":5'
expect_eq "still one pin" "$(ctl pins)" \
    '{"pins":[{"name":"frontend","replicas":5}]}'

# --- drift made by someone else is undone
admin "scale?name=frontend&replicas=9" >/dev/null
check "drift to 9 is scaled back to 5" lib_wait 20 spec_is frontend 5
check "reconcile writes counted" metric_ge \
    'replicad_core_reconcile_writes_total{outcome="ok"}' 2

# A second drift within a minute of the last write is a fight: logged.
admin "scale?name=frontend&replicas=8" >/dev/null
check "a second drift is scaled back too" lib_wait 30 sh -c \
    "[ \"\$(grep -c 'identity=replicad:reconciler peer_uid=self deployment=frontend' \
    '$CORE_LOG')\" -ge 3 ]"
check "…and frontend is at 5" lib_wait 20 spec_is frontend 5
check "the fight is logged" lib_wait_line 10 "$CORE_LOG" \
    'reconcile frontend: scaled back again within 60 s'

# --- failed writes are retried (with backoff) until they land
expect_eq "pin worker 2" "$(ctl pin worker 2)" '{"name":"worker","replicas":2}'
check "worker scaled to 2" lib_wait 20 spec_is worker 2
admin "faults?method=PATCH&path=$DEPS/worker/scale&count=2&status=503&retryAfter=1" >/dev/null
admin "scale?name=worker&replicas=6" >/dev/null
check "after two refused writes worker is back at 2" lib_wait 30 spec_is worker 2
check "the failures were counted" metric_ge \
    'replicad_core_reconcile_writes_total{outcome="failed"}' 2
check "…and logged with the retry" lib_wait_line 5 "$CORE_LOG" \
    'reconcile worker: write failed .*retry in'

# --- the pin outlives a delete and applies to the re-created Deployment
expect_eq "pin orders 4" "$(ctl pin orders 4)" '{"name":"orders","replicas":4}'
check "orders scaled to 4" lib_wait 20 spec_is orders 4
kcurl -X DELETE "$KS_URL$DEPS/orders" >/dev/null
check "orders deleted" lib_wait 20 sh -c "! '$CTL_BIN' --socket '$SOCK' get orders"
expect_eq "its pin stays" "$(ctl pin orders)" '{"name":"orders","replicas":4}'
ksend POST "$DEPS" application/json \
    '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"orders"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"orders"}},"template":{"metadata":{"labels":{"app":"orders"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}' >/dev/null
check "re-created orders is scaled to its pin" lib_wait 20 spec_is orders 4

# --- unpin: drift then stays
expect_eq "unpin frontend answers the old pin" \
    "$(ctl --identity bob pin frontend --delete)" \
    '{"name":"frontend","replicas":5,"deleted":true}'
expect_match "the unpin is audited" "$(cat "$CORE_LOG")" \
    'audit=unpin identity=bob peer_uid=[0-9]+ deployment=frontend old=5 new=none outcome=ok'
admin "scale?name=frontend&replicas=8" >/dev/null
check "the core sees frontend at 8" lib_wait 20 sh -c \
    "'$CTL_BIN' --socket '$SOCK' get frontend | grep -q '\"desired\":8'"
# Anything the reconciler would do for frontend it does from the same
# queue as this pin's write: once that landed, frontend had its turn.
expect_eq "pin worker 3" "$(ctl pin worker 3)" '{"name":"worker","replicas":3}'
check "worker scaled to 3" lib_wait 20 spec_is worker 3
check "unpinned frontend stays at 8" spec_is frontend 8
expect_eq "pins after the changes" "$(ctl pins)" \
    '{"pins":[{"name":"orders","replicas":4},{"name":"worker","replicas":3}]}'

# --- restart: the pins come back from the file, and drift that happened
# while the core was down is undone after the first list
stop_core
admin "scale?name=worker&replicas=7" >/dev/null
start_core --pin-file "$PINS"
check "restarted core syncs" lib_wait 20 synced
expect_eq "pins survive a restart" "$(ctl pins)" \
    '{"pins":[{"name":"orders","replicas":4},{"name":"worker","replicas":3}]}'
check "drift from while it was down is undone" lib_wait 20 spec_is worker 3
pins_gauge_is() { [ "$(metric_ns "$NS" replicad_core_pins)" = "$1" ]; }
check "pins gauge, by namespace" pins_gauge_is 2
stop_core

# --- a pins file the core cannot trust stops it before it serves
rm -f "$SOCK"
cp "$PINS" "$LIB_TMP/good.json"
printf '[{"name":"orders","namespace":"shop","replicas":4,"extra":1}]' >"$PINS"
start_core --pin-file "$PINS"
check "a bad pins file: the core exits" lib_wait_pid "$CORE_PID" 20
wait "$CORE_PID"
expect_eq "…with status 1" "$?" 1
lib_forget "$CORE_PID"
expect_match "…saying why" "$(cat "$CORE_LOG")" \
    'pins file .* is invalid: entry 1: unknown member'
check "…and without binding the socket" test ! -e "$SOCK"
expect_match "…leaving the file as it was" "$(cat "$PINS")" '"extra":1'

check "no sanitizer or valgrind report in any core log" sh -c \
    "! grep -l 'Sanitizer\\|runtime error\\|^==[0-9]*== ' '$LIB_TMP'/core*.err"
check "kube-sim exits cleanly" ks_stop

lib_finish
