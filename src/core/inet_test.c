/* SPDX-License-Identifier: MIT */
/* The internet checksum and the IPv4 / IPv6 / UDP header builder on known packets. */
#include <string.h>

#include <arpa/inet.h>

#include <criterion/criterion.h>

#include <lispms/inet.h>

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	for (; h[0] && h[1]; h += 2)
		out[n++] = (uint8_t)((h[0] % 32 + 9) % 25 * 16 + (h[1] % 32 + 9) % 25);
	return n;
}

/* The definition: 16-bit big-endian words, end-around carry. */
static uint16_t naive_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	uint64_t s = sum;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

Test(inet, rfc1071_example_and_a_known_ipv4_header)
{
	/* RFC 1071 section 3's example: the folded sum is 0xddf2 */
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	cr_assert_eq(inet_csum(rfc, sizeof(rfc), 0), 0xddf2);
	cr_assert_eq(inet_csum(rfc, 6, 0), naive_sum(rfc, 6, 0));
	/* an IPv4 header whose checksum is 0xb861 */
	uint8_t ip[20];
	unhex("450000730000400040110000c0a80001c0a800c7", ip);
	cr_assert_eq((uint16_t)~inet_csum(ip, 20, 0), 0xb861);
	ip[10] = 0xb8;
	ip[11] = 0x61;
	cr_assert_eq(inet_csum(ip, 20, 0), 0xffff, "a right header sums to 0xffff");
}

Test(inet, checksum_matches_the_definition)
{
	uint8_t buf[600];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	memset(buf + 100, 0xff, 64); /* long carries */
	for (size_t len = 0; len <= sizeof(buf); len++)
		for (size_t off = 0; off < 2; off++)
			cr_assert_eq(inet_csum(buf + off, len - (len > 0 ? off : 0), 0x1234 * off),
				     naive_sum(buf + off, len - (len > 0 ? off : 0), 0x1234 * off),
				     "len %zu off %zu", len, off);
	cr_assert_eq(inet_csum(buf, 64, 0xffffffffu), naive_sum(buf, 64, 0xffffffffu),
		     "a large partial sum");
	/* every 64-bit addition carries, in both of the sums */
	memset(buf, 0xff, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i += 7)
		buf[i] = 0xfe;
	for (size_t len = 0; len <= sizeof(buf); len++)
		cr_assert_eq(inet_csum(buf, len, 0xfffffu), naive_sum(buf, len, 0xfffffu),
			     "carries, len %zu", len);
}

/* Build IP + UDP around "lispms" and compare with the packet computed apart. */
static size_t build(uint8_t *pkt, const struct inet_ip *h)
{
	static const char pl[] = "lispms";
	size_t ulen = INET_UDP_HDR_LEN + 6;
	uint32_t pseudo;
	size_t iph = h->version == 4 ? INET_IPV4_HDR_LEN : INET_IPV6_HDR_LEN;
	memcpy(pkt + iph + INET_UDP_HDR_LEN, pl, 6);
	cr_assert_eq(inet_ip_header(pkt, h, ulen, &pseudo), iph);
	inet_udp_header(pkt + iph, 4342, 4342, ulen, pseudo);
	return iph + ulen;
}

Test(inet, ipv4_udp_packet)
{
	uint8_t src[4], dst[4], pkt[64], want[64];
	inet_pton(AF_INET, "192.0.2.1", src);
	inet_pton(AF_INET, "198.51.100.2", dst);
	struct inet_ip h = {
		.version = 4, .proto = INET_PROTO_UDP, .ttl = 64, .df = true, .src = src, .dst = dst
	};
	size_t n = build(pkt, &h);
	/* header checksum 0x4e94, UDP checksum 0xa461 (RFC 768 by hand, in Python) */
	cr_assert_eq(
	    unhex("450000220000400040114e94c0000201c633640210f610f6000ea4616c6973706d73", want), n);
	cr_assert_arr_eq(pkt, want, n);
	uint32_t pseudo;
	inet_ip_header(pkt, &h, n - 20, &pseudo);
	cr_assert_eq(inet_csum(pkt + 20, n - 20, pseudo), 0xffff, "the UDP checksum verifies");
}

Test(inet, ipv6_udp_packet)
{
	uint8_t src[16], dst[16], pkt[80], want[80];
	inet_pton(AF_INET6, "2001:db8::1", src);
	inet_pton(AF_INET6, "2001:db8::2", dst);
	struct inet_ip h = {
		.version = 6, .proto = INET_PROTO_UDP, .ttl = 64, .src = src, .dst = dst
	};
	size_t n = build(pkt, &h);
	cr_assert_eq(
	    unhex("60000000000e114020010db800000000000000000000000120010db8000000000000000000"
		  "00000210f610f6000e35246c6973706d73",
		  want),
	    n);
	cr_assert_arr_eq(pkt, want, n);
	/* traffic class and flow label where RFC 8200 puts them */
	h.tos = 0xab;
	h.flow_label = 0xcdef1;
	build(pkt, &h);
	cr_assert(pkt[0] == 0x6a && pkt[1] == 0xbc && pkt[2] == 0xde && pkt[3] == 0xf1);
}

Test(inet, a_computed_zero_is_sent_as_ffff)
{
	uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 10, 0, 0, 2 }, pkt[40] = { 0 };
	struct inet_ip h = {
		.version = 4, .proto = INET_PROTO_UDP, .ttl = 1, .src = src, .dst = dst
	};
	uint32_t pseudo;
	size_t ulen = INET_UDP_HDR_LEN + 2;
	inet_ip_header(pkt, &h, ulen, &pseudo);
	inet_udp_header(pkt + 20, 1, 2, ulen, pseudo); /* payload 0000 */
	/* the payload word that makes the sum 0xffff, so the checksum computes to 0 */
	pkt[26] = pkt[27] = 0;
	uint16_t s0 = inet_csum(pkt + 20, ulen, pseudo);
	uint16_t word = (uint16_t)(0xffff - s0);
	pkt[28] = (uint8_t)(word >> 8);
	pkt[29] = (uint8_t)word;
	inet_udp_header(pkt + 20, 1, 2, ulen, pseudo);
	cr_assert(pkt[26] == 0xff && pkt[27] == 0xff, "0 means no checksum: sent as 0xffff");
	cr_assert_eq(inet_csum(pkt + 20, ulen, pseudo), 0xffff);
}

/*
 * Random headers: the checksums summed from the field values (not read back
 * from the octets written) verify against the written octets, and the
 * payload's sum may be taken before the payload is copied.
 */
Test(inet, headers_verify_for_random_fields)
{
	uint32_t x = 777;
	for (int round = 0; round < 2000; round++) {
		uint8_t src[16], dst[16], payload[300], pkt[400], alt[400];
		for (size_t i = 0; i < 16; i++) {
			x = x * 1103515245u + 12345u;
			src[i] = (uint8_t)(x >> 16);
			dst[i] = (uint8_t)(x >> 8);
		}
		x = x * 1103515245u + 12345u;
		size_t plen = (x >> 8) % sizeof(payload);
		for (size_t i = 0; i < plen; i++)
			payload[i] = (uint8_t)(x >> (i % 24)) ^ (uint8_t)i;
		struct inet_ip h = { .version = (x & 1) ? 6 : 4,
				     .proto = (uint8_t)(x >> 3),
				     .ttl = (uint8_t)(x >> 11),
				     .tos = (uint8_t)(x >> 19),
				     .id = (uint16_t)(x >> 5),
				     .df = (x >> 2) & 1,
				     .flow_label = x >> 7,
				     .src = src,
				     .dst = dst };
		size_t ulen = INET_UDP_HDR_LEN + plen;
		uint32_t pseudo, ref;
		size_t iph = inet_ip_header(pkt, &h, ulen, &pseudo);
		if (h.version == 4) {
			cr_assert_eq(inet_csum(pkt, iph, 0), 0xffff, "round %d header", round);
			ref = inet_csum(pkt + 12, 8, 0) + h.proto + (uint32_t)ulen;
		} else {
			ref = inet_csum(pkt + 8, 32, 0) + h.proto + (uint32_t)ulen;
		}
		memcpy(pkt + iph + INET_UDP_HDR_LEN, payload, plen);
		inet_udp_header(pkt + iph, (uint16_t)x, (uint16_t)(x >> 9), ulen, pseudo);
		cr_assert_eq(inet_csum(pkt + iph, ulen, ref), 0xffff, "round %d udp", round);
		memcpy(alt, pkt, iph);
		memcpy(alt + iph + INET_UDP_HDR_LEN, payload, plen);
		inet_udp_header_sum(alt + iph, (uint16_t)x, (uint16_t)(x >> 9), ulen,
				    inet_csum(payload, plen, pseudo));
		cr_assert_arr_eq(alt, pkt, iph + ulen, "round %d: summed before the copy", round);
	}
}
