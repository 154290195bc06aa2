// Deterministic ids, hashes, addresses and contacts for the DHT benchmarks:
// every run measures the same inputs. Not for anything but benchmarks (the
// generator is seeded and predictable).
//
//   bt::dht::bench::Rng rng(7);
//   bt::NodeId target = bt::dht::bench::RandomBytes<bt::NodeId>(rng);
//   std::vector<bt::dht::NodeInfo> nodes = bt::dht::bench::RandomNodes(10000, rng);
#ifndef BENCHMARKS_DHT_RANDOM_VALUES_H_
#define BENCHMARKS_DHT_RANDOM_VALUES_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "base/endpoint.h"
#include "metainfo/compact.h"

namespace bt::dht::bench {

using Rng = std::mt19937_64;

// RandomBytes fills a fixed-size byte type (NodeId, Sha1Hash,
// std::array<uint8_t, N>) from `rng`.
template <typename T>
T RandomBytes(Rng& rng) {
  T out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(rng());
  return out;
}

// RandomString returns `n` bytes from `rng`.
inline std::string RandomString(size_t n, Rng& rng) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// PublicAddress is a distinct public IPv4 endpoint for each `i` below
// 107 * 255 * 256 (about 7 million): first octet 20..126, so never
// loopback, private or link-local (those are exempt from the table's
// one-contact-per-IP rule and from BEP 42).
inline Endpoint PublicAddress(size_t i) {
  constexpr size_t kFirst = 107, kSecond = 255;
  return Endpoint::V4({static_cast<uint8_t>(20 + i % kFirst),
                       static_cast<uint8_t>(1 + (i / kFirst) % kSecond),
                       static_cast<uint8_t>(i / (kFirst * kSecond)),
                       static_cast<uint8_t>(1 + i % 251)},
                      static_cast<uint16_t>(6881 + i % 7));
}

// RandomNodes returns `n` contacts with random ids at distinct public
// addresses (so the routing table's one-contact-per-IP rule keeps none out).
inline std::vector<metainfo::NodeInfo> RandomNodes(size_t n, Rng& rng) {
  std::vector<metainfo::NodeInfo> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back({RandomBytes<NodeId>(rng), PublicAddress(i)});
  }
  return out;
}

}  // namespace bt::dht::bench

#endif  // BENCHMARKS_DHT_RANDOM_VALUES_H_
