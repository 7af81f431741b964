/*
 * ks_jpatch.c — RFC 6902 JSON patch on ks_json trees (see ks_jpatch.h).
 *
 * JSON pointers (RFC 6901) are walked token by token with lengths, never
 * NUL-terminated scans, so "\u0000" inside a key is just a byte.  Array
 * indexes: decimal without leading zeros, "-" appends (add, and the
 * destination of move/copy), negative indexes count from the end as
 * json-patch's SupportNegativeIndices does.  The document's node count is
 * tracked so that copy cannot grow it without bound.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kube-sim/ks_jpatch.h"
#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_limits.h"

struct jp {
	char *msg;
	size_t msglen;
	size_t nodes; /* values in the document now */
};

static enum ks_jpatch_err jp_fail(struct jp *, enum ks_jpatch_err, const char *,
    ...) __attribute__((format(printf, 3, 4)));

static enum ks_jpatch_err
jp_fail(struct jp *j, enum ks_jpatch_err e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->msg, j->msglen, fmt, ap);
	va_end(ap);
	return e;
}

/* Nesting of n (a scalar is 1); the tree is at most KS_JSON_MAX_DEPTH
 * deep, which every put keeps true. */
static size_t
depth_of(const struct ks_json *n)
{
	const struct ks_json *c;
	size_t d = 0, x;

	for (c = n->child; c != NULL; c = c->next) {
		if ((x = depth_of(c)) > d)
			d = x;
	}
	return d + 1;
}

static size_t
count_nodes(const struct ks_json *n)
{
	const struct ks_json *c;
	size_t k = 1;

	for (c = n->child; c != NULL; c = c->next)
		k += count_nodes(c);
	return k;
}

/* Next unescaped token of pointer p[*pos..len) into tok (len+1 bytes);
 * 1 got one, 0 at the end, -1 bad escape. */
static int
next_token(const char *p, size_t len, size_t *pos, char *tok, size_t *toklen)
{
	size_t i = *pos, n = 0;

	if (i >= len)
		return 0;
	/* p[i] == '/' */
	for (i++; i < len && p[i] != '/'; i++) {
		if (p[i] == '~') {
			if (len - i < 2 || (p[i + 1] != '0' && p[i + 1] != '1'))
				return -1;
			tok[n++] = p[i + 1] == '0' ? '~' : '/';
			i++;
		} else
			tok[n++] = p[i];
	}
	tok[n] = '\0';
	*toklen = n;
	*pos = i;
	return 1;
}

static struct ks_json *
member(
    const struct ks_json *o, const char *k, size_t klen, struct ks_json **prev)
{
	struct ks_json *c, *pv = NULL;

	for (c = o->child; c != NULL; pv = c, c = c->next) {
		if (c->keylen == klen && memcmp(c->key, k, klen) == 0) {
			if (prev)
				*prev = pv;
			return c;
		}
	}
	return NULL;
}

/* Array index of tok for an array of count n: 0 ok (*idx), -1 not an
 * index.  "-" gives n.  Negative values count back from n. */
static int
parse_index(const char *tok, size_t len, size_t n, size_t *idx)
{
	size_t i = 0, v = 0;
	int neg = 0;

	if (len == 1 && tok[0] == '-') {
		*idx = n;
		return 0;
	}
	if (len > 0 && tok[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == len || len - i > 9 || (tok[i] == '0' && len - i > 1))
		return -1;
	for (; i < len; i++) {
		if (tok[i] < '0' || tok[i] > '9')
			return -1;
		v = v * 10 + (size_t)(tok[i] - '0');
	}
	if (neg) {
		if (v == 0 || v > n)
			return -1;
		v = n - v;
	}
	*idx = v;
	return 0;
}

static struct ks_json *
elem(const struct ks_json *a, size_t idx, struct ks_json **prev)
{
	struct ks_json *c, *pv = NULL;
	size_t i = 0;

	for (c = a->child; c != NULL && i < idx; pv = c, c = c->next)
		i++;
	if (prev)
		*prev = pv;
	return c;
}

static void
unlink_after(struct ks_json *parent, struct ks_json *prev, struct ks_json *c)
{
	if (prev == NULL)
		parent->child = c->next;
	else
		prev->next = c->next;
	if (parent->last == c)
		parent->last = prev;
	c->next = NULL;
	parent->count--;
}

static void
link_after(struct ks_json *parent, struct ks_json *prev, struct ks_json *c)
{
	if (prev == NULL) {
		c->next = parent->child;
		parent->child = c;
	} else {
		c->next = prev->next;
		prev->next = c;
	}
	if (c->next == NULL)
		parent->last = c;
	parent->count++;
}

/* A resolved pointer: the container and the last token. */
struct ref {
	struct ks_json *parent; /* NULL: the pointer is "" (the root) */
	char *tok;
	size_t toklen;
	size_t depth; /* tokens in the pointer */
};

/*
 * Walk pointer ptr in doc down to the parent of its last token.
 * 0 ok (r->tok malloc'd, free it), -1 failure (msg set).
 */
static int
resolve(struct jp *j, struct ks_json *doc, const struct ks_json *ptr,
    struct ref *r, const char *op)
{
	size_t pos = 0, len, tl, idx, depth = 1;
	struct ks_json *cur = doc, *next;
	char *tok, *last = NULL;
	int g;

	memset(r, 0, sizeof(*r));
	if (ptr == NULL || ptr->type != KS_JSON_STRING) {
		jp_fail(j, KS_JPATCH_EAPPLY, "%s operation: missing path", op);
		return -1;
	}
	len = ptr->len;
	if (len == 0)
		return 0;
	if (ptr->val[0] != '/') {
		jp_fail(j, KS_JPATCH_EAPPLY,
		    "%s operation: path does not start with /", op);
		return -1;
	}
	if ((tok = malloc(len + 1)) == NULL ||
	    (last = malloc(len + 1)) == NULL) {
		free(tok);
		jp_fail(j, KS_JPATCH_ENOMEM, "out of memory");
		return -1;
	}
	if ((g = next_token(ptr->val, len, &pos, last, &tl)) != 1)
		goto bad;
	for (;;) {
		size_t ntl;

		if ((g = next_token(ptr->val, len, &pos, tok, &ntl)) < 0)
			goto bad;
		if (g == 0)
			break;
		/* descend by last, which is not the final token */
		next = NULL;
		if (cur->type == KS_JSON_OBJECT)
			next = member(cur, last, tl, NULL);
		else if (cur->type == KS_JSON_ARRAY &&
		    parse_index(last, tl, cur->count, &idx) == 0 &&
		    idx < cur->count)
			next = elem(cur, idx, NULL);
		if (next == NULL) {
			jp_fail(j, KS_JPATCH_EAPPLY,
			    "%s operation does not apply: doc is missing path: "
			    "\"%.200s\": missing value",
			    op, ptr->val);
			goto fail;
		}
		cur = next;
		depth++;
		memcpy(last, tok, ntl + 1);
		tl = ntl;
	}
	if (cur->type != KS_JSON_OBJECT && cur->type != KS_JSON_ARRAY) {
		jp_fail(j, KS_JPATCH_EAPPLY,
		    "%s operation does not apply: doc is missing path: "
		    "\"%.200s\": missing value",
		    op, ptr->val);
		goto fail;
	}
	free(tok);
	r->parent = cur;
	r->tok = last;
	r->toklen = tl;
	r->depth = depth;
	return 0;
bad:
	jp_fail(j, KS_JPATCH_EAPPLY,
	    "%s operation: invalid JSON pointer %.200s", op, ptr->val);
fail:
	free(tok);
	free(last);
	return -1;
}

/* The value r points at (NULL if absent); prev for unlinking. */
static struct ks_json *
ref_get(const struct ref *r, struct ks_json **prev)
{
	size_t idx;

	if (r->parent->type == KS_JSON_OBJECT)
		return member(r->parent, r->tok, r->toklen, prev);
	if (parse_index(r->tok, r->toklen, r->parent->count, &idx) != 0 ||
	    idx >= r->parent->count)
		return NULL;
	return elem(r->parent, idx, prev);
}

/* Put v (taken) at r: objects set/replace the member, arrays insert
 * (replace: overwrite).  -1 on failure (v freed, msg set). */
static int
ref_put(struct jp *j, const struct ref *r, struct ks_json *v, int replace,
    const char *op)
{
	struct ks_json *old, *prev = NULL;
	size_t idx;

	free(v->key);
	v->key = NULL;
	v->keylen = 0;
	v->next = NULL;
	/* The root is depth 1, r->depth tokens below it the value. */
	if (r->depth + depth_of(v) > KS_JSON_MAX_DEPTH) {
		j->nodes -= count_nodes(v);
		ks_json_free(v);
		jp_fail(j, KS_JPATCH_EAPPLY,
		    "%s operation: the document would nest deeper than %d", op,
		    KS_JSON_MAX_DEPTH);
		return -1;
	}
	if (r->parent->type == KS_JSON_OBJECT) {
		old = member(r->parent, r->tok, r->toklen, &prev);
		if (replace && old == NULL)
			goto missing;
		if ((v->key = malloc(r->toklen + 1)) == NULL) {
			ks_json_free(v);
			jp_fail(j, KS_JPATCH_ENOMEM, "out of memory");
			return -1;
		}
		memcpy(v->key, r->tok, r->toklen);
		v->key[r->toklen] = '\0';
		v->keylen = r->toklen;
		if (old != NULL) {
			unlink_after(r->parent, prev, old);
			j->nodes -= count_nodes(old);
			ks_json_free(old);
		}
		link_after(r->parent, prev, v);
		return 0;
	}
	if (parse_index(r->tok, r->toklen, r->parent->count, &idx) != 0 ||
	    idx > r->parent->count || (replace && idx == r->parent->count)) {
		ks_json_free(v);
		jp_fail(j, KS_JPATCH_EAPPLY,
		    "%s operation does not apply: index out of bounds: %.64s",
		    op, r->tok);
		return -1;
	}
	old = elem(r->parent, idx, &prev);
	if (replace) {
		unlink_after(r->parent, prev, old);
		j->nodes -= count_nodes(old);
		ks_json_free(old);
	}
	link_after(r->parent, prev, v);
	return 0;
missing:
	ks_json_free(v);
	jp_fail(j, KS_JPATCH_EAPPLY,
	    "%s operation does not apply: doc is missing key: /%.200s: "
	    "missing value",
	    op, r->tok);
	return -1;
}

/* Detach the value at r; NULL if absent (msg set). */
static struct ks_json *
ref_take(struct jp *j, const struct ref *r, const char *op)
{
	struct ks_json *c, *prev = NULL;

	if ((c = ref_get(r, &prev)) == NULL) {
		jp_fail(j, KS_JPATCH_EAPPLY,
		    "Unable to %s nonexistent key: %.200s: missing value", op,
		    r->tok);
		return NULL;
	}
	unlink_after(r->parent, prev, c);
	return c;
}

static struct ks_json *
clone_counted(struct jp *j, const struct ks_json *v)
{
	struct ks_json *c;
	size_t n = count_nodes(v);

	if (n > KS_JSON_MAX_NODES || j->nodes > KS_JSON_MAX_NODES - n) {
		jp_fail(j, KS_JPATCH_EAPPLY,
		    "the patched document would exceed %d values",
		    KS_JSON_MAX_NODES);
		return NULL;
	}
	if ((c = ks_json_clone(v)) == NULL) {
		jp_fail(j, KS_JPATCH_ENOMEM, "out of memory");
		return NULL;
	}
	j->nodes += n;
	return c;
}

/* Is pointer a (length la) a proper prefix path of b? ("/a" of "/a/b") */
static int
is_ancestor(const struct ks_json *a, const struct ks_json *b)
{
	return a->len < b->len && memcmp(a->val, b->val, a->len) == 0 &&
	    b->val[a->len] == '/';
}

static enum ks_jpatch_err
apply_op(struct jp *j, struct ks_json **doc, const struct ks_json *op)
{
	const struct ks_json *kind = ks_json_get(op, "op");
	const struct ks_json *path = ks_json_get(op, "path");
	const struct ks_json *from = ks_json_get(op, "from");
	const struct ks_json *val = ks_json_get(op, "value");
	const char *k =
	    kind && kind->type == KS_JSON_STRING ? kind->val : "unknown";
	struct ks_json null_node, *v, *cur;
	struct ref r, f;
	int rc = -1;

	memset(&null_node, 0, sizeof(null_node));
	null_node.type = KS_JSON_NULL;
	if (val == NULL)
		val = &null_node; /* json-patch: a missing value is null */
	if (strcmp(k, "add") != 0 && strcmp(k, "remove") != 0 &&
	    strcmp(k, "replace") != 0 && strcmp(k, "move") != 0 &&
	    strcmp(k, "copy") != 0 && strcmp(k, "test") != 0)
		return jp_fail(
		    j, KS_JPATCH_EAPPLY, "Unexpected kind: %.64s", k);
	if (resolve(j, *doc, path, &r, k) != 0)
		return KS_JPATCH_EAPPLY; /* the caller maps "out of memory" */
	if (strcmp(k, "test") == 0) {
		cur = r.parent == NULL ? *doc : ref_get(&r, NULL);
		if (cur == NULL ? val->type == KS_JSON_NULL
		                : ks_json_equal(cur, val))
			rc = 0;
		else
			jp_fail(j, KS_JPATCH_EAPPLY,
			    "testing value %.200s failed: test failed",
			    path->val);
		goto out;
	}
	if (r.parent == NULL) {
		jp_fail(j, KS_JPATCH_EAPPLY,
		    "%s operation on the whole document is not supported", k);
		goto out;
	}
	if (strcmp(k, "add") == 0 || strcmp(k, "replace") == 0) {
		if ((v = clone_counted(j, val)) != NULL)
			rc = ref_put(j, &r, v, k[0] == 'r', k);
	} else if (strcmp(k, "remove") == 0) {
		if ((v = ref_take(j, &r, "remove")) != NULL) {
			j->nodes -= count_nodes(v);
			ks_json_free(v);
			rc = 0;
		}
	} else {
		/* move / copy: from must exist; move never into itself. */
		if (from == NULL || from->type != KS_JSON_STRING) {
			jp_fail(j, KS_JPATCH_EAPPLY,
			    "%s operation: missing from", k);
			goto out;
		}
		if (k[0] == 'm' && is_ancestor(from, path)) {
			jp_fail(j, KS_JPATCH_EAPPLY,
			    "move operation: from is an ancestor of path");
			goto out;
		}
		free(r.tok);
		r.tok = NULL;
		if (resolve(j, *doc, from, &f, k) != 0)
			goto out;
		if (f.parent == NULL) {
			jp_fail(j, KS_JPATCH_EAPPLY,
			    "%s operation from the whole document is not "
			    "supported",
			    k);
			goto out;
		}
		if (k[0] == 'm')
			v = ref_take(j, &f, "remove");
		else if ((cur = ref_get(&f, NULL)) == NULL) {
			v = NULL;
			jp_fail(j, KS_JPATCH_EAPPLY,
			    "copy operation does not apply: doc is missing "
			    "from path: %.200s: missing value",
			    from->val);
		} else
			v = clone_counted(j, cur);
		free(f.tok);
		/* Resolve the destination after the source is detached. */
		if (v != NULL && resolve(j, *doc, path, &r, k) != 0) {
			ks_json_free(v);
			v = NULL;
		}
		if (v != NULL)
			rc = r.parent == NULL ? -1 : ref_put(j, &r, v, 0, k);
	}
out:
	free(r.tok);
	return rc == 0 ? KS_JPATCH_OK : KS_JPATCH_EAPPLY;
}

enum ks_jpatch_err
ks_jpatch_apply(
    struct ks_json **doc, const struct ks_json *patch, char *msg, size_t msglen)
{
	struct jp j = {msg, msglen, 0};
	const struct ks_json *op;
	enum ks_jpatch_err e;

	if (msglen > 0)
		msg[0] = '\0';
	if (patch == NULL || patch->type != KS_JSON_ARRAY) {
		static const char *const names[] = {"null", "bool", "bool",
		    "number", "string", "array", "object"};

		return jp_fail(&j, KS_JPATCH_EDECODE,
		    "json: cannot unmarshal %s into Go value of type "
		    "jsonpatch.Patch",
		    patch ? names[patch->type] : "null");
	}
	for (op = patch->child; op != NULL; op = op->next) {
		if (op->type != KS_JSON_OBJECT && op->type != KS_JSON_NULL) {
			static const char *const names[] = {"null", "bool",
			    "bool", "number", "string", "array", "object"};

			return jp_fail(&j, KS_JPATCH_EDECODE,
			    "json: cannot unmarshal %s into Go value of type "
			    "jsonpatch.Operation",
			    names[op->type]);
		}
	}
	if (patch->count > KS_JPATCH_MAX_OPS)
		return jp_fail(&j, KS_JPATCH_ETOOMANY,
		    "The allowed maximum operations in a JSON patch is %d, got "
		    "%zu",
		    KS_JPATCH_MAX_OPS, patch->count);
	j.nodes = count_nodes(*doc);
	for (op = patch->child; op != NULL; op = op->next) {
		if (op->type == KS_JSON_NULL)
			return jp_fail(&j, KS_JPATCH_EAPPLY,
			    "Unexpected kind: "
			    "unknown");
		j.msg[0] = '\0';
		if ((e = apply_op(&j, doc, op)) != KS_JPATCH_OK) {
			if (strncmp(j.msg, "out of memory", 13) == 0)
				return KS_JPATCH_ENOMEM;
			return e;
		}
	}
	return KS_JPATCH_OK;
}
