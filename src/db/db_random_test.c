/* SPDX-License-Identifier: MIT */
/*
 * Thousands of random registrations, refreshes, withdrawals and expiries
 * over IPv4, IPv6 and MAC prefixes of every length (nested, adjacent,
 * default routes) in two instances, checked after every step against a
 * plain array: exact and longest-prefix match (owner and locators of the
 * derived mapping, merge included), walks of every scope, and the event
 * stream (added - removed - expired = prefixes stored).
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/db.h>
#include <lispms/err.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#define NOWN	4
#define NLOCS	4
#define TIMEOUT 60u
#define S(x)	((uint64_t)(x)*LISPMS_NS_PER_SEC)

struct mreg {
	bool on;
	int locset;
	bool merge;
	uint32_t deadline;
	uint64_t rank;
};

struct mpfx {
	struct eid_prefix p;
	struct mreg reg[NOWN];
};

static struct mpfx *model;
static size_t nmodel, capmodel;
static uint64_t rank_seq;
static uint64_t rng;
static struct db_locator locsets[NLOCS][2];
static size_t ev_added, ev_gone;

static uint32_t rnd(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng >> 33);
}

static void on_event(const struct db_event *ev, void *arg)
{
	(void)arg;
	if (ev->type == DB_EV_ADDED)
		ev_added++;
	else if (ev->type == DB_EV_REMOVED || ev->type == DB_EV_EXPIRED)
		ev_gone++;
	cr_assert((ev->old_map == NULL) == (ev->type == DB_EV_ADDED));
	cr_assert((ev->new_map == NULL) == (ev->type != DB_EV_ADDED && ev->type != DB_EV_CHANGED));
}

static struct db_sink sink = { on_event, NULL };

static struct db_owner owner(int i)
{
	struct db_owner o = { .has_xtr_id = true, .port = 4342 };
	o.xtr_id[0] = (uint8_t)(i + 1);
	lisp_addr_parse("192.0.2.1", &o.rloc);
	return o;
}

static bool mreg_live(const struct mpfx *m)
{
	for (int i = 0; i < NOWN; i++)
		if (m->reg[i].on)
			return true;
	return false;
}

static struct mpfx *mfind(const struct eid_prefix *p)
{
	for (size_t i = 0; i < nmodel; i++)
		if (eid_prefix_equal(&model[i].p, p))
			return &model[i];
	return NULL;
}

static void mdrop_empty(void)
{
	size_t j = 0;
	for (size_t i = 0; i < nmodel; i++)
		if (mreg_live(&model[i]))
			model[j++] = model[i];
	nmodel = j;
}

/* Adversarial prefix: few bases, every length, adjacent and default. */
static struct eid_prefix gen(void)
{
	static const uint16_t afis[3] = { LISP_AFI_IPV4, LISP_AFI_IPV6, LISP_AFI_MAC };
	struct eid_prefix p;
	memset(&p, 0, sizeof(p));
	p.iid = rnd() % 2;
	p.plain = p.iid == 0;
	p.afi = afis[rnd() % 3];
	unsigned bits = lisp_afi_bits(p.afi);
	unsigned base = rnd() % 3;
	for (unsigned i = 0; i < LISPMS_ADDR_MAX; i++)
		p.bytes[i] = base == 0 ? 0 : (uint8_t)(0x5a * base + i);
	unsigned r = rnd() % 6;
	p.plen = (uint8_t)(r == 0 ? 0 : r == 1 ? bits : rnd() % (bits + 1));
	if (p.plen > 0 && rnd() % 2)
		p.bytes[(p.plen - 1) / 8] ^= (uint8_t)(0x80u >> ((p.plen - 1) % 8));
	if (rnd() % 4 == 0)
		p.bytes[rnd() % (bits / 8)] = (uint8_t)rnd();
	eid_prefix_normalize(&p);
	return p;
}

/* What the model says a prefix's mapping is: owner (-1 merged), locators. */
static int mexpect(const struct mpfx *m, bool *merged)
{
	int newest = -1, n = 0;
	bool all_merge = true;
	for (int i = 0; i < NOWN; i++) {
		if (!m->reg[i].on)
			continue;
		n++;
		if (!m->reg[i].merge)
			all_merge = false;
		if (newest < 0 || m->reg[i].rank > m->reg[newest].rank)
			newest = i;
	}
	*merged = n >= 2 && all_merge;
	return newest;
}

static bool has_addr(const struct db_locset *ls, const struct lisp_addr *a)
{
	for (unsigned i = 0; i < ls->count; i++)
		if (lisp_addr_equal(&ls->loc[i].addr, a))
			return true;
	return false;
}

static void check_mapping(const struct mpfx *m, const struct db_mapping *map)
{
	cr_assert_not_null(map);
	bool merged;
	int newest = mexpect(m, &merged);
	if (!merged) {
		cr_assert_eq(map->owner.xtr_id[0], newest + 1, "owner");
		cr_assert(!(map->flags & DB_F_MERGED));
		const struct db_locator *l = locsets[m->reg[newest].locset];
		cr_assert_eq(map->locs->count, 2);
		cr_assert(lisp_addr_equal(&map->locs->loc[0].addr, &l[0].addr));
		return;
	}
	cr_assert(map->flags & DB_F_MERGED);
	unsigned want = 0;
	bool seen[NLOCS * 2] = { false };
	for (int i = 0; i < NOWN; i++) {
		if (!m->reg[i].on)
			continue;
		for (int j = 0; j < 2; j++) {
			const struct lisp_addr *a = &locsets[m->reg[i].locset][j].addr;
			cr_assert(has_addr(map->locs, a), "merged set misses a locator");
			int idx = m->reg[i].locset * 2 + j;
			if (j == 1)
				idx = NLOCS * 2 - 1; /* every set shares its second locator */
			if (!seen[idx]) {
				seen[idx] = true;
				want++;
			}
		}
	}
	cr_assert_eq(map->locs->count, want, "merged set has no duplicates");
}

static const struct mpfx *mlpm(const struct eid_prefix *q)
{
	const struct mpfx *best = NULL;
	for (size_t i = 0; i < nmodel; i++) {
		const struct mpfx *m = &model[i];
		if (eid_prefix_covers(&m->p, q) && (best == NULL || m->p.plen > best->p.plen))
			best = m;
	}
	return best;
}

struct wctx {
	const struct eid_prefix *under;
	enum db_scope scope;
	size_t n;
};

static int wfn(const struct eid_prefix *p, const struct db_mapping *m, const struct db_entry *e,
	       void *arg)
{
	(void)e;
	struct wctx *w = arg;
	const struct mpfx *mp = mfind(p);
	cr_assert_not_null(mp, "walk found a prefix the model does not have");
	check_mapping(mp, m);
	if (w->scope == DB_SCOPE_PREFIX)
		cr_assert(eid_prefix_covers(w->under, p));
	if (w->scope == DB_SCOPE_AF)
		cr_assert(p->afi == w->under->afi && p->iid == w->under->iid);
	w->n++;
	return 0;
}

static void check_all(struct db *db)
{
	lrcu_read_lock();
	for (int q = 0; q < 6; q++) {
		struct eid_prefix e = q == 0 && nmodel > 0 ? model[rnd() % nmodel].p : gen();
		const struct mpfx *m = mfind(&e);
		const struct db_mapping *x = db_lookup_exact(db, &e);
		cr_assert((x != NULL) == (m != NULL), "exact match");
		if (m != NULL)
			check_mapping(m, x);
		/* an address under e, and e as a prefix query */
		for (int asaddr = 0; asaddr < 2; asaddr++) {
			struct eid_prefix a = e;
			if (asaddr) {
				a.plen = (uint8_t)lisp_afi_bits(e.afi);
				for (unsigned i = e.plen; i < a.plen; i++)
					if (rnd() % 2)
						a.bytes[i / 8] |= (uint8_t)(0x80u >> (i % 8));
			}
			const struct mpfx *want = mlpm(&a);
			struct eid_prefix got;
			const struct db_mapping *lm = db_lookup(db, &a, &got);
			cr_assert((lm != NULL) == (want != NULL), "lpm found or not");
			if (want != NULL) {
				cr_assert(eid_prefix_equal(&got, &want->p), "lpm prefix");
				check_mapping(want, lm);
			}
		}
	}
	/* the batched lookup agrees with the scalar one */
	{
		struct eid_prefix qs[20];
		const struct eid_prefix *qp[20];
		const struct db_mapping *res[20];
		for (int i = 0; i < 20; i++) {
			qs[i] = gen();
			qs[i].iid = 1;
			qp[i] = &qs[i];
		}
		lrcu_read_unlock();
		lrcu_read_lock();
		db_iid_lookup_batch(db_instance(db, 1), qp, 20, res);
		for (int i = 0; i < 20; i++)
			cr_assert_eq(res[i], db_lookup(db, &qs[i], NULL), "batch lookup %d", i);
	}
	/* walks: every scope's count against the model */
	struct eid_prefix under = gen();
	size_t want[5] = { nmodel, 0, 0, 0, 0 };
	for (size_t i = 0; i < nmodel; i++) {
		const struct eid_prefix *p = &model[i].p;
		if (p->iid == under.iid) {
			want[1]++;
			if (p->afi == under.afi)
				want[2]++;
		}
		if (eid_prefix_covers(&under, p))
			want[3]++;
		if (eid_prefix_equal(&under, p))
			want[4]++;
	}
	for (int s = 0; s < 5; s++) {
		struct wctx w = { .under = &under, .scope = (enum db_scope)s, .n = 0 };
		cr_assert_eq(db_walk(db, (enum db_scope)s, &under, wfn, &w), 0);
		cr_assert_eq(w.n, want[s], "walk scope %d: %zu, model %zu", s, w.n, want[s]);
	}
	lrcu_read_unlock();
	cr_assert_eq(ev_added - ev_gone, nmodel, "event stream balances");
}

Test(db_random, thousands_of_operations_against_a_model)
{
	cr_assert_eq(thread_register("test"), LISPMS_EOK);
	struct db *db = db_new(&(struct db_config){ .reg_timeout_s = TIMEOUT });
	cr_assert_not_null(db);
	rng = 12345;
	capmodel = 8192;
	model = calloc(capmodel, sizeof(*model));
	for (int i = 0; i < NLOCS; i++) {
		locsets[i][0] = (struct db_locator){ .priority = 1, .weight = 100 };
		lisp_addr_parse("203.0.113.1", &locsets[i][0].addr);
		locsets[i][0].addr.bytes[3] = (uint8_t)(10 + i);
		locsets[i][1] = (struct db_locator){ .priority = 2, .weight = 100 };
		lisp_addr_parse("2001:db8::99", &locsets[i][1].addr); /* shared by every set */
	}

	uint32_t now = 1000;
	for (int op = 0; op < 20000; op++) {
		unsigned kind = rnd() % 10;
		if (kind < 6) {
			struct eid_prefix p = gen();
			int o = (int)(rnd() % NOWN);
			int ls = (int)(rnd() % NLOCS);
			bool merge = rnd() % 3 == 0;
			struct db_reg_info r = { .owner = owner(o),
						 .locs = locsets[ls],
						 .nlocs = 2,
						 .ttl = 10,
						 .flags = merge ? DB_F_MERGE : 0 };
			int ret = db_register(db, &p, &r, S(now), &sink);
			struct mpfx *m = mfind(&p);
			if (m == NULL) {
				cr_assert_lt(nmodel, capmodel);
				m = &model[nmodel++];
				memset(m, 0, sizeof(*m));
				m->p = p;
			}
			struct mreg *mr = &m->reg[o];
			if (mr->on && mr->locset == ls && mr->merge == merge) {
				cr_assert_eq(ret, DB_REFRESHED);
				if (mr->deadline < now + TIMEOUT)
					mr->deadline = now + TIMEOUT;
			} else {
				cr_assert_eq(ret, DB_STORED);
				/*
				 * Every owner registers from one RLOC: without merge, a new
				 * owner with another's locator set is that ETR restarted
				 * (D13) and replaces the newest such registration in place.
				 */
				uint64_t rank = ++rank_seq;
				int restarted = -1;
				for (int x = 0; !mr->on && !merge && x < NOWN; x++) {
					const struct mreg *xr = &m->reg[x];
					if (x != o && xr->on && !xr->merge && xr->locset == ls &&
					    (restarted < 0 || xr->rank > m->reg[restarted].rank))
						restarted = x;
				}
				if (restarted >= 0) {
					rank = m->reg[restarted].rank;
					m->reg[restarted].on = false;
				}
				*mr = (struct mreg){ .on = true,
						     .locset = ls,
						     .merge = merge,
						     .deadline = now + TIMEOUT,
						     .rank = rank };
			}
		} else if (kind < 8) {
			struct eid_prefix p =
			    nmodel > 0 && rnd() % 4 ? model[rnd() % nmodel].p : gen();
			int o = (int)(rnd() % NOWN);
			struct db_owner ow = owner(o);
			int ret = db_withdraw(db, &p, &ow, &sink);
			struct mpfx *m = mfind(&p);
			if (m != NULL && m->reg[o].on) {
				cr_assert_eq(ret, DB_WITHDRAWN);
				m->reg[o].on = false;
				mdrop_empty();
			} else {
				cr_assert_eq(ret, LISPMS_ENOENT);
			}
		} else {
			now += rnd() % 20;
			size_t want = 0;
			for (size_t i = 0; i < nmodel; i++)
				for (int o = 0; o < NOWN; o++)
					if (model[i].reg[o].on && model[i].reg[o].deadline <= now) {
						model[i].reg[o].on = false;
						want++;
					}
			mdrop_empty();
			cr_assert_eq(db_expire_run(db, S(now), &sink), want, "expired at %u", now);
		}
		check_all(db);
	}
	struct db_stats st;
	db_stats_get(db, &st);
	cr_assert_eq(st.prefixes, nmodel);
	cr_assert_lt(st.locsets, 2 * NLOCS + 40, "locator sets are shared: %zu", st.locsets);
	now += 10 * TIMEOUT;
	db_expire_run(db, S(now), &sink);
	db_stats_get(db, &st);
	cr_assert_eq(st.prefixes, 0);
	cr_assert_eq(st.registrations, 0);
	cr_assert_eq(st.mappings + st.locsets + st.nodes, 0, "everything released");
	db_free(db);
	free(model);
	thread_unregister();
}
