/* SPDX-License-Identifier: MIT */
#include "frame.h"

#include <string.h>

#include <netinet/in.h>

#include <lispms/hexdigit.h>
#include <lispms/inet.h>

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_ARP	0x0806
#define ETHERTYPE_VLAN	0x8100
#define ETHERTYPE_IPV6	0x86dd
#define IPPROTO_UDP_	INET_PROTO_UDP
#define IPV6_NH_FRAG	44
#define ARP_LEN		28
#define IPPROTO_ICMPV6_ INET_PROTO_ICMPV6
#define ND_SOLICIT	135
#define ND_ADVERT	136

static const char *const verdict_names[FRAME__VERDICTS] = {
	[FRAME_UDP] = "udp",
	[FRAME_ARP_REQUEST] = "arp_request",
	[FRAME_ND_SOLICIT] = "nd_solicit",
	[FRAME_SHORT] = "short",
	[FRAME_IP_HEADER] = "ip_header",
	[FRAME_IP_LENGTH] = "ip_length",
	[FRAME_FRAGMENT] = "fragment",
	[FRAME_UDP_LENGTH] = "udp_length",
	[FRAME_UDP_CHECKSUM] = "udp_checksum",
	[FRAME_NOT_FOR_US] = "not_for_us",
	[FRAME_EXCEPTION] = "exception",
};

const char *frame_verdict_name(enum frame_verdict v)
{
	return (unsigned)v < FRAME__VERDICTS ? verdict_names[v] : "?";
}

bool frame_to_kernel(enum frame_verdict v)
{
	return v == FRAME_NOT_FOR_US || v == FRAME_EXCEPTION;
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool v4_local(const struct frame_local *loc, const uint8_t *a)
{
	for (unsigned i = 0; i < loc->nv4; i++)
		if (memcmp(loc->v4[i], a, 4) == 0)
			return true;
	return false;
}

static bool v6_local(const struct frame_local *loc, const uint8_t *a)
{
	for (unsigned i = 0; i < loc->nv6; i++)
		if (memcmp(loc->v6[i], a, 16) == 0)
			return true;
	return false;
}

bool frame_is_local(const struct frame_local *loc, const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return v4_local(loc, (const uint8_t *)&((const struct sockaddr_in *)a)->sin_addr);
	if (a->ss_family == AF_INET6)
		return v6_local(loc, ((const struct sockaddr_in6 *)a)->sin6_addr.s6_addr);
	return false;
}

static void set_v4(struct sockaddr_storage *ss, const uint8_t *addr, uint16_t port)
{
	struct sockaddr_in *s = (struct sockaddr_in *)ss;
	memset(ss, 0, sizeof(*s));
	s->sin_family = AF_INET;
	memcpy(&s->sin_addr, addr, 4);
	s->sin_port = htons(port);
}

static void set_v6(struct sockaddr_storage *ss, const uint8_t *addr, uint16_t port)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof(*s));
	s->sin6_family = AF_INET6;
	memcpy(&s->sin6_addr, addr, 16);
	s->sin6_port = htons(port);
}

/* The UDP header at u (ip_payload bytes of IP payload follow the IP header). */
static enum frame_verdict parse_udp(const struct frame_local *loc, const uint8_t *f, size_t u,
				    size_t ip_payload, uint32_t pseudo, bool v6,
				    struct frame_info *info)
{
	if (ip_payload < 8)
		return FRAME_SHORT;
	uint16_t ulen = rd16(f + u + 4);
	if (ulen < 8 || ulen > ip_payload)
		return FRAME_UDP_LENGTH;
	if (rd16(f + u + 2) != loc->port)
		return FRAME_NOT_FOR_US;
	uint16_t sum = rd16(f + u + 6);
	if (sum == 0 && v6)
		return FRAME_UDP_CHECKSUM;
	if (sum != 0 && inet_csum(f + u, ulen, pseudo + IPPROTO_UDP_ + ulen) != 0xffff)
		return FRAME_UDP_CHECKSUM;
	info->payload_off = (uint16_t)(u + 8);
	info->payload_len = (uint16_t)(ulen - 8);
	return FRAME_UDP;
}

static enum frame_verdict parse_ipv4(const struct frame_local *loc, const uint8_t *f, size_t len,
				     size_t l3, struct frame_info *info)
{
	if (len - l3 < 20)
		return FRAME_SHORT;
	const uint8_t *ip = f + l3;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20)
		return FRAME_IP_HEADER;
	if (len - l3 < ihl)
		return FRAME_SHORT;
	if (inet_csum(ip, ihl, 0) != 0xffff)
		return FRAME_IP_HEADER;
	size_t total = rd16(ip + 2);
	if (total < ihl || total > len - l3)
		return FRAME_IP_LENGTH;
	if (!v4_local(loc, ip + 16))
		return FRAME_NOT_FOR_US;
	if (ip[9] != IPPROTO_UDP_) /* fragments too: the kernel reassembles them */
		return FRAME_EXCEPTION;
	if ((rd16(ip + 6) & 0x3fff) != 0) /* MF or a fragment offset */
		return FRAME_FRAGMENT;
	size_t u = l3 + ihl;
	uint32_t pseudo = inet_csum(ip + 12, 8, 0);
	enum frame_verdict v = parse_udp(loc, f, u, total - ihl, pseudo, false, info);
	if (v == FRAME_UDP) {
		set_v4(&info->src, ip + 12, rd16(f + u));
		set_v4(&info->dst, ip + 16, rd16(f + u + 2));
	}
	return v;
}

/*
 * A neighbour solicitation for one of our addresses (RFC 4861 7.1.1: hop
 * limit 255, code 0, valid checksum, not from the unspecified address,
 * options of non-zero length); anything else ICMPv6 is the kernel's.
 */
static enum frame_verdict parse_nd(const struct frame_local *loc, const uint8_t *ip, size_t plen,
				   struct frame_info *info)
{
	static const uint8_t unspecified[16];
	const uint8_t *icmp = ip + 40;
	if (plen < 24 || icmp[0] != ND_SOLICIT || icmp[1] != 0 || ip[7] != 255 ||
	    !v6_local(loc, icmp + 8) || memcmp(ip + 8, unspecified, 16) == 0)
		return FRAME_EXCEPTION;
	uint32_t pseudo = inet_csum(ip + 8, 32, 0) + (uint32_t)plen + IPPROTO_ICMPV6_;
	if (inet_csum(icmp, plen, pseudo) != 0xffff)
		return FRAME_EXCEPTION;
	for (size_t o = 24; o < plen;) {
		if (plen - o < 2 || icmp[o + 1] == 0 || icmp[o + 1] * 8u > plen - o)
			return FRAME_EXCEPTION;
		o += icmp[o + 1] * 8u;
	}
	set_v6(&info->src, ip + 8, 0);
	set_v6(&info->dst, icmp + 8, 0);
	return FRAME_ND_SOLICIT;
}

static enum frame_verdict parse_ipv6(const struct frame_local *loc, const uint8_t *f, size_t len,
				     size_t l3, struct frame_info *info)
{
	if (len - l3 < 40)
		return FRAME_SHORT;
	const uint8_t *ip = f + l3;
	if ((ip[0] >> 4) != 6)
		return FRAME_IP_HEADER;
	size_t plen = rd16(ip + 4);
	if (plen == 0 || plen > len - l3 - 40) /* 0: a jumbogram, never for us */
		return FRAME_IP_LENGTH;
	if (ip[6] == IPPROTO_ICMPV6_)
		return parse_nd(loc, ip, plen, info);
	if (!v6_local(loc, ip + 24))
		return FRAME_NOT_FOR_US;
	if (ip[6] == IPV6_NH_FRAG)
		return FRAME_FRAGMENT;
	if (ip[6] != IPPROTO_UDP_) /* extension headers are not walked */
		return FRAME_EXCEPTION;
	size_t u = l3 + 40;
	uint32_t pseudo = inet_csum(ip + 8, 32, 0);
	enum frame_verdict v = parse_udp(loc, f, u, plen, pseudo, true, info);
	if (v == FRAME_UDP) {
		set_v6(&info->src, ip + 8, rd16(f + u));
		set_v6(&info->dst, ip + 24, rd16(f + u + 2));
	}
	return v;
}

static enum frame_verdict parse_arp(const struct frame_local *loc, const uint8_t *f, size_t len,
				    size_t l3)
{
	if (len - l3 < ARP_LEN)
		return FRAME_SHORT;
	const uint8_t *a = f + l3;
	if (rd16(a) != 1 || rd16(a + 2) != ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4 ||
	    rd16(a + 6) != 1 || !v4_local(loc, a + 24))
		return FRAME_EXCEPTION;
	return FRAME_ARP_REQUEST;
}

enum frame_verdict frame_parse(const struct frame_local *loc, const uint8_t *f, size_t len,
			       struct frame_info *info)
{
	if (len < FRAME_ETH_LEN)
		return FRAME_SHORT;
	size_t l3 = FRAME_ETH_LEN;
	uint16_t type = rd16(f + 12);
	info->vlan = -1;
	if (type == ETHERTYPE_VLAN) {
		if (len < FRAME_ETH_LEN + FRAME_VLAN_LEN)
			return FRAME_SHORT;
		info->vlan = rd16(f + 14);
		type = rd16(f + 16);
		l3 += FRAME_VLAN_LEN;
	}
	memcpy(info->src_mac, f + 6, 6);
	info->l3_off = (uint16_t)l3;
	switch (type) {
	case ETHERTYPE_IPV4:
		return parse_ipv4(loc, f, len, l3, info);
	case ETHERTYPE_IPV6:
		return parse_ipv6(loc, f, len, l3, info);
	case ETHERTYPE_ARP:
		return parse_arp(loc, f, len, l3);
	default:
		return FRAME_EXCEPTION;
	}
}

size_t frame_build_udp(uint8_t *buf, size_t cap, const uint8_t dst_mac[6], const uint8_t src_mac[6],
		       int vlan, const struct sockaddr_storage *src,
		       const struct sockaddr_storage *dst, const uint8_t *payload, size_t len)
{
	if (src->ss_family != dst->ss_family ||
	    (src->ss_family != AF_INET && src->ss_family != AF_INET6))
		return 0;
	bool v6 = src->ss_family == AF_INET6;
	size_t l3 = FRAME_ETH_LEN + (vlan >= 0 ? FRAME_VLAN_LEN : 0);
	size_t iph = v6 ? 40 : 20;
	size_t ulen = 8 + len;
	if (ulen > 65535 - (v6 ? 0 : iph) || l3 + iph + ulen > cap)
		return 0;
	uint8_t *p = buf;
	memcpy(p, dst_mac, 6);
	memcpy(p + 6, src_mac, 6);
	if (vlan >= 0) {
		wr16(p + 12, ETHERTYPE_VLAN);
		wr16(p + 14, (uint16_t)vlan);
	}
	wr16(p + l3 - 2, v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
	uint8_t *ip = p + l3, *u = ip + iph;
	struct inet_ip h = {
		.version = v6 ? 6 : 4, .proto = INET_PROTO_UDP, .ttl = 64, .df = true
	};
	uint16_t sport, dport;
	if (v6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)src;
		const struct sockaddr_in6 *d = (const struct sockaddr_in6 *)dst;
		h.src = s->sin6_addr.s6_addr;
		h.dst = d->sin6_addr.s6_addr;
		sport = ntohs(s->sin6_port);
		dport = ntohs(d->sin6_port);
	} else {
		const struct sockaddr_in *s = (const struct sockaddr_in *)src;
		const struct sockaddr_in *d = (const struct sockaddr_in *)dst;
		h.src = (const uint8_t *)&s->sin_addr; /* id 0: DF set, never fragmented */
		h.dst = (const uint8_t *)&d->sin_addr;
		sport = ntohs(s->sin_port);
		dport = ntohs(d->sin_port);
	}
	uint32_t pseudo;
	inet_ip_header(ip, &h, ulen, &pseudo);
	/* summed where it is, not where it is about to be stored */
	uint32_t sum = inet_csum(payload, len, pseudo);
	memcpy(u + 8, payload, len);
	inet_udp_header_sum(u, sport, dport, ulen, sum);
	return l3 + iph + ulen;
}

size_t frame_arp_reply(const struct frame_local *loc, uint8_t *f, size_t len,
		       const struct frame_info *info)
{
	uint8_t *a = f + info->l3_off;
	uint8_t ip[4];
	memcpy(f, info->src_mac, 6);
	memcpy(f + 6, loc->mac, 6);
	wr16(a + 6, 2);		    /* reply */
	memcpy(a + 18, a + 8, 6);   /* target hardware: the asker */
	memcpy(ip, a + 24, 4);	    /* the address asked for */
	memcpy(a + 24, a + 14, 4);  /* target protocol: the asker's */
	memcpy(a + 8, loc->mac, 6); /* sender hardware: ours */
	memcpy(a + 14, ip, 4);	    /* sender protocol: the address asked for */
	return len;
}

size_t frame_nd_advert(const struct frame_local *loc, const struct frame_info *info, uint8_t *buf,
		       size_t cap)
{
	size_t l3 = FRAME_ETH_LEN + (info->vlan >= 0 ? FRAME_VLAN_LEN : 0);
	size_t len = l3 + 40 + 32;
	if (cap < len)
		return 0;
	memcpy(buf, info->src_mac, 6);
	memcpy(buf + 6, loc->mac, 6);
	if (info->vlan >= 0) {
		wr16(buf + 12, ETHERTYPE_VLAN);
		wr16(buf + 14, (uint16_t)info->vlan);
	}
	wr16(buf + l3 - 2, ETHERTYPE_IPV6);
	uint8_t *ip = buf + l3, *icmp = ip + 40;
	struct inet_ip h = {
		.version = 6,
		.proto = INET_PROTO_ICMPV6,
		.ttl = 255,
		.src = ((const struct sockaddr_in6 *)&info->dst)->sin6_addr.s6_addr,
		.dst = ((const struct sockaddr_in6 *)&info->src)->sin6_addr.s6_addr,
	};
	uint32_t pseudo;
	inet_ip_header(ip, &h, 32, &pseudo);
	memset(icmp, 0, 32);
	icmp[0] = ND_ADVERT;
	icmp[4] = 0x60; /* solicited, override */
	memcpy(icmp + 8, ip + 8, 16);
	icmp[24] = 2; /* target link-layer address */
	icmp[25] = 1;
	memcpy(icmp + 26, loc->mac, 6);
	wr16(icmp + 2, (uint16_t)~inet_csum(icmp, 32, pseudo));
	return len;
}

bool frame_mac_parse(const char *text, uint8_t mac[6])
{
	uint8_t m[6];
	for (int i = 0; i < 6; i++) {
		const char *p = text + i * 3;
		int hi = hexdigit_value(p[0]), lo = hi < 0 ? -1 : hexdigit_value(p[1]);
		if (hi < 0 || lo < 0 || p[2] != (i == 5 ? '\0' : ':'))
			return false;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, 6);
	return true;
}
