#include "protocol/message.h"

#include "base/byte_writer.h"
#include "base/overloaded.h"

namespace bt::protocol {
namespace {

void Header(MessageId id, size_t payload_size, std::string* out) {
  ByteWriter(out)
      .U32(static_cast<uint32_t>(1 + payload_size))
      .U8(static_cast<uint8_t>(id));
}

void NoPayload(MessageId id, std::string* out) { Header(id, 0, out); }

void OneInt(MessageId id, uint32_t v, std::string* out) {
  Header(id, 4, out);
  ByteWriter(out).U32(v);
}

void ThreeInts(MessageId id, uint32_t a, uint32_t b, uint32_t c,
               std::string* out) {
  Header(id, 12, out);
  ByteWriter(out).U32(a).U32(b).U32(c);
}

void Range(MessageId id, const HashRange& r, std::string_view hashes,
           std::string* out) {
  Header(id, kHashRequestPayloadSize + hashes.size(), out);
  ByteWriter(out)
      .Bytes(r.pieces_root.span())
      .U32(r.base_layer)
      .U32(r.index)
      .U32(r.length)
      .U32(r.proof_layers)
      .Bytes(hashes);
}

}  // namespace

std::string_view MessageIdName(uint8_t id) {
  switch (static_cast<MessageId>(id)) {
    case MessageId::kChoke:
      return "choke";
    case MessageId::kUnchoke:
      return "unchoke";
    case MessageId::kInterested:
      return "interested";
    case MessageId::kNotInterested:
      return "not interested";
    case MessageId::kHave:
      return "have";
    case MessageId::kBitfield:
      return "bitfield";
    case MessageId::kRequest:
      return "request";
    case MessageId::kPiece:
      return "piece";
    case MessageId::kCancel:
      return "cancel";
    case MessageId::kPort:
      return "port";
    case MessageId::kSuggest:
      return "suggest";
    case MessageId::kHaveAll:
      return "have all";
    case MessageId::kHaveNone:
      return "have none";
    case MessageId::kReject:
      return "reject";
    case MessageId::kAllowedFast:
      return "allowed fast";
    case MessageId::kExtended:
      return "extended";
    case MessageId::kHashRequest:
      return "hash request";
    case MessageId::kHashes:
      return "hashes";
    case MessageId::kHashReject:
      return "hash reject";
  }
  return "unknown";
}

std::string_view MessageName(const Message& m) {
  return std::visit(
      Overloaded{
          [](const Handshake&) -> std::string_view { return "handshake"; },
          [](const KeepAlive&) -> std::string_view { return "keep-alive"; },
          [](const Choke&) { return MessageIdName(0); },
          [](const Unchoke&) { return MessageIdName(1); },
          [](const Interested&) { return MessageIdName(2); },
          [](const NotInterested&) { return MessageIdName(3); },
          [](const Have&) { return MessageIdName(4); },
          [](const Bitfield&) { return MessageIdName(5); },
          [](const Request&) { return MessageIdName(6); },
          [](const Piece&) { return MessageIdName(7); },
          [](const Cancel&) { return MessageIdName(8); },
          [](const Port&) { return MessageIdName(9); },
          [](const Suggest&) { return MessageIdName(13); },
          [](const HaveAll&) { return MessageIdName(14); },
          [](const HaveNone&) { return MessageIdName(15); },
          [](const Reject&) { return MessageIdName(16); },
          [](const AllowedFast&) { return MessageIdName(17); },
          [](const Extended&) { return MessageIdName(20); },
          [](const HashRequest&) { return MessageIdName(21); },
          [](const Hashes&) { return MessageIdName(22); },
          [](const HashReject&) { return MessageIdName(23); },
          [](const UnknownMessage&) -> std::string_view { return "unknown"; },
      },
      m);
}

void AppendKeepAlive(std::string* out) { ByteWriter(out).U32(0); }

void AppendHave(uint32_t piece, std::string* out) {
  OneInt(MessageId::kHave, piece, out);
}

void AppendRequest(uint32_t piece, uint32_t begin, uint32_t length,
                   std::string* out) {
  ThreeInts(MessageId::kRequest, piece, begin, length, out);
}

void AppendCancel(uint32_t piece, uint32_t begin, uint32_t length,
                  std::string* out) {
  ThreeInts(MessageId::kCancel, piece, begin, length, out);
}

void AppendReject(uint32_t piece, uint32_t begin, uint32_t length,
                  std::string* out) {
  ThreeInts(MessageId::kReject, piece, begin, length, out);
}

void AppendBitfield(std::string_view bits, std::string* out) {
  Header(MessageId::kBitfield, bits.size(), out);
  out->append(bits);
}

void AppendPieceHeader(uint32_t piece, uint32_t begin, uint32_t block_length,
                       std::string* out) {
  Header(MessageId::kPiece, 8 + size_t{block_length}, out);
  ByteWriter(out).U32(piece).U32(begin);
}

void AppendPiece(uint32_t piece, uint32_t begin, std::string_view block,
                 std::string* out) {
  out->reserve(out->size() + kPieceHeaderSize + block.size());
  AppendPieceHeader(piece, begin, static_cast<uint32_t>(block.size()), out);
  out->append(block);
}

void AppendExtended(uint8_t id, std::string_view payload, std::string* out) {
  Header(MessageId::kExtended, 1 + payload.size(), out);
  ByteWriter(out).U8(id).Bytes(payload);
}

void AppendMessage(const Message& m, std::string* out) {
  std::visit(
      Overloaded{
          [&](const Handshake& h) { AppendHandshake(h, out); },
          [&](const KeepAlive&) { AppendKeepAlive(out); },
          [&](const Choke&) { NoPayload(MessageId::kChoke, out); },
          [&](const Unchoke&) { NoPayload(MessageId::kUnchoke, out); },
          [&](const Interested&) { NoPayload(MessageId::kInterested, out); },
          [&](const NotInterested&) {
            NoPayload(MessageId::kNotInterested, out);
          },
          [&](const Have& h) { AppendHave(h.piece, out); },
          [&](const Bitfield& b) { AppendBitfield(b.bits, out); },
          [&](const Request& r) {
            AppendRequest(r.piece, r.begin, r.length, out);
          },
          [&](const Piece& p) { AppendPiece(p.piece, p.begin, p.data, out); },
          [&](const Cancel& c) {
            AppendCancel(c.piece, c.begin, c.length, out);
          },
          [&](const Port& p) {
            Header(MessageId::kPort, 2, out);
            ByteWriter(out).U16(p.port);
          },
          [&](const Suggest& s) { OneInt(MessageId::kSuggest, s.piece, out); },
          [&](const HaveAll&) { NoPayload(MessageId::kHaveAll, out); },
          [&](const HaveNone&) { NoPayload(MessageId::kHaveNone, out); },
          [&](const Reject& r) {
            AppendReject(r.piece, r.begin, r.length, out);
          },
          [&](const AllowedFast& a) {
            OneInt(MessageId::kAllowedFast, a.piece, out);
          },
          [&](const Extended& e) { AppendExtended(e.id, e.payload, out); },
          [&](const HashRequest& h) {
            Range(MessageId::kHashRequest, h.range, {}, out);
          },
          [&](const Hashes& h) {
            Range(MessageId::kHashes, h.range, h.hashes, out);
          },
          [&](const HashReject& h) {
            Range(MessageId::kHashReject, h.range, {}, out);
          },
          [&](const UnknownMessage& u) {
            ByteWriter(out)
                .U32(static_cast<uint32_t>(1 + u.payload.size()))
                .U8(u.id)
                .Bytes(u.payload);
          },
      },
      m);
}

}  // namespace bt::protocol
