#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The deployment files stay true to the code (prints TAP):
#  - the Grafana dashboard is JSON, every metric its queries name exists in
#    include/lispms/metrics.def, and every query parses as PromQL (promtool);
#  - deploy/prometheus.yml is a valid Prometheus configuration (promtool);
#  - the example, container, DDT example and Debian package configurations pass
#    `lispmsd --check`;
#  - the systemd unit passes `systemd-analyze verify` (when it is installed);
#  - the dashboard is well formed for Grafana (ids, grid, targets, variables)
#    and has the sessions and queue panels (Grafana itself is no Debian
#    package, so this is checked statically);
#  - deploy/Dockerfile, statically (tools/docker-smoke builds and runs it
#    where a container engine runs): what it COPYs exists, its base is
#    Debian 12, its packages match tools/lib/common.sh, whose runtime list
#    matches the libraries lispmsd is linked with.
# promtool is required unless LISPMS_ALLOW_NO_PROMTOOL=1 (then SKIP).
# Usage: deploy.sh SOURCE_ROOT LISPMSD
set -u
. "$(dirname "$(readlink -f "$0")")/support/lib.sh"
src=$1
lispmsd=$(readlink -f "$2")
py=/usr/bin/python3
[ -x "$py" ] || py=python3
work=$(mktemp -d "$PWD/deploy-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
have_promtool() {
    command -v promtool >/dev/null 2>&1 && return 0
    [ "${LISPMS_ALLOW_NO_PROMTOOL:-}" = 1 ] && return 1
    return 2
}
echo "TAP version 13"

dash=$src/deploy/grafana-dashboard.json
"$py" - "$dash" "$src/include/lispms/metrics.def" "$work/rules.yml" >"$work/dash.log" 2>&1 <<'PYEOF'
import json, re, sys
dash = json.load(open(sys.argv[1]))
known = set(re.findall(r'"(lispms_[a-z0-9_]+)"', open(sys.argv[2]).read()))
exprs = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "expr" and isinstance(v, str):
                exprs.append(v)
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(dash)
bad = set()
for e in exprs:
    for name in re.findall(r'\b(lispms_[a-z0-9_]+)', e):
        base = re.sub(r'_(bucket|sum|count)$', '', name)
        if name not in known and base not in known:
            bad.add(name)
for b in sorted(bad):
    print("unknown metric:", b)
with open(sys.argv[3], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        e = e.replace("$__rate_interval", "1m").replace("$instance", ".*").replace("$site", ".*")
        f.write("      - record: dashboard:expr%d\n        expr: %s\n" % (i, json.dumps(e)))
print(len(exprs), "queries")
sys.exit(1 if bad or not exprs else 0)
PYEOF
rc=$?
sed 's/^/# /' "$work/dash.log"
ok $rc "the dashboard is JSON and names only metrics metrics.def declares"

have_promtool
case $? in
0)
    promtool check rules "$work/rules.yml" >"$work/rules.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] || sed 's/^/# /' "$work/rules.log" | head -n 20
    ok $rc "every dashboard query parses as PromQL (promtool check rules)"
    promtool check config "$src/deploy/prometheus.yml" >"$work/config.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] || sed 's/^/# /' "$work/config.log"
    ok $rc "deploy/prometheus.yml is a valid Prometheus configuration"
    ;;
1)
    skip "promtool not installed (LISPMS_ALLOW_NO_PROMTOOL=1)"
    skip "promtool not installed (LISPMS_ALLOW_NO_PROMTOOL=1)"
    ;;
*)
    ok 1 "promtool is needed (apt-get install prometheus; tools/test installs it)"
    ;;
esac

for f in deploy/lispms.yaml deploy/lispms-container.yaml deploy/lispms-ddt.yaml deploy/lispms-mr.yaml \
    debian/lispms.yaml; do
    "$lispmsd" --check -c "$src/$f" >"$work/check.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] || sed 's/^/# /' "$work/check.log"
    ok $rc "$f passes lispmsd --check"
done

if command -v systemd-analyze >/dev/null 2>&1; then
    sed "s|/usr/local/bin/lispmsd|$lispmsd|g" "$src/deploy/lispmsd.service" >"$work/lispmsd.service"
    systemd-analyze verify "$work/lispmsd.service" >"$work/unit.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] && grep -q . "$work/unit.log" && rc=1 # any warning counts
    sed 's/^/# /' "$work/unit.log"
    ok $rc "deploy/lispmsd.service passes systemd-analyze verify"
else
    skip "systemd-analyze not installed"
fi
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$src/deploy/lispmsd.service" &&
    grep -q '^User=lispms$' "$src/deploy/lispmsd.service" &&
    grep -q '^LimitNOFILE=1048576$' "$src/deploy/lispmsd.service" &&
    grep -q '^NoNewPrivileges=yes$' "$src/deploy/lispmsd.service" &&
    grep -q '^AmbientCapabilities=$' "$src/deploy/lispmsd.service"
ok $? "the unit reloads with SIGHUP, runs as lispms without capabilities, allows 1M files"
# ---- the dashboard's shape, as Grafana 9 reads it
"$py" - "$dash" >"$work/shape.log" 2>&1 <<'PYEOF2'
import json, re, sys
d = json.load(open(sys.argv[1]))
errs = []
for k in ("title", "uid", "schemaVersion", "panels", "templating"):
    if k not in d:
        errs.append("no top-level " + k)
if not isinstance(d.get("schemaVersion"), int):
    errs.append("schemaVersion is not a number")
variables = {v["name"] for v in d.get("templating", {}).get("list", [])}
builtin = {"__rate_interval", "__interval", "__range"}
ids, boxes = set(), []
for p in d.get("panels", []):
    pid, title = p.get("id"), p.get("title", "?")
    if not isinstance(pid, int) or pid in ids:
        errs.append("panel %r: id missing or repeated" % title)
    ids.add(pid)
    if p.get("type") not in ("row", "stat", "timeseries", "heatmap"):
        errs.append("panel %r: type %r" % (title, p.get("type")))
    g = p.get("gridPos", {})
    if not all(isinstance(g.get(k), int) for k in "hwxy") or g["w"] <= 0 or g["h"] <= 0 \
            or g["x"] < 0 or g["x"] + g["w"] > 24:
        errs.append("panel %r: gridPos %r" % (title, g))
        continue
    if p["type"] == "row":
        continue
    for (t2, b) in boxes:
        if g["x"] < b["x"] + b["w"] and b["x"] < g["x"] + g["w"] and \
                g["y"] < b["y"] + b["h"] and b["y"] < g["y"] + g["h"]:
            errs.append("panels %r and %r overlap" % (title, t2))
    boxes.append((title, g))
    targets = p.get("targets", [])
    refs = [t.get("refId") for t in targets]
    if not targets or len(set(refs)) != len(refs) or None in refs:
        errs.append("panel %r: no targets or repeated refIds" % title)
    for t in targets:
        if t.get("datasource", {}).get("uid") != "${datasource}":
            errs.append("panel %r: target %s not on ${datasource}" % (title, t.get("refId")))
        for v in re.findall(r"\$\{?(\w+)", t.get("expr", "")):
            if v not in variables and v not in builtin:
                errs.append("panel %r: unknown variable $%s" % (title, v))
exprs = " ".join(t.get("expr", "") for p in d["panels"] for t in p.get("targets", []))
for m in ("lispms_sessions_up", "lispms_sessions_opened_total", "lispms_sessions_closed_total",
          "lispms_session_queue_depth", "lispms_net_tcp_queued_bytes", "lispms_notify_pending"):
    if m not in exprs:
        errs.append("no panel shows " + m)
for e in errs:
    print(e)
print(len(d["panels"]), "panels")
sys.exit(1 if errs else 0)
PYEOF2
rc=$?
sed 's/^/# /' "$work/shape.log"
ok $rc "the dashboard is well formed (ids, grid, targets, variables) and shows sessions and queues"

# ---- the Dockerfile, statically
runtime=$(sed -n 's/^LISPMS_RUNTIME_PKGS="\(.*\)"$/\1/p' "$src/tools/lib/common.sh")
build=$(sed -n '/^LISPMS_BUILD_PKGS="/,/"$/p' "$src/tools/lib/common.sh" | tr -d '\\"' |
    sed 's/^LISPMS_BUILD_PKGS=//' | tr '\n' ' ')
"$py" - "$src" "$runtime" "$build" >"$work/docker.log" 2>&1 <<'PYEOF2'
import os, re, sys
src, runtime, build = sys.argv[1], set(sys.argv[2].split()), set(sys.argv[3].split())
text = open(os.path.join(src, "deploy/Dockerfile")).read().replace("\\\n", " ")
stages, errs = [], []
for line in text.splitlines():
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    word, _, rest = line.partition(" ")
    word = word.upper()
    if word == "FROM":
        stages.append({"from": rest.split()[0], "pkgs": set(), "lines": []})
        continue
    stages[-1]["lines"].append((word, rest))
    if word == "RUN":
        for cmd in re.split(r"&&|;", rest):
            t = cmd.split()
            if "apt-get" in t and "install" in t:
                stages[-1]["pkgs"] |= {w for w in t[t.index("install") + 1:] if not w.startswith("-")}
    if word == "COPY" and not rest.startswith("--from"):
        for f in rest.split()[:-1]:
            if not os.path.exists(os.path.join(src, f)):
                errs.append("COPY source %s does not exist" % f)
if len(stages) != 2:
    errs.append("expected a build stage and a runtime stage, found %d" % len(stages))
else:
    b, r = stages
    for st in stages:
        if not re.match(r"debian:12(-slim)?$", st["from"].split(" ")[0]):
            errs.append("base %s is not Debian 12" % st["from"])
    if r["pkgs"] != runtime:
        errs.append("runtime packages %s differ from LISPMS_RUNTIME_PKGS %s"
                    % (sorted(r["pkgs"]), sorted(runtime)))
    test_only = {"clang", "libclang-rt-14-dev", "libcriterion-dev"}
    if not b["pkgs"] <= build or (build - test_only) - b["pkgs"]:
        errs.append("build packages %s do not match LISPMS_BUILD_PKGS without %s"
                    % (sorted(b["pkgs"]), sorted(test_only)))
    runs = " ".join(rest for w, rest in r["lines"] if w == "RUN")
    if "lispmsd --check" not in runs:
        errs.append("the image does not check its configuration at build time")
    users = [rest for w, rest in r["lines"] if w == "USER"]
    if not users or users[-1] in ("root", "0"):
        errs.append("the image runs as root")
ignore = open(os.path.join(src, ".dockerignore")).read().split()
for pat in ("build*", ".git"):
    if pat not in ignore:
        errs.append(".dockerignore does not keep %s out of the context" % pat)
for e in errs:
    print(e)
sys.exit(1 if errs else 0)
PYEOF2
rc=$?
sed 's/^/# /' "$work/docker.log"
ok $rc "deploy/Dockerfile: sources exist, Debian 12, packages as tools/lib/common.sh lists them"

if command -v readelf >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then
    missing=
    for lib in $(readelf -d "$lispmsd" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
        path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
        [ -n "$path" ] || continue
        pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1 | cut -d: -f1)
        case $pkg in
        "" | libc6 | librte-* | libasan* | libtsan* | libubsan*) ;; # base, DPDK build, sanitizers
        *) echo " $runtime " | grep -q " $pkg " || missing="$missing $pkg" ;;
        esac
    done
    [ -z "$missing" ] || echo "# lispmsd needs packages LISPMS_RUNTIME_PKGS lacks:$missing"
    [ -z "$missing" ]
    ok $? "LISPMS_RUNTIME_PKGS covers every library lispmsd is linked with"
else
    skip "readelf or dpkg missing"
fi
tap_plan
tap_status
