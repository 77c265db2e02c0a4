/* SPDX-License-Identifier: MIT */
/*
 * Private to ms: the configured site prefixes of one configuration snapshot,
 * one Patricia trie per (instance, family), with each site's keys
 * precomputed for HMAC. Built privately from a struct conf, published with
 * it, read without locks, freed after a grace period.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <lispms/addr.h>
#include <lispms/conf.h>
#include <lispms/db/trie.h>
#include <lispms/proto.h>

struct ms_site_id;

/* One configured site as the request core uses it. */
struct ms_site {
	const struct conf_site *conf;
	struct ms_site_id *id; /* stable across reloads (the db stores it) */
	struct auth_key *keys;
	size_t nkeys;
};

/* A configured prefix: the value of the site tries. */
struct site_pfx {
	const struct ms_site *site;
	struct eid_prefix prefix;
	struct trie_leaf leaf; /* last: the trie key follows */
};

struct site_index;

/* Resolves a site name to its stable identity (ms keeps them for its life). */
typedef struct ms_site_id *site_id_fn(void *arg, const char *name);

struct site_index *site_index_new(const struct conf *c, site_id_fn *id_fn, void *arg);
void site_index_free(struct site_index *x);

size_t site_index_count(const struct site_index *x);
const struct ms_site *site_index_site(const struct site_index *x, size_t i);

/* The most specific configured prefix covering p (an address or a prefix), or NULL. */
const struct site_pfx *site_index_lookup(const struct site_index *x, const struct eid_prefix *p);

/* True when some configured prefix lies inside p (p itself included). */
bool site_index_any_within(const struct site_index *x, const struct eid_prefix *p);
