/* SPDX-License-Identifier: MIT */
/*
 * Signed Map-Referrals end to end (RFC 8111 §7, docs/protocol.md D24), five
 * lispmsd on loopback: a DDT root (127.0.0.71) delegating [1000]
 * 10.0.0.0/9 to a DDT node (127.0.0.72), which delegates [1000] 10.1.0.0/16
 * to a DDT Map-Server (127.0.0.73), each signing with its own RSA key
 * (ddt.signing-key, keys made at run time); a resolver (127.0.0.74) that
 * trusts the root's key and is configured with the node's and the
 * Map-Server's (trust-anchors, delegation-keys), and a second resolver
 * (127.0.0.75) whose trust anchor is the wrong key. A test ITR asks each:
 * through the first, the Map-Server's answer reaches the ITR after three
 * verified referrals; the second drops the root's referral as not
 * verifying, counts it and answers the ITR negatively once its retries are
 * spent. tshark reads every Map-Referral on the DDT port: each signed once,
 * nothing malformed. Prints TAP.
 *
 * Usage: ms_ddt_signed LISPMSD LISPMSCTL
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/proto.h>

#include "capture.h"
#include "it.h"
#include "tap.h"
#include "testkey.h"

#define ROOT "127.0.0.71"
#define NODE "127.0.0.72"
#define MS   "127.0.0.73"
#define MR   "127.0.0.74"
#define MR2  "127.0.0.75"
#define ITR  "127.0.0.141"
#define ETR  "127.0.0.142"

enum { N_ROOT, N_NODE, N_MS, N_MR, N_MR2, N_DAEMONS };
static const char *const names[N_DAEMONS] = { "root", "node", "ms", "mr", "mr2" };
static const char *ctl_bin;
static uint16_t ddt_port, mr_port;
static pid_t pids[N_DAEMONS];
static struct auth_key key;
static uint8_t abuf_mem[1 << 20];
static struct arena ar;

/* %1$u the DDT port, %2$s the run's directory */
static const char *const confs[N_DAEMONS] = {
	"server: {listen: [" ROOT "], port: %1$u, workers: 1}\n"
	"control: {socket: %2$s/root.sock}\n"
	"ddt:\n"
	"  authoritative-prefixes: [\"[1000] 10.0.0.0/8\"]\n"
	"  delegations:\n"
	"    - {prefix: \"[1000] 10.0.0.0/9\", referrals: [" NODE "]}\n"
	"  signing-key: %2$s/root.key\n",

	"server: {listen: [" NODE "], port: %1$u, workers: 1}\n"
	"control: {socket: %2$s/node.sock}\n"
	"ddt:\n"
	"  authoritative-prefixes: [\"[1000] 10.0.0.0/9\"]\n"
	"  delegations:\n"
	"    - {prefix: \"[1000] 10.1.0.0/16\", map-servers: true, referrals: [" MS "]}\n"
	"  signing-key: %2$s/node.key\n",

	"server: {listen: [" MS "], port: %1$u, workers: 1}\n"
	"control: {socket: %2$s/ms.sock}\n"
	"sites:\n"
	"  - name: alpha\n"
	"    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"a-key\"}]\n"
	"    eid-prefixes: [\"[1000] 10.1.0.0/16\"]\n"
	"    accept-more-specifics: true\n"
	"    proxy-reply: true\n"
	"ddt:\n"
	"  signing-key: %2$s/ms.key\n",

	"server: {listen: [" MR "], port: %3$u, workers: 1}\n"
	"control: {socket: %2$s/mr.sock}\n"
	"log: {level: debug}\n"
	"map-resolver:\n"
	"  roots: [" ROOT "]\n"
	"  listen: [" MR "]\n"
	"  port: %1$u\n"
	"  ddt-port: %1$u\n"
	"  timeout-ms: 300\n"
	"  retries: 0\n"
	"  trust-anchors: %2$s/root.pub\n"
	"  delegation-keys:\n"
	"    - {prefix: \"[1000] 10.0.0.0/9\", key: %2$s/node.pub}\n"
	"    - {prefix: \"[1000] 10.1.0.0/16\", key: %2$s/ms.pub}\n",

	"server: {listen: [" MR2 "], port: %3$u, workers: 1}\n"
	"control: {socket: %2$s/mr2.sock}\n"
	"map-resolver:\n"
	"  roots: [" ROOT "]\n"
	"  listen: [" MR2 "]\n"
	"  port: %1$u\n"
	"  ddt-port: %1$u\n"
	"  timeout-ms: 300\n"
	"  retries: 0\n"
	"  trust-anchors: %2$s/node.pub\n",
};

static void write_keys(void)
{
	static const char *const who[3] = { "root", "node", "ms" };
	for (unsigned i = 0; i < 3; i++) {
		char path[160];
		snprintf(path, sizeof(path), "%s/%s.key", it_dir, who[i]);
		if (testkey_write(i, true, path) != 0)
			abort();
		snprintf(path, sizeof(path), "%s/%s.pub", it_dir, who[i]);
		if (testkey_write(i, false, path) != 0)
			abort();
	}
}

static pid_t start(unsigned i)
{
	char path[160], log[160], text[4096];
	snprintf(path, sizeof(path), "%s/%s.yaml", it_dir, names[i]);
	snprintf(log, sizeof(log), "%s/%s.log", it_dir, names[i]);
	snprintf(text, sizeof(text), confs[i], (unsigned)ddt_port, it_dir, (unsigned)mr_port);
	it_write_file(path, text);
	return it_spawn(path, log);
}

static bool ask(int itr, uint16_t itr_port, const char *mr, const char *eid, uint64_t nonce,
		struct lisp_map_reply *rep, char *from, size_t fromlen)
{
	return it_ask(itr, ITR, itr_port, mr, ddt_port, eid, nonce, &ar, rep, from, fromlen);
}

/* lispmsctl -s SOCK stats: the counter (name and labels as printed) equals want. */
static bool stat_is(const char *sock, const char *metric, long want)
{
	char cmd[768];
	snprintf(cmd, sizeof(cmd), "%s -s %s/%s stats lispms_ 2>&1 | grep -cE '^%s +%ld$'", ctl_bin,
		 it_dir, sock, metric, want);
	return it_shell_count(cmd) == 1;
}

static void dump_stats(const char *sock)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "%s -s %s/%s stats lispms_ | grep -E 'mr_|ddt' | grep -v ' 0$' | sed 's/^/# %s /'",
		 ctl_bin, it_dir, sock, sock);
	(void)system(cmd);
}

static void scenario(void)
{
	struct it_reg r = { .flags = LISP_MREG_M,
			    .nonce = 1,
			    .key = &key,
			    .eids = { "[1000] 10.1.1.0/24" },
			    .rloc = "192.0.2.1",
			    .priority = 1,
			    .ttl = 10 };
	tap_ok(it_register_once(ETR, MS, ddt_port, &r),
	       "an ETR registers [1000] 10.1.1.0/24 with the DDT Map-Server");

	int itr = it_client(ITR, 0);
	uint16_t port = it_local_port(itr);
	struct lisp_map_reply rep;
	char from[64];

	bool ok = ask(itr, port, MR, "[1000] 10.1.1.5/32", 31, &rep, from, sizeof(from));
	tap_ok(ok && strcmp(from, MS) == 0 && rep.records[0].nlocs == 1 &&
		   it_record_is(&rep.records[0], "[1000] 10.1.1.0/24"),
	       "through the resolver that holds the keys: the Map-Server's Map-Reply reaches the "
	       "ITR (root -> NODE-REFERRAL -> MS-REFERRAL -> MS-ACK, each verified; from %s)",
	       ok ? from : "-");
	usleep(200000); /* the resolver's counters are exported on its next wake-up */
	bool mr_ok =
	    stat_is("mr.sock", "lispms_mr_ddt_requests_sent_total", 3) &&
	    stat_is("mr.sock", "lispms_mr_resolutions_total\\{outcome=\"ms_ack\"\\}", 1) &&
	    stat_is("mr.sock", "lispms_mr_dropped_total\\{reason=\"signature_failed\"\\}", 0) &&
	    stat_is("mr.sock", "lispms_mr_dropped_total\\{reason=\"unsigned_referral\"\\}", 0) &&
	    stat_is("mr.sock", "lispms_mr_dropped_total\\{reason=\"no_referral_key\"\\}", 0);
	tap_ok(mr_ok, "its counters: 3 DDT Map-Requests, 1 handed to the Map-Server, no referral "
		      "dropped");
	if (!mr_ok)
		dump_stats("mr.sock");

	ok = ask(itr, port, MR2, "[1000] 10.1.1.6/32", 32, &rep, from, sizeof(from));
	tap_ok(ok && strcmp(from, MR2) == 0 && rep.records[0].nlocs == 0 &&
		   rep.records[0].act == LISP_ACT_SEND_MAP_REQUEST && rep.records[0].ttl == 1,
	       "through the resolver with the wrong trust anchor: the root's referral does not "
	       "verify, and after its timeout the ITR gets a negative Map-Reply (Send-Map-Request, "
	       "TTL 1; from %s)",
	       ok ? from : "-");
	usleep(200000);
	bool mr2_ok =
	    stat_is("mr2.sock", "lispms_mr_dropped_total\\{reason=\"signature_failed\"\\}", 1) &&
	    stat_is("mr2.sock", "lispms_mr_resolutions_total\\{outcome=\"gave_up\"\\}", 1) &&
	    stat_is("mr2.sock", "lispms_mr_ddt_requests_sent_total", 1);
	tap_ok(mr2_ok, "its counters: the one referral dropped as signature_failed, the request "
		       "given up");
	if (!mr2_ok)
		dump_stats("mr2.sock");
	close(itr);

	bool signed_ok = stat_is("root.sock", "lispms_ddt_referrals_signed_total", 2) &&
			 stat_is("node.sock", "lispms_ddt_referrals_signed_total", 1) &&
			 stat_is("ms.sock", "lispms_ddt_referrals_signed_total", 1);
	tap_ok(signed_ok, "the root signed 2 Map-Referrals, the node 1, the Map-Server 1");
	if (!signed_ok)
		for (unsigned i = 0; i < 3; i++) {
			char sock[32];
			snprintf(sock, sizeof(sock), "%s.sock", names[i]);
			dump_stats(sock);
		}
}

static struct it_capture cap;

static void tshark_check(void)
{
	it_capture_stop(&cap);
	if (!it_tshark_or_tap(&cap))
		return;
	it_capture_opts(&cap, "-d udp.port==%u,lisp", ddt_port);
	long refs = it_tshark_count(&cap, "lisp.type == 6");
	long one_sig = it_tshark_count(&cap, "lisp.type == 6 && lisp.referral.sigcnt == 1");
	/* tshark 4.0 leaves the signature section as a Data layer (docs/protocol.md
	 * §6.3); anything else flagged is ours */
	long bad = it_tshark_count(&cap, "lisp.type == 6 && (lisp.unexpected_field || "
					 "lisp.invalid_field || lisp.expected_field || "
					 "lisp.undecoded || _ws.malformed)");
	tap_ok(refs == 4 && one_sig == 4 && bad == 0,
	       "tshark: the 4 Map-Referrals on the DDT port carry one signature each, none "
	       "malformed (%ld, %ld signed, %ld flagged)",
	       refs, one_sig, bad);
	if (refs != 4 || one_sig != 4 || bad != 0)
		it_tshark_dump(&cap, "lisp.type == 6",
			       "-e ip.src -e ip.dst -e lisp.referral.sigcnt -e lisp.mapping.act");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ms_ddt_signed LISPMSD LISPMSCTL\n");
		return 2;
	}
	it_daemon = argv[1];
	ctl_bin = argv[2];
	tap_plan(13);
	struct auth_ctx *actx = auth_ctx_new();
	it_auth = actx;
	ar = (struct arena){ .base = abuf_mem, .size = sizeof(abuf_mem) };
	auth_key_init(&key, 1, LISP_ALG_HMAC_SHA256, "a-key", 5);
	if (it_tempdir() != 0) {
		perror("mkdtemp");
		return 1;
	}
	write_keys();
	ddt_port = it_free_port();
	mr_port = it_free_port();
	it_capture_start(&cap, "ddt.pcapng", "udp port %u", ddt_port);
	for (unsigned i = 0; i < N_DAEMONS; i++)
		pids[i] = start(i);
	bool up = it_probe(ITR, ROOT, ddt_port) && it_probe(ITR, NODE, ddt_port) &&
		  it_probe(ITR, MS, ddt_port) && it_probe(ITR, MR, mr_port) &&
		  it_probe(ITR, MR2, mr_port) && it_resolver_up("mr") && it_resolver_up("mr2");
	tap_ok(up, "the root, the node, the Map-Server and two resolvers start (port %u)",
	       ddt_port);
	if (up)
		scenario();
	else
		for (int i = 0; i < 6; i++)
			tap_skip("the daemons did not start");
	for (unsigned i = 0; i < N_DAEMONS; i++) {
		kill(pids[i], SIGTERM);
		int rc = it_wait_exit(pids[i], 5000);
		tap_ok(rc == 0, "SIGTERM stops the %s cleanly (exit %d)", names[i], rc);
	}
	tshark_check();
	if (tap_failed == 0)
		it_tempdir_remove();
	else
		printf("# logs and capture in %s\n", it_dir);
	auth_ctx_free(actx);
	return tap_done();
}
