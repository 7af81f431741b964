/*
 * listwatch.h — client-go's reflector loop, for any collection the core
 * watches: the Deployments (reflector.c) and the pins ConfigMap
 * (pins_cm.c) today, any resource watched later.
 *
 * The loop: a LIST (paginated when a page limit is set, every page at the
 * first page's snapshot), then a WATCH from the list's resourceVersion
 * with bookmarks and a randomised timeout; a watch that ends is resumed
 * from the last resourceVersion seen; 410 Expired and other failures
 * relist after a capped, jittered exponential backoff that honours
 * Retry-After.  One request at a time: a list page, a watch, or the
 * backoff timer.
 *
 * Resync: besides resuming watches, the loop relists every resync period
 * (jittered by +-LW_RESYNC_JITTER_PCT %; 0 = off), counted from the last
 * completed list: the current watch is dropped and a new list replaces
 * the owner's contents as any relist does.  Watch resumption alone trusts
 * the server's resourceVersions forever: an API server whose etcd was
 * restored can hand back, at the core's last resourceVersion, a history
 * that never mentions the objects the core holds, and the cache would
 * stay wrong indefinitely.  A periodic relist bounds that to one period.
 *
 * What the answers mean is the owner's: it parses them (its own parser,
 * made fresh for each answer in `begin`) and tells the loop what each
 * watch event said (lw_event, lw_error_event).  The decision after a watch
 * and the backoff arithmetic are pure functions, unit-tested without a
 * server.
 */
#ifndef CORE_LISTWATCH_H
#define CORE_LISTWATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/core_limits.h"
#include "core/kube/kjson.h"
#include "proto-socket/ps.h"

struct event_base;
struct kc;
struct kc_result;
struct lw;

/* What an answer is. */
enum lw_req {
	LW_LIST_FIRST, /* the first page of a list: a new snapshot */
	LW_LIST_NEXT,  /* a later page (continue token) */
	LW_WATCH
};

/* What a list page's metadata said. */
struct lw_page {
	char rv[PS_MAX_RV + 1];
	char cont[KJSON_MAX_CONT + 1];
};

struct lw_target {
	/* The collection, e.g. /apis/apps/v1/namespaces/NS/deployments */
	const char *path;
	/* A field selector, percent-encoded (metadata.name%3Dpins), or "" */
	const char *field_selector;
	unsigned page_limit; /* 0: lists are not paginated */
	const char *what;    /* for logs: "deployments", "ConfigMap ns/x" */
};

struct lw_hooks {
	/* An answer starts: make a fresh parser for it.  0, or -1. */
	int (*begin)(void *arg, enum lw_req req);
	/* Bytes of the answer's body.  0, or -1 to abort it. */
	int (*feed)(void *arg, const char *buf, size_t len);
	/* A 200 answer ended (`aborted`: feed refused its bytes): 0, or -1
	 * with *why.  For a list page, fill `page`. */
	int (*finish)(void *arg, enum lw_req req, int aborted,
	    struct lw_page *page, const char **why);
	/* May a list start now?  0: yes.  -1: not now; the owner calls
	 * lw_relist() when it may.  NULL: always. */
	int (*may_list)(void *arg);
	/* All pages of a list were read (begun at monotonic
	 * `started_ms`); the watch from its resourceVersion has started. */
	void (*listed)(void *arg, const char *rv, uint64_t started_ms);
	/* A list failed with HTTP `status` (0: none) and `why` (logged
	 * already); a relist is scheduled.  May be NULL. */
	void (*list_failed)(void *arg, long status, const char *why);
	/* Is this failed list already explained (the owner logged it
	 * once)?  1: the loop logs it at debug level, not warn.  May be
	 * NULL. */
	int (*quiet)(void *arg, long status);
	/* Words added to a failed answer's log line, e.g. the grant the
	 * Role lacks after 401/403.  May be NULL. */
	const char *(*hint)(long status);
	void *arg;
};

struct lw_stats {
	int watching;            /* a watch stream is open and answered 200 */
	uint64_t last_event_ms;  /* monotonic ms of the last event/list; 0 */
	uint64_t last_api_ok_ms; /* monotonic ms of the last 2xx answer; 0 */
	uint64_t lists;          /* completed lists */
	uint64_t list_failures;
	uint64_t watches;        /* watch requests started */
	uint64_t watch_restarts; /* watches that ended and were resumed */
	uint64_t events;         /* object events */
	uint64_t bookmarks;
	uint64_t expired; /* 410 answers or ERROR events */
	uint64_t resyncs; /* relists begun because the resync period elapsed */
	uint64_t resync_due_ms; /* monotonic ms of the next resync; 0: none */
};

/* `t`'s strings are copied.  NULL on allocation failure or a path that
 * does not fit. */
struct lw *lw_new(struct event_base *base, struct kc *kc,
    const struct lw_target *t, const struct lw_hooks *hooks);
void lw_free(struct lw *lw);
/* Starts listing if idle. */
void lw_start(struct lw *lw);
/* Drops what runs (watch, timer) and lists now, unless a list already
 * runs. */
void lw_relist(struct lw *lw);
/* A list is in flight. */
int lw_listing(const struct lw *lw);
/* From the owner's watch parser: an event with resourceVersion `rv`
 * (object or bookmark) was taken; an ERROR event with `code`. */
void lw_event(struct lw *lw, const char *rv, int bookmark);
void lw_error_event(struct lw *lw, int code, const char *message);
const char *lw_last_rv(const struct lw *lw);
void lw_get_stats(const struct lw *lw, struct lw_stats *st);

/*
 * The resync period (ms) of every loop made after this call (main.c sets
 * it from --resync-period before it makes any).  0, the default, is off,
 * so that a program or test that never sets it arms no timer.
 */
void lw_set_default_resync(uint64_t period_ms);
/* This loop's own period, from its next completed list on; 0 turns it
 * off at once. */
void lw_set_resync(struct lw *lw, uint64_t period_ms);

/* --- policy, pure --- */

enum lw_action {
	LW_REWATCH,         /* resume from the last RV at once */
	LW_BACKOFF_REWATCH, /* wait, then resume from the last RV */
	LW_BACKOFF_RELIST   /* wait, then list again */
};

/* How a watch request ended. */
struct lw_outcome {
	long status;         /* HTTP status of the answer; 0 if none */
	int transport_error; /* connection failed or broke */
	int parse_error;     /* the stream was not valid watch JSON */
	int error_event;     /* Status code of an ERROR event; 0 if none */
	uint64_t events;     /* events received (bookmarks included) */
	uint64_t lasted_ms;  /* from request to end */
};

enum lw_action lw_after_watch(const struct lw_outcome *o);

/* Exponential backoff with jitter, after client-go's backoff manager. */
struct lw_backoff {
	uint64_t base_ms; /* current base; 0 = never used */
	uint64_t last_ms; /* when it was last used */
};

/*
 * Next delay in ms at monotonic time `now_ms`, with `rnd` uniform in
 * [0, 2^32): base 800 ms doubling to 30 s, delay in [base, 2*base), reset
 * to 800 ms when unused for 2 min; never less than `retry_after_s`.
 */
uint64_t lw_backoff_next(struct lw_backoff *b, uint64_t now_ms, uint32_t rnd,
    unsigned retry_after_s);

/* Watch timeoutSeconds in [300, 600) from `rnd`, like client-go's. */
unsigned lw_watch_timeout(uint32_t rnd);

/*
 * The delay until the next resync: `period_ms` (capped at
 * LW_RESYNC_MAX_S) scaled by a factor uniform in [1 - J, 1 + J) from
 * `rnd`, J = LW_RESYNC_JITTER_PCT / 100, so that cores started together
 * do not relist together.  0 when `period_ms` is 0 (off).
 */
uint64_t lw_resync_delay(uint64_t period_ms, uint32_t rnd);

#endif /* CORE_LISTWATCH_H */
