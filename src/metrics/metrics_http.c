/* SPDX-License-Identifier: MIT */
/*
 * GET /metrics with libmicrohttpd, driven by the control thread: MHD runs
 * in external mode with epoll, the control loop polls MHD's epoll fd and
 * calls metrics_http_run() after every wake-up. Each scrape builds the
 * whole exposition (bounded) and hands it to MHD, which writes it as the
 * scraper reads; at most 16 connections, each dropped after 10 s idle.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/log.h>
#include <lispms/metrics.h>

#define HTTP_CONNECTIONS 16
#define HTTP_TIMEOUT_S	 10
#define EXPOSITION_MAX	 (256u << 20)

struct metrics_http {
	struct MHD_Daemon *d;
	const struct metrics_info *info;
	int epoll_fd;
	uint16_t port;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	static struct log_limit lim = LOG_LIMIT_INIT(2);
	char line[256];
	vsnprintf(line, sizeof(line), fmt, ap);
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_sampled(&lim, LOG_LEVEL_WARNING, "metrics, http: %s", line);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct metrics_http *h = cls;
	(void)version;
	(void)upload;
	if (*state == NULL) { /* headers only so far: answer on the next call */
		*state = h;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0; /* a body is ignored */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n");
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	struct sbuf out;
	sbuf_init(&out, EXPOSITION_MAX);
	metrics_prometheus(h->info, &out);
	if (sbuf_failed(&out)) {
		sbuf_free(&out);
		log_error("metrics, the exposition did not fit (%s)", err_str(LISPMS_ENOMEM));
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "exposition too large\n");
	}
	size_t len;
	char *text = sbuf_take(&out, &len);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

struct metrics_http *metrics_http_new(const struct sockaddr_storage *sa,
				      const struct metrics_info *info, char *err, size_t errlen)
{
	struct metrics_http *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "metrics, cannot start the listener (%s)",
			 err_str(LISPMS_ENOMEM));
		return NULL;
	}
	h->info = info;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (sa->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S, MHD_OPTION_END);
	if (h->d == NULL) {
		char a[64] = "?";
		saddr_format(sa, a, sizeof(a));
		snprintf(err, errlen, "metrics, cannot listen on %s (address in use or not local?)",
			 a);
		free(h);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	h->epoll_fd = di ? di->epoll_fd : -1;
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : 0;
	return h;
}

void metrics_http_free(struct metrics_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}

uint16_t metrics_http_port(const struct metrics_http *h)
{
	return h->port;
}

int metrics_http_pollfd(struct metrics_http *h, int *timeout_ms)
{
	MHD_UNSIGNED_LONG_LONG t;
	if (MHD_get_timeout(h->d, &t) == MHD_YES && (long long)t < *timeout_ms)
		*timeout_ms = (int)t;
	return h->epoll_fd;
}

void metrics_http_run(struct metrics_http *h)
{
	MHD_run(h->d);
}
