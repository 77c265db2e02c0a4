/* SPDX-License-Identifier: MIT */
/*
 * lispmsctl: ask a running lispmsd over its control socket. The commands,
 * their arguments and their help come from the table both sides share
 * (include/lispms/ctl.h); lispmsd renders the answer (a text table, or
 * JSON with --json) and this tool relays it.
 *
 * Exit status: 0 done, 1 lispmsd refused or could not be reached, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <getopt.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <lispms/conf.h>
#include <lispms/ctl.h>
#include <lispms/err.h>

#include "config.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: lispmsctl [-s SOCKET | -c CONFIG] [--json] [-t SECONDS] COMMAND [ARGS]\n"
		   "  -s, --socket SOCKET  lispmsd's control socket (default: control.socket of\n"
		   "                       -c CONFIG, else " LISPMS_CTL_DEFAULT_SOCKET ")\n"
		   "  -c, --config FILE    take the socket from this configuration\n"
		   "  -j, --json           answer in JSON (for scripts)\n"
		   "  -t, --timeout SEC    give up when lispmsd is silent this long (default 60)\n"
		   "  -V, --version        print the version\n"
		   "  -h, --help           this help\n"
		   "\ncommands:\n");
	for (unsigned i = 0; i < CTL_CMD__COUNT; i++) {
		const struct ctl_cmd *c = &ctl_commands[i];
		char head[64];
		snprintf(head, sizeof(head), "%s%s%s", c->name, c->usage[0] ? " " : "", c->usage);
		if (strlen(head) > 30)
			fprintf(f, "  %s\n  %-30s  %s\n", head, "", c->help);
		else
			fprintf(f, "  %-30s  %s\n", head, c->help);
	}
}

/* control.socket of a configuration file; NULL (and a message) when it cannot be read. */
static char *socket_of(const char *path)
{
	struct conf_options opts = { .fastpath_available = true }; /* any build's file */
	struct conf *c = NULL;
	struct conf_error err;
	if (conf_load_file(path, &opts, &c, &err) != LISPMS_EOK) {
		fprintf(stderr, "lispmsctl: cannot take the socket from %s: %s\n", path, err.msg);
		return NULL;
	}
	char *s = strdup(conf_control(c)->socket);
	conf_free(c);
	return s;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "lispmsctl: socket path %s is too long\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	int e = errno;
	if (fd >= 0)
		close(fd);
	const char *hint = e == EACCES || e == EPERM
			       ? "run it as root or as a member of lispmsd's group"
			       : "is lispmsd running?";
	fprintf(stderr, "lispmsctl: cannot connect to %s (%s): %s\n", path, strerror(e), hint);
	return -1;
}

static bool send_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Relay DATA to stdout until END; the exit status. */
static int relay(int fd, bool json, int timeout_s)
{
	static uint8_t buf[2 * (LISPMS_CTL_HDR + LISPMS_CTL_DATA_MAX)];
	size_t have = 0;
	for (;;) {
		struct ctl_frame f;
		size_t used;
		int ret = ctl_frame_decode(buf, have, &f, &used);
		if (ret == LISPMS_EOK) {
			if (f.type == CTL_FRAME_DATA) {
				if (fwrite(f.payload, 1, f.len, stdout) != f.len)
					return 1;
			} else if (f.type == CTL_FRAME_END) {
				int status;
				const char *msg;
				size_t mlen;
				if (ctl_end_decode(&f, &status, &msg, &mlen) != LISPMS_EOK)
					break;
				fflush(stdout);
				if (status != 0) {
					fprintf(stderr, "lispmsctl: %.*s\n", (int)mlen, msg);
					return 1;
				}
				if (mlen > 0)
					fprintf(json ? stderr : stdout, "%.*s\n", (int)mlen, msg);
				return 0;
			} else {
				break;
			}
			memmove(buf, buf + used, have - used);
			have -= used;
			continue;
		}
		if (ret != LISPMS_EAGAIN)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, timeout_s * 1000);
		if (n == 0) {
			fflush(stdout);
			fprintf(stderr, "lispmsctl: no answer from lispmsd within %d s\n",
				timeout_s);
			return 1;
		}
		if (n < 0 && errno == EINTR)
			continue;
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fflush(stdout);
			fprintf(stderr, "lispmsctl: lispmsd closed the connection before the end "
					"of its answer\n");
			return 1;
		}
		have += (size_t)r;
	}
	fflush(stdout);
	fprintf(stderr, "lispmsctl: lispmsd sent something this lispmsctl does not understand\n");
	return 1;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *config = NULL;
	bool json = false;
	int timeout = 60;
	static const struct option opts[] = { { "socket", required_argument, NULL, 's' },
					      { "config", required_argument, NULL, 'c' },
					      { "json", no_argument, NULL, 'j' },
					      { "timeout", required_argument, NULL, 't' },
					      { "version", no_argument, NULL, 'V' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	int opt;
	/* '+': stop at the command, whose own --options belong to it */
	while ((opt = getopt_long(argc, argv, "+s:c:jt:Vh", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			sock = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 't':
			timeout = atoi(optarg);
			if (timeout <= 0 || timeout > 86400) {
				fprintf(stderr, "lispmsctl: --timeout wants 1..86400 seconds\n");
				return 2;
			}
			break;
		case 'V':
			printf("lispmsctl %s\n", LISPMS_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	unsigned nargs = (unsigned)(argc - optind);
	const char *const *args = (const char *const *)argv + optind;
	if (nargs == 0) {
		usage(stderr);
		return 2;
	}
	unsigned words;
	const struct ctl_cmd *cmd = ctl_cmd_match(nargs, args, &words);
	if (cmd == NULL) {
		fprintf(stderr, "lispmsctl: unknown command \"%s\" (lispmsctl --help lists them)\n",
			args[0]);
		return 2;
	}
	if (nargs - words < cmd->min_args || nargs - words > cmd->max_args) {
		fprintf(stderr, "usage: lispmsctl %s%s%s\n       %s\n", cmd->name,
			cmd->usage[0] ? " " : "", cmd->usage, cmd->help);
		return 2;
	}

	char *from_conf = NULL;
	if (sock == NULL && config != NULL) {
		from_conf = socket_of(config);
		if (from_conf == NULL)
			return 1;
		sock = from_conf;
	}
	if (sock == NULL)
		sock = LISPMS_CTL_DEFAULT_SOCKET;
	uint8_t req[LISPMS_CTL_HDR + LISPMS_CTL_REQUEST_MAX];
	size_t len;
	if (ctl_request_encode(args, nargs, json, req, sizeof(req), &len) != LISPMS_EOK) {
		fprintf(stderr, "lispmsctl: the arguments are too long\n");
		free(from_conf);
		return 2;
	}
	int fd = connect_to(sock);
	int status = 1;
	if (fd >= 0) {
		if (send_all(fd, req, len))
			status = relay(fd, json, timeout);
		else
			fprintf(stderr, "lispmsctl: cannot send to %s (%s)\n", sock,
				strerror(errno));
		close(fd);
	}
	free(from_conf);
	return status;
}
