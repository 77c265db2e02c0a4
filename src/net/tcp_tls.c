/* SPDX-License-Identifier: MIT */
/*
 * TLS 1.3 over TCP (docs/protocol.md D19, server.tls; built with GnuTLS,
 * LISPMS_NET_TLS): the second instance of the TCP source (tcp.c). Each
 * connection has a GnuTLS session whose push appends ciphertext to the
 * connection's output queue (so the output bound and slow-reader handling
 * are the TCP ones) and whose pull reads the socket. Admission (D5) is asked
 * at accept, before any TLS state exists; the session is opened after the
 * handshake (and the client certificate check when client-ca is set); a
 * handshake not done in the handshake timeout is dropped; close sends
 * close_notify.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include <lispms/counters.h>
#include <lispms/err.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>

#include "tcp_conn.h"

static void hs_unlink(struct net_tcp *t, struct net_conn *c)
{
	if (c->hs_deadline == 0)
		return;
	if (c->hprev)
		c->hprev->hnext = c->hnext;
	else
		t->hs_head = c->hnext;
	if (c->hnext)
		c->hnext->hprev = c->hprev;
	else
		t->hs_tail = c->hprev;
	c->hprev = c->hnext = NULL;
	c->hs_deadline = 0;
}

/* GnuTLS's transport: records out through the output queue, in from the socket. */
static ssize_t tls_push(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
	struct net_conn *c = p;
	if (tcp_conn_queue(c, buf, len) != LISPMS_EOK) {
		gnutls_transport_set_errno(c->tls, EIO);
		return -1;
	}
	return (ssize_t)len;
}

static ssize_t tls_pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	struct net_conn *c = p;
	ssize_t n = recv(c->fd, buf, len, MSG_DONTWAIT);
	if (n < 0)
		gnutls_transport_set_errno(c->tls, errno);
	else
		counters_add(LISPMS_M_NET_TCP_RX_BYTES, (uint64_t)n);
	return n;
}

bool tcp_tls_uncork(struct net_conn *c)
{
	if (c->tls == NULL || !c->tls_cork)
		return true;
	c->tls_cork = false;
	c->tls_corked = 0;
	/* the push never says EAGAIN (it queues), so this does not wait */
	if (gnutls_record_uncork(c->tls, GNUTLS_RECORD_WAIT) < 0) {
		c->slow = true; /* the bound or memory: the TCP rule, close */
		return false;
	}
	return true;
}

/* Closing: close_notify once, after what is queued (a no-op on plain TCP). */
void tcp_tls_bye(struct net_conn *c)
{
	if (c->tls == NULL || c->bye || c->sess == NULL || c->slow || c->aborted)
		return;
	if (!tcp_tls_uncork(c)) /* the held records go before the alert */
		return;
	c->bye = true;
	(void)gnutls_bye(c->tls, GNUTLS_SHUT_WR); /* push queues the alert */
}

/* Admission (D5) first, so a peer without a grant costs no TLS state. */
bool tcp_tls_start(struct net_tcp *t, struct net_conn *c, const struct sockaddr_storage *peer)
{
	struct net_worker *w = t->w;
	lrcu_read_lock();
	bool ok = t->h->admit == NULL || t->h->admit(t->arg, STREAM_TLS, peer);
	lrcu_read_unlock();
	if (!ok) {
		counters_inc(LISPMS_M_NET_TLS_REFUSED_ADMIT);
		return false;
	}
	if (t->cred == NULL)
		return false;
	if (gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
		c->tls = NULL;
		return false;
	}
	c->cred = tls_cred_ref(t->cred);
	if (gnutls_priority_set(c->tls, t->prio) < 0 ||
	    tls_cred_set_session(c->cred, c->tls) != LISPMS_EOK)
		return false;
	gnutls_transport_set_ptr(c->tls, c);
	gnutls_transport_set_push_function(c->tls, tls_push);
	gnutls_transport_set_pull_function(c->tls, tls_pull);
	c->peer = *peer;
	c->hs_deadline = mtime_now_ns() + t->hs_timeout_ns;
	c->hprev = t->hs_tail;
	if (t->hs_tail)
		t->hs_tail->hnext = c;
	else
		t->hs_head = c;
	t->hs_tail = c;
	tcp_set_options(w, c->fd);
	return true;
}

static void tls_hs_failed(struct net_tcp *t, struct net_conn *c, int g)
{
	bool cert = g == GNUTLS_E_CERTIFICATE_REQUIRED || g == GNUTLS_E_CERTIFICATE_ERROR ||
		    g == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR ||
		    g == GNUTLS_E_NO_CERTIFICATE_FOUND;
	counters_inc(cert ? LISPMS_M_NET_TLS_HS_FAIL_CERT : LISPMS_M_NET_TLS_HS_FAIL_PROTO);
	if (g != GNUTLS_E_PUSH_ERROR && g != GNUTLS_E_PULL_ERROR &&
	    g != GNUTLS_E_PREMATURE_TERMINATION) {
		(void)gnutls_alert_send_appropriate(c->tls, g); /* best effort */
		(void)tcp_conn_flush(c);
	}
	tcp_conn_free(t, c, STREAM_CLOSE_ERROR);
}

/* TLS input: the handshake, then records to the handler. False when the
 * connection was freed. */
bool tcp_tls_read(struct net_tcp *t, struct net_conn *c)
{
	if (c->sess == NULL) {
		int g = gnutls_handshake(c->tls);
		if (g == GNUTLS_E_AGAIN || g == GNUTLS_E_INTERRUPTED) {
			if (c->out_len > 0 && !tcp_conn_flush(c)) {
				tcp_conn_free(t, c, tcp_cause_of(errno));
				return false;
			}
			return true;
		}
		if (g < 0) {
			tls_hs_failed(t, c, g);
			return false;
		}
		if (!tls_cred_peer_ok(c->cred, c->tls)) {
			tls_hs_failed(t, c, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
			return false;
		}
		hs_unlink(t, c);
		counters_inc(LISPMS_M_NET_TLS_HANDSHAKES);
		lrcu_read_lock();
		c->sess = t->h->open(t->arg, &c->sc, &c->peer);
		lrcu_read_unlock();
		if (c->sess == NULL) { /* the grant went meanwhile */
			tcp_conn_free(t, c, STREAM_CLOSE_ERROR);
			return false;
		}
		if (c->out_len > 0 && !tcp_conn_flush(c)) {
			tcp_conn_free(t, c, tcp_cause_of(errno));
			return false;
		}
	}
	/* records GnuTLS holds are not seen by epoll: read them all */
	for (int round = 0;
	     !c->aborted && (round < NET_TCP_ROUNDS || gnutls_record_check_pending(c->tls) > 0);
	     round++) {
		ssize_t n = gnutls_record_recv(c->tls, t->buf, NET_TCP_READ);
		if (n == GNUTLS_E_AGAIN)
			break;
		if (n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n == 0) { /* close_notify */
			tcp_conn_free(t, c, STREAM_CLOSE_PEER);
			return false;
		}
		if (n < 0) {
			enum stream_close_cause why = STREAM_CLOSE_ERROR;
			if (n == GNUTLS_E_PREMATURE_TERMINATION)
				why = STREAM_CLOSE_PEER;
			else if (n == GNUTLS_E_PULL_ERROR)
				why = tcp_cause_of(errno);
			tcp_conn_free(t, c, why);
			return false;
		}
		if (c->closing)
			continue;
		int ret = tcp_conn_deliver(t, c, (size_t)n);
		if (ret < 0) {
			tcp_tls_bye(c);
			c->closing = true;
		}
		if (c->slow)
			break;
		if (c->out_len > 0 && !tcp_conn_flush(c)) {
			tcp_conn_free(t, c, tcp_cause_of(errno));
			return false;
		}
	}
	return true;
}

/* Handshakes not done in time are dropped (oldest first: one deadline each). */
uint64_t tcp_tls_timer(struct net_worker *w, struct net_source *src, uint64_t now)
{
	(void)w;
	struct net_tcp *t = net_container_of(src, struct net_tcp, src);
	while (t->hs_head != NULL && t->hs_head->hs_deadline <= now) {
		counters_inc(LISPMS_M_NET_TLS_HS_FAIL_TIMEOUT);
		tcp_conn_free(t, t->hs_head, STREAM_CLOSE_TIMEOUT);
	}
	return t->hs_head != NULL ? t->hs_head->hs_deadline - now : UINT64_MAX;
}

int tcp_tls_write(struct net_conn *c, const uint8_t *buf, size_t len)
{
	if (c->slow || c->aborted || c->bye)
		return LISPMS_ELIMIT;
	if (c->t->w->batching) {
		/* one record for the round's messages, not one each (22 bytes
		 * and an AEAD pass per record); the round's end uncorks */
		if (!c->tls_cork) {
			gnutls_record_cork(c->tls);
			c->tls_cork = true;
			tcp_conn_dirty_link(c);
		}
		if (gnutls_record_send(c->tls, buf, len) < 0) /* copies: cannot block */
			return LISPMS_ENOMEM;
		c->tls_corked += len;
		if (c->tls_corked >= NET_TCP_HOLD && !tcp_tls_uncork(c))
			return LISPMS_ELIMIT;
		return LISPMS_EOK;
	}
	while (len > 0) {
		ssize_t n = gnutls_record_send(c->tls, buf, len);
		if (n < 0)
			return c->slow ? LISPMS_ELIMIT : LISPMS_ECONNRESET;
		buf += n;
		len -= (size_t)n;
	}
	return LISPMS_EOK;
}

void tcp_tls_release(struct net_tcp *t, struct net_conn *c)
{
	hs_unlink(t, c);
	if (c->tls != NULL)
		gnutls_deinit(c->tls);
	tls_cred_free(c->cred);
}
