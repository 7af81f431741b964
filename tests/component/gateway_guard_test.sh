#!/bin/bash
# gateway_guard_test.sh — requests that libevent would have answered with its
# own HTML page (and none of our headers) are refused by the request
# parser (gateway/http_parse.c) with our JSON error, HSTS and nosniff, then
# the connection is closed; nothing reaches the core; earlier pipelined
# requests on the same connection are still answered first; a normal
# client is served throughout.  Raw bytes over mutual TLS via gateway_raw.py.
cd "$(dirname "$0")/../.." || exit 1
. tests/component/gateway_lib.sh
shopt -s lastpipe # `printf ... | raw` counts in this shell
gw_init gateway-guard

gw_core --deployments frontend=3,orders=2
gw_gateway
gw_ready || bad "gateway became ready"

# raw NAME WANT [gateway_raw.py args] < request bytes
raw() {
	local name=$1 want=$2 out
	shift 2
	out=$(python3 tests/component/gateway_raw.py "$PORT" "$T/certs" \
	    --want "$want" "$@" 2>&1)
	if printf '%s\n' "$out" | grep -q '^CHECK OK$'; then
		ok "$name"
	else
		bad "$name: $(printf '%s\n' "$out" | tail -n 3 | tr '\n' ' ')"
	fi
	printf '%s\n' "$out" >>"$T/raw.log"
}

P=/api/v1/deployments/frontend/replicas
H='Host: localhost\r\n'
JSON='Content-Type: application/json\r\n'
big=$(head -c 9000 /dev/zero | tr '\0' a)
long=$(head -c 2100 /dev/zero | tr '\0' a)
fields=$(for i in $(seq 1 70); do printf 'X-F%d: v\\r\\n' "$i"; done)
chunk17k=$(python3 -c 'import sys
sys.stdout.write("4000\r\n" + "a" * 0x4000 + "\r\n" + "10\r\n" + "b" * 16 + "\r\n0\r\n\r\n")')

# --- the request line -------------------------------------------------------
printf 'HELLO\r\n\r\n' | raw "garbage request line -> 400" 400:bad_request
printf '\r\nGET / HTTP/1.1\r\n\r\n' | raw "empty line first -> 400" 400:bad_request
printf 'BREW /coffee HTTP/1.1\r\n\r\n' | raw "unknown method -> 501" 501:not_implemented
printf 'CONNECT localhost:443 HTTP/1.1\r\n\r\n' | raw "CONNECT -> 501" 501:not_implemented
printf 'GET /api/v1/deployments HTTP/2.0\r\n%b\r\n' "$H" |
	raw "HTTP/2.0 on the request line -> 505" 505:http_version_not_supported
printf 'GET /api/v1/deployments HTTP/1.1 extra\r\n\r\n' |
	raw "extra token on the request line -> 400" 400:bad_request
printf 'GET http://localhost/api/v1/deployments HTTP/1.1\r\n\r\n' |
	raw "absolute-form target -> 400" 400:bad_request
printf 'GET /api/v1/deploy%%zzments HTTP/1.1\r\n\r\n' |
	raw "bad percent-encoding -> 400" 400:bad_request
printf 'GET /api/v1/deployments#frag HTTP/1.1\r\n\r\n' |
	raw "fragment in the target -> 400" 400:bad_request
printf 'GET /%s HTTP/1.1\r\n\r\n' "$long" | raw "2100-byte target -> 414" 414:uri_too_long
printf 'GET /api/v1/deployments HTTP/1.1\n\n' | raw "bare LF line ends -> 400" 400:bad_request

# --- the header section -----------------------------------------------------
printf 'GET /api/v1/deployments HTTP/1.1\r\n%bX-Big: %s\r\n\r\n' "$H" "$big" |
	raw "9000-byte header -> 431" 431:header_too_large
printf 'GET /api/v1/deployments HTTP/1.1\r\n%b%b\r\n' "$H" "$fields" |
	raw "70 header fields -> 431" 431:header_too_large
printf 'GET /api/v1/deployments HTTP/1.1\r\n%bX-A: 1\r\n folded\r\n\r\n' "$H" |
	raw "obsolete line folding -> 400" 400:bad_request
printf 'GET /api/v1/deployments HTTP/1.1\r\nBad Name: 1\r\n\r\n' |
	raw "space in a field name -> 400" 400:bad_request
printf 'GET /api/v1/deployments HTTP/1.1\r\nX-A: a\001b\r\n\r\n' |
	raw "control character in a value -> 400" 400:bad_request

# --- body framing -----------------------------------------------------------
printf 'POST %s HTTP/1.1\r\n%b%bContent-Length: 20000\r\n\r\n' "$P" "$H" "$JSON" |
	raw "Content-Length 20000 -> 413 before the body is read" 413:body_too_large
printf 'POST %s HTTP/1.1\r\n%b%bTransfer-Encoding: chunked\r\n\r\n%s' \
    "$P" "$H" "$JSON" "$chunk17k" |
	raw "chunked body over 16 KiB -> 413" 413:body_too_large
printf 'POST %s HTTP/1.1\r\n%b%bTransfer-Encoding: chunked\r\n\r\nzz\r\n' \
    "$P" "$H" "$JSON" | raw "bad chunk size -> 400" 400:bad_request
printf 'POST %s HTTP/1.1\r\n%b%bTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\n\r\n' \
    "$P" "$H" "$JSON" | raw "chunk extension -> 400" 400:bad_request
printf 'POST %s HTTP/1.1\r\n%b%bTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n' \
    "$P" "$H" "$JSON" | raw "chunk longer than its size -> 400" 400:bad_request
printf 'POST %s HTTP/1.1\r\n%b%bTransfer-Encoding: gzip\r\n\r\n' "$P" "$H" "$JSON" |
	raw "Transfer-Encoding gzip -> 501" 501:not_implemented
printf 'POST %s HTTP/1.1\r\n%b%bContent-Length: 14\r\nTransfer-Encoding: chunked\r\n\r\n' \
    "$P" "$H" "$JSON" | raw "Content-Length with Transfer-Encoding -> 400" 400:bad_request
printf 'POST %s HTTP/1.1\r\n%b%bContent-Length: 14\r\nContent-Length: 14\r\n\r\n{"replicas":9}' \
    "$P" "$H" "$JSON" | raw "two Content-Length fields -> 400" 400:bad_request
printf 'POST %s HTTP/1.1\r\n%b%bContent-Length: -1\r\n\r\n' "$P" "$H" "$JSON" |
	raw "negative Content-Length -> 400" 400:bad_request
printf 'HEAD /api/v1/deployments HTTP/1.1\r\n%bContent-Length: 5\r\n\r\nhello' "$H" |
	raw "HEAD with a body -> 400 (no body: it answers a HEAD)" 400 --head
printf 'POST %s HTTP/1.1\r\n%b%bContent-Length: 14\r\nExpect: teapot\r\n\r\n' \
    "$P" "$H" "$JSON" | raw "Expect other than 100-continue -> 417" 417:expectation_failed
printf 'POST %s HTTP/1.1\r\n%b%bTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n\r\n' \
    "$P" "$H" "$JSON" | raw "trailer fields -> 400" 400:bad_request

# --- acceptable requests still pass, with the same headers ---------------------
printf 'POST %s HTTP/1.1\r\n%b%bTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nE\r\n{"replicas":7}\r\n0\r\n\r\n' \
    "$P" "$H" "$JSON" | raw "valid chunked POST -> 200" 200
printf 'POST %s HTTP/1.1\r\n%b%bContent-Length: 14\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n' \
    "$P" "$H" "$JSON" | raw "Expect: 100-continue -> 100, then 200" 200 \
    --expect-continue '{"replicas":6}'
printf 'GET /api/v1/deployments HTTP/1.0\r\n\r\n' | raw "HTTP/1.0 -> 200" 200
printf 'TRACE /api/v1/deployments HTTP/1.1\r\n%bConnection: close\r\n\r\n' "$H" |
	raw "TRACE reaches the router -> 405" 405:method_not_allowed
printf 'GET /api/v1/deployments?x=%%41&y=/a:b@c HTTP/1.1\r\n%bConnection: close\r\n\r\n' \
    "$H" | raw "query with escapes -> 200" 200

# --- pipelining: earlier requests are answered first, then the refusal --------
printf 'GET /api/v1/deployments HTTP/1.1\r\n%b\r\nGET /api/v1/deployments/orders/replicas HTTP/1.1\r\n%b\r\nGARBAGE\r\n\r\n' \
    "$H" "$H" | raw "two good requests then garbage in one write -> 200, 200, 400" \
    200,200,400:bad_request
printf 'POST %s HTTP/1.1\r\n%b%bContent-Length: 14\r\n\r\n{"replicas":8}GET / HTTP/9.9\r\n\r\n' \
    "$P" "$H" "$JSON" | raw "POST then a bad version in one write -> 200, 505" \
    200,505:http_version_not_supported

# The core holds its answer: the refusal waits behind it, never overtakes it.
gw_control "delay 700"
printf 'GET /api/v1/deployments/frontend/replicas HTTP/1.1\r\n%b\r\nGET /x HTTP/1.1\r\nA\r\n\r\n' \
    "$H" | raw "slow answer, then the refusal, in order -> 200, 400" \
    200,400:bad_request
gw_control ""

# --- nothing refused reached the core; nothing came from libevent -------------
writes=$(grep -c SCALE "$T/writes.log")
expect_eq "only the three valid writes reached the core" "$writes" 3
expect_match "the valid writes were 7, 6, 8" \
    "$(grep -o 'replicas=[0-9]*' "$T/writes.log" | tr '\n' ' ')" \
    '^replicas=7 replicas=6 replicas=8 $'
if grep -qi '<html' "$T/raw.log"; then
	bad "no libevent HTML page in any answer"
else
	ok "no libevent HTML page in any answer"
fi
# Access lines are buffered for up to a second.
lib_wait 5 grep -q 'status=431' "$T/gw.err"
expect_match "refusals are in the access log with the client identity" \
    "$(grep 'status=431' "$T/gw.err" | head -n 1)" 'replicad-admin'
expect_match "refusals are counted in /metrics" \
    "$(curl -s "http://127.0.0.1:$PPORT/metrics")" \
    'replicad_gateway_requests_total\{route="[a-z_]+",code="431"\} 2'

# --- the gateway is fine, and normal clients were never affected -------------
expect_eq "normal client served" "$(gw_code "$URL/api/v1/deployments")" 200
check "gateway still running" gw_alive "$GW_PID"
gw_finish
