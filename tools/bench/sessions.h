/* SPDX-License-Identifier: MIT */
/* Simulated reliable-transport ETRs for lispms-bench (see sessions.c). */
#pragma once

#include <stdint.h>

#include <sys/socket.h>

struct sessions_conf {
	struct sockaddr_storage server;	    /* IPv4: the TCP sessions (and UDP by default) */
	struct sockaddr_storage udp_server; /* AF_UNSPEC: server; else the r=1 registers go here */
	uint32_t source_base;		    /* 0: 127.1.0.1; ETR i uses source_base + i */
	unsigned etrs;
	unsigned eids_per_etr;
	uint32_t iid;
	uint8_t key_id;
	const char *secret;
	double duration;  /* bound on the whole setup, seconds */
	double idle_s;	  /* then hold the sessions idle this long (0: skip) */
	uint64_t moves;	  /* then move up to this many EIDs (0: skip) */
	double move_rate; /* moves per second */
	double move_s;	  /* for at most this long */
};

struct sessions_result {
	unsigned sessions_up, failed;
	uint64_t acked, rejected;
	double converge_s; /* first auth to the last record acknowledged */
	uint64_t idle_bytes;
	double idle_s;
	uint64_t moves_sent, moves_notified;
	double moves_s;
	double move_p50_us, move_p99_us, move_max_us;
};

/* Run the simulation; 0 or a negative errno (EMFILE: raise the file limit). */
int sessions_run(const struct sessions_conf *c, struct sessions_result *res);
