#!/usr/bin/env bash
# The whole test suite: installs what is missing, then runs every Bazel test, then a small subset
# under AddressSanitizer + UndefinedBehaviorSanitizer.
# Simulation tests pick fresh random seeds unless CREMA_SEED is set (they print the seed and, on
# failure, the command that replays it). Extra arguments go to `bazel test`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
seed_env=()
if [ -n "${CREMA_SEED:-}" ]; then seed_env=(--test_env=CREMA_SEED="$CREMA_SEED"); fi
status=0
# --nocache_test_results: a seed is not part of a test's cache key, so a cached result would replay
# an old seed; every run of the suite runs every test on fresh seeds.
# --build_tests_only: CI's budget (20 minutes on 2 cores from a clean clone) goes to what the tests
# need; benchmarks and stand-alone tools no test runs are built by `bazel build //...`.
bazel test //... --build_tests_only --nocache_test_results --local_test_jobs=2 --test_output=errors \
  --keep_going \
  "${seed_env[@]}" "$@" ||
  status=$?
# A small, chosen subset under ASan+UBSan (docs/hardening.md); the full run is
# `tools/sanitizers.sh asan`. CREMA_SKIP_SANITIZERS=1 skips it.
if [ -z "${CREMA_SKIP_SANITIZERS:-}" ]; then tools/sanitizers.sh ci || status=$?; fi
exit "$status"
