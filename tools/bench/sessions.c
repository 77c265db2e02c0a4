/* SPDX-License-Identifier: MIT */
/*
 * lispms-bench's fabric of simulated ETRs (see sessions.h), one process,
 * T threads, each owning a contiguous block of ETRs and their EIDs (so a
 * move between two ETRs of a block never crosses threads).
 *
 * Every ETR has its own source address (127.1.0.1 + index, or --source +
 * index; its UDP Map-Registers go to --udp-server when given) and its
 * own locators (the same low 16 bits in 127.1/16, 127.2/16, ...), so nothing
 * the Map-Server sends to a locator leaves loopback.
 *
 * A reliable ETR follows the draft: an authenticated r=1 UDP Map-Register,
 * the Map-Notify with r, a TCP connection, the Registration Refresh, then
 * Registrations of its EIDs (`batch` records each), counting every ACK and
 * Reject. A lost session (reset, end of stream, a refresh that never comes)
 * sends it back to UDP after a short random back-off: re-authenticate,
 * reconnect, re-register, so a restarted Map-Server converges by itself.
 *
 * A UDP ETR sends its Map-Registers (M bit) every `udp_interval` seconds and
 * retransmits a batch whose Map-Notify has not come within a second. The
 * nonce names the ETR, the round and the batch; a Map-Notify with any other
 * nonce is unsolicited (mobility): it is verified, timed and acknowledged
 * with a signed Map-Notify-Ack. A move a UDP ETR registers is sent again
 * when its Map-Notify has not come within a second.
 *
 * The HMAC of every Map-Notify, on UDP or inside a Mapping Notification, is
 * verified with the site key. Moved EIDs are not refreshed by their new
 * owner over UDP (the mobility phase is short beside the registration
 * timeout); a UDP refresh or a re-registration sends only the EIDs the ETR
 * still owns.
 */
#define _GNU_SOURCE
#include "sessions.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/mtime.h>
#include <lispms/proto.h>
#include <lispms/proto_rt.h>

#include "subscribers.h"

#define RX_CAP	      4096  /* the longest message a Map-Server sends an ETR here */
#define SUB_RX_CAP    65535 /* ... and a subscriber */
#define MOVE_BATCH    0xffffffffu
#define WAVE	      200
#define MAX_LOCATORS  8
#define TIMER_SCAN_NS (20 * LISPMS_NS_PER_MSEC)
#define PEND_CAP      (1u << 16) /* UDP moves awaiting their Map-Notify, per thread */

enum etr_state { E_IDLE, E_AUTH, E_REFRESH, E_REGISTERING, E_UP, E_WAIT, E_UDP };

enum phase { P_CONVERGE, P_SUBSCRIBE, P_IDLE, P_MOVES, P_CHURN, P_HOLD, P_STOP };

struct etr {
	uint8_t state;
	bool udp_mode;
	bool up;	   /* every record of the current session / first round acknowledged */
	uint8_t ti;	   /* its transport: c->transports.tr[ti] (auto moves it on) */
	bool hs_done;	   /* E_REFRESH: the transport's handshake done, the deadline moved */
	int udp, tcp;	   /* tcp: the session's fd, whatever transport carries it */
	void *tstate;	   /* the session transport's own state */
	uint32_t addr;	   /* host order */
	unsigned index;	   /* in this process */
	uint64_t first;	   /* its first EID, as an index of the shared arrays */
	unsigned neids;	   /* EIDs it started with */
	unsigned expect;   /* records sent in this session / round */
	unsigned answered; /* ACKs + Rejects (or UDP records notified) for them */
	uint32_t round;
	unsigned nbatch;
	uint64_t *bts;	 /* UDP: send time of each batch of the round, 0 = notified */
	uint64_t t_sent; /* last auth / Registration sent */
	uint64_t t_next; /* next retry, reconnect or UDP refresh */
	uint64_t t_lost; /* when its session was lost (0: not lost) */
	/* the session transport's next timer (tr->expiry) as of the last call
	 * into the transport, which is the only thing that moves it: the timer
	 * scan compares this instead of asking every connection every time */
	uint64_t t_tr;
	struct rt_stream rx;
	uint8_t *rxbuf;
};

struct counters {
	_Atomic uint64_t up, acked, rejected[5], udp_acked, auth_sent, auth_timeouts, udp_registers,
	    udp_retx, lost, reconnects, connect_failures, errors, notify_ok, notify_bad,
	    notify_acks, bytes_out, bytes_in, pkts_out, pkts_in, udp_bytes, udp_pkts, moves_sent,
	    moves_notified, churn_sent, churn_acked, lost_by[SESSIONS_LOSS_COUNT], over[BT_COUNT],
	    fallbacks;
};

struct shared {
	const struct sessions_conf *c;
	_Atomic int phase;
	uint64_t phase_start;
	struct etr *etrs;
	uint32_t *owner;    /* EID index -> ETR index */
	uint64_t *move_ts;  /* EID index -> when its move was sent */
	uint64_t *churn_ts; /* EID index -> when its last withdrawal / re-registration was sent */
	uint8_t *churn_pending; /* EID index -> churn answers still to come */
	uint8_t *move_pending;	/* EID index -> a UDP move's Map-Register not yet answered */
	uint64_t *change_ts;	/* EID index -> when its last move was sent (kept) */
	struct subs *subs;	/* publish/subscribe subscribers, NULL: none */
	unsigned session_subs;	/* ETRs 0..session_subs-1 are subscribers on their sessions */
	_Atomic uint64_t first_loss, last_up;
};

struct sim {
	struct shared *sh;
	const struct sessions_conf *c;
	pthread_t tid;
	unsigned t;
	unsigned lo, hi; /* its ETRs */
	unsigned started;
	uint64_t t_ramp; /* when the first of its ETRs started (--ramp) */
	int ep;
	struct auth_ctx *auth;
	struct auth_key key;
	struct arena ar;
	_Alignas(16) uint8_t arena_mem[1 << 20]; /* arena_alloc aligns relative to it */
	uint8_t inner[65535], framed[65535];
	struct counters n;
	struct stats_hist lat[SL_COUNT];
	uint64_t move_k, churn_k; /* cursors */
	struct pend {
		uint64_t idx, sent;
	} * pend; /* ring of UDP moves to retransmit when unanswered for 1 s */
	unsigned pend_head, pend_tail;
	int last_phase;
	uint64_t next_scan;
	unsigned seed;
};

/* The transport ETR e opens its sessions over. */
static inline const struct bench_transport *etr_tr(const struct sim *s, const struct etr *e)
{
	return s->c->transports.tr[e->ti];
}

#define INC(s, f)    atomic_fetch_add_explicit(&(s)->n.f, 1, memory_order_relaxed)
#define ADD(s, f, v) atomic_fetch_add_explicit(&(s)->n.f, (v), memory_order_relaxed)
#define LOAD(p)	     atomic_load_explicit(&(p), memory_order_relaxed)

static const char *const lat_names[SL_COUNT] = {
	[SL_AUTH] = "auth",
	[SL_REG_ACK] = "registration_ack",
	[SL_UDP_NOTIFY] = "udp_notify",
	[SL_MOVE] = "move_notify",
	[SL_CHURN] = "churn_ack",
	[SL_RECONNECT] = "reconnect",
};

static const char *const loss_names[SESSIONS_LOSS_COUNT] = {
	[SLOSS_HANDSHAKE] = "handshake_incomplete",
	[SLOSS_REFRESH] = "refresh_timeout",
	[SLOSS_CLOSED] = "closed",
	[SLOSS_STREAM] = "stream_error",
	[SLOSS_SEND] = "send_failed",
	[SLOSS_OPEN] = "open_failed",
};

const char *sessions_loss_name(enum sessions_loss l)
{
	return l < SESSIONS_LOSS_COUNT ? loss_names[l] : "?";
}

const char *sessions_lat_name(enum sessions_lat l)
{
	return l < SL_COUNT ? lat_names[l] : "?";
}

/* ------------------------------------------------------------ messages */

static void eid_of(const struct sim *s, uint64_t idx, struct eid_prefix *p)
{
	layout_eid(&s->c->layout, LAYOUT_REGISTERED,
		   idx + (uint64_t)s->c->first_etr * s->c->eids_per_etr, p);
}

/* The index of one of our EIDs in a wire prefix; false if it is not one. */
static bool index_of(const struct sim *s, uint8_t plen, const struct afi_addr *a, uint64_t *idx)
{
	struct eid_prefix p;
	uint64_t n, base = (uint64_t)s->c->first_etr * s->c->eids_per_etr;
	if (afi_to_eid(a, plen, &p) != LISPMS_EOK || layout_index(&s->c->layout, &p, &n) != 0 ||
	    n < base || n - base >= (uint64_t)s->c->etrs * s->c->eids_per_etr)
		return false;
	*idx = n - base;
	return true;
}

/* A signed Map-Register of the given EIDs with ETR e's locators. */
static size_t build_register(struct sim *s, const struct etr *e, const uint64_t *eids, unsigned n,
			     uint32_t flags, uint32_t ttl, uint64_t nonce, uint8_t *out, size_t cap)
{
	arena_reset(&s->ar);
	unsigned nloc = s->c->locators ? s->c->locators : 1;
	struct lisp_record *recs = arena_alloc(&s->ar, sizeof(*recs) * (n ? n : 1));
	struct lisp_locator locs[MAX_LOCATORS];
	if (recs == NULL)
		return 0;
	for (unsigned k = 0; k < nloc; k++) {
		uint32_t a = htonl(0x7f000000u | (1u + k) << 16 | (e->addr & 0xffff));
		struct lisp_addr la = { .afi = LISP_AFI_IPV4 };
		memcpy(la.bytes, &a, 4);
		locs[k] = (struct lisp_locator){ .priority = 1,
						 .weight = (uint8_t)(100 / nloc),
						 .mpriority = 255,
						 .flags = LISP_LOC_R | (k == 0 ? LISP_LOC_L : 0) };
		afi_from_addr(&la, &locs[k].addr);
	}
	for (unsigned i = 0; i < n; i++) {
		struct eid_prefix p;
		eid_of(s, eids[i], &p);
		recs[i] = (struct lisp_record){ .ttl = ttl,
						.a = 1,
						.eid_plen = p.plen,
						.nlocs = (uint16_t)(ttl ? nloc : 0),
						.locs = locs };
		afi_from_eid(&p, &recs[i].eid);
	}
	struct lisp_map_register m = {
		.flags = flags,
		.nonce = nonce,
		.auth = { .key_id = s->key.key_id,
			  .alg_id = s->key.alg_id,
			  .len = (uint16_t)auth_alg_len(s->key.alg_id) },
		.nrecords = (uint16_t)n,
		.records = recs,
	};
	if (flags & LISP_MREG_I) { /* a subscriber's: the xTR-ID it subscribes with */
		subs_xtr_id(e->index, true, m.xtr_id);
		m.site_id = 1;
	}
	size_t len;
	if (map_register_encode(&m, out, cap, &len) != LISPMS_EOK ||
	    auth_sign(s->auth, &s->key, out, len) != LISPMS_EOK)
		return 0;
	return len;
}

static uint64_t udp_nonce(const struct etr *e, uint32_t batch)
{
	return (uint64_t)(e->index & 0xffffff) << 40 | (uint64_t)(e->round & 0xff) << 32 | batch;
}

/* After a call into e's session transport: its next timer, cached (t_tr). */
static void tr_seen(const struct sim *s, struct etr *e)
{
	const struct bench_transport *tr = etr_tr(s, e);
	e->t_tr = e->tcp >= 0 && tr->expiry ? tr->expiry(e->tstate) : UINT64_MAX;
}

static int send_all(struct sim *s, struct etr *e, const uint8_t *buf, size_t len)
{
	uint64_t give_up = 0;
	while (len > 0) {
		ssize_t n = etr_tr(s, e)->send(e->tcp, e->tstate, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) { /* the server is slow to read: wait, 5 s at most */
				uint64_t now = mtime_now_ns();
				if (give_up == 0)
					give_up = now + 5 * LISPMS_NS_PER_SEC;
				else if (now > give_up)
					return -1;
				usleep(100);
				continue;
			}
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		ADD(s, bytes_out, (uint64_t)n);
	}
	INC(s, pkts_out);
	tr_seen(s, e);
	return 0;
}

/* Where UDP Map-Registers go: --udp-server (a fast path address) or the server. */
static const struct sockaddr_storage *udp_dst(const struct sim *s)
{
	return s->c->udp_server.ss_family != AF_UNSPEC ? &s->c->udp_server : &s->c->server;
}

static int send_udp(struct sim *s, struct etr *e, const uint8_t *buf, size_t len,
		    const struct sockaddr_storage *to)
{
	if (len == 0 || e->udp < 0)
		return -1;
	if (sendto(e->udp, buf, len, 0, (const struct sockaddr *)to, saddr_len(to)) < 0)
		return -1;
	ADD(s, bytes_out, len);
	ADD(s, udp_bytes, len);
	INC(s, pkts_out);
	INC(s, udp_pkts);
	return 0;
}

/* Registration (type 17) of the given EIDs on e's session. */
static int send_registration(struct sim *s, struct etr *e, const uint64_t *eids, unsigned n,
			     uint32_t ttl)
{
	uint32_t flags = LISP_MREG_P | (e->index < s->sh->session_subs ? LISP_MREG_I : 0);
	size_t ilen =
	    build_register(s, e, eids, n, flags, ttl, e->index, s->inner, sizeof(s->inner));
	struct rt_msg m = { .type = RT_TYPE_REGISTRATION, .has_id = 1, .id = (uint32_t)eids[0] };
	m.u.inner.msg = s->inner;
	m.u.inner.len = ilen;
	size_t len;
	if (ilen == 0 || rt_encode(&m, s->framed, sizeof(s->framed), &len) != LISPMS_EOK)
		return -1;
	e->t_sent = mtime_now_ns();
	return send_all(s, e, s->framed, len);
}

/* The EIDs of batch b that e still owns; returns how many. */
static unsigned batch_eids(const struct sim *s, const struct etr *e, unsigned b, uint64_t *out)
{
	unsigned per = s->c->batch, n = 0;
	for (unsigned i = b * per; i < e->neids && i < (b + 1) * per; i++)
		if (s->sh->owner[e->first + i] == e->index)
			out[n++] = e->first + i;
	return n;
}

/* ------------------------------------------------------------ life cycle */

/* When a session opened (or its handshake done) now must have brought the
 * server's Refresh: the transport's open_ms (0: 3 s) from now. */
static uint64_t open_deadline(const struct bench_transport *tr)
{
	return mtime_now_ns() + (uint64_t)(tr->open_ms ? tr->open_ms : 3000) * LISPMS_NS_PER_MSEC;
}

/* Whether e's transport finished its own handshake (those without one: yes). */
static bool etr_ready(const struct sim *s, const struct etr *e)
{
	const struct bench_transport *tr = etr_tr(s, e);
	return tr->ready == NULL || tr->ready(e->tstate);
}

/*
 * auto (a chain of transports): e's session did not open over its transport
 * (refused, or no handshake or Refresh in time), so its next attempt, after
 * the usual re-authentication, goes over the next in the seed's order,
 * wrapping around. True when it moved on; with one transport, nothing.
 */
static bool fall_back(struct sim *s, struct etr *e)
{
	if (s->c->transports.n < 2)
		return false;
	e->ti = (uint8_t)((e->ti + 1) % s->c->transports.n);
	INC(s, fallbacks);
	return true;
}

static void set_up(struct sim *s, struct etr *e, bool up)
{
	if (e->up == up)
		return;
	e->up = up;
	if (up) {
		atomic_fetch_add_explicit(&s->n.up, 1, memory_order_relaxed);
		uint64_t now = mtime_now_ns(), prev = LOAD(s->sh->last_up);
		while (prev < now && !atomic_compare_exchange_weak(&s->sh->last_up, &prev, now))
			;
		if (e->t_lost) {
			stats_add(&s->lat[SL_RECONNECT], now - e->t_lost);
			e->t_lost = 0;
		}
	} else {
		atomic_fetch_sub_explicit(&s->n.up, 1, memory_order_relaxed);
	}
}

static void close_fd(struct sim *s, int *fd)
{
	if (*fd >= 0) {
		epoll_ctl(s->ep, EPOLL_CTL_DEL, *fd, NULL);
		close(*fd);
		*fd = -1;
	}
}

/* A reliable ETR lost its session (or never got one): back to UDP later.
 * With auto, one that never brought the server's Refresh is no loss: the
 * ETR falls back to the next transport (counted apart), once the transport
 * that opened the session has closed it. */
static void lose(struct sim *s, struct etr *e, enum sessions_loss why)
{
	uint64_t now = mtime_now_ns();
	if (e->tcp >= 0) { /* by the transport that opened it, before any fallback */
		epoll_ctl(s->ep, EPOLL_CTL_DEL, e->tcp, NULL);
		etr_tr(s, e)->close(e->tcp, e->tstate);
		e->tcp = -1;
		e->tstate = NULL;
	}
	if (e->state == E_REFRESH && fall_back(s, e)) {
		/* not a lost session: none came up over that transport */
	} else if (e->state == E_UP || e->state == E_REGISTERING || e->state == E_REFRESH) {
		INC(s, lost);
		INC(s, lost_by[why]);
		if (e->t_lost == 0)
			e->t_lost = now;
		uint64_t zero = 0;
		atomic_compare_exchange_strong(&s->sh->first_loss, &zero, now);
	}
	set_up(s, e, false);
	close_fd(s, &e->udp);
	e->state = E_WAIT;
	/* 50..250 ms, so a restarted server is not hit by every ETR at once */
	e->t_next = now + (50 + (unsigned)rand_r(&s->seed) % 200) * LISPMS_NS_PER_MSEC;
}

static int open_udp(struct sim *s, struct etr *e)
{
	e->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(e->addr) };
	if (e->udp < 0 || bind(e->udp, (struct sockaddr *)&src, sizeof(src)) != 0) {
		close_fd(s, &e->udp);
		return -1;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)e->index << 1 };
	epoll_ctl(s->ep, EPOLL_CTL_ADD, e->udp, &ev);
	return 0;
}

static void send_auth(struct sim *s, struct etr *e)
{
	uint8_t msg[2048];
	uint64_t eid = e->first;
	size_t len = build_register(s, e, &eid, 1, LISP_MREG_r | LISP_MREG_M | LISP_MREG_P, 3,
				    udp_nonce(e, MOVE_BATCH - 1), msg, sizeof(msg));
	send_udp(s, e, msg, len, udp_dst(s));
	INC(s, auth_sent);
	e->t_sent = mtime_now_ns();
	e->t_next = e->t_sent + 500 * LISPMS_NS_PER_MSEC;
}

static void start_auth(struct sim *s, struct etr *e)
{
	if (e->udp < 0 && open_udp(s, e) != 0) {
		lose(s, e, SLOSS_OPEN);
		return;
	}
	e->state = E_AUTH;
	send_auth(s, e);
}

static void udp_send_batch(struct sim *s, struct etr *e, unsigned b)
{
	uint64_t eids[100];
	uint8_t msg[LISPMS_DGRAM_MAX];
	unsigned n = batch_eids(s, e, b, eids);
	if (n == 0) {
		e->bts[b] = 0;
		return;
	}
	size_t len = build_register(s, e, eids, n, LISP_MREG_M | LISP_MREG_P, 3, udp_nonce(e, b),
				    msg, sizeof(msg));
	if (send_udp(s, e, msg, len, udp_dst(s)) == 0)
		INC(s, udp_registers);
	e->bts[b] = mtime_now_ns() | 1;
}

/* A new UDP round: every batch again. */
static void udp_round(struct sim *s, struct etr *e)
{
	e->round++;
	e->expect = 0;
	e->answered = 0;
	uint64_t eids[100];
	for (unsigned b = 0; b < e->nbatch; b++) {
		e->expect += batch_eids(s, e, b, eids);
		udp_send_batch(s, e, b);
	}
	/* after the first round, a random phase: independent ETRs do not refresh in step */
	double next = s->c->udp_interval;
	if (e->round == 1)
		next *= (double)(rand_r(&s->seed) % 1000 + 1) / 1000;
	e->t_next = mtime_now_ns() + (uint64_t)(next * 1e9);
}

static void start_udp(struct sim *s, struct etr *e)
{
	if (open_udp(s, e) != 0)
		return;
	e->state = E_UDP;
	udp_round(s, e);
}

static void start_tcp(struct sim *s, struct etr *e)
{
	const struct bench_transport *tr = etr_tr(s, e);
	e->tcp = tr->open(&s->c->topts, e->addr, &s->c->server, &e->tstate);
	if (e->tcp < 0) {
		INC(s, connect_failures);
		e->tstate = NULL;
		fall_back(s, e);
		lose(s, e, SLOSS_OPEN);
		return;
	}
	/* a subscriber's Mapping Notifications carry up to 256 records */
	size_t cap = e->index < s->sh->session_subs ? SUB_RX_CAP : RX_CAP;
	if (e->rxbuf == NULL)
		e->rxbuf = malloc(cap);
	rt_stream_init(&e->rx, e->rxbuf, cap, cap);
	e->state = E_REFRESH;
	e->hs_done = false;
	/* the refresh must come by then (handshake_seen moves it once) */
	e->t_next = open_deadline(tr);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
				  .data.u64 = (uint64_t)e->index << 1 | 1 };
	epoll_ctl(s->ep, EPOLL_CTL_ADD, e->tcp, &ev);
	tr_seen(s, e);
	if (e->t_lost)
		INC(s, reconnects);
}

static void start_etr(struct sim *s, struct etr *e)
{
	if (e->udp_mode)
		start_udp(s, e);
	else
		start_auth(s, e);
}

/* ------------------------------------------------------------ receiving */

/* A verified notification that EID idx changed reached its displaced ETR. */
static void notified(struct sim *s, uint64_t idx)
{
	uint64_t sent = s->sh->move_ts[idx];
	if (sent != 0) {
		stats_add(&s->lat[SL_MOVE], mtime_now_ns() - sent);
		s->sh->move_ts[idx] = 0;
		INC(s, moves_notified);
	}
}

/* Decode and verify a Map-Notify; false (counted) when it does not verify. */
static bool verify_notify(struct sim *s, const uint8_t *buf, size_t len, struct lisp_map_notify *mn)
{
	arena_reset(&s->ar);
	if (map_notify_decode(buf, len, &s->ar, mn) != LISPMS_EOK ||
	    auth_verify(s->auth, &s->key, 1, buf, len, &mn->auth) != LISPMS_EOK) {
		INC(s, notify_bad);
		return false;
	}
	INC(s, notify_ok);
	return true;
}

static void on_udp(struct sim *s, struct etr *e)
{
	uint8_t buf[LISPMS_DGRAM_MAX];
	struct sockaddr_storage from;
	for (int i = 0; i < 64; i++) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(e->udp, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			return;
		ADD(s, bytes_in, (uint64_t)n);
		ADD(s, udp_bytes, (uint64_t)n);
		INC(s, pkts_in);
		INC(s, udp_pkts);
		struct lisp_map_notify mn;
		if (msg_type(buf, (size_t)n) != LISP_MSG_MAP_NOTIFY ||
		    !verify_notify(s, buf, (size_t)n, &mn))
			continue;
		uint64_t now = mtime_now_ns();
		uint32_t batch = (uint32_t)mn.nonce;
		bool ours = (mn.nonce >> 40) == (e->index & 0xffffff);
		if (e->state == E_AUTH && ours) {
			stats_add(&s->lat[SL_AUTH], now - e->t_sent);
			if (!(mn.flags & LISP_MNOT_r)) { /* no sessions for this site */
				INC(s, connect_failures);
				lose(s, e, SLOSS_OPEN);
				return;
			}
			close_fd(s, &e->udp);
			start_tcp(s, e);
			return;
		}
		if (ours && batch == MOVE_BATCH) { /* the answer to a move registered over UDP */
			uint64_t idx;
			for (unsigned r = 0; r < mn.nrecords; r++)
				if (index_of(s, mn.records[r].eid_plen, &mn.records[r].eid, &idx))
					s->sh->move_pending[idx] = 0;
			continue;
		}
		if (ours && ((mn.nonce >> 32) & 0xff) == (e->round & 0xff) && batch < e->nbatch) {
			if (e->bts[batch] != 0) {
				stats_add(&s->lat[SL_UDP_NOTIFY], now - (e->bts[batch] & ~1ull));
				e->bts[batch] = 0;
				e->answered += mn.nrecords;
				ADD(s, udp_acked, mn.nrecords);
				if (e->answered >= e->expect)
					set_up(s, e, true);
			}
			continue;
		}
		if (ours)
			continue; /* a late answer from an earlier round */
		/* unsolicited: a mapping we registered changed; acknowledge it */
		for (unsigned r = 0; r < mn.nrecords; r++) {
			uint64_t idx;
			if (index_of(s, mn.records[r].eid_plen, &mn.records[r].eid, &idx))
				notified(s, idx);
		}
		mn.type = LISP_MSG_MAP_NOTIFY_ACK;
		mn.auth.data = NULL;
		size_t len;
		if (map_notify_encode(&mn, s->inner, sizeof(s->inner), &len) == LISPMS_EOK &&
		    auth_sign(s->auth, &s->key, s->inner, len) == LISPMS_EOK &&
		    send_udp(s, e, s->inner, len, &from) == 0)
			INC(s, notify_acks);
	}
}

static void on_refresh(struct sim *s, struct etr *e)
{
	if (e->state != E_REFRESH) {
		/* a later refresh (scoped, rejected-only): register what we own again */
		if (e->state != E_UP && e->state != E_REGISTERING)
			return;
	} else {
		INC(s, over[etr_tr(s, e)->id]); /* a session came up over it */
	}
	e->state = E_REGISTERING;
	e->expect = 0;
	e->answered = 0;
	uint64_t eids[100];
	for (unsigned b = 0; b * s->c->batch < e->neids; b++) {
		unsigned n = batch_eids(s, e, b, eids);
		if (n == 0)
			continue;
		e->expect += n;
		if (send_registration(s, e, eids, n, 3) != 0) {
			lose(s, e, SLOSS_SEND);
			return;
		}
	}
	if (e->expect == 0) {
		e->state = E_UP;
		set_up(s, e, true);
	}
}

static void on_answer(struct sim *s, struct etr *e, const struct rt_msg *m)
{
	uint64_t now = mtime_now_ns(), idx;
	const struct rt_prefix *p =
	    m->type == RT_TYPE_REGISTRATION_ACK ? &m->u.ack : &m->u.reject.eid;
	bool have = index_of(s, p->plen, &p->eid, &idx);
	if (m->type == RT_TYPE_REGISTRATION_ACK) {
		INC(s, acked);
	} else {
		unsigned r = m->u.reject.reason;
		INC(s, rejected[r < 5 ? r : 0]);
	}
	if (have && s->sh->churn_pending[idx] != 0) {
		/* the withdrawal and re-registration of an EID may both be in flight:
		 * both are timed from the later one, a slight underestimate */
		stats_add(&s->lat[SL_CHURN], now - s->sh->churn_ts[idx]);
		s->sh->churn_pending[idx]--;
		INC(s, churn_acked);
		return;
	}
	stats_add(&s->lat[SL_REG_ACK], now - e->t_sent);
	if (e->state == E_REGISTERING && ++e->answered >= e->expect) {
		e->state = E_UP;
		set_up(s, e, true);
	}
}

static void on_tcp_read(struct sim *s, struct etr *e, uint32_t events)
{
	for (;;) {
		size_t avail;
		uint8_t *space = rt_stream_space(&e->rx, &avail);
		if (avail == 0) {
			lose(s, e, SLOSS_STREAM);
			return;
		}
		ssize_t n = etr_tr(s, e)->recv(e->tcp, e->tstate, space, avail);
		if (n <= 0) {
			if (n < 0 && errno == EAGAIN && !(events & (EPOLLRDHUP | EPOLLHUP)))
				return;
			if (n < 0 && errno == ECONNREFUSED)
				INC(s, connect_failures);
			lose(s, e, etr_ready(s, e) ? SLOSS_CLOSED : SLOSS_HANDSHAKE);
			return;
		}
		ADD(s, bytes_in, (uint64_t)n);
		rt_stream_commit(&e->rx, (size_t)n);
		const uint8_t *msg;
		size_t len;
		int r;
		while ((r = rt_stream_next(&e->rx, &msg, &len)) == 1) {
			struct rt_msg m;
			INC(s, pkts_in);
			if (rt_decode(msg, len, &m) != LISPMS_EOK || !m.has_id)
				continue;
			switch (m.type) {
			case RT_TYPE_REGISTRATION_REFRESH:
				on_refresh(s, e);
				break;
			case RT_TYPE_REGISTRATION_ACK:
			case RT_TYPE_REGISTRATION_REJECT:
				on_answer(s, e, &m);
				break;
			case RT_TYPE_MAPPING_NOTIFICATION: {
				struct lisp_map_notify mn;
				uint64_t idx;
				if (e->index < s->sh->session_subs &&
				    subs_on_session(s->sh->subs, e->index, m.u.inner.msg,
						    m.u.inner.len, s->auth))
					break; /* a publication to this subscriber */
				if (verify_notify(s, m.u.inner.msg, m.u.inner.len, &mn) &&
				    mn.nrecords >= 1 &&
				    index_of(s, mn.records[0].eid_plen, &mn.records[0].eid, &idx))
					notified(s, idx);
				break;
			}
			case RT_TYPE_ERROR_NOTIFICATION:
				INC(s, errors);
				break;
			default:
				break;
			}
			if (e->tcp < 0)
				return; /* lost while answering */
		}
		if (r < 0) {
			lose(s, e, SLOSS_STREAM);
			return;
		}
		if ((size_t)n < avail)
			return;
	}
}

/* The deadline of a session with a handshake of its own (QUIC, SCTP):
 * open_ms from the start for the handshake, then open_ms again from its
 * completion for the Refresh. The server has spent its handshake by then;
 * giving up on a Refresh that is only late behind a storm's queue would
 * throw that away and cost both sides another one. */
static void handshake_seen(struct sim *s, struct etr *e)
{
	const struct bench_transport *tr = etr_tr(s, e);
	if (e->state != E_REFRESH || e->hs_done || tr->ready == NULL || !etr_ready(s, e))
		return;
	e->hs_done = true;
	e->t_next = open_deadline(tr);
}

static void on_tcp(struct sim *s, struct etr *e, uint32_t events)
{
	on_tcp_read(s, e, events);
	if (e->tcp >= 0) {
		handshake_seen(s, e);
		tr_seen(s, e);
	}
}

static int pump(struct sim *s, int timeout_ms)
{
	struct epoll_event evs[256];
	int n = epoll_wait(s->ep, evs, 256, timeout_ms);
	for (int i = 0; i < n; i++) {
		struct etr *e = &s->sh->etrs[evs[i].data.u64 >> 1];
		if (evs[i].data.u64 & 1) {
			if (e->tcp >= 0)
				on_tcp(s, e, evs[i].events);
		} else if (e->udp >= 0) {
			on_udp(s, e);
		}
	}
	return n;
}

static void register_at(struct sim *s, struct etr *to, uint64_t idx, uint32_t ttl);

/* UDP moves unanswered for a second are sent again, as an ETR would. */
static void pend_retry(struct sim *s, uint64_t now)
{
	while (s->pend_head != s->pend_tail) {
		struct pend p = s->pend[s->pend_head % PEND_CAP];
		if (now - p.sent < LISPMS_NS_PER_SEC)
			break;
		s->pend_head++;
		struct etr *to = &s->sh->etrs[s->sh->owner[p.idx]];
		if (s->sh->move_pending[p.idx] && to->udp_mode) {
			INC(s, udp_retx);
			register_at(s, to, p.idx, 3);
		}
	}
}

/* Retries, reconnections and UDP refreshes that are due. */
static void timers(struct sim *s, uint64_t now)
{
	pend_retry(s, now);
	for (unsigned i = s->lo; i < s->lo + s->started; i++) {
		struct etr *e = &s->sh->etrs[i];
		if (e->tcp >= 0 && e->t_tr <= now) {
			on_tcp(s, e, 0); /* the transport's own timers (QUIC) */
			if (e->tcp < 0)
				continue; /* lost */
		}
		switch (e->state) {
		case E_AUTH:
			if (now >= e->t_next) {
				INC(s, auth_timeouts);
				send_auth(s, e);
			}
			break;
		case E_REFRESH:
			if (now >= e->t_next)
				handshake_seen(s, e);
			if (now >= e->t_next)
				lose(s, e, etr_ready(s, e) ? SLOSS_REFRESH : SLOSS_HANDSHAKE);
			break;
		case E_WAIT:
			if (now >= e->t_next)
				start_auth(s, e);
			break;
		case E_UDP:
			if (now >= e->t_next) {
				udp_round(s, e);
				break;
			}
			for (unsigned b = 0; b < e->nbatch; b++)
				if (e->bts[b] != 0 && now - e->bts[b] > LISPMS_NS_PER_SEC) {
					INC(s, udp_retx);
					udp_send_batch(s, e, b);
				}
			break;
		default:
			break;
		}
	}
}

/* ------------------------------------------------------------ mobility, churn */

/* The k-th EID of the thread's block, cycling over ETRs first. */
static uint64_t pick(const struct sim *s, uint64_t k)
{
	unsigned netrs = s->hi - s->lo;
	const struct etr *e = &s->sh->etrs[s->lo + k % netrs];
	return e->first + (k / netrs) % e->neids;
}

static void pend_push(struct sim *s, uint64_t idx, uint64_t now)
{
	if (s->pend_tail - s->pend_head >= PEND_CAP)
		return; /* full: this one is not retransmitted */
	s->pend[s->pend_tail++ % PEND_CAP] = (struct pend){ idx, now };
}

/* Register EID idx at ETR `to` (UDP or its session). */
static void register_at(struct sim *s, struct etr *to, uint64_t idx, uint32_t ttl)
{
	if (to->udp_mode) {
		uint8_t msg[2048];
		size_t len = build_register(s, to, &idx, 1, LISP_MREG_M | LISP_MREG_P, ttl,
					    udp_nonce(to, MOVE_BATCH), msg, sizeof(msg));
		send_udp(s, to, msg, len, udp_dst(s));
		s->sh->move_pending[idx] = 1;
		pend_push(s, idx, mtime_now_ns());
	} else if (send_registration(s, to, &idx, 1, ttl) != 0) {
		lose(s, to, SLOSS_SEND);
	}
}

static void move_one(struct sim *s)
{
	unsigned netrs = s->hi - s->lo;
	uint64_t idx = pick(s, s->move_k++);
	unsigned from = s->sh->owner[idx];
	unsigned to = s->lo + (from - s->lo + 1) % netrs;
	struct etr *a = &s->sh->etrs[from], *b = &s->sh->etrs[to];
	if (!a->up || !b->up)
		return;
	uint64_t now = mtime_now_ns();
	s->sh->move_ts[idx] = now;
	__atomic_store_n(&s->sh->change_ts[idx], now, __ATOMIC_RELAXED);
	__atomic_store_n(&s->sh->owner[idx], to, __ATOMIC_RELAXED);
	INC(s, moves_sent);
	register_at(s, b, idx, 3);
}

static void churn_one(struct sim *s)
{
	uint64_t k = s->churn_k++;
	uint64_t idx = pick(s, k / 2);
	struct etr *e = &s->sh->etrs[s->sh->owner[idx]];
	if (!e->up || e->udp_mode)
		return; /* churn is measured on sessions, where every record is ACKed */
	s->sh->churn_ts[idx] = mtime_now_ns();
	s->sh->churn_pending[idx]++;
	INC(s, churn_sent);
	register_at(s, e, idx, k % 2 == 0 ? 0 : 3);
}

/* Generate what is due at `rate` (per process) since the phase started.
 * Returns how long the thread may wait for input before the next is due
 * (ms): 0 when behind, 1 while some are still to come, 5 once all went. */
static int generate(struct sim *s, uint64_t now, double rate, uint64_t limit, uint64_t *cursor,
		    void (*one)(struct sim *))
{
	double share = rate / s->c->threads;
	uint64_t due = (uint64_t)((double)(now - s->sh->phase_start) / 1e9 * share) + 1;
	unsigned t = s->t, n = s->c->threads;
	uint64_t cap = limit * (t + 1) / n - limit * t / n; /* the shares add up to limit */
	if (due > cap)
		due = cap;
	for (unsigned batch = 0; *cursor < due && batch < 64; batch++)
		one(s);
	return *cursor < due ? 0 : *cursor < cap ? 1 : 5;
}

static void *sim_main(void *arg)
{
	struct sim *s = arg;
	unsigned netrs = s->hi - s->lo;
	while (1) {
		int phase = atomic_load(&s->sh->phase);
		if (phase == P_STOP)
			break;
		if (s->started < netrs) {
			unsigned wave = s->c->storm ? netrs : WAVE;
			if (s->c->storm && s->c->ramp_s > 0) {
				/* a fleet that comes up over ramp_s: the time counts
				 * in the convergence, which starts at the first ETR */
				uint64_t t = mtime_now_ns();
				if (s->t_ramp == 0)
					s->t_ramp = t;
				double due =
				    (double)netrs * (double)(t - s->t_ramp) / (s->c->ramp_s * 1e9);
				unsigned upto = due >= netrs ? netrs : (unsigned)due + 1;
				wave = upto > s->started ? upto - s->started : 0;
			}
			for (unsigned k = 0; k < wave && s->started < netrs; k++)
				start_etr(s, &s->sh->etrs[s->lo + s->started++]);
		}
		uint64_t now = mtime_now_ns();
		if (phase != s->last_phase) {
			s->last_phase = phase;
			s->move_k = s->churn_k = 0;
		}
		/* paced: sleep until the next move is due (ms), never spin; the
		 * lispmsd under test shares the cores */
		int timeout = 5;
		if (phase == P_MOVES && netrs >= 2)
			timeout =
			    generate(s, now, s->c->move_rate, s->c->moves, &s->move_k, move_one);
		else if (phase == P_CHURN)
			timeout = generate(s, now, s->c->churn_rate, 2 * s->c->churn, &s->churn_k,
					   churn_one);
		/* read what arrived, but a steady inflow must not starve the timers */
		for (int r = 0; r < 64 && pump(s, 0) > 0; r++)
			;
		pump(s, timeout ? timeout : 0);
		now = mtime_now_ns();
		if (now >= s->next_scan) {
			s->next_scan = now + TIMER_SCAN_NS;
			timers(s, now);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ driver */

static uint64_t sum(struct sim *sims, unsigned n, size_t off)
{
	uint64_t v = 0;
	for (unsigned t = 0; t < n; t++)
		v += LOAD(*(_Atomic uint64_t *)((char *)&sims[t].n + off));
	return v;
}
#define SUM(f) sum(sims, c->threads, offsetof(struct counters, f))

static const char *const phase_names[] = { "converge", "subscribe", "idle", "moves",
					   "churn",    "hold",	    "stop" };

const char *sessions_phase_name(unsigned phase)
{
	return phase < sizeof(phase_names) / sizeof(phase_names[0]) ? phase_names[phase] : "?";
}

/* One sample of the time series; decimate when full (the interval doubles). */
static void sample(struct sessions_series *ser, struct sim *sims, const struct sessions_conf *c,
		   int phase, uint64_t start, uint64_t now)
{
	if (ser->n == SESSIONS_SERIES_MAX) {
		for (unsigned i = 0; i < SESSIONS_SERIES_MAX / 2; i++)
			ser->s[i] = ser->s[2 * i]; /* keeps the first sample (the start) */
		ser->n = SESSIONS_SERIES_MAX / 2;
		ser->interval_s *= 2;
	}
	ser->s[ser->n++] = (struct sessions_sample){
		.t_s = (float)((double)(now - start) / 1e9),
		.phase = (uint8_t)phase,
		.up = (unsigned)SUM(up),
		.acked = SUM(acked),
		.udp_acked = SUM(udp_acked),
		.lost = SUM(lost),
	};
}

static void progress(const struct sessions_conf *c, struct sim *sims, int phase, uint64_t start,
		     uint64_t *last_pkts, uint64_t *last_t, bool final)
{
	uint64_t now = mtime_now_ns();
	uint64_t pkts = SUM(pkts_out) + SUM(pkts_in);
	double rate = (double)(pkts - *last_pkts) * 1e9 / (double)(now - *last_t + 1);
	*last_pkts = pkts;
	*last_t = now;
	char line[320];
	snprintf(line, sizeof(line),
		 "%6.1fs %-8s up %llu/%u  acked %llu rej %llu udp-notified %llu  msgs/s %.0f  "
		 "moves %llu/%llu  churn %llu/%llu  lost %llu",
		 (double)(now - start) / 1e9, phase_names[phase], (unsigned long long)SUM(up),
		 c->etrs, (unsigned long long)SUM(acked),
		 (unsigned long long)(SUM(rejected[0]) + SUM(rejected[1]) + SUM(rejected[2]) +
				      SUM(rejected[3]) + SUM(rejected[4])),
		 (unsigned long long)SUM(udp_acked), rate, (unsigned long long)SUM(moves_notified),
		 (unsigned long long)SUM(moves_sent), (unsigned long long)SUM(churn_acked),
		 (unsigned long long)SUM(churn_sent), (unsigned long long)SUM(lost));
	const char *label = c->label != NULL ? c->label : "", *sep = c->label != NULL ? ": " : "";
	if (c->progress == 2)
		fprintf(stderr, "\r\033[K%s%s%s%s", label, sep, line, final ? "\n" : "");
	else
		fprintf(stderr, "%s%s%s\n", label, sep, line);
}

/*
 * One run of the fabric, from setup to teardown; sessions_run() goes through
 * its phases in order: defaults, setup (the shared arrays and the ETRs),
 * subscribers, start (the simulator threads), drive (converge, subscribe,
 * idle, moves, churn, hold: each entered when it has something to do, left
 * when done or out of time), stop, collect (the result), teardown.
 */
struct run {
	struct sessions_conf cc; /* the configuration, defaults filled in */
	struct shared sh;
	struct sim *sims;
	unsigned nthreads; /* started */
	unsigned nudp;	   /* ETRs on UDP soft state */
	struct auth_key subs_key;
	struct sessions_result *res;
	int phase;
	uint64_t start, phase_end;
	uint64_t last_pkts, last_t, next_progress, progress_every, next_sample;
	uint64_t idle_b0, idle_p0, idle_ub0, idle_up0; /* counters when the idle phase began */
	uint64_t subs_recs, subs_quiet;		       /* the moves phase's quiet subscribers */
};

#define RSUM(r, f) sum((r)->sims, (r)->cc.threads, offsetof(struct counters, f))

/* The configuration with its defaults; -EINVAL when the fabric does not fit the layout. */
static int run_defaults(struct run *r, const struct sessions_conf *in)
{
	struct sessions_conf *c = &r->cc;
	*c = *in;
	if (c->threads == 0)
		c->threads = 1;
	if (c->threads > c->etrs)
		c->threads = c->etrs;
	if (c->batch == 0 || c->batch > 100)
		c->batch = 100;
	if (c->locators == 0)
		c->locators = 1;
	if (c->locators > MAX_LOCATORS)
		c->locators = MAX_LOCATORS;
	if (c->udp_interval <= 0)
		c->udp_interval = 60;
	c->layout.per = c->eids_per_etr;
	if (c->layout.afi == 0)
		c->layout.afi = LISP_AFI_IPV4;
	if (c->alg == 0)
		c->alg = LISP_ALG_HMAC_SHA256;
	if ((uint64_t)(c->first_etr + c->etrs) * c->eids_per_etr > LAYOUT_MAX_EIDS ||
	    c->first_etr + c->etrs > 65000)
		return -EINVAL;
	if (c->transports.n == 0 && bench_transport_chain("tcp", &c->transports) != 0)
		return -EINVAL;
	return 0;
}

/* Raise the open file limit to its maximum; -EMFILE when `fds` do not fit. */
static int raise_nofile(uint64_t fds)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	return fds > rl.rlim_cur ? -EMFILE : 0;
}

/* The shared arrays, the simulators and the ETRs (each EID owned by its first ETR). */
static int run_setup(struct run *r)
{
	const struct sessions_conf *c = &r->cc;
	uint64_t neids = (uint64_t)c->etrs * c->eids_per_etr;
	struct shared *sh = &r->sh;
	sh->c = c;
	sh->etrs = calloc(c->etrs, sizeof(*sh->etrs));
	sh->owner = malloc(neids * sizeof(*sh->owner));
	sh->move_ts = calloc(neids, sizeof(*sh->move_ts));
	sh->churn_ts = calloc(neids, sizeof(*sh->churn_ts));
	sh->churn_pending = calloc(neids, 1);
	sh->move_pending = calloc(neids, 1);
	sh->change_ts = calloc(neids, sizeof(*sh->change_ts));
	r->sims = calloc(c->threads, sizeof(*r->sims));
	if (!sh->etrs || !sh->owner || !sh->move_ts || !sh->churn_ts || !sh->churn_pending ||
	    !sh->move_pending || !sh->change_ts || !r->sims)
		return -ENOMEM;
	for (unsigned t = 0; t < c->threads; t++)
		r->sims[t].ep = -1;
	unsigned nbatch = (c->eids_per_etr + c->batch - 1) / c->batch;
	for (unsigned i = 0; i < c->etrs; i++) {
		struct etr *e = &sh->etrs[i];
		e->index = i;
		e->addr = (c->source_base ? c->source_base : 0x7f010001u) + c->first_etr +
			  i; /* 127.1.0.1 ... */
		e->first = (uint64_t)i * c->eids_per_etr;
		e->neids = c->eids_per_etr;
		e->udp = e->tcp = -1;
		e->udp_mode = (unsigned)((i + 1) * c->udp_share) > (unsigned)(i * c->udp_share);
		if (e->udp_mode) {
			r->nudp++;
			e->nbatch = nbatch;
			e->bts = calloc(nbatch, sizeof(*e->bts));
			if (e->bts == NULL)
				return -ENOMEM;
		}
		for (unsigned k = 0; k < c->eids_per_etr; k++)
			sh->owner[e->first + k] = i;
	}
	return 0;
}

/* The publish/subscribe subscribers, when asked for (started with their phase). */
static int run_subscribers(struct run *r)
{
	const struct sessions_conf *c = &r->cc;
	struct shared *sh = &r->sh;
	if (c->subs == NULL || c->subs->n == 0)
		return 0;
	/* session subscribers are the first ETRs, which must be on sessions */
	if (c->subs->session &&
	    (c->subs->n > c->etrs || sh->etrs[c->subs->n - 1].udp_mode || sh->etrs[0].udp_mode))
		return -EINVAL;
	if (auth_key_init(&r->subs_key, c->key_id, c->alg, c->secret, strlen(c->secret)) !=
	    LISPMS_EOK)
		return -EINVAL;
	struct subs_fabric f = {
		.server = c->server,
		.layout = &c->layout,
		.base = (uint64_t)c->first_etr * c->eids_per_etr,
		.neids = (uint64_t)c->etrs * c->eids_per_etr,
		.owner = sh->owner,
		.change_ts = sh->change_ts,
		.etr_addr0 = sh->etrs[0].addr,
		.key = &r->subs_key,
	};
	int ret = subs_new(c->subs, &f, &sh->subs);
	if (ret != 0)
		return ret;
	if (c->subs->session)
		sh->session_subs = c->subs->n;
	r->res->has_subs = true;
	return 0;
}

/* One simulator thread per block of ETRs. */
static int run_start(struct run *r)
{
	const struct sessions_conf *c = &r->cc;
	r->start = mtime_now_ns();
	r->sh.phase_start = r->start;
	for (unsigned t = 0; t < c->threads; t++) {
		struct sim *s = &r->sims[t];
		s->sh = &r->sh;
		s->c = c;
		s->t = t;
		s->lo = (unsigned)((uint64_t)c->etrs * t / c->threads);
		s->hi = (unsigned)((uint64_t)c->etrs * (t + 1) / c->threads);
		s->seed = 12345u + t;
		s->pend = malloc(PEND_CAP * sizeof(*s->pend));
		s->ar = (struct arena){ .base = s->arena_mem, .size = sizeof(s->arena_mem) };
		s->auth = auth_ctx_new();
		s->ep = epoll_create1(EPOLL_CLOEXEC);
		if (s->auth == NULL || s->ep < 0 || s->pend == NULL ||
		    auth_key_init(&s->key, c->key_id, c->alg, c->secret, strlen(c->secret)) !=
			LISPMS_EOK)
			return -EINVAL;
		if (pthread_create(&s->tid, NULL, sim_main, s) != 0)
			return -EAGAIN;
		r->nthreads++;
	}
	return 0;
}

/* "\r\033[K" on a live terminal line, "" otherwise, then the run's label. */
static void run_say(const struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void run_say(const struct run *r, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s", r->cc.progress == 2 ? "\r\033[K" : "");
	if (r->cc.label != NULL)
		fprintf(stderr, "%s: ", r->cc.label);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* The progress line and the time series, when due. */
static void run_tick(struct run *r, uint64_t now)
{
	const struct sessions_conf *c = &r->cc;
	struct sessions_series *ser = &r->res->series;
	if (c->progress && now >= r->next_progress) {
		r->next_progress = now + r->progress_every;
		progress(c, r->sims, r->phase, r->start, &r->last_pkts, &r->last_t, false);
	}
	if (now >= r->next_sample) {
		sample(ser, r->sims, c, r->phase, r->start, now);
		r->next_sample += (uint64_t)(ser->interval_s * 1e9);
		if (r->next_sample < now)
			r->next_sample = now;
	}
}

/* Whether the current phase is done (out of time counts as done). */
static bool phase_done(struct run *r, uint64_t now)
{
	const struct sessions_conf *c = &r->cc;
	struct sessions_result *res = r->res;
	bool done = now >= r->phase_end;
	switch (r->phase) {
	case P_CONVERGE:
		if (RSUM(r, up) == c->etrs) {
			res->converged = true;
			done = true;
		}
		if (done) {
			res->converge_s = (double)(LOAD(r->sh.last_up) - r->start) / 1e9;
			if (!res->converged)
				res->converge_s = (double)(now - r->start) / 1e9;
			res->up = (unsigned)RSUM(r, up);
			if (c->progress)
				run_say(r, "converged: %u of %u ETRs up in %.2f s\n", res->up,
					c->etrs, res->converge_s);
		}
		break;
	case P_SUBSCRIBE:
		done |= subs_complete(r->sh.subs);
		break;
	case P_MOVES:
		if (RSUM(r, moves_sent) >= c->moves &&
		    RSUM(r, moves_notified) >= RSUM(r, moves_sent)) {
			/* with subscribers: once their publications stopped coming */
			uint64_t recs = r->sh.subs ? subs_records(r->sh.subs) : 0;
			if (recs != r->subs_recs) {
				r->subs_recs = recs;
				r->subs_quiet = now;
			}
			done |= now - r->subs_quiet >= 500 * LISPMS_NS_PER_MSEC;
		}
		break;
	case P_CHURN:
		done |= RSUM(r, churn_sent) >= 2 * c->churn &&
			RSUM(r, churn_acked) >= RSUM(r, churn_sent);
		break;
	case P_HOLD: {
		uint64_t lost = LOAD(r->sh.first_loss);
		if (lost && RSUM(r, up) == c->etrs) {
			uint64_t up = LOAD(r->sh.last_up);
			res->reconvergences++;
			res->reconverge_s = (double)(up - lost) / 1e9;
			res->reconverged_unix =
			    (double)mtime_wall_ns() / 1e9 - (double)(now - up) / 1e9;
			atomic_store(&r->sh.first_loss, 0);
			if (c->progress)
				run_say(r, "reconverged in %.2f s\n", res->reconverge_s);
			done |= c->until_reconverged;
		}
		break;
	}
	default:
		break;
	}
	return done;
}

/* What the phase being left measured. */
static void phase_leave(struct run *r, uint64_t now)
{
	struct sessions_result *res = r->res;
	double len = (double)(now - r->sh.phase_start) / 1e9;
	if (r->phase == P_IDLE) {
		res->idle_bytes = RSUM(r, bytes_in) + RSUM(r, bytes_out) - r->idle_b0;
		res->idle_packets = RSUM(r, pkts_in) + RSUM(r, pkts_out) - r->idle_p0;
		res->idle_udp_bytes = RSUM(r, udp_bytes) - r->idle_ub0;
		res->idle_udp_packets = RSUM(r, udp_pkts) - r->idle_up0;
		res->idle_s = len;
	} else if (r->phase == P_MOVES) {
		res->moves_s = len;
	} else if (r->phase == P_CHURN) {
		res->churn_s = len;
	} else if (r->phase == P_HOLD) {
		res->hold_s = len;
	}
}

/* How long a phase may last; 0: nothing to do, skipped. */
static double phase_length(const struct run *r, int phase)
{
	const struct sessions_conf *c = &r->cc;
	switch (phase) {
	case P_SUBSCRIBE:
		return r->sh.subs ? c->subs->seconds : 0;
	case P_IDLE:
		return c->idle_s;
	case P_MOVES:
		return c->moves ? c->move_s : 0;
	case P_CHURN:
		return c->churn ? c->churn_s : 0;
	default:
		return c->hold_s;
	}
}

/* Enter the next phase that has something to do (or P_STOP). */
static int phase_enter_next(struct run *r, uint64_t now)
{
	double len = 0;
	for (r->phase++; r->phase < P_STOP; r->phase++)
		if ((len = phase_length(r, r->phase)) > 0)
			break;
	if (r->phase == P_MOVES || r->phase == P_CHURN)
		len += r->sh.subs ? 10 : 1; /* time for the last notifications to arrive */
	if (r->phase == P_SUBSCRIBE) {
		int ret = subs_start(r->sh.subs);
		if (ret != 0)
			return ret;
	}
	r->sh.phase_start = now;
	r->phase_end = now + (uint64_t)(len * 1e9);
	if (r->phase == P_IDLE) {
		r->idle_b0 = RSUM(r, bytes_in) + RSUM(r, bytes_out);
		r->idle_p0 = RSUM(r, pkts_in) + RSUM(r, pkts_out);
		r->idle_ub0 = RSUM(r, udp_bytes);
		r->idle_up0 = RSUM(r, udp_pkts);
	}
	if (r->phase == P_HOLD)
		atomic_store(&r->sh.first_loss, 0);
	atomic_store(&r->sh.phase, r->phase);
	return 0;
}

/* The phases, each bounded in time, while the simulators run. */
static int run_drive(struct run *r)
{
	const struct sessions_conf *c = &r->cc;
	r->last_t = r->start;
	r->next_progress = r->start + LISPMS_NS_PER_SEC;
	r->progress_every = (c->progress == 2 ? 1 : 2) * LISPMS_NS_PER_SEC;
	r->subs_quiet = r->start;
	r->res->series.interval_s = 0.1;
	r->next_sample = r->start;
	r->phase = P_CONVERGE;
	r->phase_end = r->start + (uint64_t)(c->duration * 1e9);
	while (r->phase != P_STOP) {
		usleep(5000);
		uint64_t now = mtime_now_ns();
		run_tick(r, now);
		if (!phase_done(r, now))
			continue;
		phase_leave(r, now);
		int ret = phase_enter_next(r, now);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* Stop the simulators and the subscribers; the last sample and progress line. */
static void run_stop(struct run *r)
{
	atomic_store(&r->sh.phase, P_STOP);
	for (unsigned t = 0; t < r->nthreads; t++)
		pthread_join(r->sims[t].tid, NULL);
	if (r->sh.subs != NULL) {
		subs_stop(r->sh.subs);
		subs_result(r->sh.subs, &r->res->subs);
	}
	if (r->nthreads == 0)
		return;
	sample(&r->res->series, r->sims, &r->cc, P_STOP, r->start, mtime_now_ns());
	if (r->cc.progress)
		progress(&r->cc, r->sims, P_STOP, r->start, &r->last_pkts, &r->last_t, true);
}

/* The counters and latencies of every simulator into the result. */
static void run_collect(struct run *r)
{
	struct sessions_result *res = r->res;
	if (r->sims == NULL)
		return;
	res->up_end = (unsigned)RSUM(r, up);
	res->acked = RSUM(r, acked);
	for (unsigned k = 0; k < 5; k++)
		res->rejected[k] = RSUM(r, rejected[k]);
	res->udp_acked = RSUM(r, udp_acked);
	res->auth_sent = RSUM(r, auth_sent);
	res->auth_timeouts = RSUM(r, auth_timeouts);
	res->udp_registers = RSUM(r, udp_registers);
	res->udp_retransmits = RSUM(r, udp_retx);
	res->sessions_lost = RSUM(r, lost);
	res->reconnects = RSUM(r, reconnects);
	for (unsigned k = 0; k < SESSIONS_LOSS_COUNT; k++)
		res->lost_by[k] = RSUM(r, lost_by[k]);
	res->connect_failures = RSUM(r, connect_failures);
	for (unsigned k = 0; k < BT_COUNT; k++)
		res->sessions_over[k] = RSUM(r, over[k]);
	res->fallbacks = RSUM(r, fallbacks);
	res->error_notifications = RSUM(r, errors);
	res->notify_ok = RSUM(r, notify_ok);
	res->notify_bad_auth = RSUM(r, notify_bad);
	res->notify_acks_sent = RSUM(r, notify_acks);
	res->bytes_out = RSUM(r, bytes_out);
	res->bytes_in = RSUM(r, bytes_in);
	res->packets_out = RSUM(r, pkts_out);
	res->packets_in = RSUM(r, pkts_in);
	res->moves_sent = RSUM(r, moves_sent);
	res->moves_notified = RSUM(r, moves_notified);
	res->churn_sent = RSUM(r, churn_sent);
	res->churn_acked = RSUM(r, churn_acked);
	for (unsigned t = 0; t < r->cc.threads; t++)
		for (unsigned l = 0; l < SL_COUNT; l++)
			stats_merge(&res->lat[l], &r->sims[t].lat[l]);
}

/* Close what is open and free what was allocated, whichever phase failed. */
static void run_teardown(struct run *r)
{
	struct shared *sh = &r->sh;
	if (sh->subs != NULL)
		subs_free(sh->subs);
	for (unsigned t = 0; r->sims != NULL && t < r->cc.threads; t++) {
		if (r->sims[t].auth)
			auth_ctx_free(r->sims[t].auth);
		if (r->sims[t].ep >= 0)
			close(r->sims[t].ep);
		free(r->sims[t].pend);
	}
	for (unsigned i = 0; sh->etrs != NULL && i < r->cc.etrs; i++) {
		struct etr *e = &sh->etrs[i];
		if (e->udp >= 0)
			close(e->udp);
		if (e->tcp >= 0)
			r->cc.transports.tr[e->ti]->close(e->tcp, e->tstate);
		free(e->rxbuf);
		free(e->bts);
	}
	free(r->sims);
	free(sh->etrs);
	free(sh->owner);
	free(sh->move_ts);
	free(sh->churn_ts);
	free(sh->churn_pending);
	free(sh->move_pending);
	free(sh->change_ts);
}

int sessions_run(const struct sessions_conf *in, struct sessions_result *res)
{
	struct run *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->res = res;
	memset(res, 0, sizeof(*res));
	int ret = run_defaults(r, in);
	if (ret == 0) /* one socket per ETR at a time */
		ret = raise_nofile((uint64_t)r->cc.etrs + 64);
	if (ret == 0)
		ret = run_setup(r);
	if (ret == 0)
		ret = run_subscribers(r);
	if (ret == 0) {
		res->etrs = r->cc.etrs;
		res->udp = r->nudp;
		res->reliable = r->cc.etrs - r->nudp;
		ret = run_start(r);
	}
	if (ret == 0)
		ret = run_drive(r);
	run_stop(r);
	run_collect(r);
	run_teardown(r);
	free(r);
	return ret;
}

/* ------------------------------------------------------------ several Map-Servers */

static double max_d(double a, double b)
{
	return a > b ? a : b;
}

/* Add one server's result to the total (see sessions_run_servers). */
static void result_add(struct sessions_result *t, const struct sessions_result *r, bool first)
{
	t->etrs += r->etrs;
	t->reliable += r->reliable;
	t->udp += r->udp;
	t->up += r->up;
	t->up_end += r->up_end;
	t->converged = (first || t->converged) && r->converged;
	t->converge_s = max_d(t->converge_s, r->converge_s);
	t->acked += r->acked;
	for (unsigned k = 0; k < 5; k++)
		t->rejected[k] += r->rejected[k];
	t->udp_acked += r->udp_acked;
	t->auth_sent += r->auth_sent;
	t->auth_timeouts += r->auth_timeouts;
	t->udp_registers += r->udp_registers;
	t->udp_retransmits += r->udp_retransmits;
	t->sessions_lost += r->sessions_lost;
	t->reconnects += r->reconnects;
	for (unsigned k = 0; k < SESSIONS_LOSS_COUNT; k++)
		t->lost_by[k] += r->lost_by[k];
	t->connect_failures += r->connect_failures;
	for (unsigned k = 0; k < BT_COUNT; k++)
		t->sessions_over[k] += r->sessions_over[k];
	t->fallbacks += r->fallbacks;
	t->error_notifications += r->error_notifications;
	t->notify_ok += r->notify_ok;
	t->notify_bad_auth += r->notify_bad_auth;
	t->notify_acks_sent += r->notify_acks_sent;
	t->bytes_out += r->bytes_out;
	t->bytes_in += r->bytes_in;
	t->packets_out += r->packets_out;
	t->packets_in += r->packets_in;
	t->idle_s = max_d(t->idle_s, r->idle_s);
	t->idle_bytes += r->idle_bytes;
	t->idle_packets += r->idle_packets;
	t->idle_udp_bytes += r->idle_udp_bytes;
	t->idle_udp_packets += r->idle_udp_packets;
	t->reconvergences += r->reconvergences;
	t->reconverge_s = max_d(t->reconverge_s, r->reconverge_s);
	t->reconverged_unix = max_d(t->reconverged_unix, r->reconverged_unix);
	t->hold_s = max_d(t->hold_s, r->hold_s);
	for (unsigned l = 0; l < SL_COUNT; l++)
		stats_merge(&t->lat[l], &r->lat[l]);
}

struct server_run {
	struct sessions_conf c; /* the fabric, with this server */
	struct sessions_result *res;
	char label[80];
	pthread_t tid;
	int ret;
};

static void *server_main(void *arg)
{
	struct server_run *sr = arg;
	sr->ret = sessions_run(&sr->c, sr->res);
	return NULL;
}

int sessions_run_servers(const struct sessions_conf *c, const struct sockaddr_storage *servers,
			 unsigned n, struct sessions_result *res, struct sessions_result *total)
{
	if (n == 0 || n > SESSIONS_SERVERS_MAX)
		return -EINVAL;
	if (n == 1) {
		struct sessions_conf one = *c;
		one.server = servers[0];
		int ret = sessions_run(&one, &res[0]);
		*total = res[0];
		return ret;
	}
	/* one fabric per server: what only one run can do is refused */
	if ((c->subs != NULL && c->subs->n > 0) || c->moves > 0 || c->churn > 0 ||
	    c->udp_server.ss_family != AF_UNSPEC)
		return -EINVAL;
	int ret = raise_nofile((uint64_t)n * (c->etrs + 64));
	struct server_run *sr = calloc(n, sizeof(*sr));
	if (ret == 0 && sr == NULL)
		ret = -ENOMEM;
	unsigned started = 0;
	for (unsigned i = 0; ret == 0 && i < n; i++) {
		sr[i].c = *c;
		sr[i].c.server = servers[i];
		if (saddr_format(&servers[i], sr[i].label, sizeof(sr[i].label)) == LISPMS_EOK)
			sr[i].c.label = sr[i].label;
		if (sr[i].c.progress == 2) /* one live line each would overwrite the others */
			sr[i].c.progress = 1;
		sr[i].res = &res[i];
		if (pthread_create(&sr[i].tid, NULL, server_main, &sr[i]) != 0)
			ret = -EAGAIN;
		else
			started++;
	}
	memset(total, 0, sizeof(*total));
	for (unsigned i = 0; i < started; i++) {
		pthread_join(sr[i].tid, NULL);
		if (ret == 0)
			ret = sr[i].ret;
		result_add(total, &res[i], i == 0);
	}
	free(sr);
	return ret;
}
