/* SPDX-License-Identifier: MIT */
/* The QUIC event source: the worker's SO_REUSEPORT UDP sockets on the QUIC
 * port (one per address) and its quic_server (quic.h), which holds the
 * connections; their timers run from the loop's timer hook. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <netinet/in.h>
#include <sys/epoll.h>

#include <lispms/counters.h>
#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/rcu.h>

#include "net_loop.h"
#include "net_sock.h"
#include "quic.h"
#include "tls_cred.h"

struct quic_sock {
	struct net_ev ev;
	struct net_quic *q;
	int fd;
	uint32_t overflow; /* the kernel's drop count last seen (SO_RXQ_OVFL) */
	unsigned rcvbuf;   /* receive buffer the kernel granted, bytes */
};

struct net_quic {
	struct net_source src;
	struct quic_server *qs;
	struct quic_sock socks[NET_MAX_ADDRS];
	unsigned nsocks;
	/* a reload's credentials, under w->ctl_lock */
	const struct tls_cred *next_cred; /* a reference, until the worker takes it */
	bool next_cred_set;
};

static void quic_event(struct net_worker *w, struct net_ev *ev, uint32_t events)
{
	(void)w;
	(void)events;
	struct quic_sock *s = net_container_of(ev, struct quic_sock, ev);
	lrcu_read_lock();
	quic_server_read(s->q->qs, s->fd, &s->overflow, quic_now());
	lrcu_read_unlock();
}

static uint64_t quic_timer(struct net_worker *w, struct net_source *src, uint64_t now)
{
	(void)w;
	(void)now; /* the loop's clock may differ from ngtcp2's: use ours */
	struct net_quic *q = net_container_of(src, struct net_quic, src);
	uint64_t t = quic_now();
	if (quic_server_expiry(q->qs) <= t) {
		lrcu_read_lock();
		quic_server_tick(q->qs, t);
		lrcu_read_unlock();
	}
	uint64_t e = quic_server_expiry(q->qs);
	return e == UINT64_MAX ? UINT64_MAX : (e > t ? e - t : 0);
}

static void quic_round_end(struct net_worker *w, struct net_source *src)
{
	(void)w;
	struct net_quic *q = net_container_of(src, struct net_quic, src);
	lrcu_read_lock();
	quic_server_flush(q->qs, quic_now());
	lrcu_read_unlock();
}

static void quic_apply(struct net_worker *w, struct net_source *src,
		       const struct net_worker_limits *old)
{
	(void)old;
	struct net_quic *q = net_container_of(src, struct net_quic, src);
	pthread_mutex_lock(&w->ctl_lock);
	const struct tls_cred *cred = q->next_cred_set ? q->next_cred : NULL;
	q->next_cred = NULL;
	q->next_cred_set = false;
	pthread_mutex_unlock(&w->ctl_lock);
	if (cred != NULL) {
		quic_server_set_cred(q->qs, cred);
		tls_cred_free(cred); /* the server took its own */
	}
	quic_server_set_limits(q->qs, w->lim.output_limit,
			       w->lim.max_conns ? w->lim.max_conns : UINT32_MAX,
			       w->lim.keepalive_s * 1000u);
}

static void quic_stop(struct net_worker *w, struct net_source *src)
{
	(void)w;
	struct net_quic *q = net_container_of(src, struct net_quic, src);
	lrcu_read_lock();
	quic_server_stop(q->qs);
	lrcu_read_unlock();
}

static void quic_free(struct net_worker *w, struct net_source *src)
{
	struct net_quic *q = net_container_of(src, struct net_quic, src);
	for (unsigned i = 0; i < q->nsocks; i++) {
		close(q->socks[i].fd);
		counters_gauge_add(LISPMS_M_NET_QUIC_RCVBUF, -(int64_t)q->socks[i].rcvbuf);
	}
	quic_server_free(q->qs);
	if (q->next_cred_set)
		tls_cred_free(q->next_cred);
	if (w->quic == q)
		w->quic = NULL;
	free(q);
}

unsigned net_worker_quic_cred(struct net_worker *w, const struct tls_cred *cred)
{
	struct net_quic *q = w->quic;
	if (q == NULL)
		return atomic_load_explicit(&w->ctl_gen, memory_order_relaxed);
	pthread_mutex_lock(&w->ctl_lock);
	if (q->next_cred_set)
		tls_cred_free(q->next_cred);
	q->next_cred = tls_cred_ref(cred);
	q->next_cred_set = true;
	pthread_mutex_unlock(&w->ctl_lock);
	return net_loop_post(w);
}

static const struct net_source_ops quic_source_ops = {
	.name = "quic",
	.apply = quic_apply,
	.timer = quic_timer,
	.round_end = quic_round_end,
	.stop = quic_stop,
	.free = quic_free,
};

static int open_sock(const struct sockaddr_storage *addr, uint16_t port, unsigned rcvbuf,
		     unsigned *granted)
{
	int fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int on = 1;
	/* what the kernel granted is the gauge */
	*granted = net_sock_rcvbuf(fd, rcvbuf);
	/* the receive buffer's drops are counted (quic_server_read) */
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	/* and how long each datagram waited (stale Initials are dropped) */
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	/* on a wildcard address, each datagram's destination, which the
	 * answers leave from: else the kernel picks the source by route, and
	 * a client that sent to another of the host's addresses drops them */
	if (net_sock_wildcard(addr) && net_sock_pktinfo(fd, addr->ss_family) != 0) {
		int ret = -errno;
		close(fd);
		return ret;
	}
	return net_sock_share_bind(fd, addr, port);
}

int net_quic_init(struct net_worker *w, const struct net_worker_conf *conf, char *err,
		  size_t errlen)
{
	struct net_quic *q = calloc(1, sizeof(*q));
	if (q == NULL)
		return LISPMS_ENOMEM;
	q->src.ops = &quic_source_ops;
	struct quic_conf qc = {
		.cred = conf->quic_cred,
		.alpn = conf->quic_alpn,
		.idle_timeout_ms = conf->quic_idle_s * 1000u,
		.keepalive_ms = w->lim.keepalive_s * 1000u,
		.output_limit = w->lim.output_limit,
		.max_conns = w->lim.max_conns ? w->lim.max_conns : UINT32_MAX,
		.secret = conf->quic_secret,
		.secretlen = conf->quic_secretlen,
		.conn_count = &w->nconns,
	};
	q->qs = quic_server_new(&qc, conf->stream, conf->stream_arg);
	if (q->qs == NULL) {
		free(q);
		return LISPMS_ENOMEM;
	}
	net_loop_register(w, &q->src);
	w->quic = q;
	for (unsigned i = 0; i < w->naddrs; i++) {
		/* A handshake storm arrives here: room for some 7,000 Initials
		 * (1,200 bytes, ~2.3 KB each with the kernel's overhead) per
		 * socket, so a burst waits instead of being dropped; what waits
		 * too long is dropped cheaply on the way in (QUIC_INITIAL_MAX_AGE
		 * in quic_rx.c). Memory only while the queue is full. */
		unsigned granted = 0;
		int fd = open_sock(&w->addrs[i], conf->quic_port,
				   conf->rcvbuf ? conf->rcvbuf : QUIC_RCVBUF, &granted);
		if (fd < 0) {
			net_sock_error(err, errlen, "QUIC", &w->addrs[i], conf->quic_port, fd);
			return fd == -EADDRINUSE ? LISPMS_EADDRINUSE : fd;
		}
		q->socks[i] = (struct quic_sock){ { quic_event }, q, fd, 0, granted };
		counters_gauge_add(LISPMS_M_NET_QUIC_RCVBUF, (int64_t)granted);
		q->nsocks = i + 1;
		net_loop_add(w, fd, EPOLLIN, &q->socks[i].ev);
	}
	return LISPMS_EOK;
}

void net_quic_secret(uint8_t *buf, size_t len)
{
	if (gnutls_rnd(GNUTLS_RND_KEY, buf, len) < 0)
		abort(); /* no randomness: nothing safe to do */
}
