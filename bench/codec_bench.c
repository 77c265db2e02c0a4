/* SPDX-License-Identifier: MIT */
/*
 * Codec micro-benchmark, one thread: decode of a one-record Map-Register
 * without and with HMAC-SHA-256 verification, encode + sign of a Map-Notify,
 * decode of an ECM Map-Request, and a bare HMAC-SHA-256 of the same bytes as
 * the Map-Register (the limit of the authenticated path). For the choice made
 * in src/proto/auth.c it also times the EVP alternatives on the same bytes.
 * The batch stage (auth_batch_*, 32 messages a call) runs beside them, and
 * with ipsec-mb the bare multi-buffer HMAC of the same bytes; the line
 * "batch_summary" gives the ratios.
 *
 * Every case prints one JSON object per line with its rate and what it costs
 * in memory per message: heap allocations made through OpenSSL (counted with
 * CRYPTO_set_mem_functions), heap bytes allocated by the thread (jemalloc's
 * thread.allocated, when jemalloc is the allocator), and arena bytes used.
 *
 * `--calls N` runs each case (or the one --case names) exactly N times after
 * 100 warm-up calls, untimed, inside codec_measure(), for instruction counts
 * that do not depend on the machine's load (bench/codec_callgrind.sh).
 *
 *   bench_codec [--seconds S] [--cpu N] [--case NAME] [--calls N]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sched.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "config.h"
#if LISPMS_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include <lispms/err.h>
#include <lispms/proto.h>

/* docs/protocol.md §6.2 packets 1 and 6 (the ECM's inner headers as in testvec.h). */
static const char mreg_hex[] =
    "3a002901 1122334455667788 01 02 0020 "
    "a4ff6c1db54f0ccae5b1ce1d5a870329e7955d96f01a35b2019affda4614af6c "
    "00000003 01 10 1000 0000 4003 0000 0200 000a 000003e8 0001 0a010000 "
    "01 64 ff 00 0005 0001 c0000201 000102030405060708090a0b0c0d0e0f 0000000000000007";
static const char ecm_hex[] = "82000000 4500 0044 0000 0000 4011 ac9c c0000209 0a010203 "
			      "10f6 10f6 0030 92c4 10000001 deadbeefcafef00d 0000 0001 c0000209 "
			      "00 20 4003 0000 0200 000a 000003e8 0001 0a010203";

static unsigned long openssl_allocs;

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	__atomic_add_fetch(&openssl_allocs, 1, __ATOMIC_RELAXED);
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	__atomic_add_fetch(&openssl_allocs, 1, __ATOMIC_RELAXED);
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

static uint64_t heap_bytes(void)
{
#if LISPMS_HAVE_JEMALLOC
	uint64_t *p = NULL;
	size_t sz = sizeof(p);
	if (mallctl("thread.allocatedp", &p, &sz, NULL, 0) == 0 && p != NULL)
		return *p;
#endif
	return 0;
}

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (; *h; h++) {
		int v = *h >= '0' && *h <= '9'	 ? *h - '0'
			: *h >= 'a' && *h <= 'f' ? *h - 'a' + 10
						 : -1;
		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
		} else if (n < cap) {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_codec: %s\n", what);
	exit(1);
}

/* ------------------------------------------------------------------ cases */

static struct arena arena;
static struct auth_ctx *actx;
static struct auth_key keys[2];
static uint8_t mreg[256], ecm[256], out[512];
static size_t mreg_len, ecm_len;
static volatile uint64_t sink;

static int case_decode(void)
{
	struct lisp_map_register m;
	arena_reset(&arena);
	int ret = map_register_decode(mreg, mreg_len, &arena, &m);
	if (ret == LISPMS_EOK)
		sink += m.nonce;
	return ret;
}

static int case_decode_verify(void)
{
	struct lisp_map_register m;
	arena_reset(&arena);
	int ret = map_register_decode(mreg, mreg_len, &arena, &m);
	if (ret == LISPMS_EOK)
		ret = auth_verify(actx, keys, 2, mreg, mreg_len, &m.auth);
	return ret;
}

static struct lisp_record notify_rec;

static int case_notify_sign(void)
{
	struct lisp_map_notify n = { .type = LISP_MSG_MAP_NOTIFY, .nonce = sink, .nrecords = 1 };
	n.auth.key_id = 1;
	n.auth.alg_id = LISP_ALG_HMAC_SHA256;
	n.auth.len = 32;
	n.records = &notify_rec;
	size_t len;
	int ret = map_notify_encode(&n, out, sizeof(out), &len);
	if (ret == LISPMS_EOK)
		ret = auth_sign(actx, &keys[1], out, len);
	sink += out[20];
	return ret;
}

static int case_ecm(void)
{
	struct lisp_ecm e;
	struct lisp_map_request q;
	arena_reset(&arena);
	int ret = ecm_decode(ecm, ecm_len, &e);
	if (ret == LISPMS_EOK)
		ret = map_request_decode(e.inner, e.inner_len, &arena, &q);
	if (ret == LISPMS_EOK)
		sink += q.nonce;
	return ret;
}

static int case_bare_hmac(void)
{
	uint8_t mac[32];
	int ret = auth_hmac(actx, &keys[1], mreg, mreg_len, mac);
	sink += mac[0];
	return ret;
}

/*
 * The batch stage (src/proto/auth_mb.c) on bursts of BURST messages, as a
 * DPDK burst or a recvmmsg batch gives them: decode every Map-Register,
 * then one auth_batch_verify(); encode every Map-Notify, then one
 * auth_batch_sign(). With ipsec-mb, beside the bare multi-buffer HMAC of the
 * same bytes (the engine's limit). Times are per message.
 */
enum { BURST = 32 };

static struct auth_ctx *mbctx; /* the multi-buffer engine, when the build has it */

static int case_decode_batch_verify(void)
{
	struct lisp_map_register m[BURST];
	struct auth_vjob v[BURST];
	arena_reset(&arena);
	for (int i = 0; i < BURST; i++) {
		int ret = map_register_decode(mreg, mreg_len, &arena, &m[i]);
		if (ret != LISPMS_EOK)
			return ret;
		v[i] = (struct auth_vjob){
			.keys = keys, .nkeys = 2, .msg = mreg, .len = mreg_len, .auth = &m[i].auth
		};
	}
	auth_batch_verify(mbctx, v, BURST);
	for (int i = 0; i < BURST; i++)
		if (v[i].ret != LISPMS_EOK)
			return v[i].ret;
	return LISPMS_EOK;
}

/*
 * The same, the messages in the caller's own memory (a DPDK burst's
 * mbufs): verified in place, the authentication data zeroed and restored
 * rather than each message copied (auth_vjob.in_place).
 */
static uint8_t mreg_w[BURST][512];

static int case_decode_batch_verify_in_place(void)
{
	struct lisp_map_register m[BURST];
	struct auth_vjob v[BURST];
	arena_reset(&arena);
	for (int i = 0; i < BURST; i++) {
		int ret = map_register_decode(mreg_w[i], mreg_len, &arena, &m[i]);
		if (ret != LISPMS_EOK)
			return ret;
		v[i] = (struct auth_vjob){ .keys = keys,
					   .nkeys = 2,
					   .msg = mreg_w[i],
					   .len = mreg_len,
					   .auth = &m[i].auth,
					   .in_place = true };
	}
	auth_batch_verify(mbctx, v, BURST);
	for (int i = 0; i < BURST; i++)
		if (v[i].ret != LISPMS_EOK)
			return v[i].ret;
	return LISPMS_EOK;
}

static int case_decode_batch1_verify(void)
{
	struct lisp_map_register m;
	arena_reset(&arena);
	int ret = map_register_decode(mreg, mreg_len, &arena, &m);
	if (ret != LISPMS_EOK)
		return ret;
	struct auth_vjob v = {
		.keys = keys, .nkeys = 2, .msg = mreg, .len = mreg_len, .auth = &m.auth
	};
	auth_batch_verify(mbctx, &v, 1);
	return v.ret;
}

static uint8_t notify_out[BURST][512];

static int case_notify_encode(void)
{
	struct lisp_map_notify n = { .type = LISP_MSG_MAP_NOTIFY, .nonce = sink, .nrecords = 1 };
	n.auth.key_id = 1;
	n.auth.alg_id = LISP_ALG_HMAC_SHA256;
	n.auth.len = 32;
	n.records = &notify_rec;
	size_t len;
	int ret = map_notify_encode(&n, out, sizeof(out), &len);
	sink += out[20];
	return ret;
}

static int case_notify_batch_sign(void)
{
	struct auth_sjob s[BURST];
	for (int i = 0; i < BURST; i++) {
		struct lisp_map_notify n = { .type = LISP_MSG_MAP_NOTIFY,
					     .nonce = sink + (uint64_t)i,
					     .nrecords = 1 };
		n.auth.key_id = 1;
		n.auth.alg_id = LISP_ALG_HMAC_SHA256;
		n.auth.len = 32;
		n.records = &notify_rec;
		size_t len;
		int ret = map_notify_encode(&n, notify_out[i], sizeof(notify_out[i]), &len);
		if (ret != LISPMS_EOK)
			return ret;
		s[i] = (struct auth_sjob){ .key = &keys[1], .msg = notify_out[i], .len = len };
	}
	auth_batch_sign(mbctx, s, BURST);
	sink += notify_out[0][20];
	for (int i = 0; i < BURST; i++)
		if (s[i].ret != LISPMS_EOK)
			return s[i].ret;
	return LISPMS_EOK;
}

#if LISPMS_HAVE_IPSEC_MB
#include <intel-ipsec-mb.h>

static IMB_MGR *bare_mgr, *bare_narrow;
static IMB_JOB bare_jobs[BURST];
static uint8_t bare_tag[BURST][32];

/*
 * What the engine cannot beat: one hash burst of the Map-Register's bytes,
 * with the manager init_mb_mgr_auto() picks (AVX-512 lanes where the CPU
 * has them) and with the AVX2 one (SHA-NI where the CPU has it); the
 * faster of the two is the bare figure.
 */
static int bare_burst(IMB_MGR *mgr)
{
	for (int i = 0; i < BURST; i++) {
		IMB_JOB *j = &bare_jobs[i];
		j->src = mreg;
		j->hash_start_src_offset_in_bytes = 0;
		j->msg_len_to_hash_in_bytes = mreg_len;
		j->auth_tag_output = bare_tag[i];
		j->auth_tag_output_len_in_bytes = 32;
		j->u.HMAC._hashed_auth_key_xor_ipad = keys[1].istate;
		j->u.HMAC._hashed_auth_key_xor_opad = keys[1].ostate;
		j->hash_alg = IMB_AUTH_HMAC_SHA_256;
		j->cipher_mode = IMB_CIPHER_NULL;
		j->chain_order = IMB_ORDER_HASH_CIPHER;
	}
	uint32_t n = IMB_SUBMIT_HASH_BURST(mgr, bare_jobs, BURST, IMB_AUTH_HMAC_SHA_256);
	sink += bare_tag[0][0];
	return n == BURST ? LISPMS_EOK : LISPMS_EINTERNAL;
}

static int case_bare_mb(void)
{
	return bare_burst(bare_mgr);
}

static int case_bare_mb_narrow(void)
{
	return bare_burst(bare_narrow);
}
#endif

/* The EVP alternatives to auth.c's approach, timed on the same bytes. */
static EVP_MD_CTX *evp_inner, *evp_outer, *evp_work;
static EVP_MAC_CTX *mac_keyed, *mac_reuse;

static int case_evp_copy(void)
{
	uint8_t in[32], mac[32];
	unsigned n;
	int ok = EVP_MD_CTX_copy_ex(evp_work, evp_inner) &&
		 EVP_DigestUpdate(evp_work, mreg, mreg_len) &&
		 EVP_DigestFinal_ex(evp_work, in, &n) && EVP_MD_CTX_copy_ex(evp_work, evp_outer) &&
		 EVP_DigestUpdate(evp_work, in, n) && EVP_DigestFinal_ex(evp_work, mac, &n);
	sink += mac[0];
	return ok ? LISPMS_EOK : LISPMS_EINTERNAL;
}

static int case_evp_mac_dup(void)
{
	uint8_t mac[32];
	size_t n;
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(mac_keyed);
	int ok = c && EVP_MAC_update(c, mreg, mreg_len) && EVP_MAC_final(c, mac, &n, sizeof(mac));
	EVP_MAC_CTX_free(c);
	sink += mac[0];
	return ok ? LISPMS_EOK : LISPMS_EINTERNAL;
}

static int case_evp_mac_reinit(void)
{
	uint8_t mac[32];
	size_t n;
	int ok = EVP_MAC_init(mac_reuse, NULL, 0, NULL) &&
		 EVP_MAC_update(mac_reuse, mreg, mreg_len) &&
		 EVP_MAC_final(mac_reuse, mac, &n, sizeof(mac));
	sink += mac[0];
	return ok ? LISPMS_EOK : LISPMS_EINTERNAL;
}

static void evp_setup(void)
{
	uint8_t pad[64];
	evp_inner = EVP_MD_CTX_new();
	evp_outer = EVP_MD_CTX_new();
	evp_work = EVP_MD_CTX_new();
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
	memset(pad, 0x36, sizeof(pad));
	for (int i = 0; i < 6; i++)
		pad[i] ^= (uint8_t) "secret"[i];
	if (!EVP_DigestInit_ex2(evp_inner, md, NULL) || !EVP_DigestUpdate(evp_inner, pad, 64))
		die("EVP digest setup");
	memset(pad, 0x5c, sizeof(pad));
	for (int i = 0; i < 6; i++)
		pad[i] ^= (uint8_t) "secret"[i];
	if (!EVP_DigestInit_ex2(evp_outer, md, NULL) || !EVP_DigestUpdate(evp_outer, pad, 64))
		die("EVP digest setup");
	EVP_MD_free(md);

	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	char digest[] = "SHA256";
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
				OSSL_PARAM_construct_end() };
	mac_keyed = EVP_MAC_CTX_new(mac);
	mac_reuse = EVP_MAC_CTX_new(mac);
	if (!EVP_MAC_init(mac_keyed, (const uint8_t *)"secret", 6, params) ||
	    !EVP_MAC_init(mac_reuse, (const uint8_t *)"secret", 6, params))
		die("EVP_MAC setup");
	EVP_MAC_free(mac);
}

struct bench_case {
	const char *name;
	int (*fn)(void);
	size_t msg_bytes;
	unsigned msgs;	       /* messages per call (a burst), 0: 1 */
	double batch_ns[4096]; /* ns per message of each batch */
	unsigned nbatches;
	uint64_t ops;
	unsigned long allocs;
	uint64_t heap;
	size_t arena_high;
};

static const char *only; /* --case */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/*
 * The cases run interleaved, one batch of each per round, so that load from
 * other processes on the machine hits all of them alike; a case's rate is
 * the median of its batches (the minimum is printed too).
 */
static void run_all(struct bench_case *cases, size_t n, double seconds)
{
	enum { BATCH = 2000 }; /* messages per timed batch, so every case is exposed alike */
	for (size_t k = 0; k < n; k++)
		for (int i = 0; i < 1000; i++)
			if (cases[k].fn() != LISPMS_EOK)
				die(cases[k].name);
	double end = now() + seconds * (double)n;
	for (unsigned round = 0; round < 4096 && now() < end; round++) {
		for (size_t k = 0; k < n; k++) {
			struct bench_case *c = &cases[k];
			unsigned long a0 = openssl_allocs;
			uint64_t h0 = heap_bytes();
			unsigned per = c->msgs ? c->msgs : 1, calls = BATCH / per;
			arena.high = 0;
			double t0 = now();
			for (unsigned i = 0; i < calls; i++)
				c->fn();
			double dt = now() - t0;
			c->heap += heap_bytes() - h0;
			c->allocs += openssl_allocs - a0;
			if (arena.high > c->arena_high)
				c->arena_high = arena.high;
			c->batch_ns[c->nbatches++] = dt * 1e9 / calls / per;
			c->ops += (uint64_t)calls * per;
		}
	}
	for (size_t k = 0; k < n; k++) {
		struct bench_case *c = &cases[k];
		qsort(c->batch_ns, c->nbatches, sizeof(double), cmp_double);
		double median = c->batch_ns[c->nbatches / 2];
		char heap[32] = "null"; /* not measurable without jemalloc */
		if (LISPMS_HAVE_JEMALLOC)
			snprintf(heap, sizeof(heap), "%.3f", (double)c->heap / (double)c->ops);
		printf("{\"bench\":\"codec\",\"case\":\"%s\",\"ops\":%llu,\"ops_per_sec\":%.0f,"
		       "\"ns_per_op\":%.1f,\"ns_per_op_min\":%.1f,\"msg_bytes\":%zu,"
		       "\"openssl_allocs_per_op\":%.3f,\"heap_bytes_per_op\":%s,"
		       "\"arena_bytes_per_msg\":%zu}\n",
		       c->name, (unsigned long long)c->ops, 1e9 / median, median, c->batch_ns[0],
		       c->msg_bytes, (double)c->allocs / (double)c->ops, heap, c->arena_high);
	}
	fflush(stdout);
}

/* The calls callgrind counts (--toggle-collect=codec_measure). */
__attribute__((noinline)) void codec_measure(struct bench_case *c, unsigned long calls);
__attribute__((noinline)) void codec_measure(struct bench_case *c, unsigned long calls)
{
	for (unsigned long i = 0; i < calls; i++)
		c->fn();
}

static void count_all(struct bench_case *cases, size_t n, unsigned long calls)
{
	for (size_t k = 0; k < n; k++) {
		struct bench_case *c = &cases[k];
		for (int i = 0; i < 100; i++)
			if (c->fn() != LISPMS_EOK)
				die(c->name);
		codec_measure(c, calls);
		printf("{\"bench\":\"codec\",\"case\":\"%s\",\"calls\":%lu,\"msgs\":%lu,"
		       "\"msg_bytes\":%zu}\n",
		       c->name, calls, calls * (c->msgs ? c->msgs : 1), c->msg_bytes);
	}
	fflush(stdout);
}

static double median_ns(const struct bench_case *c)
{
	return c->batch_ns[c->nbatches / 2];
}

int main(int argc, char **argv)
{
	double seconds = 2.0;
	int cpu = -1;
	unsigned long calls = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--cpu") == 0 && i + 1 < argc)
			cpu = atoi(argv[++i]);
		else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strcmp(argv[i], "--calls") == 0 && i + 1 < argc)
			calls = strtoul(argv[++i], NULL, 10);
		else
			die("usage: bench_codec [--seconds S] [--cpu N] [--case NAME] [--calls N]");
	}
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
		die("CRYPTO_set_mem_functions (OpenSSL allocated before main)");
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			die("sched_setaffinity");
	}
	mreg_len = unhex(mreg_hex, mreg, sizeof(mreg));
	for (int i = 0; i < BURST; i++)
		memcpy(mreg_w[i], mreg, mreg_len);
	ecm_len = unhex(ecm_hex, ecm, sizeof(ecm));
	actx = auth_ctx_new();
	mbctx = auth_ctx_new();
	if (actx == NULL || mbctx == NULL || arena_init(&arena, 64 * 1024) != LISPMS_EOK ||
	    auth_key_init(&keys[0], 0, LISP_ALG_HMAC_SHA256, "old-key", 7) != LISPMS_EOK ||
	    auth_key_init(&keys[1], 1, LISP_ALG_HMAC_SHA256, "secret", 6) != LISPMS_EOK)
		die("setup");
	struct lisp_map_register m;
	if (map_register_decode(mreg, mreg_len, &arena, &m) != LISPMS_EOK)
		die("reference Map-Register");
	static struct lisp_locator loc;
	notify_rec = m.records[0];
	loc = m.records[0].locs[0];
	notify_rec.locs = &loc;
	evp_setup();

	bool engine = auth_ctx_use_mb(mbctx, true);
	auth_ctx_use_mb(actx, false); /* the one-message cases: OpenSSL as before */
#if LISPMS_HAVE_IPSEC_MB
	bare_mgr = alloc_mb_mgr(0);
	if (bare_mgr == NULL)
		die("alloc_mb_mgr");
	init_mb_mgr_auto(bare_mgr, NULL);
	bare_narrow = alloc_mb_mgr(0);
	if (bare_narrow == NULL)
		die("alloc_mb_mgr");
	init_mb_mgr_avx2(bare_narrow);
	if (imb_get_errno(bare_narrow) != 0)
		init_mb_mgr_auto(bare_narrow, NULL); /* no AVX2: the same as the other */
#endif
	static struct bench_case all[] = {
		{ .name = "map_register_decode", .fn = case_decode },
		{ .name = "map_register_decode_hmac_sha256", .fn = case_decode_verify },
		{ .name = "map_notify_encode_sign_hmac_sha256", .fn = case_notify_sign },
		{ .name = "ecm_map_request_decode", .fn = case_ecm },
		{ .name = "hmac_sha256_bare", .fn = case_bare_hmac },
		{ .name = "hmac_sha256_evp_md_ctx_copy", .fn = case_evp_copy },
		{ .name = "hmac_sha256_evp_mac_dup", .fn = case_evp_mac_dup },
		{ .name = "hmac_sha256_evp_mac_reinit", .fn = case_evp_mac_reinit },
		{ .name = "map_notify_encode", .fn = case_notify_encode },
		{ .name = "map_register_decode_batch_verify_sha256",
		  .fn = case_decode_batch_verify,
		  .msgs = BURST },
		{ .name = "map_notify_encode_batch_sign_sha256",
		  .fn = case_notify_batch_sign,
		  .msgs = BURST },
		{ .name = "map_register_decode_batch1_verify_sha256",
		  .fn = case_decode_batch1_verify },
		{ .name = "map_register_decode_batch_verify_in_place_sha256",
		  .fn = case_decode_batch_verify_in_place,
		  .msgs = BURST },
#if LISPMS_HAVE_IPSEC_MB
		{ .name = "hmac_sha256_mb_bare", .fn = case_bare_mb, .msgs = BURST },
		{ .name = "hmac_sha256_mb_bare_avx2", .fn = case_bare_mb_narrow, .msgs = BURST },
#endif
	};
	enum {
		DECODE,
		AUTH,
		NOTIFY,
		ECM,
		BARE,
		COPY,
		DUP,
		REINIT,
		ENCODE,
		BVERIFY,
		BSIGN,
		B1,
		BVIP
	};
	enum { NCASES = sizeof(all) / sizeof(all[0]) };
	all[DECODE].msg_bytes = all[AUTH].msg_bytes = all[BARE].msg_bytes = mreg_len;
	all[COPY].msg_bytes = all[DUP].msg_bytes = all[REINIT].msg_bytes = mreg_len;
	all[BVERIFY].msg_bytes = all[B1].msg_bytes = all[BVIP].msg_bytes = mreg_len;
	all[NOTIFY].msg_bytes = all[ENCODE].msg_bytes = all[BSIGN].msg_bytes = 88;
	all[ECM].msg_bytes = ecm_len;
	if (NCASES > BVIP + 2)
		all[BVIP + 1].msg_bytes = all[BVIP + 2].msg_bytes = mreg_len;
	if (only != NULL || calls > 0) {
		for (size_t k = 0; k < NCASES; k++) {
			if (only != NULL && strcmp(all[k].name, only) != 0)
				continue;
			if (calls > 0)
				count_all(&all[k], 1, calls);
			else
				run_all(&all[k], 1, seconds);
		}
		return 0;
	}
	run_all(all, NCASES, seconds);
	double bare = median_ns(&all[BARE]);
	printf("{\"bench\":\"codec\",\"case\":\"summary\",\"decode_ns\":%.1f,"
	       "\"auth_decode_vs_bare_hmac\":%.3f,\"target\":0.80,"
	       "\"evp_md_ctx_copy_vs_bare\":%.3f,\"evp_mac_dup_vs_bare\":%.3f,"
	       "\"evp_mac_reinit_vs_bare\":%.3f,\"allocator\":\"%s\",\"openssl\":\"%s\"}\n",
	       median_ns(&all[DECODE]), bare / median_ns(&all[AUTH]), bare / median_ns(&all[COPY]),
	       bare / median_ns(&all[DUP]), bare / median_ns(&all[REINIT]),
	       LISPMS_HAVE_JEMALLOC ? "jemalloc" : "libc", OpenSSL_version(OPENSSL_VERSION));
	/*
	 * The batch stage: its HMAC share (decode or encode taken out) per
	 * message against the bare multi-buffer HMAC (aim: within 1.2x), and
	 * the whole authenticated decode / encode + sign against OpenSSL's.
	 */
	double verify_auth = median_ns(&all[BVERIFY]) - median_ns(&all[DECODE]);
	double sign_auth = median_ns(&all[BSIGN]) - median_ns(&all[ENCODE]);
	double vip_auth = median_ns(&all[BVIP]) - median_ns(&all[DECODE]);
	char bare_mb[32] = "null", vs_bare_v[32] = "null", vs_bare_s[32] = "null";
	char vs_bare_vip[32] = "null";
	if (NCASES > BVIP + 2) {
		double b = median_ns(&all[BVIP + 1]);
		if (median_ns(&all[BVIP + 2]) < b)
			b = median_ns(&all[BVIP + 2]);
		snprintf(bare_mb, sizeof(bare_mb), "%.1f", b);
		snprintf(vs_bare_v, sizeof(vs_bare_v), "%.3f", verify_auth / b);
		snprintf(vs_bare_s, sizeof(vs_bare_s), "%.3f", sign_auth / b);
		snprintf(vs_bare_vip, sizeof(vs_bare_vip), "%.3f", vip_auth / b);
	}
	printf("{\"bench\":\"codec\",\"case\":\"batch_summary\",\"engine\":\"%s\","
	       "\"burst\":%d,\"batch_verify_hmac_ns\":%.1f,\"batch_sign_hmac_ns\":%.1f,"
	       "\"batch_verify_in_place_hmac_ns\":%.1f,"
	       "\"bare_mb_hmac_ns\":%s,\"batch_verify_vs_bare_mb\":%s,"
	       "\"batch_verify_in_place_vs_bare_mb\":%s,\"batch_sign_vs_bare_mb\":%s,\"target_vs_"
	       "bare_mb\":1.2,"
	       "\"decode_verify_openssl_vs_batch\":%.3f,\"encode_sign_openssl_vs_batch\":%.3f,"
	       "\"decode_verify_batch1_vs_openssl\":%.3f}\n",
	       engine ? "ipsec-mb" : "openssl", BURST, verify_auth, sign_auth, vip_auth, bare_mb,
	       vs_bare_v, vs_bare_vip, vs_bare_s, median_ns(&all[AUTH]) / median_ns(&all[BVERIFY]),
	       median_ns(&all[NOTIFY]) / median_ns(&all[BSIGN]),
	       median_ns(&all[B1]) / median_ns(&all[AUTH]));
	auth_ctx_free(mbctx);
#if LISPMS_HAVE_IPSEC_MB
	free_mb_mgr(bare_mgr);
	free_mb_mgr(bare_narrow);
#endif
	auth_ctx_free(actx);
	arena_deinit(&arena);
	return 0;
}
