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
 *   lispms-bench sessions --server ADDR:PORT [lisp options] [--idle SEC]
 *                    [--moves N --move-rate R --move-seconds S] [--duration SEC] [--json]
 *                    [--udp-server ADDR:PORT] [--source ADDR]
 *       N ETRs on reliable transport (UDP r=1, TCP, Registrations of M EIDs):
 *       time until every record is acknowledged, application bytes while
 *       idle, and mobility notification latency
 *
 * LISP options: --etrs N (default 100) --eids-per-etr M (default 1000)
 *   --iid I (1000) --key-id K (1) --secret S ("bench")
 *
 * Load options: --threads T --sockets S --window W --duration SEC --count N
 *   --sources N (spread source addresses over 127.0.0.1..) --size BYTES
 *   --timeout-ms MS --json --progress
 */
#define _GNU_SOURCE
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
	      "                    [--eids-per-etr M] [--iid I] [--key-id K] [--secret S] [load]\n"
	      "       lispms-bench echo --server ADDR:PORT [--threads T] [--sockets S]\n"
	      "                    [--window W] [--duration SEC] [--count N] [--sources N]\n"
	      "                    [--size BYTES] [--timeout-ms MS] [--json] [--progress]\n",
	      f);
}

/* "127.0.0.1:4342", "[::1]:4342" */
static int parse_hostport(const char *text, struct sockaddr_storage *out)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	if (colon == NULL)
		return LISPMS_EINVAL;
	size_t n = (size_t)(colon - text);
	if (text[0] == '[' && n >= 2 && text[n - 1] == ']') {
		text++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return LISPMS_EINVAL;
	memcpy(host, text, n);
	host[n] = '\0';
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (*end || port == 0 || port > 65535 || saddr_parse(host, out) != LISPMS_EOK)
		return LISPMS_EINVAL;
	saddr_set_port(out, (uint16_t)port);
	return LISPMS_EOK;
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

static bool raw_token(void *arg, const uint8_t *reply, size_t len, uint64_t *token)
{
	(void)arg;
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
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	bool have_server = false;
	int c;
	while ((c = getopt_long(argc, argv, "s:t:S:W:d:n:a:z:T:jPh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_hostport(optarg, &lc->dst) != LISPMS_EOK) {
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
		default:
			usage(c == 'h' ? stdout : stderr);
			return -1;
		}
	}
	if (!have_server) {
		fprintf(stderr, "--server ADDR:PORT is required\n");
		return -1;
	}
	if (lc->duration > 3600 || lc->threads > 64 || lc->sockets > 4096) {
		fprintf(stderr,
			"load bounds: --duration <= 3600, --threads <= 64, --sockets <= 4096\n");
		return -1;
	}
	return optind;
}

struct lisp_arg {
	unsigned etrs;
	unsigned eids_per_etr;
	uint32_t iid;
	unsigned threads; /* load threads: seq * threads + thread enumerates every EID */
	struct auth_key key;
	struct auth_ctx *auth[64]; /* one per load thread */
};

/* EID number i: [iid] 10.0.0.0 + i /32; its ETR is i / eids_per_etr. */
static void bench_eid(const struct lisp_arg *a, uint64_t i, struct eid_prefix *p)
{
	uint32_t v = 0x0a000000u + (uint32_t)(i % (a->etrs * (uint64_t)a->eids_per_etr));
	memset(p, 0, sizeof(*p));
	p->iid = a->iid;
	p->afi = LISP_AFI_IPV4;
	p->plen = 32;
	p->bytes[0] = (uint8_t)(v >> 24);
	p->bytes[1] = (uint8_t)(v >> 16);
	p->bytes[2] = (uint8_t)(v >> 8);
	p->bytes[3] = (uint8_t)v;
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
	struct lisp_addr rloc = { .afi = LISP_AFI_IPV4,
				  .bytes = { 192, 0, (uint8_t)(2 + etr / 250),
					     (uint8_t)(1 + etr % 250) } };
	afi_from_addr(&rloc, &loc.addr);
	struct lisp_record rec = { .ttl = 3, .a = 1, .eid_plen = 32, .nlocs = 1, .locs = &loc };
	afi_from_eid(&p, &rec.eid);
	struct lisp_map_register m = {
		.flags = LISP_MREG_M | LISP_MREG_P | LISP_MREG_I,
		.nonce = token,
		.auth = { .key_id = a->key.key_id, .alg_id = a->key.alg_id, .len = 32 },
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
	bench_eid(a, (seq * a->threads + thread) * 7919 % n, &p);
	struct lisp_addr itr = { .afi =
				     src->ss_family == AF_INET6 ? LISP_AFI_IPV6 : LISP_AFI_IPV4 };
	if (src->ss_family == AF_INET6)
		memcpy(itr.bytes, &((const struct sockaddr_in6 *)src)->sin6_addr, 16);
	else
		memcpy(itr.bytes, &((const struct sockaddr_in *)src)->sin_addr, 4);
	struct afi_addr itr_rloc;
	afi_from_addr(&itr, &itr_rloc);
	struct lisp_request_record rec = { .eid_plen = 32 };
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
 * A Map-Reply counts only when positive (its first record has locators,
 * byte 16): a negative reply means the EID was not registered.
 */
static bool lisp_token(void *arg, const uint8_t *reply, size_t len, uint64_t *token)
{
	(void)arg;
	int type = msg_type(reply, len);
	if (len < 12 || (type != LISP_MSG_MAP_NOTIFY && type != LISP_MSG_MAP_REPLY))
		return false;
	if (type == LISP_MSG_MAP_REPLY && (len < 17 || reply[16] == 0))
		return false;
	uint64_t v = 0;
	for (int i = 4; i < 12; i++)
		v = v << 8 | reply[i];
	*token = v;
	return true;
}

static int cmd_lisp(int argc, char **argv, bool reg)
{
	static struct lisp_arg la = { .etrs = 100, .eids_per_etr = 1000, .iid = 1000 };
	const char *secret = "bench";
	unsigned key_id = 1;
	/* LISP options first, load options after (getopt_long stops at unknown ones) */
	int i = 1;
	for (; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--etrs") == 0)
			la.etrs = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--eids-per-etr") == 0)
			la.eids_per_etr = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--iid") == 0)
			la.iid = (uint32_t)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--key-id") == 0)
			key_id = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--secret") == 0)
			secret = argv[i + 1];
		else
			break;
	}
	argv[i - 1] = argv[0];
	argc -= i - 1;
	argv += i - 1;
	if (la.etrs == 0 || la.eids_per_etr == 0 || la.etrs > 60000 || key_id > 255) {
		fprintf(stderr, "bad --etrs, --eids-per-etr or --key-id\n");
		return 2;
	}
	if (auth_key_init(&la.key, (uint8_t)key_id, LISP_ALG_HMAC_SHA256, secret, strlen(secret)) !=
	    LISPMS_EOK)
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
	char line[512];
	load_json(&res, "ms_udp", reg ? "map_register" : "map_request", line, sizeof(line));
	if (json)
		printf("%s\n", line);
	else
		printf("%s: %.0f replies/s, %llu lost, p50 %.1f us, p99 %.1f us, max %.1f us\n",
		       reg ? "register" : "request", (double)res.received / res.seconds,
		       (unsigned long long)res.lost, (double)load_quantile(&res, 0.5) / 1e3,
		       (double)load_quantile(&res, 0.99) / 1e3, (double)res.max_ns / 1e3);
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
	if (json)
		printf("%s\n", line);
	else
		printf("echo: %.0f replies/s, %llu lost, p50 %.1f us, p99 %.1f us, max %.1f us\n",
		       (double)res.received / res.seconds, (unsigned long long)res.lost,
		       (double)load_quantile(&res, 0.5) / 1e3,
		       (double)load_quantile(&res, 0.99) / 1e3, (double)res.max_ns / 1e3);
	return res.received > 0 ? 0 : 1;
}

static int cmd_sessions(int argc, char **argv)
{
	struct sessions_conf sc = { .etrs = 100,
				    .eids_per_etr = 100,
				    .iid = 1000,
				    .key_id = 1,
				    .secret = "bench",
				    .duration = 60,
				    .move_rate = 10000,
				    .move_s = 5 };
	bool json = false, have_server = false;
	static const struct option opts[] = { { "server", required_argument, NULL, 's' },
					      { "etrs", required_argument, NULL, 'e' },
					      { "eids-per-etr", required_argument, NULL, 'm' },
					      { "iid", required_argument, NULL, 'i' },
					      { "key-id", required_argument, NULL, 'k' },
					      { "secret", required_argument, NULL, 'S' },
					      { "duration", required_argument, NULL, 'd' },
					      { "idle", required_argument, NULL, 'I' },
					      { "moves", required_argument, NULL, 'M' },
					      { "move-rate", required_argument, NULL, 'r' },
					      { "move-seconds", required_argument, NULL, 'T' },
					      { "json", no_argument, NULL, 'j' },
					      { "udp-server", required_argument, NULL, 'u' },
					      { "source", required_argument, NULL, 'o' },
					      { 0 } };
	int c;
	bool bad_udp = false;
	while ((c = getopt_long(argc, argv, "s:e:m:i:k:S:d:I:M:r:T:ju:o:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			have_server = parse_hostport(optarg, &sc.server) == LISPMS_EOK &&
				      sc.server.ss_family == AF_INET;
			break;
		case 'u':
			bad_udp = parse_hostport(optarg, &sc.udp_server) != LISPMS_EOK ||
				  sc.udp_server.ss_family != AF_INET;
			break;
		case 'o': {
			struct in_addr a;
			bad_udp = inet_pton(AF_INET, optarg, &a) != 1;
			sc.source_base = ntohl(a.s_addr);
			break;
		}
		case 'e':
			sc.etrs = (unsigned)atoi(optarg);
			break;
		case 'm':
			sc.eids_per_etr = (unsigned)atoi(optarg);
			break;
		case 'i':
			sc.iid = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'k':
			sc.key_id = (uint8_t)atoi(optarg);
			break;
		case 'S':
			sc.secret = optarg;
			break;
		case 'd':
			sc.duration = atof(optarg);
			break;
		case 'I':
			sc.idle_s = atof(optarg);
			break;
		case 'M':
			sc.moves = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			sc.move_rate = atof(optarg);
			break;
		case 'T':
			sc.move_s = atof(optarg);
			break;
		case 'j':
			json = true;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!have_server || bad_udp || sc.etrs == 0 || sc.etrs > 60000 || sc.eids_per_etr == 0 ||
	    (uint64_t)sc.etrs * sc.eids_per_etr > (1u << 24) || sc.duration > 3600 ||
	    sc.idle_s > 3600 || sc.move_s > 3600) {
		fprintf(stderr,
			"sessions: need --server IPV4:PORT (--udp-server IPV4:PORT, --source "
			"IPV4); --etrs <= 60000, at most 2^24 EIDs, durations <= 3600 s\n");
		return 2;
	}
	struct sessions_result r;
	int ret = sessions_run(&sc, &r);
	if (ret != 0) {
		fprintf(stderr, "sessions: %s%s\n", err_str(ret),
			ret == -EMFILE ? " (raise the open file limit: ulimit -n)" : "");
		return 1;
	}
	if (json)
		printf("{\"bench\":\"sessions\",\"case\":\"converge\",\"etrs\":%u,"
		       "\"eids\":%llu,\"sessions_up\":%u,\"failed\":%u,\"acked\":%llu,"
		       "\"rejected\":%llu,\"seconds\":%.3f,\"idle_seconds\":%.1f,"
		       "\"idle_app_bytes\":%llu,\"moves_sent\":%llu,\"moves_notified\":%llu,"
		       "\"moves_per_sec\":%.0f,\"move_p50_us\":%.1f,\"move_p99_us\":%.1f,"
		       "\"move_max_us\":%.1f}\n",
		       sc.etrs, (unsigned long long)sc.etrs * sc.eids_per_etr, r.sessions_up,
		       r.failed, (unsigned long long)r.acked, (unsigned long long)r.rejected,
		       r.converge_s, r.idle_s, (unsigned long long)r.idle_bytes,
		       (unsigned long long)r.moves_sent, (unsigned long long)r.moves_notified,
		       r.moves_s > 0 ? (double)r.moves_notified / r.moves_s : 0.0, r.move_p50_us,
		       r.move_p99_us, r.move_max_us);
	else
		printf("sessions: %u up, %u failed, %llu acked, %llu rejected in %.2f s\n",
		       r.sessions_up, r.failed, (unsigned long long)r.acked,
		       (unsigned long long)r.rejected, r.converge_s);
	return r.sessions_up == sc.etrs ? 0 : 1;
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
	if (strcmp(cmd, "sessions") == 0)
		return cmd_sessions(argc, argv);
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
