/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "load.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <lispms/dgram.h>
#include <lispms/mtime.h>

#define MAX_WINDOW 256
#define BATCH	   32

struct slot {
	uint64_t sent_ns; /* 0: free */
	uint32_t gen;
};

struct sock {
	int fd;
	struct sockaddr_storage local;
	struct slot slots[MAX_WINDOW];
	unsigned free_hint;
};

struct worker {
	const struct load_conf *conf;
	uint64_t start_ns;
	double rate; /* this thread's share of conf->rate; 0: unpaced */
	unsigned index;
	pthread_t tid;
	struct sock *socks;
	struct load_result res;
	uint64_t seq;
	_Atomic uint64_t received;
};

static _Atomic bool stop_flag;
static _Atomic uint64_t total_received;

uint64_t load_quantile(const struct load_result *res, double q)
{
	return stats_quantile(&res->lat, q);
}

static uint64_t make_token(unsigned sock, unsigned slot, uint32_t gen)
{
	return (uint64_t)sock << 40 | (uint64_t)slot << 32 | gen;
}

static int send_one(struct worker *w, unsigned si, unsigned slot, uint64_t now)
{
	const struct load_conf *c = w->conf;
	struct sock *s = &w->socks[si];
	uint8_t buf[LISPMS_DGRAM_MAX];
	s->slots[slot].gen++;
	uint64_t token = make_token(si, slot, s->slots[slot].gen);
	size_t len = c->build(c->arg, w->index, w->seq++, token, &s->local, buf, sizeof(buf));
	if (len == 0)
		return -1;
	ssize_t r = sendto(s->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&c->dst,
			   saddr_len(&c->dst));
	if (r < 0) {
		w->res.send_errors++;
		s->slots[slot].sent_ns = 0;
		return -1;
	}
	s->slots[slot].sent_ns = now;
	w->res.sent++;
	return 0;
}

/* The local address the route to dst leaves from (port 0); false when none. */
static bool route_source(const struct sockaddr_storage *dst, struct sockaddr_storage *ss)
{
	int t = socket(dst->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*ss);
	bool ok = t >= 0 && connect(t, (const struct sockaddr *)dst, saddr_len(dst)) == 0 &&
		  getsockname(t, (struct sockaddr *)ss, &len) == 0;
	if (t >= 0)
		close(t);
	if (ok)
		saddr_set_port(ss, 0);
	return ok;
}

/*
 * Every socket is bound before its first request, so builders know its port
 * (an ECM names it as the inner source port). Towards a loopback server the
 * sockets spread over src_count addresses from src_base; elsewhere they bind
 * the address the route to the server leaves from, so a Map-Request's
 * ITR-RLOC names an address the reply can reach.
 */
static int open_sock(const struct load_conf *c, unsigned n)
{
	int fd = socket(c->dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int size = 4 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = c->dst.ss_family;
	if (c->dst.ss_family == AF_INET) {
		const struct sockaddr_in *d = (const struct sockaddr_in *)&c->dst;
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		if ((ntohl(d->sin_addr.s_addr) >> 24) == 127)
			a->sin_addr.s_addr = htonl(c->src_base + n % c->src_count);
		else
			route_source(&c->dst, &ss);
	} else {
		const struct sockaddr_in6 *d = (const struct sockaddr_in6 *)&c->dst;
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		if (IN6_IS_ADDR_LOOPBACK(&d->sin6_addr))
			a->sin6_addr = in6addr_loopback;
		else
			route_source(&c->dst, &ss);
	}
	if (bind(fd, (struct sockaddr *)&ss, saddr_len(&ss)) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Under a rate, a request may leave only when the thread is behind schedule. */
static bool may_send(const struct worker *w, uint64_t now)
{
	if (w->rate <= 0)
		return true;
	return (double)w->res.sent < (double)(now - w->start_ns) / 1e9 * w->rate + 1;
}

/* Send on every free slot the schedule allows. */
static void fill_free(struct worker *w, uint64_t now)
{
	const struct load_conf *c = w->conf;
	for (unsigned i = 0; i < c->sockets; i++)
		for (unsigned k = 0; k < c->window; k++) {
			if (w->socks[i].slots[k].sent_ns != 0)
				continue;
			if (!may_send(w, now))
				return;
			send_one(w, i, k, now);
		}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct load_conf *c = w->conf;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	uint64_t now = mtime_now_ns();
	w->start_ns = now;
	w->rate = c->rate / c->threads;
	for (unsigned i = 0; i < c->sockets; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
		epoll_ctl(ep, EPOLL_CTL_ADD, w->socks[i].fd, &ev);
	}
	fill_free(w, now);
	uint64_t timeout = (uint64_t)c->timeout_ms * LISPMS_NS_PER_MSEC;
	uint64_t next_scan = now + timeout / 4;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	static _Thread_local uint8_t bufs[BATCH][2048];
	struct epoll_event evs[64];
	while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
		int n = epoll_wait(ep, evs, 64, w->rate > 0 ? 1 : 10);
		now = mtime_now_ns();
		for (int e = 0; e < n; e++) {
			unsigned si = evs[e].data.u32;
			struct sock *s = &w->socks[si];
			for (unsigned i = 0; i < BATCH; i++) {
				iov[i].iov_base = bufs[i];
				iov[i].iov_len = sizeof(bufs[i]);
				memset(&msgs[i], 0, sizeof(msgs[i]));
				msgs[i].msg_hdr.msg_iov = &iov[i];
				msgs[i].msg_hdr.msg_iovlen = 1;
			}
			int r = recvmmsg(s->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
			now = mtime_now_ns();
			for (int i = 0; i < r; i++) {
				uint64_t token;
				unsigned kind = 0;
				if (!c->token(c->arg, bufs[i], msgs[i].msg_len, &token, &kind) ||
				    (token >> 40) != si || ((token >> 32) & 0xff) >= c->window) {
					w->res.unmatched++;
					continue;
				}
				unsigned slot = (token >> 32) & 0xff;
				struct slot *sl = &s->slots[slot];
				if (sl->sent_ns == 0 || sl->gen != (uint32_t)token) {
					w->res
					    .unmatched++; /* late reply to a request counted lost */
					continue;
				}
				stats_add(&w->res.lat, now - sl->sent_ns);
				w->res.kinds[kind < LOAD_KINDS ? kind : LOAD_KINDS - 1]++;
				w->res.received++;
				sl->sent_ns = 0;
				if (c->count &&
				    atomic_fetch_add(&total_received, 1) + 1 >= c->count) {
					atomic_store(&stop_flag, true);
					break;
				}
				if (may_send(w, now))
					send_one(w, si, slot, now);
			}
			atomic_store_explicit(&w->received, w->res.received, memory_order_relaxed);
		}
		if (now >= next_scan) {
			next_scan = now + timeout / 4;
			for (unsigned i = 0; i < c->sockets; i++)
				for (unsigned k = 0; k < c->window; k++) {
					struct slot *sl = &w->socks[i].slots[k];
					if (sl->sent_ns != 0 && now - sl->sent_ns > timeout) {
						w->res.lost++;
						sl->sent_ns = 0;
					}
				}
		}
		fill_free(w, now);
	}
	close(ep);
	return NULL;
}

int load_run(const struct load_conf *in, struct load_result *res)
{
	struct load_conf c = *in;
	if (c.threads == 0)
		c.threads = 1;
	if (c.sockets == 0)
		c.sockets = 16;
	if (c.window == 0)
		c.window = 8;
	if (c.window > MAX_WINDOW)
		c.window = MAX_WINDOW;
	if (c.duration <= 0)
		c.duration = 5;
	if (c.timeout_ms == 0)
		c.timeout_ms = 1000;
	if (c.src_base == 0)
		c.src_base = 0x7f000001;
	if (c.src_count == 0)
		c.src_count = 1;
	atomic_store(&stop_flag, false);
	atomic_store(&total_received, 0);

	struct worker *ws = calloc(c.threads, sizeof(*ws));
	if (ws == NULL)
		return -ENOMEM;
	int ret = 0;
	unsigned started = 0;
	for (unsigned t = 0; t < c.threads; t++) {
		ws[t].conf = &c;
		ws[t].index = t;
		ws[t].socks = calloc(c.sockets, sizeof(struct sock));
		if (ws[t].socks == NULL) {
			ret = -ENOMEM;
			goto out;
		}
		for (unsigned i = 0; i < c.sockets; i++) {
			int fd = open_sock(&c, t * c.sockets + i);
			if (fd < 0) {
				ret = fd;
				goto out;
			}
			ws[t].socks[i].fd = fd;
			socklen_t sl = sizeof(ws[t].socks[i].local);
			getsockname(fd, (struct sockaddr *)&ws[t].socks[i].local, &sl);
		}
	}
	uint64_t start = mtime_now_ns();
	for (; started < c.threads; started++)
		pthread_create(&ws[started].tid, NULL, worker_main, &ws[started]);
	uint64_t deadline = start + (uint64_t)(c.duration * 1e9);
	uint64_t last = 0, last_t = start;
	while (!atomic_load(&stop_flag)) {
		usleep(20000);
		uint64_t now = mtime_now_ns();
		if (c.progress && now - last_t >= LISPMS_NS_PER_SEC) {
			uint64_t got = 0;
			for (unsigned t = 0; t < c.threads; t++)
				got += atomic_load_explicit(&ws[t].received, memory_order_relaxed);
			fprintf(stderr, "  %.0fs  %.0f replies/s  %llu total\n",
				(double)(now - start) / 1e9,
				(double)(got - last) * 1e9 / (double)(now - last_t),
				(unsigned long long)got);
			last = got;
			last_t = now;
		}
		if (now >= deadline)
			atomic_store(&stop_flag, true);
	}
	uint64_t end = mtime_now_ns();
	memset(res, 0, sizeof(*res));
	for (unsigned t = 0; t < started; t++) {
		pthread_join(ws[t].tid, NULL);
		res->sent += ws[t].res.sent;
		res->received += ws[t].res.received;
		res->lost += ws[t].res.lost;
		res->unmatched += ws[t].res.unmatched;
		res->send_errors += ws[t].res.send_errors;
		stats_merge(&res->lat, &ws[t].res.lat);
		for (unsigned k = 0; k < LOAD_KINDS; k++)
			res->kinds[k] += ws[t].res.kinds[k];
	}
	res->seconds = (double)(end - start) / 1e9;
out:
	for (unsigned t = 0; t < c.threads; t++) {
		if (ws[t].socks)
			for (unsigned i = 0; i < c.sockets; i++)
				if (ws[t].socks[i].fd > 0)
					close(ws[t].socks[i].fd);
		free(ws[t].socks);
	}
	free(ws);
	return ret;
}

void load_json(const struct load_result *r, const char *bench, const char *scenario, char *buf,
	       size_t len)
{
	snprintf(buf, len,
		 "{\"bench\":\"%s\",\"case\":\"%s\",\"seconds\":%.3f,\"sent\":%llu,"
		 "\"received\":%llu,\"replies_per_sec\":%.0f,\"lost\":%llu,\"unmatched\":%llu,"
		 "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f}",
		 bench, scenario, r->seconds, (unsigned long long)r->sent,
		 (unsigned long long)r->received, (double)r->received / r->seconds,
		 (unsigned long long)r->lost, (unsigned long long)r->unmatched,
		 (double)load_quantile(r, 0.5) / 1e3, (double)load_quantile(r, 0.99) / 1e3,
		 (double)load_quantile(r, 0.999) / 1e3, (double)r->lat.max_ns / 1e3);
}
