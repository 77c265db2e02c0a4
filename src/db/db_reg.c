/* SPDX-License-Identifier: MIT */
/*
 * The writers: registrations, their sessions and expiry, and the mappings
 * readers see (src/db/README.md, "Concurrency", "Expiry", "Mappings").
 */
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

/* ---- sessions ---- */

static struct isess *isess_find(struct db_iid *in, uint64_t id)
{
	uint64_t h = hash_mix(0, id);
	for (struct hnode *x = hmap_first(&in->sessions, h); x != NULL; x = hmap_next(x, h)) {
		struct isess *s = caa_container_of(x, struct isess, hn);
		if (s->id == id)
			return s;
	}
	return NULL;
}

/* Remember that session id has registrations in instance in. */
static int sess_note_iid(struct db *db, uint64_t id, struct db_iid *in)
{
	int ret = LISPMS_EOK;
	uint64_t h = hash_mix(0, id);
	pthread_mutex_lock(&db->sess_lock);
	struct sess_iids *s = NULL;
	for (struct hnode *x = hmap_first(&db->sess, h); x != NULL; x = hmap_next(x, h)) {
		struct sess_iids *c = caa_container_of(x, struct sess_iids, hn);
		if (c->id == id) {
			s = c;
			break;
		}
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL) {
			ret = LISPMS_ENOMEM;
			goto out_unlock;
		}
		s->id = id;
		hmap_insert(&db->sess, &s->hn, h);
	}
	if (s->n == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 4;
		struct db_iid **v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL) {
			ret = LISPMS_ENOMEM;
			goto out_unlock;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = in;
out_unlock:
	pthread_mutex_unlock(&db->sess_lock);
	return ret;
}

static struct isess *isess_get(struct db_iid *in, uint64_t id)
{
	struct isess *s = isess_find(in, id);
	if (s != NULL)
		return s;
	s = malloc(sizeof(*s));
	if (s == NULL)
		return NULL;
	if (sess_note_iid(in->db, id, in) != LISPMS_EOK) {
		free(s);
		return NULL;
	}
	s->id = id;
	s->n = 0;
	CDS_INIT_LIST_HEAD(&s->regs);
	hmap_insert(&in->sessions, &s->hn, hash_mix(0, id));
	return s;
}

/* ---- registrations ---- */

static uint32_t deadline(const struct db_iid *in, const struct db_tmpl *t, uint32_t now_s)
{
	uint64_t dur = (t->m.flags & DB_F_TTL)
			   ? (uint64_t)t->m.ttl * 60u
			   : atomic_load_explicit(&in->db->timeout_s, memory_order_relaxed);
	uint64_t d = (uint64_t)now_s + dur;
	if (d >= REG_NEVER)
		d = REG_NEVER - 1;
	return d == REG_DEAD ? 1 : (uint32_t)d;
}

/* File a new registration on its session (isess given) or on the wheel. */
static void reg_bind(struct db_iid *in, struct db_reg *r, struct isess *s, uint32_t now_s)
{
	if (s != NULL) {
		atomic_store_explicit(&r->expires, REG_NEVER, memory_order_relaxed);
		cds_list_add(&r->link, &s->regs);
		s->n++;
	} else {
		uint32_t d = deadline(in, r->tmpl, now_s);
		atomic_store_explicit(&r->expires, d, memory_order_relaxed);
		wheel_add(&in->wheel, &r->link, d);
	}
}

static void reg_free(void *p)
{
	free(p);
}

/* Retire r (already unlinked from its entry's list, or about to be). */
static void reg_retire(struct db_iid *in, struct db_reg *r, bool filed)
{
	uint32_t old = atomic_exchange_explicit(&r->expires, REG_DEAD, memory_order_acq_rel);
	if (filed) {
		if (old == REG_NEVER) {
			/* a bound registration's contents name its session */
			struct isess *s = isess_find(in, r->tmpl->m.owner.session);
			if (s != NULL && s->n > 0)
				s->n--;
			cds_list_del(&r->link);
		} else
			wheel_del(&in->wheel, &r->link);
	}
	tmpl_put(in, r->tmpl);
	reclaim_push_w(&in->rc, reg_free, r);
	in->regs--;
	counters_gauge_add(LISPMS_M_DB_REGISTRATIONS, -1);
}

/* Unlink r from its entry's list (publishing the change). */
static void reg_unlink(struct db_entry *e, struct db_reg *r)
{
	struct db_reg **pp = &e->regs;
	while (*pp != NULL && *pp != r)
		pp = &(*pp)->next;
	if (*pp == r)
		lrcu_publish(pp, r->next);
}

/* ---- mappings ---- */

/* The mapping the entry's registrations give, with a reference for it. */
static struct db_tmpl *map_derive(struct db_iid *in, struct db_entry *e)
{
	struct db_reg *newest = e->regs;
	unsigned n = 0, nlocs = 0;
	bool merge = true;
	for (struct db_reg *r = newest; r != NULL; r = r->next) {
		n++;
		nlocs += r->tmpl->m.locs->count;
		if (!(r->tmpl->m.flags & DB_F_MERGE))
			merge = false;
	}
	if (n < 2 || !merge)
		goto out_newest;

	struct db_locator *u = malloc((nlocs ? nlocs : 1) * sizeof(*u));
	if (u == NULL)
		goto out_newest;
	unsigned k = 0;
	uint32_t ttl = UINT32_MAX;
	uint16_t flags = DB_F_MERGE | DB_F_MERGED;
	for (struct db_reg *r = newest; r != NULL; r = r->next) {
		const struct db_mapping *m = &r->tmpl->m;
		if (m->ttl < ttl)
			ttl = m->ttl;
		flags |= m->flags & DB_F_PROXY;
		for (unsigned i = 0; i < m->locs->count; i++) {
			bool dup = false;
			for (unsigned j = 0; j < k && !dup; j++)
				dup = addr_eq(&u[j].addr, &m->locs->loc[i].addr);
			if (!dup && k < LISPMS_DB_MAX_LOCATORS)
				u[k++] = m->locs->loc[i];
		}
	}
	struct db_lsi *lsi = lsi_get(in, u, k);
	free(u);
	if (lsi == NULL)
		goto out_newest;
	struct db_owner none;
	memset(&none, 0, sizeof(none));
	struct tmpl_attrs a = { .ttl = ttl, .flags = flags, .site = newest->tmpl->m.site };
	struct db_tmpl *t = tmpl_get(in, &none, lsi, &a);
	if (t != NULL)
		return t;
out_newest:
	newest->tmpl->refs++;
	return newest->tmpl;
}

static unsigned map_changes(const struct db_mapping *a, const struct db_mapping *b)
{
	unsigned c = 0;
	if (!owner_key_eq(&a->owner, &b->owner) ||
	    (a->flags & DB_F_MERGED) != (b->flags & DB_F_MERGED))
		c |= DB_CH_OWNER;
	if (a->locs != b->locs)
		c |= DB_CH_LOCATORS;
	if (a->ttl != b->ttl || a->flags != b->flags || a->site != b->site ||
	    a->key_id != b->key_id || a->alg_id != b->alg_id || !owner_eq(&a->owner, &b->owner))
		c |= DB_CH_OTHER;
	return c;
}

static void emit(const struct db_iid *in, const struct db_entry *e, enum db_event_type type,
		 const struct db_mapping *old_map, const struct db_mapping *new_map,
		 const struct db_owner *cause, const struct db_sink *sink)
{
	counters_inc(LISPMS_M_DB_EVENTS);
	if (sink == NULL || sink->fn == NULL)
		return;
	struct db_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.old_map = old_map;
	ev.new_map = new_map;
	ev.changes = old_map != NULL && new_map != NULL ? map_changes(old_map, new_map) : 0;
	ev.cause = *cause;
	entry_prefix(in, e, &ev.prefix);
	sink->fn(&ev, sink->arg);
}

/* Recompute e's mapping after its registrations changed; report a change. */
static void map_update(struct db_iid *in, struct db_entry *e, const struct db_owner *cause,
		       const struct db_sink *sink)
{
	struct db_tmpl *nt = map_derive(in, e);
	struct db_mapping *old = e->map;
	if (&nt->m == old) {
		tmpl_put(in, nt);
		return;
	}
	lrcu_publish(&e->map, &nt->m);
	emit(in, e, DB_EV_CHANGED, old, &nt->m, cause, sink);
	tmpl_put(in, tmpl_of(old));
}

static void entry_free(void *p)
{
	free(p);
}

/* The entry lost its last registration: take it out of the trie. */
static void entry_remove(struct db_iid *in, struct db_entry *e, enum db_event_type type,
			 const struct db_owner *cause, const struct db_sink *sink)
{
	struct trie_leaf *out;
	int ret = trie_remove_w(&in->trie[e->af], e->leaf.key, e->leaf.plen, &in->rc, &out);
	REQUIRE(ret == LISPMS_EOK && out == &e->leaf);
	if (e->leaf.plen == in->trie[e->af].key_bits)
		hidx_remove_w(in->hidx[e->af], &e->leaf, in->trie[e->af].key_len);
	e->dead = true;
	emit(in, e, type, e->map, NULL, cause, sink);
	tmpl_put(in, tmpl_of(e->map));
	reclaim_push_w(&in->rc, entry_free, e);
	in->prefixes--;
	in->af_prefixes[e->af]--;
	counters_gauge_add(LISPMS_M_DB_PREFIXES, -1);
}

/* r leaves its entry (withdrawn or expired); r is already off the wheel if !filed. */
static void reg_drop(struct db_iid *in, struct db_reg *r, bool filed, enum db_event_type type,
		     const struct db_sink *sink)
{
	struct db_entry *e = r->entry;
	struct db_owner cause = r->tmpl->m.owner;
	reg_unlink(e, r);
	reg_retire(in, r, filed);
	if (e->regs == NULL)
		entry_remove(in, e, type, &cause, sink);
	else
		map_update(in, e, &cause, sink);
}

/* ---- public: writers ---- */

static int check_prefix(const struct eid_prefix *p)
{
	int af = af_index(p->afi);
	if (af < 0)
		return LISPMS_EAFI;
	if (p->plen > lisp_afi_bits(p->afi))
		return LISPMS_EINVAL;
	return af;
}

static struct db_reg *reg_find(const struct db_entry *e, const struct db_owner *o)
{
	for (struct db_reg *r = lrcu_deref(e->regs); r != NULL; r = lrcu_deref(r->next))
		if (owner_key_eq(&r->tmpl->m.owner, o))
			return r;
	return NULL;
}

/*
 * D13: an ETR that restarts may come back under a new xTR-ID (lispers.net
 * picks one per start) from the same RLOC with the same locator set. Without
 * merge, that registration replaces the old one: the dead instance keeps no
 * registration (and no notifications) until its timeout. t is the new
 * contents, interned in the same instance (locator sets compare by pointer).
 */
static struct db_reg *reg_restarted(const struct db_entry *e, const struct db_tmpl *t)
{
	if (t->m.flags & DB_F_MERGE)
		return NULL;
	for (struct db_reg *r = e->regs; r != NULL; r = r->next) {
		const struct db_mapping *m = &r->tmpl->m;
		if (!(m->flags & DB_F_MERGE) && m->locs == t->m.locs &&
		    addr_eq(&m->owner.rloc, &t->m.owner.rloc) &&
		    !owner_key_eq(&m->owner, &t->m.owner))
			return r;
	}
	return NULL;
}

/*
 * The refresh fast path: no lock, no write but one atomic expiry. Called in
 * a read-side section; *found gets the entry it saw, for the slow path.
 */
static bool try_refresh(struct db *db, int af, const struct eid_prefix *p, const struct db_owner *o,
			const struct db_reg_info *r, uint32_t now_s, struct db_entry **found)
{
	bool done = false;
	struct db_iid *in = db_instance(db, p->iid);
	struct db_entry *e = in != NULL ? entry_lookup(in, af, p) : NULL;
	*found = e;
	struct db_reg *reg = e != NULL ? reg_find(e, o) : NULL;
	if (reg == NULL || !tmpl_matches(reg->tmpl, o, r))
		goto out;
	uint32_t cur = atomic_load_explicit(&reg->expires, memory_order_acquire);
	if (o->session != 0) {
		done = cur == REG_NEVER; /* still bound to its up session */
		goto out;
	}
	uint32_t d = deadline(in, reg->tmpl, now_s);
	/* a dead or due registration goes through the writer (and the expiry) */
	while (cur != REG_DEAD && cur != REG_NEVER && cur >= now_s) {
		if (d <= cur || atomic_compare_exchange_weak_explicit(&reg->expires, &cur, d,
								      memory_order_acq_rel,
								      memory_order_acquire)) {
			done = true;
			break;
		}
	}
out:
	return done;
}

static int withdraw_locked(struct db_iid *in, int af, const struct eid_prefix *p,
			   const struct db_owner *o, const struct db_sink *sink)
{
	struct db_entry *e = entry_lookup(in, af, p);
	struct db_reg *r = e != NULL ? reg_find(e, o) : NULL;
	if (r == NULL)
		return LISPMS_ENOENT;
	reg_drop(in, r, true, DB_EV_REMOVED, sink);
	counters_inc(LISPMS_M_DB_REG_WITHDRAWN);
	return DB_WITHDRAWN;
}

/* A registration being applied under the instance mutex: what its paths share. */
struct reg_req {
	struct db_iid *in;
	int af;
	const struct eid_prefix *p;
	const struct db_owner *o;
	uint32_t now_s;
	const struct db_sink *sink;
	struct isess *s;   /* the up session it binds to, NULL: a UDP registration */
	struct db_tmpl *t; /* its interned contents (this request holds a reference) */
};

/* Identical contents, e.g. due or rebound: only the expiry moves. */
static int reg_same(const struct reg_req *q, struct db_reg *old)
{
	struct db_iid *in = q->in;
	uint32_t cur = atomic_load_explicit(&old->expires, memory_order_acquire);
	if (q->s != NULL && cur != REG_NEVER) {
		wheel_del(&in->wheel, &old->link);
		reg_bind(in, old, q->s, q->now_s);
	} else if (q->s == NULL) {
		uint32_t d = deadline(in, q->t, q->now_s);
		while (d > cur && !atomic_compare_exchange_weak_explicit(&old->expires, &cur, d,
									 memory_order_acq_rel,
									 memory_order_acquire))
			;
	}
	tmpl_put(in, q->t);
	counters_inc(LISPMS_M_DB_REG_REFRESHED);
	return DB_REFRESHED;
}

/*
 * A prefix not in the trie: a new entry with n as its only registration.
 * DB_STORED; otherwise nothing is kept of it (n and the reference to t are
 * the caller's), LISPMS_EEXIST when it was inserted since the fast path
 * looked.
 */
static int reg_new_entry(const struct reg_req *q, struct db_reg *n)
{
	struct db_iid *in = q->in;
	int af = q->af;
	const struct eid_prefix *p = q->p;
	struct db_tmpl *t = q->t;
	size_t klen = in->trie[af].key_len;
	bool host = p->plen == in->trie[af].key_bits;
	if (host && hidx_reserve_w(&in->hidx[af], (unsigned)klen) != LISPMS_EOK)
		return LISPMS_ENOMEM;
	struct db_entry *e = malloc(sizeof(*e) + klen);
	if (e == NULL)
		return LISPMS_ENOMEM;
	e->af = (uint8_t)af;
	e->dead = false;
	e->leaf.plen = p->plen;
	memcpy(e->leaf.key, p->bytes, klen);
	e->regs = n;
	e->map = &t->m;
	n->entry = e;
	int ret = trie_insert_w(&in->trie[af], &e->leaf);
	if (ret != LISPMS_EOK) {
		free(e);
		return ret;
	}
	if (host)
		hidx_insert_w(&in->hidx[af], &e->leaf, (unsigned)klen);
	t->refs++; /* as the entry's mapping */
	reg_bind(in, n, q->s, q->now_s);
	in->prefixes++;
	in->af_prefixes[af]++;
	in->regs++;
	counters_gauge_add(LISPMS_M_DB_PREFIXES, 1);
	counters_gauge_add(LISPMS_M_DB_REGISTRATIONS, 1);
	counters_inc(LISPMS_M_DB_REG_ADDED);
	emit(in, e, DB_EV_ADDED, NULL, e->map, q->o, q->sink);
	return DB_STORED;
}

/*
 * A prefix in the trie: n joins its registrations, replacing old (the same
 * owner's, or the one a restarted ETR left: restart) when there is one.
 */
static int reg_into_entry(const struct reg_req *q, struct db_entry *e, struct db_reg *n,
			  struct db_reg *old, bool restart)
{
	struct db_iid *in = q->in;
	n->entry = e;
	reg_bind(in, n, q->s, q->now_s);
	in->regs++;
	counters_gauge_add(LISPMS_M_DB_REGISTRATIONS, 1);
	if (old != NULL) {
		const struct db_mapping *om = &old->tmpl->m;
		bool same_place = om->locs == q->t->m.locs && om->ttl == q->t->m.ttl &&
				  (om->flags & ~DB_F_TTL) == (q->t->m.flags & ~DB_F_TTL);
		if (same_place) {
			/* only site, session or port moved: keep its rank */
			n->next = old->next;
			struct db_reg **pp = &e->regs;
			while (*pp != old)
				pp = &(*pp)->next;
			lrcu_publish(pp, n);
		} else {
			n->next = e->regs;
			lrcu_publish(&e->regs, n);
			reg_unlink(e, old);
		}
		reg_retire(in, old, true);
		counters_inc(restart ? LISPMS_M_DB_REG_RESTARTED : LISPMS_M_DB_REG_CHANGED);
	} else {
		n->next = e->regs;
		lrcu_publish(&e->regs, n);
		counters_inc(LISPMS_M_DB_REG_ADDED);
	}
	map_update(in, e, q->o, q->sink);
	return DB_STORED;
}

static int register_locked(struct db_iid *in, int af, const struct eid_prefix *p,
			   const struct db_owner *o, const struct db_reg_info *r, uint32_t now_s,
			   struct db_entry *hint, const struct db_sink *sink)
{
	struct reg_req q = { in, af, p, o, now_s, sink, NULL, NULL };
	if (o->session != 0) {
		q.s = isess_get(in, o->session);
		if (q.s == NULL)
			return LISPMS_ENOMEM;
	}
	q.t = tmpl_intern(in, o, r);
	if (q.t == NULL)
		return LISPMS_ENOMEM;

	/*
	 * The entry the fast path saw is still the one in the trie unless it
	 * was removed since (entries are never replaced). Without one, try to
	 * insert and look up only if someone inserted it meanwhile.
	 */
	struct db_entry *e = hint != NULL && !hint->dead ? hint : NULL;
	struct db_reg *old = e != NULL ? reg_find(e, o) : NULL;
	bool restart = false;
	if (old == NULL && e != NULL) {
		old = reg_restarted(e, q.t);
		restart = old != NULL;
	}
	if (old != NULL && old->tmpl == q.t)
		return reg_same(&q, old);

	struct db_reg *n = malloc(sizeof(*n));
	if (n == NULL) {
		tmpl_put(in, q.t);
		return LISPMS_ENOMEM;
	}
	n->tmpl = q.t;
	n->next = NULL;
	if (e != NULL)
		return reg_into_entry(&q, e, n, old, restart);
	int ret = reg_new_entry(&q, n);
	if (ret == DB_STORED)
		return ret;
	free(n);
	tmpl_put(in, q.t);
	if (ret == LISPMS_EEXIST) /* inserted since the fast path looked: start over with it */
		return register_locked(in, af, p, o, r, now_s, entry_lookup(in, af, p), sink);
	return ret;
}

/* Hold the mutex of in (and of no other instance) in *held. */
static void hold(struct db_iid **held, struct db_iid *in)
{
	if (*held == in)
		return;
	if (*held != NULL)
		pthread_mutex_unlock(&(*held)->lock);
	pthread_mutex_lock(&in->lock);
	*held = in;
}

/*
 * One record, in a read-side section; the mutex of *held (NULL: none) may
 * be held on entry and the one the record needed is on return, so that a
 * batch takes it once. One read-side section across the mutex keeps the
 * refresh check's entry valid for register_locked.
 */
static int register_one(struct db *db, const struct eid_prefix *p, const struct db_reg_info *r,
			uint64_t now_ns, const struct db_sink *sink, struct db_iid **held)
{
	int af = check_prefix(p);
	if (af < 0)
		return af;
	if (r->nlocs > LISPMS_DB_MAX_LOCATORS)
		return LISPMS_ETOOMANY;
	if (r->nlocs > 0 && r->locs == NULL)
		return LISPMS_EINVAL;
	struct db_owner o = r->owner;
	owner_norm(&o);
	struct db_iid *in;
	int ret;
	if (r->ttl == 0) {
		in = db_instance(db, p->iid);
		if (in == NULL)
			return LISPMS_ENOENT;
		hold(held, in);
		ret = reclaim_reserve_w(&in->rc, RESERVE);
		return ret == LISPMS_EOK ? withdraw_locked(in, af, p, &o, sink) : ret;
	}

	uint32_t now_s = now_sec(now_ns);
	struct db_entry *hint;
	if (try_refresh(db, af, p, &o, r, now_s, &hint)) {
		counters_inc(LISPMS_M_DB_REG_REFRESHED);
		return DB_REFRESHED;
	}
	in = iid_get(db, p->iid, now_s);
	if (in == NULL)
		return LISPMS_ENOMEM;
	if (hint == NULL) /* a new prefix: where its insert starts loads during the mutex wait */
		trie_insert_prefetch(&in->trie[af], p->bytes, p->plen);
	hold(held, in);
	ret = reclaim_reserve_w(&in->rc, RESERVE);
	if (ret == LISPMS_EOK)
		ret = register_locked(in, af, p, &o, r, now_s, hint, sink);
	return ret;
}

int db_register(struct db *db, const struct eid_prefix *p, const struct db_reg_info *r,
		uint64_t now_ns, const struct db_sink *sink)
{
	struct db_iid *held = NULL;
	lrcu_read_lock();
	int ret = register_one(db, p, r, now_ns, sink, &held);
	if (held != NULL)
		pthread_mutex_unlock(&held->lock);
	lrcu_read_unlock();
	return ret;
}

/*
 * Bring the index slots and trie paths of up to LISPMS_TRIE_BATCH records
 * of instance in into cache together: the host index first, then the trie
 * paths of the prefixes it does not hold (new ones, or not hosts).
 */
static void register_warm(const struct db_iid *in, const struct eid_prefix *const ps[], unsigned k)
{
	for (int af = 0; af < DB_NAF; af++) {
		const struct trie *t = &in->trie[af];
		const uint8_t *hk[LISPMS_TRIE_BATCH], *tk[LISPMS_TRIE_BATCH];
		unsigned tp[LISPMS_TRIE_BATCH];
		struct trie_leaf *hr[LISPMS_TRIE_BATCH];
		unsigned nh = 0, nt = 0;
		for (unsigned i = 0; i < k; i++) {
			const struct eid_prefix *p = ps[i];
			if (p->iid != in->iid || af_index(p->afi) != af || p->plen > t->key_bits)
				continue;
			if (p->plen == t->key_bits) {
				hk[nh++] = p->bytes;
			} else {
				tk[nt] = p->bytes;
				tp[nt++] = p->plen;
			}
		}
		if (nh + nt == 0)
			continue;
		if (nh > 0) {
			hidx_lookup_batch(lrcu_deref(in->hidx[af]), hk, nh, t->key_len, hr);
			for (unsigned i = 0; i < nh; i++) {
				if (hr[i] != NULL) {
					/* present: the refresh check reads the entry's
					 * registrations */
					const struct db_entry *e =
					    caa_container_of(hr[i], struct db_entry, leaf);
					__builtin_prefetch(lrcu_deref(e->regs));
					continue;
				}
				tk[nt] = hk[i];
				tp[nt++] = t->key_bits;
			}
		}
		trie_touch_batch(t, tk, tp, nt);
	}
}

void db_register_batch(struct db *db, const struct eid_prefix *const ps[],
		       const struct db_reg_info *const rs[], unsigned n, uint64_t now_ns,
		       const struct db_sink *sink, int out[])
{
	for (unsigned base = 0; base < n; base += LISPMS_TRIE_BATCH) {
		unsigned k = n - base < LISPMS_TRIE_BATCH ? n - base : LISPMS_TRIE_BATCH;
		struct db_iid *held = NULL;
		lrcu_read_lock();
		struct db_iid *in = db_instance(db, ps[base]->iid);
		/* one record: nothing to overlap, the warm-up would only repeat the probe */
		if (in != NULL && k > 1)
			register_warm(in, ps + base, k);
		/* in order, the mutex taken once for the records that change something */
		for (unsigned i = 0; i < k; i++)
			out[base + i] =
			    register_one(db, ps[base + i], rs[base + i], now_ns, sink, &held);
		if (held != NULL)
			pthread_mutex_unlock(&held->lock);
		lrcu_read_unlock();
	}
}

void db_warm(const struct db *db, const struct eid_prefix *const ps[], unsigned n)
{
	for (unsigned base = 0; base < n; base += LISPMS_TRIE_BATCH) {
		unsigned k = n - base < LISPMS_TRIE_BATCH ? n - base : LISPMS_TRIE_BATCH;
		const struct db_iid *in = db_instance(db, ps[base]->iid);
		if (in != NULL)
			register_warm(in, ps + base, k);
	}
}

int db_withdraw(struct db *db, const struct eid_prefix *p, const struct db_owner *owner,
		const struct db_sink *sink)
{
	int af = check_prefix(p);
	if (af < 0)
		return af;
	struct db_owner o = *owner;
	owner_norm(&o);
	lrcu_read_lock();
	struct db_iid *in = db_instance(db, p->iid);
	lrcu_read_unlock();
	if (in == NULL)
		return LISPMS_ENOENT;
	pthread_mutex_lock(&in->lock);
	int ret = reclaim_reserve_w(&in->rc, RESERVE);
	if (ret == LISPMS_EOK)
		ret = withdraw_locked(in, af, p, &o, sink);
	pthread_mutex_unlock(&in->lock);
	return ret;
}

size_t db_session_down(struct db *db, uint64_t session, uint64_t now_ns)
{
	uint32_t now_s = now_sec(now_ns);
	uint64_t h = hash_mix(0, session);
	struct sess_iids *s = NULL;
	pthread_mutex_lock(&db->sess_lock);
	for (struct hnode *x = hmap_first(&db->sess, h); x != NULL; x = hmap_next(x, h)) {
		struct sess_iids *c = caa_container_of(x, struct sess_iids, hn);
		if (c->id == session) {
			s = c;
			hmap_remove(&db->sess, x);
			break;
		}
	}
	pthread_mutex_unlock(&db->sess_lock);
	if (s == NULL)
		return 0;

	size_t moved = 0;
	for (unsigned i = 0; i < s->n; i++) {
		struct db_iid *in = s->v[i];
		pthread_mutex_lock(&in->lock);
		struct isess *is = isess_find(in, session);
		if (is != NULL) {
			while (!cds_list_empty(&is->regs)) {
				struct db_reg *r =
				    caa_container_of(is->regs.next, struct db_reg, link);
				cds_list_del(&r->link);
				reg_bind(in, r, NULL, now_s);
				moved++;
			}
			hmap_remove(&in->sessions, &is->hn);
			free(is);
		}
		pthread_mutex_unlock(&in->lock);
	}
	free(s->v);
	free(s);
	return moved;
}

size_t db_session_regs(struct db *db, uint64_t session)
{
	uint64_t h = hash_mix(0, session);
	struct db_iid *iids[64], **v = iids;
	unsigned n = 0;
	/* copy the instance list: instance locks are taken before sess_lock, never inside */
	pthread_mutex_lock(&db->sess_lock);
	for (struct hnode *x = hmap_first(&db->sess, h); x != NULL; x = hmap_next(x, h)) {
		struct sess_iids *c = caa_container_of(x, struct sess_iids, hn);
		if (c->id != session)
			continue;
		if (c->n > sizeof(iids) / sizeof(iids[0]))
			v = malloc(c->n * sizeof(*v));
		if (v != NULL) {
			memcpy(v, c->v, c->n * sizeof(*v));
			n = c->n;
		}
		break;
	}
	pthread_mutex_unlock(&db->sess_lock);
	if (v == NULL)
		return 0;
	size_t total = 0;
	for (unsigned i = 0; i < n; i++) {
		pthread_mutex_lock(&v[i]->lock);
		struct isess *is = isess_find(v[i], session);
		if (is != NULL)
			total += is->n;
		pthread_mutex_unlock(&v[i]->lock);
	}
	if (v != iids)
		free(v);
	return total;
}

static size_t expire_iid(struct db_iid *in, uint32_t now_s, const struct db_sink *sink)
{
	size_t expired = 0;
	bool more = true;
	while (more) {
		pthread_mutex_lock(&in->lock);
		for (unsigned budget = EXPIRE_CHUNK; budget > 0; budget--) {
			if (reclaim_reserve_w(&in->rc, RESERVE) != LISPMS_EOK) {
				more = false;
				break;
			}
			struct cds_list_head *item = wheel_next(&in->wheel, now_s);
			if (item == NULL) {
				more = false;
				break;
			}
			struct db_reg *r = caa_container_of(item, struct db_reg, link);
			uint32_t cur = atomic_load_explicit(&r->expires, memory_order_acquire);
			if (cur > now_s || !atomic_compare_exchange_strong_explicit(
					       &r->expires, &cur, REG_DEAD, memory_order_acq_rel,
					       memory_order_acquire)) {
				/* refreshed since it was filed: file it again */
				wheel_add(&in->wheel, item, cur);
				continue;
			}
			reg_drop(in, r, false, DB_EV_EXPIRED, sink);
			counters_inc(LISPMS_M_DB_REG_EXPIRED);
			expired++;
		}
		reclaim_flush_w(&in->rc);
		pthread_mutex_unlock(&in->lock);
	}
	return expired;
}

size_t db_expire_run(struct db *db, uint64_t now_ns, const struct db_sink *sink)
{
	uint32_t now_s = now_sec(now_ns);
	struct db_iid **v;
	size_t n = iid_snapshot(db, &v);
	size_t expired = 0;
	for (size_t i = 0; i < n; i++)
		expired += expire_iid(v[i], now_s, sink);
	free(v);
	return expired;
}
