/* SPDX-License-Identifier: MIT */
#include "build_features.h"

#include <lispms/fastpath.h>

#include "config.h"

#define YESNO(x) ((x) ? "yes" : "no")

const struct build_feature daemon_features[] = {
	{ "dpdk", YESNO(LISPMS_HAVE_DPDK), "DPDK UDP fast path (meson -Ddpdk)" },
	{ "jemalloc", YESNO(LISPMS_HAVE_JEMALLOC), "jemalloc allocator (meson -Djemalloc)" },
	{ "ipsec-mb", YESNO(LISPMS_HAVE_IPSEC_MB), "multi-buffer HMAC (meson -Dipsec_mb)" },
	{ "tls", YESNO(LISPMS_HAVE_TLS), "TLS 1.3 over TCP sessions, GnuTLS (meson -Dtls)" },
	{ "quic", YESNO(LISPMS_HAVE_QUIC), "QUIC sessions, ngtcp2 + GnuTLS (meson -Dquic)" },
	{ "sctp", YESNO(LISPMS_HAVE_SCTP), "SCTP sessions over UDP, usrsctp (meson -Dsctp)" },
	{ "systemd", YESNO(LISPMS_HAVE_SYSTEMD), "sd_notify readiness (libsystemd)" },
	{ "rcu", LISPMS_RCU_FLAVOR, "liburcu flavour (meson -Drcu_flavor)" },
	{ "sanitize", LISPMS_SANITIZE, "sanitizers (meson -Db_sanitize)" },
	{ NULL, NULL, NULL },
};

void features_print(FILE *f)
{
	fprintf(f, "lispmsd %s\n", LISPMS_VERSION);
	for (const struct build_feature *b = daemon_features; b->name; b++)
		fprintf(f, "  %-10s %-6s %s\n", b->name, b->value, b->help);
	fprintf(f, "  %-10s %s\n", "fastpath", fastpath_version());
}
