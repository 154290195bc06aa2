#include "protocol/allowed_fast.h"

#include <algorithm>

#include "base/byte_reader.h"
#include "base/sha.h"

namespace bt::protocol {

std::vector<uint32_t> AllowedFastSet(const Sha1Hash& info_hash,
                                     const std::array<uint8_t, 4>& ipv4,
                                     uint32_t num_pieces, uint32_t k) {
  std::vector<uint32_t> set;
  k = std::min(k, num_pieces);  // more would never terminate
  if (k == 0) return set;
  set.reserve(k);
  // x = (ip & 0xFFFFFF00) . infohash, then x = SHA1(x) repeatedly.
  uint8_t seed[24] = {ipv4[0], ipv4[1], ipv4[2], 0};
  std::copy(info_hash.span().begin(), info_hash.span().end(), seed + 4);
  Sha1Hash x = Sha1(ByteSpan(seed, sizeof seed));
  while (true) {
    ByteReader r(x.span());
    uint32_t y;
    while (set.size() < k && r.ReadU32(&y)) {
      uint32_t index = y % num_pieces;
      if (std::find(set.begin(), set.end(), index) == set.end()) {
        set.push_back(index);
      }
    }
    if (set.size() == k) return set;
    x = Sha1(x.span());
  }
}

}  // namespace bt::protocol
