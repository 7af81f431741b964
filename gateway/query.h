/*
 * query.h — the query string of the write routes (issue #14): the only
 * parameter is `dryRun`, as Kubernetes spells it.  `dryRun=true` or
 * `dryRun=All` (Kubernetes' value) asks for a dry run, `dryRun=false` for
 * a normal write.  Any other parameter, a repeated one, a parameter
 * without '=' or an empty one (`a&&b`, a trailing '&') is refused: a
 * write must never run for real because a misspelt dry run was ignored.
 *
 * Names and values are compared byte for byte, case-sensitive, without
 * percent-decoding (`dryRun=%74rue` is not `true`): nothing a client needs
 * to send here has a byte worth encoding.  Pure, unit-tested, fuzzed.
 *
 * The read routes do not call this: they ignore their query string (see
 * gateway/README.md, "Query strings").
 */
#ifndef GW_QUERY_H
#define GW_QUERY_H

#include <stddef.h>

enum query_err {
	QUERY_OK = 0,
	QUERY_MALFORMED, /* an empty parameter, or one without '=' */
	QUERY_UNKNOWN,   /* a parameter other than dryRun */
	QUERY_REPEATED,  /* dryRun twice */
	QUERY_BAD_VALUE  /* dryRun neither true, All nor false */
};

struct query_write {
	int dry_run; /* 0/1 */
};

/*
 * Parses the `len` bytes after the '?' (`q` need not be terminated; a
 * target without '?' has no query and needs no call; "?" alone, len 0,
 * has no parameters).  On QUERY_OK `*out` is set.
 */
enum query_err query_parse_write(
    const char *q, size_t len, struct query_write *out);
/* The error body's message for `e` (reason: "invalid_query"). */
const char *query_message(enum query_err e);

#endif /* GW_QUERY_H */
