/* SPDX-License-Identifier: MIT */
/* The TCP event source: listeners (one per address, SO_REUSEPORT) and
 * connections that carry stream sessions (stream.h) for the handler the
 * worker was given; keepalive, user timeout, output bound, slow readers. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <lispms/counters.h>
#include <lispms/err.h>
#include <lispms/rcu.h>

#include "net_loop.h"

#define NET_TCP_READ   65536
#define NET_TCP_ROUNDS 8	   /* reads per connection per event */
#define NET_TCP_HOLD   (32u << 10) /* output held for one send per batch, at most */
#define NET_TCP_SNDBUF (128 * 1024)

struct net_conn {
	struct stream_conn sc; /* first: what the handler is given */
	struct net_ev ev;      /* epoll data points here */
	struct net_tcp *t;
	int fd;
	void *sess;
	uint8_t *out;
	size_t out_off, out_len, out_cap;
	bool want_out; /* EPOLLOUT armed */
	bool closing;  /* close once the output is flushed */
	bool slow;     /* output bound passed: close at once */
	bool corked;   /* queue writes, flush once after the current input */
	bool aborted;  /* abort: close at once, on the doomed list */
	bool dirty;    /* on the list of output to flush after the round */
	struct net_conn *prev, *next;
	struct net_conn *dnext;		/* doomed list */
	struct net_conn *oprev, *onext; /* the dirty (output to flush) list */
};

struct tcp_listener {
	struct net_ev ev; /* first */
	struct net_tcp *t;
	unsigned index;
};

struct net_tcp {
	struct net_source src;
	struct net_worker *w;
	const struct stream_handler *h;
	void *arg;
	int lfds[NET_MAX_ADDRS]; /* listeners, one per address */
	unsigned nlfds;
	struct tcp_listener listeners[NET_MAX_ADDRS];
	/* the next listener set, from the control thread, under w->ctl_lock */
	int next_lfds[NET_MAX_ADDRS];
	unsigned next_nlfds;
	bool next_lfds_set;
	bool listening; /* control thread's view: listeners open or about to be */
	struct net_conn *conns;
	struct net_conn *doomed; /* aborted, freed at the end of the round */
	struct net_conn *dirty;	 /* written to while batching */
	uint8_t *buf;
};

static const struct stream_conn_ops tcp_conn_ops;
static void conn_io(struct net_worker *w, struct net_ev *ev, uint32_t events);

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

/* Hand a new listener set to the worker (n = 0: none); a set not yet taken is closed. */
static unsigned post_listeners(struct net_worker *w, const int *fds, unsigned n)
{
	struct net_tcp *t = w->tcp;
	pthread_mutex_lock(&w->ctl_lock);
	if (t->next_lfds_set)
		for (unsigned i = 0; i < t->next_nlfds; i++)
			close(t->next_lfds[i]);
	if (n > 0) /* fds may be NULL for none */
		memcpy(t->next_lfds, fds, n * sizeof(*fds));
	t->next_nlfds = n;
	t->next_lfds_set = true;
	pthread_mutex_unlock(&w->ctl_lock);
	return net_loop_post(w);
}

int net_worker_listen(struct net_worker *w, unsigned backlog, char *err, size_t errlen)
{
	if (w->tcp == NULL)
		return LISPMS_EINVAL;
	struct net_tcp *t = w->tcp;
	if (t->listening)
		return LISPMS_EOK;
	int fds[NET_MAX_ADDRS];
	int ret = open_listeners(w, backlog, fds, err, errlen);
	if (ret < 0)
		return ret;
	t->listening = true;
	post_listeners(w, fds, w->naddrs);
	return LISPMS_EOK;
}

unsigned net_worker_unlisten(struct net_worker *w)
{
	struct net_tcp *t = w->tcp;
	if (t == NULL)
		return atomic_load_explicit(&w->ctl_gen, memory_order_relaxed);
	if (!t->listening)
		return atomic_load_explicit(&w->ctl_gen, memory_order_relaxed);
	t->listening = false;
	return post_listeners(w, NULL, 0);
}

static void dirty_unlink(struct net_tcp *t, struct net_conn *c)
{
	if (c->oprev)
		c->oprev->onext = c->onext;
	else
		t->dirty = c->onext;
	if (c->onext)
		c->onext->oprev = c->oprev;
	c->oprev = c->onext = NULL;
	c->dirty = false;
}

static void conn_free(struct net_tcp *t, struct net_conn *c, enum stream_close_cause why)
{
	struct net_worker *w = t->w;
	if (c->aborted) {
		for (struct net_conn **pp = &t->doomed; *pp != NULL; pp = &(*pp)->dnext)
			if (*pp == c) {
				*pp = c->dnext;
				break;
			}
		why = STREAM_CLOSE_ABORT;
	}
	if (c->dirty)
		dirty_unlink(t, c);
	net_loop_del(w, c->fd);
	close(c->fd);
	if (c->sess != NULL)
		t->h->closed(t->arg, c->sess, why);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->conns = c->next;
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
	net_loop_mod(c->t->w, c->fd, EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0), &c->ev);
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

static int conn_write(struct stream_conn *sc, const uint8_t *buf, size_t len)
{
	struct net_conn *c = (struct net_conn *)sc;
	struct net_worker *w = c->t->w;
	if (c->slow || c->aborted)
		return LISPMS_ELIMIT;
	if (c->out_len == 0 && !c->corked && !w->batching) { /* straight to the socket */
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
	if ((c->corked || w->batching) && c->out_len > 0 && c->out_len + len > NET_TCP_HOLD)
		(void)conn_flush(c);
	if (c->out_len + len > w->lim.output_limit) {
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
	if (w->batching) {
		if (!c->dirty) {
			c->dirty = true;
			c->oprev = NULL;
			c->onext = c->t->dirty;
			if (c->onext)
				c->onext->oprev = c;
			c->t->dirty = c;
		}
	} else if (!c->corked) {
		conn_arm(c, true);
	}
	return LISPMS_EOK;
}

static void conn_close(struct stream_conn *sc)
{
	struct net_conn *c = (struct net_conn *)sc;
	c->closing = true;
	/* asked outside the connection's own event (a tick): EPOLLOUT comes at
	 * once on a writable socket, and its event closes it after the flush */
	if (!c->corked)
		conn_arm(c, true);
}

static void conn_abort(struct stream_conn *sc)
{
	struct net_conn *c = (struct net_conn *)sc;
	if (c->aborted)
		return;
	c->aborted = true;
	c->dnext = c->t->doomed;
	c->t->doomed = c;
}

static size_t conn_queued(const struct stream_conn *sc)
{
	return ((const struct net_conn *)sc)->out_len;
}

static const struct stream_conn_ops tcp_conn_ops = {
	.write = conn_write,
	.close = conn_close,
	.abort = conn_abort,
	.queued = conn_queued,
};

int net_conn_sockopts(const struct stream_conn *sc, unsigned *keepidle_s, unsigned *user_timeout_ms)
{
	const struct net_conn *c = (const struct net_conn *)sc;
	if (sc->ops != &tcp_conn_ops)
		return LISPMS_EINVAL;
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

static enum stream_close_cause cause_of(int err)
{
	return err == ETIMEDOUT ? STREAM_CLOSE_TIMEOUT : STREAM_CLOSE_ERROR;
}

static void set_tcp_options(const struct net_worker *w, int fd)
{
	int on = 1, idle = (int)w->lim.keepalive_s, intvl = (int)(w->lim.keepalive_s / 3 + 1),
	    cnt = 3;
	unsigned uto = w->lim.user_timeout_s * 1000u;
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

static void accept_all(struct net_tcp *t, unsigned idx)
{
	struct net_worker *w = t->w;
	if (idx >= t->nlfds) /* closed by a reload after epoll_wait returned */
		return;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(t->lfds[idx], (struct sockaddr *)&peer, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		counters_inc(LISPMS_M_NET_TCP_ACCEPTED);
		if (w->lim.max_conns && w->nconns >= w->lim.max_conns) {
			counters_inc(LISPMS_M_NET_TCP_REFUSED_LIMIT);
			close(fd);
			continue;
		}
		struct net_conn *c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->sc = (struct stream_conn){ &tcp_conn_ops, STREAM_TCP };
		c->ev.fn = conn_io;
		c->t = t;
		c->fd = fd;
		net_loop_add(w, fd, EPOLLIN | EPOLLRDHUP, &c->ev);
		c->next = t->conns;
		if (t->conns)
			t->conns->prev = c;
		t->conns = c;
		w->nconns++;
		lrcu_read_lock();
		c->sess = t->h->open(t->arg, &c->sc, &peer);
		lrcu_read_unlock();
		if (c->sess == NULL) { /* not admitted: closed at once, nothing sent */
			conn_free(t, c, STREAM_CLOSE_ERROR);
			continue;
		}
		set_tcp_options(w, fd);
		if (c->aborted || c->slow || c->closing)
			conn_free(t, c, c->slow ? STREAM_CLOSE_SLOW : STREAM_CLOSE_ERROR);
	}
}

static void conn_event(struct net_tcp *t, struct net_conn *c, uint32_t events)
{
	if (c->aborted) {
		conn_free(t, c, STREAM_CLOSE_ABORT);
		return;
	}
	if (events & EPOLLOUT) {
		if (!conn_flush(c)) {
			conn_free(t, c, cause_of(errno));
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		for (int round = 0; round < NET_TCP_ROUNDS && !c->aborted; round++) {
			ssize_t n = recv(c->fd, t->buf, NET_TCP_READ, MSG_DONTWAIT);
			if (n == 0) {
				conn_free(t, c, STREAM_CLOSE_PEER);
				return;
			}
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				conn_free(t, c, cause_of(errno));
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
			int ret = t->h->recv(t->arg, c->sess, t->buf, (size_t)n);
			lrcu_read_unlock();
			c->corked = false;
			if (ret < 0)
				c->closing = true;
			if (c->slow)
				break;
			if (c->out_len > 0 && !conn_flush(c)) {
				conn_free(t, c, cause_of(errno));
				return;
			}
			/* a short read emptied the socket: level-triggered epoll says
			 * when there is more, so spare the recv that would say EAGAIN */
			if ((size_t)n < NET_TCP_READ)
				break;
		}
	}
	if (c->aborted || c->slow) {
		conn_free(t, c, STREAM_CLOSE_SLOW);
		return;
	}
	if (c->closing && (c->out_len == 0 || !conn_flush(c) || c->out_len == 0))
		conn_free(t, c, STREAM_CLOSE_ERROR);
}

/* After a batch: one send per connection written to during it. */
static void flush_dirty(struct net_tcp *t)
{
	while (t->dirty != NULL) {
		struct net_conn *c = t->dirty;
		dirty_unlink(t, c);
		if (c->aborted)
			continue; /* freed below with what it had queued */
		if (c->slow)	  /* at once: its peer may never make it writable */
			conn_free(t, c, STREAM_CLOSE_SLOW);
		else if (!conn_flush(c))
			conn_free(t, c, cause_of(errno));
		else if (c->closing && c->out_len == 0)
			conn_free(t, c, STREAM_CLOSE_ERROR);
	}
}

static void conn_io(struct net_worker *w, struct net_ev *ev, uint32_t events)
{
	(void)w;
	struct net_conn *c = net_container_of(ev, struct net_conn, ev);
	conn_event(c->t, c, events);
}

static void listen_event(struct net_worker *w, struct net_ev *ev, uint32_t events)
{
	(void)w;
	(void)events;
	struct tcp_listener *l = net_container_of(ev, struct tcp_listener, ev);
	accept_all(l->t, l->index);
}

static void tcp_round_end(struct net_worker *w, struct net_source *src)
{
	(void)w;
	struct net_tcp *t = net_container_of(src, struct net_tcp, src);
	flush_dirty(t);
	while (t->doomed != NULL) /* aborted during the events or the tick */
		conn_free(t, t->doomed, STREAM_CLOSE_ABORT);
}

/* Worker thread: a new listener set, new keepalive and user timeout. */
static void tcp_apply(struct net_worker *w, struct net_source *src,
		      const struct net_worker_limits *old)
{
	struct net_tcp *t = net_container_of(src, struct net_tcp, src);
	pthread_mutex_lock(&w->ctl_lock);
	bool relisten = t->next_lfds_set;
	int fds[NET_MAX_ADDRS];
	unsigned n = t->next_nlfds;
	if (relisten)
		memcpy(fds, t->next_lfds, n * sizeof(*fds));
	t->next_lfds_set = false;
	pthread_mutex_unlock(&w->ctl_lock);

	if (relisten) {
		for (unsigned i = 0; i < t->nlfds; i++) {
			net_loop_del(w, t->lfds[i]);
			close(t->lfds[i]);
		}
		t->nlfds = n;
		for (unsigned i = 0; i < n; i++) {
			t->lfds[i] = fds[i];
			net_loop_add(w, fds[i], EPOLLIN, &t->listeners[i].ev);
		}
	}
	/* open sessions too: a dead peer is found as the operator now says */
	if (old->keepalive_s != w->lim.keepalive_s || old->user_timeout_s != w->lim.user_timeout_s)
		for (struct net_conn *c = t->conns; c != NULL; c = c->next)
			set_tcp_options(w, c->fd);
}

static void tcp_stop(struct net_worker *w, struct net_source *src)
{
	(void)w;
	struct net_tcp *t = net_container_of(src, struct net_tcp, src);
	while (t->conns != NULL)
		conn_free(t, t->conns, STREAM_CLOSE_SHUTDOWN);
}

static void tcp_free(struct net_worker *w, struct net_source *src)
{
	struct net_tcp *t = net_container_of(src, struct net_tcp, src);
	for (unsigned i = 0; i < t->nlfds; i++)
		close(t->lfds[i]);
	if (t->next_lfds_set) /* listeners the worker never took */
		for (unsigned i = 0; i < t->next_nlfds; i++)
			close(t->next_lfds[i]);
	free(t->buf);
	free(t);
	w->tcp = NULL;
}

static const struct net_source_ops tcp_source_ops = {
	.name = "tcp",
	.apply = tcp_apply,
	.round_end = tcp_round_end,
	.stop = tcp_stop,
	.free = tcp_free,
};

int net_tcp_init(struct net_worker *w, const struct net_worker_conf *conf, char *err, size_t errlen)
{
	struct net_tcp *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return LISPMS_ENOMEM;
	t->src.ops = &tcp_source_ops;
	t->w = w;
	t->h = conf->stream;
	t->arg = conf->stream_arg;
	for (unsigned i = 0; i < NET_MAX_ADDRS; i++)
		t->listeners[i] = (struct tcp_listener){ { listen_event }, t, i };
	w->tcp = t;
	net_loop_register(w, &t->src);
	if ((t->buf = malloc(NET_TCP_READ)) == NULL)
		return LISPMS_ENOMEM;
	if (conf->tcp_listen) {
		int ret = open_listeners(w, conf->backlog, t->lfds, err, errlen);
		if (ret < 0)
			return ret;
		t->nlfds = w->naddrs;
		t->listening = true;
		for (unsigned i = 0; i < t->nlfds; i++)
			net_loop_add(w, t->lfds[i], EPOLLIN, &t->listeners[i].ev);
	}
	return LISPMS_EOK;
}
