/* SPDX-License-Identifier: MIT */
/*
 * Publish/subscribe (docs/protocol.md D20): building, signing and handing
 * over Map-Notifies, per subscriber in ticket order, and the state dumps of
 * subscriptions (paced by acks over UDP). See ms_pubsub.c for the whole.
 */
#include "ms_pubsub_internal.h"

void ps_jobs_free(struct ps_job *j)
{
	while (j != NULL) {
		struct ps_job *n = j->next;
		free(j->msg);
		free(j);
		j = n;
	}
}

void ps_scratch_free(struct ps_scratch *sc)
{
	if (sc == NULL)
		return;
	arena_deinit(&sc->arena);
	auth_ctx_free(sc->auth);
	free(sc);
}

/* Building space for this thread; under the lock. NULL: out of memory. */
struct ps_scratch *ps_scratch_get(struct ms_pubsub *ps)
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
void ps_scratch_put(struct ms_pubsub *ps, struct ps_scratch *sc)
{
	arena_reset(&sc->arena);
	sc->next = ps->spare;
	ps->spare = sc;
}

/* ---------------------------------------------------------------- sending */

/* Encode sc->recs[0..n) as a Map-Notify with this nonce for the subscriber
 * described by proto (sub, ticket, session, itr, key); signed and framed now
 * when sign_now, else by ps_finish_jobs(). Never NULL unless out of memory;
 * a job whose msg is NULL failed (counted) and only passes its ticket. */
struct ps_job *ps_job_build(struct ps_scratch *sc, const struct ps_job *proto, uint64_t nonce,
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
void ps_finish_jobs(struct ps_scratch *sc, struct ps_job *head, size_t n)
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
void ps_deliver_in_turn(struct ms *ms, struct ps_sub *s, struct ps_job *j)
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

unsigned ps_batch_cap(const struct ps_sub *s)
{
	return s->session != 0 ? PS_SESS_BATCH : PS_UDP_BATCH;
}

void ps_job_proto(const struct ps_sub *s, struct ps_job *p)
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
	ps_job_proto(b->s, &proto);
	proto.ticket = b->s->tk_next++;
	struct ps_job *j = ps_job_build(b->sc, &proto, nonce, b->n, true);
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
	ps_deliver_in_turn(b->ms, b->s, j);
}

static struct lisp_record *batch_slot(struct batch *b)
{
	if (b->n == ps_batch_cap(b->s))
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

void ps_negative_record(struct lisp_record *r, const struct eid_prefix *p, uint32_t ttl)
{
	*r =
	    (struct lisp_record){ .ttl = ttl, .act = LISP_ACT_NATIVE_FORWARD, .eid_plen = p->plen };
	afi_from_eid(p, &r->eid);
}

static void batch_negative(struct batch *b, const struct eid_prefix *p, uint32_t ttl)
{
	ps_negative_record(batch_slot(b), p, ttl);
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
	if (b->s->session == 0 && b->n == ps_batch_cap(b->s) &&
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
void ps_send_state(struct ms *ms, struct ms_pubsub *ps, const struct ms_state *st, struct ps_sub *s,
		   struct ps_pfx *sp, bool first)
{
	struct ps_scratch *sc = ps_scratch_get(ps);
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
	ps_scratch_put(ps, sc);
}

/* After an ack: resync a lagging subscriber, or go on with its dumps. Under the lock. */
void ps_after_ack(struct ms *ms, struct ms_pubsub *ps, struct ps_sub *s)
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
			ps_send_state(ms, ps, st, s, &s->pfx[k], false);
	} else {
		struct ps_scratch *sc = ps_scratch_get(ps);
		for (unsigned k = 0; sc != NULL && k < s->npfx; k++)
			if (s->pfx[k].dumping && s->pending + 1 < PS_DUMP_WINDOW)
				dump_more(ms, ps, sc, s, &s->pfx[k], NULL);
		if (sc != NULL)
			ps_scratch_put(ps, sc);
	}
	lrcu_read_unlock();
}
