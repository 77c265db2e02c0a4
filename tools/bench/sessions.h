/* SPDX-License-Identifier: MIT */
/*
 * The simulated ETRs of lispms-bench (sessions.c): N ETRs with M EIDs each,
 * on UDP soft state, reliable transport, or a mix, spread over threads.
 * Phases, each bounded in time: converge (every record acknowledged),
 * subscribe (publish/subscribe subscribers get their initial state), idle
 * (what still flows), mobility (moves between ETRs, latency to the displaced
 * ETR's notification), churn (withdraw / re-register), hold (keep serving,
 * reconnecting after a lost session, measuring the reconvergence).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

#include "layout.h"
#include "stats.h"
#include "subscribers.h"
#include "transport.h"

struct sessions_conf {
	struct sockaddr_storage server;	    /* IPv4: the sessions (and UDP by default) */
	struct bench_chain transports;	    /* what carries the sessions (n == 0: tcp) */
	struct bench_transport_opts topts;  /* their certificates and ports */
	struct sockaddr_storage udp_server; /* AF_UNSPEC: server; else the r=1 registers go here */
	uint32_t source_base;		    /* 0: 127.1.0.1; ETR i uses source_base + i */
	unsigned etrs;
	unsigned first_etr; /* index of the first simulated ETR (split over processes) */
	unsigned eids_per_etr;
	struct layout layout; /* afi, iid, iids (per is set from eids_per_etr) */
	uint8_t key_id, alg;
	const char *secret;
	unsigned locators;	/* per ETR, 1..8 */
	double udp_share;	/* fraction of ETRs on UDP soft state, 0..1 */
	double udp_interval;	/* seconds between UDP refreshes */
	unsigned batch;		/* records per Map-Register or Registration, 1..100 */
	unsigned threads;	/* 1..64 */
	bool storm;		/* start every ETR at once (else waves of 200 per thread) */
	double ramp_s;		/* storm: start them evenly over this long instead (0: at once) */
	double duration;	/* bound on the convergence, seconds */
	double idle_s;		/* then hold everything idle this long (0: skip) */
	uint64_t moves;		/* then move up to this many EIDs (0: skip) */
	double move_rate;	/* moves per second */
	double move_s;		/* for at most this long */
	uint64_t churn;		/* then withdraw / re-register this many times (0: skip) */
	double churn_rate;	/* operations per second */
	double churn_s;		/* for at most this long */
	double hold_s;		/* then keep the fabric up this long (0: skip) */
	bool until_reconverged; /* end the hold once a loss has been recovered */
	const struct subs_conf *subs; /* subscribers after convergence (NULL: none) */
	int progress;		      /* 0 none, 1 plain lines, 2 one live line (a terminal) */
	const char *label;	      /* progress lines begin "LABEL: " (NULL: nothing) */
};

/* Why a reliable ETR lost its session (or never got one up). */
enum sessions_loss {
	SLOSS_HANDSHAKE, /* the transport's handshake never completed (timed out, failed) */
	SLOSS_REFRESH,	 /* handshake done (or none), no Refresh by the deadline */
	SLOSS_CLOSED,	 /* closed, reset or timed out by the server or the path */
	SLOSS_STREAM,	 /* bad framing or a message too big for the buffer */
	SLOSS_SEND,	 /* a write failed */
	SLOSS_OPEN,	 /* no session: open failed or the site offers none */
	SESSIONS_LOSS_COUNT
};

enum sessions_lat {
	SL_AUTH,       /* r=1 Map-Register -> Map-Notify with r */
	SL_REG_ACK,    /* Registration -> ACK or Reject of each record */
	SL_UDP_NOTIFY, /* UDP Map-Register -> Map-Notify */
	SL_MOVE,       /* move registered -> displaced ETR notified */
	SL_CHURN,      /* withdrawal or re-registration -> ACK */
	SL_RECONNECT,  /* session lost -> every record ACKed again on a new one */
	SL_COUNT
};

/*
 * The fabric over time, sampled by the driver every interval_s (0.1 s; when
 * SESSIONS_SERIES_MAX samples are taken, every other one is dropped and the
 * interval doubles, so any run fits): what bench/report's convergence
 * timeline plots.
 */
#define SESSIONS_SERIES_MAX 1024

struct sessions_sample {
	float t_s;	    /* since the start */
	uint8_t phase;	    /* sessions_phase_name() */
	unsigned up;	    /* ETRs with every record acknowledged */
	uint64_t acked;	    /* records ACKed on sessions so far */
	uint64_t udp_acked; /* records confirmed by UDP Map-Notifies so far */
	uint64_t lost;	    /* sessions lost so far */
};

struct sessions_series {
	double interval_s;
	unsigned n;
	struct sessions_sample s[SESSIONS_SERIES_MAX];
};

struct sessions_result {
	unsigned etrs, reliable, udp;
	unsigned up;	 /* ETRs with every record acknowledged at the end of converge */
	unsigned up_end; /* the same at the end */
	bool converged;
	double converge_s;    /* first message to the last record acknowledged */
	uint64_t acked;	      /* records ACKed on sessions */
	uint64_t rejected[5]; /* by reason (index 0: reasons not in the table) */
	uint64_t udp_acked;   /* records confirmed by UDP Map-Notifies */
	uint64_t auth_sent, auth_timeouts;
	uint64_t udp_registers, udp_retransmits;
	uint64_t sessions_lost, reconnects, connect_failures;
	uint64_t sessions_over[BT_COUNT]; /* sessions that brought a Refresh, per transport */
	uint64_t fallbacks; /* auto: a session failed to open, the ETR tries the next transport */
	uint64_t lost_by[SESSIONS_LOSS_COUNT]; /* sessions_lost by cause */
	uint64_t error_notifications;	       /* type 16 received */
	uint64_t notify_ok, notify_bad_auth, notify_acks_sent;
	uint64_t bytes_out, bytes_in, packets_out, packets_in; /* application, whole run */
	double idle_s;
	uint64_t idle_bytes, idle_packets; /* both directions, during the idle phase */
	uint64_t idle_udp_bytes, idle_udp_packets;
	uint64_t moves_sent, moves_notified;
	double moves_s;
	uint64_t churn_sent, churn_acked;
	double churn_s;
	uint64_t reconvergences;
	double reconverge_s;	 /* the last one: first loss to every record ACKed again */
	double reconverged_unix; /* wall clock of that moment */
	double hold_s;
	struct stats_hist lat[SL_COUNT];
	bool has_subs;
	struct subs_result subs;
	struct sessions_series series;
};

const char *sessions_lat_name(enum sessions_lat l);
/* "handshake_incomplete", ... (the JSON's lost_<name> keys) */
const char *sessions_loss_name(enum sessions_loss l);
const char *sessions_phase_name(unsigned phase);

/* Run the simulation; 0 or a negative errno (EMFILE: raise the file limit). */
int sessions_run(const struct sessions_conf *c, struct sessions_result *res);

/*
 * The same fabric against n Map-Servers at once (--server A,B,...): every
 * ETR registers its EIDs with every server, over a UDP socket and a session
 * of its own per server (one sessions_run() per server, on its own thread,
 * each with its own phases). res[i] is server i's result; total adds them up
 * over every (ETR, server) pair: etrs, up and acked are sums, converged
 * only when every server's run converged, durations the longest; its time
 * series stays empty. Moves, churn, subscribers and --udp-server need one
 * server (-EINVAL). n == 1 is sessions_run() and *total a copy of res[0].
 */
#define SESSIONS_SERVERS_MAX 8

int sessions_run_servers(const struct sessions_conf *c, const struct sockaddr_storage *servers,
			 unsigned n, struct sessions_result *res, struct sessions_result *total);
