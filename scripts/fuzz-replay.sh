#!/usr/bin/env bash
# Replays each fuzz target's corpus (fuzz/corpus/<target>/) through the target built in $1.
set -euo pipefail
dir=${1:-build}
shopt -s nullglob
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  corpus=fuzz/corpus/${name#fuzz_}
  [ -d "$corpus" ] || continue
  "$dir/$name" "$corpus" >/dev/null
  echo "fuzz replay: $name ok"
done
