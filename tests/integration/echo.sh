#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lispms-bench's echo responder and load engine end to end on loopback:
# a bounded count of requests, every one answered, none lost or unmatched,
# from 16 source addresses. Prints TAP.
set -u
. "$(dirname "$(readlink -f "$0")")/../support/lib.sh"
bench=$1
port=$(free_port udp)
"$bench" echo-server --port "$port" --workers 2 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
sleep 0.3
echo "TAP version 13"
echo "1..3"
out=$("$bench" echo --server "127.0.0.1:$port" --count 20000 --duration 20 --sources 16 --json)
rc=$?
echo "# $out"
ok $rc "load run succeeded (exit status $rc)"
received=$(echo "$out" | grep -oE '"received":[0-9]+' | cut -d: -f2)
lost=$(echo "$out" | grep -oE '"lost":[0-9]+' | cut -d: -f2)
unmatched=$(echo "$out" | grep -oE '"unmatched":[0-9]+' | cut -d: -f2)
[ "${received:-0}" -ge 20000 ]
ok $? "20000 replies counted (received ${received:-none})"
[ "${lost:-1}" -eq 0 ] && [ "${unmatched:-1}" -eq 0 ]
ok $? "nothing lost or unmatched (lost ${lost:-?} unmatched ${unmatched:-?})"
