/* SPDX-License-Identifier: MIT */
/*
 * lispmsd as a DDT Map-Resolver: the I/O around the resolution core
 * (ms/mr.c). One thread, "resolver", owns the struct mr, the resolver's UDP
 * sockets (map-resolver.listen on map-resolver.port) and the clock:
 *
 *   in  ECM Map-Request without D (an ITR's)  -> mr_request
 *       Map-Referral (a DDT node's or Map-Server's answer) -> mr_referral
 *       anything else, an ECM with D (we are no DDT node on these sockets),
 *       an undecodable message, a request with no usable ITR-RLOC -> dropped,
 *       counted (lispms_mr_dropped_total{reason})
 *   out MR_ACT_SEND: the ITR's ECM as received with the D bit set and the
 *       inner Map-Request's nonce mr's choice (docs/protocol.md D25: its
 *       own toward DDT nodes, the ITR's toward Map-Servers; the inner
 *       IP/UDP header still names the ITR, so the Map-Server's Map-Reply
 *       reaches the ITR) to the referral RLOC on map-resolver.ddt-port
 *       MR_ACT_NEGATIVE: a one-record negative Map-Reply with the ITR's nonce
 *       to its ITR-RLOC (the one of the ECM sender's family, else the first
 *       usable) and the ECM's inner source port
 *   timer: mr_tick at the earliest pending deadline, at least once a second
 *       (timeouts move to the next RLOC; the cache sweep)
 *
 * The role is chosen by the socket (docs/protocol.md D23): the Map-Server's
 * sockets never feed the resolver and these never feed the Map-Server.
 *
 * Threads: the struct mr is the resolver thread's; the control thread takes
 * the views (lispmsctl resolver cache / pending) under the same mutex the
 * resolver holds while it works on a message or a tick. The mutex is
 * uncontended except while a view copies its rows; nothing else shares it.
 * Counters: mr's own statistics (enum mr_stat) are added to the resolver
 * thread's counter row after each round, one metrics.def row per stat.
 */
#define _GNU_SOURCE
#include "resolver.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <lispms/arena.h>
#include <lispms/counters.h>
#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/log.h>
#include <lispms/mr.h>
#include <lispms/mtime.h>
#include <lispms/proto.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>
#include <lispms/wire.h>

#define RESOLVER_MAX_LISTEN 4	 /* CONF_MR_MAX_LISTEN */
#define RESOLVER_RX_BATCH   64	 /* datagrams per socket per round */
#define RESOLVER_TICK_MS    1000 /* mr_tick at least this often */
#define RESOLVER_VIEW_MAX   1000 /* rows a view shows */
#define RESOLVER_NONCE_AT   4	 /* a Map-Request's nonce, after its first word */

struct resolver {
	struct mr *mr;
	pthread_mutex_t lock; /* mr: the resolver thread, and views on the control thread */
	int fds[RESOLVER_MAX_LISTEN];
	int families[RESOLVER_MAX_LISTEN];
	unsigned nfds;
	int wake; /* eventfd: stop */
	atomic_bool stop;
	struct thread *thr;
	uint16_t ddt_port;
	uint64_t exported[MR_ST_MAX];
	struct arena ar;
	uint8_t arena_mem[64 * 1024];
	uint8_t rx[65536];
	uint8_t tx[2048];
	uint8_t inner[MR_MAX_REQUEST]; /* a DDT Map-Request's inner message */
};

/* One counter per enum mr_stat, in its order (metrics.def). */
static const enum metric_id mr_metric[MR_ST_MAX] = {
	[MR_ST_REQUESTS] = LISPMS_M_MR_REQUESTS,
	[MR_ST_CACHE_HIT] = LISPMS_M_MR_CACHE_HIT,
	[MR_ST_CACHE_MISS] = LISPMS_M_MR_CACHE_MISS,
	[MR_ST_CACHE_EVICT] = LISPMS_M_MR_CACHE_EVICT,
	[MR_ST_CACHE_EXPIRED] = LISPMS_M_MR_CACHE_EXPIRED,
	[MR_ST_SENT] = LISPMS_M_MR_SENT,
	[MR_ST_TIMEOUTS] = LISPMS_M_MR_TIMEOUTS,
	[MR_ST_NODE_REFERRAL] = LISPMS_M_MR_NODE_REFERRAL,
	[MR_ST_MS_REFERRAL] = LISPMS_M_MR_MS_REFERRAL,
	[MR_ST_MS_ACK] = LISPMS_M_MR_MS_ACK,
	[MR_ST_MS_NOT_REGISTERED] = LISPMS_M_MR_MS_NOT_REGISTERED,
	[MR_ST_DELEGATION_HOLE] = LISPMS_M_MR_DELEGATION_HOLE,
	[MR_ST_NOT_AUTHORITATIVE] = LISPMS_M_MR_NOT_AUTHORITATIVE,
	[MR_ST_NEGATIVE] = LISPMS_M_MR_NEGATIVE,
	[MR_ST_DONE] = LISPMS_M_MR_DONE,
	[MR_ST_GAVE_UP] = LISPMS_M_MR_GAVE_UP,
	[MR_ST_LOOP] = LISPMS_M_MR_LOOP,
	[MR_ST_DEPTH] = LISPMS_M_MR_DEPTH,
	[MR_ST_DROP_FULL] = LISPMS_M_MR_DROP_FULL,
	[MR_ST_DROP_DUP] = LISPMS_M_MR_DROP_DUP,
	[MR_ST_DROP_UNKNOWN] = LISPMS_M_MR_DROP_UNKNOWN,
	[MR_ST_DROP_SOURCE] = LISPMS_M_MR_DROP_SOURCE,
	[MR_ST_DROP_BAD] = LISPMS_M_MR_DROP_BAD,
	[MR_ST_NEG_LIMITED] = LISPMS_M_MR_NEG_LIMITED,
	[MR_ST_DROP_ITR_NONCE] = LISPMS_M_MR_DROP_ITR_NONCE,
	[MR_ST_SIG_FAILED] = LISPMS_M_MR_SIG_FAILED,
	[MR_ST_SIG_UNSIGNED] = LISPMS_M_MR_SIG_UNSIGNED,
	[MR_ST_SIG_NO_KEY] = LISPMS_M_MR_SIG_NO_KEY,
};
/* a new enum mr_stat needs its metrics.def row and its line above */
_Static_assert(MR_ST_MAX == 28, "enum mr_stat and mr_metric[] differ");
_Static_assert(LISPMS_M_MR_SIG_NO_KEY - LISPMS_M_MR_REQUESTS == MR_ST_MAX - 1,
	       "metrics.def's MR_ rows are not enum mr_stat's, in order");

static uint64_t now_ms(void)
{
	return mtime_now_ns() / 1000000u;
}

static void export_stats(struct resolver *r)
{
	for (unsigned s = 0; s < MR_ST_MAX; s++) {
		uint64_t v = mr_stat(r->mr, (enum mr_stat)s);
		if (v > r->exported[s])
			counters_add(mr_metric[s], v - r->exported[s]);
		r->exported[s] = v;
	}
}

/* A socket of dst's family, or -1. */
static int fd_for(const struct resolver *r, const struct sockaddr_storage *dst)
{
	for (unsigned i = 0; i < r->nfds; i++)
		if (r->families[i] == dst->ss_family)
			return r->fds[i];
	return -1;
}

static void emit(struct resolver *r, const uint8_t *msg, size_t len, const struct lisp_addr *to,
		 uint16_t port)
{
	struct sockaddr_storage dst;
	int fd;
	if (lisp_addr_to_sockaddr(to, port, &dst) == 0 || (fd = fd_for(r, &dst)) < 0 ||
	    sendto(fd, msg, len, 0, (const struct sockaddr *)&dst, saddr_len(&dst)) !=
		(ssize_t)len) {
		counters_inc(LISPMS_M_MR_DROP_SEND);
		return;
	}
}

/* Carry out what mr decided. */
static void act(struct resolver *r, const struct mr_action *a)
{
	size_t n;
	switch (a->kind) {
	case MR_ACT_NONE:
		return;
	case MR_ACT_SEND: {
		/* the ITR's ECM as it came, now a DDT Map-Request: D set, and
		 * the inner Map-Request's nonce the one mr chose (D25; the
		 * inner UDP checksum is computed again by ecm_encode) */
		struct lisp_ecm e;
		if (ecm_decode(a->request, a->request_len, &e) != LISPMS_EOK ||
		    e.inner_len < RESOLVER_NONCE_AT + 8 || e.inner_len > sizeof(r->inner)) {
			counters_inc(LISPMS_M_INTERNAL_ERRORS);
			return;
		}
		memcpy(r->inner, e.inner, e.inner_len);
		wire_put_u32(r->inner + RESOLVER_NONCE_AT, (uint32_t)(a->ddt_nonce >> 32));
		wire_put_u32(r->inner + RESOLVER_NONCE_AT + 4, (uint32_t)a->ddt_nonce);
		e.inner = r->inner;
		e.flags |= LISP_ECM_D;
		if (ecm_encode(&e, r->tx, sizeof(r->tx), &n) != LISPMS_EOK) {
			counters_inc(LISPMS_M_INTERNAL_ERRORS);
			return;
		}
		emit(r, r->tx, n, &a->to, r->ddt_port);
		return;
	}
	case MR_ACT_NEGATIVE: {
		struct lisp_record rec = {
			.ttl = a->neg_ttl_min,
			.act = a->neg_act,
			.eid_plen = a->neg_prefix.plen,
		};
		afi_from_eid(&a->neg_prefix, &rec.eid);
		struct lisp_map_reply rep = { .nonce = a->nonce, .nrecords = 1, .records = &rec };
		if (map_reply_encode(&rep, r->tx, sizeof(r->tx), &n) != LISPMS_EOK) {
			counters_inc(LISPMS_M_INTERNAL_ERRORS);
			return;
		}
		emit(r, r->tx, n, &a->itr, a->itr_port);
		return;
	}
	}
}

static void on_ecm(struct resolver *r, const uint8_t *buf, size_t len,
		   const struct sockaddr_storage *src, uint64_t now)
{
	struct lisp_ecm e;
	struct lisp_map_request req;
	struct eid_prefix eid;
	struct lisp_addr itr;
	if (ecm_decode(buf, len, &e) != LISPMS_EOK ||
	    msg_type(e.inner, e.inner_len) != LISP_MSG_MAP_REQUEST ||
	    map_request_decode(e.inner, e.inner_len, &r->ar, &req) != LISPMS_EOK ||
	    afi_to_eid(&req.records[0].eid, req.records[0].eid_plen, &eid) != LISPMS_EOK) {
		counters_inc(LISPMS_M_MR_DROP_MALFORMED);
		return;
	}
	if (e.flags & LISP_ECM_D) { /* a DDT Map-Request: for a DDT node, not here */
		counters_inc(LISPMS_M_MR_DROP_DDT);
		return;
	}
	if (!map_request_itr_target(&req, src->ss_family, &itr)) {
		counters_inc(LISPMS_M_MR_DROP_NO_ITR);
		return;
	}
	struct mr_action a;
	if (mr_request(r->mr, &eid, req.nonce, &itr, e.sport, buf, len, now, &a) == LISPMS_EOK)
		act(r, &a);
}

static void on_datagram(struct resolver *r, const uint8_t *buf, size_t len,
			const struct sockaddr_storage *src, uint64_t now)
{
	arena_reset(&r->ar);
	int type = msg_type(buf, len);
	if (type == LISP_MSG_ECM) {
		on_ecm(r, buf, len, src, now);
	} else if (type == LISP_MSG_MAP_REFERRAL) {
		struct lisp_map_referral ref;
		if (map_referral_decode(buf, len, &r->ar, &ref) != LISPMS_EOK) {
			counters_inc(LISPMS_M_MR_DROP_MALFORMED);
			return;
		}
		struct lisp_addr from;
		lisp_addr_from_sockaddr(src, &from);
		/* the node asked answers from the DDT port it was asked on: from any
		 * other port it is not its answer (counted as a wrong source) */
		if (saddr_port(src) != r->ddt_port)
			memset(&from, 0, sizeof(from));
		struct mr_action a;
		mr_referral(r->mr, &ref, &from, now, &a);
		act(r, &a);
	} else {
		counters_inc(type < 0 ? LISPMS_M_MR_DROP_MALFORMED : LISPMS_M_MR_DROP_TYPE);
	}
}

static void tick(struct resolver *r, uint64_t now)
{
	struct mr_action acts[16];
	unsigned n;
	do {
		n = mr_tick(r->mr, now, acts, 16);
		for (unsigned i = 0; i < n; i++)
			act(r, &acts[i]);
	} while (n == 16);
}

static void *resolver_main(void *arg)
{
	struct resolver *r = arg;
	while (!atomic_load_explicit(&r->stop, memory_order_acquire)) {
		uint64_t now = now_ms();
		pthread_mutex_lock(&r->lock);
		uint64_t next = mr_next_deadline(r->mr);
		pthread_mutex_unlock(&r->lock);
		uint64_t wait = RESOLVER_TICK_MS;
		if (next != UINT64_MAX)
			wait = next <= now ? 0 : next - now < wait ? next - now : wait;
		struct pollfd p[RESOLVER_MAX_LISTEN + 1];
		for (unsigned i = 0; i < r->nfds; i++)
			p[i] = (struct pollfd){ .fd = r->fds[i], .events = POLLIN };
		p[r->nfds] = (struct pollfd){ .fd = r->wake, .events = POLLIN };
		lrcu_offline();
		int np = poll(p, r->nfds + 1, (int)wait);
		lrcu_online();
		for (unsigned i = 0; np > 0 && i < r->nfds; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			for (unsigned k = 0; k < RESOLVER_RX_BATCH; k++) {
				struct sockaddr_storage src;
				socklen_t sl = sizeof(src);
				ssize_t len = recvfrom(r->fds[i], r->rx, sizeof(r->rx),
						       MSG_DONTWAIT, (struct sockaddr *)&src, &sl);
				if (len < 0)
					break;
				pthread_mutex_lock(&r->lock);
				on_datagram(r, r->rx, (size_t)len, &src, now_ms());
				pthread_mutex_unlock(&r->lock);
			}
		}
		pthread_mutex_lock(&r->lock);
		tick(r, now_ms());
		export_stats(r);
		pthread_mutex_unlock(&r->lock);
		lrcu_quiescent();
	}
	return NULL;
}

/* Does the resolver's address a overlap the Map-Server socket b (the same port)? */
static bool overlaps(const struct lisp_addr *a, const struct lisp_addr *b)
{
	static const uint8_t zero[LISPMS_ADDR_MAX];
	if (a->afi != b->afi)
		return false;
	size_t n = a->afi == LISP_AFI_IPV6 ? 16 : 4;
	return memcmp(a->bytes, b->bytes, n) == 0 || memcmp(a->bytes, zero, n) == 0 ||
	       memcmp(b->bytes, zero, n) == 0;
}

static int open_sockets(struct resolver *r, const struct conf *c)
{
	const struct conf_map_resolver *mc = conf_map_resolver(c);
	const struct conf_server *srv = conf_server(c);
	for (size_t i = 0; i < mc->nlisten && i < RESOLVER_MAX_LISTEN; i++) {
		char a[64];
		lisp_addr_format(&mc->listen[i], a, sizeof(a));
		for (size_t k = 0; mc->port == srv->port && k < srv->nlisten; k++)
			if (overlaps(&mc->listen[i], &srv->listen[k])) {
				log_error(
				    "daemon, map-resolver.listen %s port %u overlaps the "
				    "Map-Server's server.listen (docs/protocol.md D23: one role "
				    "per socket)",
				    a, mc->port);
				return LISPMS_ECONFIG;
			}
		struct sockaddr_storage ss;
		socklen_t sl = lisp_addr_to_sockaddr(&mc->listen[i], mc->port, &ss);
		int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			log_error("daemon, map-resolver: socket: %s", strerror(errno));
			return LISPMS_EINVAL;
		}
		int one = 1;
		if (ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
			log_error("daemon, map-resolver: cannot use udp %s port %u (%s)", a,
				  mc->port, strerror(errno));
			close(fd);
			return errno == EADDRINUSE ? LISPMS_EADDRINUSE : LISPMS_EINVAL;
		}
		r->fds[r->nfds] = fd;
		r->families[r->nfds] = ss.ss_family;
		r->nfds++;
	}
	return LISPMS_EOK;
}

void resolver_stop(struct resolver *r)
{
	if (r == NULL)
		return;
	if (r->thr != NULL) {
		atomic_store_explicit(&r->stop, true, memory_order_release);
		uint64_t one = 1;
		if (write(r->wake, &one, sizeof(one)) < 0)
			log_warning("daemon, cannot wake the resolver thread");
		thread_join(r->thr);
	}
	for (unsigned i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	if (r->wake >= 0)
		close(r->wake);
	mr_free(r->mr); /* its trie nodes go after a grace period: lrcu_barrier at exit */
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int resolver_start(const struct conf *c, struct resolver **out)
{
	*out = NULL;
	struct mr_config mc;
	int ret = mr_config_from_conf(conf_map_resolver(c), &mc);
	if (ret == LISPMS_EAFI) {
		log_error("daemon, map-resolver: no root address of a family it listens on "
			  "(map-resolver.roots and map-resolver.listen)");
		return ret;
	}
	if (ret != LISPMS_EOK) {
		log_error("daemon, map-resolver: %s", err_str(ret));
		return ret;
	}
	struct resolver *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return LISPMS_ENOMEM;
	r->wake = -1;
	pthread_mutex_init(&r->lock, NULL);
	r->ddt_port = conf_map_resolver(c)->ddt_port;
	r->ar = (struct arena){ .base = r->arena_mem, .size = sizeof(r->arena_mem) };
	ret = mr_new(&mc, &r->mr);
	if (ret == LISPMS_EOK) { /* map-resolver.trust-anchors: referrals verified (D24) */
		struct mr_sig *sig;
		ret = mr_sig_from_conf(conf_map_resolver(c), &sig);
		if (ret == LISPMS_EOK)
			mr_set_sig(r->mr, sig);
	}
	if (ret == LISPMS_EOK)
		ret = open_sockets(r, c);
	if (ret == LISPMS_EOK) {
		r->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (r->wake < 0)
			ret = LISPMS_ENOMEM;
	}
	if (ret == LISPMS_EOK) {
		r->thr = thread_spawn("resolver", -1, resolver_main, r);
		if (r->thr == NULL)
			ret = LISPMS_ENOMEM;
	}
	if (ret != LISPMS_EOK) {
		if (ret == LISPMS_ENOMEM)
			log_error("daemon, cannot start the Map-Resolver (%s)", err_str(ret));
		resolver_stop(r);
		return ret;
	}
	char a[64];
	lisp_addr_format(&conf_map_resolver(c)->listen[0], a, sizeof(a));
	log_notice("daemon, Map-Resolver on udp %s%s port %u, DDT root %u address%s, %u pending, "
		   "%u cached referrals at most",
		   a, r->nfds > 1 ? " (and more)" : "", conf_map_resolver(c)->port, mc.nroots,
		   mc.nroots == 1 ? "" : "es", mc.pending_max, mc.cache_max);
	*out = r;
	return LISPMS_EOK;
}

/* ------------------------------------------------------------ views */

struct cache_copy {
	struct mr_cache_entry *rows;
	size_t n, cap;
};

/* one row; false once the view is full (the walk stops there) */
static bool cache_one(const struct mr_cache_entry *e, void *arg)
{
	struct cache_copy *c = arg;
	c->rows[c->n++] = *e;
	return c->n < c->cap;
}

static const struct ctl_col cache_cols[] = {
	{ "prefix", 28, false }, { "action", 18, false },     { "ttl_min", 8, true },
	{ "left_s", 8, true },	 { "incomplete", 11, false }, { "referrals", 0, false },
};

static int cache_handler(struct ctl_reply *rep, unsigned argc, const char *const *argv, void *arg)
{
	(void)argc;
	(void)argv;
	struct resolver *r = arg;
	struct cache_copy c = { .cap = RESOLVER_VIEW_MAX };
	c.rows = calloc(c.cap, sizeof(*c.rows));
	if (c.rows == NULL)
		return LISPMS_ENOMEM;
	pthread_mutex_lock(&r->lock);
	size_t total = mr_cache_count(r->mr);
	mr_cache_foreach(r->mr, cache_one, &c);
	pthread_mutex_unlock(&r->lock);
	uint64_t now = now_ms();
	ctl_out_table(rep, "cache", cache_cols, sizeof(cache_cols) / sizeof(cache_cols[0]));
	for (size_t i = 0; i < c.n; i++) {
		const struct mr_cache_entry *e = &c.rows[i];
		char pfx[LISPMS_EID_STRLEN], ttl[16], left[24], refs[8 * 48] = "-";
		eid_prefix_format(&e->prefix, pfx, sizeof(pfx));
		snprintf(ttl, sizeof(ttl), "%" PRIu32, e->ttl_min);
		snprintf(left, sizeof(left), "%" PRIu64,
			 e->expires_ms > now ? (e->expires_ms - now) / 1000u : 0);
		size_t used = 0;
		for (unsigned k = 0; k < e->nrlocs && used < sizeof(refs); k++) {
			char a[LISPMS_EID_STRLEN];
			lisp_addr_format(&e->rlocs[k], a, sizeof(a));
			int w = snprintf(refs + used, sizeof(refs) - used, "%s%s", k ? "," : "", a);
			used += w > 0 ? (size_t)w : 0;
		}
		const char *row[] = { pfx,  lisp_ref_act_name(e->act),	  ttl,
				      left, e->incomplete ? "yes" : "no", refs };
		ctl_out_row(rep, row);
	}
	ctl_out_table_end(rep);
	if (ctl_reply_json(rep))
		ctl_out_u64(rep, "count", total);
	ctl_reply_message(rep, "%zu cached referrals%s", total,
			  total > c.n ? " (the most recently used shown)" : "");
	free(c.rows);
	return 0;
}

struct pend_copy {
	struct mr_pending_info *rows;
	size_t n, cap;
};

static bool pend_one(const struct mr_pending_info *p, void *arg)
{
	struct pend_copy *c = arg;
	c->rows[c->n++] = *p;
	return c->n < c->cap;
}

static const struct ctl_col pend_cols[] = {
	{ "nonce", 18, false }, { "ddt_nonce", 18, false }, { "eid", 28, false },
	{ "asked", 20, false }, { "depth", 6, true },	    { "tries", 6, true },
	{ "left_ms", 0, true },
};

static int pending_handler(struct ctl_reply *rep, unsigned argc, const char *const *argv, void *arg)
{
	(void)argc;
	(void)argv;
	struct resolver *r = arg;
	struct pend_copy c = { .cap = RESOLVER_VIEW_MAX };
	c.rows = calloc(c.cap, sizeof(*c.rows));
	if (c.rows == NULL)
		return LISPMS_ENOMEM;
	pthread_mutex_lock(&r->lock);
	size_t total = mr_pending_count(r->mr);
	mr_pending_foreach(r->mr, pend_one, &c);
	pthread_mutex_unlock(&r->lock);
	uint64_t now = now_ms();
	ctl_out_table(rep, "pending", pend_cols, sizeof(pend_cols) / sizeof(pend_cols[0]));
	for (size_t i = 0; i < c.n; i++) {
		const struct mr_pending_info *p = &c.rows[i];
		char nonce[24], ddt[24], eid[LISPMS_EID_STRLEN], asked[LISPMS_EID_STRLEN],
		    depth[12], tries[12], left[24];
		snprintf(nonce, sizeof(nonce), "%016" PRIx64, p->nonce);
		snprintf(ddt, sizeof(ddt), "%016" PRIx64, p->ddt_nonce);
		eid_prefix_format(&p->eid, eid, sizeof(eid));
		lisp_addr_format(&p->asked, asked, sizeof(asked));
		snprintf(depth, sizeof(depth), "%u", p->depth);
		snprintf(tries, sizeof(tries), "%u", p->tries);
		snprintf(left, sizeof(left), "%" PRIu64,
			 p->deadline_ms > now ? p->deadline_ms - now : 0);
		const char *row[] = { nonce, ddt, eid, asked, depth, tries, left };
		ctl_out_row(rep, row);
	}
	ctl_out_table_end(rep);
	if (ctl_reply_json(rep))
		ctl_out_u64(rep, "count", total);
	ctl_reply_message(rep, "%zu requests in resolution%s", total,
			  total > c.n ? " (the earliest deadlines shown)" : "");
	free(c.rows);
	return 0;
}

void resolver_ctl_install(struct resolver *r, struct ctl *ctl)
{
	if (r == NULL || ctl == NULL)
		return;
	ctl_set_handler(ctl, CTL_CMD_RESOLVER_CACHE, cache_handler, r);
	ctl_set_handler(ctl, CTL_CMD_RESOLVER_PENDING, pending_handler, r);
}
