/*
 * kclient.h — the core's HTTP client for the Kubernetes API: libcurl's
 * multi interface driven by the core's libevent loop (one event per
 * socket, one timer; nothing blocks the loop), the ServiceAccount token,
 * and per-request bounds.
 *
 * It knows nothing of Deployments: callers pass a path (built by them from
 * validated fields) and get the body streamed to a callback when the
 * status is 2xx, or a parsed Status (kjson) otherwise.  The token is held
 * in one buffer, re-read from its file when the file changes and after a
 * 401 (once per request), wiped when replaced, and never logged.
 */
#ifndef KCLIENT_H
#define KCLIENT_H

#include <stddef.h>

#include "core/kube/kjson.h"

struct event_base;
struct kc;
struct kc_req;

struct kc_config {
	const char *api_url;    /* https://h:p, http://h:p or unix:/path */
	const char *token_file; /* NULL: no Authorization header */
	const char *ca_file;    /* NULL: the system's CAs (https only) */
};

enum kc_verb {
	KC_GET,
	KC_LIST,
	KC_WATCH,
	KC_PATCH,
	KC_PUT,
	KC_POST,
	KC_VERB_MAX
};

/* What became of a request. */
struct kc_result {
	long status;          /* HTTP status; 0 if none arrived */
	int transport_error;  /* 1: connection/TLS/timeout, see `error` */
	int timed_out;        /* the transport error was a timeout */
	int aborted;          /* the data callback refused the body */
	unsigned retry_after; /* Retry-After seconds (0: none), capped */
	const char *error;    /* one line, no secrets; "" when none */
	/* Non-2xx with a Status body: its code/reason/message; else NULL. */
	const struct kjson_obj *status_obj;
};

/* 2xx body bytes as they arrive; return -1 to abort the transfer. */
typedef int (*kc_data_cb)(void *arg, const char *buf, size_t len);
/* Called once per request, outside curl's callbacks (may start others). */
typedef void (*kc_done_cb)(void *arg, const struct kc_result *res);

struct kc *kc_new(struct event_base *base, const struct kc_config *cfg);
void kc_free(struct kc *kc);

/*
 * Starts a request for `path` ("/apis/...", with query).  KC_WATCH has no
 * overall timeout (the server ends it; a stall detector cuts it when
 * nothing at all arrives for a while); the others have one.  `body` is
 * copied.  NULL on failure (logged).  The handle is valid until done_cb
 * returns or kc_cancel() is called.
 */
struct kc_req *kc_start(struct kc *kc, enum kc_verb verb, const char *path,
    const char *content_type, const char *body, size_t body_len,
    kc_data_cb data_cb, kc_done_cb done_cb, void *arg);
/* Stops a request; its done_cb is not called.  Not from within data_cb. */
void kc_cancel(struct kc_req *req);

/* HTTP status of a request in progress; 0 before its headers arrive. */
long kc_req_status(const struct kc_req *req);

/* Re-reads the token file now if it changed; 0 ok, -1 unreadable. */
int kc_reload_token(struct kc *kc);

/* Counters for /metrics: requests by verb and HTTP status (0: none). */
typedef void (*kc_stat_cb)(
    void *arg, enum kc_verb verb, long status, unsigned long long count);
void kc_stats(const struct kc *kc, kc_stat_cb cb, void *arg);
const char *kc_verb_name(enum kc_verb verb);

#endif /* KCLIENT_H */
