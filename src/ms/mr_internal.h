/* SPDX-License-Identifier: MIT */
/*
 * The Map-Resolver's private contract: struct mr and its tables, shared by
 * mr.c (the state machine, the pending table, the hold-down) and
 * mr_cache.c (the referral cache, below it). Nothing outside src/ms/mr*.c
 * includes it; include/lispms/mr.h is the public side.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <urcu/list.h>

#include <lispms/db/reclaim.h>
#include <lispms/db/trie.h>
#include <lispms/mr.h>

struct mr_inst {
	uint32_t iid;
	uint16_t afi;
	size_t n; /* entries in t */
	struct trie t;
};

struct mr_centry {
	struct cds_list_head lru;
	struct mr_inst *inst;
	struct mr_cache_entry e;
	struct trie_leaf leaf; /* last: key bytes follow */
};

struct mr_pend {
	struct cds_list_head dl; /* in struct mr's deadline list while used */
	bool used;
	bool from_cache; /* started from a cached referral (start_prefix) */
	bool have_last;	 /* last: the previous referral's prefix */
	bool set_ms;	 /* the set are Map-Servers (MS-REFERRAL) */
	uint8_t nset;	 /* RLOCs in set */
	uint8_t idx;	 /* the one asked */
	uint8_t start;	 /* where this set's walk began (a responsive RLOC) */
	uint8_t round;	 /* rounds over the set so far */
	uint16_t depth;	 /* referrals followed */
	bool wired;	 /* in the by-wire index (from the first send on) */
	bool steered;	 /* followed a referral matched by the ITR's nonce: caches nothing (D25) */
	uint16_t itr_port;
	uint64_t nonce; /* the ITR's: its negative answer, the Map-Server hop */
	uint64_t wire;	/* what the DDT Map-Request in flight carries (D25) */
	uint64_t deadline_ms;
	struct eid_prefix eid;
	struct eid_prefix last;
	struct eid_prefix start_prefix;
	struct lisp_addr itr;
	struct lisp_addr set[MR_MAX_RLOCS];
	size_t len;
	uint8_t req[MR_MAX_REQUEST];
};

/* how often the referral cache is swept for expired entries */
#define MR_SWEEP_MS 1000

/* The pending table's two nonce indexes. */
enum mr_by {
	MR_BY_ITR,  /* the ITR's nonce: one request per nonce */
	MR_BY_WIRE, /* the nonce the DDT Map-Request in flight carries */
	MR_BY_MAX
};

/* random nonces drawn per getrandom() call */
#define MR_RND_POOL 64

/* An RLOC that let a DDT Map-Request time out, until when it is passed over. */
struct mr_down {
	struct lisp_addr addr;
	uint64_t until_ms;
};

struct mr {
	struct mr_config cfg;
	struct mr_inst **insts;
	unsigned ninsts;
	struct cds_list_head lru; /* most recently used first */
	size_t ncache;
	struct reclaim rc;
	struct mr_pend *pend;
	size_t npend;
	uint32_t *free_slots; /* stack of unused slot numbers */
	uint32_t nfree;
	uint32_t *ht[MR_BY_MAX]; /* nonce hashes: slot number + 1, 0 = empty cell */
	uint32_t hmask;
	uint64_t hseed;
	struct cds_list_head by_deadline; /* pending requests, earliest first */
	uint64_t clock_ms;		  /* the latest time given: deadlines never go back */
	uint64_t probes;		  /* work counter for tests (mr_test_probes) */
	uint64_t next_sweep_ms;		  /* the cache is swept at most once a second */
	struct mr_down down[MR_DOWN_MAX]; /* RLOCs held down after a timeout */
	unsigned ndown;
	uint64_t rnd[MR_RND_POOL]; /* random nonces for the tree, drawn in bulk */
	unsigned nrnd;		   /* left in rnd */
	uint64_t rnd_fallback;	   /* when getrandom() fails */
	struct rrl *rrl;	   /* negative Map-Replies per ITR (D22), at the first one */
	struct mr_sig *sig;	   /* referral signatures checked (D24, mr_sig.c); NULL: not */
	uint64_t stats[MR_ST_MAX];
};

/* mr_cache.c */
/* Remove the entry for exactly p, if any. */
void mr_cache_del(struct mr *m, const struct eid_prefix *p);
/* Remove every entry past its TTL at now_ms. */
void mr_cache_sweep(struct mr *m, uint64_t now_ms);
/* Free every entry and instance (mr_free). */
void mr_cache_free(struct mr *m);
