/* SPDX-License-Identifier: MIT */
/*
 * The loader's engine: walks a parsed YAML mapping with a section's schema
 * table and writes typed values into the snapshot, reporting every problem
 * with its file position and key path.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/err.h>

#include "schema.h"

#define SECTION_MAX_ITEMS 32

static void append_line(struct conf_error *e, const char *line)
{
	size_t used = strlen(e->all);
	if (used + strlen(line) + 2 >= sizeof(e->all))
		return;
	snprintf(e->all + used, sizeof(e->all) - used, "%s%s", used ? "\n" : "", line);
}

static void format_at(struct apply *a, unsigned line, unsigned column, const char *path, char *buf,
		      size_t len, const char *text)
{
	char where[64] = "";
	if (line != 0)
		snprintf(where, sizeof(where), ":%u:%u", line, column);
	int n = snprintf(buf, len, "%s%s: %s%s%s", a->name, where, path, path[0] ? ": " : "", text);
	if (n >= (int)len && len > 4)
		memcpy(buf + len - 4, "...", 4); /* say that the message was cut */
}

void apply_error(struct apply *a, const struct doc_node *node, const char *fmt, ...)
{
	unsigned i = a->nerr++;
	if (i >= APPLY_MAX_ERRORS)
		return;
	if (a->msgs == NULL) {
		a->msgs = calloc(APPLY_MAX_ERRORS, sizeof(*a->msgs));
		if (a->msgs == NULL) {
			a->oom = true;
			return;
		}
	}
	struct apply_msg *m = &a->msgs[i];
	m->line = node ? node->line : 0;
	m->column = node ? node->column : 0;
	snprintf(m->path, sizeof(m->path), "%s", a->path);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->text, sizeof(m->text), fmt, ap);
	va_end(ap);
}

static int msg_cmp(const void *x, const void *y)
{
	const struct apply_msg *a = x, *b = y;
	/* errors without a position (the whole file) go last; ties keep their order */
	unsigned la = a->line ? a->line : UINT32_MAX, lb = b->line ? b->line : UINT32_MAX;
	if (la != lb)
		return la < lb ? -1 : 1;
	if (a->column != b->column)
		return a->column < b->column ? -1 : 1;
	return a < b ? -1 : a > b;
}

void apply_finish(struct apply *a, struct conf_error *err)
{
	memset(err, 0, sizeof(*err));
	err->count = a->nerr;
	unsigned kept = a->nerr < APPLY_MAX_ERRORS ? a->nerr : APPLY_MAX_ERRORS;
	if (a->msgs != NULL) {
		qsort(a->msgs, kept, sizeof(*a->msgs), msg_cmp);
		for (unsigned i = 0; i < kept; i++) {
			const struct apply_msg *m = &a->msgs[i];
			char line[LISPMS_CONF_ERR_MSG];
			format_at(a, m->line, m->column, m->path, line, sizeof(line), m->text);
			if (i == 0) {
				snprintf(err->msg, sizeof(err->msg), "%s", line);
				snprintf(err->path, sizeof(err->path), "%s", m->path);
				err->line = m->line;
				err->column = m->column;
			}
			append_line(err, line);
		}
	}
	if (a->nerr > kept) {
		char more[64];
		snprintf(more, sizeof(more), "(%u more errors not shown)", a->nerr - kept);
		append_line(err, more);
	}
	free(a->msgs);
	a->msgs = NULL;
}

void apply_warning(struct apply *a, const struct doc_node *node, const char *fmt, ...)
{
	struct conf *c = a->conf;
	if (c->nwarnings >= APPLY_MAX_WARNINGS)
		return;
	char text[LISPMS_CONF_ERR_MSG];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	char line[LISPMS_CONF_ERR_MSG];
	format_at(a, node ? node->line : 0, node ? node->column : 0, a->path, line, sizeof(line),
		  text);
	if (c->nwarnings == a->warn_cap) {
		size_t cap = a->warn_cap ? a->warn_cap * 2 : 8;
		const char **w = pool_calloc(&c->pool, cap, sizeof(*w));
		if (w == NULL) {
			a->oom = true;
			return;
		}
		if (c->nwarnings)
			memcpy(w, c->warnings, c->nwarnings * sizeof(*w));
		c->warnings = w;
		a->warn_cap = cap;
	}
	const char *copy = pool_strndup(&c->pool, line, strlen(line));
	if (copy == NULL) {
		a->oom = true;
		return;
	}
	c->warnings[c->nwarnings++] = copy;
}

size_t apply_push_key(struct apply *a, const char *key)
{
	size_t old = a->pathlen;
	int n = snprintf(a->path + old, sizeof(a->path) - old, "%s%s", old ? "." : "", key);
	if (n > 0)
		a->pathlen = strnlen(a->path, sizeof(a->path) - 1);
	return old;
}

size_t apply_push_index(struct apply *a, size_t i)
{
	size_t old = a->pathlen;
	int n = snprintf(a->path + old, sizeof(a->path) - old, "[%zu]", i);
	if (n > 0)
		a->pathlen = strnlen(a->path, sizeof(a->path) - 1);
	return old;
}

void apply_pop(struct apply *a, size_t len)
{
	a->pathlen = len;
	a->path[len] = '\0';
}

size_t schema_value_size(const struct schema_item *item)
{
	switch (item->type) {
	case SCHEMA_BOOL:
		return sizeof(bool);
	case SCHEMA_UINT:
		return item->width;
	case SCHEMA_SIZE:
		return sizeof(uint64_t);
	case SCHEMA_STRING:
		return sizeof(const char *);
	case SCHEMA_ENUM:
		return item->width ? item->width : sizeof(int);
	case SCHEMA_IP:
	case SCHEMA_ADDR_PORT:
		return sizeof(struct lisp_addr);
	case SCHEMA_EID_PREFIX:
	case SCHEMA_IP_PREFIX:
		return sizeof(struct eid_prefix);
	case SCHEMA_SECTION:
		return item->section->size;
	}
	return 0;
}

/* Quoted text of a scalar for messages, cut to a readable length. */
static const char *shown(const struct doc_node *n, char *buf, size_t len)
{
	size_t j = 0;
	for (size_t i = 0; i < n->len && j + 5 < len; i++) {
		unsigned char ch = (unsigned char)n->text[i];
		buf[j++] = isprint(ch) ? (char)ch : '?';
		if (i == 40 && n->len > 44) {
			memcpy(buf + j, "...", 3);
			j += 3;
			break;
		}
	}
	buf[j] = '\0';
	return buf;
}

static int want_scalar(struct apply *a, const struct doc_node *n, const char *what)
{
	if (n->kind != DOC_SCALAR) {
		apply_error(a, n, "expected %s, got %s", what, doc_kind_name(n));
		return LISPMS_ECONFIG;
	}
	if (strlen(n->text) != n->len) {
		apply_error(a, n, "expected %s, got text with a NUL character", what);
		return LISPMS_ECONFIG;
	}
	return LISPMS_EOK;
}

static int want_value(struct apply *a, const struct doc_node *n, const char *what)
{
	int ret = want_scalar(a, n, what);
	if (ret == LISPMS_EOK && doc_is_null(n)) {
		apply_error(a, n, "expected %s, got null", what);
		return LISPMS_ECONFIG;
	}
	return ret;
}

static int want_plain(struct apply *a, const struct doc_node *n, const char *what)
{
	int ret = want_value(a, n, what);
	if (ret == LISPMS_EOK && n->quoted) {
		char b[64];
		apply_error(a, n, "expected %s, got the string \"%s\" (write it without quotes)",
			    what, shown(n, b, sizeof(b)));
		return LISPMS_ECONFIG;
	}
	return ret;
}

static void store_uint(void *field, unsigned width, uint64_t v)
{
	switch (width) {
	case 1:
		*(uint8_t *)field = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)field = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)field = (uint32_t)v;
		break;
	default:
		*(uint64_t *)field = v;
		break;
	}
}

/* Decimal digits only; false on anything else or overflow. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	if (len == 0 || len > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int check_range(struct apply *a, const struct schema_item *it, const struct doc_node *n,
		       uint64_t v, bool too_big)
{
	if (too_big || v < it->min || v > it->max) {
		char b[64];
		apply_error(a, n, "%s is out of range (%" PRIu64 "..%" PRIu64 ")",
			    shown(n, b, sizeof(b)), it->min, it->max);
		return LISPMS_ECONFIG;
	}
	return LISPMS_EOK;
}

static int apply_uint(struct apply *a, const struct schema_item *it, const struct doc_node *n,
		      void *field)
{
	int ret = want_plain(a, n, "an integer");
	if (ret != LISPMS_EOK)
		return ret;
	const char *s = n->text;
	size_t len = n->len;
	bool neg = false;
	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		s++;
		len--;
	}
	uint64_t v;
	bool digits = len > 0 && strspn(s, "0123456789") == len;
	if (!digits) {
		char b[64];
		apply_error(a, n, "expected an integer, got \"%s\"", shown(n, b, sizeof(b)));
		return LISPMS_ECONFIG;
	}
	bool too_big = !parse_u64(s, len, &v);
	if (neg && !too_big && v != 0)
		too_big = true; /* below any minimum: all bounds are unsigned */
	ret = check_range(a, it, n, v, too_big);
	if (ret == LISPMS_EOK)
		store_uint(field, it->width, v);
	return ret;
}

static const struct {
	const char *suffix;
	unsigned shift;
} size_units[] = {
	{ "", 0 }, { "B", 0 }, { "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 },
};

static int apply_size(struct apply *a, const struct schema_item *it, const struct doc_node *n,
		      void *field)
{
	int ret = want_plain(a, n, "a size in bytes");
	if (ret != LISPMS_EOK)
		return ret;
	size_t digits = strspn(n->text, "0123456789");
	const char *unit = n->text + digits;
	unsigned shift = 99;
	for (size_t i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++)
		if (strcmp(unit, size_units[i].suffix) == 0)
			shift = size_units[i].shift;
	uint64_t v;
	if (digits == 0 || shift == 99) {
		char b[64];
		apply_error(a, n, "expected a size in bytes (e.g. 4194304 or 4MiB), got \"%s\"",
			    shown(n, b, sizeof(b)));
		return LISPMS_ECONFIG;
	}
	bool too_big = !parse_u64(n->text, digits, &v) || (shift && v > (UINT64_MAX >> shift));
	if (!too_big)
		v <<= shift;
	ret = check_range(a, it, n, v, too_big);
	if (ret == LISPMS_EOK)
		*(uint64_t *)field = v;
	return ret;
}

static int apply_bool(struct apply *a, const struct doc_node *n, void *field)
{
	int ret = want_plain(a, n, "true or false");
	if (ret != LISPMS_EOK)
		return ret;
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	for (int i = 0; i < 3; i++) {
		if (strcmp(n->text, yes[i]) == 0 || strcmp(n->text, no[i]) == 0) {
			*(bool *)field = strcmp(n->text, yes[i]) == 0;
			return LISPMS_EOK;
		}
	}
	char b[64];
	apply_error(a, n, "expected true or false, got \"%s\"", shown(n, b, sizeof(b)));
	return LISPMS_ECONFIG;
}

static int apply_string(struct apply *a, const struct schema_item *it, const struct doc_node *n,
			void *field)
{
	int ret = want_value(a, n, "a string");
	if (ret != LISPMS_EOK)
		return ret;
	if (n->len == 0 && (it->flags & SCHEMA_NONEMPTY)) {
		apply_error(a, n, "must not be empty");
		return LISPMS_ECONFIG;
	}
	if (it->max && n->len > it->max) {
		apply_error(a, n, "longer than %" PRIu64 " bytes", it->max);
		return LISPMS_ECONFIG;
	}
	const char *s = pool_strndup(&a->conf->pool, n->text, n->len);
	if (s == NULL) {
		a->oom = true;
		return LISPMS_ENOMEM;
	}
	*(const char **)field = s;
	return LISPMS_EOK;
}

static int apply_enum(struct apply *a, const struct schema_item *it, const struct doc_node *n,
		      void *field)
{
	int ret = want_value(a, n, "a name");
	if (ret != LISPMS_EOK)
		return ret;
	for (const struct schema_enum *e = it->names; e->name; e++) {
		if (strcmp(n->text, e->name) == 0) {
			if (it->width == 1)
				*(uint8_t *)field = (uint8_t)e->value;
			else
				*(int *)field = e->value;
			return LISPMS_EOK;
		}
	}
	char expected[256] = "";
	size_t used = 0;
	for (const struct schema_enum *e = it->names; e->name; e++) {
		const char *sep = e == it->names ? "" : e[1].name ? ", " : " or ";
		int k = snprintf(expected + used, sizeof(expected) - used, "%s%s", sep, e->name);
		if (k < 0 || (size_t)k >= sizeof(expected) - used)
			break;
		used += (size_t)k;
	}
	char b[64];
	apply_error(a, n, "unknown %s \"%s\" (expected %s)", it->key, shown(n, b, sizeof(b)),
		    expected);
	return LISPMS_ECONFIG;
}

static bool parse_ip(const char *text, struct lisp_addr *out)
{
	struct lisp_addr x;
	if (lisp_addr_parse(text, &x) != LISPMS_EOK)
		return false;
	if (x.afi != LISP_AFI_IPV4 && x.afi != LISP_AFI_IPV6)
		return false;
	*out = x;
	return true;
}

static int apply_ip(struct apply *a, const struct doc_node *n, void *field)
{
	int ret = want_value(a, n, "an address");
	if (ret != LISPMS_EOK)
		return ret;
	if (!parse_ip(n->text, field)) {
		char b[64];
		apply_error(a, n, "\"%s\" is not an IPv4 or IPv6 address", shown(n, b, sizeof(b)));
		return LISPMS_ECONFIG;
	}
	return LISPMS_EOK;
}

/* "192.0.2.1:9342", "[2001:db8::1]:9342", or "addr@port". */
static bool parse_addr_port(const char *text, struct lisp_addr *addr, uint16_t *port)
{
	char host[64];
	const char *p;
	size_t hlen;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || close[1] != ':')
			return false;
		hlen = (size_t)(close - text - 1);
		memcpy(host, text + 1, hlen < sizeof(host) ? hlen : 0);
		p = close + 2;
	} else {
		const char *sep = strrchr(text, '@');
		if (sep == NULL) {
			sep = strrchr(text, ':');
			/* a bare IPv6 address has more than one colon: it needs brackets */
			if (sep == NULL || memchr(text, ':', (size_t)(sep - text)) != NULL)
				return false;
		}
		hlen = (size_t)(sep - text);
		memcpy(host, text, hlen < sizeof(host) ? hlen : 0);
		p = sep + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	host[hlen] = '\0';
	uint64_t v;
	if (!parse_u64(p, strlen(p), &v) || v == 0 || v > 65535)
		return false;
	struct lisp_addr x;
	if (!parse_ip(host, &x))
		return false;
	*addr = x;
	*port = (uint16_t)v;
	return true;
}

static int apply_addr_port(struct apply *a, const struct schema_item *it, const struct doc_node *n,
			   void *obj)
{
	int ret = want_value(a, n, "an address:port");
	if (ret != LISPMS_EOK)
		return ret;
	if (!parse_addr_port(n->text, (struct lisp_addr *)((char *)obj + it->offset),
			     (uint16_t *)((char *)obj + it->aux_offset))) {
		char b[64];
		apply_error(a, n,
			    "\"%s\" is not an address:port with a port 1..65535 "
			    "(e.g. 127.0.0.1:9342 or [::1]:9342)",
			    shown(n, b, sizeof(b)));
		return LISPMS_ECONFIG;
	}
	return LISPMS_EOK;
}

/*
 * Does the text of prefix p (parsed, so its host bits are already cleared)
 * name an address with bits past its length? Parsed again without the
 * length, the address keeps them.
 */
static bool has_host_bits(const char *text, const struct eid_prefix *p)
{
	char addr[128];
	const char *slash = strrchr(text, '/');
	size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (n >= sizeof(addr))
		return false;
	memcpy(addr, text, n);
	addr[n] = '\0';
	struct eid_prefix full;
	if (eid_prefix_parse(addr, &full) != LISPMS_EOK)
		return false;
	return memcmp(full.bytes, p->bytes, sizeof(full.bytes)) != 0;
}

static int apply_prefix(struct apply *a, const struct schema_item *it, const struct doc_node *n,
			void *field)
{
	bool eid = it->type == SCHEMA_EID_PREFIX;
	int ret = want_value(a, n, eid ? "an EID prefix" : "an IP prefix");
	if (ret != LISPMS_EOK)
		return ret;
	struct eid_prefix p;
	char b[64];
	if (eid_prefix_parse(n->text, &p) != LISPMS_EOK) {
		if (eid)
			apply_error(a, n,
				    "bad EID prefix \"%s\" (expected \"[IID] address/length\")",
				    shown(n, b, sizeof(b)));
		else
			apply_error(a, n, "bad IP prefix \"%s\" (expected address/length)",
				    shown(n, b, sizeof(b)));
		return LISPMS_ECONFIG;
	}
	if (!eid && (!p.plain || (p.afi != LISP_AFI_IPV4 && p.afi != LISP_AFI_IPV6))) {
		apply_error(a, n, "\"%s\" is not an IPv4 or IPv6 prefix (no [IID], no MAC)",
			    shown(n, b, sizeof(b)));
		return LISPMS_ECONFIG;
	}
	if (eid && has_host_bits(n->text, &p)) {
		char used[LISPMS_EID_STRLEN];
		if (eid_prefix_format(&p, used, sizeof(used)) != LISPMS_EOK)
			snprintf(used, sizeof(used), "?");
		apply_warning(a, n, "EID prefix \"%s\" has host bits set; it is used as %s",
			      shown(n, b, sizeof(b)), used);
	}
	*(struct eid_prefix *)field = p;
	return LISPMS_EOK;
}

/* One value (a list element for lists); `obj` is the enclosing object for ADDR_PORT. */
static int apply_one(struct apply *a, const struct schema_item *it, const struct doc_node *n,
		     void *field, void *obj)
{
	switch (it->type) {
	case SCHEMA_BOOL:
		return apply_bool(a, n, field);
	case SCHEMA_UINT:
		return apply_uint(a, it, n, field);
	case SCHEMA_SIZE:
		return apply_size(a, it, n, field);
	case SCHEMA_STRING:
		return apply_string(a, it, n, field);
	case SCHEMA_ENUM:
		return apply_enum(a, it, n, field);
	case SCHEMA_IP:
		return apply_ip(a, n, field);
	case SCHEMA_ADDR_PORT:
		return apply_addr_port(a, it, n, obj);
	case SCHEMA_EID_PREFIX:
	case SCHEMA_IP_PREFIX:
		return apply_prefix(a, it, n, field);
	case SCHEMA_SECTION:
		if (n->kind != DOC_MAP && !doc_is_null(n)) {
			apply_error(a, n, "expected a mapping, got %s", doc_kind_name(n));
			return LISPMS_ECONFIG;
		}
		return apply_section(a, it->section, n, field);
	}
	return LISPMS_EINTERNAL;
}

static int apply_list(struct apply *a, const struct schema_item *it, const struct doc_node *n,
		      void *obj)
{
	const struct doc_node *const *items;
	size_t count;
	const struct doc_node *one = n;
	if (n->kind == DOC_SEQ) {
		items = (const struct doc_node *const *)n->items;
		count = n->n;
	} else if (doc_is_null(n)) {
		items = NULL;
		count = 0;
	} else if (n->kind == DOC_SCALAR && it->type != SCHEMA_SECTION) {
		items = &one; /* a single value is a list of one */
		count = 1;
	} else {
		apply_error(a, n, "expected a list, got %s", doc_kind_name(n));
		return LISPMS_ECONFIG;
	}
	if (count == 0 && (it->flags & SCHEMA_NONEMPTY)) {
		apply_error(a, n, "must not be empty");
		return LISPMS_ECONFIG;
	}
	size_t sz = schema_value_size(it);
	unsigned char *arr = NULL;
	if (count > 0) {
		arr = pool_calloc(&a->conf->pool, count, sz);
		if (arr == NULL) {
			a->oom = true;
			return LISPMS_ENOMEM;
		}
	}
	int ret = LISPMS_EOK;
	for (size_t i = 0; i < count && !a->oom; i++) {
		size_t mark = apply_push_index(a, i);
		int r = apply_one(a, it, items[i], arr + i * sz, arr + i * sz);
		if (r != LISPMS_EOK)
			ret = r;
		apply_pop(a, mark);
	}
	*(void **)((char *)obj + it->offset) = arr;
	*(size_t *)((char *)obj + it->aux_offset) = count;
	return ret;
}

static int apply_item(struct apply *a, const struct schema_item *it, const struct doc_node *n,
		      void *obj)
{
	if (it->flags & SCHEMA_LIST)
		return apply_list(a, it, n, obj);
	return apply_one(a, it, n, (char *)obj + it->offset, obj);
}

static int apply_default(struct apply *a, const struct schema_item *it, void *obj)
{
	if (it->def_fn != NULL) {
		it->def_fn(a, (char *)obj + it->offset);
		return LISPMS_EOK;
	}
	if (it->def == NULL) {
		if (it->type == SCHEMA_SECTION && !(it->flags & (SCHEMA_LIST | SCHEMA_ABSENT_ZERO)))
			return apply_section(a, it->section, NULL, (char *)obj + it->offset);
		return LISPMS_EOK;
	}
	struct doc d;
	struct doc_err derr;
	int ret = doc_load(it->def, strlen(it->def), &d, &derr);
	if (ret != LISPMS_EOK) {
		apply_error(a, NULL, "internal: bad default \"%s\"", it->def);
		return LISPMS_EINTERNAL;
	}
	ret = apply_item(a, it, d.root, obj);
	doc_free(&d);
	return ret;
}

static unsigned edit_distance(const char *x, const char *y)
{
	size_t lx = strlen(x), ly = strlen(y);
	if (lx > 40 || ly > 40)
		return 99;
	unsigned row[41];
	for (size_t j = 0; j <= ly; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= lx; i++) {
		unsigned diag = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= ly; j++) {
			unsigned up = row[j];
			unsigned best = diag + (x[i - 1] != y[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[ly];
}

static void unknown_key(struct apply *a, const struct schema_section *s, const struct doc_node *k)
{
	const char *best = NULL;
	unsigned best_d = 3;
	for (const struct schema_item *it = s->items; it->key; it++) {
		unsigned d = edit_distance(k->text, it->key);
		if (d < best_d) {
			best_d = d;
			best = it->key;
		}
	}
	if (best != NULL) {
		apply_error(a, k, "unknown key (did you mean \"%s\"?)", best);
		return;
	}
	char expected[256] = "";
	size_t used = 0;
	for (const struct schema_item *it = s->items; it->key; it++) {
		int n = snprintf(expected + used, sizeof(expected) - used, "%s%s", used ? ", " : "",
				 it->key);
		if (n < 0 || (size_t)n >= sizeof(expected) - used)
			break;
		used += (size_t)n;
	}
	apply_error(a, k, "unknown key (expected one of %s)", expected);
}

int apply_section(struct apply *a, const struct schema_section *s, const struct doc_node *map,
		  void *obj)
{
	/* for each item, the index + 1 of its pair in the mapping */
	size_t pair[SECTION_MAX_ITEMS] = { 0 };
	unsigned errors = a->nerr;
	const struct doc_node *at = map; /* where a missing key is reported */
	if (map != NULL && s->has_present)
		*(bool *)((char *)obj + s->present_offset) = true;
	if (map != NULL && map->kind != DOC_MAP)
		map = NULL; /* null: an empty mapping */

	for (size_t i = 0; map != NULL && i < map->n; i++) {
		const struct doc_node *k = map->items[2 * i];
		size_t idx = 0;
		const struct schema_item *it = s->items;
		while (it->key && strcmp(it->key, k->text) != 0) {
			it++;
			idx++;
		}
		size_t mark = apply_push_key(a, k->text);
		if (it->key == NULL || idx >= SECTION_MAX_ITEMS)
			unknown_key(a, s, k);
		else if (pair[idx] != 0)
			apply_error(a, k, "duplicate key (first at line %u)",
				    map->items[2 * (pair[idx] - 1)]->line);
		else
			pair[idx] = i + 1;
		apply_pop(a, mark);
	}

	/* table order, not file order: later items may default from earlier ones */
	size_t idx = 0;
	for (const struct schema_item *it = s->items; it->key && !a->oom; it++, idx++) {
		size_t mark = apply_push_key(a, it->key);
		if (idx < SECTION_MAX_ITEMS && pair[idx] != 0) {
			const struct doc_node *k = map->items[2 * (pair[idx] - 1)];
			const struct doc_node *v = map->items[2 * (pair[idx] - 1) + 1];
			/* a failed gate has reported why; the value is not read */
			bool open = it->gate == NULL || it->gate(a, it, k, obj) == LISPMS_EOK;
			if (open && apply_item(a, it, v, obj) == LISPMS_EOK && it->check != NULL)
				it->check(a, it, v, obj);
		} else if (it->flags & SCHEMA_REQUIRED) {
			apply_pop(a, mark);
			apply_error(a, at, "missing key \"%s\"", it->key);
		} else {
			apply_default(a, it, obj);
		}
		apply_pop(a, mark);
	}
	if (a->oom)
		return LISPMS_ENOMEM;
	if (a->nerr != errors)
		return LISPMS_ECONFIG;
	if (s->check != NULL)
		return s->check(a, NULL, map, obj);
	return LISPMS_EOK;
}

static bool value_equal(const struct schema_item *it, const void *x, const void *y)
{
	switch (it->type) {
	case SCHEMA_STRING: {
		const char *sx = *(const char *const *)x, *sy = *(const char *const *)y;
		if (sx == NULL || sy == NULL)
			return sx == sy;
		return strcmp(sx, sy) == 0;
	}
	case SCHEMA_SECTION:
		return schema_section_equal(it->section, x, y);
	default:
		return memcmp(x, y, schema_value_size(it)) == 0;
	}
}

bool schema_item_equal(const struct schema_item *it, const void *a, const void *b)
{
	const char *x = (const char *)a + it->offset, *y = (const char *)b + it->offset;
	if (it->flags & SCHEMA_LIST) {
		size_t n = *(const size_t *)((const char *)a + it->aux_offset);
		if (n != *(const size_t *)((const char *)b + it->aux_offset))
			return false;
		const char *ax = *(const char *const *)x, *ay = *(const char *const *)y;
		size_t sz = schema_value_size(it);
		for (size_t i = 0; i < n; i++)
			if (!value_equal(it, ax + i * sz, ay + i * sz))
				return false;
		return true;
	}
	if (it->type == SCHEMA_ADDR_PORT &&
	    memcmp((const char *)a + it->aux_offset, (const char *)b + it->aux_offset,
		   sizeof(uint16_t)) != 0)
		return false;
	return value_equal(it, x, y);
}

bool schema_section_equal(const struct schema_section *s, const void *a, const void *b)
{
	if (s->has_present && *(const bool *)((const char *)a + s->present_offset) !=
				  *(const bool *)((const char *)b + s->present_offset))
		return false;
	for (const struct schema_item *it = s->items; it->key; it++)
		if (!schema_item_equal(it, a, b))
			return false;
	return true;
}
