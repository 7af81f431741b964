#!/bin/sh
# client.sh — runs inside the e2e client pods (the curl image, mounted from
# a ConfigMap by tests/k8s/e2e.sh), talking to the Service as an in-cluster
# client would, with the client certificate from /certs.
#
#   MODE=once   one GET of the deployment list: print its status code
#   MODE=load   for LOAD_SECONDS: GET frontend, and every fifth request a
#               POST of orders (4 or 5), each on a new connection; print
#               each failure and a closing "load: total=N failed=M"
#
# The server certificate names localhost: --connect-to sends the request to
# SVC:SVC_PORT (443) while TLS verifies that name.  CERT_DIR (/certs) lets
# the script run outside the pod too, e.g. against `make run`.
set -u
CERT_DIR=${CERT_DIR:-/certs}
SVC_PORT=${SVC_PORT:-443}

c() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
	    --cacert "$CERT_DIR/ca.crt" --cert "$CERT_DIR/tls.crt" \
	    --key "$CERT_DIR/tls.key" \
	    --connect-to "localhost:443:$SVC:$SVC_PORT" "$@"
}

case $MODE in
once)
	c https://localhost/api/v1/deployments
	echo
	;;
load)
	end=$(($(date +%s) + LOAD_SECONDS))
	n=0
	f=0
	while [ "$(date +%s)" -lt "$end" ]; do
		n=$((n + 1))
		if [ $((n % 5)) -eq 0 ]; then
			code=$(c -X POST -H 'Content-Type: application/json' \
			    -d "{\"replicas\":$((4 + n % 2))}" \
			    https://localhost/api/v1/deployments/orders/replicas)
		else
			code=$(c https://localhost/api/v1/deployments/frontend/replicas)
		fi
		if [ "$code" != 200 ]; then
			f=$((f + 1))
			echo "fail n=$n code=$code $(date +%T)"
		fi
	done
	echo "load: total=$n failed=$f"
	;;
esac
