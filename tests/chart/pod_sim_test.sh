#!/usr/bin/env bash
# pod_sim_test.sh — the chart's pod, without a cluster: the two containers
# of the rendered Deployment (KIND values) run as processes with the uids,
# gid and supplementary fsGroup the chart gives them (setpriv), their args
# and their environment from the rendered ConfigMap, over directories laid
# out as the kubelet lays out the pod's volumes (socket dir: setgid, group
# fsGroup, 0777; TLS files: group fsGroup, the volume's defaultMode), with
# kube-sim as the API server.  It shows what a regression in the chart or
# in the daemons would break in a cluster:
#
#   - the gateway (uid 10001) connects to the socket the core (uid 10002)
#     creates, through the shared group, and reads its TLS files;
#   - the allow-lists from the ConfigMap's REPLICAD_* variables take effect,
#     and with the chart's defaults reads are served and writes refused;
#   - the core's exec probe works as the core's uid, and a third uid with
#     the same group is refused by the core's uid check;
#   - that probe (`replicad-ctl ping`) keeps passing while the API server
#     is down, when `replicad-ctl health` fails (so liveness does not
#     restart a core for an API outage);
#   - pins: the ConfigMap and Lease the chart names, the pod's name from
#     the downward API as the Lease holder, and the leader reconciling;
#   - tls.clientCRL: --client-crl and the CRL from the chart's ConfigMap;
#     a revoked client is refused, the others served;
#   - SIGTERM: both exit 0, the socket is removed.
#
# Not shown here: what only a kubelet does (the projected token itself,
# in-cluster discovery — core_kube_test covers the core's side of that —
# probes, preStop, NetworkPolicy).  Needs root (setpriv), the built
# binaries and the Go renderer of chart_test.sh; says SKIP without them.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/component/lib.sh
. tests/component/lib.sh
lib_init pod_sim
BUILD=${BUILD:-build}

[ "$(id -u)" = 0 ] || lib_skip "needs root to run the containers' uids (setpriv)"
command -v setpriv >/dev/null || lib_skip "no setpriv (util-linux)"
for b in replicad-core replicad-gateway replicad-ctl kube-sim; do
	[ -x "$BUILD/$b" ] || { echo "pod_sim: $BUILD/$b missing: make build"; exit 1; }
done
gopath=/usr/share/gocode
if ! command -v go >/dev/null || [ ! -d "$gopath/src/github.com/Masterminds/sprig" ]; then
	lib_skip "no Go renderer (golang-go, golang-github-masterminds-sprig-dev)"
fi
gocache=$BUILD/chart-test/gocache
case $gocache in /*) ;; *) gocache=$PWD/$gocache ;; esac
GO111MODULE=off GOPATH=$gopath GOFLAGS='' GOCACHE=$gocache \
    go build -o "$LIB_TMP/render" ./tests/chart/render || exit 1

# The processes run as other uids: they must reach the binaries and the
# volumes' directories.
chmod 711 "$LIB_TMP"
BIN=$(cd "$BUILD" && pwd)

PKI=$LIB_TMP/pki
scripts/gen-certs.sh "$PKI" >/dev/null
python3 - "$PKI" >"$LIB_TMP/tls-values.yaml" <<'EOF'
import json, sys
d = sys.argv[1]
pem = lambda f: open(d + "/" + f).read()
# JSON is YAML: the PEM strings keep their newlines.
print(json.dumps({
    "tls": {"certificate": pem("server.crt"), "privateKey": pem("server.key"),
            "clientCA": pem("ca.crt")},
    "networkPolicy": {"apiServer": {"cidrs": ["127.0.0.1/32"]}},
    # Issue #15: a second served namespace (REPLICAD_NAMESPACES).
    "targetNamespaces": ["default", "payments"],
}))
EOF
"$LIB_TMP/render" -namespace default charts/replicad tests/k8s/values-kind.yaml \
    "$LIB_TMP/tls-values.yaml" >"$LIB_TMP/pod.yaml" || exit 1
spec=$(python3 tests/chart/chartcheck.py pod-spec "$LIB_TMP/pod.yaml") || {
	echo "$spec"
	exit 1
}
# What pod-spec sets (declared for the reader and for shellcheck).
CORE_UID='' GW_UID='' GID='' FS_GROUP='' TLS_MODE=''
CORE_ARGS=() GW_ARGS=() CORE_ENV=() GW_ENV=() CORE_PROBE=()
eval "$spec"
lib_log "core uid $CORE_UID, gateway uid $GW_UID, gid $GID, fsGroup $FS_GROUP"

# The volumes as the kubelet makes them.  emptyDir with fsGroup: 0777 and
# setgid, group fsGroup.  Projected TLS: files of group fsGroup, defaultMode.
RUN=$LIB_TMP/run
TLS=$LIB_TMP/tls
mkdir -p "$RUN" "$TLS"
chgrp "$FS_GROUP" "$RUN" && chmod 2777 "$RUN"
secret=$(python3 -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "Secret":
        for k, v in d["data"].items():
            print(k, v)' "$LIB_TMP/pod.yaml")
while read -r k v; do
	printf '%s' "$v" | base64 -d >"$TLS/$k"
done <<<"$secret"
chgrp -R "$FS_GROUP" "$TLS"
chmod "$TLS_MODE" "$TLS"/*
chmod 755 "$TLS"

# The paths of the pod, mapped onto these directories.
map() {
	sed -e "s#/run/replicad#$RUN#g" -e "s#/etc/replicad/tls#$TLS#g" \
	    -e "s#^--listen=0.0.0.0:8443#--listen=127.0.0.1:$GW_PORT#" \
	    -e "s#^--probe-listen=0.0.0.0:8080#--probe-listen=127.0.0.1:$PROBE_PORT#"
}
GW_PORT=$(lib_free_port)
PROBE_PORT=$(lib_free_port)
mapfile -t core_args < <(printf '%s\n' "${CORE_ARGS[@]}" | map)
mapfile -t gw_args < <(printf '%s\n' "${GW_ARGS[@]}" | map)

# as_exec UID GID CMD...: become CMD as a container's process would run:
# that uid and gid, fsGroup as supplementary group, no capabilities, no
# privilege escalation, only its own environment.  exec, so that lib_bg's
# pid is the daemon's (signals reach it).  `as` is the same in a subshell.
as_exec() {
	local uid=$1 gid=$2
	shift 2
	exec setpriv --reuid="$uid" --regid="$gid" --groups="$FS_GROUP" --inh-caps=-all \
	    --bounding-set=-all --no-new-privs env -i PATH=/usr/bin:/bin "$@"
}
as() {
	(as_exec "$@")
}

# The API server, and the token the kubelet would project (0640, fsGroup).
TOKEN=tok-$RANDOM$RANDOM
SA=$LIB_TMP/sa
mkdir -p "$SA"
printf '%s' "$TOKEN" >"$SA/token"
cp "$PKI/ca.crt" "$SA/ca.crt"
chgrp -R "$FS_GROUP" "$SA" && chmod 640 "$SA/token" && chmod 644 "$SA/ca.crt" && chmod 755 "$SA"
lib_bg kube-sim "$BUILD/kube-sim" --listen 127.0.0.1:0 --token "$TOKEN" \
    --deployments frontend=3,orders=2,worker=1,payments/checkout=2 \
    --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key"
KS_PID=$LIB_LAST_PID
lib_wait_line 20 "$LIB_TMP/kube-sim.out" '^kube-sim: listening on ' || {
	cat "$LIB_TMP/kube-sim.err"
	exit 1
}
KS_URL=$(sed -n 's/^kube-sim: listening on //p' "$LIB_TMP/kube-sim.out")

lib_bg core as_exec "$CORE_UID" "$GID" "${CORE_ENV[@]}" "$BIN/replicad-core" "${core_args[@]}" \
    --kube-api "$KS_URL" --kube-token-file "$SA/token" --kube-ca-file "$SA/ca.crt" \
    --namespace default
CORE_PID=$LIB_LAST_PID
check "core (uid $CORE_UID) creates its socket" lib_wait 20 test -S "$RUN/core.sock"
expect_eq "socket: mode 660, owner core uid, group fsGroup" \
	"$(stat -c '%a %u %g' "$RUN/core.sock")" "660 $CORE_UID $FS_GROUP"

lib_bg gateway as_exec "$GW_UID" "$GID" "${GW_ENV[@]}" "$BIN/replicad-gateway" "${gw_args[@]}"
GW_PID=$LIB_LAST_PID
ready() {
	[ "$(lib_http_code "http://127.0.0.1:$PROBE_PORT/readyz")" = 200 ]
}
check "gateway (uid $GW_UID) reads its TLS files and reaches the core: /readyz 200" \
	lib_wait 30 ready

URL=https://localhost:$GW_PORT/api/v1/deployments
A=(--cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key")
R=(--cacert "$PKI/ca.crt" --cert "$PKI/reader.crt" --key "$PKI/reader.key")
expect_eq "admin (allowWrite) lists" "$(lib_http_code "$URL" "${A[@]}")" 200
expect_eq "reader (allowRead) lists" "$(lib_http_code "$URL" "${R[@]}")" 200
post() {
	lib_http_code "$URL/orders/replicas" "$@" -X POST \
	    -H 'Content-Type: application/json' -d '{"replicas":4}'
}
expect_eq "reader may not write: REPLICAD_ALLOW_WRITE from the ConfigMap applies" \
	"$(post "${R[@]}")" 403
expect_eq "admin writes" "$(post "${A[@]}")" 200
expect_match "the write reached the API server" \
	"$(curl -s --cacert "$PKI/ca.crt" -H "Authorization: Bearer $TOKEN" \
	    "$KS_URL/apis/apps/v1/namespaces/default/deployments/orders")" \
	'"spec":\{[^}]*"replicas":4[,}]'

# Pins, as the chart turns them on: the ConfigMap and Lease names from the
# environment, the pod's name (downward API) as the Lease holder.
sim() {
	curl -s --cacert "$PKI/ca.crt" -H "Authorization: Bearer $TOKEN" \
	    "$KS_URL/apis/$1"
}
pin_code() {
	lib_http_code "$URL/worker/pin" "${A[@]}" -X PUT \
	    -H 'Content-Type: application/json' -d '{"replicas":2}'
}
pins_ready() { [ "$(pin_code)" = 200 ]; }
check "pins: PUT worker=2 (REPLICAD_PIN_CONFIGMAP from the chart)" \
	lib_wait 30 pins_ready
cm=$(printf '%s\n' "${CORE_ENV[@]}" | sed -n 's/^REPLICAD_PIN_CONFIGMAP=//p')
lease=$(printf '%s\n' "${CORE_ENV[@]}" | sed -n 's/^REPLICAD_LEASE_NAME=//p')
expect_match "pins: the ConfigMap $cm holds the pin" \
	"$(curl -s --cacert "$PKI/ca.crt" -H "Authorization: Bearer $TOKEN" \
	    "$KS_URL/api/v1/namespaces/default/configmaps/$cm")" '\\"name\\": \\"worker\\"'
holder_is_pod() {
	sim "coordination.k8s.io/v1/namespaces/default/leases/$lease" |
	    grep -q '"holderIdentity":"replicad-pod-sim-0"'
}
check "pins: the pod (REPLICAD_POD_NAME) holds the Lease $lease" \
	lib_wait 30 holder_is_pod
worker_at() {
	sim "apps/v1/namespaces/default/deployments/worker" |
	    grep -qE '"spec":\{[^}]*"replicas":'"$1"'[,}]'
}
check "pins: the leader scales worker to its pin" lib_wait 30 worker_at 2

# targetNamespaces: the core serves payments too (REPLICAD_NAMESPACES from
# the ConfigMap), its pins kept in the home namespace's ConfigMap.
NSURL=https://localhost:$GW_PORT/api/v1/namespaces/payments/deployments
expect_match "targetNamespaces: payments is served" \
	"$(curl -s "${A[@]}" "$NSURL")" '"deployments":\["checkout"\]'
expect_eq "targetNamespaces: a pin in payments" \
	"$(lib_http_code "$NSURL/checkout/pin" "${A[@]}" -X PUT \
	    -H 'Content-Type: application/json' -d '{"replicas":1}')" 200
expect_match "...kept in the ConfigMap $cm of the home namespace" \
	"$(curl -s --cacert "$PKI/ca.crt" -H "Authorization: Bearer $TOKEN" \
	    "$KS_URL/api/v1/namespaces/default/configmaps/$cm")" \
	'\\"namespace\\": \\"payments\\"'
checkout_at() {
	sim "apps/v1/namespaces/payments/deployments/checkout" |
	    grep -qE '"spec":\{[^}]*"replicas":'"$1"'[,}]'
}
check "...the leader scales payments/checkout to it" lib_wait 30 checkout_at 1

# Revocation (tls.clientCRL): the pod rendered with an inline CRL that
# revokes the reader's certificate.  Its gateway gets --client-crl and the
# CRL file in the TLS volume from the chart's <fullname>-crl ConfigMap; the
# reader is refused at the handshake, the admin still served.
db=$LIB_TMP/ca-db
mkdir -p "$db"
: >"$db/index.txt"
echo 01 >"$db/crlnumber"
printf '[ca]\ndefault_ca=d\n[d]\ndatabase=%s/index.txt\ncrlnumber=%s/crlnumber\ndefault_md=sha256\ndefault_crl_days=1\n' \
    "$db" "$db" >"$db/cnf"
openssl ca -config "$db/cnf" -revoke "$PKI/reader.crt" -keyfile "$PKI/ca.key" \
    -cert "$PKI/ca.crt" >/dev/null 2>&1 &&
	openssl ca -config "$db/cnf" -gencrl -keyfile "$PKI/ca.key" -cert "$PKI/ca.crt" \
	    -out "$db/revoked.crl" >/dev/null 2>&1 || { echo "pod_sim: cannot make a CRL"; exit 1; }
python3 -c 'import json, sys; print(json.dumps({"tls": {"clientCRL": open(sys.argv[1]).read()}}))' \
    "$db/revoked.crl" >"$LIB_TMP/crl-values.yaml"
"$LIB_TMP/render" -namespace default charts/replicad tests/k8s/values-kind.yaml \
    "$LIB_TMP/tls-values.yaml" "$LIB_TMP/crl-values.yaml" >"$LIB_TMP/pod-crl.yaml" || exit 1
spec=$(python3 tests/chart/chartcheck.py pod-spec "$LIB_TMP/pod-crl.yaml") || {
	echo "$spec"
	exit 1
}
GW_ARGS_CRL=()
eval "$(printf '%s\n' "$spec" | sed -n 's/^GW_ARGS=/GW_ARGS_CRL=/p')"
expect_match "crl: the gateway gets --client-crl in the TLS volume" \
	"$(printf '%s\n' "${GW_ARGS_CRL[@]}")" '^--client-crl=/etc/replicad/tls/ca\.crl$'
python3 -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-crl"):
        sys.stdout.write(d["data"]["ca.crl"])' "$LIB_TMP/pod-crl.yaml" >"$TLS/ca.crl"
chgrp "$FS_GROUP" "$TLS/ca.crl" && chmod "$TLS_MODE" "$TLS/ca.crl"
mapfile -t gw_args_crl < <(printf '%s\n' "${GW_ARGS_CRL[@]}" | map)
stopped_gw() {
	kill -TERM "$GW_PID"
	wait "$GW_PID"
}
check "gateway (KIND values): SIGTERM, exit 0" stopped_gw
lib_forget "$GW_PID"
lib_bg gateway-crl as_exec "$GW_UID" "$GID" "${GW_ENV[@]}" "$BIN/replicad-gateway" "${gw_args_crl[@]}"
GW_PID=$LIB_LAST_PID
check "crl: gateway ready (reads ca.crl as uid $GW_UID)" lib_wait 30 ready
expect_eq "crl: the admin certificate lists" "$(lib_http_code "$URL" "${A[@]}")" 200
expect_eq "crl: the revoked reader certificate is refused at the handshake" \
	"$(lib_http_code "$URL" "${R[@]}")" 000

# The chart's defaults grant no writes (issue #12): the same pod rendered
# without the KIND allow-lists serves reads to any certificate of the
# client CA, refuses every write, and its gateway says so at start.
"$LIB_TMP/render" -namespace default charts/replicad "$LIB_TMP/tls-values.yaml" \
    >"$LIB_TMP/pod-default.yaml" || exit 1
spec=$(python3 tests/chart/chartcheck.py pod-spec "$LIB_TMP/pod-default.yaml") || {
	echo "$spec"
	exit 1
}
GW_ENV_DEFAULT=()
eval "$(printf '%s\n' "$spec" | sed -n 's/^GW_ENV=/GW_ENV_DEFAULT=/p')"
expect_match "defaults: REPLICAD_ALLOW_WRITE is empty" \
	"$(printf '%s\n' "${GW_ENV_DEFAULT[@]}")" '^REPLICAD_ALLOW_WRITE=$'
check "gateway (KIND values and a CRL): SIGTERM, exit 0" stopped_gw
lib_forget "$GW_PID"
lib_bg gateway-default as_exec "$GW_UID" "$GID" "${GW_ENV_DEFAULT[@]}" \
    "$BIN/replicad-gateway" "${gw_args[@]}"
GW_PID=$LIB_LAST_PID
check "defaults: gateway ready" lib_wait 30 ready
expect_eq "defaults: the reader certificate lists" "$(lib_http_code "$URL" "${R[@]}")" 200
expect_eq "defaults: the admin certificate lists" "$(lib_http_code "$URL" "${A[@]}")" 200
expect_eq "defaults: the admin certificate may not write" "$(post "${A[@]}")" 403
expect_match "defaults: the gateway warns that writes are refused" \
	"$(cat "$LIB_TMP/gateway-default.err")" 'no --allow-write given: writes are refused'

# The core's exec probe, as the kubelet runs it: the container's uid.
probe=("$BIN/replicad-ctl" "${CORE_PROBE[@]:1}")
check "core liveness probe (${CORE_PROBE[*]}) passes as uid $CORE_UID" \
	as "$CORE_UID" "$GID" REPLICAD_SOCKET="$RUN/core.sock" "${probe[@]}"
third() {
	as 10003 "$GID" REPLICAD_SOCKET="$RUN/core.sock" "${probe[@]}" >/dev/null 2>&1
	[ $? = 3 ]
}
check "a third uid with the pod's group is refused by the core's uid check (exit 3)" third
health() {
	as "$CORE_UID" "$GID" REPLICAD_SOCKET="$RUN/core.sock" \
	    "$BIN/replicad-ctl" --timeout 5 health >/dev/null 2>&1
	echo $?
}
expect_eq "replicad-ctl health: 0 while the API answers" "$(health)" 0

# The API server goes away: health fails, the liveness probe does not.
kill -TERM "$KS_PID"
wait "$KS_PID"
lib_forget "$KS_PID"
api_down() { [ "$(health)" = 4 ]; }
check "API down: replicad-ctl health exits 4" lib_wait 60 api_down
check "API down: the liveness probe still passes (no restart for an API outage)" \
	as "$CORE_UID" "$GID" REPLICAD_SOCKET="$RUN/core.sock" "${probe[@]}"
expect_eq "API down: cached reads still served" "$(lib_http_code "$URL" "${A[@]}")" 200

# SIGTERM, as at the end of the pod's preStop.
stopped() { # PID: exited, with status 0
	local rc
	kill -TERM "$1"
	wait "$1"
	rc=$?
	lib_forget "$1"
	return $rc
}
check "gateway: SIGTERM, exit 0" stopped "$GW_PID"
check "core: SIGTERM, exit 0" stopped "$CORE_PID"
check "core removed its socket" test ! -e "$RUN/core.sock"
lib_finish
