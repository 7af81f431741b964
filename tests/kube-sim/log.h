/*
 * log.h — kube-sim's logging, after OpenBSD's log.h: one line per message
 * on stderr with a level.  Never pass tokens, keys or raw bodies here.
 */
#ifndef KS_LOG_H
#define KS_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

int log_parse_level(const char *, enum log_level *);
void log_set_level(enum log_level);
int log_enabled(enum log_level);
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif /* KS_LOG_H */
