#include "protocol/utp/packet.h"

#include <cassert>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "base/byte_reader.h"
#include "base/bytes.h"

namespace bt::protocol::utp {
namespace {

// The largest type value BEP 29 defines (ST_SYN).
constexpr uint8_t kMaxType = 4;
// Each extension starts with (next extension type, length).
constexpr size_t kExtensionHeaderSize = 2;

// SpanWriter puts big-endian integers and bytes into a span whose size the
// caller has checked; it still checks each write, so a bug aborts rather
// than silently writing elsewhere.
class SpanWriter {
 public:
  explicit SpanWriter(absl::Span<char> out) : out_(out) {}

  void U8(uint8_t v) {
    if (pos_ >= out_.size()) std::abort();  // caller's bug
    out_[pos_++] = static_cast<char>(v);
  }
  void U16(uint16_t v) {
    U8(static_cast<uint8_t>(v >> 8));
    U8(static_cast<uint8_t>(v));
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    U16(static_cast<uint16_t>(v));
  }
  void Bytes(std::string_view s) {
    if (s.size() > out_.size() - pos_) std::abort();  // caller's bug
    if (s.empty()) return;
    std::memcpy(out_.data() + pos_, s.data(), s.size());
    pos_ += s.size();
  }
  size_t size() const { return pos_; }

 private:
  absl::Span<char> out_;
  size_t pos_ = 0;
};

// Invalid is the kInvalidArgument every parse error is.
template <typename... Args>
absl::Status Invalid(const absl::FormatSpec<Args...>& format,
                     const Args&... args) {
  return absl::InvalidArgumentError(absl::StrFormat(format, args...));
}

}  // namespace

std::string_view PacketTypeName(PacketType type) {
  switch (type) {
    case PacketType::kData:
      return "ST_DATA";
    case PacketType::kFin:
      return "ST_FIN";
    case PacketType::kState:
      return "ST_STATE";
    case PacketType::kReset:
      return "ST_RESET";
    case PacketType::kSyn:
      return "ST_SYN";
  }
  return "ST_UNKNOWN";
}

absl::StatusOr<Packet> ParsePacket(std::string_view datagram) {
  if (datagram.size() < kHeaderSize) {
    return Invalid("utp header: truncated at byte %d (a header is %d bytes)",
                   datagram.size(), kHeaderSize);
  }
  ByteReader r(datagram);
  uint8_t type_version = 0;
  uint8_t extension = 0;
  Packet p;
  // The size check above makes every read of the fixed header succeed.
  r.ReadU8(&type_version);
  r.ReadU8(&extension);
  const uint8_t version = type_version & 0x0f;
  const uint8_t type = type_version >> 4;
  if (version != kVersion) {
    return Invalid("utp header: version %d at byte 0, only %d is known",
                   version, kVersion);
  }
  if (type > kMaxType) {
    return Invalid("utp header: unknown packet type %d at byte 0", type);
  }
  p.header.type = static_cast<PacketType>(type);
  r.ReadU16(&p.header.connection_id);
  r.ReadU32(&p.header.timestamp_us);
  r.ReadU32(&p.header.timestamp_difference_us);
  r.ReadU32(&p.header.window_size);
  r.ReadU16(&p.header.seq_nr);
  r.ReadU16(&p.header.ack_nr);

  // The extension chain: each link consumes at least its 2-byte header, so
  // the walk ends within datagram.size() / 2 steps.
  while (extension != 0) {
    const size_t at = r.offset();
    uint8_t next = 0;
    uint8_t length = 0;
    if (!r.ReadU8(&next) || !r.ReadU8(&length)) {
      return Invalid("utp extension %d at byte %d: header truncated at byte %d",
                     extension, at, datagram.size());
    }
    ByteSpan body;
    if (!r.ReadBytes(length, &body)) {
      return Invalid(
          "utp extension %d at byte %d: %d-byte body truncated at byte %d",
          extension, at, length, datagram.size());
    }
    if (extension == kExtensionSelectiveAck) {
      // An accepted mask is never empty (length 0 is refused below), so
      // non-empty means one was seen.
      if (!p.selective_ack.empty()) {
        return Invalid("utp selective ack: a second one at byte %d", at);
      }
      // BEP 29 asks for a multiple of 4 bytes, but libtorrent sends masks
      // of any length (1, 6, ...); refusing them drops its acks.
      if (length == 0) {
        return Invalid("utp selective ack: length 0 at byte %d", at + 1);
      }
      p.selective_ack = AsChars(body);
    }
    extension = next;
  }
  p.payload = AsChars(r.Rest());
  return p;
}

size_t EncodedSize(const Packet& packet) {
  size_t n = kHeaderSize + packet.payload.size();
  if (!packet.selective_ack.empty()) {
    n += kExtensionHeaderSize + packet.selective_ack.size();
  }
  return n;
}

size_t EncodePacket(const Packet& packet, absl::Span<char> out) {
  const size_t n = EncodedSize(packet);
  // Writing past `out` would corrupt the caller's memory: stop instead.
  if (out.size() < n) std::abort();
  const std::string_view sack = packet.selective_ack;
  assert(sack.size() <= 255);

  const PacketHeader& h = packet.header;
  SpanWriter w(out);
  w.U8(static_cast<uint8_t>((static_cast<uint8_t>(h.type) << 4) | kVersion));
  w.U8(sack.empty() ? 0 : kExtensionSelectiveAck);
  w.U16(h.connection_id);
  w.U32(h.timestamp_us);
  w.U32(h.timestamp_difference_us);
  w.U32(h.window_size);
  w.U16(h.seq_nr);
  w.U16(h.ack_nr);
  if (!sack.empty()) {
    w.U8(0);  // no further extension
    w.U8(static_cast<uint8_t>(sack.size()));
    w.Bytes(sack);
  }
  w.Bytes(packet.payload);
  return w.size();
}

std::string EncodePacket(const Packet& packet) {
  std::string out(EncodedSize(packet), '\0');
  EncodePacket(packet, absl::MakeSpan(out));
  return out;
}

bool LooksLikeUtp(std::string_view datagram) {
  if (datagram.size() < kHeaderSize) return false;
  const uint8_t first = static_cast<uint8_t>(datagram[0]);
  return (first & 0x0f) == kVersion && (first >> 4) <= kMaxType;
}

bool SelectiveAckHas(std::string_view mask, size_t i) {
  if (i / 8 >= mask.size()) return false;
  return (static_cast<uint8_t>(mask[i / 8]) >> (i % 8)) & 1;
}

void SetSelectiveAckBit(std::string& mask, size_t i) {
  assert(i / 8 < mask.size());
  if (i / 8 >= mask.size()) return;
  mask[i / 8] =
      static_cast<char>(static_cast<uint8_t>(mask[i / 8]) | (1u << (i % 8)));
}

}  // namespace bt::protocol::utp
