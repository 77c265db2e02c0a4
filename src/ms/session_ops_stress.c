/* SPDX-License-Identifier: MIT */
/*
 * Concurrency test (plain executable, runs under TSan): two worker threads
 * open, register on and close sessions and run their ticks, as net workers
 * do, while the control thread pages through their sessions with
 * ms_sessions_list and drops peers with ms_sessions_drop. Every page must
 * be in id order and belong to its worker, every drop must be counted once
 * as an operator close, and nothing may race (TSan) or leak (ASan).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sched.h>

#include <lispms/conf.h>
#include <lispms/err.h>
#include <lispms/log.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/proto.h>
#include <lispms/proto_rt.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "tap.h"

#define WORKERS	     2
#define SLOTS	     48 /* sessions a worker keeps open at most */
#define ROUNDS	     400
#define MAX_SECONDS  60
#define SESSION_EIDS 3

static const char *conf_text = "server:\n"
			       "  listen: [127.0.0.1]\n"
			       "sites:\n"
			       "  - name: alpha\n"
			       "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"k\"}]\n"
			       "    eid-prefixes: [\"[1000] 10.0.0.0/8\"]\n"
			       "    accept-more-specifics: true\n";

struct fake_conn {
	struct stream_conn sc; /* first */
	bool used;
	_Atomic bool aborted; /* set by the worker itself, read by it: atomic for clarity */
	struct ms_session *s;
};

struct worker {
	unsigned index;
	_Atomic unsigned wakes;
	struct fake_conn conns[SLOTS];
	uint64_t closed_by_drop;
};

static struct ms *ms;
static struct worker workers[WORKERS];
static _Atomic bool done;

static int fake_write(struct stream_conn *conn, const uint8_t *buf, size_t len)
{
	(void)conn, (void)buf, (void)len;
	return LISPMS_EOK;
}

static void fake_close(struct stream_conn *conn)
{
	(void)conn;
}

static void fake_abort(struct stream_conn *conn)
{
	atomic_store(&((struct fake_conn *)conn)->aborted, true);
}

static size_t fake_queued(const struct stream_conn *conn)
{
	(void)conn;
	return 0;
}

static const struct stream_conn_ops fake_ops = { fake_write, fake_close, fake_abort, fake_queued };

static void wake(void *arg)
{
	atomic_fetch_add(&((struct worker *)arg)->wakes, 1);
}

static struct sockaddr_storage peer_of(unsigned w, unsigned slot)
{
	char text[32];
	snprintf(text, sizeof(text), "192.0.%u.%u", w + 1, slot + 1);
	struct sockaddr_storage ss;
	saddr_parse(text, &ss);
	saddr_set_port(&ss, 40000);
	return ss;
}

/* A Registration (type 17) carrying one signed Map-Register record. */
static size_t registration(struct auth_ctx *actx, const struct auth_key *k, const char *eid,
			   uint8_t *out, size_t cap)
{
	struct eid_prefix p;
	struct lisp_addr a;
	eid_prefix_parse(eid, &p);
	lisp_addr_parse("192.0.2.1", &a);
	struct lisp_locator loc = { .priority = 1, .weight = 1, .flags = LISP_LOC_R };
	afi_from_addr(&a, &loc.addr);
	struct lisp_record rec = { .ttl = 3, .eid_plen = p.plen, .nlocs = 1, .locs = &loc };
	afi_from_eid(&p, &rec.eid);
	struct lisp_map_register m = {
		.nonce = 1,
		.auth = { .key_id = 1, .alg_id = LISP_ALG_HMAC_SHA256, .len = 32 },
		.nrecords = 1,
		.records = &rec,
	};
	uint8_t inner[1024];
	size_t ilen, len = 0;
	if (map_register_encode(&m, inner, sizeof(inner), &ilen) != LISPMS_EOK ||
	    auth_sign(actx, k, inner, ilen) != LISPMS_EOK)
		return 0;
	struct rt_msg r = { .type = RT_TYPE_REGISTRATION, .has_id = 1, .id = 1 };
	r.u.inner.msg = inner;
	r.u.inner.len = ilen;
	rt_encode(&r, out, cap, &len);
	return len;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ms_thread *t = ms_thread_new(ms, w->index);
	struct auth_ctx *actx = auth_ctx_new();
	struct auth_key key;
	auth_key_init(&key, 1, LISP_ALG_HMAC_SHA256, "k", 1);
	static _Thread_local uint8_t arena_mem[1 << 14];
	struct arena ar = { .base = arena_mem, .size = sizeof(arena_mem) };
	struct dgram_out slots[4];
	uint64_t rng = 0x9e3779b97f4a7c15ull * (w->index + 1);
	unsigned seen = 0;
	while (!atomic_load(&done)) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		unsigned slot = (unsigned)(rng % SLOTS);
		struct fake_conn *c = &w->conns[slot];
		lrcu_read_lock();
		if (!c->used) { /* open, and register a few EIDs */
			struct sockaddr_storage p = peer_of(w->index, slot);
			admit_grant(ms_admit(ms), &p, mtime_now_ns() + LISPMS_NS_PER_SEC * 60);
			atomic_store(&c->aborted, false);
			c->sc = (struct stream_conn){ &fake_ops, STREAM_TCP };
			c->s = ms_session_open(t, &p, &c->sc);
			c->used = c->s != NULL;
			for (unsigned k = 0; c->used && k < rng % (SESSION_EIDS + 1); k++) {
				char eid[64];
				uint8_t msg[1024];
				snprintf(eid, sizeof(eid), "[1000] 10.%u.%u.%u/32", w->index, slot,
					 k);
				size_t len = registration(actx, &key, eid, msg, sizeof(msg));
				ms_session_recv(t, c->s, msg, len);
			}
		} else if (!atomic_load(&c->aborted) && rng % 4 == 0) { /* the peer leaves */
			ms_session_closed(t, c->s, STREAM_CLOSE_PEER);
			c->used = false;
		}
		unsigned wakes = atomic_load(&w->wakes);
		if (wakes != seen) { /* the tick answers the control thread's requests */
			seen = wakes;
			struct dgram_outbox out = { .msgs = slots, .cap = 4, .arena = &ar };
			arena_reset(&ar);
			ms_tick(t, mtime_now_ns(), &out);
		}
		/* the transport closes what was aborted, after the tick (net's doomed list) */
		for (unsigned i = 0; i < SLOTS; i++)
			if (w->conns[i].used && atomic_load(&w->conns[i].aborted)) {
				ms_session_closed(t, w->conns[i].s, STREAM_CLOSE_ABORT);
				w->conns[i].used = false;
				w->closed_by_drop++;
			}
		lrcu_read_unlock();
		lrcu_quiescent();
		sched_yield();
	}
	/* answer what is still queued, then close everything */
	lrcu_read_lock();
	struct dgram_outbox out = { .msgs = slots, .cap = 4, .arena = &ar };
	ms_tick(t, mtime_now_ns(), &out);
	for (unsigned i = 0; i < SLOTS; i++)
		if (w->conns[i].used && atomic_load(&w->conns[i].aborted)) {
			ms_session_closed(t, w->conns[i].s, STREAM_CLOSE_ABORT);
			w->conns[i].used = false;
			w->closed_by_drop++;
		}
	lrcu_read_unlock();
	ms_thread_free(t);
	auth_ctx_free(actx);
	return NULL;
}

int main(void)
{
	tap_plan(4);
	thread_register("control");
	log_set_level(LOG_LEVEL_WARNING); /* not one notice per drop */
	struct conf *c;
	struct conf_error err;
	if (conf_load_buf("t.yaml", conf_text, strlen(conf_text), NULL, &c, &err) != LISPMS_EOK) {
		printf("# %s\n", err.all);
		return 1;
	}
	ms = ms_new(c);
	struct thread *th[WORKERS];
	for (unsigned i = 0; i < WORKERS; i++) {
		workers[i].index = i;
		ms_set_worker(ms, i, wake, &workers[i]);
	}
	for (unsigned i = 0; i < WORKERS; i++)
		th[i] = thread_spawn("worker", -1, worker_main, &workers[i]);

	static struct ms_session_info page[64];
	unsigned bad_order = 0, bad_worker = 0, bad_eids = 0, timeouts = 0;
	size_t most_eids = 0;
	uint64_t listed = 0, dropped = 0;
	uint64_t deadline = mtime_now_ns() + MAX_SECONDS * LISPMS_NS_PER_SEC;
	int r;
	for (r = 0; r < ROUNDS && mtime_now_ns() < deadline; r++) {
		for (unsigned w = 0; w < WORKERS; w++) {
			uint64_t after = 0;
			for (int pages = 0; pages < 16; pages++) {
				size_t n = 0;
				int ret = ms_sessions_list(ms, w, after, page, 16, &n, 5000);
				if (ret != LISPMS_EOK) {
					timeouts++;
					break;
				}
				for (size_t i = 0; i < n; i++) {
					bad_order += page[i].id <= after;
					bad_worker += page[i].worker != w ||
						      (page[i].id >> 48) != (uint64_t)w + 1;
					bad_eids += page[i].eids > SESSION_EIDS;
					if (page[i].eids > most_eids)
						most_eids = page[i].eids;
					after = page[i].id;
				}
				listed += n;
				if (n < 16)
					break;
			}
		}
		struct sockaddr_storage p =
		    peer_of((unsigned)r % WORKERS, (unsigned)(r * 7) % SLOTS);
		size_t d = 0;
		if (ms_sessions_drop(ms, &p, r % 2 == 0, &d, 5000) != LISPMS_EOK)
			timeouts++;
		dropped += d;
	}
	atomic_store(&done, true);
	uint64_t closed = 0;
	for (unsigned i = 0; i < WORKERS; i++) {
		thread_join(th[i]);
		closed += workers[i].closed_by_drop;
	}
	tap_ok(timeouts == 0,
	       "every request answered by busy workers (%d rounds, %llu sessions listed)", r,
	       (unsigned long long)listed);
	tap_ok(bad_order == 0 && bad_worker == 0,
	       "pages are in id order and belong to their worker (%u out of order, %u misplaced)",
	       bad_order, bad_worker);
	tap_ok(bad_eids == 0 && most_eids > 0,
	       "EID counts stay within what a session registered (at most %zu seen)", most_eids);
	tap_ok(dropped > 0 && dropped == closed &&
		   counters_sum(LISPMS_M_MS_SESS_CLOSED_OPERATOR) == closed,
	       "each drop closed one session, counted once as operator (%llu dropped)",
	       (unsigned long long)dropped);
	ms_free(ms);
	lrcu_barrier();
	thread_unregister();
	return tap_done();
}
