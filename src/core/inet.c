/* SPDX-License-Identifier: MIT */
/* The internet checksum and IPv4 / IPv6 / UDP headers (see lispms/inet.h). */
#include <string.h>

#include <lispms/inet.h>

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* a + b in ones' complement arithmetic on 64 bits (the carry wraps around) */
static inline uint64_t add_wrap64(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;
	return s + (s < b);
}

uint16_t inet_csum(const void *data, size_t len, uint32_t sum)
{
	/*
	 * 64-bit words in the machine's byte order, swapped once at the end
	 * (RFC 1071: the sum does not depend on the byte order; 2^64 - 1 is a
	 * multiple of 2^16 - 1, so the 64-bit ones' complement sum folds to
	 * the 16-bit one). Two sums with their carries counted apart are two
	 * independent add/adc chains of one add per 8 octets, where adding
	 * 32-bit halves made one chain of two (the fast path checksums every
	 * frame it receives and sends).
	 */
	const uint8_t *p = data;
	uint64_t s0 = 0, s1 = 0, c0 = 0, c1 = 0;
	for (; len >= 16; p += 16, len -= 16) {
		uint64_t x, y;
		memcpy(&x, p, 8);
		memcpy(&y, p + 8, 8);
		s0 += x;
		c0 += s0 < x;
		s1 += y;
		c1 += s1 < y;
	}
	uint64_t s64 = add_wrap64(add_wrap64(s0, s1), c0 + c1);
	if (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		s64 = add_wrap64(s64, v);
		p += 8;
		len -= 8;
	}
	uint64_t s = (s64 & 0xffffffffu) + (s64 >> 32);
	if (len >= 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		s += v;
		p += 4;
		len -= 4;
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = (s & 0xff) << 8 | s >> 8;
#endif
	s += sum;
	if (len >= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (len == 1 || len == 3)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The big-endian 16-bit words of n (even) octets, summed and not folded. */
static inline uint32_t sum_words(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	return s;
}

/*
 * The header checksums are summed from the values, not read back from the
 * octets just stored: a load that spans several smaller stores still in
 * flight waits for them (store forwarding fails), and the fast path builds
 * a header per reply.
 */
size_t inet_ip_header(uint8_t *ip, const struct inet_ip *h, size_t l4len, uint32_t *pseudo)
{
	if (h->version == 4) {
		uint16_t total = (uint16_t)(INET_IPV4_HDR_LEN + l4len);
		uint16_t frag = h->df ? INET_IPV4_DF : 0;
		uint32_t addrs = sum_words(h->src, 4) + sum_words(h->dst, 4);
		ip[0] = 0x45;
		ip[1] = h->tos;
		put16(ip + 2, total);
		put16(ip + 4, h->id);
		put16(ip + 6, frag);
		ip[8] = h->ttl;
		ip[9] = h->proto;
		memcpy(ip + 12, h->src, 4);
		memcpy(ip + 16, h->dst, 4);
		uint32_t s = (0x45u << 8 | h->tos) + total + h->id + frag +
			     ((uint32_t)h->ttl << 8 | h->proto) + addrs;
		while (s >> 16)
			s = (s & 0xffff) + (s >> 16);
		put16(ip + 10, (uint16_t)~s);
		*pseudo = addrs + h->proto + (uint32_t)l4len;
		return INET_IPV4_HDR_LEN;
	}
	uint32_t w0 = 6u << 28 | (uint32_t)h->tos << 20 | (h->flow_label & 0xfffff);
	put16(ip, (uint16_t)(w0 >> 16));
	put16(ip + 2, (uint16_t)w0);
	put16(ip + 4, (uint16_t)l4len);
	ip[6] = h->proto;
	ip[7] = h->ttl;
	memcpy(ip + 8, h->src, 16);
	memcpy(ip + 24, h->dst, 16);
	*pseudo = sum_words(h->src, 16) + sum_words(h->dst, 16) + h->proto + (uint32_t)l4len;
	return INET_IPV6_HDR_LEN;
}

void inet_udp_header_sum(uint8_t *udp, uint16_t sport, uint16_t dport, size_t ulen,
			 uint32_t payload_sum)
{
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)ulen);
	uint32_t s = payload_sum + sport + dport + (uint16_t)ulen;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	uint16_t sum = (uint16_t)~s;
	put16(udp + 6, sum == 0 ? 0xffff : sum);
}

void inet_udp_header(uint8_t *udp, uint16_t sport, uint16_t dport, size_t ulen, uint32_t pseudo)
{
	inet_udp_header_sum(udp, sport, dport, ulen,
			    inet_csum(udp + INET_UDP_HDR_LEN, ulen - INET_UDP_HDR_LEN, pseudo));
}
