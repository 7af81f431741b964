#!/bin/sh
# install-deps.sh — make sure the Debian packages replicad needs are present.
#
#   scripts/install-deps.sh               install whatever is missing
#   scripts/install-deps.sh --if-missing  same, silent when nothing is missing
#   scripts/install-deps.sh --check       exit 1 (and name them) if any missing
#
# REPLICAD_DEPS=build limits all three to what compiling the daemons needs
# (the container images' build stage sets it; `make` calls this script too).
#
# Idempotent.  As root it uses apt-get; otherwise it prints the exact command.
# kubectl is not a Debian bookworm package (kubernetes-client is 1.20, too old
# for our tests); tests that need it say SKIP when it is absent.
set -eu

PACKAGES="build-essential pkg-config git ca-certificates
libevent-dev libssl-dev libyajl-dev libcurl4-openssl-dev libcmocka-dev
clang libclang-rt-14-dev clang-format cppcheck valgrind curl openssl
procps iproute2 python3 testssl.sh nginx
python3-yaml python3-jsonschema yamllint
golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev
protobuf-c-compiler libprotobuf-c-dev"
if [ "${REPLICAD_DEPS:-}" = build ]; then
	PACKAGES="gcc libc6-dev make pkg-config
libevent-dev libssl-dev libyajl-dev libcurl4-openssl-dev"
fi

mode=${1:-install}

missing=""
for p in $PACKAGES; do
	# dpkg-query prints "install ok installed" for a present package.
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	[ "$mode" = "--if-missing" ] || echo "install-deps: all packages present"
	exit 0
fi

if [ "$mode" = "--check" ]; then
	echo "install-deps: missing:$missing" >&2
	exit 1
fi

echo "install-deps: installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: not root; run:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -qq --no-install-recommends $missing >&2
echo "install-deps: done" >&2
