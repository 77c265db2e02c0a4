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

/* The table as configured, for views: delegations in file order. */
const struct conf_ddt *ddt_index_conf(const struct ddt_index *x);
