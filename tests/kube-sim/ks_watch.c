/*
 * ks_watch.c — watch streaming over evhttp.
 *
 * A watch holds a cursor (the last resourceVersion it has dealt with) and
 * pulls events from the store's history ring, so nothing is queued per
 * watcher: a watcher that falls behind the ring is ended (as the real
 * watch cache drops slow watchers).  Output is paced: a batch of at most
 * KS_WATCH_BATCH_BYTES is handed to evhttp and the next one only after it
 * has drained (evhttp_send_reply_chunk_with_cb), so memory per watch is
 * bounded whatever the client's speed.
 *
 * Framing: each event is compact JSON + "\n".  The chunk mode decides how
 * bytes map to HTTP chunks (pack, line, split, bytes:N); split cuts every
 * event after its first byte, inside its first multi-byte UTF-8
 * sequence, and right before its "\n".
 */
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "tests/kube-sim/ks_http.h"
#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_limits.h"
#include "tests/kube-sim/ks_query.h"
#include "tests/kube-sim/ks_server.h"
#include "tests/kube-sim/ks_status.h"
#include "tests/kube-sim/ks_store.h"
#include "tests/kube-sim/ks_watch.h"
#include "tests/kube-sim/log.h"

#define MAX_LINES 4096 /* events per flush */

struct ks_watch {
	TAILQ_ENTRY(ks_watch) entry;
	struct ks_server *srv;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	enum ks_kind kind;
	char ns[KS_MAX_NAMESPACE + 1];
	int has_labels;
	struct ks_selector labels;
	int has_fields;
	struct ks_selector fields;
	uint64_t cursor;
	struct ks_obj **initial;
	size_t ninitial;
	size_t ipos;
	int bookmarks;
	int initial_end; /* send the initial-events-end bookmark */
	int bookmark_due;
	int in_flight;
	int ending;
	uint64_t want_rv; /* > 0: waiting for a future resourceVersion */
	struct event *flush_ev;
	struct event *deadline_ev;
	struct event *bookmark_ev;
	struct event *last_bookmark_ev;
	struct event *too_large_ev;
	int table; /* events carry a one-row Table (as=Table) */
	enum ks_table_include inc;
};

enum watch_end {
	END_CLEAN,
	END_ABRUPT,
	END_GONE /* the client left; evhttp is freeing the connection */
};

static void watch_end(struct ks_watch *, enum watch_end);
static void flush_cb(evutil_socket_t, short, void *);
static void schedule_flush(struct ks_watch *);

static int
matches(const struct ks_watch *w, const struct ks_obj *o)
{
	if (o == NULL || o->kind != w->kind)
		return 0;
	if (w->ns[0] != '\0' && strcmp(w->ns, o->ns) != 0)
		return 0;
	if (w->has_fields &&
	    !ks_selector_match_fields(&w->fields, o->ns, o->name))
		return 0;
	if (w->has_labels &&
	    !ks_selector_match_labels(&w->labels, ks_obj_labels(o)))
		return 0;
	return 1;
}

static void
free_watch(struct ks_watch *w)
{
	size_t i;

	TAILQ_REMOVE(&w->srv->watches, w, entry);
	w->srv->nwatches--;
	if (w->flush_ev)
		event_free(w->flush_ev);
	if (w->deadline_ev)
		event_free(w->deadline_ev);
	if (w->bookmark_ev)
		event_free(w->bookmark_ev);
	if (w->last_bookmark_ev)
		event_free(w->last_bookmark_ev);
	if (w->too_large_ev)
		event_free(w->too_large_ev);
	for (i = w->ipos; i < w->ninitial; i++)
		ks_obj_unref(w->initial[i]);
	free(w->initial);
	ks_selector_clear(&w->labels);
	ks_selector_clear(&w->fields);
	free(w);
}

static void
close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct ks_watch *w = arg;

	(void)evcon;
	log_debug("watch: client closed the connection");
	watch_end(w, END_GONE);
}

static void
watch_end(struct ks_watch *w, enum watch_end how)
{
	struct evhttp_request *req = w->req;
	struct evhttp_connection *evcon = w->evcon;

	evhttp_connection_set_closecb(evcon, NULL, NULL);
	free_watch(w);
	switch (how) {
	case END_CLEAN:
		/* Terminating chunk: a clean EOF for the client. */
		evhttp_send_reply_end(req);
		break;
	case END_ABRUPT:
		/* No terminating chunk: the client sees a broken stream. */
		evhttp_connection_free(evcon);
		break;
	case END_GONE:
		/* A request evhttp detached from its dead connection is
		 * ours to free; reply_end does that when evcon is NULL. */
		if (evhttp_request_get_connection(req) == NULL)
			evhttp_send_reply_end(req);
		break;
	}
}

/* Append a generated line (JSON + "\n") and remember where it ends. */
static int
add_gen_line(struct evbuffer *out, yajl_gen g)
{
	const unsigned char *buf;
	size_t len;

	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
		return -1;
	if (evbuffer_add(out, buf, len) != 0 || evbuffer_add(out, "\n", 1))
		return -1;
	return 0;
}

static int
add_bookmark(struct ks_watch *w, struct evbuffer *out, int initial_end)
{
	yajl_gen g;
	int r = -1;

	if ((g = ks_gen_new()) == NULL)
		return -1;
	if (yajl_gen_map_open(g) == yajl_gen_status_ok &&
	    ks_gen_kstr(g, "type", "BOOKMARK") == 0 &&
	    ks_gen_str(g, "object") == 0 &&
	    ks_obj_gen_bookmark(g, w->kind, w->cursor, initial_end) == 0 &&
	    yajl_gen_map_close(g) == yajl_gen_status_ok)
		r = add_gen_line(out, g);
	yajl_gen_free(g);
	return r;
}

static int
add_error(struct evbuffer *out, const struct ks_status *st)
{
	yajl_gen g;
	int r = -1;

	if ((g = ks_gen_new()) == NULL)
		return -1;
	if (yajl_gen_map_open(g) == yajl_gen_status_ok &&
	    ks_gen_kstr(g, "type", "ERROR") == 0 &&
	    ks_gen_str(g, "object") == 0 && ks_status_gen(g, st) == 0 &&
	    yajl_gen_map_close(g) == yajl_gen_status_ok)
		r = add_gen_line(out, g);
	yajl_gen_free(g);
	return r;
}

static int
add_obj_line(struct ks_watch *w, struct evbuffer *out, const struct ks_obj *o,
    const char *type)
{
	yajl_gen g;
	int r = -1;

	if (!w->table) {
		char *line;
		size_t len;

		if ((line = ks_obj_event_line(o, type, &len)) == NULL)
			return -1;
		r = evbuffer_add(out, line, len);
		free(line);
		return r;
	}
	/* as=Table: each event's object is a Table of one row. */
	if ((g = ks_gen_new()) == NULL)
		return -1;
	if (yajl_gen_map_open(g) == yajl_gen_status_ok &&
	    ks_gen_kstr(g, "type", type) == 0 && ks_gen_str(g, "object") == 0 &&
	    ks_table_open(g) == 0 && ks_gen_str(g, "metadata") == 0 &&
	    yajl_gen_map_open(g) == yajl_gen_status_ok &&
	    yajl_gen_map_close(g) == yajl_gen_status_ok &&
	    ks_table_columns(g, o->kind) == 0 &&
	    ks_table_row(g, o, w->inc, time(NULL)) == 0 &&
	    yajl_gen_array_close(g) == yajl_gen_status_ok &&
	    yajl_gen_map_close(g) == yajl_gen_status_ok &&
	    yajl_gen_map_close(g) == yajl_gen_status_ok)
		r = add_gen_line(out, g);
	yajl_gen_free(g);
	return r;
}

/* The line(s) this watcher gets for a history event (filters and label
 * transitions applied: leaving the selector is DELETED, entering ADDED). */
static int
add_event(struct ks_watch *w, struct evbuffer *out, const struct ks_event *e)
{
	struct ks_store *s = w->srv->store;
	const char *line;
	size_t len;
	int now, before;

	now = matches(w, e->obj);
	before = e->type == KS_EV_MODIFIED ? matches(w, e->prev) : now;
	if (!now && !before)
		return 0;
	if (now == before && w->table)
		return add_obj_line(w, out, e->obj,
		    e->type == KS_EV_ADDED         ? "ADDED"
		        : e->type == KS_EV_DELETED ? "DELETED"
		                                   : "MODIFIED");
	if (now == before) {
		if ((line = ks_store_event_line(s, e, &len)) == NULL)
			return -1;
		return evbuffer_add(out, line, len);
	}
	if (now)
		return add_obj_line(w, out, e->obj, "ADDED");
	{
		/* Left the selector: its previous state, at this rv. */
		struct ks_obj *gone = ks_obj_clone(e->prev);
		char rv[32];
		int r = -1;

		if (gone != NULL) {
			snprintf(
			    rv, sizeof(rv), "%llu", (unsigned long long)e->rv);
			if (ks_json_set_str(ks_json_get(gone->doc, "metadata"),
			        "resourceVersion", rv) == 0 &&
			    ks_obj_refresh(gone) == 0)
				r = add_obj_line(w, out, gone, "DELETED");
			ks_obj_unref(gone);
		}
		return r;
	}
}

static void
write_done_cb(struct evhttp_connection *evcon, void *arg)
{
	struct ks_watch *w = arg;

	(void)evcon;
	w->in_flight = 0;
	schedule_flush(w);
}

/* Split points inside one line for KS_CHUNK_SPLIT, ascending. */
static int
split_points(const unsigned char *p, size_t len, size_t *cuts)
{
	size_t c[3], i, j, t;
	int n = 0, k;

	c[n++] = 1;
	for (i = 0; i < len; i++) {
		if (p[i] >= 0xc0) {
			c[n++] = i + 1; /* inside a multi-byte sequence */
			break;
		}
	}
	c[n++] = len - 1; /* right before the "\n" */
	for (i = 0; i < (size_t)n; i++) {
		for (j = i + 1; j < (size_t)n; j++) {
			if (c[j] < c[i]) {
				t = c[i];
				c[i] = c[j];
				c[j] = t;
			}
		}
	}
	k = 0;
	for (i = 0; i < (size_t)n; i++) {
		if (c[i] == 0 || c[i] >= len || (k > 0 && cuts[k - 1] == c[i]))
			continue;
		cuts[k++] = c[i];
	}
	return k;
}

/* Hand the batch to evhttp as chunks; the last one reports the drain. */
static void
send_batch(
    struct ks_watch *w, struct evbuffer *out, const size_t *lens, size_t nlines)
{
	struct evbuffer *piece;
	size_t i, off, cuts[3];
	long n;
	int k, j;

	if ((piece = evbuffer_new()) == NULL)
		return;
	switch (w->srv->chunk_mode) {
	case KS_CHUNK_PACK:
		break;
	case KS_CHUNK_LINE:
		for (i = 0; i + 1 < nlines; i++) {
			evbuffer_remove_buffer(out, piece, lens[i]);
			evhttp_send_reply_chunk(w->req, piece);
		}
		break;
	case KS_CHUNK_SPLIT:
		for (i = 0; i < nlines; i++) {
			const unsigned char *p =
			    evbuffer_pullup(out, (ev_ssize_t)lens[i]);

			if (p == NULL)
				break;
			k = split_points(p, lens[i], cuts);
			off = 0;
			for (j = 0; j < k; j++) {
				evbuffer_remove_buffer(
				    out, piece, cuts[j] - off);
				evhttp_send_reply_chunk(w->req, piece);
				off = cuts[j];
			}
			if (i + 1 < nlines) {
				evbuffer_remove_buffer(
				    out, piece, lens[i] - off);
				evhttp_send_reply_chunk(w->req, piece);
			}
		}
		break;
	case KS_CHUNK_BYTES:
		n = w->srv->chunk_bytes > 0 ? w->srv->chunk_bytes : 1;
		while (evbuffer_get_length(out) > (size_t)n) {
			evbuffer_remove_buffer(out, piece, (size_t)n);
			evhttp_send_reply_chunk(w->req, piece);
		}
		break;
	}
	evbuffer_free(piece);
	if (evbuffer_get_length(out) > 0) {
		w->in_flight = 1;
		evhttp_send_reply_chunk_with_cb(w->req, out, write_done_cb, w);
	}
}

static void
flush(struct ks_watch *w)
{
	struct ks_store *s = w->srv->store;
	const struct ks_event *e;
	struct evbuffer *out;
	size_t lens[MAX_LINES], nlines = 0, before;
	int fell_behind = 0;

	if (w->in_flight || w->ending || w->want_rv > 0)
		return;
	if ((out = evbuffer_new()) == NULL)
		return;
#define MARK()                                          \
	do {                                            \
		size_t now_ = evbuffer_get_length(out); \
		if (now_ > before)                      \
			lens[nlines++] = now_ - before; \
	} while (0)
	while (w->ipos < w->ninitial &&
	    evbuffer_get_length(out) < KS_WATCH_BATCH_BYTES &&
	    nlines < MAX_LINES) {
		before = evbuffer_get_length(out);
		add_obj_line(w, out, w->initial[w->ipos], "ADDED");
		ks_obj_unref(w->initial[w->ipos]);
		w->initial[w->ipos++] = NULL;
		MARK();
	}
	if (w->ipos == w->ninitial) {
		if (w->initial_end && nlines < MAX_LINES) {
			before = evbuffer_get_length(out);
			add_bookmark(w, out, 1);
			MARK();
			w->initial_end = 0;
		}
		/* Resumed from before an admin restore: the swap has no
		 * events (as after an etcd restore), go on after it. */
		w->cursor = ks_store_resume_at(s, w->cursor);
		while (w->cursor < ks_store_rv(s) &&
		    evbuffer_get_length(out) < KS_WATCH_BATCH_BYTES &&
		    nlines < MAX_LINES) {
			if ((e = ks_store_event(s, w->cursor + 1)) == NULL) {
				fell_behind = 1;
				break;
			}
			w->cursor = e->rv;
			before = evbuffer_get_length(out);
			add_event(w, out, e);
			MARK();
		}
		if (w->bookmark_due && w->cursor == ks_store_rv(s) &&
		    nlines < MAX_LINES) {
			before = evbuffer_get_length(out);
			add_bookmark(w, out, 0);
			MARK();
			w->bookmark_due = 0;
		}
	}
#undef MARK
	if (nlines > 0)
		send_batch(w, out, lens, nlines);
	evbuffer_free(out);
	if (fell_behind) {
		log_info("watch: consumer fell behind the history window; "
		         "ending it");
		watch_end(w, END_CLEAN);
	}
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush(arg);
}

static void
schedule_flush(struct ks_watch *w)
{
	if (!w->in_flight)
		event_active(w->flush_ev, EV_TIMEOUT, 0);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ks_watch *w = arg;

	(void)fd;
	(void)what;
	log_debug("watch: timeoutSeconds reached");
	watch_end(w, END_CLEAN);
}

static void
bookmark_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ks_watch *w = arg;

	(void)fd;
	(void)what;
	w->bookmark_due = 1;
	schedule_flush(w);
}

/* A 200 stream holding one ERROR event, then a clean end. */
static void
send_error_stream(struct evhttp_request *req, const struct ks_status *st)
{
	struct evbuffer *out;

	ks_http_headers(req, "application/json");
	ks_http_log(req, 200);
	evhttp_send_reply_start(req, 200, "OK");
	if ((out = evbuffer_new()) != NULL) {
		add_error(out, st);
		evhttp_send_reply_chunk(req, out);
		evbuffer_free(out);
	}
	evhttp_send_reply_end(req);
}

static void
too_large_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ks_watch *w = arg;
	struct ks_status st;
	struct evbuffer *out;

	(void)fd;
	(void)what;
	if (ks_store_rv(w->srv->store) >= w->want_rv) {
		w->want_rv = 0;
		schedule_flush(w);
		return;
	}
	ks_status_rv_too_large(&st, (unsigned long long)w->want_rv,
	    (unsigned long long)ks_store_rv(w->srv->store));
	if ((out = evbuffer_new()) != NULL) {
		add_error(out, &st);
		evhttp_send_reply_chunk(w->req, out);
		evbuffer_free(out);
	}
	watch_end(w, END_CLEAN);
}

static int
snapshot(struct ks_watch *w)
{
	struct ks_store *s = w->srv->store;
	size_t i, n, cap = 0;
	struct ks_obj *o, **nv;

	i = w->ns[0] ? ks_store_lower_bound(s, w->kind, w->ns, "") : 0;
	n = ks_store_count(s, w->kind);
	for (; i < n; i++) {
		o = ks_store_at(s, w->kind, i);
		if (w->ns[0] && strcmp(o->ns, w->ns) != 0)
			break;
		if (!matches(w, o))
			continue;
		if (w->ninitial == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = reallocarray(w->initial, cap, sizeof(*nv))) ==
			    NULL)
				return -1;
			w->initial = nv;
		}
		w->initial[w->ninitial++] = ks_obj_ref(o);
	}
	return 0;
}

void
ks_watch_start(struct ks_server *srv, struct evhttp_request *req,
    enum ks_kind kind, const char *ns, struct ks_query *q, int table,
    enum ks_table_include inc)
{
	struct ks_store *s = srv->store;
	struct ks_watch *w = NULL;
	struct ks_status st;
	struct timeval tv;
	uint64_t cur = ks_store_rv(s), oldest = ks_store_oldest(s);
	long long timeout;
	int initial;
	char msg[128];

	if (srv->nwatches >= KS_WATCH_MAX) {
		ks_status_unavailable(&st, "too many watches");
		st.retry_after = 1;
		ks_http_reply_status(req, &st);
		return;
	}
	/* RV unset/"0": state first; sendInitialEvents decides explicitly. */
	initial = q->sie == 1 || (q->sie == -1 && (!q->has_rv || q->rv == 0));
	if (!initial && q->has_rv && q->rv != 0 && q->rv < oldest) {
		snprintf(msg, sizeof(msg),
		    "too old resource version: %llu (%llu)",
		    (unsigned long long)q->rv, (unsigned long long)oldest);
		ks_status_expired(&st, msg);
		send_error_stream(req, &st);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		goto nomem;
	w->srv = srv;
	w->req = req;
	w->evcon = evhttp_request_get_connection(req);
	w->kind = kind;
	snprintf(w->ns, sizeof(w->ns), "%s", ns);
	w->has_labels = q->has_labels;
	w->labels = q->labels;
	memset(&q->labels, 0, sizeof(q->labels));
	w->has_fields = q->has_fields;
	w->fields = q->fields;
	memset(&q->fields, 0, sizeof(q->fields));
	w->bookmarks = q->bookmarks;
	w->table = table;
	w->inc = inc;
	TAILQ_INSERT_TAIL(&srv->watches, w, entry);
	srv->nwatches++;
	if (initial) {
		w->cursor = cur;
		if (snapshot(w) != 0)
			goto nomem_linked;
		w->initial_end = q->sie == 1 && w->bookmarks;
	} else {
		w->cursor = q->rv;
		if (q->rv > cur)
			w->want_rv = q->rv;
	}
	if ((w->flush_ev = event_new(srv->base, -1, 0, flush_cb, w)) == NULL ||
	    (w->deadline_ev = evtimer_new(srv->base, deadline_cb, w)) == NULL ||
	    (w->bookmark_ev = event_new(
	         srv->base, -1, EV_PERSIST, bookmark_cb, w)) == NULL ||
	    (w->last_bookmark_ev = evtimer_new(srv->base, bookmark_cb, w)) ==
	        NULL ||
	    (w->too_large_ev = evtimer_new(srv->base, too_large_cb, w)) == NULL)
		goto nomem_linked;

	timeout = q->has_timeout
	    ? q->timeout
	    : KS_WATCH_TIMEOUT_MIN_DEF + random() % KS_WATCH_TIMEOUT_SPAN_DEF;
	if (timeout > 100000000)
		timeout = 100000000;
	tv.tv_sec = (time_t)timeout;
	tv.tv_usec = 0;
	evtimer_add(w->deadline_ev, &tv);
	if (w->bookmarks) {
		tv.tv_sec = srv->bookmark_ms / 1000;
		tv.tv_usec = (suseconds_t)(srv->bookmark_ms % 1000 * 1000);
		event_add(w->bookmark_ev, &tv);
		/* One more ~2 s before the deadline, so a client can resume
		 * at timeout without replay. */
		if (timeout * 1000 > KS_BOOKMARK_BEFORE_END_MS) {
			long long ms =
			    timeout * 1000 - KS_BOOKMARK_BEFORE_END_MS;

			tv.tv_sec = (time_t)(ms / 1000);
			tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
			evtimer_add(w->last_bookmark_ev, &tv);
		}
	}
	if (w->want_rv > 0) {
		tv.tv_sec = KS_RV_TOO_LARGE_WAIT_MS / 1000;
		tv.tv_usec = KS_RV_TOO_LARGE_WAIT_MS % 1000 * 1000;
		evtimer_add(w->too_large_ev, &tv);
	}
	/* Idle watches must outlive the connection timeout. */
	evhttp_connection_set_timeout(
	    w->evcon, (int)(timeout + 60 > 2000000 ? 2000000 : timeout + 60));
	evhttp_connection_set_closecb(w->evcon, close_cb, w);
	/* Head first: 200 and headers flushed before any event. */
	ks_http_headers(req, "application/json");
	ks_http_log(req, 200);
	evhttp_send_reply_start(req, 200, "OK");
	schedule_flush(w);
	return;
nomem_linked:
	free_watch(w);
nomem:
	ks_status_internal(&st, "out of memory");
	ks_http_reply_status(req, &st);
}

void
ks_watch_notify(struct ks_server *srv, const struct ks_event *e)
{
	struct ks_watch *w;

	(void)e;
	for (w = TAILQ_FIRST(&srv->watches); w != NULL;
	     w = TAILQ_NEXT(w, entry)) {
		if (w->ipos == w->ninitial)
			schedule_flush(w);
	}
}

int
ks_watch_close_all(struct ks_server *srv, int abrupt)
{
	struct ks_watch *w;
	int n = 0;

	while ((w = TAILQ_FIRST(&srv->watches)) != NULL) {
		watch_end(w, abrupt ? END_ABRUPT : END_CLEAN);
		n++;
	}
	return n;
}
