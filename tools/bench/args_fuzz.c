/* SPDX-License-Identifier: MIT */
/*
 * lispms-bench's argument parsers and Map-Reply printer on any input. The
 * bytes as a string go through every parser (counts, mixes, families,
 * algorithms, --subscribe, --subscriber-transport, --server, --transport-port):
 * whatever they accept
 * must print and parse back to the same value (and an accepted EID that is one
 * of the layout's must map back to itself); the bytes as a message, when
 * they decode as a Map-Reply, are printed in full.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/proto.h>

#include "args.h"
#include "fuzz.h"
#include "layout.h"
#include "lig.h"

static void check(bool cond)
{
	if (!cond)
		abort();
}

static void strings(const char *s)
{
	struct eid_prefix p, q;
	char text[LISPMS_EID_STRLEN];
	if (args_lig_target(s, &p) == LISPMS_EOK) {
		check(eid_prefix_format(&p, text, sizeof(text)) == LISPMS_EOK);
		check(args_lig_target(text, &q) == LISPMS_EOK && eid_prefix_equal(&p, &q));
		struct layout l = { .afi = p.afi, .iid = p.iid, .iids = 1, .per = 100 };
		uint64_t n;
		if (layout_index(&l, &p, &n) == LISPMS_EOK) {
			layout_eid(&l, LAYOUT_REGISTERED, n, &q);
			check(n < LAYOUT_MAX_EIDS && eid_prefix_equal(&p, &q));
		}
	}
	uint64_t v;
	if (args_count(s, 60000, &v) == LISPMS_EOK)
		check(v <= 60000);
	(void)args_count(s, UINT64_MAX, &v);
	struct args_mix m, m2;
	if (args_mix(s, &m) == LISPMS_EOK) {
		check(m.registered <= 1000000 && m.unregistered <= 1000000 && m.unknown <= 1000000);
		check(m.registered + m.unregistered + m.unknown > 0);
		snprintf(text, sizeof(text), "%u:%u:%u", m.registered, m.unregistered, m.unknown);
		check(args_mix(text, &m2) == LISPMS_EOK && memcmp(&m, &m2, sizeof(m)) == 0);
	}
	uint16_t afi;
	uint8_t alg;
	if (args_family(s, &afi) == LISPMS_EOK)
		check(lisp_afi_len(afi) != 0);
	if (args_alg(s, &alg) == LISPMS_EOK)
		check(alg == LISP_ALG_HMAC_SHA1 || alg == LISP_ALG_HMAC_SHA256);
	/* --subscribe: "each", or a prefix that prints and parses back to itself */
	bool each = false, session = false;
	if (args_subscribe(s, &p, &each) == LISPMS_EOK) {
		check(each == (strcmp(s, "each") == 0));
		if (!each) {
			check(eid_prefix_format(&p, text, sizeof(text)) == LISPMS_EOK);
			check(args_subscribe(text, &q, &each) == LISPMS_EOK && !each &&
			      eid_prefix_equal(&p, &q));
		}
	}
	if (args_sub_transport(s, &session) == LISPMS_EOK)
		check(strcmp(s, session ? "session" : "udp") == 0);
	/* --transport-port: a port, or NAME=P pairs that print and parse back */
	uint16_t port = 0, ports[BT_COUNT] = { 0 }, ports2[BT_COUNT] = { 0 };
	if (args_transport_ports(s, &port, ports) == LISPMS_EOK) {
		if (strchr(s, '=') == NULL) {
			check(port >= 1);
		} else {
			size_t at = 0;
			bool any = false;
			for (int i = 0; i < BT_COUNT; i++)
				if (ports[i] != 0) {
					at += (size_t)snprintf(
					    text + at, sizeof(text) - at, "%s%s=%u", any ? "," : "",
					    bench_transport_id_name(i), ports[i]);
					any = true;
				}
			check(any && args_transport_ports(text, &port, ports2) == LISPMS_EOK &&
			      memcmp(ports, ports2, sizeof(ports)) == 0);
		}
	}
	/* --server: every address prints and parses back to itself, none twice */
	struct sockaddr_storage srv[4], back;
	unsigned nsrv = 0;
	if (args_servers(s, srv, 4, &nsrv) == LISPMS_EOK) {
		check(nsrv >= 1 && nsrv <= 4);
		for (unsigned i = 0; i < nsrv; i++) {
			check(saddr_format(&srv[i], text, sizeof(text)) == LISPMS_EOK);
			check(args_hostport(text, &back) == LISPMS_EOK &&
			      saddr_cmp(&back, &srv[i]) == 0);
			for (unsigned j = 0; j < i; j++)
				check(saddr_cmp(&srv[j], &srv[i]) != 0);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	strings(s);
	free(s);

	static uint8_t mem[1 << 16];
	struct arena ar = { .base = mem, .size = sizeof(mem) };
	struct lisp_map_reply r;
	if (map_reply_decode(data, size, &ar, &r) == LISPMS_EOK) {
		FILE *f = fopen("/dev/null", "w");
		if (f != NULL) {
			lig_print(f, &r);
			fclose(f);
		}
	}
	return 0;
}
