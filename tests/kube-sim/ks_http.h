/*
 * ks_http.h — answering evhttp requests the way the API server does:
 * JSON bodies from yajl_gen, Status errors, plain text, common headers
 * (Audit-Id, Cache-Control, X-Kubernetes-Pf-*), and one access log line.
 */
#ifndef KS_HTTP_H
#define KS_HTTP_H

#include <yajl/yajl_gen.h>

struct evhttp_request;
struct ks_status;

const char *ks_http_reason(int);
const char *ks_http_method(const struct evhttp_request *);
void ks_http_headers(struct evhttp_request *, const char *);
void ks_http_reply_gen(struct evhttp_request *, int, yajl_gen);
void ks_http_reply_status(struct evhttp_request *, const struct ks_status *);
void ks_http_reply_text(struct evhttp_request *, int, const char *);
void ks_http_log(const struct evhttp_request *, int);

#endif /* KS_HTTP_H */
