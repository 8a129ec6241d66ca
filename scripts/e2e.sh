#!/usr/bin/env bash
# End-to-end suite: runs tests/e2e/*.test.mjs (node --test, official openai client) against the
# sluice and sluice-mock binaries in BUILD_DIR (default build). Builds nothing. Installs the
# suite's npm packages (npm ci) when they are missing or older than package-lock.json.
#   scripts/e2e.sh [BUILD_DIR] [TEST_FILE...]
# Environment: SLUICE_E2E_TIMEOUT (seconds for the whole suite; default 300, 900 for build/san),
# SLUICE_E2E_CONCURRENCY (test files run at once; default 2), SLUICE_E2E_KEEP=1 (keep temp dirs
# and logs), SLUICE_E2E_VERBOSE=1 (echo every process's stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
e2e=tests/e2e

for bin in sluice sluice-mock; do
  if [ ! -x "$dir/$bin" ]; then
    echo "e2e: $dir/$bin is missing: build it first (make, or make SAN=1 for build/san)" >&2
    exit 1
  fi
done
for tool in node npm timeout; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is not installed (make deps)" >&2; exit 1; }
done

if [ ! -f "$e2e/node_modules/.package-lock.json" ] ||
   [ "$e2e/package-lock.json" -nt "$e2e/node_modules/.package-lock.json" ]; then
  echo "e2e: installing npm packages (npm ci in $e2e)"
  (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

if [ $# -gt 0 ]; then
  files=("$@")
else
  files=("$e2e"/*.test.mjs)
fi
case $dir in */san | san) limit=${SLUICE_E2E_TIMEOUT:-900} ;; *) limit=${SLUICE_E2E_TIMEOUT:-300} ;; esac
concurrency=${SLUICE_E2E_CONCURRENCY:-2}

# `timeout` puts itself and everything below it (node, its test files, every sluice and mock
# they start) in one process group and signals the whole group, so nothing outlives the suite.
# It is not in the terminal's foreground group, so Ctrl-C is forwarded to it by the trap.
timeout --kill-after=15 "$limit" env SLUICE_BUILD="$dir" \
  node --test --test-reporter=spec --test-concurrency="$concurrency" "${files[@]}" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
set +e
wait "$pid"
rc=$?
while kill -0 "$pid" 2>/dev/null; do # wait was interrupted by a trapped signal
  wait "$pid"
  rc=$?
done
set -e
[ "$rc" -eq 124 ] && echo "e2e: the suite did not finish within ${limit}s" >&2
exit "$rc"
