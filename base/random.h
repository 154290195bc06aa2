// Cryptographically secure random bytes from BoringSSL, for peer ids, keys,
// transaction ids and tokens; and SplitMix64, a small fast generator for
// choices that need no secrecy.
//
//   uint32_t txid = bt::RandomU32();
//   bt::RandomBytes(peer_id.mutable_span().subspan(8));
//   bt::SplitMix64 rng(bt::RandomU64());
//   size_t i = std::uniform_int_distribution<size_t>(0, n - 1)(rng);
#ifndef BASE_RANDOM_H_
#define BASE_RANDOM_H_

#include <cstdint>

#include "base/bytes.h"

namespace bt {

void RandomBytes(MutableByteSpan out);
uint32_t RandomU32();
uint64_t RandomU64();

// SplitMix64 is a non-cryptographic UniformRandomBitGenerator with 8 bytes
// of state, for choices among peers or pieces kept per torrent, where
// std::mt19937_64's 2.5 KiB per object would count with many torrents.
// Not for anything a peer must not predict (use the functions above).
class SplitMix64 {
 public:
  using result_type = uint64_t;
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

}  // namespace bt

#endif  // BASE_RANDOM_H_
