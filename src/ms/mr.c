/* SPDX-License-Identifier: MIT */
/*
 * The Map-Resolver's referral cache, pending-request table and RFC 8111
 * §7.3 state machine (include/lispms/mr.h says what each does).
 *
 * The cache is one trie per (instance, family) plus an LRU list over every
 * entry: a lookup that hits moves its entry to the front, the bound evicts
 * from the back. The pending table is a fixed array of pending_max slots
 * with three indexes, so no datagram or tick costs more than the work it
 * does, whatever pending-max (up to 65,536): a stack of free slots; an
 * open-addressing hash by nonce (linear probing over twice as many cells,
 * a seeded hash: the nonce is the ITR's choice, so one ITR cannot line its
 * nonces up in one chain; backward-shift deletion, no tombstones); and a
 * list in deadline order. Every deadline is "now + timeout-ms" with a clock
 * that never goes back (mr keeps the latest time it was given), so
 * appending at (re)arming keeps the list sorted: the earliest deadline is
 * its head and a tick takes expired requests from the head only.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>

#include <urcu/compiler.h>
#include <urcu/list.h>

#include <lispms/conf.h>
#include <lispms/db/reclaim.h>
#include <lispms/db/trie.h>
#include <lispms/err.h>
#include <lispms/mr.h>
#include <lispms/mtime.h>

#include "rrl.h"

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
	uint32_t *ht; /* nonce hash: slot number + 1, 0 = empty cell */
	uint32_t hmask;
	uint64_t hseed;
	struct cds_list_head by_deadline; /* pending requests, earliest first */
	uint64_t clock_ms;		  /* the latest time given: deadlines never go back */
	uint64_t probes;		  /* work counter for tests (mr_test_probes) */
	uint64_t next_sweep_ms;		  /* the cache is swept at most once a second */
	struct mr_down down[MR_DOWN_MAX]; /* RLOCs held down after a timeout */
	unsigned ndown;
	struct rrl *rrl;    /* negative Map-Replies per ITR (D22), at the first one */
	struct mr_sig *sig; /* referral signatures checked (D24, mr_sig.c); NULL: not */
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
	[MR_ST_NEG_LIMITED] = "negative_limited",
	[MR_ST_SIG_FAILED] = "signature_failed",
	[MR_ST_SIG_UNSIGNED] = "unsigned",
	[MR_ST_SIG_NO_KEY] = "no_key",
};

const char *mr_stat_name(enum mr_stat s)
{
	return (unsigned)s < MR_ST_MAX ? stat_names[s] : "?";
}

void mr_set_sig(struct mr *m, struct mr_sig *s)
{
	mr_sig_free(m->sig);
	m->sig = s;
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
		.reply_rate_limit = c->reply_rate_limit,
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
	size_t cells = 2;
	while (cells < 2 * (size_t)cfg->pending_max)
		cells *= 2;
	m->pend = calloc(cfg->pending_max, sizeof(*m->pend));
	m->free_slots = calloc(cfg->pending_max, sizeof(*m->free_slots));
	m->ht = calloc(cells, sizeof(*m->ht));
	if (m->pend == NULL || m->free_slots == NULL || m->ht == NULL ||
	    cfg->pending_max > UINT32_MAX / 2) {
		free(m->pend);
		free(m->free_slots);
		free(m->ht);
		free(m);
		return LISPMS_ENOMEM;
	}
	m->hmask = (uint32_t)(cells - 1);
	if (getrandom(&m->hseed, sizeof(m->hseed), 0) != sizeof(m->hseed))
		m->hseed = mtime_now_ns() * 0x9e3779b97f4a7c15ull;
	for (uint32_t i = 0; i < cfg->pending_max; i++) /* slot 0 on top */
		m->free_slots[i] = cfg->pending_max - 1 - i;
	m->nfree = cfg->pending_max;
	CDS_INIT_LIST_HEAD(&m->by_deadline);
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
	rrl_free(m->rrl);
	mr_sig_free(m->sig);
	free(m->pend);
	free(m->free_slots);
	free(m->ht);
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

void mr_cache_foreach(struct mr *m, bool (*fn)(const struct mr_cache_entry *e, void *arg),
		      void *arg)
{
	struct mr_centry *c;
	cds_list_for_each_entry (c, &m->lru, lru)
		if (!fn(&c->e, arg))
			return;
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
	if (m->by_deadline.next == &m->by_deadline)
		return UINT64_MAX;
	return cds_list_entry(m->by_deadline.next, const struct mr_pend, dl)->deadline_ms;
}

uint64_t mr_test_probes(const struct mr *m)
{
	return m->probes;
}

void mr_pending_foreach(struct mr *m, bool (*fn)(const struct mr_pending_info *p, void *arg),
			void *arg)
{
	const struct mr_pend *p;
	cds_list_for_each_entry (p, &m->by_deadline, dl) {
		struct mr_pending_info info = {
			.nonce = p->nonce,
			.eid = p->eid,
			.asked = p->set[p->idx],
			.depth = p->depth,
			.tries = (unsigned)p->round * p->nset +
				 (unsigned)(p->idx + p->nset - p->start) % p->nset + 1,
			.deadline_ms = p->deadline_ms,
		};
		if (!fn(&info, arg))
			return;
	}
}

/* The nonce's home cell (a seeded mix: murmur3's finaliser over nonce ^ seed). */
static uint32_t pend_home(const struct mr *m, uint64_t nonce)
{
	uint64_t h = nonce ^ m->hseed;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h & m->hmask;
}

/* The cell holding nonce, or the empty cell ending its chain. */
static uint32_t pend_cell(struct mr *m, uint64_t nonce)
{
	uint32_t c = pend_home(m, nonce);
	while (m->ht[c] != 0 && m->pend[m->ht[c] - 1].nonce != nonce) {
		m->probes++;
		c = (c + 1) & m->hmask;
	}
	return c;
}

static struct mr_pend *pend_find(struct mr *m, uint64_t nonce)
{
	uint32_t c = pend_cell(m, nonce);
	return m->ht[c] != 0 ? &m->pend[m->ht[c] - 1] : NULL;
}

/* A free slot for nonce (not pending; the caller checked there is room). */
static struct mr_pend *pend_take(struct mr *m, uint64_t nonce)
{
	uint32_t slot = m->free_slots[--m->nfree];
	struct mr_pend *p = &m->pend[slot];
	memset(p, 0, offsetof(struct mr_pend, req));
	p->used = true;
	p->nonce = nonce;
	CDS_INIT_LIST_HEAD(&p->dl);
	m->ht[pend_cell(m, nonce)] = slot + 1;
	m->npend++;
	return p;
}

static void pend_retire(struct mr *m, struct mr_pend *p)
{
	/* backward-shift deletion: later members of the chain move up into
	 * the hole when their home cell does not lie between hole and them */
	uint32_t hole = pend_cell(m, p->nonce);
	for (uint32_t c = (hole + 1) & m->hmask; m->ht[c] != 0; c = (c + 1) & m->hmask) {
		m->probes++;
		uint32_t home = pend_home(m, m->pend[m->ht[c] - 1].nonce);
		if (((c - home) & m->hmask) >= ((c - hole) & m->hmask)) {
			m->ht[hole] = m->ht[c];
			hole = c;
		}
	}
	m->ht[hole] = 0;
	cds_list_del_init(&p->dl);
	p->used = false;
	m->free_slots[m->nfree++] = (uint32_t)(p - m->pend);
	m->npend--;
}

/* ------------------------------------------------------------ hold-down */

static struct mr_down *down_find(struct mr *m, const struct lisp_addr *a)
{
	for (unsigned i = 0; i < m->ndown; i++)
		if (lisp_addr_equal(&m->down[i].addr, a))
			return &m->down[i];
	return NULL;
}

/* addr let a DDT Map-Request time out: pass it over for the hold-down. The
 * table is bounded: when full, the entry that ends first gives way. */
static void down_mark(struct mr *m, const struct lisp_addr *a, uint64_t now_ms)
{
	uint64_t until = now_ms + (uint64_t)m->cfg.timeout_ms * MR_HOLD_TIMEOUTS;
	struct mr_down *d = down_find(m, a);
	if (d == NULL && m->ndown < MR_DOWN_MAX)
		d = &m->down[m->ndown++];
	if (d == NULL) {
		d = &m->down[0];
		for (unsigned i = 1; i < m->ndown; i++)
			if (m->down[i].until_ms < d->until_ms)
				d = &m->down[i];
	}
	d->addr = *a;
	d->until_ms = until;
}

/* addr answered: it is alive again. */
static void down_clear(struct mr *m, const struct lisp_addr *a)
{
	struct mr_down *d = down_find(m, a);
	if (d != NULL)
		*d = m->down[--m->ndown];
}

/*
 * Start p's walk over its set at the first RLOC not held down (all held
 * down: the first). A hold-down that has ended makes this request the probe:
 * the RLOC is held for the probe's own timeout, so the requests that follow
 * keep going to its partners until the probe is answered (down_clear) or
 * times out (down_mark again).
 */
static void set_begin(struct mr *m, struct mr_pend *p, uint64_t now_ms)
{
	p->idx = 0;
	p->round = 0;
	for (uint8_t i = 0; i < p->nset && m->ndown > 0; i++) {
		struct mr_down *d = down_find(m, &p->set[i]);
		if (d == NULL) {
			p->idx = i;
			break;
		}
		if (d->until_ms <= now_ms) {
			d->until_ms = now_ms + m->cfg.timeout_ms;
			p->idx = i;
			break;
		}
	}
	p->start = p->idx;
}

static void act_send(struct mr *m, struct mr_pend *p, uint64_t now_ms, bool to_ms,
		     struct mr_action *act)
{
	if (now_ms < m->clock_ms)
		now_ms = m->clock_ms; /* so the deadline list stays in order */
	m->clock_ms = now_ms;
	p->deadline_ms = now_ms + m->cfg.timeout_ms;
	cds_list_del(&p->dl);
	cds_list_add_tail(&p->dl, &m->by_deadline);
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

/* May a negative Map-Reply go to itr now (D22)? Counted when not. */
static bool neg_allowed(struct mr *m, const struct lisp_addr *itr, uint64_t now_ms)
{
	if (m->cfg.reply_rate_limit == 0)
		return true;
	if (m->rrl == NULL && (m->rrl = rrl_new(LISPMS_M_MR_RRL_EVICTED)) == NULL)
		return true; /* no memory for the table: answer rather than go silent */
	struct sockaddr_storage ss;
	if (lisp_addr_to_sockaddr(itr, 0, &ss) == 0)
		return true; /* not IPv4/IPv6: the caller cannot send to it anyway */
	if (rrl_check(m->rrl, &ss, m->cfg.reply_rate_limit, now_ms * LISPMS_NS_PER_MSEC)) {
		m->stats[MR_ST_NEGATIVE]++;
		return true;
	}
	m->stats[MR_ST_NEG_LIMITED]++;
	return false;
}

static void act_negative(struct mr *m, struct mr_pend *p, const struct eid_prefix *prefix,
			 uint32_t ttl, uint8_t lisp_act, uint64_t now_ms, struct mr_action *act)
{
	if (!neg_allowed(m, &p->itr, now_ms)) {
		*act = (struct mr_action){ .kind = MR_ACT_NONE, .nonce = p->nonce };
		pend_retire(m, p);
		return;
	}
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
static void fail(struct mr *m, struct mr_pend *p, enum mr_stat why, uint64_t now_ms,
		 struct mr_action *act)
{
	m->stats[why]++;
	act_negative(m, p, &p->eid, MR_FAIL_TTL, LISP_ACT_SEND_MAP_REQUEST, now_ms, act);
}

/* The RLOC asked did not answer usefully: the next one, or give up. */
static void next_rloc(struct mr *m, struct mr_pend *p, uint64_t now_ms, struct mr_action *act)
{
	p->idx = (uint8_t)((p->idx + 1) % p->nset);
	if (p->idx == p->start) {
		if (++p->round > m->cfg.retries) {
			fail(m, p, MR_ST_GAVE_UP, now_ms, act);
			return;
		}
	}
	act_send(m, p, now_ms, p->set_ms, act);
}

unsigned mr_tick(struct mr *m, uint64_t now_ms, struct mr_action *acts, unsigned cap)
{
	unsigned n = 0;
	/* the head is the earliest deadline; a retry goes to the tail */
	while (n < cap && !cds_list_empty(&m->by_deadline)) {
		struct mr_pend *p = cds_list_entry(m->by_deadline.next, struct mr_pend, dl);
		if (p->deadline_ms > now_ms)
			break;
		m->probes++;
		m->stats[MR_ST_TIMEOUTS]++;
		down_mark(m, &p->set[p->idx], now_ms);
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
		if (!neg_allowed(m, itr, now_ms))
			return LISPMS_EOK; /* over the ITR's limit: counted, not answered */
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
	struct mr_pend *p = pend_take(m, nonce);
	m->stats[MR_ST_REQUESTS]++;
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
	set_begin(m, p, now_ms);
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
	if (m->sig != NULL) { /* before anything trusts it, the hold-down included */
		enum mr_stat bad = mr_sig_check(m->sig, ref, p->have_last ? &p->last : NULL);
		if (bad != MR_ST_MAX) {
			m->stats[bad]++;
			return;
		}
	}
	if (m->ndown > 0)
		down_clear(m, from); /* it answered: alive, whatever it said */
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
			fail(m, p, MR_ST_LOOP, now_ms, act);
			return;
		}
		if (++p->depth > m->cfg.max_depth) {
			fail(m, p, MR_ST_DEPTH, now_ms, act);
			return;
		}
		ce.nrlocs = referral_set(r, ce.rlocs);
		if (ce.nrlocs == 0) {
			/* nothing to follow: this RLOC's answer is useless */
			m->stats[MR_ST_DROP_BAD]++;
			next_rloc(m, p, now_ms, act);
			return;
		}
		/* a full or failing cache only costs a miss; an incomplete set is
		 * followed, not cached (RFC 8111 §6.4.1: the receiver SHOULD NOT) */
		if (!ce.incomplete)
			(void)mr_cache_put(m, &ce, now_ms);
		p->have_last = true;
		p->last = rp;
		p->nset = ce.nrlocs;
		memcpy(p->set, ce.rlocs, ce.nrlocs * sizeof(ce.rlocs[0]));
		p->set_ms = r->act == LISP_REF_MS_REFERRAL;
		set_begin(m, p, now_ms);
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
		/* The ITR gets the negative answer either way; it is cached only
		 * (1) when complete: I set means the receiver SHOULD NOT cache it
		 * (RFC 8111 §6.4.1; our Map-Servers set it on MS-NOT-REGISTERED,
		 * having no Map-Server set to send), and (2) when strictly more
		 * specific than the referral that led here: a cache holds one
		 * entry per prefix, and a negative answer for exactly the
		 * delegated prefix would overwrite the parent's referral, so one
		 * wrong answer from a Map-Server would blackhole every EID it
		 * holds for the negative TTL. RFC 8111 §7.3.1 has the resolver
		 * cache the negative referral but does not say what happens to a
		 * referral for the same prefix; we keep the parent's word. */
		if (!ce.incomplete && !(p->have_last && rp.plen == p->last.plen))
			(void)mr_cache_put(m, &ce, now_ms);
		act_negative(m, p, &rp, ce.ttl_min > MR_MAX_TTL_MIN ? MR_MAX_TTL_MIN : ce.ttl_min,
			     LISP_ACT_NATIVE_FORWARD, now_ms, act);
		return;
	case LISP_REF_NOT_AUTHORITATIVE:
		m->stats[MR_ST_NOT_AUTHORITATIVE]++;
		/* The referral that sent us here is wrong or stale (RFC 8111
		 * §7.3.1): gone from the cache, so the next request for it asks
		 * again from the root; this one goes on with the set's next
		 * RLOC. A walk that began from the cache drops its start too. */
		if (p->have_last)
			cache_del_prefix(m, &p->last);
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
