/*
 * core_opts.h — replicad-core's flags and environment (REPLICAD_<FLAG>),
 * checked at start (a bad value exits 2 with a usage line), and the
 * Kubernetes endpoint: --kube-api, or in-cluster from the ServiceAccount
 * files.
 */
#ifndef CORE_OPTS_H
#define CORE_OPTS_H

#include <sys/types.h>

#include "core/core_limits.h"
#include "core/log.h"
#include "proto-socket/ps.h"

#define CORE_VERSION        "0.1.0"
#define CORE_DEFAULT_SOCKET "/run/replicad/core.sock"
/* In-cluster: the ServiceAccount files, projected into this container. */
#define SA_DIR              "/var/run/secrets/kubernetes.io/serviceaccount"
#define SA_TOKEN            SA_DIR "/token"
#define SA_CA               SA_DIR "/ca.crt"
#define SA_NAMESPACE        SA_DIR "/namespace"

struct core_opts {
	const char *socket;
	uid_t uids[CORE_MAX_ALLOW_UIDS];
	size_t nuids;
	enum log_level level;
	enum log_format format;
	/* The home namespace (pins ConfigMap, Lease); NULL: in-cluster
	 * namespace file, else "default". */
	const char *namespace;
	/* The namespaces served (--namespaces), the first the default;
	 * without the flag, the home namespace alone. */
	char ns_list[CORE_MAX_NAMESPACES][PS_MAX_NAMESPACE + 1];
	size_t nns;
	/* One list+watch across namespaces instead of one per namespace. */
	int watch_all;
	const char *kube_api;   /* NULL: in-cluster service env */
	const char *token_file; /* NULL: the projected default in-cluster */
	const char *ca_file;
	const char *pin_file; /* NULL: pins not enabled */
	/* Pins in a ConfigMap (exclusive with pin_file); NULL: not. */
	const char *pin_configmap;
	char api_buf[CORE_MAX_API_URL];
	char ns_buf[PS_MAX_NAMESPACE + 1];
	/* Leader election: no lease name, no election (always leader). */
	const char *lease_name;
	const char *identity; /* set (default or given) with lease_name */
	char id_buf[LEASE_MAX_IDENTITY + 1];
	/* Every write's bounds, enforced here whatever the gateway checked. */
	uint32_t max_replicas;
	const char *self_deployment; /* replicad's own: never scaled */
	/* Full relist of every watched resource this often; 0: off. */
	unsigned long resync_s;
};

/* Parses argv and the environment into `o` and resolves the endpoint;
 * exits on --help, --version and any invalid value. */
void core_opts_parse(int argc, char *argv[], struct core_opts *o);

#endif /* CORE_OPTS_H */
