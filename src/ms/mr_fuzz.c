/* SPDX-License-Identifier: MIT */
/*
 * Bytecode fuzzer for the Map-Resolver's state machine (mr.c): decoded
 * Map-Referrals fed to mr_referral between ITR requests and clock ticks.
 * Byte 0 picks the bounds (pending-max 1..4, cache-max 1..8, retries 0..1,
 * max-depth 1..4; reply-rate-limit 2, so negative answers are also
 * suppressed), the input's length modulo 3 the families the resolver can
 * send to (both, IPv4, IPv6); then each instruction is an opcode byte and
 * operands:
 *   request   EID (from a small table of nested prefixes), nonce (0..7)
 *   referral  built from operands (nonce: 0..7, an ITR's, or with bit 3
 *             one of the last 8 a DDT Map-Request carried; action 0..7,
 *             prefix, TTL, I bit,
 *             up to 3 RLOCs from a table), encoded and decoded back, fed
 *             from the RLOC last sent to or from a table address
 *   raw       a length byte and that many bytes through map_referral_decode,
 *             its nonce optionally replaced (as the referral's), then fed
 *   tick      the clock advanced by operand x 50 ms, mr_tick
 *   views     cache lookup, foreach of the cache and the pending table
 * Checked after every step: the bounds (pending <= pending-max, cache <=
 * cache-max), every send goes to a root or an RLOC some referral named, of
 * a family the resolver can send to, and
 * carries the request as given with the nonce D25 says (the ITR's toward
 * Map-Servers, another toward DDT nodes), negative answers carry a valid
 * action, and once an answer under a request's ITR nonce sent it on, no
 * referral for it grows the cache; at
 * the end the clock runs on until every request has been answered or given
 * up (no resolution outlives its timeouts). ASan/UBSan catch the rest.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/err.h>
#include <lispms/mr.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "fuzz.h"

static void check(bool cond)
{
	if (!cond)
		abort();
}

static const char *const eids[] = {
	"[1] 10.0.0.0/8",      "[1] 10.1.0.0/16",  "[1] 10.1.1.0/24",	"[1] 10.1.1.1/32",
	"[1] 10.2.0.0/16",     "[1] 0.0.0.0/0",	   "[2] 10.1.1.1/32",	"[1] 2001:db8::/32",
	"[1] 2001:db8::1/128", "[1] 10.128.0.0/9", "[1] 10.1.128.0/17", "[1] 11.0.0.1/32",
};
#define NEIDS (sizeof(eids) / sizeof(eids[0]))
static const char *const rlocs[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::9" };
#define NRLOCS (sizeof(rlocs) / sizeof(rlocs[0]))
#define ROOT   "192.0.2.1"

static struct eid_prefix prefix_of[NEIDS];
static struct lisp_addr rloc_of[NRLOCS];
static const uint8_t req_bytes[] = { 0x80, 0, 0, 0, 0x45, 0, 0, 40, 1, 2, 3, 4 };

static bool known_rloc(const struct lisp_addr *a)
{
	for (unsigned i = 0; i < NRLOCS; i++)
		if (lisp_addr_equal(a, &rloc_of[i]))
			return true;
	return false;
}

struct cur {
	const uint8_t *p;
	size_t left;
};

static unsigned next(struct cur *c)
{
	if (c->left == 0)
		return 0;
	c->left--;
	return *c->p++;
}

static struct lisp_addr last_to;
static bool have_last;
static bool raw_fed;	  /* a raw referral may name any RLOC */
static unsigned families; /* the resolver's mr_config.families */
static struct lisp_addr root_addr;
static uint64_t sent_nonce[8]; /* the last DDT Map-Requests' nonces */
static unsigned nsent;
static bool steered[8]; /* request n went on after an answer under its ITR nonce */

/* A referral's nonce from operand n: an ITR's (0..7) or one sent (bit 3). */
static uint64_t pick_nonce(unsigned n)
{
	return (n & 8) ? sent_nonce[n & 7] : n & 7;
}

static void take(const struct mr_action *a)
{
	switch (a->kind) {
	case MR_ACT_NONE:
		break;
	case MR_ACT_SEND:
		check(raw_fed || known_rloc(&a->to)); /* the root or an RLOC of a referral */
		check(lisp_addr_equal(&a->to, &root_addr) || families == 0 ||
		      (a->to.afi == LISP_AFI_IPV4 ? MR_FAM_IPV4 : MR_FAM_IPV6) & families);
		check(a->request_len == sizeof(req_bytes) &&
		      memcmp(a->request, req_bytes, sizeof(req_bytes)) == 0);
		/* D25: the Map-Server is asked with the ITR's nonce, a DDT node
		 * with the resolver's own (never an ITR's: those are 0..7 here) */
		check(a->to_ms ? a->ddt_nonce == a->nonce : a->ddt_nonce != a->nonce);
		sent_nonce[nsent++ % 8] = a->ddt_nonce;
		last_to = a->to;
		have_last = true;
		break;
	case MR_ACT_NEGATIVE:
		check(a->neg_act == LISP_ACT_NATIVE_FORWARD ||
		      a->neg_act == LISP_ACT_SEND_MAP_REQUEST);
		check(a->neg_ttl_min <= MR_MAX_TTL_MIN);
		check(a->neg_prefix.plen <= lisp_afi_bits(a->neg_prefix.afi));
		break;
	default:
		check(false);
	}
}

static bool dummy_cache(const struct mr_cache_entry *e, void *arg)
{
	(void)e;
	++*(size_t *)arg;
	return true;
}

static bool dummy_pend(const struct mr_pending_info *p, void *arg)
{
	(void)p;
	++*(size_t *)arg;
	return true;
}

static void feed(struct mr *m, struct lisp_map_referral *ref, struct cur *c, uint64_t now)
{
	unsigned how = next(c);
	struct lisp_addr from =
	    have_last && (how & 1) == 0 ? last_to : rloc_of[(how >> 1) % NRLOCS];
	struct mr_action a;
	size_t before = mr_cache_count(m);
	mr_referral(m, ref, &from, now, &a);
	/* D25: once an answer under the ITR's nonce (0..7 here) sent a
	 * request on, nothing more of its walk is cached */
	if (a.nonce < 8 && steered[a.nonce])
		check(mr_cache_count(m) <= before);
	if (a.kind == MR_ACT_SEND && ref->nonce == a.nonce)
		steered[a.nonce] = true;
	take(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		thread_register("fuzz");
		for (unsigned i = 0; i < NEIDS; i++)
			check(eid_prefix_parse(eids[i], &prefix_of[i]) == LISPMS_EOK);
		for (unsigned i = 0; i < NRLOCS; i++)
			check(lisp_addr_parse(rlocs[i], &rloc_of[i]) == LISPMS_EOK);
		ready = true;
	}
	if (size < 1)
		return 0;
	struct mr_config cfg = {
		.nroots = 1,
		.pending_max = 1 + (data[0] & 3),
		.cache_max = 1 + ((data[0] >> 2) & 7),
		.retries = (data[0] >> 5) & 1,
		.max_depth = 1 + ((data[0] >> 6) & 3),
		.timeout_ms = 1000,
		.reply_rate_limit = 2, /* small: the limiter (D22) suppresses some answers */
		.families = (unsigned)(size % 3),
	};
	families = cfg.families;
	check(lisp_addr_parse(ROOT, &cfg.roots[0]) == LISPMS_EOK);
	root_addr = cfg.roots[0];
	struct mr *m = NULL;
	check(mr_new(&cfg, &m) == LISPMS_EOK);
	struct cur c = { data + 1, size - 1 };
	uint64_t now = 1000;
	have_last = false;
	raw_fed = false;
	nsent = 0;
	memset(sent_nonce, 0, sizeof(sent_nonce));
	memset(steered, 0, sizeof(steered));
	static uint8_t arena_mem[64 * 1024];
	struct arena ar = { .base = arena_mem, .size = sizeof(arena_mem) };
	while (c.left > 0) {
		unsigned op = next(&c) % 5;
		struct mr_action a;
		if (op == 0) { /* request */
			const struct eid_prefix *e = &prefix_of[next(&c) % NEIDS];
			uint64_t nonce = next(&c) & 7;
			int ret = mr_request(m, e, nonce, &rloc_of[0], 4342, req_bytes,
					     sizeof(req_bytes), now, &a);
			if (ret == LISPMS_EOK && a.kind == MR_ACT_SEND)
				steered[nonce] = false; /* a new walk */
			if (ret == LISPMS_EOK)
				take(&a);
			else
				check(a.kind == MR_ACT_NONE);
		} else if (op == 1) { /* a referral from operands, through the codec */
			struct lisp_locator locs[3];
			memset(locs, 0, sizeof(locs));
			struct lisp_referral_record rec;
			memset(&rec, 0, sizeof(rec));
			uint64_t nonce = pick_nonce(next(&c));
			unsigned act = next(&c);
			const struct eid_prefix *p = &prefix_of[next(&c) % NEIDS];
			afi_from_eid(p, &rec.r.eid);
			rec.r.eid_plen = p->plen;
			rec.r.act = (uint8_t)(act & 7);
			rec.r.a = (act & 8) != 0;
			if (act & 16)
				rec.r.reserved = LISP_REF_I;
			rec.r.ttl = next(&c) * 13u;
			unsigned n = next(&c) % 4;
			for (unsigned i = 0; i < n; i++) {
				afi_from_addr(&rloc_of[next(&c) % NRLOCS], &locs[i].addr);
				locs[i].priority = 1;
				locs[i].weight = 100;
			}
			rec.r.nlocs = (uint16_t)n;
			rec.r.locs = locs;
			struct lisp_map_referral out = { .nonce = nonce,
							 .nrecords = 1,
							 .records = &rec };
			uint8_t buf[1024];
			size_t len;
			struct lisp_map_referral ref;
			arena_reset(&ar);
			if (map_referral_encode(&out, buf, sizeof(buf), &len) == LISPMS_EOK &&
			    map_referral_decode(buf, len, &ar, &ref) == LISPMS_EOK)
				feed(m, &ref, &c, now);
		} else if (op == 2) { /* raw bytes through the decoder */
			size_t len = next(&c);
			unsigned patch = next(&c);
			if (len > c.left)
				len = c.left;
			struct lisp_map_referral ref;
			arena_reset(&ar);
			int ret = map_referral_decode(c.p, len, &ar, &ref);
			c.p += len;
			c.left -= len;
			if (ret == LISPMS_EOK) {
				if (patch & 16)
					ref.nonce = pick_nonce(patch);
				raw_fed = true;
				feed(m, &ref, &c, now);
			}
		} else if (op == 3) { /* time passes */
			now += 50u * next(&c);
			struct mr_action acts[4];
			unsigned k;
			do {
				k = mr_tick(m, now, acts, 4);
				for (unsigned i = 0; i < k; i++)
					take(&acts[i]);
			} while (k == 4);
		} else { /* views */
			struct mr_cache_entry ce;
			if (mr_cache_lookup(m, &prefix_of[next(&c) % NEIDS], now, &ce) ==
			    LISPMS_EOK)
				check(ce.expires_ms > now && ce.nrlocs <= MR_MAX_RLOCS);
			size_t nc = 0, np = 0;
			mr_cache_foreach(m, dummy_cache, &nc);
			mr_pending_foreach(m, dummy_pend, &np);
			check(nc == mr_cache_count(m) && np == mr_pending_count(m));
		}
		check(mr_pending_count(m) <= cfg.pending_max);
		check(mr_cache_count(m) <= cfg.cache_max);
		uint64_t dl = mr_next_deadline(m);
		check(mr_pending_count(m) == 0 ? dl == UINT64_MAX : dl != UINT64_MAX);
	}
	/* every resolution ends: at most rlocs x rounds timeouts each */
	for (unsigned i = 0; i < 64 && mr_pending_count(m) > 0; i++) {
		now += cfg.timeout_ms;
		struct mr_action acts[4];
		unsigned k;
		do {
			k = mr_tick(m, now, acts, 4);
			for (unsigned j = 0; j < k; j++)
				take(&acts[j]);
		} while (k == 4);
	}
	check(mr_pending_count(m) == 0);
	mr_free(m);
	static unsigned runs;
	if (++runs % 256 == 0)
		lrcu_barrier(); /* let the deferred frees catch up now and then */
	return 0;
}
