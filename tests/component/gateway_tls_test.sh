#!/bin/bash
# gateway_tls_test.sh — the TLS policy seen by real clients (openssl s_client,
# curl): protocol versions, cipher suites, client certificate required and
# verified (other CA, expired, not yet valid, wrong or missing EKU), no
# compression, no renegotiation; certificate reload on SIGHUP and on file
# change without dropping an open connection, and a bad new file keeping
# the old material.
cd "$(dirname "$0")/../.." || exit 1
. tests/component/gateway_lib.sh
gw_init gateway-tls
C=$T/certs

# --- extra certificates, signed by the dev CA with `openssl ca` ----------
mkdir -p "$T/ca/new"
: >"$T/ca/index.txt"
echo 1000 >"$T/ca/serial"
cat >"$T/ca/ca.cnf" <<CNF
[ ca ]
default_ca = dev
[ dev ]
dir = $T/ca
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ client ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
[ serveronly ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
[ noeku ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
[ server ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
CNF
# mkcert NAME CN EXTENSIONS [STARTDATE ENDDATE]
mkcert() {
	local dates=(-days 30)
	[ $# -ge 5 ] && dates=(-startdate "$4" -enddate "$5")
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$T/$1.key" 2>/dev/null &&
	openssl req -new -key "$T/$1.key" -subj "/CN=$2" -out "$T/$1.csr" &&
	openssl ca -batch -notext -config "$T/ca/ca.cnf" -cert "$C/ca.crt" \
	    -keyfile "$C/ca.key" -extensions "$3" "${dates[@]}" \
	    -in "$T/$1.csr" -out "$T/$1.crt" 2>/dev/null
}
mkcert expired replicad-admin client 20200101000000Z 20210101000000Z ||
	bad "make expired cert"
mkcert future replicad-admin client 20900101000000Z 20910101000000Z ||
	bad "make not-yet-valid cert"
mkcert srvonly replicad-admin serveronly || bad "make serverAuth-only cert"
mkcert noeku replicad-admin noeku || bad "make no-EKU cert"
mkcert server2 replicad-v2 server || bad "make second server cert"
scripts/gen-certs.sh "$T/other" >/dev/null 2>&1 || bad "make other CA"

gw_core --deployments frontend=3
gw_gateway --tls-reload-interval 1
gw_ready || bad "gateway ready"

# s_client against the gateway; extra args appended.  Prints its output.
sc() {
	timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
	    -servername localhost -CAfile "$C/ca.crt" "$@" </dev/null 2>&1
}
# A handshake that completes on TLS 1.2 with these client credentials.
# (s_client prints a session line even when an alert ends the handshake;
# its exit status is what tells success from failure.)
hs12() { sc -tls1_2 -cert "$1" -key "$2" >/dev/null; }

# --- protocol versions -----------------------------------------------------
check "TLS 1.0 refused" sh -c "! echo | timeout 10 openssl s_client -connect 127.0.0.1:$PORT -tls1 2>&1 | grep -q 'Cipher is ECDHE'"
out=$(sc -tls1_1 -cert "$C/client.crt" -key "$C/client.key")
expect_match "TLS 1.1 refused" "$out" 'alert protocol version|no protocols available|Cipher is \(NONE\)'
check "TLS 1.2 accepted" hs12 "$C/client.crt" "$C/client.key"
out=$(sc -tls1_3 -cert "$C/client.crt" -key "$C/client.key")
expect_match "TLS 1.3 accepted" "$out" 'New, TLSv1.3, Cipher is TLS_'
out=$(sc -cert "$C/client.crt" -key "$C/client.key")
expect_match "TLS 1.3 preferred" "$out" 'New, TLSv1.3, Cipher is TLS_'
expect_match "no compression" "$out" 'Compression: NONE'

# --- TLS 1.2 cipher suites ---------------------------------------------------
for cs in ECDHE-ECDSA-AES128-SHA256 ECDHE-ECDSA-AES256-SHA ECDHE-ECDSA-AES128-SHA \
    AES128-GCM-SHA256 AES256-SHA DHE-RSA-AES128-GCM-SHA256 ECDHE-ECDSA-NULL-SHA; do
	out=$(sc -tls1_2 -cipher "$cs:@SECLEVEL=0" -cert "$C/client.crt" -key "$C/client.key")
	expect_match "TLS 1.2 $cs refused" "$out" 'Cipher is \(NONE\)|handshake failure|no ciphers available'
done
for cs in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 \
    ECDHE-ECDSA-CHACHA20-POLY1305; do
	out=$(sc -tls1_2 -cipher "$cs" -cert "$C/client.crt" -key "$C/client.key")
	expect_match "TLS 1.2 $cs accepted" "$out" "Cipher is $cs"
done
out=$(sc -tls1_2 -cipher 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256' \
    -cert "$C/client.crt" -key "$C/client.key")
expect_match "server cipher preference" "$out" 'Cipher is ECDHE-ECDSA-AES128-GCM-SHA256'

# --- renegotiation refused ---------------------------------------------------
out=$( (printf 'R\n'; sleep 1) | timeout 10 openssl s_client -tls1_2 \
    -connect "127.0.0.1:$PORT" -CAfile "$C/ca.crt" -cert "$C/client.crt" \
    -key "$C/client.key" 2>&1)
expect_match "renegotiation refused" "$out" 'no renegotiation|alert|error'

# --- client certificate required and verified --------------------------------
check "valid client cert: handshake" hs12 "$C/client.crt" "$C/client.key"
out=$(sc -tls1_2)
expect_eq "no client cert: handshake fails" "$?" 1
expect_match "no client cert: alert" "$out" 'alert handshake failure'
check "no client cert (TLS 1.3): no HTTP answer" sh -c "! curl -s --max-time 5 \
    --cacert $C/ca.crt https://localhost:$PORT/api/v1/deployments"
for row in "other CA:$T/other/client" "expired:$T/expired" \
    "not yet valid:$T/future" "serverAuth-only EKU:$T/srvonly" "no EKU:$T/noeku"; do
	name=${row%%:*}
	base=${row#*:}
	out=$(sc -tls1_2 -cert "$base.crt" -key "$base.key")
	rc=$?
	expect_eq "$name client cert: TLS 1.2 handshake fails" "$rc" 1
	expect_match "$name client cert: server sent an alert" "$out" \
	    'alert (unknown ca|certificate expired|bad certificate|unsupported certificate)'

	check "$name client cert: TLS 1.3 gets no answer" sh -c "! curl -s \
	    --max-time 5 --cacert $C/ca.crt --cert $base.crt --key $base.key \
	    https://localhost:$PORT/api/v1/deployments"
done
m=$(curl -s "http://127.0.0.1:$PPORT/metrics")
for r in no_certificate unknown_ca expired not_yet_valid bad_eku protocol_version no_shared_cipher; do
	expect_match "metric tls failure $r counted" "$m" \
	    "replicad_gateway_tls_handshake_failures_total\\{reason=\"$r\"\\} [1-9]"
done
grep -q 'tls handshake failed: peer=127.0.0.1 reason=expired' "$T/gw.err" &&
	ok "handshake failure logged with reason" || bad "handshake failure logged"

# --- reload on SIGHUP without dropping an open connection --------------------
serial() {
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
	    -servername localhost -cert "$C/client.crt" -key "$C/client.key" \
	    2>/dev/null | openssl x509 -noout -serial 2>/dev/null
}
old=$(serial)
# A keep-alive connection: request 1 now, request 2 after the reload.
python3 - "$PORT" "$C" "$T/keepalive.out" "$T/keepalive.go" <<'PY' &
import os, socket, ssl, sys, time
port, c, out, go = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=c + "/ca.crt")
ctx.load_cert_chain(c + "/client.crt", c + "/client.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port))),
                    server_hostname="localhost")
req = b"GET /api/v1/deployments HTTP/1.1\r\nHost: localhost\r\n\r\n"
def one():
    s.sendall(req)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    n = int([l.split(b":")[1] for l in head.split(b"\r\n")
             if l.lower().startswith(b"content-length")][0])
    while len(body) < n:
        body += s.recv(4096)
    return head.split(b"\r\n")[0].decode()
first = one()
open(out, "w").write(first + "\n")
end = time.time() + 20
while not os.path.exists(go) and time.time() < end:
    time.sleep(0.05)
open(out, "a").write(one() + "\n")
PY
ka=$!
LIB_PIDS="$LIB_PIDS $ka"
lib_wait 10 grep -q 'HTTP/1.1 200' "$T/keepalive.out" || bad "keep-alive request 1"
cp "$T/server2.crt" "$C/server.crt.new" && cp "$T/server2.key" "$C/server.key.new"
mv "$C/server.key.new" "$C/server.key" && mv "$C/server.crt.new" "$C/server.crt"
kill -HUP "$GW_PID"
check "new connections see the new certificate" lib_wait 10 \
    sh -c "test \"\$(echo | timeout 5 openssl s_client -connect 127.0.0.1:$PORT \
    -servername localhost -cert $C/client.crt -key $C/client.key 2>/dev/null | \
    openssl x509 -noout -serial 2>/dev/null)\" != '$old'"
touch "$T/keepalive.go"
lib_wait 10 sh -c "test \$(grep -c 'HTTP/1.1 200' $T/keepalive.out) -eq 2"
expect_eq "open connection survives the reload" \
    "$(grep -c 'HTTP/1.1 200' "$T/keepalive.out")" 2
new=$(serial)

# --- a bad new file keeps the old material ----------------------------------
echo "not a certificate" >"$C/server.crt.new"
mv "$C/server.crt.new" "$C/server.crt"
kill -HUP "$GW_PID"
check "bad certificate logged, old kept" lib_wait 10 grep -q \
    'reload failed; keeping the previous certificates' "$T/gw.err"
expect_eq "still serving the last good certificate" "$(serial)" "$new"
expect_eq "API still works" "$(gw_code "$URL/api/v1/deployments")" 200

# --- reload when the files change (no signal) --------------------------------
fails=$(grep -c 'reload failed' "$T/gw.err")
cp "$T/server2.crt" "$C/server.crt.new"
mv "$C/server.crt.new" "$C/server.crt"
check "file change picked up by polling" lib_wait 10 sh -c \
    "test \$(grep -c 'certificates loaded' $T/gw.err) -ge 3"
expect_eq "no failure on the good file" \
    "$(grep -c 'reload failed' "$T/gw.err")" "$fails"
expect_eq "API after file reload" "$(gw_code "$URL/api/v1/deployments")" 200

# --- revocation: --client-crl (issue #12 item 7) -----------------------------
cp "$C/ca.crl" "$T/clients.crl"
gw_gateway --client-crl "$T/clients.crl" --tls-reload-interval 1
gw_ready || bad "ready (CRL)"
expect_eq "empty CRL: the reader is served" \
    "$(gw_curl reader -o /dev/null -w '%{http_code}' "$URL/api/v1/deployments")" 200
# The reader keeps a connection open across the revocation.
python3 - "$PORT" "$C" >"$T/revoked.out" 2>&1 <<'PY' &
import socket, ssl, sys
port, c = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=c + "/ca.crt")
ctx.load_cert_chain(c + "/reader.crt", c + "/reader.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                    server_hostname="localhost")
s.sendall(b"GET /api/v1/deployments HTTP/1.1\r\nHost: x\r\n\r\n")
got = b""
while not got.endswith(b"\n") or b"\r\n\r\n" not in got:
    got += s.recv(4096)
print("SERVED", flush=True)
s.settimeout(30)
try:
    print("CLOSED" if s.recv(4096) == b"" else "DATA", flush=True)
except socket.timeout:
    print("OPEN", flush=True)
except (ssl.SSLError, OSError):
    print("CLOSED", flush=True)
PY
LIB_PIDS="$LIB_PIDS $!"
lib_wait 10 grep -q SERVED "$T/revoked.out" || bad "the reader's connection is up"
# Revoke the reader with the dev CA; the new CRL replaces the file at once.
mkdir -p "$T/ca"
: >"$T/ca/index.txt"
echo 02 >"$T/ca/crlnumber"
cat >"$T/ca/ca.cnf" <<CNF
[ ca ]
default_ca = dev
[ dev ]
database = $T/ca/index.txt
crlnumber = $T/ca/crlnumber
default_md = sha256
default_crl_days = 30
CNF
openssl ca -config "$T/ca/ca.cnf" -revoke "$C/reader.crt" \
    -keyfile "$C/ca.key" -cert "$C/ca.crt" >/dev/null 2>&1 &&
    openssl ca -config "$T/ca/ca.cnf" -gencrl -keyfile "$C/ca.key" \
        -cert "$C/ca.crt" -out "$T/clients.crl.new" >/dev/null 2>&1 ||
    bad "openssl ca: revoke the reader"
mv "$T/clients.crl.new" "$T/clients.crl"
check "the new CRL is loaded" lib_wait 10 sh -c \
    "test \$(grep -c 'CRL $T/clients.crl' $T/gw.err) -ge 2"
check "the reader's open connection is closed" \
    lib_wait 10 grep -q CLOSED "$T/revoked.out"
check "...and the reason logged" lib_wait 5 grep -q \
    'no longer trusted: certificate revoked' "$T/gw.err"
expect_eq "a new reader connection is refused" \
    "$(gw_curl reader -o /dev/null -w '%{http_code}' "$URL/api/v1/deployments")" 000
expect_match "metrics: handshake failure counted as revoked" \
    "$(curl -s "http://127.0.0.1:$PPORT/metrics")" \
    'replicad_gateway_tls_handshake_failures_total\{reason="revoked"\} [1-9]'
expect_eq "the admin certificate is still served" \
    "$(gw_code "$URL/api/v1/deployments")" 200
# A CRL that cannot be read keeps the last good one.
echo "not a CRL" >"$T/clients.crl.new"
mv "$T/clients.crl.new" "$T/clients.crl"
check "a bad CRL is refused, the old kept" lib_wait 10 grep -q \
    'client CRL' "$T/gw.err"
expect_eq "...the reader still refused" \
    "$(gw_curl reader -o /dev/null -w '%{http_code}' "$URL/api/v1/deployments")" 000
expect_eq "...the admin still served" "$(gw_code "$URL/api/v1/deployments")" 200

gw_finish
