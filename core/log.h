/*
 * log.h — replicad-core's logging, after OpenBSD's log.h (bgpd, relayd):
 * log_warn adds strerror(errno), log_warnx does not, fatal/fatalx exit.
 * Underneath, one line per message on stderr as text (timestamp, level,
 * message, key=value context) or JSON (generated with yajl_gen only).
 *
 * Never pass a token, key, Authorization header or raw body to any of
 * these, not even at debug level: log lengths (LOG_KV_BYTES) and reasons.
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stddef.h>
#include <stdio.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };

/* One context key/value; keys are program constants. */
enum log_kv_kind {
	LOG_KV_STR,  /* untrusted text: escaped in both formats */
	LOG_KV_INT,  /* signed integer */
	LOG_KV_UINT, /* unsigned integer */
	LOG_KV_BYTES /* the length of a secret or body, never its bytes */
};

struct log_kv {
	const char *key;
	enum log_kv_kind kind;
	union {
		const char *s;
		long long i;
		unsigned long long u;
	} v;
};

#define LOG_S(k, x) \
	((struct log_kv){.key = (k), .kind = LOG_KV_STR, .v.s = (x)})
#define LOG_I(k, x) \
	((struct log_kv){.key = (k), .kind = LOG_KV_INT, .v.i = (long long)(x)})
#define LOG_U(k, x)       \
	((struct log_kv){ \
	    .key = (k), .kind = LOG_KV_UINT, .v.u = (unsigned long long)(x)})
/* Logged as "<k>_bytes": what a secret or body weighed, not what it said. */
#define LOG_BYTES(k, n)   \
	((struct log_kv){ \
	    .key = (k), .kind = LOG_KV_BYTES, .v.u = (unsigned long long)(n)})

/* Startup: program name for every line, threshold, format. */
void log_init(
    const char *procname, enum log_level level, enum log_format format);
/* Where lines go (default stderr); for tests. */
void log_set_stream(FILE *fp);
void log_set_level(enum log_level level);
void log_set_format(enum log_format format);
int log_enabled(enum log_level level);
/* 0, or -1 for an unknown name ("debug|info|warn|error", "text|json"). */
int log_parse_level(const char *s, enum log_level *out);
int log_parse_format(const char *s, enum log_format *out);

/*
 * The general form: a message at `level` with `nkv` context values;
 * `errnum` != 0 appends strerror(errnum).  The others are shorthands.
 */
void log_kv(enum log_level level, int errnum, const struct log_kv *kv,
    size_t nkv, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Startup errors and broken invariants only; never for peer input. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif /* CORE_LOG_H */
