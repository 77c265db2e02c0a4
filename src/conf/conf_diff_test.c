/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/conf.h>
#include <lispms/err.h>

static struct conf *load(const char *yaml)
{
	struct conf_error err;
	struct conf *c = NULL;
	int ret = conf_load_buf("t.yaml", yaml, strlen(yaml), NULL, &c, &err);
	cr_assert_eq(ret, LISPMS_EOK, "%s", err.all);
	return c;
}

/* Each event as one line of text, to compare whole diffs at once. */
struct log {
	char text[4096];
	size_t len;
	int stop_after;
	int seen;
};

static int record(const struct conf_diff_event *ev, void *arg)
{
	struct log *l = arg;
	char p[LISPMS_EID_STRLEN] = "";
	if (ev->prefix)
		eid_prefix_format(ev->prefix, p, sizeof(p));
	const char *site = ev->new_site	  ? ev->new_site->name
			   : ev->old_site ? ev->old_site->name
					  : "";
	int n = 0;
	char *out = l->text + l->len;
	size_t room = sizeof(l->text) - l->len;
	switch (ev->change) {
	case LISPMS_CONF_SITE_ADDED:
		n = snprintf(out, room, "+site %s\n", site);
		break;
	case LISPMS_CONF_SITE_REMOVED:
		n = snprintf(out, room, "-site %s\n", site);
		break;
	case LISPMS_CONF_SITE_CHANGED:
		cr_assert_not_null(ev->old_site);
		cr_assert_not_null(ev->new_site);
		n = snprintf(out, room, "~site %s %#x\n", site, ev->what);
		break;
	case LISPMS_CONF_PREFIX_ADDED:
		cr_assert_not_null(ev->new_site);
		n = snprintf(out, room, "+prefix %s %s\n", site, p);
		break;
	case LISPMS_CONF_PREFIX_REMOVED:
		cr_assert_not_null(ev->old_site);
		n = snprintf(out, room, "-prefix %s %s\n", ev->old_site->name, p);
		break;
	case LISPMS_CONF_SETTING_CHANGED:
		n = snprintf(out, room, "~%s%s\n", ev->key, ev->needs_restart ? " restart" : "");
		break;
	}
	l->len += (size_t)n;
	l->seen++;
	return l->stop_after && l->seen == l->stop_after ? 42 : 0;
}

static void diff_is(const char *from, const char *to, const char *want)
{
	struct conf *a = load(from), *b = load(to);
	struct log l = { 0 };
	cr_assert_eq(conf_diff(a, b, record, &l), 0);
	cr_assert_str_eq(l.text, want);
	if (want[0] != '\0')
		cr_assert_not(conf_equal(a, b));
	conf_free(b);
	conf_free(a);
}

#define SITE(name, prefixes, extra)                                     \
	"  - name: " name "\n"                                          \
	"    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: s}]\n" \
	"    eid-prefixes: " prefixes "\n" extra

Test(diff, identical_configs_have_no_changes)
{
	const char *c = "sites:\n" SITE("a", "[\"[1] 10.0.0.0/8\"]", "");
	diff_is(c, c, "");
	/* order and the [0] spelling of prefixes do not count */
	diff_is("sites:\n" SITE("a", "[10.0.0.0/8, \"[1] 11.0.0.0/8\"]", ""),
		"sites:\n" SITE("a", "[\"[1] 11.0.0.0/8\", \"[0] 10.0.0.0/8\"]", ""), "");
}

Test(diff, sites_added_and_removed_with_their_prefixes)
{
	diff_is("sites:\n" SITE("a", "[\"[1] 10.0.0.0/8\"]", "")
		    SITE("b", "[\"[1] 11.0.0.0/8\", \"[1] 12.0.0.0/8\"]", ""),
		"sites:\n" SITE("a", "[\"[1] 10.0.0.0/8\"]", "")
		    SITE("c", "[\"[2] 11.0.0.0/8\"]", ""),
		"-site b\n"
		"-prefix b [1] 11.0.0.0/8\n"
		"-prefix b [1] 12.0.0.0/8\n"
		"+site c\n"
		"+prefix c [2] 11.0.0.0/8\n");
}

Test(diff, prefixes_added_and_removed)
{
	diff_is("sites:\n" SITE("a", "[\"[1] 10.0.0.0/8\", \"[1] 11.0.0.0/8\"]", ""),
		"sites:\n" SITE("a", "[\"[1] 12.0.0.0/8\", \"[1] 10.0.0.0/8\"]", ""),
		"~site a 0x2\n"
		"-prefix a [1] 11.0.0.0/8\n"
		"+prefix a [1] 12.0.0.0/8\n");
}

Test(diff, a_moved_prefix_is_withdrawn_before_it_is_added)
{
	diff_is("sites:\n" SITE("a", "[\"[1] 10.0.0.0/8\"]", "")
		    SITE("b", "[\"[1] 11.0.0.0/8\", \"[1] 12.0.0.0/8\"]", ""),
		"sites:\n" SITE("b", "[\"[1] 11.0.0.0/8\"]", "")
		    SITE("a", "[\"[1] 10.0.0.0/8\", \"[1] 12.0.0.0/8\"]", ""),
		"~site a 0x2\n"
		"~site b 0x2\n"
		"-prefix b [1] 12.0.0.0/8\n"
		"+prefix a [1] 12.0.0.0/8\n");
}

Test(diff, site_settings_changed)
{
	diff_is("sites:\n" SITE("a", "[\"[1] 10.0.0.0/8\"]", ""),
		"sites:\n"
		"  - name: a\n"
		"    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: new}]\n"
		"    eid-prefixes: [\"[1] 10.0.0.0/8\"]\n"
		"    accept-more-specifics: true\n"
		"    allowed-rlocs: [192.0.2.0/24]\n"
		"    proxy-reply: true\n"
		"    merge: true\n"
		"    reliable-transport: false\n"
		"    registration-timeout: 60\n",
		"~site a 0xfd\n");
	/* a server default a site inherits changes the site too */
	diff_is("sites:\n" SITE("a", "[\"[1] 10.0.0.0/8\"]", ""),
		"server: {registration-timeout: 60}\n"
		"sites:\n" SITE("a", "[\"[1] 10.0.0.0/8\"]", ""),
		"~site a 0x80\n"
		"~server.registration-timeout\n");
}

Test(diff, settings_say_whether_they_need_a_restart)
{
	diff_is("log: {level: info}\n",
		"server: {port: 4343, keepalive: 20}\nlog: {level: debug}\nmetrics: {}\n",
		"~server.port restart\n"
		"~server.keepalive\n"
		"~metrics restart\n"
		"~log.level\n");
	diff_is("metrics: {listen: 127.0.0.1:1}\ncontrol: {socket: /tmp/a}\n",
		"metrics: {listen: 127.0.0.1:2}\ncontrol: {socket: /tmp/b}\n",
		"~metrics.listen restart\n"
		"~control.socket restart\n");
}

#define SUBSCRIBER(secret)                               \
	"subscribers:\n"                                 \
	"  - name: border\n"                             \
	"    xtr-id: bb000000000000000000000000000001\n" \
	"    keys: [{id: 9, algorithm: hmac-sha-256-128, secret: " secret "}]\n"

Test(diff, the_subscribers_list_is_one_live_setting)
{
	/* the list of mappings compared as a whole (it once read past the snapshot) */
	diff_is("server: {}\n", SUBSCRIBER("a"), "~subscribers\n");
	diff_is(SUBSCRIBER("a"), SUBSCRIBER("b"), "~subscribers\n");
	diff_is(SUBSCRIBER("a"), SUBSCRIBER("a"), "");
	diff_is("sites:\n" SITE("a", "[\"[1] 10.0.0.0/8\"]", ""),
		"sites:\n" SITE("a", "[\"[1] 10.0.0.0/8\"]", "    allow-subscribe: true\n"),
		"~site a 0x100\n");
}

Test(diff, the_callback_can_stop_the_walk)
{
	struct conf *a = load("sites:\n" SITE("a", "[\"[1] 10.0.0.0/8\", \"[1] 11.0.0.0/8\"]", ""));
	struct conf *b = load("log: {}\n");
	struct log l = { .stop_after = 2 };
	cr_assert_eq(conf_diff(a, b, record, &l), 42);
	cr_assert_eq(l.seen, 2);
	cr_assert_str_eq(l.text, "-site a\n-prefix a [1] 10.0.0.0/8\n");
	conf_free(b);
	conf_free(a);
}
