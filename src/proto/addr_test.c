/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <criterion/criterion.h>

#include <lispms/addr.h>
#include <lispms/err.h>

static void roundtrip(const char *in, const char *want)
{
	struct eid_prefix p;
	char out[LISPMS_EID_STRLEN];
	cr_assert_eq(eid_prefix_parse(in, &p), LISPMS_EOK, "parse '%s'", in);
	cr_assert_eq(eid_prefix_format(&p, out, sizeof(out)), LISPMS_EOK);
	cr_assert_str_eq(out, want, "'%s' printed as '%s'", in, out);
}

Test(addr, text_form_round_trips)
{
	roundtrip("[1000] 10.1.0.0/16", "[1000] 10.1.0.0/16");
	roundtrip("[1000] 2001:db8::/32", "[1000] 2001:db8::/32");
	roundtrip("[5] 00:11:22:33:44:55/48", "[5] 00:11:22:33:44:55/48");
	roundtrip("[5] 00:11:22:00:00:00/24", "[5] 00:11:22:00:00:00/24");
	roundtrip("240.0.0.0/4", "240.0.0.0/4");
	roundtrip("[0] 240.0.0.0/4", "[0] 240.0.0.0/4");
	roundtrip("  [ 7 ]10.0.0.1 ", "[7] 10.0.0.1/32");
	roundtrip("[4294967295] ::/0", "[4294967295] ::/0");
	roundtrip("[1] 10.1.2.3/16", "[1] 10.1.0.0/16"); /* host bits cleared */
}

Test(addr, bad_text_is_rejected)
{
	const char *bad[] = { "",
			      "[1000]",
			      "[1000 10.0.0.0/8",
			      "[-1] 10.0.0.0/8",
			      "[4294967296] 10.0.0.0/8",
			      "[x] 10.0.0.0/8",
			      "10.0.0.0/33",
			      "2001:db8::/129",
			      "00:11:22:33:44:55/49",
			      "10.0.0.0/",
			      "10.0.0.0/8 junk",
			      "10.0.0.256/8",
			      "0:11:22:33:44:55",
			      "00:11:22:33:44:5g",
			      "10.0.0.0/0008",
			      "hello" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct eid_prefix p = { .iid = 77 };
		cr_assert_eq(eid_prefix_parse(bad[i], &p), LISPMS_EINVAL, "'%s'", bad[i]);
		cr_assert_eq(p.iid, 77, "out-param written on failure for '%s'", bad[i]);
	}
}

Test(addr, covers_and_equal)
{
	struct eid_prefix a, b, c, d;
	eid_prefix_parse("[1] 10.0.0.0/8", &a);
	eid_prefix_parse("[1] 10.1.0.0/16", &b);
	eid_prefix_parse("[2] 10.1.0.0/16", &c);
	eid_prefix_parse("[1] 11.0.0.0/16", &d);
	cr_assert(eid_prefix_covers(&a, &b));
	cr_assert(!eid_prefix_covers(&b, &a));
	cr_assert(!eid_prefix_covers(&a, &c), "different instance");
	cr_assert(!eid_prefix_covers(&a, &d));
	cr_assert(eid_prefix_covers(&a, &a));
	struct eid_prefix e = b;
	e.plain = 1;
	cr_assert(eid_prefix_equal(&b, &e), "plain does not change identity");
	cr_assert(!eid_prefix_equal(&b, &c));
	cr_assert_eq(eid_prefix_bit(&b, 4), 1); /* 10 = 0000 1010 */
	cr_assert_eq(eid_prefix_bit(&b, 5), 0);
	cr_assert_eq(eid_prefix_bit(&b, 15), 1);
}

Test(addr, addresses_and_buffer_limits)
{
	struct lisp_addr a;
	char buf[8];
	cr_assert_eq(lisp_addr_parse("192.0.2.1", &a), LISPMS_EOK);
	cr_assert_eq(a.afi, LISP_AFI_IPV4);
	cr_assert_eq(lisp_addr_format(&a, buf, sizeof(buf)), LISPMS_ENOSPC);
	cr_assert_eq(lisp_addr_parse("2001:db8::1", &a), LISPMS_EOK);
	cr_assert_eq(a.afi, LISP_AFI_IPV6);
	cr_assert_eq(lisp_afi_len(LISP_AFI_MAC), 6);
	cr_assert_eq(lisp_afi_bits(LISP_AFI_LCAF), 0);
	struct eid_prefix p;
	eid_prefix_parse("[1000] 2001:db8::/32", &p);
	char small[10];
	cr_assert_eq(eid_prefix_format(&p, small, sizeof(small)), LISPMS_ENOSPC);
}

Test(addr, socket_addresses_convert_both_ways)
{
	const char *in[] = { "192.0.2.7", "2001:db8::9" };
	for (int i = 0; i < 2; i++) {
		struct lisp_addr a, back;
		cr_assert_eq(lisp_addr_parse(in[i], &a), LISPMS_EOK);
		struct sockaddr_storage ss;
		socklen_t len = lisp_addr_to_sockaddr(&a, 4342, &ss);
		cr_assert_eq(len,
			     i == 0 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		cr_assert_eq(ss.ss_family, i == 0 ? AF_INET : AF_INET6);
		uint16_t port = i == 0 ? ((struct sockaddr_in *)&ss)->sin_port
				       : ((struct sockaddr_in6 *)&ss)->sin6_port;
		cr_assert_eq(ntohs(port), 4342);
		lisp_addr_from_sockaddr(&ss, &back);
		cr_assert(lisp_addr_equal(&a, &back), "%s comes back", in[i]);
	}
	/* a MAC has no socket address; a family other than IPv4/IPv6 no LISP one */
	struct lisp_addr mac, none;
	cr_assert_eq(lisp_addr_parse("00:11:22:33:44:55", &mac), LISPMS_EOK);
	struct sockaddr_storage ss;
	memset(&ss, 0xff, sizeof(ss));
	cr_assert_eq(lisp_addr_to_sockaddr(&mac, 4342, &ss), 0);
	cr_assert_eq(ss.ss_family, 0, "left zeroed");
	ss.ss_family = AF_UNIX;
	lisp_addr_from_sockaddr(&ss, &none);
	cr_assert_eq(none.afi, LISP_AFI_NONE);
}
