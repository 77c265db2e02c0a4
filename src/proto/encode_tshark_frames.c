/* SPDX-License-Identifier: MIT */
/*
 * The encoder's side of encode_tshark_check.c: every kind of message the
 * server emits, encoded by the codec into the pcap, each frame with the
 * field values (and the checks, enum check) tshark must find in it.
 */
#include "encode_tshark.h"

struct frame frames[MAX_FRAMES];
unsigned nframes;
struct pcap pcap;
struct auth_ctx *actx;
struct auth_key key_sha256, key_sha1;
struct arena arena;
static uint32_t seq_etr = 1000, seq_ms = 5000;

static const uint8_t etr[4] = { 192, 0, 2, 1 }, ms[4] = { 192, 0, 2, 100 };

__attribute__((format(printf, 3, 4))) static void add(struct frame *f, enum field id,
						      const char *fmt, ...)
{
	char v[VAL_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	size_t used = strlen(f->val[id]);
	snprintf(f->val[id] + used, VAL_LEN - used, "%s%s", f->set[id] ? "," : "", v);
	f->set[id] = 1;
}

static void add_hex(struct frame *f, enum field id, const uint8_t *b, size_t n)
{
	char h[VAL_LEN];
	if (2 * n + 1 > sizeof(h))
		abort();
	hex_encode(b, n, h);
	add(f, id, "%s", h);
}

static struct frame *frame_new(enum check check, const char *desc)
{
	if (nframes == MAX_FRAMES)
		abort();
	struct frame *f = &frames[nframes++];
	memset(f, 0, sizeof(*f));
	f->check = check;
	snprintf(f->desc, sizeof(f->desc), "%s", desc);
	return f;
}

static const char *addr_text(const struct afi_addr *a, char *buf, size_t len)
{
	if (a->afi == LISP_AFI_IPV4 || a->afi == LISP_AFI_IPV6)
		inet_ntop(a->afi == LISP_AFI_IPV4 ? AF_INET : AF_INET6, a->bytes, buf,
			  (socklen_t)len);
	else
		snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", a->bytes[0], a->bytes[1],
			 a->bytes[2], a->bytes[3], a->bytes[4], a->bytes[5]);
	return buf;
}

/* The LCAF fields of an address, if it is an IID LCAF. */
static void exp_lcaf(struct frame *f, const struct afi_addr *a)
{
	char t[64];
	if (a->kind != AFI_IID)
		return;
	add(f, F_LCAF_TYPE, "%u", LISP_LCAF_IID);
	add(f, F_LCAF_LEN, "%u", 6 + lisp_afi_len(a->afi));
	add(f, F_LCAF_IID, "%u", a->iid);
	add(f, F_LCAF_MLEN, "0x%02x", a->iid_mlen);
	add(f, F_LCAF_AFI, "%u", a->afi);
	if (a->afi == LISP_AFI_IPV4)
		add(f, F_LCAF_V4, "%s", addr_text(a, t, sizeof(t)));
	else if (a->afi == LISP_AFI_IPV6)
		add(f, F_LCAF_V6, "%s", addr_text(a, t, sizeof(t)));
	else if (a->afi == LISP_AFI_MAC)
		add(f, F_LCAF_MAC, "%s", addr_text(a, t, sizeof(t)));
}

static uint16_t wire_afi(const struct afi_addr *a)
{
	return a->kind == AFI_PLAIN ? a->afi : LISP_AFI_LCAF;
}

static void exp_record(struct frame *f, const struct lisp_record *r)
{
	char t[64];
	add(f, F_TTL, "%u", r->ttl);
	add(f, F_LOCCNT, "%u", r->nlocs);
	add(f, F_MASKLEN, "%u", r->eid_plen);
	add(f, F_ACT, "%u", r->act);
	add(f, F_A, "%u", r->a);
	add(f, F_VER, "%u", r->version);
	add(f, F_EID_AFI, "%u", wire_afi(&r->eid));
	if (r->eid.kind == AFI_PLAIN && r->eid.afi == LISP_AFI_IPV4)
		add(f, F_EID_V4, "%s", addr_text(&r->eid, t, sizeof(t)));
	exp_lcaf(f, &r->eid);
	for (unsigned i = 0; i < r->nlocs; i++) {
		const struct lisp_locator *l = &r->locs[i];
		add(f, F_LOC_PRI, "%u", l->priority);
		add(f, F_LOC_W, "%u", l->weight);
		add(f, F_LOC_MPRI, "%u", l->mpriority);
		add(f, F_LOC_MW, "%u", l->mweight);
		add(f, F_LOC_L, "%u", (l->flags & LISP_LOC_L) != 0);
		add(f, F_LOC_P, "%u", (l->flags & LISP_LOC_P) != 0);
		add(f, F_LOC_R, "%u", (l->flags & LISP_LOC_R) != 0);
		add(f, F_LOC_AFI, "%u", l->addr.afi);
		add(f, F_LOC, "%s", addr_text(&l->addr, t, sizeof(t)));
	}
}

static void exp_auth(struct frame *f, const uint8_t *msg, const struct lisp_auth *a)
{
	add(f, F_KEYID, "0x%02x%02x", a->key_id, a->alg_id);
	add(f, F_AUTHLEN, "%u", a->len);
	add_hex(f, F_AUTH, msg + LISPMS_AUTH_OFFSET, a->len);
}

static void exp_register(struct frame *f, const struct lisp_map_register *m, const uint8_t *wire)
{
	add(f, F_NONCE, "0x%016llx", (unsigned long long)m->nonce);
	add(f, F_RECORDS, "%u", m->nrecords);
	add(f, F_MREG_P, "%u", (m->flags & LISP_MREG_P) != 0);
	add(f, F_MREG_S, "%u", (m->flags & LISP_MREG_S) != 0);
	add(f, F_MREG_I, "%u", (m->flags & LISP_MREG_I) != 0);
	add(f, F_MREG_M, "%u", (m->flags & LISP_MREG_M) != 0);
	add(f, F_MREG_RES, "0x%06x", ((m->flags >> 8) & 0xfffe) >> 1);
	exp_auth(f, wire, &m->auth);
	for (unsigned i = 0; i < m->nrecords; i++)
		exp_record(f, &m->records[i]);
	if (m->flags & LISP_MREG_I) {
		uint8_t site[8];
		wire_put_u32(site, (uint32_t)(m->site_id >> 32));
		wire_put_u32(site + 4, (uint32_t)m->site_id);
		add_hex(f, F_XTRID, m->xtr_id, 16);
		add_hex(f, F_SITEID, site, 8);
	}
}

static void exp_request(struct frame *f, const struct lisp_map_request *m)
{
	char t[64];
	add(f, F_NONCE, "0x%016llx", (unsigned long long)m->nonce);
	add(f, F_RECORDS, "%u", m->nrecords);
	add(f, F_IRC, "%u", m->nitr - 1);
	add(f, F_MREQ_A, "%u", (m->flags & LISP_MREQ_A) != 0);
	add(f, F_MREQ_M, "%u", (m->flags & LISP_MREQ_M) != 0);
	add(f, F_MREQ_P, "%u", (m->flags & LISP_MREQ_P) != 0);
	add(f, F_MREQ_S, "%u", (m->flags & LISP_MREQ_S) != 0);
	add(f, F_MREQ_PITR, "%u", (m->flags & LISP_MREQ_PITR) != 0);
	add(f, F_MREQ_SMRI, "%u", (m->flags & LISP_MREQ_SMRI) != 0);
	/* bits 10..18 as the 24-bit field's mask 0x3fe0, shifted */
	add(f, F_MREQ_RES, "0x%06x", ((m->flags >> 8) & 0x3fe0) >> 5);
	add(f, F_MREQ_SRC_AFI, "%u", wire_afi(&m->source_eid));
	if (m->source_eid.kind == AFI_PLAIN && m->source_eid.afi == LISP_AFI_IPV4)
		add(f, F_MREQ_SRC_V4, "%s", addr_text(&m->source_eid, t, sizeof(t)));
	exp_lcaf(f, &m->source_eid);
	for (unsigned i = 0; i < m->nitr; i++) {
		const struct afi_addr *a = &m->itr_rlocs[i];
		add(f, F_MREQ_ITR_AFI, "%u", a->afi);
		add(f, a->afi == LISP_AFI_IPV4 ? F_MREQ_ITR_V4 : F_MREQ_ITR_V6, "%s",
		    addr_text(a, t, sizeof(t)));
	}
	for (unsigned i = 0; i < m->nrecords; i++) {
		add(f, F_MREQ_PLEN, "%u", m->records[i].eid_plen);
		add(f, F_MREQ_PAFI, "%u", wire_afi(&m->records[i].eid));
		exp_lcaf(f, &m->records[i].eid);
	}
	if (m->flags & LISP_MREQ_M)
		exp_record(f, &m->map_reply);
}

/* ----------------------------------------------------------- test messages */

static struct afi_addr eid(const char *text)
{
	struct eid_prefix p;
	if (eid_prefix_parse(text, &p) != LISPMS_EOK)
		abort();
	struct afi_addr a;
	afi_from_eid(&p, &a);
	return a;
}

static struct afi_addr rloc(const char *text)
{
	struct lisp_addr l;
	if (lisp_addr_parse(text, &l) != LISPMS_EOK)
		abort();
	struct afi_addr a;
	afi_from_addr(&l, &a);
	return a;
}

static struct lisp_record record(const char *prefix, uint8_t plen, uint32_t ttl, uint8_t a,
				 unsigned nlocs, const char *const *locs)
{
	struct lisp_record r = { .ttl = ttl, .a = a, .eid_plen = plen, .eid = eid(prefix) };
	r.nlocs = (uint16_t)nlocs;
	r.locs = nlocs ? arena_alloc(&arena, nlocs * sizeof(*r.locs)) : NULL;
	for (unsigned i = 0; i < nlocs; i++) {
		struct lisp_locator *l = &r.locs[i];
		l->priority = (uint8_t)(1 + i);
		l->weight = (uint8_t)(100 - 10 * i);
		l->mpriority = 255;
		l->mweight = (uint8_t)i;
		l->flags = (uint16_t)(i == 0 ? LISP_LOC_L | LISP_LOC_R : LISP_LOC_R);
		l->addr = rloc(locs[i]);
	}
	return r;
}

static void udp(const uint8_t *src, const uint8_t *dst, const uint8_t *msg, size_t len)
{
	if (pcap_udp(&pcap, src, dst, 4342, 4342, msg, len) != 0)
		abort();
}

static void tcp(bool from_etr, const uint8_t *msg, size_t len)
{
	uint32_t *seq = from_etr ? &seq_etr : &seq_ms;
	if (pcap_tcp(&pcap, from_etr ? etr : ms, from_etr ? ms : etr, from_etr ? 40000 : 4342,
		     from_etr ? 4342 : 40000, *seq, from_etr ? seq_ms : seq_etr, PCAP_TCP_PSH_ACK,
		     msg, len) != 0)
		abort();
	*seq += (uint32_t)len;
}

static uint8_t msgbuf[8192];

static size_t notify(struct frame *f, uint32_t flags, const struct auth_key *k,
		     struct lisp_record *recs, unsigned n, uint8_t *out, size_t cap)
{
	struct lisp_map_notify m = { .type = LISP_MSG_MAP_NOTIFY, .flags = flags };
	m.nonce = 0x1122334455667788ull + n;
	m.auth.key_id = k->key_id;
	m.auth.alg_id = k->alg_id;
	m.auth.len = (uint16_t)auth_alg_len(k->alg_id);
	m.nrecords = (uint16_t)n;
	m.records = recs;
	size_t len;
	if (map_notify_encode(&m, out, cap, &len) != LISPMS_EOK || auth_sign(actx, k, out, len))
		abort();
	if (f != NULL) {
		add(f, F_TYPE, "4");
		add(f, F_NONCE, "0x%016llx", (unsigned long long)m.nonce);
		add(f, F_RECORDS, "%u", n);
		add(f, F_MNOT_I, "0");
		add(f, F_MNOT_R, "0");
		add(f, F_MNOT_RES, "0x%06x", (flags >> 8) & 0x3ffff);
		exp_auth(f, out, &m.auth);
		for (unsigned i = 0; i < n; i++)
			exp_record(f, &recs[i]);
	}
	return len;
}

static const char *const two_locs[] = { "192.0.2.1", "2001:db8::1" };
static const char *const one_loc[] = { "192.0.2.1" };

void udp_frames(void)
{
	size_t len;
	struct frame *f;

	/* Map-Notify acknowledging two records (IPv4 and IPv6 EIDs, IPv4 and IPv6 locators) */
	struct lisp_record recs[3];
	recs[0] = record("[1000] 10.1.0.0/16", 16, 3, 1, 2, two_locs);
	recs[1] = record("[1000] 2001:db8:100::/48", 48, 3, 1, 1, one_loc);
	f = frame_new(CHECK_ALL, "Map-Notify, 2 records, HMAC-SHA-256");
	len = notify(f, 0, &key_sha256, recs, 2, msgbuf, sizeof(msgbuf));
	udp(ms, etr, msgbuf, len);

	/* Map-Notify with r (bit 23, D4): the ETR's cue to connect */
	f = frame_new(CHECK_ALL, "Map-Notify with r");
	len = notify(f, LISP_MNOT_r, &key_sha256, recs, 1, msgbuf, sizeof(msgbuf));
	udp(ms, etr, msgbuf, len);

	/* Map-Notify, HMAC-SHA-1: a plain instance-0 EID (D16) and a MAC EID */
	recs[0] = record("240.0.0.0/4", 4, 1440, 1, 1, one_loc);
	recs[1] = record("[5] 00:11:22:33:44:55/48", 48, 60, 1, 2, two_locs);
	recs[1].version = 7;
	f = frame_new(CHECK_ALL, "Map-Notify, plain and MAC EIDs, HMAC-SHA-1");
	len = notify(f, 0, &key_sha1, recs, 2, msgbuf, sizeof(msgbuf));
	udp(ms, etr, msgbuf, len);

	/* positive Map-Reply (proxy: A=0, L=0) */
	recs[0] = record("[1000] 10.1.0.0/16", 16, 1440, 0, 2, two_locs);
	recs[0].locs[0].flags = LISP_LOC_R;
	struct lisp_map_reply rep = { .nonce = 0xdeadbeefcafef00dull,
				      .nrecords = 1,
				      .records = recs };
	if (map_reply_encode(&rep, msgbuf, sizeof(msgbuf), &len) != LISPMS_EOK)
		abort();
	f = frame_new(CHECK_ALL, "Map-Reply, proxy, 2 locators");
	add(f, F_TYPE, "2");
	add(f, F_NONCE, "0x%016llx", (unsigned long long)rep.nonce);
	add(f, F_RECORDS, "1");
	add(f, F_MREP_P, "0");
	add(f, F_MREP_E, "0");
	add(f, F_MREP_S, "0");
	exp_record(f, &recs[0]);
	udp(ms, etr, msgbuf, len);

	/* negative Map-Replies: Natively-Forward 15 min (hole), Drop/Policy-Denied 1 min */
	recs[0] = record("[1000] 10.1.0.0/16", 16, 15, 0, 0, NULL);
	recs[0].act = LISP_ACT_NATIVE_FORWARD;
	recs[1] = record("[7] 2001:db8::/32", 32, 1, 0, 0, NULL);
	recs[1].act = LISP_ACT_DROP_POLICY;
	rep.nrecords = 2;
	if (map_reply_encode(&rep, msgbuf, sizeof(msgbuf), &len) != LISPMS_EOK)
		abort();
	f = frame_new(CHECK_ALL, "negative Map-Reply, two actions");
	add(f, F_TYPE, "2");
	add(f, F_NONCE, "0x%016llx", (unsigned long long)rep.nonce);
	add(f, F_RECORDS, "2");
	exp_record(f, &recs[0]);
	exp_record(f, &recs[1]);
	udp(ms, etr, msgbuf, len);

	/* Map-Referrals (RFC 8111): every action a DDT node or Map-Server sends */
	static const char *const refs[] = { "192.0.2.10", "2001:db8::10" };
	for (unsigned act = 0; act <= LISP_REF_ACT_MAX; act++) {
		bool set = act == LISP_REF_NODE_REFERRAL || act == LISP_REF_MS_REFERRAL ||
			   act == LISP_REF_MS_ACK;
		struct lisp_referral_record rrec[2];
		memset(rrec, 0, sizeof(rrec));
		rrec[0].r = record(act % 2 ? "[1000] 10.0.0.0/8" : "[7] 2001:db8::/32",
				   act % 2 ? 8 : 32, act == LISP_REF_NOT_AUTHORITATIVE ? 0 : 1440,
				   act != LISP_REF_NOT_AUTHORITATIVE, set ? 2 : 0, refs);
		rrec[0].r.act = (uint8_t)act;
		rrec[0].r.reserved = act == LISP_REF_MS_REFERRAL ? LISP_REF_I : 0;
		rrec[1].r = record("10.0.0.0/8", 8, 15, 1, 0, NULL);
		rrec[1].r.act = LISP_REF_DELEGATION_HOLE;
		struct lisp_map_referral mref = { .nonce = 0x0102030405060708ull + act,
						  .nrecords =
						      act == LISP_REF_DELEGATION_HOLE ? 2 : 1,
						  .records = rrec };
		if (map_referral_encode(&mref, msgbuf, sizeof(msgbuf), &len) != LISPMS_EOK)
			abort();
		char desc[64];
		snprintf(desc, sizeof(desc), "Map-Referral, %s", lisp_ref_act_name(act));
		f = frame_new(CHECK_ALL, desc);
		add(f, F_TYPE, "6");
		add(f, F_NONCE, "0x%016llx", (unsigned long long)mref.nonce);
		add(f, F_RECORDS, "%u", mref.nrecords);
		add(f, F_MREF_RES, "0x000000");
		for (unsigned i = 0; i < mref.nrecords; i++) {
			exp_record(f, &rrec[i].r);
			add(f, F_REF_I, "%u", (rrec[i].r.reserved & LISP_REF_I) != 0);
			add(f, F_REF_SIGCNT, "0");
		}
		udp(ms, etr, msgbuf, len);
	}

	/* a signed MS-REFERRAL (RFC 8111 §6.4.1, D24): two signature sections,
	 * an RSA-2048-sized one and a short one, after the referral set.
	 * tshark 4.0 reads the SigCnt but not the sections: they must be its
	 * Data layer exactly (every field before them decoded, nothing
	 * malformed), docs/protocol.md §6.3 */
	{
		static uint8_t sigdata[256];
		memset(sigdata, 0x5a, sizeof(sigdata));
		struct lisp_ref_sig sigs[2] = {
			{ .orig_ttl = 1440,
			  .expiration = 0x70000000u,
			  .inception = 0x60000000u,
			  .key_tag = 0x1234,
			  .alg = LISP_REF_SIG_RSA_SHA256,
			  .len = sizeof(sigdata),
			  .data = sigdata },
			{ .orig_ttl = 1440,
			  .key_tag = 0x4321,
			  .alg = 1,
			  .len = 4,
			  .data = sigdata },
		};
		struct lisp_referral_record srec = { .sigs = sigs };
		srec.r = record("[1000] 10.0.0.0/8", 8, 1440, 1, 2, refs);
		srec.r.act = LISP_REF_MS_REFERRAL;
		srec.r.rsvd = 2;
		struct lisp_map_referral sref = { .nonce = 0x0a0b0c0d0e0f1011ull,
						  .nrecords = 1,
						  .records = &srec };
		if (map_referral_encode(&sref, msgbuf, sizeof(msgbuf), &len) != LISPMS_EOK)
			abort();
		f = frame_new(CHECK_TRAILER, "Map-Referral, ms-referral signed twice");
		add(f, F_TYPE, "6");
		add(f, F_NONCE, "0x%016llx", (unsigned long long)sref.nonce);
		add(f, F_RECORDS, "1");
		exp_record(f, &srec.r);
		add(f, F_REF_SIGCNT, "2");
		size_t sl = 2 * LISP_REF_SIG_MIN_LEN + sigs[0].len + sigs[1].len;
		add_hex(f, F_DATA, msgbuf + len - sl, sl);
		udp(ms, etr, msgbuf, len);
	}

	/* ECM (E) forwarding a Map-Request to an ETR */
	struct afi_addr itrs[2] = { rloc("192.0.2.9"), rloc("2001:db8::9") };
	struct lisp_request_record rr = { .eid_plen = 32, .eid = eid("[1000] 10.1.2.3") };
	struct lisp_map_request req = { .nonce = 0xdeadbeefcafef00dull,
					.source_eid = rloc("10.9.9.9"),
					.nitr = 2,
					.itr_rlocs = itrs,
					.nrecords = 1,
					.records = &rr };
	uint8_t inner[512];
	size_t ilen;
	if (map_request_encode(&req, inner, sizeof(inner), &ilen) != LISPMS_EOK)
		abort();
	struct lisp_ecm e = { .flags = LISP_ECM_E,
			      .ip_version = 4,
			      .ttl = 64,
			      .sport = 4342,
			      .dport = 4342,
			      .inner = inner,
			      .inner_len = ilen };
	e.src.afi = e.dst.afi = LISP_AFI_IPV4;
	memcpy(e.src.bytes, (uint8_t[]){ 192, 0, 2, 9 }, 4);
	memcpy(e.dst.bytes, (uint8_t[]){ 10, 1, 2, 3 }, 4);
	if (ecm_encode(&e, msgbuf, sizeof(msgbuf), &len) != LISPMS_EOK)
		abort();
	f = frame_new(CHECK_ALL, "ECM with E carrying a Map-Request");
	add(f, F_TYPE, "8,1");
	add(f, F_ECM_S, "0");
	add(f, F_ECM_D, "0");
	add(f, F_ECM_RES, "0x%08x", e.flags & 0x3ffffff);
	exp_request(f, &req);
	udp(ms, etr, msgbuf, len);

	/*
	 * The same forwarding of RFC 9437 requests (I bit): xTR-ID and site-ID,
	 * then lispers.net's xTR-ID alone with the N bit on the record.
	 */
	for (int form = 0; form < 2; form++) {
		struct lisp_map_request sub = req;
		struct lisp_request_record subr = rr;
		sub.flags = LISP_MREQ_I;
		sub.records = &subr;
		for (int i = 0; i < 16; i++)
			sub.xtr_id[i] = (uint8_t)(0xa0 + i);
		sub.has_site_id = form == 0;
		sub.site_id = form == 0 ? 0x0102030405060708ull : 0;
		subr.reserved = form == 0 ? 0 : LISP_MREQ_REC_N;
		if (map_request_encode(&sub, inner, sizeof(inner), &ilen) != LISPMS_EOK)
			abort();
		e.inner_len = ilen;
		if (ecm_encode(&e, msgbuf, sizeof(msgbuf), &len) != LISPMS_EOK)
			abort();
		f = frame_new(CHECK_TRAILER, form == 0
						 ? "ECM with E, Map-Request I (xTR-ID, site-ID)"
						 : "ECM with E, Map-Request I N (xTR-ID only)");
		add(f, F_TYPE, "8,1");
		exp_request(f, &sub);
		size_t tl = sub.has_site_id ? 24 : 16;
		add_hex(f, F_DATA, inner + ilen - tl, tl);
		udp(ms, etr, msgbuf, len);
	}

	/* Map-Register: P I r T M, two records, xTR-ID and site-ID, HMAC-SHA-256 */
	recs[0] = record("[1000] 10.1.0.0/16", 16, 3, 1, 2, two_locs);
	recs[1] = record("[1000] 2001:db8:100::/48", 48, 3, 1, 1, one_loc);
	struct lisp_map_register reg = {
		.flags = LISP_MREG_P | LISP_MREG_I | LISP_MREG_r | LISP_MREG_T | LISP_MREG_M,
		.nonce = 0x1122334455667788ull,
		.auth = { .key_id = 1, .alg_id = LISP_ALG_HMAC_SHA256, .len = 32 },
		.nrecords = 2,
		.records = recs,
		.site_id = 7,
	};
	for (int i = 0; i < 16; i++)
		reg.xtr_id[i] = (uint8_t)i;
	if (map_register_encode(&reg, msgbuf, sizeof(msgbuf), &len) != LISPMS_EOK ||
	    auth_sign(actx, &key_sha256, msgbuf, len) != LISPMS_EOK)
		abort();
	f = frame_new(CHECK_ALL, "Map-Register P I r T M");
	add(f, F_TYPE, "3");
	exp_register(f, &reg, msgbuf);
	udp(etr, ms, msgbuf, len);

	/* a plain Map-Request: SMR, PITR, L and D bits, M with the requester's mapping */
	req.flags = LISP_MREQ_S | LISP_MREQ_PITR | LISP_MREQ_M | LISP_MREQ_L | LISP_MREQ_D;
	req.nitr = 1;
	req.source_eid = eid("[1000] 10.1.0.1/32");
	req.map_reply = record("[1000] 10.1.0.0/16", 16, 1440, 1, 1, one_loc);
	if (map_request_encode(&req, msgbuf, sizeof(msgbuf), &len) != LISPMS_EOK)
		abort();
	f = frame_new(CHECK_ALL, "Map-Request SMR with a Map-Reply record");
	add(f, F_TYPE, "1");
	exp_request(f, &req);
	udp(ms, etr, msgbuf, len);

	/* Map-Notify-Ack: tshark 4.0 decodes its type only */
	struct lisp_map_notify ack = { .type = LISP_MSG_MAP_NOTIFY_ACK, .nonce = 1 };
	ack.auth = (struct lisp_auth){ .key_id = 1, .alg_id = LISP_ALG_HMAC_SHA256, .len = 32 };
	ack.nrecords = 1;
	ack.records = recs;
	if (map_notify_encode(&ack, msgbuf, sizeof(msgbuf), &len) != LISPMS_EOK ||
	    auth_sign(actx, &key_sha256, msgbuf, len) != LISPMS_EOK)
		abort();
	f = frame_new(CHECK_TYPE, "Map-Notify-Ack (type only)");
	add(f, F_TYPE, "5");
	udp(etr, ms, msgbuf, len);
}

static void exp_rt(struct frame *f, const struct rt_msg *m, size_t len)
{
	add(f, F_RT_TYPE, "%u", m->type);
	add(f, F_RT_LEN, "%zu", len);
	if (m->has_id)
		add(f, F_RT_ID, "%u", m->id);
	add(f, F_RT_MARKER, "0x%08x", LISPMS_RT_END_MARKER);
}

static void exp_prefix(struct frame *f, const struct rt_prefix *p)
{
	add(f, F_RT_PLEN, "%u", p->plen);
	add(f, F_RT_PAFI, "%u", wire_afi(&p->eid));
	exp_lcaf(f, &p->eid);
}

static size_t rt(struct frame *f, const struct rt_msg *m, uint8_t *out, size_t cap)
{
	size_t len;
	if (rt_encode(m, out, cap, &len) != LISPMS_EOK)
		abort();
	if (f != NULL)
		exp_rt(f, m, len);
	return len;
}

static struct rt_prefix prefix(const char *text, uint8_t plen)
{
	struct rt_prefix p = { .plen = plen, .eid = eid(text) };
	return p;
}

/* The Map-Notify inside the Mapping Notification, for our own decoder. */
uint8_t mn_wire[1024];
size_t mn_len;

void tcp_frames(void)
{
	struct frame *f;
	size_t len;
	struct rt_msg m;

	/* Registration (17) from the ETR: a complete Map-Register (I, T) */
	struct lisp_record recs[1] = { record("[1000] 10.1.0.0/16", 16, 3, 1, 2, two_locs) };
	struct lisp_map_register reg = {
		.flags = LISP_MREG_I | LISP_MREG_T,
		.nonce = 42,
		.auth = { .key_id = 1, .alg_id = LISP_ALG_HMAC_SHA256, .len = 32 },
		.nrecords = 1,
		.records = recs,
		.site_id = 7
	};
	uint8_t *inner = msgbuf + LISPMS_RT_HDR_LEN;
	size_t ilen;
	if (map_register_encode(&reg, inner, sizeof(msgbuf) - 12, &ilen) != LISPMS_EOK ||
	    auth_sign(actx, &key_sha256, inner, ilen) != LISPMS_EOK)
		abort();
	m = (struct rt_msg){ .type = RT_TYPE_REGISTRATION, .has_id = 1, .id = 1 };
	m.u.inner.msg = inner; /* encoded in place */
	m.u.inner.len = ilen;
	f = frame_new(CHECK_ALL, "Registration (17) with a Map-Register");
	exp_register(f, &reg, inner);
	len = rt(f, &m, msgbuf, sizeof(msgbuf));
	tcp(true, msgbuf, len);

	/* Registration ACK (18) */
	m = (struct rt_msg){ .type = RT_TYPE_REGISTRATION_ACK, .has_id = 1, .id = 2 };
	m.u.ack = prefix("[1000] 10.1.0.0/16", 16);
	f = frame_new(CHECK_ALL, "Registration ACK (18)");
	exp_prefix(f, &m.u.ack);
	len = rt(f, &m, msgbuf, sizeof(msgbuf));
	tcp(false, msgbuf, len);

	/* Registration Reject (19), reason 1, IPv6 EID */
	m = (struct rt_msg){ .type = RT_TYPE_REGISTRATION_REJECT, .has_id = 1, .id = 3 };
	m.u.reject.reason = RT_REASON_NOT_SITE_PREFIX;
	m.u.reject.eid = prefix("[1000] 2001:db8:100::/48", 48);
	f = frame_new(CHECK_ALL, "Registration Reject (19), reason 1");
	add(f, F_RT_REASON, "%u", m.u.reject.reason);
	exp_prefix(f, &m.u.reject.eid);
	len = rt(f, &m, msgbuf, sizeof(msgbuf));
	tcp(false, msgbuf, len);

	/* Registration Refresh (20), scope 0, right after the session comes up (D6) */
	m = (struct rt_msg){ .type = RT_TYPE_REGISTRATION_REFRESH, .has_id = 1, .id = 4 };
	f = frame_new(CHECK_ALL, "Registration Refresh (20), scope 0");
	add(f, F_RT_SCOPE, "0");
	add(f, F_RT_REJECTED, "0");
	len = rt(f, &m, msgbuf, sizeof(msgbuf));
	tcp(false, msgbuf, len);

	/* Registration Refresh, scope 4, rejected only (D8) */
	m = (struct rt_msg){ .type = RT_TYPE_REGISTRATION_REFRESH, .has_id = 1, .id = 5 };
	m.u.refresh.scope = RT_SCOPE_PREFIX;
	m.u.refresh.flags = RT_FLAG_REJECTED_ONLY;
	m.u.refresh.has_eid = 1;
	m.u.refresh.eid = prefix("[1000] 10.1.0.0/16", 16);
	f = frame_new(CHECK_ALL, "Registration Refresh (20), scope 4, rejected only");
	add(f, F_RT_SCOPE, "4");
	add(f, F_RT_REJECTED, "1");
	exp_prefix(f, &m.u.refresh.eid);
	len = rt(f, &m, msgbuf, sizeof(msgbuf));
	tcp(false, msgbuf, len);

	/* Registration Refresh, scope 3 (covered by a MAC prefix) */
	m.id = 6;
	m.u.refresh.scope = RT_SCOPE_COVERED;
	m.u.refresh.flags = 0;
	m.u.refresh.eid = prefix("[5] 00:11:22:00:00:00/24", 24);
	f = frame_new(CHECK_ALL, "Registration Refresh (20), scope 3, MAC prefix");
	add(f, F_RT_SCOPE, "3");
	add(f, F_RT_REJECTED, "0");
	exp_prefix(f, &m.u.refresh.eid);
	len = rt(f, &m, msgbuf, sizeof(msgbuf));
	tcp(false, msgbuf, len);

	/* Registration Refresh, scope 1: an instance (IID LCAF around AFI 0) */
	m.id = 12;
	m.u.refresh.scope = RT_SCOPE_INSTANCE;
	m.u.refresh.flags = RT_FLAG_REJECTED_ONLY;
	m.u.refresh.eid = (struct rt_prefix){ .plen = 0 };
	m.u.refresh.eid.eid.kind = AFI_IID;
	m.u.refresh.eid.eid.afi = LISP_AFI_NONE;
	m.u.refresh.eid.eid.iid = 1000;
	f = frame_new(CHECK_ALL, "Registration Refresh (20), scope 1, instance 1000");
	add(f, F_RT_SCOPE, "1");
	add(f, F_RT_REJECTED, "1");
	exp_prefix(f, &m.u.refresh.eid);
	len = rt(f, &m, msgbuf, sizeof(msgbuf));
	tcp(false, msgbuf, len);

	/* Mapping Notification (21): one signed Map-Notify, one record (D3) */
	mn_len = notify(NULL, 0, &key_sha256, recs, 1, mn_wire, sizeof(mn_wire));
	m = (struct rt_msg){ .type = RT_TYPE_MAPPING_NOTIFICATION, .has_id = 1, .id = 7 };
	m.u.inner.msg = mn_wire;
	m.u.inner.len = mn_len;
	f = frame_new(CHECK_FRAMING, "Mapping Notification (21), framing");
	len = rt(f, &m, msgbuf, sizeof(msgbuf));
	tcp(false, msgbuf, len);

	/* Error Notification (16): bad end marker, echoing the offending header */
	static const uint8_t offending[] = { 0x00, 0x11, 0x00, 0x7c, 0, 0, 0, 9, 0x32, 0x00 };
	m = (struct rt_msg){ .type = RT_TYPE_ERROR_NOTIFICATION, .has_id = 1, .id = 8 };
	m.u.error.code = RT_ERR_BAD_MARKER;
	m.u.error.off_type = RT_TYPE_REGISTRATION;
	m.u.error.off_len = 0x7c;
	m.u.error.off_id = 9;
	m.u.error.data = offending;
	m.u.error.data_len = sizeof(offending);
	f = frame_new(CHECK_ALL, "Error Notification (16), code 3");
	add(f, F_RT_ERR, "%u", m.u.error.code);
	add(f, F_RT_ERR_TYPE, "%u", m.u.error.off_type);
	add(f, F_RT_ERR_LEN, "%u", m.u.error.off_len);
	add(f, F_RT_ERR_ID, "%u", m.u.error.off_id);
	add_hex(f, F_RT_ERR_DATA, offending, sizeof(offending));
	len = rt(f, &m, msgbuf, sizeof(msgbuf));
	tcp(false, msgbuf, len);

	/* the 8-octet form (no Message ID) */
	m = (struct rt_msg){ .type = RT_TYPE_REGISTRATION_REFRESH };
	f = frame_new(CHECK_ALL, "8-octet message without Message ID");
	len = rt(f, &m, msgbuf, sizeof(msgbuf));
	tcp(false, msgbuf, len);

	/* two messages coalesced in one segment: ACK and Reject (reason 3) */
	f = frame_new(CHECK_ALL, "ACK and Reject coalesced in one segment");
	m = (struct rt_msg){ .type = RT_TYPE_REGISTRATION_ACK, .has_id = 1, .id = 10 };
	m.u.ack = prefix("[1000] 10.1.0.0/16", 16);
	len = rt(f, &m, msgbuf, sizeof(msgbuf));
	struct rt_msg m2 = { .type = RT_TYPE_REGISTRATION_REJECT, .has_id = 1, .id = 11 };
	m2.u.reject.reason = RT_REASON_LOCATOR_SET;
	m2.u.reject.eid = prefix("[1000] 10.2.0.0/16", 16);
	size_t len2 = rt(f, &m2, msgbuf + len, sizeof(msgbuf) - len);
	add(f, F_RT_REASON, "%u", m2.u.reject.reason);
	exp_prefix(f, &m.u.ack);
	exp_prefix(f, &m2.u.reject.eid);
	tcp(false, msgbuf, len + len2);
}
