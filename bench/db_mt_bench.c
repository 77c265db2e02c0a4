/* SPDX-License-Identifier: MIT */
/*
 * Multicore mapping-database benchmark on 1M IPv4 /32 EIDs in one instance.
 *
 * 1. Reader interference: a reader on CPU 0 doing batched LPM alone, then
 *    with a writer on CPU 1 making 200k real changes per second (each one
 *    a new locator set for an EID: a publish and an event), then alone
 *    again. Reports the reader's rate with the writer as a share of its
 *    solo rate.
 * 2. Writer model: the same real changes as fast as possible, made (a) by
 *    the workers themselves under the per-instance mutex, one or two
 *    workers, one or two instances, or (b) by two workers posting them to
 *    a wait-free queue drained by one writer thread.
 *
 * Usage: db_mt_bench [-n N] [-s seconds] [-r changes_per_s]
 * Prints one JSON object per line.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sched.h>

#include <urcu/wfcqueue.h>

#include <lispms/db.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

static size_t n_eids = 1000000;
static double secs = 1.0;
static double rate = 200000;
static struct eid_prefix *eids[2]; /* instance 1000 and 1001 */
static struct db_locator locsets[2][1];
static struct db *db;

static uint64_t now_ns(void)
{
	return mtime_now_ns();
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static struct eid_prefix *make_eids(uint32_t iid)
{
	struct eid_prefix *v = calloc(n_eids, sizeof(*v));
	for (size_t i = 0; i < n_eids; i++) {
		uint32_t x = (uint32_t)((i * 0x9e3779b1u) & 0xffffffu);
		x ^= x >> 11;
		x = (x * 0x2c1b3c6du) & 0xffffffu;
		x ^= x >> 12;
		v[i].iid = iid;
		v[i].afi = LISP_AFI_IPV4;
		v[i].plen = 32;
		v[i].bytes[0] = 10;
		v[i].bytes[1] = (uint8_t)(x >> 16);
		v[i].bytes[2] = (uint8_t)(x >> 8);
		v[i].bytes[3] = (uint8_t)x;
	}
	return v;
}

static struct db_reg_info reg_info(int ls)
{
	struct db_reg_info r = { .locs = locsets[ls], .nlocs = 1, .ttl = 1440 };
	r.owner.has_xtr_id = true;
	r.owner.xtr_id[0] = 1;
	r.owner.port = 4342;
	lisp_addr_parse("192.0.2.1", &r.owner.rloc);
	return r;
}

static struct db_reg_info regs[2];
static uint8_t *cur_ls[2]; /* per instance and EID: locator set registered now */
static const uint64_t T_REG = 1000 * LISPMS_NS_PER_SEC;

/* One real change: EID i of instance k gets the other locator set. */
static void change(int k, size_t i)
{
	int ls = cur_ls[k][i] ^ 1;
	cur_ls[k][i] = (uint8_t)ls;
	if (db_register(db, &eids[k][i], &regs[ls], T_REG, NULL) != DB_STORED)
		abort();
}

/* ---- 1. reader interference ---- */

static _Atomic bool stop;
static _Atomic uint64_t reader_lookups, reader_cpu_ns;

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *reader(void *arg)
{
	(void)arg;
	uint64_t k = 1, n = 0, cpu0 = thread_cpu_ns();
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		lrcu_read_lock();
		const struct db_iid *in = db_instance(db, 1000);
		for (int b = 0; b < 64; b++) {
			const struct eid_prefix *q[16];
			const struct db_mapping *m[16];
			for (int i = 0; i < 16; i++) {
				k = mix(k + 1);
				q[i] = &eids[0][k % n_eids];
			}
			db_iid_lookup_batch(in, q, 16, m);
			for (int i = 0; i < 16; i++)
				if (m[i] == NULL)
					abort();
		}
		lrcu_read_unlock();
		n += 1024;
	}
	atomic_store(&reader_lookups, n);
	atomic_store(&reader_cpu_ns, thread_cpu_ns() - cpu0);
	return NULL;
}

static _Atomic uint64_t changes_done;

/*
 * Paced writer: `rate` changes per second on random EIDs, on its own core,
 * in 1 ms bursts with sleeps between them (the CPU it does not need goes
 * back to the machine).
 */
static void *paced_writer(void *arg)
{
	(void)arg;
	struct timespec tick;
	clock_gettime(CLOCK_MONOTONIC, &tick);
	uint64_t k = 7, done = 0, per_tick = (uint64_t)(rate / 1000);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (uint64_t i = 0; i < per_tick; i++) {
			k = mix(k + 1);
			change(0, k % n_eids);
		}
		done += per_tick;
		tick.tv_nsec += 1000000;
		if (tick.tv_nsec >= 1000000000) {
			tick.tv_nsec -= 1000000000;
			tick.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL);
	}
	atomic_store(&changes_done, done);
	return NULL;
}

struct rphase {
	double per_s, per_cpu_s, changes_per_s;
};

static struct rphase reader_phase(bool with_writer)
{
	atomic_store(&stop, false);
	struct thread *rd = thread_spawn("reader", 0, reader, NULL);
	struct thread *w = with_writer ? thread_spawn("writer", 1, paced_writer, NULL) : NULL;
	uint64_t t0 = now_ns();
	usleep((useconds_t)(secs * 1e6));
	atomic_store(&stop, true);
	thread_join(rd);
	if (w != NULL)
		thread_join(w);
	double el = (now_ns() - t0) / 1e9;
	struct rphase r = { .per_s = atomic_load(&reader_lookups) / el,
			    .per_cpu_s =
				atomic_load(&reader_lookups) / (atomic_load(&reader_cpu_ns) / 1e9),
			    .changes_per_s = with_writer ? atomic_load(&changes_done) / el : 0 };
	return r;
}

/* ---- 2. writer models ---- */

struct wctx {
	int k;	      /* instance */
	unsigned off; /* this worker's EIDs: i % stride == off */
	unsigned stride;
	uint64_t done;
};

static void *direct_worker(void *arg)
{
	struct wctx *c = arg;
	size_t i = c->off;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		change(c->k, i);
		c->done++;
		i += c->stride;
		if (i >= n_eids)
			i = c->off;
	}
	return NULL;
}

static double direct(unsigned workers, bool two_instances)
{
	struct wctx c[2];
	struct thread *t[2];
	atomic_store(&stop, false);
	uint64_t t0 = now_ns();
	for (unsigned w = 0; w < workers; w++) {
		c[w] = (struct wctx){ .k = two_instances ? (int)w : 0,
				      .off = two_instances ? 0 : w,
				      .stride = two_instances ? 1 : workers };
		t[w] = thread_spawn("worker", (int)w, direct_worker, &c[w]);
	}
	usleep((useconds_t)(secs * 1e6));
	atomic_store(&stop, true);
	uint64_t total = 0;
	for (unsigned w = 0; w < workers; w++) {
		thread_join(t[w]);
		total += c[w].done;
	}
	return total / ((now_ns() - t0) / 1e9);
}

struct change_msg {
	struct cds_wfcq_node qn;
	int k;
	size_t i;
};

static struct cds_wfcq_head qhead;
static struct cds_wfcq_tail qtail;
static _Atomic uint64_t posted;

static void *posting_worker(void *arg)
{
	struct wctx *c = arg;
	size_t i = c->off;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		/* keep the queue bounded: the writer is the bottleneck */
		if (atomic_load_explicit(&posted, memory_order_relaxed) > 4096) {
			sched_yield();
			continue;
		}
		struct change_msg *m = malloc(sizeof(*m));
		cds_wfcq_node_init(&m->qn);
		m->k = c->k;
		m->i = i;
		atomic_fetch_add_explicit(&posted, 1, memory_order_relaxed);
		cds_wfcq_enqueue(&qhead, &qtail, &m->qn);
		c->done++;
		i += c->stride;
		if (i >= n_eids)
			i = c->off;
	}
	return NULL;
}

static _Atomic bool writer_stop;

static void *queue_writer(void *arg)
{
	_Atomic uint64_t *applied = arg;
	while (!atomic_load_explicit(&writer_stop, memory_order_relaxed)) {
		struct cds_wfcq_node *qn = cds_wfcq_dequeue_blocking(&qhead, &qtail);
		if (qn == NULL)
			continue;
		struct change_msg *m = caa_container_of(qn, struct change_msg, qn);
		change(m->k, m->i);
		free(m);
		atomic_fetch_sub_explicit(&posted, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(applied, 1, memory_order_relaxed);
	}
	return NULL;
}

static double queued(void)
{
	cds_wfcq_init(&qhead, &qtail);
	_Atomic uint64_t applied = 0;
	struct wctx c[2];
	struct thread *t[2];
	atomic_store(&stop, false);
	atomic_store(&writer_stop, false);
	struct thread *wr = thread_spawn("db-writer", -1, queue_writer, &applied);
	uint64_t t0 = now_ns();
	for (unsigned w = 0; w < 2; w++) {
		c[w] = (struct wctx){ .k = 0, .off = w, .stride = 2 };
		t[w] = thread_spawn("worker", (int)w, posting_worker, &c[w]);
	}
	usleep((useconds_t)(secs * 1e6));
	atomic_store(&stop, true);
	for (unsigned w = 0; w < 2; w++)
		thread_join(t[w]);
	double el = (now_ns() - t0) / 1e9;
	uint64_t at_stop = atomic_load(&applied);
	atomic_store(&writer_stop, true);
	thread_join(wr);
	struct cds_wfcq_node *qn;
	while ((qn = cds_wfcq_dequeue_blocking(&qhead, &qtail)) != NULL)
		free(caa_container_of(qn, struct change_msg, qn));
	cds_wfcq_destroy(&qhead, &qtail);
	return at_stop / el;
}

int main(int argc, char **argv)
{
	int opt;
	while ((opt = getopt(argc, argv, "n:s:r:")) != -1) {
		switch (opt) {
		case 'n':
			n_eids = strtoul(optarg, NULL, 10);
			break;
		case 's':
			secs = strtod(optarg, NULL);
			break;
		case 'r':
			rate = strtod(optarg, NULL);
			break;
		default:
			fprintf(stderr, "usage: %s [-n N] [-s seconds] [-r changes_per_s]\n",
				argv[0]);
			return 2;
		}
	}
	thread_register("bench");
	for (int ls = 0; ls < 2; ls++) {
		lisp_addr_parse("203.0.113.7", &locsets[ls][0].addr);
		locsets[ls][0].addr.bytes[3] = (uint8_t)(7 + ls);
		locsets[ls][0].priority = 1;
		locsets[ls][0].weight = 100;
		regs[ls] = reg_info(ls);
	}
	db = db_new(NULL);
	for (int k = 0; k < 2; k++) {
		eids[k] = make_eids(1000 + (uint32_t)k);
		cur_ls[k] = calloc(n_eids, 1);
		for (size_t i = 0; i < n_eids; i++)
			if (db_register(db, &eids[k][i], &regs[0], T_REG, NULL) != DB_STORED)
				return 1;
	}

	struct rphase solo1 = reader_phase(false);
	struct rphase mixed = reader_phase(true);
	struct rphase solo2 = reader_phase(false);
	double solo = (solo1.per_s + solo2.per_s) / 2;
	double solo_cpu = (solo1.per_cpu_s + solo2.per_cpu_s) / 2;
	printf("{\"bench\":\"db_mt\",\"case\":\"reader_with_writer\",\"n\":%zu,"
	       "\"writer_changes_per_s\":%.0f,\"reader_solo_lookups_per_s\":%.0f,"
	       "\"reader_solo_before\":%.0f,\"reader_solo_after\":%.0f,"
	       "\"reader_with_writer_lookups_per_s\":%.0f,\"reader_share\":%.3f,"
	       "\"reader_solo_lookups_per_cpu_s\":%.0f,"
	       "\"reader_with_writer_lookups_per_cpu_s\":%.0f,\"reader_share_per_cpu\":%.3f}\n",
	       n_eids, mixed.changes_per_s, solo, solo1.per_s, solo2.per_s, mixed.per_s,
	       mixed.per_s / solo, solo_cpu, mixed.per_cpu_s, mixed.per_cpu_s / solo_cpu);

	double d1 = direct(1, false);
	double d2 = direct(2, false);
	double d2i = direct(2, true);
	double q2 = queued();
	printf("{\"bench\":\"db_mt\",\"case\":\"writer_model\",\"n\":%zu,"
	       "\"mutex_1_worker_changes_per_s\":%.0f,\"mutex_2_workers_changes_per_s\":%.0f,"
	       "\"mutex_2_workers_2_instances_changes_per_s\":%.0f,"
	       "\"queue_2_workers_1_writer_changes_per_s\":%.0f}\n",
	       n_eids, d1, d2, d2i, q2);
	db_free(db);
	thread_unregister();
	return 0;
}
