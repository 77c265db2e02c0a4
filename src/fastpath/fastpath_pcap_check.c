/* SPDX-License-Identifier: MIT */
/*
 * The DPDK fast path against the kernel path's request core, through
 * net_pcap (--no-huge --no-pci --no-shconf): a generated pcap of
 * Map-Registers (HMAC-SHA-1-96 and HMAC-SHA-256-128, IPv4 and IPv6 outer
 * headers, three instance IDs, some with a bad HMAC, some malformed), ECM
 * Map-Requests (forwarded, proxied, negative), one malformed frame of
 * every kind, an ARP request and a neighbour solicitation go through the
 * fast path into request core A; the same datagrams go through
 * ms_handle_batch() into request core B, as a kernel worker hands them.
 * Then: both databases hold exactly the same registrations, the tx pcap
 * holds exactly B's replies (same destinations, same bytes) and an ARP
 * reply, every drop reason counted its one frame, and tshark decodes the
 * Map-Notifies with valid IP and UDP checksums. Prints TAP.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <lispms/conf.h>
#include <lispms/counters.h>
#include <lispms/db.h>
#include <lispms/err.h>
#include <lispms/fastpath.h>
#include <lispms/inet.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/proto.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "frame.h"
#include "it.h"
#include "pcap.h"
#include "tap.h"

#define MAX_FRAMES 128
#define NREG	   48
#define NBADHMAC   4
#define NMALFORMED 3

static const uint8_t ms_mac[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t etr_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t itr_mac[6] = { 2, 0, 0, 0, 0, 3 };
static const uint8_t nh_mac[6] = { 2, 0, 0, 0, 0, 0x99 };

struct item {
	uint8_t frame[512];
	size_t len;
	bool udp; /* a datagram the request core gets (good, bad HMAC or malformed) */
	struct dgram d;
};

static struct item items[MAX_FRAMES];
static unsigned nitems;
static struct auth_key k256, k1, kbeta;

static const char *config_fmt =
    "server:\n"
    "  listen: [127.0.0.1]\n"
    "  port: 4342\n"
    "  workers: 1\n"
    "control:\n"
    "  socket: %s/ctl.sock\n"
    "log:\n"
    "  level: warning\n"
    "fastpath:\n"
    "  eal-args: [--no-huge, --no-pci, -m, \"512\", --no-shconf, -l, \"0\", --no-telemetry,\n"
    "             \"--log-level=lib.eal:error\"]\n"
    "  port: \"net_pcap0,rx_pcap=%s/rx.pcap,tx_pcap=%s/tx.pcap\"\n"
    "  addresses: [192.0.2.1, \"2001:db8::1\"]\n"
    "  next-hop-mac: \"02:00:00:00:00:99\"\n"
    "sites:\n"
    "  - name: alpha\n"
    "    keys:\n"
    "      - {id: 1, algorithm: hmac-sha-256-128, secret: \"alpha-256\"}\n"
    "      - {id: 2, algorithm: hmac-sha-1-96, secret: \"alpha-sha1\"}\n"
    "    eid-prefixes: [\"[1000] 10.1.0.0/16\", \"[2000] 10.1.0.0/16\",\n"
    "                   \"[1000] 2001:db8:1::/48\"]\n"
    "    accept-more-specifics: true\n"
    "  - name: beta\n"
    "    keys:\n"
    "      - {id: 7, algorithm: hmac-sha-256-128, secret: \"beta-key\"}\n"
    "    eid-prefixes: [\"[3000] 10.3.0.0/16\"]\n"
    "    accept-more-specifics: true\n";

static struct conf *load_conf(void)
{
	char text[4096];
	snprintf(text, sizeof(text), config_fmt, it_dir, it_dir, it_dir);
	struct conf_options opts = { .fastpath_available = true };
	struct conf *c = NULL;
	struct conf_error err;
	if (conf_load_buf("fastpath.yaml", text, strlen(text), &opts, &c, &err) != LISPMS_EOK) {
		printf("# %s\n", err.all);
		return NULL;
	}
	return c;
}

static struct sockaddr_storage sa(const char *ip, uint16_t port)
{
	struct sockaddr_storage s;
	saddr_parse(ip, &s);
	saddr_set_port(&s, port);
	return s;
}

/* A UDP frame from src (at mac) to dst carrying msg; the item keeps the datagram. */
static struct item *add_frame(const uint8_t *mac, const struct sockaddr_storage *src,
			      const struct sockaddr_storage *dst, const uint8_t *msg, size_t len)
{
	struct item *it = &items[nitems++];
	it->len =
	    frame_build_udp(it->frame, sizeof(it->frame), ms_mac, mac, -1, src, dst, msg, len);
	it->udp = true;
	it->d.data = it->frame + it->len - len;
	it->d.len = len;
	it->d.src = *src;
	it->d.local = *dst;
	return it;
}

static struct item *add_udp(const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
			    const uint8_t *msg, size_t len)
{
	return add_frame(etr_mac, src, dst, msg, len);
}

/*
 * ECM Map-Requests from an ITR (its own MAC): forwarded to an ETR (no P bit:
 * to next-hop-mac, that ETR is not in the burst), answered by proxy, and
 * negative (configured and unknown).
 */
static void make_requests(void)
{
	static const char *const eids[] = { "[2000] 10.1.1.1", "[1000] 2001:db8:1:2::5",
					    "[1000] 10.1.0.9", "[1000] 10.1.200.1",
					    "[3000] 10.9.9.9" };
	for (unsigned i = 0; i < sizeof(eids) / sizeof(eids[0]); i++) {
		uint8_t msg[512];
		size_t n = it_build_request(eids[i], "198.51.100.250", 0x2000 + i, true, 40250, msg,
					    sizeof(msg));
		struct sockaddr_storage s = sa("198.51.100.250", 40250), d = sa("192.0.2.1", 4342);
		if (n > 0)
			add_frame(itr_mac, &s, &d, msg, n);
	}
}

static void fix_ip(uint8_t *f)
{
	uint8_t *ip = f + FRAME_ETH_LEN;
	ip[10] = ip[11] = 0;
	uint16_t sum = (uint16_t)~inet_csum(ip, 20, 0);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
}

/* The registrations: both algorithms, both outer families, three IIDs. */
static void make_registrations(void)
{
	for (unsigned i = 0; i < NREG + NBADHMAC + NMALFORMED; i++) {
		char eid[64], rloc[64], src[64];
		bool v6 = i % 3 == 0;
		const struct auth_key *key = i % 2 ? &k1 : &k256;
		switch (i % 4) {
		case 0:
			snprintf(eid, sizeof(eid), "[1000] 10.1.%u.0/24", i);
			break;
		case 1:
			snprintf(eid, sizeof(eid), "[2000] 10.1.%u.%u/32", i, i);
			break;
		case 2:
			snprintf(eid, sizeof(eid), "[1000] 2001:db8:1:%x::/64", i);
			break;
		default:
			snprintf(eid, sizeof(eid), "[3000] 10.3.%u.0/24", i);
			key = &kbeta;
		}
		snprintf(rloc, sizeof(rloc), v6 ? "2001:db8:ff::%x" : "198.51.100.%u", i + 1);
		snprintf(src, sizeof(src), v6 ? "2001:db8:ff::%x" : "198.51.100.%u", i + 1);
		struct auth_key wrong;
		if (i >= NREG && i < NREG + NBADHMAC) { /* right Key ID, wrong secret */
			auth_key_init(&wrong, key->key_id, key->alg_id, "not-the-key", 11);
			key = &wrong;
		}
		uint8_t xtr[16] = { 0xa0, (uint8_t)i };
		struct it_reg r = {
			.flags = (i % 5 == 4 ? 0 : LISP_MREG_M) | (i % 7 == 0 ? LISP_MREG_P : 0),
			.nonce = 0x1000 + i,
			.key = key,
			.eids = { eid },
			.rloc = rloc,
			.ttl = 10,
			.xtr_id = i % 2 ? xtr : NULL,
		};
		uint8_t msg[512];
		size_t n = it_build_register(&r, msg, sizeof(msg));
		if (n == 0) {
			printf("# cannot build register %u (%s)\n", i, eid);
			continue;
		}
		if (i >= NREG + NBADHMAC)
			n -= 9; /* cut inside the record: malformed */
		struct sockaddr_storage s = sa(src, (uint16_t)(40000 + i));
		struct sockaddr_storage d = sa(v6 ? "2001:db8::1" : "192.0.2.1", 4342);
		add_udp(&s, &d, msg, n);
	}
}

/* One frame of every kind the fast path drops, and an ARP request. */
static void make_drops(void)
{
	static const uint8_t body[] = "\x30\x00\x00\x01 not a register";
	struct sockaddr_storage s = sa("198.51.100.200", 4342), d = sa("192.0.2.1", 4342);
	struct item *it = add_udp(&s, &d, body, sizeof(body));
	it->udp = false;
	it->len = 10; /* short */
	it = add_udp(&s, &d, body, sizeof(body));
	it->udp = false;
	it->frame[FRAME_ETH_LEN + 8]--; /* TTL changed, checksum not: ip_header */
	it = add_udp(&s, &d, body, sizeof(body));
	it->udp = false;
	it->frame[FRAME_ETH_LEN + 3]++; /* IP length past the frame: ip_length */
	fix_ip(it->frame);
	it = add_udp(&s, &d, body, sizeof(body));
	it->udp = false;
	it->frame[FRAME_ETH_LEN + 6] |= 0x20; /* MF: fragment */
	fix_ip(it->frame);
	it = add_udp(&s, &d, body, sizeof(body));
	it->udp = false;
	it->frame[FRAME_ETH_LEN + 20 + 5]++; /* UDP length past the IP payload */
	it = add_udp(&s, &d, body, sizeof(body));
	it->udp = false;
	it->frame[it->len - 3] ^= 0x40; /* udp_checksum */
	struct sockaddr_storage other = sa("192.0.2.99", 4342);
	it = add_udp(&s, &other, body, sizeof(body));
	it->udp = false; /* not_for_us */
	it = add_udp(&s, &d, body, sizeof(body));
	it->udp = false;
	it->frame[FRAME_ETH_LEN + 9] = 6; /* TCP: exception */
	fix_ip(it->frame);
	it = &items[nitems++]; /* ARP who-has 192.0.2.1 */
	uint8_t *f = it->frame;
	memset(f, 0xff, 6);
	memcpy(f + 6, etr_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	const uint8_t arp[28] = { 0,   1,  8,	0,   6, 4, 0, 1, 2, 0, 0,   0, 0, 2,
				  198, 51, 100, 200, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1 };
	memcpy(f + 14, arp, sizeof(arp));
	memset(f + 42, 0, 18);
	it->len = 60;
	it = &items[nitems++]; /* neighbour solicitation for 2001:db8::1 */
	f = it->frame;
	memset(f, 0, 14 + 72);
	const uint8_t mcast[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };
	memcpy(f, mcast, 6);
	memcpy(f + 6, etr_mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	uint8_t *ip = f + 14, *icmp = ip + 40;
	ip[0] = 0x60;
	ip[5] = 32;
	ip[6] = 58;
	ip[7] = 255;
	inet_pton(AF_INET6, "2001:db8:ff::1", ip + 8);
	inet_pton(AF_INET6, "ff02::1:ff00:1", ip + 24);
	icmp[0] = 135;
	inet_pton(AF_INET6, "2001:db8::1", icmp + 8);
	icmp[24] = 1;
	icmp[25] = 1;
	memcpy(icmp + 26, etr_mac, 6);
	uint16_t sum = (uint16_t)~inet_csum(icmp, 32, inet_csum(ip + 8, 32, 0) + 32 + 58);
	icmp[2] = (uint8_t)(sum >> 8);
	icmp[3] = (uint8_t)sum;
	it->len = 14 + 72;
}

/* ---- database comparison ---- */

struct lines {
	char **v;
	size_t n, cap;
};

static void lines_add(struct lines *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = strdup(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lines_sort(struct lines *l)
{
	qsort(l->v, l->n, sizeof(*l->v), cmp_str);
}

static bool lines_equal(const struct lines *a, const struct lines *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0) {
			printf("# differ: %s | %s\n", a->v[i], b->v[i]);
			return false;
		}
	return true;
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int walk_line(const struct eid_prefix *p, const struct db_mapping *m,
		     const struct db_entry *e, void *arg)
{
	(void)e;
	char line[1024], eid[96], owner[96], loc[96];
	eid_prefix_format(p, eid, sizeof(eid));
	lisp_addr_format(&m->owner.rloc, owner, sizeof(owner));
	int w = snprintf(line, sizeof(line), "%s site=%s owner=%s:%u xtr=%d:%02x ttl=%u flags=%x",
			 eid, ms_site_name(m->site), owner, m->owner.port, m->owner.has_xtr_id,
			 m->owner.xtr_id[1], m->ttl, m->flags);
	for (uint32_t i = 0; m->locs != NULL && i < m->locs->count && w > 0; i++) {
		lisp_addr_format(&m->locs->loc[i].addr, loc, sizeof(loc));
		w += snprintf(line + w, sizeof(line) - (size_t)w, " loc=%s/%u/%u/%x", loc,
			      m->locs->loc[i].priority, m->locs->loc[i].weight,
			      m->locs->loc[i].flags);
	}
	lines_add(arg, line);
	return 0;
}

static void db_lines(struct ms *ms, struct lines *out)
{
	lrcu_read_lock();
	db_walk(ms_db(ms), DB_SCOPE_ALL, NULL, walk_line, out);
	lrcu_read_unlock();
	lines_sort(out);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* Destination and payload of every UDP frame in a pcap; ARP replies counted apart. */
static unsigned to_next_hop;

static bool read_tx(const char *path, struct lines *out, unsigned *arp_replies,
		    unsigned *nd_adverts)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return false;
	uint8_t hdr[24], rec[16], frame[4096];
	bool ok = fread(hdr, 1, 24, f) == 24;
	while (ok && fread(rec, 1, 16, f) == 16) {
		uint32_t caplen;
		memcpy(&caplen, rec + 8, 4);
		if (caplen > sizeof(frame) || fread(frame, 1, caplen, f) != caplen) {
			ok = false;
			break;
		}
		if (caplen >= 42 && frame[12] == 0x08 && frame[13] == 0x06) {
			*arp_replies += frame[21] == 2 && memcmp(frame + 6, frame + 22, 6) == 0;
			continue;
		}
		bool v6 = frame[12] == 0x86;
		size_t u = 14 + (v6 ? 40 : 20);
		if (caplen < u || frame[v6 ? 14 + 6 : 14 + 9] != 17) {
			*nd_adverts += v6 && caplen >= u + 1 && frame[u] == 136;
			continue;
		}
		to_next_hop += memcmp(frame, nh_mac, 6) == 0;
		if (caplen < u + 8)
			continue;
		struct sockaddr_storage dst;
		memset(&dst, 0, sizeof(dst));
		if (v6) {
			struct sockaddr_in6 *d = (struct sockaddr_in6 *)&dst;
			d->sin6_family = AF_INET6;
			memcpy(&d->sin6_addr, frame + 14 + 24, 16);
		} else {
			struct sockaddr_in *d = (struct sockaddr_in *)&dst;
			d->sin_family = AF_INET;
			memcpy(&d->sin_addr, frame + 14 + 16, 4);
		}
		saddr_set_port(&dst, (uint16_t)(frame[u + 2] << 8 | frame[u + 3]));
		char line[9000], a[64];
		saddr_format(&dst, a, sizeof(a));
		int w = snprintf(line, sizeof(line), "%s ", a);
		hex(frame + u + 8, caplen - u - 8, line + w);
		lines_add(out, line);
	}
	fclose(f);
	lines_sort(out);
	return ok;
}

static void kernel_path(struct ms *ms, struct lines *replies)
{
	struct ms_thread *t = ms_thread_new(ms, 0);
	struct dgram batch[16];
	struct dgram_out outs[128];
	unsigned nb = 0;
	for (unsigned i = 0; i <= nitems; i++) {
		if (i < nitems && items[i].udp)
			batch[nb++] = items[i].d;
		if (nb == 0 || (nb < 16 && i < nitems))
			continue;
		struct arena *ar = thread_arena();
		arena_reset(ar);
		struct dgram_outbox out = { .msgs = outs, .cap = 128, .arena = ar };
		lrcu_read_lock();
		ms_handle_batch(t, batch, nb, &out);
		lrcu_read_unlock();
		for (unsigned k = 0; k < out.n; k++) {
			char line[9000], a[64];
			saddr_format(&out.msgs[k].dst, a, sizeof(a));
			int w = snprintf(line, sizeof(line), "%s ", a);
			hex(out.msgs[k].data, out.msgs[k].len, line + w);
			lines_add(replies, line);
		}
		nb = 0;
	}
	lines_sort(replies);
	ms_thread_free(t);
}

static long tshark(const char *filter)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "tshark -n -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -r %s/tx.pcap "
		 "-Y '%s' 2>/dev/null | wc -l",
		 it_dir, filter);
	return it_shell_count(cmd);
}

int main(void)
{
	printf("TAP version 13\n");
	if (thread_register("control") != LISPMS_EOK || it_tempdir() != LISPMS_EOK) {
		tap_ok(false, "set up");
		return tap_done();
	}
	it_auth = auth_ctx_new();
	auth_key_init(&k256, 1, LISP_ALG_HMAC_SHA256, "alpha-256", 9);
	auth_key_init(&k1, 2, LISP_ALG_HMAC_SHA1, "alpha-sha1", 10);
	auth_key_init(&kbeta, 7, LISP_ALG_HMAC_SHA256, "beta-key", 8);
	make_registrations();
	make_drops();
	make_requests();
	char path[256];
	snprintf(path, sizeof(path), "%s/rx.pcap", it_dir);
	struct pcap cap;
	bool ok = pcap_open(&cap, path) == 0;
	for (unsigned i = 0; ok && i < nitems; i++)
		ok = pcap_frame(&cap, items[i].frame, items[i].len) == 0;
	ok = pcap_close(&cap) == 0 && ok;
	unsigned nudp = 0;
	for (unsigned i = 0; i < nitems; i++)
		nudp += items[i].udp;
	tap_ok(ok && nudp == NREG + NBADHMAC + NMALFORMED + 5, "wrote %u frames (%u datagrams)",
	       nitems, nudp);

	struct conf *ca = load_conf(), *cb = load_conf();
	if (!tap_ok(ca != NULL && cb != NULL, "configuration loads"))
		goto out;
	char err[256] = "";
	struct fastpath *fp = fastpath_new(conf_fastpath(ca), 4342, err, sizeof(err));
	if (!tap_ok(fp != NULL, "fast path on net_pcap starts (%s)", err)) {
		conf_free(ca);
		conf_free(cb);
		goto out;
	}
	struct ms *a = ms_new(ca);
	/* the fast path is handed the request core as a kernel worker is */
	void *args[1] = { ms_thread_new(a, 0) };
	tap_ok(args[0] != NULL && fastpath_queues(fp) == 1 &&
		   fastpath_start(fp, ms_handle_batch, args) == LISPMS_EOK,
	       "one lcore runs the request core");
	uint64_t deadline = mtime_now_ns() + 20 * LISPMS_NS_PER_SEC;
	while (counters_sum(LISPMS_M_FP_RX_FRAMES) < nitems && mtime_now_ns() < deadline)
		usleep(10000);
	fastpath_free(fp); /* the tx pcap is complete now */
	ms_thread_free(args[0]);
	tap_ok(counters_sum(LISPMS_M_FP_RX_FRAMES) == nitems,
	       "the lcore received %llu of %u frames",
	       (unsigned long long)counters_sum(LISPMS_M_FP_RX_FRAMES), nitems);
	tap_ok(counters_sum(LISPMS_M_FP_RX_UDP) == nudp, "%llu datagrams went to the request core",
	       (unsigned long long)counters_sum(LISPMS_M_FP_RX_UDP));
	static const struct {
		enum metric_id id;
		const char *name;
	} drops[] = {
		{ LISPMS_M_FP_DROP_SHORT, "short" },
		{ LISPMS_M_FP_DROP_IP_HEADER, "ip_header" },
		{ LISPMS_M_FP_DROP_IP_LENGTH, "ip_length" },
		{ LISPMS_M_FP_DROP_FRAGMENT, "fragment" },
		{ LISPMS_M_FP_DROP_UDP_LENGTH, "udp_length" },
		{ LISPMS_M_FP_DROP_UDP_CHECKSUM, "udp_checksum" },
		{ LISPMS_M_FP_DROP_NOT_FOR_US, "not_for_us" },
		{ LISPMS_M_FP_DROP_EXCEPTION, "exception" },
		{ LISPMS_M_FP_ARP_REPLIES, "arp replies" },
		{ LISPMS_M_FP_ND_ADVERTS, "neighbour advertisements" },
	};
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		tap_ok(counters_sum(drops[i].id) == 1, "%s: %llu frame (want 1)", drops[i].name,
		       (unsigned long long)counters_sum(drops[i].id));
	tap_ok(counters_sum(LISPMS_M_MS_REJ_BAD_HMAC) == NBADHMAC,
	       "bad HMAC rejected by the shared request core: %llu",
	       (unsigned long long)counters_sum(LISPMS_M_MS_REJ_BAD_HMAC));
	tap_ok(counters_sum(LISPMS_M_FP_PORT_RX_PACKETS) == nitems,
	       "port statistics: %llu packets received",
	       (unsigned long long)counters_sum(LISPMS_M_FP_PORT_RX_PACKETS));

	struct ms *b = ms_new(cb);
	struct lines replies_b = { 0 }, replies_a = { 0 }, db_a = { 0 }, db_b = { 0 };
	kernel_path(b, &replies_b);
	db_lines(a, &db_a);
	db_lines(b, &db_b);
	ok = lines_equal(&db_a, &db_b);
	tap_ok(db_a.n > 30 && ok,
	       "the database is the same through DPDK as through ms_handle_batch (%zu vs %zu "
	       "registrations)",
	       db_a.n, db_b.n);
	unsigned arp = 0, nd = 0;
	snprintf(path, sizeof(path), "%s/tx.pcap", it_dir);
	ok = read_tx(path, &replies_a, &arp, &nd);
	tap_ok(ok && replies_a.n > 20 && lines_equal(&replies_a, &replies_b),
	       "the tx pcap holds the kernel path's replies, byte for byte (%zu vs %zu)",
	       replies_a.n, replies_b.n);
	tap_ok(arp == 1, "the tx pcap holds one ARP reply from our MAC (%u)", arp);
	tap_ok(nd == 1, "the tx pcap holds one neighbour advertisement (%u)", nd);
	tap_ok(to_next_hop == 2, "the two forwarded Map-Requests went to next-hop-mac (%u)",
	       to_next_hop);
	if (!it_have_tshark()) {
		tap_ok(getenv("LISPMS_ALLOW_NO_TSHARK") != NULL, "tshark is needed (tools/test)");
	} else {
		long notifies = tshark("lisp.type == 4");
		/* the kernel path's outbox less 3 Map-Replies and 2 forwarded requests */
		tap_ok(notifies == (long)replies_b.n - 5, "tshark: %ld Map-Notifies (want %zu)",
		       notifies, replies_b.n - 5);
		long v6 = tshark("lisp.type == 4 && ipv6");
		tap_ok(v6 > 0 && v6 < notifies, "tshark: %ld of them over IPv6", v6);
		long iid = tshark("lisp.type == 4 && lisp.lcaf.iid == 2000");
		tap_ok(iid > 0, "tshark: %ld Map-Notifies for instance 2000", iid);
		long bad = tshark("ip.checksum.status == 0 || udp.checksum.status == 0 || "
				  "_ws.malformed || _ws.expert.severity >= 6291456");
		tap_ok(bad == 0,
		       "tshark: every IP and UDP checksum is right, nothing malformed (%ld)", bad);
		long replies = tshark("lisp.type == 2 && ip.dst == 198.51.100.250 && "
				      "udp.dstport == 40250");
		tap_ok(replies == 3, "tshark: 3 Map-Replies to the ITR (proxy and negative): %ld",
		       replies);
		long fwd = tshark("eth.dst == 02:00:00:00:00:99 && lisp.type == 8");
		tap_ok(fwd == 2, "tshark: 2 forwarded ECM Map-Requests to the next hop: %ld", fwd);
		long nas =
		    tshark("icmpv6.type == 136 && icmpv6.nd.na.target_address == 2001:db8::1 "
			   "&& icmpv6.opt.linkaddr == eth.src && ipv6.dst == "
			   "2001:db8:ff::1 && eth.dst == 02:00:00:00:00:02 && "
			   "icmpv6.checksum.status == 1");
		tap_ok(nas == 1, "tshark: one neighbour advertisement for 2001:db8::1 (%ld)", nas);
		long arps = tshark("arp.opcode == 2 && arp.src.proto_ipv4 == 192.0.2.1");
		tap_ok(arps == 1, "tshark: one ARP reply for 192.0.2.1 (%ld)", arps);
	}
	lines_free(&replies_a);
	lines_free(&replies_b);
	lines_free(&db_a);
	lines_free(&db_b);
	ms_free(a);
	ms_free(b);
out:
	lrcu_barrier();
	if (tap_failed == 0)
		it_tempdir_remove();
	else
		printf("# files kept in %s\n", it_dir);
	printf("1..%d\n", tap_count);
	return tap_done();
}
