/* SPDX-License-Identifier: MIT */
/*
 * Publish/subscribe (RFC 9437, docs/protocol.md D20) for operators: the
 * subscriptions the Map-Server holds and dropping one. The protocol side
 * lives in src/ms/ms_pubsub.c.
 *
 * Threads: any thread (the table has its own lock).
 */
#pragma once

#ifndef LISPMS_USES_MS
#error "ms_pubsub.h: this subsystem does not declare ms as a dependency"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <lispms/addr.h>

struct ms;

#define LISPMS_PUBSUB_INFO_PREFIXES 8
#define LISPMS_PUBSUB_ORIGIN_LEN    136

/* One subscriber (an xTR-ID, and its site-ID when it sent one) as seen when asked. */
struct ms_subscription_info {
	uint8_t xtr_id[16];
	uint64_t site_id;
	bool has_site_id;
	char origin[LISPMS_PUBSUB_ORIGIN_LEN]; /* "site NAME" or "subscriber NAME" */
	struct sockaddr_storage itr;	       /* where UDP publications go */
	uint64_t session;		       /* reliable session publications use; 0: UDP */
	size_t nprefixes;		       /* all of them; the first few below */
	struct eid_prefix prefixes[LISPMS_PUBSUB_INFO_PREFIXES];
	uint64_t published; /* Map-Notifies sent (records batched in them) */
	uint64_t acked;	    /* UDP ones acknowledged */
	uint64_t pending;   /* UDP ones waiting for their Map-Notify-Ack */
	char last_error[64];
};

/* Up to max subscribers, in subscription order; returns how many were copied. */
size_t ms_subscriptions_list(struct ms *ms, struct ms_subscription_info *out, size_t max);

/* Number of subscribers held. */
size_t ms_subscriptions_count(struct ms *ms);

/* Drop the subscriber with this xTR-ID; false when there is none. Counted as an operator drop. */
bool ms_subscription_drop(struct ms *ms, const uint8_t xtr_id[16]);
