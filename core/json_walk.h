/*
 * json_walk.h — the yajl walker every JSON parser of the core shares.
 *
 * The core reads four kinds of untrusted JSON: the API's Deployment
 * answers (kjson.c), its ConfigMap answers (cmjson.c), its Lease answers
 * (lease_json.c), and the pins document (pin_doc.c).  Each keeps its own
 * callbacks, field table and bounds; what they have in common lives here,
 * once:
 *
 *  - the yajl handle, fed in slices of KJSON_FEED_SLICE, so that a size
 *    bound holds even inside one endless string (yajl buffers a value cut
 *    across calls, and would grow that buffer without limit);
 *  - the stack of open containers (JW_MAX_DEPTH), one jw_level each, whose
 *    `role` and `key` bytes belong to the parser;
 *  - the first error, after which the walker is dead (every later call
 *    fails at once), worded without quoting the input;
 *  - the end: complete, no container left open, and in one-value mode
 *    nothing but whitespace after the value.  yajl alone lets an
 *    unterminated string after the value pass (its lexer waits for the rest
 *    and yajl_complete_parse does not ask), and it takes \f and \v for
 *    whitespace, which RFC 8259 does not: both are refused here.
 *
 * Deliberately not here: what any value means, and which JSON types a
 * position allows (the parsers' own tables).
 */
#ifndef CORE_JSON_WALK_H
#define CORE_JSON_WALK_H

#include <stddef.h>

#include <yajl/yajl_parse.h>

#include "core/core_limits.h"

#define JW_MAX_DEPTH KJSON_MAX_DEPTH
#define JW_MAX_ERR   512 /* a pin_doc message names a Deployment */

/* One open container. */
struct jw_level {
	unsigned char is_map;
	unsigned char role; /* the parser's: what this container is */
	unsigned char key;  /* the parser's: the member being read (maps) */
};

struct jw_config {
	const yajl_callbacks *callbacks;
	/* 1: any number of values, one after another (a watch stream);
	 * 0: exactly one value. */
	int many;
	/* Bytes allowed: per unit when the parser marks units (a list item,
	 * a watch event) with jw_unit_done(), to within one slice; else in
	 * all, exactly. */
	size_t max_bytes;
	int units;
	const char *too_big; /* the error when max_bytes is passed */
};

struct jw {
	yajl_handle h;
	struct jw_config cfg;
	struct jw_level st[JW_MAX_DEPTH];
	int depth;        /* open containers */
	size_t bytes;     /* of the current unit, or in all */
	int nonblank;     /* a byte other than JSON whitespace was fed */
	int closed;       /* one-value mode: the value has ended */
	int closed_here;  /* ...during the current yajl_parse call */
	size_t closed_at; /* ...after this many bytes of that call */
	int dead;
	char err[JW_MAX_ERR];
};

/* `ctx` is what yajl hands the callbacks (the parser, which embeds `w`).
 * 0, or -1 when out of memory. */
int jw_init(struct jw *w, const struct jw_config *cfg, void *ctx);
void jw_fini(struct jw *w);

/* Records the first error and kills the walker; returns 0, so that a
 * callback can `return jw_fail(...)` to stop yajl. */
int jw_fail(struct jw *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Opens a container (role and key 0), or fails "JSON nested too deeply"
 * and returns NULL. */
struct jw_level *jw_push(struct jw *w, int is_map);
/* Closes the innermost container and returns it (valid until the next
 * push).  In one-value mode, closing the outermost one ends the value. */
const struct jw_level *jw_pop(struct jw *w);
/* The innermost open container, or NULL at the top level. */
struct jw_level *jw_top(struct jw *w);

/* A unit (list item, watch event) has ended: its byte count restarts. */
void jw_unit_done(struct jw *w);

/* 0, or -1 with jw_error() set. */
int jw_feed(struct jw *w, const void *buf, size_t len);
/* End of input: 0 if it was complete (a stream may have been empty),
 * -1 otherwise. */
int jw_finish(struct jw *w);
const char *jw_error(const struct jw *w);

#endif /* CORE_JSON_WALK_H */
