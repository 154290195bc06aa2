// The uTP (BEP 29) packet codec: the 20-byte version-1 header, the linked
// list of extensions after it (of which only selective ACK, type 1, is
// understood; others are skipped) and the payload. Sans-I/O: datagrams in,
// datagrams out; no socket, no clock.
//
//   // Receiving: demultiplex the shared UDP socket, then parse.
//   if (!bt::protocol::utp::LooksLikeUtp(datagram)) return HandToDht(datagram);
//   ASSIGN_OR_RETURN(bt::protocol::utp::Packet p,
//                    bt::protocol::utp::ParsePacket(datagram));
//   if (bt::protocol::utp::SelectiveAckHas(p.selective_ack, 3)) {
//     // p.header.ack_nr + 2 + 3 has arrived at the other end.
//   }
//
//   // Sending: fill a Packet whose views point at buffers that live until
//   // EncodePacket returns.
//   bt::protocol::utp::Packet out;
//   out.header.type = bt::protocol::utp::PacketType::kState;
//   out.header.connection_id = send_id;
//   out.header.seq_nr = seq_nr;
//   out.header.ack_nr = ack_nr;
//   std::string mask(4, '\0');
//   bt::protocol::utp::SetSelectiveAckBit(mask, 0);  // ack_nr + 2 arrived
//   out.selective_ack = mask;
//   std::string wire = bt::protocol::utp::EncodePacket(out);
#ifndef PROTOCOL_UTP_PACKET_H_
#define PROTOCOL_UTP_PACKET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace bt::protocol::utp {

// PacketType is the high nibble of a header's first byte. Values above 4
// never come out of ParsePacket.
enum class PacketType : uint8_t {
  kData = 0,   // ST_DATA: carries payload.
  kFin = 1,    // ST_FIN: the sender's last sequence number.
  kState = 2,  // ST_STATE: an ACK without data.
  kReset = 3,  // ST_RESET: the sender has no state for this connection.
  kSyn = 4,    // ST_SYN: opens a connection.
};

// PacketTypeName is the BEP's name for `type` ("ST_DATA", "ST_FIN",
// "ST_STATE", "ST_RESET", "ST_SYN"), or "ST_UNKNOWN" for a value outside the
// enum. The view is of a static string: it never dangles.
std::string_view PacketTypeName(PacketType type);

// kVersion is the protocol version in the low nibble of a header's first
// byte; ParsePacket accepts no other.
inline constexpr uint8_t kVersion = 1;
// kHeaderSize is the size of the fixed header on the wire.
inline constexpr size_t kHeaderSize = 20;
// kExtensionSelectiveAck is the extension type of the selective-ACK bitmask.
inline constexpr uint8_t kExtensionSelectiveAck = 1;
// kMaxSelectiveAckSize is the largest selective-ACK bitmask that fits the
// extension's one-byte length and is a multiple of 4.
inline constexpr size_t kMaxSelectiveAckSize = 252;

// PacketHeader is the fixed header, fields in host order. The extension
// byte is not here: ParsePacket walks the chain, EncodePacket derives it
// from Packet::selective_ack.
struct PacketHeader {
  PacketType type = PacketType::kData;
  uint16_t connection_id = 0;
  uint32_t timestamp_us = 0;
  uint32_t timestamp_difference_us = 0;
  uint32_t window_size = 0;
  uint16_t seq_nr = 0;
  uint16_t ack_nr = 0;

  // operator== compares every field.
  bool operator==(const PacketHeader&) const = default;
};

// Packet is one datagram: header, selective ACK and payload. The two views
// point into memory the Packet does not own (the parsed datagram, or the
// caller's buffers when encoding).
struct Packet {
  PacketHeader header;
  // The selective-ACK bitmask (extension 1) exactly as on the wire; empty
  // when absent. Bit i (byte i/8, bit i%8, least significant first) stands
  // for sequence number ack_nr + 2 + i.
  std::string_view selective_ack;
  // The bytes after the extensions. ParsePacket returns them for every
  // type; a connection uses them only on ST_DATA (and ignores what a
  // FIN/STATE/RESET/SYN carries). An ST_DATA with no payload parses too: it
  // is for the connection to decide what that means.
  std::string_view payload;

  // operator== compares the header and the bytes of both views (not where
  // they point).
  bool operator==(const Packet&) const = default;
};

// ParsePacket parses one datagram. The returned views point into
// `datagram`, which must outlive the Packet.
//
// Errors are kInvalidArgument, with a message naming what was wrong and the
// byte offset: fewer than kHeaderSize bytes; a version other than kVersion;
// a type above 4; an extension whose 2-byte (next type, length) header or
// whose `length` bytes run past the end; a selective-ACK extension of
// length 0; a second selective-ACK extension. Masks of any other length
// are accepted: BEP 29 asks for multiples of 4 bytes, but libtorrent sends
// whatever length covers its holes.
// Extensions of unknown type are skipped. Work is O(datagram size).
absl::StatusOr<Packet> ParsePacket(std::string_view datagram);

// EncodedSize is the number of bytes EncodePacket writes for `packet`:
// kHeaderSize, plus 2 + selective_ack.size() when the mask is non-empty,
// plus payload.size(). It never fails.
size_t EncodedSize(const Packet& packet);

// EncodePacket writes `packet` in network byte order into `out`: the
// header (its extension byte 1 when selective_ack is non-empty, else 0),
// the selective-ACK extension when present, then the payload. Returns the
// number of bytes written, always EncodedSize(packet). It refuses nothing.
//
// Preconditions: `out` holds at least EncodedSize(packet) bytes (violating
// it aborts rather than write past the end); selective_ack.size() is at
// most 255, the extension's length byte (checked by assert in debug builds
// only); btkit itself sends multiples of 4, up to kMaxSelectiveAckSize.
// `packet`'s views are read only during the call.
size_t EncodePacket(const Packet& packet, absl::Span<char> out);

// EncodePacket returns the encoding of `packet` as a new string; same
// preconditions on selective_ack as above.
std::string EncodePacket(const Packet& packet);

// LooksLikeUtp is a cheap test for demultiplexing a UDP socket shared with
// the DHT: true when `datagram` is at least kHeaderSize bytes, its version
// nibble is kVersion and its type nibble is at most 4. A KRPC message (a
// bencoded dictionary, first byte 'd' = 0x64) fails it. True does not mean
// ParsePacket will succeed (the extension chain is not looked at).
bool LooksLikeUtp(std::string_view datagram);

// SelectiveAckHas is bit i of a selective-ACK mask (byte i/8, bit i%8,
// least significant first): whether ack_nr + 2 + i was received. False for
// any i past the end of `mask`; never fails.
bool SelectiveAckHas(std::string_view mask, size_t i);

// SetSelectiveAckBit sets bit i of `mask`. Precondition: i / 8 <
// mask.size() (size the mask first, e.g. std::string(4, '\0')); an i past
// the end is asserted in debug builds and otherwise leaves `mask`
// unchanged.
void SetSelectiveAckBit(std::string& mask, size_t i);

}  // namespace bt::protocol::utp

#endif  // PROTOCOL_UTP_PACKET_H_
