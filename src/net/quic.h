/* SPDX-License-Identifier: MIT */
/*
 * The QUIC stream transport (docs/protocol.md D17): ngtcp2 0.12 with GnuTLS,
 * TLS 1.3, one ALPN (`lisp-rt`). One struct quic_server per worker; it owns
 * that worker's QUIC connections (a table keyed by connection ID) and sends
 * from the worker's SO_REUSEPORT UDP socket the datagram came in on. It is
 * driven by the worker loop: quic_server_input() for every datagram,
 * quic_server_tick() when quic_server_expiry() is due, quic_server_flush()
 * after a round of events.
 *
 * Per connection, exactly one client-initiated bidirectional stream carries
 * the reliable-transport framing (D1-D14) to the stream handler through a
 * struct stream_conn (transport STREAM_QUIC); any other stream is refused
 * (STOP_SENDING + RESET_STREAM, counted), the server opens none.
 *
 * Admission (D5): an Initial without a token gets a stateless Retry; an
 * Initial with a valid Retry token from the same address is then put to
 * handler->admit() and only then gets a connection. Active migration is
 * disabled (transport parameter) and a datagram for a connection from
 * another address is dropped and counted.
 *
 * Threads: everything on the owning worker's thread, inside an RCU read-side
 * section (handler calls). Errors: negative LISPMS_E* codes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <lispms/stream.h>

struct tls_cred;
struct quic_server;

/* The QUIC sockets' receive buffer (bytes asked; server.quic has no key
 * for it): a handshake storm waits in it rather than being dropped. */
#define QUIC_RCVBUF (16u << 20)

struct quic_conf {
	const struct tls_cred *cred; /* shared, read-only; the server holds a reference */
	const char *alpn;	     /* "lisp-rt" when NULL */
	uint32_t idle_timeout_ms;    /* QUIC max_idle_timeout (0: 60 s) */
	uint32_t keepalive_ms;	     /* PING when the path was quiet this long (0: none) */
	size_t output_limit;	     /* unacknowledged output per connection */
	uint32_t max_conns;	     /* connections on this server (0: 1024) */
	uint32_t token_lifetime_ms;  /* Retry token validity (0: 10 s) */
	/* A datagram for no connection that waited longer than this in the
	 * socket (SO_TIMESTAMPNS, quic_server_read) is dropped unread (0: 1 s,
	 * the client's first probe timeout: by then it has sent it again). */
	uint32_t initial_max_age_ms;
	const uint8_t *secret; /* token key material, shared by every worker */
	size_t secretlen;      /* 32 bytes is plenty */
	/* Optional: a connection count shared with other transports (the
	 * worker's), which max_conns then bounds instead of ours. */
	size_t *conn_count;
};

/* A server for one worker; `h`/`arg` are the stream handler and its
 * per-worker argument. NULL when out of memory. */
struct quic_server *quic_server_new(const struct quic_conf *conf, const struct stream_handler *h,
				    void *arg);

/* Close every connection (closed(): STREAM_CLOSE_SHUTDOWN, after sending a
 * CONNECTION_CLOSE) and free the server. */
void quic_server_free(struct quic_server *qs);

/* One datagram from `peer` to `local` on `fd` (the QUIC socket it came in
 * on, used for the answers). `now` in nanoseconds (CLOCK_MONOTONIC). */
void quic_server_input(struct quic_server *qs, int fd, const struct sockaddr_storage *local,
		       const struct sockaddr_storage *peer, const uint8_t *pkt, size_t len,
		       uint64_t now);

/* Send what connections have queued and retire aborted or finished ones. */
void quic_server_flush(struct quic_server *qs, uint64_t now);

/* The earliest timer (ns, CLOCK_MONOTONIC), UINT64_MAX when none. */
uint64_t quic_server_expiry(const struct quic_server *qs);

/* Run the timers due at `now` (loss recovery, keepalive PINGs, idle
 * timeouts) and flush. */
void quic_server_tick(struct quic_server *qs, uint64_t now);

/* Credentials for the handshakes that begin from now on (a reload's
 * rotation); connections keep the ones they began with. */
void quic_server_set_cred(struct quic_server *qs, const struct tls_cred *cred);

/* New limits for new connections and writes from now on (0: keep). */
void quic_server_set_limits(struct quic_server *qs, size_t output_limit, uint32_t max_conns,
			    uint32_t keepalive_ms);

/* Close every connection (STREAM_CLOSE_SHUTDOWN); the server stays usable. */
void quic_server_stop(struct quic_server *qs);

/* Live connections. */
size_t quic_server_conns(const struct quic_server *qs);
/* Of those, the ones still holding their GnuTLS session: a connection
 * releases it once its handshake is complete. */
size_t quic_server_tls_sessions(const struct quic_server *qs);
/* Bytes libngtcp2 holds for the live connections (its allocations go
 * through a counting ngtcp2_mem; lispms_net_quic_library_bytes). */
size_t quic_server_lib_bytes(const struct quic_server *qs);

/* Read and handle the datagrams waiting on the non-blocking UDP socket `fd`
 * (with SO_TIMESTAMPNS set, a datagram for no connection that waited past
 * initial_max_age_ms is dropped: reason="stale")
 * (bound to one address), QUIC_RX_BUDGET (256) at most, flushing the
 * answers every 32: call again while the socket stays readable. Returns
 * datagrams read. With SO_RXQ_OVFL set on the socket, the datagrams the
 * kernel dropped for a full receive buffer are counted
 * (lispms_net_quic_dropped_total{reason="receive_buffer"}; the kernel
 * reports them with the next datagram it queues); `*overflow` keeps the
 * socket's last count (NULL: not counted). */
int quic_server_read(struct quic_server *qs, int fd, uint32_t *overflow, uint64_t now);

/* CLOCK_MONOTONIC in ns. */
uint64_t quic_now(void);
