/* SPDX-License-Identifier: MIT */
/* Hex text to bytes for test vectors written as in docs/protocol.md §6.2. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Decode `hex` (whitespace ignored) into out; the byte count, or -1 on bad
 * text or when cap is too small. */
int hex_decode(const char *hex, uint8_t *out, size_t cap);

/* Lowercase hex of n bytes into buf (2n + 1 octets). */
void hex_encode(const uint8_t *in, size_t n, char *buf);
