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

Test(dgram, outbox_put_sets_every_field)
{
	struct arena ar;
	cr_assert_eq(arena_init(&ar, 256), LISPMS_EOK);
	struct dgram_out msgs[3];
	memset(msgs, 0xa5, sizeof(msgs)); /* what a previous batch left */
	struct dgram_outbox out = { .msgs = msgs, .cap = 3, .arena = &ar };
	struct sockaddr_storage d4, s4, s6, zero;
	memset(&zero, 0, sizeof(zero));
	cr_assert_eq(saddr_parse("192.0.2.1", &d4), LISPMS_EOK);
	cr_assert_eq(saddr_parse("198.51.100.2", &s4), LISPMS_EOK);
	cr_assert_eq(saddr_parse("2001:db8::1", &s6), LISPMS_EOK);
	struct dgram_out *a = dgram_outbox_put(&out, 10, &d4, &s4);
	struct dgram_out *b = dgram_outbox_put(&out, 10, &d4, &s6); /* another family */
	struct dgram_out *c = dgram_outbox_put(&out, 10, &d4, NULL);
	cr_assert(a != NULL && b != NULL && c != NULL);
	cr_assert_eq(a->len, 10);
	cr_assert_eq(memcmp(&a->dst, &d4, sizeof(d4)), 0);
	cr_assert_eq(memcmp(&a->src, &s4, sizeof(s4)), 0);
	cr_assert_eq(memcmp(&b->src, &zero, sizeof(zero)), 0, "src of another family: none");
	cr_assert_eq(memcmp(&c->src, &zero, sizeof(zero)), 0);
	cr_assert_null(dgram_outbox_put(&out, 1, &d4, &s4), "no slot left");
	cr_assert_eq(out.dropped, 1);
	arena_deinit(&ar);
}
