/* SPDX-License-Identifier: MIT */
/*
 * Private to db: the structures its files share and the functions they
 * call in one another. db.c: instances and the database's lifetime and
 * statistics; db_intern.c: comparison, hashing and interning of what
 * registrations carry; db_reg.c: registrations, sessions, mappings and
 * expiry (the writers); db_lookup.c: lookups and walks (the readers).
 * src/db/README.md says how they work together.
 */
#pragma once

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

static inline int af_index(uint16_t afi)
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

/*
 * The instance this thread found last: most queries and registrations of a
 * burst go to one instance, and an rculfhash lookup costs ~100
 * instructions. The library is linked into executables (static), so the
 * initial-exec TLS model applies. Instances live until db_free(), so the pointer stays valid
 * while its db does; the serial tells a new db at a freed db's address
 * apart. Thread-private: readers still write nothing shared.
 */
struct db_iid_cache {
	const struct db *db;
	uint64_t serial;
	struct db_iid *in;
};
extern _Thread_local struct db_iid_cache iid_cache
    __attribute__((tls_model("initial-exec"))); /* no __tls_get_addr call (-fPIC) */

struct db_iid *instance_slow(const struct db *db, uint32_t iid);

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

/* db.c: instances */
extern const uint16_t af_afi[DB_NAF]; /* the AFI of each family index */
struct db_iid *iid_get(struct db *db, uint32_t iid, uint32_t now_s);
size_t iid_snapshot(struct db *db, struct db_iid ***out);

/* db_intern.c: comparison, hashing and interning (instance mutex held) */
/* What registration contents hold beside owner and locators. */
struct tmpl_attrs {
	uint32_t ttl;
	uint16_t flags;
	uint8_t key_id, alg_id;
	const void *site;
};

void owner_norm(struct db_owner *o);
bool addr_eq(const struct lisp_addr *a, const struct lisp_addr *b);
bool owner_key_eq(const struct db_owner *a, const struct db_owner *b);
bool owner_eq(const struct db_owner *a, const struct db_owner *b);
bool tmpl_matches(const struct db_tmpl *t, const struct db_owner *o, const struct db_reg_info *r);
struct db_tmpl *tmpl_of(const struct db_mapping *m);
struct db_lsi *lsi_get(struct db_iid *in, const struct db_locator *locs, unsigned n);
void lsi_put(struct db_iid *in, struct db_lsi *l);
struct db_tmpl *tmpl_get(struct db_iid *in, const struct db_owner *o, struct db_lsi *lsi,
			 const struct tmpl_attrs *a);
void tmpl_put(struct db_iid *in, struct db_tmpl *t);
struct db_tmpl *tmpl_intern(struct db_iid *in, const struct db_owner *o,
			    const struct db_reg_info *r);
struct db_lsi *lsi_of(const struct db_locset *ls);

/* db_lookup.c: an entry and its prefix */
struct db_entry *entry_lookup(const struct db_iid *in, int af, const struct eid_prefix *p);
void entry_prefix(const struct db_iid *in, const struct db_entry *e, struct eid_prefix *p);
