/* SPDX-License-Identifier: MIT */
/*
 * Configuration: lispms.yaml read with libyaml, checked against the
 * declarative schema tables of src/conf/schema*.c (the same tables give
 * docs/configuration.md), and built into one immutable snapshot, struct
 * conf, that the daemon publishes with lrcu_publish() and replaces on reload.
 *
 * Threads: loading, diffing and freeing have no global state and may run on
 * any thread (the daemon uses the control thread). A snapshot is never
 * written after conf_load_*() returns, so every accessor is safe from any
 * thread that can see it (inside an RCU read section once published).
 * Ownership: conf_load_*() gives the caller the snapshot; conf_free() frees
 * it at once, conf_retire() after an RCU grace period (for the published
 * one). Every pointer an accessor or a struct here holds lives exactly as
 * long as its snapshot: copy what must outlive it.
 * Errors: LISPMS_ECONFIG for an invalid file (unreadable, bad YAML, schema or
 * cross-check failures), LISPMS_ENOMEM; struct conf_error says where and why.
 */
#pragma once

#ifndef LISPMS_USES_CONF
#error "conf.h: this subsystem does not declare conf as a dependency"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sys/socket.h>

#include <lispms/addr.h>
#include <lispms/log.h>

/* RFC 9301 Algorithm IDs of the site keys (the numbers on the wire). */
enum conf_alg {
	LISPMS_CONF_ALG_HMAC_SHA_1_96 = 1,
	LISPMS_CONF_ALG_HMAC_SHA_256_128 = 2,
};

/* "hmac-sha-1-96", "hmac-sha-256-128", or NULL for another number. */
const char *conf_alg_name(unsigned alg);

struct conf_key {
	uint8_t id;	       /* Key ID, 0..255, unique in its site */
	uint8_t alg;	       /* enum conf_alg */
	uint16_t secret_len;   /* bytes, > 0 */
	const uint8_t *secret; /* secret_len bytes, also NUL-terminated */
};

struct conf_site {
	const char *name; /* unique, non-empty */
	uint32_t index;	  /* position in `sites:` */
	const struct conf_key *keys;
	size_t nkeys;
	const struct eid_prefix *prefixes; /* as configured, normalised */
	size_t nprefixes;
	const struct eid_prefix *allowed_rlocs; /* IPv4/IPv6, iid 0; none: any locator */
	size_t nallowed_rlocs;
	bool accept_more_specifics;
	bool proxy_reply;
	bool merge;
	bool allow_subscribe;	       /* its registered xTRs may subscribe (RFC 9437) */
	bool reliable_transport;       /* server.reliable-transport unless set here */
	uint32_t registration_timeout; /* seconds; server's unless set here */
	uint8_t key_slot[256];	       /* key id -> index + 1 in keys, 0 = none (duplicate check) */
};

/* server.quic: QUIC sessions (docs/protocol.md D17); absent: no QUIC. */
struct conf_quic {
	bool enabled;		 /* the section is present */
	uint16_t port;		 /* UDP port of QUIC (default 4343) */
	const char *certificate; /* PEM chain, leaf first */
	const char *key;	 /* PEM private key */
	const char *client_ca;	 /* PEM CAs client certificates must chain to, or NULL */
	const char *alpn;	 /* TLS ALPN (default lisp-rt) */
	uint32_t idle_timeout;	 /* seconds, QUIC max_idle_timeout */
};

/* server.sctp: SCTP sessions in user space over UDP encapsulation
 * (docs/protocol.md D18); absent: no SCTP. */
struct conf_sctp {
	bool enabled;	   /* the section is present */
	uint16_t port;	   /* SCTP port (default 4342) */
	uint16_t udp_port; /* UDP port of the encapsulation (default 9899) */
};

/* server.tls: TLS 1.3 over TCP sessions (docs/protocol.md D19); absent: no TLS. */
struct conf_tls {
	bool enabled;		    /* the section is present */
	uint16_t port;		    /* TCP port of TLS (default 4344) */
	const char *certificate;    /* PEM chain, leaf first */
	const char *key;	    /* PEM private key */
	const char *client_ca;	    /* PEM CAs client certificates must chain to, or NULL */
	uint32_t handshake_timeout; /* seconds a connection may take to finish its handshake */
};

/* A router allowed to subscribe that registers nothing (RFC 9437, D20). */
struct conf_subscriber {
	const char *name; /* unique, non-empty */
	const char *xtr_id_text;
	uint8_t xtr_id[16];	     /* parsed from xtr_id_text */
	const struct conf_key *keys; /* keys[0] signs its publications */
	size_t nkeys;
	const struct eid_prefix *prefixes; /* what it may subscribe to; none: anything */
	size_t nprefixes;
};

#define LISPMS_MAX_REFERRALS 255 /* a Map-Referral record's 8-bit count */

/* ddt.delegations[]: one delegated prefix of a DDT node (RFC 8111). */
struct conf_ddt_delegation {
	struct eid_prefix prefix;	   /* "[IID] prefix", normalised */
	bool map_servers;		   /* the referrals are Map-Servers (MS-REFERRAL) */
	const struct lisp_addr *referrals; /* child DDT nodes or Map-Servers */
	size_t nreferrals;
};

/*
 * A PEM key file named in the configuration (docs/protocol.md D24): its
 * path and, read and checked when the configuration is loaded, its text.
 * Unset: path NULL.
 */
struct conf_key_file {
	const char *path;
	const char *pem;
	size_t pem_len;
};

/* map-resolver.delegation-keys[]: the public keys answering for a delegated prefix. */
struct conf_mr_key {
	struct eid_prefix prefix;
	struct conf_key_file key;
};

/* ddt: lispms as a DDT node (RFC 8111); absent: no delegation table. */
struct conf_ddt {
	bool enabled;				/* the section is present */
	const struct eid_prefix *authoritative; /* prefixes this node answers for */
	size_t nauthoritative;
	const struct conf_ddt_delegation *delegations;
	size_t ndelegations;
	uint32_t referral_ttl;		  /* minutes, of NODE-REFERRAL and MS-REFERRAL */
	uint32_t hole_ttl;		  /* minutes, of DELEGATION-HOLE */
	struct conf_key_file signing_key; /* RSA private key: every Map-Referral signed (D24) */
	uint32_t signature_validity;	  /* minutes a signature is valid after it is made */
};

/* map-resolver: lispms as a DDT Map-Resolver (RFC 8111 §7.3); absent: not one. */
struct conf_map_resolver {
	bool enabled;		       /* the section is present */
	const struct lisp_addr *roots; /* the DDT root's addresses */
	size_t nroots;
	const struct lisp_addr *listen; /* the resolver's own sockets (D23) */
	size_t nlisten;
	uint16_t port;		   /* their UDP port */
	uint16_t ddt_port;	   /* UDP port of DDT nodes and Map-Servers */
	uint32_t cache_max;	   /* referral-cache entries */
	uint32_t pending_max;	   /* requests in resolution */
	uint32_t timeout_ms;	   /* per DDT Map-Request */
	uint32_t retries;	   /* extra rounds over a referral set */
	uint32_t max_depth;	   /* referrals followed per resolution */
	uint32_t reply_rate_limit; /* negative Map-Replies per second per ITR (D22), 0: off */
	struct conf_key_file trust_anchors; /* the root's public keys: referrals verified (D24) */
	const struct conf_mr_key *delegation_keys;
	size_t ndelegation_keys;
};

struct conf_server {
	const struct lisp_addr *listen; /* IPv4/IPv6; default 0.0.0.0 and :: */
	size_t nlisten;
	uint16_t port;		       /* UDP and TCP */
	uint32_t workers;	       /* 0: one per core (conf_workers()) */
	uint32_t registration_timeout; /* seconds of UDP soft state */
	bool reliable_transport;       /* accept TCP sessions */
	uint32_t keepalive;	       /* seconds idle before TCP keepalive probes */
	uint32_t user_timeout;	       /* seconds, TCP_USER_TIMEOUT */
	uint32_t max_sessions;	       /* 0: no limit */
	uint64_t session_output_limit; /* bytes queued to one session before it is dropped */
	uint32_t session_read_timeout; /* seconds a partial message may stay pending; 0: off */
	uint32_t listen_backlog;       /* listen(2) backlog of the TCP listeners */
	uint32_t reply_rate_limit;     /* Map-Replies per second to one address; 0: off */
	bool cpu_pinning;	       /* pin workers to cores */
	struct conf_quic quic;	       /* QUIC sessions, when quic.enabled */
	struct conf_sctp sctp;	       /* SCTP sessions, when sctp.enabled */
	struct conf_tls tls;	       /* TLS over TCP sessions, when tls.enabled */
};

struct conf_metrics {
	bool enabled; /* the section is present */
	struct lisp_addr addr;
	uint16_t port;
	struct sockaddr_storage sa; /* addr and port, ready for bind() */
	socklen_t salen;
};

struct conf_control {
	const char *socket; /* UNIX socket path */
};

struct conf_fastpath {
	bool enabled; /* the section is present (only in a DPDK build) */
	const char *const *eal_args;
	size_t neal_args;
	const char *port; /* PCI address or DPDK vdev string */
	const struct lisp_addr *addresses;
	size_t naddresses;
	uint32_t queues;
	const char *next_hop_mac;    /* "02:00:00:00:00:01", NULL: none */
	uint32_t mbufs;		     /* packet buffers in the pool */
	const char *exception_iface; /* kernel TAP interface to create, NULL: none */
};

/* Options of one load. */
struct conf_options {
	bool fastpath_available; /* fastpath_available() of this binary */
};

#define LISPMS_CONF_ERR_PATH 128
#define LISPMS_CONF_ERR_MSG  512
#define LISPMS_CONF_ERR_ALL  4096

/*
 * Why a load failed. `msg` is the first error in the shape
 *   lispms.yaml:14:9: sites[0].keys[1].algorithm: unknown algorithm "hmac-md5"
 *   (expected hmac-sha-1-96 or hmac-sha-256-128)
 * and `all` every error found, one per line (truncated when very long).
 */
struct conf_error {
	unsigned count;			 /* errors found, 0 on success */
	unsigned line, column;		 /* of the first one, 1-based; 0 when not in the file */
	char path[LISPMS_CONF_ERR_PATH]; /* its key path, "" for the whole file */
	char msg[LISPMS_CONF_ERR_MSG];
	char all[LISPMS_CONF_ERR_ALL];
};

struct conf;

/* Read, check and build a snapshot. `err` may be NULL; `opts` may be NULL (no DPDK). */
int conf_load_file(const char *path, const struct conf_options *opts, struct conf **out,
		   struct conf_error *err);

/* The same from memory; `name` stands for the file in messages. */
int conf_load_buf(const char *name, const char *buf, size_t len, const struct conf_options *opts,
		  struct conf **out, struct conf_error *err);

/* Free at once (never published, or after the last reader is gone). NULL is fine. */
void conf_free(struct conf *c);

/* Free after an RCU grace period; the caller is an RCU-registered thread. */
void conf_retire(struct conf *c);

/* The name given to the loader (the path for conf_load_file). */
const char *conf_source(const struct conf *c);

const struct conf_server *conf_server(const struct conf *c);
const struct conf_metrics *conf_metrics(const struct conf *c);
const struct conf_control *conf_control(const struct conf *c);
const struct conf_fastpath *conf_fastpath(const struct conf *c);
enum log_level conf_log_level(const struct conf *c);

/* Sites in file order: for (i = 0; i < conf_site_count(c); i++) conf_site_at(c, i). */
size_t conf_site_count(const struct conf *c);
const struct conf_site *conf_site_at(const struct conf *c, size_t i);

/* The `subscribers:` list, in file order. */
size_t conf_subscriber_count(const struct conf *c);
const struct conf_subscriber *conf_subscriber_at(const struct conf *c, size_t i);

/* The `ddt:` section (enabled false when absent). */
const struct conf_ddt *conf_ddt(const struct conf *c);

/* The `map-resolver:` section (enabled false when absent). */
const struct conf_map_resolver *conf_map_resolver(const struct conf *c);

/* By name (binary search), NULL when there is none. */
const struct conf_site *conf_site_find(const struct conf *c, const char *name);

/* Worker threads to start: server.workers, or `nproc` (at least 1) when 0. */
unsigned conf_workers(const struct conf *c, unsigned nproc);

/*
 * Listen address i (0 <= i < nlisten) with server.port as a sockaddr for
 * bind(); returns the length. Any other address: lisp_addr_to_sockaddr() (addr.h).
 */
socklen_t conf_listen_sockaddr(const struct conf *c, size_t i, struct sockaddr_storage *ss);

/* Warnings that do not stop a load (e.g. overlapping prefixes), for the log. */
size_t conf_warning_count(const struct conf *c);
const char *conf_warning_at(const struct conf *c, size_t i);

/* Same content (the source name aside): loading one file twice gives equal snapshots. */
bool conf_equal(const struct conf *a, const struct conf *b);

/* What a reload changes, as conf_diff() reports it. */
enum conf_change {
	LISPMS_CONF_SITE_ADDED,	    /* new_site is new */
	LISPMS_CONF_SITE_REMOVED,   /* old_site is gone: withdraw all it registered */
	LISPMS_CONF_SITE_CHANGED,   /* both set; `what` says which parts */
	LISPMS_CONF_PREFIX_ADDED,   /* prefix now configured in new_site */
	LISPMS_CONF_PREFIX_REMOVED, /* prefix no longer in old_site's name: withdraw */
	LISPMS_CONF_SETTING_CHANGED /* a setting outside sites: `key` names it */
};

/* `what` bits of LISPMS_CONF_SITE_CHANGED. */
enum conf_site_part {
	LISPMS_CONF_SITE_KEYS = 1u << 0,	   /* keys added, removed or changed */
	LISPMS_CONF_SITE_PREFIXES = 1u << 1,	   /* see the PREFIX events */
	LISPMS_CONF_SITE_MORE_SPECIFICS = 1u << 2, /* accept-more-specifics */
	LISPMS_CONF_SITE_ALLOWED_RLOCS = 1u << 3,
	LISPMS_CONF_SITE_PROXY_REPLY = 1u << 4,
	LISPMS_CONF_SITE_MERGE = 1u << 5,
	LISPMS_CONF_SITE_TRANSPORT = 1u << 6, /* reliable-transport */
	LISPMS_CONF_SITE_TIMEOUT = 1u << 7,   /* registration-timeout */
	LISPMS_CONF_SITE_SUBSCRIBE = 1u << 8, /* allow-subscribe */
};

struct conf_diff_event {
	enum conf_change change;
	const struct conf_site *old_site; /* in the old snapshot, or NULL */
	const struct conf_site *new_site; /* in the new snapshot, or NULL */
	const struct eid_prefix *prefix;  /* PREFIX events */
	unsigned what;			  /* SITE_CHANGED: enum conf_site_part bits */
	const char *key;		  /* SETTING_CHANGED: "server.port", ... */
	bool needs_restart;		  /* SETTING_CHANGED: cannot apply live */
};

/* Called once per change; return non-zero to stop (conf_diff returns it). */
typedef int conf_diff_fn(const struct conf_diff_event *ev, void *arg);

/*
 * Report what changes from `old` to `new`, sites matched by name, every
 * removal before any addition (a prefix moved between sites is withdrawn
 * before it is offered again):
 *   1. for each old site: REMOVED and a PREFIX_REMOVED per prefix when it is
 *      gone; else CHANGED (if anything differs) and its PREFIX_REMOVED;
 *   2. for each new site: ADDED and a PREFIX_ADDED per prefix when it is new;
 *      else its PREFIX_ADDED;
 *   3. SETTING_CHANGED for each other key that differs ("metrics" alone when
 *      a whole optional section appears or goes).
 * Prefixes compare as sets (order and `[0]` spelling do not count).
 * Returns 0, the first non-zero value of `fn`, or LISPMS_ENOMEM.
 */
int conf_diff(const struct conf *old, const struct conf *new, conf_diff_fn *fn, void *arg);

/* Write the schema as Markdown (docs/configuration.md is this output). */
void conf_schema_dump_markdown(FILE *f);

/* The same as the manual page lispms.yaml(5) in roff; version goes in its footer. */
void conf_schema_dump_man(FILE *f, const char *version);
