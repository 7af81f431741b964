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
struct http_parse_error;
struct http_req;
struct ipcc;
struct api;

struct api *api_new(
    struct ipcc *ipcc, struct authz *authz, uint32_t max_replicas);
/* Requests still waiting for the core are dropped without an answer. */
void api_free(struct api *a);
/* struct http_handler's serve and refuse; `arg` is the struct api. */
void api_serve(void *arg, struct http_req *req);
void api_refuse(
    void *arg, struct http_req *req, const struct http_parse_error *e);

#endif /* GW_API_H */
