#!/usr/bin/env bash
# The main command: installs what is missing, builds crema_server, starts a local 3-node cluster
# of real processes on 127.0.0.1, waits until it is ready, shows redis-cli and curl at different
# nodes, prints how to connect, and serves until Ctrl-C (tools/cluster_demo.sh). The simulator
# has its own command: tools/sim.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
exec tools/cluster_demo.sh "$@"
