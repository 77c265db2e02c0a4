/* SPDX-License-Identifier: MIT */
/*
 * RSA keys for tests of signed Map-Referrals (docs/protocol.md D24), made
 * at run time (no private key is committed): key i (0..TESTKEY_MAX-1) is
 * generated on first use in this process and kept until it exits.
 */
#pragma once

#include <stdbool.h>

#define TESTKEY_MAX 4

/* PEM text of key i: the private key, or its public half ("PUBLIC KEY"). */
const char *testkey_pem(unsigned i, bool private_key);

/* Write testkey_pem(i, private_key) to path; 0 or -1. */
int testkey_write(unsigned i, bool private_key, const char *path);
