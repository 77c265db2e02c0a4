/* SPDX-License-Identifier: MIT */
/* The QUIC timer heap against a plain scan of the same timers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/err.h>

#include "timer_heap.h"

#define N 2000

static struct timer_node nodes[N];

/* The earliest queued node by a scan; NULL when none. */
static struct timer_node *scan_min(void)
{
	struct timer_node *m = NULL;
	for (size_t i = 0; i < N; i++)
		if (timer_node_queued(&nodes[i]) && (!m || nodes[i].at < m->at))
			m = &nodes[i];
	return m;
}

static void check_heap(const struct timer_heap *h)
{
	for (size_t i = 0; i < h->len; i++) {
		cr_assert_eq(h->v[i]->idx, i + 1, "a node knows its place");
		if (i > 0)
			cr_assert_leq(h->v[(i - 1) / 2]->at, h->v[i]->at, "heap order at %zu", i);
	}
}

Test(timer_heap, top_is_always_the_earliest_through_sets_moves_and_deletes)
{
	struct timer_heap h = { 0 };
	memset(nodes, 0, sizeof(nodes));
	srand(15);
	size_t queued = 0;
	for (int step = 0; step < 20000; step++) {
		struct timer_node *n = &nodes[(size_t)rand() % N];
		int op = rand() % 4;
		if (op < 3) {
			if (!timer_node_queued(n))
				queued++;
			cr_assert_eq(timer_heap_set(&h, n, (uint64_t)(rand() % 100000)),
				     LISPMS_EOK);
		} else {
			if (timer_node_queued(n))
				queued--;
			timer_heap_del(&h, n);
			cr_assert(!timer_node_queued(n));
		}
		cr_assert_eq(h.len, queued);
		struct timer_node *t = timer_heap_top(&h), *m = scan_min();
		cr_assert_eq(t ? t->at : UINT64_MAX, m ? m->at : UINT64_MAX, "step %d", step);
		check_heap(&h);
	}
	/* popping everything yields the deadlines in order */
	uint64_t last = 0;
	while (timer_heap_top(&h)) {
		struct timer_node *t = timer_heap_top(&h);
		cr_assert_geq(t->at, last);
		last = t->at;
		timer_heap_del(&h, t);
	}
	cr_assert_eq(h.len, 0);
	cr_assert_null(scan_min());
	timer_heap_free(&h);
}

Test(timer_heap, deleting_an_unqueued_node_and_moving_in_place_are_harmless)
{
	struct timer_heap h = { 0 };
	struct timer_node a = { 0 }, b = { 0 };
	timer_heap_del(&h, &a);
	cr_assert_eq(timer_heap_set(&h, &a, 10), LISPMS_EOK);
	cr_assert_eq(timer_heap_set(&h, &b, 20), LISPMS_EOK);
	cr_assert_eq(timer_heap_set(&h, &a, 10), LISPMS_EOK);
	cr_assert_eq(timer_heap_top(&h), &a);
	cr_assert_eq(timer_heap_set(&h, &a, 30), LISPMS_EOK);
	cr_assert_eq(timer_heap_top(&h), &b, "a moved past b");
	timer_heap_del(&h, &b);
	cr_assert_eq(timer_heap_top(&h), &a);
	timer_heap_del(&h, &a);
	cr_assert_null(timer_heap_top(&h));
	timer_heap_free(&h);
}
