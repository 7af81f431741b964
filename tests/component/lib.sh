# lib.sh — shared helpers for component tests (bash).  Source it, call
# lib_init NAME, use check/expect_* and finish with lib_finish.
#
#   lib_bg NAME CMD...        start CMD in the background (stdout/stderr in
#                             $LIB_TMP/NAME.out/.err); killed at exit
#   lib_wait SECS CMD...      poll CMD until it succeeds or SECS pass (every
#                             LIB_WAIT_POLL seconds, default 0.02)
#   lib_wait_line SECS F RE   wait until file F has a line matching RE
#   lib_free_port             print a free TCP port on 127.0.0.1
#   lib_http_code URL ARGS... print the HTTP status code of a curl request
#   check NAME CMD...         run CMD; count a pass or a failure
#   ok NAME / bad NAME        count a pass / a failure decided by the test
#   expect_eq NAME GOT WANT   compare two strings
#   expect_match NAME STR RE  grep -E RE in STR
#   lib_skip REASON           print "NAME: SKIP REASON" and exit 0
#   lib_finish                print "NAME: N passed, M failed"; exit status
#
# LIB_KEEP=1 keeps $LIB_TMP (logs, sockets) after the test for a look.
# The module harnesses build on this one: kube_sim_lib.sh (kube-sim) and
# core_lib.sh (replicad-core) for the core's tests, gateway_lib.sh for
# the gateway's.
#
# Names: a test is <part>_<topic>_test.sh (core_, gateway_, kube_sim_,
# e2e_; in tests/chart, tests/image and tests/privsep likewise), a harness
# <part>_lib.sh, a helper program <part>_<what>.py; each module's make
# fragment registers its tests by that pattern.
#
# Waiting is always "until a condition holds, with a deadline": never a
# bare sleep that hopes the other side is done.
set -u

LIB_NAME=test
LIB_PASS=0
LIB_FAIL=0
LIB_PIDS=""
LIB_TMP=""

lib_cleanup() {
	local p
	for p in $LIB_PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $LIB_PIDS; do
		lib_wait_pid "$p" 5 || kill -9 "$p" 2>/dev/null || true
	done
	if [ "${LIB_KEEP:-0}" = 1 ]; then
		echo "$LIB_NAME: kept $LIB_TMP"
	elif [ -n "$LIB_TMP" ]; then
		rm -rf "$LIB_TMP"
	fi
}

lib_init() {
	LIB_NAME=$1
	LIB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$LIB_NAME.XXXXXX")
	trap lib_cleanup EXIT
	trap 'exit 130' INT TERM
}

lib_log() {
	echo "$LIB_NAME: $*"
}

lib_bg() {
	local name=$1
	shift
	"$@" >"$LIB_TMP/$name.out" 2>"$LIB_TMP/$name.err" &
	LIB_LAST_PID=$!
	LIB_PIDS="$LIB_PIDS $LIB_LAST_PID"
}

# Forget a pid the test ended itself.
lib_forget() {
	local p out=""
	for p in $LIB_PIDS; do
		[ "$p" = "$1" ] || out="$out $p"
	done
	LIB_PIDS=$out
}

lib_wait() {
	local secs=$1
	shift
	local end=$(($(date +%s%N) / 1000000 + secs * 1000))
	while ! "$@" >/dev/null 2>&1; do
		if [ $(($(date +%s%N) / 1000000)) -ge $end ]; then
			return 1
		fi
		sleep "${LIB_WAIT_POLL:-0.02}"
	done
	return 0
}

lib_wait_line() {
	lib_wait "$1" grep -qE "$3" "$2"
}

# Wait for a process to exit (it must be our child for the status).
lib_wait_pid() {
	lib_wait "$2" lib_pid_gone "$1"
}

lib_pid_gone() {
	! kill -0 "$1" 2>/dev/null
}

lib_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

lib_http_code() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' "$@" "$url"
}

ok() {
	LIB_PASS=$((LIB_PASS + 1))
	echo "ok   $1"
}

bad() {
	LIB_FAIL=$((LIB_FAIL + 1))
	echo "FAIL $1"
}

check() {
	local name=$1
	shift
	if "$@" >"$LIB_TMP/check.out" 2>&1; then
		LIB_PASS=$((LIB_PASS + 1))
		echo "ok   $name"
	else
		LIB_FAIL=$((LIB_FAIL + 1))
		echo "FAIL $name"
		sed 's/^/     | /' "$LIB_TMP/check.out" | head -20
	fi
}

expect_eq() {
	if [ "$2" = "$3" ]; then
		LIB_PASS=$((LIB_PASS + 1))
		echo "ok   $1"
	else
		LIB_FAIL=$((LIB_FAIL + 1))
		echo "FAIL $1"
		echo "     | got:  $(printf '%s' "$2" | head -c 600)"
		echo "     | want: $(printf '%s' "$3" | head -c 600)"
	fi
}

expect_match() {
	if printf '%s' "$2" | grep -qE -- "$3"; then
		LIB_PASS=$((LIB_PASS + 1))
		echo "ok   $1"
	else
		LIB_FAIL=$((LIB_FAIL + 1))
		echo "FAIL $1"
		echo "     | got:  $(printf '%s' "$2" | head -c 600)"
		echo "     | want: /$3/"
	fi
}

lib_skip() {
	echo "$LIB_NAME: SKIP $*"
	echo "$LIB_NAME: 0 passed, 0 failed (skipped)"
	exit 0
}

lib_finish() {
	echo "$LIB_NAME: $LIB_PASS passed, $LIB_FAIL failed"
	[ "$LIB_FAIL" -eq 0 ]
}
