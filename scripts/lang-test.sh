#!/usr/bin/env bash
# The TypeScript and Python packages of generated/: type checks (tsc --strict, pyright
# --strict), the shared protocol vectors, live tests against a real moltzap-server started
# here on a free port, and failover tests against two more nodes sharing one fresh
# PostgreSQL schema (node 1 is killed by each language's test and started again in between).
# Needs node 20+ with npm, /usr/bin/python3 with python3-websockets, psql and a running
# PostgreSQL at $MOLTZAP_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test;
# .ci/run installs and starts them). Run by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tmp=$(mktemp -d)
srv=""
node1=""
node2=""
schema=""
DBURL=${MOLTZAP_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
cleanup() {
  for p in "$srv" "$node1" "$node2"; do [ -z "$p" ] || kill "$p" 2>/dev/null || true; done
  [ -z "$schema" ] || psql "$DBURL" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

PY=/usr/bin/python3
$PY -c 'import websockets' || { echo "lang-test: $PY cannot import websockets (apt-get install python3-websockets)"; exit 1; }

echo "== npm tools (tests/ts)"
(cd tests/ts && { [ -d node_modules ] || npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent; })
bin="$root/tests/ts/node_modules/.bin"

echo "== moltzap-server"
go build -o "$tmp/moltzap-server" ./cmd/moltzap-server
freeport() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(freeport)
"$tmp/moltzap-server" --addr "127.0.0.1:$port" --data "$tmp/data" >"$tmp/server.log" 2>&1 &
srv=$!
healthy() { $PY -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$1/healthz', timeout=1)" 2>/dev/null; }
wait_healthy() { # port log
  for _ in $(seq 100); do healthy "$1" && return 0; sleep 0.1; done
  echo "lang-test: server on port $1 did not start"; cat "$2"; exit 1
}
wait_healthy "$port" "$tmp/server.log"

echo "== two moltzap-server nodes on one PostgreSQL schema"
command -v psql >/dev/null || { echo "lang-test: psql is required to create the cluster's schema (apt-get install postgresql-client)"; exit 1; }
schema="lang_test_$$_$RANDOM"
psql "$DBURL" -v ON_ERROR_STOP=1 -qc "CREATE SCHEMA $schema" ||
  { schema=""; echo "lang-test: PostgreSQL is required at $DBURL (start it, e.g. with .ci/run, or set MOLTZAP_TEST_DATABASE_URL)"; exit 1; }
case "$DBURL" in *\?*) nodedb="$DBURL&search_path=$schema" ;; *) nodedb="$DBURL?search_path=$schema" ;; esac
port1=$(freeport)
port2=$(freeport)
start_node() { # number port -> sets node<number> to the pid
  env -u MOLTZAP_DATABASE_URL "$tmp/moltzap-server" --addr "127.0.0.1:$2" --database-url "$nodedb" --data "$tmp/node$1" >>"$tmp/node$1.log" 2>&1 &
  eval "node$1=$!"
  wait_healthy "$2" "$tmp/node$1.log"
}
start_node 1 "$port1"
start_node 2 "$port2"
export MOLTZAP_CLUSTER_WS1="ws://127.0.0.1:$port1/ws" MOLTZAP_CLUSTER_WS2="ws://127.0.0.1:$port2/ws"
export MOLTZAP_CLUSTER_HTTP1="http://127.0.0.1:$port1"
export MOLTZAP_WS="ws://127.0.0.1:$port/ws" MOLTZAP_HTTP="http://127.0.0.1:$port"
export MOLTZAP_VECTORS="$root/testdata/vectors/protocol.json"
# restart_node1 starts node 1 again if a failover test killed it.
restart_node1() {
  if ! healthy "$port1"; then wait "$node1" 2>/dev/null || true; start_node 1 "$port1"; fi
}

status=0
echo "== TypeScript"
# The tests compile generated/ts with tests/ts/node_modules' tsc (--strict, compile.test.mjs
# also checks that a missing callback and a mixed-up id do not compile).
(cd tests/ts && MOLTZAP_TS_PKG="$root/generated/ts" MOLTZAP_CLUSTER_NODE1_PID="$node1" \
  node --test vectors.test.mjs rpc.test.mjs compile.test.mjs live.test.mjs catchup.test.mjs failover.test.mjs) || status=1
restart_node1
echo "== Python"
cat >"$tmp/pyrightconfig.json" <<JSON
{"typeCheckingMode": "strict", "pythonVersion": "3.11"}
JSON
"$bin/pyright" -p "$tmp/pyrightconfig.json" --pythonpath "$PY" generated/python/moltzap || status=1
(cd tests/python && MOLTZAP_PY_PKG="$root/generated/python" MOLTZAP_CLUSTER_NODE1_PID="$node1" \
  $PY -m unittest -v test_vectors test_live test_catchup test_failover) || status=1
echo "== the README's Other languages examples, as written (port changed)"
snippet() { awk -v lang="$2" '$0 == "```" lang {f=1; next} /^```/ {if (f) exit} f' "$1" | sed "s/127.0.0.1:8080/127.0.0.1:$port/g"; }
mkdir -p "$tmp/moltzap-ts" "$tmp/my-agent/node_modules/@moltzap"
cp -r generated/ts/. "$tmp/moltzap-ts/"
ln -s "$root/tests/ts/node_modules" "$tmp/moltzap-ts/node_modules"
(cd "$tmp/moltzap-ts" && "$bin/tsc" -p .) || status=1
ln -s "$tmp/moltzap-ts" "$tmp/my-agent/node_modules/@moltzap/protocol"
ln -s "$root/tests/ts/node_modules/ws" "$tmp/my-agent/node_modules/ws"
snippet README.md js >"$tmp/my-agent/agent.mjs"
echo 'await client.close(); console.log("README TypeScript example: ok");' >>"$tmp/my-agent/agent.mjs"
(cd "$tmp/my-agent" && timeout 30 node agent.mjs) || status=1
snippet generated/python/README.md python >"$tmp/agent.py"
(PYTHONPATH="$root/generated/python" timeout 30 $PY "$tmp/agent.py" && echo "README Python example: ok") || status=1

[ "$status" -eq 0 ] || {
  echo "lang-test: failures (server logs: last lines below)"
  for log in server node1 node2; do echo "-- $log"; tail -20 "$tmp/$log.log"; done
}
exit "$status"
