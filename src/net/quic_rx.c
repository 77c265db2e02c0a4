/* SPDX-License-Identifier: MIT */
/*
 * QUIC datagrams in (quic.h): the stateless Retry, address validation and
 * admission before a connection exists (docs/protocol.md D5, D17), the
 * dispatch to a connection by its CID, and the socket read path.
 */
#define _GNU_SOURCE /* struct in6_pktinfo (net_sock.h) */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <ngtcp2/ngtcp2_crypto.h>
#include <sys/socket.h>

#include <lispms/counters.h>
#include <lispms/err.h>

#include "net_sock.h"
#include "quic_int.h"

static void send_retry(struct quic_server *qs, int fd, const struct sockaddr_storage *local,
		       const struct sockaddr_storage *peer, const ngtcp2_pkt_hd *hd, uint64_t now)
{
	ngtcp2_cid scid;
	scid.datalen = QUIC_SCIDLEN;
	quic_rand(scid.data, scid.datalen, NULL);
	uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN];
	ngtcp2_ssize tl = ngtcp2_crypto_generate_retry_token(
	    token, qs->secret, sizeof(qs->secret), hd->version, (const ngtcp2_sockaddr *)peer,
	    sa_len(peer), &scid, &hd->dcid, now);
	if (tl < 0)
		return;
	ngtcp2_ssize n = ngtcp2_crypto_write_retry(qs->buf, sizeof(qs->buf), hd->version, &hd->scid,
						   &scid, &hd->dcid, token, (size_t)tl);
	if (n <= 0)
		return;
	counters_inc(LISPMS_M_NET_QUIC_RETRY_SENT);
	quic_send_to(fd, local, peer, qs->buf, (size_t)n);
}

/* A datagram for no connection: only a client's Initial may start one. */
static void input_new(struct quic_server *qs, int fd, const struct sockaddr_storage *local,
		      const struct sockaddr_storage *peer, const uint8_t *pkt, size_t len,
		      uint64_t now)
{
	if (qs->rx_age > (uint64_t)qs->conf.initial_max_age_ms * NGTCP2_MILLISECONDS) {
		/* Waited in a full socket longer than the client waits for an
		 * answer before it repeats its Initial: the repeat is behind it
		 * in the queue, or the client gave up. Dropped before any crypto,
		 * so a backlog drains fast instead of being worked off stale. */
		counters_inc(LISPMS_M_NET_QUIC_DROP_STALE);
		return;
	}
	ngtcp2_pkt_hd hd;
	int rv = ngtcp2_accept(&hd, pkt, len);
	if (rv != 0) {
		counters_inc(rv == NGTCP2_ERR_RETRY ? LISPMS_M_NET_QUIC_DROP_UNKNOWN
						    : LISPMS_M_NET_QUIC_DROP_UNKNOWN);
		return;
	}
	if (hd.type != NGTCP2_PKT_INITIAL) {
		counters_inc(LISPMS_M_NET_QUIC_DROP_UNKNOWN);
		return;
	}
	if (hd.token.len == 0) {
		/* stateless: a spoofed source gets nothing */
		send_retry(qs, fd, local, peer, &hd, now);
		return;
	}
	ngtcp2_cid odcid;
	uint64_t life = (uint64_t)qs->conf.token_lifetime_ms * NGTCP2_MILLISECONDS;
	if (hd.token.base[0] != NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY ||
	    ngtcp2_crypto_verify_retry_token(
		&odcid, hd.token.base, hd.token.len, qs->secret, sizeof(qs->secret), hd.version,
		(const ngtcp2_sockaddr *)peer, sa_len(peer), &hd.dcid, life, now) != 0) {
		counters_inc(LISPMS_M_NET_QUIC_DROP_TOKEN);
		return;
	}
	/* The address is proven; now admission, before any state (D5). */
	if (!qs->h->admit(qs->arg, STREAM_QUIC, peer)) {
		counters_inc(LISPMS_M_NET_QUIC_DROP_ADMIT);
		return;
	}
	if ((qs->conf.conn_count ? *qs->conf.conn_count : qs->nconns) >= qs->conf.max_conns) {
		counters_inc(LISPMS_M_NET_QUIC_DROP_LIMIT);
		return;
	}
	struct quic_conn *c;
	if (quic_conn_new(qs, fd, local, peer, &hd, &odcid, now, &c) != 0) {
		counters_inc(LISPMS_M_NET_QUIC_DROP_LIMIT);
		return;
	}
	counters_inc(LISPMS_M_NET_QUIC_ACCEPTED);
	quic_conn_mark(c);
	ngtcp2_path path;
	quic_conn_path(c, &path);
	ngtcp2_pkt_info pi = { 0 };
	rv = ngtcp2_conn_read_pkt(c->conn, &path, &pi, pkt, len, now);
	if (rv != 0) {
		counters_inc(LISPMS_M_NET_QUIC_DROP_CONN);
		quic_conn_kill(c, STREAM_CLOSE_ERROR, true);
	}
}

void quic_server_input(struct quic_server *qs, int fd, const struct sockaddr_storage *local,
		       const struct sockaddr_storage *peer, const uint8_t *pkt, size_t len,
		       uint64_t now)
{
	counters_inc(LISPMS_M_NET_QUIC_RX_PACKETS);
	if (len == 0) { /* ngtcp2_pkt_decode_version_cid asserts on it (fuzz) */
		counters_inc(LISPMS_M_NET_QUIC_DROP_MALFORMED);
		return;
	}
	ngtcp2_version_cid vc;
	int rv = ngtcp2_pkt_decode_version_cid(&vc, pkt, len, QUIC_SCIDLEN);
	if (rv != 0) {
		/* NGTCP2_ERR_VERSION_NEGOTIATION: a version we do not speak;
		 * no Version Negotiation (it would reflect), just drop */
		counters_inc(LISPMS_M_NET_QUIC_DROP_MALFORMED);
		return;
	}
	struct quic_conn *c = quic_cid_find(qs, vc.dcid, vc.dcidlen);
	if (!c) {
		input_new(qs, fd, local, peer, pkt, len, now);
		return;
	}
	if (c->dead)
		return;
	if (!sa_same(peer, &c->peer) || !sa_same(local, &c->local)) {
		/* migration disabled: a new path is refused, not validated */
		counters_inc(LISPMS_M_NET_QUIC_DROP_MIGRATION);
		return;
	}
	ngtcp2_path path;
	quic_conn_path(c, &path);
	ngtcp2_pkt_info pi = { 0 };
	quic_conn_mark(c);
	rv = ngtcp2_conn_read_pkt(c->conn, &path, &pi, pkt, len, now);
	if (rv == 0) {
		quic_conn_tls_release(c);
		return;
	}
	if (rv == NGTCP2_ERR_DRAINING) {
		quic_conn_kill(c, STREAM_CLOSE_PEER, true);
		return;
	}
	if (rv == NGTCP2_ERR_DROP_CONN || rv == NGTCP2_ERR_RETRY) {
		counters_inc(LISPMS_M_NET_QUIC_DROP_CONN);
		quic_conn_kill(c, STREAM_CLOSE_ERROR, true);
		return;
	}
	if (rv == NGTCP2_ERR_CRYPTO || rv == NGTCP2_ERR_PROTO ||
	    rv == NGTCP2_ERR_CALLBACK_FAILURE || rv == NGTCP2_ERR_STREAM_LIMIT ||
	    rv == NGTCP2_ERR_FLOW_CONTROL || rv == NGTCP2_ERR_FRAME_ENCODING ||
	    rv == NGTCP2_ERR_TRANSPORT_PARAM || rv == NGTCP2_ERR_STREAM_STATE ||
	    rv == NGTCP2_ERR_FINAL_SIZE || rv == NGTCP2_ERR_MALFORMED_TRANSPORT_PARAM ||
	    rv == NGTCP2_ERR_REQUIRED_TRANSPORT_PARAM || rv == NGTCP2_ERR_CRYPTO_BUFFER_EXCEEDED ||
	    rv == NGTCP2_ERR_NOMEM) {
		counters_inc(LISPMS_M_NET_QUIC_DROP_CONN);
		/* the connection is lost: CONNECTION_CLOSE with ngtcp2's reason */
		ngtcp2_connection_close_error ce;
		ngtcp2_connection_close_error_set_transport_error_liberr(&ce, rv, NULL, 0);
		ngtcp2_path_storage ps;
		quic_ps_zero(&ps);
		ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->conn, &ps.path, &pi, qs->buf,
								    sizeof(qs->buf), &ce, now);
		if (n > 0)
			quic_send_to(c->fd, &c->local, &c->peer, qs->buf, (size_t)n);
		quic_conn_kill(c, STREAM_CLOSE_ERROR, true);
		return;
	}
	/* a packet ngtcp2 could not use (undecryptable, duplicate): dropped */
	counters_inc(LISPMS_M_NET_QUIC_DROP_MALFORMED);
}

/* The kernel's count of datagrams it dropped on the socket (SO_RXQ_OVFL,
 * cumulative): what grew since the last one seen is counted. With
 * SO_TIMESTAMPNS, how long the datagram waited in the socket (ns, against
 * `rt`, CLOCK_REALTIME as the kernel stamps it); 0 without a stamp. */
static uint64_t rx_cmsg(struct msghdr *mh, uint32_t *seen, const struct timespec *rt)
{
	uint64_t age = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SO_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			int64_t d = (int64_t)(rt->tv_sec - ts.tv_sec) * 1000000000 +
				    (rt->tv_nsec - ts.tv_nsec);
			age = d > 0 ? (uint64_t)d : 0;
			continue;
		}
		if (cm->cmsg_type != SO_RXQ_OVFL || cm->cmsg_len < CMSG_LEN(sizeof(uint32_t)))
			continue;
		uint32_t v;
		memcpy(&v, CMSG_DATA(cm), sizeof(v));
		if (seen && v != *seen) {
			counters_add(LISPMS_M_NET_QUIC_DROP_RCVBUF, (uint32_t)(v - *seen));
			*seen = v;
		}
	}
	return age;
}

int quic_server_read(struct quic_server *qs, int fd, uint32_t *overflow, uint64_t now)
{
	struct sockaddr_storage bound, local;
	socklen_t ll = sizeof(bound);
	if (getsockname(fd, (struct sockaddr *)&bound, &ll) != 0)
		return -errno;
	uint8_t *rx = qs->rx;
	int n = 0;
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	while (n < QUIC_RX_BUDGET) {
		struct sockaddr_storage peer;
		memset(&peer, 0, sizeof(peer));
		struct iovec iov = { rx, sizeof(qs->rx) };
		union {
			char buf[CMSG_SPACE(sizeof(uint32_t)) +
				 CMSG_SPACE(sizeof(struct timespec)) + NET_SOCK_PKTINFO_SPACE];
			struct cmsghdr align;
		} ctl;
		struct msghdr mh = { .msg_name = &peer,
				     .msg_namelen = sizeof(peer),
				     .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf) };
		ssize_t r = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		qs->rx_age = rx_cmsg(&mh, overflow, &rt);
		/* on a wildcard socket (PKTINFO on): the address the peer sent
		 * to, which the answers leave from (quic_send_to) */
		net_sock_local(&mh, &bound, &local);
		quic_server_input(qs, fd, &local, &peer, rx, (size_t)r, now);
		qs->rx_age = 0;
		if (++n % QUIC_RX_FLUSH == 0) {
			/* answer as we go: a handshake storm must not wait for the
			 * whole receive queue to be read */
			quic_server_flush(qs, now);
			now = quic_now();
			clock_gettime(CLOCK_REALTIME, &rt);
		}
	}
	quic_server_flush(qs, now);
	return n;
}
