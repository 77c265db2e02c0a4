/* SPDX-License-Identifier: MIT */
/*
 * lispmsd end to end with publish/subscribe (RFC 9437, D20, issue 17): a
 * border on the subscribers: list subscribes to [1000] 0.0.0.0/0 and gets
 * the current state signed with its own key, then each registration and
 * move; a lost ack is retransmitted; an ack with another key does not
 * count; an xTR nobody allowed gets a plain answer; a replayed nonce is
 * dropped; `lispmsctl subscriptions [--json]` shows it, `subscription drop`
 * forgets it; unsubscribing stops publications; a reload that removes the
 * permission drops the subscriber. Everything the daemon sends is written
 * to a pcap and decoded by tshark. Prints TAP.
 *
 * Usage: ms_pubsub LISPMSD LISPMSCTL
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
static const char *ctl_bin;
static char conf_path[128], log_path[128], pcap_path[128], ctl_sock[128];
static char ctl_out[1 << 16];
static struct pcap cap;
static unsigned captured;
static struct auth_ctx *actx;
static struct auth_key k_two, k_border, k_wrong;
static uint8_t abuf_mem[1 << 20];
static struct arena ar;

static const uint8_t BORDER[16] = { 0xbb, [15] = 1 };
static const uint8_t NOBODY[16] = { 0x5a, [15] = 0x5a };

static const char *config_head = "server:\n"
				 "  listen: [127.0.0.1]\n"
				 "  port: %u\n"
				 "  workers: 2\n"
				 "control:\n"
				 "  socket: %s\n"
				 "log:\n"
				 "  level: debug\n"
				 "sites:\n"
				 "  - name: alpha\n"
				 "    keys:\n"
				 "      - {id: 2, algorithm: hmac-sha-256-128, secret: \"k-two\"}\n"
				 "    eid-prefixes: [\"[1000] 10.1.0.0/16\"]\n"
				 "    accept-more-specifics: true\n";
static const char *config_subs =
    "subscribers:\n"
    "  - name: border\n"
    "    xtr-id: bb000000000000000000000000000001\n"
    "    keys: [{id: 9, algorithm: hmac-sha-256-128, secret: s-key}]\n";

static void write_conf(bool with_subscriber)
{
	char text[4096];
	int n = snprintf(text, sizeof(text), config_head, ms_port, ctl_sock);
	if (with_subscriber)
		snprintf(text + n, sizeof(text) - (size_t)n, "%s", config_subs);
	it_write_file(conf_path, text);
}

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

__attribute__((format(printf, 1, 2))) static int ctl_run(const char *fmt, ...)
{
	char args[512], cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s -s %s %s 2>&1", ctl_bin, ctl_sock, args);
	ctl_out[0] = '\0';
	FILE *p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	size_t n = fread(ctl_out, 1, sizeof(ctl_out) - 1, p);
	ctl_out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long stat_value(const char *name)
{
	if (ctl_run("stats") != 0)
		return -1;
	const char *p = strstr(ctl_out, name);
	if (p == NULL)
		return 0;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return strtol(p, NULL, 10);
}

static int reg(int fd, const struct it_reg *r)
{
	uint8_t msg[2048], rep[2048];
	size_t len = it_build_register(r, msg, sizeof(msg));
	if (len == 0)
		return -1;
	send_ms(fd, msg, len);
	ssize_t n = recv_one(fd, rep, sizeof(rep), 1500);
	struct lisp_map_notify mn;
	arena_reset(&ar);
	if (n <= 0 || map_notify_decode(rep, (size_t)n, &ar, &mn) != LISPMS_EOK ||
	    mn.nonce != r->nonce || auth_verify(actx, r->key, 1, rep, (size_t)n, &mn.auth) != 0)
		return -1;
	return mn.nrecords;
}

/*
 * A bare subscription Map-Request (I and N bits) for eid from xtr, ITR-RLOC
 * itr (NULL: AFI 0, unsubscribing), site-ID 7. The I bit and the trailer
 * are written by hand, as an xTR would send them.
 */
static size_t subscription(const char *eid, const uint8_t xtr[16], const char *itr, uint64_t nonce,
			   uint8_t *out, size_t cap_len)
{
	struct eid_prefix p;
	eid_prefix_parse(eid, &p);
	struct afi_addr rloc = { .afi = LISP_AFI_NONE };
	if (itr != NULL) {
		struct lisp_addr a;
		lisp_addr_parse(itr, &a);
		afi_from_addr(&a, &rloc);
	}
	struct lisp_request_record rec = { .eid_plen = p.plen, .reserved = 0x80 };
	afi_from_eid(&p, &rec.eid);
	struct lisp_map_request req = {
		.nonce = nonce, .nitr = 1, .itr_rlocs = &rloc, .nrecords = 1, .records = &rec
	};
	size_t len;
	if (cap_len < 24 || map_request_encode(&req, out, cap_len - 24, &len) != LISPMS_EOK)
		return 0;
	out[1] |= 0x10; /* I: bit 11 of the first word */
	memcpy(out + len, xtr, 16);
	len += 16;
	static const uint8_t seven[8] = { 0, 0, 0, 0, 0, 0, 0, 7 };
	memcpy(out + len, seven, 8);
	return len + 8;
}

/* The next Map-Notify on fd, verified with key, into *mn and raw[]; its length or -1. */
static ssize_t next_notify(int fd, const struct auth_key *key, struct lisp_map_notify *mn,
			   uint8_t *raw, size_t cap_len, int timeout_ms)
{
	ssize_t n = recv_one(fd, raw, cap_len, timeout_ms);
	arena_reset(&ar);
	if (n <= 0 || map_notify_decode(raw, (size_t)n, &ar, mn) != LISPMS_EOK ||
	    mn->type != LISP_MSG_MAP_NOTIFY ||
	    auth_verify(actx, key, 1, raw, (size_t)n, &mn->auth) != LISPMS_EOK)
		return -1;
	return n;
}

/* Acknowledge a received Map-Notify (raw, n bytes) signed with key. */
static void ack(int fd, uint8_t *raw, size_t n, const struct lisp_map_notify *mn,
		const struct auth_key *key)
{
	raw[0] = (uint8_t)(LISP_MSG_MAP_NOTIFY_ACK << 4);
	memset(raw + LISPMS_AUTH_OFFSET, 0, mn->auth.len);
	auth_sign(actx, key, raw, n);
	send_ms(fd, raw, n);
}

static bool record_locator_is(const struct lisp_record *r, const char *rloc)
{
	struct lisp_addr a, want;
	lisp_addr_parse(rloc, &want);
	return r->nlocs == 1 && afi_to_addr(&r->locs[0].addr, &a) == LISPMS_EOK &&
	       lisp_addr_equal(&a, &want);
}

static void scenario(void)
{
	static const uint8_t xa[16] = { 0xa1 }, xb[16] = { 0xb1 };
	int etr_a = it_client("127.0.0.171", 0), etr_b = it_client("127.0.0.172", 0);
	int border = it_client("127.0.0.160", 0), nobody = it_client("127.0.0.161", 0);
	struct it_reg r = { .flags = LISP_MREG_M | LISP_MREG_I,
			    .nonce = 0x100,
			    .key = &k_two,
			    .eids = { "[1000] 10.1.1.0/24" },
			    .rloc = "127.0.0.171",
			    .xtr_id = xa };
	tap_ok(reg(etr_a, &r) == 1, "ETR A registers [1000] 10.1.1.0/24");

	/* subscription to a whole instance: the current state */
	uint8_t msg[512], raw[4096];
	size_t len = subscription("[1000] 0.0.0.0/0", BORDER, "127.0.0.160", 5000, msg, 512);
	send_ms(border, msg, len);
	struct lisp_map_notify mn;
	ssize_t n = next_notify(border, &k_border, &mn, raw, sizeof(raw), 2000);
	tap_ok(n > 0 && mn.nonce == 5000 && mn.nrecords == 2 && mn.records[0].nlocs == 0 &&
		   it_record_is(&mn.records[1], "[1000] 10.1.1.0/24") &&
		   record_locator_is(&mn.records[1], "127.0.0.171"),
	       "the border's subscription to [1000] 0.0.0.0/0 is answered with a Map-Notify: "
	       "the request's nonce, signed with the border's key, the negative /0 and A's "
	       "mapping");
	if (n > 0)
		ack(border, raw, (size_t)n, &mn, &k_border);

	/* a new registration, then a move */
	r = (struct it_reg){ .flags = LISP_MREG_M | LISP_MREG_I,
			     .nonce = 0x101,
			     .key = &k_two,
			     .eids = { "[1000] 10.1.2.0/24" },
			     .rloc = "127.0.0.172",
			     .xtr_id = xb };
	tap_ok(reg(etr_b, &r) == 1, "ETR B registers [1000] 10.1.2.0/24");
	n = next_notify(border, &k_border, &mn, raw, sizeof(raw), 2000);
	tap_ok(n > 0 && mn.nonce == 5001 && mn.nrecords == 1 &&
		   it_record_is(&mn.records[0], "[1000] 10.1.2.0/24"),
	       "published to the border with the next nonce (5001)");
	if (n > 0)
		ack(border, raw, (size_t)n, &mn, &k_border);
	r.nonce = 0x102;
	r.eids[0] = "[1000] 10.1.1.0/24";
	tap_ok(reg(etr_b, &r) == 1, "ETR B moves [1000] 10.1.1.0/24 to itself");
	n = next_notify(border, &k_border, &mn, raw, sizeof(raw), 2000);
	tap_ok(n > 0 && mn.nonce == 5002 && it_record_is(&mn.records[0], "[1000] 10.1.1.0/24") &&
		   record_locator_is(&mn.records[0], "127.0.0.172"),
	       "the move is published with B's locator");

	/* the ack is lost: retransmitted; an ack with another key does not count */
	long acks0 = stat_value("lispms_pubsub_acks_total");
	if (n > 0) {
		uint8_t copy[4096];
		memcpy(copy, raw, (size_t)n);
		ack(border, copy, (size_t)n, &mn, &k_wrong);
	}
	ssize_t again = next_notify(border, &k_border, &mn, raw, sizeof(raw), 5000);
	tap_ok(again > 0 && mn.nonce == 5002,
	       "unacknowledged (the ack was signed with another key): retransmitted after 3 s");
	tap_ok(stat_value("lispms_pubsub_acks_total") == acks0,
	       "the ack with another key was not counted");
	if (again > 0)
		ack(border, raw, (size_t)again, &mn, &k_border);
	usleep(300000);
	tap_ok(stat_value("lispms_pubsub_acks_total") == acks0 + 1, "the right ack is counted");

	/* an xTR nobody allowed; a replay */
	len = subscription("[1000] 10.1.0.0/16", NOBODY, "127.0.0.161", 77, msg, 512);
	send_ms(nobody, msg, len);
	n = recv_one(nobody, raw, sizeof(raw), 1500);
	tap_ok(n > 0 && msg_type(raw, (size_t)n) == LISP_MSG_MAP_REPLY,
	       "an xTR nobody allowed to subscribe gets a plain Map-Reply");
	len = subscription("[1000] 0.0.0.0/0", BORDER, "127.0.0.160", 5000, msg, 512);
	send_ms(border, msg, len);
	tap_ok(recv_one(border, raw, sizeof(raw), 1000) < 0 &&
		   stat_value("lispms_pubsub_requests_total{result=\"replayed\"}") == 1,
	       "a subscription with an old nonce is a replay: dropped and counted");

	/* operators */
	int rc = ctl_run("subscriptions");
	tap_ok(rc == 0 && strstr(ctl_out, "subscriber border") &&
		   strstr(ctl_out, "bb000000000000000000000000000001") &&
		   strstr(ctl_out, "udp 127.0.0.160") && strstr(ctl_out, "[1000] 0.0.0.0/0"),
	       "lispmsctl subscriptions shows the border%s", rc == 0 ? "" : ctl_out);
	rc = ctl_run("--json subscriptions");
	tap_ok(rc == 0 && strstr(ctl_out, "\"xtr_id\":\"bb000000000000000000000000000001\"") &&
		   strstr(ctl_out, "\"published\":3"),
	       "and in JSON, with 3 publications%s", rc == 0 ? "" : ctl_out);
	tap_ok(stat_value("lispms_pubsub_subscribers") == 1, "lispms_pubsub_subscribers 1");

	/* unsubscribe, subscribe again, drop by the operator */
	len = subscription("[1000] 0.0.0.0/0", BORDER, NULL, 6000, msg, 512);
	send_ms(border, msg, len);
	usleep(300000);
	r.nonce = 0x103;
	r.eids[0] = "[1000] 10.1.3.0/24";
	reg(etr_b, &r);
	tap_ok(recv_one(border, raw, sizeof(raw), 1000) < 0 &&
		   stat_value("lispms_pubsub_subscribers") == 0,
	       "after unsubscribing (AFI 0 ITR-RLOC) nothing is published");
	len = subscription("[1000] 10.1.0.0/16", BORDER, "127.0.0.160", 7000, msg, 512);
	send_ms(border, msg, len);
	n = next_notify(border, &k_border, &mn, raw, sizeof(raw), 2000);
	tap_ok(n > 0 && mn.nonce == 7000 && mn.nrecords == 4,
	       "subscribed again to [1000] 10.1.0.0/16: its negative and 3 registrations");
	if (n > 0)
		ack(border, raw, (size_t)n, &mn, &k_border);
	rc = ctl_run("subscription drop bb000000000000000000000000000001");
	tap_ok(rc == 0 && stat_value("lispms_pubsub_subscribers") == 0 &&
		   stat_value("lispms_pubsub_dropped_total{reason=\"operator\"}") == 1,
	       "lispmsctl subscription drop forgets it");

	/* a reload that removes the permission */
	len = subscription("[1000] 10.1.0.0/16", BORDER, "127.0.0.160", 8000, msg, 512);
	send_ms(border, msg, len);
	n = next_notify(border, &k_border, &mn, raw, sizeof(raw), 2000);
	if (n > 0)
		ack(border, raw, (size_t)n, &mn, &k_border);
	write_conf(false);
	rc = ctl_run("reload");
	bool gone = false;
	for (int i = 0; i < 40 && !gone; i++) {
		usleep(100000);
		gone = stat_value("lispms_pubsub_subscribers") == 0;
	}
	tap_ok(rc == 0 && gone &&
		   stat_value("lispms_pubsub_dropped_total{reason=\"unauthorised\"}") == 1,
	       "a reload that removes the border from subscribers: drops it");
	close(etr_a);
	close(etr_b);
	close(border);
	close(nobody);
}

static void tshark_check(void)
{
	pcap_close(&cap);
	if (!it_have_tshark()) {
		if (getenv("LISPMS_ALLOW_NO_TSHARK"))
			tap_skip("tshark not installed");
		else
			tap_ok(false, "tshark is needed to check what lispmsd sends");
		return;
	}
	char cmd[768];
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -Y 'lisp.unexpected_field || lisp.invalid_field || "
		 "lisp.expected_field || lisp.undecoded || _ws.malformed || data' "
		 "2>/dev/null | wc -l",
		 pcap_path);
	long bad = it_shell_count(cmd);
	tap_ok(bad == 0, "tshark finds no expert info in the %u messages lispmsd sent (%ld)",
	       captured, bad);
	snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -e lisp.type 2>/dev/null | grep -c .",
		 pcap_path);
	long decoded = it_shell_count(cmd);
	tap_ok(decoded == (long)captured, "tshark decodes every message as LISP (%ld of %u)",
	       decoded, captured);
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -T fields -e lisp.nonce -Y 'lisp.type == 4' 2>/dev/null | "
		 "grep -c .",
		 pcap_path);
	tap_ok(it_shell_count(cmd) >= 8, "tshark reads the publications as Map-Notifies");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ms_pubsub LISPMSD LISPMSCTL\n");
		return 2;
	}
	it_daemon = argv[1];
	ctl_bin = argv[2];
	tap_plan(23);
	actx = auth_ctx_new();
	it_auth = actx;
	ar = (struct arena){ .base = abuf_mem, .size = sizeof(abuf_mem) };
	auth_key_init(&k_two, 2, LISP_ALG_HMAC_SHA256, "k-two", 5);
	auth_key_init(&k_border, 9, LISP_ALG_HMAC_SHA256, "s-key", 5);
	auth_key_init(&k_wrong, 9, LISP_ALG_HMAC_SHA256, "wrong", 5);
	if (it_tempdir() != 0) {
		perror("mkdtemp");
		return 1;
	}
	ms_port = it_free_port();
	snprintf(conf_path, sizeof(conf_path), "%s/lispms.yaml", it_dir);
	snprintf(log_path, sizeof(log_path), "%s/lispmsd.log", it_dir);
	snprintf(pcap_path, sizeof(pcap_path), "%s/sent.pcap", it_dir);
	snprintf(ctl_sock, sizeof(ctl_sock), "%s/ctl.sock", it_dir);
	write_conf(true);
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
	for (int i = 0; i < 100 && ready && access(ctl_sock, F_OK) != 0; i++)
		usleep(20000);
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
