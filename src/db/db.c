/* SPDX-License-Identifier: MIT */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <lispms/assert.h>
#include <lispms/counters.h>
#include <lispms/db.h>
#include <lispms/db/reclaim.h>
#include <lispms/db/trie.h>
#include <lispms/err.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>

#include "hidx.h"
#include "hmap.h"
#include "wheel.h"

#define DB_NAF		  3 /* IPv4, IPv6, MAC */
#define REG_DEAD	  0u
#define REG_NEVER	  UINT32_MAX
#define DEFAULT_TIMEOUT_S 180u
#define EXPIRE_CHUNK	  4096u /* registrations expired per mutex hold */
#define RESERVE		  16u	/* deferred frees one change can need */

/* Interned locator set: readers see ls. */
struct db_lsi {
	struct hnode hn;
	uint32_t refs;
	struct db_locset ls; /* last: locators follow */
};

/* Interned registration contents, also used as a merged mapping. */
struct db_tmpl {
	struct hnode hn;
	uint32_t refs; /* registrations + entries (as their mapping) using it */
	struct db_mapping m;
};

/* One xTR's registration for one prefix. Immutable but for expires. */
struct db_reg {
	struct db_reg *next;	   /* RCU: next older registration of the prefix */
	struct db_tmpl *tmpl;	   /* immutable */
	struct cds_list_head link; /* wheel slot, or session list while bound */
	struct db_entry *entry;
	_Atomic uint32_t expires; /* deadline (s), REG_NEVER while bound, REG_DEAD */
};

/* A prefix with at least one registration: a trie leaf. */
struct db_entry {
	struct db_mapping *map; /* RCU: what Map-Requests see */
	struct db_reg *regs;	/* RCU: newest first */
	uint8_t af;
	bool dead;	       /* out of the trie (set under the instance mutex) */
	struct trie_leaf leaf; /* last: key bytes follow */
};

/* Memory per /32 EID: node 32 + entry 24 (32 class) + registration 48. */
_Static_assert(sizeof(struct db_reg) <= 48, "registration grew past a 48-byte class");
_Static_assert(sizeof(struct db_entry) + 4 <= 32, "IPv4 entry grew past a 32-byte class");
/* The key of a registration (D21) lives in its interned contents' padding. */
_Static_assert(sizeof(struct db_mapping) <= 72, "registration contents grew");

/* Registrations of one session in one instance. */
struct isess {
	struct hnode hn;
	uint64_t id;
	size_t n; /* registrations on regs (db_session_regs) */
	struct cds_list_head regs;
};

struct db_iid {
	struct cds_lfht_node lnode;
	uint32_t iid;
	struct db *db;
	pthread_mutex_t lock;
	struct trie trie[DB_NAF];
	struct hidx *hidx[DB_NAF]; /* RCU: host entries of each trie */
	struct hmap tmpls, locsets, sessions;
	struct db_tmpl *last_tmpl; /* interned last, or NULL; no reference held */
	struct wheel wheel;
	struct reclaim rc;
	size_t prefixes, regs;
	size_t af_prefixes[DB_NAF]; /* prefixes of each family (db_iid_stats_get) */
};

/* Instances where a session has registrations (for db_session_down). */
struct sess_iids {
	struct hnode hn;
	uint64_t id;
	unsigned n, cap;
	struct db_iid **v;
};

struct db {
	struct cds_lfht *iids;
	uint64_t serial;	    /* unique per db_new(), for the per-thread instance cache */
	_Atomic uint32_t timeout_s; /* db_set_timeout() on reload */
	pthread_mutex_t sess_lock;
	struct hmap sess;
};

static const uint16_t af_afi[DB_NAF] = { LISP_AFI_IPV4, LISP_AFI_IPV6, LISP_AFI_MAC };

static int af_index(uint16_t afi)
{
	switch (afi) {
	case LISP_AFI_IPV4:
		return 0;
	case LISP_AFI_IPV6:
		return 1;
	case LISP_AFI_MAC:
		return 2;
	default:
		return -1;
	}
}

static inline uint32_t now_sec(uint64_t now_ns)
{
	uint64_t s = now_ns / LISPMS_NS_PER_SEC;
	return s >= REG_NEVER ? REG_NEVER - 1 : (uint32_t)s;
}

/*
 * The host entry for key in family af: hidx_lookup with the key length a
 * constant for IPv4 and IPv6, so each call site gets a straight-line probe.
 */
static inline __attribute__((always_inline)) struct trie_leaf *
host_lookup(const struct db_iid *in, int af, const uint8_t *key)
{
	const struct hidx *h = lrcu_deref(in->hidx[af]);
	switch (af) {
	case 0:
		return hidx_lookup(h, key, 4);
	case 1:
		return hidx_lookup(h, key, 16);
	default:
		return hidx_lookup(h, key, in->trie[af].key_len);
	}
}

/* ---- comparison and hashing of what registrations carry ---- */

static void addr_norm(struct lisp_addr *a)
{
	unsigned len = lisp_afi_len(a->afi);
	memset(a->bytes + len, 0, sizeof(a->bytes) - len);
}

static void owner_norm(struct db_owner *o)
{
	if (!o->has_xtr_id)
		memset(o->xtr_id, 0, sizeof(o->xtr_id));
	addr_norm(&o->rloc);
}

/* memcmp(a, b, n) == 0 with word compares for the usual 4 and 16 bytes (no libc call). */
static inline bool bytes_eq(const uint8_t *a, const uint8_t *b, unsigned n)
{
	if (n == 4) {
		uint32_t x, y;
		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
		return x == y;
	}
	if (n == 16) {
		uint64_t x[2], y[2];
		memcpy(x, a, 16);
		memcpy(y, b, 16);
		return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
	}
	return memcmp(a, b, n) == 0;
}

static bool addr_eq(const struct lisp_addr *a, const struct lisp_addr *b)
{
	return a->afi == b->afi && bytes_eq(a->bytes, b->bytes, lisp_afi_len(a->afi));
}

/* Same registrant: the key registrations are stored under. */
static bool owner_key_eq(const struct db_owner *a, const struct db_owner *b)
{
	if (a->has_xtr_id != b->has_xtr_id)
		return false;
	if (a->has_xtr_id)
		return bytes_eq(a->xtr_id, b->xtr_id, sizeof(a->xtr_id));
	return addr_eq(&a->rloc, &b->rloc);
}

static bool owner_eq(const struct db_owner *a, const struct db_owner *b)
{
	return owner_key_eq(a, b) && a->port == b->port && a->session == b->session &&
	       addr_eq(&a->rloc, &b->rloc);
}

static uint64_t owner_hash(uint64_t h, const struct db_owner *o)
{
	h = hash_bytes(h, o->xtr_id, sizeof(o->xtr_id));
	h = hash_mix(h, (uint64_t)o->has_xtr_id << 32 | (uint64_t)o->port << 16 | o->rloc.afi);
	h = hash_bytes(h, o->rloc.bytes, sizeof(o->rloc.bytes));
	return hash_mix(h, o->session);
}

static bool loc_eq(const struct db_locator *a, const struct db_locator *b)
{
	return a->priority == b->priority && a->weight == b->weight &&
	       a->mpriority == b->mpriority && a->mweight == b->mweight && a->flags == b->flags &&
	       addr_eq(&a->addr, &b->addr);
}

static bool locs_eq(const struct db_locset *ls, const struct db_locator *locs, unsigned n)
{
	if (ls->count != n)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (!loc_eq(&ls->loc[i], &locs[i]))
			return false;
	return true;
}

static uint64_t locs_hash(const struct db_locator *locs, unsigned n)
{
	uint64_t h = hash_mix(0x5bd1e995u, n);
	for (unsigned i = 0; i < n; i++) {
		const struct db_locator *l = &locs[i];
		h = hash_mix(h, (uint64_t)l->priority << 40 | (uint64_t)l->weight << 32 |
				    (uint64_t)l->mpriority << 24 | (uint64_t)l->mweight << 16 |
				    l->flags);
		h = hash_mix(h, l->addr.afi);
		h = hash_bytes(h, l->addr.bytes, lisp_afi_len(l->addr.afi));
	}
	return h;
}

/* What registration contents hold beside owner and locators. */
struct tmpl_attrs {
	uint32_t ttl;
	uint16_t flags;
	uint8_t key_id, alg_id;
	const void *site;
};

static bool attrs_eq(const struct db_mapping *m, const struct tmpl_attrs *a)
{
	return m->ttl == a->ttl && m->flags == a->flags && m->site == a->site &&
	       m->key_id == a->key_id && m->alg_id == a->alg_id;
}

static struct tmpl_attrs reg_attrs(const struct db_reg_info *r)
{
	return (struct tmpl_attrs){ .ttl = r->ttl,
				    .flags = r->flags,
				    .key_id = r->key_id,
				    .alg_id = r->alg_id,
				    .site = r->site };
}

static uint64_t tmpl_hash(const struct db_owner *o, const struct db_locset *ls,
			  const struct tmpl_attrs *a)
{
	uint64_t h = owner_hash(0x2545f491u, o);
	h = hash_mix(h, (uint64_t)(uintptr_t)ls);
	h = hash_mix(h, (uint64_t)a->key_id << 56 | (uint64_t)a->alg_id << 48 |
			    (uint64_t)a->ttl << 16 | a->flags);
	return hash_mix(h, (uint64_t)(uintptr_t)a->site);
}

/* Does registration contents t say exactly what r says? */
static bool tmpl_matches(const struct db_tmpl *t, const struct db_owner *o,
			 const struct db_reg_info *r)
{
	return t->m.ttl == r->ttl && t->m.flags == r->flags && t->m.site == r->site &&
	       t->m.key_id == r->key_id && t->m.alg_id == r->alg_id && owner_eq(&t->m.owner, o) &&
	       locs_eq(t->m.locs, r->locs, r->nlocs);
}

/* ---- interning (instance mutex held) ---- */

static struct db_lsi *lsi_of(const struct db_locset *ls)
{
	return caa_container_of(ls, struct db_lsi, ls);
}

static struct db_tmpl *tmpl_of(const struct db_mapping *m)
{
	return caa_container_of(m, struct db_tmpl, m);
}

static struct db_lsi *lsi_get(struct db_iid *in, const struct db_locator *locs, unsigned n)
{
	uint64_t h = locs_hash(locs, n);
	for (struct hnode *x = hmap_first(&in->locsets, h); x != NULL; x = hmap_next(x, h)) {
		struct db_lsi *l = caa_container_of(x, struct db_lsi, hn);
		if (locs_eq(&l->ls, locs, n)) {
			l->refs++;
			return l;
		}
	}
	struct db_lsi *l = malloc(sizeof(*l) + n * sizeof(struct db_locator));
	if (l == NULL)
		return NULL;
	l->refs = 1;
	l->ls.count = n;
	for (unsigned i = 0; i < n; i++) {
		l->ls.loc[i] = locs[i];
		addr_norm(&l->ls.loc[i].addr);
	}
	hmap_insert(&in->locsets, &l->hn, h);
	return l;
}

static void lsi_put(struct db_iid *in, struct db_lsi *l)
{
	if (--l->refs > 0)
		return;
	hmap_remove(&in->locsets, &l->hn);
	reclaim_push_w(&in->rc, free, l);
}

/* Find or make the contents; consumes one reference to lsi. */
static struct db_tmpl *tmpl_get(struct db_iid *in, const struct db_owner *o, struct db_lsi *lsi,
				const struct tmpl_attrs *a)
{
	uint64_t h = tmpl_hash(o, &lsi->ls, a);
	for (struct hnode *x = hmap_first(&in->tmpls, h); x != NULL; x = hmap_next(x, h)) {
		struct db_tmpl *t = caa_container_of(x, struct db_tmpl, hn);
		if (t->m.locs == &lsi->ls && attrs_eq(&t->m, a) && owner_eq(&t->m.owner, o)) {
			t->refs++;
			lsi_put(in, lsi);
			return t;
		}
	}
	struct db_tmpl *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		lsi_put(in, lsi);
		return NULL;
	}
	t->refs = 1;
	t->m.locs = &lsi->ls;
	t->m.site = a->site;
	t->m.owner = *o;
	t->m.ttl = a->ttl;
	t->m.flags = a->flags;
	t->m.key_id = a->key_id;
	t->m.alg_id = a->alg_id;
	hmap_insert(&in->tmpls, &t->hn, h);
	return t;
}

static void tmpl_put(struct db_iid *in, struct db_tmpl *t)
{
	if (--t->refs > 0)
		return;
	if (in->last_tmpl == t)
		in->last_tmpl = NULL;
	hmap_remove(&in->tmpls, &t->hn);
	lsi_put(in, lsi_of(t->m.locs));
	reclaim_push_w(&in->rc, free, t);
}

/*
 * The interned contents of r, with a reference. An ETR registers its EIDs
 * with one owner and locator set: the contents interned last usually match,
 * and comparing them costs far less than hashing locators and owner for
 * the two tables.
 */
static struct db_tmpl *tmpl_intern(struct db_iid *in, const struct db_owner *o,
				   const struct db_reg_info *r)
{
	struct db_tmpl *t = in->last_tmpl;
	if (t != NULL && tmpl_matches(t, o, r)) {
		t->refs++;
		return t;
	}
	struct db_lsi *lsi = lsi_get(in, r->locs, r->nlocs);
	if (lsi == NULL)
		return NULL;
	struct tmpl_attrs a = reg_attrs(r);
	t = tmpl_get(in, o, lsi, &a);
	if (t != NULL)
		in->last_tmpl = t;
	return t;
}

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

static uint32_t reg_when(struct cds_list_head *item)
{
	struct db_reg *r = caa_container_of(item, struct db_reg, link);
	return atomic_load_explicit(&r->expires, memory_order_relaxed);
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

static void entry_prefix(const struct db_iid *in, const struct db_entry *e, struct eid_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->iid = in->iid;
	p->afi = af_afi[e->af];
	p->plen = e->leaf.plen;
	p->plain = in->iid == 0;
	memcpy(p->bytes, e->leaf.key, in->trie[e->af].key_len);
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

/* ---- instances ---- */

static unsigned long iid_hash(uint32_t iid)
{
	return (unsigned long)hash_mix(0x27d4eb2fu, iid);
}

static int iid_match(struct cds_lfht_node *node, const void *key)
{
	const struct db_iid *in = caa_container_of(node, struct db_iid, lnode);
	LRCU_TSAN_ACQUIRE(in);
	return in->iid == *(const uint32_t *)key;
}

/*
 * The instance this thread found last: most queries and registrations of a
 * burst go to one instance, and an rculfhash lookup costs ~100
 * instructions. The library is linked into executables (static), so the
 * initial-exec TLS model applies. Instances live until db_free(), so the pointer stays valid
 * while its db does; the serial tells a new db at a freed db's address
 * apart. Thread-private: readers still write nothing shared.
 */
static _Thread_local struct {
	const struct db *db;
	uint64_t serial;
	struct db_iid *in;
} iid_cache __attribute__((tls_model("initial-exec"))); /* no __tls_get_addr call (-fPIC) */

static _Atomic uint64_t db_serials = 1;

static struct db_iid *instance_slow(const struct db *db, uint32_t iid)
{
	struct cds_lfht_iter it;
	cds_lfht_lookup(db->iids, iid_hash(iid), iid_match, &iid, &it);
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
	if (node == NULL)
		return NULL;
	struct db_iid *in = caa_container_of(node, struct db_iid, lnode);
	LRCU_TSAN_ACQUIRE(in); /* published by cds_lfht_add_unique, unseen by TSan */
	iid_cache.db = db;
	iid_cache.serial = db->serial;
	iid_cache.in = in;
	return in;
}

/* db_instance, inlined where a lookup pays for every instruction. */
static inline __attribute__((always_inline)) struct db_iid *instance_of(const struct db *db,
									uint32_t iid)
{
	if (iid_cache.db == db && iid_cache.serial == db->serial && iid_cache.in->iid == iid) {
		LRCU_TSAN_ACQUIRE(iid_cache.in);
		return iid_cache.in;
	}
	return instance_slow(db, iid);
}

struct db_iid *db_instance(const struct db *db, uint32_t iid)
{
	return instance_of(db, iid);
}

static void iid_destroy(struct db_iid *in)
{
	for (int i = 0; i < DB_NAF; i++) {
		trie_deinit(&in->trie[i], NULL, NULL);
		hidx_free(in->hidx[i]);
	}
	hmap_deinit(&in->tmpls);
	hmap_deinit(&in->locsets);
	hmap_deinit(&in->sessions);
	reclaim_deinit(&in->rc);
	pthread_mutex_destroy(&in->lock);
	free(in);
}

static struct db_iid *iid_new(struct db *db, uint32_t iid, uint32_t now_s)
{
	struct db_iid *in = calloc(1, sizeof(*in));
	if (in == NULL)
		return NULL;
	in->iid = iid;
	in->db = db;
	pthread_mutex_init(&in->lock, NULL);
	for (int i = 0; i < DB_NAF; i++)
		trie_init(&in->trie[i], lisp_afi_bits(af_afi[i]));
	reclaim_init(&in->rc);
	wheel_init(&in->wheel, now_s, reg_when);
	if (hmap_init(&in->tmpls, 16) != LISPMS_EOK || hmap_init(&in->locsets, 16) != LISPMS_EOK ||
	    hmap_init(&in->sessions, 8) != LISPMS_EOK) {
		iid_destroy(in);
		return NULL;
	}
	return in;
}

/* The instance, created on first use; instances live until db_free(). */
static struct db_iid *iid_get(struct db *db, uint32_t iid, uint32_t now_s)
{
	lrcu_read_lock();
	struct db_iid *in = db_instance(db, iid);
	lrcu_read_unlock();
	if (in != NULL)
		return in;
	struct db_iid *fresh = iid_new(db, iid, now_s);
	if (fresh == NULL)
		return NULL;
	LRCU_TSAN_RELEASE(fresh);
	lrcu_read_lock();
	struct cds_lfht_node *got =
	    cds_lfht_add_unique(db->iids, iid_hash(iid), iid_match, &iid, &fresh->lnode);
	lrcu_read_unlock();
	if (got != &fresh->lnode) {
		iid_destroy(fresh); /* lost a race; never published */
		return caa_container_of(got, struct db_iid, lnode);
	}
	return fresh;
}

/* ---- public: lifetime ---- */

struct db *db_new(const struct db_config *cfg)
{
	struct db *db = calloc(1, sizeof(*db));
	if (db == NULL)
		return NULL;
	atomic_init(&db->timeout_s,
		    cfg != NULL && cfg->reg_timeout_s ? cfg->reg_timeout_s : DEFAULT_TIMEOUT_S);
	db->serial = atomic_fetch_add_explicit(&db_serials, 1, memory_order_relaxed);
	pthread_mutex_init(&db->sess_lock, NULL);
	if (hmap_init(&db->sess, 64) != LISPMS_EOK)
		goto out_free;
	db->iids = cds_lfht_new_flavor(64, 64, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
				       lrcu_flavor, NULL);
	if (db->iids == NULL)
		goto out_hmap;
	return db;
out_hmap:
	hmap_deinit(&db->sess);
out_free:
	pthread_mutex_destroy(&db->sess_lock);
	free(db);
	return NULL;
}

static void leaf_free(struct trie_leaf *leaf, void *arg)
{
	(void)arg;
	struct db_entry *e = caa_container_of(leaf, struct db_entry, leaf);
	struct db_reg *r = e->regs;
	while (r != NULL) {
		struct db_reg *next = r->next;
		free(r);
		r = next;
	}
	free(e);
}

static size_t iid_snapshot(struct db *db, struct db_iid ***out);

void db_free(struct db *db)
{
	if (db == NULL)
		return;
	struct db_iid **v;
	size_t n = iid_snapshot(db, &v);
	for (size_t i = 0; i < n; i++) {
		struct db_iid *in = v[i];
		lrcu_read_lock();
		cds_lfht_del(db->iids, &in->lnode);
		lrcu_read_unlock();
		for (int af = 0; af < DB_NAF; af++)
			trie_deinit(&in->trie[af], leaf_free, NULL);
		struct hnode *x;
		while ((x = hmap_any(&in->tmpls)) != NULL) {
			hmap_remove(&in->tmpls, x);
			free(caa_container_of(x, struct db_tmpl, hn));
		}
		while ((x = hmap_any(&in->locsets)) != NULL) {
			hmap_remove(&in->locsets, x);
			free(caa_container_of(x, struct db_lsi, hn));
		}
		while ((x = hmap_any(&in->sessions)) != NULL) {
			hmap_remove(&in->sessions, x);
			free(caa_container_of(x, struct isess, hn));
		}
		counters_gauge_add(LISPMS_M_DB_PREFIXES, -(int64_t)in->prefixes);
		counters_gauge_add(LISPMS_M_DB_REGISTRATIONS, -(int64_t)in->regs);
		iid_destroy(in);
	}
	free(v);
	lrcu_offline(); /* qsbr: the grace periods below must not wait for us */
	lrcu_barrier();
	cds_lfht_destroy(db->iids, NULL);
	lrcu_online();
	struct hnode *x;
	while ((x = hmap_any(&db->sess)) != NULL) {
		hmap_remove(&db->sess, x);
		struct sess_iids *s = caa_container_of(x, struct sess_iids, hn);
		free(s->v);
		free(s);
	}
	hmap_deinit(&db->sess);
	pthread_mutex_destroy(&db->sess_lock);
	free(db);
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

static struct db_entry *entry_lookup(const struct db_iid *in, int af, const struct eid_prefix *p)
{
	const struct trie *t = &in->trie[af];
	struct trie_leaf *l = p->plen == t->key_bits ? host_lookup(in, af, p->bytes)
						     : trie_lookup_exact(t, p->bytes, p->plen);
	return l != NULL ? caa_container_of(l, struct db_entry, leaf) : NULL;
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

/* Instances, snapshotted so no read-side section spans the expiry. */
static size_t iid_snapshot(struct db *db, struct db_iid ***out)
{
	size_t n = 0, cap = 0;
	struct db_iid **v = NULL;
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	lrcu_read_lock();
	cds_lfht_for_each (db->iids, &it, node) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct db_iid **nv = realloc(v, ncap * sizeof(*nv));
			if (nv == NULL)
				break;
			v = nv;
			cap = ncap;
		}
		v[n] = caa_container_of(node, struct db_iid, lnode);
		LRCU_TSAN_ACQUIRE(v[n]);
		n++;
	}
	lrcu_read_unlock();
	*out = v;
	return n;
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

/* ---- public: readers ---- */

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

void db_stats_get(struct db *db, struct db_stats *out)
{
	struct db_stats st;
	memset(&st, 0, sizeof(st));
	struct db_iid **v;
	size_t n = iid_snapshot(db, &v);
	for (size_t i = 0; i < n; i++) {
		struct db_iid *in = v[i];
		pthread_mutex_lock(&in->lock);
		st.instances++;
		st.prefixes += in->prefixes;
		st.registrations += in->regs;
		st.mappings += in->tmpls.count;
		st.locsets += in->locsets.count;
		for (int af = 0; af < DB_NAF; af++)
			st.nodes += in->trie[af].nodes;
		pthread_mutex_unlock(&in->lock);
	}
	free(v);
	*out = st;
}

static int iid_stats_cmp(const void *a, const void *b)
{
	const struct db_iid_stats *x = a, *y = b;
	return x->iid < y->iid ? -1 : x->iid > y->iid;
}

size_t db_iid_stats_get(struct db *db, struct db_iid_stats **out)
{
	struct db_iid **v;
	size_t n = iid_snapshot(db, &v);
	struct db_iid_stats *st = calloc(n ? n : 1, sizeof(*st));
	if (st == NULL) {
		free(v);
		*out = NULL;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct db_iid *in = v[i];
		pthread_mutex_lock(&in->lock);
		st[i].iid = in->iid;
		st[i].registrations = in->regs;
		for (int af = 0; af < DB_NAF; af++)
			st[i].prefixes[af] = in->af_prefixes[af];
		pthread_mutex_unlock(&in->lock);
	}
	free(v);
	qsort(st, n, sizeof(*st), iid_stats_cmp);
	*out = st;
	return n;
}

void db_set_timeout(struct db *db, uint32_t reg_timeout_s)
{
	atomic_store_explicit(&db->timeout_s, reg_timeout_s ? reg_timeout_s : DEFAULT_TIMEOUT_S,
			      memory_order_relaxed);
}
