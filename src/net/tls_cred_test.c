/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/err.h>

#include "tls_cred.h"

/* A fresh test CA from deploy/tls/make-test-ca.sh, once per process. */
static char dir[64];

static const char *p(const char *name)
{
	static char buf[4][160];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void make_ca(void)
{
	snprintf(dir, sizeof(dir), "/tmp/lispms-tls-cred.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s/deploy/tls/make-test-ca.sh %s >/dev/null",
		 LISPMS_SOURCE_ROOT, dir);
	cr_assert_eq(system(cmd), 0, "make-test-ca.sh failed");
}

static void rm_ca(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
}

TestSuite(tls_cred, .init = make_ca, .fini = rm_ca);

Test(tls_cred, loads_a_pair_and_a_client_ca)
{
	struct tls_cred *c = NULL;
	char err[256] = "";
	cr_assert_eq(
	    tls_cred_load(&c, p("server.pem"), p("server-key.pem"), NULL, err, sizeof(err)),
	    LISPMS_EOK, "%s", err);
	cr_assert(!c->verify_client);
	tls_cred_free(c);
	c = NULL;
	cr_assert_eq(
	    tls_cred_load(&c, p("server.pem"), p("server-key.pem"), p("ca.pem"), err, sizeof(err)),
	    LISPMS_EOK, "%s", err);
	cr_assert(c->verify_client);
	tls_cred_free(c);
}

Test(tls_cred, errors_name_the_file)
{
	struct tls_cred *c = NULL;
	char err[256] = "";
	cr_assert_eq(tls_cred_load(&c, p("nope.pem"), p("server-key.pem"), NULL, err, sizeof(err)),
		     LISPMS_ECONFIG);
	cr_assert_null(c);
	cr_assert(strstr(err, "certificate") && strstr(err, "nope.pem"), "%s", err);
	cr_assert(strstr(err, "No such file"), "%s", err);

	/* a key in place of the certificate */
	cr_assert_eq(
	    tls_cred_load(&c, p("server-key.pem"), p("server-key.pem"), NULL, err, sizeof(err)),
	    LISPMS_ECONFIG);
	cr_assert(strstr(err, "certificate") && strstr(err, "server-key.pem"), "%s", err);

	/* a certificate in place of the key */
	cr_assert_eq(tls_cred_load(&c, p("server.pem"), p("server.pem"), NULL, err, sizeof(err)),
		     LISPMS_ECONFIG);
	cr_assert(strstr(err, "key") && strstr(err, "server.pem"), "%s", err);

	/* the key of another certificate */
	cr_assert_eq(
	    tls_cred_load(&c, p("server.pem"), p("client-key.pem"), NULL, err, sizeof(err)),
	    LISPMS_ECONFIG);
	cr_assert(strstr(err, "client-key.pem"), "%s", err);

	/* a client-ca that is not there, or holds no certificate */
	cr_assert_eq(tls_cred_load(&c, p("server.pem"), p("server-key.pem"), p("none.pem"), err,
				   sizeof(err)),
		     LISPMS_ECONFIG);
	cr_assert(strstr(err, "client-ca") && strstr(err, "none.pem"), "%s", err);
	cr_assert_eq(tls_cred_load(&c, p("server.pem"), p("server-key.pem"), p("server-key.pem"),
				   err, sizeof(err)),
		     LISPMS_ECONFIG);
	cr_assert(strstr(err, "client-ca") && strstr(err, "server-key.pem"), "%s", err);
	cr_assert_null(c);
}
