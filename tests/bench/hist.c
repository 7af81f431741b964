/*
 * hist.c — log-linear latency histogram (see hist.h).
 *
 * Bucket index of a value v (µs): v itself below 2 * HIST_SUB; above, with
 * m the position of v's highest bit and s = m - HIST_SUB_BITS, the bucket
 * is HIST_SUB * (s + 1) + (v >> s) - HIST_SUB, i.e. the top
 * HIST_SUB_BITS + 1 bits of v.  This is HdrHistogram's layout with one
 * fixed precision, written out here so the bench needs no library.
 */
#include <string.h>

#include "tests/bench/hist.h"

static unsigned
hist_index(uint64_t v)
{
	unsigned msb, shift, idx;

	if (v < 2 * HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	idx = HIST_SUB * (shift + 1) + (unsigned)(v >> shift) - HIST_SUB;
	/* Beyond the last octave: clamp (a 50-day latency is one anyway). */
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* Lowest value of bucket `idx` and its width. */
static void
hist_bounds(unsigned idx, double *lo, double *width)
{
	unsigned shift;

	if (idx < 2 * HIST_SUB) {
		*lo = idx;
		*width = 1;
		return;
	}
	shift = idx / HIST_SUB - 1;
	*lo = (double)((uint64_t)(idx - HIST_SUB * shift) << shift);
	*width = (double)(1ull << shift);
}

void
hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

void
hist_record(struct hist *h, uint64_t us)
{
	if (h->count == 0 || us < h->min_us)
		h->min_us = us;
	if (us > h->max_us)
		h->max_us = us;
	h->count++;
	h->sum_us += us;
	h->bucket[hist_index(us)]++;
}

double
hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0;
	double lo, width, v;
	unsigned i;

	if (h->count == 0)
		return 0;
	/* The smallest value with at least p % of the samples at or below. */
	rank = (uint64_t)((p / 100.0) * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			break;
	}
	if (i == HIST_BUCKETS)
		return (double)h->max_us;
	hist_bounds(i, &lo, &width);
	v = lo + (width - 1) / 2;
	/* The bucket's midpoint may lie outside what was seen: clamp. */
	if (v > (double)h->max_us)
		v = (double)h->max_us;
	if (v < (double)h->min_us)
		v = (double)h->min_us;
	return v;
}

void
hist_print_kv(FILE *out, const struct hist *h)
{
	double mean = h->count ? (double)h->sum_us / (double)h->count : 0;

	fprintf(out,
	    " p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f"
	    " mean_ms=%.3f max_ms=%.3f",
	    hist_percentile(h, 50) / 1000, hist_percentile(h, 90) / 1000,
	    hist_percentile(h, 99) / 1000, hist_percentile(h, 99.9) / 1000,
	    mean / 1000, (double)h->max_us / 1000);
}
