/* SPDX-License-Identifier: MIT */
/*
 * For the unit tests that need certificates (net.tls_cred, net.tls,
 * net.quic): a throw-away CA from deploy/tls/make-test-ca.sh (the test is
 * built with LISPMS_SOURCE_ROOT) in a fresh directory, once per process,
 * and the paths of its files. Criterion tests only: failures assert.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#include <criterion/criterion.h>

static char test_ca_dir[64];

/* The CA in a new directory /tmp/lispms-`what`.XXXXXX. */
static inline void test_ca_make(const char *what)
{
	snprintf(test_ca_dir, sizeof(test_ca_dir), "/tmp/lispms-%s.XXXXXX", what);
	cr_assert_not_null(mkdtemp(test_ca_dir));
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s/deploy/tls/make-test-ca.sh %s >/dev/null",
		 LISPMS_SOURCE_ROOT, test_ca_dir);
	cr_assert_eq(system(cmd), 0, "make-test-ca.sh failed");
}

/* The path of `name` (ca.pem, server.pem, server-key.pem, client.pem...)
 * in it; the last four stay valid at once. */
static inline const char *test_ca(const char *name)
{
	static char buf[4][160];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", test_ca_dir, name);
	return buf[i];
}

static inline void test_ca_remove(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", test_ca_dir);
	(void)system(cmd);
}
