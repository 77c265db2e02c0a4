/* SPDX-License-Identifier: MIT */
/*
 * The schema of lispms.yaml: one table per section. The loader, the
 * comparison behind reload and docs/configuration.md all read these tables;
 * a key added to them is parsed, checked, compared and documented. Here:
 * the root, server:, metrics:, control:, log: and fastpath:; the session
 * transports' sections are in schema_transport.c, sites: and subscribers:
 * in schema_sites.c, ddt: and map-resolver: in schema_ddt.c.
 */
#include "schema.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lispms/err.h>

#include "config.h"

/* ------------------------------------------------------------------ checks */

static int check_unique_addrs(struct apply *a, const struct schema_item *it,
			      const struct doc_node *node, void *obj)
{
	const struct lisp_addr *v = *(const struct lisp_addr **)((char *)obj + it->offset);
	size_t n = *(const size_t *)((char *)obj + it->aux_offset);
	for (size_t i = 1; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!lisp_addr_equal(&v[i], &v[j]))
				continue;
			const struct doc_node *at = node->kind == DOC_SEQ ? node->items[i] : node;
			size_t mark = apply_push_index(a, i);
			apply_error(a, at, "address listed twice");
			apply_pop(a, mark);
			return LISPMS_ECONFIG;
		}
	}
	return LISPMS_EOK;
}

/* "02:00:00:00:00:01": six pairs of hex digits. */
static int check_mac(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		     void *obj)
{
	const char *v = *(const char **)((char *)obj + it->offset);
	bool ok = v != NULL && strlen(v) == 17;
	for (size_t i = 0; ok && i < 17; i++)
		ok = i % 3 == 2 ? v[i] == ':' : isxdigit((unsigned char)v[i]) != 0;
	if (v == NULL || ok)
		return LISPMS_EOK;
	apply_error(a, node, "not a MAC address (want six hex pairs: 02:00:00:00:00:01)");
	return LISPMS_ECONFIG;
}

/* A kernel interface name that is also safe inside DPDK device arguments. */
static int check_ifname(struct apply *a, const struct schema_item *it, const struct doc_node *node,
			void *obj)
{
	const char *v = *(const char **)((char *)obj + it->offset);
	if (v == NULL)
		return LISPMS_EOK;
	bool ok = strcmp(v, ".") != 0 && strcmp(v, "..") != 0;
	for (const char *p = v; ok && *p; p++)
		ok = isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.';
	if (ok)
		return LISPMS_EOK;
	apply_error(a, node, "not an interface name (letters, digits, '-', '_', '.')");
	return LISPMS_ECONFIG;
}

static int check_metrics(struct apply *a, const struct schema_item *it, const struct doc_node *node,
			 void *obj)
{
	(void)a, (void)it, (void)node;
	struct conf_metrics *m = obj;
	m->salen = lisp_addr_to_sockaddr(&m->addr, m->port, &m->sa);
	return LISPMS_EOK;
}

static int gate_fastpath(struct apply *a, const struct schema_item *it, const struct doc_node *key,
			 void *obj)
{
	(void)it, (void)obj;
	if (a->opts->fastpath_available)
		return LISPMS_EOK;
	apply_error(a, key, "built without DPDK");
	return LISPMS_ECONFIG;
}

/* ------------------------------------------------------------------ tables */

static const struct schema_item server_items[] = {
	{ .key = "listen",
	  .type = SCHEMA_IP,
	  .flags = SCHEMA_LIST | SCHEMA_NONEMPTY | SCHEMA_RESTART,
	  FIELD(struct conf_server, listen),
	  COUNT(struct conf_server, nlisten),
	  .def = "[0.0.0.0, \"::\"]",
	  .check = check_unique_addrs,
	  .help = "Addresses to listen on; UDP and TCP both use `port`. On a wildcard "
		  "address, UDP and QUIC answer from the address each datagram was sent to "
		  "(IP_PKTINFO / IPV6_PKTINFO), so clients of a host with several addresses "
		  "get their answers from the one they asked." },
	{ .key = "port",
	  UINT(struct conf_server, port),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 65535,
	  .def = "4342",
	  .help = "UDP and TCP port of the Map-Server." },
	{ .key = "workers",
	  UINT(struct conf_server, workers),
	  .flags = SCHEMA_RESTART,
	  .min = 0,
	  .max = 1024,
	  .def = "0",
	  .help = "Worker threads; 0: one per core." },
	{ .key = "registration-timeout",
	  UINT(struct conf_server, registration_timeout),
	  .min = 10,
	  .max = 86400,
	  .def = "180",
	  .help = "Seconds a UDP registration lives without a refresh (soft state)." },
	{ .key = "reliable-transport",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_server, reliable_transport),
	  .def = "true",
	  .help = "Accept reliable-transport (TCP) sessions. A reload that turns it on opens "
		  "the TCP listeners before any Map-Notify offers a session (the reload fails "
		  "if they cannot open); one that turns it off stops offering sessions, then "
		  "closes the listeners; open sessions stay up until they end." },
	{ .key = "keepalive",
	  UINT(struct conf_server, keepalive),
	  .min = 1,
	  .max = 3600,
	  .def = "10",
	  .help = "Seconds a TCP session may be idle before keepalive probes start. A reload "
		  "applies it to every session, open ones included." },
	{ .key = "user-timeout",
	  UINT(struct conf_server, user_timeout),
	  .min = 1,
	  .max = 3600,
	  .def = "30",
	  .help = "Seconds unacknowledged data may wait before a TCP session is dropped "
		  "(TCP_USER_TIMEOUT). A reload applies it to every session, open ones "
		  "included." },
	{ .key = "max-sessions",
	  UINT(struct conf_server, max_sessions),
	  .min = 0,
	  .max = 10000000,
	  .def = "0",
	  .help = "Most TCP sessions at once; 0: bounded by the file limit only. A reload "
		  "applies it to new connections; open sessions past a lowered limit stay." },
	{ .key = "session-output-limit",
	  .type = SCHEMA_SIZE,
	  FIELD(struct conf_server, session_output_limit),
	  .min = 64 * 1024,
	  .max = 1024ull * 1024 * 1024,
	  .def = "4MiB",
	  .help = "Bytes queued to one session before it counts as a slow reader and is "
		  "dropped; plain bytes or KiB, MiB, GiB. A reload applies it to every session, "
		  "open ones included." },
	{ .key = "session-read-timeout",
	  UINT(struct conf_server, session_read_timeout),
	  .min = 0,
	  .max = 86400,
	  .def = "30",
	  .help = "Seconds an incomplete message may stay pending on a session; past it the "
		  "session gets an Error Notification (code 6) and is closed as a session loss. "
		  "A session with nothing partial is never closed for being idle. 0: no limit. "
		  "A reload applies it to every session." },
	{ .key = "listen-backlog",
	  UINT(struct conf_server, listen_backlog),
	  .flags = SCHEMA_RESTART,
	  .min = 16,
	  .max = 65535,
	  .def = "4096",
	  .help = "Backlog of each TCP listener (capped by net.core.somaxconn); used when a "
		  "listener opens: at start, or when a reload turns reliable-transport on." },
	{ .key = "reply-rate-limit",
	  UINT(struct conf_server, reply_rate_limit),
	  .min = 0,
	  .max = 10000000,
	  .def = "1000",
	  .help = "Map-Replies (positive and negative) and forwarded Map-Requests per second "
		  "to one ITR-RLOC address, a token bucket per address with a burst of one second "
		  "(docs/protocol.md D22); what is over it is counted, not sent. 0: no limit." },
	{ .key = "cpu-pinning",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_server, cpu_pinning),
	  .flags = SCHEMA_RESTART,
	  .def = "false",
	  .help = "Pin each worker thread to its own core." },
	{ .key = "quic",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_ABSENT_ZERO | SCHEMA_RESTART,
	  FIELD(struct conf_server, quic),
	  .section = &schema_quic_section,
	  .help = "QUIC sessions: see below." },
	{ .key = "sctp",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_ABSENT_ZERO | SCHEMA_RESTART,
	  FIELD(struct conf_server, sctp),
	  .section = &schema_sctp_section,
	  .help = "SCTP sessions: see below." },
	{ .key = "tls",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_ABSENT_ZERO,
	  FIELD(struct conf_server, tls),
	  .section = &schema_tls_section,
	  .help = "TLS over TCP sessions: see below." },
	{ 0 },
};

static const struct schema_section server_section = {
	.name = "server",
	.size = sizeof(struct conf_server),
	.items = server_items,
	.help = "The Map-Server's sockets, threads and timers.",
};

static const struct schema_item metrics_items[] = {
	{ .key = "listen",
	  .type = SCHEMA_ADDR_PORT,
	  .flags = SCHEMA_RESTART,
	  FIELD(struct conf_metrics, addr),
	  COUNT(struct conf_metrics, port),
	  .def = "127.0.0.1:9342",
	  .help = "Address and port of the Prometheus `/metrics` listener "
		  "(`[::1]:9342` for IPv6)." },
	{ 0 },
};

static const struct schema_section metrics_section = {
	.name = "metrics",
	.size = sizeof(struct conf_metrics),
	.items = metrics_items,
	.check = check_metrics,
	.has_present = true,
	.present_offset = offsetof(struct conf_metrics, enabled),
	.help = "Prometheus metrics; without this section there is no listener.",
};

static const struct schema_item control_items[] = {
	{ .key = "socket",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_NONEMPTY | SCHEMA_RESTART,
	  FIELD(struct conf_control, socket),
	  .max = 107, /* sun_path */
	  .def = "/run/lispms/lispms.sock",
	  .help = "UNIX socket of `lispmsctl`." },
	{ 0 },
};

static const struct schema_section control_section = {
	.name = "control",
	.size = sizeof(struct conf_control),
	.items = control_items,
	.help = "The control socket.",
};

static const struct schema_enum log_levels[] = {
	{ "error", LOG_LEVEL_ERROR },	{ "warning", LOG_LEVEL_WARNING },
	{ "notice", LOG_LEVEL_NOTICE }, { "info", LOG_LEVEL_INFO },
	{ "debug", LOG_LEVEL_DEBUG },	{ NULL, 0 },
};

static const struct schema_item log_items[] = {
	{ .key = "level",
	  .type = SCHEMA_ENUM,
	  FIELD(struct conf_log, level),
	  .names = log_levels,
	  .def = "info",
	  .help = "Lowest level logged." },
	{ 0 },
};

static const struct schema_section log_section = {
	.name = "log",
	.size = sizeof(struct conf_log),
	.items = log_items,
	.help = "Logging to stderr.",
};

static const struct schema_item fastpath_items[] = {
	{ .key = "eal-args",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_LIST | SCHEMA_RESTART,
	  FIELD(struct conf_fastpath, eal_args),
	  COUNT(struct conf_fastpath, neal_args),
	  .max = 4096,
	  .help = "DPDK EAL arguments (cores, memory, `--no-huge`, ...)." },
	{ .key = "port",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_REQUIRED | SCHEMA_NONEMPTY | SCHEMA_RESTART,
	  FIELD(struct conf_fastpath, port),
	  .max = 4096,
	  .help = "A PCI address or a virtual device such as `net_pcap0,rx_pcap=...`." },
	{ .key = "addresses",
	  .type = SCHEMA_IP,
	  .flags = SCHEMA_LIST | SCHEMA_REQUIRED | SCHEMA_NONEMPTY | SCHEMA_RESTART,
	  FIELD(struct conf_fastpath, addresses),
	  COUNT(struct conf_fastpath, naddresses),
	  .check = check_unique_addrs,
	  .help = "Local addresses the fast path answers for." },
	{ .key = "queues",
	  UINT(struct conf_fastpath, queues),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 128,
	  .def = "1",
	  .help = "RX/TX queue pairs, one per lcore." },
	{ .key = "next-hop-mac",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_RESTART,
	  FIELD(struct conf_fastpath, next_hop_mac),
	  .max = 17,
	  .check = check_mac,
	  .help = "Destination MAC of datagrams to addresses not seen in the same receive burst "
		  "(forwarded Map-Requests, notifies); none: they are counted and dropped." },
	{ .key = "mbufs",
	  UINT(struct conf_fastpath, mbufs),
	  .flags = SCHEMA_RESTART,
	  .min = 1023,
	  .max = 1048575,
	  .def = "8191",
	  .help = "Packet buffers in the pool (net_pcap `infinite_rx` needs more than the file "
		  "has frames)." },
	{ .key = "exception-iface",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_NONEMPTY | SCHEMA_RESTART,
	  FIELD(struct conf_fastpath, exception_iface),
	  .max = 15,
	  .check = check_ifname,
	  .help = "Kernel interface (a TAP, the port's MAC) the fast path creates for the traffic "
		  "that is not LISP for it (ARP and ND for other addresses, ICMP, TCP, other "
		  "ports) and sends out the port what the kernel sends on it; needs root or "
		  "CAP_NET_ADMIN and /dev/net/tun. None: that traffic is counted and dropped." },
	{ 0 },
};

static const struct schema_section fastpath_section = {
	.name = "fastpath",
	.size = sizeof(struct conf_fastpath),
	.items = fastpath_items,
	.has_present = true,
	.present_offset = offsetof(struct conf_fastpath, enabled),
	.help = "The DPDK UDP fast path; an error in a build without DPDK.",
};

/* Sections are read in this order, so sites can inherit from server. */
static const struct schema_item root_items[] = {
	{ .key = "server",
	  .type = SCHEMA_SECTION,
	  FIELD(struct conf, server),
	  .section = &server_section },
	{ .key = "metrics",
	  .type = SCHEMA_SECTION,
	  FIELD(struct conf, metrics),
	  .section = &metrics_section },
	{ .key = "control",
	  .type = SCHEMA_SECTION,
	  FIELD(struct conf, control),
	  .section = &control_section },
	{ .key = "log", .type = SCHEMA_SECTION, FIELD(struct conf, log), .section = &log_section },
	{ .key = "fastpath",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_ABSENT_ZERO,
	  FIELD(struct conf, fastpath),
	  .section = &fastpath_section,
	  .gate = gate_fastpath },
	{ .key = "sites",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_LIST | SCHEMA_NO_DIFF,
	  FIELD(struct conf, sites),
	  COUNT(struct conf, nsites),
	  .section = &schema_site_section,
	  .def = "[]",
	  .help = "The sites, each a mapping." },
	{ .key = "ddt",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_ABSENT_ZERO,
	  FIELD(struct conf, ddt),
	  .section = &schema_ddt_section },
	{ .key = "subscribers",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_LIST,
	  FIELD(struct conf, subscribers),
	  COUNT(struct conf, nsubscribers),
	  .section = &schema_subscriber_section,
	  .def = "[]",
	  .help = "Routers that register nothing but may subscribe (publish/subscribe, D20)." },
	{ .key = "map-resolver",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_ABSENT_ZERO,
	  FIELD(struct conf, map_resolver),
	  .section = &schema_map_resolver_section },
	{ 0 },
};

const struct schema_section schema_root = {
	.name = "",
	.size = sizeof(struct conf),
	.items = root_items,
	.check = conf_check_sites,
};
