/*
 * ks_json.h — a small bounded JSON document tree on top of yajl.
 *
 * kube-sim keeps every object as a tree: bodies are parsed into one
 * (depth, node count, members and string length bounded by ks_limits.h),
 * patched (RFC 7386 merge patch), compared, and written back with yajl_gen.
 * No JSON is ever built by hand.  Numbers keep their source text.
 */
#ifndef KS_JSON_H
#define KS_JSON_H

#include <stddef.h>

#include <yajl/yajl_gen.h>

enum ks_json_type {
	KS_JSON_NULL,
	KS_JSON_FALSE,
	KS_JSON_TRUE,
	KS_JSON_NUMBER,
	KS_JSON_STRING,
	KS_JSON_ARRAY,
	KS_JSON_OBJECT
};

/* Parse errors (ks_json_parse's *err). */
enum ks_json_err {
	KS_JSON_OK = 0,
	KS_JSON_ESYNTAX,  /* not JSON (yajl's message in msg) */
	KS_JSON_EEMPTY,   /* no value at all */
	KS_JSON_EDEPTH,   /* nesting above KS_JSON_MAX_DEPTH */
	KS_JSON_ENODES,   /* more than KS_JSON_MAX_NODES values */
	KS_JSON_EMEMBERS, /* an object above KS_JSON_MAX_MEMBERS */
	KS_JSON_ESTRING,  /* a string or key above KS_JSON_MAX_STRING */
	KS_JSON_ENOMEM
};

struct ks_json {
	enum ks_json_type type;
	char *key; /* member name when inside an object (NUL-terminated) */
	size_t keylen;
	char *val; /* string bytes or number text (NUL-terminated copy) */
	size_t len;
	struct ks_json *child; /* first member / element */
	struct ks_json *last;
	struct ks_json *next;
	size_t count;
};

struct ks_json *ks_json_parse(
    const void *, size_t, enum ks_json_err *, char *, size_t);

/* Duplicate members met while parsing (the last one wins in the tree):
 * how many, and the dotted paths of the first KS_JSON_MAX_DUPS. */
#define KS_JSON_MAX_DUPS 8
struct ks_json_dups {
	int n;
	char path[KS_JSON_MAX_DUPS][256];
};
struct ks_json *ks_json_parse_dups(const void *, size_t, enum ks_json_err *,
    char *, size_t, struct ks_json_dups *);
const char *ks_json_strerror(enum ks_json_err);
void ks_json_free(struct ks_json *);

struct ks_json *ks_json_new(enum ks_json_type);
struct ks_json *ks_json_new_str(const char *, size_t);
struct ks_json *ks_json_new_int(long long);
struct ks_json *ks_json_clone(const struct ks_json *);
int ks_json_equal(const struct ks_json *, const struct ks_json *);

struct ks_json *ks_json_get(const struct ks_json *, const char *);
struct ks_json *ks_json_getp(const struct ks_json *, const char *);
const char *ks_json_str(const struct ks_json *);
int ks_json_int(const struct ks_json *, long long *);

/* Takes val, also on error.  Replaces an existing member of that name. */
int ks_json_set(struct ks_json *, const char *, struct ks_json *);
int ks_json_set_str(struct ks_json *, const char *, const char *);
int ks_json_set_int(struct ks_json *, const char *, long long);
/* Member object named key, created empty when absent or not an object. */
struct ks_json *ks_json_obj(struct ks_json *, const char *);
void ks_json_del(struct ks_json *, const char *);
/* Takes val, also on error. */
int ks_json_append(struct ks_json *, struct ks_json *);

/* RFC 7386 merge patch applied to *target (which may be replaced). */
int ks_json_merge_patch(struct ks_json **, const struct ks_json *);

/* Write a value; ks_json_gen_members writes an object's members except
 * those named in skip (NULL-terminated), for callers that open the map. */
int ks_json_gen(yajl_gen, const struct ks_json *);
int ks_json_gen_members(yajl_gen, const struct ks_json *, const char *const *);

/* yajl_gen helpers: NUL-terminated strings and key/value pairs. */
int ks_gen_str(yajl_gen, const char *);
int ks_gen_kstr(yajl_gen, const char *, const char *);
int ks_gen_kint(yajl_gen, const char *, long long);
/* A generator configured the way kube-sim writes JSON (compact). */
yajl_gen ks_gen_new(void);

#endif /* KS_JSON_H */
