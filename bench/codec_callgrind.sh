#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The batch authentication stage counted, not timed (issue 18): bench_codec's
# cases under callgrind, each run exactly CALLS times (--calls) inside
# codec_measure(), the only function instrumented. Prints the instructions
# per message of each case and a summary: the stage's HMAC share (decode or
# encode taken out) against the bare multi-buffer HMAC of the same bytes
# (aim: <= 1.2), and the whole stage (decode included) against it.
# Independent of machine load, unlike bench_codec's timings. valgrind's CPU
# has neither SHA-NI nor AVX-512, so every burst runs ipsec-mb's AVX2 lanes,
# the bare case as well.
#
#   bench/codec_callgrind.sh [BUILD_DIR] [CALLS]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
bench_meta codec_callgrind.sh "$@"
b=${1:-$root/build}
calls=${2:-2000}
cases="map_register_decode map_register_decode_batch_verify_sha256
map_register_decode_batch_verify_in_place_sha256 map_notify_encode
map_notify_encode_batch_sign_sha256 hmac_sha256_mb_bare map_register_decode_hmac_sha256
map_notify_encode_sign_hmac_sha256"
declare -A per
for c in $cases; do
    line=$(valgrind --tool=callgrind --toggle-collect=codec_measure --callgrind-out-file=/dev/null \
        "$b/bench/bench_codec" --calls "$calls" --case "$c" 2>"${TMPDIR:-/tmp}/codec_cg.$$")
    ir=$(awk '/Collected :/ {print $NF}' "${TMPDIR:-/tmp}/codec_cg.$$")
    rm -f "${TMPDIR:-/tmp}/codec_cg.$$"
    msgs=$(sed -n 's/.*"msgs":\([0-9]*\).*/\1/p' <<<"$line")
    [ -n "$ir" ] && [ -n "$msgs" ] || { echo "codec_callgrind.sh: no count for $c" >&2; exit 1; }
    per[$c]=$(awk -v i="$ir" -v m="$msgs" 'BEGIN {printf "%.1f", i / m}')
    echo "{\"bench\":\"codec_callgrind\",\"case\":\"$c\",\"msgs\":$msgs,\"instructions\":$ir,\"instructions_per_msg\":${per[$c]}}"
done
awk -v dec="${per[map_register_decode]}" -v bv="${per[map_register_decode_batch_verify_sha256]}" \
    -v vip="${per[map_register_decode_batch_verify_in_place_sha256]}" \
    -v enc="${per[map_notify_encode]}" -v bs="${per[map_notify_encode_batch_sign_sha256]}" \
    -v bare="${per[hmac_sha256_mb_bare]}" 'BEGIN {
    printf "{\"bench\":\"codec_callgrind\",\"case\":\"summary\",\"bare_mb_hmac\":%.1f,", bare
    printf "\"verify_hmac_share\":%.1f,\"verify_in_place_hmac_share\":%.1f,\"sign_hmac_share\":%.1f,", bv - dec, vip - dec, bs - enc
    printf "\"batch_verify_vs_bare_mb\":%.3f,\"batch_verify_in_place_vs_bare_mb\":%.3f,", (bv - dec) / bare, (vip - dec) / bare
    printf "\"batch_sign_vs_bare_mb\":%.3f,\"target_vs_bare_mb\":1.2,", (bs - enc) / bare
    printf "\"decode_verify_in_place_vs_bare_mb\":%.3f,\"encode_sign_vs_bare_mb\":%.3f}\n", vip / bare, bs / bare
}'
