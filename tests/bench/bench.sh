#!/usr/bin/env bash
# bench.sh — `make bench`: replicad against nginx under the same load, and
# the figures a user can check (tests/bench/README.md says what each one
# means and how far to trust it).
#
# Starts kube-sim (HTTPS, token), replicad-core and replicad-gateway as
# `make run` does, and Debian's nginx with the same certificates, TLS policy
# and a same-size JSON answer (tests/bench/nginx.conf.in).  For each test it
# alternates the two servers run by run (replicad, nginx, replicad, ...;
# BENCH_ROUNDS each) because throughput on a shared machine swings from one
# run to the next; the table shows the median per server.  Then the write
# path (POST through the gateway to kube-sim, read-your-writes), the core
# alone over its socket (psbench) and the memory figures of issue #11.
#
# Every run's raw result line is kept in $BUILD/bench/runs.txt (memory in
# memory.txt, logs beside them); the table is also in table.txt.
#
# Environment: BUILD (build), BENCH_QUICK=1 (the CI smoke run: one round
# of about a second per test, small memory tests), BENCH_ROUNDS (3),
# BENCH_SECONDS (5), BENCH_WARMUP (1), BENCH_HOLD (5000 held connections),
# BENCH_DEPLOYMENTS (10000 cached Deployments), BENCH_PIN (0: processes
# run where the scheduler puts them; 1: the servers on the last CPU, the
# clients and kube-sim on the others).
#
# Only 127.0.0.1 is used; every process started here is stopped on exit.
# Benchmarks are not timed tests: no figure fails the run.  It exits
# non-zero only when a test produced no numbers (a failed run, no
# successful request, a server that died).
set -euo pipefail

BUILD=${BUILD:-build}
OUT=$BUILD/bench
QUICK=${BENCH_QUICK:-}
if [ "$QUICK" = 1 ]; then
	ROUNDS=${BENCH_ROUNDS:-1}
	SECS=${BENCH_SECONDS:-1}
	WARMUP=${BENCH_WARMUP:-0.2}
	HOLD=${BENCH_HOLD:-200}
	DEPLOYMENTS=${BENCH_DEPLOYMENTS:-1000}
else
	ROUNDS=${BENCH_ROUNDS:-3}
	SECS=${BENCH_SECONDS:-5}
	WARMUP=${BENCH_WARMUP:-1}
	HOLD=${BENCH_HOLD:-5000}
	DEPLOYMENTS=${BENCH_DEPLOYMENTS:-10000}
fi
# Each client run is bounded: its own duration, plus a margin for set-up.
RUN_LIMIT=$(awk -v s="$SECS" -v w="$WARMUP" 'BEGIN { printf "%d", s + w + 60 }')
WRITERS=4 # connections of the write test, each on its own Deployment

# CPU placement.  On a small machine the client needs about as much CPU
# as the server (a TLS handshake costs both sides alike) and they share
# the CPUs.  BENCH_PIN=1 gives the server under test (gateway and core, or
# nginx's master and worker) one CPU to itself; it is not the default
# because on this project's virtual machines every request then wakes an
# idle CPU, which costs more than the sharing (nginx keep-alive, 1
# connection: 2,300 req/s pinned against 7,500 unpinned; README).
ON_SERVER=()
ON_CLIENT=()
PLACEMENT="unpinned (the scheduler's choice; BENCH_PIN=1 pins)"
NCPU=$(nproc)
if [ "${BENCH_PIN:-0}" = 1 ] && [ "$NCPU" -ge 2 ] &&
    command -v taskset >/dev/null; then
	ON_SERVER=(taskset -c $((NCPU - 1)))
	ON_CLIENT=(taskset -c 0-$((NCPU - 2)))
	PLACEMENT="servers on CPU $((NCPU - 1)), clients and kube-sim on CPU 0-$((NCPU - 2))"
fi

log() { echo "bench: $*"; }
fail() {
	echo "bench: $*" >&2
	exit 1
}

for b in kube-sim replicad-core replicad-gateway replicad-ctl loadgen psbench; do
	[ -x "$BUILD/$b" ] || fail "missing $BUILD/$b (run make build)"
done
NGINX=$(command -v nginx || true)
[ -n "$NGINX" ] || NGINX=/usr/sbin/nginx
[ -x "$NGINX" ] ||
	fail "nginx is not installed (scripts/install-deps.sh installs it)"

rm -rf "$OUT"
mkdir -p "$OUT/logs" "$OUT/nginx/html" "$OUT/nginx/tmp"
OUT=$(cd "$OUT" && pwd) # nginx and the daemons want absolute paths
RUNS=$OUT/runs.txt
MEM=$OUT/memory.txt
: >"$RUNS"
: >"$MEM"
FAILED=0

# ---- processes: every one we start is stopped on exit ----
PIDS=()
stop_pid() {
	local p=$1 i
	kill -TERM "$p" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
cleanup() {
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${PIDS[i]}"
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECS WHAT CMD...: poll until CMD succeeds, with a deadline.
wait_for() {
	local secs=$1 what=$2 end
	shift 2
	end=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $end ]; then
			echo "bench: $what did not come up; logs in $OUT/logs" >&2
			tail -n 5 "$OUT"/logs/*.log >&2 || true
			exit 1
		fi
		sleep 0.05
	done
}

free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# /proc/PID/status field in KiB.
status_kib() {
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}

# Descriptors: the hold test needs one per connection on each side.  Only
# the soft limit is raised: nginx's worker (unprivileged) raises its own
# to worker_rlimit_nofile, under the hard limit.
want_fd=$((HOLD * 2 + 512))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want_fd" ]; then
	want_fd=$hard
fi
ulimit -Sn "$want_fd" 2>/dev/null || true
if [ "$(ulimit -Sn)" -lt $((HOLD + 256)) ]; then
	log "ulimit -n is $(ulimit -Sn): the hold test uses fewer connections"
	HOLD=$(($(ulimit -Sn) - 256))
fi

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo -)"
	echo "cpus: $(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "kernel: $(uname -r)"
	echo "placement: $PLACEMENT"
	# Other work on the machine moves every figure: say how busy it was.
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "openssl: $(openssl version)"
	echo "nginx: $("$NGINX" -v 2>&1)"
	echo "rounds=$ROUNDS seconds=$SECS warmup=$WARMUP hold=$HOLD deployments=$DEPLOYMENTS quick=${QUICK:-0}"
} >"$OUT/env.txt"
sed 's/^/bench: /' "$OUT/env.txt"

# ---- the service, as `make run` starts it ----
CERTS=$OUT/certs
scripts/gen-certs.sh "$CERTS" >/dev/null
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$OUT/token"
chmod 600 "$OUT/token"
writers=""
for ((i = 0; i < WRITERS; i++)); do
	writers="$writers,bench-$i=3"
done
"${ON_CLIENT[@]}" "$BUILD/kube-sim" --listen 127.0.0.1:0 \
    --tls-cert "$CERTS/server.crt" \
    --tls-key "$CERTS/server.key" --token-file "$OUT/token" \
    --deployments "frontend=3,orders=2,worker=1$writers" --log-level warn \
    --ready-file "$OUT/kube-sim.url" >"$OUT/logs/kube-sim.log" 2>&1 &
KS_PID=$!
PIDS+=("$KS_PID")
wait_for 20 kube-sim test -s "$OUT/kube-sim.url"
KS_URL=$(cat "$OUT/kube-sim.url")

CORE_SOCK=$OUT/core.sock
"${ON_SERVER[@]}" "$BUILD/replicad-core" --socket "$CORE_SOCK" --kube-api "$KS_URL" \
    --kube-token-file "$OUT/token" --kube-ca-file "$CERTS/ca.crt" \
    >"$OUT/logs/core.log" 2>&1 &
CORE_PID=$!
PIDS+=("$CORE_PID")
wait_for 20 replicad-core test -S "$CORE_SOCK"

GW_PORT=$(free_port)
GW_PROBE=$(free_port)
# make run's allow-lists: the write test's client certificate may write
# (without --allow-write every write would be 403).
"${ON_SERVER[@]}" "$BUILD/replicad-gateway" --listen "127.0.0.1:$GW_PORT" \
    --probe-listen "127.0.0.1:$GW_PROBE" --core-socket "$CORE_SOCK" \
    --tls-cert "$CERTS/server.crt" --tls-key "$CERTS/server.key" \
    --client-ca "$CERTS/ca.crt" \
    --allow-write CN=replicad-admin --allow-read CN=replicad-reader \
    >"$OUT/logs/gateway.log" 2>&1 &
GW_PID=$!
PIDS+=("$GW_PID")
wait_for 30 "replicad-gateway (ready)" \
    curl -sf "http://127.0.0.1:$GW_PROBE/readyz"
# Idle: started, core link up, no client connection yet.
echo "test=mem-gateway-idle server=replicad rss_kib=$(status_kib "$GW_PID" VmRSS) hwm_kib=$(status_kib "$GW_PID" VmHWM)" >>"$MEM"

PATH_GET=/api/v1/deployments/frontend/replicas
CURL=(curl -sS --max-time 10 --cacert "$CERTS/ca.crt" --cert "$CERTS/client.crt"
    --key "$CERTS/client.key")
# The answer nginx will serve: the gateway's own, byte for byte.
"${CURL[@]}" -o "$OUT/nginx/html/replicas.json" \
    "https://localhost:$GW_PORT$PATH_GET"
BODY_BYTES=$(wc -c <"$OUT/nginx/html/replicas.json")
[ "$BODY_BYTES" -gt 0 ] || fail "the gateway answered an empty body"
log "replicad answers $PATH_GET with $BODY_BYTES bytes of JSON"

# ---- nginx: same certificates, policy, answer size; its own files here ----
NG_PORT=$(free_port)
user_line=""
if [ "$(id -u)" = 0 ]; then
	# As root nginx switches its worker to an unprivileged user; it must
	# be able to read the answer.
	user_line="user nobody nogroup;"
	chmod 755 "$OUT" "$OUT/nginx" "$OUT/nginx/html"
	chmod 644 "$OUT/nginx/html/replicas.json"
fi
sed -e "s|@DIR@|$OUT/nginx|g" -e "s|@PORT@|$NG_PORT|g" \
    -e "s|@CERTS@|$CERTS|g" -e "s|@USER_LINE@|$user_line|" \
    tests/bench/nginx.conf.in >"$OUT/nginx/nginx.conf"
"${ON_SERVER[@]}" "$NGINX" -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -e "$OUT/nginx/nginx-error.log" \
    >"$OUT/logs/nginx.log" 2>&1 &
NG_PID=$!
PIDS+=("$NG_PID")
nginx_ok() {
	[ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' \
	    "https://localhost:$NG_PORT$PATH_GET")" = 200 ]
}
wait_for 20 nginx nginx_ok
NG_WORKERS=$(pgrep -P "$NG_PID" | paste -sd, -)
[ -n "$NG_WORKERS" ] || fail "nginx has no worker process"
NG_ALL=$NG_PID,$NG_WORKERS
ng_rss=0
ng_hwm=0
for p in ${NG_ALL//,/ }; do
	ng_rss=$((ng_rss + $(status_kib "$p" VmRSS)))
	ng_hwm=$((ng_hwm + $(status_kib "$p" VmHWM)))
done
echo "test=mem-nginx-idle server=nginx rss_kib=$ng_rss hwm_kib=$ng_hwm" >>"$MEM"
[ "$("${CURL[@]}" "https://localhost:$NG_PORT$PATH_GET" | wc -c)" = "$BODY_BYTES" ] ||
	fail "nginx's answer is not $BODY_BYTES bytes"

# What the servers burn with no client at all (timers, the watch, probes):
# it is inside every per-request figure, and weighs where requests are few.
cpu_ns() {
	local p f sum=0 v
	for p in ${1//,/ }; do
		for f in /proc/"$p"/task/*/schedstat; do
			read -r v _ <"$f" || v=0
			sum=$((sum + v))
		done
	done
	echo "$sum"
}
IDLE_SECS=$([ "$QUICK" = 1 ] && echo 1 || echo 5)
a_r=$(cpu_ns "$GW_PID,$CORE_PID")
a_n=$(cpu_ns "$NG_ALL")
sleep "$IDLE_SECS"
b_r=$(cpu_ns "$GW_PID,$CORE_PID")
b_n=$(cpu_ns "$NG_ALL")
echo "test=idle-cpu server=replicad seconds=$IDLE_SECS cpu_us_per_s=$(((b_r - a_r) / 1000 / IDLE_SECS))" >>"$MEM"
echo "test=idle-cpu server=nginx seconds=$IDLE_SECS cpu_us_per_s=$(((b_n - a_n) / 1000 / IDLE_SECS))" >>"$MEM"

LOADGEN=("${ON_CLIENT[@]}" "$BUILD/loadgen" --cert "$CERTS/client.crt" --key "$CERTS/client.key"
    --ca "$CERTS/ca.crt" --servername localhost)
declare -A PORT=([replicad]=$GW_PORT [nginx]=$NG_PORT)
declare -A GROUPS_OF=(
	[replicad]="--pids server:$GW_PID,$CORE_PID --pids gateway:$GW_PID --pids core:$CORE_PID"
	[nginx]="--pids server:$NG_ALL")

# run_one TEST SERVER ROUND CLIENT-ARGS...: one run, its line into runs.txt.
run_one() {
	local test=$1 server=$2 round=$3 out line rc=0
	shift 3
	out=$OUT/logs/$test-$server-$round.out
	timeout -k 5 "$RUN_LIMIT" "$@" >"$out" 2>&1 || rc=$?
	line=$(grep -E '^(loadgen|psbench): result ' "$out" | tail -n 1 |
	    sed -E 's/^(loadgen|psbench): result //' || true)
	if [ -z "$line" ]; then
		echo "test=$test server=$server round=$round status=failed exit=$rc" >>"$RUNS"
		log "$test $server round $round: FAILED (exit $rc, see $out)"
		FAILED=1
		return
	fi
	echo "test=$test server=$server round=$round exit=$rc $line $EXTRA" >>"$RUNS"
	if [ "$rc" -ne 0 ] || grep -qE '_missing=[1-9]' <<<"$line"; then
		log "$test $server round $round: FAILED (exit $rc, see $out)"
		FAILED=1
		return
	fi
	awk -v t="$test" -v s="$server" -v r="$round" '{
	    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	    printf "bench: %-14s %-8s round %d: %9.1f req/s  p50 %7.3f ms  p99 %7.3f ms  errors %d\n",
	        t, s, r, v["rps"], v["p50_ms"], v["p99_ms"], v["errors"] + v["non2xx"] }' <<<"$line"
}
EXTRA=""

# ---- replicad vs nginx, alternating run by run ----
declare -A TESTS=(
	[keepalive-16]="--mode keepalive --connections 16"
	[keepalive-1]="--mode keepalive --connections 1"
	[newconn-16]="--mode newconn --connections 16"
	[resume-16]="--mode newconn-resume --connections 16"
	[handshake-16]="--mode handshake --connections 16")
for test in keepalive-16 keepalive-1 newconn-16 resume-16 handshake-16; do
	for ((r = 1; r <= ROUNDS; r++)); do
		for server in replicad nginx; do
			# shellcheck disable=SC2086 # the argument lists split
			run_one "$test" "$server" "$r" "${LOADGEN[@]}" \
			    --connect "127.0.0.1:${PORT[$server]}" \
			    --path "$PATH_GET" --duration "$SECS" \
			    --warmup "$WARMUP" ${TESTS[$test]} \
			    ${GROUPS_OF[$server]}
		done
	done
done

# ---- the write path: POST through gateway and core to kube-sim ----
# Each connection writes its own Deployment, 4 then 3 then 4..., so that
# every write changes spec.replicas (a no-op write would be answered at
# once) and is answered only once the watch brought it back.
api_patches() {
	curl -s --cacert "$CERTS/ca.crt" "$KS_URL/_sim/counters" |
	    python3 -c 'import json, sys
print(sum(c["count"] for c in json.load(sys.stdin)["requests"]
          if c["verb"] == "patch"))'
}
for ((r = 1; r <= ROUNDS; r++)); do
	before=$(api_patches)
	EXTRA=""
	run_one write-4 replicad "$r" "${LOADGEN[@]}" \
	    --connect "127.0.0.1:$GW_PORT" --mode keepalive \
	    --connections "$WRITERS" --method POST \
	    --path '/api/v1/deployments/bench-{c}/replicas' \
	    --body '{"replicas":4}' --body '{"replicas":3}' \
	    --duration "$SECS" --warmup "$WARMUP" \
	    --pids "server:$GW_PID,$CORE_PID" --pids "gateway:$GW_PID" \
	    --pids "core:$CORE_PID" --pids "api:$KS_PID"
	# The API's own count, to show the writes reached it (warm-up too).
	sed -i "\$s/\$/ api_patches=$(($(api_patches) - before))/" "$RUNS"
done
EXTRA=""

# ---- the core alone: pipelined GETs over its socket ----
for ((r = 1; r <= ROUNDS; r++)); do
	run_one core-pipelined core "$r" "${ON_CLIENT[@]}" "$BUILD/psbench" --socket "$CORE_SOCK" \
	    --name frontend --depth 32 --duration "$SECS" --warmup "$WARMUP" \
	    --pids "server:$CORE_PID"
done

# ---- memory: the gateway holding many open mTLS connections ----
# A second gateway with room for them (and idle cut-offs longer than the
# test), the same core; then nginx holding as many.
hold_test() {
	local server=$1 port=$2 groups=$3 out=$OUT/logs/hold-$1.out rc=0 line
	# shellcheck disable=SC2086 # the argument list splits
	# 32 opening at once: beyond the core's max_inflight (32) requests in
	# flight the gateway answers 503 busy (the client would retry).
	timeout -k 5 400 "${LOADGEN[@]}" --connect "127.0.0.1:$port" \
	    --mode hold --connections "$HOLD" --concurrency 32 --duration 3 \
	    --path "$PATH_GET" --timeout 60 $groups >"$out" 2>&1 || rc=$?
	line=$(grep '^loadgen: established ' "$out" | tail -n 1 |
	    sed 's/^loadgen: established //' || true)
	if [ -z "$line" ] || [ "$rc" -ne 0 ]; then
		echo "test=mem-$server-hold server=$server status=failed exit=$rc" >>"$MEM"
		log "hold $HOLD connections on $server: FAILED (see $out)"
		FAILED=1
		return
	fi
	echo "test=mem-$server-hold server=$server held=$HOLD $line" >>"$MEM"
}
GW2_PORT=$(free_port)
GW2_PROBE=$(free_port)
"${ON_SERVER[@]}" "$BUILD/replicad-gateway" --listen "127.0.0.1:$GW2_PORT" \
    --probe-listen "127.0.0.1:$GW2_PROBE" --core-socket "$CORE_SOCK" \
    --tls-cert "$CERTS/server.crt" --tls-key "$CERTS/server.key" \
    --client-ca "$CERTS/ca.crt" --max-connections "$HOLD" \
    --idle-timeout 300 --request-timeout 300 \
    >"$OUT/logs/gateway-hold.log" 2>&1 &
GW2_PID=$!
PIDS+=("$GW2_PID")
wait_for 30 "replicad-gateway --max-connections $HOLD" \
    curl -sf "http://127.0.0.1:$GW2_PROBE/readyz"
echo "test=mem-gateway-idle-maxconn server=replicad max_connections=$HOLD rss_kib=$(status_kib "$GW2_PID" VmRSS) hwm_kib=$(status_kib "$GW2_PID" VmHWM)" >>"$MEM"
# While the connections are held, the gateway's own count of them.
(
	for ((i = 0; i < 4000; i++)); do
		grep -q '^loadgen: established' "$OUT/logs/hold-replicad.out" 2>/dev/null && break
		sleep 0.1
	done
	curl -s "http://127.0.0.1:$GW2_PROBE/metrics" |
	    awk '$1 == "replicad_gateway_open_connections" { print $2 }' \
		>"$OUT/hold-open-connections.txt"
) &
watcher=$!
hold_test replicad "$GW2_PORT" "--pids gateway:$GW2_PID"
wait "$watcher" || true
sed -i "\$s/\$/ gateway_open_connections=$(cat "$OUT/hold-open-connections.txt" 2>/dev/null || echo -)/" "$MEM"
stop_pid "$GW2_PID"
hold_test nginx "$NG_PORT" "--pids nginx:$NG_ALL"

# ---- memory: the core with many Deployments cached ----
"${ON_CLIENT[@]}" "$BUILD/kube-sim" --listen 127.0.0.1:0 \
    --tls-cert "$CERTS/server.crt" \
    --tls-key "$CERTS/server.key" --token-file "$OUT/token" \
    --deployments frontend=3 --generate "$DEPLOYMENTS" \
    --history $((DEPLOYMENTS * 2)) --log-level warn \
    --ready-file "$OUT/kube-sim-big.url" >"$OUT/logs/kube-sim-big.log" 2>&1 &
KS2_PID=$!
PIDS+=("$KS2_PID")
wait_for 60 "kube-sim --generate $DEPLOYMENTS" test -s "$OUT/kube-sim-big.url"
"${ON_SERVER[@]}" "$BUILD/replicad-core" --socket "$OUT/core-big.sock" \
    --kube-api "$(cat "$OUT/kube-sim-big.url")" \
    --kube-token-file "$OUT/token" --kube-ca-file "$CERTS/ca.crt" \
    >"$OUT/logs/core-big.log" 2>&1 &
CORE2_PID=$!
PIDS+=("$CORE2_PID")
wait_for 20 "replicad-core ($DEPLOYMENTS Deployments)" test -S "$OUT/core-big.sock"
big_synced() {
	"$BUILD/replicad-ctl" --socket "$OUT/core-big.sock" metrics |
	    awk -v n=$((DEPLOYMENTS + 1)) '
	    $1 ~ /^replicad_core_cache_synced\{/ { s = $2 }
	    $1 ~ /^replicad_core_cache_deployments\{/ { d = $2 }
	    END { exit !(s == 1 && d >= n) }'
}
t_sync=$SECONDS
wait_for 120 "the cache of $DEPLOYMENTS Deployments" big_synced
# A few reads of the cache, as the gateway would make them, then settle.
"$BUILD/psbench" --socket "$OUT/core-big.sock" --name gen-00001 \
    --requests 1000 >"$OUT/logs/core-big-reads.out" 2>&1 || FAILED=1
echo "test=mem-core-cache server=replicad deployments=$((DEPLOYMENTS + 1)) sync_s=$((SECONDS - t_sync)) rss_kib=$(status_kib "$CORE2_PID" VmRSS) hwm_kib=$(status_kib "$CORE2_PID" VmHWM)" >>"$MEM"
# The main core, 3 + $WRITERS Deployments, for comparison.
echo "test=mem-core-small server=replicad deployments=$((3 + WRITERS)) rss_kib=$(status_kib "$CORE_PID" VmRSS) hwm_kib=$(status_kib "$CORE_PID" VmHWM)" >>"$MEM"
stop_pid "$CORE2_PID"
stop_pid "$KS2_PID"

# Every daemon must still be alive: a crash under load is not a figure.
for p in "$KS_PID" "$CORE_PID" "$GW_PID" "$NG_PID"; do
	kill -0 "$p" 2>/dev/null || {
		log "process $p died during the bench (logs in $OUT/logs)"
		FAILED=1
	}
done

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/env.txt"
python3 tests/bench/report.py "$OUT" | tee "$OUT/table.txt"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || FAILED=1
log "raw results in $OUT/ (runs.txt, memory.txt, env.txt, logs/)"
exit "$FAILED"
