#!/usr/bin/env bash
# The whole test suite: installs what is missing, then runs every Bazel test.
# Simulation tests pick fresh random seeds unless CREMA_SEED is set (they print the seed and, on
# failure, the command that replays it). Extra arguments go to `bazel test`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
seed_env=()
if [ -n "${CREMA_SEED:-}" ]; then seed_env=(--test_env=CREMA_SEED="$CREMA_SEED"); fi
exec bazel test //... --local_test_jobs=2 --test_output=errors --keep_going "${seed_env[@]}" "$@"
