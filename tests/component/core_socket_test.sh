#!/usr/bin/env bash
# core_socket_test.sh — replicad-core's socket server end to end: the real
# $BUILD/replicad-core on a temporary socket, replicad-ctl and a raw Python
# client (core_rawclient.py) as peers.  Covers the handshake, truthful
# answers before the cache exists, protocol errors closing only the
# offending connection, byte-wise input, version mismatch, the uid check
# (a client run as nobody), the client cap, safe socket creation, flag
# validation, JSON logs, and SIGTERM -> GOAWAY -> exit 0.
#
# Every wait polls a condition with a deadline.  CORE_WRAPPER (e.g.
# "valgrind --leak-check=full --error-exitcode=99") wraps the core.
. "$(dirname "$0")/lib.sh"
lib_init core-socket

BUILD=${BUILD:-build}
CORE=$BUILD/replicad-core
CTL=$BUILD/replicad-ctl
HERE=$(cd "$(dirname "$0")" && pwd)
RAW="$HERE/core_rawclient.py"
PY=${PYTHON:-python3}
NAME=$LIB_NAME
# The core's limit, read from the header that sets it.
CORE_MAX_CLIENTS=$(awk '$1 == "#define" && $2 == "CORE_MAX_CLIENTS" {print $3}' \
    "$HERE/../../core/core_limits.h")

core_pid=""
tmp=$LIB_TMP
chmod 755 "$tmp" # the nobody client must reach the socket
sock=$tmp/core.sock

kill_core() {
	[ -n "$core_pid" ] && kill -KILL "$core_pid" 2>/dev/null
	lib_cleanup
}
trap kill_core EXIT

# wait_exit PID SECS: wait for a child to exit; its status in $exit_rc.
wait_exit() {
	local end=$(($(date +%s%N) / 1000000 + $2 * 1000))
	while kill -0 "$1" 2>/dev/null; do
		if [ $(($(date +%s%N) / 1000000)) -ge $end ]; then
			exit_rc=timeout
			return 1
		fi
		sleep 0.02
	done
	wait "$1"
	exit_rc=$?
}

# run NAME WANT_RC CMD...: run CMD, keep stdout/stderr in $out/$err.
run() {
	local label=$1 want=$2 rc
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	if [ "$rc" = "$want" ]; then
		ok "$label (exit $rc)"
	else
		bad "$label: exit $rc, want $want; stdout: $out; stderr: $err"
	fi
}

# has NAME STRING FIXED: STRING contains FIXED.
has() {
	case "$2" in
	*"$3"*) ok "$1" ;;
	*) bad "$1: '$3' not in: $2" ;;
	esac
}

log_has() {
	if lib_wait 5 grep -qF -- "$2" "$tmp/core.err"; then
		ok "$1"
	else
		bad "$1: core log lacks '$2'"
	fi
}

start_core() {
	# shellcheck disable=SC2086 # CORE_WRAPPER is a command line
	${CORE_WRAPPER:-} "$CORE" --socket "$sock" --log-level debug \
	    --log-format json "$@" 2>"$tmp/core.err" &
	core_pid=$!
	if lib_wait 30 grep -qF '"msg":"replicad-core 0.1.0 ready"' \
	    "$tmp/core.err" && [ -S "$sock" ]; then
		ok "core started, socket created"
	else
		bad "core did not start: $(cat "$tmp/core.err")"
		exit 1
	fi
}

for f in "$CORE" "$CTL" "$RAW"; do
	[ -x "$f" ] || { echo "$NAME: missing $f"; exit 1; }
done

# --- flags are validated before anything starts --------------------------
run "bad --namespace refused" 2 "$CORE" --socket "$sock" --namespace Bad_NS
run "bad --kube-api scheme refused" 2 "$CORE" --socket "$sock" \
    --kube-api ftp://example
run "bad --allow-uid refused" 2 "$CORE" --socket "$sock" --allow-uid abc
run "missing --kube-token-file refused" 2 "$CORE" --socket "$sock" \
    --kube-token-file "$tmp/nonexistent"
run "bad REPLICAD_LOG_FORMAT refused" 2 env REPLICAD_LOG_FORMAT=xml \
    "$CORE" --socket "$sock"
echo not-a-socket >"$tmp/file"
run "a path that is not a socket is not replaced" 1 "$CORE" \
    --socket "$tmp/file" --kube-api http://127.0.0.1:8001
has "the file is intact" "$(cat "$tmp/file")" "not-a-socket"

# --- a stale socket (nobody listening) is replaced ------------------------
$PY -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
    "$sock"
[ -S "$sock" ] && ok "stale socket prepared" || bad "stale socket prepared"
start_core --namespace default --kube-api http://127.0.0.1:8001
mode=$(stat -c %a "$sock")
[ "$mode" = 660 ] && ok "socket mode 0660" || bad "socket mode $mode"
log_has "stale socket removed and logged" "removed a stale socket"
run "second core on a live socket refused" 1 "$CORE" --socket "$sock" \
    --kube-api http://127.0.0.1:8001
[ -S "$sock" ] && ok "live socket kept" || bad "live socket removed"

# --- truthful answers through replicad-ctl --------------------------------
run "ctl health: answered, not healthy" 4 "$CTL" --socket "$sock" health
has "health JSON" "$out" '"healthy":false,"apiReachable":false'
has "health ages never" "$out" '"lastEventAgeMs":null,"apiOkAgeMs":null'
has "health message says why" "$out" "Kubernetes API probe failed"
run "ctl ping: the loop answers while the API is down" 0 \
    "$CTL" --socket "$sock" ping
has "ping JSON" "$out" '{"version":3,"maxInflight":'
has "ping: the default namespace" "$out" '"namespace":"default"}'
run "ctl list: unavailable" 1 "$CTL" --socket "$sock" list
has "list error text" "$err" "list: unavailable: cache not synced"
has "list retry advice" "$err" "retry after 5 s"
run "ctl get: unavailable" 1 env REPLICAD_SOCKET="$sock" "$CTL" get frontend
has "get error text" "$err" "unavailable: cache not synced"
run "ctl scale: unavailable" 1 "$CTL" --socket "$sock" scale frontend 3
run "ctl pins: unavailable" 1 "$CTL" --socket "$sock" pins
run "ctl pin put: unavailable" 1 "$CTL" --socket "$sock" pin web 2
run "ctl bad name refused locally" 2 "$CTL" --socket "$sock" get Bad_Name
log_has "SCALE request reached the core" '"type":"SCALE"'

# --- protocol violations close one connection; the core keeps serving ----
run "raw: bad header -> GOAWAY(PROTOCOL)" 0 $PY "$RAW" "$sock" badheader
run "raw: oversized length -> GOAWAY(PROTOCOL)" 0 $PY "$RAW" "$sock" oversize
run "raw: wrong version -> VERSION error" 0 $PY "$RAW" "$sock" version
run "raw: one byte at a time" 0 $PY "$RAW" "$sock" bytewise
run "core still serves after violations" 4 "$CTL" --socket "$sock" health
kill -0 "$core_pid" 2>/dev/null && ok "core alive" || bad "core died"

# --- the uid check: a client running as nobody ----------------------------
chmod 0666 "$sock" # let the kernel pass it: SO_PEERCRED must refuse it
run "nobody refused (ctl)" 3 setpriv --reuid=65534 --regid=65534 \
    --clear-groups "$CTL" --socket "$sock" --timeout 5 health
run "nobody refused (ctl ping)" 3 setpriv --reuid=65534 --regid=65534 \
    --clear-groups "$CTL" --socket "$sock" --timeout 5 ping
if [ -x /usr/bin/python3 ]; then
	run "nobody gets no byte, only EOF" 0 setpriv --reuid=65534 \
	    --regid=65534 --clear-groups /usr/bin/python3 "$RAW" "$sock" silent
fi
log_has "refusal logged with uid" '"peer_uid":65534'
chmod 0660 "$sock"

# --- the client cap --------------------------------------------------------
run "client $((CORE_MAX_CLIENTS + 1)) gets GOAWAY(UNAVAILABLE)" 0 \
    $PY "$RAW" "$sock" maxclients "$CORE_MAX_CLIENTS"

# --- metrics count what happened ------------------------------------------
run "ctl metrics" 0 "$CTL" --socket "$sock" metrics
has "metrics: clients gauge" "$out" "replicad_core_socket_clients 1"
has "metrics: refused uid" "$out" \
    'replicad_core_socket_refused_total{reason="uid"} 3'
has "metrics: refused capacity" "$out" \
    'replicad_core_socket_refused_total{reason="capacity"} 1'
has "metrics: protocol errors" "$out" \
    "replicad_core_socket_protocol_errors_total 2"
has "metrics: unavailable answers" "$out" \
    'replicad_core_socket_error_answers_total{code="unavailable"}'

# --- SIGTERM: GOAWAY to connected clients, socket removed, exit 0 ---------
$PY "$RAW" "$sock" waitgoaway >"$tmp/wait.out" 2>&1 &
waiter=$!
if lib_wait 10 grep -q "connected" "$tmp/wait.out"; then
	ok "idle client connected"
else
	bad "idle client did not connect: $(cat "$tmp/wait.out")"
fi
kill -TERM "$core_pid"
wait_exit "$waiter" 30
[ "$exit_rc" = 0 ] && ok "client got GOAWAY(UNAVAILABLE, shutting down)" ||
	bad "client: $exit_rc: $(cat "$tmp/wait.out")"
wait_exit "$core_pid" 60
[ "$exit_rc" = 0 ] && ok "core exit 0 on SIGTERM" ||
	bad "core exit $exit_rc: $(tail -5 "$tmp/core.err")"
core_pid=""
[ -e "$sock" ] && bad "socket left behind" || ok "socket removed"

# --- every log line was JSON made by yajl ----------------------------------
if $PY -c 'import json,sys
n = 0
for line in open(sys.argv[1]):
    if line.startswith("{"):
        json.loads(line); n += 1
    elif line.strip() and not line.startswith("=="):
        sys.exit("not JSON: " + line)
sys.exit(0 if n > 10 else "too few lines")' "$tmp/core.err"; then
	ok "core log is JSON lines"
else
	bad "core log is not all JSON"
fi

lib_finish
