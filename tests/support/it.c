/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "it.h"

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

const char *it_daemon;
char it_dir[64];

int it_tempdir(void)
{
	snprintf(it_dir, sizeof(it_dir), "/tmp/lispms-test-XXXXXX");
	return mkdtemp(it_dir) != NULL ? 0 : -1;
}

void it_tempdir_remove(void)
{
	char cmd[128];
	if (it_dir[0] == '\0' || strncmp(it_dir, "/tmp/lispms-test-", 17) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", it_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", it_dir);
}
struct auth_ctx *it_auth;

uint16_t it_free_port(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	socklen_t len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	close(fd);
	return ntohs(a.sin_port);
}

int it_client(const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	if (saddr_parse(addr, &ss) != LISPMS_EOK)
		return -1;
	saddr_set_port(&ss, port);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, saddr_len(&ss)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int it_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Start lispmsd with `conf_text`; returns its pid (the caller checks readiness). */
pid_t it_spawn(const char *path, const char *log)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(it_daemon, "lispmsd", "-c", path, (char *)NULL);
		_exit(127);
	}
	return pid;
}

int it_wait_exit(pid_t pid, int timeout_ms)
{
	for (int i = 0; i < timeout_ms / 10; i++) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

void it_send_to(int fd, const char *addr, uint16_t port, const uint8_t *msg, size_t len)
{
	struct sockaddr_storage dst;
	saddr_parse(addr, &dst);
	saddr_set_port(&dst, port);
	(void)sendto(fd, msg, len, 0, (struct sockaddr *)&dst, saddr_len(&dst));
}

ssize_t it_recv_from(int fd, uint8_t *buf, size_t len, int timeout_ms, char *from, size_t fromlen)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	struct sockaddr_storage src;
	socklen_t sl = sizeof(src);
	ssize_t n = recvfrom(fd, buf, len, 0, (struct sockaddr *)&src, &sl);
	if (from != NULL) {
		saddr_format(&src, from, fromlen);
		char *colon = strrchr(from, ':');
		if (colon != NULL)
			*colon = '\0';
	}
	return n;
}

bool it_register_once(const char *etr, const char *ms, uint16_t port, const struct it_reg *r)
{
	int fd = it_client(etr, 0);
	uint8_t msg[2048], buf[2048];
	size_t len = it_build_register(r, msg, sizeof(msg));
	it_send_to(fd, ms, port, msg, len);
	ssize_t n = it_recv_from(fd, buf, sizeof(buf), 1500, NULL, 0);
	close(fd);
	return n > 0 && msg_type(buf, (size_t)n) == LISP_MSG_MAP_NOTIFY;
}

uint16_t it_local_port(int fd)
{
	struct sockaddr_storage me;
	socklen_t sl = sizeof(me);
	if (getsockname(fd, (struct sockaddr *)&me, &sl) != 0)
		return 0;
	return saddr_port(&me);
}

bool it_ask(int itr, const char *itr_addr, uint16_t itr_port, const char *mr, uint16_t port,
	    const char *eid, uint64_t nonce, struct arena *ar, struct lisp_map_reply *rep,
	    char *from, size_t fromlen)
{
	uint8_t msg[1024], buf[2048];
	size_t len = it_build_request(eid, itr_addr, nonce, true, itr_port, msg, sizeof(msg));
	it_send_to(itr, mr, port, msg, len);
	arena_reset(ar);
	ssize_t n;
	while ((n = it_recv_from(itr, buf, sizeof(buf), 3000, from, fromlen)) > 0)
		if (map_reply_decode(buf, (size_t)n, ar, rep) == LISPMS_EOK &&
		    rep->nonce == nonce && rep->nrecords == 1)
			return true;
	return false;
}

bool it_probe(const char *itr, const char *addr, uint16_t port)
{
	int fd = it_client(itr, 0);
	bool ready = false;
	for (int i = 0; i < 100 && !ready && fd >= 0; i++) {
		uint8_t msg[512], rep[2048];
		size_t len =
		    it_build_request("[1] 10.0.0.1", itr, 0xfeed, false, 0, msg, sizeof(msg));
		it_send_to(fd, addr, port, msg, len);
		ready = it_recv_from(fd, rep, sizeof(rep), 50, NULL, 0) > 0;
	}
	if (fd >= 0)
		close(fd);
	return ready;
}

bool it_resolver_up(const char *name)
{
	char log[160];
	snprintf(log, sizeof(log), "%s/%s.log", it_dir, name);
	for (int i = 0; i < 100; i++) {
		if (it_file_has(log, "Map-Resolver on udp"))
			return true;
		usleep(50000);
	}
	return false;
}

bool it_file_has(const char *path, const char *needle)
{
	char buf[8192] = "";
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, needle) != NULL;
}

/* ------------------------------------------------------------ messages */

size_t it_build_register(const struct it_reg *r, uint8_t *out, size_t cap_len)
{
	struct lisp_record recs[4];
	struct lisp_locator locs[4];
	unsigned n = 0;
	for (; n < 4 && r->eids[n]; n++) {
		struct eid_prefix p;
		struct lisp_addr a;
		if (eid_prefix_parse(r->eids[n], &p) != LISPMS_EOK ||
		    lisp_addr_parse(r->rloc, &a) != LISPMS_EOK)
			return 0;
		memset(&recs[n], 0, sizeof(recs[n]));
		memset(&locs[n], 0, sizeof(locs[n]));
		locs[n].priority = r->priority ? r->priority : 1;
		locs[n].weight = 100;
		locs[n].mpriority = 255;
		locs[n].flags = LISP_LOC_L | LISP_LOC_R;
		afi_from_addr(&a, &locs[n].addr);
		recs[n].ttl = r->ttl ? r->ttl : 3;
		recs[n].a = 1;
		recs[n].eid_plen = p.plen;
		afi_from_eid(&p, &recs[n].eid);
		recs[n].nlocs = 1;
		recs[n].locs = &locs[n];
	}
	struct lisp_map_register m = {
		.flags = r->flags,
		.nonce = r->nonce,
		.auth = { .key_id = r->key->key_id,
			  .alg_id = r->key->alg_id,
			  .len =
			      r->auth_len ? r->auth_len : (uint16_t)auth_alg_len(r->key->alg_id) },
		.nrecords = (uint16_t)n,
		.records = recs,
	};
	if (r->xtr_id) {
		m.flags |= LISP_MREG_I;
		memcpy(m.xtr_id, r->xtr_id, 16);
		m.site_id = 7;
	}
	size_t len;
	if (map_register_encode(&m, out, cap_len, &len) != LISPMS_EOK ||
	    auth_sign(it_auth, r->key, out, len) != LISPMS_EOK)
		return 0;
	return len;
}

size_t it_build_request(const char *eid, const char *itr, uint64_t nonce, bool ecm, uint16_t sport,
			uint8_t *out, size_t cap_len)
{
	struct eid_prefix p;
	struct lisp_addr a;
	eid_prefix_parse(eid, &p);
	lisp_addr_parse(itr, &a);
	struct afi_addr rloc;
	afi_from_addr(&a, &rloc);
	struct lisp_request_record rec = { .eid_plen = p.plen };
	afi_from_eid(&p, &rec.eid);
	struct lisp_map_request req = {
		.nonce = nonce, .nitr = 1, .itr_rlocs = &rloc, .nrecords = 1, .records = &rec
	};
	uint8_t inner[512];
	size_t ilen;
	if (map_request_encode(&req, ecm ? inner : out, ecm ? sizeof(inner) : cap_len, &ilen) !=
	    LISPMS_EOK)
		return 0;
	if (!ecm)
		return ilen;
	struct lisp_ecm e = { .ip_version = a.afi == LISP_AFI_IPV6 ? 6 : 4,
			      .ttl = 64,
			      .src = a,
			      .sport = sport,
			      .dport = 4342,
			      .inner = inner,
			      .inner_len = ilen };
	if (p.afi == a.afi) {
		e.dst.afi = p.afi;
		memcpy(e.dst.bytes, p.bytes, sizeof(e.dst.bytes));
	} else {
		e.dst = a;
	}
	size_t len;
	return ecm_encode(&e, out, cap_len, &len) == LISPMS_EOK ? len : 0;
}

/* Decode a Map-Notify and check its authentication with key. */
bool it_record_is(const struct lisp_record *r, const char *prefix)
{
	struct eid_prefix want, got;
	eid_prefix_parse(prefix, &want);
	return record_eid(r, &got) == LISPMS_EOK && eid_prefix_equal(&want, &got);
}

bool it_prefix_is(const struct afi_addr *a, uint8_t plen, const char *prefix)
{
	struct eid_prefix want, got;
	eid_prefix_parse(prefix, &want);
	return afi_to_eid(a, plen, &got) == LISPMS_EOK && eid_prefix_equal(&want, &got);
}

bool it_have_tshark(void)
{
	return system("command -v tshark >/dev/null 2>&1") == 0;
}

long it_shell_count(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	long n = -1;
	if (p == NULL)
		return -1;
	if (fscanf(p, "%ld", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}
