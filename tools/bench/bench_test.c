/* SPDX-License-Identifier: MIT */
/* lispms-bench's parsers, EID layout, percentiles and lig. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <pthread.h>

#include <criterion/criterion.h>

#include <lispms/arena.h>
#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/proto.h>

#include "args.h"
#include "config.h"
#include "layout.h"
#include "lig.h"
#include "stats.h"
#include "transport.h"

static void eid_text(const struct eid_prefix *p, char *buf, size_t len)
{
	cr_assert_eq(eid_prefix_format(p, buf, len), LISPMS_EOK);
}

Test(bench_args, lig_target_forms)
{
	struct eid_prefix p;
	char out[LISPMS_EID_STRLEN];
	cr_assert_eq(args_lig_target("[1000] 10.0.0.5", &p), LISPMS_EOK);
	eid_text(&p, out, sizeof(out));
	cr_assert_str_eq(out, "[1000] 10.0.0.5/32");
	cr_assert_eq(p.iid, 1000);
	cr_assert_eq(p.plain, 0);
	cr_assert_eq(args_lig_target("  [5] 02:00:00:00:00:07", &p), LISPMS_EOK);
	cr_assert_eq(p.afi, LISP_AFI_MAC);
	cr_assert_eq(p.plen, 48);
	cr_assert_eq(args_lig_target("[7] 2001:db8::/32", &p), LISPMS_EOK);
	cr_assert_eq(p.plen, 32);
	cr_assert_eq(args_lig_target("192.0.2.1", &p), LISPMS_EOK);
	cr_assert_eq(p.iid, 0);
	cr_assert_eq(p.plain, 1, "no [IID]: instance 0, sent without an IID LCAF");
}

Test(bench_args, lig_target_rejects)
{
	struct eid_prefix p = { .iid = 77 };
	const char *bad[] = { "",
			      "   ",
			      "[1000]",
			      "[x] 10.0.0.1",
			      "[1000 10.0.0.1",
			      "10.0.0.300",
			      "[1000] 10.0.0.1/33",
			      "hello",
			      NULL };
	for (const char **b = bad; *b; b++)
		cr_assert_eq(args_lig_target(*b, &p), LISPMS_EINVAL, "'%s' accepted", *b);
	cr_assert_eq(args_lig_target(NULL, &p), LISPMS_EINVAL);
	cr_assert_eq(p.iid, 77, "out-parameter untouched on failure");
}

Test(bench_args, counts)
{
	uint64_t v = 0;
	cr_assert_eq(args_count("1000", 1u << 30, &v), LISPMS_EOK);
	cr_assert_eq(v, 1000);
	cr_assert_eq(args_count("10k", 1u << 30, &v), LISPMS_EOK);
	cr_assert_eq(v, 10000);
	cr_assert_eq(args_count("1M", 1u << 30, &v), LISPMS_EOK);
	cr_assert_eq(v, 1000000);
	cr_assert_eq(args_count("0", 5, &v), LISPMS_EOK);
	cr_assert_eq(v, 0);
	v = 42;
	const char *bad[] = {
		"",  "-1", "1x", "k", "1kk", " 1", "1.5M", "99999999999999999999", "20000000000G",
		NULL
	};
	for (const char **b = bad; *b; b++)
		cr_assert_eq(args_count(*b, UINT64_MAX, &v), LISPMS_EINVAL, "'%s' accepted", *b);
	cr_assert_eq(args_count("60001", 60000, &v), LISPMS_EINVAL, "above the maximum");
	cr_assert_eq(v, 42);
}

Test(bench_args, families_and_algorithms)
{
	uint16_t afi = 0;
	uint8_t alg = 0;
	cr_assert_eq(args_family("ipv6", &afi), LISPMS_EOK);
	cr_assert_eq(afi, LISP_AFI_IPV6);
	cr_assert_eq(args_family("mac", &afi), LISPMS_EOK);
	cr_assert_eq(afi, LISP_AFI_MAC);
	cr_assert_eq(args_family("IPv4", &afi), LISPMS_EINVAL);
	cr_assert_eq(args_alg("sha1", &alg), LISPMS_EOK);
	cr_assert_eq(alg, LISP_ALG_HMAC_SHA1);
	cr_assert_eq(args_alg("hmac-sha-256-128", &alg), LISPMS_EOK);
	cr_assert_eq(alg, LISP_ALG_HMAC_SHA256);
	cr_assert_eq(args_alg("0", &alg), LISPMS_EINVAL, "algorithm 0 is never used (D9)");
	cr_assert_eq(args_alg("md5", &alg), LISPMS_EINVAL);
}

Test(bench_args, mix)
{
	struct args_mix m = { 0 };
	cr_assert_eq(args_mix("80:15:5", &m), LISPMS_EOK);
	cr_assert(m.registered == 80 && m.unregistered == 15 && m.unknown == 5);
	cr_assert_eq(args_mix("0:0:1", &m), LISPMS_EOK);
	cr_assert(m.registered == 0 && m.unknown == 1);
	const char *bad[] = { "",     "0:0:0",	"1:2",	  "1:2:3:4",	 "a:b:c",
			      "1::2", "1:2:3 ", "-1:2:3", "2000000:0:0", NULL };
	for (const char **b = bad; *b; b++)
		cr_assert_eq(args_mix(*b, &m), LISPMS_EINVAL, "'%s' accepted", *b);
	cr_assert(m.registered == 0 && m.unknown == 1, "untouched on failure");
}

Test(bench_args, subscribe_targets_and_transports)
{
	struct eid_prefix p, want;
	bool each = true, session = false;
	cr_assert_eq(args_subscribe("[1000] 0.0.0.0/0", &p, &each), LISPMS_EOK);
	cr_assert_eq(eid_prefix_parse("[1000] 0.0.0.0/0", &want), LISPMS_EOK);
	cr_assert(!each && eid_prefix_equal(&p, &want));
	cr_assert_eq(args_subscribe("each", &p, &each), LISPMS_EOK);
	cr_assert(each);
	static const char *const bad[] = { "", "Each", "each ", "[1000]", "10.0.0.0/33", NULL };
	for (const char *const *b = bad; *b; b++)
		cr_assert_eq(args_subscribe(*b, &p, &each), LISPMS_EINVAL, "'%s' accepted", *b);
	cr_assert_eq(args_sub_transport("session", &session), LISPMS_EOK);
	cr_assert(session);
	cr_assert_eq(args_sub_transport("udp", &session), LISPMS_EOK);
	cr_assert(!session);
	cr_assert_eq(args_sub_transport("tcp", &session), LISPMS_EINVAL);
	cr_assert_eq(args_sub_transport(NULL, &session), LISPMS_EINVAL);
}

Test(bench_args, transport_ports)
{
	uint16_t port = 7, ports[BT_COUNT] = { 0 };
	cr_assert_eq(args_transport_ports("4343", &port, ports), LISPMS_EOK);
	cr_assert_eq(port, 4343);
	cr_assert_eq(args_transport_ports("quic=14343,sctp=19899", &port, ports), LISPMS_EOK);
	cr_assert(ports[BT_QUIC] == 14343 && ports[BT_SCTP] == 19899 && ports[BT_TCP] == 0 &&
		  ports[BT_TLS] == 0);
	cr_assert_eq(port, 4343, "the plain port is left alone");
	cr_assert_eq(args_transport_ports("tcp=1,tls=65535", &port, ports), LISPMS_EOK);
	cr_assert(ports[BT_TCP] == 1 && ports[BT_TLS] == 65535 && ports[BT_QUIC] == 0,
		  "a list replaces the previous one");
	static const char *const bad[] = { "",	      "0",	 "65536",	 "4343x",
					   "quic",    "quic=",	 "=4343",	 "udp=1",
					   "quic=0",  "quic=1,", ",quic=1",	 "quic=1,quic=2",
					   "QUIC=1",  "quic=1 ", "quic=1;tcp=2", "quic==1",
					   "quic=+1", "-1",	 "quic=123456",	 NULL };
	for (const char *const *b = bad; *b; b++)
		cr_assert_eq(args_transport_ports(*b, &port, ports), LISPMS_EINVAL, "'%s' accepted",
			     *b);
	cr_assert(port == 4343 && ports[BT_TCP] == 1 && ports[BT_TLS] == 65535,
		  "untouched on failure");
	cr_assert_eq(args_transport_ports(NULL, &port, ports), LISPMS_EINVAL);
}

Test(bench_transport, auto_is_the_seeds_order_and_ports_resolve)
{
	struct bench_chain ch;
	cr_assert_eq(bench_transport_chain("auto", &ch), 0);
	cr_assert_str_eq(ch.name, "auto");
	cr_assert_geq(ch.n, 1);
	cr_assert_eq(ch.tr[0]->id, BT_TCP, "auto tries TCP first");
	unsigned want = 1 + LISPMS_HAVE_QUIC + LISPMS_HAVE_SCTP;
	cr_assert_eq(ch.n, want, "auto has every seed transport this build has");
	for (unsigned i = 1; i < ch.n; i++)
		cr_assert_gt(ch.tr[i]->id, ch.tr[i - 1]->id, "TCP, then QUIC, then SCTP");
	for (unsigned i = 0; i < ch.n; i++)
		cr_assert_neq(ch.tr[i]->id, BT_TLS, "TLS is not one of the seed's transports");
	cr_assert_eq(bench_transport_chain("tcp", &ch), 0);
	cr_assert(ch.n == 1 && strcmp(ch.name, "tcp") == 0);
	cr_assert_eq(bench_transport_chain("udp", &ch), -1);
	cr_assert_eq(bench_transport_chain("", &ch), -1);

	const struct bench_transport *tcp = bench_transport_find("tcp");
	struct bench_transport_opts o = { 0 };
	cr_assert_eq(bench_transport_port(&o, tcp), 0, "TCP: the --server port");
	o.port = 5000;
	cr_assert_eq(bench_transport_port(&o, tcp), 5000);
	o.ports[BT_TCP] = 6000;
	cr_assert_eq(bench_transport_port(&o, tcp), 6000, "NAME=P wins");
#if LISPMS_HAVE_QUIC
	const struct bench_transport *quic = bench_transport_find("quic");
	o = (struct bench_transport_opts){ 0 };
	cr_assert_eq(bench_transport_port(&o, quic), 4343, "server.quic.port's default");
#endif
#if LISPMS_HAVE_SCTP
	const struct bench_transport *sctp = bench_transport_find("sctp");
	o = (struct bench_transport_opts){ .ports = { [BT_QUIC] = 1 } };
	cr_assert_eq(bench_transport_port(&o, sctp), 9899, "udp-encapsulation-port's default");
#endif
}

Test(bench_args, one_server_and_several)
{
	struct sockaddr_storage a[4];
	unsigned n = 9;
	char text[80];
	cr_assert_eq(args_hostport("127.0.0.1:4342", &a[0]), LISPMS_EOK);
	cr_assert_eq(saddr_format(&a[0], text, sizeof(text)), LISPMS_EOK);
	cr_assert_str_eq(text, "127.0.0.1:4342");
	cr_assert_eq(args_hostport("[::1]:99", &a[0]), LISPMS_EOK);
	cr_assert(a[0].ss_family == AF_INET6 && saddr_port(&a[0]) == 99);

	cr_assert_eq(args_servers("127.0.0.1:4342", a, 4, &n), LISPMS_EOK);
	cr_assert_eq(n, 1, "one address is one server, as before");
	cr_assert_eq(args_servers("127.0.0.1:4342,127.0.0.2:4342,[::1]:5000", a, 4, &n),
		     LISPMS_EOK);
	cr_assert_eq(n, 3);
	cr_assert_eq(saddr_format(&a[1], text, sizeof(text)), LISPMS_EOK);
	cr_assert_str_eq(text, "127.0.0.2:4342");
	cr_assert_eq(saddr_port(&a[2]), 5000);

	static const char *const bad[] = { "",
					   ",",
					   "127.0.0.1:4342,",
					   ",127.0.0.1:4342",
					   "127.0.0.1:4342,,127.0.0.2:1",
					   "127.0.0.1",
					   "127.0.0.1:0",
					   "127.0.0.1:65536",
					   "127.0.0.1: 80",
					   "127.0.0.1:+80",
					   "host:4342",
					   "127.0.0.1:1,127.0.0.1:1", /* twice */
					   "127.0.0.1:1,127.0.0.2:1,127.0.0.3:1,127.0.0.4:1,"
					   "127.0.0.5:1", /* five, four allowed */
					   NULL };
	for (const char *const *b = bad; *b; b++) {
		n = 9;
		cr_assert_eq(args_servers(*b, a, 4, &n), LISPMS_EINVAL, "'%s' accepted", *b);
		cr_assert_eq(n, 9, "untouched on failure");
	}
	cr_assert_eq(args_servers(NULL, a, 4, &n), LISPMS_EINVAL);
	cr_assert_eq(args_hostport(NULL, a), LISPMS_EINVAL);
}

Test(bench_layout, registered_eids_round_trip_and_kinds_are_apart)
{
	const uint16_t afis[] = { LISP_AFI_IPV4, LISP_AFI_IPV6, LISP_AFI_MAC };
	for (unsigned f = 0; f < 3; f++) {
		struct layout l = { .afi = afis[f], .iid = 1000, .iids = 3, .per = 10 };
		uint64_t samples[] = { 0, 1, 9, 10, 255, 256, 65535, 65536, LAYOUT_MAX_EIDS - 1 };
		for (unsigned i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
			struct eid_prefix p, q, u;
			uint64_t n = ~0ull;
			layout_eid(&l, LAYOUT_REGISTERED, samples[i], &p);
			cr_assert_eq(p.iid, 1000 + (samples[i] / 10) % 3, "ETR n/per, iid by ETR");
			cr_assert_eq(p.plen, lisp_afi_bits(afis[f]));
			cr_assert_eq(layout_index(&l, &p, &n), LISPMS_EOK);
			cr_assert_eq(n, samples[i]);
			layout_eid(&l, LAYOUT_UNREGISTERED, samples[i], &q);
			layout_eid(&l, LAYOUT_UNKNOWN, samples[i], &u);
			cr_assert_neq(layout_index(&l, &q, &n), LISPMS_EOK, "unregistered apart");
			cr_assert_neq(layout_index(&l, &u, &n), LISPMS_EOK, "unknown apart");
			p.iid++;
			cr_assert_neq(layout_index(&l, &p, &n), LISPMS_EOK, "other instance");
		}
	}
}

Test(bench_layout, addresses_as_documented)
{
	struct layout l = { .afi = LISP_AFI_IPV4, .iid = 1000, .iids = 1, .per = 100 };
	struct eid_prefix p;
	char out[LISPMS_EID_STRLEN];
	layout_eid(&l, LAYOUT_REGISTERED, 258, &p);
	eid_text(&p, out, sizeof(out));
	cr_assert_str_eq(out, "[1000] 10.0.1.2/32");
	layout_eid(&l, LAYOUT_UNREGISTERED, 1, &p);
	eid_text(&p, out, sizeof(out));
	cr_assert_str_eq(out, "[1000] 10.128.0.1/32");
	layout_eid(&l, LAYOUT_UNKNOWN, 1, &p);
	eid_text(&p, out, sizeof(out));
	cr_assert_str_eq(out, "[1000] 100.64.0.1/32");
	l.afi = LISP_AFI_IPV6;
	layout_eid(&l, LAYOUT_REGISTERED, 0x10203, &p);
	eid_text(&p, out, sizeof(out));
	cr_assert_str_eq(out, "[1000] 2001:db8::1:203/128");
	l.afi = LISP_AFI_MAC;
	layout_eid(&l, LAYOUT_UNREGISTERED, 5, &p);
	eid_text(&p, out, sizeof(out));
	cr_assert_str_eq(out, "[1000] 02:00:00:80:00:05/48");
}

Test(bench_stats, quantiles_of_small_values_are_exact)
{
	struct stats_hist h = { 0 };
	cr_assert_eq(stats_quantile(&h, 0.5), 0, "empty");
	for (uint64_t v = 1; v <= 10; v++)
		stats_add(&h, v);
	cr_assert_eq(h.count, 10);
	cr_assert_eq(stats_quantile(&h, 0.5), 5);
	cr_assert_eq(stats_quantile(&h, 0.99), 10);
	cr_assert_eq(stats_quantile(&h, 0.0), 1);
	cr_assert_eq(stats_quantile(&h, 1.0), 10);
	cr_assert_eq(stats_quantile(&h, 0.1), 1);
	cr_assert_eq(stats_quantile(&h, 0.11), 2);
}

Test(bench_stats, quantiles_within_a_sixteenth)
{
	struct stats_hist *h = calloc(1, sizeof(*h));
	/* 1000 values: 990 of 1 ms, 9 of 50 ms, 1 of 900 ms */
	for (int i = 0; i < 990; i++)
		stats_add(h, 1000000);
	for (int i = 0; i < 9; i++)
		stats_add(h, 50000000);
	stats_add(h, 900000000);
	uint64_t p50 = stats_quantile(h, 0.5), p99 = stats_quantile(h, 0.99);
	uint64_t p995 = stats_quantile(h, 0.995), p999 = stats_quantile(h, 0.999);
	cr_assert(p50 > 1000000 * 15 / 16 && p50 < 1000000 * 17 / 16, "p50 %lu", p50);
	cr_assert(p99 > 1000000 * 15 / 16 && p99 < 1000000 * 17 / 16, "p99 %lu", p99);
	cr_assert(p995 > 50000000ull * 15 / 16 && p995 < 50000000ull * 17 / 16, "p995 %lu", p995);
	cr_assert(p999 > 50000000ull * 15 / 16 && p999 < 50000000ull * 17 / 16, "p999 %lu", p999);
	cr_assert_eq(stats_quantile(h, 1), 900000000, "max exact");
	struct stats_hist *g = calloc(1, sizeof(*g));
	stats_add(g, 900000000);
	stats_merge(g, h);
	cr_assert_eq(g->count, 1001);
	cr_assert(stats_quantile(g, 0.999) > 50000000ull * 15 / 16, "merged tail");
	cr_assert(stats_quantile(g, 0.9995) > 900000000ull * 15 / 16, "merged tail");
	free(g);
	free(h);
}

Test(bench_stats, buckets_are_monotonic)
{
	uint64_t prev = 0;
	for (uint64_t v = 1; v < (1ull << 40); v = v * 3 / 2 + 1) {
		unsigned b = stats_bucket(v);
		uint64_t mid = stats_bucket_value(b);
		cr_assert(mid >= prev, "bucket value decreased at %lu", v);
		cr_assert(mid >= v - v / 16 && mid <= v + v / 16, "%lu read as %lu", v, mid);
		prev = mid;
	}
}

Test(bench_lig, prints_the_reply_for_a_person)
{
	struct lisp_locator locs[2] = {
		{ .priority = 1, .weight = 50, .mpriority = 255, .flags = LISP_LOC_L | LISP_LOC_R },
		{ .priority = 2, .weight = 50, .mpriority = 255, .flags = 0 },
	};
	struct lisp_addr a1, a2;
	cr_assert_eq(lisp_addr_parse("127.1.0.7", &a1), LISPMS_EOK);
	cr_assert_eq(lisp_addr_parse("2001:db8::9", &a2), LISPMS_EOK);
	afi_from_addr(&a1, &locs[0].addr);
	afi_from_addr(&a2, &locs[1].addr);
	struct eid_prefix p;
	cr_assert_eq(eid_prefix_parse("[1000] 10.0.0.6/32", &p), LISPMS_EOK);
	struct lisp_record recs[2] = {
		{ .ttl = 3, .a = 1, .eid_plen = 32, .nlocs = 2, .locs = locs },
		{ .ttl = 15, .act = LISP_ACT_NATIVE_FORWARD, .eid_plen = 10 }
	};
	afi_from_eid(&p, &recs[0].eid);
	cr_assert_eq(eid_prefix_parse("[1000] 100.64.0.0/10", &p), LISPMS_EOK);
	afi_from_eid(&p, &recs[1].eid);
	struct lisp_map_reply r = { .nonce = 1, .nrecords = 2, .records = recs };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	lig_print(f, &r);
	fclose(f);
	const char *want[] = { "EID prefix     [1000] 10.0.0.6/32",
			       "TTL            3 minutes",
			       "action         no-action\n",
			       "authoritative  yes",
			       "127.1.0.7",
			       "priority 1 weight 50",
			       "flags local reachable",
			       "2001:db8::9",
			       "priority 2 weight 50",
			       "flags unreachable",
			       "EID prefix     [1000] 100.64.0.0/10",
			       "TTL            15 minutes",
			       "action         native-forward (negative: no locators)",
			       "authoritative  no",
			       NULL };
	for (const char **w = want; *w; w++)
		cr_assert(strstr(text, *w) != NULL, "missing '%s' in:\n%s", *w, text);
	free(text);
}

/* A Map-Resolver that has the Map-Server answer: the ECM arrives on `in`,
 * the Map-Reply leaves from `out`, another socket (another port). */
struct far_answer {
	int in, out;
};

static void *answer_from_elsewhere(void *arg)
{
	const struct far_answer *f = arg;
	uint8_t buf[2048], inner_mem[4096], rep[512];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(f->in, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	struct lisp_ecm e;
	struct arena ar = { .base = inner_mem, .size = sizeof(inner_mem) };
	struct lisp_map_request req;
	if (n <= 0 || ecm_decode(buf, (size_t)n, &e) != LISPMS_EOK ||
	    map_request_decode(e.inner, e.inner_len, &ar, &req) != LISPMS_EOK)
		return NULL;
	struct lisp_record rec = { .ttl = 15,
				   .act = LISP_ACT_NATIVE_FORWARD,
				   .eid_plen = req.records[0].eid_plen,
				   .eid = req.records[0].eid };
	struct lisp_map_reply r = { .nonce = req.nonce, .nrecords = 1, .records = &rec };
	/* as a Map-Server does: to the ECM's inner source address and port */
	struct sockaddr_storage itr;
	cr_assert_eq(e.src.afi, LISP_AFI_IPV4);
	struct sockaddr_in *in = (struct sockaddr_in *)&itr;
	*in = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(e.sport) };
	memcpy(&in->sin_addr, e.src.bytes, 4);
	size_t len;
	if (map_reply_encode(&r, rep, sizeof(rep), &len) == LISPMS_EOK)
		sendto(f->out, rep, len, 0, (struct sockaddr *)in, sizeof(*in));
	return NULL;
}

static int udp_on_loopback(struct sockaddr_storage *bound)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t l = sizeof(*bound);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)bound, &l), 0);
	return fd;
}

Test(bench_lig, takes_the_answer_from_whoever_sends_it)
{
	/* through a Map-Resolver the Map-Server or the ETR answers, not the
	 * resolver: found against the lispers.net and lispms Map-Resolvers */
	struct sockaddr_storage in_addr, out_addr;
	struct far_answer f = { .in = udp_on_loopback(&in_addr),
				.out = udp_on_loopback(&out_addr) };
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, answer_from_elsewhere, &f), 0);
	struct lig_conf c = { .server = in_addr, .timeout_ms = 2000, .tries = 1 };
	cr_assert_eq(eid_prefix_parse("[1000] 10.0.0.5/32", &c.eid), LISPMS_EOK);
	char *text = NULL;
	size_t len = 0;
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	FILE *cap = tmpfile();
	cr_assert_not_null(cap);
	dup2(fileno(cap), STDOUT_FILENO);
	int ret = lig_run(&c);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	pthread_join(th, NULL);
	close(f.in);
	close(f.out);
	rewind(cap);
	FILE *mem = open_memstream(&text, &len);
	int ch;
	while ((ch = fgetc(cap)) != EOF)
		fputc(ch, mem);
	fclose(mem);
	fclose(cap);
	char from[80], want[100];
	saddr_format(&out_addr, from, sizeof(from));
	snprintf(want, sizeof(want), "Map-Reply from %s", from);
	cr_assert_eq(ret, 0, "no answer taken from another address:\n%s", text);
	cr_assert(strstr(text, want) != NULL, "missing '%s' in:\n%s", want, text);
	cr_assert(strstr(text, "native-forward") != NULL, "%s", text);
	free(text);
}
