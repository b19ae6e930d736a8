#!/usr/bin/env bash
# The docs/performance.md matrix: every workload of the scale targets, 3 fresh-server runs
# each, medians printed as a table. Usage:
#   scripts/bench-matrix.sh [MOLTZAP_SERVER_BINARY] [RUNS]
# The moltzap binary comes from ./bin (make build); the server binary defaults to
# ./bin/moltzap-server, so an older build can be measured by the same load generator.
set -euo pipefail
cd "$(dirname "$0")/.."
server=${1:-bin/moltzap-server}
runs=${2:-3}
mz=${MOLTZAP_BIN:-bin/moltzap}
[ -x "$mz" ] || { echo "bench-matrix: $mz missing (make build)" >&2; exit 1; }
[ -x "$server" ] || { echo "bench-matrix: $server missing" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

workloads=(
  "connect15k|connect --count 15000 --duration 5m"
  "fanout50x8|fanout --group-size 50 --concurrency 8 --count 4000"
  "fanout500x1|fanout --group-size 500 --concurrency 1 --count 300"
  "dm1|dm --concurrency 1 --count 5000"
  "dm32|dm --concurrency 32 --count 40000"
)
for w in "${workloads[@]}"; do
  name=${w%%|*}; args=${w#*|}
  for i in $(seq 1 "$runs"); do
    # shellcheck disable=SC2086
    "$mz" bench $args --spawn --moltzap-server "$server" --json >"$out/$name.$i.json" 2>"$out/$name.$i.err" ||
      { echo "bench-matrix: $name run $i failed:" >&2; cat "$out/$name.$i.err" >&2; exit 1; }
  done
done

python3 - "$out" "$runs" <<'PY'
import json, statistics, sys, glob, os
out, runs = sys.argv[1], int(sys.argv[2])
def med(name, path):
    vals = []
    for f in sorted(glob.glob(os.path.join(out, name + ".*.json"))):
        d = json.load(open(f))
        v = d
        for k in path:
            v = v.get(k) if isinstance(v, dict) else None
        if v is not None:
            vals.append(float(v))
    return statistics.median(vals) if vals else float("nan")
rows = [
    ("idle connection RSS (15k conns)", "connect15k", ["extra", "rss_bytes_per_conn"], 1/1024, "KiB"),
    ("server CPU per connect", "connect15k", ["extra", "server_cpu_ns_per_op"], 1/1000, "us"),
    ("server goroutines per idle conn", "connect15k", ["extra", "go_goroutines_per_conn"], 1, ""),
    ("K=50 x8: server CPU per delivery", "fanout50x8", ["extra", "server_cpu_ns_per_op"], 1/1000, "us"),
    ("K=50 x8: deliveries/s", "fanout50x8", ["rate"], 1, "/s"),
    ("K=500 x1: server CPU per delivery", "fanout500x1", ["extra", "server_cpu_ns_per_op"], 1/1000, "us"),
    ("DM 1 pair: msg/s", "dm1", ["rate"], 1, "/s"),
    ("DM 1 pair: p99", "dm1", ["latency", "p99_ns"], 1e-6, "ms"),
    ("DM 32 pairs: msg/s", "dm32", ["rate"], 1, "/s"),
    ("DM server CPU per message (32 pairs)", "dm32", ["extra", "server_cpu_ns_per_op"], 1/1000, "us"),
]
print("| figure | median of %d |" % runs)
print("|---|---|")
for label, name, path, scale, unit in rows:
    print("| %s | %.2f %s |" % (label, med(name, path) * scale, unit))
PY
