/* SPDX-License-Identifier: MIT */
/* DPDK build of the fast path: the only files that include rte_*.h. */
#include <rte_version.h>

#include <lispms/fastpath.h>

bool fastpath_available(void)
{
	return true;
}

const char *fastpath_version(void)
{
	return rte_version();
}
