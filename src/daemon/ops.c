/* SPDX-License-Identifier: MIT */
#include "ops.h"

#include <stdio.h>
#include <string.h>

#include <lispms/err.h>
#include <lispms/fastpath.h>
#include <lispms/log.h>
#include <lispms/rcu.h>

#include "build_features.h"
#include "config.h"

#if LISPMS_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

int ops_start(struct daemon_ops *o, struct ms *ms, unsigned workers,
	      const struct conf_options *copts, const char *ctl_socket)
{
	memset(o, 0, sizeof(*o));
	o->ms = ms;
	o->copts = *copts;
	o->minfo = (struct metrics_info){ .ms = ms,
					  .workers = workers,
					  .version = LISPMS_VERSION,
					  .fastpath = fastpath_version(),
					  .features = daemon_features };
	char err[256], path[128];
	struct sockaddr_storage sa;
	bool metrics;
	lrcu_read_lock();
	const struct conf *c = ms_conf(ms);
	metrics = conf_metrics(c)->enabled;
	sa = conf_metrics(c)->sa;
	snprintf(path, sizeof(path), "%s", ctl_socket ? ctl_socket : conf_control(c)->socket);
	lrcu_read_unlock();
	if (metrics) {
		o->http = metrics_http_new(&sa, &o->minfo, err, sizeof(err));
		if (o->http == NULL) {
			log_error("daemon, %s", err);
			return LISPMS_EINVAL;
		}
		char a[64];
		saddr_format(&sa, a, sizeof(a));
		log_notice("daemon, serving Prometheus metrics on http://%s/metrics", a);
	}
	struct ctl_conf cc = {
		.path = path, .ms = ms, .metrics = &o->minfo, .conf_opts = &o->copts
	};
	o->ctl = ctl_new(&cc, err, sizeof(err));
	if (o->ctl == NULL) {
		log_error("daemon, %s", err);
		metrics_http_free(o->http);
		o->http = NULL;
		return LISPMS_EINVAL;
	}
	ctl_sessions_install(o->ctl, ms);
	log_notice("daemon, control socket %s", path);
	return LISPMS_EOK;
}

void ops_stop(struct daemon_ops *o)
{
	ctl_free(o->ctl);
	o->ctl = NULL;
	metrics_http_free(o->http);
	o->http = NULL;
}

unsigned ops_pollfds(struct daemon_ops *o, struct pollfd *p, unsigned max, int *timeout_ms)
{
	unsigned n = 0;
	if (o->http != NULL && n < max)
		p[n++] = (struct pollfd){ .fd = metrics_http_pollfd(o->http, timeout_ms),
					  .events = POLLIN };
	if (o->ctl != NULL)
		n += ctl_pollfds(o->ctl, p + n, max - n, timeout_ms);
	return n;
}

void ops_dispatch(struct daemon_ops *o, const struct pollfd *p, unsigned n)
{
	unsigned at = 0;
	if (o->http != NULL) {
		metrics_http_run(o->http); /* after every wake-up, as libmicrohttpd asks */
		at = 1;
	}
	if (o->ctl != NULL && n > at)
		ctl_dispatch(o->ctl, p + at, n - at);
}

void ops_reload(struct daemon_ops *o)
{
	char path[512], msg[512];
	lrcu_read_lock();
	snprintf(path, sizeof(path), "%s", conf_source(ms_conf(o->ms)));
	lrcu_read_unlock();
	ops_notify("RELOADING=1");
	ms_reload_file(o->ms, path, &o->copts, msg, sizeof(msg)); /* it logs the outcome */
	ops_notify("READY=1");
}

void ops_notify(const char *state)
{
#if LISPMS_HAVE_SYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}
