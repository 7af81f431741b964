/*
 * ks_smp.c — strategic merge patch on ks_json trees (see ks_smp.h).
 *
 * Recursion follows the patch, whose depth the parser bounds; merged
 * lists are walked with lengths (keys may hold any byte).
 */
#include <stdlib.h>
#include <string.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_smp.h"

static const struct {
	const char *list, *key;
} merge_keys[] = {
    {"containers", "name"},
    {"initContainers", "name"},
    {"ephemeralContainers", "name"},
    {"env", "name"},
    {"volumes", "name"},
    {"imagePullSecrets", "name"},
    {"resourceClaims", "name"},
    {"schedulingGates", "name"},
    {"ports", "containerPort"},
    {"volumeMounts", "mountPath"},
    {"volumeDevices", "devicePath"},
    {"hostAliases", "ip"},
    {"conditions", "type"},
    {"ownerReferences", "uid"},
    {"readinessGates", "conditionType"},
};

static int
key_is(const struct ks_json *m, const char *s)
{
	size_t n = strlen(s);

	return m->keylen == n && memcmp(m->key, s, n) == 0;
}

static int
key_has_prefix(const struct ks_json *m, const char *s)
{
	size_t n = strlen(s);

	return m->keylen >= n && memcmp(m->key, s, n) == 0;
}

static const char *
merge_key_of(const struct ks_json *m)
{
	size_t i;

	for (i = 0; i < sizeof(merge_keys) / sizeof(merge_keys[0]); i++) {
		if (key_is(m, merge_keys[i].list))
			return merge_keys[i].key;
	}
	return NULL;
}

static struct ks_json *
find(const struct ks_json *o, const char *k, size_t klen, struct ks_json **prev)
{
	struct ks_json *c, *pv = NULL;

	for (c = o->child; c != NULL; pv = c, c = c->next) {
		if (c->keylen == klen && memcmp(c->key, k, klen) == 0) {
			if (prev != NULL)
				*prev = pv;
			return c;
		}
	}
	return NULL;
}

static void
unlink_child(struct ks_json *parent, struct ks_json *prev, struct ks_json *c)
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
remove_member(struct ks_json *o, const char *k, size_t klen)
{
	struct ks_json *c, *prev = NULL;

	if ((c = find(o, k, klen, &prev)) != NULL) {
		unlink_child(o, prev, c);
		ks_json_free(c);
	}
}

/* Put v (taken) as member k of o, replacing an existing one in place. */
static int
put_member(struct ks_json *o, const char *k, size_t klen, struct ks_json *v)
{
	struct ks_json *old, *prev = NULL;

	if (v == NULL)
		return -1;
	free(v->key);
	if ((v->key = malloc(klen + 1)) == NULL) {
		ks_json_free(v);
		return -1;
	}
	memcpy(v->key, k, klen);
	v->key[klen] = '\0';
	v->keylen = klen;
	v->next = NULL;
	if ((old = find(o, k, klen, &prev)) != NULL) {
		v->next = old->next;
		if (prev == NULL)
			o->child = v;
		else
			prev->next = v;
		if (o->last == old)
			o->last = v;
		old->next = NULL;
		ks_json_free(old);
		return 0;
	}
	if (o->last == NULL)
		o->child = v;
	else
		o->last->next = v;
	o->last = v;
	o->count++;
	return 0;
}

static int apply_obj(struct ks_json *, const struct ks_json *);

/* A fresh value for p: objects go through the directives, the rest is
 * copied. */
static struct ks_json *
fresh(const struct ks_json *p)
{
	struct ks_json *n;

	if (p->type != KS_JSON_OBJECT)
		return ks_json_clone(p);
	if ((n = ks_json_new(KS_JSON_OBJECT)) == NULL)
		return NULL;
	if (apply_obj(n, p) != 0) {
		ks_json_free(n);
		return NULL;
	}
	return n;
}

static const char *
directive(const struct ks_json *o)
{
	const struct ks_json *d;

	if (o == NULL || o->type != KS_JSON_OBJECT)
		return NULL;
	d = find(o, "$patch", 6, NULL);
	return d != NULL && d->type == KS_JSON_STRING ? d->val : NULL;
}

/* Item of array a whose member key equals that of item p. */
static struct ks_json *
find_item(const struct ks_json *a, const char *key, const struct ks_json *kv,
    struct ks_json **prev)
{
	struct ks_json *c, *pv = NULL;

	for (c = a->child; c != NULL; pv = c, c = c->next) {
		const struct ks_json *v;

		if (c->type != KS_JSON_OBJECT ||
		    (v = find(c, key, strlen(key), NULL)) == NULL)
			continue;
		if (ks_json_equal(v, kv)) {
			if (prev != NULL)
				*prev = pv;
			return c;
		}
	}
	return NULL;
}

static int
append(struct ks_json *a, struct ks_json *v)
{
	if (v == NULL)
		return -1;
	free(v->key);
	v->key = NULL;
	v->keylen = 0;
	return ks_json_append(a, v);
}

/* Merge patch list p into list t by key. */
static int
merge_list(struct ks_json *t, const struct ks_json *p, const char *key)
{
	const struct ks_json *it, *kv;
	struct ks_json *cur, *prev;
	const char *d;

	for (it = p->child; it != NULL; it = it->next) {
		d = directive(it);
		if (d != NULL && strcmp(d, "replace") == 0) {
			/* The whole list is what the patch lists. */
			struct ks_json *c, *next;

			for (c = t->child; c != NULL; c = next) {
				next = c->next;
				ks_json_free(c);
			}
			t->child = t->last = NULL;
			t->count = 0;
			for (it = p->child; it != NULL; it = it->next) {
				if (directive(it) == NULL &&
				    append(t, fresh(it)) != 0)
					return -1;
			}
			return 0;
		}
	}
	for (it = p->child; it != NULL; it = it->next) {
		d = directive(it);
		kv = it->type == KS_JSON_OBJECT
		    ? find(it, key, strlen(key), NULL)
		    : NULL;
		if (kv == NULL) {
			if (d == NULL && append(t, fresh(it)) != 0)
				return -1;
			continue;
		}
		prev = NULL;
		cur = find_item(t, key, kv, &prev);
		if (d != NULL && strcmp(d, "delete") == 0) {
			if (cur != NULL) {
				unlink_child(t, prev, cur);
				ks_json_free(cur);
			}
			continue;
		}
		if (cur == NULL) {
			if (append(t, fresh(it)) != 0)
				return -1;
		} else if (apply_obj(cur, it) != 0)
			return -1;
	}
	return 0;
}

/* finalizers: a set; patch values not yet present are appended. */
static int
merge_set(struct ks_json *t, const struct ks_json *p)
{
	const struct ks_json *it;
	const struct ks_json *c;

	for (it = p->child; it != NULL; it = it->next) {
		for (c = t->child; c != NULL; c = c->next) {
			if (ks_json_equal(c, it))
				break;
		}
		if (c == NULL && append(t, ks_json_clone(it)) != 0)
			return -1;
	}
	return 0;
}

static void
delete_from_list(struct ks_json *t, const struct ks_json *vals)
{
	struct ks_json *c, *next, *prev = NULL;
	const struct ks_json *v;

	for (c = t->child; c != NULL; c = next) {
		next = c->next;
		for (v = vals->child; v != NULL; v = v->next) {
			if (ks_json_equal(c, v))
				break;
		}
		if (v != NULL) {
			unlink_child(t, prev, c);
			ks_json_free(c);
		} else
			prev = c;
	}
}

static int
apply_obj(struct ks_json *t, const struct ks_json *p)
{
	const struct ks_json *m, *retain = NULL;
	struct ks_json *child;
	const char *d = directive(p), *mk;

	if (d != NULL && strcmp(d, "replace") == 0) {
		struct ks_json *c, *next;

		for (c = t->child; c != NULL; c = next) {
			next = c->next;
			ks_json_free(c);
		}
		t->child = t->last = NULL;
		t->count = 0;
	}
	for (m = p->child; m != NULL; m = m->next) {
		if (key_is(m, "$patch") ||
		    key_has_prefix(m, "$setElementOrder/"))
			continue;
		if (key_is(m, "$retainKeys")) {
			if (m->type != KS_JSON_ARRAY)
				return -1;
			retain = m;
			continue;
		}
		if (key_has_prefix(m, "$deleteFromPrimitiveList/")) {
			size_t pl = strlen("$deleteFromPrimitiveList/");

			if (m->type != KS_JSON_ARRAY)
				return -1;
			child = find(t, m->key + pl, m->keylen - pl, NULL);
			if (child != NULL && child->type == KS_JSON_ARRAY)
				delete_from_list(child, m);
			continue;
		}
		if (m->type == KS_JSON_NULL) {
			remove_member(t, m->key, m->keylen);
			continue;
		}
		child = find(t, m->key, m->keylen, NULL);
		if (m->type == KS_JSON_OBJECT) {
			const char *cd = directive(m);

			if (cd != NULL && strcmp(cd, "delete") == 0) {
				remove_member(t, m->key, m->keylen);
				continue;
			}
			if (child == NULL || child->type != KS_JSON_OBJECT) {
				if (put_member(
				        t, m->key, m->keylen, fresh(m)) != 0)
					return -1;
			} else if (apply_obj(child, m) != 0)
				return -1;
			continue;
		}
		if (m->type == KS_JSON_ARRAY && child != NULL &&
		    child->type == KS_JSON_ARRAY) {
			if ((mk = merge_key_of(m)) != NULL) {
				if (merge_list(child, m, mk) != 0)
					return -1;
				continue;
			}
			if (key_is(m, "finalizers")) {
				if (merge_set(child, m) != 0)
					return -1;
				continue;
			}
		}
		if (m->type == KS_JSON_ARRAY && merge_key_of(m) != NULL) {
			/* A new merge list: its items without directives. */
			struct ks_json *a = ks_json_new(KS_JSON_ARRAY);
			const struct ks_json *it;

			if (a == NULL)
				return -1;
			for (it = m->child; it != NULL; it = it->next) {
				if (directive(it) == NULL &&
				    append(a, fresh(it)) != 0) {
					ks_json_free(a);
					return -1;
				}
			}
			if (put_member(t, m->key, m->keylen, a) != 0)
				return -1;
			continue;
		}
		if (put_member(t, m->key, m->keylen, ks_json_clone(m)) != 0)
			return -1;
	}
	if (retain != NULL) {
		struct ks_json *c, *next, *prev = NULL;
		const struct ks_json *r;

		for (c = t->child; c != NULL; c = next) {
			next = c->next;
			for (r = retain->child; r != NULL; r = r->next) {
				if (r->type == KS_JSON_STRING &&
				    r->len == c->keylen &&
				    memcmp(r->val, c->key, r->len) == 0)
					break;
			}
			if (r == NULL) {
				unlink_child(t, prev, c);
				ks_json_free(c);
			} else
				prev = c;
		}
	}
	return 0;
}

int
ks_smp_apply(struct ks_json **target, const struct ks_json *patch)
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
		if ((t = ks_json_new(KS_JSON_OBJECT)) == NULL)
			return -1;
		ks_json_free(*target);
		*target = t;
	}
	return apply_obj(*target, patch);
}
