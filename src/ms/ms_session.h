/* SPDX-License-Identifier: MIT */
/*
 * Private to ms: a worker's reliable-transport sessions as the files that
 * serve them share them. ms_session.c runs the protocol (open, receive,
 * close), ms_session_queue.c carries work from any thread to the worker that
 * owns a session, ms_session_ops.c answers the operators' list and drop,
 * ms_reload_refresh.c tells the sessions what a reload changed.
 */
#pragma once

#include <lispms/counters.h>
#include <lispms/proto_rt.h>

#include "ms_internal.h"

#define SESS_BUCKETS 4096

/* A stream-session counter of session s, labelled with its transport. */
#define SESS_M(s, id) counters_sess_id(LISPMS_M_##id, (s)->conn->transport)

struct ms_session {
	struct ms_session *hnext;
	struct ms_session *onext, *oprev; /* the worker's sessions in id order */
	uint64_t id;
	struct sockaddr_storage peer;
	struct stream_conn *conn; /* its transport's; conn->transport labels it */
	struct rt_stream rx;
	uint8_t *rxbuf;			  /* held only while a message is partial */
	uint64_t partial_since;		  /* when the pending partial message began */
	struct ms_session *snext, *sprev; /* the worker's stall list, oldest first */
	bool stall_listed;
	uint32_t next_id;
	uint64_t opened_ns;
	uint64_t acked, rejected;
	uint64_t nrx, ntx; /* messages */
	bool failed;	   /* a write failed or it was dropped: the transport closes it */
};

/* The sent-messages counter of a reliable-transport type. */
static inline enum metric_id sess_tx_counter(uint16_t type)
{
	switch (type) {
	case RT_TYPE_REGISTRATION_ACK:
		return LISPMS_M_MS_SESS_TX_ACK;
	case RT_TYPE_REGISTRATION_REJECT:
		return LISPMS_M_MS_SESS_TX_REJECT;
	case RT_TYPE_REGISTRATION_REFRESH:
		return LISPMS_M_MS_SESS_TX_REFRESH;
	case RT_TYPE_MAPPING_NOTIFICATION:
		return LISPMS_M_MS_SESS_TX_NOTIFICATION;
	default:
		return LISPMS_M_MS_SESS_TX_ERROR;
	}
}

/* The type of an encoded message (its first two octets). */
static inline uint16_t sess_rt_type(const uint8_t *msg, size_t len)
{
	return len >= 2 ? (uint16_t)(msg[0] << 8 | msg[1]) : 0;
}

/* A session id's slot in its worker's table. */
static inline unsigned sess_bucket(uint64_t id)
{
	return (unsigned)((id * 0x9e3779b97f4a7c15ull) >> 52) & (SESS_BUCKETS - 1);
}

/* This worker's session with that id, or NULL. */
static inline struct ms_session *sess_find(const struct ms_thread *t, uint64_t id)
{
	if (t->sessions == NULL)
		return NULL;
	for (struct ms_session *s = t->sessions[sess_bucket(id)]; s != NULL; s = s->hnext)
		if (s->id == id)
			return s;
	return NULL;
}

/* ms_session_queue.c: work for a worker, run on it in its next tick */

/* Run on the worker that owns the queue; t NULL: the queue was freed first. */
typedef void ms_session_job_fn(struct ms_thread *t, void *arg);

/* Post fn(arg) to worker w's queue (any thread); false when out of memory. */
bool ms_session_post(struct ms *ms, unsigned w, ms_session_job_fn *fn, void *arg);
/* Framed bytes for every session of every worker. */
void ms_session_broadcast(struct ms *ms, const uint8_t *msg, size_t len);
