/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include <math.h>

#include <lispms/counters.h>

struct counters_row counters_rows[LISPMS_MAX_THREADS];

_Static_assert(STREAM_TRANSPORT_MAX == 4, "LISPMS_SESS_IDS_ makes one id per transport");

#define SESS_DESC(id, n, l, h, type)                                                         \
	[LISPMS_M_##id + STREAM_TCP] = { n, l, h, type, STREAM_TCP + 1 },                    \
			 [LISPMS_M_##id + STREAM_TLS] = { n, l, h, type, STREAM_TLS + 1 },   \
			 [LISPMS_M_##id + STREAM_QUIC] = { n, l, h, type, STREAM_QUIC + 1 }, \
			 [LISPMS_M_##id + STREAM_SCTP] = { n, l, h, type, STREAM_SCTP + 1 },

const struct metric_desc counters_desc[] = {
#define LISPMS_COUNTER(id, n, l, h)	 [LISPMS_M_##id] = { n, l, h, METRIC_COUNTER, 0 },
#define LISPMS_GAUGE(id, n, l, h)	 [LISPMS_M_##id] = { n, l, h, METRIC_GAUGE, 0 },
#define LISPMS_SESS_COUNTER(id, n, l, h) SESS_DESC(id, n, l, h, METRIC_COUNTER)
#define LISPMS_SESS_GAUGE(id, n, l, h)	 SESS_DESC(id, n, l, h, METRIC_GAUGE)
#include <lispms/metrics.def>
};

const struct metric_desc counters_hist_desc[] = {
#define LISPMS_HISTOGRAM(id, n, l, h) [LISPMS_H_##id] = { n, l, h, METRIC_HISTOGRAM },
#include <lispms/metrics.def>
	{ 0 }
};

const struct metric_desc counters_site_desc[] = {
#define LISPMS_SITE_COUNTER(id, n, l, h) [LISPMS_S_##id] = { n, l, h, METRIC_COUNTER },
#include <lispms/metrics.def>
	{ 0 }
};

struct counters_site_chunk *_Atomic counters_site_dir[LISPMS_MAX_THREADS][LISPMS_SITE_CHUNKS];

struct counters_site_chunk *counters_site_chunk_get(unsigned site)
{
	struct counters_site_chunk *_Atomic *slot =
	    &counters_site_dir[thread_id()][site / LISPMS_SITE_CHUNK];
	struct counters_site_chunk *cur = atomic_load_explicit(slot, memory_order_acquire);
	if (cur != NULL)
		return cur;
	struct counters_site_chunk *fresh = calloc(1, sizeof(*fresh));
	if (fresh == NULL)
		return NULL;
	/* row 0 is shared by unregistered threads: the first one to publish wins */
	if (!atomic_compare_exchange_strong_explicit(slot, &cur, fresh, memory_order_acq_rel,
						     memory_order_acquire)) {
		free(fresh);
		return cur;
	}
	return fresh;
}

uint64_t counters_site_sum(unsigned site, enum site_metric_id id)
{
	if (site >= LISPMS_MAX_SITES)
		return 0;
	uint64_t sum = 0;
	unsigned lim = thread_id_limit();
	for (unsigned t = 0; t < lim; t++) {
		struct counters_site_chunk *ch = atomic_load_explicit(
		    &counters_site_dir[t][site / LISPMS_SITE_CHUNK], memory_order_acquire);
		if (ch != NULL)
			sum += atomic_load_explicit(&ch->c[site % LISPMS_SITE_CHUNK][id],
						    memory_order_relaxed);
	}
	return sum;
}

unsigned counters_hist_bucket(uint64_t ns)
{
	uint64_t us = (ns + 999) / 1000;
	unsigned i = 0;
	while (i < LISPMS_HIST_BUCKETS && us > (1ull << i))
		i++;
	return i;
}

void counters_observe_ns_n(enum hist_id id, uint64_t ns, uint64_t count)
{
	if (count == 0)
		return;
	unsigned t = thread_id();
	struct counters_hist *h = &counters_rows[t].h[id];
	unsigned b = counters_hist_bucket(ns);
	if (t == 0) {
		atomic_fetch_add_explicit(&h->bucket[b], count, memory_order_relaxed);
		atomic_fetch_add_explicit(&h->sum_ns, ns * count, memory_order_relaxed);
		return;
	}
	atomic_store_explicit(&h->bucket[b],
			      atomic_load_explicit(&h->bucket[b], memory_order_relaxed) + count,
			      memory_order_relaxed);
	atomic_store_explicit(&h->sum_ns,
			      atomic_load_explicit(&h->sum_ns, memory_order_relaxed) + ns * count,
			      memory_order_relaxed);
}

void counters_observe_ns(enum hist_id id, uint64_t ns)
{
	counters_observe_ns_n(id, ns, 1);
}

uint64_t counters_sum(enum metric_id id)
{
	uint64_t sum = 0;
	unsigned lim = thread_id_limit();
	for (unsigned t = 0; t < lim; t++)
		sum += atomic_load_explicit(&counters_rows[t].c[id], memory_order_relaxed);
	return sum;
}

int64_t counters_sum_gauge(enum metric_id id)
{
	return (int64_t)counters_sum(id);
}

void counters_hist_sum(enum hist_id id, uint64_t bucket[LISPMS_HIST_BUCKETS + 1], uint64_t *count,
		       uint64_t *sum_ns)
{
	uint64_t total = 0, sum = 0;
	for (unsigned b = 0; b <= LISPMS_HIST_BUCKETS; b++)
		bucket[b] = 0;
	unsigned lim = thread_id_limit();
	for (unsigned t = 0; t < lim; t++) {
		struct counters_hist *h = &counters_rows[t].h[id];
		for (unsigned b = 0; b <= LISPMS_HIST_BUCKETS; b++)
			bucket[b] += atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
		sum += atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
	}
	for (unsigned b = 0; b <= LISPMS_HIST_BUCKETS; b++)
		total += bucket[b];
	*count = total;
	*sum_ns = sum;
}

double counters_hist_le(unsigned i)
{
	if (i >= LISPMS_HIST_BUCKETS)
		return INFINITY;
	return (double)(1ull << i) * 1e-6;
}
