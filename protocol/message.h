// Peer-wire messages (BEP 3, 5, 6, 10, 52) as plain structs, and builders
// that append their wire encoding (<length u32><id u8><payload>) to a
// std::string.
//
//   std::string out;
//   bt::protocol::AppendMessage(bt::protocol::Request{7, 16384, 16384}, &out);
//   bt::protocol::AppendHave(42, &out);
//
//   // A piece message without copying the block: build only its 13-byte
//   // header and send header + block with writev/sendmsg.
//   std::string header;
//   bt::protocol::AppendPieceHeader(piece, begin, block.size(), &header);
//
// Messages that carry variable data (Bitfield, Piece, Extended, Hashes,
// UnknownMessage) hold views; whoever builds one keeps the viewed bytes
// alive. MessageParser (message_parser.h) produces them from a byte stream.
#ifndef PROTOCOL_MESSAGE_H_
#define PROTOCOL_MESSAGE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "base/hash.h"
#include "protocol/handshake.h"

namespace bt::protocol {

// MessageId is the byte after the length prefix.
enum class MessageId : uint8_t {
  kChoke = 0,
  kUnchoke = 1,
  kInterested = 2,
  kNotInterested = 3,
  kHave = 4,
  kBitfield = 5,
  kRequest = 6,
  kPiece = 7,
  kCancel = 8,
  kPort = 9,          // BEP 5
  kSuggest = 13,      // BEP 6
  kHaveAll = 14,      // BEP 6
  kHaveNone = 15,     // BEP 6
  kReject = 16,       // BEP 6
  kAllowedFast = 17,  // BEP 6
  kExtended = 20,     // BEP 10
  kHashRequest = 21,  // BEP 52
  kHashes = 22,       // BEP 52
  kHashReject = 23,   // BEP 52
};

// Size of the length prefix and of a piece message's header
// (<len><7><index><begin>), which precedes the block.
inline constexpr size_t kLengthPrefixSize = 4;
inline constexpr size_t kPieceHeaderSize = 13;
// Size of the fixed part of hash request / hashes / hash reject payloads:
// pieces root (32) + base layer, index, length, proof layers (4 each).
inline constexpr size_t kHashRequestPayloadSize = 48;
// The block size every client uses (BEP 3: larger requests get dropped).
inline constexpr uint32_t kBlockSize = 16 * 1024;

struct KeepAlive {
  friend bool operator==(const KeepAlive&, const KeepAlive&) = default;
};
struct Choke {
  friend bool operator==(const Choke&, const Choke&) = default;
};
struct Unchoke {
  friend bool operator==(const Unchoke&, const Unchoke&) = default;
};
struct Interested {
  friend bool operator==(const Interested&, const Interested&) = default;
};
struct NotInterested {
  friend bool operator==(const NotInterested&, const NotInterested&) = default;
};
struct Have {
  uint32_t piece = 0;
  friend bool operator==(const Have&, const Have&) = default;
};
// Bitfield: `bits` views the raw bitfield bytes (piece 0 is the high bit of
// the first byte).
struct Bitfield {
  std::string_view bits;
  friend bool operator==(const Bitfield&, const Bitfield&) = default;
};
struct Request {
  uint32_t piece = 0;
  uint32_t begin = 0;
  uint32_t length = 0;
  friend bool operator==(const Request&, const Request&) = default;
};
// Piece: `data` views the block.
struct Piece {
  uint32_t piece = 0;
  uint32_t begin = 0;
  std::string_view data;
  friend bool operator==(const Piece&, const Piece&) = default;
};
struct Cancel {
  uint32_t piece = 0;
  uint32_t begin = 0;
  uint32_t length = 0;
  friend bool operator==(const Cancel&, const Cancel&) = default;
};
// Port (BEP 5): the sender's DHT UDP port.
struct Port {
  uint16_t port = 0;
  friend bool operator==(const Port&, const Port&) = default;
};
struct Suggest {
  uint32_t piece = 0;
  friend bool operator==(const Suggest&, const Suggest&) = default;
};
struct HaveAll {
  friend bool operator==(const HaveAll&, const HaveAll&) = default;
};
struct HaveNone {
  friend bool operator==(const HaveNone&, const HaveNone&) = default;
};
struct Reject {
  uint32_t piece = 0;
  uint32_t begin = 0;
  uint32_t length = 0;
  friend bool operator==(const Reject&, const Reject&) = default;
};
struct AllowedFast {
  uint32_t piece = 0;
  friend bool operator==(const AllowedFast&, const AllowedFast&) = default;
};
// Extended (BEP 10): `id` 0 is the extension handshake, others are the
// ids the receiver assigned in its handshake. `payload` views the rest.
struct Extended {
  uint8_t id = 0;
  std::string_view payload;
  friend bool operator==(const Extended&, const Extended&) = default;
};
// HashRange is the common part of the BEP 52 hash messages.
struct HashRange {
  Sha256Hash pieces_root;
  uint32_t base_layer = 0;
  uint32_t index = 0;
  uint32_t length = 0;  // number of base-layer hashes: >= 2, a power of two
  uint32_t proof_layers = 0;
  friend bool operator==(const HashRange&, const HashRange&) = default;
};
struct HashRequest {
  HashRange range;
  friend bool operator==(const HashRequest&, const HashRequest&) = default;
};
// Hashes: `hashes` views the concatenated 32-byte hashes (base layer first,
// then the uncle hashes).
struct Hashes {
  HashRange range;
  std::string_view hashes;
  friend bool operator==(const Hashes&, const Hashes&) = default;
};
struct HashReject {
  HashRange range;
  friend bool operator==(const HashReject&, const HashReject&) = default;
};
// UnknownMessage is a message with an id this library does not know; the
// parser passes it on (when allowed) so the caller decides.
struct UnknownMessage {
  uint8_t id = 0;
  std::string_view payload;
  friend bool operator==(const UnknownMessage&,
                         const UnknownMessage&) = default;
};

// Message is anything that travels on a peer-wire stream, including the
// initial handshake.
using Message =
    std::variant<Handshake, KeepAlive, Choke, Unchoke, Interested,
                 NotInterested, Have, Bitfield, Request, Piece, Cancel, Port,
                 Suggest, HaveAll, HaveNone, Reject, AllowedFast, Extended,
                 HashRequest, Hashes, HashReject, UnknownMessage>;

// MessageName returns a short lower-case name ("piece", "have all", ...).
std::string_view MessageName(const Message& m);
std::string_view MessageIdName(uint8_t id);

// AppendMessage appends the wire encoding of `m` to `*out`. Builders do
// not validate (a Bitfield is written as given); parsers do.
void AppendMessage(const Message& m, std::string* out);

// Builders for single messages, the same bytes as AppendMessage.
void AppendKeepAlive(std::string* out);
void AppendHave(uint32_t piece, std::string* out);
void AppendRequest(uint32_t piece, uint32_t begin, uint32_t length,
                   std::string* out);
void AppendCancel(uint32_t piece, uint32_t begin, uint32_t length,
                  std::string* out);
void AppendReject(uint32_t piece, uint32_t begin, uint32_t length,
                  std::string* out);
void AppendBitfield(std::string_view bits, std::string* out);
void AppendPiece(uint32_t piece, uint32_t begin, std::string_view block,
                 std::string* out);
void AppendExtended(uint8_t id, std::string_view payload, std::string* out);

// AppendPieceHeader appends the kPieceHeaderSize-byte header of a piece
// message whose block is `block_length` bytes; the caller sends the block
// itself right after it (e.g. with writev), so the block is never copied.
void AppendPieceHeader(uint32_t piece, uint32_t begin, uint32_t block_length,
                       std::string* out);

}  // namespace bt::protocol

#endif  // PROTOCOL_MESSAGE_H_
