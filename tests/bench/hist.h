/*
 * hist.h — latency histogram for the bench clients: log-linear buckets in
 * microseconds (exact below 64 µs, then 64 buckets per power of two, so a
 * reported percentile is within 1/64 ≈ 1.6 % of the true value), constant
 * memory, O(1) record.  Percentiles come from bucket counts, never from a
 * sorted sample: a run of millions of requests costs nothing more.
 *
 * Not thread-safe; the clients are single-threaded.
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdint.h>
#include <stdio.h>

#define HIST_SUB_BITS 6 /* 64 linear buckets per octave */
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_OCTAVES  36 /* up to 2^42 µs (~50 days) */
#define HIST_BUCKETS  (HIST_SUB * (HIST_OCTAVES + 1))

struct hist {
	uint64_t count;
	uint64_t sum_us;
	uint64_t min_us;
	uint64_t max_us;
	uint64_t bucket[HIST_BUCKETS];
};

void hist_reset(struct hist *h);
void hist_record(struct hist *h, uint64_t us);
/* Value (µs) at percentile p (0 < p <= 100): the midpoint of its bucket. */
double hist_percentile(const struct hist *h, double p);
/*
 * Prints " p50_ms=… p90_ms=… p99_ms=… p999_ms=… mean_ms=… max_ms=…"
 * (leading space, no newline) for the result line.
 */
void hist_print_kv(FILE *out, const struct hist *h);

#endif /* BENCH_HIST_H */
