#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The deployment files stay true to the code (prints TAP):
#  - the Grafana dashboard is JSON, every metric its queries name exists in
#    include/lispms/metrics.def, and every query parses as PromQL (promtool);
#  - deploy/prometheus.yml is a valid Prometheus configuration (promtool);
#  - the example and container configurations pass `lispmsd --check`;
#  - the systemd unit passes `systemd-analyze verify` (when it is installed).
# promtool is required unless LISPMS_ALLOW_NO_PROMTOOL=1 (then SKIP).
# Usage: deploy.sh SOURCE_ROOT LISPMSD
set -u
src=$1
lispmsd=$(readlink -f "$2")
py=/usr/bin/python3
[ -x "$py" ] || py=python3
work=$(mktemp -d "$PWD/deploy-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
n=0
fail=0
ok() {
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
skip() {
    n=$((n + 1))
    echo "ok $n - skipped # SKIP $1"
}
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

for f in lispms.yaml lispms-container.yaml; do
    "$lispmsd" --check -c "$src/deploy/$f" >"$work/check.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] || sed 's/^/# /' "$work/check.log"
    ok $rc "deploy/$f passes lispmsd --check"
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
echo "1..$n"
exit $fail
