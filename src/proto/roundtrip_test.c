/* SPDX-License-Identifier: MIT */
/*
 * Property tests: for thousands of random valid messages (fixed seeds, so a
 * failure names its seed), decode(encode(m)) == m, the re-encoding is
 * byte-identical, and no strict prefix of an encoding decodes.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/err.h>
#include <lispms/proto.h>
#include <lispms/proto_rt.h>

#include "testgen.h"

#define ITERATIONS 20000

static struct arena gen_arena, dec_arena;
static uint8_t buf[70000], buf2[70000];

static void setup(void)
{
	cr_assert_eq(arena_init(&gen_arena, 4u << 20), LISPMS_EOK);
	cr_assert_eq(arena_init(&dec_arena, 4u << 20), LISPMS_EOK);
}

static void teardown(void)
{
	arena_deinit(&gen_arena);
	arena_deinit(&dec_arena);
}

TestSuite(roundtrip, .init = setup, .fini = teardown);

static void udp_roundtrip(struct testgen *g, uint64_t seed, bool cut_all)
{
	struct lisp_msg m, d;
	size_t len, len2;
	arena_reset(&gen_arena);
	arena_reset(&dec_arena);
	testgen_msg(g, &m);
	int ret = msg_encode(&m, buf, sizeof(buf), &len);
	cr_assert_eq(ret, LISPMS_EOK, "seed %lu type %u: %s", (unsigned long)seed, m.type,
		     err_str(ret));
	ret = msg_decode(buf, len, &dec_arena, &d);
	cr_assert_eq(ret, LISPMS_EOK, "seed %lu type %u: %s", (unsigned long)seed, m.type,
		     err_str(ret));
	cr_assert(testgen_msg_equal(&m, &d), "seed %lu type %u: decode(encode(m)) != m",
		  (unsigned long)seed, m.type);
	cr_assert_eq(msg_encode(&d, buf2, sizeof(buf2), &len2), LISPMS_EOK);
	cr_assert_eq(len2, len);
	cr_assert_arr_eq(buf2, buf, len, "seed %lu: re-encoding differs", (unsigned long)seed);
	if (m.type == LISP_MSG_SHARED_EXT)
		return; /* its payload is opaque: any prefix of at least 2 octets is valid */
	/* RFC 9437's two forms: without its site-ID an I-bit request is lispers.net's form */
	size_t valid_cut = m.type == LISP_MSG_MAP_REQUEST && (m.u.request.flags & LISP_MREQ_I) &&
				   m.u.request.has_site_id
			       ? len - 8
			       : 0;
	if (valid_cut != 0) {
		struct lisp_msg t;
		cr_assert_eq(msg_decode(buf, valid_cut, &dec_arena, &t), LISPMS_EOK);
		cr_assert(!t.u.request.has_site_id && memcmp(t.u.request.xtr_id, m.u.request.xtr_id,
							     sizeof(t.u.request.xtr_id)) == 0,
			  "seed %lu: the xTR-ID-only form", (unsigned long)seed);
	}
	size_t step = cut_all ? 1 : len / 7 + 1;
	for (size_t cut = 0; cut < len; cut += step) {
		if (cut == valid_cut && cut != 0)
			continue;
		size_t mark = arena_mark(&dec_arena);
		struct lisp_msg t = d;
		cr_assert_neq(msg_decode(buf, cut, &dec_arena, &t), LISPMS_EOK,
			      "seed %lu: %zu of %zu octets decoded", (unsigned long)seed, cut, len);
		cr_assert_eq(memcmp(&t, &d, sizeof(t)), 0, "out-param written on failure");
		cr_assert_eq(arena_mark(&dec_arena), mark, "arena not rolled back");
	}
}

Test(roundtrip, udp_messages)
{
	struct testgen g;
	for (uint64_t seed = 1; seed <= ITERATIONS; seed++) {
		testgen_init(&g, seed, &gen_arena);
		udp_roundtrip(&g, seed, seed % 50 == 0);
	}
}

Test(roundtrip, udp_messages_many_records_and_locators)
{
	struct testgen g;
	for (uint64_t seed = 1; seed <= 300; seed++) {
		testgen_init(&g, seed + 1000000, &gen_arena);
		g.max_records = seed % 3 == 0 ? 8 : 255;
		g.max_locators = seed % 3 == 0 ? 255 : 3;
		udp_roundtrip(&g, seed + 1000000, false);
	}
}

/*
 * A Map-Notify built from a Map-Register's records as they came on the wire
 * (map_notify_encode_wire(), how the server acknowledges a register whose
 * records it all accepted) is the Map-Notify encoded from the decoded records.
 */
Test(roundtrip, notify_from_register_wire)
{
	for (uint64_t seed = 1; seed <= ITERATIONS / 4; seed++) {
		struct testgen g;
		struct lisp_map_register r, d;
		size_t len, n1, n2;
		arena_reset(&gen_arena);
		arena_reset(&dec_arena);
		testgen_init(&g, seed, &gen_arena);
		testgen_map_register(&g, &r);
		cr_assert_eq(map_register_encode(&r, buf, sizeof(buf), &len), LISPMS_EOK);
		cr_assert_eq(map_register_decode(buf, len, &dec_arena, &d), LISPMS_EOK);
		struct lisp_map_notify n = {
			.type = LISP_MSG_MAP_NOTIFY,
			.flags = seed & 1 ? LISP_MNOT_r : 0,
			.nonce = d.nonce,
			.auth = { .key_id = 1, .alg_id = LISP_ALG_HMAC_SHA256, .len = 32 },
			.nrecords = d.nrecords,
			.records = d.records
		};
		static uint8_t a[70000], b[70000];
		cr_assert_eq(map_notify_encode(&n, a, sizeof(a), &n1), LISPMS_EOK);
		size_t at = LISPMS_AUTH_OFFSET + d.auth.len;
		n.records = NULL;
		cr_assert_eq(
		    map_notify_encode_wire(&n, buf + at, d.auth.rfc_end - at, b, sizeof(b), &n2),
		    LISPMS_EOK);
		cr_assert_eq(n2, n1, "seed %lu", (unsigned long)seed);
		cr_assert_arr_eq(a, b, n1, "seed %lu: the copied records differ",
				 (unsigned long)seed);
	}
}

Test(roundtrip, reliable_transport_messages)
{
	struct testgen g;
	for (uint64_t seed = 1; seed <= ITERATIONS; seed++) {
		struct rt_msg m, d;
		size_t len, len2;
		arena_reset(&gen_arena);
		testgen_init(&g, seed, &gen_arena);
		testgen_rt(&g, &m);
		cr_assert_eq(rt_encode(&m, buf, sizeof(buf), &len), LISPMS_EOK, "seed %lu",
			     (unsigned long)seed);
		int ret = rt_decode(buf, len, &d);
		cr_assert_eq(ret, LISPMS_EOK, "seed %lu type %u: %s", (unsigned long)seed, m.type,
			     err_str(ret));
		cr_assert(testgen_rt_equal(&m, &d), "seed %lu type %u", (unsigned long)seed,
			  m.type);
		cr_assert_eq(rt_encode(&d, buf2, sizeof(buf2), &len2), LISPMS_EOK);
		cr_assert_eq(len2, len);
		cr_assert_arr_eq(buf2, buf, len);
		for (size_t cut = 0; cut < len; cut++)
			cr_assert_neq(rt_decode(buf, cut, &d), LISPMS_EOK, "seed %lu cut %zu",
				      (unsigned long)seed, cut);
	}
}

Test(roundtrip, reliable_transport_stream)
{
	/* random messages back to back through the reassembler in random chunks */
	struct testgen g;
	static uint8_t stream[1 << 20], sbuf[2048];
	static size_t lens[4096];
	testgen_init(&g, 77, &gen_arena);
	size_t total = 0;
	unsigned n = 0;
	while (n < 4000) {
		struct rt_msg m;
		arena_reset(&gen_arena);
		testgen_rt(&g, &m);
		cr_assert_eq(rt_encode(&m, stream + total, sizeof(stream) - total, &lens[n]),
			     LISPMS_EOK);
		total += lens[n++];
	}
	struct rt_stream s;
	cr_assert_eq(rt_stream_init(&s, sbuf, sizeof(sbuf), sizeof(sbuf)), LISPMS_EOK);
	size_t pos = 0, off = 0;
	unsigned got = 0;
	while (got < n) {
		size_t chunk = 1 + testgen_below(&g, testgen_below(&g, 2) ? 3 : 700);
		if (chunk > total - pos)
			chunk = total - pos;
		pos += rt_stream_feed(&s, stream + pos, chunk);
		const uint8_t *msg;
		size_t len;
		int r;
		while ((r = rt_stream_next(&s, &msg, &len)) == 1) {
			cr_assert_eq(len, lens[got]);
			cr_assert_arr_eq(msg, stream + off, len);
			off += len;
			got++;
		}
		cr_assert_eq(r, 0, "message %u: %s", got, err_str(r));
		cr_assert(pos < total || got == n);
	}
}

Test(roundtrip, eid_prefixes_through_wire_addresses)
{
	struct testgen g;
	testgen_init(&g, 5, &gen_arena);
	static const uint16_t afis[] = { LISP_AFI_IPV4, LISP_AFI_IPV6, LISP_AFI_MAC };
	for (int i = 0; i < ITERATIONS; i++) {
		struct eid_prefix p = { 0 }, q;
		p.afi = afis[testgen_below(&g, 3)];
		p.plain = testgen_below(&g, 4) == 0;
		p.iid = p.plain ? 0 : (uint32_t)testgen_u64(&g);
		p.plen = (uint8_t)testgen_below(&g, lisp_afi_bits(p.afi) + 1);
		for (unsigned b = 0; b < lisp_afi_len(p.afi); b++)
			p.bytes[b] = (uint8_t)testgen_u64(&g);
		eid_prefix_normalize(&p);
		struct afi_addr a, d;
		afi_from_eid(&p, &a);
		cr_assert_eq(a.kind, p.plain ? AFI_PLAIN : AFI_IID, "D16: plain stays plain");
		struct wire w = wire_init(buf, sizeof(buf));
		afi_encode(&w, &a);
		cr_assert(wire_ok(&w));
		cr_assert_eq(wire_offset(&w), afi_encoded_len(&a));
		struct wire r = wire_init_ro(buf, wire_offset(&w));
		afi_decode(&r, &d);
		cr_assert(wire_ok(&r) && wire_avail(&r) == 0);
		cr_assert(afi_equal(&a, &d));
		cr_assert_eq(afi_to_eid(&d, p.plen, &q), LISPMS_EOK);
		cr_assert(eid_prefix_equal(&p, &q));
		cr_assert_eq(q.plain, p.plain);
	}
}
