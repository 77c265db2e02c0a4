/* SPDX-License-Identifier: MIT */
/*
 * The request core of the Map-Server (RFC 9301 plus docs/protocol.md): decoded
 * Map-Registers update the mapping database, Map-Requests are answered from
 * it, mapping changes become Map-Notifies. It never touches a socket: every
 * transport (kernel UDP workers, DPDK lcores, tests) hands it batches of
 * datagrams through ms_handle_batch() and sends the outbox it fills.
 *
 * Unsolicited Map-Notifies (mobility, merge; D12, D13) are queued by any
 * thread and sent, retransmitted and retired by worker 0 in ms_tick();
 * publications to subscribers (RFC 9437, D20, ms_pubsub.h) the same way by
 * the worker each subscriber's id picks; a Map-Notify-Ack received by any
 * worker retires its notify.
 *
 * A reload (ms_reload, ms_reload_file) publishes a new configuration with
 * RCU, keeps every registration the new one still allows and removes the
 * UDP ones it no longer does; the sessions get a Registration Reject for
 * each session-bound one and scoped refreshes (docs/protocol.md D8).
 *
 * Threads: ms_new/ms_free/ms_housekeeping/ms_reload* on the control thread;
 * ms_thread_new/free, ms_handle_batch and ms_tick on the worker that owns
 * the struct ms_thread (inside one RCU read-side section per batch, as the
 * transports take it).
 * Ownership: ms_new takes the configuration snapshot; the struct ms owns
 * the database and the admission table.
 * Errors: LISPMS_ENOMEM, LISPMS_ECONFIG.
 */
#pragma once

#ifndef LISPMS_USES_MS
#error "ms.h: this subsystem does not declare ms as a dependency"
#endif

#include <stdint.h>

#include <sys/socket.h>

#include <lispms/admit.h>
#include <lispms/conf.h>
#include <lispms/counters.h>
#include <lispms/db.h>
#include <lispms/dgram.h>
#include <lispms/stream.h>

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
 * for its sessions and unsolicited Map-Notifies are queued to it.
 */
void ms_set_worker(struct ms *ms, unsigned index, ms_wake_fn *wake, void *arg);

struct db *ms_db(struct ms *ms);
struct admit *ms_admit(struct ms *ms);

/* The configuration in force (inside an RCU read-side section). */
const struct conf *ms_conf(struct ms *ms);

/* Per-thread state (HMAC contexts, event lists, sessions) of worker `index`. */
struct ms_thread *ms_thread_new(struct ms *ms, unsigned index);
void ms_thread_free(struct ms_thread *t);
/*
 * The transport owns the memory of the datagrams it hands t (DPDK mbufs,
 * a worker's receive buffers) and lets the batch write it during
 * ms_handle_batch(): the authentication stage then zeroes a Map-Register's
 * authentication data in place for the hash and restores it, instead of
 * copying the message (auth_vjob.in_place). Off by default: data stays
 * untouched, as struct dgram's const says.
 */
void ms_thread_rx_writable(struct ms_thread *t, bool on);

/* A dgram_batch_fn: arg is the worker's struct ms_thread. */
void ms_handle_batch(void *arg, const struct dgram *rx, unsigned n, struct dgram_outbox *out);

/*
 * Worker duty, when woken or due: deliver queued work to this worker's
 * sessions; send the unsolicited Map-Notifies queued to this worker,
 * retransmit the unacknowledged ones (3 tries 3 s apart, then 3 with
 * exponential back-off) and retire acknowledged ones. Returns nanoseconds
 * until it wants to run again.
 */
uint64_t ms_tick(struct ms_thread *t, uint64_t now_ns, struct dgram_outbox *out);

/* ---- reliable-transport sessions (run on the worker owning the connection) ---- */

/*
 * The request core as every stream transport sees it (stream.h): the
 * daemon hands it, with the worker's struct ms_thread as its argument, to
 * each transport (TCP, TLS, QUIC, ...). The functions below are the same
 * calls, for tests that drive a session without a transport.
 */
extern const struct stream_handler ms_stream_handler;

/*
 * A stream connection (TCP, TLS, QUIC, ...: c->transport) from `peer`
 * reached this worker. Returns its session
 * (after queueing Registration Refresh scope 0), or NULL when peer holds no
 * authenticated r=1 grant: then close it at once, sending nothing (D5).
 */
struct ms_session *ms_session_open(struct ms_thread *t, const struct sockaddr_storage *peer,
				   struct stream_conn *c);

/* Bytes from the connection. LISPMS_EOK, or an error after which the
 * transport closes the connection (what was queued, e.g. an Error
 * Notification, goes out first). */
int ms_session_recv(struct ms_thread *t, struct ms_session *s, const uint8_t *buf, size_t len);

/* The connection is gone: the session's registrations fall back to UDP
 * expiry from now (D7), its grant ends (D5), s is freed. */
void ms_session_closed(struct ms_thread *t, struct ms_session *s, enum stream_close_cause why);

uint64_t ms_session_id(const struct ms_session *s);

/* Sessions this worker carries. */
size_t ms_session_count(const struct ms_thread *t);

/* ---- sessions for operators (lispmsctl sessions, session drop) ---- */

enum ms_session_state {
	MS_SESS_STATE_UP,	 /* idle between messages */
	MS_SESS_STATE_RECEIVING, /* a message has partly arrived */
	MS_SESS_STATE_CLOSING,	 /* failed, dropped or closing: its transport closes it */
};

const char *ms_session_state_name(enum ms_session_state s);

/* One session as its worker saw it when asked. */
struct ms_session_info {
	uint64_t id; /* its worker's number + 1 in the top 16 bits */
	unsigned worker;
	struct sockaddr_storage peer;
	enum stream_transport transport; /* what carries it */
	uint64_t uptime_ns;
	size_t eids;		  /* registrations bound to it (db_session_regs) */
	size_t queued;		  /* output bytes waiting for the socket */
	uint64_t rx, tx;	  /* messages received and sent */
	uint64_t acked, rejected; /* registration records answered */
	enum ms_session_state state;
};

/* Most sessions one ms_sessions_list() call returns. */
#define LISPMS_MS_LIST_MAX 1024

/*
 * Up to max (<= LISPMS_MS_LIST_MAX) sessions of worker `worker` with an id
 * above `after` (0: from its first), oldest first, into out; *n gets how
 * many. The request goes through the worker's queue and the worker fills
 * the snapshot between two rounds of events; no other thread ever touches
 * its sessions. Waits at most timeout_ms: LISPMS_ETIMEDOUT then (the late
 * answer is discarded safely); LISPMS_ENOENT when there is no such worker.
 * Control thread, outside any read-side section (it goes offline to wait).
 */
int ms_sessions_list(struct ms *ms, unsigned worker, uint64_t after, struct ms_session_info *out,
		     size_t max, size_t *n, unsigned timeout_ms);

/*
 * Close the sessions from peer (its port too unless any_port) on every
 * worker, as a session loss: registrations fall back to UDP expiry (D7),
 * the grant ends (D5), counted with cause "operator". *dropped gets how
 * many were found. LISPMS_ETIMEDOUT when a worker did not answer in time
 * (it still drops them when it gets to it). Same thread rules.
 */
int ms_sessions_drop(struct ms *ms, const struct sockaddr_storage *peer, bool any_port,
		     size_t *dropped, unsigned timeout_ms);

/* Unsolicited Map-Notifies waiting for an acknowledgement. */
size_t ms_notify_pending(struct ms *ms);

/* Expire registrations and admissions (control thread, about once a second). */
void ms_housekeeping(struct ms *ms, uint64_t now_ns);

/* What a Map-Request gets (docs/protocol.md §2.7). */
enum ms_answer {
	MS_ANSWER_PROXY,	  /* registered, P bit or proxy-reply site: Map-Reply */
	MS_ANSWER_FORWARD,	  /* registered: the request goes on to an ETR */
	MS_ANSWER_NEG_CONFIGURED, /* configured, not registered: negative, TTL 1 min */
	MS_ANSWER_NEG_UNKNOWN,	  /* in no configured prefix: negative, TTL 15 min */
};

struct ms_lookup {
	enum ms_answer answer;
	struct eid_prefix prefix;      /* registered prefix matched, or the negative reply's */
	uint32_t ttl;		       /* minutes: the record's, or the negative TTL */
	const struct db_mapping *map;  /* PROXY and FORWARD */
	const struct db_locator *rloc; /* FORWARD: where it goes; NULL: no usable locator */
	const char *site;	       /* the owning site, NULL when none */
	bool proxy_by_site;	       /* PROXY because of the site's proxy-reply, not the P bit */
	bool configured;	       /* some configured prefix covers the EID */
	struct eid_prefix site_prefix; /* the most specific one */
};

/*
 * What a Map-Request for eid (an address or a prefix) would get now, and
 * why: the request core's own decision, without sending anything. Inside
 * an RCU read-side section; the pointers in *out live until it ends.
 */
void ms_lookup(struct ms *ms, const struct eid_prefix *eid, struct ms_lookup *out);

/* ---- operations: sites, their counters and recent rejections ---- */

struct ms_site_info {
	const struct conf_site *conf; /* in the snapshot in force */
	unsigned num;		      /* its per-site counters: counters_site_sum(num, ...) */
	const void *id;		      /* what db_mapping.site holds for its registrations */
};

/* Site i (< conf_site_count(ms_conf(ms))) in force; inside an RCU read-side section. */
void ms_site_at(struct ms *ms, size_t i, struct ms_site_info *out);

/* The site in force with this name; false when there is none. Same section rules. */
bool ms_site_find(struct ms *ms, const char *name, struct ms_site_info *out);

/* Name of the site a db_mapping.site points to (valid as long as the ms). */
const char *ms_site_name(const void *site);

/* One refused Map-Register record (or message, for authentication failures). */
struct ms_rejection {
	uint64_t time_ns;	    /* CLOCK_REALTIME */
	enum site_metric_id reason; /* LISPMS_S_REJ_* */
	uint8_t key_id;		    /* Key ID the message was signed with */
	uint8_t alg_id;		    /* and its algorithm ID (1 SHA-1, 2 SHA-256) */
	bool has_eid;		    /* false when the record could not be decoded */
	struct eid_prefix eid;	    /* the record's EID (the first one for HMAC failures) */
	struct sockaddr_storage src;
	struct lisp_addr rloc; /* locator_not_allowed: the locator refused */
};

/*
 * The most recent rejections of a site (up to 16 are kept, written by the
 * workers without locks), newest first; returns how many were copied.
 * site is an ms_site_info.id. Any thread.
 */
size_t ms_site_rejections(const void *site, struct ms_rejection *out, size_t max);

/* ---- live reload ---- */

/*
 * What the daemon does on a reload; every callback runs on the control
 * thread. What a reload means for the reliable-transport sessions (Rejects
 * and Refreshes, D8) ms does itself.
 */
struct ms_reload_hooks {
	/*
	 * After the new configuration is in force on every worker; old and new
	 * are both valid during the call (e.g. to conf_diff them).
	 */
	void (*applied)(void *arg, const struct conf *old, const struct conf *new);
	void *arg;
	/*
	 * Optional, before the new configuration is published: get ready for
	 * what it will offer (open listeners). Non-zero refuses the reload, the
	 * running configuration stays, `err` says why; it must leave nothing
	 * behind.
	 */
	int (*prepare)(void *arg, const struct conf *old, const struct conf *new, char *err,
		       size_t errlen);
};

/* Set the hooks (before workers start); one set, LISPMS_ELIMIT when already set. */
int ms_reload_set_hooks(struct ms *ms, const struct ms_reload_hooks *hooks);

/*
 * Put `new` in force (ms owns it from now on, in every case): publish it,
 * wait until every worker uses it (a grace period), run the hooks, then
 * re-check the registrations a change can affect (sites removed or changed,
 * prefixes added anywhere) and remove the UDP ones that are no longer
 * allowed. Registrations still allowed are never touched. `msg` gets a
 * one-line summary (and the settings that need a restart). Control thread,
 * outside any read-side section. LISPMS_ENOMEM leaves the old one in force.
 */
int ms_reload(struct ms *ms, struct conf *new, char *msg, size_t len);

/*
 * Load `path`, and ms_reload() it when it is valid. On any error the
 * running configuration stays; `msg` and the log say why (file, line, key).
 */
int ms_reload_file(struct ms *ms, const char *path, const struct conf_options *opts, char *msg,
		   size_t len);

struct ms_reload_status {
	uint64_t generation;   /* 1 at start, one more per reload put in force */
	bool last_ok;	       /* the last attempt worked (true before any) */
	uint64_t started_ns;   /* CLOCK_REALTIME of ms_new */
	uint64_t last_ns;      /* CLOCK_REALTIME of the last attempt, 0 before any */
	size_t last_withdrawn; /* registrations removed by the last reload */
	char last_msg[512];    /* what the last attempt said */
};

/* Control thread. */
void ms_reload_status_get(struct ms *ms, struct ms_reload_status *out);
