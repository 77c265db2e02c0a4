#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lispms-bench fabric over SCTP, and --transport auto against a spawned
# lispmsd with TCP, QUIC and SCTP sessions (issues 15 and 19): each ETR
# tries TCP, then QUIC, then SCTP (seed 002's order) and keeps the first
# that opens. A transport the ETR cannot reach is simulated by pointing it
# at a port where nothing listens (--transport-port NAME=PORT): TCP is then
# refused, and QUIC and SCTP get an ICMP port unreachable before their
# handshake. Every run has a --duration, the script a timeout in meson.
# Prints TAP.
#
# Usage: bench_auto.sh LISPMSD LISPMS-BENCH SOURCE-ROOT
set -u
. "$(dirname "$(readlink -f "$0")")/../support/lib.sh"
lispmsd=$1
bench=$2
src=$3
py=/usr/bin/python3
[ -x "$py" ] || py=python3

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-auto-it.XXXXXX")
trap 'tap_cleanup "$work"' EXIT

if ! sh "$src/deploy/tls/make-test-ca.sh" "$work/ca" >/dev/null 2>&1; then
    skip "no test CA (certtool missing)"
    exit 0
fi
# distinct ports: the server's, its QUIC and SCTP ones, and two where nothing listens
ports=()
while [ ${#ports[@]} -lt 5 ]; do
    p=$(free_port both)
    case " ${ports[*]} " in *" $p "*) ;; *) ports+=("$p") ;; esac
done
port=${ports[0]} qport=${ports[1]} sport=${ports[2]} closed_tcp=${ports[3]} closed_udp=${ports[4]}
conf=$work/lispms.yaml
lispms_conf "$conf" "$port" "workers: 2" "registration-timeout: 600" \
    "quic:" "  port: $qport" "  certificate: $work/ca/server.pem" \
    "  key: $work/ca/server-key.pem" \
    "sctp:" "  port: 4342" "  udp-encapsulation-port: $sport" < <(bench_site)
lispms_start "$lispmsd" "$conf" "$work/lispmsd.log"
ok $? "lispmsd started with TCP, QUIC (UDP $qport) and SCTP (UDP $sport) sessions"
pid=$LISPMS_PID
b=(--server "127.0.0.1:$port" --ca "$work/ca/ca.pem" --threads 2 --duration 30 --json --quiet)
first=0
run() { # run CASE ETRS ARGS...: 10 EIDs per ETR, ETRs numbered apart per case
    local name=$1 etrs=$2
    shift 2
    "$bench" fabric "${b[@]}" --etrs "$etrs" --first-etr "$first" --eids-per-etr 10 \
        --case "$name" "$@" >"$work/$name.json" 2>>"$work/bench.log"
    local rc=$?
    first=$((first + etrs))
    return $rc
}

# 1. SCTP by name (issue 19): 20 associations, every record ACKed
run sctp 20 --transport sctp --transport-port "$sport"
ok $? "fabric --transport sctp converges (exit status 0)"
expect "$work/sctp.json" sctp transport sctp "the sessions are SCTP"
expect "$work/sctp.json" sctp acked 200 "20 ETRs x 10 EIDs ACKed over SCTP"
expect "$work/sctp.json" sctp sessions_sctp 20 "20 SCTP sessions brought a Refresh"
expect "$work/sctp.json" sctp sessions_lost 0 "no SCTP session lost"

# 2. auto, everything reachable: TCP first, nothing falls back
tp="quic=$qport,sctp=$sport"
run all 10 --transport auto --transport-port "$tp"
ok $? "fabric --transport auto converges (exit status 0)"
expect "$work/all.json" all transport auto "the report says auto"
expect "$work/all.json" all sessions_tcp 10 "every ETR on TCP, the seed's first choice"
expect "$work/all.json" all fallbacks 0 "no fallback when TCP opens"
expect "$work/all.json" all acked 100 "10 ETRs x 10 EIDs ACKed"

# 3. TCP refused: each ETR falls back to QUIC
run no_tcp 10 --transport auto --transport-port "tcp=$closed_tcp,$tp"
ok $? "auto with TCP refused converges (exit status 0)"
expect "$work/no_tcp.json" no_tcp sessions_tcp 0 "no TCP session"
expect "$work/no_tcp.json" no_tcp sessions_quic 10 "every ETR fell back to QUIC"
expect "$work/no_tcp.json" no_tcp acked 100 "10 ETRs x 10 EIDs ACKed over QUIC"
atleast "$work/no_tcp.json" no_tcp fallbacks 10 "a fallback per ETR at least"
expect "$work/no_tcp.json" no_tcp sessions_lost 0 "a session that never opened is a fallback, not a loss"

# 4. TCP refused and QUIC unreachable: each ETR goes on to SCTP
run no_quic 10 --transport auto --transport-port "tcp=$closed_tcp,quic=$closed_udp,sctp=$sport"
ok $? "auto with TCP and QUIC unreachable converges (exit status 0)"
expect "$work/no_quic.json" no_quic sessions_quic 0 "no QUIC session"
expect "$work/no_quic.json" no_quic sessions_sctp 10 "every ETR went on to SCTP"
expect "$work/no_quic.json" no_quic acked 100 "10 ETRs x 10 EIDs ACKed over SCTP"
atleast "$work/no_quic.json" no_quic fallbacks 20 "two fallbacks per ETR at least"
# the QUIC attempt ended on the ICMP port unreachable (a connect failure,
# like TCP's refusal), not on its 10 s handshake budget
atleast "$work/no_quic.json" no_quic connect_failures 20 "TCP and QUIC both refused at once"

# most_sockets PID: "MOST SAMPLES", the most sockets PID held at once, sampled
# until it ends (at most 600 samples, 50 ms apart)
most_sockets() {
    local most=0 n i
    for ((i = 0; i < 600; i++)); do
        grep -qs '^State:[[:space:]]*[RSD]' "/proc/$1/status" || break # gone, or a zombie
        n=$(find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l)
        [ "$n" -gt "$most" ] && most=$n
        sleep 0.05
    done
    echo "$most $i"
}

# 5. nothing reachable: every ETR goes round the three, bounded by --duration
"$bench" fabric "${b[@]}" --etrs 4 --first-etr "$first" --eids-per-etr 10 --duration 4 \
    --case none --transport auto \
    --transport-port "tcp=$closed_tcp,quic=$closed_udp,sctp=$closed_udp" \
    >"$work/none.json" 2>>"$work/bench.log" &
bpid=$!
read -r most samples < <(most_sockets "$bpid")
wait "$bpid"
[ $? -ne 0 ]
ok $? "auto with nothing reachable does not converge (exit status not 0)"
# an ETR holds one socket at a time (its UDP one, or its session's): each
# failed session is closed by the transport that opened it, whatever the
# ETR tries next (a TCP socket closed as QUIC's stayed open, round after round)
[ "$samples" -ge 10 ] && [ "$most" -le 4 ]
ok $? "at most a socket per ETR at any time, none leaked by the fallbacks ($most in $samples samples, want <= 4 in >= 10)"
expect "$work/none.json" none up_end 0 "no ETR up"
atleast "$work/none.json" none fallbacks 12 "every ETR went round TCP, QUIC and SCTP"
atleast "$work/none.json" none connect_failures 12 "each refusal counted as a connect failure"

# 6. the command line
for bad in "--transport auto --transport-port $port" "--transport-port quic=0" \
    "--transport-port udp=4342" "--transport-port quic=1,quic=2" "--transport-port quic=1," \
    "--transport tcp --transport-port quic=4343" "--transport auto --transport-port tls=4344"; do
    # shellcheck disable=SC2086 # the options, split on blanks
    "$bench" fabric --server "127.0.0.1:$port" --etrs 1 $bad --json --quiet >/dev/null 2>&1
    [ $? -eq 2 ]
    ok $? "fabric $bad is a usage error (exit 2)"
done
kill -0 "$pid" 2>/dev/null
ok $? "lispmsd still running"
tap_status
