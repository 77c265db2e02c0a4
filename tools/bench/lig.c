/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "lig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>

#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/mtime.h>

static const char *act_name(unsigned act)
{
	static const char *const names[] = {
		"no-action", "native-forward",	   "send-map-request",
		"drop",	     "drop-policy-denied", "drop-auth-failure"
	};
	return act < sizeof(names) / sizeof(names[0]) ? names[act] : "unassigned";
}

static void print_addr(char *buf, size_t len, const struct afi_addr *a, uint8_t plen, bool prefix)
{
	struct eid_prefix p;
	struct lisp_addr la;
	if (prefix && afi_to_eid(a, plen, &p) == LISPMS_EOK &&
	    eid_prefix_format(&p, buf, len) == LISPMS_EOK)
		return;
	if (!prefix && afi_to_addr(a, &la) == LISPMS_EOK &&
	    lisp_addr_format(&la, buf, len) == LISPMS_EOK)
		return;
	snprintf(buf, len, "(AFI %u, not shown)", a->afi);
}

void lig_print(FILE *f, const struct lisp_map_reply *r)
{
	for (unsigned i = 0; i < r->nrecords; i++) {
		const struct lisp_record *rec = &r->records[i];
		char eid[LISPMS_EID_STRLEN + 32];
		print_addr(eid, sizeof(eid), &rec->eid, rec->eid_plen, true);
		fprintf(f, "  EID prefix     %s\n", eid);
		if (rec->ttl == 0xffffffffu)
			fprintf(f, "  TTL            receiver decides\n");
		else
			fprintf(f, "  TTL            %u minute%s\n", rec->ttl,
				rec->ttl == 1 ? "" : "s");
		fprintf(f, "  action         %s%s\n", act_name(rec->act),
			rec->nlocs == 0 ? " (negative: no locators)" : "");
		fprintf(f, "  authoritative  %s\n", rec->a ? "yes" : "no");
		fprintf(f, "  map-version    %u\n", rec->version);
		fprintf(f, "  locators       %u\n", rec->nlocs);
		for (unsigned k = 0; k < rec->nlocs; k++) {
			const struct lisp_locator *l = &rec->locs[k];
			char addr[LISPMS_EID_STRLEN];
			print_addr(addr, sizeof(addr), &l->addr, 0, false);
			fprintf(f,
				"    %-39s priority %u weight %u  mpriority %u mweight %u  "
				"flags %s%s%s%s\n",
				addr, l->priority, l->weight, l->mpriority, l->mweight,
				l->flags & LISP_LOC_L ? "local " : "",
				l->flags & LISP_LOC_P ? "probed " : "",
				l->flags & LISP_LOC_R ? "reachable" : "unreachable",
				(l->flags & ~(LISP_LOC_L | LISP_LOC_P | LISP_LOC_R)) ? " +other"
										     : "");
		}
	}
}

static int build_request(const struct lig_conf *c, const struct sockaddr_storage *local,
			 uint64_t nonce, uint8_t *buf, size_t cap, size_t *len)
{
	struct lisp_addr itr = { .afi =
				     local->ss_family == AF_INET6 ? LISP_AFI_IPV6 : LISP_AFI_IPV4 };
	if (local->ss_family == AF_INET6)
		memcpy(itr.bytes, &((const struct sockaddr_in6 *)local)->sin6_addr, 16);
	else
		memcpy(itr.bytes, &((const struct sockaddr_in *)local)->sin_addr, 4);
	struct afi_addr itr_rloc;
	afi_from_addr(&itr, &itr_rloc);
	struct lisp_request_record rec = { .eid_plen = c->eid.plen };
	afi_from_eid(&c->eid, &rec.eid);
	struct lisp_map_request req = {
		.nonce = nonce, .nitr = 1, .itr_rlocs = &itr_rloc, .nrecords = 1, .records = &rec
	};
	uint8_t inner[512];
	size_t ilen;
	int ret = map_request_encode(&req, inner, sizeof(inner), &ilen);
	if (ret != LISPMS_EOK)
		return ret;
	struct lisp_ecm e = { .ip_version = itr.afi == LISP_AFI_IPV6 ? 6 : 4,
			      .ttl = 64,
			      .src = itr,
			      .dst = itr,
			      .sport = saddr_port(local),
			      .dport = 4342,
			      .inner = inner,
			      .inner_len = ilen };
	return ecm_encode(&e, buf, cap, len);
}

/*
 * The socket is bound to the address the route to the server leaves from but
 * not connected: through a Map-Resolver (RFC 8111, D23) the Map-Reply comes
 * from the authoritative Map-Server, not from the address asked.
 */
static int open_socket(const struct sockaddr_storage *server, struct sockaddr_storage *local)
{
	socklen_t ll = sizeof(*local);
	int probe = socket(server->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok = probe >= 0 &&
		  connect(probe, (const struct sockaddr *)server, saddr_len(server)) == 0 &&
		  getsockname(probe, (struct sockaddr *)local, &ll) == 0;
	if (probe >= 0)
		close(probe);
	if (!ok)
		return -1;
	saddr_set_port(local, 0);
	int fd = socket(server->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ll = sizeof(*local);
	if (fd < 0 || bind(fd, (const struct sockaddr *)local, saddr_len(local)) != 0 ||
	    getsockname(fd, (struct sockaddr *)local, &ll) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int lig_run(const struct lig_conf *c)
{
	char server[80], eid[LISPMS_EID_STRLEN];
	saddr_format(&c->server, server, sizeof(server));
	eid_prefix_format(&c->eid, eid, sizeof(eid));
	struct sockaddr_storage local;
	int fd = open_socket(&c->server, &local);
	if (fd < 0) {
		fprintf(stderr, "lig: cannot reach %s: %s\n", server, strerror(errno));
		return 1;
	}
	uint64_t nonce;
	if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
		nonce = mtime_now_ns();
	uint8_t req[1024], buf[LISPMS_DGRAM_MAX];
	size_t len;
	if (build_request(c, &local, nonce, req, sizeof(req), &len) != LISPMS_EOK) {
		fprintf(stderr, "lig: cannot encode a Map-Request for %s\n", eid);
		close(fd);
		return 1;
	}
	unsigned tries = c->tries ? c->tries : 3, timeout = c->timeout_ms ? c->timeout_ms : 3000;
	printf("Map-Request for %s to %s, nonce 0x%016llx\n", eid, server,
	       (unsigned long long)nonce);
	for (unsigned t = 0; t < tries; t++) {
		uint64_t sent = mtime_now_ns();
		uint64_t until = sent + (uint64_t)(timeout / tries) * LISPMS_NS_PER_MSEC;
		if (sendto(fd, req, len, 0, (const struct sockaddr *)&c->server,
			   saddr_len(&c->server)) < 0) {
			fprintf(stderr, "lig: send to %s: %s\n", server, strerror(errno));
			break;
		}
		for (uint64_t now = sent; now < until; now = mtime_now_ns()) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, (int)((until - now) / LISPMS_NS_PER_MSEC) + 1) <= 0)
				continue;
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n =
			    recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n <= 0)
				continue;
			uint8_t mem[32768];
			struct arena ar = { .base = mem, .size = sizeof(mem) };
			struct lisp_map_reply r;
			if (map_reply_decode(buf, (size_t)n, &ar, &r) != LISPMS_EOK ||
			    r.nonce != nonce)
				continue; /* not ours: anyone may send to the port */
			char src[80];
			saddr_format(&from, src, sizeof(src));
			printf("Map-Reply from %s in %.2f ms, %u record%s\n", src,
			       (double)(mtime_now_ns() - sent) / 1e6, r.nrecords,
			       r.nrecords == 1 ? "" : "s");
			lig_print(stdout, &r);
			close(fd);
			return 0;
		}
	}
	close(fd);
	fprintf(stderr,
		"lig: no Map-Reply for %s from %s within %u ms (%u tries); is lispmsd running, "
		"and is the site proxy-reply (otherwise the request went to its ETR)?\n",
		eid, server, timeout, tries);
	return 1;
}
