#!/usr/bin/env bash
# kind.sh — the KIND workflow of the chart (the make targets call it).
#
#   scripts/kind.sh check TOOL...   exit 1 naming every TOOL not installed
#                                   (and kind older than v0.24)
#   scripts/kind.sh up              create the KIND cluster (if absent): a
#                                   control-plane node and a worker node
#   scripts/kind.sh down            delete it
#   scripts/kind.sh load            load replicad-{core,gateway}:$IMAGE_TAG
#                                   (docker image save, kind load image-archive)
#   scripts/kind.sh deploy [ARGS]   helm upgrade --install with certs/ as the
#                                   TLS secret, on the worker node, the image
#                                   IDs as pod annotations (ARGS go to helm)
#   scripts/kind.sh undeploy        helm uninstall, then delete the pins
#                                   ConfigMap and the Lease the core made
#   scripts/kind.sh run             deploy, then port-forward 8443 and print
#                                   curl commands (Ctrl-C stops the forward)
#
# Environment: KIND_CLUSTER (replicad), K8S_NAMESPACE (replicad), RELEASE
# (replicad), IMAGE_TAG (dev), CERTS (certs), KIND_NODE_IMAGE (kind's
# default), LOCAL_PORT (8443).
#
# Every kubectl and helm call names the KIND cluster's context explicitly, so
# that nothing here can touch whatever cluster the current context points at.
set -eu

KIND_CLUSTER=${KIND_CLUSTER:-replicad}
K8S_NAMESPACE=${K8S_NAMESPACE:-replicad}
RELEASE=${RELEASE:-replicad}
IMAGE_TAG=${IMAGE_TAG:-dev}
CERTS=${CERTS:-certs}
LOCAL_PORT=${LOCAL_PORT:-8443}
CONTEXT=kind-$KIND_CLUSTER
CHART=charts/replicad
KIND_VALUES=tests/k8s/values-kind.yaml
SAMPLE=tests/k8s/sample-web.yaml
# kindnet enforces NetworkPolicy from kind v0.24 on (and probes pass it).
KIND_MIN_MINOR=24

cd "$(dirname "$0")/.."

die() {
	echo "kind.sh: $*" >&2
	exit 1
}

# kind_version_ok: kind is v0.24 or later ("kind v0.24.0 go1.22.6 ...").
# Older kindnet does not enforce NetworkPolicy, so the e2e's "blocked"
# expectation would see 200.
kind_version_ok() {
	local v maj min
	v=$(kind version 2>/dev/null) || return 1
	v=${v#kind v}
	v=${v%% *}
	maj=${v%%.*}
	min=${v#*.}
	min=${min%%.*}
	case $maj.$min in
	*[!0-9.]* | .* | *.) return 1 ;;
	esac
	[ "$maj" -gt 0 ] || [ "$min" -ge "$KIND_MIN_MINOR" ]
}

# check TOOL...: fail fast, naming everything that is missing at once.
check() {
	local t missing=""
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			missing="$missing $t"
		elif [ "$t" = docker ] && ! docker info >/dev/null 2>&1; then
			# The client alone is not enough: kind runs nodes in the engine.
			missing="$missing docker-engine(docker info fails)"
		elif [ "$t" = kind ] && ! kind_version_ok; then
			missing="$missing kind>=v0.$KIND_MIN_MINOR(found: $(kind version 2>/dev/null | head -n 1))"
		fi
	done
	if [ -n "$missing" ]; then
		echo "kind.sh: missing:$missing" >&2
		echo "kind.sh: this workflow needs docker (a running engine), kind, kubectl" >&2
		echo "kind.sh: and helm on the PATH; charts/README.md says which versions." >&2
		echo "kind.sh: (The chart checks that need none of them: make chart-check.)" >&2
		exit 1
	fi
}

cluster_exists() {
	kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"
}

need_cluster() {
	cluster_exists || die "no KIND cluster \"$KIND_CLUSTER\": run make setup (or make kind-up)"
}

kc() {
	kubectl --context "$CONTEXT" "$@"
}

# The node replicad runs on: the first one that is not a control plane.
worker_node() {
	kc get nodes -l '!node-role.kubernetes.io/control-plane' \
	    -o jsonpath='{.items[0].metadata.name}' 2>/dev/null
}

# A control plane and a worker: replicad is pinned to the worker (deploy),
# so its traffic to the API server leaves its node and passes the
# NetworkPolicy's egress rule.  On a one-node cluster that traffic goes to
# the node's own address, which the policy hook does not see, and a wrong
# networkPolicy.apiServer.cidrs would pass here and fail elsewhere.
up() {
	check docker kind kubectl
	if cluster_exists; then
		echo "kind.sh: cluster $KIND_CLUSTER already exists"
	else
		kind create cluster --name "$KIND_CLUSTER" --wait 180s \
		    ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --config=- <<'EOF'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
  - role: worker
EOF
	fi
	kc cluster-info >/dev/null
	[ -n "$(worker_node)" ] ||
		die "cluster $KIND_CLUSTER has no worker node (made before issue #18?): make kind-down kind-up"
}

down() {
	check kind
	if cluster_exists; then
		kind delete cluster --name "$KIND_CLUSTER"
	else
		echo "kind.sh: no cluster $KIND_CLUSTER"
	fi
}

# Not `kind load docker-image`: with Docker's containerd image store (the
# default from Docker 29) it fails with "content digest ... not found"
# (kind issue 3795).  An archive of the one platform, loaded with `kind
# load image-archive`, works with either store.  A file, not a pipe: kind
# reads the archive once per node.
load() {
	check docker kind
	need_cluster
	local img plat tmp
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064 # expand $tmp now
	trap "rm -rf '$tmp'" EXIT
	for img in "replicad-core:$IMAGE_TAG" "replicad-gateway:$IMAGE_TAG"; do
		docker image inspect "$img" >/dev/null 2>&1 ||
			die "image $img not found: make docker-build IMAGE_TAG=$IMAGE_TAG"
		# --platform (Docker 28+): only what the nodes run, so no
		# manifest of another platform is named without its content.
		if docker image save --help 2>/dev/null | grep -q -- --platform; then
			plat=$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$img")
			docker image save --platform "$plat" -o "$tmp/image.tar" "$img"
		else
			docker image save -o "$tmp/image.tar" "$img"
		fi
		kind load image-archive "$tmp/image.tar" --name "$KIND_CLUSTER"
	done
}

# The API server's real endpoints as "--set" values for the NetworkPolicy:
# policies see the core's traffic after the kubernetes Service's DNAT.
api_server_sets() {
	local ips port cidrs="" ip
	ips=$(kc get endpointslices -n default -l kubernetes.io/service-name=kubernetes \
	    -o jsonpath='{range .items[*].endpoints[*].addresses[*]}{@}{"\n"}{end}')
	port=$(kc get endpointslices -n default -l kubernetes.io/service-name=kubernetes \
	    -o jsonpath='{.items[0].ports[0].port}')
	if [ -z "$ips" ] || [ -z "$port" ]; then
		die "cannot read the API server's endpoints"
	fi
	for ip in $ips; do
		case $ip in
		*:*) cidrs="$cidrs,$ip/128" ;;
		*) cidrs="$cidrs,$ip/32" ;;
		esac
	done
	echo "networkPolicy.apiServer.cidrs={${cidrs#,}}"
	echo "networkPolicy.apiServer.ports={$port}"
}

# Values only this cluster knows, as a file for helm (-f): the worker node
# to pin replicad to, and the loaded images' IDs as pod annotations, so
# that a rebuilt image (same tag, pullPolicy Never) changes the pod
# template and rolls out.
cluster_values() {
	local node core gw
	node=$(worker_node)
	[ -n "$node" ] || die "cluster $KIND_CLUSTER has no worker node: make kind-down kind-up"
	core=$(docker image inspect -f '{{.Id}}' "replicad-core:$IMAGE_TAG") ||
		die "image replicad-core:$IMAGE_TAG not found: make setup"
	gw=$(docker image inspect -f '{{.Id}}' "replicad-gateway:$IMAGE_TAG") ||
		die "image replicad-gateway:$IMAGE_TAG not found: make setup"
	cat <<EOF
nodeSelector:
  kubernetes.io/hostname: "$node"
podAnnotations:
  replicad.example/core-image-id: "$core"
  replicad.example/gateway-image-id: "$gw"
EOF
}

deploy() {
	check docker kubectl helm kind
	need_cluster
	local f line tmp
	local -a sets=()
	for f in server.crt server.key ca.crt; do
		[ -f "$CERTS/$f" ] || die "$CERTS/$f missing: make certs"
	done
	# The release namespace enforces the Pod Security Standards'
	# "restricted" profile: a pod that breaks it is refused, not admitted.
	kc create namespace "$K8S_NAMESPACE" --dry-run=client -o yaml | kc apply -f - >/dev/null
	kc label --overwrite namespace "$K8S_NAMESPACE" \
	    pod-security.kubernetes.io/enforce=restricted \
	    pod-security.kubernetes.io/enforce-version=latest >/dev/null
	while read -r line; do
		sets+=(--set "$line")
	done < <(api_server_sets)
	[ ${#sets[@]} -eq 4 ] || die "cannot read the API server's endpoints"
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064 # expand $tmp now
	trap "rm -rf '$tmp'" EXIT
	cluster_values >"$tmp/cluster.yaml"
	# --set-string: a tag such as 123 or 1.0 must stay a string.
	helm upgrade --install "$RELEASE" "$CHART" \
	    --kube-context "$CONTEXT" --namespace "$K8S_NAMESPACE" \
	    -f "$KIND_VALUES" -f "$tmp/cluster.yaml" \
	    --set-string image.tag="$IMAGE_TAG" \
	    --set-file tls.certificate="$CERTS/server.crt" \
	    --set-file tls.privateKey="$CERTS/server.key" \
	    --set-file tls.clientCA="$CERTS/ca.crt" \
	    "${sets[@]}" \
	    --wait --timeout 300s "$@"
	# Now, not at exit: `run` ends in exec, where no EXIT trap runs.
	rm -rf "$tmp"
	trap - EXIT
	kc -n "$K8S_NAMESPACE" rollout status "deployment/$(fullname)" --timeout 180s
}

# The chart's fullname for RELEASE (see _helpers.tpl "replicad.fullname").
fullname() {
	case $RELEASE in
	*replicad*) echo "$RELEASE" ;;
	*) echo "$RELEASE-replicad" ;;
	esac
}

# helm uninstall removes what the chart made; the pins ConfigMap and the
# Lease are made by the core, so helm does not know them: left behind, a
# pin of an earlier run would keep scaling its Deployment.
undeploy() {
	check helm kind kubectl
	need_cluster
	if helm status "$RELEASE" --kube-context "$CONTEXT" --namespace "$K8S_NAMESPACE" >/dev/null 2>&1; then
		helm uninstall "$RELEASE" --kube-context "$CONTEXT" --namespace "$K8S_NAMESPACE" --wait
	fi
	kc -n "$K8S_NAMESPACE" delete configmap "$(fullname)-pins" --ignore-not-found
	kc -n "$K8S_NAMESPACE" delete lease.coordination.k8s.io "$(fullname)-reconciler" --ignore-not-found
}

run() {
	deploy
	cat <<EOF

kind.sh: replicad is deployed; forwarding https://localhost:$LOCAL_PORT to svc/$(fullname).
Try, from another terminal:

  C="--cacert $CERTS/ca.crt --cert $CERTS/client.crt --key $CERTS/client.key"
  kubectl --context $CONTEXT -n $K8S_NAMESPACE apply -f $SAMPLE
  curl \$C https://localhost:$LOCAL_PORT/api/v1/deployments
  curl \$C https://localhost:$LOCAL_PORT/api/v1/deployments/web/replicas
  curl \$C -X POST -H 'Content-Type: application/json' -d '{"replicas":3}' \\
      https://localhost:$LOCAL_PORT/api/v1/deployments/web/replicas
  curl \$C https://localhost:$LOCAL_PORT/healthz

Ctrl-C stops the port-forward (the deployment stays: make undeploy).
EOF
	exec kubectl --context "$CONTEXT" -n "$K8S_NAMESPACE" port-forward \
	    "svc/$(fullname)" "$LOCAL_PORT:443"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
check) check "$@" ;;
up) up ;;
down) down ;;
load) load ;;
deploy) deploy "$@" ;;
undeploy) undeploy ;;
run) run ;;
*)
	echo "usage: scripts/kind.sh check TOOL...|up|down|load|deploy [HELM ARGS]|undeploy|run" >&2
	exit 2
	;;
esac
