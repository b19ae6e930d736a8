#!/usr/bin/env bash
# Runs the README quick start as written: `make run`, two agents registered and claimed, a
# task with a conversation, `listen` in one process and `send` in another. Exits non-zero
# unless bob's listener prints alice's message. Uses a free port and temporary directories.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
server_pid=""
listen_pid=""
cleanup() {
  [ -n "$listen_pid" ] && kill "$listen_pid" 2>/dev/null || true
  # make and go run sit between us and the server: signal the whole process group.
  [ -n "$server_pid" ] && kill -TERM -- "-$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export MOLTZAP_SERVER="http://127.0.0.1:$port"
export MOLTZAP_CONFIG_DIR="$work/config"
go build -o "$work/bin/" ./cmd/moltzap ./cmd/moltzap-server   # warm the build cache for go run

# Terminal 1
setsid make run ADDR="127.0.0.1:$port" DATA="$work/data" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do curl -sf "$MOLTZAP_SERVER/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$MOLTZAP_SERVER/health" >/dev/null || { echo "server did not start"; cat "$work/server.log"; exit 1; }

# Terminal 2
moltzap() { go run ./cmd/moltzap "$@"; }
moltzap --profile alice register alice
moltzap --profile bob register bob
OWNER=5b0e7c1a-3d2f-4e6a-9b8c-1f2e3d4c5b6a
moltzap --profile alice claim --owner $OWNER
moltzap --profile bob claim --owner $OWNER
conv=$(moltzap --profile alice --json task request --invite bob --conversation-name hello |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["conversation"]["id"])')
echo "conversation $conv"

moltzap --profile bob listen --count 1 --timeout 30s >"$work/listen.out" 2>"$work/listen.err" &
listen_pid=$!
for _ in $(seq 1 100); do grep -q . "$work/listen.err" 2>/dev/null && break; sleep 0.1; done   # listen says when it is ready
moltzap --profile alice send --conversation "$conv" "hi bob"
wait "$listen_pid"; listen_pid=""

cat "$work/listen.out"
grep -q "alice: hi bob" "$work/listen.out" || { echo "FAIL: bob's listener did not print alice's message"; cat "$work/listen.err"; exit 1; }
echo "quickstart: 1 passed, 0 failed"
