/* SPDX-License-Identifier: MIT */
/*
 * lispmsd: flags, configuration, start-up and shutdown order. Everything
 * else lives in the subsystems; this file only wires them together.
 *
 * Threads: the main thread is the control thread (signals, housekeeping,
 * and in ops.c the /metrics listener, the control socket and reload);
 * N net workers run the request core and send the unsolicited
 * Map-Notifies queued to them (worker 0: mobility and merge; publications
 * spread by subscriber); with a fastpath section, M DPDK lcores run it too, as
 * workers N .. N+M-1; with a map-resolver section, one more thread is the
 * Map-Resolver (resolver.c), on sockets of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <getopt.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>

#include <lispms/conf.h>
#include <lispms/err.h>
#include <lispms/fastpath.h>
#include <lispms/log.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/net.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "build_features.h"
#include "config.h"
#include "ops.h"
#include "resolver.h"

#define DEFAULT_CONFIG "/etc/lispms/lispms.yaml"
#define MAX_WORKERS    LISPMS_MS_MAX_WORKERS

struct daemon {
	struct ms *ms;
	unsigned nworkers;
	struct net_worker *workers[MAX_WORKERS];
	struct ms_thread *threads[MAX_WORKERS];
	struct daemon_ops ops;
	struct fastpath *fp; /* NULL without a fastpath section */
	/* the fast path's lcores are request-core workers after the kernel ones */
	struct ms_thread *fp_threads[MAX_WORKERS];
	unsigned nfp;
	struct tls_cred *quic_cred; /* server.quic's credentials, shared by the workers */
	uint8_t quic_secret[32];    /* QUIC token key, the same for every worker */
	struct tls_cred *tls_cred;  /* server.tls's credentials, shared by the workers */
	struct resolver *resolver;  /* NULL without a map-resolver section */
	uint16_t tls_port;	    /* TLS listeners' port, 0 while closed */
	/* a reload's, from reload_prepare to reload_applied */
	struct tls_cred *next_tls_cred, *next_quic_cred;
	uint16_t next_tls_port;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: lispmsd [-c FILE] [-s SOCKET] [--check] [-v] [-V] [-h]\n"
		   "  -c, --config FILE  configuration (default " DEFAULT_CONFIG ")\n"
		   "  -s, --socket PATH  control socket (default: control.socket)\n"
		   "      --check        validate the configuration and exit 0 or 1\n"
		   "  -v, --verbose      log at debug level\n"
		   "  -V, --version      print the version and exit\n"
		   "  -h, --help         this help\n");
}

static uint64_t worker_tick(void *arg, uint64_t now, struct dgram_outbox *out)
{
	return ms_tick(arg, now, out);
}

static void wake_worker(void *arg)
{
	net_worker_wake(arg);
}

static void reload_unprepare(struct daemon *d);

static void stop_workers(struct daemon *d)
{
	for (unsigned i = 0; i < d->nworkers; i++)
		net_worker_stop(d->workers[i]);
	for (unsigned i = 0; i < d->nworkers; i++) {
		net_worker_free(d->workers[i]);
		ms_thread_free(d->threads[i]);
	}
	d->nworkers = 0;
	net_tls_cred_free(d->quic_cred);
	d->quic_cred = NULL;
	net_tls_cred_free(d->tls_cred);
	d->tls_cred = NULL;
	reload_unprepare(d);
}

/* Refuse to start when another process holds the port (even a reuseport group). */
static int check_ports(const struct conf *c)
{
	const struct conf_server *srv = conf_server(c);
	for (size_t i = 0; i < srv->nlisten; i++) {
		struct sockaddr_storage ss;
		conf_listen_sockaddr(c, i, &ss);
		int ret = net_udp_port_free(&ss, srv->port);
		const char *proto = "udp";
		if (ret == LISPMS_EOK && srv->reliable_transport) {
			ret = net_tcp_port_free(&ss, srv->port);
			proto = "tcp";
		}
		if (ret != LISPMS_EOK) {
			char a[64];
			saddr_format(&ss, a, sizeof(a));
			log_error("daemon, cannot use %s %s (%s)", proto, a,
				  ret == LISPMS_EADDRINUSE ? "already in use by another process"
							   : err_str(ret));
			return ret;
		}
	}
	return LISPMS_EOK;
}

/* What a reload can change on running workers, from the server section. */
static struct net_worker_limits worker_limits(const struct conf_server *srv, unsigned nworkers)
{
	return (struct net_worker_limits){
		.keepalive_s = srv->keepalive,
		.user_timeout_s = srv->user_timeout,
		.max_conns = srv->max_sessions ? (srv->max_sessions + nworkers - 1) / nworkers : 0,
		.output_limit = (size_t)srv->session_output_limit,
	};
}

/* LISPMS_EOK when no other process holds tcp `port` on any listen address;
 * else `err` says which, under `key`. */
static int tcp_ports_free(const struct conf *c, uint16_t port, const char *key, char *err,
			  size_t errlen)
{
	const struct conf_server *srv = conf_server(c);
	for (size_t i = 0; i < srv->nlisten; i++) {
		struct sockaddr_storage ss;
		conf_listen_sockaddr(c, i, &ss);
		int ret = net_tcp_port_free(&ss, port);
		if (ret != LISPMS_EOK) {
			char a[64];
			saddr_set_port(&ss, port);
			saddr_format(&ss, a, sizeof(a));
			snprintf(err, errlen, "%s: cannot use tcp %s (%s)", key, a,
				 ret == LISPMS_EADDRINUSE ? "already in use by another process"
							  : err_str(ret));
			return ret;
		}
	}
	return LISPMS_EOK;
}

/* The TLS-over-TCP port a configuration listens on (0: none). */
static uint16_t tls_port_of(const struct conf_server *srv)
{
	return srv->tls.enabled && srv->reliable_transport ? srv->tls.port : 0;
}

static void reload_unprepare(struct daemon *d)
{
	for (unsigned i = 0; i < d->nworkers; i++)
		net_worker_tls_abort(d->workers[i]);
	net_tls_cred_free(d->next_tls_cred);
	net_tls_cred_free(d->next_quic_cred);
	d->next_tls_cred = d->next_quic_cred = NULL;
}

/*
 * Before the new configuration is published, what can fail is tried, and
 * a failure refuses the reload with the running configuration kept:
 * - server.tls and server.quic's certificate, key and client-ca are read
 *   again (a rotation: files replaced under the same names, or new names);
 * - TLS on, or on a new port: its listeners open (the port taken refuses);
 * - reliable-transport turned on: the TCP listeners open before the new
 *   configuration lets any Map-Notify offer a session (the r bit).
 * Everything else happens in reload_applied, after every worker took the
 * new configuration: credentials and TLS listeners handed over, TCP and TLS
 * listeners closed when reliable-transport or server.tls goes off.
 */
static int reload_prepare(void *arg, const struct conf *old, const struct conf *new, char *err,
			  size_t errlen)
{
	struct daemon *d = arg;
	const struct conf_server *srv = conf_server(new);
	char why[512];
	int ret;
	if (srv->tls.enabled && srv->tls.port == srv->port) {
		snprintf(err, errlen, "server.tls: port %u is server.port's", srv->tls.port);
		return LISPMS_ECONFIG;
	}
	if (srv->tls.enabled &&
	    (ret = net_tls_cred_load(&d->next_tls_cred, srv->tls.certificate, srv->tls.key,
				     srv->tls.client_ca, why, sizeof(why))) != LISPMS_EOK) {
		snprintf(err, errlen, "server.tls: %s", why);
		goto fail;
	}
	/* QUIC runs from start to stop; a reload rotates its credentials */
	if (d->quic_cred != NULL && srv->quic.enabled &&
	    (ret = net_tls_cred_load(&d->next_quic_cred, srv->quic.certificate, srv->quic.key,
				     srv->quic.client_ca, why, sizeof(why))) != LISPMS_EOK) {
		snprintf(err, errlen, "server.quic: %s", why);
		goto fail;
	}
	d->next_tls_port = tls_port_of(srv);
	if (d->next_tls_port != 0 && d->next_tls_port != d->tls_port) {
		if ((ret = tcp_ports_free(new, d->next_tls_port, "server.tls", err, errlen)) !=
		    LISPMS_EOK)
			goto fail;
		for (unsigned i = 0; i < d->nworkers; i++) {
			ret = net_worker_tls_prepare(d->workers[i], d->next_tls_port,
						     srv->listen_backlog, why, sizeof(why));
			if (ret != LISPMS_EOK) {
				snprintf(err, errlen, "server.tls: %s", why);
				goto fail;
			}
		}
	}
	if (conf_server(old)->reliable_transport || !srv->reliable_transport)
		return LISPMS_EOK;
	if ((ret = tcp_ports_free(new, srv->port, "server.reliable-transport", err, errlen)) !=
	    LISPMS_EOK)
		goto fail;
	for (unsigned i = 0; i < d->nworkers; i++) {
		ret = net_worker_listen(d->workers[i], srv->listen_backlog, why, sizeof(why));
		if (ret != LISPMS_EOK) {
			for (unsigned j = 0; j < i; j++)
				net_worker_unlisten(d->workers[j]);
			snprintf(err, errlen, "server.reliable-transport: %s", why);
			goto fail;
		}
	}
	return LISPMS_EOK;
fail:
	reload_unprepare(d);
	return ret;
}

/* Every key of the server section a reload applies reaches the workers here. */
static void reload_applied(void *arg, const struct conf *old, const struct conf *new)
{
	struct daemon *d = arg;
	const struct conf_server *srv = conf_server(new);
	struct net_worker_limits l = worker_limits(srv, d->nworkers);
	unsigned gen[MAX_WORKERS];
	bool closing = conf_server(old)->reliable_transport && !srv->reliable_transport;
	for (unsigned i = 0; i < d->nworkers; i++) {
		gen[i] = net_worker_set_limits(d->workers[i], &l);
		if (closing)
			gen[i] = net_worker_unlisten(d->workers[i]);
		if (d->next_tls_cred != NULL || d->tls_port != 0)
			gen[i] =
			    net_worker_tls_commit(d->workers[i], d->next_tls_port,
						  d->next_tls_cred ? d->next_tls_cred : d->tls_cred,
						  srv->tls.handshake_timeout);
		if (d->next_quic_cred != NULL)
			gen[i] = net_worker_quic_cred(d->workers[i], d->next_quic_cred);
	}
	/* so the reload's answer means "in force": each worker applies it at once */
	for (unsigned i = 0; i < d->nworkers; i++)
		if (!net_worker_wait(d->workers[i], gen[i], 1000))
			log_warning("daemon, worker %u is slow to take the reloaded settings", i);
	if (closing)
		log_notice("daemon, reliable transport off: tcp listeners closed, no new session "
			   "on any transport, open sessions stay until they end");
	else if (!conf_server(old)->reliable_transport && srv->reliable_transport)
		log_notice("daemon, reliable transport on: listening on tcp port %u", srv->port);
	if (d->next_tls_port != d->tls_port) {
		if (d->next_tls_port != 0)
			log_notice("daemon, TLS 1.3 on tcp port %u", d->next_tls_port);
		else
			log_notice("daemon, TLS listeners on tcp port %u closed, open TLS sessions "
				   "stay until they end",
				   d->tls_port);
	}
	d->tls_port = d->next_tls_port;
	if (d->next_tls_cred != NULL) { /* the workers hold their own references */
		net_tls_cred_free(d->tls_cred);
		d->tls_cred = d->next_tls_cred;
		d->next_tls_cred = NULL;
		log_info("daemon, server.tls credentials loaded for new handshakes");
	}
	if (d->next_quic_cred != NULL) {
		net_tls_cred_free(d->quic_cred);
		d->quic_cred = d->next_quic_cred;
		d->next_quic_cred = NULL;
		log_info("daemon, server.quic credentials loaded for new handshakes");
	}
}

static int start_workers(struct daemon *d, const struct conf *c)
{
	const struct conf_server *srv = conf_server(c);
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = conf_workers(c, nproc > 0 ? (unsigned)nproc : 1);
	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	struct sockaddr_storage addrs[16];
	size_t naddrs = srv->nlisten < 16 ? srv->nlisten : 16;
	for (size_t i = 0; i < naddrs; i++)
		conf_listen_sockaddr(c, i, &addrs[i]);
	/* QUIC (D17) and SCTP (D18) run from start to stop when configured: their
	 * UDP sockets carry the open sessions too, so reliable-transport gates
	 * them at admission (no session while it is off), not by closing them */
	const struct conf_quic *q = &srv->quic;
	bool quic = q->enabled;
	if (quic) {
		char err[512];
		int ret = net_tls_cred_load(&d->quic_cred, q->certificate, q->key, q->client_ca,
					    err, sizeof(err));
		if (ret != LISPMS_EOK) {
			log_error("daemon, server.quic: %s", err);
			return ret;
		}
		net_quic_secret(d->quic_secret, sizeof(d->quic_secret));
	}
	bool sctp = srv->sctp.enabled;
	/* TLS over TCP (D19): the same credentials loader as QUIC; its listeners
	 * open and close with reliable-transport, like TCP's */
	const struct conf_tls *tl = &srv->tls;
	if (tl->enabled) {
		char err[512];
		if (tl->port == srv->port) {
			log_error("daemon, server.tls: port %u is server.port's", tl->port);
			return LISPMS_ECONFIG;
		}
		int ret = net_tls_cred_load(&d->tls_cred, tl->certificate, tl->key, tl->client_ca,
					    err, sizeof(err));
		if (ret != LISPMS_EOK) {
			log_error("daemon, server.tls: %s", err);
			return ret;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		d->threads[i] = ms_thread_new(d->ms, i);
		if (d->threads[i] == NULL) {
			log_error("daemon, cannot allocate worker %u (%s)", i,
				  err_str(LISPMS_ENOMEM));
			return LISPMS_ENOMEM;
		}
		/* the worker's receive buffers are its own until the batch returns */
		ms_thread_rx_writable(d->threads[i], true);
		struct net_worker_conf wc = {
			.addrs = addrs,
			.naddrs = (unsigned)naddrs,
			.port = srv->port,
			.cpu = srv->cpu_pinning && nproc > 0 ? (int)(i % (unsigned)nproc) : -1,
			.handler = ms_handle_batch,
			.arg = d->threads[i],
			.tick = worker_tick,
			.tick_arg = d->threads[i],
			/* the request core's sessions, whatever transport carries them */
			.stream = &ms_stream_handler,
			.stream_arg = d->threads[i],
			/* TCP listeners open and close with reliable-transport */
			.tcp_listen = srv->reliable_transport,
			.backlog = srv->listen_backlog,
			.keepalive_s = srv->keepalive,
			.user_timeout_s = srv->user_timeout,
			.output_limit = (size_t)srv->session_output_limit,
			.max_conns = worker_limits(srv, n).max_conns,
			.quic_port = quic ? q->port : 0,
			.quic_cred = d->quic_cred,
			.quic_alpn = q->alpn,
			.quic_idle_s = q->idle_timeout,
			.quic_secret = d->quic_secret,
			.quic_secretlen = sizeof(d->quic_secret),
			/* SCTP (D18): usrsctp is one stack per process, so
			 * the first worker serves every association */
			.sctp_port = srv->sctp.port,
			.sctp_udp_port = i == 0 && sctp ? srv->sctp.udp_port : 0,
			.tls_port = tls_port_of(srv),
			.tls_cred = d->tls_cred,
			.tls_handshake_timeout_s = tl->handshake_timeout,
		};
		char err[160];
		d->workers[i] = net_worker_new(&wc, err, sizeof(err));
		if (d->workers[i] == NULL) {
			log_error("daemon, %s", err);
			ms_thread_free(d->threads[i]);
			return LISPMS_EINVAL;
		}
		d->nworkers = i + 1;
	}
	d->tls_port = tls_port_of(srv);
	for (unsigned i = 0; i < n; i++)
		ms_set_worker(d->ms, i, wake_worker, d->workers[i]);
	struct ms_reload_hooks h = { .applied = reload_applied,
				     .prepare = reload_prepare,
				     .arg = d };
	if (ms_reload_set_hooks(d->ms, &h) != LISPMS_EOK)
		return LISPMS_ELIMIT;
	for (unsigned i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "udp-%u", i);
		if (net_worker_start(d->workers[i], name) != LISPMS_EOK)
			return LISPMS_ENOMEM;
	}
	return LISPMS_EOK;
}

/* One request-core worker per fast-path queue, handed to it with ms_handle_batch. */
static int start_fastpath(struct daemon *d)
{
	unsigned nq = fastpath_queues(d->fp);
	if (d->nworkers + nq > MAX_WORKERS)
		return LISPMS_ELIMIT;
	void *args[MAX_WORKERS];
	for (unsigned q = 0; q < nq; q++) {
		d->fp_threads[q] = ms_thread_new(d->ms, d->nworkers + q);
		if (d->fp_threads[q] == NULL)
			return LISPMS_ENOMEM;
		d->nfp = q + 1;
		/* the burst's mbufs are the lcore's until it frees or sends them */
		ms_thread_rx_writable(d->fp_threads[q], true);
		args[q] = d->fp_threads[q];
	}
	return fastpath_start(d->fp, ms_handle_batch, args);
}

static void log_listening(const struct conf *c, unsigned nworkers)
{
	const struct conf_server *srv = conf_server(c);
	char list[256] = "";
	size_t used = 0;
	for (size_t i = 0; i < srv->nlisten && used < sizeof(list); i++) {
		char a[64];
		lisp_addr_format(&srv->listen[i], a, sizeof(a));
		int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", a);
		if (w > 0)
			used += (size_t)w;
	}
	log_notice("daemon, lispmsd %s serving udp%s port %u on %s with %u workers, %zu sites",
		   LISPMS_VERSION, srv->reliable_transport ? " and tcp" : "", srv->port, list,
		   nworkers, conf_site_count(c));
	const char *off =
	    srv->reliable_transport ? "" : " (no session while reliable-transport is off)";
	if (srv->quic.enabled)
		log_notice("daemon, QUIC (ALPN %s) on udp port %u%s", srv->quic.alpn,
			   srv->quic.port, off);
	if (srv->sctp.enabled)
		log_notice("daemon, SCTP port %u over udp port %u (worker 0)%s", srv->sctp.port,
			   srv->sctp.udp_port, off);
	if (srv->tls.enabled && srv->reliable_transport)
		log_notice("daemon, TLS 1.3 on tcp port %u%s", srv->tls.port,
			   srv->tls.client_ca ? " (client certificates required)" : "");
}

/* Signals, housekeeping and the operations surface until SIGTERM or SIGINT. */
static void control_loop(struct daemon *d, int sfd)
{
	uint64_t next_housekeeping = 0;
	for (;;) {
		struct pollfd p[1 + OPS_POLLFDS] = { { .fd = sfd, .events = POLLIN } };
		int timeout = 250;
		unsigned nfds = 1 + ops_pollfds(&d->ops, p + 1, OPS_POLLFDS, &timeout);
		lrcu_offline();
		int n = poll(p, nfds, timeout);
		lrcu_online();
		if (n > 0 && (p[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
					log_notice("daemon, stopping on %s",
						   strsignal((int)si.ssi_signo));
					ops_notify("STOPPING=1");
					return;
				}
				if (si.ssi_signo == SIGHUP)
					ops_reload(&d->ops);
			}
		}
		ops_dispatch(&d->ops, p + 1, nfds - 1);
		uint64_t now = mtime_now_ns();
		if (now >= next_housekeeping) {
			ms_housekeeping(d->ms, now);
			next_housekeeping = now + LISPMS_NS_PER_SEC;
		}
		lrcu_quiescent();
	}
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG, *ctl_socket = NULL;
	bool check = false, verbose = false;
	static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
					      { "check", no_argument, NULL, 'C' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "version", no_argument, NULL, 'V' },
					      { "help", no_argument, NULL, 'h' },
					      { "socket", required_argument, NULL, 's' },
					      { 0 } };
	int opt;
	while ((opt = getopt_long(argc, argv, "c:s:vVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 's':
			ctl_socket = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'V':
			features_print(stdout);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}

	struct conf_options copts = { .fastpath_available = fastpath_available() };
	struct conf *conf = NULL;
	struct conf_error err;
	if (conf_load_file(path, &copts, &conf, &err) != LISPMS_EOK) {
		fprintf(stderr, "lispmsd: invalid configuration\n%s", err.all);
		if (err.all[0] && err.all[strlen(err.all) - 1] != '\n')
			fputc('\n', stderr);
		return 1;
	}
	for (size_t i = 0; i < conf_warning_count(conf); i++)
		fprintf(stderr, "lispmsd: warning: %s\n", conf_warning_at(conf, i));
	if (check) {
		printf("lispmsd: %s is valid (%zu sites)\n", path, conf_site_count(conf));
		conf_free(conf);
		return 0;
	}
	log_set_level(verbose ? LOG_LEVEL_DEBUG : conf_log_level(conf));

	/* every session is a file: take what the hard limit (systemd's LimitNOFILE) allows */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	thread_register("control");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads started later inherit it */
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);

	int status = 1;
	struct daemon d = { 0 };
	if (check_ports(conf) != LISPMS_EOK) {
		conf_free(conf);
		goto out;
	}
	if (conf_fastpath(conf)->enabled) {
		char fperr[256];
		d.fp = fastpath_new(conf_fastpath(conf), conf_server(conf)->port, fperr,
				    sizeof(fperr));
		if (d.fp == NULL) {
			log_error("daemon, cannot start the DPDK fast path: %s", fperr);
			conf_free(conf);
			goto out;
		}
	}
	d.ms = ms_new(conf); /* owns conf from here */
	if (d.ms == NULL) {
		log_error("daemon, cannot start the request core (%s)", err_str(LISPMS_ENOMEM));
		goto out;
	}
	if (start_workers(&d, ms_conf(d.ms)) != LISPMS_EOK)
		goto out_stop;
	if (d.fp != NULL) { /* the lcores are request-core workers after the kernel ones */
		int ret = start_fastpath(&d);
		if (ret != LISPMS_EOK) {
			log_error(
			    "daemon, cannot start the fast path lcores (%s; %u workers and %u "
			    "lcores, at most %d request-core workers in all)",
			    err_str(ret), d.nworkers, fastpath_queues(d.fp), MAX_WORKERS);
			goto out_stop;
		}
		log_notice("daemon, DPDK fast path (%s) polling with %u lcores", fastpath_version(),
			   fastpath_queues(d.fp));
	}
	if (conf_map_resolver(ms_conf(d.ms))->enabled &&
	    resolver_start(ms_conf(d.ms), &d.resolver) != LISPMS_EOK)
		goto out_stop;
	if (ops_start(&d.ops, d.ms, d.nworkers, &copts, ctl_socket) != LISPMS_EOK)
		goto out_stop;
	resolver_ctl_install(d.resolver, d.ops.ctl);
	log_listening(ms_conf(d.ms), d.nworkers);
	ops_notify("READY=1");
	control_loop(&d, sfd);
	status = 0;

out_stop:
	ops_stop(&d.ops);
	resolver_stop(d.resolver);
	fastpath_stop(d.fp);
	for (unsigned q = 0; q < d.nfp; q++)
		ms_thread_free(d.fp_threads[q]);
	stop_workers(&d);
	ms_free(d.ms);
out:
	fastpath_free(d.fp); /* closes the port: a net_pcap tx file is complete */
	lrcu_barrier();
	if (sfd >= 0)
		close(sfd);
	if (status == 0)
		log_notice("daemon, stopped");
	thread_unregister();
	return status;
}
