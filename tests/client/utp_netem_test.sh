#!/usr/bin/env bash
# uTP over a real link with delay and loss: two network namespaces joined
# by a veth pair whose both ends run `tc netem` (25 ms delay each way, so
# 50 ms round trips, and 1% loss). `bt seed` runs in one, `bt download` in
# the other, both with --transport utp; the copy must equal the source.
# Needs root, `ip netns` and `tc` (iproute2); elsewhere it says why and
# passes without testing (as GTEST_SKIP would).
set -euo pipefail
bt=$(realpath "${1:?usage: utp_netem_test.sh BT_BINARY}")
skip() { echo "SKIPPED: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "not root"
command -v ip >/dev/null && command -v tc >/dev/null || skip "no ip/tc (iproute2)"

tag="btu$$"
a="${tag}a" b="${tag}b"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/utp_netem.XXXXXX")
seed_pid=""
cleanup() {
  [ -n "$seed_pid" ] && kill "$seed_pid" 2>/dev/null && wait "$seed_pid" 2>/dev/null
  ip netns del "$a" 2>/dev/null || true
  ip netns del "$b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$a" 2>/dev/null || skip "cannot create network namespaces here"
ip netns add "$b"
ip link add "${tag}x" type veth peer name "${tag}y"
ip link set "${tag}x" netns "$a"
ip link set "${tag}y" netns "$b"
ip -n "$a" addr add 10.203.0.1/24 dev "${tag}x"
ip -n "$b" addr add 10.203.0.2/24 dev "${tag}y"
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set "${tag}x" up
ip -n "$b" link set "${tag}y" up
if ! ip netns exec "$a" tc qdisc add dev "${tag}x" root netem delay 25ms loss 1% ||
   ! ip netns exec "$b" tc qdisc add dev "${tag}y" root netem delay 25ms loss 1%; then
  skip "tc netem is not available (sch_netem module)"
fi

mkdir -p "$work/seed/payload"
head -c $((12 << 20)) /dev/urandom > "$work/seed/payload/data.bin"
"$bt" create "$work/seed/payload" -o "$work/p.torrent" --v1 >/dev/null 2>&1
ip netns exec "$a" "$bt" seed "$work/p.torrent" "$work/seed" \
  --bind 10.203.0.1 --transport utp --dht-bootstrap= --no-lsd \
  2> "$work/seed.log" &
seed_pid=$!
port=""
for _ in $(seq 100); do
  port=$(grep -o 'listening on port [0-9]*' "$work/seed.log" | awk '{print $4}' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "seeder did not start:"; cat "$work/seed.log"; exit 1; }
start=$(date +%s.%N)
timeout 120 ip netns exec "$b" "$bt" download "$work/p.torrent" -o "$work/dl" \
  --bind 10.203.0.2 --transport utp --dht-bootstrap= --no-lsd \
  --peer "10.203.0.1:$port" \
  > /dev/null 2> "$work/dl.log" || { echo "download failed:"; tail -c 2000 "$work/dl.log"; exit 1; }
end=$(date +%s.%N)
cmp "$work/seed/payload/data.bin" "$work/dl/payload/data.bin"
echo "12 MiB over uTP, 50 ms RTT, 1% loss each way: $(awk "BEGIN {printf \"%.1f\", $end - $start}") s"
