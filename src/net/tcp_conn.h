/* SPDX-License-Identifier: MIT */
/*
 * Private to the TCP source: its connections and instances, shared by
 * tcp.c (listeners, plain TCP connections, the source), tcp_conn.c (the
 * output queue and freeing, below both) and tcp_tls.c (TLS 1.3 over the
 * same connections, docs/protocol.md D19).
 * Threads: everything here runs on the owning worker, but the next_* fields
 * (the control thread's, under w->ctl_lock).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "net_loop.h"

#if LISPMS_NET_TLS
#include <gnutls/gnutls.h>

#include "tls_cred.h"
#endif

#define NET_TCP_READ   65536
#define NET_TCP_ROUNDS 8	   /* reads per connection per event */
#define NET_TCP_HOLD   (32u << 10) /* output held for one send per batch, at most */
#define NET_TCP_SNDBUF (128 * 1024)

struct net_conn {
	struct stream_conn sc; /* first: what the handler is given */
	struct net_ev ev;      /* epoll data points here */
	struct net_tcp *t;
	int fd;
	void *sess;
	uint8_t *out;
	size_t out_off, out_len, out_cap;
	bool want_out; /* EPOLLOUT armed */
	bool closing;  /* close once the output is flushed */
	bool slow;     /* output bound passed: close at once */
	bool corked;   /* queue writes, flush once after the current input */
	bool aborted;  /* abort: close at once, on the doomed list */
	bool dirty;    /* on the list of output to flush after the round */
	struct net_conn *prev, *next;
	struct net_conn *dnext;		/* doomed list */
	struct net_conn *oprev, *onext; /* the dirty (output to flush) list */
#if LISPMS_NET_TLS
	struct sockaddr_storage peer; /* for open() after the handshake */
	gnutls_session_t tls;	      /* TLS instance only */
	const struct tls_cred *cred;  /* the source's when it began (a reference) */
	bool bye;		      /* close_notify queued */
	/* A round's writes as one record: gnutls_record_cork() while the
	 * worker batches, uncorked at the round's end (tcp_tls_uncork) */
	bool tls_cork;
	size_t tls_corked;		/* plaintext bytes held by the cork */
	uint64_t hs_deadline;		/* handshaking until the session is open */
	struct net_conn *hprev, *hnext; /* the handshaking list, oldest first */
#endif
};

struct tcp_listener {
	struct net_ev ev; /* first */
	struct net_tcp *t;
	unsigned index;
};

struct net_tcp {
	struct net_source src;
	struct net_worker *w;
	const struct stream_handler *h;
	void *arg;
	int lfds[NET_MAX_ADDRS]; /* listeners, one per address */
	unsigned nlfds;
	struct tcp_listener listeners[NET_MAX_ADDRS];
	/* the next listener set, from the control thread, under w->ctl_lock */
	int next_lfds[NET_MAX_ADDRS];
	unsigned next_nlfds;
	bool next_lfds_set;
	bool listening; /* control thread's view: listeners open or about to be */
	uint16_t lport; /* control thread's view: their port */
	/* control thread: listeners a reload opened, not yet handed over */
	int staged_fds[NET_MAX_ADDRS];
	bool staged;
	struct net_conn *conns;
	struct net_conn *doomed; /* aborted, freed at the end of the round */
	struct net_conn *dirty;	 /* written to while batching */
	uint8_t *buf;
	uint16_t port;		     /* w->port, or the TLS port */
	enum stream_transport trans; /* STREAM_TCP or STREAM_TLS */
	/* a connection being freed gives back what its instance added (the TLS
	 * instance: tcp_tls_release); NULL for plain TCP */
	void (*conn_release)(struct net_tcp *t, struct net_conn *c);
#if LISPMS_NET_TLS
	const struct tls_cred *cred; /* TLS instance only: for new handshakes (a reference) */
	gnutls_priority_t prio;	     /* TLS 1.3 only */
	uint64_t hs_timeout_ns;	     /* handshake timeout */
	struct net_conn *hs_head, *hs_tail; /* handshaking, oldest first */
	/* a reload's credentials and timeout, under w->ctl_lock */
	const struct tls_cred *next_cred; /* a reference, until the worker takes it */
	uint64_t next_hs_timeout_ns;
	bool next_tls_set;
#endif
};

/* tcp_conn.c: what both halves use of the connection. */
void tcp_conn_free(struct net_tcp *t, struct net_conn *c, enum stream_close_cause why);
/* Off the list of output to flush after the round. */
void tcp_conn_dirty_unlink(struct net_tcp *t, struct net_conn *c);
/* On it (once). */
void tcp_conn_dirty_link(struct net_conn *c);
/* EPOLLOUT armed or not (EPOLLIN and EPOLLRDHUP always). */
void tcp_conn_arm(struct net_conn *c, bool want_out);
/* Send what is queued; false when the connection failed. */
bool tcp_conn_flush(struct net_conn *c);

/* Hand n bytes read into t->buf to the session handler, the writes its
 * answers make held (corked) and sent once after it; its return value. */
int tcp_conn_deliver(struct net_tcp *t, struct net_conn *c, size_t n);
/* Queue bytes for the socket (plain: the session's; TLS: records). */
int tcp_conn_queue(struct net_conn *c, const uint8_t *buf, size_t len);
/* How a socket error closes a session. */
enum stream_close_cause tcp_cause_of(int err);
/* Keepalive, user timeout, send buffer, no delay, as the worker says. */
void tcp_set_options(const struct net_worker *w, int fd);

#if LISPMS_NET_TLS
/* tcp_tls.c: the TLS instance's side of a connection. */
/* At accept: admission (D5), then a server session waiting for the
 * ClientHello; false: free the connection. */
bool tcp_tls_start(struct net_tcp *t, struct net_conn *c, const struct sockaddr_storage *peer);
/* Input: the handshake, then records to the handler; false when freed. */
bool tcp_tls_read(struct net_tcp *t, struct net_conn *c);
/* A session's bytes as records (through the output queue). While the worker
 * batches, the round's writes are held in one cork (at most NET_TCP_HOLD
 * bytes) and leave as few records as fit (16 KiB each) at the round's end. */
int tcp_tls_write(struct net_conn *c, const uint8_t *buf, size_t len);
/* The cork's records into the output queue (at the round's end, and before
 * close_notify); false when the output bound or memory refused them (slow). */
bool tcp_tls_uncork(struct net_conn *c);
/* Closing: close_notify once, after what is queued. */
void tcp_tls_bye(struct net_conn *c);
/* A connection being freed: off the handshaking list, its TLS state gone. */
void tcp_tls_release(struct net_tcp *t, struct net_conn *c);
/* The source's timer: handshakes past their deadline are dropped. */
uint64_t tcp_tls_timer(struct net_worker *w, struct net_source *src, uint64_t now);
#else
static inline void tcp_tls_bye(struct net_conn *c)
{
	(void)c;
}
static inline bool tcp_tls_uncork(struct net_conn *c)
{
	(void)c;
	return true;
}
#endif
