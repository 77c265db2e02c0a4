/* SPDX-License-Identifier: MIT */
/* Addresses on the wire: every AFI, the IID LCAF, opaque LCAFs, and their errors. */
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "hex.h"

static uint8_t in[256], out[256];

static int decode(const char *hex, struct afi_addr *a, size_t *used)
{
	int n = hex_decode(hex, in, sizeof(in));
	cr_assert(n >= 0);
	struct wire w = wire_init_ro(in, (size_t)n);
	afi_decode(&w, a);
	*used = wire_offset(&w);
	return w.error;
}

/* Decodes, consumes everything and re-encodes to the same bytes. */
static struct afi_addr good(const char *hex)
{
	struct afi_addr a;
	size_t used;
	cr_assert_eq(decode(hex, &a, &used), LISPMS_EOK, "%s", hex);
	int n = hex_decode(hex, in, sizeof(in));
	cr_assert_eq(used, (size_t)n);
	struct wire w = wire_init(out, sizeof(out));
	afi_encode(&w, &a);
	cr_assert(wire_ok(&w));
	cr_assert_eq(wire_offset(&w), used);
	cr_assert_eq(afi_encoded_len(&a), used);
	cr_assert_arr_eq(out, in, used);
	return a;
}

static void bad(const char *hex, int want)
{
	struct afi_addr a, before;
	memset(&a, 0x5a, sizeof(a));
	before = a;
	size_t used;
	cr_assert_eq(decode(hex, &a, &used), want, "%s", hex);
	cr_assert_eq(memcmp(&a, &before, sizeof(a)), 0, "out-param written on failure");
}

Test(afi, plain_families)
{
	struct afi_addr a = good("0000");
	cr_assert_eq(a.kind, AFI_PLAIN);
	cr_assert_eq(a.afi, LISP_AFI_NONE);
	a = good("0001 c0000201");
	cr_assert_eq(a.afi, LISP_AFI_IPV4);
	a = good("0002 20010db8000000000000000000000001");
	cr_assert_eq(a.afi, LISP_AFI_IPV6);
	a = good("4005 001122334455");
	cr_assert_eq(a.afi, LISP_AFI_MAC);
	cr_assert_eq(afi_max_plen(&a), 48);
}

Test(afi, instance_id_lcaf)
{
	struct afi_addr a = good("4003 0000 0200 000a 000003e8 0001 0a010000");
	cr_assert_eq(a.kind, AFI_IID);
	cr_assert_eq(a.iid, 1000);
	cr_assert_eq(a.afi, LISP_AFI_IPV4);
	a = good("4003 0000 0200 0016 00000005 0002 20010db8000000000000000000000000");
	cr_assert_eq(a.afi, LISP_AFI_IPV6);
	a = good("4003 0000 0200 000c 00000005 4005 001122334455");
	cr_assert_eq(a.afi, LISP_AFI_MAC);
	struct eid_prefix p;
	char text[LISPMS_EID_STRLEN];
	cr_assert_eq(afi_to_eid(&a, 48, &p), LISPMS_EOK);
	eid_prefix_format(&p, text, sizeof(text));
	cr_assert_str_eq(text, "[5] 00:11:22:33:44:55/48");
	/* instance only (inner AFI 0), with an IID mask-len: a range of instances */
	a = good("4003 0000 0218 0006 00001000 0000");
	cr_assert_eq(a.afi, LISP_AFI_NONE);
	cr_assert_eq(a.iid_mlen, 0x18);
	cr_assert_eq(afi_to_eid(&a, 0, &p), LISPMS_EAFI);
	/* reserved octets are kept */
	a = good("4003 8001 0200 000a 00000001 0001 0a000000");
	cr_assert_eq(a.lcaf_rsvd1, 0x80);
	cr_assert_eq(a.lcaf_flags, 0x01);
}

Test(afi, other_lcafs_are_opaque)
{
	/* source/dest key (12), AFI list (1), an IID around a source/dest LCAF */
	struct afi_addr a = good("4003 0000 0c00 0010 0000 1810 0001 0a000000 0001 0b000000");
	cr_assert_eq(a.kind, AFI_OPAQUE);
	cr_assert_eq(a.opaque_len, 6 + 16);
	cr_assert_eq(a.opaque, in + 2);
	a = good("4003 0000 0100 0008 0001 0a000001 0000");
	cr_assert_eq(a.kind, AFI_OPAQUE);
	a = good("4003 0000 0200 001c 00000007 4003 0000 0c00 0010 0000 1810 0001 0a000000 0001 "
		 "0b000000");
	cr_assert_eq(a.kind, AFI_OPAQUE);
	cr_assert_eq(afi_max_plen(&a), 255);
	struct eid_prefix p;
	cr_assert_eq(afi_to_eid(&a, 8, &p), LISPMS_EAFI);
	a = good("4003 0000 ff00 0000");
	cr_assert_eq(a.opaque_len, 6);
}

Test(afi, errors)
{
	bad("", LISPMS_ETRUNC);
	bad("00", LISPMS_ETRUNC);
	bad("0001 c00002", LISPMS_ETRUNC);
	bad("0011 6162630000", LISPMS_EAFI);   /* distinguished name: not supported */
	bad("0006 001122334455", LISPMS_EAFI); /* IEEE 802 AFI 6 */
	bad("4003 0000 02", LISPMS_ETRUNC);    /* LCAF header cut */
	bad("4003 0000 0200 000b 000003e8 0001 0a010000", LISPMS_ELCAF);    /* past the end */
	bad("4003 0000 0200 000b 000003e8 0001 0a010000 00", LISPMS_ELCAF); /* IPv4 + junk */
	bad("4003 0000 0200 0009 000003e8 0001 0a0100", LISPMS_ELCAF);	    /* IPv4 cut */
	bad("4003 0000 0200 0005 000003e8 00", LISPMS_ELCAF);		    /* no inner AFI */
	bad("4003 0000 0200 0006 000003e8 0011", LISPMS_EAFI);		    /* unknown inner AFI */
	bad("4003 0000 0c00 0010 0000", LISPMS_ELCAF);
}

Test(afi, conversions)
{
	struct eid_prefix p;
	cr_assert_eq(eid_prefix_parse("240.0.0.0/4", &p), LISPMS_EOK);
	struct afi_addr a;
	afi_from_eid(&p, &a);
	cr_assert_eq(a.kind, AFI_PLAIN, "instance 0 arrived plain, stays plain (D16)");
	cr_assert_eq(eid_prefix_parse("[0] 240.0.0.0/4", &p), LISPMS_EOK);
	afi_from_eid(&p, &a);
	cr_assert_eq(a.kind, AFI_IID);
	cr_assert_eq(a.iid, 0);
	struct lisp_addr la, lb;
	cr_assert_eq(lisp_addr_parse("2001:db8::1", &la), LISPMS_EOK);
	afi_from_addr(&la, &a);
	cr_assert_eq(afi_to_addr(&a, &lb), LISPMS_EOK);
	cr_assert(lisp_addr_equal(&la, &lb));
	afi_from_eid(&p, &a);
	cr_assert_eq(afi_to_addr(&a, &lb), LISPMS_EAFI);
	cr_assert_eq(afi_to_eid(&a, 33, &p), LISPMS_EINVAL);
}

Test(afi, encode_refuses_bad_addresses)
{
	struct afi_addr a = { .kind = AFI_PLAIN, .afi = 17 };
	struct wire w = wire_init(out, sizeof(out));
	afi_encode(&w, &a);
	cr_assert_eq(w.error, LISPMS_EAFI);
	uint8_t lcaf[] = { 0, 0, 12, 0, 0, 5, 1, 2, 3 }; /* Length 5, 3 octets */
	a = (struct afi_addr){ .kind = AFI_OPAQUE, .afi = LISP_AFI_LCAF };
	a.opaque = lcaf;
	a.opaque_len = sizeof(lcaf);
	w = wire_init(out, sizeof(out));
	afi_encode(&w, &a);
	cr_assert_eq(w.error, LISPMS_EINVAL);
	a.kind = 7;
	cr_assert_eq(afi_encoded_len(&a), 0);
}
