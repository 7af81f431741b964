#!/bin/sh
# images.sh build|push — build (and push) the two container images.
#
#   IMAGE_TAG=dev scripts/images.sh build
#       replicad-core:$IMAGE_TAG and replicad-gateway:$IMAGE_TAG from
#       Dockerfile.core and Dockerfile.gateway
#   REGISTRY=reg.example/replicad scripts/images.sh push
#       build, then tag and push $REGISTRY/replicad-core:$IMAGE_TAG and
#       $REGISTRY/replicad-gateway:$IMAGE_TAG
#
# $ENGINE is the CLI to use (docker or podman); `make docker-build` and
# `make docker-push` run this through scripts/local-engine.sh, which finds
# or starts one and sets it.  Builds use the host's network: an engine
# started with --bridge=none has no other to give the build stage's
# apt-get.  The core is built first; the gateway's build stage is then a
# cache hit (the two Dockerfiles share it).
set -eu
cd "$(dirname "$0")/.."

ENGINE=${ENGINE:-docker}
IMAGE_TAG=${IMAGE_TAG:-dev}
IMAGES="core gateway"

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$revision" != unknown ] && ! git diff --quiet HEAD 2>/dev/null; then
	revision=$revision-dirty # built from uncommitted changes
fi
# The commit's date, not the build's: rebuilding a commit changes nothing.
created=$(git log -1 --format=%cI 2>/dev/null || date -u +%FT%TZ)

build() {
	for n in $IMAGES; do
		t0=$(date +%s)
		echo "images: building replicad-$n:$IMAGE_TAG with $ENGINE"
		"$ENGINE" build --network host -f "Dockerfile.$n" \
		    --build-arg VERSION="$IMAGE_TAG" \
		    --build-arg REVISION="$revision" \
		    --build-arg CREATED="$created" \
		    -t "replicad-$n:$IMAGE_TAG" .
		echo "images: replicad-$n:$IMAGE_TAG built in $(($(date +%s) - t0)) s"
	done
	"$ENGINE" image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' |
	    grep -E "^replicad-(core|gateway):$IMAGE_TAG " | sed 's/^/images: /'
}

case "${1:-}" in
build)
	build
	;;
push)
	if [ -z "${REGISTRY:-}" ]; then
		echo "images: push needs REGISTRY, e.g." \
		    "make docker-push REGISTRY=reg.example/replicad" >&2
		exit 2
	fi
	build
	for n in $IMAGES; do
		ref=${REGISTRY%/}/replicad-$n:$IMAGE_TAG
		"$ENGINE" tag "replicad-$n:$IMAGE_TAG" "$ref"
		echo "images: pushing $ref"
		"$ENGINE" push "$ref"
	done
	;;
*)
	echo "usage: $0 build|push" >&2
	exit 2
	;;
esac
