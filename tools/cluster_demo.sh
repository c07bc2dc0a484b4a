#!/usr/bin/env bash
# The main command (tools/run.sh runs it; the simulator keeps its own command, tools/sim.sh):
# starts a local 3-node cluster of real processes, waits until it is ready, shows a few commands through redis-cli and curl at
# different nodes, prints how to connect, and serves until Ctrl-C (then stops the nodes).
set -euo pipefail
cd "$(dirname "$0")/.."
export CREMA_CLUSTER_DIR="${CREMA_CLUSTER_DIR:-/tmp/crema-cluster}"
tools/cluster.sh down >/dev/null 2>&1 || true
bazel build //transport/server:crema_server //tools/cremactl >&2
echo "== starting 3 nodes (data and logs in $CREMA_CLUSTER_DIR)"
nodes=$(tools/cluster.sh up 3)
echo "$nodes"
trap 'echo; tools/cluster.sh down; exit 0' INT TERM
port() { echo "$nodes" | sed -n "${1}p" | sed -E 's/.*resp=127.0.0.1:([0-9]+).*/\1/'; }
http() { echo "$nodes" | sed -n "${1}p" | sed -E 's/.*http=([0-9.:]+).*/\1/'; }
show() { echo "\$ $*"; "$@"; }
echo
echo "== a write through node 1, reads through nodes 2 and 3"
show redis-cli -p "$(port 1)" SET greeting "hello from node 1"
show redis-cli -p "$(port 2)" GET greeting
printf 'CREMA.CONSISTENCY linearizable\nGET greeting\n' > /tmp/crema-demo-cmds
echo "\$ redis-cli -p $(port 3)   # CREMA.CONSISTENCY linearizable; GET greeting"
redis-cli -p "$(port 3)" < /tmp/crema-demo-cmds | tail -1
show curl -s -X PUT --data-binary 'via http' "http://$(http 2)/kv/page?ttl=60s" -w '%{http_code}\n'
show curl -s "http://$(http 3)/kv/page?consistency=linearizable"; echo
show redis-cli -p "$(port 1)" INCR visits
echo
echo "== the cluster as node 1 sees it"
curl -s "http://$(http 1)/cluster" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print("map_version", d["map_version"], "shards", d["num_shards"], "leaders", sorted({s["leader"] for s in d["shards"]}))'
echo
cat <<EOT
== connect
  redis-cli -p $(port 1)                      (any node takes any key)
  curl http://$(http 1)/kv/KEY           PUT/GET/DELETE, ?ttl=30s, ?consistency=linearizable
  curl http://$(http 1)/metrics          Prometheus; /cluster for JSON; /healthz, /readyz
  CREMA_ADMIN_TOKEN=\$(cat $CREMA_CLUSTER_DIR/admin_token) bazel-bin/tools/cremactl/cremactl --server=$(http 1) members
  tools/cluster.sh status | logs | kill ID | restart ID
Serving until Ctrl-C.
EOT
while true; do sleep 3600; done
