/*
 * ks_ssa.c — managedFields and server-side apply (see ks_ssa.h).
 *
 * Field sets are FieldsV1 trees (objects keyed "f:<name>", a leaf is {}),
 * built and compared recursively along the documents, whose depth the
 * parser bounds.  Paths are carried as (key, length) pairs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_limits.h"
#include "tests/kube-sim/ks_obj.h"
#include "tests/kube-sim/ks_ssa.h"
#include "tests/kube-sim/ks_status.h"

#define MAX_ENTRIES 32 /* managers per object */

struct seg {
	const char *k;
	size_t n;
};

struct path {
	struct seg s[KS_JSON_MAX_DEPTH + 1];
	int n;
};

static const char *const top_skip[] = {"apiVersion", "kind", "status", NULL};
static const char *const meta_skip[] = {"name", "namespace", "uid",
    "resourceVersion", "generation", "creationTimestamp", "managedFields",
    "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", NULL};

static int
skipped(const struct path *p, const struct ks_json *m)
{
	const char *const *l = NULL;
	int i;

	if (p->n == 0)
		l = top_skip;
	else if (p->n == 1 && p->s[0].n == 8 &&
	    memcmp(p->s[0].k, "metadata", 8) == 0)
		l = meta_skip;
	for (i = 0; l != NULL && l[i] != NULL; i++) {
		if (strlen(l[i]) == m->keylen &&
		    memcmp(l[i], m->key, m->keylen) == 0)
			return 1;
	}
	return 0;
}

static struct ks_json *
member(const struct ks_json *o, const char *k, size_t n)
{
	struct ks_json *c;

	if (o == NULL || o->type != KS_JSON_OBJECT)
		return NULL;
	for (c = o->child; c != NULL; c = c->next) {
		if (c->keylen == n && memcmp(c->key, k, n) == 0)
			return c;
	}
	return NULL;
}

/* The set node "f:<k>" under s. */
static struct ks_json *
fnode(const struct ks_json *s, const char *k, size_t n)
{
	struct ks_json *c;

	if (s == NULL || s->type != KS_JSON_OBJECT)
		return NULL;
	for (c = s->child; c != NULL; c = c->next) {
		if (c->keylen == n + 2 && memcmp(c->key, "f:", 2) == 0 &&
		    memcmp(c->key + 2, k, n) == 0)
			return c;
	}
	return NULL;
}

/* Get or add "f:<k>" under s. */
static struct ks_json *
fnode_add(struct ks_json *s, const char *k, size_t n)
{
	struct ks_json *c;

	if ((c = fnode(s, k, n)) != NULL)
		return c;
	if ((c = ks_json_new(KS_JSON_OBJECT)) == NULL)
		return NULL;
	if ((c->key = malloc(n + 3)) == NULL) {
		ks_json_free(c);
		return NULL;
	}
	memcpy(c->key, "f:", 2);
	memcpy(c->key + 2, k, n);
	c->key[n + 2] = '\0';
	c->keylen = n + 2;
	if (s->last == NULL)
		s->child = c;
	else
		s->last->next = c;
	s->last = c;
	s->count++;
	return c;
}

static void
unlink_free(struct ks_json *o, struct ks_json *c)
{
	struct ks_json *x, *prev = NULL;

	for (x = o->child; x != NULL && x != c; prev = x, x = x->next)
		;
	if (x == NULL)
		return;
	if (prev == NULL)
		o->child = c->next;
	else
		prev->next = c->next;
	if (o->last == c)
		o->last = prev;
	o->count--;
	c->next = NULL;
	ks_json_free(c);
}

/* A field is a leaf unless its value is a non-empty object. */
static int
is_inner(const struct ks_json *v)
{
	return v->type == KS_JSON_OBJECT && v->count > 0;
}

/* Add every field of v (below path p) to set s. */
static int
collect(const struct ks_json *v, struct path *p, struct ks_json *s)
{
	const struct ks_json *m;
	struct ks_json *c;

	for (m = v->child; m != NULL; m = m->next) {
		if (skipped(p, m))
			continue;
		if ((c = fnode_add(s, m->key, m->keylen)) == NULL)
			return -1;
		if (is_inner(m) && p->n < KS_JSON_MAX_DEPTH) {
			p->s[p->n].k = m->key;
			p->s[p->n++].n = m->keylen;
			if (collect(m, p, c) != 0)
				return -1;
			p->n--;
		}
	}
	return 0;
}

/* Fields of next that differ from cur (set changed) and fields of cur
 * gone from next (set removed). */
static int
diff(const struct ks_json *cur, const struct ks_json *next, struct path *p,
    struct ks_json *changed, struct ks_json *removed)
{
	const struct ks_json *m, *o;
	struct ks_json *c;

	for (m = next ? next->child : NULL; m != NULL; m = m->next) {
		if (skipped(p, m))
			continue;
		o = member(cur, m->key, m->keylen);
		if (o != NULL && ks_json_equal(o, m))
			continue;
		if (is_inner(m) && o != NULL && is_inner(o) &&
		    p->n < KS_JSON_MAX_DEPTH) {
			struct ks_json *cc =
			    fnode_add(changed, m->key, m->keylen);
			struct ks_json *rc =
			    fnode_add(removed, m->key, m->keylen);

			if (cc == NULL || rc == NULL)
				return -1;
			p->s[p->n].k = m->key;
			p->s[p->n++].n = m->keylen;
			if (diff(o, m, p, cc, rc) != 0)
				return -1;
			p->n--;
			if (cc->count == 0)
				unlink_free(changed, cc);
			if (rc->count == 0)
				unlink_free(removed, rc);
			continue;
		}
		if ((c = fnode_add(changed, m->key, m->keylen)) == NULL)
			return -1;
		if (is_inner(m) && p->n < KS_JSON_MAX_DEPTH) {
			p->s[p->n].k = m->key;
			p->s[p->n++].n = m->keylen;
			if (collect(m, p, c) != 0)
				return -1;
			p->n--;
		}
	}
	for (m = cur ? cur->child : NULL; m != NULL; m = m->next) {
		if (skipped(p, m) || member(next, m->key, m->keylen) != NULL)
			continue;
		if (fnode_add(removed, m->key, m->keylen) == NULL)
			return -1;
	}
	return 0;
}

/* s -= r: every path of r (with what lies below it) leaves s. */
static void
subtract(struct ks_json *s, const struct ks_json *r)
{
	const struct ks_json *m;
	struct ks_json *c;

	for (m = r->child; m != NULL; m = m->next) {
		if ((c = member(s, m->key, m->keylen)) == NULL)
			continue;
		if (m->count == 0)
			unlink_free(s, c);
		else {
			subtract(c, m);
			if (c->count == 0)
				unlink_free(s, c);
		}
	}
}

/* s |= a. */
static int
unite(struct ks_json *s, const struct ks_json *a)
{
	const struct ks_json *m;
	struct ks_json *c;

	for (m = a->child; m != NULL; m = m->next) {
		if ((c = member(s, m->key, m->keylen)) == NULL) {
			struct ks_json *cp = ks_json_clone(m);

			if (cp == NULL || ks_json_set(s, m->key, cp) != 0)
				return -1;
			continue;
		}
		if (unite(c, m) != 0)
			return -1;
	}
	return 0;
}

/* ---- managedFields entries -------------------------------------------- */

struct entry {
	struct ks_json *e; /* the entry object (inside the list) */
	const char *manager, *op, *sub;
	struct ks_json *set; /* its fieldsV1 */
};

static int
load(struct ks_json *list, struct entry *en, int max)
{
	struct ks_json *e;
	int n = 0;

	for (e = list ? list->child : NULL; e != NULL && n < max; e = e->next) {
		const char *sub;

		if (e->type != KS_JSON_OBJECT)
			continue;
		en[n].e = e;
		en[n].manager = ks_json_str(ks_json_get(e, "manager"));
		en[n].op = ks_json_str(ks_json_get(e, "operation"));
		sub = ks_json_str(ks_json_get(e, "subresource"));
		en[n].sub = sub ? sub : "";
		en[n].set = ks_json_get(e, "fieldsV1");
		if (en[n].manager == NULL || en[n].op == NULL ||
		    en[n].set == NULL || en[n].set->type != KS_JSON_OBJECT)
			continue;
		n++;
	}
	return n;
}

static int
same(const struct entry *e, const char *mgr, const char *op, const char *sub)
{
	return strcmp(e->manager, mgr) == 0 && strcmp(e->op, op) == 0 &&
	    strcmp(e->sub, sub) == 0;
}

/* The managedFields list of doc (created empty when absent). */
static struct ks_json *
mf_list(struct ks_json *doc)
{
	struct ks_json *md = ks_json_obj(doc, "metadata"), *l;

	if (md == NULL)
		return NULL;
	l = ks_json_get(md, "managedFields");
	if (l == NULL || l->type != KS_JSON_ARRAY) {
		if (ks_json_set(
		        md, "managedFields", ks_json_new(KS_JSON_ARRAY)) != 0)
			return NULL;
		l = ks_json_get(md, "managedFields");
	}
	return l;
}

/* Set (replace) the entry (manager, op, sub) to set (taken). */
static int
put_entry(struct ks_json *list, const char *mgr, const char *op,
    const char *sub, const char *apiv, time_t now, struct ks_json *set)
{
	struct entry en[MAX_ENTRIES];
	struct ks_json *e;
	char ts[32];
	int i, n = load(list, en, MAX_ENTRIES);

	for (i = 0; i < n; i++) {
		if (same(&en[i], mgr, op, sub)) {
			if (ks_json_equal(en[i].set, set)) {
				ks_json_free(set);
				return 0; /* unchanged: keep its time */
			}
			unlink_free(list, en[i].e);
			break;
		}
	}
	if (set->count == 0) {
		ks_json_free(set);
		return 0;
	}
	if (n >= MAX_ENTRIES) {
		ks_json_free(set);
		return 0; /* bounded: further managers are not tracked */
	}
	ks_format_time(now, ts, sizeof(ts));
	if ((e = ks_json_new(KS_JSON_OBJECT)) == NULL ||
	    ks_json_set_str(e, "manager", mgr) != 0 ||
	    ks_json_set_str(e, "operation", op) != 0 ||
	    ks_json_set_str(e, "apiVersion", apiv) != 0 ||
	    ks_json_set_str(e, "time", ts) != 0 ||
	    ks_json_set_str(e, "fieldsType", "FieldsV1") != 0 ||
	    ks_json_set(e, "fieldsV1", set) != 0 ||
	    (sub[0] != '\0' && ks_json_set_str(e, "subresource", sub) != 0)) {
		if (e == NULL)
			ks_json_free(set);
		ks_json_free(e);
		return -1;
	}
	return ks_json_append(list, e);
}

/* Drop entries whose set became empty. */
static void
prune_empty(struct ks_json *list)
{
	struct entry en[MAX_ENTRIES];
	int i, n = load(list, en, MAX_ENTRIES);

	for (i = 0; i < n; i++) {
		if (en[i].set->count == 0)
			unlink_free(list, en[i].e);
	}
}

int
ks_ssa_record_update(const struct ks_json *cur, struct ks_json *next,
    const char *mgr, const char *sub, const char *apiv, time_t now)
{
	struct ks_json *changed = ks_json_new(KS_JSON_OBJECT);
	struct ks_json *removed = ks_json_new(KS_JSON_OBJECT);
	struct ks_json *list, *mine = NULL;
	struct entry en[MAX_ENTRIES];
	struct path p;
	int i, n, r = -1;

	p.n = 0;
	if (changed == NULL || removed == NULL ||
	    diff(cur, next, &p, changed, removed) != 0)
		goto out;
	if (changed->count == 0 && removed->count == 0) {
		r = 0;
		goto out;
	}
	if ((list = mf_list(next)) == NULL)
		goto out;
	n = load(list, en, MAX_ENTRIES);
	for (i = 0; i < n; i++) {
		if (same(&en[i], mgr, "Update", sub)) {
			if ((mine = ks_json_clone(en[i].set)) == NULL)
				goto out;
		}
		subtract(en[i].set, changed);
		subtract(en[i].set, removed);
	}
	if (mine == NULL && (mine = ks_json_new(KS_JSON_OBJECT)) == NULL)
		goto out;
	subtract(mine, removed);
	if (unite(mine, changed) != 0) {
		ks_json_free(mine);
		goto out;
	}
	prune_empty(list);
	r = put_entry(list, mgr, "Update", sub, apiv, now, mine);
	if (r == 0 && list->count == 0)
		ks_json_del(ks_json_get(next, "metadata"), "managedFields");
out:
	ks_json_free(changed);
	ks_json_free(removed);
	return r;
}

/* ---- apply ---------------------------------------------------------- */

struct conflict {
	const struct entry *e;
	char path[256];
};

struct apply_ctx {
	const struct ks_json *cur;
	struct entry *en;
	int n;
	int self; /* index of M's Apply entry or -1 */
	struct conflict c[KS_STATUS_MAX_CAUSES + 4];
	int nc; /* conflicts seen (may exceed the kept ones) */
	int force;
	struct ks_json *forced; /* per entry: conflicting paths (force) */
};

static void
path_str(const struct path *p, const struct ks_json *m, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < p->n && off < len; i++)
		off += (size_t)snprintf(
		    buf + off, len - off, ".%.*s", (int)p->s[i].n, p->s[i].k);
	if (off < len)
		snprintf(buf + off, len - off, ".%.*s", (int)m->keylen, m->key);
}

/* The value at path p + m in doc. */
static const struct ks_json *
value_at(
    const struct ks_json *doc, const struct path *p, const struct ks_json *m)
{
	const struct ks_json *v = doc;
	int i;

	for (i = 0; i < p->n && v != NULL; i++)
		v = member(v, p->s[i].k, p->s[i].n);
	return v ? member(v, m->key, m->keylen) : NULL;
}

/* The set node of entry set s at path p + m, NULL if not owned. */
static struct ks_json *
owned_at(const struct ks_json *s, const struct path *p, const struct ks_json *m)
{
	const struct ks_json *v = s;
	int i;

	for (i = 0; i < p->n && v != NULL; i++)
		v = fnode(v, p->s[i].k, p->s[i].n);
	return v ? fnode(v, m->key, m->keylen) : NULL;
}

/* Walk config c: conflicts with other managers' fields. */
static int
find_conflicts(struct apply_ctx *a, const struct ks_json *c, struct path *p)
{
	const struct ks_json *m, *curv;
	int i;

	for (m = c->child; m != NULL; m = m->next) {
		if (skipped(p, m))
			continue;
		if (is_inner(m) && p->n < KS_JSON_MAX_DEPTH) {
			p->s[p->n].k = m->key;
			p->s[p->n++].n = m->keylen;
			if (find_conflicts(a, m, p) != 0)
				return -1;
			p->n--;
			continue;
		}
		curv = value_at(a->cur, p, m);
		if (curv != NULL && ks_json_equal(curv, m))
			continue;
		for (i = 0; i < a->n; i++) {
			struct ks_json *o;

			if (i == a->self ||
			    (o = owned_at(a->en[i].set, p, m)) == NULL)
				continue;
			if (a->force) {
				/* Force: the other manager loses the field,
				 * and the parents it leaves empty. */
				struct ks_json *up[KS_JSON_MAX_DEPTH + 2];
				int k;

				up[0] = a->en[i].set;
				for (k = 0; k < p->n && up[k] != NULL; k++)
					up[k + 1] =
					    fnode(up[k], p->s[k].k, p->s[k].n);
				if (k < p->n || up[p->n] == NULL)
					continue;
				unlink_free(up[p->n], o);
				for (k = p->n; k >= 1 && up[k]->count == 0; k--)
					unlink_free(up[k - 1], up[k]);
				continue;
			}
			if (a->nc < (int)(sizeof(a->c) / sizeof(a->c[0]))) {
				a->c[a->nc].e = &a->en[i];
				path_str(p, m, a->c[a->nc].path,
				    sizeof(a->c[0].path));
			}
			a->nc++;
		}
	}
	return 0;
}

/* Remove from doc the fields of old not in keep (M's new set) and owned
 * by no other entry. */
static void
drop_unapplied(struct apply_ctx *a, struct ks_json *doc,
    const struct ks_json *old, const struct ks_json *keep, struct path *p)
{
	const struct ks_json *m;
	struct ks_json *dv;
	int i, other;

	for (m = old->child; m != NULL; m = m->next) {
		const struct ks_json *kn;
		struct ks_json fake;

		if (m->keylen < 2)
			continue;
		/* A doc member named like the set key without "f:". */
		memset(&fake, 0, sizeof(fake));
		fake.key = m->key + 2;
		fake.keylen = m->keylen - 2;
		kn = keep ? member(keep, m->key, m->keylen) : NULL;
		if (m->count > 0) {
			if (p->n >= KS_JSON_MAX_DEPTH)
				continue;
			dv = member(doc, fake.key, fake.keylen);
			if (dv == NULL || dv->type != KS_JSON_OBJECT)
				continue;
			p->s[p->n].k = fake.key;
			p->s[p->n++].n = fake.keylen;
			drop_unapplied(a, dv, m, kn, p);
			p->n--;
			continue;
		}
		if (kn != NULL)
			continue;
		for (i = 0, other = 0; i < a->n && !other; i++)
			other =
			    i != a->self && owned_at(a->en[i].set, p, &fake);
		if (!other && (dv = member(doc, fake.key, fake.keylen)) != NULL)
			unlink_free(doc, dv);
	}
}

/* Set every field of config c into doc. */
static int
put_fields(struct ks_json *doc, const struct ks_json *c, struct path *p)
{
	const struct ks_json *m;
	struct ks_json *dv;

	for (m = c->child; m != NULL; m = m->next) {
		if (skipped(p, m))
			continue;
		dv = member(doc, m->key, m->keylen);
		if (is_inner(m)) {
			if (dv == NULL || dv->type != KS_JSON_OBJECT) {
				if (ks_json_set(doc, m->key,
				        ks_json_new(KS_JSON_OBJECT)) != 0)
					return -1;
				dv = ks_json_get(doc, m->key);
			}
			if (dv == NULL || p->n >= KS_JSON_MAX_DEPTH)
				return -1;
			p->s[p->n].k = m->key;
			p->s[p->n++].n = m->keylen;
			if (put_fields(dv, m, p) != 0)
				return -1;
			p->n--;
			continue;
		}
		if (ks_json_set(doc, m->key, ks_json_clone(m)) != 0)
			return -1;
	}
	return 0;
}

/* printManager: "mgr"[ with subresource "s"][ using v at time]. */
static void
who_str(const struct entry *e, char *who, size_t len)
{
	const char *apiv = ks_json_str(ks_json_get(e->e, "apiVersion"));
	const char *t = ks_json_str(ks_json_get(e->e, "time"));
	size_t off;

	off = (size_t)snprintf(who, len, "\"%.100s\"", e->manager);
	if (e->sub[0] != '\0' && off < len)
		off += (size_t)snprintf(who + off, len - off,
		    " with subresource \"%.32s\"", e->sub);
	if (strcmp(e->op, "Update") == 0 && off < len)
		snprintf(who + off, len - off, " using %.32s%s%.32s",
		    apiv ? apiv : "", t ? " at " : "", t ? t : "");
}

static int
by_manager(const void *x, const void *y)
{
	const struct conflict *a = x, *b = y;
	int c = strcmp(a->e->manager, b->e->manager);

	return c != 0 ? c : (a->e < b->e ? -1 : a->e > b->e);
}

/* The 409 of NewApplyConflict: one cause per conflict, the message
 * grouped by manager, managers sorted. */
static void
conflict_status(struct ks_status *st, struct apply_ctx *a)
{
	char who[256];
	size_t off = 0;
	int i,
	    kept = a->nc < (int)(sizeof(a->c) / sizeof(a->c[0]))
	    ? a->nc
	    : (int)(sizeof(a->c) / sizeof(a->c[0]));

	memset(st, 0, sizeof(*st));
	st->code = 409;
	st->reason = "Conflict";
	st->details = 1;
	qsort(a->c, (size_t)kept, sizeof(a->c[0]), by_manager);
	if (a->nc > 1)
		off = (size_t)snprintf(st->message, sizeof(st->message),
		    "Apply failed with %d conflicts: ", a->nc);
	for (i = 0; i < kept; i++) {
		who_str(a->c[i].e, who, sizeof(who));
		if (i < KS_STATUS_MAX_CAUSES) {
			snprintf(st->causes[i].reason,
			    sizeof(st->causes[i].reason),
			    "FieldManagerConflict");
			snprintf(st->causes[i].message,
			    sizeof(st->causes[i].message), "conflict with %s",
			    who);
			snprintf(st->causes[i].field,
			    sizeof(st->causes[i].field), "%s", a->c[i].path);
			st->ncauses = i + 1;
		}
		if (a->nc == 1) {
			snprintf(st->message, sizeof(st->message),
			    "Apply failed with 1 conflict: conflict with %s: "
			    "%s",
			    who, a->c[i].path);
			continue;
		}
		if ((i == 0 || a->c[i].e != a->c[i - 1].e) &&
		    off < sizeof(st->message))
			off += (size_t)snprintf(st->message + off,
			    sizeof(st->message) - off,
			    "%sconflicts with %s:", i ? "\n" : "", who);
		if (off < sizeof(st->message))
			off += (size_t)snprintf(st->message + off,
			    sizeof(st->message) - off, "\n- %s", a->c[i].path);
	}
}

int
ks_ssa_apply(const struct ks_json *cur, const struct ks_json *config,
    const char *mgr, const char *apiv, int force, time_t now,
    struct ks_json **out, struct ks_status *st)
{
	struct ks_json *doc = NULL, *list = NULL, *set = NULL, *old = NULL;
	struct ks_json *md;
	struct entry en[MAX_ENTRIES];
	struct apply_ctx a;
	struct path p;
	int i, r = -1;

	*out = NULL;
	memset(&a, 0, sizeof(a));
	doc = cur ? ks_json_clone(cur) : ks_json_new(KS_JSON_OBJECT);
	/* The entries are worked on detached from doc: writing the config
	 * into doc may replace or drop its metadata. */
	if (doc == NULL || (md = ks_json_get(doc, "metadata")) == NULL ||
	    md->type != KS_JSON_OBJECT ||
	    (list = ks_json_clone(ks_json_get(md, "managedFields"))) == NULL ||
	    list->type != KS_JSON_ARRAY) {
		ks_json_free(list);
		list = ks_json_new(KS_JSON_ARRAY);
	}
	if (doc == NULL || list == NULL)
		goto out;
	if ((md = ks_json_get(doc, "metadata")) != NULL)
		ks_json_del(md, "managedFields");
	a.cur = cur;
	a.en = en;
	a.n = load(list, en, MAX_ENTRIES);
	a.self = -1;
	a.force = force;
	for (i = 0; i < a.n; i++) {
		if (same(&en[i], mgr, "Apply", ""))
			a.self = i;
	}
	p.n = 0;
	if (find_conflicts(&a, config, &p) != 0)
		goto out;
	if (a.nc > 0) {
		conflict_status(st, &a);
		r = 1;
		goto out;
	}
	if ((set = ks_json_new(KS_JSON_OBJECT)) == NULL)
		goto out;
	p.n = 0;
	if (collect(config, &p, set) != 0)
		goto out;
	if (a.self >= 0) {
		if ((old = ks_json_clone(en[a.self].set)) == NULL)
			goto out;
		p.n = 0;
		drop_unapplied(&a, doc, old, set, &p);
	}
	p.n = 0;
	if (put_fields(doc, config, &p) != 0)
		goto out;
	prune_empty(list);
	if (put_entry(list, mgr, "Apply", "", apiv, now, set) != 0) {
		set = NULL;
		goto out;
	}
	set = NULL;
	if (list->count > 0) {
		if ((md = ks_json_obj(doc, "metadata")) == NULL ||
		    ks_json_set(md, "managedFields", list) != 0) {
			list = NULL; /* taken by ks_json_set, also on error */
			goto out;
		}
		list = NULL;
	}
	*out = doc;
	doc = NULL;
	r = 0;
out:
	ks_json_free(doc);
	ks_json_free(list);
	ks_json_free(set);
	ks_json_free(old);
	return r;
}
