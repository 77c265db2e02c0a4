/* SPDX-License-Identifier: MIT */
/*
 * A small pcap writer for tests: Ethernet + IPv4 + UDP or TCP frames around
 * a payload, with correct lengths and checksums, so an independent decoder
 * (tshark) can read what the codec wrote.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pcap {
	FILE *f;
	unsigned frames;
	uint32_t usec; /* timestamps advance 1 ms per frame */
};

/* Create `path` with a pcap header (link type Ethernet). 0 or -1 (errno set). */
int pcap_open(struct pcap *p, const char *path);
/* Flush and close; 0 or -1. */
int pcap_close(struct pcap *p);

/* A whole Ethernet frame as it is. 0 or -1. */
int pcap_frame(struct pcap *p, const uint8_t *frame, size_t len);

/* One frame each; addresses are IPv4 in network order. 0 or -1. */
int pcap_udp(struct pcap *p, const uint8_t src[4], const uint8_t dst[4], uint16_t sport,
	     uint16_t dport, const void *payload, size_t len);
#define PCAP_TCP_PSH_ACK 0x18
int pcap_tcp(struct pcap *p, const uint8_t src[4], const uint8_t dst[4], uint16_t sport,
	     uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, const void *payload,
	     size_t len);
