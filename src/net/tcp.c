/* SPDX-License-Identifier: MIT */
/* The TCP event source: listeners (one per address, SO_REUSEPORT) and
 * connections that carry stream sessions (stream.h) for the handler the
 * worker was given; keepalive, user timeout, output bound, slow readers.
 *
 * A second instance of the same source carries TLS 1.3 over TCP (docs/protocol.md
 * D19, server.tls): its connections' TLS side (handshake, records,
 * close_notify, the handshake timeout) is tcp_tls.c; the instance itself
 * (listeners, credentials, reload) is here. A connection's output queue
 * and its freeing, which both halves use, are below them in tcp_conn.c. */
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
#include <lispms/mtime.h>
#include <lispms/rcu.h>

#include "net_loop.h"
#include "net_sock.h"
#include "tcp_conn.h"

static const struct stream_conn_ops tcp_conn_ops;
static void conn_io(struct net_worker *w, struct net_ev *ev, uint32_t events);

static int open_listener(const struct sockaddr_storage *addr, uint16_t port, bool reuseport,
			 unsigned backlog)
{
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int on = 1;
	int ret = net_sock_share(fd, addr->ss_family, reuseport);
	if (ret == 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
		ret = -errno;
	if (ret == 0)
		ret = net_sock_bind(fd, addr, port);
	if (ret == 0 && listen(fd, (int)backlog) != 0)
		ret = -errno;
	if (ret == 0)
		return fd;
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
static int open_listeners(struct net_worker *w, uint16_t port, unsigned backlog, int *fds,
			  char *err, size_t errlen)
{
	for (unsigned i = 0; i < w->naddrs; i++) {
		fds[i] = open_listener(&w->addrs[i], port, true, backlog ? backlog : 4096);
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
static unsigned post_listeners(struct net_tcp *t, const int *fds, unsigned n)
{
	struct net_worker *w = t->w;
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
	int ret = open_listeners(w, w->port, backlog, fds, err, errlen);
	if (ret < 0)
		return ret;
	t->listening = true;
	t->lport = t->port;
	post_listeners(t, fds, w->naddrs);
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
	return post_listeners(t, NULL, 0);
}

int net_worker_tls_prepare(struct net_worker *w, uint16_t port, unsigned backlog, char *err,
			   size_t errlen)
{
	struct net_tcp *t = w->tls;
	if (t == NULL)
		return port ? LISPMS_ENOTSUP : LISPMS_EOK;
	net_worker_tls_abort(w);
	if (port == 0 || (t->listening && t->lport == port))
		return LISPMS_EOK; /* closing, or the listeners in place stay */
	int ret = open_listeners(w, port, backlog, t->staged_fds, err, errlen);
	if (ret < 0)
		return ret;
	t->staged = true;
	return LISPMS_EOK;
}

void net_worker_tls_abort(struct net_worker *w)
{
	struct net_tcp *t = w->tls;
	if (t == NULL || !t->staged)
		return;
	for (unsigned i = 0; i < w->naddrs; i++)
		close(t->staged_fds[i]);
	t->staged = false;
}

unsigned net_worker_tls_commit(struct net_worker *w, uint16_t port, const struct tls_cred *cred,
			       unsigned handshake_timeout_s)
{
	struct net_tcp *t = w->tls;
	if (t == NULL)
		return atomic_load_explicit(&w->ctl_gen, memory_order_relaxed);
#if LISPMS_NET_TLS
	/* the credentials first: no listener is ever taken without them */
	pthread_mutex_lock(&w->ctl_lock);
	if (t->next_tls_set)
		tls_cred_free(t->next_cred);
	t->next_cred = tls_cred_ref(cred);
	t->next_hs_timeout_ns =
	    (uint64_t)(handshake_timeout_s ? handshake_timeout_s : 10) * LISPMS_NS_PER_SEC;
	t->next_tls_set = true;
	pthread_mutex_unlock(&w->ctl_lock);
#else
	(void)cred, (void)handshake_timeout_s;
#endif
	if (port == 0 && t->listening) {
		t->listening = false;
		return post_listeners(t, NULL, 0);
	}
	if (t->staged) { /* a new port: its listeners replace the old ones */
		t->staged = false;
		t->listening = true;
		t->lport = port;
		return post_listeners(t, t->staged_fds, w->naddrs);
	}
	return net_loop_post(w);
}

static int conn_write(struct stream_conn *sc, const uint8_t *buf, size_t len)
{
	struct net_conn *c = (struct net_conn *)sc;
#if LISPMS_NET_TLS
	if (c->tls != NULL)
		return tcp_tls_write(c, buf, len);
#endif
	return tcp_conn_queue(c, buf, len);
}

static void conn_close(struct stream_conn *sc)
{
	struct net_conn *c = (struct net_conn *)sc;
	tcp_tls_bye(c);
	c->closing = true;
	/* asked outside the connection's own event (a tick): EPOLLOUT comes at
	 * once on a writable socket, and its event closes it after the flush */
	if (!c->corked)
		tcp_conn_arm(c, true);
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
	const struct net_conn *c = (const struct net_conn *)sc;
#if LISPMS_NET_TLS
	return c->out_len + c->tls_corked; /* plaintext in the cork: about its records */
#else
	return c->out_len;
#endif
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
		c->sc = (struct stream_conn){ &tcp_conn_ops, t->trans };
		c->ev.fn = conn_io;
		c->t = t;
		c->fd = fd;
		net_loop_add(w, fd, EPOLLIN | EPOLLRDHUP, &c->ev);
		c->next = t->conns;
		if (t->conns)
			t->conns->prev = c;
		t->conns = c;
		w->nconns++;
#if LISPMS_NET_TLS
		if (t->trans == STREAM_TLS) {
			if (!tcp_tls_start(t, c, &peer))
				tcp_conn_free(t, c, STREAM_CLOSE_ERROR);
			continue;
		}
#endif
		lrcu_read_lock();
		c->sess = t->h->open(t->arg, &c->sc, &peer);
		lrcu_read_unlock();
		if (c->sess == NULL) { /* not admitted: closed at once, nothing sent */
			tcp_conn_free(t, c, STREAM_CLOSE_ERROR);
			continue;
		}
		tcp_set_options(w, fd);
		if (c->aborted || c->slow || c->closing)
			tcp_conn_free(t, c, c->slow ? STREAM_CLOSE_SLOW : STREAM_CLOSE_ERROR);
	}
}

static void conn_event(struct net_tcp *t, struct net_conn *c, uint32_t events)
{
	if (c->aborted) {
		tcp_conn_free(t, c, STREAM_CLOSE_ABORT);
		return;
	}
	if (events & EPOLLOUT) {
		if (!tcp_conn_flush(c)) {
			tcp_conn_free(t, c, tcp_cause_of(errno));
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
#if LISPMS_NET_TLS
		if (c->tls != NULL) {
			if (!tcp_tls_read(t, c))
				return;
		} else
#endif
			for (int round = 0; round < NET_TCP_ROUNDS && !c->aborted; round++) {
				ssize_t n = recv(c->fd, t->buf, NET_TCP_READ, MSG_DONTWAIT);
				if (n == 0) {
					tcp_conn_free(t, c, STREAM_CLOSE_PEER);
					return;
				}
				if (n < 0) {
					if (errno == EINTR)
						continue;
					if (errno == EAGAIN || errno == EWOULDBLOCK)
						break;
					tcp_conn_free(t, c, tcp_cause_of(errno));
					return;
				}
				counters_add(LISPMS_M_NET_TCP_RX_BYTES, (uint64_t)n);
				if (c->closing) { /* ending: read and drop, or epoll says "readable"
						   * forever
						   */
					if ((size_t)n < NET_TCP_READ)
						break;
					continue;
				}
				int ret = tcp_conn_deliver(t, c, (size_t)n);
				if (ret < 0)
					c->closing = true; /* plain TCP: no close_notify */
				if (c->slow)
					break;
				if (c->out_len > 0 && !tcp_conn_flush(c)) {
					tcp_conn_free(t, c, tcp_cause_of(errno));
					return;
				}
				/* a short read emptied the socket: level-triggered epoll says
				 * when there is more, so spare the recv that would say EAGAIN */
				if ((size_t)n < NET_TCP_READ)
					break;
			}
	}
	if (c->aborted || c->slow) {
		tcp_conn_free(t, c, STREAM_CLOSE_SLOW);
		return;
	}
	if (c->closing && (c->out_len == 0 || !tcp_conn_flush(c) || c->out_len == 0))
		tcp_conn_free(t, c, STREAM_CLOSE_ERROR);
}

/* After a batch: one send per connection written to during it. */
static void flush_dirty(struct net_tcp *t)
{
	while (t->dirty != NULL) {
		struct net_conn *c = t->dirty;
		tcp_conn_dirty_unlink(t, c);
		if (c->aborted)
			continue;	 /* freed below with what it had queued */
		(void)tcp_tls_uncork(c); /* refused: slow, below */
		if (c->slow)		 /* at once: its peer may never make it writable */
			tcp_conn_free(t, c, STREAM_CLOSE_SLOW);
		else if (!tcp_conn_flush(c))
			tcp_conn_free(t, c, tcp_cause_of(errno));
		else if (c->closing && c->out_len == 0)
			tcp_conn_free(t, c, STREAM_CLOSE_ERROR);
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
		tcp_conn_free(t, t->doomed, STREAM_CLOSE_ABORT);
}

/* Worker thread: a new listener set, new keepalive and user timeout (and
 * for TLS new credentials and handshake timeout, taken before the listeners). */
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
#if LISPMS_NET_TLS
	if (t->next_tls_set) { /* the reference moves from next_cred to cred */
		tls_cred_free(t->cred);
		t->cred = t->next_cred;
		t->next_cred = NULL;
		t->hs_timeout_ns = t->next_hs_timeout_ns;
		t->next_tls_set = false;
	}
#endif
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
			tcp_set_options(w, c->fd);
}

static void tcp_stop(struct net_worker *w, struct net_source *src)
{
	(void)w;
	struct net_tcp *t = net_container_of(src, struct net_tcp, src);
	while (t->conns != NULL)
		tcp_conn_free(t, t->conns, STREAM_CLOSE_SHUTDOWN);
}

static void tcp_free(struct net_worker *w, struct net_source *src)
{
	struct net_tcp *t = net_container_of(src, struct net_tcp, src);
	for (unsigned i = 0; i < t->nlfds; i++)
		close(t->lfds[i]);
	if (t->next_lfds_set) /* listeners the worker never took */
		for (unsigned i = 0; i < t->next_nlfds; i++)
			close(t->next_lfds[i]);
	if (t->staged)
		for (unsigned i = 0; i < w->naddrs; i++)
			close(t->staged_fds[i]);
#if LISPMS_NET_TLS
	if (t->prio != NULL)
		gnutls_priority_deinit(t->prio);
	tls_cred_free(t->cred);
	if (t->next_tls_set)
		tls_cred_free(t->next_cred);
#endif
	free(t->buf);
	if (w->tcp == t)
		w->tcp = NULL;
	if (w->tls == t)
		w->tls = NULL;
	free(t);
}

static const struct net_source_ops tcp_source_ops = {
	.name = "tcp",
	.apply = tcp_apply,
	.round_end = tcp_round_end,
	.stop = tcp_stop,
	.free = tcp_free,
};

#if LISPMS_NET_TLS
static const struct net_source_ops tls_source_ops = {
	.name = "tls",
	.apply = tcp_apply,
	.timer = tcp_tls_timer,
	.round_end = tcp_round_end,
	.stop = tcp_stop,
	.free = tcp_free,
};
#endif

/* A TCP source (registered, so freed with the worker even on failure). */
static struct net_tcp *tcp_new(struct net_worker *w, const struct net_worker_conf *conf,
			       const struct net_source_ops *ops)
{
	struct net_tcp *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->src.ops = ops;
	t->w = w;
	t->h = conf->stream;
	t->arg = conf->stream_arg;
	for (unsigned i = 0; i < NET_MAX_ADDRS; i++)
		t->listeners[i] = (struct tcp_listener){ { listen_event }, t, i };
	net_loop_register(w, &t->src);
	return t;
}

static int tcp_listen_now(struct net_tcp *t, unsigned backlog, char *err, size_t errlen)
{
	struct net_worker *w = t->w;
	int ret = open_listeners(w, t->port, backlog, t->lfds, err, errlen);
	if (ret < 0)
		return ret;
	t->nlfds = w->naddrs;
	t->listening = true;
	t->lport = t->port;
	for (unsigned i = 0; i < t->nlfds; i++)
		net_loop_add(w, t->lfds[i], EPOLLIN, &t->listeners[i].ev);
	return LISPMS_EOK;
}

int net_tcp_init(struct net_worker *w, const struct net_worker_conf *conf, char *err, size_t errlen)
{
	struct net_tcp *t = tcp_new(w, conf, &tcp_source_ops);
	if (t == NULL)
		return LISPMS_ENOMEM;
	w->tcp = t;
	t->port = w->port;
	t->trans = STREAM_TCP;
	if ((t->buf = malloc(NET_TCP_READ)) == NULL)
		return LISPMS_ENOMEM;
	return conf->tcp_listen ? tcp_listen_now(t, conf->backlog, err, errlen) : LISPMS_EOK;
}

int net_tls_init(struct net_worker *w, const struct net_worker_conf *conf, char *err, size_t errlen)
{
#if LISPMS_NET_TLS
	struct net_tcp *t = tcp_new(w, conf, &tls_source_ops);
	if (t == NULL)
		return LISPMS_ENOMEM;
	w->tls = t;
	t->port = conf->tls_port;
	t->trans = STREAM_TLS;
	t->conn_release = tcp_tls_release;
	t->cred = tls_cred_ref(conf->tls_cred);
	t->hs_timeout_ns =
	    (uint64_t)(conf->tls_handshake_timeout_s ? conf->tls_handshake_timeout_s : 10) *
	    LISPMS_NS_PER_SEC;
	if ((t->buf = malloc(NET_TCP_READ)) == NULL)
		return LISPMS_ENOMEM;
	if (gnutls_priority_init(&t->prio, "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL) < 0) {
		t->prio = NULL;
		if (err)
			snprintf(err, errlen, "GnuTLS has no TLS 1.3");
		return LISPMS_EINTERNAL;
	}
	/* without a port (TLS off) the source waits for a reload to open one */
	return t->port ? tcp_listen_now(t, conf->backlog, err, errlen) : LISPMS_EOK;
#else
	(void)w, (void)conf;
	if (err)
		snprintf(err, errlen, "TLS is not built in (meson -Dtls=enabled)");
	return LISPMS_ENOTSUP;
#endif
}
