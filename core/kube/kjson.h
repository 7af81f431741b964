/*
 * kjson.h — streaming parsers for what the Kubernetes API sends the core:
 * DeploymentList pages, watch event streams, and single objects (Scale,
 * Deployment, Status).  Untrusted input: every answer is bounded (depth,
 * bytes per object, items per page) and validated before the caller sees
 * it, and only the fields replicad stores are kept — a Deployment of any
 * size becomes one fixed-size struct kjson_obj.
 *
 * Bytes go in as they arrive (any split works: a multi-byte character or
 * an event may be cut anywhere); callbacks fire as each item or event
 * completes.  yajl does the parsing; nothing here builds or copies JSON.
 */
#ifndef KJSON_H
#define KJSON_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_parse.h>

#include "core/kube/annotations.h"
#include "proto-socket/ps.h"

#define KJSON_MAX_UID     64
#define KJSON_MAX_KIND    64
#define KJSON_MAX_REASON  64
#define KJSON_MAX_MESSAGE 256  /* longer Status messages are truncated */
#define KJSON_MAX_CONT    1024 /* list continue token */

enum kjson_mode {
	KJSON_LIST, /* {"kind":"DeploymentList","metadata":{..},"items":[..]} */
	KJSON_WATCH, /* {"type":"ADDED","object":{..}} per line, any number */
	KJSON_OBJECT /* one object: Scale, Deployment or Status */
};

enum kjson_event {
	KJSON_EV_NONE,
	KJSON_EV_ADDED,
	KJSON_EV_MODIFIED,
	KJSON_EV_DELETED,
	KJSON_EV_BOOKMARK,
	KJSON_EV_ERROR
};

/* What replicad keeps of one object; absent fields keep their defaults. */
struct kjson_obj {
	char kind[KJSON_MAX_KIND + 1];
	char name[PS_MAX_NAME + 1];
	char namespace[PS_MAX_NAMESPACE + 1];
	char uid[KJSON_MAX_UID + 1];
	char rv[PS_MAX_RV + 1];
	char cont[KJSON_MAX_CONT + 1]; /* metadata.continue (lists) */
	int64_t generation;
	int64_t observed_generation;
	int32_t spec_replicas; /* absent: 1 for a Deployment, 0 for a Scale */
	int has_spec_replicas;
	int32_t replicas; /* status.*: absent = 0 */
	int32_t ready;
	int32_t available;
	int32_t updated;
	int initial_events_end; /* bookmark annotation k8s.io/initial-events-end
	                         */
	struct deploy_annot annot; /* replicad.io/ annotations (checked) */
	/* A Status object (errors): */
	int32_t code;
	char reason[KJSON_MAX_REASON + 1];
	char message[KJSON_MAX_MESSAGE + 1];
};

/*
 * Called for each list item (ev = KJSON_EV_ADDED) or watch event.  The
 * object is validated: ADDED/MODIFIED/DELETED carry a valid DNS-1123 name
 * and a resourceVersion, BOOKMARK a resourceVersion, ERROR a code.
 * Return 0 to continue, -1 to abort the parse (kjson_feed then fails).
 */
typedef int (*kjson_cb)(
    void *arg, enum kjson_event ev, const struct kjson_obj *obj);

struct kjson;

struct kjson *kjson_new(enum kjson_mode mode, kjson_cb cb, void *arg);
void kjson_free(struct kjson *k);
/* 0, or -1 with kjson_error() set; after an error the parser is dead. */
int kjson_feed(struct kjson *k, const void *buf, size_t len);

/* End of body: 0 if the input was complete, -1 otherwise. */
int kjson_finish(struct kjson *k);
const char *kjson_error(const struct kjson *k);
/*
 * KJSON_LIST: the list's own kind and metadata (resourceVersion, continue)
 * or, for a Status body, its code/reason/message.  KJSON_OBJECT: the object.
 */
const struct kjson_obj *kjson_top(const struct kjson *k);
/* Items or events delivered so far. */
size_t kjson_count(const struct kjson *k);

#endif /* KJSON_H */
