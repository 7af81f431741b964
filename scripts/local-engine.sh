#!/bin/sh
# local-engine.sh — a container engine for building and testing the images,
# on machines that have one and on machines (like the project's own) that
# have neither a running engine nor access to a container registry.
#
#   scripts/local-engine.sh run [--skip-as NAME] CMD...
#       make sure an engine answers, run CMD with ENGINE (the CLI to call)
#       and, for an engine started here, DOCKER_HOST in its environment;
#       stop afterwards whatever was started for CMD.  With --skip-as, a
#       machine where no engine can be had prints "NAME: SKIP why" and
#       exits 0 (unless REQUIRE_ENGINE=1) instead of failing.
#   scripts/local-engine.sh start    start one if needed; print the
#                                    `export ...` lines to eval
#   scripts/local-engine.sh stop     stop the engine `start` started here
#   scripts/local-engine.sh status   say which engine would be used
#
# Which engine: $ENGINE if set (docker or podman, as on a developer's
# machine); else a docker daemon that already answers; else podman if it is
# installed and works; else, as root, one started here from Debian's
# packages (installed when missing): dockerd with --bridge=none
# --iptables=false (this machine has no bridge or NAT to offer, and
# containers that need a network share one: `--network host` for builds,
# `--network container:X` for the test's pod), falling back to podman with
# runc (crun does not work on the project's machines).  Its state lives in
# $ENGINE_STATE (default /var/lib/replicad-engine), so images and build
# cache survive between runs; its sockets and pid files in $ENGINE_RUN
# (default /run/replicad-engine).  An engine that was already there is
# used and never stopped.
#
# The base image: when debian:bookworm-slim is not in an engine started
# here (such a machine cannot pull it), it is made with debootstrap
# (variant minbase, from deb.debian.org) and slimmed as the official image
# is; LOCAL_BASE=1 does the same for any engine.  The Dockerfiles are not
# changed for it.
set -eu

STATE=${ENGINE_STATE:-/var/lib/replicad-engine}
RUNDIR=${ENGINE_RUN:-/run/replicad-engine}
SOCK=$RUNDIR/docker.sock
PIDFILE=$RUNDIR/dockerd.pid
BASE_IMAGE=debian:bookworm-slim
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

T0=$(date +%s)
# Messages carry the seconds since this script started: CI logs then show
# where the time of a first run goes.
say() { echo "local-engine: [$(($(date +%s) - T0)) s] $*" >&2; }
die() {
	say "$*"
	exit 1
}

# ---------------------------------------------------------------- detect

# An engine answers when its CLI reaches it ("info" needs the daemon).
answers() {
	"$@" info >/dev/null 2>&1
}

# Sets ENGINE (and DOCKER_HOST for our dockerd) for an engine
# that already works, and OURS=1 when it is the one this script manages;
# returns 1 when there is none.
find_running() {
	OURS=0
	if [ -n "${ENGINE:-}" ]; then
		answers "$ENGINE" || die "ENGINE=$ENGINE does not answer"
		return 0
	fi
	# Ours, started earlier (by `start`, or by a run still going on).
	if [ -S "$SOCK" ] && DOCKER_HOST=unix://$SOCK answers "$(docker_cli)"; then
		ours_docker_env
		OURS=1
		return 0
	fi
	if command -v docker >/dev/null 2>&1 && answers docker; then
		ENGINE=docker
		return 0
	fi
	# A podman its owner set up (not the one configured here: that one is
	# "started" again below, which costs nothing).
	if [ ! -f "$STATE/podman/containers.conf" ] &&
	    command -v podman >/dev/null 2>&1 && answers podman; then
		ENGINE=podman
		return 0
	fi
	return 1
}

# The environment for the dockerd started here: its socket, and BuildKit
# (built into this dockerd; it builds the runtime stage while the build
# stage compiles, ~10 s less per clean build than the legacy builder).  A
# user's engine keeps the user's own choice.
ours_docker_env() {
	ENGINE=$(docker_cli)
	DOCKER_HOST=unix://$SOCK
	DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-1}
	export DOCKER_HOST DOCKER_BUILDKIT
}

# The docker CLI that came with Debian's dockerd, when we start that one:
# a client of the same version as the daemon (a newer one on the PATH may
# want BuildKit/buildx, which Debian's docker.io does not ship).
docker_cli() {
	if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else echo docker; fi
}

# ----------------------------------------------------------------- start

# Installs Debian packages that are missing (the engine is only needed for
# image work, so scripts/install-deps.sh does not carry it).
need_pkgs() {
	missing=""
	for p in "$@"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
	done
	[ -n "$missing" ] || return 0
	say "installing:$missing (log: $STATE/apt.log)"
	mkdir -p "$STATE"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086 # $missing is a word list
	if ! {
		apt-get update -qq &&
		    apt-get install -y -qq --no-install-recommends $missing
	} >"$STATE/apt.log" 2>&1; then
		tail -n 20 "$STATE/apt.log" >&2
		return 1
	fi
}

# Polls CMD... until it succeeds, for at most SECS seconds; fails early
# when process PID (what we wait for) has died.
wait_for() {
	secs=$1
	pid=$2
	shift 2
	end=$(($(date +%s) + secs))
	until "$@" >/dev/null 2>&1; do
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

start_dockerd() {
	# debootstrap too, in the same apt run: an engine started here is one
	# that will need the base image made locally.
	need_pkgs docker.io debootstrap || return 1
	command -v dockerd >/dev/null 2>&1 || return 1
	mkdir -p "$STATE/docker" "$RUNDIR"
	# No TCP listener, no bridge, no iptables rules: only a unix socket
	# of our own, so that nothing of the host's network is changed.
	set -- --data-root "$STATE/docker" --exec-root "$RUNDIR/exec" \
	    --pidfile "$PIDFILE" --host "unix://$SOCK" \
	    --bridge=none --iptables=false --ip-masq=false
	# overlay2 where the kernel and backing filesystem allow it (dockerd
	# checks and falls back to vfs by itself); STORAGE_DRIVER forces one.
	[ -z "${STORAGE_DRIVER:-}" ] || set -- "$@" --storage-driver "$STORAGE_DRIVER"
	say "starting dockerd (state in $STATE/docker, log $STATE/dockerd.log)"
	# setsid: the daemon must not get the caller's Ctrl-C before we stop it.
	setsid dockerd "$@" >>"$STATE/dockerd.log" 2>&1 </dev/null &
	pid=$!
	if ! wait_for 60 "$pid" env DOCKER_HOST="unix://$SOCK" "$(docker_cli)" version; then
		say "dockerd did not come up; last lines of its log:"
		tail -n 15 "$STATE/dockerd.log" >&2
		kill "$pid" 2>/dev/null || true
		return 1
	fi
	ours_docker_env
	echo "docker $pid" >"$RUNDIR/started"
	say "dockerd $pid answers on $SOCK ($("$ENGINE" info -f '{{.Driver}}' 2>/dev/null) storage)"
}

# podman is daemonless: "starting" it is writing a configuration that uses
# our state directory, runc and cgroupfs (no systemd here), and checking
# that it answers.  Written anew each time, so a changed script applies.
podman_env() {
	mkdir -p "$STATE/podman" "$RUNDIR/podman"
	# Podman asks for open-files and process limits above what it may set
	# without CAP_SYS_RESOURCE, which root lacks on the project's machines
	# (runc: "error setting rlimit ... operation not permitted").  So:
	# this shell's open-files limit, as dockerd's containers get; and 4096
	# processes per uid, far more than a daemon or a build needs and below
	# the 32768 podman leaves itself.
	# shellcheck disable=SC3045 # dash, bash and busybox have ulimit -S/-H
	cat >"$STATE/podman/containers.conf" <<-EOF
	[containers]
	default_ulimits = ["nofile=$(ulimit -Sn):$(ulimit -Hn)", "nproc=4096:4096"]
	[engine]
	runtime = "runc"
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	[network]
	default_network = "none"
	EOF
	cat >"$STATE/podman/storage.conf" <<-EOF
	[storage]
	driver = "${STORAGE_DRIVER:-overlay}"
	graphroot = "$STATE/podman/storage"
	runroot = "$RUNDIR/podman"
	EOF
	CONTAINERS_CONF=$STATE/podman/containers.conf
	CONTAINERS_STORAGE_CONF=$STATE/podman/storage.conf
	export CONTAINERS_CONF CONTAINERS_STORAGE_CONF
	ENGINE=podman
}

start_podman() {
	need_pkgs runc podman debootstrap || return 1
	podman_env
	answers podman || return 1
	echo "podman" >"$RUNDIR/started"
	say "podman ready (runc, state in $STATE/podman)"
}

start_engine() {
	[ "$(id -u)" -eq 0 ] || {
		WHY="no container engine answers, and starting one needs root"
		return 1
	}
	command -v apt-get >/dev/null 2>&1 || {
		WHY="no container engine answers, and this is not a Debian machine to install one from"
		return 1
	}
	case "${LOCAL_ENGINE:-docker}" in
	docker) start_dockerd || start_podman ;;
	podman) start_podman ;;
	*) die "LOCAL_ENGINE must be docker or podman" ;;
	esac || {
		WHY="neither dockerd nor podman could be started here (see $STATE)"
		return 1
	}
}

stop_engine() {
	[ -f "$RUNDIR/started" ] || return 0
	read -r what pid <"$RUNDIR/started" || true
	rm -f "$RUNDIR/started"
	[ "$what" = docker ] || return 0 # podman leaves nothing running
	# Images replaced by rebuilds would pile up in our state directory
	# (the build cache is kept: that is what makes the next build fast).
	DOCKER_HOST=unix://$SOCK "$(docker_cli)" image prune -f >/dev/null 2>&1 || true
	say "stopping dockerd $pid"
	kill -TERM "$pid" 2>/dev/null || return 0
	# dockerd stops its containers and its own containerd, then exits.
	if ! wait_for 60 "" sh -c "! kill -0 $pid 2>/dev/null"; then
		say "dockerd $pid ignored SIGTERM for 60 s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	# dockerd leaves the host's network namespace bind-mounted for its
	# "host" network; it would be mounted again at the next start.
	umount "$RUNDIR/exec/netns/default" 2>/dev/null || true
	# The containerd it started, if it outlived it.
	cpid=$(cat "$RUNDIR/exec/containerd/containerd.pid" 2>/dev/null || true)
	if [ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null; then
		kill -TERM "$cpid" 2>/dev/null || true
		wait_for 20 "" sh -c "! kill -0 $cpid 2>/dev/null" ||
		    kill -KILL "$cpid" 2>/dev/null || true
	fi
}

# ------------------------------------------------------------ base image

# debian:bookworm-slim made here: debootstrap minbase, the official image's
# apt sources and Docker tweaks, upgraded from bookworm-updates and
# bookworm-security, then slimmed as debuerreotype does (no docs but
# copyrights, no man pages, locales or apt lists; dpkg told to keep
# excluding them), and imported as one layer.
make_base() {
	if "$ENGINE" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || die "$BASE_IMAGE is missing and making it needs root"
	need_pkgs debootstrap || die "cannot install debootstrap"
	root=$STATE/base-rootfs
	rm -rf "$root"
	say "making $BASE_IMAGE with debootstrap from $MIRROR"
	debootstrap --variant=minbase bookworm "$root" "$MIRROR" \
	    >"$STATE/debootstrap.log" 2>&1 ||
	    { tail -n 20 "$STATE/debootstrap.log" >&2; die "debootstrap failed"; }

	rm -f "$root/etc/apt/sources.list"
	cat >"$root/etc/apt/sources.list.d/debian.sources" <<-EOF
	Types: deb
	URIs: http://deb.debian.org/debian
	Suites: bookworm bookworm-updates
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

	Types: deb
	URIs: http://deb.debian.org/debian-security
	Suites: bookworm-security
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	cat >"$root/etc/apt/apt.conf.d/docker-clean" <<-'EOF'
	DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
	APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
	Dir::Cache::pkgcache "";
	Dir::Cache::srcpkgcache "";
	EOF
	echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
	echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
	echo 'Apt::AutoRemove::SuggestsImportant "false";' \
	    >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
	cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<-'EOF'
	path-exclude /usr/share/doc/*
	path-include /usr/share/doc/*/copyright
	path-exclude /usr/share/groff/*
	path-exclude /usr/share/info/*
	path-exclude /usr/share/linda/*
	path-exclude /usr/share/lintian/overrides/*
	path-exclude /usr/share/locale/*
	path-exclude /usr/share/man/*
	EOF
	echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"

	# Point-release fixes and security updates, as the official image has.
	DEBIAN_FRONTEND=noninteractive chroot "$root" sh -c \
	    'apt-get update -qq && apt-get upgrade -y -qq' \
	    >>"$STATE/debootstrap.log" 2>&1 ||
	    { tail -n 20 "$STATE/debootstrap.log" >&2; die "apt-get upgrade in the base failed"; }

	# Slim, and drop what debootstrap copied from this host.
	find "$root/usr/share/doc" -mindepth 1 -not -name copyright \
	    -not -type d -delete
	find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* \
	    "$root"/usr/share/locale/* "$root"/usr/share/groff/* \
	    "$root"/usr/share/lintian/* "$root"/var/lib/apt/lists/* \
	    "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
	    "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old \
	    "$root"/var/log/* "$root"/tmp/* "$root"/root/.bash_history
	: >"$root/etc/resolv.conf"
	: >"$root/etc/hostname"
	rm -f "$root/etc/machine-id"

	tar --numeric-owner -C "$root" -c . |
	    "$ENGINE" import --change 'CMD ["bash"]' \
		--change "LABEL io.replicad.base=\"debootstrap bookworm minbase $(date -u +%F)\"" \
		- "$BASE_IMAGE" >/dev/null
	rm -rf "$root"
	say "$BASE_IMAGE made locally ($("$ENGINE" image inspect -f '{{.Size}}' "$BASE_IMAGE") bytes)"
}

# ------------------------------------------------------------------ main

# Finds or starts an engine, and makes the base image where it cannot be
# pulled.  Returns 1 (with WHY) when it cannot have one.
ensure() {
	WHY=""
	if ! find_running; then
		start_engine || return 1
		OURS=1
		# `run` stops it however it ends, a failing base image included.
		if [ "${STOP_ON_EXIT:-0}" = 1 ]; then
			trap stop_engine EXIT
			trap 'exit 130' INT TERM
		fi
	fi
	export ENGINE
	# Ours cannot pull; a user's engine can (docker build pulls the base
	# itself), unless LOCAL_BASE=1.
	if [ "$OURS" = 1 ] || [ "${LOCAL_BASE:-0}" = 1 ]; then
		make_base
	fi
}

cmd=${1:-}
[ $# -eq 0 ] || shift
case "$cmd" in
run)
	skip_as=""
	if [ "${1:-}" = --skip-as ]; then
		skip_as=$2
		shift 2
	fi
	[ $# -gt 0 ] || die "usage: $0 run [--skip-as NAME] CMD..."
	STOP_ON_EXIT=1
	if ! ensure; then
		if [ -n "$skip_as" ] && [ "${REQUIRE_ENGINE:-0}" != 1 ]; then
			echo "$skip_as: SKIP $WHY"
			echo "$skip_as: 0 passed, 0 failed (skipped)"
			exit 0
		fi
		die "$WHY"
	fi
	rc=0
	"$@" || rc=$?
	exit "$rc"
	;;
start)
	ensure || die "$WHY"
	echo "export ENGINE='$ENGINE'"
	[ -z "${DOCKER_HOST:-}" ] || echo "export DOCKER_HOST='$DOCKER_HOST'"
	[ -z "${DOCKER_BUILDKIT:-}" ] || echo "export DOCKER_BUILDKIT='$DOCKER_BUILDKIT'"
	[ -z "${CONTAINERS_CONF:-}" ] ||
	    echo "export CONTAINERS_CONF='$CONTAINERS_CONF' CONTAINERS_STORAGE_CONF='$CONTAINERS_STORAGE_CONF'"
	;;
stop)
	stop_engine
	;;
status)
	if find_running; then
		echo "engine: $ENGINE${DOCKER_HOST:+ at $DOCKER_HOST}"
	else
		echo "engine: none running (run/start would start one)"
		exit 1
	fi
	;;
*)
	sed -n '2,/^set -eu/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
