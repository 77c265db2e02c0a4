/* SPDX-License-Identifier: MIT */
/* The SCTP event source: the worker's SO_REUSEPORT UDP sockets on the
 * encapsulation port (one per address) and its sctp_server (sctp.h); the
 * stack's timers run from the loop's timer hook. usrsctp is one stack per
 * process, so the daemon gives SCTP to one worker: every usrsctp call, timer
 * and handler call then runs on that worker's thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/epoll.h>

#include <lispms/counters.h>
#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/rcu.h>

#include "net_loop.h"
#include "net_sock.h"
#include "sctp.h"

/* A storm's packets (1,000 associations opening, or ending, at once, ten
 * or so packets each) wait here instead of being dropped: with the kernel's
 * overhead some 2.3 KB per full-sized packet on loopback, 4 MiB still
 * overflowed under load (35-274 drops in a 1,000 x 100 storm at load 10),
 * so QUIC's 16 MiB. Memory only while the queue is full. */
#define SCTP_RCVBUF (16u << 20)

struct sctp_sock {
	struct net_ev ev;
	struct net_sctp *n;
	int fd;
	uint32_t overflow; /* the kernel's drop count last seen (SO_RXQ_OVFL) */
	unsigned rcvbuf;   /* granted */
};

struct net_sctp {
	struct net_source src;
	struct sctp_server *s;
	struct sctp_sock socks[NET_MAX_ADDRS];
	unsigned nsocks;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sctp_event(struct net_worker *w, struct net_ev *ev, uint32_t events)
{
	(void)w;
	(void)events;
	struct sctp_sock *k = net_container_of(ev, struct sctp_sock, ev);
	lrcu_read_lock();
	sctp_server_read(k->n->s, k->fd, &k->overflow);
	lrcu_read_unlock();
}

static uint64_t sctp_timer(struct net_worker *w, struct net_source *src, uint64_t now)
{
	(void)w;
	(void)now;
	struct net_sctp *n = net_container_of(src, struct net_sctp, src);
	lrcu_read_lock();
	uint64_t next = sctp_stack_timers(mono_ns());
	sctp_server_process(n->s);
	lrcu_read_unlock();
	return next;
}

static void sctp_round_end(struct net_worker *w, struct net_source *src)
{
	(void)w;
	struct net_sctp *n = net_container_of(src, struct net_sctp, src);
	lrcu_read_lock();
	sctp_server_process(n->s); /* output written during the round */
	lrcu_read_unlock();
}

static void sctp_apply(struct net_worker *w, struct net_source *src,
		       const struct net_worker_limits *old)
{
	(void)old;
	struct net_sctp *n = net_container_of(src, struct net_sctp, src);
	sctp_server_set_limits(n->s, w->lim.output_limit,
			       w->lim.max_conns ? w->lim.max_conns : UINT32_MAX,
			       w->lim.keepalive_s * 1000u);
}

static void sctp_stop(struct net_worker *w, struct net_source *src)
{
	(void)w;
	struct net_sctp *n = net_container_of(src, struct net_sctp, src);
	lrcu_read_lock();
	sctp_server_stop(n->s);
	lrcu_read_unlock();
}

static void sctp_free_src(struct net_worker *w, struct net_source *src)
{
	(void)w;
	struct net_sctp *n = net_container_of(src, struct net_sctp, src);
	for (unsigned i = 0; i < n->nsocks; i++) {
		counters_gauge_add(LISPMS_M_NET_SCTP_RCVBUF, -(int64_t)n->socks[i].rcvbuf);
		close(n->socks[i].fd);
	}
	sctp_server_free(n->s);
	free(n);
}

static const struct net_source_ops sctp_source_ops = {
	.name = "sctp",
	.apply = sctp_apply,
	.timer = sctp_timer,
	.round_end = sctp_round_end,
	.stop = sctp_stop,
	.free = sctp_free_src,
};

static int open_sock(const struct sockaddr_storage *addr, uint16_t port, unsigned rcvbuf,
		     unsigned *granted)
{
	int fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int on = 1;
	*granted = net_sock_rcvbuf(fd, rcvbuf);
	/* the receive buffer's drops are counted (sctp_server_read) */
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	/* on a wildcard address, answer from the address each peer asked */
	int ret = net_sock_wildcard(addr) ? net_sock_pktinfo(fd, addr->ss_family) : 0;
	if (ret != 0) {
		close(fd);
		return ret;
	}
	return net_sock_share_bind(fd, addr, port);
}

int net_sctp_init(struct net_worker *w, const struct net_worker_conf *conf, char *err,
		  size_t errlen)
{
	struct net_sctp *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return LISPMS_ENOMEM;
	n->src.ops = &sctp_source_ops;
	struct sctp_conf sc = {
		.port = conf->sctp_port ? conf->sctp_port : 4342,
		.output_limit = w->lim.output_limit,
		.max_conns = w->lim.max_conns ? w->lim.max_conns : UINT32_MAX,
		.keepalive_ms = w->lim.keepalive_s * 1000u,
		.user_timeout_ms = w->lim.user_timeout_s * 1000u,
		.conn_count = &w->nconns,
	};
	n->s = sctp_server_new(&sc, conf->stream, conf->stream_arg, err, errlen);
	if (n->s == NULL) {
		free(n);
		return LISPMS_EINVAL;
	}
	net_loop_register(w, &n->src);
	for (unsigned i = 0; i < w->naddrs; i++) {
		unsigned granted = 0;
		int fd = open_sock(&w->addrs[i], conf->sctp_udp_port,
				   conf->rcvbuf ? conf->rcvbuf : SCTP_RCVBUF, &granted);
		if (fd < 0) {
			net_sock_error(err, errlen, "SCTP over UDP", &w->addrs[i],
				       conf->sctp_udp_port, fd);
			return fd == -EADDRINUSE ? LISPMS_EADDRINUSE : fd;
		}
		n->socks[i] = (struct sctp_sock){ { sctp_event }, n, fd, 0, granted };
		counters_gauge_add(LISPMS_M_NET_SCTP_RCVBUF, (int64_t)granted);
		n->nsocks = i + 1;
		net_loop_add(w, fd, EPOLLIN, &n->socks[i].ev);
	}
	return LISPMS_EOK;
}
