/* SPDX-License-Identifier: MIT */
/*
 * Private to the daemon: the operations surface lispmsd runs on its control
 * thread beside the signals: the /metrics listener, the control socket,
 * reload on SIGHUP, and readiness notification to systemd.
 */
#pragma once

#include <poll.h>

#include <lispms/conf.h>
#include <lispms/ctl.h>
#include <lispms/metrics.h>
#include <lispms/ms.h>

struct daemon_ops {
	struct ms *ms;
	struct metrics_info minfo;
	struct metrics_http *http;
	struct ctl *ctl;
	struct conf_options copts;
};

/* Most fds ops_pollfds() adds. */
#define OPS_POLLFDS (LISPMS_CTL_POLLFDS + 1)

/*
 * Start the /metrics listener (when configured) and the control socket
 * (ctl_socket, or control.socket of the configuration). Errors are logged;
 * LISPMS_EINVAL means lispmsd must not start.
 */
int ops_start(struct daemon_ops *o, struct ms *ms, unsigned workers,
	      const struct conf_options *copts, const char *ctl_socket);
void ops_stop(struct daemon_ops *o);

/* The fds to poll; lowers *timeout_ms when something is due sooner. */
unsigned ops_pollfds(struct daemon_ops *o, struct pollfd *p, unsigned max, int *timeout_ms);

/* After poll(): serve scrapes and control connections. */
void ops_dispatch(struct daemon_ops *o, const struct pollfd *p, unsigned n);

/* SIGHUP: re-read the configuration file (the running one stays on any error). */
void ops_reload(struct daemon_ops *o);

/* Tell systemd (when built with libsystemd and run under it): "READY=1", ... */
void ops_notify(const char *state);
