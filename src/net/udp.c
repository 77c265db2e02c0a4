/* SPDX-License-Identifier: MIT */
/* The UDP event source: one SO_REUSEPORT socket per listen address on each
 * worker, recvmmsg batches to the dgram handler, its outbox (and the tick's)
 * out with sendmmsg from the address each request arrived on (D12). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <lispms/counters.h>
#include <lispms/err.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "net_loop.h"
#include "net_sock.h"

#define NET_TX_CAP	 (2 * LISPMS_NET_BATCH)
#define NET_CTL_SIZE	 64
#define NET_DRAIN_ROUNDS 16 /* batches per socket before looking at the others */

struct udp_sock {
	struct net_ev ev; /* first */
	struct net_udp *u;
	unsigned index;
};

struct net_udp {
	struct net_source src;
	struct net_worker *w;
	int fds[NET_MAX_ADDRS];
	struct udp_sock socks[NET_MAX_ADDRS];
	unsigned nfds;
	dgram_batch_fn *handler;
	void *arg;

	uint8_t *rxbuf;
	struct mmsghdr rx_msgs[LISPMS_NET_BATCH];
	struct iovec rx_iov[LISPMS_NET_BATCH];
	union {
		char buf[NET_CTL_SIZE];
		struct cmsghdr align;
	} rx_ctl[LISPMS_NET_BATCH];
	struct dgram rx[LISPMS_NET_BATCH];

	struct dgram_out tx[NET_TX_CAP];
	struct mmsghdr tx_msgs[NET_TX_CAP];
	struct iovec tx_iov[NET_TX_CAP];
	union {
		char buf[NET_CTL_SIZE];
		struct cmsghdr align;
	} tx_ctl[NET_TX_CAP];
};

static int open_socket(const struct sockaddr_storage *addr, uint16_t port, bool reuseport,
		       unsigned rcvbuf)
{
	int fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int ret = net_sock_share(fd, addr->ss_family, reuseport);
	if (ret == 0)
		ret = net_sock_pktinfo(fd, addr->ss_family);
	if (ret != 0)
		goto out;
	if (rcvbuf > 0)
		(void)net_sock_rcvbuf(fd, rcvbuf);
	ret = net_sock_bind(fd, addr, port);
	if (ret == 0)
		return fd;
out:
	close(fd);
	return ret;
}

int net_udp_port_free(const struct sockaddr_storage *addr, uint16_t port)
{
	int fd = open_socket(addr, port, false, 0);
	if (fd < 0)
		return fd;
	close(fd);
	return LISPMS_EOK;
}

static int socket_for(struct net_udp *u, int family, unsigned prefer)
{
	const struct net_worker *w = u->w;
	if (prefer < u->nfds && w->addrs[prefer].ss_family == family)
		return u->fds[prefer];
	for (unsigned i = 0; i < u->nfds; i++)
		if (w->addrs[i].ss_family == family)
			return u->fds[i];
	return -1;
}

/* Send the outbox, grouping consecutive messages that use the same socket. */
static void send_outbox(struct net_udp *u, struct dgram_outbox *out, unsigned rx_index)
{
	unsigned i = 0;
	while (i < out->n) {
		int fd = socket_for(u, out->msgs[i].dst.ss_family, rx_index);
		unsigned k = 0;
		while (i + k < out->n &&
		       socket_for(u, out->msgs[i + k].dst.ss_family, rx_index) == fd)
			k++;
		if (fd < 0) {
			counters_add(LISPMS_M_NET_UDP_DROP_NO_SOCKET, k);
			i += k;
			continue;
		}
		for (unsigned j = 0; j < k; j++) {
			struct dgram_out *tx = &out->msgs[i + j];
			struct mmsghdr *m = &u->tx_msgs[j];
			memset(m, 0, sizeof(*m));
			u->tx_iov[j].iov_base = (void *)tx->data;
			u->tx_iov[j].iov_len = tx->len;
			m->msg_hdr.msg_iov = &u->tx_iov[j];
			m->msg_hdr.msg_iovlen = 1;
			m->msg_hdr.msg_name = &tx->dst;
			m->msg_hdr.msg_namelen = saddr_len(&tx->dst);
			net_sock_source(&m->msg_hdr, u->tx_ctl[j].buf, &tx->src, &tx->dst);
		}
		unsigned sent = 0;
		while (sent < k) {
			int r = sendmmsg(fd, u->tx_msgs + sent, k - sent, MSG_DONTWAIT);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				/* skip the one that failed (bad address, no route, full) */
				counters_inc(LISPMS_M_NET_UDP_SEND_ERRORS);
				sent++;
				continue;
			}
			for (int j = 0; j < r; j++)
				counters_add(LISPMS_M_NET_UDP_TX_BYTES,
					     u->tx_iov[sent + j].iov_len);
			counters_add(LISPMS_M_NET_UDP_TX_PACKETS, (uint64_t)r);
			sent += (unsigned)r;
		}
		i += k;
	}
}

static void drain(struct net_udp *u, unsigned idx)
{
	struct net_worker *w = u->w;
	int fd = u->fds[idx];
	struct arena *arena = thread_arena();
	for (int round = 0; round < NET_DRAIN_ROUNDS; round++) {
		for (unsigned i = 0; i < LISPMS_NET_BATCH; i++) {
			struct msghdr *mh = &u->rx_msgs[i].msg_hdr;
			mh->msg_name = &u->rx[i].src;
			mh->msg_namelen = sizeof(u->rx[i].src);
			mh->msg_iov = &u->rx_iov[i];
			mh->msg_iovlen = 1;
			mh->msg_control = u->rx_ctl[i].buf;
			mh->msg_controllen = sizeof(u->rx_ctl[i].buf);
			mh->msg_flags = 0;
		}
		int r = recvmmsg(fd, u->rx_msgs, LISPMS_NET_BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			return;
		unsigned n = 0;
		for (int i = 0; i < r; i++) {
			struct msghdr *mh = &u->rx_msgs[i].msg_hdr;
			size_t len = u->rx_msgs[i].msg_len;
			counters_add(LISPMS_M_NET_UDP_RX_BYTES, len);
			if ((mh->msg_flags & MSG_TRUNC) || len > LISPMS_DGRAM_MAX) {
				counters_inc(LISPMS_M_NET_UDP_DROP_OVERSIZE);
				continue;
			}
			struct dgram *rx = &u->rx[n];
			if (n != (unsigned)i)
				rx->src = u->rx[i].src;
			rx->data = u->rx_iov[i].iov_base;
			rx->len = len;
			net_sock_local(mh, &w->addrs[idx], &rx->local);
			n++;
		}
		counters_add(LISPMS_M_NET_UDP_RX_PACKETS, (uint64_t)r);

		arena_reset(arena);
		struct dgram_outbox out = { .msgs = u->tx, .cap = NET_TX_CAP, .arena = arena };
		lrcu_read_lock();
		if (n > 0)
			u->handler(u->arg, u->rx, n, &out);
		lrcu_read_unlock();
		if (out.dropped)
			counters_add(LISPMS_M_NET_UDP_DROP_OUTBOX, out.dropped);
		send_outbox(u, &out, idx);
		if (r < LISPMS_NET_BATCH)
			return;
	}
}

static void udp_event(struct net_worker *w, struct net_ev *ev, uint32_t events)
{
	(void)w;
	(void)events;
	struct udp_sock *s = net_container_of(ev, struct udp_sock, ev);
	drain(s->u, s->index);
}

uint64_t net_udp_tick(struct net_worker *w, uint64_t now)
{
	struct net_udp *u = w->udp;
	struct arena *arena = thread_arena();
	arena_reset(arena);
	struct dgram_outbox out = { .msgs = u->tx, .cap = NET_TX_CAP, .arena = arena };
	lrcu_read_lock();
	uint64_t wait = w->tick(w->tick_arg, now, &out);
	lrcu_read_unlock();
	if (out.dropped)
		counters_add(LISPMS_M_NET_UDP_DROP_OUTBOX, out.dropped);
	send_outbox(u, &out, 0);
	return wait;
}

static void udp_free(struct net_worker *w, struct net_source *src)
{
	struct net_udp *u = net_container_of(src, struct net_udp, src);
	for (unsigned i = 0; i < u->nfds; i++)
		close(u->fds[i]);
	free(u->rxbuf);
	free(u);
	w->udp = NULL;
}

static const struct net_source_ops udp_ops = {
	.name = "udp",
	.free = udp_free,
};

int net_udp_init(struct net_worker *w, const struct net_worker_conf *conf, char *err, size_t errlen)
{
	struct net_udp *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return LISPMS_ENOMEM;
	u->src.ops = &udp_ops;
	u->w = w;
	u->handler = conf->handler;
	u->arg = conf->arg;
	w->udp = u;
	net_loop_register(w, &u->src);
	u->rxbuf = malloc((size_t)LISPMS_NET_BATCH * (LISPMS_DGRAM_MAX + 1));
	if (u->rxbuf == NULL) {
		if (err)
			snprintf(err, errlen, "cannot allocate worker resources (%s)",
				 err_str(LISPMS_ENOMEM));
		return LISPMS_ENOMEM;
	}
	for (unsigned i = 0; i < LISPMS_NET_BATCH; i++) {
		u->rx_iov[i].iov_base = u->rxbuf + (size_t)i * (LISPMS_DGRAM_MAX + 1);
		u->rx_iov[i].iov_len = LISPMS_DGRAM_MAX + 1;
	}
	for (unsigned i = 0; i < w->naddrs; i++) {
		int fd = open_socket(&w->addrs[i], w->port, true,
				     conf->rcvbuf ? conf->rcvbuf : 4u << 20);
		if (fd < 0) {
			char abuf[64];
			saddr_format(&w->addrs[i], abuf, sizeof(abuf));
			if (err)
				snprintf(err, errlen, "cannot bind udp %s (%s)", abuf, err_str(fd));
			return fd;
		}
		u->fds[u->nfds++] = fd;
		u->socks[i] = (struct udp_sock){ { udp_event }, u, i };
		net_loop_add(w, fd, EPOLLIN, &u->socks[i].ev);
	}
	return LISPMS_EOK;
}
