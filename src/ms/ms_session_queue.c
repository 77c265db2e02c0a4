/* SPDX-License-Identifier: MIT */
/*
 * Cross-worker work for the reliable-transport sessions: each worker owns
 * its sessions, so any other thread (a Map-Notify's, a publication's, a
 * reload's, an operator's) hands what a session must send, or work to run
 * on the owning worker, to that worker's wait-free queue; the worker drains
 * it in its tick (ms_tick). A worker writing to its own session skips the
 * queue.
 *
 * Wake-ups: the job that makes a queue non-empty wakes its worker (one
 * eventfd write; the jobs queued behind it ride on that wake-up and are all
 * drained in one tick). A worker publishing in its own tick (between
 * ms_session_hold() and ms_session_release(), ms_pubsub_flush()) queues for
 * its own sessions, and its own UDP notify queue (ms_notify_queue), without
 * waking itself: its tick drains both right after, and a wake-up would only
 * cost it an eventfd write and read and an empty round of its event loop.
 */
#include <stdlib.h>
#include <string.h>

/*
 * First, before <lispms/rcu.h>: the queue calls go to liburcu-cds.so, whose
 * barriers TSan is told about (tests/tsan.supp). rcu.h defines _LGPL_SOURCE,
 * which would inline them here, where TSan sees no barrier.
 */
#include "ms_session.h"

/* A Mapping Notification (or any framed bytes) for a session of this worker,
 * or other work to run on it (run != NULL). */
struct sess_job {
	struct cds_wfcq_node qnode;
	ms_session_job_fn *run;
	void *arg;
	uint64_t session; /* 0: to every session of the worker */
	size_t len;
	uint8_t msg[];
};

static void enqueue(struct ms *ms, unsigned w, uint64_t session, const uint8_t *msg, size_t len);

/* The worker holding its wake-ups on this thread (ms_session_hold), or NULL. */
static _Thread_local const struct ms_thread *holding;

void ms_session_hold(struct ms_thread *t)
{
	holding = t;
}

void ms_session_release(struct ms_thread *t)
{
	(void)t;
	holding = NULL;
}

bool ms_session_held(const struct ms *ms, unsigned w)
{
	return holding != NULL && holding->ms == ms && holding->index == w;
}

void ms_session_deliver(struct ms *ms, uint64_t session, const uint8_t *msg, size_t len)
{
	unsigned w = (unsigned)(session >> 48);
	if (w == 0 || w > LISPMS_MS_MAX_WORKERS || ms->wq[w - 1].wake == NULL) {
		counters_inc(LISPMS_M_MS_SESS_NOTIFY_DROPPED);
		return;
	}
	enqueue(ms, w - 1, session, msg, len);
}

void ms_session_broadcast(struct ms *ms, const uint8_t *msg, size_t len)
{
	for (unsigned w = 0; w < LISPMS_MS_MAX_WORKERS; w++)
		if (ms->wq[w].wake != NULL)
			enqueue(ms, w, 0, msg, len);
}

/* Hand a job to worker w's queue (wait-free); the worker drains it in its tick. */
static void job_push(struct ms *ms, unsigned w, struct sess_job *j)
{
	cds_wfcq_node_init(&j->qnode);
	LRCU_TSAN_RELEASE(j);
	struct ms_wq *q = &ms->wq[w];
	counters_gauge_add(LISPMS_M_MS_SESS_QUEUE_DEPTH, 1);
	/* one wake-up per batch: a queue that was not empty has one pending,
	 * and a worker holding its wake-ups drains its own queue next */
	if (!cds_wfcq_enqueue(&q->head, &q->tail, &j->qnode) && /* it was empty */
	    !ms_session_held(ms, w))
		q->wake(q->arg);
}

bool ms_session_post(struct ms *ms, unsigned w, ms_session_job_fn *fn, void *arg)
{
	struct sess_job *j = malloc(sizeof(*j));
	if (j == NULL)
		return false;
	j->run = fn;
	j->arg = arg;
	j->session = 0;
	j->len = 0;
	job_push(ms, w, j);
	return true;
}

static void enqueue(struct ms *ms, unsigned w, uint64_t session, const uint8_t *msg, size_t len)
{
	if (ms->wq[w].wake == NULL) {
		counters_inc(LISPMS_M_MS_SESS_NOTIFY_DROPPED);
		return;
	}
	struct sess_job *j = malloc(sizeof(*j) + len);
	if (j == NULL) {
		counters_inc(LISPMS_M_MS_SESS_NOTIFY_DROPPED);
		return;
	}
	j->run = NULL;
	j->session = session;
	j->len = len;
	memcpy(j->msg, msg, len);
	job_push(ms, w, j);
}

static void write_to(struct ms_thread *t, uint64_t id, const uint8_t *msg, size_t len)
{
	struct ms_session *s = sess_find(t, id);
	if (s == NULL || s->failed) {
		counters_inc(LISPMS_M_MS_SESS_NOTIFY_DROPPED);
	} else if (stream_write(s->conn, msg, len) != LISPMS_EOK) {
		s->failed = true;
		counters_inc(SESS_M(s, MS_SESS_CLOSED_SLOW));
		stream_close(s->conn);
	} else {
		uint16_t type = sess_rt_type(msg, len);
		s->ntx++;
		counters_inc(counters_sess_id(sess_tx_counter(type), s->conn->transport));
		if (type == RT_TYPE_MAPPING_NOTIFICATION)
			counters_inc(SESS_M(s, MS_SESS_NOTIFY_SENT));
	}
}

void ms_session_queues_free(struct ms *ms)
{
	for (unsigned w = 0; w < LISPMS_MS_MAX_WORKERS; w++) {
		struct ms_wq *q = &ms->wq[w];
		struct cds_wfcq_node *qn;
		while ((qn = __cds_wfcq_dequeue_nonblocking(&q->head, &q->tail)) != NULL &&
		       qn != CDS_WFCQ_WOULDBLOCK) {
			struct sess_job *j = caa_container_of(qn, struct sess_job, qnode);
			LRCU_TSAN_ACQUIRE(j);
			counters_gauge_add(LISPMS_M_MS_SESS_QUEUE_DEPTH, -1);
			if (j->run != NULL)
				j->run(NULL, j->arg);
			free(j);
		}
	}
}

void ms_session_send(struct ms_thread *t, uint64_t session, const uint8_t *msg, size_t len)
{
	if ((session >> 48) == (uint64_t)t->index + 1)
		write_to(t, session, msg, len); /* ours: no hand-over needed */
	else
		ms_session_deliver(t->ms, session, msg, len);
}

void ms_session_drain(struct ms_thread *t)
{
	struct ms_wq *q = &t->ms->wq[t->index];
	struct cds_wfcq_node *qn;
	for (;;) {
		qn = __cds_wfcq_dequeue_nonblocking(&q->head, &q->tail);
		if (qn == NULL)
			break;
		if (qn == CDS_WFCQ_WOULDBLOCK) {
			/* an enqueue is half done and its producer saw a non-empty
			 * queue, so it will not wake us: come back on the next loop */
			q->wake(q->arg);
			break;
		}
		struct sess_job *j = caa_container_of(qn, struct sess_job, qnode);
		LRCU_TSAN_ACQUIRE(j);
		counters_gauge_add(LISPMS_M_MS_SESS_QUEUE_DEPTH, -1);
		if (j->run != NULL)
			j->run(t, j->arg);
		else if (j->session != 0)
			write_to(t, j->session, j->msg, j->len);
		else if (t->sessions != NULL) /* to every session of this worker */
			for (unsigned b = 0; b < SESS_BUCKETS; b++)
				for (struct ms_session *s = t->sessions[b]; s != NULL; s = s->hnext)
					if (!s->failed &&
					    stream_write(s->conn, j->msg, j->len) == LISPMS_EOK) {
						s->ntx++;
						counters_inc(
						    sess_tx_counter(sess_rt_type(j->msg, j->len)));
					}
		free(j);
	}
}
