/*
 * pins_cm_int.h — private to pins_cm.c (the ConfigMap read into memory:
 * list+watch, states) and pins_cm_write.c (the queue of changes and their
 * read-modify-write): the object both work on and what each calls of the
 * other.  Nothing else includes it; the interface is pins_cm.h.
 */
#ifndef CORE_PINS_CM_INT_H
#define CORE_PINS_CM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/pins/cmjson.h"
#include "core/core_limits.h"
#include "core/pins/pin_set.h"
#include "core/pins/pins_cm.h"
#include "proto-socket/ps.h"

struct event;
struct event_base;
struct kc;
struct kc_req;
struct lw;

/* One state of the ConfigMap, as read from the API. */
struct cm_read {
	int exists;
	char rv[PS_MAX_RV + 1];
	struct pin_set *set; /* NULL when the document is invalid */
	int invalid;
	char why[192];
	size_t other_keys;
};

struct pins_cm_op {
	struct pins_cm *cm;
	struct pins_cm_op *next; /* cm's queue */
	char namespace[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
	struct pin_change change;
	pins_done_cb done;
	void *arg;
	unsigned attempts;   /* writes made */
	unsigned conflicts;  /* of which 409 (or 404) */
	struct event *pause; /* before a re-read after a conflict */
	struct cm_read b;    /* the base: b.set is NULL for memory */
	int post;
	struct kc_req *req;
	struct cmjson *cj;
	struct pins_result res;
};

struct pins_cm {
	struct event_base *base;
	struct kc *kc;
	struct pins_cm_hooks hooks;
	char namespace[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
	char where[PS_MAX_NAMESPACE + PS_MAX_NAME + 16];
	const struct pin_set_cfg *set; /* served namespaces, bounds */
	/* The ConfigMap as memory holds it. */
	int exists;
	char rv[PS_MAX_RV + 1];
	int invalid; /* its document does not parse: memory has the last
	              * good one */
	char invalid_why[192];
	int warned_other_keys;
	int loaded;
	char not_loaded[384];
	/* List and watch (listwatch.c). */
	struct lw *lw;
	struct cmjson *cj; /* the parser of the answer in progress */
	struct cm_read l;  /* the list being read */
	size_t l_items;
	int relist_wanted; /* a relist waits for the write in flight */
	/* This core's last write, until the watch brings it. */
	char own_rv[PS_MAX_RV + 1];
	struct event *ryw_timer;
	char seen[PINS_CM_SEEN][PS_MAX_RV + 1];
	size_t seen_next;
	/* Changes: FIFO, the head in flight while op_running. */
	struct pins_cm_op *q_head, *q_tail;
	size_t queued;
	int op_running;
	int kicking;
	struct pins_cm_stats stats;
};

/* --- pins_cm.c --- */

void cm_read_clear(struct cm_read *r);
/* No ConfigMap: no pins.  0, or -1 when out of memory. */
int cm_read_absent(struct cm_read *r);
/* A ConfigMap the API showed (validated by cmjson); a document that does
 * not parse is a state too (r->invalid).  0, or -1 when out of memory. */
int cm_read_object(
    const struct pins_cm *cm, const struct cmjson_cm *o, struct cm_read *r);
int cm_same_object(const struct pins_cm *cm, const struct cmjson_cm *o);
/* This core's write answered with r->rv: memory becomes it, unless the
 * watch has already brought that state. */
void cm_install_own(struct pins_cm *cm, struct cm_read *r);
/* The hint a 401/403 deserves: which permission the Role lacks. */
const char *cm_rbac_hint(long status);

/* --- pins_cm_write.c --- */

/* Starts the next queued change when none runs and memory may be used. */
void cm_kick(struct pins_cm *cm);
void cm_op_free(struct pins_cm_op *op);

#endif /* CORE_PINS_CM_INT_H */
