#!/usr/bin/env bash
# Example: a 3-node cluster with static peers and explicit admission.
# Node 1 founds the cluster; nodes 2 and 3 know every peer address but are NOT data nodes until an
# operator admits them (no --auto_admit); then the placement controller gives them replicas.
source "$(dirname "$0")/common.sh"
start 1 --peers="$PEERS" --bootstrap=1
wait_ready 1
start 2 --peers="$PEERS"
start 3 --peers="$PEERS"
sleep 2
"$CTL" --server=127.0.0.1:18101 members       # 2 and 3 known by gossip, not yet active
"$CTL" --server=127.0.0.1:18101 nodes admit 2
"$CTL" --server=127.0.0.1:18101 nodes admit 3
wait_ready 2; wait_ready 3
"$CTL" --server=127.0.0.1:18101 members
redis-cli -p 16402 SET example static-peers
redis-cli -p 16403 GET example
