/* SPDX-License-Identifier: MIT */
/*
 * The DPDK UDP fast path. This header is the same whether or not lispms was
 * built with DPDK: without it, src/fastpath/fastpath_stub.c answers every
 * call with LISPMS_ENOTSUP (fastpath_new() returns NULL and says "built
 * without DPDK") and fastpath_available() is false, so call sites compile
 * the same way in both builds and no #ifdef leaves src/fastpath.
 *
 * One fast path drives one port with `queues` RX/TX queue pairs, one
 * polling thread ("lcore") per pair, registered in the thread registry
 * (counter row, arena, RCU reader; a quiescent state per poll loop under
 * qsbr). Like a kernel worker, it is given a datagram handler and, per
 * queue, its argument (in lispmsd: ms_handle_batch and one more
 * request-core worker's struct ms_thread each), hands it the UDP payloads
 * for the configured addresses and port, and sends the outbox as frames
 * out of the same port. The fast path knows nothing of the request core.
 *
 * Threads: fastpath_new/start/stop/free on the control thread, in that
 * order; fastpath_available() and fastpath_version() from any thread.
 * Ownership: fastpath_start() borrows the handler's arguments until
 * fastpath_stop().
 * Errors: NULL from fastpath_new() with the reason in err; LISPMS_ENOMEM,
 * LISPMS_ENOTSUP.
 */
#pragma once

#ifndef LISPMS_USES_FASTPATH
#error "fastpath.h: this subsystem does not declare fastpath as a dependency"
#endif

#include <stdbool.h>
#include <stddef.h>

#include <lispms/conf.h>
#include <lispms/dgram.h>

struct fastpath;

/* True when this binary was built with the DPDK fast path. */
bool fastpath_available(void);

/* "DPDK <version>" when built with DPDK, else "not built". */
const char *fastpath_version(void);

/*
 * Initialise the EAL (once per process: a second fast path in the same
 * process is refused) and the port of the `fastpath:` section with
 * c->queues queue pairs; port->port is a PCI address or a virtual device.
 * The calling thread's CPU affinity is kept (the EAL would pin it).
 */
struct fastpath *fastpath_new(const struct conf_fastpath *c, uint16_t udp_port, char *err,
			      size_t errlen);

/*
 * Start the lcores: queue q's datagrams go to handler(args[q], ...), run on
 * its lcore inside one RCU read-side section per burst. args holds
 * fastpath_queues(fp) arguments (the array is copied, the arguments are
 * borrowed until fastpath_stop).
 */
int fastpath_start(struct fastpath *fp, dgram_batch_fn *handler, void *const *args);

/* Number of lcores (queue pairs). */
unsigned fastpath_queues(const struct fastpath *fp);

/* Stop and join the lcores (after their last burst went out). */
void fastpath_stop(struct fastpath *fp);

/* Stop, close the port (a net_pcap tx file is complete after this), free. */
void fastpath_free(struct fastpath *fp);
