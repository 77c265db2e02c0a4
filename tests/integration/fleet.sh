#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The LISP-DDT fleet end to end (RFC 8111, issue 21): eleven hosts in network
# namespaces this test creates and deletes (lmsf<pid>-*), joined by a bridge
# on 10.99.0.0/16; the topology is tests/support/fleet.sh's (the one
# tools/fleet starts): a DDT root, two DDT nodes, two redundant pairs of
# Map-Servers partitioned by instance and by prefix within an instance, two
# Map-Resolvers, simulated ETRs (lispms-bench fabric, UDP and sessions)
# registering with both Map-Servers of their pair (one lispms-bench per
# group, --server MS1,MS2; each server's acks checked), ITRs (lispms-bench lig
# and request) asking a resolver. Every host has an IPv6 address too
# (fd99::/64): IPv6 EIDs ([1000] 2001:db8::/32) are delegated root -> node1
# -> pair A by IPv6 RLOCs, mr2's root is the root's IPv6 address, and the
# ITR asks both resolvers over IPv6.
#
# Checked: sampled registered EIDs of every partition resolve to their
# locators through either resolver; unregistered EIDs inside a Map-Server's
# site get MS-NOT-REGISTERED's negative answer (TTL 1), undelegated ones
# DELEGATION-HOLE's with the TTL of the node that answered (root 15, node2
# 5); a warm referral cache sends each request straight to the Map-Server
# (one DDT request per positive answer, none for the cached negatives);
# kill -9 of one Map-Server of each pair under a request load loses no
# answer beyond the requests in flight (the bound is explained at the check),
# each restarted Map-Server gets its state back from the ETRs and answers
# again. The same over IPv6: sampled IPv6 EIDs answered by pair A through
# either resolver asked at its IPv6 address, MS-NOT-REGISTERED and the
# DELEGATION-HOLEs of the root and of node1 for IPv6 prefixes. dumpcap on
# the resolvers' bridge ports, tshark over everything they sent and
# received there, both families: no malformed packet, the DDT requests carry
# D, and the nonces of docs/protocol.md D25 (the resolver's own toward DDT
# nodes, never one an ITR sent; the ITR's toward Map-Servers).
# Needs root and `ip netns`; prints a SKIP line otherwise.
#
# Usage: fleet.sh LISPMSD LISPMSCTL LISPMS-BENCH
set -u
lispmsd=$1
ctl=$2
bench=$3
here=$(dirname "$(readlink -f "$0")")
. "$here/../support/lib.sh"
. "$here/../support/fleet.sh"
echo "TAP version 13"

[ "$(id -u)" -eq 0 ] || skip_all "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip_all "iproute2 (ip) is not installed"
probe=lmsf$$-probe
ip netns add "$probe" 2>/dev/null || skip_all "cannot create a network namespace (ip netns add)"
ip netns del "$probe"

# namespaces of an earlier run that was killed (SIGKILL leaves no trap):
# this test's own prefix, its pid no longer alive
for ns in $(ip netns list 2>/dev/null | grep -oE '^lmsf[0-9]+-[a-z0-9]+'); do
    p=${ns#lmsf}
    p=${p%%-*}
    kill -0 "$p" 2>/dev/null && continue
    for q in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$q" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
done

work=$(mktemp -d /tmp/lispms-fleet.XXXXXX)
fleet_init "lmsf$$-" "$work" "$lispmsd" "$ctl" "$bench"
cap=
watchdog=
cleanup() {
    local h
    kill "$watchdog" 2>/dev/null
    [ -n "$cap" ] && kill "$cap" 2>/dev/null && wait "$cap" 2>/dev/null
    fleet_etrs_stop
    for h in $FLEET_DAEMONS; do fleet_kill "$h" KILL >/dev/null 2>&1; done
    fleet_net_down
    if [ "$failed" -ne 0 ]; then
        for h in $FLEET_DAEMONS; do
            [ -f "$work/$h/lispmsd.log" ] && tail -n 5 "$work/$h/lispmsd.log" | sed "s/^/#   $h: /"
        done
    fi
    tap_cleanup "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
start=$SECONDS
# a watchdog well inside meson's timeout, so the trap (not SIGKILL) ends a
# run that hangs; every step in the foreground is bounded (lig 3 s, load 8 s)
(
    for ((i = 0; i < 150; i++)); do # ends within a second of the test
        sleep 1
        kill -0 $$ 2>/dev/null || exit 0
    done
    echo "# watchdog: 150 s, stopping"
    kill -TERM $$
) &
watchdog=$!

fleet_net_up
ok $? "eleven namespaces on one bridge (10.99.0.0/16, fd99::/64)"

if command -v dumpcap >/dev/null 2>&1; then
    # the resolvers' ports: what they send (DDT requests, negative replies)
    # and receive (Map-Referrals, ITR requests); the ITR's: every answer
    fleet_exec sw dumpcap -q -i p-mr1 -i p-mr2 -i p-itr -f "udp port $FLEET_PORT" \
        -w "$work/fleet.pcapng" >"$work/dumpcap.log" 2>&1 &
    cap=$!
    for _ in $(seq 1 50); do
        [ -s "$work/fleet.pcapng" ] && break
        sleep 0.1
    done
fi

fleet_start_all
ok $? "nine lispmsd up: root, node1, node2, msa1, msa2, msb1, msb2, mr1, mr2"

echo "# $((SECONDS - start)) s: daemons up"
fleet_etrs_start
a=$((FLEET_ETRS * FLEET_PER)) # EIDs per group
for ms in msa1 msa2; do # groups a (IPv4) and d (IPv6)
    fleet_wait_registered $ms $((2 * a)) 20
    ok $? "$ms holds pair A's $((2 * a)) EIDs, IPv4 and IPv6 ($(fleet_stat $ms lispms_db_prefixes))"
done
for ms in msb1 msb2; do
    fleet_wait_registered $ms $((2 * a)) 20
    ok $? "$ms holds pair B's $((2 * a)) EIDs ($(fleet_stat $ms lispms_db_prefixes))"
done
# one lispms-bench per group registers with both Map-Servers of the pair
# (--server MS1,MS2): each server's run reports its own acks in its
# progress lines (every 2 s): all the session ETRs' records acked by each
# server, Map-Notifies to the UDP ETRs from each
nsess=$(((FLEET_ETRS - FLEET_ETRS / 2) * FLEET_PER)) # --udp-share 0.5
npid=$(ls "$FLEET_WORK"/etr/*.pid 2>/dev/null | wc -l)
for g in $FLEET_GROUPS; do
    for m in 1 2; do # (n is lib.sh's check counter)
        for ((i = 0; i < 60; i++)); do
            read -r acked udp <<<"$(fleet_etr_acked $g $m)"
            [ "$acked" -ge $nsess ] && [ "$udp" -gt 0 ] && break
            sleep 0.1
        done
    done
    read -r acked1 udp1 <<<"$(fleet_etr_acked $g 1)"
    read -r acked2 udp2 <<<"$(fleet_etr_acked $g 2)"
    [ "$npid" -eq 4 ] && [ "$acked1" -ge $nsess ] && [ "$acked2" -ge $nsess ] &&
        [ "$udp1" -gt 0 ] && [ "$udp2" -gt 0 ]
    ok $? "group $g (one of $npid lispms-bench): acks from both Map-Servers of its pair, $(fleet_ms $g 1) $acked1 records + $udp1 UDP Map-Notifies, $(fleet_ms $g 2) $acked2 + $udp2 (want >= $nsess session records each)"
done
sess=$(fleet_stat msa1 lispms_sessions_up)
[ "$sess" -ge 1 ] && [ "$sess" -lt $((2 * FLEET_ETRS)) ] # groups a and d
ok $? "pair A's ETRs are a mix of sessions ($sess up on msa1) and UDP soft state"

# lig EID via resolver MR (asked at its IPv4 address; at its IPv6 one when
# MR is written mr1/6): "FROM LOCATOR-OR-NEGATIVE TTL PREFIX", FROM without
# port or brackets
lig() {
    local out server
    case $1 in
    */6) server=$(fleet_addr6 "${1%/6}") ;;
    *) server=$(fleet_addr "$1") ;;
    esac
    out=$(fleet_exec itr "$bench" lig "$2" --server "$server" --port $FLEET_PORT \
        --timeout-ms 3000 2>&1)
    echo "$out" >>"$work/lig.log"
    awk '/^Map-Reply from/ { from = $3; sub(/:[0-9]+$/, "", from); gsub(/[][]/, "", from) }
         /EID prefix/ { prefix = $NF }
         /^  TTL/ { ttl = $2 }
         /^    [0-9]/ { if (loc == "") loc = $1 }
         END { if (loc == "") loc = "negative"; print from, loc, ttl, prefix }' <<<"$out"
}

samples="0 $((FLEET_PER + 1)) $((2 * FLEET_PER + 7)) $((a - 1))"
# check_positive MR GROUP [WANT-FROM]: every sample answered by the group's
# pair (or by WANT-FROM) with its locator; asked over IPv6 (MR written
# mr1/6), the Map-Server answers the ITR's IPv6 ITR-RLOC from its IPv6 address
check_positive() {
    local mr=$1 g=$2 want=${3:-} k got bad=0 asked=0 ms1 ms2 f=fleet_addr
    case $mr in */6) f=fleet_addr6 ;; esac
    ms1=$($f "$(fleet_ms "$g" 1)")
    ms2=$($f "$(fleet_ms "$g" 2)")
    local pids=() tag=${mr//\//.}
    for k in $samples; do # the questions at once, then the answers
        lig "$mr" "$(fleet_eid "$g" "$k")" >"$work/lig.$tag.$g.$k" &
        pids+=($!)
    done
    wait "${pids[@]}"
    for k in $samples; do
        asked=$((asked + 1))
        got=$(cat "$work/lig.$tag.$g.$k")
        read -r from loc _ _ <<<"$got"
        if [ "$loc" != "$(fleet_locator "$g" "$k")" ] ||
            { [ -n "$want" ] && [ "$from" != "$want" ]; } ||
            { [ "$from" != "$ms1" ] && [ "$from" != "$ms2" ]; }; then
            bad=$((bad + 1))
            echo "# $(fleet_eid "$g" "$k") via $mr: $got"
        fi
    done
    [ $bad -eq 0 ]
    ok $? "group $g via $mr: $asked sampled EIDs answered by ${want:-their pair} with their locators"
}
for mr in mr1 mr2; do
    for g in a b c; do check_positive $mr $g; done
done
# IPv6 EIDs through both resolvers, asked over IPv6 and (mr1) over IPv4
check_positive mr1/6 d
check_positive mr2/6 d
check_positive mr1 d

echo "# $((SECONDS - start)) s: positive samples done"
# check_negative MR EID FROM-WHOM TTL PREFIX WHY
negatives=(
    "[1000] 10.0.100.1|1|10.0.64.0/18|unregistered in pair A's site: MS-NOT-REGISTERED"
    "[1000] 10.0.200.1|1|10.0.192.0/18|unregistered in pair B's [1000] site: MS-NOT-REGISTERED"
    "[2000] 10.0.100.1|1|10.0.64.0/18|unregistered in pair B's [2000] site: MS-NOT-REGISTERED"
    "[1000] 10.5.0.1|15|10.4.0.0/14|undelegated at the root: DELEGATION-HOLE"
    "[2000] 10.1.0.1|5|10.1.0.0/16|undelegated at node2: DELEGATION-HOLE"
)
negatives6=(
    "[1000] 2001:db8:1::1|1|2001:db8:1::/48|unregistered in pair A's IPv6 site: MS-NOT-REGISTERED"
    "[1000] 2001:db8:100::1|15|2001:db8:100::/40|undelegated IPv6 at the root: DELEGATION-HOLE"
    "[1000] 2001:db8:8::1|10|2001:db8:8::/45|undelegated IPv6 at node1: DELEGATION-HOLE"
)
check_negatives() { # MR [LIST-NAME]
    local mr=$1 line eid ttl prefix why got from loc gttl gprefix me
    local -n list=${2:-negatives}
    case $mr in */6) me=$(fleet_addr6 "${mr%/6}") ;; *) me=$(fleet_addr "$mr") ;; esac
    for line in "${list[@]}"; do
        IFS='|' read -r eid ttl prefix why <<<"$line"
        got=$(lig "$mr" "$eid")
        read -r from loc gttl gprefix <<<"$got"
        [ "$from" = "$me" ] && [ "$loc" = negative ] &&
            [ "$gttl" = "$ttl" ] && [ "$gprefix" = "$prefix" ]
        ok $? "$eid via $mr: $why, negative reply from the resolver, TTL $ttl, $prefix ($got)"
    done
}
check_negatives mr1
check_negatives mr2
check_negatives mr1/6 negatives6
check_negatives mr2/6 negatives6

# warm cache: the same questions again cost one DDT request per positive
# answer (straight to the Map-Server), one per MS-NOT-REGISTERED (our
# Map-Servers set I on it: not cached, RFC 8111 §6.4.1), none for the holes
d0=$(fleet_stat mr1 lispms_mr_ddt_requests_sent_total)
h0=$(fleet_stat mr1 lispms_mr_cache_lookups_total 'result="hit"')
npos=0
for g in a b c; do
    for k in $samples; do
        lig mr1 "$(fleet_eid "$g" "$k")" >/dev/null
        npos=$((npos + 1))
    done
done
for line in "${negatives[@]}"; do lig mr1 "${line%%|*}" >/dev/null; done
d1=$(fleet_stat mr1 lispms_mr_ddt_requests_sent_total)
h1=$(fleet_stat mr1 lispms_mr_cache_lookups_total 'result="hit"')
nnr=0
for line in "${negatives[@]}"; do case $line in *MS-NOT-REGISTERED) nnr=$((nnr + 1)) ;; esac; done
[ $((d1 - d0)) -eq $((npos + nnr)) ] && [ $((h1 - h0)) -ge $((npos + ${#negatives[@]})) ]
ok $? "warm referral cache: $npos positive + ${#negatives[@]} negative questions cost $((d1 - d0)) DDT requests (want $npos + $nnr MS-NOT-REGISTERED), $((h1 - h0)) cache hits"

echo "# $((SECONDS - start)) s: warm cache checked"
# kill -9 of one Map-Server of each pair while ITRs ask both resolvers
read -r acked_a1 _ <<<"$(fleet_etr_acked a 1)"
read -r acked_a2 _ <<<"$(fleet_etr_acked a 2)"
t0=$(fleet_stat mr1 lispms_mr_ddt_timeouts_total)
u0=$(fleet_stat mr2 lispms_mr_ddt_timeouts_total)
load() { # load MR IID OUT
    fleet_exec itr "$bench" request --etrs "$FLEET_ETRS" --eids-per-etr "$FLEET_PER" \
        --iid "$2" --server "$(fleet_addr "$1"):$FLEET_PORT" --rate 150 --duration 6 --sockets 2 --window 8 --timeout-ms 2000 --json >"$3" 2>&1
}
load mr1 1000 "$work/load_a.json" &
la=$!
load mr2 2000 "$work/load_c.json" &
lc=$!
sleep 2
fleet_kill msa1 KILL && fleet_kill msb1 KILL
ok $? "kill -9 of msa1 and msb1 two seconds into the load"
wait $la
wait $lc
# The bound: a request is lost only when the dead Map-Server took it and
# died between its MS-ACK to the resolver and its Map-Reply to the ITR (a
# request it never answered times out at the resolver, 300 ms, and goes to
# the partner within the ITR's 2 s). At most every request in flight at the
# kill, i.e. the load's window, 2 sockets x 8 = 16; plus at most 16 still in
# flight when the load stops (sent but neither answered nor timed out yet).
for f in load_a load_c; do
    read -r sent recv lost <<<"$(python3 -c 'import json,sys
r = json.load(open(sys.argv[1])); print(r["sent"], r["received"], r["lost"])' "$work/$f.json" 2>/dev/null)"
    [ -n "$lost" ] && [ "$lost" -le 16 ] && [ $((sent - recv)) -le 32 ] && [ "$recv" -ge 300 ]
    ok $? "$f: $recv of $sent requests answered across the kill, $lost lost (bound 16 in flight)"
done
load_end=$SECONDS
# The first timeout holds the dead Map-Server down (16 x timeout-ms = 4.8 s,
# longer than the 4 s of load left): the requests that follow go to its
# partner. Only those already sent to it time out, at most the load's
# window (16: the ITR sends no more until they are answered), plus at most
# two probes when a hold-down ends. Without the hold-down every request of
# the 4 s pays one (about 220).
t1=$(fleet_stat mr1 lispms_mr_ddt_timeouts_total)
u1=$(fleet_stat mr2 lispms_mr_ddt_timeouts_total)
[ $((t1 - t0)) -ge 1 ] && [ $((u1 - u0)) -ge 1 ] && [ $((t1 - t0)) -le 18 ] && [ $((u1 - u0)) -le 18 ]
ok $? "the dead Map-Servers cost resolver timeouts once, not per request (mr1 $((t1 - t0)), mr2 $((u1 - u0)), bound 18), the partners answered"

echo "# $((SECONDS - start)) s: load done"
fleet_start msa1 && fleet_start msb1
ok $? "msa1 and msb1 restarted"
fleet_wait_registered msa1 $((2 * a)) 20
ok $? "msa1's state came back from the ETRs: $(fleet_stat msa1 lispms_db_prefixes) EIDs, IPv4 and IPv6"
fleet_wait_registered msb1 $((2 * a)) 20
ok $? "msb1's state came back from the ETRs: $(fleet_stat msb1 lispms_db_prefixes) EIDs"
echo "# $((SECONDS - start)) s: state back"
# the resolvers probe msa1 and msb1 again once their hold-down (4.8 s after
# the last timeout) is over; a probe answered clears it. Until then the
# partner answers, so wait (bounded) for one answer from each restarted
# Map-Server through each resolver before asking the samples in parallel.
await_from() { # MR GROUP WANT-FROM: at most 30 tries, 0.5 s apart
    local i from _
    for ((i = 0; i < 30; i++)); do
        read -r from _ <<<"$(lig "$1" "$(fleet_eid "$2" 0)")"
        [ "$from" = "$3" ] && return 0
        sleep 0.5
    done
    return 1
}
await_from mr1 a "$(fleet_addr msa1)" && await_from mr2 c "$(fleet_addr msb1)" &&
    await_from mr2 b "$(fleet_addr msb1)"
ok $? "the restarted msa1 and msb1 answer through the resolvers again (hold-down over, $((SECONDS - load_end)) s after the load)"
check_positive mr1 a "$(fleet_addr msa1)"
check_positive mr2 c "$(fleet_addr msb1)"
check_positive mr2 b "$(fleet_addr msb1)"

# group a's lispms-bench: its run for msa1 re-registered the sessions'
# records (acked again), its run for msa2 went on undisturbed
for ((i = 0; i < 60; i++)); do
    read -r acked _ <<<"$(fleet_etr_acked a 1)"
    [ "$acked" -ge $((acked_a1 + nsess)) ] && break
    sleep 0.1
done
read -r acked2 _ <<<"$(fleet_etr_acked a 2)"
[ "$acked" -ge $((acked_a1 + nsess)) ] && [ "$acked2" -ge "$acked_a2" ]
ok $? "group a's ETRs re-registered with msa1 in the same lispms-bench: msa1 acked $acked_a1 -> $acked records, msa2 $acked_a2 -> $acked2"
# the referrals each resolver keeps (lispmsctl resolver cache): the node's
# and both pairs' Map-Server sets
for mr in mr1 mr2; do
    fleet_ctl $mr resolver cache >"$work/$mr.cache" 2>&1
    grep -qE '^\[1000\] 10\.0\.0\.0/16 +node-referral .*10\.99\.0\.11$' "$work/$mr.cache" &&
        grep -qE '^\[1000\] 10\.0\.0\.0/17 +ms-referral .*10\.99\.0\.21,10\.99\.0\.22$' "$work/$mr.cache" &&
        grep -qE '^\[2000\] 10\.0\.0\.0/16 +ms-referral .*10\.99\.0\.23,10\.99\.0\.24$' "$work/$mr.cache" &&
        grep -qE '^\[1000\] 10\.4\.0\.0/14 +delegation-hole +15 ' "$work/$mr.cache" &&
        grep -qE '^\[1000\] 2001:db8::/44 +node-referral .*fd99::11$' "$work/$mr.cache" &&
        grep -qE '^\[1000\] 2001:db8::/47 +ms-referral .*fd99::21,fd99::22$' "$work/$mr.cache" &&
        grep -qE '^\[1000\] 2001:db8:8::/45 +delegation-hole +10 ' "$work/$mr.cache"
    ok $? "lispmsctl resolver cache on $mr: node1's NODE-REFERRALs (IPv4, IPv6), both pairs' MS-REFERRALs, pair A's IPv6 one, the root's and node1's holes"
done

echo "# $((SECONDS - start)) s: capture checks"
if [ -n "$cap" ] && command -v tshark >/dev/null 2>&1; then
    sleep 0.5
    kill "$cap" && wait "$cap" 2>/dev/null
    cap=
    pc=$work/fleet.pcapng
    bad='lisp.unexpected_field || lisp.invalid_field || lisp.expected_field || lisp.undecoded'
    bad="$bad || _ws.malformed || _ws.expert.severity >= warning || data || !lisp"
    # two passes: every frame's fields, and the frames with anything wrong
    f='-e frame.protocols -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e lisp.type'
    tshark -r "$pc" -Y udp -T fields $f -e lisp.ecm.flags.ddt -e lisp.mapping.act \
        -e lisp.nonce >"$work/frames.txt" 2>/dev/null
    tshark -r "$pc" -Y "udp && ($bad)" -T fields $f >"$work/bad.txt" 2>/dev/null
    # count FILE AWK-CONDITION over src, dst, v6 (the outer header's: the
    # first IP layer in frame.protocols; an ECM repeats the addresses
    # inside, in either family), type, ddt, act, nonce
    count() {
        awk -F'\t' '{ v6 = $1 !~ /ethertype:ip:/
            split(v6 ? $4 : $2, s, ","); split(v6 ? $5 : $3, r, ",")
            split($6, t, ","); split($7, d, ","); split($8, a, ",")
            src = s[1]; dst = r[1]; type = t[1]; ddt = d[1]; act = a[1]; nonce = $9 }
            '"$2"' { c++ } END { print c + 0 }' "$1"
    }
    mrs='(src == "10.99.0.31" || src == "10.99.0.32" || src == "fd99::31" || src == "fd99::32")'
    c=$(count "$work/frames.txt" "$mrs && type != \"\"")
    d=$(count "$work/frames.txt" "$mrs && v6 && type != \"\"")
    [ "$c" -ge 100 ] && [ "$d" -ge 20 ]
    ok $? "tshark: $c LISP messages sent by the resolvers, $d of them over IPv6"
    c=$(count "$work/bad.txt" "$mrs")
    [ "$c" -eq 0 ]
    ok $? "tshark: none malformed, with warnings, undecoded or not LISP ($c)"
    c=$(count "$work/frames.txt" "$mrs && type == 8 && ddt != 1")
    d=$(count "$work/frames.txt" "$mrs && type == 8 && ddt == 1")
    [ "$c" -eq 0 ] && [ "$d" -ge 100 ]
    ok $? "tshark: $d DDT Map-Requests from the resolvers, all with D ($c without)"
    c=$(count "$work/frames.txt" "type == 6")
    d=$(count "$work/bad.txt" "type == 6")
    [ "$c" -ge 20 ] && [ "$d" -eq 0 ]
    ok $? "tshark: $c Map-Referrals to the resolvers, none malformed ($d)"
    c=$(count "$work/frames.txt" "$mrs && type == 2 && act == 1")
    [ "$c" -ge 10 ]
    ok $? "tshark: $c negative Map-Replies (Native-Forward) from the resolvers"
    c=$(count "$work/frames.txt" "type == 2 && src == \"10.99.0.21\" && dst == \"10.99.0.41\"")
    d=$(count "$work/frames.txt" "type == 2 && (src == \"fd99::21\" || src == \"fd99::22\") && dst == \"fd99::41\"")
    [ "$c" -ge 100 ] && [ "$d" -ge 8 ]
    ok $? "tshark: $c Map-Replies from msa1 straight to the ITR, $d from pair A over IPv6"
    # D25: the inner Map-Request's nonce of a DDT Map-Request is the
    # resolver's own toward the root and nodes (never a nonce the ITR sent),
    # the ITR's toward the Map-Servers (they answer the ITR with it)
    itr='(src == "10.99.0.41" || src == "fd99::41")'
    count "$work/frames.txt" "$itr && type == 8 && ddt != 1 { print nonce > \"$work/itr.nonces\" } 0" >/dev/null
    nodes='(dst ~ /^(10\.99\.0\.(1|11|12)|fd99::(1|11|12))$/)'
    sms='(dst ~ /^(10\.99\.0\.2[1-4]|fd99::2[1-4])$/)'
    mine="BEGIN { while ((getline l < \"$work/itr.nonces\") > 0) itr[l] = 1 } $mrs && type == 8 && ddt == 1"
    c=$(count "$work/frames.txt" "$mine && $nodes && !(nonce in itr)")
    d=$(count "$work/frames.txt" "$mine && $nodes && (nonce in itr)")
    e=$(count "$work/frames.txt" "$mine && $sms && (nonce in itr)")
    g=$(count "$work/frames.txt" "$mine && $sms && !(nonce in itr)")
    [ "$c" -ge 20 ] && [ "$d" -eq 0 ] && [ "$e" -ge 100 ] && [ "$g" -eq 0 ]
    ok $? "tshark: $c DDT Map-Requests to the root and nodes with the resolvers' own nonces ($d with an ITR's), $e to Map-Servers with the ITR's ($g not)"
elif [ -n "${LISPMS_ALLOW_NO_TSHARK:-}" ]; then
    skip "dumpcap/tshark not installed: no capture of the resolvers' traffic"
else
    ok 1 "tshark and dumpcap are needed (tools/test installs them)"
fi

if [ -n "${FLEET_SIGN:-}" ]; then # every referral signed and verified (D24)
    s=0 m=0
    for h in root node1 node2 msa1 msa2 msb1 msb2; do
        s=$((s + $(fleet_stat "$h" lispms_ddt_referrals_signed_total)))
        m=$((m + $(fleet_stat "$h" lispms_ddt_signatures_made_total)))
    done
    d=0
    for h in mr1 mr2; do
        for r in signature_failed unsigned_referral no_referral_key; do
            d=$((d + $(fleet_stat "$h" lispms_mr_dropped_total "\"$r\"")))
        done
    done
    [ "$s" -gt 0 ] && [ "$d" -eq 0 ]
    ok $? "FLEET_SIGN: $s Map-Referrals signed ($m RSA signatures made), $d dropped by the resolvers' signature checks"
fi

for h in $FLEET_DAEMONS; do
    fleet_kill "$h" TERM
    ok $? "$h stops on SIGTERM"
done
echo "# $((SECONDS - start)) s"
exit $((failed > 0))
