#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The reply rate limiter's cost counted, not timed (issue 14): lispmsd under
# callgrind with EIDS registered EIDs (registration not instrumented), then
# 50,000 ECM Map-Requests instrumented; every user-space instruction of every
# thread, per request, with reply-rate-limit 0 and with 10,000,000 (on, never
# reached). Independent of machine load, unlike bench/rrl.sh. Needs valgrind.
#
#   bench/rrl_callgrind.sh [BUILD_DIR] [EIDS]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
bench_meta rrl_callgrind.sh "$@"
b=${1:-$root/build}
eids=${2:-1000000}
etrs=$(((eids + 999) / 1000))
for limit in 0 10000000; do
  dir=$(mktemp -d); port=$(bench_port)
  RRL=$limit bench_conf "$dir/lispms.yaml" "$port"
  LISPMS_WRAP="valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$dir/cg.out" \
    LISPMS_START_WAIT=60 lispms_start "$b/src/daemon/lispmsd" "$dir/lispms.yaml" "$dir/vg.log"
  pid=$LISPMS_PID
  load=(--server "127.0.0.1:$port" --sockets 4 --sources 4 --window 4 --json)
  lisp=(--etrs $etrs --eids-per-etr 1000)
  "$b/tools/lispms-bench" register "${lisp[@]}" "${load[@]}" --count $((etrs * 1000)) --duration 900 >/dev/null
  callgrind_control -i on $pid >/dev/null
  "$b/tools/lispms-bench" request "${lisp[@]}" "${load[@]}" --count 50000 --duration 300 >/dev/null
  callgrind_control -i off $pid >/dev/null
  kill $pid; wait $pid || true
  tot=0
  for f in "$dir"/cg.out*; do
    # awk reads to the end: grep -m1 closing the pipe early failed the pipeline (SIGPIPE)
    t=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ && !n {gsub(",","",$1); print $1; n=1}')
    tot=$((tot + ${t:-0}))
  done
  echo "{\"bench\":\"rrl_callgrind\",\"case\":\"map_request\",\"eids\":$((etrs * 1000)),\"reply_rate_limit\":$limit,\"requests\":50000,\"user_instructions\":$tot,\"instructions_per_request\":$((tot / 50000))}"
  rm -rf "$dir"
done
