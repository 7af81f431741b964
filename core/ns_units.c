/*
 * ns_units.c — the set of namespaces served and their units (ns_units.h).
 * At most CORE_MAX_NAMESPACES: a linear search is as fast as anything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_limits.h"
#include "core/ns_units.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"

struct nsu {
	size_t n;
	struct nsu_unit u[CORE_MAX_NAMESPACES];
	struct nsu_unit *sorted[CORE_MAX_NAMESPACES];
	/* "a, b": every name and ", " between them. */
	char names[CORE_MAX_NAMESPACES * (PS_MAX_NAMESPACE + 2)];
};

int
nsu_parse_list(const char *list,
    char out[CORE_MAX_NAMESPACES][PS_MAX_NAMESPACE + 1], size_t *n, char *err,
    size_t errsz)
{
	const char *p = list, *end;
	size_t len;

	*n = 0;
	for (;;) {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == 0) {
			snprintf(
			    err, errsz, "an empty namespace in \"%s\"", list);
			return -1;
		}
		if (ps_valid_namespace(p, len) != PS_OK) {
			snprintf(err, errsz,
			    "\"%.*s\" is not a namespace (a DNS-1123 label)",
			    (int)(len > PS_MAX_NAMESPACE ? PS_MAX_NAMESPACE
			                                 : len),
			    p);
			return -1;
		}
		if (*n == CORE_MAX_NAMESPACES) {
			snprintf(err, errsz, "more than %d namespaces",
			    CORE_MAX_NAMESPACES);
			return -1;
		}
		memcpy(out[*n], p, len);
		out[*n][len] = '\0';
		for (size_t i = 0; i < *n; i++)
			if (strcmp(out[i], out[*n]) == 0) {
				snprintf(err, errsz,
				    "namespace \"%s\" is given twice", out[i]);
				return -1;
			}
		(*n)++;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

static int
cmp_unit(const void *a, const void *b)
{
	const struct nsu_unit *const *x = a, *const *y = b;

	return strcmp((*x)->namespace, (*y)->namespace);
}

struct nsu *
nsu_new(const char names[][PS_MAX_NAMESPACE + 1], size_t n, const char *home)
{
	struct nsu *s;
	size_t off = 0;

	if (n == 0 || n > CORE_MAX_NAMESPACES) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strnlen(names[i], PS_MAX_NAMESPACE + 1);

		if (ps_valid_namespace(names[i], len) != PS_OK) {
			errno = EINVAL;
			return NULL;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0) {
				errno = EINVAL;
				return NULL;
			}
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		struct nsu_unit *u = &s->u[i];

		memcpy(u->namespace, names[i], sizeof(u->namespace));
		u->index = (int)i;
		u->home = home != NULL && strcmp(home, names[i]) == 0;
		s->sorted[i] = u;
		/* Fits: n names of at most PS_MAX_NAMESPACE, n-1 ", ". */
		off += (size_t)snprintf(s->names + off, sizeof(s->names) - off,
		    "%s%s", i > 0 ? ", " : "", names[i]);
	}
	qsort(s->sorted, n, sizeof(s->sorted[0]), cmp_unit);
	return s;
}

void
nsu_free(struct nsu *s)
{
	free(s);
}

size_t
nsu_count(const struct nsu *s)
{
	return s->n;
}

struct nsu_unit *
nsu_at(struct nsu *s, size_t i)
{
	return i < s->n ? &s->u[i] : NULL;
}

struct nsu_unit *
nsu_sorted(struct nsu *s, size_t i)
{
	return i < s->n ? s->sorted[i] : NULL;
}

struct nsu_unit *
nsu_find(struct nsu *s, const char *ns)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->u[i].namespace, ns) == 0)
			return &s->u[i];
	return NULL;
}

struct nsu_unit *
nsu_home(struct nsu *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->u[i].home)
			return &s->u[i];
	return NULL;
}

const char *
nsu_names(const struct nsu *s)
{
	return s->names;
}
