#!/usr/bin/env bash
# The simulator's command: installs what is missing, builds, and runs Crema's deterministic simulator on the
# embedded default (the `ping` scenario, 5 nodes, faults on, seed 1). Arguments replace the
# defaults, e.g. `tools/sim.sh --scenario=ping --seed=42 --nodes=3`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
if [ $# -eq 0 ]; then set -- --scenario=ping --seed=1 --nodes=5; fi
exec bazel run //tools:sim -- "$@"
