/* SPDX-License-Identifier: MIT */
/*
 * Per-thread counters, write side. Each registered thread owns one row,
 * indexed by its thread id, and writes it with relaxed atomics and no
 * contention; readers (metrics, lispmsctl) sum the rows. Rows are never
 * cleared, so a thread id reused after a thread exits keeps the sums
 * monotonic. Unregistered threads share row 0 with atomic adds.
 *
 * Metric ids come from the single table in metrics.def.
 *
 * Threads: write from any thread; sums from any thread (eventually exact).
 */
#pragma once

#include <stdatomic.h>
#include <stdint.h>

#include <lispms/stream.h>
#include <lispms/thread.h>

/* A stream-session row is STREAM_TRANSPORT_MAX ids, in enum stream_transport
 * order (counters.c checks the count). */
#define LISPMS_SESS_IDS_(id) \
	LISPMS_M_##id, LISPMS_M_##id##_TLS_, LISPMS_M_##id##_QUIC_, LISPMS_M_##id##_SCTP_,

enum metric_id {
#define LISPMS_COUNTER(id, name, labels, help)	    LISPMS_M_##id,
#define LISPMS_GAUGE(id, name, labels, help)	    LISPMS_M_##id,
#define LISPMS_SESS_COUNTER(id, name, labels, help) LISPMS_SESS_IDS_(id)
#define LISPMS_SESS_GAUGE(id, name, labels, help)   LISPMS_SESS_IDS_(id)
#include <lispms/metrics.def>
	LISPMS_M__COUNT
};

enum hist_id {
#define LISPMS_HISTOGRAM(id, name, labels, help) LISPMS_H_##id,
#include <lispms/metrics.def>
	LISPMS_H__COUNT
};

enum site_metric_id {
#define LISPMS_SITE_COUNTER(id, name, labels, help) LISPMS_S_##id,
#include <lispms/metrics.def>
	LISPMS_S__COUNT
};

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

struct metric_desc {
	const char *name;
	const char *labels; /* Prometheus label set without braces, or "" */
	const char *help;
	enum metric_type type;
	/* stream-session rows: the transport + 1 (a transport="..." label goes
	 * before `labels`); 0 for the others */
	uint8_t transport;
};

/* The id of stream-session row `id` (LISPMS_M_<ID> of a LISPMS_SESS_* row)
 * for transport t. */
static inline enum metric_id counters_sess_id(enum metric_id id, enum stream_transport t)
{
	return (enum metric_id)((unsigned)id +
				((unsigned)t < STREAM_TRANSPORT_MAX ? (unsigned)t : 0));
}

/* Descriptions, indexed by enum metric_id, enum hist_id and enum site_metric_id. */
extern const struct metric_desc counters_desc[];
extern const struct metric_desc counters_hist_desc[];
extern const struct metric_desc counters_site_desc[];

/* Histogram bucket i counts observations <= 2^i microseconds; the last is +Inf. */
#define LISPMS_HIST_BUCKETS 21

struct counters_hist {
	_Atomic uint64_t bucket[LISPMS_HIST_BUCKETS + 1];
	_Atomic uint64_t sum_ns;
};

struct counters_row {
	_Atomic uint64_t c[LISPMS_M__COUNT > 0 ? LISPMS_M__COUNT : 1];
	struct counters_hist h[LISPMS_H__COUNT > 0 ? LISPMS_H__COUNT : 1];
} __attribute__((aligned(64)));

extern struct counters_row counters_rows[LISPMS_MAX_THREADS];

static inline void counters_add(enum metric_id id, uint64_t n)
{
	unsigned t = thread_id();
	_Atomic uint64_t *c = &counters_rows[t].c[id];
	if (t == 0)
		atomic_fetch_add_explicit(c, n, memory_order_relaxed);
	else
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
				      memory_order_relaxed);
}

static inline void counters_inc(enum metric_id id)
{
	counters_add(id, 1);
}

/* Gauges: add a signed delta (stored modulo 2^64, summed as int64). */
static inline void counters_gauge_add(enum metric_id id, int64_t delta)
{
	counters_add(id, (uint64_t)delta);
}

/* Bucket index for a latency in nanoseconds. */
unsigned counters_hist_bucket(uint64_t ns);

/* Record one latency observation (nanoseconds). */
void counters_observe_ns(enum hist_id id, uint64_t ns);
/* Record `count` observations of the same latency (a batch's mean, per message). */
void counters_observe_ns_n(enum hist_id id, uint64_t ns, uint64_t count);

/* Sum of a counter over every thread row. */
uint64_t counters_sum(enum metric_id id);

/* Sum of a gauge over every thread row. */
int64_t counters_sum_gauge(enum metric_id id);

/* Merged histogram over every thread row. */
void counters_hist_sum(enum hist_id id, uint64_t bucket[LISPMS_HIST_BUCKETS + 1], uint64_t *count,
		       uint64_t *sum_ns);

/* Upper bound of bucket i in seconds (+Inf for the last one). */
double counters_hist_le(unsigned i);

/*
 * Per-site counters: a site has a number (0..LISPMS_MAX_SITES-1, given by
 * the request core, never reused) and every thread a lazily allocated row
 * of counters per 64 site numbers, written like the rows above. Numbers
 * past the limit are not counted per site (the global counters still are).
 */
#define LISPMS_MAX_SITES   65536
#define LISPMS_SITE_CHUNK  64
#define LISPMS_SITE_CHUNKS (LISPMS_MAX_SITES / LISPMS_SITE_CHUNK)

struct counters_site_chunk {
	_Atomic uint64_t c[LISPMS_SITE_CHUNK][LISPMS_S__COUNT];
};

extern struct counters_site_chunk
    *_Atomic counters_site_dir[LISPMS_MAX_THREADS][LISPMS_SITE_CHUNKS];

/* The calling thread's chunk for site, allocated on first use (NULL: no memory). */
struct counters_site_chunk *counters_site_chunk_get(unsigned site);

static inline void counters_site_add(unsigned site, enum site_metric_id id, uint64_t n)
{
	if (site >= LISPMS_MAX_SITES)
		return;
	unsigned t = thread_id();
	struct counters_site_chunk *ch = atomic_load_explicit(
	    &counters_site_dir[t][site / LISPMS_SITE_CHUNK], memory_order_acquire);
	if (ch == NULL && (ch = counters_site_chunk_get(site)) == NULL)
		return;
	_Atomic uint64_t *c = &ch->c[site % LISPMS_SITE_CHUNK][id];
	if (t == 0)
		atomic_fetch_add_explicit(c, n, memory_order_relaxed);
	else
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
				      memory_order_relaxed);
}

static inline void counters_site_inc(unsigned site, enum site_metric_id id)
{
	counters_site_add(site, id, 1);
}

/* Sum of a per-site counter over every thread. */
uint64_t counters_site_sum(unsigned site, enum site_metric_id id);