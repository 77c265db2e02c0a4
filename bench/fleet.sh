#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The LISP-DDT fleet's figures (issue 21), on the fleet test's topology
# (tests/support/fleet.sh: namespaces joined by a bridge; root needed).
# Prints JSON lines:
#   resolve_cold    lig through a resolver restarted before each sample (its
#                   referral cache empty: root, node, Map-Server), N samples;
#                   mr1, IPv4 all the way
#   resolve_cold_v6 the same for IPv6 EIDs through mr2 asked over IPv6 (its
#                   root, node1 and pair A at their IPv6 addresses)
#   resolve_warm    lispms-bench request through a resolver with a warm cache
#                   (straight to the Map-Server), at a modest fixed rate
#   mr_throughput   the same, as fast as a window allows
#   ms_direct       the same requests straight to one Map-Server (no DDT), same run
#   register_one    Map-Registers/s one Map-Server takes (lispms-bench register)
#   register_fleet  four register loads at once, one per Map-Server of both
#                   pairs (each its own partition), summed
# No reply rate limit (reply-rate-limit: 0: one ITR address would be held at
# the default 1000/s). Every process shares the machine's cores: the figures
# say what one machine running the whole fleet does, not what four hosts do.
#
#   bench/fleet.sh [BUILD_DIR] [DURATION] [COLD_SAMPLES]
set -uo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
. "$root/tests/support/fleet.sh"
bench_meta fleet.sh "$@"
build=$(readlink -f "${1:-$root/build}")
duration=${2:-5}
cold=${3:-50}
[ "$(id -u)" -eq 0 ] || {
    echo "bench/fleet.sh: network namespaces need root" >&2
    exit 1
}
work=$(mktemp -d /tmp/lispms-fleet-bench.XXXXXX)
export FLEET_RRL=0
fleet_init "lmsb$$-" "$work" "$build/src/daemon/lispmsd" "$build/tools/lispmsctl/lispmsctl" \
    "$build/tools/lispms-bench"
cleanup() {
    local h
    fleet_etrs_stop
    for h in $FLEET_DAEMONS; do fleet_kill "$h" KILL >/dev/null 2>&1; done
    fleet_net_down
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fleet_net_up || exit 1
fleet_start_all || exit 1
fleet_etrs_start --quiet
fleet_wait_registered msa1 $((2 * FLEET_ETRS * FLEET_PER)) 30 || exit 1 # IPv4 and IPv6
fleet_wait_registered msa2 $((2 * FLEET_ETRS * FLEET_PER)) 30 || exit 1
bench=$FLEET_BENCH
itr() { fleet_exec itr "$@"; }
lisp=(--etrs "$FLEET_ETRS" --eids-per-etr "$FLEET_PER" --iid 1000)

# cold: a resolver with nothing cached, one question, then restart it
cold_case() { # CASE MR SERVER EID-PREFIX (EID k appended, in hex for IPv6)
    local i k eid
    : >"$work/cold.ms"
    for ((i = 0; i < cold; i++)); do
        fleet_kill "$2" TERM && fleet_start "$2" || exit 1
        k=$((i % (FLEET_ETRS * FLEET_PER) % 256))
        case $4 in *::) eid=$(printf '%s%x' "$4" $k) ;; *) eid=$4$k ;; esac
        itr "$bench" lig "$eid" --server "$3" --timeout-ms 3000 |
            awk '/^Map-Reply from/ { print $5 }' >>"$work/cold.ms"
    done
    python3 - "$work/cold.ms" "$cold" "$1" <<'EOF'
import json, sys
v = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
q = lambda p: v[min(len(v) - 1, int(p * len(v)))] * 1e3 if v else 0
print(json.dumps({"bench": "fleet", "case": sys.argv[3], "samples": len(v),
                  "wanted": int(sys.argv[2]), "p50_us": round(q(0.5), 1),
                  "p99_us": round(q(0.99), 1), "max_us": round(v[-1] * 1e3, 1) if v else 0}))
EOF
}
cold_case resolve_cold mr1 10.99.0.31 "[1000] 10.0.0."
cold_case resolve_cold_v6 mr2 fd99::32 "[1000] 2001:db8::"

# warm: mr1 has walked the tree once (the first request)
itr "$bench" lig "[1000] 10.0.0.1" --server 10.99.0.31 >/dev/null
itr "$bench" request "${lisp[@]}" --server 10.99.0.31:4342 --rate 500 --sockets 1 --window 4 \
    --duration "$duration" --json | sed 's/"bench":"ms_udp","case":"map_request"/"bench":"fleet","case":"resolve_warm"/'
itr "$bench" request "${lisp[@]}" --server 10.99.0.31:4342 --sockets 8 --window 8 \
    --duration "$duration" --json | sed 's/"bench":"ms_udp","case":"map_request"/"bench":"fleet","case":"mr_throughput"/'
itr "$bench" request "${lisp[@]}" --server 10.99.0.21:4342 --sockets 8 --window 8 \
    --duration "$duration" --json | sed 's/"bench":"ms_udp","case":"map_request"/"bench":"fleet","case":"ms_direct"/'
echo "{\"bench\":\"fleet\",\"case\":\"mr_cache_hits\",\"hits\":$(fleet_stat mr1 lispms_mr_cache_lookups_total 'result="hit"'),\"ddt_requests\":$(fleet_stat mr1 lispms_mr_ddt_requests_sent_total),\"timeouts\":$(fleet_stat mr1 lispms_mr_ddt_timeouts_total)}"

# registration capacity: one Map-Server, then all four at once
fleet_etrs_stop
reg=(--sockets 8 --window 8 --duration "$duration" --json)
itr "$bench" register --etrs 10 --eids-per-etr 1000 --iid 1000 --server 10.99.0.21:4342 "${reg[@]}" |
    sed 's/"bench":"ms_udp","case":"map_register"/"bench":"fleet","case":"register_one"/'
regs=()
for ms in msa1 msa2 msb1 msb2; do
    iid=1000
    case $ms in msb*) iid=2000 ;; esac
    itr "$bench" register --etrs 10 --eids-per-etr 1000 --iid $iid \
        --server "$(fleet_addr $ms):4342" "${reg[@]}" \
        >"$work/reg_$ms.json" &
    regs+=($!)
done
wait "${regs[@]}" # not the lispmsd, children of this shell too
python3 - "$work" <<'EOF'
import json, sys
rs = [json.load(open(f"{sys.argv[1]}/reg_{m}.json")) for m in ("msa1", "msa2", "msb1", "msb2")]
print(json.dumps({"bench": "fleet", "case": "register_fleet", "servers": 4,
                  "replies_per_sec": round(sum(r["replies_per_sec"] for r in rs)),
                  "per_server": [r["replies_per_sec"] for r in rs],
                  "lost": sum(r["lost"] for r in rs),
                  "p99_us_max": max(r["p99_us"] for r in rs)}))
EOF
