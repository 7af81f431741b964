#!/usr/bin/env bash
# run.sh — `make run`: the whole service on this machine.
#
# Starts kube-sim (HTTPS, bearer token, the seed's deployments frontend=3,
# orders=2, worker=1, and payments/checkout=2 in a second namespace),
# replicad-core (serving both namespaces) (talking to it, verifying its
# certificate) and replicad-gateway (mutual TLS on 127.0.0.1; the dev
# client certificate may write, the reader certificate only read), prints
# ready-to-paste curl commands, and stops everything on Ctrl-C.
#
#   KUBE_API=http://127.0.0.1:8001 make run   # a real cluster via kubectl proxy
#
# Environment: BUILD (build), CERTS (certs), GATEWAY_ADDR (127.0.0.1:8443),
# PROBE_ADDR (127.0.0.1:8080), SIM_ADDR (127.0.0.1:6443), NAMESPACE
# (default), NAMESPACES (the namespaces served, first = default: with
# kube-sim "NAMESPACE,payments", else NAMESPACE), KUBE_API (unset:
# kube-sim), RUN_DIR (a new temp dir),
# PIN_FILE (RUN_DIR/pins.json; set it to keep pins from one run to the
# next).
set -euo pipefail

# Ctrl-C goes to the terminal's foreground process group: make, this
# script and the daemons.  make answers it with "*** [run] Interrupt" and
# exit 130 whatever the script does.  So the script runs itself as a job
# of its own, in the foreground (job control: a process group of its own,
# which `fg` hands the terminal): Ctrl-C reaches it and its daemons only,
# it stops them, and make sees a clean exit 0.
if [[ -t 0 && -z ${REPLICAD_RUN_JOB:-} ]]; then
	set -m
	REPLICAD_RUN_JOB=1 "$0" "$@" &
	fg %1 >/dev/null
	exit $?
fi

BUILD=${BUILD:-build}
CERTS=${CERTS:-certs}
GATEWAY_ADDR=${GATEWAY_ADDR:-127.0.0.1:8443}
PROBE_ADDR=${PROBE_ADDR:-127.0.0.1:8080}
SIM_ADDR=${SIM_ADDR:-127.0.0.1:6443}
NAMESPACE=${NAMESPACE:-default}
KUBE_API=${KUBE_API:-}
RUN_DIR=${RUN_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/replicad-run.XXXXXX")}
PIN_FILE=${PIN_FILE:-$RUN_DIR/pins.json}
umask 077
mkdir -p "$RUN_DIR"

pids=()
stop() {
	local rc=$1 i
	trap - INT TERM EXIT
	# Reverse order: the gateway drains first, then the core, then the API.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
	rm -rf "$RUN_DIR"
	[[ $rc -eq 0 ]] && printf '\nrun: stopped\n'
	exit "$rc"
}
trap 'stop 0' INT TERM
trap 'stop $?' EXIT

# wait_for SECS WHAT CMD...: poll until CMD succeeds (no sleep-and-hope).
wait_for() {
	local secs=$1 what=$2 end
	shift 2
	end=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $end ]; then
			echo "run: $what did not come up; its log:" >&2
			tail -n 20 "$RUN_DIR"/*.log >&2 || true
			exit 1
		fi
		sleep 0.1
	done
}

core_args=(--socket "$RUN_DIR/core.sock" --namespace "$NAMESPACE")
if [ -z "$KUBE_API" ]; then
	NAMESPACES=${NAMESPACES:-$NAMESPACE,payments}
	# A fresh random token for this run only; it stays in RUN_DIR (0700).
	head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RUN_DIR/token"
	"$BUILD/kube-sim" --listen "$SIM_ADDR" --namespace "$NAMESPACE" \
	    --tls-cert "$CERTS/server.crt" --tls-key "$CERTS/server.key" \
	    --token-file "$RUN_DIR/token" \
	    --deployments frontend=3,orders=2,worker=1,payments/checkout=2 \
	    --ready-file "$RUN_DIR/kube-sim.url" >"$RUN_DIR/kube-sim.log" 2>&1 &
	pids+=($!)
	wait_for 20 kube-sim test -s "$RUN_DIR/kube-sim.url"
	KUBE_API=$(cat "$RUN_DIR/kube-sim.url")
	core_args+=(--kube-api "$KUBE_API" --kube-token-file "$RUN_DIR/token"
	    --kube-ca-file "$CERTS/ca.crt")
	echo "run: kube-sim on $KUBE_API (namespaces $NAMESPACES)"
else
	NAMESPACES=${NAMESPACES:-$NAMESPACE}
	core_args+=(--kube-api "$KUBE_API")
	echo "run: using the Kubernetes API at $KUBE_API (namespaces $NAMESPACES)"
fi
core_args+=(--namespaces "$NAMESPACES")

core_args+=(--pin-file "$PIN_FILE")
"$BUILD/replicad-core" "${core_args[@]}" >"$RUN_DIR/core.log" 2>&1 &
pids+=($!)
wait_for 20 replicad-core test -S "$RUN_DIR/core.sock"

# The development PKI's two clients (scripts/gen-certs.sh): `client`
# (CN=replicad-admin) may write, `reader` (CN=replicad-reader) may only
# read.  Any other certificate of the dev CA may do nothing.
"$BUILD/replicad-gateway" --listen "$GATEWAY_ADDR" \
    --probe-listen "$PROBE_ADDR" --core-socket "$RUN_DIR/core.sock" \
    --tls-cert "$CERTS/server.crt" --tls-key "$CERTS/server.key" \
    --client-ca "$CERTS/ca.crt" \
    --allow-write CN=replicad-admin --allow-read CN=replicad-reader \
    >"$RUN_DIR/gateway.log" 2>&1 &
pids+=($!)
wait_for 30 "replicad-gateway (ready)" \
    curl -sf "http://$PROBE_ADDR/readyz"

url="https://localhost:${GATEWAY_ADDR##*:}"
cat <<EOF
run: replicad is ready (logs in $RUN_DIR). Try:

  C="--cacert $CERTS/ca.crt --cert $CERTS/client.crt --key $CERTS/client.key"
  curl \$C $url/api/v1/deployments
  curl \$C $url/api/v1/namespaces/${NAMESPACES##*,}/deployments
  curl \$C $url/api/v1/deployments/frontend/replicas
  curl \$C -X POST -H 'Content-Type: application/json' -d '{"replicas":5}' \\
      $url/api/v1/deployments/frontend/replicas
  curl \$C -X PUT -H 'Content-Type: application/json' -d '{"replicas":2}' \\
      $url/api/v1/deployments/orders/pin      # keep orders at 2
  curl \$C $url/api/v1/pins
  curl \$C -X DELETE $url/api/v1/deployments/orders/pin
  curl \$C $url/healthz
  curl http://$PROBE_ADDR/metrics

  # The reader certificate may read, and gets 403 for any write:
  R="--cacert $CERTS/ca.crt --cert $CERTS/reader.crt --key $CERTS/reader.key"
  curl \$R $url/api/v1/deployments

Ctrl-C stops everything.
EOF
# Wait until Ctrl-C, or until one of the processes dies.
wait -n "${pids[@]}" || true
echo "run: a process exited; its log:" >&2
tail -n 20 "$RUN_DIR"/*.log >&2 || true
exit 1
