#!/usr/bin/env bash
# make fuzz: builds every fuzz/fuzz_*.c as a libFuzzer binary (clang, ASan+UBSan) in build/fuzz/,
# then runs each for FUZZ_SECONDS (default 10) on a scratch copy of fuzz/corpus/<name>/, so the
# tracked corpus only grows by hand. Exits non-zero if any target fails to build or crashes.
# Crash inputs land in build/fuzz/artifacts/; each run's log in build/fuzz/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-10}
cc=${FUZZ_CC:-clang}
jobs=${FUZZ_JOBS:-2}
out=build/fuzz
pkgs="libuv libcurl libcjson yaml-0.1 openssl sqlite3 libpq"

# same language flags as the Makefile; -O1 keeps sanitizer reports readable
# shellcheck disable=SC2086
cflags="-std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fno-omit-frame-pointer -Wall -Wextra \
-Wno-unused-parameter $(pkg-config --cflags $pkgs)"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
# shellcheck disable=SC2086
libs="$(pkg-config --libs $pkgs) -lpthread -lm"

shopt -s nullglob
targets=(fuzz/fuzz_*.c)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz/fuzz_*.c targets"
  exit 0
fi

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' \
  >"$probe/probe.c"
if ! "$cc" -fsanitize=fuzzer "$probe/probe.c" -o "$probe/probe" 2>/dev/null; then
  echo "fuzz: $cc cannot link -fsanitize=fuzzer; install libclang-rt-14-dev (scripts/deps.sh)" >&2
  exit 1
fi

# The library sources are compiled once, instrumented for coverage, and shared by every target.
mkdir -p "$out/obj" "$out/artifacts"
mapfile -t srcs < <(find src -name '*.c' ! -name main.c | sort)
objs=()
pids=()
failed=0
for src in "${srcs[@]}"; do
  obj=$out/obj/${src%.c}.o
  mkdir -p "$(dirname "$obj")"
  objs+=("$obj")
  # shellcheck disable=SC2086
  "$cc" $cflags $san -fsanitize=fuzzer-no-link -c "$src" -o "$obj" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: building src/ failed" >&2
  exit 1
fi
# an archive, as in the Makefile: a target links only the objects it needs
lib=$out/libsluice-fuzz.a
rm -f "$lib"
ar rcs "$lib" "${objs[@]}"

crashed=()
for target in "${targets[@]}"; do
  name=$(basename "$target" .c)
  short=${name#fuzz_}
  bin=$out/$name
  # shellcheck disable=SC2086
  if ! "$cc" $cflags $san -fsanitize=fuzzer "$target" "$lib" $libs -o "$bin"; then
    echo "fuzz: $name: build failed" >&2
    crashed+=("$name(build)")
    continue
  fi

  work=$out/corpus/$short
  rm -rf "$work"
  mkdir -p "$work"
  if [ -d "fuzz/corpus/$short" ]; then
    cp -R "fuzz/corpus/$short/." "$work/"
  fi
  args=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1
        -artifact_prefix="$out/artifacts/$name-")
  [ -f "fuzz/$short.dict" ] && args+=(-dict="fuzz/$short.dict")

  echo "fuzz: $name for ${seconds}s"
  if "$bin" "${args[@]}" "$work" >"$out/$name.log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$out/$name.log" | sed "s/^/fuzz: $name: /" || true
  else
    echo "fuzz: $name FAILED; last lines of $out/$name.log:" >&2
    tail -n 40 "$out/$name.log" >&2
    crashed+=("$name")
  fi
done

if [ ${#crashed[@]} -ne 0 ]; then
  echo "fuzz: failed: ${crashed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran clean"
