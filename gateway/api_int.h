/*
 * api_int.h — what api.c (routing, validation, authorization, the
 * request's life) shares with api_answer.c (the core's answer as HTTP),
 * and no one else.  api.h stays the public interface.
 */
#ifndef GW_API_INT_H
#define GW_API_INT_H

#include <sys/queue.h>

#include <stdint.h>

#include "gateway/body.h"
#include "gateway/http_parse.h"
#include "gateway/reply.h"
#include "proto-socket/ps.h"

struct authz;
struct authz_id;
struct http_req;
struct ipcc;
struct ipcc_answer;
struct ipcc_req;

/*
 * One request, from api_serve() until its answer is sent (api_req_done).
 * While it waits for the core it holds the connection's struct http_req;
 * api.c's abort callback frees it when the connection goes first.
 */
struct api_req {
	TAILQ_ENTRY(api_req) link;
	struct api *api;
	struct ipcc_req *core;
	struct reply_ctx rc;
	unsigned method;
	char ns[PS_MAX_NAMESPACE + 1]; /* "": every namespace (PIN_LIST) */
	int filter;                    /* PIN_LIST: only readable namespaces */
	char name[PS_MAX_NAME + 1];
	uint32_t replicas;
	const char *identity; /* the connection's, while it lives */
	/* Issue #14: the write's mode and conditions. */
	struct body_write body;       /* POST/PUT: what the body said */
	int dry_run;                  /* ?dryRun=true|All */
	enum http_if_match ifm;       /* HIM_NONE, HIM_ANY or HIM_STRONG */
	char if_match[PS_MAX_RV + 1]; /* HIM_STRONG: the resourceVersion */
};

TAILQ_HEAD(api_req_list, api_req);

struct api {
	struct ipcc *ipcc;
	struct authz *authz;
	uint32_t max_replicas;
	struct api_req_list reqs;
};

/* api.c.  api_req_done frees `r` once it is answered; api_fail and
 * api_fail_retry answer with an error, then free it.  `r` is gone after
 * each. */
void api_req_done(struct api_req *r);
void api_fail(
    struct api_req *r, int status, const char *reason, const char *msg);
/* With Retry-After: `retry_after` seconds, GW_RETRY_AFTER_DEFAULT for 0. */
void api_fail_retry(struct api_req *r, int status, const char *reason,
    const char *msg, uint32_t retry_after);
/* The client's names again, from its certificate; NULL when out of
 * memory or unusable.  The caller frees it. */
struct authz_id *api_peer_id(struct http_req *req);

/* api_answer.c: the ipc_client callback of every core request; answers
 * and frees `arg`, the struct api_req. */
void api_answer_cb(const struct ipcc_answer *a, void *arg);

#endif /* GW_API_INT_H */
