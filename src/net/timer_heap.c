/* SPDX-License-Identifier: MIT */
#include "timer_heap.h"

#include <stdlib.h>

#include <lispms/err.h>

static void put(struct timer_heap *h, size_t i, struct timer_node *n)
{
	h->v[i] = n;
	n->idx = i + 1;
}

static void up(struct timer_heap *h, size_t i)
{
	struct timer_node *n = h->v[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h->v[p]->at <= n->at)
			break;
		put(h, i, h->v[p]);
		i = p;
	}
	put(h, i, n);
}

static void down(struct timer_heap *h, size_t i)
{
	struct timer_node *n = h->v[i];
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		uint64_t best = n->at;
		if (l < h->len && h->v[l]->at < best) {
			m = l;
			best = h->v[l]->at;
		}
		if (l + 1 < h->len && h->v[l + 1]->at < best)
			m = l + 1;
		if (m == i)
			break;
		put(h, i, h->v[m]);
		i = m;
	}
	put(h, i, n);
}

int timer_heap_set(struct timer_heap *h, struct timer_node *n, uint64_t at)
{
	if (n->idx) {
		uint64_t old = n->at;
		n->at = at;
		if (at < old)
			up(h, n->idx - 1);
		else if (at > old)
			down(h, n->idx - 1);
		return LISPMS_EOK;
	}
	if (h->len == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct timer_node **v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return LISPMS_ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	n->at = at;
	h->v[h->len] = n;
	up(h, h->len++);
	return LISPMS_EOK;
}

void timer_heap_del(struct timer_heap *h, struct timer_node *n)
{
	if (!n->idx)
		return;
	size_t i = n->idx - 1;
	n->idx = 0;
	struct timer_node *last = h->v[--h->len];
	if (i == h->len)
		return;
	put(h, i, last);
	if (i > 0 && h->v[(i - 1) / 2]->at > last->at)
		up(h, i);
	else
		down(h, i);
}

void timer_heap_free(struct timer_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->len = h->cap = 0;
}
