/*
 * api.h — the REST API on the mutual-TLS listener (DESIGN.md "HTTP API").
 *
 * Order of checks for every request: TLS identity (401) -> route (404) ->
 * method (405 + Allow) -> authorization (403) -> {name} (400) -> body:
 * Content-Type (415), length known (411), size (413), JSON (400) -> the
 * core.  A rejected request never reaches the core.
 */
#ifndef GW_API_H
#define GW_API_H

#include <stdint.h>

struct authz;
struct evhttp_request;
struct ipcc;
struct api;

struct api *api_new(
    struct ipcc *ipcc, struct authz *authz, uint32_t max_replicas);
/* Requests still waiting for the core are dropped without an answer. */
void api_free(struct api *a);
/* The evhttp generic callback; `arg` is the struct api. */
void api_handle_cb(struct evhttp_request *req, void *arg);
/* Answers with Connection: close from now on. */
void api_set_draining(struct api *a);
/* Requests accepted and not yet answered. */
int api_inflight(const struct api *a);

#endif /* GW_API_H */
