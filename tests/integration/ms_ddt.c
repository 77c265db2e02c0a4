/* SPDX-License-Identifier: MIT */
/*
 * lispmsd as a DDT Map-Server and a DDT node at once (RFC 8111, issue 21):
 * DDT Map-Requests (ECM with the D bit) over UDP get a Map-Referral of each
 * action: MS-ACK (and the proxy Map-Reply to the ITR-RLOC), MS-NOT-REGISTERED,
 * NODE-REFERRAL, MS-REFERRAL, DELEGATION-HOLE, NOT-AUTHORITATIVE; an ECM
 * without D still gets a Map-Reply. Everything the daemon sends is written to
 * a pcap and decoded by tshark, the referral fields compared; `lispmsctl ddt`
 * shows the table. Prints TAP.
 *
 * Usage: ms_ddt LISPMSD LISPMSCTL
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
#include "pcap.h"
#include "tap.h"

static pid_t daemon_pid;
static const char *ctl_bin;
static uint16_t ms_port;
static char conf_path[128], log_path[128], pcap_path[128];
static struct pcap cap;
static unsigned captured;
static struct auth_ctx *actx;
static struct auth_key key;
static uint8_t abuf_mem[1 << 20];
static struct arena ar;

static const char *config = "server:\n"
			    "  listen: [127.0.0.1]\n"
			    "  port: %u\n"
			    "  workers: 2\n"
			    "control:\n"
			    "  socket: %s/ctl.sock\n"
			    "log:\n"
			    "  level: debug\n"
			    "sites:\n"
			    "  - name: alpha\n"
			    "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"a-key\"}]\n"
			    "    eid-prefixes: [\"[1000] 10.1.0.0/16\"]\n"
			    "    accept-more-specifics: true\n"
			    "    proxy-reply: true\n"
			    "ddt:\n"
			    "  authoritative-prefixes: [\"[1000] 10.0.0.0/8\"]\n"
			    "  delegations:\n"
			    "    - {prefix: \"[1000] 10.2.0.0/16\", referrals: [192.0.2.10, "
			    "192.0.2.11]}\n"
			    "    - {prefix: \"[1000] 10.3.0.0/16\", map-servers: true, "
			    "referrals: [\"2001:db8::20\"]}\n";

static void send_ms(int fd, const uint8_t *msg, size_t len)
{
	struct sockaddr_storage dst;
	saddr_parse("127.0.0.1", &dst);
	saddr_set_port(&dst, ms_port);
	sendto(fd, msg, len, 0, (struct sockaddr *)&dst, saddr_len(&dst));
}

static ssize_t recv_one(int fd, uint8_t *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	ssize_t n = recv(fd, buf, len, 0);
	if (n > 0) {
		static const uint8_t src[4] = { 127, 0, 0, 1 }, dst[4] = { 127, 0, 0, 2 };
		pcap_udp(&cap, src, dst, 4342, 4342, buf, (size_t)n);
		captured++;
	}
	return n;
}

/* The expected action of each referral, in the order they come. */
static char acts_sent[64];

/*
 * A DDT Map-Request for eid from the resolver socket; the Map-Referral it
 * gets (decoded into *out), and how many Map-Replies came with it.
 */
static bool ddt_request(int fd, uint16_t port, const char *eid, uint64_t nonce, bool d_bit,
			struct lisp_map_referral *out, unsigned *replies)
{
	uint8_t msg[1024], rep[2048];
	size_t len = it_build_request(eid, "127.0.0.131", nonce, true, port, msg, sizeof(msg));
	if (len == 0)
		return false;
	if (d_bit)
		msg[0] |= (uint8_t)(LISP_ECM_D >> 24);
	send_ms(fd, msg, len);
	bool got = false;
	*replies = 0;
	arena_reset(&ar);
	ssize_t n;
	while ((n = recv_one(fd, rep, sizeof(rep), got || !d_bit ? 300 : 1500)) > 0) {
		if (msg_type(rep, (size_t)n) == LISP_MSG_MAP_REPLY) {
			++*replies;
			continue;
		}
		if (map_referral_decode(rep, (size_t)n, &ar, out) != LISPMS_EOK ||
		    out->nonce != nonce || out->nrecords != 1)
			return false;
		size_t k = strlen(acts_sent);
		snprintf(acts_sent + k, sizeof(acts_sent) - k, "%s%u", k ? "," : "",
			 out->records[0].r.act);
		got = true;
	}
	return got;
}

static void scenario(void)
{
	int fd = it_client("127.0.0.131", 0);
	struct sockaddr_storage me;
	socklen_t sl = sizeof(me);
	getsockname(fd, (struct sockaddr *)&me, &sl);
	uint16_t port = saddr_port(&me);

	struct it_reg r = { .flags = LISP_MREG_M,
			    .nonce = 1,
			    .key = &key,
			    .eids = { "[1000] 10.1.1.0/24" },
			    .rloc = "192.0.2.1",
			    .priority = 1,
			    .ttl = 10 };
	uint8_t msg[2048], rep[2048];
	size_t len = it_build_register(&r, msg, sizeof(msg));
	send_ms(fd, msg, len);
	tap_ok(recv_one(fd, rep, sizeof(rep), 1500) > 0 &&
		   msg_type(rep, sizeof(rep)) == LISP_MSG_MAP_NOTIFY,
	       "an ETR registers [1000] 10.1.1.0/24");

	struct lisp_map_referral m;
	unsigned replies;
	const struct lisp_referral_record *rr;
	bool ok = ddt_request(fd, port, "[1000] 10.1.1.5/32", 11, true, &m, &replies);
	rr = ok ? &m.records[0] : NULL;
	tap_ok(ok && rr->r.act == LISP_REF_MS_ACK && rr->r.a &&
		   it_record_is(&rr->r, "[1000] 10.1.1.0/24") && replies == 1,
	       "registered: MS-ACK for the registered prefix, and the proxy Map-Reply");

	ok = ddt_request(fd, port, "[1000] 10.1.200.1/32", 12, true, &m, &replies);
	rr = ok ? &m.records[0] : NULL;
	tap_ok(ok && rr->r.act == LISP_REF_MS_NOT_REGISTERED && rr->r.ttl == 1 &&
		   it_record_is(&rr->r, "[1000] 10.1.128.0/17") && replies == 0,
	       "configured, not registered: MS-NOT-REGISTERED, TTL 1, the hole around it");

	ok = ddt_request(fd, port, "[1000] 10.2.7.7/32", 13, true, &m, &replies);
	rr = ok ? &m.records[0] : NULL;
	tap_ok(ok && rr->r.act == LISP_REF_NODE_REFERRAL && rr->r.ttl == 1440 && rr->r.nlocs == 2 &&
		   it_record_is(&rr->r, "[1000] 10.2.0.0/16"),
	       "delegated to DDT nodes: NODE-REFERRAL with both of them");

	ok = ddt_request(fd, port, "[1000] 10.3.7.7/32", 14, true, &m, &replies);
	rr = ok ? &m.records[0] : NULL;
	tap_ok(ok && rr->r.act == LISP_REF_MS_REFERRAL && rr->r.nlocs == 1 &&
		   rr->r.locs[0].addr.afi == LISP_AFI_IPV6 &&
		   it_record_is(&rr->r, "[1000] 10.3.0.0/16"),
	       "delegated to Map-Servers: MS-REFERRAL");

	ok = ddt_request(fd, port, "[1000] 10.200.0.1/32", 15, true, &m, &replies);
	rr = ok ? &m.records[0] : NULL;
	tap_ok(ok && rr->r.act == LISP_REF_DELEGATION_HOLE && rr->r.ttl == 15 &&
		   it_record_is(&rr->r, "[1000] 10.128.0.0/9"),
	       "undelegated inside the authority: DELEGATION-HOLE for the covering hole");

	ok = ddt_request(fd, port, "[7] 10.1.1.1/32", 16, true, &m, &replies);
	rr = ok ? &m.records[0] : NULL;
	tap_ok(ok && rr->r.act == LISP_REF_NOT_AUTHORITATIVE && rr->r.ttl == 0 && !rr->r.a,
	       "outside the authority: NOT-AUTHORITATIVE, TTL 0");

	ok = ddt_request(fd, port, "[1000] 10.1.1.5/32", 17, false, &m, &replies);
	tap_ok(!ok && replies == 1, "an ECM without D: a Map-Reply and no referral");
	close(fd);

	char cmd[512], out[4096] = "";
	snprintf(cmd, sizeof(cmd), "%s -s %s/ctl.sock ddt 2>&1", ctl_bin, it_dir);
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
	out[n] = '\0';
	int st = p ? pclose(p) : -1;
	tap_ok(st == 0 && strstr(out, "[1000] 10.2.0.0/16") && strstr(out, "ddt-nodes") &&
		   strstr(out, "192.0.2.10,192.0.2.11") && strstr(out, "map-servers") &&
		   strstr(out, "2001:db8::20") && strstr(out, "authoritative"),
	       "lispmsctl ddt shows the delegations and the authority");
	if (tap_failed)
		printf("# %s", out);
}

static void tshark_check(void)
{
	pcap_close(&cap);
	struct it_capture c;
	it_capture_file(&c, pcap_path);
	if (!it_tshark_or_tap(&c))
		return;
	long bad = it_tshark_count(&c, "lisp.unexpected_field || lisp.invalid_field || "
				       "lisp.expected_field || lisp.undecoded || _ws.malformed || "
				       "data");
	tap_ok(bad == 0, "tshark finds no expert info in the %u messages lispmsd sent (%ld)",
	       captured, bad);
	long decoded = it_tshark_count(&c, "lisp.type");
	tap_ok(decoded == (long)captured, "tshark decodes every message as LISP (%ld of %u)",
	       decoded, captured);
	/* the actions as tshark reads them, in order, against what was decoded */
	char got[256];
	long rows =
	    it_tshark_fields(&c, "lisp.type == 6", "-e lisp.mapping.act", ",", got, sizeof(got));
	tap_ok(rows > 0 && strcmp(got, acts_sent) == 0,
	       "tshark reads the Map-Referrals' actions as sent (%s)", acts_sent);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ms_ddt LISPMSD LISPMSCTL\n");
		return 2;
	}
	it_daemon = argv[1];
	ctl_bin = argv[2];
	tap_plan(14);
	actx = auth_ctx_new();
	it_auth = actx;
	ar = (struct arena){ .base = abuf_mem, .size = sizeof(abuf_mem) };
	auth_key_init(&key, 1, LISP_ALG_HMAC_SHA256, "a-key", 5);
	if (it_tempdir() != 0) {
		perror("mkdtemp");
		return 1;
	}
	ms_port = it_free_port();
	snprintf(conf_path, sizeof(conf_path), "%s/lispms.yaml", it_dir);
	snprintf(log_path, sizeof(log_path), "%s/lispmsd.log", it_dir);
	snprintf(pcap_path, sizeof(pcap_path), "%s/sent.pcap", it_dir);
	char text[4096];
	snprintf(text, sizeof(text), config, ms_port, it_dir);
	it_write_file(conf_path, text);
	pcap_open(&cap, pcap_path);
	daemon_pid = it_spawn(conf_path, log_path);

	int probe = it_client("127.0.0.121", 0);
	bool ready = false;
	for (int i = 0; i < 100 && !ready; i++) {
		uint8_t msg[512], rep[2048];
		size_t len = it_build_request("[1] 10.0.0.1", "127.0.0.121", 0xfeed, false, 0, msg,
					      sizeof(msg));
		send_ms(probe, msg, len);
		struct pollfd p = { .fd = probe, .events = POLLIN };
		ready = poll(&p, 1, 50) == 1 && recv(probe, rep, sizeof(rep), 0) > 0;
	}
	close(probe);
	tap_ok(ready, "lispmsd starts and answers (port %u)", ms_port);
	if (!ready) {
		it_wait_exit(daemon_pid, 100);
		return tap_done();
	}
	scenario();
	kill(daemon_pid, SIGTERM);
	int rc = it_wait_exit(daemon_pid, 5000);
	tap_ok(rc == 0, "SIGTERM stops lispmsd cleanly (exit %d)", rc);
	tshark_check();
	if (tap_failed == 0)
		it_tempdir_remove();
	else
		printf("# daemon log: %s, sent: %s\n", log_path, pcap_path);
	auth_ctx_free(actx);
	return tap_done();
}
