/* SPDX-License-Identifier: MIT */
/*
 * The schema of the session transports beyond TCP, under server:
 * server.quic, server.sctp and server.tls (schema.c has the rest of
 * server:). Their certificate and key files share one set of items.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lispms/err.h>

#include "config.h"
#include "schema.h"

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

const struct schema_section schema_quic_section = {
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

const struct schema_section schema_sctp_section = {
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
		"socket asks a 16 MiB receive buffer, so a storm of associations opening or "
		"ending at once waits rather than being dropped "
		"(`lispms_net_sctp_dropped_total{reason=\"receive_buffer\"}` counts what "
		"still is); RTO.Initial is 1 s (RFC 9260). The UDP "
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

const struct schema_section schema_tls_section = {
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
