/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <criterion/criterion.h>

#include <lispms/conf.h>
#include <lispms/err.h>
#include <lispms/rcu.h>

#include "config.h"
#include "schema.h"

/* The contract of issue 5, verbatim. */
static const char contract[] =
    "server:\n"
    "  listen: [127.0.0.1, \"::1\"]     # addresses; UDP and TCP both on `port`\n"
    "  port: 4342\n"
    "  workers: 2                     # 0 or absent: one per core\n"
    "  registration-timeout: 180      # seconds of UDP soft state\n"
    "  reliable-transport: true       # accept sessions\n"
    "metrics:\n"
    "  listen: 127.0.0.1:9342         # Prometheus text at /metrics\n"
    "control:\n"
    "  socket: /run/lispms/lispms.sock\n"
    "log:\n"
    "  level: info\n"
    "sites:\n"
    "  - name: campus-a\n"
    "    keys:\n"
    "      - {id: 1, algorithm: hmac-sha-256-128, secret: \"change-me\"}\n"
    "      - {id: 2, algorithm: hmac-sha-1-96, secret: \"old-key\"}\n"
    "    eid-prefixes: [\"[1000] 10.1.0.0/16\", \"[1000] 2001:db8:1::/48\", "
    "\"[5] 00:11:22:00:00:00/24\"]\n"
    "    accept-more-specifics: true\n"
    "    proxy-reply: false           # true: always answer Map-Requests for this site\n"
    "    allowed-rlocs: []            # empty: any; else prefixes a locator must fall in\n"
    "    merge: false\n";

static const char site_min[] = "sites:\n"
			       "  - name: a\n"
			       "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
			       "    eid-prefixes: [\"[1] 10.0.0.0/8\"]\n";

static struct conf *load_opts(const char *yaml, bool dpdk)
{
	struct conf_options opts = { .fastpath_available = dpdk };
	struct conf_error err;
	struct conf *c = NULL;
	int ret = conf_load_buf("t.yaml", yaml, strlen(yaml), &opts, &c, &err);
	cr_assert_eq(ret, LISPMS_EOK, "load failed: %s", err.all);
	cr_assert_eq(err.count, 0);
	cr_assert_not_null(c);
	return c;
}

static struct conf *load(const char *yaml)
{
	return load_opts(yaml, false);
}

/* Load must fail; the first error must start with `where`, name `path` and hold `text`. */
static void fails_opts(const char *yaml, bool dpdk, const char *where, const char *path,
		       const char *text)
{
	struct conf_options opts = { .fastpath_available = dpdk };
	struct conf_error err;
	struct conf *c = (struct conf *)&err; /* must stay untouched */
	int ret = conf_load_buf("t.yaml", yaml, strlen(yaml), &opts, &c, &err);
	cr_assert_eq(ret, LISPMS_ECONFIG, "loaded, expected \"%s\"\n%s", text, yaml);
	cr_assert_eq(c, (struct conf *)&err, "out-param written on failure");
	cr_assert_gt(err.count, 0);
	cr_assert(strncmp(err.msg, where, strlen(where)) == 0, "message \"%s\" not at \"%s\"",
		  err.msg, where);
	cr_assert_str_eq(err.path, path, "message \"%s\"", err.msg);
	cr_assert(strstr(err.msg, text) != NULL, "message \"%s\" lacks \"%s\"", err.msg, text);
	if (path[0] != '\0') {
		char want[256];
		snprintf(want, sizeof(want), ": %s: ", path);
		cr_assert(strstr(err.msg, want) != NULL, "message \"%s\" lacks the path", err.msg);
	}
}

static void fails(const char *yaml, const char *where, const char *path, const char *text)
{
	fails_opts(yaml, false, where, path, text);
}

static void addr_is(const struct lisp_addr *a, const char *text)
{
	char buf[64];
	cr_assert_eq(lisp_addr_format(a, buf, sizeof(buf)), LISPMS_EOK);
	cr_assert_str_eq(buf, text);
}

static void prefix_is(const struct eid_prefix *p, const char *text)
{
	char buf[LISPMS_EID_STRLEN];
	cr_assert_eq(eid_prefix_format(p, buf, sizeof(buf)), LISPMS_EOK);
	cr_assert_str_eq(buf, text);
}

Test(conf, contract_example_loads_as_written)
{
	struct conf *c = load(contract);
	const struct conf_server *s = conf_server(c);
	cr_assert_eq(s->nlisten, 2);
	addr_is(&s->listen[0], "127.0.0.1");
	addr_is(&s->listen[1], "::1");
	cr_assert_eq(s->port, 4342);
	cr_assert_eq(s->workers, 2);
	cr_assert_eq(conf_workers(c, 16), 2);
	cr_assert_eq(s->registration_timeout, 180);
	cr_assert(s->reliable_transport);

	const struct conf_metrics *m = conf_metrics(c);
	cr_assert(m->enabled);
	addr_is(&m->addr, "127.0.0.1");
	cr_assert_eq(m->port, 9342);
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&m->sa;
	cr_assert_eq(m->salen, sizeof(*sin));
	cr_assert_eq(sin->sin_family, AF_INET);
	cr_assert_eq(ntohs(sin->sin_port), 9342);
	cr_assert_eq(ntohl(sin->sin_addr.s_addr), 0x7f000001);

	cr_assert_str_eq(conf_control(c)->socket, "/run/lispms/lispms.sock");
	cr_assert_eq(conf_log_level(c), LOG_LEVEL_INFO);
	cr_assert_not(conf_fastpath(c)->enabled);

	cr_assert_eq(conf_site_count(c), 1);
	const struct conf_site *site = conf_site_at(c, 0);
	cr_assert_str_eq(site->name, "campus-a");
	cr_assert_eq(site->index, 0);
	cr_assert_eq(site->nkeys, 2);
	cr_assert_eq(site->keys[0].id, 1);
	cr_assert_eq(site->keys[0].alg, LISPMS_CONF_ALG_HMAC_SHA_256_128);
	cr_assert_eq(site->keys[0].secret_len, 9);
	cr_assert(memcmp(site->keys[0].secret, "change-me", 10) == 0);
	cr_assert_eq(site->keys[1].id, 2);
	cr_assert_eq(site->keys[1].alg, LISPMS_CONF_ALG_HMAC_SHA_1_96);
	cr_assert_str_eq(conf_alg_name(site->keys[1].alg), "hmac-sha-1-96");
	cr_assert_eq(conf_site_key(site, 2), &site->keys[1]);
	cr_assert_eq(conf_site_key(site, 1), &site->keys[0]);
	cr_assert_null(conf_site_key(site, 0));
	cr_assert_null(conf_site_key(site, 255));
	cr_assert_eq(site->nprefixes, 3);
	prefix_is(&site->prefixes[0], "[1000] 10.1.0.0/16");
	prefix_is(&site->prefixes[1], "[1000] 2001:db8:1::/48");
	prefix_is(&site->prefixes[2], "[5] 00:11:22:00:00:00/24");
	cr_assert(site->accept_more_specifics);
	cr_assert_not(site->proxy_reply);
	cr_assert_eq(site->nallowed_rlocs, 0);
	cr_assert_not(site->merge);
	cr_assert(site->reliable_transport);
	cr_assert_eq(site->registration_timeout, 180);
	cr_assert_eq(conf_site_find(c, "campus-a"), site);
	cr_assert_null(conf_site_find(c, "campus-b"));
	cr_assert_str_eq(conf_source(c), "t.yaml");
	cr_assert_eq(conf_warning_count(c), 0);
	conf_free(c);
}

Test(conf, absent_keys_take_their_defaults)
{
	struct conf *c = load("log: {}\n");
	const struct conf_server *s = conf_server(c);
	cr_assert_eq(s->nlisten, 2);
	addr_is(&s->listen[0], "0.0.0.0");
	addr_is(&s->listen[1], "::");
	cr_assert_eq(s->port, 4342);
	cr_assert_eq(s->workers, 0);
	cr_assert_eq(conf_workers(c, 8), 8);
	cr_assert_eq(conf_workers(c, 0), 1);
	cr_assert_eq(s->registration_timeout, 180);
	cr_assert(s->reliable_transport);
	cr_assert_eq(s->keepalive, 10);
	cr_assert_eq(s->user_timeout, 30);
	cr_assert_eq(s->max_sessions, 0);
	cr_assert_eq(s->session_output_limit, 4u << 20);
	cr_assert_not(s->cpu_pinning);
	cr_assert_not(conf_metrics(c)->enabled);
	cr_assert_str_eq(conf_control(c)->socket, "/run/lispms/lispms.sock");
	cr_assert_eq(conf_log_level(c), LOG_LEVEL_INFO);
	cr_assert_not(conf_fastpath(c)->enabled);
	cr_assert_eq(conf_site_count(c), 0);
	cr_assert_null(conf_site_at(c, 0));
	cr_assert_null(conf_site_find(c, "a"));
	conf_free(c);

	/* an empty section is present with its defaults */
	c = load("metrics:\n");
	cr_assert(conf_metrics(c)->enabled);
	addr_is(&conf_metrics(c)->addr, "127.0.0.1");
	cr_assert_eq(conf_metrics(c)->port, 9342);
	conf_free(c);

	c = load(site_min);
	const struct conf_site *site = conf_site_at(c, 0);
	cr_assert_not(site->accept_more_specifics);
	cr_assert_not(site->proxy_reply);
	cr_assert_not(site->merge);
	cr_assert_eq(site->nallowed_rlocs, 0);
	cr_assert(site->reliable_transport);
	cr_assert_eq(site->registration_timeout, 180);
	cr_assert(site->prefixes[0].plain == 0);
	conf_free(c);
}

Test(conf, every_extra_key_is_read)
{
	struct conf *c = load_opts("sites:\n"
				   "  - name: x\n"
				   "    keys: [{id: 0, algorithm: hmac-sha-1-96, secret: k}]\n"
				   "    eid-prefixes: 10.0.0.0/8\n"
				   "    allowed-rlocs: [192.0.2.0/24, \"2001:db8::/32\"]\n"
				   "    proxy-reply: true\n"
				   "    merge: True\n"
				   "server:\n"
				   "  listen: ::1\n"
				   "  port: 1\n"
				   "  workers: 1024\n"
				   "  registration-timeout: 86400\n"
				   "  reliable-transport: false\n"
				   "  keepalive: 5\n"
				   "  user-timeout: 3600\n"
				   "  max-sessions: 100000\n"
				   "  session-output-limit: 65536\n"
				   "  cpu-pinning: true\n"
				   "metrics: {listen: \"[::1]:9100\"}\n"
				   "control: {socket: rel/ctl.sock}\n"
				   "log: {level: debug}\n"
				   "fastpath:\n"
				   "  eal-args: [--no-huge, --no-pci, -l, \"0-1\"]\n"
				   "  port: \"net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap\"\n"
				   "  addresses: [192.0.2.1, \"2001:db8::1\"]\n"
				   "  queues: 2\n",
				   true);
	const struct conf_server *s = conf_server(c);
	cr_assert_eq(s->nlisten, 1);
	addr_is(&s->listen[0], "::1");
	cr_assert_eq(s->port, 1);
	cr_assert_eq(s->workers, 1024);
	cr_assert_eq(s->registration_timeout, 86400);
	cr_assert_not(s->reliable_transport);
	cr_assert_eq(s->keepalive, 5);
	cr_assert_eq(s->user_timeout, 3600);
	cr_assert_eq(s->max_sessions, 100000);
	cr_assert_eq(s->session_output_limit, 65536);
	cr_assert(s->cpu_pinning);
	const struct conf_metrics *m = conf_metrics(c);
	addr_is(&m->addr, "::1");
	cr_assert_eq(m->port, 9100);
	cr_assert_eq(m->sa.ss_family, AF_INET6);
	cr_assert_eq(m->salen, sizeof(struct sockaddr_in6));
	cr_assert_str_eq(conf_control(c)->socket, "rel/ctl.sock");
	cr_assert_eq(conf_log_level(c), LOG_LEVEL_DEBUG);
	const struct conf_fastpath *f = conf_fastpath(c);
	cr_assert(f->enabled);
	cr_assert_eq(f->neal_args, 4);
	cr_assert_str_eq(f->eal_args[0], "--no-huge");
	cr_assert_str_eq(f->eal_args[3], "0-1");
	cr_assert_str_eq(f->port, "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap");
	cr_assert_eq(f->naddresses, 2);
	addr_is(&f->addresses[1], "2001:db8::1");
	cr_assert_eq(f->queues, 2);

	/* the site inherits the server's transport and timeout, read after it */
	const struct conf_site *site = conf_site_at(c, 0);
	cr_assert_not(site->reliable_transport);
	cr_assert_eq(site->registration_timeout, 86400);
	cr_assert(site->proxy_reply);
	cr_assert(site->merge);
	cr_assert_eq(site->nprefixes, 1);
	prefix_is(&site->prefixes[0], "10.0.0.0/8");
	cr_assert(site->prefixes[0].plain);
	cr_assert_eq(site->nallowed_rlocs, 2);
	prefix_is(&site->allowed_rlocs[0], "192.0.2.0/24");
	prefix_is(&site->allowed_rlocs[1], "2001:db8::/32");
	cr_assert_eq(conf_site_key(site, 0), &site->keys[0]);

	struct sockaddr_storage ss;
	cr_assert_eq(conf_listen_sockaddr(c, 0, &ss), sizeof(struct sockaddr_in6));
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
	cr_assert_eq(ntohs(sin6->sin6_port), 1);
	cr_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	cr_assert_eq(conf_listen_sockaddr(c, 1, &ss), 0);
	conf_free(c);
}

Test(conf, site_overrides_server_settings)
{
	struct conf *c = load("server: {registration-timeout: 300, reliable-transport: true}\n"
			      "sites:\n"
			      "  - name: a\n"
			      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
			      "    eid-prefixes: [\"[1] 10.0.0.0/8\"]\n"
			      "    reliable-transport: false\n"
			      "    registration-timeout: 60\n"
			      "  - name: b\n"
			      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
			      "    eid-prefixes: [\"[2] 10.0.0.0/8\"]\n");
	cr_assert_not(conf_site_at(c, 0)->reliable_transport);
	cr_assert_eq(conf_site_at(c, 0)->registration_timeout, 60);
	cr_assert(conf_site_at(c, 1)->reliable_transport);
	cr_assert_eq(conf_site_at(c, 1)->registration_timeout, 300);
	cr_assert_eq(conf_site_find(c, "b"), conf_site_at(c, 1));
	conf_free(c);
}

Test(conf, deploy_example_loads)
{
	struct conf_error err;
	struct conf *c = NULL;
	int ret = conf_load_file(LISPMS_SOURCE_ROOT "/deploy/lispms.yaml", NULL, &c, &err);
	cr_assert_eq(ret, LISPMS_EOK, "%s", err.all);
	cr_assert_eq(conf_server(c)->nlisten, 2);
	addr_is(&conf_server(c)->listen[0], "127.0.0.1");
	addr_is(&conf_server(c)->listen[1], "::1");
	cr_assert_eq(conf_server(c)->port, 4342);
	cr_assert(conf_metrics(c)->enabled);
	cr_assert_eq(conf_metrics(c)->port, 9342);
	cr_assert_str_eq(conf_control(c)->socket, "/tmp/lispms.sock");
	cr_assert_geq(conf_site_count(c), 1);
	cr_assert_not_null(conf_site_find(c, "campus-a"));
	cr_assert_eq(conf_warning_count(c), 0);
	conf_free(c);
}

Test(conf, same_file_twice_gives_equal_snapshots)
{
	const char *path = LISPMS_SOURCE_ROOT "/deploy/lispms.yaml";
	struct conf *a = NULL, *b = NULL;
	cr_assert_eq(conf_load_file(path, NULL, &a, NULL), LISPMS_EOK);
	cr_assert_eq(conf_load_file(path, NULL, &b, NULL), LISPMS_EOK);
	cr_assert(conf_equal(a, b));
	cr_assert(conf_equal(b, a));
	conf_free(b);

	struct conf *x = load(contract), *y = load(contract);
	cr_assert(conf_equal(x, y));
	cr_assert_not(conf_equal(a, x));
	conf_free(y);
	/* one changed secret is a different snapshot */
	char changed[sizeof(contract)];
	memcpy(changed, contract, sizeof(contract));
	char *at = strstr(changed, "old-key");
	at[0] = 'n';
	y = load(changed);
	cr_assert_not(conf_equal(x, y));
	conf_free(y);
	conf_free(x);
	conf_free(a);
}

Test(conf, missing_file_is_reported)
{
	struct conf_error err;
	struct conf *c = NULL;
	cr_assert_eq(conf_load_file("/nonexistent/lispms.yaml", NULL, &c, &err), LISPMS_ECONFIG);
	cr_assert_null(c);
	cr_assert(strstr(err.msg, "/nonexistent/lispms.yaml: cannot open") == err.msg, "%s",
		  err.msg);
	cr_assert_eq(conf_load_file("/", NULL, &c, &err), LISPMS_ECONFIG);
	cr_assert(strstr(err.msg, "not a regular file") != NULL, "%s", err.msg);
	cr_assert_eq(conf_load_file("/nonexistent", NULL, &c, NULL), LISPMS_ECONFIG);
}

Test(conf, syntax_errors_name_the_line)
{
	fails("server:\n  port: 4342\n  listen: [127.0.0.1\nlog: {}\n", "t.yaml:4:", "",
	      "syntax error");
	fails("server:\n\tport: 1\n", "t.yaml:2:", "", "syntax error");
	fails("a: b\n---\nc: d\n", "t.yaml:2:", "", "only one YAML document");
	fails("base: &x {level: info}\nlog: *x\n", "t.yaml:2:6", "", "aliases are not supported");
	fails("? [a]\n: b\n", "t.yaml:1:3", "", "a key must be a plain string");
	fails("", "t.yaml: ", "", "empty configuration");
	fails("# only a comment\n", "t.yaml: ", "", "empty configuration");
	fails("- server\n", "t.yaml:1:1", "", "expected a mapping of sections, got a list");
	char deep[200] = "a: ";
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	fails(deep, "t.yaml:1:", "", "nested too deeply");
}

Test(conf, unknown_keys_are_errors)
{
	fails("server:\n  port: 4342\n  listn: [\"::1\"]\n", "t.yaml:3:3", "server.listn",
	      "unknown key (did you mean \"listen\"?)");
	fails("servers: {}\n", "t.yaml:1:1", "servers", "did you mean \"server\"");
	fails("log: {}\nbogus: 1\n", "t.yaml:2:1", "bogus",
	      "unknown key (expected one of server, metrics, control, log, fastpath, sites, "
	      "ddt, subscribers, map-resolver)");
	fails("sites:\n"
	      "  - name: a\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s, colour: red}]\n"
	      "    eid-prefixes: [10.0.0.0/8]\n",
	      "t.yaml:3:57", "sites[0].keys[0].colour", "unknown key");
}

Test(conf, duplicate_keys_are_errors)
{
	fails("server:\n  port: 4342\n  workers: 1\n  port: 4343\n", "t.yaml:4:3", "server.port",
	      "duplicate key (first at line 2)");
	fails("log: {}\nlog: {}\n", "t.yaml:2:1", "log", "duplicate key (first at line 1)");
}

Test(conf, wrong_types_are_errors)
{
	fails("server: {port: abc}\n", "t.yaml:1:16", "server.port",
	      "expected an integer, got \"abc\"");
	fails("server: {port: \"4342\"}\n", "t.yaml:1:16", "server.port",
	      "write it without quotes");
	fails("server: {port: }\n", "t.yaml:1:", "server.port", "expected an integer, got null");
	fails("server: {port: [1]}\n", "t.yaml:1:16", "server.port",
	      "expected an integer, got a list");
	fails("server: {reliable-transport: yes}\n", "t.yaml:1:30", "server.reliable-transport",
	      "expected true or false, got \"yes\"");
	fails("server: {listen: {a: b}}\n", "t.yaml:1:18", "server.listen",
	      "expected a list, got a mapping");
	fails("server: {listen: [127.0.0.1, host.example]}\n", "t.yaml:1:30", "server.listen[1]",
	      "\"host.example\" is not an IPv4 or IPv6 address");
	fails("server: {listen: [\"00:11:22:33:44:55\"]}\n", "t.yaml:1:19", "server.listen[0]",
	      "is not an IPv4 or IPv6 address");
	fails("server: 5\n", "t.yaml:1:9", "server", "expected a mapping, got a string");
	fails("sites: {name: a}\n", "t.yaml:1:8", "sites", "expected a list, got a mapping");
	fails("sites: [a]\n", "t.yaml:1:9", "sites[0]", "expected a mapping, got a string");
	fails("metrics: {listen: 127.0.0.1}\n", "t.yaml:1:19", "metrics.listen",
	      "is not an address:port");
	fails("metrics: {listen: \"::1:9342\"}\n", "t.yaml:1:19", "metrics.listen",
	      "is not an address:port");
	fails("metrics: {listen: \"127.0.0.1:0\"}\n", "t.yaml:1:19", "metrics.listen",
	      "port 1..65535");
	fails("log: {level: verbose}\n", "t.yaml:1:14", "log.level",
	      "unknown level \"verbose\" (expected error, warning, notice, info or debug)");
	fails("control: {socket: \"\"}\n", "t.yaml:1:19", "control.socket", "must not be empty");
	fails("server: {session-output-limit: 4MB}\n", "t.yaml:1:32", "server.session-output-limit",
	      "expected a size in bytes");
	fails("server: {listen: []}\n", "t.yaml:1:18", "server.listen", "must not be empty");
	fails("server: {listen: [\"::1\", \"::1\"]}\n", "t.yaml:1:26", "server.listen[1]",
	      "address listed twice");
	fails("control: {socket: \"a\\0b\"}\n", "t.yaml:1:19", "control.socket", "NUL character");
}

Test(conf, values_out_of_range_are_errors)
{
	fails("server: {port: 70000}\n", "t.yaml:1:16", "server.port",
	      "70000 is out of range (1..65535)");
	fails("server: {port: 0}\n", "t.yaml:1:16", "server.port", "out of range (1..65535)");
	fails("server: {registration-timeout: 5}\n", "t.yaml:1:32", "server.registration-timeout",
	      "5 is out of range (10..86400)");
	fails("server: {workers: -1}\n", "t.yaml:1:19", "server.workers", "-1 is out of range");
	fails("server: {workers: 99999999999999999999999}\n", "t.yaml:1:19", "server.workers",
	      "out of range");
	fails("server: {session-output-limit: 2GiB}\n", "t.yaml:1:32",
	      "server.session-output-limit", "out of range");
	fails("server: {session-output-limit: 99999999999999GiB}\n", "t.yaml:1:32",
	      "server.session-output-limit", "out of range");
	fails("sites:\n"
	      "  - name: a\n"
	      "    keys: [{id: 256, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [10.0.0.0/8]\n",
	      "t.yaml:3:17", "sites[0].keys[0].id", "256 is out of range (0..255)");
	fails("sites:\n"
	      "  - name: a\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [10.0.0.0/8]\n"
	      "    registration-timeout: 1\n",
	      "t.yaml:5:27", "sites[0].registration-timeout", "out of range (10..86400)");
}

Test(conf, site_errors_name_the_key_path)
{
	/* the message of the issue */
	fails("sites:\n"
	      "  - name: campus-a\n"
	      "    keys:\n"
	      "      - {id: 1, algorithm: hmac-sha-256-128, secret: \"change-me\"}\n"
	      "      - {id: 2, algorithm: hmac-md5, secret: \"old-key\"}\n"
	      "    eid-prefixes: [\"[1000] 10.1.0.0/16\"]\n",
	      "t.yaml:5:28", "sites[0].keys[1].algorithm",
	      "sites[0].keys[1].algorithm: unknown algorithm \"hmac-md5\" "
	      "(expected hmac-sha-1-96 or hmac-sha-256-128)");
	fails("sites:\n"
	      "  - name: a\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [\"[1000] 10.1.0.0/16\", \"[1000] 10.1.0.0/33\"]\n",
	      "t.yaml:4:42", "sites[0].eid-prefixes[1]",
	      "bad EID prefix \"[1000] 10.1.0.0/33\" (expected \"[IID] address/length\")");
	fails("sites:\n"
	      "  - name: a\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [10.0.0.0/8]\n"
	      "    allowed-rlocs: [\"[1] 192.0.2.0/24\"]\n",
	      "t.yaml:5:21", "sites[0].allowed-rlocs[0]", "is not an IPv4 or IPv6 prefix");
	fails("sites:\n"
	      "  - name: a\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [10.0.0.0/8]\n"
	      "    allowed-rlocs: [192.0.2.0/40]\n",
	      "t.yaml:5:21", "sites[0].allowed-rlocs[0]", "bad IP prefix");
	fails("sites:\n  - ~\n", "t.yaml:2:5", "sites[0]", "missing key \"name\"");
	fails("sites:\n  -\n", "t.yaml:2:4", "sites[0]", "missing key \"name\"");
	fails("sites:\n"
	      "  - keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [10.0.0.0/8]\n",
	      "t.yaml:2:5", "sites[0]", "missing key \"name\"");
	fails("sites:\n"
	      "  - name: a\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96}]\n"
	      "    eid-prefixes: [10.0.0.0/8]\n",
	      "t.yaml:3:12", "sites[0].keys[0]", "missing key \"secret\"");
	fails("sites:\n"
	      "  - name: a\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: \"\"}]\n"
	      "    eid-prefixes: [10.0.0.0/8]\n",
	      "t.yaml:3:54", "sites[0].keys[0].secret", "must not be empty");
	fails("sites:\n"
	      "  - name: a\n"
	      "    keys: []\n"
	      "    eid-prefixes: [10.0.0.0/8]\n",
	      "t.yaml:3:11", "sites[0].keys", "must not be empty");
	fails("sites:\n"
	      "  - name: \"\"\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [10.0.0.0/8]\n",
	      "t.yaml:2:11", "sites[0].name", "must not be empty");
	fails("sites:\n"
	      "  - name: \"a\\tb\"\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [10.0.0.0/8]\n",
	      "t.yaml:2:11", "sites[0].name", "control characters");
}

Test(conf, duplicate_key_ids_are_errors)
{
	fails("sites:\n"
	      "  - name: a\n"
	      "    keys:\n"
	      "      - {id: 7, algorithm: hmac-sha-1-96, secret: s}\n"
	      "      - {id: 7, algorithm: hmac-sha-256-128, secret: t}\n"
	      "    eid-prefixes: [10.0.0.0/8]\n",
	      "t.yaml:5:14", "sites[0].keys[1].id", "duplicate key id 7 (also keys[0], line 4)");
}

Test(conf, duplicate_sites_are_errors)
{
	fails("sites:\n"
	      "  - name: a\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [\"[1] 10.0.0.0/8\"]\n"
	      "  - name: b\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [\"[2] 10.0.0.0/8\"]\n"
	      "  - name: a\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [\"[3] 10.0.0.0/8\"]\n",
	      "t.yaml:8:11", "sites[2].name", "duplicate site name \"a\" (also sites[0], line 2)");
}

Test(conf, a_prefix_in_two_sites_is_an_error)
{
	fails("sites:\n"
	      "  - name: campus-a\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [\"[1000] 10.1.0.0/16\"]\n"
	      "  - name: campus-b\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [\"[1000] 10.2.0.0/16\", \"[1000] 10.1.0.0/16\"]\n",
	      "t.yaml:7:42", "sites[1].eid-prefixes[1]",
	      "prefix [1000] 10.1.0.0/16 is in site \"campus-b\" and in site \"campus-a\" "
	      "(sites[0], line 4)");
	fails("sites:\n"
	      "  - name: a\n"
	      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
	      "    eid-prefixes: [\"[1] 10.0.0.0/8\", \"[1] 10.1.2.3/8\"]\n",
	      "t.yaml:4:38", "sites[0].eid-prefixes[1]",
	      "prefix [1] 10.0.0.0/8 listed twice (also eid-prefixes[0])");
}

Test(conf, overlapping_prefixes_are_warnings)
{
	struct conf *c = load("sites:\n"
			      "  - name: wide\n"
			      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
			      "    eid-prefixes: [\"[1] 10.0.0.0/8\", \"[1] 10.1.0.0/16\"]\n"
			      "  - name: narrow\n"
			      "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
			      "    eid-prefixes: [\"[1] 10.1.2.0/24\", \"[2] 10.0.0.0/8\"]\n");
	cr_assert_eq(conf_warning_count(c), 1);
	cr_assert_str_eq(conf_warning_at(c, 0),
			 "t.yaml:7:20: sites[1].eid-prefixes[0]: prefix [1] 10.1.2.0/24 of site "
			 "\"narrow\" is inside [1] 10.1.0.0/16 of site \"wide\"; the most specific "
			 "prefix wins");
	cr_assert_null(conf_warning_at(c, 1));
	conf_free(c);
}

Test(conf, eid_prefixes_with_host_bits_are_warnings)
{
	/* they are masked (10.1.2.3/16 is 10.1.0.0/16), but an operator meant something */
	struct conf *c =
	    load("sites:\n"
		 "  - name: s\n"
		 "    keys: [{id: 1, algorithm: hmac-sha-1-96, secret: s}]\n"
		 "    eid-prefixes: [\"[1] 10.1.2.3/16\", \"2001:db8::1/32\",\n"
		 "                   \"[1] 10.2.0.0/16\", \"[5] 00:11:22:33:44:55/24\"]\n");
	cr_assert_eq(conf_warning_count(c), 3);
	cr_assert_str_eq(
	    conf_warning_at(c, 0),
	    "t.yaml:4:20: sites[0].eid-prefixes[0]: EID prefix \"[1] 10.1.2.3/16\" has "
	    "host bits set; it is used as [1] 10.1.0.0/16");
	cr_assert_str_eq(conf_warning_at(c, 1),
			 "t.yaml:4:39: sites[0].eid-prefixes[1]: EID prefix \"2001:db8::1/32\" has "
			 "host bits set; it is used as 2001:db8::/32");
	cr_assert_str_eq(conf_warning_at(c, 2),
			 "t.yaml:5:39: sites[0].eid-prefixes[3]: EID prefix "
			 "\"[5] 00:11:22:33:44:55/24\" has host bits set; it is used as "
			 "[5] 00:11:22:00:00:00/24");
	conf_free(c);
}

Test(conf, fastpath_needs_dpdk)
{
	fails_opts("fastpath:\n  port: net_null0\n  addresses: [192.0.2.1]\n", false, "t.yaml:1:1",
		   "fastpath", "fastpath: built without DPDK");
	fails_opts("log: {}\nfastpath:\n", false, "t.yaml:2:1", "fastpath",
		   "fastpath: built without DPDK");
	fails_opts("fastpath:\n  port: p\n  addresses: ::1\n  queues: 0\n", true, "t.yaml:4:11",
		   "fastpath.queues", "out of range (1..128)");
	fails_opts("fastpath:\n  port: net_null0\n", true, "t.yaml:2:3", "fastpath",
		   "missing key \"addresses\"");
	struct conf *c = load_opts("fastpath: {port: net_null0, addresses: 192.0.2.1}\n", true);
	cr_assert(conf_fastpath(c)->enabled);
	cr_assert_eq(conf_fastpath(c)->queues, 1);
	cr_assert_eq(conf_fastpath(c)->neal_args, 0);
	cr_assert_null(conf_fastpath(c)->next_hop_mac);
	cr_assert_eq(conf_fastpath(c)->mbufs, 8191);
	conf_free(c);
	fails_opts("fastpath:\n  port: p\n  addresses: ::1\n  next-hop-mac: 02:00:00:00:00\n", true,
		   "t.yaml:4:17", "fastpath.next-hop-mac", "not a MAC address");
	fails_opts("fastpath:\n  port: p\n  addresses: ::1\n  next-hop-mac: 02:00:00:00:00:0g\n",
		   true, "t.yaml:4:17", "fastpath.next-hop-mac", "not a MAC address");
	c = load_opts(
	    "fastpath: {port: p, addresses: \"::1\", next-hop-mac: \"02:00:00:00:00:Ab\", "
	    "mbufs: 65535}\n",
	    true);
	cr_assert_str_eq(conf_fastpath(c)->next_hop_mac, "02:00:00:00:00:Ab");
	cr_assert_eq(conf_fastpath(c)->mbufs, 65535);
	conf_free(c);
}

/* server.quic in a build without QUIC is a configuration error, not a
 * start-up failure (CI's -Dquic=disabled build runs this). */
Test(conf, quic_needs_the_quic_feature)
{
	static const char yaml[] = "server:\n  quic:\n    certificate: /dev/null\n"
				   "    key: /dev/null\n";
#if LISPMS_HAVE_QUIC
	struct conf *c = load(yaml);
	cr_assert(conf_server(c)->quic.enabled);
	conf_free(c);
#else
	fails(yaml, "t.yaml:3:5", "server.quic", "QUIC is not built into this lispmsd");
#endif
}

/* The same for server.tls and the tls feature (CI's -Dtls=disabled build). */
Test(conf, tls_needs_the_tls_feature)
{
	static const char yaml[] = "server:\n  tls:\n    certificate: /dev/null\n"
				   "    key: /dev/null\n";
#if LISPMS_HAVE_TLS
	struct conf *c = load(yaml);
	cr_assert(conf_server(c)->tls.enabled);
	cr_assert_eq(conf_server(c)->tls.port, 4344);
	conf_free(c);
#else
	fails(yaml, "t.yaml:3:5", "server.tls", "TLS is not built into this lispmsd");
#endif
}

Test(conf, sctp_needs_the_sctp_feature)
{
	static const char yaml[] = "server:\n  sctp:\n    port: 4342\n";
#if LISPMS_HAVE_SCTP
	struct conf *c = load(yaml);
	cr_assert(conf_server(c)->sctp.enabled);
	cr_assert_eq(conf_server(c)->sctp.udp_port, 9899);
	conf_free(c);
#else
	fails(yaml, "t.yaml:3:5", "server.sctp", "SCTP is not built into this lispmsd");
#endif
}

Test(conf, fastpath_exception_iface)
{
	struct conf *c = load_opts("fastpath: {port: p, addresses: 192.0.2.1}\n", true);
	cr_assert_null(conf_fastpath(c)->exception_iface, "absent: count and drop");
	conf_free(c);
	c = load_opts("fastpath: {port: p, addresses: 192.0.2.1, exception-iface: lfx-exc.0}\n",
		      true);
	cr_assert_str_eq(conf_fastpath(c)->exception_iface, "lfx-exc.0");
	conf_free(c);
	fails_opts("fastpath:\n  port: p\n  addresses: ::1\n  exception-iface: a,mac=x\n", true,
		   "t.yaml:4:20", "fastpath.exception-iface", "not an interface name");
	fails_opts("fastpath:\n  port: p\n  addresses: ::1\n  exception-iface: a/b\n", true,
		   "t.yaml:4:20", "fastpath.exception-iface", "not an interface name");
	fails_opts("fastpath:\n  port: p\n  addresses: ::1\n  exception-iface: ..\n", true,
		   "t.yaml:4:20", "fastpath.exception-iface", "not an interface name");
	fails_opts("fastpath:\n  port: p\n  addresses: ::1\n  exception-iface: a123456789abcdef\n",
		   true, "t.yaml:4:20", "fastpath.exception-iface", "longer than 15 bytes");
	fails_opts("fastpath:\n  port: p\n  addresses: ::1\n  exception-iface: \"\"\n", true,
		   "t.yaml:4:20", "fastpath.exception-iface", "must not be empty");
}

Test(conf, several_errors_are_collected)
{
	struct conf_error err;
	struct conf *c = NULL;
	const char *yaml = "server: {port: 0, workers: x}\nlog: {level: loud}\nextra: 1\n";
	cr_assert_eq(conf_load_buf("t.yaml", yaml, strlen(yaml), NULL, &c, &err), LISPMS_ECONFIG);
	cr_assert_eq(err.count, 4);
	cr_assert_eq(err.line, 1);
	cr_assert_eq(err.column, 16);
	cr_assert_str_eq(err.all,
			 "t.yaml:1:16: server.port: 0 is out of range (1..65535)\n"
			 "t.yaml:1:28: server.workers: expected an integer, got \"x\"\n"
			 "t.yaml:2:14: log.level: unknown level \"loud\" (expected error, "
			 "warning, notice, info or debug)\n"
			 "t.yaml:3:1: extra: unknown key (expected one of server, metrics, "
			 "control, log, fastpath, sites, ddt, subscribers, map-resolver)");
	/* a NULL err and a NULL buffer are allowed */
	cr_assert_eq(conf_load_buf(NULL, NULL, 0, NULL, &c, &err), LISPMS_ECONFIG);
	cr_assert_str_eq(err.msg, "<config>: empty configuration (expected a mapping of sections)");
	cr_assert_eq(conf_load_buf("t.yaml", yaml, strlen(yaml), NULL, &c, NULL), LISPMS_ECONFIG);
}

Test(conf, retire_frees_after_a_grace_period)
{
	lrcu_register();
	struct conf *c = load(contract);
	struct conf *published = NULL;
	lrcu_publish(&published, c);
	lrcu_read_lock();
	struct conf *seen = lrcu_deref(published);
	cr_assert_eq(conf_server(seen)->port, 4342);
	lrcu_read_unlock();
	struct conf *old = lrcu_xchg(&published, NULL);
	conf_retire(old);
	conf_retire(NULL);
	lrcu_barrier();
	lrcu_unregister();
	conf_free(NULL);
}

Test(conf, algorithm_names)
{
	cr_assert_str_eq(conf_alg_name(LISPMS_CONF_ALG_HMAC_SHA_256_128), "hmac-sha-256-128");
	cr_assert_null(conf_alg_name(0));
	cr_assert_null(conf_alg_name(3));
}

Test(conf, many_sites_load_and_are_found)
{
	enum { N = 5000 };
	size_t cap = N * 160 + 64, len = 0;
	char *yaml = malloc(cap);
	cr_assert_not_null(yaml);
	len += (size_t)snprintf(yaml + len, cap - len, "sites:\n");
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(yaml + len, cap - len,
					"  - {name: s%d, keys: [{id: 1, algorithm: hmac-sha-1-96, "
					"secret: k}], eid-prefixes: [\"[%d] 10.%d.0.0/16\"]}\n",
					i, i / 250, i % 250);
	struct conf_error err;
	struct conf *c = NULL;
	cr_assert_eq(conf_load_buf("big.yaml", yaml, len, NULL, &c, &err), LISPMS_EOK, "%s",
		     err.all);
	cr_assert_eq(conf_site_count(c), N);
	for (int i = 0; i < N; i += 97) {
		char name[16];
		snprintf(name, sizeof(name), "s%d", i);
		const struct conf_site *s = conf_site_find(c, name);
		cr_assert_not_null(s, "%s", name);
		cr_assert_eq(s->index, (uint32_t)i);
	}
	conf_free(c);
	free(yaml);
}

Test(conf, ddt_delegation_table)
{
	const char *yaml =
	    "ddt:\n"
	    "  authoritative-prefixes: [\"[1000] 10.0.0.0/8\"]\n"
	    "  delegations:\n"
	    "    - {prefix: \"[1000] 10.1.0.0/16\", referrals: [192.0.2.1, \"::1\"]}\n"
	    "    - {prefix: \"[1000] 10.2.0.0/16\", map-servers: true, referrals: "
	    "[192.0.2.2]}\n";
	struct conf *c = NULL;
	struct conf_error err;
	cr_assert_eq(conf_load_buf("t.yaml", yaml, strlen(yaml), NULL, &c, &err), LISPMS_EOK, "%s",
		     err.msg);
	const struct conf_ddt *d = conf_ddt(c);
	cr_assert(d->enabled);
	cr_assert_eq(d->nauthoritative, 1);
	cr_assert_eq(d->ndelegations, 2);
	cr_assert_eq(d->delegations[0].map_servers, false);
	cr_assert_eq(d->delegations[0].nreferrals, 2);
	cr_assert_eq(d->delegations[1].map_servers, true);
	cr_assert_eq(d->delegations[1].prefix.plen, 16);
	cr_assert_eq(d->delegations[1].prefix.iid, 1000);
	cr_assert_eq(d->referral_ttl, 1440);
	cr_assert_eq(d->hole_ttl, 15);
	conf_free(c);

	cr_assert_eq(conf_load_buf("t.yaml", "{}", 2, NULL, &c, &err), LISPMS_EOK);
	cr_assert_not(conf_ddt(c)->enabled);
	conf_free(c);

	fails("ddt:\n  delegations:\n    - {prefix: 10.0.0.0/8, referrals: [192.0.2.1]}\n"
	      "    - {prefix: 10.0.0.0/8, referrals: [192.0.2.2]}\n",
	      "t.yaml:2:3", "ddt.delegations", "prefix delegated twice (delegations[0] and [1])");
	fails("ddt:\n  delegations:\n    - {prefix: 10.0.0.0/8, referrals: []}\n", "t.yaml:3:39",
	      "ddt.delegations[0].referrals", "must not be empty");
}

Test(conf, map_resolver_section)
{
	const char *yaml = "map-resolver:\n"
			   "  roots: [192.0.2.1, \"2001:db8::1\"]\n"
			   "  listen: [127.0.0.53]\n"
			   "  pending-max: 64\n";
	struct conf *c = NULL;
	struct conf_error err;
	cr_assert_eq(conf_load_buf("t.yaml", yaml, strlen(yaml), NULL, &c, &err), LISPMS_EOK, "%s",
		     err.msg);
	const struct conf_map_resolver *r = conf_map_resolver(c);
	cr_assert(r->enabled);
	cr_assert_eq(r->nroots, 2);
	cr_assert_eq(r->roots[1].afi, LISP_AFI_IPV6);
	cr_assert_eq(r->pending_max, 64);
	cr_assert_eq(r->cache_max, 100000);
	cr_assert_eq(r->timeout_ms, 1000);
	cr_assert_eq(r->retries, 1);
	cr_assert_eq(r->max_depth, 16);
	cr_assert_eq(r->ddt_port, 4342);
	cr_assert_eq(r->nlisten, 1);
	cr_assert_eq(r->port, 4342);
	conf_free(c);

	cr_assert_eq(conf_load_buf("t.yaml", "{}", 2, NULL, &c, &err), LISPMS_EOK);
	cr_assert_not(conf_map_resolver(c)->enabled);
	conf_free(c);

	fails("map-resolver: {cache-max: 5}\n", "t.yaml:1:15", "map-resolver",
	      "missing key \"roots\"");
	fails("map-resolver: {roots: [192.0.2.1]}\n", "t.yaml:1:15", "map-resolver",
	      "missing key \"listen\"");
	fails("map-resolver: {roots: [192.0.2.1], listen: [127.0.0.1, 127.0.0.2, 127.0.0.3, "
	      "127.0.0.4, 127.0.0.5]}\n",
	      "t.yaml", "map-resolver.listen", "more than 4 listen addresses");
	fails("map-resolver: {roots: [192.0.2.1], listen: [127.0.0.1], timeout-ms: 1}\n",
	      "t.yaml:1:69", "map-resolver.timeout-ms", "out of range");
	fails("map-resolver:\n  listen: [127.0.0.1]\n  roots: [192.0.2.1, 192.0.2.2, 192.0.2.3, "
	      "192.0.2.4, 192.0.2.5, "
	      "192.0.2.6, 192.0.2.7, 192.0.2.8, 192.0.2.9]\n",
	      "t.yaml", "map-resolver.roots", "more than 8 root addresses");
}
