#!/usr/bin/env bash
# Installs every Debian package that building, testing, fuzzing, benchmarking
# and the interop peers need. Idempotent: does nothing when all are present.
set -euo pipefail

packages=(
  bazel-bootstrap default-jdk-headless
  g++ clang libclang-rt-14-dev
  libabsl-dev android-libboringssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libtorrent-rasterbar-dev python3-libtorrent
  aria2 transmission-cli opentracker mktorrent nginx-light
  libmicrohttpd-dev nlohmann-json3-dev transmission-daemon chromium
  ca-certificates openssl iproute2 pkg-config
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  # transmission-daemon's package may start its system service, which would
  # open DHT and port mapping to the outside: only tests start it, on loopback.
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    $sudo systemctl disable --now transmission-daemon 2>/dev/null || true
  fi
  $sudo service transmission-daemon stop >/dev/null 2>&1 || true
fi
