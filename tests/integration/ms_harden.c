/* SPDX-License-Identifier: MIT */
/*
 * lispmsd hardening end to end on loopback (issue 14): every live key of
 * the server section in force after `lispmsctl reload` (reliable-transport
 * opening and closing the TCP listeners, never offering a session nobody
 * can open; keepalive on an open session, seen by ss; session-output-limit;
 * max-sessions), a restart-only key reported as such, a session whose
 * message stalls closed past session-read-timeout while an idle one stays,
 * and reply rate limiting: 5,000 forged requests naming one ITR-RLOC get at
 * most a few hundred answers while another ITR-RLOC is still answered. The
 * Error Notification is decoded by tshark. Prints TAP.
 *
 * Usage: ms_harden LISPMSD LISPMSCTL
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
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <lispms/err.h>
#include <lispms/mtime.h>
#include <lispms/proto.h>
#include <lispms/proto_rt.h>

#include "it.h"
#include "pcap.h"
#include "tap.h"

static uint16_t ms_port;
static pid_t daemon_pid;
static const char *ctl_bin;
static char conf_path[128], log_path[128], pcap_path[128], ctl_sock[128];
static char ctl_out[1 << 16];
static struct auth_key key1;
static uint8_t arena_mem[1 << 16];
static struct arena ar;
static struct pcap cap;
static uint32_t cap_seq = 1;

/* The server section's knobs this test reloads. */
struct knobs {
	bool rt;
	unsigned keepalive, max_sessions, backlog;
	const char *output_limit;
};

static void write_conf(const struct knobs *k)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "server:\n"
		 "  listen: [127.0.0.1]\n"
		 "  port: %u\n"
		 "  workers: 1\n"
		 "  registration-timeout: 30\n"
		 "  reliable-transport: %s\n"
		 "  keepalive: %u\n"
		 "  max-sessions: %u\n"
		 "  session-output-limit: %s\n"
		 "  session-read-timeout: 2\n"
		 "  listen-backlog: %u\n"
		 "  reply-rate-limit: 100\n"
		 "control:\n"
		 "  socket: %s\n"
		 "log:\n"
		 "  level: info\n"
		 "sites:\n"
		 "  - name: alpha\n"
		 "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"s\"}]\n"
		 "    eid-prefixes: [\"[1000] 10.0.0.0/8\"]\n"
		 "    accept-more-specifics: true\n",
		 ms_port, k->rt ? "true" : "false", k->keepalive, k->max_sessions, k->output_limit,
		 k->backlog, ctl_sock);
	it_write_file(conf_path, text);
}

/* Run `lispmsctl -s SOCK ARGS`; its output in ctl_out, its exit status. */
__attribute__((format(printf, 1, 2))) static int ctl_run(const char *fmt, ...)
{
	char args[256], cmd[768];
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

static int reload(const struct knobs *k)
{
	write_conf(k);
	return ctl_run("reload");
}

/* The value `lispmsctl stats FILTER` prints on the line holding `label`; -1 if none. */
static long stat_of(const char *filter, const char *label)
{
	if (ctl_run("stats %s", filter) != 0)
		return -1;
	for (char *line = strtok(ctl_out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (strstr(line, label) == NULL)
			continue;
		char *sp = strrchr(line, ' ');
		return sp ? strtol(sp + 1, NULL, 10) : -1;
	}
	return 0;
}

/* UDP r=1 Map-Register from addr: 1 when the Map-Notify offers a session, 0
 * when it does not, -1 when none came. */
static int udp_auth(const char *addr, const char *eid, uint64_t nonce)
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
	int ret = -1;
	if (poll(&p, 1, 2000) == 1) {
		ssize_t n = recv(fd, rep, sizeof(rep), 0);
		struct lisp_map_notify mn;
		arena_reset(&ar);
		if (n > 0 && map_notify_decode(rep, (size_t)n, &ar, &mn) == LISPMS_EOK &&
		    mn.nonce == nonce)
			ret = (mn.flags & LISP_MNOT_r) != 0;
	}
	close(fd);
	return ret;
}

static int tcp_from(const char *addr, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in src = { .sin_family = AF_INET };
	inet_pton(AF_INET, addr, &src.sin_addr);
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(ms_port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
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
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &l);
	r->cport = ntohs(a.sin_port);
}

/* The next message from the server, also written to the pcap. */
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
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		if (poll(&p, 1, timeout_ms) != 1)
			return false;
		size_t avail;
		uint8_t *space = rt_stream_space(&r->rx, &avail);
		ssize_t n = recv(r->fd, space, avail, 0);
		if (n <= 0) {
			r->eof = true;
			continue;
		}
		rt_stream_commit(&r->rx, (size_t)n);
	}
}

static size_t registration(const char *eid, const char *rloc, uint8_t *out, size_t cap_len)
{
	struct it_reg r = { .flags = LISP_MREG_P, .nonce = 7, .key = &key1, .rloc = rloc };
	r.eids[0] = eid;
	uint8_t inner[2048];
	size_t ilen = it_build_register(&r, inner, sizeof(inner));
	struct rt_msg msg = { .type = RT_TYPE_REGISTRATION, .has_id = 1, .id = 1 };
	msg.u.inner.msg = inner;
	msg.u.inner.len = ilen;
	size_t len = 0;
	rt_encode(&msg, out, cap_len, &len);
	return len;
}

/* A session from addr after its UDP authentication; its refresh read. */
static bool session_open(struct reader *r, const char *addr, const char *eid, uint64_t nonce,
			 int rcvbuf)
{
	if (udp_auth(addr, eid, nonce) != 1)
		return false;
	int fd = tcp_from(addr, rcvbuf);
	if (fd < 0)
		return false;
	reader_init(r, fd);
	struct rt_msg m;
	return next_msg(r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_REFRESH;
}

/* A registration on the session is acknowledged: it is up and served. */
static bool session_serves(struct reader *r, const char *eid, const char *rloc)
{
	uint8_t msg[2048];
	size_t len = registration(eid, rloc, msg, sizeof(msg));
	if (send(r->fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
		return false;
	struct rt_msg m;
	for (int i = 0; i < 8 && next_msg(r, &m, 2000); i++) /* refreshes a reload sent first */
		if (m.type != RT_TYPE_REGISTRATION_REFRESH)
			return m.type == RT_TYPE_REGISTRATION_ACK;
	return false;
}

/* The keepalive timer ss shows on the server's side of the session from cport, in ms. */
static long keepalive_timer_ms(uint16_t cport)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
		 "ss -tnoH state established '( sport = :%u and dport = :%u )' 2>/dev/null",
		 ms_port, cport);
	FILE *p = popen(cmd, "r");
	char line[512] = "";
	size_t n = p ? fread(line, 1, sizeof(line) - 1, p) : 0;
	line[n] = '\0';
	if (p)
		pclose(p);
	const char *t = strstr(line, "timer:(keepalive,");
	if (t == NULL)
		return -1;
	t += strlen("timer:(keepalive,");
	/* "4min59sec", "9.912ms" (seconds and milliseconds), "512ms" */
	long ms = 0;
	char *end;
	double v = strtod(t, &end);
	if (strncmp(end, "min", 3) == 0) {
		ms = (long)(v * 60000);
		v = strtod(end + 3, &end);
	}
	if (strncmp(end, "sec", 3) == 0 || strncmp(end, "s,", 2) == 0)
		ms += (long)(v * 1000);
	else if (strncmp(end, "ms", 2) == 0 && memchr(t, '.', (size_t)(end - t)))
		ms += (long)(v * 1000); /* iproute2 6.1 prints "9.912ms" for 9.912 s */
	else if (strncmp(end, "ms", 2) == 0)
		ms += (long)v;
	return ms;
}

/* ------------------------------------------------------------ checks */

static struct reader main_sess;

static void reliable_transport(struct knobs *k)
{
	tap_ok(udp_auth("127.0.0.31", "[1000] 10.31.0.0/16", 0x31) == 0 &&
		   tcp_from("127.0.0.31", 0) < 0,
	       "reliable-transport off: no session offered, no TCP listener");

	/* another process holds the TCP port: turning it on cannot work */
	int blocker = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(ms_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool held = bind(blocker, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(blocker, 1) == 0;
	k->rt = true;
	int rc = reload(k);
	tap_ok(held && rc != 0 && strstr(ctl_out, "reliable-transport") &&
		   strstr(ctl_out, "in use") &&
		   udp_auth("127.0.0.31", "[1000] 10.31.0.0/16", 0x32) == 0,
	       "turning reliable-transport on with the TCP port taken is refused and nothing "
	       "is offered (rc %d: %.120s)",
	       rc, ctl_out);
	close(blocker);

	rc = reload(k);
	tap_ok(rc == 0 && it_file_has(log_path, "reliable transport on"),
	       "with the port free the reload turns it on (rc %d)", rc);
	tap_ok(session_open(&main_sess, "127.0.0.31", "[1000] 10.31.0.0/16", 0x33, 0),
	       "the Map-Notify offers a session and the session opens");
}

static void keepalive(struct knobs *k)
{
	long before = keepalive_timer_ms(main_sess.cport);
	k->keepalive = 300;
	int rc = reload(k);
	long after = keepalive_timer_ms(main_sess.cport);
	tap_ok(rc == 0 && before > 5000 && before <= 10000 && after > 200000,
	       "a reloaded keepalive reaches the open session (timer %ld ms, then %ld ms)", before,
	       after);
}

static void output_limit(struct knobs *k)
{
	k->output_limit = "64KiB";
	int rc = reload(k);
	struct reader slow;
	/* the small receive buffer is set before connect, so the window the
	 * reader offers is small from the first segment: shrunk afterwards, the
	 * server may still send into the larger window offered before, the
	 * reader drops those segments with the ACKs they carry, and its own
	 * sends crawl at retransmission backoff (seen under CI load) */
	bool up = session_open(&slow, "127.0.0.32", "[1000] 10.32.0.0/16", 0x34, 4096);
	static uint8_t msg[4096];
	size_t len = registration("[1000] 10.32.1.0/24", "127.0.0.32", msg, sizeof(msg));
	/* a reader that does not read; under the old 4 MiB bound the server
	 * would take far more than 4 MB of registrations before dropping it */
	size_t sent = 0, off = 0;
	bool dropped = false;
	struct pollfd p = { .fd = slow.fd, .events = POLLOUT };
	int idle_ms = 0; /* a loaded machine may leave the worker unscheduled for a while */
	while (up && !dropped && sent < (4u << 20)) {
		if (poll(&p, 1, 500) != 1) {
			if ((idle_ms += 500) >= 15000)
				break;
			continue;
		}
		idle_ms = 0;
		if (p.revents & (POLLHUP | POLLERR)) {
			dropped = true;
			break;
		}
		/* a short send leaves the rest of the message for the next one:
		 * the stream must stay framed */
		ssize_t n = send(slow.fd, msg + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			sent += (size_t)n;
			off = (off + (size_t)n) % len;
		} else if (n < 0 && errno != EAGAIN)
			dropped = errno == EPIPE || errno == ECONNRESET;
	}
	tap_ok(rc == 0 && up && dropped,
	       "session-output-limit reloaded from 4 MiB to 64 KiB: a reader that does not read "
	       "is dropped after %zu bytes of requests (%s)",
	       sent, idle_ms >= 15000 ? "no progress for 15 s" : "dropped");
	if (up)
		close(slow.fd);
}

static void max_sessions(struct knobs *k)
{
	long refused = stat_of("net_tcp_refused", "max_sessions");
	k->max_sessions = 1; /* main_sess is open */
	int rc = reload(k);
	bool auth = udp_auth("127.0.0.33", "[1000] 10.33.0.0/16", 0x35) == 1;
	int fd = tcp_from("127.0.0.33", 0);
	uint8_t b;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	bool closed = fd >= 0 && poll(&p, 1, 2000) == 1 && recv(fd, &b, 1, 0) <= 0;
	long now = stat_of("net_tcp_refused", "max_sessions");
	tap_ok(rc == 0 && auth && closed && now == refused + 1,
	       "max-sessions reloaded to 1: a second session is refused (counter %ld -> %ld)",
	       refused, now);
	tap_ok(session_serves(&main_sess, "[1000] 10.31.1.0/24", "127.0.0.31"),
	       "and the session already open stays");
	if (fd >= 0)
		close(fd);
	k->max_sessions = 0;
	reload(k);
}

static void stalled(void)
{
	struct reader r;
	bool up = session_open(&r, "127.0.0.34", "[1000] 10.34.0.0/16", 0x36, 0);
	uint8_t msg[2048];
	size_t len = registration("[1000] 10.34.1.0/24", "127.0.0.34", msg, sizeof(msg));
	long before = stat_of("sessions_closed", "stalled_message");
	uint64_t t0 = mtime_now_ns();
	if (up)
		send(r.fd, msg, len / 2, MSG_NOSIGNAL);
	struct rt_msg m;
	bool err = up && next_msg(&r, &m, 8000) && m.type == RT_TYPE_ERROR_NOTIFICATION &&
		   m.u.error.code == RT_ERR_RESOURCE && m.u.error.off_type == RT_TYPE_REGISTRATION;
	uint64_t waited_ms = (mtime_now_ns() - t0) / LISPMS_NS_PER_MSEC;
	bool eof = err && !next_msg(&r, &m, 3000) && r.eof;
	tap_ok(err && eof && waited_ms >= 1500,
	       "a message left incomplete gets Error Notification 6 after session-read-timeout "
	       "(2 s; %llu ms) and the session closes",
	       (unsigned long long)waited_ms);
	tap_ok(stat_of("sessions_closed", "stalled_message") == before + 1,
	       "counted as cause stalled_message");
	tap_ok(session_serves(&main_sess, "[1000] 10.31.2.0/24", "127.0.0.31"),
	       "an idle session with nothing partial stays up");
	if (up)
		close(r.fd);
}

/* Map-Replies that arrive on fd until it is quiet for quiet_ms. */
static unsigned count_replies(int fd, int quiet_ms)
{
	unsigned n = 0;
	uint8_t buf[2048];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (poll(&p, 1, quiet_ms) == 1) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		if (len > 0 && msg_type(buf, (size_t)len) == LISP_MSG_MAP_REPLY)
			n++;
	}
	return n;
}

static void rate_limit(void)
{
	int victim = it_client("127.0.0.41", 0), other = it_client("127.0.0.42", 0);
	int big = 8 << 20;
	setsockopt(victim, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	struct sockaddr_in va, oa;
	socklen_t l = sizeof(va);
	getsockname(victim, (struct sockaddr *)&va, &l);
	l = sizeof(oa);
	getsockname(other, (struct sockaddr *)&oa, &l);
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(ms_port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	long limited = stat_of("reply_rate_limited", "map_reply");
	uint8_t msg[512];
	/* 5,000 requests naming 127.0.0.41 as ITR-RLOC, sent within a second
	 * (from 127.0.0.42: the ITR-RLOC is what counts, not the source) */
	uint64_t t0 = mtime_now_ns();
	for (unsigned i = 0; i < 5000; i++) {
		size_t len = it_build_request("[1000] 10.200.0.1", "127.0.0.41", 0x10000 + i, true,
					      ntohs(va.sin_port), msg, sizeof(msg));
		sendto(other, msg, len, 0, (struct sockaddr *)&dst, sizeof(dst));
		if (i % 500 == 499)
			usleep(5000); /* keep the server's socket buffer from dropping them */
	}
	uint64_t send_ms = (mtime_now_ns() - t0) / LISPMS_NS_PER_MSEC;
	/* meanwhile another ITR-RLOC asks ten times */
	unsigned answered = 0;
	for (unsigned i = 0; i < 10; i++) {
		size_t len = it_build_request("[1000] 10.201.0.1", "127.0.0.42", 0x20000 + i, true,
					      ntohs(oa.sin_port), msg, sizeof(msg));
		sendto(other, msg, len, 0, (struct sockaddr *)&dst, sizeof(dst));
		answered += count_replies(other, 500);
	}
	unsigned replies = count_replies(victim, 500);
	long now = stat_of("reply_rate_limited", "map_reply");
	tap_ok(send_ms < 1000 && replies >= 100 && replies <= 300,
	       "5000 requests naming one ITR-RLOC in %llu ms: %u Map-Replies to it (limit 100/s)",
	       (unsigned long long)send_ms, replies);
	tap_ok(answered == 10, "requests naming another ITR-RLOC are still answered (%u of 10)",
	       answered);
	tap_ok(now - limited == 5000 - (long)replies, "every reply not sent is counted (%ld)",
	       now - limited);
	close(victim);
	close(other);
}

static void transport_off(struct knobs *k)
{
	k->rt = false;
	int rc = reload(k);
	tap_ok(rc == 0 && tcp_from("127.0.0.35", 0) < 0 &&
		   udp_auth("127.0.0.35", "[1000] 10.35.0.0/16", 0x37) == 0,
	       "reliable-transport off by reload: no session offered, the listener is closed");
	tap_ok(session_serves(&main_sess, "[1000] 10.31.3.0/24", "127.0.0.31"),
	       "the session that was open stays until it ends");
}

static void restart_only(struct knobs *k)
{
	k->backlog = 128;
	int rc = reload(k);
	tap_ok(rc == 0 && strstr(ctl_out, "needs a restart: server.listen-backlog") &&
		   it_file_has(log_path, "needs a restart: server.listen-backlog"),
	       "a restart-only key is reported as such in the answer and the log");
}

static void tshark_check(void)
{
	pcap_close(&cap);
	if (!it_have_tshark()) {
		if (getenv("LISPMS_ALLOW_NO_TSHARK"))
			tap_skip("tshark not installed");
		else
			tap_ok(false, "tshark is needed (tools/test installs it)");
		return;
	}
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -o tcp.analyze_sequence_numbers:FALSE -d tcp.port==4342,lisp-tcp "
		 "-Y 'lisp-tcp.invalid_length || lisp-tcp.invalid_marker || _ws.malformed || "
		 "lisp-tcp.undecoded' 2>/dev/null | wc -l",
		 pcap_path);
	int bad = (int)it_shell_count(cmd);
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -o tcp.analyze_sequence_numbers:FALSE -d tcp.port==4342,lisp-tcp "
		 "-Y 'lisp-tcp.message.type == 16 && lisp-tcp.message.err.code == 6 && "
		 "lisp-tcp.message.err.offending_msg.type == 17' 2>/dev/null | wc -l",
		 pcap_path);
	int errors = (int)it_shell_count(cmd);
	tap_ok(bad == 0 && errors == 1,
	       "tshark's lisp-tcp decodes the session messages cleanly, the Error Notification "
	       "as code 6 naming a Registration (%d flagged, %d such)",
	       bad, errors);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ms_harden LISPMSD LISPMSCTL\n");
		return 2;
	}
	it_daemon = argv[1];
	ctl_bin = argv[2];
	tap_plan(20);
	it_auth = auth_ctx_new();
	ar = (struct arena){ .base = arena_mem, .size = sizeof(arena_mem) };
	auth_key_init(&key1, 1, LISP_ALG_HMAC_SHA256, "s", 1);
	if (it_tempdir() != 0) {
		perror("mkdtemp");
		return 1;
	}
	ms_port = it_free_port();
	snprintf(conf_path, sizeof(conf_path), "%s/lispms.yaml", it_dir);
	snprintf(log_path, sizeof(log_path), "%s/lispmsd.log", it_dir);
	snprintf(pcap_path, sizeof(pcap_path), "%s/session.pcap", it_dir);
	snprintf(ctl_sock, sizeof(ctl_sock), "%s/ctl.sock", it_dir);
	pcap_open(&cap, pcap_path);
	struct knobs k = { .rt = false, .keepalive = 10, .backlog = 64, .output_limit = "4MiB" };
	write_conf(&k);
	daemon_pid = it_spawn(conf_path, log_path);
	bool ready = false;
	for (int i = 0; i < 100 && !ready; i++) {
		usleep(50000);
		ready = ctl_run("status") == 0;
	}
	tap_ok(ready, "lispmsd starts with reliable-transport off (port %u)", ms_port);
	if (!ready) {
		it_wait_exit(daemon_pid, 100);
		return tap_done();
	}
	reliable_transport(&k);
	keepalive(&k);
	output_limit(&k);
	max_sessions(&k);
	stalled();
	rate_limit();
	transport_off(&k);
	restart_only(&k);
	close(main_sess.fd);
	kill(daemon_pid, SIGTERM);
	int rc = it_wait_exit(daemon_pid, 5000);
	tap_ok(rc == 0, "SIGTERM stops lispmsd cleanly (exit %d)", rc);
	tshark_check();
	if (tap_failed == 0)
		it_tempdir_remove();
	else
		printf("# daemon log: %s\n", log_path);
	auth_ctx_free(it_auth);
	return tap_done();
}
