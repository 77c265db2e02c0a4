/* SPDX-License-Identifier: MIT */
/*
 * Publish/subscribe, RFC 9437 on the Map-Server (docs/protocol.md D20).
 *
 * A Map-Request with the I bit (xTR-ID, site-ID) and the N bit on its record
 * subscribes its xTR to the record's EID prefix. Who may subscribe: an xTR
 * with a registration in a site that sets allow-subscribe (its publications
 * signed with the Key ID and algorithm of that registration, D21), or one
 * of the `subscribers:` list (signed with its first key); anyone else is
 * answered as a plain Map-Request and counted. The answer is a Map-Notify
 * with the request's nonce carrying the current state: the mapping or the
 * negative answer for the prefix, then every registered more-specific,
 * batched, each further Map-Notify with the subscription's nonce plus one
 * (RFC 9437 §5); each later change a subscription covers (registration,
 * move, merge, withdrawal, expiry) is published the same way, the changes of
 * one batch to one subscriber batched together. A re-subscription must
 * carry a nonce above the stored one (else it is a replay, dropped); a
 * subscription whose only ITR-RLOC has AFI 0 unsubscribes.
 *
 * Delivery: a subscriber that registered on a reliable session gets its
 * publications there as Mapping Notifications (ms_session_deliver); any
 * other gets UDP Map-Notifies at its ITR-RLOC through the notifier
 * (ms_notify_queue), retransmitted until its Map-Notify-Ack (D12). Over
 * UDP a state dump is paced by the acks (PS_DUMP_WINDOW Map-Notifies
 * unacknowledged at most, continued from a cursor with db_walk_after). A
 * subscriber with PS_MAX_PENDING unacknowledged Map-Notifies is lagging:
 * its publications are discarded until it has acked its backlog down to
 * PS_RESYNC_AT, then it gets a fresh state dump (a resync, counted). One
 * that never acked a Map-Notify after every retry is dropped, counted. When
 * its session goes down a subscriber falls back to UDP and is dropped after
 * the registration timeout unless it subscribes again (D7). Housekeeping
 * re-checks every subscriber's permission and key against the
 * configuration in force (a reload may remove them).
 *
 * Threads: every entry point takes the table's lock; the workers (requests,
 * registrations), the notifier (acks) and the control thread (expiry,
 * housekeeping, lispmsctl) all call in. Publishing a batch of changes holds
 * the lock twice, briefly: first to pick, per subscriber, the events its
 * subscriptions cover and to reserve their nonces and delivery tickets
 * (copying key, ITR-RLOC and session), then, after building and signing
 * every Map-Notify outside the lock (one auth_batch_sign() on a scratch of
 * its own, so 100 subscribers are not 100 HMACs under the lock), to hand
 * them over. Per subscriber the hand-over follows the tickets: a thread
 * whose ticket is not next parks its Map-Notifies on the subscriber, and the
 * thread holding the earlier ticket delivers them after its own, so every
 * subscriber receives its publications in nonce order whichever thread
 * finished first. The initial state dump is still built and signed under
 * the lock (it walks the database; the ticket rule orders it too).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/counters.h>
#include <lispms/log.h>
#include <lispms/ms_pubsub.h>
#include <lispms/mtime.h>
#include <lispms/proto_rt.h>

#include "ms_internal.h"

#define PS_MAX_SUBS	4096 /* subscribers held */
#define PS_MAX_PREFIXES 64   /* subscriptions of one subscriber */
#define PS_MAX_PENDING	1024 /* UDP publications awaiting an ack, per subscriber */
#define PS_DUMP_WINDOW	256  /* a UDP state dump goes on while fewer are unacknowledged */
#define PS_RESYNC_AT	64   /* a lagging subscriber is resynchronised at this backlog */
#define PS_UDP_BATCH	32   /* records per UDP Map-Notify */
#define PS_SESS_BATCH	LISPMS_MAX_RECORDS /* per Mapping Notification (an 8-bit count) */
#define PS_NEG_TTL	1		   /* minutes: the record of a prefix with no mapping */

/* One signed Map-Notify for one subscriber, waiting for its turn (ticket). */
struct ps_job {
	struct ps_job *next;
	uint64_t sub, ticket, nonce, session;
	struct sockaddr_storage itr;
	struct auth_key key;
	unsigned nrec;
	size_t len;
	uint8_t *msg; /* NULL: building it failed (its ticket still passes) */
};

/* Building space: one per thread publishing at a time, pooled in the table. */
struct ps_scratch {
	struct ps_scratch *next;
	struct auth_ctx *auth;
	struct arena arena;
	struct lisp_record recs[PS_SESS_BATCH];
	uint8_t buf[MS_ENCODE_MAX];
	uint8_t framed[MS_ENCODE_MAX];
};

struct ps_pfx {
	struct eid_prefix p;
	uint64_t nonce; /* the last one used for it (RFC 9437 §5) */
	/* a state dump in progress (paced by acks over UDP): go on after cursor */
	bool dumping, has_cursor, has_skip;
	struct eid_prefix cursor, skip;
};

struct ps_sub {
	struct ps_sub *next;
	uint64_t id;
	uint8_t xtr_id[16];
	uint64_t site_id;
	bool has_site_id;
	const struct ms_site_id *site; /* allowed by this site; NULL: the subscribers list */
	struct auth_key key;
	char origin[LISPMS_PUBSUB_ORIGIN_LEN];
	struct sockaddr_storage itr;
	uint64_t session; /* 0: UDP */
	uint64_t lost_ns; /* when its session went down, 0: not lost */
	uint32_t timeout_s;
	bool doomed;  /* drop at the end of this round */
	bool lagging; /* its backlog filled: publications wait for a resync */
	enum metric_id doom_reason;
	unsigned npfx;
	struct ps_pfx pfx[PS_MAX_PREFIXES];
	uint64_t published, acked, pending;
	uint64_t tk_next, tk_done; /* tickets handed out; the next to deliver */
	struct ps_job *parked;	   /* built ahead of their turn, by ticket */
	char last_error[64];
};

struct ms_pubsub {
	pthread_mutex_t lock;
	_Atomic size_t nsubs;
	struct ps_sub *head;
	uint64_t next_id;
	struct ps_scratch *spare; /* building space not in use */
};

void (*ms_pubsub_test_built)(struct ms *ms);

struct ms_pubsub *ms_pubsub_new(void)
{
	struct ms_pubsub *ps = calloc(1, sizeof(*ps));
	if (ps == NULL)
		return NULL;
	pthread_mutex_init(&ps->lock, NULL);
	ps->next_id = 1;
	return ps;
}

static void jobs_free(struct ps_job *j)
{
	while (j != NULL) {
		struct ps_job *n = j->next;
		free(j->msg);
		free(j);
		j = n;
	}
}

static void scratch_free(struct ps_scratch *sc)
{
	if (sc == NULL)
		return;
	arena_deinit(&sc->arena);
	auth_ctx_free(sc->auth);
	free(sc);
}

/* Building space for this thread; under the lock. NULL: out of memory. */
static struct ps_scratch *scratch_get(struct ms_pubsub *ps)
{
	struct ps_scratch *sc = ps->spare;
	if (sc != NULL) {
		ps->spare = sc->next;
		return sc;
	}
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return NULL;
	sc->auth = auth_ctx_new();
	if (sc->auth == NULL || arena_init(&sc->arena, 1u << 20) != LISPMS_EOK) {
		auth_ctx_free(sc->auth);
		free(sc);
		return NULL;
	}
	return sc;
}

/* Under the lock. */
static void scratch_put(struct ms_pubsub *ps, struct ps_scratch *sc)
{
	arena_reset(&sc->arena);
	sc->next = ps->spare;
	ps->spare = sc;
}

void ms_pubsub_free(struct ms_pubsub *ps)
{
	if (ps == NULL)
		return;
	while (ps->head != NULL) {
		struct ps_sub *n = ps->head->next;
		jobs_free(ps->head->parked);
		free(ps->head);
		ps->head = n;
	}
	while (ps->spare != NULL) {
		struct ps_scratch *n = ps->spare->next;
		scratch_free(ps->spare);
		ps->spare = n;
	}
	pthread_mutex_destroy(&ps->lock);
	free(ps);
}

bool ms_pubsub_active(const struct ms *ms)
{
	return ms->pubsub != NULL && atomic_load_explicit(&ms->pubsub->nsubs, memory_order_relaxed);
}

static struct ps_sub *find_xtr(struct ms_pubsub *ps, const uint8_t xtr_id[16])
{
	for (struct ps_sub *s = ps->head; s != NULL; s = s->next)
		if (memcmp(s->xtr_id, xtr_id, 16) == 0)
			return s;
	return NULL;
}

static struct ps_sub *find_id(struct ms_pubsub *ps, uint64_t id)
{
	for (struct ps_sub *s = ps->head; s != NULL; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void unlink_sub(struct ms_pubsub *ps, struct ps_sub *s, enum metric_id why)
{
	for (struct ps_sub **pp = &ps->head; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	atomic_fetch_sub(&ps->nsubs, 1);
	counters_gauge_add(LISPMS_M_MS_PUBSUB_SUBSCRIBERS, -1);
	counters_inc(why);
	ms_debug("pubsub, subscriber %s dropped (%s)", s->origin, s->last_error);
	jobs_free(s->parked);
	free(s);
}

/* Drop the subscribers marked during a round. */
static void reap(struct ms_pubsub *ps)
{
	struct ps_sub *s = ps->head;
	while (s != NULL) {
		struct ps_sub *n = s->next;
		if (s->doomed)
			unlink_sub(ps, s, s->doom_reason);
		s = n;
	}
}

static void doom(struct ps_sub *s, enum metric_id why, const char *text)
{
	s->doomed = true;
	s->doom_reason = why;
	snprintf(s->last_error, sizeof(s->last_error), "%s", text);
}

/* ---------------------------------------------------------------- sending */

/* Encode sc->recs[0..n) as a Map-Notify with this nonce for the subscriber
 * described by proto (sub, ticket, session, itr, key); signed and framed now
 * when sign_now, else by finish_jobs(). Never NULL unless out of memory;
 * a job whose msg is NULL failed (counted) and only passes its ticket. */
static struct ps_job *job_build(struct ps_scratch *sc, const struct ps_job *proto, uint64_t nonce,
				unsigned n, bool sign_now)
{
	struct ps_job *j = malloc(sizeof(*j));
	if (j == NULL)
		return NULL;
	*j = *proto;
	j->next = NULL;
	j->nonce = nonce;
	j->nrec = n;
	j->msg = NULL;
	struct lisp_map_notify mn = {
		.type = LISP_MSG_MAP_NOTIFY,
		.nonce = nonce,
		.auth = { .key_id = j->key.key_id,
			  .alg_id = j->key.alg_id,
			  .len = (uint16_t)auth_alg_len(j->key.alg_id) },
		.nrecords = (uint16_t)n,
		.records = sc->recs,
	};
	size_t len;
	if (map_notify_encode(&mn, sc->buf, sizeof(sc->buf), &len) != LISPMS_EOK ||
	    (sign_now && auth_sign(sc->auth, &j->key, sc->buf, len) != LISPMS_EOK)) {
		counters_inc(LISPMS_M_INTERNAL_ERRORS);
		return j;
	}
	arena_reset(&sc->arena);
	j->msg = malloc(len);
	if (j->msg == NULL)
		return j;
	memcpy(j->msg, sc->buf, len);
	j->len = len;
	return j;
}

/* A signed job for a session: wrapped in a Mapping Notification (D3, D20). */
static void job_frame(struct ps_scratch *sc, struct ps_job *j)
{
	if (j->msg == NULL || j->session == 0)
		return;
	struct rt_msg m = { .type = RT_TYPE_MAPPING_NOTIFICATION,
			    .has_id = 1,
			    .id = (uint32_t)j->nonce };
	m.u.inner.msg = j->msg;
	m.u.inner.len = j->len;
	size_t flen;
	uint8_t *f = NULL;
	if (rt_encode(&m, sc->framed, sizeof(sc->framed), &flen) != LISPMS_EOK ||
	    (f = malloc(flen)) == NULL) {
		counters_inc(LISPMS_M_INTERNAL_ERRORS);
		free(j->msg);
		j->msg = NULL;
		return;
	}
	memcpy(f, sc->framed, flen);
	free(j->msg);
	j->msg = f;
	j->len = flen;
}

/* Sign (one auth_batch_sign) and frame a list of jobs built unsigned; outside the lock. */
static void finish_jobs(struct ps_scratch *sc, struct ps_job *head, size_t n)
{
	struct auth_sjob stack[64];
	struct auth_sjob *sj = n <= 64 ? stack : calloc(n, sizeof(*sj));
	size_t k = 0;
	for (struct ps_job *j = head; j != NULL; j = j->next) {
		if (j->msg == NULL)
			continue;
		if (sj == NULL) { /* no room for the batch: one by one */
			if (auth_sign(sc->auth, &j->key, j->msg, j->len) != LISPMS_EOK) {
				counters_inc(LISPMS_M_INTERNAL_ERRORS);
				free(j->msg);
				j->msg = NULL;
			}
			continue;
		}
		sj[k++] = (struct auth_sjob){ .key = &j->key, .msg = j->msg, .len = j->len };
	}
	if (sj != NULL && k > 0) {
		auth_batch_sign(sc->auth, sj, k);
		k = 0;
		for (struct ps_job *j = head; j != NULL; j = j->next) {
			if (j->msg == NULL)
				continue;
			if (sj[k++].ret != LISPMS_EOK) {
				counters_inc(LISPMS_M_INTERNAL_ERRORS);
				free(j->msg);
				j->msg = NULL;
			}
		}
	}
	if (sj != stack)
		free(sj);
	for (struct ps_job *j = head; j != NULL; j = j->next)
		job_frame(sc, j);
}

/* Hand one job to its transport; under the lock, in ticket order. Frees j. */
static void deliver(struct ms *ms, struct ps_sub *s, struct ps_job *j)
{
	if (j->msg == NULL || s->doomed)
		goto done;
	counters_add(LISPMS_M_MS_PUBSUB_RECORDS, j->nrec);
	if (j->session != 0) {
		ms_session_deliver(ms, j->session, j->msg, j->len);
		counters_inc(LISPMS_M_MS_PUBSUB_PUB_SESSION);
		s->published++;
		goto done;
	}
	if (s->lagging)
		goto done; /* its resync will carry the current state */
	if (!ms_notify_queue(ms, j->msg, j->len, j->nonce, &j->itr, &j->key, s->id)) {
		snprintf(s->last_error, sizeof(s->last_error), "out of memory");
		goto done;
	}
	counters_inc(LISPMS_M_MS_PUBSUB_PUB_UDP);
	s->published++;
	if (++s->pending >= PS_MAX_PENDING) {
		/* it fell behind: hold nothing more for it (no nonce is spent on
		 * it meanwhile); once it has acked its backlog it gets a fresh
		 * state dump instead (D20) */
		s->lagging = true;
		counters_inc(LISPMS_M_MS_PUBSUB_RESYNCS);
		snprintf(s->last_error, sizeof(s->last_error), "fell behind: resynchronising");
		ms_debug("pubsub, %s fell behind (%" PRIu64 " unacknowledged): resync when acked",
			 s->origin, s->pending);
	}
done:
	free(j->msg);
	free(j);
}

/* Deliver j if its ticket is next, then whatever was parked behind it; else park it. */
static void deliver_in_turn(struct ms *ms, struct ps_sub *s, struct ps_job *j)
{
	if (j->ticket != s->tk_done) {
		struct ps_job **pp = &s->parked;
		while (*pp != NULL && (*pp)->ticket < j->ticket)
			pp = &(*pp)->next;
		j->next = *pp;
		*pp = j;
		return;
	}
	deliver(ms, s, j);
	s->tk_done++;
	while (s->parked != NULL && s->parked->ticket == s->tk_done) {
		struct ps_job *n = s->parked;
		s->parked = n->next;
		deliver(ms, s, n);
		s->tk_done++;
	}
}

/* A batch of records being built for one subscriber's subscription, under the lock. */
struct batch {
	struct ms *ms;
	struct ps_scratch *sc;
	struct ps_sub *s;
	struct ps_pfx *sp;
	unsigned n;
	bool first;		       /* the next send uses sp->nonce itself (the request's) */
	const struct eid_prefix *skip; /* already in the batch */
	unsigned sent;		       /* Map-Notifies flushed */
};

static unsigned batch_cap(const struct ps_sub *s)
{
	return s->session != 0 ? PS_SESS_BATCH : PS_UDP_BATCH;
}

static void job_proto(const struct ps_sub *s, struct ps_job *p)
{
	memset(p, 0, sizeof(*p));
	p->sub = s->id;
	p->session = s->session;
	p->itr = s->itr;
	p->key = s->key;
}

static void batch_flush(struct batch *b)
{
	if (b->n == 0)
		return;
	uint64_t nonce = b->first ? b->sp->nonce : ++b->sp->nonce;
	b->first = false;
	b->sent++;
	struct ps_job proto;
	job_proto(b->s, &proto);
	proto.ticket = b->s->tk_next++;
	struct ps_job *j = job_build(b->sc, &proto, nonce, b->n, true);
	b->n = 0;
	arena_reset(&b->sc->arena);
	if (j == NULL) {
		/* its ticket must pass all the same */
		j = calloc(1, sizeof(*j));
		if (j == NULL) {
			b->s->tk_done++; /* unreachable in practice; keep the order moving */
			return;
		}
		j->ticket = proto.ticket;
	}
	job_frame(b->sc, j);
	deliver_in_turn(b->ms, b->s, j);
}

static struct lisp_record *batch_slot(struct batch *b)
{
	if (b->n == batch_cap(b->s))
		batch_flush(b);
	return &b->sc->recs[b->n];
}

static void batch_map(struct batch *b, const struct eid_prefix *p, const struct db_mapping *m)
{
	struct lisp_record *r = batch_slot(b);
	if (!ms_record_from_map(&b->sc->arena, p, m, r)) {
		batch_flush(b); /* the arena is used up: send what is there, retry once */
		r = batch_slot(b);
		if (!ms_record_from_map(&b->sc->arena, p, m, r))
			return;
	}
	b->n++;
}

static void negative_record(struct lisp_record *r, const struct eid_prefix *p, uint32_t ttl)
{
	*r =
	    (struct lisp_record){ .ttl = ttl, .act = LISP_ACT_NATIVE_FORWARD, .eid_plen = p->plen };
	afi_from_eid(p, &r->eid);
}

static void batch_negative(struct batch *b, const struct eid_prefix *p, uint32_t ttl)
{
	negative_record(batch_slot(b), p, ttl);
	b->n++;
}

static int dump_one(const struct eid_prefix *p, const struct db_mapping *m,
		    const struct db_entry *e, void *arg)
{
	(void)e;
	struct batch *b = arg;
	struct ps_pfx *sp = b->sp;
	if (!sp->has_skip || !eid_prefix_equal(p, &sp->skip))
		batch_map(b, p, m);
	sp->cursor = *p;
	sp->has_cursor = true;
	if (b->s->doomed || b->s->lagging)
		return 1;
	/* over UDP the dump is paced by the subscriber's acks (D20) */
	if (b->s->session == 0 && b->n == batch_cap(b->s) &&
	    b->s->pending + b->sent + 1 >= PS_DUMP_WINDOW)
		return 1; /* stops on a full batch: no short Map-Notifies in between */
	return 0;
}

/* Go on with the state dump of sp: every more-specific after its cursor, as
 * far as the window lets; under the lock, inside the read lock. */
static void dump_more(struct ms *ms, struct ms_pubsub *ps, struct ps_scratch *sc, struct ps_sub *s,
		      struct ps_pfx *sp, struct batch *b)
{
	struct batch local = { ms, sc, s, sp, 0, false, NULL, 0 };
	if (b == NULL)
		b = &local;
	(void)ps;
	int r = db_walk_after(ms->db, &sp->p, sp->has_cursor ? &sp->cursor : NULL, dump_one, b);
	batch_flush(b);
	if (r != 1)
		sp->dumping = false; /* complete (or the cursor vanished: nothing is left) */
}

/* The current state of subscription sp of s: the answer for its prefix, then
 * every more-specific (paced over UDP). first: the first Map-Notify carries
 * sp->nonce itself (the answer to a subscription), else the next nonce. */
static void send_state(struct ms *ms, struct ms_pubsub *ps, const struct ms_state *st,
		       struct ps_sub *s, struct ps_pfx *sp, bool first)
{
	struct ps_scratch *sc = scratch_get(ps);
	if (sc == NULL) {
		counters_inc(LISPMS_M_INTERNAL_ERRORS);
		snprintf(s->last_error, sizeof(s->last_error), "out of memory");
		return;
	}
	struct batch b = { ms, sc, s, sp, 0, first, NULL, 0 };
	struct ms_decision dec;
	ms_decide(st, ms->db, &sp->p, &dec);
	sp->has_skip = dec.map != NULL;
	if (dec.map != NULL) {
		batch_map(&b, &dec.prefix, dec.map);
		sp->skip = dec.prefix;
	} else {
		batch_negative(&b, &sp->p, dec.ttl);
	}
	sp->dumping = true;
	sp->has_cursor = false;
	dump_more(ms, ps, sc, s, sp, &b);
	scratch_put(ps, sc);
}

/* After an ack: resync a lagging subscriber, or go on with its dumps. Under the lock. */
static void after_ack(struct ms *ms, struct ms_pubsub *ps, struct ps_sub *s)
{
	bool resync = s->lagging && s->pending <= PS_RESYNC_AT;
	bool more = false;
	for (unsigned k = 0; k < s->npfx; k++)
		more |= s->pfx[k].dumping;
	if (!resync && (!more || s->lagging || s->pending > PS_DUMP_WINDOW / 2))
		return;
	lrcu_read_lock();
	const struct ms_state *st = lrcu_deref(ms->state);
	if (resync) {
		s->lagging = false;
		ms_debug("pubsub, %s caught up: resynchronising %u subscriptions", s->origin,
			 s->npfx);
		for (unsigned k = 0; k < s->npfx && !s->lagging; k++)
			send_state(ms, ps, st, s, &s->pfx[k], false);
	} else {
		struct ps_scratch *sc = scratch_get(ps);
		for (unsigned k = 0; sc != NULL && k < s->npfx; k++)
			if (s->pfx[k].dumping && s->pending + 1 < PS_DUMP_WINDOW)
				dump_more(ms, ps, sc, s, &s->pfx[k], NULL);
		if (sc != NULL)
			scratch_put(ps, sc);
	}
	lrcu_read_unlock();
}

/* ------------------------------------------------------------- authorising */

struct find_reg {
	const uint8_t *xtr_id;
	const struct ms_site_id *site;
	const struct db_mapping *found;
};

static int match_reg(const struct db_mapping *reg, uint64_t expires, void *arg)
{
	(void)expires;
	struct find_reg *f = arg;
	if (reg->site == f->site && reg->owner.has_xtr_id &&
	    memcmp(reg->owner.xtr_id, f->xtr_id, 16) == 0) {
		f->found = reg;
		return 1;
	}
	return 0;
}

static int walk_regs(const struct eid_prefix *p, const struct db_mapping *m,
		     const struct db_entry *e, void *arg)
{
	(void)p;
	(void)m;
	return db_entry_regs(e, match_reg, arg);
}

/* What lets an xTR subscribe to eid now. */
struct permit {
	const struct ms_site_id *site;
	struct auth_key key;
	char origin[LISPMS_PUBSUB_ORIGIN_LEN];
	uint64_t session;
	uint32_t timeout_s;
};

static bool subscriber_covers(const struct conf_subscriber *c, const struct eid_prefix *eid)
{
	if (c->nprefixes == 0)
		return true;
	for (size_t i = 0; i < c->nprefixes; i++)
		if (eid_prefix_covers(&c->prefixes[i], eid))
			return true;
	return false;
}

static bool permitted(const struct ms *ms, const struct ms_state *st, const uint8_t xtr_id[16],
		      const struct eid_prefix *eid, struct permit *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < conf_subscriber_count(st->conf); i++) {
		const struct conf_subscriber *c = conf_subscriber_at(st->conf, i);
		if (memcmp(c->xtr_id, xtr_id, 16) != 0 || !subscriber_covers(c, eid))
			continue;
		const struct conf_key *k = &c->keys[0];
		if (auth_key_init(&out->key, k->id, k->alg, k->secret, k->secret_len) != LISPMS_EOK)
			return false;
		snprintf(out->origin, sizeof(out->origin), "subscriber %s", c->name);
		out->timeout_s = conf_server(st->conf)->registration_timeout;
		return true;
	}
	for (size_t i = 0; i < site_index_count(st->sites); i++) {
		const struct ms_site *site = site_index_site(st->sites, i);
		if (!site->conf->allow_subscribe)
			continue;
		struct find_reg f = { xtr_id, site->id, NULL };
		for (size_t j = 0; j < site->conf->nprefixes && f.found == NULL; j++)
			db_walk(ms->db, DB_SCOPE_PREFIX, &site->conf->prefixes[j], walk_regs, &f);
		if (f.found == NULL)
			continue;
		const struct auth_key *k = ms_site_key(site, f.found->key_id, f.found->alg_id);
		if (k == NULL)
			continue;
		out->site = site->id;
		out->key = *k;
		out->session = f.found->owner.session;
		out->timeout_s = site->conf->registration_timeout;
		snprintf(out->origin, sizeof(out->origin), "site %s", site->conf->name);
		return true;
	}
	return false;
}

/* Is s still allowed, with the same key, by the configuration in force? */
static bool still_permitted(const struct ms_state *st, const struct ps_sub *s)
{
	if (s->site != NULL) {
		const struct ms_site *site = ms_state_site(st, s->site);
		return site != NULL && site->conf->allow_subscribe &&
		       ms_site_key(site, s->key.key_id, s->key.alg_id) != NULL &&
		       memcmp(ms_site_key(site, s->key.key_id, s->key.alg_id)->ipad, s->key.ipad,
			      sizeof(s->key.ipad)) == 0;
	}
	for (size_t i = 0; i < conf_subscriber_count(st->conf); i++) {
		const struct conf_subscriber *c = conf_subscriber_at(st->conf, i);
		if (memcmp(c->xtr_id, s->xtr_id, 16) != 0)
			continue;
		struct auth_key k;
		if (auth_key_init(&k, c->keys[0].id, c->keys[0].alg, c->keys[0].secret,
				  c->keys[0].secret_len) != LISPMS_EOK)
			return false;
		if (k.key_id != s->key.key_id || k.alg_id != s->key.alg_id ||
		    memcmp(k.ipad, s->key.ipad, sizeof(k.ipad)) != 0)
			return false;
		for (unsigned j = 0; j < s->npfx; j++)
			if (!subscriber_covers(c, &s->pfx[j].p))
				return false;
		return true;
	}
	return false;
}

/* --------------------------------------------------------------- requests */

static bool unsubscribing(const struct lisp_map_request *req)
{
	return req->nitr == 1 && req->itr_rlocs[0].kind == AFI_PLAIN &&
	       req->itr_rlocs[0].afi == LISP_AFI_NONE;
}

static struct ps_pfx *find_pfx(struct ps_sub *s, const struct eid_prefix *p)
{
	for (unsigned i = 0; i < s->npfx; i++)
		if (eid_prefix_equal(&s->pfx[i].p, p))
			return &s->pfx[i];
	return NULL;
}

bool ms_pubsub_request(struct ms_thread *t, const struct lisp_map_request *req,
		       const struct eid_prefix *eid, const struct sockaddr_storage *itr)
{
	struct ms *ms = t->ms;
	struct ms_pubsub *ps = ms->pubsub;
	if (ps == NULL)
		return false;
	pthread_mutex_lock(&ps->lock);
	struct ps_sub *s = find_xtr(ps, req->xtr_id);
	struct ps_pfx *sp = s ? find_pfx(s, eid) : NULL;
	bool handled = true;
	if (sp != NULL && req->nonce <= sp->nonce) {
		/* RFC 9437 §5: a nonce not above the stored one is a replay */
		counters_inc(LISPMS_M_MS_PUBSUB_REPLAYED);
		ms_debug("pubsub, request for %s from %s dropped (nonce 0x%016" PRIx64
			 " not above 0x%016" PRIx64 ": a replay)",
			 MS_EID(eid), s->origin, req->nonce, sp->nonce);
		goto out;
	}
	if (unsubscribing(req)) {
		if (sp != NULL) {
			*sp = s->pfx[--s->npfx];
			counters_inc(LISPMS_M_MS_PUBSUB_UNSUBSCRIBED);
			ms_debug("pubsub, %s unsubscribed from %s", s->origin, MS_EID(eid));
			if (s->npfx == 0) {
				snprintf(s->last_error, sizeof(s->last_error), "unsubscribed");
				unlink_sub(ps, s, LISPMS_M_MS_PUBSUB_UNSUBSCRIBED);
			}
		}
		goto out;
	}
	struct permit pm;
	if (itr == NULL || !permitted(ms, t->st, req->xtr_id, eid, &pm)) {
		counters_inc(LISPMS_M_MS_PUBSUB_REFUSED);
		ms_debug("pubsub, subscription to %s refused (xTR-ID %02x%02x%02x%02x...: %s)",
			 MS_EID(eid), req->xtr_id[0], req->xtr_id[1], req->xtr_id[2],
			 req->xtr_id[3], itr == NULL ? "no usable ITR-RLOC" : "not allowed");
		handled = false;
		goto out;
	}
	if (s == NULL) {
		if (atomic_load(&ps->nsubs) >= PS_MAX_SUBS) {
			counters_inc(LISPMS_M_MS_PUBSUB_LIMITED);
			goto out;
		}
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			goto out;
		s->id = ps->next_id++;
		memcpy(s->xtr_id, req->xtr_id, 16);
		s->next = NULL;
		struct ps_sub **pp = &ps->head;
		while (*pp != NULL)
			pp = &(*pp)->next;
		*pp = s;
		atomic_fetch_add(&ps->nsubs, 1);
		counters_gauge_add(LISPMS_M_MS_PUBSUB_SUBSCRIBERS, 1);
	}
	s->has_site_id = req->has_site_id;
	s->site_id = req->site_id;
	s->site = pm.site;
	s->key = pm.key;
	memcpy(s->origin, pm.origin, sizeof(s->origin));
	s->itr = *itr;
	s->session = pm.session;
	s->lost_ns = 0;
	s->timeout_s = pm.timeout_s;
	if (sp == NULL) {
		if (s->npfx == PS_MAX_PREFIXES) {
			counters_inc(LISPMS_M_MS_PUBSUB_LIMITED);
			snprintf(s->last_error, sizeof(s->last_error), "too many subscriptions");
			goto out;
		}
		sp = &s->pfx[s->npfx++];
		sp->p = *eid;
	}
	sp->nonce = req->nonce;
	counters_inc(LISPMS_M_MS_PUBSUB_SUBSCRIBED);
	ms_debug("pubsub, %s subscribed to %s (%s, key %u alg %u)", s->origin, MS_EID(eid),
		 s->session ? "on its session" : MS_SADDR(itr), s->key.key_id, s->key.alg_id);
	s->lagging = false;
	send_state(ms, ps, t->st, s, sp, true);
	reap(ps);
out:
	pthread_mutex_unlock(&ps->lock);
	return handled;
}

/* ------------------------------------------------------------ publishing */

/* What one subscription publishes of a batch of events, chosen under the lock. */
struct ps_plan {
	struct ps_job proto;  /* subscriber, key, ITR-RLOC, session; first ticket */
	uint64_t nonce0;      /* the first of its reserved nonces */
	unsigned cap, nbatch; /* records per Map-Notify, Map-Notifies */
	size_t ev0, nev;      /* its events in the event array */
};

struct ps_plans {
	struct ps_plan *v;
	size_t n, cap;
	const struct db_event **ev;
	size_t nev, evcap;
};

static bool grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 16;
	while (c < need)
		c *= 2;
	void *n = realloc(*v, c * size);
	if (n == NULL)
		return false;
	*v = n;
	*cap = c;
	return true;
}

/* Phase 1, under the lock: which events each subscription covers; nonces and tickets. */
static void plan_events(struct ms_pubsub *ps, const struct db_event_list *l, struct ps_plans *pl)
{
	for (struct ps_sub *s = ps->head; s != NULL; s = s->next) {
		if (s->lagging)
			continue; /* its resync carries the state: no nonce spent */
		for (unsigned k = 0; k < s->npfx; k++) {
			size_t ev0 = pl->nev;
			for (const struct db_event_copy *c = l->head; c != NULL; c = c->next) {
				const struct db_event *ev = &c->ev;
				if (ev->type == DB_EV_CHANGED && ev->changes == 0)
					continue;
				if (!eid_prefix_covers(&s->pfx[k].p, &ev->prefix))
					continue;
				/* overlapping subscriptions: the first that covers it publishes */
				bool earlier = false;
				for (unsigned e = 0; e < k && !earlier; e++)
					earlier = eid_prefix_covers(&s->pfx[e].p, &ev->prefix);
				if (earlier)
					continue;
				if (!grow((void **)&pl->ev, &pl->evcap, pl->nev + 1,
					  sizeof(*pl->ev))) {
					counters_inc(LISPMS_M_INTERNAL_ERRORS);
					break;
				}
				pl->ev[pl->nev++] = ev;
			}
			if (pl->nev == ev0)
				continue;
			if (!grow((void **)&pl->v, &pl->cap, pl->n + 1, sizeof(*pl->v))) {
				counters_inc(LISPMS_M_INTERNAL_ERRORS);
				pl->nev = ev0;
				continue;
			}
			struct ps_plan *p = &pl->v[pl->n++];
			job_proto(s, &p->proto);
			p->cap = batch_cap(s);
			p->ev0 = ev0;
			p->nev = pl->nev - ev0;
			p->nbatch = (unsigned)((p->nev + p->cap - 1) / p->cap);
			p->nonce0 = s->pfx[k].nonce + 1;
			s->pfx[k].nonce += p->nbatch;
			p->proto.ticket = s->tk_next;
			s->tk_next += p->nbatch;
		}
	}
}

/* Phase 2, outside the lock: build every planned Map-Notify, then sign them in one batch. */
static struct ps_job *build_plans(struct ps_scratch *sc, const struct ps_plans *pl)
{
	struct ps_job *head = NULL, **tail = &head;
	size_t njobs = 0;
	for (size_t i = 0; i < pl->n; i++) {
		const struct ps_plan *p = &pl->v[i];
		size_t e = 0;
		for (unsigned b = 0; b < p->nbatch; b++) {
			unsigned n = 0;
			for (; e < p->nev && n < p->cap; e++) {
				const struct db_event *ev = pl->ev[p->ev0 + e];
				struct lisp_record *r = &sc->recs[n];
				if (ev->new_map == NULL)
					negative_record(r, &ev->prefix, PS_NEG_TTL);
				else if (!ms_record_from_map(&sc->arena, &ev->prefix, ev->new_map,
							     r)) {
					counters_inc(LISPMS_M_INTERNAL_ERRORS);
					continue;
				}
				n++;
			}
			struct ps_job proto = p->proto;
			proto.ticket += b;
			struct ps_job *j = job_build(sc, &proto, p->nonce0 + b, n, false);
			arena_reset(&sc->arena);
			if (j == NULL && (j = calloc(1, sizeof(*j))) != NULL)
				*j = (struct ps_job){ .sub = proto.sub, .ticket = proto.ticket };
			if (j == NULL)
				continue; /* out of memory: the subscriber's order stalls, see below
					   */
			*tail = j;
			tail = &j->next;
			njobs++;
		}
	}
	finish_jobs(sc, head, njobs);
	return head;
}

void ms_pubsub_events(struct ms *ms, const struct db_event_list *l)
{
	struct ms_pubsub *ps = ms->pubsub;
	if (!ms_pubsub_active(ms) || l->head == NULL)
		return;
	struct ps_plans pl = { 0 };
	pthread_mutex_lock(&ps->lock);
	plan_events(ps, l, &pl);
	struct ps_scratch *sc = pl.n > 0 ? scratch_get(ps) : NULL;
	pthread_mutex_unlock(&ps->lock);
	if (pl.n == 0)
		goto out;
	struct ps_job *jobs = NULL;
	if (sc != NULL)
		jobs = build_plans(sc, &pl);
	else
		counters_inc(LISPMS_M_INTERNAL_ERRORS);
	if (ms_pubsub_test_built != NULL)
		ms_pubsub_test_built(ms);
	pthread_mutex_lock(&ps->lock);
	/* every ticket handed out must pass, built or not, or the subscriber's
	 * later publications would wait behind it for ever */
	struct ps_job *j = jobs;
	for (size_t i = 0; i < pl.n; i++) {
		const struct ps_plan *p = &pl.v[i];
		struct ps_sub *s = find_id(ps, p->proto.sub);
		for (unsigned b = 0; b < p->nbatch; b++) {
			struct ps_job *cur = NULL;
			if (j != NULL && j->sub == p->proto.sub &&
			    j->ticket == p->proto.ticket + b) {
				cur = j;
				j = j->next;
			} else if ((cur = calloc(1, sizeof(*cur))) != NULL) {
				cur->sub = p->proto.sub;
				cur->ticket = p->proto.ticket + b;
			}
			if (s == NULL) { /* dropped meanwhile */
				if (cur != NULL) {
					cur->next = NULL;
					jobs_free(cur);
				}
				continue;
			}
			if (cur == NULL) {
				counters_inc(LISPMS_M_INTERNAL_ERRORS);
				doom(s, LISPMS_M_MS_PUBSUB_DROP_BACKLOG, "out of memory");
				continue;
			}
			deliver_in_turn(ms, s, cur);
		}
	}
	if (sc != NULL)
		scratch_put(ps, sc);
	reap(ps);
	pthread_mutex_unlock(&ps->lock);
out:
	free(pl.v);
	free(pl.ev);
}

int ms_pubsub_withdraw(struct ms *ms, const struct eid_prefix *p, const struct db_owner *owner)
{
	if (!ms_pubsub_active(ms))
		return db_withdraw(ms->db, p, owner, NULL);
	struct db_event_list l;
	db_event_list_init(&l);
	struct db_sink sink = { db_event_list_add, &l };
	int ret = db_withdraw(ms->db, p, owner, &sink);
	ms_pubsub_events(ms, &l);
	db_event_list_clear(&l);
	return ret;
}

void ms_pubsub_acked(struct ms *ms, uint64_t sub)
{
	struct ms_pubsub *ps = ms->pubsub;
	counters_inc(LISPMS_M_MS_PUBSUB_ACKED);
	pthread_mutex_lock(&ps->lock);
	struct ps_sub *s = find_id(ps, sub);
	if (s != NULL) {
		s->acked++;
		if (s->pending > 0)
			s->pending--;
		after_ack(ms, ps, s);
		reap(ps);
	}
	pthread_mutex_unlock(&ps->lock);
}

void ms_pubsub_gave_up(struct ms *ms, uint64_t sub)
{
	struct ms_pubsub *ps = ms->pubsub;
	pthread_mutex_lock(&ps->lock);
	struct ps_sub *s = find_id(ps, sub);
	if (s != NULL) {
		/* it never acknowledged a publication after every retry (D12): it is gone */
		snprintf(s->last_error, sizeof(s->last_error), "no Map-Notify-Ack after %s",
			 "every retry");
		unlink_sub(ps, s, LISPMS_M_MS_PUBSUB_DROP_NO_ACK);
	}
	pthread_mutex_unlock(&ps->lock);
}

void ms_pubsub_session_down(struct ms *ms, uint64_t session, uint64_t now_ns)
{
	struct ms_pubsub *ps = ms->pubsub;
	if (!ms_pubsub_active(ms))
		return;
	pthread_mutex_lock(&ps->lock);
	for (struct ps_sub *s = ps->head; s != NULL; s = s->next)
		if (s->session == session) {
			s->session = 0; /* UDP to its ITR-RLOC from now on */
			s->lost_ns = now_ns ? now_ns : 1;
			snprintf(s->last_error, sizeof(s->last_error), "session lost");
		}
	pthread_mutex_unlock(&ps->lock);
}

void ms_pubsub_housekeeping(struct ms *ms, uint64_t now_ns)
{
	struct ms_pubsub *ps = ms->pubsub;
	if (!ms_pubsub_active(ms))
		return;
	lrcu_read_lock();
	const struct ms_state *st = lrcu_deref(ms->state);
	pthread_mutex_lock(&ps->lock);
	for (struct ps_sub *s = ps->head; s != NULL; s = s->next) {
		if (!still_permitted(st, s))
			doom(s, LISPMS_M_MS_PUBSUB_DROP_UNAUTHORISED,
			     "no longer allowed by the configuration");
		else if (s->lost_ns != 0 &&
			 now_ns - s->lost_ns >= (uint64_t)s->timeout_s * LISPMS_NS_PER_SEC)
			doom(s, LISPMS_M_MS_PUBSUB_DROP_EXPIRED,
			     "session lost, not renewed within the registration timeout");
	}
	reap(ps);
	pthread_mutex_unlock(&ps->lock);
	lrcu_read_unlock();
}

/* ------------------------------------------------------------ operators */

size_t ms_subscriptions_count(struct ms *ms)
{
	return ms->pubsub ? atomic_load(&ms->pubsub->nsubs) : 0;
}

size_t ms_subscriptions_list(struct ms *ms, struct ms_subscription_info *out, size_t max)
{
	struct ms_pubsub *ps = ms->pubsub;
	size_t n = 0;
	if (ps == NULL)
		return 0;
	pthread_mutex_lock(&ps->lock);
	for (struct ps_sub *s = ps->head; s != NULL && n < max; s = s->next, n++) {
		struct ms_subscription_info *o = &out[n];
		memset(o, 0, sizeof(*o));
		memcpy(o->xtr_id, s->xtr_id, 16);
		o->site_id = s->site_id;
		o->has_site_id = s->has_site_id;
		memcpy(o->origin, s->origin, sizeof(o->origin));
		o->itr = s->itr;
		o->session = s->session;
		o->nprefixes = s->npfx;
		for (unsigned i = 0; i < s->npfx && i < LISPMS_PUBSUB_INFO_PREFIXES; i++)
			o->prefixes[i] = s->pfx[i].p;
		o->published = s->published;
		o->acked = s->acked;
		o->pending = s->pending;
		memcpy(o->last_error, s->last_error, sizeof(o->last_error));
	}
	pthread_mutex_unlock(&ps->lock);
	return n;
}

bool ms_subscription_drop(struct ms *ms, const uint8_t xtr_id[16])
{
	struct ms_pubsub *ps = ms->pubsub;
	if (ps == NULL)
		return false;
	pthread_mutex_lock(&ps->lock);
	struct ps_sub *s = find_xtr(ps, xtr_id);
	if (s != NULL) {
		snprintf(s->last_error, sizeof(s->last_error), "dropped by the operator");
		unlink_sub(ps, s, LISPMS_M_MS_PUBSUB_DROP_OPERATOR);
	}
	pthread_mutex_unlock(&ps->lock);
	return s != NULL;
}
