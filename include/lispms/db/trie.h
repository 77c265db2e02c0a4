/* SPDX-License-Identifier: MIT */
/*
 * Path-compressed binary (Patricia) trie from prefixes of up to 128 bits to
 * caller objects, read without locks under RCU. The EID database keeps one
 * per (instance, address family); the Map-Server can keep another for its
 * configured site prefixes.
 *
 * Values embed a struct trie_leaf (prefix length and key bytes, bits past
 * the length zero) as their last member and are found again with
 * container_of. Interior nodes hold only the bit they test, two tagged child
 * pointers (a child is a node or a leaf) and the leaf whose prefix ends at
 * that node: 32 bytes whatever the key length. There are at most n-1 of them
 * for n leaves.
 *
 * Writers publish every change with one pointer store (node-level RCU
 * replacement) and hand unlinked nodes to a struct reclaim; readers see the
 * trie before or after each change, never a torn one.
 *
 * Threads: lookups and walks from any thread inside lrcu_read_lock(); the
 * `_w` functions from the one writer that holds the trie's writer lock
 * (the caller's mutex).
 * Ownership: the trie never frees leaves; removed leaves go back to the
 * caller, who reclaims them after a grace period.
 * Errors: LISPMS_EEXIST (insert of a prefix already there), LISPMS_ENOENT,
 * LISPMS_ENOMEM, LISPMS_EINVAL (prefix longer than the key).
 */
#pragma once

#ifndef LISPMS_USES_DB
#error "trie.h: this subsystem does not declare db as a dependency"
#endif

#include <stddef.h>
#include <stdint.h>

#include <lispms/db/reclaim.h>

#define LISPMS_TRIE_MAX_BITS 128

/*
 * Embedded by every value, as its last member; key has trie_key_len() bytes.
 * Aligned to 2 because the trie tags node pointers in bit 0.
 */
struct trie_leaf {
	uint8_t plen;
	uint8_t key[];
} __attribute__((aligned(2)));

struct trie_jump;

struct trie {
	void *root;		/* RCU: tagged node or leaf pointer, NULL when empty */
	struct trie_jump *jump; /* RCU: where inserts start (trie.c), NULL while small */
	uint16_t key_bits;
	uint16_t key_len;
	size_t leaves;
	size_t nodes;
};

/* key_bits: 32 (IPv4), 128 (IPv6), 48 (MAC), any multiple of 8 up to 128. */
int trie_init(struct trie *t, unsigned key_bits);

/* Free every node now (no reader may remain); fn(leaf, arg) for each leaf. */
void trie_deinit(struct trie *t, void (*fn)(struct trie_leaf *leaf, void *arg), void *arg);

/* Bytes of key storage a leaf needs after its plen. */
static inline size_t trie_key_len(const struct trie *t)
{
	return t->key_len;
}

/* Leaf with exactly this prefix, or NULL. Reader. */
struct trie_leaf *trie_lookup_exact(const struct trie *t, const uint8_t *key, unsigned plen);

/*
 * Longest prefix covering (key, plen): the leaf with the greatest length
 * <= plen whose bits match key. plen = key_bits for an address. Reader.
 */
struct trie_leaf *trie_lookup_lpm(const struct trie *t, const uint8_t *key, unsigned plen);

#define LISPMS_TRIE_BATCH 16

/*
 * n (<= LISPMS_TRIE_BATCH) longest-prefix matches at once: the walks are
 * interleaved level by level with prefetches, so their cache misses
 * overlap instead of queueing (the per-batch form of trie_lookup_lpm).
 * out[i] is the match for (keys[i], plens[i]) or NULL. Reader.
 */
void trie_lookup_lpm_batch(const struct trie *t, const uint8_t *const keys[],
			   const unsigned plens[], unsigned n, struct trie_leaf *out[]);

/*
 * Walk the paths of n (<= LISPMS_TRIE_BATCH) keys interleaved, from where
 * an insert of (keys[i], plens[i]) would start (the jump table's node, else
 * the root) as far as it would go, prefetching each next node: a writer
 * about to insert them finds their paths in cache. Finds nothing, so it
 * costs less than trie_lookup_lpm_batch. Reader.
 */
void trie_touch_batch(const struct trie *t, const uint8_t *const keys[], const unsigned plens[],
		      unsigned n);

/* Called for each leaf of a walk; a non-zero return stops the walk. */
typedef int trie_walk_fn(struct trie_leaf *leaf, void *arg);

/*
 * Every leaf covered by (key, plen), itself included, in order (shorter
 * prefixes before the longer ones they cover, 0 bits before 1 bits).
 * plen 0 walks the whole trie. Returns 0 or what fn returned. Reader.
 */
int trie_walk(const struct trie *t, const uint8_t *key, unsigned plen, trie_walk_fn *fn, void *arg);

/*
 * Insert leaf (its plen and key set, bits past plen zero). Writer. In a
 * large trie the walk usually starts a few levels above the leaves, at a
 * node the writer's jump table keeps for the key's bucket, not at the root.
 */
int trie_insert_w(struct trie *t, struct trie_leaf *leaf);

/*
 * About to insert (key, plen), before taking the writer lock: start
 * fetching the node where trie_insert_w() will begin, so that its miss
 * overlaps the caller's other work. Reader (inside lrcu_read_lock()).
 */
void trie_insert_prefetch(const struct trie *t, const uint8_t *key, unsigned plen);

/*
 * Check the structure and the jump table (every entry names a node of the
 * trie in the entry's bucket); LISPMS_EOK or LISPMS_EINTERNAL. For tests.
 * Writer.
 */
int trie_check_w(const struct trie *t);

/*
 * Unlink the leaf with this prefix and return it in *out; nodes made useless
 * go to rc (needs 1 reserved slot). Writer.
 */
int trie_remove_w(struct trie *t, const uint8_t *key, unsigned plen, struct reclaim *rc,
		  struct trie_leaf **out);
