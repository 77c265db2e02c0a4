/* SPDX-License-Identifier: MIT */
#include "pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define POOL_BLOCK_SIZE (16u * 1024u)

struct pool_block {
	struct pool_block *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

void pool_init(struct pool *p)
{
	p->head = NULL;
	p->total = 0;
}

void pool_deinit(struct pool *p)
{
	struct pool_block *b = p->head;
	while (b != NULL) {
		struct pool_block *next = b->next;
		free(b);
		b = next;
	}
	p->head = NULL;
	p->total = 0;
}

void *pool_alloc(struct pool *p, size_t n)
{
	if (n > SIZE_MAX / 2)
		return NULL;
	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	struct pool_block *b = p->head;
	if (b == NULL || b->size - b->used < n) {
		/* big requests get a block of their own behind the current one */
		size_t size = n > POOL_BLOCK_SIZE / 4 ? n : POOL_BLOCK_SIZE;
		struct pool_block *nb = calloc(1, sizeof(*nb) + size);
		if (nb == NULL)
			return NULL;
		nb->size = size;
		if (b != NULL && size != POOL_BLOCK_SIZE) {
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			p->head = nb;
		}
		b = nb;
	}
	void *ret = b->data + b->used;
	b->used += n;
	p->total += n;
	return ret;
}

void *pool_calloc(struct pool *p, size_t n, size_t sz)
{
	if (sz != 0 && n > SIZE_MAX / 4 / sz)
		return NULL;
	return pool_alloc(p, n * sz);
}

char *pool_strndup(struct pool *p, const char *s, size_t len)
{
	if (len == SIZE_MAX)
		return NULL;
	char *d = pool_alloc(p, len + 1);
	if (d == NULL)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}
