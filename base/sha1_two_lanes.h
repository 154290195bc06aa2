// Sha1TwoLanes: the SHA-1 compression function run over two independent
// messages at once with the CPU's SHA extensions. One SHA-1 stream waits on
// the latency of each round instruction; two streams interleaved fill those
// waits, so two messages take little longer than one (measured here by
// benchmarks/metainfo:sha_speed_benchmark: 3.1 GB/s for the pair against
// 1.8 for a single stream). Internal to
// base/sha.h's Sha1Hasher::UpdateBoth; no padding, whole 64-byte blocks only.
//
//   if (bt::internal::HaveSha1TwoLanes())
//     bt::internal::Sha1TwoLanes(state_a, data_a, state_b, data_b, blocks);
#ifndef BASE_SHA1_TWO_LANES_H_
#define BASE_SHA1_TWO_LANES_H_

#include <cstddef>
#include <cstdint>

namespace bt::internal {

// HaveSha1TwoLanes: this CPU has the SHA extensions (and SSSE3, SSE4.1).
bool HaveSha1TwoLanes();

// Sha1TwoLanes advances `a` (five words, h0..h4) over `blocks` 64-byte
// blocks at `data_a`, and `b` likewise over `data_b`. Only where
// HaveSha1TwoLanes().
void Sha1TwoLanes(uint32_t a[5], const uint8_t* data_a, uint32_t b[5],
                  const uint8_t* data_b, size_t blocks);

}  // namespace bt::internal

#endif  // BASE_SHA1_TWO_LANES_H_
