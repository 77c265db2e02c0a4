/* SPDX-License-Identifier: MIT */
/* lispms-bench lig: one ECM Map-Request, the Map-Reply printed for a person. */
#pragma once

#include <stdio.h>

#include <sys/socket.h>

#include <lispms/addr.h>
#include <lispms/proto.h>

struct lig_conf {
	struct sockaddr_storage server; /* with its port */
	struct eid_prefix eid;
	unsigned timeout_ms; /* in all, over every try */
	unsigned tries;
};

/* Print a decoded Map-Reply: each record's EID prefix, TTL, action, A bit,
 * version and locators (priority, weight, flags). */
void lig_print(FILE *f, const struct lisp_map_reply *r);

/* Ask and print; 0, or 1 with a message on stderr (timeout, socket error). */
int lig_run(const struct lig_conf *c);
