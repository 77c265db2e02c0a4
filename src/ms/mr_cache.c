/* SPDX-License-Identifier: MIT */
/*
 * The Map-Resolver's referral cache (include/lispms/mr.h): one trie per
 * (instance, family) plus an LRU list over every entry: a lookup that hits
 * moves its entry to the front, the bound evicts from the back.
 */
#include <stdlib.h>
#include <string.h>

#include <urcu/compiler.h>

#include <lispms/err.h>

#include "mr_internal.h"

static void free_leaf(struct trie_leaf *leaf, void *arg)
{
	(void)arg;
	free(caa_container_of(leaf, struct mr_centry, leaf));
}

void mr_cache_free(struct mr *m)
{
	for (unsigned i = 0; i < m->ninsts; i++) {
		trie_deinit(&m->insts[i]->t, free_leaf, NULL);
		free(m->insts[i]);
	}
	free(m->insts);
}

static struct mr_inst *inst_find(struct mr *m, uint32_t iid, uint16_t afi, bool create)
{
	struct mr_inst *empty = NULL;
	for (unsigned i = 0; i < m->ninsts; i++) {
		struct mr_inst *in = m->insts[i];
		if (in->iid == iid && in->afi == afi)
			return in;
		if (in->n == 0 && empty == NULL)
			empty = in;
	}
	if (!create)
		return NULL;
	unsigned bits = lisp_afi_bits(afi);
	if (bits == 0)
		return NULL;
	if (empty != NULL) {
		/* Reuse an emptied instance: the instances stay bounded by the entries. */
		trie_deinit(&empty->t, NULL, NULL);
	} else {
		struct mr_inst **n = realloc(m->insts, (m->ninsts + 1) * sizeof(*n));
		if (n == NULL)
			return NULL;
		m->insts = n;
		empty = calloc(1, sizeof(*empty));
		if (empty == NULL)
			return NULL;
		m->insts[m->ninsts++] = empty;
	}
	empty->iid = iid;
	empty->afi = afi;
	empty->n = 0;
	if (trie_init(&empty->t, bits) != LISPMS_EOK) {
		/* cannot happen for an EID family; leave an unusable inst unlinked */
		empty->afi = 0;
		return NULL;
	}
	return empty;
}

static void centry_free(void *obj)
{
	free(obj);
}

/* Unlink and free c (2 reclaim slots reserved by the caller). */
static void cache_remove(struct mr *m, struct mr_centry *c)
{
	struct trie_leaf *out = NULL;
	if (trie_remove_w(&c->inst->t, c->leaf.key, c->leaf.plen, &m->rc, &out) == LISPMS_EOK) {
		c->inst->n--;
		m->ncache--;
		cds_list_del(&c->lru);
		reclaim_push_w(&m->rc, centry_free, c);
	}
}

int mr_cache_lookup(struct mr *m, const struct eid_prefix *eid, uint64_t now_ms,
		    struct mr_cache_entry *out)
{
	struct mr_inst *in = inst_find(m, eid->iid, eid->afi, false);
	if (in == NULL)
		return LISPMS_ENOENT;
	for (;;) {
		struct trie_leaf *l = trie_lookup_lpm(&in->t, eid->bytes, eid->plen);
		if (l == NULL)
			return LISPMS_ENOENT;
		struct mr_centry *c = caa_container_of(l, struct mr_centry, leaf);
		if (c->e.expires_ms > now_ms) {
			cds_list_del(&c->lru);
			cds_list_add(&c->lru, &m->lru);
			*out = c->e;
			return LISPMS_EOK;
		}
		if (reclaim_reserve_w(&m->rc, 2) != LISPMS_EOK)
			return LISPMS_ENOMEM;
		cache_remove(m, c);
		m->stats[MR_ST_CACHE_EXPIRED]++;
	}
}

void mr_cache_del(struct mr *m, const struct eid_prefix *p)
{
	struct mr_inst *in = inst_find(m, p->iid, p->afi, false);
	if (in == NULL)
		return;
	struct trie_leaf *l = trie_lookup_exact(&in->t, p->bytes, p->plen);
	if (l != NULL && reclaim_reserve_w(&m->rc, 2) == LISPMS_EOK)
		cache_remove(m, caa_container_of(l, struct mr_centry, leaf));
}

int mr_cache_put(struct mr *m, const struct mr_cache_entry *e, uint64_t now_ms)
{
	unsigned bits = lisp_afi_bits(e->prefix.afi);
	if (bits == 0)
		return LISPMS_EAFI;
	if (e->prefix.plen > bits || e->nrlocs > MR_MAX_RLOCS)
		return LISPMS_EINVAL;
	if (reclaim_reserve_w(&m->rc, 4) != LISPMS_EOK)
		return LISPMS_ENOMEM;
	struct mr_inst *in = inst_find(m, e->prefix.iid, e->prefix.afi, false);
	struct trie_leaf *old =
	    in == NULL ? NULL : trie_lookup_exact(&in->t, e->prefix.bytes, e->prefix.plen);
	if (old != NULL) {
		/* Same prefix: the entry is only ours, update it in place. */
		struct mr_centry *c = caa_container_of(old, struct mr_centry, leaf);
		c->e = *e;
		c->e.ttl_min = e->ttl_min > MR_MAX_TTL_MIN ? MR_MAX_TTL_MIN : e->ttl_min;
		c->e.expires_ms = now_ms + (uint64_t)c->e.ttl_min * 60000u;
		cds_list_del(&c->lru);
		cds_list_add(&c->lru, &m->lru);
		return LISPMS_EOK;
	}
	if (m->ncache >= m->cfg.cache_max) {
		struct mr_centry *victim = cds_list_entry(m->lru.prev, struct mr_centry, lru);
		cache_remove(m, victim);
		m->stats[MR_ST_CACHE_EVICT]++;
	}
	in = inst_find(m, e->prefix.iid, e->prefix.afi, true);
	if (in == NULL)
		return LISPMS_ENOMEM;
	size_t klen = trie_key_len(&in->t);
	struct mr_centry *c = calloc(1, sizeof(*c) + klen);
	if (c == NULL)
		return LISPMS_ENOMEM;
	c->inst = in;
	c->e = *e;
	eid_prefix_normalize(&c->e.prefix);
	c->e.ttl_min = e->ttl_min > MR_MAX_TTL_MIN ? MR_MAX_TTL_MIN : e->ttl_min;
	c->e.expires_ms = now_ms + (uint64_t)c->e.ttl_min * 60000u;
	c->leaf.plen = c->e.prefix.plen;
	memcpy(c->leaf.key, c->e.prefix.bytes, klen);
	int rc = trie_insert_w(&in->t, &c->leaf);
	if (rc != LISPMS_EOK) {
		free(c);
		return rc;
	}
	in->n++;
	m->ncache++;
	cds_list_add(&c->lru, &m->lru);
	return LISPMS_EOK;
}

size_t mr_cache_count(const struct mr *m)
{
	return m->ncache;
}

void mr_cache_foreach(struct mr *m, bool (*fn)(const struct mr_cache_entry *e, void *arg),
		      void *arg)
{
	struct mr_centry *c;
	cds_list_for_each_entry (c, &m->lru, lru)
		if (!fn(&c->e, arg))
			return;
}

void mr_cache_sweep(struct mr *m, uint64_t now_ms)
{
	struct mr_centry *c, *tmp;
	cds_list_for_each_entry_safe (c, tmp, &m->lru, lru) {
		if (c->e.expires_ms > now_ms)
			continue;
		if (reclaim_reserve_w(&m->rc, 2) != LISPMS_EOK)
			return;
		cache_remove(m, c);
		m->stats[MR_ST_CACHE_EXPIRED]++;
	}
	reclaim_flush_w(&m->rc);
}
