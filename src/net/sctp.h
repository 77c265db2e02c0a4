/* SPDX-License-Identifier: MIT */
/*
 * The SCTP stream transport (docs/protocol.md D18): SCTP (RFC 9260) in user space
 * (usrsctp 0.9.5) over UDP encapsulation (RFC 6951: the UDP payload is the
 * SCTP packet, common header first, CRC32c computed; port 9899 by default),
 * the wire format Linux kernel SCTP speaks with net.sctp.encap_port.
 *
 * usrsctp is one stack per process (its endpoint and association tables and
 * its timer wheel are global), started once without threads of its own
 * (usrsctp_init_nothreads) and with the AF_CONN lower layer: we read the UDP
 * datagrams ourselves and hand them to usrsctp_conninput; its output callback
 * sends on our UDP socket. Every AF_CONN "address" is an opaque 64-bit id
 * (never a pointer; the server's is derived from the peer's UDP address and
 * port, since usrsctp signs it into the cookie) looked up in a registry, so
 * a late output for a peer we freed is dropped, never touching freed memory.
 *
 * Server: one listening one-to-one socket on `port`. A datagram from a UDP
 * peer we know goes to its association; from an unknown one it is looked at
 * first: a COOKIE-ECHO is put to handler->admit() (D5) and only then gets a
 * peer entry and reaches usrsctp (which makes the association from the
 * cookie); anything else (an INIT, say) is handled with nothing kept: the
 * INIT-ACK goes back to the datagram's sender.
 * Stream 0 carries the session's bytes (D1-D14) through a struct stream_conn
 * (STREAM_SCTP); DATA on any other stream is discarded and counted, the
 * association goes on. ABORT, SHUTDOWN and heartbeat loss end the session
 * (D7). Output is queued by us up to the output limit (slow reader past it).
 *
 * Threads: all calls on one thread (the stack has no threads: the caller
 * runs sctp_stack_timers). Errors: negative LISPMS_E* codes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>
#include <sys/types.h>

#include <lispms/stream.h>

/* Start the process's stack (once; later calls do nothing). 0 or LISPMS_E*. */
int sctp_stack_init(void);

/* Run the stack's timers (retransmission, heartbeats, ...) for the time
 * passed since they last ran, at most once per 10 ms (the stack's timer
 * granularity: each run walks all of its timers); `now` in ns
 * (CLOCK_MONOTONIC). Returns ns until they are due again. */
uint64_t sctp_stack_timers(uint64_t now);

/* Drop counters and events of one server. */
struct sctp_stats {
	uint64_t rx_packets;	  /* datagrams read */
	uint64_t accepted;	  /* associations up */
	uint64_t streams_refused; /* DATA on a stream other than 0 */
	uint64_t send_errors;	  /* sendto failures */
	uint64_t drop_malformed;  /* too short, or not an SCTP packet */
	uint64_t drop_unauthorised;
	uint64_t drop_max_sessions;
	uint64_t drop_bad_cookie; /* admitted, but usrsctp made no association */
	uint64_t inits_stateless; /* packets from unknown peers handled statelessly */
	uint64_t drop_collision;  /* an IPv6 peer whose address id another holds */
	uint64_t drop_rcvbuf;	  /* the kernel dropped them: the socket's buffer was full */
};

struct sctp_conf {
	uint16_t port;		  /* SCTP port (4342) */
	size_t output_limit;	  /* our queue per association (0: 4 MiB) */
	uint32_t max_conns;	  /* associations (0: 1024) */
	uint32_t keepalive_ms;	  /* HEARTBEAT interval (0: 10 s) */
	uint32_t user_timeout_ms; /* give up on a path after this (0: 30 s) */
	size_t *conn_count;	  /* optional: a count shared with other transports */
};

struct sctp_server;

struct sctp_server *sctp_server_new(const struct sctp_conf *conf, const struct stream_handler *h,
				    void *arg, char *err, size_t errlen);

/* One datagram (an encapsulated SCTP packet) from UDP `peer`, read on `fd`
 * (the answers go out of it). */
void sctp_server_input(struct sctp_server *s, int fd, const struct sockaddr_storage *peer,
		       const uint8_t *pkt, size_t len);
/* The same, sent to `local` (its address is the source of the answers; a
 * wildcard or AF_UNSPEC: the kernel chooses). */
void sctp_server_input_to(struct sctp_server *s, int fd, const struct sockaddr_storage *peer,
			  const struct sockaddr_storage *local, const uint8_t *pkt, size_t len);

/* Read and handle what waits on the non-blocking UDP socket fd (recvmmsg
 * batches, up to 256 datagrams); datagrams read. With `overflow` (the
 * socket has SO_RXQ_OVFL on), the kernel's drop count last seen on fd:
 * what it grew by is counted (drop_rcvbuf). */
int sctp_server_read(struct sctp_server *s, int fd, uint32_t *overflow);

/* Deliver what the stack has for the sessions (after input and timers):
 * received bytes, closes, queued output; free finished peers. */
void sctp_server_process(struct sctp_server *s);

void sctp_server_set_limits(struct sctp_server *s, size_t output_limit, uint32_t max_conns,
			    uint32_t keepalive_ms);

/* Abort every association (STREAM_CLOSE_SHUTDOWN); the server stays usable. */
void sctp_server_stop(struct sctp_server *s);
void sctp_server_free(struct sctp_server *s);

/* Peer entries (association state) held. */
size_t sctp_server_peers(const struct sctp_server *s);
const struct sctp_stats *sctp_server_stats(const struct sctp_server *s);

/* Client side (tests, lispms-bench): one association over the connected
 * non-blocking UDP socket fd to the server's encapsulation port. */
struct sctp_client;

struct sctp_client *sctp_client_new(int fd, uint16_t port);
/* Feed what waits on fd to the stack; datagrams read. An ICMP port
 * unreachable (ECONNREFUSED on fd) before the association is up ends it:
 * nothing listens there (one later is ignored: it may be forged). */
int sctp_client_input(struct sctp_client *c);
/* Up (COMMUNICATION_UP seen)? */
bool sctp_client_up(struct sctp_client *c);
/* Send on stream sid: len, or -1 with errno (EAGAIN). */
ssize_t sctp_client_send(struct sctp_client *c, uint16_t sid, const void *buf, size_t len);
/* Received bytes (stream 0 and others alike), 0 at the end (shutdown,
 * abort), -1 with errno EAGAIN when none now, ECONNREFUSED when it was
 * refused (sctp_client_input). */
ssize_t sctp_client_recv(struct sctp_client *c, void *buf, size_t len);
/* The orderly end: SHUTDOWN now (a client never up just ends); keep
 * feeding it (sctp_client_input, the stack's timers) until
 * sctp_client_ended(), which reads and discards what still comes, says the
 * association is gone (SHUTDOWN-COMPLETE, or an ABORT), then free it. */
void sctp_client_shutdown(struct sctp_client *c);
bool sctp_client_ended(struct sctp_client *c);
/* Close (SHUTDOWN) and free at once; the fd stays the caller's. Once freed
 * nothing is sent for it: a SHUTDOWN lost on the way is not sent again (the
 * server's heartbeats end the association), so a client that can wait
 * shuts down first. */
void sctp_client_free(struct sctp_client *c);
