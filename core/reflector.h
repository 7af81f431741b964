/*
 * reflector.h — keeps the cache equal to the API's Deployments in one
 * namespace, the way client-go's reflector does: a paginated LIST, then a
 * WATCH from the list's resourceVersion with bookmarks and a randomised
 * timeout; a watch that ends is resumed from the last resourceVersion
 * seen; 410 Expired and other failures relist after a capped, jittered
 * exponential backoff that honours Retry-After.
 *
 * The decision of what to do after a watch ends and the backoff arithmetic
 * are pure functions (refl_after_watch, refl_backoff_next) so that the
 * whole policy is unit-tested without a server.
 */
#ifndef REFLECTOR_H
#define REFLECTOR_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct kc;
struct cache;
struct refl;

/* Notifications for the write path (read-your-writes) and health. */
struct refl_hooks {
	/* An object event was applied (ADDED, MODIFIED or DELETED). */
	void (*applied_cb)(void *arg, const char *name, const char *rv);
	/* A complete (re)list, begun at monotonic `list_started_ms`,
	 * replaced the cache. */
	void (*synced_cb)(void *arg, uint64_t list_started_ms);
	void *arg;
};

struct refl_status {
	int synced;              /* a complete list has been applied */
	int watching;            /* a watch stream is open and answered 200 */
	uint64_t last_event_ms;  /* monotonic ms of the last event/list; 0 */
	uint64_t last_api_ok_ms; /* monotonic ms of the last 2xx answer; 0 */
	uint64_t lists;          /* completed lists */
	uint64_t list_failures;
	uint64_t watches;        /* watch requests started */
	uint64_t watch_restarts; /* watches that ended and were resumed */
	uint64_t events;         /* object events applied */
	uint64_t bookmarks;
	uint64_t expired; /* 410 answers or ERROR events */
};

struct refl *refl_new(struct event_base *base, struct kc *kc,
    struct cache *cache, const char *namespace, const struct refl_hooks *hooks);
void refl_free(struct refl *r);
/* Starts listing; 0, or -1 on allocation failure. */
int refl_start(struct refl *r);
void refl_get_status(const struct refl *r, struct refl_status *st);

/* --- policy, pure --- */

enum refl_action {
	REFL_REWATCH,         /* resume from the last RV at once */
	REFL_BACKOFF_REWATCH, /* wait, then resume from the last RV */
	REFL_BACKOFF_RELIST   /* wait, then list again */
};

/* How a watch request ended. */
struct refl_outcome {
	long status;         /* HTTP status of the answer; 0 if none */
	int transport_error; /* connection failed or broke */
	int parse_error;     /* the stream was not valid watch JSON */
	int error_event;     /* Status code of an ERROR event; 0 if none */
	uint64_t events;     /* events received (bookmarks included) */
	uint64_t lasted_ms;  /* from request to end */
};

enum refl_action refl_after_watch(const struct refl_outcome *o);

/* Exponential backoff with jitter, after client-go's backoff manager. */
struct refl_backoff {
	uint64_t base_ms; /* current base; 0 = never used */
	uint64_t last_ms; /* when it was last used */
};

/*
 * Next delay in ms at monotonic time `now_ms`, with `rnd` uniform in
 * [0, 2^32): base 800 ms doubling to 30 s, delay in [base, 2*base), reset
 * to 800 ms when unused for 2 min; never less than `retry_after_s`.
 */
uint64_t refl_backoff_next(struct refl_backoff *b, uint64_t now_ms,
    uint32_t rnd, unsigned retry_after_s);

/* Watch timeoutSeconds in [300, 600) from `rnd`, like client-go's. */
unsigned refl_watch_timeout(uint32_t rnd);

#endif /* REFLECTOR_H */
