/*
 * pin_doc.c — parse and generate the pins document (see pin_doc.h).
 *
 * The parser is a yajl callback machine over a fixed shape (array of flat
 * objects) on the shared walker (json_walk.c), whose depth says where a
 * token is; each object's members are collected in `cur` with a bit per
 * member seen.
 * Entries grow in a doubling array bounded by PIN_DOC_MAX_ENTRIES.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "core/json_walk.h"
#include "core/pins/pin_doc.h"
#include "proto-socket/ps_buf.h"

enum member { M_NONE, M_NAME, M_NAMESPACE, M_REPLICAS, M_SUSPENDED };

#define SEEN(m)  (1u << (m))
#define SEEN_ALL (SEEN(M_NAME) | SEEN(M_NAMESPACE) | SEEN(M_REPLICAS))

struct parse {
	struct jw w; /* depth 0 outside, 1 in the array, 2 in an entry */
	enum member key;
	unsigned seen;
	struct pin_entry cur;
	struct pin_entry *v;
	size_t n, cap;
};

/* A value other than the ones an entry's members take. */
static int
unexpected(struct parse *p, const char *what)
{
	if (p->w.depth == 0)
		return jw_fail(&p->w, "the document is not a JSON array");
	if (p->w.depth == 1)
		return jw_fail(
		    &p->w, "entry %zu is %s, not an object", p->n + 1, what);
	return jw_fail(&p->w, "entry %zu: \"%s\" must not be %s", p->n + 1,
	    p->key == M_REPLICAS        ? "replicas"
	        : p->key == M_SUSPENDED ? "suspended"
	        : p->key == M_NAME      ? "name"
	                                : "namespace",
	    what);
}

static int
on_null(void *ctx)
{
	return unexpected(ctx, "null");
}

/* Only "suspended" is a boolean (absent: false, the RFD's document). */
static int
on_boolean(void *ctx, int b)
{
	struct parse *p = ctx;

	if (p->w.depth != 2 || p->key != M_SUSPENDED)
		return unexpected(ctx, "a boolean");
	p->cur.suspended = b != 0;
	p->seen |= SEEN(M_SUSPENDED);
	return 1;
}

/* Numbers come as text, so that the range check sees every digit. */
static int
on_number(void *ctx, const char *s, size_t len)
{
	struct parse *p = ctx;
	uint64_t v = 0;

	if (p->w.depth != 2 || p->key != M_REPLICAS)
		return unexpected(p, "a number");
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return jw_fail(&p->w,
			    "entry %zu: replicas must be a whole number "
			    "(no sign, fraction or exponent)",
			    p->n + 1);
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > PS_MAX_REPLICAS)
			return jw_fail(&p->w, "entry %zu: replicas above %u",
			    p->n + 1, PS_MAX_REPLICAS);
	}
	p->cur.replicas = (uint32_t)v;
	p->seen |= SEEN(M_REPLICAS);
	return 1;
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct parse *p = ctx;

	if (p->w.depth != 2 || p->key == M_REPLICAS || p->key == M_SUSPENDED)
		return unexpected(p, "a string");
	if (p->key == M_NAME) {
		if (ps_valid_name((const char *)s, len) != PS_OK)
			return jw_fail(&p->w,
			    "entry %zu: name is not a DNS-1123 subdomain of "
			    "at most %d characters",
			    p->n + 1, PS_MAX_NAME);
		memcpy(p->cur.name, s, len);
		p->cur.name[len] = '\0';
		p->seen |= SEEN(M_NAME);
	} else {
		if (ps_valid_namespace((const char *)s, len) != PS_OK)
			return jw_fail(&p->w,
			    "entry %zu: namespace is not a DNS-1123 label of "
			    "at most %d characters",
			    p->n + 1, PS_MAX_NAMESPACE);
		memcpy(p->cur.namespace, s, len);
		p->cur.namespace[len] = '\0';
		p->seen |= SEEN(M_NAMESPACE);
	}
	return 1;
}

static int
on_map_key(void *ctx, const unsigned char *s, size_t len)
{
	static const struct {
		const char *s;
		enum member m;
	} members[] = {
	    {"name", M_NAME},
	    {"namespace", M_NAMESPACE},
	    {"replicas", M_REPLICAS},
	    {"suspended", M_SUSPENDED},
	};
	struct parse *p = ctx;

	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		if (strlen(members[i].s) == len &&
		    memcmp(members[i].s, s, len) == 0) {
			if (p->seen & SEEN(members[i].m))
				return jw_fail(&p->w, "entry %zu: \"%s\" twice",
				    p->n + 1, members[i].s);
			p->key = members[i].m;
			return 1;
		}
	return jw_fail(&p->w,
	    "entry %zu: unknown member (only name, namespace, replicas and "
	    "suspended)",
	    p->n + 1);
}

static int
on_start_map(void *ctx)
{
	struct parse *p = ctx;

	if (p->w.depth != 1)
		return unexpected(p, "an object");
	if (p->n == PIN_DOC_MAX_ENTRIES)
		return jw_fail(
		    &p->w, "more than %d entries", PIN_DOC_MAX_ENTRIES);
	jw_push(&p->w, 1); /* depth 2 of JW_MAX_DEPTH */
	p->seen = 0;
	p->key = M_NONE;
	memset(&p->cur, 0, sizeof(p->cur));
	return 1;
}

static int
on_end_map(void *ctx)
{
	struct parse *p = ctx;
	struct pin_entry *v;

	if ((p->seen & SEEN_ALL) != SEEN_ALL)
		return jw_fail(&p->w, "entry %zu: %s missing", p->n + 1,
		    !(p->seen & SEEN(M_NAME))            ? "name"
		        : !(p->seen & SEEN(M_NAMESPACE)) ? "namespace"
		                                         : "replicas");
	if (p->n == p->cap) {
		size_t cap = p->cap != 0 ? p->cap * 2 : 16;

		if (cap > PIN_DOC_MAX_ENTRIES)
			cap = PIN_DOC_MAX_ENTRIES;
		if ((v = realloc(p->v, cap * sizeof(*v))) == NULL)
			return jw_fail(&p->w, "out of memory");
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = p->cur;
	jw_pop(&p->w);
	return 1;
}

static int
on_start_array(void *ctx)
{
	struct parse *p = ctx;

	if (p->w.depth != 0)
		return unexpected(p, "an array");
	jw_push(&p->w, 0);
	return 1;
}

static int
on_end_array(void *ctx)
{
	struct parse *p = ctx;

	jw_pop(&p->w);
	return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

int
pin_entry_cmp(const void *a, const void *b)
{
	const struct pin_entry *x = a, *y = b;
	int c = strcmp(x->namespace, y->namespace);

	return c != 0 ? c : strcmp(x->name, y->name);
}

/* Only JSON whitespace (yajl would say "premature EOF"). */
static int
blank(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (strchr(" \t\r\n", buf[i]) == NULL || buf[i] == '\0')
			return 0;
	return 1;
}

int
pin_doc_parse(const char *buf, size_t len, struct pin_entry **out, size_t *n,
    char *err, size_t errsz)
{
	static const struct jw_config walk = {
	    .callbacks = &callbacks,
	    .many = 0,
	    .max_bytes = PIN_DOC_MAX_BYTES,
	    .units = 0,
	    .too_big = "larger than the size limit",
	};
	struct parse p;

	memset(&p, 0, sizeof(p));
	err[0] = '\0';
	if (len > PIN_DOC_MAX_BYTES) {
		snprintf(err, errsz, "larger than %d bytes", PIN_DOC_MAX_BYTES);
		return -1;
	}
	if (blank(buf, len)) {
		snprintf(err, errsz, "empty document (an empty store is [])");
		return -1;
	}
	if (jw_init(&p.w, &walk, &p) != 0) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (jw_feed(&p.w, buf, len) == 0)
		jw_finish(&p.w);
	jw_fini(&p.w);
	if (!p.w.dead && p.n > 1) {
		qsort(p.v, p.n, sizeof(*p.v), pin_entry_cmp);
		for (size_t i = 1; i < p.n; i++)
			if (pin_entry_cmp(&p.v[i - 1], &p.v[i]) == 0) {
				jw_fail(&p.w,
				    "deployment \"%s\" in namespace \"%s\" "
				    "twice",
				    p.v[i].name, p.v[i].namespace);
				break;
			}
	}
	if (p.w.dead) {
		snprintf(err, errsz, "%s", jw_error(&p.w));
		free(p.v);
		return -1;
	}
	*out = p.v;
	*n = p.n;
	return 0;
}

#define GEN_STR(g, s) \
	yajl_gen_string((g), (const unsigned char *)(s), strlen(s))

int
pin_doc_generate(const struct pin_entry *e, size_t n, char **out, size_t *len)
{
	yajl_gen g;
	const unsigned char *buf;
	size_t blen;
	int ok = 1;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		return -1;
	ok &= yajl_gen_config(g, yajl_gen_beautify, 1);
	ok &= yajl_gen_config(g, yajl_gen_indent_string, "  ");
	ok &= yajl_gen_array_open(g) == yajl_gen_status_ok;
	for (size_t i = 0; ok && i < n; i++) {
		ok &= yajl_gen_map_open(g) == yajl_gen_status_ok;
		ok &= GEN_STR(g, "name") == yajl_gen_status_ok;
		ok &= GEN_STR(g, e[i].name) == yajl_gen_status_ok;
		ok &= GEN_STR(g, "namespace") == yajl_gen_status_ok;
		ok &= GEN_STR(g, e[i].namespace) == yajl_gen_status_ok;
		ok &= GEN_STR(g, "replicas") == yajl_gen_status_ok;
		ok &= yajl_gen_integer(g, e[i].replicas) == yajl_gen_status_ok;
		/* Only when set: a document of active pins stays the RFD's. */
		if (e[i].suspended) {
			ok &= GEN_STR(g, "suspended") == yajl_gen_status_ok;
			ok &= yajl_gen_bool(g, 1) == yajl_gen_status_ok;
		}
		ok &= yajl_gen_map_close(g) == yajl_gen_status_ok;
	}
	ok &= yajl_gen_array_close(g) == yajl_gen_status_ok;
	ok &= yajl_gen_get_buf(g, &buf, &blen) == yajl_gen_status_ok;
	if (ok && (*out = malloc(blen != 0 ? blen : 1)) != NULL) {
		memcpy(*out, buf, blen);
		*len = blen;
	} else {
		ok = 0;
	}
	yajl_gen_free(g);
	return ok ? 0 : -1;
}
