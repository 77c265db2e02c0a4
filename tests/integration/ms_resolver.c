/* SPDX-License-Identifier: MIT */
/*
 * lispmsd as a DDT Map-Resolver end to end (RFC 8111 §7.3, issue 21), three
 * lispmsd on loopback: a DDT root node (127.0.0.51), a DDT Map-Server with a
 * site (127.0.0.52) and a Map-Resolver (its own socket 127.0.0.53, D23); a
 * Map-Server partner 127.0.0.55 that is down. A test ITR (127.0.0.131) sends
 * ECM Map-Requests to the resolver: a registered EID gets the Map-Server's
 * Map-Reply; the next one starts from the cached MS-REFERRAL; an unregistered
 * EID gets the resolver's negative Map-Reply with MS-NOT-REGISTERED's TTL (1);
 * an undelegated one DELEGATION-HOLE's (15), then again from the cache; a
 * referral set whose first Map-Server is dead costs one timeout and the
 * partner answers, and the next request in that set goes straight to the
 * partner (the dead one is held down). Counters and `lispmsctl resolver cache|pending` checked.
 * D25 live: the test plays a DDT node (127.0.0.56) the root refers 10.6/16
 * to: the resolver asks it with its own nonce, a Map-Referral from the
 * node's address and port with the ITR's nonce is dropped and counted, the
 * node's answer with the resolver's nonce is taken.
 * Everything on the DDT port is captured on lo (dumpcap) and every message
 * the resolver sent is read by tshark: no malformed or expert info, the
 * DDT Map-Requests with D and their nonces (the resolver's own to the root,
 * the ITR's to the Map-Servers: D25), the negative Map-Replies' actions and
 * TTLs.
 * Prints TAP.
 *
 * Usage: ms_resolver LISPMSD LISPMSCTL
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <poll.h>
#include <sys/socket.h>

#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/proto.h>

#include "capture.h"
#include "it.h"
#include "tap.h"

#define ROOT "127.0.0.51"
#define MS   "127.0.0.52"
#define MR   "127.0.0.53"
#define DEAD "127.0.0.55"
#define NODE "127.0.0.56" /* a DDT node the test plays (D25) */
#define ITR  "127.0.0.131"

static const char *ctl_bin;
static uint16_t ddt_port, mr_ms_port;
static pid_t pids[3];
static struct auth_ctx *actx;
static struct auth_key key;
static uint8_t abuf_mem[1 << 20];
static struct arena ar;

static const char *root_conf = "server: {listen: [" ROOT "], port: %u, workers: 1}\n"
			       "control: {socket: %s/root.sock}\n"
			       "ddt:\n"
			       "  authoritative-prefixes: [\"[1000] 10.0.0.0/8\"]\n"
			       "  delegations:\n"
			       "    - {prefix: \"[1000] 10.1.0.0/16\", map-servers: true, "
			       "referrals: [" MS "]}\n"
			       "    - {prefix: \"[1000] 10.4.0.0/16\", map-servers: true, "
			       "referrals: [" DEAD ", " MS "]}\n"
			       "    - {prefix: \"[1000] 10.6.0.0/16\", referrals: [" NODE "]}\n"
			       "  hole-ttl: 15\n";

static const char *ms_conf = "server: {listen: [" MS "], port: %u, workers: 1}\n"
			     "control: {socket: %s/ms.sock}\n"
			     "sites:\n"
			     "  - name: alpha\n"
			     "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"a-key\"}]\n"
			     "    eid-prefixes: [\"[1000] 10.1.0.0/16\", \"[1000] 10.4.0.0/16\"]\n"
			     "    accept-more-specifics: true\n"
			     "    proxy-reply: true\n";

static const char *mr_conf = "server: {listen: [" MR "], port: %u, workers: 1}\n"
			     "control: {socket: %s/mr.sock}\n"
			     "log: {level: debug}\n"
			     "map-resolver:\n"
			     "  roots: [" ROOT "]\n"
			     "  listen: [" MR "]\n"
			     "  port: %u\n"
			     "  ddt-port: %u\n"
			     "  timeout-ms: 400\n"
			     "  retries: 1\n";

static pid_t start(const char *name, const char *fmt, unsigned a, unsigned b, unsigned c)
{
	char path[160], log[160], text[4096];
	snprintf(path, sizeof(path), "%s/%s.yaml", it_dir, name);
	snprintf(log, sizeof(log), "%s/%s.log", it_dir, name);
	if (c != 0)
		snprintf(text, sizeof(text), fmt, a, it_dir, b, c);
	else
		snprintf(text, sizeof(text), fmt, a, it_dir);
	it_write_file(path, text);
	return it_spawn(path, log);
}

/* The ITR asks the resolver for eid: the answer, and where it came from. */
static bool ask(int itr, uint16_t itr_port, const char *eid, uint64_t nonce,
		struct lisp_map_reply *rep, char *from, size_t fromlen)
{
	return it_ask(itr, ITR, itr_port, MR, ddt_port, eid, nonce, &ar, rep, from, fromlen);
}

static long ctl_count(const char *sock, const char *args, const char *pattern)
{
	char cmd[768];
	snprintf(cmd, sizeof(cmd), "%s -s %s/%s %s 2>&1 | grep -cE '%s'", ctl_bin, it_dir, sock,
		 args, pattern);
	return it_shell_count(cmd);
}

/* lispmsctl stats: the counter (name and labels as printed) equals want.
 * The resolver exports its counts once per loop pass, after the answers
 * of the datagrams it read: an ITR can hold the answer before the count
 * moves, so a count still short of want is asked again (at most 1 s). */
static bool stat_is(const char *metric, long want)
{
	char pattern[256];
	snprintf(pattern, sizeof(pattern), "^%s +%ld$", metric, want);
	for (int i = 0; i < 20; i++) {
		if (ctl_count("mr.sock", "stats lispms_mr_", pattern) == 1)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

static void dump_stats(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s -s %s/mr.sock stats lispms_mr_ | sed 's/^/# /'", ctl_bin,
		 it_dir);
	(void)system(cmd);
}

/* A one-record Map-Referral from fd (bound to NODE on the DDT port) to the resolver. */
static void node_refers(int fd, uint64_t nonce, const char *eid, uint8_t act, uint32_t ttl)
{
	struct eid_prefix p;
	eid_prefix_parse(eid, &p);
	struct lisp_referral_record rec = { .r = { .ttl = ttl, .act = act, .eid_plen = p.plen } };
	afi_from_eid(&p, &rec.r.eid);
	struct lisp_map_referral m = { .nonce = nonce, .nrecords = 1, .records = &rec };
	uint8_t buf[256];
	size_t len;
	if (map_referral_encode(&m, buf, sizeof(buf), &len) == LISPMS_EOK)
		it_send_to(fd, MR, ddt_port, buf, len);
}

/*
 * D25 live: the root refers [1000] 10.6.0.0/16 to NODE, a DDT node the test
 * plays. The resolver's DDT Map-Request to it carries a nonce of the
 * resolver's, not the ITR's 31; a Map-Referral from the node's own address
 * and port but with the ITR's nonce (what whoever sent the Map-Request
 * knows: here a DELEGATION-HOLE that would blackhole the /24 for a day) is
 * dropped and counted; the node's answer with the resolver's nonce is taken.
 */
static void forged_referral(int itr, uint16_t port)
{
	int node = it_client(NODE, ddt_port);
	uint8_t msg[1024], buf[2048];
	size_t len = it_build_request("[1000] 10.6.1.1/32", ITR, 31, true, port, msg, sizeof(msg));
	it_send_to(itr, MR, ddt_port, msg, len);
	ssize_t n = node >= 0 ? it_recv_from(node, buf, sizeof(buf), 3000, NULL, 0) : -1;
	struct lisp_ecm e;
	struct lisp_map_request req;
	arena_reset(&ar);
	bool asked = n > 0 && ecm_decode(buf, (size_t)n, &e) == LISPMS_EOK &&
		     (e.flags & LISP_ECM_D) != 0 &&
		     map_request_decode(e.inner, e.inner_len, &ar, &req) == LISPMS_EOK;
	uint64_t theirs = asked ? req.nonce : 0;
	tap_ok(asked && theirs != 31,
	       "D25: the resolver asks the DDT node with a nonce of its own (%016llx), not the "
	       "ITR's (31)",
	       (unsigned long long)theirs);
	node_refers(node, 31, "[1000] 10.6.1.0/24", LISP_REF_DELEGATION_HOLE, 1440);
	bool quiet = it_recv_from(itr, buf, sizeof(buf), 200, NULL, 0) < 0;
	/* the genuine answer at once, inside the resolver's 400 ms timeout: a
	 * retry would carry a new nonce and make `theirs` stale (the checks
	 * through lispmsctl come after it, they take long under sanitizers) */
	node_refers(node, theirs, "[1000] 10.6.1.0/24", LISP_REF_DELEGATION_HOLE, 7);
	n = it_recv_from(itr, buf, sizeof(buf), 3000, NULL, 0);
	struct lisp_map_reply rep;
	arena_reset(&ar);
	bool ok = n > 0 && map_reply_decode(buf, (size_t)n, &ar, &rep) == LISPMS_EOK &&
		  rep.nonce == 31 && rep.nrecords == 1 && rep.records[0].ttl == 7 &&
		  it_record_is(&rep.records[0], "[1000] 10.6.1.0/24");
	tap_ok(quiet && ok && stat_is("lispms_mr_dropped_total\\{reason=\"itr_nonce\"\\}", 1),
	       "D25: a Map-Referral from the node's address and port with the ITR's nonce is "
	       "dropped and counted (reason=\"itr_nonce\"): no answer from it, the request "
	       "still waited for the node's");
	tap_ok(ok && ctl_count("mr.sock", "resolver cache",
			       "^\\[1000\\] 10\\.6\\.1\\.0/24 +delegation-hole +7 ") == 1,
	       "D25: the node's answer with the resolver's nonce is taken: the ITR's negative "
	       "Map-Reply (its nonce, TTL 7), the hole cached with TTL 7, not 1440");
	if (node >= 0)
		close(node);
}

static void scenario(void)
{
	struct it_reg r = { .flags = LISP_MREG_M,
			    .nonce = 1,
			    .key = &key,
			    .eids = { "[1000] 10.1.1.0/24", "[1000] 10.4.1.0/24" },
			    .rloc = "192.0.2.1",
			    .priority = 1,
			    .ttl = 10 };
	uint8_t msg[2048], buf[2048];
	size_t len;
	tap_ok(it_register_once("127.0.0.132", MS, ddt_port, &r),
	       "an ETR registers [1000] 10.1.1.0/24 and 10.4.1.0/24 with the DDT Map-Server");

	int itr = it_client(ITR, 0);
	uint16_t port = it_local_port(itr);
	struct lisp_map_reply rep;
	char from[64];

	bool ok = ask(itr, port, "[1000] 10.1.1.5/32", 21, &rep, from, sizeof(from));
	tap_ok(ok && strcmp(from, MS) == 0 && rep.records[0].nlocs == 1 &&
		   it_record_is(&rep.records[0], "[1000] 10.1.1.0/24"),
	       "registered EID: the Map-Server's Map-Reply reaches the ITR (root -> MS-REFERRAL "
	       "-> MS-ACK; from %s)",
	       ok ? from : "-");
	tap_ok(stat_is("lispms_mr_ddt_requests_sent_total", 2) &&
		   stat_is("lispms_mr_cache_lookups_total\\{result=\"miss\"\\}", 1),
	       "it took two DDT Map-Requests, from the root");

	ok = ask(itr, port, "[1000] 10.1.1.6/32", 22, &rep, from, sizeof(from));
	tap_ok(ok && strcmp(from, MS) == 0 && it_record_is(&rep.records[0], "[1000] 10.1.1.0/24") &&
		   stat_is("lispms_mr_cache_lookups_total\\{result=\"hit\"\\}", 1) &&
		   stat_is("lispms_mr_ddt_requests_sent_total", 3),
	       "a second request starts from the cached MS-REFERRAL: one DDT Map-Request");

	ok = ask(itr, port, "[1000] 10.1.200.1/32", 23, &rep, from, sizeof(from));
	tap_ok(ok && strcmp(from, MR) == 0 && rep.records[0].nlocs == 0 &&
		   rep.records[0].act == LISP_ACT_NATIVE_FORWARD && rep.records[0].ttl == 1 &&
		   it_record_is(&rep.records[0], "[1000] 10.1.128.0/17"),
	       "unregistered EID: the resolver's negative Map-Reply, MS-NOT-REGISTERED's prefix "
	       "and TTL 1 (ttl %u)",
	       ok ? rep.records[0].ttl : 0);

	ok = ask(itr, port, "[1000] 10.200.0.1/32", 24, &rep, from, sizeof(from));
	tap_ok(ok && strcmp(from, MR) == 0 && rep.records[0].act == LISP_ACT_NATIVE_FORWARD &&
		   rep.records[0].ttl == 15 && it_record_is(&rep.records[0], "[1000] 10.128.0.0/9"),
	       "undelegated EID: negative Map-Reply with DELEGATION-HOLE's prefix and TTL 15");

	ok = ask(itr, port, "[1000] 10.200.0.2/32", 25, &rep, from, sizeof(from));
	tap_ok(ok && strcmp(from, MR) == 0 && rep.records[0].ttl >= 14 &&
		   rep.records[0].ttl <= 15 &&
		   it_record_is(&rep.records[0], "[1000] 10.128.0.0/9") &&
		   stat_is("lispms_mr_cache_lookups_total\\{result=\"hit\"\\}", 3) &&
		   stat_is("lispms_mr_ddt_requests_sent_total", 5),
	       "the hole again: answered from the referral cache, no DDT Map-Request");

	ok = ask(itr, port, "[1000] 10.4.1.5/32", 26, &rep, from, sizeof(from));
	tap_ok(ok && strcmp(from, MS) == 0 && it_record_is(&rep.records[0], "[1000] 10.4.1.0/24") &&
		   stat_is("lispms_mr_ddt_timeouts_total", 1) &&
		   stat_is("lispms_mr_ddt_requests_sent_total", 8),
	       "first Map-Server of the set dead: one timeout, then its partner answers");

	ok = ask(itr, port, "[1000] 10.4.1.6/32", 27, &rep, from, sizeof(from));
	tap_ok(ok && strcmp(from, MS) == 0 && it_record_is(&rep.records[0], "[1000] 10.4.1.0/24") &&
		   stat_is("lispms_mr_ddt_timeouts_total", 1) &&
		   stat_is("lispms_mr_ddt_requests_sent_total", 9),
	       "the next request in that set goes straight to the partner: the dead one is "
	       "held down, no second timeout");

	tap_ok(stat_is("lispms_mr_requests_total", 7) &&
		   stat_is("lispms_mr_negative_replies_total", 3) &&
		   stat_is("lispms_mr_resolutions_total\\{outcome=\"ms_ack\"\\}", 4) &&
		   stat_is("lispms_mr_referrals_total\\{action=\"ms_referral\"\\}", 2) &&
		   stat_is("lispms_mr_referrals_total\\{action=\"delegation_hole\"\\}", 1) &&
		   stat_is("lispms_mr_referrals_total\\{action=\"ms_not_registered\"\\}", 1) &&
		   ctl_count("mr.sock", "stats lispms_mr_dropped_total", " 0$") ==
		       ctl_count("mr.sock", "stats lispms_mr_dropped_total", "^lispms_mr_dropped"),
	       "resolver counters: 7 requests, 3 negative, 4 handed over, nothing dropped");

	/* hostile: garbage and a DDT Map-Request (D) */
	uint8_t junk[3] = { 0x60, 0, 1 };
	it_send_to(itr, MR, ddt_port, junk, sizeof(junk));
	len = it_build_request("[1000] 10.1.1.5/32", ITR, 99, true, port, msg, sizeof(msg));
	msg[0] |= (uint8_t)(LISP_ECM_D >> 24);
	it_send_to(itr, MR, ddt_port, msg, len);
	usleep(300000);
	tap_ok(stat_is("lispms_mr_dropped_total\\{reason=\"malformed\"\\}", 1) &&
		   stat_is("lispms_mr_dropped_total\\{reason=\"ddt_request\"\\}", 1) &&
		   it_recv_from(itr, buf, sizeof(buf), 100, NULL, 0) < 0,
	       "garbage and a DDT Map-Request at the resolver: dropped and counted, no answer");
	forged_referral(itr, port);
	close(itr);

	tap_ok(ctl_count("mr.sock", "resolver cache",
			 "^\\[1000\\] 10\\.1\\.0\\.0/16 +ms-referral .*127\\.0\\.0\\.52$") == 1 &&
		   ctl_count("mr.sock", "resolver cache",
			     "^\\[1000\\] 10\\.128\\.0\\.0/9 +delegation-hole +15 ") == 1 &&
		   ctl_count("mr.sock", "resolver cache", "127\\.0\\.0\\.55,127\\.0\\.0\\.52$") ==
		       1,
	       "lispmsctl resolver cache lists the cached referrals");
	tap_ok(ctl_count("mr.sock", "resolver pending", "^0 requests in resolution") == 1 &&
		   ctl_count("root.sock", "resolver pending", "not a Map-Resolver") == 1,
	       "lispmsctl resolver pending: nothing left; on a non-resolver a clear error");
	if (tap_failed) {
		dump_stats();
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "%s -s %s/mr.sock resolver cache | sed 's/^/# /'",
			 ctl_bin, it_dir);
		(void)system(cmd);
	}
}

/* D23: a resolver socket that overlaps the Map-Server's is refused. */
static void overlap_refused(void)
{
	static const char *bad = "server: {listen: [0.0.0.0], port: %u, workers: 1}\n"
				 "control: {socket: %s/bad.sock}\n"
				 "map-resolver: {roots: [" ROOT "], listen: [" MR "], port: %u}\n";
	char path[160], log[160], text[1024];
	snprintf(path, sizeof(path), "%s/bad.yaml", it_dir);
	snprintf(log, sizeof(log), "%s/bad.log", it_dir);
	uint16_t port = it_free_port();
	snprintf(text, sizeof(text), bad, port, it_dir, port);
	it_write_file(path, text);
	int rc = it_wait_exit(it_spawn(path, log), 10000);
	tap_ok(rc == 1 && it_file_has(log, "overlaps the Map-Server's server.listen"),
	       "map-resolver.listen overlapping server.listen (wildcard, same port): lispmsd "
	       "refuses to start (exit %d)",
	       rc);
}

/* Everything on the DDT port, live on lo, for tshark_check. */
static struct it_capture cap;

static void tshark_check(void)
{
	it_capture_stop(&cap);
	if (!it_tshark_or_tap(&cap))
		return;
	it_capture_opts(&cap, "-d udp.port==%u,lisp", ddt_port);
	/* what the resolver sent: from its socket */
	char from[128];
	snprintf(from, sizeof(from), "ip.src == " MR " && udp.srcport == %u", ddt_port);
	long bad = it_tshark_count(&cap,
				   "%s && (lisp.unexpected_field || lisp.invalid_field || "
				   "lisp.expected_field || lisp.undecoded || _ws.malformed || "
				   "_ws.expert.severity >= warning || data || !lisp)",
				   from);
	long sent = it_tshark_count(&cap, "%s", from);
	tap_ok(bad == 0 && sent == 15,
	       "tshark: the %ld messages the resolver sent (11 DDT Map-Requests, 4 negative "
	       "Map-Replies) decode cleanly (%ld flagged)",
	       sent, bad);
	/* every ECM it sent has D and goes to a DDT node or Map-Server on the DDT port */
	long ddt = it_tshark_count(&cap,
				   "%s && lisp.type == 8 && lisp.ecm.flags.ddt == 1 && "
				   "udp.dstport == %u && (ip.dst == " ROOT " || ip.dst == " MS
				   " || ip.dst == " DEAD " || ip.dst == " NODE ")",
				   from, ddt_port);
	long dead = it_tshark_count(&cap, "%s && lisp.type == 8 && ip.dst == " DEAD, from);
	tap_ok(ddt == 11 && dead == 1,
	       "tshark: 11 ECM Map-Requests with the D bit to the DDT port, 1 of them to the dead "
	       "Map-Server (%ld, %ld)",
	       ddt, dead);
	char filter[256], got[1024], want[512];
	/* D25: the inner Map-Request's nonce is the resolver's own toward the
	 * root and the node (none of the ITR's, 21 to 27 and 31, and all
	 * different), the ITR's toward the Map-Servers (they answer the ITR
	 * with it) */
	snprintf(filter, sizeof(filter),
		 "%s && lisp.type == 8 && (ip.dst == " ROOT " || ip.dst == " NODE ")", from);
	long to_root = it_tshark_fields(&cap, filter, "-e lisp.nonce", ";", got, sizeof(got));
	bool own = to_root == 5;
	unsigned long long seen[5] = { 0 };
	char *save = NULL;
	unsigned k = 0;
	for (char *t = strtok_r(got, ";", &save); t != NULL && k < 5;
	     t = strtok_r(NULL, ";", &save)) {
		seen[k] = strtoull(t, NULL, 16);
		own = own && (seen[k] < 21 || seen[k] > 27) && seen[k] != 31;
		for (unsigned j = 0; j < k; j++)
			own = own && seen[j] != seen[k];
		k++;
	}
	snprintf(filter, sizeof(filter),
		 "%s && lisp.type == 8 && (ip.dst == " MS " || ip.dst == " DEAD ")", from);
	long to_ms = it_tshark_fields(&cap, filter, "-e lisp.nonce", ";", got, sizeof(got));
	snprintf(want, sizeof(want),
		 "0x0000000000000015;0x0000000000000016;0x0000000000000017;"
		 "0x000000000000001a;0x000000000000001a;0x000000000000001b");
	bool itrs = to_ms == 6 && strcmp(got, want) == 0;
	tap_ok(own && itrs,
	       "tshark: the 5 DDT Map-Requests to the root and the node carry the resolver's own "
	       "nonces (none an ITR's, all different: %llx %llx %llx %llx %llx), the 6 to the "
	       "Map-Servers the ITR's (%s)",
	       seen[0], seen[1], seen[2], seen[3], seen[4], itrs ? "yes" : got);
	snprintf(filter, sizeof(filter), "%s && lisp.type == 2 && ip.dst == " ITR, from);
	long rows = it_tshark_fields(&cap, filter,
				     "-e lisp.nonce -e lisp.mapping.act -e lisp.mapping.ttl "
				     "-e lisp.mapping.loccnt -e lisp.mapping.eid.masklen "
				     "-e lisp.lcaf.iid -e lisp.lcaf.iid.ipv4",
				     ";", got, sizeof(got));
	snprintf(want, sizeof(want),
		 "0x0000000000000017 %d 1 0 17 1000 10.1.128.0;"
		 "0x0000000000000018 %d 15 0 9 1000 10.128.0.0;"
		 "0x0000000000000019 %d 15 0 9 1000 10.128.0.0;"
		 "0x000000000000001f %d 7 0 24 1000 10.6.1.0",
		 LISP_ACT_NATIVE_FORWARD, LISP_ACT_NATIVE_FORWARD, LISP_ACT_NATIVE_FORWARD,
		 LISP_ACT_NATIVE_FORWARD);
	bool neg = rows == 4 && strcmp(got, want) == 0;
	tap_ok(neg,
	       "tshark: the negative Map-Replies carry the ITR's nonces, Native-Forward, TTL 1, "
	       "15, 15, 7, no locator, the hole prefixes in instance 1000");
	if (!neg || ddt != 11 || bad != 0)
		it_tshark_dump(&cap, from,
			       "-e ip.dst -e lisp.type -e lisp.nonce -e lisp.mapping.act -e "
			       "lisp.mapping.ttl -e lisp.mapping.loccnt");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ms_resolver LISPMSD LISPMSCTL\n");
		return 2;
	}
	it_daemon = argv[1];
	ctl_bin = argv[2];
	tap_plan(25);
	actx = auth_ctx_new();
	it_auth = actx;
	ar = (struct arena){ .base = abuf_mem, .size = sizeof(abuf_mem) };
	auth_key_init(&key, 1, LISP_ALG_HMAC_SHA256, "a-key", 5);
	if (it_tempdir() != 0) {
		perror("mkdtemp");
		return 1;
	}
	ddt_port = it_free_port();
	mr_ms_port = it_free_port();
	it_capture_start(&cap, "ddt.pcapng", "udp port %u", ddt_port);
	pids[0] = start("root", root_conf, ddt_port, 0, 0);
	pids[1] = start("ms", ms_conf, ddt_port, 0, 0);
	pids[2] = start("mr", mr_conf, mr_ms_port, ddt_port, ddt_port);
	bool up = it_probe(ITR, ROOT, ddt_port) && it_probe(ITR, MS, ddt_port) &&
		  it_probe(ITR, MR, mr_ms_port) && it_resolver_up("mr");
	tap_ok(up, "the DDT root, the DDT Map-Server and the Map-Resolver start (port %u)",
	       ddt_port);
	if (up)
		scenario();
	else
		for (int i = 0; i < 15; i++)
			tap_skip("the daemons did not start");
	static const char *const names[] = { "root", "Map-Server", "Map-Resolver" };
	for (int i = 0; i < 3; i++) {
		kill(pids[i], SIGTERM);
		int rc = it_wait_exit(pids[i], 5000);
		tap_ok(rc == 0, "SIGTERM stops the %s cleanly (exit %d)", names[i], rc);
	}
	tshark_check();
	overlap_refused();
	if (tap_failed == 0)
		it_tempdir_remove();
	else
		printf("# logs and capture in %s\n", it_dir);
	auth_ctx_free(actx);
	return tap_done();
}
