#!/bin/bash
# Compares simulator speed of two builds of //tools:sim_benchmark on the SAME runs, in one
# session: baseline, new, baseline, new (interleaved, so load from other processes hits both).
# Both count the BASELINE's events per seed (--events_from), so a build that records more trace
# events per run does not look faster for it: the ratio is a ratio of wall time for equal work.
#
#   tools/speed_compare.sh BASELINE_BENCH NEW_BENCH [scenario] [seeds] [rounds]
#
# docs/simulator.md "Performance" shows how the baseline binary is built (from a commit's export)
# and the numbers. Prints one summary line per run and the median ratio.
set -euo pipefail
base=$1
new=$2
scenario=${3:-ping}
seeds=${4:-50}
rounds=${5:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$base" --scenario="$scenario" --seeds="$seeds" > "$work/base0.txt" || true  # exit 1: a seed failed (still timed)
grep '^seed ' "$work/base0.txt" | awk '{print $2, $4}' > "$work/events.txt"
rates_base=()
rates_new=()
for ((r = 1; r <= rounds; r++)); do
  "$base" --scenario="$scenario" --seeds="$seeds" --events_from="$work/events.txt" > "$work/b.txt" || true
  "$new" --scenario="$scenario" --seeds="$seeds" --events_from="$work/events.txt" > "$work/n.txt" || true
  b=$(grep -o '= [0-9]* events/s' "$work/b.txt" | awk '{print $2}')
  n=$(grep -o '= [0-9]* events/s' "$work/n.txt" | awk '{print $2}')
  echo "round $r: baseline $(grep -v '^seed ' "$work/b.txt" | tr '\n' ' ')"
  echo "round $r: new      $(grep -v '^seed ' "$work/n.txt" | tr '\n' ' ')"
  rates_base+=("$b")
  rates_new+=("$n")
done
python3 - "${rates_base[*]}" "${rates_new[*]}" <<'EOF'
import statistics, sys
b = [float(x) for x in sys.argv[1].split()]
n = [float(x) for x in sys.argv[2].split()]
ratios = [y / x for x, y in zip(b, n)]
print("baseline-equivalent events/s: baseline median %.0f, new median %.0f; ratio per round %s, median %.2fx"
      % (statistics.median(b), statistics.median(n), " ".join("%.2f" % r for r in ratios),
         statistics.median(ratios)))
EOF
