/* SPDX-License-Identifier: MIT */
/*
 * Concurrency test (plain executable, runs under TSan): producer threads hand
 * messages for a session to the worker that owns it (ms_session_deliver), as
 * the workers do with Mapping Notifications. A producer wakes the owner only
 * when it found the queue empty, so the owner here drains only when woken:
 * every message must arrive, in order per producer, with no wake-up lost.
 * How many wake-ups that takes depends on the schedule (a fast owner that
 * empties the queue after every message, or meets half-done enqueues and
 * wakes itself, can see more than there are messages), so it is printed,
 * not asserted; session.a_displaced_etr_on_another_worker_is_told_through_
 * that_workers_queue checks the coalescing exactly. The owner also queues
 * messages for its own session before each tick, holding its wake-ups
 * (ms_session_hold, as in ms_pubsub_flush): they must not stop a producer's
 * wake-up from coming when the owner's tick has left the queue empty.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include <lispms/admit.h>
#include <lispms/conf.h>
#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "ms_internal.h"
#include "tap.h"

#define PRODUCERS 3
#define MESSAGES  20000 /* per producer; the owner queues as many as its ticks */

static const char *conf_text = "server:\n"
			       "  listen: [127.0.0.1]\n"
			       "sites:\n"
			       "  - name: alpha\n"
			       "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"k\"}]\n"
			       "    eid-prefixes: [\"[1000] 10.1.0.0/16\"]\n";

static struct ms *ms;
static _Atomic uint64_t session_id;
static _Atomic bool producers_go;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool woken;
static _Atomic unsigned wakes;

/* The owner's eventfd stand-in. */
static void wake(void *arg)
{
	(void)arg;
	atomic_fetch_add(&wakes, 1);
	pthread_mutex_lock(&lock);
	woken = true;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static bool wait_wake(unsigned ms_timeout)
{
	struct timespec until = mtime_deadline(CLOCK_REALTIME, ms_timeout);
	pthread_mutex_lock(&lock);
	int r = 0;
	while (!woken && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&cond, &lock, &until);
	bool got = woken;
	woken = false;
	pthread_mutex_unlock(&lock);
	return got;
}

struct sink {
	struct stream_conn sc; /* first */
	unsigned got;
	unsigned next[PRODUCERS + 1]; /* the sequence number expected from each, the owner last */
	unsigned out_of_order;
};

static int sink_write(struct stream_conn *conn, const uint8_t *buf, size_t len)
{
	struct sink *s = (struct sink *)conn;
	if (len == 8) {
		uint32_t p, n;
		memcpy(&p, buf, 4);
		memcpy(&n, buf + 4, 4);
		if (p <= PRODUCERS) {
			if (n != s->next[p])
				s->out_of_order++;
			s->next[p] = n + 1;
		}
	}
	s->got++;
	return LISPMS_EOK;
}

static void sink_close(struct stream_conn *conn)
{
	(void)conn;
}

static size_t sink_queued(const struct stream_conn *conn)
{
	(void)conn;
	return 0;
}

static const struct stream_conn_ops sink_ops = { sink_write, sink_close, sink_close, sink_queued };

static void *producer(void *arg)
{
	uint32_t me = (uint32_t)(uintptr_t)arg;
	while (!atomic_load(&producers_go))
		;
	uint64_t sid = atomic_load(&session_id);
	for (uint32_t n = 0; n < MESSAGES; n++) {
		uint8_t msg[8];
		memcpy(msg, &me, 4);
		memcpy(msg + 4, &n, 4);
		ms_session_deliver(ms, sid, msg, sizeof(msg));
	}
	return NULL;
}

int main(void)
{
	tap_plan(2);
	thread_register("owner");
	struct conf *c;
	struct conf_error err;
	if (conf_load_buf("t.yaml", conf_text, strlen(conf_text), NULL, &c, &err) != LISPMS_EOK) {
		fprintf(stderr, "%s\n", err.all);
		return 1;
	}
	ms = ms_new(c);
	struct ms_thread *t = ms_thread_new(ms, 0);
	ms_set_worker(ms, 0, wake, NULL);
	struct sockaddr_storage peer;
	saddr_parse("192.0.2.1", &peer);
	saddr_set_port(&peer, 40000);
	admit_grant(ms_admit(ms), &peer, mtime_now_ns() + 60 * LISPMS_NS_PER_SEC);
	struct sink sink = { .sc = { &sink_ops, STREAM_TCP } };
	lrcu_read_lock();
	struct ms_session *s = ms_session_open(t, &peer, &sink.sc);
	lrcu_read_unlock();
	sink.got = 0; /* the Refresh on start */
	atomic_store(&session_id, ms_session_id(s));

	struct thread *p[PRODUCERS];
	for (uintptr_t i = 0; i < PRODUCERS; i++)
		p[i] = thread_spawn("producer", -1, producer, (void *)i);
	atomic_store(&producers_go, true);
	const unsigned total = PRODUCERS * MESSAGES;
	uint8_t arena_mem[1 << 14];
	struct arena ar = { .base = arena_mem, .size = sizeof(arena_mem) };
	struct dgram_out slots[8];
	unsigned drains = 0;
	uint32_t own = 0; /* the owner's messages so far */
	/* drain only when woken, as the worker's epoll loop does */
	while (sink.got < total + own && wait_wake(3000)) {
		uint8_t msg[8];
		uint32_t me = PRODUCERS;
		memcpy(msg, &me, 4);
		memcpy(msg + 4, &own, 4);
		ms_session_hold(t); /* its own, queued without a wake-up */
		ms_session_deliver(ms, atomic_load(&session_id), msg, sizeof(msg));
		ms_session_release(t);
		own++;
		struct dgram_outbox out = { .msgs = slots, .cap = 8, .arena = &ar };
		arena_reset(&ar);
		lrcu_read_lock();
		ms_tick(t, mtime_now_ns(), &out);
		lrcu_read_unlock();
		drains++;
	}
	for (int i = 0; i < PRODUCERS; i++)
		thread_join(p[i]);
	tap_ok(sink.got == total + own,
	       "every hand-over delivered on a wake-up (%u of %u and the owner's %u, %u drains)",
	       sink.got, total, own, drains);
	tap_ok(sink.out_of_order == 0, "each producer's messages in order (%u out of order)",
	       sink.out_of_order);
	printf("# %u wake-ups for %u messages\n", atomic_load(&wakes), total);
	lrcu_read_lock();
	ms_session_closed(t, s, STREAM_CLOSE_PEER);
	lrcu_read_unlock();
	ms_thread_free(t);
	ms_free(ms);
	lrcu_barrier();
	thread_unregister();
	return tap_done();
}
