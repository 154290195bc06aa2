// SHA-1 and SHA-256 through BoringSSL, which uses the CPU's SHA extensions
// where present. One-shot functions and incremental hashers.
//
//   bt::Sha1Hash piece_hash = bt::Sha1(piece_bytes);
//   bt::Sha256Hasher h; h.Update(a); h.Update(b); bt::Sha256Hash d = h.Final();
#ifndef BASE_SHA_H_
#define BASE_SHA_H_

#include <openssl/sha.h>

#include "base/bytes.h"
#include "base/hash.h"

namespace bt {

Sha1Hash Sha1(ByteSpan data);
Sha256Hash Sha256(ByteSpan data);

// Sha1Hasher hashes data given in pieces. Final may be called once.
class Sha1Hasher {
 public:
  Sha1Hasher() { SHA1_Init(&ctx_); }
  void Update(ByteSpan data) { SHA1_Update(&ctx_, data.data(), data.size()); }
  Sha1Hash Final() {
    Sha1Hash h;
    SHA1_Final(h.data(), &ctx_);
    return h;
  }

 private:
  SHA_CTX ctx_;
};

// Sha256Hasher hashes data given in pieces. Final may be called once.
class Sha256Hasher {
 public:
  Sha256Hasher() { SHA256_Init(&ctx_); }
  void Update(ByteSpan data) { SHA256_Update(&ctx_, data.data(), data.size()); }
  Sha256Hash Final() {
    Sha256Hash h;
    SHA256_Final(h.data(), &ctx_);
    return h;
  }

 private:
  SHA256_CTX ctx_;
};

}  // namespace bt

#endif  // BASE_SHA_H_
