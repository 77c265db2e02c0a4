/* SPDX-License-Identifier: MIT */
/*
 * A small chained hash map with intrusive nodes, for writer-only tables
 * (interned locator sets and registration contents, sessions). Readers
 * never see it: they reach the objects through the trie.
 *
 * Threads: one writer (the owner's mutex). Errors: LISPMS_ENOMEM.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct hmap {
	struct hnode **b;
	size_t mask;
	size_t count;
};

int hmap_init(struct hmap *m, size_t buckets);
void hmap_deinit(struct hmap *m);

/* Insert n under hash; grows the table when it gets full (if it can). */
void hmap_insert(struct hmap *m, struct hnode *n, uint64_t hash);
void hmap_remove(struct hmap *m, struct hnode *n);

static inline struct hnode *hmap_first(const struct hmap *m, uint64_t hash)
{
	struct hnode *n = m->b[hash & m->mask];
	while (n != NULL && n->hash != hash)
		n = n->next;
	return n;
}

static inline struct hnode *hmap_next(const struct hnode *n, uint64_t hash)
{
	n = n->next;
	while (n != NULL && n->hash != hash)
		n = n->next;
	return (struct hnode *)n;
}

/* Any node, to drain the map (NULL when empty). */
struct hnode *hmap_any(const struct hmap *m);

static inline uint64_t hash_mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/*
 * The last n < 8 bytes as one word, read with whole loads only. Copying
 * them into a zeroed uint64_t on the stack (memcpy with a variable length)
 * makes the next 8-byte load span two stores: store-to-load forwarding
 * fails and the load waits for every older store to retire, so a hash of
 * a 4-byte key waited for the previous lookup's cache miss.
 */
static inline uint64_t hash_tail(const uint8_t *b, size_t n)
{
	if (n >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, b, 4);
		memcpy(&hi, b + n - 4, 4);
		return (uint64_t)hi << 32 | lo;
	}
	if (n == 0)
		return 0;
	return (uint64_t)b[0] | (uint64_t)b[n / 2] << 8 | (uint64_t)b[n - 1] << 16;
}

static inline uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, b, 8);
		h = hash_mix(h, v);
		b += 8;
		n -= 8;
	}
	return hash_mix(h, hash_tail(b, n) ^ ((uint64_t)n << 56));
}
