#include "dht/item.h"

#include <openssl/curve25519.h>

#include "absl/strings/str_format.h"
#include "base/sha.h"

namespace bt::dht {

Ed25519KeyPair Ed25519KeyPairFromSeed(const std::array<uint8_t, 32>& seed) {
  Ed25519KeyPair k;
  ED25519_keypair_from_seed(k.public_key.data(), k.private_key.data(),
                            seed.data());
  return k;
}

std::string SignatureBuffer(std::string_view salt, int64_t seq,
                            std::string_view value) {
  std::string out;
  if (!salt.empty()) {
    out += absl::StrFormat("4:salt%d:", salt.size());
    out.append(salt);
  }
  out += absl::StrFormat("3:seqi%de1:v", seq);
  out.append(value);
  return out;
}

NodeId ImmutableTarget(std::string_view value) {
  return NodeId::FromBytes(Sha1(AsBytes(value)).span());
}

NodeId MutableTarget(const Ed25519PublicKey& key, std::string_view salt) {
  Sha1Hasher h;
  h.Update(ByteSpan(key));
  h.Update(AsBytes(salt));
  return NodeId::FromBytes(h.Final().span());
}

NodeId ItemTarget(const DhtItem& item) {
  return item.is_mutable ? MutableTarget(item.key, item.salt)
                         : ImmutableTarget(item.value);
}

DhtItem SignMutableItem(const Ed25519KeyPair& keys, std::string_view salt,
                        int64_t seq, std::string_view value) {
  DhtItem item;
  item.is_mutable = true;
  item.value = std::string(value);
  item.key = keys.public_key;
  item.seq = seq;
  item.salt = std::string(salt);
  std::string buf = SignatureBuffer(salt, seq, value);
  ED25519_sign(item.signature.data(), reinterpret_cast<const uint8_t*>(buf.data()),
               buf.size(), keys.private_key.data());
  return item;
}

DhtItem MakeImmutableItem(std::string_view value) {
  DhtItem item;
  item.value = std::string(value);
  return item;
}

bool VerifyItem(const DhtItem& item, const NodeId& target) {
  if (ItemTarget(item) != target) return false;
  if (!item.is_mutable) return true;
  std::string buf = SignatureBuffer(item.salt, item.seq, item.value);
  return ED25519_verify(reinterpret_cast<const uint8_t*>(buf.data()), buf.size(),
                        item.signature.data(), item.key.data()) == 1;
}

}  // namespace bt::dht
