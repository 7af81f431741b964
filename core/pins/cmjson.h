/*
 * cmjson.h — core/v1 ConfigMaps as the API sends them, for the pins store
 * (pins_cm.c): streaming parsers of one object (GET, PUT and POST
 * answers), of a ConfigMapList, and of a watch stream; and the body the
 * core PUTs or POSTs.
 *
 * Untrusted input, bounded and validated like kjson.c's: nesting
 * (KJSON_MAX_DEPTH), bytes per object or event (CMJSON_MAX_UNIT_BYTES),
 * the one data value kept (CMJSON_MAX_VALUE, the API's own ConfigMap
 * limit), items per list.  Of a ConfigMap only metadata.name (DNS-1123
 * subdomain), metadata.namespace (label), metadata.uid and
 * metadata.resourceVersion (visible ASCII) and data[key] (any string; yajl
 * checks its UTF-8) are kept; other data keys are counted.  A kept field
 * of the wrong type (a number for a name, an array for data, a data value
 * that is not a string) is an error, not a field skipped; null means
 * absent, as in Go; unknown fields are skipped after yajl has checked
 * them.  Every object carries a name and a resourceVersion (a watch
 * BOOKMARK only the latter, an ERROR event a Status code).
 *
 * Not here: what a ConfigMap means for pins (pins_cm.c), any HTTP.
 */
#ifndef CMJSON_H
#define CMJSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/kube/kjson.h"
#include "proto-socket/ps.h"

enum cmjson_mode {
	CMJSON_OBJECT, /* one ConfigMap */
	CMJSON_LIST, /* {"kind":"ConfigMapList","metadata":{..},"items":[..]} */
	CMJSON_WATCH /* {"type":"ADDED","object":{..}} per line, any number */
};

/* What the core keeps of one ConfigMap (or of a list, or a Status). */
struct cmjson_cm {
	char kind[KJSON_MAX_KIND + 1];
	char name[PS_MAX_NAME + 1];
	char namespace[PS_MAX_NAMESPACE + 1];
	char uid[KJSON_MAX_UID + 1];
	char rv[PS_MAX_RV + 1];
	/* data[key]: present and not null; its bytes, NUL-terminated (the
	 * value may hold a NUL itself: use the length).  Borrowed: valid in
	 * the callback, or for the top object until cmjson_free(). */
	int has_value;
	const char *value;
	size_t value_len;
	size_t other_keys; /* data keys other than `key` */
	/* A Status (watch ERROR events). */
	int32_t code;
	char reason[KJSON_MAX_REASON + 1];
	char message[KJSON_MAX_MESSAGE + 1];
};

/* Each list item (ev = KJSON_EV_ADDED) or watch event, validated.
 * Return 0 to go on, -1 to stop (cmjson_feed then fails). */
typedef int (*cmjson_cb)(
    void *arg, enum kjson_event ev, const struct cmjson_cm *cm);

struct cmjson;

/* `key` (copied) is the data key kept; NULL when out of memory. */
struct cmjson *cmjson_new(
    enum cmjson_mode mode, const char *key, cmjson_cb cb, void *arg);
void cmjson_free(struct cmjson *c);
/* 0, or -1 with cmjson_error() set; after an error the parser is dead. */
int cmjson_feed(struct cmjson *c, const void *buf, size_t len);
/* End of the body: 0 if it was complete (and, CMJSON_OBJECT, an object
 * with a name and a resourceVersion), -1 otherwise. */
int cmjson_finish(struct cmjson *c);
const char *cmjson_error(const struct cmjson *c);
/* CMJSON_OBJECT: the object; CMJSON_LIST: the list's kind and
 * resourceVersion. */
const struct cmjson_cm *cmjson_top(const struct cmjson *c);
/* Items or events delivered so far. */
size_t cmjson_count(const struct cmjson *c);

/* What the core writes: one data key, one label. */
struct cmjson_body {
	const char *namespace;
	const char *name;
	const char *rv; /* PUT: the precondition; NULL for a POST */
	const char *label_key;
	const char *label_value;
	const char *key;
	const char *value;
	size_t value_len;
};

/* The ConfigMap as JSON (yajl_gen): 0 with a malloc'ed, NUL-terminated
 * buffer in *out, -1 when out of memory or a string is not UTF-8. */
int cmjson_body(const struct cmjson_body *b, char **out, size_t *len);

#endif /* CMJSON_H */
