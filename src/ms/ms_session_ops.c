/* SPDX-License-Identifier: MIT */
/*
 * The operators' requests on sessions (lispmsctl sessions list / drop): the
 * control thread posts a question to the workers' queues and waits, with a
 * timeout, for each worker to answer from its own sessions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lispms/log.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>

#include "ms_session.h"

/*
 * An operator's question to workers (list or drop), shared by the control
 * thread that waits and the workers that answer: whoever lets go of it
 * last frees it, so a control thread that gave up waiting leaves nothing
 * for a late worker to write into.
 */
enum sess_req_kind { SESS_REQ_LIST, SESS_REQ_DROP };

struct sess_req {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	_Atomic unsigned refs;
	unsigned pending; /* workers yet to answer (under lock) */
	enum sess_req_kind kind;
	/* list */
	uint64_t after;
	size_t max, n;
	struct ms_session_info *out;
	/* drop */
	struct sockaddr_storage peer;
	bool any_port;
	size_t dropped;
};

const char *ms_session_state_name(enum ms_session_state st)
{
	switch (st) {
	case MS_SESS_STATE_UP:
		return "up";
	case MS_SESS_STATE_RECEIVING:
		return "receiving";
	case MS_SESS_STATE_CLOSING:
		return "closing";
	}
	return "?";
}

static void req_put(struct sess_req *r)
{
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r->out);
	free(r);
}

static struct sess_req *req_new(enum sess_req_kind kind, unsigned workers, size_t max)
{
	struct sess_req *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	if (max > 0 && (r->out = calloc(max, sizeof(*r->out))) == NULL) {
		free(r);
		return NULL;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&r->lock, NULL);
	r->kind = kind;
	r->max = max;
	r->pending = workers;
	atomic_init(&r->refs, workers + 1);
	return r;
}

/* A worker answered (or its queue was freed without answering). */
static void req_answered(struct sess_req *r)
{
	pthread_mutex_lock(&r->lock);
	r->pending--;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	req_put(r);
}

static void req_job(struct ms_thread *t, void *arg);

static bool req_post(struct ms *ms, unsigned w, struct sess_req *r)
{
	return ms_session_post(ms, w, req_job, r);
}

/* Wait until every worker answered or the time is up; LISPMS_ETIMEDOUT then. */
static int req_wait(struct sess_req *r, unsigned timeout_ms)
{
	struct timespec until = mtime_deadline(CLOCK_MONOTONIC, timeout_ms);
	int ret = LISPMS_EOK;
	lrcu_offline();
	pthread_mutex_lock(&r->lock);
	while (r->pending > 0)
		if (pthread_cond_timedwait(&r->cond, &r->lock, &until) == ETIMEDOUT) {
			ret = r->pending > 0 ? LISPMS_ETIMEDOUT : LISPMS_EOK;
			break;
		}
	pthread_mutex_unlock(&r->lock);
	lrcu_online();
	return ret;
}

static void fill_info(struct ms_thread *t, const struct ms_session *s, uint64_t now,
		      struct ms_session_info *o)
{
	memset(o, 0, sizeof(*o));
	o->id = s->id;
	o->worker = t->index;
	o->peer = s->peer;
	o->transport = s->conn->transport;
	o->uptime_ns = now > s->opened_ns ? now - s->opened_ns : 0;
	o->eids = db_session_regs(t->ms->db, s->id);
	o->queued = stream_queued(s->conn);
	o->rx = s->nrx;
	o->tx = s->ntx;
	o->acked = s->acked;
	o->rejected = s->rejected;
	o->state = s->failed	      ? MS_SESS_STATE_CLOSING
		   : s->rxbuf != NULL ? MS_SESS_STATE_RECEIVING
				      : MS_SESS_STATE_UP;
}

static void req_list(struct ms_thread *t, struct sess_req *r)
{
	struct ms_session *s = t->ohead;
	if (r->after != 0) {
		const struct ms_session *last = sess_find(t, r->after);
		if (last != NULL)
			s = last->onext;
		else /* it closed since: ids grow along the list */
			while (s != NULL && s->id <= r->after)
				s = s->onext;
	}
	uint64_t now = mtime_now_ns();
	for (; s != NULL && r->n < r->max; s = s->onext)
		fill_info(t, s, now, &r->out[r->n++]);
}

static bool peer_match(const struct sockaddr_storage *a, const struct sockaddr_storage *b,
		       bool any_port)
{
	struct sockaddr_storage x = *b;
	if (any_port)
		saddr_set_port(&x, saddr_port(a));
	return saddr_cmp(a, &x) == 0;
}

/* Close this worker's sessions from peer; how many. */
static size_t drop_matching(struct ms_thread *t, const struct sockaddr_storage *peer, bool any_port)
{
	size_t n = 0;
	for (struct ms_session *s = t->ohead; s != NULL; s = s->onext) {
		if (s->failed || !peer_match(&s->peer, peer, any_port))
			continue;
		char a[64];
		saddr_format(&s->peer, a, sizeof(a));
		log_notice("session, %s dropped by the operator (session %llu, worker %u)", a,
			   (unsigned long long)s->id, t->index);
		/* no more writes; the transport closes it after this tick */
		s->failed = true;
		stream_abort(s->conn);
		n++;
	}
	return n;
}

static void req_run(struct ms_thread *t, struct sess_req *r)
{
	/* the control thread reads the results only after req_answered's unlock */
	if (r->kind == SESS_REQ_LIST) {
		req_list(t, r);
	} else {
		size_t n = drop_matching(t, &r->peer, r->any_port); /* set before posting */
		pthread_mutex_lock(&r->lock);
		r->dropped += n; /* several workers answer the same request */
		pthread_mutex_unlock(&r->lock);
	}
	req_answered(r);
}

/* On the worker; or its queue was freed without running it (t NULL). */
static void req_job(struct ms_thread *t, void *arg)
{
	if (t != NULL)
		req_run(t, arg);
	else
		req_answered(arg);
}

int ms_sessions_list(struct ms *ms, unsigned worker, uint64_t after, struct ms_session_info *out,
		     size_t max, size_t *n, unsigned timeout_ms)
{
	if (worker >= LISPMS_MS_MAX_WORKERS || ms->wq[worker].wake == NULL)
		return LISPMS_ENOENT;
	if (max > LISPMS_MS_LIST_MAX)
		max = LISPMS_MS_LIST_MAX;
	struct sess_req *r = req_new(SESS_REQ_LIST, 1, max ? max : 1);
	if (r == NULL)
		return LISPMS_ENOMEM;
	r->max = max;
	r->after = after;
	if (!req_post(ms, worker, r)) {
		req_put(r);
		req_put(r);
		return LISPMS_ENOMEM;
	}
	int ret = req_wait(r, timeout_ms);
	if (ret == LISPMS_EOK) {
		memcpy(out, r->out, r->n * sizeof(*out));
		*n = r->n;
	}
	req_put(r);
	return ret;
}

int ms_sessions_drop(struct ms *ms, const struct sockaddr_storage *peer, bool any_port,
		     size_t *dropped, unsigned timeout_ms)
{
	unsigned workers = 0;
	for (unsigned w = 0; w < LISPMS_MS_MAX_WORKERS; w++)
		if (ms->wq[w].wake != NULL)
			workers++;
	struct sess_req *r = req_new(SESS_REQ_DROP, workers, 0);
	if (r == NULL)
		return LISPMS_ENOMEM;
	r->peer = *peer;
	r->any_port = any_port;
	for (unsigned w = 0; w < LISPMS_MS_MAX_WORKERS; w++)
		if (ms->wq[w].wake != NULL && !req_post(ms, w, r))
			req_answered(r); /* nothing posted: that worker has nothing to say */
	int ret = req_wait(r, timeout_ms);
	pthread_mutex_lock(&r->lock);
	*dropped = r->dropped;
	pthread_mutex_unlock(&r->lock);
	req_put(r);
	return ret;
}
