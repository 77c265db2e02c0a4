/* SPDX-License-Identifier: MIT */
/*
 * Stream sessions as the request core sees them, whatever carries them
 * (TCP, TLS over TCP, a QUIC stream, an SCTP stream; docs/protocol.md D15, D17,
 * D18, D19): the reliable-transport counterpart of dgram.h.
 *
 * Two tables meet here. A transport gives every connection a struct
 * stream_conn whose ops write, close, abort and measure it; the upper layer
 * (the request core, exported as ms_stream_handler; an echo in tests) gives
 * the transport a struct stream_handler that admits, opens, receives and
 * closes sessions. The daemon hands the handler and its per-worker argument
 * to each transport; neither side knows the other's types.
 *
 * Threads: every call on a connection and every handler call run on the
 * worker thread that owns the connection, inside an RCU read-side section.
 * Ownership: the transport owns struct stream_conn (embedded first in its
 * own connection struct) until it has called handler->closed; the upper
 * layer owns its session object from open() until closed().
 * Errors: write returns LISPMS_ELIMIT when the output bound is passed (the
 * transport then drops the connection as a slow reader, cause
 * STREAM_CLOSE_SLOW), other negative LISPMS_E* codes on failure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

/* Which transport carries a session: the `transport` label of every session
 * counter, metric and `lispmsctl sessions` row. */
enum stream_transport {
	STREAM_TCP,
	STREAM_TLS,
	STREAM_QUIC,
	STREAM_SCTP,
	STREAM_TRANSPORT_MAX,
};

/* "tcp", "tls", "quic", "sctp" ("?" out of range). */
const char *stream_transport_name(enum stream_transport t);

/* Why a session's connection ended. */
enum stream_close_cause {
	STREAM_CLOSE_PEER,     /* orderly close by the peer */
	STREAM_CLOSE_TIMEOUT,  /* keepalive, user timeout or idle timeout */
	STREAM_CLOSE_ERROR,    /* reset, or closed after a protocol error */
	STREAM_CLOSE_SLOW,     /* output bound passed */
	STREAM_CLOSE_SHUTDOWN, /* the worker stops */
	STREAM_CLOSE_ABORT,    /* conn->ops->abort (an operator's session drop) */
	STREAM_CLOSE_CAUSE_MAX,
};

/* "peer", "timeout", "error", "slow", "shutdown", "abort". */
const char *stream_close_cause_name(enum stream_close_cause why);

struct stream_conn;

/* What a transport does for one of its connections (worker thread only). */
struct stream_conn_ops {
	/* Queue bytes (sent as soon as the transport can). LISPMS_ELIMIT when
	 * the queued output would pass the bound: the connection is then
	 * dropped as a slow reader. */
	int (*write)(struct stream_conn *c, const uint8_t *buf, size_t len);
	/* Close once the queued output has gone; closed() follows. */
	void (*close)(struct stream_conn *c);
	/* Close at once, dropping queued output, after the worker's current
	 * round of events; closed() then gets STREAM_CLOSE_ABORT. */
	void (*abort)(struct stream_conn *c);
	/* Bytes queued that the peer has not been sent yet. */
	size_t (*queued)(const struct stream_conn *c);
};

/* Embedded first in every transport's connection struct. */
struct stream_conn {
	const struct stream_conn_ops *ops;
	enum stream_transport transport;
};

static inline int stream_write(struct stream_conn *c, const uint8_t *buf, size_t len)
{
	return c->ops->write(c, buf, len);
}

static inline void stream_close(struct stream_conn *c)
{
	c->ops->close(c);
}

static inline void stream_abort(struct stream_conn *c)
{
	c->ops->abort(c);
}

static inline size_t stream_queued(const struct stream_conn *c)
{
	return c->ops->queued(c);
}

/* What the upper layer does with sessions; `arg` is the per-worker argument
 * the daemon gave the transport with the handler. */
struct stream_handler {
	/* May `peer` open a session at all (D5)? Asked before the transport
	 * keeps any state for it (a QUIC Initial, an SCTP COOKIE-ECHO); a
	 * transport that accepts first (TCP) may skip it, open() decides. */
	bool (*admit)(void *arg, enum stream_transport t, const struct sockaddr_storage *peer);
	/* A connection is up: its session, or NULL to close it at once,
	 * sending nothing. */
	void *(*open)(void *arg, struct stream_conn *c, const struct sockaddr_storage *peer);
	/* Bytes arrived; a negative return closes the connection after its
	 * queued output (an Error Notification, say). */
	int (*recv)(void *arg, void *sess, const uint8_t *buf, size_t len);
	/* The connection is gone; the session may be freed. No call on the
	 * connection after this. */
	void (*closed)(void *arg, void *sess, enum stream_close_cause why);
};
