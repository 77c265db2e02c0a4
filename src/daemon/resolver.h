/* SPDX-License-Identifier: MIT */
/*
 * Private to the daemon: lispmsd's Map-Resolver role (RFC 9301 §8.1 and
 * RFC 8111 §7.3), started when the configuration has a `map-resolver:`
 * section. One thread owns the resolution core (ms/mr.c), its own UDP
 * sockets (map-resolver.listen on map-resolver.port, disjoint from the
 * Map-Server's: docs/protocol.md D23) and the clock that drives mr_tick. See
 * resolver.c for what arrives there and what leaves.
 */
#pragma once

#include <lispms/conf.h>
#include <lispms/ctl.h>

struct resolver;

/*
 * Open the sockets and start the thread; on error log it, return the code
 * and leave *out NULL. c must hold an enabled map-resolver section.
 */
int resolver_start(const struct conf *c, struct resolver **out);

/* Stop the thread, close the sockets, free everything (NULL is fine). */
void resolver_stop(struct resolver *r);

/* `lispmsctl resolver cache` and `resolver pending` on the control socket. */
void resolver_ctl_install(struct resolver *r, struct ctl *ctl);
