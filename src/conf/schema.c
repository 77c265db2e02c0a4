/* SPDX-License-Identifier: MIT */
/*
 * The schema of lispms.yaml: one table per section. The loader, the
 * comparison behind reload and docs/configuration.md all read these tables;
 * a key added here is parsed, checked, compared and documented.
 */
#include "schema.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lispms/err.h>

#include "config.h"

#define FIELD(T, member) .offset = offsetof(T, member)
#define COUNT(T, member) .aux_offset = offsetof(T, member)
#define UINT(T, member)	 .type = SCHEMA_UINT, FIELD(T, member), .width = sizeof(((T *)0)->member)

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

static int check_name(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		      void *obj)
{
	const char *name = *(const char **)((char *)obj + it->offset);
	for (const char *p = name; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\') {
			apply_error(a, node,
				    "a site name cannot hold control characters, '\"' or '\\'");
			return LISPMS_ECONFIG;
		}
	}
	return LISPMS_EOK;
}

static int check_key(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		     void *obj)
{
	(void)a, (void)it, (void)node;
	struct conf_key *k = obj;
	k->secret_len = (uint16_t)strlen((const char *)k->secret);
	return LISPMS_EOK;
}

static int check_site(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		      void *obj)
{
	(void)it;
	struct conf_site *s = obj;
	const struct doc_node *keys = doc_map_get(node, "keys");
	for (size_t i = 0; i < s->nkeys; i++) {
		uint8_t id = s->keys[i].id;
		if (s->key_slot[id] == 0) {
			s->key_slot[id] = (uint8_t)(i + 1);
			continue;
		}
		size_t first = s->key_slot[id] - 1u;
		const struct doc_node *at = keys && keys->kind == DOC_SEQ ? keys->items[i] : node;
		const struct doc_node *first_at =
		    keys && keys->kind == DOC_SEQ ? keys->items[first] : node;
		size_t mark = apply_push_key(a, "keys");
		apply_push_index(a, i);
		apply_push_key(a, "id");
		apply_error(a, doc_map_get(at, "id") ? doc_map_get(at, "id") : at,
			    "duplicate key id %u (also keys[%zu], line %u)", id, first,
			    first_at->line);
		apply_pop(a, mark);
	}
	return LISPMS_EOK;
}

static void default_site_transport(struct apply *a, void *field)
{
	*(bool *)field = a->conf->server.reliable_transport;
}

static void default_site_timeout(struct apply *a, void *field)
{
	*(uint32_t *)field = a->conf->server.registration_timeout;
}

/* ------------------------------------------------------------------ tables */

/* A file the daemon will read at start (certificates, keys). */
static int check_readable(struct apply *a, const struct schema_item *it,
			  const struct doc_node *node, void *obj)
{
	const char *path = *(const char **)((char *)obj + it->offset);
	if (access(path, R_OK) != 0) {
		apply_error(a, node, "cannot read %s (%s)", path, strerror(errno));
		return LISPMS_ECONFIG;
	}
	return LISPMS_EOK;
}

static int check_quic(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		      void *obj)
{
	(void)it;
	struct conf_quic *q = obj;
	if (!LISPMS_HAVE_QUIC) { /* meson -Dquic=disabled, or its libraries missing */
		apply_error(a, node, "QUIC is not built into this lispmsd (meson -Dquic=enabled)");
		return LISPMS_ECONFIG;
	}
	if (q->certificate == NULL || q->key == NULL) {
		apply_error(a, node, "needs both certificate and key");
		return LISPMS_ECONFIG;
	}
	return LISPMS_EOK;
}

/* certificate, key and client-ca: the same keys in server.quic and server.tls */
#define TLS_FILE_ITEMS(T)                                                                        \
	{ .key = "certificate",                                                                  \
	  .type = SCHEMA_STRING,                                                                 \
	  .flags = SCHEMA_NONEMPTY,                                                              \
	  FIELD(T, certificate),                                                                 \
	  .max = 4095,                                                                           \
	  .check = check_readable,                                                               \
	  .help = "PEM file with the server certificate, then its chain (required)." },          \
	    { .key = "key",                                                                      \
	      .type = SCHEMA_STRING,                                                             \
	      .flags = SCHEMA_NONEMPTY,                                                          \
	      FIELD(T, key),                                                                     \
	      .max = 4095,                                                                       \
	      .check = check_readable,                                                           \
	      .help = "PEM file with the certificate's private key (required)." },               \
	    { .key = "client-ca",                                                                \
	      .type = SCHEMA_STRING,                                                             \
	      .flags = SCHEMA_NONEMPTY,                                                          \
	      FIELD(T, client_ca),                                                               \
	      .max = 4095,                                                                       \
	      .check = check_readable,                                                           \
	      .help =                                                                            \
		  "PEM file of the CAs client certificates must chain to; with it every "        \
		  "client must present a certificate. Without it clients are not asked for one " \
		  "(the session is still authenticated by its Map-Registers, D5)." },

static const struct schema_item quic_items[] = {
	{ .key = "port",
	  UINT(struct conf_quic, port),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 65535,
	  .def = "4343",
	  .help = "UDP port of QUIC, on every `listen` address (SO_REUSEPORT, one socket per "
		  "worker). Must differ from `server.port`." },
	TLS_FILE_ITEMS(struct conf_quic){
	    .key = "alpn",
	    .type = SCHEMA_STRING,
	    .flags = SCHEMA_NONEMPTY | SCHEMA_RESTART,
	    FIELD(struct conf_quic, alpn),
	    .max = 255,
	    .def = "lisp-rt",
	    .help = "TLS application protocol (ALPN) clients must offer." },
	{ .key = "idle-timeout",
	  UINT(struct conf_quic, idle_timeout),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 3600,
	  .def = "60",
	  .help = "Seconds a QUIC connection may be silent before it is closed (QUIC "
		  "max_idle_timeout); `server.keepalive` sets how often the server PINGs." },
	{ 0 },
};

static const struct schema_section quic_section = {
	.name = "server.quic",
	.size = sizeof(struct conf_quic),
	.items = quic_items,
	.check = check_quic,
	.has_present = true,
	.present_offset = offsetof(struct conf_quic, enabled),
	.help = "QUIC sessions (TLS 1.3); without this section there is no QUIC. Sessions "
		"carry the same framing as TCP and share `max-sessions`, "
		"`session-output-limit` and `keepalive`. QUIC's UDP sockets stay open from "
		"start to stop (they carry the open connections); while "
		"`reliable-transport` is off no new session is admitted. A reload reads "
		"`certificate`, `key` and `client-ca` again (new handshakes use them, open "
		"sessions keep theirs; a file that cannot be read refuses the reload); adding "
		"or removing the section and its other keys need a restart.",
};

static const struct schema_item sctp_items[] = {
	{ .key = "port",
	  UINT(struct conf_sctp, port),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 65535,
	  .def = "4342",
	  .help = "SCTP port of the sessions (in the SCTP common header)." },
	{ .key = "udp-encapsulation-port",
	  UINT(struct conf_sctp, udp_port),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 65535,
	  .def = "9899",
	  .help = "UDP port the SCTP packets are encapsulated in (RFC 6951), on every `listen` "
		  "address. Must differ from `server.port` and `server.quic.port`." },
	{ 0 },
};

static int check_sctp(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		      void *obj)
{
	(void)it;
	(void)obj;
	if (!LISPMS_HAVE_SCTP) { /* meson -Dsctp=disabled, or usrsctp missing */
		apply_error(a, node, "SCTP is not built into this lispmsd (meson -Dsctp=enabled)");
		return LISPMS_ECONFIG;
	}
	return LISPMS_EOK;
}

static const struct schema_section sctp_section = {
	.name = "server.sctp",
	.size = sizeof(struct conf_sctp),
	.items = sctp_items,
	.check = check_sctp,
	.has_present = true,
	.present_offset = offsetof(struct conf_sctp, enabled),
	.help = "SCTP sessions (RFC 9260) in user space over UDP encapsulation (RFC 6951), "
		"which Linux kernel SCTP endpoints with `net.sctp.encap_port` also speak; "
		"without this section there is no SCTP. One association per ETR, stream 0 "
		"only, the same framing as TCP; sessions share `max-sessions`, "
		"`session-output-limit` and `keepalive` (HEARTBEAT interval). They are all "
		"served by the first worker (usrsctp is one stack per process). The UDP "
		"socket stays open from start to stop; while `reliable-transport` is off no "
		"new association is admitted. A change needs a restart.",
};

static int check_tls(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		     void *obj)
{
	(void)it;
	struct conf_tls *t = obj;
#if !LISPMS_HAVE_TLS /* meson -Dtls=disabled, or GnuTLS missing */
	(void)t;
	apply_error(a, node, "TLS is not built into this lispmsd (meson -Dtls=enabled)");
	return LISPMS_ECONFIG;
#else
	if (t->certificate == NULL || t->key == NULL) {
		apply_error(a, node, "needs both certificate and key");
		return LISPMS_ECONFIG;
	}
	return LISPMS_EOK;
#endif
}

static const struct schema_item tls_items[] = {
	{ .key = "port",
	  UINT(struct conf_tls, port),
	  .min = 1,
	  .max = 65535,
	  .def = "4344",
	  .help = "TCP port of TLS sessions, on every `listen` address. Must differ from "
		  "`server.port`." },
	TLS_FILE_ITEMS(struct conf_tls){
	    .key = "handshake-timeout",
	    UINT(struct conf_tls, handshake_timeout),
	    .min = 1,
	    .max = 300,
	    .def = "10",
	    .help = "Seconds a connection may take from accept to the end of its TLS handshake; "
		    "then it is closed and counted." },
	{ 0 },
};

static const struct schema_section tls_section = {
	.name = "server.tls",
	.size = sizeof(struct conf_tls),
	.items = tls_items,
	.check = check_tls,
	.has_present = true,
	.present_offset = offsetof(struct conf_tls, enabled),
	.help = "TLS 1.3 over TCP sessions (docs/protocol.md D19; GnuTLS, built with the `tls` "
		"feature); without this section there is no TLS. Sessions carry the TCP "
		"framing and share `max-sessions`, `session-output-limit`, `keepalive` and "
		"`user-timeout`. Its listeners open and close with `reliable-transport`, like "
		"TCP's. Everything here is reloadable: adding the section or a new `port` opens "
		"the listeners first (a port in use refuses the reload), removing it closes "
		"them; `certificate`, `key` and `client-ca` are read again on every reload (a "
		"rotation: new handshakes use them, open sessions keep theirs; a file that "
		"cannot be read refuses the reload and the running configuration stays).",
};

static const struct schema_item server_items[] = {
	{ .key = "listen",
	  .type = SCHEMA_IP,
	  .flags = SCHEMA_LIST | SCHEMA_NONEMPTY | SCHEMA_RESTART,
	  FIELD(struct conf_server, listen),
	  COUNT(struct conf_server, nlisten),
	  .def = "[0.0.0.0, \"::\"]",
	  .check = check_unique_addrs,
	  .help = "Addresses to listen on; UDP and TCP both use `port`." },
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
	  .section = &quic_section,
	  .help = "QUIC sessions: see below." },
	{ .key = "sctp",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_ABSENT_ZERO | SCHEMA_RESTART,
	  FIELD(struct conf_server, sctp),
	  .section = &sctp_section,
	  .help = "SCTP sessions: see below." },
	{ .key = "tls",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_ABSENT_ZERO,
	  FIELD(struct conf_server, tls),
	  .section = &tls_section,
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

static const struct schema_enum algorithms[] = {
	{ "hmac-sha-1-96", LISPMS_CONF_ALG_HMAC_SHA_1_96 },
	{ "hmac-sha-256-128", LISPMS_CONF_ALG_HMAC_SHA_256_128 },
	{ NULL, 0 },
};

static const struct schema_item key_items[] = {
	{ .key = "id",
	  UINT(struct conf_key, id),
	  .flags = SCHEMA_REQUIRED,
	  .min = 0,
	  .max = 255,
	  .help = "Key ID of Map-Registers signed with this key, unique in the site." },
	{ .key = "algorithm",
	  .type = SCHEMA_ENUM,
	  .flags = SCHEMA_REQUIRED,
	  FIELD(struct conf_key, alg),
	  .width = 1,
	  .names = algorithms,
	  .help = "HMAC algorithm (RFC 9301 Algorithm ID 1 or 2)." },
	{ .key = "secret",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_key, secret),
	  .max = 65535,
	  .help = "Shared secret." },
	{ 0 },
};

static const struct schema_section key_section = {
	.name = "sites[].keys[]",
	.size = sizeof(struct conf_key),
	.items = key_items,
	.check = check_key,
	.help = "One authentication key of a site.",
};

static const struct schema_item site_items[] = {
	{ .key = "name",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_site, name),
	  .max = 128,
	  .check = check_name,
	  .help = "Unique name (used in logs, metrics and `lispmsctl`)." },
	{ .key = "keys",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_LIST | SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_site, keys),
	  COUNT(struct conf_site, nkeys),
	  .section = &key_section,
	  .diff_bit = LISPMS_CONF_SITE_KEYS,
	  .help = "Keys the site's ETRs sign Map-Registers with." },
	{ .key = "eid-prefixes",
	  .type = SCHEMA_EID_PREFIX,
	  .flags = SCHEMA_LIST | SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_site, prefixes),
	  COUNT(struct conf_site, nprefixes),
	  .diff_bit = LISPMS_CONF_SITE_PREFIXES,
	  .help = "EID prefixes the site may register, `[IID] prefix`." },
	{ .key = "accept-more-specifics",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_site, accept_more_specifics),
	  .def = "false",
	  .diff_bit = LISPMS_CONF_SITE_MORE_SPECIFICS,
	  .help = "Also accept registrations of prefixes inside the configured ones." },
	{ .key = "proxy-reply",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_site, proxy_reply),
	  .def = "false",
	  .diff_bit = LISPMS_CONF_SITE_PROXY_REPLY,
	  .help = "Always answer Map-Requests for this site's EIDs (as if P were set)." },
	{ .key = "allowed-rlocs",
	  .type = SCHEMA_IP_PREFIX,
	  .flags = SCHEMA_LIST,
	  FIELD(struct conf_site, allowed_rlocs),
	  COUNT(struct conf_site, nallowed_rlocs),
	  .def = "[]",
	  .diff_bit = LISPMS_CONF_SITE_ALLOWED_RLOCS,
	  .help = "IPv4/IPv6 prefixes every locator must fall in; empty: any locator." },
	{ .key = "merge",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_site, merge),
	  .def = "false",
	  .diff_bit = LISPMS_CONF_SITE_MERGE,
	  .help = "Merge registrations of several ETRs that set the a bit." },
	{ .key = "allow-subscribe",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_site, allow_subscribe),
	  .def = "false",
	  .diff_bit = LISPMS_CONF_SITE_SUBSCRIBE,
	  .help = "xTRs registered in this site may subscribe (RFC 9437): to any EID prefix, "
		  "their publications signed with the key of their registration." },
	{ .key = "reliable-transport",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_site, reliable_transport),
	  .def = "server.reliable-transport",
	  .def_fn = default_site_transport,
	  .diff_bit = LISPMS_CONF_SITE_TRANSPORT,
	  .help = "false: no sessions for this site (its Map-Notifies do not set r)." },
	{ .key = "registration-timeout",
	  UINT(struct conf_site, registration_timeout),
	  .min = 10,
	  .max = 86400,
	  .def = "server.registration-timeout",
	  .def_fn = default_site_timeout,
	  .diff_bit = LISPMS_CONF_SITE_TIMEOUT,
	  .help = "Seconds of UDP soft state for this site." },
	{ 0 },
};

static const struct schema_section site_section = {
	.name = "sites[]",
	.size = sizeof(struct conf_site),
	.items = site_items,
	.check = check_site,
	.help = "One site: the keys its ETRs use and the EID prefixes they may register.",
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int check_subscriber(struct apply *a, const struct schema_item *it,
			    const struct doc_node *node, void *obj)
{
	(void)it;
	struct conf_subscriber *s = obj;
	const char *t = s->xtr_id_text;
	size_t n = strlen(t);
	if (n > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
		t += 2;
		n -= 2;
	}
	bool ok = n == 32;
	for (size_t i = 0; ok && i < 16; i++) {
		int hi = hexval(t[2 * i]), lo = hexval(t[2 * i + 1]);
		ok = hi >= 0 && lo >= 0;
		if (ok)
			s->xtr_id[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!ok) {
		const struct doc_node *at = doc_map_get(node, "xtr-id");
		size_t mark = apply_push_key(a, "xtr-id");
		apply_error(a, at ? at : node, "an xTR-ID is 32 hexadecimal digits (128 bits)");
		apply_pop(a, mark);
		return LISPMS_ECONFIG;
	}
	return LISPMS_EOK;
}

static const struct schema_section subscriber_key_section = {
	.name = "subscribers[].keys[]",
	.size = sizeof(struct conf_key),
	.items = key_items,
	.check = check_key,
	.help = "One key of a subscriber (the same fields as a site's keys).",
};

static const struct schema_item subscriber_items[] = {
	{ .key = "name",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_subscriber, name),
	  .max = 128,
	  .check = check_name,
	  .help = "Name shown by `lispmsctl subscriptions` and in logs." },
	{ .key = "xtr-id",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_subscriber, xtr_id_text),
	  .max = 34,
	  .help = "Its 128-bit xTR-ID, 32 hexadecimal digits (optionally after `0x`)." },
	{ .key = "keys",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_LIST | SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_subscriber, keys),
	  COUNT(struct conf_subscriber, nkeys),
	  .section = &subscriber_key_section,
	  .help = "Its keys; the first signs its publications and verifies its "
		  "Map-Notify-Acks." },
	{ .key = "eid-prefixes",
	  .type = SCHEMA_EID_PREFIX,
	  .flags = SCHEMA_LIST,
	  FIELD(struct conf_subscriber, prefixes),
	  COUNT(struct conf_subscriber, nprefixes),
	  .def = "[]",
	  .help = "What it may subscribe to, `[IID] prefix` (a subscription must lie inside "
		  "one); empty: anything." },
	{ 0 },
};

static const struct schema_section subscriber_section = {
	.name = "subscribers[]",
	.size = sizeof(struct conf_subscriber),
	.items = subscriber_items,
	.check = check_subscriber,
	.help = "One router allowed to subscribe (RFC 9437) that registers no EID here.",
};

static const struct schema_item ddt_delegation_items[] = {
	{ .key = "prefix",
	  .type = SCHEMA_EID_PREFIX,
	  .flags = SCHEMA_REQUIRED,
	  FIELD(struct conf_ddt_delegation, prefix),
	  .help = "The delegated EID prefix, `[IID] prefix`." },
	{ .key = "map-servers",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_ddt_delegation, map_servers),
	  .def = "false",
	  .help = "true: the referrals are the prefix's Map-Servers (answered with MS-REFERRAL); "
		  "false: child DDT nodes (NODE-REFERRAL)." },
	{ .key = "referrals",
	  .type = SCHEMA_IP,
	  .flags = SCHEMA_LIST | SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_ddt_delegation, referrals),
	  COUNT(struct conf_ddt_delegation, nreferrals),
	  .help = "Addresses of the child DDT nodes or Map-Servers (the referral set)." },
	{ 0 },
};

static const struct schema_section ddt_delegation_section = {
	.name = "ddt.delegations[]",
	.size = sizeof(struct conf_ddt_delegation),
	.items = ddt_delegation_items,
	.help = "One delegation: a prefix and where a DDT client goes next for it.",
};

static int check_ddt(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		     void *obj)
{
	(void)it;
	const struct conf_ddt *d = obj;
	for (size_t i = 0; i < d->ndelegations; i++) {
		if (d->delegations[i].nreferrals > LISPMS_MAX_REFERRALS) {
			size_t mark = apply_push_key(a, "delegations");
			apply_error(a, node, "delegations[%zu]: more than %d referrals", i,
				    LISPMS_MAX_REFERRALS);
			apply_pop(a, mark);
			return LISPMS_ECONFIG;
		}
		for (size_t j = 0; j < i; j++)
			if (eid_prefix_equal(&d->delegations[i].prefix,
					     &d->delegations[j].prefix)) {
				size_t mark = apply_push_key(a, "delegations");
				apply_error(a, node,
					    "prefix delegated twice (delegations[%zu] and [%zu])",
					    j, i);
				apply_pop(a, mark);
				return LISPMS_ECONFIG;
			}
	}
	return LISPMS_EOK;
}

static const struct schema_item ddt_items[] = {
	{ .key = "authoritative-prefixes",
	  .type = SCHEMA_EID_PREFIX,
	  .flags = SCHEMA_LIST,
	  FIELD(struct conf_ddt, authoritative),
	  COUNT(struct conf_ddt, nauthoritative),
	  .def = "[]",
	  .help = "Prefixes this DDT node is authoritative for, `[IID] prefix`: a request inside "
		  "one that no delegation covers gets DELEGATION-HOLE, one outside all of them "
		  "NOT-AUTHORITATIVE." },
	{ .key = "delegations",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_LIST,
	  FIELD(struct conf_ddt, delegations),
	  COUNT(struct conf_ddt, ndelegations),
	  .section = &ddt_delegation_section,
	  .def = "[]",
	  .help = "The delegation table; the most specific delegation covering a requested EID "
		  "answers." },
	{ .key = "referral-ttl",
	  UINT(struct conf_ddt, referral_ttl),
	  .min = 1,
	  .max = 525600,
	  .def = "1440",
	  .help = "Minutes a NODE-REFERRAL or MS-REFERRAL may be cached." },
	{ .key = "hole-ttl",
	  UINT(struct conf_ddt, hole_ttl),
	  .min = 1,
	  .max = 525600,
	  .def = "15",
	  .help = "Minutes a DELEGATION-HOLE may be cached." },
	{ 0 },
};

static const struct schema_section ddt_section = {
	.name = "ddt",
	.size = sizeof(struct conf_ddt),
	.items = ddt_items,
	.check = check_ddt,
	.has_present = true,
	.present_offset = offsetof(struct conf_ddt, enabled),
	.present_reloads = true,
	.help = "lispms as a LISP-DDT node (RFC 8111): DDT Map-Requests (ECM with the D bit) "
		"for EIDs outside every site are answered from this delegation table. Without "
		"this section they get NOT-AUTHORITATIVE. Reloadable.",
};

/* The resolver keeps at most this many root addresses (MR_MAX_ROOTS in mr.h). */
#define CONF_MR_MAX_ROOTS  8
/* ... and this many sockets of its own (RESOLVER_MAX_LISTEN in the daemon). */
#define CONF_MR_MAX_LISTEN 4

static int check_map_resolver(struct apply *a, const struct schema_item *it,
			      const struct doc_node *node, void *obj)
{
	(void)it;
	const struct conf_map_resolver *r = obj;
	if (r->nlisten > CONF_MR_MAX_LISTEN) {
		size_t mark = apply_push_key(a, "listen");
		apply_error(a, node, "more than %d listen addresses", CONF_MR_MAX_LISTEN);
		apply_pop(a, mark);
		return LISPMS_ECONFIG;
	}
	if (r->nroots > CONF_MR_MAX_ROOTS) {
		size_t mark = apply_push_key(a, "roots");
		apply_error(a, node, "more than %d root addresses", CONF_MR_MAX_ROOTS);
		apply_pop(a, mark);
		return LISPMS_ECONFIG;
	}
	return LISPMS_EOK;
}

static const struct schema_item map_resolver_items[] = {
	{ .key = "roots",
	  .type = SCHEMA_IP,
	  .flags = SCHEMA_LIST | SCHEMA_REQUIRED | SCHEMA_NONEMPTY | SCHEMA_RESTART,
	  FIELD(struct conf_map_resolver, roots),
	  COUNT(struct conf_map_resolver, nroots),
	  .help = "Addresses of the DDT root (up to 8): where resolution starts when the referral "
		  "cache has nothing for the EID." },
	{ .key = "listen",
	  .type = SCHEMA_IP,
	  .flags = SCHEMA_LIST | SCHEMA_REQUIRED | SCHEMA_NONEMPTY | SCHEMA_RESTART,
	  FIELD(struct conf_map_resolver, listen),
	  COUNT(struct conf_map_resolver, nlisten),
	  .help = "Addresses (up to 4) of the resolver's own UDP sockets, where ITRs send their "
		  "ECM Map-Requests and DDT nodes their Map-Referrals. They must not overlap "
		  "the Map-Server's sockets (server.listen on server.port): an ECM Map-Request "
		  "from an ITR and one a Map-Resolver forwards look the same, so the address "
		  "it arrives on chooses the role (docs/protocol.md D23)." },
	{ .key = "port",
	  UINT(struct conf_map_resolver, port),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 65535,
	  .def = "4342",
	  .help = "UDP port of the resolver's sockets (RFC 9301: Map-Resolvers listen on 4342)." },
	{ .key = "ddt-port",
	  UINT(struct conf_map_resolver, ddt_port),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 65535,
	  .def = "4342",
	  .help = "UDP port DDT Map-Requests are sent to (DDT nodes and Map-Servers)." },
	{ .key = "cache-max",
	  UINT(struct conf_map_resolver, cache_max),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 10000000,
	  .def = "100000",
	  .help = "Referral-cache entries; the least recently used one is evicted for a new one." },
	{ .key = "pending-max",
	  UINT(struct conf_map_resolver, pending_max),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 65536,
	  .def = "1024",
	  .help = "Requests in resolution at once; a request beyond that is dropped and counted." },
	{ .key = "timeout-ms",
	  UINT(struct conf_map_resolver, timeout_ms),
	  .flags = SCHEMA_RESTART,
	  .min = 10,
	  .max = 60000,
	  .def = "1000",
	  .help = "Milliseconds to wait for a Map-Referral before asking the next RLOC of the "
		  "referral set." },
	{ .key = "retries",
	  UINT(struct conf_map_resolver, retries),
	  .flags = SCHEMA_RESTART,
	  .min = 0,
	  .max = 10,
	  .def = "1",
	  .help = "Extra rounds over a referral set before the ITR gets a negative Map-Reply." },
	{ .key = "max-depth",
	  UINT(struct conf_map_resolver, max_depth),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 64,
	  .def = "16",
	  .help = "Referrals followed per resolution (each must be more specific than the one "
		  "before; a referral that is not is a loop)." },
	{ 0 },
};

static const struct schema_section map_resolver_section = {
	.name = "map-resolver",
	.size = sizeof(struct conf_map_resolver),
	.items = map_resolver_items,
	.check = check_map_resolver,
	.has_present = true,
	.present_offset = offsetof(struct conf_map_resolver, enabled),
	.help = "lispms as a LISP-DDT Map-Resolver (RFC 8111 section 7.3): ITRs send ECM "
		"Map-Requests to the resolver's own sockets; it walks the Delegated Database "
		"Tree from the root (DDT Map-Requests, Map-Referrals, a referral cache) to the "
		"authoritative Map-Server, which answers the ITR, or answers the ITR with a "
		"negative Map-Reply. Changing it needs a restart.",
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
	  .section = &site_section,
	  .def = "[]",
	  .help = "The sites, each a mapping." },
	{ .key = "ddt",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_ABSENT_ZERO,
	  FIELD(struct conf, ddt),
	  .section = &ddt_section },
	{ .key = "subscribers",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_LIST,
	  FIELD(struct conf, subscribers),
	  COUNT(struct conf, nsubscribers),
	  .section = &subscriber_section,
	  .def = "[]",
	  .help = "Routers that register nothing but may subscribe (publish/subscribe, D20)." },
	{ .key = "map-resolver",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_ABSENT_ZERO,
	  FIELD(struct conf, map_resolver),
	  .section = &map_resolver_section },
	{ 0 },
};

const struct schema_section schema_root = {
	.name = "",
	.size = sizeof(struct conf),
	.items = root_items,
	.check = conf_check_sites,
};
