/* SPDX-License-Identifier: MIT */
/*
 * The request core's top: lifecycle (ms_new, worker threads, housekeeping)
 * and the dispatch of received messages to their handlers. It calls every
 * file of ms; none of them calls it (tools/arrows checks that).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <sys/random.h>

#include <urcu/wfcqueue.h>

#include <lispms/assert.h>
#include <lispms/counters.h>
#include <lispms/log.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>

#include "ms_internal.h"
#include "rrl.h"

/* ------------------------------------------------------------ lifecycle */

struct ms *ms_new(struct conf *conf)
{
	struct ms *ms = calloc(1, sizeof(*ms));
	if (ms == NULL)
		return NULL;
	pthread_mutex_init(&ms->ids_lock, NULL);
	for (unsigned i = 0; i < LISPMS_MS_MAX_WORKERS; i++) {
		cds_wfcq_init(&ms->wq[i].head, &ms->wq[i].tail);
		cds_wfcq_init(&ms->wq[i].nhead, &ms->wq[i].ntail);
	}
	struct db_config dbc = { .reg_timeout_s = conf_server(conf)->registration_timeout };
	ms->db = db_new(&dbc);
	ms->admit = admit_new();
	ms->pubsub = ms_pubsub_new();
	ms->notify_acked = ms_pubsub_acked;
	ms->notify_gave_up = ms_pubsub_gave_up;
	ms->pending = cds_lfht_new_flavor(64, 64, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
					  lrcu_flavor, NULL);
	struct ms_state *st = ms_state_new(ms, conf);
	if (ms->db == NULL || ms->admit == NULL || ms->pubsub == NULL || ms->pending == NULL ||
	    st == NULL) {
		if (st == NULL)
			conf_free(conf);
		ms_state_free(st);
		ms->state = NULL;
		ms_free(ms);
		return NULL;
	}
	lrcu_publish(&ms->state, st);
	ms->reload.generation = 1;
	ms->reload.last_ok = true;
	ms->reload.started_ns = ms_realtime_ns();
	return ms;
}

void ms_free(struct ms *ms)
{
	if (ms == NULL)
		return;
	notify_drain_all(ms);
	ms_session_queues_free(ms);
	if (ms->pending)
		cds_lfht_destroy(ms->pending, NULL);
	db_free(ms->db);
	admit_free(ms->admit);
	ms_pubsub_free(ms->pubsub);
	ms_state_free(ms->state);
	while (ms->ids) {
		struct ms_site_id *next = ms->ids->next;
		free(ms->ids);
		ms->ids = next;
	}
	pthread_mutex_destroy(&ms->ids_lock);
	free(ms);
}

void ms_set_worker(struct ms *ms, unsigned index, ms_wake_fn *wake, void *arg)
{
	if (index >= LISPMS_MS_MAX_WORKERS)
		return;
	ms->wq[index].wake = wake;
	ms->wq[index].arg = arg;
	if (index + 1 > atomic_load(&ms->nworkers))
		atomic_store(&ms->nworkers, index + 1);
}

uint64_t ms_tick(struct ms_thread *t, uint64_t now_ns, struct dgram_outbox *out)
{
	t->st = lrcu_deref(t->ms->state);
	t->now = now_ns;
	/* first the round's changes (D20): their session publications to this
	 * worker's sessions are drained next, their UDP ones by the notifier */
	ms_pubsub_flush(t);
	ms_session_drain(t);
	uint64_t stall = ms_session_sweep_stalled(t, now_ns);
	uint64_t wait = ms_notify_tick(t, now_ns, out);
	return stall < wait ? stall : wait;
}

struct db *ms_db(struct ms *ms)
{
	return ms->db;
}

struct admit *ms_admit(struct ms *ms)
{
	return ms->admit;
}

const struct conf *ms_conf(struct ms *ms)
{
	return lrcu_deref(ms->state)->conf;
}

void ms_lookup(struct ms *ms, const struct eid_prefix *eid, struct ms_lookup *out)
{
	const struct ms_state *st = lrcu_deref(ms->state);
	struct ms_decision dec;
	ms_decide(st, ms->db, eid, &dec);
	memset(out, 0, sizeof(*out));
	out->answer = dec.kind;
	out->prefix = dec.prefix;
	out->ttl = dec.ttl;
	out->map = dec.map;
	out->rloc = dec.rloc;
	out->site = dec.site ? dec.site->conf->name : NULL;
	out->proxy_by_site = dec.proxy_by_site;
	const struct site_pfx *sp =
	    dec.configured ? dec.configured : site_index_lookup(st->sites, eid);
	if (sp != NULL) {
		out->configured = true;
		out->site_prefix = sp->prefix;
		if (out->site == NULL)
			out->site = sp->site->conf->name;
	}
}

struct ms_thread *ms_thread_new(struct ms *ms, unsigned index)
{
	if (index >= LISPMS_MS_MAX_WORKERS)
		return NULL;
	struct ms_thread *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->ms = ms;
	t->index = index;
	t->auth = auth_ctx_new();
	if (t->auth == NULL || arena_init(&t->scratch, MS_SCRATCH_ARENA) != LISPMS_EOK) {
		ms_thread_free(t);
		return NULL;
	}
	t->auth_min = auth_ctx_batch_min(t->auth);
	if (getrandom(&t->rng, sizeof(t->rng), 0) != sizeof(t->rng) || t->rng == 0)
		t->rng = mtime_now_ns() | 1;
	db_event_list_init(&t->events);
	return t;
}

void ms_thread_rx_writable(struct ms_thread *t, bool on)
{
	t->rx_writable = on;
}

void ms_thread_free(struct ms_thread *t)
{
	if (t == NULL)
		return;
	ms_sessions_free(t);
	rrl_free(t->rrl);
	ddt_sigcache_free(t->sigcache);
	notify_thread_release(t);
	db_event_list_clear(&t->events);
	auth_ctx_free(t->auth);
	arena_deinit(&t->scratch);
	free(t);
}

/* ------------------------------------------------------------ dispatch */

/* Type-15 sub-type handlers (D11); none is defined yet, so all are counted. */
struct ext_handler {
	uint16_t subtype;
	void (*fn)(struct ms_thread *t, const struct dgram *d, const struct lisp_shared_ext *m,
		   struct dgram_outbox *out);
};

static const struct ext_handler ext_handlers[] = {
	{ 0, NULL }, /* sentinel */
};

static void handle_shared_ext(struct ms_thread *t, const struct dgram *d, struct dgram_outbox *out)
{
	struct lisp_shared_ext m;
	int ret = shared_ext_decode(d->data, d->len, &m);
	if (ret != LISPMS_EOK) {
		ms_count_malformed(ret);
		return;
	}
	for (const struct ext_handler *h = ext_handlers; h->fn != NULL; h++)
		if (h->subtype == m.subtype) {
			h->fn(t, d, &m, out);
			return;
		}
	counters_inc(LISPMS_M_MS_SHARED_EXT_UNKNOWN);
	ms_debug("shared-ext, dropped from %s (sub-type %u has no handler)", MS_SADDR(&d->src),
		 m.subtype);
}

static void handle_one(struct ms_thread *t, const struct dgram *d, const struct ms_reg_pre *pre,
		       const struct ms_req_pre *rq, struct dgram_outbox *out)
{
	int type = msg_type(d->data, d->len);
	switch (type) {
	case LISP_MSG_MAP_REGISTER:
		counters_inc(LISPMS_M_MS_RX_MAP_REGISTER);
		ms_register(t, d, pre, out);
		break;
	case LISP_MSG_MAP_REQUEST:
		counters_inc(LISPMS_M_MS_RX_MAP_REQUEST);
		ms_request(t, d, NULL, d->data, d->len, rq, out);
		break;
	case LISP_MSG_ECM: {
		counters_inc(LISPMS_M_MS_RX_ECM);
		if (rq != NULL) { /* decoded by the stage: an ECM around a Map-Request */
			counters_inc(LISPMS_M_MS_RX_MAP_REQUEST);
			ms_request(t, d, &rq->ecm, rq->ecm.inner, rq->ecm.inner_len, rq, out);
			break;
		}
		struct lisp_ecm ecm;
		int ret = ecm_decode(d->data, d->len, &ecm);
		if (ret != LISPMS_EOK) {
			ms_count_malformed(ret);
			ms_debug("ecm, dropped from %s (%s)", MS_SADDR(&d->src), err_str(ret));
			break;
		}
		if (msg_type(ecm.inner, ecm.inner_len) != LISP_MSG_MAP_REQUEST) {
			ms_count_malformed(LISPMS_ETYPE);
			ms_debug("ecm, dropped from %s (inner message is not a Map-Request)",
				 MS_SADDR(&d->src));
			break;
		}
		counters_inc(LISPMS_M_MS_RX_MAP_REQUEST);
		ms_request(t, d, &ecm, ecm.inner, ecm.inner_len, NULL, out);
		break;
	}
	case LISP_MSG_MAP_NOTIFY_ACK:
		counters_inc(LISPMS_M_MS_RX_MAP_NOTIFY_ACK);
		ms_notify_ack(t, d);
		break;
	case LISP_MSG_MAP_REPLY:
		/* a Map-Server that is not a Map-Resolver discards replies */
		counters_inc(LISPMS_M_MS_RX_MAP_REPLY);
		ms_debug("map-reply, dropped from %s (a Map-Server asks no questions)",
			 MS_SADDR(&d->src));
		break;
	case LISP_MSG_MAP_NOTIFY:
		counters_inc(LISPMS_M_MS_RX_MAP_NOTIFY);
		ms_debug("map-notify, dropped from %s (only Map-Servers send them)",
			 MS_SADDR(&d->src));
		break;
	case LISP_MSG_SHARED_EXT:
		counters_inc(LISPMS_M_MS_RX_SHARED_EXT);
		handle_shared_ext(t, d, out);
		break;
	default:
		counters_inc(LISPMS_M_MS_RX_OTHER);
		ms_debug("message, dropped from %s (type %d is not for a Map-Server)",
			 MS_SADDR(&d->src), type);
		break;
	}
}

void ms_handle_batch(void *arg, const struct dgram *rx, unsigned n, struct dgram_outbox *out)
{
	struct ms_thread *t = arg;
	t->st = lrcu_deref(t->ms->state);
	t->now = mtime_now_ns();
	arena_reset(&t->scratch);
	/*
	 * authenticate the batch's registers together, decode its requests and
	 * start their lookups together, then run each message
	 */
	struct ms_reg_pre *pre = n >= t->auth_min ? ms_auth_stage(t, rx, n) : NULL;
	struct ms_req_pre *rq = n > 1 ? ms_request_stage(t, rx, n) : NULL;
	size_t mark = arena_mark(&t->scratch);
	for (unsigned i = 0; i < n; i++) {
		arena_rewind(&t->scratch, mark);
		handle_one(t, &rx[i], pre != NULL && pre[i].done ? &pre[i] : NULL,
			   rq != NULL && rq[i].done ? &rq[i] : NULL, out);
	}
	if (t->sign.on)
		ms_sign_flush(t, out);
	/*
	 * One clock read per batch, not two per message: each Map-Register and
	 * Map-Request of the batch is observed at the batch's mean, its time
	 * from the start of handling to the last signature over its n messages
	 * (the batch stage's verify and signing included, which one message's
	 * own interval could not hold).
	 */
	if (t->batch_regs + t->batch_reqs > 0) {
		uint64_t each = (mtime_now_ns() - t->now) / n;
		counters_observe_ns_n(LISPMS_H_MS_REGISTER_SECONDS, each, t->batch_regs);
		counters_observe_ns_n(LISPMS_H_MS_REQUEST_SECONDS, each, t->batch_reqs);
		t->batch_regs = t->batch_reqs = 0;
	}
}

/* Debug narration of the expiry timer: each registration that timed out. */
static void expiry_event(const struct db_event *ev, void *arg)
{
	if (arg != NULL)
		db_event_list_add(ev, arg); /* for the subscribers */
	ms_debug("expiry, %s of %s %s (not refreshed within its timeout)", MS_EID(&ev->prefix),
		 MS_ADDR(&ev->cause.rloc),
		 ev->type == DB_EV_EXPIRED ? "removed, no registration left"
					   : "removed, the others remain");
}

void ms_housekeeping(struct ms *ms, uint64_t now_ns)
{
	struct db_event_list expired;
	db_event_list_init(&expired);
	bool publish = ms_pubsub_active(ms);
	struct db_sink sink = { expiry_event, publish ? &expired : NULL };
	size_t n =
	    db_expire_run(ms->db, now_ns, publish || log_enabled(LOG_LEVEL_DEBUG) ? &sink : NULL);
	if (n > 0)
		ms_debug("expiry, %zu registrations timed out", n);
	if (expired.head != NULL) {
		lrcu_read_lock();
		ms_pubsub_events(ms, &expired);
		lrcu_read_unlock();
	}
	db_event_list_clear(&expired);
	ms_pubsub_housekeeping(ms, now_ns);
	admit_expire(ms->admit, now_ns);
}
