/* SPDX-License-Identifier: MIT */
/*
 * Reliable-transport admission (docs/protocol.md D5): a source address that sent
 * an authenticated r=1 UDP Map-Register may open one TCP session until the
 * grant expires (the registration timeout after the register). A session
 * claims the grant; when it ends, the grant ends with it, so a new session
 * needs a new authenticated r=1 register. Anything else is refused at once.
 *
 * The table is an RCU hash (liburcu rculfhash) keyed by the address without
 * port: lookups take no lock, a repeated grant only moves an atomic expiry.
 *
 * Threads: every function from any RCU-registered thread; admit_check/claim
 * and admit_grant take the RCU read lock themselves.
 * Ownership: the table owns its entries; admit_free() after the last user.
 * Errors: LISPMS_ENOMEM, LISPMS_EAFI (not IPv4/IPv6).
 */
#pragma once

#ifndef LISPMS_USES_MS
#error "admit.h: this subsystem does not declare ms as a dependency"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

struct admit;

struct admit *admit_new(void);

/* Free the table; no thread may use it any more. */
void admit_free(struct admit *a);

/* addr (port ignored) may open a session until `until_ns` (mtime_now_ns clock). */
int admit_grant(struct admit *a, const struct sockaddr_storage *addr, uint64_t until_ns);

/* True when addr holds an unexpired, unclaimed grant. */
bool admit_check(struct admit *a, const struct sockaddr_storage *addr, uint64_t now_ns);

/*
 * Take the grant for a new session: true when addr held an unexpired grant
 * that no session had claimed; it is now claimed by `session` (non-zero)
 * and no longer expires.
 */
bool admit_claim(struct admit *a, const struct sockaddr_storage *addr, uint64_t now_ns,
		 uint64_t session);

/* The session that holds addr's grant, or 0 (so UDP registers from an ETR on
 * a session refresh the session's state instead of duplicating it). */
uint64_t admit_session(struct admit *a, const struct sockaddr_storage *addr);

/* The session of addr ended: its grant is gone (D5). */
void admit_revoke(struct admit *a, const struct sockaddr_storage *addr);

/* Drop expired, unclaimed grants; returns how many. Housekeeping. */
size_t admit_expire(struct admit *a, uint64_t now_ns);

/* Grants in the table (claimed or not). */
size_t admit_count(struct admit *a);
