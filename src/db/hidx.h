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
#include <stddef.h>
#include <stdint.h>

#include <lispms/db/trie.h>
#include <lispms/rcu.h>

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

/* The leaf with exactly this full-length key, or NULL. Reader. */
struct trie_leaf *hidx_lookup(const struct hidx *t, const uint8_t *key, unsigned key_len);

#define HIDX_BATCH 64

/* n (<= HIDX_BATCH) lookups with their misses overlapped. Reader. */
void hidx_lookup_batch(const struct hidx *t, const uint8_t *const keys[], unsigned n,
		       unsigned key_len, struct trie_leaf *out[]);

/* Free a table no reader can see any more. */
void hidx_free(struct hidx *t);
