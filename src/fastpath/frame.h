/* SPDX-License-Identifier: MIT */
/*
 * Frames for the fast path, without DPDK: Ethernet (one optional 802.1Q
 * tag), IPv4 and IPv6, UDP. frame_parse() decides what one received frame
 * is, with a bound check before every read and one verdict per drop
 * reason (each has its counter); the builders write reply frames. Kept
 * apart from the DPDK loop so unit tests and the fuzz target run in every
 * build.
 *
 * Threads: pure functions; struct frame_local is read-only once filled.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#define FRAME_MAX_ADDRS 16
#define FRAME_ETH_LEN	14
#define FRAME_VLAN_LEN	4
/* Room for Ethernet + VLAN + IPv6 + UDP in front of a payload. */
#define FRAME_HEADROOM	(FRAME_ETH_LEN + FRAME_VLAN_LEN + 40 + 8)

/* What the fast path answers for. */
struct frame_local {
	uint8_t mac[6];
	uint16_t port; /* UDP port, host order (4342) */
	unsigned nv4, nv6;
	uint8_t v4[FRAME_MAX_ADDRS][4];
	uint8_t v6[FRAME_MAX_ADDRS][16];
};

enum frame_verdict {
	FRAME_UDP,	    /* UDP to one of our addresses and our port: a LISP payload */
	FRAME_ARP_REQUEST,  /* ARP request for one of our IPv4 addresses */
	FRAME_ND_SOLICIT,   /* IPv6 neighbour solicitation for one of our addresses */
	FRAME_SHORT,	    /* shorter than its Ethernet / VLAN / IP / UDP header */
	FRAME_IP_HEADER,    /* bad IP version, IHL or IPv4 header checksum */
	FRAME_IP_LENGTH,    /* IP length longer than the frame or shorter than its header */
	FRAME_FRAGMENT,	    /* an IPv4 fragment or an IPv6 fragment header */
	FRAME_UDP_LENGTH,   /* UDP length longer than the IP payload or below 8 */
	FRAME_UDP_CHECKSUM, /* wrong UDP checksum (or zero over IPv6) */
	FRAME_NOT_FOR_US,   /* IP or UDP traffic to another address or port */
	FRAME_EXCEPTION,    /* other traffic (other ARP and ND, ICMP, TCP, other types) */
	FRAME__VERDICTS
};

/*
 * Where the parts of a parsed frame are (FRAME_UDP, FRAME_ARP_REQUEST and
 * FRAME_ND_SOLICIT: src is the soliciting node, dst the target address).
 */
struct frame_info {
	uint16_t l3_off;	     /* IP or ARP header */
	uint16_t payload_off;	     /* UDP payload */
	uint16_t payload_len;	     /* UDP payload bytes (the UDP length's, not the frame's) */
	int vlan;		     /* the 802.1Q TCI, or -1 */
	uint8_t src_mac[6];	     /* the sender's */
	struct sockaddr_storage src; /* sender address and port */
	struct sockaddr_storage dst; /* ours, with the port */
};

/* The name of a verdict for logs and counters ("short", "fragment", ...). */
const char *frame_verdict_name(enum frame_verdict v);

/*
 * Is a frame of this verdict the kernel's? Traffic that is well formed but
 * not LISP for us (FRAME_NOT_FOR_US: other addresses, other UDP ports;
 * FRAME_EXCEPTION: TCP, ICMP, ARP and ND we do not answer, other
 * ethertypes) goes to the exception interface when there is one; malformed
 * frames never do.
 */
bool frame_to_kernel(enum frame_verdict v);

/* What frame f of len bytes is; *info is filled for FRAME_UDP and FRAME_ARP_REQUEST. */
enum frame_verdict frame_parse(const struct frame_local *loc, const uint8_t *f, size_t len,
			       struct frame_info *info);

/* Is a one of our addresses (AF_INET or AF_INET6, the port ignored)? */
bool frame_is_local(const struct frame_local *loc, const struct sockaddr_storage *a);

/*
 * Write an Ethernet [+ VLAN] + IP + UDP frame carrying payload from src to
 * dst (same family) into buf: IPv4 header checksum, UDP checksum for both
 * families. Returns the frame length, or 0 when cap is too small, the
 * families differ or the payload does not fit in one IP packet.
 */
size_t frame_build_udp(uint8_t *buf, size_t cap, const uint8_t dst_mac[6], const uint8_t src_mac[6],
		       int vlan, const struct sockaddr_storage *src,
		       const struct sockaddr_storage *dst, const uint8_t *payload, size_t len);

/*
 * Turn the ARP request frame f (parsed as FRAME_ARP_REQUEST) into our reply,
 * in place: the requested address is at loc->mac. Returns the frame length.
 */
size_t frame_arp_reply(const struct frame_local *loc, uint8_t *f, size_t len,
		       const struct frame_info *info);

/*
 * The neighbour advertisement (solicited, override, our MAC as the target
 * link-layer address) answering the solicitation parsed into info, written
 * to buf. Returns the frame length, or 0 when cap is too small.
 */
size_t frame_nd_advert(const struct frame_local *loc, const struct frame_info *info, uint8_t *buf,
		       size_t cap);

/* Parse "02:00:00:00:00:01"; false when it is not six hex pairs. */
bool frame_mac_parse(const char *text, uint8_t mac[6]);
