#!/usr/bin/env bash
# Installs, with apt, whatever Crema's build and tests need and this machine lacks (Debian 12).
# Safe to run repeatedly: it only calls apt when a package is missing. Needs root or sudo.
set -euo pipefail

# chromium: the run viewer's page is tested in a real headless browser (tools/trace_viewer).
PACKAGES=(
  g++ bazel-bootstrap bazel-rules-java chromium
  libabsl-dev libboost-context-dev liblz4-dev librapidcheck-dev libxxhash-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libhttp-parser-dev libgoogle-perftools-dev
  zlib1g-dev zstd gzip redis-tools procps
  prometheus-cpp-dev libspdlog-dev prometheus redis-server python3-redis curl etcd-server etcd-client
  iproute2 iptables libfaketime libnetfilter-queue-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install_deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
