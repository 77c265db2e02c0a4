/* SPDX-License-Identifier: MIT */
/*
 * The database: its instances (one per instance ID, created on first use),
 * its lifetime and its statistics. The rest is in db_intern.c, db_reg.c and
 * db_lookup.c (db_internal.h).
 */
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

/* ---- instances ---- */

const uint16_t af_afi[DB_NAF] = { LISP_AFI_IPV4, LISP_AFI_IPV6, LISP_AFI_MAC };

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

/* The instance this thread found last (db_internal.h). */
_Thread_local struct db_iid_cache iid_cache __attribute__((tls_model("initial-exec")));

static _Atomic uint64_t db_serials = 1;

struct db_iid *instance_slow(const struct db *db, uint32_t iid)
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

struct db_iid *db_instance(const struct db *db, uint32_t iid)
{
	return instance_of(db, iid);
}

/* The wheel's deadline of a filed registration. */
static uint32_t reg_when(struct cds_list_head *item)
{
	struct db_reg *r = caa_container_of(item, struct db_reg, link);
	return atomic_load_explicit(&r->expires, memory_order_relaxed);
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
struct db_iid *iid_get(struct db *db, uint32_t iid, uint32_t now_s)
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

/* Instances, snapshotted so no read-side section spans the expiry. */
size_t iid_snapshot(struct db *db, struct db_iid ***out)
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
