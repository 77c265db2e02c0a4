/* SPDX-License-Identifier: MIT */
/*
 * Private to ms: the DDT node's delegation table (RFC 8111) of one
 * configuration snapshot: the `ddt:` delegations and authoritative prefixes,
 * each in one Patricia trie per (instance, family) (include/lispms/db/trie.h).
 * Built from a struct conf with the ms_state, published with it, read
 * without locks, freed after a grace period: a reload swaps it whole.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lispms/addr.h>
#include <lispms/conf.h>
#include <lispms/proto.h>

struct ddt_index;

/* NULL when the configuration has no `ddt:` section (or on ENOMEM: *err set). */
struct ddt_index *ddt_index_new(const struct conf *c, int *err);
void ddt_index_free(struct ddt_index *x);

/* A DDT node's answer for one requested EID. */
struct ddt_answer {
	uint8_t act;				 /* enum lisp_ref_act */
	bool authoritative;			 /* the record's A bit */
	struct eid_prefix prefix;		 /* the record's EID prefix */
	uint32_t ttl;				 /* minutes */
	const struct conf_ddt_delegation *deleg; /* NODE/MS-REFERRAL: the referral set */
};

/*
 * The most specific delegation covering eid: NODE-REFERRAL or MS-REFERRAL
 * with its prefix; else, inside an authoritative prefix: DELEGATION-HOLE
 * for the least specific prefix around eid (no shorter than the
 * authoritative prefix) that overlaps no delegation (RFC 8111 §7.3.1);
 * else NOT-AUTHORITATIVE, TTL 0, for the requested EID. x may be NULL
 * (no table: NOT-AUTHORITATIVE).
 */
void ddt_decide(const struct ddt_index *x, const struct eid_prefix *eid, struct ddt_answer *out);

/*
 * Signing (ddt.signing-key, docs/protocol.md D24): the key every
 * Map-Referral is signed with, NULL when there is none (or no table).
 * ddt_sig_header() fills the one signature section of a record of TTL
 * `ttl` minutes signed at now_s (seconds since the epoch): Original Record
 * TTL = ttl, Inception now_s - DDT_SIG_SKEW_S, Expiration now_s +
 * signature-validity, the key's tag and Sig Length, and Signature octets
 * of zero for map_referral_sign_single() to overwrite.
 */
#define DDT_SIG_SKEW_S 300
const struct referral_key *ddt_sign_key(const struct ddt_index *x);
void ddt_sig_header(const struct ddt_index *x, uint32_t ttl, uint64_t now_s,
		    struct lisp_ref_sig *s);

/*
 * A worker's cache of signatures (D24: one RSA signature costs about
 * 250 us, and a node sends the same records again and again: the same
 * delegation, the same MS-ACK). Direct-mapped by a hash of the record;
 * an entry serves the same record under the same index's key while more
 * than half of its validity is left, its times and Signature copied into
 * the new message. One per thread, never shared.
 */
struct ddt_sigcache;
void ddt_sigcache_free(struct ddt_sigcache *c);
/*
 * Sign the encoded one-record referral buf (built with ddt_sig_header at
 * now_s) with x's key, through *c (allocated at first use; NULL after an
 * allocation failure only costs the cache). *made: an RSA signature was
 * computed. LISPMS_EOK, or LISPMS_EINVAL (not signable: an internal error).
 */
int ddt_sign(const struct ddt_index *x, struct ddt_sigcache **c, uint8_t *buf, size_t len,
	     uint64_t now_s, bool *made);

/* The table as configured, for views: delegations in file order. */
const struct conf_ddt *ddt_index_conf(const struct ddt_index *x);
