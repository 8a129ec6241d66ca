#!/usr/bin/env bash
# make run: starts sluice-mock on 127.0.0.1:4100 and sluice on config/example.yaml at :4000,
# prints a request to try, and runs until Ctrl-C (then stops sluice gracefully and the mock).
# Environment: SLUICE_BUILD (default build), SLUICE_CONFIG (default config/example.yaml),
# HOST (default 127.0.0.1), PORT (default 4000), SLUICE_ARGS (more sluice options).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SLUICE_BUILD:-build}
config=${SLUICE_CONFIG:-config/example.yaml}
host=${HOST:-127.0.0.1}
port=${PORT:-4000}
mock_port=4100 # config/example.yaml points its deployments here

for f in "$build/sluice" "$build/sluice-mock"; do
  [ -x "$f" ] || { echo "run: $f is missing: run make first" >&2; exit 1; }
done
[ -f "$config" ] || { echo "run: $config is missing" >&2; exit 1; }
command -v setsid >/dev/null || { echo "run: setsid (util-linux) is needed" >&2; exit 1; }

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$port" "$mock_port"; do
  if in_use "$p"; then
    echo "run: port $p is already in use (is another 'make run' running?)" >&2
    exit 1
  fi
done

# The master key: general_settings.master_key in the config (possibly os.environ/NAME), else
# LITELLM_MASTER_KEY. Only used to print the example request.
key=$(sed -n 's/^[[:space:]]*master_key:[[:space:]]*["'\'']\{0,1\}\([^"'\''[:space:]#]*\).*/\1/p' "$config" | head -n 1)
case $key in os.environ/*) var=${key#os.environ/}; key=${!var:-} ;; esac
key=${key:-${LITELLM_MASTER_KEY:-sk-1234}}

mock_pid=''
sluice_pid=''
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$sluice_pid" ] && kill -0 "$sluice_pid" 2>/dev/null; then
    echo "run: stopping sluice (finishing requests in flight)" >&2
    kill -TERM "$sluice_pid" 2>/dev/null || true
    wait "$sluice_pid" 2>/dev/null || true
  fi
  if [ -n "$mock_pid" ] && kill -0 "$mock_pid" 2>/dev/null; then
    kill -TERM "$mock_pid" 2>/dev/null || true
    wait "$mock_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Each child gets its own session, so Ctrl-C reaches only this script, which then stops sluice
# with one SIGTERM (a graceful drain) and the mock after it.
setsid "$build/sluice-mock" --host 127.0.0.1 --port "$mock_port" --quiet &
mock_pid=$!
# shellcheck disable=SC2086
setsid "$build/sluice" --config "$config" --host "$host" --port "$port" --db "$build/sluice.db" ${SLUICE_ARGS:-} &
sluice_pid=$!

ready() { curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$1/health/liveliness" 2>/dev/null; }
mock_ready() { curl -sS -o /dev/null --max-time 1 "http://127.0.0.1:$1/mock/stats" 2>/dev/null; }
for _ in $(seq 150); do
  kill -0 "$mock_pid" 2>/dev/null || { echo "run: sluice-mock exited" >&2; exit 1; }
  kill -0 "$sluice_pid" 2>/dev/null || { echo "run: sluice exited (see its messages above)" >&2; exit 1; }
  if mock_ready "$mock_port" && ready "$port"; then break; fi
  sleep 0.1
done
ready "$port" || { echo "run: sluice did not answer on port $port within 15 s" >&2; exit 1; }

shown=$host
case $host in 0.0.0.0 | "::" | "[::]") shown=127.0.0.1 ;; esac
cat <<MSG

sluice is listening on http://$host:$port (config $config), sluice-mock on http://127.0.0.1:$mock_port

Try it:
  curl http://$shown:$port/v1/chat/completions \\
    -H 'Authorization: Bearer $key' -H 'Content-Type: application/json' \\
    -d '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello!"}]}'

Anthropic's Messages API, in front of the same models (or of "claude-sonnet", an Anthropic
deployment on the mock):
  curl http://$shown:$port/v1/messages \\
    -H 'x-api-key: $key' -H 'anthropic-version: 2023-06-01' -H 'Content-Type: application/json' \\
    -d '{"model": "claude-sonnet", "max_tokens": 256, "messages": [{"role": "user", "content": "Hello!"}]}'

Or point any OpenAI client at base URL http://$shown:$port/v1 (an Anthropic client at
http://$shown:$port) with API key $key.
Press Ctrl-C to stop.

MSG
set +e
wait "$sluice_pid"
rc=$?
set -e
sluice_pid=''
echo "run: sluice exited with status $rc" >&2
exit "$rc"
