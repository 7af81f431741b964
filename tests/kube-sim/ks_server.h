/*
 * ks_server.h — the running kube-sim: configuration, the libevent/evhttp
 * listener (HTTP or HTTPS), and the request front door every request
 * passes: admin routes, counters, bearer auth, injected faults, latency
 * and hangs, then the API handlers.
 */
#ifndef KS_SERVER_H
#define KS_SERVER_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evhttp;
struct evhttp_request;
struct ks_watch;
struct ks_deferred;

enum ks_chunk_mode {
	KS_CHUNK_PACK = 0, /* all pending events in one chunk (default) */
	KS_CHUNK_LINE,     /* one chunk per event */
	KS_CHUNK_SPLIT,    /* each event cut in several chunks */
	KS_CHUNK_BYTES     /* fixed-size chunks, ignoring event ends */
};

struct ks_config {
	const char *listen; /* ADDR:PORT */
	const char *tls_cert;
	const char *tls_key;
	const char *token_file;
	const char *tokens[16]; /* --token, repeatable */
	int ntokens;
	const char *ns;
	const char *deployments; /* "a=3,b=2" */
	long generate;
	long history;
	long bookmark_ms;
	long ctrl_delay_ms;
	long ctrl_step;
	enum ks_chunk_mode chunk_mode;
	long chunk_bytes;
	const char *user;
	const char *ready_file;
	const char *deny[16]; /* VERB:RESOURCE[/SUB], repeatable */
	int ndeny;
};

TAILQ_HEAD(ks_watch_list, ks_watch);
TAILQ_HEAD(ks_deferred_list, ks_deferred);

struct ks_server {
	struct ks_config cfg;
	struct event_base *base;
	struct evhttp *http;
	void *ssl_ctx; /* SSL_CTX *, NULL for plain HTTP */
	struct ks_store *store;
	struct ks_auth *auth;
	struct ks_admin *admin;
	struct ks_ctrl *ctrl;
	struct ks_watch_list watches;
	size_t nwatches;
	struct ks_deferred_list deferred;
	size_t ndeferred;
	enum ks_chunk_mode chunk_mode;
	long chunk_bytes;
	long bookmark_ms;
	int stopping;
	char url[128];
	/* The list being re-run after its resourceVersion wait timed out. */
	struct evhttp_request *rv_wait_expired;
};

struct ks_server *ks_server_new(struct event_base *, const struct ks_config *);
int ks_server_listen(struct ks_server *);
/* End watches and held requests, stop listening; then ks_server_free. */
void ks_server_stop(struct ks_server *);
void ks_server_free(struct ks_server *);
/* Run a request through the API handlers (after auth/faults/delays). */
void ks_server_dispatch(struct ks_server *, struct evhttp_request *);
/* Hold a list whose resourceVersion is ahead of the store: it runs again
 * as soon as that RV exists, or after ms (then it answers 504, as the
 * watch cache does after its 3 s wait).  -1: do not wait (already waited,
 * stopping, too many held requests) — answer now. */
int ks_server_wait_rv(
    struct ks_server *, struct evhttp_request *, uint64_t, long);

#endif /* KS_SERVER_H */
