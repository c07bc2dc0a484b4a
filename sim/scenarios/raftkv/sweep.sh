#!/bin/bash
# Sweeps fresh random seeds of the raft-kv scenario through a built //tools:sim binary (not
# through `bazel test`, so the Bazel lock stays free). 3 or 5 nodes by seed parity; 1 in 4 heavy,
# or every seed at the fault level given as the third argument (default | heavy).
#   bazel build //tools:sim && sim/scenarios/raftkv/sweep.sh 1000 [path/to/sim] [heavy]
# Prints one line per failing seed (with its repro) and a final count.
count=${1:-1000}
sim=${2:-bazel-bin/tools/sim}
level=${3:-}
fails=0
out=$(mktemp)
for i in $(seq "$count"); do
  s=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
  n=$(( (s % 2) ? 5 : 3 )); f=default; [ $(( s % 4 )) -eq 1 ] && f=heavy
  [ -n "$level" ] && f=$level
  if ! "$sim" --seed="$s" --scenario=raft-kv --nodes=$n --faults=$f --quiet > "$out" 2>&1; then
    fails=$((fails+1))
    echo "FAIL: bazel run //tools:sim -- --seed=$s --scenario=raft-kv --nodes=$n --faults=$f"
    tail -1 "$out"
  fi
done
rm -f "$out"
echo "done: $count seeds, $fails failures"
