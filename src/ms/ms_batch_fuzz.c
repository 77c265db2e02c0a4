/* SPDX-License-Identifier: MIT */
/*
 * Differential fuzzer of a batch through the request core (ms_handle_batch:
 * the authentication stage, the request stage, then each message): the
 * input is up to 32 datagrams, each a length octet and that many octets
 * (the source address's last octet taken from the length's low bits), fed
 * to a fresh core as one batch and to another as one batch each, after one
 * signed Map-Register of the same EID prefix to both. The replies must be
 * the same octets in the same order to the same addresses. No reply-rate
 * limit (its clock would differ between the two); ASan/UBSan catch the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/err.h>
#include <lispms/ms.h>
#include <lispms/proto.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "fuzz.h"

#define NMAX 32

static const char conf_text[] = "server:\n"
				"  listen: [127.0.0.1]\n"
				"  reply-rate-limit: 0\n"
				"log:\n"
				"  level: error\n"
				"sites:\n"
				"  - name: alpha\n"
				"    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: alpha}]\n"
				"    eid-prefixes: [\"[1000] 10.0.0.0/16\", \"10.0.0.0/16\"]\n"
				"    accept-more-specifics: true\n"
				"  - name: beta\n"
				"    keys: [{id: 2, algorithm: hmac-sha-256-128, secret: beta}]\n"
				"    eid-prefixes: [\"10.1.0.0/16\"]\n"
				"    proxy-reply: true\n"
				"    accept-more-specifics: true\n";

struct core {
	struct ms *ms;
	struct ms_thread *t;
	struct arena arena;
	struct dgram_out msgs[4 * NMAX];
	struct dgram_outbox out;
	uint8_t rep[4 * NMAX][1500];
	size_t len[4 * NMAX];
	struct sockaddr_storage dst[4 * NMAX];
	unsigned n;
};

static struct auth_ctx *auth;
static uint8_t reg[2][512];
static size_t reg_len[2];

/* A signed Map-Register of `eid` with locator 192.0.2.1 (M bit set). */
static void make_register(uint8_t *buf, size_t *len, const char *eid, uint8_t id,
			  const char *secret)
{
	struct eid_prefix p;
	struct lisp_addr a;
	if (eid_prefix_parse(eid, &p) != LISPMS_EOK || lisp_addr_parse("192.0.2.1", &a) != 0)
		abort();
	struct lisp_locator loc = { .priority = 1, .weight = 100, .flags = LISP_LOC_R };
	afi_from_addr(&a, &loc.addr);
	struct lisp_record rec = { .ttl = 3, .eid_plen = p.plen, .nlocs = 1, .locs = &loc };
	afi_from_eid(&p, &rec.eid);
	struct auth_key key;
	auth_key_init(&key, id, LISP_ALG_HMAC_SHA256, secret, strlen(secret));
	struct lisp_map_register r = {
		.flags = LISP_MREG_M,
		.nonce = 7,
		.auth = { .key_id = id, .alg_id = LISP_ALG_HMAC_SHA256, .len = 32 },
		.nrecords = 1,
		.records = &rec,
	};
	if (map_register_encode(&r, buf, 512, len) != LISPMS_EOK ||
	    auth_sign(auth, &key, buf, *len) != LISPMS_EOK)
		abort();
}

static void setup(void)
{
	if (auth != NULL)
		return;
	if (thread_register("fuzz") != LISPMS_EOK)
		abort();
	auth = auth_ctx_new();
	make_register(reg[0], &reg_len[0], "[1000] 10.0.1.0/24", 1, "alpha");
	make_register(reg[1], &reg_len[1], "10.1.2.0/24", 2, "beta");
}

static void dgram_at(struct dgram *d, const uint8_t *data, size_t len, unsigned host)
{
	char text[32];
	snprintf(text, sizeof(text), "192.0.2.%u", 1 + host % 8);
	*d = (struct dgram){ .data = data, .len = len };
	saddr_parse(text, &d->src);
	saddr_set_port(&d->src, 4342);
	saddr_parse("127.0.0.1", &d->local);
	saddr_set_port(&d->local, 4342);
}

static void run(struct core *c, const struct dgram *d, unsigned n)
{
	c->out.n = 0;
	arena_reset(&c->arena);
	lrcu_read_lock();
	ms_handle_batch(c->t, d, n, &c->out);
	lrcu_read_unlock();
	for (unsigned i = 0; i < c->out.n && c->n < 4 * NMAX; i++) {
		const struct dgram_out *o = &c->out.msgs[i];
		size_t l = o->len < sizeof(c->rep[0]) ? o->len : sizeof(c->rep[0]);
		memcpy(c->rep[c->n], o->data, l);
		c->len[c->n] = o->len;
		c->dst[c->n++] = o->dst;
	}
}

static void core_init(struct core *c)
{
	memset(c, 0, sizeof(*c));
	struct conf *conf = NULL;
	struct conf_error err;
	if (conf_load_buf("fuzz.yaml", conf_text, strlen(conf_text), NULL, &conf, &err) !=
	    LISPMS_EOK)
		abort();
	c->ms = ms_new(conf);
	c->t = c->ms ? ms_thread_new(c->ms, 0) : NULL;
	if (c->t == NULL || arena_init(&c->arena, 1 << 20) != LISPMS_EOK)
		abort();
	c->out = (struct dgram_outbox){ .msgs = c->msgs, .cap = 4 * NMAX, .arena = &c->arena };
	struct dgram r[2];
	dgram_at(&r[0], reg[0], reg_len[0], 0);
	dgram_at(&r[1], reg[1], reg_len[1], 1);
	run(c, r, 1);
	run(c, r + 1, 1);
	c->n = 0;
}

static void core_deinit(struct core *c)
{
	ms_thread_free(c->t);
	ms_free(c->ms);
	arena_deinit(&c->arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	struct dgram d[NMAX];
	unsigned n = 0;
	for (size_t at = 0; at < size && n < NMAX;) {
		size_t len = data[at++];
		if (len > size - at)
			len = size - at;
		dgram_at(&d[n++], data + at, len, (unsigned)len);
		at += len;
	}
	static struct core batch, one;
	core_init(&batch);
	core_init(&one);
	run(&batch, d, n);
	for (unsigned i = 0; i < n; i++)
		run(&one, &d[i], 1);
	if (batch.n != one.n)
		abort();
	for (unsigned i = 0; i < batch.n; i++)
		if (batch.len[i] != one.len[i] ||
		    memcmp(batch.rep[i], one.rep[i],
			   batch.len[i] < sizeof(batch.rep[0]) ? batch.len[i]
							       : sizeof(batch.rep[0])) != 0 ||
		    memcmp(&batch.dst[i], &one.dst[i], sizeof(batch.dst[i])) != 0)
			abort();
	core_deinit(&batch);
	core_deinit(&one);
	lrcu_barrier();
	return 0;
}
