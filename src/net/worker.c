/* SPDX-License-Identifier: MIT */
/* A worker put together: the loop (loop.c) and its event sources (udp.c,
 * tcp.c, quic_src.c, sctp_src.c), each added by its init call; the loop
 * runs the tick through the UDP source it is handed here. On top of them
 * all: no source and not the loop calls back into this file. */
#include <stdio.h>

#include <lispms/err.h>

#include "net_loop.h"

struct net_worker *net_worker_new(const struct net_worker_conf *conf, char *err, size_t errlen)
{
	struct net_worker *w = net_loop_new(conf, err, errlen);
	if (w == NULL)
		return NULL;
	if (net_udp_init(w, conf, err, errlen) != LISPMS_EOK)
		goto out_free;
	w->run_tick = net_udp_tick;
	if (conf->stream != NULL && net_tcp_init(w, conf, err, errlen) != LISPMS_EOK)
		goto out_free;
	if (conf->stream != NULL && (LISPMS_NET_TLS || conf->tls_port != 0) &&
	    net_tls_init(w, conf, err, errlen) != LISPMS_EOK)
		goto out_free;
	if (conf->stream != NULL && conf->quic_port != 0 &&
	    net_quic_init(w, conf, err, errlen) != LISPMS_EOK)
		goto out_free;
	if (conf->stream != NULL && conf->sctp_udp_port != 0 &&
	    net_sctp_init(w, conf, err, errlen) != LISPMS_EOK)
		goto out_free;
	return w;

out_free:
	net_worker_free(w);
	return NULL;
}
