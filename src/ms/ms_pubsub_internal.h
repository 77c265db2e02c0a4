/* SPDX-License-Identifier: MIT */
/* Publish/subscribe (docs/protocol.md D20): what ms_pubsub.c, ms_pubsub_send.c
 * and ms_pubsub_publish.c share. Everything here is used under the table's
 * lock unless said otherwise. */
#ifndef LISPMS_MS_PUBSUB_INTERNAL_H
#define LISPMS_MS_PUBSUB_INTERNAL_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/counters.h>
#include <lispms/log.h>
#include <lispms/ms_pubsub.h>
#include <lispms/mtime.h>
#include <lispms/proto_rt.h>

#include "ms_internal.h"

#define PS_MAX_SUBS	4096 /* subscribers held */
#define PS_MAX_PREFIXES 64   /* subscriptions of one subscriber */
#define PS_MAX_PENDING	1024 /* UDP publications awaiting an ack, per subscriber */
#define PS_DUMP_WINDOW	256  /* a UDP state dump goes on while fewer are unacknowledged */
#define PS_RESYNC_AT	64   /* a lagging subscriber is resynchronised at this backlog */
#define PS_UDP_BATCH	32   /* records per UDP Map-Notify */
#define PS_SESS_BATCH	LISPMS_MAX_RECORDS /* per Mapping Notification (an 8-bit count) */
#define PS_DEFER_MAX                                                                            \
	256 /* changes a worker holds for its tick (ms_pubsub_defer): bounds the work under the \
	       lock */
#define PS_NEG_TTL 1 /* minutes: the record of a prefix with no mapping */

/* One signed Map-Notify for one subscriber, waiting for its turn (ticket). */
struct ps_job {
	struct ps_job *next;
	uint64_t sub, ticket, nonce, session;
	struct sockaddr_storage itr;
	struct auth_key key;
	unsigned nrec;
	size_t len;
	uint8_t *msg; /* NULL: building it failed (its ticket still passes) */
};

/* Building space: one per thread publishing at a time, pooled in the table. */
struct ps_scratch {
	struct ps_scratch *next;
	struct auth_ctx *auth;
	struct arena arena;
	struct lisp_record recs[PS_SESS_BATCH];
	uint8_t buf[MS_ENCODE_MAX];
	uint8_t framed[MS_ENCODE_MAX];
};

struct ps_pfx {
	struct eid_prefix p;
	uint64_t nonce; /* the last one used for it (RFC 9437 §5) */
	/* a state dump in progress (paced by acks over UDP): go on after cursor */
	bool dumping, has_cursor, has_skip;
	struct eid_prefix cursor, skip;
};

struct ps_sub {
	struct ps_sub *next;
	uint64_t id;
	uint8_t xtr_id[16];
	uint64_t site_id;
	bool has_site_id;
	const struct ms_site_id *site; /* allowed by this site; NULL: the subscribers list */
	struct auth_key key;
	char origin[LISPMS_PUBSUB_ORIGIN_LEN];
	struct sockaddr_storage itr;
	uint64_t session; /* 0: UDP */
	uint64_t lost_ns; /* when its session went down, 0: not lost */
	uint32_t timeout_s;
	bool doomed;  /* drop at the end of this round */
	bool lagging; /* its backlog filled: publications wait for a resync */
	enum metric_id doom_reason;
	unsigned npfx;
	struct ps_pfx pfx[PS_MAX_PREFIXES];
	uint64_t published, acked, pending;
	uint64_t tk_next, tk_done; /* tickets handed out; the next to deliver */
	struct ps_job *parked;	   /* built ahead of their turn, by ticket */
	char last_error[64];
};

struct ms_pubsub {
	pthread_mutex_t lock;
	_Atomic size_t nsubs;
	struct ps_sub *head;
	uint64_t next_id;
	struct ps_scratch *spare; /* building space not in use */
};

/* ms_pubsub.c */
struct ps_sub *ps_find_id(struct ms_pubsub *ps, uint64_t id);
/* Drop the subscribers marked during a round. */
void ps_reap(struct ms_pubsub *ps);
void ps_doom(struct ps_sub *s, enum metric_id why, const char *text);

/* ms_pubsub_send.c: building, signing, delivery in ticket order, state dumps */
void ps_jobs_free(struct ps_job *j);
void ps_scratch_free(struct ps_scratch *sc);
/* Building space for this thread. NULL: out of memory. */
struct ps_scratch *ps_scratch_get(struct ms_pubsub *ps);
void ps_scratch_put(struct ms_pubsub *ps, struct ps_scratch *sc);
/* Encode sc->recs[0..n) as a Map-Notify with this nonce (see the definition). */
struct ps_job *ps_job_build(struct ps_scratch *sc, const struct ps_job *proto, uint64_t nonce,
			    unsigned n, bool sign_now);
/* Sign (one auth_batch_sign) and frame jobs built unsigned; outside the lock. */
void ps_finish_jobs(struct ps_scratch *sc, struct ps_job *head, size_t n);
/* Deliver j if its ticket is next, then whatever was parked behind it; else park it. */
void ps_deliver_in_turn(struct ms *ms, struct ps_sub *s, struct ps_job *j);
unsigned ps_batch_cap(const struct ps_sub *s);
void ps_job_proto(const struct ps_sub *s, struct ps_job *p);
void ps_negative_record(struct lisp_record *r, const struct eid_prefix *p, uint32_t ttl);
/* The current state of subscription sp of s (see the definition). */
void ps_send_state(struct ms *ms, struct ms_pubsub *ps, const struct ms_state *st, struct ps_sub *s,
		   struct ps_pfx *sp, bool first);
/* After an ack: resync a lagging subscriber, or go on with its dumps. */
void ps_after_ack(struct ms *ms, struct ms_pubsub *ps, struct ps_sub *s);

#endif
