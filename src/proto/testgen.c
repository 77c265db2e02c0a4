/* SPDX-License-Identifier: MIT */
#include "testgen.h"

#include <string.h>

#include <lispms/err.h>

void testgen_init(struct testgen *g, uint64_t seed, struct arena *a)
{
	g->state = seed * 0x9e3779b97f4a7c15ull + 1;
	g->arena = a;
	g->max_records = 4;
	g->max_locators = 4;
}

uint64_t testgen_u64(struct testgen *g)
{
	/* splitmix64 */
	uint64_t z = (g->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

unsigned testgen_below(struct testgen *g, unsigned n)
{
	return n ? (unsigned)(testgen_u64(g) % n) : 0;
}

static uint8_t u8(struct testgen *g)
{
	return (uint8_t)testgen_u64(g);
}

/* Mostly zero: reserved fields are usually sent as zero, sometimes not. */
static uint32_t rarely(struct testgen *g, uint32_t mask)
{
	return testgen_below(g, 4) == 0 ? (uint32_t)testgen_u64(g) & mask : 0;
}

static uint8_t *bytes(struct testgen *g, size_t n)
{
	uint8_t *p = arena_alloc(g->arena, n);
	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		p[i] = u8(g);
	return p;
}

static const uint16_t plain_afis[] = { LISP_AFI_NONE, LISP_AFI_IPV4, LISP_AFI_IPV6, LISP_AFI_MAC };

void testgen_addr(struct testgen *g, struct afi_addr *out)
{
	struct afi_addr a;
	memset(&a, 0, sizeof(a));
	unsigned k = testgen_below(g, 10);
	a.kind = k < 4 ? AFI_PLAIN : k < 9 ? AFI_IID : AFI_OPAQUE;
	if (a.kind == AFI_OPAQUE) {
		size_t body = testgen_below(g, 24);
		uint8_t *p = bytes(g, 6 + body);
		if (p == NULL)
			return;
		p[2] = (uint8_t)(testgen_below(g, 2) ? 1 + testgen_below(g, 16) : 255);
		if (p[2] == LISP_LCAF_IID)
			p[2] = 12;
		if (body >= 6 && testgen_below(g, 4) == 0) {
			p[2] = LISP_LCAF_IID; /* an IID around another LCAF stays opaque */
			wire_put_u16(p + 10, LISP_AFI_LCAF);
		}
		wire_put_u16(p + 4, (uint16_t)body);
		a.afi = LISP_AFI_LCAF;
		a.opaque = p;
		a.opaque_len = (uint32_t)(6 + body);
	} else {
		a.afi = plain_afis[testgen_below(g, 4)];
		for (unsigned i = 0; i < lisp_afi_len(a.afi); i++)
			a.bytes[i] = u8(g);
		if (a.kind == AFI_IID) {
			a.iid =
			    testgen_below(g, 2) ? (uint32_t)testgen_u64(g) : testgen_below(g, 2000);
			a.iid_mlen = (uint8_t)rarely(g, 0xff);
			a.lcaf_rsvd1 = (uint8_t)rarely(g, 0xff);
			a.lcaf_flags = (uint8_t)rarely(g, 0xff);
		}
	}
	*out = a;
}

static uint8_t plen_for(struct testgen *g, const struct afi_addr *a)
{
	unsigned max = afi_max_plen(a);
	return (uint8_t)testgen_below(g, max + 1);
}

void testgen_record(struct testgen *g, struct lisp_record *out)
{
	struct lisp_record r;
	memset(&r, 0, sizeof(r));
	r.ttl = testgen_below(g, 3) ? testgen_below(g, 1441) : (uint32_t)testgen_u64(g);
	r.act = (uint8_t)testgen_below(g, 8);
	r.a = (uint8_t)testgen_below(g, 2);
	r.reserved = (uint16_t)rarely(g, 0x0fff);
	r.rsvd = (uint8_t)rarely(g, 0x0f);
	r.version = (uint16_t)rarely(g, 0x0fff);
	testgen_addr(g, &r.eid);
	r.eid_plen = plen_for(g, &r.eid);
	r.nlocs = (uint16_t)testgen_below(g, g->max_locators + 1);
	r.locs = r.nlocs ? arena_alloc(g->arena, r.nlocs * sizeof(*r.locs)) : NULL;
	if (r.nlocs && r.locs == NULL)
		r.nlocs = 0;
	for (unsigned i = 0; i < r.nlocs; i++) {
		struct lisp_locator *l = &r.locs[i];
		l->priority = u8(g);
		l->weight = u8(g);
		l->mpriority = u8(g);
		l->mweight = u8(g);
		l->flags = (uint16_t)(testgen_below(g, 8) | rarely(g, 0xfff8));
		testgen_addr(g, &l->addr);
	}
	*out = r;
}

static struct lisp_record *records(struct testgen *g, uint16_t *n)
{
	*n = (uint16_t)testgen_below(g, g->max_records + 1);
	if (*n == 0)
		return NULL;
	struct lisp_record *r = arena_alloc(g->arena, *n * sizeof(*r));
	if (r == NULL) {
		*n = 0;
		return NULL;
	}
	for (unsigned i = 0; i < *n; i++)
		testgen_record(g, &r[i]);
	return r;
}

void testgen_map_request(struct testgen *g, struct lisp_map_request *out)
{
	struct lisp_map_request m;
	memset(&m, 0, sizeof(m));
	m.flags = (uint32_t)testgen_u64(g) & LISP_MREQ_FLAGS;
	if (testgen_below(g, 2))
		m.flags &= 0x0fd06000u; /* named flags only */
	m.nonce = testgen_u64(g);
	testgen_addr(g, &m.source_eid);
	m.nitr = (uint16_t)(1 + (testgen_below(g, 4) ? testgen_below(g, 3)
						     : testgen_below(g, LISPMS_MAX_ITR_RLOCS)));
	m.itr_rlocs = arena_alloc(g->arena, m.nitr * sizeof(*m.itr_rlocs));
	for (unsigned i = 0; m.itr_rlocs && i < m.nitr; i++)
		testgen_addr(g, &m.itr_rlocs[i]);
	m.nrecords = (uint16_t)(1 + testgen_below(g, g->max_records));
	m.records = arena_alloc(g->arena, m.nrecords * sizeof(*m.records));
	for (unsigned i = 0; m.records && i < m.nrecords; i++) {
		m.records[i].reserved = (uint8_t)rarely(g, 0xff);
		testgen_addr(g, &m.records[i].eid);
		m.records[i].eid_plen = plen_for(g, &m.records[i].eid);
	}
	if (m.flags & LISP_MREQ_M)
		testgen_record(g, &m.map_reply);
	if (m.flags & LISP_MREQ_I) {
		for (unsigned i = 0; i < sizeof(m.xtr_id); i++)
			m.xtr_id[i] = (uint8_t)testgen_u64(g);
		m.has_site_id = testgen_below(g, 2) != 0; /* lispers.net sends the xTR-ID alone */
		m.site_id = m.has_site_id ? testgen_u64(g) : 0;
	}
	*out = m;
}

void testgen_map_reply(struct testgen *g, struct lisp_map_reply *out)
{
	struct lisp_map_reply m;
	memset(&m, 0, sizeof(m));
	m.flags = (uint32_t)testgen_u64(g) & LISP_MREP_FLAGS;
	if (testgen_below(g, 2))
		m.flags &= 0x0e000000u;
	m.nonce = testgen_u64(g);
	m.records = records(g, &m.nrecords);
	*out = m;
}

static void auth(struct testgen *g, struct lisp_auth *a)
{
	memset(a, 0, sizeof(*a));
	a->key_id = u8(g);
	switch (testgen_below(g, 6)) {
	case 0:
		a->alg_id = LISP_ALG_NONE;
		break;
	case 1:
		a->alg_id = LISP_ALG_HMAC_SHA1;
		a->len = testgen_below(g, 2) ? 20 : 12;
		break;
	case 5:
		a->alg_id = (uint8_t)(3 + testgen_below(g, 253));
		a->len = (uint16_t)testgen_below(g, 70);
		break;
	default:
		a->alg_id = LISP_ALG_HMAC_SHA256;
		a->len = testgen_below(g, 2) ? 32 : 16;
		break;
	}
	a->data = a->len ? bytes(g, a->len) : NULL;
}

void testgen_map_register(struct testgen *g, struct lisp_map_register *out)
{
	struct lisp_map_register m;
	memset(&m, 0, sizeof(m));
	m.flags = (uint32_t)testgen_u64(g) & LISP_MREG_FLAGS;
	if (testgen_below(g, 2))
		m.flags &= 0x0e003f00u;
	m.nonce = testgen_u64(g);
	auth(g, &m.auth);
	m.records = records(g, &m.nrecords);
	if (m.flags & LISP_MREG_I) {
		for (int i = 0; i < 16; i++)
			m.xtr_id[i] = u8(g);
		m.site_id = testgen_u64(g);
	}
	*out = m;
}

void testgen_map_notify(struct testgen *g, struct lisp_map_notify *out)
{
	struct lisp_map_notify m;
	memset(&m, 0, sizeof(m));
	m.type = testgen_below(g, 2) ? LISP_MSG_MAP_NOTIFY : LISP_MSG_MAP_NOTIFY_ACK;
	m.flags = (uint32_t)testgen_u64(g) & LISP_MNOT_FLAGS & ~LISP_MNOT_WS_BITS;
	if (testgen_below(g, 2))
		m.flags &= LISP_MNOT_r;
	m.nonce = testgen_u64(g);
	auth(g, &m.auth);
	m.records = records(g, &m.nrecords);
	*out = m;
}

void testgen_ecm(struct testgen *g, struct lisp_ecm *out)
{
	struct lisp_ecm e;
	memset(&e, 0, sizeof(e));
	e.flags = (uint32_t)testgen_u64(g) & LISP_ECM_FLAGS;
	if (testgen_below(g, 2))
		e.flags &= 0x0f000000u;
	e.ip_version = testgen_below(g, 2) ? 4 : 6;
	e.src.afi = e.dst.afi = e.ip_version == 4 ? LISP_AFI_IPV4 : LISP_AFI_IPV6;
	for (unsigned i = 0; i < lisp_afi_len(e.src.afi); i++) {
		e.src.bytes[i] = u8(g);
		e.dst.bytes[i] = u8(g);
	}
	e.tos = u8(g);
	e.ttl = u8(g);
	if (e.ip_version == 4) {
		e.ip_id = (uint16_t)testgen_u64(g);
		e.ip_df = (uint8_t)testgen_below(g, 2);
	} else {
		e.flow_label = (uint32_t)testgen_u64(g) & 0xfffff;
	}
	e.sport = (uint16_t)testgen_u64(g);
	e.dport = testgen_below(g, 2) ? 4342 : (uint16_t)testgen_u64(g);
	e.inner_len = testgen_below(g, 120);
	e.inner = e.inner_len ? bytes(g, e.inner_len) : NULL;
	if (e.inner == NULL)
		e.inner_len = 0;
	*out = e;
}

void testgen_shared_ext(struct testgen *g, struct lisp_shared_ext *out)
{
	out->subtype = (uint16_t)testgen_below(g, 4096);
	out->len = testgen_below(g, 64);
	out->data = out->len ? bytes(g, out->len) : NULL;
	if (out->data == NULL)
		out->len = 0;
}

void testgen_map_referral(struct testgen *g, struct lisp_map_referral *out)
{
	struct lisp_map_referral m;
	memset(&m, 0, sizeof(m));
	m.flags = rarely(g, 0xfffff) << 8;
	m.nonce = testgen_u64(g);
	m.nrecords = (uint16_t)testgen_below(g, g->max_records + 1);
	m.records = m.nrecords ? arena_alloc(g->arena, m.nrecords * sizeof(*m.records)) : NULL;
	if (m.records == NULL)
		m.nrecords = 0;
	for (unsigned i = 0; i < m.nrecords; i++) {
		struct lisp_referral_record *rr = &m.records[i];
		testgen_record(g, &rr->r);
		rr->r.rsvd = (uint8_t)(testgen_below(g, 4) ? 0 : testgen_below(g, 4));
		rr->sigs =
		    rr->r.rsvd ? arena_alloc(g->arena, rr->r.rsvd * sizeof(*rr->sigs)) : NULL;
		if (rr->sigs == NULL)
			rr->r.rsvd = 0;
		for (unsigned j = 0; j < rr->r.rsvd; j++) {
			struct lisp_ref_sig *s = &rr->sigs[j];
			s->orig_ttl = (uint32_t)testgen_u64(g);
			s->expiration = (uint32_t)testgen_u64(g);
			s->inception = (uint32_t)testgen_u64(g);
			s->key_tag = (uint16_t)testgen_u64(g);
			s->alg = (uint8_t)testgen_below(g, 3);
			s->rsvd8 = (uint8_t)rarely(g, 0xff);
			s->rsvd16 = (uint16_t)rarely(g, 0xffff);
			s->len = (uint16_t)testgen_below(g, 48);
			s->data = s->len ? bytes(g, s->len) : NULL;
			if (s->data == NULL)
				s->len = 0;
		}
	}
	*out = m;
}

void testgen_msg(struct testgen *g, struct lisp_msg *out)
{
	static const uint8_t types[] = { LISP_MSG_MAP_REQUEST,	  LISP_MSG_MAP_REPLY,
					 LISP_MSG_MAP_REGISTER,	  LISP_MSG_MAP_NOTIFY,
					 LISP_MSG_MAP_NOTIFY_ACK, LISP_MSG_ECM,
					 LISP_MSG_SHARED_EXT,	  LISP_MSG_MAP_REFERRAL };
	memset(out, 0, sizeof(*out));
	out->type = types[testgen_below(g, sizeof(types))];
	switch (out->type) {
	case LISP_MSG_MAP_REQUEST:
		testgen_map_request(g, &out->u.request);
		break;
	case LISP_MSG_MAP_REPLY:
		testgen_map_reply(g, &out->u.reply);
		break;
	case LISP_MSG_MAP_REGISTER:
		testgen_map_register(g, &out->u.reg);
		break;
	case LISP_MSG_MAP_NOTIFY:
	case LISP_MSG_MAP_NOTIFY_ACK:
		testgen_map_notify(g, &out->u.notify);
		out->u.notify.type = out->type;
		break;
	case LISP_MSG_ECM:
		testgen_ecm(g, &out->u.ecm);
		break;
	case LISP_MSG_SHARED_EXT:
		testgen_shared_ext(g, &out->u.ext);
		break;
	case LISP_MSG_MAP_REFERRAL:
		testgen_map_referral(g, &out->u.referral);
		break;
	}
}

static void prefix(struct testgen *g, struct rt_prefix *p)
{
	testgen_addr(g, &p->eid);
	p->plen = plen_for(g, &p->eid);
}

void testgen_rt(struct testgen *g, struct rt_msg *out)
{
	struct rt_msg m;
	memset(&m, 0, sizeof(m));
	m.type = (uint16_t)(RT_TYPE_ERROR_NOTIFICATION + testgen_below(g, 6));
	m.has_id = testgen_below(g, 10) != 0;
	if (!m.has_id) {
		*out = m;
		return;
	}
	m.id = (uint32_t)testgen_u64(g);
	switch (m.type) {
	case RT_TYPE_ERROR_NOTIFICATION:
		m.u.error.code = (uint8_t)(1 + testgen_below(g, 6));
		m.u.error.reserved = rarely(g, 0xffffff);
		m.u.error.off_type = (uint16_t)testgen_u64(g);
		m.u.error.off_len = (uint16_t)testgen_u64(g);
		m.u.error.off_id = (uint32_t)testgen_u64(g);
		m.u.error.data_len = testgen_below(g, 40);
		m.u.error.data = m.u.error.data_len ? bytes(g, m.u.error.data_len) : NULL;
		if (m.u.error.data == NULL)
			m.u.error.data_len = 0;
		break;
	case RT_TYPE_REGISTRATION:
	case RT_TYPE_MAPPING_NOTIFICATION:
		m.u.inner.len = testgen_below(g, 200);
		m.u.inner.msg = m.u.inner.len ? bytes(g, m.u.inner.len) : NULL;
		if (m.u.inner.msg == NULL)
			m.u.inner.len = 0;
		break;
	case RT_TYPE_REGISTRATION_ACK:
		prefix(g, &m.u.ack);
		break;
	case RT_TYPE_REGISTRATION_REJECT:
		m.u.reject.reason = (uint8_t)(1 + testgen_below(g, 4));
		m.u.reject.reserved = (uint16_t)rarely(g, 0xffff);
		prefix(g, &m.u.reject.eid);
		break;
	case RT_TYPE_REGISTRATION_REFRESH:
		m.u.refresh.scope = (uint8_t)testgen_below(g, 5);
		m.u.refresh.flags = (uint16_t)(testgen_below(g, 2) ? RT_FLAG_REJECTED_ONLY : 0);
		m.u.refresh.flags |= (uint16_t)rarely(g, 0x7fff);
		m.u.refresh.has_eid = m.u.refresh.scope != RT_SCOPE_ALL;
		if (m.u.refresh.has_eid)
			prefix(g, &m.u.refresh.eid);
		break;
	}
	*out = m;
}

/* ---------------------------------------------------------------- equality */

static bool mem_equal(const void *a, const void *b, size_t n)
{
	return n == 0 || (a != NULL && b != NULL && memcmp(a, b, n) == 0);
}

bool testgen_record_equal(const struct lisp_record *a, const struct lisp_record *b)
{
	if (a->ttl != b->ttl || a->act != b->act || a->a != b->a || a->reserved != b->reserved ||
	    a->rsvd != b->rsvd || a->version != b->version || a->eid_plen != b->eid_plen ||
	    !afi_equal(&a->eid, &b->eid) || a->nlocs != b->nlocs)
		return false;
	for (unsigned i = 0; i < a->nlocs; i++) {
		const struct lisp_locator *x = &a->locs[i], *y = &b->locs[i];
		if (x->priority != y->priority || x->weight != y->weight ||
		    x->mpriority != y->mpriority || x->mweight != y->mweight ||
		    x->flags != y->flags || !afi_equal(&x->addr, &y->addr))
			return false;
	}
	return true;
}

static bool records_equal(const struct lisp_record *a, const struct lisp_record *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!testgen_record_equal(&a[i], &b[i]))
			return false;
	return true;
}

static bool auth_equal(const struct lisp_auth *a, const struct lisp_auth *b)
{
	return a->key_id == b->key_id && a->alg_id == b->alg_id && a->len == b->len &&
	       mem_equal(a->data, b->data, a->len);
}

static bool request_equal(const struct lisp_map_request *a, const struct lisp_map_request *b)
{
	if (a->flags != b->flags || a->nonce != b->nonce ||
	    !afi_equal(&a->source_eid, &b->source_eid) || a->nitr != b->nitr ||
	    a->nrecords != b->nrecords)
		return false;
	for (unsigned i = 0; i < a->nitr; i++)
		if (!afi_equal(&a->itr_rlocs[i], &b->itr_rlocs[i]))
			return false;
	for (unsigned i = 0; i < a->nrecords; i++)
		if (a->records[i].reserved != b->records[i].reserved ||
		    a->records[i].eid_plen != b->records[i].eid_plen ||
		    !afi_equal(&a->records[i].eid, &b->records[i].eid))
			return false;
	if ((a->flags & LISP_MREQ_I) &&
	    (memcmp(a->xtr_id, b->xtr_id, sizeof(a->xtr_id)) != 0 ||
	     a->has_site_id != b->has_site_id || a->site_id != b->site_id))
		return false;
	return !(a->flags & LISP_MREQ_M) || testgen_record_equal(&a->map_reply, &b->map_reply);
}

bool testgen_msg_equal(const struct lisp_msg *a, const struct lisp_msg *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case LISP_MSG_MAP_REQUEST:
		return request_equal(&a->u.request, &b->u.request);
	case LISP_MSG_MAP_REPLY:
		return a->u.reply.flags == b->u.reply.flags &&
		       a->u.reply.nonce == b->u.reply.nonce &&
		       a->u.reply.nrecords == b->u.reply.nrecords &&
		       records_equal(a->u.reply.records, b->u.reply.records, a->u.reply.nrecords);
	case LISP_MSG_MAP_REGISTER: {
		const struct lisp_map_register *x = &a->u.reg, *y = &b->u.reg;
		return x->flags == y->flags && x->nonce == y->nonce &&
		       auth_equal(&x->auth, &y->auth) && x->nrecords == y->nrecords &&
		       records_equal(x->records, y->records, x->nrecords) &&
		       (!(x->flags & LISP_MREG_I) ||
			(memcmp(x->xtr_id, y->xtr_id, 16) == 0 && x->site_id == y->site_id));
	}
	case LISP_MSG_MAP_NOTIFY:
	case LISP_MSG_MAP_NOTIFY_ACK: {
		const struct lisp_map_notify *x = &a->u.notify, *y = &b->u.notify;
		return x->type == y->type && x->flags == y->flags && x->nonce == y->nonce &&
		       auth_equal(&x->auth, &y->auth) && x->nrecords == y->nrecords &&
		       records_equal(x->records, y->records, x->nrecords);
	}
	case LISP_MSG_ECM: {
		const struct lisp_ecm *x = &a->u.ecm, *y = &b->u.ecm;
		return x->flags == y->flags && x->ip_version == y->ip_version && x->tos == y->tos &&
		       x->ttl == y->ttl && x->ip_df == y->ip_df && x->ip_id == y->ip_id &&
		       x->flow_label == y->flow_label && lisp_addr_equal(&x->src, &y->src) &&
		       lisp_addr_equal(&x->dst, &y->dst) && x->sport == y->sport &&
		       x->dport == y->dport && x->inner_len == y->inner_len &&
		       mem_equal(x->inner, y->inner, x->inner_len);
	}
	case LISP_MSG_MAP_REFERRAL: {
		const struct lisp_map_referral *x = &a->u.referral, *y = &b->u.referral;
		if (x->flags != y->flags || x->nonce != y->nonce || x->nrecords != y->nrecords)
			return false;
		for (unsigned i = 0; i < x->nrecords; i++) {
			const struct lisp_referral_record *p = &x->records[i], *q = &y->records[i];
			if (!testgen_record_equal(&p->r, &q->r))
				return false;
			for (unsigned j = 0; j < p->r.rsvd; j++) {
				const struct lisp_ref_sig *s = &p->sigs[j], *t = &q->sigs[j];
				if (s->orig_ttl != t->orig_ttl || s->expiration != t->expiration ||
				    s->inception != t->inception || s->key_tag != t->key_tag ||
				    s->alg != t->alg || s->rsvd8 != t->rsvd8 ||
				    s->rsvd16 != t->rsvd16 || s->len != t->len ||
				    !mem_equal(s->data, t->data, s->len))
					return false;
			}
		}
		return true;
	}
	case LISP_MSG_SHARED_EXT:
		return a->u.ext.subtype == b->u.ext.subtype && a->u.ext.len == b->u.ext.len &&
		       mem_equal(a->u.ext.data, b->u.ext.data, a->u.ext.len);
	default:
		return false;
	}
}

static bool prefix_equal(const struct rt_prefix *a, const struct rt_prefix *b)
{
	return a->plen == b->plen && afi_equal(&a->eid, &b->eid);
}

bool testgen_rt_equal(const struct rt_msg *a, const struct rt_msg *b)
{
	if (a->type != b->type || a->has_id != b->has_id)
		return false;
	if (!a->has_id)
		return true;
	if (a->id != b->id)
		return false;
	switch (a->type) {
	case RT_TYPE_ERROR_NOTIFICATION: {
		const struct rt_error *x = &a->u.error, *y = &b->u.error;
		return x->code == y->code && x->reserved == y->reserved &&
		       x->off_type == y->off_type && x->off_len == y->off_len &&
		       x->off_id == y->off_id && x->data_len == y->data_len &&
		       mem_equal(x->data, y->data, x->data_len);
	}
	case RT_TYPE_REGISTRATION:
	case RT_TYPE_MAPPING_NOTIFICATION:
		return a->u.inner.len == b->u.inner.len &&
		       mem_equal(a->u.inner.msg, b->u.inner.msg, a->u.inner.len);
	case RT_TYPE_REGISTRATION_ACK:
		return prefix_equal(&a->u.ack, &b->u.ack);
	case RT_TYPE_REGISTRATION_REJECT:
		return a->u.reject.reason == b->u.reject.reason &&
		       a->u.reject.reserved == b->u.reject.reserved &&
		       prefix_equal(&a->u.reject.eid, &b->u.reject.eid);
	case RT_TYPE_REGISTRATION_REFRESH:
		return a->u.refresh.scope == b->u.refresh.scope &&
		       a->u.refresh.flags == b->u.refresh.flags &&
		       a->u.refresh.has_eid == b->u.refresh.has_eid &&
		       (!a->u.refresh.has_eid ||
			prefix_equal(&a->u.refresh.eid, &b->u.refresh.eid));
	default:
		return false;
	}
}
