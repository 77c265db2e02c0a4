/* SPDX-License-Identifier: MIT */
/*
 * The reliable-transport sessions without sockets, shared by their tests
 * (ms_session_test.c: the protocol; ms_session_ops_test.c: the operators'
 * requests; ms_reload_refresh_test.c: what a reload tells the sessions): a
 * fake transport records what the session writes, and the bytes are
 * decoded back with the codec. One test program includes it once.
 */
#pragma once

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/conf.h>
#include <lispms/counters.h>
#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/proto.h>
#include <lispms/proto_rt.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

static const char *conf_text = "server:\n"
			       "  listen: [127.0.0.1]\n"
			       "  registration-timeout: 60\n"
			       "sites:\n"
			       "  - name: alpha\n"
			       "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"k\"}]\n"
			       "    eid-prefixes: [\"[1000] 10.1.0.0/16\"]\n"
			       "    accept-more-specifics: true\n"
			       "    allowed-rlocs: [\"192.0.2.0/24\"]\n"
			       "  - name: beta\n"
			       "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"b\"}]\n"
			       "    eid-prefixes: [\"[1000] 10.2.0.0/16\"]\n";

struct fake_conn {
	struct stream_conn sc; /* first */
	uint8_t *buf;
	size_t len, cap;
	size_t limit; /* write fails past this (slow reader); 0 = none */
	bool close_requested;
	bool abort_requested;
};

static inline int fake_write(struct stream_conn *conn, const uint8_t *buf, size_t len)
{
	struct fake_conn *c = (struct fake_conn *)conn;
	if (c->limit && c->len + len > c->limit)
		return LISPMS_ELIMIT;
	if (c->len + len > c->cap) {
		c->cap = (c->len + len) * 2;
		c->buf = realloc(c->buf, c->cap);
	}
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	return LISPMS_EOK;
}

static inline void fake_close(struct stream_conn *conn)
{
	((struct fake_conn *)conn)->close_requested = true;
}

static inline void fake_abort(struct stream_conn *conn)
{
	((struct fake_conn *)conn)->abort_requested = true;
}

static inline size_t fake_queued(const struct stream_conn *conn)
{
	return ((const struct fake_conn *)conn)->len;
}

static const struct stream_conn_ops fake_ops = { fake_write, fake_close, fake_abort, fake_queued };

/* The fake as a transport's connection. */
static inline struct stream_conn *fc_on(struct fake_conn *c, enum stream_transport tr)
{
	c->sc = (struct stream_conn){ &fake_ops, tr };
	return &c->sc;
}

static inline struct stream_conn *fc(struct fake_conn *c)
{
	return fc_on(c, STREAM_TCP);
}

static int wakes;
static inline void fake_wake(void *arg)
{
	(void)arg;
	wakes++;
}

static struct ms *ms;
static struct ms_thread *t;
static struct auth_ctx *actx;
static struct auth_key key_a, key_wrong;
static uint8_t arena_mem[1 << 16];
static struct arena ar;

static inline void setup(void)
{
	thread_register("test");
	struct conf *c;
	struct conf_error err;
	cr_assert_eq(conf_load_buf("t.yaml", conf_text, strlen(conf_text), NULL, &c, &err),
		     LISPMS_EOK, "%s", err.all);
	ms = ms_new(c);
	cr_assert_not_null(ms);
	t = ms_thread_new(ms, 0);
	cr_assert_not_null(t);
	ms_set_worker(ms, 0, fake_wake, NULL);
	actx = auth_ctx_new();
	auth_key_init(&key_a, 1, LISP_ALG_HMAC_SHA256, "k", 1);
	auth_key_init(&key_wrong, 1, LISP_ALG_HMAC_SHA256, "nope", 4);
	ar = (struct arena){ .base = arena_mem, .size = sizeof(arena_mem) };
	lrcu_read_lock();
}

static inline void teardown(void)
{
	lrcu_read_unlock();
	ms_thread_free(t);
	ms_free(ms);
	auth_ctx_free(actx);
	lrcu_barrier();
	thread_unregister();
}

TestSuite(session, .init = setup, .fini = teardown);

static inline struct sockaddr_storage peer(const char *a)
{
	struct sockaddr_storage ss;
	saddr_parse(a, &ss);
	saddr_set_port(&ss, 40000);
	return ss;
}

static inline struct ms_session *open_admitted(const char *addr, struct fake_conn *c)
{
	struct sockaddr_storage p = peer(addr);
	admit_grant(ms_admit(ms), &p, mtime_now_ns() + LISPMS_NS_PER_SEC * 60);
	return ms_session_open(t, &p, fc(c));
}

/* A Registration (type 17) carrying a signed Map-Register of `n` records. */
static inline size_t registration(const char *const *eids, const char *const *rlocs, uint32_t ttl,
				  unsigned n, const struct auth_key *k, uint8_t *out, size_t cap)
{
	struct lisp_record recs[64];
	struct lisp_locator locs[64];
	cr_assert(n <= 64);
	for (unsigned i = 0; i < n; i++) {
		struct eid_prefix p;
		struct lisp_addr a;
		cr_assert_eq(eid_prefix_parse(eids[i], &p), LISPMS_EOK);
		cr_assert_eq(lisp_addr_parse(rlocs[i], &a), LISPMS_EOK);
		locs[i] = (struct lisp_locator){ .priority = 1, .weight = 1, .flags = LISP_LOC_R };
		afi_from_addr(&a, &locs[i].addr);
		recs[i] = (struct lisp_record){
			.ttl = ttl, .eid_plen = p.plen, .nlocs = 1, .locs = &locs[i]
		};
		afi_from_eid(&p, &recs[i].eid);
	}
	struct lisp_map_register m = {
		.nonce = 42,
		.auth = { .key_id = 1, .alg_id = LISP_ALG_HMAC_SHA256, .len = 32 },
		.nrecords = (uint16_t)n,
		.records = recs,
	};
	uint8_t inner[4096];
	size_t ilen, len;
	cr_assert_eq(map_register_encode(&m, inner, sizeof(inner), &ilen), LISPMS_EOK);
	cr_assert_eq(auth_sign(actx, k, inner, ilen), LISPMS_EOK);
	struct rt_msg r = { .type = RT_TYPE_REGISTRATION, .has_id = 1, .id = 9 };
	r.u.inner.msg = inner;
	r.u.inner.len = ilen;
	cr_assert_eq(rt_encode(&r, out, cap, &len), LISPMS_EOK);
	return len;
}

/* Decode every message the session wrote into out[]; returns how many. */
static inline unsigned decode_all(const struct fake_conn *c, struct rt_msg *out, unsigned max)
{
	unsigned n = 0;
	size_t off = 0;
	while (off + 4 <= c->len && n < max) {
		size_t len = wire_get_u16(c->buf + off + 2);
		cr_assert(len >= 8 && off + len <= c->len, "bad framing at %zu", off);
		cr_assert_eq(rt_decode(c->buf + off, len, &out[n]), LISPMS_EOK);
		n++;
		off += len;
	}
	cr_assert_eq(off, c->len, "trailing bytes");
	return n;
}

static inline bool prefix_is(const struct rt_prefix *p, const char *text)
{
	struct eid_prefix want, got;
	eid_prefix_parse(text, &want);
	return afi_to_eid(&p->eid, p->plen, &got) == LISPMS_EOK && eid_prefix_equal(&want, &got);
}

static inline int regs_expiry(const struct db_mapping *reg, uint64_t expires, void *arg)
{
	(void)reg;
	*(uint64_t *)arg = expires;
	return 0;
}

static inline int entry_expiry(const struct eid_prefix *p, const struct db_mapping *m,
			       const struct db_entry *e, void *arg)
{
	(void)p;
	(void)m;
	return db_entry_regs(e, regs_expiry, arg);
}

static inline uint64_t expiry_of(const char *prefix)
{
	struct eid_prefix p;
	eid_prefix_parse(prefix, &p);
	uint64_t exp = 0;
	db_walk(ms_db(ms), DB_SCOPE_EXACT, &p, entry_expiry, &exp);
	return exp;
}
