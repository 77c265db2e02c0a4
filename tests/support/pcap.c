/* SPDX-License-Identifier: MIT */
#include "pcap.h"

#include <string.h>

#include <lispms/inet.h>

#define ETH_LEN	  14
#define IPV4_LEN  INET_IPV4_HDR_LEN
#define UDP_LEN	  INET_UDP_HDR_LEN
#define TCP_LEN	  20
#define MAX_FRAME 65600

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Native-endian writes: the magic tells readers the byte order. */
static int write_u32(FILE *f, uint32_t v)
{
	return fwrite(&v, 4, 1, f) == 1 ? 0 : -1;
}

int pcap_open(struct pcap *p, const char *path)
{
	memset(p, 0, sizeof(*p));
	p->f = fopen(path, "wb");
	if (p->f == NULL)
		return -1;
	uint16_t ver[2] = { 2, 4 };
	if (write_u32(p->f, 0xa1b2c3d4u) || fwrite(ver, 2, 2, p->f) != 2 || write_u32(p->f, 0) ||
	    write_u32(p->f, 0) || write_u32(p->f, 65535) || write_u32(p->f, 1)) {
		fclose(p->f);
		p->f = NULL;
		return -1;
	}
	return 0;
}

int pcap_close(struct pcap *p)
{
	int ret = fclose(p->f) == 0 ? 0 : -1;
	p->f = NULL;
	return ret;
}

/*
 * Ethernet + IPv4 header for `l4len` octets of protocol `proto` at frame[0];
 * *pseudo: the pseudo-header's sum for the L4 checksum.
 */
static size_t ip_frame(uint8_t *frame, const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
		       size_t l4len, uint32_t *pseudo)
{
	static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	memcpy(frame, mac_a, 6);
	memcpy(frame + 6, mac_b, 6);
	put16(frame + 12, 0x0800);
	struct inet_ip h = {
		.version = 4, .proto = proto, .ttl = 64, .df = true, .src = src, .dst = dst
	};
	return ETH_LEN + inet_ip_header(frame + ETH_LEN, &h, l4len, pseudo);
}

static int frame_write(struct pcap *p, const uint8_t *frame, size_t len)
{
	p->usec += 1000;
	if (write_u32(p->f, 1700000000u + p->usec / 1000000) ||
	    write_u32(p->f, p->usec % 1000000) || write_u32(p->f, (uint32_t)len) ||
	    write_u32(p->f, (uint32_t)len) || fwrite(frame, 1, len, p->f) != len)
		return -1;
	p->frames++;
	return 0;
}

int pcap_frame(struct pcap *p, const uint8_t *frame, size_t len)
{
	return frame_write(p, frame, len);
}

int pcap_udp(struct pcap *p, const uint8_t src[4], const uint8_t dst[4], uint16_t sport,
	     uint16_t dport, const void *payload, size_t len)
{
	static uint8_t frame[MAX_FRAME];
	if (len > 65535 - IPV4_LEN - UDP_LEN)
		return -1;
	uint32_t pseudo;
	size_t off = ip_frame(frame, src, dst, INET_PROTO_UDP, UDP_LEN + len, &pseudo);
	uint8_t *udp = frame + off;
	memcpy(udp + UDP_LEN, payload, len);
	inet_udp_header(udp, sport, dport, UDP_LEN + len, pseudo);
	return frame_write(p, frame, off + UDP_LEN + len);
}

int pcap_tcp(struct pcap *p, const uint8_t src[4], const uint8_t dst[4], uint16_t sport,
	     uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, const void *payload,
	     size_t len)
{
	static uint8_t frame[MAX_FRAME];
	if (len > 65535 - IPV4_LEN - TCP_LEN)
		return -1;
	uint32_t pseudo;
	size_t off = ip_frame(frame, src, dst, INET_PROTO_TCP, TCP_LEN + len, &pseudo);
	uint8_t *tcp = frame + off;
	memset(tcp, 0, TCP_LEN);
	put16(tcp, sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = (TCP_LEN / 4) << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	memcpy(tcp + TCP_LEN, payload, len);
	put16(tcp + 16, (uint16_t)~inet_csum(tcp, TCP_LEN + len, pseudo));
	return frame_write(p, frame, off + TCP_LEN + len);
}
