/* SPDX-License-Identifier: MIT */
/*
 * Publish/subscribe (docs/protocol.md D20): publishing a batch of database
 * changes to every subscription that covers them. See ms_pubsub.c for the
 * whole.
 *
 * Batches: a worker's Registrations hand their changes to ms_pubsub_defer(),
 * which holds them in the worker (the first one wakes it) until its tick
 * (ms_pubsub_flush(), first thing in ms_tick()): the changes of a whole
 * event-loop round go to each subscriber as one Mapping Notification per
 * 255 records (one UDP Map-Notify per 32), not one per change. A held
 * change is published only if the database still shows it, decided under
 * the lock with the nonces and tickets: another worker may have applied a
 * later change to the prefix and published it first. Expiry and reload
 * withdrawals publish at once (ms_pubsub_events()), under the same rule.
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
#include "ms_pubsub_internal.h"

/* ------------------------------------------------------------ publishing */

/* What one subscription publishes of a batch of events, chosen under the lock. */
struct ps_plan {
	struct ps_job proto;  /* subscriber, key, ITR-RLOC, session; first ticket */
	uint64_t nonce0;      /* the first of its reserved nonces */
	unsigned cap, nbatch; /* records per Map-Notify, Map-Notifies */
	size_t ev0, nev;      /* its events in the event array */
};

/*
 * A Map-Notify holds at most cap records and PS_BATCH_BYTES of them: a
 * record's size is bounded from its locator count (PS_REC_BYTES for the
 * record and its EID, LCAF included, PS_LOC_BYTES per locator), so 255
 * records with many locators each are cut into several Map-Notifies rather
 * than one that cannot be encoded. Planning (under the lock, to reserve the
 * nonces and tickets) and building cut at the same places.
 */
#define PS_REC_BYTES   48
#define PS_LOC_BYTES   32
#define PS_BATCH_BYTES 60000

static size_t ps_event_bytes(const struct db_event *ev)
{
	const struct db_mapping *m = ev->new_map;
	size_t n = m != NULL && m->locs != NULL ? m->locs->count : 0;
	return PS_REC_BYTES + n * PS_LOC_BYTES;
}

/* The end of the batch that starts at event e of the plan's nev events. */
static size_t ps_batch_end(const struct db_event *const *ev, size_t nev, unsigned cap, size_t e)
{
	size_t bytes = 0, n = 0;
	for (; e < nev && n < cap; e++, n++) {
		size_t b = ps_event_bytes(ev[e]);
		if (n > 0 && bytes + b > PS_BATCH_BYTES)
			break;
		bytes += b;
	}
	return e;
}

struct ps_plans {
	struct ps_plan *v;
	size_t n, cap;
	const struct db_event **ev;
	size_t nev, evcap;
	const struct db_event **live; /* the events to publish */
	size_t nlive, livecap;
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

/* Does ev still describe the database, under the read lock? A change to the
 * same prefix applied since (by any worker) makes it stale: the publication
 * of that later change carries the state instead. */
static bool still_current(const struct db *db, const struct db_event *ev)
{
	const struct db_mapping *m = db_lookup_exact(db, &ev->prefix);
	const struct db_mapping *e = ev->new_map;
	if (m == NULL || e == NULL)
		return m == e;
	return m->ttl == e->ttl && m->flags == e->flags && ms_same_locators(m->locs, e->locs);
}

/* The events worth publishing, under the lock; current_only: the stale ones left out. */
static bool pick_events(struct ms *ms, const struct db_event_list *l, bool current_only,
			struct ps_plans *pl)
{
	size_t n = 0;
	for (const struct db_event_copy *c = l->head; c != NULL; c = c->next) {
		const struct db_event *ev = &c->ev;
		if (ev->type == DB_EV_CHANGED && ev->changes == 0)
			continue;
		if (current_only && !still_current(ms->db, ev)) {
			counters_inc(LISPMS_M_MS_PUBSUB_SUPERSEDED);
			continue;
		}
		if (!grow((void **)&pl->live, &pl->livecap, n + 1, sizeof(*pl->live))) {
			counters_inc(LISPMS_M_INTERNAL_ERRORS);
			return false;
		}
		pl->live[n++] = ev;
	}
	pl->nlive = n;
	return true;
}

/* Phase 1, under the lock: which events each subscription covers; nonces and tickets. */
static void plan_events(struct ms_pubsub *ps, struct ps_plans *pl)
{
	for (struct ps_sub *s = ps->head; s != NULL; s = s->next) {
		if (s->lagging)
			continue; /* its resync carries the state: no nonce spent */
		for (unsigned k = 0; k < s->npfx; k++) {
			size_t ev0 = pl->nev;
			for (size_t i = 0; i < pl->nlive; i++) {
				const struct db_event *ev = pl->live[i];
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
			ps_job_proto(s, &p->proto);
			p->cap = ps_batch_cap(s);
			p->ev0 = ev0;
			p->nev = pl->nev - ev0;
			p->nbatch = 0;
			for (size_t e = 0; e < p->nev; p->nbatch++)
				e = ps_batch_end(pl->ev + ev0, p->nev, p->cap, e);
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
			size_t end = ps_batch_end(pl->ev + p->ev0, p->nev, p->cap, e);
			for (; e < end; e++) {
				const struct db_event *ev = pl->ev[p->ev0 + e];
				struct lisp_record *r = &sc->recs[n];
				if (ev->new_map == NULL)
					ps_negative_record(r, &ev->prefix, PS_NEG_TTL);
				else if (!ms_record_from_map(&sc->arena, &ev->prefix, ev->new_map,
							     r)) {
					counters_inc(LISPMS_M_INTERNAL_ERRORS);
					continue;
				}
				n++;
			}
			struct ps_job proto = p->proto;
			proto.ticket += b;
			struct ps_job *j = ps_job_build(sc, &proto, p->nonce0 + b, n, false);
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
	ps_finish_jobs(sc, head, njobs);
	return head;
}

/* Publish l; current_only: leave out the changes a later one superseded. */
static void publish(struct ms *ms, const struct db_event_list *l, bool current_only)
{
	struct ms_pubsub *ps = ms->pubsub;
	if (!ms_pubsub_active(ms) || l->head == NULL)
		return;
	struct ps_plans pl = { 0 };
	lrcu_read_lock();
	pthread_mutex_lock(&ps->lock);
	if (pick_events(ms, l, current_only, &pl))
		plan_events(ps, &pl);
	struct ps_scratch *sc = pl.n > 0 ? ps_scratch_get(ps) : NULL;
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
		struct ps_sub *s = ps_find_id(ps, p->proto.sub);
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
					ps_jobs_free(cur);
				}
				continue;
			}
			if (cur == NULL) {
				counters_inc(LISPMS_M_INTERNAL_ERRORS);
				ps_doom(s, LISPMS_M_MS_PUBSUB_DROP_BACKLOG, "out of memory");
				continue;
			}
			ps_deliver_in_turn(ms, s, cur);
		}
	}
	if (sc != NULL)
		ps_scratch_put(ps, sc);
	ps_reap(ps);
	pthread_mutex_unlock(&ps->lock);
out:
	lrcu_read_unlock();
	free(pl.v);
	free(pl.ev);
	free(pl.live);
}

/*
 * Expiry, reload withdrawals and threads without ticks: published at once,
 * but with the same rule as held changes. A worker may have applied and
 * published a later change to one of these prefixes meanwhile (an expiry
 * walk collects its events before it publishes them): the stale event is
 * left out, so the last publication of a prefix carries its current state.
 */
void ms_pubsub_events(struct ms *ms, const struct db_event_list *l)
{
	publish(ms, l, true);
}

/* Publish the changes t holds. */
static void publish_held(struct ms_thread *t)
{
	/*
	 * Another worker may have applied a later change to one of these
	 * prefixes and published it first: publishing this one now would
	 * leave its subscribers with the older state. Whether a change is
	 * still the current one is decided under the table's lock with the
	 * nonces and tickets, so a later publication always carries a state
	 * at least as new (D20).
	 */
	publish(t->ms, &t->pub, true);
	db_event_list_clear(&t->pub);
}

void ms_pubsub_defer(struct ms_thread *t)
{
	struct db_event_list *l = &t->events;
	const struct ms_wq *q = &t->ms->wq[t->index];
	if (!ms_pubsub_active(t->ms) || l->head == NULL)
		return;
	if (q->wake == NULL) { /* nobody brings this thread's ticks: now */
		ms_pubsub_events(t->ms, l);
		return;
	}
	if (t->pub.head == NULL)
		t->pub.head = l->head;
	else
		*t->pub.tail = l->head;
	t->pub.tail = l->tail;
	t->pub.count += l->count;
	db_event_list_init(l);
	if (t->pub.count >= PS_DEFER_MAX) {
		publish_held(t); /* not in the tick: its queue wakes it as usual */
	} else if (!t->pub_woken) {
		t->pub_woken = true;
		q->wake(q->arg); /* the tick right after this round */
	}
}

void ms_pubsub_flush(struct ms_thread *t)
{
	t->pub_woken = false;
	if (t->pub.head == NULL)
		return;
	/* ms_tick() drains this worker's queue right after: what the round
	 * publishes to its own sessions needs no wake-up (an eventfd write,
	 * then an empty loop round to read it) */
	ms_session_hold(t);
	publish_held(t);
	ms_session_release(t);
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
