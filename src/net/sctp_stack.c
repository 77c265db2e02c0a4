/* SPDX-License-Identifier: MIT */
/* The process's usrsctp stack and its AF_CONN lower layer (sctp_stack.h). */
#define _GNU_SOURCE
#include "sctp_stack.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>
#include <pthread.h>
#include <sys/random.h>
#include <usrsctp.h>

#include <lispms/counters.h>
#include <lispms/dgram.h>
#include <lispms/err.h>

#include "net_sock.h"
#include "sctp.h"

/* ---- the AF_CONN address registry ----
 *
 * usrsctp signs the AF_CONN addresses into the state cookie (HMAC), so the
 * COOKIE-ECHO must come in with the address its INIT had, and nothing may be
 * stored for the INIT: a server-side address is therefore a function of the
 * peer's UDP address and port (IPv4: the address and port themselves; IPv6:
 * a keyed 62-bit hash, a collision refused and counted). Known addresses are
 * in the registry; an INIT's answer goes to the datagram being handled. */

#define REG_BUCKETS 8192

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sctp_lower *reg[REG_BUCKETS];
static uint64_t reg_clients, reg_secret;
/* The datagram being handled statelessly on this thread (an INIT's answer). */
static _Thread_local struct sctp_lower *cur_input;

/* Packets in and out: whether the stack's timers tick often (sctp_stack_timers). */
static _Atomic uint64_t stack_packets;

static void count_packet(void)
{
	atomic_fetch_add_explicit(&stack_packets, 1, memory_order_relaxed);
}

static unsigned reg_bucket(uint64_t id)
{
	return (unsigned)((id * 0x9e3779b97f4a7c15ull) >> 51) % REG_BUCKETS;
}

uint64_t sctp_stack_addr_id(const struct sockaddr_storage *a)
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

int sctp_stack_register(struct sctp_lower *l, uint64_t id)
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
	/* usrsctp finds an association only through a registered local
	 * AF_CONN address (a peer's id is both ends of its packets; a client
	 * binds to its own) */
	usrsctp_register_address(sctp_stack_addr(l));
	return LISPMS_EOK;
}

void sctp_stack_deregister(struct sctp_lower *l)
{
	if (l->id == 0)
		return;
	usrsctp_deregister_address(sctp_stack_addr(l));
	pthread_mutex_lock(&reg_lock);
	struct sctp_lower **pp = &reg[reg_bucket(l->id)];
	while (*pp && *pp != l)
		pp = &(*pp)->rnext;
	if (*pp)
		*pp = l->rnext;
	pthread_mutex_unlock(&reg_lock);
	l->id = 0;
}

struct sctp_lower *sctp_stack_find(uint64_t id)
{
	pthread_mutex_lock(&reg_lock);
	struct sctp_lower *l = lower_find(id);
	pthread_mutex_unlock(&reg_lock);
	return l;
}

void *sctp_stack_addr(const struct sctp_lower *l)
{
	return (void *)(uintptr_t)l->id;
}

void sctp_stack_input(struct sctp_lower *l, const void *pkt, size_t len)
{
	count_packet();
	usrsctp_conninput(sctp_stack_addr(l), pkt, len, 0);
}

void sctp_stack_input_stateless(struct sctp_lower *l, const void *pkt, size_t len)
{
	count_packet();
	cur_input = l;
	usrsctp_conninput(sctp_stack_addr(l), pkt, len, 0);
	cur_input = NULL;
}

/* usrsctp's output: one SCTP packet for AF_CONN address `addr` = the UDP
 * payload of one datagram (RFC 6951). */
static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
	(void)tos;
	(void)set_df;
	count_packet();
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
	struct sockaddr_storage peer = l->peer, local = l->local;
	bool connected = l->kind == SCTP_LOWER_CLIENT;
	uint64_t *errs = l->send_errors;
	pthread_mutex_unlock(&reg_lock);
	/* a server peer's: from the address it asked, on a wildcard socket too */
	ssize_t n = connected ? send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL)
			      : net_sock_send_from(fd, buf, len, &local, &peer,
						   MSG_DONTWAIT | MSG_NOSIGNAL);
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

uint64_t sctp_stack_now(void)
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
			reg_secret = sctp_stack_now();
		stack_last = sctp_stack_now();
		stack_up = true;
	}
	pthread_mutex_unlock(&stack_lock);
	return LISPMS_EOK;
}

/* usrsctp keeps every pending timer (a few per association) in one
 * unsorted list and walks all of it on each usrsctp_handle_timers call, so
 * a call costs in proportion to the associations (some 0.3 ms for 1,000
 * here). It is called at most once per SCTP_TICK_NS (the interval of
 * usrsctp's own timer thread) while packets come and go, however often the
 * loop wakes, and once per SCTP_TICK_IDLE_NS when none did since the last
 * call: then only heartbeat timers (seconds) and a retransmission long
 * after its packet (RTO >= 200 ms) are due, and fire up to 100 ms late. */
#define SCTP_TICK_NS	  10000000ull
#define SCTP_TICK_IDLE_NS 100000000ull

static uint64_t stack_packets_seen; /* stack_packets at the last tick */
static uint64_t stack_ticks;

uint64_t sctp_stack_timers(uint64_t now)
{
	pthread_mutex_lock(&stack_lock);
	uint64_t p = atomic_load_explicit(&stack_packets, memory_order_relaxed);
	uint64_t every = p != stack_packets_seen ? SCTP_TICK_NS : SCTP_TICK_IDLE_NS;
	if (now < stack_last + every) {
		uint64_t left = stack_last + every - now;
		pthread_mutex_unlock(&stack_lock);
		return left < SCTP_TICK_NS ? left : SCTP_TICK_NS; /* a packet may come */
	}
	uint64_t ms = (now - stack_last) / 1000000u;
	stack_last += ms * 1000000u;
	stack_packets_seen = p;
	stack_ticks++;
	pthread_mutex_unlock(&stack_lock);
	usrsctp_handle_timers((uint32_t)(ms > UINT32_MAX ? UINT32_MAX : ms));
	return SCTP_TICK_NS;
}

uint64_t sctp_stack_ticks(void)
{
	pthread_mutex_lock(&stack_lock);
	uint64_t n = stack_ticks;
	pthread_mutex_unlock(&stack_lock);
	return n;
}

int sctp_stack_sock_setup(struct socket *so, uint32_t keepalive_ms, uint32_t user_timeout_ms)
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

void sctp_stack_sock_abort(struct socket *so)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	usrsctp_setsockopt(so, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	usrsctp_close(so);
}
