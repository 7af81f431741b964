/*
 * conn.h — one struct per TLS client connection, created in evhttp's
 * bevcb together with the connection's SSL and freed when OpenSSL frees
 * that SSL (ex_data free callback), so it lives exactly as long as the
 * connection.  It enforces what evhttp 2.1 cannot:
 *  - max connections: at the limit the listener is paused, so further
 *    clients wait in the kernel backlog, and resumed when one closes;
 *  - a whole-request deadline: from accept (or the end of the previous
 *    response) the client has `request_deadline` seconds to deliver a
 *    complete request, however slowly it trickles bytes (slowloris); when
 *    it fires the socket is shut down and evhttp frees the connection.
 */
#ifndef GW_CONN_H
#define GW_CONN_H

#include <openssl/ssl.h>

struct bufferevent;
struct event_base;
struct evconnlistener;
struct evhttp_request;
struct tlsctx;
struct conn;
struct conn_server;

struct conn_server *conn_server_new(struct event_base *base, struct tlsctx *tls,
    int max_connections, int request_deadline);
/*
 * Call after evhttp_free().  Connections whose SSL libevent frees later
 * (in event_base_free()) still refer to the server: it is then freed by
 * the last of them.
 */
void conn_server_free(struct conn_server *s);
void conn_server_set_listener(struct conn_server *s, struct evconnlistener *l);
/* Stop accepting for good (SIGTERM). */
void conn_server_drain(struct conn_server *s);
int conn_server_count(const struct conn_server *s);

/* For evhttp_set_bevcb(http, conn_bevcb, server). */
struct bufferevent *conn_bevcb(struct event_base *base, void *arg);

/* The connection a request arrived on; NULL if it is not one of ours. */
struct conn *conn_of_request(struct evhttp_request *req);
SSL *conn_ssl(const struct conn *c);
const char *conn_peer(const struct conn *c);
/* A request is being served: the deadline waits until it completes. */
void conn_request_begin(struct conn *c, struct evhttp_request *req);

#endif /* GW_CONN_H */
