#!/usr/bin/env bash
# Mutation testing: for each planted bug (tools/mutants/*.patch), build //tools:sim with the patch
# applied in a scratch copy of the tree, sweep the mutant's scenario with fresh seeds until the
# first failure (cap --seeds), and record after how many seeds it was caught and by which
# signature; optionally run the mutant's unit tests (caught-by-unit-test is counted separately).
# Writes OUT/mutants.md and OUT/mutants.json (tools/mutants/mutant_sweep.cc does the measuring).
#
#   tools/mutants/run.sh [--seeds=200] [--out=/tmp/crema-mutants] [--unit] [--only=a,b]
#       [--scratch_ob=DIR] [--ob=DIR] [--first_seed=K] [--jobs=1] [--extra=--faults=heavy,...]
#
# The patches are never compiled into a normal build: only this script applies them, and only in
# OUT/tree (a copy of the working tree's tracked and untracked-but-not-ignored files), reverting
# each before the next. The scratch tree has its own Bazel output base (--scratch_ob); the tools
# (mutant_sweep, the unmutated sim as the baseline) are built in this tree (--ob).
#
# A patch is a unified diff preceded by header lines (git apply skips them):
#   mutant: NAME          area: election|replication|commit|reads|membership|snapshots|storage|cache
#   scenario: raft-kv     extra: comma-separated simulator flags (may be empty)
#   unit: //test:targets  description: one line
# Each failing seed is re-run on the unmutated simulator; a seed that fails there too is a bug of
# the tree, not a catch, and the sweep goes on (mutant_sweep --baseline_sim).
set -euo pipefail

seeds=200
out=/tmp/crema-mutants
unit=0
only=""
ob=""
scratch_ob=""
first_seed=0
jobs=1
extra=""  # appended to every patch's own `extra:` simulator flags
for arg in "$@"; do
  case "$arg" in
    --seeds=*) seeds="${arg#*=}" ;;
    --out=*) out="${arg#*=}" ;;
    --unit) unit=1 ;;
    --only=*) only="${arg#*=}" ;;
    --ob=*) ob="${arg#*=}" ;;
    --scratch_ob=*) scratch_ob="${arg#*=}" ;;
    --first_seed=*) first_seed="${arg#*=}" ;;
    --jobs=*) jobs="${arg#*=}" ;;
    --extra=*) extra="${arg#*=}" ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
tree="$out/tree"
scratch_ob="${scratch_ob:-$out/bazel-ob}"
bazel_in() {  # bazel_in DIR OUTPUT_BASE ARGS...: one Bazel call, 2 jobs, niced
  local dir="$1" base="$2"
  shift 2
  local startup=()
  [ -n "$base" ] && startup=(--output_base="$base")
  (cd "$dir" && nice -n 10 bazel "${startup[@]}" "$@")
}

# 1. The tools, from this tree: the driver and the unmutated simulator (the baseline).
bazel_in "$repo" "$ob" build //tools/mutants:mutant_sweep //tools:sim --jobs=2 >"$out/tools.log" 2>&1 ||
  { tail -20 "$out/tools.log"; exit 1; }
mkdir -p "$out/bin"
cp -f "$repo/bazel-bin/tools/mutants/mutant_sweep" "$repo/bazel-bin/tools/sim" "$out/bin/"
chmod u+w "$out/bin/"*

# 2. The scratch tree: a fresh copy (git is not needed in it; `git apply` patches plain files).
rm -rf "$tree"
mkdir -p "$tree"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) |
  tar -xf - -C "$tree"
git -C "$tree" init -q  # its own repository: `git apply` there never resolves paths elsewhere

header() { sed -n "s/^$1: *//p" "$2" | head -1; }
results="$out/results.jsonl"
: >"$results"
for patch in "$repo"/tools/mutants/*.patch; do
  name="$(header mutant "$patch")"
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
  scenario="$(header scenario "$patch")"
  echo "== $name ($scenario)" >&2
  if ! (cd "$tree" && git apply "$patch"); then
    echo "run.sh: $name does not apply to the tree" >&2
    exit 1
  fi
  build=ok
  bazel_in "$tree" "$scratch_ob" build //tools:sim --jobs=2 >"$out/$name.build.log" 2>&1 ||
    build=failed
  [ "$build" = ok ] && cp -f "$tree/bazel-bin/tools/sim" "$out/bin/sim-$name" &&
    chmod u+w "$out/bin/sim-$name"
  unit_result=skipped
  unit_failed=""
  if [ "$unit" = 1 ] && [ -n "$(header unit "$patch")" ]; then
    read -r -a targets <<<"$(header unit "$patch")"
    if bazel_in "$tree" "$scratch_ob" test "${targets[@]}" --jobs=2 --local_test_jobs=1 \
        --test_output=summary >"$out/$name.unit.log" 2>&1; then
      unit_result=passed
    elif grep -q "FAILED TO BUILD\|Build did NOT complete" "$out/$name.unit.log" &&
         ! grep -q " FAILED in \| TIMEOUT in " "$out/$name.unit.log"; then
      unit_result=build-failed
    else
      unit_result=caught
      unit_failed="$(grep -o '^//[^ ]*  *\(FAILED\|TIMEOUT\)' "$out/$name.unit.log" |
                     awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')"
    fi
  fi
  (cd "$tree" && git apply -R "$patch")
  nice -n 10 "$out/bin/mutant_sweep" --sim="$out/bin/sim-$name" --baseline_sim="$out/bin/sim" \
    --scenario="$scenario" --extra="$(header extra "$patch"),$extra" --seeds="$seeds" \
    --first_seed="$first_seed" --jobs="$jobs" --name="$name" --area="$(header area "$patch")" \
    --description="$(header description "$patch")" --build="$build" --unit="$unit_result" \
    --unit_failed="$unit_failed" --out="$results" >&2
  rm -f "$out/bin/sim-$name"
done
"$out/bin/mutant_sweep" --aggregate="$results" --report="$out/mutants"
