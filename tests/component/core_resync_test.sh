#!/usr/bin/env bash
# core_resync_test.sh — "the cache cannot stay wrong forever" (issue #14
# item 7).  An API server whose resourceVersions restarted (an etcd
# restore; kube-sim's /_sim/restore) at or above the core's last one lets
# a watch resume as if nothing happened: the cache keeps the old counts.
# Two cores watch the same kube-sim: one with --resync-period 0 (off)
# keeps the old state across the restore; one with --resync-period 2
# relists within its period and then shows the new state, with the
# resync counted in its metrics.  Every wait is a condition polled against
# a deadline.
. "$(dirname "$0")/core_lib.sh"
lib_init core-resync

NS=shop
SOCK_OFF=$LIB_TMP/off.sock
SOCK_ON=$LIB_TMP/on.sock

ks_start --namespace "$NS" --deployments web=3,db=2 \
    --bookmark-interval-ms 500
lib_bg core-off "$CORE_BIN" --socket "$SOCK_OFF" --namespace "$NS" \
    --kube-api "$KS_URL" --resync-period 0
lib_bg core-on "$CORE_BIN" --socket "$SOCK_ON" --namespace "$NS" \
    --kube-api "$KS_URL" --resync-period 2
check "both cores listen" lib_wait 20 sh -c \
    "test -S '$SOCK_OFF' && test -S '$SOCK_ON'"
on() { SOCK=$SOCK_ON "$@"; }
off() { SOCK=$SOCK_OFF "$@"; }
check "the core without resync syncs" lib_wait 20 off synced
check "the core with resync syncs" lib_wait 20 on synced
expect_eq "both see web at 3" "$(off field web 'j["replicas"]') $(on field web 'j["replicas"]')" "3 3"

# Quiet controller; restore at an RV above anything either core saw.
admin 'controller?paused=1' >/dev/null
rv=$(admin state GET | jq_py 'j["resourceVersion"]')
restarts_off=$(off metric replicad_core_watch_restarts_total)
out=$(admin "restore?deployments=web=5,api=1&rv=$((rv + 10))")
expect_match "kube-sim restored (etcd restore)" "$out" '"status":"ok"'

check "the core without resync resumed its watch" \
    lib_wait 20 off metric_ge replicad_core_watch_restarts_total \
    $((restarts_off + 1))
on_has_new() {
	[ "$(on field web 'j["replicas"]')" = 5 ] &&
	    [ "$(on field api 'j["replicas"]')" = 1 ] &&
	    ! on ctl get db >/dev/null 2>&1
}
check "the core with resync shows the restored state within its period" \
    lib_wait 20 on_has_new
check "...and counts the resync" \
    lib_wait 5 on metric_ge replicad_core_resyncs_total 1
# The watch of the core without resync resumed before the other core's
# relist finished: it has had the same chance to learn of the swap.
expect_eq "without resync the old counts stay (web 3)" \
    "$(off field web 'j["replicas"]')" 3
expect_eq "...and the Deployment that is gone stays (db)" \
    "$(off field db 'j["replicas"]')" 2
expect_eq "...no resync counted" \
    "$(off metric replicad_core_resyncs_total)" 0

lib_finish
