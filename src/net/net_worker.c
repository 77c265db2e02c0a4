/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <lispms/counters.h>
#include <lispms/err.h>
#include <lispms/log.h>
#include <lispms/mtime.h>
#include <lispms/net.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#define NET_MAX_ADDRS	 16
#define NET_TX_CAP	 (2 * LISPMS_NET_BATCH)
#define NET_CTL_SIZE	 64
#define NET_DRAIN_ROUNDS 16 /* batches per socket before looking at the others */

struct net_worker {
	struct sockaddr_storage addrs[NET_MAX_ADDRS];
	int fds[NET_MAX_ADDRS];
	unsigned nfds;
	uint16_t port;
	int cpu;
	dgram_batch_fn *handler;
	void *arg;
	net_tick_fn *tick;
	void *tick_arg;
	int epfd;
	int wakefd;
	_Atomic bool stop;
	struct thread *thread;

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
	int on = 1;
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0)
		goto out_errno;
	if (addr->ss_family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) != 0)
			goto out_errno;
	} else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) != 0) {
		goto out_errno;
	}
	if (rcvbuf > 0) {
		int size = (int)rcvbuf;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	struct sockaddr_storage a = *addr;
	saddr_set_port(&a, port);
	if (bind(fd, (struct sockaddr *)&a, saddr_len(&a)) != 0)
		goto out_errno;
	return fd;

out_errno:;
	int ret = -errno;
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

struct net_worker *net_worker_new(const struct net_worker_conf *conf, char *err, size_t errlen)
{
	char abuf[64];
	if (conf->naddrs == 0 || conf->naddrs > NET_MAX_ADDRS) {
		if (err)
			snprintf(err, errlen, "need 1 to %d listen addresses", NET_MAX_ADDRS);
		return NULL;
	}
	struct net_worker *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->epfd = w->wakefd = -1;
	w->port = conf->port;
	w->cpu = conf->cpu;
	w->handler = conf->handler;
	w->arg = conf->arg;
	w->tick = conf->tick;
	w->tick_arg = conf->tick_arg;
	w->rxbuf = malloc((size_t)LISPMS_NET_BATCH * (LISPMS_DGRAM_MAX + 1));
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->rxbuf == NULL || w->epfd < 0 || w->wakefd < 0) {
		if (err)
			snprintf(err, errlen, "cannot allocate worker resources (%s)",
				 err_str(-errno));
		goto out_free;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
	epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev);

	for (unsigned i = 0; i < conf->naddrs; i++) {
		w->addrs[i] = conf->addrs[i];
		saddr_set_port(&w->addrs[i], conf->port);
		int fd = open_socket(&w->addrs[i], conf->port, true,
				     conf->rcvbuf ? conf->rcvbuf : 4u << 20);
		if (fd < 0) {
			saddr_format(&w->addrs[i], abuf, sizeof(abuf));
			if (err)
				snprintf(err, errlen, "cannot bind udp %s (%s)", abuf, err_str(fd));
			goto out_free;
		}
		w->fds[w->nfds++] = fd;
		ev.data.u32 = i;
		epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
	}
	for (unsigned i = 0; i < LISPMS_NET_BATCH; i++) {
		w->rx_iov[i].iov_base = w->rxbuf + (size_t)i * (LISPMS_DGRAM_MAX + 1);
		w->rx_iov[i].iov_len = LISPMS_DGRAM_MAX + 1;
	}
	return w;

out_free:
	net_worker_free(w);
	return NULL;
}

/* Local address of a received datagram, from IP_PKTINFO / IPV6_PKTINFO. */
static void local_from_cmsg(struct msghdr *mh, const struct sockaddr_storage *bound,
			    struct sockaddr_storage *local)
{
	*local = *bound;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    local->ss_family == AF_INET) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in *)local)->sin_addr = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   local->ss_family == AF_INET6) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in6 *)local)->sin6_addr = pi.ipi6_addr;
		}
	}
}

static int socket_for(struct net_worker *w, int family, unsigned prefer)
{
	if (prefer < w->nfds && w->addrs[prefer].ss_family == family)
		return w->fds[prefer];
	for (unsigned i = 0; i < w->nfds; i++)
		if (w->addrs[i].ss_family == family)
			return w->fds[i];
	return -1;
}

static void set_source(struct mmsghdr *m, void *ctl, const struct dgram_out *tx)
{
	m->msg_hdr.msg_control = NULL;
	m->msg_hdr.msg_controllen = 0;
	if (tx->src.ss_family != tx->dst.ss_family)
		return;
	m->msg_hdr.msg_control = ctl;
	if (tx->src.ss_family == AF_INET) {
		m->msg_hdr.msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
		struct cmsghdr *c = CMSG_FIRSTHDR(&m->msg_hdr);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
		struct in_pktinfo pi = { 0 };
		pi.ipi_spec_dst = ((const struct sockaddr_in *)&tx->src)->sin_addr;
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else {
		m->msg_hdr.msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
		struct cmsghdr *c = CMSG_FIRSTHDR(&m->msg_hdr);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
		struct in6_pktinfo pi = { 0 };
		pi.ipi6_addr = ((const struct sockaddr_in6 *)&tx->src)->sin6_addr;
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
}

/* Send the outbox, grouping consecutive messages that use the same socket. */
static void send_outbox(struct net_worker *w, struct dgram_outbox *out, unsigned rx_index)
{
	unsigned i = 0;
	while (i < out->n) {
		int fd = socket_for(w, out->msgs[i].dst.ss_family, rx_index);
		unsigned k = 0;
		while (i + k < out->n &&
		       socket_for(w, out->msgs[i + k].dst.ss_family, rx_index) == fd)
			k++;
		if (fd < 0) {
			counters_add(LISPMS_M_NET_UDP_DROP_NO_SOCKET, k);
			i += k;
			continue;
		}
		for (unsigned j = 0; j < k; j++) {
			struct dgram_out *tx = &out->msgs[i + j];
			struct mmsghdr *m = &w->tx_msgs[j];
			memset(m, 0, sizeof(*m));
			w->tx_iov[j].iov_base = (void *)tx->data;
			w->tx_iov[j].iov_len = tx->len;
			m->msg_hdr.msg_iov = &w->tx_iov[j];
			m->msg_hdr.msg_iovlen = 1;
			m->msg_hdr.msg_name = &tx->dst;
			m->msg_hdr.msg_namelen = saddr_len(&tx->dst);
			set_source(m, w->tx_ctl[j].buf, tx);
		}
		unsigned sent = 0;
		while (sent < k) {
			int r = sendmmsg(fd, w->tx_msgs + sent, k - sent, MSG_DONTWAIT);
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
					     w->tx_iov[sent + j].iov_len);
			counters_add(LISPMS_M_NET_UDP_TX_PACKETS, (uint64_t)r);
			sent += (unsigned)r;
		}
		i += k;
	}
}

static void drain(struct net_worker *w, unsigned idx)
{
	int fd = w->fds[idx];
	struct arena *arena = thread_arena();
	for (int round = 0; round < NET_DRAIN_ROUNDS; round++) {
		for (unsigned i = 0; i < LISPMS_NET_BATCH; i++) {
			struct msghdr *mh = &w->rx_msgs[i].msg_hdr;
			mh->msg_name = &w->rx[i].src;
			mh->msg_namelen = sizeof(w->rx[i].src);
			mh->msg_iov = &w->rx_iov[i];
			mh->msg_iovlen = 1;
			mh->msg_control = w->rx_ctl[i].buf;
			mh->msg_controllen = sizeof(w->rx_ctl[i].buf);
			mh->msg_flags = 0;
		}
		int r = recvmmsg(fd, w->rx_msgs, LISPMS_NET_BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			return;
		unsigned n = 0;
		for (int i = 0; i < r; i++) {
			struct msghdr *mh = &w->rx_msgs[i].msg_hdr;
			size_t len = w->rx_msgs[i].msg_len;
			counters_add(LISPMS_M_NET_UDP_RX_BYTES, len);
			if ((mh->msg_flags & MSG_TRUNC) || len > LISPMS_DGRAM_MAX) {
				counters_inc(LISPMS_M_NET_UDP_DROP_OVERSIZE);
				continue;
			}
			struct dgram *rx = &w->rx[n];
			if (n != (unsigned)i)
				rx->src = w->rx[i].src;
			rx->data = w->rx_iov[i].iov_base;
			rx->len = len;
			local_from_cmsg(mh, &w->addrs[idx], &rx->local);
			n++;
		}
		counters_add(LISPMS_M_NET_UDP_RX_PACKETS, (uint64_t)r);

		arena_reset(arena);
		struct dgram_outbox out = { .msgs = w->tx, .cap = NET_TX_CAP, .arena = arena };
		lrcu_read_lock();
		if (n > 0)
			w->handler(w->arg, w->rx, n, &out);
		lrcu_read_unlock();
		if (out.dropped)
			counters_add(LISPMS_M_NET_UDP_DROP_OUTBOX, out.dropped);
		send_outbox(w, &out, idx);
		if (r < LISPMS_NET_BATCH)
			return;
	}
}

static uint64_t run_tick(struct net_worker *w, uint64_t now)
{
	struct arena *arena = thread_arena();
	arena_reset(arena);
	struct dgram_outbox out = { .msgs = w->tx, .cap = NET_TX_CAP, .arena = arena };
	lrcu_read_lock();
	uint64_t wait = w->tick(w->tick_arg, now, &out);
	lrcu_read_unlock();
	if (out.dropped)
		counters_add(LISPMS_M_NET_UDP_DROP_OUTBOX, out.dropped);
	send_outbox(w, &out, 0);
	return wait;
}

static void *worker_main(void *arg)
{
	struct net_worker *w = arg;
	struct epoll_event evs[NET_MAX_ADDRS + 1];
	uint64_t next_tick = 0;
	while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
		int timeout = 1000;
		if (w->tick != NULL) {
			uint64_t now = mtime_now_ns();
			uint64_t left = next_tick > now ? next_tick - now : 0;
			timeout = left >= 1000 * LISPMS_NS_PER_MSEC
				      ? 1000
				      : (int)((left + LISPMS_NS_PER_MSEC - 1) / LISPMS_NS_PER_MSEC);
		}
		lrcu_offline();
		int n = epoll_wait(w->epfd, evs, NET_MAX_ADDRS + 1, timeout);
		lrcu_online();
		bool woken = false;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == UINT32_MAX) {
				uint64_t v;
				while (read(w->wakefd, &v, sizeof(v)) > 0)
					;
				woken = true;
				continue;
			}
			drain(w, evs[i].data.u32);
		}
		if (w->tick != NULL) {
			uint64_t now = mtime_now_ns();
			if (woken || now >= next_tick)
				next_tick = now + run_tick(w, now);
		}
		lrcu_quiescent();
	}
	return NULL;
}

void net_worker_wake(struct net_worker *w)
{
	uint64_t one = 1;
	ssize_t r = write(w->wakefd, &one, sizeof(one));
	(void)r;
}

int net_worker_start(struct net_worker *w, const char *name)
{
	w->thread = thread_spawn(name, w->cpu, worker_main, w);
	return w->thread ? LISPMS_EOK : LISPMS_ENOMEM;
}

void net_worker_stop(struct net_worker *w)
{
	if (w == NULL || w->thread == NULL)
		return;
	atomic_store_explicit(&w->stop, true, memory_order_release);
	net_worker_wake(w);
	thread_join(w->thread);
	w->thread = NULL;
}

void net_worker_free(struct net_worker *w)
{
	if (w == NULL)
		return;
	net_worker_stop(w);
	for (unsigned i = 0; i < w->nfds; i++)
		close(w->fds[i]);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wakefd >= 0)
		close(w->wakefd);
	free(w->rxbuf);
	free(w);
}
