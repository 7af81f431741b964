# kube_sim_lib.sh — kube-sim helpers for component tests (sources lib.sh).
#
#   ks_start ARGS...   start $BUILD/kube-sim on a free port with ARGS; sets
#                      KS_URL, KS_PID; fails the test if it does not come up
#   ks_stop            SIGTERM it and require a clean exit 0
#   kget PATH ARGS...  curl GET $KS_URL$PATH with $KS_AUTH
#   ksend METHOD PATH CTYPE BODY   curl with a body; prints the body
#   jq_py EXPR         evaluate a Python expression on JSON from stdin (j)
#   ks_pki             dev PKI in $LIB_TMP/pki; sets KS_CA and KS_TLS (the
#                      kube-sim flags for HTTPS): a bearer token is only
#                      ever sent over HTTPS (the core refuses http + token)
#   ks_kubeconfig TOKEN  a kubeconfig for the real kubectl against kube-sim
#                      ($KS_URL, $KS_CA, namespace default); exports
#                      KUBECONFIG and sets K (kubectl with a request
#                      timeout and its own cache directory)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD=${BUILD:-build}
KS_BIN=$BUILD/kube-sim
KS_AUTH=${KS_AUTH:-}

ks_start() {
	[ -x "$KS_BIN" ] || { echo "no $KS_BIN"; exit 1; }
	lib_bg kube-sim "$KS_BIN" --listen 127.0.0.1:0 "$@"
	KS_PID=$LIB_LAST_PID
	if ! lib_wait_line 20 "$LIB_TMP/kube-sim.out" '^kube-sim: listening on '; then
		echo "kube-sim did not start:"
		cat "$LIB_TMP/kube-sim.err"
		exit 1
	fi
	KS_URL=$(sed -n 's/^kube-sim: listening on //p' "$LIB_TMP/kube-sim.out")
}

ks_stop() {
	local rc
	kill -TERM "$KS_PID"
	wait "$KS_PID"
	rc=$?
	lib_forget "$KS_PID"
	return $rc
}

kcurl() {
	if [ -n "$KS_AUTH" ]; then
		curl -s ${KS_CA:+--cacert "$KS_CA"} \
		    -H "Authorization: Bearer $KS_AUTH" "$@"
	else
		curl -s ${KS_CA:+--cacert "$KS_CA"} "$@"
	fi
}

ks_pki() {
	local gen
	gen="$(dirname "${BASH_SOURCE[0]}")/../../scripts/gen-certs.sh"
	if [ ! -f "$LIB_TMP/pki/ca.crt" ]; then
		mkdir -p "$LIB_TMP/pki"
		"$gen" "$LIB_TMP/pki" >/dev/null 2>&1 ||
			{ echo "gen-certs failed"; exit 1; }
	fi
	KS_CA=$LIB_TMP/pki/ca.crt
	KS_TLS=(--tls-cert "$LIB_TMP/pki/server.crt" \
	    --tls-key "$LIB_TMP/pki/server.key")
}

kget() {
	local p=$1
	shift
	kcurl "$@" "$KS_URL$p"
}

ksend() {
	kcurl -X "$1" -H "Content-Type: $3" --data-binary "$4" "$KS_URL$2"
}

kcode() {
	local p=$1
	shift
	kcurl -o /dev/null -w '%{http_code}' "$@" "$KS_URL$p"
}

ks_kubeconfig() {
	cat >"$LIB_TMP/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: sim
  cluster: {server: "$KS_URL", certificate-authority: "$KS_CA"}
users:
- name: sim
  user: {token: $1}
contexts:
- name: sim
  context: {cluster: sim, user: sim, namespace: default}
current-context: sim
KC
	export KUBECONFIG=$LIB_TMP/kubeconfig
	K="kubectl --request-timeout=20s --cache-dir=$LIB_TMP/cache"
}

jq_py() {
	python3 -c 'import json,sys
j=json.load(sys.stdin)
v=eval(sys.argv[1])
print(v if not isinstance(v,(dict,list)) else json.dumps(v,separators=(",",":")))' "$1"
}

DEPS=/apis/apps/v1/namespaces/default/deployments
