/* SPDX-License-Identifier: MIT */
/*
 * Host-route index: an RCU open-addressing hash table from full-length keys
 * (IPv4 /32, IPv6 /128, MAC /48) to the trie leaves holding them. A host
 * entry is always the longest match for its address, so a lookup that hits
 * here skips the trie walk: two cache misses (slot, leaf) instead of one
 * per trie level (~20 for a million EIDs).
 *
 * Slots hold the leaf pointer with 16 bits of the key's hash in the unused
 * top bits, so a probe rarely touches a leaf that is not the one sought.
 * Removal leaves a tombstone; the table is rebuilt (and published whole)
 * when live entries plus tombstones pass 3/4 of it, to half full.
 *
 * Slots are C11 release stores and acquire loads rather than lrcu_publish()
 * and lrcu_deref(): the same instructions on x86, but the TSan hooks of the
 * wrappers annotate the stored value as an address, which a tagged pointer
 * or a tombstone is not. The table pointer itself goes through the wrappers.
 *
 * Threads: hidx_lookup* from readers under RCU; _w functions under the
 * owner's writer mutex. Errors: LISPMS_ENOMEM (hidx_reserve_w only).
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lispms/db/trie.h>
#include <lispms/rcu.h>

#include "hmap.h"

struct hidx {
	struct rcu_head rcu;
	size_t mask;
	size_t bytes;		  /* mmap length, 0 when from malloc */
	size_t live, tombs;	  /* writer */
	_Atomic uintptr_t slot[]; /* tagged leaf pointers, release/acquire */
};

/* Make sure one insert cannot fail (rebuilds now if needed; the old table is freed after a grace
 * period). */
int hidx_reserve_w(struct hidx **pt, unsigned key_len);

/* Add leaf (full-length key); needs a prior hidx_reserve_w. */
void hidx_insert_w(struct hidx **pt, struct trie_leaf *leaf, unsigned key_len);

/* Drop leaf if it is indexed. */
void hidx_remove_w(struct hidx *t, const struct trie_leaf *leaf, unsigned key_len);

#define HIDX_TOMB     ((uintptr_t)1)
#define HIDX_PTR_BITS 48
#define HIDX_PTR_MASK ((UINT64_C(1) << HIDX_PTR_BITS) - 1)

/*
 * Keys are 4 (IPv4), 6 (MAC) or 16 (IPv6) bytes: whole-word loads, no
 * byte loop and no libc call. Inline, so that a caller passing a constant
 * length gets a lookup of a few dozen instructions.
 */
static inline uint64_t hidx_hash(const uint8_t *key, unsigned len)
{
	uint64_t h = 0x6a09e667f3bcc908ull;
	if (len == 4) {
		uint32_t w;
		memcpy(&w, key, 4);
		h = hash_mix(h, w);
	} else if (len == 16) {
		uint64_t a, b;
		memcpy(&a, key, 8);
		memcpy(&b, key + 8, 8);
		h = hash_mix(hash_mix(h, a), b);
	} else {
		h = hash_bytes(h, key, len);
	}
	/* a full 64-bit finalizer: slots come from the low bits, tags from the top */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static inline bool hidx_key_eq(const uint8_t *a, const uint8_t *b, unsigned len)
{
	if (len == 4) {
		uint32_t x, y;
		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
		return x == y;
	}
	if (len == 16) {
		uint64_t x[2], y[2];
		memcpy(x, a, 16);
		memcpy(y, b, 16);
		return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
	}
	return memcmp(a, b, len) == 0;
}

static inline uintptr_t hidx_tag(uint64_t h)
{
	return (uintptr_t)(h >> HIDX_PTR_BITS) << HIDX_PTR_BITS;
}

static inline struct trie_leaf *hidx_leaf(uintptr_t v)
{
	return (struct trie_leaf *)(v & HIDX_PTR_MASK);
}

/* hidx_lookup with the key's hash (hidx_hash) already computed. */
static inline struct trie_leaf *hidx_probe(const struct hidx *t, const uint8_t *key,
					   unsigned key_len, uint64_t h)
{
	uintptr_t tag = hidx_tag(h);
	for (size_t i = h & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
		uintptr_t v = atomic_load_explicit(&t->slot[i], memory_order_acquire);
		if (v == 0)
			return NULL;
		if (v == HIDX_TOMB || (v & ~(uintptr_t)HIDX_PTR_MASK) != tag)
			continue;
		struct trie_leaf *l = hidx_leaf(v);
		if (hidx_key_eq(l->key, key, key_len))
			return l;
	}
	return NULL;
}

/* The leaf with exactly this full-length key, or NULL. Reader. */
static inline struct trie_leaf *hidx_lookup(const struct hidx *t, const uint8_t *key,
					    unsigned key_len)
{
	return t != NULL ? hidx_probe(t, key, key_len, hidx_hash(key, key_len)) : NULL;
}

#define HIDX_BATCH 64

/* n (<= HIDX_BATCH) lookups with their misses overlapped. Reader. */
void hidx_lookup_batch(const struct hidx *t, const uint8_t *const keys[], unsigned n,
		       unsigned key_len, struct trie_leaf *out[]);

/* Free a table no reader can see any more. */
void hidx_free(struct hidx *t);
