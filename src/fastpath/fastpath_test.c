/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/fastpath.h>

#include "config.h"

Test(fastpath, availability_matches_build)
{
	cr_assert_eq(fastpath_available(), LISPMS_HAVE_DPDK == 1);
	if (LISPMS_HAVE_DPDK)
		cr_assert(strstr(fastpath_version(), "DPDK") != NULL, "version %s",
			  fastpath_version());
	else
		cr_assert_str_eq(fastpath_version(), "not built");
}
