/* SPDX-License-Identifier: MIT */
/*
 * The control server driven as the daemon's loop drives it, with clients
 * on real UNIX sockets: every command, errors, streaming with limits, a
 * slow reader, too many clients, stale and live socket files.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <criterion/criterion.h>

#include <lispms/ctl.h>
#include <lispms/err.h>
#include <lispms/metrics.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

static char dir[64], sock[100], conf_path[128];
static struct ms *ms;
static struct ctl *ctl;
static struct metrics_info info;

static const char *conf_text = "control: {socket: /tmp/unused.sock}\n"
			       "sites:\n"
			       "  - name: alpha\n"
			       "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: a}]\n"
			       "    eid-prefixes: [\"[7] 10.0.0.0/8\"]\n"
			       "    accept-more-specifics: true\n"
			       "  - name: beta\n"
			       "    keys: [{id: 2, algorithm: hmac-sha-256-128, secret: b}]\n"
			       "    eid-prefixes: [\"[7] 11.0.0.0/8\", \"[9] 2001:db8::/32\"]\n"
			       "    proxy-reply: true\n"
			       "    accept-more-specifics: true\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	cr_assert_eq(thread_register("control"), LISPMS_EOK);
	snprintf(dir, sizeof(dir), "ctl-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	snprintf(conf_path, sizeof(conf_path), "%s/lispms.yaml", dir);
	write_file(conf_path, conf_text);
	struct conf *c;
	struct conf_error err;
	cr_assert_eq(conf_load_file(conf_path, NULL, &c, &err), LISPMS_EOK, "%s", err.msg);
	ms = ms_new(c);
	static const struct build_feature features[] = { { "dpdk", "no", "fast path" },
							 { "rcu", "memb", "flavour" },
							 { NULL, NULL, NULL } };
	info = (struct metrics_info){ .ms = ms,
				      .workers = 2,
				      .version = "1.2.3",
				      .fastpath = "disabled",
				      .features = features };
	char e[256];
	struct ctl_conf cc = { .path = sock, .ms = ms, .metrics = &info };
	ctl = ctl_new(&cc, e, sizeof(e));
	cr_assert_not_null(ctl, "%s", e);
}

static void teardown(void)
{
	ctl_free(ctl);
	ms_free(ms);
	lrcu_barrier();
	unlink(conf_path);
	rmdir(dir);
	thread_unregister();
}

TestSuite(ctl, .init = setup, .fini = teardown);

/* One turn of the daemon's loop. */
static void turn(int wait_ms)
{
	struct pollfd p[LISPMS_CTL_POLLFDS];
	int timeout = wait_ms;
	unsigned n = ctl_pollfds(ctl, p, LISPMS_CTL_POLLFDS, &timeout);
	poll(p, n, timeout);
	ctl_dispatch(ctl, p, n);
}

static int client(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void send_request(int fd, bool json, unsigned argc, const char *const *argv)
{
	uint8_t buf[LISPMS_CTL_HDR + LISPMS_CTL_REQUEST_MAX];
	size_t len;
	cr_assert_eq(ctl_request_encode(argv, argc, json, buf, sizeof(buf), &len), LISPMS_EOK);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
}

struct result {
	char *out;
	size_t out_len;
	int status;
	char msg[1024];
	bool ended;
};

/* Read frames until END, turning the loop meanwhile. */
static void collect(int fd, struct result *res)
{
	struct sbuf in, out;
	sbuf_init(&in, 256u << 20);
	sbuf_init(&out, 256u << 20);
	memset(res, 0, sizeof(*res));
	for (int i = 0; i < 200000 && !res->ended; i++) {
		turn(5);
		char buf[65536];
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			sbuf_append(&in, buf, (size_t)n);
		size_t at = 0;
		struct ctl_frame f;
		size_t used;
		while (at < in.len && ctl_frame_decode((uint8_t *)in.data + at, in.len - at, &f,
						       &used) == LISPMS_EOK) {
			if (f.type == CTL_FRAME_DATA) {
				sbuf_append(&out, (const char *)f.payload, f.len);
			} else {
				const char *m;
				size_t ml;
				cr_assert_eq(ctl_end_decode(&f, &res->status, &m, &ml), LISPMS_EOK);
				snprintf(res->msg, sizeof(res->msg), "%.*s", (int)ml, m);
				res->ended = true;
			}
			at += used;
		}
		sbuf_consume(&in, at);
		if (n == 0)
			break;
	}
	sbuf_free(&in);
	res->out = sbuf_take(&out, &res->out_len);
	close(fd);
}

static struct result run(bool json, unsigned argc, const char *const *argv)
{
	int fd = client();
	send_request(fd, json, argc, argv);
	struct result r;
	collect(fd, &r);
	cr_assert(r.ended, "no END for %s", argv[0]);
	return r;
}

#define RUN(json, ...)                                     \
	__extension__({                                    \
		const char *a_[] = { __VA_ARGS__ };        \
		run(json, sizeof(a_) / sizeof(a_[0]), a_); \
	})

static const void *site_id(const char *name, unsigned *num)
{
	struct ms_site_info si;
	lrcu_read_lock();
	cr_assert(ms_site_find(ms, name, &si));
	lrcu_read_unlock();
	if (num)
		*num = si.num;
	return si.id;
}

static void reg(const char *site, uint32_t iid, uint32_t v4, uint8_t plen, uint8_t owner)
{
	struct eid_prefix p = { .iid = iid, .afi = LISP_AFI_IPV4, .plen = plen };
	p.bytes[0] = (uint8_t)(v4 >> 24);
	p.bytes[1] = (uint8_t)(v4 >> 16);
	p.bytes[2] = (uint8_t)(v4 >> 8);
	p.bytes[3] = (uint8_t)v4;
	struct db_locator l = { .priority = 1, .weight = 100, .flags = DB_LOC_R };
	lisp_addr_parse("192.0.2.1", &l.addr);
	struct db_reg_info r = { .locs = &l, .nlocs = 1, .ttl = 3, .site = site_id(site, NULL) };
	lisp_addr_parse("192.0.2.1", &r.owner.rloc);
	r.owner.rloc.bytes[3] = owner;
	r.owner.port = 4342;
	cr_assert(db_register(ms_db(ms), &p, &r, mtime_now_ns(), NULL) >= 0);
}

static unsigned count_lines(const char *text, const char *needle)
{
	unsigned n = 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

Test(ctl, status_in_text_and_json)
{
	reg("alpha", 7, 0x0a010100, 24, 1);
	struct result r = RUN(false, "status");
	cr_assert_eq(r.status, 0, "%s", r.msg);
	cr_assert_not_null(strstr(r.out, "version:"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "1.2.3"));
	cr_assert_not_null(strstr(r.out, "eid prefixes:"));
	cr_assert_not_null(strstr(r.out, "configuration:\n"));
	cr_assert_not_null(strstr(r.out, conf_path));
	cr_assert_not_null(strstr(r.out, "features:\n  dpdk:"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "rcu:"), "%s", r.out);
	free(r.out);
	r = RUN(true, "status");
	cr_assert_eq(r.status, 0);
	cr_assert(r.out[0] == '{' && r.out[r.out_len - 2] == '}' && r.out[r.out_len - 1] == '\n',
		  "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"version\":\"1.2.3\""), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"eid_prefixes\":1"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"sites\":2"));
	cr_assert_not_null(strstr(r.out, "\"configuration\":{\"file\":"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"generation\":1"));
	cr_assert_not_null(strstr(r.out, "\"features\":{\"dpdk\":\"no\",\"rcu\":\"memb\"}"), "%s",
			   r.out);
	free(r.out);
}

Test(ctl, errors_are_clear)
{
	struct result r = RUN(false, "frobnicate");
	cr_assert_eq(r.status, LISPMS_EINVAL);
	cr_assert_not_null(strstr(r.msg, "unknown command \"frobnicate\""), "%s", r.msg);
	free(r.out);
	r = RUN(false, "site", "show");
	cr_assert_eq(r.status, LISPMS_EINVAL);
	cr_assert_str_eq(r.msg, "usage: site show NAME");
	free(r.out);
	r = RUN(false, "site", "show", "nope");
	cr_assert_eq(r.status, LISPMS_ENOENT);
	cr_assert_not_null(strstr(r.msg, "no site \"nope\""), "%s", r.msg);
	free(r.out);
	r = RUN(false, "sessions");
	cr_assert_eq(r.status, LISPMS_ENOTSUP, "no handler installed: no sessions to list");
	cr_assert_not_null(strstr(r.msg, "reliable transport"), "%s", r.msg);
	free(r.out);
	r = RUN(false, "registrations", "--limit", "0");
	cr_assert_eq(r.status, LISPMS_EINVAL);
	free(r.out);
	r = RUN(false, "registrations", "--color", "red");
	cr_assert_not_null(strstr(r.msg, "unknown option --color"), "%s", r.msg);
	free(r.out);
	r = RUN(false, "eid", "lookup", "not-an-eid");
	cr_assert_eq(r.status, LISPMS_EINVAL);
	free(r.out);
	/* not our protocol at all */
	int fd = client();
	cr_assert_eq(write(fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	collect(fd, &r);
	cr_assert(r.ended);
	cr_assert_eq(r.status, LISPMS_EMALFORMED);
	free(r.out);
}

Test(ctl, registrations_stream_within_their_limit)
{
	for (uint32_t i = 0; i < 5000; i++)
		reg("alpha", 7, 0x0a000000 + i, 32, (uint8_t)(1 + i % 3));
	for (uint32_t i = 0; i < 10; i++)
		reg("beta", 7, 0x0b000000 + (i << 8), 24, 9);
	struct result r = RUN(false, "registrations");
	cr_assert_eq(r.status, 0, "%s", r.msg);
	cr_assert_eq(count_lines(r.out, "\n[7] "), 1000, "default limit");
	cr_assert_not_null(strstr(r.out, "... first 1000 shown (--limit N for more)"));
	cr_assert(strncmp(r.out, "PREFIX ", 7) == 0, "%.80s", r.out);
	free(r.out);
	r = RUN(false, "registrations", "--limit", "100000");
	cr_assert_eq(count_lines(r.out, "\n[7] "), 5010);
	cr_assert_not_null(strstr(r.out, "5010 registrations\n"));
	cr_assert_gt(r.out_len, 2 * LISPMS_CTL_DATA_MAX, "needs several frames");
	free(r.out);
	r = RUN(true, "registrations", "--site", "beta", "--limit", "5");
	cr_assert_eq(count_lines(r.out, "\"site\":\"beta\""), 5, "%s", r.out);
	cr_assert_eq(count_lines(r.out, "\"site\":\"alpha\""), 0);
	cr_assert_not_null(strstr(r.out, "\"count\":5,\"truncated\":true}"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"ttl_min\":3,"), "numbers are numbers: %s", r.out);
	free(r.out);
	r = RUN(false, "registrations", "--iid", "9");
	cr_assert_not_null(strstr(r.out, "0 registrations\n"), "%s", r.out);
	free(r.out);
}

Test(ctl, a_slow_reader_holds_a_bounded_buffer)
{
	for (uint32_t i = 0; i < 20000; i++)
		reg("alpha", 7, 0x0a000000 + i, 32, 1);
	int fd = client();
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	const char *argv[] = { "registrations", "--limit", "20000" };
	send_request(fd, false, 3, argv);
	/* the client reads nothing for a while: the server must not render it all */
	for (int i = 0; i < 200; i++)
		turn(0);
	size_t held = ctl_buffered(ctl);
	cr_assert_gt(held, 0);
	cr_assert_lt(held, 1u << 20, "%zu bytes rendered ahead of a reader that reads nothing",
		     held);
	struct result r;
	collect(fd, &r);
	cr_assert_gt(r.out_len, 3 * held, "the whole reply is much larger (%zu)", r.out_len);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(count_lines(r.out, "\n[7] "), 20000);
	free(r.out);
}

Test(ctl, site_list_and_show_explain_rejections)
{
	unsigned num;
	site_id("alpha", &num);
	reg("alpha", 7, 0x0a010100, 24, 1);
	counters_site_add(num, LISPMS_S_REG_ACCEPTED, 4);
	struct result r = RUN(false, "site", "list");
	cr_assert_eq(r.status, 0);
	cr_assert(strncmp(r.out, "SITE ", 5) == 0, "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\nalpha "));
	cr_assert_not_null(strstr(r.out, "\nbeta "));
	free(r.out);
	r = RUN(false, "site", "show", "alpha");
	cr_assert_eq(r.status, 0, "%s", r.msg);
	cr_assert_not_null(strstr(r.out, "configuration:\n"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "[7] 10.0.0.0/8"));
	cr_assert_not_null(strstr(r.out, "1 hmac-sha-256-128"));
	cr_assert_null(strstr(r.out, "secret"), "never the secrets");
	cr_assert_not_null(strstr(r.out, "  accepted:  "), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "rejected bad hmac:"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "[7] 10.1.1.0/24"));
	cr_assert_not_null(strstr(r.out, "TIME "), "%s", r.out);
	free(r.out);
	r = RUN(true, "site", "show", "beta");
	cr_assert_not_null(strstr(r.out, "\"proxy_reply\":true"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"recent_rejections\":[]"), "%s", r.out);
	free(r.out);
}

Test(ctl, eid_lookup_says_why)
{
	reg("alpha", 7, 0x0a010100, 24, 1);
	reg("beta", 7, 0x0b010100, 24, 1);
	struct result r = RUN(false, "eid", "lookup", "[7] 10.1.1.5");
	cr_assert_eq(r.status, 0, "%s", r.msg);
	cr_assert_not_null(strstr(r.out, "forward"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "forwarded to the ETR at 192.0.2.1:4342"), "%s", r.out);
	free(r.out);
	r = RUN(true, "eid", "lookup", "[7] 11.1.1.5");
	cr_assert_not_null(strstr(r.out, "\"answer\":\"proxy-reply\""), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"locators\":[{\"locator\":\"192.0.2.1\""), "%s", r.out);
	free(r.out);
	r = RUN(true, "eid", "lookup", "[7] 10.200.0.1");
	cr_assert_not_null(strstr(r.out, "\"answer\":\"negative-configured\""), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"prefix\":\"[7] 10.128.0.0/9\""), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"ttl_minutes\":1"), "%s", r.out);
	free(r.out);
	r = RUN(true, "eid", "lookup", "[8] 10.0.0.1");
	cr_assert_not_null(strstr(r.out, "\"answer\":\"negative-unknown\""), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"site\":null"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"ttl_minutes\":15"), "%s", r.out);
	free(r.out);
}

Test(ctl, stats_reads_the_metrics_registry)
{
	struct result r = RUN(false, "stats", "map_requests");
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.out, "lispms_map_requests_total{outcome=\"proxy_reply\"}"),
			   "%s", r.out);
	cr_assert_null(strstr(r.out, "lispms_db_"), "filtered");
	free(r.out);
	r = RUN(true, "stats");
	cr_assert_not_null(strstr(r.out, "{\"metric\":\"lispms_build_info{"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"histograms\":[{\"metric\":\"lispms_register_"));
	free(r.out);
}

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

Test(ctl, log_level_reload_and_stop)
{
	struct result r = RUN(false, "log-level", "debug");
	cr_assert_eq(r.status, 0);
	cr_assert_eq(log_get_level(), LOG_LEVEL_DEBUG);
	free(r.out);
	r = RUN(false, "log-level", "loud");
	cr_assert_eq(r.status, LISPMS_EINVAL);
	free(r.out);
	log_set_level(LOG_LEVEL_WARNING);

	reg("beta", 7, 0x0b010100, 24, 1);
	write_file(conf_path, "control: {socket: /tmp/unused.sock}\n"
			      "sites:\n"
			      "  - name: alpha\n"
			      "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: a}]\n"
			      "    eid-prefixes: [\"[7] 10.0.0.0/8\"]\n");
	r = RUN(false, "reload");
	cr_assert_eq(r.status, 0, "%s", r.msg);
	cr_assert_not_null(strstr(r.msg, "generation 2"), "%s", r.msg);
	cr_assert_not_null(strstr(r.msg, "1 registrations removed"), "%s", r.msg);
	free(r.out);
	write_file(conf_path, "sites: [oops\n");
	r = RUN(false, "reload");
	cr_assert_eq(r.status, LISPMS_ECONFIG);
	cr_assert_not_null(strstr(r.msg, "keeping the running configuration"), "%s", r.msg);
	free(r.out);
	r = RUN(true, "status");
	cr_assert_not_null(strstr(r.out, "\"generation\":2"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"last_reload_result\":\"failed\""), "%s", r.out);
	free(r.out);

	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	r = RUN(false, "stop");
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.msg, "lispmsd is stopping");
	for (int i = 0; i < 100 && !got_term; i++)
		usleep(1000);
	cr_assert(got_term, "stop is SIGTERM to lispmsd itself");
	free(r.out);
}

Test(ctl, too_many_clients_are_told_so)
{
	int fds[LISPMS_CTL_POLLFDS];
	for (int i = 0; i < LISPMS_CTL_POLLFDS - 1; i++) {
		fds[i] = client();
		turn(0);
	}
	int extra = client();
	turn(0);
	struct result r;
	collect(extra, &r);
	cr_assert(r.ended);
	cr_assert_eq(r.status, LISPMS_EBUSY);
	free(r.out);
	for (int i = 0; i < LISPMS_CTL_POLLFDS - 1; i++)
		close(fds[i]);
	for (int i = 0; i < 10; i++)
		turn(0);
	r = RUN(false, "status");
	cr_assert_eq(r.status, 0, "slots are free again");
	free(r.out);
}

Test(ctl, socket_files_stale_and_live)
{
	char e[256];
	struct ctl_conf cc = { .path = sock, .ms = ms, .metrics = &info };
	cr_assert_null(ctl_new(&cc, e, sizeof(e)), "a live socket is not stolen");
	cr_assert_not_null(strstr(e, "is in use"), "%s", e);
	struct stat st;
	cr_assert_eq(stat(sock, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0660);
	ctl_free(ctl);
	/* a socket file nobody listens on: replaced */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	ctl = ctl_new(&cc, e, sizeof(e));
	cr_assert_not_null(ctl, "%s", e);
	struct ctl_conf bad = { .path = "/nonexistent-dir/x.sock", .ms = ms, .metrics = &info };
	cr_assert_null(ctl_new(&bad, e, sizeof(e)));
	cr_assert_not_null(strstr(e, "No such file or directory"), "%s", e);
}

/* A handler the daemon would install: streams `total` rows, 3 per step. */
struct counting {
	unsigned total, at, steps;
	bool freed;
};

static const struct ctl_col count_cols[] = { { "n", 6, true }, { "word", 0, false } };

static int count_step(struct ctl_reply *r, void *state)
{
	struct counting *c = state;
	c->steps++;
	for (int k = 0; k < 3 && c->at < c->total; k++, c->at++) {
		char n[16];
		snprintf(n, sizeof(n), "%u", c->at);
		const char *row[] = { n, c->at % 2 ? "odd" : "even" };
		ctl_out_row(r, row);
	}
	if (c->at < c->total)
		return 1;
	ctl_out_table_end(r);
	ctl_reply_message(r, "%u rows", c->total);
	return 0;
}

static void count_free(void *state)
{
	((struct counting *)state)->freed = true;
}

static int count_handler(struct ctl_reply *r, unsigned argc, const char *const *argv, void *arg)
{
	(void)argc, (void)argv;
	struct counting *c = arg;
	ctl_reply_stream(r, count_step, c, count_free);
	ctl_out_table(r, "sessions", count_cols, 2);
	return 1;
}

Test(ctl, an_installed_handler_streams_its_table_step_by_step)
{
	struct counting c = { .total = 7 };
	ctl_set_handler(ctl, CTL_CMD_SESSIONS, count_handler, &c);
	struct result r = RUN(true, "sessions");
	cr_assert_eq(r.status, 0, "%s", r.msg);
	cr_assert_eq(c.steps, 3, "three rows a step");
	cr_assert(c.freed, "its state is released at the end");
	cr_assert_not_null(strstr(r.out, "{\"n\":0,\"word\":\"even\"}"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "{\"n\":6,\"word\":\"even\"}]"), "%s", r.out);
	cr_assert_str_eq(r.msg, "7 rows");
	free(r.out);
	c = (struct counting){ .total = 2 };
	r = RUN(false, "sessions", "--limit", "5");
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(r.out, "1      odd"), "%s", r.out);
	free(r.out);
}
