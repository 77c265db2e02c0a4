/* SPDX-License-Identifier: MIT */
/*
 * DPDK build of the fast path: the only files that include rte_*.h.
 *
 * The lcores are lispms threads (thread_spawn: id, counter row, arena, RCU
 * registration) that also register with the EAL (rte_thread_register, for
 * an lcore id and so the mempool's per-lcore cache); the EAL's own worker
 * lcores are not used, so `-l` in eal-args only names the main lcore and
 * the control thread keeps its CPU affinity.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>

#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_version.h>

#include <lispms/counters.h>
#include <lispms/err.h>
#include <lispms/fastpath.h>
#include <lispms/log.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "frame.h"

#define FP_BURST     32
#define FP_TX_CAP    (2 * FP_BURST)
#define FP_RING	     1024
#define FP_MAX_ARGS  256
#define FP_STATS_NS  LISPMS_NS_PER_SEC
#define FP_MAX_QUEUE 128
#define FP_EXC_RING  512
#define FP_EXC_DEV   "net_tap_lispms"

struct fp_lcore {
	struct fastpath *fp;
	uint16_t queue;
	struct ms_thread *mt;
	struct thread *thread;
	struct rte_mbuf *rx[FP_BURST];
	struct rte_mbuf *keep[FP_BURST]; /* the frames the dgrams point into */
	struct frame_info info[FP_BURST];
	struct dgram dg[FP_BURST];
	struct dgram_out out[FP_TX_CAP];
	struct rte_mbuf *tx[FP_BURST + FP_TX_CAP];
	struct rte_mbuf *exc[FP_BURST]; /* to the kernel, or from it */
};

struct fastpath {
	uint16_t port_id;
	uint16_t udp_port;
	unsigned nq;
	struct rte_mempool *pool;
	struct frame_local loc;
	uint8_t nh_mac[6];
	bool has_nh;
	bool port_started;
	uint16_t exc_id;  /* the exception TAP's port */
	bool exc_created; /* rte_vdev_init() succeeded */
	bool has_exc;	  /* started: the lcores use it */
	_Atomic bool stop;
	struct fp_lcore *lc;
	struct ms *ms;
	struct rte_eth_stats last; /* what has been added to the counters */
	pthread_mutex_t stats_lock;
	char *argv[FP_MAX_ARGS];
	int argc;
};

static atomic_bool eal_taken;

static const enum metric_id drop_counter[FRAME__VERDICTS] = {
	[FRAME_SHORT] = LISPMS_M_FP_DROP_SHORT,
	[FRAME_IP_HEADER] = LISPMS_M_FP_DROP_IP_HEADER,
	[FRAME_IP_LENGTH] = LISPMS_M_FP_DROP_IP_LENGTH,
	[FRAME_FRAGMENT] = LISPMS_M_FP_DROP_FRAGMENT,
	[FRAME_UDP_LENGTH] = LISPMS_M_FP_DROP_UDP_LENGTH,
	[FRAME_UDP_CHECKSUM] = LISPMS_M_FP_DROP_UDP_CHECKSUM,
	[FRAME_NOT_FOR_US] = LISPMS_M_FP_DROP_NOT_FOR_US,
	[FRAME_EXCEPTION] = LISPMS_M_FP_DROP_EXCEPTION,
};

bool fastpath_available(void)
{
	return true;
}

const char *fastpath_version(void)
{
	return rte_version();
}

unsigned fastpath_queues(const struct fastpath *fp)
{
	return fp->nq;
}

/* Port statistics into the counters, as deltas (one caller at a time). */
static void stats_update(struct fastpath *fp)
{
	struct rte_eth_stats s;
	if (rte_eth_stats_get(fp->port_id, &s) != 0)
		return;
	pthread_mutex_lock(&fp->stats_lock);
	struct rte_eth_stats *l = &fp->last;
#define DELTA(id, f)                                                     \
	do {                                                             \
		if (s.f > l->f)                                          \
			counters_add(LISPMS_M_FP_PORT_##id, s.f - l->f); \
		l->f = s.f > l->f ? s.f : l->f;                          \
	} while (0)
	DELTA(RX_PACKETS, ipackets);
	DELTA(TX_PACKETS, opackets);
	DELTA(RX_BYTES, ibytes);
	DELTA(TX_BYTES, obytes);
	DELTA(RX_MISSED, imissed);
	DELTA(RX_ERRORS, ierrors);
	DELTA(TX_ERRORS, oerrors);
	DELTA(RX_NOMBUF, rx_nombuf);
#undef DELTA
	pthread_mutex_unlock(&fp->stats_lock);
}

/* Same address (the port ignored). */
static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* The local address a reply leaves from: its own when it is ours, else our first of the family. */
static bool pick_source(const struct fastpath *fp, const struct dgram_out *o,
			struct sockaddr_storage *src)
{
	if (o->src.ss_family == o->dst.ss_family && frame_is_local(&fp->loc, &o->src)) {
		*src = o->src;
		if (saddr_port(src) == 0)
			saddr_set_port(src, fp->udp_port);
		return true;
	}
	memset(src, 0, sizeof(*src));
	if (o->dst.ss_family == AF_INET && fp->loc.nv4 > 0) {
		struct sockaddr_in *s = (struct sockaddr_in *)src;
		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, fp->loc.v4[0], 4);
	} else if (o->dst.ss_family == AF_INET6 && fp->loc.nv6 > 0) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)src;
		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, fp->loc.v6[0], 16);
	} else {
		return false;
	}
	saddr_set_port(src, fp->udp_port);
	return true;
}

/* Send n frames on port:queue (a few tries); frees the rest, returns how many went. */
static uint16_t tx_all(uint16_t port, uint16_t queue, struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent = 0;
	for (int tries = 0; tries < 4 && sent < n; tries++)
		sent += rte_eth_tx_burst(port, queue, m + sent, (uint16_t)(n - sent));
	if (sent < n)
		rte_pktmbuf_free_bulk(m + sent, n - sent);
	return sent;
}

/* Frames for the outbox; returns how many were added to tx. */
static unsigned build_replies(struct fp_lcore *lc, const struct dgram_outbox *out, unsigned nrx,
			      struct rte_mbuf **tx)
{
	struct fastpath *fp = lc->fp;
	unsigned ntx = 0;
	for (unsigned i = 0; i < out->n; i++) {
		const struct dgram_out *o = &out->msgs[i];
		const uint8_t *mac = NULL;
		int vlan = nrx > 0 ? lc->info[0].vlan : -1;
		for (unsigned k = 0; k < nrx; k++) {
			if (same_host(&lc->info[k].src, &o->dst)) {
				mac = lc->info[k].src_mac;
				vlan = lc->info[k].vlan;
				break;
			}
		}
		if (mac == NULL && fp->has_nh)
			mac = fp->nh_mac;
		if (mac == NULL) {
			counters_inc(LISPMS_M_FP_DROP_NO_MAC);
			continue;
		}
		struct sockaddr_storage src;
		if (!pick_source(fp, o, &src)) {
			counters_inc(LISPMS_M_FP_DROP_NO_SOURCE);
			continue;
		}
		struct rte_mbuf *m = rte_pktmbuf_alloc(fp->pool);
		if (m == NULL) {
			counters_inc(LISPMS_M_FP_DROP_TX);
			continue;
		}
		size_t len =
		    frame_build_udp(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m), mac,
				    fp->loc.mac, vlan, &src, &o->dst, o->data, o->len);
		if (len == 0) {
			rte_pktmbuf_free(m);
			counters_inc(LISPMS_M_FP_DROP_TX);
			continue;
		}
		m->data_len = (uint16_t)len;
		m->pkt_len = (uint32_t)len;
		tx[ntx++] = m;
	}
	return ntx;
}

static void handle_burst(struct fp_lcore *lc, uint16_t n)
{
	struct fastpath *fp = lc->fp;
	unsigned nd = 0, ntx = 0, nexc = 0;
	counters_add(LISPMS_M_FP_RX_FRAMES, n);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = lc->rx[i];
		if (m->nb_segs != 1) {
			counters_inc(LISPMS_M_FP_DROP_MULTISEG);
			rte_pktmbuf_free(m);
			continue;
		}
		uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
		size_t len = rte_pktmbuf_data_len(m);
		struct frame_info *fi = &lc->info[nd];
		enum frame_verdict v = frame_parse(&fp->loc, f, len, fi);
		if (v == FRAME_UDP) {
			struct dgram *d = &lc->dg[nd];
			d->data = f + fi->payload_off;
			d->len = fi->payload_len;
			d->src = fi->src;
			d->local = fi->dst;
			lc->keep[nd++] = m;
		} else if (v == FRAME_ARP_REQUEST) {
			frame_arp_reply(&fp->loc, f, len, fi);
			lc->tx[ntx++] = m;
			counters_inc(LISPMS_M_FP_ARP_REPLIES);
		} else if (v == FRAME_ND_SOLICIT) {
			struct rte_mbuf *na = rte_pktmbuf_alloc(fp->pool);
			size_t nl =
			    na ? frame_nd_advert(&fp->loc, fi, rte_pktmbuf_mtod(na, uint8_t *),
						 rte_pktmbuf_tailroom(na))
			       : 0;
			if (nl > 0) {
				na->data_len = (uint16_t)nl;
				na->pkt_len = (uint32_t)nl;
				lc->tx[ntx++] = na;
				counters_inc(LISPMS_M_FP_ND_ADVERTS);
			} else {
				rte_pktmbuf_free(na);
				counters_inc(LISPMS_M_FP_DROP_TX);
			}
			rte_pktmbuf_free(m);
		} else if (fp->has_exc && frame_to_kernel(v)) {
			lc->exc[nexc++] = m; /* unchanged, to the kernel */
		} else {
			counters_inc(drop_counter[v]);
			rte_pktmbuf_free(m);
		}
	}
	if (nexc > 0) {
		uint16_t sent = tx_all(fp->exc_id, lc->queue, lc->exc, (uint16_t)nexc);
		counters_add(LISPMS_M_FP_EXC_TO_KERNEL, sent);
		if (sent < nexc)
			counters_add(LISPMS_M_FP_EXC_DROP_TO_KERNEL, nexc - sent);
	}
	if (nd > 0) {
		counters_add(LISPMS_M_FP_RX_UDP, nd);
		struct arena *arena = thread_arena();
		arena_reset(arena);
		struct dgram_outbox out = { .msgs = lc->out, .cap = FP_TX_CAP, .arena = arena };
		lrcu_read_lock();
		ms_handle_batch(lc->mt, lc->dg, nd, &out);
		lrcu_read_unlock();
		if (out.dropped)
			counters_add(LISPMS_M_FP_DROP_OUTBOX, out.dropped);
		ntx += build_replies(lc, &out, nd, lc->tx + ntx);
		rte_pktmbuf_free_bulk(lc->keep, nd);
	}
	if (ntx == 0)
		return;
	uint16_t sent = tx_all(fp->port_id, lc->queue, lc->tx, (uint16_t)ntx);
	if (sent < ntx)
		counters_add(LISPMS_M_FP_DROP_TX, ntx - sent);
	counters_add(LISPMS_M_FP_TX_FRAMES, sent);
}

/* What the kernel sent on the exception interface goes out the port unchanged. */
static uint16_t from_kernel(struct fp_lcore *lc)
{
	struct fastpath *fp = lc->fp;
	uint16_t n = rte_eth_rx_burst(fp->exc_id, lc->queue, lc->exc, FP_BURST);
	if (n == 0)
		return 0;
	uint16_t sent = tx_all(fp->port_id, lc->queue, lc->exc, n);
	counters_add(LISPMS_M_FP_EXC_FROM_KERNEL, sent);
	if (sent < n)
		counters_add(LISPMS_M_FP_EXC_DROP_FROM_KERNEL, n - sent);
	return n;
}

static void *lcore_main(void *arg)
{
	struct fp_lcore *lc = arg;
	struct fastpath *fp = lc->fp;
	if (rte_thread_register() != 0)
		log_warning("fastpath, queue %u runs without an lcore id (%s)", lc->queue,
			    rte_strerror(rte_errno));
	uint64_t next_stats = 0;
	unsigned loops = 0;
	while (!atomic_load_explicit(&fp->stop, memory_order_acquire)) {
		uint16_t n = rte_eth_rx_burst(fp->port_id, lc->queue, lc->rx, FP_BURST);
		if (n > 0)
			handle_burst(lc, n);
		if (fp->has_exc)
			n += from_kernel(lc);
		if (n == 0)
			rte_pause();
		if (lc->queue == 0 && (++loops & 1023) == 0) {
			uint64_t now = mtime_now_ns();
			if (now >= next_stats) {
				stats_update(fp);
				next_stats = now + FP_STATS_NS;
			}
		}
		lrcu_quiescent();
	}
	rte_thread_unregister();
	return NULL;
}

static bool is_pci(const char *s)
{
	/* 0000:01:00.0 or 01:00.0 */
	size_t n = strspn(s, "0123456789abcdefABCDEF:.");
	return n >= 7 && (s[n] == '\0' || s[n] == ',') && strchr(s, ':') != NULL &&
	       strchr(s, '.') != NULL;
}

static int add_arg(struct fastpath *fp, const char *a)
{
	if (fp->argc >= FP_MAX_ARGS - 1)
		return LISPMS_ELIMIT;
	fp->argv[fp->argc] = strdup(a);
	if (fp->argv[fp->argc] == NULL)
		return LISPMS_ENOMEM;
	fp->argc++;
	return LISPMS_EOK;
}

static int setup_port(struct fastpath *fp, const struct conf_fastpath *c, char *err, size_t errlen)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t nl = strcspn(c->port, ",");
	if (nl >= sizeof(name))
		nl = sizeof(name) - 1;
	memcpy(name, c->port, nl);
	name[nl] = '\0';
	if (rte_eth_dev_get_port_by_name(name, &fp->port_id) != 0) {
		snprintf(err, errlen, "no DPDK port %s (%u ports available)", name,
			 rte_eth_dev_count_avail());
		return LISPMS_ENOENT;
	}
	struct rte_eth_dev_info di;
	int ret = rte_eth_dev_info_get(fp->port_id, &di);
	if (ret != 0) {
		snprintf(err, errlen, "port %s: no device info (%s)", name, rte_strerror(-ret));
		return LISPMS_EINVAL;
	}
	if (fp->nq > di.max_rx_queues || fp->nq > di.max_tx_queues) {
		snprintf(err, errlen, "port %s has %u RX and %u TX queues, %u asked for", name,
			 di.max_rx_queues, di.max_tx_queues, fp->nq);
		return LISPMS_EINVAL;
	}
	struct rte_eth_conf pc;
	memset(&pc, 0, sizeof(pc));
	uint64_t rss = di.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
	if (fp->nq > 1 && rss != 0) {
		pc.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		pc.rx_adv_conf.rss_conf.rss_hf = rss;
	} else if (fp->nq > 1) {
		log_warning("fastpath, port %s has no RSS: %u queues are filled as the device "
			    "chooses",
			    name, fp->nq);
	}
	ret = rte_eth_dev_configure(fp->port_id, (uint16_t)fp->nq, (uint16_t)fp->nq, &pc);
	if (ret != 0) {
		snprintf(err, errlen, "port %s: configure failed (%s)", name, rte_strerror(-ret));
		return LISPMS_EINVAL;
	}
	uint16_t nrx = FP_RING, ntx = FP_RING;
	rte_eth_dev_adjust_nb_rx_tx_desc(fp->port_id, &nrx, &ntx);
	int socket = rte_eth_dev_socket_id(fp->port_id);
	fp->pool = rte_pktmbuf_pool_create("lispms_fp", c->mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					   socket);
	if (fp->pool == NULL) {
		snprintf(err, errlen, "cannot allocate %u mbufs (%s; raise -m in eal-args)",
			 c->mbufs, rte_strerror(rte_errno));
		return LISPMS_ENOMEM;
	}
	for (uint16_t q = 0; q < fp->nq; q++) {
		ret = rte_eth_rx_queue_setup(fp->port_id, q, nrx, (unsigned)socket, NULL, fp->pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(fp->port_id, q, ntx, (unsigned)socket, NULL);
		if (ret != 0) {
			snprintf(err, errlen, "port %s: queue %u setup failed (%s)", name, q,
				 rte_strerror(-ret));
			return LISPMS_EINVAL;
		}
	}
	ret = rte_eth_dev_start(fp->port_id);
	if (ret != 0) {
		snprintf(err, errlen, "port %s: start failed (%s)", name, rte_strerror(-ret));
		return LISPMS_EINVAL;
	}
	fp->port_started = true;
	struct rte_ether_addr mac;
	if (rte_eth_macaddr_get(fp->port_id, &mac) == 0)
		memcpy(fp->loc.mac, mac.addr_bytes, 6);
	return LISPMS_EOK;
}

/*
 * The exception path: a TAP interface called c->exception_iface with the
 * port's MAC (the kernel and the fast path answer with one MAC), one queue
 * pair per lcore like the port.
 */
static int setup_exception(struct fastpath *fp, const struct conf_fastpath *c, char *err,
			   size_t errlen)
{
	const uint8_t *m = fp->loc.mac;
	char args[96];
	snprintf(args, sizeof(args), "iface=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x",
		 c->exception_iface, m[0], m[1], m[2], m[3], m[4], m[5]);
	int ret = rte_vdev_init(FP_EXC_DEV, args);
	if (ret != 0) {
		snprintf(err, errlen,
			 "exception-iface %s: cannot create the TAP (%s; it needs root or "
			 "CAP_NET_ADMIN and /dev/net/tun)",
			 c->exception_iface, rte_strerror(ret < 0 ? -ret : ret));
		return LISPMS_EINVAL;
	}
	fp->exc_created = true;
	if (rte_eth_dev_get_port_by_name(FP_EXC_DEV, &fp->exc_id) != 0) {
		snprintf(err, errlen, "exception-iface %s: no port after creating it",
			 c->exception_iface);
		return LISPMS_EINVAL;
	}
	struct rte_eth_dev_info di;
	ret = rte_eth_dev_info_get(fp->exc_id, &di);
	if (ret == 0 && (fp->nq > di.max_rx_queues || fp->nq > di.max_tx_queues)) {
		snprintf(err, errlen, "exception-iface %s has %u queue pairs, %u asked for",
			 c->exception_iface,
			 di.max_rx_queues < di.max_tx_queues ? di.max_rx_queues : di.max_tx_queues,
			 fp->nq);
		return LISPMS_EINVAL;
	}
	struct rte_eth_conf pc;
	memset(&pc, 0, sizeof(pc));
	if (ret == 0)
		ret = rte_eth_dev_configure(fp->exc_id, (uint16_t)fp->nq, (uint16_t)fp->nq, &pc);
	uint16_t nrx = FP_EXC_RING, ntx = FP_EXC_RING;
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(fp->exc_id, &nrx, &ntx);
	int socket = rte_eth_dev_socket_id(fp->exc_id);
	for (uint16_t q = 0; ret == 0 && q < fp->nq; q++) {
		ret = rte_eth_rx_queue_setup(fp->exc_id, q, nrx, (unsigned)socket, NULL, fp->pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(fp->exc_id, q, ntx, (unsigned)socket, NULL);
	}
	if (ret == 0)
		ret = rte_eth_dev_start(fp->exc_id);
	if (ret != 0) {
		snprintf(err, errlen, "exception-iface %s: setup failed (%s)", c->exception_iface,
			 rte_strerror(ret < 0 ? -ret : ret));
		return LISPMS_EINVAL;
	}
	fp->has_exc = true;
	log_info("fastpath, exception interface %s (TAP, %u queue pairs, MAC "
		 "%02x:%02x:%02x:%02x:%02x:%02x): give it the kernel's addresses",
		 c->exception_iface, fp->nq, m[0], m[1], m[2], m[3], m[4], m[5]);
	return LISPMS_EOK;
}

struct fastpath *fastpath_new(const struct conf_fastpath *c, uint16_t udp_port, char *err,
			      size_t errlen)
{
	if (atomic_exchange(&eal_taken, true)) {
		snprintf(err, errlen, "the DPDK EAL runs once per process");
		return NULL;
	}
	struct fastpath *fp = calloc(1, sizeof(*fp));
	if (fp == NULL) {
		snprintf(err, errlen, "%s", err_str(LISPMS_ENOMEM));
		return NULL;
	}
	pthread_mutex_init(&fp->stats_lock, NULL);
	fp->nq = c->queues ? c->queues : 1;
	fp->udp_port = udp_port;
	fp->loc.port = udp_port;
	if (fp->nq > FP_MAX_QUEUE || fp->nq > LISPMS_MS_MAX_WORKERS) {
		snprintf(err, errlen, "%u queues: at most %d request-core workers in all", fp->nq,
			 LISPMS_MS_MAX_WORKERS);
		goto fail;
	}
	for (size_t i = 0; i < c->naddresses; i++) {
		const struct lisp_addr *a = &c->addresses[i];
		if (a->afi == LISP_AFI_IPV4 && fp->loc.nv4 < FRAME_MAX_ADDRS)
			memcpy(fp->loc.v4[fp->loc.nv4++], a->bytes, 4);
		else if (a->afi == LISP_AFI_IPV6 && fp->loc.nv6 < FRAME_MAX_ADDRS)
			memcpy(fp->loc.v6[fp->loc.nv6++], a->bytes, 16);
	}
	if (c->next_hop_mac != NULL) {
		if (!frame_mac_parse(c->next_hop_mac, fp->nh_mac)) {
			snprintf(err, errlen, "bad next-hop-mac %s", c->next_hop_mac);
			goto fail;
		}
		fp->has_nh = true;
	}
	bool ok = add_arg(fp, "lispmsd") == LISPMS_EOK;
	for (size_t i = 0; ok && i < c->neal_args; i++)
		ok = add_arg(fp, c->eal_args[i]) == LISPMS_EOK;
	if (ok)
		ok = add_arg(fp, is_pci(c->port) ? "-a" : "--vdev") == LISPMS_EOK &&
		     add_arg(fp, c->port) == LISPMS_EOK;
	if (!ok) {
		snprintf(err, errlen, "too many EAL arguments");
		goto fail;
	}
	/* the EAL pins the calling thread to the main lcore: keep ours */
	cpu_set_t cpus;
	bool have_cpus = pthread_getaffinity_np(pthread_self(), sizeof(cpus), &cpus) == 0;
	char *argv[FP_MAX_ARGS];
	memcpy(argv, fp->argv, sizeof(argv)); /* the EAL may permute its copy */
	int ret = rte_eal_init(fp->argc, argv);
	if (have_cpus)
		pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	if (ret < 0) {
		snprintf(err, errlen, "DPDK EAL initialisation failed (%s)",
			 rte_strerror(rte_errno));
		goto fail;
	}
	if (setup_port(fp, c, err, errlen) != LISPMS_EOK ||
	    (c->exception_iface != NULL && setup_exception(fp, c, err, errlen) != LISPMS_EOK)) {
		fastpath_free(fp);
		return NULL;
	}
	return fp;

fail:
	for (int i = 0; i < fp->argc; i++)
		free(fp->argv[i]);
	pthread_mutex_destroy(&fp->stats_lock);
	free(fp);
	return NULL;
}

int fastpath_start(struct fastpath *fp, struct ms *ms, unsigned first_index)
{
	if (first_index + fp->nq > LISPMS_MS_MAX_WORKERS)
		return LISPMS_ELIMIT;
	fp->lc = calloc(fp->nq, sizeof(*fp->lc));
	if (fp->lc == NULL)
		return LISPMS_ENOMEM;
	fp->ms = ms;
	atomic_store(&fp->stop, false);
	for (unsigned q = 0; q < fp->nq; q++) {
		struct fp_lcore *lc = &fp->lc[q];
		lc->fp = fp;
		lc->queue = (uint16_t)q;
		lc->mt = ms_thread_new(ms, first_index + q);
		if (lc->mt == NULL) {
			fastpath_stop(fp);
			return LISPMS_ENOMEM;
		}
		/* the burst's mbufs are the lcore's until it frees or sends them */
		ms_thread_rx_writable(lc->mt, true);
	}
	for (unsigned q = 0; q < fp->nq; q++) {
		char name[16];
		snprintf(name, sizeof(name), "fp-%u", q);
		fp->lc[q].thread = thread_spawn(name, -1, lcore_main, &fp->lc[q]);
		if (fp->lc[q].thread == NULL) {
			fastpath_stop(fp);
			return LISPMS_ENOMEM;
		}
	}
	return LISPMS_EOK;
}

void fastpath_stop(struct fastpath *fp)
{
	if (fp == NULL || fp->lc == NULL)
		return;
	atomic_store_explicit(&fp->stop, true, memory_order_release);
	for (unsigned q = 0; q < fp->nq; q++)
		if (fp->lc[q].thread != NULL)
			thread_join(fp->lc[q].thread);
	for (unsigned q = 0; q < fp->nq; q++)
		ms_thread_free(fp->lc[q].mt);
	stats_update(fp);
	free(fp->lc);
	fp->lc = NULL;
}

void fastpath_free(struct fastpath *fp)
{
	if (fp == NULL)
		return;
	fastpath_stop(fp);
	if (fp->exc_created) {
		if (fp->has_exc)
			rte_eth_dev_stop(fp->exc_id);
		rte_vdev_uninit(FP_EXC_DEV); /* closes it; the kernel interface goes */
	}
	if (fp->port_started) {
		rte_eth_dev_stop(fp->port_id);
		rte_eth_dev_close(fp->port_id);
	}
	rte_mempool_free(fp->pool);
	rte_eal_cleanup();
	for (int i = 0; i < fp->argc; i++)
		free(fp->argv[i]);
	pthread_mutex_destroy(&fp->stats_lock);
	free(fp);
}
