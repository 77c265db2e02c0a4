/* SPDX-License-Identifier: MIT */
/*
 * The publish/subscribe subscribers of lispms-bench's fabric (RFC 9437,
 * docs/protocol.md D20): N xTRs subscribe, after the fabric converged, to one
 * prefix each (the same covering prefix, or each its own registered EID),
 * then check every publication the Map-Server sends them:
 *
 * - HMAC: verified with the subscriber's key (the fabric's key);
 * - order: subscriber i's nonces are 0x5b << 56 | i << 44 | run << 32 | k,
 *   the first (k = 0) in its Map-Request; every Map-Notify must carry the
 *   next one (a UDP retransmission, already seen, is counted apart);
 * - completeness: the initial state must carry every registered EID the
 *   subscription covers, and at the end the last locator each subscriber
 *   received for each covered EID must be that of the ETR owning it after
 *   every move the fabric made;
 * - latency: a record that shows an EID at the ETR the fabric last moved it
 *   to is timed from when that move's registration was sent.
 *
 * Transports: UDP subscribers are listed in the server's `subscribers:` (the
 * xTR-IDs subs_xtr_id() gives), each on its own socket at 127.4.0.1 + i,
 * and acknowledge every Map-Notify with a signed Map-Notify-Ack. Session
 * subscribers are the fabric's first N ETRs, on reliable sessions, whose
 * Registrations carry their xTR-ID (a site with allow-subscribe): their
 * publications arrive as Mapping Notifications on the session (no acks);
 * the subscription itself is a UDP Map-Request with the I and N bits.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <lispms/addr.h>
#include <lispms/proto.h>

#include "layout.h"
#include "stats.h"

#define SUBS_MAX 4096 /* the Map-Server holds as many subscribers */

struct subs_conf {
	unsigned n;		  /* subscribers (0: none) */
	bool session;		  /* on the fabric's first n ETRs' sessions (else UDP) */
	bool each;		  /* subscriber i to registered EID i (mod the EIDs) */
	struct eid_prefix prefix; /* otherwise every one to this prefix */
	uint32_t source_base;	  /* subscriber i sends from source_base + i (0: 127.4.0.1) */
	double seconds;		  /* bound on the initial state (0: 30 s) */
};

/* What the fabric shares with its subscribers (owned by the fabric). */
struct subs_fabric {
	struct sockaddr_storage server;
	const struct layout *layout;
	uint64_t base;		   /* layout number of the fabric's EID index 0 */
	uint64_t neids;		   /* EID indexes 0..neids-1 */
	const uint32_t *owner;	   /* EID index -> ETR index (read relaxed) */
	const uint64_t *change_ts; /* EID index -> when its last move was sent, 0: never */
	uint32_t etr_addr0;	   /* ETR 0's address: its locator is 127.1 + its low 16 bits */
	const struct auth_key *key;
};

struct subs_result {
	unsigned subscribers;
	unsigned complete;   /* with every covered EID in their initial state */
	unsigned consistent; /* whose last view of every covered EID is its final owner */
	double complete_s;   /* first subscription sent to the last initial state complete */
	uint64_t covered;    /* covered EIDs, summed over the subscribers */
	uint64_t stale;	     /* covered EIDs not at their final owner, summed */
	uint64_t publications, records, other_records, retransmitted;
	uint64_t bad_auth, bad_nonce, acks_sent, resubscribed, refused;
	unsigned unsubscribed; /* unsubscriptions sent at the end */
	struct stats_hist lat; /* move sent -> its publication, per subscriber */
};

struct subs;

/* The xTR-ID of subscriber i: 5b5b 0..0 iiii over UDP (what the server's
 * subscribers: list names), 5b5e 0..0 iiii on sessions (in Registrations). */
void subs_xtr_id(unsigned i, bool session, uint8_t out[16]);

/* Ready the subscribers (nothing sent yet); 0 or a negative errno. */
int subs_new(const struct subs_conf *c, const struct subs_fabric *f, struct subs **out);

/* Subscribe (a thread: sends the Map-Requests, receives and acks over UDP). */
int subs_start(struct subs *s);

/* Does every subscriber have its initial state? Any thread. */
bool subs_complete(struct subs *s);

/* Records received so far, all subscribers (progress). Any thread. */
uint64_t subs_records(struct subs *s);

/*
 * Session mode: a Map-Notify (msg, len: the inner message of a Mapping
 * Notification) reached ETR i on its session; true when it was one of
 * subscriber i's publications (consumed), false when it is something else.
 * Called by the one thread that owns ETR i, with that thread's auth ctx.
 */
bool subs_on_session(struct subs *s, unsigned i, const uint8_t *msg, size_t len,
		     struct auth_ctx *a);

/* Stop the thread and unsubscribe every subscriber that was not refused
 * (a Map-Request whose one ITR-RLOC has AFI 0, RFC 9437 §5); then (after
 * the fabric's threads ended) the figures. */
void subs_stop(struct subs *s);
void subs_result(struct subs *s, struct subs_result *r);
void subs_free(struct subs *s);
