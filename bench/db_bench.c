/* SPDX-License-Identifier: MIT */
/*
 * Mapping database micro-benchmark: N host EIDs (IPv4 /32 and/or IPv6
 * /128) registered in one instance by one ETR with one locator set, then:
 * insert rate from one writer, resident memory per EID (RSS delta from
 * /proc/self/statm), longest-prefix lookups per second on one core with
 * random registered keys, the refresh fast path, and the expiry of every
 * registration at once while a reader measures its longest stall.
 *
 * Usage: db_bench [-n N] [-f ipv4|ipv6|both] [-s seconds] [-r]
 * (-r: the reader measuring stalls runs SCHED_FIFO, to tell the db's
 * effect from the scheduler's on a shared machine)
 * Prints one JSON object per line.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>

#include <lispms/db.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

static size_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;
	if (f != NULL) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (size_t)sysconf(_SC_PAGESIZE);
}

static void pin_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static uint64_t now_ns(void)
{
	return mtime_now_ns();
}

/* CPU time of this thread: rates per CPU second discount time lost to other work. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* N distinct host prefixes: IPv4 spread over 10.0.0.0/8, IPv6 under 2001:db8::/32. */
static struct eid_prefix *make_eids(uint16_t afi, size_t n)
{
	struct eid_prefix *v = calloc(n, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct eid_prefix *p = &v[i];
		p->iid = 1000;
		p->afi = afi;
		p->plen = (uint8_t)lisp_afi_bits(afi);
		if (afi == LISP_AFI_IPV4) {
			/* a bijection on 24 bits: distinct, scattered */
			uint32_t x = (uint32_t)((i * 0x9e3779b1u) & 0xffffffu);
			x ^= x >> 11;
			x = (x * 0x2c1b3c6du) & 0xffffffu;
			x ^= x >> 12;
			p->bytes[0] = 10;
			p->bytes[1] = (uint8_t)(x >> 16);
			p->bytes[2] = (uint8_t)(x >> 8);
			p->bytes[3] = (uint8_t)x;
		} else {
			p->bytes[0] = 0x20;
			p->bytes[1] = 0x01;
			p->bytes[2] = 0x0d;
			p->bytes[3] = 0xb8;
			uint64_t a = mix(i * 2 + 1), b = mix(i * 2 + 2);
			memcpy(p->bytes + 4, &a, 8);
			memcpy(p->bytes + 12, &b, 4);
		}
	}
	return v;
}

static struct db_locator the_locs[1];

static struct db_reg_info the_reg(void)
{
	struct db_reg_info r = { .locs = the_locs, .nlocs = 1, .ttl = 1440 };
	r.owner.has_xtr_id = true;
	r.owner.xtr_id[0] = 1;
	r.owner.port = 4342;
	lisp_addr_parse("192.0.2.1", &r.owner.rloc);
	return r;
}

struct stall_ctx {
	const struct db *db;
	const struct eid_prefix *eids;
	size_t n;
	_Atomic bool stop;
	uint64_t max_gap_ns, lookups;
};

static bool rt_reader; /* -r: the stall reader runs SCHED_FIFO */
/* -k: each lookup case runs exactly this many rounds of 4096 lookups
 * instead of S seconds (the same work in every run, for callgrind) */
static uint64_t rounds;

/* Another round of 4096 lookups: by count with -k, else until the deadline. */
static bool more_rounds(uint64_t done, uint64_t deadline)
{
	return rounds ? done / 4096 < rounds : now_ns() < deadline;
}

static void *stall_reader(void *arg)
{
	struct stall_ctx *c = arg;
	if (rt_reader) {
		struct sched_param sp = { .sched_priority = 1 };
		if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0)
			fprintf(stderr, "db_bench, cannot make the reader real-time\n");
	}
	uint64_t last = now_ns(), maxgap = 0, n = 0, seed = 7, slept = last;
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		lrcu_read_lock();
		for (int i = 0; i < 64; i++) {
			seed = mix(seed);
			(void)db_lookup(c->db, &c->eids[seed % c->n], NULL);
		}
		lrcu_read_unlock();
		n += 64;
		uint64_t t = now_ns();
		if (t - last > maxgap)
			maxgap = t - last;
		last = t;
		if (rt_reader && t - slept > 10000000u) {
			/* stay under RT throttling (sched_rt_runtime_us); not a stall */
			usleep(1000);
			slept = last = now_ns();
		}
	}
	c->max_gap_ns = maxgap;
	c->lookups = n;
	return NULL;
}

static void bench_batch(const struct db *db, const struct eid_prefix *queries, size_t n,
			const char *af, double secs, int B, const char *name)
{
	if (B > 64)
		B = 64;
	uint64_t done = 0, found = 0, t0, t1, deadline;
	size_t k = 0;
	/* batches of B lookups whose trie walks are interleaved */
	uint64_t c0 = cpu_ns();
	t0 = now_ns();
	deadline = t0 + (uint64_t)(secs * 1e9);
	do {
		lrcu_read_lock();
		const struct db_iid *in = db_instance(db, 1000);
		for (int b = 0; b < 4096 / B; b++) {
			const struct eid_prefix *q[64];
			const struct db_mapping *m[64];
			for (int i = 0; i < B; i++) {
				q[i] = &queries[k];
				if (++k == n)
					k = 0;
			}
			db_iid_lookup_batch(in, q, B, m);
			for (int i = 0; i < B; i++)
				found += m[i] != NULL;
		}
		lrcu_read_unlock();
		done += 4096;
	} while (more_rounds(done, deadline));
	t1 = now_ns();
	uint64_t c1 = cpu_ns();
	printf("{\"bench\":\"db\",\"case\":\"%s\",\"batch\":%d,\"af\":\"%s\",\"n\":%zu,"
	       "\"lookups_per_s\":%.0f,\"ns_per_lookup\":%.1f,\"lookups_per_cpu_s\":%.0f}\n",
	       name, B, af, n, done / ((t1 - t0) / 1e9), (double)(t1 - t0) / done,
	       done / ((c1 - c0) / 1e9));

	(void)found;
}

static void run(uint16_t afi, size_t n, double secs)
{
	const char *af = afi == LISP_AFI_IPV4 ? "ipv4" : "ipv6";
	struct eid_prefix *eids = make_eids(afi, n);
	size_t *order = malloc(n * sizeof(*order));
	if (eids == NULL || order == NULL) {
		fprintf(stderr, "db_bench, out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = mix(i + 99) % (i + 1), x = order[i];
		order[i] = order[j];
		order[j] = x;
	}
	/* queries in random order, read sequentially (a server's key is in the packet) */
	struct eid_prefix *queries = malloc(n * sizeof(*queries));
	if (queries == NULL) {
		fprintf(stderr, "db_bench, out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		queries[i] = eids[order[i]];

	struct db *db = db_new(&(struct db_config){ .reg_timeout_s = 180 });
	struct db_reg_info r = the_reg();
	uint64_t t_reg = 1000 * LISPMS_NS_PER_SEC;
	size_t rss0 = rss_bytes();
	uint64_t c0 = cpu_ns();
	uint64_t t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		if (db_register(db, &eids[i], &r, t_reg, NULL) != DB_STORED) {
			fprintf(stderr, "db_bench, register failed\n");
			exit(1);
		}
	uint64_t t1 = now_ns();
	uint64_t c1 = cpu_ns();
	size_t rss1 = rss_bytes();
	struct db_stats st;
	db_stats_get(db, &st);
	printf("{\"bench\":\"db\",\"case\":\"insert\",\"af\":\"%s\",\"n\":%zu,"
	       "\"ops_per_s\":%.0f,\"ns_per_op\":%.1f,\"ops_per_cpu_s\":%.0f}\n",
	       af, n, n / ((t1 - t0) / 1e9), (double)(t1 - t0) / n, n / ((c1 - c0) / 1e9));
	printf("{\"bench\":\"db\",\"case\":\"memory\",\"af\":\"%s\",\"n\":%zu,"
	       "\"rss_delta_bytes\":%zu,\"bytes_per_eid\":%.1f,\"trie_nodes\":%zu,"
	       "\"locsets\":%zu,\"mappings\":%zu}\n",
	       af, n, rss1 - rss0, (double)(rss1 - rss0) / n, st.nodes, st.locsets, st.mappings);

	/* the same inserts into a second database, 16 records per call */
	{
		struct db *db2 = db_new(NULL);
		const struct eid_prefix *other = eids;
		uint64_t b0 = now_ns(), bc0 = cpu_ns();
		for (size_t i = 0; i < n; i += 16) {
			const struct eid_prefix *ps[16];
			const struct db_reg_info *rs[16];
			int out[16];
			unsigned k = n - i < 16 ? (unsigned)(n - i) : 16;
			for (unsigned j = 0; j < k; j++) {
				ps[j] = &other[i + j];
				rs[j] = &r;
			}
			db_register_batch(db2, ps, rs, k, t_reg, NULL, out);
			for (unsigned j = 0; j < k; j++)
				if (out[j] != DB_STORED)
					exit(1);
		}
		uint64_t b1 = now_ns(), bc1 = cpu_ns();
		printf("{\"bench\":\"db\",\"case\":\"insert_batch\",\"batch\":16,\"af\":\"%s\","
		       "\"n\":%zu,\"ops_per_s\":%.0f,\"ns_per_op\":%.1f,\"ops_per_cpu_s\":%.0f}\n",
		       af, n, n / ((b1 - b0) / 1e9), (double)(b1 - b0) / n,
		       n / ((bc1 - bc0) / 1e9));
		db_free(db2);
	}

	/* LPM on one core, random registered keys, instance looked up per query */
	uint64_t done = 0;
	uint64_t found = 0;
	c0 = cpu_ns();
	t0 = now_ns();
	uint64_t deadline = t0 + (uint64_t)(secs * 1e9);
	size_t k = 0;
	do {
		lrcu_read_lock();
		for (int i = 0; i < 4096; i++) {
			found += db_lookup(db, &queries[k], NULL) != NULL;
			if (++k == n)
				k = 0;
		}
		lrcu_read_unlock();
		done += 4096;
	} while (more_rounds(done, deadline));
	t1 = now_ns();
	c1 = cpu_ns();
	printf("{\"bench\":\"db\",\"case\":\"lpm_lookup\",\"af\":\"%s\",\"n\":%zu,"
	       "\"lookups_per_s\":%.0f,\"ns_per_lookup\":%.1f,\"hit_ratio\":%.3f,"
	       "\"lookups_per_cpu_s\":%.0f}\n",
	       af, n, done / ((t1 - t0) / 1e9), (double)(t1 - t0) / done, (double)found / done,
	       done / ((c1 - c0) / 1e9));

	/* the same with the instance resolved once per batch */
	done = 0;
	c0 = cpu_ns();
	t0 = now_ns();
	deadline = t0 + (uint64_t)(secs * 1e9);
	do {
		lrcu_read_lock();
		const struct db_iid *in = db_instance(db, 1000);
		for (int i = 0; i < 4096; i++) {
			found += db_iid_lookup(in, &queries[k], NULL) != NULL;
			if (++k == n)
				k = 0;
		}
		lrcu_read_unlock();
		done += 4096;
	} while (more_rounds(done, deadline));
	t1 = now_ns();
	c1 = cpu_ns();
	printf("{\"bench\":\"db\",\"case\":\"lpm_lookup_iid_cached\",\"af\":\"%s\",\"n\":%zu,"
	       "\"lookups_per_s\":%.0f,\"ns_per_lookup\":%.1f,\"lookups_per_cpu_s\":%.0f}\n",
	       af, n, done / ((t1 - t0) / 1e9), (double)(t1 - t0) / done, done / ((c1 - c0) / 1e9));

	bench_batch(db, queries, n, af, secs, 16, "lpm_lookup_batch");
	bench_batch(db, queries, n, af, secs, 64, "lpm_lookup_batch");
	/* keys next to the registered ones (last bit flipped): the host index
	   misses, and each lookup is a trie walk to the neighbour's depth */
	for (size_t i = 0; i < n; i++) {
		unsigned last = queries[i].plen - 1u;
		queries[i].bytes[last / 8] ^= (uint8_t)(0x80u >> (last % 8));
	}
	bench_batch(db, queries, n, af, secs, 16, "lpm_lookup_batch_miss");
	for (size_t i = 0; i < n; i++) {
		unsigned last = queries[i].plen - 1u;
		queries[i].bytes[last / 8] ^= (uint8_t)(0x80u >> (last % 8));
	}

	/* refresh fast path: identical re-registration of every EID */
	uint64_t t_ref = t_reg + 60 * LISPMS_NS_PER_SEC;
	c0 = cpu_ns();
	t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		if (db_register(db, &queries[i], &r, t_ref, NULL) != DB_REFRESHED) {
			fprintf(stderr, "db_bench, refresh took the slow path\n");
			exit(1);
		}
	t1 = now_ns();
	c1 = cpu_ns();
	printf("{\"bench\":\"db\",\"case\":\"refresh\",\"af\":\"%s\",\"n\":%zu,"
	       "\"ops_per_s\":%.0f,\"ns_per_op\":%.1f,\"ops_per_cpu_s\":%.0f}\n",
	       af, n, n / ((t1 - t0) / 1e9), (double)(t1 - t0) / n, n / ((c1 - c0) / 1e9));

	/* the same reader's worst gap with the writer idle, as a baseline */
	pin_self(1);
	struct stall_ctx idle = { .db = db, .eids = eids, .n = n };
	struct thread *rd = thread_spawn("stall-reader", 0, stall_reader, &idle);
	usleep(100000);
	uint64_t i0 = now_ns();
	while (now_ns() - i0 < 2000000000ull && now_ns() - i0 < (uint64_t)(secs * 1.5e9))
		usleep(1000);
	atomic_store(&idle.stop, true);
	thread_join(rd);

	/* expire everything at once while a reader on the other core measures stalls */
	struct stall_ctx c = { .db = db, .eids = eids, .n = n };
	rd = thread_spawn("stall-reader", 0, stall_reader, &c);
	usleep(100000);
	t0 = now_ns();
	size_t expired = db_expire_run(db, t_ref + 181 * LISPMS_NS_PER_SEC, NULL);
	t1 = now_ns();
	usleep(100000);
	atomic_store(&c.stop, true);
	thread_join(rd);
	printf("{\"bench\":\"db\",\"case\":\"expire_all\",\"af\":\"%s\",\"n\":%zu,"
	       "\"expired\":%zu,\"seconds\":%.3f,\"expired_per_s\":%.0f,"
	       "\"reader_max_stall_us\":%.1f,\"reader_max_stall_idle_us\":%.1f,"
	       "\"reader_lookups\":%llu,\"reader_realtime\":%s}\n",
	       af, n, expired, (t1 - t0) / 1e9, expired / ((t1 - t0) / 1e9), c.max_gap_ns / 1e3,
	       idle.max_gap_ns / 1e3, (unsigned long long)c.lookups, rt_reader ? "true" : "false");
	db_free(db);
	free(queries);
	free(order);
	free(eids);
}

int main(int argc, char **argv)
{
	size_t n = 1000000;
	const char *fam = "both";
	double secs = 2.0;
	int opt;
	while ((opt = getopt(argc, argv, "n:f:s:rk:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			fam = optarg;
			break;
		case 's':
			secs = strtod(optarg, NULL);
			break;
		case 'r':
			rt_reader = true;
			break;
		case 'k':
			rounds = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(
			    stderr,
			    "usage: %s [-n N] [-f ipv4|ipv6|both] [-s seconds] [-r] [-k rounds]\n",
			    argv[0]);
			return 2;
		}
	}
	if (n == 0)
		return 2;
	lisp_addr_parse("203.0.113.7", &the_locs[0].addr);
	the_locs[0].priority = 1;
	the_locs[0].weight = 100;
	the_locs[0].flags = DB_LOC_R;
	/* one child process per family, so each RSS delta starts from scratch */
	uint16_t afis[2] = { LISP_AFI_IPV4, LISP_AFI_IPV6 };
	for (int i = 0; i < 2; i++) {
		if (strcmp(fam, i == 0 ? "ipv6" : "ipv4") == 0)
			continue;
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			thread_register("bench");
			run(afis[i], n, secs);
			fflush(stdout);
			_exit(0);
		}
		int status;
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			return 1;
	}
	return 0;
}
