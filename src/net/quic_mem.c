/* SPDX-License-Identifier: MIT */
#include "quic_mem.h"

#include <stdlib.h>
#include <string.h>

#include <malloc.h>

#include <lispms/counters.h>

/* The bin for a request of `size` bytes: the one learned for it, or a new
 * one while there is room (NULL: not cached). */
static struct quic_mem_bin *bin_for(struct quic_mem_pool *p, size_t size)
{
	struct quic_mem_bin *free_bin = NULL;
	for (int i = 0; i < QUIC_MEM_BINS; i++) {
		if (p->bins[i].req == size)
			return &p->bins[i];
		if (p->bins[i].req == 0 && free_bin == NULL)
			free_bin = &p->bins[i];
	}
	if (free_bin)
		free_bin->req = size;
	return free_bin;
}

static void *bin_pop(struct quic_mem_pool *p, struct quic_mem_bin *b)
{
	void *blk = b->head;
	memcpy(&b->head, blk, sizeof(void *));
	b->n--;
	size_t n = malloc_usable_size(blk);
	p->cached -= n;
	p->takes++;
	counters_gauge_add(LISPMS_M_NET_QUIC_POOL_BYTES, -(int64_t)n);
	return blk;
}

void *quic_mem_get(struct quic_mem_pool *p, size_t size, bool zero)
{
	struct quic_mem_bin *b = size >= QUIC_MEM_MIN ? bin_for(p, size) : NULL;
	if (b == NULL || b->head == NULL)
		return zero ? calloc(1, size) : malloc(size);
	void *blk = bin_pop(p, b);
	if (zero)
		memset(blk, 0, size);
	return blk;
}

void quic_mem_put(struct quic_mem_pool *p, void *ptr, size_t usable)
{
	if (ptr == NULL)
		return;
	/* the largest request the block can serve: its own size's bin */
	struct quic_mem_bin *b = NULL;
	if (usable >= QUIC_MEM_MIN && p->cached + usable <= p->cap)
		for (int i = 0; i < QUIC_MEM_BINS; i++)
			if (p->bins[i].req && p->bins[i].req <= usable &&
			    (b == NULL || p->bins[i].req > b->req))
				b = &p->bins[i];
	if (b == NULL) {
		free(ptr);
		return;
	}
	memcpy(ptr, &b->head, sizeof(void *));
	b->head = ptr;
	b->n++;
	p->cached += usable;
	counters_gauge_add(LISPMS_M_NET_QUIC_POOL_BYTES, (int64_t)usable);
}

void quic_mem_trim(struct quic_mem_pool *p)
{
	uint64_t takes = p->takes; /* trimming is not a use */
	for (int i = 0; i < QUIC_MEM_BINS; i++)
		while (p->bins[i].head)
			free(bin_pop(p, &p->bins[i]));
	p->takes = takes;
}

uint64_t quic_mem_idle(struct quic_mem_pool *p, uint64_t now)
{
	if (p->takes != p->seen || p->active_at == 0) {
		p->seen = p->takes;
		p->active_at = now;
	}
	if (p->cached == 0)
		return UINT64_MAX;
	if (now - p->active_at >= QUIC_MEM_IDLE_NS) {
		quic_mem_trim(p);
		return UINT64_MAX;
	}
	return p->active_at + QUIC_MEM_IDLE_NS;
}
