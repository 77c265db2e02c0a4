/* SPDX-License-Identifier: MIT */
/*
 * The internet checksum (RFC 1071) and the IPv4 / IPv6 / UDP headers around
 * a payload: the one implementation used by the ECM codec's inner headers
 * (src/proto/ecm.c), the fast path's frames (src/fastpath/frame.c) and the
 * tests' captures (tests/support/pcap.c). No state, no allocation; the
 * caller checks that the buffers and lengths fit.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INET_IPV4_HDR_LEN 20
#define INET_IPV6_HDR_LEN 40
#define INET_UDP_HDR_LEN  8
#define INET_PROTO_TCP	  6
#define INET_PROTO_UDP	  17
#define INET_PROTO_ICMPV6 58
#define INET_IPV4_DF	  0x4000u /* the flags and fragment offset word's don't-fragment bit */

/*
 * The ones' complement sum of the len octets at p, added to sum (a partial
 * sum in host order: any 32-bit value, e.g. a pseudo-header's), folded to
 * 16 bits and not complemented. A header whose checksum field is right sums
 * to 0xffff; the field to write is the complement of the sum taken with the
 * field zero.
 */
uint16_t inet_csum(const void *p, size_t len, uint32_t sum);

/* An IP header, what each family has of it. */
struct inet_ip {
	uint8_t version;	  /* 4 or 6 */
	uint8_t proto;		  /* protocol / next header: INET_PROTO_* */
	uint8_t ttl;		  /* IPv4 TTL, IPv6 hop limit */
	uint8_t tos;		  /* IPv4 TOS, IPv6 traffic class */
	bool df;		  /* IPv4: don't fragment */
	uint16_t id;		  /* IPv4 identification */
	uint32_t flow_label;	  /* IPv6, 20 bits */
	const uint8_t *src, *dst; /* 4 or 16 octets, network order */
};

/*
 * Write h's header at ip for l4len octets of payload (IPv4: 20 octets with
 * its header checksum; IPv6: 40) and return its length. *pseudo is the
 * pseudo-header's partial sum (addresses, protocol, l4len) for the
 * payload's checksum: inet_udp_header's, or ~inet_csum(l4, l4len, pseudo).
 * l4len is at most 65535 - 20 (IPv4) or 65535 (IPv6).
 */
size_t inet_ip_header(uint8_t *ip, const struct inet_ip *h, size_t l4len, uint32_t *pseudo);

/*
 * The UDP header at udp, the ulen - 8 payload octets already after it:
 * ports, length and the checksum over pseudo (inet_ip_header's) and the
 * datagram; a computed 0 is sent as 0xffff (RFC 768).
 */
void inet_udp_header(uint8_t *udp, uint16_t sport, uint16_t dport, size_t ulen, uint32_t pseudo);
/*
 * The same with the payload's part of the checksum given: payload_sum is
 * inet_csum(payload, ulen - 8, pseudo), which may be taken over the payload
 * where it came from before it was copied after the header (reading octets
 * just stored waits for the stores; the fast path's replies).
 */
void inet_udp_header_sum(uint8_t *udp, uint16_t sport, uint16_t dport, size_t ulen,
			 uint32_t payload_sum);
