/* SPDX-License-Identifier: MIT */
/*
 * What registrations carry, compared, hashed and interned per instance:
 * locator sets and registration contents are stored once and refcounted
 * (src/db/README.md, "Data layout and memory").
 */
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

/* ---- comparison and hashing of what registrations carry ---- */

static void addr_norm(struct lisp_addr *a)
{
	unsigned len = lisp_afi_len(a->afi);
	memset(a->bytes + len, 0, sizeof(a->bytes) - len);
}

void owner_norm(struct db_owner *o)
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

bool addr_eq(const struct lisp_addr *a, const struct lisp_addr *b)
{
	return a->afi == b->afi && bytes_eq(a->bytes, b->bytes, lisp_afi_len(a->afi));
}

/* Same registrant: the key registrations are stored under. */
bool owner_key_eq(const struct db_owner *a, const struct db_owner *b)
{
	if (a->has_xtr_id != b->has_xtr_id)
		return false;
	if (a->has_xtr_id)
		return bytes_eq(a->xtr_id, b->xtr_id, sizeof(a->xtr_id));
	return addr_eq(&a->rloc, &b->rloc);
}

bool owner_eq(const struct db_owner *a, const struct db_owner *b)
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
bool tmpl_matches(const struct db_tmpl *t, const struct db_owner *o, const struct db_reg_info *r)
{
	return t->m.ttl == r->ttl && t->m.flags == r->flags && t->m.site == r->site &&
	       t->m.key_id == r->key_id && t->m.alg_id == r->alg_id && owner_eq(&t->m.owner, o) &&
	       locs_eq(t->m.locs, r->locs, r->nlocs);
}

/* ---- interning (instance mutex held) ---- */

struct db_lsi *lsi_of(const struct db_locset *ls)
{
	return caa_container_of(ls, struct db_lsi, ls);
}

struct db_tmpl *tmpl_of(const struct db_mapping *m)
{
	return caa_container_of(m, struct db_tmpl, m);
}

struct db_lsi *lsi_get(struct db_iid *in, const struct db_locator *locs, unsigned n)
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

void lsi_put(struct db_iid *in, struct db_lsi *l)
{
	if (--l->refs > 0)
		return;
	hmap_remove(&in->locsets, &l->hn);
	reclaim_push_w(&in->rc, free, l);
}

/* Find or make the contents; consumes one reference to lsi. */
struct db_tmpl *tmpl_get(struct db_iid *in, const struct db_owner *o, struct db_lsi *lsi,
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

void tmpl_put(struct db_iid *in, struct db_tmpl *t)
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
struct db_tmpl *tmpl_intern(struct db_iid *in, const struct db_owner *o,
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
