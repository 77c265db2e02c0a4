/* SPDX-License-Identifier: MIT */
/*
 * The server's registration path without sockets: authenticated
 * Map-Registers (HMAC-SHA-256, M bit set, so each is answered by a signed
 * Map-Notify) of R records each, fed to ms_handle_batch() as a UDP worker
 * does. N IPv4 /32 EIDs under 10.0.0.0/8, one ETR, one locator. First every
 * EID once (inserts), then the same messages again for S seconds
 * (refreshes). Messages are encoded and signed before the clock starts.
 *
 * -b B hands B messages to each ms_handle_batch() call (a recvmmsg batch or
 * a DPDK burst: the batch authentication stage), 1 by default; -k K
 * refreshes K messages (a multiple of 64) instead of running for -s seconds,
 * so instruction counts (valgrind --tool=callgrind) compare exactly; -w
 * lets the stage verify the messages in place (ms_thread_rx_writable(), as
 * the DPDK fast path does) instead of copying them.
 *
 * Usage: ms_register_bench [-n N] [-r records_per_register] [-s seconds] [-b B]
 *			    [-k K] [-w]
 * Prints one JSON object per line.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lispms/conf.h>
#include <lispms/db.h>
#include <lispms/err.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/proto.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

static const char conf_text[] =
    "server:\n"
    "  listen: [127.0.0.1]\n"
    "  registration-timeout: 3600\n"
    "log:\n"
    "  level: warning\n"
    "sites:\n"
    "  - name: bench\n"
    "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"bench\"}]\n"
    "    eid-prefixes: [\"[1000] 10.0.0.0/8\"]\n"
    "    accept-more-specifics: true\n";

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct msg {
	uint8_t *data;
	size_t len;
};

/* Record i's EID: a bijection on 24 bits under 10/8, as in db_bench. */
static uint32_t eid_of(size_t i)
{
	uint32_t x = (uint32_t)((i * 0x9e3779b1u) & 0xffffffu);
	x ^= x >> 11;
	x = (x * 0x2c1b3c6du) & 0xffffffu;
	x ^= x >> 12;
	return (10u << 24) | x;
}

static struct msg *make_msgs(size_t n, unsigned per, size_t *nmsgs)
{
	struct auth_ctx *auth = auth_ctx_new();
	struct auth_key key;
	size_t m = (n + per - 1) / per;
	struct msg *v = calloc(m, sizeof(*v));
	struct lisp_record *recs = calloc(per, sizeof(*recs));
	struct lisp_locator loc = { .priority = 1, .weight = 100, .flags = LISP_LOC_R };
	struct lisp_addr rloc;
	size_t cap = 64 + (size_t)per * 64;
	uint8_t *buf = malloc(cap);
	if (auth == NULL || v == NULL || recs == NULL || buf == NULL ||
	    auth_key_init(&key, 1, LISP_ALG_HMAC_SHA256, "bench", 5) != LISPMS_EOK ||
	    lisp_addr_parse("192.0.2.1", &rloc) != LISPMS_EOK) {
		fprintf(stderr, "ms_register_bench, setup failed\n");
		exit(1);
	}
	afi_from_addr(&rloc, &loc.addr);
	for (size_t k = 0; k < m; k++) {
		unsigned cnt = 0;
		for (size_t i = k * per; i < n && cnt < per; i++, cnt++) {
			struct eid_prefix p = { .iid = 1000, .afi = LISP_AFI_IPV4, .plen = 32 };
			uint32_t a = eid_of(i);
			p.bytes[0] = (uint8_t)(a >> 24);
			p.bytes[1] = (uint8_t)(a >> 16);
			p.bytes[2] = (uint8_t)(a >> 8);
			p.bytes[3] = (uint8_t)a;
			memset(&recs[cnt], 0, sizeof(recs[cnt]));
			recs[cnt].ttl = 1440;
			recs[cnt].eid_plen = 32;
			afi_from_eid(&p, &recs[cnt].eid);
			recs[cnt].nlocs = 1;
			recs[cnt].locs = &loc;
		}
		struct lisp_map_register r = {
			.flags = LISP_MREG_M,
			.nonce = k + 1,
			.auth = { .key_id = 1, .alg_id = LISP_ALG_HMAC_SHA256, .len = 32 },
			.nrecords = (uint16_t)cnt,
			.records = recs,
		};
		size_t len;
		if (map_register_encode(&r, buf, cap, &len) != LISPMS_EOK ||
		    auth_sign(auth, &key, buf, len) != LISPMS_EOK) {
			fprintf(stderr, "ms_register_bench, encode failed\n");
			exit(1);
		}
		v[k].data = malloc(len);
		if (v[k].data == NULL)
			exit(1);
		memcpy(v[k].data, buf, len);
		v[k].len = len;
	}
	free(buf);
	free(recs);
	auth_ctx_free(auth);
	*nmsgs = m;
	return v;
}

#define MAX_BATCH 64

struct feeder {
	struct ms_thread *t;
	struct dgram d[MAX_BATCH];
	unsigned batch; /* messages per ms_handle_batch() (-b) */
	unsigned nd;
	struct dgram_outbox out;
	struct dgram_out slots[MAX_BATCH + 4];
	struct arena arena;
	size_t notifies;
};

static void flush(struct feeder *f)
{
	if (f->nd == 0)
		return;
	f->out.n = 0;
	arena_reset(&f->arena);
	lrcu_read_lock();
	ms_handle_batch(f->t, f->d, f->nd, &f->out);
	lrcu_read_unlock();
	f->nd = 0;
	for (unsigned i = 0; i < f->out.n; i++)
		f->notifies +=
		    msg_type(f->out.msgs[i].data, f->out.msgs[i].len) == LISP_MSG_MAP_NOTIFY;
}

/* Queue one message; the batch goes to the request core when full. */
static void feed(struct feeder *f, const struct msg *m)
{
	f->d[f->nd].data = m->data;
	f->d[f->nd].len = m->len;
	if (++f->nd == f->batch)
		flush(f);
}

static unsigned batch_size;

static void report(const char *c, size_t n, unsigned per, size_t records, size_t msgs, uint64_t ns,
		   uint64_t cpu)
{
	printf("{\"bench\":\"ms_register\",\"case\":\"%s\",\"batch\":%u,\"eids\":%zu,"
	       "\"records_per_msg\":%u,"
	       "\"records_per_s\":%.0f,\"msgs_per_s\":%.0f,\"ns_per_record\":%.1f,"
	       "\"records_per_cpu_s\":%.0f}\n",
	       c, batch_size, n, per, records / (ns / 1e9), msgs / (ns / 1e9), (double)ns / records,
	       records / (cpu / 1e9));
}

int main(int argc, char **argv)
{
	size_t n = 1000000;
	unsigned per = 100, batch = 1;
	size_t count = 0;      /* -k: refresh exactly this many messages (callgrind) */
	bool writable = false; /* -w: the messages are ours to write (in-place verify) */
	double secs = 2;
	int opt;
	while ((opt = getopt(argc, argv, "n:r:s:b:k:w")) != -1) {
		switch (opt) {
		case 'w':
			writable = true;
			break;
		case 'k':
			count = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			batch = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			per = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			secs = strtod(optarg, NULL);
			break;
		default:
			fprintf(stderr, "usage: ms_register_bench [-n N] [-r records] [-s secs] "
					"[-b batch] [-k count] [-w]\n");
			return 2;
		}
	}
	if (batch == 0 || batch > MAX_BATCH) {
		fprintf(stderr, "ms_register_bench, 1 <= -b <= %d\n", MAX_BATCH);
		return 2;
	}
	if (n == 0 || per == 0 || per > LISPMS_MAX_RECORDS) {
		fprintf(stderr, "ms_register_bench, -n > 0 and 1 <= -r <= %d\n",
			LISPMS_MAX_RECORDS);
		return 2;
	}
	if (thread_register("bench") != LISPMS_EOK)
		return 1;
	struct conf *c = NULL;
	struct conf_error err;
	if (conf_load_buf("bench.yaml", conf_text, strlen(conf_text), NULL, &c, &err) !=
	    LISPMS_EOK) {
		fprintf(stderr, "ms_register_bench, config: %s\n", err.msg);
		return 1;
	}
	struct ms *ms = ms_new(c);
	size_t nmsgs;
	struct msg *msgs = make_msgs(n, per, &nmsgs);
	struct feeder f = { .t = ms != NULL ? ms_thread_new(ms, 0) : NULL };
	if (f.t == NULL || arena_init(&f.arena, 1u << 20) != LISPMS_EOK) {
		fprintf(stderr, "ms_register_bench, setup failed\n");
		return 1;
	}
	ms_thread_rx_writable(f.t, writable);
	f.batch = batch;
	batch_size = batch;
	f.out = (struct dgram_outbox){ .msgs = f.slots, .cap = MAX_BATCH + 4, .arena = &f.arena };
	for (unsigned i = 0; i < MAX_BATCH; i++) {
		saddr_parse("192.0.2.1", &f.d[i].src);
		saddr_set_port(&f.d[i].src, 4342);
		saddr_parse("127.0.0.1", &f.d[i].local);
		saddr_set_port(&f.d[i].local, 4342);
	}

	/* every EID once: inserts */
	uint64_t c0 = cpu_ns(), t0 = mtime_now_ns();
	for (size_t k = 0; k < nmsgs; k++)
		feed(&f, &msgs[k]);
	flush(&f);
	uint64_t t1 = mtime_now_ns(), c1 = cpu_ns();
	struct db_stats st;
	db_stats_get(ms_db(ms), &st);
	if (st.prefixes != n || f.notifies != nmsgs) {
		fprintf(stderr,
			"ms_register_bench, %zu prefixes and %zu Map-Notifies, want %zu, %zu\n",
			st.prefixes, f.notifies, n, nmsgs);
		return 1;
	}
	report("insert", n, per, n, nmsgs, t1 - t0, c1 - c0);

	/* the same messages again for secs seconds: refreshes */
	size_t records = 0, sent = 0, k = 0;
	c0 = cpu_ns();
	t0 = mtime_now_ns();
	uint64_t deadline = t0 + (uint64_t)(secs * 1e9);
	do {
		for (int i = 0; i < 64; i++) {
			feed(&f, &msgs[k]);
			records += k + 1 < nmsgs ? per : n - k * per;
			sent++;
			k = k + 1 < nmsgs ? k + 1 : 0;
		}
	} while (count > 0 ? sent < count : mtime_now_ns() < deadline);
	flush(&f);
	t1 = mtime_now_ns();
	c1 = cpu_ns();
	if (f.notifies != nmsgs + sent) {
		fprintf(stderr, "ms_register_bench, a refresh was not acknowledged\n");
		return 1;
	}
	report("refresh", n, per, records, sent, t1 - t0, c1 - c0);

	ms_thread_free(f.t);
	ms_free(ms);
	for (size_t i = 0; i < nmsgs; i++)
		free(msgs[i].data);
	free(msgs);
	arena_deinit(&f.arena);
	lrcu_barrier();
	thread_unregister();
	return 0;
}
