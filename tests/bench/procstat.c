/*
 * procstat.c — per-process cost counters from /proc (see procstat.h).
 *
 * Every file is read whole into a small stack buffer with one read(2):
 * /proc files are generated at open, so a partial read cannot mix two
 * moments.  A process that has exited is counted as missing rather than
 * failing the run; the harness treats missing > 0 as a broken run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/procstat.h"

int
procstat_parse_group(
    const char *arg, struct procstat_group *g, char *err, size_t errsz)
{
	const char *colon = strchr(arg, ':'), *p;
	char *end;
	long v;

	memset(g, 0, sizeof(*g));
	if (colon == NULL || colon == arg ||
	    (size_t)(colon - arg) >= sizeof(g->name)) {
		snprintf(err, errsz, "--pids: want NAME:PID[,PID...], got '%s'",
		    arg);
		return -1;
	}
	memcpy(g->name, arg, (size_t)(colon - arg));
	for (p = colon + 1;; p = end + 1) {
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno != 0 || end == p || v <= 0 || v > INT_MAX ||
		    (*end != ',' && *end != '\0')) {
			snprintf(
			    err, errsz, "--pids %s: bad pid list", g->name);
			return -1;
		}
		if (g->npid == PROCSTAT_MAX_PIDS) {
			snprintf(err, errsz, "--pids %s: more than %d pids",
			    g->name, PROCSTAT_MAX_PIDS);
			return -1;
		}
		g->pid[g->npid++] = (pid_t)v;
		if (*end == '\0')
			return 0;
	}
}

/* Reads /proc/PID/WHAT into buf (NUL-terminated); length or -1. */
static ssize_t
read_proc(pid_t pid, const char *what, char *buf, size_t bufsz)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, what);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, bufsz - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Fields 14 and 15 (utime, stime) of /proc/PID/stat. */
static int
read_cpu(pid_t pid, uint64_t *ticks)
{
	char buf[1024], *p, *end;
	unsigned long long ut, st;
	int field;

	if (read_proc(pid, "stat", buf, sizeof(buf)) < 0)
		return -1;
	/*
	 * Field 2 is "(comm)" and comm may hold spaces or ')': count the
	 * fields from the last ')' instead (it ends field 2).
	 */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	for (field = 3; field < 14; field++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			return -1;
	}
	errno = 0;
	ut = strtoull(p + 1, &end, 10);
	if (errno != 0 || end == p + 1 || *end != ' ')
		return -1;
	st = strtoull(end + 1, &p, 10);
	if (errno != 0 || p == end + 1)
		return -1;
	*ticks = ut + st;
	return 0;
}

/* Sum of the first field of /proc/PID/task/TID/schedstat (ns on CPU). */
static int
read_sched_ns(pid_t pid, uint64_t *ns)
{
	char path[64], what[64], buf[256], *end;
	struct dirent *de;
	unsigned long long v;
	uint64_t sum = 0;
	int any = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(
		    what, sizeof(what), "task/%.20s/schedstat", de->d_name);
		if (read_proc(pid, what, buf, sizeof(buf)) < 0)
			continue; /* the thread just exited */
		errno = 0;
		v = strtoull(buf, &end, 10);
		if (errno != 0 || end == buf)
			continue;
		sum += v;
		any = 1;
	}
	closedir(d);
	if (!any)
		return -1;
	*ns = sum;
	return 0;
}

/* The number after "key" at the start of a line of `buf`, or -1. */
static int
find_u64(const char *buf, const char *key, uint64_t *v)
{
	size_t klen = strlen(key);
	const char *p = buf;
	char *end;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0) {
			p += klen;
			while (*p == ' ' || *p == '\t')
				p++;
			errno = 0;
			*v = strtoull(p, &end, 10);
			return errno == 0 && end != p ? 0 : -1;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return -1;
}

void
procstat_sample(const struct procstat_group *g, struct procstat_sample *s)
{
	char buf[4096];
	uint64_t ticks, ns, r, w, rss, hwm;
	long hz = sysconf(_SC_CLK_TCK);
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < g->npid; i++) {
		if (read_cpu(g->pid[i], &ticks) != 0 ||
		    read_proc(g->pid[i], "io", buf, sizeof(buf)) < 0 ||
		    find_u64(buf, "syscr:", &r) != 0 ||
		    find_u64(buf, "syscw:", &w) != 0 ||
		    read_proc(g->pid[i], "status", buf, sizeof(buf)) < 0 ||
		    find_u64(buf, "VmRSS:", &rss) != 0 ||
		    find_u64(buf, "VmHWM:", &hwm) != 0) {
			s->missing++;
			continue;
		}
		s->cpu_ticks += ticks;
		if (read_sched_ns(g->pid[i], &ns) != 0) {
			s->no_schedstat++;
			ns = ticks *
			    (1000000000ull / (uint64_t)(hz > 0 ? hz : 100));
		}
		s->cpu_ns += ns;
		s->rw_calls += r + w;
		s->rss_kib += rss;
		s->hwm_kib += hwm;
	}
}

void
procstat_print_kv(FILE *out, const struct procstat_group *g,
    const struct procstat_sample *a, const struct procstat_sample *b,
    uint64_t requests)
{
	long hz = sysconf(_SC_CLK_TCK);
	double cpu_us, tick_us, rw;

	if (hz <= 0)
		hz = 100;
	cpu_us =
	    b->cpu_ns >= a->cpu_ns ? (double)(b->cpu_ns - a->cpu_ns) / 1e3 : 0;
	tick_us = b->cpu_ticks >= a->cpu_ticks
	    ? (double)(b->cpu_ticks - a->cpu_ticks) * 1e6 / (double)hz
	    : 0;
	rw = b->rw_calls >= a->rw_calls ? (double)(b->rw_calls - a->rw_calls)
	                                : 0;
	fprintf(out,
	    " %s_cpu_us=%.0f %s_cpu_us_req=%.2f %s_tick_cpu_us=%.0f"
	    " %s_rw_calls=%.0f %s_rw_per_req=%.2f %s_rss_kib=%llu"
	    " %s_hwm_kib=%llu %s_missing=%d %s_no_schedstat=%d",
	    g->name, cpu_us, g->name, requests ? cpu_us / (double)requests : 0,
	    g->name, tick_us, g->name, rw, g->name,
	    requests ? rw / (double)requests : 0, g->name,
	    (unsigned long long)b->rss_kib, g->name,
	    (unsigned long long)b->hwm_kib, g->name, a->missing + b->missing,
	    g->name, b->no_schedstat);
}
