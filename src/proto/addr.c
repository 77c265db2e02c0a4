/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <lispms/addr.h>
#include <lispms/err.h>

void eid_prefix_normalize(struct eid_prefix *p)
{
	unsigned bits = lisp_afi_bits(p->afi);
	if (p->plen > bits)
		p->plen = (uint8_t)bits;
	for (unsigned i = 0; i < LISPMS_ADDR_MAX; i++) {
		unsigned first = i * 8;
		if (first >= p->plen)
			p->bytes[i] = 0;
		else if (first + 8 > p->plen)
			p->bytes[i] &= (uint8_t)(0xff00u >> (p->plen - first));
	}
}

bool eid_prefix_equal(const struct eid_prefix *a, const struct eid_prefix *b)
{
	return a->iid == b->iid && a->afi == b->afi && a->plen == b->plen &&
	       memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

bool eid_prefix_covers(const struct eid_prefix *outer, const struct eid_prefix *inner)
{
	if (outer->iid != inner->iid || outer->afi != inner->afi || outer->plen > inner->plen)
		return false;
	unsigned full = outer->plen / 8, rest = outer->plen % 8;
	if (memcmp(outer->bytes, inner->bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (outer->bytes[full] & mask) == (inner->bytes[full] & mask);
}

static int parse_mac(const char *s, uint8_t out[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return LISPMS_EINVAL;
	/* sscanf accepts "1:2:..." and signs; insist on 17 hex/colon characters */
	if (strlen(s) != 17)
		return LISPMS_EINVAL;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return LISPMS_EINVAL;
	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)v[i];
	return LISPMS_EOK;
}

int lisp_addr_parse(const char *text, struct lisp_addr *out)
{
	struct lisp_addr a = { 0 };
	if (inet_pton(AF_INET, text, a.bytes) == 1)
		a.afi = LISP_AFI_IPV4;
	else if (inet_pton(AF_INET6, text, a.bytes) == 1)
		a.afi = LISP_AFI_IPV6;
	else if (parse_mac(text, a.bytes) == LISPMS_EOK)
		a.afi = LISP_AFI_MAC;
	else
		return LISPMS_EINVAL;
	*out = a;
	return LISPMS_EOK;
}

int lisp_addr_format(const struct lisp_addr *a, char *buf, size_t len)
{
	int n;
	char tmp[INET6_ADDRSTRLEN];
	switch (a->afi) {
	case LISP_AFI_NONE:
		n = snprintf(buf, len, "none");
		break;
	case LISP_AFI_IPV4:
	case LISP_AFI_IPV6:
		inet_ntop(a->afi == LISP_AFI_IPV4 ? AF_INET : AF_INET6, a->bytes, tmp, sizeof(tmp));
		n = snprintf(buf, len, "%s", tmp);
		break;
	case LISP_AFI_MAC:
		n = snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", a->bytes[0], a->bytes[1],
			     a->bytes[2], a->bytes[3], a->bytes[4], a->bytes[5]);
		break;
	default:
		return LISPMS_EAFI;
	}
	return n < 0 || (size_t)n >= len ? LISPMS_ENOSPC : LISPMS_EOK;
}

bool lisp_addr_equal(const struct lisp_addr *a, const struct lisp_addr *b)
{
	return a->afi == b->afi && memcmp(a->bytes, b->bytes, lisp_afi_len(a->afi)) == 0;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int eid_prefix_parse(const char *text, struct eid_prefix *out)
{
	struct eid_prefix p = { 0 };
	const char *s = skip_space(text);
	p.plain = 1;
	if (*s == '[') {
		s = skip_space(s + 1);
		if (!isdigit((unsigned char)*s))
			return LISPMS_EINVAL;
		errno = 0;
		char *end;
		unsigned long iid = strtoul(s, &end, 10);
		if (errno != 0 || iid > UINT32_MAX)
			return LISPMS_EINVAL;
		s = skip_space(end);
		if (*s != ']')
			return LISPMS_EINVAL;
		s = skip_space(s + 1);
		p.iid = (uint32_t)iid;
		p.plain = 0;
	}

	char addr[64];
	size_t n = strcspn(s, "/ \t");
	if (n == 0 || n >= sizeof(addr))
		return LISPMS_EINVAL;
	memcpy(addr, s, n);
	addr[n] = '\0';
	s += n;

	struct lisp_addr a;
	if (lisp_addr_parse(addr, &a) != LISPMS_EOK)
		return LISPMS_EINVAL;
	p.afi = a.afi;
	memcpy(p.bytes, a.bytes, sizeof(p.bytes));
	unsigned bits = lisp_afi_bits(a.afi);
	p.plen = (uint8_t)bits;

	s = skip_space(s);
	if (*s == '/') {
		s = skip_space(s + 1);
		if (!isdigit((unsigned char)*s))
			return LISPMS_EINVAL;
		char *end;
		unsigned long plen = strtoul(s, &end, 10);
		if (plen > bits || end - s > 3)
			return LISPMS_EINVAL;
		p.plen = (uint8_t)plen;
		s = skip_space(end);
	}
	if (*s != '\0')
		return LISPMS_EINVAL;
	eid_prefix_normalize(&p);
	*out = p;
	return LISPMS_EOK;
}

int eid_prefix_format(const struct eid_prefix *p, char *buf, size_t len)
{
	struct lisp_addr a = { .afi = p->afi };
	memcpy(a.bytes, p->bytes, sizeof(a.bytes));
	char addr[INET6_ADDRSTRLEN];
	int ret = lisp_addr_format(&a, addr, sizeof(addr));
	if (ret != LISPMS_EOK)
		return ret;
	int n;
	if (p->plain && p->iid == 0)
		n = snprintf(buf, len, "%s/%u", addr, p->plen);
	else
		n = snprintf(buf, len, "[%u] %s/%u", p->iid, addr, p->plen);
	return n < 0 || (size_t)n >= len ? LISPMS_ENOSPC : LISPMS_EOK;
}

void lisp_addr_from_sockaddr(const struct sockaddr_storage *ss, struct lisp_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET) {
		out->afi = LISP_AFI_IPV4;
		memcpy(out->bytes, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		out->afi = LISP_AFI_IPV6;
		memcpy(out->bytes, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
}

socklen_t lisp_addr_to_sockaddr(const struct lisp_addr *a, uint16_t port,
				struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->afi == LISP_AFI_IPV4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	}
	if (a->afi == LISP_AFI_IPV6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		return sizeof(*sin6);
	}
	return 0;
}
