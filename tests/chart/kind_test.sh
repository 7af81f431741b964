#!/usr/bin/env bash
# kind_test.sh — the KIND workflow's scripts (scripts/kind.sh and the
# e2e's helpers) run here, where there is no docker engine, kind, helm or
# cluster: fake docker, kind, kubectl and helm on the PATH log what they
# are asked and answer as the real tools do for these calls.  What it shows
# (issue #18): kind older than v0.24 is refused; `up` makes a cluster with
# a worker node; `load` goes through `docker image save` and `kind load
# image-archive`, never `kind load docker-image`; `deploy` passes the tag
# with --set-string, pins replicad to the worker node and puts the images'
# IDs in pod annotations (a rebuilt image changes them), in a values file
# the chart's schema accepts; `undeploy` deletes the pins ConfigMap and the
# Lease the core made; `run` suggests a sample manifest that passes the
# restricted Pod Security Standard; the e2e polls every 0.5-1 s and checks
# each name of the list.
#
# Not shown: that the real tools behave as the fakes do (the fakes follow
# their documentation; charts/README.md, "What was verified").
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/component/lib.sh
. tests/component/lib.sh
# shellcheck source=tests/k8s/e2e_lib.sh
. tests/k8s/e2e_lib.sh
lib_init kind_test

FAKE_DIR=$LIB_TMP/fake
FAKE_LOG=$FAKE_DIR/log
mkdir -p "$FAKE_DIR/bin" "$LIB_TMP/certs"
: >"$FAKE_LOG"
for f in server.crt server.key ca.crt; do
	echo "dummy $f" >"$LIB_TMP/certs/$f"
done

# fake NAME BODY: a tool on the fake PATH that logs its arguments first.
fake() {
	{
		echo '#!/usr/bin/env bash'
		# shellcheck disable=SC2016 # expanded when the fake runs
		echo 'echo "$(basename "$0") $*" >>"$FAKE_LOG"'
		cat
	} >"$FAKE_DIR/bin/$1"
	chmod +x "$FAKE_DIR/bin/$1"
}
# shellcheck disable=SC2016 # the fakes' own variables, expanded when they run
{
	fake kind <<'EOF'
case "$1 ${2:-}" in
"version "*) echo "${FAKE_KIND_VERSION:-kind v0.24.0 go1.22.6 linux/amd64}" ;;
"get clusters") [ -e "$FAKE_DIR/cluster" ] && echo "$KIND_CLUSTER" ;;
"create cluster")
	for a in "$@"; do [ "$a" = --config=- ] && cat >"$FAKE_DIR/kind-config.yaml"; done
	touch "$FAKE_DIR/cluster" ;;
"delete cluster") rm -f "$FAKE_DIR/cluster" ;;
"load image-archive") [ -s "$3" ] || { echo "ERROR: no archive $3" >&2; exit 1; } ;;
"load docker-image") echo "ctr: content digest sha256:0: not found" >&2; exit 1 ;;
*) exit 1 ;;
esac
EOF
	fake docker <<'EOF'
case "$1 ${2:-}" in
"info "*) exit 0 ;;
"image inspect")
	if [ "$3" = -f ]; then
		case $4 in
		*.Id*) echo "sha256:$(printf '%s%s' "$5" "${FAKE_BUILD:-1}" | sha256sum | cut -c1-64)" ;;
		*.Os*) echo linux/amd64 ;;
		esac
	fi ;;
"image save")
	[ "$3" = --help ] && { echo "      --platform string   Save only the given platform"; exit 0; }
	out=; prev=
	for a in "$@"; do [ "$prev" = -o ] && out=$a; prev=$a; done
	echo archive >"$out" ;;
*) exit 1 ;;
esac
EOF
	fake kubectl <<'EOF'
a="$*"
case $a in
*"get endpointslices"*"range .items"*) echo 172.18.0.3 ;;
*"get endpointslices"*"ports[0].port"*) echo 6443 ;;
*"get nodes -l !node-role.kubernetes.io/control-plane"*)
	[ -n "${FAKE_NO_WORKER:-}" ] || echo "$KIND_CLUSTER-worker" ;;
*"create namespace"*"--dry-run=client"*)
	printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n' ;;
*) exit 0 ;;
esac
EOF
	fake helm <<'EOF'
prev=
for a in "$@"; do
	[ "$prev" = -f ] && cat "$a" >>"$FAKE_DIR/helm-values.yaml" && echo "---" >>"$FAKE_DIR/helm-values.yaml"
	prev=$a
done
exit 0
EOF
}

export FAKE_DIR FAKE_LOG KIND_CLUSTER=replicad K8S_NAMESPACE=replicad RELEASE=replicad \
    IMAGE_TAG=dev CERTS=$LIB_TMP/certs
FPATH=$FAKE_DIR/bin:$PATH
# ks ARGS...: scripts/kind.sh with the fake tools first on the PATH.
ks() {
	PATH=$FPATH scripts/kind.sh "$@"
}

# --- item 5: kind >= v0.24 (kindnet enforces NetworkPolicy from then on)
kind_refused() { # VERSION-LINE
	local out
	if out=$(FAKE_KIND_VERSION=$1 ks check kind 2>&1); then
		echo "accepted: $1"
		return 1
	fi
	grep -qF "kind>=v0.24" <<<"$out" || { echo "$out"; return 1; }
}
kind_accepted() {
	FAKE_KIND_VERSION=$1 ks check kind
}
check "check: kind v0.23.0 refused, naming v0.24" kind_refused "kind v0.23.0 go1.22.6 linux/amd64"
check "check: kind v0.20.0 refused" kind_refused "kind v0.20.0 go1.20.4 linux/amd64"
check "check: unreadable kind version refused" kind_refused "kind version unknown"
check "check: kind v0.24.0 accepted" kind_accepted "kind v0.24.0 go1.22.6 linux/amd64"
check "check: kind v0.30.1 accepted" kind_accepted "kind v0.30.1 go1.24.2 linux/amd64"
check "check: kind v1.0.0 accepted" kind_accepted "kind v1.0.0 go1.25 linux/amd64"

# --- item 6: a worker node, and replicad on it
check "up: creates the cluster" ks up
worker_config() {
	python3 -c '
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
roles = [n["role"] for n in c["nodes"]]
assert c["kind"] == "Cluster" and c["apiVersion"] == "kind.x-k8s.io/v1alpha4", c
assert roles == ["control-plane", "worker"], roles' "$FAKE_DIR/kind-config.yaml"
}
check "up: kind config has a control-plane and a worker node" worker_config
no_worker_refused() {
	local out
	if out=$(FAKE_NO_WORKER=1 ks up 2>&1); then
		echo "accepted a cluster without a worker"
		return 1
	fi
	grep -q "no worker node" <<<"$out" || { echo "$out"; return 1; }
}
check "up: an existing one-node cluster is refused (make kind-down kind-up)" no_worker_refused

# --- item 4: images through docker image save + kind load image-archive
: >"$FAKE_LOG"
check "load: both images" ks load
expect_eq "load: kind load image-archive for each image" \
	"$(grep -c '^kind load image-archive .* --name replicad$' "$FAKE_LOG")" 2
expect_eq "load: never kind load docker-image (Docker 29's containerd store)" \
	"$(grep -c '^kind load docker-image' "$FAKE_LOG")" 0
expect_match "load: docker image save of the one platform" "$(cat "$FAKE_LOG")" \
	'docker image save --platform linux/amd64 -o .*/image.tar replicad-core:dev'

# --- items 6, 9, 12: deploy
: >"$FAKE_LOG"
: >"$FAKE_DIR/helm-values.yaml"
check "deploy: helm upgrade --install" ks deploy
helm_line=$(grep '^helm upgrade --install' "$FAKE_LOG")
expect_match "deploy: the tag with --set-string (123 stays a string)" "$helm_line" \
	'--set-string image\.tag=dev( |$)'
expect_eq "deploy: no --set image.tag" "$(grep -c -- '--set image\.tag' <<<"$helm_line")" 0
cluster_values() { # the -f file kind.sh made (the last document helm read)
	python3 -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
print(yaml.safe_dump(docs[-1]))' "$FAKE_DIR/helm-values.yaml"
}
cluster_values >"$LIB_TMP/cluster-1.yaml"
expect_match "deploy: pinned to the worker node" "$(cat "$LIB_TMP/cluster-1.yaml")" \
	'kubernetes.io/hostname: replicad-worker'
expect_match "deploy: the core image's ID as a pod annotation" "$(cat "$LIB_TMP/cluster-1.yaml")" \
	'core-image-id: sha256:[0-9a-f]{64}'
expect_match "deploy: the gateway image's ID as a pod annotation" "$(cat "$LIB_TMP/cluster-1.yaml")" \
	'gateway-image-id: sha256:[0-9a-f]{64}'
check "deploy: the chart's schema accepts those values (with the KIND values)" \
	python3 tests/chart/chartcheck.py schema-accepts tests/k8s/values-kind.yaml "$LIB_TMP/cluster-1.yaml"
# The image rebuilt (same tag, another ID): the pod template changes.
: >"$FAKE_DIR/helm-values.yaml"
FAKE_BUILD=2 ks deploy >/dev/null 2>&1
cluster_values >"$LIB_TMP/cluster-2.yaml"
rebuilt_rolls() {
	! cmp -s "$LIB_TMP/cluster-1.yaml" "$LIB_TMP/cluster-2.yaml" &&
		[ "$(grep -c 'image-id' "$LIB_TMP/cluster-2.yaml")" = 2 ]
}
check "deploy: a rebuilt image changes the annotations (the pods roll)" rebuilt_rolls

# --- item 3: undeploy removes what the core made
: >"$FAKE_LOG"
check "undeploy" ks undeploy
expect_match "undeploy: helm uninstall" "$(cat "$FAKE_LOG")" '^helm uninstall replicad '
expect_match "undeploy: deletes the pins ConfigMap" "$(cat "$FAKE_LOG")" \
	'kubectl .* -n replicad delete configmap replicad-pins --ignore-not-found'
expect_match "undeploy: deletes the Lease" "$(cat "$FAKE_LOG")" \
	'kubectl .* -n replicad delete lease\.coordination\.k8s\.io replicad-reconciler --ignore-not-found'

# --- item 15: the sample `make run-k8s` suggests passes "restricted"
run_out=$(PATH=$FPATH scripts/kind.sh run 2>&1)
expect_match "run: suggests kubectl apply -f tests/k8s/sample-web.yaml" "$run_out" \
	'apply -f tests/k8s/sample-web\.yaml'
expect_eq "run: no kubectl create deployment (its pods fail restricted)" \
	"$(grep -c 'create deployment' <<<"$run_out")" 0
check "sample-web.yaml passes the restricted Pod Security Standard" \
	python3 tests/chart/chartcheck.py restricted-manifest tests/k8s/sample-web.yaml
# The check can fail: what `kubectl create deployment` makes does.
cat >"$LIB_TMP/create-deployment.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: pause, image: registry.k8s.io/pause:3.10, resources: {}}
EOF
# shellcheck disable=SC2016 # eval expands it
check "restricted-manifest refuses kubectl create deployment's pod" \
	eval '! python3 tests/chart/chartcheck.py restricted-manifest "$LIB_TMP/create-deployment.yaml"'

# --- items 1 and 7: the e2e's helpers
expect_match "e2e: polls every 0.5-1 s (E2E_POLL)" "$E2E_POLL" '^(0\.[5-9][0-9]*|1(\.0*)?)$'
e2e_sets_poll() {
	# shellcheck disable=SC2016 # the literal line of e2e.sh
	grep -q '^LIB_WAIT_POLL=\$E2E_POLL$' tests/k8s/e2e.sh
}
check "e2e: lib_wait polls at E2E_POLL" e2e_sets_poll
CALLS=$LIB_TMP/calls
: >"$CALLS"
never() {
	echo x >>"$CALLS"
	return 1
}
polls_slowly() {
	! LIB_WAIT_POLL=$E2E_POLL lib_wait 2 never
	local n
	n=$(wc -l <"$CALLS")
	echo "$n polls in 2 s"
	[ "$n" -le 6 ]
}
check "e2e: a 2 s wait polls at most 6 times" polls_slowly
# Item 17: a new port-forward after the mTLS refusals (a reset can kill the
# old one), before the checks that follow them.
pf_after_refusals() {
	local refusal restart next
	refusal=$(grep -n '^check "mtls: certificate of another CA' tests/k8s/e2e.sh | cut -d: -f1)
	restart=$(grep -n '^check "port-forward: restarted after the refusals" pf_start$' \
	    tests/k8s/e2e.sh | cut -d: -f1)
	next=$(grep -n '^# --- drift' tests/k8s/e2e.sh | cut -d: -f1)
	echo "refusals at $refusal, restart at $restart, next checks at $next"
	[ -n "$refusal" ] && [ -n "$restart" ] && [ -n "$next" ] &&
		[ "$refusal" -lt "$restart" ] && [ "$restart" -lt "$next" ]
}
check "e2e: the port-forward restarts between the refusals and the next checks" pf_after_refusals
L='{"namespace":"default","deployments":["frontend","orders","replicad","worker"]}'
check "e2e list: the samples, with replicad's own Deployment among them" \
	list_has_names "$L" frontend orders worker
check "e2e list: replicad's own Deployment" list_has_names "$L" replicad
check "e2e list: a missing name fails" \
	eval '! list_has_names '"'"'{"deployments":["frontend","orders","replicad"]}'"'"' frontend orders worker'
check "e2e list: a longer name is not the name" \
	eval '! list_has_names '"'"'{"deployments":["frontend-x","orders","worker"]}'"'"' frontend'
check "e2e list: an error answer fails" \
	eval '! list_has_names '"'"'{"error":"unavailable"}'"'"' frontend'

lib_finish
