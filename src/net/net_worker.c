/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
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
#define NET_TCP_READ	 65536
#define NET_TCP_ROUNDS	 8	     /* reads per connection per event */
#define NET_TCP_HOLD	 (32u << 10) /* output held for one send per batch, at most */
#define NET_TCP_SNDBUF	 (128 * 1024)

enum ev_kind {
	EV_WAKE,
	EV_UDP,
	EV_LISTEN,
	EV_CONN,
};

/* What an epoll event points at. */
struct net_ev {
	enum ev_kind kind;
	unsigned index;
};

struct net_conn {
	struct net_ev ev; /* first: epoll data points here */
	struct net_worker *w;
	int fd;
	void *sess;
	uint8_t *out;
	size_t out_off, out_len, out_cap;
	bool want_out; /* EPOLLOUT armed */
	bool closing;  /* close once the output is flushed */
	bool slow;     /* output bound passed: close at once */
	bool corked;   /* queue writes, flush once after the current input */
	bool aborted;  /* net_conn_abort: close at once, on the doomed list */
	bool dirty;    /* on the worker's list of output to flush after the batch */
	struct net_conn *prev, *next;
	struct net_conn *dnext;		/* doomed list */
	struct net_conn *oprev, *onext; /* the dirty (output to flush) list */
};

struct net_worker {
	struct sockaddr_storage addrs[NET_MAX_ADDRS];
	int fds[NET_MAX_ADDRS];
	unsigned nfds;
	int lfds[NET_MAX_ADDRS]; /* TCP listeners, one per address */
	unsigned nlfds;
	struct net_ev udp_ev[NET_MAX_ADDRS], listen_ev[NET_MAX_ADDRS], wake_ev;
	const struct net_tcp_ops *tcp;
	void *tcp_arg;
	unsigned keepalive_s, user_timeout_s, max_conns;
	size_t output_limit;
	/* Reload: the control thread leaves the next limits (and listener set)
	 * here under ctl_lock and bumps ctl_gen; the worker applies them at its
	 * next loop and publishes applied_gen. */
	pthread_mutex_t ctl_lock;
	_Atomic unsigned ctl_gen, applied_gen;
	unsigned seen_gen;	       /* worker thread */
	struct net_worker_limits next; /* under ctl_lock */
	int next_lfds[NET_MAX_ADDRS];  /* under ctl_lock, when next_lfds_set */
	unsigned next_nlfds;
	bool next_lfds_set;
	bool listening; /* control thread's view: listeners open or about to be */
	unsigned naddrs;
	struct net_conn *conns;
	size_t nconns;
	struct net_conn *doomed; /* aborted, freed after this round of events */
	/* While one epoll batch is handled, writes are queued and the
	 * connections written to listed: one send each after the batch,
	 * however many messages it was given (more batching under load). */
	bool batching;
	struct net_conn *dirty;
	uint8_t *tcpbuf;
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

static int open_listener(const struct sockaddr_storage *addr, uint16_t port, bool reuseport,
			 unsigned backlog)
{
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int on = 1;
	if ((reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    (addr->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0))
		goto out_errno;
	struct sockaddr_storage a = *addr;
	saddr_set_port(&a, port);
	if (bind(fd, (struct sockaddr *)&a, saddr_len(&a)) != 0 || listen(fd, (int)backlog) != 0)
		goto out_errno;
	return fd;

out_errno:;
	int ret = -errno;
	close(fd);
	return ret;
}

int net_tcp_port_free(const struct sockaddr_storage *addr, uint16_t port)
{
	int fd = open_listener(addr, port, false, 16);
	if (fd < 0)
		return fd;
	close(fd);
	return LISPMS_EOK;
}

size_t net_worker_conns(const struct net_worker *w)
{
	return w->nconns;
}

/* One listener per address into fds; all or none. */
static int open_listeners(struct net_worker *w, unsigned backlog, int *fds, char *err,
			  size_t errlen)
{
	for (unsigned i = 0; i < w->naddrs; i++) {
		fds[i] = open_listener(&w->addrs[i], w->port, true, backlog ? backlog : 4096);
		if (fds[i] >= 0)
			continue;
		int ret = fds[i];
		char abuf[64];
		saddr_format(&w->addrs[i], abuf, sizeof(abuf));
		if (err)
			snprintf(err, errlen, "cannot listen on tcp %s (%s)", abuf, err_str(ret));
		while (i-- > 0)
			close(fds[i]);
		return ret;
	}
	return LISPMS_EOK;
}

static unsigned ctl_post(struct net_worker *w)
{
	unsigned gen = atomic_fetch_add_explicit(&w->ctl_gen, 1, memory_order_release) + 1;
	net_worker_wake(w);
	return gen;
}

unsigned net_worker_set_limits(struct net_worker *w, const struct net_worker_limits *l)
{
	pthread_mutex_lock(&w->ctl_lock);
	w->next = *l;
	pthread_mutex_unlock(&w->ctl_lock);
	return ctl_post(w);
}

/* Hand a new listener set to the worker (n = 0: none); a set not yet taken is closed. */
static unsigned post_listeners(struct net_worker *w, const int *fds, unsigned n)
{
	pthread_mutex_lock(&w->ctl_lock);
	if (w->next_lfds_set)
		for (unsigned i = 0; i < w->next_nlfds; i++)
			close(w->next_lfds[i]);
	if (n > 0) /* fds may be NULL for none */
		memcpy(w->next_lfds, fds, n * sizeof(*fds));
	w->next_nlfds = n;
	w->next_lfds_set = true;
	pthread_mutex_unlock(&w->ctl_lock);
	return ctl_post(w);
}

int net_worker_listen(struct net_worker *w, unsigned backlog, char *err, size_t errlen)
{
	if (w->tcp == NULL)
		return LISPMS_EINVAL;
	if (w->listening)
		return LISPMS_EOK;
	int fds[NET_MAX_ADDRS];
	int ret = open_listeners(w, backlog, fds, err, errlen);
	if (ret < 0)
		return ret;
	w->listening = true;
	post_listeners(w, fds, w->naddrs);
	return LISPMS_EOK;
}

unsigned net_worker_unlisten(struct net_worker *w)
{
	if (!w->listening)
		return atomic_load_explicit(&w->ctl_gen, memory_order_relaxed);
	w->listening = false;
	return post_listeners(w, NULL, 0);
}

bool net_worker_wait(struct net_worker *w, unsigned gen, unsigned timeout_ms)
{
	uint64_t until = mtime_now_ns() + (uint64_t)timeout_ms * LISPMS_NS_PER_MSEC;
	while ((int)(atomic_load_explicit(&w->applied_gen, memory_order_acquire) - gen) < 0) {
		if (mtime_now_ns() >= until)
			return false;
		usleep(1000);
	}
	return true;
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
	w->tcp = conf->tcp;
	w->tcp_arg = conf->tcp_arg;
	w->keepalive_s = conf->keepalive_s ? conf->keepalive_s : 10;
	w->user_timeout_s = conf->user_timeout_s ? conf->user_timeout_s : 30;
	w->output_limit = conf->output_limit ? conf->output_limit : (size_t)4 << 20;
	w->max_conns = conf->max_conns;
	w->next = (struct net_worker_limits){ w->keepalive_s, w->user_timeout_s, w->max_conns,
					      w->output_limit };
	pthread_mutex_init(&w->ctl_lock, NULL);
	w->naddrs = conf->naddrs;
	w->wake_ev.kind = EV_WAKE;
	w->rxbuf = malloc((size_t)LISPMS_NET_BATCH * (LISPMS_DGRAM_MAX + 1));
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->rxbuf == NULL || w->epfd < 0 || w->wakefd < 0) {
		if (err)
			snprintf(err, errlen, "cannot allocate worker resources (%s)",
				 err_str(-errno));
		goto out_free;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->wake_ev };
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
		w->udp_ev[i] = (struct net_ev){ EV_UDP, i };
		w->listen_ev[i] = (struct net_ev){ EV_LISTEN, i };
		ev.data.ptr = &w->udp_ev[i];
		epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
	}
	if (w->tcp != NULL && conf->tcp_listen) {
		int ret = open_listeners(w, conf->backlog, w->lfds, err, errlen);
		if (ret < 0)
			goto out_free;
		w->nlfds = w->naddrs;
		w->listening = true;
		for (unsigned i = 0; i < w->nlfds; i++) {
			ev.data.ptr = &w->listen_ev[i];
			epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->lfds[i], &ev);
		}
	}
	if (w->tcp != NULL && (w->tcpbuf = malloc(NET_TCP_READ)) == NULL)
		goto out_free;
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

/* ------------------------------------------------------------ TCP */

static void dirty_unlink(struct net_worker *w, struct net_conn *c)
{
	if (c->oprev)
		c->oprev->onext = c->onext;
	else
		w->dirty = c->onext;
	if (c->onext)
		c->onext->oprev = c->oprev;
	c->oprev = c->onext = NULL;
	c->dirty = false;
}

static void conn_free(struct net_worker *w, struct net_conn *c, enum net_close_cause why)
{
	if (c->aborted) {
		for (struct net_conn **pp = &w->doomed; *pp != NULL; pp = &(*pp)->dnext)
			if (*pp == c) {
				*pp = c->dnext;
				break;
			}
		why = NET_CLOSE_ABORT;
	}
	if (c->dirty)
		dirty_unlink(w, c);
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->sess != NULL)
		w->tcp->closed(w->tcp_arg, c->sess, why);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->nconns--;
	if (c->out_len > 0) /* dropped unsent */
		counters_gauge_add(LISPMS_M_NET_TCP_QUEUED_BYTES, -(int64_t)c->out_len);
	free(c->out);
	free(c);
}

static void conn_arm(struct net_conn *c, bool want_out)
{
	if (c->want_out == want_out)
		return;
	c->want_out = want_out;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0),
				  .data.ptr = &c->ev };
	epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Send what is queued; false when the connection failed. */
static bool conn_flush(struct net_conn *c)
{
	while (c->out_len > 0) {
		ssize_t n =
		    send(c->fd, c->out + c->out_off, c->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return false;
		}
		c->out_off += (size_t)n;
		c->out_len -= (size_t)n;
		counters_gauge_add(LISPMS_M_NET_TCP_QUEUED_BYTES, -(int64_t)n);
	}
	if (c->out_len == 0)
		c->out_off = 0;
	conn_arm(c, c->out_len > 0);
	return true;
}

int net_conn_write(struct net_conn *c, const uint8_t *buf, size_t len)
{
	if (c->slow || c->aborted)
		return LISPMS_ELIMIT;
	if (c->out_len == 0 && !c->corked && !c->w->batching) { /* straight to the socket */
		ssize_t n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		}
		if (len == 0)
			return LISPMS_EOK;
	}
	/* Output held back for the end of the batch is not output the socket
	 * refused: past a few segments' worth, give it to the socket first, so
	 * the bound below counts only what the peer has not taken. (A failing
	 * socket is left to its next event, which is armed.) */
	if ((c->corked || c->w->batching) && c->out_len > 0 && c->out_len + len > NET_TCP_HOLD)
		(void)conn_flush(c);
	if (c->out_len + len > c->w->output_limit) {
		c->slow = true;
		return LISPMS_ELIMIT;
	}
	if (c->out_off + c->out_len + len > c->out_cap) {
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len);
			c->out_off = 0;
		}
		if (c->out_len + len > c->out_cap) {
			size_t cap = c->out_cap ? c->out_cap : 4096;
			while (cap < c->out_len + len)
				cap *= 2;
			uint8_t *p = realloc(c->out, cap);
			if (p == NULL) {
				c->slow = true;
				return LISPMS_ENOMEM;
			}
			c->out = p;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_off + c->out_len, buf, len);
	c->out_len += len;
	counters_gauge_add(LISPMS_M_NET_TCP_QUEUED_BYTES, (int64_t)len);
	if (c->w->batching) {
		if (!c->dirty) {
			c->dirty = true;
			c->oprev = NULL;
			c->onext = c->w->dirty;
			if (c->onext)
				c->onext->oprev = c;
			c->w->dirty = c;
		}
	} else if (!c->corked) {
		conn_arm(c, true);
	}
	return LISPMS_EOK;
}

void net_conn_close(struct net_conn *c)
{
	c->closing = true;
	/* asked outside the connection's own event (a tick): EPOLLOUT comes at
	 * once on a writable socket, and its event closes it after the flush */
	if (!c->corked)
		conn_arm(c, true);
}

void net_conn_abort(struct net_conn *c)
{
	if (c->aborted)
		return;
	c->aborted = true;
	c->dnext = c->w->doomed;
	c->w->doomed = c;
}

size_t net_conn_queued(const struct net_conn *c)
{
	return c->out_len;
}

int net_conn_sockopts(const struct net_conn *c, unsigned *keepidle_s, unsigned *user_timeout_ms)
{
	int idle = 0;
	unsigned uto = 0;
	socklen_t l1 = sizeof(idle), l2 = sizeof(uto);
	if (getsockopt(c->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &l1) != 0 ||
	    getsockopt(c->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, &l2) != 0)
		return -errno;
	*keepidle_s = (unsigned)idle;
	*user_timeout_ms = uto;
	return LISPMS_EOK;
}

static enum net_close_cause cause_of(int err)
{
	return err == ETIMEDOUT ? NET_CLOSE_TIMEOUT : NET_CLOSE_ERROR;
}

static void set_tcp_options(struct net_worker *w, int fd)
{
	int on = 1, idle = (int)w->keepalive_s, intvl = (int)(w->keepalive_s / 3 + 1), cnt = 3;
	unsigned uto = w->user_timeout_s * 1000u;
	/* a fixed kernel send buffer: with autotuning a reader that stops could
	 * park megabytes per session in the kernel before our own bound counts */
	int sndbuf = NET_TCP_SNDBUF;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
}

static void accept_all(struct net_worker *w, unsigned idx)
{
	if (idx >= w->nlfds) /* closed by a reload after epoll_wait returned */
		return;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(w->lfds[idx], (struct sockaddr *)&peer, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		counters_inc(LISPMS_M_NET_TCP_ACCEPTED);
		if (w->max_conns && w->nconns >= w->max_conns) {
			counters_inc(LISPMS_M_NET_TCP_REFUSED_LIMIT);
			close(fd);
			continue;
		}
		struct net_conn *c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->ev = (struct net_ev){ EV_CONN, 0 };
		c->w = w;
		c->fd = fd;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = &c->ev };
		epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
		c->next = w->conns;
		if (w->conns)
			w->conns->prev = c;
		w->conns = c;
		w->nconns++;
		lrcu_read_lock();
		c->sess = w->tcp->open(w->tcp_arg, c, &peer);
		lrcu_read_unlock();
		if (c->sess == NULL) { /* not admitted: closed at once, nothing sent */
			conn_free(w, c, NET_CLOSE_ERROR);
			continue;
		}
		set_tcp_options(w, fd);
		if (c->aborted || c->slow || c->closing)
			conn_free(w, c, c->slow ? NET_CLOSE_SLOW : NET_CLOSE_ERROR);
	}
}

static void conn_event(struct net_worker *w, struct net_conn *c, uint32_t events)
{
	if (c->aborted) {
		conn_free(w, c, NET_CLOSE_ABORT);
		return;
	}
	if (events & EPOLLOUT) {
		if (!conn_flush(c)) {
			conn_free(w, c, cause_of(errno));
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		for (int round = 0; round < NET_TCP_ROUNDS && !c->aborted; round++) {
			ssize_t n = recv(c->fd, w->tcpbuf, NET_TCP_READ, MSG_DONTWAIT);
			if (n == 0) {
				conn_free(w, c, NET_CLOSE_PEER);
				return;
			}
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				conn_free(w, c, cause_of(errno));
				return;
			}
			counters_add(LISPMS_M_NET_TCP_RX_BYTES, (uint64_t)n);
			if (c->closing) { /* ending: read and drop, or epoll says "readable" forever
					   */
				if ((size_t)n < NET_TCP_READ)
					break;
				continue;
			}
			/* answers to one chunk leave in one send, not one per message */
			c->corked = true;
			lrcu_read_lock();
			int ret = w->tcp->recv(w->tcp_arg, c->sess, w->tcpbuf, (size_t)n);
			lrcu_read_unlock();
			c->corked = false;
			if (ret < 0)
				c->closing = true;
			if (c->slow)
				break;
			if (c->out_len > 0 && !conn_flush(c)) {
				conn_free(w, c, cause_of(errno));
				return;
			}
			/* a short read emptied the socket: level-triggered epoll says
			 * when there is more, so spare the recv that would say EAGAIN */
			if ((size_t)n < NET_TCP_READ)
				break;
		}
	}
	if (c->aborted || c->slow) {
		conn_free(w, c, NET_CLOSE_SLOW);
		return;
	}
	if (c->closing && (c->out_len == 0 || !conn_flush(c) || c->out_len == 0))
		conn_free(w, c, NET_CLOSE_ERROR);
}

/* After a batch: one send per connection written to during it. */
static void flush_dirty(struct net_worker *w)
{
	while (w->dirty != NULL) {
		struct net_conn *c = w->dirty;
		dirty_unlink(w, c);
		if (c->aborted)
			continue; /* freed below with what it had queued */
		if (c->slow)	  /* at once: its peer may never make it writable */
			conn_free(w, c, NET_CLOSE_SLOW);
		else if (!conn_flush(c))
			conn_free(w, c, cause_of(errno));
		else if (c->closing && c->out_len == 0)
			conn_free(w, c, NET_CLOSE_ERROR);
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

/* Worker thread: take what the control thread left (limits, listeners). */
static void apply_ctl(struct net_worker *w, unsigned gen)
{
	pthread_mutex_lock(&w->ctl_lock);
	struct net_worker_limits l = w->next;
	bool relisten = w->next_lfds_set;
	int fds[NET_MAX_ADDRS];
	unsigned n = w->next_nlfds;
	if (relisten)
		memcpy(fds, w->next_lfds, n * sizeof(*fds));
	w->next_lfds_set = false;
	pthread_mutex_unlock(&w->ctl_lock);

	if (relisten) {
		for (unsigned i = 0; i < w->nlfds; i++) {
			epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->lfds[i], NULL);
			close(w->lfds[i]);
		}
		w->nlfds = n;
		for (unsigned i = 0; i < n; i++) {
			w->lfds[i] = fds[i];
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->listen_ev[i] };
			epoll_ctl(w->epfd, EPOLL_CTL_ADD, fds[i], &ev);
		}
	}
	unsigned ka = l.keepalive_s ? l.keepalive_s : 10;
	unsigned uto = l.user_timeout_s ? l.user_timeout_s : 30;
	bool resock = ka != w->keepalive_s || uto != w->user_timeout_s;
	w->keepalive_s = ka;
	w->user_timeout_s = uto;
	w->output_limit = l.output_limit ? l.output_limit : (size_t)4 << 20;
	w->max_conns = l.max_conns;
	if (resock) /* open sessions too: a dead peer is found as the operator now says */
		for (struct net_conn *c = w->conns; c != NULL; c = c->next)
			set_tcp_options(w, c->fd);
	atomic_store_explicit(&w->applied_gen, gen, memory_order_release);
}

static void *worker_main(void *arg)
{
	struct net_worker *w = arg;
	struct epoll_event evs[64];
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
		int n = epoll_wait(w->epfd, evs, 64, timeout);
		lrcu_online();
		unsigned gen = atomic_load_explicit(&w->ctl_gen, memory_order_acquire);
		if (gen != w->seen_gen) { /* before the events: a closed listener's are dropped */
			w->seen_gen = gen;
			apply_ctl(w, gen);
		}
		bool woken = false;
		w->batching = true;
		for (int i = 0; i < n; i++) {
			struct net_ev *e = evs[i].data.ptr;
			switch (e->kind) {
			case EV_WAKE: {
				uint64_t v;
				while (read(w->wakefd, &v, sizeof(v)) > 0)
					;
				woken = true;
				break;
			}
			case EV_UDP:
				drain(w, e->index);
				break;
			case EV_LISTEN:
				accept_all(w, e->index);
				break;
			case EV_CONN:
				conn_event(w, (struct net_conn *)e, evs[i].events);
				break;
			}
		}
		if (w->tick != NULL) {
			uint64_t now = mtime_now_ns();
			if (woken || now >= next_tick)
				next_tick = now + run_tick(w, now);
		}
		w->batching = false;
		flush_dirty(w);
		while (w->doomed != NULL) /* aborted during the events or the tick */
			conn_free(w, w->doomed, NET_CLOSE_ABORT);
		lrcu_quiescent();
	}
	while (w->conns != NULL)
		conn_free(w, w->conns, NET_CLOSE_SHUTDOWN);
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
	for (unsigned i = 0; i < w->nlfds; i++)
		close(w->lfds[i]);
	if (w->next_lfds_set) /* listeners the worker never took */
		for (unsigned i = 0; i < w->next_nlfds; i++)
			close(w->next_lfds[i]);
	pthread_mutex_destroy(&w->ctl_lock);
	while (w->conns != NULL) /* never started: nothing else owns them */
		conn_free(w, w->conns, NET_CLOSE_SHUTDOWN);
	free(w->tcpbuf);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wakefd >= 0)
		close(w->wakefd);
	free(w->rxbuf);
	free(w);
}
