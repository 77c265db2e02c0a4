/* SPDX-License-Identifier: MIT */
/* Built without the quic feature: QUIC cannot be asked for. */
#include <stdio.h>

#include <lispms/err.h>

#include "net_loop.h"

int net_quic_init(struct net_worker *w, const struct net_worker_conf *conf, char *err,
		  size_t errlen)
{
	(void)w;
	(void)conf;
	if (err)
		snprintf(err, errlen, "QUIC is not built in (meson -Dquic=enabled)");
	return LISPMS_ENOTSUP;
}

int net_quic_cred_load(struct tls_cred **out, const char *cert, const char *key,
		       const char *client_ca, char *err, size_t errlen)
{
	(void)out, (void)cert, (void)key, (void)client_ca;
	if (err)
		snprintf(err, errlen, "QUIC is not built in (meson -Dquic=enabled)");
	return LISPMS_ENOTSUP;
}

void net_quic_cred_free(struct tls_cred *c)
{
	(void)c;
}

void net_quic_secret(uint8_t *buf, size_t len)
{
	(void)buf, (void)len;
}
