/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include <lispms/arena.h>
#include <lispms/err.h>

#define ARENA_ALIGN 16u

int arena_init(struct arena *a, size_t size)
{
	size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	a->base = aligned_alloc(ARENA_ALIGN, size ? size : ARENA_ALIGN);
	if (a->base == NULL)
		return LISPMS_ENOMEM;
	a->size = size;
	a->used = 0;
	a->high = 0;
	return LISPMS_EOK;
}

void arena_deinit(struct arena *a)
{
	free(a->base);
	a->base = NULL;
	a->size = a->used = a->high = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (n == 0)
		need = ARENA_ALIGN;
	if (need < n || need > a->size - a->used)
		return NULL;
	void *p = a->base + a->used;
	a->used += need;
	if (a->used > a->high)
		a->high = a->used;
	return p;
}
