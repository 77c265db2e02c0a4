/* SPDX-License-Identifier: MIT */
/*
 * Error codes shared by every subsystem.
 *
 * Functions return LISPMS_EOK (0) or a negative code: errno values are mapped
 * one to one (LISPMS_ENOMEM == -ENOMEM), project codes run from -1000 down.
 *
 * Threads: everything here is pure and callable from any thread.
 */
#pragma once

#include <errno.h>

enum lispms_err {
	LISPMS_EOK = 0,

	LISPMS_ENOMEM = -ENOMEM,
	LISPMS_EINVAL = -EINVAL,
	LISPMS_ENOENT = -ENOENT,
	LISPMS_EEXIST = -EEXIST,
	LISPMS_EAGAIN = -EAGAIN,
	LISPMS_ENOSPC = -ENOSPC,
	LISPMS_EBUSY = -EBUSY,
	LISPMS_ERANGE = -ERANGE,
	LISPMS_EACCES = -EACCES,
	LISPMS_EADDRINUSE = -EADDRINUSE,
	LISPMS_ECONNRESET = -ECONNRESET,
	LISPMS_ETIMEDOUT = -ETIMEDOUT,
	LISPMS_ECONNREFUSED = -ECONNREFUSED,

	/* project codes; keep err.c's table in the same order */
	LISPMS_ERROR_BASE = -1000,
	LISPMS_EMALFORMED = -1000, /* input does not follow the wire format */
	LISPMS_ETRUNC = -1001,	   /* input ends before a field it announces */
	LISPMS_EAFI = -1002,	   /* unknown or unsupported address family */
	LISPMS_ELCAF = -1003,	   /* bad LCAF length or nesting */
	LISPMS_ETOOMANY = -1004,   /* more records, locators or items than allowed */
	LISPMS_EAUTHLEN = -1005,   /* authentication data length not accepted */
	LISPMS_EMARKER = -1006,	   /* reliable-transport end marker wrong */
	LISPMS_EAUTH = -1007,	   /* authentication data does not verify */
	LISPMS_ENOKEY = -1008,	   /* no key with that Key ID / algorithm */
	LISPMS_ENOSITE = -1009,	   /* no site owns that prefix */
	LISPMS_ENOTSUP = -1010,	   /* feature not built or not supported */
	LISPMS_EPREFIX = -1011,	   /* prefix not allowed */
	LISPMS_ERLOC = -1012,	   /* locator not allowed */
	LISPMS_ECONFIG = -1013,	   /* configuration invalid */
	LISPMS_ELIMIT = -1014,	   /* resource limit reached */
	LISPMS_ETYPE = -1015,	   /* unknown message type */
	LISPMS_ELENGTH = -1016,	   /* length field out of range */
	LISPMS_ESTATE = -1017,	   /* message unexpected in this state */
	LISPMS_EINTERNAL = -1018,  /* internal invariant failed */
	LISPMS_ERROR_LAST = -1018,
};

/* Text for an error code; never NULL, "unknown error" for codes not listed. */
const char *err_str(int code);
