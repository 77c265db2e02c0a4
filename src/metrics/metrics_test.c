/* SPDX-License-Identifier: MIT */
/* The registry, its text exposition and the /metrics listener. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include <lispms/err.h>
#include <lispms/metrics.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

static struct ms *ms;
static struct metrics_info info;

static const char *conf_text = "control: {socket: /tmp/x.sock}\n"
			       "sites:\n"
			       "  - name: alpha\n"
			       "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: a}]\n"
			       "    eid-prefixes: [\"[7] 10.1.0.0/16\", \"[7] 2001:db8::/32\"]\n"
			       "    accept-more-specifics: true\n"
			       "  - name: beta\n"
			       "    keys: [{id: 2, algorithm: hmac-sha-256-128, secret: b}]\n"
			       "    eid-prefixes: [\"[9] 10.2.0.0/16\"]\n";

static void setup(void)
{
	cr_assert_eq(thread_register("control"), LISPMS_EOK);
	struct conf *c;
	struct conf_error err;
	cr_assert_eq(conf_load_buf("t.yaml", conf_text, strlen(conf_text), NULL, &c, &err),
		     LISPMS_EOK, "%s", err.msg);
	ms = ms_new(c);
	cr_assert_not_null(ms);
	info = (struct metrics_info){
		.ms = ms, .workers = 3, .version = "9.9.9", .fastpath = "disabled"
	};
}

static void teardown(void)
{
	ms_free(ms);
	lrcu_barrier();
	thread_unregister();
}

TestSuite(metrics, .init = setup, .fini = teardown);

static void reg(const char *prefix, uint8_t owner)
{
	struct eid_prefix p;
	cr_assert_eq(eid_prefix_parse(prefix, &p), LISPMS_EOK);
	struct ms_site_info si;
	lrcu_read_lock();
	cr_assert(ms_site_find(ms, "alpha", &si));
	lrcu_read_unlock();
	struct db_locator l = { .priority = 1 };
	lisp_addr_parse("192.0.2.1", &l.addr);
	struct db_reg_info r = { .locs = &l, .nlocs = 1, .ttl = 3, .site = si.id };
	lisp_addr_parse("192.0.2.1", &r.owner.rloc);
	r.owner.rloc.bytes[3] = owner;
	cr_assert(db_register(ms_db(ms), &p, &r, mtime_now_ns(), NULL) >= 0);
}

static char *exposition(void)
{
	struct sbuf b;
	sbuf_init(&b, 64u << 20);
	metrics_prometheus(&info, &b);
	cr_assert(!sbuf_failed(&b));
	size_t n;
	return sbuf_take(&b, &n);
}

static bool name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alpha =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return n > 0;
}

/* The format's structure: HELP and TYPE once per family, samples after their TYPE. */
Test(metrics, exposition_is_well_formed)
{
	char *text = exposition();
	char *names[512];
	char types[512][16];
	unsigned nfam = 0;
	unsigned samples = 0;
	char *save = NULL;
	const char *cur = NULL;
	char cur_type[16] = "";
	uint64_t last_bucket = 0;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char name[128], type[16];
			cr_assert_eq(sscanf(line, "# TYPE %127s %15s", name, type), 2);
			for (unsigned i = 0; i < nfam; i++)
				cr_assert_neq(strcmp(names[i], name), 0, "TYPE twice for %s", name);
			cr_assert_lt(nfam, 512);
			names[nfam] = strdup(name);
			snprintf(types[nfam], sizeof(types[nfam]), "%s", type);
			cur = names[nfam];
			snprintf(cur_type, sizeof(cur_type), "%s", type);
			nfam++;
			last_bucket = 0;
			continue;
		}
		cr_assert_neq(line[0], '#', "%s", line);
		size_t n = strcspn(line, "{ ");
		cr_assert(name_ok(line, n), "%s", line);
		cr_assert_not_null(cur, "sample before any TYPE: %s", line);
		size_t cl = strlen(cur);
		cr_assert(strncmp(line, cur, cl) == 0, "%s outside its family %s", line, cur);
		if (strcmp(cur_type, "histogram") == 0) {
			const char *suffix = line + cl;
			cr_assert(strncmp(suffix, "_bucket{", 8) == 0 ||
				      strncmp(suffix, "_sum ", 5) == 0 ||
				      strncmp(suffix, "_count ", 7) == 0,
				  "%s", line);
			if (strncmp(suffix, "_bucket", 7) == 0) {
				uint64_t v = strtoull(strrchr(line, ' ') + 1, NULL, 10);
				cr_assert_geq(v, last_bucket, "buckets are cumulative: %s", line);
				last_bucket = v;
			}
			if (strncmp(suffix, "_count", 6) == 0)
				cr_assert_eq(strtoull(strrchr(line, ' ') + 1, NULL, 10),
					     last_bucket, "+Inf equals _count");
		} else {
			cr_assert_eq(n, cl, "%s", line);
		}
		char *end;
		const char *v = strrchr(line, ' ') + 1;
		strtod(v, &end);
		cr_assert(*end == '\0' || strcmp(v, "+Inf") == 0, "value of %s", line);
		samples++;
	}
	cr_assert_gt(nfam, 30);
	cr_assert_gt(samples, nfam);
	for (unsigned i = 0; i < nfam; i++) {
		size_t n = strlen(names[i]);
		if (strcmp(types[i], "counter") == 0)
			cr_assert(strcmp(names[i] + n - 6, "_total") == 0, "%s", names[i]);
		free(names[i]);
	}
	free(text);
}

Test(metrics, every_scrape_gauge_and_site_counter_is_there)
{
	reg("[7] 10.1.1.0/24", 1);
	reg("[7] 10.1.2.0/24", 1);
	reg("[7] 10.1.2.0/24", 2);
	reg("[7] 2001:db8:1::/48", 1);
	struct ms_site_info si;
	lrcu_read_lock();
	ms_site_find(ms, "beta", &si);
	lrcu_read_unlock();
	counters_site_add(si.num, LISPMS_S_REJ_BAD_HMAC, 3);
	char *text = exposition();
	for (int i = 0; i < LISPMS_G__COUNT; i++) {
		char want[160];
		snprintf(want, sizeof(want), "# TYPE %s gauge\n", metrics_gauge_desc[i].name);
		cr_assert_not_null(strstr(text, want), "%s", want);
	}
	const char *lines[] = {
		"lispms_build_info{version=\"9.9.9\",rcu=\"" LISPMS_RCU_NAME
		"\",fastpath=\"disabled\"} 1\n",
		"lispms_workers 3\n",
		"lispms_config_generation 1\n",
		"lispms_config_last_reload_success 1\n",
		"lispms_config_sites 2\n",
		"lispms_db_instances 1\n",
		"lispms_db_instance_prefixes{iid=\"7\",family=\"ipv4\"} 2\n",
		"lispms_db_instance_prefixes{iid=\"7\",family=\"ipv6\"} 1\n",
		"lispms_db_instance_prefixes{iid=\"7\",family=\"mac\"} 0\n",
		"lispms_db_instance_registrations{iid=\"7\"} 4\n",
		"lispms_site_register_rejected_total{site=\"beta\",reason=\"bad_hmac\"} 3\n",
		"lispms_site_register_rejected_total{site=\"alpha\",reason=\"bad_hmac\"} 0\n",
		"lispms_site_register_records_total{site=\"alpha\",result=\"accepted\"} 0\n",
		"lispms_notify_pending 0\n",
		"lispms_admitted_sources 0\n",
		"lispms_register_processing_seconds_bucket{le=\"1e-06\"} ",
		"lispms_register_processing_seconds_bucket{le=\"+Inf\"} ",
		"# TYPE lispms_map_requests_total counter\n",
		"lispms_map_requests_total{outcome=\"proxy_reply\"} ",
		/* stream-session rows: one series per transport, transport first */
		"lispms_sessions_up{transport=\"tcp\"} ",
		"lispms_sessions_up{transport=\"tls\"} ",
		"lispms_sessions_up{transport=\"quic\"} ",
		"lispms_sessions_up{transport=\"sctp\"} ",
		"lispms_sessions_closed_total{transport=\"quic\",cause=\"operator\"} ",
		"lispms_messages_sent_total{transport=\"tls\",type=\"registration_ack\"} ",
		"lispms_messages_sent_total{transport=\"udp\",type=\"map_notify\"} ",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		cr_assert_not_null(strstr(text, lines[i]), "missing: %s", lines[i]);
	free(text);
}

Test(metrics, values_and_labels_are_escaped_and_formatted)
{
	struct sbuf b;
	sbuf_init(&b, 1024);
	metrics_escape_label(&b, "a\"b\\c\nd");
	cr_assert_str_eq(b.data, "a\\\"b\\\\c\\nd");
	sbuf_reset(&b);
	metrics_format_value(&b, 42);
	sbuf_puts(&b, " ");
	metrics_format_value(&b, 0.25);
	sbuf_puts(&b, " ");
	metrics_format_value(&b, 1.0 / 0.0);
	cr_assert_str_eq(b.data, "42 0.25 +Inf");
	sbuf_free(&b);
}

/* One HTTP request over loopback, the listener run by this (control) thread. */
static char *http_get(struct metrics_http *h, const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(metrics_http_port(h)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	char req[256];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	cr_assert_eq(write(fd, req, (size_t)n), n);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	struct sbuf resp;
	sbuf_init(&resp, 64u << 20);
	for (int i = 0; i < 500; i++) {
		int timeout = 10;
		struct pollfd p[2] = { { .fd = metrics_http_pollfd(h, &timeout), .events = POLLIN },
				       { .fd = fd, .events = POLLIN } };
		poll(p, 2, timeout);
		metrics_http_run(h);
		char buf[65536];
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r > 0)
			sbuf_append(&resp, buf, (size_t)r);
		else if (r == 0)
			break;
	}
	close(fd);
	size_t len;
	return sbuf_take(&resp, &len);
}

Test(metrics, listener_serves_get_metrics)
{
	struct sockaddr_storage sa;
	saddr_parse("127.0.0.1", &sa);
	char err[256];
	struct metrics_http *h = metrics_http_new(&sa, &info, err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	cr_assert_gt(metrics_http_port(h), 0);
	char *r = http_get(h, "/metrics");
	cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%.200s", r);
	cr_assert_not_null(strstr(r, "text/plain; version=0.0.4; charset=utf-8"));
	cr_assert_not_null(strstr(r, "\r\n\r\n# HELP lispms_"));
	cr_assert_not_null(strstr(r, "lispms_build_info{"));
	free(r);
	r = http_get(h, "/other");
	cr_assert(strncmp(r, "HTTP/1.1 404", 12) == 0, "%.200s", r);
	free(r);
	/* a second listener on the same port is refused with a message */
	saddr_set_port(&sa, metrics_http_port(h));
	cr_assert_null(metrics_http_new(&sa, &info, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "cannot listen on 127.0.0.1:"), "%s", err);
	metrics_http_free(h);
}
