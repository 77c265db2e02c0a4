/* SPDX-License-Identifier: MIT */
/* The fast path's frame parser and builders: one test per verdict. */
#include <string.h>

#include <arpa/inet.h>

#include <criterion/criterion.h>

#include <lispms/dgram.h>
#include <lispms/inet.h>

#include "frame.h"

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 0xa };
static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0, 0xb };
static const uint8_t payload[] = "\x30\x00\x00\x01 a LISP message";

static struct frame_local local(void)
{
	struct frame_local l = { .mac = { 2, 0, 0, 0, 0, 0xb }, .port = 4342 };
	inet_pton(AF_INET, "192.0.2.1", l.v4[l.nv4++]);
	inet_pton(AF_INET6, "2001:db8::1", l.v6[l.nv6++]);
	return l;
}

static struct sockaddr_storage sa(const char *ip, uint16_t port)
{
	struct sockaddr_storage s;
	memset(&s, 0, sizeof(s));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s;
		a->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &a->sin6_addr);
		a->sin6_port = htons(port);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&s;
		a->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &a->sin_addr);
		a->sin_port = htons(port);
	}
	return s;
}

/* A frame from ETR 198.51.100.7 (or 2001:db8::7) port 4342 to dst:port. */
static size_t udp_frame(uint8_t *buf, const char *dst, uint16_t port, int vlan)
{
	bool v6 = strchr(dst, ':') != NULL;
	struct sockaddr_storage s = sa(v6 ? "2001:db8::7" : "198.51.100.7", 4342);
	struct sockaddr_storage d = sa(dst, port);
	size_t n = frame_build_udp(buf, 2048, mac_b, mac_a, vlan, &s, &d, payload, sizeof(payload));
	cr_assert_gt(n, 0);
	return n;
}

/* Fix the IPv4 header checksum after a test changed the header. */
static void fix_ip(uint8_t *f)
{
	uint8_t *ip = f + FRAME_ETH_LEN;
	ip[10] = ip[11] = 0;
	uint16_t sum = (uint16_t)~inet_csum(ip, (size_t)(ip[0] & 15) * 4, 0);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
}

static enum frame_verdict parse(const uint8_t *f, size_t len)
{
	struct frame_local l = local();
	struct frame_info fi;
	return frame_parse(&l, f, len, &fi);
}

Test(frame, ipv4_udp_round_trip)
{
	uint8_t f[2048];
	size_t n = udp_frame(f, "192.0.2.1", 4342, -1);
	struct frame_local l = local();
	struct frame_info fi;
	cr_assert_eq(frame_parse(&l, f, n, &fi), FRAME_UDP);
	cr_assert_eq(fi.payload_len, sizeof(payload));
	cr_assert_eq(memcmp(f + fi.payload_off, payload, sizeof(payload)), 0);
	cr_assert_eq(fi.vlan, -1);
	cr_assert_eq(memcmp(fi.src_mac, mac_a, 6), 0);
	char a[64];
	saddr_format(&fi.src, a, sizeof(a));
	cr_assert_str_eq(a, "198.51.100.7:4342");
	saddr_format(&fi.dst, a, sizeof(a));
	cr_assert_str_eq(a, "192.0.2.1:4342");
	/* Ethernet padding after the IP packet is allowed */
	memset(f + n, 0, 20);
	cr_assert_eq(parse(f, n + 20), FRAME_UDP);
}

Test(frame, ipv6_udp_with_vlan)
{
	uint8_t f[2048];
	size_t n = udp_frame(f, "2001:db8::1", 4342, 100);
	struct frame_local l = local();
	struct frame_info fi;
	cr_assert_eq(frame_parse(&l, f, n, &fi), FRAME_UDP);
	cr_assert_eq(fi.vlan, 100);
	cr_assert_eq(fi.payload_len, sizeof(payload));
	char a[64];
	saddr_format(&fi.src, a, sizeof(a));
	cr_assert_str_eq(a, "[2001:db8::7]:4342");
}

Test(frame, short_frames)
{
	uint8_t f[2048];
	size_t n = udp_frame(f, "192.0.2.1", 4342, -1);
	cr_assert_eq(parse(f, 13), FRAME_SHORT);		      /* no Ethernet header */
	cr_assert_eq(parse(f, 14 + 19), FRAME_SHORT);		      /* no IPv4 header */
	cr_assert_eq(parse(f, n - sizeof(payload)), FRAME_IP_LENGTH); /* IP says more */
	uint8_t g[2048];
	size_t m = udp_frame(g, "2001:db8::1", 4342, 7);
	cr_assert_eq(parse(g, 17), FRAME_SHORT); /* VLAN tag cut */
	cr_assert_eq(parse(g, 18 + 39), FRAME_SHORT);
	cr_assert_eq(parse(g, m - 1), FRAME_IP_LENGTH);
	/* IP total length leaves no room for the UDP header */
	f[FRAME_ETH_LEN + 2] = 0;
	f[FRAME_ETH_LEN + 3] = 24;
	fix_ip(f);
	cr_assert_eq(parse(f, n), FRAME_SHORT);
}

Test(frame, bad_ip_header)
{
	uint8_t f[2048];
	size_t n = udp_frame(f, "192.0.2.1", 4342, -1);
	f[FRAME_ETH_LEN + 8]--; /* TTL changed, checksum not */
	cr_assert_eq(parse(f, n), FRAME_IP_HEADER);
	n = udp_frame(f, "192.0.2.1", 4342, -1);
	f[FRAME_ETH_LEN] = 0x44; /* IHL 4 */
	fix_ip(f);
	cr_assert_eq(parse(f, n), FRAME_IP_HEADER);
	n = udp_frame(f, "192.0.2.1", 4342, -1);
	f[FRAME_ETH_LEN] = 0x65; /* version 6 in an IPv4 ethertype */
	cr_assert_eq(parse(f, n), FRAME_IP_HEADER);
	n = udp_frame(f, "2001:db8::1", 4342, -1);
	f[FRAME_ETH_LEN] = 0x40;
	cr_assert_eq(parse(f, n), FRAME_IP_HEADER);
}

Test(frame, bad_ip_length)
{
	uint8_t f[2048];
	size_t n = udp_frame(f, "192.0.2.1", 4342, -1);
	f[FRAME_ETH_LEN + 3] += 1; /* one byte more than the frame holds */
	fix_ip(f);
	cr_assert_eq(parse(f, n), FRAME_IP_LENGTH);
	f[FRAME_ETH_LEN + 2] = 0;
	f[FRAME_ETH_LEN + 3] = 19; /* shorter than its own header */
	fix_ip(f);
	cr_assert_eq(parse(f, n), FRAME_IP_LENGTH);
	n = udp_frame(f, "2001:db8::1", 4342, -1);
	f[FRAME_ETH_LEN + 4] = f[FRAME_ETH_LEN + 5] = 0; /* jumbogram */
	cr_assert_eq(parse(f, n), FRAME_IP_LENGTH);
}

Test(frame, fragments)
{
	uint8_t f[2048];
	size_t n = udp_frame(f, "192.0.2.1", 4342, -1);
	f[FRAME_ETH_LEN + 6] = 0x20; /* MF */
	fix_ip(f);
	cr_assert_eq(parse(f, n), FRAME_FRAGMENT);
	f[FRAME_ETH_LEN + 6] = 0x00;
	f[FRAME_ETH_LEN + 7] = 0x10; /* offset 128 */
	fix_ip(f);
	cr_assert_eq(parse(f, n), FRAME_FRAGMENT);
	n = udp_frame(f, "2001:db8::1", 4342, -1);
	f[FRAME_ETH_LEN + 6] = 44; /* fragment header */
	cr_assert_eq(parse(f, n), FRAME_FRAGMENT);
}

Test(frame, udp_length_lies)
{
	uint8_t f[2048];
	size_t n = udp_frame(f, "192.0.2.1", 4342, -1);
	uint8_t *u = f + FRAME_ETH_LEN + 20;
	u[5] += 1; /* longer than the IP payload */
	cr_assert_eq(parse(f, n), FRAME_UDP_LENGTH);
	u[4] = 0;
	u[5] = 7; /* below the header */
	cr_assert_eq(parse(f, n), FRAME_UDP_LENGTH);
	n = udp_frame(f, "2001:db8::1", 4342, -1);
	f[FRAME_ETH_LEN + 40 + 4] = 0xff;
	cr_assert_eq(parse(f, n), FRAME_UDP_LENGTH);
}

Test(frame, udp_checksum)
{
	uint8_t f[2048];
	size_t n = udp_frame(f, "192.0.2.1", 4342, -1);
	f[n - 1] ^= 1; /* payload changed */
	cr_assert_eq(parse(f, n), FRAME_UDP_CHECKSUM);
	uint8_t *u = f + FRAME_ETH_LEN + 20;
	u[6] = u[7] = 0; /* no checksum: allowed over IPv4 */
	cr_assert_eq(parse(f, n), FRAME_UDP);
	n = udp_frame(f, "2001:db8::1", 4342, -1);
	u = f + FRAME_ETH_LEN + 40;
	u[6] = u[7] = 0; /* mandatory over IPv6 */
	cr_assert_eq(parse(f, n), FRAME_UDP_CHECKSUM);
	n = udp_frame(f, "2001:db8::1", 4342, -1);
	f[n - 2] ^= 0x80;
	cr_assert_eq(parse(f, n), FRAME_UDP_CHECKSUM);
}

Test(frame, not_for_us_and_exceptions)
{
	uint8_t f[2048];
	size_t n = udp_frame(f, "192.0.2.99", 4342, -1);
	cr_assert_eq(parse(f, n), FRAME_NOT_FOR_US);
	n = udp_frame(f, "192.0.2.1", 4341, -1);
	cr_assert_eq(parse(f, n), FRAME_NOT_FOR_US);
	n = udp_frame(f, "2001:db8::2", 4342, -1);
	cr_assert_eq(parse(f, n), FRAME_NOT_FOR_US);
	n = udp_frame(f, "192.0.2.1", 4342, -1);
	f[FRAME_ETH_LEN + 9] = 6; /* TCP to us: the kernel's */
	fix_ip(f);
	cr_assert_eq(parse(f, n), FRAME_EXCEPTION);
	n = udp_frame(f, "2001:db8::1", 4342, -1);
	f[FRAME_ETH_LEN + 6] = 58; /* ICMPv6: neighbour discovery */
	cr_assert_eq(parse(f, n), FRAME_EXCEPTION);
	f[FRAME_ETH_LEN + 6] = 17;
	f[12] = 0x88; /* LLDP */
	f[13] = 0xcc;
	cr_assert_eq(parse(f, n), FRAME_EXCEPTION);
}

static size_t arp_request(uint8_t *f, const char *target)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	uint8_t *a = f + 14;
	const uint8_t hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	memcpy(a, hdr, 8);
	memcpy(a + 8, mac_a, 6);
	inet_pton(AF_INET, "192.0.2.7", a + 14);
	memset(a + 18, 0, 6);
	inet_pton(AF_INET, target, a + 24);
	memset(f + 42, 0, 18);
	return 60;
}

Test(frame, arp_request_answered)
{
	uint8_t f[64];
	size_t n = arp_request(f, "192.0.2.1");
	struct frame_local l = local();
	struct frame_info fi;
	cr_assert_eq(frame_parse(&l, f, n, &fi), FRAME_ARP_REQUEST);
	cr_assert_eq(frame_arp_reply(&l, f, n, &fi), n);
	const uint8_t *a = f + 14;
	cr_assert_eq(memcmp(f, mac_a, 6), 0);
	cr_assert_eq(memcmp(f + 6, l.mac, 6), 0);
	cr_assert_eq(a[7], 2);
	cr_assert_eq(memcmp(a + 8, l.mac, 6), 0);
	cr_assert_eq(memcmp(a + 14, l.v4[0], 4), 0);
	cr_assert_eq(memcmp(a + 18, mac_a, 6), 0);
	uint8_t asker[4];
	inet_pton(AF_INET, "192.0.2.7", asker);
	cr_assert_eq(memcmp(a + 24, asker, 4), 0);
	n = arp_request(f, "192.0.2.2");
	cr_assert_eq(parse(f, n), FRAME_EXCEPTION);
	cr_assert_eq(parse(f, 14 + 27), FRAME_SHORT);
}

Test(frame, build_refuses)
{
	uint8_t f[128];
	struct sockaddr_storage s4 = sa("192.0.2.1", 4342), s6 = sa("2001:db8::1", 4342);
	cr_assert_eq(frame_build_udp(f, sizeof(f), mac_a, mac_b, -1, &s4, &s6, payload, 4), 0);
	cr_assert_eq(frame_build_udp(f, 60, mac_a, mac_b, -1, &s4, &s4, payload, 30), 0);
	cr_assert_eq(frame_build_udp(f, 62, mac_a, mac_b, -1, &s4, &s4, payload, 20), 62);
}

Test(frame, mac_parse)
{
	uint8_t m[6];
	cr_assert(frame_mac_parse("02:00:00:00:00:0b", m));
	cr_assert_eq(memcmp(m, mac_b, 6), 0);
	cr_assert(frame_mac_parse("AA:bb:CC:dd:EE:ff", m));
	cr_assert_eq(m[0], 0xaa);
	cr_assert_not(frame_mac_parse("02:00:00:00:00", m));
	cr_assert_not(frame_mac_parse("02:00:00:00:00:0b:", m));
	cr_assert_not(frame_mac_parse("02-00-00-00-00-0b", m));
	cr_assert_not(frame_mac_parse("0g:00:00:00:00:0b", m));
	cr_assert_not(frame_mac_parse("", m));
}

/* A neighbour solicitation from 2001:db8::7 for target, with a source link-layer option. */
static size_t nd_solicit(uint8_t *f, const char *target, int vlan)
{
	size_t l3 = FRAME_ETH_LEN + (vlan >= 0 ? FRAME_VLAN_LEN : 0);
	memset(f, 0, l3 + 72);
	const uint8_t mcast[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };
	memcpy(f, mcast, 6);
	memcpy(f + 6, mac_a, 6);
	if (vlan >= 0) {
		f[12] = 0x81;
		f[15] = (uint8_t)vlan;
	}
	f[l3 - 2] = 0x86;
	f[l3 - 1] = 0xdd;
	uint8_t *ip = f + l3, *icmp = ip + 40;
	ip[0] = 0x60;
	ip[5] = 32;
	ip[6] = 58;
	ip[7] = 255;
	inet_pton(AF_INET6, "2001:db8::7", ip + 8);
	inet_pton(AF_INET6, "ff02::1:ff00:1", ip + 24);
	icmp[0] = 135;
	inet_pton(AF_INET6, target, icmp + 8);
	icmp[24] = 1;
	icmp[25] = 1;
	memcpy(icmp + 26, mac_a, 6);
	uint16_t sum = (uint16_t)~inet_csum(icmp, 32, inet_csum(ip + 8, 32, 0) + 32 + 58);
	icmp[2] = (uint8_t)(sum >> 8);
	icmp[3] = (uint8_t)sum;
	return l3 + 72;
}

Test(frame, nd_solicitation_answered)
{
	uint8_t f[128], na[128];
	size_t n = nd_solicit(f, "2001:db8::1", 12);
	struct frame_local l = local();
	struct frame_info fi;
	cr_assert_eq(frame_parse(&l, f, n, &fi), FRAME_ND_SOLICIT);
	size_t m = frame_nd_advert(&l, &fi, na, sizeof(na));
	cr_assert_eq(m, 18 + 72);
	cr_assert_eq(memcmp(na, mac_a, 6), 0);
	cr_assert_eq(memcmp(na + 6, l.mac, 6), 0);
	cr_assert_eq(na[15], 12); /* same VLAN */
	const uint8_t *ip = na + 18, *icmp = ip + 40;
	cr_assert_eq(ip[7], 255);
	cr_assert_eq(memcmp(ip + 8, l.v6[0], 16), 0);
	cr_assert_eq(memcmp(ip + 24, f + 18 + 8, 16), 0);
	cr_assert_eq(icmp[0], 136);
	cr_assert_eq(icmp[4], 0x60);
	cr_assert_eq(memcmp(icmp + 8, l.v6[0], 16), 0);
	cr_assert_eq(icmp[24], 2);
	cr_assert_eq(memcmp(icmp + 26, l.mac, 6), 0);
	cr_assert_eq(inet_csum(icmp, 32, inet_csum(ip + 8, 32, 0) + 32 + 58), 0xffff);
	cr_assert_eq(frame_nd_advert(&l, &fi, na, 18 + 71), 0);
	/* not ours, bad checksum, hop limit, zero-length option, DAD: the kernel's */
	n = nd_solicit(f, "2001:db8::2", -1);
	cr_assert_eq(parse(f, n), FRAME_EXCEPTION);
	n = nd_solicit(f, "2001:db8::1", -1);
	f[n - 1] ^= 1;
	cr_assert_eq(parse(f, n), FRAME_EXCEPTION);
	n = nd_solicit(f, "2001:db8::1", -1);
	f[14 + 7] = 64;
	cr_assert_eq(parse(f, n), FRAME_EXCEPTION);
	n = nd_solicit(f, "2001:db8::1", -1);
	cr_assert_eq(parse(f, n), FRAME_ND_SOLICIT);
	cr_assert_eq(parse(f, n - 1), FRAME_IP_LENGTH);
}

/* Which frames go to the exception interface (frame_to_kernel of their verdict). */
static bool to_kernel(const uint8_t *f, size_t len)
{
	return frame_to_kernel(parse(f, len));
}

Test(frame, exception_path_classification)
{
	uint8_t f[2048];
	size_t n = udp_frame(f, "192.0.2.1", 4342, -1);
	cr_assert_not(to_kernel(f, n), "LISP for us stays on the fast path");
	f[FRAME_ETH_LEN + 9] = 6; /* TCP to us */
	fix_ip(f);
	cr_assert(to_kernel(f, n));
	f[FRAME_ETH_LEN + 9] = 1; /* ICMP to us */
	fix_ip(f);
	cr_assert(to_kernel(f, n));
	f[FRAME_ETH_LEN + 6] = 0x20; /* a fragment of it: the kernel reassembles */
	fix_ip(f);
	cr_assert_eq(parse(f, n), FRAME_EXCEPTION);
	f[FRAME_ETH_LEN + 9] = 17; /* a UDP fragment to us: dropped */
	fix_ip(f);
	cr_assert_eq(parse(f, n), FRAME_FRAGMENT);
	cr_assert_not(to_kernel(f, n));
	n = udp_frame(f, "192.0.2.1", 53, -1); /* another UDP port */
	cr_assert(to_kernel(f, n));
	n = udp_frame(f, "192.0.2.255", 4342, -1); /* another address */
	cr_assert(to_kernel(f, n));
	n = udp_frame(f, "2001:db8::1", 4342, 5);
	cr_assert_not(to_kernel(f, n));
	f[FRAME_ETH_LEN + FRAME_VLAN_LEN + 6] = 58; /* ICMPv6 that is no solicitation */
	cr_assert(to_kernel(f, n));
	f[16] = 0x88; /* LLDP behind the tag */
	f[17] = 0xcc;
	cr_assert(to_kernel(f, n));

	n = arp_request(f, "192.0.2.1");
	cr_assert_not(to_kernel(f, n), "ARP for our address is answered here");
	n = arp_request(f, "192.0.2.2");
	cr_assert(to_kernel(f, n), "ARP for the kernel's addresses");
	n = arp_request(f, "192.0.2.1");
	f[14 + 7] = 2; /* a reply (to the kernel's own request) */
	cr_assert(to_kernel(f, n));
	uint8_t ns[128];
	n = nd_solicit(ns, "2001:db8::1", -1);
	cr_assert_not(to_kernel(ns, n), "ND for our address is answered here");
	n = nd_solicit(ns, "2001:db8::2", -1);
	cr_assert(to_kernel(ns, n), "ND for the kernel's addresses");

	/* malformed frames are counted and dropped, never the kernel's */
	n = udp_frame(f, "192.0.2.1", 4342, -1);
	f[n - 1] ^= 1;
	cr_assert_eq(parse(f, n), FRAME_UDP_CHECKSUM);
	cr_assert_not(to_kernel(f, n));
	cr_assert_not(to_kernel(f, 10));
	f[FRAME_ETH_LEN] = 0x35; /* IHL 5 but version 3 */
	cr_assert_not(to_kernel(f, n));
	for (int v = 0; v < FRAME__VERDICTS; v++)
		cr_assert_eq(frame_to_kernel((enum frame_verdict)v),
			     v == FRAME_NOT_FOR_US || v == FRAME_EXCEPTION, "%s",
			     frame_verdict_name((enum frame_verdict)v));
}
