/* SPDX-License-Identifier: MIT */
/*
 * The control socket: its wire protocol and its one command table, shared
 * by the server (src/ctl, inside lispmsd) and the client (lispmsctl), as
 * knot's libknot/control is; and the server's API.
 *
 * Protocol, over a UNIX stream socket: every message is a frame
 *   'L' 'C' type(8) flags(8) length(32, big endian) payload(length)
 * The client sends one REQUEST (payload: the arguments, each ending in a
 * NUL; flags: CTL_FLAG_JSON) and reads DATA frames (output, at most 64 KiB
 * each) until one END frame (payload: status as a big-endian int32, 0 or a
 * negative LISPMS_E* code, then a message). One request per connection.
 * The server renders tables or JSON itself, so the client only relays
 * bytes and any client (a script with socat) gets the same output.
 *
 * Threads: the protocol functions are pure; the server runs on the control
 * thread (ctl_pollfds/ctl_dispatch from its poll loop).
 * Errors: LISPMS_EAGAIN (frame incomplete), LISPMS_EMALFORMED,
 * LISPMS_ETOOMANY, LISPMS_ENOSPC.
 */
#pragma once

#ifndef LISPMS_USES_CTL
#error "ctl.h: this subsystem does not declare ctl as a dependency"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <poll.h>

#define LISPMS_CTL_DEFAULT_SOCKET "/run/lispms/lispms.sock"

#define LISPMS_CTL_HDR	       8
#define LISPMS_CTL_REQUEST_MAX 4096  /* payload of a REQUEST */
#define LISPMS_CTL_ARGS_MAX    32    /* arguments in a REQUEST */
#define LISPMS_CTL_DATA_MAX    65536 /* payload of a DATA or END frame */

enum ctl_frame_type {
	CTL_FRAME_REQUEST = 1,
	CTL_FRAME_DATA = 2,
	CTL_FRAME_END = 3,
};

#define CTL_FLAG_JSON 0x01u /* REQUEST: answer in JSON instead of text tables */

struct ctl_frame {
	enum ctl_frame_type type;
	uint8_t flags;
	uint32_t len;
	const uint8_t *payload; /* len bytes, inside the decoded buffer */
};

/*
 * The frame at the start of buf: LISPMS_EAGAIN when more bytes are needed,
 * LISPMS_EMALFORMED for a bad header or type, or a payload longer than its
 * type allows. *used gets header + payload length on success.
 */
int ctl_frame_decode(const uint8_t *buf, size_t len, struct ctl_frame *out, size_t *used);

/* Write a frame header for a payload of len bytes. */
void ctl_frame_header(uint8_t hdr[LISPMS_CTL_HDR], enum ctl_frame_type type, uint8_t flags,
		      uint32_t len);

struct ctl_request {
	unsigned argc;
	const char *argv[LISPMS_CTL_ARGS_MAX]; /* inside the frame's payload */
	bool json;
};

/*
 * Split a REQUEST frame into its arguments: LISPMS_EMALFORMED unless the
 * payload is NUL-terminated UTF-8-agnostic strings, LISPMS_ETOOMANY past
 * LISPMS_CTL_ARGS_MAX, LISPMS_EINVAL for no argument at all.
 */
int ctl_request_decode(const struct ctl_frame *f, struct ctl_request *out);

/* A whole REQUEST frame; LISPMS_ENOSPC when it does not fit cap or the limits. */
int ctl_request_encode(const char *const *argv, unsigned argc, bool json, uint8_t *buf, size_t cap,
		       size_t *len);

/* An END frame's status and message (not NUL-terminated: msg_len bytes). */
int ctl_end_decode(const struct ctl_frame *f, int *status, const char **msg, size_t *msg_len);

/* ---- the command table ---- */

#define CTL_CMDF_MUTATES  0x1u /* changes the daemon */
#define CTL_CMDF_SESSIONS 0x2u /* needs the reliable transport (ctl_sessions_install) */
#define CTL_CMDF_OPTIONS  0x4u /* takes --options (checked by the server) */

/* X(ID, name, usage, min args, max args, flags, help) */
#define LISPMS_CTL_COMMANDS(X)                                                                 \
	X(STATUS, "status", "", 0, 0, 0,                                                       \
	  "version, uptime, workers, sites, EIDs, admissions, notifies, configuration")        \
	X(STATS, "stats", "[FILTER]", 0, 1, 0,                                                 \
	  "every counter, gauge and histogram of /metrics (names containing FILTER)")          \
	X(SITE_LIST, "site list", "", 0, 0, 0, "sites with their counters and last rejection") \
	X(SITE_SHOW, "site show", "NAME", 1, 1, 0,                                             \
	  "a site's configuration, registrations and recent rejections with reasons")          \
	X(EID_LOOKUP, "eid lookup", "'[IID] EID'", 1, 1, 0,                                    \
	  "what a Map-Request for the EID gets, and why")                                      \
	X(REGISTRATIONS, "registrations", "[--site S] [--iid N] [--limit N]", 0, 6,            \
	  CTL_CMDF_OPTIONS, "registrations, streamed (default limit 1000)")                    \
	X(SESSIONS, "sessions", "[--limit N]", 0, 2, CTL_CMDF_SESSIONS | CTL_CMDF_OPTIONS,     \
	  "reliable-transport sessions: peer, worker, uptime, EIDs, queue, messages, state "   \
	  "(streamed, default limit 1000)")                                                    \
	X(SESSION_DROP, "session drop", "PEER", 1, 1, CTL_CMDF_SESSIONS | CTL_CMDF_MUTATES,    \
	  "close the sessions from PEER (ADDR or ADDR:PORT) as a session loss; "               \
	  "registrations fall back to UDP expiry")                                             \
	X(SUBSCRIPTIONS, "subscriptions", "", 0, 0, 0,                                         \
	  "publish/subscribe subscribers: xTR-ID, prefixes, transport, pending, published, "   \
	  "acked, last error")                                                                 \
	X(SUBSCRIPTION_DROP, "subscription drop", "XTR-ID", 1, 1, CTL_CMDF_MUTATES,            \
	  "forget a subscriber (32 hexadecimal digits); it gets nothing until it subscribes "  \
	  "again")                                                                             \
	X(DDT, "ddt", "", 0, 0, 0,                                                             \
	  "DDT delegation table (the ddt: section): prefix, kind, referral set, TTL")          \
	X(RESOLVER_CACHE, "resolver cache", "", 0, 0, 0,                                       \
	  "referral cache of the resolver (map-resolver:; most recently used first): "         \
	  "prefix, action, TTL, seconds left, referral set")                                   \
	X(RESOLVER_PENDING, "resolver pending", "", 0, 0, 0,                                   \
	  "requests in resolution (map-resolver:): nonce, EID, RLOC asked, depth, tries, "     \
	  "milliseconds left")                                                                 \
	X(RELOAD, "reload", "", 0, 0, CTL_CMDF_MUTATES,                                        \
	  "re-read the configuration file; on any error the running one stays")                \
	X(LOG_LEVEL, "log-level", "[LEVEL]", 0, 1, CTL_CMDF_MUTATES,                           \
	  "show or set the log level (error, warning, notice, info, debug)")                   \
	X(STOP, "stop", "", 0, 0, CTL_CMDF_MUTATES, "stop lispmsd (as SIGTERM does)")

enum ctl_cmd_id {
#define LISPMS_CTL_ENUM(id, name, usage, min, max, flags, help) CTL_CMD_##id,
	LISPMS_CTL_COMMANDS(LISPMS_CTL_ENUM)
#undef LISPMS_CTL_ENUM
	    CTL_CMD__COUNT
};

struct ctl_cmd {
	enum ctl_cmd_id id;
	const char *name;  /* one or two words */
	const char *usage; /* its arguments */
	unsigned min_args, max_args;
	unsigned flags;
	const char *help;
};

extern const struct ctl_cmd ctl_commands[CTL_CMD__COUNT];

/*
 * The command argv starts with, its name matching the first one or two
 * arguments (*words says how many); NULL when none does.
 */
const struct ctl_cmd *ctl_cmd_match(unsigned argc, const char *const *argv, unsigned *words);

/* ---- the server (inside lispmsd) ---- */

struct ms;
struct metrics_info;
struct conf_options;
struct ctl;
struct sbuf;

struct ctl_conf {
	const char *path; /* the socket to create (copied) */
	struct ms *ms;
	const struct metrics_info *metrics;   /* for status and stats; outlives the server */
	const struct conf_options *conf_opts; /* for reload; may be NULL */
};

/*
 * Create the socket (mode 0660; a stale socket file is replaced, a live
 * one is refused). NULL and err on failure.
 */
struct ctl *ctl_new(const struct ctl_conf *conf, char *err, size_t errlen);

/* Close every connection and remove the socket file. */
void ctl_free(struct ctl *ctl);

/* The fds to poll (at most max); lowers *timeout_ms when a deadline or a stream needs it. */
unsigned ctl_pollfds(struct ctl *ctl, struct pollfd *p, unsigned max, int *timeout_ms);

/* Accept, read, run commands and write, after poll() filled p[0..n). */
void ctl_dispatch(struct ctl *ctl, const struct pollfd *p, unsigned n);

/* Bytes rendered and not yet sent, over every connection (bounded per connection). */
size_t ctl_buffered(const struct ctl *ctl);

/* Most fds ctl_pollfds() returns. */
#define LISPMS_CTL_POLLFDS 17

/*
 * A command served by a handler installed on this server rather than by the
 * built-in table (the sessions commands, which need the reliable transport's
 * workers): it writes its output with ctl_reply_* and returns 0 or a
 * negative code (the message says why). Installed before the loop runs.
 */
struct ctl_reply;
typedef int ctl_handler_fn(struct ctl_reply *r, unsigned argc, const char *const *argv, void *arg);
void ctl_set_handler(struct ctl *ctl, enum ctl_cmd_id id, ctl_handler_fn *fn, void *arg);

/*
 * ctl_sessions.c: install `sessions` and `session drop PEER` (CTL_CMDF_SESSIONS)
 * for a daemon whose workers run ms's sessions; without it they answer that
 * the reliable transport is not running.
 */
void ctl_sessions_install(struct ctl *ctl, struct ms *ms);

/*
 * A streamed reply's next step: render more and return 1 (more to come),
 * 0 (done) or a negative code. Runs on the control thread whenever the
 * client has read what was rendered (less than 64 KiB wait), so no step
 * may take long and the output stays bounded however big the table.
 */
typedef int ctl_step_fn(struct ctl_reply *r, void *state);

/*
 * For a handler that streams: it calls this, renders the table header and
 * returns 1; step then runs until it returns 0 or an error. free_fn(state)
 * runs at the end, or when the client goes away first.
 */
void ctl_reply_stream(struct ctl_reply *r, ctl_step_fn *step, void *state,
		      void (*free_fn)(void *state));

/*
 * Rendering, for every handler: text tables (fixed column widths, so rows
 * stream) or JSON, as the request asked. A reply is one object: key-value
 * pairs, nested sections, and tables (a JSON array of objects).
 */
struct ctl_col {
	const char *name; /* header in text, key in JSON */
	unsigned width;	  /* text: padded to this; 0 for the last column */
	bool number;	  /* JSON: the value is a number, not a string */
};

void ctl_out_str(struct ctl_reply *r, const char *key, const char *value);
void ctl_out_u64(struct ctl_reply *r, const char *key, uint64_t value);
void ctl_out_bool(struct ctl_reply *r, const char *key, bool value);
void ctl_out_section(struct ctl_reply *r, const char *key);
void ctl_out_section_end(struct ctl_reply *r);
void ctl_out_table(struct ctl_reply *r, const char *key, const struct ctl_col *cols,
		   unsigned ncols);
void ctl_out_row(struct ctl_reply *r, const char *const *values);
void ctl_out_table_end(struct ctl_reply *r);

/* Whether the client asked for JSON (for what only one of the forms shows). */
bool ctl_reply_json(const struct ctl_reply *r);

/* The END frame's message (stdout for lispmsctl on success, stderr on failure). */
void ctl_reply_message(struct ctl_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
