/* SPDX-License-Identifier: MIT */
/* Private to ms: the structures the request core's files share. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>

#include <pthread.h>

#include <urcu/wfcqueue.h>

#include <lispms/arena.h>
#include <lispms/db.h>
#include <lispms/ms.h>
#include <lispms/proto.h>
#include <lispms/rcu.h>

#include "site_index.h"

#define MS_SCRATCH_ARENA (1u << 20) /* decode scratch, reset per message */
#define MS_ENCODE_MAX	 65535

/* A site's identity across reloads: the db stores this pointer. */
struct ms_site_id {
	struct ms_site_id *next;
	_Atomic uint32_t index; /* position in the current snapshot's site index */
	char name[];
};

/* What ms publishes with RCU: one configuration and its site index. */
struct ms_state {
	struct conf *conf;
	struct site_index *sites;
};

/* A worker's queue of work for its sessions (Mapping Notifications). */
struct ms_wq {
	struct cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	ms_wake_fn *wake;
	void *arg;
};

struct ms {
	struct ms_state *state; /* RCU */
	struct ms_wq wq[LISPMS_MS_MAX_WORKERS];
	struct db *db;
	struct admit *admit;
	pthread_mutex_t ids_lock;
	struct ms_site_id *ids;

	/* unsolicited Map-Notifies: any thread enqueues, the notifier sends */
	struct cds_wfcq_head notify_head;
	struct cds_wfcq_tail notify_tail;
	struct cds_lfht *pending; /* by nonce, for acks received by any worker */
	_Atomic size_t npending;
	ms_wake_fn *wake;
	void *wake_arg;
};

struct notify_job;

struct ms_thread {
	struct ms *ms;
	unsigned index;		      /* worker number: its queue, its session ids */
	struct ms_session **sessions; /* hash by id, this worker's sessions */
	size_t nsessions;
	uint64_t session_seq;
	uint8_t *rxbuf_free; /* one spare session receive buffer */
	struct ms_state *st; /* snapshot for the current batch */
	uint64_t now;	     /* time of the current batch */
	struct auth_ctx *auth;
	struct arena scratch;
	struct db_event_list events;
	uint64_t rng;
	struct notify_job *pending_list; /* notifier only: jobs awaiting an ack */
	uint8_t buf[MS_ENCODE_MAX];	 /* encode scratch */
};

/* ms.c */
void ms_count_malformed(int err);
void ms_addr_from_saddr(const struct sockaddr_storage *ss, struct lisp_addr *out);
bool ms_saddr_from_addr(const struct lisp_addr *a, uint16_t port, struct sockaddr_storage *out);
bool ms_emit(struct dgram_outbox *out, const uint8_t *msg, size_t len,
	     const struct sockaddr_storage *dst, const struct sockaddr_storage *src);
uint64_t ms_random(struct ms_thread *t);

/* The current site of an id in the batch's snapshot, or NULL when it left. */
static inline const struct ms_site *ms_site_of(const struct ms_thread *t,
					       const struct ms_site_id *id)
{
	if (id == NULL)
		return NULL;
	const struct ms_site *s = site_index_site(t->st->sites, atomic_load(&id->index));
	return s != NULL && s->id == id ? s : NULL;
}

/* ms_register.c */
enum ms_verdict {
	MS_V_ACCEPT,
	MS_V_PREFIX,	/* not a valid site EID prefix */
	MS_V_LOCATOR,	/* locator set not allowed */
	MS_V_MALFORMED, /* a record the codec cannot use */
	MS_V_INTERNAL,
	MS_V_AUTH,   /* the whole register failed authentication */
	MS_V_NOSITE, /* no site configures the first record's prefix */
};

/* Told the verdict on each record of a register, in order. */
typedef void ms_record_fn(void *arg, const struct lisp_record *rec, enum ms_verdict v);

struct ms_reg_out {
	struct lisp_map_register reg;
	const struct ms_site *site;
	const struct auth_key *key; /* the key that verified it */
	unsigned naccepted;
};

/*
 * Decode, authenticate and apply one Map-Register from src (session 0: UDP)
 * and report each record's verdict. LISPMS_EOK when it authenticated;
 * otherwise the decode, site (LISPMS_ENOSITE) or authentication error, after
 * reporting every decoded record with that verdict.
 */
int ms_register_process(struct ms_thread *t, const uint8_t *msg, size_t len,
			const struct sockaddr_storage *src, uint64_t session, ms_record_fn *fn,
			void *arg, struct ms_reg_out *res);
void ms_register(struct ms_thread *t, const struct dgram *d, struct dgram_outbox *out);

/* ms_request.c */
void ms_request(struct ms_thread *t, const struct dgram *d, const struct lisp_ecm *ecm,
		const uint8_t *msg, size_t len, struct dgram_outbox *out);

/* ms_session.c */
void ms_session_deliver(struct ms *ms, uint64_t session, const uint8_t *msg, size_t len);
/* Write to a session: directly when this worker owns it, else through its owner's queue. */
void ms_session_send(struct ms_thread *t, uint64_t session, const uint8_t *msg, size_t len);
void ms_session_drain(struct ms_thread *t);
void ms_sessions_free(struct ms_thread *t);

/* ms_notify.c */
void ms_notify_events(struct ms_thread *t);
void ms_notify_ack(struct ms_thread *t, const struct dgram *d);
uint64_t ms_notify_tick(struct ms_thread *t, uint64_t now, struct dgram_outbox *out);
void notify_drain_all(struct ms *ms);
void notify_thread_release(struct ms_thread *t);
