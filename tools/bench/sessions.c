/* SPDX-License-Identifier: MIT */
/*
 * lispms-bench sessions: N simulated ETRs on reliable transport, one process.
 * Each ETR has its own source address (127.1.0.1 + i, or --source + i), and
 * sends its r=1 UDP Map-Register to --udp-server when given (a fast path
 * address) and opens its session to --server. It follows
 * the draft: an authenticated r=1 UDP Map-Register, the Map-Notify with r,
 * a TCP connection, the Registration Refresh, then Registrations for its M
 * EIDs (up to 100 records per Map-Register), counting every ACK and Reject.
 * Then it can hold the sessions idle (measuring the bytes that still flow)
 * and move EIDs between ETRs, timing each move's Mapping Notification at the
 * displaced ETR. Everything is bounded by --duration.
 */
#define _GNU_SOURCE
#include "sessions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/mtime.h>
#include <lispms/proto.h>
#include <lispms/proto_rt.h>

#define RECS_PER_MSG 100

enum etr_state { E_AUTH, E_CONNECTING, E_REFRESH, E_REGISTERING, E_UP, E_FAILED };

struct etr {
	enum etr_state state;
	int udp, tcp;
	uint32_t addr; /* host order */
	unsigned first_eid, neids;
	unsigned acked, rejected;
	struct rt_stream rx;
	uint8_t *rxbuf;
	uint64_t auth_sent;
};

struct sim {
	const struct sessions_conf *c;
	struct etr *etrs;
	int ep;
	struct auth_ctx *auth;
	struct auth_key key;
	_Alignas(16) uint8_t arena_mem[1 << 20]; /* arena_alloc aligns relative to it */
	struct arena ar;
	uint64_t app_bytes_in, app_bytes_out;
	unsigned up, done, failed;
	uint64_t acked, rejected;
	/* mobility */
	uint64_t move_sent_ns[65536];
	uint64_t *lat;
	size_t nlat, maxlat;
};

static void eid_of(const struct sim *s, unsigned n, struct eid_prefix *p)
{
	uint32_t v = 0x0a000000u + n;
	memset(p, 0, sizeof(*p));
	p->iid = s->c->iid;
	p->afi = LISP_AFI_IPV4;
	p->plen = 32;
	p->bytes[0] = (uint8_t)(v >> 24);
	p->bytes[1] = (uint8_t)(v >> 16);
	p->bytes[2] = (uint8_t)(v >> 8);
	p->bytes[3] = (uint8_t)v;
}

/* A signed Map-Register of EIDs [first, first+n) with the ETR's locator. */
static size_t build_register(struct sim *s, const struct etr *e, unsigned first, unsigned n,
			     uint32_t flags, uint32_t locator, uint8_t *out, size_t cap)
{
	arena_reset(&s->ar);
	struct lisp_record *recs = arena_alloc(&s->ar, sizeof(*recs) * n);
	struct lisp_locator loc = {
		.priority = 1, .weight = 100, .mpriority = 255, .flags = LISP_LOC_L | LISP_LOC_R
	};
	struct lisp_addr la = { .afi = LISP_AFI_IPV4 };
	uint32_t be = htonl(locator);
	memcpy(la.bytes, &be, 4);
	afi_from_addr(&la, &loc.addr);
	for (unsigned i = 0; i < n; i++) {
		struct eid_prefix p;
		eid_of(s, first + i, &p);
		recs[i] = (struct lisp_record){
			.ttl = 3, .a = 1, .eid_plen = 32, .nlocs = 1, .locs = &loc
		};
		afi_from_eid(&p, &recs[i].eid);
	}
	struct lisp_map_register m = {
		.flags = flags,
		.nonce = e->addr,
		.auth = { .key_id = s->key.key_id, .alg_id = s->key.alg_id, .len = 32 },
		.nrecords = (uint16_t)n,
		.records = recs,
	};
	size_t len;
	if (map_register_encode(&m, out, cap, &len) != LISPMS_EOK ||
	    auth_sign(s->auth, &s->key, out, len) != LISPMS_EOK)
		return 0;
	return len;
}

static int send_all(struct sim *s, int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		s->app_bytes_out += (size_t)n;
	}
	return 0;
}

static int send_registration(struct sim *s, struct etr *e, unsigned first, unsigned n,
			     uint32_t locator)
{
	static uint8_t inner[65535], framed[65535];
	size_t ilen = build_register(s, e, first, n, LISP_MREG_P, locator, inner, sizeof(inner));
	struct rt_msg m = { .type = RT_TYPE_REGISTRATION, .has_id = 1, .id = first };
	m.u.inner.msg = inner;
	m.u.inner.len = ilen;
	size_t len;
	if (ilen == 0 || rt_encode(&m, framed, sizeof(framed), &len) != LISPMS_EOK)
		return -1;
	return send_all(s, e->tcp, framed, len);
}

static void fail(struct sim *s, struct etr *e)
{
	if (e->state == E_FAILED)
		return;
	if (e->state == E_UP)
		s->up--;
	e->state = E_FAILED;
	s->failed++;
}

static void start_auth(struct sim *s, struct etr *e)
{
	e->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(e->addr) };
	if (e->udp < 0 || bind(e->udp, (struct sockaddr *)&src, sizeof(src)) != 0) {
		fail(s, e);
		return;
	}
	uint8_t msg[2048];
	size_t len = build_register(s, e, e->first_eid, 1, LISP_MREG_r | LISP_MREG_M | LISP_MREG_P,
				    e->addr, msg, sizeof(msg));
	const struct sockaddr_storage *to =
	    s->c->udp_server.ss_family != AF_UNSPEC ? &s->c->udp_server : &s->c->server;
	sendto(e->udp, msg, len, 0, (const struct sockaddr *)to, saddr_len(to));
	e->auth_sent = mtime_now_ns();
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)(e - s->etrs) << 1 };
	epoll_ctl(s->ep, EPOLL_CTL_ADD, e->udp, &ev);
}

static void start_tcp(struct sim *s, struct etr *e)
{
	e->tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(e->addr) };
	int on = 1;
	setsockopt(e->tcp, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (e->tcp < 0 || bind(e->tcp, (struct sockaddr *)&src, sizeof(src)) != 0) {
		fail(s, e);
		return;
	}
	if (connect(e->tcp, (const struct sockaddr *)&s->c->server, saddr_len(&s->c->server)) !=
		0 &&
	    errno != EINPROGRESS) {
		fail(s, e);
		return;
	}
	e->rxbuf = malloc(LISPMS_RT_MAX_LEN);
	rt_stream_init(&e->rx, e->rxbuf, LISPMS_RT_MAX_LEN, LISPMS_RT_MAX_LEN);
	e->state = E_REFRESH;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
				  .data.u64 = (uint64_t)(e - s->etrs) << 1 | 1 };
	epoll_ctl(s->ep, EPOLL_CTL_ADD, e->tcp, &ev);
}

static void on_udp(struct sim *s, struct etr *e)
{
	uint8_t buf[2048];
	ssize_t n = recv(e->udp, buf, sizeof(buf), 0);
	struct lisp_map_notify mn;
	arena_reset(&s->ar);
	if (n <= 0 || e->state != E_AUTH ||
	    map_notify_decode(buf, (size_t)n, &s->ar, &mn) != LISPMS_EOK)
		return;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, e->udp, NULL);
	close(e->udp);
	e->udp = -1;
	if (!(mn.flags & LISP_MNOT_r)) {
		fail(s, e); /* the Map-Server does not offer sessions */
		return;
	}
	e->state = E_CONNECTING;
	start_tcp(s, e);
}

/* A Mapping Notification reached ETR e: the move of the EID it names is done. */
static void moved(struct sim *s, const struct rt_msg *m)
{
	struct lisp_map_notify mn;
	struct eid_prefix p;
	arena_reset(&s->ar);
	if (map_notify_decode(m->u.inner.msg, m->u.inner.len, &s->ar, &mn) != LISPMS_EOK ||
	    mn.nrecords != 1 || record_eid(&mn.records[0], &p) != LISPMS_EOK)
		return;
	unsigned n = (unsigned)(p.bytes[1] << 16 | p.bytes[2] << 8 | p.bytes[3]);
	uint64_t sent = s->move_sent_ns[n % 65536];
	if (sent != 0 && s->nlat < s->maxlat) {
		s->lat[s->nlat++] = mtime_now_ns() - sent;
		s->move_sent_ns[n % 65536] = 0;
	}
}

static void on_tcp(struct sim *s, struct etr *e)
{
	size_t avail;
	uint8_t *space = rt_stream_space(&e->rx, &avail);
	ssize_t n = recv(e->tcp, space, avail, 0);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		fail(s, e);
		epoll_ctl(s->ep, EPOLL_CTL_DEL, e->tcp, NULL);
		return;
	}
	s->app_bytes_in += (size_t)n;
	rt_stream_commit(&e->rx, (size_t)n);
	const uint8_t *msg;
	size_t len;
	int r;
	while ((r = rt_stream_next(&e->rx, &msg, &len)) == 1) {
		struct rt_msg m;
		if (rt_decode(msg, len, &m) != LISPMS_EOK)
			continue;
		switch (m.type) {
		case RT_TYPE_REGISTRATION_REFRESH:
			if (e->state == E_REFRESH) {
				e->state = E_REGISTERING;
				for (unsigned k = 0; k < e->neids; k += RECS_PER_MSG) {
					unsigned cnt = e->neids - k < RECS_PER_MSG ? e->neids - k
										   : RECS_PER_MSG;
					if (send_registration(s, e, e->first_eid + k, cnt, e->addr))
						fail(s, e);
				}
			}
			break;
		case RT_TYPE_REGISTRATION_ACK:
		case RT_TYPE_REGISTRATION_REJECT:
			if (m.type == RT_TYPE_REGISTRATION_ACK) {
				e->acked++;
				s->acked++;
			} else {
				e->rejected++;
				s->rejected++;
			}
			if (e->state == E_REGISTERING && e->acked + e->rejected >= e->neids) {
				e->state = E_UP;
				s->up++;
				s->done++;
			}
			break;
		case RT_TYPE_MAPPING_NOTIFICATION:
			moved(s, &m);
			break;
		default:
			break;
		}
	}
	if (r < 0)
		fail(s, e);
}

static int pump(struct sim *s, int timeout_ms)
{
	struct epoll_event evs[256];
	int n = epoll_wait(s->ep, evs, 256, timeout_ms);
	for (int i = 0; i < n; i++) {
		struct etr *e = &s->etrs[evs[i].data.u64 >> 1];
		if (evs[i].data.u64 & 1)
			on_tcp(s, e);
		else
			on_udp(s, e);
	}
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int sessions_run(const struct sessions_conf *c, struct sessions_result *res)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((uint64_t)c->etrs + 64 > rl.rlim_cur) /* one socket per ETR at a time */
		return -EMFILE;

	static struct sim s;
	memset(&s, 0, sizeof(s));
	s.c = c;
	s.ar = (struct arena){ .base = s.arena_mem, .size = sizeof(s.arena_mem) };
	s.auth = auth_ctx_new();
	auth_key_init(&s.key, c->key_id, LISP_ALG_HMAC_SHA256, c->secret, strlen(c->secret));
	s.etrs = calloc(c->etrs, sizeof(*s.etrs));
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	s.maxlat = 1 << 20;
	s.lat = malloc(s.maxlat * sizeof(*s.lat));
	if (s.etrs == NULL || s.ep < 0 || s.lat == NULL)
		return -ENOMEM;
	memset(res, 0, sizeof(*res));

	uint64_t start = mtime_now_ns();
	uint64_t deadline = start + (uint64_t)(c->duration * 1e9);
	/* connect in waves so the server's accept queues keep up */
	unsigned started = 0;
	while (s.done + s.failed < c->etrs && mtime_now_ns() < deadline) {
		for (unsigned k = 0; k < 200 && started < c->etrs; k++, started++) {
			struct etr *e = &s.etrs[started];
			e->addr = (c->source_base ? c->source_base : 0x7f010001u) +
				  started; /* 127.1.0.1 ... */
			e->first_eid = started * c->eids_per_etr;
			e->neids = c->eids_per_etr;
			e->udp = e->tcp = -1;
			start_auth(&s, e);
		}
		pump(&s, 10);
		uint64_t now = mtime_now_ns();
		for (unsigned i = 0; i < started; i++) /* UDP is lossy: retry the auth */
			if (s.etrs[i].state == E_AUTH &&
			    now - s.etrs[i].auth_sent > LISPMS_NS_PER_SEC) {
				if (s.etrs[i].udp >= 0) {
					epoll_ctl(s.ep, EPOLL_CTL_DEL, s.etrs[i].udp, NULL);
					close(s.etrs[i].udp);
				}
				start_auth(&s, &s.etrs[i]);
			}
	}
	res->converge_s = (double)(mtime_now_ns() - start) / 1e9;
	res->sessions_up = s.up;
	res->acked = s.acked;
	res->rejected = s.rejected;
	res->failed = s.failed;

	if (c->idle_s > 0) { /* nothing changes: what still flows? */
		uint64_t in0 = s.app_bytes_in, out0 = s.app_bytes_out;
		uint64_t end = mtime_now_ns() + (uint64_t)(c->idle_s * 1e9);
		while (mtime_now_ns() < end)
			pump(&s, 50);
		res->idle_bytes = s.app_bytes_in - in0 + s.app_bytes_out - out0;
		res->idle_s = c->idle_s;
	}

	if (c->moves > 0 && s.up >= 2) { /* EIDs move to the next ETR */
		uint64_t t0 = mtime_now_ns(), end = t0 + (uint64_t)(c->move_s * 1e9);
		uint64_t sent = 0;
		while (mtime_now_ns() < end && sent < c->moves) {
			uint64_t due =
			    (uint64_t)((double)(mtime_now_ns() - t0) / 1e9 * c->move_rate);
			for (unsigned batch = 0; sent < due && sent < c->moves && batch < 64;
			     batch++) {
				unsigned from = (unsigned)(sent % c->etrs);
				unsigned to = (from + 1) % c->etrs;
				struct etr *src = &s.etrs[from], *dst = &s.etrs[to];
				unsigned eid =
				    src->first_eid + (unsigned)(sent / c->etrs) % src->neids;
				if (src->state == E_UP && dst->state == E_UP) {
					s.move_sent_ns[eid % 65536] = mtime_now_ns();
					send_registration(&s, dst, eid, 1, dst->addr);
				}
				sent++;
			}
			/* read everything that arrived before sending more */
			while (pump(&s, 0) > 0)
				;
			if (sent >= due)
				pump(&s, 1);
		}
		uint64_t drain_end = mtime_now_ns() + LISPMS_NS_PER_SEC;
		while (mtime_now_ns() < drain_end)
			pump(&s, 10);
		res->moves_sent = sent;
		res->moves_s = (double)(mtime_now_ns() - t0) / 1e9 - 1.0;
		res->moves_notified = s.nlat;
		if (s.nlat > 0) {
			qsort(s.lat, s.nlat, sizeof(*s.lat), cmp_u64);
			res->move_p50_us = (double)s.lat[s.nlat / 2] / 1e3;
			res->move_p99_us = (double)s.lat[s.nlat * 99 / 100] / 1e3;
			res->move_max_us = (double)s.lat[s.nlat - 1] / 1e3;
		}
	}
	for (unsigned i = 0; i < c->etrs; i++) {
		if (s.etrs[i].udp >= 0)
			close(s.etrs[i].udp);
		if (s.etrs[i].tcp >= 0)
			close(s.etrs[i].tcp);
		free(s.etrs[i].rxbuf);
	}
	free(s.etrs);
	free(s.lat);
	close(s.ep);
	auth_ctx_free(s.auth);
	return 0;
}
