/* SPDX-License-Identifier: MIT */
/* Built instead of the DPDK files when meson did not find libdpdk. */
#include <stdio.h>

#include <lispms/err.h>
#include <lispms/fastpath.h>

bool fastpath_available(void)
{
	return false;
}

const char *fastpath_version(void)
{
	return "not built";
}

struct fastpath *fastpath_new(const struct conf_fastpath *c, uint16_t udp_port, char *err,
			      size_t errlen)
{
	(void)c, (void)udp_port;
	snprintf(err, errlen, "built without DPDK (%s)", err_str(LISPMS_ENOTSUP));
	return NULL;
}

int fastpath_start(struct fastpath *fp, dgram_batch_fn *handler, void *const *args)
{
	(void)fp, (void)handler, (void)args;
	return LISPMS_ENOTSUP;
}

unsigned fastpath_queues(const struct fastpath *fp)
{
	(void)fp;
	return 0;
}

void fastpath_stop(struct fastpath *fp)
{
	(void)fp;
}

void fastpath_free(struct fastpath *fp)
{
	(void)fp;
}
