/* SPDX-License-Identifier: MIT */
/*
 * The QUIC server's private parts (quic.h is the interface), shared by
 * quic.c (connections: ngtcp2 callbacks, the stream ops, sending, timers,
 * the server's life) and quic_rx.c (datagrams in: Retry, admission, the
 * read path). Everything runs on the owning worker's thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <sys/socket.h>

#include <lispms/stream.h>

#include "quic.h"
#include "quic_outq.h"
#include "timer_heap.h"

#define QUIC_SCIDLEN	     16
#define QUIC_CIDS_PER_CONN   4	  /* our SCID + 3 more (the peer's limit is 2 by default) */
#define QUIC_PKT_MAX	     1452 /* UDP payload we build */
#define QUIC_TX_BURST	     64	  /* packets per connection per flush */
#define QUIC_APP_ERR_REFUSED 1	  /* application error code for a refused stream */
#define QUIC_RX_BUDGET	     256  /* datagrams per read call: the loop's timers go on */
#define QUIC_RX_FLUSH	     32	  /* datagrams between two flushes within a read */

struct quic_conn;

/* One connection ID of a connection, chained in the server's table. */
struct quic_cid {
	ngtcp2_cid cid;
	struct quic_conn *conn;
	struct quic_cid *next;
	bool used;
};

struct quic_conn {
	struct stream_conn sc; /* first: the handler's view */
	struct quic_server *qs;
	ngtcp2_conn *conn;
	gnutls_session_t tls;
	ngtcp2_crypto_conn_ref ref;
	struct quic_cid cids[QUIC_CIDS_PER_CONN];
	/* The DCID of the client's Initials (our Retry's SCID): a client
	 * repeats its Initial until it hears from us, and a repeat must find
	 * this connection, not start a second one (with a second handshake). */
	struct quic_cid initial;
	/* libngtcp2's allocations for this connection go through here and
	 * are counted (quic_server_lib_bytes) */
	ngtcp2_mem mem;
	size_t lib_bytes;
	struct sockaddr_storage local, peer;
	socklen_t locallen, peerlen;
	int fd;
	int64_t stream; /* the session's stream, -1 before it opens */
	void *sess;	/* the handler's session, NULL before open() */
	/* Output of the stream, held in place until acknowledged (ngtcp2 does
	 * not copy stream data: quic_outq.h). */
	struct quic_outq out;
	bool closing; /* close(): after the output is acknowledged */
	bool dead;    /* retire at the next flush, with `why` */
	bool silent;  /* retire without CONNECTION_CLOSE (idle, draining) */
	enum stream_close_cause why;
	struct quic_conn *prev_c, *next_c; /* all connections */
	/* ngtcp2's expiry in the server's timer heap, and the list of
	 * connections touched this round (input, writes, timers), which the
	 * flush walks: per event O(log n), never a walk of every connection */
	struct timer_node timer;
	bool pending;
	struct quic_conn *prev_p, *next_p;
	const struct tls_cred *cred; /* the server's when it began (a reference) */
};

struct quic_server {
	struct quic_conf conf;
	char alpn[32];
	gnutls_datum_t alpn_d;
	uint8_t secret[64];
	gnutls_priority_t prio; /* quic_priority, parsed once: every session shares it */
	const struct stream_handler *h;
	void *arg;
	struct quic_cid **table;
	size_t nbuckets;
	struct quic_conn *conns;
	size_t nconns;
	size_t ntls;	  /* connections still holding their GnuTLS session */
	size_t lib_bytes; /* held by libngtcp2 for the connections */
	uint64_t rx_age;  /* how long the datagram being read waited in the socket, ns */
	struct timer_heap timers;
	struct quic_conn *pending; /* touched since the last flush */
	uint8_t rx[65536];	   /* this worker's datagram: one server per worker thread */
	uint8_t buf[QUIC_PKT_MAX];
};

static inline socklen_t sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static inline bool sa_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	return memcmp(a, b, sa_len(a)) == 0;
}

/* quic.c, for quic_rx.c */
struct quic_conn *quic_cid_find(const struct quic_server *qs, const uint8_t *d, size_t n);
void quic_rand(uint8_t *dest, size_t destlen, const ngtcp2_rand_ctx *ctx);
/* The connection has something to send or to retire: the next flush sees it. */
void quic_conn_mark(struct quic_conn *c);
/* Retire it at the next flush (silent: without CONNECTION_CLOSE). */
void quic_conn_kill(struct quic_conn *c, enum stream_close_cause why, bool silent);
void quic_conn_path(struct quic_conn *c, ngtcp2_path *p);
void quic_ps_zero(ngtcp2_path_storage *ps);
/* From `local`'s address when it is a specific one (a wildcard socket's
 * answer leaves from the address the peer sent to: PKTINFO). */
void quic_send_to(int fd, const struct sockaddr_storage *local, const struct sockaddr_storage *peer,
		  const uint8_t *b, size_t n);
/* Give the GnuTLS session back once the handshake is complete. */
void quic_conn_tls_release(struct quic_conn *c);
/* A connection for a client whose Retry token `hd` carried was valid
 * (`odcid`: the DCID of its first Initial); LISPMS_ENOMEM. */
int quic_conn_new(struct quic_server *qs, int fd, const struct sockaddr_storage *local,
		  const struct sockaddr_storage *peer, const ngtcp2_pkt_hd *hd,
		  const ngtcp2_cid *odcid, uint64_t now, struct quic_conn **out);
