/* SPDX-License-Identifier: MIT */
/*
 * lispmsd's reliable transport end to end on loopback (issue 6): admission
 * by UDP r=1 only, the refresh on start, ACK and Reject per record, Error
 * Notifications, a bad end marker closing the session, split writes,
 * mobility notifications on the session, session loss keeping state while
 * a new session needs a new UDP authentication, a slow reader dropped, and
 * many sessions at once; with LISPMSCTL, `lispmsctl sessions` listing them
 * with their EID counts (and none of them once their ETRs closed them) and
 * `session drop` closing exactly one as a session loss. Everything the
 * server sends on sessions is also decoded by tshark's lisp-tcp dissector.
 * Prints TAP.
 *
 * The same checks run over each stream transport (issue 15): the ETR side
 * goes through tests/support/it_stream.h, the transport named by the third
 * argument (tcp by default); meson registers one test per transport.
 *
 * QUIC (D17) gets a throw-away CA from deploy/tls/make-test-ca.sh under the
 * source root (the fourth argument) and a server.quic section.
 *
 * Usage: ms_tcp LISPMSD [LISPMSCTL [TRANSPORT [SOURCE_ROOT]]]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/mtime.h>
#include <lispms/proto.h>
#include <lispms/proto_rt.h>

#include "capture.h"
#include "it.h"
#include "it_stream.h"
#include "pcap.h"
#include "tap.h"

#define MANY 1000

static uint16_t ms_port;
static pid_t daemon_pid;
static struct auth_key key1;
static uint8_t arena_mem[1 << 16];
static struct arena ar;
static struct pcap cap;
static char pcap_path[128];
static uint32_t cap_seq = 1;
static const char *ctl_bin; /* lispmsctl, or NULL */
static char ctl_sock[128];
static char ctl_out[2 << 20];

static const char *config_text = "server:\n"
				 "  listen: [127.0.0.1]\n"
				 "  port: %u\n"
				 "  workers: 2\n"
				 "  registration-timeout: 30\n"
				 "  session-output-limit: 64KiB\n"
				 "%s" /* the transport's own server lines */
				 "control:\n"
				 "  socket: /tmp/lispms-tcp-%u.sock\n"
				 "log:\n"
				 "  level: notice\n"
				 "sites:\n"
				 "  - name: alpha\n"
				 "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"s\"}]\n"
				 "    eid-prefixes: [\"[1000] 10.0.0.0/8\"]\n"
				 "    accept-more-specifics: true\n"
				 "  - name: beta\n"
				 "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"b\"}]\n"
				 "    eid-prefixes: [\"[2000] 10.0.0.0/8\"]\n"
				 "  - name: gamma\n"
				 "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"s\"}]\n"
				 "    eid-prefixes: [\"[3000] 10.0.0.0/8\"]\n"
				 "    accept-more-specifics: true\n"
				 "    merge: true\n";

/* Appended by the reload check: one site per refresh scope it expects (D8). */
static const char *reload_sites =
    "  - name: delta\n" /* exact prefixes only: scope 4 */
    "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"s\"}]\n"
    "    eid-prefixes: [\"[4000] 10.4.0.0/16\"]\n"
    "  - name: epsilon\n" /* a /0: scope 2 */
    "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"s\"}]\n"
    "    eid-prefixes: [\"[5000] ::/0\"]\n"
    "  - name: zeta\n" /* every family of an instance: scope 1 */
    "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"s\"}]\n"
    "    eid-prefixes: [\"[6000] 0.0.0.0/0\", \"[6000] ::/0\", \"[6000] 00:00:00:00:00:00/0\"]\n"
    "    accept-more-specifics: true\n";
static char conf_path[128], conf_text[4096];

/* UDP r=1 Map-Register from addr; true when the Map-Notify offers a session. */
static bool udp_auth(const char *addr, const char *eid, uint64_t nonce)
{
	int fd = it_client(addr, 0);
	struct it_reg r = { .flags = LISP_MREG_r | LISP_MREG_M | LISP_MREG_P,
			    .nonce = nonce,
			    .key = &key1,
			    .eids = { eid },
			    .rloc = addr };
	uint8_t msg[1024], rep[1024];
	size_t len = it_build_register(&r, msg, sizeof(msg));
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(ms_port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	sendto(fd, msg, len, 0, (struct sockaddr *)&dst, sizeof(dst));
	struct pollfd p = { .fd = fd, .events = POLLIN };
	bool ok = false;
	if (poll(&p, 1, 2000) == 1) {
		ssize_t n = recv(fd, rep, sizeof(rep), 0);
		struct lisp_map_notify mn;
		arena_reset(&ar);
		ok = n > 0 && map_notify_decode(rep, (size_t)n, &ar, &mn) == LISPMS_EOK &&
		     mn.nonce == nonce && (mn.flags & LISP_MNOT_r);
	}
	close(fd);
	return ok;
}

/* The transport under test (argv[3], tcp by default) and how to reach it. */
static struct it_stream_opts sopts;

static const char *tname(void)
{
	return it_transport_name(sopts.transport);
}

/* fmt with the transport's name in its one %s (a static buffer). */
static const char *tlabel(const char *fmt)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), fmt, tname());
	return buf;
}

/* An ETR's session connection from addr; a handle or -1. */
static int sess_open(const char *addr)
{
	return it_stream_open(&sopts, addr);
}

struct reader {
	int fd;
	struct rt_stream rx;
	uint8_t buf[LISPMS_RT_MAX_LEN];
	bool eof;
	uint16_t cport;
};

static void reader_init(struct reader *r, int fd)
{
	r->fd = fd;
	r->eof = false;
	rt_stream_init(&r->rx, r->buf, sizeof(r->buf), LISPMS_RT_MAX_LEN);
	r->cport = it_stream_local_port(fd);
}

/* The next message from the server (decoded into m, raw copy kept for the pcap). */
static bool next_msg(struct reader *r, struct rt_msg *m, int timeout_ms)
{
	static uint8_t copy[LISPMS_RT_MAX_LEN];
	for (;;) {
		const uint8_t *msg;
		size_t len;
		int ret = rt_stream_next(&r->rx, &msg, &len);
		if (ret == 1) {
			memcpy(copy, msg, len);
			static const uint8_t ms_ip[4] = { 127, 0, 0, 1 },
					     etr_ip[4] = { 127, 0, 0, 2 };
			pcap_tcp(&cap, ms_ip, etr_ip, 4342, r->cport, cap_seq, 1, PCAP_TCP_PSH_ACK,
				 copy, len);
			cap_seq += (uint32_t)len;
			return rt_decode(copy, len, m) == LISPMS_EOK;
		}
		if (ret < 0 || r->eof)
			return false;
		size_t avail;
		uint8_t *space = rt_stream_space(&r->rx, &avail);
		ssize_t n = it_stream_recv(r->fd, space, avail, timeout_ms);
		if (n < 0)
			return false;
		if (n == 0) {
			r->eof = true;
			continue;
		}
		rt_stream_commit(&r->rx, (size_t)n);
	}
}

/* True when the server closed the connection (EOF or reset) with no data. */
static bool closed_silently(int fd, int timeout_ms)
{
	uint8_t b;
	return it_stream_recv(fd, &b, 1, timeout_ms) == 0;
}

static size_t registration_x(const char *eid, const char *rloc, uint32_t ttl, uint8_t *out,
			     size_t cap_len, unsigned nrecs, uint32_t flags, const uint8_t *xtr_id)
{
	struct it_reg r = {
		.flags = flags, .nonce = 7, .key = &key1, .rloc = rloc, .ttl = ttl, .xtr_id = xtr_id
	};
	r.eids[0] = eid;
	if (nrecs > 1)
		r.eids[1] = "[1000] 11.0.0.0/24"; /* not in any site */
	uint8_t inner[2048];
	size_t ilen = it_build_register(&r, inner, sizeof(inner));
	if (ttl == 0) { /* it_build_register defaults 0 to 3: withdraw means 0 */
		struct lisp_map_register m;
		arena_reset(&ar);
		map_register_decode(inner, ilen, &ar, &m);
		m.records[0].ttl = 0;
		map_register_encode(&m, inner, sizeof(inner), &ilen);
		auth_sign(it_auth, &key1, inner, ilen);
	}
	struct rt_msg msg = { .type = RT_TYPE_REGISTRATION, .has_id = 1, .id = 1 };
	msg.u.inner.msg = inner;
	msg.u.inner.len = ilen;
	size_t len = 0;
	rt_encode(&msg, out, cap_len, &len);
	return len;
}

static size_t registration(const char *eid, const char *rloc, uint32_t ttl, uint8_t *out,
			   size_t cap_len, unsigned nrecs)
{
	return registration_x(eid, rloc, ttl, out, cap_len, nrecs, LISP_MREG_P, NULL);
}

static bool proxy_answers(const char *eid)
{
	int itr = it_client("127.0.0.99", 0);
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	getsockname(itr, (struct sockaddr *)&a, &l);
	uint8_t msg[512], rep[2048];
	size_t len =
	    it_build_request(eid, "127.0.0.99", 0x77, true, ntohs(a.sin_port), msg, sizeof(msg));
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(ms_port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	sendto(itr, msg, len, 0, (struct sockaddr *)&dst, sizeof(dst));
	struct pollfd p = { .fd = itr, .events = POLLIN };
	bool ok = false;
	if (poll(&p, 1, 1500) == 1) {
		ssize_t n = recv(itr, rep, sizeof(rep), 0);
		struct lisp_map_reply mr;
		arena_reset(&ar);
		ok = n > 0 && map_reply_decode(rep, (size_t)n, &ar, &mr) == LISPMS_EOK &&
		     mr.nrecords == 1 && mr.records[0].nlocs > 0;
	}
	close(itr);
	return ok;
}

static void basic(void)
{
	int fd = sess_open("127.0.0.71");
	tap_ok(fd >= 0 && closed_silently(fd, 2000),
	       "a connection without UDP authentication is closed with nothing sent (D5)");
	if (fd >= 0)
		it_stream_close(fd);

	tap_ok(udp_auth("127.0.0.72", "[1000] 10.172.0.0/16", 0x72),
	       "an r=1 register is answered with a Map-Notify that offers a session (D4)");
	fd = sess_open("127.0.0.72");
	static struct reader r;
	reader_init(&r, fd);
	struct rt_msg m;
	tap_ok(next_msg(&r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_REFRESH &&
		   m.u.refresh.scope == RT_SCOPE_ALL,
	       "the session starts with Registration Refresh, scope 0 (D6)");
	uint8_t msg[4096];
	size_t len = registration("[1000] 10.72.1.0/24", "127.0.0.72", 3, msg, sizeof(msg), 2);
	it_stream_send(fd, msg, len);
	bool ack = next_msg(&r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_ACK;
	bool rej = next_msg(&r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_REJECT &&
		   m.u.reject.reason == RT_REASON_NOT_SITE_PREFIX;
	tap_ok(ack && rej, "a Registration gets an ACK and a Reject (reason 1) per record");
	tap_ok(proxy_answers("[1000] 10.72.1.9"), "the acknowledged prefix answers Map-Requests");

	const uint8_t unknown[] = { 0x00, 0x63, 0x00, 0x0c, 0, 0, 0, 9, 0x9f, 0xac, 0xad, 0xe9 };
	it_stream_send(fd, unknown, sizeof(unknown));
	tap_ok(next_msg(&r, &m, 2000) && m.type == RT_TYPE_ERROR_NOTIFICATION &&
		   m.u.error.code == RT_ERR_UNKNOWN_TYPE && m.u.error.off_type == 0x63 &&
		   m.u.error.off_id == 9,
	       "an unknown type gets Error Notification 1 echoing its header");

	len = registration("[1000] 10.72.2.0/24", "127.0.0.72", 3, msg, sizeof(msg), 1);
	for (size_t i = 0; i < len; i++) { /* one byte per segment */
		it_stream_send(fd, msg + i, 1);
		usleep(200);
	}
	tap_ok(next_msg(&r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_ACK,
	       "a Registration split into one-byte segments is acknowledged");

	/* mobility: a UDP ETR takes the prefix over; the session learns it */
	int etr = it_client("127.0.0.73", 0);
	struct it_reg mv = { .flags = LISP_MREG_M,
			     .nonce = 0x73,
			     .key = &key1,
			     .eids = { "[1000] 10.72.1.0/24" },
			     .rloc = "127.0.0.73" };
	len = it_build_register(&mv, msg, sizeof(msg));
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(ms_port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	sendto(etr, msg, len, 0, (struct sockaddr *)&dst, sizeof(dst));
	bool got = next_msg(&r, &m, 2000) && m.type == RT_TYPE_MAPPING_NOTIFICATION;
	struct lisp_map_notify mn;
	arena_reset(&ar);
	bool signed_ok =
	    got && map_notify_decode(m.u.inner.msg, m.u.inner.len, &ar, &mn) == LISPMS_EOK &&
	    auth_verify(it_auth, &key1, 1, m.u.inner.msg, m.u.inner.len, &mn.auth) == LISPMS_EOK &&
	    mn.nrecords == 1 && it_record_is(&mn.records[0], "[1000] 10.72.1.0/24");
	tap_ok(signed_ok, "the displaced ETR gets a Mapping Notification with a signed Map-Notify");
	close(etr);

	/* session loss: state stays, a new session needs a new UDP authentication */
	it_stream_close(fd);
	usleep(200000);
	tap_ok(proxy_answers("[1000] 10.72.2.9"),
	       "after the session drops, its registrations stay (UDP timer, D7)");
	fd = sess_open("127.0.0.72");
	tap_ok(fd >= 0 && closed_silently(fd, 2000),
	       "reconnecting without a new r=1 register is refused (D5)");
	if (fd >= 0)
		it_stream_close(fd);
	tap_ok(udp_auth("127.0.0.72", "[1000] 10.172.0.0/16", 0x74), "re-authenticating over UDP");
	fd = sess_open("127.0.0.72");
	reader_init(&r, fd);
	tap_ok(next_msg(&r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_REFRESH,
	       "then a new session comes up");

	/* withdrawal, then a broken end marker */
	len = registration("[1000] 10.72.2.0/24", "127.0.0.72", 0, msg, sizeof(msg), 1);
	it_stream_send(fd, msg, len);
	tap_ok(next_msg(&r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_ACK &&
		   !proxy_answers("[1000] 10.72.2.9"),
	       "record TTL 0 withdraws the prefix (D8)");
	const uint8_t bad[] = {
		0x00, 0x14, 0x00, 0x0f, 0, 0, 0, 4, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef
	};
	it_stream_send(fd, bad, sizeof(bad));
	tap_ok(next_msg(&r, &m, 2000) && m.type == RT_TYPE_ERROR_NOTIFICATION &&
		   m.u.error.code == RT_ERR_BAD_MARKER,
	       "a bad end marker gets Error Notification 3");
	tap_ok(!next_msg(&r, &m, 2000) && r.eof, "and the session is closed");
	it_stream_close(fd);
}

/* A session ETR that registered for merging (D13) hears of the merged set. */
static void merge_on_session(struct reader *r)
{
	static const uint8_t xa[16] = { 0xa }, xb[16] = { 0xb };
	uint8_t msg[4096];
	struct rt_msg m;
	size_t len = registration_x("[3000] 10.74.1.0/24", "127.0.0.74", 3, msg, sizeof(msg), 1,
				    LISP_MREG_a, xa);
	it_stream_send(r->fd, msg, len);
	tap_ok(next_msg(r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_ACK,
	       "merge: the session ETR's registration with a and an xTR-ID is acknowledged");
	int etr = it_client("127.0.0.75", 0);
	struct it_reg b = { .flags = LISP_MREG_a,
			    .nonce = 0x75,
			    .key = &key1,
			    .eids = { "[3000] 10.74.1.0/24" },
			    .rloc = "127.0.0.75",
			    .xtr_id = xb };
	len = it_build_register(&b, msg, sizeof(msg));
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(ms_port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	sendto(etr, msg, len, 0, (struct sockaddr *)&dst, sizeof(dst));
	close(etr);
	bool got = next_msg(r, &m, 2000) && m.type == RT_TYPE_MAPPING_NOTIFICATION;
	struct lisp_map_notify mn;
	arena_reset(&ar);
	bool merged =
	    got && map_notify_decode(m.u.inner.msg, m.u.inner.len, &ar, &mn) == LISPMS_EOK &&
	    auth_verify(it_auth, &key1, 1, m.u.inner.msg, m.u.inner.len, &mn.auth) == LISPMS_EOK &&
	    mn.nrecords == 1 && it_record_is(&mn.records[0], "[3000] 10.74.1.0/24") &&
	    mn.records[0].nlocs == 2;
	tap_ok(merged, "when another ETR merges in, the session gets the merged set (2 locators)");
}

/* A reload that adds prefixes sends rejected-only Refreshes, narrowest scope (D8). */
static void reload_refreshes(struct reader *r)
{
	char next[8192];
	snprintf(next, sizeof(next), "%s%s", conf_text, reload_sites);
	it_write_file(conf_path, next);
	kill(daemon_pid, SIGHUP);
	bool s4 = false, s2 = false, s1 = false, other = false;
	struct rt_msg m;
	for (int i = 0; i < 8 && !(s4 && s2 && s1) && next_msg(r, &m, 3000); i++) {
		if (m.type != RT_TYPE_REGISTRATION_REFRESH ||
		    !(m.u.refresh.flags & RT_FLAG_REJECTED_ONLY)) {
			other = true;
			continue;
		}
		const struct afi_addr *e = &m.u.refresh.eid.eid;
		if (m.u.refresh.scope == RT_SCOPE_PREFIX)
			s4 = it_prefix_is(&m.u.refresh.eid.eid, m.u.refresh.eid.plen,
					  "[4000] 10.4.0.0/16");
		else if (m.u.refresh.scope == RT_SCOPE_INSTANCE_AF)
			s2 = e->kind == AFI_IID && e->iid == 5000 && e->afi == LISP_AFI_IPV6;
		else if (m.u.refresh.scope == RT_SCOPE_INSTANCE)
			s1 = e->kind == AFI_IID && e->iid == 6000 && e->afi == LISP_AFI_NONE;
		else
			other = true;
	}
	tap_ok(s4 && s2 && s1 && !other,
	       "a reload refreshes rejected-only with scope 4, 2 and 1 as the changes allow");
}

static void session_extras(void)
{
	bool up = udp_auth("127.0.0.74", "[3000] 10.74.0.0/16", 0x740);
	static struct reader r;
	int fd = up ? sess_open("127.0.0.74") : -1;
	struct rt_msg m;
	if (fd >= 0)
		reader_init(&r, fd);
	tap_ok(fd >= 0 && next_msg(&r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_REFRESH,
	       "a second ETR authenticates and opens its session");
	if (fd < 0)
		return;
	merge_on_session(&r);
	reload_refreshes(&r);
	it_stream_close(fd);
}

static void slow_reader(void)
{
	tap_ok(udp_auth("127.0.0.81", "[1000] 10.81.0.0/16", 0x81), "a slow reader authenticates");
	int fd = sess_open("127.0.0.81");
	static uint8_t msg[8192];
	size_t len = registration("[1000] 10.81.1.0/24", "127.0.0.81", 3, msg, sizeof(msg), 2);
	/* send registrations and never read the answers (bounded: 40 MB at most) */
	bool dropped = false;
	size_t sent = 0;
	const char *why = "byte budget used up";
	for (int i = 0; i < 40 * 1024 * 1024 / (int)len && !dropped; i++) {
		if (!it_stream_writable(fd, 2000)) {
			why = "server stopped reading";
			break;
		}
		ssize_t n = it_stream_send_nowait(fd, msg, len);
		if (n > 0)
			sent += (size_t)n;
		else if (n < 0)
			dropped = errno == EPIPE || errno == ECONNRESET;
	}
	tap_ok(dropped,
	       "a session that stops reading is dropped past its output bound (%zu bytes "
	       "sent%s%s)",
	       sent, dropped ? "" : ", ", dropped ? "" : why);
	it_stream_close(fd);
	tap_ok(udp_auth("127.0.0.82", "[1000] 10.82.0.0/16", 0x82),
	       "and the server serves others meanwhile");
}

/* Run `lispmsctl -s SOCK ARGS`; its stdout and stderr in ctl_out, its exit status. */
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

/* A number field of the JSON row whose peer starts with "ADDR:"; -1 when absent. */
static long row_field(const char *json, const char *addr, const char *field)
{
	char key[80], fkey[40];
	snprintf(key, sizeof(key), "\"peer\":\"%s:", addr);
	snprintf(fkey, sizeof(fkey), "\"%s\":", field);
	const char *row = strstr(json, key);
	if (row == NULL)
		return -1;
	const char *end = strchr(row, '}');
	const char *f = strstr(row, fkey);
	if (f == NULL || end == NULL || f > end)
		return -1;
	return strtol(f + strlen(fkey), NULL, 10);
}

/* How many rows of the JSON have a peer starting with prefix. */
static unsigned rows_with_peer(const char *json, const char *prefix)
{
	char key[80];
	snprintf(key, sizeof(key), "\"peer\":\"%s", prefix);
	unsigned n = 0;
	for (const char *p = strstr(json, key); p != NULL; p = strstr(p + 1, key))
		n++;
	return n;
}

#define OPERATOR_CHECKS 11

/* lispmsctl sessions and session drop against three live sessions. */
static void operator_sessions(void)
{
	if (ctl_bin == NULL) {
		for (int i = 0; i < OPERATOR_CHECKS; i++)
			tap_skip("no lispmsctl given");
		return;
	}
	static const char *const addrs[] = { "127.0.0.91", "127.0.0.92", "127.0.0.93" };
	static struct reader rd[3];
	int fds[3] = { -1, -1, -1 };
	unsigned acked = 0;
	uint8_t msg[1024];
	for (unsigned i = 0; i < 3; i++) {
		char eid[64];
		snprintf(eid, sizeof(eid), "[1000] 10.%u.0.0/16", 91 + i);
		if (!udp_auth(addrs[i], eid, 0x910 + i) || (fds[i] = sess_open(addrs[i])) < 0)
			continue;
		reader_init(&rd[i], fds[i]);
		struct rt_msg m;
		if (!next_msg(&rd[i], &m, 2000))
			continue;
		for (unsigned k = 0; k <= i; k++) { /* i + 1 EIDs on session i */
			snprintf(eid, sizeof(eid), "[1000] 10.%u.%u.0/24", 91 + i, k);
			size_t len = registration(eid, addrs[i], 3, msg, sizeof(msg), 1);
			it_stream_send(fds[i], msg, len);
			if (next_msg(&rd[i], &m, 2000) && m.type == RT_TYPE_REGISTRATION_ACK)
				acked++;
		}
	}
	int rc = ctl_run("--json sessions");
	bool listed = rc == 0;
	for (unsigned i = 0; i < 3; i++)
		listed = listed && row_field(ctl_out, addrs[i], "eids") == (long)i + 1 &&
			 row_field(ctl_out, addrs[i], "msgs_in") == (long)i + 1 &&
			 row_field(ctl_out, addrs[i], "acked") == (long)i + 1;
	tap_ok(acked == 6 && listed && strstr(ctl_out, "\"state\":\"up\"") != NULL &&
		   strstr(ctl_out, tlabel("\"transport\":\"%s\"")) != NULL,
	       "lispmsctl sessions --json lists three %s sessions with 1, 2 and 3 EIDs (%u acked, "
	       "exit %d)",
	       tname(), acked, rc);
	rc = ctl_run("sessions");
	tap_ok(rc == 0 && strstr(ctl_out, "PEER") && strstr(ctl_out, "TRANSPORT") &&
		   strstr(ctl_out, "127.0.0.92:") && strstr(ctl_out, "3 sessions"),
	       "the text table shows them and counts them (exit %d)", rc);

	rc = ctl_run("session drop 127.0.0.92");
	tap_ok(rc == 0 && strstr(ctl_out, "dropped 1 session from 127.0.0.92"),
	       "session drop 127.0.0.92 drops exactly one session (exit %d: %.80s)", rc, ctl_out);
	tap_ok(closed_silently(fds[1], 2000), "its ETR sees the connection close");
	rc = ctl_run("--json sessions");
	tap_ok(rc == 0 && rows_with_peer(ctl_out, "127.0.0.92:") == 0 &&
		   row_field(ctl_out, addrs[0], "eids") == 1 &&
		   row_field(ctl_out, addrs[2], "eids") == 3,
	       "the others are still listed, the dropped one is gone");
	size_t len = registration("[1000] 10.93.9.0/24", addrs[2], 3, msg, sizeof(msg), 1);
	it_stream_send(fds[2], msg, len);
	struct rt_msg m;
	tap_ok(next_msg(&rd[2], &m, 2000) && m.type == RT_TYPE_REGISTRATION_ACK,
	       "another session keeps working");
	tap_ok(proxy_answers("[1000] 10.92.0.9") && proxy_answers("[1000] 10.92.1.9"),
	       "the dropped session's registrations stay, on UDP timers (D7)");
	int again = sess_open("127.0.0.92");
	tap_ok(again >= 0 && closed_silently(again, 2000),
	       "its admission ended: reconnecting needs a new UDP authentication (D5)");
	if (again >= 0)
		it_stream_close(again);
	rc = ctl_run("stats lispms_sessions_closed_total");
	const char *opl = tlabel("transport=\"%s\",cause=\"operator\"}");
	const char *op = strstr(ctl_out, opl);
	tap_ok(rc == 0 && op != NULL && strtol(op + strlen(opl), NULL, 10) == 1,
	       "the drop is counted as lispms_sessions_closed_total{%s", opl);
	rc = ctl_run("session drop 127.0.0.250");
	tap_ok(rc == 1 && strstr(ctl_out, "no session from 127.0.0.250"),
	       "an unknown peer is a clear error with a non-zero exit (exit %d)", rc);
	rc = ctl_run("session drop not-a-peer");
	tap_ok(rc == 1 && strstr(ctl_out, "is not a peer"), "so is something that is no address");
	for (unsigned i = 0; i < 3; i++)
		if (fds[i] >= 0)
			it_stream_close(fds[i]);
}

/* The ETRs of many() closed their sessions: the server lists none of them
 * within a bounded wait (the next checks open sessions of their own and
 * must not meet a server still busy with these, or a SCTP SHUTDOWN lost
 * on the way leaving sessions behind). */
static void many_gone(unsigned up)
{
	if (ctl_bin == NULL) {
		tap_skip("no lispmsctl given");
		return;
	}
	uint64_t t0 = mtime_now_ns();
	bool settled = it_stream_settle(10000);
	unsigned left = up;
	for (int i = 0; i < 100 && left > 0; i++) { /* up to ~10 s more */
		if (i > 0)
			it_stream_settle(100);
		if (ctl_run("--json sessions --limit 100000") == 0)
			left = rows_with_peer(ctl_out, "127.2.");
		if (left > 0)
			usleep(100000);
	}
	tap_ok(settled && left == 0,
	       "the server lists none of the %u sessions once their ETRs closed them (%u left, "
	       "transport %s, %llu ms)",
	       up, left, settled ? "done" : "still closing",
	       (unsigned long long)((mtime_now_ns() - t0) / 1000000u));
}

static void many(void)
{
	static int fds[MANY];
	static struct reader r;
	unsigned up = 0, acked = 0;
	for (unsigned i = 0; i < MANY; i++) {
		char addr[32], eid[64];
		snprintf(addr, sizeof(addr), "127.2.%u.%u", i / 250, 1 + i % 250);
		snprintf(eid, sizeof(eid), "[1000] 10.%u.%u.0/24", 100 + i / 250, i % 250);
		fds[i] = -1;
		if (!udp_auth(addr, eid, 0x100000 + i))
			continue;
		fds[i] = sess_open(addr);
		if (fds[i] < 0)
			continue;
		reader_init(&r, fds[i]);
		struct rt_msg m;
		if (!next_msg(&r, &m, 2000) || m.type != RT_TYPE_REGISTRATION_REFRESH)
			continue;
		up++;
		uint8_t msg[1024];
		size_t len = registration(eid, addr, 3, msg, sizeof(msg), 1);
		it_stream_send(fds[i], msg, len);
		if (next_msg(&r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_ACK)
			acked++;
	}
	tap_ok(up == MANY, "%u of %u concurrent sessions up", up, MANY);
	tap_ok(acked == MANY, "%u of %u sessions had their registration acknowledged", acked, MANY);
	tap_ok(proxy_answers("[1000] 10.100.7.9") && proxy_answers("[1000] 10.103.249.9"),
	       "their prefixes answer while all %u sessions stay open", MANY);
	if (ctl_bin != NULL) {
		uint64_t t0 = mtime_now_ns();
		int rc = ctl_run("--json sessions --limit 100000");
		uint64_t ms = (mtime_now_ns() - t0) / 1000000u;
		tap_ok(rc == 0 && rows_with_peer(ctl_out, "127.2.") == up &&
			   strstr(ctl_out, "\"truncated\":false") &&
			   row_field(ctl_out, "127.2.3.250", "eids") == 1,
		       "lispmsctl sessions streams all %u sessions (%u listed, %zu bytes, %llu ms)",
		       up, rows_with_peer(ctl_out, "127.2."), strlen(ctl_out),
		       (unsigned long long)ms);
		rc = ctl_run("sessions --limit 10");
		tap_ok(rc == 0 && strstr(ctl_out, "first 10 shown"),
		       "and stops at --limit, saying so");
	} else {
		tap_skip("no lispmsctl given");
		tap_skip("no lispmsctl given");
	}
	for (unsigned i = 0; i < MANY; i++)
		if (fds[i] >= 0)
			it_stream_close(fds[i]);
	many_gone(up);
}

static void tshark_check(void)
{
	pcap_close(&cap);
	struct it_capture c;
	it_capture_file(&c, pcap_path);
	if (!it_tshark_or_tap(&c))
		return;
	it_capture_opts(&c, "-o tcp.analyze_sequence_numbers:FALSE -d tcp.port==4342,lisp-tcp");
	long bad = it_tshark_count(&c, "lisp-tcp.invalid_length || lisp-tcp.invalid_marker || "
				       "_ws.malformed || (lisp-tcp.message.type != 21 && "
				       "(lisp-tcp.undecoded || lisp-tcp.unexpected_afi))");
	long markers = it_tshark_grep(&c, NULL, "-e lisp-tcp.message.end_marker", "0x9facade9");
	/* type 21 carries a Map-Notify (D3), which Wireshark's older layout cannot
	 * decode: tshark checks its framing, our decoder checked the inside */
	tap_ok(
	    bad == 0 && markers > 0,
	    "tshark's lisp-tcp decodes every session message cleanly (%ld flagged, %ld messages)",
	    bad, markers);
}

/* A live capture on lo while the session checks run: SCTP's UDP
 * encapsulation port (D18), or the TLS port; then the TLS reload paths. */
static struct it_capture live;

/* SCTP: tshark decodes the capture as SCTP over UDP. */
static void sctp_tshark_check(void)
{
	it_capture_stop(&live);
	if (!it_tshark_or_tap(&live))
		return;
	it_capture_opts(&live, "-d udp.port==%u,sctp -o sctp.checksum:CRC-32C", sopts.port);
	long bad = it_tshark_count(
	    &live, "_ws.malformed || _ws.expert.severity == error || sctp.checksum.status == 0");
	long pkts = it_tshark_count(&live, "sctp");
	long markers = it_tshark_grep(&live, "sctp.data_sid == 0 && sctp.port == 4342",
				      "-e data.data", "9facade9");
	tap_ok(bad == 0 && pkts > 10 && markers >= 5,
	       "tshark decodes the UDP-encapsulated SCTP (RFC 6951; %ld packets, %ld malformed, "
	       "in error or with a bad CRC32c) and %ld framed messages on stream 0",
	       pkts, bad, markers);
}

#define TLS_CHECKS 6

/* A segment of a batch carries one record per session message: deeper than
 * tshark's default protocol tree depth (500), which it flags as malformed. */
#define TSHARK_TLS_OPTS "-o gui.max_tree_depth:4096 -o tls.keylog_file:%s/keylog.txt "

/* TLS: every record of the session checks decodes (nothing malformed) and,
 * decrypted with the client's SSLKEYLOGFILE, carries our framing (end markers). */
static void tls_tshark_check(void)
{
	if (!it_tshark_or_tap(&live))
		return;
	it_capture_opts(&live, TSHARK_TLS_OPTS "-d tcp.port==%u,tls", it_dir, sopts.port);
	long bad = it_tshark_count(&live, "_ws.malformed || _ws.expert.severity == error");
	long recs = it_tshark_count(&live, "tls.record");
	long markers = it_tshark_grep(&live, NULL, "-e data.data", "9facade9");
	tap_ok(bad == 0 && recs > 10 && markers >= 5,
	       "tshark decodes the TLS traffic (%ld packets with records, %ld malformed or in "
	       "error) and, decrypted, %ld framed messages",
	       recs, bad, markers);
}

/* lispms_net_tls_handshake_failures_total{reason="why"}, or -1. */
static long tls_failures(const char *why)
{
	char key[96];
	snprintf(key, sizeof(key), "reason=\"%s\"}", why);
	if (ctl_run("stats lispms_net_tls_handshake_failures_total") != 0)
		return -1;
	const char *p = strstr(ctl_out, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* TLS only (D19): the server asks for client certificates (client-ca), so
 * a client without one, or with one from another CA, is refused, and a peer
 * that never starts its handshake is dropped at the handshake timeout. Each
 * peer is admitted first (D5 comes before any TLS state). */
static void tls_checks(void)
{
	tap_ok(udp_auth("127.0.0.96", "[1000] 10.96.0.0/16", 0x96), "a TLS peer authenticates");
	struct it_stream_opts o = sopts;
	o.cert = o.key = NULL;
	int fd = it_stream_open(&o, "127.0.0.96");
	tap_ok(fd >= 0 && closed_silently(fd, 3000) && tls_failures("certificate") == 1,
	       "without a client certificate the session is refused and counted");
	it_stream_close(fd);
	static char cmd[512], cert[160], key[160];
	snprintf(cmd, sizeof(cmd), "%s/deploy/tls/make-test-ca.sh %s/other >/dev/null",
		 LISPMS_SOURCE_ROOT, it_dir);
	snprintf(cert, sizeof(cert), "%s/other/client.pem", it_dir);
	snprintf(key, sizeof(key), "%s/other/client-key.pem", it_dir);
	o.cert = cert;
	o.key = key;
	fd = system(cmd) == 0 ? it_stream_open(&o, "127.0.0.96") : -1;
	tap_ok(fd >= 0 && closed_silently(fd, 3000) && tls_failures("certificate") == 2,
	       "a client certificate from another CA is refused and counted");
	it_stream_close(fd);
	o = sopts;
	o.transport = IT_TCP; /* TCP to the TLS port, and then nothing */
	fd = it_stream_open(&o, "127.0.0.96");
	tap_ok(fd >= 0 && closed_silently(fd, 8000) && tls_failures("timeout") == 1,
	       "a peer that never handshakes is dropped at the handshake timeout and counted");
	it_stream_close(fd);
	fd = it_stream_open(&sopts, "127.0.0.96");
	struct reader r;
	reader_init(&r, fd);
	struct rt_msg m;
	tap_ok(fd >= 0 && next_msg(&r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_REFRESH,
	       "with the CA's client certificate the same peer opens its session");
	it_stream_close(fd);
}

/* ---------------------------------------------------------------- reloads
 * Reload behaves on every transport as on TCP (issue 15). */

/* conf_text with `from` replaced by `to` (first occurrence) written to the
 * configuration file; `lispmsctl reload`'s exit status (ctl_out: its answer). */
static int reload_with(const char *from, const char *to)
{
	static char next[8192];
	const char *at = from ? strstr(conf_text, from) : NULL;
	if (at == NULL)
		snprintf(next, sizeof(next), "%s", conf_text);
	else
		snprintf(next, sizeof(next), "%.*s%s%s", (int)(at - conf_text), conf_text, to,
			 at + strlen(from));
	it_write_file(conf_path, next);
	return ctl_run("reload");
}

/* Authenticate addr, then open a session with `o`: the handle when the
 * server's Refresh came (r read it), else -1 (closed). */
static int session_with(const struct it_stream_opts *o, const char *addr, struct reader *r)
{
	static unsigned nonce = 0xa000;
	char eid[64];
	snprintf(eid, sizeof(eid), "[1000] 10.%s/32", addr + strlen("127."));
	if (!udp_auth(addr, eid, ++nonce))
		return -1;
	int fd = it_stream_open(o, addr);
	struct rt_msg m;
	if (fd >= 0) {
		reader_init(r, fd);
		if (next_msg(r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_REFRESH)
			return fd;
		it_stream_close(fd);
	}
	return -1;
}

/* A registration on an open session is acknowledged (refreshes a reload sent skipped). */
static bool session_serves(struct reader *r, const char *eid, const char *rloc)
{
	uint8_t msg[1024];
	size_t len = registration(eid, rloc, 3, msg, sizeof(msg), 1);
	if (it_stream_send(r->fd, msg, len) != (ssize_t)len)
		return false;
	struct rt_msg m;
	for (int i = 0; i < 12 && next_msg(r, &m, 2000); i++)
		if (m.type != RT_TYPE_REGISTRATION_REFRESH)
			return m.type == RT_TYPE_REGISTRATION_ACK;
	return false;
}

#define CRED_CHECKS 4

/* TLS and QUIC: certificate rotation by reload. The server's certificate
 * and key files are replaced in place by ones from another CA: after the
 * reload new handshakes present the new certificate (a client trusting only
 * the old CA fails, one trusting the new CA gets its session), the session
 * open before stays; a certificate that cannot be read, or a key that is
 * not one, refuses the reload with the running configuration kept. */
static void cred_reload(void)
{
	static char cmd[1024], rot_ca[160];
	static struct reader before, r;
	int a = session_with(&sopts, "127.0.0.86", &before);
	snprintf(cmd, sizeof(cmd),
		 "%s/deploy/tls/make-test-ca.sh %s/rot >/dev/null && cp %s/rot/server.pem "
		 "%s/server.pem && cp %s/rot/server-key.pem %s/server-key.pem",
		 LISPMS_SOURCE_ROOT, it_dir, it_dir, it_dir, it_dir, it_dir);
	snprintf(rot_ca, sizeof(rot_ca), "%s/rot/ca.pem", it_dir);
	bool made = a >= 0 && system(cmd) == 0;
	int rc = made ? reload_with(NULL, NULL) : -1;
	int old = session_with(&sopts, "127.0.0.87", &r);
	if (old >= 0)
		it_stream_close(old);
	struct it_stream_opts o = sopts;
	o.ca = rot_ca;
	int fd = session_with(&o, "127.0.0.88", &r);
	tap_ok(made && rc == 0 && old < 0 && fd >= 0,
	       "%s: a reload rotates the certificate replaced in place: a client trusting "
	       "the old CA is refused, one trusting the new CA gets its session",
	       tname());
	if (fd >= 0)
		it_stream_close(fd);
	tap_ok(a >= 0 && session_serves(&before, "[1000] 10.0.0.86/32", "127.0.0.86"),
	       "%s: the session opened before the rotation stays and is served", tname());
	rc = reload_with("/server.pem", "/missing.pem");
	bool unreadable = rc != 0 && strstr(ctl_out, "keeping the running configuration") &&
			  strstr(ctl_out, "missing.pem") && strstr(ctl_out, "lispms.yaml:");
	snprintf(cmd, sizeof(cmd), "%s/bad-key.pem", it_dir);
	it_write_file(cmd, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
	rc = reload_with("/server-key.pem", "/bad-key.pem");
	bool bad = rc != 0 && strstr(ctl_out, "keeping the running configuration") &&
		   strstr(ctl_out, "bad-key.pem");
	fd = session_with(&o, "127.0.0.89", &r);
	tap_ok(unreadable && bad && fd >= 0,
	       "a certificate that cannot be read and a key that is not one refuse the reload, "
	       "and the credentials in force stay (%.160s)",
	       ctl_out);
	if (fd >= 0)
		it_stream_close(fd);
	rc = reload_with(NULL, NULL);
	tap_ok(rc == 0, "the configuration with the rotated files reloads again (rc %d)", rc);
	sopts.ca = rot_ca; /* from here the server presents the rotated certificate */
	if (a >= 0)
		it_stream_close(a);
}

#define TLS_PORT_CHECKS 5

static uint16_t reload_port; /* the port tls_port_reload moves TLS to */
static uint16_t first_tls_port;

/* What the server sent on the reload paths (the moved port, the rotated
 * certificate), captured on both TLS ports: tshark decodes it without
 * malformed packets, and the handshakes carry two certificates (serial
 * numbers): the first one, then the rotated one. */
static void reload_tshark_check(void)
{
	if (!it_tshark_or_tap(&live))
		return;
	it_capture_opts(&live, TSHARK_TLS_OPTS "-d tcp.port==%u,tls -d tcp.port==%u,tls", it_dir,
			first_tls_port, reload_port);
	long bad = it_tshark_count(&live, "_ws.malformed");
	long moved =
	    it_tshark_count(&live, "tls.handshake.certificate && tcp.srcport==%u", reload_port);
	char filter[96];
	snprintf(filter, sizeof(filter), "tls.handshake.certificate && tcp.srcport==%u",
		 first_tls_port);
	long serials = it_tshark_distinct(&live, filter, "-e x509af.serialNumber");
	tap_ok(bad == 0 && moved >= 1 && serials >= 2,
	       "tshark decodes the TLS of the reloads (%ld malformed): handshakes from the moved "
	       "port (%ld), and %ld different server certificates on the first port (rotated)",
	       bad, moved, serials);
}

/* QUIC: the handshakes around the certificate rotation (cred_reload),
 * captured on the QUIC port and decrypted with the client's keylog: tshark
 * decodes them without a malformed packet or an error, and the server's
 * Certificate messages carry two serial numbers, the first certificate's
 * and the rotated one's. */
static void quic_reload_tshark_check(void)
{
	if (!it_tshark_or_tap(&live))
		return;
	it_capture_opts(&live,
			"-o gui.max_tree_depth:4096 -o tls.keylog_file:%s -d udp.port==%u,quic",
			sopts.keylog, sopts.port);
	long bad = it_tshark_count(&live, "_ws.malformed || _ws.expert.severity == error");
	long pkts = it_tshark_count(&live, "quic && udp.srcport==%u", sopts.port);
	char filter[96];
	snprintf(filter, sizeof(filter), "tls.handshake.certificate && udp.srcport==%u",
		 sopts.port);
	long serials = it_tshark_values(&live, filter, "-e x509af.serialNumber");
	tap_ok(bad == 0 && pkts > 0 && serials >= 2,
	       "tshark decodes the QUIC handshakes around the rotation (%ld server packets, %ld "
	       "malformed or in error), decrypted: %ld different server certificates",
	       pkts, bad, serials);
}

/* TLS: its port and its very presence are reloadable, as TCP's listeners
 * are with reliable-transport: a new port opens (the old one closes, the
 * open session stays), a port another process holds refuses the reload,
 * removing server.tls closes the listeners; then back to the start. */
static void tls_port_reload(void)
{
	static struct reader before, r;
	int a = session_with(&sopts, "127.0.0.76", &before);
	char from[32], to[32];
	snprintf(from, sizeof(from), "    port: %u\n", sopts.port);
	struct it_stream_opts o = sopts;
	o.port = it_free_port();
	reload_port = o.port;
	snprintf(to, sizeof(to), "    port: %u\n", o.port);
	int rc = reload_with(from, to);
	struct it_stream_opts plain = sopts;
	plain.transport = IT_TCP;
	int oldfd = it_stream_open(&plain, "127.0.0.77");
	int fd = session_with(&o, "127.0.0.78", &r);
	tap_ok(rc == 0 && fd >= 0 && oldfd < 0 &&
		   session_serves(&before, "[1000] 10.0.0.76/32", "127.0.0.76"),
	       "server.tls.port reloaded: sessions open on the new port, the old one is closed, "
	       "the session open before stays (rc %d)",
	       rc);
	if (fd >= 0)
		it_stream_close(fd);
	if (oldfd >= 0)
		it_stream_close(oldfd);
	/* another process holds the next port */
	int blocker = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint16_t held_port = it_free_port();
	struct sockaddr_in ba = { .sin_family = AF_INET,
				  .sin_port = htons(held_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool held =
	    bind(blocker, (struct sockaddr *)&ba, sizeof(ba)) == 0 && listen(blocker, 1) == 0;
	char busy[32];
	snprintf(busy, sizeof(busy), "    port: %u\n", held_port);
	rc = reload_with(from, busy);
	fd = session_with(&o, "127.0.0.79", &r);
	tap_ok(held && rc != 0 && strstr(ctl_out, "server.tls") && strstr(ctl_out, "in use") &&
		   fd >= 0,
	       "a TLS port another process holds refuses the reload; TLS stays on its port "
	       "(rc %d: %.120s)",
	       rc, ctl_out);
	close(blocker);
	if (fd >= 0)
		it_stream_close(fd);
	/* without server.tls: its listeners close, the open session stays */
	const char *tls = strstr(conf_text, "  tls:\n"), *end = strstr(conf_text, "control:\n");
	static char none[8192];
	snprintf(none, sizeof(none), "%.*s%s", (int)(tls - conf_text), conf_text, end);
	it_write_file(conf_path, none);
	rc = ctl_run("reload");
	plain.port = o.port;
	fd = it_stream_open(&plain, "127.0.0.78");
	tap_ok(rc == 0 && fd < 0 && session_serves(&before, "[1000] 10.0.1.76/32", "127.0.0.76"),
	       "server.tls removed by reload: its listeners close, the open session stays (rc %d)",
	       rc);
	if (fd >= 0)
		it_stream_close(fd);
	rc = reload_with(NULL, NULL);
	fd = session_with(&sopts, "127.0.0.80", &r);
	tap_ok(rc == 0 && fd >= 0, "server.tls back by reload on its first port (rc %d)", rc);
	if (fd >= 0)
		it_stream_close(fd);
	if (a >= 0)
		it_stream_close(a);
}

/* reliable-transport off by reload: no new session on the transport, even
 * for a peer whose grant (a UDP r=1 registration just before) is still
 * valid; the session open before stays and is served. */
static void transport_off(void)
{
	static struct reader before, r;
	int a = session_with(&sopts, "127.0.0.66", &before);
	bool granted = udp_auth("127.0.0.67", "[1000] 10.0.0.67/32", 0x67);
	int rc = reload_with("  workers: 2\n", "  workers: 2\n  reliable-transport: false\n");
	int fd = it_stream_open(&sopts, "127.0.0.67");
	if (fd >= 0) {
		reader_init(&r, fd);
		struct rt_msg m;
		if (next_msg(&r, &m, 3000)) { /* a session: the check fails */
			it_stream_close(fd);
			fd = -2;
		}
	}
	tap_ok(a >= 0 && granted && rc == 0 && fd != -2,
	       "reliable-transport off by reload: a peer granted just before gets no new "
	       "%s session",
	       tname());
	if (fd >= 0)
		it_stream_close(fd);
	tap_ok(a >= 0 && session_serves(&before, "[1000] 10.0.0.66/32", "127.0.0.66"),
	       "and the %s session open before stays and is served", tname());
	if (a >= 0)
		it_stream_close(a);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 5 || (argc >= 4 && !it_transport_parse(argv[3], &sopts.transport))) {
		fprintf(stderr,
			"usage: ms_tcp LISPMSD [LISPMSCTL [tcp|tls|quic|sctp [SOURCE_ROOT]]]\n");
		return 2;
	}
	it_daemon = argv[1];
	ctl_bin = argc >= 3 && argv[2][0] ? argv[2] : NULL;
	struct rlimit rl = { 8192, 8192 };
	setrlimit(RLIMIT_NOFILE, &rl); /* 1000 sessions: both ends in this machine */
	bool tls = sopts.transport == IT_TLS, quic = sopts.transport == IT_QUIC;
	tap_plan(28 + OPERATOR_CHECKS + 2 + (sopts.transport == IT_SCTP) +
		 (tls ? TLS_CHECKS + TLS_PORT_CHECKS : 0) + (tls || quic ? CRED_CHECKS : 0) + quic +
		 (ctl_bin ? 2 : 0) + 1);
	it_auth = auth_ctx_new();
	ar = (struct arena){ .base = arena_mem, .size = sizeof(arena_mem) };
	auth_key_init(&key1, 1, LISP_ALG_HMAC_SHA256, "s", 1);
	if (it_tempdir() != 0) {
		perror("mkdtemp");
		return 1;
	}
	ms_port = it_free_port();
	sopts.port = ms_port; /* TCP: the LISP port (a transport with its own port sets it here) */
	char extra[512] = "";
	static char ca[160], keylog[160];
	if (sopts.transport == IT_QUIC) {
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "%s/deploy/tls/make-test-ca.sh %s >/dev/null",
			 argc >= 5 ? argv[4] : ".", it_dir);
		if (system(cmd) != 0) {
			tap_ok(false, "make-test-ca.sh (the source root is the fourth argument)");
			return tap_done();
		}
		sopts.port = it_free_port();
		snprintf(ca, sizeof(ca), "%s/ca.pem", it_dir);
		snprintf(keylog, sizeof(keylog), "%s/keylog.txt", it_dir);
		sopts.ca = ca;
		sopts.keylog = keylog;
		snprintf(extra, sizeof(extra),
			 "  quic:\n    port: %u\n    certificate: %s/server.pem\n"
			 "    key: %s/server-key.pem\n    idle-timeout: %u\n",
			 sopts.port, it_dir, it_dir, IT_QUIC_IDLE_S);
	}
	char log_path[128];
	snprintf(conf_path, sizeof(conf_path), "%s/lispms.yaml", it_dir);
	snprintf(log_path, sizeof(log_path), "%s/lispmsd.log", it_dir);
	snprintf(pcap_path, sizeof(pcap_path), "%s/replies.pcap", it_dir);
	if (sopts.transport == IT_TLS) { /* its own port, a test CA (deploy/tls) */
		static char cmd[512];
		snprintf(cmd, sizeof(cmd), "%s/deploy/tls/make-test-ca.sh %s >/dev/null",
			 LISPMS_SOURCE_ROOT, it_dir);
		if (system(cmd) != 0) {
			tap_ok(false, "make-test-ca.sh");
			return tap_done();
		}
		sopts.port = it_free_port();
		snprintf(ca, sizeof(ca), "%s/ca.pem", it_dir);
		sopts.ca = ca;
		snprintf(keylog, sizeof(keylog), "%s/keylog.txt", it_dir);
		setenv("SSLKEYLOGFILE", keylog, 1); /* GnuTLS writes it for tshark */
		static char cert[160], key[160];
		snprintf(cert, sizeof(cert), "%s/client.pem", it_dir);
		snprintf(key, sizeof(key), "%s/client-key.pem", it_dir);
		sopts.cert = cert;
		sopts.key = key;
		snprintf(extra, sizeof(extra),
			 "  tls:\n    port: %u\n    certificate: %s/server.pem\n"
			 "    key: %s/server-key.pem\n    client-ca: %s/ca.pem\n"
			 "    handshake-timeout: 2\n",
			 sopts.port, it_dir, it_dir, it_dir);
	}
	snprintf(conf_text, sizeof(conf_text), config_text, ms_port, extra, ms_port);
	if (sopts.transport == IT_SCTP) { /* D18: SCTP over UDP encapsulation */
		sopts.port = it_free_port();
		char *ctl = strstr(conf_text, "control:\n"), rest[4096];
		snprintf(rest, sizeof(rest), "%s", ctl);
		snprintf(ctl, sizeof(conf_text) - (size_t)(ctl - conf_text),
			 "  sctp: {port: 4342, udp-encapsulation-port: %u}\n%s", sopts.port, rest);
	}
	snprintf(ctl_sock, sizeof(ctl_sock), "/tmp/lispms-tcp-%u.sock", ms_port);
	it_write_file(conf_path, conf_text);
	pcap_open(&cap, pcap_path);
	daemon_pid = it_spawn(conf_path, log_path);
	bool ready = false;
	for (int i = 0; i < 100 && !ready; i++) {
		usleep(50000);
		ready = it_file_has(log_path, "serving");
	}
	tap_ok(ready, "lispmsd starts with sessions on %s port %u", tname(), sopts.port);
	if (!ready)
		return tap_done();
	if (sopts.transport == IT_SCTP)
		it_capture_start(&live, "sctp.pcapng", "udp port %u", sopts.port);
	if (tls)
		it_capture_start(&live, "tls.pcapng", "tcp and port %u", sopts.port);
	basic();
	session_extras();
	if (sopts.transport == IT_SCTP)
		sctp_tshark_check();
	slow_reader();
	operator_sessions();
	if (tls) {
		it_capture_stop(&live);
		tls_tshark_check();
		tls_checks();
		first_tls_port = sopts.port;
		it_capture_start(&live, "reload.pcapng",
				 "tcp and (port %u or portrange 1024-65535)", sopts.port);
		tls_port_reload();
	}
	if (quic)
		it_capture_start(&live, "reload.pcapng", "udp and port %u", sopts.port);
	if (tls || quic)
		cred_reload();
	it_capture_stop(&live);
	if (tls)
		reload_tshark_check();
	if (quic)
		quic_reload_tshark_check();
	many();
	if (ctl_bin)
		transport_off();
	kill(daemon_pid, SIGTERM);
	int rc = it_wait_exit(daemon_pid, 10000);
	tap_ok(rc == 0, "SIGTERM stops lispmsd with its sessions (exit %d)", rc);
	tshark_check();
	if (tap_failed == 0) {
		it_tempdir_remove();
	} else {
		printf("# daemon log: %s, session bytes: %s\n", log_path, pcap_path);
	}
	auth_ctx_free(it_auth);
	return tap_done();
}
