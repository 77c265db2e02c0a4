#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A QUIC session storm counted, not timed: ETRS simulated ETRs (EIDS_PER_ETR
# EIDs each) open their QUIC sessions to a lispmsd (2 workers) and register;
# every user-space instruction of every thread, per session, of lispmsd
# (one run, under callgrind from the first ETR to the last ACK, its start
# not counted) and of lispms-bench (a second run, under callgrind from its
# start to its end: its one-time set-up is small beside the handshakes).
# The other process runs natively, and the ETRs start over RAMP s (--ramp;
# default ETRS / 5), so that the one slowed some 50 times does not make the
# other repeat a packet: the counts depend on the code, not on the
# machine's load (check sessions_lost: 0 and auth_sent: ETRS).
# KEY_TYPE=ecdsa|ed25519 (default ecdsa, P-256) picks the certificates'
# key type (deploy/tls/make-test-ca.sh), printed as "key_type".
# Needs valgrind. Prints one JSON line per process.
#
#   bench/quic_callgrind.sh [BUILD_DIR] [ETRS] [EIDS_PER_ETR] [RAMP]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
bench_meta quic_callgrind.sh "$@"
b=${1:-$root/build}
etrs=${2:-200}
per=${3:-100}
ramp=${4:-$(((etrs + 4) / 5))}
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
"$root/deploy/tls/make-test-ca.sh" "$dir" >/dev/null
port=$(bench_port)
qport=$(free_port udp)
WORKERS=${WORKERS:-2} bench_conf "$dir/lispms.yaml" "$port"
sed -i "/^  port: /a\\  quic: {port: $qport, certificate: $dir/server.pem, key: $dir/server-key.pem}" \
    "$dir/lispms.yaml"
# one pass per process: the one counted under callgrind, the other native
# (both slowed at once, a loaded machine made them repeat packets)
run() { # run PASS MS_WRAP BENCH_WRAP
    LISPMS_WRAP="$2" LISPMS_START_WAIT=60 lispms_start "$b/src/daemon/lispmsd" "$dir/lispms.yaml" \
        "$dir/vg-$1.log"
    pid=$LISPMS_PID
    [ -n "$2" ] && callgrind_control -i on "$pid" >/dev/null 2>&1
    # shellcheck disable=SC2086 # $3 is a command line, split on blanks
    $3 "$b/tools/lispms-bench" fabric --server "127.0.0.1:$port" --etrs "$etrs" \
        --eids-per-etr "$per" --udp-share 0 --threads 2 --storm --ramp "$ramp" \
        --duration $((ramp * 4 + 120)) --json --quiet --case "quic-$etrs" --transport quic \
        --transport-port "$qport" --ca "$dir/ca.pem" >"$dir/out-$1.json" 2>"$dir/err" || true
    [ -n "$2" ] && callgrind_control -i off "$pid" >/dev/null 2>&1
    kill "$pid"
    wait "$pid" || true
    pid=
}
run ms "valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$dir/ms.out" ""
run bench "" "valgrind -q --tool=callgrind --callgrind-out-file=$dir/bench.out"
# total instructions of the callgrind outputs matching $1 (every thread's)
total() {
    local tot=0 f t
    for f in "$dir"/$1; do
        # awk reads to the end: grep -m1 closing the pipe early failed the pipeline (SIGPIPE)
        t=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ && !n {gsub(",","",$1); print $1; n=1}')
        tot=$((tot + ${t:-0}))
    done
    echo $tot
}
ms=$(total 'ms.out*')
fab=$(total 'bench.out*')
for p in lispmsd:$ms lispms-bench:$fab; do
    o=$dir/out-ms.json
    [ "${p%%:*}" = lispmsd ] || o=$dir/out-bench.json
    f=$(head -1 "$o" | grep -o '"converged":[a-z]*,"converge_s":[0-9.]*' || echo '"converged":false')
    lost=$(head -1 "$o" | grep -o '"sessions_lost":[0-9]*' || echo '"sessions_lost":-1')
    acked=$(head -1 "$o" | grep -o ',"acked":[0-9]*,' | tr -d , || echo '"acked":-1')
    auth=$(head -1 "$o" | grep -o '"auth_sent":[0-9]*' || echo '"auth_sent":-1')
    echo "{\"bench\":\"quic_callgrind\",\"case\":\"quic-$etrs\",\"process\":\"${p%%:*}\",\"etrs\":$etrs,\"eids_per_etr\":$per,\"ramp_s\":$ramp,\"key_type\":\"${KEY_TYPE:-ecdsa}\",$f,$lost,$acked,$auth,\"user_instructions\":${p#*:},\"instructions_per_session\":$((${p#*:} / etrs))}"
done
if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP"
    cp "$dir"/ms.out* "$dir"/bench.out* "$dir"/out-*.json "$KEEP"/
fi
