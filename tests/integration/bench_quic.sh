#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lispms-bench fabric --transport quic against a spawned lispmsd with
# server.quic (issue 15): every record ACKed with no session lost, on a
# clean path and on a lossy one (--quic-drop: each ETR's client drops every
# Nth datagram it sends). The server's keepalive is an hour, so once the
# server has nothing in flight only the client's own timers can send a lost
# datagram again: without them the fabric does not converge. Bounded: every
# run has a --duration and the script a timeout in meson. Prints TAP.
#
# Usage: bench_quic.sh LISPMSD LISPMS-BENCH SOURCE-ROOT
set -u
lispmsd=$1
bench=$2
src=$3
py=/usr/bin/python3
[ -x "$py" ] || py=python3

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-quic-it.XXXXXX")
pid=
n=0
failed=0
cleanup() {
    echo "1..$n"
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "# kept $work"; fi
}
trap cleanup EXIT

ok() { # ok RC DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
# expect FILE KEY WANT DESCRIPTION: a value of the run's JSON line
expect() {
    local got
    got=$("$py" -c 'import json,sys
o = json.loads(open(sys.argv[1]).readline() or "{}")
v = o.get(sys.argv[2], "missing"); print(str(v).lower() if isinstance(v, bool) else v)' "$1" "$2" 2>/dev/null)
    [ "$got" = "$3" ]
    ok $? "$4 ($2 = $got, want $3)"
}

if ! sh "$src/deploy/tls/make-test-ca.sh" "$work/ca" >/dev/null 2>&1; then
    echo "ok 1 - skipped # SKIP no test CA (certtool missing)"
    n=1
    exit 0
fi
read -r port qport < <("$py" -c 'import socket
ps = []
while len(ps) < 2:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    p = u.getsockname()[1]; t = socket.socket()
    try:
        t.bind(("127.0.0.1", p)); ps.append((u, t, p))
    except OSError:
        pass
print(ps[0][2], ps[1][2])')
conf=$work/lispms.yaml
cat >"$conf" <<EOF
server:
  listen: [127.0.0.1]
  port: $port
  workers: 2
  registration-timeout: 600
  keepalive: 3600
  quic:
    port: $qport
    certificate: $work/ca/server.pem
    key: $work/ca/server-key.pem
control:
  socket: $work/ctl.sock
log:
  level: warning
sites:
  - name: bench
    keys:
      - {id: 1, algorithm: hmac-sha-256-128, secret: bench}
    eid-prefixes: ["[1000] 10.0.0.0/8"]
    accept-more-specifics: true
EOF
"$lispmsd" -c "$conf" >/dev/null 2>>"$work/lispmsd.log" &
pid=$!
for _ in $(seq 1 100); do
    [ -S "$work/ctl.sock" ] && break
    sleep 0.1
done
sleep 0.2
kill -0 "$pid" 2>/dev/null
ok $? "lispmsd started with server.quic on port $qport"
q=(--server "127.0.0.1:$port" --transport quic --transport-port "$qport" --ca "$work/ca/ca.pem")

# 1. a clean path: 20 ETRs x 50 EIDs
"$bench" fabric "${q[@]}" --etrs 20 --eids-per-etr 50 --threads 2 --duration 20 \
    --json --quiet --case clean >"$work/clean.json" 2>>"$work/bench.log"
ok $? "fabric over QUIC converges (exit status 0)"
expect "$work/clean.json" transport quic "the sessions are QUIC"
expect "$work/clean.json" acked 1000 "20 ETRs x 50 EIDs all ACKed"
expect "$work/clean.json" sessions_lost 0 "no session lost"

# 2. a lossy path: every 4th datagram of each client is lost; its timers
# send it again (the server, with nothing in flight, sends nothing)
"$bench" fabric "${q[@]}" --etrs 20 --first-etr 100 --eids-per-etr 50 --threads 2 \
    --duration 20 --quic-drop 4 --json --quiet --case lossy >"$work/lossy.json" \
    2>>"$work/bench.log"
ok $? "fabric over QUIC with 1 datagram in 4 lost converges (exit status 0)"
expect "$work/lossy.json" converged true "converged despite the losses"
expect "$work/lossy.json" acked 1000 "20 ETRs x 50 EIDs all ACKed"
expect "$work/lossy.json" sessions_lost 0 "no session lost: lost datagrams are sent again in time"

"$bench" fabric "${q[@]}" --etrs 1 --quic-drop x --json --quiet >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "fabric: a bad --quic-drop is a usage error (exit 2)"
kill -0 "$pid" 2>/dev/null
ok $? "lispmsd still running"
