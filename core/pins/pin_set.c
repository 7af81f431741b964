/*
 * pin_set.c — a pins document in memory (see pin_set.h).
 *
 * Two sorted arrays: `own` (the served namespaces, searched by
 * (namespace, name)) and `other` (every other namespace, kept only to be
 * written back).  Every change copies: a set that a store has installed
 * is never modified, so a reader (a PIN_LIST being streamed, the
 * reconciler) sees either the old set or the new one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pins/pin_doc.h"
#include "core/pins/pin_set.h"
#include "proto-socket/ps_buf.h"

struct pin_set {
	struct pin_entry *own; /* sorted by namespace, name; served */
	size_t n_own;
	struct pin_entry *other; /* sorted by namespace, name */
	size_t n_other;
};

int
pin_set_serves(const struct pin_set_cfg *cfg, const char *ns)
{
	for (size_t i = 0; i < cfg->n_namespaces; i++)
		if (strcmp(cfg->namespaces[i], ns) == 0)
			return 1;
	return 0;
}

void
pin_set_not_served(
    const struct pin_set_cfg *cfg, const char *ns, char *buf, size_t bufsz)
{
	size_t off;
	int w;

	w = snprintf(buf, bufsz,
	    "namespace \"%.*s\" is not served by this replicad (namespaces: ",
	    PS_MAX_NAMESPACE, ns);
	off = w < 0 ? 0 : (size_t)w;
	for (size_t i = 0; i < cfg->n_namespaces && off < bufsz; i++) {
		w = snprintf(buf + off, bufsz - off, "%s%s", i ? ", " : "",
		    cfg->namespaces[i]);
		off += w < 0 ? 0 : (size_t)w;
	}
	if (off < bufsz)
		snprintf(buf + off, bufsz - off, ")");
}

struct pin_set *
pin_set_new(void)
{
	return calloc(1, sizeof(struct pin_set));
}

void
pin_set_free(struct pin_set *s)
{
	if (s == NULL)
		return;
	free(s->own);
	free(s->other);
	free(s);
}

static int
key_cmp(const char *ns, const char *name, const struct pin_entry *e)
{
	int c = strcmp(ns, e->namespace);

	return c != 0 ? c : strcmp(name, e->name);
}

/* Index of (ns, name) in own, or where it would go (with *found = 0). */
static size_t
find(const struct pin_set *s, const char *ns, const char *name, int *found)
{
	size_t lo = 0, hi = s->n_own;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(ns, name, &s->own[mid]);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = 0;
	return lo;
}

/* The first index of own whose namespace is greater than `ns`. */
static size_t
ns_end(const struct pin_set *s, const char *ns)
{
	size_t lo = 0, hi = s->n_own;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ns, s->own[mid].namespace) < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* malloc of n entries, at least one (so that NULL means failure). */
static struct pin_entry *
entries(size_t n)
{
	return malloc((n != 0 ? n : 1) * sizeof(struct pin_entry));
}

int
pin_set_parse(const char *buf, size_t len, const struct pin_set_cfg *cfg,
    struct pin_set **out, char *err, size_t errsz)
{
	struct pin_set *s = NULL;
	struct pin_entry *v = NULL;
	size_t n = 0, no = 0;

	if (pin_doc_parse(buf, len, &v, &n, err, errsz) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (v[i].replicas > cfg->max_replicas) {
			snprintf(err, errsz,
			    "deployment \"%s\" in namespace \"%s\" is pinned "
			    "to %u, above the core's --max-replicas %u",
			    v[i].name, v[i].namespace, v[i].replicas,
			    cfg->max_replicas);
			goto fail;
		}
	for (size_t i = 0; i < n; i++)
		if (pin_set_serves(cfg, v[i].namespace))
			no++;
	if ((s = pin_set_new()) == NULL || (s->own = entries(no)) == NULL ||
	    (s->other = entries(n - no)) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	/* v is sorted by namespace then name: each part stays sorted. */
	for (size_t i = 0; i < n; i++) {
		if (pin_set_serves(cfg, v[i].namespace))
			s->own[s->n_own++] = v[i];
		else
			s->other[s->n_other++] = v[i];
	}
	free(v);
	*out = s;
	return 0;
fail:
	free(v);
	pin_set_free(s);
	return -1;
}

size_t
pin_set_count(const struct pin_set *s)
{
	return s->n_own;
}

size_t
pin_set_count_ns(const struct pin_set *s, const char *ns)
{
	int found;

	/* Names are never empty: (ns, "") is where ns begins. */
	return ns_end(s, ns) - find(s, ns, "", &found);
}

size_t
pin_set_total(const struct pin_set *s)
{
	return s->n_own + s->n_other;
}

int
pin_set_get(const struct pin_set *s, const char *ns, const char *name,
    uint32_t *replicas)
{
	int found;
	size_t i = find(s, ns, name, &found);

	if (!found)
		return -1;
	*replicas = s->own[i].replicas;
	return 0;
}

int
pin_set_suspended(const struct pin_set *s, const char *ns, const char *name)
{
	int found;
	size_t i = find(s, ns, name, &found);

	return found && s->own[i].suspended;
}

int
pin_set_next(const struct pin_set *s, const char *ns_filter,
    const char *after_ns, const char *after_name, struct ps_pin *out)
{
	int found = 0, filter = ns_filter != NULL && ns_filter[0] != '\0';
	size_t i;

	if (filter && strcmp(after_ns, ns_filter) < 0)
		i = find(s, ns_filter, "", &found); /* never found */
	else {
		i = find(s, after_ns, after_name, &found);
		if (found)
			i++;
	}
	if (i >= s->n_own ||
	    (filter && strcmp(s->own[i].namespace, ns_filter) != 0))
		return 0;
	memcpy(out->namespace, s->own[i].namespace, sizeof(out->namespace));
	memcpy(out->name, s->own[i].name, sizeof(out->name));
	out->replicas = s->own[i].replicas;
	out->state = s->own[i].suspended ? PS_PIN_SUSPENDED : PS_PIN_ACTIVE;
	out->dry_run = 0;
	return 1;
}

/* A copy of `base` whose own array has room for one more entry. */
static struct pin_set *
copy(const struct pin_set *base)
{
	struct pin_set *c;

	if ((c = pin_set_new()) == NULL)
		return NULL;
	if ((c->own = entries(base->n_own + 1)) == NULL ||
	    (c->other = entries(base->n_other)) == NULL) {
		pin_set_free(c);
		return NULL;
	}
	if (base->n_own != 0)
		memcpy(c->own, base->own, base->n_own * sizeof(*c->own));
	if (base->n_other != 0)
		memcpy(
		    c->other, base->other, base->n_other * sizeof(*c->other));
	c->n_own = base->n_own;
	c->n_other = base->n_other;
	return c;
}

/* Room for one more pin of `ns`: 0, or -1 with the reason in `err`. */
static int
room(const struct pin_set *base, const struct pin_set_cfg *cfg, const char *ns,
    char *err, size_t errsz)
{
	if (pin_set_count_ns(base, ns) >= cfg->max_per_namespace) {
		snprintf(err, errsz,
		    "too many pins in namespace \"%s\" (at most %zu)", ns,
		    cfg->max_per_namespace);
		return -1;
	}
	if (pin_set_count(base) >= cfg->max_total) {
		snprintf(err, errsz,
		    "too many pins in the namespaces served (at most %zu)",
		    cfg->max_total);
		return -1;
	}
	if (pin_set_total(base) >= (size_t)PIN_DOC_MAX_ENTRIES) {
		snprintf(err, errsz,
		    "too many pins in the document (at most %d)",
		    PIN_DOC_MAX_ENTRIES);
		return -1;
	}
	return 0;
}

enum pin_set_result
pin_set_apply(const struct pin_set *base, const struct pin_set_cfg *cfg,
    const struct pin_change *c, struct pin_set **out, int *had, uint32_t *old,
    char *err, size_t errsz)
{
	struct pin_set *n;
	size_t i;
	int found;

	*had = 0;
	*old = 0;
	/* Untrusted (gateway, via the store): re-validated. */
	if (!pin_set_serves(cfg, c->namespace)) {
		pin_set_not_served(cfg, c->namespace, err, errsz);
		return PIN_SET_NOT_SERVED;
	}
	if (ps_valid_name(c->name, strnlen(c->name, PS_MAX_NAME + 1)) !=
	    PS_OK) {
		snprintf(err, errsz, "not a DNS-1123 subdomain");
		return PIN_SET_REFUSED;
	}
	if (!c->del && c->replicas > cfg->max_replicas) {
		snprintf(err, errsz, "replicas %u above the maximum %u",
		    c->replicas, cfg->max_replicas);
		return PIN_SET_REFUSED;
	}
	i = find(base, c->namespace, c->name, &found);
	*had = found;
	*old = found ? base->own[i].replicas : 0;
	if (c->del && !found)
		return PIN_SET_NO_PIN;
	if (!c->del && found && base->own[i].replicas == c->replicas &&
	    base->own[i].suspended == (c->suspended != 0))
		return PIN_SET_SAME;
	if (!c->del && !found && room(base, cfg, c->namespace, err, errsz) != 0)
		return PIN_SET_REFUSED;
	if ((n = copy(base)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return PIN_SET_NOMEM;
	}
	if (c->del) {
		memmove(&n->own[i], &n->own[i + 1],
		    (n->n_own - i - 1) * sizeof(*n->own));
		n->n_own--;
	} else {
		if (!found) {
			memmove(&n->own[i + 1], &n->own[i],
			    (n->n_own - i) * sizeof(*n->own));
			memset(&n->own[i], 0, sizeof(n->own[i]));
			snprintf(n->own[i].name, sizeof(n->own[i].name), "%s",
			    c->name);
			snprintf(n->own[i].namespace,
			    sizeof(n->own[i].namespace), "%s", c->namespace);
			n->n_own++;
		}
		n->own[i].replicas = c->replicas;
		n->own[i].suspended = c->suspended != 0;
	}
	*out = n;
	return PIN_SET_CHANGED;
}

int
pin_set_generate(const struct pin_set *s, char **doc, size_t *len)
{
	struct pin_entry *all;
	size_t total = pin_set_total(s);
	int rc;

	if ((all = entries(total)) == NULL)
		return -1;
	if (s->n_own != 0)
		memcpy(all, s->own, s->n_own * sizeof(*all));
	if (s->n_other != 0)
		memcpy(all + s->n_own, s->other, s->n_other * sizeof(*all));
	qsort(all, total, sizeof(*all), pin_entry_cmp);
	rc = pin_doc_generate(all, total, doc, len);
	free(all);
	return rc;
}

void
pin_set_diff(const struct pin_set *a, const struct pin_set *b,
    void (*cb)(void *arg, const char *ns, const char *name), void *arg)
{
	size_t i = 0, j = 0, na = a != NULL ? a->n_own : 0,
	       nb = b != NULL ? b->n_own : 0;

	/* A merge walk over two (namespace, name)-sorted arrays. */
	while (i < na || j < nb) {
		int c = i == na ? 1
		    : j == nb   ? -1
		                : pin_entry_cmp(&a->own[i], &b->own[j]);

		if (c < 0) {
			cb(arg, a->own[i].namespace, a->own[i].name);
			i++;
		} else if (c > 0) {
			cb(arg, b->own[j].namespace, b->own[j].name);
			j++;
		} else {
			if (a->own[i].replicas != b->own[j].replicas ||
			    a->own[i].suspended != b->own[j].suspended)
				cb(arg, a->own[i].namespace, a->own[i].name);
			i++;
			j++;
		}
	}
}
