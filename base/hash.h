// Strong fixed-size byte types: Sha1Hash (20 bytes), Sha256Hash (32 bytes),
// PeerId and NodeId (20 bytes each), with hex and base32 conversions. Each is
// a distinct type so an info-hash cannot be passed where a peer id belongs.
//
//   ASSIGN_OR_RETURN(bt::Sha1Hash ih, bt::Sha1Hash::FromHex(text));
//   std::string magnet = "urn:btih:" + ih.ToHex();
#ifndef BASE_HASH_H_
#define BASE_HASH_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/bytes.h"

namespace bt {

namespace internal {
// Hex/base32 codecs shared by every FixedBytes instantiation. Decoders return
// false on a wrong length or a character outside the alphabet.
std::string ToHex(ByteSpan bytes);
bool FromHex(std::string_view text, MutableByteSpan out);
std::string ToBase32(ByteSpan bytes);  // RFC 4648 alphabet, no padding
bool FromBase32(std::string_view text, MutableByteSpan out);  // any case
absl::Status BadEncoding(std::string_view kind, std::string_view encoding,
                         size_t expected_chars, std::string_view text);
}  // namespace internal

// FixedBytes is N bytes with value semantics, ordering and hashing. `Tag`
// only distinguishes types.
template <size_t N, typename Tag>
class FixedBytes {
 public:
  static constexpr size_t kSize = N;

  FixedBytes() : bytes_{} {}
  explicit FixedBytes(const std::array<uint8_t, N>& bytes) : bytes_(bytes) {}

  // FromSpan copies exactly N bytes; false if `b` has another length.
  static bool FromSpan(ByteSpan b, FixedBytes* out) {
    if (b.size() != N) return false;
    for (size_t i = 0; i < N; ++i) out->bytes_[i] = b[i];
    return true;
  }
  // FromBytes copies the first N bytes of `b`, which must hold at least N.
  static FixedBytes FromBytes(ByteSpan b) {
    FixedBytes h;
    for (size_t i = 0; i < N; ++i) h.bytes_[i] = b[i];
    return h;
  }
  // FromHex parses 2N hex digits (either case).
  static absl::StatusOr<FixedBytes> FromHex(std::string_view text) {
    FixedBytes h;
    if (!internal::FromHex(text, MutableByteSpan(h.bytes_))) {
      return internal::BadEncoding(Tag::kName, "hex", 2 * N, text);
    }
    return h;
  }
  // FromBase32 parses ceil(8N/5) RFC 4648 base32 characters (either case).
  static absl::StatusOr<FixedBytes> FromBase32(std::string_view text) {
    FixedBytes h;
    if (!internal::FromBase32(text, MutableByteSpan(h.bytes_))) {
      return internal::BadEncoding(Tag::kName, "base32", (8 * N + 4) / 5, text);
    }
    return h;
  }

  std::string ToHex() const { return internal::ToHex(span()); }
  std::string ToBase32() const { return internal::ToBase32(span()); }
  // ToString returns the raw bytes.
  std::string ToString() const { return std::string(AsChars(span())); }

  ByteSpan span() const { return ByteSpan(bytes_); }
  MutableByteSpan mutable_span() { return MutableByteSpan(bytes_); }
  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* data() { return bytes_.data(); }
  uint8_t operator[](size_t i) const { return bytes_[i]; }
  uint8_t& operator[](size_t i) { return bytes_[i]; }
  static constexpr size_t size() { return N; }
  bool IsZero() const {
    for (uint8_t b : bytes_) {
      if (b) return false;
    }
    return true;
  }

  friend bool operator==(const FixedBytes&, const FixedBytes&) = default;
  friend auto operator<=>(const FixedBytes&, const FixedBytes&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const FixedBytes& v) {
    return H::combine_contiguous(std::move(h), v.bytes_.data(), N);
  }

 private:
  std::array<uint8_t, N> bytes_;
};

struct Sha1Tag {
  static constexpr const char* kName = "SHA-1 hash";
};
struct Sha256Tag {
  static constexpr const char* kName = "SHA-256 hash";
};
struct PeerIdTag {
  static constexpr const char* kName = "peer id";
};
struct NodeIdTag {
  static constexpr const char* kName = "node id";
};

using Sha1Hash = FixedBytes<20, Sha1Tag>;
using Sha256Hash = FixedBytes<32, Sha256Tag>;
using PeerId = FixedBytes<20, PeerIdTag>;
using NodeId = FixedBytes<20, NodeIdTag>;

}  // namespace bt

#endif  // BASE_HASH_H_
