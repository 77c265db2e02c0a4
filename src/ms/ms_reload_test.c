/* SPDX-License-Identifier: MIT */
/* Live reload: what stays, what goes, and a bad file changing nothing. */
#include <stdio.h>
#include <unistd.h>

#include "ms_testlib.h"

#define SITE_A                                                              \
	"  - name: alpha\n"                                                 \
	"    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: a-key}]\n" \
	"    accept-more-specifics: true\n"
#define SITE_B                                                              \
	"  - name: beta\n"                                                  \
	"    keys: [{id: 2, algorithm: hmac-sha-256-128, secret: b-key}]\n" \
	"    eid-prefixes: [\"[7] 10.2.0.0/16\"]\n"

static const char *base =
    "control: {socket: /tmp/x.sock}\n"
    "server: {registration-timeout: 60}\n"
    "sites:\n" SITE_A "    eid-prefixes: [\"[7] 10.1.0.0/16\", \"[7] 10.9.0.0/16\"]\n" SITE_B;

static struct tl x;
static unsigned applied_calls;

static void setup(void)
{
	tl_init(&x, base);
	applied_calls = 0;
}

static void teardown(void)
{
	tl_deinit(&x);
}

TestSuite(reload, .init = setup, .fini = teardown);

static int reload(const char *text, char *msg, size_t len)
{
	return ms_reload(x.ms, tl_conf(text), msg, len);
}

static void reg_ok(const char *eid, const char *rloc, uint8_t key, const char *secret)
{
	const char *e[] = { eid, NULL };
	cr_assert_eq(tl_register(&x, e, rloc, key, secret, "127.0.0.1"), 1, "%s", eid);
}

Test(reload, a_removed_prefix_withdraws_its_registrations_and_keeps_the_rest)
{
	reg_ok("[7] 10.1.1.0/24", "192.0.2.1", 1, "a-key");
	reg_ok("[7] 10.9.1.0/24", "192.0.2.1", 1, "a-key");
	reg_ok("[7] 10.9.0.0/16", "192.0.2.1", 1, "a-key");
	reg_ok("[7] 10.2.0.0/16", "192.0.2.2", 2, "b-key");
	struct ms_site_info a;
	lrcu_read_lock();
	ms_site_find(x.ms, "alpha", &a);
	lrcu_read_unlock();
	uint64_t before = counters_site_sum(a.num, LISPMS_S_RELOAD_WITHDRAWN);
	char msg[512];
	cr_assert_eq(reload("control: {socket: /tmp/x.sock}\n"
			    "server: {registration-timeout: 60}\n"
			    "sites:\n" SITE_A "    eid-prefixes: [\"[7] 10.1.0.0/16\"]\n" SITE_B,
			    msg, sizeof(msg)),
		     LISPMS_EOK);
	cr_assert(strstr(msg, "generation 2") && strstr(msg, "2 registrations removed"), "%s", msg);
	cr_assert(tl_registered(&x, "[7] 10.1.1.0/24"));
	cr_assert(!tl_registered(&x, "[7] 10.9.1.0/24"));
	cr_assert(!tl_registered(&x, "[7] 10.9.0.0/16"));
	cr_assert(tl_registered(&x, "[7] 10.2.0.0/16"));
	cr_assert_eq(counters_site_sum(a.num, LISPMS_S_RELOAD_WITHDRAWN) - before, 2);
	/* the new rules apply to the next register */
	const char *e[] = { "[7] 10.9.2.0/24", NULL };
	cr_assert_eq(tl_register(&x, e, "192.0.2.1", 1, "a-key", "127.0.0.1"), 0);
	struct ms_reload_status st;
	ms_reload_status_get(x.ms, &st);
	cr_assert_eq(st.generation, 2);
	cr_assert(st.last_ok);
	cr_assert_eq(st.last_withdrawn, 2);
}

Test(reload, a_removed_site_loses_everything_another_keeps_everything)
{
	for (int i = 0; i < 300; i++) { /* more than one walk step needs */
		char eid[64];
		snprintf(eid, sizeof(eid), "[7] 10.1.%d.%d/32", i / 200, i % 200);
		reg_ok(eid, "192.0.2.1", 1, "a-key");
	}
	reg_ok("[7] 10.2.0.0/16", "192.0.2.2", 2, "b-key");
	char msg[512];
	cr_assert_eq(reload("control: {socket: /tmp/x.sock}\n"
			    "sites:\n" SITE_B,
			    msg, sizeof(msg)),
		     LISPMS_EOK);
	cr_assert(strstr(msg, "300 registrations removed"), "%s", msg);
	cr_assert(tl_registered(&x, "[7] 10.2.0.0/16"));
	cr_assert(!tl_registered(&x, "[7] 10.1.0.5/32"));
	struct db_stats ds;
	db_stats_get(ms_db(x.ms), &ds);
	cr_assert_eq(ds.registrations, 1);
}

/* Register n /32s under 10.<b>.0.0/16, eight per Map-Register. */
static void reg_many(unsigned b, unsigned n)
{
	static char text[8][64];
	const char *e[9];
	for (unsigned i = 0; i < n;) {
		unsigned k = 0;
		for (; k < 8 && i < n; k++, i++) {
			snprintf(text[k], sizeof(text[k]), "[7] 10.%u.%u.%u/32", b, i / 250,
				 i % 250);
			e[k] = text[k];
		}
		e[k] = NULL;
		cr_assert_eq(tl_register(&x, e, "192.0.2.1", 1, "a-key", "127.0.0.1"), (int)k);
	}
}

Test(reload, a_recheck_of_many_steps_removes_exactly_the_disallowed)
{
	/* 4,500 kept and 1,500 removed under the two roots re-checked: more
	   than one step's prefixes (4,096) and one step's removals (1,024) */
	reg_many(1, 4500);
	reg_many(9, 1500);
	char msg[512];
	cr_assert_eq(reload("control: {socket: /tmp/x.sock}\n"
			    "server: {registration-timeout: 60}\n"
			    "sites:\n" SITE_A "    eid-prefixes: [\"[7] 10.1.0.0/16\"]\n" SITE_B,
			    msg, sizeof(msg)),
		     LISPMS_EOK);
	cr_assert(strstr(msg, "1500 registrations removed"), "%s", msg);
	struct db_stats ds;
	db_stats_get(ms_db(x.ms), &ds);
	cr_assert_eq(ds.registrations, 4500);
	cr_assert(tl_registered(&x, "[7] 10.1.17.249/32"));
	cr_assert(!tl_registered(&x, "[7] 10.9.5.249/32"));
}

Test(reload, narrower_rules_withdraw_what_they_refuse)
{
	reg_ok("[7] 10.1.0.0/16", "192.0.2.1", 1, "a-key");
	reg_ok("[7] 10.1.5.0/24", "192.0.2.1", 1, "a-key");
	reg_ok("[7] 10.9.0.0/16", "198.51.100.1", 1, "a-key");
	reg_ok("[7] 10.9.0.0/17", "192.0.2.1", 1, "a-key");
	char msg[512];
	cr_assert_eq(reload("control: {socket: /tmp/x.sock}\n"
			    "sites:\n"
			    "  - name: alpha\n"
			    "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: a-key}]\n"
			    "    eid-prefixes: [\"[7] 10.1.0.0/16\", \"[7] 10.9.0.0/16\"]\n"
			    "    accept-more-specifics: false\n"
			    "    allowed-rlocs: [192.0.2.0/24]\n" SITE_B,
			    msg, sizeof(msg)),
		     LISPMS_EOK);
	cr_assert(tl_registered(&x, "[7] 10.1.0.0/16"), "exact prefix, allowed locator");
	cr_assert(!tl_registered(&x, "[7] 10.1.5.0/24"), "more-specifics no longer accepted");
	cr_assert(!tl_registered(&x, "[7] 10.9.0.0/16"), "locator no longer allowed");
	cr_assert(!tl_registered(&x, "[7] 10.9.0.0/17"));
}

Test(reload, a_new_site_inside_another_takes_its_eids)
{
	reg_ok("[7] 10.1.5.0/24", "192.0.2.1", 1, "a-key");
	reg_ok("[7] 10.1.6.0/24", "192.0.2.1", 1, "a-key");
	char msg[512];
	cr_assert_eq(reload("control: {socket: /tmp/x.sock}\n"
			    "sites:\n" SITE_A
			    "    eid-prefixes: [\"[7] 10.1.0.0/16\", \"[7] 10.9.0.0/16\"]\n" SITE_B
			    "  - name: gamma\n"
			    "    keys: [{id: 3, algorithm: hmac-sha-256-128, secret: c-key}]\n"
			    "    eid-prefixes: [\"[7] 10.1.5.0/24\"]\n",
			    msg, sizeof(msg)),
		     LISPMS_EOK);
	cr_assert(!tl_registered(&x, "[7] 10.1.5.0/24"), "now gamma's: alpha's goes");
	cr_assert(tl_registered(&x, "[7] 10.1.6.0/24"));
	reg_ok("[7] 10.1.5.0/24", "192.0.2.3", 3, "c-key");
}

Test(reload, a_bad_file_keeps_the_running_configuration)
{
	reg_ok("[7] 10.1.1.0/24", "192.0.2.1", 1, "a-key");
	char path[] = "/tmp/lispms-ops-reload-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	const char *bad = "sites:\n  - name: alpha\n    keys: [{id: 1, algorithm: hmac-md5, "
			  "secret: x}]\n    eid-prefixes: [\"[7] 10.1.0.0/16\"]\n";
	cr_assert_eq(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	char msg[512];
	int ret = ms_reload_file(x.ms, path, NULL, msg, sizeof(msg));
	unlink(path);
	cr_assert_eq(ret, LISPMS_ECONFIG);
	cr_assert(strstr(msg, "keeping the running configuration") && strstr(msg, "hmac-md5"), "%s",
		  msg);
	struct ms_reload_status st;
	ms_reload_status_get(x.ms, &st);
	cr_assert_eq(st.generation, 1);
	cr_assert(!st.last_ok);
	cr_assert_gt(st.last_ns, 0);
	cr_assert(tl_registered(&x, "[7] 10.1.1.0/24"));
	reg_ok("[7] 10.9.1.0/24", "192.0.2.1", 1, "a-key"); /* old rules still in force */
	cr_assert_eq(ms_reload_file(x.ms, "/nonexistent/lispms.yaml", NULL, msg, sizeof(msg)),
		     LISPMS_ECONFIG);
}

Test(reload, keys_and_timeout_apply_to_the_next_message)
{
	char msg[512];
	cr_assert_eq(reload("control: {socket: /tmp/x.sock}\n"
			    "server: {registration-timeout: 600, port: 14342}\n"
			    "sites:\n"
			    "  - name: alpha\n"
			    "    keys: [{id: 4, algorithm: hmac-sha-256-128, secret: new-key}]\n"
			    "    accept-more-specifics: true\n"
			    "    eid-prefixes: [\"[7] 10.1.0.0/16\"]\n" SITE_B,
			    msg, sizeof(msg)),
		     LISPMS_EOK);
	cr_assert(strstr(msg, "needs a restart: server.port"), "%s", msg);
	const char *e[] = { "[7] 10.1.1.0/24", NULL };
	cr_assert_eq(tl_register(&x, e, "192.0.2.1", 1, "a-key", "127.0.0.1"), 0);
	cr_assert_eq(tl_register(&x, e, "192.0.2.1", 4, "new-key", "127.0.0.1"), 1);
	uint64_t now = mtime_now_ns();
	cr_assert_eq(db_expire_run(ms_db(x.ms), now + 100 * LISPMS_NS_PER_SEC, NULL), 0,
		     "the new 600 s timeout applies");
	cr_assert_eq(db_expire_run(ms_db(x.ms), now + 700 * LISPMS_NS_PER_SEC, NULL), 1);
}

static void on_applied(void *arg, const struct conf *old, const struct conf *new)
{
	(void)arg;
	cr_assert_eq(conf_site_count(old), 2);
	cr_assert_eq(conf_site_count(new), 1);
	applied_calls++;
}

Test(reload, the_hook_sees_the_change_and_session_registrations_are_withdrawn)
{
	struct ms_reload_hooks h = { .applied = on_applied };
	cr_assert_eq(ms_reload_set_hooks(x.ms, &h), LISPMS_EOK);
	struct ms_site_info a;
	lrcu_read_lock();
	ms_site_find(x.ms, "alpha", &a);
	lrcu_read_unlock();
	struct db_locator l = { .priority = 1 };
	lisp_addr_parse("192.0.2.1", &l.addr);
	struct db_reg_info r = { .locs = &l, .nlocs = 1, .ttl = 3, .site = a.id };
	r.owner.session = 99;
	lisp_addr_parse("192.0.2.1", &r.owner.rloc);
	struct eid_prefix p = tl_eid("[7] 10.1.7.0/24");
	cr_assert_eq(db_register(ms_db(x.ms), &p, &r, mtime_now_ns(), NULL), DB_STORED);
	char msg[512];
	cr_assert_eq(reload("control: {socket: /tmp/x.sock}\nsites:\n" SITE_B, msg, sizeof(msg)),
		     LISPMS_EOK);
	cr_assert_eq(applied_calls, 1);
	cr_assert(!tl_registered(&x, "[7] 10.1.7.0/24"),
		  "the session side withdrew it (and sent its session a Reject, D8: ms.session)");
	cr_assert_eq(ms_reload_set_hooks(x.ms, &h), LISPMS_ELIMIT, "one set of hooks");
}

Test(reload, a_change_outside_sites_rechecks_nothing)
{
	reg_ok("[7] 10.1.1.0/24", "192.0.2.1", 1, "a-key");
	char msg[512];
	cr_assert_eq(reload("control: {socket: /tmp/x.sock}\n"
			    "server: {registration-timeout: 60}\n"
			    "log: {level: error}\n"
			    "sites:\n" SITE_A
			    "    eid-prefixes: [\"[7] 10.1.0.0/16\", \"[7] 10.9.0.0/16\"]\n" SITE_B,
			    msg, sizeof(msg)),
		     LISPMS_EOK);
	cr_assert(strstr(msg, "1 changes, 0 registrations removed"), "%s", msg);
	cr_assert_eq(log_get_level(), LOG_LEVEL_ERROR, "log.level applies at once");
	cr_assert(tl_registered(&x, "[7] 10.1.1.0/24"));
	log_set_level(LOG_LEVEL_INFO);
}
