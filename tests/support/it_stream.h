/* SPDX-License-Identifier: MIT */
/*
 * The ETR side of a stream session for the integration tests, whatever
 * transport carries it, so one test body runs over each (issue 15): the
 * tests open, send, receive and close through here and pick the transport
 * by name. TCP is built in; a transport is added here (its connect, send,
 * receive, close), not in the tests.
 *
 * A handle is a small non-negative integer (for TCP the socket itself, for
 * QUIC a slot in a table of clients, for SCTP its UDP socket).
 *
 * QUIC (src/net/quic_client.h): open completes the handshake and opens the
 * session's stream with an empty STREAM frame, as a TCP connect would; a
 * server that refuses the connection (admission, D5) never completes the
 * handshake, and such a handle reads as closed with nothing sent. Stream
 * credit goes back to the server only as the test reads, so a test that
 * stops reading is a slow reader on QUIC too. A QUIC client is serviced
 * only while the test calls in on its handle: one the test holds open
 * while it works with others answers nothing, and would end at the idle
 * timeout. Its idle timeout is IT_QUIC_IDLE_S, and a test's lispmsd gives
 * its server.quic the same (the connection's is the shorter of the two).
 *
 * SCTP: it runs in this process's usrsctp stack; every
 * call pumps every open SCTP association (input, timers), so associations
 * the test is not reading still answer heartbeats, and closed ones finish
 * their SHUTDOWN exchange (a SHUTDOWN lost to a full server socket is sent
 * again). An SCTP association not up within 2 s of open (not admitted: the
 * server answers nothing; RTO.Initial is 1 s, so one lost handshake packet
 * is sent again in time) reads as closed by the server.
 * Threads: one test thread. Errors: -1 from open, send and recv.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

/* QUIC idle timeout (seconds) of the clients here, and the one a test puts
 * in its lispmsd's server.quic.idle-timeout: beyond any test's run (meson
 * times them out at 300 s), so a session the test holds unserviced (ms_tcp
 * holds 1000 open while it opens them, some 6 s here) does not end idle on
 * a machine many times slower. A test of the idle timeout sets its own. */
#define IT_QUIC_IDLE_S 600

enum it_transport {
	IT_TCP,
	IT_QUIC, /* only in a build with the quic feature */
	IT_SCTP, /* SCTP over UDP encapsulation (usrsctp): port = the UDP port */
	IT_TLS,	 /* TLS 1.3 over TCP (GnuTLS); SSLKEYLOGFILE is honoured */
	IT_TRANSPORT_MAX,
};

struct it_stream_opts {
	enum it_transport transport;
	uint16_t port;		/* the server's, on 127.0.0.1 */
	int rcvbuf;		/* SO_RCVBUF for the client socket, 0: the kernel's */
	const char *ca;		/* TLS/QUIC: verify the server against this CA file */
	const char *keylog;	/* TLS/QUIC: SSLKEYLOGFILE to append to, or NULL */
	uint16_t sctp_port;	/* IT_SCTP: the SCTP port in the packets (0: 4342) */
	const char *cert, *key; /* TLS: a client certificate and key to present (both NULL: none) */
};

/* "tcp" -> IT_TCP; false for a transport this build does not carry. */
bool it_transport_parse(const char *name, enum it_transport *t);
const char *it_transport_name(enum it_transport t);

/* Connect from IPv4 address src (any port) to the server; a handle or -1.
 * TLS: the handshake is done here; a server that closes before sending
 * anything still gives a handle, closed (as a refused TCP session). */
int it_stream_open(const struct it_stream_opts *o, const char *src);

/* Send all of buf (blocking); len, or -1. */
ssize_t it_stream_send(int h, const void *buf, size_t len);

/* Send what the transport takes now without blocking: bytes taken, 0 when
 * it takes nothing, -1 on error. */
ssize_t it_stream_send_nowait(int h, const void *buf, size_t len);

/* Wait up to timeout_ms for bytes: how many (> 0), 0 when the server closed
 * (orderly or reset), -1 on timeout. */
ssize_t it_stream_recv(int h, void *buf, size_t len, int timeout_ms);

/* Wait up to timeout_ms until the transport would take more output. */
bool it_stream_writable(int h, int timeout_ms);

/* The client's own port (for pcap records). */
uint16_t it_stream_local_port(int h);

/* Close the handle (it is not used again). SCTP: the association ends in
 * order (SHUTDOWN, sent again if lost) while the test goes on, its socket
 * closed when it is gone, within 5 s. */
void it_stream_close(int h);

/* Wait up to timeout_ms until every closed handle's transport has finished
 * its close (SCTP: SHUTDOWN-COMPLETE; the others at once); true when all
 * have. */
bool it_stream_settle(int timeout_ms);
