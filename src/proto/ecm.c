/* SPDX-License-Identifier: MIT */
/*
 * Encapsulated Control Message (type 8, docs/protocol.md §2.6): the outer LISP
 * header with S/D/E/M, the inner IPv4 or IPv6 header and UDP header, and the
 * inner control message, which is left to msg_decode().
 */
#include <string.h>

#include <lispms/err.h>
#include <lispms/inet.h>
#include <lispms/proto.h>

#include "codec.h"

#define IPV4_FRAG_BITS 0xbfffu /* reserved bit, MF and offset */

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
		if (ihl < INET_IPV4_HDR_LEN || proto != INET_PROTO_UDP ||
		    (frag & IPV4_FRAG_BITS) != 0)
			return LISPMS_EMALFORMED;
		df = (frag & INET_IPV4_DF) != 0;
		wire_skip(&w, ihl - INET_IPV4_HDR_LEN); /* options are not kept */
		if (!wire_ok(&w))
			return w.error;
		if (total < ihl + INET_UDP_HDR_LEN)
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
		if (next != INET_PROTO_UDP) /* extension headers are not supported */
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
	out->inner_len = ulen - INET_UDP_HDR_LEN;
	return LISPMS_EOK;
}

int ecm_encode(const struct lisp_ecm *e, uint8_t *buf, size_t cap, size_t *len)
{
	uint16_t afi = e->ip_version == 4 ? LISP_AFI_IPV4 : LISP_AFI_IPV6;
	size_t iphdr = e->ip_version == 4 ? INET_IPV4_HDR_LEN : INET_IPV6_HDR_LEN;
	if ((e->ip_version != 4 && e->ip_version != 6) || e->src.afi != afi || e->dst.afi != afi ||
	    (e->flags & ~LISP_ECM_FLAGS) != 0 || e->flow_label > 0xfffff || e->ip_df > 1 ||
	    (e->inner_len > 0 && e->inner == NULL))
		return LISPMS_EINVAL;
	if (e->inner_len > 0xffff - INET_UDP_HDR_LEN - (e->ip_version == 4 ? INET_IPV4_HDR_LEN : 0))
		return LISPMS_ELENGTH;
	uint16_t ulen = (uint16_t)(INET_UDP_HDR_LEN + e->inner_len);

	struct wire w = wire_init(buf, cap);
	wire_write_u32(&w, (uint32_t)LISP_MSG_ECM << 28 | e->flags);
	uint8_t *ip = wire_reserve(&w, iphdr);
	uint8_t *udp = wire_reserve(&w, INET_UDP_HDR_LEN);
	uint8_t *inner = wire_reserve(&w, e->inner_len);
	if (!wire_ok(&w))
		return w.error;
	if (e->inner_len)
		memmove(inner, e->inner, e->inner_len);

	struct inet_ip h = { .version = e->ip_version,
			     .proto = INET_PROTO_UDP,
			     .ttl = e->ttl,
			     .tos = e->tos,
			     .df = e->ip_df,
			     .id = e->ip_id,
			     .flow_label = e->flow_label,
			     .src = e->src.bytes,
			     .dst = e->dst.bytes };
	uint32_t pseudo;
	inet_ip_header(ip, &h, ulen, &pseudo);
	inet_udp_header(udp, e->sport, e->dport, ulen, pseudo);
	*len = wire_offset(&w);
	return LISPMS_EOK;
}
