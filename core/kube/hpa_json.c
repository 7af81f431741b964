/*
 * hpa_json.c — streaming parser for HorizontalPodAutoscaler list pages
 * and watch streams (see hpa_json.h), on the shared yajl walker.
 *
 * As kjson.c does, where a scalar belongs is worked out from the stack of
 * open containers each time one arrives, so no derived state can go
 * stale; keys not kept are K_OTHER and yajl checks their values before
 * they are skipped.  A string field of the wrong JSON type counts as
 * absent: a name or resourceVersion that is absent makes the object fail
 * validation when it ends; a scaleTargetRef field that is absent makes it
 * no Deployment's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "core/core_limits.h"
#include "core/json_walk.h"
#include "core/kube/hpa_json.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"

enum key {
	K_NONE,
	K_OTHER,
	K_TYPE,
	K_OBJECT,
	K_ITEMS,
	K_METADATA,
	K_SPEC,
	K_SCALE_TARGET_REF,
	K_NAME,
	K_NAMESPACE,
	K_RV,
	K_CONTINUE,
	K_API_VERSION,
	K_KIND,
	K_CODE,
	K_MESSAGE
};

static const struct {
	const char *s;
	enum key k;
} keys[] = {
    {"type", K_TYPE},
    {"object", K_OBJECT},
    {"items", K_ITEMS},
    {"metadata", K_METADATA},
    {"spec", K_SPEC},
    {"scaleTargetRef", K_SCALE_TARGET_REF},
    {"name", K_NAME},
    {"namespace", K_NAMESPACE},
    {"resourceVersion", K_RV},
    {"continue", K_CONTINUE},
    {"apiVersion", K_API_VERSION},
    {"kind", K_KIND},
    {"code", K_CODE},
    {"message", K_MESSAGE},
};

struct hpa_json {
	enum hpa_json_mode mode;
	hpa_json_cb cb;
	void *arg;
	struct jw w;             /* levels' key: enum key of the member */
	struct hpa_json_obj top; /* a list's own metadata */
	struct hpa_json_obj obj; /* the item or event object being read */
	enum hpa_json_event ev;  /* the current watch event's type */
	size_t count;
};

/* Where a scalar lands: whose field, and the keys from its root down. */
struct spot {
	struct hpa_json_obj *o;
	int rel;         /* maps below the object's root map: 0, 1 or 2 */
	enum key k[3];   /* keys from the object's root to the value */
	int event_level; /* WATCH: a member of the event map itself */
};

static int
fail(struct hpa_json *h, const char *what)
{
	return jw_fail(&h->w, "%s", what);
}

static enum key
lookup_key(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].s) == len && memcmp(keys[i].s, s, len) == 0)
			return keys[i].k;
	return K_OTHER;
}

/* In a list, is st[0..2] the path items[i]{...}? */
static int
in_item(const struct hpa_json *h)
{
	return h->mode == HPA_JSON_LIST && h->w.depth >= 3 &&
	    h->w.st[0].key == K_ITEMS && !h->w.st[1].is_map &&
	    h->w.st[2].is_map;
}

/* Index in st[] of the current object's root map, or -1. */
static int
object_root(struct hpa_json *h, struct hpa_json_obj **o)
{
	if (h->mode == HPA_JSON_LIST) {
		if (in_item(h)) {
			*o = &h->obj;
			return 2;
		}
		*o = &h->top;
		return h->w.depth >= 1 ? 0 : -1;
	}
	if (h->w.depth >= 2 && h->w.st[0].key == K_OBJECT &&
	    h->w.st[1].is_map) {
		*o = &h->obj;
		return 1;
	}
	*o = NULL;
	return -1;
}

static int
locate(struct hpa_json *h, struct spot *sp)
{
	int root, t = h->w.depth - 1;

	memset(sp, 0, sizeof(*sp));
	if (t < 0 || !h->w.st[t].is_map)
		return 0; /* array members are never fields we keep */
	if (h->mode == HPA_JSON_WATCH && t == 0) {
		sp->event_level = 1;
		sp->k[0] = h->w.st[0].key;
		return 1;
	}
	root = object_root(h, &sp->o);
	if (root < 0 || t - root > 2)
		return 0;
	sp->rel = t - root;
	for (int i = 0; i <= sp->rel; i++) {
		if (!h->w.st[root + i].is_map)
			return 0;
		sp->k[i] = h->w.st[root + i].key;
	}
	return 1;
}

/* Visible ASCII, shorter than `dstsz`: copied; else the answer fails. */
static int
copy_strict(struct hpa_json *h, char *dst, size_t dstsz, const unsigned char *s,
    size_t len, const char *why)
{
	if (len == 0 || len >= dstsz)
		return fail(h, why);
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return fail(h, why);
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 1;
}

/* A scaleTargetRef field: kept only when it fits and is visible ASCII;
 * otherwise "" — a value no Deployment reference can have. */
static void
copy_lenient(char *dst, size_t dstsz, const unsigned char *s, size_t len)
{
	dst[0] = '\0';
	if (len >= dstsz)
		return;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return;
	memcpy(dst, s, len);
	dst[len] = '\0';
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

static int
event_type(struct hpa_json *h, const unsigned char *s, size_t len)
{
	static const struct {
		const char *s;
		enum hpa_json_event ev;
	} types[] = {{"ADDED", HPA_EV_ADDED}, {"MODIFIED", HPA_EV_MODIFIED},
	    {"DELETED", HPA_EV_DELETED}, {"BOOKMARK", HPA_EV_BOOKMARK},
	    {"ERROR", HPA_EV_ERROR}};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].s) == len &&
		    memcmp(types[i].s, s, len) == 0) {
			h->ev = types[i].ev;
			return 1;
		}
	return fail(h, "unknown watch event type");
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct hpa_json *h = ctx;
	struct spot sp;
	struct hpa_json_obj *o;

	if (h->w.depth == 0)
		return fail(h, "answer is not a JSON object");
	if (!locate(h, &sp))
		return 1;
	if (sp.event_level)
		return sp.k[0] == K_TYPE ? event_type(h, s, len) : 1;
	o = sp.o;
	if (sp.rel == 0 && sp.k[0] == K_MESSAGE) {
		copy_text(o->message, sizeof(o->message), s, len);
		return 1;
	}
	if (sp.rel == 1 && sp.k[0] == K_METADATA) {
		switch (sp.k[1]) {
		case K_NAME:
			if (ps_valid_str(PS_STR_NAME, (const char *)s, len) !=
			    PS_OK)
				return fail(h,
				    "metadata.name is not a "
				    "DNS-1123 subdomain");
			memcpy(o->name, s, len);
			o->name[len] = '\0';
			return 1;
		case K_NAMESPACE:
			if (ps_valid_namespace((const char *)s, len) != PS_OK)
				return fail(h,
				    "metadata.namespace is not a "
				    "DNS-1123 label");
			memcpy(o->namespace, s, len);
			o->namespace[len] = '\0';
			return 1;
		case K_RV:
			return copy_strict(h, o->rv, sizeof(o->rv), s, len,
			    "metadata.resourceVersion is empty, too long or "
			    "has invalid bytes");
		case K_CONTINUE:
			return copy_strict(h, o->cont, sizeof(o->cont), s, len,
			    "metadata.continue is empty, too long or has "
			    "invalid bytes");
		default:
			return 1;
		}
	}
	if (sp.rel == 2 && sp.k[0] == K_SPEC && sp.k[1] == K_SCALE_TARGET_REF) {
		switch (sp.k[2]) {
		case K_API_VERSION:
			copy_lenient(o->target_api_version,
			    sizeof(o->target_api_version), s, len);
			return 1;
		case K_KIND:
			copy_lenient(
			    o->target_kind, sizeof(o->target_kind), s, len);
			return 1;
		case K_NAME:
			/* Checked on the borrowed bytes: only a name that
			 * could be a Deployment's is copied. */
			o->target_name_ok = ps_valid_str(PS_STR_NAME,
			                        (const char *)s, len) == PS_OK;
			o->target_name[0] = '\0';
			if (o->target_name_ok) {
				memcpy(o->target_name, s, len);
				o->target_name[len] = '\0';
			}
			return 1;
		default:
			return 1;
		}
	}
	return 1;
}

static int
on_integer(void *ctx, long long v)
{
	struct hpa_json *h = ctx;
	struct spot sp;

	if (h->w.depth == 0)
		return fail(h, "answer is not a JSON object");
	/* The one integer kept: an ERROR event's Status code. */
	if (locate(h, &sp) && !sp.event_level && sp.o == &h->obj &&
	    h->mode == HPA_JSON_WATCH && sp.rel == 0 && sp.k[0] == K_CODE) {
		if (v < 100 || v > 599)
			return fail(h, "status code out of range");
		h->obj.code = (int32_t)v;
	}
	return 1;
}

static int
on_other(void *ctx)
{
	struct hpa_json *h = ctx;

	if (h->w.depth == 0)
		return fail(h, "answer is not a JSON object");
	return 1;
}

static int
on_null(void *ctx)
{
	return on_other(ctx);
}

static int
on_boolean(void *ctx, int b)
{
	(void)b;
	return on_other(ctx);
}

static int
on_double(void *ctx, double v)
{
	(void)v;
	return on_other(ctx);
}

static int
on_start_map(void *ctx)
{
	struct hpa_json *h = ctx;

	if (jw_push(&h->w, 1) == NULL)
		return 0;
	if (h->mode == HPA_JSON_WATCH && h->w.depth == 1) {
		memset(&h->obj, 0, sizeof(h->obj));
		h->ev = HPA_EV_NONE;
	} else if (h->w.depth == 3 && in_item(h))
		memset(&h->obj, 0, sizeof(h->obj));
	return 1;
}

static int
on_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct hpa_json *h = ctx;

	h->w.st[h->w.depth - 1].key = (unsigned char)lookup_key(s, len);
	return 1;
}

/* Checks an item or event and hands it to the caller. */
static int
deliver(struct hpa_json *h, enum hpa_json_event ev)
{
	struct hpa_json_obj *o = &h->obj;

	switch (ev) {
	case HPA_EV_ADDED:
	case HPA_EV_MODIFIED:
	case HPA_EV_DELETED:
		if (o->name[0] == '\0' || o->rv[0] == '\0')
			return fail(h,
			    "object without metadata.name or "
			    "resourceVersion");
		break;
	case HPA_EV_BOOKMARK:
		if (o->rv[0] == '\0')
			return fail(h, "bookmark without resourceVersion");
		break;
	case HPA_EV_ERROR:
		if (o->code == 0)
			return fail(h, "ERROR event without a status code");
		break;
	case HPA_EV_NONE:
		return fail(h, "watch event without a type");
	}
	if (h->mode == HPA_JSON_LIST && h->count >= HPA_JSON_MAX_ITEMS)
		return fail(h, "too many items in one list");
	h->count++;
	jw_unit_done(&h->w);
	if (h->cb != NULL && h->cb(h->arg, ev, o) != 0)
		return fail(h, "aborted by caller");
	return 1;
}

static int
on_end_map(void *ctx)
{
	struct hpa_json *h = ctx;
	int item = h->w.depth == 3 && in_item(h), was = h->w.depth;

	jw_pop(&h->w);
	if (h->mode == HPA_JSON_WATCH && was == 1)
		return deliver(h, h->ev);
	if (item)
		return deliver(h, HPA_EV_ADDED);
	return 1;
}

static int
on_start_array(void *ctx)
{
	struct hpa_json *h = ctx;

	if (h->w.depth == 0)
		return fail(h, "answer is not a JSON object");
	return jw_push(&h->w, 0) != NULL;
}

static int
on_end_array(void *ctx)
{
	struct hpa_json *h = ctx;

	jw_pop(&h->w);
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

struct hpa_json *
hpa_json_new(enum hpa_json_mode mode, hpa_json_cb cb, void *arg)
{
	struct jw_config cfg = {
	    .callbacks = &callbacks,
	    .many = mode == HPA_JSON_WATCH, /* one event per line */
	    .max_bytes = HPA_JSON_MAX_UNIT_BYTES,
	    .units = 1,
	    .too_big = "one HorizontalPodAutoscaler exceeds the size limit",
	};
	struct hpa_json *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->mode = mode;
	h->cb = cb;
	h->arg = arg;
	if (jw_init(&h->w, &cfg, h) != 0) {
		free(h);
		return NULL;
	}
	return h;
}

void
hpa_json_free(struct hpa_json *h)
{
	if (h == NULL)
		return;
	jw_fini(&h->w);
	free(h);
}

int
hpa_json_feed(struct hpa_json *h, const void *buf, size_t len)
{
	return jw_feed(&h->w, buf, len);
}

int
hpa_json_finish(struct hpa_json *h)
{
	return jw_finish(&h->w);
}

const char *
hpa_json_error(const struct hpa_json *h)
{
	return jw_error(&h->w);
}

const struct hpa_json_obj *
hpa_json_top(const struct hpa_json *h)
{
	return &h->top;
}

size_t
hpa_json_count(const struct hpa_json *h)
{
	return h->count;
}

int
hpa_json_targets_deployment(const struct hpa_json_obj *o)
{
	/* apiVersion is "group/version"; a bare "v1" is the core group. */
	return o->target_name_ok && strcmp(o->target_kind, "Deployment") == 0 &&
	    strncmp(o->target_api_version, "apps/", 5) == 0 &&
	    o->target_api_version[5] != '\0' &&
	    strchr(o->target_api_version + 5, '/') == NULL;
}
