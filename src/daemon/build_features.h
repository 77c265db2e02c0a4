/* SPDX-License-Identifier: MIT */
/*
 * The build's optional parts, from config.h: one table row per feature, so
 * a new meson feature (QUIC, TLS, SCTP, ipsec-mb, ...) adds one line to
 * build_features.c and shows in `lispmsd --version` and `lispmsctl status`.
 */
#pragma once

#include <stdio.h>

#include <lispms/metrics.h>

/* Ends with a NULL name. */
extern const struct build_feature daemon_features[];

/* `lispmsd --version`: the version line, then one line per feature. */
void features_print(FILE *f);
