#!/usr/bin/env bash
# image_test.sh — the two container images, run the way the chart runs them.
#
# `make image-test` runs this through scripts/local-engine.sh, which finds
# or starts a container engine and sets $ENGINE (docker or podman).
#
# The pod, as Kubernetes makes it:
#   - a pause container (network "none": loopback only) owns the pod's
#     network namespace; core and gateway join it (--network container:),
#     exactly as a pod's containers join its sandbox.  kube-sim (the
#     build's binary, on the host) is started inside that namespace with
#     nsenter and plays the API server on 127.0.0.1:6443; curl reaches the
#     gateway the same way.  Nothing touches the host's network or ports,
#     and the check "the core listens on no TCP port" is made in the
#     namespace where the gateway's ports do exist.
#   - each daemon in its own container: the image's own USER (core 10002,
#     gateway 10001), read-only root filesystem, every capability dropped,
#     no-new-privileges, the engine's default seccomp profile; the fsGroup
#     (FSGROUP, 10000) as a supplementary group of both, as Kubernetes adds
#     a pod's fsGroup to every container.
#   - /run/replicad: one memory volume shared by both, setgid and group
#     FSGROUP like a memory emptyDir with fsGroup, so the core's 0660
#     socket belongs to that group and the gateway may connect; read-only
#     in the gateway's container, as the chart mounts it.
#   - the ServiceAccount files (token, ca.crt, namespace) mounted into the
#     core only, the token mode 0640 group FSGROUP: readable by the group
#     the gateway has too, so that only the mount keeps the token from it
#     (the case to test: kubelet may project it group- or world-readable).
#     The TLS secret into the gateway only, likewise.
# Then: list, get, post, healthz through the gateway (allow-lists from the
# environment, as the chart's ConfigMap gives them); clients without a
# certificate, or with one from another CA, refused; and the split itself.
. "$(dirname "$0")/../component/lib.sh"
lib_init image-test
BUILD=${BUILD:-build}

# jq_py EXPR: a Python expression on the JSON read from stdin (as j); the
# same helper as tests/component/kube_sim_lib.sh, which finds lib.sh by $0.
jq_py() {
	python3 -c 'import json,sys
j=json.load(sys.stdin)
v=eval(sys.argv[1])
print(v if not isinstance(v,(dict,list)) else json.dumps(v,separators=(",",":")))' "$1"
}

ENGINE=${ENGINE:-docker}
IMAGE_TAG=${IMAGE_TAG:-dev}
CORE_IMG=replicad-core:$IMAGE_TAG
GW_IMG=replicad-gateway:$IMAGE_TAG
FSGROUP=${FSGROUP:-10000}
NS=default
P=replicad-it-$$ # names of our containers and volume
SA=/var/run/secrets/kubernetes.io/serviceaccount
TOKEN=tok-$RANDOM$RANDOM-$RANDOM$RANDOM

# One at a time, the pod's sandbox last (the others use its network
# namespace): with podman, one `rm -f` of all three once left the sandbox
# running.
it_cleanup() {
	local c
	for c in gateway core pod; do
		"$ENGINE" rm -f "$P-$c" >/dev/null 2>&1 || true
	done
	"$ENGINE" volume rm -f "$P-sock" >/dev/null 2>&1 || true
	if "$ENGINE" ps -a --format '{{.Names}}' 2>/dev/null | grep -q "^$P-"; then
		echo "image-test: WARNING: containers left behind:" \
		    "$("$ENGINE" ps -a --format '{{.Names}}' | grep "^$P-" | tr '\n' ' ')"
	fi
}
trap 'it_cleanup; lib_cleanup' EXIT

# Where this test cannot run it says SKIP, or fails with REQUIRE_ENGINE=1
# (CI: an engine can be had on the project's machines).
it_skip() {
	if [ "${REQUIRE_ENGINE:-0}" = 1 ]; then
		echo "image-test: cannot run: $*"
		exit 1
	fi
	lib_skip "$@"
}
"$ENGINE" info >/dev/null 2>&1 ||
	it_skip "no container engine answers ($ENGINE); make image-test starts one"
[ "$(id -u)" -eq 0 ] ||
	it_skip "needs root: nsenter into the pod's network namespace and /proc of the containers"
[ -x "$BUILD/kube-sim" ] || { echo "image-test: no $BUILD/kube-sim (make build)"; exit 1; }

# ------------------------------------------------------------ the images

# The build's whole output goes to $BUILD/image-build.log; here only the
# timings, or its end when it failed.
if IMAGE_TAG=$IMAGE_TAG scripts/images.sh build >"$BUILD/image-build.log" 2>&1; then
	check "images build: $CORE_IMG and $GW_IMG" true
	grep '^images: .* built in' "$BUILD/image-build.log" | sed 's/^images:/image-test:/'
else
	check "images build: $CORE_IMG and $GW_IMG" false
	tail -n 40 "$BUILD/image-build.log"
	lib_finish
	exit 1
fi
for img in "$CORE_IMG" "$GW_IMG"; do
	echo "image-test: $img is $("$ENGINE" image inspect -f '{{.Size}}' "$img" |
	    awk '{printf "%.1f MB", $1 / 1e6}')"
done

cfg() { "$ENGINE" image inspect -f "$2" "$1"; }
expect_eq "core image: USER 10002:10002" "$(cfg "$CORE_IMG" '{{.Config.User}}')" 10002:10002
expect_eq "gateway image: USER 10001:10001" "$(cfg "$GW_IMG" '{{.Config.User}}')" 10001:10001
expect_eq "core image: ENTRYPOINT is the daemon, no CMD" \
    "$(cfg "$CORE_IMG" '{{json .Config.Entrypoint}} {{json .Config.Cmd}}')" \
    '["/usr/local/bin/replicad-core"] null'
expect_eq "gateway image: ENTRYPOINT is the daemon, no CMD" \
    "$(cfg "$GW_IMG" '{{json .Config.Entrypoint}} {{json .Config.Cmd}}')" \
    '["/usr/local/bin/replicad-gateway"] null'
for img in "$CORE_IMG" "$GW_IMG"; do
	expect_match "$img: OCI labels (title, version, revision, created, base)" \
	    "$(cfg "$img" '{{json .Config.Labels}}')" \
	    '"org.opencontainers.image.base.name":"debian:bookworm-slim".*"org.opencontainers.image.created":"[0-9T:+-]+".*"org.opencontainers.image.revision":"[0-9a-f]{40}.*"org.opencontainers.image.title":"replicad-.*"org.opencontainers.image.version":"'"$IMAGE_TAG"'"'
done

# What is in each image: run a shell in it (no daemon, no network).
in_image() {
	local img=$1
	shift
	"$ENGINE" run --rm --network none --entrypoint sh "$img" -c "$*"
}
expect_eq "core image: replicad-core and replicad-ctl, every library found" \
    "$(in_image "$CORE_IMG" 'ls /usr/local/bin; ldd /usr/local/bin/* | grep -c "not found"')" \
    "$(printf 'replicad-core\nreplicad-ctl\n0')"
expect_eq "gateway image: replicad-gateway alone, every library found" \
    "$(in_image "$GW_IMG" 'ls /usr/local/bin; ldd /usr/local/bin/* | grep -c "not found"')" \
    "$(printf 'replicad-gateway\n0')"
expect_eq "gateway image: ldd shows no libcurl, and no libcurl file anywhere" \
    "$(in_image "$GW_IMG" 'ldd /usr/local/bin/replicad-gateway | grep -c libcurl; find / -xdev -name "libcurl*" 2>/dev/null | wc -l')" \
    "$(printf '0\n0')"
expect_match "core image: links libcurl (the check above can see it)" \
    "$(in_image "$CORE_IMG" 'ldd /usr/local/bin/replicad-core')" 'libcurl\.so'
# The core's Kubernetes client is recognisable by its API paths and the
# ServiceAccount paths; the gateway binary has none of them.
K8S_RE='/apis/apps/v1|kubernetes\.io/serviceaccount|KUBERNETES_SERVICE_HOST'
expect_eq "gateway binary: no Kubernetes client strings" \
    "$(in_image "$GW_IMG" "grep -acE '$K8S_RE' /usr/local/bin/replicad-gateway")" 0
expect_match "core binary: has them (the check above can see them)" \
    "$(in_image "$CORE_IMG" "grep -acE '$K8S_RE' /usr/local/bin/replicad-core")" '^[1-9]'
# No key, certificate or token baked into either image: the whole
# filesystem, exported, searched by name and by content.
for img in "$CORE_IMG" "$GW_IMG"; do
	d=$LIB_TMP/fs-${img%%:*}
	mkdir -p "$d"
	cid=$("$ENGINE" create "$img")
	"$ENGINE" export "$cid" | tar -x -C "$d" 2>/dev/null
	"$ENGINE" rm "$cid" >/dev/null
	expect_eq "$img: no key, certificate or token file" \
	    "$(cd "$d" && find . -type f \( -name '*.key' -o -name '*.pem' \
		-o -name '*.crt' -o -name '*.p12' -o -name 'token' \) \
		-not -path './usr/share/*' | sort | tr '\n' ' ')" ""
	expect_eq "$img: no PEM private key or certificate in any text file" \
	    "$(grep -rlIE -- '-----BEGIN ([A-Z ]*PRIVATE KEY|CERTIFICATE)-----' "$d" |
		sed "s|^$d||" | tr '\n' ' ')" ""
	rm -rf "$d"
done

# --------------------------------------------------------------- the pod

# Secrets, made for this run: the cluster's CA and kube-sim's serving
# certificate; the gateway's own PKI (server and client certificates).
scripts/gen-certs.sh "$LIB_TMP/cluster" >/dev/null
scripts/gen-certs.sh "$LIB_TMP/pki" >/dev/null
mkdir -p "$LIB_TMP/sa" "$LIB_TMP/tls"
printf '%s' "$TOKEN" >"$LIB_TMP/sa/token"
cp "$LIB_TMP/cluster/ca.crt" "$LIB_TMP/sa/ca.crt"
printf '%s' "$NS" >"$LIB_TMP/sa/namespace"
cp "$LIB_TMP/pki/server.crt" "$LIB_TMP/tls/tls.crt"
cp "$LIB_TMP/pki/server.key" "$LIB_TMP/tls/tls.key"
cp "$LIB_TMP/pki/ca.crt" "$LIB_TMP/tls/ca.crt"
chown -R "0:$FSGROUP" "$LIB_TMP/sa" "$LIB_TMP/tls"
chmod 0755 "$LIB_TMP/sa" "$LIB_TMP/tls"
chmod 0644 "$LIB_TMP"/sa/* "$LIB_TMP"/tls/*
chmod 0640 "$LIB_TMP/sa/token" "$LIB_TMP/tls/tls.key"

"$ENGINE" volume create --driver local --opt type=tmpfs --opt device=tmpfs \
    --opt "o=mode=2777,gid=$FSGROUP" "$P-sock" >/dev/null

# The same restrictions for every container of the pod.
HARDEN=(--read-only --cap-drop ALL --security-opt no-new-privileges)

# The sandbox (Kubernetes' pause container): sleeps as pid 1, which
# ignores SIGTERM, so it is stopped with SIGKILL at once.
"$ENGINE" run -d --name "$P-pod" --network none "${HARDEN[@]}" \
    --user 65535:65535 --stop-signal KILL --entrypoint sleep "$CORE_IMG" \
    infinity >/dev/null
POD_PID=$("$ENGINE" inspect -f '{{.State.Pid}}' "$P-pod" 2>/dev/null)
if [ "${POD_PID:-0}" = 0 ]; then
	check "the pod's sandbox container runs" false
	lib_finish
	exit 1
fi
NETNS=/proc/$POD_PID/ns/net
inpod() { nsenter --net="$NETNS" "$@"; }

lib_bg kube-sim nsenter --net="$NETNS" "$BUILD/kube-sim" \
    --listen 127.0.0.1:6443 --namespace "$NS" --token "$TOKEN" \
    --deployments frontend=3,orders=2,worker=1 --controller-delay-ms 100 \
    --tls-cert "$LIB_TMP/cluster/server.crt" --tls-key "$LIB_TMP/cluster/server.key"
if ! lib_wait_line 20 "$LIB_TMP/kube-sim.out" '^kube-sim: listening on '; then
	echo "image-test: kube-sim did not start"
	cat "$LIB_TMP/kube-sim.err"
	exit 1
fi
KS=https://localhost:6443
sim() { inpod curl -s --cacert "$LIB_TMP/cluster/ca.crt" -H "Authorization: Bearer $TOKEN" "$@"; }

"$ENGINE" run -d --name "$P-core" --network "container:$P-pod" "${HARDEN[@]}" \
    --group-add "$FSGROUP" -v "$P-sock:/run/replicad" \
    -v "$LIB_TMP/sa:$SA:ro" \
    "$CORE_IMG" --allow-uid 10001 --allow-uid 10002 \
    --kube-api https://127.0.0.1:6443 --kube-token-file "$SA/token" \
    --kube-ca-file "$SA/ca.crt" --namespace "$NS" \
    --pin-configmap replicad-pins --lease-name replicad-reconciler \
    --identity "$P-pod" >/dev/null
# The allow-lists as the chart passes them (its ConfigMap's environment):
# the dev client writes, the reader only reads.
"$ENGINE" run -d --name "$P-gateway" --network "container:$P-pod" "${HARDEN[@]}" \
    --group-add "$FSGROUP" -v "$P-sock:/run/replicad:ro" \
    -v "$LIB_TMP/tls:/etc/replicad/tls:ro" \
    -e REPLICAD_ALLOW_WRITE=CN=replicad-admin \
    -e REPLICAD_ALLOW_READ=CN=replicad-reader \
    "$GW_IMG" --tls-cert /etc/replicad/tls/tls.crt \
    --tls-key /etc/replicad/tls/tls.key --client-ca /etc/replicad/tls/ca.crt \
    --core-socket /run/replicad/core.sock \
    --listen 0.0.0.0:8443 --probe-listen 0.0.0.0:8080 >/dev/null
CORE_PID=$("$ENGINE" inspect -f '{{.State.Pid}}' "$P-core")
GW_PID=$("$ENGINE" inspect -f '{{.State.Pid}}' "$P-gateway")

ready() {
	[ "$(inpod curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/readyz)" = 200 ]
}
if lib_wait 60 ready; then
	check "pod is ready (gateway /readyz: core link up, cache synced)" true
else
	check "pod is ready (gateway /readyz: core link up, cache synced)" false
	"$ENGINE" logs "$P-core" 2>&1 | tail -n 20
	"$ENGINE" logs "$P-gateway" 2>&1 | tail -n 20
fi

# ----------------------------------------------------- through the gateway

GW=https://localhost:8443
C=(--cacert "$LIB_TMP/pki/ca.crt" --cert "$LIB_TMP/pki/client.crt" --key "$LIB_TMP/pki/client.key")
api() { inpod curl -s --max-time 10 "${C[@]}" "$@"; }

expect_eq "list" "$(api "$GW/api/v1/deployments")" \
    '{"namespace":"default","deployments":["frontend","orders","worker"]}'
expect_eq "get" "$(api "$GW/api/v1/deployments/orders/replicas" | jq_py 'j["replicas"]')" 2
expect_match "post: updated and synced" \
    "$(api -X POST -H 'Content-Type: application/json' -d '{"replicas":5}' \
	"$GW/api/v1/deployments/frontend/replicas")" '"status":"updated".*"synced":true'
expect_eq "…kube-sim holds spec.replicas 5" \
    "$(sim "$KS/apis/apps/v1/namespaces/$NS/deployments/frontend" | jq_py 'j["spec"]["replicas"]')" 5
expect_eq "…and the gateway reads it back" \
    "$(api "$GW/api/v1/deployments/frontend/replicas" | jq_py 'j["replicas"]')" 5
R=(--cacert "$LIB_TMP/pki/ca.crt" --cert "$LIB_TMP/pki/reader.crt" --key "$LIB_TMP/pki/reader.key")
expect_eq "the reader certificate reads, and may not post (403)" \
    "$(inpod curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${R[@]}" \
	"$GW/api/v1/deployments") $(inpod curl -s -o /dev/null -w '%{http_code}' \
	--max-time 10 "${R[@]}" -X POST -H 'Content-Type: application/json' \
	-d '{"replicas":1}' "$GW/api/v1/deployments/frontend/replicas")" "200 403"
healthz_ok() { [ "$(api -o /dev/null -w '%{http_code}' "$GW/healthz")" = 200 ]; }
check "healthz 200" lib_wait 20 healthz_ok
expect_match "…body says ok" "$(api "$GW/healthz")" '"status":"ok".*"apiReachable":true'
# Without a client certificate the handshake fails: no HTTP answer at all.
out=$(inpod curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
    --cacert "$LIB_TMP/pki/ca.crt" "$GW/api/v1/deployments"; echo " rc=$?")
expect_match "client without a certificate refused (no HTTP status)" "$out" '^000 rc=(35|55|56)$'
out=$(inpod curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
    --cacert "$LIB_TMP/pki/ca.crt" --cert "$LIB_TMP/cluster/client.crt" \
    --key "$LIB_TMP/cluster/client.key" "$GW/api/v1/deployments"; echo " rc=$?")
expect_match "client with a certificate of another CA refused" "$out" '^000 rc=(35|55|56)$'
metrics=$(inpod curl -s http://127.0.0.1:8080/metrics)
expect_match "gateway counts the refusals (no_certificate)" "$metrics" \
    'replicad_gateway_tls_handshake_failures_total\{reason="no_certificate"\} [1-9]'
expect_match "…(unknown_ca)" "$metrics" \
    'replicad_gateway_tls_handshake_failures_total\{reason="unknown_ca"\} [1-9]'

# Pins as the chart runs them: a ConfigMap for the pins, a Lease for the
# reconciling replica (nothing is written inside the read-only container).
expect_eq "pin: PUT worker=2" \
    "$(api -X PUT -H 'Content-Type: application/json' -d '{"replicas":2}' \
	"$GW/api/v1/deployments/worker/pin")" '{"status":"pinned","name":"worker","namespace":"default","replicas":2,"suspended":false}'
expect_match "…the pins ConfigMap holds it" \
    "$(sim "$KS/api/v1/namespaces/$NS/configmaps/replicad-pins" | jq_py 'j["data"]["pins.json"]')" \
    '"name": "worker"'
holder_is_pod() {
	[ "$(sim "$KS/apis/coordination.k8s.io/v1/namespaces/$NS/leases/replicad-reconciler" |
	    jq_py 'j["spec"]["holderIdentity"]')" = "$P-pod" ]
}
check "…the core holds the Lease" lib_wait 30 holder_is_pod
worker_at() {
	[ "$(sim "$KS/apis/apps/v1/namespaces/$NS/deployments/worker" |
	    jq_py 'j["spec"]["replicas"]')" = "$1" ]
}
check "…and scales worker to its pin" lib_wait 30 worker_at 2

# --------------------------------------------------------------- the split

# The processes the engine started are the daemons themselves (exec-form
# ENTRYPOINT, no init, no shell).
expect_eq "core container's process is replicad-core" "$(cat "/proc/$CORE_PID/comm")" replicad-core
expect_eq "gateway container's process is replicad-gateway" \
    "$(cat "/proc/$GW_PID/comm")" replicad-gatewa # comm is cut at 15 bytes

# What the kernel says about each daemon: uid/gid, groups, no
# capabilities at all, no_new_privs, a seccomp filter.
proc_facts() {
	awk '/^(Uid|Gid):/ {print $1, $2}
	     /^Groups:/ {print}
	     /^Cap(Inh|Prm|Eff|Bnd|Amb):/ {print}
	     /^(NoNewPrivs|Seccomp):/ {print}' "/proc/$1/status"
}
facts() {
	printf 'Uid: %s\nGid: %s\nGroups:\t%s %s \n' "$1" "$1" "$FSGROUP" "$1"
	for c in Inh Prm Eff Bnd Amb; do printf 'Cap%s:\t0000000000000000\n' "$c"; done
	printf 'NoNewPrivs:\t1\nSeccomp:\t2\n'
}
expect_eq "core runs as 10002:10002 + fsGroup, no capabilities, no_new_privs, seccomp" \
    "$(proc_facts "$CORE_PID")" "$(facts 10002)"
expect_eq "gateway runs as 10001:10001 + fsGroup, no capabilities, no_new_privs, seccomp" \
    "$(proc_facts "$GW_PID")" "$(facts 10001)"
root_opts() { awk '$5 == "/" {print $6}' "/proc/$1/mountinfo" | cut -d, -f1; }
expect_eq "core's root filesystem is read-only" "$(root_opts "$CORE_PID")" ro
expect_eq "gateway's root filesystem is read-only" "$(root_opts "$GW_PID")" ro

# The token: not in the gateway's filesystem at all, although the gateway
# has the group the token file is readable by.
out=$("$ENGINE" exec "$P-gateway" cat "$SA/token" 2>&1; echo " rc=$?")
out=$(printf '%s' "$out" | tr '\n' ' ')
expect_match "gateway cannot read $SA/token (not mounted there)" "$out" \
    'No such file or directory +rc=1$'
# files_with STR PID: every file in PID's view of the filesystem (all its
# mounts, /proc /sys /dev aside) that contains STR.
files_with() {
	local r=/proc/$2/root
	find "$r/" \( -path "$r/proc" -o -path "$r/sys" -o -path "$r/dev" \) -prune \
	    -o -type f -print0 | xargs -0 grep -lF -- "$1" 2>/dev/null | sed "s|^$r||"
}
expect_eq "the token's bytes are in no file the gateway can see" "$(files_with "$TOKEN" "$GW_PID")" ""
# (/var/run is a symlink to /run in the image.)
expect_eq "…while the core sees them in $SA/token (the search works)" \
    "$(files_with "$TOKEN" "$CORE_PID")" "${SA#/var}/token"
KEYLINE=$(sed -n 2p "$LIB_TMP/tls/tls.key")
expect_eq "the gateway's TLS key is in no file the core can see" "$(files_with "$KEYLINE" "$CORE_PID")" ""
expect_eq "…while the gateway sees it in /etc/replicad/tls/tls.key" \
    "$(files_with "$KEYLINE" "$GW_PID")" /etc/replicad/tls/tls.key
expect_eq "gateway sees no other process (own pid namespace)" \
    "$(cat "/proc/$GW_PID/root/proc/"[0-9]*/comm 2>/dev/null | sort -u | tr '\n' ' ')" \
    "replicad-gatewa "

# libcurl: mapped by the core, never by the gateway.
expect_eq "gateway maps no libcurl" "$(grep -c libcurl "/proc/$GW_PID/maps")" 0
expect_match "core maps libcurl (the check above can see it)" \
    "$(grep -c libcurl "/proc/$CORE_PID/maps")" '^[1-9]'

# Listening sockets of the pod's network namespace (in /proc/PID/net/*,
# state 0A = LISTEN for TCP, 07 = unbound-or-bound for UDP) against the
# socket inodes a process holds open.  Host networking would need the same
# proof, so the pod's namespace is used where the gateway's ports exist.
listen_inodes() { # PID PROTO...
	local pid=$1 f
	shift
	for f in "$@"; do
		awk -v p="$f" 'NR > 1 && (p ~ /^udp/ || $4 == "0A") {print $10}' \
		    "/proc/$pid/net/$f"
	done
}
held_inodes() { # PID
	find "/proc/$1/fd" -type l -printf '%l\n' 2>/dev/null |
	    sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort -u
}
ports_of() { # PID: the TCP ports PID listens on, in decimal
	local held
	held=$(held_inodes "$1")
	for f in tcp tcp6; do
		awk 'NR > 1 && $4 == "0A" {split($2, a, ":"); print $10, a[2]}' "/proc/$1/net/$f"
	done | while read -r ino port; do
		printf '%s\n' "$held" | grep -qx "$ino" && echo $((16#$port))
	done | sort -n | tr '\n' ' '
}
expect_eq "the pod's namespace has listening TCP sockets: 6443 (kube-sim), 8080, 8443" \
    "$(for f in tcp tcp6; do awk 'NR > 1 && $4 == "0A" {split($2, a, ":"); print a[2]}' \
	"/proc/$CORE_PID/net/$f"; done | while read -r p; do echo $((16#$p)); done |
	sort -n | tr '\n' ' ')" "6443 8080 8443 "
expect_eq "gateway holds the listeners 8080 and 8443 (the method works)" \
    "$(ports_of "$GW_PID")" "8080 8443 "
expect_eq "core holds no listening TCP socket" "$(ports_of "$CORE_PID")" ""
expect_eq "core holds no UDP socket" \
    "$(comm -12 <(listen_inodes "$CORE_PID" udp udp6 | sort -u) <(held_inodes "$CORE_PID"))" ""
# Its one listening socket is the unix socket (flag 00010000: accepting).
expect_eq "core's only listening socket is /run/replicad/core.sock" \
    "$(awk 'NR > 1 && $4 == "00010000" {print $7, $8}' "/proc/$CORE_PID/net/unix" |
	while read -r ino path; do held_inodes "$CORE_PID" | grep -qx "$ino" && echo "$path"; done)" \
    /run/replicad/core.sock
expect_eq "socket file: mode 0660, owner 10002, group fsGroup (setgid volume)" \
    "$(stat -c '%a %u %g %F' "/proc/$CORE_PID/root/run/replicad/core.sock")" \
    "660 10002 $FSGROUP socket"

# A third uid: without the pod's group the file mode stops it; with it
# (any container of the pod has the fsGroup) the core's SO_PEERCRED
# allow-list does.  replicad-ctl exits 3 when it cannot talk to the core.
ctl_as() { # USER GROUP-ADD... -- replicad-ctl ARGS
	local user=$1
	shift
	local ga=()
	while [ "$1" != -- ]; do ga+=(--group-add "$1"); shift; done
	shift
	"$ENGINE" run --rm --network none "${HARDEN[@]}" --user "$user" "${ga[@]}" \
	    -v "$P-sock:/run/replicad" --entrypoint /usr/local/bin/replicad-ctl \
	    "$CORE_IMG" "$@" 2>&1 | tr '\n' ' '
	echo "rc=${PIPESTATUS[0]}"
}
refused_uid() {
	"$ENGINE" exec "$P-core" replicad-ctl metrics |
	    sed -n 's/^replicad_core_socket_refused_total{reason="uid"} //p'
}
before=$(refused_uid)
expect_match "uid 10003 without the group: permission denied on the socket" \
    "$(ctl_as 10003:10003 -- list)" '[Pp]ermission denied.*rc=3$'
expect_match "uid 10003 with the group: refused by the core's uid check" \
    "$(ctl_as 10003:10003 "$FSGROUP" -- list)" 'rc=3$'
expect_eq "…the core counted one uid refusal" "$(refused_uid)" $((before + 1))
expect_eq "uid 10002 (the core's own, as kubectl exec would) may use it" \
    "$("$ENGINE" exec "$P-core" replicad-ctl list)" \
    '{"deployments":["frontend","orders","worker"]}'

# Nothing written outside the socket volume, nothing secret logged.
expect_eq "the socket volume holds only core.sock" \
    "$(ls -A "/proc/$CORE_PID/root/run/replicad")" core.sock
"$ENGINE" logs "$P-core" >"$LIB_TMP/core.log" 2>&1
"$ENGINE" logs "$P-gateway" >"$LIB_TMP/gateway.log" 2>&1
check "no token in either container's log" sh -c \
    "! grep -qF '$TOKEN' '$LIB_TMP/core.log' '$LIB_TMP/gateway.log'"
check "no private key in either log" sh -c \
    "! grep -q 'PRIVATE KEY' '$LIB_TMP/core.log' '$LIB_TMP/gateway.log'"
check "no write refused by the read-only filesystem" sh -c \
    "! grep -qi 'read-only file system' '$LIB_TMP/core.log' '$LIB_TMP/gateway.log'"

# Shutdown as a rolling update does it: SIGTERM, drain, exit 0.
"$ENGINE" stop -t 30 "$P-gateway" >/dev/null
"$ENGINE" stop -t 30 "$P-core" >/dev/null
expect_eq "gateway exits 0 on SIGTERM" "$("$ENGINE" inspect -f '{{.State.ExitCode}}' "$P-gateway")" 0
expect_eq "core exits 0 on SIGTERM" "$("$ENGINE" inspect -f '{{.State.ExitCode}}' "$P-core")" 0
expect_eq "…and removed its socket" \
    "$("$ENGINE" run --rm --network none -v "$P-sock:/run/replicad" --entrypoint ls "$CORE_IMG" -A /run/replicad)" ""

if [ "$LIB_FAIL" -ne 0 ]; then
	echo "--- core log (tail) ---"
	tail -n 20 "$LIB_TMP/core.log"
	echo "--- gateway log (tail) ---"
	tail -n 20 "$LIB_TMP/gateway.log"
fi
lib_finish
