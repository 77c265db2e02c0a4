/* SPDX-License-Identifier: MIT */
/*
 * Kernel network I/O: worker threads, each with its own epoll loop and
 * event sources (src/net/net_loop.h): its own SO_REUSEPORT UDP socket per
 * listen address, batching with recvmmsg/sendmmsg, and the stream
 * transports (TCP today) whose connections carry sessions through the
 * struct stream_handler they are given (stream.h). The worker only moves bytes: every received
 * batch goes to a handler (the request core in lispmsd, an echo responder in tests and benchmarks)
 * together with an outbox the handler fills; the worker sends the outbox, each reply from the local
 * address its request arrived on (docs/protocol.md D12).
 *
 * Threads: a worker's sockets, buffers, arena and outbox belong to its
 * thread. net_worker_new/start/stop/free are called by the daemon's main
 * (control) thread. The handler runs on the worker thread inside one RCU
 * read-side section per batch.
 * Ownership: the pool owns its workers; received data is valid only during
 * the handler call; outbox data lives in the worker's arena until sent.
 * Errors: LISPMS_EADDRINUSE (port taken), -errno from socket calls,
 * LISPMS_ENOMEM.
 */
#pragma once

#ifndef LISPMS_USES_NET
#error "net.h: this subsystem does not declare net as a dependency"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <lispms/dgram.h>
#include <lispms/stream.h>

/* Datagrams per recvmmsg/sendmmsg batch. */
#define LISPMS_NET_BATCH 64

/*
 * Periodic work on the worker thread (the notifier's retransmissions), run
 * inside an RCU read-side section when woken or when due; returns
 * nanoseconds until it wants to run again.
 */
typedef uint64_t net_tick_fn(void *arg, uint64_t now_ns, struct dgram_outbox *out);

struct net_worker_conf {
	const struct sockaddr_storage *addrs; /* addresses to bind, port ignored */
	unsigned naddrs;
	uint16_t port;
	int cpu; /* pin to this CPU, or -1 */
	dgram_batch_fn *handler;
	void *arg;
	unsigned rcvbuf;   /* SO_RCVBUF bytes (0 = 4 MiB) */
	net_tick_fn *tick; /* optional; its outbox goes out of the first socket */
	void *tick_arg;
	/* optional: stream sessions (the request core's ms_stream_handler),
	 * given every transport's connections with stream_arg */
	const struct stream_handler *stream;
	void *stream_arg;
	bool tcp_listen;	 /* with stream: listen on TCP `port` from the start */
	unsigned backlog;	 /* listen(2) backlog (0 = 4096) */
	unsigned keepalive_s;	 /* idle seconds before keepalive probes (0 = 10) */
	unsigned user_timeout_s; /* TCP_USER_TIMEOUT (0 = 30) */
	size_t output_limit;	 /* bytes queued per connection (0 = 4 MiB) */
	unsigned max_conns;	 /* per worker, 0 = no limit */
	/* optional, with stream: QUIC sessions (docs/protocol.md D17) on UDP
	 * quic_port of every address; needs the quic build feature */
	uint16_t quic_port;		  /* 0: no QUIC */
	const struct tls_cred *quic_cred; /* src/net/tls_cred.h; the worker takes a reference */
	const char *quic_alpn;		  /* NULL: "lisp-rt" */
	unsigned quic_idle_s;		  /* QUIC idle timeout (0 = 60) */
	const uint8_t *quic_secret;	  /* Retry-token and reset-token key, the same */
	size_t quic_secretlen;		  /* for every worker (32 bytes) */
	/* optional, with stream: SCTP sessions (docs/protocol.md D18) on SCTP port
	 * sctp_port, encapsulated in UDP sctp_udp_port of every address; needs
	 * the sctp build feature. usrsctp is one stack per process: give it to
	 * one worker only. */
	uint16_t sctp_port;	/* 0: 4342 */
	uint16_t sctp_udp_port; /* 0: no SCTP */
	/* optional, with stream: TLS 1.3 over TCP (docs/protocol.md D19) on TCP
	 * tls_port of every address, listening from the start; needs the tls
	 * build feature (GnuTLS) */
	uint16_t tls_port;		  /* 0: no TLS (a reload may open it) */
	const struct tls_cred *tls_cred;  /* src/net/tls_cred.h; the worker takes a reference */
	unsigned tls_handshake_timeout_s; /* a handshake not done by then is dropped (0 = 10) */
};

/* What a reload can change on a running worker (0 means the default, as above). */
struct net_worker_limits {
	unsigned keepalive_s, user_timeout_s, max_conns;
	size_t output_limit;
};

struct net_worker;
struct tls_cred;

/*
 * Create a worker: open and bind its sockets (SO_REUSEPORT, so every worker
 * binds the same addresses). On failure `err` (if not NULL) gets a message
 * naming the address, and NULL is returned.
 */
struct net_worker *net_worker_new(const struct net_worker_conf *conf, char *err, size_t errlen);

/*
 * Reload, from the control thread. The worker takes new limits at its next
 * loop (woken at once): the output bound and max_conns for every write and
 * accept from then on, keepalive and user timeout also on every open
 * connection. Returns the change's number for net_worker_wait().
 */
unsigned net_worker_set_limits(struct net_worker *w, const struct net_worker_limits *l);

/*
 * Open the worker's TCP listeners (one per address, SO_REUSEPORT) on the
 * calling thread, so a failure is known before anything offers sessions:
 * LISPMS_EADDRINUSE or -errno, nothing left open, `err` naming the address.
 * The kernel queues connections from this call on; the worker accepts them
 * from its next loop. Needs conf->stream; a no-op when already listening.
 */
int net_worker_listen(struct net_worker *w, unsigned backlog, char *err, size_t errlen);

/* Close the TCP listeners (the worker does it at its next loop); open
 * connections stay. Returns the change's number for net_worker_wait(). */
unsigned net_worker_unlisten(struct net_worker *w);

/*
 * Reload of TLS over TCP (server.tls), in two steps so that a port that
 * cannot be used refuses the reload with nothing changed. prepare (control
 * thread) opens the listeners of a new port (port 0: TLS off, or the port
 * in use: nothing to open), all addresses or none, `err` naming the
 * address; abort closes what prepare opened. commit hands the worker the
 * credentials and handshake timeout for the handshakes that begin from then
 * on (open sessions keep theirs; the worker takes its own reference to
 * `cred`) together with the prepared listeners, which replace the old ones;
 * port 0 closes them (open sessions stay). Returns the change's number for
 * net_worker_wait(). Without TLS built, prepare of a port says
 * LISPMS_ENOTSUP.
 */
int net_worker_tls_prepare(struct net_worker *w, uint16_t port, unsigned backlog, char *err,
			   size_t errlen);
void net_worker_tls_abort(struct net_worker *w);
unsigned net_worker_tls_commit(struct net_worker *w, uint16_t port, const struct tls_cred *cred,
			       unsigned handshake_timeout_s);

/* Reload of QUIC's credentials: the handshakes that begin from the worker's
 * next round use `cred` (it takes its own reference), open connections keep
 * theirs. A no-op on a worker without QUIC. */
unsigned net_worker_quic_cred(struct net_worker *w, const struct tls_cred *cred);

/* Wait (up to timeout_ms) until the worker applied change `gen`; false on timeout. */
bool net_worker_wait(struct net_worker *w, unsigned gen, unsigned timeout_ms);

/* Start the worker's thread. */
int net_worker_start(struct net_worker *w, const char *name);

/* Run the worker's tick soon (from any thread). */
void net_worker_wake(struct net_worker *w);

/* Ask the worker to stop and wait for its thread (idempotent). */
void net_worker_stop(struct net_worker *w);

/* Stop if needed, close the sockets, free. */
void net_worker_free(struct net_worker *w);

/*
 * Check that addr:port is free for UDP (no other process, not even a
 * SO_REUSEPORT group of the same user, holds it). Call before the first
 * net_worker_new() so a second daemon refuses to start instead of silently
 * sharing the port.
 */
int net_udp_port_free(const struct sockaddr_storage *addr, uint16_t port);

/* The same for TCP. */
int net_tcp_port_free(const struct sockaddr_storage *addr, uint16_t port);

/* TLS credentials of QUIC and of TLS over TCP (certificate, key, optional
 * client-ca PEM files), loaded at start and on every reload and shared by
 * every worker (net_worker_conf.quic_cred/tls_cred, the reload calls
 * above); reference counted, so free drops the loader's reference and open
 * sessions keep theirs. `err` names the file that failed. LISPMS_ENOTSUP
 * without GnuTLS. */
int net_tls_cred_load(struct tls_cred **out, const char *cert, const char *key,
		      const char *client_ca, char *err, size_t errlen);
void net_tls_cred_free(const struct tls_cred *c);
/* The key of QUIC's Retry and stateless-reset tokens: random, the same for
 * every worker. */
void net_quic_secret(uint8_t *buf, size_t len);

/* Stream connections open on this worker, every transport (tests, status). */
size_t net_worker_conns(const struct net_worker *w);

/* The keepalive idle time and TCP_USER_TIMEOUT (ms) a connection's socket has
 * now, read with getsockopt (worker thread, for tests). */
int net_conn_sockopts(const struct stream_conn *c, unsigned *keepidle_s, unsigned *user_timeout_ms);
