/*
 * query.c — the write routes' query string (see query.h).  One pass over
 * the '&'-separated parameters; nothing is copied or decoded.
 */
#include <string.h>

#include "gateway/query.h"

/* `s` (`n` bytes) is exactly the NUL-terminated `lit`. */
static int
is(const char *s, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

enum query_err
query_parse_write(const char *q, size_t len, struct query_write *out)
{
	const char *p = q, *end = q + len, *amp, *eq;
	int seen = 0, dry = 0;
	size_t n;

	if (len == 0) {
		out->dry_run = 0;
		return QUERY_OK;
	}
	for (;;) {
		amp = memchr(p, '&', (size_t)(end - p));
		n = (size_t)((amp != NULL ? amp : end) - p);
		eq = memchr(p, '=', n);
		if (n == 0 || eq == NULL || eq == p)
			return QUERY_MALFORMED;
		if (!is(p, (size_t)(eq - p), "dryRun"))
			return QUERY_UNKNOWN;
		if (seen)
			return QUERY_REPEATED;
		seen = 1;
		eq++;
		n -= (size_t)(eq - p);
		if (is(eq, n, "true") || is(eq, n, "All"))
			dry = 1;
		else if (!is(eq, n, "false"))
			return QUERY_BAD_VALUE;
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	out->dry_run = dry;
	return QUERY_OK;
}

const char *
query_message(enum query_err e)
{
	switch (e) {
	case QUERY_OK:
		return "ok";
	case QUERY_MALFORMED:
		return "malformed query string: parameters are name=value "
		       "separated by '&'";
	case QUERY_UNKNOWN:
		return "unknown query parameter: only dryRun is accepted";
	case QUERY_REPEATED:
		return "the query parameter dryRun is given more than once";
	case QUERY_BAD_VALUE:
		return "dryRun must be true, All or false";
	}
	return "invalid query";
}
