#!/usr/bin/env bash
# Checks the shipped monitoring files: Prometheus config and alert rules (promtool), the alert
# rules' unit tests, and that the Grafana dashboard is valid JSON whose queries use only metric
# names Crema exposes (node/metrics/crema_metrics.cc) or Prometheus's own `up`.
set -euo pipefail
DIR="$(dirname "$1")"
command -v promtool >/dev/null || { echo "promtool missing (tools/install_deps.sh)"; exit 1; }
promtool check rules "$DIR/alerts.yml"
promtool check config "$DIR/prometheus.yml"
(cd "$DIR" && promtool test rules alerts_test.yml)
/usr/bin/python3 - "$DIR/grafana-dashboard.json" "$2" <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1]))
known = set(re.findall(r'"(crema_[a-z_]+)"', open(sys.argv[2]).read())) | {"up"}
exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
assert exprs, "dashboard has no queries"
for e in exprs:
    for name in re.findall(r'\b(crema_[a-z_]+|up)\b', e):
        base = re.sub(r'_(bucket|sum|count)$', '', name)
        assert base in known, f"unknown metric {name} in {e}"
print(f"dashboard: {len(exprs)} queries, all on known metrics")
PY
echo PASS
