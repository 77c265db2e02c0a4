/* SPDX-License-Identifier: MIT */
/*
 * The mapping database: for every instance ID and address family (IPv4,
 * IPv6, MAC) a Patricia trie (db/trie.h) from EID prefix to the
 * registrations behind it, and the mapping a Map-Request sees, derived from
 * them (docs/protocol.md D7, D13, §2.7). Instances are found through an RCU hash
 * table.
 *
 * Per prefix, one registration per registering xTR (keyed by xTR-ID when
 * present, else by source RLOC): its locator set, flags, record TTL, site,
 * key, how it was learned (UDP or a reliable session) and its expiry.
 * Without DB_F_MERGE, a registration under a new xTR-ID from the RLOC of
 * another one with the same locator set is that ETR restarted (D13): it
 * replaces the old registration instead of standing beside it. The
 * mapping is the newest registration's, or, when every registration has
 * DB_F_MERGE (the caller sets it only when the a bit is set and the site
 * allows merging), the union of their locator sets. Identical locator sets
 * and identical registration contents are interned per instance: an ETR
 * with 10,000 EIDs and one locator set stores both once.
 *
 * A registration identical to the stored one (same owner, locators, flags,
 * TTL, site, session and key) only moves its expiry with an atomic store: no
 * lock, no trie write, no event (the refresh fast path). UDP registrations
 * expire after the registration timeout (or TTL minutes when DB_F_TTL);
 * those bound to an up session never expire until db_session_down().
 * Every change of a prefix's mapping produces a struct db_event, delivered
 * after the change is published.
 *
 * Threads: lookups and walks from any registered thread inside
 * lrcu_read_lock(); the results are valid until lrcu_read_unlock().
 * db_register(), db_withdraw(), db_session_down() and db_expire_run() from
 * any registered thread: they take the instance's writer mutex briefly (the
 * fast path takes nothing). Event callbacks run on the writer's thread with
 * that mutex held: they may read the db but must not write the same
 * instance. db_new()/db_free() on the control thread.
 * Ownership: the db copies what it is given; pointers it returns (mappings,
 * locator sets) are borrowed under RCU.
 * Errors: LISPMS_EINVAL (bad prefix or arguments), LISPMS_EAFI (family not
 * an EID family), LISPMS_ETOOMANY (too many locators), LISPMS_ENOENT,
 * LISPMS_ENOMEM.
 */
#pragma once

#ifndef LISPMS_USES_DB
#error "db.h: this subsystem does not declare db as a dependency"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lispms/addr.h>

/* Locator flags as on the wire (low bits of the locator's flags field). */
#define DB_LOC_L 0x0004u /* local locator */
#define DB_LOC_P 0x0002u /* RLOC-probe */
#define DB_LOC_R 0x0001u /* reachable */

#define LISPMS_DB_MAX_LOCATORS 255

struct db_locator {
	uint8_t priority, weight, mpriority, mweight;
	uint16_t flags;
	struct lisp_addr addr;
};

/* An interned, immutable locator set. */
struct db_locset {
	uint32_t count;
	struct db_locator loc[]; /* count locators */
};

/* Who registered: keyed by xtr_id when has_xtr_id, else by rloc. */
struct db_owner {
	uint8_t xtr_id[16];
	bool has_xtr_id;
	uint16_t port;	       /* UDP source port of the Map-Register */
	struct lisp_addr rloc; /* source RLOC of the Map-Register */
	uint64_t session;      /* reliable session it came on; 0 for UDP */
};

/* Registration and mapping flags. */
#define DB_F_PROXY  0x0001u /* P: the Map-Server proxy-replies */
#define DB_F_MERGE  0x0002u /* merge requested (a bit) and allowed by the site */
#define DB_F_TTL    0x0004u /* T: expire after the record TTL, not the timeout */
#define DB_F_MERGED 0x0100u /* mapping only: union of several registrations */

/*
 * What readers see for a prefix; immutable once published. For a merged
 * mapping, owner is zero and flags has DB_F_MERGED; ttl is the smallest
 * and DB_F_PROXY is set when any registration has it.
 */
struct db_mapping {
	const struct db_locset *locs;
	const void *site;
	struct db_owner owner;
	uint32_t ttl; /* record TTL, minutes */
	uint16_t flags;
	/*
	 * The Key ID and algorithm the registration was accepted with, so an
	 * unsolicited message to its ETR is signed with that ETR's own key
	 * (D21); 0 in a merged mapping. They fill the struct's tail padding.
	 */
	uint8_t key_id, alg_id;
};

/* One record of a Map-Register (or a reliable-transport Registration). */
struct db_reg_info {
	struct db_owner owner;
	const struct db_locator *locs;
	unsigned nlocs;
	uint32_t ttl; /* record TTL in minutes; 0 withdraws (D8) */
	uint16_t flags;
	uint8_t key_id, alg_id; /* the key that authenticated the record (D21) */
	const void *site;	/* opaque, the caller's */
};

enum db_event_type {
	DB_EV_ADDED,   /* the prefix had no mapping */
	DB_EV_CHANGED, /* owner, locator set or other mapping field changed */
	DB_EV_REMOVED, /* withdrawn: the prefix has no mapping left */
	DB_EV_EXPIRED, /* timed out: the prefix has no mapping left */
};

/* What changed between old and new mapping (DB_EV_CHANGED). */
#define DB_CH_OWNER    0x1u /* another registrant (xTR-ID or RLOC) */
#define DB_CH_LOCATORS 0x2u /* another locator set */
#define DB_CH_OTHER    0x4u /* TTL, flags, site or session */

/*
 * A change of a prefix's mapping. old_map/new_map are NULL when there was
 * / is no mapping, and valid only during the callback. cause is the
 * registration that was added, changed, withdrawn or expired (for an
 * expiry with registrations left, the mapping may still change).
 */
struct db_event {
	enum db_event_type type;
	unsigned changes;
	struct eid_prefix prefix;
	const struct db_mapping *old_map;
	const struct db_mapping *new_map;
	struct db_owner cause;
};

typedef void db_event_fn(const struct db_event *ev, void *arg);

struct db_sink {
	db_event_fn *fn;
	void *arg;
};

struct db_config {
	uint32_t reg_timeout_s; /* UDP registration timeout; 0 means 180 */
};

struct db;
struct db_iid;
struct db_entry;

/* A database with no instances; NULL on allocation failure. */
struct db *db_new(const struct db_config *cfg);

/* Free everything. No other thread may use db any more. */
void db_free(struct db *db);

enum db_outcome {
	DB_REFRESHED = 0, /* identical registration: only the expiry moved */
	DB_STORED = 1,	  /* added or changed (events tell what the mapping did) */
	DB_WITHDRAWN = 2, /* ttl 0: the owner's registration was removed */
};

/*
 * Apply one registration record received at now_ns (mtime clock). Returns
 * an enum db_outcome (>= 0) or an error. sink may be NULL.
 */
int db_register(struct db *db, const struct eid_prefix *p, const struct db_reg_info *r,
		uint64_t now_ns, const struct db_sink *sink);

/*
 * The records of one message at once: out[i] gets db_register()'s result
 * for (ps[i], rs[i]). Per group of 16 records, their host-index slots and
 * trie paths are first brought into cache together so the misses overlap,
 * then the records are applied in order, the instance mutex taken once for
 * the group (events are delivered with it held, as for db_register);
 * two to three times the rate of one-by-one calls on large tables.
 */
void db_register_batch(struct db *db, const struct eid_prefix *const ps[],
		       const struct db_reg_info *const rs[], unsigned n, uint64_t now_ns,
		       const struct db_sink *sink, int out[]);

/*
 * Bring into cache what registering ps[0..n) will read (host-index slots,
 * the registrations of present entries, trie paths), 16 at a time so their
 * misses overlap: for the records of several messages that are then
 * registered one message at a time (the request core's batch stage), where
 * db_register_batch() alone cannot overlap one-record messages. Reads
 * only; inside an RCU read-side section. Prefixes of instances other than
 * the first of each group of 16 are skipped.
 */
void db_warm(const struct db *db, const struct eid_prefix *const ps[], unsigned n);

/* Remove owner's registration for p (LISPMS_ENOENT when it has none). */
int db_withdraw(struct db *db, const struct eid_prefix *p, const struct db_owner *owner,
		const struct db_sink *sink);

/*
 * The session went down at now_ns: its registrations start their UDP
 * timeout now (D7). Cost proportional to that session's registrations.
 * Returns how many registrations moved. Session ids are never reused.
 */
size_t db_session_down(struct db *db, uint64_t session, uint64_t now_ns);

/*
 * Registrations bound to an up session now (what lispmsctl sessions shows
 * as its EIDs); 0 after db_session_down(). Takes the instance mutexes of
 * the session's instances briefly; any thread.
 */
size_t db_session_regs(struct db *db, uint64_t session);

/*
 * Expire what is due at now_ns and hand deferred frees to call_rcu; call
 * it about once a second from a housekeeping thread. The instance mutex is
 * dropped every few thousand registrations, so writers keep going during a
 * mass expiry. Returns how many registrations expired.
 */
size_t db_expire_run(struct db *db, uint64_t now_ns, const struct db_sink *sink);

/* ---- read side: inside lrcu_read_lock() ---- */

/* The instance, or NULL when nothing was ever registered in it. */
struct db_iid *db_instance(const struct db *db, uint32_t iid);

/*
 * Longest-prefix match of eid (an address: plen at the family's maximum,
 * or a prefix) in its instance. Returns the mapping or NULL; *matched
 * (may be NULL) gets the matching prefix, with eid's iid and plain flag.
 */
const struct db_mapping *db_lookup(const struct db *db, const struct eid_prefix *eid,
				   struct eid_prefix *matched);

/* The same on an instance found with db_instance() (saves a hash lookup). */
const struct db_mapping *db_iid_lookup(const struct db_iid *in, const struct eid_prefix *eid,
				       struct eid_prefix *matched);

/*
 * n longest-prefix matches in one instance at once: the trie walks are
 * interleaved so their cache misses overlap (several times the rate of
 * one-by-one lookups on large tables). out[i] is eids[i]'s mapping or NULL;
 * eids of any family, instance taken from in.
 */
void db_iid_lookup_batch(const struct db_iid *in, const struct eid_prefix *const eids[], unsigned n,
			 const struct db_mapping *out[]);

/* The mapping registered for exactly p, or NULL. */
const struct db_mapping *db_lookup_exact(const struct db *db, const struct eid_prefix *p);

/* Refresh scopes of the reliable transport (docs/protocol.md §3.4). */
enum db_scope {
	DB_SCOPE_ALL = 0,    /* every instance and family */
	DB_SCOPE_IID = 1,    /* where->iid */
	DB_SCOPE_AF = 2,     /* where->iid, where->afi */
	DB_SCOPE_PREFIX = 3, /* prefixes covered by where (itself included) */
	DB_SCOPE_EXACT = 4,  /* where exactly */
};

/* Called per prefix; a non-zero return stops the walk and is returned. */
typedef int db_walk_fn(const struct eid_prefix *p, const struct db_mapping *m,
		       const struct db_entry *e, void *arg);

/*
 * Visit the prefixes of a scope in order (per instance: IPv4, IPv6, MAC;
 * shorter prefixes before the ones they cover). Returns 0 or what fn
 * returned. A walk of a large scope delays grace periods: take the read
 * lock per instance or family when that matters.
 */
int db_walk(const struct db *db, enum db_scope scope, const struct eid_prefix *where,
	    db_walk_fn *fn, void *arg);

/* Called per registration of an entry, newest first. */
typedef int db_reg_fn(const struct db_mapping *reg, uint64_t expires_ns, void *arg);

/*
 * The registrations behind an entry (to notify every merged ETR, or to
 * find an ETR's own). expires_ns is UINT64_MAX while bound to an up
 * session. Returns 0 or what fn returned.
 */
int db_entry_regs(const struct db_entry *e, db_reg_fn *fn, void *arg);

struct db_stats {
	size_t instances;
	size_t prefixes;
	size_t registrations;
	size_t mappings; /* interned registration contents and merged mappings */
	size_t locsets;	 /* interned locator sets */
	size_t nodes;	 /* trie interior nodes */
};

/* Totals over every instance (takes each instance mutex briefly). */
void db_stats_get(struct db *db, struct db_stats *out);

/* Families in the order db_iid_stats.prefixes counts them: IPv4, IPv6, MAC. */
#define LISPMS_DB_FAMILIES 3
static inline uint16_t db_family_afi(unsigned i)
{
	return i == 0 ? LISP_AFI_IPV4 : i == 1 ? LISP_AFI_IPV6 : LISP_AFI_MAC;
}

/* One instance's totals, kept as counters (no walk). */
struct db_iid_stats {
	uint32_t iid;
	size_t prefixes[LISPMS_DB_FAMILIES]; /* by db_family_afi() */
	size_t registrations;
};

/*
 * Every instance's totals, sorted by instance ID, in an array the caller
 * frees; returns how many (0 and *out NULL when allocation fails). Cost:
 * one brief instance-mutex hold per instance, whatever the EID count.
 */
size_t db_iid_stats_get(struct db *db, struct db_iid_stats **out);

/*
 * Set the UDP registration timeout (a reload changed it): registrations
 * stored or refreshed from now on get the new one. 0 means 180 s.
 */
void db_set_timeout(struct db *db, uint32_t reg_timeout_s);

/*
 * A walk that can be resumed: the prefixes under `root` (itself included)
 * that come after `after` in db_walk() order, or all of them when `after`
 * is NULL. A caller that stops the walk (fn returning non-zero) keeps the
 * last prefix it saw and passes it as `after` to go on, so a long walk can
 * be cut into short read-side sections. A resume costs at most one trie
 * descent per bit of `after`'s length, however many prefixes came before.
 * Inside lrcu_read_lock(). Returns 0, what fn returned, or LISPMS_EINVAL
 * when `after` is not under `root`.
 */
int db_walk_after(const struct db *db, const struct eid_prefix *root,
		  const struct eid_prefix *after, db_walk_fn *fn, void *arg);

/*
 * A walk over the prefixes under a set of roots, cut into steps: each step
 * visits at most `limit` prefixes in its own read-side section, and the
 * next resumes after the last prefix the previous one finished
 * (db_walk_after), so a million-prefix table costs neither a long
 * read-side section nor a copy. The control socket's `registrations` and
 * the reload's re-check walk this way.
 *
 * Use: a zeroed cursor, db_walk_cursor_add() per root, db_walk_step()
 * until it returns 0 or a negative value, db_walk_cursor_free().
 * Roots are copied; before the first step they are sorted (instance,
 * family, bits, length) and a root inside another is dropped, so every
 * prefix is visited at most once, in root order, and within a root in
 * db_walk() order.
 *
 * fn returns 0 (this prefix is done, go on), DB_WALK_PAUSE (this prefix is
 * done, end the step here; any other positive value means the same), or a
 * negative value: the walk stops before this prefix (a later step would
 * visit it again) and db_walk_step() returns that value.
 *
 * The database may change between steps: a prefix present throughout is
 * visited exactly once, none twice; one added ahead of the cursor is
 * visited if still there when the walk reaches it, one added behind it is
 * not, one removed before the walk reaches it is not.
 *
 * db_walk_step() returns 1 when the step ended with prefixes maybe left
 * (limit reached, fn paused, or `limit` roots begun in this step), 0 when
 * every root is walked, fn's negative value, LISPMS_EINVAL for limit 0.
 * Threads: one thread's cursor; a step takes lrcu_read_lock() itself (call
 * it outside a read-side section, or the section is not cut); fn runs
 * inside it, as with db_walk().
 */
struct db_walk_cursor {
	struct eid_prefix *roots;
	size_t nroots, cap;
	size_t root;		/* the root being walked */
	struct eid_prefix last; /* the last prefix done under it */
	bool have_last;
	bool started; /* roots sorted and reduced; no more may be added */
};

#define DB_WALK_PAUSE 1

/* Add a root (copied; normalised, as configuration and eid_prefix_parse give them).
 * LISPMS_EOK, LISPMS_ENOMEM, or LISPMS_EINVAL after the first step. */
int db_walk_cursor_add(struct db_walk_cursor *c, const struct eid_prefix *root);

/* One step of at most `limit` prefixes (see above). */
int db_walk_step(const struct db *db, struct db_walk_cursor *c, unsigned limit, db_walk_fn *fn,
		 void *arg);

/* Free the roots; the cursor is zeroed (and can be used again). */
void db_walk_cursor_free(struct db_walk_cursor *c);

/* ---- events collected into a list (instead of handling them inline) ---- */

/* A self-contained copy of an event, locators included. */
struct db_event_copy {
	struct db_event_copy *next;
	struct db_event ev; /* old_map/new_map point into this copy */
	struct db_mapping old_m, new_m;
	struct db_locset *old_locs, *new_locs;
};

struct db_event_list {
	struct db_event_copy *head, **tail;
	size_t count;
	size_t dropped; /* copies that failed for lack of memory */
};

void db_event_list_init(struct db_event_list *l);

/* A db_event_fn: append a copy of ev to the struct db_event_list arg. */
void db_event_list_add(const struct db_event *ev, void *list);

/* Free every copy. */
void db_event_list_clear(struct db_event_list *l);
