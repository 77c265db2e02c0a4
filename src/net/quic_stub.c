/* SPDX-License-Identifier: MIT */
/* Built without the quic feature: QUIC cannot be asked for (nor TLS
 * credentials, without GnuTLS at all). */
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

#if !LISPMS_NET_GNUTLS /* else tls_cred.c has them */
int net_tls_cred_load(struct tls_cred **out, const char *cert, const char *key,
		      const char *client_ca, char *err, size_t errlen)
{
	(void)out, (void)cert, (void)key, (void)client_ca;
	if (err)
		snprintf(err, errlen, "TLS is not built in (meson -Dtls=enabled)");
	return LISPMS_ENOTSUP;
}

void net_tls_cred_free(const struct tls_cred *c)
{
	(void)c;
}
#endif

unsigned net_worker_quic_cred(struct net_worker *w, const struct tls_cred *cred)
{
	(void)cred;
	return atomic_load_explicit(&w->ctl_gen, memory_order_relaxed);
}

void net_quic_secret(uint8_t *buf, size_t len)
{
	(void)buf, (void)len;
}
