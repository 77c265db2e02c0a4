#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/report on a short run (prints TAP): lispms-bench measures the UDP
# echo ceiling, Map-Registers (twice, for the comparison) and a fabric on
# sessions and UDP (its time series) against a spawned lispmsd on loopback;
# bench/report renders them with the committed memory results
# (bench/results/memory-*.jsonl: bench/memory.sh takes minutes). Then:
#   - lispms-bench wrote the CDFs and the time series bench/report plots;
#   - the page is HTML that parses, every plot it shows exists, and there is
#     a plot in every section (throughput, latency, CDF, timeline, memory,
#     comparison);
#   - every SVG is non-empty, parses as XML and draws something;
#   - the committed results (bench/results/*.jsonl) render too.
# gnuplot (gnuplot-nox) is required: tools/test installs it.
#
# Usage: report.sh SOURCE_ROOT LISPMSD LISPMS-BENCH
set -u
. "$(dirname "$(readlink -f "$0")")/../support/lib.sh"
src=$1
lispmsd=$2
bench=$3
py=/usr/bin/python3
[ -x "$py" ] || py=python3

work=$(mktemp -d "${TMPDIR:-/tmp}/report-it.XXXXXX")
epid=
trap 'tap_cleanup "$work" $epid' EXIT
echo "TAP version 13"

command -v gnuplot >/dev/null 2>&1
ok $? "gnuplot is installed (apt-get install gnuplot-nox; tools/test installs it)"
[ $failed -eq 0 ] || exit 1

port=$(free_port udp)
lispms_conf "$work/lispms.yaml" "$port" "workers: 2" <<EOF
sites:
  - name: bench
    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: bench}]
    eid-prefixes: ["[1000] 10.0.0.0/8"]
    accept-more-specifics: true
EOF
lispms_start "$lispmsd" "$work/lispms.yaml" "$work/d.log"
ok $? "lispmsd starts on port $port"
eport=$(free_port udp)
"$bench" echo-server --port "$eport" --workers 2 >/dev/null 2>&1 &
epid=$!
sleep 0.3

run=$work/run
mkdir -p "$run"
"$bench" echo --server "127.0.0.1:$eport" --duration 1 --json >"$run/udp_ceiling.jsonl" 2>/dev/null
rc1=$?
for k in 1 2; do
    "$bench" register --etrs 20 --eids-per-etr 50 --iid 1000 --secret bench \
        --server "127.0.0.1:$port" --duration 1 --json >"$run/ms_udp-$k.jsonl" 2>/dev/null
done
rc2=$?
"$bench" fabric --server "127.0.0.1:$port" --etrs 40 --eids-per-etr 25 --udp-share 0.5 \
    --idle 1 --moves 200 --move-seconds 1 --json --case sessions --quiet >"$run/sessions.jsonl" 2>/dev/null
rc3=$?
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ]
ok $? "a short run: echo ceiling, Map-Registers twice, a fabric (rc $rc1 $rc2 $rc3)"

"$py" - "$run" >"$work/json.log" 2>&1 <<'PYEOF'
import json, os, sys
run = sys.argv[1]
rows = [json.loads(l) for f in sorted(os.listdir(run)) for l in open(os.path.join(run, f))]
errs = []
cdf = [r for r in rows if "p50_us" in r and r.get("count", 1)]
for r in cdf:
    c = r.get("cdf")
    if not c or any(len(p) != 2 for p in c) or abs(c[-1][1] - 1) > 1e-6 or \
            any(a[0] > b[0] or a[1] > b[1] for a, b in zip(c, c[1:])):
        errs.append("no increasing CDF ending at 1 in %s" % r["case"])
series = [r for r in rows if r.get("case", "").endswith("_series")]
if len(series) != 1:
    errs.append("%d series lines" % len(series))
else:
    s = series[0]
    n = len(s["t_s"])
    if n < 5 or any(len(s[k]) != n for k in ("phase", "up", "acked", "udp_acked", "lost")):
        errs.append("series arrays of unequal length or too short")
    main = [r for r in rows if r.get("case") == "sessions"][0]
    if s["acked"][-1] != main["acked"] or s["udp_acked"][-1] != main["udp_acked"]:
        errs.append("the series ends at %s/%s, the run counted %s/%s" % (
            s["acked"][-1], s["udp_acked"][-1], main["acked"], main["udp_acked"]))
    if s["phase"][0] != "converge" or s["phase"][-1] != "stop" or "idle" not in s["phase"]:
        errs.append("phases %s" % sorted(set(s["phase"])))
print(len(cdf), "latency lines with a CDF;", len(series), "series")
for e in errs:
    print(e)
sys.exit(1 if errs else 0)
PYEOF
rc=$?
sed 's/^/# /' "$work/json.log"
ok $rc "lispms-bench writes a CDF in every latency line and the fabric's time series"

check_page() { # check_page DIR SECTION-ALT...
    "$py" - "$@" <<'PYEOF'
import os, sys, xml.etree.ElementTree as ET
from html.parser import HTMLParser
out, want = sys.argv[1], sys.argv[2:]
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.stack, self.errs = [], [], []
    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs))
        elif tag not in ("meta", "br", "img"):
            self.stack.append(tag)
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errs.append("unbalanced </%s>" % tag)
        else:
            self.stack.pop()
p = P()
p.feed(open(os.path.join(out, "index.html"), encoding="utf-8").read())
errs = p.errs + (["unclosed " + " ".join(p.stack)] if p.stack else [])
alts = [i.get("alt", "") for i in p.imgs]
for w in want:
    if w not in alts:
        errs.append("no plot " + w)
svgs = [f for f in os.listdir(out) if f.endswith(".svg")]
for i in p.imgs:
    if i.get("src") not in svgs:
        errs.append("missing " + str(i.get("src")))
for f in svgs:
    path = os.path.join(out, f)
    if os.path.getsize(path) < 500:
        errs.append(f + " is (nearly) empty")
        continue
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        errs.append("%s: %s" % (f, e))
        continue
    if not root.tag.endswith("svg"):
        errs.append(f + " is not SVG")
    drawn = [e for e in root.iter() if e.tag.split("}")[-1] in ("path", "polyline", "rect")]
    if len(drawn) < 10:
        errs.append("%s draws %d shapes" % (f, len(drawn)))
print("%d plots shown, %d SVG files" % (len(p.imgs), len(svgs)))
for e in errs:
    print(e)
sys.exit(1 if errs or len(p.imgs) != len(svgs) else 0)
PYEOF
}

out=$work/report
"$src/bench/report" "$run"/*.jsonl "$src"/bench/results/memory-*.jsonl -o "$out" \
    --compare "$run/ms_udp-1.jsonl" "$run/ms_udp-2.jsonl" >"$work/report.log" 2>&1
rc=$?
sed 's/^/# /' "$work/report.log"
ok $rc "bench/report renders the short run"
check_page "$out" throughput latency "latency CDF" "convergence timeline" "memory per EID" \
    "memory per session" comparison >"$work/check.log" 2>&1
rc=$?
sed 's/^/# /' "$work/check.log"
ok $rc "the page parses, shows every section's plot, every SVG is valid and draws"

out2=$work/report-committed
"$src/bench/report" "$src"/bench/results/*.jsonl -o "$out2" >"$work/report2.log" 2>&1 &&
    check_page "$out2" throughput latency "memory per EID" >"$work/check2.log" 2>&1
rc=$?
sed 's/^/# /' "$work/report2.log" "$work/check2.log" 2>/dev/null
ok $rc "the committed bench/results render as well"
[ $failed -eq 0 ]
