#!/usr/bin/env bash
# core_bounds_test.sh — the core enforces every bound of a write itself,
# whatever the gateway checked (issue #12, items 1, 2, 5 and 10).  A
# hostile gateway is played by replicad-ctl on the core's socket: it may
# send any count, any identity, any Deployment name.
#
#   - --max-replicas: a SCALE or a PIN above it is refused (INVALID), at
#     the limit it passes; a pins file holding a pin above it stops the
#     core at start instead of being applied;
#   - identities beginning with "replicad:" (the reconciler's) are refused
#     from the socket, and every audit line names the peer's uid;
#   - --self-deployment: replicad's own Deployment is never scaled or
#     pinned (RBAC cannot exclude it), by a client or by the reconciler;
#   - a bearer token is never sent over plain http://: the combination is
#     refused at start.
# Every wait is a condition polled against a deadline.
. "$(dirname "$0")/core_lib.sh"
lib_init core-bounds

NS=shop
SOCK=$LIB_TMP/core.sock
PINS=$LIB_TMP/state/pins.json
DEPS=/apis/apps/v1/namespaces/$NS/deployments
ME=$(id -u)

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
ks_start --namespace "$NS" \
    --deployments frontend=3,orders=2,worker=1,replicad=1 \
    --controller-delay-ms 50

# --- bad flags are refused at start
out=$("$CORE_BIN" --socket "$SOCK" --kube-api "$KS_URL" --max-replicas -1 2>&1)
expect_match "--max-replicas -1 refused" "$out" 'max-replicas: an integer'
out=$("$CORE_BIN" --socket "$SOCK" --kube-api "$KS_URL" \
    --max-replicas 2147483648 2>&1)
expect_match "--max-replicas above int32 refused" "$out" 'max-replicas'
out=$("$CORE_BIN" --socket "$SOCK" --kube-api "$KS_URL" \
    --self-deployment 'Not/A-Name' 2>&1)
expect_match "--self-deployment must be a name" "$out" 'self-deployment'
printf 'secret-token\n' >"$LIB_TMP/token"
out=$("$CORE_BIN" --socket "$SOCK" --kube-api "http://127.0.0.1:1" \
    --kube-token-file "$LIB_TMP/token" 2>&1)
rc=$?
expect_eq "a token over http:// is refused (exit 2)" "$rc" 2
expect_match "...saying why" "$out" 'token in clear'
expect_eq "...never printing the token" \
    "$(printf '%s' "$out" | grep -c secret-token)" 0

# --- a pins file with a pin above the core's maximum stops the core
printf '[{"name":"orders","namespace":"%s","replicas":2000000000}]\n' \
    "$NS" >"$PINS"
start_core --pin-file "$PINS" --max-replicas 1000
check "a pin above --max-replicas stops the core" lib_wait_pid "$CORE_PID" 20
lib_forget "$CORE_PID"
expect_match "...saying why" "$(cat "$CORE_LOG")" '1000'
check "...and orders was never scaled" spec_is orders 2
rm -f "$PINS"

start_core --pin-file "$PINS" --max-replicas 1000 \
    --self-deployment replicad
check "core up" lib_wait 20 synced

# --- the count: the core's own ceiling
out=$(ctl scale frontend 1001 2>&1)
expect_match "SCALE above --max-replicas refused" "$out" \
    'invalid.*between 0 and 1000'
out=$(ctl scale frontend 2147483647 2>&1)
expect_match "SCALE to 2147483647 refused" "$out" 'invalid'
check "...kube-sim untouched" spec_is frontend 3
check "SCALE to the limit passes" ctl scale frontend 1000
check "...in kube-sim" spec_is frontend 1000
check "SCALE back" ctl scale frontend 3
out=$(ctl pin orders 2000000000 2>&1)
expect_match "PIN above --max-replicas refused" "$out" 'invalid'
expect_eq "...and there is no pin" "$(ctl pins 2>&1 | grep -c orders)" 0
check "...kube-sim untouched" spec_is orders 2

# --- identities: the core's own cannot be claimed
out=$(ctl --identity replicad:reconciler scale frontend 4 2>&1)
expect_match "SCALE as replicad:reconciler refused" "$out" \
    'invalid.*replicad:'
out=$(ctl --identity replicad:anything pin worker 2 2>&1)
expect_match "PIN as replicad:... refused" "$out" 'invalid'
out=$(ctl --identity replicad:x pin worker --delete 2>&1)
expect_match "UNPIN as replicad:... refused" "$out" 'invalid'
check "...kube-sim untouched" spec_is frontend 3
expect_match "the refusal is audited with the peer's uid" \
    "$(grep 'reserved identity' "$CORE_LOG")" "peer_uid=$ME "
check "a client identity still works" ctl --identity CN=alice scale frontend 4
check "...in kube-sim" spec_is frontend 4
expect_match "the audit line names identity and peer uid" \
    "$(grep 'audit=scale' "$CORE_LOG" | grep 'CN=alice')" \
    "peer_uid=$ME "

# --- replicad's own Deployment: never scaled, never pinned
out=$(ctl scale replicad 0 2>&1)
expect_match "SCALE of replicad's own Deployment refused" "$out" \
    "invalid.*replicad's own Deployment"
out=$(ctl pin replicad 0 2>&1)
expect_match "PIN of replicad's own Deployment refused" "$out" \
    "invalid.*replicad's own Deployment"
check "...kube-sim untouched" spec_is replicad 1
stop_core

# --- a pin of replicad's own Deployment already in the store is not
# applied by the reconciler (the scale path refuses it for everyone)
printf '[{"name":"replicad","namespace":"%s","replicas":0}]\n' \
    "$NS" >"$PINS"
start_core --pin-file "$PINS" --self-deployment replicad
check "core up with a pin of itself in the file" lib_wait 20 synced
check "the reconciler tried, and was refused" lib_wait 20 \
    grep -q "replicad's own Deployment" "$CORE_LOG"
check "...replicad still has 1 replica" spec_is replicad 1
expect_match "...audited as the core's own write" \
    "$(grep 'audit=scale' "$CORE_LOG" | grep 'deployment=replicad' | head -n 1)" \
    'identity=replicad:reconciler peer_uid=self'
stop_core

lib_finish
