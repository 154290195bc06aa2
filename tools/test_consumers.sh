#!/usr/bin/env bash
# Checks that btkit can be used from outside its own workspace, both ways
# the README shows:
#   - examples/consumer, a Bazel workspace with btkit as an external
#     repository: builds its three tools and checks what they print (JSON of
#     a known torrent, the messages of a generated peer-wire capture, the
#     info-hashes libtorrent computes for known torrents, a magnet's fields);
#   - tools/install.sh into a temporary prefix, then a program compiled with
#     g++ and `pkg-config --cflags --libs btkit` (examples/pkgconfig), and a
#     link of every object in libbtkit.a against the .pc's libraries.
#
#   tools/test_consumers.sh [--xml FILE]
#
# Prints "ok NAME" or "FAIL NAME" with a diff per check, and exits 1 if any
# failed. --xml writes the checks as JUnit XML for tools/summarize_tests.py.
# The consumer workspace has its own Bazel server; it is shut down at exit.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
xml=""
if [ "${1:-}" = "--xml" ] && [ -n "${2:-}" ]; then xml=$2; fi
corpus=$root/tests/fuzz/corpus/torrent_info
consumer=$root/examples/consumer
work=$(mktemp -d)
start=$SECONDS

cleanup() {
  (cd "$consumer" && bazel shutdown >/dev/null 2>&1)
  rm -rf "$work"
}
trap cleanup EXIT

names=()
failures=()
pass() {
  echo "ok $1"
  names+=("$1")
  failures+=("")
}
fail() {
  echo "FAIL $1"
  printf '%s\n' "$2" | sed 's/^/  /'  # indented under its name
  names+=("$1")
  failures+=("$2")
}
# expect NAME EXPECTED_FILE ACTUAL_FILE
expect() {
  if diff -u "$2" "$3" >"$work/diff"; then
    pass "$1"
  else
    fail "$1" "$(head -40 "$work/diff")"
  fi
}
# expect_error NAME PATTERN STATUS: passes if STATUS is 1 and the output in
# $work/out matches PATTERN.
expect_error() {
  if [ "$3" -eq 1 ] && grep -q "$2" "$work/out"; then
    pass "$1"
  else
    fail "$1" "exit status $3 (want 1), output: $(head -5 "$work/out")"
  fi
}

write_xml() {
  [ -n "$xml" ] || return 0
  local n=${#names[@]} failed=0 i
  for i in "${!names[@]}"; do [ -z "${failures[$i]}" ] || failed=$((failed + 1)); done
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuites><testsuite name=\"consumers\" tests=\"$n\" failures=\"$failed\">"
    for i in "${!names[@]}"; do
      if [ -z "${failures[$i]}" ]; then
        echo "<testcase classname=\"consumers\" name=\"${names[$i]}\"/>"
      else
        echo "<testcase classname=\"consumers\" name=\"${names[$i]}\"><failure message=\"failed\"/></testcase>"
      fi
    done
    echo "</testsuite></testsuites>"
  } >"$xml"
}

# --- Bazel: examples/consumer -------------------------------------------
consumer_checks=(bencode_json_file bencode_json_stdin bencode_json_error
                 wire_dump wire_dump_error torrent_inspect_hybrid
                 torrent_inspect_v2 torrent_inspect_magnet)
if (cd "$consumer" && bazel build //...) >"$work/build.log" 2>&1; then
  pass consumer_build
  bin=$(cd "$consumer" && bazel info bazel-bin 2>/dev/null)

  cat >"$work/want" <<'EOF'
{
  "creation date": 1795291425,
  "info": {
    "length": 50000,
    "name": "a.bin",
    "piece length": 16384,
    "pieces": {"hex": "2b769a1496223e3ea7327d5cb285458a3dec8e6f4e62742eae6153443150f8be", "bytes": 80}
  }
}
EOF
  "$bin/bencode_json" "$corpus/v1_single.torrent" >"$work/out" 2>&1
  expect bencode_json_file "$work/want" "$work/out"
  "$bin/bencode_json" <"$corpus/v1_single.torrent" >"$work/out" 2>&1
  expect bencode_json_stdin "$work/want" "$work/out"
  printf 'd1:ai1e' | "$bin/bencode_json" >"$work/out" 2>&1
  expect_error bencode_json_error "at byte" $?

  cat >"$work/want" <<'EOF'
< @0 handshake info_hash=abababababababababababababababababababab peer_id=4242424242424242424242424242424242424242 reserved=0000000000100005 [fast extension dht]
< @68 bitfield bits=e0
< @74 port port=6881
< @81 allowed fast piece=2
< @90 unchoke
> @0 handshake info_hash=abababababababababababababababababababab peer_id=4141414141414141414141414141414141414141 reserved=0000000000100004 [fast extension]
< @95 piece piece=0 begin=0 length=16
< @124 reject piece=2 begin=0 length=16
< @141 choke
> @68 extended id=0 payload=24 bytes
> @98 interested
> @103 request piece=0 begin=0 length=16
> @120 request piece=1 begin=0 length=16
> @137 request piece=2 begin=0 length=16
> @154 have piece=0
> @163 cancel piece=1 begin=0 length=16
> @180 keep-alive
EOF
  "$bin/make_capture" >"$work/capture"
  "$bin/wire_dump" "$work/capture" >"$work/out" 2>&1
  expect wire_dump "$work/want" "$work/out"
  # The first two chunks (7 and 13 bytes): both streams stop in a handshake.
  head -c 30 "$work/capture" >"$work/cut"
  "$bin/wire_dump" "$work/cut" >"$work/out" 2>&1
  expect_error wire_dump_error "> error: stream ends inside a message" $?

  # Info-hashes as libtorrent 2.0.8 computes them for these files.
  cat >"$work/want" <<'EOF'
name: src
version: hybrid
info-hash v1: 9030a091aabf0ebdf6531697838f8964953c4670
info-hash v2: 8c735924470f3e1bcb11c4f29c65c1eed39abb1259fec7dcbd913472f549b943
piece length: 16384
pieces: 10
size: 120003
file: 50000 src/a.bin
file: 15536 src/.pad/15536 [p]
file: 70000 src/dir/b.bin
file: 11920 src/.pad/11920 [p]
file: 0 src/dir/sub/empty
file: 3 src/dir/sub/ü.txt
file: 16381 src/.pad/16381 [p]
tracker: tier 0 http://t.example/announce
web seed: http://ws.example/
EOF
  "$bin/torrent_inspect" "$corpus/hybrid.torrent" >"$work/out" 2>&1
  expect torrent_inspect_hybrid "$work/want" "$work/out"
  "$bin/torrent_inspect" "$corpus/v2_single.torrent" >"$work/out" 2>&1
  if grep -qx "version: v2" "$work/out" &&
     grep -qx "info-hash v2: cf3cb084ae01e87c7f0ece7be647bf6c25dd6a6b1aa4586041188ad5a69603d3" "$work/out" &&
     ! grep -q "info-hash v1" "$work/out"; then
    pass torrent_inspect_v2
  else
    fail torrent_inspect_v2 "$(cat "$work/out")"
  fi

  cat >"$work/want" <<'EOF'
info-hash v1: 9030a091aabf0ebdf6531697838f8964953c4670
info-hash v2: 8c735924470f3e1bcb11c4f29c65c1eed39abb1259fec7dcbd913472f549b943
name: src dir
tracker: http://t.example/announce
peer: 127.0.0.1:6881
select files: 0
select files: 2-4
EOF
  "$bin/torrent_inspect" "magnet:?xt=urn:btih:9030a091aabf0ebdf6531697838f8964953c4670&xt=urn:btmh:12208c735924470f3e1bcb11c4f29c65c1eed39abb1259fec7dcbd913472f549b943&dn=src%20dir&tr=http%3A%2F%2Ft.example%2Fannounce&x.pe=127.0.0.1:6881&so=0,2-4" \
    >"$work/out" 2>&1
  expect torrent_inspect_magnet "$work/want" "$work/out"
else
  fail consumer_build "$(tail -30 "$work/build.log")"
  for c in "${consumer_checks[@]}"; do fail "$c" "not run: the consumer workspace did not build"; done
fi
# One Bazel server at a time: the main workspace's comes next.
(cd "$consumer" && bazel shutdown >/dev/null 2>&1)

# --- Without Bazel: tools/install.sh + pkg-config ------------------------
prefix=$work/prefix
if bash "$root/tools/install.sh" "$prefix" >"$work/install.log" 2>&1 &&
   [ -f "$prefix/lib/libbtkit.a" ] &&
   [ -f "$prefix/include/btkit/bencode/decoder.h" ] &&
   [ -f "$prefix/lib/pkgconfig/btkit.pc" ]; then
  pass install
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  flags_ok=1
  cflags=$(pkg-config --cflags btkit) && libs=$(pkg-config --libs btkit) || flags_ok=0
  cat >"$work/want" <<'EOF'
magnet:?xt=urn:btih:9030a091aabf0ebdf6531697838f8964953c4670&xt=urn:btmh:12208c735924470f3e1bcb11c4f29c65c1eed39abb1259fec7dcbd913472f549b943&dn=src&tr=http%3A%2F%2Ft.example%2Fannounce&ws=http%3A%2F%2Fws.example%2F
13426974546f7272656e742070726f746f636f6c00000000001000009030a091aabf0ebdf6531697838f8964953c46700000000000000000000000000000000000000000
EOF
  # shellcheck disable=SC2086  # pkg-config output is a list of flags
  if ((flags_ok)) &&
     g++ $cflags "$root/examples/pkgconfig/torrent_magnet.cc" -o "$work/torrent_magnet" $libs \
       >"$work/out" 2>&1; then
    "$work/torrent_magnet" "$corpus/hybrid.torrent" >"$work/out" 2>&1
    expect pkgconfig_program "$work/want" "$work/out"
  else
    fail pkgconfig_program "$(head -30 "$work/out")"
  fi
  # Every object of the archive, linked: the .pc names every library they need.
  echo 'int main() { return 0; }' >"$work/empty.cc"
  # shellcheck disable=SC2086
  if ((flags_ok)) &&
     g++ $cflags "$work/empty.cc" -o "$work/whole" -Wl,--whole-archive \
       "$prefix/lib/libbtkit.a" -Wl,--no-whole-archive $libs >"$work/out" 2>&1 &&
     "$work/whole"; then
    pass pkgconfig_whole_archive
  else
    fail pkgconfig_whole_archive "$(grep -m 20 'undefined\|error' "$work/out")"
  fi
else
  fail install "$(tail -30 "$work/install.log")"
  fail pkgconfig_program "not run: install failed"
  fail pkgconfig_whole_archive "not run: install failed"
fi

write_xml
bad=0
for f in "${failures[@]}"; do [ -z "$f" ] || bad=$((bad + 1)); done
echo "consumers: $((${#names[@]} - bad)) passed, $bad failed in $((SECONDS - start)) s"
((bad == 0))
