/* SPDX-License-Identifier: MIT */
/*
 * lispmsd end to end over UDP on loopback (issue 5): starts the daemon with
 * a generated configuration and drives it with real datagrams built by the
 * codec: registrations with both HMAC algorithms and both lengths, key
 * roll-over, wrong keys and sites, more-specifics, allowed-rlocs, proxy
 * replies, forwarding, negative replies with their TTLs and prefixes, IPv6
 * and MAC EIDs, mobility notifications and their retransmission, expiry, a
 * storm of junk, and start-up failures. Every reply is also written to a
 * pcap and decoded by tshark. Prints TAP.
 *
 * Usage: ms_udp LISPMSD
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/proto.h>

#include "it.h"
#include "pcap.h"
#include "tap.h"

static pid_t daemon_pid;
static uint16_t ms_port;
static char conf_path[128], log_path[128], pcap_path[128];
static struct pcap cap;
static struct auth_ctx *actx;
static struct auth_key alpha1, alpha2, beta7, alpha_wrong, gamma3;
static uint8_t abuf_mem[1 << 20];
static struct arena ar;
static unsigned captured;
static uint16_t itr_port; /* the ITR socket's port: ECM requests carry it as inner source port */

/* ------------------------------------------------------------ plumbing */

static void send_ms(int fd, const uint8_t *msg, size_t len, bool v6)
{
	struct sockaddr_storage dst;
	saddr_parse(v6 ? "::1" : "127.0.0.1", &dst);
	saddr_set_port(&dst, ms_port);
	sendto(fd, msg, len, 0, (struct sockaddr *)&dst, saddr_len(&dst));
}

/* Record a reply in the pcap (as IPv4/UDP; tshark only needs the payload). */
static void capture(const uint8_t *msg, size_t len, uint16_t dport)
{
	static const uint8_t src[4] = { 127, 0, 0, 1 }, dst[4] = { 127, 0, 0, 2 };
	pcap_udp(&cap, src, dst, 4342, dport ? dport : 4342, msg, len);
	captured++;
}

/* Wait for one datagram; its length, or -1 on timeout. */
static ssize_t recv_one(int fd, uint8_t *buf, size_t cap_len, int timeout_ms,
			struct sockaddr_storage *from)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	struct sockaddr_storage f;
	socklen_t flen = sizeof(f);
	ssize_t n = recvfrom(fd, buf, cap_len, 0, (struct sockaddr *)&f, &flen);
	if (from)
		*from = f;
	if (n > 0)
		capture(buf, (size_t)n, 4342);
	return n;
}

static void drain(int fd)
{
	uint8_t buf[2048];
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static const char *config_text =
    "server:\n"
    "  listen: [127.0.0.1, \"::1\"]\n"
    "  port: %u\n"
    "  workers: 2\n"
    "  registration-timeout: 10\n"
    "control:\n"
    "  socket: /tmp/lispms-it-%u.sock\n"
    "log:\n"
    "  level: info\n"
    "sites:\n"
    "  - name: alpha\n"
    "    keys:\n"
    "      - {id: 1, algorithm: hmac-sha-256-128, secret: \"alpha-256\"}\n"
    "      - {id: 2, algorithm: hmac-sha-1-96, secret: \"alpha-sha1\"}\n"
    "    eid-prefixes: [\"[1000] 10.1.0.0/16\", \"[1000] 2001:db8:1::/48\",\n"
    "                   \"[5] 00:11:22:00:00:00/24\", \"240.0.0.0/4\"]\n"
    "    accept-more-specifics: true\n"
    "    allowed-rlocs: [\"127.0.0.0/8\", \"::1/128\", \"192.0.2.0/24\"]\n"
    "  - name: beta\n"
    "    keys:\n"
    "      - {id: 7, algorithm: hmac-sha-256-128, secret: \"beta-key\"}\n"
    "    eid-prefixes: [\"[1000] 10.2.0.0/16\"]\n"
    "    accept-more-specifics: false\n"
    "    proxy-reply: true\n"
    "  - name: gamma\n"
    "    keys:\n"
    "      - {id: 3, algorithm: hmac-sha-256-128, secret: \"gamma-key\"}\n"
    "    eid-prefixes: [\"[1000] 10.3.128.0/17\"]\n"
    "    accept-more-specifics: true\n"
    "    merge: true\n";

static bool notify_ok(const uint8_t *buf, size_t len, const struct auth_key *key,
		      struct lisp_map_notify *out)
{
	arena_reset(&ar);
	if (map_notify_decode(buf, len, &ar, out) != LISPMS_EOK || out->type != LISP_MSG_MAP_NOTIFY)
		return false;
	return auth_verify(actx, key, 1, buf, len, &out->auth) == LISPMS_EOK;
}

static bool reply_decode(const uint8_t *buf, ssize_t len, struct lisp_map_reply *out)
{
	arena_reset(&ar);
	return len > 0 && map_reply_decode(buf, (size_t)len, &ar, out) == LISPMS_EOK &&
	       out->nrecords == 1;
}

static int register_ok(int fd, const struct it_reg *r, bool v6, const struct auth_key *verify)
{
	uint8_t msg[2048], rep[2048];
	size_t len = it_build_register(r, msg, sizeof(msg));
	if (len == 0)
		return -1;
	send_ms(fd, msg, len, v6);
	ssize_t n = recv_one(fd, rep, sizeof(rep), 1500, NULL);
	struct lisp_map_notify mn;
	if (n <= 0 || !notify_ok(rep, (size_t)n, verify ? verify : r->key, &mn) ||
	    mn.nonce != r->nonce)
		return -1;
	return mn.nrecords;
}

/* ------------------------------------------------------------ scenarios */

static void registrations(int etr, int etr6)
{
	struct it_reg r = { .flags = LISP_MREG_M,
			    .nonce = 0x1001,
			    .key = &alpha1,
			    .eids = { "[1000] 10.1.1.0/24" },
			    .rloc = "127.0.0.11" };
	uint8_t msg[2048], rep[2048];
	size_t len = it_build_register(&r, msg, sizeof(msg));
	send_ms(etr, msg, len, false);
	struct sockaddr_storage from;
	ssize_t n = recv_one(etr, rep, sizeof(rep), 1500, &from);
	struct lisp_map_notify mn;
	bool ok = n > 0 && notify_ok(rep, (size_t)n, &alpha1, &mn);
	tap_ok(ok && mn.nonce == 0x1001 && mn.nrecords == 1 &&
		   it_record_is(&mn.records[0], "[1000] 10.1.1.0/24") && mn.auth.len == 32 &&
		   mn.flags == 0,
	       "hmac-sha-256 (32 octets) register acknowledged by a signed Map-Notify");
	char f[64];
	saddr_format(&from, f, sizeof(f));
	char want[64];
	snprintf(want, sizeof(want), "127.0.0.1:%u", ms_port);
	tap_ok(n > 0 && strcmp(f, want) == 0, "the Map-Notify comes from %s (got %s)", want, f);

	r.nonce = 0x1002;
	r.auth_len = 16;
	tap_ok(register_ok(etr, &r, false, NULL) == 1,
	       "hmac-sha-256 truncated to 16 octets is accepted");
	r = (struct it_reg){ .flags = LISP_MREG_M,
			     .nonce = 0x1003,
			     .key = &alpha2,
			     .eids = { "[1000] 10.1.1.0/24" },
			     .rloc = "127.0.0.11" };
	tap_ok(register_ok(etr, &r, false, NULL) == 1, "hmac-sha-1 (20 octets, key id 2) accepted");
	r.nonce = 0x1004;
	r.auth_len = 12;
	tap_ok(register_ok(etr, &r, false, NULL) == 1,
	       "hmac-sha-1 truncated to 12 octets accepted (key roll-over: both keys work)");

	r = (struct it_reg){ .flags = LISP_MREG_M,
			     .nonce = 0x1005,
			     .key = &alpha_wrong,
			     .eids = { "[1000] 10.1.1.0/24" },
			     .rloc = "127.0.0.11" };
	len = it_build_register(&r, msg, sizeof(msg));
	send_ms(etr, msg, len, false);
	tap_ok(recv_one(etr, rep, sizeof(rep), 500, NULL) < 0, "a wrong secret gets no reply");
	struct auth_key k9;
	auth_key_init(&k9, 9, LISP_ALG_HMAC_SHA256, "alpha-256", 9);
	r.key = &k9;
	r.nonce = 0x1006;
	len = it_build_register(&r, msg, sizeof(msg));
	send_ms(etr, msg, len, false);
	tap_ok(recv_one(etr, rep, sizeof(rep), 500, NULL) < 0, "an unknown key id gets no reply");

	r = (struct it_reg){ .flags = LISP_MREG_M,
			     .nonce = 0x1007,
			     .key = &alpha1,
			     .eids = { "[1000] 10.9.0.0/16" },
			     .rloc = "127.0.0.11" };
	len = it_build_register(&r, msg, sizeof(msg));
	send_ms(etr, msg, len, false);
	tap_ok(recv_one(etr, rep, sizeof(rep), 500, NULL) < 0,
	       "a prefix no site configures gets no reply");

	r = (struct it_reg){ .flags = LISP_MREG_M,
			     .nonce = 0x1008,
			     .key = &alpha1,
			     .eids = { "[1000] 10.1.3.0/24", "[1000] 10.2.1.0/24" },
			     .rloc = "127.0.0.11" };
	len = it_build_register(&r, msg, sizeof(msg));
	send_ms(etr, msg, len, false);
	n = recv_one(etr, rep, sizeof(rep), 1500, NULL);
	ok = n > 0 && notify_ok(rep, (size_t)n, &alpha1, &mn);
	tap_ok(ok && mn.nrecords == 1 && it_record_is(&mn.records[0], "[1000] 10.1.3.0/24"),
	       "a record of another site is rejected, the rest acknowledged");

	r = (struct it_reg){ .flags = LISP_MREG_M,
			     .nonce = 0x1009,
			     .key = &beta7,
			     .eids = { "[1000] 10.2.1.0/24" },
			     .rloc = "192.0.2.2" };
	len = it_build_register(&r, msg, sizeof(msg));
	send_ms(etr, msg, len, false);
	tap_ok(recv_one(etr, rep, sizeof(rep), 500, NULL) < 0,
	       "a more-specific is refused where accept-more-specifics is false");
	r.eids[0] = "[1000] 10.2.0.0/16";
	r.nonce = 0x100a;
	tap_ok(register_ok(etr, &r, false, NULL) == 1, "the configured prefix itself is accepted");

	r = (struct it_reg){ .flags = LISP_MREG_M,
			     .nonce = 0x100b,
			     .key = &alpha1,
			     .eids = { "[1000] 10.1.4.0/24" },
			     .rloc = "198.51.100.1" };
	len = it_build_register(&r, msg, sizeof(msg));
	send_ms(etr, msg, len, false);
	tap_ok(recv_one(etr, rep, sizeof(rep), 500, NULL) < 0,
	       "a locator outside allowed-rlocs is refused");

	r = (struct it_reg){ .flags = LISP_MREG_M | LISP_MREG_P,
			     .nonce = 0x100c,
			     .key = &alpha1,
			     .eids = { "[1000] 10.1.5.0/24" },
			     .rloc = "127.0.0.12",
			     .ttl = 7 };
	tap_ok(register_ok(etr, &r, false, NULL) == 1, "a proxy (P) registration is accepted");

	r = (struct it_reg){ .flags = LISP_MREG_M,
			     .nonce = 0x100d,
			     .key = &alpha1,
			     .eids = { "[1000] 2001:db8:1:1::/64" },
			     .rloc = "::1" };
	tap_ok(register_ok(etr6, &r, true, NULL) == 1, "an IPv6 EID registers over IPv6");
	r = (struct it_reg){ .flags = LISP_MREG_M,
			     .nonce = 0x100e,
			     .key = &alpha1,
			     .eids = { "[5] 00:11:22:33:44:55/48" },
			     .rloc = "127.0.0.13" };
	tap_ok(register_ok(etr, &r, false, NULL) == 1, "a MAC EID registers");
	r = (struct it_reg){ .flags = LISP_MREG_M | LISP_MREG_P,
			     .nonce = 0x100f,
			     .key = &alpha1,
			     .eids = { "240.1.0.0/16" },
			     .rloc = "127.0.0.14" };
	tap_ok(register_ok(etr, &r, false, NULL) == 1, "an instance-0 EID without LCAF registers");
	r = (struct it_reg){ .flags = 0,
			     .nonce = 0x1010,
			     .key = &alpha1,
			     .eids = { "[1000] 10.1.6.0/24" },
			     .rloc = "127.0.0.15" };
	len = it_build_register(&r, msg, sizeof(msg));
	send_ms(etr, msg, len, false);
	tap_ok(recv_one(etr, rep, sizeof(rep), 400, NULL) < 0, "without M or r nothing answers");
	r.flags = LISP_MREG_r;
	r.nonce = 0x1011;
	len = it_build_register(&r, msg, sizeof(msg));
	send_ms(etr, msg, len, false);
	n = recv_one(etr, rep, sizeof(rep), 1500, NULL);
	ok = n > 0 && notify_ok(rep, (size_t)n, &alpha1, &mn);
	tap_ok(ok && (mn.flags & LISP_MNOT_r) && mn.nonce == 0x1011,
	       "r=1 without M is answered, the Map-Notify offers a session (r set, D4)");
}

static void requests(int itr)
{
	uint8_t msg[1024], rep[2048];
	struct lisp_map_reply mr;
	size_t len = it_build_request("[1000] 10.2.3.4", "127.0.0.21", 0xa1, true, itr_port, msg,
				      sizeof(msg));
	send_ms(itr, msg, len, false);
	ssize_t n = recv_one(itr, rep, sizeof(rep), 1500, NULL);
	bool ok = reply_decode(rep, n, &mr);
	tap_ok(ok && mr.nonce == 0xa1 && mr.records[0].nlocs == 1 && mr.records[0].a == 0 &&
		   (mr.records[0].locs[0].flags & LISP_LOC_L) == 0 &&
		   it_record_is(&mr.records[0], "[1000] 10.2.0.0/16") && mr.records[0].ttl == 3,
	       "proxy-reply site: Map-Reply to the ITR-RLOC, A=0, L=0, nonce and TTL kept");

	len = it_build_request("[1000] 10.1.5.9", "127.0.0.21", 0xa2, true, itr_port, msg,
			       sizeof(msg));
	send_ms(itr, msg, len, false);
	n = recv_one(itr, rep, sizeof(rep), 1500, NULL);
	ok = reply_decode(rep, n, &mr);
	tap_ok(ok && mr.nonce == 0xa2 && mr.records[0].ttl == 7 &&
		   it_record_is(&mr.records[0], "[1000] 10.1.5.0/24"),
	       "P registration: proxy Map-Reply with the record's TTL");

	int etr = it_client("127.0.0.11", 4342);
	len = it_build_request("[1000] 10.1.1.9", "127.0.0.21", 0xa3, true, itr_port, msg,
			       sizeof(msg));
	send_ms(itr, msg, len, false);
	n = etr >= 0 ? recv_one(etr, rep, sizeof(rep), 1500, NULL) : -1;
	struct lisp_ecm e;
	struct lisp_map_request req;
	arena_reset(&ar);
	ok = n > 0 && ecm_decode(rep, (size_t)n, &e) == LISPMS_EOK &&
	     map_request_decode(e.inner, e.inner_len, &ar, &req) == LISPMS_EOK;
	tap_ok(ok && (e.flags & LISP_ECM_E) && req.nonce == 0xa3,
	       "no proxy: the ECM is forwarded to the ETR's RLOC with the E bit");
	if (etr >= 0)
		close(etr);

	len = it_build_request("[1000] 10.1.200.1", "127.0.0.21", 0xa4, true, itr_port, msg,
			       sizeof(msg));
	send_ms(itr, msg, len, false);
	n = recv_one(itr, rep, sizeof(rep), 1500, NULL);
	ok = reply_decode(rep, n, &mr);
	tap_ok(
	    ok && mr.nonce == 0xa4 && mr.records[0].nlocs == 0 && mr.records[0].ttl == 1 &&
		mr.records[0].act == LISP_ACT_NATIVE_FORWARD &&
		it_record_is(&mr.records[0], "[1000] 10.1.128.0/17"),
	    "configured, unregistered: negative, TTL 1, the largest hole holding no registration");

	len = it_build_request("[1000] 10.3.0.1", "127.0.0.21", 0xa5, true, itr_port, msg,
			       sizeof(msg));
	send_ms(itr, msg, len, false);
	n = recv_one(itr, rep, sizeof(rep), 1500, NULL);
	ok = reply_decode(rep, n, &mr);
	tap_ok(ok && mr.records[0].ttl == 15 && mr.records[0].act == LISP_ACT_NATIVE_FORWARD &&
		   it_record_is(&mr.records[0], "[1000] 10.3.0.0/17"),
	       "unknown: negative, TTL 15, largest prefix no configured prefix overlaps");

	len = it_build_request("[77] 10.3.0.1", "127.0.0.21", 0xa6, false, 0, msg, sizeof(msg));
	send_ms(itr, msg, len, false);
	n = recv_one(itr, rep, sizeof(rep), 1500, NULL);
	ok = reply_decode(rep, n, &mr);
	tap_ok(ok && mr.nonce == 0xa6 && it_record_is(&mr.records[0], "[77] 0.0.0.0/0"),
	       "a bare Map-Request is answered too (empty instance: /0)");

	len = it_build_request("240.1.2.3", "127.0.0.21", 0xa7, true, itr_port, msg, sizeof(msg));
	send_ms(itr, msg, len, false);
	n = recv_one(itr, rep, sizeof(rep), 1500, NULL);
	ok = reply_decode(rep, n, &mr);
	tap_ok(ok && mr.records[0].eid.kind == AFI_PLAIN &&
		   it_record_is(&mr.records[0], "240.1.0.0/16"),
	       "an instance-0 request without LCAF is answered without LCAF (D16)");

	len = it_build_request("[5] 00:11:22:33:44:55", "127.0.0.21", 0xa8, true, itr_port, msg,
			       sizeof(msg));
	etr = it_client("127.0.0.13", 4342);
	send_ms(itr, msg, len, false);
	n = etr >= 0 ? recv_one(etr, rep, sizeof(rep), 1500, NULL) : -1;
	tap_ok(n > 0 && msg_type(rep, (size_t)n) == LISP_MSG_ECM,
	       "a MAC EID request is forwarded to its ETR");
	if (etr >= 0)
		close(etr);

	/* messages a Map-Server drops */
	struct lisp_map_reply junk_reply = { .nonce = 1 };
	uint8_t junk[64];
	size_t jl;
	map_reply_encode(&junk_reply, junk, sizeof(junk), &jl);
	send_ms(itr, junk, jl, false);
	const uint8_t ext[] = { 0xf0, 0x05, 0xab, 0xcd, 0x65, 0x78, 0x70, 0x21 };
	send_ms(itr, ext, sizeof(ext), false);
	tap_ok(recv_one(itr, rep, sizeof(rep), 400, NULL) < 0,
	       "Map-Replies and unknown type-15 sub-types are dropped silently");
}

static void mobility(void)
{
	int a = it_client("127.0.0.31", 0), b = it_client("127.0.0.32", 0);
	struct it_reg r = { .flags = LISP_MREG_M,
			    .nonce = 0x2001,
			    .key = &alpha1,
			    .eids = { "[1000] 10.1.7.0/24" },
			    .rloc = "127.0.0.31" };
	tap_ok(register_ok(a, &r, false, NULL) == 1, "ETR A registers a prefix");
	r = (struct it_reg){ .flags = LISP_MREG_M,
			     .nonce = 0x2002,
			     .key = &alpha1,
			     .eids = { "[1000] 10.1.7.0/24" },
			     .rloc = "127.0.0.32" };
	tap_ok(register_ok(b, &r, false, NULL) == 1, "ETR B registers the same prefix (a move)");
	uint8_t rep[2048];
	struct lisp_map_notify mn;
	ssize_t n = recv_one(a, rep, sizeof(rep), 2000, NULL);
	bool ok = n > 0 && notify_ok(rep, (size_t)n, &alpha1, &mn);
	char loc[64] = "";
	struct lisp_addr la;
	if (ok && mn.nrecords == 1 && mn.records[0].nlocs == 1 &&
	    afi_to_addr(&mn.records[0].locs[0].addr, &la) == LISPMS_EOK)
		lisp_addr_format(&la, loc, sizeof(loc));
	tap_ok(ok && it_record_is(&mn.records[0], "[1000] 10.1.7.0/24") &&
		   strcmp(loc, "127.0.0.32") == 0,
	       "the displaced ETR A gets an unsolicited Map-Notify with B's locator (%s)", loc);
	uint64_t nonce = ok ? mn.nonce : 0;
	n = recv_one(a, rep, sizeof(rep), 4500, NULL);
	ok = n > 0 && notify_ok(rep, (size_t)n, &alpha1, &mn);
	tap_ok(ok && mn.nonce == nonce, "unacknowledged, it is retransmitted about 3 s later");
	if (ok) {
		/* acknowledge: same body, type 5, own HMAC */
		rep[0] = (uint8_t)(LISP_MSG_MAP_NOTIFY_ACK << 4);
		memset(rep + LISPMS_AUTH_OFFSET, 0, mn.auth.len);
		auth_sign(actx, &alpha1, rep, (size_t)n);
		send_ms(a, rep, (size_t)n, false);
	}
	tap_ok(recv_one(a, rep, sizeof(rep), 4000, NULL) < 0,
	       "after the Map-Notify-Ack the retransmissions stop");
	close(a);
	close(b);
}

static void merge(void)
{
	static const uint8_t xa[16] = { 0xa }, xb[16] = { 0xb };
	int a = it_client("127.0.0.61", 0), b = it_client("127.0.0.62", 0);
	struct it_reg r = { .flags = LISP_MREG_M | LISP_MREG_a,
			    .nonce = 0x5001,
			    .key = &gamma3,
			    .eids = { "[1000] 10.3.200.0/24" },
			    .rloc = "127.0.0.61",
			    .xtr_id = xa };
	tap_ok(register_ok(a, &r, false, NULL) == 1, "merge: ETR A registers with a and I set");
	r.nonce = 0x5002;
	r.rloc = "127.0.0.62";
	r.xtr_id = xb;
	tap_ok(register_ok(b, &r, false, NULL) == 1, "merge: ETR B registers the same prefix");
	uint8_t rep[2048];
	struct lisp_map_notify mn;
	ssize_t n = recv_one(a, rep, sizeof(rep), 2000, NULL);
	bool ok = n > 0 && notify_ok(rep, (size_t)n, &gamma3, &mn) && mn.nrecords == 1;
	tap_ok(ok && mn.records[0].nlocs == 2, "ETR A is told the merged set (%u locators, D13)",
	       ok ? mn.records[0].nlocs : 0);
	close(a);
	close(b);
	/* an IPv6 ITR gets its Map-Reply over IPv6 */
	int itr6 = it_client("::1", 0);
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	getsockname(itr6, (struct sockaddr *)&sa, &sl);
	uint8_t msg[512];
	size_t len = it_build_request("[1000] 10.2.9.9", "::1", 0xd1, true, saddr_port(&sa), msg,
				      sizeof(msg));
	send_ms(itr6, msg, len, true);
	n = recv_one(itr6, rep, sizeof(rep), 1500, NULL);
	struct lisp_map_reply mr;
	tap_ok(reply_decode(rep, n, &mr) && mr.nonce == 0xd1 && mr.records[0].nlocs == 1,
	       "an IPv6 ITR-RLOC gets its Map-Reply over IPv6");
	close(itr6);
}

static void expiry(int itr)
{
	int etr = it_client("127.0.0.41", 0);
	struct it_reg r = { .flags = LISP_MREG_M | LISP_MREG_P,
			    .nonce = 0x3001,
			    .key = &alpha1,
			    .eids = { "[1000] 10.1.9.0/24" },
			    .rloc = "127.0.0.41" };
	tap_ok(register_ok(etr, &r, false, NULL) == 1, "a registration to let expire");
	uint8_t msg[512], rep[2048];
	struct lisp_map_reply mr;
	size_t len = it_build_request("[1000] 10.1.9.1", "127.0.0.21", 0xb1, true, itr_port, msg,
				      sizeof(msg));
	send_ms(itr, msg, len, false);
	ssize_t n = recv_one(itr, rep, sizeof(rep), 1500, NULL);
	tap_ok(reply_decode(rep, n, &mr) && mr.records[0].nlocs == 1, "it answers before expiry");
	sleep(12); /* registration-timeout is 10 s; expiry runs every second */
	drain(itr);
	send_ms(itr, msg, len, false);
	n = recv_one(itr, rep, sizeof(rep), 1500, NULL);
	tap_ok(reply_decode(rep, n, &mr) && mr.records[0].nlocs == 0 && mr.records[0].ttl == 1,
	       "after the registration timeout the EID is configured-unregistered");
	close(etr);
}

static void storm(int itr)
{
	int junk = it_client("127.0.0.51", 0);
	uint8_t buf[1500], valid[2048];
	struct it_reg r = { .flags = LISP_MREG_M | LISP_MREG_P,
			    .nonce = 0x4001,
			    .key = &alpha1,
			    .eids = { "[1000] 10.1.8.0/24", "[1000] 10.1.8.128/25" },
			    .rloc = "127.0.0.51" };
	tap_ok(register_ok(junk, &r, false, NULL) == 2, "two prefixes registered before the storm");
	size_t vlen = it_build_register(&r, valid, sizeof(valid));
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 30000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t len;
		if (i % 3 == 0) { /* a valid message cut short or with flipped bytes */
			len = 1 + x % vlen;
			memcpy(buf, valid, len);
			buf[x % len] ^= (uint8_t)(x >> 8);
		} else {
			len = 1 + x % 200;
			for (size_t k = 0; k < len; k++)
				buf[k] = (uint8_t)(x >> ((k % 8) * 8)) ^ (uint8_t)k;
			buf[0] = (uint8_t)((buf[0] & 0x0f) | ((i % 16) << 4));
		}
		send_ms(junk, buf, len, false);
		if (i % 2000 == 0)
			usleep(1000);
	}
	drain(junk);
	usleep(200000);
	drain(junk);
	tap_ok(kill(daemon_pid, 0) == 0, "the daemon survives 30000 junk datagrams");
	r.nonce = 0x4002;
	r.eids[0] = "[1000] 10.1.10.0/24";
	r.eids[1] = NULL;
	tap_ok(register_ok(junk, &r, false, NULL) == 1, "a valid registration still works after");
	uint8_t msg[512], rep[2048];
	struct lisp_map_reply mr;
	size_t len = it_build_request("[1000] 10.1.8.77", "127.0.0.21", 0xc1, true, itr_port, msg,
				      sizeof(msg));
	drain(itr);
	send_ms(itr, msg, len, false);
	ssize_t n = recv_one(itr, rep, sizeof(rep), 1500, NULL);
	tap_ok(reply_decode(rep, n, &mr) && mr.records[0].nlocs == 1 && mr.nonce == 0xc1,
	       "nothing registered before the storm was lost");
	close(junk);
}

/* Every reply the daemon sent, decoded by tshark: no expert info, same nonces. */
static void tshark_check(void)
{
	pcap_close(&cap);
	if (!it_have_tshark()) {
		if (getenv("LISPMS_ALLOW_NO_TSHARK"))
			tap_skip("tshark not installed");
		else
			tap_ok(false, "tshark is needed to check replies (tools/test installs it)");
		return;
	}
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -Y 'lisp.unexpected_field || lisp.invalid_field || "
		 "lisp.expected_field || lisp.undecoded || _ws.malformed' 2>/dev/null | wc -l",
		 pcap_path);
	int bad = (int)it_shell_count(cmd);
	tap_ok(bad == 0, "tshark finds no expert info in the %u replies (%d frames flagged)",
	       captured, bad);
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -T fields -e lisp.type 2>/dev/null | grep -c '^[1-8]'", pcap_path);
	long decoded_n = it_shell_count(cmd);
	unsigned decoded = decoded_n > 0 ? (unsigned)decoded_n : 0;
	tap_ok(decoded == captured, "tshark decodes every reply as LISP (%u of %u)", decoded,
	       captured);
}

static void startup_failures(void)
{
	char bad_conf[128], bad_log[128];
	snprintf(bad_conf, sizeof(bad_conf), "%s/bad.yaml", it_dir);
	snprintf(bad_log, sizeof(bad_log), "%s/bad.log", it_dir);
	it_write_file(bad_conf, "server:\n  port: 99999\nsites: []\n");
	int rc = it_wait_exit(it_spawn(bad_conf, bad_log), 5000);
	tap_ok(rc == 1 && it_file_has(bad_log, "server.port"),
	       "a bad configuration is refused with the key named (exit %d)", rc);
	/* the port of the running daemon is taken */
	rc = it_wait_exit(it_spawn(conf_path, bad_log), 5000);
	tap_ok(rc == 1 && it_file_has(bad_log, "in use"),
	       "a port in use is refused with a clear message (exit %d)", rc);
	unlink(bad_conf);
	unlink(bad_log);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: ms_udp LISPMSD\n");
		return 2;
	}
	it_daemon = argv[1];
	tap_plan(49);
	actx = auth_ctx_new();
	it_auth = actx;
	ar = (struct arena){ .base = abuf_mem, .size = sizeof(abuf_mem) };
	auth_key_init(&alpha1, 1, LISP_ALG_HMAC_SHA256, "alpha-256", 9);
	auth_key_init(&alpha2, 2, LISP_ALG_HMAC_SHA1, "alpha-sha1", 10);
	auth_key_init(&alpha_wrong, 1, LISP_ALG_HMAC_SHA256, "not-it", 6);
	auth_key_init(&beta7, 7, LISP_ALG_HMAC_SHA256, "beta-key", 8);
	auth_key_init(&gamma3, 3, LISP_ALG_HMAC_SHA256, "gamma-key", 9);

	if (it_tempdir() != 0) {
		perror("mkdtemp");
		return 1;
	}
	ms_port = it_free_port();
	snprintf(conf_path, sizeof(conf_path), "%s/lispms.yaml", it_dir);
	snprintf(log_path, sizeof(log_path), "%s/lispmsd.log", it_dir);
	snprintf(pcap_path, sizeof(pcap_path), "%s/replies.pcap", it_dir);
	char text[8192];
	snprintf(text, sizeof(text), config_text, ms_port, ms_port);
	it_write_file(conf_path, text);
	pcap_open(&cap, pcap_path);
	daemon_pid = it_spawn(conf_path, log_path);

	int itr = it_client("127.0.0.21", 0);
	struct sockaddr_storage itr_addr;
	socklen_t itr_len = sizeof(itr_addr);
	getsockname(itr, (struct sockaddr *)&itr_addr, &itr_len);
	itr_port = saddr_port(&itr_addr);
	bool ready = false;
	for (int i = 0; i < 100 && !ready; i++) {
		uint8_t msg[512], rep[2048];
		size_t len = it_build_request("[1] 10.0.0.1", "127.0.0.21", 0xfeed, false, 0, msg,
					      sizeof(msg));
		send_ms(itr, msg, len, false);
		struct pollfd p = { .fd = itr, .events = POLLIN };
		ready = poll(&p, 1, 50) == 1 && recv(itr, rep, sizeof(rep), 0) > 0;
	}
	tap_ok(ready, "lispmsd starts and answers (port %u)", ms_port);
	if (!ready) {
		it_wait_exit(daemon_pid, 100);
		return tap_done();
	}
	int etr = it_client("127.0.0.10", 0), etr6 = it_client("::1", 0);
	registrations(etr, etr6);
	requests(itr);
	mobility();
	merge();
	expiry(itr);
	storm(itr);
	startup_failures();
	kill(daemon_pid, SIGTERM);
	int rc = it_wait_exit(daemon_pid, 5000);
	tap_ok(rc == 0 && it_file_has(log_path, "daemon, stopped"),
	       "SIGTERM stops lispmsd cleanly (exit %d)", rc);
	tshark_check();
	if (tap_failed == 0) {
		it_tempdir_remove();
	} else {
		printf("# daemon log: %s, replies: %s\n", log_path, pcap_path);
	}
	auth_ctx_free(actx);
	return tap_done();
}
