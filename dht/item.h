// BEP 44 ("Storing arbitrary data in the DHT") items: immutable values stored
// under their SHA-1, and mutable values signed with an ed25519 key and stored
// under SHA-1(key + salt), with a sequence number that only grows.
//
//   bt::dht::Ed25519KeyPair keys = bt::dht::Ed25519KeyPairFromSeed(seed);
//   bt::dht::DhtItem item = bt::dht::SignMutableItem(keys, "salt", 1, "12:Hello World!");
//   bt::NodeId where = bt::dht::ItemTarget(item);
//   bool ok = bt::dht::VerifyItem(item, where);
#ifndef DHT_ITEM_H_
#define DHT_ITEM_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/hash.h"

namespace bt::dht {

inline constexpr size_t kMaxItemValueSize = 1000;  // bencoded "v"
inline constexpr size_t kMaxItemSaltSize = 64;

// BEP 44 error codes.
inline constexpr int kErrorValueTooBig = 205;
inline constexpr int kErrorInvalidSignature = 206;
inline constexpr int kErrorSaltTooBig = 207;
inline constexpr int kErrorCasMismatch = 301;
inline constexpr int kErrorSequenceTooLow = 302;

using Ed25519PublicKey = std::array<uint8_t, 32>;
using Ed25519Signature = std::array<uint8_t, 64>;

struct Ed25519KeyPair {
  Ed25519PublicKey public_key{};
  std::array<uint8_t, 64> private_key{};  // seed followed by the public key
};

// Ed25519KeyPairFromSeed derives a key pair from 32 secret bytes.
Ed25519KeyPair Ed25519KeyPairFromSeed(const std::array<uint8_t, 32>& seed);

// DhtItem is a stored or found value. `value` is the bencoded "v".
struct DhtItem {
  std::string value;
  bool is_mutable = false;
  Ed25519PublicKey key{};
  Ed25519Signature signature{};
  int64_t seq = 0;
  std::string salt;  // never sent back by "get": the reader knows it

  friend bool operator==(const DhtItem&, const DhtItem&) = default;
};

// SignatureBuffer is what a mutable item's signature covers:
// ["4:salt" len ":" salt] "3:seqi" seq "e1:v" value.
std::string SignatureBuffer(std::string_view salt, int64_t seq,
                            std::string_view value);

// ImmutableTarget is SHA-1(value); MutableTarget is SHA-1(key + salt).
NodeId ImmutableTarget(std::string_view value);
NodeId MutableTarget(const Ed25519PublicKey& key, std::string_view salt);
// ItemTarget is the target `item` is stored under.
NodeId ItemTarget(const DhtItem& item);

// SignMutableItem builds a signed mutable item. `value` must be bencoded.
DhtItem SignMutableItem(const Ed25519KeyPair& keys, std::string_view salt,
                        int64_t seq, std::string_view value);
DhtItem MakeImmutableItem(std::string_view value);

// VerifyItem is true if `item` belongs at `target` and, if mutable, carries
// a valid signature by its key.
bool VerifyItem(const DhtItem& item, const NodeId& target);

}  // namespace bt::dht

#endif  // DHT_ITEM_H_
