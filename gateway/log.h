/*
 * log.h — replicad-gateway's logging: OpenBSD-style calls (log_warn adds
 * strerror(errno), log_warnx does not), one line per message on stderr,
 * as text or JSON (--log-format), filtered by --log-level.
 *
 * Never pass a key, a body, a certificate or an Authorization header to
 * these functions: log lengths and reasons.  Bytes that came from a client
 * go through log_sanitize() first.
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3
};

enum log_format { LOG_FMT_TEXT, LOG_FMT_JSON };

/* 0, or -1 when `level` or `format` is not a known name (NULL = keep). */
int log_init(const char *level, const char *format);
int log_enabled(enum log_level lvl);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Startup failures and broken invariants only; never for peer input. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Drains OpenSSL's error queue into `buf` as "reason; reason" (library
 * reason strings only, never data); "no OpenSSL error" when empty.
 */
const char *log_ssl_errors(char *buf, size_t len);
/* log_warnx("what: <drained OpenSSL errors>"). */
void log_ssl(const char *what);

/*
 * Copies at most `srclen` bytes of untrusted `src` into `dst` (capacity
 * `dstsz` > 0, always NUL-terminated), replacing every byte outside
 * printable ASCII and the characters '"' and '\\' with '?'.  Truncates.
 */
void log_sanitize(char *dst, size_t dstsz, const char *src, size_t srclen);

/* One access line per HTTP request.  Strings must be sanitized already. */
struct log_access {
	const char *listener; /* "api" or "probe" */
	const char *peer;     /* "addr:port" */
	const char *identity; /* client certificate identity, or "-" */
	const char *method;
	const char *path;
	int status;
	long latency_us;
	size_t bytes_in;    /* request body length */
	size_t bytes_out;   /* response body length */
	const char *reason; /* error reason, or NULL on success */
};

void log_access(const struct log_access *a);

/*
 * `v` in decimal at the end of `buf` (no NUL); returns where the digits
 * start, and their count in `*len`.  printf costs more on every request
 * (access lines, answers, JSON numbers) than this does.
 */
#define LOG_ITOA_SIZE 24
const char *log_itoa(long long v, char buf[LOG_ITOA_SIZE], size_t *len);

/*
 * Access lines wait in a buffer (GW_LOG_BUFFER bytes) until it is full,
 * log_flush() is called, or any other line is logged; off: each is
 * written at once.  Off by default (tests, tools); the gateway turns it on.
 */
void log_buffer_access(int on);
void log_flush(void);

/*
 * An audit line for a write the gateway forwarded (identity, deployment,
 * action, count, outcome, and since issue #14 the write's mode and
 * conditions); the core keeps the authoritative audit log.  Strings are
 * borrowed; identity and if_match are already printable ASCII.
 */
struct log_audit {
	const char *identity;
	const char *action; /* "scale", "pin", "unpin" */
	const char *ns;     /* the deployment's namespace (issue #15) */
	const char *name;
	long replicas;
	const char *outcome; /* "ok" or the error's name */
	int dry_run;
	int force;
	int suspended;        /* -1: not a pin */
	long expected;        /* -1: no expectedReplicas */
	const char *if_match; /* NULL or "": none; "*" for If-Match: * */
};
void log_audit(const struct log_audit *a);

#endif /* GW_LOG_H */
