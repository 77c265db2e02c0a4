#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lispms-bench fabric --transport quic against a spawned lispmsd with
# server.quic (issue 15): every record ACKed with no session lost, on a
# clean path and on a lossy one (--quic-drop: each ETR's client drops every
# Nth datagram it sends). The server's keepalive is an hour, so once the
# server has nothing in flight only the client's own timers can send a lost
# datagram again: without them the fabric does not converge. Then Ed25519
# certificates (make-test-ca.sh KEY_TYPE=ed25519, an operator's choice):
# a second lispmsd's server.quic and server.tls on an Ed25519 server
# certificate, each requiring an Ed25519 client certificate (client-ca),
# and the bench's QUIC and TLS clients presenting one. Bounded: every run
# has a --duration and the script a timeout in meson. Prints TAP.
#
# Usage: bench_quic.sh LISPMSD LISPMS-BENCH SOURCE-ROOT
set -u
. "$(dirname "$(readlink -f "$0")")/../support/lib.sh"
lispmsd=$1
bench=$2
src=$3
py=/usr/bin/python3
[ -x "$py" ] || py=python3

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-quic-it.XXXXXX")
trap 'tap_cleanup "$work"' EXIT

if ! sh "$src/deploy/tls/make-test-ca.sh" "$work/ca" >/dev/null 2>&1; then
    skip "no test CA (certtool missing)"
    exit 0
fi
port=$(free_port both)
qport=$(free_port both)
while [ "$qport" = "$port" ]; do qport=$(free_port both); done
conf=$work/lispms.yaml
lispms_conf "$conf" "$port" "workers: 2" "registration-timeout: 600" "keepalive: 3600" \
    "quic:" "  port: $qport" "  certificate: $work/ca/server.pem" \
    "  key: $work/ca/server-key.pem" < <(bench_site)
lispms_start "$lispmsd" "$conf" "$work/lispmsd.log"
ok $? "lispmsd started with server.quic on port $qport"
pid=$LISPMS_PID
q=(--server "127.0.0.1:$port" --transport quic --transport-port "$qport" --ca "$work/ca/ca.pem")

# 1. a clean path: 20 ETRs x 50 EIDs
"$bench" fabric "${q[@]}" --etrs 20 --eids-per-etr 50 --threads 2 --duration 20 \
    --json --quiet --case clean >"$work/clean.json" 2>>"$work/bench.log"
ok $? "fabric over QUIC converges (exit status 0)"
expect "$work/clean.json" clean transport quic "the sessions are QUIC"
expect "$work/clean.json" clean acked 1000 "20 ETRs x 50 EIDs all ACKed"
expect "$work/clean.json" clean sessions_lost 0 "no session lost"

# 2. a lossy path: every 4th datagram of each client is lost; its timers
# send it again (the server, with nothing in flight, sends nothing)
"$bench" fabric "${q[@]}" --etrs 20 --first-etr 100 --eids-per-etr 50 --threads 2 \
    --duration 20 --quic-drop 4 --json --quiet --case lossy >"$work/lossy.json" \
    2>>"$work/bench.log"
ok $? "fabric over QUIC with 1 datagram in 4 lost converges (exit status 0)"
expect "$work/lossy.json" lossy converged true "converged despite the losses"
expect "$work/lossy.json" lossy acked 1000 "20 ETRs x 50 EIDs all ACKed"
expect "$work/lossy.json" lossy sessions_lost 0 "no session lost: lost datagrams are sent again in time"

"$bench" fabric "${q[@]}" --etrs 1 --quic-drop x --json --quiet >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "fabric: a bad --quic-drop is a usage error (exit 2)"
kill -0 "$pid" 2>/dev/null
ok $? "lispmsd still running"
lispms_stop

# 3. Ed25519 certificates, server and client, over QUIC and over TLS
if ! KEY_TYPE=ed25519 sh "$src/deploy/tls/make-test-ca.sh" "$work/ed" >/dev/null 2>&1; then
    skip "no Ed25519 test CA (certtool without Ed25519)"
    tap_status
    exit
fi
tport=$(free_port both)
while [ "$tport" = "$port" ] || [ "$tport" = "$qport" ]; do tport=$(free_port both); done
ed=$work/ed
lispms_conf "$work/ed.yaml" "$port" "workers: 2" "registration-timeout: 600" \
    "quic:" "  port: $qport" "  certificate: $ed/server.pem" "  key: $ed/server-key.pem" \
    "  client-ca: $ed/ca.pem" "tls:" "  port: $tport" "  certificate: $ed/server.pem" \
    "  key: $ed/server-key.pem" "  client-ca: $ed/ca.pem" < <(bench_site)
lispms_start "$lispmsd" "$work/ed.yaml" "$work/lispmsd-ed.log"
ok $? "lispmsd started with Ed25519 certificates on QUIC ($qport) and TLS ($tport)"
for t in quic:$qport tls:$tport; do
    tr=${t%%:*}
    "$bench" fabric --server "127.0.0.1:$port" --transport "$tr" --transport-port "${t#*:}" \
        --ca "$ed/ca.pem" --cert "$ed/client.pem" --key "$ed/client-key.pem" --etrs 5 \
        --first-etr 200 --eids-per-etr 10 --threads 1 --duration 20 --json --quiet \
        --case "ed-$tr" >"$work/ed-$tr.json" 2>>"$work/bench.log"
    ok $? "fabric over $tr with Ed25519 server and client certificates converges (exit 0)"
    expect "$work/ed-$tr.json" "ed-$tr" transport "$tr" "the sessions are $tr"
    expect "$work/ed-$tr.json" "ed-$tr" acked 50 "5 ETRs x 10 EIDs all ACKed"
done
tap_status
