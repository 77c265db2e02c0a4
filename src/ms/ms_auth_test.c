/* SPDX-License-Identifier: MIT */
/*
 * The batch authentication stage (ms_auth.c) and request stage
 * (ms_request.c): a batch of Map-Registers of every kind (both algorithms,
 * two sites, wrong secrets, unknown keys, no site, malformed, no M bit)
 * mixed with Map-Requests (bare, in an ECM, DDT, malformed) gives, through
 * one ms_handle_batch(), exactly the replies, the counters and the
 * database the same datagrams give one per batch; every Map-Notify verifies with its site's
 * key; the stage ran (lispms_auth_batched_total) for the batch, and for the
 * lone datagrams only where the engine is faster for one (SHA-NI).
 */
#include <lispms/counters.h>

#include "ms_testlib.h"

static const char conf_text[] =
    "server:\n"
    "  listen: [127.0.0.1]\n"
    "log:\n"
    "  level: error\n"
    "sites:\n"
    "  - name: alpha\n"
    "    keys:\n"
    "      - {id: 1, algorithm: hmac-sha-256-128, secret: alpha-256}\n"
    "      - {id: 2, algorithm: hmac-sha-1-96, secret: alpha-sha1}\n"
    "    eid-prefixes: [\"[1000] 10.0.0.0/16\"]\n"
    "    accept-more-specifics: true\n"
    "  - name: beta\n"
    "    keys: [{id: 7, algorithm: hmac-sha-256-128, secret: beta-key}]\n"
    "    eid-prefixes: [\"[1000] 10.1.0.0/16\"]\n"
    "    accept-more-specifics: true\n";

#define NMSG 45

struct msgs {
	uint8_t buf[NMSG][512];
	size_t len[NMSG];
	char src[NMSG][16];
	unsigned n;
	unsigned registers, good; /* registers, and those that verify */
	unsigned bad_requests;	  /* malformed requests: no reply, not timed */
};

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* One Map-Register of kind `kind` for EID 10.{site}.{i}.0/24 (or 10.9 for no site). */
static void make_register(struct msgs *m, struct auth_ctx *auth, unsigned kind, unsigned i)
{
	static const struct {
		uint8_t id, alg, net;
		const char *secret;
		bool good, mbit;
	} kinds[] = {
		{ 1, LISP_ALG_HMAC_SHA256, 0, "alpha-256", true, true },
		{ 2, LISP_ALG_HMAC_SHA1, 0, "alpha-sha1", true, true },
		{ 7, LISP_ALG_HMAC_SHA256, 1, "beta-key", true, true },
		{ 1, LISP_ALG_HMAC_SHA256, 0, "not-the-key", false, true },
		{ 3, LISP_ALG_HMAC_SHA256, 0, "alpha-256", false, true }, /* unknown key id */
		{ 7, LISP_ALG_HMAC_SHA256, 9, "beta-key", false, true },  /* no site */
		{ 7, LISP_ALG_HMAC_SHA256, 0, "beta-key", false,
		  true }, /* beta's key, alpha's EID */
		{ 1, LISP_ALG_HMAC_SHA256, 0, "alpha-256", true, false }, /* no M bit: no notify */
		{ 2, LISP_ALG_HMAC_SHA1, 1, "alpha-sha1", false,
		  true }, /* alpha's key, beta's EID */
	};
	unsigned k = kind % (sizeof(kinds) / sizeof(kinds[0]));
	char text[48];
	snprintf(text, sizeof(text), "[1000] 10.%u.%u.0/24", kinds[k].net, i);
	struct eid_prefix p = tl_eid(text);
	struct lisp_addr a;
	cr_assert_eq(lisp_addr_parse("192.0.2.1", &a), LISPMS_EOK);
	struct lisp_locator loc = { .priority = 1, .weight = 100, .flags = LISP_LOC_R };
	afi_from_addr(&a, &loc.addr);
	struct lisp_record rec = { .ttl = 3, .eid_plen = p.plen, .nlocs = 1, .locs = &loc };
	afi_from_eid(&p, &rec.eid);
	struct auth_key key;
	cr_assert_eq(auth_key_init(&key, kinds[k].id, kinds[k].alg, kinds[k].secret,
				   strlen(kinds[k].secret)),
		     LISPMS_EOK);
	struct lisp_map_register r = {
		.flags = kinds[k].mbit ? LISP_MREG_M : 0,
		.nonce = 0x1000 + i,
		.auth = { .key_id = kinds[k].id,
			  .alg_id = kinds[k].alg,
			  .len = (uint16_t)auth_alg_len(kinds[k].alg) },
		.nrecords = 1,
		.records = &rec,
	};
	unsigned j = m->n++;
	cr_assert_eq(map_register_encode(&r, m->buf[j], sizeof(m->buf[j]), &m->len[j]), LISPMS_EOK);
	cr_assert_eq(auth_sign(auth, &key, m->buf[j], m->len[j]), LISPMS_EOK);
	snprintf(m->src[j], sizeof(m->src[j]), "192.0.2.%u", 1 + i % 3);
	m->registers++;
	m->good += kinds[k].good;
}

/*
 * A Map-Request for 10.{net}.{i}.1 of kind `kind`: bare (answered
 * directly), in an ECM, in a DDT ECM (D bit: a referral too), truncated,
 * or an ECM whose inner message is truncated.
 */
static void make_request(struct msgs *m, unsigned net, unsigned i, unsigned kind)
{
	char text[48];
	snprintf(text, sizeof(text), "[1000] 10.%u.%u.1/32", net, i);
	struct eid_prefix p = tl_eid(text);
	struct lisp_addr itr;
	cr_assert_eq(lisp_addr_parse("192.0.2.9", &itr), LISPMS_EOK);
	struct afi_addr itr_afi;
	afi_from_addr(&itr, &itr_afi);
	struct lisp_request_record er = { .eid_plen = 32 };
	afi_from_eid(&p, &er.eid);
	struct lisp_map_request q = {
		.nonce = 0x2000 + i,
		.source_eid = { .afi = LISP_AFI_NONE },
		.nitr = 1,
		.itr_rlocs = &itr_afi,
		.nrecords = 1,
		.records = &er,
	};
	unsigned j = m->n++;
	cr_assert_eq(map_request_encode(&q, m->buf[j], sizeof(m->buf[j]), &m->len[j]), LISPMS_EOK);
	snprintf(m->src[j], sizeof(m->src[j]), "192.0.2.9");
	kind %= 5;
	m->bad_requests += kind >= 3;
	if (kind == 3) {
		m->len[j] -= 3;
		return;
	}
	if (kind == 0)
		return;
	uint8_t inner[512];
	size_t ilen = m->len[j] - (kind == 4 ? 3 : 0);
	memcpy(inner, m->buf[j], ilen);
	struct lisp_ecm e = { .flags = kind == 2 ? LISP_ECM_D : 0,
			      .ip_version = 4,
			      .ttl = 64,
			      .sport = 4342,
			      .dport = 4342,
			      .inner = inner,
			      .inner_len = ilen };
	cr_assert_eq(lisp_addr_parse("192.0.2.9", &e.src), LISPMS_EOK);
	cr_assert_eq(lisp_addr_parse("10.0.0.1", &e.dst), LISPMS_EOK);
	cr_assert_eq(ecm_encode(&e, m->buf[j], sizeof(m->buf[j]), &m->len[j]), LISPMS_EOK);
}

static void build(struct msgs *m, struct auth_ctx *auth)
{
	memset(m, 0, sizeof(*m));
	uint64_t x = 0x5eed;
	for (unsigned i = 0; m->n < NMSG - 2; i++) {
		uint64_t r = rnd(&x);
		if (r % 5 == 0 || r % 7 == 0)
			make_request(m, (unsigned)(r >> 8) % 2, i % 8, (unsigned)(r >> 24));
		else
			make_register(m, auth, (unsigned)(r >> 16), i % 8);
	}
	/* a truncated register */
	memcpy(m->buf[m->n], m->buf[0], 20);
	m->len[m->n] = 20;
	strcpy(m->src[m->n++], "192.0.2.1");
	m->registers++;
}

struct replies {
	uint8_t data[4 * NMSG][512];
	size_t len[4 * NMSG];
	unsigned n;
};

static void collect(struct tl *x, struct replies *r)
{
	for (unsigned i = 0; i < x->out.n; i++) {
		cr_assert_lt(r->n, 4 * NMSG);
		cr_assert_leq(x->out.msgs[i].len, sizeof(r->data[0]));
		memcpy(r->data[r->n], x->out.msgs[i].data, x->out.msgs[i].len);
		r->len[r->n++] = x->out.msgs[i].len;
	}
}

static void feed_batch(struct tl *x, const struct msgs *m, unsigned from, unsigned n)
{
	struct dgram d[NMSG];
	for (unsigned i = 0; i < n; i++) {
		d[i] = (struct dgram){ .data = m->buf[from + i], .len = m->len[from + i] };
		cr_assert_eq(saddr_parse(m->src[from + i], &d[i].src), LISPMS_EOK);
		saddr_set_port(&d[i].src, 4342);
		saddr_parse("127.0.0.1", &d[i].local);
		saddr_set_port(&d[i].local, 4342);
	}
	x->out.n = 0;
	arena_reset(&x->arena);
	lrcu_read_lock();
	ms_handle_batch(x->t, d, n, &x->out);
	lrcu_read_unlock();
}

/* Every Map-Notify verifies with the key of the site its first EID belongs to. */
static unsigned check_notifies(const struct replies *r, struct auth_ctx *auth)
{
	struct auth_key keys[3];
	auth_key_init(&keys[0], 1, LISP_ALG_HMAC_SHA256, "alpha-256", 9);
	auth_key_init(&keys[1], 2, LISP_ALG_HMAC_SHA1, "alpha-sha1", 10);
	auth_key_init(&keys[2], 7, LISP_ALG_HMAC_SHA256, "beta-key", 8);
	struct arena ar;
	cr_assert_eq(arena_init(&ar, 1 << 16), LISPMS_EOK);
	unsigned notifies = 0;
	for (unsigned i = 0; i < r->n; i++) {
		if (msg_type(r->data[i], r->len[i]) != LISP_MSG_MAP_NOTIFY)
			continue;
		struct lisp_map_notify mn;
		arena_reset(&ar);
		cr_assert_eq(map_notify_decode(r->data[i], r->len[i], &ar, &mn), LISPMS_EOK);
		cr_assert_eq(auth_verify(auth, keys, 3, r->data[i], r->len[i], &mn.auth),
			     LISPMS_EOK, "Map-Notify %u is signed", i);
		notifies++;
	}
	arena_deinit(&ar);
	return notifies;
}

static uint64_t hist_count(enum hist_id id, uint64_t *sum_ns)
{
	uint64_t bucket[LISPMS_HIST_BUCKETS + 1], count, sum;
	counters_hist_sum(id, bucket, &count, &sum);
	if (sum_ns != NULL)
		*sum_ns = sum;
	return count;
}

/* Every counter's total now (metric id order); d[] - the previous *at. */
static void counters_delta(uint64_t *at, uint64_t *d)
{
	for (unsigned id = 0; id < LISPMS_M__COUNT; id++) {
		uint64_t v = counters_sum((enum metric_id)id);
		if (d != NULL)
			d[id] = v - at[id];
		at[id] = v;
	}
}

Test(ms_auth, batch_equals_one_by_one)
{
	static uint64_t at[LISPMS_M__COUNT], d_one[LISPMS_M__COUNT], d_batch[LISPMS_M__COUNT];
	static struct msgs m;
	static struct replies one, batch;
	struct auth_ctx *auth = auth_ctx_new();
	build(&m, auth);
	cr_assert_gt(m.good, 10);

	struct tl a;
	tl_init(&a, conf_text);
	uint64_t v0 = counters_sum(LISPMS_M_MS_AUTH_BATCH_VERIFY);
	uint64_t s0 = counters_sum(LISPMS_M_MS_AUTH_BATCH_SIGN);
	counters_delta(at, NULL);
	for (unsigned i = 0; i < m.n; i++) {
		feed_batch(&a, &m, i, 1);
		collect(&a, &one);
	}
	counters_delta(at, d_one);
	/* a lone register takes the stage only where the engine is faster for one */
	if (auth_ctx_batch_min(auth) > 1) {
		cr_assert_eq(counters_sum(LISPMS_M_MS_AUTH_BATCH_VERIFY), v0, "no stage for one");
		cr_assert_eq(counters_sum(LISPMS_M_MS_AUTH_BATCH_SIGN), s0);
	} else {
		cr_assert_geq(counters_sum(LISPMS_M_MS_AUTH_BATCH_VERIFY) - v0, m.good);
	}
	v0 = counters_sum(LISPMS_M_MS_AUTH_BATCH_VERIFY);
	s0 = counters_sum(LISPMS_M_MS_AUTH_BATCH_SIGN);
	struct db_stats st_one;
	db_stats_get(ms_db(a.ms), &st_one);
	tl_deinit(&a);

	struct tl b;
	tl_init(&b, conf_text);
	uint64_t reg_ns0, req_ns0, reg_ns, req_ns;
	uint64_t reg0 = hist_count(LISPMS_H_MS_REGISTER_SECONDS, &reg_ns0);
	uint64_t req0 = hist_count(LISPMS_H_MS_REQUEST_SECONDS, &req_ns0);
	counters_delta(at, NULL);
	feed_batch(&b, &m, 0, m.n);
	counters_delta(at, d_batch);
	collect(&b, &batch);
	/*
	 * timed once for the batch: every register and request of it observed
	 * once, at the same value, the batch's mean per message
	 */
	uint64_t regs = hist_count(LISPMS_H_MS_REGISTER_SECONDS, &reg_ns) - reg0;
	uint64_t reqs = hist_count(LISPMS_H_MS_REQUEST_SECONDS, &req_ns) - req0;
	cr_assert_eq(regs, m.registers);
	cr_assert_eq(reqs, m.n - m.registers - m.bad_requests);
	cr_assert_gt(m.bad_requests, 0);
	cr_assert_gt(reqs, 0);
	cr_assert_eq((reg_ns - reg_ns0) / regs, (req_ns - req_ns0) / reqs);
	cr_assert_eq((reg_ns - reg_ns0) % regs, 0);
	/* every register that found a site was verified in the stage */
	cr_assert_geq(counters_sum(LISPMS_M_MS_AUTH_BATCH_VERIFY) - v0, m.good);
	unsigned notifies = check_notifies(&batch, auth);
	cr_assert_gt(notifies, 5);
	cr_assert_eq(counters_sum(LISPMS_M_MS_AUTH_BATCH_SIGN) - s0, notifies,
		     "every Map-Notify of the batch signed in the batch");
	struct db_stats st_batch;
	db_stats_get(ms_db(b.ms), &st_batch);
	tl_deinit(&b);

	/* the same batch verified in place: the same replies, the datagrams as they were */
	static struct msgs orig;
	static struct replies inplace;
	orig = m;
	struct tl c;
	tl_init(&c, conf_text);
	ms_thread_rx_writable(c.t, true);
	feed_batch(&c, &m, 0, m.n);
	collect(&c, &inplace);
	tl_deinit(&c);
	for (unsigned i = 0; i < m.n; i++)
		cr_assert_arr_eq(m.buf[i], orig.buf[i], m.len[i], "datagram %u left as it was", i);
	cr_assert_eq(inplace.n, batch.n);
	for (unsigned i = 0; i < batch.n; i++)
		cr_assert_arr_eq(inplace.data[i], batch.data[i], batch.len[i], "reply %u", i);

	cr_assert_eq(check_notifies(&one, auth), notifies);
	/* the same counts, but for the stage's own and the log's rate limit (a clock) */
	d_one[LISPMS_M_LOG_SUPPRESSED] = d_batch[LISPMS_M_LOG_SUPPRESSED] = 0;
	d_one[LISPMS_M_MS_AUTH_BATCH_VERIFY] = d_batch[LISPMS_M_MS_AUTH_BATCH_VERIFY] = 0;
	d_one[LISPMS_M_MS_AUTH_BATCH_SIGN] = d_batch[LISPMS_M_MS_AUTH_BATCH_SIGN] = 0;
	for (unsigned id = 0; id < LISPMS_M__COUNT; id++)
		cr_assert_eq(d_batch[id], d_one[id], "%s: %llu in a batch, %llu one by one",
			     counters_desc[id].name, (unsigned long long)d_batch[id],
			     (unsigned long long)d_one[id]);
	cr_assert_gt(d_one[LISPMS_M_MS_RX_ECM], 0);
	cr_assert_gt(d_one[LISPMS_M_MS_DDT_REQUEST], 0);
	cr_assert_gt(d_one[LISPMS_M_MS_TX_MAP_REPLY], 0);
	cr_assert_eq(st_batch.prefixes, st_one.prefixes);
	cr_assert_eq(batch.n, one.n, "%u replies in a batch, %u one by one", batch.n, one.n);
	for (unsigned i = 0; i < one.n; i++) {
		cr_assert_eq(batch.len[i], one.len[i], "reply %u", i);
		cr_assert_arr_eq(batch.data[i], one.data[i], one.len[i], "reply %u", i);
	}
	auth_ctx_free(auth);
}

/* Two registers: a batch wherever the engine is not waiting for 8 (no SHA-NI). */
Test(ms_auth, smallest_batch)
{
	static struct msgs m;
	struct auth_ctx *auth = auth_ctx_new();
	memset(&m, 0, sizeof(m));
	make_register(&m, auth, 0, 1);
	make_register(&m, auth, 1, 2);
	struct tl a;
	tl_init(&a, conf_text);
	uint64_t v0 = counters_sum(LISPMS_M_MS_AUTH_BATCH_VERIFY);
	feed_batch(&a, &m, 0, 2);
	cr_assert_eq(counters_sum(LISPMS_M_MS_AUTH_BATCH_VERIFY) - v0,
		     auth_ctx_batch_min(auth) <= 2 ? 2 : 0);
	struct replies r = { .n = 0 };
	collect(&a, &r);
	cr_assert_eq(check_notifies(&r, auth), 2);
	cr_assert(tl_registered(&a, "[1000] 10.0.1.0/24"));
	cr_assert(tl_registered(&a, "[1000] 10.0.2.0/24"));
	tl_deinit(&a);
	auth_ctx_free(auth);
}

/*
 * A batch of Map-Requests alone (the request stage looks their EIDs up
 * together and answers from that lookup) after registers one by one: the
 * same replies and counters as one request per batch.
 */
Test(ms_auth, request_batch_equals_one_by_one)
{
	static uint64_t at[LISPMS_M__COUNT], d_one[LISPMS_M__COUNT], d_batch[LISPMS_M__COUNT];
	static struct msgs m;
	static struct replies one, batch;
	struct auth_ctx *auth = auth_ctx_new();
	memset(&m, 0, sizeof(m));
	for (unsigned i = 0; i < 6; i++)
		make_register(&m, auth, i % 3, i);
	unsigned nreg = m.n;
	for (unsigned i = 0; m.n < NMSG; i++)
		make_request(&m, i % 3 == 2 ? 9 : i % 2, i % 8, i);
	struct tl a, b;
	tl_init(&a, conf_text);
	tl_init(&b, conf_text);
	for (unsigned i = 0; i < nreg; i++) {
		feed_batch(&a, &m, i, 1);
		feed_batch(&b, &m, i, 1);
	}
	counters_delta(at, NULL);
	for (unsigned i = nreg; i < m.n; i++) {
		feed_batch(&a, &m, i, 1);
		collect(&a, &one);
	}
	counters_delta(at, d_one);
	feed_batch(&b, &m, nreg, m.n - nreg);
	counters_delta(at, d_batch);
	collect(&b, &batch);
	tl_deinit(&a);
	tl_deinit(&b);
	d_one[LISPMS_M_LOG_SUPPRESSED] = d_batch[LISPMS_M_LOG_SUPPRESSED] = 0;
	for (unsigned id = 0; id < LISPMS_M__COUNT; id++)
		cr_assert_eq(d_batch[id], d_one[id], "%s: %llu in a batch, %llu one by one",
			     counters_desc[id].name, (unsigned long long)d_batch[id],
			     (unsigned long long)d_one[id]);
	cr_assert_gt(d_one[LISPMS_M_MS_REQ_FORWARDED] + d_one[LISPMS_M_MS_REQ_PROXY], 0);
	cr_assert_gt(d_one[LISPMS_M_MS_REQ_NEG_UNKNOWN], 0);
	cr_assert_gt(d_one[LISPMS_M_MS_REQ_NEG_CONFIGURED], 0);
	cr_assert_eq(batch.n, one.n, "%u replies in a batch, %u one by one", batch.n, one.n);
	for (unsigned i = 0; i < one.n; i++) {
		cr_assert_eq(batch.len[i], one.len[i], "reply %u", i);
		cr_assert_arr_eq(batch.data[i], one.data[i], one.len[i], "reply %u", i);
	}
	auth_ctx_free(auth);
}
