#!/usr/bin/env bash
# Installs the Debian packages sluice builds, tests and benchmarks with, when any is missing.
# Runs apt-get as root, or through sudo; does nothing when everything is present.
set -eu
pkgs=(build-essential pkg-config clang clang-format libuv1-dev libcurl4-openssl-dev libssl-dev libcjson-dev
      libyaml-dev libsqlite3-dev libpq-dev libhiredis-dev libcriterion-dev libclang-rt-14-dev
      nodejs npm wrk nginx-light postgresql redis-server sqlite3 curl ca-certificates)
[ "${SLUICE_DEPS_MINIMAL:-}" = 1 ] && pkgs=(build-essential pkg-config libuv1-dev libcurl4-openssl-dev
      libssl-dev libcjson-dev libyaml-dev libsqlite3-dev libpq-dev libhiredis-dev curl ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
  # node and npm may come from elsewhere (nvm, NodeSource): accept the commands
  case $p in nodejs) command -v node >/dev/null && continue ;; npm) command -v npm >/dev/null && continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
sudo=
[ "$(id -u)" -ne 0 ] && sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
