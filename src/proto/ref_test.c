/* SPDX-License-Identifier: MIT */
/* Every UDP reference packet of docs/protocol.md §6.2 decodes to its fields and
 * re-encodes to the same bytes, HMACs included. */
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "hex.h"
#include "testvec.h"

static struct arena arena;
static struct auth_ctx *actx;
static uint8_t pkt[2048], out[2048];

static void setup(void)
{
	cr_assert_eq(arena_init(&arena, 64 * 1024), LISPMS_EOK);
	actx = auth_ctx_new();
	cr_assert_not_null(actx);
}

static void teardown(void)
{
	auth_ctx_free(actx);
	arena_deinit(&arena);
}

TestSuite(ref, .init = setup, .fini = teardown);

static size_t load(const char *hex)
{
	int n = hex_decode(hex, pkt, sizeof(pkt));
	cr_assert(n > 0, "bad test vector");
	return (size_t)n;
}

static void check_eid(const struct afi_addr *a, uint8_t plen, const char *want)
{
	struct eid_prefix p;
	char text[LISPMS_EID_STRLEN];
	cr_assert_eq(afi_to_eid(a, plen, &p), LISPMS_EOK);
	cr_assert_eq(eid_prefix_format(&p, text, sizeof(text)), LISPMS_EOK);
	cr_assert_str_eq(text, want);
}

/* The common record: [1000] 10.1.0.0/16, TTL 3, A=1, one locator 192.0.2.1. */
static void check_common_record(const struct lisp_record *r)
{
	cr_assert_eq(r->ttl, 3);
	cr_assert_eq(r->act, 0);
	cr_assert_eq(r->a, 1);
	cr_assert_eq(r->version, 0);
	cr_assert_eq(r->eid.kind, AFI_IID);
	cr_assert_eq(r->eid.iid, 1000);
	cr_assert_eq(r->eid.afi, LISP_AFI_IPV4);
	check_eid(&r->eid, r->eid_plen, "[1000] 10.1.0.0/16");
	cr_assert_eq(r->nlocs, 1);
	const struct lisp_locator *l = &r->locs[0];
	cr_assert_eq(l->priority, 1);
	cr_assert_eq(l->weight, 100);
	cr_assert_eq(l->mpriority, 255);
	cr_assert_eq(l->mweight, 0);
	cr_assert_eq(l->flags, LISP_LOC_L | LISP_LOC_R);
	cr_assert_eq(l->addr.kind, AFI_PLAIN);
	cr_assert_eq(l->addr.afi, LISP_AFI_IPV4);
	cr_assert_arr_eq(l->addr.bytes, ((uint8_t[]){ 192, 0, 2, 1 }), 4);
}

static void check_same(size_t got, size_t want)
{
	cr_assert_eq(got, want, "re-encoded %zu octets, expected %zu", got, want);
	cr_assert_arr_eq(out, pkt, want, "re-encoding differs");
}

static struct auth_key key(uint8_t id, uint8_t alg)
{
	struct auth_key k;
	cr_assert_eq(auth_key_init(&k, id, alg, TV_KEY, strlen(TV_KEY)), LISPMS_EOK);
	return k;
}

Test(ref, map_register_sha256)
{
	size_t len = load(TV_MREG_SHA256), n;
	cr_assert_eq(len, 112);
	struct lisp_map_register m;
	cr_assert_eq(map_register_decode(pkt, len, &arena, &m), LISPMS_EOK);
	cr_assert_eq(m.flags, LISP_MREG_P | LISP_MREG_I | LISP_MREG_r | LISP_MREG_T | LISP_MREG_M);
	cr_assert_eq(m.nonce, 0x1122334455667788ull);
	cr_assert_eq(m.auth.key_id, 1);
	cr_assert_eq(m.auth.alg_id, LISP_ALG_HMAC_SHA256);
	cr_assert_eq(m.auth.len, 32);
	cr_assert_eq(m.auth.data, pkt + LISPMS_AUTH_OFFSET);
	cr_assert_eq(m.auth.rfc_end, 112 - 24);
	cr_assert_eq(m.nrecords, 1);
	check_common_record(&m.records[0]);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(m.xtr_id[i], i);
	cr_assert_eq(m.site_id, 7);

	cr_assert_eq(map_register_encode(&m, out, sizeof(out), &n), LISPMS_EOK);
	check_same(n, len);

	struct auth_key keys[2] = { key(0, LISP_ALG_HMAC_SHA256), key(1, LISP_ALG_HMAC_SHA256) };
	cr_assert_eq(auth_verify(actx, keys, 2, pkt, len, &m.auth), LISPMS_EOK);

	/* signing the zeroed message gives the reference HMAC */
	struct lisp_map_register z = m;
	z.auth.data = NULL;
	cr_assert_eq(map_register_encode(&z, out, sizeof(out), &n), LISPMS_EOK);
	cr_assert_eq(auth_sign(actx, &keys[1], out, n), LISPMS_EOK);
	check_same(n, len);
}

Test(ref, map_register_rfc_coverage)
{
	size_t len = load(TV_MREG_SHA256);
	uint8_t rfc[32];
	cr_assert_eq(hex_decode(TV_MREG_SHA256_RFC_HMAC, rfc, sizeof(rfc)), 32);
	memcpy(pkt + LISPMS_AUTH_OFFSET, rfc, 32);
	struct lisp_map_register m;
	cr_assert_eq(map_register_decode(pkt, len, &arena, &m), LISPMS_EOK);
	struct auth_key k = key(1, LISP_ALG_HMAC_SHA256);
	cr_assert_eq(auth_verify(actx, &k, 1, pkt, len, &m.auth), LISPMS_EOK,
		     "RFC coverage (trailer excluded) accepted when I=1");
	pkt[LISPMS_AUTH_OFFSET + 5] ^= 1;
	cr_assert_eq(auth_verify(actx, &k, 1, pkt, len, &m.auth), LISPMS_EAUTH);
}

Test(ref, map_register_sha1)
{
	size_t len = load(TV_MREG_SHA1), n;
	cr_assert_eq(len, 76);
	struct lisp_map_register m;
	cr_assert_eq(map_register_decode(pkt, len, &arena, &m), LISPMS_EOK);
	cr_assert_eq(m.flags, LISP_MREG_M);
	cr_assert_eq(m.nonce, 0x0102030405060708ull);
	cr_assert_eq(m.auth.key_id, 1);
	cr_assert_eq(m.auth.alg_id, LISP_ALG_HMAC_SHA1);
	cr_assert_eq(m.auth.len, 20);
	cr_assert_eq(m.auth.rfc_end, len);
	cr_assert_eq(m.nrecords, 1);
	check_common_record(&m.records[0]);
	cr_assert_eq(map_register_encode(&m, out, sizeof(out), &n), LISPMS_EOK);
	check_same(n, len);
	struct auth_key k = key(1, LISP_ALG_HMAC_SHA1);
	cr_assert_eq(auth_verify(actx, &k, 1, pkt, len, &m.auth), LISPMS_EOK);
	struct auth_key wrong = key(1, LISP_ALG_HMAC_SHA256);
	cr_assert_eq(auth_verify(actx, &wrong, 1, pkt, len, &m.auth), LISPMS_ENOKEY);
}

static void check_notify(const char *hex, uint8_t type)
{
	size_t len = load(hex), n;
	cr_assert_eq(len, 88);
	struct lisp_map_notify m;
	cr_assert_eq(map_notify_decode(pkt, len, &arena, &m), LISPMS_EOK);
	cr_assert_eq(m.type, type);
	cr_assert_eq(m.flags, 0);
	cr_assert_eq(m.nonce, 0x1122334455667788ull);
	cr_assert_eq(m.auth.key_id, 1);
	cr_assert_eq(m.auth.alg_id, LISP_ALG_HMAC_SHA256);
	cr_assert_eq(m.auth.len, 32);
	cr_assert_eq(m.nrecords, 1);
	check_common_record(&m.records[0]);
	cr_assert_eq(map_notify_encode(&m, out, sizeof(out), &n), LISPMS_EOK);
	check_same(n, len);
	struct auth_key k = key(1, LISP_ALG_HMAC_SHA256);
	cr_assert_eq(auth_verify(actx, &k, 1, pkt, len, &m.auth), LISPMS_EOK);
	m.auth.data = NULL;
	cr_assert_eq(map_notify_encode(&m, out, sizeof(out), &n), LISPMS_EOK);
	cr_assert_eq(auth_sign(actx, &k, out, n), LISPMS_EOK);
	check_same(n, len);
}

Test(ref, map_notify)
{
	check_notify(TV_MNOTIFY, LISP_MSG_MAP_NOTIFY);
}

Test(ref, map_notify_ack)
{
	check_notify(TV_MNOTIFY_ACK, LISP_MSG_MAP_NOTIFY_ACK);
}

Test(ref, negative_map_reply)
{
	size_t len = load(TV_NEG_MREP), n;
	struct lisp_map_reply m;
	cr_assert_eq(map_reply_decode(pkt, len, &arena, &m), LISPMS_EOK);
	cr_assert_eq(m.flags, 0);
	cr_assert_eq(m.nonce, 0x1122334455667788ull);
	cr_assert_eq(m.nrecords, 1);
	const struct lisp_record *r = &m.records[0];
	cr_assert_eq(r->ttl, 15);
	cr_assert_eq(r->nlocs, 0);
	cr_assert_eq(r->act, LISP_ACT_NATIVE_FORWARD);
	cr_assert_eq(r->a, 0);
	check_eid(&r->eid, r->eid_plen, "[1000] 10.1.0.0/16");
	cr_assert_eq(map_reply_encode(&m, out, sizeof(out), &n), LISPMS_EOK);
	check_same(n, len);
}

Test(ref, ecm_map_request)
{
	size_t len = load(TV_ECM), n;
	struct lisp_ecm e;
	cr_assert_eq(ecm_decode(pkt, len, &e), LISPMS_EOK);
	cr_assert_eq(e.flags, LISP_ECM_E);
	cr_assert_eq(e.ip_version, 4);
	cr_assert_eq(e.ttl, 64);
	cr_assert_arr_eq(e.src.bytes, ((uint8_t[]){ 192, 0, 2, 9 }), 4);
	cr_assert_arr_eq(e.dst.bytes, ((uint8_t[]){ 10, 1, 2, 3 }), 4);
	cr_assert_eq(e.sport, 4342);
	cr_assert_eq(e.dport, 4342);
	cr_assert_eq(e.inner_len, 40);
	cr_assert_eq(ecm_encode(&e, out, sizeof(out), &n), LISPMS_EOK);
	check_same(n, len);

	struct lisp_msg msg;
	cr_assert_eq(msg_decode(e.inner, e.inner_len, &arena, &msg), LISPMS_EOK);
	cr_assert_eq(msg.type, LISP_MSG_MAP_REQUEST);
	const struct lisp_map_request *q = &msg.u.request;
	cr_assert_eq(q->flags, 0);
	cr_assert_eq(q->nonce, 0xdeadbeefcafef00dull);
	cr_assert_eq(q->source_eid.afi, LISP_AFI_NONE);
	cr_assert_eq(q->nitr, 1);
	cr_assert_eq(q->itr_rlocs[0].afi, LISP_AFI_IPV4);
	cr_assert_arr_eq(q->itr_rlocs[0].bytes, ((uint8_t[]){ 192, 0, 2, 9 }), 4);
	cr_assert_eq(q->nrecords, 1);
	check_eid(&q->records[0].eid, q->records[0].eid_plen, "[1000] 10.1.2.3/32");
	cr_assert_eq(map_request_encode(q, out, sizeof(out), &n), LISPMS_EOK);
	cr_assert_eq(n, e.inner_len);
	cr_assert_arr_eq(out, e.inner, n);
}

Test(ref, shared_extension)
{
	size_t len = load(TV_SHARED_EXT), n;
	struct lisp_msg m;
	cr_assert_eq(msg_decode(pkt, len, &arena, &m), LISPMS_EOK);
	cr_assert_eq(m.type, LISP_MSG_SHARED_EXT);
	cr_assert_eq(m.u.ext.subtype, 5);
	cr_assert_eq(m.u.ext.len, 6);
	cr_assert_arr_eq(m.u.ext.data, pkt + 2, 6);
	cr_assert_eq(msg_encode(&m, out, sizeof(out), &n), LISPMS_EOK);
	check_same(n, len);
}

Test(ref, dispatch_re_encodes_every_udp_packet)
{
	const char *all[] = { TV_MREG_SHA256, TV_MREG_SHA1, TV_MNOTIFY,	   TV_MNOTIFY_ACK,
			      TV_NEG_MREP,    TV_ECM,	    TV_SHARED_EXT, TV_MREQ };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		size_t len = load(all[i]), n;
		struct lisp_msg m;
		cr_assert_eq(msg_decode(pkt, len, &arena, &m), LISPMS_EOK, "vector %zu", i);
		cr_assert_eq(m.type, pkt[0] >> 4);
		cr_assert_eq(msg_encode(&m, out, sizeof(out), &n), LISPMS_EOK, "vector %zu", i);
		check_same(n, len);
	}
}
