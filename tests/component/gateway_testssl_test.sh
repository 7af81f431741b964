#!/bin/bash
# gateway_testssl_test.sh — Debian's testssl.sh against the gateway with the
# dev certificates; fails on any finding of severity MEDIUM or higher.
#
# testssl.sh 3.0 has no option for a client certificate, so it is given an
# --openssl wrapper that adds the dev client certificate to every
# `s_client` call (its raw-socket checks need none: they stop at the
# ServerHello).  Sections: protocols, cipher categories, forward secrecy,
# server defaults, HTTP headers and the vulnerability checks.
cd "$(dirname "$0")/../.." || exit 1
. tests/component/gateway_lib.sh
gw_init gateway-testssl
TESTSSL=$(command -v testssl || command -v testssl.sh || true)
if [ -z "$TESTSSL" ]; then
	echo "gateway-testssl: SKIP testssl.sh not installed (scripts/install-deps.sh)"
	exit 0
fi

# The dev PKI as scripts/gen-certs.sh makes it, unchanged: its server
# certificate carries a CRL distribution point (testssl.sh 3.0 rates one
# with no revocation information HIGH).
gw_core --deployments frontend=3
gw_gateway
gw_ready || bad "gateway ready"

REAL_OPENSSL=$(command -v openssl)
cat >"$T/openssl" <<WRAP
#!/bin/sh
# Adds the dev client certificate to s_client; everything else unchanged.
if [ "\$1" = s_client ]; then
	shift
	exec "$REAL_OPENSSL" s_client -cert "$T/certs/client.crt" \
	    -key "$T/certs/client.key" "\$@"
fi
exec "$REAL_OPENSSL" "\$@"
WRAP
chmod +x "$T/openssl"

timeout 600 "$TESTSSL" --quiet --color 0 --warnings off --ip 127.0.0.1 \
    --openssl "$T/openssl" --add-ca "$T/certs/ca.crt" --connect-timeout 5 --openssl-timeout 10 \
    --severity LOW --jsonfile "$T/testssl.json" \
    -p -e -f -S -h -U "localhost:$PORT" >"$T/testssl.out" 2>&1
rc=$?
[ -s "$T/testssl.json" ] && ok "testssl.sh ran (exit $rc)" ||
	{ bad "testssl.sh produced no JSON (exit $rc)"; tail -20 "$T/testssl.out"; }

findings=$(python3 - "$T/testssl.json" <<'PY'
import json, sys
bad = {"MEDIUM", "HIGH", "CRITICAL"}
for f in json.load(open(sys.argv[1])):
    if f.get("severity") in bad:
        print("%s %s: %s" % (f["severity"], f["id"], f.get("finding", "")))
PY
)
if [ -z "$findings" ]; then
	ok "no finding of severity MEDIUM or higher"
else
	bad "testssl.sh findings:"
	printf '%s\n' "$findings"
fi
out=$(cat "$T/testssl.out")
expect_match "TLS 1.3 offered" "$out" 'TLS 1.3 +offered'
expect_match "TLS 1.1 not offered" "$out" 'TLS 1.1 +not offered'
expect_match "HSTS seen (client cert presented)" "$out" 'Strict Transport Security +[0-9]+ days'
gw_finish
