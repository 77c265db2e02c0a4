/* SPDX-License-Identifier: MIT */
/*
 * lispms-bench: load and fabric simulator for LISP Map-Servers.
 *
 *   lispms-bench echo-server [--listen ADDR]... [--port P] [--workers N]
 *       a trivial UDP echo responder on the same worker code as lispmsd: the
 *       ceiling a map-server's request/response rate is compared with
 *   lispms-bench echo --server ADDR:PORT [load options]
 *       raw request/response load (payload echoed back)
 *   lispms-bench register --server ADDR:PORT [lisp options] [load options]
 *       Map-Registers (HMAC-SHA-256, M bit) answered by Map-Notifies: N ETRs
 *       (one xTR-ID and locator each) with M EIDs each, [IID] 10.0.0.0/8 /32s
 *   lispms-bench request --server ADDR:PORT [lisp options] [load options]
 *       ECM Map-Requests for those EIDs answered by Map-Replies
 *
 *       with --mix R:U:N: registered, configured-unregistered and unknown EIDs,
 *       replies counted by kind (positive, negative TTL 1, negative TTL 15)
 *
 *   lispms-bench fabric --server ADDR:PORT [fabric options]   (alias: sessions)
 *       N simulated ETRs with M EIDs each on UDP soft state, reliable transport
 *       or a mix: convergence, idle traffic, mobility, churn, reconnection;
 *       with --subscribers N --subscribe '[IID] PREFIX'|each, publish/subscribe
 *       subscribers (UDP or on the first N ETRs' sessions) checking every
 *       publication's HMAC, order and completeness, and timing each move to
 *       its publication
 *   lispms-bench lig '[IID] EID' --server ADDR [--port P] [--timeout-ms MS]
 *       one ECM Map-Request, the Map-Reply printed for a person
 *
 * LISP options: --etrs N (default 100) --eids-per-etr M (default 1000)
 *   --iid I (1000) --iids K (1) --family ipv4|ipv6|mac --key-id K (1)
 *   --alg sha1|sha256 --secret S ("bench") --mix R:U:N (request only)
 *
 * Load options: --threads T --sockets S --window W --duration SEC --count N
 *   --rate R --sources N (spread source addresses over 127.0.0.1..) --size BYTES
 *   --timeout-ms MS --json --progress
 *
 * `lispms-bench fabric --help` lists the fabric options.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <getopt.h>

#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/net.h>
#include <lispms/proto.h>
#include <lispms/thread.h>

#include "args.h"
#include "layout.h"
#include "lig.h"
#include "load.h"
#include "sessions.h"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void usage(FILE *f)
{
	fputs("usage: lispms-bench echo-server [--listen ADDR]... [--port P] [--workers N]\n"
	      "       lispms-bench register|request --server ADDR:PORT [--etrs N]\n"
	      "                    [--eids-per-etr M] [--iid I] [--iids K] [--family F]\n"
	      "                    [--key-id K] [--alg A] [--secret S] [--mix R:U:N] [load]\n"
	      "       lispms-bench fabric|sessions --server ADDR:PORT [options] (--help)\n"
	      "       lispms-bench lig '[IID] EID' --server ADDR [--port P] [--timeout-ms MS]\n"
	      "       lispms-bench echo --server ADDR:PORT [--threads T] [--sockets S]\n"
	      "                    [--window W] [--duration SEC] [--count N] [--sources N]\n"
	      "                    [--size BYTES] [--timeout-ms MS] [--json] [--progress]\n",
	      f);
}

static void echo_batch(void *arg, const struct dgram *rx, unsigned n, struct dgram_outbox *out)
{
	(void)arg;
	for (unsigned i = 0; i < n; i++) {
		struct dgram_out *tx = dgram_outbox_add(out, rx[i].len);
		if (tx == NULL)
			return;
		memcpy((uint8_t *)tx->data, rx[i].data, rx[i].len);
		tx->dst = rx[i].src;
		tx->src = rx[i].local;
	}
}

static int cmd_echo_server(int argc, char **argv)
{
	struct sockaddr_storage addrs[8];
	unsigned naddrs = 0, workers = 1, port = 4342;
	static const struct option opts[] = { { "listen", required_argument, NULL, 'l' },
					      { "port", required_argument, NULL, 'p' },
					      { "workers", required_argument, NULL, 'w' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "l:p:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (naddrs == 8 || saddr_parse(optarg, &addrs[naddrs]) != LISPMS_EOK) {
				fprintf(stderr, "echo-server: bad --listen %s\n", optarg);
				return 2;
			}
			naddrs++;
			break;
		case 'p':
			port = (unsigned)atoi(optarg);
			break;
		case 'w':
			workers = (unsigned)atoi(optarg);
			break;
		default:
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (naddrs == 0)
		saddr_parse("127.0.0.1", &addrs[naddrs++]);
	if (workers == 0 || workers > 64 || port == 0 || port > 65535) {
		fprintf(stderr, "echo-server: bad --workers or --port\n");
		return 2;
	}
	thread_register("main");
	struct net_worker *w[64];
	struct net_worker_conf conf = { .addrs = addrs,
					.naddrs = naddrs,
					.port = (uint16_t)port,
					.cpu = -1,
					.handler = echo_batch };
	char err[160];
	for (unsigned i = 0; i < workers; i++) {
		w[i] = net_worker_new(&conf, err, sizeof(err));
		if (w[i] == NULL) {
			fprintf(stderr, "echo-server: %s\n", err);
			return 1;
		}
		net_worker_start(w[i], "echo");
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "echo-server: %u workers on port %u\n", workers, port);
	while (!got_signal)
		pause();
	for (unsigned i = 0; i < workers; i++)
		net_worker_free(w[i]);
	return 0;
}

struct raw_arg {
	size_t size;
};

static size_t raw_build(void *arg, unsigned thread, uint64_t seq, uint64_t token,
			const struct sockaddr_storage *src, uint8_t *buf, size_t cap)
{
	const struct raw_arg *a = arg;
	(void)thread;
	(void)seq;
	(void)src;
	size_t n = a->size < 8 ? 8 : a->size;
	if (n > cap)
		return 0;
	memcpy(buf, &token, 8);
	memset(buf + 8, 0x5a, n - 8);
	return n;
}

static bool raw_token(void *arg, const uint8_t *reply, size_t len, uint64_t *token, unsigned *kind)
{
	(void)arg;
	(void)kind;
	if (len < 8)
		return false;
	memcpy(token, reply, 8);
	return true;
}

/* Parse the options every load command shares; returns optind or -1. */
static int load_options(int argc, char **argv, struct load_conf *lc, bool *json, size_t *size)
{
	static const struct option opts[] = { { "server", required_argument, NULL, 's' },
					      { "threads", required_argument, NULL, 't' },
					      { "sockets", required_argument, NULL, 'S' },
					      { "window", required_argument, NULL, 'W' },
					      { "duration", required_argument, NULL, 'd' },
					      { "count", required_argument, NULL, 'n' },
					      { "sources", required_argument, NULL, 'a' },
					      { "size", required_argument, NULL, 'z' },
					      { "timeout-ms", required_argument, NULL, 'T' },
					      { "json", no_argument, NULL, 'j' },
					      { "progress", no_argument, NULL, 'P' },
					      { "rate", required_argument, NULL, 'r' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	bool have_server = false;
	int c;
	while ((c = getopt_long(argc, argv, "s:t:S:W:d:n:a:z:T:jPr:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (args_hostport(optarg, &lc->dst) != LISPMS_EOK) {
				fprintf(stderr, "bad --server %s (want ADDR:PORT)\n", optarg);
				return -1;
			}
			have_server = true;
			break;
		case 't':
			lc->threads = (unsigned)atoi(optarg);
			break;
		case 'S':
			lc->sockets = (unsigned)atoi(optarg);
			break;
		case 'W':
			lc->window = (unsigned)atoi(optarg);
			break;
		case 'd':
			lc->duration = atof(optarg);
			break;
		case 'n':
			lc->count = strtoull(optarg, NULL, 10);
			break;
		case 'a':
			lc->src_count = (unsigned)atoi(optarg);
			break;
		case 'z':
			*size = (size_t)atoi(optarg);
			break;
		case 'T':
			lc->timeout_ms = (unsigned)atoi(optarg);
			break;
		case 'j':
			*json = true;
			break;
		case 'P':
			lc->progress = true;
			break;
		case 'r':
			lc->rate = atof(optarg);
			break;
		default:
			usage(c == 'h' ? stdout : stderr);
			return -1;
		}
	}
	if (!have_server) {
		fprintf(stderr, "--server ADDR:PORT is required\n");
		return -1;
	}
	if (lc->duration > 3600 || lc->threads > 64 || lc->sockets > 4096 || lc->rate < 0) {
		fprintf(stderr,
			"load bounds: --duration <= 3600, --threads <= 64, --sockets <= 4096\n");
		return -1;
	}
	return optind;
}

struct lisp_arg {
	unsigned etrs;
	unsigned eids_per_etr;
	struct layout layout;
	struct args_mix mix;
	bool have_mix;
	unsigned threads; /* load threads: seq * threads + thread enumerates every EID */
	struct auth_key key;
	struct auth_ctx *auth[64]; /* one per load thread */
};

/* Reply kinds of `request --mix`. */
enum reply_kind { RK_POSITIVE, RK_NEG_TTL1, RK_NEG_TTL15, RK_NEG_OTHER, RK_COUNT };
static const char *const reply_kind_names[RK_COUNT] = { "positive", "negative_ttl1",
							"negative_ttl15", "negative_other" };

/* EID number i of the layout (registered). */
static void bench_eid(const struct lisp_arg *a, uint64_t i, struct eid_prefix *p)
{
	layout_eid(&a->layout, LAYOUT_REGISTERED, i % (a->etrs * (uint64_t)a->eids_per_etr), p);
}

static size_t register_build(void *arg, unsigned thread, uint64_t seq, uint64_t token,
			     const struct sockaddr_storage *src, uint8_t *buf, size_t cap)
{
	struct lisp_arg *a = arg;
	(void)src;
	uint64_t n = (uint64_t)a->etrs * a->eids_per_etr;
	uint64_t i = (seq * a->threads + thread) % n; /* every EID once per pass */
	unsigned etr = (unsigned)(i / a->eids_per_etr);
	struct eid_prefix p;
	bench_eid(a, i, &p);
	struct lisp_locator loc = {
		.priority = 1, .weight = 100, .mpriority = 255, .flags = LISP_LOC_L | LISP_LOC_R
	};
	/* a loopback locator per ETR: nothing the server sends it leaves the machine */
	struct lisp_addr rloc = { .afi = LISP_AFI_IPV4,
				  .bytes = { 127, 3, (uint8_t)(etr >> 8), (uint8_t)etr } };
	afi_from_addr(&rloc, &loc.addr);
	struct lisp_record rec = { .ttl = 3, .a = 1, .eid_plen = p.plen, .nlocs = 1, .locs = &loc };
	afi_from_eid(&p, &rec.eid);
	struct lisp_map_register m = {
		.flags = LISP_MREG_M | LISP_MREG_P | LISP_MREG_I,
		.nonce = token,
		.auth = { .key_id = a->key.key_id,
			  .alg_id = a->key.alg_id,
			  .len = (uint16_t)auth_alg_len(a->key.alg_id) },
		.nrecords = 1,
		.records = &rec,
		.site_id = 1,
	};
	memcpy(m.xtr_id, &etr, sizeof(etr));
	size_t len;
	if (map_register_encode(&m, buf, cap, &len) != LISPMS_EOK ||
	    auth_sign(a->auth[thread], &a->key, buf, len) != LISPMS_EOK)
		return 0;
	return len;
}

static size_t request_build(void *arg, unsigned thread, uint64_t seq, uint64_t token,
			    const struct sockaddr_storage *src, uint8_t *buf, size_t cap)
{
	struct lisp_arg *a = arg;
	uint64_t n = (uint64_t)a->etrs * a->eids_per_etr;
	struct eid_prefix p;
	/* a prime stride scatters the requests over the table (a permutation
	 * unless n is a multiple of 7919) */
	uint64_t k = seq * a->threads + thread, i = k * 7919 % n;
	if (!a->have_mix) {
		bench_eid(a, i, &p);
	} else { /* the kind of EID by weight, in a fixed order */
		const struct args_mix *m = &a->mix;
		uint64_t w = k % (m->registered + m->unregistered + m->unknown);
		enum layout_kind kind = w < m->registered		      ? LAYOUT_REGISTERED
					: w < m->registered + m->unregistered ? LAYOUT_UNREGISTERED
									      : LAYOUT_UNKNOWN;
		layout_eid(&a->layout, kind, i, &p);
	}
	struct lisp_addr itr = { .afi =
				     src->ss_family == AF_INET6 ? LISP_AFI_IPV6 : LISP_AFI_IPV4 };
	if (src->ss_family == AF_INET6)
		memcpy(itr.bytes, &((const struct sockaddr_in6 *)src)->sin6_addr, 16);
	else
		memcpy(itr.bytes, &((const struct sockaddr_in *)src)->sin_addr, 4);
	struct afi_addr itr_rloc;
	afi_from_addr(&itr, &itr_rloc);
	struct lisp_request_record rec = { .eid_plen = p.plen };
	afi_from_eid(&p, &rec.eid);
	struct lisp_map_request req = {
		.nonce = token, .nitr = 1, .itr_rlocs = &itr_rloc, .nrecords = 1, .records = &rec
	};
	uint8_t inner[256];
	size_t ilen, len;
	if (map_request_encode(&req, inner, sizeof(inner), &ilen) != LISPMS_EOK)
		return 0;
	struct lisp_ecm e = { .ip_version = itr.afi == LISP_AFI_IPV6 ? 6 : 4,
			      .ttl = 64,
			      .src = itr,
			      .dst = itr,
			      .sport = saddr_port(src),
			      .dport = 4342,
			      .inner = inner,
			      .inner_len = ilen };
	if (ecm_encode(&e, buf, cap, &len) != LISPMS_EOK)
		return 0;
	return len;
}

/*
 * Replies carry the request's nonce in bytes 4..11 (Map-Notify, Map-Reply).
 * Without a mix a Map-Reply counts only when positive (its first record has
 * locators, byte 16): a negative reply means the EID was not registered.
 * With a mix every Map-Reply counts, by kind.
 */
static bool lisp_token(void *arg, const uint8_t *reply, size_t len, uint64_t *token, unsigned *kind)
{
	const struct lisp_arg *a = arg;
	int type = msg_type(reply, len);
	if (len < 12 || (type != LISP_MSG_MAP_NOTIFY && type != LISP_MSG_MAP_REPLY))
		return false;
	if (type == LISP_MSG_MAP_REPLY && (len < 17 || reply[16] == 0) && !a->have_mix)
		return false;
	if (type == LISP_MSG_MAP_REPLY && a->have_mix) {
		/* the decoder reads the TTL and locator count of the first record */
		struct wire w = wire_init_ro(reply, len);
		wire_skip(&w, 12);
		uint32_t ttl = wire_read_u32(&w);
		uint8_t nlocs = wire_read_u8(&w);
		if (!wire_ok(&w))
			return false;
		*kind = nlocs	    ? RK_POSITIVE
			: ttl == 1  ? RK_NEG_TTL1
			: ttl == 15 ? RK_NEG_TTL15
				    : RK_NEG_OTHER;
	}
	uint64_t v = 0;
	for (int i = 4; i < 12; i++)
		v = v << 8 | reply[i];
	*token = v;
	return true;
}

static int cmd_lisp(int argc, char **argv, bool reg)
{
	static struct lisp_arg la = { .etrs = 100,
				      .eids_per_etr = 1000,
				      .layout = { .afi = LISP_AFI_IPV4, .iid = 1000, .iids = 1 } };
	const char *secret = "bench";
	unsigned key_id = 1;
	uint8_t alg = LISP_ALG_HMAC_SHA256;
	bool bad = false;
	/* LISP options first, load options after (getopt_long stops at unknown ones) */
	int i = 1;
	for (; i + 1 < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];
		if (strcmp(o, "--etrs") == 0)
			la.etrs = (unsigned)atoi(v);
		else if (strcmp(o, "--eids-per-etr") == 0)
			la.eids_per_etr = (unsigned)atoi(v);
		else if (strcmp(o, "--iid") == 0)
			la.layout.iid = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(o, "--iids") == 0)
			la.layout.iids = (unsigned)atoi(v);
		else if (strcmp(o, "--family") == 0)
			bad |= args_family(v, &la.layout.afi) != LISPMS_EOK;
		else if (strcmp(o, "--key-id") == 0)
			key_id = (unsigned)atoi(v);
		else if (strcmp(o, "--alg") == 0)
			bad |= args_alg(v, &alg) != LISPMS_EOK;
		else if (strcmp(o, "--secret") == 0)
			secret = v;
		else if (strcmp(o, "--mix") == 0 && !reg)
			bad |= (la.have_mix = args_mix(v, &la.mix) == LISPMS_EOK) == false;
		else
			break;
	}
	argv[i - 1] = argv[0];
	argc -= i - 1;
	argv += i - 1;
	la.layout.per = la.eids_per_etr;
	if (bad || la.etrs == 0 || la.eids_per_etr == 0 || la.etrs > 60000 || key_id > 255 ||
	    la.layout.iids == 0 || (uint64_t)la.etrs * la.eids_per_etr > LAYOUT_MAX_EIDS) {
		fprintf(stderr,
			"bad --etrs, --eids-per-etr (at most %u EIDs), --iids, --family, "
			"--key-id, --alg or --mix\n",
			LAYOUT_MAX_EIDS);
		return 2;
	}
	if (auth_key_init(&la.key, (uint8_t)key_id, alg, secret, strlen(secret)) != LISPMS_EOK)
		return 2;
	struct load_conf lc = { 0 };
	bool json = false;
	size_t size = 0;
	if (load_options(argc, argv, &lc, &json, &size) < 0)
		return 2;
	la.threads = lc.threads ? lc.threads : 1;
	for (unsigned t = 0; t < 64; t++)
		la.auth[t] = auth_ctx_new();
	lc.build = reg ? register_build : request_build;
	lc.token = lisp_token;
	lc.arg = &la;
	static struct load_result res;
	int ret = load_run(&lc, &res);
	if (ret != 0) {
		fprintf(stderr, "%s: %s\n", reg ? "register" : "request", err_str(ret));
		return 1;
	}
	char line[768];
	load_json(&res, "ms_udp", reg ? "map_register" : "map_request", line, sizeof(line));
	if (json && la.have_mix) { /* the kinds go into the same object */
		size_t n = strlen(line) - 1;
		for (unsigned k = 0; k < RK_COUNT; k++)
			n +=
			    (size_t)snprintf(line + n, sizeof(line) - n, ",\"%s\":%llu",
					     reply_kind_names[k], (unsigned long long)res.kinds[k]);
		snprintf(line + n, sizeof(line) - n, "}");
	}
	if (json) {
		printf("%.*s", (int)strlen(line) - 1, line); /* without its closing brace */
		stats_cdf_json(stdout, &res.lat);
		printf("}\n");
	} else {
		printf("%s: %.0f replies/s, %llu sent, %llu received, %llu lost, p50 %.1f us, "
		       "p99 %.1f us, p999 %.1f us, max %.1f us\n",
		       reg ? "register" : "request", (double)res.received / res.seconds,
		       (unsigned long long)res.sent, (unsigned long long)res.received,
		       (unsigned long long)res.lost, (double)load_quantile(&res, 0.5) / 1e3,
		       (double)load_quantile(&res, 0.99) / 1e3,
		       (double)load_quantile(&res, 0.999) / 1e3, (double)res.lat.max_ns / 1e3);
		if (la.have_mix)
			printf("replies: positive %llu, negative TTL 1 %llu, negative TTL 15 %llu, "
			       "other negative %llu\n",
			       (unsigned long long)res.kinds[RK_POSITIVE],
			       (unsigned long long)res.kinds[RK_NEG_TTL1],
			       (unsigned long long)res.kinds[RK_NEG_TTL15],
			       (unsigned long long)res.kinds[RK_NEG_OTHER]);
	}
	return res.received > 0 ? 0 : 1;
}

static int cmd_echo(int argc, char **argv)
{
	struct load_conf lc = { 0 };
	struct raw_arg ra = { .size = 64 };
	bool json = false;
	if (load_options(argc, argv, &lc, &json, &ra.size) < 0)
		return 2;
	lc.build = raw_build;
	lc.token = raw_token;
	lc.arg = &ra;
	static struct load_result res;
	int ret = load_run(&lc, &res);
	if (ret != 0) {
		fprintf(stderr, "echo: %s\n", err_str(ret));
		return 1;
	}
	char line[512];
	load_json(&res, "udp", "echo", line, sizeof(line));
	if (json) {
		printf("%.*s", (int)strlen(line) - 1, line); /* without its closing brace */
		stats_cdf_json(stdout, &res.lat);
		printf("}\n");
	} else
		printf("echo: %.0f replies/s, %llu lost, p50 %.1f us, p99 %.1f us, max %.1f us\n",
		       (double)res.received / res.seconds, (unsigned long long)res.lost,
		       (double)load_quantile(&res, 0.5) / 1e3,
		       (double)load_quantile(&res, 0.99) / 1e3, (double)res.lat.max_ns / 1e3);
	return res.received > 0 ? 0 : 1;
}

enum {
	OPT_UDP_SERVER = 1000,
	OPT_SOURCE,
	OPT_TRANSPORT,
	OPT_TPORT,
	OPT_CA,
	OPT_CERT,
	OPT_KEY,
	OPT_QDROP,
	OPT_RAMP,
	OPT_SUBSCRIBERS,
	OPT_SUBSCRIBE,
	OPT_SUB_TRANSPORT,
	OPT_SUB_SECONDS
};

static void fabric_usage(FILE *f)
{
	fputs("usage: lispms-bench fabric --server ADDR:PORT[,ADDR:PORT...] [options]\n"
	      "  (several servers: every ETR registers with each, one session per server)\n"
	      "  --etrs N (100) --eids-per-etr M (100) --first-etr I (0: split over processes)\n"
	      "  --family ipv4|ipv6|mac --iid I (1000) --iids K (1) --locators L (1)\n"
	      "  --key-id K (1) --alg sha1|sha256 --secret S (bench)\n"
	      "  --udp-share F (0: all reliable; 1: all UDP soft state) --udp-interval SEC (60)\n"
	      "  --batch R (records per Map-Register or Registration, 100) --threads T (1)\n"
	      "  --storm (every ETR at once) [--ramp SEC (storm: ETRs start evenly over SEC)]\n"
	      "  --duration SEC (60, bound on convergence)\n"
	      "  --idle SEC  --moves N --move-rate R (10000) --move-seconds S (5)\n"
	      "  --churn N --churn-rate R (10000) --churn-seconds S (5)\n"
	      "  --hold SEC [--until-reconverged]  --json [--case NAME]  --quiet | --progress\n"
	      "  --udp-server ADDR:PORT (UDP elsewhere, e.g. a fast path)  --source ADDR (first "
	      "ETR)\n",
	      f);
	fprintf(f,
		"  --transport %s (tcp, tls, quic, sctp; auto: each ETR tries those this build\n"
		"    has, TCP then QUIC then SCTP, never TLS, and keeps the first that opens)\n"
		"  --transport-port P | NAME=P[,NAME=P...] (the sessions' port; defaults: tcp the\n"
		"    server's, tls 4344, quic 4343, sctp 9899 (UDP encapsulation)) --ca FILE\n"
		"  --cert FILE --key FILE (a client certificate, for transports with TLS)\n"
		"  --quic-drop N (QUIC: drop every Nth datagram sent, a lossy path)\n"
		"  --subscribers N (publish/subscribe, after convergence; at most %u)\n"
		"  --subscribe '[IID] PREFIX' | each (subscriber i to registered EID i)\n"
		"  --subscriber-transport udp|session (udp: from 127.4.0.1 + i, listed in the\n"
		"    server's subscribers:; session: the first N ETRs, allow-subscribe)\n"
		"  --subscribe-seconds S (30, bound on the initial state)\n",
		bench_transport_names(), SUBS_MAX);
}

/* The time series as one JSON line, case NAME_series: arrays sampled together. */
static void series_json(const struct sessions_series *ser, const char *name)
{
	printf("{\"bench\":\"fabric\",\"case\":\"%s_series\",\"interval_s\":%.3f", name,
	       ser->interval_s);
	static const char *const cols[] = { "t_s", "phase", "up", "acked", "udp_acked", "lost" };
	for (unsigned k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
		printf(",\"%s\":[", cols[k]);
		for (unsigned i = 0; i < ser->n; i++) {
			const struct sessions_sample *x = &ser->s[i];
			const char *sep = i ? "," : "";
			switch (k) {
			case 0:
				printf("%s%.2f", sep, (double)x->t_s);
				break;
			case 1:
				printf("%s\"%s\"", sep, sessions_phase_name(x->phase));
				break;
			case 2:
				printf("%s%u", sep, x->up);
				break;
			case 3:
				printf("%s%llu", sep, (unsigned long long)x->acked);
				break;
			case 4:
				printf("%s%llu", sep, (unsigned long long)x->udp_acked);
				break;
			default:
				printf("%s%llu", sep, (unsigned long long)x->lost);
			}
		}
		printf("]");
	}
	printf("}\n");
}

/* The subscribers' figures: NAME_subscribers, and NAME_lat_publication when timed. */
static void subs_json(const struct sessions_conf *sc, const struct subs_result *u, const char *name)
{
	char pfx[LISPMS_EID_STRLEN] = "each";
	if (!sc->subs->each)
		eid_prefix_format(&sc->subs->prefix, pfx, sizeof(pfx));
	printf("{\"bench\":\"fabric\",\"case\":\"%s_subscribers\",\"subscribers\":%u,"
	       "\"transport\":\"%s\",\"subscribe\":\"%s\",\"covered\":%llu,\"complete\":%u,"
	       "\"complete_s\":%.3f,\"consistent\":%u,\"stale\":%llu,\"publications\":%llu,"
	       "\"records\":%llu,\"other_records\":%llu,\"retransmitted\":%llu,"
	       "\"bad_auth\":%llu,\"bad_nonce\":%llu,\"acks_sent\":%llu,\"resubscribed\":%llu,"
	       "\"refused\":%llu,\"unsubscribed\":%u,\"timed\":%llu}\n",
	       name, u->subscribers, sc->subs->session ? "session" : "udp", pfx,
	       (unsigned long long)u->covered, u->complete, u->complete_s, u->consistent,
	       (unsigned long long)u->stale, (unsigned long long)u->publications,
	       (unsigned long long)u->records, (unsigned long long)u->other_records,
	       (unsigned long long)u->retransmitted, (unsigned long long)u->bad_auth,
	       (unsigned long long)u->bad_nonce, (unsigned long long)u->acks_sent,
	       (unsigned long long)u->resubscribed, (unsigned long long)u->refused, u->unsubscribed,
	       (unsigned long long)u->lat.count);
	const struct stats_hist *h = &u->lat;
	if (h->count == 0)
		return;
	printf("{\"bench\":\"fabric\",\"case\":\"%s_lat_publication\",\"count\":%llu,"
	       "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f",
	       name, (unsigned long long)h->count, (double)stats_quantile(h, 0.5) / 1e3,
	       (double)stats_quantile(h, 0.99) / 1e3, (double)stats_quantile(h, 0.999) / 1e3,
	       (double)h->max_ns / 1e3);
	stats_cdf_json(stdout, h);
	printf("}\n");
}

/*
 * One result, as JSON lines (case NAME, NAME_lat_*, NAME_subscribers,
 * NAME_series) or text. `extra`: JSON members put after the case ("" none:
 * one server), e.g. "\"server\":\"127.0.0.1:4342\"," for one of several.
 */
static void fabric_print(const struct sessions_conf *sc, const struct sessions_result *r, bool json,
			 const char *name, const char *extra)
{
	uint64_t rej =
	    r->rejected[0] + r->rejected[1] + r->rejected[2] + r->rejected[3] + r->rejected[4];
	uint64_t eids = (uint64_t)sc->etrs * sc->eids_per_etr;
	if (json) {
		printf("{\"bench\":\"fabric\",\"case\":\"%s\",%s\"transport\":\"%s\",\"etrs\":%u,"
		       "\"reliable\":%u,\"udp\":%u,"
		       "\"eids\":%llu,\"threads\":%u,\"converged\":%s,\"converge_s\":%.3f,"
		       "\"up\":%u,\"up_end\":%u,\"acked\":%llu,\"rejected\":%llu,"
		       "\"rejected_not_site_prefix\":%llu,\"rejected_auth\":%llu,"
		       "\"rejected_locator_set\":%llu,\"rejected_undefined\":%llu,"
		       "\"rejected_other\":%llu,\"udp_acked\":%llu,\"auth_sent\":%llu,"
		       "\"auth_timeouts\":%llu,\"udp_registers\":%llu,\"udp_retransmits\":%llu,"
		       "\"sessions_lost\":%llu,\"reconnects\":%llu,\"connect_failures\":%llu,"
		       "\"error_notifications\":%llu,\"notify_ok\":%llu,\"notify_bad_auth\":%llu,"
		       "\"notify_acks_sent\":%llu,\"bytes_out\":%llu,\"bytes_in\":%llu,"
		       "\"packets_out\":%llu,\"packets_in\":%llu,\"idle_s\":%.1f,"
		       "\"idle_bytes\":%llu,\"idle_packets\":%llu,\"idle_bytes_per_sec\":%.1f,"
		       "\"idle_packets_per_sec\":%.1f,\"idle_udp_bytes\":%llu,"
		       "\"idle_udp_packets\":%llu,\"moves_sent\":%llu,\"moves_notified\":%llu,"
		       "\"moves_per_sec\":%.0f,\"churn_sent\":%llu,\"churn_acked\":%llu,"
		       "\"churn_per_sec\":%.0f,\"reconvergences\":%llu,\"reconverge_s\":%.3f,"
		       "\"reconverged_unix\":%.3f",
		       name, extra, sc->transports.n ? sc->transports.name : "tcp", sc->etrs,
		       r->reliable, r->udp, (unsigned long long)eids, sc->threads ? sc->threads : 1,
		       r->converged ? "true" : "false", r->converge_s, r->up, r->up_end,
		       (unsigned long long)r->acked, (unsigned long long)rej,
		       (unsigned long long)r->rejected[1], (unsigned long long)r->rejected[2],
		       (unsigned long long)r->rejected[3], (unsigned long long)r->rejected[4],
		       (unsigned long long)r->rejected[0], (unsigned long long)r->udp_acked,
		       (unsigned long long)r->auth_sent, (unsigned long long)r->auth_timeouts,
		       (unsigned long long)r->udp_registers, (unsigned long long)r->udp_retransmits,
		       (unsigned long long)r->sessions_lost, (unsigned long long)r->reconnects,
		       (unsigned long long)r->connect_failures,
		       (unsigned long long)r->error_notifications, (unsigned long long)r->notify_ok,
		       (unsigned long long)r->notify_bad_auth,
		       (unsigned long long)r->notify_acks_sent, (unsigned long long)r->bytes_out,
		       (unsigned long long)r->bytes_in, (unsigned long long)r->packets_out,
		       (unsigned long long)r->packets_in, r->idle_s,
		       (unsigned long long)r->idle_bytes, (unsigned long long)r->idle_packets,
		       r->idle_s > 0 ? (double)r->idle_bytes / r->idle_s : 0.0,
		       r->idle_s > 0 ? (double)r->idle_packets / r->idle_s : 0.0,
		       (unsigned long long)r->idle_udp_bytes,
		       (unsigned long long)r->idle_udp_packets, (unsigned long long)r->moves_sent,
		       (unsigned long long)r->moves_notified,
		       r->moves_s > 0 ? (double)r->moves_notified / r->moves_s : 0.0,
		       (unsigned long long)r->churn_sent, (unsigned long long)r->churn_acked,
		       r->churn_s > 0 ? (double)r->churn_acked / r->churn_s : 0.0,
		       (unsigned long long)r->reconvergences, r->reconverge_s, r->reconverged_unix);
		for (unsigned l = 0; l < SESSIONS_LOSS_COUNT; l++)
			printf(",\"lost_%s\":%llu", sessions_loss_name(l),
			       (unsigned long long)r->lost_by[l]);
		for (unsigned k = 0; k < BT_COUNT; k++)
			printf(",\"sessions_%s\":%llu", bench_transport_id_name(k),
			       (unsigned long long)r->sessions_over[k]);
		printf(",\"fallbacks\":%llu}\n", (unsigned long long)r->fallbacks);
		for (unsigned l = 0; l < SL_COUNT; l++) {
			const struct stats_hist *h = &r->lat[l];
			if (h->count == 0)
				continue;
			printf("{\"bench\":\"fabric\",\"case\":\"%s_lat_%s\",\"count\":%llu,"
			       "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f",
			       name, sessions_lat_name(l), (unsigned long long)h->count,
			       (double)stats_quantile(h, 0.5) / 1e3,
			       (double)stats_quantile(h, 0.99) / 1e3,
			       (double)stats_quantile(h, 0.999) / 1e3, (double)h->max_ns / 1e3);
			stats_cdf_json(stdout, h);
			printf("}\n");
		}
		if (r->has_subs)
			subs_json(sc, &r->subs, name);
		if (r->series.n > 0)
			series_json(&r->series, name);
		return;
	}
	printf("fabric: %u ETRs (%u reliable, %u UDP), %llu EIDs: %s in %.2f s, %u up at the "
	       "end\n",
	       sc->etrs, r->reliable, r->udp, (unsigned long long)eids,
	       r->converged ? "converged" : "NOT converged", r->converge_s, r->up_end);
	printf("  records: %llu ACKed, %llu rejected (not site prefix %llu, auth %llu, locator "
	       "set %llu, undefined %llu, other %llu), %llu confirmed by UDP Map-Notify\n",
	       (unsigned long long)r->acked, (unsigned long long)rej,
	       (unsigned long long)r->rejected[1], (unsigned long long)r->rejected[2],
	       (unsigned long long)r->rejected[3], (unsigned long long)r->rejected[4],
	       (unsigned long long)r->rejected[0], (unsigned long long)r->udp_acked);
	printf("  messages: %llu out, %llu in (%llu / %llu bytes); UDP Map-Registers %llu "
	       "(%llu retransmitted); auth %llu (%llu timed out)\n",
	       (unsigned long long)r->packets_out, (unsigned long long)r->packets_in,
	       (unsigned long long)r->bytes_out, (unsigned long long)r->bytes_in,
	       (unsigned long long)r->udp_registers, (unsigned long long)r->udp_retransmits,
	       (unsigned long long)r->auth_sent, (unsigned long long)r->auth_timeouts);
	printf("  sessions: %llu lost, %llu reconnected, %llu connect failures, %llu error "
	       "notifications; notifications %llu verified, %llu bad HMAC, %llu acked\n",
	       (unsigned long long)r->sessions_lost, (unsigned long long)r->reconnects,
	       (unsigned long long)r->connect_failures, (unsigned long long)r->error_notifications,
	       (unsigned long long)r->notify_ok, (unsigned long long)r->notify_bad_auth,
	       (unsigned long long)r->notify_acks_sent);
	if (sc->transports.n > 1)
		printf("  %s: sessions over tcp %llu, quic %llu, sctp %llu; %llu fallbacks\n",
		       sc->transports.name, (unsigned long long)r->sessions_over[BT_TCP],
		       (unsigned long long)r->sessions_over[BT_QUIC],
		       (unsigned long long)r->sessions_over[BT_SCTP],
		       (unsigned long long)r->fallbacks);
	if (r->sessions_lost > 0) {
		printf("  lost by cause:");
		for (unsigned l = 0; l < SESSIONS_LOSS_COUNT; l++)
			printf(" %s %llu", sessions_loss_name(l),
			       (unsigned long long)r->lost_by[l]);
		printf("\n");
	}
	if (r->idle_s > 0)
		printf("  idle %.1f s: %.1f bytes/s, %.1f messages/s (UDP %llu bytes)\n", r->idle_s,
		       (double)r->idle_bytes / r->idle_s, (double)r->idle_packets / r->idle_s,
		       (unsigned long long)r->idle_udp_bytes);
	if (r->moves_sent)
		printf("  moves: %llu sent, %llu notified, %.0f/s\n",
		       (unsigned long long)r->moves_sent, (unsigned long long)r->moves_notified,
		       r->moves_s > 0 ? (double)r->moves_notified / r->moves_s : 0.0);
	if (r->churn_sent)
		printf("  churn: %llu withdrawals and re-registrations, %llu ACKed\n",
		       (unsigned long long)r->churn_sent, (unsigned long long)r->churn_acked);
	if (r->reconvergences)
		printf("  reconverged %llu time(s), the last in %.2f s\n",
		       (unsigned long long)r->reconvergences, r->reconverge_s);
	if (r->has_subs) {
		const struct subs_result *u = &r->subs;
		printf("  subscribers: %u over %s, %u with their initial state (%.2f s), %u "
		       "consistent at the end (%llu of %llu EIDs stale)\n"
		       "    publications %llu (%llu records, %llu retransmitted), bad HMAC %llu, "
		       "out of order %llu, acks %llu, refused %llu, unsubscribed %u\n",
		       u->subscribers, sc->subs->session ? "sessions" : "UDP", u->complete,
		       u->complete_s, u->consistent, (unsigned long long)u->stale,
		       (unsigned long long)u->covered, (unsigned long long)u->publications,
		       (unsigned long long)u->records, (unsigned long long)u->retransmitted,
		       (unsigned long long)u->bad_auth, (unsigned long long)u->bad_nonce,
		       (unsigned long long)u->acks_sent, (unsigned long long)u->refused,
		       u->unsubscribed);
	}
	printf("  latency (us)         count      p50      p99     p999      max\n");
	for (unsigned l = 0; l < SL_COUNT; l++) {
		const struct stats_hist *h = &r->lat[l];
		if (h->count)
			printf("  %-16s %9llu %8.1f %8.1f %8.1f %8.1f\n", sessions_lat_name(l),
			       (unsigned long long)h->count, (double)stats_quantile(h, 0.5) / 1e3,
			       (double)stats_quantile(h, 0.99) / 1e3,
			       (double)stats_quantile(h, 0.999) / 1e3, (double)h->max_ns / 1e3);
	}
	const struct stats_hist *h = &r->subs.lat;
	if (r->has_subs && h->count)
		printf("  %-16s %9llu %8.1f %8.1f %8.1f %8.1f\n", "publication",
		       (unsigned long long)h->count, (double)stats_quantile(h, 0.5) / 1e3,
		       (double)stats_quantile(h, 0.99) / 1e3,
		       (double)stats_quantile(h, 0.999) / 1e3, (double)h->max_ns / 1e3);
}

/*
 * lispms-bench fabric, in its phases: defaults, options, checks, the
 * transport's setup, the run (against each --server at once), the report
 * and the exit status.
 */
struct fabric_cmd {
	struct sessions_conf sc;
	struct sockaddr_storage servers[SESSIONS_SERVERS_MAX];
	unsigned nservers;
	struct subs_conf subs;
	bool json, bad, have_subscribe;
	const char *name; /* the JSON case */
};

static const struct option fabric_opts[] = {
	{ "server", required_argument, NULL, 's' },
	{ "etrs", required_argument, NULL, 'e' },
	{ "first-etr", required_argument, NULL, 'F' },
	{ "eids-per-etr", required_argument, NULL, 'm' },
	{ "family", required_argument, NULL, 'f' },
	{ "iid", required_argument, NULL, 'i' },
	{ "iids", required_argument, NULL, 'K' },
	{ "locators", required_argument, NULL, 'L' },
	{ "key-id", required_argument, NULL, 'k' },
	{ "alg", required_argument, NULL, 'A' },
	{ "secret", required_argument, NULL, 'S' },
	{ "udp-share", required_argument, NULL, 'u' },
	{ "udp-interval", required_argument, NULL, 'U' },
	{ "batch", required_argument, NULL, 'b' },
	{ "threads", required_argument, NULL, 't' },
	{ "storm", no_argument, NULL, 'Z' },
	{ "duration", required_argument, NULL, 'd' },
	{ "idle", required_argument, NULL, 'I' },
	{ "moves", required_argument, NULL, 'M' },
	{ "move-rate", required_argument, NULL, 'r' },
	{ "move-seconds", required_argument, NULL, 'T' },
	{ "churn", required_argument, NULL, 'c' },
	{ "churn-rate", required_argument, NULL, 'R' },
	{ "churn-seconds", required_argument, NULL, 'C' },
	{ "hold", required_argument, NULL, 'H' },
	{ "until-reconverged", no_argument, NULL, 'X' },
	{ "json", no_argument, NULL, 'j' },
	{ "case", required_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "progress", no_argument, NULL, 'P' },
	{ "help", no_argument, NULL, 'h' },
	{ "udp-server", required_argument, NULL, OPT_UDP_SERVER },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ "transport-port", required_argument, NULL, OPT_TPORT },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "quic-drop", required_argument, NULL, OPT_QDROP },
	{ "ramp", required_argument, NULL, OPT_RAMP },
	{ "subscribers", required_argument, NULL, OPT_SUBSCRIBERS },
	{ "subscribe", required_argument, NULL, OPT_SUBSCRIBE },
	{ "subscriber-transport", required_argument, NULL, OPT_SUB_TRANSPORT },
	{ "subscribe-seconds", required_argument, NULL, OPT_SUB_SECONDS },
	{ 0 }
};

static void fabric_defaults(struct fabric_cmd *f, bool sessions_alias)
{
	*f = (struct fabric_cmd){
		.sc = { .etrs = 100,
			.eids_per_etr = 100,
			.layout = { .afi = LISP_AFI_IPV4, .iid = 1000, .iids = 1 },
			.key_id = 1,
			.alg = LISP_ALG_HMAC_SHA256,
			.secret = "bench",
			.locators = 1,
			.udp_interval = 60,
			.batch = 100,
			.threads = 1,
			.duration = 60,
			.move_rate = 10000,
			.move_s = 5,
			.churn_rate = 10000,
			.churn_s = 5,
			.progress = isatty(STDERR_FILENO) ? 2 : 1 },
		.subs = { .seconds = 30 },
		.name = sessions_alias ? "converge" : "fabric",
	};
}

/* Where and how: the servers, the sessions' transport, the ETRs' addresses. */
static bool fabric_opt_where(struct fabric_cmd *f, int c, const char *arg)
{
	struct sessions_conf *sc = &f->sc;
	uint64_t v;
	switch (c) {
	case 's': /* one or several Map-Servers, IPv4 */
		f->bad |=
		    args_servers(arg, f->servers, SESSIONS_SERVERS_MAX, &f->nservers) != LISPMS_EOK;
		for (unsigned i = 0; i < f->nservers; i++)
			f->bad |= f->servers[i].ss_family != AF_INET;
		break;
	case OPT_UDP_SERVER: /* r=1 and UDP registers to a fast path address */
		f->bad |= args_hostport(arg, &sc->udp_server) != LISPMS_EOK ||
			  sc->udp_server.ss_family != AF_INET;
		break;
	case OPT_SOURCE: { /* ETR i sends from ADDR + i instead of 127.1.0.1 + i */
		struct in_addr a;
		f->bad |= inet_pton(AF_INET, arg, &a) != 1;
		sc->source_base = ntohl(a.s_addr);
		break;
	}
	case OPT_TRANSPORT:
		f->bad |= bench_transport_chain(arg, &sc->transports) != 0;
		break;
	case OPT_TPORT:
		f->bad |= args_transport_ports(arg, &sc->topts.port, sc->topts.ports) != LISPMS_EOK;
		break;
	case OPT_CA:
		sc->topts.ca = arg;
		break;
	case OPT_CERT:
		sc->topts.cert = arg;
		break;
	case OPT_KEY:
		sc->topts.key = arg;
		break;
	case OPT_QDROP: /* loss simulation on the QUIC client's datagrams */
		f->bad |= args_count(arg, 1000000, &v) != LISPMS_EOK;
		sc->topts.drop_every = (unsigned)v;
		break;
	default:
		return false;
	}
	return true;
}

/* The fabric's shape: ETRs, EIDs, keys, how they register. */
static bool fabric_opt_shape(struct fabric_cmd *f, int c, const char *arg)
{
	struct sessions_conf *sc = &f->sc;
	uint64_t v;
	switch (c) {
	case 'e':
		f->bad |= args_count(arg, 60000, &v) != LISPMS_EOK;
		sc->etrs = (unsigned)v;
		break;
	case 'F':
		f->bad |= args_count(arg, 60000, &v) != LISPMS_EOK;
		sc->first_etr = (unsigned)v;
		break;
	case 'm':
		f->bad |= args_count(arg, LAYOUT_MAX_EIDS, &v) != LISPMS_EOK;
		sc->eids_per_etr = (unsigned)v;
		break;
	case 'f':
		f->bad |= args_family(arg, &sc->layout.afi) != LISPMS_EOK;
		break;
	case 'i':
		sc->layout.iid = (uint32_t)strtoul(arg, NULL, 10);
		break;
	case 'K':
		sc->layout.iids = (unsigned)atoi(arg);
		break;
	case 'L':
		sc->locators = (unsigned)atoi(arg);
		break;
	case 'k':
		sc->key_id = (uint8_t)atoi(arg);
		break;
	case 'A':
		f->bad |= args_alg(arg, &sc->alg) != LISPMS_EOK;
		break;
	case 'S':
		sc->secret = arg;
		break;
	case 'u':
		sc->udp_share = atof(arg);
		break;
	case 'U':
		sc->udp_interval = atof(arg);
		break;
	case 'b':
		sc->batch = (unsigned)atoi(arg);
		break;
	case 't':
		sc->threads = (unsigned)atoi(arg);
		break;
	default:
		return false;
	}
	return true;
}

/* The phases after the start: storm, bounds, idle, moves, churn, hold, subscribers. */
static bool fabric_opt_phases(struct fabric_cmd *f, int c, const char *arg)
{
	struct sessions_conf *sc = &f->sc;
	uint64_t v;
	switch (c) {
	case 'Z':
		sc->storm = true;
		break;
	case OPT_RAMP: /* the storm's ETRs start over SEC seconds */
		sc->ramp_s = atof(arg);
		f->bad |= !(sc->ramp_s >= 0 && sc->ramp_s <= 3600);
		break;
	case 'd':
		sc->duration = atof(arg);
		break;
	case 'I':
		sc->idle_s = atof(arg);
		break;
	case 'M':
		f->bad |= args_count(arg, UINT32_MAX, &sc->moves) != LISPMS_EOK;
		break;
	case 'r':
		sc->move_rate = atof(arg);
		break;
	case 'T':
		sc->move_s = atof(arg);
		break;
	case 'c':
		f->bad |= args_count(arg, UINT32_MAX, &sc->churn) != LISPMS_EOK;
		break;
	case 'R':
		sc->churn_rate = atof(arg);
		break;
	case 'C':
		sc->churn_s = atof(arg);
		break;
	case 'H':
		sc->hold_s = atof(arg);
		break;
	case 'X':
		sc->until_reconverged = true;
		break;
	case OPT_SUBSCRIBERS:
		f->bad |= args_count(arg, SUBS_MAX, &v) != LISPMS_EOK;
		f->subs.n = (unsigned)v;
		break;
	case OPT_SUBSCRIBE:
		f->bad |= args_subscribe(arg, &f->subs.prefix, &f->subs.each) != LISPMS_EOK;
		f->have_subscribe = true;
		break;
	case OPT_SUB_TRANSPORT:
		f->bad |= args_sub_transport(arg, &f->subs.session) != LISPMS_EOK;
		break;
	case OPT_SUB_SECONDS:
		f->subs.seconds = atof(arg);
		f->bad |= !(f->subs.seconds > 0 && f->subs.seconds <= 3600);
		break;
	default:
		return false;
	}
	return true;
}

/* What is printed. */
static bool fabric_opt_output(struct fabric_cmd *f, int c, const char *arg)
{
	switch (c) {
	case 'j':
		f->json = true;
		break;
	case 'n':
		f->name = arg;
		break;
	case 'q':
		f->sc.progress = 0;
		break;
	case 'P':
		f->sc.progress = 1;
		break;
	default:
		return false;
	}
	return true;
}

/* The options; -1 when parsed, else the exit status (help: 0, unknown: 2). */
static int fabric_parse(struct fabric_cmd *f, int argc, char **argv)
{
	int c;
	while (
	    (c = getopt_long(argc, argv, "s:e:F:m:f:i:K:L:k:A:S:u:U:b:t:Zd:I:M:r:T:c:R:C:H:Xjn:qPh",
			     fabric_opts, NULL)) != -1) {
		if (fabric_opt_where(f, c, optarg) || fabric_opt_shape(f, c, optarg) ||
		    fabric_opt_phases(f, c, optarg) || fabric_opt_output(f, c, optarg))
			continue;
		fabric_usage(c == 'h' ? stdout : stderr);
		return c == 'h' ? 0 : 2;
	}
	return -1;
}

/* The options together; false (said on stderr) when they do not make a fabric. */
static bool fabric_check(struct fabric_cmd *f)
{
	struct sessions_conf *sc = &f->sc;
	if (f->nservers == 0 || f->bad || sc->etrs == 0 || sc->eids_per_etr == 0 ||
	    (uint64_t)(sc->first_etr + sc->etrs) * sc->eids_per_etr > LAYOUT_MAX_EIDS ||
	    sc->first_etr + sc->etrs > 60000 || sc->duration <= 0 || sc->duration > 3600 ||
	    sc->idle_s > 3600 || sc->move_s > 3600 || sc->churn_s > 3600 || sc->hold_s > 3600 ||
	    sc->threads == 0 || sc->threads > 64 || sc->layout.iids == 0 || sc->locators == 0 ||
	    sc->locators > 8 || sc->batch == 0 || sc->batch > 100 || !(sc->udp_share >= 0) ||
	    sc->udp_share > 1 || sc->udp_interval < 0.1 || sc->move_rate <= 0 ||
	    sc->churn_rate <= 0) {
		fprintf(stderr,
			"fabric: need --server IPV4:PORT[,IPV4:PORT...] (at most %u); --etrs <= "
			"60000, at most %u EIDs, durations <= 3600 s, --threads 1..64, "
			"--locators 1..8, --batch 1..100, --udp-share 0..1, --transport %s (see "
			"--help)\n",
			SESSIONS_SERVERS_MAX, LAYOUT_MAX_EIDS, bench_transport_names());
		return false;
	}
	if (f->subs.n > 0) {
		if (!f->have_subscribe ||
		    (f->subs.session && (f->subs.n > sc->etrs || sc->udp_share > 0))) {
			fprintf(stderr,
				"fabric: --subscribers N needs --subscribe '[IID] PREFIX' or "
				"each; over sessions, N <= --etrs and --udp-share 0\n");
			return false;
		}
		sc->subs = &f->subs;
	}
	if (f->nservers > 1 && (f->subs.n > 0 || sc->moves > 0 || sc->churn > 0 ||
				sc->udp_server.ss_family != AF_UNSPEC)) {
		fprintf(stderr, "fabric: --moves, --churn, --subscribers and --udp-server need "
				"one --server\n");
		return false;
	}
	for (unsigned id = 0; id < BT_COUNT; id++) {
		bool used = false;
		for (unsigned i = 0; i < sc->transports.n; i++)
			used |= sc->transports.tr[i]->id == id;
		if (sc->topts.ports[id] != 0 && !used && (sc->transports.n > 0 || id != BT_TCP)) {
			fprintf(stderr, "fabric: --transport-port %s=%u: no session goes over %s\n",
				bench_transport_id_name(id), sc->topts.ports[id],
				bench_transport_id_name(id));
			return false;
		}
	}
	if (sc->transports.n > 1 && sc->topts.port != 0) {
		fprintf(stderr, "fabric: with --transport auto, --transport-port takes "
				"NAME=PORT[,NAME=PORT...] (tcp, quic, sctp)\n");
		return false;
	}
	sc->server = f->servers[0];
	return true;
}

/* The sessions' transports (each of auto's, certificates); false (said) when
 * one cannot run. */
static bool fabric_transport(struct fabric_cmd *f)
{
	struct sessions_conf *sc = &f->sc;
	if (sc->transports.n == 0)
		(void)bench_transport_chain("tcp", &sc->transports);
	for (unsigned i = 0; i < sc->transports.n; i++) {
		const struct bench_transport *t = sc->transports.tr[i];
		char terr[256];
		if (t->init != NULL && t->init(&sc->topts, terr, sizeof(terr)) != 0) {
			fprintf(stderr, "fabric: %s: %s\n", t->name, terr);
			return false;
		}
	}
	return true;
}

/* Each server's result (several), then the total; one server: its result as ever. */
static void fabric_report(const struct fabric_cmd *f, const struct sessions_result *res,
			  const struct sessions_result *total)
{
	if (f->nservers == 1) {
		fabric_print(&f->sc, &res[0], f->json, f->name, "");
		return;
	}
	for (unsigned i = 0; i < f->nservers; i++) {
		char addr[80] = "?", name[256], extra[128];
		saddr_format(&f->servers[i], addr, sizeof(addr));
		snprintf(name, sizeof(name), "%s_server%u", f->name, i + 1);
		snprintf(extra, sizeof(extra), "\"server\":\"%s\",", addr);
		if (!f->json)
			printf("server %u, %s:\n", i + 1, addr);
		fabric_print(&f->sc, &res[i], f->json, name, extra);
	}
	char extra[64];
	snprintf(extra, sizeof(extra), "\"servers\":%u,", f->nservers);
	if (!f->json)
		printf("total over %u servers (ETRs, records, messages counted per server):\n",
		       f->nservers);
	fabric_print(&f->sc, total, f->json, f->name, extra);
}

static int cmd_fabric(int argc, char **argv, bool sessions_alias)
{
	static struct fabric_cmd f;
	static struct sessions_result res[SESSIONS_SERVERS_MAX], total;
	fabric_defaults(&f, sessions_alias);
	int rc = fabric_parse(&f, argc, argv);
	if (rc >= 0)
		return rc;
	if (!fabric_check(&f) || !fabric_transport(&f))
		return 2;
	int ret = sessions_run_servers(&f.sc, f.servers, f.nservers, res, &total);
	if (ret != 0) {
		fprintf(stderr, "fabric: %s%s\n", err_str(ret),
			ret == -EMFILE
			    ? " (raise the open file limit, ulimit -n, or split the ETRs "
			      "over processes with --first-etr)"
			    : "");
		return 1;
	}
	fabric_report(&f, res, &total);
	const struct sessions_result *r = &total;
	bool subs_ok =
	    !r->has_subs || (r->subs.complete == r->subs.subscribers && r->subs.bad_auth == 0 &&
			     r->subs.bad_nonce == 0 && r->subs.refused == 0 &&
			     r->subs.consistent == r->subs.subscribers &&
			     r->subs.unsubscribed == r->subs.subscribers);
	return r->converged && r->notify_bad_auth == 0 && subs_ok ? 0 : 1;
}

static int cmd_lig(int argc, char **argv)
{
	struct lig_conf lc = { .timeout_ms = 3000, .tries = 3 };
	const char *server = NULL, *target = NULL;
	unsigned port = 4342;
	static const struct option opts[] = { { "server", required_argument, NULL, 's' },
					      { "port", required_argument, NULL, 'p' },
					      { "timeout-ms", required_argument, NULL, 'T' },
					      { "tries", required_argument, NULL, 'n' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "s:p:T:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			server = optarg;
			break;
		case 'p':
			port = (unsigned)atoi(optarg);
			break;
		case 'T':
			lc.timeout_ms = (unsigned)atoi(optarg);
			break;
		case 'n':
			lc.tries = (unsigned)atoi(optarg);
			break;
		default:
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind < argc)
		target = argv[optind];
	if (target == NULL || args_lig_target(target, &lc.eid) != LISPMS_EOK) {
		fprintf(stderr, "lig: want an EID such as '[1000] 10.0.0.1' (got %s)\n",
			target ? target : "nothing");
		return 2;
	}
	if (server == NULL) {
		fprintf(stderr, "lig: --server ADDR is required\n");
		return 2;
	}
	if (saddr_parse(server, &lc.server) == LISPMS_EOK) {
		if (port == 0 || port > 65535) {
			fprintf(stderr, "lig: bad --port\n");
			return 2;
		}
		saddr_set_port(&lc.server, (uint16_t)port);
	} else if (args_hostport(server, &lc.server) != LISPMS_EOK) {
		fprintf(stderr, "lig: bad --server %s (an address, or ADDR:PORT)\n", server);
		return 2;
	}
	if (lc.timeout_ms == 0 || lc.timeout_ms > 60000 || lc.tries == 0 || lc.tries > 10) {
		fprintf(stderr, "lig: --timeout-ms 1..60000, --tries 1..10\n");
		return 2;
	}
	return lig_run(&lc);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "echo-server") == 0)
		return cmd_echo_server(argc, argv);
	if (strcmp(cmd, "echo") == 0)
		return cmd_echo(argc, argv);
	if (strcmp(cmd, "sessions") == 0 || strcmp(cmd, "fabric") == 0)
		return cmd_fabric(argc, argv, strcmp(cmd, "sessions") == 0);
	if (strcmp(cmd, "lig") == 0)
		return cmd_lig(argc, argv);
	if (strcmp(cmd, "register") == 0)
		return cmd_lisp(argc, argv, true);
	if (strcmp(cmd, "request") == 0)
		return cmd_lisp(argc, argv, false);
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "lispms-bench: unknown command %s\n", cmd);
	usage(stderr);
	return 2;
}
