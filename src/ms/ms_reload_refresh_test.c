/* SPDX-License-Identifier: MIT */
/* What a reload tells the sessions: Rejects and scoped Refreshes (D8). */
#include "ms_session_testlib.h"

Test(session, a_reload_withdraws_with_reject_and_refreshes_what_it_may_now_allow)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	const char *eids[] = { "[1000] 10.1.1.0/24" }, *rlocs[] = { "192.0.2.1" };
	uint8_t msg[2048];
	size_t len = registration(eids, rlocs, 3, 1, &key_a, msg, sizeof(msg));
	ms_session_recv(t, s, msg, len);
	c.len = 0;
	/* alpha now owns 10.9.0.0/16 instead of 10.1.0.0/16 */
	const char *next = "server:\n"
			   "  listen: [127.0.0.1]\n"
			   "  registration-timeout: 60\n"
			   "sites:\n"
			   "  - name: alpha\n"
			   "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"k\"}]\n"
			   "    eid-prefixes: [\"[1000] 10.9.0.0/16\"]\n"
			   "    accept-more-specifics: true\n"
			   "    allowed-rlocs: [\"192.0.2.0/24\"]\n";
	struct conf *nc;
	struct conf_error err;
	cr_assert_eq(conf_load_buf("t2.yaml", next, strlen(next), NULL, &nc, &err), LISPMS_EOK,
		     "%s", err.all);
	lrcu_read_unlock(); /* a reload waits for a grace period */
	char why[256];
	cr_assert_eq(ms_reload(ms, nc, why, sizeof(why)), LISPMS_EOK, "%s", why);
	lrcu_read_lock();
	struct dgram_out slots[4];
	struct dgram_outbox out = { .msgs = slots, .cap = 4, .arena = &ar };
	ms_tick(t, mtime_now_ns(), &out);
	struct rt_msg m[8];
	unsigned n = decode_all(&c, m, 8);
	bool reject = false, refresh = false;
	for (unsigned i = 0; i < n; i++) {
		if (m[i].type == RT_TYPE_REGISTRATION_REJECT &&
		    m[i].u.reject.reason == RT_REASON_NOT_SITE_PREFIX &&
		    prefix_is(&m[i].u.reject.eid, "[1000] 10.1.1.0/24"))
			reject = true;
		if (m[i].type == RT_TYPE_REGISTRATION_REFRESH &&
		    m[i].u.refresh.scope == RT_SCOPE_COVERED &&
		    (m[i].u.refresh.flags & RT_FLAG_REJECTED_ONLY) &&
		    prefix_is(&m[i].u.refresh.eid, "[1000] 10.9.0.0/16"))
			refresh = true;
	}
	cr_assert(reject, "the prefix no longer allowed is withdrawn with a Reject (D8)");
	cr_assert(refresh, "the new prefix is refreshed, scope 3, rejected only (D8)");
	struct eid_prefix p;
	eid_prefix_parse("[1000] 10.1.1.0/24", &p);
	cr_assert_null(db_lookup_exact(ms_db(ms), &p), "and no longer served");
	ms_session_closed(t, s, STREAM_CLOSE_PEER);
	free(c.buf);
}

/* Reload to `text`, run the worker's tick, return the Refreshes it wrote. */
static unsigned refreshes_after_reload(const char *text, struct fake_conn *c, struct rt_msg *out,
				       unsigned max)
{
	struct conf *nc;
	struct conf_error err;
	cr_assert_eq(conf_load_buf("t3.yaml", text, strlen(text), NULL, &nc, &err), LISPMS_EOK,
		     "%s", err.all);
	lrcu_read_unlock();
	char why[256];
	cr_assert_eq(ms_reload(ms, nc, why, sizeof(why)), LISPMS_EOK, "%s", why);
	lrcu_read_lock();
	struct dgram_out slots[4];
	struct dgram_outbox ob = { .msgs = slots, .cap = 4, .arena = &ar };
	ms_tick(t, mtime_now_ns(), &ob);
	struct rt_msg all[32];
	unsigned n = decode_all(c, all, 32), k = 0;
	for (unsigned i = 0; i < n && k < max; i++)
		if (all[i].type == RT_TYPE_REGISTRATION_REFRESH) {
			cr_assert(all[i].u.refresh.flags & RT_FLAG_REJECTED_ONLY);
			out[k++] = all[i];
		}
	return k;
}

Test(session, a_reload_refreshes_each_change_with_the_narrowest_scope)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	c.len = 0;
	/*
	 * alpha (more-specifics) gains 10.5.0.0/16 and 10.5.1.0/24 inside it: one scope 3;
	 * beta (exact prefixes only) gains 10.6.0.0/16: scope 4;
	 * gamma is new with IPv4 /0 of instance 2000: scope 2;
	 * delta is new with the /0 of every family of instance 3000: one scope 1.
	 */
	const char *next = "server:\n"
			   "  listen: [127.0.0.1]\n"
			   "  registration-timeout: 60\n"
			   "sites:\n"
			   "  - name: alpha\n"
			   "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"k\"}]\n"
			   "    eid-prefixes: [\"[1000] 10.1.0.0/16\", \"[1000] 10.5.0.0/16\",\n"
			   "                   \"[1000] 10.5.1.0/24\"]\n"
			   "    accept-more-specifics: true\n"
			   "    allowed-rlocs: [\"192.0.2.0/24\"]\n"
			   "  - name: beta\n"
			   "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"b\"}]\n"
			   "    eid-prefixes: [\"[1000] 10.2.0.0/16\", \"[1000] 10.6.0.0/16\"]\n"
			   "  - name: gamma\n"
			   "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"g\"}]\n"
			   "    eid-prefixes: [\"[2000] 0.0.0.0/0\"]\n"
			   "  - name: delta\n"
			   "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"d\"}]\n"
			   "    eid-prefixes: [\"[3000] 0.0.0.0/0\", \"[3000] ::/0\",\n"
			   "                   \"[3000] 00:00:00:00:00:00/0\"]\n";
	struct rt_msg m[16];
	unsigned n = refreshes_after_reload(next, &c, m, 16);
	unsigned scope_n[5] = { 0 };
	for (unsigned i = 0; i < n; i++) {
		struct rt_refresh *r = &m[i].u.refresh;
		cr_assert(r->scope <= 4 && r->has_eid, "scope %u", r->scope);
		scope_n[r->scope]++;
		switch (r->scope) {
		case RT_SCOPE_COVERED:
			cr_assert(prefix_is(&r->eid, "[1000] 10.5.0.0/16"),
				  "scope 3 names alpha's /16");
			break;
		case RT_SCOPE_PREFIX:
			cr_assert(prefix_is(&r->eid, "[1000] 10.6.0.0/16"),
				  "scope 4 names beta's prefix");
			break;
		case RT_SCOPE_INSTANCE_AF:
			cr_assert(r->eid.eid.kind == AFI_IID && r->eid.eid.iid == 2000 &&
				      r->eid.eid.afi == LISP_AFI_IPV4 && r->eid.plen == 0 &&
				      r->eid.eid.bytes[0] == 0,
				  "scope 2: IID LCAF 2000, IPv4, zero address, length 0");
			break;
		case RT_SCOPE_INSTANCE:
			cr_assert(r->eid.eid.kind == AFI_IID && r->eid.eid.iid == 3000 &&
				      r->eid.eid.afi == LISP_AFI_NONE,
				  "scope 1: IID LCAF 3000 around AFI 0");
			break;
		default:
			cr_assert_fail("scope %u is wider than any change", r->scope);
		}
	}
	cr_assert_eq(scope_n[RT_SCOPE_COVERED], 1, "10.5.1.0/24 is inside the /16 refresh");
	cr_assert_eq(scope_n[RT_SCOPE_PREFIX], 1);
	cr_assert_eq(scope_n[RT_SCOPE_INSTANCE_AF], 1, "instance 3000's /0s fold into scope 1");
	cr_assert_eq(scope_n[RT_SCOPE_INSTANCE], 1);
	ms_session_closed(t, s, STREAM_CLOSE_PEER);
	free(c.buf);
}

Test(session, a_reload_with_too_many_changes_refreshes_everything_rejected_once)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	c.len = 0;
	/* a new site with 600 exact prefixes: more than the planner narrows */
	static char next[64 * 1024];
	size_t off =
	    (size_t)snprintf(next, sizeof(next),
			     "server:\n"
			     "  listen: [127.0.0.1]\n"
			     "sites:\n"
			     "  - name: many\n"
			     "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"m\"}]\n"
			     "    eid-prefixes:\n");
	for (unsigned i = 0; i < 600; i++)
		off += (size_t)snprintf(next + off, sizeof(next) - off,
					"      - \"[7000] 10.%u.%u.0/24\"\n", i / 256, i % 256);
	struct rt_msg m[4];
	cr_assert_eq(refreshes_after_reload(next, &c, m, 4), 1, "one refresh, not 600");
	cr_assert_eq(m[0].u.refresh.scope, RT_SCOPE_ALL);
	cr_assert_eq(m[0].u.refresh.has_eid, 0, "scope 0 carries no EID-prefix element");
	ms_session_closed(t, s, STREAM_CLOSE_PEER);
	free(c.buf);
}
