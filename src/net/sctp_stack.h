/* SPDX-License-Identifier: MIT */
/*
 * The lower layer of the SCTP transport (private to src/net): the process's
 * one usrsctp stack (started without threads; sctp_stack_init and
 * sctp_stack_timers in sctp.h) and its AF_CONN addresses. The server
 * (sctp.c) and the client (sctp_client.c) sit on it; it calls neither.
 *
 * An AF_CONN address is an opaque 64-bit id, never a pointer: a registered
 * id names a struct sctp_lower (the UDP socket and, for a server's peer, the
 * peer's UDP address) that usrsctp's output callback sends through. An id
 * no longer registered sends nothing (a late retransmission for a peer we
 * freed). A server's id is a function of the peer's UDP address and port
 * (usrsctp signs it into the state cookie, so the INIT's answer and the
 * COOKIE-ECHO meet the same id with nothing stored in between); a client's
 * is a counter.
 *
 * Threads: the registry is locked; usrsctp has locks of its own.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

struct socket; /* usrsctp's */

enum sctp_lower_kind {
	SCTP_LOWER_PEER,   /* a server's peer: sendto(peer) */
	SCTP_LOWER_CLIENT, /* a client's connected socket: send() */
};

struct sctp_lower {
	uint64_t id; /* 0: not registered */
	enum sctp_lower_kind kind;
	int fd;
	struct sockaddr_storage peer; /* unused for a connected client fd */
	/* the address the peer sent to, the source of what goes back (a
	 * wildcard or AF_UNSPEC: the kernel chooses; see net_sock.h) */
	struct sockaddr_storage local;
	uint64_t *send_errors;	  /* counted here too when not NULL */
	struct sctp_lower *rnext; /* the registry's chain */
};

/* CLOCK_MONOTONIC in ns. */
uint64_t sctp_stack_now(void);

/* A server-side id for UDP peer a (IPv4: its address and port; IPv6: a
 * keyed 62-bit hash, so two peers may collide). */
uint64_t sctp_stack_addr_id(const struct sockaddr_storage *a);

/* Register l under id (0: a new client id) with us and with usrsctp;
 * LISPMS_EEXIST when the id is taken (l is then not registered). */
int sctp_stack_register(struct sctp_lower *l, uint64_t id);
/* Undo sctp_stack_register (nothing when l is not registered). */
void sctp_stack_deregister(struct sctp_lower *l);
/* The registered lower of id, or NULL. */
struct sctp_lower *sctp_stack_find(uint64_t id);
/* l's AF_CONN address as usrsctp takes it. */
void *sctp_stack_addr(const struct sctp_lower *l);

/* One SCTP packet from the UDP datagram to registered l's address. */
void sctp_stack_input(struct sctp_lower *l, const void *pkt, size_t len);
/* The same for an unregistered l (a packet from a peer with no
 * association, an INIT say): usrsctp's answer goes back through l, and
 * nothing is kept. */
void sctp_stack_input_stateless(struct sctp_lower *l, const void *pkt, size_t len);

/* How many times sctp_stack_timers() ran usrsctp's timers. */
uint64_t sctp_stack_ticks(void);

/* The options of every socket we make: stream info on receive, no Nagle,
 * association and shutdown events, RTO.Initial 1 s; with keepalive_ms, a
 * HEARTBEAT every keepalive_ms and the association lost after
 * user_timeout_ms of retransmissions. Non-blocking. 0 or -errno. */
int sctp_stack_sock_setup(struct socket *so, uint32_t keepalive_ms, uint32_t user_timeout_ms);
/* Close with an ABORT (SO_LINGER 0). */
void sctp_stack_sock_abort(struct socket *so);
