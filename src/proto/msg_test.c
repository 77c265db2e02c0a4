/* SPDX-License-Identifier: MIT */
/* Hostile and inconsistent input: each error code the message codecs return. */
#include <string.h>

#include <sys/socket.h>

#include <criterion/criterion.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "hex.h"
#include "testvec.h"

static struct arena arena;
static uint8_t pkt[4096], out[4096];

static void setup(void)
{
	cr_assert_eq(arena_init(&arena, 64 * 1024), LISPMS_EOK);
}

static void teardown(void)
{
	arena_deinit(&arena);
}

TestSuite(msg, .init = setup, .fini = teardown);

static size_t load(const char *hex)
{
	int n = hex_decode(hex, pkt, sizeof(pkt));
	cr_assert(n > 0);
	return (size_t)n;
}

static int dec(size_t len)
{
	struct lisp_msg m, before;
	memset(&m, 0x5a, sizeof(m));
	before = m;
	size_t mark = arena_mark(&arena);
	int ret = msg_decode(pkt, len, &arena, &m);
	if (ret != LISPMS_EOK) {
		cr_assert_eq(memcmp(&m, &before, sizeof(m)), 0, "out-param written on failure");
		cr_assert_eq(arena_mark(&arena), mark, "arena not rolled back");
	}
	return ret;
}

Test(msg, truncated)
{
	const char *all[] = {
		TV_MREG_SHA256, TV_MREG_SHA1, TV_MNOTIFY, TV_NEG_MREP, TV_ECM, TV_MREQ
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		size_t len = load(all[i]);
		for (size_t cut = 0; cut < len; cut++) {
			int ret = dec(cut);
			cr_assert(ret == LISPMS_ETRUNC || ret == LISPMS_ETOOMANY ||
				      ret == LISPMS_ELCAF,
				  "vector %zu cut at %zu: %s", i, cut, err_str(ret));
		}
	}
	cr_assert_eq(dec(0), LISPMS_ETRUNC);
	load(TV_MREG_SHA256);
	cr_assert_eq(dec(20), LISPMS_ETRUNC, "inside the authentication data");
}

Test(msg, unknown_and_wrong_types)
{
	load(TV_NEG_MREP);
	for (unsigned t = 0; t < 16; t++) {
		pkt[0] = (uint8_t)(t << 4);
		if (t == 0 || t == 7 || (t >= 9 && t <= 14))
			cr_assert_eq(dec(4), LISPMS_ETYPE, "type %u", t);
	}
	size_t len = load(TV_NEG_MREP);
	struct lisp_map_register r;
	struct lisp_map_request q;
	struct lisp_map_notify n;
	struct lisp_ecm e;
	struct lisp_shared_ext x;
	cr_assert_eq(map_register_decode(pkt, len, &arena, &r), LISPMS_ETYPE);
	cr_assert_eq(map_request_decode(pkt, len, &arena, &q), LISPMS_ETYPE);
	cr_assert_eq(map_notify_decode(pkt, len, &arena, &n), LISPMS_ETYPE);
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_ETYPE);
	cr_assert_eq(shared_ext_decode(pkt, len, &x), LISPMS_ETYPE);
	struct lisp_map_referral f;
	cr_assert_eq(map_referral_decode(pkt, len, &arena, &f), LISPMS_ETYPE);
	struct lisp_map_reply p;
	len = load(TV_MREG_SHA1);
	cr_assert_eq(map_reply_decode(pkt, len, &arena, &p), LISPMS_ETYPE);
}

Test(msg, bad_afi_and_lcaf)
{
	/* locator AFI 17 (distinguished name) */
	size_t len = load("20000001 1122334455667788 0000000f 01 10 0000 0000 " TV_EID_LCAF
			  " 01 64 ff 00 0005 0011 61620000");
	cr_assert_eq(dec(len), LISPMS_EAFI);
	/* EID LCAF claiming 0x0b octets of IID body for an IPv4 address */
	len = load("20000001 1122334455667788 0000000f 00 10 2000 0000 "
		   "4003 0000 0200 000b 000003e8 0001 0a010000 00");
	cr_assert_eq(dec(len), LISPMS_ELCAF);
}

Test(msg, counts_that_cannot_fit)
{
	size_t len = load(TV_NEG_MREP);
	pkt[3] = 2; /* two records, one present: two fit in the octets left */
	cr_assert_eq(dec(len), LISPMS_ETRUNC);
	pkt[3] = 255;
	cr_assert_eq(dec(len), LISPMS_ETOOMANY);
	len = load(TV_MREG_SHA1);
	pkt[40] = 200; /* 200 locators in the record */
	cr_assert_eq(dec(len), LISPMS_ETOOMANY);
	len = load(TV_MREQ);
	pkt[2] = 0x1f; /* 32 ITR-RLOCs */
	cr_assert_eq(dec(len), LISPMS_ETOOMANY);
}

Test(msg, authentication_lengths)
{
	size_t len = load(TV_MREG_SHA256);
	wire_put_u16(pkt + 14, 20); /* 20 octets with HMAC-SHA-256 */
	cr_assert_eq(dec(len), LISPMS_EAUTHLEN);
	len = load(TV_MREG_SHA1);
	wire_put_u16(pkt + 14, 16);
	cr_assert_eq(dec(len), LISPMS_EAUTHLEN);
	len = load(TV_MNOTIFY);
	pkt[13] = LISP_ALG_NONE;
	cr_assert_eq(dec(len), LISPMS_EAUTHLEN, "algorithm 0 with data");
	/* an unknown algorithm is skipped by its length */
	len = load(TV_MNOTIFY);
	pkt[13] = 9;
	cr_assert_eq(dec(len), LISPMS_EOK);

	struct lisp_map_notify n = { .type = LISP_MSG_MAP_NOTIFY };
	n.auth.alg_id = LISP_ALG_HMAC_SHA256;
	n.auth.len = 20;
	size_t olen;
	cr_assert_eq(map_notify_encode(&n, out, sizeof(out), &olen), LISPMS_EAUTHLEN);
}

Test(msg, malformed)
{
	size_t len = load(TV_NEG_MREP);
	pkt[len] = 0;
	cr_assert_eq(dec(len + 1), LISPMS_EMALFORMED, "trailing octet");
	len = load(TV_MREQ);
	pkt[3] = 0;
	cr_assert_eq(dec(len), LISPMS_EMALFORMED, "Map-Request without records");
	len = load(TV_NEG_MREP);
	pkt[17] = 17; /* mask-len 17 */
	cr_assert_eq(dec(len), LISPMS_EOK);
	pkt[17] = 33;
	cr_assert_eq(dec(len), LISPMS_EMALFORMED, "IPv4 mask-len 33");
	len = load(TV_MREQ);
	pkt[21] = 33;
	cr_assert_eq(dec(len), LISPMS_EMALFORMED, "request mask-len 33");
	len = load(TV_MREG_SHA256);
	pkt[0] &= (uint8_t)~0x02; /* I cleared: the trailer is junk now */
	cr_assert_eq(dec(len), LISPMS_EMALFORMED);
	len = load(TV_MREG_SHA1);
	pkt[0] |= 0x02; /* I set: no trailer */
	cr_assert_eq(dec(len), LISPMS_ETRUNC);
}

Test(msg, ecm_inner_headers)
{
	size_t len = load(TV_ECM);
	struct lisp_ecm e;
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_EOK);
	pkt[4] = 0x55; /* IP version 5 */
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_EMALFORMED);
	len = load(TV_ECM);
	pkt[4] = 0x44; /* IHL 4 */
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_EMALFORMED);
	len = load(TV_ECM);
	pkt[13] = 6; /* TCP */
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_EMALFORMED);
	len = load(TV_ECM);
	pkt[10] = 0x20; /* more fragments */
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_EMALFORMED);
	len = load(TV_ECM);
	pkt[10] = 0x40; /* DF is fine and kept */
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_EOK);
	cr_assert_eq(e.ip_df, 1);
	len = load(TV_ECM);
	wire_put_u16(pkt + 6, 0x43); /* IP total one short: a trailing octet */
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_ELENGTH);
	wire_put_u16(pkt + 6, 0x45);
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_ETRUNC);
	wire_put_u16(pkt + 6, 0x10);
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_ELENGTH, "total below IP + UDP");
	len = load(TV_ECM);
	wire_put_u16(pkt + 28, 0x2f); /* UDP length disagrees with IP */
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_ELENGTH);
	/* IPv4 options are skipped */
	len = load("82000000 4600 0048 0000 0000 4011 0000 c0000209 0a010203 01010101 "
		   "10f6 10f6 0030 0000 " TV_MREQ);
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_EOK);
	cr_assert_eq(e.inner_len, 40);
	/* IPv6 with an extension header */
	len = load("81000000 60000000 0030 00 40 20010db8000000000000000000000001 "
		   "20010db8000000000000000000000002 10f6 10f6 0030 0000 " TV_MREQ);
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_EMALFORMED);
	pkt[10] = 17;
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_EOK);
	cr_assert_eq(e.flags, LISP_ECM_M);
	cr_assert_eq(e.ip_version, 6);
	cr_assert_eq(e.ttl, 0x40);
}

Test(msg, arena_exhausted)
{
	struct arena small;
	cr_assert_eq(arena_init(&small, 64), LISPMS_EOK);
	size_t len = load(TV_MREG_SHA256);
	struct lisp_map_register r;
	cr_assert_eq(map_register_decode(pkt, len, &small, &r), LISPMS_ENOMEM);
	cr_assert_eq(small.used, 0, "rolled back");
	arena_deinit(&small);
}

Test(msg, encoder_checks)
{
	size_t len = load(TV_MREG_SHA256), olen;
	struct lisp_map_register r;
	cr_assert_eq(map_register_decode(pkt, len, &arena, &r), LISPMS_EOK);
	for (size_t cap = 0; cap < len; cap++)
		cr_assert_eq(map_register_encode(&r, out, cap, &olen), LISPMS_ENOSPC);
	struct lisp_map_register bad = r;
	bad.nrecords = 256;
	cr_assert_eq(map_register_encode(&bad, out, sizeof(out), &olen), LISPMS_ETOOMANY);
	bad = r;
	bad.flags |= 0x10000000u;
	cr_assert_eq(map_register_encode(&bad, out, sizeof(out), &olen), LISPMS_EINVAL);
	bad = r;
	bad.records = NULL;
	cr_assert_eq(map_register_encode(&bad, out, sizeof(out), &olen), LISPMS_EINVAL);
	struct lisp_record rec = r.records[0];
	bad.records = &rec;
	rec.act = 8;
	cr_assert_eq(map_register_encode(&bad, out, sizeof(out), &olen), LISPMS_EINVAL);
	rec = r.records[0];
	rec.eid_plen = 33;
	cr_assert_eq(map_register_encode(&bad, out, sizeof(out), &olen), LISPMS_EINVAL);
	rec = r.records[0];
	rec.nlocs = 256;
	cr_assert_eq(map_register_encode(&bad, out, sizeof(out), &olen), LISPMS_ETOOMANY);

	struct lisp_map_notify n = { .type = LISP_MSG_MAP_NOTIFY, .flags = 0x08000000u };
	cr_assert_eq(map_notify_encode(&n, out, sizeof(out), &olen), LISPMS_EINVAL,
		     "bit 4 would make Wireshark expect an xTR-ID");
	n.flags = LISP_MNOT_r;
	cr_assert_eq(map_notify_encode(&n, out, sizeof(out), &olen), LISPMS_EOK);
	cr_assert_eq(wire_get_u32(out), 0x40000100u, "r is bit 23 (D4)");
	n.type = LISP_MSG_MAP_REGISTER;
	cr_assert_eq(map_notify_encode(&n, out, sizeof(out), &olen), LISPMS_EINVAL);

	struct lisp_map_request q = { 0 };
	cr_assert_eq(map_request_encode(&q, out, sizeof(out), &olen), LISPMS_EINVAL);
	q.nitr = 33;
	cr_assert_eq(map_request_encode(&q, out, sizeof(out), &olen), LISPMS_ETOOMANY);

	struct lisp_ecm e = { .ip_version = 4 };
	e.src.afi = LISP_AFI_IPV4;
	e.dst.afi = LISP_AFI_IPV6;
	cr_assert_eq(ecm_encode(&e, out, sizeof(out), &olen), LISPMS_EINVAL);
	e.dst.afi = LISP_AFI_IPV4;
	cr_assert_eq(ecm_encode(&e, out, sizeof(out), &olen), LISPMS_EOK);
	cr_assert_eq(olen, 4 + 20 + 8);
	e.inner = out;
	e.inner_len = 65536;
	cr_assert_eq(ecm_encode(&e, out, sizeof(out), &olen), LISPMS_ELENGTH);

	struct lisp_shared_ext x = { .subtype = 0x1000 };
	cr_assert_eq(shared_ext_encode(&x, out, sizeof(out), &olen), LISPMS_EINVAL);
	struct lisp_msg m = { .type = 7 };
	cr_assert_eq(msg_encode(&m, out, sizeof(out), &olen), LISPMS_EINVAL);
}

Test(msg, flag_bits_land_where_the_spec_puts_them)
{
	struct lisp_map_register r = { .flags = LISP_MREG_r };
	size_t olen;
	cr_assert_eq(map_register_encode(&r, out, sizeof(out), &olen), LISPMS_EOK);
	cr_assert_eq(wire_get_u32(out), 0x30002000u, "r is bit 18 (D4)");
	struct lisp_ecm e = { .flags = LISP_ECM_E, .ip_version = 6 };
	e.src.afi = e.dst.afi = LISP_AFI_IPV6;
	cr_assert_eq(ecm_encode(&e, out, sizeof(out), &olen), LISPMS_EOK);
	cr_assert_eq(wire_get_u32(out), 0x82000000u);
}

/* RFC 9437 §4: with I, the xTR-ID (and the site-ID) follow the records. */
#define MREQ_I_HEAD                                                                        \
	"10100001 deadbeefcafef00d 0000 0001 c0000209 80 20 4003 0000 0200 000a 000003e8 " \
	"0001 0a010203 "
#define XTR_ID	"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf "
#define SITE_ID "0102030405060708"

Test(msg, map_request_i_bit_with_xtr_id_and_site_id)
{
	size_t len = load(MREQ_I_HEAD XTR_ID SITE_ID);
	struct lisp_map_request q;
	cr_assert_eq(map_request_decode(pkt, len, &arena, &q), LISPMS_EOK);
	cr_assert(q.flags & LISP_MREQ_I);
	cr_assert_eq(q.xtr_id[0], 0xa0);
	cr_assert_eq(q.xtr_id[15], 0xaf);
	cr_assert(q.has_site_id);
	cr_assert_eq(q.site_id, 0x0102030405060708ull);
	cr_assert_eq(q.records[0].reserved & LISP_MREQ_REC_N, LISP_MREQ_REC_N, "N bit kept");
	size_t olen;
	cr_assert_eq(map_request_encode(&q, out, sizeof(out), &olen), LISPMS_EOK);
	cr_assert_eq(olen, len);
	cr_assert_arr_eq(out, pkt, len);
}

Test(msg, map_request_i_bit_with_the_xtr_id_alone)
{
	/* lispers.net's form: 128 bits of xTR-ID and no site-ID */
	size_t len = load(MREQ_I_HEAD XTR_ID);
	struct lisp_map_request q;
	cr_assert_eq(map_request_decode(pkt, len, &arena, &q), LISPMS_EOK);
	cr_assert_eq(q.xtr_id[7], 0xa7);
	cr_assert(!q.has_site_id);
	size_t olen;
	cr_assert_eq(map_request_encode(&q, out, sizeof(out), &olen), LISPMS_EOK);
	cr_assert_eq(olen, len);
	cr_assert_arr_eq(out, pkt, len);
}

Test(msg, map_request_trailers_of_other_lengths_are_malformed)
{
	/* I with no trailer, a cut xTR-ID, a cut site-ID, or more than both */
	static const char *const bad[] = {
		MREQ_I_HEAD,
		MREQ_I_HEAD "a0a1a2a3a4a5a6a7",
		MREQ_I_HEAD XTR_ID "0102",
		MREQ_I_HEAD XTR_ID SITE_ID "00",
		MREQ_I_HEAD XTR_ID SITE_ID XTR_ID,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = load(bad[i]);
		int ret = dec(len);
		cr_assert(ret == LISPMS_EMALFORMED || ret == LISPMS_ETRUNC, "case %zu: %s", i,
			  err_str(ret));
	}
	/* without I, an xTR-ID is trailing garbage */
	size_t len = load(TV_MREQ XTR_ID);
	cr_assert_eq(dec(len), LISPMS_EMALFORMED);
	/* a site-ID cannot be encoded without I */
	struct lisp_map_request q;
	len = load(TV_MREQ);
	cr_assert_eq(map_request_decode(pkt, len, &arena, &q), LISPMS_EOK);
	q.has_site_id = true;
	size_t olen;
	cr_assert_eq(map_request_encode(&q, out, sizeof(out), &olen), LISPMS_EINVAL);
}

/* map_request_itr_target: the sender's family first, else the first plain IPv4/IPv6 RLOC. */
Test(msg, itr_target_prefers_the_senders_family)
{
	struct afi_addr rlocs[3] = {
		{ .kind = AFI_OPAQUE, .afi = LISP_AFI_LCAF },
		{ .kind = AFI_PLAIN, .afi = LISP_AFI_IPV4, .bytes = { 192, 0, 2, 1 } },
		{ .kind = AFI_PLAIN,
		  .afi = LISP_AFI_IPV6,
		  .bytes = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	};
	struct lisp_map_request req = { .nitr = 3, .itr_rlocs = rlocs };
	struct lisp_addr a;
	cr_assert(map_request_itr_target(&req, AF_INET6, &a));
	cr_assert_eq(a.afi, LISP_AFI_IPV6);
	cr_assert_eq(a.bytes[0], 0x20);
	cr_assert_eq(a.bytes[15], 1);
	cr_assert(map_request_itr_target(&req, AF_INET, &a));
	cr_assert_eq(a.afi, LISP_AFI_IPV4);
	cr_assert_eq(a.bytes[0], 192);
	/* no RLOC of the sender's family: the first usable one of the other */
	req.nitr = 2;
	cr_assert(map_request_itr_target(&req, AF_INET6, &a));
	cr_assert_eq(a.afi, LISP_AFI_IPV4);
	/* nothing usable */
	req.nitr = 1;
	cr_assert_not(map_request_itr_target(&req, AF_INET, &a));
}
