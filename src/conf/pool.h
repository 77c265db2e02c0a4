/* SPDX-License-Identifier: MIT */
/*
 * Growing bump allocator that owns everything one snapshot (or one parsed
 * YAML tree) points to: a chain of blocks freed at once by pool_deinit().
 * Threads: one owner. Errors: NULL on allocation failure.
 */
#pragma once

#include <stddef.h>

struct pool_block;

struct pool {
	struct pool_block *head;
	size_t total; /* bytes handed out, for limits */
};

void pool_init(struct pool *p);
void pool_deinit(struct pool *p);

/* n zeroed bytes, 16-byte aligned, or NULL. */
void *pool_alloc(struct pool *p, size_t n);

/* n elements of size sz (overflow-checked), zeroed, or NULL. */
void *pool_calloc(struct pool *p, size_t n, size_t sz);

/* A NUL-terminated copy of len bytes of s, or NULL. */
char *pool_strndup(struct pool *p, const char *s, size_t len);
