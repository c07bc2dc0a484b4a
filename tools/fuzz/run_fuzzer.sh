#!/usr/bin/env bash
# Runs one libFuzzer target with its limits (the `_run` target of fuzz.bzl passes them first).
# Usage (from `bazel run --config=fuzz //pkg:foo_fuzzer_run -- [libFuzzer flags]`):
#   run_fuzzer.sh <fuzzer binary> <seed corpus dir> <default flags...> [extra libFuzzer flags...]
# The seed corpus in the tree is never written: new inputs go to a work corpus under
# $CREMA_FUZZ_WORK (default /tmp/crema-fuzz/<target>), crashes to its artifacts/ folder.
# Later flags override earlier ones, so `-- -max_total_time=60 -max_len=65536` works.
set -euo pipefail
fuzzer=$(realpath "$1")
seeds=$(realpath "$2")
shift 2
name=$(basename "$fuzzer")
work=${CREMA_FUZZ_WORK:-/tmp/crema-fuzz}/$name
mkdir -p "$work/corpus" "$work/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzzing $name: work corpus $work/corpus, seeds $seeds" >&2
exec "$fuzzer" "$@" -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
  "$work/corpus" "$seeds"
