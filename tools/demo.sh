#!/usr/bin/env bash
# btkit's main job on a fresh machine: installs what it needs, builds the
# `bt` tool, makes a payload and a torrent, starts a seeder and a downloader
# on loopback, transfers with a progress bar, and verifies the copy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bazel build //client/cli:bt
bt=$(bazel info bazel-bin 2>/dev/null)/client/cli/bt

work=$(mktemp -d)
seeder_pid=""
cleanup() {
  [ -n "$seeder_pid" ] && kill "$seeder_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== making a 96 MiB payload in $work/seed/payload"
mkdir -p "$work/seed/payload/docs" "$work/download"
head -c $((96 << 20)) /dev/urandom > "$work/seed/payload/video.bin"
head -c 300000 /dev/urandom > "$work/seed/payload/docs/photo.jpg"
echo "hello from btkit" > "$work/seed/payload/docs/readme.txt"

echo "== bt create (hybrid v1+v2 torrent)"
"$bt" create "$work/seed/payload" -o "$work/payload.torrent" --hybrid 2>&1 | tail -n 3
"$bt" info "$work/payload.torrent"

echo "== bt seed (in the background)"
: > "$work/seed.log"
# --dht-bootstrap= --no-lsd: both ends are on loopback, no need for the
# public DHT nor for multicast on the local network.
"$bt" seed "$work/payload.torrent" "$work/seed" --bind 127.0.0.1 \
  --dht-bootstrap= --no-lsd 2> "$work/seed.log" &
seeder_pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$work/seed.log" || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/seed.log"; exit 1; }

echo "== bt download from 127.0.0.1:$port (encrypted by default)"
"$bt" download "$work/payload.torrent" -o "$work/download" --bind 127.0.0.1 \
  --dht-bootstrap= --no-lsd --peer "127.0.0.1:$port"

echo "== verifying"
diff -r "$work/seed/payload" "$work/download/payload"
"$bt" check "$work/payload.torrent" "$work/download" | tail -n 1
echo "the download is identical to the source"
