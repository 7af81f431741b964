/*
 * ks_watch.h — watch streams: 200 + chunked body, one JSON event per
 * line, resume from a resourceVersion out of the store's history, 410 as
 * an ERROR event, bookmarks, clean end at timeoutSeconds, and the
 * configurable chunk framing used to test clients' line splitting.
 */
#ifndef KS_WATCH_H
#define KS_WATCH_H

#include "tests/kube-sim/ks_obj.h"
#include "tests/kube-sim/ks_table.h"

struct evhttp_request;
struct ks_event;
struct ks_query;
struct ks_server;

/* Takes over req (and q's selectors).  ns "" watches all namespaces.
 * table: every event's object is a one-row Table (Accept as=Table). */
void ks_watch_start(struct ks_server *, struct evhttp_request *, enum ks_kind,
    const char *, struct ks_query *, int, enum ks_table_include);
/* Store hook: new events are in history; schedule flushes. */
void ks_watch_notify(struct ks_server *, const struct ks_event *);
/* End every watch: clean (terminating chunk) or abrupt (TCP close).
 * Returns how many were ended. */
int ks_watch_close_all(struct ks_server *, int);

#endif /* KS_WATCH_H */
