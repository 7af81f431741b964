/*
 * kjson.c — streaming parsers for Kubernetes API answers (see kjson.h).
 *
 * The parser keeps a stack of open containers and, for maps, the id of the
 * key being read.  Where a scalar belongs is worked out from that stack
 * each time one arrives: no state is derived that could go stale.  Keys
 * replicad does not use are K_OTHER, and their values are skipped after
 * yajl has checked them.
 *
 * Deliberately not here: any decision about what an event means for the
 * cache (reflector.c), any HTTP (kclient.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "core/core_limits.h"
#include "core/json_walk.h"
#include "core/kube/annotations.h"
#include "core/kube/kjson.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"

enum key {
	K_NONE,
	K_OTHER,
	K_TYPE,
	K_OBJECT,
	K_ITEMS,
	K_KIND,
	K_METADATA,
	K_SPEC,
	K_STATUS,
	K_NAME,
	K_NAMESPACE,
	K_UID,
	K_RV,
	K_GENERATION,
	K_CONTINUE,
	K_ANNOTATIONS,
	K_INITIAL_EVENTS_END,
	K_ANNOT_MIN,
	K_ANNOT_MAX,
	K_ANNOT_PIN_SUSPENDED,
	K_REPLICAS,
	K_READY,
	K_AVAILABLE,
	K_UPDATED,
	K_OBSERVED_GENERATION,
	K_CODE,
	K_REASON,
	K_MESSAGE
};

static const struct {
	const char *s;
	enum key k;
} keys[] = {
    {"type", K_TYPE},
    {"object", K_OBJECT},
    {"items", K_ITEMS},
    {"kind", K_KIND},
    {"metadata", K_METADATA},
    {"spec", K_SPEC},
    {"status", K_STATUS},
    {"name", K_NAME},
    {"namespace", K_NAMESPACE},
    {"uid", K_UID},
    {"resourceVersion", K_RV},
    {"generation", K_GENERATION},
    {"continue", K_CONTINUE},
    {"annotations", K_ANNOTATIONS},
    {"k8s.io/initial-events-end", K_INITIAL_EVENTS_END},
    {ANNOT_MIN_REPLICAS, K_ANNOT_MIN},
    {ANNOT_MAX_REPLICAS, K_ANNOT_MAX},
    {ANNOT_PIN_SUSPENDED, K_ANNOT_PIN_SUSPENDED},
    {"replicas", K_REPLICAS},
    {"readyReplicas", K_READY},
    {"availableReplicas", K_AVAILABLE},
    {"updatedReplicas", K_UPDATED},
    {"observedGeneration", K_OBSERVED_GENERATION},
    {"code", K_CODE},
    {"reason", K_REASON},
    {"message", K_MESSAGE},
};

struct kjson {
	enum kjson_mode mode;
	kjson_cb cb;
	void *arg;
	struct jw w;          /* levels' key: enum key of the member read */
	struct kjson_obj top; /* list level / single object */
	struct kjson_obj obj; /* current item or event object */
	enum kjson_event ev;  /* current watch event's type */
	size_t count;         /* items / events delivered */
};

/* Where a scalar lands: the object it belongs to and its key path. */
struct spot {
	struct kjson_obj *o;
	int rel;         /* 0: in the object's root map, 1: one map down, ... */
	enum key k[3];   /* keys from the object root down to the value */
	int event_level; /* WATCH: a member of the event map itself */
};

static void
fail(struct kjson *k, const char *what)
{
	jw_fail(&k->w, "%s", what);
}

/* Every answer and every watch event is an object; a bare value is not. */
static int
top_level_scalar(struct kjson *k)
{
	if (k->w.depth != 0)
		return 0;
	fail(k, "answer is not a JSON object");
	return 1;
}

static enum key
lookup_key(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].s) == len && memcmp(keys[i].s, s, len) == 0)
			return keys[i].k;
	return K_OTHER;
}

/* Index in st[] of the map that is the current object's root, or -1. */
static int
object_root(struct kjson *k, struct kjson_obj **o)
{
	switch (k->mode) {
	case KJSON_OBJECT:
		*o = &k->top;
		return k->w.depth >= 1 ? 0 : -1;
	case KJSON_LIST:
		if (k->w.depth >= 3 && k->w.st[0].key == K_ITEMS &&
		    !k->w.st[1].is_map && k->w.st[2].is_map) {
			*o = &k->obj;
			return 2;
		}
		*o = &k->top;
		return k->w.depth >= 1 ? 0 : -1;
	case KJSON_WATCH:
		if (k->w.depth >= 2 && k->w.st[0].key == K_OBJECT &&
		    k->w.st[1].is_map) {
			*o = &k->obj;
			return 1;
		}
		*o = NULL;
		return -1;
	}
	return -1;
}

static int
locate(struct kjson *k, struct spot *sp)
{
	int root, t = k->w.depth - 1;

	memset(sp, 0, sizeof(*sp));
	if (t < 0 || !k->w.st[t].is_map)
		return 0; /* array members are never fields we keep */
	if (k->mode == KJSON_WATCH && t == 0) {
		sp->event_level = 1;
		sp->k[0] = k->w.st[0].key;
		return 1;
	}
	root = object_root(k, &sp->o);
	if (root < 0 || t - root > 2)
		return 0;
	sp->rel = t - root;
	for (int i = 0; i <= sp->rel; i++) {
		if (!k->w.st[root + i].is_map)
			return 0;
		sp->k[i] = k->w.st[root + i].key;
	}
	return 1;
}

/* Copies a string field, bounded; fails on overlong or bad bytes. */
static int
copy_field(struct kjson *k, char *dst, size_t dstsz, const unsigned char *s,
    size_t len, const char *field)
{
	char msg[96];

	if (len >= dstsz) {
		snprintf(msg, sizeof(msg), "%s longer than %zu bytes", field,
		    dstsz - 1);
		fail(k, msg);
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x21 || s[i] > 0x7e) {
			snprintf(
			    msg, sizeof(msg), "%s has invalid bytes", field);
			fail(k, msg);
			return 0;
		}
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 1;
}

/* A name or namespace: DNS-1123 checked (which bounds the length to the
 * field's size) before it is copied. */
static int
copy_dns(struct kjson *k, char *dst, const unsigned char *s, size_t len,
    enum ps_str_kind kind, const char *why)
{
	if (ps_valid_str(kind, (const char *)s, len) != PS_OK) {
		fail(k, why);
		return 0;
	}
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

/* metadata.annotations: the ones replicad reads.  People write these, so
 * a bad value is recorded as such (annotations.h), never a parse error. */
static void
annotation(
    struct kjson_obj *o, enum key key, const unsigned char *s, size_t len)
{
	const char *name;

	switch (key) {
	case K_INITIAL_EVENTS_END:
		o->initial_events_end = len == 4 && memcmp(s, "true", 4) == 0;
		return;
	case K_ANNOT_MIN:
		name = ANNOT_MIN_REPLICAS;
		break;
	case K_ANNOT_MAX:
		name = ANNOT_MAX_REPLICAS;
		break;
	case K_ANNOT_PIN_SUSPENDED:
		name = ANNOT_PIN_SUSPENDED;
		break;
	default:
		return;
	}
	(void)annot_apply(&o->annot, name, strlen(name), (const char *)s, len);
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct kjson *k = ctx;
	struct spot sp;
	struct kjson_obj *o;

	if (top_level_scalar(k))
		return 0;
	if (!locate(k, &sp))
		return 1;
	if (sp.event_level) {
		if (sp.k[0] != K_TYPE)
			return 1;
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
				k->ev = types[i].ev;
				return 1;
			}
		fail(k, "unknown watch event type");
		return 0;
	}
	o = sp.o;
	if (sp.rel == 0) {
		switch (sp.k[0]) {
		case K_KIND:
			return copy_field(
			    k, o->kind, sizeof(o->kind), s, len, "kind");
		case K_REASON:
			return copy_field(
			    k, o->reason, sizeof(o->reason), s, len, "reason");
		case K_MESSAGE:
			copy_text(o->message, sizeof(o->message), s, len);
			return 1;
		default:
			return 1;
		}
	}
	if (sp.rel == 1 && sp.k[0] == K_METADATA) {
		switch (sp.k[1]) {
		case K_NAME:
			return copy_dns(k, o->name, s, len, PS_STR_NAME,
			    "metadata.name is not a DNS-1123 subdomain");
		case K_NAMESPACE:
			return copy_dns(k, o->namespace, s, len,
			    PS_STR_NAMESPACE,
			    "metadata.namespace is not a DNS-1123 label");
		case K_UID:
			return copy_field(
			    k, o->uid, sizeof(o->uid), s, len, "metadata.uid");
		case K_RV:
			return copy_field(k, o->rv, sizeof(o->rv), s, len,
			    "metadata.resourceVersion");
		case K_CONTINUE:
			return copy_field(k, o->cont, sizeof(o->cont), s, len,
			    "metadata.continue");
		default:
			return 1;
		}
	}
	if (sp.rel == 2 && sp.k[0] == K_METADATA && sp.k[1] == K_ANNOTATIONS)
		annotation(o, sp.k[2], s, len);
	return 1;
}

static int
set_int(struct kjson *k, long long v, long long max, int64_t *dst,
    const char *field)
{
	char msg[96];

	if (v < 0 || v > max) {
		snprintf(msg, sizeof(msg), "%s out of range", field);
		fail(k, msg);
		return 0;
	}
	*dst = v;
	return 1;
}

static int
set_int32(struct kjson *k, long long v, int32_t *dst, const char *field)
{
	int64_t x;

	if (!set_int(k, v, INT32_MAX, &x, field))
		return 0;
	*dst = (int32_t)x;
	return 1;
}

/* Is the value at `sp` one of the integer fields we keep? */
static int
int_field(const struct spot *sp)
{
	if (sp->event_level || sp->o == NULL)
		return 0;
	if (sp->rel == 0)
		return sp->k[0] == K_CODE;
	if (sp->rel != 1)
		return 0;
	switch (sp->k[0]) {
	case K_METADATA:
		return sp->k[1] == K_GENERATION;
	case K_SPEC:
		return sp->k[1] == K_REPLICAS;
	case K_STATUS:
		return sp->k[1] == K_REPLICAS || sp->k[1] == K_READY ||
		    sp->k[1] == K_AVAILABLE || sp->k[1] == K_UPDATED ||
		    sp->k[1] == K_OBSERVED_GENERATION;
	default:
		return 0;
	}
}

static int
on_integer(void *ctx, long long v)
{
	struct kjson *k = ctx;
	struct spot sp;
	struct kjson_obj *o;

	if (top_level_scalar(k))
		return 0;
	if (!locate(k, &sp) || !int_field(&sp))
		return 1;
	o = sp.o;
	if (sp.rel == 0) {
		if (v < 100 || v > 599) {
			fail(k, "status code out of range");
			return 0;
		}
		o->code = (int32_t)v;
		return 1;
	}
	switch (sp.k[1]) {
	case K_GENERATION:
		return set_int(
		    k, v, INT64_MAX, &o->generation, "metadata.generation");
	case K_OBSERVED_GENERATION:
		return set_int(k, v, INT64_MAX, &o->observed_generation,
		    "status.observedGeneration");
	case K_REPLICAS:
		if (sp.k[0] == K_SPEC) {
			o->has_spec_replicas = 1;
			return set_int32(
			    k, v, &o->spec_replicas, "spec.replicas");
		}
		return set_int32(k, v, &o->replicas, "status.replicas");
	case K_READY:
		return set_int32(k, v, &o->ready, "status.readyReplicas");
	case K_AVAILABLE:
		return set_int32(
		    k, v, &o->available, "status.availableReplicas");
	case K_UPDATED:
		return set_int32(k, v, &o->updated, "status.updatedReplicas");
	default:
		return 1;
	}
}

static int
on_double(void *ctx, double v)
{
	struct kjson *k = ctx;
	struct spot sp;

	(void)v;
	if (top_level_scalar(k))
		return 0;
	if (locate(k, &sp) && int_field(&sp)) {
		fail(k, "a count is not an integer");
		return 0;
	}
	return 1;
}

static int
on_other_scalar(void *ctx)
{
	struct kjson *k = ctx;
	struct spot sp;

	/* null/true/false where we expect a string or a count. */
	if (top_level_scalar(k))
		return 0;
	if (locate(k, &sp) && int_field(&sp)) {
		fail(k, "a count is not an integer");
		return 0;
	}
	return 1;
}

static int
on_null(void *ctx)
{
	return on_other_scalar(ctx);
}

static int
on_boolean(void *ctx, int b)
{
	(void)b;
	return on_other_scalar(ctx);
}

static int
push(struct kjson *k, int is_map)
{
	if (k->w.depth == 0 && !is_map) {
		fail(k, "answer is not a JSON object");
		return 0;
	}
	return jw_push(&k->w, is_map) != NULL; /* key K_NONE (0) */
}

static int
on_start_map(void *ctx)
{
	struct kjson *k = ctx;

	if (!push(k, 1))
		return 0;
	if (k->mode == KJSON_WATCH && k->w.depth == 1) {
		memset(&k->obj, 0, sizeof(k->obj));
		k->ev = KJSON_EV_NONE;
	} else if (k->mode == KJSON_LIST && k->w.depth == 3 &&
	    k->w.st[0].key == K_ITEMS && !k->w.st[1].is_map)
		memset(&k->obj, 0, sizeof(k->obj));
	return 1;
}

static int
on_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct kjson *k = ctx;

	k->w.st[k->w.depth - 1].key = (unsigned char)lookup_key(s, len);
	return 1;
}

/* Checks an item or event object and hands it to the caller. */
static int
deliver(struct kjson *k, enum kjson_event ev)
{
	struct kjson_obj *o = &k->obj;

	switch (ev) {
	case KJSON_EV_ADDED:
	case KJSON_EV_MODIFIED:
	case KJSON_EV_DELETED:
		if (o->name[0] == '\0' || o->rv[0] == '\0') {
			fail(k,
			    "object without metadata.name or "
			    "resourceVersion");
			return 0;
		}
		if (!o->has_spec_replicas)
			o->spec_replicas = 1; /* the API's default */
		annot_finish(&o->annot);
		break;
	case KJSON_EV_BOOKMARK:
		if (o->rv[0] == '\0') {
			fail(k, "bookmark without resourceVersion");
			return 0;
		}
		break;
	case KJSON_EV_ERROR:
		if (o->code == 0) {
			fail(k, "ERROR event without a status code");
			return 0;
		}
		break;
	case KJSON_EV_NONE:
		fail(k, "watch event without a type");
		return 0;
	}
	if (k->count >= KJSON_MAX_ITEMS && k->mode == KJSON_LIST) {
		fail(k, "too many items in one list");
		return 0;
	}
	k->count++;
	jw_unit_done(&k->w);
	if (k->cb != NULL && k->cb(k->arg, ev, o) != 0) {
		fail(k, "aborted by caller");
		return 0;
	}
	return 1;
}

static int
on_end_map(void *ctx)
{
	struct kjson *k = ctx;
	int was = k->w.depth;

	jw_pop(&k->w);
	if (k->mode == KJSON_WATCH && was == 1)
		return deliver(k, k->ev);
	if (k->mode == KJSON_LIST && was == 3 && k->w.st[0].key == K_ITEMS &&
	    !k->w.st[1].is_map)
		return deliver(k, KJSON_EV_ADDED);
	return 1;
}

static int
on_start_array(void *ctx)
{
	return push(ctx, 0);
}

static int
on_end_array(void *ctx)
{
	struct kjson *k = ctx;

	jw_pop(&k->w);
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

struct kjson *
kjson_new(enum kjson_mode mode, kjson_cb cb, void *arg)
{
	struct jw_config cfg = {
	    .callbacks = &callbacks,
	    .many = mode == KJSON_WATCH, /* one event per line, any number */
	    .max_bytes = KJSON_MAX_UNIT_BYTES,
	    .units = 1,
	    .too_big = "one object exceeds the size limit",
	};
	struct kjson *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->mode = mode;
	k->cb = cb;
	k->arg = arg;
	if (jw_init(&k->w, &cfg, k) != 0) {
		free(k);
		return NULL;
	}
	return k;
}

void
kjson_free(struct kjson *k)
{
	if (k == NULL)
		return;
	jw_fini(&k->w);
	free(k);
}

int
kjson_feed(struct kjson *k, const void *buf, size_t len)
{
	return jw_feed(&k->w, buf, len);
}

int
kjson_finish(struct kjson *k)
{
	return jw_finish(&k->w);
}

const char *
kjson_error(const struct kjson *k)
{
	return jw_error(&k->w);
}

const struct kjson_obj *
kjson_top(const struct kjson *k)
{
	return &k->top;
}

size_t
kjson_count(const struct kjson *k)
{
	return k->count;
}
