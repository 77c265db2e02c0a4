/* SPDX-License-Identifier: MIT */
/*
 * The stream transports lispms-bench's simulated ETRs can open sessions
 * over (fabric --transport): one ops table per transport, so sessions.c
 * drives TCP, TLS or QUIC the same way. A transport is added by a table
 * here and a line in bench_transports[] (transport.c); sessions.c does not
 * change.
 *
 * Every call is non-blocking and made by the ETR's simulation thread; the
 * fd open() returns is watched by that thread's epoll set (readable: call
 * recv; it may return -1 with EAGAIN when only transport traffic came).
 *
 * `--transport auto` is a chain (struct bench_chain): every transport this
 * build has, in the seed's order (002: TCP, then QUIC, then SCTP). Each ETR
 * starts on the first; one whose session fails to open (refused, handshake
 * or Refresh timed out) tries the next on its next attempt, wrapping around,
 * and keeps the one that worked (sessions.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>
#include <sys/types.h>

enum bench_transport_id { BT_TCP, BT_TLS, BT_QUIC, BT_SCTP, BT_COUNT };

/* "tcp", "tls", "quic", "sctp": what --transport, --transport-port NAME=P
 * and the JSON's sessions_NAME call it, whether or not this build has it. */
static inline const char *bench_transport_id_name(enum bench_transport_id id)
{
	static const char *const names[BT_COUNT] = {
		[BT_TCP] = "tcp", [BT_TLS] = "tls", [BT_QUIC] = "quic", [BT_SCTP] = "sctp"
	};
	return (unsigned)id < BT_COUNT ? names[id] : "?";
}

/* What every transport may need (certificates for TLS and QUIC, ports). */
struct bench_transport_opts {
	const char *ca;	  /* --ca FILE: verify the server against it */
	const char *cert; /* --cert FILE, --key FILE: the client's certificate */
	const char *key;
	uint16_t port;		  /* --transport-port P: the one transport's port (0: default) */
	uint16_t ports[BT_COUNT]; /* --transport-port NAME=P,...: per transport (0: unset) */
	unsigned drop_every; /* --quic-drop N: QUIC drops every Nth datagram it sends (0: none) */
};

struct bench_transport {
	const char *name;
	enum bench_transport_id id;
	/* The server's default port for it (server.quic.port, ...); 0: --server's. */
	uint16_t default_port;
	/* Per process, before the threads: 0, or -1 with a message in err. */
	int (*init)(const struct bench_transport_opts *o, char *err, size_t errlen);
	/* Start connecting from IPv4 address src (host order) to server: the
	 * fd to watch, or -1 (errno says why); *state gets the connection's
	 * own state (may stay NULL). */
	int (*open)(const struct bench_transport_opts *o, uint32_t src,
		    const struct sockaddr_storage *server, void **state);
	/* Some of buf: bytes taken, or -1 with errno (EAGAIN: none now). */
	ssize_t (*send)(int fd, void *state, const uint8_t *buf, size_t len);
	/* Bytes into buf: how many, 0 at the end, -1 with errno (EAGAIN). */
	ssize_t (*recv)(int fd, void *state, uint8_t *buf, size_t len);
	/* Close fd (already out of the epoll set) and free state. */
	void (*close)(int fd, void *state);
	/* NULL, or when recv() is due although fd may stay quiet (ns,
	 * mtime_now_ns clock; UINT64_MAX: no timer): QUIC's loss and ACK
	 * timers, so a lost datagram goes out again on its probe timeout. */
	uint64_t (*expiry)(void *state);
	/* How long a new session may take to bring the server's Refresh, ms
	 * (0: 3000). QUIC gives its handshake the time of a few probe
	 * timeouts (1 s, 2 s, 4 s) before the ETR gives up and starts over.
	 * With ready(): open_ms for the handshake, then open_ms again from
	 * its completion for the Refresh (a session the server accepted is
	 * not thrown away because a storm's queue delays its Refresh). */
	unsigned open_ms;
	/* NULL (ready once open), or whether the transport's own handshake
	 * is done: a session lost before it is counted apart (a handshake
	 * timeout, not a missing Refresh). */
	bool (*ready)(void *state);
};

/* "tcp", "tls", "quic", "sctp" (those this build has); NULL otherwise. */
const struct bench_transport *bench_transport_find(const char *name);

#define BENCH_CHAIN_MAX 3

/* The transports an ETR tries, in order: one, or every one auto takes. */
struct bench_chain {
	const char *name; /* "auto" or the transport's */
	unsigned n;
	const struct bench_transport *tr[BENCH_CHAIN_MAX];
};

/* A name or "auto" into *out; -1 for an unknown name. */
int bench_transport_chain(const char *name, struct bench_chain *out);

/* Where t connects: its NAME=P port, else P, else its default; 0: the
 * --server port. (P with auto is refused by the command line.) */
uint16_t bench_transport_port(const struct bench_transport_opts *o,
			      const struct bench_transport *t);

/* "tcp|auto" and the like, for the usage text. */
const char *bench_transport_names(void);
