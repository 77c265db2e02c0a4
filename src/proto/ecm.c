/* SPDX-License-Identifier: MIT */
/*
 * Encapsulated Control Message (type 8, docs/protocol.md §2.6): the outer LISP
 * header with S/D/E/M, the inner IPv4 or IPv6 header and UDP header, and the
 * inner control message, which is left to msg_decode().
 */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "codec.h"

#define IPV4_HDR_LEN	20
#define IPV6_HDR_LEN	40
#define UDP_HDR_LEN	8
#define IPPROTO_UDP_NUM 17
#define IPV4_DF		0x4000u
#define IPV4_FRAG_BITS	0xbfffu /* reserved bit, MF and offset */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; n -= 2, p += 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int ecm_decode(const uint8_t *buf, size_t len, struct lisp_ecm *out)
{
	struct wire w = wire_init_ro(buf, len);
	uint32_t w0 = wire_read_u32(&w);
	if (wire_ok(&w) && w0 >> 28 != LISP_MSG_ECM)
		return LISPMS_ETYPE;
	if (!wire_need(&w, 1, LISPMS_ETRUNC))
		return w.error;

	/* fields stay in scalars and go to *out once everything checked out */
	unsigned version = w.pos[0] >> 4, alen;
	uint8_t tos, ttl, df = 0;
	uint16_t ip_id = 0;
	uint32_t flow = 0;
	const uint8_t *src, *dst;
	size_t payload; /* what the IP header says follows it */
	if (version == 4) {
		unsigned ihl = (wire_read_u8(&w) & 0x0f) * 4u;
		tos = wire_read_u8(&w);
		uint16_t total = wire_read_u16(&w);
		ip_id = wire_read_u16(&w);
		uint16_t frag = wire_read_u16(&w);
		ttl = wire_read_u8(&w);
		uint8_t proto = wire_read_u8(&w);
		wire_skip(&w, 2); /* header checksum: recomputed on encode */
		alen = 4;
		src = wire_take(&w, alen);
		dst = wire_take(&w, alen);
		if (!wire_ok(&w))
			return w.error;
		if (ihl < IPV4_HDR_LEN || proto != IPPROTO_UDP_NUM || (frag & IPV4_FRAG_BITS) != 0)
			return LISPMS_EMALFORMED;
		df = (frag & IPV4_DF) != 0;
		wire_skip(&w, ihl - IPV4_HDR_LEN); /* options are not kept */
		if (!wire_ok(&w))
			return w.error;
		if (total < ihl + UDP_HDR_LEN)
			return LISPMS_ELENGTH;
		payload = total - ihl;
	} else if (version == 6) {
		uint32_t x = wire_read_u32(&w);
		tos = (uint8_t)(x >> 20);
		flow = x & 0xfffff;
		payload = wire_read_u16(&w);
		uint8_t next = wire_read_u8(&w);
		ttl = wire_read_u8(&w);
		alen = 16;
		src = wire_take(&w, alen);
		dst = wire_take(&w, alen);
		if (!wire_ok(&w))
			return w.error;
		if (next != IPPROTO_UDP_NUM) /* extension headers are not supported */
			return LISPMS_EMALFORMED;
	} else {
		return LISPMS_EMALFORMED;
	}
	if (payload > wire_avail(&w))
		return LISPMS_ETRUNC;
	if (payload < wire_avail(&w))
		return LISPMS_ELENGTH;

	uint16_t sport = wire_read_u16(&w);
	uint16_t dport = wire_read_u16(&w);
	uint16_t ulen = wire_read_u16(&w);
	wire_skip(&w, 2); /* UDP checksum: recomputed on encode */
	if (!wire_ok(&w))
		return w.error;
	if (ulen != payload)
		return LISPMS_ELENGTH;

	memset(out, 0, sizeof(*out));
	out->flags = w0 & LISP_ECM_FLAGS;
	out->ip_version = (uint8_t)version;
	out->tos = tos;
	out->ttl = ttl;
	out->ip_df = df;
	out->ip_id = ip_id;
	out->flow_label = flow;
	out->src.afi = out->dst.afi = version == 4 ? LISP_AFI_IPV4 : LISP_AFI_IPV6;
	addr_copy(out->src.bytes, src, alen);
	addr_copy(out->dst.bytes, dst, alen);
	out->sport = sport;
	out->dport = dport;
	out->inner = w.pos;
	out->inner_len = ulen - UDP_HDR_LEN;
	return LISPMS_EOK;
}

int ecm_encode(const struct lisp_ecm *e, uint8_t *buf, size_t cap, size_t *len)
{
	unsigned alen = e->ip_version == 4 ? 4 : 16;
	uint16_t afi = e->ip_version == 4 ? LISP_AFI_IPV4 : LISP_AFI_IPV6;
	size_t iphdr = e->ip_version == 4 ? IPV4_HDR_LEN : IPV6_HDR_LEN;
	if ((e->ip_version != 4 && e->ip_version != 6) || e->src.afi != afi || e->dst.afi != afi ||
	    (e->flags & ~LISP_ECM_FLAGS) != 0 || e->flow_label > 0xfffff || e->ip_df > 1 ||
	    (e->inner_len > 0 && e->inner == NULL))
		return LISPMS_EINVAL;
	if (e->inner_len > 0xffff - UDP_HDR_LEN - (e->ip_version == 4 ? IPV4_HDR_LEN : 0))
		return LISPMS_ELENGTH;
	uint16_t ulen = (uint16_t)(UDP_HDR_LEN + e->inner_len);

	struct wire w = wire_init(buf, cap);
	wire_write_u32(&w, (uint32_t)LISP_MSG_ECM << 28 | e->flags);
	uint8_t *ip = wire_reserve(&w, iphdr);
	uint8_t *udp = wire_reserve(&w, UDP_HDR_LEN);
	uint8_t *inner = wire_reserve(&w, e->inner_len);
	if (!wire_ok(&w))
		return w.error;
	if (e->inner_len)
		memmove(inner, e->inner, e->inner_len);

	uint32_t sum = 0;
	if (e->ip_version == 4) {
		ip[0] = 0x45;
		ip[1] = e->tos;
		wire_put_u16(ip + 2, (uint16_t)(IPV4_HDR_LEN + ulen));
		wire_put_u16(ip + 4, e->ip_id);
		wire_put_u16(ip + 6, e->ip_df ? IPV4_DF : 0);
		ip[8] = e->ttl;
		ip[9] = IPPROTO_UDP_NUM;
		wire_put_u16(ip + 10, 0);
		memcpy(ip + 12, e->src.bytes, alen);
		memcpy(ip + 16, e->dst.bytes, alen);
		wire_put_u16(ip + 10, csum_fold(csum_add(0, ip, IPV4_HDR_LEN)));
		sum = csum_add(sum, ip + 12, 8);
	} else {
		wire_put_u32(ip, 6u << 28 | (uint32_t)e->tos << 20 | e->flow_label);
		wire_put_u16(ip + 4, ulen);
		ip[6] = IPPROTO_UDP_NUM;
		ip[7] = e->ttl;
		memcpy(ip + 8, e->src.bytes, alen);
		memcpy(ip + 24, e->dst.bytes, alen);
		sum = csum_add(sum, ip + 8, 32);
	}
	sum += IPPROTO_UDP_NUM + ulen;
	wire_put_u16(udp, e->sport);
	wire_put_u16(udp + 2, e->dport);
	wire_put_u16(udp + 4, ulen);
	wire_put_u16(udp + 6, 0);
	uint16_t c = csum_fold(csum_add(sum, udp, ulen));
	wire_put_u16(udp + 6, c ? c : 0xffff);
	*len = wire_offset(&w);
	return LISPMS_EOK;
}
