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
#include "core/kjson.h"
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
    {"replicas", K_REPLICAS},
    {"readyReplicas", K_READY},
    {"availableReplicas", K_AVAILABLE},
    {"updatedReplicas", K_UPDATED},
    {"observedGeneration", K_OBSERVED_GENERATION},
    {"code", K_CODE},
    {"reason", K_REASON},
    {"message", K_MESSAGE},
};

struct level {
	unsigned char is_map;
	unsigned char key; /* enum key of the member being read (maps) */
};

struct kjson {
	enum kjson_mode mode;
	kjson_cb cb;
	void *arg;
	yajl_handle h;
	struct level st[KJSON_MAX_DEPTH];
	int depth;            /* open containers */
	struct kjson_obj top; /* list level / single object */
	struct kjson_obj obj; /* current item or event object */
	enum kjson_event ev;  /* current watch event's type */
	size_t count;         /* items / events delivered */
	size_t unit_bytes;    /* bytes fed since the last item/event ended */
	int nonblank;         /* a byte other than JSON whitespace was fed */
	int dead;
	char err[160];
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
	if (k->err[0] == '\0') {
		strncpy(k->err, what, sizeof(k->err) - 1);
		k->err[sizeof(k->err) - 1] = '\0';
	}
	k->dead = 1;
}

/* Every answer and every watch event is an object; a bare value is not. */
static int
top_level_scalar(struct kjson *k)
{
	if (k->depth != 0)
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
		return k->depth >= 1 ? 0 : -1;
	case KJSON_LIST:
		if (k->depth >= 3 && k->st[0].key == K_ITEMS &&
		    !k->st[1].is_map && k->st[2].is_map) {
			*o = &k->obj;
			return 2;
		}
		*o = &k->top;
		return k->depth >= 1 ? 0 : -1;
	case KJSON_WATCH:
		if (k->depth >= 2 && k->st[0].key == K_OBJECT &&
		    k->st[1].is_map) {
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
	int root, t = k->depth - 1;

	memset(sp, 0, sizeof(*sp));
	if (t < 0 || !k->st[t].is_map)
		return 0; /* array members are never fields we keep */
	if (k->mode == KJSON_WATCH && t == 0) {
		sp->event_level = 1;
		sp->k[0] = k->st[0].key;
		return 1;
	}
	root = object_root(k, &sp->o);
	if (root < 0 || t - root > 2)
		return 0;
	sp->rel = t - root;
	for (int i = 0; i <= sp->rel; i++) {
		if (!k->st[root + i].is_map)
			return 0;
		sp->k[i] = k->st[root + i].key;
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
	if (sp.rel == 2 && sp.k[0] == K_METADATA && sp.k[1] == K_ANNOTATIONS &&
	    sp.k[2] == K_INITIAL_EVENTS_END)
		o->initial_events_end = len == 4 && memcmp(s, "true", 4) == 0;
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
	if (k->depth == 0 && !is_map) {
		fail(k, "answer is not a JSON object");
		return 0;
	}
	if (k->depth >= KJSON_MAX_DEPTH) {
		fail(k, "JSON nested too deeply");
		return 0;
	}
	k->st[k->depth].is_map = (unsigned char)is_map;
	k->st[k->depth].key = K_NONE;
	k->depth++;
	return 1;
}

static int
on_start_map(void *ctx)
{
	struct kjson *k = ctx;

	if (!push(k, 1))
		return 0;
	if (k->mode == KJSON_WATCH && k->depth == 1) {
		memset(&k->obj, 0, sizeof(k->obj));
		k->ev = KJSON_EV_NONE;
	} else if (k->mode == KJSON_LIST && k->depth == 3 &&
	    k->st[0].key == K_ITEMS && !k->st[1].is_map)
		memset(&k->obj, 0, sizeof(k->obj));
	return 1;
}

static int
on_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct kjson *k = ctx;

	k->st[k->depth - 1].key = (unsigned char)lookup_key(s, len);
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
	k->unit_bytes = 0;
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
	int was = k->depth;

	k->depth--;
	if (k->mode == KJSON_WATCH && was == 1)
		return deliver(k, k->ev);
	if (k->mode == KJSON_LIST && was == 3 && k->st[0].key == K_ITEMS &&
	    !k->st[1].is_map)
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

	k->depth--;
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
	struct kjson *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->mode = mode;
	k->cb = cb;
	k->arg = arg;
	if ((k->h = yajl_alloc(&callbacks, NULL, k)) == NULL) {
		free(k);
		return NULL;
	}
	/* A watch is a stream of values, one per line. */
	if (mode == KJSON_WATCH)
		yajl_config(k->h, yajl_allow_multiple_values, 1);
	return k;
}

void
kjson_free(struct kjson *k)
{
	if (k == NULL)
		return;
	yajl_free(k->h);
	free(k);
}

static void
fail_yajl(struct kjson *k, yajl_status st)
{
	char msg[160];

	if (st == yajl_status_client_canceled && k->err[0] != '\0') {
		k->dead = 1;
		return;
	}
	/* yajl's verbose form quotes the input: never log the API's bytes. */
	snprintf(
	    msg, sizeof(msg), "invalid JSON (%s)", yajl_status_to_string(st));
	fail(k, msg);
}

int
kjson_feed_slices(yajl_handle h, const void *buf, size_t len,
    size_t *unit_bytes, size_t max_unit, int *nonblank, yajl_status *st)
{
	const unsigned char *p = buf;
	size_t n;

	*st = yajl_status_ok;
	for (size_t i = 0; i < len && !*nonblank; i++)
		*nonblank =
		    p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r';
	while (len > 0) {
		n = len < KJSON_FEED_SLICE ? len : KJSON_FEED_SLICE;
		*unit_bytes += n;
		if (*unit_bytes > max_unit + KJSON_FEED_SLICE)
			return -1;
		if ((*st = yajl_parse(h, p, n)) != yajl_status_ok)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int
kjson_feed(struct kjson *k, const void *buf, size_t len)
{
	yajl_status st;

	if (k->dead)
		return -1;
	if (kjson_feed_slices(k->h, buf, len, &k->unit_bytes,
	        KJSON_MAX_UNIT_BYTES, &k->nonblank, &st) == 0)
		return 0;
	if (st == yajl_status_ok)
		fail(k, "one object exceeds the size limit");
	else
		fail_yajl(k, st);
	return -1;
}

int
kjson_finish(struct kjson *k)
{
	yajl_status st;

	if (k->dead)
		return -1;
	/* A watch that ended before its first event (or only sent blank
	 * lines) ended cleanly; yajl would call the empty input an error. */
	if (k->mode == KJSON_WATCH && !k->nonblank)
		return 0;
	st = yajl_complete_parse(k->h);
	if (st != yajl_status_ok) {
		fail_yajl(k, st);
		return -1;
	}
	if (k->mode != KJSON_WATCH && k->depth != 0) {
		fail(k, "incomplete JSON");
		return -1;
	}
	return 0;
}

const char *
kjson_error(const struct kjson *k)
{
	return k->err[0] != '\0' ? k->err : "no error";
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

/* ------------------------------------------------------------------ */
/* Lease (coordination.k8s.io/v1): a strict parser of its own (kjson.h) */

enum lkey {
	LK_NONE,
	LK_OTHER,
	LK_KIND,
	LK_METADATA,
	LK_SPEC,
	LK_NAME,
	LK_NAMESPACE,
	LK_RV,
	LK_HOLDER,
	LK_DURATION,
	LK_ACQUIRE,
	LK_RENEW,
	LK_TRANSITIONS
};

static const struct {
	const char *s;
	enum lkey k;
} lease_keys[] = {
    {"kind", LK_KIND},
    {"metadata", LK_METADATA},
    {"spec", LK_SPEC},
    {"name", LK_NAME},
    {"namespace", LK_NAMESPACE},
    {"resourceVersion", LK_RV},
    {"holderIdentity", LK_HOLDER},
    {"leaseDurationSeconds", LK_DURATION},
    {"acquireTime", LK_ACQUIRE},
    {"renewTime", LK_RENEW},
    {"leaseTransitions", LK_TRANSITIONS},
};

/* What the value being parsed is, as far as a Lease is concerned. */
enum lfield {
	LF_SKIP,    /* not kept: any type, checked by yajl only */
	LF_SECTION, /* metadata or spec: an object (or null) */
	LF_KIND,    /* strings from here */
	LF_NAME,
	LF_NAMESPACE,
	LF_RV,
	LF_HOLDER,
	LF_ACQUIRE,
	LF_RENEW,
	LF_DURATION, /* integers from here */
	LF_TRANSITIONS
};

static const char *const lfield_names[] = {
    [LF_SKIP] = "?",
    [LF_SECTION] = "metadata/spec",
    [LF_KIND] = "kind",
    [LF_NAME] = "metadata.name",
    [LF_NAMESPACE] = "metadata.namespace",
    [LF_RV] = "metadata.resourceVersion",
    [LF_HOLDER] = "spec.holderIdentity",
    [LF_ACQUIRE] = "spec.acquireTime",
    [LF_RENEW] = "spec.renewTime",
    [LF_DURATION] = "spec.leaseDurationSeconds",
    [LF_TRANSITIONS] = "spec.leaseTransitions",
};

struct kjson_lease_parser {
	yajl_handle h;
	struct level st[KJSON_MAX_DEPTH];
	int depth;
	size_t bytes;
	int dead;
	char err[160];
	struct kjson_lease out;
};

static void __attribute__((format(printf, 2, 3)))
lfail(struct kjson_lease_parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(p->err, sizeof(p->err), fmt, ap);
		va_end(ap);
	}
	p->dead = 1;
}

static enum lfield
lease_field(const struct kjson_lease_parser *p)
{
	int t = p->depth - 1;

	if (t < 0 || t > 1 || !p->st[t].is_map)
		return LF_SKIP;
	if (t == 0) {
		switch (p->st[0].key) {
		case LK_KIND:
			return LF_KIND;
		case LK_METADATA:
		case LK_SPEC:
			return LF_SECTION;
		default:
			return LF_SKIP;
		}
	}
	/* t == 1: st[1] is the metadata or spec object (an array there was
	 * refused when it opened). */
	if (p->st[0].key == LK_METADATA)
		switch (p->st[1].key) {
		case LK_NAME:
			return LF_NAME;
		case LK_NAMESPACE:
			return LF_NAMESPACE;
		case LK_RV:
			return LF_RV;
		default:
			return LF_SKIP;
		}
	if (p->st[0].key == LK_SPEC)
		switch (p->st[1].key) {
		case LK_HOLDER:
			return LF_HOLDER;
		case LK_DURATION:
			return LF_DURATION;
		case LK_ACQUIRE:
			return LF_ACQUIRE;
		case LK_RENEW:
			return LF_RENEW;
		case LK_TRANSITIONS:
			return LF_TRANSITIONS;
		default:
			return LF_SKIP;
		}
	return LF_SKIP;
}

/* A scalar or container where the Lease expects another type. */
static int
lease_wrong_type(struct kjson_lease_parser *p, enum lfield f)
{
	if (f == LF_SKIP)
		return 0;
	if (f == LF_SECTION)
		lfail(p, "%s is not an object", lfield_names[f]);
	else if (f >= LF_DURATION)
		lfail(p, "%s is not an integer", lfield_names[f]);
	else
		lfail(p, "%s is not a string", lfield_names[f]);
	return 1;
}

static int
lease_top_scalar(struct kjson_lease_parser *p)
{
	if (p->depth != 0)
		return 0;
	lfail(p, "%s", "answer is not a JSON object");
	return 1;
}

static int
lease_on_null(void *ctx)
{
	struct kjson_lease_parser *p = ctx;
	struct kjson_lease *o = &p->out;

	if (lease_top_scalar(p))
		return 0;
	/* null is Go's "absent" (the pointer fields of LeaseSpec). */
	switch (lease_field(p)) {
	case LF_KIND:
		o->kind[0] = '\0';
		break;
	case LF_NAME:
		o->name[0] = '\0';
		break;
	case LF_NAMESPACE:
		o->namespace[0] = '\0';
		break;
	case LF_RV:
		o->rv[0] = '\0';
		break;
	case LF_HOLDER:
		o->holder[0] = '\0';
		break;
	case LF_ACQUIRE:
		o->acquire_time[0] = '\0';
		break;
	case LF_RENEW:
		o->renew_time[0] = '\0';
		break;
	case LF_DURATION:
		o->duration_s = 0;
		break;
	case LF_TRANSITIONS:
		o->transitions = 0;
		break;
	case LF_SKIP:
	case LF_SECTION:
		break;
	}
	return 1;
}

static int
lease_on_boolean(void *ctx, int b)
{
	struct kjson_lease_parser *p = ctx;

	(void)b;
	if (lease_top_scalar(p))
		return 0;
	return !lease_wrong_type(p, lease_field(p));
}

static int
lease_on_double(void *ctx, double v)
{
	struct kjson_lease_parser *p = ctx;

	(void)v;
	if (lease_top_scalar(p))
		return 0;
	return !lease_wrong_type(p, lease_field(p));
}

static int
lease_on_integer(void *ctx, long long v)
{
	struct kjson_lease_parser *p = ctx;
	enum lfield f;

	if (lease_top_scalar(p))
		return 0;
	f = lease_field(p);
	if (f == LF_DURATION) {
		if (v < KJSON_LEASE_MIN_DURATION ||
		    v > KJSON_LEASE_MAX_DURATION) {
			lfail(p, "%s out of range (1..3600)", lfield_names[f]);
			return 0;
		}
		p->out.duration_s = (int32_t)v;
		return 1;
	}
	if (f == LF_TRANSITIONS) {
		if (v < 0 || v > INT32_MAX) {
			lfail(p, "%s out of range", lfield_names[f]);
			return 0;
		}
		p->out.transitions = (int32_t)v;
		return 1;
	}
	return !lease_wrong_type(p, f);
}

/* Bytes in [lo, hi], at most dstsz - 1 of them, copied with a NUL. */
static int
lease_copy(struct kjson_lease_parser *p, enum lfield f, char *dst, size_t dstsz,
    const unsigned char *s, size_t len, unsigned char lo)
{
	if (len >= dstsz) {
		lfail(p, "%s too long", lfield_names[f]);
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		if (s[i] < lo || s[i] > 0x7e) {
			lfail(p, "%s has invalid bytes", lfield_names[f]);
			return 0;
		}
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 1;
}

static int
lease_on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct kjson_lease_parser *p = ctx;
	struct kjson_lease *o = &p->out;
	enum lfield f;

	if (lease_top_scalar(p))
		return 0;
	f = lease_field(p);
	switch (f) {
	case LF_KIND:
		return lease_copy(p, f, o->kind, sizeof(o->kind), s, len, 0x21);
	case LF_NAME:
		if (ps_valid_str(PS_STR_NAME, (const char *)s, len) != PS_OK) {
			lfail(p, "%s is not a DNS-1123 subdomain",
			    lfield_names[f]);
			return 0;
		}
		return lease_copy(p, f, o->name, sizeof(o->name), s, len, 0x21);
	case LF_NAMESPACE:
		if (ps_valid_str(PS_STR_NAMESPACE, (const char *)s, len) !=
		    PS_OK) {
			lfail(p, "%s is not a DNS-1123 label", lfield_names[f]);
			return 0;
		}
		return lease_copy(
		    p, f, o->namespace, sizeof(o->namespace), s, len, 0x21);
	case LF_RV:
		return lease_copy(p, f, o->rv, sizeof(o->rv), s, len, 0x21);
	case LF_HOLDER:
		/* Printable ASCII (space included); "" is a released lease. */
		return lease_copy(
		    p, f, o->holder, sizeof(o->holder), s, len, 0x20);
	case LF_ACQUIRE:
	case LF_RENEW:
		if (!kjson_valid_time((const char *)s, len)) {
			lfail(p, "%s is not an RFC 3339 time", lfield_names[f]);
			return 0;
		}
		if (f == LF_ACQUIRE)
			return lease_copy(p, f, o->acquire_time,
			    sizeof(o->acquire_time), s, len, 0x21);
		return lease_copy(
		    p, f, o->renew_time, sizeof(o->renew_time), s, len, 0x21);
	case LF_DURATION:
	case LF_TRANSITIONS:
	case LF_SECTION:
		lease_wrong_type(p, f);
		return 0;
	case LF_SKIP:
		break;
	}
	return 1;
}

static int
lease_push(struct kjson_lease_parser *p, int is_map)
{
	enum lfield f = lease_field(p);

	if (p->depth == 0 && !is_map) {
		lfail(p, "%s", "answer is not a JSON object");
		return 0;
	}
	if (f == LF_SECTION && !is_map) {
		lease_wrong_type(p, f);
		return 0;
	}
	if (f != LF_SECTION && lease_wrong_type(p, f))
		return 0;
	if (p->depth >= KJSON_MAX_DEPTH) {
		lfail(p, "%s", "JSON nested too deeply");
		return 0;
	}
	p->st[p->depth].is_map = (unsigned char)is_map;
	p->st[p->depth].key = LK_NONE;
	p->depth++;
	return 1;
}

static int
lease_on_start_map(void *ctx)
{
	return lease_push(ctx, 1);
}

static int
lease_on_start_array(void *ctx)
{
	return lease_push(ctx, 0);
}

static int
lease_on_end(void *ctx)
{
	struct kjson_lease_parser *p = ctx;

	p->depth--;
	return 1;
}

static int
lease_on_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct kjson_lease_parser *p = ctx;
	enum lkey k = LK_OTHER;

	for (size_t i = 0; i < sizeof(lease_keys) / sizeof(lease_keys[0]); i++)
		if (strlen(lease_keys[i].s) == len &&
		    memcmp(lease_keys[i].s, s, len) == 0) {
			k = lease_keys[i].k;
			break;
		}
	p->st[p->depth - 1].key = (unsigned char)k;
	return 1;
}

static const yajl_callbacks lease_callbacks = {
    .yajl_null = lease_on_null,
    .yajl_boolean = lease_on_boolean,
    .yajl_integer = lease_on_integer,
    .yajl_double = lease_on_double,
    .yajl_string = lease_on_string,
    .yajl_start_map = lease_on_start_map,
    .yajl_map_key = lease_on_map_key,
    .yajl_end_map = lease_on_end,
    .yajl_start_array = lease_on_start_array,
    .yajl_end_array = lease_on_end,
};

struct kjson_lease_parser *
kjson_lease_new(void)
{
	struct kjson_lease_parser *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->h = yajl_alloc(&lease_callbacks, NULL, p)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void
kjson_lease_free(struct kjson_lease_parser *p)
{
	if (p == NULL)
		return;
	yajl_free(p->h);
	free(p);
}

static void
lease_fail_yajl(struct kjson_lease_parser *p, yajl_status st)
{
	if (st == yajl_status_client_canceled && p->err[0] != '\0') {
		p->dead = 1;
		return;
	}
	/* Never yajl's verbose form: it quotes the API's bytes. */
	lfail(p, "invalid JSON (%s)", yajl_status_to_string(st));
}

int
kjson_lease_feed(struct kjson_lease_parser *p, const void *buf, size_t len)
{
	yajl_status st;

	if (p->dead)
		return -1;
	/* "remaining < needed", never "used + needed > max". */
	if (KJSON_MAX_LEASE_BYTES - p->bytes < len) {
		lfail(p, "%s", "Lease answer exceeds the size limit");
		return -1;
	}
	p->bytes += len;
	if ((st = yajl_parse(p->h, buf, len)) != yajl_status_ok) {
		lease_fail_yajl(p, st);
		return -1;
	}
	return 0;
}

int
kjson_lease_finish(struct kjson_lease_parser *p, struct kjson_lease *out)
{
	yajl_status st;

	memset(out, 0, sizeof(*out));
	if (p->dead)
		return -1;
	if ((st = yajl_complete_parse(p->h)) != yajl_status_ok) {
		lease_fail_yajl(p, st);
		return -1;
	}
	if (p->depth != 0 || p->bytes == 0) {
		lfail(p, "%s", "incomplete JSON");
		return -1;
	}
	if (p->out.kind[0] != '\0' && strcmp(p->out.kind, "Lease") != 0) {
		lfail(p, "%s", "answer is not a Lease");
		return -1;
	}
	if (p->out.name[0] == '\0' || p->out.rv[0] == '\0') {
		lfail(
		    p, "%s", "Lease without metadata.name or resourceVersion");
		return -1;
	}
	*out = p->out;
	return 0;
}

const char *
kjson_lease_error(const struct kjson_lease_parser *p)
{
	return p->err[0] != '\0' ? p->err : "no error";
}

/* n decimal digits at s as a number in [lo, hi]; 1 or 0. */
static int
time_digits(const char *s, int n, int lo, int hi)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v >= lo && v <= hi;
}

int
kjson_valid_time(const char *s, size_t len)
{
	size_t i;

	/* YYYY-MM-DDTHH:MM:SS[.F{1,9}](Z|+HH:MM|-HH:MM) */
	if (len < 20 || len > KJSON_MAX_MICROTIME)
		return 0;
	if (!time_digits(s, 4, 0, 9999) || s[4] != '-' ||
	    !time_digits(s + 5, 2, 1, 12) || s[7] != '-' ||
	    !time_digits(s + 8, 2, 1, 31) || (s[10] != 'T' && s[10] != 't') ||
	    !time_digits(s + 11, 2, 0, 23) || s[13] != ':' ||
	    !time_digits(s + 14, 2, 0, 59) || s[16] != ':' ||
	    !time_digits(s + 17, 2, 0, 60))
		return 0;
	i = 19;
	if (s[i] == '.') {
		size_t start = ++i;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start || i - start > 9)
			return 0;
	}
	if (len - i == 1)
		return s[i] == 'Z' || s[i] == 'z';
	if (len - i == 6)
		return (s[i] == '+' || s[i] == '-') &&
		    time_digits(s + i + 1, 2, 0, 23) && s[i + 3] == ':' &&
		    time_digits(s + i + 4, 2, 0, 59);
	return 0;
}
