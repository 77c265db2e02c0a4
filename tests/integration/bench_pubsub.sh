#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lispms-bench's publish/subscribe subscribers against a spawned lispmsd on
# loopback (issue 17): what they report must be right. Subscribers on
# sessions and over UDP, to a covering prefix and to one /32 each, get
# their complete initial state, then every move's publication, with every
# HMAC verified, every nonce in order and every UDP Map-Notify acked; at
# the end each one's view of every EID it covers is the fabric's. A
# subscriber the server does not know is refused and makes the run fail.
# At the end of a run every subscriber unsubscribes (RFC 9437: an AFI-0
# ITR-RLOC) and the server holds none of them any more.
# The UDP publications are captured and decoded by tshark. No timing is
# asserted. Bounded: every run has a --duration and the script a timeout in
# meson. Prints TAP.
#
# Usage: bench_pubsub.sh LISPMSD LISPMS-BENCH LISPMSCTL
set -u
. "$(dirname "$(readlink -f "$0")")/../support/lib.sh"
lispmsd=$1
bench=$2
ctl=$3
py=/usr/bin/python3
[ -x "$py" ] || py=python3

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-pubsub-it.XXXXXX")
trap 'tap_cleanup "$work"' EXIT


port=$(free_port both)
conf=$work/lispms.yaml
{
    cat <<EOF
log:
  level: warning
sites:
  - name: bench
    keys:
      - {id: 1, algorithm: hmac-sha-256-128, secret: bench}
    eid-prefixes: ["[1000] 10.0.0.0/8"]
    accept-more-specifics: true
    proxy-reply: true
    allow-subscribe: true
subscribers:
EOF
    # lispms-bench's UDP subscriber i has xTR-ID 5b5b 0...0 iiii (subs_xtr_id)
    for ((i = 0; i < 20; i++)); do
        printf '  - {name: s%d, xtr-id: 5b5b000000000000000000000000%04x, ' "$i" "$i"
        printf 'keys: [{id: 1, algorithm: hmac-sha-256-128, secret: bench}]}\n'
    done
} | lispms_conf "$conf" "$port" "workers: 2" "registration-timeout: 600"

lispms_start "$lispmsd" "$conf" "$work/lispmsd.log"
ok $? "lispmsd started on port $port"
srv=(--server "127.0.0.1:$port")

# held: the subscribers lispmsd holds; unsubscribed: the unsubscriptions it took
held() { "$ctl" -s "$work/ctl.sock" subscriptions --json 2>/dev/null | grep -o '"xtr_id"' | grep -c .; }
unsubscribed() {
    "$ctl" -s "$work/ctl.sock" stats lispms_pubsub_requests_total 2>/dev/null |
        grep -F 'unsubscribed' | awk '{s += $NF} END {print s + 0}'
}

# 1. three subscribers on their sessions (the first three of 10 ETRs, whose
# Registrations carry their xTR-IDs) to the whole instance, then 200 moves;
# 300 EIDs: more than one Mapping Notification holds (255 records)
"$bench" fabric "${srv[@]}" --etrs 10 --eids-per-etr 30 --subscribers 3 \
    --subscribe '[1000] 0.0.0.0/0' --subscriber-transport session --moves 200 \
    --move-rate 1000 --move-seconds 5 --duration 30 --json --quiet --case sess \
    >"$work/sess.json" 2>"$work/sess.err"
ok $? "session subscribers: the run passes its own checks (exit status 0)"
expect "$work/sess.json" sess_subscribers transport session "session subscribers: on sessions"
expect "$work/sess.json" sess_subscribers covered 900 "session subscribers: 3 x 300 EIDs covered"
expect "$work/sess.json" sess_subscribers complete 3 "session subscribers: every initial state complete"
expect "$work/sess.json" sess_subscribers consistent 3 "session subscribers: every move seen, the last view is the fabric's"
expect "$work/sess.json" sess_subscribers stale 0 "session subscribers: no EID left at an old owner"
expect "$work/sess.json" sess_subscribers bad_auth 0 "session subscribers: every publication's HMAC verifies"
expect "$work/sess.json" sess_subscribers bad_nonce 0 "session subscribers: nonces consecutive from the subscription's"
expect "$work/sess.json" sess_subscribers acks_sent 0 "session subscribers: nothing acked (sessions need no acks)"
expect "$work/sess.json" sess moves_sent 200 "session subscribers: the fabric moved 200 EIDs"
atleast "$work/sess.json" sess_subscribers records 1500 "session subscribers: initial state and the moves (>= 3 x (300 + 200) records)"
atleast "$work/sess.json" sess_subscribers timed 1 "session subscribers: moves timed to their publications"
expect "$work/sess.json" sess_lat_publication count "$(json_field "$work/sess.json" sess_subscribers timed)" \
    "session subscribers: one latency per timed publication"
expect "$work/sess.json" sess_subscribers unsubscribed 3 "session subscribers: each unsubscribed at the end"
sleep 0.5 # the unsubscriptions are datagrams nobody answers
got=$(unsubscribed)
[ "$got" -eq 3 ]
ok $? "lispmsd took 3 unsubscriptions ($got)"
got=$(held)
[ "$got" -eq 0 ]
ok $? "lispmsd holds no subscriber after the run ($got)"

# 2. twenty UDP subscribers (subscribers: list) to one /32 each, 100 moves;
# tshark decodes what the server sent them
capture=
if command -v tshark >/dev/null && command -v dumpcap >/dev/null; then
    dumpcap -q -i lo -f "udp port $port" -w "$work/pubsub.pcap" -a duration:25 >/dev/null 2>&1 &
    capture=$!
    sleep 2
fi
"$bench" fabric "${srv[@]}" --etrs 10 --first-etr 1000 --eids-per-etr 2 --subscribers 20 \
    --subscribe each --subscriber-transport udp --moves 100 --move-rate 200 \
    --move-seconds 5 --duration 30 --json --quiet --case udp \
    >"$work/udp.json" 2>"$work/udp.err"
ok $? "UDP subscribers: the run passes its own checks (exit status 0)"
expect "$work/udp.json" udp_subscribers transport udp "UDP subscribers: over UDP"
expect "$work/udp.json" udp_subscribers covered 20 "UDP subscribers: one EID each"
expect "$work/udp.json" udp_subscribers complete 20 "UDP subscribers: every initial state complete"
expect "$work/udp.json" udp_subscribers consistent 20 "UDP subscribers: each one's EID at its final owner"
expect "$work/udp.json" udp_subscribers bad_auth 0 "UDP subscribers: every HMAC verifies"
expect "$work/udp.json" udp_subscribers bad_nonce 0 "UDP subscribers: nonces consecutive"
expect "$work/udp.json" udp_subscribers refused 0 "UDP subscribers: none refused"
pubs=$(json_field "$work/udp.json" udp_subscribers publications)
acks=$(json_field "$work/udp.json" udp_subscribers acks_sent)
[ "$pubs" -ge 120 ] 2>/dev/null && [ "$acks" -ge "$pubs" ]
ok $? "UDP subscribers: 20 states and 100 moves published ($pubs >= 120), each acked ($acks)"
expect "$work/udp.json" udp_subscribers unsubscribed 20 "UDP subscribers: each unsubscribed at the end"
sleep 0.5
got=$(unsubscribed)
[ "$got" -eq 23 ] && [ "$(held)" -eq 0 ]
ok $? "lispmsd took 20 more unsubscriptions ($got in all) and holds no subscriber"
if [ -n "$capture" ]; then
    wait "$capture"
    if [ -s "$work/pubsub.pcap" ]; then
        tshark -r "$work/pubsub.pcap" -d "udp.port==$port,lisp" -Y 'lisp.type == 4' \
            -T fields -e lisp.nonce 2>/dev/null | grep -c . >"$work/notifies"
        # (the Map-Notifies only: tshark 4.0 does not know RFC 9437's
        # unsubscription, an ITR-RLOC with AFI 0, and flags those requests;
        # warnings and errors only: a subscriber port in 33434-33534 gets a
        # "possible traceroute" note on every datagram, which is no defect)
        expert=$(tshark -r "$work/pubsub.pcap" -d "udp.port==$port,lisp" \
            -Y 'lisp.type == 4 && (_ws.expert.severity >= warning || _ws.malformed)' \
            2>/dev/null | grep -c .)
        got=$(cat "$work/notifies")
        [ "$got" -ge "$pubs" ] && [ "$expert" -eq 0 ]
        ok $? "tshark decodes the publications as Map-Notifies ($got >= $pubs), no expert info ($expert)"
    else
        skip "no capture on lo here"
    fi
else
    skip "tshark not installed"
fi

# 3. two UDP subscribers to the whole instance: the state dump, paced by acks
"$bench" fabric "${srv[@]}" --etrs 10 --first-etr 2000 --eids-per-etr 50 --subscribers 2 \
    --subscribe '[1000] 10.0.0.0/8' --moves 100 --move-rate 500 --move-seconds 5 \
    --duration 30 --json --quiet --case dump >"$work/dump.json" 2>"$work/dump.err"
ok $? "UDP subscribers to a covering prefix: the run passes its own checks (exit status 0)"
expect "$work/dump.json" dump_subscribers covered 1000 "UDP dump: 2 x 500 EIDs covered"
expect "$work/dump.json" dump_subscribers complete 2 "UDP dump: both complete"
expect "$work/dump.json" dump_subscribers consistent 2 "UDP dump: both consistent after the moves"
expect "$work/dump.json" dump_subscribers bad_nonce 0 "UDP dump: nonces consecutive"

# 4. subscribers the server does not list are refused, and the run says so
"$bench" fabric "${srv[@]}" --etrs 2 --first-etr 3000 --eids-per-etr 2 --subscribers 22 \
    --subscribe each --subscribe-seconds 3 --duration 20 --json --quiet --case refused \
    >"$work/refused.json" 2>/dev/null
rc=$?
[ "$rc" -eq 1 ]
ok $? "unlisted subscribers: exit status 1 ($rc)"
expect "$work/refused.json" refused_subscribers refused 2 "unlisted subscribers: 2 of 22 answered with a Map-Reply"
expect "$work/refused.json" refused_subscribers complete 20 "unlisted subscribers: the 20 listed complete"

# 5. usage errors
"$bench" fabric "${srv[@]}" --etrs 2 --subscribers 2 --json --quiet >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "--subscribers without --subscribe is a usage error"
"$bench" fabric "${srv[@]}" --etrs 2 --subscribers 3 --subscribe each \
    --subscriber-transport session --json --quiet >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "more session subscribers than ETRs is a usage error"
"$bench" fabric "${srv[@]}" --etrs 2 --subscribers 1 --subscribe 'nonsense' --json --quiet \
    >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "a bad --subscribe is a usage error"
kill -0 "$LISPMS_PID" 2>/dev/null
ok $? "lispmsd still running"
tap_status
