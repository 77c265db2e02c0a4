/* SPDX-License-Identifier: MIT */
/*
 * The DPDK UDP fast path. This header is the same whether or not lispms was
 * built with DPDK: without it, src/fastpath/fastpath_stub.c answers every
 * call with LISPMS_ENOTSUP and fastpath_available() is false, so call sites
 * compile the same way in both builds and no #ifdef leaves src/fastpath.
 *
 * Threads: fastpath_available() and fastpath_version() from any thread.
 */
#pragma once

#ifndef LISPMS_USES_FASTPATH
#error "fastpath.h: this subsystem does not declare fastpath as a dependency"
#endif

#include <stdbool.h>

/* True when this binary was built with the DPDK fast path. */
bool fastpath_available(void);

/* "DPDK <version>" when built with DPDK, else "not built". */
const char *fastpath_version(void);
