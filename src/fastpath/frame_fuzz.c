/* SPDX-License-Identifier: MIT */
/*
 * The frame parser. Whatever the bytes: a UDP verdict's payload lies inside
 * the frame, and a reply built from it (dst and src swapped) parses back as
 * UDP with the same payload on the other side; an ARP request's reply is an
 * ARP reply of the same length; a neighbour solicitation's advertisement
 * has a valid ICMPv6 checksum.
 */
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <lispms/inet.h>

#include "frame.h"
#include "fuzz.h"

static void check(bool cond)
{
	if (!cond)
		abort();
}

static void local_of(struct frame_local *l, const struct sockaddr_storage *a)
{
	memset(l, 0, sizeof(*l));
	l->port = ntohs(a->ss_family == AF_INET ? ((const struct sockaddr_in *)a)->sin_port
						: ((const struct sockaddr_in6 *)a)->sin6_port);
	if (a->ss_family == AF_INET) {
		memcpy(l->v4[0], &((const struct sockaddr_in *)a)->sin_addr, 4);
		l->nv4 = 1;
	} else {
		memcpy(l->v6[0], &((const struct sockaddr_in6 *)a)->sin6_addr, 16);
		l->nv6 = 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_local loc = { .mac = { 2, 0, 0, 0, 0, 1 }, .port = 4342, .nv4 = 1, .nv6 = 1 };
	const uint8_t v4[4] = { 192, 0, 2, 1 };
	const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	memcpy(loc.v4[0], v4, 4);
	memcpy(loc.v6[0], v6, 16);
	struct frame_info fi;
	enum frame_verdict v = frame_parse(&loc, data, size, &fi);
	check((unsigned)v < FRAME__VERDICTS);
	/* the exception path gets whole Ethernet frames, never LISP for us nor a malformed one */
	check(!frame_to_kernel(v) ||
	      (size >= FRAME_ETH_LEN && (v == FRAME_NOT_FOR_US || v == FRAME_EXCEPTION)));
	if (v == FRAME_UDP) {
		check((size_t)fi.payload_off + fi.payload_len <= size);
		check(frame_is_local(&loc, &fi.dst));
		static uint8_t out[70000];
		size_t n = frame_build_udp(out, sizeof(out), fi.src_mac, loc.mac, fi.vlan, &fi.dst,
					   &fi.src, data + fi.payload_off, fi.payload_len);
		check(n > 0);
		struct frame_local peer;
		local_of(&peer, &fi.src);
		struct frame_info back;
		check(frame_parse(&peer, out, n, &back) == FRAME_UDP);
		check(back.payload_len == fi.payload_len && back.vlan == fi.vlan);
		check(memcmp(out + back.payload_off, data + fi.payload_off, fi.payload_len) == 0);
	} else if (v == FRAME_ND_SOLICIT) {
		uint8_t na[128];
		size_t n = frame_nd_advert(&loc, &fi, na, sizeof(na));
		check(n > 0);
		struct frame_info back;
		/* an advertisement is nothing the fast path answers */
		check(frame_parse(&loc, na, n, &back) == FRAME_EXCEPTION);
		size_t l3 = n - 72;
		uint32_t pseudo = inet_csum(na + l3 + 8, 32, 0) + 32 + 58;
		check(inet_csum(na + l3 + 40, 32, pseudo) == 0xffff);
	} else if (v == FRAME_ARP_REQUEST) {
		uint8_t *copy = malloc(size);
		check(copy != NULL);
		memcpy(copy, data, size);
		check(frame_arp_reply(&loc, copy, size, &fi) == size);
		check(copy[fi.l3_off + 7] == 2 && memcmp(copy + fi.l3_off + 8, loc.mac, 6) == 0);
		free(copy);
	}
	return 0;
}
