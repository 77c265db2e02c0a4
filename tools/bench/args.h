/* SPDX-License-Identifier: MIT */
/*
 * Argument parsers of lispms-bench, kept apart so they are unit-tested: the
 * lig target ('[IID] EID', D16 text form), counts with k/M suffixes, EID
 * families, HMAC algorithms, the ITR request mix and what publish/subscribe
 * subscribers subscribe to and over what, server addresses. Every parser returns
 * LISPMS_EOK and writes its out-parameter only on success, LISPMS_EINVAL
 * otherwise.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

#include <lispms/addr.h>

#include "transport.h"

/* '[IID] EID' or '[IID] prefix' or a plain address (instance 0). */
int args_lig_target(const char *text, struct eid_prefix *out);

/* "1000", "10k", "1M" (decimal multipliers), at most `max`. */
int args_count(const char *text, uint64_t max, uint64_t *out);

/* ipv4 | ipv6 | mac -> LISP_AFI_*. */
int args_family(const char *text, uint16_t *afi);

/* 1 | 2 | sha1 | sha256 | hmac-sha-1-96 | hmac-sha-256-128 -> LISP_ALG_*. */
int args_alg(const char *text, uint8_t *alg);

/* ITR request mix: weights of registered, configured-unregistered, unknown. */
struct args_mix {
	unsigned registered, unregistered, unknown;
};

/* "R:U:N" non-negative integers, at least one positive, each <= 1000000. */
int args_mix(const char *text, struct args_mix *out);

/*
 * --subscribe: "each" (subscriber i to the fabric's registered EID i: *each
 * set) or '[IID] PREFIX' (every subscriber to it: *out set, *each false).
 */
int args_subscribe(const char *text, struct eid_prefix *out, bool *each);

/* --subscriber-transport: "udp" (false) or "session" (true). */
int args_sub_transport(const char *text, bool *session);

/* "127.0.0.1:4342" or "[::1]:4342": an address and a port 1..65535. */
int args_hostport(const char *text, struct sockaddr_storage *out);

/*
 * --server: one ADDR:PORT, or several separated by commas ("A:P,B:P"),
 * each as args_hostport takes it, at most `max`; out[0..*n-1]. No empty
 * element, no address twice; `max` is at most ARGS_SERVERS_MAX.
 */
#define ARGS_SERVERS_MAX 16

int args_servers(const char *text, struct sockaddr_storage *out, unsigned max, unsigned *n);

/*
 * --transport-port: "P" (*port) or "NAME=P[,NAME=P...]" (ports[], by
 * bench_transport_id_name: tcp, tls, quic, sctp, each at most once); ports
 * 1..65535. On success the other form's values are left alone.
 */
int args_transport_ports(const char *text, uint16_t *port, uint16_t ports[BT_COUNT]);
