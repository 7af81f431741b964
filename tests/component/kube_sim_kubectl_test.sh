#!/bin/bash
# kube-sim-kubectl: the real kubectl against kube-sim over HTTPS with a
# bearer token (temp kubeconfig with certificate-authority), including
# kubectl proxy on a TCP port and on a unix socket.
. "$(dirname "$0")/kube_sim_lib.sh"
lib_init kube-sim-kubectl

command -v kubectl >/dev/null 2>&1 || lib_skip "kubectl not installed"
command -v openssl >/dev/null 2>&1 || lib_skip "openssl not installed"

# Test CA and a server certificate for 127.0.0.1/localhost.
D=$LIB_TMP
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kube-sim-test-ca \
    -keyout "$D/ca.key" -out "$D/ca.crt" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj /CN=kube-sim \
    -keyout "$D/srv.key" -out "$D/srv.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$D/ext"
openssl x509 -req -in "$D/srv.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" \
    -CAcreateserial -days 2 -extfile "$D/ext" -out "$D/srv.crt" >/dev/null 2>&1

echo kubectl-token >"$D/tokens"
ks_start --deployments frontend=3,orders=2,worker=1 --token-file "$D/tokens" \
    --tls-cert "$D/srv.crt" --tls-key "$D/srv.key" --controller-delay-ms 50
expect_match "https URL" "$KS_URL" '^https://127\.0\.0\.1:'

KS_CA=$D/ca.crt
ks_kubeconfig kubectl-token

OUT=$($K get deployments 2>&1)
expect_match "kubectl get deployments" "$OUT" '^NAME +.*'
expect_match "kubectl get lists frontend" "$OUT" 'frontend'
expect_eq "kubectl get deployment -o json" \
    "$($K get deployment orders -o json | jq_py '(j["kind"], j["metadata"]["name"], j["spec"]["replicas"])')" \
    "('Deployment', 'orders', 2)"
expect_match "kubectl get --raw /version" "$($K get --raw /version)" '"gitVersion":"v1.32.0"'
expect_match "kubectl version sees the server" "$($K version 2>&1)" 'Server Version: v1\.32\.0'
expect_match "kubectl scale" "$($K scale deployment frontend --replicas=5 2>&1)" 'deployment.apps/frontend scaled'
expect_eq "scaled: spec.replicas" "$($K get deployment frontend -o jsonpath='{.spec.replicas}')" 5
check "scaled: status reaches 5 ready" lib_wait 20 sh -c \
    "[ \"\$($K get deployment frontend -o jsonpath='{.status.readyReplicas}')\" = 5 ]"
expect_match "kubectl rollout status completes" \
    "$($K rollout status deployment/frontend --timeout=20s 2>&1)" 'successfully rolled out'
expect_match "kubectl get 404 message" "$($K get deployment nope 2>&1)" \
    'Error from server \(NotFound\): deployments.apps "nope" not found'
expect_match "kubectl scale negative is rejected" "$($K scale deployment orders --replicas=-1 2>&1)" \
    'replicas|invalid|Invalid'

# kubectl get --watch sees a change made by another client.
lib_bg kwatch $K get deployments --watch --request-timeout=30s
check "watch shows the initial list" lib_wait_line 20 "$LIB_TMP/kwatch.out" 'worker'
$K scale deployment worker --replicas=3 >/dev/null
check "watch shows the change" lib_wait 20 sh -c "grep -c worker '$LIB_TMP/kwatch.out' | grep -qv '^1$'"
kill "$LIB_LAST_PID" 2>/dev/null

# Token rotation through the token file: new token in, old one out.
echo rotated-token >"$D/tokens.new" && mv "$D/tokens.new" "$D/tokens"
expect_match "old token now 401" "$($K get deployments 2>&1)" 'Unauthorized|must be logged in'
sed -i 's/token: kubectl-token/token: rotated-token/' "$D/kubeconfig"
expect_match "rotated token accepted" "$($K get deployments 2>&1)" 'frontend'

# kubectl proxy on a TCP port: list and watch through it.
PORT=$(lib_free_port)
lib_bg kproxy kubectl proxy --port="$PORT"
PPID1=$LIB_LAST_PID
check "proxy starts" lib_wait_line 20 "$LIB_TMP/kproxy.out" 'Starting to serve'
expect_eq "list through proxy" \
    "$(curl -s "http://127.0.0.1:$PORT$DEPS" | jq_py '[i["metadata"]["name"] for i in j["items"]]')" \
    '["frontend","orders","worker"]'
RV=$(curl -s "http://127.0.0.1:$PORT$DEPS" | jq_py 'j["metadata"]["resourceVersion"]')
$K scale deployment orders --replicas=4 >/dev/null
expect_match "watch through proxy" \
    "$(curl -sN "http://127.0.0.1:$PORT$DEPS?watch=1&resourceVersion=$RV&timeoutSeconds=1" | head -1)" \
    '"type":"MODIFIED".*"name":"orders"'
kill "$PPID1"

# kubectl proxy on a unix socket.
lib_bg kproxyu kubectl proxy --unix-socket="$D/proxy.sock"
check "unix proxy starts" lib_wait 20 test -S "$D/proxy.sock"
expect_eq "list through unix-socket proxy" \
    "$(curl -s --unix-socket "$D/proxy.sock" "http://localhost$DEPS" | jq_py 'j["kind"]')" DeploymentList
expect_match "watch through unix-socket proxy" \
    "$(curl -sN --unix-socket "$D/proxy.sock" "http://localhost$DEPS?watch=1&timeoutSeconds=1" | head -1)" \
    '"type":"ADDED"'

check "clean exit on SIGTERM" ks_stop
lib_finish
