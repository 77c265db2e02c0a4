/* SPDX-License-Identifier: MIT */
#include <netinet/in.h>

#include <criterion/criterion.h>

#include <lispms/dgram.h>
#include <lispms/err.h>

Test(saddr, parse_format_ports_compare)
{
	struct sockaddr_storage a;
	char buf[64];
	cr_assert_eq(saddr_parse("::1", &a), LISPMS_EOK);
	saddr_set_port(&a, 4342);
	cr_assert_eq(saddr_port(&a), 4342);
	saddr_format(&a, buf, sizeof(buf));
	cr_assert_str_eq(buf, "[::1]:4342");
	cr_assert_eq(saddr_parse("10.0.0.300", &a), LISPMS_EINVAL);
	cr_assert_eq(saddr_parse("0.0.0.0", &a), LISPMS_EOK);
	cr_assert_eq(saddr_len(&a), sizeof(struct sockaddr_in));
	struct sockaddr_storage b = a, c;
	cr_assert_eq(saddr_cmp(&a, &b), 0);
	saddr_set_port(&b, 1);
	cr_assert_lt(saddr_cmp(&a, &b), 0);
	saddr_parse("::", &c);
	cr_assert_neq(saddr_cmp(&a, &c), 0, "families differ");
	struct sockaddr_storage none = { 0 };
	saddr_format(&none, buf, sizeof(buf));
	cr_assert_str_eq(buf, "none");
}

Test(dgram, outbox_slots_come_from_the_arena_until_full)
{
	struct arena ar;
	cr_assert_eq(arena_init(&ar, 64), LISPMS_EOK);
	struct dgram_out msgs[2];
	struct dgram_outbox out = { .msgs = msgs, .cap = 2, .arena = &ar };
	struct dgram_out *a = dgram_outbox_add(&out, 40);
	cr_assert_not_null(a);
	cr_assert_eq(a->len, 40);
	cr_assert_null(dgram_outbox_add(&out, 40), "arena has only 16 bytes left");
	cr_assert_not_null(dgram_outbox_add(&out, 16));
	cr_assert_null(dgram_outbox_add(&out, 1), "no slot left");
	cr_assert_eq(out.n, 2);
	cr_assert_eq(out.dropped, 2);
	arena_deinit(&ar);
}
