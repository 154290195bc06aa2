// The BEP 6 allowed-fast set: the canonical pieces a peer may download
// while choked, derived from its IPv4 address and the info-hash so that both
// ends compute the same set.
//
//   std::vector<uint32_t> fast = bt::protocol::AllowedFastSet(
//       info_hash, {80, 4, 4, 200}, /*num_pieces=*/1313, /*k=*/10);
//   for (uint32_t piece : fast) AppendMessage(AllowedFast{piece}, &out);
#ifndef PROTOCOL_ALLOWED_FAST_H_
#define PROTOCOL_ALLOWED_FAST_H_

#include <array>
#include <cstdint>
#include <vector>

#include "base/hash.h"

namespace bt::protocol {

// AllowedFastSet returns the first min(k, num_pieces) pieces of the allowed
// fast set of the peer at `ipv4` (network-order address bytes; BEP 6 has no
// IPv6 form) for the torrent `info_hash`, in generation order. The set for
// k+1 extends the set for k. Empty when num_pieces is 0.
std::vector<uint32_t> AllowedFastSet(const Sha1Hash& info_hash,
                                     const std::array<uint8_t, 4>& ipv4,
                                     uint32_t num_pieces, uint32_t k);

}  // namespace bt::protocol

#endif  // PROTOCOL_ALLOWED_FAST_H_
