/* SPDX-License-Identifier: MIT */
/*
 * Map-Referral (type 6, RFC 8111 §6.4): a hand-assembled reference packet
 * with every field checked, every action code, signature sections, random
 * round trips, and truncation at every byte.
 */
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "testgen.h"

static struct arena arena;
static uint8_t out[4096];

static void setup(void)
{
	cr_assert_eq(arena_init(&arena, 1u << 20), LISPMS_EOK);
}

static void teardown(void)
{
	arena_deinit(&arena);
}

TestSuite(map_referral, .init = setup, .fini = teardown);

/* One record: [1000] 10.1.0.0/16, MS-REFERRAL, A, I, TTL 1440, two referral
 * RLOCs 192.0.2.1 and 192.0.2.2, one signature section of 4 octets. */
static const uint8_t ref_pkt[] = {
	0x60, 0x00, 0x00, 0x01,					      /* type 6, 1 record */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,		      /* nonce */
	0x00, 0x00, 0x05, 0xa0,					      /* TTL 1440 */
	0x02, 0x10,						      /* 2 referrals, mask-len 16 */
	0x38, 0x00,						      /* ACT 1, A, I */
	0x10, 0x07,						      /* SigCnt 1, map version 7 */
	0x40, 0x03, 0x00, 0x00, 0x02, 0x00, 0x00, 0x0a,		      /* LCAF IID, len 10 */
	0x00, 0x00, 0x03, 0xe8, 0x00, 0x01,			      /* IID 1000, AFI 1 */
	10,   1,    0,	  0,					      /* EID */
	0x01, 0x64, 0xff, 0x00, 0x00, 0x01, 0x00, 0x01, 192, 0, 2, 1, /* referral 1 */
	0x02, 0x32, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01, 192, 0, 2, 2, /* referral 2 */
	0x00, 0x00, 0x05, 0xa0,					      /* original TTL */
	0x70, 0x00, 0x00, 0x00,					      /* expiration */
	0x60, 0x00, 0x00, 0x00,					      /* inception */
	0x12, 0x34, 0x00, 0x04,					      /* key tag, sig length */
	0x01, 0x00, 0x00, 0x00,					      /* algorithm, reserved */
	0xde, 0xad, 0xbe, 0xef,					      /* signature */
};

Test(map_referral, reference_packet)
{
	struct lisp_map_referral m;
	size_t n;
	cr_assert_eq(map_referral_decode(ref_pkt, sizeof(ref_pkt), &arena, &m), LISPMS_EOK);
	cr_assert_eq(m.flags, 0);
	cr_assert_eq(m.nonce, 0x0102030405060708ull);
	cr_assert_eq(m.nrecords, 1);
	const struct lisp_referral_record *rr = &m.records[0];
	cr_assert_eq(rr->r.ttl, 1440);
	cr_assert_eq(rr->r.act, LISP_REF_MS_REFERRAL);
	cr_assert_eq(rr->r.a, 1);
	cr_assert_eq(rr->r.reserved, LISP_REF_I);
	cr_assert_eq(rr->r.rsvd, 1);
	cr_assert_eq(rr->r.version, 7);
	struct eid_prefix p;
	cr_assert_eq(record_eid(&rr->r, &p), LISPMS_EOK);
	cr_assert_eq(p.iid, 1000);
	cr_assert_eq(p.plen, 16);
	cr_assert_eq(rr->r.nlocs, 2);
	cr_assert_eq(rr->r.locs[0].priority, 1);
	cr_assert_eq(rr->r.locs[0].flags, LISP_LOC_R);
	cr_assert_arr_eq(rr->r.locs[1].addr.bytes, ((uint8_t[]){ 192, 0, 2, 2 }), 4);
	cr_assert_eq(rr->sigs[0].orig_ttl, 1440);
	cr_assert_eq(rr->sigs[0].expiration, 0x70000000u);
	cr_assert_eq(rr->sigs[0].inception, 0x60000000u);
	cr_assert_eq(rr->sigs[0].key_tag, 0x1234);
	cr_assert_eq(rr->sigs[0].alg, 1);
	cr_assert_eq(rr->sigs[0].len, 4);
	cr_assert_eq(rr->sigs[0].data, ref_pkt + sizeof(ref_pkt) - 4);
	/* what a signature covers (D24): the record from its TTL to the last
	 * referral, and the section's 20-octet header */
	cr_assert_eq(rr->wire, ref_pkt + 12);
	cr_assert_eq(rr->wire_len, sizeof(ref_pkt) - 12 - 24);
	cr_assert_eq(rr->sigs[0].hdr, ref_pkt + sizeof(ref_pkt) - 24);
	cr_assert_eq(map_referral_encode(&m, out, sizeof(out), &n), LISPMS_EOK);
	cr_assert_eq(n, sizeof(ref_pkt));
	cr_assert_arr_eq(out, ref_pkt, n);

	struct lisp_msg msg;
	cr_assert_eq(msg_decode(ref_pkt, sizeof(ref_pkt), &arena, &msg), LISPMS_EOK);
	cr_assert_eq(msg.type, LISP_MSG_MAP_REFERRAL);
	cr_assert_eq(msg_encode(&msg, out, sizeof(out), &n), LISPMS_EOK);
	cr_assert_arr_eq(out, ref_pkt, sizeof(ref_pkt));
}

Test(map_referral, truncated_at_every_byte)
{
	struct lisp_map_referral m;
	memset(&m, 0xa5, sizeof(m));
	struct lisp_map_referral before = m;
	for (size_t cut = 0; cut < sizeof(ref_pkt); cut++) {
		size_t mark = arena_mark(&arena);
		int ret = map_referral_decode(ref_pkt, cut, &arena, &m);
		cr_assert_neq(ret, LISPMS_EOK, "a %zu-octet prefix decoded", cut);
		cr_assert_eq(arena_mark(&arena), mark, "arena not rolled back at %zu", cut);
		cr_assert_eq(memcmp(&m, &before, sizeof(m)), 0, "*out written at %zu", cut);
	}
	uint8_t longer[sizeof(ref_pkt) + 1];
	memcpy(longer, ref_pkt, sizeof(ref_pkt));
	longer[sizeof(ref_pkt)] = 0;
	cr_assert_eq(map_referral_decode(longer, sizeof(longer), &arena, &m), LISPMS_EMALFORMED);
}

Test(map_referral, counts_the_message_cannot_hold)
{
	uint8_t b[sizeof(ref_pkt)];
	struct lisp_map_referral m;
	memcpy(b, ref_pkt, sizeof(b));
	b[3] = 0xff; /* 255 records */
	cr_assert_eq(map_referral_decode(b, sizeof(b), &arena, &m), LISPMS_ETOOMANY);
	memcpy(b, ref_pkt, sizeof(b));
	b[20] = 0xf0; /* SigCnt 15 */
	cr_assert_eq(map_referral_decode(b, sizeof(b), &arena, &m), LISPMS_ETOOMANY);
	memcpy(b, ref_pkt, sizeof(b));
	b[sizeof(b) - 9] = 0xff; /* Sig Length runs past the end */
	cr_assert_eq(map_referral_decode(b, sizeof(b), &arena, &m), LISPMS_ETRUNC);
	memcpy(b, ref_pkt, sizeof(b));
	b[0] = 0x20;
	cr_assert_eq(map_referral_decode(b, sizeof(b), &arena, &m), LISPMS_ETYPE);
}

Test(map_referral, every_action_code)
{
	for (unsigned act = 0; act <= 7; act++) {
		struct lisp_referral_record rr;
		memset(&rr, 0, sizeof(rr));
		rr.r.ttl = act;
		rr.r.act = (uint8_t)act;
		rr.r.a = act != LISP_REF_NOT_AUTHORITATIVE;
		rr.r.eid_plen = 8;
		struct eid_prefix p = { .iid = 7, .plen = 8 };
		cr_assert_eq(eid_prefix_parse("[7] 10.0.0.0/8", &p), LISPMS_EOK);
		afi_from_eid(&p, &rr.r.eid);
		struct lisp_map_referral m = { .nonce = act, .nrecords = 1, .records = &rr }, d;
		size_t n;
		cr_assert_eq(map_referral_encode(&m, out, sizeof(out), &n), LISPMS_EOK);
		cr_assert_eq(out[18] >> 5, act);
		cr_assert_eq(map_referral_decode(out, n, &arena, &d), LISPMS_EOK);
		cr_assert_eq(d.records[0].r.act, act);
		cr_assert_eq(d.records[0].r.a, rr.r.a);
		cr_assert_eq(d.nonce, act);
		cr_assert_str_neq(lisp_ref_act_name(act), act <= LISP_REF_ACT_MAX ? "?" : "");
	}
	cr_assert_str_eq(lisp_ref_act_name(LISP_REF_DELEGATION_HOLE), "delegation-hole");
	cr_assert_str_eq(lisp_ref_act_name(6), "?");
}

Test(map_referral, encoder_refuses_inconsistent_structs)
{
	struct lisp_referral_record rr;
	memset(&rr, 0, sizeof(rr));
	rr.r.rsvd = 1; /* one signature announced, none given */
	struct lisp_map_referral m = { .nrecords = 1, .records = &rr };
	size_t n;
	cr_assert_eq(map_referral_encode(&m, out, sizeof(out), &n), LISPMS_EINVAL);
	m.nrecords = 0;
	m.flags = 0xff; /* the record count's bits */
	cr_assert_eq(map_referral_encode(&m, out, sizeof(out), &n), LISPMS_EINVAL);
	m.flags = 0;
	cr_assert_eq(map_referral_encode(&m, out, 4, &n), LISPMS_ENOSPC);
}

Test(map_referral, random_round_trips_and_prefixes)
{
	struct arena gen;
	cr_assert_eq(arena_init(&gen, 1u << 20), LISPMS_EOK);
	static uint8_t b1[70000], b2[70000];
	for (uint64_t seed = 1; seed <= 3000; seed++) {
		struct testgen g;
		arena_reset(&gen);
		arena_reset(&arena);
		testgen_init(&g, seed, &gen);
		struct lisp_msg m = { .type = LISP_MSG_MAP_REFERRAL }, d;
		testgen_map_referral(&g, &m.u.referral);
		size_t n1, n2;
		cr_assert_eq(msg_encode(&m, b1, sizeof(b1), &n1), LISPMS_EOK, "seed %lu",
			     (unsigned long)seed);
		cr_assert_eq(msg_decode(b1, n1, &arena, &d), LISPMS_EOK, "seed %lu",
			     (unsigned long)seed);
		cr_assert(testgen_msg_equal(&m, &d), "seed %lu", (unsigned long)seed);
		cr_assert_eq(msg_encode(&d, b2, sizeof(b2), &n2), LISPMS_EOK);
		cr_assert_eq(n2, n1);
		cr_assert_arr_eq(b2, b1, n1);
		if (seed % 50 == 0)
			for (size_t cut = 0; cut < n1; cut++)
				cr_assert_neq(msg_decode(b1, cut, &arena, &d), LISPMS_EOK,
					      "seed %lu cut %zu", (unsigned long)seed, cut);
	}
	arena_deinit(&gen);
}
