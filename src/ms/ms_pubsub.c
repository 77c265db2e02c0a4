/* SPDX-License-Identifier: MIT */
/*
 * Publish/subscribe, RFC 9437 on the Map-Server (docs/protocol.md D20):
 * subscribers, subscriptions, authorisation, acks and operators. State
 * dumps and delivery are in ms_pubsub_send.c, publishing changes in
 * ms_pubsub_publish.c, what they share in ms_pubsub_internal.h.
 *
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
 * one batch to one subscriber batched together (a worker holds its changes
 * until its tick, so a batch is a whole event-loop round: see
 * ms_pubsub_publish.c). A re-subscription must
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
 */
#include "ms_pubsub_internal.h"

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

void ms_pubsub_free(struct ms_pubsub *ps)
{
	if (ps == NULL)
		return;
	while (ps->head != NULL) {
		struct ps_sub *n = ps->head->next;
		ps_jobs_free(ps->head->parked);
		free(ps->head);
		ps->head = n;
	}
	while (ps->spare != NULL) {
		struct ps_scratch *n = ps->spare->next;
		ps_scratch_free(ps->spare);
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

struct ps_sub *ps_find_id(struct ms_pubsub *ps, uint64_t id)
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
	ps_jobs_free(s->parked);
	free(s);
}

/* Drop the subscribers marked during a round. */
void ps_reap(struct ms_pubsub *ps)
{
	struct ps_sub *s = ps->head;
	while (s != NULL) {
		struct ps_sub *n = s->next;
		if (s->doomed)
			unlink_sub(ps, s, s->doom_reason);
		s = n;
	}
}

void ps_doom(struct ps_sub *s, enum metric_id why, const char *text)
{
	s->doomed = true;
	s->doom_reason = why;
	snprintf(s->last_error, sizeof(s->last_error), "%s", text);
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
			ms_debug("pubsub, %s unsubscribed from %s", s->origin, MS_EID(eid));
			if (s->npfx == 0) { /* counted once, by unlink_sub */
				snprintf(s->last_error, sizeof(s->last_error), "unsubscribed");
				unlink_sub(ps, s, LISPMS_M_MS_PUBSUB_UNSUBSCRIBED);
			} else {
				counters_inc(LISPMS_M_MS_PUBSUB_UNSUBSCRIBED);
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
	ps_send_state(ms, ps, t->st, s, sp, true);
	ps_reap(ps);
out:
	pthread_mutex_unlock(&ps->lock);
	return handled;
}

void ms_pubsub_acked(struct ms *ms, uint64_t sub)
{
	struct ms_pubsub *ps = ms->pubsub;
	counters_inc(LISPMS_M_MS_PUBSUB_ACKED);
	pthread_mutex_lock(&ps->lock);
	struct ps_sub *s = ps_find_id(ps, sub);
	if (s != NULL) {
		s->acked++;
		if (s->pending > 0)
			s->pending--;
		ps_after_ack(ms, ps, s);
		ps_reap(ps);
	}
	pthread_mutex_unlock(&ps->lock);
}

void ms_pubsub_gave_up(struct ms *ms, uint64_t sub)
{
	struct ms_pubsub *ps = ms->pubsub;
	pthread_mutex_lock(&ps->lock);
	struct ps_sub *s = ps_find_id(ps, sub);
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
			ps_doom(s, LISPMS_M_MS_PUBSUB_DROP_UNAUTHORISED,
				"no longer allowed by the configuration");
		else if (s->lost_ns != 0 &&
			 now_ns - s->lost_ns >= (uint64_t)s->timeout_s * LISPMS_NS_PER_SEC)
			ps_doom(s, LISPMS_M_MS_PUBSUB_DROP_EXPIRED,
				"session lost, not renewed within the registration timeout");
	}
	ps_reap(ps);
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
