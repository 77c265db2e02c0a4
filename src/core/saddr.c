/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <lispms/dgram.h>
#include <lispms/err.h>

int saddr_parse(const char *text, struct sockaddr_storage *out)
{
	struct sockaddr_storage a;
	memset(&a, 0, sizeof(a));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&a;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a;
	if (inet_pton(AF_INET, text, &v4->sin_addr) == 1)
		v4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1)
		v6->sin6_family = AF_INET6;
	else
		return LISPMS_EINVAL;
	*out = a;
	return LISPMS_EOK;
}

int saddr_format(const struct sockaddr_storage *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	int n;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)a;
		inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
		n = snprintf(buf, len, "%s:%u", host, ntohs(v4->sin_port));
	} else if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)a;
		inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
		n = snprintf(buf, len, "[%s]:%u", host, ntohs(v6->sin6_port));
	} else {
		n = snprintf(buf, len, "none");
	}
	return n < 0 || (size_t)n >= len ? LISPMS_ENOSPC : LISPMS_EOK;
}

uint16_t saddr_port(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return 0;
}

void saddr_set_port(struct sockaddr_storage *a, uint16_t port)
{
	if (a->ss_family == AF_INET)
		((struct sockaddr_in *)a)->sin_port = htons(port);
	else if (a->ss_family == AF_INET6)
		((struct sockaddr_in6 *)a)->sin6_port = htons(port);
}

socklen_t saddr_len(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (a->ss_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

int saddr_cmp(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return a->ss_family < b->ss_family ? -1 : 1;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;
		int r = memcmp(&x->sin_addr, &y->sin_addr, sizeof(x->sin_addr));
		if (r)
			return r;
		return (int)ntohs(x->sin_port) - (int)ntohs(y->sin_port);
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
		int r = memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
		if (r)
			return r;
		return (int)ntohs(x->sin6_port) - (int)ntohs(y->sin6_port);
	}
	return 0;
}
