/* SPDX-License-Identifier: MIT */
/*
 * The request core of the Map-Server (RFC 9301 plus PROTOCOL.md): decoded
 * Map-Registers update the mapping database, Map-Requests are answered from
 * it, mapping changes become Map-Notifies. It never touches a socket: every
 * transport (kernel UDP workers, DPDK lcores, tests) hands it batches of
 * datagrams through ms_handle_batch() and sends the outbox it fills.
 *
 * Unsolicited Map-Notifies (mobility, merge; D12, D13) are queued by any
 * thread and sent, retransmitted and retired by one notifier thread in
 * ms_notify_tick() (the daemon runs it on worker 0, whose socket is bound to
 * port 4342); a Map-Notify-Ack received by any worker retires its notify.
 *
 * Threads: ms_new/ms_free/ms_housekeeping on the control thread;
 * ms_thread_new/free and ms_handle_batch on the worker that owns the
 * struct ms_thread (inside one RCU read-side section per batch, as the
 * transports take it); ms_notify_tick on the notifier thread only.
 * Ownership: ms_new takes the configuration snapshot; the struct ms owns
 * the database and the admission table.
 * Errors: LISPMS_ENOMEM, LISPMS_ECONFIG.
 */
#pragma once

#ifndef LISPMS_USES_MS
#error "ms.h: this subsystem does not declare ms as a dependency"
#endif

#include <stdint.h>

#include <lispms/admit.h>
#include <lispms/conf.h>
#include <lispms/db.h>
#include <lispms/dgram.h>

struct ms;
struct ms_thread;
struct ms_session;

#define LISPMS_MS_MAX_WORKERS 64

/* Wakes a worker thread (the daemon passes net_worker_wake). */
typedef void ms_wake_fn(void *arg);

/* A request core for this configuration (ms owns conf from now on). */
struct ms *ms_new(struct conf *conf);
void ms_free(struct ms *ms);

/*
 * Install worker `index`'s wake-up (before workers start): cross-worker work
 * for its sessions is queued to it; worker 0 is also the UDP notifier.
 */
void ms_set_worker(struct ms *ms, unsigned index, ms_wake_fn *wake, void *arg);

struct db *ms_db(struct ms *ms);
struct admit *ms_admit(struct ms *ms);

/* The configuration in force (inside an RCU read-side section). */
const struct conf *ms_conf(struct ms *ms);

/* Per-thread state (HMAC contexts, event lists, sessions) of worker `index`. */
struct ms_thread *ms_thread_new(struct ms *ms, unsigned index);
void ms_thread_free(struct ms_thread *t);

/* A dgram_batch_fn: arg is the worker's struct ms_thread. */
void ms_handle_batch(void *arg, const struct dgram *rx, unsigned n, struct dgram_outbox *out);

/*
 * Worker duty, when woken or due: deliver queued work to this worker's
 * sessions; on worker 0 also send queued unsolicited Map-Notifies,
 * retransmit the unacknowledged ones (3 tries 3 s apart, then 3 with
 * exponential back-off) and retire acknowledged ones. Returns nanoseconds
 * until it wants to run again.
 */
uint64_t ms_tick(struct ms_thread *t, uint64_t now_ns, struct dgram_outbox *out);

/* ---- reliable-transport sessions (run on the worker owning the connection) ---- */

/* How a session writes to and closes its connection: the transport's. */
struct ms_sess_io {
	/* queue bytes; LISPMS_ELIMIT when the output bound is passed (slow reader) */
	int (*write)(void *conn, const uint8_t *buf, size_t len);
	/* close after what is queued went out; the transport then calls ms_session_closed */
	void (*close)(void *conn);
	void *conn;
};

enum ms_close_cause {
	MS_CLOSE_PEER,	   /* the ETR closed */
	MS_CLOSE_TIMEOUT,  /* keepalive or user timeout */
	MS_CLOSE_ERROR,	   /* reset, or the session broke the protocol */
	MS_CLOSE_SLOW,	   /* output bound passed */
	MS_CLOSE_SHUTDOWN, /* lispmsd stops */
};

/*
 * A TCP connection from `peer` reached this worker. Returns its session
 * (after queueing Registration Refresh scope 0), or NULL when peer holds no
 * authenticated r=1 grant: then close it at once, sending nothing (D5).
 */
struct ms_session *ms_session_open(struct ms_thread *t, const struct sockaddr_storage *peer,
				   const struct ms_sess_io *io);

/* Bytes from the connection. LISPMS_EOK, or an error after which the
 * transport closes the connection (what was queued, e.g. an Error
 * Notification, goes out first). */
int ms_session_recv(struct ms_thread *t, struct ms_session *s, const uint8_t *buf, size_t len);

/* The connection is gone: the session's registrations fall back to UDP
 * expiry from now (D7), its grant ends (D5), s is freed. */
void ms_session_closed(struct ms_thread *t, struct ms_session *s, enum ms_close_cause why);

uint64_t ms_session_id(const struct ms_session *s);

/* Sessions this worker carries. */
size_t ms_session_count(const struct ms_thread *t);

/* Send Registration Refresh (scope, where, rejected-only flag) on every session of this worker. */
void ms_session_refresh_all(struct ms_thread *t, uint8_t scope, const struct eid_prefix *where,
			    bool rejected_only);

/* Unsolicited Map-Notifies waiting for an acknowledgement. */
size_t ms_notify_pending(struct ms *ms);

/* Expire registrations and admissions (control thread, about once a second). */
void ms_housekeeping(struct ms *ms, uint64_t now_ns);
