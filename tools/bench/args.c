/* SPDX-License-Identifier: MIT */
#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/proto.h>

int args_lig_target(const char *text, struct eid_prefix *out)
{
	if (text == NULL)
		return LISPMS_EINVAL;
	while (isspace((unsigned char)*text))
		text++;
	if (*text == '\0')
		return LISPMS_EINVAL;
	struct eid_prefix p;
	if (eid_prefix_parse(text, &p) != LISPMS_EOK)
		return LISPMS_EINVAL;
	*out = p;
	return LISPMS_EOK;
}

int args_count(const char *text, uint64_t max, uint64_t *out)
{
	if (text == NULL || !isdigit((unsigned char)text[0]))
		return LISPMS_EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0)
		return LISPMS_EINVAL;
	uint64_t mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1000;
	else if (*end == 'M')
		mul = 1000000;
	else if (*end == 'G')
		mul = 1000000000;
	if (mul != 1)
		end++;
	if (*end != '\0' || (v != 0 && mul > UINT64_MAX / v) || v * mul > max)
		return LISPMS_EINVAL;
	*out = v * mul;
	return LISPMS_EOK;
}

int args_family(const char *text, uint16_t *afi)
{
	static const struct {
		const char *name;
		uint16_t afi;
	} t[] = { { "ipv4", LISP_AFI_IPV4 }, { "ipv6", LISP_AFI_IPV6 }, { "mac", LISP_AFI_MAC } };
	for (size_t i = 0; text && i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(text, t[i].name) == 0) {
			*afi = t[i].afi;
			return LISPMS_EOK;
		}
	return LISPMS_EINVAL;
}

int args_alg(const char *text, uint8_t *alg)
{
	static const struct {
		const char *name;
		uint8_t alg;
	} t[] = { { "1", LISP_ALG_HMAC_SHA1 },
		  { "sha1", LISP_ALG_HMAC_SHA1 },
		  { "hmac-sha-1-96", LISP_ALG_HMAC_SHA1 },
		  { "2", LISP_ALG_HMAC_SHA256 },
		  { "sha256", LISP_ALG_HMAC_SHA256 },
		  { "hmac-sha-256-128", LISP_ALG_HMAC_SHA256 } };
	for (size_t i = 0; text && i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(text, t[i].name) == 0) {
			*alg = t[i].alg;
			return LISPMS_EOK;
		}
	return LISPMS_EINVAL;
}

/* One weight: digits only, at most 1000000; *text advances past it. */
static int weight(const char **text, unsigned *out)
{
	const char *p = *text;
	unsigned v = 0;
	if (!isdigit((unsigned char)*p))
		return LISPMS_EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > 1000000)
			return LISPMS_EINVAL;
	}
	*text = p;
	*out = v;
	return LISPMS_EOK;
}

int args_mix(const char *text, struct args_mix *out)
{
	struct args_mix m;
	if (text == NULL || weight(&text, &m.registered) != LISPMS_EOK || *text++ != ':' ||
	    weight(&text, &m.unregistered) != LISPMS_EOK || *text++ != ':' ||
	    weight(&text, &m.unknown) != LISPMS_EOK || *text != '\0')
		return LISPMS_EINVAL;
	if (m.registered + m.unregistered + m.unknown == 0)
		return LISPMS_EINVAL;
	*out = m;
	return LISPMS_EOK;
}

int args_subscribe(const char *text, struct eid_prefix *out, bool *each)
{
	if (text != NULL && strcmp(text, "each") == 0) {
		*each = true;
		return LISPMS_EOK;
	}
	struct eid_prefix p;
	if (args_lig_target(text, &p) != LISPMS_EOK)
		return LISPMS_EINVAL;
	*out = p;
	*each = false;
	return LISPMS_EOK;
}

int args_sub_transport(const char *text, bool *session)
{
	if (text != NULL && strcmp(text, "udp") == 0)
		*session = false;
	else if (text != NULL && strcmp(text, "session") == 0)
		*session = true;
	else
		return LISPMS_EINVAL;
	return LISPMS_EOK;
}

int args_hostport(const char *text, struct sockaddr_storage *out)
{
	char host[64];
	const char *colon = text != NULL ? strrchr(text, ':') : NULL;
	if (colon == NULL)
		return LISPMS_EINVAL;
	size_t n = (size_t)(colon - text);
	if (text[0] == '[' && n >= 2 && text[n - 1] == ']') {
		text++;
		n -= 2;
	}
	if (n >= sizeof(host) || !isdigit((unsigned char)colon[1]))
		return LISPMS_EINVAL;
	memcpy(host, text, n);
	host[n] = '\0';
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	struct sockaddr_storage a;
	if (*end || errno != 0 || port == 0 || port > 65535 || saddr_parse(host, &a) != LISPMS_EOK)
		return LISPMS_EINVAL;
	saddr_set_port(&a, (uint16_t)port);
	*out = a;
	return LISPMS_EOK;
}

int args_servers(const char *text, struct sockaddr_storage *out, unsigned max, unsigned *n)
{
	if (text == NULL)
		return LISPMS_EINVAL;
	unsigned k = 0;
	struct sockaddr_storage a[ARGS_SERVERS_MAX];
	if (max > ARGS_SERVERS_MAX)
		max = ARGS_SERVERS_MAX;
	for (const char *p = text;; k++) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		char one[80];
		if (k == max || len == 0 || len >= sizeof(one))
			return LISPMS_EINVAL;
		memcpy(one, p, len);
		one[len] = '\0';
		if (args_hostport(one, &a[k]) != LISPMS_EOK)
			return LISPMS_EINVAL;
		for (unsigned j = 0; j < k; j++)
			if (saddr_cmp(&a[j], &a[k]) == 0)
				return LISPMS_EINVAL;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	memcpy(out, a, (k + 1) * sizeof(*a));
	*n = k + 1;
	return LISPMS_EOK;
}

/* A port 1..65535 in text[0..len), digits only; -1 when it is not one. */
static int port_of(const char *text, size_t len)
{
	if (len == 0 || len > 5)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)text[i]))
			return -1;
		v = v * 10 + (unsigned)(text[i] - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

/* The transport called text[0..len); -1: none. */
static int transport_id(const char *text, size_t len)
{
	for (int i = 0; i < BT_COUNT; i++) {
		const char *name = bench_transport_id_name((enum bench_transport_id)i);
		if (strlen(name) == len && memcmp(name, text, len) == 0)
			return i;
	}
	return -1;
}

int args_transport_ports(const char *text, uint16_t *port, uint16_t ports[BT_COUNT])
{
	if (text == NULL)
		return LISPMS_EINVAL;
	if (strchr(text, '=') == NULL) {
		int p = port_of(text, strlen(text));
		if (p < 0)
			return LISPMS_EINVAL;
		*port = (uint16_t)p;
		return LISPMS_EOK;
	}
	uint16_t got[BT_COUNT] = { 0 };
	for (const char *at = text;;) {
		const char *end = strchr(at, ',');
		if (end == NULL)
			end = at + strlen(at);
		const char *eq = memchr(at, '=', (size_t)(end - at));
		if (eq == NULL)
			return LISPMS_EINVAL;
		int id = transport_id(at, (size_t)(eq - at));
		int p = port_of(eq + 1, (size_t)(end - eq - 1));
		if (id < 0 || p < 0 || got[id] != 0)
			return LISPMS_EINVAL;
		got[id] = (uint16_t)p;
		if (*end == '\0')
			break;
		at = end + 1;
	}
	memcpy(ports, got, sizeof(got));
	return LISPMS_EOK;
}
