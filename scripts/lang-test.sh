#!/usr/bin/env bash
# The TypeScript and Python packages of generated/: type checks (tsc --strict, pyright
# --strict), the shared protocol vectors, and live tests against a real moltzap-server
# started here on a free port. Needs node 20+ with npm and /usr/bin/python3 with
# python3-websockets (.ci/run installs them). Run by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tmp=$(mktemp -d)
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

PY=/usr/bin/python3
$PY -c 'import websockets' || { echo "lang-test: $PY cannot import websockets (apt-get install python3-websockets)"; exit 1; }

echo "== npm tools (tests/ts)"
(cd tests/ts && { [ -d node_modules ] || npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent; })
bin="$root/tests/ts/node_modules/.bin"

echo "== moltzap-server"
go build -o "$tmp/moltzap-server" ./cmd/moltzap-server
port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$tmp/moltzap-server" --addr "127.0.0.1:$port" --data "$tmp/data" >"$tmp/server.log" 2>&1 &
srv=$!
healthy() { $PY -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/healthz', timeout=1)" 2>/dev/null; }
for _ in $(seq 100); do healthy && break; sleep 0.1; done
healthy || { echo "lang-test: server did not start"; cat "$tmp/server.log"; exit 1; }
export MOLTZAP_WS="ws://127.0.0.1:$port/ws" MOLTZAP_HTTP="http://127.0.0.1:$port"
export MOLTZAP_VECTORS="$root/testdata/vectors/protocol.json"

status=0
echo "== TypeScript"
# The tests compile generated/ts with tests/ts/node_modules' tsc (--strict, compile.test.mjs
# also checks that a missing callback and a mixed-up id do not compile).
(cd tests/ts && MOLTZAP_TS_PKG="$root/generated/ts" \
  node --test vectors.test.mjs rpc.test.mjs compile.test.mjs live.test.mjs) || status=1
echo "== Python"
cat >"$tmp/pyrightconfig.json" <<JSON
{"typeCheckingMode": "strict", "pythonVersion": "3.11"}
JSON
"$bin/pyright" -p "$tmp/pyrightconfig.json" --pythonpath "$PY" generated/python/moltzap || status=1
(cd tests/python && MOLTZAP_PY_PKG="$root/generated/python" $PY -m unittest -v test_vectors test_live) || status=1
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

[ "$status" -eq 0 ] || { echo "lang-test: failures (server log: last lines below)"; tail -20 "$tmp/server.log"; }
exit "$status"
