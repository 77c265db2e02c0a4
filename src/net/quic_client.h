/* SPDX-License-Identifier: MIT */
/*
 * A small QUIC client for tests and lispms-bench (docs/protocol.md D17): one
 * connection over its own connected UDP socket, one bidirectional stream
 * carrying the reliable-transport framing. Not used by the daemon.
 *
 * Driven by the caller: quic_client_fd() for poll, quic_client_service()
 * when it is readable or quic_client_expiry() is due. With `keylog` set,
 * the TLS secrets are appended to that file in the NSS key-log format
 * (SSLKEYLOGFILE) so tshark can decrypt the capture.
 * Threads: one thread per client. Errors: negative LISPMS_E* codes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>
#include <sys/types.h>

struct quic_client;
struct quic_client_cred;

struct quic_client_conf {
	const char *ca_file; /* verify the server against this CA (NULL: no check) */
	const char *cert;    /* client certificate and key (server client-ca) */
	const char *key;
	const char *alpn;		       /* "lisp-rt" when NULL */
	const char *keylog;		       /* SSLKEYLOGFILE path or NULL */
	uint32_t idle_timeout_ms;	       /* 0: 60 s */
	const struct sockaddr_storage *source; /* bind to this address first (port 0), or NULL */
	uint32_t drop_every; /* loss simulation: every Nth datagram to send is dropped (0: none) */
	/* Credentials from quic_client_cred_new, shared (then ca_file, cert
	 * and key are not read again); NULL: the client loads its own. */
	const struct quic_client_cred *cred;
};

/* The certificates of `conf` (ca_file, cert, key) loaded once, for many
 * clients on any thread (lispms-bench: thousands of ETRs). 0 or a
 * negative code (LISPMS_ECONFIG: a file does not load). */
int quic_client_cred_new(struct quic_client_cred **out, const struct quic_client_conf *conf);
/* After every client using it is freed. */
void quic_client_cred_free(struct quic_client_cred *cr);
/* How many server certificate chains its clients verified in full (a
 * client on shared credentials accepts the chain last verified in full,
 * byte for byte, without verifying it again: quic_client.c qc_memo). */
uint64_t quic_client_cred_full_checks(struct quic_client_cred *cr);

/* Start connecting to `server` (sends the first Initial). */
int quic_client_new(struct quic_client **out, const struct quic_client_conf *conf,
		    const struct sockaddr_storage *server);
void quic_client_free(struct quic_client *c);

int quic_client_fd(const struct quic_client *c);
/* Read what the socket holds, run timers, send. Negative when the
 * connection is gone (LISPMS_ECONNRESET: closed by the server;
 * LISPMS_ETIMEDOUT: idle timeout; LISPMS_ECONNREFUSED: an ICMP port
 * unreachable before the handshake was done, nothing listens there). */
int quic_client_service(struct quic_client *c);
/* Next timer, ns CLOCK_MONOTONIC: quic_client_service() is due then even
 * when the socket stays quiet (a lost packet is sent again on its probe
 * timeout, acknowledgements go out after their delay). */
uint64_t quic_client_expiry(const struct quic_client *c);
bool quic_client_ready(const struct quic_client *c); /* handshake done */

/* Service until the handshake is done, `timeout_ms` at most. */
int quic_client_wait_ready(struct quic_client *c, int timeout_ms);

/* Open the session stream now with an empty STREAM frame, so the server
 * opens the session before the client has anything to say (as a TCP
 * connect does). 0 or a negative code. */
int quic_client_open_stream(struct quic_client *c);
/* Stream bytes queued and not yet acknowledged by the server. */
size_t quic_client_unacked(const struct quic_client *c);
/* 0 while the connection lives, else the negative code service() gave. */
int quic_client_gone(const struct quic_client *c);

/* Queue bytes on the session stream (opened on first use). */
int quic_client_write(struct quic_client *c, const uint8_t *buf, size_t len);
/* Take up to `cap` received stream bytes, servicing up to `timeout_ms`
 * while none are there; 0 on timeout, negative when gone. Flow-control
 * credit is returned to the server only for what is taken here. */
ssize_t quic_client_read(struct quic_client *c, uint8_t *buf, size_t cap, int timeout_ms);

/* Open one more bidirectional stream and send `len` bytes on it (tests:
 * the server must refuse it). Returns the stream id or a negative code. */
int64_t quic_client_extra_stream(struct quic_client *c, const uint8_t *buf, size_t len);
/* Was stream `id` reset or stopped by the server? */
bool quic_client_stream_refused(const struct quic_client *c, int64_t id);

/* Start a key update (tests: the server derives the next keys without its
 * TLS session). 0 or a negative code. */
int quic_client_key_update(struct quic_client *c);
/* Send `len` bytes as a post-handshake CRYPTO frame (tests: the server,
 * which expects none, must close the connection). */
int quic_client_post_handshake_crypto(struct quic_client *c, const uint8_t *buf, size_t len);

/* Move to a new local port (tests: the server must refuse the new path). */
int quic_client_rebind(struct quic_client *c);

/* Close the connection (CONNECTION_CLOSE, no error). */
void quic_client_close(struct quic_client *c);
