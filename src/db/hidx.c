/* SPDX-License-Identifier: MIT */
#include "hidx.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>

#include <lispms/assert.h>
#include <lispms/err.h>
#include <lispms/rcu.h>

#include "hmap.h"

#define TOMB	  ((uintptr_t)1)
#define PTR_BITS  48
#define PTR_MASK  ((UINT64_C(1) << PTR_BITS) - 1)
#define MIN_SLOTS 16u
#define MMAP_MIN  (256u * 1024u)

/*
 * Keys are 4 (IPv4), 6 (MAC) or 16 (IPv6) bytes: whole-word loads, no
 * byte loop and no libc call on the lookup path.
 */
static inline uint64_t key_hash(const uint8_t *key, unsigned len)
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

static inline bool key_eq(const uint8_t *a, const uint8_t *b, unsigned len)
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

static inline uintptr_t tag_of(uint64_t h)
{
	return (uintptr_t)(h >> PTR_BITS) << PTR_BITS;
}

static inline struct trie_leaf *leaf_of(uintptr_t v)
{
	return (struct trie_leaf *)(v & PTR_MASK);
}

/*
 * Big tables come from mmap: munmap gives the memory back at once when a
 * table is replaced (a freed malloc block would stay resident), and huge
 * pages spare the TLB on random probes.
 */
static struct hidx *table_new(size_t slots)
{
	size_t bytes = sizeof(struct hidx) + slots * sizeof(void *);
	struct hidx *t;
	if (bytes < MMAP_MIN) {
		t = calloc(1, bytes);
		if (t == NULL)
			return NULL;
		t->bytes = 0;
	} else {
		void *m =
		    mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		(void)madvise(m, bytes, MADV_HUGEPAGE);
		t = m;
		t->bytes = bytes;
	}
	t->mask = slots - 1;
	return t;
}

/* Writer-side placement into a table no reader sees yet, or via publish. */
static void place(struct hidx *t, uintptr_t v, uint64_t h, bool published)
{
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		uintptr_t cur = atomic_load_explicit(&t->slot[i], memory_order_relaxed);
		if (cur == 0 || cur == TOMB) {
			if (cur == TOMB)
				t->tombs--;
			atomic_store_explicit(&t->slot[i], v,
					      published ? memory_order_release
							: memory_order_relaxed);
			t->live++;
			return;
		}
	}
}

static void table_free_rcu(struct rcu_head *head);

int hidx_reserve_w(struct hidx **pt, unsigned key_len)
{
	struct hidx *old = *pt;
	size_t cap = old != NULL ? old->mask + 1 : 0;
	if (old != NULL && (old->live + old->tombs + 1) * 4 <= cap * 3)
		return LISPMS_EOK;
	size_t live = old != NULL ? old->live : 0;
	size_t slots = MIN_SLOTS;
	while (slots < (live + 1) * 2)
		slots <<= 1;
	struct hidx *t = table_new(slots);
	if (t == NULL) {
		/* a full table can still take this insert if a slot is free */
		return old != NULL && old->live + old->tombs < cap ? LISPMS_EOK : LISPMS_ENOMEM;
	}
	/*
	 * Rehashing reads every indexed leaf, in slot order: random memory. In
	 * groups of REHASH the leaves and then their new slots are prefetched
	 * first, so the misses overlap instead of queueing (a rebuild at 750k
	 * entries otherwise costs a cache miss per entry under the mutex).
	 */
	enum { REHASH = 32 };
	uintptr_t v[REHASH];
	uint64_t h[REHASH];
	for (size_t i = 0; old != NULL && i <= old->mask;) {
		unsigned k = 0;
		for (; i <= old->mask && k < REHASH; i++) {
			uintptr_t x = atomic_load_explicit(&old->slot[i], memory_order_relaxed);
			if (x == 0 || x == TOMB)
				continue;
			__builtin_prefetch(leaf_of(x));
			v[k++] = x;
		}
		for (unsigned j = 0; j < k; j++) {
			h[j] = key_hash(leaf_of(v[j])->key, key_len);
			__builtin_prefetch(&t->slot[h[j] & t->mask], 1);
		}
		for (unsigned j = 0; j < k; j++)
			place(t, v[j], h[j], false);
	}
	lrcu_publish(pt, t);
	if (old != NULL)
		lrcu_call(&old->rcu, table_free_rcu); /* rare and big: not in a batch */
	return LISPMS_EOK;
}

void hidx_insert_w(struct hidx **pt, struct trie_leaf *leaf, unsigned key_len)
{
	uint64_t h = key_hash(leaf->key, key_len);
	/* user-space pointers fit in 48 bits on Linux (x86-64 and arm64) */
	REQUIRE(((uintptr_t)leaf & ~(uintptr_t)PTR_MASK) == 0);
	place(*pt, (uintptr_t)leaf | tag_of(h), h, true);
}

void hidx_remove_w(struct hidx *t, const struct trie_leaf *leaf, unsigned key_len)
{
	if (t == NULL)
		return;
	uint64_t h = key_hash(leaf->key, key_len);
	for (size_t i = h & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
		uintptr_t cur = atomic_load_explicit(&t->slot[i], memory_order_relaxed);
		if (cur == 0)
			return;
		if (cur != TOMB && leaf_of(cur) == leaf) {
			atomic_store_explicit(&t->slot[i], TOMB, memory_order_release);
			t->live--;
			t->tombs++;
			return;
		}
	}
}

/* The probe of hidx_lookup, with the key's hash already computed. */
static inline struct trie_leaf *probe(const struct hidx *t, const uint8_t *key, unsigned key_len,
				      uint64_t h)
{
	uintptr_t tag = tag_of(h);
	for (size_t i = h & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
		uintptr_t v = atomic_load_explicit(&t->slot[i], memory_order_acquire);
		if (v == 0)
			return NULL;
		if (v == TOMB || (v & ~(uintptr_t)PTR_MASK) != tag)
			continue;
		struct trie_leaf *l = leaf_of(v);
		if (key_eq(l->key, key, key_len))
			return l;
	}
	return NULL;
}

struct trie_leaf *hidx_lookup(const struct hidx *t, const uint8_t *key, unsigned key_len)
{
	if (t == NULL)
		return NULL;
	return probe(t, key, key_len, key_hash(key, key_len));
}

void hidx_lookup_batch(const struct hidx *t, const uint8_t *const keys[], unsigned n,
		       unsigned key_len, struct trie_leaf *out[])
{
	uint64_t h[HIDX_BATCH];
	if (n > HIDX_BATCH)
		n = HIDX_BATCH;
	if (t == NULL) {
		for (unsigned i = 0; i < n; i++)
			out[i] = NULL;
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		h[i] = key_hash(keys[i], key_len);
		__builtin_prefetch(&t->slot[h[i] & t->mask]);
	}
	/* first slot of each: prefetch the leaf its tag points at */
	for (unsigned i = 0; i < n; i++) {
		uintptr_t v = atomic_load_explicit(&t->slot[h[i] & t->mask], memory_order_acquire);
		if (v != 0 && v != TOMB && (v & ~(uintptr_t)PTR_MASK) == tag_of(h[i]))
			__builtin_prefetch(leaf_of(v));
	}
	for (unsigned i = 0; i < n; i++)
		out[i] = probe(t, keys[i], key_len, h[i]);
}

void hidx_free(struct hidx *t)
{
	if (t == NULL)
		return;
	if (t->bytes != 0)
		munmap(t, t->bytes);
	else
		free(t);
}

static void table_free_rcu(struct rcu_head *head)
{
#ifdef LISPMS_RCU_TSAN
	LRCU_TSAN_ACQUIRE(&lrcu_tsan_gp);
#endif
	hidx_free(caa_container_of(head, struct hidx, rcu));
}
