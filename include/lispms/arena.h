/* SPDX-License-Identifier: MIT */
/*
 * Per-thread bump allocator for per-packet memory: one block allocated at
 * start, handed out in 16-byte aligned pieces and reset after every packet or
 * batch. Nothing is freed piecemeal; nothing on the packet path calls malloc.
 *
 * Threads: an arena belongs to one thread (thread_arena()).
 * Errors: arena_alloc() returns NULL when the block is used up.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct arena {
	uint8_t *base;
	size_t size;
	size_t used;
	size_t high; /* high-water mark since init, for sizing */
};

#define LISPMS_ARENA_DEFAULT_SIZE (256u * 1024u)

/* Allocate the block. Returns LISPMS_EOK or LISPMS_ENOMEM. */
int arena_init(struct arena *a, size_t size);
void arena_deinit(struct arena *a);

/* n bytes, 16-byte aligned, or NULL when the arena is full. */
void *arena_alloc(struct arena *a, size_t n);

static inline void arena_reset(struct arena *a)
{
	a->used = 0;
}

/* Remember a position and roll back to it (nested scratch use). */
static inline size_t arena_mark(const struct arena *a)
{
	return a->used;
}

static inline void arena_rewind(struct arena *a, size_t mark)
{
	if (mark <= a->used)
		a->used = mark;
}
