#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the reply rate limiter (server.reply-rate-limit, docs/protocol.md D22)
# costs on the request path when no limit is hit (issue 14): one lispmsd
# with EIDS registered EIDs answers ECM Map-Requests (proxy replies) for
# DURATION seconds per round, ROUNDS times with the limiter off
# (reply-rate-limit: 0) and on but never reached (10,000,000 per second per
# ITR-RLOC), alternating through `lispmsctl reload` (in ABBA order) so both
# see the same process, table and machine load. Prints a JSON line per round and one
# with the median of each and their ratio.
#
#   bench/rrl.sh [BUILD_DIR] [EIDS] [DURATION] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
bench_meta rrl.sh "$@"
build=${1:-$root/build}
eids=${2:-1000000}
duration=${3:-5}
rounds=${4:-3}
bench=$build/tools/lispms-bench
daemon=$build/src/daemon/lispmsd
ctl=$build/tools/lispmsctl/lispmsctl
port=$(bench_port)
dir=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
etrs=$(((eids + 999) / 1000))
per=$(((eids + etrs - 1) / etrs))
conf() { # conf LIMIT
    RRL=$1 bench_conf "$dir/lispms.yaml" "$port"
}
conf 0
pid=$(bench_start_ms "$daemon" "$dir/lispms.yaml" "$dir/lispmsd.log")
load=(--server "127.0.0.1:$port" --sockets 16 --sources 16 --window 8 --json)
lisp=(--etrs "$etrs" --eids-per-etr "$per")
"$bench" register "${lisp[@]}" "${load[@]}" --count "$((etrs * per))" --duration 300 >/dev/null
rate() { # one round: requests per second
    "$bench" request "${lisp[@]}" "${load[@]}" --duration "$duration" |
        sed -n 's/.*"replies_per_sec":\([0-9.]*\).*/\1/p' | head -1
}
off=() on=() ratios=()
for ((r = 1; r <= rounds; r++)); do
    order="0 10000000"
    ((r % 2 == 0)) && order="10000000 0" # ABBA: neither always runs second
    for limit in $order; do
        conf "$limit"
        "$ctl" -s "$dir/ctl.sock" reload >/dev/null
        v=$(rate)
        if [ "$limit" = 0 ]; then off+=("$v"); else on+=("$v"); fi
        echo "{\"bench\":\"rrl\",\"case\":\"round\",\"round\":$r,\"eids\":$((etrs * per)),\"reply_rate_limit\":$limit,\"requests_per_s\":$v,\"load1\":$(bench_load)}"
    done
    ratios+=("$(awk -v a="${on[-1]}" -v b="${off[-1]}" 'BEGIN {printf "%.4f", a / b}')")
done
limited=$("$ctl" -s "$dir/ctl.sock" stats reply_rate_limited | awk '{s += $NF} END {print s + 0}')
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
m_off=$(median "${off[@]}")
m_on=$(median "${on[@]}")
echo "{\"bench\":\"rrl\",\"case\":\"median\",\"eids\":$((etrs * per)),\"rounds\":$rounds,\"off_per_s\":$m_off,\"on_per_s\":$m_on,\"on_over_off\":$(awk -v a="$m_on" -v b="$m_off" 'BEGIN {printf "%.4f", a / b}'),\"paired_ratio_median\":$(median "${ratios[@]}"),\"paired_ratios\":\"${ratios[*]}\",\"limited\":$limited}"
