/* SPDX-License-Identifier: MIT */
/* A TCP connection's output queue, socket options and freeing: what both
 * halves of the TCP source use, plain TCP (tcp.c) and its TLS side
 * (tcp_tls.c), below both. A connection of the TLS instance gives its TLS
 * state back through the instance's conn_release hook (tcp_tls_release). */
#define _GNU_SOURCE
#include "tcp_conn.h"

#include <errno.h>
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

void tcp_conn_dirty_unlink(struct net_tcp *t, struct net_conn *c)
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

void tcp_conn_free(struct net_tcp *t, struct net_conn *c, enum stream_close_cause why)
{
	struct net_worker *w = t->w;
	if (t->conn_release != NULL)
		t->conn_release(t, c);
	if (c->aborted) {
		for (struct net_conn **pp = &t->doomed; *pp != NULL; pp = &(*pp)->dnext)
			if (*pp == c) {
				*pp = c->dnext;
				break;
			}
		why = STREAM_CLOSE_ABORT;
	}
	if (c->dirty)
		tcp_conn_dirty_unlink(t, c);
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

void tcp_conn_arm(struct net_conn *c, bool want_out)
{
	if (c->want_out == want_out)
		return;
	c->want_out = want_out;
	net_loop_mod(c->t->w, c->fd, EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0), &c->ev);
}

void tcp_conn_dirty_link(struct net_conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->oprev = NULL;
	c->onext = c->t->dirty;
	if (c->onext)
		c->onext->oprev = c;
	c->t->dirty = c;
}

/* Send what is queued; false when the connection failed. */
bool tcp_conn_flush(struct net_conn *c)
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
	tcp_conn_arm(c, c->out_len > 0);
	return true;
}

/* Queue bytes for the socket (plain: the session's; TLS: records). */
int tcp_conn_queue(struct net_conn *c, const uint8_t *buf, size_t len)
{
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
		(void)tcp_conn_flush(c);
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
		tcp_conn_dirty_link(c);
	} else if (!c->corked) {
		tcp_conn_arm(c, true);
	}
	return LISPMS_EOK;
}

enum stream_close_cause tcp_cause_of(int err)
{
	return err == ETIMEDOUT ? STREAM_CLOSE_TIMEOUT : STREAM_CLOSE_ERROR;
}

void tcp_set_options(const struct net_worker *w, int fd)
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

int tcp_conn_deliver(struct net_tcp *t, struct net_conn *c, size_t n)
{
	/* answers to one chunk leave in one send, not one per message */
	c->corked = true;
	lrcu_read_lock();
	int ret = t->h->recv(t->arg, c->sess, t->buf, n);
	lrcu_read_unlock();
	c->corked = false;
	return ret;
}
