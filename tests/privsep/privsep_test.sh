#!/usr/bin/env bash
# privsep_test.sh — the privilege split tried as an attacker who owns the
# gateway (issue #12): real uids as the chart runs them (gateway 10001,
# core 10002, shared group 10000), the socket directory as the kubelet
# makes an emptyDir with fsGroup (2777), and a shell running as the
# gateway's uid that speaks to the core directly with replicad-ctl.
#
# What the core must guarantee whatever that shell does:
#   - the socket exists with mode 0660 from its creation;
#   - the gateway's uid holds at most CORE_MAX_CLIENTS - CORE_OWN_UID_SLOTS
#     connections; the core's own uid (its liveness probe) still gets in;
#   - no write above the core's own --max-replicas, no identity of the
#     core's own ("replicad:"), not replicad's own Deployment; every audit
#     line names the peer's uid (10001);
#   - with the socket volume mounted read-only in the gateway's container
#     (as the chart mounts it), the gateway cannot rename or replace the
#     socket; and where it could (a writable directory), replicad-ctl
#     refuses to talk to a socket served by any uid but the core's.
#
# Needs root (setpriv, unshare, mount).  Every wait is a condition polled
# against a deadline.
cd "$(dirname "$0")/../.." || exit 1
. tests/component/core_lib.sh
lib_init privsep

[ "$(id -u)" = 0 ] || lib_skip "needs root to run the pod's uids"
for t in setpriv unshare mount /usr/bin/python3; do
	command -v "$t" >/dev/null || lib_skip "needs $t"
done

GW_UID=10001
CORE_UID=10002
GID=10000
MAX_CLIENTS=32 # core/core_limits.h CORE_MAX_CLIENTS
OWN_SLOTS=4    # core/core_limits.h CORE_OWN_UID_SLOTS
NS=shop
RUN=$LIB_TMP/run
SOCK=$RUN/core.sock
DEPS=/apis/apps/v1/namespaces/$NS/deployments

# as UID CMD...: run CMD as UID with the pod's group.
as() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$GID" --groups="$GID" "$@"
}
# The core's own uid and the gateway's, each with replicad-ctl.
core_ctl() { as "$CORE_UID" "$CTL_BIN" --socket "$SOCK" --timeout 5 "$@"; }
gw_ctl() {
	as "$GW_UID" "$CTL_BIN" --socket "$SOCK" --timeout 5 \
	    --expect-uid "$CORE_UID" "$@"
}
spec_is() {
	[ "$(kget "$DEPS/$1" | jq_py 'j["spec"]["replicas"]')" = "$2" ]
}

chmod 755 "$LIB_TMP"
mkdir -p "$RUN" "$LIB_TMP/state"
chown "$CORE_UID:$GID" "$LIB_TMP/state"
chgrp "$GID" "$RUN" && chmod 2777 "$RUN"
ks_start --namespace "$NS" \
    --deployments frontend=3,orders=2,replicad=1,kube-system/coredns=2 \
    --controller-delay-ms 50

# shellcheck disable=SC2086 # the wrapper is a command line
lib_bg core ${CORE_WRAPPER:-} setpriv --reuid="$CORE_UID" --regid="$GID" \
    --groups="$GID" "$CORE_BIN" --socket "$SOCK" --namespace "$NS" \
    --kube-api "$KS_URL" --allow-uid "$GW_UID" --allow-uid "$CORE_UID" \
    --max-replicas 1000 --self-deployment replicad \
    --pin-file "$LIB_TMP/state/pins.json"
CORE_PID=$LIB_LAST_PID
CORE_LOG=$LIB_TMP/core.err
synced_as_core() {
	[ "$(core_ctl metrics | awk '$1 ~ /^replicad_core_cache_synced\{/ { print $2 }')" = 1 ]
}
check "core up (uid $CORE_UID)" lib_wait 20 synced_as_core

# --- the socket ------------------------------------------------------------
expect_eq "socket mode 0660, owner core, group fsGroup" \
    "$(stat -c '%a %u %g' "$SOCK")" "660 $CORE_UID $GID"

# --- slots: the gateway's uid cannot starve the probe ----------------------
hold_out=$LIB_TMP/hold.out
: >"$hold_out"
chmod 666 "$hold_out"
# The version the core speaks, so a HELLO is answered, not refused.
PS_VERSION=$(awk '$1 == "#define" && $2 == "PS_VERSION" { print $3 }' \
    proto-socket/ps.h)
setpriv --reuid="$GW_UID" --regid="$GID" --groups="$GID" \
    /usr/bin/python3 - "$SOCK" "$MAX_CLIENTS" "$hold_out" "$PS_VERSION" <<'PY' &
import socket, struct, sys, time
path, n, out, v = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
hello = struct.pack(">IHHII", 24, 1, 0, 0, 0) + struct.pack(">IHH", 0x52504C44, v, v)
held, refused = [], 0
for _ in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    # A refused connection may be closed before the HELLO is even sent.
    try:
        s.connect(path)
        s.sendall(hello)
        head = s.recv(16)
    except OSError:
        head = b""
    # HELLO answered (not an error): held; an error, GOAWAY or a close:
    # refused.
    if len(head) == 16 and struct.unpack(">IHHII", head)[1:3] == (1, 1):
        held.append(s)
    else:
        refused += 1
        s.close()
with open(out, "w") as f:
    f.write("held=%d refused=%d\n" % (len(held), refused))
time.sleep(60)  # hold them; the test kills this process
PY
HOLDER=$!
LIB_PIDS="$LIB_PIDS $HOLDER"
check "the gateway's uid tried $MAX_CLIENTS connections" \
    lib_wait 20 grep -q held= "$hold_out"
expect_eq "...it holds $((MAX_CLIENTS - OWN_SLOTS)), the rest refused" \
    "$(cat "$hold_out")" "held=$((MAX_CLIENTS - OWN_SLOTS)) refused=$OWN_SLOTS"
check "the core's liveness probe (its own uid) still gets in" core_ctl ping
expect_match "...refusals logged with the gateway's uid" \
    "$(grep 'refused peer' "$CORE_LOG" | head -n 1)" "peer_uid.?$GW_UID"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
check "the gateway's uid connects again once it let go" \
    lib_wait 10 gw_ctl ping

# --- writes beyond what an allowed client may do ---------------------------
out=$(gw_ctl scale frontend 2147483647 2>&1)
expect_match "gateway uid: SCALE to 2147483647 refused" "$out" 'invalid'
out=$(gw_ctl pin orders 2000000000 2>&1)
expect_match "gateway uid: PIN to 2000000000 refused" "$out" 'invalid'
out=$(gw_ctl --identity replicad:reconciler scale frontend 5 2>&1)
expect_match "gateway uid: the reconciler's identity refused" "$out" \
    'invalid.*replicad:'
out=$(gw_ctl scale replicad 0 2>&1)
expect_match "gateway uid: replicad's own Deployment refused" "$out" \
    "replicad's own Deployment"
out=$(gw_ctl pin replicad 0 2>&1)
expect_match "gateway uid: a pin of replicad's own Deployment refused" \
    "$out" "replicad's own Deployment"
expect_eq "...no pin stored" "$(gw_ctl pins | grep -c '\"name\"')" 0
check "...kube-sim untouched" spec_is frontend 3
check "...replicad untouched" spec_is replicad 1
# Namespaces (issue #15): the API server has kube-system, the core serves
# only $NS; the gateway may name any namespace on the socket.
out=$(gw_ctl --namespace kube-system scale coredns 0 2>&1)
expect_match "gateway uid: SCALE in a namespace not served refused" "$out" \
    "namespace \"kube-system\" is not served by this replicad \\(namespaces: $NS\\)"
out=$(gw_ctl --namespace kube-system pin coredns 0 2>&1)
expect_match "gateway uid: PIN in a namespace not served refused" "$out" \
    'is not served'
out=$(gw_ctl --namespace kube-system get coredns 2>&1)
expect_match "gateway uid: GET in a namespace not served refused" "$out" \
    'is not served'
expect_eq "...kube-system/coredns untouched" \
    "$(kget /apis/apps/v1/namespaces/kube-system/deployments/coredns |
        jq_py 'j["spec"]["replicas"]')" 2
expect_eq "...no pin stored there" \
    "$(gw_ctl --all-namespaces pins | grep -c kube-system)" 0
expect_eq "...and a list of every namespace is the served one's" \
    "$(gw_ctl --all-namespaces list | grep -c kube-system)" 0
check "gateway uid: an allowed write passes" \
    gw_ctl --identity CN=alice scale frontend 4
expect_match "...audited with the peer's uid" \
    "$(grep 'audit=scale' "$CORE_LOG" | grep 'CN=alice')" \
    "peer_uid=$GW_UID "

# --- the socket under the gateway's feet -----------------------------------
# As the chart mounts it: the gateway's view of the volume is read-only.
ro_try() {
	unshare -m sh -c '
	    mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" &&
	    exec setpriv --reuid="$2" --regid="$3" --groups="$3" \
	        sh -c "mv \"\$1/core.sock\" \"\$1/moved\" 2>&1; echo rc=\$?" sh "$1"
	' sh "$RUN" "$GW_UID" "$GID"
}
out=$(ro_try)
expect_match "read-only mount: the gateway cannot move the socket" "$out" \
    'Read-only file system'
check "...the socket is in place" test -S "$SOCK"
check "...and the gateway still connects through it" \
    unshare -m sh -c 'mount --bind "$1" "$1" &&
        mount -o remount,bind,ro "$1" &&
        exec setpriv --reuid="$2" --regid="$3" --groups="$3" \
            "$4" --socket "$1/core.sock" --timeout 5 --expect-uid "$5" ping' \
    sh "$RUN" "$GW_UID" "$GID" "$CTL_BIN" "$CORE_UID"

# Where the directory is writable to it, the gateway can put its own
# socket in the core's place: replicad-ctl must not talk to it.
as "$GW_UID" sh -c 'mv "$1/core.sock" "$1/core.sock.real"' sh "$RUN"
setpriv --reuid="$GW_UID" --regid="$GID" --groups="$GID" \
    /usr/bin/python3 - "$SOCK" <<'PY' &
import os, socket, sys, time
os.umask(0)  # an attacker makes its socket open to everyone
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
s.settimeout(30)
try:
    while True:
        c, _ = s.accept()
        c.sendall(b"\0" * 64)
        c.close()
except OSError:
    pass
PY
IMPOSTOR=$!
LIB_PIDS="$LIB_PIDS $IMPOSTOR"
check "the impostor listens" lib_wait 10 test -S "$SOCK"
out=$(core_ctl ping 2>&1)
rc=$?
expect_eq "replicad-ctl refuses a socket served by the gateway's uid (exit 3)" \
    "$rc" 3
expect_match "...saying whose it is" "$out" "served by uid $GW_UID"
kill "$IMPOSTOR" 2>/dev/null
wait "$IMPOSTOR" 2>/dev/null

lib_finish
