/* SPDX-License-Identifier: MIT */
/* Private to ms: the structures the request core's files share. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include <pthread.h>

#include <urcu/wfcqueue.h>

#include <lispms/arena.h>
#include <lispms/conf.h>
#include <lispms/counters.h>
#include <lispms/db.h>
#include <lispms/log.h>
#include <lispms/ms.h>
#include <lispms/proto.h>
#include <lispms/rcu.h>

#include "ddt.h"
#include "site_index.h"

#define MS_SCRATCH_ARENA (1u << 20) /* decode scratch, reset per message */
#define MS_ENCODE_MAX	 65535

#define MS_REJECT_RING 16 /* recent rejections kept per site */

/* One slot of a rejection ring: a seqlock over words written with relaxed atomics. */
struct ms_reject_slot {
	_Atomic uint64_t seq; /* odd while written, 0 never written */
	_Atomic uint64_t w[10];
};

/* Recent rejections of a site, written by any worker without a lock. */
struct ms_reject_ring {
	_Atomic uint64_t head; /* tickets handed out */
	struct ms_reject_slot slot[MS_REJECT_RING];
};

/* A site's identity across reloads: the db stores this pointer. */
struct ms_site_id {
	struct ms_site_id *next;
	uint32_t num; /* per-site counter row (counters_site_*), never reused */
	struct ms_reject_ring rejects;
	char name[];
};

/* What ms publishes with RCU: one configuration and its site index. */
struct ms_state {
	struct conf *conf;
	struct site_index *sites;
	uint32_t *by_num; /* site number -> position in sites + 1; 0: not in this one */
	uint32_t nby_num;
	uint32_t reply_rate_limit; /* server.reply-rate-limit, read per answer */
	struct ddt_index *ddt;	   /* the `ddt:` delegation table, NULL without one */
	struct rcu_head rcu;
};

/* A worker's queue of work for its sessions (Mapping Notifications)... */
struct ms_wq {
	struct cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	ms_wake_fn *wake;
	void *arg;
	/* ... and of unsolicited Map-Notifies for it to send and retransmit */
	struct cds_wfcq_head nhead;
	struct cds_wfcq_tail ntail;
};

struct ms {
	struct ms_state *state; /* RCU */
	struct ms_wq wq[LISPMS_MS_MAX_WORKERS];
	struct db *db;
	struct admit *admit;
	pthread_mutex_t ids_lock;
	struct ms_site_id *ids;

	/*
	 * unsolicited Map-Notifies: any thread enqueues to a worker's queue
	 * (wq[].nhead; mobility and merge to worker 0, publications spread
	 * by subscriber), that worker sends and retransmits them
	 */
	struct cds_lfht *pending; /* by nonce, for acks received by any worker */
	_Atomic size_t npending;
	_Atomic unsigned nworkers; /* workers with a wake-up (ms_set_worker) */

	struct ms_pubsub *pubsub; /* subscriptions (ms_pubsub.c) */
	/* What the notify layer (ms_notify.c) reports about a Map-Notify it sent
	 * for subscription `sub` (nonzero): acknowledged, or given up after every
	 * retry. ms_new() hands in ms_pubsub_acked/ms_pubsub_gave_up, so the
	 * notify layer stays below the publish/subscribe one. */
	void (*notify_acked)(struct ms *ms, uint64_t sub);
	void (*notify_gave_up)(struct ms *ms, uint64_t sub);

	/* reload (ms_reload.c): control thread, status read by metrics and ctl */
	struct ms_reload_status reload;
	struct ms_reload_hooks hooks; /* the daemon's (ms_reload_set_hooks), zero: none */
};

struct notify_job;

/* ms_sign.c: a batch's Map-Notifies waiting to be signed together */
#define MS_SIGN_BATCH 64

struct ms_sign_later {
	struct auth_sjob job[MS_SIGN_BATCH];
	unsigned slot[MS_SIGN_BATCH]; /* the message's place in the outbox */
	unsigned n;
	bool on; /* inside a batch whose authentication stage ran */
};

struct ms_thread {
	struct ms *ms;
	unsigned index;			  /* worker number: its queue, its session ids */
	struct ms_session **sessions;	  /* hash by id, this worker's sessions */
	struct ms_session *ohead, *otail; /* the same in id (opening) order */
	size_t nsessions;
	uint64_t session_seq;
	uint8_t *rxbuf_free; /* one spare session receive buffer */
	struct ms_state *st; /* snapshot for the current batch */
	uint64_t now;	     /* time of the current batch */
	struct auth_ctx *auth;
	struct arena scratch;
	struct db_event_list events;
	struct db_event_list pub; /* changes waiting for this worker's tick (D20) */
	bool pub_woken;		  /* a tick is asked for them */
	uint64_t rng;
	struct notify_job *pending_list; /* notifier only: jobs awaiting an ack */
	struct rrl *rrl;		 /* reply rate limits, at the first limited reply */
	struct ddt_sigcache *sigcache;	 /* signed Map-Referrals (ddt.h), at the first one */
	struct ms_session *stall_head, *stall_tail; /* sessions holding a partial message */
	struct ms_sign_later sign;		    /* the batch's deferred signatures */
	unsigned auth_min;		 /* auth_ctx_batch_min(auth): registers for the stage */
	bool rx_writable;		 /* ms_thread_rx_writable(): verify in place */
	unsigned batch_regs, batch_reqs; /* timed in the batch: its histograms */
	uint8_t buf[MS_ENCODE_MAX];	 /* encode scratch */
};

/*
 * Debug narration (docs/operations.md §logs): every decision of the request
 * core and its timers, "area, what happened (why)", sampled per call site.
 * Nothing is formatted unless debug is on and the call site's limit lets
 * the line through; MS_EID/MS_SADDR/MS_ADDR format
 * into a buffer that lives as long as the statement.
 */
#define MS_DEBUG_PER_SEC 50
#define ms_debug(...)                                                                     \
	do {                                                                              \
		static struct log_limit ms_debug_lim_ = LOG_LIMIT_INIT(MS_DEBUG_PER_SEC); \
		if (log_enabled(LOG_LEVEL_DEBUG) && log_limit_pass(&ms_debug_lim_))       \
			log_passed(&ms_debug_lim_, LOG_LEVEL_DEBUG, __VA_ARGS__);         \
	} while (0)
#define MS_TEXT_LEN 64
#define MS_EID(p)   ms_fmt_eid((p), (char[LISPMS_EID_STRLEN]){ 0 })
#define MS_SADDR(s) ms_fmt_saddr((s), (char[MS_TEXT_LEN]){ 0 })
#define MS_ADDR(a)  ms_fmt_addr((a), (char[MS_TEXT_LEN]){ 0 })
/* ms_util.c */
const char *ms_fmt_eid(const struct eid_prefix *p, char buf[LISPMS_EID_STRLEN]);
const char *ms_fmt_saddr(const struct sockaddr_storage *s, char buf[MS_TEXT_LEN]);
const char *ms_fmt_addr(const struct lisp_addr *a, char buf[MS_TEXT_LEN]);

/* ms_state.c: the published snapshot, built by ms_new and each reload */
struct ms_state *ms_state_new(struct ms *ms, struct conf *conf);
void ms_state_free(struct ms_state *st);

/* ms_util.c: the shared helpers below every other file (and ms_fmt_* above) */
void ms_count_malformed(int err);
bool ms_emit(struct dgram_outbox *out, const uint8_t *msg, size_t len,
	     const struct sockaddr_storage *dst, const struct sockaddr_storage *src);
uint64_t ms_random(struct ms_thread *t);
uint64_t ms_realtime_ns(void); /* CLOCK_REALTIME, for what operators read */

/* The site of an id in a snapshot, or NULL when it left. */
static inline const struct ms_site *ms_state_site(const struct ms_state *st,
						  const struct ms_site_id *id)
{
	if (id == NULL || id->num >= st->nby_num || st->by_num[id->num] == 0)
		return NULL;
	return site_index_site(st->sites, st->by_num[id->num] - 1);
}

/* A site's key with this Key ID and algorithm, or NULL (site may be NULL). */
static inline const struct auth_key *ms_site_key(const struct ms_site *site, uint8_t key_id,
						 uint8_t alg_id)
{
	for (size_t i = 0; site != NULL && i < site->nkeys; i++)
		if (site->keys[i].key_id == key_id && site->keys[i].alg_id == alg_id)
			return &site->keys[i];
	return NULL;
}

/* The current site of an id in the batch's snapshot, or NULL when it left. */
static inline const struct ms_site *ms_site_of(const struct ms_thread *t,
					       const struct ms_site_id *id)
{
	return ms_state_site(t->st, id);
}

/*
 * Registration policy, shared by ms_register.c and the reload's re-check:
 * the most specific configured prefix covering eid is the site's own and
 * is eid itself unless the site accepts more-specifics ...
 */
static inline bool ms_prefix_allowed(const struct ms_state *st, const struct ms_site *site,
				     const struct eid_prefix *eid)
{
	const struct site_pfx *sp = site_index_lookup(st->sites, eid);
	if (sp == NULL || sp->site != site)
		return false;
	return eid_prefix_equal(&sp->prefix, eid) || site->conf->accept_more_specifics;
}

/* ... and every locator lies inside allowed-rlocs, when the site has any. */
static inline bool ms_rloc_allowed(const struct conf_site *s, const struct lisp_addr *a)
{
	if (s->nallowed_rlocs == 0)
		return true;
	struct eid_prefix host = { .afi = a->afi, .plen = (uint8_t)lisp_afi_bits(a->afi) };
	memcpy(host.bytes, a->bytes, sizeof(host.bytes));
	for (size_t i = 0; i < s->nallowed_rlocs; i++)
		if (eid_prefix_covers(&s->allowed_rlocs[i], &host))
			return true;
	return false;
}

/* ms_register.c */
enum ms_verdict {
	MS_V_ACCEPT,
	MS_V_PREFIX,	/* not a valid site EID prefix */
	MS_V_LOCATOR,	/* locator set not allowed */
	MS_V_MALFORMED, /* a record the codec cannot use */
	MS_V_INTERNAL,
	MS_V_AUTH,   /* the whole register failed authentication */
	MS_V_NOSITE, /* no site configures the record's prefix */
};

/* Told the verdict on each record of a register, in order. */
typedef void ms_record_fn(void *arg, const struct lisp_record *rec, enum ms_verdict v);

struct ms_reg_out {
	struct lisp_map_register reg;
	const struct ms_site *site;
	const struct auth_key *key; /* the key that verified it */
	unsigned naccepted;
};

/*
 * What the batch's authentication stage (ms_auth.c) found for one
 * Map-Register before the request core runs: the decoded message, its site
 * and auth_verify()'s result with that site's keys.
 */
struct ms_reg_pre {
	bool done;   /* false: not a register, or left to the one-message path */
	int decoded; /* map_register_decode()'s result */
	struct lisp_map_register reg;
	struct eid_prefix first;
	const struct site_pfx *sp; /* NULL: no site */
	int verified;		   /* with sp's keys */
};

/*
 * Decode, authenticate and apply one Map-Register from src (session 0: UDP)
 * and report each record's verdict. LISPMS_EOK when it authenticated;
 * otherwise the decode, site (LISPMS_ENOSITE) or authentication error, after
 * reporting every decoded record with that verdict. With pre (the batch
 * stage ran for it), its decode and verification are used, not redone.
 */
int ms_register_process(struct ms_thread *t, const uint8_t *msg, size_t len,
			const struct sockaddr_storage *src, uint64_t session, ms_record_fn *fn,
			void *arg, struct ms_reg_out *res);
int ms_register_process_pre(struct ms_thread *t, const uint8_t *msg, size_t len,
			    const struct sockaddr_storage *src, uint64_t session, ms_record_fn *fn,
			    void *arg, struct ms_reg_out *res, const struct ms_reg_pre *pre);
/* The site a decoded register is checked against, and its first EID. */
const struct site_pfx *ms_register_site(const struct ms_thread *t,
					const struct lisp_map_register *reg,
					struct eid_prefix *first);
void ms_register(struct ms_thread *t, const struct dgram *d, const struct ms_reg_pre *pre,
		 struct dgram_outbox *out);

/* ms_auth.c: the authentication stage of a batch */

/*
 * Decode the batch's Map-Registers, find their sites and verify them all
 * in one auth_batch_verify(); one entry per datagram, or NULL when the
 * batch has fewer than two registers (the one-message path is as fast).
 * Turns on deferred signing (ms_sign_add) for the batch.
 */
struct ms_reg_pre *ms_auth_stage(struct ms_thread *t, const struct dgram *rx, unsigned n);
/* ms_sign.c: deferred signing */

/*
 * Queue an encoded Map-Notify (authentication data zero) to dst, signed with
 * k: into the outbox now and signed with the batch's others by
 * ms_sign_flush(), or at once when the batch is not deferring. False when it
 * could not be queued or signed.
 */
bool ms_sign_add(struct ms_thread *t, struct dgram_outbox *out, const struct auth_key *k,
		 uint8_t *msg, size_t len, const struct sockaddr_storage *dst,
		 const struct sockaddr_storage *src);
/* Sign what the batch queued, in one auth_batch_sign(); ends deferring. */
void ms_sign_flush(struct ms_thread *t, struct dgram_outbox *out);

/* ms_decide.c: what a Map-Request for an EID gets, decided without sending anything. */
struct ms_decision {
	enum ms_answer kind;
	struct eid_prefix prefix;	   /* registered prefix matched, or the negative one */
	uint32_t ttl;			   /* minutes */
	const struct db_mapping *map;	   /* PROXY and FORWARD */
	const struct db_locator *rloc;	   /* FORWARD: the ETR's locator, NULL: none usable */
	const struct ms_site *site;	   /* the mapping's or the configured prefix's site */
	const struct site_pfx *configured; /* negative: the configured prefix covering the EID */
	bool proxy_by_site;		   /* PROXY because of the site's proxy-reply */
};

/* Pure: reads st and db (inside an RCU read-side section), sends nothing. */
void ms_decide(const struct ms_state *st, const struct db *db, const struct eid_prefix *eid,
	       struct ms_decision *out);
/* The same with eid's lookup done: m and (when m) its matching prefix, db_lookup()'s. */
void ms_decide_found(const struct ms_state *st, const struct db *db, const struct eid_prefix *eid,
		     const struct db_mapping *m, const struct eid_prefix *matched,
		     struct ms_decision *out);

/* ms_request.c */

/*
 * What the batch's request stage decoded of one Map-Request (bare, or the
 * inner message of an ECM) before the request core runs: the ECM, the
 * request and its first record's EID, all decoded without error.
 */
struct ms_req_pre {
	bool done;	     /* false: not a request, malformed, or left to the one-message path */
	struct lisp_ecm ecm; /* an ECM's (ecm.inner != NULL) */
	struct lisp_map_request req;
	struct eid_prefix eid;
	/* looked up in the stage (a batch without Map-Registers): the mapping, its prefix */
	bool looked;
	const struct db_mapping *map;
	struct eid_prefix matched;
};

/*
 * Decode the batch's Map-Requests (into the scratch arena, for the batch)
 * and bring into cache what looking up their EIDs will read, all the
 * batch's lookups together (when it holds no Map-Register); one entry per
 * datagram, or NULL when the batch has no request.
 */
struct ms_req_pre *ms_request_stage(struct ms_thread *t, const struct dgram *rx, unsigned n);
/*
 * Answer one Map-Request msg (bare: ecm NULL; or an ECM's inner message).
 * With pre (the stage decoded it), its decode is used, not redone.
 */
void ms_request(struct ms_thread *t, const struct dgram *d, const struct lisp_ecm *ecm,
		const uint8_t *msg, size_t len, const struct ms_req_pre *pre,
		struct dgram_outbox *out);

/* ms_session.c */
void ms_session_deliver(struct ms *ms, uint64_t session, const uint8_t *msg, size_t len);
/* Write to a session: directly when this worker owns it, else through its owner's queue. */
void ms_session_send(struct ms_thread *t, uint64_t session, const uint8_t *msg, size_t len);
void ms_session_drain(struct ms_thread *t);
/* Worker t, in its tick, queues for its own sessions and its notify queue
 * without waking itself until release: its ms_session_drain() and
 * ms_notify_tick() must follow (ms_session_queue.c). */
void ms_session_hold(struct ms_thread *t);
void ms_session_release(struct ms_thread *t);
/* Whether worker w holds its wake-ups on this thread. */
bool ms_session_held(const struct ms *ms, unsigned w);
/* Close sessions whose partial message is older than session-read-timeout;
 * nanoseconds until the next one is due (UINT64_MAX: none). */
uint64_t ms_session_sweep_stalled(struct ms_thread *t, uint64_t now);
void ms_sessions_free(struct ms_thread *t);
/* Work left in the worker queues when ms is freed (answers waiting requests). */
void ms_session_queues_free(struct ms *ms);
/* ms_reload_refresh.c: what a reload tells the sessions (D8), called by ms_reload.c */
/* A registration bound to a session (owner->session != 0) is no longer allowed
 * (why: LISPMS_S_REJ_PREFIX or _LOCATOR): withdraw it, send its session a Reject. */
void ms_reload_reject(struct ms *ms, const struct eid_prefix *p, const struct db_owner *owner,
		      enum site_metric_id why);
/* The new configuration is in force: Registration Refreshes, scoped as
 * narrowly as the change from old allows, to every session. */
void ms_reload_refresh(struct ms *ms, const struct conf *old, const struct conf *new);

/* ms_pubsub.c: publish/subscribe (RFC 9437, D20) */
struct ms_pubsub *ms_pubsub_new(void);
void ms_pubsub_free(struct ms_pubsub *ps);
/*
 * A Map-Request with the N and I bits for eid, whose ITR-RLOC is itr (NULL:
 * none usable): subscribe, refresh or unsubscribe. True when handled (a
 * Map-Notify is queued, or the request was dropped); false when the xTR is
 * not allowed to subscribe and the request is answered as a plain one.
 */
bool ms_pubsub_request(struct ms_thread *t, const struct lisp_map_request *req,
		       const struct eid_prefix *eid, const struct sockaddr_storage *itr);
/* Publish a batch's mapping changes to their subscribers (any thread). */
void ms_pubsub_events(struct ms *ms, const struct db_event_list *l);
/*
 * A worker's changes (t->events, emptied): held in t->pub until its next
 * tick (ms_pubsub_flush), so the changes of one round go to a subscriber as
 * one Map-Notify per batch of records, not one per change. Published at
 * once by a thread whose ticks nobody brings (no wake function: tests, the
 * fast path) or when PS_DEFER_MAX changes are held.
 */
void ms_pubsub_defer(struct ms_thread *t);
/* Publish what t holds (its tick); the changes a later one superseded are left out. */
void ms_pubsub_flush(struct ms_thread *t);
/* Tests only: called by ms_pubsub_events() between building its Map-Notifies
 * (outside the lock) and handing them over; NULL in the daemon. */
extern void (*ms_pubsub_test_built)(struct ms *ms);
bool ms_pubsub_active(const struct ms *ms);
/* db_withdraw() for a reload, its change published to the subscribers. */
int ms_pubsub_withdraw(struct ms *ms, const struct eid_prefix *p, const struct db_owner *owner);
void ms_pubsub_acked(struct ms *ms, uint64_t sub);
void ms_pubsub_gave_up(struct ms *ms, uint64_t sub);
/* A session went down: its subscribers fall back to UDP and expire (D7). */
void ms_pubsub_session_down(struct ms *ms, uint64_t session, uint64_t now_ns);
/* Expire and re-authorise subscribers (control thread, once a second). */
void ms_pubsub_housekeeping(struct ms *ms, uint64_t now_ns);

/* ms_site.c: the recent-rejection rings */
void ms_reject_note(struct ms_reject_ring *r, const struct ms_rejection *e);
/* Up to max entries, newest first; torn or half-written slots are skipped. */
size_t ms_reject_read(const struct ms_reject_ring *r, struct ms_rejection *out, size_t max);

/* ms_notify.c */
/* Do two locator sets answer a Map-Request the same way? */
bool ms_same_locators(const struct db_locset *a, const struct db_locset *b);
/* A record of map for prefix p, its locators in a; false when a is used up. */
bool ms_record_from_map(struct arena *a, const struct eid_prefix *p, const struct db_mapping *map,
			struct lisp_record *rec);
/* Hand a signed Map-Notify to the notifier: sent, retransmitted until acked (D12).
 * sub: the publication's subscriber (told of its ack or give-up), 0: none. */
bool ms_notify_queue(struct ms *ms, const uint8_t *msg, size_t len, uint64_t nonce,
		     const struct sockaddr_storage *dst, const struct auth_key *key, uint64_t sub);
/* The Map-Notifies t->events call for (mobility, merged sets, D13); the events stay. */
void ms_notify_events(struct ms_thread *t);
void ms_notify_ack(struct ms_thread *t, const struct dgram *d);
uint64_t ms_notify_tick(struct ms_thread *t, uint64_t now, struct dgram_outbox *out);
void notify_drain_all(struct ms *ms);
void notify_thread_release(struct ms_thread *t);
