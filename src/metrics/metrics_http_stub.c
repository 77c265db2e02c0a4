/* SPDX-License-Identifier: MIT */
/* Built without libmicrohttpd: a metrics section is an error at start-up. */
#include <stdio.h>

#include <lispms/metrics.h>

struct metrics_http *metrics_http_new(const struct sockaddr_storage *sa,
				      const struct metrics_info *info, char *err, size_t errlen)
{
	(void)sa;
	(void)info;
	snprintf(err, errlen,
		 "metrics, built without libmicrohttpd: remove the metrics section "
		 "or install libmicrohttpd-dev and rebuild");
	return NULL;
}

void metrics_http_free(struct metrics_http *h)
{
	(void)h;
}

uint16_t metrics_http_port(const struct metrics_http *h)
{
	(void)h;
	return 0;
}

int metrics_http_pollfd(struct metrics_http *h, int *timeout_ms)
{
	(void)h;
	(void)timeout_ms;
	return -1;
}

void metrics_http_run(struct metrics_http *h)
{
	(void)h;
}
