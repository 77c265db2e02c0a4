/* SPDX-License-Identifier: MIT */
/*
 * Concurrency test (plain executable, runs under TSan): two workers register
 * and move EIDs, subscribe and unsubscribe a border, and acknowledge the
 * publications their ticks send, while the control thread expires, lists
 * and drops subscribers. Nothing may race; every subscription the workers
 * made is either still held or was dropped or unsubscribed, and the
 * subscriber gauge agrees with the table at rest.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <lispms/conf.h>
#include <lispms/counters.h>
#include <lispms/err.h>
#include <lispms/ms.h>
#include <lispms/ms_pubsub.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "ms_internal.h"
#include "tap.h"

#define WORKERS 2
#define ROUNDS	3000

static const char *conf_text = "server:\n"
			       "  listen: [127.0.0.1]\n"
			       "sites:\n"
			       "  - name: alpha\n"
			       "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"k\"}]\n"
			       "    eid-prefixes: [\"[1000] 10.0.0.0/8\"]\n"
			       "    accept-more-specifics: true\n"
			       "subscribers:\n"
			       "  - name: b0\n"
			       "    xtr-id: bb000000000000000000000000000000\n"
			       "    keys: [{id: 9, algorithm: hmac-sha-256-128, secret: s}]\n"
			       "  - name: b1\n"
			       "    xtr-id: bb000000000000000000000000000001\n"
			       "    keys: [{id: 9, algorithm: hmac-sha-256-128, secret: s}]\n";

static struct ms *ms;
static _Atomic int done;
static _Atomic uint64_t acked_sent;

static void nowake(void *arg)
{
	(void)arg;
}

struct worker {
	unsigned index;
	struct ms_thread *t;
	struct auth_ctx *auth;
	struct auth_key site_key, sub_key;
	struct arena arena;
	struct dgram_out msgs[256];
	struct dgram_outbox out;
};

static void feed(struct worker *w, const uint8_t *msg, size_t len)
{
	struct dgram d = { .data = msg, .len = len };
	saddr_parse("127.0.0.1", &d.src);
	saddr_set_port(&d.src, 4342);
	saddr_parse("127.0.0.1", &d.local);
	saddr_set_port(&d.local, 4342);
	w->out.n = 0;
	arena_reset(&w->arena);
	lrcu_read_lock();
	ms_handle_batch(w->t, &d, 1, &w->out);
	lrcu_read_unlock();
}

static void reg(struct worker *w, unsigned i)
{
	struct eid_prefix p = { .iid = 1000, .afi = LISP_AFI_IPV4, .plen = 24 };
	p.bytes[0] = 10;
	p.bytes[1] = (uint8_t)w->index;
	p.bytes[2] = (uint8_t)(i % 16);
	struct lisp_addr a = { .afi = LISP_AFI_IPV4, .bytes = { 192, 0, 2, (uint8_t)(i % 3 + 1) } };
	struct lisp_locator loc = { .priority = 1, .weight = 1, .flags = LISP_LOC_R };
	afi_from_addr(&a, &loc.addr);
	struct lisp_record rec = { .ttl = 3, .eid_plen = 24, .nlocs = 1, .locs = &loc };
	afi_from_eid(&p, &rec.eid);
	struct lisp_map_register m = {
		.nonce = i,
		.auth = { .key_id = 1, .alg_id = LISP_ALG_HMAC_SHA256, .len = 32 },
		.nrecords = 1,
		.records = &rec,
	};
	uint8_t buf[512];
	size_t len;
	if (map_register_encode(&m, buf, sizeof(buf), &len) == LISPMS_EOK &&
	    auth_sign(w->auth, &w->site_key, buf, len) == LISPMS_EOK)
		feed(w, buf, len);
}

static void subscribe(struct worker *w, uint64_t nonce, bool unsubscribe)
{
	struct eid_prefix p = { .iid = 1000, .afi = LISP_AFI_IPV4, .plen = 8 };
	p.bytes[0] = 10;
	struct afi_addr itr = { .afi = LISP_AFI_NONE };
	if (!unsubscribe) {
		struct lisp_addr a = { .afi = LISP_AFI_IPV4, .bytes = { 127, 0, 0, 9 } };
		afi_from_addr(&a, &itr);
	}
	struct lisp_request_record rr = { .reserved = LISP_MREQ_REC_N, .eid_plen = 8 };
	afi_from_eid(&p, &rr.eid);
	struct lisp_map_request q = { .flags = LISP_MREQ_I,
				      .nonce = nonce,
				      .nitr = 1,
				      .itr_rlocs = &itr,
				      .nrecords = 1,
				      .records = &rr };
	q.xtr_id[0] = 0xbb;
	q.xtr_id[15] = (uint8_t)w->index;
	uint8_t buf[512];
	size_t len;
	if (map_request_encode(&q, buf, sizeof(buf), &len) == LISPMS_EOK)
		feed(w, buf, len);
}

/* Tick, then acknowledge every Map-Notify the tick sent. */
static void tick_and_ack(struct worker *w)
{
	w->out.n = 0;
	arena_reset(&w->arena);
	lrcu_read_lock();
	ms_tick(w->t, mtime_now_ns(), &w->out);
	lrcu_read_unlock();
	uint8_t acks[64][1024];
	size_t alen[64];
	unsigned n = 0;
	for (unsigned i = 0; i < w->out.n && n < 64; i++) {
		const struct dgram_out *o = &w->out.msgs[i];
		if (o->len > sizeof(acks[0]) || msg_type(o->data, o->len) != LISP_MSG_MAP_NOTIFY)
			continue;
		memcpy(acks[n], o->data, o->len);
		acks[n][0] = (uint8_t)(LISP_MSG_MAP_NOTIFY_ACK << 4);
		memset(acks[n] + LISPMS_AUTH_OFFSET, 0, 32);
		if (auth_sign(w->auth, &w->sub_key, acks[n], o->len) == LISPMS_EOK)
			alen[n++] = o->len;
	}
	for (unsigned i = 0; i < n; i++) {
		feed(w, acks[i], alen[i]);
		atomic_fetch_add(&acked_sent, 1);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t nonce = 1;
	for (unsigned i = 0; i < ROUNDS; i++) {
		if (i % 100 == 0)
			subscribe(w, ++nonce, i % 700 == 600);
		reg(w, i);
		if (i % 10 == 0)
			tick_and_ack(w);
		lrcu_quiescent();
	}
	atomic_fetch_add(&done, 1);
	return NULL;
}

int main(void)
{
	tap_plan(3);
	thread_register("control");
	struct conf *c;
	struct conf_error err;
	if (conf_load_buf("t.yaml", conf_text, strlen(conf_text), NULL, &c, &err) != LISPMS_EOK) {
		fprintf(stderr, "%s\n", err.all);
		return 1;
	}
	ms = ms_new(c);
	static struct worker w[WORKERS];
	for (unsigned i = 0; i < WORKERS; i++) {
		w[i].index = i;
		w[i].t = ms_thread_new(ms, i);
		w[i].auth = auth_ctx_new();
		auth_key_init(&w[i].site_key, 1, LISP_ALG_HMAC_SHA256, "k", 1);
		auth_key_init(&w[i].sub_key, 9, LISP_ALG_HMAC_SHA256, "s", 1);
		arena_init(&w[i].arena, 1 << 20);
		w[i].out =
		    (struct dgram_outbox){ .msgs = w[i].msgs, .cap = 256, .arena = &w[i].arena };
		ms_set_worker(ms, i, nowake, NULL);
	}
	struct thread *th[WORKERS];
	for (unsigned i = 0; i < WORKERS; i++)
		th[i] = thread_spawn("worker", -1, worker_main, &w[i]);
	uint64_t lists = 0;
	static struct ms_subscription_info info[8];
	while (atomic_load(&done) < WORKERS) {
		ms_housekeeping(ms, mtime_now_ns());
		lists += ms_subscriptions_list(ms, info, 8) > 0;
		if (lists % 50 == 49) {
			uint8_t x[16] = { 0xbb };
			ms_subscription_drop(ms, x);
		}
	}
	for (unsigned i = 0; i < WORKERS; i++)
		thread_join(th[i]);
	tap_ok(counters_sum(LISPMS_M_MS_PUBSUB_PUB_UDP) > 0 && atomic_load(&acked_sent) > 0,
	       "%llu publications sent, %llu acks fed back",
	       (unsigned long long)counters_sum(LISPMS_M_MS_PUBSUB_PUB_UDP),
	       (unsigned long long)atomic_load(&acked_sent));
	tap_ok(counters_sum(LISPMS_M_MS_PUBSUB_ACKED) > 0, "%llu acks matched their publication",
	       (unsigned long long)counters_sum(LISPMS_M_MS_PUBSUB_ACKED));
	int64_t gauge = counters_sum_gauge(LISPMS_M_MS_PUBSUB_SUBSCRIBERS);
	tap_ok(gauge == (int64_t)ms_subscriptions_count(ms) && gauge <= WORKERS,
	       "the subscriber gauge (%lld) agrees with the table (%zu)", (long long)gauge,
	       ms_subscriptions_count(ms));
	for (unsigned i = 0; i < WORKERS; i++) {
		ms_thread_free(w[i].t);
		auth_ctx_free(w[i].auth);
		arena_deinit(&w[i].arena);
	}
	ms_free(ms);
	lrcu_barrier();
	thread_unregister();
	return tap_done();
}
