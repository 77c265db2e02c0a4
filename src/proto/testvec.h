/* SPDX-License-Identifier: MIT */
/*
 * The reference packets of docs/protocol.md §6.2 as hex (tests only). Shared key
 * "secret"; EID [1000] 10.1.0.0/16; locator 192.0.2.1 p1 w100 mp255 mw0 L R;
 * xTR-ID 00 01 .. 0f; site-ID 7; nonce 0x1122334455667788. Where §6.2 elides
 * bytes with "…", the text below fills them from the same common pieces.
 */
#pragma once

#define TV_KEY "secret"

#define TV_EID_LCAF "4003 0000 0200 000a 000003e8 0001 0a010000"
#define TV_RECORD   "00000003 01 10 1000 0000 " TV_EID_LCAF " 01 64 ff 00 0005 0001 c0000201"
#define TV_XTR_SITE "000102030405060708090a0b0c0d0e0f 0000000000000007"

/* 1. Map-Register P I r T M, Key ID 1, HMAC-SHA-256 over the whole message. */
#define TV_MREG_SHA256                                                                \
	"3a002901 1122334455667788 01 02 0020 "                                       \
	"a4ff6c1db54f0ccae5b1ce1d5a870329e7955d96f01a35b2019affda4614af6c " TV_RECORD \
	" " TV_XTR_SITE
/* ... and the HMAC when the trailer is left out (RFC reading). */
#define TV_MREG_SHA256_RFC_HMAC "d0448a18f8526fe7c88dd3d49542c7c24de82b161bb446cfd59f9177013cf34c"

/* 2. Map-Register M only, HMAC-SHA-1, nonce 0x0102030405060708. */
#define TV_MREG_SHA1 \
	"30000101 0102030405060708 01 01 0014 b7e082bfa844697fe6d591da6460b96848000aa4 " TV_RECORD

/* 3. Map-Notify acknowledging 1. */
#define TV_MNOTIFY                              \
	"40000001 1122334455667788 01 02 0020 " \
	"29b4f6fabdf9d3f976e82f904893f3770ac83a917f97ca827c66fd6a219734e3 " TV_RECORD

/* 4. Map-Notify-Ack, same body, own HMAC. */
#define TV_MNOTIFY_ACK                          \
	"50000001 1122334455667788 01 02 0020 " \
	"b1b09b32f4a56de31706f1cc72cb91a7a4d2a6a2c216042a6866a5cf866a6bfb " TV_RECORD

/* 5. Negative Map-Reply: Natively-Forward, TTL 15, no locators. */
#define TV_NEG_MREP "20000001 1122334455667788 0000000f 00 10 2000 0000 " TV_EID_LCAF

/* 6. ECM with E carrying a Map-Request for [1000] 10.1.2.3/32 from ITR-RLOC
 * 192.0.2.9; the inner IPv4 (TTL 64, ID 0) and UDP 4342 -> 4342 headers are
 * ours, §6.2 gives only their addresses and ports. */
#define TV_MREQ                                                                            \
	"10000001 deadbeefcafef00d 0000 0001 c0000209 00 20 4003 0000 0200 000a 000003e8 " \
	"0001 0a010203"
#define TV_ECM                                             \
	"82000000 "                                        \
	"4500 0044 0000 0000 4011 ac9c c0000209 0a010203 " \
	"10f6 10f6 0030 92c4 " TV_MREQ

/* 7. Shared Extension Message, sub-type 5. */
#define TV_SHARED_EXT "f005abcd 65787021"

/* 8. Reliable transport. The Registration's Map-Register (I, T) is 1 with
 * those flags, its HMAC recomputed. */
#define TV_RT_REGISTRATION                                                            \
	"0011 007c 00000001 32000801 1122334455667788 01 02 0020 "                    \
	"f38055eb01a3d643e7390b13ca29902da76f2f8523fcbdef45eb305ef6d51afa " TV_RECORD \
	" " TV_XTR_SITE " 9facade9"
#define TV_RT_ACK		      "0012 001f 00000002 10 " TV_EID_LCAF " 9facade9"
#define TV_RT_REJECT		      "0013 0022 00000003 02 0000 10 " TV_EID_LCAF " 9facade9"
#define TV_RT_REFRESH_ALL	      "0014 000f 00000004 00 0000 9facade9"
#define TV_RT_REFRESH_REJECTED	      "0014 0022 00000005 04 8000 10 " TV_EID_LCAF " 9facade9"
/* §6.2's type 21 in Wireshark's kouvelas-04 layout (xTR-ID, site-ID, record). */
#define TV_RT_MAPPING_NOTIFICATION_WS "0015 004c 00000006 " TV_XTR_SITE " " TV_RECORD " 9facade9"
/* Type 21 as this project sends it (D3): one complete Map-Notify (packet 3). */
#define TV_RT_MAPPING_NOTIFICATION    "0015 0064 00000006 " TV_MNOTIFY " 9facade9"
#define TV_RT_ERROR		      "0010 001c 00000007 01 000000 0063 000c 0000002a 01020304 9facade9"
#define TV_RT_BARE		      "0014 0008 9facade9"
