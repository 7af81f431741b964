/*
 * procstat.h — what a bench run costs the server, read from /proc: CPU
 * time, read/write-class system calls (syscr + syscw of /proc/PID/io) and
 * resident memory (VmRSS, VmHWM of /proc/PID/status), summed over a group
 * of processes (gateway + core, or nginx's master + workers).
 *
 * CPU time is the scheduler's on-CPU time of every thread, in ns (first
 * field of /proc/PID/task/TID/schedstat): the quantity utime + stime
 * measure, without their 10 ms tick, which would be 450 µs per request in
 * a one-second run at 22 requests/s.  utime + stime (fields 14 and 15 of
 * /proc/PID/stat) are sampled too, as a cross-check and as the fallback
 * on a kernel without schedstat.
 *
 * Why these: they need no privilege beyond owning the processes, no
 * tracer that would slow the server down, and two samples around the
 * measured window give per-request figures.  What they miss: syscr/syscw
 * count read(2)/write(2)/readv/writev/pread… only — not send/recv*, epoll,
 * accept or connect; a thread that exits between two samples takes its
 * on-CPU time with it (our daemons and nginx's workers are one thread).
 */
#ifndef BENCH_PROCSTAT_H
#define BENCH_PROCSTAT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define PROCSTAT_MAX_PIDS   16
#define PROCSTAT_MAX_GROUPS 8
#define PROCSTAT_NAME_MAX   16

/* A named group of processes, as given by --pids NAME:PID[,PID...]. */
struct procstat_group {
	char name[PROCSTAT_NAME_MAX];
	pid_t pid[PROCSTAT_MAX_PIDS];
	int npid;
};

/* One sample of a group, summed over its processes. */
struct procstat_sample {
	uint64_t cpu_ns;    /* on-CPU time of every thread (schedstat) */
	uint64_t cpu_ticks; /* utime + stime, clock ticks */
	uint64_t rw_calls;  /* syscr + syscw */
	uint64_t rss_kib;   /* VmRSS */
	uint64_t hwm_kib;   /* VmHWM (peak RSS) */
	int missing;        /* processes that could not be read */
	int no_schedstat;   /* processes without schedstat: ticks used */
};

/* Parses "NAME:PID[,PID...]"; 0, or -1 with a message in `err`. */
int procstat_parse_group(
    const char *arg, struct procstat_group *g, char *err, size_t errsz);

/* Samples every process of `g`; one that is gone counts in `missing`. */
void procstat_sample(const struct procstat_group *g, struct procstat_sample *s);

/*
 * Prints " NAME_cpu_us=… NAME_cpu_us_req=… NAME_tick_cpu_us=…
 * NAME_rw_calls=… NAME_rw_per_req=… NAME_rss_kib=… NAME_hwm_kib=…
 * NAME_missing=…" for the window between `a` and `b` (RSS from `b`);
 * per-request figures divide by `requests` (0: printed as 0).
 */
void procstat_print_kv(FILE *out, const struct procstat_group *g,
    const struct procstat_sample *a, const struct procstat_sample *b,
    uint64_t requests);

#endif /* BENCH_PROCSTAT_H */
