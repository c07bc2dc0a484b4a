#!/usr/bin/env bash
# Runs the dynamo scenario over many seeds, as the CI test picks them (heavy faults for seeds
# equal to 1 mod 4), and prints every failure with its repro command plus a closing tally.
#   sim/scenarios/dynamo/sweep.sh [count] [first_seed]      (default 2000 seeds from 1)
# SIM=<binary> runs an already built //tools:sim instead of building one (-c opt);
# BAZEL="bazel --output_base=..." chooses how bazel is invoked.
set -euo pipefail
count="${1:-2000}"
first="${2:-1}"
cd "$(dirname "$0")/../../.."
sim="${SIM:-}"
if [[ -z "$sim" ]]; then
  ${BAZEL:-bazel} build -c opt //tools:sim >&2
  sim="bazel-bin/tools/sim"
fi
pass=0
fail=0
for ((seed = first; seed < first + count; seed++)); do
  faults=default
  if ((seed % 4 == 1)); then faults=heavy; fi
  if line=$(nice "$sim" --scenario=dynamo --seed="$seed" --faults="$faults" --quiet); then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "$line   # bazel run //tools:sim -- --scenario=dynamo --seed=$seed --faults=$faults"
  fi
done
echo "dynamo sweep: $count seeds from $first: $pass passed, $fail failed"
