/* SPDX-License-Identifier: MIT */
/*
 * The Map-Resolver's referral cache, pending-request table and RFC 8111
 * §7.3 state machine (include/lispms/mr.h says what each does).
 *
 * The cache is one trie per (instance, family) plus an LRU list over every
 * entry: a lookup that hits moves its entry to the front, the bound evicts
 * from the back. The pending table is a fixed array of pending_max slots
 * scanned by nonce and by deadline: the scans cost pending_max per referral
 * and per tick, which the bound keeps small (a hash by nonce is the next
 * step if pending_max grows past a few thousand).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/compiler.h>
#include <urcu/list.h>

#include <lispms/conf.h>
#include <lispms/db/reclaim.h>
#include <lispms/db/trie.h>
#include <lispms/err.h>
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
	bool used;
	bool from_cache; /* started from a cached referral (start_prefix) */
	bool have_last;	 /* last: the previous referral's prefix */
	bool set_ms;	 /* the set are Map-Servers (MS-REFERRAL) */
	uint8_t nset;	 /* RLOCs in set */
	uint8_t idx;	 /* the one asked */
	uint8_t round;	 /* rounds over the set so far */
	uint16_t depth;	 /* referrals followed */
	uint16_t itr_port;
	uint64_t nonce;
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

struct mr {
	struct mr_config cfg;
	struct mr_inst **insts;
	unsigned ninsts;
	struct cds_list_head lru; /* most recently used first */
	size_t ncache;
	struct reclaim rc;
	struct mr_pend *pend;
	size_t npend;
	uint64_t next_sweep_ms; /* the cache is swept at most once a second */
	uint64_t stats[MR_ST_MAX];
};

static const char *const stat_names[MR_ST_MAX] = {
	[MR_ST_REQUESTS] = "requests",
	[MR_ST_CACHE_HIT] = "cache_hit",
	[MR_ST_CACHE_MISS] = "cache_miss",
	[MR_ST_CACHE_EVICT] = "cache_evict",
	[MR_ST_CACHE_EXPIRED] = "cache_expired",
	[MR_ST_SENT] = "sent",
	[MR_ST_TIMEOUTS] = "timeouts",
	[MR_ST_NODE_REFERRAL] = "node_referral",
	[MR_ST_MS_REFERRAL] = "ms_referral",
	[MR_ST_MS_ACK] = "ms_ack",
	[MR_ST_MS_NOT_REGISTERED] = "ms_not_registered",
	[MR_ST_DELEGATION_HOLE] = "delegation_hole",
	[MR_ST_NOT_AUTHORITATIVE] = "not_authoritative",
	[MR_ST_NEGATIVE] = "negative",
	[MR_ST_DONE] = "done",
	[MR_ST_GAVE_UP] = "gave_up",
	[MR_ST_LOOP] = "loop",
	[MR_ST_DEPTH] = "depth",
	[MR_ST_DROP_FULL] = "drop_full",
	[MR_ST_DROP_DUP] = "drop_dup",
	[MR_ST_DROP_UNKNOWN] = "drop_unknown",
	[MR_ST_DROP_SOURCE] = "drop_source",
	[MR_ST_DROP_BAD] = "drop_bad",
};

const char *mr_stat_name(enum mr_stat s)
{
	return (unsigned)s < MR_ST_MAX ? stat_names[s] : "?";
}

uint64_t mr_stat(const struct mr *m, enum mr_stat s)
{
	return (unsigned)s < MR_ST_MAX ? m->stats[s] : 0;
}

int mr_config_from_conf(const struct conf_map_resolver *c, struct mr_config *out)
{
	if (c->nroots == 0 || c->nroots > MR_MAX_ROOTS)
		return LISPMS_EINVAL;
	*out = (struct mr_config){
		.nroots = (unsigned)c->nroots,
		.cache_max = c->cache_max,
		.pending_max = c->pending_max,
		.timeout_ms = c->timeout_ms,
		.retries = c->retries,
		.max_depth = c->max_depth,
	};
	memcpy(out->roots, c->roots, c->nroots * sizeof(c->roots[0]));
	return LISPMS_EOK;
}

int mr_new(const struct mr_config *cfg, struct mr **out)
{
	if (cfg->nroots == 0 || cfg->nroots > MR_MAX_ROOTS || cfg->cache_max == 0 ||
	    cfg->pending_max == 0 || cfg->timeout_ms == 0 || cfg->max_depth == 0)
		return LISPMS_EINVAL;
	struct mr *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return LISPMS_ENOMEM;
	m->cfg = *cfg;
	CDS_INIT_LIST_HEAD(&m->lru);
	reclaim_init(&m->rc);
	m->pend = calloc(cfg->pending_max, sizeof(*m->pend));
	if (m->pend == NULL) {
		free(m);
		return LISPMS_ENOMEM;
	}
	*out = m;
	return LISPMS_EOK;
}

static void free_leaf(struct trie_leaf *leaf, void *arg)
{
	(void)arg;
	free(caa_container_of(leaf, struct mr_centry, leaf));
}

void mr_free(struct mr *m)
{
	if (m == NULL)
		return;
	for (unsigned i = 0; i < m->ninsts; i++) {
		trie_deinit(&m->insts[i]->t, free_leaf, NULL);
		free(m->insts[i]);
	}
	free(m->insts);
	reclaim_deinit(&m->rc);
	free(m->pend);
	free(m);
}

/* ------------------------------------------------------------ cache */

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

static void cache_del_prefix(struct mr *m, const struct eid_prefix *p)
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

void mr_cache_foreach(struct mr *m, void (*fn)(const struct mr_cache_entry *e, void *arg),
		      void *arg)
{
	struct mr_centry *c;
	cds_list_for_each_entry (c, &m->lru, lru)
		fn(&c->e, arg);
}

static void cache_sweep(struct mr *m, uint64_t now_ms)
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

/* ------------------------------------------------------------ pending */

size_t mr_pending_count(const struct mr *m)
{
	return m->npend;
}

uint64_t mr_next_deadline(const struct mr *m)
{
	uint64_t d = UINT64_MAX;
	for (unsigned i = 0; i < m->cfg.pending_max; i++)
		if (m->pend[i].used && m->pend[i].deadline_ms < d)
			d = m->pend[i].deadline_ms;
	return d;
}

void mr_pending_foreach(struct mr *m, void (*fn)(const struct mr_pending_info *p, void *arg),
			void *arg)
{
	for (unsigned i = 0; i < m->cfg.pending_max; i++) {
		const struct mr_pend *p = &m->pend[i];
		if (!p->used)
			continue;
		struct mr_pending_info info = {
			.nonce = p->nonce,
			.eid = p->eid,
			.asked = p->set[p->idx],
			.depth = p->depth,
			.tries = (unsigned)p->round * p->nset + p->idx + 1,
			.deadline_ms = p->deadline_ms,
		};
		fn(&info, arg);
	}
}

static struct mr_pend *pend_find(struct mr *m, uint64_t nonce)
{
	for (unsigned i = 0; i < m->cfg.pending_max; i++)
		if (m->pend[i].used && m->pend[i].nonce == nonce)
			return &m->pend[i];
	return NULL;
}

static void pend_retire(struct mr *m, struct mr_pend *p)
{
	p->used = false;
	m->npend--;
}

static void act_send(struct mr *m, struct mr_pend *p, uint64_t now_ms, bool to_ms,
		     struct mr_action *act)
{
	p->deadline_ms = now_ms + m->cfg.timeout_ms;
	m->stats[MR_ST_SENT]++;
	*act = (struct mr_action){
		.kind = MR_ACT_SEND,
		.nonce = p->nonce,
		.to = p->set[p->idx],
		.to_ms = to_ms,
		.request = p->req,
		.request_len = p->len,
	};
}

static void act_negative(struct mr *m, struct mr_pend *p, const struct eid_prefix *prefix,
			 uint32_t ttl, uint8_t lisp_act, struct mr_action *act)
{
	m->stats[MR_ST_NEGATIVE]++;
	*act = (struct mr_action){
		.kind = MR_ACT_NEGATIVE,
		.nonce = p->nonce,
		.neg_prefix = *prefix,
		.neg_ttl_min = ttl,
		.neg_act = lisp_act,
		.itr = p->itr,
		.itr_port = p->itr_port,
	};
	pend_retire(m, p);
}

/* Resolution failed: tell the ITR to ask again later. */
static void fail(struct mr *m, struct mr_pend *p, enum mr_stat why, struct mr_action *act)
{
	m->stats[why]++;
	act_negative(m, p, &p->eid, MR_FAIL_TTL, LISP_ACT_SEND_MAP_REQUEST, act);
}

/* The RLOC asked did not answer usefully: the next one, or give up. */
static void next_rloc(struct mr *m, struct mr_pend *p, uint64_t now_ms, struct mr_action *act)
{
	if (++p->idx >= p->nset) {
		p->idx = 0;
		if (++p->round > m->cfg.retries) {
			fail(m, p, MR_ST_GAVE_UP, act);
			return;
		}
	}
	act_send(m, p, now_ms, p->set_ms, act);
}

unsigned mr_tick(struct mr *m, uint64_t now_ms, struct mr_action *acts, unsigned cap)
{
	unsigned n = 0;
	for (unsigned i = 0; i < m->cfg.pending_max && n < cap; i++) {
		struct mr_pend *p = &m->pend[i];
		if (!p->used || p->deadline_ms > now_ms)
			continue;
		m->stats[MR_ST_TIMEOUTS]++;
		next_rloc(m, p, now_ms, &acts[n++]);
	}
	/* the sweep walks the whole cache: on its own clock, not on every
	 * wake-up of the thread (a datagram flood would make each one pay it) */
	if (n < cap && now_ms >= m->next_sweep_ms) {
		cache_sweep(m, now_ms);
		m->next_sweep_ms = now_ms + MR_SWEEP_MS;
	}
	return n;
}

static bool neg_action(uint8_t act)
{
	return act == LISP_REF_DELEGATION_HOLE || act == LISP_REF_MS_NOT_REGISTERED;
}

int mr_request(struct mr *m, const struct eid_prefix *eid, uint64_t nonce,
	       const struct lisp_addr *itr, uint16_t itr_port, const uint8_t *req, size_t len,
	       uint64_t now_ms, struct mr_action *act)
{
	*act = (struct mr_action){ .kind = MR_ACT_NONE, .nonce = nonce };
	if (len > MR_MAX_REQUEST || lisp_afi_bits(eid->afi) == 0 ||
	    eid->plen > lisp_afi_bits(eid->afi)) {
		m->stats[MR_ST_DROP_BAD]++;
		return LISPMS_EINVAL;
	}
	if (pend_find(m, nonce) != NULL) {
		m->stats[MR_ST_DROP_DUP]++;
		return LISPMS_EEXIST;
	}
	struct mr_cache_entry ce;
	bool hit = mr_cache_lookup(m, eid, now_ms, &ce) == LISPMS_EOK;
	if (hit && neg_action(ce.act)) {
		/* A cached negative answer: no resolution at all. */
		m->stats[MR_ST_REQUESTS]++;
		m->stats[MR_ST_CACHE_HIT]++;
		m->stats[MR_ST_NEGATIVE]++;
		uint64_t left = (ce.expires_ms - now_ms + 59999u) / 60000u;
		*act = (struct mr_action){
			.kind = MR_ACT_NEGATIVE,
			.nonce = nonce,
			.neg_prefix = ce.prefix,
			.neg_ttl_min = (uint32_t)left,
			.neg_act = LISP_ACT_NATIVE_FORWARD,
			.itr = *itr,
			.itr_port = itr_port,
		};
		return LISPMS_EOK;
	}
	if (m->npend >= m->cfg.pending_max) {
		m->stats[MR_ST_DROP_FULL]++;
		return LISPMS_ENOSPC;
	}
	struct mr_pend *p = NULL;
	for (unsigned i = 0; i < m->cfg.pending_max; i++)
		if (!m->pend[i].used) {
			p = &m->pend[i];
			break;
		}
	memset(p, 0, offsetof(struct mr_pend, req));
	p->used = true;
	m->npend++;
	m->stats[MR_ST_REQUESTS]++;
	p->nonce = nonce;
	p->eid = *eid;
	p->itr = *itr;
	p->itr_port = itr_port;
	memcpy(p->req, req, len);
	p->len = len;
	bool to_ms = false;
	if (hit && ce.nrlocs > 0) {
		m->stats[MR_ST_CACHE_HIT]++;
		p->from_cache = true;
		p->start_prefix = ce.prefix;
		p->have_last = true;
		p->last = ce.prefix;
		p->nset = ce.nrlocs;
		memcpy(p->set, ce.rlocs, ce.nrlocs * sizeof(ce.rlocs[0]));
		to_ms = ce.act == LISP_REF_MS_REFERRAL;
	} else {
		m->stats[MR_ST_CACHE_MISS]++;
		p->nset = (uint8_t)m->cfg.nroots;
		memcpy(p->set, m->cfg.roots, m->cfg.nroots * sizeof(m->cfg.roots[0]));
	}
	p->set_ms = to_ms;
	act_send(m, p, now_ms, to_ms, act);
	return LISPMS_EOK;
}

/* The referral set's plain IPv4/IPv6 RLOCs (others cannot be sent to). */
static uint8_t referral_set(const struct lisp_record *r, struct lisp_addr *set)
{
	uint8_t n = 0;
	for (unsigned i = 0; i < r->nlocs && n < MR_MAX_RLOCS; i++) {
		const struct afi_addr *a = &r->locs[i].addr;
		if (a->kind != AFI_PLAIN || (a->afi != LISP_AFI_IPV4 && a->afi != LISP_AFI_IPV6))
			continue;
		memset(&set[n], 0, sizeof(set[n]));
		set[n].afi = a->afi;
		memcpy(set[n].bytes, a->bytes, lisp_afi_len(a->afi));
		n++;
	}
	return n;
}

void mr_referral(struct mr *m, const struct lisp_map_referral *ref, const struct lisp_addr *from,
		 uint64_t now_ms, struct mr_action *act)
{
	*act = (struct mr_action){ .kind = MR_ACT_NONE, .nonce = ref->nonce };
	struct mr_pend *p = pend_find(m, ref->nonce);
	if (p == NULL) {
		m->stats[MR_ST_DROP_UNKNOWN]++;
		return;
	}
	if (!lisp_addr_equal(from, &p->set[p->idx])) {
		m->stats[MR_ST_DROP_SOURCE]++;
		return;
	}
	struct eid_prefix rp;
	if (ref->nrecords == 0 || record_eid(&ref->records[0].r, &rp) != LISPMS_EOK ||
	    !eid_prefix_covers(&rp, &p->eid)) {
		m->stats[MR_ST_DROP_BAD]++;
		return;
	}
	/* A negative answer speaks only for the part of the tree the asked node
	 * was delegated, within the last referral (else one node, or a forger
	 * who knows the nonce, could cache a hole for a wider prefix, /0
	 * included, over the whole instance). Referrals are held to it by the
	 * loop check below: strictly more specific than the last. */
	if (p->have_last && neg_action(ref->records[0].r.act) &&
	    (rp.plen < p->last.plen || !eid_prefix_covers(&p->last, &rp))) {
		m->stats[MR_ST_DROP_BAD]++;
		return;
	}
	const struct lisp_record *r = &ref->records[0].r;
	struct mr_cache_entry ce = {
		.prefix = rp,
		.act = r->act,
		.incomplete = (r->reserved & LISP_REF_I) != 0,
		.ttl_min = r->ttl,
	};
	switch (r->act) {
	case LISP_REF_NODE_REFERRAL:
	case LISP_REF_MS_REFERRAL: {
		m->stats[r->act == LISP_REF_NODE_REFERRAL ? MR_ST_NODE_REFERRAL
							  : MR_ST_MS_REFERRAL]++;
		if (p->have_last && rp.plen <= p->last.plen) {
			fail(m, p, MR_ST_LOOP, act);
			return;
		}
		if (++p->depth > m->cfg.max_depth) {
			fail(m, p, MR_ST_DEPTH, act);
			return;
		}
		ce.nrlocs = referral_set(r, ce.rlocs);
		if (ce.nrlocs == 0) {
			/* nothing to follow: this RLOC's answer is useless */
			m->stats[MR_ST_DROP_BAD]++;
			next_rloc(m, p, now_ms, act);
			return;
		}
		(void)mr_cache_put(m, &ce, now_ms); /* a full or failing cache only costs a miss */
		p->have_last = true;
		p->last = rp;
		p->nset = ce.nrlocs;
		memcpy(p->set, ce.rlocs, ce.nrlocs * sizeof(ce.rlocs[0]));
		p->idx = 0;
		p->round = 0;
		p->set_ms = r->act == LISP_REF_MS_REFERRAL;
		act_send(m, p, now_ms, p->set_ms, act);
		return;
	}
	case LISP_REF_MS_ACK:
		m->stats[MR_ST_MS_ACK]++;
		m->stats[MR_ST_DONE]++;
		pend_retire(m, p);
		return;
	case LISP_REF_MS_NOT_REGISTERED:
	case LISP_REF_DELEGATION_HOLE:
		m->stats[r->act == LISP_REF_DELEGATION_HOLE ? MR_ST_DELEGATION_HOLE
							    : MR_ST_MS_NOT_REGISTERED]++;
		(void)mr_cache_put(m, &ce, now_ms);
		act_negative(m, p, &rp, ce.ttl_min > MR_MAX_TTL_MIN ? MR_MAX_TTL_MIN : ce.ttl_min,
			     LISP_ACT_NATIVE_FORWARD, act);
		return;
	case LISP_REF_NOT_AUTHORITATIVE:
		m->stats[MR_ST_NOT_AUTHORITATIVE]++;
		if (p->from_cache) {
			cache_del_prefix(m, &p->start_prefix);
			p->from_cache = false;
		}
		next_rloc(m, p, now_ms, act);
		return;
	default:
		m->stats[MR_ST_DROP_BAD]++;
		return;
	}
}
