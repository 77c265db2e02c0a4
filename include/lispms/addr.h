/* SPDX-License-Identifier: MIT */
/*
 * Addresses and EID prefixes as every subsystem sees them, and their text
 * form (docs/protocol.md D16): `[IID] prefix`, e.g. `[1000] 10.1.0.0/16`,
 * `[1000] 2001:db8::/32`, `[5] 00:11:22:33:44:55/48`; `[0]` may be left out.
 *
 * An EID prefix is always normalised: the bits past `plen` are zero, so two
 * equal prefixes compare equal with eid_prefix_equal() (and memcmp).
 *
 * Threads: pure functions, any thread.
 * Errors: LISPMS_EINVAL (text that is not an address or prefix),
 * LISPMS_EAFI (family not usable as an EID), LISPMS_ENOSPC (buffer too small).
 */
#pragma once

#ifndef LISPMS_USES_PROTO
#error "addr.h: this subsystem does not declare proto as a dependency"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sys/socket.h>

/* LISP AFI numbers (IANA Address Family Numbers, docs/protocol.md §1.2). */
enum lisp_afi {
	LISP_AFI_NONE = 0,
	LISP_AFI_IPV4 = 1,
	LISP_AFI_IPV6 = 2,
	LISP_AFI_LCAF = 16387,
	LISP_AFI_MAC = 16389,
};

#define LISPMS_ADDR_MAX 16 /* bytes of the longest plain address (IPv6) */

/* A plain address: IPv4, IPv6 or 48-bit MAC; afi LISP_AFI_NONE is "none". */
struct lisp_addr {
	uint16_t afi;
	uint8_t bytes[LISPMS_ADDR_MAX]; /* network order, unused bytes zero */
};

/* An EID prefix inside an instance. */
struct eid_prefix {
	uint32_t iid;			/* instance ID (32 bits on the control plane) */
	uint16_t afi;			/* LISP_AFI_IPV4, LISP_AFI_IPV6 or LISP_AFI_MAC */
	uint8_t plen;			/* prefix length in bits */
	uint8_t plain;			/* 1: on the wire without an Instance-ID LCAF (iid 0) */
	uint8_t bytes[LISPMS_ADDR_MAX]; /* network order, bits past plen zero */
};

/* Address length in bytes for a plain AFI (4, 16, 6), 0 for anything else. */
static inline unsigned lisp_afi_len(uint16_t afi)
{
	switch (afi) {
	case LISP_AFI_IPV4:
		return 4;
	case LISP_AFI_IPV6:
		return 16;
	case LISP_AFI_MAC:
		return 6;
	default:
		return 0;
	}
}

/* Maximum prefix length in bits for a plain AFI (32, 128, 48), 0 otherwise. */
static inline unsigned lisp_afi_bits(uint16_t afi)
{
	return lisp_afi_len(afi) * 8;
}

/* Zero the bits past plen (plen is clamped to the family's maximum). */
void eid_prefix_normalize(struct eid_prefix *p);

/* Same instance, family, length and bits (the `plain` flag is ignored). */
bool eid_prefix_equal(const struct eid_prefix *a, const struct eid_prefix *b);

/* True when `outer` covers `inner` (same instance and family, shorter or equal). */
bool eid_prefix_covers(const struct eid_prefix *outer, const struct eid_prefix *inner);

/* Bit i (0 = most significant of the first byte) of the address. */
static inline unsigned eid_prefix_bit(const struct eid_prefix *p, unsigned i)
{
	return (p->bytes[i >> 3] >> (7 - (i & 7))) & 1u;
}

/*
 * Parse `[IID] prefix`, `[IID] address` (a host prefix) or the same without
 * `[IID]` (instance 0, marked plain). Spaces around the parts are allowed.
 */
int eid_prefix_parse(const char *text, struct eid_prefix *out);

/* Text form; `[0]` is printed only when the prefix is not plain. */
int eid_prefix_format(const struct eid_prefix *p, char *buf, size_t len);

/* Enough for "[4294967295] " + a full IPv6 prefix. */
#define LISPMS_EID_STRLEN 64

/* Parse an IPv4, IPv6 or MAC address (no prefix length). */
int lisp_addr_parse(const char *text, struct lisp_addr *out);

/* Text form of an address ("none" for LISP_AFI_NONE). */
int lisp_addr_format(const struct lisp_addr *a, char *buf, size_t len);

bool lisp_addr_equal(const struct lisp_addr *a, const struct lisp_addr *b);

/*
 * LISP addresses and socket addresses, the one conversion both ways
 * (IPv4 and IPv6 only). From a socket address: its address, the port left
 * out; any other family gives LISP_AFI_NONE. To one: the address with
 * `port`, and the length for bind()/sendto(); 0 (ss zeroed) when a is not
 * IPv4 or IPv6.
 */
void lisp_addr_from_sockaddr(const struct sockaddr_storage *ss, struct lisp_addr *out);
socklen_t lisp_addr_to_sockaddr(const struct lisp_addr *a, uint16_t port,
				struct sockaddr_storage *ss);
