#include "base/random.h"

#include <openssl/rand.h>

namespace bt {

void RandomBytes(MutableByteSpan out) { RAND_bytes(out.data(), out.size()); }

uint32_t RandomU32() {
  uint32_t v;
  RAND_bytes(reinterpret_cast<uint8_t*>(&v), sizeof v);
  return v;
}

uint64_t RandomU64() {
  uint64_t v;
  RAND_bytes(reinterpret_cast<uint8_t*>(&v), sizeof v);
  return v;
}

}  // namespace bt
