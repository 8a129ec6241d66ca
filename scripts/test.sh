#!/usr/bin/env bash
# make test: builds release and ASan+UBSan variants, then runs the unit, fuzz-replay and
# end-to-end suites against each. Exits non-zero on the first failing suite.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

run_suites() { # $1 = build dir, rest = make args
  local dir=$1; shift
  echo "== build ($dir)"
  make --no-print-directory -j"$jobs" "$@" all "$dir/unit-tests" >/dev/null
  echo "== unit ($dir)"
  "$dir/unit-tests" --jobs "$jobs"
  echo "== fuzz replay ($dir)"
  make --no-print-directory "$@" fuzz-replay
  if [ -d tests/e2e ] && ls tests/e2e/*.test.mjs >/dev/null 2>&1; then
    echo "== e2e ($dir)"
    scripts/e2e.sh "$dir"
    echo "== e2e with the libcurl upstream back end ($dir)"
    SLUICE_UPSTREAM=curl scripts/e2e.sh "$dir" tests/e2e/chat.test.mjs tests/e2e/streaming.test.mjs \
      tests/e2e/retries.test.mjs tests/e2e/errors.test.mjs tests/e2e/embeddings.test.mjs
  fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if command -v clang-format >/dev/null; then
  echo "== format (clang-format, the repo's .clang-format)"
  make --no-print-directory check-format
fi
run_suites build
run_suites build/san SAN=1
if command -v clang >/dev/null; then
  echo "== build (clang, warnings are errors)"
  make --no-print-directory -j"$jobs" CC=clang BUILD=build/clang all build/clang/unit-tests >/dev/null
fi
if command -v clang >/dev/null; then
  echo "== fuzz (libFuzzer, ${FUZZ_SECONDS:-4} s per target)"
  FUZZ_SECONDS=${FUZZ_SECONDS:-4} scripts/fuzz.sh
fi
echo "== all tests passed"
