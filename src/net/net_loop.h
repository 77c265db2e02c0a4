/* SPDX-License-Identifier: MIT */
/*
 * Private to src/net: the worker loop and the event sources that plug into
 * it. loop.c owns the thread, the epoll set, the wake eventfd, the tick, the
 * reload generations and the limits every transport shares; each event
 * source (udp.c, tcp.c, and the next transports: quic.c, sctp.c) owns its
 * sockets and connections, registers its fds with net_loop_add (epoll's
 * data points at a struct net_ev embedded in the source's own struct, whose
 * fn the loop calls) and its hooks with net_loop_register. Adding a
 * transport adds a file and one init call in net_worker_new; the request
 * core stays behind the struct stream_handler it was given.
 *
 * One round of the loop: epoll_wait (timeout: the tick's and every source's
 * nearest timer, at most 1 s); take a posted control change (apply hooks);
 * each ready fd's net_ev.fn; the tick when woken or due; each source's
 * timer hook; each source's round_end hook (output held during the round
 * goes out, aborted connections are freed); an RCU quiescent state.
 *
 * Threads: every hook but free runs on the worker thread; net_worker's
 * control fields (next, ctl_lock, ctl_gen) are shared with the control
 * thread as documented there. Sources keep their own control-thread state
 * under w->ctl_lock and call net_loop_post() after changing it.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>

#include <lispms/net.h>
#include <lispms/stream.h>

#define NET_MAX_ADDRS 16

#define net_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

struct net_worker;

/* What an epoll registration points at: embed it, then container_of. */
struct net_ev {
	void (*fn)(struct net_worker *w, struct net_ev *ev, uint32_t events);
};

struct net_source;

/* An event source's hooks (each optional). */
struct net_source_ops {
	const char *name;
	/* A control change was posted (limits, or the source's own state under
	 * w->ctl_lock): take it. `old` are the limits before, w->lim the new. */
	void (*apply)(struct net_worker *w, struct net_source *s,
		      const struct net_worker_limits *old);
	/* Run what is due at `now`; nanoseconds until the next timer
	 * (UINT64_MAX: none). Called every round, after the events. */
	uint64_t (*timer)(struct net_worker *w, struct net_source *s, uint64_t now);
	/* End of the round: send output held while batching, free aborted
	 * connections. */
	void (*round_end)(struct net_worker *w, struct net_source *s);
	/* The worker stops (its thread, or free before start): close every
	 * connection with STREAM_CLOSE_SHUTDOWN. */
	void (*stop)(struct net_worker *w, struct net_source *s);
	/* Close the sockets and free the source (after stop). */
	void (*free)(struct net_worker *w, struct net_source *s);
};

struct net_source {
	const struct net_source_ops *ops;
	struct net_source *next;
};

struct net_udp;
struct net_tcp;
struct net_quic;

struct net_worker {
	struct sockaddr_storage addrs[NET_MAX_ADDRS]; /* with `port` */
	unsigned naddrs;
	uint16_t port;
	int cpu;
	/* Limits in force (worker thread; defaults resolved). */
	struct net_worker_limits lim;
	/* Stream connections open on this worker, every transport: max_conns
	 * bounds their sum. */
	size_t nconns;
	/* While one round's events are handled, stream writes are held and
	 * sent once at round_end (more batching under load). */
	bool batching;
	/* Reload: the control thread leaves the next limits here (and a
	 * source its own state) under ctl_lock and bumps ctl_gen; the worker
	 * applies them at its next round and publishes applied_gen. */
	pthread_mutex_t ctl_lock;
	_Atomic unsigned ctl_gen, applied_gen;
	unsigned seen_gen;	       /* worker thread */
	struct net_worker_limits next; /* under ctl_lock */
	net_tick_fn *tick;
	void *tick_arg;
	/* Run the tick and send its outbox: the UDP source's (net_udp_tick),
	 * handed in by net_worker_new. */
	uint64_t (*run_tick)(struct net_worker *w, uint64_t now);
	int epfd;
	int wakefd;
	struct net_ev wake_ev;
	_Atomic bool stop;
	struct thread *thread;
	struct net_source *sources;
	struct net_udp *udp;   /* the tick's datagrams go out of its sockets */
	struct net_tcp *tcp;   /* NULL without a stream handler */
	struct net_tcp *tls;   /* TLS over TCP: with a stream handler in a TLS build */
	struct net_quic *quic; /* NULL without server.quic */
};

/* epoll registration of fd for `ev` (EPOLLIN, ...); -errno on failure. */
int net_loop_add(struct net_worker *w, int fd, uint32_t events, struct net_ev *ev);
int net_loop_mod(struct net_worker *w, int fd, uint32_t events, struct net_ev *ev);
void net_loop_del(struct net_worker *w, int fd);

/* The loop without its sources: epoll set, wake eventfd, limits (worker.c
 * adds the sources); NULL with err set on failure. */
struct net_worker *net_loop_new(const struct net_worker_conf *conf, char *err, size_t errlen);

/* Add a source (net_worker_new, before the thread starts). */
void net_loop_register(struct net_worker *w, struct net_source *s);

/* Control thread: a change is posted; returns its number for net_worker_wait. */
unsigned net_loop_post(struct net_worker *w);

/* Resolve a limits' defaults (0: keepalive 10 s, user timeout 30 s, 4 MiB). */
struct net_worker_limits net_limits_resolve(const struct net_worker_limits *l);

/* udp.c: the worker's SO_REUSEPORT datagram sockets, one per address. */
int net_udp_init(struct net_worker *w, const struct net_worker_conf *conf, char *err,
		 size_t errlen);
/* Run the tick and send its outbox (worker thread). */
uint64_t net_udp_tick(struct net_worker *w, uint64_t now);

/* tcp.c: stream sessions over TCP (listeners opened now when conf->tcp_listen). */
int net_tcp_init(struct net_worker *w, const struct net_worker_conf *conf, char *err,
		 size_t errlen);

/* tcp.c: TLS 1.3 sessions over TCP on conf->tls_port (a second TCP source;
 * in a TLS build it is there even without a port, for a reload to open one). */
int net_tls_init(struct net_worker *w, const struct net_worker_conf *conf, char *err,
		 size_t errlen);
/* quic_src.c: QUIC sessions on conf->quic_port (built with the quic
 * feature; LISPMS_ENOTSUP without it). */
int net_quic_init(struct net_worker *w, const struct net_worker_conf *conf, char *err,
		  size_t errlen);

/* sctp_src.c: SCTP sessions over UDP conf->sctp_udp_port (built with the
 * sctp feature; LISPMS_ENOTSUP without it). */
int net_sctp_init(struct net_worker *w, const struct net_worker_conf *conf, char *err,
		  size_t errlen);
