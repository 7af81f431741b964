#!/bin/bash
# gateway_conn_test.sh — whatever bytes a client with a valid certificate
# writes, the gateway answers what it owes and lives on (issue #17: one TLS
# write holding a complete request that ends the connection, followed by
# stray bytes, freed the SSL twice); and HTTP/1.1 framing holds on a
# kept-alive connection: HEAD answered wherever GET is (headers, no body),
# Expect: 100-continue, pipelining, no body on a 1xx/204/304.
#
#  1. the inputs that crashed it, each in ONE TLS write (the owed answers
#     arrive, the process lives and serves a normal request), then as
#     single-byte writes and split into two writes at every position;
#  2. a seeded mutation loop ($GW_CONN_FUZZ connections, seed
#     $GW_CONN_SEED): every answer parses as HTTP/1.1, the gateway lives
#     after every 50;
#  3. HEAD on one kept-alive connection (http.client), never a core write;
#     405 answers list HEAD in Allow wherever they list GET;
#  4. Expect: 100-continue, head then body, then another request;
#  5. (in every parse of gateway_conn.py) nothing after a 1xx/204/304 head;
#  6. two pipelined requests in one write, then a third.
# Raw bytes over mutual TLS via gateway_conn.py; details in $T/conn.log
# (LIB_KEEP=1 keeps $T).  Under GW_WRAPPER (make valgrind) deadlines are
# longer, the mutation loop is 100 connections and splits every 4th byte.
cd "$(dirname "$0")/../.." || exit 1
. tests/component/gateway_lib.sh
gw_init gateway-conn

if [ -n "${GW_WRAPPER:-}" ]; then
	export GW_CONN_SLOW=1
	FUZZ_N=${GW_CONN_FUZZ:-100}
	STEP=4
	SCLIENT_SECS=90
else
	export GW_CONN_SLOW=0
	FUZZ_N=${GW_CONN_FUZZ:-300}
	STEP=1
	SCLIENT_SECS=20
fi
SEED=${GW_CONN_SEED:-17}

gw_core --deployments frontend=3,orders=2
# shellcheck disable=SC2119 # no arguments: the defaults
start_gateway() {
	gw_gateway
	gw_ready || bad "gateway became ready"
}
start_gateway

# conn COMMAND [ARGS]: gateway_conn.py against the gateway of the moment; its
# "ok"/"FAIL" lines are checks.  When it finds the gateway dead it says
# "RESTART N": a new gateway is started (the failure was counted) and the
# command goes on from its step N, so that every later check still says
# something.
conn() {
	local out rc line fails from=0 restart
	while :; do
		out=$(python3 tests/component/gateway_conn.py "$@" --from "$from" \
		    --port "$PORT" --pport "$PPORT" --pid "$GW_PID" \
		    --certs "$T/certs" --log "$T/conn.log" 2>&1)
		rc=$?
		fails=0
		restart=""
		while IFS= read -r line; do
			case $line in
			"ok   - "*) ok "${line#ok   - }" ;;
			"FAIL - "*)
				bad "${line#FAIL - }"
				fails=$((fails + 1))
				;;
			"RESTART "*) restart=${line#RESTART } ;;
			esac
		done <<<"$out"
		if [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then
			bad "gateway_conn.py $1 ran: $(printf '%s\n' "$out" |
			    tail -n 3 | tr '\n' ' ')"
		fi
		[ -n "$restart" ] || return 0
		echo "=== gateway_conn: new gateway, $1 from step $restart" \
		    >>"$T/gw.err"
		start_gateway
		from=$restart
	done
}

# The process is there, no zombie, and its event loop serves a normal
# client; if not (counted), a new gateway for what follows.
zombie() { grep -q ') Z ' "/proc/$1/stat" 2>/dev/null; }
survives() {
	local code
	code=$(gw_code "$URL/api/v1/deployments")
	if [ "$code" = 200 ] && gw_alive "$GW_PID" && ! zombie "$GW_PID"; then
		ok "$1: the gateway lives and serves a normal request"
	else
		bad "$1: the gateway died (a normal request got '$code')"
		echo "=== gateway_conn: new gateway after $1" >>"$T/gw.err"
		start_gateway
	fi
}

# crash NAME BYTES [ARGS]: a case for `gateway_conn.py cases` (see there): BYTES
# (\r \n escapes) in one TLS write with ARGS saying what is owed, then one
# byte per write, then in two writes split at every position (every
# $STEP-th under valgrind); the gateway must live after each.
crash() {
	local name=$1 bytes=$2
	shift 2
	printf '%s\t%s\t%s\n' "$name" "$*" "$bytes" >>"$T/cases"
}

P=/api/v1/deployments/frontend/replicas
GET_CLOSE='GET /api/v1/deployments HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
GET_KEEP='GET /api/v1/deployments HTTP/1.1\r\nHost: x\r\n\r\n'
GET_10='GET /api/v1/deployments HTTP/1.0\r\n\r\n'
POST_CLOSE="POST $P HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 14\\r\\nConnection: close\\r\\n\\r\\n{\"replicas\":4}"

# --- 1. the inputs of issue #17, and what the fuzzer found ---------------------
# One request that ends the connection, then stray bytes (issue #17); the
# bytes after it are never answered.
crash "Connection: close GET, then CRLF -> 200, close" "$GET_CLOSE\r\n" \
    --want 200 --close
crash "Connection: close GET, then LF -> 200, close" "$GET_CLOSE\n" \
    --want 200 --close
crash "HTTP/1.0 GET, then LF -> 200, close" "$GET_10\n" --want 200 --ends
crash "HTTP/1.0 GET, then CRLF -> 200, close" "$GET_10\r\n" --want 200 --ends
crash "Connection: close GET, then X -> 200, close" "${GET_CLOSE}X" \
    --want 200 --close
crash "Connection: close GET, then a second request -> 200 only, close" \
    "$GET_CLOSE$GET_KEEP" --want 200 --close
crash "kept-alive GET, then LF -> 200" "$GET_KEEP\n" --want 200 --keep
crash "kept-alive GET, Connection: close GET, then CRLF -> 200, 200, close" \
    "$GET_KEEP$GET_CLOSE\r\n" --want 200,200 --close
crash "Connection: close POST, then CRLF -> 200, close" "$POST_CLOSE\r\n" \
    --want 200 --close
crash "a connection carrying only CRLF -> 400, close" '\r\n' \
    --want 400:bad_request --close
crash "qXHEAD (a request the guard refuses) -> 501, close" \
    'qXHEAD /api/v1/deployments HTTP/1.1\r\nHost: x\r\n\r\n' \
    --want 501:not_implemented --close
crash "read-only certificate: Connection: close GET, then CRLF -> 200" \
    "$GET_CLOSE\r\n" --want 200 --close --who reader
conn cases "$T/cases" --step "$STEP"

# openssl s_client -ign_eof <<< "$REQUEST": the here-string adds the LF
# (no $(...) here: it would strip the final LF and leave the request whole).
REQUEST=$'GET /api/v1/deployments HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
out=$(timeout "$SCLIENT_SECS" openssl s_client -ign_eof \
    -connect "127.0.0.1:$PORT" -servername localhost \
    -CAfile "$T/certs/ca.crt" -cert "$T/certs/client.crt" \
    -key "$T/certs/client.key" <<<"$REQUEST" 2>>"$T/sclient.err")
rc=$?
printf '%s\n' "$out" >>"$T/sclient.out"
expect_eq "s_client -ign_eof, Connection: close request: one HTTP/1.1 200" \
    "$(printf '%s\n' "$out" | tr -d '\r' | grep -c '^HTTP/')" 1
check "s_client -ign_eof: the answer is HTTP/1.1 200" \
    grep -q '^HTTP/1.1 200 ' "$T/sclient.out"
if [ "$rc" -ne 124 ]; then
	ok "s_client -ign_eof: the server closed the connection"
else
	bad "s_client -ign_eof: the server closed the connection (timed out)"
fi
survives "s_client -ign_eof"

# --- 2. the seeded mutation loop -------------------------------------------------
# Batches of 50; replay one case I with
#   gateway_conn.py fuzz --seed S --from-case I --count 1 --port ... (see there).
conn fuzz --seed "$SEED" --count "$FUZZ_N"

# --- 3, 4, 6. HEAD, Expect: 100-continue, pipelining -------------------------
# (gateway_conn.py framing; 5, no body after a 1xx/204/304 head, is in its every
# parse.)  Its one write is the 100-continue POST of 6 replicas.
writes_before=$(grep -c . "$T/writes.log")
conn framing
expect_eq "HEAD never reached the core as a write: the only write is the POST" \
    "$(tail -n +"$((writes_before + 1))" "$T/writes.log" |
	    grep -o '^[A-Z_]* namespace=[a-z0-9-]* name=[a-z]* replicas=[0-9]*' | tr '\n' ' ')" \
    "SCALE namespace=default name=frontend replicas=6 "

# allow METHOD PATH: 405, and Allow lists both GET and HEAD.
allow() {
	local hdrs status list
	hdrs=$(gw_curl client -X "$1" -o /dev/null -D - "$URL$2" 2>/dev/null |
	    tr -d '\r')
	status=$(printf '%s\n' "$hdrs" | head -n 1 | cut -d ' ' -f 2)
	list=$(printf '%s\n' "$hdrs" | grep -i '^allow:' | cut -d : -f 2- |
	    tr ',' '\n' | tr -d ' \t' | sort | tr '\n' ' ')
	if [ "$status" = 405 ] && [[ " $list" == *" GET "* ]] &&
	    [[ " $list" == *" HEAD "* ]]; then
		ok "$1 $2 -> 405, Allow: $list"
	else
		bad "$1 $2 -> 405 with GET and HEAD in Allow (got $status, Allow: '$list')"
	fi
}
allow DELETE /api/v1/deployments
allow DELETE "$P"
allow POST /api/v1/deployments/frontend/pin
allow DELETE /api/v1/pins
allow DELETE /healthz
survives "HEAD, 100-continue and pipelining"

# Under make valgrind: any report from any gateway of this run (one that
# was restarted above never got to exit with valgrind's error code).
if [ -n "${GW_WRAPPER:-}" ]; then
	if grep -qE '^==[0-9]+== ' "$T/gw.err"; then
		bad "no valgrind report in the gateway log"
	else
		ok "no valgrind report in the gateway log"
	fi
fi

gw_finish
