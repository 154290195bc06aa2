#include "base/sha.h"

namespace bt {

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
