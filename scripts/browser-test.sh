#!/usr/bin/env bash
# The Observatory web page (/observatory/) in a real browser: headless Debian Chromium
# (/usr/bin/chromium, which .ci/run installs) driven by playwright-core from
# tests/browser/node_modules (installed here with `npm ci` when missing), against a real
# moltzap-server started here on a free port with --observatory-token. Agents alice, bob
# and a rule-based TaskMaster (moderator) are registered with the CLI; bob listens and the
# TaskMaster runs in the background, a task with a conversation "obs" is requested, then
# tests/browser/observatory.test.mjs drives the page (it stops and starts the server
# through $OBS_SERVER_CTL to check the page's reconnect).
# The screenshot goes to ${BROWSER_TEST_OUT:-$PWD/test-output/browser}.
set -euo pipefail
out=${BROWSER_TEST_OUT:-$PWD/test-output/browser}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
CHROMIUM=/usr/bin/chromium

[ -x "$CHROMIUM" ] || {
  echo "browser-test: $CHROMIUM is missing: install Debian's chromium package (.ci/run installs it: apt-get install chromium)" >&2
  exit 1
}
command -v node >/dev/null && command -v npm >/dev/null || {
  echo "browser-test: node and npm are missing (.ci/run installs them)" >&2
  exit 1
}

tmp=$(mktemp -d)
bgpids=()
cleanup() {
  local pid
  for pid in "${bgpids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -s "$tmp/server.pid" ]; then kill "$(cat "$tmp/server.pid")" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== npm tools (tests/browser)"
(cd tests/browser && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --silent; })

echo "== build moltzap and moltzap-server"
go build -o "$tmp/bin/" ./cmd/moltzap ./cmd/moltzap-server

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
token="obs-$$-$RANDOM-secret"

# server-ctl start|stop: the server on the same port and data directory each time; the
# test restarts it through this to check the page's reconnect.
cat >"$tmp/server-ctl" <<EOF
#!/usr/bin/env bash
set -euo pipefail
healthy() { python3 -c "import urllib.request as u; u.urlopen('$url/healthz', timeout=1)" 2>/dev/null; }
case "\${1:-}" in
start)
  "$tmp/bin/moltzap-server" --addr "127.0.0.1:$port" --data "$tmp/data" \\
    --observatory-token "$token" --log-level debug >>"$tmp/server.log" 2>&1 </dev/null &
  echo \$! >"$tmp/server.pid"
  for _ in \$(seq 150); do healthy && exit 0; sleep 0.1; done
  echo "server-ctl: the server did not start" >&2; tail -20 "$tmp/server.log" >&2; exit 1 ;;
stop)
  pid=\$(cat "$tmp/server.pid"); : >"$tmp/server.pid"
  kill "\$pid" 2>/dev/null || true
  for _ in \$(seq 100); do kill -0 "\$pid" 2>/dev/null || exit 0; sleep 0.1; done
  kill -9 "\$pid" 2>/dev/null || true ;;
*) echo "usage: server-ctl start|stop" >&2; exit 2 ;;
esac
EOF
chmod +x "$tmp/server-ctl"

echo "== moltzap-server on $url"
"$tmp/server-ctl" start

export MOLTZAP_CONFIG_DIR="$tmp/config" MOLTZAP_SERVER="$url"
mz() { "$tmp/bin/moltzap" "$@"; }
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
owner=5b0e7c1a-3d2f-4e6a-9b8c-1f2e3d4c5b6a
app=7b1e3c9a-2f4d-4c8e-9a61-0d5f2b8c4e17

echo "== agents alice, bob and moderator; bob listens, moderator runs tm for app $app"
for who in alice bob moderator; do
  mz --profile "$who" register "$who" >/dev/null
  mz --profile "$who" claim --owner "$owner" >/dev/null
done
# The binary itself in the background (not through mz, a function: $! would be a subshell).
"$tmp/bin/moltzap" --profile bob listen >"$tmp/bob.log" 2>&1 &
bgpids+=($!)
"$tmp/bin/moltzap" --profile moderator tm run --app "$app" --block-messages-containing secret >"$tmp/tm.log" 2>&1 &
bgpids+=($!)
for _ in $(seq 100); do grep -q "TaskMaster of app" "$tmp/tm.log" && break; sleep 0.1; done
grep -q "TaskMaster of app" "$tmp/tm.log" || { echo "browser-test: tm run did not start"; cat "$tmp/tm.log"; exit 1; }

echo "== a task with a conversation \"obs\""
mz --profile alice --json task request --invite bob --conversation-name obs >"$tmp/task.json"
OBS_TASK=$(json 'd["task"]["id"]' <"$tmp/task.json")
OBS_CONV=$(json 'd["conversation"]["id"]' <"$tmp/task.json")
OBS_ALICE_ID=$(mz --profile alice --json whoami | json 'd["agentId"]')
mz --profile bob --json whoami >"$tmp/bob.json"
OBS_BOB_ID=$(json 'd["agentId"]' <"$tmp/bob.json")
OBS_PROTOCOL=$(json 'd["protocolVersion"]' <"$tmp/bob.json")
OBS_BOB_KEY=$(json 'd["profiles"]["bob"]["apiKey"]' <"$MOLTZAP_CONFIG_DIR/profiles.json")
echo "task $OBS_TASK conversation $OBS_CONV"

echo "== browser test"
status=0
(cd tests/browser && OBS_URL="$url" OBS_TOKEN="$token" OBS_TASK="$OBS_TASK" OBS_CONV="$OBS_CONV" \
  OBS_ALICE_ID="$OBS_ALICE_ID" OBS_BOB_ID="$OBS_BOB_ID" OBS_BOB_KEY="$OBS_BOB_KEY" OBS_PROTOCOL="$OBS_PROTOCOL" OBS_APP="$app" \
  OBS_MOLTZAP="$tmp/bin/moltzap" OBS_SERVER_CTL="$tmp/server-ctl" OBS_OUT="$out" \
  OBS_CHROMIUM="$CHROMIUM" timeout 120 node --test --test-timeout=90000 observatory.test.mjs) || status=1

if [ "$status" -eq 0 ]; then echo "browser-test: screenshot $out/observatory.png"; fi
if [ "$status" -ne 0 ]; then
  echo "browser-test: failed; server log (last lines):"; tail -30 "$tmp/server.log"
  echo "tm log:"; tail -10 "$tmp/tm.log"
fi
exit "$status"
