/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/err.h>

#include "test_ca.h"
#include "tls_cred.h"

static void make_ca(void)
{
	test_ca_make("tls-cred");
}

TestSuite(tls_cred, .init = make_ca, .fini = test_ca_remove);

Test(tls_cred, loads_a_pair_and_a_client_ca)
{
	struct tls_cred *c = NULL;
	char err[256] = "";
	cr_assert_eq(tls_cred_load(&c, test_ca("server.pem"), test_ca("server-key.pem"), NULL, err,
				   sizeof(err)),
		     LISPMS_EOK, "%s", err);
	cr_assert(!c->verify_client);
	tls_cred_free(c);
	c = NULL;
	cr_assert_eq(tls_cred_load(&c, test_ca("server.pem"), test_ca("server-key.pem"),
				   test_ca("ca.pem"), err, sizeof(err)),
		     LISPMS_EOK, "%s", err);
	cr_assert(c->verify_client);
	tls_cred_free(c);
}

Test(tls_cred, errors_name_the_file)
{
	struct tls_cred *c = NULL;
	char err[256] = "";
	cr_assert_eq(tls_cred_load(&c, test_ca("nope.pem"), test_ca("server-key.pem"), NULL, err,
				   sizeof(err)),
		     LISPMS_ECONFIG);
	cr_assert_null(c);
	cr_assert(strstr(err, "certificate") && strstr(err, "nope.pem"), "%s", err);
	cr_assert(strstr(err, "No such file"), "%s", err);

	/* a key in place of the certificate */
	cr_assert_eq(tls_cred_load(&c, test_ca("server-key.pem"), test_ca("server-key.pem"), NULL,
				   err, sizeof(err)),
		     LISPMS_ECONFIG);
	cr_assert(strstr(err, "certificate") && strstr(err, "server-key.pem"), "%s", err);

	/* a certificate in place of the key */
	cr_assert_eq(
	    tls_cred_load(&c, test_ca("server.pem"), test_ca("server.pem"), NULL, err, sizeof(err)),
	    LISPMS_ECONFIG);
	cr_assert(strstr(err, "key") && strstr(err, "server.pem"), "%s", err);

	/* the key of another certificate */
	cr_assert_eq(tls_cred_load(&c, test_ca("server.pem"), test_ca("client-key.pem"), NULL, err,
				   sizeof(err)),
		     LISPMS_ECONFIG);
	cr_assert(strstr(err, "client-key.pem"), "%s", err);

	/* a client-ca that is not there, or holds no certificate */
	cr_assert_eq(tls_cred_load(&c, test_ca("server.pem"), test_ca("server-key.pem"),
				   test_ca("none.pem"), err, sizeof(err)),
		     LISPMS_ECONFIG);
	cr_assert(strstr(err, "client-ca") && strstr(err, "none.pem"), "%s", err);
	cr_assert_eq(tls_cred_load(&c, test_ca("server.pem"), test_ca("server-key.pem"),
				   test_ca("server-key.pem"), err, sizeof(err)),
		     LISPMS_ECONFIG);
	cr_assert(strstr(err, "client-ca") && strstr(err, "server-key.pem"), "%s", err);
	cr_assert_null(c);
}
