/* SPDX-License-Identifier: MIT */
/*
 * Test support for end-to-end tests of lispmsd: free ports, client sockets
 * bound to loopback addresses, spawning and reaping the daemon, and LISP
 * messages built with the codec (signed Map-Registers, Map-Requests bare or
 * in an ECM).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include <lispms/proto.h>

/* Path of the lispmsd under test, and the HMAC context the builders use. */
extern const char *it_daemon;
extern struct auth_ctx *it_auth;

/* A private directory for this run's files (mkdtemp under /tmp), in it_dir. */
extern char it_dir[64];
int it_tempdir(void);
/* Remove the run's directory and what is in it (when every check passed). */
void it_tempdir_remove(void);

uint16_t it_free_port(void);
/* A UDP socket bound to addr:port (port 0: any). */
int it_client(const char *addr, uint16_t port);
int it_write_file(const char *path, const char *text);
/* Send msg from fd to addr:port. */
void it_send_to(int fd, const char *addr, uint16_t port, const uint8_t *msg, size_t len);
/* One datagram within timeout_ms into buf, its sender's address (no port) into from
 * (may be NULL); its length, or -1 on timeout. */
ssize_t it_recv_from(int fd, uint8_t *buf, size_t len, int timeout_ms, char *from, size_t fromlen);
/* The local port fd is bound to. */
uint16_t it_local_port(int fd);
/*
 * An ITR (socket itr, address itr_addr, port itr_port) asks the resolver
 * at mr:port for eid in an ECM Map-Request with nonce: the first
 * one-record Map-Reply with that nonce within 3 s, decoded into *rep (its
 * records in ar, reset first), and who sent it; false without one.
 */
bool it_ask(int itr, const char *itr_addr, uint16_t itr_port, const char *mr, uint16_t port,
	    const char *eid, uint64_t nonce, struct arena *ar, struct lisp_map_reply *rep,
	    char *from, size_t fromlen);
/* Start lispmsd -c path with stdout and stderr to log. */
pid_t it_spawn(const char *path, const char *log);
/* Exit status (128 + signal), or -1 after killing it when it did not exit in time. */
int it_wait_exit(pid_t pid, int timeout_ms);
bool it_file_has(const char *path, const char *needle);
/* A lispmsd with map-resolver: opens the resolver's sockets after its Map-Server role
 * answers; true once the log file of run-directory NAME says they are open (5 s at most). */
bool it_resolver_up(const char *name);
/* A lispmsd at addr:port is up: a bare Map-Request from itr (any port) gets an answer
 * within 5 s (100 tries, 50 ms apart). */
bool it_probe(const char *itr, const char *addr, uint16_t port);

/* True when tshark can run; otherwise the caller fails the check (or skips
 * it when LISPMS_ALLOW_NO_TSHARK is set). */
bool it_have_tshark(void);
/* Run a shell command printing one number (e.g. `tshark ... | wc -l`); -1 on failure. */
long it_shell_count(const char *cmd);

struct it_reg {
	uint32_t flags;
	uint64_t nonce;
	const struct auth_key *key;
	uint16_t auth_len; /* 0: the algorithm's full length */
	const char *eids[4];
	const char *rloc; /* one locator per record */
	uint8_t priority;
	uint32_t ttl;
	const uint8_t *xtr_id;
};

/* A signed Map-Register; its length, or 0. */
size_t it_build_register(const struct it_reg *r, uint8_t *out, size_t cap_len);
/* Register r from address etr with the Map-Server at ms:port: a Map-Notify came back
 * within 1.5 s. */
bool it_register_once(const char *etr, const char *ms, uint16_t port, const struct it_reg *r);
/* A Map-Request for eid from ITR-RLOC itr, bare or in an ECM naming sport. */
size_t it_build_request(const char *eid, const char *itr, uint64_t nonce, bool ecm, uint16_t sport,
			uint8_t *out, size_t cap_len);
bool it_record_is(const struct lisp_record *r, const char *prefix);
/* Is the wire address a with mask-len plen the prefix written as text? */
bool it_prefix_is(const struct afi_addr *a, uint8_t plen, const char *prefix);
