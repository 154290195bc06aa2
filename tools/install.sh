#!/usr/bin/env bash
# Installs btkit for builds without Bazel: one static library, the headers
# and a pkg-config file.
#
#   tools/install.sh PREFIX
#   PKG_CONFIG_PATH=PREFIX/lib/pkgconfig \
#     g++ -std=c++20 prog.cc $(pkg-config --cflags --libs btkit)
#
# It builds every library of the layers (base, bencode, metainfo, protocol,
# storage, tracker, dht, and the client with the packages it is made of;
# not the `bt` tool, tests or benchmarks) with -fPIC, so the result links
# into executables and shared libraries alike, and installs:
#   PREFIX/lib/libbtkit.a             all their objects in one archive
#   PREFIX/include/btkit/<layer>/*.h  their headers, in the layout the
#                                     sources include them by
#                                     ("bencode/decoder.h")
#   PREFIX/lib/pkgconfig/btkit.pc     -I, -L, -lbtkit, Debian's Abseil
#                                     (absl_*.pc) and BoringSSL (with an
#                                     rpath to its folder)
# Needs what the build needs (tools/setup.sh installs it), plus pkg-config
# to use the result.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: tools/install.sh PREFIX" >&2
  exit 2
fi
prefix=$(realpath -m "$1")
cd "$(dirname "$0")/.."

for tool in bazel ar; do
  command -v "$tool" >/dev/null || {
    echo "install.sh: $tool not found (tools/setup.sh installs it)" >&2
    exit 1
  }
done

# The libraries: every cc_library of the layers below the client, and what
# //client:client is built from. Headers-only targets have no archive.
roots="//base/... + //bencode/... + //metainfo/... + //protocol/... +
       //storage/... + //tracker/... + //dht/... + //client:client"
closure="filter('^//', kind('cc_library rule', deps($roots)))"
mapfile -t libs < <(bazel query "$closure" 2>/dev/null)
mapfile -t hdrs < <(bazel query "labels(hdrs, $closure)" 2>/dev/null)
if ((${#libs[@]} == 0 || ${#hdrs[@]} == 0)); then
  echo "install.sh: bazel query found no libraries" >&2
  exit 1
fi

# Only the archives (no shared libraries), of -fPIC objects (.bazelrc).
# BTKIT_BAZEL_FLAGS: more flags for this build. Without any, the objects
# are those of tools/test.sh's optimized pass (gcc), which it reuses.
read -r -a extra <<<"${BTKIT_BAZEL_FLAGS:-}"
bazel build --force_pic --output_groups=archive "${extra[@]}" "${libs[@]}"
bin=$(bazel info --force_pic "${extra[@]}" bazel-bin 2>/dev/null)

# label //pkg:name -> pkg/name
path_of() {
  local label=${1#//}
  echo "${label%%:*}/${label#*:}"
}

mkdir -p "$prefix/lib/pkgconfig" "$prefix/include/btkit"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One archive: ar's MRI script adds every member of each library's archive.
# Copies with plain names keep the script free of characters MRI mishandles.
script="$work/merge.mri"
echo "CREATE $work/libbtkit.a" >"$script"
n=0
for label in "${libs[@]}"; do
  p=$(path_of "$label")
  a="$bin/$(dirname "$p")/lib$(basename "$p").a"
  [ -f "$a" ] || continue
  n=$((n + 1))
  cp "$a" "$work/lib$n.a"
  echo "ADDLIB $work/lib$n.a" >>"$script"
done
printf 'SAVE\nEND\n' >>"$script"
ar -M <"$script"
ranlib "$work/libbtkit.a"
install -m 644 "$work/libbtkit.a" "$prefix/lib/libbtkit.a"

for label in "${hdrs[@]}"; do
  p=$(path_of "$label")
  install -D -m 644 "$p" "$prefix/include/btkit/$p"
done

# Abseil through Debian's pkg-config files; BoringSSL (Android's build) by
# path, as Debian ships no .pc for it and OpenSSL's libcrypto.pc would win.
android=/usr/lib/x86_64-linux-gnu/android
absl=(absl_status absl_statusor absl_strings absl_str_format absl_time
      absl_synchronization absl_flat_hash_map absl_flat_hash_set absl_btree
      absl_span)
cat >"$prefix/lib/pkgconfig/btkit.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include/btkit

Name: btkit
Description: BitTorrent protocol toolkit: bencode, metainfo, peer wire, storage, trackers, DHT, client
Version: 0.1.0
Requires: ${absl[*]}
Cflags: -std=c++20 -I\${includedir} -I/usr/include/android
Libs: -L\${libdir} -lbtkit $android/libssl.so $android/libcrypto.so -Wl,-rpath,$android -lpthread
EOF

echo "installed btkit into $prefix: lib/libbtkit.a ($n libraries)," \
  "${#hdrs[@]} headers, lib/pkgconfig/btkit.pc"
