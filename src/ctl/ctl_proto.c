/* SPDX-License-Identifier: MIT */
/* The control-socket frames and the command table (shared with lispmsctl). */
#include <string.h>

#include <lispms/ctl.h>
#include <lispms/err.h>

const struct ctl_cmd ctl_commands[CTL_CMD__COUNT] = {
#define LISPMS_CTL_ROW(ID, n, u, mn, mx, fl, h) \
	[CTL_CMD_##ID] = { .id = CTL_CMD_##ID,  \
			   .name = n,           \
			   .usage = u,          \
			   .min_args = mn,      \
			   .max_args = mx,      \
			   .flags = fl,         \
			   .help = h },
	LISPMS_CTL_COMMANDS(LISPMS_CTL_ROW)
#undef LISPMS_CTL_ROW
};

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void ctl_frame_header(uint8_t hdr[LISPMS_CTL_HDR], enum ctl_frame_type type, uint8_t flags,
		      uint32_t len)
{
	hdr[0] = 'L';
	hdr[1] = 'C';
	hdr[2] = (uint8_t)type;
	hdr[3] = flags;
	put32(hdr + 4, len);
}

int ctl_frame_decode(const uint8_t *buf, size_t len, struct ctl_frame *out, size_t *used)
{
	if (len >= 1 && buf[0] != 'L')
		return LISPMS_EMALFORMED;
	if (len >= 2 && buf[1] != 'C')
		return LISPMS_EMALFORMED;
	if (len < LISPMS_CTL_HDR)
		return LISPMS_EAGAIN;
	uint32_t plen = get32(buf + 4);
	uint32_t max;
	switch (buf[2]) {
	case CTL_FRAME_REQUEST:
		max = LISPMS_CTL_REQUEST_MAX;
		break;
	case CTL_FRAME_DATA:
	case CTL_FRAME_END:
		max = LISPMS_CTL_DATA_MAX;
		break;
	default:
		return LISPMS_EMALFORMED;
	}
	if (plen > max)
		return LISPMS_EMALFORMED;
	if (len - LISPMS_CTL_HDR < plen)
		return LISPMS_EAGAIN;
	out->type = (enum ctl_frame_type)buf[2];
	out->flags = buf[3];
	out->len = plen;
	out->payload = buf + LISPMS_CTL_HDR;
	*used = LISPMS_CTL_HDR + plen;
	return LISPMS_EOK;
}

int ctl_request_decode(const struct ctl_frame *f, struct ctl_request *out)
{
	if (f->type != CTL_FRAME_REQUEST || f->len == 0 || f->payload[f->len - 1] != '\0')
		return LISPMS_EMALFORMED;
	struct ctl_request r = { .json = (f->flags & CTL_FLAG_JSON) != 0 };
	size_t i = 0;
	while (i < f->len) {
		if (r.argc == LISPMS_CTL_ARGS_MAX)
			return LISPMS_ETOOMANY;
		const char *arg = (const char *)f->payload + i;
		r.argv[r.argc++] = arg;
		i += strlen(arg) + 1; /* the payload ends in a NUL: strlen stays inside */
	}
	*out = r;
	return LISPMS_EOK;
}

int ctl_request_encode(const char *const *argv, unsigned argc, bool json, uint8_t *buf, size_t cap,
		       size_t *len)
{
	if (argc == 0 || argc > LISPMS_CTL_ARGS_MAX)
		return argc == 0 ? LISPMS_EINVAL : LISPMS_ENOSPC;
	size_t n = 0;
	for (unsigned i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	if (n > LISPMS_CTL_REQUEST_MAX || LISPMS_CTL_HDR + n > cap)
		return LISPMS_ENOSPC;
	ctl_frame_header(buf, CTL_FRAME_REQUEST, json ? CTL_FLAG_JSON : 0, (uint32_t)n);
	size_t at = LISPMS_CTL_HDR;
	for (unsigned i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		memcpy(buf + at, argv[i], l);
		at += l;
	}
	*len = at;
	return LISPMS_EOK;
}

int ctl_end_decode(const struct ctl_frame *f, int *status, const char **msg, size_t *msg_len)
{
	if (f->type != CTL_FRAME_END || f->len < 4)
		return LISPMS_EMALFORMED;
	*status = (int)(int32_t)get32(f->payload);
	*msg = (const char *)f->payload + 4;
	*msg_len = f->len - 4;
	return LISPMS_EOK;
}

const struct ctl_cmd *ctl_cmd_match(unsigned argc, const char *const *argv, unsigned *words)
{
	if (argc == 0)
		return NULL;
	for (unsigned i = 0; i < CTL_CMD__COUNT; i++) {
		const struct ctl_cmd *c = &ctl_commands[i];
		const char *space = strchr(c->name, ' ');
		if (space == NULL) {
			if (strcmp(argv[0], c->name) == 0) {
				*words = 1;
				return c;
			}
			continue;
		}
		size_t first = (size_t)(space - c->name);
		if (argc >= 2 && strlen(argv[0]) == first &&
		    strncmp(argv[0], c->name, first) == 0 && strcmp(argv[1], space + 1) == 0) {
			*words = 2;
			return c;
		}
	}
	return NULL;
}
