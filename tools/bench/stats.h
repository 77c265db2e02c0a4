/* SPDX-License-Identifier: MIT */
/*
 * Latency histograms and counters for lispms-bench: log-linear buckets of
 * nanoseconds (16 sub-buckets per power of two, so a quantile is within
 * 1/16 of the true value), merged across threads and read as p50, p99,
 * p999 and max. A histogram belongs to one thread; merge after joining.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>

#define STATS_HIST_BUCKETS (40 * 16)

struct stats_hist {
	uint64_t count;
	uint64_t max_ns;
	uint64_t b[STATS_HIST_BUCKETS];
};

/* Bucket of a value, and the value a bucket stands for (its middle). */
unsigned stats_bucket(uint64_t ns);
uint64_t stats_bucket_value(unsigned bucket);

static inline void stats_add(struct stats_hist *h, uint64_t ns)
{
	h->b[stats_bucket(ns)]++;
	h->count++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void stats_merge(struct stats_hist *into, const struct stats_hist *from);

/*
 * The smallest recorded value v such that at least q of the values are <= v,
 * as its bucket's value (never above the maximum seen); 0 when empty. q is
 * clamped to 0..1; q = 1 gives the maximum.
 */
uint64_t stats_quantile(const struct stats_hist *h, double q);

/*
 * The distribution as a JSON member `,"cdf":[[us,fraction],...]`: one point
 * per non-empty bucket (its value in microseconds, never above the maximum,
 * and the share of values at or below it), for bench/report's CDF plots.
 */
void stats_cdf_json(FILE *f, const struct stats_hist *h);
