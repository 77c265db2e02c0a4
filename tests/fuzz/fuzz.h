/* SPDX-License-Identifier: MIT */
/* Every fuzz target defines this; main.c replays corpora through it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
