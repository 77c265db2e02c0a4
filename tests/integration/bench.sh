#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lispms-bench against a spawned lispmsd on loopback (issue 8): the numbers it
# reports must be the right ones. N ETRs x M EIDs all ACKed (reliable) or
# confirmed (UDP), IPv6 / MAC EIDs in two instances with two locators and
# HMAC-SHA-1 key 2, rejections counted by reason, moves notified to the
# displaced ETR on its session and over UDP, a storm of 300 ETRs at once (HMAC verified, Map-Notify-Ack
# sent), withdraw/re-register churn ACKed, the ITR mix answered by kind,
# lig's output and its timeout, and a kill -9 / restart of lispmsd after
# which every ETR re-authenticates, reconnects and re-registers by itself.
# The lig exchange is captured and decoded by tshark. Bounded: every run
# has a --duration and the whole script a timeout in meson. Prints TAP.
#
# Usage: bench.sh LISPMSD LISPMS-BENCH
set -u
. "$(dirname "$(readlink -f "$0")")/../support/lib.sh"
lispmsd=$1
bench=$2
py=/usr/bin/python3
[ -x "$py" ] || py=python3

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-it.XXXXXX")
trap 'tap_cleanup "$work"' EXIT


port=$(free_port both)
conf=$work/lispms.yaml
lispms_conf "$conf" "$port" "workers: 2" "registration-timeout: 600" <<EOF
log:
  level: warning
sites:
  - name: bench
    keys:
      - {id: 1, algorithm: hmac-sha-256-128, secret: bench}
      - {id: 2, algorithm: hmac-sha-1-96, secret: bench}
    eid-prefixes: ["[1000] 10.0.0.0/8", "[1000] 2001:db8::/32", "[1001] 2001:db8::/32",
                   "[1000] 02:00:00:00:00:00/24"]
    accept-more-specifics: true
    proxy-reply: true
  - name: small
    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: small}]
    eid-prefixes: ["[2000] 10.0.0.0/24"]
    accept-more-specifics: true
    proxy-reply: true
EOF

lispms_start "$lispmsd" "$conf" "$work/lispmsd.log"
ok $? "lispmsd started on port $port"
srv=(--server "127.0.0.1:$port")

# 1. a mixed fabric: 10 reliable + 10 UDP ETRs of 50 EIDs, 2 threads
"$bench" fabric "${srv[@]}" --etrs 20 --eids-per-etr 50 --udp-share 0.5 --threads 2 \
    --batch 20 --duration 20 --json --quiet --case mixed >"$work/mixed.json" 2>"$work/mixed.err"
ok $? "fabric: a mixed fabric converges (exit status 0)"
expect "$work/mixed.json" mixed converged true "fabric: converged"
expect "$work/mixed.json" mixed reliable 10 "fabric: half the ETRs on sessions"
expect "$work/mixed.json" mixed acked 500 "fabric: 10 reliable ETRs x 50 EIDs all ACKed"
expect "$work/mixed.json" mixed udp_acked 500 "fabric: 10 UDP ETRs x 50 EIDs all confirmed by Map-Notify"
expect "$work/mixed.json" mixed udp_registers 30 "fabric: 3 Map-Registers of <= 20 records per UDP ETR"
expect "$work/mixed.json" mixed rejected 0 "fabric: nothing rejected"
expect "$work/mixed.json" mixed up_end 20 "fabric: every ETR up at the end"
expect "$work/mixed.json" mixed transport tcp "fabric: sessions over TCP by default"
# the session transport is chosen by name (issue 15); auto is TCP first, as the
# seed says (its fallbacks: integration.bench_auto)
"$bench" fabric "${srv[@]}" --etrs 4 --eids-per-etr 10 --transport auto --duration 20 \
    --json --quiet --case auto >"$work/auto.json" 2>"$work/auto.err"
ok $? "fabric --transport auto converges (exit status 0)"
expect "$work/auto.json" auto sessions_tcp 4 "fabric: auto opens every session over TCP first"
expect "$work/auto.json" auto fallbacks 0 "fabric: auto falls back from nothing when TCP opens"
"$bench" fabric "${srv[@]}" --etrs 4 --transport no-such --json --quiet >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "fabric: an unknown --transport is a usage error (exit 2)"
expect "$work/mixed.json" mixed notify_bad_auth 0 "fabric: every Map-Notify's HMAC verifies"
expect "$work/mixed.json" mixed_lat_registration_ack count 500 "fabric: one ACK latency per record"

# 2. ITRs: registered EIDs answered positive, configured-unregistered negative
# TTL 1, unknown negative TTL 15 (the registrations above stay, 600 s)
lisp=(--etrs 20 --eids-per-etr 50)
for m in "1:0:0 positive" "0:1:0 negative_ttl1" "0:0:1 negative_ttl15"; do
    set -- $m
    "$bench" request "${lisp[@]}" --mix "$1" "${srv[@]}" --count 2000 --duration 10 \
        --sockets 4 --window 4 --json >"$work/req.json" 2>/dev/null
    want=$(json_field "$work/req.json" map_request received)
    got=$(json_field "$work/req.json" map_request "$2")
    [ "$want" -ge 2000 ] 2>/dev/null && [ "$got" = "$want" ]
    ok $? "request --mix $1: all $want replies are $2 ($got)"
done
"$bench" request "${lisp[@]}" --mix 2:1:1 "${srv[@]}" --count 4000 --duration 10 \
    --sockets 4 --window 4 --json >"$work/req.json" 2>/dev/null
pos=$(json_field "$work/req.json" map_request positive)
t1=$(json_field "$work/req.json" map_request negative_ttl1)
t15=$(json_field "$work/req.json" map_request negative_ttl15)
"$py" -c "import sys; p,a,b=$pos,$t1,$t15; t=p+a+b; sys.exit(0 if t>=4000 and abs(p/t-0.5)<0.02 and abs(a/t-0.25)<0.02 else 1)"
ok $? "request --mix 2:1:1: replies split 50/25/25 by kind ($pos/$t1/$t15)"

# 3. lig: a registered EID shows its locator; an unknown one is negative
"$bench" lig '[1000] 10.0.0.7' --server 127.0.0.1 --port "$port" >"$work/lig.out" 2>&1
ok $? "lig: exit status 0 for a registered EID"
grep -q 'EID prefix     \[1000\] 10.0.0.7/32' "$work/lig.out" &&
    grep -qE '^    127\.1\.0\.1 +priority 1 weight 100' "$work/lig.out" &&
    grep -q 'locators       1' "$work/lig.out"
ok $? "lig: the EID prefix and ETR 0's locator 127.1.0.1 are printed"
"$bench" lig '[1000] 100.64.0.9' --server 127.0.0.1 --port "$port" >"$work/lig2.out" 2>&1
grep -q 'TTL            15 minutes' "$work/lig2.out" && grep -q 'negative' "$work/lig2.out"
ok $? "lig: an unknown EID gets a negative reply of 15 minutes"
"$bench" lig '[1000] 10.0.0.7' --server 127.0.0.1 --port 9 --timeout-ms 300 >/dev/null 2>"$work/lig3.err"
rc=$?
[ $rc -ne 0 ] && grep -q 'no Map-Reply' "$work/lig3.err"
ok $? "lig: no server, non-zero exit status ($rc) and a clear message"
"$bench" lig 'not-an-eid' --server 127.0.0.1 >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "lig: a bad EID argument is refused"

# 4. families, instances, locators, key 2 with HMAC-SHA-1
"$bench" fabric "${srv[@]}" --etrs 6 --first-etr 100 --eids-per-etr 30 --family ipv6 --iids 2 \
    --locators 2 --key-id 2 --alg sha1 --udp-share 0.5 --duration 20 --json --quiet \
    --case v6 >"$work/v6.json" 2>/dev/null
expect "$work/v6.json" v6 acked 90 "fabric: IPv6 EIDs in two instances, 2 locators, key 2 SHA-1 ACKed"
expect "$work/v6.json" v6 udp_acked 90 "fabric: the same over UDP confirmed"
"$bench" lig '[1001] 2001:db8::bd7' --server 127.0.0.1 --port "$port" >"$work/lig4.out" 2>&1
grep -q 'locators       2' "$work/lig4.out" && grep -qE '^    127\.2\.0\.' "$work/lig4.out"
ok $? "lig: an IPv6 EID in instance 1001 has both locators"
"$bench" fabric "${srv[@]}" --etrs 4 --first-etr 200 --eids-per-etr 10 --family mac \
    --duration 20 --json --quiet --case mac >"$work/mac.json" 2>/dev/null
expect "$work/mac.json" mac acked 40 "fabric: MAC EIDs ACKed"

# 5. rejections by reason: site `small` allows 10.0.0.0/24 only
"$bench" fabric "${srv[@]}" --etrs 1 --eids-per-etr 300 --iid 2000 --secret small \
    --duration 10 --json --quiet --case small >"$work/small.json" 2>/dev/null
expect "$work/small.json" small acked 256 "fabric: the 256 EIDs inside the site's prefix ACKed"
expect "$work/small.json" small rejected_not_site_prefix 44 "fabric: 44 rejected, reason 1 (not a site prefix)"
"$bench" fabric "${srv[@]}" --etrs 2 --eids-per-etr 5 --secret wrong --duration 2 --json \
    --quiet --case wrong >"$work/wrong.json" 2>/dev/null
rc=$?
[ $rc -ne 0 ] && [ "$(json_field "$work/wrong.json" wrong up_end)" = 0 ] &&
    [ "$(json_field "$work/wrong.json" wrong auth_timeouts)" -gt 0 ]
ok $? "fabric: a wrong key gets no session, auth timeouts counted, exit status $rc"

# storm: 300 ETRs at once, 2 threads, half on UDP
"$bench" fabric "${srv[@]}" --etrs 300 --first-etr 1000 --eids-per-etr 4 --storm --threads 2 \
    --udp-share 0.5 --duration 30 --json --quiet --case storm >"$work/storm.json" 2>/dev/null
a=$(json_field "$work/storm.json" storm acked)
u=$(json_field "$work/storm.json" storm udp_acked)
[ "$a" = 600 ] && [ "$u" = 600 ]
ok $? "storm: 300 ETRs started at once, every record ACKed ($a) or confirmed ($u)"

# 6. mobility: on sessions, then over UDP; churn on sessions
"$bench" fabric "${srv[@]}" --etrs 10 --first-etr 300 --eids-per-etr 20 --moves 400 \
    --move-rate 2000 --move-seconds 5 --churn 200 --churn-rate 2000 --churn-seconds 5 \
    --duration 20 --json --quiet --case mob >"$work/mob.json" 2>/dev/null
expect "$work/mob.json" mob moves_sent 400 "mobility: 400 moves between session ETRs"
expect "$work/mob.json" mob moves_notified 400 "mobility: every displaced ETR got its Mapping Notification"
expect "$work/mob.json" mob_lat_move_notify count 400 "mobility: 400 latencies measured"
expect "$work/mob.json" mob churn_sent 400 "churn: 200 withdrawals + 200 re-registrations"
expect "$work/mob.json" mob churn_acked 400 "churn: every one ACKed"
expect "$work/mob.json" mob notify_bad_auth 0 "mobility: every notification's HMAC verifies"
"$bench" fabric "${srv[@]}" --etrs 10 --first-etr 400 --eids-per-etr 20 --udp-share 1 \
    --moves 200 --move-rate 1000 --move-seconds 5 --duration 20 --json --quiet \
    --case umob >"$work/umob.json" 2>/dev/null
expect "$work/umob.json" umob moves_notified 200 "mobility over UDP: every displaced ETR got a Map-Notify"
acks=$(json_field "$work/umob.json" umob notify_acks_sent)
[ "$acks" -ge 200 ] 2>/dev/null
ok $? "mobility over UDP: each unsolicited Map-Notify acknowledged ($acks)"

# 7. tshark decodes the Map-Reply lig gets
if command -v tshark >/dev/null && command -v dumpcap >/dev/null; then
    dumpcap -q -i lo -f "udp port $port" -w "$work/lig.pcap" -a duration:6 >/dev/null 2>&1 &
    cap=$!
    sleep 2
    for i in 1 2 3; do
        "$bench" lig "[1000] 10.0.0.$i" --server 127.0.0.1 --port "$port" >/dev/null 2>&1
    done
    wait "$cap"
    replies=$(tshark -r "$work/lig.pcap" -d "udp.port==$port,lisp" -Y 'lisp.type == 2' \
        -T fields -e lisp.nonce 2>/dev/null | grep -c .)
    if [ -s "$work/lig.pcap" ]; then
        [ "$replies" -ge 3 ]
        ok $? "tshark decodes lig's Map-Replies ($replies of 3)"
    else
        skip "no capture on lo here"
    fi
else
    skip "tshark not installed"
fi

# 8. restart: kill -9 lispmsd under 20 converged session ETRs, start it again
"$bench" fabric "${srv[@]}" --etrs 20 --first-etr 500 --eids-per-etr 50 --hold 30 \
    --until-reconverged --duration 20 --json --progress --case restart \
    >"$work/restart.json" 2>"$work/restart.err" &
fab=$!
for _ in $(seq 1 100); do
    grep -q '^converged' "$work/restart.err" && break
    sleep 0.1
done
lispms_stop KILL
lispms_start "$lispmsd" "$conf" "$work/lispmsd.log"
wait "$fab"
ok $? "restart: the fabric reconverged by itself (exit status 0)"
expect "$work/restart.json" restart reconvergences 1 "restart: one reconvergence"
expect "$work/restart.json" restart acked 2000 "restart: every record ACKed twice (before and after)"
expect "$work/restart.json" restart up_end 20 "restart: every ETR up again"
lost=$(json_field "$work/restart.json" restart sessions_lost)
re=$(json_field "$work/restart.json" restart reconnects)
[ "$lost" -ge 20 ] && [ "$re" -ge 20 ]
ok $? "restart: 20 sessions lost, $re reconnections"
