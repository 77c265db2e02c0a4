/* SPDX-License-Identifier: MIT */
/*
 * Unsolicited Map-Notifies (D12, D13). A worker whose registration displaced
 * another ETR (or changed a merged set) encodes and signs a single-record
 * Map-Notify for each ETR to tell, when the locators it would now be answered
 * with differ from before (an ETR restart under a new xTR-ID changes
 * nothing, and its dead instance is told nothing), and queues it
 * (wait-free) to a worker's notify queue (worker 0; publications to a
 * subscriber go to the worker its id picks, ms_pubsub.c), which sends it and
 * retransmits it until a Map-Notify-Ack with the same nonce arrives: 3
 * tries 3 s apart, then 3 with exponential back-off. Acks may reach any
 * worker: pending notifies are also in an RCU hash by nonce, where the ack,
 * once authenticated, only sets an atomic flag; the sending worker retires
 * acknowledged entries and frees them after a grace period. Each notify is signed with the Key ID
 * and algorithm of the notified ETR's own last accepted registration, and its Ack verified with the
 * same key (D21); a key that left the configuration since sends nothing (counted).
 */
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <lispms/counters.h>
#include <lispms/log.h>
#include <lispms/mtime.h>
#include <lispms/proto_rt.h>

#include "ms_internal.h"

#define NOTIFY_TRIES 6
static const uint64_t retry_gap_s[NOTIFY_TRIES] = { 3, 3, 3, 6, 12, 24 };

struct notify_job {
	struct cds_wfcq_node qnode;
	struct cds_lfht_node hnode;
	struct rcu_head rcu;
	struct notify_job *next; /* notifier's pending list */
	uint64_t nonce;
	struct sockaddr_storage dst;
	struct auth_key key;
	uint64_t next_ns;
	unsigned tries;
	uint64_t sub; /* a publication's subscriber (ms_pubsub.c), 0: none */
	_Atomic bool acked;
	size_t len;
	uint8_t msg[];
};

static unsigned long hash_nonce(uint64_t nonce)
{
	uint64_t h = nonce * 0x9e3779b97f4a7c15ull;
	return (unsigned long)(h ^ (h >> 29));
}

static int match_nonce(struct cds_lfht_node *node, const void *key)
{
	const struct notify_job *j = caa_container_of(node, struct notify_job, hnode);
	return j->nonce == *(const uint64_t *)key;
}

static bool same_owner(const struct db_owner *a, const struct db_owner *b)
{
	if (a->has_xtr_id || b->has_xtr_id)
		return a->has_xtr_id && b->has_xtr_id &&
		       memcmp(a->xtr_id, b->xtr_id, sizeof(a->xtr_id)) == 0;
	return lisp_addr_equal(&a->rloc, &b->rloc);
}

bool ms_same_locators(const struct db_locset *a, const struct db_locset *b)
{
	unsigned na = a ? a->count : 0, nb = b ? b->count : 0;
	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++) {
		const struct db_locator *x = &a->loc[i], *y = &b->loc[i];
		if (x->priority != y->priority || x->weight != y->weight ||
		    x->mpriority != y->mpriority || x->mweight != y->mweight ||
		    (x->flags & LISP_LOC_R) != (y->flags & LISP_LOC_R) ||
		    !lisp_addr_equal(&x->addr, &y->addr))
			return false;
	}
	return true;
}

/*
 * Build, sign and queue one notify of `map` for prefix p to the ETR of
 * registration `whom`, signed with the key `whom` was accepted with (D21).
 */
static void queue_notify(struct ms_thread *t, const struct eid_prefix *p,
			 const struct db_mapping *map, const struct db_mapping *whom,
			 const char *why)
{
	const struct db_owner *to = &whom->owner;
	const struct ms_site *site = ms_site_of(t, whom->site);
	const struct auth_key *key = ms_site_key(site, whom->key_id, whom->alg_id);
	if (key == NULL) {
		counters_inc(LISPMS_M_MS_NOTIFY_NO_KEY);
		ms_debug("notify, not sent for %s to %s (%s; key %u alg %u of its registration "
			 "is no longer configured)",
			 MS_EID(p), MS_ADDR(&to->rloc), why, whom->key_id, whom->alg_id);
		return;
	}
	struct sockaddr_storage dst;
	if (to->session == 0 &&
	    lisp_addr_to_sockaddr(&to->rloc, to->port ? to->port : 4342, &dst) == 0)
		return;
	struct lisp_record rec;
	if (!ms_record_from_map(&t->scratch, p, map, &rec))
		return;
	struct lisp_map_notify mn = {
		.type = LISP_MSG_MAP_NOTIFY,
		.nonce = ms_random(t),
		.auth = { .key_id = key->key_id,
			  .alg_id = key->alg_id,
			  .len = (uint16_t)auth_alg_len(key->alg_id) },
		.nrecords = 1,
		.records = &rec,
	};
	size_t len;
	if (map_notify_encode(&mn, t->buf, sizeof(t->buf), &len) != LISPMS_EOK ||
	    auth_sign(t->auth, key, t->buf, len) != LISPMS_EOK) {
		counters_inc(LISPMS_M_INTERNAL_ERRORS);
		return;
	}
	if (to->session != 0) {
		/* on its session: a Mapping Notification carrying the Map-Notify (D3) */
		uint8_t framed[MS_ENCODE_MAX];
		struct rt_msg m = { .type = RT_TYPE_MAPPING_NOTIFICATION,
				    .has_id = 1,
				    .id = (uint32_t)ms_random(t) };
		m.u.inner.msg = t->buf;
		m.u.inner.len = len;
		size_t flen;
		if (rt_encode(&m, framed, sizeof(framed), &flen) == LISPMS_EOK) {
			ms_session_send(t, to->session, framed, flen);
			ms_debug("notify, Mapping Notification for %s to session %llu of %s (%s, "
				 "key %u)",
				 MS_EID(p), (unsigned long long)to->session, MS_ADDR(&to->rloc),
				 why, key->key_id);
		}
		return;
	}
	if (ms_notify_queue(t->ms, t->buf, len, mn.nonce, &dst, key, 0))
		ms_debug("notify, queued for %s to %s (%s, key %u alg %u, nonce 0x%016llx)",
			 MS_EID(p), MS_SADDR(&dst), why, key->key_id, key->alg_id,
			 (unsigned long long)mn.nonce);
}

bool ms_record_from_map(struct arena *a, const struct eid_prefix *p, const struct db_mapping *map,
			struct lisp_record *rec)
{
	unsigned n = map->locs ? map->locs->count : 0;
	struct lisp_locator *locs = arena_alloc(a, sizeof(*locs) * (n ? n : 1));
	if (locs == NULL) {
		counters_inc(LISPMS_M_ARENA_EXHAUSTED);
		return false;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct db_locator *l = &map->locs->loc[i];
		locs[i] = (struct lisp_locator){ .priority = l->priority,
						 .weight = l->weight,
						 .mpriority = l->mpriority,
						 .mweight = l->mweight,
						 .flags = l->flags & LISP_LOC_R };
		afi_from_addr(&l->addr, &locs[i].addr);
	}
	*rec = (struct lisp_record){
		.ttl = map->ttl, .eid_plen = p->plen, .nlocs = (uint16_t)n, .locs = locs
	};
	afi_from_eid(p, &rec->eid);
	return true;
}

bool ms_notify_queue(struct ms *ms, const uint8_t *msg, size_t len, uint64_t nonce,
		     const struct sockaddr_storage *dst, const struct auth_key *key, uint64_t sub)
{
	struct notify_job *j = calloc(1, sizeof(*j) + len);
	if (j == NULL)
		return false;
	cds_wfcq_node_init(&j->qnode);
	cds_lfht_node_init(&j->hnode);
	j->nonce = nonce;
	j->dst = *dst;
	j->key = *key;
	j->sub = sub;
	j->len = len;
	memcpy(j->msg, msg, len);
	atomic_init(&j->acked, false);
	/* a subscriber's publications all leave from one worker (in order), the
	 * subscribers spread over the workers; the rest from worker 0 */
	unsigned nw = atomic_load(&ms->nworkers);
	unsigned w = sub != 0 && nw > 1 ? (unsigned)(sub % nw) : 0;
	struct ms_wq *q = &ms->wq[w];
	LRCU_TSAN_RELEASE(j);
	/* one wake-up per batch: a queue that was not empty has one pending,
	 * and a worker publishing in its tick sends its own queue next */
	if (!cds_wfcq_enqueue(&q->nhead, &q->ntail, &j->qnode) && q->wake &&
	    !ms_session_held(ms, w))
		q->wake(q->arg);
	return true;
}

struct merged_ctx {
	struct ms_thread *t;
	const struct db_event *ev;
};

static int notify_contributor(const struct db_mapping *reg, uint64_t expires, void *arg)
{
	(void)expires;
	struct merged_ctx *c = arg;
	if (!same_owner(&reg->owner, &c->ev->cause))
		queue_notify(c->t, &c->ev->prefix, c->ev->new_map, reg, "merged set changed");
	return 0;
}

static int walk_contributors(const struct eid_prefix *p, const struct db_mapping *m,
			     const struct db_entry *e, void *arg)
{
	(void)p;
	(void)m;
	return db_entry_regs(e, notify_contributor, arg);
}

void ms_notify_events(struct ms_thread *t)
{
	for (struct db_event_copy *c = t->events.head; c != NULL; c = c->next) {
		const struct db_event *ev = &c->ev;
		if (ev->type != DB_EV_CHANGED || ev->old_map == NULL || ev->new_map == NULL ||
		    !(ev->changes & (DB_CH_OWNER | DB_CH_LOCATORS)))
			continue;
		bool merged =
		    (ev->new_map->flags & DB_F_MERGED) || (ev->old_map->flags & DB_F_MERGED);
		if (!merged && same_owner(&ev->old_map->owner, &ev->cause))
			continue;
		if (ms_same_locators(ev->old_map->locs, ev->new_map->locs)) {
			/* e.g. an ETR restarted under a new xTR-ID: nobody's answer changed (D13)
			 */
			counters_inc(LISPMS_M_MS_NOTIFY_UNCHANGED);
			ms_debug(
			    "notify, none for %s (%s, the locators it is answered with did not "
			    "change)",
			    MS_EID(&ev->prefix), merged ? "merged set" : "new registrant");
			continue;
		}
		if (merged) {
			/* every ETR behind a merged set learns the new set (D13) */
			struct merged_ctx mc = { t, ev };
			db_walk(t->ms->db, DB_SCOPE_EXACT, &ev->prefix, walk_contributors, &mc);
		} else {
			/* mobility: the displaced ETR learns who has its EID now */
			queue_notify(t, &ev->prefix, ev->new_map, ev->old_map, "moved");
		}
	}
}

void ms_notify_ack(struct ms_thread *t, const struct dgram *d)
{
	struct lisp_map_notify ack;
	int ret = map_notify_decode(d->data, d->len, &t->scratch, &ack);
	if (ret != LISPMS_EOK) {
		ms_count_malformed(ret);
		return;
	}
	struct cds_lfht_iter it;
	cds_lfht_lookup(t->ms->pending, hash_nonce(ack.nonce), match_nonce, &ack.nonce, &it);
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
	if (node == NULL) {
		counters_inc(LISPMS_M_MS_NOTIFY_ACK_UNKNOWN);
		ms_debug("notify, ack from %s dropped (nonce 0x%016llx matches no pending notify)",
			 MS_SADDR(&d->src), (unsigned long long)ack.nonce);
		return;
	}
	LRCU_TSAN_ACQUIRE(node);
	struct notify_job *j = caa_container_of(node, struct notify_job, hnode);
	if (auth_verify(t->auth, &j->key, 1, d->data, d->len, &ack.auth) != LISPMS_EOK) {
		counters_inc(LISPMS_M_MS_NOTIFY_ACK_UNKNOWN);
		ms_debug("notify, ack from %s dropped (nonce 0x%016llx: not signed with key %u "
			 "alg %u of the notified registration)",
			 MS_SADDR(&d->src), (unsigned long long)ack.nonce, j->key.key_id,
			 j->key.alg_id);
		return;
	}
	bool was = atomic_exchange(&j->acked, true);
	if (!was) {
		counters_inc(LISPMS_M_MS_NOTIFY_ACKED);
		if (j->sub != 0)
			t->ms->notify_acked(t->ms, j->sub);
		ms_debug("notify, acked by %s (nonce 0x%016llx)", MS_SADDR(&d->src),
			 (unsigned long long)ack.nonce);
	}
}

static void free_job(struct rcu_head *head)
{
	free(caa_container_of(head, struct notify_job, rcu));
}

static void retire(struct ms *ms, struct notify_job *j)
{
	if (cds_lfht_del(ms->pending, &j->hnode) == 0)
		atomic_fetch_sub(&ms->npending, 1);
	lrcu_call(&j->rcu, free_job);
}

uint64_t ms_notify_tick(struct ms_thread *t, uint64_t now, struct dgram_outbox *out)
{
	struct ms *ms = t->ms;
	struct ms_wq *q = &ms->wq[t->index];
	/* new jobs: send now, remember for retransmission */
	struct cds_wfcq_node *qn;
	bool half_done = false;
	/* kept in queue order: a subscriber's publications leave in nonce
	 * order (D20) */
	struct notify_job *fresh = NULL, **fresh_tail = &fresh;
	while ((qn = __cds_wfcq_dequeue_nonblocking(&q->nhead, &q->ntail)) != NULL) {
		if (qn == CDS_WFCQ_WOULDBLOCK) {
			/* an enqueue is half done and did not wake us: come back at once */
			half_done = true;
			break;
		}
		struct notify_job *j = caa_container_of(qn, struct notify_job, qnode);
		LRCU_TSAN_ACQUIRE(j);
		j->next_ns = now;
		j->next = NULL;
		*fresh_tail = j;
		fresh_tail = &j->next;
		LRCU_TSAN_RELEASE(&j->hnode);
		cds_lfht_add(ms->pending, hash_nonce(j->nonce), &j->hnode);
		atomic_fetch_add(&ms->npending, 1);
	}
	if (fresh != NULL) {
		/* behind the older ones: those the outbox had no room for last
		 * time leave first (the walk below is as long anyway) */
		struct notify_job **end = &t->pending_list;
		while (*end != NULL)
			end = &(*end)->next;
		*end = fresh;
	}
	uint64_t wait = half_done ? 0 : LISPMS_NS_PER_SEC;
	struct notify_job **pp = &t->pending_list;
	while (*pp != NULL) {
		struct notify_job *j = *pp;
		if (atomic_load(&j->acked) || (j->tries >= NOTIFY_TRIES && now >= j->next_ns)) {
			if (!atomic_load(&j->acked)) {
				counters_inc(LISPMS_M_MS_NOTIFY_GAVE_UP);
				if (j->sub != 0)
					ms->notify_gave_up(ms, j->sub);
				ms_debug(
				    "notify, gave up on %s (nonce 0x%016llx, %u sends, no ack)",
				    MS_SADDR(&j->dst), (unsigned long long)j->nonce, j->tries);
			}
			*pp = j->next;
			retire(ms, j);
			continue;
		}
		if (now >= j->next_ns) {
			if (!ms_emit(out, j->msg, j->len, &j->dst, NULL)) {
				wait = 0; /* outbox full: come back at once */
				pp = &j->next;
				continue;
			}
			counters_inc(j->tries == 0 ? LISPMS_M_MS_TX_MAP_NOTIFY_UNSOLICITED
						   : LISPMS_M_MS_NOTIFY_RETRANSMITTED);
			ms_debug("notify, %s to %s (nonce 0x%016llx, send %u of %u)",
				 j->tries == 0 ? "sent" : "retransmitted", MS_SADDR(&j->dst),
				 (unsigned long long)j->nonce, j->tries + 1, NOTIFY_TRIES);
			j->next_ns = now + retry_gap_s[j->tries] * LISPMS_NS_PER_SEC;
			j->tries++;
		}
		if (j->next_ns - now < wait)
			wait = j->next_ns - now;
		pp = &j->next;
	}
	return wait;
}

size_t ms_notify_pending(struct ms *ms)
{
	return atomic_load(&ms->npending);
}

void notify_thread_release(struct ms_thread *t)
{
	db_event_list_clear(&t->pub); /* changes not yet published: nobody is left to tell */
	while (t->pending_list != NULL) {
		struct notify_job *j = t->pending_list;
		t->pending_list = j->next;
		retire(t->ms, j);
	}
}

void notify_drain_all(struct ms *ms)
{
	for (unsigned w = 0; w < LISPMS_MS_MAX_WORKERS; w++) {
		struct ms_wq *q = &ms->wq[w];
		struct cds_wfcq_node *qn;
		while ((qn = __cds_wfcq_dequeue_nonblocking(&q->nhead, &q->ntail)) != NULL &&
		       qn != CDS_WFCQ_WOULDBLOCK)
			free(caa_container_of(qn, struct notify_job, qnode));
	}
}
