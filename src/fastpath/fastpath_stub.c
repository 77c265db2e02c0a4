/* SPDX-License-Identifier: MIT */
/* Built instead of the DPDK files when meson did not find libdpdk. */
#include <lispms/fastpath.h>

bool fastpath_available(void)
{
	return false;
}

const char *fastpath_version(void)
{
	return "not built";
}
