/* SPDX-License-Identifier: MIT */
/*
 * The DPDK fast path's registration rate per lcore: a pcap of N distinct
 * one-record Map-Registers (HMAC-SHA-256, M, P and I bits, 1000 EIDs per
 * ETR) replayed by net_pcap with infinite_rx=1 into the request core, in
 * process, with --no-huge. The first pass inserts every EID (case
 * register_insert), then every pass refreshes them (case register_refresh,
 * measured for --seconds). Map-Notifies go to tx_pcap=/dev/null (libpcap
 * writes every frame through stdio into it), or with --tx-drop to no tx
 * file at all, where net_pcap frees them (its tx_drop mode): the cost of a
 * NIC's transmit side is then nearly nothing, as with a real one. Prints
 * JSON lines.
 *
 *   fastpath_bench [--registrations N] [--seconds S] [--queues Q] [--memory MB]
 *                  [--tx-drop]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <getopt.h>
#include <sys/resource.h>

#include <lispms/conf.h>
#include <lispms/counters.h>
#include <lispms/err.h>
#include <lispms/fastpath.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/proto.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "frame.h"

static int write_pcap(const char *path, unsigned n)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	const uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	fwrite(hdr, sizeof(hdr), 1, f);
	struct auth_ctx *actx = auth_ctx_new();
	struct auth_key key;
	auth_key_init(&key, 1, LISP_ALG_HMAC_SHA256, "bench", 5);
	const uint8_t ms_mac[6] = { 2, 0, 0, 0, 0, 1 }, etr_mac[6] = { 2, 0, 0, 0, 0, 2 };
	struct sockaddr_storage dst;
	saddr_parse("192.0.2.1", &dst);
	saddr_set_port(&dst, 4342);
	for (unsigned i = 0; i < n; i++) {
		unsigned etr = i / 1000;
		uint32_t v = 0x0a000000u + i;
		struct eid_prefix p = { .iid = 1000, .afi = LISP_AFI_IPV4, .plen = 32 };
		p.bytes[0] = (uint8_t)(v >> 24);
		p.bytes[1] = (uint8_t)(v >> 16);
		p.bytes[2] = (uint8_t)(v >> 8);
		p.bytes[3] = (uint8_t)v;
		struct lisp_locator loc = { .priority = 1,
					    .weight = 100,
					    .mpriority = 255,
					    .flags = LISP_LOC_L | LISP_LOC_R };
		struct lisp_addr rloc = { .afi = LISP_AFI_IPV4,
					  .bytes = { 198, 18, (uint8_t)(etr >> 8), (uint8_t)etr } };
		afi_from_addr(&rloc, &loc.addr);
		struct lisp_record rec = {
			.ttl = 3, .a = 1, .eid_plen = 32, .nlocs = 1, .locs = &loc
		};
		afi_from_eid(&p, &rec.eid);
		struct lisp_map_register m = {
			.flags = LISP_MREG_M | LISP_MREG_P | LISP_MREG_I,
			.nonce = i,
			.auth = { .key_id = 1, .alg_id = LISP_ALG_HMAC_SHA256, .len = 32 },
			.nrecords = 1,
			.records = &rec,
			.site_id = 1,
		};
		memcpy(m.xtr_id, &etr, sizeof(etr));
		uint8_t msg[256], frame[512];
		size_t len;
		if (map_register_encode(&m, msg, sizeof(msg), &len) != LISPMS_EOK ||
		    auth_sign(actx, &key, msg, len) != LISPMS_EOK)
			return -1;
		struct sockaddr_storage src = { .ss_family = AF_INET };
		struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
		s4->sin_addr.s_addr = htonl(0xc6120000u | etr); /* 198.18.x.y */
		s4->sin_port = htons(4342);
		size_t fl = frame_build_udp(frame, sizeof(frame), ms_mac, etr_mac, -1, &src, &dst,
					    msg, len);
		const uint32_t rec_hdr[4] = { i / 1000000, i % 1000000, (uint32_t)fl,
					      (uint32_t)fl };
		fwrite(rec_hdr, sizeof(rec_hdr), 1, f);
		fwrite(frame, fl, 1, f);
	}
	auth_ctx_free(actx);
	return fclose(f);
}

/* CPU seconds this process used (the lcore busy-polls, main sleeps). */
static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static uint64_t registrations(void)
{
	return counters_sum(LISPMS_M_MS_REG_ACCEPTED) + counters_sum(LISPMS_M_MS_REG_REFRESHED);
}

int main(int argc, char **argv)
{
	unsigned n = 1000000, queues = 1, memory = 0;
	double seconds = 5;
	bool tx_drop = false;
	static const struct option opts[] = { { "registrations", required_argument, NULL, 'n' },
					      { "seconds", required_argument, NULL, 's' },
					      { "queues", required_argument, NULL, 'q' },
					      { "memory", required_argument, NULL, 'm' },
					      { "tx-drop", no_argument, NULL, 'd' },
					      { 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "n:s:q:m:d", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'q':
			queues = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			memory = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			tx_drop = true;
			break;
		default:
			fprintf(stderr, "usage: fastpath_bench [--registrations N] [--seconds S] "
					"[--queues Q] [--memory MB] [--tx-drop]\n");
			return 2;
		}
	}
	if (n < 1000 || n > 4000000 || seconds <= 0 || seconds > 600 || queues != 1) {
		fprintf(stderr, "fastpath_bench: 1000 <= N <= 4000000, 0 < S <= 600, one queue "
				"(net_pcap replays one file per queue)\n");
		return 2;
	}
	unsigned mbufs = 1023;
	while (mbufs < n + 4096)
		mbufs = mbufs * 2 + 1;
	if (memory == 0)
		memory = 512 + (unsigned)((uint64_t)mbufs * 5000 / (1 << 20));
	char dir[] = "/tmp/lispms-fpbench.XXXXXX", path[128], text[4096];
	if (thread_register("bench") != LISPMS_EOK || mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/storm.pcap", dir);
	uint64_t t0 = mtime_now_ns();
	if (write_pcap(path, n) != 0) {
		fprintf(stderr, "fastpath_bench: cannot write %s\n", path);
		return 1;
	}
	fprintf(stderr, "fastpath_bench: %u registrations written in %.1f s\n", n,
		(double)(mtime_now_ns() - t0) / 1e9);
	snprintf(text, sizeof(text),
		 "server: {listen: [127.0.0.1], port: 4342, workers: 1, "
		 "registration-timeout: 3600}\n"
		 "control: {socket: %s/ctl.sock}\n"
		 "log: {level: warning}\n"
		 "fastpath:\n"
		 "  eal-args: [--no-huge, --no-pci, -m, \"%u\", --no-shconf, -l, \"0\", "
		 "--no-telemetry, \"--log-level=lib.eal:error\"]\n"
		 "  port: \"net_pcap0,rx_pcap=%s%s,infinite_rx=1\"\n"
		 "  addresses: [192.0.2.1]\n"
		 "  mbufs: %u\n"
		 "sites:\n"
		 "  - name: bench\n"
		 "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: bench}]\n"
		 "    eid-prefixes: [\"[1000] 10.0.0.0/8\"]\n"
		 "    accept-more-specifics: true\n",
		 dir, memory, path, tx_drop ? "" : ",tx_pcap=/dev/null", mbufs);
	struct conf_options copts = { .fastpath_available = fastpath_available() };
	struct conf *conf = NULL;
	struct conf_error cerr;
	if (conf_load_buf("bench.yaml", text, strlen(text), &copts, &conf, &cerr) != LISPMS_EOK) {
		fprintf(stderr, "fastpath_bench: %s\n", cerr.all);
		return 1;
	}
	char err[256] = "";
	struct fastpath *fp = fastpath_new(conf_fastpath(conf), 4342, err, sizeof(err));
	if (fp == NULL) {
		fprintf(stderr, "fastpath_bench: %s\n", err);
		conf_free(conf);
		return 1;
	}
	struct ms *ms = ms_new(conf);
	uint64_t r0 = registrations();
	uint64_t start = mtime_now_ns();
	void *args[64] = { 0 }; /* one request-core worker per lcore, as lispmsd does */
	unsigned nq = fastpath_queues(fp);
	if (ms == NULL || nq > 64)
		return 1;
	for (unsigned q = 0; q < nq; q++)
		if ((args[q] = ms_thread_new(ms, q)) == NULL)
			return 1;
	if (fastpath_start(fp, ms_handle_batch, args) != LISPMS_EOK)
		return 1;
	uint64_t deadline = start + 120 * LISPMS_NS_PER_SEC;
	while (counters_sum(LISPMS_M_MS_REG_ACCEPTED) < n && mtime_now_ns() < deadline)
		usleep(1000);
	uint64_t t_ins = mtime_now_ns();
	uint64_t inserted = counters_sum(LISPMS_M_MS_REG_ACCEPTED);
	double ins_s = (double)(t_ins - start) / 1e9;
	printf("{\"bench\":\"fastpath\",\"case\":\"register_insert\",\"registrations\":%llu,"
	       "\"seconds\":%.3f,\"per_sec\":%.0f,\"lcores\":%u}\n",
	       (unsigned long long)inserted, ins_s, (double)inserted / ins_s, queues);
	uint64_t r1 = registrations(), rx1 = counters_sum(LISPMS_M_FP_RX_UDP);
	uint64_t tx1 = counters_sum(LISPMS_M_FP_TX_FRAMES), t1 = mtime_now_ns();
	double cpu1 = cpu_seconds();
	usleep((useconds_t)(seconds * 1e6));
	double cpu = cpu_seconds() - cpu1;
	uint64_t r2 = registrations(), rx2 = counters_sum(LISPMS_M_FP_RX_UDP);
	uint64_t tx2 = counters_sum(LISPMS_M_FP_TX_FRAMES), t2 = mtime_now_ns();
	double s = (double)(t2 - t1) / 1e9;
	printf("{\"bench\":\"fastpath\",\"case\":\"register_refresh\",\"registrations\":%llu,"
	       "\"seconds\":%.3f,\"per_sec\":%.0f,\"per_lcore_per_sec\":%.0f,\"rx_per_sec\":%.0f,"
	       "\"map_notifies_per_sec\":%.0f,\"eids\":%u,\"lcores\":%u,\"cpu_seconds\":%.3f,"
	       "\"per_cpu_second\":%.0f,\"tx\":\"%s\","
	       "\"dropped_tx\":%llu,\"rejected_bad_hmac\":%llu}\n",
	       (unsigned long long)(r2 - r1), s, (double)(r2 - r1) / s,
	       (double)(r2 - r1) / s / queues, (double)(rx2 - rx1) / s, (double)(tx2 - tx1) / s, n,
	       queues, cpu, cpu > 0 ? (double)(r2 - r1) / cpu : 0.0, tx_drop ? "drop" : "pcap",
	       (unsigned long long)counters_sum(LISPMS_M_FP_DROP_TX),
	       (unsigned long long)counters_sum(LISPMS_M_MS_REJ_BAD_HMAC));
	(void)r0;
	fastpath_free(fp);
	for (unsigned q = 0; q < nq; q++)
		ms_thread_free(args[q]);
	ms_free(ms);
	lrcu_barrier();
	unlink(path);
	rmdir(dir);
	return inserted == n ? 0 : 1;
}
