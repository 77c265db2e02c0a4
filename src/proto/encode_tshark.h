/* SPDX-License-Identifier: MIT */
/*
 * The encoder checked by tshark (encode_tshark_check.c): what both halves
 * share. encode_tshark_frames.c encodes every kind of message the server
 * emits into a pcap and notes, per frame, the field values tshark must
 * read; encode_tshark_check.c has tshark read them and compares.
 */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <lispms/err.h>
#include <lispms/proto.h>
#include <lispms/proto_rt.h>

#include "hex.h"
#include "pcap.h"
#include "tap.h"

/* Every field compared, in one table. */
#define FIELDS(X)                                                              \
	X(TYPE, "lisp.type")                                                   \
	X(NONCE, "lisp.nonce")                                                 \
	X(RECORDS, "lisp.records")                                             \
	X(KEYID, "lisp.keyid")                                                 \
	X(AUTHLEN, "lisp.authlen")                                             \
	X(AUTH, "lisp.auth")                                                   \
	X(XTRID, "lisp.xtrid")                                                 \
	X(SITEID, "lisp.siteid")                                               \
	X(IRC, "lisp.irc")                                                     \
	X(MREQ_A, "lisp.mreq.flags.auth")                                      \
	X(MREQ_M, "lisp.mreq.flags.mrp")                                       \
	X(MREQ_P, "lisp.mreq.flags.probe")                                     \
	X(MREQ_S, "lisp.mreq.flags.smr")                                       \
	X(MREQ_PITR, "lisp.mreq.flags.pitr")                                   \
	X(MREQ_SMRI, "lisp.mreq.flags.smri")                                   \
	X(MREQ_RES, "lisp.mreq.res")                                           \
	X(MREQ_SRC_AFI, "lisp.mreq.srceid.afi")                                \
	X(MREQ_SRC_V4, "lisp.mreq.srceid.ipv4")                                \
	X(MREQ_ITR_AFI, "lisp.mreq.itr_rloc.afi")                              \
	X(MREQ_ITR_V4, "lisp.mreq.itr_rloc_ipv4")                              \
	X(MREQ_ITR_V6, "lisp.mreq.itr_rloc_ipv6")                              \
	X(MREQ_PLEN, "lisp.mreq.record.prefix.length")                         \
	X(MREQ_PAFI, "lisp.mreq.record.prefix.afi")                            \
	X(MREP_P, "lisp.mrep.flags.probe")                                     \
	X(MREP_E, "lisp.mrep.flags.enlr")                                      \
	X(MREP_S, "lisp.mrep.flags.sec")                                       \
	X(MREG_P, "lisp.mreg.flags.pmr")                                       \
	X(MREG_S, "lisp.mreg.flags.sec")                                       \
	X(MREG_I, "lisp.mreg.flags.xtrid")                                     \
	X(MREG_M, "lisp.mreg.flags.wmn")                                       \
	X(MREG_RES, "lisp.mreg.res")                                           \
	X(MNOT_I, "lisp.mnot.flags.xtrid")                                     \
	X(MNOT_R, "lisp.mnot.flags.rtr")                                       \
	X(MNOT_RES, "lisp.mnot.res")                                           \
	X(ECM_S, "lisp.ecm.flags.sec")                                         \
	X(ECM_D, "lisp.ecm.flags.ddt")                                         \
	X(ECM_RES, "lisp.ecm.res")                                             \
	X(MREF_RES, "lisp.mref.res")                                           \
	X(REF_I, "lisp.referral.incomplete")                                   \
	X(REF_SIGCNT, "lisp.referral.sigcnt")                                  \
	X(TTL, "lisp.mapping.ttl")                                             \
	X(LOCCNT, "lisp.mapping.loccnt")                                       \
	X(MASKLEN, "lisp.mapping.eid.masklen")                                 \
	X(ACT, "lisp.mapping.act")                                             \
	X(A, "lisp.mapping.auth")                                              \
	X(VER, "lisp.mapping.ver")                                             \
	X(EID_AFI, "lisp.mapping.eid.afi")                                     \
	X(EID_V4, "lisp.mapping.eid.ipv4")                                     \
	X(LOC_PRI, "lisp.loc.priority")                                        \
	X(LOC_W, "lisp.loc.weight")                                            \
	X(LOC_MPRI, "lisp.loc.multicast_priority")                             \
	X(LOC_MW, "lisp.loc.multicast_weight")                                 \
	X(LOC_L, "lisp.loc.flags.local")                                       \
	X(LOC_P, "lisp.loc.flags.probe")                                       \
	X(LOC_R, "lisp.loc.flags.reach")                                       \
	X(LOC_AFI, "lisp.loc.afi")                                             \
	X(LOC, "lisp.loc.locator")                                             \
	X(LCAF_TYPE, "lisp.lcaf.type")                                         \
	X(LCAF_LEN, "lisp.lcaf.length")                                        \
	X(LCAF_IID, "lisp.lcaf.iid")                                           \
	X(LCAF_MLEN, "lisp.lcaf.res2")                                         \
	X(LCAF_AFI, "lisp.lcaf.iid.afi")                                       \
	X(LCAF_V4, "lisp.lcaf.iid.ipv4")                                       \
	X(LCAF_V6, "lisp.lcaf.iid.ipv6")                                       \
	X(LCAF_MAC, "lisp.lcaf.iid.mac")                                       \
	X(RT_TYPE, "lisp-tcp.message.type")                                    \
	X(RT_LEN, "lisp-tcp.message.length")                                   \
	X(RT_ID, "lisp-tcp.message.id")                                        \
	X(RT_MARKER, "lisp-tcp.message.end_marker")                            \
	X(RT_ERR, "lisp-tcp.message.err.code")                                 \
	X(RT_ERR_TYPE, "lisp-tcp.message.err.offending_msg.type")              \
	X(RT_ERR_LEN, "lisp-tcp.message.err.offending_msg.len")                \
	X(RT_ERR_ID, "lisp-tcp.message.err.offending_msg.id")                  \
	X(RT_ERR_DATA, "lisp-tcp.message.err.offending_msg.data")              \
	X(RT_REASON, "lisp-tcp.message.registration_reject.reason")            \
	X(RT_SCOPE, "lisp-tcp.message.registration_refresh.scope")             \
	X(RT_REJECTED, "lisp-tcp.message.registration_refresh.flags.rejected") \
	X(RT_PLEN, "lisp-tcp.message.eid.prefix.length")                       \
	X(RT_PAFI, "lisp-tcp.message.eid.prefix.afi")                          \
	X(DATA, "data.data")

#define FIELD_ENUM(id, name) F_##id,
enum field { FIELDS(FIELD_ENUM) NFIELDS };
#define FIELD_NAME(id, name) name,

#define MAX_FRAMES 32
#define VAL_LEN	   1024

enum check { CHECK_ALL, CHECK_FRAMING, CHECK_TYPE, CHECK_TRAILER };

struct frame {
	char desc[96];
	enum check check;
	char val[NFIELDS][VAL_LEN];
	unsigned char set[NFIELDS];
};

/* encode_tshark_frames.c: the frames written and what they must decode to. */
extern struct frame frames[MAX_FRAMES];
extern unsigned nframes;
extern struct pcap pcap; /* the capture being written */
extern struct auth_ctx *actx;
extern struct auth_key key_sha256, key_sha1;
extern struct arena arena;
extern uint8_t mn_wire[1024]; /* the Map-Notify inside the Mapping Notification (D3) */
extern size_t mn_len;

/* Every message kind over UDP 4342, then over the reliable transport (TCP 4342). */
void udp_frames(void);
void tcp_frames(void);
