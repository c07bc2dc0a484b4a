# Shared by the cluster examples: paths, a secret, and helpers. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
bazel build //transport/server:crema_server //tools/cremactl >&2
BIN="$(bazel info bazel-bin 2>/dev/null)"
SERVER="$BIN/transport/server/crema_server"
CTL="$BIN/tools/cremactl/cremactl"
DIR="$(mktemp -d /tmp/crema-example.XXXX)"
export CREMA_CLUSTER_SECRET="example-secret-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export CREMA_ADMIN_TOKEN="example-admin-token"
PEERS="1=127.0.0.1:17101,2=127.0.0.1:17102,3=127.0.0.1:17103"
PIDS=()
start() {  # id, extra flags...
  local id=$1; shift
  "$SERVER" --node_id="$id" --peer_address="127.0.0.1:$((17100 + id))" \
    --resp_address="127.0.0.1:$((16400 + id))" --http_address="127.0.0.1:$((18100 + id))" \
    --data_dir="$DIR/data$id" --log_file="$DIR/node$id.log" "$@" &
  PIDS+=($!)
}
wait_ready() {  # id
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$((18100 + $1))/readyz" >/dev/null && return; sleep 0.2; done
  echo "node $1 not ready; see $DIR/node$1.log" >&2; exit 1
}
stop_all() { kill -TERM "${PIDS[@]}" 2>/dev/null || true; wait || true; }
trap stop_all EXIT
