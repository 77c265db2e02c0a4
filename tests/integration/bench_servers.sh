#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lispms-bench fabric --server A,B (issue 16, for the DDT fleet of issue 21):
# two lispmsd on loopback, one fabric of reliable and UDP ETRs registering
# with both. Each server must hold every EID afterwards (lispmsctl stats
# lispms_db_prefixes on each), and the bench must report each server and the
# total. Bounded by --duration and meson's timeout. Prints TAP.
#
# Usage: bench_servers.sh LISPMSD LISPMSCTL LISPMS-BENCH
set -u
. "$(dirname "$(readlink -f "$0")")/../support/lib.sh"
lispmsd=$1
ctl=$2
bench=$3
py=/usr/bin/python3
[ -x "$py" ] || py=python3

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-servers.XXXXXX")
pids=()
trap 'tap_cleanup "$work" "${pids[@]}"' EXIT

etrs=10 per=20
ports=()
for k in 1 2; do
    mkdir -p "$work/ms$k"
    port=$(free_port both)
    lispms_conf "$work/ms$k/lispms.yaml" "$port" "workers: 1" <<EOF
log:
  level: warning
sites:
  - name: bench
    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: bench}]
    eid-prefixes: ["[1000] 10.0.0.0/8"]
    accept-more-specifics: true
EOF
    lispms_start "$lispmsd" "$work/ms$k/lispms.yaml" "$work/ms$k/lispmsd.log"
    ok $? "lispmsd $k started on port $port"
    pids+=("$LISPMS_PID")
    ports+=("$port")
done
LISPMS_PID= # both are in pids
a=127.0.0.1:${ports[0]} b=127.0.0.1:${ports[1]}

prefixes() { # the registered prefixes lispmsd K holds
    "$ctl" -s "$work/ms$1/ctl.sock" stats lispms_db_prefixes 2>/dev/null |
        awk '{s += $NF} END {print s + 0}'
}

# 1. half the ETRs on sessions, half on UDP, each to both servers
"$bench" fabric --server "$a,$b" --etrs $etrs --eids-per-etr $per --udp-share 0.5 \
    --threads 2 --duration 20 --json --quiet --case two >"$work/two.json" 2>"$work/two.err"
ok $? "fabric --server A,B converges on both (exit status 0)"
total=$((etrs * per))
for k in 1 2; do
    got=$(prefixes $k)
    [ "$got" -eq "$total" ]
    ok $? "lispmsd $k holds every EID ($got prefixes, want $total)"
done
expect "$work/two.json" two_server1 server "$a" "server 1 reported by its address"
expect "$work/two.json" two_server2 server "$b" "server 2 reported by its address"
for k in 1 2; do
    expect "$work/two.json" two_server$k converged true "server $k: converged"
    expect "$work/two.json" two_server$k acked $((total / 2)) \
        "server $k: the reliable half ACKed on its sessions"
    expect "$work/two.json" two_server$k udp_acked $((total / 2)) \
        "server $k: the UDP half confirmed by its Map-Notifies"
    expect "$work/two.json" two_server$k reliable $((etrs / 2)) \
        "server $k: one session per reliable ETR"
done
expect "$work/two.json" two servers 2 "total: over two servers"
expect "$work/two.json" two converged true "total: converged"
expect "$work/two.json" two acked "$total" "total: every session record of both servers"
expect "$work/two.json" two udp_acked "$total" "total: every UDP record of both servers"
expect "$work/two.json" two up_end $((2 * etrs)) "total: every ETR up on each server"
expect "$work/two.json" two notify_bad_auth 0 "total: every Map-Notify verifies"

# 2. what only one server can do is refused, and so is an address twice
"$bench" fabric --server "$a,$b" --etrs 2 --moves 10 --quiet >/dev/null 2>"$work/moves.err"
[ $? -eq 2 ] && grep -q "need one --server" "$work/moves.err"
ok $? "fabric: --moves with two servers is a usage error (exit 2)"
"$bench" fabric --server "$a,$a" --etrs 2 --quiet >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "fabric: the same server twice is a usage error (exit 2)"

tap_status
