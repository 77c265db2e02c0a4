/* SPDX-License-Identifier: MIT */
/*
 * Private to ms tests: a request core on a configuration given as text, and
 * Map-Registers and Map-Requests fed through ms_handle_batch() as a
 * transport would, with the replies collected.
 */
#pragma once

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/err.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/proto.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

struct tl {
	struct ms *ms;
	struct ms_thread *t;
	struct auth_ctx *auth;
	struct arena arena;
	struct dgram_outbox out;
	struct dgram_out msgs[64];
};

static inline struct conf *tl_conf(const char *text)
{
	struct conf *c = NULL;
	struct conf_error err;
	int ret = conf_load_buf("test.yaml", text, strlen(text), NULL, &c, &err);
	cr_assert_eq(ret, LISPMS_EOK, "config: %s", err.msg);
	return c;
}

static inline void tl_init(struct tl *x, const char *conf_text)
{
	memset(x, 0, sizeof(*x));
	cr_assert_eq(thread_register("test"), LISPMS_EOK);
	x->ms = ms_new(tl_conf(conf_text));
	cr_assert_not_null(x->ms);
	x->t = ms_thread_new(x->ms, 0);
	x->auth = auth_ctx_new();
	cr_assert_eq(arena_init(&x->arena, 1 << 20), LISPMS_EOK);
	x->out = (struct dgram_outbox){ .msgs = x->msgs, .cap = 64, .arena = &x->arena };
}

static inline void tl_deinit(struct tl *x)
{
	ms_thread_free(x->t);
	ms_free(x->ms);
	auth_ctx_free(x->auth);
	arena_deinit(&x->arena);
	lrcu_barrier();
	thread_unregister();
}

/* Feed one datagram from src ("127.0.0.1") through the request core; replies in x->out. */
static inline void tl_feed(struct tl *x, const uint8_t *msg, size_t len, const char *src)
{
	struct dgram d = { .data = msg, .len = len };
	cr_assert_eq(saddr_parse(src, &d.src), LISPMS_EOK);
	saddr_set_port(&d.src, 4342);
	saddr_parse("127.0.0.1", &d.local);
	saddr_set_port(&d.local, 4342);
	x->out.n = 0;
	arena_reset(&x->arena);
	lrcu_read_lock();
	ms_handle_batch(x->t, &d, 1, &x->out);
	lrcu_read_unlock();
}

/*
 * Register `eids` (NULL-terminated) with one locator `rloc`, signed with
 * (key_id, secret), M bit set, from `src`. Returns the acknowledged record
 * count (0 when no Map-Notify came back).
 */
static inline int tl_register(struct tl *x, const char *const *eids, const char *rloc,
			      uint8_t key_id, const char *secret, const char *src)
{
	struct lisp_record recs[8];
	struct lisp_locator locs[8];
	unsigned n = 0;
	for (; eids[n] != NULL && n < 8; n++) {
		struct eid_prefix p;
		struct lisp_addr a;
		cr_assert_eq(eid_prefix_parse(eids[n], &p), LISPMS_EOK, "%s", eids[n]);
		cr_assert_eq(lisp_addr_parse(rloc, &a), LISPMS_EOK);
		memset(&recs[n], 0, sizeof(recs[n]));
		memset(&locs[n], 0, sizeof(locs[n]));
		locs[n].priority = 1;
		locs[n].weight = 100;
		locs[n].flags = LISP_LOC_R;
		afi_from_addr(&a, &locs[n].addr);
		recs[n].ttl = 3;
		recs[n].eid_plen = p.plen;
		afi_from_eid(&p, &recs[n].eid);
		recs[n].nlocs = 1;
		recs[n].locs = &locs[n];
	}
	struct auth_key key;
	auth_key_init(&key, key_id, LISP_ALG_HMAC_SHA256, secret, strlen(secret));
	struct lisp_map_register m = {
		.flags = LISP_MREG_M,
		.nonce = 0x1234,
		.auth = { .key_id = key_id, .alg_id = LISP_ALG_HMAC_SHA256, .len = 32 },
		.nrecords = (uint16_t)n,
		.records = recs,
	};
	uint8_t buf[2048];
	size_t len;
	cr_assert_eq(map_register_encode(&m, buf, sizeof(buf), &len), LISPMS_EOK);
	cr_assert_eq(auth_sign(x->auth, &key, buf, len), LISPMS_EOK);
	tl_feed(x, buf, len, src);
	for (unsigned i = 0; i < x->out.n; i++) {
		if (msg_type(x->out.msgs[i].data, x->out.msgs[i].len) != LISP_MSG_MAP_NOTIFY)
			continue;
		struct lisp_map_notify mn;
		struct arena ar;
		cr_assert_eq(arena_init(&ar, 1 << 16), LISPMS_EOK);
		int ret = map_notify_decode(x->out.msgs[i].data, x->out.msgs[i].len, &ar, &mn);
		int count = ret == LISPMS_EOK ? mn.nrecords : 0;
		arena_deinit(&ar);
		return count;
	}
	return 0;
}

/* Parse text as an EID prefix. */
static inline struct eid_prefix tl_eid(const char *text)
{
	struct eid_prefix p;
	cr_assert_eq(eid_prefix_parse(text, &p), LISPMS_EOK, "%s", text);
	return p;
}

/* True when the db has a mapping for exactly this prefix. */
static inline bool tl_registered(struct tl *x, const char *prefix)
{
	struct eid_prefix p = tl_eid(prefix);
	lrcu_read_lock();
	bool yes = db_lookup_exact(ms_db(x->ms), &p) != NULL;
	lrcu_read_unlock();
	return yes;
}
