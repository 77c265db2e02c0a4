/* SPDX-License-Identifier: MIT */
/*
 * The Map-Resolver's pending-request table, hold-down and RFC 8111 §7.3
 * state machine (include/lispms/mr.h says what each does; the referral
 * cache is mr_cache.c, struct mr is in mr_internal.h).
 *
 * The pending table is a fixed array of pending_max slots with four
 * indexes, so no datagram or tick costs more than the work it does,
 * whatever pending-max (up to 65,536): a stack of free slots; two
 * open-addressing hashes, by the ITR's nonce and by the nonce of the DDT
 * Map-Request in flight (docs/protocol.md D25: ours toward DDT nodes, the
 * ITR's toward Map-Servers), each with linear probing over twice as many
 * cells, seeded (an ITR's nonce is its choice, so one ITR cannot line its
 * nonces up in one chain) and with backward-shift deletion, no tombstones;
 * and a list in deadline order. Every deadline is "now + timeout-ms" with a clock
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
#include <lispms/err.h>
#include <lispms/mtime.h>

#include "mr_internal.h"
#include "rrl.h"

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
	[MR_ST_DROP_ITR_NONCE] = "drop_itr_nonce",
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

/* Can the resolver send to an RLOC of this family (mr_config.families)? */
static bool family_ok(unsigned families, uint16_t afi)
{
	if (families == 0)
		families = MR_FAM_IPV4 | MR_FAM_IPV6;
	return (afi == LISP_AFI_IPV4 && (families & MR_FAM_IPV4)) ||
	       (afi == LISP_AFI_IPV6 && (families & MR_FAM_IPV6));
}

int mr_config_from_conf(const struct conf_map_resolver *c, struct mr_config *out)
{
	if (c->nroots == 0 || c->nroots > MR_MAX_ROOTS)
		return LISPMS_EINVAL;
	unsigned families = 0;
	for (size_t i = 0; i < c->nlisten; i++)
		families |= c->listen[i].afi == LISP_AFI_IPV6 ? MR_FAM_IPV6 : MR_FAM_IPV4;
	*out = (struct mr_config){
		.families = families,
		.cache_max = c->cache_max,
		.pending_max = c->pending_max,
		.timeout_ms = c->timeout_ms,
		.retries = c->retries,
		.max_depth = c->max_depth,
		.reply_rate_limit = c->reply_rate_limit,
	};
	for (size_t i = 0; i < c->nroots; i++)
		if (family_ok(families, c->roots[i].afi))
			out->roots[out->nroots++] = c->roots[i];
	return out->nroots > 0 ? LISPMS_EOK : LISPMS_EAFI;
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
	m->ht[MR_BY_ITR] = calloc(cells, sizeof(uint32_t));
	m->ht[MR_BY_WIRE] = calloc(cells, sizeof(uint32_t));
	if (m->pend == NULL || m->free_slots == NULL || m->ht[MR_BY_ITR] == NULL ||
	    m->ht[MR_BY_WIRE] == NULL || cfg->pending_max > UINT32_MAX / 2) {
		mr_free(m);
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

void mr_free(struct mr *m)
{
	if (m == NULL)
		return;
	mr_cache_free(m);
	reclaim_deinit(&m->rc);
	rrl_free(m->rrl);
	mr_sig_free(m->sig);
	free(m->pend);
	free(m->free_slots);
	free(m->ht[MR_BY_ITR]);
	free(m->ht[MR_BY_WIRE]);
	free(m);
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
			.ddt_nonce = p->wire,
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

/* murmur3's 64-bit finaliser */
static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* The nonce's home cell (a seeded mix of nonce ^ seed). */
static uint32_t pend_home(const struct mr *m, uint64_t nonce)
{
	return (uint32_t)mix64(nonce ^ m->hseed) & m->hmask;
}

static uint64_t pend_key(const struct mr_pend *p, enum mr_by by)
{
	return by == MR_BY_ITR ? p->nonce : p->wire;
}

/* The cell of index `by` holding nonce, or the empty cell ending its chain. */
static uint32_t pend_cell(struct mr *m, enum mr_by by, uint64_t nonce)
{
	const uint32_t *ht = m->ht[by];
	uint32_t c = pend_home(m, nonce);
	while (ht[c] != 0 && pend_key(&m->pend[ht[c] - 1], by) != nonce) {
		m->probes++;
		c = (c + 1) & m->hmask;
	}
	return c;
}

static struct mr_pend *pend_find(struct mr *m, enum mr_by by, uint64_t nonce)
{
	uint32_t c = pend_cell(m, by, nonce);
	return m->ht[by][c] != 0 ? &m->pend[m->ht[by][c] - 1] : NULL;
}

static void pend_link(struct mr *m, enum mr_by by, struct mr_pend *p)
{
	m->ht[by][pend_cell(m, by, pend_key(p, by))] = (uint32_t)(p - m->pend) + 1;
}

static void pend_unlink(struct mr *m, enum mr_by by, const struct mr_pend *p)
{
	/* backward-shift deletion: later members of the chain move up into
	 * the hole when their home cell does not lie between hole and them */
	uint32_t *ht = m->ht[by];
	uint32_t hole = pend_cell(m, by, pend_key(p, by));
	for (uint32_t c = (hole + 1) & m->hmask; ht[c] != 0; c = (c + 1) & m->hmask) {
		m->probes++;
		uint32_t home = pend_home(m, pend_key(&m->pend[ht[c] - 1], by));
		if (((c - home) & m->hmask) >= ((c - hole) & m->hmask)) {
			ht[hole] = ht[c];
			hole = c;
		}
	}
	ht[hole] = 0;
}

/* A free slot for the ITR's nonce (not pending; the caller checked there
 * is room). It joins the by-wire index at its first send (pend_rewire). */
static struct mr_pend *pend_take(struct mr *m, uint64_t nonce)
{
	uint32_t slot = m->free_slots[--m->nfree];
	struct mr_pend *p = &m->pend[slot];
	memset(p, 0, offsetof(struct mr_pend, req));
	p->used = true;
	p->nonce = nonce;
	CDS_INIT_LIST_HEAD(&p->dl);
	pend_link(m, MR_BY_ITR, p);
	m->npend++;
	return p;
}

static void pend_retire(struct mr *m, struct mr_pend *p)
{
	pend_unlink(m, MR_BY_ITR, p);
	if (p->wired)
		pend_unlink(m, MR_BY_WIRE, p);
	cds_list_del_init(&p->dl);
	p->used = false;
	m->free_slots[m->nfree++] = (uint32_t)(p - m->pend);
	m->npend--;
}

/* A random 64-bit nonce (getrandom in bulk; should the kernel refuse, a
 * counter and the clock mixed: distinct, if guessable by a patient peer). */
static uint64_t rnd_next(struct mr *m)
{
	if (m->nrnd == 0) {
		if (getrandom(m->rnd, sizeof(m->rnd), GRND_NONBLOCK) == (ssize_t)sizeof(m->rnd)) {
			m->nrnd = MR_RND_POOL;
		} else {
			m->rnd_fallback += 0x9e3779b97f4a7c15ull;
			m->rnd[0] = mix64(m->rnd_fallback ^ mtime_now_ns());
			m->nrnd = 1;
		}
	}
	return m->rnd[--m->nrnd];
}

/*
 * The nonce p's next DDT Map-Request carries (docs/protocol.md D25): toward
 * DDT nodes a fresh random one each send, retries included, so only the
 * node asked can answer it; toward Map-Servers the ITR's, because the
 * Map-Server answers the ITR (proxy reply, or the ETR's Map-Reply) with
 * the Map-Request's nonce. Invariants kept: no two requests share an ITR
 * nonce or a wire nonce, and no wire nonce is another request's ITR nonce
 * (a new request with such a nonce is refused, a random draw avoids both),
 * so taking the ITR's nonce on the wire never collides.
 */
static void pend_rewire(struct mr *m, struct mr_pend *p, bool to_ms)
{
	if (p->wired)
		pend_unlink(m, MR_BY_WIRE, p);
	if (to_ms) {
		p->wire = p->nonce;
	} else {
		unsigned i = 0;
		do /* a collision is a 2^-64 chance: bounded, not looped on */
			p->wire = rnd_next(m);
		while (++i < 4 && (pend_find(m, MR_BY_WIRE, p->wire) != NULL ||
				   pend_find(m, MR_BY_ITR, p->wire) != NULL));
	}
	pend_link(m, MR_BY_WIRE, p);
	p->wired = true;
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
	pend_rewire(m, p, to_ms);
	m->stats[MR_ST_SENT]++;
	*act = (struct mr_action){
		.kind = MR_ACT_SEND,
		.nonce = p->nonce,
		.ddt_nonce = p->wire,
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
		mr_cache_sweep(m, now_ms);
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
	/* one request per ITR nonce; nor may it be a nonce in flight to the
	 * tree (pend_rewire's invariant: a 2^-64 chance for an honest ITR) */
	if (pend_find(m, MR_BY_ITR, nonce) != NULL || pend_find(m, MR_BY_WIRE, nonce) != NULL) {
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

/* The referral set's plain IPv4/IPv6 RLOCs of a family the resolver has a
 * socket for (others cannot be sent to: trying one would only cost a
 * timeout and a hold-down). */
static uint8_t referral_set(const struct mr *m, const struct lisp_record *r, struct lisp_addr *set)
{
	uint8_t n = 0;
	for (unsigned i = 0; i < r->nlocs && n < MR_MAX_RLOCS; i++) {
		const struct afi_addr *a = &r->locs[i].addr;
		if (a->kind != AFI_PLAIN || !family_ok(m->cfg.families, a->afi))
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
	struct mr_pend *p = pend_find(m, MR_BY_WIRE, ref->nonce);
	if (p == NULL) {
		/* The ITR's nonce where ours was expected: whoever sent the
		 * Map-Request knows it, the node asked does not (D25). */
		m->stats[pend_find(m, MR_BY_ITR, ref->nonce) != NULL ? MR_ST_DROP_ITR_NONCE
								     : MR_ST_DROP_UNKNOWN]++;
		return;
	}
	*act = (struct mr_action){ .kind = MR_ACT_NONE, .nonce = p->nonce };
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
	/* Matched by the ITR's nonce (the Map-Server hop): the requester knows
	 * it, so the answer may end or steer this request but is never cached
	 * for the others (D25). Nor is anything after such a steer: the RLOCs
	 * it sent the request to were chosen by whoever knew the ITR's nonce,
	 * and are sent ours, so they can answer it. */
	const bool itr_hop = ref->nonce == p->nonce;
	const bool cacheable = !itr_hop && !p->steered;
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
		ce.nrlocs = referral_set(m, r, ce.rlocs);
		if (ce.nrlocs == 0) {
			/* nothing to follow: this RLOC's answer is useless */
			m->stats[MR_ST_DROP_BAD]++;
			next_rloc(m, p, now_ms, act);
			return;
		}
		/* a full or failing cache only costs a miss; an incomplete set is
		 * followed, not cached (RFC 8111 §6.4.1: the receiver SHOULD NOT) */
		if (!ce.incomplete && cacheable)
			(void)mr_cache_put(m, &ce, now_ms);
		p->steered = p->steered || itr_hop;
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
		 * having no Map-Server set to send), (2) when strictly more
		 * specific than the referral that led here: a cache holds one
		 * entry per prefix, and a negative answer for exactly the
		 * delegated prefix would overwrite the parent's referral, so one
		 * wrong answer from a node would blackhole every EID below it
		 * for the negative TTL (RFC 8111 §7.3.1 has the resolver cache
		 * the negative referral but does not say what happens to a
		 * referral for the same prefix; we keep the parent's word), and
		 * (3) when it came from a DDT node, under our nonce, on a walk no
		 * answer under the ITR's nonce steered: a Map-Server is asked with
		 * the ITR's, which a forger who sent the request knows (D25). */
		if (!ce.incomplete && cacheable && !(p->have_last && rp.plen == p->last.plen))
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
			mr_cache_del(m, &p->last);
		if (p->from_cache) {
			mr_cache_del(m, &p->start_prefix);
			p->from_cache = false;
		}
		next_rloc(m, p, now_ms, act);
		return;
	default:
		m->stats[MR_ST_DROP_BAD]++;
		return;
	}
}
