#!/bin/sh
# gen-certs.sh [DIR] — development PKI for replicad (default DIR: certs/).
#
# Makes, with ECDSA P-256 keys and SHA-256:
#   ca.crt/ca.key          the dev CA (signs server and client certificates)
#   ca.crl                 its (empty) certificate revocation list
#   server.crt/server.key  the gateway's certificate: EKU serverAuth, SANs
#                          localhost, 127.0.0.1, ::1 and the chart's service
#                          names (replicad, replicad.NS.svc, ...), and a CRL
#                          distribution point (CRL_URL) where ca.crl can be
#                          published; TLS scanners rate a server certificate
#                          without any revocation information HIGH
#   client.crt/client.key  a client: CN=replicad-admin, EKU clientAuth
#   reader.crt/reader.key  a client: CN=replicad-reader, EKU clientAuth
# Keys are created mode 0600.  Existing files are kept unless FORCE=1, so
# re-running is harmless.  For development and tests only: production keys
# come from a Kubernetes Secret (cert-manager or your own CA).
set -eu

dir=${1:-certs}
ns=${NAMESPACE:-default}
days=${DAYS:-825}
crl_url=${CRL_URL:-http://localhost/replicad-dev-ca.crl}

if [ -f "$dir/ca.crt" ] && [ "${FORCE:-0}" != 1 ]; then
	echo "gen-certs: $dir/ already has a CA (FORCE=1 to replace)"
	exit 0
fi
mkdir -p "$dir"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$dir/$1.key" 2>/dev/null
}

# sign NAME SUBJECT EXTENSIONS...
sign() {
	name=$1
	subj=$2
	shift 2
	printf '%s\n' "$@" >"$tmp/$name.ext"
	openssl req -new -key "$dir/$name.key" -subj "$subj" \
	    -out "$tmp/$name.csr"
	openssl x509 -req -in "$tmp/$name.csr" -CA "$dir/ca.crt" \
	    -CAkey "$dir/ca.key" -CAcreateserial -CAserial "$tmp/ca.srl" \
	    -days "$days" -sha256 -extfile "$tmp/$name.ext" \
	    -out "$dir/$name.crt" 2>/dev/null
}

key ca
openssl req -x509 -new -key "$dir/ca.key" -sha256 -days "$days" \
    -subj "/CN=replicad dev CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.crt"

key server
sign server "/CN=replicad" \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" \
    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1,DNS:replicad,DNS:replicad.$ns,DNS:replicad.$ns.svc,DNS:replicad.$ns.svc.cluster.local" \
    "crlDistributionPoints=URI:$crl_url"

# The CA's CRL (nothing revoked), so the distribution point has a file to
# serve.  `openssl ca` wants a database; a throwaway one will do.
: >"$tmp/index.txt"
echo 01 >"$tmp/crlnumber"
cat >"$tmp/ca.cnf" <<CNF
[ ca ]
default_ca = dev
[ dev ]
database = $tmp/index.txt
crlnumber = $tmp/crlnumber
default_md = sha256
default_crl_days = $days
CNF
openssl ca -config "$tmp/ca.cnf" -gencrl -keyfile "$dir/ca.key" \
    -cert "$dir/ca.crt" -out "$dir/ca.crl" 2>/dev/null

for c in client:replicad-admin reader:replicad-reader; do
	name=${c%%:*}
	key "$name"
	sign "$name" "/CN=${c#*:}" \
	    "basicConstraints=critical,CA:FALSE" \
	    "keyUsage=critical,digitalSignature" \
	    "extendedKeyUsage=clientAuth"
done

chmod 0644 "$dir"/*.crt "$dir/ca.crl"
echo "gen-certs: wrote CA, server, client and reader certificates to $dir/"
