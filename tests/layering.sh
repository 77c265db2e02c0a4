#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Layering and header discipline (CONTRIBUTING.md, "Layers"):
#  - every public header in include/lispms/ compiles on its own;
#  - a header that belongs to a subsystem (it tests LISPMS_USES_<SUB>) fails
#    to compile for code that did not declare that subsystem as a dependency.
# Usage: layering.sh INCLUDE_DIR COMPILER [ARGS...]    (prints TAP)
set -u
. "$(dirname "$(readlink -f "$0")")/support/lib.sh"
inc=$1
shift
cc=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

headers=()
for h in "$inc"/lispms/*.h "$inc"/lispms/*/*.h; do
    [ -f "$h" ] && headers+=("$h")
done
all_defs=()
for h in "${headers[@]}"; do
    d=$(grep -oE '^#ifndef LISPMS_USES_[A-Z_]+' "$h" | head -n 1 | awk '{print $2}')
    [ -n "$d" ] && all_defs+=("-D$d")
done

echo "TAP version 13"
for h in "${headers[@]}"; do
    rel=${h#"$inc"/}
    printf '#include <%s>\n#include <%s>\n' "$rel" "$rel" >"$tmp/t.c"
    "${cc[@]}" -fsyntax-only -Wall -Wextra -Werror -std=gnu11 -I"$inc" "${all_defs[@]}" \
        "$tmp/t.c" 2>"$tmp/err"
    r=$?
    [ $r -eq 0 ] || sed 's/^/# /' "$tmp/err" | head -n 5
    ok $r "$rel compiles on its own (and twice)"
    d=$(grep -oE '^#ifndef LISPMS_USES_[A-Z_]+' "$h" | head -n 1 | awk '{print $2}')
    if [ -n "$d" ]; then
        others=()
        for x in "${all_defs[@]}"; do [ "$x" = "-D$d" ] || others+=("$x"); done
        "${cc[@]}" -fsyntax-only -std=gnu11 -I"$inc" "${others[@]}" "$tmp/t.c" >/dev/null 2>&1
        r=$?
        ok $((r == 0)) "$rel is refused without $d"
    fi
done
tap_plan
tap_status
