/* SPDX-License-Identifier: MIT */
/*
 * A binary min-heap of timers keyed by a deadline (ns), for transports that
 * keep one timer per connection (QUIC: ngtcp2's expiry), so the earliest
 * deadline is O(1) and setting, moving or removing one is O(log n) however
 * many connections a worker holds. The caller embeds a struct timer_node in
 * its object and gets it back from timer_heap_top().
 *
 * Threads: one owner thread, no locking. Errors: timer_heap_set returns
 * LISPMS_ENOMEM when the heap cannot grow (the node is then not in it).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct timer_node {
	uint64_t at; /* the deadline while queued */
	size_t idx;  /* position + 1 in the heap; 0: not queued */
};

struct timer_heap {
	struct timer_node **v;
	size_t len, cap;
};

/* Queue n at `at`, or move it there if it is queued. */
int timer_heap_set(struct timer_heap *h, struct timer_node *n, uint64_t at);
/* Take n out (nothing if it is not queued). */
void timer_heap_del(struct timer_heap *h, struct timer_node *n);
/* The earliest node, NULL when empty. */
static inline struct timer_node *timer_heap_top(const struct timer_heap *h)
{
	return h->len ? h->v[0] : NULL;
}
static inline bool timer_node_queued(const struct timer_node *n)
{
	return n->idx != 0;
}
void timer_heap_free(struct timer_heap *h);
