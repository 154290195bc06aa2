#include "base/sha.h"

#include <algorithm>
#include <cstdint>

#include "base/sha1_two_lanes.h"

namespace bt {

void Sha1Hasher::AddBlocks(size_t blocks) {
  // The message length in bits, as a 64-bit count in Nh:Nl.
  const uint64_t bits = ((uint64_t{ctx_.Nh} << 32) | ctx_.Nl) +
                        (static_cast<uint64_t>(blocks) << 9);
  ctx_.Nl = static_cast<uint32_t>(bits);
  ctx_.Nh = static_cast<uint32_t>(bits >> 32);
}

void Sha1Hasher::UpdateBoth(Sha1Hasher& a, ByteSpan data_a, Sha1Hasher& b,
                            ByteSpan data_b) {
  const size_t blocks = std::min(data_a.size(), data_b.size()) / 64;
  // Side by side only from a block boundary (nothing buffered in either).
  if (blocks > 0 && &a != &b && a.ctx_.num == 0 && b.ctx_.num == 0 &&
      internal::HaveSha1TwoLanes()) {
    internal::Sha1TwoLanes(a.ctx_.h, data_a.data(), b.ctx_.h, data_b.data(),
                           blocks);
    a.AddBlocks(blocks);
    b.AddBlocks(blocks);
    data_a = data_a.subspan(blocks * 64);
    data_b = data_b.subspan(blocks * 64);
  }
  a.Update(data_a);
  b.Update(data_b);
}

Sha1Hash Sha1(ByteSpan data) {
  Sha1Hash h;
  SHA1(data.data(), data.size(), h.data());
  return h;
}

Sha256Hash Sha256(ByteSpan data) {
  Sha256Hash h;
  SHA256(data.data(), data.size(), h.data());
  return h;
}

}  // namespace bt
