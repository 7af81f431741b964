# gateway_lib.sh — the gateway's component tests, on lib.sh (bash).
# Sourced, not run.  The tests start the real replicad-gateway against
# $BUILD/fake-core and talk to it with curl, openssl s_client and python3.
#
#   gw_init NAME            lib_init, temp dir $T (= $LIB_TMP), dev certs
#                           in $T/certs
#   gw_core [ARGS]          (re)start the fake core on $T/core.sock
#   gw_gateway [ARGS]       start the gateway on free ports ($PORT, $PPORT);
#                           unless ARGS hold --allow-read/--allow-write it
#                           adds $GW_ALLOW: by default the dev PKI's client
#                           (CN=replicad-admin) writes and its reader
#                           (CN=replicad-reader) reads; GW_ALLOW= (empty)
#                           starts it with no list at all (writes refused)
#   gw_control LINES        replace the fake core's control file atomically
#   gw_code ARGS            HTTP status of a curl request with the admin cert
#   gw_alive PID            the process is running
#   gw_finish               the gateway exits 0 on SIGTERM, no sanitizer
#                           report; then lib_finish (and the logs' tails
#                           on a failure)
# Everything else is lib.sh's: lib_wait, lib_free_port, lib_forget,
# LIB_PIDS, ok/bad, check, expect_eq, expect_match.
# Waiting is always for a condition with a deadline, never a bare sleep.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -u

BUILD=${BUILD:-build}
T=""
CORE_PID=""
GW_PID=""

gw_init() {
	lib_init "$1"
	T=$LIB_TMP
	for b in "$BUILD/replicad-gateway" "$BUILD/fake-core"; do
		[ -x "$b" ] || { echo "$LIB_NAME: missing $b"; exit 1; }
	done
	scripts/gen-certs.sh "$T/certs" >/dev/null 2>&1 ||
		{ echo "$LIB_NAME: gen-certs failed"; exit 1; }
	: >"$T/control"
	: >"$T/writes.log"
}

gw_alive() { kill -0 "$1" 2>/dev/null; }

gw_finish() {
	local rc
	# The last gateway must exit 0 on SIGTERM; under GW_WRAPPER=valgrind
	# (make valgrind) its error exit code makes this fail.
	if [ -n "$GW_PID" ] && gw_alive "$GW_PID"; then
		kill "$GW_PID"
		wait "$GW_PID"
		rc=$?
		lib_forget "$GW_PID"
		GW_PID=""
		expect_eq "gateway exits 0 on SIGTERM" "$rc" 0
	fi
	# Under `make sanitize` a report in a daemon's log is a failure.
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
	    "$T/gw.err" "$T/core.err" 2>/dev/null; then
		bad "no sanitizer report in the gateway or fake core logs"
	fi
	if ! lib_finish; then
		echo "--- gateway log (tail) ---"
		tail -n 40 "$T/gw.err" 2>/dev/null
		echo "--- fake core log (tail) ---"
		tail -n 20 "$T/core.err" 2>/dev/null
		exit 1
	fi
	exit 0
}

gw_control() {
	printf '%s\n' "$@" >"$T/control.tmp" && mv "$T/control.tmp" "$T/control"
}

gw_core_stop() {
	if [ -n "$CORE_PID" ]; then
		kill "$CORE_PID" 2>/dev/null
		lib_wait_pid "$CORE_PID" 5 || kill -9 "$CORE_PID" 2>/dev/null
		lib_forget "$CORE_PID"
		CORE_PID=""
	fi
}

gw_core() {
	gw_core_stop
	rm -f "$T/core.sock"
	"$BUILD/fake-core" --socket "$T/core.sock" --log "$T/writes.log" \
	    --trace "$T/trace.log" --control "$T/control" "$@" \
	    2>>"$T/core.err" &
	CORE_PID=$!
	LIB_PIDS="$LIB_PIDS $CORE_PID"
	lib_wait 10 test -S "$T/core.sock" ||
		{ echo "$LIB_NAME: fake core did not start"; exit 1; }
}

gw_gateway_stop() {
	if [ -n "$GW_PID" ]; then
		kill "$GW_PID" 2>/dev/null
		lib_wait_pid "$GW_PID" 15 || kill -9 "$GW_PID" 2>/dev/null
		lib_forget "$GW_PID"
		GW_PID=""
	fi
}

gw_livez() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
	    "http://127.0.0.1:$PPORT/livez" | grep -q 200
}

# The allow-lists gw_gateway adds when its caller gives none (typed
# entries, as the gateway requires since issue #12).
GW_ALLOW_DEFAULT="--allow-write CN=replicad-admin --allow-read CN=replicad-reader"

gw_gateway() {
	local a allow=()
	gw_gateway_stop
	read -ra allow <<<"${GW_ALLOW-$GW_ALLOW_DEFAULT}"
	for a in "$@"; do
		case $a in
		--allow-read | --allow-write | --allow-read=* | --allow-write=*)
			allow=()
			;;
		esac
	done
	PORT=$(lib_free_port)
	PPORT=$(lib_free_port)
	URL="https://localhost:$PORT"
	# GW_WRAPPER: e.g. valgrind, for a run under a checker.
	${GW_WRAPPER:-} "$BUILD/replicad-gateway" --listen "127.0.0.1:$PORT" \
	    --probe-listen "127.0.0.1:$PPORT" \
	    --tls-cert "$T/certs/server.crt" --tls-key "$T/certs/server.key" \
	    --client-ca "$T/certs/ca.crt" --core-socket "$T/core.sock" \
	    ${allow[@]+"${allow[@]}"} "$@" 2>>"$T/gw.err" &
	GW_PID=$!
	LIB_PIDS="$LIB_PIDS $GW_PID"
	lib_wait "${GW_START_SECS:-10}" gw_livez ||
		{ echo "$LIB_NAME: gateway did not start"; tail "$T/gw.err"; exit 1; }
}

# Waits until the gateway's core link is up (readyz says so).
gw_ready() {
	lib_wait "${1:-10}" sh -c "curl -s --max-time 2 \
	    http://127.0.0.1:$PPORT/readyz | grep -q '\"ready\"'"
}

# curl with a client certificate: gw_curl WHO ARGS (WHO: client|reader)
gw_curl() {
	local who=$1
	shift
	curl -sS --max-time 10 --cacert "$T/certs/ca.crt" \
	    --cert "$T/certs/$who.crt" --key "$T/certs/$who.key" "$@"
}

# Status code only: gw_code [-u WHO] ARGS
gw_code() {
	local who=client
	if [ "$1" = "-u" ]; then
		who=$2
		shift 2
	fi
	gw_curl "$who" -o /dev/null -w '%{http_code}' "$@" 2>/dev/null
}

# POST a JSON body to a deployment's replicas; prints the status code.
gw_post() {
	gw_code -X POST -H 'Content-Type: application/json' \
	    --data-binary "$2" "$URL/api/v1/deployments/$1/replicas"
}
