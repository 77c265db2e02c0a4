/* SPDX-License-Identifier: MIT */
/*
 * The readers: longest-match and exact lookups, one by one and in
 * batches, and walks (src/db/README.md, "Lookups and inserts").
 */
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

/* ---- public: readers ---- */

struct db_entry *entry_lookup(const struct db_iid *in, int af, const struct eid_prefix *p)
{
	const struct trie *t = &in->trie[af];
	struct trie_leaf *l = p->plen == t->key_bits ? host_lookup(in, af, p->bytes)
						     : trie_lookup_exact(t, p->bytes, p->plen);
	return l != NULL ? caa_container_of(l, struct db_entry, leaf) : NULL;
}

void entry_prefix(const struct db_iid *in, const struct db_entry *e, struct eid_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->iid = in->iid;
	p->afi = af_afi[e->af];
	p->plen = e->leaf.plen;
	p->plain = in->iid == 0;
	memcpy(p->bytes, e->leaf.key, in->trie[e->af].key_len);
}

static void fill_matched(const struct eid_prefix *eid, const struct trie_leaf *l, size_t klen,
			 struct eid_prefix *out)
{
	if (out == NULL)
		return;
	memset(out, 0, sizeof(*out));
	out->iid = eid->iid;
	out->afi = eid->afi;
	out->plain = eid->plain;
	out->plen = l->plen;
	memcpy(out->bytes, l->key, klen);
}

/* db_iid_lookup's body, inlined into db_lookup: one call per lookup, not three. */
static inline __attribute__((always_inline)) const struct db_mapping *
iid_lookup(const struct db_iid *in, const struct eid_prefix *eid, struct eid_prefix *matched)
{
	int af = af_index(eid->afi);
	if (af < 0 || in == NULL)
		return NULL;
	const struct trie *t = &in->trie[af];
	struct trie_leaf *l = NULL;
	if (eid->plen == t->key_bits) /* a registered host is its own longest match */
		l = host_lookup(in, af, eid->bytes);
	if (l == NULL)
		l = trie_lookup_lpm(t, eid->bytes, eid->plen);
	if (l == NULL)
		return NULL;
	const struct db_entry *e = caa_container_of(l, struct db_entry, leaf);
	fill_matched(eid, l, t->key_len, matched);
	return lrcu_deref(e->map);
}

const struct db_mapping *db_iid_lookup(const struct db_iid *in, const struct eid_prefix *eid,
				       struct eid_prefix *matched)
{
	return iid_lookup(in, eid, matched);
}

/* Up to HIDX_BATCH lookups of one family: host index first, then the trie. */
static void lookup_group(const struct db_iid *in, int af, const uint8_t *const keys[],
			 const unsigned plens[], unsigned k, struct trie_leaf *res[])
{
	const struct trie *t = &in->trie[af];
	const uint8_t *hk[HIDX_BATCH], *tk[LISPMS_TRIE_BATCH];
	unsigned hi[HIDX_BATCH], ti[LISPMS_TRIE_BATCH], tp[LISPMS_TRIE_BATCH];
	struct trie_leaf *hr[HIDX_BATCH], *tr[LISPMS_TRIE_BATCH];
	unsigned nh = 0, nt = 0;
	for (unsigned j = 0; j < k; j++) {
		if (plens[j] == t->key_bits) {
			hk[nh] = keys[j];
			hi[nh++] = j;
		}
	}
	hidx_lookup_batch(lrcu_deref(in->hidx[af]), hk, nh, t->key_len, hr);
	for (unsigned j = 0, h = 0; j <= k; j++) {
		if (j < k) {
			res[j] = NULL;
			if (h < nh && hi[h] == j) {
				res[j] = hr[h++];
				if (res[j] != NULL)
					continue;
			}
			tk[nt] = keys[j];
			tp[nt] = plens[j];
			ti[nt++] = j;
		}
		if (nt == LISPMS_TRIE_BATCH || (j == k && nt > 0)) {
			trie_lookup_lpm_batch(t, tk, tp, nt, tr);
			for (unsigned i = 0; i < nt; i++)
				res[ti[i]] = tr[i];
			nt = 0;
		}
	}
}

void db_iid_lookup_batch(const struct db_iid *in, const struct eid_prefix *const eids[], unsigned n,
			 const struct db_mapping *out[])
{
	const uint8_t *keys[HIDX_BATCH];
	unsigned plens[HIDX_BATCH], idx[HIDX_BATCH];
	struct trie_leaf *res[HIDX_BATCH];
	for (unsigned i = 0; i < n; i++)
		out[i] = NULL;
	if (in == NULL)
		return;
	for (int af = 0; af < DB_NAF; af++) {
		unsigned k = 0;
		for (unsigned i = 0; i <= n; i++) {
			if (i < n && af_index(eids[i]->afi) == af) {
				keys[k] = eids[i]->bytes;
				plens[k] = eids[i]->plen;
				idx[k++] = i;
			}
			if (k == HIDX_BATCH || (i == n && k > 0)) {
				lookup_group(in, af, keys, plens, k, res);
				for (unsigned j = 0; j < k; j++) {
					if (res[j] == NULL)
						continue;
					const struct db_entry *e =
					    caa_container_of(res[j], struct db_entry, leaf);
					out[idx[j]] = lrcu_deref(e->map);
				}
				k = 0;
			}
		}
	}
}

const struct db_mapping *db_lookup(const struct db *db, const struct eid_prefix *eid,
				   struct eid_prefix *matched)
{
	return iid_lookup(instance_of(db, eid->iid), eid, matched);
}

const struct db_mapping *db_lookup_exact(const struct db *db, const struct eid_prefix *p)
{
	int af = af_index(p->afi);
	struct db_iid *in = af >= 0 ? db_instance(db, p->iid) : NULL;
	struct db_entry *e = in != NULL ? entry_lookup(in, af, p) : NULL;
	return e != NULL ? lrcu_deref(e->map) : NULL;
}

struct walk_ctx {
	const struct db_iid *in;
	int af;
	bool plain;
	db_walk_fn *fn;
	void *arg;
};

static int walk_leaf(struct trie_leaf *l, void *arg)
{
	struct walk_ctx *w = arg;
	const struct db_entry *e = caa_container_of(l, struct db_entry, leaf);
	struct eid_prefix p;
	entry_prefix(w->in, e, &p);
	p.plain = w->plain;
	return w->fn(&p, lrcu_deref(e->map), e, w->arg);
}

static int walk_iid(const struct db_iid *in, int only_af, const struct eid_prefix *under,
		    bool plain, db_walk_fn *fn, void *arg)
{
	struct walk_ctx w = { .in = in, .plain = plain, .fn = fn, .arg = arg };
	static const uint8_t zero[LISPMS_ADDR_MAX];
	for (int af = 0; af < DB_NAF; af++) {
		if (only_af >= 0 && af != only_af)
			continue;
		w.af = af;
		int ret = trie_walk(&in->trie[af], under ? under->bytes : zero,
				    under ? under->plen : 0, walk_leaf, &w);
		if (ret != 0)
			return ret;
	}
	return 0;
}

int db_walk(const struct db *db, enum db_scope scope, const struct eid_prefix *where,
	    db_walk_fn *fn, void *arg)
{
	if (scope == DB_SCOPE_ALL) {
		struct cds_lfht_iter it;
		struct cds_lfht_node *node;
		cds_lfht_for_each (db->iids, &it, node) {
			const struct db_iid *in = caa_container_of(node, struct db_iid, lnode);
			LRCU_TSAN_ACQUIRE(in);
			int ret = walk_iid(in, -1, NULL, in->iid == 0, fn, arg);
			if (ret != 0)
				return ret;
		}
		return 0;
	}
	if (where == NULL)
		return LISPMS_EINVAL;
	const struct db_iid *in = db_instance(db, where->iid);
	if (in == NULL)
		return 0;
	int af = af_index(where->afi);
	switch (scope) {
	case DB_SCOPE_IID:
		return walk_iid(in, -1, NULL, where->plain, fn, arg);
	case DB_SCOPE_AF:
		return af < 0 ? LISPMS_EAFI : walk_iid(in, af, NULL, where->plain, fn, arg);
	case DB_SCOPE_PREFIX:
		if (af < 0)
			return LISPMS_EAFI;
		return walk_iid(in, af, where, where->plain, fn, arg);
	case DB_SCOPE_EXACT: {
		if (af < 0)
			return LISPMS_EAFI;
		const struct db_entry *e = entry_lookup(in, af, where);
		if (e == NULL)
			return 0;
		struct walk_ctx w = {
			.in = in, .af = af, .plain = where->plain, .fn = fn, .arg = arg
		};
		return walk_leaf((struct trie_leaf *)&e->leaf, &w);
	}
	default:
		return LISPMS_EINVAL;
	}
}

int db_entry_regs(const struct db_entry *e, db_reg_fn *fn, void *arg)
{
	for (struct db_reg *r = lrcu_deref(e->regs); r != NULL; r = lrcu_deref(r->next)) {
		uint32_t x = atomic_load_explicit(&r->expires, memory_order_relaxed);
		if (x == REG_DEAD)
			continue;
		uint64_t ns = x == REG_NEVER ? UINT64_MAX : (uint64_t)x * LISPMS_NS_PER_SEC;
		int ret = fn(&r->tmpl->m, ns, arg);
		if (ret != 0)
			return ret;
	}
	return 0;
}
