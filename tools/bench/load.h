/* SPDX-License-Identifier: MIT */
/*
 * UDP request/response load engine shared by lispms-bench and the benchmark
 * scenarios: T threads, each with S sockets (source addresses spread over
 * 127.0.0.0/8 so SO_REUSEPORT hashing and per-address admission are
 * exercised), each socket keeping W requests in flight. A request carries a
 * 64-bit token (the LISP nonce, or the first 8 bytes for raw echo) that its
 * reply echoes; latency is measured per token. Requests unanswered after a
 * timeout count as lost and the slot is reused. Bounded by duration and count;
 * paced at a rate when one is given (the window still bounds what is in
 * flight).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "stats.h"

/*
 * Build request `seq` (per thread) carrying `token` into buf, sent from the
 * socket bound to `src`; return its length or 0.
 */
typedef size_t load_build_fn(void *arg, unsigned thread, uint64_t seq, uint64_t token,
			     const struct sockaddr_storage *src, uint8_t *buf, size_t cap);

/*
 * Extract the token a reply carries; false for a reply that is not one. When
 * the load has kinds (LOAD_KINDS), *kind (0 before the call) names the kind of
 * reply it is (counted in load_result.kinds).
 */
typedef bool load_token_fn(void *arg, const uint8_t *reply, size_t len, uint64_t *token,
			   unsigned *kind);

#define LOAD_KINDS 8

struct load_conf {
	struct sockaddr_storage dst;
	unsigned threads;    /* default 1 */
	unsigned sockets;    /* per thread, default 16 */
	unsigned window;     /* requests in flight per socket, default 8 (max 256) */
	double duration;     /* seconds, default 5 */
	uint64_t count;	     /* stop after this many replies in all (0: no limit) */
	unsigned timeout_ms; /* a request unanswered this long is lost, default 1000 */
	uint32_t src_base;   /* first IPv4 source (host order), default 127.0.0.1 */
	unsigned src_count;  /* how many consecutive source addresses, default 1 */
	load_build_fn *build;
	load_token_fn *token;
	void *arg;
	double rate;   /* requests per second in all (0: as fast as replies come) */
	bool progress; /* a line per second on stderr */
};

struct load_result {
	uint64_t sent;
	uint64_t received;
	uint64_t lost;
	uint64_t unmatched; /* replies without a known token */
	uint64_t send_errors;
	double seconds;
	struct stats_hist lat; /* request to reply */
	uint64_t kinds[LOAD_KINDS];
};

/* Run the load. Returns 0 or a negative errno. */
int load_run(const struct load_conf *conf, struct load_result *res);

/* Latency at quantile q (0..1) in nanoseconds, from the histogram. */
uint64_t load_quantile(const struct load_result *res, double q);

/* One JSON object (no newline) with rates, loss and p50/p99/p999/max. */
void load_json(const struct load_result *res, const char *bench, const char *scenario, char *buf,
	       size_t len);
