// The BitTorrent peer-wire handshake (BEP 3): the 68 bytes each side sends
// first, <19>"BitTorrent protocol"<8 reserved bytes><info-hash><peer id>,
// with the reserved bits that announce extensions as named flags.
//
//   bt::protocol::Handshake hs;
//   hs.reserved.Set(bt::protocol::ReservedBit::kExtension);
//   hs.reserved.Set(bt::protocol::ReservedBit::kFast);
//   hs.info_hash = info_hash;
//   hs.peer_id = my_id;
//   std::string out;
//   bt::protocol::AppendHandshake(hs, &out);
//   ...
//   ASSIGN_OR_RETURN(bt::protocol::Handshake theirs,
//                    bt::protocol::ParseHandshake(received_68_bytes));
//   bool fast = hs.reserved.Has(kFast) && theirs.reserved.Has(kFast);
#ifndef PROTOCOL_HANDSHAKE_H_
#define PROTOCOL_HANDSHAKE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/hash.h"

namespace bt::protocol {

// kProtocolString is the handshake's protocol name; it is preceded by its
// length byte (19).
inline constexpr std::string_view kProtocolString = "BitTorrent protocol";
// kHandshakeLength is the size of a whole handshake on the wire.
inline constexpr size_t kHandshakeLength = 68;
// kHandshakePrefix is the first 20 bytes of every plain handshake; an
// incoming connection starting with them is not MSE-encrypted.
inline constexpr std::string_view kHandshakePrefix =
    "\x13"
    "BitTorrent protocol";

// ReservedBit names one bit of the 8 reserved bytes as (byte index, mask).
struct ReservedBit {
  uint8_t byte;
  uint8_t mask;

  // BEP 5: the peer runs a DHT node and may send PORT (reserved[7] & 0x01).
  static const ReservedBit kDht;
  // BEP 6: Fast extension (reserved[7] & 0x04).
  static const ReservedBit kFast;
  // BEP 52: supports upgrading a hybrid torrent to v2 (reserved[7] & 0x10).
  static const ReservedBit kV2Upgrade;
  // BEP 10: extension protocol (reserved[5] & 0x10).
  static const ReservedBit kExtension;
};

inline constexpr ReservedBit ReservedBit::kDht{7, 0x01};
inline constexpr ReservedBit ReservedBit::kFast{7, 0x04};
inline constexpr ReservedBit ReservedBit::kV2Upgrade{7, 0x10};
inline constexpr ReservedBit ReservedBit::kExtension{5, 0x10};

// ReservedBits is the 8 reserved bytes. Unknown bits are kept as they are.
class ReservedBits {
 public:
  ReservedBits() : bytes_{} {}
  explicit ReservedBits(const std::array<uint8_t, 8>& bytes) : bytes_(bytes) {}

  bool Has(ReservedBit bit) const { return bytes_[bit.byte] & bit.mask; }
  ReservedBits& Set(ReservedBit bit, bool on = true) {
    if (on) {
      bytes_[bit.byte] |= bit.mask;
    } else {
      bytes_[bit.byte] &= static_cast<uint8_t>(~bit.mask);
    }
    return *this;
  }
  const std::array<uint8_t, 8>& bytes() const { return bytes_; }

  friend bool operator==(const ReservedBits&, const ReservedBits&) = default;

 private:
  std::array<uint8_t, 8> bytes_;
};

// Handshake is one side's handshake.
struct Handshake {
  ReservedBits reserved;
  Sha1Hash info_hash;
  PeerId peer_id;

  friend bool operator==(const Handshake&, const Handshake&) = default;
};

// AppendHandshake appends the 68-byte encoding of `hs` to `*out`.
void AppendHandshake(const Handshake& hs, std::string* out);

// ParseHandshake parses exactly kHandshakeLength bytes. Errors
// (kInvalidArgument): wrong length, a protocol-length byte other than 19, or
// a protocol string other than "BitTorrent protocol"; messages name the
// byte offset.
absl::StatusOr<Handshake> ParseHandshake(std::string_view bytes);

// CheckHandshakePrefix checks the first min(20, size) bytes of `bytes`
// against kHandshakePrefix, so a stream can be refused on its first wrong
// byte. kInvalidArgument names the offending offset.
absl::Status CheckHandshakePrefix(std::string_view bytes);

}  // namespace bt::protocol

#endif  // PROTOCOL_HANDSHAKE_H_
