#!/usr/bin/env bash
# Builds every libFuzzer target (crema_fuzz_target in tools/fuzz/fuzz.bzl) with --config=fuzz
# and runs each one in turn.
#
#   tools/fuzz/run_all.sh                     # smoke: every target for 20 s (CREMA_FUZZ_SECONDS)
#   tools/fuzz/run_all.sh -runs=10000000      # any libFuzzer flags replace the time limit
#   CREMA_FUZZ_TARGETS="//transport:frame_fuzzer" tools/fuzz/run_all.sh   # a subset
#
# Work corpora and crash artifacts go to $CREMA_FUZZ_WORK (default /tmp/crema-fuzz/<target>);
# the checked-in seed corpora are read, never written. Prints one line per target with its
# executions and crashes, and exits non-zero if any target crashed (a crash, a sanitizer report,
# a MemoryBudget abort, an allocation over -malloc_limit_mb, or a timeout).
set -uo pipefail
cd "$(dirname "$0")/../.."
work=${CREMA_FUZZ_WORK:-/tmp/crema-fuzz}
export CREMA_FUZZ_WORK=$work
mkdir -p "$work/scripts"

if [ -n "${CREMA_FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<< "$CREMA_FUZZ_TARGETS"
else
  mapfile -t targets < <(bazel query --output=label \
    'kind("cc_binary", attr(tags, "\bfuzz\b", //...))' 2>/dev/null)
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "run_all: no fuzz targets found" >&2
  exit 1
fi
flags=("$@")
if [ ${#flags[@]} -eq 0 ]; then flags=("-max_total_time=${CREMA_FUZZ_SECONDS:-20}"); fi

runners=()
for t in "${targets[@]}"; do runners+=("${t}_run"); done
bazel build --config=fuzz "${runners[@]}" || exit 1

failed=0
for t in "${targets[@]}"; do
  name=${t##*:}
  script="$work/scripts/$name.sh"
  # --script_path writes a script that runs the target with its own limits, without holding
  # Bazel's lock (so long runs can go on in the background).
  bazel run --config=fuzz --script_path="$script" "${t}_run" >/dev/null 2>&1 || exit 1
  log="$work/$name.log"
  "$script" "${flags[@]}" > "$log" 2>&1
  status=$?
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  crashes=$(ls "$work/$name/artifacts" 2>/dev/null | wc -l)
  echo "$t executions=${execs:-0} exit=$status artifacts=$crashes log=$log"
  if [ "$status" -ne 0 ]; then failed=1; tail -30 "$log"; fi
done
exit $failed
