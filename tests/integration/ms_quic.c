/* SPDX-License-Identifier: MIT */
/*
 * lispmsd's QUIC sessions end to end on loopback (docs/protocol.md D17): the
 * server.quic section starts a QUIC listener; an address that has not
 * authenticated over UDP (D5) gets no session (admit() refuses it after
 * the Retry, before any state); an authenticated one gets the session's
 * Registration Refresh, an ACK and a Reject per record, exactly as on TCP;
 * a second stream is refused while the session goes on; `lispmsctl stats`
 * counts Retries, refusals and the refused stream. Prints TAP.
 *
 * Usage: ms_quic LISPMSD LISPMSCTL SOURCE_ROOT
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
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/proto.h>
#include <lispms/proto_rt.h>

#include "capture.h"
#include "it.h"
#include "quic_client.h"
#include "tap.h"

static uint16_t ms_port, quic_port;
static pid_t daemon_pid;
static struct auth_key key1;
static uint8_t arena_mem[1 << 16];
static struct arena ar;
static const char *ctl_bin;
static char ctl_sock[128];

static const char *config_text = "server:\n"
				 "  listen: [127.0.0.1]\n"
				 "  port: %u\n"
				 "  workers: 2\n"
				 "  quic:\n"
				 "    port: %u\n"
				 "    certificate: %s/server.pem\n"
				 "    key: %s/server-key.pem\n"
				 "control:\n"
				 "  socket: %s\n"
				 "log:\n"
				 "  level: notice\n"
				 "sites:\n"
				 "  - name: alpha\n"
				 "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"s\"}]\n"
				 "    eid-prefixes: [\"[1000] 10.0.0.0/8\"]\n"
				 "    accept-more-specifics: true\n";

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

static struct quic_client *quic_from(const char *addr)
{
	struct sockaddr_storage src = { 0 }, dst = { 0 };
	struct sockaddr_in *s = (struct sockaddr_in *)&src, *d = (struct sockaddr_in *)&dst;
	s->sin_family = d->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &s->sin_addr);
	d->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d->sin_port = htons(quic_port);
	char ca[160], keylog[160];
	snprintf(ca, sizeof(ca), "%s/ca.pem", it_dir);
	snprintf(keylog, sizeof(keylog), "%s/keylog.txt", it_dir);
	struct quic_client_conf cc = { .ca_file = ca, .keylog = keylog, .source = &src };
	struct quic_client *c = NULL;
	if (quic_client_new(&c, &cc, &dst) != 0)
		return NULL;
	return c;
}

struct reader {
	struct quic_client *c;
	struct rt_stream rx;
	uint8_t buf[LISPMS_RT_MAX_LEN];
};

static bool next_msg(struct reader *r, struct rt_msg *m, int timeout_ms)
{
	static uint8_t copy[LISPMS_RT_MAX_LEN];
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		const uint8_t *msg;
		size_t len;
		int ret = rt_stream_next(&r->rx, &msg, &len);
		if (ret == 1) {
			memcpy(copy, msg, len);
			return rt_decode(copy, len, m) == LISPMS_EOK;
		}
		if (ret < 0)
			return false;
		size_t avail;
		uint8_t *space = rt_stream_space(&r->rx, &avail);
		ssize_t n = quic_client_read(r->c, space, avail, 20);
		if (n < 0)
			return false;
		rt_stream_commit(&r->rx, (size_t)n);
	}
	return false;
}

static size_t registration(const char *eid, const char *rloc, uint8_t *out, size_t cap_len,
			   unsigned nrecs)
{
	struct it_reg r = {
		.flags = LISP_MREG_P, .nonce = 7, .key = &key1, .rloc = rloc, .ttl = 3
	};
	r.eids[0] = eid;
	if (nrecs > 1)
		r.eids[1] = "[1000] 11.0.0.0/24"; /* not in any site */
	uint8_t inner[2048];
	size_t ilen = it_build_register(&r, inner, sizeof(inner));
	struct rt_msg msg = { .type = RT_TYPE_REGISTRATION, .has_id = 1, .id = 1 };
	msg.u.inner.msg = inner;
	msg.u.inner.len = ilen;
	size_t len = 0;
	rt_encode(&msg, out, cap_len, &len);
	return len;
}

/* The value on the `lispmsctl stats quic` line holding `label`; -1 if none. */
static long stat_of(const char *label)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s -s %s stats quic 2>&1", ctl_bin, ctl_sock);
	FILE *p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	char line[512];
	long v = -1;
	while (fgets(line, sizeof(line), p))
		if (strstr(line, label) != NULL) {
			char *sp = strrchr(line, ' ');
			v = sp ? strtol(sp + 1, NULL, 10) : -1;
		}
	pclose(p);
	return v;
}

static void sessions(void)
{
	struct quic_client *c = quic_from("127.0.0.91");
	bool up = c && quic_client_wait_ready(c, 1500) == 0;
	tap_ok(c && !up,
	       "a QUIC client that has not authenticated over UDP gets no connection (D5)");
	quic_client_free(c);
	tap_ok(stat_of("retries") >= 1 && stat_of("unauthorised") >= 1,
	       "it was sent a Retry, then refused by admission (counted)");

	tap_ok(udp_auth("127.0.0.92", "[1000] 10.192.0.0/16", 0x92),
	       "an r=1 register is answered with a Map-Notify that offers a session");
	static struct reader r;
	r.c = quic_from("127.0.0.92");
	rt_stream_init(&r.rx, r.buf, sizeof(r.buf), LISPMS_RT_MAX_LEN);
	tap_ok(r.c && quic_client_wait_ready(r.c, 3000) == 0,
	       "the authenticated address completes a QUIC handshake (TLS 1.3, ALPN lisp-rt)");
	if (!r.c)
		return;
	/* the session opens with the first stream bytes: a registration */
	uint8_t msg[4096];
	size_t len = registration("[1000] 10.92.1.0/24", "127.0.0.92", msg, sizeof(msg), 2);
	quic_client_write(r.c, msg, len);
	struct rt_msg m;
	tap_ok(next_msg(&r, &m, 3000) && m.type == RT_TYPE_REGISTRATION_REFRESH &&
		   m.u.refresh.scope == RT_SCOPE_ALL,
	       "the QUIC session starts with Registration Refresh, scope 0 (D6)");
	bool ack = next_msg(&r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_ACK;
	bool rej = next_msg(&r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_REJECT &&
		   m.u.reject.reason == RT_REASON_NOT_SITE_PREFIX;
	tap_ok(ack && rej, "a Registration over QUIC gets an ACK and a Reject per record");

	long refused = stat_of("streams_refused");
	int64_t id = quic_client_extra_stream(r.c, msg, 64);
	for (int i = 0; i < 50 && !quic_client_stream_refused(r.c, id); i++)
		(void)quic_client_read(r.c, msg, 0, 20);
	tap_ok(id >= 0 && quic_client_stream_refused(r.c, id) &&
		   stat_of("streams_refused") == refused + 1,
	       "a second stream is refused (STOP_SENDING/RESET_STREAM, counted)");
	len = registration("[1000] 10.92.2.0/24", "127.0.0.92", msg, sizeof(msg), 1);
	quic_client_write(r.c, msg, len);
	tap_ok(next_msg(&r, &m, 2000) && m.type == RT_TYPE_REGISTRATION_ACK,
	       "the session goes on after the refused stream");
	quic_client_close(r.c);
	quic_client_free(r.c);
}

/* A live capture of the QUIC port on lo, for tshark_check. */
static struct it_capture cap;

/* tshark decodes every QUIC packet of the run without a malformed one and,
 * with the client's SSLKEYLOGFILE, finds our framing (end markers) in the
 * decrypted STREAM frames. */
static void tshark_check(void)
{
	if (!it_tshark_or_tap(&cap))
		return;
	it_capture_opts(&cap, "-o tls.keylog_file:%s/keylog.txt -d udp.port==%u,quic", it_dir,
			quic_port);
	long bad = it_tshark_count(&cap, "_ws.malformed || _ws.expert.severity == error");
	long pkts = it_tshark_count(&cap, "quic");
	long markers = it_tshark_grep(&cap, NULL, "-e quic.stream_data", "9facade9");
	tap_ok(bad == 0 && pkts > 10 && markers >= 5,
	       "tshark decodes the QUIC traffic (%ld packets, %ld malformed or in error) and, "
	       "decrypted, %ld framed messages on the stream",
	       pkts, bad, markers);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: ms_quic LISPMSD LISPMSCTL SOURCE_ROOT\n");
		return 2;
	}
	it_daemon = argv[1];
	ctl_bin = argv[2];
	tap_plan(11);
	it_auth = auth_ctx_new();
	ar = (struct arena){ .base = arena_mem, .size = sizeof(arena_mem) };
	auth_key_init(&key1, 1, LISP_ALG_HMAC_SHA256, "s", 1);
	if (it_tempdir() != 0) {
		perror("mkdtemp");
		return 1;
	}
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s/deploy/tls/make-test-ca.sh %s >/dev/null", argv[3], it_dir);
	if (system(cmd) != 0) {
		tap_ok(false, "make-test-ca.sh");
		return tap_done();
	}
	ms_port = it_free_port();
	quic_port = it_free_port();
	char conf_path[160], conf_text[4096], log_path[160];
	snprintf(conf_path, sizeof(conf_path), "%s/lispms.yaml", it_dir);
	snprintf(log_path, sizeof(log_path), "%s/lispmsd.log", it_dir);
	snprintf(ctl_sock, sizeof(ctl_sock), "/tmp/lispms-quic-%u.sock", ms_port);
	snprintf(conf_text, sizeof(conf_text), config_text, ms_port, quic_port, it_dir, it_dir,
		 ctl_sock);
	it_write_file(conf_path, conf_text);
	daemon_pid = it_spawn(conf_path, log_path);
	bool ready = false;
	for (int i = 0; i < 100 && !ready; i++) {
		usleep(50000);
		ready = it_file_has(log_path, "QUIC (ALPN lisp-rt)");
	}
	tap_ok(ready, "lispmsd starts with QUIC on udp port %u", quic_port);
	if (ready)
		it_capture_start(&cap, "quic.pcapng", "udp port %u", quic_port);
	if (ready)
		sessions();
	it_capture_stop(&cap);
	tshark_check();
	kill(daemon_pid, SIGTERM);
	tap_ok(it_wait_exit(daemon_pid, 5000) == 0, "lispmsd stops cleanly with QUIC sessions");
	it_tempdir_remove();
	return tap_done();
}
