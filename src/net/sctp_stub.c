/* SPDX-License-Identifier: MIT */
/* Built without the sctp feature: SCTP cannot be asked for. */
#include <stdio.h>

#include <lispms/err.h>

#include "net_loop.h"

int net_sctp_init(struct net_worker *w, const struct net_worker_conf *conf, char *err,
		  size_t errlen)
{
	(void)w;
	(void)conf;
	if (err)
		snprintf(err, errlen, "SCTP is not built in (meson -Dsctp=enabled)");
	return LISPMS_ENOTSUP;
}
