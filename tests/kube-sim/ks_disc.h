/*
 * ks_disc.h — non-resource paths of the API: /healthz & co., /version,
 * discovery documents and OpenAPI v3.
 */
#ifndef KS_DISC_H
#define KS_DISC_H

struct evhttp_request;
struct ks_server;

/* Answer a GET of a non-resource path (404 Status for unknown ones);
 * -1 if encoding failed and nothing was answered. */
int ks_disc_handle(struct ks_server *, struct evhttp_request *, const char *);
/* 404 `the server could not find the requested resource`. */
void ks_disc_not_found(struct evhttp_request *);

#endif /* KS_DISC_H */
