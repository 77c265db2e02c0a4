/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/err.h>

Test(err, every_project_code_has_its_own_text)
{
	for (int c = LISPMS_ERROR_BASE; c >= LISPMS_ERROR_LAST; c--) {
		const char *s = err_str(c);
		cr_assert(s != NULL && strcmp(s, "unknown error") != 0, "code %d", c);
		for (int d = c - 1; d >= LISPMS_ERROR_LAST; d--)
			cr_assert_str_neq(s, err_str(d), "codes %d and %d share a text", c, d);
	}
}

Test(err, errno_codes_map_to_strerror)
{
	cr_assert_eq(LISPMS_ENOMEM, -ENOMEM);
	cr_assert_str_eq(err_str(LISPMS_ENOMEM), strerror(ENOMEM));
	cr_assert_str_eq(err_str(LISPMS_EOK), "ok");
	cr_assert_str_eq(err_str(LISPMS_EAUTH), "authentication failed");
	cr_assert_str_eq(err_str(-5000), "unknown error");
	cr_assert_str_eq(err_str(12), "unknown error");
}
