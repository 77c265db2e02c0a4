/* SPDX-License-Identifier: MIT */
/*
 * lispms-bench: load and fabric simulator for LISP Map-Servers.
 *
 *   lispms-bench echo-server [--listen ADDR]... [--port P] [--workers N]
 *       a trivial UDP echo responder on the same worker code as lispmsd: the
 *       ceiling a map-server's request/response rate is compared with
 *   lispms-bench echo --server ADDR:PORT [load options]
 *       raw request/response load (payload echoed back)
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
#include <lispms/thread.h>

#include "load.h"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void usage(FILE *f)
{
	fputs("usage: lispms-bench echo-server [--listen ADDR]... [--port P] [--workers N]\n"
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

static size_t raw_build(void *arg, unsigned thread, uint64_t seq, uint64_t token, uint8_t *buf,
			size_t cap)
{
	const struct raw_arg *a = arg;
	(void)thread;
	(void)seq;
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
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "lispms-bench: unknown command %s\n", cmd);
	usage(stderr);
	return 2;
}
