/*
 * ks_server.c — the listener and the front door of every request.
 *
 * Order for a request: /_sim/ admin routes (never counted or faulted);
 * otherwise count it, check the bearer token (a bad token is 401 even on
 * /healthz; no token is system:anonymous, which may read only the public
 * info paths), apply an injected fault if one matches, hold it for the
 * configured latency or hang, then hand it to the API handlers.
 * evhttp limits are all set explicitly from ks_limits.h.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tests/kube-sim/ks_admin.h"
#include "tests/kube-sim/ks_api.h"
#include "tests/kube-sim/ks_auth.h"
#include "tests/kube-sim/ks_ctrl.h"
#include "tests/kube-sim/ks_http.h"
#include "tests/kube-sim/ks_limits.h"
#include "tests/kube-sim/ks_server.h"
#include "tests/kube-sim/ks_status.h"
#include "tests/kube-sim/ks_store.h"
#include "tests/kube-sim/ks_watch.h"
#include "tests/kube-sim/log.h"

struct ks_deferred {
	TAILQ_ENTRY(ks_deferred) entry;
	struct ks_server *srv;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct event *ev;
	uint64_t want_rv; /* > 0: a list waiting for this resourceVersion */
	int woken;        /* want_rv arrived before the deadline */
};

static void request_cb(struct evhttp_request *, void *);
static void rv_wake(struct ks_server *);

static void
store_hook(void *arg, const struct ks_event *e)
{
	struct ks_server *srv = arg;

	ks_watch_notify(srv, e);
	rv_wake(srv);
	if (srv->ctrl != NULL)
		ks_ctrl_notify(srv->ctrl, e);
}

static int
add_initial(struct ks_server *srv)
{
	const char *p = srv->cfg.deployments;
	char item[KS_MAX_NAMESPACE + KS_MAX_NAME + 32];
	char ns[KS_MAX_NAMESPACE + 1], name[KS_MAX_NAME + 1];
	size_t len;
	long replicas, i;
	int count = 0;
	time_t now = time(NULL);
	struct ks_obj *o;

	/* `name=N` in --namespace, `ns/name=N` anywhere. */
	while (p != NULL && *p != '\0') {
		len = strcspn(p, ",");
		if (len >= sizeof(item) || ++count > KS_INITIAL_MAX)
			fatalx("--deployments: entry too long or too many");
		memcpy(item, p, len);
		item[len] = '\0';
		p += len + (p[len] == ',');
		if (len == 0)
			continue;
		if (ks_deploy_entry(item, srv->cfg.ns, ns, name, &replicas) !=
		    0)
			fatalx("--deployments: bad entry %s (want "
			       "[NAMESPACE/]NAME[=REPLICAS])",
			    item);
		if ((o = ks_obj_new_deployment(ns, name, replicas, now)) ==
		        NULL ||
		    ks_store_create(srv->store, o, (long long)now) != 0)
			fatalx("--deployments: cannot create %s", item);
	}
	for (i = 1; i <= srv->cfg.generate; i++) {
		snprintf(item, sizeof(item), "gen-%05ld", i);
		if ((o = ks_obj_new_deployment(
		         srv->cfg.ns, item, 1 + i % 5, now)) == NULL ||
		    ks_store_create(srv->store, o, (long long)now) != 0)
			fatalx("--generate: cannot create %s", item);
	}
	return 0;
}

struct ks_server *
ks_server_new(struct event_base *base, const struct ks_config *cfg)
{
	struct ks_server *srv;
	int i;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->cfg = *cfg;
	srv->base = base;
	TAILQ_INIT(&srv->watches);
	TAILQ_INIT(&srv->deferred);
	srv->chunk_mode = cfg->chunk_mode;
	srv->chunk_bytes = cfg->chunk_bytes;
	srv->bookmark_ms = cfg->bookmark_ms;
	if ((srv->store = ks_store_new((size_t)cfg->history)) == NULL ||
	    (srv->auth = ks_auth_new(
	         cfg->token_file, cfg->tokens, cfg->ntokens)) == NULL ||
	    (srv->admin = ks_admin_new()) == NULL ||
	    (srv->ctrl = ks_ctrl_new(
	         srv, cfg->ctrl_delay_ms, cfg->ctrl_step)) == NULL)
		goto fail;
	for (i = 0; i < cfg->ndeny; i++) {
		if (ks_admin_add_deny(srv->admin, cfg->deny[i]) != 0)
			fatalx("--deny %s: want VERB:RESOURCE[/SUB][@[NS]]",
			    cfg->deny[i]);
	}
	add_initial(srv);
	ks_store_set_hook(srv->store, store_hook, srv);
	return srv;
fail:
	ks_server_free(srv);
	return NULL;
}

static struct bufferevent *
tls_bev_cb(struct event_base *base, void *arg)
{
	SSL_CTX *ctx = arg;
	SSL *ssl;
	struct bufferevent *bev;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(
	    base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static SSL_CTX *
tls_ctx(const char *cert, const char *key)
{
	SSL_CTX *ctx;
	unsigned long e;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	return ctx;
fail:
	e = ERR_get_error();
	log_warnx("tls: %s", ERR_error_string(e, NULL));
	SSL_CTX_free(ctx);
	return NULL;
}

int
ks_server_listen(struct ks_server *srv)
{
	struct evhttp_bound_socket *bound;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[64], *colon;
	unsigned long port;
	char *end;
	int fd;

	if (strlen(srv->cfg.listen) >= sizeof(host) ||
	    (colon = strrchr(srv->cfg.listen, ':')) == NULL)
		fatalx("--listen %s: want ADDR:PORT", srv->cfg.listen);
	memcpy(host, srv->cfg.listen, (size_t)(colon - srv->cfg.listen));
	host[colon - srv->cfg.listen] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || port > 65535)
		fatalx("--listen %s: bad port", srv->cfg.listen);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if ((srv->http = evhttp_new(srv->base)) == NULL)
		fatalx("evhttp_new");
	evhttp_set_max_headers_size(srv->http, KS_MAX_HEADERS_SIZE);
	evhttp_set_max_body_size(srv->http, KS_MAX_BODY_HARD);
	evhttp_set_timeout(srv->http, KS_HTTP_TIMEOUT);
	evhttp_set_allowed_methods(srv->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	        EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(srv->http, request_cb, srv);
	if (srv->cfg.tls_cert != NULL) {
		if ((srv->ssl_ctx = tls_ctx(
		         srv->cfg.tls_cert, srv->cfg.tls_key)) == NULL)
			fatalx("cannot load --tls-cert/--tls-key");
		evhttp_set_bevcb(srv->http, tls_bev_cb, srv->ssl_ctx);
	}
	if ((bound = evhttp_bind_socket_with_handle(
	         srv->http, host, (unsigned short)port)) == NULL)
		fatal("bind %s", srv->cfg.listen);
	fd = evhttp_bound_socket_get_fd(bound);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		fatal("getsockname");
	/* Accepted sockets inherit it (Linux): a watch event or an answer
	 * written in pieces must not wait ~40 ms for the client's delayed
	 * ACK (Nagle), as the real API server's do not. */
	{
		int one = 1;

		if (setsockopt(
		        fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
			log_warn("TCP_NODELAY");
	}
	if (ss.ss_family == AF_INET6) {
		char a[INET6_ADDRSTRLEN];
		const struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(srv->url, sizeof(srv->url), "%s://[%s]:%u",
		    srv->ssl_ctx ? "https" : "http", a,
		    (unsigned)ntohs(s6->sin6_port));
	} else {
		char a[INET_ADDRSTRLEN];
		const struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(srv->url, sizeof(srv->url), "%s://%s:%u",
		    srv->ssl_ctx ? "https" : "http", a,
		    (unsigned)ntohs(s4->sin_port));
	}
	return 0;
}

static void
deferred_free(struct ks_deferred *d)
{
	TAILQ_REMOVE(&d->srv->deferred, d, entry);
	d->srv->ndeferred--;
	event_free(d->ev);
	free(d);
}

static void
deferred_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct ks_deferred *d = arg;
	struct evhttp_request *req = d->req;

	(void)evcon;
	deferred_free(d);
	if (evhttp_request_get_connection(req) == NULL)
		evhttp_send_reply_end(req);
}

static void
deferred_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ks_deferred *d = arg;
	struct ks_server *srv = d->srv;
	struct evhttp_request *req = d->req;
	int expired = d->want_rv > 0 && !d->woken;

	(void)fd;
	(void)what;
	evhttp_connection_set_closecb(d->evcon, NULL, NULL);
	deferred_free(d);
	/* A list whose resourceVersion did not come: answered 504 now. */
	if (expired)
		srv->rv_wait_expired = req;
	ks_server_dispatch(srv, req);
	srv->rv_wait_expired = NULL;
}

/* New events: lists waiting for a resourceVersion now reached are run on
 * the next loop turn (never from inside the store's hook). */
static void
rv_wake(struct ks_server *srv)
{
	struct ks_deferred *d;
	struct timeval now = {0, 0};
	uint64_t rv = ks_store_rv(srv->store);

	for (d = TAILQ_FIRST(&srv->deferred); d != NULL;
	     d = TAILQ_NEXT(d, entry)) {
		if (d->want_rv > 0 && !d->woken && d->want_rv <= rv) {
			d->woken = 1;
			evtimer_add(d->ev, &now);
		}
	}
}

static int
defer(struct ks_server *srv, struct evhttp_request *req, long ms)
{
	struct ks_deferred *d;
	struct timeval tv;

	if (srv->ndeferred >= KS_MAX_DEFERRED)
		return -1;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	d->srv = srv;
	d->req = req;
	d->evcon = evhttp_request_get_connection(req);
	if ((d->ev = evtimer_new(srv->base, deferred_cb, d)) == NULL) {
		free(d);
		return -1;
	}
	TAILQ_INSERT_TAIL(&srv->deferred, d, entry);
	srv->ndeferred++;
	evhttp_connection_set_closecb(d->evcon, deferred_close_cb, d);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
	evtimer_add(d->ev, &tv);
	return 0;
}

int
ks_server_wait_rv(
    struct ks_server *srv, struct evhttp_request *req, uint64_t rv, long ms)
{
	struct ks_deferred *d;

	if (srv->stopping || srv->rv_wait_expired == req ||
	    defer(srv, req, ms) != 0)
		return -1;
	d = TAILQ_LAST(&srv->deferred, ks_deferred_list);
	d->want_rv = rv;
	d->woken = 0;
	return 0;
}

/* Authenticated user, or NULL after answering 401/403. */
static const char *
authenticate(
    struct ks_server *srv, struct evhttp_request *req, const struct ks_route *r)
{
	const char *h = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	struct ks_status st;

	if (!ks_auth_enabled(srv->auth))
		return srv->cfg.user;
	if (h != NULL) {
		if (ks_auth_check(srv->auth, h))
			return srv->cfg.user;
		/* A failing credential is never downgraded to anonymous. */
		ks_status_unauthorized(&st);
		ks_http_reply_status(req, &st);
		return NULL;
	}
	if (ks_api_public_path(r->path))
		return "system:anonymous";
	if (r->review != KS_REVIEW_NONE) {
		ks_status_forbidden(&st, "system:anonymous", "create",
		    r->review == KS_REVIEW_SSAR ? "selfsubjectaccessreviews"
		                                : "selfsubjectreviews",
		    "",
		    r->review == KS_REVIEW_SSAR ? "authorization.k8s.io"
		                                : "authentication.k8s.io",
		    "", "");
	} else if (r->resource && r->known) {
		const struct ks_kind_info *ki = ks_kind_info(r->kind);

		ks_status_forbidden(&st, "system:anonymous", r->verb,
		    ki->resource, r->sub, ki->group, r->ns, r->name);
	} else {
		memset(&st, 0, sizeof(st));
		st.code = 403;
		st.reason = "Forbidden";
		st.details = 1;
		snprintf(st.message, sizeof(st.message),
		    "forbidden: User \"system:anonymous\" cannot get path "
		    "\"%.200s\"",
		    r->path);
	}
	ks_http_reply_status(req, &st);
	return NULL;
}

void
ks_server_dispatch(struct ks_server *srv, struct evhttp_request *req)
{
	struct ks_route r;
	const char *user;

	ks_api_route(req, &r);
	if ((user = authenticate(srv, req, &r)) == NULL)
		return;
	ks_api_handle(srv, req, &r, user);
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct ks_server *srv = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct ks_route r;
	struct ks_fault f;
	struct ks_status st;
	char res[96];
	long ms;

	if (path == NULL || path[0] != '/') {
		ks_status_bad_request(&st, "invalid request path");
		ks_http_reply_status(req, &st);
		return;
	}
	if (srv->stopping) {
		ks_status_unavailable(&st, "apiserver is shutting down");
		ks_http_reply_status(req, &st);
		return;
	}
	if (strncmp(path, "/_sim/", 6) == 0) {
		ks_admin_handle(
		    srv, req, path, uri ? evhttp_uri_get_query(uri) : NULL);
		return;
	}
	ks_api_route(req, &r);
	ks_admin_count(srv->admin, r.verb, path);
	if (r.known)
		snprintf(res, sizeof(res), "%s%s%s",
		    ks_kind_info(r.kind)->resource, r.sub[0] ? "/" : "", r.sub);
	else
		res[0] = '\0';
	if (ks_admin_fault(
	        srv->admin, ks_http_method(req), path, r.verb, res, r.ns, &f)) {
		ks_admin_answer_fault(req, &f);
		return;
	}
	if ((ms = ks_admin_delay_ms(srv->admin)) > 0) {
		if (defer(srv, req, ms) == 0)
			return;
		ks_status_unavailable(&st, "too many held requests");
		ks_http_reply_status(req, &st);
		return;
	}
	ks_server_dispatch(srv, req);
}

void
ks_server_stop(struct ks_server *srv)
{
	struct ks_deferred *d;
	struct ks_status st;
	struct evhttp_request *req;

	srv->stopping = 1;
	ks_watch_close_all(srv, 0);
	while ((d = TAILQ_FIRST(&srv->deferred)) != NULL) {
		req = d->req;
		evhttp_connection_set_closecb(d->evcon, NULL, NULL);
		deferred_free(d);
		ks_status_unavailable(&st, "apiserver is shutting down");
		ks_http_reply_status(req, &st);
	}
}

void
ks_server_free(struct ks_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->http != NULL)
		evhttp_free(srv->http);
	ks_ctrl_free(srv->ctrl);
	ks_store_free(srv->store);
	ks_admin_free(srv->admin);
	ks_auth_free(srv->auth);
	if (srv->ssl_ctx != NULL)
		SSL_CTX_free(srv->ssl_ctx);
	free(srv);
}
