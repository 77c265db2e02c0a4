/* SPDX-License-Identifier: MIT */
/*
 * The Map-Resolver's DDT machinery (RFC 8111 §7.3), I/O-agnostic like the
 * request core: a referral cache, a pending-request table and the state
 * machine that walks the Delegated Database Tree from the configured root
 * for each ECM Map-Request an ITR sends. It never touches a socket: the
 * caller feeds it requests, decoded Map-Referrals and the clock, and carries
 * out the struct mr_action each call returns (send a DDT Map-Request, send a
 * negative Map-Reply to the ITR, or nothing).
 *
 * Referral cache: per (instance ID, address family) a Patricia trie
 * (db/trie.h) from the referral's EID prefix to its action, TTL and referral
 * set; longest-prefix match; an entry past its TTL is never returned and is
 * removed when met; at most `cache_max` entries, the least recently used one
 * evicted for a new one. NODE-REFERRAL, MS-REFERRAL, DELEGATION-HOLE and
 * MS-NOT-REGISTERED answers are cached (the negative ones answer the next
 * request for their prefix at once); MS-ACK and NOT-AUTHORITATIVE are not.
 *
 * Pending table: one entry per request in resolution, at most
 * `pending_max` (a request beyond that is dropped and counted), found by
 * two nonces (docs/protocol.md D25): the ITR's (one request per nonce) and
 * the one its DDT Map-Request in flight carries, by which Map-Referrals
 * are matched. Toward DDT nodes that is a random nonce of mr's, new for
 * every send (retries too): the node asked is the only other party that
 * knows it, so whoever sent the ITR's Map-Request cannot answer in the
 * node's place (such a referral is dropped, MR_ST_DROP_ITR_NONCE). Toward
 * Map-Servers it is the ITR's own, because the Map-Server answers the ITR
 * (proxy reply or the ETR's Map-Reply) with the Map-Request's nonce; what
 * comes back under it may end or steer that request but is never cached,
 * nor is anything that request learns after such a steer.
 * Each entry holds a copy of the ITR's encapsulated Map-Request (sent on
 * with the D bit and the nonce of the action), the referral set it is
 * working through, the RLOC it last sent to and a deadline. A timeout moves to the next RLOC of the
 * set (a dead node or Map-Server costs one timeout, not the answer); each RLOC is tried `retries` +
 * 1 times in all across the set's rounds; when the set is exhausted the request gets a negative
 * Map-Reply with action Send-Map-Request and TTL MR_FAIL_TTL (the ITR asks again soon) and is
 * retired.
 * Hold-down: an RLOC that let a DDT Map-Request time out is remembered (by
 * address, at most MR_DOWN_MAX) for MR_HOLD_TIMEOUTS x timeout-ms; a walk
 * over a referral set starts at its first RLOC not held down, so a dead
 * Map-Server costs one timeout, not one per request. When the hold-down
 * ends, one request probes it (the others still go to its partners until
 * the probe's own timeout); any Map-Referral from it ends the hold-down.
 * Rate limit: the negative Map-Replies (from the cache, from a referral,
 * or a failure) to one ITR address are held to `reply_rate_limit` a second
 * (docs/protocol.md D22's limiter, rrl.h); one over it is counted
 * (MR_ST_NEG_LIMITED) and becomes MR_ACT_NONE, the request retired as if
 * answered: a forged request naming a victim ITR-RLOC must not turn the
 * resolver into an amplifier.
 * A NOT-AUTHORITATIVE answer (a stale cached referral) removes the
 * cache entry the request started from and moves to the next RLOC at once.
 *
 * Loops and depth: each NODE-REFERRAL or MS-REFERRAL must be for a prefix
 * strictly more specific than the one before it in the same resolution
 * (RFC 8111 §7.3.1: otherwise the tree loops), and a resolution follows at
 * most `max_depth` referrals; either failure answers the ITR negatively and
 * is counted.
 *
 * Threads: a struct mr belongs to one thread (the resolver's worker): every
 * function, the views included, from that thread, registered with RCU
 * (the cache's tries hand removed nodes to a struct reclaim, freed after a
 * grace period; call lrcu_barrier() after mr_free()). No other thread
 * reads the cache or the table, so neither needs a lock.
 * Ownership: mr copies what it is given (requests, referral sets).
 * Errors: LISPMS_ENOMEM, LISPMS_EINVAL, LISPMS_EAFI, LISPMS_ENOSPC (table
 * full), LISPMS_EEXIST (nonce already pending, or in flight), LISPMS_ENOENT.
 */
#pragma once

#ifndef LISPMS_USES_MS
#error "mr.h: this subsystem does not declare ms as a dependency"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lispms/addr.h>
#include <lispms/proto.h>

#define MR_MAX_RLOCS	 8 /* referral-set RLOCs kept per entry (more are ignored) */
#define MR_MAX_ROOTS	 MR_MAX_RLOCS
#define MR_MAX_REQUEST	 1500 /* bytes of an encapsulated Map-Request kept */
#define MR_FAIL_TTL	 1    /* minutes: negative answer when resolution failed */
#define MR_MAX_TTL_MIN	 1440 /* referral TTLs are capped at a day */
#define MR_HOLD_TIMEOUTS 16   /* hold-down of an RLOC that timed out, in timeout-ms */
#define MR_DOWN_MAX	 64   /* RLOCs held down at once (the one ending first gives way) */

/* mr_config.families: the RLOC families the resolver has a socket for */
#define MR_FAM_IPV4 1u
#define MR_FAM_IPV6 2u

struct mr_config {
	struct lisp_addr roots[MR_MAX_ROOTS]; /* the DDT root's RLOCs */
	unsigned nroots;
	unsigned families;	   /* MR_FAM_*: referral RLOCs of other families are
				      passed over (never sent to); 0: both */
	unsigned cache_max;	   /* referral-cache entries */
	unsigned pending_max;	   /* requests in resolution */
	unsigned timeout_ms;	   /* per DDT Map-Request */
	unsigned retries;	   /* extra rounds over a referral set */
	unsigned max_depth;	   /* referrals followed per resolution */
	unsigned reply_rate_limit; /* negative Map-Replies per second per ITR address, 0: off */
};

/* Outcomes and drops, one counter each (mirrored in metrics.def). */
enum mr_stat {
	MR_ST_REQUESTS,	     /* ECM Map-Requests accepted for resolution */
	MR_ST_CACHE_HIT,     /* a request started from a cached referral */
	MR_ST_CACHE_MISS,    /* a request started from the root */
	MR_ST_CACHE_EVICT,   /* entries evicted by the bound */
	MR_ST_CACHE_EXPIRED, /* entries removed past their TTL */
	MR_ST_SENT,	     /* DDT Map-Requests sent (first tries and retries) */
	MR_ST_TIMEOUTS,	     /* DDT Map-Requests that got no answer in time */
	MR_ST_NODE_REFERRAL, /* answers by action */
	MR_ST_MS_REFERRAL,
	MR_ST_MS_ACK,
	MR_ST_MS_NOT_REGISTERED,
	MR_ST_DELEGATION_HOLE,
	MR_ST_NOT_AUTHORITATIVE,
	MR_ST_NEGATIVE,	      /* negative Map-Replies sent to ITRs */
	MR_ST_DONE,	      /* resolutions handed to a Map-Server (MS-ACK) */
	MR_ST_GAVE_UP,	      /* every RLOC of a set exhausted */
	MR_ST_LOOP,	      /* referral not more specific than the previous one */
	MR_ST_DEPTH,	      /* more than max_depth referrals */
	MR_ST_DROP_FULL,      /* request dropped: pending table full */
	MR_ST_DROP_DUP,	      /* request dropped: its nonce is already pending */
	MR_ST_DROP_UNKNOWN,   /* referral dropped: no pending request has its nonce */
	MR_ST_DROP_SOURCE,    /* referral dropped: not from the RLOC asked */
	MR_ST_DROP_BAD,	      /* referral dropped: no record, bad action or EID */
	MR_ST_NEG_LIMITED,    /* negative Map-Reply not sent: its ITR passed reply_rate_limit */
	MR_ST_DROP_ITR_NONCE, /* referral dropped: the ITR's nonce where ours was expected (D25) */
	MR_ST_SIG_FAILED,     /* referral dropped: no signature verifies (D24, mr_sig.c) */
	MR_ST_SIG_UNSIGNED,   /* referral dropped: unsigned, and keys are configured */
	MR_ST_SIG_NO_KEY,     /* referral dropped: no key configured for the node that sent it */
	MR_ST_MAX
};

/* One cached referral. */
struct mr_cache_entry {
	struct eid_prefix prefix;
	uint8_t act;	    /* enum lisp_ref_act */
	uint8_t incomplete; /* the I bit */
	uint8_t nrlocs;
	uint32_t ttl_min;    /* as received (capped) */
	uint64_t expires_ms; /* the caller's clock */
	struct lisp_addr rlocs[MR_MAX_RLOCS];
};

enum mr_action_kind {
	MR_ACT_NONE = 0, /* nothing to send (request retired, or dropped) */
	MR_ACT_SEND,	 /* send the DDT Map-Request (ECM, D bit) to `to` */
	MR_ACT_NEGATIVE, /* send the ITR a negative Map-Reply */
};

/* What the caller does next for one request. */
struct mr_action {
	enum mr_action_kind kind;
	uint64_t nonce;		/* the request's (ITR's) nonce */
	uint64_t ddt_nonce;	/* MR_ACT_SEND: the nonce the DDT Map-Request carries in
				   its inner Map-Request (D25): ours for a DDT node, the
				   ITR's for a Map-Server */
	struct lisp_addr to;	/* MR_ACT_SEND: the DDT node or Map-Server */
	bool to_ms;		/* MR_ACT_SEND: `to` is a Map-Server (MS-REFERRAL) */
	const uint8_t *request; /* MR_ACT_SEND: the ITR's ECM as received, borrowed */
	size_t request_len;
	/* MR_ACT_NEGATIVE */
	struct eid_prefix neg_prefix; /* the EID prefix the negative answer covers */
	uint32_t neg_ttl_min;
	uint8_t neg_act;      /* enum lisp_act: LISP_ACT_NATIVE_FORWARD (hole, unregistered) or
				 LISP_ACT_SEND_MAP_REQUEST (failure) */
	struct lisp_addr itr; /* MR_ACT_NEGATIVE: the ITR (opaque to mr) */
	uint16_t itr_port;
};

struct mr;

/* A view row of the pending table (lispmsctl). */
struct mr_pending_info {
	uint64_t nonce;	    /* the ITR's */
	uint64_t ddt_nonce; /* the DDT Map-Request in flight's */
	struct eid_prefix eid;
	struct lisp_addr asked;
	unsigned depth, tries;
	uint64_t deadline_ms;
};

struct conf_map_resolver;
/* The `map-resolver:` section as an mr_config (roots past MR_MAX_ROOTS:
 * LISPMS_EINVAL): families from the listen addresses (none: both), the
 * roots of those families only (none left: LISPMS_EAFI). */
int mr_config_from_conf(const struct conf_map_resolver *c, struct mr_config *out);

int mr_new(const struct mr_config *cfg, struct mr **out);
void mr_free(struct mr *m);

/*
 * An ITR's Map-Request (its bytes, as carried in the ECM) for `eid` with
 * `nonce`, from `itr`:`itr_port`, at time now_ms. The action is a send to
 * the deepest cached referral's first RLOC (or the root), or, when the
 * cache holds a negative answer covering eid, a negative Map-Reply.
 */
int mr_request(struct mr *m, const struct eid_prefix *eid, uint64_t nonce,
	       const struct lisp_addr *itr, uint16_t itr_port, const uint8_t *req, size_t len,
	       uint64_t now_ms, struct mr_action *act);

/*
 * A Map-Referral from `from` (its first record answers the request with
 * that nonce). The returned action continues or ends the resolution.
 */
void mr_referral(struct mr *m, const struct lisp_map_referral *ref, const struct lisp_addr *from,
		 uint64_t now_ms, struct mr_action *act);

/*
 * Signed referrals (RFC 8111 §7, docs/protocol.md D24; mr_sig.c). From
 * `map-resolver.trust-anchors` and `delegation-keys`: NULL (*out) when no
 * trust anchor is configured (referrals are then not checked). After
 * mr_set_sig(m, s) (m owns s) every record of every Map-Referral must
 * carry a signature that verifies with the keys of the node it answers
 * for: the trust anchors while the walk is at the root, else the keys of
 * the longest `delegation-keys` prefix covering the referral it followed
 * there; valid now (Inception to Expiration, seconds since the epoch, from
 * mr_sig_set_now or the real clock), Record TTL no larger than the signed
 * Original Record TTL. A referral that fails is dropped and counted
 * (MR_ST_SIG_*), like one from the wrong source: the request waits for its
 * timeout and asks the set's next RLOC.
 */
struct mr_sig;
int mr_sig_from_conf(const struct conf_map_resolver *c, struct mr_sig **out);
void mr_sig_free(struct mr_sig *s);
void mr_sig_set_now(struct mr_sig *s, uint64_t now_s); /* tests: a fixed clock; 0: real */
/* MR_ST_MAX when every record verifies via the referral for `via` (NULL: the root). */
enum mr_stat mr_sig_check(struct mr_sig *s, const struct lisp_map_referral *ref,
			  const struct eid_prefix *via);
/* Signatures accepted without RSA: the same bytes verified before with the same keys. */
uint64_t mr_sig_cache_hits(const struct mr_sig *s);
void mr_set_sig(struct mr *m, struct mr_sig *s);

/*
 * Expire what is due at now_ms: up to `cap` actions (resends or negative
 * answers for timed-out requests; MR_ACT_NONE for a negative answer the
 * rate limit suppressed) into acts; returns how many. Call again
 * while it returns cap. Also sweeps expired cache entries.
 */
unsigned mr_tick(struct mr *m, uint64_t now_ms, struct mr_action *acts, unsigned cap);

/* The earliest pending deadline, UINT64_MAX when nothing is pending. */
uint64_t mr_next_deadline(const struct mr *m);

/* For tests: the steps the pending table's lookups and expiry have taken
 * (hash probes past the home cell, chain moves, expired requests). */
uint64_t mr_test_probes(const struct mr *m);

/* Longest-prefix match in the cache at now_ms (a copy), or LISPMS_ENOENT. */
int mr_cache_lookup(struct mr *m, const struct eid_prefix *eid, uint64_t now_ms,
		    struct mr_cache_entry *out);
/* Add or replace the entry for e->prefix (expires_ms computed from ttl_min). */
int mr_cache_put(struct mr *m, const struct mr_cache_entry *e, uint64_t now_ms);
size_t mr_cache_count(const struct mr *m);
size_t mr_pending_count(const struct mr *m);

/*
 * Views: fn for each cache entry (most recently used first) / pending request
 * (earliest deadline first), until fn returns false: a view that shows N rows
 * walks N entries, not the whole table, while the owner waits.
 */
void mr_cache_foreach(struct mr *m, bool (*fn)(const struct mr_cache_entry *e, void *arg),
		      void *arg);
void mr_pending_foreach(struct mr *m, bool (*fn)(const struct mr_pending_info *p, void *arg),
			void *arg);

uint64_t mr_stat(const struct mr *m, enum mr_stat s);
const char *mr_stat_name(enum mr_stat s);
