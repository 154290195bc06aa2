#include "protocol/handshake.h"

#include "absl/strings/str_format.h"
#include "base/byte_reader.h"
#include "base/byte_writer.h"

namespace bt::protocol {

void AppendHandshake(const Handshake& hs, std::string* out) {
  out->reserve(out->size() + kHandshakeLength);
  ByteWriter w(out);
  w.Bytes(kHandshakePrefix)
      .Bytes(ByteSpan(hs.reserved.bytes()))
      .Bytes(hs.info_hash.span())
      .Bytes(hs.peer_id.span());
}

absl::Status CheckHandshakePrefix(std::string_view bytes) {
  size_t n = std::min(bytes.size(), kHandshakePrefix.size());
  for (size_t i = 0; i < n; ++i) {
    if (bytes[i] != kHandshakePrefix[i]) {
      if (i == 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "handshake: protocol name length is %d, expected 19 (byte 0)",
            static_cast<uint8_t>(bytes[0])));
      }
      return absl::InvalidArgumentError(absl::StrFormat(
          "handshake: protocol name is not \"BitTorrent protocol\" (byte %d)",
          i));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Handshake> ParseHandshake(std::string_view bytes) {
  if (bytes.size() != kHandshakeLength) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "handshake: %d bytes, expected %d", bytes.size(), kHandshakeLength));
  }
  if (absl::Status s = CheckHandshakePrefix(bytes); !s.ok()) return s;
  ByteReader r(bytes.substr(kHandshakePrefix.size()));
  std::array<uint8_t, 8> reserved;
  r.CopyBytes(8, reserved.data());
  Handshake hs;
  hs.reserved = ReservedBits(reserved);
  r.CopyBytes(20, hs.info_hash.data());
  r.CopyBytes(20, hs.peer_id.data());
  return hs;
}

}  // namespace bt::protocol
