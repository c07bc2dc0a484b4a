#!/usr/bin/env bash
# Builds the Debian 12 base image `crema-base:bookworm` from the Debian archive with debootstrap +
# `docker import` (no container registry is needed or reachable). Uses the same Debian mirror as
# this machine's apt sources. Needs root, debootstrap and a running dockerd.
set -euo pipefail
MIRROR=$(grep -rhoE '^(deb|URIs:)[^#]*https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
  | grep -oE 'https?://[^ ]+' | grep -v security | head -1)
[ -n "$MIRROR" ] || { echo "no Debian mirror found in /etc/apt sources" >&2; exit 1; }
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR"
tar -C "$ROOT" -c . | docker import - crema-base:bookworm
echo "built crema-base:bookworm"
