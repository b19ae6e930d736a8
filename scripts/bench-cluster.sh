#!/usr/bin/env bash
# The cluster figures of docs/performance.md: N moltzap-server nodes on one fresh PostgreSQL
# database and the local NATS, loaded through all of them. Usage:
#   scripts/bench-cluster.sh NODES [bench workload args...]
# e.g. scripts/bench-cluster.sh 3 dm --concurrency 8 --count 4000
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth) and NATS on 127.0.0.1:4222; binaries from
# ./bin (make build).
set -euo pipefail
cd "$(dirname "$0")/.."
n=$1; shift
bin=${BIN_DIR:-bin}
db="mzbench_$$"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; dropdb -h 127.0.0.1 --if-exists "$db" 2>/dev/null || true; }
trap cleanup EXIT
createdb -h 127.0.0.1 "$db"
url="postgres://127.0.0.1:5432/$db?sslmode=disable"
args=(); pidargs=()
for i in $(seq 1 "$n"); do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$bin/moltzap-server" --addr "127.0.0.1:$port" --database-url "$url" --nats-url nats://127.0.0.1:4222 \
    --nats-prefix "bench$$" --node-id "n$i" --messages-per-minute 100000000 --requests-per-minute 100000000 \
    --max-group-participants 1000 --write-queue 65536 --log-level warn >/dev/null 2>&1 &
  pids+=($!); args+=(--url "http://127.0.0.1:$port"); pidargs+=(--server-pid "$!")
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
done
"$bin/moltzap" --json bench "$@" "${args[@]}" "${pidargs[@]}"
