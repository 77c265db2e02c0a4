/* SPDX-License-Identifier: MIT */
/*
 * The LISP control-plane codec (RFC 9301 messages over UDP, docs/protocol.md §2):
 * Map-Request, Map-Reply, Map-Register, Map-Notify, Map-Notify-Ack, the
 * Map-Referral of LISP-DDT (RFC 8111), ECM and the
 * type-15 Shared Extension Message, their mapping records and locators, the
 * address encodings (plain AFIs, Instance-ID LCAF, other LCAFs kept opaque) and
 * the HMAC authentication of decision D9. The reliable-transport messages are
 * in proto_rt.h.
 *
 * Decoders take the whole message, fill a caller's struct and take the
 * variable-size arrays (records, locators, ITR-RLOCs) from the caller's arena;
 * addresses of opaque LCAFs, authentication data and embedded messages point
 * into the input buffer, which must outlive the decoded struct. Encoders write
 * into a caller's buffer. Every reserved bit a decoder sees is kept, so
 * encode(decode(x)) == x for every message but the ECM (whose inner IP and UDP
 * checksums are recomputed and IPv4 options dropped) and a Map-Notify with
 * bits 4/5 set (accepted when received, refused by the encoder).
 *
 * Threads: pure functions; a struct auth_ctx belongs to one thread, a struct
 * auth_key is read-only after auth_key_init() and may be shared.
 * Ownership: nothing is allocated but from the caller's arena (decoders) and
 * by auth_ctx_new() (once per thread).
 * Errors: LISPMS_ETRUNC (a field runs past the end), LISPMS_ETYPE (not the
 * expected message type), LISPMS_EAFI (unknown AFI), LISPMS_ELCAF (LCAF length
 * inconsistent), LISPMS_ETOOMANY (a count the rest of the message cannot hold,
 * or more items than a count field can carry when encoding), LISPMS_EAUTHLEN,
 * LISPMS_ELENGTH (inner IP/UDP lengths disagree), LISPMS_EMALFORMED (anything
 * else: trailing bytes, zero records in a Map-Request, a mask-len longer than
 * the address, ...), LISPMS_ENOMEM (arena exhausted), LISPMS_ENOSPC (encode
 * buffer too small), LISPMS_EINVAL (inconsistent struct given to an encoder),
 * and from auth_*: LISPMS_ENOKEY, LISPMS_EAUTH, LISPMS_ENOTSUP.
 */
#pragma once

#ifndef LISPMS_USES_PROTO
#error "proto.h: this subsystem does not declare proto as a dependency"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lispms/addr.h>
#include <lispms/arena.h>
#include <lispms/wire.h>

/* LISP packet types (top 4 bits of the first octet, docs/protocol.md §1.1). */
enum lisp_msg_type {
	LISP_MSG_MAP_REQUEST = 1,
	LISP_MSG_MAP_REPLY = 2,
	LISP_MSG_MAP_REGISTER = 3,
	LISP_MSG_MAP_NOTIFY = 4,
	LISP_MSG_MAP_NOTIFY_ACK = 5,
	LISP_MSG_MAP_REFERRAL = 6, /* RFC 8111 §6.4 (LISP-DDT) */
	LISP_MSG_ECM = 8,
	LISP_MSG_SHARED_EXT = 15,
};

/* Limits a count field allows; decoders also bound every count by the bytes left. */
#define LISPMS_MAX_RECORDS   255 /* records per message (8-bit count) */
#define LISPMS_MAX_LOCATORS  255 /* locators per record (8-bit count) */
#define LISPMS_MAX_ITR_RLOCS 32	 /* ITR-RLOCs per Map-Request (IRC + 1) */

/* Flags of word 0, as masks of the first 32-bit word (docs/protocol.md §2). */
#define LISP_MREQ_A	0x08000000u /* authoritative */
#define LISP_MREQ_M	0x04000000u /* a Map-Reply record follows the records */
#define LISP_MREQ_P	0x02000000u /* RLOC-probe */
#define LISP_MREQ_S	0x01000000u /* SMR */
#define LISP_MREQ_PITR	0x00800000u /* p: sent by a PITR */
#define LISP_MREQ_SMRI	0x00400000u /* s: SMR-invoked */
#define LISP_MREQ_I	0x00100000u /* xTR-ID (and site-ID) follow the records (RFC 9437 §4) */
#define LISP_MREQ_L	0x00004000u /* local xTR */
#define LISP_MREQ_D	0x00002000u /* dont-map-reply */
#define LISP_MREQ_FLAGS 0x0FFFE000u /* what `flags` keeps (not type, IRC, count) */

#define LISP_MREP_P	0x08000000u /* probe reply */
#define LISP_MREP_E	0x04000000u /* echo-nonce capable */
#define LISP_MREP_S	0x02000000u /* LISP-SEC */
#define LISP_MREP_FLAGS 0x0FFFFF00u

#define LISP_MREG_P	0x08000000u /* proxy Map-Reply */
#define LISP_MREG_S	0x04000000u /* LISP-SEC capable */
#define LISP_MREG_I	0x02000000u /* xTR-ID and site-ID follow the records */
#define LISP_MREG_r	0x00002000u /* reliable transport (bit 18, D4) */
#define LISP_MREG_E	0x00001000u /* EID-notify */
#define LISP_MREG_T	0x00000800u /* use record TTL for timeout */
#define LISP_MREG_a	0x00000400u /* merge request */
#define LISP_MREG_R	0x00000200u /* reserved in RFC 9301 */
#define LISP_MREG_M	0x00000100u /* want Map-Notify */
#define LISP_MREG_FLAGS 0x0FFFFF00u

#define LISP_MNOT_r	  0x00000100u /* reliable transport offered (bit 23, D4) */
#define LISP_MNOT_WS_BITS 0x0C000000u /* bits 4/5: Wireshark expects trailers; never sent */
#define LISP_MNOT_FLAGS	  0x0FFFFF00u

#define LISP_ECM_S     0x08000000u /* LISP-SEC */
#define LISP_ECM_D     0x04000000u /* DDT-originated */
#define LISP_ECM_E     0x02000000u /* to ETR (forwarded by a Map-Server) */
#define LISP_ECM_M     0x01000000u /* to Map-Server */
#define LISP_ECM_FLAGS 0x0FFFFFFFu

#define LISP_MREF_FLAGS 0x0FFFFF00u /* the reserved bits of a Map-Referral's word 0 */

/* Locator flags (low bits of the locator's 16-bit flags word). */
#define LISP_LOC_L 0x0004u /* local locator */
#define LISP_LOC_P 0x0002u /* probed locator */
#define LISP_LOC_R 0x0001u /* reachable */

/* ACT values of a negative record (IANA "LISP ACT Values"). */
enum lisp_act {
	LISP_ACT_NO_ACTION = 0,
	LISP_ACT_NATIVE_FORWARD = 1,
	LISP_ACT_SEND_MAP_REQUEST = 2,
	LISP_ACT_DROP = 3,
	LISP_ACT_DROP_POLICY = 4,
	LISP_ACT_DROP_AUTH = 5,
};

/* Map-Referral record actions (RFC 8111 §6.4), carried in the record's ACT field. */
enum lisp_ref_act {
	LISP_REF_NODE_REFERRAL = 0,	/* the referral set are DDT nodes */
	LISP_REF_MS_REFERRAL = 1,	/* the referral set are Map-Servers */
	LISP_REF_MS_ACK = 2,		/* a Map-Server took the request */
	LISP_REF_MS_NOT_REGISTERED = 3, /* authoritative Map-Server, EID not registered */
	LISP_REF_DELEGATION_HOLE = 4,	/* inside a delegation, delegated nowhere */
	LISP_REF_NOT_AUTHORITATIVE = 5, /* outside anything this node holds */
};
#define LISP_REF_ACT_MAX 5

/* The I (incomplete) bit of a referral record, the top bit of lisp_record.reserved. */
#define LISP_REF_I 0x0800u

/* Algorithm IDs (D9). */
enum lisp_alg {
	LISP_ALG_NONE = 0,
	LISP_ALG_HMAC_SHA1 = 1,
	LISP_ALG_HMAC_SHA256 = 2,
};

/* LCAF types the codec knows by number (RFC 8060). */
#define LISP_LCAF_IID 2

/* ---------------------------------------------------------------- addresses */

enum afi_kind {
	AFI_PLAIN = 0,	/* afi NONE, IPV4, IPV6 or MAC; bytes hold the address */
	AFI_IID = 1,	/* Instance-ID LCAF around a plain address (afi = inner AFI) */
	AFI_OPAQUE = 2, /* any other LCAF (or an IID LCAF nesting an LCAF), kept as bytes */
};

/* An address as it appears on the wire (EID, locator, ITR-RLOC, source EID). */
struct afi_addr {
	uint8_t kind;	    /* enum afi_kind */
	uint8_t iid_mlen;   /* AFI_IID: IID mask-len (the LCAF Rsvd2 octet) */
	uint8_t lcaf_rsvd1; /* AFI_IID: Rsvd1 and Flags octets as received (sent as given) */
	uint8_t lcaf_flags;
	uint16_t afi; /* plain AFI; for AFI_IID the inner one; LISP_AFI_LCAF if opaque */
	uint32_t iid; /* AFI_IID: Instance ID */
	uint8_t bytes[LISPMS_ADDR_MAX]; /* network order, unused bytes zero */
	uint32_t opaque_len;		/* AFI_OPAQUE: octets after the AFI (6 + LCAF Length) */
	const uint8_t *opaque;		/* AFI_OPAQUE: those octets, borrowed from the input */
};

/* Decode one address at the cursor (sticky error on the cursor, see wire.h). */
void afi_decode(struct wire *w, struct afi_addr *out);
void afi_encode(struct wire *w, const struct afi_addr *a);
/* Octets afi_encode() writes, or 0 if the address cannot be encoded. */
size_t afi_encoded_len(const struct afi_addr *a);
bool afi_equal(const struct afi_addr *a, const struct afi_addr *b);
/* Longest prefix the address can carry in bits (0 for AFI 0; 255 when unbounded). */
static inline unsigned afi_max_plen(const struct afi_addr *a)
{
	return a->kind == AFI_OPAQUE ? 255 : lisp_afi_bits(a->afi);
}

/* The EID prefix of a wire address and a mask-len (D16: plain AFI = instance 0, plain = 1). */
int afi_to_eid(const struct afi_addr *a, uint8_t plen, struct eid_prefix *out);
/* Wire form of an EID: plain AFI when p is plain and in instance 0, else an IID LCAF. */
void afi_from_eid(const struct eid_prefix *p, struct afi_addr *out);
/* Wire form of a plain address (locator, ITR-RLOC). */
void afi_from_addr(const struct lisp_addr *addr, struct afi_addr *out);
/* The plain address of a wire address (AFI_PLAIN only), else LISPMS_EAFI. */
int afi_to_addr(const struct afi_addr *a, struct lisp_addr *out);

/* ------------------------------------------------------- records, locators */

struct lisp_locator {
	uint8_t priority;
	uint8_t weight;
	uint8_t mpriority;
	uint8_t mweight;
	uint16_t flags; /* the whole word: LISP_LOC_L | LISP_LOC_P | LISP_LOC_R and unused bits */
	struct afi_addr addr;
};

/* A mapping record (docs/protocol.md §2.4). */
struct lisp_record {
	uint32_t ttl;	   /* minutes; 0xFFFFFFFF = receiver decides */
	uint8_t act;	   /* 0..7, enum lisp_act */
	uint8_t a;	   /* authoritative bit */
	uint16_t reserved; /* the 12 reserved bits after A */
	uint8_t rsvd;	   /* the 4 bits before the map-version */
	uint16_t version;  /* 12-bit map-version number */
	uint8_t eid_plen;  /* EID mask-len (of the address inside an IID LCAF) */
	struct afi_addr eid;
	uint16_t nlocs; /* at most LISPMS_MAX_LOCATORS */
	struct lisp_locator *locs;
};

/* One record at the cursor; *out is written only on success, the arena is not
 * rolled back (the message decoders do that). */
void record_decode(struct wire *w, struct arena *a, struct lisp_record *out);
void record_encode(struct wire *w, const struct lisp_record *r);
/* The record's EID as a prefix (LISPMS_EAFI for opaque or AFI-0 EIDs). */
int record_eid(const struct lisp_record *r, struct eid_prefix *out);

/* ------------------------------------------------------------- messages */

/* Authentication fields of Map-Register, Map-Notify and Map-Notify-Ack. */
struct lisp_auth {
	uint8_t key_id;
	uint8_t alg_id;	     /* enum lisp_alg */
	uint16_t len;	     /* authentication data octets */
	const uint8_t *data; /* decode: into the message; encode: copied, or NULL = zeros */
	uint32_t rfc_end;    /* decode: end of the last record (RFC coverage, D9) */
};
#define LISPMS_AUTH_OFFSET 16 /* the authentication data always starts here */

/* A Map-Request record: EID prefix requested. */
/* The N bit of a request record's reserved octet: notifications wanted (RFC 9437 §4). */
#define LISP_MREQ_REC_N 0x80u

struct lisp_request_record {
	uint8_t reserved; /* LISP_MREQ_REC_N and 7 reserved bits */
	uint8_t eid_plen;
	struct afi_addr eid;
};

struct lisp_map_request {
	uint32_t flags; /* LISP_MREQ_* within LISP_MREQ_FLAGS; M means map_reply is present */
	uint64_t nonce;
	struct afi_addr source_eid; /* afi LISP_AFI_NONE when absent */
	uint16_t nitr;		    /* 1..LISPMS_MAX_ITR_RLOCS */
	struct afi_addr *itr_rlocs;
	uint16_t nrecords; /* 1..LISPMS_MAX_RECORDS */
	struct lisp_request_record *records;
	struct lisp_record map_reply; /* when flags & LISP_MREQ_M */
	/*
	 * When flags & LISP_MREQ_I, the 128-bit xTR-ID after the records (and
	 * the Map-Reply record), then the 64-bit site-ID when has_site_id:
	 * RFC 9437 §4 has both; lispers.net sends the xTR-ID alone.
	 */
	uint8_t xtr_id[16];
	bool has_site_id;
	uint64_t site_id;
};

struct lisp_map_reply {
	uint32_t flags; /* LISP_MREP_* within LISP_MREP_FLAGS */
	uint64_t nonce;
	uint16_t nrecords;
	struct lisp_record *records;
};

struct lisp_map_register {
	uint32_t flags; /* LISP_MREG_* within LISP_MREG_FLAGS; I means the trailer is present */
	uint64_t nonce;
	struct lisp_auth auth;
	uint16_t nrecords;
	struct lisp_record *records;
	uint8_t xtr_id[16]; /* when flags & LISP_MREG_I */
	uint64_t site_id;
};

/* Map-Notify (type 4) and Map-Notify-Ack (type 5) share one layout. */
struct lisp_map_notify {
	uint8_t type;	/* LISP_MSG_MAP_NOTIFY or LISP_MSG_MAP_NOTIFY_ACK */
	uint32_t flags; /* within LISP_MNOT_FLAGS; LISP_MNOT_WS_BITS are refused by the encoder */
	uint64_t nonce;
	struct lisp_auth auth;
	uint16_t nrecords;
	struct lisp_record *records;
};

/* Encapsulated Control Message: outer header, inner IPv4/IPv6 + UDP, inner message. */
struct lisp_ecm {
	uint32_t flags;	     /* LISP_ECM_* within LISP_ECM_FLAGS */
	uint8_t ip_version;  /* 4 or 6 */
	uint8_t tos;	     /* IPv4 TOS / IPv6 traffic class */
	uint8_t ttl;	     /* IPv4 TTL / IPv6 hop limit */
	uint8_t ip_df;	     /* IPv4 don't-fragment bit */
	uint16_t ip_id;	     /* IPv4 identification */
	uint32_t flow_label; /* IPv6 flow label (20 bits) */
	struct lisp_addr src, dst;
	uint16_t sport, dport;
	const uint8_t *inner; /* the inner LISP message (decode: into the input) */
	size_t inner_len;
};

/*
 * Map-Referral (type 6, RFC 8111 §6.4). Its records are mapping records
 * (record_decode) whose locators are the referral set, with the DDT meanings:
 * r.act is an enum lisp_ref_act, r.reserved holds LISP_REF_I and 11 reserved
 * bits, r.rsvd is the SigCnt (0..15) and sigs[] the signature sections that
 * follow the referral set (RFC 8111 §6.4.1), their signature bytes borrowed
 * from the input.
 */
struct lisp_ref_sig {
	uint32_t orig_ttl;   /* Original Record TTL */
	uint32_t expiration; /* seconds since the epoch */
	uint32_t inception;
	uint16_t key_tag;
	uint8_t alg;	     /* Sig-Algorithm */
	uint8_t rsvd8;	     /* the reserved octet after it */
	uint16_t rsvd16;     /* the reserved 16 bits after that */
	uint16_t len;	     /* Sig Length: octets of data */
	const uint8_t *data; /* decode: into the input */
	const uint8_t *hdr;  /* decode: its LISP_REF_SIG_MIN_LEN header octets, in the input */
};
#define LISP_REF_SIG_MIN_LEN 20 /* a signature section without its signature */
#define LISP_REF_MAX_SIGS    15 /* the 4-bit SigCnt */

struct lisp_referral_record {
	struct lisp_record r;	   /* r.rsvd == number of sigs */
	struct lisp_ref_sig *sigs; /* r.rsvd entries; NULL when none */
	const uint8_t *wire;	   /* decode: the record in the input, Record TTL to */
	size_t wire_len;	   /* the last referral (what its signatures cover) */
};

struct lisp_map_referral {
	uint32_t flags; /* reserved bits within LISP_MREF_FLAGS, kept */
	uint64_t nonce; /* the DDT Map-Request's */
	uint16_t nrecords;
	struct lisp_referral_record *records;
};

/* Shared Extension Message (type 15, RFC 9304). */
struct lisp_shared_ext {
	uint16_t subtype;    /* 12 bits */
	const uint8_t *data; /* everything after the 16-bit type/sub-type */
	size_t len;
};

/* Any message, by type. */
struct lisp_msg {
	uint8_t type; /* enum lisp_msg_type */
	union {
		struct lisp_map_request request;
		struct lisp_map_reply reply;
		struct lisp_map_register reg;
		struct lisp_map_notify notify; /* types 4 and 5 */
		struct lisp_map_referral referral;
		struct lisp_ecm ecm;
		struct lisp_shared_ext ext;
	} u;
};

/* Message type of a buffer (>= 0), or LISPMS_ETRUNC when it is empty. */
int msg_type(const uint8_t *buf, size_t len);

/*
 * Decoders: `buf` holds exactly one message. On success return LISPMS_EOK and
 * fill *out; on failure *out is untouched and the arena is rolled back.
 * Encoders write the message to buf and its length to *len.
 */
int msg_decode(const uint8_t *buf, size_t len, struct arena *a, struct lisp_msg *out);
int msg_encode(const struct lisp_msg *m, uint8_t *buf, size_t cap, size_t *len);

int map_request_decode(const uint8_t *buf, size_t len, struct arena *a,
		       struct lisp_map_request *out);
int map_request_encode(const struct lisp_map_request *m, uint8_t *buf, size_t cap, size_t *len);
/*
 * Where a Map-Reply to `req` goes: the first plain IPv4/IPv6 ITR-RLOC of the
 * address family `family` (AF_INET or AF_INET6: the sender's), else the first
 * plain IPv4/IPv6 one of either family. False when there is none.
 */
bool map_request_itr_target(const struct lisp_map_request *req, int family, struct lisp_addr *out);

int map_reply_decode(const uint8_t *buf, size_t len, struct arena *a, struct lisp_map_reply *out);
int map_reply_encode(const struct lisp_map_reply *m, uint8_t *buf, size_t cap, size_t *len);

int map_register_decode(const uint8_t *buf, size_t len, struct arena *a,
			struct lisp_map_register *out);
int map_register_encode(const struct lisp_map_register *m, uint8_t *buf, size_t cap, size_t *len);

/* Types 4 and 5; decode refuses any other type with LISPMS_ETYPE. */
int map_notify_decode(const uint8_t *buf, size_t len, struct arena *a, struct lisp_map_notify *out);
int map_notify_encode(const struct lisp_map_notify *m, uint8_t *buf, size_t cap, size_t *len);
/*
 * map_notify_encode() with the records already encoded: records_len octets
 * of m->nrecords records as a decoded message carried them (m->records is
 * not read). A decoded message re-encodes byte for byte (the fuzz oracles
 * check it), so for a Map-Register's own records this writes what
 * map_notify_encode() writes from their decoded form, without encoding them.
 */
int map_notify_encode_wire(const struct lisp_map_notify *m, const uint8_t *records,
			   size_t records_len, uint8_t *buf, size_t cap, size_t *len);

int map_referral_decode(const uint8_t *buf, size_t len, struct arena *a,
			struct lisp_map_referral *out);
int map_referral_encode(const struct lisp_map_referral *m, uint8_t *buf, size_t cap, size_t *len);
/* The referral action's name (RFC 8111 spelling), "?" when out of range. */
const char *lisp_ref_act_name(unsigned act);

/*
 * Signed Map-Referral records (RFC 8111 §6.4.1 and §7; what is signed and
 * how keys are chosen: docs/protocol.md D24). Sig-Algorithm 1, RSA-SHA256:
 * RSASSA-PKCS1-v1_5 with SHA-256 over the record as sent, Record TTL set to
 * zero, followed by the signature section's LISP_REF_SIG_MIN_LEN header
 * (the Signature itself left out). Key tag: the first two octets of
 * SHA-256 over the key's DER SubjectPublicKeyInfo. RSA keys of 2048 to
 * 4096 bits. A struct referral_key is immutable once parsed: any thread may
 * sign or verify with it at once.
 */
#define LISP_REF_SIG_RSA_SHA256 1
#define LISP_REF_KEY_MIN_BITS	2048
#define LISP_REF_KEY_MAX_BITS	4096
#define LISP_REF_MAX_KEYS	16 /* public keys read from one PEM bundle */

struct referral_key;

/*
 * Parse PEM text: want_private: exactly one RSA private key (unencrypted);
 * else one to `max` RSA public keys ("PUBLIC KEY" blocks; a private key
 * stands for its public half). On error returns LISPMS_EINVAL with *why a
 * static sentence; LISPMS_ENOMEM.
 */
int referral_key_parse(const char *pem, size_t len, bool want_private, struct referral_key **keys,
		       size_t max, size_t *n, const char **why);
void referral_key_free(struct referral_key *k);
uint16_t referral_key_tag(const struct referral_key *k);
size_t referral_key_sig_len(const struct referral_key *k); /* octets of its signatures */

/* Sign (private key) the record rec[0..rec_len) under the signature section header hdr into
 * sig (cap >= referral_key_sig_len). LISPMS_EINVAL when the key cannot sign. */
int referral_sig_sign(const struct referral_key *k, const uint8_t *rec, size_t rec_len,
		      const uint8_t hdr[LISP_REF_SIG_MIN_LEN], uint8_t *sig, size_t cap);
/* LISPMS_EOK when s is k's signature of the record (s from map_referral_decode). */
int referral_sig_verify(const struct referral_key *k, const struct lisp_referral_record *rr,
			const struct lisp_ref_sig *s);

/*
 * Sign an encoded Map-Referral of one record whose one signature section
 * ends the message: its header already filled (Sig Length =
 * referral_key_sig_len(k)), its Signature octets to be written.
 */
int map_referral_sign_single(const struct referral_key *k, uint8_t *buf, size_t len);

/* The inner message is not decoded: pass out->inner to msg_decode(). */
int ecm_decode(const uint8_t *buf, size_t len, struct lisp_ecm *out);
int ecm_encode(const struct lisp_ecm *e, uint8_t *buf, size_t cap, size_t *len);

int shared_ext_decode(const uint8_t *buf, size_t len, struct lisp_shared_ext *out);
int shared_ext_encode(const struct lisp_shared_ext *m, uint8_t *buf, size_t cap, size_t *len);

/* -------------------------------------------------------- authentication */

#define LISPMS_AUTH_BLOCK   64 /* HMAC block size of SHA-1 and SHA-256 */
#define LISPMS_AUTH_MAX_LEN 32 /* longest authentication data (HMAC-SHA-256) */

/*
 * A shared key, precomputed for HMAC: key ^ ipad and key ^ opad (keys longer
 * than a block are hashed first). Plain data: copy it, share it read-only
 * between threads, wipe it with auth_key_clear().
 */
struct auth_key {
	uint8_t key_id;
	uint8_t alg_id; /* LISP_ALG_HMAC_SHA1 or LISP_ALG_HMAC_SHA256 */
	uint8_t ipad[LISPMS_AUTH_BLOCK];
	uint8_t opad[LISPMS_AUTH_BLOCK];
	/*
	 * The digest states after one block of key ^ ipad and of key ^ opad,
	 * what the multi-buffer engine (auth_batch_*) starts from; all zero in
	 * a build without it.
	 */
	_Alignas(16) uint8_t istate[LISPMS_AUTH_MAX_LEN];
	_Alignas(16) uint8_t ostate[LISPMS_AUTH_MAX_LEN];
};

/* LISPMS_EINVAL for algorithm 0 or an unknown one. */
int auth_key_init(struct auth_key *k, uint8_t key_id, uint8_t alg_id, const void *secret,
		  size_t len);
void auth_key_clear(struct auth_key *k);

/* True when `len` octets of authentication data are accepted for `alg` (D9). */
bool auth_len_ok(uint8_t alg, uint16_t len);
/* Octets an algorithm's full HMAC has (20, 32), 0 for others: what we send. */
unsigned auth_alg_len(uint8_t alg);

/* Per-thread hashing state: allocated once, reused for every message. */
struct auth_ctx;
struct auth_ctx *auth_ctx_new(void); /* NULL when OpenSSL lacks SHA-1/SHA-256 */
void auth_ctx_free(struct auth_ctx *c);

/*
 * Verify a decoded message's authentication data (`a` from the decoded
 * struct, `msg`/`len` the message it was decoded from). The key is the one
 * of `keys` with a's Key ID and algorithm. Coverage: the whole message with
 * the authentication data zeroed; if that does not match and the message has
 * a trailer after the records (Map-Register with I=1), the RFC reading up to
 * the end of the last record. The message is not copied or modified.
 * Errors: LISPMS_EAUTH (mismatch, or algorithm 0), LISPMS_ENOKEY,
 * LISPMS_EAUTHLEN, LISPMS_EINVAL (a does not fit msg).
 */
int auth_verify(struct auth_ctx *c, const struct auth_key *keys, size_t nkeys, const uint8_t *msg,
		size_t len, const struct lisp_auth *a);

/*
 * Sign an encoded Map-Register/Map-Notify/Map-Notify-Ack in place: the Key ID,
 * algorithm and length fields must already name `k` (the encoder wrote them);
 * the authentication data is computed over the whole message and written.
 */
int auth_sign(struct auth_ctx *c, const struct auth_key *k, uint8_t *msg, size_t len);

/* Plain HMAC of `len` bytes with `k` into out (auth_alg_len() octets). */
int auth_hmac(struct auth_ctx *c, const struct auth_key *k, const uint8_t *msg, size_t len,
	      uint8_t *out);

/*
 * Batches (auth_mb.c): the same results as auth_verify() and auth_sign() on
 * each element, computed in one multi-buffer submission per algorithm when
 * the build has Intel's multi-buffer library (meson feature ipsec_mb) and
 * the context uses it, else one message at a time. Per element: the input,
 * and `ret`, the code auth_verify() / auth_sign() would return.
 */
struct auth_vjob {
	const struct auth_key *keys; /* the candidate keys, as for auth_verify() */
	size_t nkeys;
	const uint8_t *msg;
	size_t len;
	const struct lisp_auth *auth;
	/*
	 * msg is the caller's own writable memory (a DPDK mbuf, a worker's
	 * receive buffer): the engine zeroes the authentication data in place
	 * for the hash instead of copying the message, and puts the octets back
	 * before auth_batch_verify() returns. false: msg is never written.
	 */
	bool in_place;
	const struct auth_key *key; /* out: the key that verified it, NULL: none */
	int ret;		    /* out */
};

struct auth_sjob {
	const struct auth_key *key;
	uint8_t *msg;
	size_t len;
	int ret; /* out */
};

void auth_batch_verify(struct auth_ctx *c, struct auth_vjob *v, size_t n);
void auth_batch_sign(struct auth_ctx *c, struct auth_sjob *s, size_t n);

/*
 * Whether c's batches use the multi-buffer engine: on by default when the
 * build and the CPU have it. auth_ctx_use_mb(c, false) gives the OpenSSL
 * path (tests compare the two); returns what is now in use.
 */
bool auth_ctx_use_mb(struct auth_ctx *c, bool on);
bool auth_ctx_mb(const struct auth_ctx *c);
/*
 * The smallest batch worth batching: 1 where the engine hashes with SHA-NI
 * (it beats OpenSSL even for one message), 8 where it needs its SIMD lanes
 * filled (smaller batches of an algorithm go one by one anyway), 2 with
 * OpenSSL alone (no gain, no loss: the stage keeps one code path).
 */
unsigned auth_ctx_batch_min(const struct auth_ctx *c);
