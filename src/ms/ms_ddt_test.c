/* SPDX-License-Identifier: MIT */
/*
 * lispms as a DDT Map-Server (RFC 8111 §7.3): a DDT Map-Request (ECM with
 * the D bit) gets a Map-Referral to its sender: MS-ACK (and the usual proxy
 * reply or forward), MS-NOT-REGISTERED, NOT-AUTHORITATIVE. An ECM without
 * D gets no referral. And as a DDT node (a `ddt:` delegation table):
 * NODE-REFERRAL, MS-REFERRAL, DELEGATION-HOLE, NOT-AUTHORITATIVE, across a
 * reload.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include <lispms/counters.h>

#include "ms_testlib.h"
#include "testkey.h"

static const char *conf_text = "control: {socket: /tmp/x.sock}\n"
			       "sites:\n"
			       "  - name: alpha\n"
			       "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: a-key}]\n"
			       "    eid-prefixes: [\"[7] 10.1.0.0/16\"]\n"
			       "    accept-more-specifics: true\n"
			       "    allowed-rlocs: [192.0.2.0/24]\n"
			       "  - name: beta\n"
			       "    keys: [{id: 2, algorithm: hmac-sha-256-128, secret: b-key}]\n"
			       "    eid-prefixes: [\"[7] 10.2.0.0/16\"]\n"
			       "    accept-more-specifics: true\n"
			       "    proxy-reply: true\n";

static const char *ddt_conf =
    "  - name: gamma\n"
    "    keys: [{id: 3, algorithm: hmac-sha-256-128, secret: c-key}]\n"
    "    eid-prefixes: [\"[1000] 10.9.0.0/16\"]\n"
    "ddt:\n"
    "  authoritative-prefixes: [\"[1000] 10.0.0.0/8\", \"0.0.0.0/0\"]\n"
    "  delegations:\n"
    "    - {prefix: \"[1000] 10.1.0.0/16\", referrals: [192.0.2.10, "
    "\"2001:db8::10\"]}\n"
    "    - {prefix: \"[1000] 10.2.0.0/16\", map-servers: true, referrals: "
    "[192.0.2.20]}\n";

static struct tl x;
static struct arena ar;

static char *with_ddt(void)
{
	static char text[4096];
	snprintf(text, sizeof(text), "%s%s", conf_text, ddt_conf);
	return text;
}

static void setup_with(const char *text)
{
	tl_init(&x, text);
	cr_assert_eq(arena_init(&ar, 1 << 16), LISPMS_EOK);
	static const char *const a[] = { "[7] 10.1.1.0/24", NULL };
	static const char *const b[] = { "[7] 10.2.2.0/24", NULL };
	cr_assert_eq(tl_register(&x, a, "192.0.2.1", 1, "a-key", "192.0.2.1"), 1);
	cr_assert_eq(tl_register(&x, b, "192.0.2.2", 2, "b-key", "192.0.2.2"), 1);
}

static void setup(void)
{
	setup_with(conf_text);
}

static void setup_node(void)
{
	setup_with(with_ddt());
}

static void teardown(void)
{
	arena_deinit(&ar);
	tl_deinit(&x);
}

TestSuite(ddt_ms, .init = setup, .fini = teardown);
TestSuite(ddt_node, .init = setup_node, .fini = teardown);

/* An ECM Map-Request for `eid` from 198.51.100.7 with ITR-RLOC 203.0.113.9. */
static void feed_ecm(const char *eid, uint32_t ecm_flags)
{
	struct eid_prefix p = tl_eid(eid);
	struct lisp_addr itr;
	cr_assert_eq(lisp_addr_parse("203.0.113.9", &itr), LISPMS_EOK);
	struct afi_addr itr_w;
	afi_from_addr(&itr, &itr_w);
	struct lisp_request_record rr = { .eid_plen = p.plen };
	afi_from_eid(&p, &rr.eid);
	struct lisp_map_request q = {
		.nonce = 0xfeed, .nitr = 1, .itr_rlocs = &itr_w, .nrecords = 1, .records = &rr
	};
	uint8_t inner[512], buf[1024];
	size_t ilen, len;
	cr_assert_eq(map_request_encode(&q, inner, sizeof(inner), &ilen), LISPMS_EOK);
	struct lisp_ecm e = { .flags = ecm_flags,
			      .ip_version = 4,
			      .ttl = 64,
			      .sport = 4342,
			      .dport = 4342,
			      .inner = inner,
			      .inner_len = ilen };
	cr_assert_eq(lisp_addr_parse("198.51.100.7", &e.src), LISPMS_EOK);
	cr_assert_eq(lisp_addr_parse("10.1.1.1", &e.dst), LISPMS_EOK);
	cr_assert_eq(ecm_encode(&e, buf, sizeof(buf), &len), LISPMS_EOK);
	tl_feed(&x, buf, len, "198.51.100.7");
}

/* The one Map-Referral in the output, sent to 198.51.100.7; NULL when none. */
static const struct lisp_referral_record *referral_out(void)
{
	const struct lisp_referral_record *found = NULL;
	for (unsigned i = 0; i < x.out.n; i++) {
		const struct dgram_out *o = &x.out.msgs[i];
		if (msg_type(o->data, o->len) != LISP_MSG_MAP_REFERRAL)
			continue;
		cr_assert_null(found, "two Map-Referrals");
		struct lisp_map_referral m;
		cr_assert_eq(map_referral_decode(o->data, o->len, &ar, &m), LISPMS_EOK);
		cr_assert_eq(m.nonce, 0xfeed);
		cr_assert_eq(m.nrecords, 1);
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&o->dst;
		cr_assert_eq(ntohl(sin->sin_addr.s_addr), 0xc6336407u); /* 198.51.100.7 */
		found = &m.records[0];
	}
	return found;
}

static unsigned count_type(unsigned type)
{
	unsigned n = 0;
	for (unsigned i = 0; i < x.out.n; i++)
		n += msg_type(x.out.msgs[i].data, x.out.msgs[i].len) == (int)type;
	return n;
}

static void check_prefix(const struct lisp_record *r, const char *want)
{
	struct eid_prefix got, p = tl_eid(want);
	cr_assert_eq(record_eid(r, &got), LISPMS_EOK);
	cr_assert(eid_prefix_equal(&got, &p), "prefix is not %s", want);
}

Test(ddt_ms, registered_and_forwarded_gets_ms_ack)
{
	feed_ecm("[7] 10.1.1.5/32", LISP_ECM_D);
	const struct lisp_referral_record *r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.act, LISP_REF_MS_ACK);
	cr_assert_eq(r->r.a, 1);
	cr_assert_eq(r->r.nlocs, 0);
	cr_assert_eq(r->r.reserved, LISP_REF_I, "no Map-Server set: incomplete (RFC 8111 6.4.1)");
	cr_assert_eq(r->r.ttl, 1440, "the MS-ACK TTL of RFC 8111 6.4.1, not the registration's");
	check_prefix(&r->r, "[7] 10.1.1.0/24");
	cr_assert_eq(count_type(LISP_MSG_ECM), 1, "the request goes on to the ETR");
	for (unsigned i = 0; i < x.out.n; i++)
		if (msg_type(x.out.msgs[i].data, x.out.msgs[i].len) == LISP_MSG_ECM) {
			struct lisp_ecm e;
			cr_assert_eq(ecm_decode(x.out.msgs[i].data, x.out.msgs[i].len, &e),
				     LISPMS_EOK);
			cr_assert_eq(e.flags & (LISP_ECM_E | LISP_ECM_D), LISP_ECM_E);
		}
}

Test(ddt_ms, registered_and_proxied_gets_ms_ack_and_reply)
{
	feed_ecm("[7] 10.2.2.9/32", LISP_ECM_D);
	const struct lisp_referral_record *r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.act, LISP_REF_MS_ACK);
	check_prefix(&r->r, "[7] 10.2.2.0/24");
	cr_assert_eq(count_type(LISP_MSG_MAP_REPLY), 1, "proxy-answered to the ITR");
}

Test(ddt_ms, configured_unregistered_gets_ms_not_registered)
{
	feed_ecm("[7] 10.1.200.1/32", LISP_ECM_D);
	const struct lisp_referral_record *r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.act, LISP_REF_MS_NOT_REGISTERED);
	cr_assert_eq(r->r.ttl, 1, "the negative TTL of a configured prefix");
	cr_assert_eq(r->r.reserved, LISP_REF_I, "no Map-Server set: incomplete (RFC 8111 6.4.1)");
	check_prefix(&r->r, "[7] 10.1.128.0/17"); /* the hole ms_decide computes */
	cr_assert_eq(x.out.n, 1, "no Map-Reply beside the referral");
}

Test(ddt_ms, outside_the_sites_gets_not_authoritative)
{
	feed_ecm("[9] 10.1.1.1/32", LISP_ECM_D);
	const struct lisp_referral_record *r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.act, LISP_REF_NOT_AUTHORITATIVE);
	cr_assert_eq(r->r.a, 0);
	cr_assert_eq(r->r.ttl, 0);
	cr_assert_eq(r->r.reserved, LISP_REF_I, "NOT-AUTHORITATIVE is incomplete (RFC 8111 6.4.1)");
	check_prefix(&r->r, "[9] 10.1.1.1/32");
	cr_assert_eq(x.out.n, 1);
}

Test(ddt_ms, ecm_without_d_gets_no_referral)
{
	feed_ecm("[7] 10.2.2.9/32", 0);
	cr_assert_null(referral_out());
	cr_assert_eq(count_type(LISP_MSG_MAP_REPLY), 1);
	feed_ecm("[9] 10.1.1.1/32", 0);
	cr_assert_null(referral_out());
	cr_assert_eq(count_type(LISP_MSG_MAP_REPLY), 1, "a negative Map-Reply");
}

Test(ddt_node, delegation_to_ddt_nodes_gets_node_referral)
{
	uint64_t before = counters_sum(LISPMS_M_MS_DDT_NODE_REFERRAL);
	feed_ecm("[1000] 10.1.5.5/32", LISP_ECM_D);
	const struct lisp_referral_record *r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.act, LISP_REF_NODE_REFERRAL);
	cr_assert_eq(r->r.a, 1);
	cr_assert_eq(r->r.reserved, 0, "a node's referral set is complete");
	cr_assert_eq(r->r.ttl, 1440);
	check_prefix(&r->r, "[1000] 10.1.0.0/16");
	cr_assert_eq(r->r.nlocs, 2);
	cr_assert_arr_eq(r->r.locs[0].addr.bytes, ((uint8_t[]){ 192, 0, 2, 10 }), 4);
	cr_assert_eq(r->r.locs[1].addr.afi, LISP_AFI_IPV6);
	cr_assert_eq(x.out.n, 1);
	cr_assert_eq(counters_sum(LISPMS_M_MS_DDT_NODE_REFERRAL), before + 1);
}

Test(ddt_node, delegation_to_map_servers_gets_ms_referral)
{
	feed_ecm("[1000] 10.2.200.1/32", LISP_ECM_D);
	const struct lisp_referral_record *r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.act, LISP_REF_MS_REFERRAL);
	check_prefix(&r->r, "[1000] 10.2.0.0/16");
	cr_assert_eq(r->r.nlocs, 1);
	cr_assert_arr_eq(r->r.locs[0].addr.bytes, ((uint8_t[]){ 192, 0, 2, 20 }), 4);
}

Test(ddt_node, undelegated_inside_authority_gets_the_covering_hole)
{
	feed_ecm("[1000] 10.200.1.1/32", LISP_ECM_D);
	const struct lisp_referral_record *r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.act, LISP_REF_DELEGATION_HOLE);
	cr_assert_eq(r->r.a, 1);
	cr_assert_eq(r->r.reserved, 0, "a hole may be cached");
	cr_assert_eq(r->r.ttl, 15);
	cr_assert_eq(r->r.nlocs, 0);
	check_prefix(&r->r, "[1000] 10.128.0.0/9");
	/* beside the delegations: the least specific prefix that overlaps none */
	feed_ecm("[1000] 10.3.1.1/32", LISP_ECM_D);
	r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.act, LISP_REF_DELEGATION_HOLE);
	check_prefix(&r->r, "[1000] 10.3.0.0/16");
	/* an authoritative prefix with no delegation at all: the whole of it */
	feed_ecm("192.0.2.77/32", LISP_ECM_D);
	r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.act, LISP_REF_DELEGATION_HOLE);
	check_prefix(&r->r, "0.0.0.0/0");
}

Test(ddt_node, outside_authority_gets_not_authoritative)
{
	feed_ecm("[5] 10.1.1.1/32", LISP_ECM_D);
	const struct lisp_referral_record *r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.act, LISP_REF_NOT_AUTHORITATIVE);
	cr_assert_eq(r->r.a, 0);
	cr_assert_eq(r->r.ttl, 0);
	cr_assert_eq(r->r.reserved, LISP_REF_I, "NOT-AUTHORITATIVE is incomplete (RFC 8111 6.4.1)");
	check_prefix(&r->r, "[5] 10.1.1.1/32");
}

Test(ddt_node, the_sites_answer_before_the_table)
{
	feed_ecm("[1000] 10.9.1.1/32", LISP_ECM_D);
	const struct lisp_referral_record *r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.act, LISP_REF_MS_NOT_REGISTERED);
}

Test(ddt_node, reload_swaps_the_table)
{
	char msg[256];
	cr_assert_eq(ms_reload(x.ms, tl_conf(conf_text), msg, sizeof(msg)), LISPMS_EOK, "%s", msg);
	feed_ecm("[1000] 10.1.5.5/32", LISP_ECM_D);
	const struct lisp_referral_record *r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.act, LISP_REF_NOT_AUTHORITATIVE, "no table after the reload");
	cr_assert_eq(ms_reload(x.ms, tl_conf(with_ddt()), msg, sizeof(msg)), LISPMS_EOK, "%s", msg);
	feed_ecm("[1000] 10.1.5.5/32", LISP_ECM_D);
	r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.act, LISP_REF_NODE_REFERRAL);
}

/*
 * Signed referrals (ddt.signing-key, docs/protocol.md D24): every record a
 * DDT node or DDT Map-Server sends carries one RSA-SHA256 signature of its
 * key, valid now, its Original Record TTL the record's; a reload changes
 * the key; a bad key file is a configuration error at its line.
 */
static char key_paths[2][64];

static char *signed_conf(unsigned key, bool node)
{
	static char text[8192];
	for (unsigned i = 0; i < 2; i++)
		if (key_paths[i][0] == '\0') {
			snprintf(key_paths[i], sizeof(key_paths[i]), "/tmp/lispms-ddtkey-%d-%u.pem",
				 (int)getpid(), i);
			cr_assert_eq(testkey_write(i, true, key_paths[i]), 0);
		}
	if (node)
		snprintf(text, sizeof(text), "%s%s  signing-key: %s\n  signature-validity: 30\n",
			 conf_text, ddt_conf, key_paths[key]);
	else
		snprintf(text, sizeof(text), "%sddt:\n  signing-key: %s\n", conf_text,
			 key_paths[key]);
	return text;
}

static void setup_signed_node(void)
{
	setup_with(signed_conf(0, true));
}

static void setup_signed_ms(void)
{
	setup_with(signed_conf(0, false));
}

static void teardown_signed(void)
{
	teardown();
	for (unsigned i = 0; i < 2; i++)
		unlink(key_paths[i]);
}

TestSuite(ddt_signed_node, .init = setup_signed_node, .fini = teardown_signed);
TestSuite(ddt_signed_ms, .init = setup_signed_ms, .fini = teardown_signed);

static struct referral_key *public_key(unsigned i)
{
	struct referral_key *k;
	size_t n;
	const char *why;
	const char *pem = testkey_pem(i, false);
	cr_assert_eq(referral_key_parse(pem, strlen(pem), false, &k, 1, &n, &why), LISPMS_EOK);
	return k;
}

/* r carries one signature of key i, valid now for `validity` minutes. */
static void check_signed(const struct lisp_referral_record *r, unsigned i, unsigned validity)
{
	cr_assert_not_null(r);
	cr_assert_eq(r->r.rsvd, 1, "SigCnt");
	const struct lisp_ref_sig *s = &r->sigs[0];
	cr_assert_eq(s->alg, LISP_REF_SIG_RSA_SHA256);
	cr_assert_eq(s->orig_ttl, r->r.ttl);
	uint64_t now = (uint64_t)time(NULL);
	cr_assert_leq(s->inception, now);
	cr_assert_geq(s->inception + 300 + 5, now, "inception 5 minutes back");
	cr_assert_geq(s->expiration, now + validity * 60 - 5);
	cr_assert_leq(s->expiration, now + validity * 60 + 5);
	struct referral_key *k = public_key(i), *other = public_key(1 - i);
	cr_assert_eq(referral_sig_verify(k, r, s), LISPMS_EOK);
	cr_assert_neq(referral_sig_verify(other, r, s), LISPMS_EOK);
	referral_key_free(k);
	referral_key_free(other);
}

Test(ddt_signed_node, every_answer_of_a_node_is_signed)
{
	static const char *const eids[] = { "[1000] 10.1.5.5/32", "[1000] 10.2.200.1/32",
					    "[1000] 10.200.1.1/32", "[5] 10.1.1.1/32",
					    "[1000] 10.9.1.1/32" };
	static const uint8_t acts[] = { LISP_REF_NODE_REFERRAL, LISP_REF_MS_REFERRAL,
					LISP_REF_DELEGATION_HOLE, LISP_REF_NOT_AUTHORITATIVE,
					LISP_REF_MS_NOT_REGISTERED };
	uint64_t before = counters_sum(LISPMS_M_MS_DDT_SIGNED);
	for (unsigned i = 0; i < 5; i++) {
		feed_ecm(eids[i], LISP_ECM_D);
		const struct lisp_referral_record *r = referral_out();
		cr_assert_not_null(r, "%s", eids[i]);
		cr_assert_eq(r->r.act, acts[i], "%s", eids[i]);
		check_signed(r, 0, 30);
	}
	cr_assert_eq(counters_sum(LISPMS_M_MS_DDT_SIGNED), before + 5);
}

Test(ddt_signed_node, a_reload_changes_the_key_and_removing_it_stops_signing)
{
	char msg[256];
	cr_assert_eq(ms_reload(x.ms, tl_conf(signed_conf(1, true)), msg, sizeof(msg)), LISPMS_EOK,
		     "%s", msg);
	feed_ecm("[1000] 10.1.5.5/32", LISP_ECM_D);
	check_signed(referral_out(), 1, 30);
	cr_assert_eq(ms_reload(x.ms, tl_conf(with_ddt()), msg, sizeof(msg)), LISPMS_EOK, "%s", msg);
	feed_ecm("[1000] 10.1.5.5/32", LISP_ECM_D);
	const struct lisp_referral_record *r = referral_out();
	cr_assert_not_null(r);
	cr_assert_eq(r->r.rsvd, 0, "unsigned without signing-key");
}

Test(ddt_signed_ms, a_map_server_signs_ms_ack_and_ms_not_registered)
{
	feed_ecm("[7] 10.1.1.5/32", LISP_ECM_D);
	const struct lisp_referral_record *r = referral_out();
	cr_assert_eq(r->r.act, LISP_REF_MS_ACK);
	check_signed(r, 0, 60);
	cr_assert_eq(count_type(LISP_MSG_ECM), 1, "the request still goes on to the ETR");
	feed_ecm("[7] 10.1.200.1/32", LISP_ECM_D);
	r = referral_out();
	cr_assert_eq(r->r.act, LISP_REF_MS_NOT_REGISTERED);
	check_signed(r, 0, 60);
	/* a ddt: section with only the key answers outside the sites as before */
	feed_ecm("[9] 10.1.1.1/32", LISP_ECM_D);
	r = referral_out();
	cr_assert_eq(r->r.act, LISP_REF_NOT_AUTHORITATIVE);
	check_signed(r, 0, 60);
}

/* The first error of loading text: "file:line:column: path: message". */
static void load_error(const char *text, char *out, size_t cap)
{
	struct conf *c = NULL;
	struct conf_error err;
	cr_assert_neq(conf_load_buf("test.yaml", text, strlen(text), NULL, &c, &err), LISPMS_EOK);
	snprintf(out, cap, "%s", err.msg);
}

Test(ddt_signed_ms, bad_key_files_are_configuration_errors_at_their_line)
{
	char text[8192], got[1024];
	const char *pub = "/tmp/lispms-ddtkey-pub.pem";
	cr_assert_eq(testkey_write(0, false, pub), 0);
	snprintf(text, sizeof(text), "%sddt:\n  signing-key: %s\n", conf_text, pub);
	load_error(text, got, sizeof(got));
	cr_assert(strstr(got, "test.yaml:14:16: ddt.signing-key: /tmp/lispms-ddtkey-pub.pem: not a "
			      "PEM private key") == got,
		  "%s", got);
	snprintf(text, sizeof(text), "%sddt:\n  signing-key: /nonexistent/k.pem\n", conf_text);
	load_error(text, got, sizeof(got));
	cr_assert(strstr(got, "cannot read /nonexistent/k.pem") != NULL, "%s", got);
	/* a FIFO or a device would block the load: refused without reading */
	snprintf(text, sizeof(text), "%sddt:\n  signing-key: /dev/stdin\n", conf_text);
	load_error(text, got, sizeof(got));
	cr_assert(strstr(got, "/dev/stdin: not a regular file") != NULL, "%s", got);
	snprintf(text, sizeof(text),
		 "%smap-resolver:\n  roots: [192.0.2.1]\n  listen: [127.0.0.1]\n"
		 "  trust-anchors: %s\n  delegation-keys:\n"
		 "    - {prefix: \"[1000] 10.0.0.0/8\", key: %s}\n",
		 conf_text, pub, key_paths[0]);
	struct conf *c = NULL;
	cr_assert_eq(conf_load_buf("test.yaml", text, strlen(text), NULL, &c, NULL), LISPMS_EOK,
		     "a private key file stands for its public half");
	conf_free(c);
	FILE *f = fopen(pub, "w");
	cr_assert_not_null(f);
	fputs("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", f);
	fclose(f);
	snprintf(text, sizeof(text),
		 "%smap-resolver:\n  roots: [192.0.2.1]\n  listen: [127.0.0.1]\n"
		 "  trust-anchors: %s\n",
		 conf_text, pub);
	load_error(text, got, sizeof(got));
	cr_assert(strstr(got, "test.yaml:16:18: map-resolver.trust-anchors: "
			      "/tmp/lispms-ddtkey-pub.pem: ") == got,
		  "%s", got);
	unlink(pub);
}

Test(ddt_signed_node, a_repeated_answer_reuses_the_workers_signature)
{
	uint64_t made = counters_sum(LISPMS_M_MS_DDT_SIGNATURES);
	uint64_t sent = counters_sum(LISPMS_M_MS_DDT_SIGNED);
	feed_ecm("[1000] 10.1.5.5/32", LISP_ECM_D);
	const struct lisp_referral_record *r = referral_out();
	check_signed(r, 0, 30);
	uint8_t first[LISP_REF_SIG_MIN_LEN + 512];
	memcpy(first, r->sigs[0].hdr, LISP_REF_SIG_MIN_LEN + r->sigs[0].len);
	/* another EID under the same delegation: the same record, the same signature */
	feed_ecm("[1000] 10.1.77.1/32", LISP_ECM_D);
	r = referral_out();
	check_signed(r, 0, 30);
	cr_assert_eq(memcmp(first, r->sigs[0].hdr, LISP_REF_SIG_MIN_LEN + r->sigs[0].len), 0);
	cr_assert_eq(counters_sum(LISPMS_M_MS_DDT_SIGNATURES), made + 1, "one RSA signature");
	cr_assert_eq(counters_sum(LISPMS_M_MS_DDT_SIGNED), sent + 2);
	/* another record: signed anew */
	feed_ecm("[1000] 10.2.200.1/32", LISP_ECM_D);
	check_signed(referral_out(), 0, 30);
	cr_assert_eq(counters_sum(LISPMS_M_MS_DDT_SIGNATURES), made + 2);
	/* a reload: the cache does not serve the old index's signatures, even with the same key */
	char msg[256];
	cr_assert_eq(ms_reload(x.ms, tl_conf(signed_conf(0, true)), msg, sizeof(msg)), LISPMS_EOK,
		     "%s", msg);
	feed_ecm("[1000] 10.1.5.5/32", LISP_ECM_D);
	check_signed(referral_out(), 0, 30);
	cr_assert_eq(counters_sum(LISPMS_M_MS_DDT_SIGNATURES), made + 3);
}
