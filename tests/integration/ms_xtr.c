/* SPDX-License-Identifier: MIT */
/*
 * lispmsd end to end against what real xTRs send (issue 13: Open Overlay
 * Router and lispers.net): RFC 9437 Map-Requests (I bit with xTR-ID and
 * site-ID, the xTR-ID alone, the N bit) answered and forwarded; unsolicited
 * Map-Notifies signed with the displaced ETR's own key and its Ack verified
 * with it; a register's stray record refused alone wherever it stands, seen
 * in `lispmsctl site show` with the algorithm; an ETR restart under a new
 * xTR-ID replacing its registration silently; debug lines for each
 * decision; `lispmsd --check` warning about host bits. Everything the
 * daemon sends is written to a pcap and decoded by tshark. Prints TAP.
 *
 * Usage: ms_xtr LISPMSD LISPMSCTL
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
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
static const char *ctl_bin;
static char conf_path[128], log_path[128], pcap_path[128], ctl_sock[128];
static char ctl_out[1 << 16];
static struct pcap cap;
static unsigned captured;
static struct auth_ctx *actx;
static struct auth_key k_one, k_two, k_beta;
static uint8_t abuf_mem[1 << 20];
static struct arena ar;

static const char *config_text = "server:\n"
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
				 "      - {id: 1, algorithm: hmac-sha-1-96, secret: \"k-one\"}\n"
				 "      - {id: 2, algorithm: hmac-sha-256-128, secret: \"k-two\"}\n"
				 "    eid-prefixes: [\"[1000] 10.1.0.0/16\"]\n"
				 "    accept-more-specifics: true\n"
				 "  - name: beta\n"
				 "    keys:\n"
				 "      - {id: 7, algorithm: hmac-sha-256-128, secret: \"b-key\"}\n"
				 "    eid-prefixes: [\"[1000] 10.2.0.0/16\"]\n"
				 "    accept-more-specifics: true\n"
				 "    proxy-reply: true\n";

/* ------------------------------------------------------------ plumbing */

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

/* A counter's value from `lispmsctl stats` (name and labels as printed), -1 if absent. */
static long stat_value(const char *name)
{
	if (ctl_run("stats") != 0)
		return -1;
	const char *p = strstr(ctl_out, name);
	if (p == NULL)
		return 0; /* never counted */
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++; /* the rest of the name and its labels */
	while (*p == ' ' || *p == '\t')
		p++;
	return strtol(p, NULL, 10);
}

/* Register; the acknowledged record count (-1: no Map-Notify). */
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
 * An RFC 9437 Map-Request for eid from ITR-RLOC itr: xTR-ID 5a..5a, then
 * site-ID 9 if asked. The I bit and the trailer are written here by hand,
 * not by the codec under test, as an xTR would send them.
 */
static size_t request(const char *eid, const char *itr, uint64_t nonce, bool site_id, bool n_bit,
		      bool ecm, uint16_t sport, uint8_t *out, size_t cap_len)
{
	struct eid_prefix p;
	struct lisp_addr a;
	eid_prefix_parse(eid, &p);
	lisp_addr_parse(itr, &a);
	struct afi_addr rloc;
	afi_from_addr(&a, &rloc);
	struct lisp_request_record rec = { .eid_plen = p.plen, .reserved = n_bit ? 0x80 : 0 };
	afi_from_eid(&p, &rec.eid);
	struct lisp_map_request req = {
		.nonce = nonce, .nitr = 1, .itr_rlocs = &rloc, .nrecords = 1, .records = &rec
	};
	uint8_t inner[512];
	size_t ilen;
	if (map_request_encode(&req, inner, sizeof(inner) - 24, &ilen) != LISPMS_EOK)
		return 0;
	inner[1] |= 0x10; /* I: bit 11 of the first word */
	memset(inner + ilen, 0x5a, 16);
	ilen += 16;
	if (site_id) {
		static const uint8_t nine[8] = { 0, 0, 0, 0, 0, 0, 0, 9 };
		memcpy(inner + ilen, nine, 8);
		ilen += 8;
	}
	if (!ecm) {
		if (ilen > cap_len)
			return 0;
		memcpy(out, inner, ilen);
		return ilen;
	}
	struct lisp_ecm e = { .ip_version = 4,
			      .ttl = 64,
			      .src = a,
			      .sport = sport,
			      .dport = 4342,
			      .inner = inner,
			      .inner_len = ilen };
	e.dst.afi = LISP_AFI_IPV4;
	memcpy(e.dst.bytes, p.bytes, 4);
	size_t len;
	return ecm_encode(&e, out, cap_len, &len) == LISPMS_EOK ? len : 0;
}

static bool reply_for(const uint8_t *buf, ssize_t n, uint64_t nonce, unsigned *nlocs)
{
	struct lisp_map_reply mr;
	arena_reset(&ar);
	if (n <= 0 || map_reply_decode(buf, (size_t)n, &ar, &mr) != LISPMS_EOK ||
	    mr.nonce != nonce || mr.nrecords != 1)
		return false;
	*nlocs = mr.records[0].nlocs;
	return true;
}

/* ------------------------------------------------------------ scenarios */

/* 1. RFC 9437 requests */
static void rfc9437_requests(void)
{
	int etr = it_client("127.0.0.110", 0), itr = it_client("127.0.0.120", 0);
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	getsockname(itr, (struct sockaddr *)&sa, &sl);
	uint16_t itr_port = saddr_port(&sa);
	struct it_reg r = { .flags = LISP_MREG_M,
			    .nonce = 0x9001,
			    .key = &k_beta,
			    .eids = { "[1000] 10.2.1.0/24" },
			    .rloc = "127.0.0.110" };
	tap_ok(reg(etr, &r) == 1, "an ETR registers [1000] 10.2.1.0/24 (proxy-reply site)");
	uint8_t msg[1024], rep[2048];
	unsigned nl = 0;
	size_t len =
	    request("[1000] 10.2.1.1", "127.0.0.120", 0xe1, true, false, true, itr_port, msg, 1024);
	send_ms(itr, msg, len);
	tap_ok(reply_for(rep, recv_one(itr, rep, sizeof(rep), 1500), 0xe1, &nl) && nl == 1,
	       "I bit with xTR-ID and site-ID (RFC 9437): answered with the mapping");
	len = request("[1000] 10.2.1.1", "127.0.0.120", 0xe2, false, false, true, itr_port, msg,
		      1024);
	send_ms(itr, msg, len);
	tap_ok(reply_for(rep, recv_one(itr, rep, sizeof(rep), 1500), 0xe2, &nl) && nl == 1,
	       "I bit with the xTR-ID alone (lispers.net): answered with the mapping");
	len = request("[1000] 10.2.1.1", "127.0.0.120", 0xe3, true, true, false, 0, msg, 1024);
	send_ms(itr, msg, len);
	tap_ok(reply_for(rep, recv_one(itr, rep, sizeof(rep), 1500), 0xe3, &nl) && nl == 1,
	       "a subscription (I and N bits) from an xTR nobody allowed: a plain answer");
	long sub = stat_value("bit=\"n\"");
	long xid = stat_value("bit=\"i\"");
	tap_ok(sub == 1 && xid == 3, "counted: %ld with N, %ld with I", sub, xid);

	/* forwarded to the ETR (not proxy): the xTR-ID travels with the request */
	int etr_ctl = it_client("127.0.0.111", 4342), etr2 = it_client("127.0.0.112", 0);
	r = (struct it_reg){ .flags = LISP_MREG_M,
			     .nonce = 0x9002,
			     .key = &k_two,
			     .eids = { "[1000] 10.1.1.0/24" },
			     .rloc = "127.0.0.111" };
	tap_ok(reg(etr2, &r) == 1, "another ETR registers [1000] 10.1.1.0/24 (no proxy)");
	len =
	    request("[1000] 10.1.1.9", "127.0.0.120", 0xe4, true, true, true, itr_port, msg, 1024);
	send_ms(itr, msg, len);
	ssize_t n = etr_ctl >= 0 ? recv_one(etr_ctl, rep, sizeof(rep), 1500) : -1;
	struct lisp_ecm e, sent;
	struct lisp_map_request q;
	arena_reset(&ar);
	bool ok = n > 0 && ecm_decode(rep, (size_t)n, &e) == LISPMS_EOK &&
		  map_request_decode(e.inner, e.inner_len, &ar, &q) == LISPMS_EOK;
	tap_ok(ok && (e.flags & LISP_ECM_E) && (q.flags & LISP_MREQ_I) && q.has_site_id &&
		   q.site_id == 9 && q.xtr_id[0] == 0x5a &&
		   (q.records[0].reserved & LISP_MREQ_REC_N) && ecm_decode(msg, len, &sent) == 0 &&
		   e.inner_len == sent.inner_len && memcmp(e.inner, sent.inner, e.inner_len) == 0,
	       "an I/N request is forwarded to the ETR with its xTR-ID and site-ID intact");
	if (etr_ctl >= 0)
		close(etr_ctl);
	close(etr);
	close(etr2);
	close(itr);
}

/* 2. the displaced ETR's own key (D21) */
static void notify_keys(void)
{
	static const uint8_t xa[16] = { 0xa1 }, xb[16] = { 0xb1 };
	int a = it_client("127.0.0.131", 0), b = it_client("127.0.0.132", 0);
	struct it_reg r = { .flags = LISP_MREG_M | LISP_MREG_I,
			    .nonce = 0x9101,
			    .key = &k_two, /* SHA-256, the site's second key */
			    .eids = { "[1000] 10.1.7.0/24" },
			    .rloc = "127.0.0.131",
			    .xtr_id = xa };
	tap_ok(reg(a, &r) == 1, "ETR A registers with Key ID 2 (SHA-256)");
	r = (struct it_reg){ .flags = LISP_MREG_M | LISP_MREG_I,
			     .nonce = 0x9102,
			     .key = &k_one, /* SHA-1, the site's first key */
			     .eids = { "[1000] 10.1.7.0/24" },
			     .rloc = "127.0.0.132",
			     .xtr_id = xb };
	tap_ok(reg(b, &r) == 1, "ETR B moves the prefix in with Key ID 1 (SHA-1)");
	uint8_t rep[2048];
	ssize_t n = recv_one(a, rep, sizeof(rep), 2000);
	struct lisp_map_notify mn;
	arena_reset(&ar);
	bool ok = n > 0 && map_notify_decode(rep, (size_t)n, &ar, &mn) == LISPMS_EOK;
	tap_ok(ok && mn.auth.key_id == 2 && mn.auth.alg_id == LISP_ALG_HMAC_SHA256 &&
		   auth_verify(actx, &k_two, 1, rep, (size_t)n, &mn.auth) == LISPMS_EOK,
	       "A's unsolicited Map-Notify is signed with A's key (Key ID %u, algorithm %u)",
	       ok ? mn.auth.key_id : 0, ok ? mn.auth.alg_id : 0);
	long acked0 = stat_value("lispms_notify_acked_total");
	if (ok) {
		rep[0] = (uint8_t)(LISP_MSG_MAP_NOTIFY_ACK << 4);
		memset(rep + LISPMS_AUTH_OFFSET, 0, mn.auth.len);
		auth_sign(actx, &k_two, rep, (size_t)n);
		send_ms(a, rep, (size_t)n);
	}
	usleep(300000);
	tap_ok(stat_value("lispms_notify_acked_total") == acked0 + 1,
	       "A's Map-Notify-Ack, signed with A's key, is accepted");
	tap_ok(recv_one(a, rep, sizeof(rep), 4000) < 0, "and the retransmissions stop");
	close(a);
	close(b);
}

/* 3. the site of a register; 6. the algorithm column */
static void stray_records(void)
{
	int etr = it_client("127.0.0.141", 0);
	struct it_reg r = { .flags = LISP_MREG_M,
			    .nonce = 0x9201,
			    .key = &k_beta,
			    .eids = { "[1000] 10.9.0.0/16", "[1000] 10.2.4.0/24" },
			    .rloc = "127.0.0.141" };
	tap_ok(reg(etr, &r) == 1, "a stray record first refuses only itself (1 of 2 accepted)");
	r.nonce = 0x9202;
	r.eids[0] = "[1000] 10.2.5.0/24";
	r.eids[1] = "[1000] 10.9.0.0/16";
	tap_ok(reg(etr, &r) == 1, "the same stray record last: the same outcome");
	r.nonce = 0x9203;
	r.eids[0] = "[1000] 10.1.4.0/24";
	r.eids[1] = "[1000] 10.2.6.0/24";
	tap_ok(reg(etr, &r) == 1, "another site's record first: beta's key still picks beta");
	/* an algorithm mismatch: Key ID 7 with SHA-1 */
	struct auth_key k7sha1;
	auth_key_init(&k7sha1, 7, LISP_ALG_HMAC_SHA1, "b-key", 5);
	r.nonce = 0x9204;
	r.key = &k7sha1;
	r.eids[0] = "[1000] 10.2.7.0/24";
	r.eids[1] = NULL;
	tap_ok(reg(etr, &r) < 0, "Key ID 7 with the wrong algorithm gets no Map-Notify");
	int rc = ctl_run("site show beta");
	bool cols = strstr(ctl_out, "ALGORITHM") != NULL;
	bool nosite = strstr(ctl_out, "no_site") != NULL && strstr(ctl_out, "10.9.0.0/16") != NULL;
	bool other = strstr(ctl_out, "prefix_not_allowed") != NULL;
	bool unknown = strstr(ctl_out, "unknown_key") != NULL && strstr(ctl_out, "hmac-sha-1-96");
	tap_ok(rc == 0 && cols && nosite && other && unknown,
	       "site show beta: no_site, prefix_not_allowed, unknown_key with the algorithm "
	       "(hmac-sha-1-96)%s",
	       rc == 0 && cols && nosite && other && unknown ? "" : ctl_out);
	close(etr);
}

/* 4. an ETR restart under a new xTR-ID (lispers.net) */
static void restart(void)
{
	static const uint8_t x1[16] = { 0xc1 }, x2[16] = { 0xc2 };
	int old = it_client("127.0.0.151", 0);
	long unsol0 = stat_value("type=\"map_notify_unsolicited\"");
	struct it_reg r = { .flags = LISP_MREG_M | LISP_MREG_I,
			    .nonce = 0x9301,
			    .key = &k_two,
			    .eids = { "[1000] 10.1.9.0/24" },
			    .rloc = "127.0.0.151",
			    .xtr_id = x1 };
	tap_ok(reg(old, &r) == 1, "an ETR registers under xTR-ID c1");
	close(old); /* it dies */
	int fresh = it_client("127.0.0.151", 0);
	r.nonce = 0x9302;
	r.xtr_id = x2;
	tap_ok(reg(fresh, &r) == 1, "restarted, it registers the same under xTR-ID c2");
	usleep(500000);
	ctl_run("registrations --site alpha");
	const char *p = strstr(ctl_out, "10.1.9.0/24");
	bool once = p != NULL && strstr(p + 1, "10.1.9.0/24") == NULL;
	tap_ok(once, "one registration remains%s", once ? "" : ctl_out);
	tap_ok(stat_value("type=\"map_notify_unsolicited\"") == unsol0,
	       "no unsolicited Map-Notify to the dead instance");
	tap_ok(stat_value("lispms_db_registrations_restarted_total") == 1, "counted as a restart");
	close(fresh);
}

/* 5. debug narration */
static void debug_lines(void)
{
	static const char *const want[] = {
		"register, accepted [1000] 10.2.1.0/24 from 127.0.0.110",
		"register, accepted [1000] 10.1.7.0/24 from 127.0.0.132",
		"request, proxy reply for [1000] 10.2.1.1/32",
		"request, forwarded for [1000] 10.1.1.9/32",
		"pubsub, subscription to [1000] 10.2.1.1/32 refused",
		"notify, queued for [1000] 10.1.7.0/24 to 127.0.0.131:",
		"notify, sent to 127.0.0.131:",
		"notify, acked by 127.0.0.131:",
		"register, rejected [1000] 10.9.0.0/16 from 127.0.0.141",
		"notify, none for [1000] 10.1.9.0/24",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		tap_ok(it_file_has(log_path, want[i]), "debug log: \"%s\"", want[i]);
}

/* 6. --check and host bits */
static void check_host_bits(void)
{
	char bad_conf[128], out[128];
	snprintf(bad_conf, sizeof(bad_conf), "%s/hostbits.yaml", it_dir);
	snprintf(out, sizeof(out), "%s/check.log", it_dir);
	it_write_file(bad_conf, "sites:\n"
				"  - name: s\n"
				"    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: x}]\n"
				"    eid-prefixes: [\"[1] 10.1.2.3/16\"]\n");
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s --check -c %s >%s 2>&1", it_daemon, bad_conf, out);
	int st = system(cmd);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
		   it_file_has(out, "has host bits set; it is used as [1] 10.1.0.0/16"),
	       "lispmsd --check warns about an eid-prefixes entry with host bits set");
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
	/* a forwarded I-bit request's xTR-ID and site-ID are a Data layer in tshark 4.0 */
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -Y 'lisp.unexpected_field || lisp.invalid_field || "
		 "lisp.expected_field || lisp.undecoded || _ws.malformed || "
		 "(data && !(data.len == 24 && lisp.type == 1))' 2>/dev/null | wc -l",
		 pcap_path);
	long bad = it_shell_count(cmd);
	tap_ok(bad == 0,
	       "tshark finds no expert info in the %u messages lispmsd sent (%ld flagged)",
	       captured, bad);
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -T fields -e data.data -Y 'lisp.type == 1' 2>/dev/null | "
		 "grep -c '^5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a0000000000000009$'",
		 pcap_path);
	tap_ok(it_shell_count(cmd) == 1,
	       "the forwarded request's trailer is exactly its xTR-ID and site-ID");
	snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -e lisp.type 2>/dev/null | grep -c .",
		 pcap_path);
	long decoded = it_shell_count(cmd);
	tap_ok(decoded == (long)captured, "tshark decodes every message as LISP (%ld of %u)",
	       decoded, captured);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ms_xtr LISPMSD LISPMSCTL\n");
		return 2;
	}
	it_daemon = argv[1];
	ctl_bin = argv[2];
	tap_plan(38);
	actx = auth_ctx_new();
	it_auth = actx;
	ar = (struct arena){ .base = abuf_mem, .size = sizeof(abuf_mem) };
	auth_key_init(&k_one, 1, LISP_ALG_HMAC_SHA1, "k-one", 5);
	auth_key_init(&k_two, 2, LISP_ALG_HMAC_SHA256, "k-two", 5);
	auth_key_init(&k_beta, 7, LISP_ALG_HMAC_SHA256, "b-key", 5);
	if (it_tempdir() != 0) {
		perror("mkdtemp");
		return 1;
	}
	ms_port = it_free_port();
	snprintf(conf_path, sizeof(conf_path), "%s/lispms.yaml", it_dir);
	snprintf(log_path, sizeof(log_path), "%s/lispmsd.log", it_dir);
	snprintf(pcap_path, sizeof(pcap_path), "%s/sent.pcap", it_dir);
	snprintf(ctl_sock, sizeof(ctl_sock), "%s/ctl.sock", it_dir);
	char text[4096];
	snprintf(text, sizeof(text), config_text, ms_port, ctl_sock);
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
	for (int i = 0; i < 100 && ready && access(ctl_sock, F_OK) != 0; i++)
		usleep(20000);
	tap_ok(ready, "lispmsd starts at log level debug and answers (port %u)", ms_port);
	if (!ready) {
		it_wait_exit(daemon_pid, 100);
		return tap_done();
	}
	rfc9437_requests();
	notify_keys();
	stray_records();
	restart();
	debug_lines();
	check_host_bits();
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
