/* SPDX-License-Identifier: MIT */
#include "stats.h"

#include <math.h>

unsigned stats_bucket(uint64_t ns)
{
	if (ns < 16)
		return (unsigned)ns;
	unsigned lg = 63u - (unsigned)__builtin_clzll(ns); /* >= 4 */
	unsigned sub = (unsigned)(ns >> (lg - 4)) & 15u;
	unsigned b = (lg - 3) * 16 + sub;
	return b < STATS_HIST_BUCKETS ? b : STATS_HIST_BUCKETS - 1;
}

uint64_t stats_bucket_value(unsigned b)
{
	if (b < 16)
		return b;
	unsigned lg = b / 16 + 3, sub = b % 16;
	return ((uint64_t)(16 + sub) << (lg - 4)) + ((1ull << (lg - 4)) / 2);
}

void stats_merge(struct stats_hist *into, const struct stats_hist *from)
{
	into->count += from->count;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
	for (unsigned i = 0; i < STATS_HIST_BUCKETS; i++)
		into->b[i] += from->b[i];
}

uint64_t stats_quantile(const struct stats_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	if (!(q > 0)) /* also NaN */
		q = 0;
	if (q >= 1)
		return h->max_ns;
	uint64_t want = (uint64_t)ceil(q * (double)h->count), seen = 0;
	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < STATS_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t v = stats_bucket_value(i);
			return v < h->max_ns ? v : h->max_ns;
		}
	}
	return h->max_ns;
}

void stats_cdf_json(FILE *f, const struct stats_hist *h)
{
	fputs(",\"cdf\":[", f);
	uint64_t seen = 0;
	const char *sep = "";
	for (unsigned i = 0; i < STATS_HIST_BUCKETS && h->count; i++) {
		if (h->b[i] == 0)
			continue;
		seen += h->b[i];
		uint64_t v = stats_bucket_value(i);
		if (v > h->max_ns)
			v = h->max_ns;
		fprintf(f, "%s[%.1f,%.5f]", sep, (double)v / 1e3, (double)seen / (double)h->count);
		sep = ",";
	}
	fputs("]", f);
}
