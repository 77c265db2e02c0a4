#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lispmsd's operations surface end to end on loopback (issue 7): lispmsctl
# (every command, text and JSON, errors), /metrics checked by promtool,
# live reload (a removed prefix withdraws its registrations, a bad file
# keeps the running configuration, SIGHUP, a reload while lispms-bench
# registers thousands per second loses nothing still allowed), systemd
# readiness, stop. Prints TAP.
#
# Usage: ops.sh LISPMSD LISPMSCTL LISPMS-BENCH SYSTEMD(yes|no)
# promtool (Debian package prometheus) is required; LISPMS_ALLOW_NO_PROMTOOL=1
# turns its absence into a SKIP.
set -u
. "$(dirname "$(readlink -f "$0")")/../support/lib.sh"
lispmsd=$1
ctl=$2
bench=$3
systemd=${4:-no}
py=/usr/bin/python3
[ -x "$py" ] || py=python3

work=$(mktemp -d "$PWD/ops-it.XXXXXX")
pid=
loadpid=
notifypid=
trap 'tap_cleanup "$work" $pid $loadpid $notifypid' EXIT

port=$(free_port udp)
mport=$(free_port tcp)
sock=$work/ctl.sock
conf=$work/lispms.yaml

write_conf() { # write_conf EXTRA-SITES-TEXT [LOG-LEVEL]
    lispms_conf "$conf" "$port" "workers: 2" "registration-timeout: 600" <<EOF
metrics:
  listen: 127.0.0.1:$mport
log:
  level: ${2:-info}
sites:
  - name: bench
    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: bench}]
    eid-prefixes: ["[1000] 10.0.0.0/16", "[1000] 10.1.0.0/16"]
    accept-more-specifics: true
  - name: load
    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: bench}]
    eid-prefixes: ["[2000] 10.0.0.0/8"]
    accept-more-specifics: true
$1
EOF
}
other='  - name: other
    keys: [{id: 7, algorithm: hmac-sha-1-96, secret: "o\"ther"}]
    eid-prefixes: ["[3000] 10.0.0.0/8"]
    accept-more-specifics: true
    proxy-reply: true'
write_conf "$other"

echo "TAP version 13"

# ---- start, with a fake systemd notify socket
notify=$work/notify.sock
"$py" - "$notify" >"$work/notify.log" 2>&1 <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
# bounded by the test's own length, not by the gap between messages: the first
# reload may come long after READY=1 on a loaded machine (ASan builds in CI)
s.settimeout(300)
try:
    while True:
        print(s.recv(4096).decode(), flush=True)
except socket.timeout:
    pass
EOF
notifypid=$!
for _ in $(seq 50); do [ -S "$notify" ] && break; sleep 0.05; done
NOTIFY_SOCKET=$notify lispms_start "$lispmsd" "$conf" "$work/d.log"
pid=$LISPMS_PID
"$ctl" -s "$sock" status >/dev/null 2>&1
up=$?
ok $up "lispmsd starts and lispmsctl reaches it over $sock"
if [ $up -ne 0 ]; then
    sed 's/^/# /' "$work/d.log"
    exit 1
fi

out=$("$ctl" -c "$conf" status)
echo "$out" | grep -q "^sites: *3$" && echo "$out" | grep -q "^workers: *2$" &&
    echo "$out" | grep -q "file: *$conf" && echo "$out" | grep -q "generation: *1$"
ok $? "status (socket taken from -c CONFIG): sites, workers, config file, generation"
"$ctl" -s "$sock" --json status | "$py" -m json.tool >/dev/null
ok $? "status --json is valid JSON"

# ---- registrations from lispms-bench: 100 ETRs x 1000 EIDs over 10.0/16 and 10.1/16
"$bench" register --etrs 100 --eids-per-etr 1000 --iid 1000 --server "127.0.0.1:$port" \
    --count 300000 --duration 30 --window 4 >"$work/bench1.log" 2>&1
prefixes=$("$ctl" -s "$sock" --json status | "$py" -c 'import json,sys; print(json.load(sys.stdin)["eid_prefixes"])')
[ "$prefixes" = 100000 ]
ok $? "100000 EIDs registered and counted by status ($prefixes)"
sed 's/^/# /' "$work/bench1.log"

out=$("$ctl" -s "$sock" registrations)
[ "$(echo "$out" | grep -c '^\[1000\] 10\.')" -eq 1000 ] && echo "$out" | grep -q "first 1000 shown"
ok $? "registrations stops at the default limit of 1000 and says so"
cnt=$("$ctl" -s "$sock" --json registrations --limit 200000 | "$py" -c 'import json,sys; d=json.load(sys.stdin); print(d["count"], d["truncated"], len(d["registrations"]))')
[ "$cnt" = "100000 False 100000" ]
ok $? "registrations --limit 200000 --json streams all 100000 as valid JSON ($cnt)"
"$ctl" -s "$sock" registrations --limit 3 | head -n 2 >/dev/null
"$ctl" -s "$sock" status >/dev/null
ok $? "a client that stops reading (| head) does not disturb lispmsd"
out=$("$ctl" -s "$sock" registrations --site other)
echo "$out" | grep -q "^0 registrations$"
ok $? "registrations --site filters by site"

# ---- refused registrations and their diagnosis
"$bench" register --etrs 2 --eids-per-etr 5 --iid 1000 --secret wrong --server "127.0.0.1:$port" \
    --count 10 --duration 2 --timeout-ms 200 >/dev/null 2>&1
"$ctl" -s "$sock" site show bench | grep -qE "bad_hmac +\[1000\] 10\.0\.0\.[0-9]+/32 +127\.0\.0\.1:[0-9]+ +1 +hmac-sha-256-128 +-$"
ok $? "site show lists a bad HMAC with its EID, source, key id and algorithm"
"$bench" register --etrs 2 --eids-per-etr 5 --iid 1000 --key-id 9 --server "127.0.0.1:$port" \
    --count 10 --duration 2 --timeout-ms 200 >/dev/null 2>&1
out=$("$ctl" -s "$sock" site show bench)
echo "$out" | grep -q "rejected bad hmac: *[1-9]" && echo "$out" | grep -q "rejected unknown key: *[1-9]"
ok $? "site show counts bad HMACs and unknown keys"
echo "$out" | grep -qE "^20[0-9-]+T[0-9:]+Z +unknown_key +\[1000\] 10\.0\.0\.[0-9]+/32 +127\.0\.0\.1:[0-9]+ +9 +hmac-sha-[0-9-]+ +-$"
ok $? "the newest rejections come first: the unknown key id 9"
echo "$out" | grep -q "keys: *1 hmac-sha-256-128" && ! echo "$out" | grep -q "secret"
ok $? "site show gives key ids and algorithms, never secrets"
"$ctl" -s "$sock" site list | grep -qE "^bench +2 +1 +[0-9]+ +[0-9]+ +[1-9][0-9]* +20[0-9-]+T"
ok $? "site list shows rejections and when the last one happened"

# ---- eid lookup
out=$("$ctl" -s "$sock" eid lookup '[1000] 10.0.0.7')
echo "$out" | grep -q "^answer: *proxy-reply" && echo "$out" | grep -q "P bit"
ok $? "eid lookup of a registered EID: proxy reply because of the P bit"
out=$("$ctl" -s "$sock" --json eid lookup '[1000] 10.1.200.1')
echo "$out" | "$py" -c 'import json,sys; d=json.load(sys.stdin); assert d["answer"]=="negative-configured" and d["prefix"]=="[1000] 10.1.192.0/18" and d["ttl_minutes"]==1 and d["site"]=="bench", d'
ok $? "eid lookup inside a configured prefix: negative, TTL 1, the hole's prefix"
out=$("$ctl" -s "$sock" eid lookup '[7] 10.0.0.1')
echo "$out" | grep -q "^answer: *negative-unknown" && echo "$out" | grep -q "TTL 15 min"
ok $? "eid lookup outside every site: negative unknown, TTL 15"

# ---- stats and /metrics
"$ctl" -s "$sock" stats register_records | grep -qE '^lispms_register_records_total\{result="accepted"\} +[1-9]'
ok $? "stats FILTER reads the same registry as /metrics"
curl -sf "http://127.0.0.1:$mport/metrics" >"$work/metrics.txt"
ok $? "GET /metrics answers"
grep -q '^lispms_db_instance_prefixes{iid="1000",family="ipv4"} 100000$' "$work/metrics.txt" &&
    grep -q '^lispms_site_register_rejected_total{site="bench",reason="bad_hmac"} [1-9]' "$work/metrics.txt" &&
    grep -q '^lispms_build_info{version=".*",rcu="[a-z]*",fastpath=".*"} 1$' "$work/metrics.txt" &&
    grep -q '^lispms_config_generation 1$' "$work/metrics.txt" &&
    grep -q '^lispms_register_processing_seconds_bucket{le="+Inf"} [1-9]' "$work/metrics.txt"
ok $? "/metrics has EIDs per instance and family, per-site rejections, build info, histograms"
if command -v promtool >/dev/null 2>&1; then
    promtool check metrics <"$work/metrics.txt" >"$work/promtool.log" 2>&1
    rc=$?
    sed 's/^/# /' "$work/promtool.log" | head -n 20
    ok $rc "promtool check metrics accepts the whole exposition"
elif [ "${LISPMS_ALLOW_NO_PROMTOOL:-}" = 1 ]; then
    skip "promtool not installed (LISPMS_ALLOW_NO_PROMTOOL=1)"
else
    ok 1 "promtool is needed (apt-get install prometheus; tools/test installs it)"
fi
curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/nope" | grep -q 404
ok $? "other paths get 404"

# ---- reload: a removed prefix withdraws its registrations
sed -i 's|eid-prefixes: \["\[1000\] 10.0.0.0/16", "\[1000\] 10.1.0.0/16"\]|eid-prefixes: ["[1000] 10.0.0.0/16"]|' "$conf"
msg=$("$ctl" -s "$sock" reload)
ok $? "lispmsctl reload of a valid file succeeds"
echo "# $msg"
echo "$msg" | grep -q "generation 2, .* 34464 registrations removed"
ok $? "it removes exactly the 34464 registrations under the removed 10.1.0.0/16"
cnt=$("$ctl" -s "$sock" --json registrations --limit 200000 | "$py" -c 'import json,sys; d=json.load(sys.stdin); print(d["count"], sum(1 for r in d["registrations"] if r["prefix"].startswith("[1000] 10.1.")))')
[ "$cnt" = "65536 0" ]
ok $? "the 65536 under 10.0.0.0/16 stay, none under 10.1.0.0/16 ($cnt)"
grep -q 'lispms_site_reload_withdrawn_total{site="bench"} 34464' <(curl -s "http://127.0.0.1:$mport/metrics")
ok $? "/metrics counts them per site"

cp "$conf" "$work/good.yaml"
printf 'sites:\n  - name: broken\n    keys: [{id: 1, algorithm: hmac-md5, secret: x}]\n    eid-prefixes: ["10.0.0.0/8"]\n' >"$conf"
msg=$("$ctl" -s "$sock" reload 2>&1)
rc=$?
echo "# $msg"
[ $rc -eq 1 ] && echo "$msg" | grep -q "keeping the running configuration" &&
    echo "$msg" | grep -q "lispms.yaml:3:.*hmac-md5"
ok $? "a bad file is refused with file, line and key; lispmsctl exits 1"
out=$("$ctl" -s "$sock" status)
echo "$out" | grep -q "generation: *2$" && echo "$out" | grep -q "last reload result: *failed" &&
    echo "$out" | grep -q "^eid prefixes: *65536$"
ok $? "the running configuration and every registration stay"
curl -s "http://127.0.0.1:$mport/metrics" | grep -q '^lispms_config_last_reload_success 0$'
ok $? "/metrics says the last reload failed"
grep -q "reload of .* refused, keeping the running configuration" "$work/d.log"
ok $? "the refusal is logged too"

cp "$work/good.yaml" "$conf"
sed -i 's/^  level: info/  level: notice/' "$conf"
kill -HUP "$pid"
gen=
for _ in $(seq 50); do
    gen=$("$ctl" -s "$sock" status | awk '/generation:/ {print $2}')
    [ "$gen" = 3 ] && break
    sleep 0.1
done
[ "$gen" = 3 ] && "$ctl" -s "$sock" log-level | grep -q "notice"
ok $? "SIGHUP reloads too (generation 3, log level notice from the file)"

# ---- reload under load: nothing still allowed is lost
"$bench" register --etrs 100 --eids-per-etr 200 --iid 2000 --server "127.0.0.1:$port" \
    --duration 4 --window 4 >"$work/load.log" 2>&1 &
loadpid=$!
sleep 0.5
reloads=0
for i in 1 2 3 4 5 6; do
    if [ $((i % 2)) -eq 1 ]; then write_conf "" notice; else write_conf "$other" notice; fi
    "$ctl" -s "$sock" reload >>"$work/reloads.log" 2>&1 && reloads=$((reloads + 1))
    sleep 0.4
done
wait "$loadpid"
lrc=$?
loadpid=
sed 's/^/# /' "$work/load.log"
[ $lrc -eq 0 ] && [ $reloads -eq 6 ]
ok $? "6 reloads succeed while lispms-bench registers"
rate=$(grep -oE '^register: [0-9]+' "$work/load.log" | awk '{print $2}')
[ "${rate:-0}" -ge 2000 ]
ok $? "the load ran at thousands of registrations per second (${rate:-0}/s)"
cnt=$("$ctl" -s "$sock" --json registrations --iid 2000 --limit 100000 | "$py" -c 'import json,sys; print(json.load(sys.stdin)["count"])')
[ "$cnt" = 20000 ]
ok $? "all 20000 EIDs of the load are registered after the reloads ($cnt)"
curl -s "http://127.0.0.1:$mport/metrics" | grep -q '^lispms_site_reload_withdrawn_total{site="load"} 0$'
ok $? "no reload removed a registration of the site that stayed allowed"
[ "$(grep -c ' 0 registrations removed' "$work/reloads.log")" -eq 6 ]
ok $? "every reload under load reports 0 registrations removed"

# ---- log level, sessions, errors
"$ctl" -s "$sock" log-level debug | grep -q "log level debug" &&
    "$ctl" -s "$sock" status | grep -q "log level: *debug"
ok $? "log-level sets the level at run time"
msg=$("$ctl" -s "$sock" sessions 2>&1)
[ $? -eq 0 ] && echo "$msg" | head -n 1 | grep -q "^PEER .*STATE$" &&
    echo "$msg" | tail -n 1 | grep -Eq "^[0-9]+ sessions$"
ok $? "sessions answers with its table (ms_tcp drives it with live sessions)"
msg=$("$ctl" -s "$sock" session drop 192.0.2.1 2>&1)
[ $? -eq 1 ] && echo "$msg" | grep -q "no session from 192.0.2.1"
ok $? "session drop of a peer without a session fails plainly"
msg=$("$ctl" -s "$sock" site show 2>&1)
[ $? -eq 2 ] && echo "$msg" | grep -q "usage: lispmsctl site show NAME"
ok $? "a missing argument is a usage error (exit 2)"

# ---- systemd readiness
if [ "$systemd" = yes ]; then
    grep -q "READY=1" "$work/notify.log" && grep -q "RELOADING=1" "$work/notify.log"
    ok $? "READY=1 and RELOADING=1 reached NOTIFY_SOCKET"
else
    skip "built without libsystemd: no readiness notification"
fi

# ---- stop
"$ctl" -s "$sock" stop | grep -q "stopping"
ok $? "lispmsctl stop"
rc=1
for _ in $(seq 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"
        rc=$?
        break
    fi
    sleep 0.05
done
pid= LISPMS_PID=
[ $rc -eq 0 ] && [ ! -e "$sock" ] && grep -q "daemon, stopped" "$work/d.log"
ok $? "lispmsd exits 0 and removes its socket (exit $rc)"
msg=$("$ctl" -s "$sock" status 2>&1)
[ $? -eq 1 ] && [ "$msg" = "lispmsctl: cannot connect to $sock (No such file or directory): is lispmsd running?" ]
ok $? "with lispmsd gone, lispmsctl says so plainly"
kill "$notifypid" 2>/dev/null
[ $failed -eq 0 ]
