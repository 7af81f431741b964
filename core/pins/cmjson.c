/*
 * cmjson.c — ConfigMap parsers and body (see cmjson.h).
 *
 * Each open container has a role (an event, a list, the list's metadata,
 * its items, an object, an object's metadata, its data, or something
 * skipped), fixed when it opens from its parent's role and the key it
 * sits under.  When a value starts, the same two things say which slot it
 * fills, and the slot says which JSON types are allowed there: the type
 * checks and the field copies share one table-like function, slot_of().
 *
 * Deliberately not here: what the value means (pins_cm.c parses it with
 * pin_doc.c), HTTP (kclient.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "core/pins/cmjson.h"
#include "core/core_limits.h"
#include "core/json_walk.h"
#include "proto-socket/ps_buf.h"

enum role {
	R_SKIP,      /* a container nothing is kept from */
	R_EVENT,     /* a watch event */
	R_LIST,      /* a ConfigMapList */
	R_LIST_META, /* its metadata */
	R_ITEMS,     /* its items (an array) */
	R_OBJ,       /* a ConfigMap (or a Status, in ERROR events) */
	R_META,      /* an object's metadata */
	R_DATA       /* an object's data */
};

enum key {
	K_OTHER,
	K_TYPE,
	K_OBJECT,
	K_ITEMS,
	K_KIND,
	K_METADATA,
	K_NAME,
	K_NAMESPACE,
	K_UID,
	K_RV,
	K_DATA,
	K_CODE,
	K_REASON,
	K_MESSAGE,
	K_VALUE,     /* data[key] */
	K_DATA_OTHER /* any other data key */
};

/* Where a value goes, and so which types it may have. */
enum slot {
	S_SKIP,
	S_EVENT,     /* map */
	S_LIST,      /* map */
	S_OBJ,       /* map: the answer, a list item, an event's object */
	S_LIST_META, /* map or null */
	S_ITEMS,     /* array or null */
	S_META,      /* map or null */
	S_DATA,      /* map or null */
	S_TYPE,      /* string */
	S_KIND,      /* string or null (so are the rest, but S_CODE) */
	S_LIST_RV,
	S_NAME,
	S_NAMESPACE,
	S_UID,
	S_RV,
	S_VALUE,
	S_DATA_OTHER,
	S_REASON,
	S_MESSAGE,
	S_CODE /* integer or null */
};

enum vtype { V_MAP, V_ARRAY, V_STRING, V_INTEGER, V_DOUBLE, V_BOOL, V_NULL };

struct cmjson {
	enum cmjson_mode mode;
	cmjson_cb cb;
	void *arg;
	char *key; /* the data key kept */
	size_t key_len;
	struct jw w; /* levels' role: enum role; key: enum key (maps) */
	struct cmjson_cm top;  /* the object, or the list's own fields */
	struct cmjson_cm obj;  /* the current list item or event object */
	struct cmjson_cm *cur; /* the object being read: &top or &obj */
	char *value;           /* cur's data[key], malloc'ed */
	enum kjson_event ev;   /* the current watch event's type */
	int done;              /* OBJECT: the object has ended */
	size_t count;
};

static int
fail(struct cmjson *c, const char *what)
{
	return jw_fail(&c->w, "%s", what); /* 0: yajl stops */
}

static enum key
lookup_key(const struct cmjson *c, enum role parent, const unsigned char *s,
    size_t len)
{
	static const struct {
		const char *s;
		enum key k;
	} keys[] = {
	    {"type", K_TYPE},
	    {"object", K_OBJECT},
	    {"items", K_ITEMS},
	    {"kind", K_KIND},
	    {"metadata", K_METADATA},
	    {"name", K_NAME},
	    {"namespace", K_NAMESPACE},
	    {"uid", K_UID},
	    {"resourceVersion", K_RV},
	    {"data", K_DATA},
	    {"code", K_CODE},
	    {"reason", K_REASON},
	    {"message", K_MESSAGE},
	};

	if (parent == R_DATA)
		return len == c->key_len && memcmp(s, c->key, len) == 0
		    ? K_VALUE
		    : K_DATA_OTHER;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].s) == len && memcmp(keys[i].s, s, len) == 0)
			return keys[i].k;
	return K_OTHER;
}

/* The slot of the value that starts now. */
static enum slot
slot_of(const struct cmjson *c)
{
	const struct jw_level *p;

	if (c->w.depth == 0)
		return c->mode == CMJSON_WATCH ? S_EVENT
		    : c->mode == CMJSON_LIST   ? S_LIST
		                               : S_OBJ;
	p = &c->w.st[c->w.depth - 1];
	if (!p->is_map)
		return p->role == R_ITEMS ? S_OBJ : S_SKIP;
	switch (p->role) {
	case R_EVENT:
		return p->key == K_TYPE  ? S_TYPE
		    : p->key == K_OBJECT ? S_OBJ
		                         : S_SKIP;
	case R_LIST:
		return p->key == K_KIND    ? S_KIND
		    : p->key == K_METADATA ? S_LIST_META
		    : p->key == K_ITEMS    ? S_ITEMS
		                           : S_SKIP;
	case R_LIST_META:
		return p->key == K_RV ? S_LIST_RV : S_SKIP;
	case R_OBJ:
		switch (p->key) {
		case K_KIND:
			return S_KIND;
		case K_METADATA:
			return S_META;
		case K_DATA:
			return S_DATA;
		case K_CODE:
			return S_CODE;
		case K_REASON:
			return S_REASON;
		case K_MESSAGE:
			return S_MESSAGE;
		default:
			return S_SKIP;
		}
	case R_META:
		switch (p->key) {
		case K_NAME:
			return S_NAME;
		case K_NAMESPACE:
			return S_NAMESPACE;
		case K_UID:
			return S_UID;
		case K_RV:
			return S_RV;
		default:
			return S_SKIP;
		}
	case R_DATA:
		return p->key == K_VALUE ? S_VALUE : S_DATA_OTHER;
	default:
		return S_SKIP;
	}
}

/* Is a value of type `t` allowed in slot `s`?  0 (and failed) if not. */
static int
type_ok(struct cmjson *c, enum slot s, enum vtype t)
{
	const char *what;

	switch (s) {
	case S_SKIP:
		return 1;
	case S_EVENT:
	case S_LIST:
	case S_OBJ:
		if (t == V_MAP)
			return 1;
		return fail(c,
		    c->w.depth == 0  ? "answer is not a JSON object"
		        : s == S_OBJ ? "an object is not a JSON object"
		                     : "not a JSON object");
	case S_LIST_META:
	case S_META:
	case S_DATA:
		if (t == V_MAP || t == V_NULL)
			return 1;
		what = s == S_DATA ? "data is not an object"
		                   : "metadata is not an object";
		return fail(c, what);
	case S_ITEMS:
		if (t == V_ARRAY || t == V_NULL)
			return 1;
		return fail(c, "items is not an array");
	case S_TYPE:
		if (t == V_STRING)
			return 1;
		return fail(c, "watch event type is not a string");
	case S_CODE:
		if (t == V_INTEGER || t == V_NULL)
			return 1;
		return fail(c, "status code is not an integer");
	case S_VALUE:
	case S_DATA_OTHER:
		if (t == V_STRING || t == V_NULL)
			return 1;
		return fail(c, "a data value is not a string");
	default:
		if (t == V_STRING || t == V_NULL)
			return 1;
		return fail(c, "a metadata field is not a string");
	}
}

/* Visible ASCII, bounded (kind, uid, resourceVersion). */
static int
copy_field(struct cmjson *c, char *dst, size_t dstsz, const unsigned char *s,
    size_t len, const char *why)
{
	if (len >= dstsz)
		return fail(c, why);
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return fail(c, why);
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 1;
}

/* A name or namespace: checked (which bounds it) before the copy. */
static int
copy_dns(struct cmjson *c, char *dst, const unsigned char *s, size_t len,
    enum ps_str_kind kind, const char *why)
{
	if (ps_valid_str(kind, (const char *)s, len) != PS_OK)
		return fail(c, why);
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 1;
}

/* Free text (Status.message): truncated, non-printable bytes replaced. */
static void
copy_text(char *dst, size_t dstsz, const unsigned char *s, size_t len)
{
	size_t n = len < dstsz - 1 ? len : dstsz - 1;

	for (size_t i = 0; i < n; i++)
		dst[i] = (s[i] >= 0x20 && s[i] <= 0x7e) ? (char)s[i] : '?';
	dst[n] = '\0';
}

static void
drop_value(struct cmjson *c)
{
	free(c->value);
	c->value = NULL;
	c->cur->has_value = 0;
	c->cur->value = NULL;
	c->cur->value_len = 0;
}

/* The start of any value: type check; containers push their role. */
static int
begin(struct cmjson *c, enum vtype t, enum slot *out)
{
	enum slot s = slot_of(c);
	enum role role = R_SKIP;
	struct jw_level *l;

	if (!type_ok(c, s, t))
		return 0;
	*out = s;
	if (t != V_MAP && t != V_ARRAY)
		return 1;
	switch (s) {
	case S_EVENT:
		role = R_EVENT;
		memset(&c->obj, 0, sizeof(c->obj));
		c->ev = KJSON_EV_NONE;
		break;
	case S_LIST:
		role = R_LIST;
		break;
	case S_LIST_META:
		role = R_LIST_META;
		break;
	case S_ITEMS:
		role = R_ITEMS;
		break;
	case S_OBJ:
		role = R_OBJ;
		c->cur = c->mode == CMJSON_OBJECT ? &c->top : &c->obj;
		drop_value(c);
		memset(c->cur, 0, sizeof(*c->cur));
		break;
	case S_META:
		role = R_META;
		break;
	case S_DATA:
		role = R_DATA;
		break;
	default:
		break;
	}
	if ((l = jw_push(&c->w, t == V_MAP)) == NULL)
		return 0;
	l->role = (unsigned char)role;
	l->key = K_OTHER;
	return 1;
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct cmjson *c = ctx;
	struct cmjson_cm *o = c->cur;
	enum slot sl;

	if (!begin(c, V_STRING, &sl))
		return 0;
	switch (sl) {
	case S_TYPE: {
		static const struct {
			const char *s;
			enum kjson_event ev;
		} types[] = {{"ADDED", KJSON_EV_ADDED},
		    {"MODIFIED", KJSON_EV_MODIFIED},
		    {"DELETED", KJSON_EV_DELETED},
		    {"BOOKMARK", KJSON_EV_BOOKMARK}, {"ERROR", KJSON_EV_ERROR}};

		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strlen(types[i].s) == len &&
			    memcmp(types[i].s, s, len) == 0) {
				c->ev = types[i].ev;
				return 1;
			}
		return fail(c, "unknown watch event type");
	}
	case S_KIND:
		/* The list's own kind sits in top, an object's in cur. */
		o = c->w.st[c->w.depth - 1].role == R_LIST ? &c->top : o;
		return copy_field(c, o->kind, sizeof(o->kind), s, len,
		    "kind longer than 64 bytes or not visible ASCII");
	case S_LIST_RV:
		return copy_field(c, c->top.rv, sizeof(c->top.rv), s, len,
		    "list resourceVersion too long or not visible ASCII");
	case S_NAME:
		return copy_dns(c, o->name, s, len, PS_STR_NAME,
		    "metadata.name is not a DNS-1123 subdomain");
	case S_NAMESPACE:
		return copy_dns(c, o->namespace, s, len, PS_STR_NAMESPACE,
		    "metadata.namespace is not a DNS-1123 label");
	case S_UID:
		return copy_field(c, o->uid, sizeof(o->uid), s, len,
		    "metadata.uid too long or not visible ASCII");
	case S_RV:
		return copy_field(c, o->rv, sizeof(o->rv), s, len,
		    "metadata.resourceVersion too long or not visible ASCII");
	case S_VALUE:
		if (len > CMJSON_MAX_VALUE)
			return fail(c,
			    "the data value kept is longer than "
			    "the API's ConfigMap limit");
		drop_value(c);
		if ((c->value = malloc(len + 1)) == NULL)
			return fail(c, "out of memory");
		memcpy(c->value, s, len);
		c->value[len] = '\0';
		o->has_value = 1;
		o->value = c->value;
		o->value_len = len;
		return 1;
	case S_DATA_OTHER:
		o->other_keys++;
		return 1;
	case S_REASON:
		return copy_field(c, o->reason, sizeof(o->reason), s, len,
		    "status reason too long or not visible ASCII");
	case S_MESSAGE:
		copy_text(o->message, sizeof(o->message), s, len);
		return 1;
	default:
		return 1;
	}
}

static int
on_integer(void *ctx, long long v)
{
	struct cmjson *c = ctx;
	enum slot sl;

	if (!begin(c, V_INTEGER, &sl))
		return 0;
	if (sl == S_CODE) {
		if (v < 100 || v > 599)
			return fail(c, "status code out of range");
		c->cur->code = (int32_t)v;
	}
	return 1;
}

static int
on_double(void *ctx, double v)
{
	enum slot sl;

	(void)v;
	return begin(ctx, V_DOUBLE, &sl);
}

static int
on_boolean(void *ctx, int b)
{
	enum slot sl;

	(void)b;
	return begin(ctx, V_BOOL, &sl);
}

static int
on_null(void *ctx)
{
	struct cmjson *c = ctx;
	enum slot sl;

	if (!begin(c, V_NULL, &sl))
		return 0;
	if (sl == S_VALUE)
		drop_value(c); /* null is absent: the last one wins, as in Go */
	else if (sl == S_DATA_OTHER)
		c->cur->other_keys++;
	return 1;
}

static int
on_start_map(void *ctx)
{
	enum slot sl;

	return begin(ctx, V_MAP, &sl);
}

static int
on_start_array(void *ctx)
{
	enum slot sl;

	return begin(ctx, V_ARRAY, &sl);
}

static int
on_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct cmjson *c = ctx;
	struct jw_level *l = &c->w.st[c->w.depth - 1];

	l->key = (unsigned char)lookup_key(c, (enum role)l->role, s, len);
	return 1;
}

/* An object needs a name and a resourceVersion. */
static int
complete_object(struct cmjson *c, const struct cmjson_cm *o)
{
	if (o->name[0] == '\0' || o->rv[0] == '\0')
		return fail(c,
		    "object without metadata.name or "
		    "resourceVersion");
	return 1;
}

/* A list item or a watch event ends: validate, hand over, forget. */
static int
deliver(struct cmjson *c, enum kjson_event ev)
{
	struct cmjson_cm *o = &c->obj;
	int r;

	switch (ev) {
	case KJSON_EV_ADDED:
	case KJSON_EV_MODIFIED:
	case KJSON_EV_DELETED:
		if (!complete_object(c, o))
			return 0;
		break;
	case KJSON_EV_BOOKMARK:
		if (o->rv[0] == '\0')
			return fail(c, "bookmark without resourceVersion");
		break;
	case KJSON_EV_ERROR:
		if (o->code == 0)
			return fail(c, "ERROR event without a status code");
		break;
	case KJSON_EV_NONE:
		return fail(c, "watch event without a type");
	}
	if (c->mode == CMJSON_LIST && c->count >= KJSON_MAX_ITEMS)
		return fail(c, "too many items in one list");
	c->count++;
	jw_unit_done(&c->w);
	r = c->cb != NULL ? c->cb(c->arg, ev, o) : 0;
	c->cur = &c->obj;
	drop_value(c);
	if (r != 0)
		return fail(c, "aborted by caller");
	return 1;
}

static int
on_end_map(void *ctx)
{
	struct cmjson *c = ctx;
	const struct jw_level *l = jw_pop(&c->w);

	if (l->role == R_EVENT)
		return deliver(c, c->ev);
	if (l->role != R_OBJ)
		return 1;
	if (c->mode == CMJSON_LIST)
		return deliver(c, KJSON_EV_ADDED);
	if (c->mode == CMJSON_OBJECT) {
		c->done = 1;
		return complete_object(c, &c->top);
	}
	return 1; /* WATCH: the event's end delivers it */
}

static int
on_end_array(void *ctx)
{
	struct cmjson *c = ctx;

	jw_pop(&c->w);
	return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_integer = on_integer,
    .yajl_double = on_double,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

struct cmjson *
cmjson_new(enum cmjson_mode mode, const char *key, cmjson_cb cb, void *arg)
{
	struct jw_config cfg = {
	    .callbacks = &callbacks,
	    .many = mode == CMJSON_WATCH,
	    .max_bytes = CMJSON_MAX_UNIT_BYTES,
	    .units = 1,
	    .too_big = "one object exceeds the size limit",
	};
	struct cmjson *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->mode = mode;
	c->cb = cb;
	c->arg = arg;
	c->cur = mode == CMJSON_OBJECT ? &c->top : &c->obj;
	c->key_len = strlen(key);
	if ((c->key = strdup(key)) == NULL || jw_init(&c->w, &cfg, c) != 0) {
		free(c->key);
		free(c);
		return NULL;
	}
	return c;
}

void
cmjson_free(struct cmjson *c)
{
	if (c == NULL)
		return;
	jw_fini(&c->w);
	free(c->value);
	free(c->key);
	free(c);
}

int
cmjson_feed(struct cmjson *c, const void *buf, size_t len)
{
	return jw_feed(&c->w, buf, len);
}

int
cmjson_finish(struct cmjson *c)
{
	if (jw_finish(&c->w) != 0)
		return -1;
	if (c->mode == CMJSON_OBJECT && !c->done) {
		fail(c, "no object");
		return -1;
	}
	return 0;
}

const char *
cmjson_error(const struct cmjson *c)
{
	return jw_error(&c->w);
}

const struct cmjson_cm *
cmjson_top(const struct cmjson *c)
{
	return &c->top;
}

size_t
cmjson_count(const struct cmjson *c)
{
	return c->count;
}

#define GEN_STR(g, s)                                                   \
	(yajl_gen_string((g), (const unsigned char *)(s), strlen(s)) == \
	    yajl_gen_status_ok)

int
cmjson_body(const struct cmjson_body *b, char **out, size_t *len)
{
	yajl_gen g;
	const unsigned char *buf;
	size_t blen;
	int ok;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		return -1;
	/* Strings are checked: yajl_gen refuses invalid UTF-8. */
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	ok = yajl_gen_map_open(g) == yajl_gen_status_ok &&
	    GEN_STR(g, "apiVersion") && GEN_STR(g, "v1") &&
	    GEN_STR(g, "kind") && GEN_STR(g, "ConfigMap") &&
	    GEN_STR(g, "metadata") &&
	    yajl_gen_map_open(g) == yajl_gen_status_ok && GEN_STR(g, "name") &&
	    GEN_STR(g, b->name) && GEN_STR(g, "namespace") &&
	    GEN_STR(g, b->namespace);
	if (ok && b->rv != NULL)
		ok = GEN_STR(g, "resourceVersion") && GEN_STR(g, b->rv);
	ok = ok && GEN_STR(g, "labels") &&
	    yajl_gen_map_open(g) == yajl_gen_status_ok &&
	    GEN_STR(g, b->label_key) && GEN_STR(g, b->label_value) &&
	    yajl_gen_map_close(g) == yajl_gen_status_ok &&
	    yajl_gen_map_close(g) == yajl_gen_status_ok && GEN_STR(g, "data") &&
	    yajl_gen_map_open(g) == yajl_gen_status_ok && GEN_STR(g, b->key) &&
	    yajl_gen_string(g, (const unsigned char *)b->value, b->value_len) ==
	        yajl_gen_status_ok &&
	    yajl_gen_map_close(g) == yajl_gen_status_ok &&
	    yajl_gen_map_close(g) == yajl_gen_status_ok &&
	    yajl_gen_get_buf(g, &buf, &blen) == yajl_gen_status_ok;
	if (ok && (*out = malloc(blen + 1)) != NULL) {
		memcpy(*out, buf, blen);
		(*out)[blen] = '\0';
		*len = blen;
	} else
		ok = 0;
	yajl_gen_free(g);
	return ok ? 0 : -1;
}
