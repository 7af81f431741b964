/*
 * event_json.h — the bodies replicad-core writes to the events.k8s.io/v1
 * API (event_rec.c): an Event for POST, and the merge patch that moves a
 * series on.  Generated with yajl_gen only (every string escaped by it);
 * the fields are validated by the caller (event_rec.c) before they come
 * here, except that strings must be valid UTF-8 (yajl_gen checks, and a
 * body with a bad string is refused rather than sent); the checks it
 * uses are below.
 *
 * Deliberately not here: parsing.  The recorder needs nothing from the
 * API's answers but the status, so they are never parsed.
 */
#ifndef EVENT_JSON_H
#define EVENT_JSON_H

#include <stddef.h>
#include <stdint.h>

/* The object an Event is about ("regarding"); "" leaves a field out. */
struct evjson_ref {
	const char *kind;
	const char *api_version;
	const char *namespace;
	const char *name;
	const char *uid;
	const char *resource_version;
};

struct evjson_event {
	const char *name;       /* metadata.name */
	const char *namespace;  /* metadata.namespace */
	const char *event_time; /* MicroTime text */
	const char *type;       /* "Normal" or "Warning" */
	const char *reason;
	const char *action;
	const char *note; /* "" leaves it out */
	const char *reporting_controller;
	const char *reporting_instance;
	struct evjson_ref regarding;
	/* series: count >= 2 with lastObservedTime, or count 0 for none. */
	uint32_t series_count;
	const char *last_observed;
};

/*
 * The Event as a POST body: NUL-terminated, length in *len, caller frees.
 * NULL when out of memory or a string is not valid UTF-8.
 */
char *evjson_event(const struct evjson_event *ev, size_t *len);

/*
 * The merge patch {"series":{"count":N,"lastObservedTime":T}} (N >= 2):
 * the only fields a repeat changes.  NULL when out of memory.
 */
char *evjson_series_patch(
    uint32_t count, const char *last_observed, size_t *len);

/* --- the fields, checked as the API's validation would (event_rec.c) */

/* 1..max bytes of 0x21..0x7e (reason, action, kind, uid, ...). */
int evjson_visible(const char *s, size_t max);
/* [A-Za-z0-9]. */
int evjson_alnum(char c);
/* A qualified name (reportingController): [DNS-1123 subdomain "/"] name,
 * the name 1..63 bytes of [A-Za-z0-9-_.], alphanumeric at both ends. */
int evjson_qualified(const char *s);
/*
 * Copies at most `max` bytes of the string `src` into `dst` (max + 1
 * bytes) as valid UTF-8, never splitting a character: a byte that does
 * not start a valid sequence becomes '?'.  Returns the length.
 */
size_t evjson_copy_utf8(char *dst, const char *src, size_t max);

#endif /* EVENT_JSON_H */
