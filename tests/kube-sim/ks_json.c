/*
 * ks_json.c — bounded JSON trees for kube-sim (see ks_json.h).
 *
 * The parser is driven by yajl callbacks and refuses, before allocating,
 * documents deeper than KS_JSON_MAX_DEPTH, with more than KS_JSON_MAX_NODES
 * values, objects above KS_JSON_MAX_MEMBERS or strings above
 * KS_JSON_MAX_STRING.  Duplicate keys: the last one wins, as in Go's
 * encoding/json.  Strings are checked for valid UTF-8 by yajl.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_limits.h"

struct parse_ctx {
	struct ks_json *root;
	struct ks_json *stack[KS_JSON_MAX_DEPTH + 1];
	int depth;
	size_t nodes;
	char *key; /* pending member name */
	size_t keylen;
	enum ks_json_err err;
	struct ks_json_dups *dups; /* NULL: not recorded */
};

static int add_value(struct parse_ctx *, struct ks_json *);
static int cb_null(void *);
static int cb_bool(void *, int);
static int cb_number(void *, const char *, size_t);
static int cb_string(void *, const unsigned char *, size_t);
static int cb_start_map(void *);
static int cb_map_key(void *, const unsigned char *, size_t);
static int cb_end(void *);
static int cb_start_array(void *);
static struct ks_json *node_new(enum ks_json_type);
static char *dup_bytes(const void *, size_t);
static void detach_free_member(struct ks_json *, struct ks_json *);
static void move_content(struct ks_json *, struct ks_json *);

static const yajl_callbacks parse_callbacks = {
    cb_null,
    cb_bool,
    NULL,
    NULL,
    cb_number,
    cb_string,
    cb_start_map,
    cb_map_key,
    cb_end,
    cb_start_array,
    cb_end,
};

static struct ks_json *
node_new(enum ks_json_type t)
{
	struct ks_json *n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->type = t;
	return n;
}

static char *
dup_bytes(const void *p, size_t len)
{
	char *s;

	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

struct ks_json *
ks_json_new(enum ks_json_type t)
{
	return node_new(t);
}

struct ks_json *
ks_json_new_str(const char *s, size_t len)
{
	struct ks_json *n;

	if ((n = node_new(KS_JSON_STRING)) == NULL)
		return NULL;
	if ((n->val = dup_bytes(s, len)) == NULL) {
		free(n);
		return NULL;
	}
	n->len = len;
	return n;
}

struct ks_json *
ks_json_new_int(long long v)
{
	char buf[32];
	struct ks_json *n;
	int len;

	len = snprintf(buf, sizeof(buf), "%lld", v);
	if ((n = node_new(KS_JSON_NUMBER)) == NULL)
		return NULL;
	if ((n->val = dup_bytes(buf, (size_t)len)) == NULL) {
		free(n);
		return NULL;
	}
	n->len = (size_t)len;
	return n;
}

void
ks_json_free(struct ks_json *n)
{
	struct ks_json *c, *next;

	if (n == NULL)
		return;
	for (c = n->child; c != NULL; c = next) {
		next = c->next;
		ks_json_free(c);
	}
	free(n->key);
	free(n->val);
	free(n);
}

const char *
ks_json_strerror(enum ks_json_err e)
{
	switch (e) {
	case KS_JSON_OK:
		return "ok";
	case KS_JSON_ESYNTAX:
		return "invalid JSON";
	case KS_JSON_EEMPTY:
		return "unexpected end of JSON input";
	case KS_JSON_EDEPTH:
		return "exceeded max depth";
	case KS_JSON_ENODES:
		return "too many values";
	case KS_JSON_EMEMBERS:
		return "too many object members";
	case KS_JSON_ESTRING:
		return "string too long";
	case KS_JSON_ENOMEM:
		return "out of memory";
	}
	return "unknown error";
}

/* Remove member m from object o and free it. */
static void
detach_free_member(struct ks_json *o, struct ks_json *m)
{
	struct ks_json *p, *prev = NULL;

	for (p = o->child; p != NULL; prev = p, p = p->next) {
		if (p != m)
			continue;
		if (prev == NULL)
			o->child = p->next;
		else
			prev->next = p->next;
		if (o->last == p)
			o->last = prev;
		o->count--;
		p->next = NULL;
		ks_json_free(p);
		return;
	}
}

static struct ks_json *
find_member(const struct ks_json *o, const char *key, size_t keylen)
{
	struct ks_json *c;

	if (o == NULL || o->type != KS_JSON_OBJECT)
		return NULL;
	for (c = o->child; c != NULL; c = c->next) {
		if (c->keylen == keylen && memcmp(c->key, key, keylen) == 0)
			return c;
	}
	return NULL;
}

static void
link_child(struct ks_json *parent, struct ks_json *v)
{
	if (parent->last == NULL)
		parent->child = v;
	else
		parent->last->next = v;
	parent->last = v;
	parent->count++;
}

/* Remember the path of a duplicate member, the way sigs.k8s.io/json
 * names it: "spec.replicas", "spec.containers[0].name". */
static void
record_dup(struct parse_ctx *ctx)
{
	struct ks_json_dups *d = ctx->dups;
	char *out;
	size_t cap, off = 0;
	int i;

	if (d == NULL)
		return;
	if (d->n++ >= KS_JSON_MAX_DUPS)
		return;
	out = d->path[d->n - 1];
	cap = sizeof(d->path[0]);
	for (i = 1; i < ctx->depth && off < cap; i++) {
		const struct ks_json *up = ctx->stack[i - 1];

		if (up->type == KS_JSON_ARRAY)
			off += (size_t)snprintf(
			    out + off, cap - off, "[%zu]", up->count - 1);
		else
			off += (size_t)snprintf(out + off, cap - off, "%s%.*s",
			    off ? "." : "", (int)ctx->stack[i]->keylen,
			    ctx->stack[i]->key);
	}
	if (off < cap)
		snprintf(out + off, cap - off, "%s%.*s", off ? "." : "",
		    (int)ctx->keylen, ctx->key);
}

static int
add_value(struct parse_ctx *ctx, struct ks_json *v)
{
	struct ks_json *parent, *old;

	if (v == NULL) {
		ctx->err = KS_JSON_ENOMEM;
		return 0;
	}
	if (++ctx->nodes > KS_JSON_MAX_NODES) {
		ks_json_free(v);
		ctx->err = KS_JSON_ENODES;
		return 0;
	}
	if (ctx->depth == 0) {
		ctx->root = v;
		return 1;
	}
	parent = ctx->stack[ctx->depth - 1];
	if (parent->type == KS_JSON_OBJECT) {
		/* Last duplicate wins, as in Go's encoding/json. */
		if ((old = find_member(parent, ctx->key, ctx->keylen)) !=
		    NULL) {
			record_dup(ctx);
			detach_free_member(parent, old);
		}
		if (parent->count >= KS_JSON_MAX_MEMBERS) {
			ks_json_free(v);
			ctx->err = KS_JSON_EMEMBERS;
			return 0;
		}
		v->key = ctx->key;
		v->keylen = ctx->keylen;
		ctx->key = NULL;
	}
	link_child(parent, v);
	return 1;
}

static int
cb_null(void *arg)
{
	return add_value(arg, node_new(KS_JSON_NULL));
}

static int
cb_bool(void *arg, int b)
{
	return add_value(arg, node_new(b ? KS_JSON_TRUE : KS_JSON_FALSE));
}

static int
cb_number(void *arg, const char *s, size_t len)
{
	struct parse_ctx *ctx = arg;
	struct ks_json *n;

	if (len > KS_JSON_MAX_STRING) {
		ctx->err = KS_JSON_ESTRING;
		return 0;
	}
	if ((n = node_new(KS_JSON_NUMBER)) != NULL) {
		if ((n->val = dup_bytes(s, len)) == NULL) {
			free(n);
			n = NULL;
		} else
			n->len = len;
	}
	return add_value(ctx, n);
}

static int
cb_string(void *arg, const unsigned char *s, size_t len)
{
	struct parse_ctx *ctx = arg;

	if (len > KS_JSON_MAX_STRING) {
		ctx->err = KS_JSON_ESTRING;
		return 0;
	}
	return add_value(ctx, ks_json_new_str((const char *)s, len));
}

static int
start_container(struct parse_ctx *ctx, enum ks_json_type t)
{
	struct ks_json *n;

	if (ctx->depth >= KS_JSON_MAX_DEPTH) {
		ctx->err = KS_JSON_EDEPTH;
		return 0;
	}
	n = node_new(t);
	if (!add_value(ctx, n))
		return 0;
	ctx->stack[ctx->depth++] = n;
	return 1;
}

static int
cb_start_map(void *arg)
{
	return start_container(arg, KS_JSON_OBJECT);
}

static int
cb_start_array(void *arg)
{
	return start_container(arg, KS_JSON_ARRAY);
}

static int
cb_map_key(void *arg, const unsigned char *s, size_t len)
{
	struct parse_ctx *ctx = arg;

	if (len > KS_JSON_MAX_STRING) {
		ctx->err = KS_JSON_ESTRING;
		return 0;
	}
	free(ctx->key);
	if ((ctx->key = dup_bytes(s, len)) == NULL) {
		ctx->err = KS_JSON_ENOMEM;
		return 0;
	}
	ctx->keylen = len;
	return 1;
}

static int
cb_end(void *arg)
{
	struct parse_ctx *ctx = arg;

	if (ctx->depth > 0)
		ctx->depth--;
	return 1;
}

/*
 * Parse len bytes.  Returns the tree, or NULL with *err set and, for
 * syntax errors, yajl's one-line message copied into msg.
 */
struct ks_json *
ks_json_parse(const void *buf, size_t len, enum ks_json_err *err, char *msg,
    size_t msglen)
{
	return ks_json_parse_dups(buf, len, err, msg, msglen, NULL);
}

struct ks_json *
ks_json_parse_dups(const void *buf, size_t len, enum ks_json_err *err,
    char *msg, size_t msglen, struct ks_json_dups *dups)
{
	struct parse_ctx ctx;
	yajl_handle h;
	yajl_status st;
	unsigned char *yerr;
	size_t n;

	memset(&ctx, 0, sizeof(ctx));
	ctx.dups = dups;
	if (dups != NULL)
		dups->n = 0;
	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	if ((h = yajl_alloc(&parse_callbacks, NULL, &ctx)) == NULL) {
		*err = KS_JSON_ENOMEM;
		return NULL;
	}
	st = yajl_parse(h, buf, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	if (st != yajl_status_ok || ctx.root == NULL) {
		if (ctx.err == KS_JSON_OK)
			ctx.err = ctx.root == NULL && st == yajl_status_ok
			    ? KS_JSON_EEMPTY
			    : KS_JSON_ESYNTAX;
		if (ctx.err == KS_JSON_ESYNTAX && msg != NULL && msglen > 0 &&
		    (yerr = yajl_get_error(h, 0, buf, len)) != NULL) {
			snprintf(msg, msglen, "%s", (char *)yerr);
			n = strcspn(msg, "\n");
			msg[n] = '\0';
			yajl_free_error(h, yerr);
		}
		if (ctx.err == KS_JSON_ESYNTAX) {
			const char *b = buf;

			for (n = 0;
			     n < len && strchr(" \t\r\n", b[n]) && b[n] != '\0';
			     n++)
				;
			if (n == len)
				ctx.err = KS_JSON_EEMPTY;
		}
		yajl_free(h);
		free(ctx.key);
		ks_json_free(ctx.root);
		*err = ctx.err;
		return NULL;
	}
	yajl_free(h);
	free(ctx.key);
	*err = KS_JSON_OK;
	return ctx.root;
}

struct ks_json *
ks_json_clone(const struct ks_json *n)
{
	struct ks_json *c, *e, *ce;

	if (n == NULL)
		return NULL;
	if ((c = node_new(n->type)) == NULL)
		return NULL;
	if (n->val != NULL) {
		if ((c->val = dup_bytes(n->val, n->len)) == NULL)
			goto fail;
		c->len = n->len;
	}
	for (e = n->child; e != NULL; e = e->next) {
		if ((ce = ks_json_clone(e)) == NULL)
			goto fail;
		if (e->key != NULL) {
			if ((ce->key = dup_bytes(e->key, e->keylen)) == NULL) {
				ks_json_free(ce);
				goto fail;
			}
			ce->keylen = e->keylen;
		}
		link_child(c, ce);
	}
	return c;
fail:
	ks_json_free(c);
	return NULL;
}

/* Deep equality; object member order does not matter. */
int
ks_json_equal(const struct ks_json *a, const struct ks_json *b)
{
	const struct ks_json *x, *y;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case KS_JSON_NULL:
	case KS_JSON_TRUE:
	case KS_JSON_FALSE:
		return 1;
	case KS_JSON_NUMBER:
	case KS_JSON_STRING:
		return a->len == b->len && memcmp(a->val, b->val, a->len) == 0;
	case KS_JSON_ARRAY:
		if (a->count != b->count)
			return 0;
		for (x = a->child, y = b->child; x != NULL;
		     x = x->next, y = y->next) {
			if (!ks_json_equal(x, y))
				return 0;
		}
		return 1;
	case KS_JSON_OBJECT:
		if (a->count != b->count)
			return 0;
		for (x = a->child; x != NULL; x = x->next) {
			y = find_member(b, x->key, x->keylen);
			if (y == NULL || !ks_json_equal(x, y))
				return 0;
		}
		return 1;
	}
	return 0;
}

struct ks_json *
ks_json_get(const struct ks_json *o, const char *key)
{
	return find_member(o, key, strlen(key));
}

/* Dotted path lookup ("spec.replicas"); keys containing dots need
 * ks_json_get. */
struct ks_json *
ks_json_getp(const struct ks_json *o, const char *path)
{
	const char *p = path, *dot;
	struct ks_json *cur = (struct ks_json *)(uintptr_t)o;

	while (cur != NULL) {
		dot = strchr(p, '.');
		if (dot == NULL)
			return find_member(cur, p, strlen(p));
		cur = find_member(cur, p, (size_t)(dot - p));
		p = dot + 1;
	}
	return NULL;
}

const char *
ks_json_str(const struct ks_json *n)
{
	if (n == NULL || n->type != KS_JSON_STRING)
		return NULL;
	return n->val;
}

/* An integral number in long long range: 0, else -1. */
int
ks_json_int(const struct ks_json *n, long long *out)
{
	char *end;
	long long v;

	if (n == NULL || n->type != KS_JSON_NUMBER)
		return -1;
	if (strpbrk(n->val, ".eE") != NULL)
		return -1;
	errno = 0;
	v = strtoll(n->val, &end, 10);
	if (errno != 0 || *end != '\0' || end == n->val)
		return -1;
	*out = v;
	return 0;
}

int
ks_json_set(struct ks_json *o, const char *key, struct ks_json *val)
{
	struct ks_json *old;
	size_t keylen = strlen(key);

	if (val == NULL)
		return -1;
	if (o == NULL || o->type != KS_JSON_OBJECT)
		goto fail;
	if ((old = find_member(o, key, keylen)) != NULL) {
		/* Replace in place: member order stays stable. */
		move_content(old, val);
		return 0;
	}
	free(val->key);
	if ((val->key = dup_bytes(key, keylen)) == NULL)
		goto fail;
	val->keylen = keylen;
	link_child(o, val);
	return 0;
fail:
	ks_json_free(val);
	return -1;
}

int
ks_json_set_str(struct ks_json *o, const char *key, const char *s)
{
	return ks_json_set(o, key, ks_json_new_str(s, strlen(s)));
}

int
ks_json_set_int(struct ks_json *o, const char *key, long long v)
{
	return ks_json_set(o, key, ks_json_new_int(v));
}

struct ks_json *
ks_json_obj(struct ks_json *o, const char *key)
{
	struct ks_json *m;

	m = ks_json_get(o, key);
	if (m != NULL && m->type == KS_JSON_OBJECT)
		return m;
	if ((m = node_new(KS_JSON_OBJECT)) == NULL)
		return NULL;
	if (ks_json_set(o, key, m) != 0)
		return NULL;
	/* ks_json_set moved m into an existing member and freed m: look
	 * the member up again. */
	return ks_json_get(o, key);
}

void
ks_json_del(struct ks_json *o, const char *key)
{
	struct ks_json *m;

	if ((m = ks_json_get(o, key)) != NULL)
		detach_free_member(o, m);
}

int
ks_json_append(struct ks_json *a, struct ks_json *val)
{
	if (val == NULL)
		return -1;
	if (a == NULL || a->type != KS_JSON_ARRAY) {
		ks_json_free(val);
		return -1;
	}
	link_child(a, val);
	return 0;
}

/* Move the value of src into dst (keeping dst's key and link); frees src. */
static void
move_content(struct ks_json *dst, struct ks_json *src)
{
	struct ks_json *c, *next;

	for (c = dst->child; c != NULL; c = next) {
		next = c->next;
		ks_json_free(c);
	}
	free(dst->val);
	dst->type = src->type;
	dst->val = src->val;
	dst->len = src->len;
	dst->child = src->child;
	dst->last = src->last;
	dst->count = src->count;
	free(src->key);
	free(src);
}

static int
merge_into(struct ks_json *t, const struct ks_json *patch)
{
	const struct ks_json *p;
	struct ks_json *child, *fresh;

	for (p = patch->child; p != NULL; p = p->next) {
		child = find_member(t, p->key, p->keylen);
		if (p->type == KS_JSON_NULL) {
			if (child != NULL)
				detach_free_member(t, child);
			continue;
		}
		if (child == NULL) {
			if ((child = node_new(KS_JSON_NULL)) == NULL)
				return -1;
			if ((child->key = dup_bytes(p->key, p->keylen)) ==
			    NULL) {
				free(child);
				return -1;
			}
			child->keylen = p->keylen;
			link_child(t, child);
		}
		if (p->type == KS_JSON_OBJECT) {
			if (child->type != KS_JSON_OBJECT) {
				if ((fresh = node_new(KS_JSON_OBJECT)) == NULL)
					return -1;
				move_content(child, fresh);
			}
			if (merge_into(child, p) != 0)
				return -1;
		} else {
			if ((fresh = ks_json_clone(p)) == NULL)
				return -1;
			move_content(child, fresh);
		}
	}
	return 0;
}

/* RFC 7386: objects merge member by member, null deletes, anything else
 * replaces.  *target may be NULL or replaced. */
int
ks_json_merge_patch(struct ks_json **target, const struct ks_json *patch)
{
	struct ks_json *t;

	if (patch->type != KS_JSON_OBJECT) {
		if ((t = ks_json_clone(patch)) == NULL)
			return -1;
		ks_json_free(*target);
		*target = t;
		return 0;
	}
	if (*target == NULL || (*target)->type != KS_JSON_OBJECT) {
		if ((t = node_new(KS_JSON_OBJECT)) == NULL)
			return -1;
		ks_json_free(*target);
		*target = t;
	}
	return merge_into(*target, patch);
}

yajl_gen
ks_gen_new(void)
{
	yajl_gen g;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		return NULL;
	yajl_gen_config(g, yajl_gen_beautify, 0);
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

int
ks_gen_str(yajl_gen g, const char *s)
{
	return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) ==
	        yajl_gen_status_ok
	    ? 0
	    : -1;
}

int
ks_gen_kstr(yajl_gen g, const char *k, const char *v)
{
	if (ks_gen_str(g, k) != 0 || ks_gen_str(g, v) != 0)
		return -1;
	return 0;
}

int
ks_gen_kint(yajl_gen g, const char *k, long long v)
{
	if (ks_gen_str(g, k) != 0 ||
	    yajl_gen_integer(g, v) != yajl_gen_status_ok)
		return -1;
	return 0;
}

static int
skipped(const struct ks_json *m, const char *const *skip)
{
	size_t i;

	if (skip == NULL)
		return 0;
	for (i = 0; skip[i] != NULL; i++) {
		if (strcmp(m->key, skip[i]) == 0)
			return 1;
	}
	return 0;
}

int
ks_json_gen_members(
    yajl_gen g, const struct ks_json *o, const char *const *skip)
{
	const struct ks_json *c;

	if (o == NULL || o->type != KS_JSON_OBJECT)
		return 0;
	for (c = o->child; c != NULL; c = c->next) {
		if (skipped(c, skip))
			continue;
		if (yajl_gen_string(g, (const unsigned char *)c->key,
		        c->keylen) != yajl_gen_status_ok)
			return -1;
		if (ks_json_gen(g, c) != 0)
			return -1;
	}
	return 0;
}

int
ks_json_gen(yajl_gen g, const struct ks_json *n)
{
	const struct ks_json *c;
	yajl_gen_status st = yajl_gen_status_ok;

	switch (n->type) {
	case KS_JSON_NULL:
		st = yajl_gen_null(g);
		break;
	case KS_JSON_TRUE:
	case KS_JSON_FALSE:
		st = yajl_gen_bool(g, n->type == KS_JSON_TRUE);
		break;
	case KS_JSON_NUMBER:
		st = yajl_gen_number(g, n->val, n->len);
		break;
	case KS_JSON_STRING:
		st = yajl_gen_string(g, (const unsigned char *)n->val, n->len);
		break;
	case KS_JSON_ARRAY:
		if (yajl_gen_array_open(g) != yajl_gen_status_ok)
			return -1;
		for (c = n->child; c != NULL; c = c->next) {
			if (ks_json_gen(g, c) != 0)
				return -1;
		}
		st = yajl_gen_array_close(g);
		break;
	case KS_JSON_OBJECT:
		if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    ks_json_gen_members(g, n, NULL) != 0)
			return -1;
		st = yajl_gen_map_close(g);
		break;
	}
	return st == yajl_gen_status_ok ? 0 : -1;
}
