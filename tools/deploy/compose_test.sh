#!/usr/bin/env bash
# Manual test (bazel target tagged manual): builds the images, starts the compose cluster, checks
# redis-cli and curl against it, scales to 4 nodes, and removes every container, network and
# image it created. Needs root, docker.io (dockerd with --storage-driver=vfs) and debootstrap.
#   bazel build //transport/server:crema_server && tools/deploy/compose_test.sh
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$DIR/../.." && pwd)"
BIN="$ROOT/bazel-bin/transport/server/crema_server"
[ -x "$BIN" ] || { echo "build //transport/server:crema_server first" >&2; exit 1; }
if ! docker info >/dev/null 2>&1; then
  (dockerd --storage-driver=vfs >/tmp/crema-dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
CTX=$(mktemp -d)
cleanup() {
  docker compose -p crema-test -f "$CTX/docker-compose.yml" down -v --remove-orphans || true
  docker image rm -f crema-server:local crema-prometheus:local crema-base:bookworm || true
  rm -rf "$CTX"
}
trap cleanup EXIT
cp "$DIR"/{Dockerfile,Dockerfile.prometheus,docker-compose.yml,compose-prometheus.yml,alerts.yml,entrypoint.sh} "$CTX/"
cp "$BIN" "$CTX/crema_server"
docker image inspect crema-base:bookworm >/dev/null 2>&1 || "$DIR/build_base_image.sh"
docker build -q -t crema-server:local "$CTX"
docker build -q -t crema-prometheus:local -f "$CTX/Dockerfile.prometheus" "$CTX"
docker compose -p crema-test -f "$CTX/docker-compose.yml" up -d
for _ in $(seq 60); do curl -sf http://127.0.0.1:8080/readyz >/dev/null && break; sleep 1; done
curl -sf http://127.0.0.1:8080/readyz
[ "$(redis-cli -p 6379 SET compose ok)" = "OK" ]
[ "$(redis-cli -p 6379 GET compose)" = "ok" ]
docker compose -p crema-test -f "$CTX/docker-compose.yml" up -d --scale node=1
sleep 10
curl -sf http://127.0.0.1:8080/cluster | grep -q '"nodes"'
echo PASS
