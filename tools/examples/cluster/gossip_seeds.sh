#!/usr/bin/env bash
# Example: a 3-node cluster joining through gossip seeds.
# Node 1 founds the cluster; nodes 2 and 3 are given only node 1 as a seed, learn the rest by
# gossip, and are admitted automatically (--auto_admit), as a local or elastic cluster would.
source "$(dirname "$0")/common.sh"
start 1 --peers="$PEERS" --bootstrap=1 --auto_admit
wait_ready 1
start 2 --peers="1=127.0.0.1:17101" --seeds=1 --auto_admit
start 3 --peers="1=127.0.0.1:17101" --seeds=1 --auto_admit
wait_ready 2; wait_ready 3
"$CTL" --server=127.0.0.1:18103 members
redis-cli -p 16401 SET example gossip-seeds
redis-cli -p 16402 GET example
