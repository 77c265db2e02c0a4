/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>

#include <lispms/admit.h>
#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

static struct sockaddr_storage addr(const char *text, uint16_t port)
{
	struct sockaddr_storage ss;
	cr_assert_eq(saddr_parse(text, &ss), LISPMS_EOK);
	saddr_set_port(&ss, port);
	return ss;
}

static void setup(void)
{
	thread_register("test");
}

static void teardown(void)
{
	lrcu_barrier();
	thread_unregister();
}

TestSuite(admit, .init = setup, .fini = teardown);

Test(admit, only_granted_addresses_may_connect_until_expiry)
{
	struct admit *a = admit_new();
	struct sockaddr_storage etr = addr("192.0.2.1", 4342);
	struct sockaddr_storage other = addr("192.0.2.2", 4342);
	cr_assert(!admit_check(a, &etr, 100));
	cr_assert_eq(admit_grant(a, &etr, 1000), LISPMS_EOK);
	cr_assert(admit_check(a, &etr, 999));
	struct sockaddr_storage etr_other_port = addr("192.0.2.1", 51000);
	cr_assert(admit_check(a, &etr_other_port, 999), "the port does not matter");
	cr_assert(!admit_check(a, &other, 999));
	cr_assert(!admit_check(a, &etr, 1000), "expired at its deadline");
	cr_assert_eq(admit_count(a), 1);
	admit_free(a);
}

Test(admit, a_grant_admits_one_session_and_ends_with_it)
{
	struct admit *a = admit_new();
	struct sockaddr_storage etr = addr("2001:db8::1", 0);
	admit_grant(a, &etr, 1000);
	cr_assert_eq(admit_session(a, &etr), 0, "granted, not yet claimed");
	cr_assert(admit_claim(a, &etr, 10, 77));
	cr_assert_eq(admit_session(a, &etr), 77, "the claiming session is remembered");
	cr_assert(!admit_claim(a, &etr, 10, 78), "a second session needs a new grant");
	cr_assert(!admit_check(a, &etr, 10));
	admit_grant(a, &etr, 2000); /* the ETR re-registers over UDP while up */
	cr_assert(!admit_claim(a, &etr, 10, 78), "still claimed by the live session");
	cr_assert_eq(admit_expire(a, 5000), 0, "claimed grants never expire");
	admit_revoke(a, &etr);
	cr_assert_eq(admit_count(a), 0);
	cr_assert_eq(admit_session(a, &etr), 0);
	cr_assert(!admit_claim(a, &etr, 10, 78), "the grant ended with the session");
	admit_grant(a, &etr, 3000);
	cr_assert(admit_claim(a, &etr, 2500, 79), "a fresh r=1 register admits again");
	admit_free(a);
}

Test(admit, regrant_extends_and_expire_removes_only_stale)
{
	struct admit *a = admit_new();
	struct sockaddr_storage x = addr("10.0.0.1", 0), y = addr("10.0.0.2", 0);
	admit_grant(a, &x, 100);
	admit_grant(a, &x, 500);
	admit_grant(a, &x, 200); /* never shortens */
	admit_grant(a, &y, 100);
	cr_assert_eq(admit_count(a), 2);
	cr_assert_eq(admit_expire(a, 300), 1);
	cr_assert(admit_check(a, &x, 300));
	cr_assert(!admit_check(a, &y, 50));
	struct sockaddr_storage unix_addr = { .ss_family = AF_UNIX };
	cr_assert_eq(admit_grant(a, &unix_addr, 100), LISPMS_EAFI);
	admit_free(a);
}
