/* SPDX-License-Identifier: MIT */
/* SCTP sessions over UDP encapsulation with usrsctp (sctp.h). */
#define _GNU_SOURCE
#include "sctp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <pthread.h>
#include <sys/random.h>
#include <usrsctp.h>

#include <lispms/counters.h>
#include <lispms/dgram.h>
#include <lispms/err.h>

#define SCTP_HDR	  12 /* common header: ports, tag, CRC32c */
#define CHUNK_INIT	  1  /* RFC 9260 chunk types we look at */
#define CHUNK_COOKIE_ECHO 10
#define SCTP_BUCKETS	  4096
#define SCTP_SEND_CHUNK	  65536		 /* bytes per usrsctp_sendv */
#define SCTP_LINGER_NS	  10000000000ull /* a closed association's last exchange */

/* ---- the AF_CONN address registry ----
 *
 * usrsctp signs the AF_CONN addresses into the state cookie (HMAC), so the
 * COOKIE-ECHO must come in with the address its INIT had, and nothing may be
 * stored for the INIT: a server-side address is therefore a function of the
 * peer's UDP address and port (IPv4: the address and port themselves; IPv6:
 * a keyed 62-bit hash, a collision refused and counted). Known addresses are
 * in the registry; an INIT's answer goes to the datagram being handled. */

enum lower_kind { LOWER_PEER, LOWER_CLIENT };

struct sctp_lower {
	uint64_t id; /* 0: not registered */
	enum lower_kind kind;
	int fd;
	struct sockaddr_storage peer; /* unused for a connected client fd */
	uint64_t *send_errors;
	struct sctp_lower *rnext;
};

#define REG_BUCKETS 8192

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sctp_lower *reg[REG_BUCKETS];
static uint64_t reg_clients, reg_secret;
/* The datagram being handled statelessly on this thread (an INIT's answer). */
static _Thread_local struct sctp_lower *cur_input;

static unsigned reg_bucket(uint64_t id)
{
	return (unsigned)((id * 0x9e3779b97f4a7c15ull) >> 51) % REG_BUCKETS;
}

static uint64_t addr_id(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)a;
		return (1ull << 62) | ((uint64_t)ntohl(s->sin_addr.s_addr) << 16) |
		       ntohs(s->sin_port);
	}
	const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
	uint64_t h = 14695981039346656037ull ^ reg_secret;
	const uint8_t *p = (const uint8_t *)&s->sin6_addr;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	h = (h ^ (s->sin6_port & 0xff)) * 1099511628211ull;
	h = (h ^ (s->sin6_port >> 8)) * 1099511628211ull;
	return (2ull << 62) | (h & ((1ull << 62) - 1));
}

/* Under reg_lock. */
static struct sctp_lower *lower_find(uint64_t id)
{
	for (struct sctp_lower *l = reg[reg_bucket(id)]; l; l = l->rnext)
		if (l->id == id)
			return l;
	return NULL;
}

/* Register l under `id` (0: a new client id). LISPMS_EEXIST when taken. */
static int lower_register(struct sctp_lower *l, uint64_t id)
{
	pthread_mutex_lock(&reg_lock);
	if (id == 0)
		id = (3ull << 62) | ++reg_clients;
	if (lower_find(id) != NULL) {
		pthread_mutex_unlock(&reg_lock);
		return LISPMS_EEXIST;
	}
	l->id = id;
	unsigned b = reg_bucket(id);
	l->rnext = reg[b];
	reg[b] = l;
	pthread_mutex_unlock(&reg_lock);
	return LISPMS_EOK;
}

static void lower_deregister(struct sctp_lower *l)
{
	if (l->id == 0)
		return;
	pthread_mutex_lock(&reg_lock);
	struct sctp_lower **pp = &reg[reg_bucket(l->id)];
	while (*pp && *pp != l)
		pp = &(*pp)->rnext;
	if (*pp)
		*pp = l->rnext;
	pthread_mutex_unlock(&reg_lock);
	l->id = 0;
}

static void *lower_addr(const struct sctp_lower *l)
{
	return (void *)(uintptr_t)l->id;
}

/* usrsctp's output: one SCTP packet for AF_CONN address `addr` = the UDP
 * payload of one datagram (RFC 6951). */
static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
	(void)tos;
	(void)set_df;
	uint64_t id = (uint64_t)(uintptr_t)addr;
	pthread_mutex_lock(&reg_lock);
	struct sctp_lower *l = lower_find(id);
	if (l == NULL && cur_input != NULL && cur_input->id == id)
		l = cur_input; /* an INIT-ACK, or an answer to a stray packet */
	if (l == NULL) {       /* freed: a late retransmission */
		pthread_mutex_unlock(&reg_lock);
		return 0;
	}
	int fd = l->fd;
	struct sockaddr_storage peer = l->peer;
	bool connected = l->kind == LOWER_CLIENT;
	uint64_t *errs = l->send_errors;
	pthread_mutex_unlock(&reg_lock);
	ssize_t n = connected ? send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL)
			      : sendto(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
				       (const struct sockaddr *)&peer, saddr_len(&peer));
	if (n < 0 && errs) {
		(*errs)++;
		counters_inc(LISPMS_M_NET_SCTP_TX_ERRORS);
	}
	return 0;
}

/* ---- the stack ---- */

static pthread_mutex_t stack_lock = PTHREAD_MUTEX_INITIALIZER;
static bool stack_up;
static uint64_t stack_last;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int sctp_stack_init(void)
{
	pthread_mutex_lock(&stack_lock);
	if (!stack_up) {
		usrsctp_init_nothreads(0, conn_output, NULL);
		usrsctp_sysctl_set_sctp_blackhole(2); /* no ABORT for OOTB packets */
		usrsctp_sysctl_set_sctp_ecn_enable(0);
		usrsctp_sysctl_set_sctp_asconf_enable(0);
		usrsctp_sysctl_set_sctp_auto_asconf(0);
		usrsctp_sysctl_set_sctp_pr_enable(0);
		usrsctp_sysctl_set_sctp_reconfig_enable(0);
		usrsctp_sysctl_set_sctp_nrsack_enable(0);
		usrsctp_sysctl_set_sctp_pktdrop_enable(0);
		if (getrandom(&reg_secret, sizeof(reg_secret), 0) != sizeof(reg_secret))
			reg_secret = now_ns();
		stack_last = now_ns();
		stack_up = true;
	}
	pthread_mutex_unlock(&stack_lock);
	return LISPMS_EOK;
}

uint64_t sctp_stack_timers(uint64_t now)
{
	pthread_mutex_lock(&stack_lock);
	if (now > stack_last) {
		uint64_t ms = (now - stack_last) / 1000000u;
		if (ms > 0) {
			stack_last += ms * 1000000u;
			pthread_mutex_unlock(&stack_lock);
			usrsctp_handle_timers((uint32_t)(ms > UINT32_MAX ? UINT32_MAX : ms));
			return 10000000u;
		}
	}
	pthread_mutex_unlock(&stack_lock);
	return 10000000u;
}

static int sock_setup(struct socket *so, uint32_t keepalive_ms, uint32_t user_timeout_ms)
{
	int on = 1;
	if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof(on)) != 0 ||
	    usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof(on)) != 0)
		return -errno;
	const uint16_t events[] = { SCTP_ASSOC_CHANGE, SCTP_SHUTDOWN_EVENT };
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		struct sctp_event ev = { .se_assoc_id = SCTP_ALL_ASSOC,
					 .se_type = events[i],
					 .se_on = 1 };
		if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof(ev)) != 0)
			return -errno;
	}
	/* RTO.Initial 1 s (RFC 9260 section 16; usrsctp still has RFC 4960's
	 * 3 s): a handshake packet lost to a full receive buffer is sent again
	 * after 1 s, not 3 */
	struct sctp_rtoinfo rto = { .srto_initial = 1000 };
	if (keepalive_ms) {
		/* liveness: a HEARTBEAT every keepalive; the association is
		 * lost after user_timeout of retransmissions (RTO up to 1 s) */
		rto.srto_max = 1000;
		rto.srto_min = 200;
	}
	usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof(rto));
	if (keepalive_ms) {
		uint32_t rxt = user_timeout_ms / 1000u;
		struct sctp_assocparams ap = { .sasoc_asocmaxrxt = (uint16_t)(rxt ? rxt : 1) };
		usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_ASSOCINFO, &ap, sizeof(ap));
		struct sctp_paddrparams pp = { .spp_hbinterval = keepalive_ms,
					       .spp_pathmaxrxt = (uint16_t)(rxt ? rxt : 1),
					       .spp_flags = SPP_HB_ENABLE };
		usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof(pp));
	}
	usrsctp_set_non_blocking(so, 1);
	return 0;
}

static void sock_abort(struct socket *so)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	usrsctp_setsockopt(so, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	usrsctp_close(so);
}

/* ---- server ---- */

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
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
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
	struct sctp_rx rx;
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
			sock_abort(p->so);
		else
			usrsctp_close(p->so);
	}
	usrsctp_deregister_address(lower_addr(&p->low));
	lower_deregister(&p->low);
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
		p->linger_until = now_ns() + SCTP_LINGER_NS;
		p->znext = s->lingering;
		s->lingering = p;
	}
}

static struct sctp_peer *peer_new(struct sctp_server *s, int fd, const struct sockaddr_storage *a)
{
	struct sctp_peer *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->conn = (struct stream_conn){ &sctp_conn_ops, STREAM_SCTP };
	p->s = s;
	p->low = (struct sctp_lower){
		.kind = LOWER_PEER, .fd = fd, .peer = *a, .send_errors = &s->st.send_errors
	};
	if (lower_register(&p->low, addr_id(a)) != LISPMS_EOK) {
		s->st.drop_collision++;
		counters_inc(LISPMS_M_NET_SCTP_DROP_COLLISION);
		free(p);
		return NULL;
	}
	/* usrsctp finds an association only through a registered local
	 * AF_CONN address (the peer's id is both ends of its packets) */
	usrsctp_register_address(lower_addr(&p->low));
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
		pthread_mutex_lock(&reg_lock);
		struct sctp_lower *low = lower_find((uint64_t)(uintptr_t)sa.sconn_addr);
		pthread_mutex_unlock(&reg_lock);
		struct sctp_peer *p =
		    low && low->kind == LOWER_PEER ? net_container_of_peer(low) : NULL;
		if (p == NULL || p->so != NULL || p->s != s) {
			sock_abort(so);
			continue;
		}
		p->so = so;
		sock_setup(so, s->conf.keepalive_ms, s->conf.user_timeout_ms);
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
		usrsctp_conninput(lower_addr(&p->low), pkt, len, 0);
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
		p = peer_new(s, fd, peer);
		if (p == NULL)
			return;
		usrsctp_conninput(lower_addr(&p->low), pkt, len, 0);
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
	struct sctp_lower tmp = { .id = addr_id(peer),
				  .kind = LOWER_PEER,
				  .fd = fd,
				  .peer = *peer,
				  .send_errors = &s->st.send_errors };
	cur_input = &tmp;
	usrsctp_conninput(lower_addr(&tmp), pkt, len, 0);
	cur_input = NULL;
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
	struct sctp_rx *rx = &s->rx;
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
			if (overflow)
				rx_overflow(s, &rx->msgs[i].msg_hdr, overflow);
			sctp_server_input(s, fd, &rx->peer[i], rx->buf[i], rx->msgs[i].msg_len);
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
		uint64_t t = now_ns();
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
	if (s->lso == NULL || sock_setup(s->lso, s->conf.keepalive_ms, s->conf.user_timeout_ms) ||
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

/* ---- client ---- */

struct sctp_client {
	struct sctp_lower low;
	struct socket *so;
	bool up, eof;
	uint8_t buf[65536];
};

struct sctp_client *sctp_client_new(int fd, uint16_t port)
{
	sctp_stack_init();
	struct sctp_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->low = (struct sctp_lower){ .kind = LOWER_CLIENT, .fd = fd };
	if (lower_register(&c->low, 0) != LISPMS_EOK) {
		free(c);
		return NULL;
	}
	usrsctp_register_address(lower_addr(&c->low)); /* to bind to it */
	c->so = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
	struct sockaddr_conn sc = { .sconn_family = AF_CONN, .sconn_addr = lower_addr(&c->low) };
	struct sockaddr_conn dst = sc;
	dst.sconn_port = htons(port);
	if (c->so == NULL || sock_setup(c->so, 0, 0) != 0 ||
	    usrsctp_bind(c->so, (struct sockaddr *)&sc, sizeof(sc)) != 0 ||
	    (usrsctp_connect(c->so, (struct sockaddr *)&dst, sizeof(dst)) != 0 &&
	     errno != EINPROGRESS)) {
		int e = errno;
		if (c->so)
			usrsctp_close(c->so);
		usrsctp_deregister_address(lower_addr(&c->low));
		lower_deregister(&c->low);
		free(c);
		errno = e;
		return NULL;
	}
	return c;
}

int sctp_client_input(struct sctp_client *c)
{
	int n = 0;
	for (; n < 256; n++) {
		ssize_t r = recv(c->low.fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
		if (r < 0)
			break;
		usrsctp_conninput(lower_addr(&c->low), c->buf, (size_t)r, 0);
	}
	return n;
}

bool sctp_client_up(struct sctp_client *c)
{
	if (!c->up) { /* the association's state, without reading its data */
		struct sctp_status st;
		socklen_t l = sizeof(st);
		if (usrsctp_getsockopt(c->so, IPPROTO_SCTP, SCTP_STATUS, &st, &l) == 0 &&
		    st.sstat_state == SCTP_ESTABLISHED)
			c->up = true;
	}
	return c->up;
}

ssize_t sctp_client_send(struct sctp_client *c, uint16_t sid, const void *buf, size_t len)
{
	struct sctp_sndinfo si = { .snd_sid = sid };
	ssize_t n = usrsctp_sendv(c->so, buf, len, NULL, 0, &si, sizeof(si), SCTP_SENDV_SNDINFO, 0);
	if (n <= 0 && c->up) { /* the server's ABORT or SHUTDOWN: say so */
		struct sctp_status st;
		socklen_t l = sizeof(st);
		if (usrsctp_getsockopt(c->so, IPPROTO_SCTP, SCTP_STATUS, &st, &l) != 0 ||
		    st.sstat_state != SCTP_ESTABLISHED) {
			errno = ECONNRESET;
			return -1;
		}
		if (n == 0) {
			errno = EAGAIN;
			return -1;
		}
	}
	return n;
}

ssize_t sctp_client_recv(struct sctp_client *c, void *buf, size_t len)
{
	for (;;) {
		if (c->eof)
			return 0;
		struct sctp_rcvinfo ri;
		socklen_t il = sizeof(ri), fl = 0;
		unsigned it = 0;
		int flags = 0;
		ssize_t n = usrsctp_recvv(c->so, buf, len, NULL, &fl, &ri, &il, &it, &flags);
		if (n < 0) {
			if (errno == EWOULDBLOCK || errno == EAGAIN)
				return -1;
			c->eof = true;
			return 0;
		}
		if (n == 0) {
			c->eof = true;
			return 0;
		}
		if (flags & MSG_NOTIFICATION) {
			const union sctp_notification *sn = buf;
			if ((size_t)n >= sizeof(sn->sn_assoc_change) &&
			    sn->sn_header.sn_type == SCTP_ASSOC_CHANGE) {
				uint16_t st = sn->sn_assoc_change.sac_state;
				if (st == SCTP_COMM_UP)
					c->up = true;
				else if (st == SCTP_COMM_LOST || st == SCTP_SHUTDOWN_COMP ||
					 st == SCTP_CANT_STR_ASSOC)
					c->eof = true;
			}
			continue;
		}
		return n;
	}
}

void sctp_client_shutdown(struct sctp_client *c)
{
	if (sctp_client_up(c))
		usrsctp_shutdown(c->so, SHUT_WR);
	else
		c->eof = true; /* never up: nothing to end */
}

bool sctp_client_ended(struct sctp_client *c)
{
	uint8_t b[256];
	while (!c->eof && sctp_client_recv(c, b, sizeof(b)) >= 0)
		; /* what comes after the SHUTDOWN is discarded */
	return c->eof;
}

void sctp_client_free(struct sctp_client *c)
{
	if (c == NULL)
		return;
	usrsctp_shutdown(c->so, SHUT_WR); /* the SHUTDOWN goes out now */
	usrsctp_close(c->so);
	usrsctp_deregister_address(lower_addr(&c->low));
	lower_deregister(&c->low);
	free(c);
}
