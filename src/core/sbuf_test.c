/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/sbuf.h>

Test(sbuf, grows_formats_and_consumes)
{
	struct sbuf b;
	sbuf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		sbuf_printf(&b, "%d,", i);
	sbuf_puts(&b, "end");
	cr_assert(!sbuf_failed(&b));
	cr_assert(strncmp(b.data, "0,1,2,", 6) == 0);
	cr_assert_str_eq(b.data + b.len - 4, ",end");
	size_t before = b.len;
	sbuf_consume(&b, 2);
	cr_assert_eq(b.len, before - 2);
	cr_assert(strncmp(b.data, "1,2,", 4) == 0);
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sbuf_reset(&b);
	sbuf_printf(&b, "[%s]", big); /* longer than the formatting fast path */
	cr_assert_eq(b.len, sizeof(big) + 1);
	cr_assert_eq(b.data[b.len - 1], ']');
	size_t n;
	char *t = sbuf_take(&b, &n);
	cr_assert_eq(n, sizeof(big) + 1);
	cr_assert_eq(b.len, 0);
	free(t);
	sbuf_free(&b);
}

Test(sbuf, the_limit_is_sticky)
{
	struct sbuf b;
	sbuf_init(&b, 16);
	sbuf_puts(&b, "0123456789");
	cr_assert(!sbuf_failed(&b));
	sbuf_puts(&b, "0123456789");
	cr_assert(sbuf_failed(&b));
	cr_assert_eq(b.len, 10, "nothing of the refused append");
	sbuf_puts(&b, "x");
	cr_assert(sbuf_failed(&b));
	cr_assert_eq(b.len, 10);
	sbuf_reset(&b);
	cr_assert(!sbuf_failed(&b));
	sbuf_free(&b);
}
