/* SPDX-License-Identifier: MIT */
#include "hmap.h"

#include <stdlib.h>

#include <lispms/err.h>

int hmap_init(struct hmap *m, size_t buckets)
{
	size_t n = 8;
	while (n < buckets)
		n <<= 1;
	m->b = calloc(n, sizeof(*m->b));
	if (m->b == NULL)
		return LISPMS_ENOMEM;
	m->mask = n - 1;
	m->count = 0;
	return LISPMS_EOK;
}

void hmap_deinit(struct hmap *m)
{
	free(m->b);
	m->b = NULL;
	m->count = 0;
}

static void grow(struct hmap *m)
{
	size_t n = (m->mask + 1) * 2;
	struct hnode **b = calloc(n, sizeof(*b));
	if (b == NULL)
		return; /* keep the longer chains */
	for (size_t i = 0; i <= m->mask; i++) {
		struct hnode *x = m->b[i];
		while (x != NULL) {
			struct hnode *next = x->next;
			x->next = b[x->hash & (n - 1)];
			b[x->hash & (n - 1)] = x;
			x = next;
		}
	}
	free(m->b);
	m->b = b;
	m->mask = n - 1;
}

void hmap_insert(struct hmap *m, struct hnode *n, uint64_t hash)
{
	if (m->count > m->mask)
		grow(m);
	n->hash = hash;
	n->next = m->b[hash & m->mask];
	m->b[hash & m->mask] = n;
	m->count++;
}

void hmap_remove(struct hmap *m, struct hnode *n)
{
	struct hnode **pp = &m->b[n->hash & m->mask];
	while (*pp != NULL && *pp != n)
		pp = &(*pp)->next;
	if (*pp == n) {
		*pp = n->next;
		m->count--;
	}
}

struct hnode *hmap_any(const struct hmap *m)
{
	if (m->count == 0)
		return NULL;
	for (size_t i = 0; i <= m->mask; i++)
		if (m->b[i] != NULL)
			return m->b[i];
	return NULL;
}
