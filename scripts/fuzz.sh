#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (default 10s; `make fuzz` runs them
# for 5 minutes). A target that finds a failure fails the run and leaves its input under the
# package's testdata/fuzz/ for `go test` to replay.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${FUZZTIME:-10s}
status=0
while IFS=: read -r file target; do
  pkg="./$(dirname "$file")"
  echo "== $target ($pkg, $time)"
  go test -run '^$' -fuzz "^${target}\$" -fuzztime "$time" -fuzzminimizetime 5s "$pkg" || status=1
done < <(grep -rHoE '^func (Fuzz[A-Za-z0-9_]+)' --include='*_test.go' . | grep -v node_modules | sed -E 's#^\./##; s#:func #:#' | sort)
exit "$status"
