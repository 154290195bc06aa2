// Cryptographically secure random bytes from BoringSSL, for peer ids, keys,
// transaction ids and tokens.
//
//   uint32_t txid = bt::RandomU32();
//   bt::RandomBytes(peer_id.mutable_span().subspan(8));
#ifndef BASE_RANDOM_H_
#define BASE_RANDOM_H_

#include <cstdint>

#include "base/bytes.h"

namespace bt {

void RandomBytes(MutableByteSpan out);
uint32_t RandomU32();
uint64_t RandomU64();

}  // namespace bt

#endif  // BASE_RANDOM_H_
