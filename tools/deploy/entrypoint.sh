#!/bin/sh
# Container entrypoint: the node id defaults to the last octet of the container's address, so
# `docker compose up --scale node=N` gives every replica its own id; founders set CREMA_NODE_ID.
set -eu
ADDR=$(hostname -i | awk '{print $1}')
ID=${CREMA_NODE_ID:-${ADDR##*.}}
exec /usr/local/bin/crema_server \
  --node_id="$ID" --peer_address="$ADDR:7000" \
  --resp_address="0.0.0.0:6379" --http_address="0.0.0.0:8080" \
  --data_dir=/data --peers="${CREMA_PEERS}" ${CREMA_BOOTSTRAP:+--bootstrap=$CREMA_BOOTSTRAP} \
  --auto_admit "$@"
