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

#define MIN_SLOTS 16u
#define MMAP_MIN  (256u * 1024u)

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
		if (cur == 0 || cur == HIDX_TOMB) {
			if (cur == HIDX_TOMB)
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
			if (x == 0 || x == HIDX_TOMB)
				continue;
			__builtin_prefetch(hidx_leaf(x));
			v[k++] = x;
		}
		for (unsigned j = 0; j < k; j++) {
			h[j] = hidx_hash(hidx_leaf(v[j])->key, key_len);
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
	uint64_t h = hidx_hash(leaf->key, key_len);
	/* user-space pointers fit in 48 bits on Linux (x86-64 and arm64) */
	REQUIRE(((uintptr_t)leaf & ~(uintptr_t)HIDX_PTR_MASK) == 0);
	place(*pt, (uintptr_t)leaf | hidx_tag(h), h, true);
}

void hidx_remove_w(struct hidx *t, const struct trie_leaf *leaf, unsigned key_len)
{
	if (t == NULL)
		return;
	uint64_t h = hidx_hash(leaf->key, key_len);
	for (size_t i = h & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
		uintptr_t cur = atomic_load_explicit(&t->slot[i], memory_order_relaxed);
		if (cur == 0)
			return;
		if (cur != HIDX_TOMB && hidx_leaf(cur) == leaf) {
			atomic_store_explicit(&t->slot[i], HIDX_TOMB, memory_order_release);
			t->live--;
			t->tombs++;
			return;
		}
	}
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
		h[i] = hidx_hash(keys[i], key_len);
		__builtin_prefetch(&t->slot[h[i] & t->mask]);
	}
	/* first slot of each: prefetch the leaf its tag points at */
	for (unsigned i = 0; i < n; i++) {
		uintptr_t v = atomic_load_explicit(&t->slot[h[i] & t->mask], memory_order_acquire);
		if (v != 0 && v != HIDX_TOMB && (v & ~(uintptr_t)HIDX_PTR_MASK) == hidx_tag(h[i]))
			__builtin_prefetch(hidx_leaf(v));
	}
	for (unsigned i = 0; i < n; i++)
		out[i] = hidx_probe(t, keys[i], key_len, h[i]);
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
