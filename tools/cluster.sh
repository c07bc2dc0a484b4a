#!/usr/bin/env bash
# A local Crema cluster of real crema_server processes on 127.0.0.1.
#
#   tools/cluster.sh up [N]     start N nodes (default 3), wait until ready, print them
#   tools/cluster.sh status     print the nodes
#   tools/cluster.sh logs [ID]  tail the logs (of one node)
#   tools/cluster.sh down       stop every node (SIGTERM, then SIGKILL after 15 s)
#   tools/cluster.sh kill ID    SIGKILL one node (failure tests)
#   tools/cluster.sh restart ID start one node again with its flags and data directory
#
# `up` and `status` print one line per node, exactly:
#   node=<id> resp=<host:port> http=<host:port> state=<word>
# with state one of ready | starting | down. Data directories, logs, pid files, the generated
# cluster secret and admin token live in $CREMA_CLUSTER_DIR (default /tmp/crema-cluster).
# Ports: peers $CREMA_BASE_PORT+id (default 17000+id), RESP 16379+id, HTTP 18080+id.
# The first min(N,3) nodes found the cluster; more join through gossip and are admitted.
# $CREMA_SERVER_BIN picks the binary (default: bazel-built //transport/server:crema_server).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${CREMA_CLUSTER_DIR:-/tmp/crema-cluster}"
BASE="${CREMA_BASE_PORT:-17000}"
RESP_BASE="${CREMA_RESP_BASE:-16379}"
HTTP_BASE="${CREMA_HTTP_BASE:-18080}"
HOST=127.0.0.1

resp_of() { echo "$HOST:$((RESP_BASE + $1))"; }
http_of() { echo "$HOST:$((HTTP_BASE + $1))"; }
peer_of() { echo "$HOST:$((BASE + $1))"; }

ids() { ls "$DIR"/node*.pid 2>/dev/null | sed -E 's/.*node([0-9]+)\.pid/\1/' | sort -n; }

state_of() {
  local id=$1 pid
  pid=$(cat "$DIR/node$id.pid" 2>/dev/null || echo "")
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then echo down; return; fi
  if curl -sf -m 1 "http://$(http_of "$id")/readyz" >/dev/null 2>&1; then echo ready; else echo starting; fi
}

print_nodes() {
  for id in $(ids); do
    echo "node=$id resp=$(resp_of "$id") http=$(http_of "$id") state=$(state_of "$id")"
  done
}

up() {
  local n=${1:-3}
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "cluster.sh: up takes a node count (got '$n')" >&2; exit 2; }
  if [ -n "$(ids)" ]; then
    for id in $(ids); do
      if [ "$(state_of "$id")" != down ]; then
        echo "cluster.sh: a cluster is already running in $DIR (tools/cluster.sh down first)" >&2
        exit 1
      fi
    done
  fi
  local bin="${CREMA_SERVER_BIN:-}"
  if [ -z "$bin" ]; then
    tools/install_deps.sh
    bazel build //transport/server:crema_server >&2
    bin="$(bazel info bazel-bin 2>/dev/null)/transport/server/crema_server"
  fi
  mkdir -p "$DIR"
  rm -f "$DIR"/node*.pid
  [ -f "$DIR/secret" ] || (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DIR/secret")
  [ -f "$DIR/admin_token" ] || (umask 077; head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DIR/admin_token")
  local founders=$(( n < 3 ? n : 3 )) peers="" bootstrap=""
  for id in $(seq "$n"); do peers+="${peers:+,}$id=$(peer_of "$id")"; done
  for id in $(seq "$founders"); do bootstrap+="${bootstrap:+,}$id"; done
  for id in $(seq "$n"); do
    local extra=(--bootstrap="$bootstrap")
    [ "$id" -gt "$founders" ] && extra=(--bootstrap=)
    local cmd=("$bin" --node_id="$id" --peer_address="$(peer_of "$id")"
      --resp_address="$(resp_of "$id")" --http_address="$(http_of "$id")"
      --data_dir="$DIR/data$id" --peers="$peers" --replication_factor="$founders" --auto_admit
      "${extra[@]}" --cluster_secret_file="$DIR/secret" --admin_token_file="$DIR/admin_token"
      --log_file="$DIR/node$id.log" ${CREMA_SERVER_FLAGS:-})
    printf '%q ' "${cmd[@]}" > "$DIR/node$id.cmd"
    start_node "$id"
  done
  wait_ready
}

start_node() {
  local id=$1
  bash -c "exec $(cat "$DIR/node$id.cmd")" >>"$DIR/node$id.out" 2>&1 &
  echo $! > "$DIR/node$id.pid"
}

wait_ready() {
  local deadline=$((SECONDS + ${CREMA_UP_TIMEOUT:-60}))
  while [ $SECONDS -lt $deadline ]; do
    local all=1
    for id in $(ids); do
      case "$(state_of "$id")" in
        ready) ;;
        down)
          echo "cluster.sh: node $id exited; see $DIR/node$id.log and node$id.out; their last lines:" >&2
          tail -n 5 "$DIR/node$id.out" "$DIR/node$id.log" >&2 2>/dev/null || true
          print_nodes; exit 1 ;;
        *) all=0 ;;
      esac
    done
    [ $all -eq 1 ] && break
    sleep 0.2
  done
  # A ready node may still be electing shard leaders, and the first writes would wait an election
  # out (a ~1.3 s stall on every client, docs/server.md): wait, within the same deadline, until
  # the first node's /cluster shows a leader for every shard.
  local first; first=$(ids | head -n 1)
  while [ $SECONDS -lt $deadline ]; do
    curl -sf -m 1 "http://$(http_of "$first")/cluster" 2>/dev/null | python3 -c \
      'import json, sys; s = json.load(sys.stdin)["shards"]; sys.exit(0 if s and all(x["leader"] for x in s) else 1)' \
      2>/dev/null && break
    sleep 0.2
  done
  print_nodes
  for id in $(ids); do [ "$(state_of "$id")" = ready ] || exit 1; done
}

down() {
  local pids=()
  for id in $(ids); do
    local pid; pid=$(cat "$DIR/node$id.pid")
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; pids+=("$pid"); fi
  done
  local deadline=$((SECONDS + 15))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  done
  rm -f "$DIR"/node*.pid
  echo "stopped ${#pids[@]} node(s); data and logs kept in $DIR"
}

kill_node() {
  local pid; pid=$(cat "$DIR/node$1.pid" 2>/dev/null) || { echo "no node $1" >&2; exit 2; }
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  echo "node=$1 killed"
}

restart_node() {
  [ -f "$DIR/node$1.cmd" ] || { echo "no node $1" >&2; exit 2; }
  if [ "$(state_of "$1")" != down ]; then
    kill -TERM "$(cat "$DIR/node$1.pid")"
    while [ "$(state_of "$1")" != down ]; do sleep 0.1; done
  fi
  start_node "$1"
  wait_ready
}

logs() {
  if [ $# -ge 1 ]; then tail -n 50 "$DIR/node$1.log"; else tail -n 20 "$DIR"/node*.log; fi
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  status) print_nodes ;;
  logs) shift; logs "$@" ;;
  kill) shift; kill_node "${1:?usage: cluster.sh kill ID}" ;;
  restart) shift; restart_node "${1:?usage: cluster.sh restart ID}" ;;
  *) echo "usage: tools/cluster.sh up [N] | down | status | logs [ID] | kill ID | restart ID" >&2; exit 2 ;;
esac
