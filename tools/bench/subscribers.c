/* SPDX-License-Identifier: MIT */
/* lispms-bench's publish/subscribe subscribers: see subscribers.h. */
#define _GNU_SOURCE
#include "subscribers.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>

#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/mtime.h>

#define NONCE_MARK   0x5bull
#define RETRY_NS     (2 * LISPMS_NS_PER_SEC) /* no answer to a subscription: again */
#define ATTEMPT_STEP (1ull << 28)	     /* a new attempt's nonces start here */

struct sub {
	unsigned index;
	int fd;
	uint8_t xtr_id[16];
	struct eid_prefix prefix;
	uint64_t nonce0; /* this attempt's first nonce (its Map-Request's) */
	uint64_t next;	 /* the nonce the next Map-Notify must carry */
	uint64_t t_sent; /* the Map-Request of this attempt */
	_Atomic uint64_t t_complete;
	/* covered EIDs: slot k is EID index cov[k] (cov NULL: slot = index) */
	const uint32_t *cov;
	uint32_t ncov;
	uint32_t have; /* slots with a locator seen */
	uint32_t *loc; /* slot -> last locator received (host order), 0: none */
	uint64_t *ts;  /* slot -> the move already timed */
	uint64_t publications, records, other, retx, bad_auth, bad_nonce, acks, resubs, refused;
	bool unsubscribed; /* at the end (subs_stop) */
	struct stats_hist lat;
};

struct subs {
	struct subs_conf c;
	struct subs_fabric f;
	struct sub *v;
	uint32_t *all_cov; /* the covered EIDs of a shared prefix (NULL: every one) */
	uint32_t nall;
	uint32_t *each_cov; /* `each`: subscriber i's one EID */
	uint32_t run;	    /* 12 bits of the clock: a later run's nonces are higher */
	pthread_t tid;
	bool started;
	_Atomic bool stop;
	_Atomic unsigned ncomplete;
	_Atomic uint64_t records;
	uint64_t t_start;
	int ep;
	struct auth_ctx *auth; /* the thread's */
};

void subs_xtr_id(unsigned i, bool session, uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0x5b;
	out[1] = session ? 0x5e : 0x5b;
	out[14] = (uint8_t)(i >> 8);
	out[15] = (uint8_t)i;
}

static uint64_t nonce_base(const struct subs *s, unsigned i)
{
	return NONCE_MARK << 56 | (uint64_t)(i & 0xfff) << 44 | (uint64_t)(s->run & 0xfff) << 32;
}

static bool ours(const struct sub *u, uint64_t nonce)
{
	return nonce >> 32 == u->nonce0 >> 32;
}

/* The locator (host order) of ETR o's first locator: 127.1 + its low 16 bits. */
static uint32_t etr_loc(const struct subs *s, uint32_t o)
{
	return 0x7f010000u | ((s->f.etr_addr0 + o) & 0xffffu);
}

static void eid_at(const struct subs *s, uint64_t idx, struct eid_prefix *p)
{
	layout_eid(s->f.layout, LAYOUT_REGISTERED, idx + s->f.base, p);
}

/* Slot of EID index idx in u's covered set, or -1. */
static int64_t slot_of(const struct sub *u, uint64_t idx)
{
	if (u->cov == NULL)
		return idx < u->ncov ? (int64_t)idx : -1;
	uint32_t lo = 0, hi = u->ncov;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (u->cov[mid] < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < u->ncov && u->cov[lo] == idx ? (int64_t)lo : -1;
}

int subs_new(const struct subs_conf *c, const struct subs_fabric *f, struct subs **out)
{
	if (c->n == 0 || c->n > SUBS_MAX || f->neids == 0 || f->neids > UINT32_MAX)
		return -EINVAL;
	struct subs *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->c = *c;
	if (s->c.seconds <= 0)
		s->c.seconds = 30;
	if (s->c.source_base == 0)
		s->c.source_base = 0x7f040001u; /* 127.4.0.1 */
	s->f = *f;
	s->ep = -1;
	s->run = (uint32_t)(mtime_wall_ns() / LISPMS_NS_PER_SEC);
	s->v = calloc(c->n, sizeof(*s->v));
	if (s->v == NULL)
		goto nomem;
	if (c->each) {
		s->each_cov = malloc(c->n * sizeof(*s->each_cov));
		if (s->each_cov == NULL)
			goto nomem;
	} else {
		s->all_cov = malloc(f->neids * sizeof(*s->all_cov));
		if (s->all_cov == NULL)
			goto nomem;
		for (uint64_t i = 0; i < f->neids; i++) {
			struct eid_prefix p;
			eid_at(s, i, &p);
			if (eid_prefix_covers(&c->prefix, &p))
				s->all_cov[s->nall++] = (uint32_t)i;
		}
		if (s->nall == f->neids) { /* every one: slot = index */
			free(s->all_cov);
			s->all_cov = NULL;
		}
	}
	for (unsigned i = 0; i < c->n; i++) {
		struct sub *u = &s->v[i];
		u->index = i;
		u->fd = -1;
		subs_xtr_id(i, c->session, u->xtr_id);
		if (c->each) {
			s->each_cov[i] = (uint32_t)(i % f->neids);
			u->cov = &s->each_cov[i];
			u->ncov = 1;
			eid_at(s, s->each_cov[i], &u->prefix);
		} else {
			u->cov = s->all_cov;
			u->ncov = s->all_cov ? s->nall : (uint32_t)f->neids;
			u->prefix = c->prefix;
		}
		u->loc = calloc(u->ncov ? u->ncov : 1, sizeof(*u->loc));
		u->ts = calloc(u->ncov ? u->ncov : 1, sizeof(*u->ts));
		if (u->loc == NULL || u->ts == NULL)
			goto nomem;
		if (u->ncov == 0) { /* nothing to wait for */
			atomic_store(&u->t_complete, 1);
			atomic_fetch_add(&s->ncomplete, 1);
		}
		u->nonce0 = u->next = nonce_base(s, i);
	}
	*out = s;
	return 0;
nomem:
	subs_free(s);
	return -ENOMEM;
}

/* ------------------------------------------------------------ messages */

/*
 * A subscription (Map-Request, I bit, N bit on the record) from u's socket,
 * with nonce; its ITR-RLOC is the socket's address, or AFI 0 to unsubscribe
 * (RFC 9437 §5: the Map-Server then forgets the subscription, answering
 * nothing).
 */
static int send_subscription(struct subs *s, struct sub *u, uint64_t nonce, bool unsubscribe)
{
	struct sockaddr_storage local;
	socklen_t ll = sizeof(local);
	if (getsockname(u->fd, (struct sockaddr *)&local, &ll) != 0)
		return -1;
	struct lisp_addr itr = { .afi = LISP_AFI_IPV4 };
	memcpy(itr.bytes, &((const struct sockaddr_in *)&local)->sin_addr, 4);
	struct afi_addr rloc = { .afi = LISP_AFI_NONE };
	if (!unsubscribe)
		afi_from_addr(&itr, &rloc);
	struct lisp_request_record rec = { .eid_plen = u->prefix.plen, .reserved = 0x80 /* N */ };
	afi_from_eid(&u->prefix, &rec.eid);
	struct lisp_map_request req = {
		.nonce = nonce, .nitr = 1, .itr_rlocs = &rloc, .nrecords = 1, .records = &rec
	};
	uint8_t buf[512];
	size_t len;
	if (map_request_encode(&req, buf, sizeof(buf) - 24, &len) != LISPMS_EOK)
		return -1;
	buf[1] |= 0x10; /* I: the xTR-ID and site-ID follow (RFC 9437 §5) */
	memcpy(buf + len, u->xtr_id, 16);
	len += 16;
	static const uint8_t site_id[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
	memcpy(buf + len, site_id, 8);
	len += 8;
	if (!unsubscribe)
		u->t_sent = mtime_now_ns();
	if (sendto(u->fd, buf, len, 0, (const struct sockaddr *)&s->f.server,
		   saddr_len(&s->f.server)) < 0)
		return -1;
	return 0;
}

/* One record of a publication to u. */
static void on_record(struct subs *s, struct sub *u, const struct lisp_record *r, uint64_t now,
		      bool state_complete)
{
	struct eid_prefix p;
	uint64_t n;
	int64_t slot;
	if (afi_to_eid(&r->eid, r->eid_plen, &p) != LISPMS_EOK ||
	    layout_index(s->f.layout, &p, &n) != LISPMS_EOK || n < s->f.base ||
	    n - s->f.base >= s->f.neids || (slot = slot_of(u, n - s->f.base)) < 0) {
		u->other++; /* e.g. the answer for the covering prefix itself */
		return;
	}
	uint64_t idx = n - s->f.base;
	uint32_t loc = 0;
	struct lisp_addr a;
	if (r->nlocs > 0 && afi_to_addr(&r->locs[0].addr, &a) == LISPMS_EOK &&
	    a.afi == LISP_AFI_IPV4)
		loc = (uint32_t)a.bytes[0] << 24 | (uint32_t)a.bytes[1] << 16 |
		      (uint32_t)a.bytes[2] << 8 | a.bytes[3];
	if (loc != 0 && u->loc[slot] == 0)
		u->have++;
	else if (loc == 0 && u->loc[slot] != 0)
		u->have--;
	u->loc[slot] = loc;
	if (!state_complete || loc == 0)
		return;
	/* a move's publication: timed when it shows the EID where it was last moved */
	uint32_t owner = __atomic_load_n(&s->f.owner[idx], __ATOMIC_RELAXED);
	uint64_t ts = __atomic_load_n(&s->f.change_ts[idx], __ATOMIC_RELAXED);
	if (ts != 0 && ts != u->ts[slot] && loc == etr_loc(s, owner) && now > ts) {
		stats_add(&u->lat, now - ts);
		u->ts[slot] = ts;
	}
}

/*
 * A Map-Notify for u (its nonce in u's range): verify, check the order,
 * take its records. False when it does not verify; *dup when it is a
 * retransmission of one already taken (acked again, not counted twice).
 */
static bool consume(struct subs *s, struct sub *u, const uint8_t *msg, size_t len,
		    struct auth_ctx *a, bool *dup)
{
	static _Thread_local _Alignas(16) uint8_t mem[1 << 18];
	struct arena ar = { .base = mem, .size = sizeof(mem) };
	struct lisp_map_notify mn;
	*dup = false;
	if (map_notify_decode(msg, len, &ar, &mn) != LISPMS_EOK || mn.type != LISP_MSG_MAP_NOTIFY ||
	    auth_verify(a, s->f.key, 1, msg, len, &mn.auth) != LISPMS_EOK) {
		u->bad_auth++;
		return false;
	}
	if (mn.nonce < u->next && mn.nonce >= u->nonce0) {
		u->retx++; /* a retransmission of one we had (our ack was late) */
		*dup = true;
		return true;
	}
	if (mn.nonce != u->next)
		u->bad_nonce++; /* a gap (or an earlier attempt's): counted, then followed */
	u->next = mn.nonce + 1;
	u->publications++;
	u->records += mn.nrecords;
	atomic_fetch_add_explicit(&s->records, mn.nrecords, memory_order_relaxed);
	uint64_t now = mtime_now_ns();
	bool was_complete = atomic_load_explicit(&u->t_complete, memory_order_relaxed) != 0;
	for (unsigned k = 0; k < mn.nrecords; k++)
		on_record(s, u, &mn.records[k], now, was_complete);
	if (!was_complete && u->have == u->ncov) {
		atomic_store(&u->t_complete, now);
		atomic_fetch_add(&s->ncomplete, 1);
	}
	return true;
}

bool subs_on_session(struct subs *s, unsigned i, const uint8_t *msg, size_t len, struct auth_ctx *a)
{
	if (s == NULL || !s->c.session || i >= s->c.n || len < 12)
		return false;
	uint64_t nonce = 0;
	for (int k = 4; k < 12; k++)
		nonce = nonce << 8 | msg[k];
	struct sub *u = &s->v[i];
	if (!ours(u, nonce))
		return false;
	bool dup;
	consume(s, u, msg, len, a, &dup);
	return true;
}

/* Whatever reached u's socket: publications (acked), or a refusal. */
static void on_udp(struct subs *s, struct sub *u)
{
	uint8_t buf[LISPMS_DGRAM_MAX];
	struct sockaddr_storage from;
	for (int r = 0; r < 64; r++) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(u->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			return;
		int type = msg_type(buf, (size_t)n);
		if (type == LISP_MSG_MAP_REPLY) { /* answered as a plain Map-Request */
			u->refused++;
			continue;
		}
		if (type != LISP_MSG_MAP_NOTIFY || n < 16)
			continue;
		uint64_t nonce = 0;
		for (int k = 4; k < 12; k++)
			nonce = nonce << 8 | buf[k];
		bool dup;
		if (s->c.session || !ours(u, nonce) ||
		    !consume(s, u, buf, (size_t)n, s->auth, &dup))
			continue;
		/* the ack: the same message, type 5, signed again (RFC 9437 §5) */
		buf[0] = (uint8_t)(LISP_MSG_MAP_NOTIFY_ACK << 4 | (buf[0] & 0x0f));
		size_t alen = auth_alg_len(s->f.key->alg_id);
		if (LISPMS_AUTH_OFFSET + alen > (size_t)n)
			continue;
		memset(buf + LISPMS_AUTH_OFFSET, 0, alen);
		if (auth_sign(s->auth, s->f.key, buf, (size_t)n) == LISPMS_EOK &&
		    sendto(u->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) > 0)
			u->acks++;
	}
}

/* ------------------------------------------------------------ the thread */

static void *subs_main(void *arg)
{
	struct subs *s = arg;
	uint64_t next_scan = mtime_now_ns() + RETRY_NS / 4;
	while (!atomic_load(&s->stop)) {
		struct epoll_event evs[256];
		int n = epoll_wait(s->ep, evs, 256, 5);
		for (int i = 0; i < n; i++)
			on_udp(s, &s->v[evs[i].data.u32]);
		uint64_t now = mtime_now_ns();
		if (now < next_scan)
			continue;
		next_scan = now + RETRY_NS / 4;
		/* a subscription nothing came back for (lost, or the server was busy):
		 * again, from the next attempt's nonces; never once anything came */
		for (unsigned i = 0; i < s->c.n; i++) {
			struct sub *u = &s->v[i];
			if (s->c.session || u->publications != 0 || u->refused != 0 ||
			    now - u->t_sent < RETRY_NS)
				continue;
			u->nonce0 += ATTEMPT_STEP;
			u->next = u->nonce0;
			u->resubs++;
			send_subscription(s, u, u->nonce0, false);
		}
	}
	return NULL;
}

int subs_start(struct subs *s)
{
	s->auth = auth_ctx_new();
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->auth == NULL || s->ep < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < s->c.n; i++) {
		struct sub *u = &s->v[i];
		u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct sockaddr_in src = { .sin_family = AF_INET,
					   .sin_addr.s_addr = htonl(s->c.source_base + i) };
		if (u->fd < 0 || bind(u->fd, (struct sockaddr *)&src, sizeof(src)) != 0)
			return -errno;
		int big = 4 << 20;
		setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, u->fd, &ev) != 0)
			return -errno;
	}
	s->t_start = mtime_now_ns();
	for (unsigned i = 0; i < s->c.n; i++)
		if (send_subscription(s, &s->v[i], s->v[i].nonce0, false) != 0)
			return -errno;
	if (pthread_create(&s->tid, NULL, subs_main, s) != 0)
		return -EAGAIN;
	s->started = true;
	return 0;
}

bool subs_complete(struct subs *s)
{
	return atomic_load(&s->ncomplete) >= s->c.n;
}

uint64_t subs_records(struct subs *s)
{
	return atomic_load_explicit(&s->records, memory_order_relaxed);
}

void subs_stop(struct subs *s)
{
	if (!s->started)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->tid, NULL);
	s->started = false;
	/* unsubscribe, with a nonce above every one of this attempt's (the
	 * Map-Server drops a request whose nonce is not above the stored one) */
	for (unsigned i = 0; i < s->c.n; i++) {
		struct sub *u = &s->v[i];
		if (u->fd >= 0 && u->refused == 0 &&
		    send_subscription(s, u, u->nonce0 + ATTEMPT_STEP - 1, true) == 0)
			u->unsubscribed = true;
	}
}

void subs_result(struct subs *s, struct subs_result *r)
{
	memset(r, 0, sizeof(*r));
	r->subscribers = s->c.n;
	uint64_t last = 0;
	for (unsigned i = 0; i < s->c.n; i++) {
		struct sub *u = &s->v[i];
		uint64_t tc = atomic_load(&u->t_complete);
		if (tc != 0 && u->ncov != 0) {
			r->complete++;
			if (tc > last)
				last = tc;
		} else if (u->ncov == 0) {
			r->complete++;
		}
		uint64_t stale = 0;
		for (uint32_t k = 0; k < u->ncov; k++) {
			uint64_t idx = u->cov ? u->cov[k] : k;
			if (u->loc[k] != etr_loc(s, s->f.owner[idx]))
				stale++;
		}
		r->consistent += stale == 0;
		r->stale += stale;
		r->covered += u->ncov;
		r->publications += u->publications;
		r->records += u->records;
		r->other_records += u->other;
		r->retransmitted += u->retx;
		r->bad_auth += u->bad_auth;
		r->bad_nonce += u->bad_nonce;
		r->acks_sent += u->acks;
		r->resubscribed += u->resubs;
		r->refused += u->refused;
		r->unsubscribed += u->unsubscribed;
		stats_merge(&r->lat, &u->lat);
	}
	if (r->complete == s->c.n && last > s->t_start)
		r->complete_s = (double)(last - s->t_start) / 1e9;
}

void subs_free(struct subs *s)
{
	if (s == NULL)
		return;
	subs_stop(s);
	for (unsigned i = 0; s->v && i < s->c.n; i++) {
		if (s->v[i].fd >= 0)
			close(s->v[i].fd);
		free(s->v[i].loc);
		free(s->v[i].ts);
	}
	if (s->ep >= 0)
		close(s->ep);
	if (s->auth)
		auth_ctx_free(s->auth);
	free(s->v);
	free(s->all_cov);
	free(s->each_cov);
	free(s);
}
