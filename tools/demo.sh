#!/usr/bin/env bash
# btkit's main job on a fresh machine: installs what it needs, builds the
# `bt` tool, makes a torrent of a small payload with mktorrent and shows it
# through btkit's bencode decoder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bazel build //client:bt
bt=$(bazel info bazel-bin 2>/dev/null)/client/bt

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/payload/docs"
head -c $((8 << 20)) /dev/urandom > "$work/payload/data.bin"
echo "hello from btkit" > "$work/payload/docs/readme.txt"
mktorrent -l 18 -a http://127.0.0.1:6969/announce -o "$work/payload.torrent" "$work/payload" >/dev/null

echo "== bt bencode payload.torrent"
"$bt" bencode "$work/payload.torrent"
