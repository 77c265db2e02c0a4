/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <lispms/err.h>

static const char *const project_str[] = {
	"malformed message",	      /* EMALFORMED */
	"truncated message",	      /* ETRUNC */
	"unsupported address family", /* EAFI */
	"bad LCAF",		      /* ELCAF */
	"too many items",	      /* ETOOMANY */
	"bad authentication length",  /* EAUTHLEN */
	"bad end marker",	      /* EMARKER */
	"authentication failed",      /* EAUTH */
	"unknown key",		      /* ENOKEY */
	"no such site",		      /* ENOSITE */
	"not supported",	      /* ENOTSUP */
	"prefix not allowed",	      /* EPREFIX */
	"locator not allowed",	      /* ERLOC */
	"invalid configuration",      /* ECONFIG */
	"resource limit reached",     /* ELIMIT */
	"unknown message type",	      /* ETYPE */
	"bad length",		      /* ELENGTH */
	"unexpected in this state",   /* ESTATE */
	"internal error",	      /* EINTERNAL */
};

_Static_assert(sizeof(project_str) / sizeof(project_str[0]) ==
		   LISPMS_ERROR_BASE - LISPMS_ERROR_LAST + 1,
	       "err.c: one string per project error code");

const char *err_str(int code)
{
	if (code == LISPMS_EOK)
		return "ok";
	if (code <= LISPMS_ERROR_BASE && code >= LISPMS_ERROR_LAST)
		return project_str[LISPMS_ERROR_BASE - code];
	if (code < 0 && code > -4096)
		return strerror(-code);
	return "unknown error";
}
