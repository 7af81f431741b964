#!/bin/bash
# gateway_authz_test.sh — authorization secure by default (issue #12, item 6),
# with real client certificates through curl -> replicad-gateway -> fake
# core:
#   - the dev PKI's reader (CN=replicad-reader) may read and may not write
#     (scale, pin, unpin), and none of its attempts reaches the core;
#   - with no allow-list at all, every verified client reads and nobody
#     writes (403), and the gateway says so at start, naming --allow-write
#     and REPLICAD_ALLOW_WRITE;
#   - entries are typed and each matches only names of its own type: a
#     DNS: entry is not a CN of the same text nor a CN= entry a DNS SAN; a
#     URI: entry with a SPIFFE ID matches a certificate (without a CN, as
#     meshes issue them) that carries that URI SAN, and only that one;
#     email: and IP: likewise;
#   - an untyped or malformed entry, on the command line or from the
#     environment, stops the gateway at start with exit 2 and the accepted
#     forms.
cd "$(dirname "$0")/../.." || exit 1
. tests/component/gateway_lib.sh
gw_init gateway-authz
: >>"$T/gw.err"
C=$T/certs
SPIFFE=spiffe://cluster.local/ns/x/sa/y
FORMS="CN=<common name>, DNS:<name>, URI:<uri>, email:<address>, IP:<address>, each optionally scoped as <namespace>/<entry>"

# mkcert NAME SUBJECT [SAN]: a client certificate of the dev CA in $C.
mkcert() {
	printf '%s\n' "basicConstraints=critical,CA:FALSE" \
	    "keyUsage=critical,digitalSignature" \
	    "extendedKeyUsage=clientAuth" >"$T/$1.ext"
	[ -n "${3:-}" ] && echo "subjectAltName=$3" >>"$T/$1.ext"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$C/$1.key" 2>/dev/null &&
	openssl req -new -key "$C/$1.key" -subj "$2" -out "$T/$1.csr" &&
	openssl x509 -req -in "$T/$1.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" \
	    -CAcreateserial -CAserial "$T/ca.srl" -days 30 -sha256 \
	    -extfile "$T/$1.ext" -out "$C/$1.crt" 2>/dev/null
}
# No CN, the admin's name as a DNS SAN.
mkcert dnsadmin "/O=replicad-test" "DNS:replicad-admin" || bad "make dnsadmin cert"
# A DNS name as the CN, no SAN.
mkcert cnops "/CN=ops.example.com" || bad "make cnops cert"
# A workload certificate as a mesh issues it: no CN, a SPIFFE URI SAN.
mkcert spiffe "/O=mesh" "URI:$SPIFFE" || bad "make spiffe cert"
mkcert spiffe2 "/O=mesh" "URI:${SPIFFE}y" || bad "make spiffe2 cert"
mkcert mail "/CN=ops" "email:ops@example.com" || bad "make email cert"
mkcert ip6 "/O=replicad-test" "IP:::1" || bad "make IP cert"

# req WHO METHOD PATH: status of a request as WHO (a cert in $C).
req() {
	local who=$1 m=$2 p=$3
	case $m in
	POST | PUT)
		gw_code -u "$who" -X "$m" -H 'Content-Type: application/json' \
		    -d '{"replicas":2}' "$URL$p"
		;;
	*) gw_code -u "$who" -X "$m" "$URL$p" ;;
	esac
}
read_code() { req "$1" GET /api/v1/deployments; }
scale_code() { req "$1" POST /api/v1/deployments/frontend/replicas; }
writes() { wc -l <"$T/writes.log"; }
# log_since N: the gateway's log after its first N lines.
log_since() { tail -n +"$(($1 + 1))" "$T/gw.err"; }

gw_core --deployments frontend=3,orders=2

# --- the test default (as make run): admin writes, reader reads ----------
mark=$(wc -l <"$T/gw.err")
gw_gateway
gw_ready || bad "ready with the default lists"
expect_eq "reader may read" "$(read_code reader)" 200
expect_eq "reader may read one deployment" \
    "$(req reader GET /api/v1/deployments/frontend/replicas)" 200
before=$(writes)
expect_eq "reader may not scale" "$(scale_code reader)" 403
expect_eq "reader may not pin" "$(req reader PUT /api/v1/deployments/orders/pin)" 403
expect_eq "reader may not unpin" \
    "$(req reader DELETE /api/v1/deployments/orders/pin)" 403
body=$(gw_curl reader -X POST -H 'Content-Type: application/json' \
    -d '{"replicas":2}' "$URL/api/v1/deployments/frontend/replicas")
expect_match "reader's 403 body: forbidden, names --allow-write" "$body" \
    '^\{"error":"forbidden","message":"client \\"replicad-reader\\" may not write in namespace \\"default\\": this client certificate is not on --allow-write, for this namespace or for all"\}$'
expect_eq "none of the reader's writes reached the core" "$(writes)" "$before"
expect_eq "admin may scale" "$(scale_code client)" 200
expect_match "…as replicad-admin" "$(cat "$T/writes.log")" \
    'SCALE namespace=default name=frontend replicas=2 previous=3 identity=replicad-admin ok'
check "no writes-refused warning with --allow-write" \
    sh -c "! tail -n +$((mark + 1)) '$T/gw.err' | grep -q 'no --allow-write'"

# --- no list at all: reads open, writes refused, a warning -------------
mark=$(wc -l <"$T/gw.err")
GW_ALLOW='' gw_gateway
gw_ready || bad "ready with no list"
expect_match "start-up warning: writes refused, how to allow them" \
    "$(log_since "$mark")" \
    'no --allow-write given: writes are refused \(403\).*--allow-write CN=<name>.*REPLICAD_ALLOW_WRITE'
expect_eq "…one line" "$(log_since "$mark" | grep -c 'no --allow-write')" 1
expect_eq "no list: admin reads" "$(read_code client)" 200
expect_eq "no list: reader reads" "$(read_code reader)" 200
expect_eq "no list: a SPIFFE workload reads" "$(read_code spiffe)" 200
before=$(writes)
expect_eq "no list: admin may not scale" "$(scale_code client)" 403
expect_eq "no list: reader may not scale" "$(scale_code reader)" 403
expect_eq "no list: admin may not pin" \
    "$(req client PUT /api/v1/deployments/orders/pin)" 403
expect_eq "no list: admin may not unpin" \
    "$(req client DELETE /api/v1/deployments/orders/pin)" 403
body=$(gw_curl client -X POST -H 'Content-Type: application/json' \
    -d '{"replicas":2}' "$URL/api/v1/deployments/frontend/replicas")
expect_match "no list: 403 body says writes need --allow-write" "$body" \
    '^\{"error":"forbidden","message":"client \\"replicad-admin\\" may not write in namespace \\"default\\": writes are refused: the gateway was started without --allow-write"\}$'
expect_eq "no list: nothing reached the core" "$(writes)" "$before"
expect_match "no list: the refusal is logged" "$(log_since "$mark")" \
    'authz: replicad-admin may not POST'

# --- the same from the environment (the chart's way) ---------------------
mark=$(wc -l <"$T/gw.err")
REPLICAD_ALLOW_WRITE=CN=replicad-admin REPLICAD_ALLOW_READ='' GW_ALLOW='' gw_gateway
gw_ready || bad "ready with REPLICAD_ALLOW_WRITE"
expect_eq "REPLICAD_ALLOW_WRITE: admin may scale" "$(scale_code client)" 200
expect_eq "REPLICAD_ALLOW_WRITE: reader may not read (a list is set)" \
    "$(read_code reader)" 403
check "REPLICAD_ALLOW_WRITE: no writes-refused warning" \
    sh -c "! tail -n +$((mark + 1)) '$T/gw.err' | grep -q 'no --allow-write'"

# --- a read list alone: its names read, nobody writes -------------------
mark=$(wc -l <"$T/gw.err")
gw_gateway --allow-read CN=replicad-reader
gw_ready || bad "ready with a read list only"
expect_eq "read list only: reader reads" "$(read_code reader)" 200
expect_eq "read list only: admin may not read (not listed)" "$(read_code client)" 403
expect_eq "read list only: reader may not scale" "$(scale_code reader)" 403
expect_match "read list only: the warning" "$(log_since "$mark")" \
    'no --allow-write given: writes are refused'

# --- typed matching --------------------------------------------------------
gw_gateway --allow-write CN=replicad-admin --allow-write DNS:ops.example.com \
    --allow-write "URI:$SPIFFE" --allow-read email:ops@example.com \
    --allow-write IP:0:0:0:0:0:0:0:1
gw_ready || bad "ready with typed lists"
expect_eq "CN= entry: the admin's CN scales" "$(scale_code client)" 200
expect_eq "CN= entry does not match a DNS SAN of the same text (read)" \
    "$(read_code dnsadmin)" 403
expect_eq "…nor for a write" "$(scale_code dnsadmin)" 403
expect_eq "DNS: entry does not match a CN of the same text" \
    "$(read_code cnops)" 403
before=$(writes)
expect_eq "URI: entry: the SPIFFE workload scales" "$(scale_code spiffe)" 200
expect_match "…and the core gets its SPIFFE ID as the identity" \
    "$(tail -n +"$((before + 1))" "$T/writes.log")" \
    "SCALE namespace=default name=frontend replicas=2 previous=[0-9]+ identity=$SPIFFE ok"
expect_eq "URI: entry is matched whole (a longer SPIFFE ID is nobody)" \
    "$(read_code spiffe2)" 403
expect_eq "email: entry reads" "$(read_code mail)" 200
expect_eq "email: entry in --allow-read does not write" "$(scale_code mail)" 403
expect_eq "IP: entry (any spelling of ::1) matches an IP SAN ::1" \
    "$(scale_code ip6)" 200
expect_eq "reader (not listed here) may not read" "$(read_code reader)" 403

gw_gateway --allow-write DNS:replicad-admin --allow-read CN=ops.example.com \
    --allow-read "DNS:$SPIFFE"
gw_ready || bad "ready with DNS lists"
expect_eq "DNS: entry: the DNS SAN scales" "$(scale_code dnsadmin)" 200
expect_eq "DNS: entry does not match the admin's CN of the same text" \
    "$(read_code client)" 403
expect_eq "CN= entry: a CN that looks like a DNS name reads" \
    "$(read_code cnops)" 200
expect_eq "DNS: entry does not match a URI SAN of the same text" \
    "$(read_code spiffe)" 403

# --- untyped or malformed entries stop the gateway (exit 2) ----------------
# refused NAME ENV ARGS...: the gateway exits 2 at once, naming the forms.
refused() {
	local name=$1 env=$2 rc out
	shift 2
	out=$(env $env timeout 10 "$BUILD/replicad-gateway" \
	    --listen "127.0.0.1:$(lib_free_port)" \
	    --probe-listen "127.0.0.1:$(lib_free_port)" \
	    --tls-cert "$C/server.crt" --tls-key "$C/server.key" \
	    --client-ca "$C/ca.crt" --core-socket "$T/core.sock" "$@" 2>&1)
	rc=$?
	expect_eq "refused at start: $name (exit 2)" "$rc" 2
	expect_match "…naming the accepted forms" "$out" "$(printf '%s' "$FORMS" |
	    sed 's/[][\.*^$()+?{}|]/\\&/g')"
}
refused "--allow-write replicad-admin (untyped)" "" --allow-write replicad-admin
refused "--allow-read replicad-reader (untyped)" "" --allow-read replicad-reader
refused "--allow-write $SPIFFE (untyped URI)" "" --allow-write "$SPIFFE"
refused "--allow-write cn=replicad-admin (prefix case)" "" \
    --allow-write cn=replicad-admin
refused "--allow-write CN= (empty)" "" --allow-write CN=
refused "--allow-write IP:localhost (not an address)" "" --allow-write IP:localhost
refused "REPLICAD_ALLOW_WRITE=replicad-admin (untyped)" \
    REPLICAD_ALLOW_WRITE=replicad-admin
refused "REPLICAD_ALLOW_READ with one untyped entry of two" \
    REPLICAD_ALLOW_READ=CN=replicad-reader,replicad-admin
out=$("$BUILD/replicad-gateway" --tls-cert x --tls-key x --client-ca x \
    --core-socket x --allow-write replicad-admin 2>&1)
expect_eq "the message names the flag and the entry" "$out" \
    "replicad-gateway: --allow-write \"replicad-admin\": no known type prefix; an entry is one of $FORMS"

gw_finish
