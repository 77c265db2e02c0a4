/* SPDX-License-Identifier: MIT */
/*
 * Reliable-transport codec (decision D1, docs/protocol.md §3.3-3.4): the framing
 * Type(16) Length(16, whole message) Message-ID(32, iff Length > 8) data
 * End-Marker 0x9FACADE9, the message types 16-21, and a stream reassembler
 * that cuts a TCP byte stream into messages.
 *
 * Every number of the protocol (types, reject reasons, refresh scopes, error
 * codes, the refresh flag) lives in the one table RT_NUMBERS below, so a later
 * draft's numbering is a one-line change (D1, D10).
 *
 * Threads: pure functions; a struct rt_stream belongs to its session's thread.
 * Ownership: decoded messages point into the decoded buffer; the stream
 * reassembler works in the caller's buffer and never allocates.
 * Errors: LISPMS_ETRUNC, LISPMS_ELENGTH (Length < 8, 9..11, above the maximum
 * or not the size of the buffer), LISPMS_EMARKER, LISPMS_ETYPE (a type not in
 * the table), LISPMS_EMALFORMED (a body that does not fit its type), plus the
 * address errors of proto.h; encoders: LISPMS_ENOSPC, LISPMS_EINVAL.
 */
#pragma once

#ifndef LISPMS_USES_PROTO
#error "proto_rt.h: this subsystem does not declare proto as a dependency"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lispms/proto.h>

/* X(kind, name, number, text): the single table of reliable-transport numbers. */
#define RT_NUMBERS(X)                                                                \
	X(TYPE, ERROR_NOTIFICATION, 16, "error notification")                        \
	X(TYPE, REGISTRATION, 17, "registration")                                    \
	X(TYPE, REGISTRATION_ACK, 18, "registration ack")                            \
	X(TYPE, REGISTRATION_REJECT, 19, "registration reject")                      \
	X(TYPE, REGISTRATION_REFRESH, 20, "registration refresh")                    \
	X(TYPE, MAPPING_NOTIFICATION, 21, "mapping notification")                    \
	X(REASON, NOT_SITE_PREFIX, 1, "not a valid site EID prefix")                 \
	X(REASON, AUTH_FAILURE, 2, "authentication failure")                         \
	X(REASON, LOCATOR_SET, 3, "locator set not allowed")                         \
	X(REASON, UNDEFINED, 4, "reason not defined")                                \
	X(SCOPE, ALL, 0, "all prefixes")                                             \
	X(SCOPE, INSTANCE, 1, "all prefixes of an instance")                         \
	X(SCOPE, INSTANCE_AF, 2, "all prefixes of an address family in an instance") \
	X(SCOPE, COVERED, 3, "all prefixes covered by a prefix")                     \
	X(SCOPE, PREFIX, 4, "one prefix")                                            \
	X(ERR, UNKNOWN_TYPE, 1, "unknown message type")                              \
	X(ERR, MALFORMED, 2, "malformed message")                                    \
	X(ERR, BAD_MARKER, 3, "bad end marker")                                      \
	X(ERR, UNEXPECTED, 4, "message unexpected in this state")                    \
	X(ERR, TOO_LARGE, 5, "message too large")                                    \
	X(ERR, RESOURCE, 6, "resource limit reached")                                \
	X(FLAG, REJECTED_ONLY, 0x8000, "rejected only")

enum rt_kind {
	RT_KIND_TYPE,	/* message types */
	RT_KIND_REASON, /* Registration Reject reasons */
	RT_KIND_SCOPE,	/* Registration Refresh scopes */
	RT_KIND_ERR,	/* Error Notification codes */
	RT_KIND_FLAG,	/* Registration Refresh flags */
};

#define RT_ENUM_ENTRY(kind, name, num, text) RT_##kind##_##name = num,
/* RT_TYPE_REGISTRATION = 17, RT_REASON_AUTH_FAILURE = 2, RT_SCOPE_ALL = 0, ... */
enum rt_number { RT_NUMBERS(RT_ENUM_ENTRY) };
#undef RT_ENUM_ENTRY

/* Text of a number of a kind, or NULL when the table does not list it. */
const char *rt_name(enum rt_kind kind, unsigned num);
static inline bool rt_known(enum rt_kind kind, unsigned num)
{
	return rt_name(kind, num) != NULL;
}

#define LISPMS_RT_END_MARKER 0x9FACADE9u
#define LISPMS_RT_MIN_LEN    8	   /* Type, Length, End Marker */
#define LISPMS_RT_HDR_LEN    8	   /* Type, Length, Message ID */
#define LISPMS_RT_MAX_LEN    65535 /* the 16-bit Length */

/* EID-prefix element of ACK, Reject and Refresh: mask-len, AFI, address. */
struct rt_prefix {
	uint8_t plen;
	struct afi_addr eid;
};

/* The framing of one message. */
struct rt_frame {
	uint16_t type;
	uint16_t length; /* whole message, as on the wire */
	uint8_t has_id;	 /* 0 only for the 8-octet form */
	uint32_t id;
	const uint8_t *body; /* between the Message ID and the End Marker */
	size_t body_len;
};

struct rt_error {
	uint8_t code;	   /* RT_ERR_* */
	uint32_t reserved; /* 24 bits */
	uint16_t off_type, off_len;
	uint32_t off_id;
	const uint8_t *data; /* offending data, may be empty */
	size_t data_len;
};

struct rt_reject {
	uint8_t reason; /* RT_REASON_* */
	uint16_t reserved;
	struct rt_prefix eid;
};

struct rt_refresh {
	uint8_t scope;	/* RT_SCOPE_* */
	uint16_t flags; /* RT_FLAG_REJECTED_ONLY and reserved bits */
	uint8_t has_eid;
	struct rt_prefix eid;
};

/* A decoded message; the union member is the one of `type` (nothing when !has_id). */
struct rt_msg {
	uint16_t type;
	uint8_t has_id;
	uint32_t id;
	union {
		struct rt_error error;
		struct {
			const uint8_t *msg; /* 17: a complete Map-Register; 21: a Map-Notify (D3) */
			size_t len;
		} inner;
		struct rt_prefix ack;
		struct rt_reject reject;
		struct rt_refresh refresh;
	} u;
};

/* Framing of exactly one message in buf[0, len): length, marker, ID. */
int rt_frame_decode(const uint8_t *buf, size_t len, struct rt_frame *out);

/* Framing plus the body of a known type. The embedded Map-Register / Map-Notify
 * of types 17 and 21 is not decoded: pass u.inner to map_register_decode() /
 * map_notify_decode(). */
int rt_decode(const uint8_t *buf, size_t len, struct rt_msg *out);

/*
 * Encode one message (has_id = 0 writes the 8-octet form, no body). The
 * Map-Register / Map-Notify of types 17 and 21 may already sit at
 * buf + LISPMS_RT_HDR_LEN (it is moved, not copied, so the caller can encode
 * and sign it in place first).
 */
int rt_encode(const struct rt_msg *m, uint8_t *buf, size_t cap, size_t *len);

/* ------------------------------------------------------ stream reassembly */

/*
 * Cuts a byte stream into messages. Receive into rt_stream_space() and
 * rt_stream_commit() the bytes read (or copy them in with rt_stream_feed()),
 * then call rt_stream_next() until it returns 0. A message returned by
 * rt_stream_next() stays valid until the next rt_stream_space()/feed().
 * Errors are sticky: the stream is out of sync and the session must close
 * (after an Error Notification echoing `bad`).
 */
struct rt_stream {
	uint8_t *buf;
	size_t cap;
	size_t head;	     /* first byte not yet returned */
	size_t tail;	     /* one past the last byte received */
	size_t max_len;	     /* longest message accepted */
	int error;	     /* sticky */
	struct rt_frame bad; /* after an error: type, length (and id when received) */
};

/* buf must hold at least max_len octets; 8 <= max_len <= 65535. */
int rt_stream_init(struct rt_stream *s, uint8_t *buf, size_t cap, size_t max_len);

/* Where the next bytes go and how many fit (0 after an error). */
uint8_t *rt_stream_space(struct rt_stream *s, size_t *avail);
void rt_stream_commit(struct rt_stream *s, size_t n);
/* Copy in up to n bytes; returns how many were taken (call rt_stream_next()
 * to make room when fewer than n). */
size_t rt_stream_feed(struct rt_stream *s, const uint8_t *data, size_t n);

/* 1 and the next message in *msg and *len; 0 when more bytes are needed;
 * LISPMS_ELENGTH or LISPMS_EMARKER when the stream is broken. */
int rt_stream_next(struct rt_stream *s, const uint8_t **msg, size_t *len);
