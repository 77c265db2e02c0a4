/* SPDX-License-Identifier: MIT */
/*
 * The ETR side of a stream session for the integration tests, whatever
 * transport carries it, so one test body runs over each (issue 15): the
 * tests open, send, receive and close through here and pick the transport
 * by name. TCP is built in; a transport is added here (its connect, send,
 * receive, close), not in the tests.
 *
 * A handle is a small non-negative integer (for TCP the socket itself).
 * Threads: one test thread. Errors: -1 from open, send and recv.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

enum it_transport {
	IT_TCP,
	IT_TLS, /* TLS 1.3 over TCP (GnuTLS); SSLKEYLOGFILE is honoured */
	IT_TRANSPORT_MAX,
};

struct it_stream_opts {
	enum it_transport transport;
	uint16_t port; /* the server's, on 127.0.0.1 */
	int rcvbuf;    /* SO_RCVBUF for the client socket, 0: the kernel's */
	/* TLS: the CA the server's certificate must chain to; a client
	 * certificate and key to present (both NULL: none) */
	const char *ca, *cert, *key;
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

void it_stream_close(int h);
