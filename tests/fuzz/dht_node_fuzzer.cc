// Feeds a DHT Node, an IPv4 one and then an IPv6 one (BEP 32), a sequence
// of arbitrary datagrams from a few source addresses of its family, with time passing, after starting a bootstrap and a get_peers so
// that responses can match its transaction ids (the seed is fixed). Checks
// that replies stay within the size cap and state stays bounded.
//
// Input: repeated [source byte][length byte][length bytes of packet].
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dht/node.h"

namespace {

// Run feeds the input to a node of one family (BEP 32: an IPv6 node reads
// "nodes6", stores and hands out 18-byte peers).
void Run(const uint8_t* data, size_t size, bool v6) {
  using bt::Endpoint;
  const Endpoint kSources4[] = {
      Endpoint::V4({10, 0, 0, 2}, 6881), Endpoint::V4({10, 0, 0, 3}, 6881),
      Endpoint::V4({8, 8, 8, 8}, 53), Endpoint::V4({127, 0, 0, 1}, 1),
      Endpoint::V4({1, 2, 3, 4}, 0)};
  const Endpoint kSources6[] = {
      Endpoint::V6({0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 6881),
      Endpoint::V6({0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3}, 6881),
      Endpoint::V6({0x20, 0x01, 0x48, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x88,
                    0x88},
                   53),
      Endpoint::V6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 1),
      Endpoint::V6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                   0)};
  const Endpoint* sources = v6 ? kSources6 : kSources4;
  absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  bt::dht::NodeOptions options;
  options.seed = 1;
  options.ipv6 = v6;
  bt::dht::Node node(options, now);
  node.AddBootstrapNode(sources[0]);
  node.AddBootstrapNode(sources[1]);
  node.Bootstrap(now);
  bt::Sha1Hash ih;
  node.Announce(ih, 6881, false, now, [](const bt::dht::LookupResult&) {});
  node.TakeOutgoing();
  size_t pos = 0;
  while (pos + 2 <= size) {
    uint8_t source = data[pos];
    size_t len = data[pos + 1];
    if (source & 0x80) len = len * 16;  // allow long packets
    pos += 2;
    len = std::min(len, size - pos);
    std::string_view packet(reinterpret_cast<const char*>(data + pos), len);
    pos += len;
    node.HandlePacket(packet, sources[(source & 0x7f) % 5], now);
    if (source & 0x40) {
      now += absl::Seconds(source & 0x3f);
      node.Tick(now);
    }
    for (const bt::dht::OutgoingPacket& p : node.TakeOutgoing()) {
      if (p.bytes.size() > 1500) std::abort();
      if (p.to.is_v6() != v6) std::abort();  // never to the other family
    }
  }
  if (node.table().size() > 160 * 8 || node.pending_queries() > 4096) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Run(data, size, /*v6=*/false);
  Run(data, size, /*v6=*/true);
  return 0;
}
