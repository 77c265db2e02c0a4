/* SPDX-License-Identifier: MIT */
/*
 * The EIDs of a simulated fabric, numbered so the ETR simulator, the ITRs and
 * the benchmark configurations agree without talking: ETR e (0..etrs-1) owns
 * EIDs n = e*per .. e*per+per-1, host prefixes in instance iid + e % iids:
 *
 *   family   registered (n)        configured, unregistered   unknown
 *   ipv4     10.0.0.0 + n          10.128.0.0 + n             100.64.0.0 + n
 *   ipv6     2001:db8::n           2001:db8:1::n              3fff::n
 *   mac      02:00:00:00:00:00 + n 02:00:00:80:00:00 + n      0a:00:00:00:00:00 + n
 *
 * so a site configured with 10.0.0.0/8, 2001:db8::/32 and 02:00:00:00:00:00/24
 * in each instance covers the first two columns. At most LAYOUT_MAX_EIDS.
 */
#pragma once

#include <stdint.h>

#include <lispms/addr.h>

#define LAYOUT_MAX_EIDS (1u << 23)

enum layout_kind { LAYOUT_REGISTERED, LAYOUT_UNREGISTERED, LAYOUT_UNKNOWN };

struct layout {
	uint16_t afi;  /* LISP_AFI_IPV4, _IPV6 or _MAC */
	uint32_t iid;  /* first instance */
	unsigned iids; /* instances used (>= 1) */
	unsigned per;  /* EIDs per ETR (>= 1) */
};

/* EID number n of a kind (n is taken modulo LAYOUT_MAX_EIDS). */
void layout_eid(const struct layout *l, enum layout_kind kind, uint64_t n, struct eid_prefix *out);

/* The number n of a registered EID; LISPMS_EINVAL if p is not one of them. */
int layout_index(const struct layout *l, const struct eid_prefix *p, uint64_t *n);
