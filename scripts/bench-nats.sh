#!/usr/bin/env bash
# The same-machine baseline of docs/performance.md: NATS core's server CPU per connect and
# per delivered message on this machine, measured by tools/natsfanout against the local
# nats-server, in the shapes of the moltzap bench workloads (medians of RUNS runs).
# Usage: scripts/bench-nats.sh [RUNS] [NATS_URL]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
url=${2:-nats://127.0.0.1:4222}
pid=$(pgrep -n nats-server) || { echo "bench-nats: no nats-server process on this machine" >&2; exit 1; }
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/natsfanout" ./tools/natsfanout
median() { python3 -c 'import json,sys,statistics as s; v=[json.loads(l)[sys.argv[1]] for l in sys.stdin if l.strip()]; print(round(s.median(v), 1))' "$1"; }
run() { # label, args...
  local label=$1; shift
  local out=""
  for _ in $(seq 1 "$runs"); do out+=$("$bin/natsfanout" --url "$url" --pid "$pid" "$@")$'\n'; sleep 1; done
  printf '| %s | %s ns | %s /s |\n' "$label" "$(median server_cpu_ns_per_op <<<"$out")" \
    "$(median "$( [[ $label == connect* ]] && echo connects_per_s || echo deliveries_per_s)" <<<"$out")"
}
echo "| NATS core, $runs runs (median) | server CPU per op | rate |"
echo "|---|---|---|"
run "connect, 5,000 connections x64" --connects 5000 --concurrency 64
run "fanout K=50, 8 in flight" --group-size 50 --count 4000 --concurrency 8
run "fanout K=500, 1 in flight" --group-size 500 --count 300 --concurrency 1
