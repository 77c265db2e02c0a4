/* SPDX-License-Identifier: MIT */
/* SCTP sessions over UDP encapsulation with usrsctp: the server (sctp.h),
 * on the stack and AF_CONN addresses of sctp_stack.c. */
#define _GNU_SOURCE
#include "sctp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <usrsctp.h>

#include <lispms/counters.h>
#include <lispms/dgram.h>
#include <lispms/err.h>

#include "net_sock.h"
#include "sctp_stack.h"

#define SCTP_HDR	  12 /* common header: ports, tag, CRC32c */
#define CHUNK_COOKIE_ECHO 10 /* the RFC 9260 chunk type we look at */
#define SCTP_BUCKETS	  4096
#define SCTP_SEND_CHUNK	  65536		 /* bytes per usrsctp_sendv */
#define SCTP_LINGER_NS	  10000000000ull /* a closed association's last exchange */

struct sctp_peer {
	struct stream_conn conn; /* first */
	struct sctp_server *s;
	struct sctp_lower low;
	struct socket *so;
	void *sess;
	struct sctp_peer *hnext;
	struct sctp_peer *pnext; /* pending list */
	struct sctp_peer *znext; /* lingering list */
	uint8_t *out;
	size_t outlen, outcap;
	uint64_t linger_until;
	bool pending, open, closing, shut, slow, aborted, ended;
};

/* One recvmmsg batch: a datagram is at most 64 KiB (a peer's path MTU may
 * be loopback's); only the pages a datagram fills are ever touched. */
#define SCTP_RX_BATCH  16
#define SCTP_RX_BUDGET 256 /* datagrams per read, then the loop's other work */

struct sctp_rx {
	struct mmsghdr msgs[SCTP_RX_BATCH];
	struct iovec iov[SCTP_RX_BATCH];
	struct sockaddr_storage peer[SCTP_RX_BATCH];
	union { /* SO_RXQ_OVFL, and PKTINFO on a wildcard socket */
		char buf[CMSG_SPACE(sizeof(uint32_t)) + NET_SOCK_PKTINFO_SPACE];
		struct cmsghdr align;
	} ctl[SCTP_RX_BATCH];
	uint8_t buf[SCTP_RX_BATCH][65536];
};

struct sctp_server {
	const struct stream_handler *h;
	void *arg;
	struct sctp_conf conf;
	size_t own_count, *count;
	struct socket *lso;
	struct sctp_peer *buckets[SCTP_BUCKETS];
	size_t npeers;
	struct sctp_peer *pending, *lingering;
	struct sctp_stats st;
	uint8_t buf[65536]; /* what an association delivers */
	struct sctp_rx *rx; /* at the first read: a server fed otherwise has none */
};

static const struct stream_conn_ops sctp_conn_ops;

static struct sctp_peer *net_container_of_peer(struct sctp_lower *l)
{
	return (struct sctp_peer *)(void *)((char *)l - offsetof(struct sctp_peer, low));
}

static unsigned peer_hash(const struct sockaddr_storage *a)
{
	uint32_t h = 2166136261u;
	const uint8_t *p;
	size_t n;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)a;
		h = (h ^ s->sin_port) * 16777619u;
		p = (const uint8_t *)&s->sin_addr;
		n = 4;
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
		h = (h ^ s->sin6_port) * 16777619u;
		p = (const uint8_t *)&s->sin6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % SCTP_BUCKETS;
}

static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

static struct sctp_peer *peer_find(struct sctp_server *s, const struct sockaddr_storage *a)
{
	for (struct sctp_peer *p = s->buckets[peer_hash(a)]; p; p = p->hnext)
		if (same_peer(&p->low.peer, a))
			return p;
	return NULL;
}

static void mark_pending(struct sctp_peer *p)
{
	if (!p->pending) {
		p->pending = true;
		p->pnext = p->s->pending;
		p->s->pending = p;
	}
}

static void upcall(struct socket *so, void *arg, int flags)
{
	(void)so;
	(void)flags;
	mark_pending(arg);
}

static void peer_free(struct sctp_server *s, struct sctp_peer *p, bool abortive)
{
	struct sctp_peer **pp = &s->buckets[peer_hash(&p->low.peer)];
	while (*pp && *pp != p)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = p->hnext;
	for (pp = &s->pending; *pp; pp = &(*pp)->pnext)
		if (*pp == p) {
			*pp = p->pnext;
			break;
		}
	for (pp = &s->lingering; *pp; pp = &(*pp)->znext)
		if (*pp == p) {
			*pp = p->znext;
			break;
		}
	if (p->so) {
		usrsctp_set_upcall(p->so, NULL, NULL);
		if (abortive)
			sctp_stack_sock_abort(p->so);
		else
			usrsctp_close(p->so);
	}
	sctp_stack_deregister(&p->low);
	s->npeers--;
	free(p->out);
	free(p);
}

/* The session ends (closed() once). The association is aborted, or, after
 * an orderly end, kept briefly so its SHUTDOWN exchange can finish. */
static void peer_end(struct sctp_server *s, struct sctp_peer *p, enum stream_close_cause why,
		     bool assoc_gone)
{
	if (!p->ended) {
		p->ended = true;
		if (p->open) {
			p->open = false;
			(*s->count)--;
			s->h->closed(s->arg, p->sess, why);
		}
	}
	if (assoc_gone || why != STREAM_CLOSE_PEER) {
		peer_free(s, p, !assoc_gone);
		return;
	}
	if (p->linger_until == 0) {
		p->linger_until = sctp_stack_now() + SCTP_LINGER_NS;
		p->znext = s->lingering;
		s->lingering = p;
	}
}

static struct sctp_peer *peer_new(struct sctp_server *s, int fd, const struct sockaddr_storage *a,
				  const struct sockaddr_storage *local)
{
	struct sctp_peer *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->conn = (struct stream_conn){ &sctp_conn_ops, STREAM_SCTP };
	p->s = s;
	p->low = (struct sctp_lower){ .kind = SCTP_LOWER_PEER,
				      .fd = fd,
				      .peer = *a,
				      .local = *local,
				      .send_errors = &s->st.send_errors };
	if (sctp_stack_register(&p->low, sctp_stack_addr_id(a)) != LISPMS_EOK) {
		s->st.drop_collision++;
		counters_inc(LISPMS_M_NET_SCTP_DROP_COLLISION);
		free(p);
		return NULL;
	}
	unsigned b = peer_hash(a);
	p->hnext = s->buckets[b];
	s->buckets[b] = p;
	s->npeers++;
	return p;
}

/* Associations the last packet brought up. */
static void accept_all(struct sctp_server *s)
{
	for (;;) {
		struct sockaddr_conn sa;
		socklen_t l = sizeof(sa);
		struct socket *so = usrsctp_accept(s->lso, (struct sockaddr *)&sa, &l);
		if (so == NULL)
			return;
		struct sctp_lower *low = sctp_stack_find((uint64_t)(uintptr_t)sa.sconn_addr);
		struct sctp_peer *p =
		    low && low->kind == SCTP_LOWER_PEER ? net_container_of_peer(low) : NULL;
		if (p == NULL || p->so != NULL || p->s != s) {
			sctp_stack_sock_abort(so);
			continue;
		}
		p->so = so;
		sctp_stack_sock_setup(so, s->conf.keepalive_ms, s->conf.user_timeout_ms);
		int sb = (int)(s->conf.output_limit < 1048576 ? s->conf.output_limit : 1048576);
		usrsctp_setsockopt(so, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
		usrsctp_set_upcall(so, upcall, p);
		s->st.accepted++;
		counters_inc(LISPMS_M_NET_SCTP_ACCEPTED);
		(*s->count)++;
		p->open = true;
		p->sess = s->h->open(s->arg, &p->conn, &p->low.peer);
		if (p->sess == NULL) { /* not admitted after all: abort, nothing sent */
			p->open = false;
			(*s->count)--;
			peer_free(s, p, true);
			continue;
		}
		mark_pending(p); /* DATA may have come with the COOKIE-ECHO */
	}
}

void sctp_server_input(struct sctp_server *s, int fd, const struct sockaddr_storage *peer,
		       const uint8_t *pkt, size_t len)
{
	struct sockaddr_storage any = { .ss_family = AF_UNSPEC };
	sctp_server_input_to(s, fd, peer, &any, pkt, len);
}

void sctp_server_input_to(struct sctp_server *s, int fd, const struct sockaddr_storage *peer,
			  const struct sockaddr_storage *local, const uint8_t *pkt, size_t len)
{
	s->st.rx_packets++;
	counters_inc(LISPMS_M_NET_SCTP_RX_PACKETS);
	if (len < SCTP_HDR + 4) {
		s->st.drop_malformed++;
		counters_inc(LISPMS_M_NET_SCTP_DROP_MALFORMED);
		return;
	}
	struct sctp_peer *p = peer_find(s, peer);
	if (p != NULL) {
		if (p->low.fd != fd)
			p->low.fd = fd;
		p->low.local = *local; /* where it asks now (one worker owns the peer) */
		sctp_stack_input(&p->low, pkt, len);
		return;
	}
	if (pkt[SCTP_HDR] == CHUNK_COOKIE_ECHO) {
		/* D5, D18: the only packet that makes association state */
		if (!s->h->admit(s->arg, STREAM_SCTP, peer)) {
			s->st.drop_unauthorised++;
			counters_inc(LISPMS_M_NET_SCTP_DROP_ADMIT);
			return;
		}
		if (*s->count >= s->conf.max_conns) {
			s->st.drop_max_sessions++;
			counters_inc(LISPMS_M_NET_SCTP_DROP_LIMIT);
			return;
		}
		p = peer_new(s, fd, peer, local);
		if (p == NULL)
			return;
		sctp_stack_input(&p->low, pkt, len);
		accept_all(s);
		if (p->so == NULL && peer_find(s, peer) == p) {
			s->st.drop_bad_cookie++;
			counters_inc(LISPMS_M_NET_SCTP_DROP_COOKIE);
			peer_free(s, p, true);
		}
		return;
	}
	/* an INIT (answered with an INIT-ACK whose cookie holds everything),
	 * or a packet for no association: through the stateless address */
	s->st.inits_stateless++;
	counters_inc(LISPMS_M_NET_SCTP_STATELESS);
	struct sctp_lower tmp = { .id = sctp_stack_addr_id(peer),
				  .kind = SCTP_LOWER_PEER,
				  .fd = fd,
				  .peer = *peer,
				  .local = *local,
				  .send_errors = &s->st.send_errors };
	sctp_stack_input_stateless(&tmp, pkt, len);
}

/* The kernel's count of datagrams it dropped on the socket (SO_RXQ_OVFL,
 * cumulative, on each datagram): what grew since the last one seen. */
static void rx_overflow(struct sctp_server *s, struct msghdr *mh, uint32_t *seen)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SO_RXQ_OVFL ||
		    cm->cmsg_len < CMSG_LEN(sizeof(uint32_t)))
			continue;
		uint32_t v;
		memcpy(&v, CMSG_DATA(cm), sizeof(v));
		if (v != *seen) {
			s->st.drop_rcvbuf += (uint32_t)(v - *seen);
			counters_add(LISPMS_M_NET_SCTP_DROP_RCVBUF, (uint32_t)(v - *seen));
			*seen = v;
		}
	}
}

int sctp_server_read(struct sctp_server *s, int fd, uint32_t *overflow)
{
	if (s->rx == NULL && (s->rx = malloc(sizeof(*s->rx))) == NULL)
		return 0; /* the datagrams wait in the socket */
	struct sctp_rx *rx = s->rx;
	int n = 0;
	while (n < SCTP_RX_BUDGET) {
		for (unsigned i = 0; i < SCTP_RX_BATCH; i++) {
			rx->iov[i] = (struct iovec){ rx->buf[i], sizeof(rx->buf[i]) };
			rx->msgs[i].msg_hdr =
			    (struct msghdr){ .msg_name = &rx->peer[i],
					     .msg_namelen = sizeof(rx->peer[i]),
					     .msg_iov = &rx->iov[i],
					     .msg_iovlen = 1,
					     .msg_control = rx->ctl[i].buf,
					     .msg_controllen = sizeof(rx->ctl[i].buf) };
		}
		int r = recvmmsg(fd, rx->msgs, SCTP_RX_BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			break;
		for (int i = 0; i < r; i++) {
			struct msghdr *mh = &rx->msgs[i].msg_hdr;
			if (overflow)
				rx_overflow(s, mh, overflow);
			/* the address it was sent to, when the socket is a
			 * wildcard one with PKTINFO on (else a wildcard) */
			struct sockaddr_storage any = { .ss_family = rx->peer[i].ss_family }, local;
			net_sock_local(mh, &any, &local);
			sctp_server_input_to(s, fd, &rx->peer[i], &local, rx->buf[i],
					     rx->msgs[i].msg_len);
		}
		n += r;
		/* deliver as we go: what a batch brought is answered before
		 * the next is read */
		sctp_server_process(s);
		if (r < SCTP_RX_BATCH)
			break;
	}
	sctp_server_process(s);
	return n;
}

static bool peer_flush(struct sctp_peer *p)
{
	while (p->outlen > 0) {
		struct sctp_sndinfo si = { .snd_sid = 0, .snd_ppid = 0 };
		size_t n = p->outlen < SCTP_SEND_CHUNK ? p->outlen : SCTP_SEND_CHUNK;
		ssize_t r = usrsctp_sendv(p->so, p->out, n, NULL, 0, &si, sizeof(si),
					  SCTP_SENDV_SNDINFO, 0);
		if (r < 0)
			return errno == EWOULDBLOCK || errno == EAGAIN;
		memmove(p->out, p->out + r, p->outlen - (size_t)r);
		p->outlen -= (size_t)r;
	}
	return true;
}

/* A notification: does the association end, and how? */
static bool notification(struct sctp_server *s, struct sctp_peer *p, const uint8_t *buf, size_t n)
{
	const union sctp_notification *sn = (const void *)buf;
	if (n < sizeof(sn->sn_header))
		return false;
	if (sn->sn_header.sn_type == SCTP_ASSOC_CHANGE && n >= sizeof(sn->sn_assoc_change)) {
		const struct sctp_assoc_change *ac = &sn->sn_assoc_change;
		if (ac->sac_state == SCTP_COMM_LOST)
			/* with the peer's ABORT chunk attached: reset by the
			 * peer; without: retransmissions or heartbeats failed */
			peer_end(s, p,
				 ac->sac_length > sizeof(*ac) ? STREAM_CLOSE_ERROR
							      : STREAM_CLOSE_TIMEOUT,
				 true);
		else if (ac->sac_state == SCTP_SHUTDOWN_COMP)
			peer_end(s, p, STREAM_CLOSE_PEER, true);
		else if (ac->sac_state == SCTP_CANT_STR_ASSOC)
			peer_end(s, p, STREAM_CLOSE_ERROR, true);
		else
			return false;
		return true;
	}
	if (sn->sn_header.sn_type == SCTP_SHUTDOWN_EVENT && !p->ended) {
		/* the peer's SHUTDOWN: the session ends now, the association
		 * lingers until its SHUTDOWN-COMPLETE */
		peer_end(s, p, STREAM_CLOSE_PEER, false);
		return false;
	}
	return false;
}

static void peer_poll(struct sctp_server *s, struct sctp_peer *p)
{
	if (p->so == NULL)
		return;
	if (!p->ended) {
		if (p->aborted) {
			peer_end(s, p, STREAM_CLOSE_ABORT, false);
			return;
		}
		if (p->slow) {
			peer_end(s, p, STREAM_CLOSE_SLOW, false);
			return;
		}
		if (!peer_flush(p)) {
			peer_end(s, p, STREAM_CLOSE_ERROR, false);
			return;
		}
		if (p->closing && p->outlen == 0 && !p->shut) {
			p->shut = true;
			usrsctp_shutdown(p->so, SHUT_WR);
		}
	}
	for (int round = 0; round < 64; round++) {
		struct sctp_rcvinfo ri;
		socklen_t il = sizeof(ri), fl = 0;
		unsigned it = 0;
		int flags = 0;
		ssize_t n =
		    usrsctp_recvv(p->so, s->buf, sizeof(s->buf), NULL, &fl, &ri, &il, &it, &flags);
		if (n < 0) {
			if (errno == EWOULDBLOCK || errno == EAGAIN)
				return;
			peer_end(s, p,
				 errno == ETIMEDOUT ? STREAM_CLOSE_TIMEOUT : STREAM_CLOSE_ERROR,
				 true);
			return;
		}
		if (n == 0) { /* the peer's SHUTDOWN */
			if (!p->ended)
				peer_end(s, p, STREAM_CLOSE_PEER, false);
			return;
		}
		if (flags & MSG_NOTIFICATION) {
			if (notification(s, p, s->buf, (size_t)n))
				return;
			continue;
		}
		if (it == SCTP_RECVV_RCVINFO && ri.rcv_sid != 0) {
			s->st.streams_refused++;
			counters_inc(LISPMS_M_NET_SCTP_STREAM_REFUSED); /* D18: stream 0 only */
			continue;
		}
		if (p->ended || p->closing)
			continue;
		if (s->h->recv(s->arg, p->sess, s->buf, (size_t)n) < 0)
			p->closing = true;
		if (p->aborted || p->slow || p->closing) {
			mark_pending(p);
			return;
		}
	}
	mark_pending(p); /* more to read next time */
}

void sctp_server_process(struct sctp_server *s)
{
	/* a bounded number of passes: a peer that keeps reading stays pending */
	struct sctp_peer *list = s->pending;
	s->pending = NULL;
	while (list) {
		struct sctp_peer *p = list;
		list = p->pnext;
		p->pending = false;
		peer_poll(s, p);
	}
	if (s->lingering) {
		uint64_t t = sctp_stack_now();
		struct sctp_peer *z = s->lingering, *next;
		for (; z; z = next) {
			next = z->znext;
			if (z->linger_until <= t)
				peer_free(s, z, true);
		}
	}
}

static int sctp_write(struct stream_conn *c, const uint8_t *buf, size_t len)
{
	struct sctp_peer *p = (struct sctp_peer *)c;
	if (p->ended || p->slow || p->aborted)
		return LISPMS_EINVAL;
	if (p->outlen + len > p->s->conf.output_limit) {
		p->slow = true;
		mark_pending(p);
		return LISPMS_ELIMIT;
	}
	if (p->outlen + len > p->outcap) {
		size_t cap = p->outcap ? p->outcap : 4096;
		while (cap < p->outlen + len)
			cap *= 2;
		uint8_t *o = realloc(p->out, cap);
		if (o == NULL)
			return LISPMS_ENOMEM;
		p->out = o;
		p->outcap = cap;
	}
	memcpy(p->out + p->outlen, buf, len);
	p->outlen += len;
	mark_pending(p);
	return LISPMS_EOK;
}

static void sctp_close_conn(struct stream_conn *c)
{
	struct sctp_peer *p = (struct sctp_peer *)c;
	p->closing = true;
	mark_pending(p);
}

static void sctp_abort_conn(struct stream_conn *c)
{
	struct sctp_peer *p = (struct sctp_peer *)c;
	p->aborted = true;
	mark_pending(p);
}

static size_t sctp_queued(const struct stream_conn *c)
{
	return ((const struct sctp_peer *)c)->outlen;
}

static const struct stream_conn_ops sctp_conn_ops = {
	.write = sctp_write,
	.close = sctp_close_conn,
	.abort = sctp_abort_conn,
	.queued = sctp_queued,
};

struct sctp_server *sctp_server_new(const struct sctp_conf *conf, const struct stream_handler *h,
				    void *arg, char *err, size_t errlen)
{
	sctp_stack_init();
	struct sctp_server *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->h = h;
	s->arg = arg;
	s->conf = *conf;
	if (s->conf.output_limit == 0)
		s->conf.output_limit = 4u << 20;
	if (s->conf.max_conns == 0)
		s->conf.max_conns = 1024;
	if (s->conf.keepalive_ms == 0)
		s->conf.keepalive_ms = 10000;
	if (s->conf.user_timeout_ms == 0)
		s->conf.user_timeout_ms = 30000;
	s->count = conf->conn_count ? conf->conn_count : &s->own_count;
	s->lso = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
	struct sockaddr_conn sc = { .sconn_family = AF_CONN, .sconn_port = htons(conf->port) };
	if (s->lso == NULL ||
	    sctp_stack_sock_setup(s->lso, s->conf.keepalive_ms, s->conf.user_timeout_ms) ||
	    usrsctp_bind(s->lso, (struct sockaddr *)&sc, sizeof(sc)) != 0 ||
	    usrsctp_listen(s->lso, 128) != 0) {
		if (err)
			snprintf(err, errlen, "SCTP port %u: %s", conf->port, strerror(errno));
		if (s->lso)
			usrsctp_close(s->lso);
		free(s);
		return NULL;
	}
	return s;
}

void sctp_server_set_limits(struct sctp_server *s, size_t output_limit, uint32_t max_conns,
			    uint32_t keepalive_ms)
{
	if (output_limit)
		s->conf.output_limit = output_limit;
	if (max_conns)
		s->conf.max_conns = max_conns;
	if (keepalive_ms)
		s->conf.keepalive_ms = keepalive_ms;
}

void sctp_server_stop(struct sctp_server *s)
{
	for (unsigned b = 0; b < SCTP_BUCKETS; b++)
		while (s->buckets[b]) {
			struct sctp_peer *p = s->buckets[b];
			if (!p->ended && p->open)
				peer_end(s, p, STREAM_CLOSE_SHUTDOWN, false);
			else
				peer_free(s, p, true);
		}
}

void sctp_server_free(struct sctp_server *s)
{
	if (s == NULL)
		return;
	sctp_server_stop(s);
	usrsctp_close(s->lso);
	free(s->rx);
	free(s);
}

size_t sctp_server_peers(const struct sctp_server *s)
{
	return s->npeers;
}

const struct sctp_stats *sctp_server_stats(const struct sctp_server *s)
{
	return &s->st;
}
